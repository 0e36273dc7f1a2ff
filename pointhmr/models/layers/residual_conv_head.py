"""Residual convolutional heads of PointHMR: stacks of BasicBlocks followed by a 1x1 convolution without bias."""
import contextlib
from typing import Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .winograd import winograd_f2_conv3x3, winograd_f2_supported, winograd_f2_weight


def fold_batch_norm(weight: Tensor, bias: Optional[Tensor], norm: nn.BatchNorm2d) -> Tuple[Tensor, Tensor]:
    """Weight and bias of ``norm(conv(x))`` as one convolution, with the norm's running statistics (eval mode)."""
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError('fold_batch_norm needs a BatchNorm with running statistics (track_running_stats=True)')
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if bias is not None:
        shift = shift + bias * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return weight * scale.view(-1, *([1] * (weight.dim() - 1))), shift


class ResidualBasicBlock(nn.Module):
    """HRNet/ResNet BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus a 1x1 conv + BN projection when channels change.

    Submodule names (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample.0/1``) match the official checkpoint keys.

    Deploy mode (mmpose's ``switch_to_deploy``): :meth:`switch_to_deploy` folds every BatchNorm into its convolution
    and transforms the 3x3 convolutions with at least ``winograd_min_channels`` input and output channels for Winograd
    F(2x2, 3x3) on CPU (2.25x fewer multiplies; the 431/512-channel convolutions on the 56x56 map dominate PointHMR's
    cost). Deployed blocks run these weights in eval mode with autograd off; with autograd on they still run the plain
    modules. The deploy weights are non-persistent buffers (moved by ``.to()``, not in the state_dict) computed from
    the weights at the time of the call: after changing weights (``load_state_dict``, an optimizer step) call
    :meth:`switch_to_deploy` again; ``train()`` leaves deploy mode and drops them. Outputs equal the plain path up to
    float rounding.
    """

    #: 3x3 convolutions at least this wide (input and output) use Winograd in fast inference
    winograd_min_channels: int = 128

    def __init__(self, in_channels: int, out_channels: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels, momentum=bn_momentum)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels, momentum=bn_momentum)
        self.downsample: Optional[nn.Sequential] = None
        if in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                            nn.BatchNorm2d(out_channels, momentum=bn_momentum))
        #: True after :meth:`switch_to_deploy` until ``train()``
        self.deploy = False
        self._deploy_winograd: List[bool] = []
        for index in range(len(self._conv_norm_pairs())):
            self.register_buffer(f'deploy_weight_{index}', None, persistent=False)
            self.register_buffer(f'deploy_bias_{index}', None, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.deploy and not self.training and not torch.is_grad_enabled():
            return self._fused_forward(x)
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)

    def train(self, mode: bool = True) -> 'ResidualBasicBlock':
        if mode and self.deploy:
            self.deploy = False
            self._set_deploy_weights(None)
        return super().train(mode)

    # ------------------------------------------------------------------ deploy mode
    def switch_to_deploy(self, test_cfg: Optional[dict] = None) -> None:
        """Fold the BatchNorms (and Winograd-transform) from the current weights and use them for inference."""
        with torch.no_grad():
            self._set_deploy_weights(self._build_inference_weights())
        self.deploy = True

    def _set_deploy_weights(self, weights: Optional[List[Tuple[Tensor, Tensor, bool]]]) -> None:
        for index in range(len(self._conv_norm_pairs())):
            weight, bias, _ = weights[index] if weights is not None else (None, None, False)
            setattr(self, f'deploy_weight_{index}', weight)
            setattr(self, f'deploy_bias_{index}', bias)
        self._deploy_winograd = [] if weights is None else [winograd for _, _, winograd in weights]

    @property
    def deploy_weights(self) -> Optional[List[Tuple[Tensor, Tensor, bool]]]:
        """``(weight, bias, uses_winograd)`` per (conv1, conv2[, projection]) in deploy mode, else None."""
        if not self.deploy:
            return None
        return [(getattr(self, f'deploy_weight_{i}'), getattr(self, f'deploy_bias_{i}'), winograd)
                for i, winograd in enumerate(self._deploy_winograd)]

    def _conv_norm_pairs(self) -> List[Tuple[nn.Conv2d, nn.BatchNorm2d]]:
        pairs = [(self.conv1, self.bn1), (self.conv2, self.bn2)]
        if self.downsample is not None:
            pairs.append((self.downsample[0], self.downsample[1]))
        return pairs

    def _build_inference_weights(self) -> List[Tuple[Tensor, Tensor, bool]]:
        """(weight, bias, uses_winograd) per (conv1, conv2[, downsample]) with the BatchNorms folded in."""
        weights = []
        for conv, norm in self._conv_norm_pairs():
            weight, bias = fold_batch_norm(conv.weight, conv.bias, norm)
            winograd = (conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1)
                        and conv.dilation == (1, 1) and conv.groups == 1
                        and min(conv.in_channels, conv.out_channels) >= self.winograd_min_channels
                        and conv.weight.device.type == 'cpu')  # GPUs: cuDNN already picks Winograd kernels
            weights.append((winograd_f2_weight(weight) if winograd else weight.contiguous(), bias, winograd))
        return weights

    def _fused_conv(self, x: Tensor, index: int, weights: List[Tuple[Tensor, Tensor, bool]]) -> Tensor:
        """Convolution ``index`` (0 = conv1, 1 = conv2, 2 = projection) with its BatchNorm folded in."""
        conv, norm = self._conv_norm_pairs()[index]
        weight, bias, winograd = weights[index]
        if winograd:
            if winograd_f2_supported(x.shape, weight):
                return winograd_f2_conv3x3(x, weight, bias)
            weight, bias = fold_batch_norm(conv.weight, conv.bias, norm)  # odd map size: direct convolution
        return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)

    def _fused_forward(self, x: Tensor) -> Tensor:
        weights = self.deploy_weights
        out = self._fused_conv(x, 0, weights).relu_()
        out = self._fused_conv(out, 1, weights)
        out += x if self.downsample is None else self._fused_conv(x, 2, weights)
        return out.relu_()


@contextlib.contextmanager
def plain_inference(model: nn.Module) -> Iterator[nn.Module]:
    """Within this context the deployed :class:`ResidualBasicBlock` s of ``model`` run their plain modules (deploy mode
    paused, deploy weights kept), e.g. to compare or time against the plain path."""
    blocks = [m for m in model.modules() if isinstance(m, ResidualBasicBlock) and m.deploy]
    for block in blocks:
        block.deploy = False
    try:
        yield model
    finally:
        for block in blocks:
            block.deploy = True


def build_residual_conv_head(in_channels: int, hidden_channels: int, out_channels: int,
                             num_blocks: int) -> nn.Sequential:
    """``num_blocks`` BasicBlocks (``in -> hidden``, then ``hidden -> hidden``) and a final bias-free 1x1 conv.

    Indices ``0..num_blocks-1`` are the blocks and ``num_blocks`` the 1x1 conv, as in the official key layout
    (e.g. ``feature_extract_layer.2.weight``). The output is unconstrained (no BN/ReLU after the 1x1 conv). Every head
    starts from its own ``in_channels``: in PointHMR both heads on the 56x56 map start from its 32 channels.
    """
    if num_blocks < 1:
        raise ValueError(f'build_residual_conv_head: num_blocks must be >= 1, got {num_blocks}')
    layers = [
        ResidualBasicBlock(in_channels if i == 0 else hidden_channels, hidden_channels) for i in range(num_blocks)
    ]
    layers.append(nn.Conv2d(hidden_channels, out_channels, 1, bias=False))
    return nn.Sequential(*layers)
