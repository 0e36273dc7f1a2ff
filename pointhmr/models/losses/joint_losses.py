"""3-D and 2-D joint losses of PointHMR (official behaviour §3.2), confidence-weighted MSE."""
from typing import Optional, Sequence

from torch import Tensor

from pointhmr.body.joints import J14_L_HIP, J14_R_HIP


def graph_zero(pred: Tensor) -> Tensor:
    """A zero scalar that keeps ``pred`` in the graph (used instead of the official NaN / empty-batch results)."""
    return pred.sum() * 0.


def mid_hip_centred(joints: Tensor, right_hip: int = J14_R_HIP, left_hip: int = J14_L_HIP) -> Tensor:
    """Subtract the mid-hip ``(j[right_hip] + j[left_hip]) / 2`` from (B, K, D) joints."""
    return joints - 0.5 * (joints[:, right_hip:right_hip + 1] + joints[:, left_hip:left_hip + 1])


def joints_centred(joints: Tensor, center_indices: Sequence[int] = (J14_R_HIP, J14_L_HIP)) -> Tensor:
    """Subtract the mean of the joints ``center_indices`` from (B, K, D) joints: the mid-hip of J14 for bodies
    (the default, computed exactly as :func:`mid_hip_centred`), the wrist ``(0,)`` for hands."""
    center_indices = tuple(int(i) for i in center_indices)
    if len(center_indices) == 2:
        return mid_hip_centred(joints, *center_indices)
    if not center_indices:
        raise ValueError('joints_centred: center_indices must name at least one joint')
    return joints - joints[:, list(center_indices)].mean(dim=1, keepdim=True)


def keypoint_3d_loss(pred: Tensor,
                     target: Tensor,
                     has_3d: Tensor,
                     center_indices: Sequence[int] = (J14_R_HIP, J14_L_HIP)) -> Tensor:
    """Confidence-weighted MSE of root-centred 3-D joints, mean over (samples with 3-D) x K x 3.

    Args:
        pred: (B, K, 3) predicted joints (metres), K = 14 for bodies (J14), 21 for hands.
        target: (B, K, 4) ground truth ``x, y, z, confidence``.
        has_3d: (B,) 0/1 flags; samples with 0 are ignored.
        center_indices: joints whose mean is subtracted from both sets first (J14 mid-hip; ``(0,)`` = the wrist).

    Returns:
        Scalar; a graph-keeping zero when no sample has 3-D joints (the official code returns a plain zero).
    """
    if pred.shape[:-1] != target.shape[:-1] or target.shape[-1] != 4 or pred.shape[-1] != 3:
        raise ValueError(f'keypoint_3d_loss: expected pred (B, K, 3) and target (B, K, 4), got {tuple(pred.shape)} '
                         f'and {tuple(target.shape)}')
    keep = has_3d.reshape(-1) > 0.5
    if not bool(keep.any()):
        return graph_zero(pred)
    pred, target = pred[keep], target[keep]
    confidence = target[..., 3:]
    error = (joints_centred(pred, center_indices) - joints_centred(target[..., :3], center_indices))**2
    return (confidence * error).mean()


def keypoint_2d_loss(pred: Tensor, target: Tensor, has_2d: Optional[Tensor] = None) -> Tensor:
    """Confidence-weighted MSE of 2-D joints in the normalised crop frame, mean over all samples x K x 2.

    As in the official code there is no re-centring and, by default, no ``has_2d`` mask (missing joints carry
    confidence 0). Passing ``has_2d`` (B,) additionally zeroes samples without 2-D joints (same denominator).

    Args:
        pred: (B, K, 2) projected joints in [-1, 1].
        target: (B, K, 3) ground truth ``u, v, confidence``.
    """
    if pred.shape[:-1] != target.shape[:-1] or target.shape[-1] != 3 or pred.shape[-1] != 2:
        raise ValueError(f'keypoint_2d_loss: expected pred (B, K, 2) and target (B, K, 3), got {tuple(pred.shape)} '
                         f'and {tuple(target.shape)}')
    if pred.shape[0] == 0:
        return graph_zero(pred)
    confidence = target[..., 2:]
    if has_2d is not None:
        confidence = confidence * has_2d.reshape(-1, 1, 1).to(confidence.dtype)
    return (confidence * (pred - target[..., :2])**2).mean()
