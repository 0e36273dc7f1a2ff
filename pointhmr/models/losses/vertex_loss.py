"""Vertex L1 loss of PointHMR (official behaviour §3.2)."""
from torch import Tensor

from .joint_losses import graph_zero


def vertex_loss(pred: Tensor, target: Tensor, has_smpl: Tensor) -> Tensor:
    """Mean absolute error over all coordinates of the samples with SMPL ground truth.

    Args:
        pred: (B, V, 3) predicted vertices (pelvis-centred frame, metres).
        target: (B, V, 3) ground-truth vertices, pelvis-centred by the H36M-regressed pelvis.
        has_smpl: (B,) 0/1 flags.

    Returns:
        Scalar; a graph-keeping zero when no sample has SMPL.
    """
    if pred.shape != target.shape:
        raise ValueError(f'vertex_loss: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ')
    keep = has_smpl.reshape(-1) > 0.5
    if not bool(keep.any()):
        return graph_zero(pred)
    return (pred[keep] - target[keep]).abs().mean()
