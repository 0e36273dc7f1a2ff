"""Deterministic generator of the embedded synthetic body: a procedural human mesh in the SMPL file formats.

The real SMPL model cannot be redistributed; this body lets everything (training smoke tests, demos, CI) run without
it. It has the real model's sizes: 6890 / 1723 / 431 vertices on the three mesh levels, 24 joints with SMPL's
kinematic tree, 10 shape directions, 207 (zero) pose blend shapes, and a 17-joint H36M regressor.

Construction: 14 body parts (torso, head, thighs, shins, feet, upper arms, forearms, hands), each a closed capsule
around a bone axis with an elliptic, tapering cross-section. The coarse level (431 vertices) is a ring/segment
tessellation of every capsule; the finer levels are midpoint subdivisions whose new vertices are projected back onto
the analytic capsule surfaces. Each level is padded to its exact vertex count with face-centroid vertices. Coarser
levels keep their vertices as the first ones of the finer level, so ``D`` is a pure vertex selection, and ``U`` holds
the barycentric weights of every new vertex in the coarser triangle it came from (identity rows for kept vertices).
The body stands in a T-pose, about 1.75 m tall, y up, facing +z, its left side at +x (as SMPL).
"""
import hashlib
import io
import json
import os
import pickle
import warnings
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import nnls

from ..fileio import atomic_write_bytes
from ..utils.cache import default_cache_dir
from .joints import H36M_NAMES, SMPL_PARENTS
from .mesh_sampler import save_pickle_free

SYNTHETIC_BODY_VERSION = 'v1'
#: vertex counts of the mesh levels (fine, middle, coarse), as in SMPL
LEVEL_SIZES: Tuple[int, int, int] = (6890, 1723, 431)
NUM_BETAS = 10
NUM_POSE_BLEND = 207
SMPL_FILE_NAME = 'SMPL_NEUTRAL.pkl'
MANIFEST_FILE_NAME = 'manifest.json'  # sizes of the written files
H36M_REGRESSOR_FILE_NAME = 'J_regressor_h36m_synthetic.npy'
MESH_SAMPLER_FILE_NAME = 'mesh_downsampling_synthetic.npz'

#: T-pose joint positions in metres (SMPL joint order, see joints.SMPL_JOINT_NAMES)
TEMPLATE_JOINTS = np.array([
    [0.00, -0.22, 0.02],
    [0.07, -0.31, 0.01],
    [-0.07, -0.31, 0.01],
    [0.00, -0.11, -0.01],
    [0.10, -0.69, 0.01],
    [-0.10, -0.69, 0.01],
    [0.00, 0.02, 0.00],
    [0.09, -1.08, -0.03],
    [-0.09, -1.08, -0.03],
    [0.00, 0.08, 0.01],
    [0.11, -1.14, 0.09],
    [-0.11, -1.14, 0.09],
    [0.00, 0.29, -0.01],
    [0.08, 0.20, -0.01],
    [-0.08, 0.20, -0.01],
    [0.00, 0.38, 0.03],
    [0.19, 0.23, -0.02],
    [-0.19, 0.23, -0.02],
    [0.45, 0.22, -0.04],
    [-0.45, 0.22, -0.04],
    [0.71, 0.22, -0.04],
    [-0.71, 0.22, -0.04],
    [0.80, 0.22, -0.04],
    [-0.80, 0.22, -0.04],
],
                           dtype=np.float64)

# bone segment of each joint (joint -> its child, or a virtual end point for the leaves); used for skinning
_BONE_END = {
    0: 3, 1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 12: 15, 13: 16, 14: 17, 16: 18, 17: 19, 18: 20, 19:
    21, 20: 22, 21: 23
}
_LEAF_ENDS = {
    10: [0.115, -1.15, 0.16], 11: [-0.115, -1.15, 0.16], 15: [0.0, 0.52, 0.03], 22: [0.88, 0.22, -0.04], 23:
    [-0.88, 0.22, -0.04]
}


