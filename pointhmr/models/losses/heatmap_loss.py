"""Point (vertex heatmap) supervision of PointHMR (official behaviour §3.3), official bugs fixed on purpose.

Targets: the ground-truth coarse mesh projected with the *predicted* camera (detached) onto a ``112 x 112`` grid, one
one-hot map per (sample, vertex). Deliberate differences from the official code:

* cells use ``floor`` (the official truncation toward zero put points up to one cell outside the left/top border
  into column/row 0);
* points with ``x`` or ``y`` outside ``[0, 112)`` are discarded (the official code only bounds-checked the flat index,
  so an out-of-range ``x`` wrapped into the neighbouring row);
* no ``12544 x 12544`` identity: one-hot maps come from a scatter, and the loss itself only gathers the target cell
  (in training it runs on the 56x56 logits' softmax, exactly equal to the loss on the 112x112 up-sampled maps);
* an empty selection (no sample with SMPL, or no valid point) gives a graph-keeping zero instead of NaN.
"""
from typing import Tuple

import torch
from torch import Tensor

from .joint_losses import graph_zero


def heatmap_point_targets(points: Tensor, heatmap_size: Tuple[int, int] = (112, 112)) -> Tuple[Tensor, Tensor]:
    """Map normalised points to flat heatmap cells.

    Args:
        points: (..., 2) ``(u, v)`` in the normalised crop frame [-1, 1].
        heatmap_size: ``(width, height)`` of the target grid.

    Returns:
        ``(index, valid)``: (...) long flat index ``row * width + col`` (0 where invalid) and (...) bool validity,
        with ``col = floor((u + 1) / 2 * width)`` (same for rows) and valid iff ``0 <= col < width`` and
        ``0 <= row < height``.
    """
    width, height = heatmap_size
    points = points.float()  # half / bfloat16 (autocast) cannot hold the cell numbers of a 56 x 56 or larger map
    col = torch.floor((points[..., 0] + 1.) * 0.5 * width)
    row = torch.floor((points[..., 1] + 1.) * 0.5 * height)
    valid = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    index = torch.where(valid, row.long() * width + col.long(), torch.zeros_like(col, dtype=torch.long))
    return index, valid


def one_hot_heatmaps(index: Tensor, num_cells: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """(K,) flat indices -> (K, num_cells) one-hot maps, built with a scatter."""
    maps = torch.zeros(index.shape[0], num_cells, dtype=dtype, device=index.device)
    return maps.scatter_(1, index[:, None], 1.)


def heatmap_loss(pred: Tensor,
                 target_index: Tensor,
                 bce_weight: float = 1000.,
                 smooth: float = 1e-5,
                 replication: int = 1) -> Tensor:
    """``bce_weight * BCE(pred, onehot) + mean_k(1 - Dice_k)`` for K supervised (sample, vertex) heatmaps.

    ``BCE`` is the mean over ``K * HW`` of the binary cross-entropy against the one-hot map of ``target_index`` (logs
    clamped at -100 as :func:`torch.nn.functional.binary_cross_entropy`); it is evaluated without materialising the
    one-hot maps: ``sum(-log(1 - p)) - sum_k(log p_t - log(1 - p_t))``. ``Dice_k = 2 (p_t + s) / (sum p + 1 + 2 s)``.

    With ``replication = r > 1``, every entry of ``pred`` stands for ``r`` cells of equal probability of the full map
    (a nearest up-sampling, e.g. the 56x56 logits' softmax divided by 4 for the 112x112 map) and ``target_index`` is the
    entry holding the target cell: the result equals the loss on the up-sampled map exactly (sums scaled by ``r``)
    without building it.

    Args:
        pred: (K, HW) heatmap probabilities (each row a softmax; the 112x112 view of official behaviour §1.5), or
            (K, HW / r).
        target_index: (K,) flat target cell per row.
        replication: cells of the full map per entry of ``pred``.

    Returns:
        Scalar; a graph-keeping zero when ``K == 0`` (the official code returned NaN).
    """
    if pred.dim() != 2 or target_index.shape != pred.shape[:1]:
        raise ValueError(f'heatmap_loss: expected pred (K, HW) and target_index (K,), got {tuple(pred.shape)} and '
                         f'{tuple(target_index.shape)}')
    if replication < 1:
        raise ValueError(f'heatmap_loss: replication must be >= 1, got {replication}')
    if pred.shape[0] == 0:
        return graph_zero(pred)
    log_not_p = torch.log(1. - pred).clamp(min=-100.)
    p_target = pred.gather(1, target_index[:, None]).squeeze(1)
    log_p_target = torch.log(p_target).clamp(min=-100.)
    log_not_p_target = log_not_p.gather(1, target_index[:, None]).squeeze(1)
    bce = -(replication * log_not_p.sum() + (log_p_target - log_not_p_target).sum()) / (pred.numel() * replication)
    dice = 2. * (p_target + smooth) / (replication * pred.sum(dim=1) + 1. + 2. * smooth)
    return bce_weight * bce + (1. - dice).mean()
