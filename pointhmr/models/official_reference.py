"""A literal port of the official PointHMR forward pass that shares the weights of a :class:`PointHMR` model.

It is the reference our implementation is checked against (``tests/models/test_official_reference.py``: same outputs
within 1e-6 m) and the "official-style" column of ``tools/analysis_tools/benchmark.py --reference``. It deliberately
keeps the official code's straightforward maths: sine position encodings recomputed from an all-valid padding mask on
every call, the 112x112 loss heatmap always built by nearest up-sampling + softmax, sequence-first tokens through
``nn.MultiheadAttention``'s general path with attention weights returned, and one sparse up-sampling matmul per sample.
Its ``loss`` is the official-style training step of the benchmark: the same loss terms, the point term by binary
cross-entropy over materialised one-hot 112x112 maps.
What the official forward computes is described in docs/official_behaviour.md, sections 1.3-1.9.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import plain_inference
from .losses import graph_zero, one_hot_heatmaps

__all__ = [
    'OfficialStyleReference', 'official_encoder_layer', 'official_heatmap_loss', 'official_sine_position',
    'per_sample_sparse_upsample', 'reference_from_model'
]


def official_sine_position(batch: int, height: int, width: int, channels: int, device: torch.device) -> Tensor:
    """DETR-style sine encoding recomputed from an all-valid padding mask (as the official code does every call)."""
    not_mask = torch.ones(batch, height, width, device=device)
    y_embed = not_mask.cumsum(1, dtype=torch.float32)
    x_embed = not_mask.cumsum(2, dtype=torch.float32)
    eps, scale = 1e-6, 2 * math.pi
    y_embed = y_embed / (y_embed[:, -1:, :] + eps) * scale
    x_embed = x_embed / (x_embed[:, :, -1:] + eps) * scale
    per_axis = channels // 2
    dim_t = torch.arange(per_axis, dtype=torch.float32, device=device)
    dim_t = 10000**(2 * (dim_t // 2) / per_axis)
    pos_x = x_embed[:, :, :, None] / dim_t
    pos_y = y_embed[:, :, :, None] / dim_t
    pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
    pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)


def official_encoder_layer(layer: nn.Module, x: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Pre-LN layer on sequence-first tokens (L, B, C), MHA maths as nn.MultiheadAttention's general path."""
    attn = layer.self_attn
    y = layer.norm1(x)
    y = F.multi_head_attention_forward(y,
                                       y,
                                       y,
                                       attn.embed_dim,
                                       attn.num_heads,
                                       attn.in_proj_weight,
                                       attn.in_proj_bias,
                                       None,
                                       None,
                                       False,
                                       attn.dropout,
                                       attn.out_proj.weight,
                                       attn.out_proj.bias,
                                       training=layer.training,
                                       attn_mask=mask,
                                       need_weights=True)[0]
    x = x + layer.dropout1(y)
    y = layer.linear2(layer.dropout(F.relu(layer.linear1(layer.norm2(x)))))
    return x + layer.dropout2(y)


def official_heatmap_loss(pred: Tensor,
                          target_index: Tensor,
                          bce_weight: float = 1000.,
                          smooth: float = 1e-5) -> Tensor:
    """Official point loss on (K, H*W) up-sampled heatmaps: one-hot target maps materialised (by a scatter here, the
    official code indexes a H*W x H*W identity), ``F.binary_cross_entropy`` over every cell, plus the Dice term."""
    if pred.shape[0] == 0:
        return graph_zero(pred)
    onehot = one_hot_heatmaps(target_index, pred.shape[1], pred.dtype)
    bce = F.binary_cross_entropy(pred, onehot)
    dice = 2. * ((pred * onehot).sum(dim=1) + smooth) / (pred.sum(dim=1) + onehot.sum(dim=1) + 2. * smooth)
    return bce_weight * bce + (1. - dice).mean()


def per_sample_sparse_upsample(matrix: Tensor, x: Tensor) -> Tensor:
    """Official ``Mesh.upsample``: one sparse matmul per sample in a Python loop."""
    return torch.stack([torch.sparse.mm(matrix, x[i]) for i in range(x.shape[0])], dim=0)