@dataclass
class _Part:
    """A capsule around the axis ``start -> end`` with elliptic cross-section radii ``r1`` (along n1) / ``r2``."""
    name: str
    start: Tuple[float, float, float]
    end: Tuple[float, float, float]
    cap_start: float
    cap_end: float
    knots: Tuple[float, ...]
    r1: Tuple[float, ...]
    r2: Tuple[float, ...]
    rings: int
    segments: int
    joints: Tuple[int, ...]  # joints whose bones may drive this part's vertices
    softness: float  # skinning blend length in metres

    def __post_init__(self):
        self.a = np.asarray(self.start, dtype=np.float64)
        b = np.asarray(self.end, dtype=np.float64)
        self.length = float(np.linalg.norm(b - self.a))
        self.e = (b - self.a) / self.length
        ref = np.array([0.0, 1.0, 0.0]) if abs(self.e[2]) > 0.9 else np.array([0.0, 0.0, 1.0])
        n2 = np.cross(self.e, ref)
        self.n2 = n2 / np.linalg.norm(n2)
        self.n1 = np.cross(self.n2, self.e)

    def _radii(self, s: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        t = np.clip(s / self.length, 0.0, 1.0)
        r1 = np.interp(t, self.knots, self.r1)
        r2 = np.interp(t, self.knots, self.r2)
        into_cap = np.where(s < 0, -s / self.cap_start, np.where(s > self.length, (s - self.length) / self.cap_end, 0))
        shape = np.sqrt(np.clip(1.0 - into_cap**2, 0.0, 1.0))
        return r1 * shape, r2 * shape

    def surface(self, s: np.ndarray, phi: np.ndarray) -> np.ndarray:
        r1, r2 = self._radii(s)
        return (self.a + s[:, None] * self.e + (r1 * np.cos(phi))[:, None] * self.n1 +
                (r2 * np.sin(phi))[:, None] * self.n2)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Move points onto the capsule surface along the radial direction of the axis."""
        rel = points - self.a
        s = np.clip(rel @ self.e, -self.cap_start, self.length + self.cap_end)
        r1, r2 = self._radii(np.clip(s, 0.0, self.length))
        phi = np.arctan2((rel @ self.n2) / r2, (rel @ self.n1) / r1)
        return self.surface(s, phi)

    def ring_positions(self) -> np.ndarray:
        """Axial positions of the ``rings`` coarse rings: evenly spaced between the two poles."""
        total = self.cap_start + self.length + self.cap_end
        return -self.cap_start + total * np.arange(1, self.rings + 1) / (self.rings + 1)

    def tessellate(self) -> Tuple[np.ndarray, np.ndarray]:
        """Coarse closed mesh: pole, ``rings x segments`` grid, pole; faces oriented outwards."""
        ring_s = self.ring_positions()
        phi = 2 * np.pi * np.arange(self.segments) / self.segments
        s_grid, phi_grid = np.meshgrid(ring_s, phi, indexing='ij')
        ring_points = self.surface(s_grid.ravel(), phi_grid.ravel())
        poles = self.surface(np.array([-self.cap_start, self.length + self.cap_end]), np.zeros(2))
        verts = np.concatenate([poles[:1], ring_points, poles[1:]])
        last = len(verts) - 1

        def ring(i: int, j: np.ndarray) -> np.ndarray:
            return 1 + i * self.segments + j % self.segments

        j = np.arange(self.segments)
        faces = [np.stack([np.zeros_like(j), ring(0, j + 1), ring(0, j)], 1)]
        for i in range(self.rings - 1):
            faces.append(np.stack([ring(i, j), ring(i, j + 1), ring(i + 1, j + 1)], 1))
            faces.append(np.stack([ring(i, j), ring(i + 1, j + 1), ring(i + 1, j)], 1))
        faces.append(np.stack([np.full_like(j, last), ring(self.rings - 1, j), ring(self.rings - 1, j + 1)], 1))
        faces = np.concatenate(faces).astype(np.int64)
        centred = verts - verts.mean(0)
        volume = np.einsum('ij,ij->i', centred[faces[:, 0]], np.cross(centred[faces[:, 1]], centred[faces[:, 2]]))
        if volume.sum() < 0:
            faces = faces[:, ::-1].copy()
        return verts, faces


def _mirror(part: _Part, name: str, joints: Tuple[int, ...]) -> _Part:
    flip = np.array([-1.0, 1.0, 1.0])
    return _Part(name, tuple(np.asarray(part.start) * flip), tuple(np.asarray(part.end) * flip), part.cap_start,
                 part.cap_end, part.knots, part.r1, part.r2, part.rings, part.segments, joints, part.softness)


def _body_parts() -> List[_Part]:
    torso = _Part('torso', (0, -0.33, 0.01), (0, 0.22, -0.01), 0.07, 0.10, (0, 0.2, 0.45, 0.7, 0.9, 1.0),
                  (0.10, 0.10, 0.095, 0.11, 0.10, 0.08), (0.16, 0.155, 0.135, 0.16, 0.18, 0.17), 8, 10,
                  (0, 3, 6, 9, 12, 13, 14, 1, 2), 0.035)
    head = _Part('head', (0, 0.24, -0.01), (0, 0.49, 0.02), 0.03, 0.07, (0, 0.3, 0.5, 0.75, 1.0),
                 (0.05, 0.055, 0.09, 0.10, 0.085), (0.055, 0.06, 0.08, 0.085, 0.075), 5, 8, (9, 12, 15), 0.03)
    left = [
        _Part('left_thigh', (0.075, -0.27, 0.01), (0.10, -0.69, 0.01), 0.04, 0.04, (0, 0.5, 1), (0.085, 0.07, 0.055),
              (0.08, 0.065, 0.05), 4, 8, (0, 1, 4), 0.015),
        _Part('left_shin', (0.10, -0.69, 0.01), (0.09, -1.08, -0.03), 0.035, 0.03, (0, 0.3, 1), (0.055, 0.05, 0.04),
              (0.05, 0.045, 0.035), 3, 8, (1, 4, 7), 0.015),
        _Part('left_foot', (0.09, -1.13, -0.07), (0.115, -1.15, 0.13), 0.025, 0.03, (0, 0.4, 1), (0.045, 0.035, 0.02),
              (0.04, 0.045, 0.045), 3, 6, (4, 7, 10), 0.012),
        _Part('left_upper_arm', (0.17, 0.23, -0.02), (0.45, 0.22, -0.04), 0.04, 0.035, (0, 0.5, 1), (0.05, 0.045, 0.04),
              (0.05, 0.042, 0.037), 3, 8, (13, 16, 18), 0.015),
        _Part('left_forearm', (0.45, 0.22, -0.04), (0.71, 0.22, -0.04), 0.035, 0.025, (0, 0.5, 1),
              (0.042, 0.038, 0.028), (0.038, 0.032, 0.022), 3, 8, (16, 18, 20), 0.015),
        _Part('left_hand', (0.71, 0.22, -0.04), (0.86, 0.22, -0.04), 0.02, 0.025, (0, 0.4, 1), (0.035, 0.045, 0.04),
              (0.018, 0.02, 0.012), 2, 6, (18, 20, 22), 0.012),
    ]
    right_joints = {1: 2, 4: 5, 7: 8, 10: 11, 13: 14, 16: 17, 18: 19, 20: 21, 22: 23, 0: 0}
    right = [_mirror(p, p.name.replace('left', 'right'), tuple(right_joints[j] for j in p.joints)) for p in left]
    return [torso, head] + left + right


# ---------------------------------------------------------------------------------------------------- mesh levels
def _project(parts: Sequence[_Part], part_of_vertex: np.ndarray, points: np.ndarray) -> np.ndarray:
    out = points.copy()
    for index, part in enumerate(parts):
        rows = np.nonzero(part_of_vertex == index)[0]
        if len(rows):
            out[rows] = part.project(points[rows])
    return out


def _face_areas(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    return 0.5 * np.linalg.norm(
        np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]]), axis=1)


def _spread_largest_faces(verts: np.ndarray, faces: np.ndarray, count: int) -> np.ndarray:
    """Indices (sorted) of ``count`` large faces, preferring faces that share no vertex (keeps vertex degrees low)."""
    order = np.argsort(-_face_areas(verts, faces), kind='stable')
    used = np.zeros(len(verts), dtype=bool)
    chosen: List[int] = []
    for face in order:
        if len(chosen) == count:
            break
        if not used[faces[face]].any():
            chosen.append(int(face))
            used[faces[face]] = True
    if len(chosen) < count:
        rest = [int(f) for f in order if int(f) not in set(chosen)]
        chosen += rest[:count - len(chosen)]
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _insert_centroids(verts, faces, part_of_vertex, face_parent, count, parts):
    """Split the ``count`` largest faces at their (projected) centroids; returns the updated arrays and source faces."""
    if count < 0 or count > len(faces):
        raise RuntimeError(f'cannot pad the mesh with {count} centroid vertices')
    chosen = _spread_largest_faces(verts, faces, count)
    tri = faces[chosen]
    new_parts = part_of_vertex[tri[:, 0]]
    new_verts = _project(parts, new_parts, verts[tri].mean(1))
    new_ids = len(verts) + np.arange(count)
    faces = faces.copy()
    faces[chosen] = np.stack([tri[:, 0], tri[:, 1], new_ids], 1)
    extra = np.concatenate([np.stack([tri[:, 1], tri[:, 2], new_ids], 1), np.stack([tri[:, 2], tri[:, 0], new_ids], 1)])
    faces = np.concatenate([faces, extra])
    new_source = face_parent[chosen] if face_parent is not None else None
    face_parent = None if face_parent is None else np.concatenate(
        [face_parent, face_parent[chosen], face_parent[chosen]])
    return (np.concatenate([verts, new_verts]), faces, np.concatenate([part_of_vertex,
                                                                       new_parts]), face_parent, new_source)


def _subdivide(verts, faces, part_of_vertex, parts):
    """Midpoint subdivision (each face -> 4), new vertices projected onto their part surface."""
    edges = np.sort(np.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], 1).reshape(-1, 2), axis=1)
    unique, first, inverse = np.unique(edges, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1, 3) + len(verts)
    new_parts = part_of_vertex[unique[:, 0]]
    midpoints = _project(parts, new_parts, 0.5 * (verts[unique[:, 0]] + verts[unique[:, 1]]))
    a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
    ab, bc, ca = inverse[:, 0], inverse[:, 1], inverse[:, 2]
    sub = np.stack(
        [np.stack([a, ab, ca], 1),
         np.stack([b, bc, ab], 1),
         np.stack([c, ca, bc], 1),
         np.stack([ab, bc, ca], 1)], 1).reshape(-1, 3)
    parent = np.repeat(np.arange(len(faces)), 4)
    source = first // 3  # coarse face containing each new edge
    return (np.concatenate([verts, midpoints]), sub, np.concatenate([part_of_vertex, new_parts]), parent, source)


def _barycentric(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Barycentric weights (M, 3) of the points' projections into the planes of the triangles (M, 3, 3)."""
    e1, e2, d = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], points - tri[:, 0]
    g11, g12, g22 = (e1 * e1).sum(1), (e1 * e2).sum(1), (e2 * e2).sum(1)
    r1, r2 = (e1 * d).sum(1), (e2 * d).sum(1)
    det = g11 * g22 - g12 * g12
    w1 = (g22 * r1 - g12 * r2) / det
    w2 = (g11 * r2 - g12 * r1) / det
    return np.stack([1 - w1 - w2, w1, w2], 1)


