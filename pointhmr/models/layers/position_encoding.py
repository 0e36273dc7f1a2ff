"""2-D sine position encoding (DETR style, normalised), as used by PointHMR on the 56x56 and 7x7 feature maps."""
import math
from typing import Dict, Tuple

import torch
from torch import nn


class SinePositionEncoding2D(nn.Module):
    """Fixed 2-D sine/cosine encoding with ``channels // 2`` features per axis (no parameters).

    For an ``h x w`` map, row ``y = 1..h`` and column ``x = 1..w`` are normalised to ``y / (h + eps) * scale`` (same for
    x). With ``d = channels // 2`` and ``k = 0..d/2-1`` the frequency is ``temperature ** (2k / d)``; channel ``2k`` is
    ``sin(pos / freq_k)`` and ``2k + 1`` is ``cos(pos / freq_k)``. Output channels are ``[d y-channels, d x-channels]``.
    Encodings are cached per ``(h, w, device, dtype)``.

    Args:
        channels: total output channels (512 in PointHMR); must be divisible by 4.
        temperature: frequency base.
        normalize: normalise positions to ``[0, scale]`` before encoding.
        scale: the normalisation range (2 pi).
        eps: added to the map size when normalising.
    """

    def __init__(self,
                 channels: int = 512,
                 temperature: float = 10000.,
                 normalize: bool = True,
                 scale: float = 2 * math.pi,
                 eps: float = 1e-6) -> None:
        super().__init__()
        if channels % 4 != 0:
            raise ValueError(f'SinePositionEncoding2D: channels must be divisible by 4, got {channels}')
        self.channels = channels
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale
        self.eps = eps
        self._cache: Dict[Tuple[int, int, torch.device, torch.dtype], torch.Tensor] = {}

    def _encode(self, height: int, width: int, device: torch.device) -> torch.Tensor:
        per_axis = self.channels // 2
        y = torch.arange(1, height + 1, dtype=torch.float32, device=device)
        x = torch.arange(1, width + 1, dtype=torch.float32, device=device)
        if self.normalize:
            y = y / (height + self.eps) * self.scale
            x = x / (width + self.eps) * self.scale
        k = torch.arange(per_axis, dtype=torch.float32, device=device)
        freq = self.temperature**(2 * torch.div(k, 2, rounding_mode='floor') / per_axis)

        def interleave(pos: torch.Tensor) -> torch.Tensor:  # (L,) -> (L, per_axis): sin on even, cos on odd channels
            angles = pos[:, None] / freq
            return torch.stack((angles[:, 0::2].sin(), angles[:, 1::2].cos()), dim=2).flatten(1)

        enc_y = interleave(y).t()[:, :, None].expand(per_axis, height, width)
        enc_x = interleave(x).t()[:, None, :].expand(per_axis, height, width)
        return torch.cat((enc_y, enc_x), dim=0)

    def forward(self,
                height: int,
                width: int,
                device: torch.device = torch.device('cpu'),
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Return the (1, channels, height, width) encoding (cached, not trainable)."""
        key = (int(height), int(width), torch.device(device), dtype)
        if key not in self._cache:
            self._cache[key] = self._encode(int(height), int(width), torch.device(device)).to(dtype)[None]
        return self._cache[key]

    def extra_repr(self) -> str:
        return f'channels={self.channels}, temperature={self.temperature}, normalize={self.normalize}'