class OfficialStyleReference(nn.Module):
    """Official PointHMR forward, ported literally, sharing the weights of our model (``model.backbone/neck/head``).

    Returns ``(cam (B,3), joints (B,14,3), verts431, verts1723, verts6890, heatmap (B,431,12544))`` like the official
    network, including the 112x112 loss heatmap that the official forward always builds. The shared conv heads run
    their plain conv + BatchNorm modules (our fast inference path is switched off for the call).
    """

    def __init__(self, model: nn.Module, attn_masks: Sequence[Optional[Tensor]], upsample_matrices: Sequence[Tensor]):
        super().__init__()
        self.backbone, self.neck, self.head = model.backbone, model.neck, model.head
        self.attn_masks = list(attn_masks)
        self.upsample_matrices = list(upsample_matrices)  # [(1723, 431), (6890, 1723)] sparse

    def forward(self, images: Tensor) -> Tuple[Tensor, ...]:
        with plain_inference(self):
            return self._forward(images)

    def loss(self, images: Tensor, batch_data_samples: list) -> dict:
        """Official-style training losses: this forward (plain modules, the (B, N, 112*112) heatmap built) and the
        PointHMR loss terms of ``head.loss_by_predictions`` with :func:`official_heatmap_loss` on the full maps."""
        camera, joints, vertices_431, vertices_1723, vertices, heatmap = self(images)
        preds = dict(camera=camera,
                     joints=joints,
                     vertices_431=vertices_431,
                     vertices_1723=vertices_1723,
                     vertices=vertices,
                     heatmap=heatmap)
        return self.head.loss_by_predictions(preds, batch_data_samples, heatmap_loss_fn=official_heatmap_loss)

    def _forward(self, images: Tensor) -> Tuple[Tensor, ...]:
        neck, head, regressor = self.neck, self.head, self.head.transformer
        features = self.backbone(images)
        x, x2 = features[neck.in_indices[0]], features[neck.in_indices[1]]
        batch, device = images.shape[0], images.device
        heatmap = neck.heatmap_layer(x)
        heatmap_112 = F.interpolate(heatmap, scale_factor=2, mode='nearest').flatten(2).softmax(dim=2)
        weights = heatmap.flatten(2).softmax(dim=2)
        target = neck.feature_extract_layer(x)
        target = target + official_sine_position(batch, *target.shape[2:], target.shape[1], device)
        vertex_tokens = torch.bmm(weights, target.flatten(2).transpose(1, 2))
        cam_token = neck.cam_layer(vertex_tokens.transpose(1, 2)).transpose(1, 2)
        grid = neck.grid_layer(x2)
        grid = grid + official_sine_position(batch, *grid.shape[2:], grid.shape[1], device)
        grid_tokens = grid.flatten(2).transpose(1, 2)
        joint_tokens = head.joint_token_embed.weight[None].expand(batch, -1, -1)
        tokens = torch.cat((cam_token, grid_tokens, joint_tokens, vertex_tokens), dim=1)
        position = head.token_position_embed.weight[None].expand(batch, -1, -1)
        h = torch.cat((tokens, position), dim=2).transpose(0, 1)  # sequence-first (L, B, C)
        for index, (stack, mask) in enumerate(zip(regressor.stacks, self.attn_masks)):
            if index == 2:
                h = regressor.dim_reduce(h)
            for layer in stack.layers:
                h = official_encoder_layer(layer, h, mask)
            if stack.norm is not None:
                h = stack.norm(h)
        cam = regressor.cam_predictor(h[0])
        xyz = regressor.xyz_regressor(h[1 + regressor.num_grid_tokens:]).transpose(0, 1)
        num_joints = head.joint_token_embed.weight.shape[0]
        joints, verts431 = xyz[:, :num_joints], xyz[:, num_joints:]
        verts1723 = per_sample_sparse_upsample(self.upsample_matrices[0], verts431)
        verts6890 = per_sample_sparse_upsample(self.upsample_matrices[1], verts1723)
        return cam, joints, verts431, verts1723, verts6890, heatmap_112


def reference_from_model(model: nn.Module) -> OfficialStyleReference:
    """Build the reference port from our model's weights, attention masks and the body sampler's sparse U matrices."""
    head = model.head
    sampler = head.body_model.sampler
    upsample = [sampler.up_1.float().coalesce(), sampler.up_0.float().coalesce()]  # 431 -> 1723, 1723 -> 6890
    return OfficialStyleReference(model, head.attention_masks, upsample)
