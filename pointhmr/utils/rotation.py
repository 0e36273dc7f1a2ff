"""Batched rotation conversions in torch: axis-angle <-> rotation matrix, Kabsch alignment, geodesic angles."""
import torch


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` from axis-angle vectors ``(..., 3)`` (Rodrigues; smooth at zero angle)."""
    angle_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    x, y, z = axis_angle.unbind(-1)
    zeros = torch.zeros_like(x)
    skew = torch.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], dim=-1).reshape(axis_angle.shape[:-1] + (3, 3))
    angle = torch.sqrt(angle_sq.clamp_min(1e-12))
    small = angle_sq < 1e-6
    # sin(t)/t and (1-cos(t))/t^2 with their Taylor series near 0 (keeps gradients finite at the identity)
    sin_term = torch.where(small, 1.0 - angle_sq / 6.0, torch.sin(angle) / angle)
    cos_term = torch.where(small, 0.5 - angle_sq / 24.0, (1.0 - torch.cos(angle)) / angle_sq.clamp_min(1e-12))
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + sin_term * skew + cos_term * (skew @ skew)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Axis-angle vectors ``(..., 3)`` (angle in [0, pi]) from rotation matrices ``(..., 3, 3)``, via quaternions
    (numerically stable for every angle, including 0 and pi)."""
    m = matrix
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # four candidate quaternions (w, x, y, z); pick the best conditioned one per matrix
    q_abs = torch.sqrt(
        torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22],
                    dim=-1).clamp_min(0.0))
    candidates = torch.stack([
        torch.stack(
            [q_abs[..., 0]**2, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
            dim=-1),
        torch.stack(
            [m[..., 2, 1] - m[..., 1, 2], q_abs[..., 1]**2, m[..., 1, 0] + m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0]],
            dim=-1),
        torch.stack(
            [m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] + m[..., 0, 1], q_abs[..., 2]**2, m[..., 2, 1] + m[..., 1, 2]],
            dim=-1),
        torch.stack(
            [m[..., 1, 0] - m[..., 0, 1], m[..., 2, 0] + m[..., 0, 2], m[..., 2, 1] + m[..., 1, 2], q_abs[..., 3]**2],
            dim=-1),
    ],
                             dim=-2) / (2.0 * q_abs[..., None].clamp_min(0.1))
    best = q_abs.argmax(dim=-1)
    quat = torch.gather(candidates, -2, best[..., None, None].expand(best.shape + (1, 4))).squeeze(-2)
    quat = quat / quat.norm(dim=-1, keepdim=True)
    quat = torch.where(quat[..., :1] < 0, -quat, quat)  # w >= 0: angle in [0, pi]
    sin_half = quat[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, quat[..., :1])
    scale = torch.where(sin_half < 1e-6, 2.0 / quat[..., :1].clamp_min(1e-6), angle / sin_half.clamp_min(1e-12))
    return quat[..., 1:] * scale


def kabsch_rotation(source: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Best rotations ``(B, K, 3, 3)`` with ``R @ (source - mean) ~ target - mean`` for K weighted point groups.

    Args:
        source: ``(V, 3)`` or ``(B, V, 3)`` points.
        target: ``(B, V, 3)`` points.
        weights: ``(V, K)`` non-negative weight of every point in each of the K groups (columns need not sum to 1).
    """
    total = weights.sum(0).clamp_min(1e-12)  # (K,)
    src = source if source.dim() == 3 else source[None]
    src_mean = torch.einsum('vk,bvc->bkc', weights, src) / total[:, None]
    tgt_mean = torch.einsum('vk,bvc->bkc', weights, target) / total[:, None]
    cov = torch.einsum('vk,bvc,bvd->bkcd', weights, src, target) / total[:, None, None]
    cov = cov - src_mean[..., :, None] * tgt_mean[..., None, :]  # (B, K, 3, 3) = E[(s - ms)(t - mt)^T]
    u, _, vh = torch.linalg.svd(cov)
    det = torch.det(vh.transpose(-1, -2) @ u.transpose(-1, -2))
    fix = torch.ones(det.shape + (3, ), dtype=cov.dtype, device=cov.device)
    fix[..., 2] = torch.sign(det) + (det == 0).to(cov.dtype)
    return vh.transpose(-1, -2) @ torch.diag_embed(fix) @ u.transpose(-1, -2)


def rotation_angle_between(rot_a: torch.Tensor, rot_b: torch.Tensor) -> torch.Tensor:
    """Geodesic angle in radians between rotation matrices ``(..., 3, 3)``."""
    trace = (rot_a.transpose(-1, -2) @ rot_b).diagonal(dim1=-2, dim2=-1).sum(-1)
    return torch.acos(((trace - 1.0) / 2.0).clamp(-1.0, 1.0))
