"""Graph-friendly convolutions for export: BatchNorm-folded residual blocks and Winograd F(m x m, 3 x 3) as dense ops.

:class:`WinogradConv3x3` computes a 3x3, stride-1, padding-1 convolution with batched matrix products only (a fixed
depthwise convolution for the input transform, ``MatMul`` for the channel sums and the output transform), so the
exported graph has no loop over the batch and every runtime runs it with its GEMM kernels. F(4x4, 3x3) needs 4x fewer
multiplies than the direct convolution (F(2x2, 3x3), the eager CPU path's choice, 2.25x); the transforms are computed
in float64 and the result equals ``F.conv2d`` to float rounding (relative error ~1e-6).

:class:`ExportResidualBlock` is the export form of :class:`~pointhmr.models.layers.ResidualBasicBlock`: BatchNorms
folded into the convolutions (from the block's live weights at every call, which the exporter constant-folds) and
Winograd for the wide 3x3 convolutions.
"""
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pointhmr.models.layers.residual_conv_head import ResidualBasicBlock, fold_batch_norm

#: Winograd F(m x m, 3 x 3) transforms (B^T, G, A^T) for the supported output tile sizes m
_TRANSFORMS = {
    2: (((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)), ((1, 0, 0), (.5, .5, .5), (.5, -.5, .5),
                                                                      (0, 0, 1)), ((1, 1, 1, 0), (0, 1, -1, -1))),
    4: (((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0),
         (0, 4, 0, -5, 0, 1)), ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
                                (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1)),
        ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1))),
}
WINOGRAD_TILES = tuple(_TRANSFORMS)


def _transforms(tile: int) -> Tuple[Tensor, Tensor, Tensor]:
    if tile not in _TRANSFORMS:
        raise ValueError(f'Winograd output tile must be one of {WINOGRAD_TILES}, got {tile}')
    return tuple(torch.tensor(np.asarray(m, dtype=np.float64)) for m in _TRANSFORMS[tile])


def winograd_weight(weight: Tensor, tile: int) -> Tensor:
    """(O, C, 3, 3) weight -> (n*n, O, C) transformed weight ``G w G^T`` (n = tile + 2), traceable."""
    _, g, _ = _transforms(tile)
    g = g.to(device=weight.device)
    n = tile + 2
    transformed = torch.einsum('ik,ockl,jl->ijoc', g, weight.double(), g)
    return transformed.reshape(n * n, weight.shape[0], weight.shape[1]).to(weight.dtype)


class WinogradConv3x3(nn.Module):
    """``F.conv2d(x, weight, bias, stride=1, padding=1)`` for a 3x3 weight, as Winograd F(tile x tile, 3 x 3).

    The input height and width must be multiples of ``tile``. The weight transform is computed from the weight passed
    to :meth:`forward` (constant-folded on export); the input / output transforms are fixed buffers.

    Args:
        in_channels: input channels ``C`` (the input transform is a fixed depthwise convolution over them).
        tile: output tile ``m`` (2 or 4).
    """

    def __init__(self, in_channels: int, tile: int = 4) -> None:
        super().__init__()
        bt, _, at = _transforms(tile)
        n = tile + 2
        self.in_channels, self.tile, self.n = in_channels, tile, n
        # input transform B^T d B as n*n fixed n x n kernels per channel: K_ab[i, j] = B^T[a, i] * B^T[b, j]
        kernels = torch.einsum('ai,bj->abij', bt, bt).reshape(n * n, 1, n, n).repeat(in_channels, 1, 1, 1)
        self.register_buffer('input_kernels', kernels.float(), persistent=False)
        # output transform A^T m A on the flattened (a, b) axis: (tile*tile, n*n)
        output_transform = torch.einsum('pa,qb->pqab', at, at).reshape(tile * tile, n * n)
        self.register_buffer('output_transform', output_transform.float(), persistent=False)

    def supports(self, shape) -> bool:
        return (len(shape) == 4 and shape[1] == self.in_channels and shape[2] % self.tile == 0
                and shape[3] % self.tile == 0)

    def forward(self, x: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
        if not self.supports(x.shape) or tuple(weight.shape[1:]) != (self.in_channels, 3, 3):
            raise ValueError(f'WinogradConv3x3 ({self.in_channels} channels, tile {self.tile}) got input '
                             f'{tuple(x.shape)} and weight {tuple(weight.shape)}')
        batch, channels, height, width = x.shape
        out_channels, m, nn_ = weight.shape[0], self.tile, self.n * self.n
        tiles_h, tiles_w = height // m, width // m
        # (B, C * n*n, th, tw): each tile's B^T d B, by a fixed depthwise convolution of stride m
        v = F.conv2d(x, self.input_kernels.to(x.dtype), stride=m, padding=1, groups=self.in_channels)
        v = v.reshape(batch, channels, nn_, tiles_h * tiles_w).transpose(1, 2)  # (B, n*n, C, T)
        products = torch.matmul(winograd_weight(weight, m), v)  # (B, n*n, O, T)
        products = products.reshape(batch, nn_, out_channels * tiles_h * tiles_w)
        y = torch.matmul(self.output_transform.to(x.dtype), products)  # (B, m*m, O * T)
        y = y.reshape(batch, m, m, out_channels, tiles_h, tiles_w).permute(0, 3, 4, 1, 5, 2)
        y = y.reshape(batch, out_channels, height, width)
        return y if bias is None else y + bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f'F({self.tile}x{self.tile}, 3x3)'


class ExportResidualBlock(nn.Module):
    """Export form of a :class:`ResidualBasicBlock` (shares its weights; BatchNorm folded, wide 3x3 as Winograd).

    Args:
        block: the block to mirror (kept as a reference, not a submodule: its weights stay in the estimator).
        winograd_tile: output tile of the Winograd convolutions (2 or 4); ``None`` = direct convolutions only.
        winograd_min_channels: 3x3 convolutions at least this wide (input and output) use Winograd; default: the
            block's own threshold (the eager fast path's choice).
    """

    def __init__(self,
                 block: ResidualBasicBlock,
                 winograd_tile: Optional[int] = 4,
                 winograd_min_channels: Optional[int] = None) -> None:
        super().__init__()
        object.__setattr__(self, 'block', block)
        threshold = block.winograd_min_channels if winograd_min_channels is None else winograd_min_channels
        self.winograd = nn.ModuleList()
        self.winograd_index: List[Optional[int]] = []
        for conv, _ in block._conv_norm_pairs():
            wide = (winograd_tile is not None and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
                    and conv.padding == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
                    and min(conv.in_channels, conv.out_channels) >= threshold)
            self.winograd_index.append(len(self.winograd) if wide else None)
            if wide:
                self.winograd.append(WinogradConv3x3(conv.in_channels, winograd_tile))

    def _conv(self, x: Tensor, index: int) -> Tensor:
        conv, norm = self.block._conv_norm_pairs()[index]
        weight, bias = fold_batch_norm(conv.weight, conv.bias, norm)
        slot = self.winograd_index[index]
        if slot is not None and self.winograd[slot].supports(x.shape):
            return self.winograd[slot](x, weight, bias)
        return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)

    def forward(self, x: Tensor) -> Tensor:
        out = self._conv(x, 0).relu()
        out = self._conv(out, 1)
        identity = x if self.block.downsample is None else self._conv(x, 2)
        return (out + identity).relu()
