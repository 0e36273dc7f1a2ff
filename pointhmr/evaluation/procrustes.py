"""Batched similarity Procrustes alignment (scale, rotation, translation) in numpy.

Used for PA-MPJPE / PA-MPVPE (official behaviour §5.4): the prediction is aligned to the ground truth with the
least-squares similarity transform; the rotation is taken from the SVD of the 3 x 3 cross-covariance of the mean-centred
point sets, with the determinant-sign fix so that reflections are never returned.
"""
from typing import Tuple

import numpy as np


def _check_point_sets(source: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray, bool]:
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape:
        raise ValueError(f'procrustes: source {source.shape} and target {target.shape} must have the same shape')
    single = source.ndim == 2
    if single:
        source, target = source[None], target[None]
    if source.ndim != 3 or source.shape[-1] != 3:
        raise ValueError(f'procrustes: expected point sets of shape (N, 3) or (B, N, 3), got {source.shape}')
    return source, target, single


def similarity_procrustes(source: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity transform mapping ``source`` onto ``target``.

    Args:
        source: (B, N, 3) or (N, 3) points to align (the prediction).
        target: same shape, the reference (the ground truth).

    Returns:
        ``scale`` (B,), ``rotation`` (B, 3, 3) and ``translation`` (B, 3) with
        ``aligned = scale * source @ rotation.T + translation`` (leading batch axis dropped for 2-D inputs).
    """
    source, target, single = _check_point_sets(source, target)
    mu_source = source.mean(axis=1, keepdims=True)
    mu_target = target.mean(axis=1, keepdims=True)
    x = source - mu_source
    y = target - mu_target
    var_source = (x**2).sum(axis=(1, 2))
    # cross-covariance K = Y^T X (3 x 3); R = U diag(1, 1, d) V^T maximises tr(R^T K)
    cross = np.einsum('bni,bnj->bij', y, x)
    u, sigma, vt = np.linalg.svd(cross)
    sign = np.sign(np.linalg.det(u @ vt))
    sign[sign == 0] = 1.0
    fix = np.ones_like(sigma)
    fix[:, -1] = sign
    rotation = (u * fix[:, None, :]) @ vt
    # degenerate source (all points equal): scale 0, the aligned set collapses onto the target centroid
    scale = np.where(var_source > 0, (sigma * fix).sum(axis=1) / np.maximum(var_source, 1e-300), 0.0)
    translation = mu_target[:, 0] - scale[:, None] * np.einsum('bij,bj->bi', rotation, mu_source[:, 0])
    if single:
        return scale[0], rotation[0], translation[0]
    return scale, rotation, translation


def procrustes_align(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Return ``source`` after the similarity transform that best aligns it to ``target`` (same shape as input)."""
    src, tgt, single = _check_point_sets(source, target)
    scale, rotation, translation = similarity_procrustes(src, tgt)
    aligned = scale[:, None, None] * np.einsum('bij,bnj->bni', rotation, src) + translation[:, None, :]
    return aligned[0] if single else aligned


def reconstruction_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-sample mean Euclidean distance after Procrustes alignment of ``pred`` to ``gt``.

    Args:
        pred, gt: (B, N, 3) point sets (same units).

    Returns:
        (B,) errors in the input unit (a scalar array for (N, 3) inputs).
    """
    aligned = procrustes_align(pred, gt)
    return np.linalg.norm(aligned - np.asarray(gt, dtype=np.float64), axis=-1).mean(axis=-1)
