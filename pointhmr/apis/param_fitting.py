"""Mesh-model parameters (SMPL / MANO style: global orientation, pose, shape, translation) from predicted vertices.

PointHMR predicts vertices, not parameters. :func:`fit_body_params` recovers the parameters of the mesh model that
reproduce given vertices, batched over people:

1. initialisation: every kinematic joint's world rotation is the Kabsch (least-squares) rotation of the model's rest
   mesh part skinned mainly to that joint onto the same part of the target mesh; local rotations follow from the
   kinematic tree (``R_local = R_parent^T R_world``); the translation aligns the root part;
   with the rotations fixed, the mesh is affine in betas and translation, so these follow from an exact ridge
   regression;
2. refinement: a few Levenberg-Marquardt (damped Gauss-Newton) steps on the mean squared vertex distance over all
   joint rotations, betas and translation, with weak priors (squared betas, squared axis-angle of every non-root
   joint) that keep noisy meshes plausible. The normal equations come in closed form from skinning-weighted vertex
   moments, so a step costs about two forward passes of the model.

Works with any mesh model that follows the project's mesh-model interface (``forward(pose, betas)`` taking
``(B, J, 3, 3)`` rotation matrices, ``num_betas``, ``num_vertices``) and exposes its linear blend skinning data
(``J_regressor``, ``parents``, ``lbs_weights``; directly or on an smplx layer inside it).
"""
import weakref
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from pointhmr.utils.rotation import axis_angle_to_matrix, kabsch_rotation, matrix_to_axis_angle

#: unit of the data term: squared distances are divided by this (1 cm), so prior weights read as "per cm^2"
_LOSS_UNIT = 0.01


def _skinning_data(mesh_model: nn.Module) -> Tuple[torch.Tensor, List[int], torch.Tensor]:
    """(joint regressor (J, V), parents, skinning weights (V, J)) of ``mesh_model``."""
    for module in (mesh_model, *mesh_model.modules()):
        regressor = getattr(module, 'J_regressor', None)
        parents = getattr(module, 'parents', None)
        weights = getattr(module, 'lbs_weights', None)
        if isinstance(regressor, torch.Tensor) and parents is not None and isinstance(weights, torch.Tensor):
            parents = [int(p) for p in torch.as_tensor(parents).reshape(-1).tolist()]
            parents[0] = -1
            return regressor.float(), parents, weights.float()
    raise TypeError(f'{type(mesh_model).__name__} exposes no skinning data (J_regressor, parents, lbs_weights), '
                    'which parameter fitting needs; use a linear-blend-skinning mesh model such as SMPLBodyModel')


def pose_offset_of(mesh_model: nn.Module, num_joints: int) -> torch.Tensor:
    """``(J, 3)`` axis-angle the model adds to axis-angle pose inputs (MANO's mean hand ``pose_mean`` unless
    ``flat_hand_mean``; zeros for SMPL). Fitted rotations R are returned as ``axis_angle(R) - offset``."""
    for module in (mesh_model, *mesh_model.modules()):
        offset = getattr(module, 'pose_mean', None)
        if isinstance(offset, torch.Tensor) and offset.numel() == 3 * num_joints:
            return offset.detach().float().reshape(num_joints, 3)
    return torch.zeros(num_joints, 3)


def model_type_of(mesh_model: nn.Module) -> str:
    """'smpl', 'mano', ... (the mesh model's ``model_type``; 'smpl' for models that predate the attribute)."""
    return str(getattr(mesh_model, 'model_type', 'smpl'))


def pose_key_of(mesh_model: nn.Module) -> str:
    """Name of the non-root pose parameters in exports: 'hand_pose' for MANO, 'body_pose' otherwise."""
    return 'hand_pose' if model_type_of(mesh_model) == 'mano' else 'body_pose'


def _check_vertices(vertices: Union[torch.Tensor, np.ndarray], num_vertices: int) -> torch.Tensor:
    vertices = torch.as_tensor(vertices)
    if vertices.dim() == 2:
        vertices = vertices[None]
    if vertices.dim() != 3 or vertices.shape[1:] != (num_vertices, 3):
        raise ValueError(f'vertices must be (B, {num_vertices}, 3) (or one ({num_vertices}, 3) mesh) in metres, got '
                         f'{tuple(vertices.shape)}')
    if not vertices.is_floating_point():
        raise ValueError(f'vertices must be floating point, got {vertices.dtype}')
    finite = torch.isfinite(vertices).flatten(1).all(1)
    if not bool(finite.all()):
        bad = torch.nonzero(~finite).flatten().tolist()
        raise ValueError(f'vertices of person(s) {bad} contain NaN or inf; cannot fit parameters to them. Drop those '
                         'people (e.g. results[i] for i with np.isfinite(vertices[i]).all()) before fitting')
    return vertices


