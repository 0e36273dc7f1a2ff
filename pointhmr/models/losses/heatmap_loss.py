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


#: ``log(x) >= -100`` exactly where ``x >= exp(-100)`` (the clamp of the logs; where it binds, no gradient)
_EXP_MINUS_100 = float(torch.tensor(-100.).exp())


class _HeatmapLoss(torch.autograd.Function):
    """:func:`heatmap_loss`'s value with a hand-written backward: one pass over the (K, HW) probabilities for the
    gradient instead of autograd's chain (log, clamp, two gathers into zero-filled (K, HW) tensors, sums), and no
    (K, HW) ``log(1 - p)`` kept for the backward. Same value and gradient as the plain formula (tested)."""

    @staticmethod
    def forward(ctx, pred: Tensor, target_index: Tensor, bce_weight: float, smooth: float, replication: int) -> Tensor:
        rows = torch.arange(pred.shape[0], device=pred.device)
        p_target = pred[rows, target_index]
        sum_log_not_p = pred.neg().log1p_().clamp_(min=-100.).sum()  # one (K, HW) temporary
        log_p_target = torch.log(p_target).clamp(min=-100.)
        log_not_p_target = torch.log1p(-p_target).clamp(min=-100.)
        count = pred.numel() * replication
        bce = -(replication * sum_log_not_p + (log_p_target - log_not_p_target).sum()) / count
        row_sums = replication * pred.sum(dim=1) + 1. + 2. * smooth
        dice = 2. * (p_target + smooth) / row_sums
        ctx.save_for_backward(pred, target_index, p_target, row_sums)
        ctx.constants = (bce_weight, smooth, replication)
        return bce_weight * bce + (1. - dice).mean()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        pred, target_index, p_target, row_sums = ctx.saved_tensors
        bce_weight, smooth, replication = ctx.constants
        num_rows = pred.shape[0]
        scale = bce_weight / (pred.numel() * replication)
        # d/dp of -scale * r * sum(clamp(log(1 - p))) (clamp passes the gradient where log(1 - p) >= -100) plus, per
        # row, d/dp of -mean(2 (p_t + s) / (r sum(p) + 1 + 2 s)) through the row sum
        grad = torch.rsub(pred, 1.)
        clamped = grad < _EXP_MINUS_100
        grad.reciprocal_().mul_(scale * replication).masked_fill_(clamped, 0.)
        grad += (2. * replication / num_rows * (p_target + smooth) / row_sums.square())[:, None]
        # the target cells: -scale * (clamp(log p_t) - clamp(log(1 - p_t))) and the dice numerator
        not_p_target = 1. - p_target
        target_grad = -scale * ((1. / p_target).masked_fill(p_target < _EXP_MINUS_100, 0.) +
                                (1. / not_p_target).masked_fill(not_p_target < _EXP_MINUS_100, 0.))
        target_grad = target_grad - 2. / (num_rows * row_sums)
        rows = torch.arange(num_rows, device=pred.device)
        grad[rows, target_index] += target_grad
        return grad * grad_output, None, None, None, None


def heatmap_loss(pred: Tensor,
                 target_index: Tensor,
                 bce_weight: float = 1000.,
                 smooth: float = 1e-5,
                 replication: int = 1) -> Tensor:
    """``bce_weight * BCE(pred, onehot) + mean_k(1 - Dice_k)`` for K supervised (sample, vertex) heatmaps.

    ``BCE`` is the mean over ``K * HW`` of the binary cross-entropy against the one-hot map of ``target_index`` (logs
    clamped at -100 as :func:`torch.nn.functional.binary_cross_entropy`); it is evaluated without materialising the
    one-hot maps: ``sum(-log(1 - p)) - sum_k(log p_t - log(1 - p_t))``. ``Dice_k = 2 (p_t + s) / (sum p + 1 + 2 s)``.
    The backward pass is written out (one elementwise pass, see ``_HeatmapLoss``).

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
    return _HeatmapLoss.apply(pred, target_index, float(bce_weight), float(smooth), int(replication))
