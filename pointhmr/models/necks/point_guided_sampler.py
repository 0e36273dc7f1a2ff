"""Point-guided feature sampling of PointHMR (official behaviour §1.3-1.6): vertex tokens pooled under heatmaps."""
from typing import NamedTuple, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor, nn

from ..layers import SinePositionEncoding2D, build_residual_conv_head


class PointGuidedSamplerOutput(NamedTuple):
    """Tokens produced by :class:`PointGuidedSampler` (all batch-first)."""

    cam_token: Tensor  #: (B, 1, C) camera token
    grid_tokens: Tensor  #: (B, h*w, C) low-resolution grid tokens (49 for a 224 input), row-major
    vertex_tokens: Tensor  #: (B, N, C) one token per coarse vertex
    heatmap_logits: Tensor  #: (B, N, H, W) per-vertex heatmap logits on the high-resolution map (56x56)


@MODELS.register_module()
class PointGuidedSampler(BaseModule):
    """Turn backbone features into PointHMR's camera, grid and vertex tokens.

    * ``heatmap_layer`` predicts one logit map per coarse vertex on the high-resolution features; its softmax over all
      positions weights a pooling of ``feature_extract_layer`` features + 2-D sine encoding: ``V = softmax(H) @ T^T``
      (one batched matmul, no ``grid_sample``) -> vertex tokens.
    * ``cam_layer`` = ``Linear(num_vertices, 1)`` across the vertex axis -> camera token.
    * ``grid_layer`` on the low-resolution features + sine encoding -> grid tokens.

    Args:
        in_channels: channels of the (high, low) resolution backbone outputs used.
        in_indices: which backbone outputs those are (HRNet-W32: 0 = 32@56x56, 3 = 256@7x7).
        feat_channels: token content width ``C`` (hidden and output width of the feature and grid heads).
        num_vertices: coarse mesh vertices ``N`` (431).
        heatmap_channels: hidden width of the heatmap head; ``None`` = ``num_vertices`` (official).
        num_blocks: BasicBlocks in the (feature, heatmap, grid) heads; official ``(2, 2, 1)``.
        use_point_sampling: ``False`` is the "no point-guided sampling" ablation: vertex tokens are a learned
            per-vertex embedding (``vertex_query_embed``) plus the spatially averaged target features, the same for
            every vertex position; the heatmap head is still evaluated (its loss can be weighted to 0).
        init_cfg: mmengine init config (``None`` = PyTorch default init, as the official code).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (32, 256),
                 in_indices: Sequence[int] = (0, 3),
                 feat_channels: int = 512,
                 num_vertices: int = 431,
                 heatmap_channels: int = None,
                 num_blocks: Sequence[int] = (2, 2, 1),
                 use_point_sampling: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 2 or len(in_indices) != 2:
            raise ValueError('PointGuidedSampler: in_channels and in_indices need 2 entries (high-res, low-res), got '
                             f'{in_channels} and {in_indices}')
        if len(num_blocks) != 3:
            raise ValueError('PointGuidedSampler: num_blocks needs 3 entries (feature, heatmap, grid), got '
                             f'{num_blocks}')
        high_channels, low_channels = in_channels
        self.in_indices = tuple(in_indices)
        self.feat_channels = feat_channels
        self.num_vertices = num_vertices
        self.use_point_sampling = use_point_sampling
        heatmap_channels = heatmap_channels or num_vertices
        self.feature_extract_layer = build_residual_conv_head(high_channels, feat_channels, feat_channels,
                                                              num_blocks[0])
        self.heatmap_layer = build_residual_conv_head(high_channels, heatmap_channels, num_vertices, num_blocks[1])
        self.grid_layer = build_residual_conv_head(low_channels, feat_channels, feat_channels, num_blocks[2])
        self.cam_layer = nn.Linear(num_vertices, 1)
        self.position_encoding = SinePositionEncoding2D(feat_channels)
        if not use_point_sampling:
            self.vertex_query_embed = nn.Embedding(num_vertices, feat_channels)

    def _with_position(self, features: Tensor) -> Tensor:
        """Add the sine encoding and flatten: (B, C, h, w) -> (B, C, h*w)."""
        _, _, height, width = features.shape
        pos = self.position_encoding(height, width, features.device, features.dtype)
        return (features + pos).flatten(2)

    def forward(self, inputs: Tuple[Tensor, ...]) -> PointGuidedSamplerOutput:
        """inputs: backbone outputs (tuple/list of (B, C_i, H_i, W_i))."""
        if not isinstance(inputs, (tuple, list)) or len(inputs) <= max(self.in_indices):
            raise ValueError(f'PointGuidedSampler expects the tuple of backbone outputs with at least '
                             f'{max(self.in_indices) + 1} maps (HRNet with multiscale_output=True); got {type(inputs)}')
        high, low = inputs[self.in_indices[0]], inputs[self.in_indices[1]]
        heatmap_logits = self.heatmap_layer(high)  # (B, N, H, W)
        target = self._with_position(self.feature_extract_layer(high))  # (B, C, H*W)
        if self.use_point_sampling:
            weights = heatmap_logits.flatten(2).softmax(dim=-1)  # (B, N, H*W)
            vertex_tokens = torch.bmm(weights, target.transpose(1, 2))  # (B, N, C)
        else:
            vertex_tokens = self.vertex_query_embed.weight[None] + target.mean(dim=2)[:, None]
        cam_token = self.cam_layer(vertex_tokens.transpose(1, 2)).transpose(1, 2)  # (B, 1, C)
        grid_tokens = self._with_position(self.grid_layer(low)).transpose(1, 2)  # (B, h*w, C)
        return PointGuidedSamplerOutput(cam_token, grid_tokens, vertex_tokens, heatmap_logits)
