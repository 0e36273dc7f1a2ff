"""The transformer of PointHMR (official "MeshRegressor", official behaviour §1.7/1.9): 4 stacks and output layers."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..layers import TransformerEncoderStack


class MeshRegressor(nn.Module):
    """``transformer_1/2`` at the wide width, ``dim_reduce``, ``transformer_3/4`` at the reduced width, output heads.

    ``transformer_2`` and ``transformer_4`` end with a LayerNorm. ``cam_predictor`` reads token 0 and ``xyz_regressor``
    every token after the ``1 + num_grid_tokens`` prefix (joints then vertices). Names mirror the official keys.

    Args:
        embed_dims: width of stacks 1-2 (content + position channels, 640).
        reduced_dims: width of stacks 3-4 (128).
        num_heads: attention heads of every layer.
        feedforward_channels: FFN widths of stacks (1-2, 3-4).
        num_layers: layers per stack, an int or 4 ints.
        num_grid_tokens: grid tokens between the camera token and the joint tokens (49).
        dropout: dropout of every layer.
        camera_init: None (official: PyTorch's default init) or ``(s, tx, ty)``, the initial bias of ``cam_predictor``
            so the camera starts near a crop's scale (a hand crop needs s ~ 8, a body ~ 1).
    """

    def __init__(self,
                 embed_dims: int = 640,
                 reduced_dims: int = 128,
                 num_heads: int = 4,
                 feedforward_channels: Sequence[int] = (1024, 512),
                 num_layers=2,
                 num_grid_tokens: int = 49,
                 dropout: float = 0.1,
                 camera_init: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        if isinstance(num_layers, int):
            num_layers = (num_layers, ) * 4
        if len(num_layers) != 4 or len(feedforward_channels) != 2:
            raise ValueError(f'MeshRegressor: num_layers needs 4 entries and feedforward_channels 2, got {num_layers} '
                             f'and {feedforward_channels}')
        self.num_grid_tokens = num_grid_tokens
        wide = dict(embed_dims=embed_dims,
                    num_heads=num_heads,
                    feedforward_channels=feedforward_channels[0],
                    dropout=dropout)
        narrow = dict(embed_dims=reduced_dims,
                      num_heads=num_heads,
                      feedforward_channels=feedforward_channels[1],
                      dropout=dropout)
        self.transformer_1 = TransformerEncoderStack(num_layers[0], **wide)
        self.transformer_2 = TransformerEncoderStack(num_layers[1], final_norm=True, **wide)
        self.dim_reduce = nn.Linear(embed_dims, reduced_dims)
        self.transformer_3 = TransformerEncoderStack(num_layers[2], **narrow)
        self.transformer_4 = TransformerEncoderStack(num_layers[3], final_norm=True, **narrow)
        self.xyz_regressor = nn.Linear(reduced_dims, 3)
        self.cam_predictor = nn.Linear(reduced_dims, 3)
        if camera_init is not None:
            if len(camera_init) != 3:
                raise ValueError(f'MeshRegressor: camera_init must be (s, tx, ty), got {camera_init}')
            with torch.no_grad():
                self.cam_predictor.bias.copy_(torch.as_tensor([float(c) for c in camera_init]))

    @property
    def stacks(self) -> Tuple[TransformerEncoderStack, ...]:
        return self.transformer_1, self.transformer_2, self.transformer_3, self.transformer_4

    def forward(self, tokens: Tensor, attn_masks: Sequence[Optional[Tensor]] = (None, ) * 4) -> Tuple[Tensor, Tensor]:
        """tokens (B, L, embed_dims), one (L, L) mask or None per stack: additive float
        (0 allowed, -inf blocked) or bool (True = blocked).

        Returns:
            camera (B, 3) and xyz (B, L - 1 - num_grid_tokens, 3).
        """
        x = self.transformer_1(tokens, attn_masks[0])
        x = self.transformer_2(x, attn_masks[1])
        x = self.dim_reduce(x)
        x = self.transformer_3(x, attn_masks[2])
        x = self.transformer_4(x, attn_masks[3])
        camera = self.cam_predictor(x[:, 0])
        xyz = self.xyz_regressor(x[:, 1 + self.num_grid_tokens:])
        return camera, xyz