@torch.no_grad()
def initial_rotations(vertices: torch.Tensor,
                      mesh_model: nn.Module,
                      betas: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Initial local joint rotations ``(B, J, 3, 3)`` and translation ``(B, 3)`` from per-part Kabsch fits of the
    rest mesh of ``betas`` (B, K) (None = mean shape) onto ``vertices`` (B, V, 3)."""
    regressor, parents, weights = _skinning_data(mesh_model)
    num, num_joints = len(vertices), len(parents)
    dtype, device = vertices.dtype, vertices.device
    if betas is None:
        betas = torch.zeros(num, mesh_model.num_betas, dtype=dtype, device=device)
    identity = torch.eye(3, dtype=dtype, device=device).expand(num, num_joints, 3, 3)
    rest = mesh_model(identity, betas)  # (B, V, 3)
    weights = weights.to(device=device, dtype=dtype)
    # a vertex belongs to the part of its strongest joint; joints without a part take their parent's rotation
    labels = weights.argmax(1)
    parts = torch.nn.functional.one_hot(labels, num_joints).to(dtype)
    world = kabsch_rotation(rest, vertices, parts)  # (B, J, 3, 3)
    counts = parts.sum(0)
    local = torch.empty_like(world)
    for joint, parent in enumerate(parents):
        if counts[joint] < 3 and parent >= 0:
            world[:, joint] = world[:, parent]
        local[:, joint] = world[:, joint] if parent < 0 else world[:, parent].transpose(-1, -2) @ world[:, joint]
    # root: v = R0 (rest - j0) + j0 + transl, so transl aligns the root part's centroids
    root_joint = torch.einsum('v,bvc->bc', regressor.to(device=device, dtype=dtype)[0], rest)
    root_part = parts[:, 0] / counts[0].clamp_min(1)
    rest_centroid = torch.einsum('v,bvc->bc', root_part, rest)
    target_centroid = torch.einsum('v,bvc->bc', root_part, vertices)
    transl = target_centroid - (world[:, 0] @ (rest_centroid - root_joint)[..., None])[..., 0] - root_joint
    return local, transl


def fit_body_params(vertices: Union[torch.Tensor, np.ndarray],
                    mesh_model: nn.Module,
                    num_iters: int = 5,
                    betas_weight: float = 1e-3,
                    pose_weight: float = 1e-3,
                    batch_size: Optional[int] = 64) -> Dict[str, torch.Tensor]:
    """Fit global orientation, pose, betas and translation of ``mesh_model`` to ``vertices``.

    Args:
        vertices: ``(B, V, 3)`` (or ``(V, 3)``) meshes in metres, in the mesh model's vertex order (e.g. PointHMR's
            pelvis-centred predictions); NaN / inf raise a ValueError naming the people.
        mesh_model: e.g. :class:`pointhmr.body.SMPLBodyModel` (real or synthetic SMPL files) or a MANO hand model.
        num_iters: Levenberg-Marquardt iterations after the initialisation (0 = initialisation only).
        betas_weight / pose_weight: prior weights on squared betas and on the squared axis-angle of every non-root
            joint, relative to the mean squared vertex error in cm^2.
        batch_size: people fitted together (memory bound); None = all at once.

    Returns:
        dict of float32 tensors on the vertices' device: ``global_orient`` (B, 3) and ``body_pose`` (B, 3 (J - 1))
        axis-angle in the model's own convention (``mesh_model(cat([global_orient, body_pose]), betas)`` gives the
        mesh; for MANO ``body_pose`` holds the 15 finger joints relative to the mean hand), ``betas``
        (B, num_betas), ``transl`` (B, 3), the fitted ``vertices`` (B, V, 3) (the model's mesh of these parameters
        plus ``transl``) and ``vertex_error`` (B,) mean vertex distance in mm.
    """
    vertices = _check_vertices(vertices, int(mesh_model.num_vertices))
    if num_iters < 0:
        raise ValueError(f'num_iters must be >= 0, got {num_iters}')
    step = len(vertices) if not batch_size else int(batch_size)
    buffer = next(mesh_model.buffers(), None)
    device = vertices.device if buffer is None else buffer.device  # fit where the model lives
    chunks = [
        _fit_chunk(vertices[i:i + step].to(device=device, dtype=torch.float32), mesh_model, num_iters, betas_weight,
                   pose_weight) for i in range(0, len(vertices), max(step, 1))
    ]
    if not chunks:
        return _empty_result(mesh_model, vertices)
    return {key: torch.cat([chunk[key] for chunk in chunks]).to(vertices.device) for key in chunks[0]}


def _empty_result(mesh_model: nn.Module, vertices: torch.Tensor) -> Dict[str, torch.Tensor]:
    _, parents, _ = _skinning_data(mesh_model)
    zeros = dict(global_orient=3, body_pose=3 * (len(parents) - 1), betas=int(mesh_model.num_betas), transl=3)
    out = {key: vertices.new_zeros((0, size)) for key, size in zeros.items()}
    out['vertices'] = vertices.new_zeros((0, ) + tuple(vertices.shape[1:]))
    out['vertex_error'] = vertices.new_zeros((0, ))
    return out


@torch.no_grad()
def solve_betas_transl(target: torch.Tensor, rotations: torch.Tensor, mesh_model: nn.Module,
                       betas_weight: float) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Exact least-squares betas ``(B, K)`` and translation ``(B, 3)`` for fixed joint rotations ``(B, J, 3, 3)``,
    and the betas directions ``(B, K, V, 3)`` (vertex change per unit of each beta) at these rotations.

    With the rotations fixed, linear blend skinning is affine in the betas (joint locations, shaped template and the
    skinned vertices all depend linearly on them), so the vertex error plus the betas prior is a small ridge
    regression per person, built from K + 1 forward passes.
    """
    num, num_betas = len(target), int(mesh_model.num_betas)
    basis = torch.cat([target.new_zeros(1, num_betas), torch.eye(num_betas, dtype=target.dtype, device=target.device)])
    meshes = mesh_model(rotations.repeat_interleave(num_betas + 1, 0), basis.repeat(num, 1))
    meshes = meshes.reshape(num, num_betas + 1, -1, 3)
    base, dirs = meshes[:, 0], meshes[:, 1:] - meshes[:, :1]  # (B, V, 3), (B, K, V, 3)
    num_vertices = base.shape[1]
    # unknowns x = (betas, transl); residual = base + dirs^T betas + transl - target, mean over vertices in cm^2
    transl_columns = torch.eye(3, dtype=target.dtype, device=target.device).repeat(1, num_vertices)
    columns = torch.cat([dirs.flatten(2), transl_columns[None].expand(num, 3, -1)], dim=1)  # (B, K + 3, 3V)
    rhs = (target - base).flatten(1)  # (B, 3V)
    scale = 1.0 / (num_vertices * _LOSS_UNIT**2)
    normal = scale * columns @ columns.transpose(1, 2)
    normal[:, range(num_betas), range(num_betas)] += betas_weight
    solution = torch.linalg.solve(normal, scale * (columns @ rhs[..., None]))[..., 0]
    return solution[:, :num_betas], solution[:, num_betas:], dirs


