import pytest
import torch
import torch.nn.functional as F

from pointhmr.deployment.export_conv import ExportResidualBlock, WinogradConv3x3
from pointhmr.models.layers import ResidualBasicBlock


@pytest.mark.parametrize('tile', [2, 4])
def test_winograd_equals_direct_convolution(tile):
    generator = torch.Generator().manual_seed(tile)
    x = torch.randn(3, 5, 8, 12, generator=generator)
    weight = torch.randn(7, 5, 3, 3, generator=generator)
    bias = torch.randn(7, generator=generator)
    expected = F.conv2d(x, weight, bias, padding=1)
    got = WinogradConv3x3(5, tile)(x, weight, bias)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-5 * float(expected.abs().max()))


def test_winograd_refuses_unsupported_shapes():
    conv = WinogradConv3x3(4, tile=4)
    assert conv.supports((1, 4, 8, 8)) and not conv.supports((1, 4, 6, 8)) and not conv.supports((1, 3, 8, 8))
    with pytest.raises(ValueError, match='WinogradConv3x3'):
        conv(torch.zeros(1, 4, 6, 8), torch.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match='tile'):
        WinogradConv3x3(4, tile=3)


@pytest.mark.parametrize('in_channels,out_channels', [(8, 8), (6, 8)])
def test_export_block_equals_the_eval_block(in_channels, out_channels):
    torch.manual_seed(0)
    block = ResidualBasicBlock(in_channels, out_channels)
    with torch.no_grad():
        for norm in (m for m in block.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            norm.running_mean.normal_(0, 0.3)
            norm.running_var.uniform_(0.5, 1.5)
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.2)
    block.eval()
    x = torch.randn(2, in_channels, 8, 8)
    expected = block(x)  # grad enabled: the plain modules
    winograd = ExportResidualBlock(block, winograd_tile=4, winograd_min_channels=1)
    direct = ExportResidualBlock(block, winograd_tile=None)
    assert winograd.winograd_index[:2] == [0, 1] and direct.winograd_index == [None] * len(direct.winograd_index)
    with torch.no_grad():
        torch.testing.assert_close(direct(x), expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(winograd(x), expected, rtol=1e-4, atol=1e-4)
    # the export block shares the weights: no parameters of its own
    assert not list(winograd.parameters())