def _adjacency(faces: np.ndarray, num: int) -> sp.csc_matrix:
    """Symmetric vertex adjacency; each value counts the faces sharing the edge (2.0 on a closed mesh)."""
    rows = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2], faces[:, 1], faces[:, 2], faces[:, 0]])
    cols = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0], faces[:, 0], faces[:, 1], faces[:, 2]])
    matrix = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(num, num)).tocsc()
    matrix.sum_duplicates()
    return matrix


def _refine(coarse_verts, coarse_faces, coarse_parts, parts, target):
    """Next finer level with exactly ``target`` vertices; returns verts, faces, parts and U (target x N_coarse)."""
    n_coarse = len(coarse_verts)
    verts, faces, part_of_vertex, parent, source = _subdivide(coarse_verts, coarse_faces, coarse_parts, parts)
    verts, faces, part_of_vertex, parent, centroid_source = _insert_centroids(verts, faces, part_of_vertex, parent,
                                                                              target - len(verts), parts)
    source = np.concatenate([source, centroid_source])
    tri_index = coarse_faces[source]
    weights = _barycentric(verts[n_coarse:], coarse_verts[tri_index])
    rows = np.concatenate([np.arange(n_coarse), np.repeat(np.arange(n_coarse, target), 3)])
    cols = np.concatenate([np.arange(n_coarse), tri_index.ravel()])
    data = np.concatenate([np.ones(n_coarse), weights.ravel()])
    up = sp.csc_matrix((data, (rows, cols)), shape=(target, n_coarse))
    return verts, faces, part_of_vertex, up


