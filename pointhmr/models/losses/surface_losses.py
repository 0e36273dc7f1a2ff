"""Mesh-surface losses against the ground-truth mesh: edge length, face normals, Laplacian coordinates.

None of them is in the official PointHMR recipe (its head weights them 0); they are the regularisers of the lineage
(FastMETRO's edge-length and normal-vector losses, a uniform-Laplacian term) for runs whose per-vertex regression is
still noisy. All take (B, V, 3) predicted and ground-truth vertices of the same mesh level and ``has_smpl`` flags.
"""
from torch import Tensor
from torch.nn import functional as F

from .joint_losses import graph_zero


def _kept(pred: Tensor, target: Tensor, has_smpl: Tensor, name: str):
    if pred.shape != target.shape:
        raise ValueError(f'{name}: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ')
    keep = has_smpl.reshape(-1) > 0.5
    return pred[keep], target[keep], bool(keep.any())


def edge_length_loss(pred: Tensor, target: Tensor, edges: Tensor, has_smpl: Tensor) -> Tensor:
    """Mean absolute difference of the edge lengths (metres) over the (E, 2) unique edges (FastMETRO's edge loss,
    each edge counted once instead of once per face)."""
    pred, target, any_kept = _kept(pred, target, has_smpl, 'edge_length_loss')
    if not any_kept:
        return graph_zero(pred)
    first, second = edges[:, 0], edges[:, 1]
    pred_length = (pred[:, first] - pred[:, second]).norm(dim=-1)
    target_length = (target[:, first] - target[:, second]).norm(dim=-1)
    return (pred_length - target_length).abs().mean()


def normal_loss(pred: Tensor, target: Tensor, faces: Tensor, has_smpl: Tensor) -> Tensor:
    """Mean ``|cos|`` between the predicted faces' unit edge directions and the ground-truth unit face normal
    (FastMETRO's normal-vector loss: zero when every predicted face lies in the plane of its ground-truth face)."""
    pred, target, any_kept = _kept(pred, target, has_smpl, 'normal_loss')
    if not any_kept:
        return graph_zero(pred)
    a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
    normal = F.normalize((target[:, b] - target[:, a]).cross(target[:, c] - target[:, a], dim=-1), dim=-1, eps=1e-12)
    directions = (pred[:, b] - pred[:, a], pred[:, c] - pred[:, a], pred[:, c] - pred[:, b])
    cosines = [(F.normalize(d, dim=-1, eps=1e-12) * normal).sum(-1).abs() for d in directions]
    return sum(cosines).mean() / 3


def laplacian_coordinates(vertices: Tensor, edges: Tensor) -> Tensor:
    """(B, V, 3) vertices -> (B, V, 3) uniform Laplacian coordinates ``v_i - mean of v_i's neighbours`` over the (E, 2)
    undirected edges (isolated vertices get 0)."""
    first, second = edges[:, 0], edges[:, 1]
    num = vertices.shape[1]
    sums = vertices.new_zeros(vertices.shape)
    sums = sums.index_add(1, first, vertices[:, second]).index_add(1, second, vertices[:, first])
    degree = vertices.new_zeros(num).index_add(0, first, vertices.new_ones(len(first))).index_add(
        0, second, vertices.new_ones(len(second)))
    neighbour_mean = sums / degree.clamp(min=1)[None, :, None]
    return (vertices - neighbour_mean) * (degree > 0).to(vertices.dtype)[None, :, None]


def laplacian_loss(pred: Tensor, target: Tensor, edges: Tensor, has_smpl: Tensor) -> Tensor:
    """Mean absolute difference (metres) of the uniform Laplacian coordinates of prediction and ground truth: local
    shape, blind to where the mesh is."""
    pred, target, any_kept = _kept(pred, target, has_smpl, 'laplacian_loss')
    if not any_kept:
        return graph_zero(pred)
    return (laplacian_coordinates(pred, edges) - laplacian_coordinates(target, edges)).abs().mean()
