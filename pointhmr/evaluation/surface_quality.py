"""Surface quality of a predicted mesh against the ground-truth mesh of the same topology.

Vertex errors (MPVPE) say where the surface is; these say whether it is a surface: a crumpled prediction can have a
fair PA-MPVPE and still look shredded.

* edge-length error: per sample, the mean over the unique edges of ``|len_pred - len_gt| / len_gt`` (0 = every edge
  as long as in the ground truth; reported in percent);
* normal consistency: per sample, the mean over the faces of the cosine between predicted and ground-truth unit face
  normals (1 = same orientation everywhere, 0 = random; faces of zero area in either mesh are skipped).
"""
from typing import Dict

import numpy as np

from pointhmr.body.mesh_geometry import face_normals, mesh_edges

#: metric names (without prefix): edge-length error in percent, normal consistency in [-1, 1]
SURFACE_METRIC_NAMES = ('EdgeErr%', 'NormalCos')


def edge_length_errors(pred: np.ndarray, gt: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(B,) mean relative edge-length error (fraction) of (B, V, 3) predictions against (B, V, 3) ground truth."""
    edges = mesh_edges(faces)
    pred_length = np.linalg.norm(pred[:, edges[:, 0]] - pred[:, edges[:, 1]], axis=-1)
    gt_length = np.linalg.norm(gt[:, edges[:, 0]] - gt[:, edges[:, 1]], axis=-1)
    valid = gt_length > 1e-12
    relative = np.where(valid, np.abs(pred_length - gt_length) / np.maximum(gt_length, 1e-12), 0.0)
    return relative.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def normal_consistency(pred: np.ndarray, gt: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(B,) mean cosine between the predicted and ground-truth unit face normals."""
    pred_normal, gt_normal = face_normals(pred, faces), face_normals(gt, faces)
    pred_area, gt_area = np.linalg.norm(pred_normal, axis=-1), np.linalg.norm(gt_normal, axis=-1)
    valid = (pred_area > 1e-12) & (gt_area > 1e-12)
    cosine = (pred_normal * gt_normal).sum(-1) / np.maximum(pred_area * gt_area, 1e-24)
    return np.where(valid, cosine, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def surface_errors(pred: np.ndarray, gt: np.ndarray, faces: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-sample ``edge_error`` (fraction) and ``normal_cos`` of (B, V, 3) meshes with (F, 3) faces."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f'surface_errors: pred {pred.shape} and gt {gt.shape} must be equal (B, V, 3) arrays')
    return dict(edge_error=edge_length_errors(pred, gt, faces), normal_cos=normal_consistency(pred, gt, faces))