def _selection(n_coarse: int, n_fine: int) -> sp.csc_matrix:
    return sp.csc_matrix((np.ones(n_coarse), (np.arange(n_coarse), np.arange(n_coarse))), shape=(n_coarse, n_fine))


# ---------------------------------------------------------------------------------------------------- body model
def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    axis = end - start
    t = np.clip(((points - start) @ axis) / max(float(axis @ axis), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points - (start + t[:, None] * axis), axis=1)


def _bone(joint: int) -> Tuple[np.ndarray, np.ndarray]:
    end = TEMPLATE_JOINTS[_BONE_END[joint]] if joint in _BONE_END else np.asarray(_LEAF_ENDS[joint])
    return TEMPLATE_JOINTS[joint], end


def _skinning_weights(verts: np.ndarray, part_of_vertex: np.ndarray, parts: Sequence[_Part]) -> np.ndarray:
    """Soft assignment of each vertex to the bones allowed for its part, blending near the joints."""
    weights = np.zeros((len(verts), len(TEMPLATE_JOINTS)))
    for index, part in enumerate(parts):
        rows = np.nonzero(part_of_vertex == index)[0]
        dist = np.stack([_segment_distance(verts[rows], *_bone(j)) for j in part.joints], 1)
        logits = -(dist - dist.min(1, keepdims=True)) / part.softness
        w = np.exp(logits)
        w[w < 1e-3 * w.max(1, keepdims=True)] = 0.0
        weights[rows[:, None], np.asarray(part.joints)[None, :]] = w / w.sum(1, keepdims=True)
    return weights


def _fit_regressor(verts: np.ndarray, targets: np.ndarray, max_neighbours: int = 400) -> np.ndarray:
    """Rows of non-negative weights (summing to 1) on nearby vertices whose weighted mean is close to each target.

    Candidates are the vertices within ``2.5 * nearest + 2 cm`` of the target (so an interior joint sees the surface
    all around it), at most ``max_neighbours`` of them.
    """
    regressor = np.zeros((len(targets), len(verts)))
    for row, target in enumerate(targets):
        dist = np.linalg.norm(verts - target, axis=1)
        order = np.argsort(dist, kind='stable')
        limit = 2.5 * dist[order[0]] + 0.02
        near = order[:max(8, min(max_neighbours, int(np.searchsorted(dist[order], limit))))]
        scale = dist[near].max()
        system = np.concatenate([verts[near].T, 0.005 * np.diag(dist[near] / scale), 10.0 * np.ones((1, len(near)))])
        rhs = np.concatenate([target, np.zeros(len(near)), [10.0]])
        w, _ = nnls(system, rhs)
        regressor[row, near] = w / w.sum()
    return regressor


def _shape_directions(verts: np.ndarray, part_of_vertex: np.ndarray, parts: Sequence[_Part]) -> np.ndarray:
    """10 smooth, distinct shape directions (6890, 3, 10), roughly one standard deviation of variation each."""
    x, y, z = verts[:, 0], verts[:, 1], verts[:, 2]
    names = [p.name for p in parts]
    is_torso = part_of_vertex == names.index('torso')
    is_head = part_of_vertex == names.index('head')
    limb = ~(is_torso | is_head)
    radial = np.zeros_like(verts)
    for index, part in enumerate(parts):
        rows = part_of_vertex == index
        rel = verts[rows] - part.a
        off = rel - np.outer(rel @ part.e, part.e)
        radial[rows] = off / np.maximum(np.linalg.norm(off, axis=1, keepdims=True), 1e-9)

    def smoothstep(v, lo, hi):
        t = np.clip((v - lo) / (hi - lo), 0.0, 1.0)
        return t * t * (3 - 2 * t)

    hip_y, pelvis_y, neck_y, shoulder_x = -0.31, TEMPLATE_JOINTS[0, 1], TEMPLATE_JOINTS[12, 1], 0.19
    dirs = np.zeros((len(verts), 3, NUM_BETAS))
    dirs[:, :, 0] = 0.04 * (verts - TEMPLATE_JOINTS[0])  # overall size
    dirs[:, :, 1] = 0.015 * radial * np.where(is_torso, 1.5, np.where(is_head, 0.3, 1.0))[:, None]  # girth
    dirs[:, 1, 2] = 0.06 * np.minimum(y - hip_y, 0.0) / 0.85  # leg length
    dirs[:, 1, 3] = 0.05 * np.clip((y - pelvis_y) / (neck_y - pelvis_y), 0.0, 1.0)  # torso length
    dirs[:, 0, 4] = 0.03 * np.sign(x) * np.minimum(np.abs(x) / shoulder_x, 1.0) * smoothstep(y, -0.05, 0.15)
    dirs[:, 0, 5] = 0.05 * np.sign(x) * np.maximum(np.abs(x) - shoulder_x, 0.0) / 0.6 * (y > 0)  # arm length
    dirs[:, 0, 6] = 0.025 * x / 0.16 * (1.0 - smoothstep(y, -0.25, 0.0))  # hip width
    belly = np.exp(-((y + 0.08) / 0.12)**2) * np.clip(z / 0.1, 0.0, None) * is_torso
    dirs[:, 2, 7] = 0.04 * belly  # belly
    dirs[:, :, 8] = 0.1 * (verts - np.array([0.0, 0.43, 0.02])) * is_head[:, None]  # head size
    dirs[:, :, 9] = 0.01 * radial * limb[:, None]  # limb thickness
    return dirs


def generate_synthetic_body() -> Dict[str, object]:
    """Build the synthetic body in memory.

    Returns:
        dict with ``smpl`` (the SMPL pickle dict: v_template, shapedirs, posedirs, J_regressor, weights,
        kintree_table, f, J, bs_style, bs_type), ``h36m_regressor`` (17, 6890), ``sampler`` (dict with ``down``,
        ``up``, ``adjacencies``, ``faces`` lists, level 0 = 6890 vertices) and ``part_of_vertex`` (6890,) part ids
        with ``part_names``.
    """
    parts = _body_parts()
    pieces = [part.tessellate() for part in parts]
    offsets = np.cumsum([0] + [len(v) for v, _ in pieces])
    verts = np.concatenate([v for v, _ in pieces])
    faces = np.concatenate([f + offsets[i] for i, (_, f) in enumerate(pieces)])
    part_of_vertex = np.concatenate([np.full(len(v), i) for i, (v, _) in enumerate(pieces)])
    verts, faces, part_of_vertex, _, _ = _insert_centroids(verts, faces, part_of_vertex, None,
                                                           LEVEL_SIZES[2] - len(verts), parts)
    levels = {2: (verts, faces)}
    ups = {}
    for level in (1, 0):
        verts, faces, part_of_vertex, ups[level] = _refine(verts, faces, part_of_vertex, parts, LEVEL_SIZES[level])
        levels[level] = (verts, faces)
    template, fine_faces = levels[0]

    weights = _skinning_weights(template, part_of_vertex, parts)
    j_regressor = _fit_regressor(template, TEMPLATE_JOINTS)
    nose = parts[1].project(np.array([[0.0, 0.43, 0.5]]))[0]
    h36m_targets = {
        'Pelvis': TEMPLATE_JOINTS[0], 'R_Hip': TEMPLATE_JOINTS[2], 'R_Knee': TEMPLATE_JOINTS[5], 'R_Ankle':
        TEMPLATE_JOINTS[8], 'L_Hip': TEMPLATE_JOINTS[1], 'L_Knee': TEMPLATE_JOINTS[4], 'L_Ankle': TEMPLATE_JOINTS[7],
        'Torso': np.array([0.0, 0.02,
                           0.0]), 'Neck': np.array([0.0, 0.27,
                                                    -0.01]), 'Nose': nose, 'Head': np.array([0.0, 0.50, 0.03]),
        'L_Shoulder': TEMPLATE_JOINTS[16], 'L_Elbow': TEMPLATE_JOINTS[18], 'L_Wrist': TEMPLATE_JOINTS[20], 'R_Shoulder':
        TEMPLATE_JOINTS[17], 'R_Elbow': TEMPLATE_JOINTS[19], 'R_Wrist': TEMPLATE_JOINTS[21]
    }
    h36m_regressor = _fit_regressor(template, np.stack([h36m_targets[name] for name in H36M_NAMES]))

    kintree = np.stack([np.asarray(SMPL_PARENTS, dtype=np.int64), np.arange(24, dtype=np.int64)])
    kintree[0, 0] = 4294967295
    smpl = dict(v_template=template,
                shapedirs=_shape_directions(template, part_of_vertex, parts),
                posedirs=np.zeros((len(template), 3, NUM_POSE_BLEND)),
                J_regressor=j_regressor,
                weights=weights,
                kintree_table=kintree,
                f=fine_faces.astype(np.uint32),
                J=j_regressor @ template,
                bs_style='lbs',
                bs_type='lrotmin')
    sampler = dict(down=[_selection(LEVEL_SIZES[1], LEVEL_SIZES[0]),
                         _selection(LEVEL_SIZES[2], LEVEL_SIZES[1])],
                   up=[ups[0], ups[1]],
                   adjacencies=[_adjacency(levels[i][1], LEVEL_SIZES[i]) for i in range(3)],
                   faces=[levels[i][1].astype(np.int64) for i in range(3)])
    return dict(smpl=smpl,
                h36m_regressor=h36m_regressor,
                sampler=sampler,
                part_of_vertex=part_of_vertex,
                part_names=[p.name for p in parts])


# ---------------------------------------------------------------------------------------------------- files
def write_synthetic_body(folder: str, body: Optional[Dict[str, object]] = None) -> Dict[str, str]:
    """Write the synthetic body files into ``folder`` (atomic writes) and return their paths."""
    body = generate_synthetic_body() if body is None else body
    paths = dict(model_path=os.path.join(folder, SMPL_FILE_NAME),
                 h36m_regressor_path=os.path.join(folder, H36M_REGRESSOR_FILE_NAME),
                 mesh_sampler_path=os.path.join(folder, MESH_SAMPLER_FILE_NAME))
    smpl_bytes = pickle.dumps(body['smpl'], protocol=2)
    atomic_write_bytes(paths['model_path'], smpl_bytes)
    buffer = io.BytesIO()
    np.save(buffer, body['h36m_regressor'], allow_pickle=False)
    atomic_write_bytes(paths['h36m_regressor_path'], buffer.getvalue())
    sampler = body['sampler']
    save_pickle_free(paths['mesh_sampler_path'], sampler['down'], sampler['up'], sampler['adjacencies'],
                     sampler['faces'])
    sizes = {os.path.basename(p): os.path.getsize(p) for p in paths.values()}
    atomic_write_bytes(os.path.join(folder, MANIFEST_FILE_NAME), json.dumps(sizes, sort_keys=True).encode())
    return paths


def _cache_is_complete(folder: str, paths: Dict[str, str]) -> bool:
    """True when every cached file exists with the size recorded when it was written (catches truncated files)."""
    try:
        with open(os.path.join(folder, MANIFEST_FILE_NAME)) as f:
            sizes = json.load(f)
        return all(os.path.getsize(p) == sizes[os.path.basename(p)] for p in paths.values())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _source_tag() -> str:
    """Short hash of this generator's source, so a changed generator never reuses stale cached files."""
    with open(__file__, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()[:8]


def default_body_files(cache_dir: Optional[str] = None) -> Dict[str, str]:
    """Paths of the embedded body files (``model_path``, ``h36m_regressor_path``, ``mesh_sampler_path``).

    Generated once into ``<cache_dir>/synthetic_body_<version>_<source hash>``; safe when several processes generate
    at the same time (identical content, atomic replace). Files whose size differs from the one recorded in the
    folder's ``manifest.json`` (truncated, e.g. by a full disk) are regenerated.
    """
    folder = os.path.join(cache_dir or default_cache_dir(), f'synthetic_body_{SYNTHETIC_BODY_VERSION}_{_source_tag()}')
    paths = dict(model_path=os.path.join(folder, SMPL_FILE_NAME),
                 h36m_regressor_path=os.path.join(folder, H36M_REGRESSOR_FILE_NAME),
                 mesh_sampler_path=os.path.join(folder, MESH_SAMPLER_FILE_NAME))
    if _cache_is_complete(folder, paths):
        return paths
    if any(os.path.isfile(p) for p in paths.values()):
        warnings.warn(f'embedded body cache {folder} is incomplete or truncated; regenerating it')
    return write_synthetic_body(folder)