def _subtree_weights(parents: List[int], weights: torch.Tensor) -> torch.Tensor:
    """``(V, J)``: skinning weight of every vertex on the subtree (the joint and its descendants) of each joint."""
    num_joints = len(parents)
    subtree = torch.eye(num_joints, dtype=weights.dtype, device=weights.device)
    for joint in range(num_joints - 1, 0, -1):  # parents precede children in the kinematic tree
        subtree[parents[joint]] += subtree[joint]
    return weights @ subtree.T


@dataclass
class _SkinningTerms:
    """Per-mesh-model constants of the normal equations."""
    subtree_t: torch.Tensor  # (J, V) skinning weight of every vertex on each joint's subtree
    pair_index: torch.Tensor  # (U,) flat indices j * J + k of the joint pairs that share skinned vertices
    pair_weights_t: torch.Tensor  # (U, V) s_vj s_vk of these pairs
    pair_total: torch.Tensor  # (J, J) sum_v s_vj s_vk
    rest_joint_basis: torch.Tensor  # (K + 1, J, 3) rest joints of the mean shape and of each unit beta


_TERMS_CACHE: 'weakref.WeakKeyDictionary[nn.Module, _SkinningTerms]' = weakref.WeakKeyDictionary()


@torch.no_grad()
def _skinning_terms(mesh_model: nn.Module) -> _SkinningTerms:
    """The :class:`_SkinningTerms` of ``mesh_model``, computed once (K + 1 forward passes) and cached."""
    cached = _TERMS_CACHE.get(mesh_model)
    if cached is not None:
        return cached
    regressor, parents, weights = _skinning_data(mesh_model)
    num_joints, num_betas = len(parents), int(mesh_model.num_betas)
    subtree = _subtree_weights(parents, weights)  # (V, J)
    pairs = (subtree[:, :, None] * subtree[:, None, :]).reshape(len(subtree), num_joints**2)
    pair_index = torch.nonzero(pairs.amax(0) > 0).flatten()
    # rest-pose joints are linear in the betas
    basis = torch.cat([regressor.new_zeros(1, num_betas), torch.eye(num_betas).to(regressor)])
    rest = mesh_model(torch.eye(3).to(regressor).expand(num_betas + 1, num_joints, 3, 3), basis)
    terms = _SkinningTerms(subtree_t=subtree.T.contiguous(),
                           pair_index=pair_index,
                           pair_weights_t=pairs[:, pair_index].T.contiguous(),
                           pair_total=pairs.sum(0).reshape(num_joints, num_joints),
                           rest_joint_basis=regressor @ rest)
    _TERMS_CACHE[mesh_model] = terms
    return terms


