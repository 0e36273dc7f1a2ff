"""Sampling of PointHMR's training augmentation (spec 4.2); applied later by ``MeshTopdownAffine``."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomMeshAugmentation(BaseTransform):
    """Sample flip, in-plane rotation, box scale and per-channel pixel noise (METRO / GraphCMR recipe).

    Records ``results['flip']`` (bool), ``['rotation']`` (degrees, counter-clockwise in the image),
    ``['scale_factor']`` (multiplies the box side) and ``['pixel_noise']`` (3,) per-channel multipliers in the
    image's channel order (B, G, R).
    Leave it out of test pipelines: ``MeshTopdownAffine`` then uses no flip, rotation 0, scale 1, noise 1.

    Args:
        flip_prob: probability of a horizontal flip.
        rot_std: standard deviation of the rotation in degrees.
        rot_max: the rotation is clipped to [-rot_max, rot_max].
        rot_zero_prob: probability that the rotation is set to 0.
        scale_std: standard deviation of the scale factor around 1.
        scale_range: the scale factor is clipped to this range.
        noise: pixel multipliers are drawn from U(1 - noise, 1 + noise) per channel.
        noise_channel_order: which channels the three drawn multipliers belong to, in draw order. ``'rgb'`` is the
            official code (it draws (R, G, B) gains for its RGB image); ``'bgr'`` applies them to B, G, R as drawn.
            The draws are independent and identically distributed, so both give the same augmentation statistics;
            ``'rgb'`` reproduces the official per-channel assignment of a given random sequence.
    """

    def __init__(self,
                 flip_prob: float = 0.5,
                 rot_std: float = 30.0,
                 rot_max: float = 60.0,
                 rot_zero_prob: float = 0.6,
                 scale_std: float = 0.25,
                 scale_range: Tuple[float, float] = (0.75, 1.25),
                 noise: float = 0.4,
                 noise_channel_order: str = 'bgr') -> None:
        super().__init__()
        if noise_channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"noise_channel_order must be 'rgb' or 'bgr', got {noise_channel_order!r}")
        for name, value in (('flip_prob', flip_prob), ('rot_zero_prob', rot_zero_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'{name} must be a probability in [0, 1], got {value}')
        if rot_std < 0 or rot_max < 0 or scale_std < 0 or not 0.0 <= noise < 1.0:
            raise ValueError('rot_std, rot_max and scale_std must be >= 0 and noise in [0, 1), got '
                             f'{rot_std}, {rot_max}, {scale_std}, {noise}')
        if len(scale_range) != 2 or not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f'scale_range must be (low, high) with 0 < low <= high, got {scale_range}')
        self.flip_prob = float(flip_prob)
        self.rot_std = float(rot_std)
        self.rot_max = float(rot_max)
        self.rot_zero_prob = float(rot_zero_prob)
        self.scale_std = float(scale_std)
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))
        self.noise = float(noise)
        self.noise_channel_order = noise_channel_order

    @cache_randomness
    def _sample(self) -> Tuple[bool, float, float, np.ndarray]:
        flip = bool(np.random.rand() < self.flip_prob)
        pixel_noise = np.random.uniform(1.0 - self.noise, 1.0 + self.noise, size=3).astype(np.float32)
        rotation = float(np.clip(np.random.randn() * self.rot_std, -self.rot_max, self.rot_max))
        if np.random.rand() < self.rot_zero_prob:
            rotation = 0.0
        scale = float(np.clip(1.0 + np.random.randn() * self.scale_std, *self.scale_range))
        return flip, rotation, scale, pixel_noise

    def transform(self, results: dict) -> Optional[dict]:
        flip, rotation, scale, pixel_noise = self._sample()
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        results['rotation'] = rotation
        results['scale_factor'] = scale
        # stored in the image's (B, G, R) order: gains drawn as (R, G, B) are reversed
        results['pixel_noise'] = pixel_noise[::-1].copy() if self.noise_channel_order == 'rgb' else pixel_noise
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(flip_prob={self.flip_prob}, rot_std={self.rot_std}, '
                f'rot_max={self.rot_max}, rot_zero_prob={self.rot_zero_prob}, scale_std={self.scale_std}, '
                f'scale_range={self.scale_range}, noise={self.noise}, '
                f'noise_channel_order={self.noise_channel_order!r})')
