"""Winograd F(2x2, 3x3) convolution for inference: 3x3, stride 1, padding 1 convolutions with 2.25x fewer multiplies.

Each 2x2 output tile is computed from a 4x4 input tile as ``A^T [(G w G^T) * (B^T d B)] A``. Summed over the input
channels, the element-wise products become 16 matrix products ``U_k (O, C) @ V_k (C, tiles)``, which is where the time
goes; the transforms only add and subtract. Results equal ``F.conv2d`` up to float rounding (relative error ~1e-6 in
float32). Used by :class:`~pointhmr.models.layers.ResidualBasicBlock` for its wide convolutions in eval mode.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

#: weight transform G (4, 3) of F(2x2, 3x3)
_WEIGHT_TRANSFORM = ((1., 0., 0.), (.5, .5, .5), (.5, -.5, .5), (0., 0., 1.))


def winograd_f2_weight(weight: Tensor) -> Tensor:
    """(O, C, 3, 3) convolution weight -> (16, O, C) transformed weight ``G w G^T`` (computed in float64)."""
    if weight.dim() != 4 or weight.shape[-2:] != (3, 3):
        raise ValueError(f'winograd_f2_weight expects a (O, C, 3, 3) weight, got shape {tuple(weight.shape)}')
    out_channels, in_channels = weight.shape[:2]
    transform = torch.tensor(_WEIGHT_TRANSFORM, dtype=torch.float64, device=weight.device)
    transformed = torch.einsum('ik,ockl,jl->ijoc', transform, weight.detach().double(), transform)
    return transformed.reshape(16, out_channels, in_channels).to(weight.dtype).contiguous()


def _conv_one(image: Tensor, weight_f2: Tensor, out: Tensor) -> None:
    """One sample: image (C, H, W) with even H, W -> out (O, H, W), written in place."""
    channels, height, width = image.shape
    tiles_h, tiles_w = height // 2, width // 2
    padded = F.pad(image, (1, 1, 1, 1))
    # input transform B^T d B: first along rows, then along columns (B^T rows: d0-d2, d1+d2, d2-d1, d1-d3)
    r = [padded[:, k:k + 2 * tiles_h:2] for k in range(4)]
    rows = image.new_empty(4, channels, tiles_h, width + 2)
    torch.sub(r[0], r[2], out=rows[0])
    torch.add(r[1], r[2], out=rows[1])
    torch.sub(r[2], r[1], out=rows[2])
    torch.sub(r[1], r[3], out=rows[3])
    c = [rows[..., k:k + 2 * tiles_w:2] for k in range(4)]
    tiles = image.new_empty(4, 4, channels, tiles_h, tiles_w)
    torch.sub(c[0], c[2], out=tiles[:, 0])
    torch.add(c[1], c[2], out=tiles[:, 1])
    torch.sub(c[2], c[1], out=tiles[:, 2])
    torch.sub(c[1], c[3], out=tiles[:, 3])
    out_channels = weight_f2.shape[1]
    products = torch.bmm(weight_f2, tiles.view(16, channels, tiles_h * tiles_w))
    products = products.view(4, 4, out_channels, tiles_h, tiles_w)
    # output transform A^T m A (A^T rows: m0+m1+m2, m1-m2-m3), again rows then columns
    out_tiles = out.view(out_channels, tiles_h, 2, tiles_w, 2)
    sums, diffs = products[1] + products[2], products[1] - products[2]
    for i, row in enumerate((sums.add_(products[0]), diffs.sub_(products[3]))):
        col_sum, col_diff = row[1] + row[2], row[1] - row[2]
        torch.add(col_sum, row[0], out=out_tiles[:, :, i, :, 0])
        torch.sub(col_diff, row[3], out=out_tiles[:, :, i, :, 1])


def winograd_f2_supported(input_shape, weight_f2: Tensor) -> bool:
    """Whether :func:`winograd_f2_conv3x3` handles this (B, C, H, W) input: even H and W, matching channels."""
    return (len(input_shape) == 4 and input_shape[2] % 2 == 0 and input_shape[3] % 2 == 0
            and input_shape[1] == weight_f2.shape[2])


def winograd_f2_conv3x3(inputs: Tensor, weight_f2: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``F.conv2d(inputs, weight, bias, stride=1, padding=1)`` from ``weight_f2 = winograd_f2_weight(weight)``.

    Args:
        inputs: (B, C, H, W) with even H and W.
        weight_f2: (16, O, C) transformed weight.
        bias: optional (O,) bias.

    Returns:
        (B, O, H, W), contiguous. Samples are processed one at a time (keeps the transformed tiles cache-sized).
    """
    if not winograd_f2_supported(inputs.shape, weight_f2):
        raise ValueError(f'winograd_f2_conv3x3 needs a (B, {weight_f2.shape[2]}, H, W) input with even H and W, got '
                         f'{tuple(inputs.shape)}; use F.conv2d for other shapes')
    batch, _, height, width = inputs.shape
    out = inputs.new_empty(batch, weight_f2.shape[1], height, width)
    for index in range(batch):
        _conv_one(inputs[index], weight_f2, out[index])
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