def _world_and_joints(local: torch.Tensor, rest_joints: torch.Tensor, parents: List[int],
                      transl: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Forward kinematics: world rotations ``(B, J, 3, 3)`` and posed joint positions ``(B, J, 3)``."""
    world, joints = [local[:, 0]], [rest_joints[:, 0] + transl]
    for joint in range(1, len(parents)):
        parent = parents[joint]
        world.append(world[parent] @ local[:, joint])
        bone = rest_joints[:, joint] - rest_joints[:, parent]
        joints.append(joints[parent] + (world[parent] @ bone[..., None])[..., 0])
    return torch.stack(world, 1), torch.stack(joints, 1)


def _cross_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """``[a]x`` matrices ``(..., 3, 3)`` of vectors ``(..., 3)``."""
    x, y, z = vectors.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(vectors.shape + (3, ))


def _weighted_sums(weights_t: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``sum_v w_vn x_bv...`` -> ``(B, N, ...)`` for ``weights_t`` ``(N, V)`` and values ``(B, V, ...)``, as one
    plain matrix product (much faster on CPU than a broadcast batched one)."""
    num, num_vertices = values.shape[:2]
    flat = values.reshape(num, num_vertices, -1).transpose(0, 1).reshape(num_vertices, -1)
    return (weights_t @ flat).reshape(weights_t.shape[0], num,
                                      -1).transpose(0, 1).reshape((num, weights_t.shape[0]) + values.shape[2:])


def _normal_equations(mesh: torch.Tensor, residual: torch.Tensor, joints: torch.Tensor, dirs: torch.Tensor,
                      terms: _SkinningTerms) -> Tuple[torch.Tensor, torch.Tensor]:
    """``J^T J`` ``(B, P, P)`` and ``J^T r`` ``(B, P)`` for the parameters (subtree rotations (J, 3), betas (K),
    translation (3)), built from weighted vertex moments instead of the (3V, P) Jacobian.

    Rotation columns: ``d v / d w_j = -s_vj [o_vj]x`` with ``o_vj = v - p_j``; so
    ``(J^T J)_jk = sum_v s_vj s_vk ((o_vj . o_vk) I - o_vk o_vj^T)`` and ``(J^T r)_j = sum_v s_vj o_vj x r_v``.
    """
    num, num_vertices = mesh.shape[:2]
    num_joints, num_betas = terms.subtree_t.shape[0], dirs.shape[1]
    eye3 = torch.eye(3, dtype=mesh.dtype, device=mesh.device)
    # rotation-rotation block from moments of the vertices under the pair weights s_vj s_vk
    m0 = terms.pair_total
    values = torch.cat([mesh, (mesh[..., :, None] * mesh[..., None, :]).flatten(2)], 2)
    moments = mesh.new_zeros(num, num_joints**2, 12)  # pairs without shared vertices stay zero
    moments[:, terms.pair_index] = _weighted_sums(terms.pair_weights_t, values)
    moments = moments.reshape(num, num_joints, num_joints, 12)
    m1, m2 = moments[..., :3], moments[..., 3:].reshape(num, num_joints, num_joints, 3, 3)
    # block (j, k) = tr(Q) I - Q with Q = sum m o_k o_j^T = M2 - M1 p_j^T - p_k M1^T + M0 p_k p_j^T
    p_j, p_k = joints[:, :, None, :], joints[:, None, :, :]  # (B, J, 1, 3): row joint j, (B, 1, J, 3): column k
    outer = (m2 - m1[..., :, None] * p_j[..., None, :] - p_k[..., :, None] * m1[..., None, :] +
             m0[None, :, :, None, None] * p_k[..., :, None] * p_j[..., None, :])
    trace = outer.diagonal(dim1=-2, dim2=-1).sum(-1)
    rot_rot = trace[..., None, None] * eye3 - outer  # (B, J, J, 3, 3)
    rot_rot = rot_rot.permute(0, 1, 3, 2, 4).reshape(num, 3 * num_joints, 3 * num_joints)
    # cross terms with betas (d_vk) and translation (I): (-s [o]x)^T d = s o x d
    dirs_v = dirs.permute(0, 2, 1, 3)  # (B, V, K, 3)
    per_vertex = [
        torch.cross(mesh[:, :, None].expand_as(dirs_v), dirs_v, dim=-1), dirs_v, mesh[:, :, None], residual[:, :, None],
        torch.cross(mesh, residual, dim=-1)[:, :, None]
    ]
    sums = _weighted_sums(terms.subtree_t, torch.cat(per_vertex, 2))  # (B, J, 2K + 3, 3)
    s_v_cross_d, s_d = sums[:, :, :num_betas], sums[:, :, num_betas:2 * num_betas]
    s_v, s_r, s_v_cross_r = sums[:, :, -3], sums[:, :, -2], sums[:, :, -1]
    rot_betas = s_v_cross_d - torch.cross(joints[:, :, None].expand_as(s_d), s_d, dim=-1)  # (B, J, K, 3)
    rot_betas = rot_betas.permute(0, 1, 3, 2).reshape(num, 3 * num_joints, num_betas)
    s_sum = terms.subtree_t.sum(1)  # (J,)
    rot_transl = _cross_matrix(s_v - s_sum[None, :, None] * joints).reshape(num, 3 * num_joints, 3)
    flat_dirs = dirs.flatten(2)  # (B, K, 3V)
    betas_betas = flat_dirs @ flat_dirs.transpose(1, 2)
    betas_transl = dirs.sum(2)  # (B, K, 3)
    transl_transl = num_vertices * eye3.expand(num, 3, 3)
    normal = torch.cat([
        torch.cat([rot_rot, rot_betas, rot_transl], 2),
        torch.cat([rot_betas.transpose(1, 2), betas_betas, betas_transl], 2),
        torch.cat([rot_transl.transpose(1, 2), betas_transl.transpose(1, 2), transl_transl], 2),
    ], 1)
    grad_rot = (s_v_cross_r - torch.cross(joints, s_r, dim=-1)).reshape(num, -1)
    grad_betas = (flat_dirs @ residual.reshape(num, -1, 1))[..., 0]
    grad = torch.cat([grad_rot, grad_betas, residual.sum(1)], 1)
    return normal, grad


@torch.no_grad()
def _fit_chunk(target: torch.Tensor, mesh_model: nn.Module, num_iters: int, betas_weight: float,
               pose_weight: float) -> Dict[str, torch.Tensor]:
    """Initialisation, then damped Gauss-Newton (Levenberg-Marquardt) steps on (joint rotations, betas, translation).

    The Jacobian of a vertex with respect to a rotation ``w`` of joint j's subtree about the posed joint is
    ``-s_vj [v - p_j]x`` (``s_vj`` the vertex's skinning weight on that subtree; exact up to pose blend shapes),
    the betas columns are the exact betas directions of the last linear solve; every residual is the model's exact
    forward pass, so approximations only slow convergence, they do not bias the result.
    """
    _, parents, _ = _skinning_data(mesh_model)
    terms = _skinning_terms(mesh_model)
    num, num_vertices = target.shape[:2]
    num_joints, num_betas = len(parents), int(mesh_model.num_betas)
    local, _ = initial_rotations(target, mesh_model)
    betas, transl, dirs = solve_betas_transl(target, local, mesh_model, betas_weight)
    scale = 1.0 / (_LOSS_UNIT * num_vertices**0.5)  # residuals in cm / sqrt(V): squared sum = mean cm^2
    num_params = 3 * num_joints + num_betas + 3
    diag_prior = torch.zeros(num_params, dtype=target.dtype, device=target.device)
    diag_prior[3:3 * num_joints] = pose_weight
    diag_prior[3 * num_joints:3 * num_joints + num_betas] = betas_weight

    # the pose prior pulls towards the model's neutral pose (its axis-angle offset, e.g. MANO's mean hand)
    offset = pose_offset_of(mesh_model, num_joints).to(target)

    def objective(local, betas, transl):
        mesh = mesh_model(local, betas) + transl[:, None]
        aa = matrix_to_axis_angle(local[:, 1:]) - offset[1:]
        cost = (((mesh - target) * scale)**2).sum((1, 2)) + pose_weight * (aa**2).sum((1, 2)) + \
            betas_weight * (betas**2).sum(1)
        return cost, mesh, aa

    cost, mesh, aa = objective(local, betas, transl)
    basis_joints = terms.rest_joint_basis.to(target)  # (K + 1, J, 3)
    joint_dirs = basis_joints[1:] - basis_joints[:1]
    damping = torch.full((num, ), 1e-3, dtype=target.dtype, device=target.device)
    for _ in range(num_iters):
        rest_joints = basis_joints[0] + torch.einsum('bk,kjc->bjc', betas, joint_dirs)
        world, joints = _world_and_joints(local, rest_joints, parents, transl)
        normal, grad = _normal_equations(mesh, mesh - target, joints, dirs, terms)
        normal, grad = normal * scale**2, grad * scale**2
        # priors: pose ~ w |aa_j|^2 (Jacobian w.r.t. the world-frame w_j ~ R_world_j^T), betas ~ w |betas|^2
        grad[:, 3:3 * num_joints] += pose_weight * (world[:, 1:] @ aa[..., None]).reshape(num, -1)
        grad[:, 3 * num_joints:3 * num_joints + num_betas] += betas_weight * betas
        normal = normal + torch.diag_embed(diag_prior).expand_as(normal)
        diag = normal.diagonal(dim1=-2, dim2=-1)
        step = -torch.linalg.solve(normal + torch.diag_embed(damping[:, None] * diag + 1e-9), grad)
        rot_step = step[:, :3 * num_joints].reshape(num, num_joints, 3, 1)
        new_local = local @ axis_angle_to_matrix((world.transpose(-1, -2) @ rot_step)[..., 0])
        new_betas = betas + step[:, 3 * num_joints:3 * num_joints + num_betas]
        new_transl = transl + step[:, 3 * num_joints + num_betas:]
        new_cost, new_mesh, new_aa = objective(new_local, new_betas, new_transl)
        better = new_cost < cost
        damping = torch.where(better, damping * 0.3, damping * 10.0).clamp(1e-6, 1e6)
        pick = better.to(target.dtype)
        local = torch.where(better[:, None, None, None], new_local, local)
        betas = torch.lerp(betas, new_betas, pick[:, None])
        transl = torch.lerp(transl, new_transl, pick[:, None])
        mesh = torch.where(better[:, None, None], new_mesh, mesh)
        aa = torch.where(better[:, None, None], new_aa, aa)
        cost = torch.minimum(new_cost, cost)
    pose = matrix_to_axis_angle(local) - offset  # (B, J, 3) in the model's axis-angle convention
    error = (mesh - target).norm(dim=-1).mean(-1) * 1000.0
    return dict(global_orient=pose[:, 0].contiguous(),
                body_pose=pose[:, 1:].reshape(num, -1),
                betas=betas,
                transl=transl,
                vertices=mesh,
                vertex_error=error)
