"""Codec between crop-pixel keypoints and the normalised [-1, 1] crop frame used by PointHMR's losses.

Shared by the data pipeline (``encode`` 2D labels) and the head (``decode`` predictions back to crop pixels),
mmpose-style. Also holds the weak-perspective projection used everywhere in PointHMR:
``x2d = s * (X[..., :2] + (tx, ty))`` (translation added before scaling), in normalised crop coordinates.
"""
from typing import Optional, Tuple, Union

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.registry import KEYPOINT_CODECS

from pointhmr.utils.arrays import to_numpy

ArrayLike = Union[np.ndarray, torch.Tensor]


def weak_perspective_project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """Project (B, N, 3) points with (B, 3) cameras ``(s, tx, ty)`` to (B, N, 2) normalised crop coordinates."""
    if points.dim() != 3 or points.shape[-1] != 3 or camera.shape[-1] != 3:
        raise ValueError(f'expected points (B, N, 3) and camera (B, 3), got {tuple(points.shape)} and '
                         f'{tuple(camera.shape)}')
    scale = camera[:, None, :1]
    shift = camera[:, None, 1:3]
    return scale * (points[..., :2] + shift)


def fit_weak_perspective_camera(points_3d: torch.Tensor,
                                points_2d: torch.Tensor,
                                weights: torch.Tensor,
                                eps: float = 1e-8) -> Tuple[torch.Tensor, torch.Tensor]:
    """Least-squares weak-perspective cameras: the ``(s, tx, ty)`` minimising
    ``sum_j w_j || s * (X_j[:2] + t) - x_j ||^2`` per sample (closed form, no gradient needed).

    Args:
        points_3d: (B, N, 3) points (e.g. ground-truth joints in the mesh's frame).
        points_2d: (B, N, 2) their 2D positions in normalised crop coordinates.
        weights: (B, N) non-negative confidences (0 = unlabelled).

    Returns:
        ``(camera (B, 3), valid (B,))``: ``valid`` is False where fewer than two labelled points spread in the image
        (or a non-positive scale) make the fit meaningless; those rows hold ``(0, 0, 0)``.
    """
    if points_3d.dim() != 3 or points_3d.shape[-1] != 3 or points_2d.shape != points_3d.shape[:2] + (2, ) \
            or weights.shape != points_3d.shape[:2]:
        raise ValueError(f'fit_weak_perspective_camera: expected points_3d (B, N, 3), points_2d (B, N, 2) and weights '
                         f'(B, N), got {tuple(points_3d.shape)}, {tuple(points_2d.shape)} and {tuple(weights.shape)}')
    xy = points_3d[..., :2]
    w = weights.clamp(min=0)[..., None]
    total = w.sum(dim=1)  # (B, 1)
    mean_3d = (w * xy).sum(dim=1) / total.clamp(min=eps)
    mean_2d = (w * points_2d).sum(dim=1) / total.clamp(min=eps)
    centred_3d, centred_2d = xy - mean_3d[:, None], points_2d - mean_2d[:, None]
    spread = (w * centred_3d.square()).sum(dim=(1, 2))
    scale = (w * centred_3d * centred_2d).sum(dim=(1, 2)) / spread.clamp(min=eps)
    valid = (spread > eps) & (scale > eps) & ((weights > 0).sum(dim=1) >= 2)
    safe_scale = torch.where(valid, scale, torch.ones_like(scale))
    shift = mean_2d / safe_scale[:, None] - mean_3d
    camera = torch.cat((scale[:, None], shift), dim=1)
    return torch.where(valid[:, None], camera, torch.zeros_like(camera)), valid


@KEYPOINT_CODECS.register_module()
class WeakPerspectiveCodec(BaseKeypointCodec):
    """Normalise crop-pixel keypoints to [-1, 1]: ``u = 2 * x / size - 1`` (and back).

    Args:
        input_size: crop size ``(w, h)`` in pixels, 224 x 224 for PointHMR.
    """

    auxiliary_encode_keys = set()

    def __init__(self, input_size: Tuple[int, int] = (224, 224)) -> None:
        super().__init__()
        self.input_size = tuple(int(s) for s in input_size)

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """(N, K, 2) crop pixels -> dict(keypoint_labels=(N, K, 2) in [-1, 1], keypoint_weights=(N, K))."""
        size = np.asarray(self.input_size, dtype=np.float32)
        labels = 2.0 * np.asarray(keypoints, dtype=np.float32) / size - 1.0
        if keypoints_visible is None:
            keypoints_visible = np.ones(labels.shape[:-1], dtype=np.float32)
        return dict(keypoint_labels=labels, keypoint_weights=np.asarray(keypoints_visible, dtype=np.float32))

    def decode(self, encoded: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
        """(N, K, 2) normalised -> ((N, K, 2) crop pixels, (N, K) scores of ones)."""
        size = np.asarray(self.input_size, dtype=np.float32)
        keypoints = (to_numpy(encoded, np.float32) + 1.0) * 0.5 * size
        return keypoints, np.ones(keypoints.shape[:-1], dtype=np.float32)
