"""3-D and 2-D joint losses of PointHMR (spec 3.2), confidence-weighted MSE."""
from typing import Optional

from torch import Tensor

from pointhmr.body.joints import J14_L_HIP, J14_R_HIP


def graph_zero(pred: Tensor) -> Tensor:
    """A zero scalar that keeps ``pred`` in the graph (used instead of the official NaN / empty-batch results)."""
    return pred.sum() * 0.


def mid_hip_centred(joints: Tensor, right_hip: int = J14_R_HIP, left_hip: int = J14_L_HIP) -> Tensor:
    """Subtract the mid-hip ``(j[right_hip] + j[left_hip]) / 2`` from (B, K, D) joints."""
    return joints - 0.5 * (joints[:, right_hip:right_hip + 1] + joints[:, left_hip:left_hip + 1])


def keypoint_3d_loss(pred: Tensor, target: Tensor, has_3d: Tensor) -> Tensor:
    """Confidence-weighted MSE of mid-hip-centred 3-D J14 joints, mean over (samples with 3-D) x 14 x 3.

    Args:
        pred: (B, 14, 3) predicted joints (metres).
        target: (B, 14, 4) ground truth ``x, y, z, confidence``.
        has_3d: (B,) 0/1 flags; samples with 0 are ignored.

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
    error = (mid_hip_centred(pred) - mid_hip_centred(target[..., :3])) ** 2
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
    return (confidence * (pred - target[..., :2]) ** 2).mean()
