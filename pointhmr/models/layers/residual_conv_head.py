"""Residual convolutional heads of PointHMR: stacks of BasicBlocks followed by a 1x1 convolution without bias."""
from typing import Optional

from torch import Tensor, nn


class ResidualBasicBlock(nn.Module):
    """HRNet/ResNet BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, plus a 1x1 conv + BN projection when channels change.

    Submodule names (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample.0/1``) match the official checkpoint keys.
    """

    def __init__(self, in_channels: int, out_channels: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels, momentum=bn_momentum)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels, momentum=bn_momentum)
        self.downsample: Optional[nn.Sequential] = None
        if in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels, momentum=bn_momentum))

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def build_residual_conv_head(in_channels: int, hidden_channels: int, out_channels: int,
                             num_blocks: int) -> nn.Sequential:
    """``num_blocks`` BasicBlocks (``in -> hidden``, then ``hidden -> hidden``) and a final bias-free 1x1 conv.

    Indices ``0..num_blocks-1`` are the blocks and ``num_blocks`` the 1x1 conv, as in the official key layout
    (e.g. ``feature_extract_layer.2.weight``). The output is unconstrained (no BN/ReLU after the 1x1 conv). Every head
    starts from its own ``in_channels``: in PointHMR both heads on the 56x56 map start from its 32 channels.
    """
    if num_blocks < 1:
        raise ValueError(f'build_residual_conv_head: num_blocks must be >= 1, got {num_blocks}')
    layers = [ResidualBasicBlock(in_channels if i == 0 else hidden_channels, hidden_channels)
              for i in range(num_blocks)]
    layers.append(nn.Conv2d(hidden_channels, out_channels, 1, bias=False))
    return nn.Sequential(*layers)
