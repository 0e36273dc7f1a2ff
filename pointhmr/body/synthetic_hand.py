"""Deterministic generator of the embedded synthetic hand: a procedural right hand in the MANO file formats.

The MANO model cannot be redistributed; this hand lets the hand variant (training smoke tests, demos, CI) run without
it. It has the real model's sizes: 778 / 195 vertices on the two mesh levels PointHMR uses, MANO's 16-joint kinematic
tree (wrist, then index, middle, pinky, ring and thumb with 3 joints each), 10 shape directions, 135 (zero) pose blend
shapes, 45 x 45 pose components and a relaxed-curl mean pose, and 5 fingertip vertices.

Construction (same machinery as the synthetic body, :mod:`pointhmr.body.synthetic_body`): 6 parts, a flat palm and
5 fingers, each a closed capsule around its axis with an elliptic, tapering cross-section; a finger is one tube through
its 3 segments, bent by skinning. The coarse level (195 vertices) is a ring/segment tessellation of every capsule,
the full level (778) its midpoint subdivision projected back onto the capsules, both padded to their exact vertex
count with face-centroid vertices. The coarse vertices are the first ones of the full mesh, so ``D`` is a pure vertex
selection and ``U`` holds barycentric weights. Every part is a closed surface (each edge shared by exactly 2 faces);
the parts overlap at the knuckles. The fingertip vertices are the outer poles of the finger capsules (present on both
levels).

Frame: metres, wrist joint at the origin, fingers along +x, palm facing -y, thumb side at -z (a right hand).
"""
import hashlib
import os
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..fileio import atomic_write_bytes
from ..utils.cache import default_cache_dir
from . import hand_pose, joints, synthetic_body
from .hand_pose import angles_to_axis_angle, joint_axes
from .joints import FINGERTIP_ORDER, MANO_FINGER_JOINTS, MANO_PARENTS, NUM_MANO_JOINTS
from .mesh_sampler import save_pickle_free
from .synthetic_body import _adjacency, _fit_regressor, _insert_centroids, _Part, _refine, _segment_distance, _selection

SYNTHETIC_HAND_VERSION = 'v1'
#: vertex counts of the mesh levels (full, coarse), as MANO / mano_downsampling.npz
LEVEL_SIZES: Tuple[int, int] = (778, 195)
NUM_BETAS = 10
NUM_POSE_BLEND = 9 * (NUM_MANO_JOINTS - 1)
MANO_FILE_NAME = 'MANO_RIGHT.pkl'
MESH_SAMPLER_FILE_NAME = 'mano_downsampling_synthetic.npz'

#: rest-pose joint positions (MANO joint order, see joints.MANO_JOINT_NAMES), metres
TEMPLATE_JOINTS = np.array(
    [
        [0.000, 0.000, 0.000],  # wrist
        [0.088, 0.002, -0.027],
        [0.127, 0.000, -0.031],
        [0.151, -0.001, -0.033],  # index
        [0.092, 0.002, -0.006],
        [0.136, 0.000, -0.006],
        [0.163, -0.001, -0.006],  # middle
        [0.078, 0.001, 0.031],
        [0.109, 0.000, 0.037],
        [0.128, -0.001, 0.040],  # pinky
        [0.087, 0.002, 0.013],
        [0.128, 0.000, 0.016],
        [0.153, -0.001, 0.018],  # ring
        [0.022, -0.008, -0.026],
        [0.052, -0.014, -0.052],
        [0.076, -0.017, -0.068],  # thumb
    ],
    dtype=np.float64)
#: fingertip positions (FINGERTIP_ORDER: thumb, index, middle, ring, pinky)
TEMPLATE_TIPS = np.array([[0.098, -0.019, -0.080], [0.172, -0.002, -0.035], [0.186, -0.002, -0.006],
                          [0.175, -0.002, 0.020], [0.147, -0.002, 0.043]],
                         dtype=np.float64)
#: finger radius (across the finger) at the root and at the tip; the thickness is 0.85 of it
_FINGER_RADII = {
    'thumb': (0.0115, 0.0085), 'index': (0.0095, 0.0075), 'middle': (0.0100, 0.0078), 'ring': (0.0092, 0.0072), 'pinky':
    (0.0082, 0.0065)
}
#: relaxed-curl mean pose (flexion of the 3 joints of each finger, radians), stored as MANO ``hands_mean``
_MEAN_FLEXION = {
    'thumb': (0.15, 0.2, 0.2), 'index': (0.2, 0.3, 0.15), 'middle': (0.2, 0.3, 0.15), 'ring': (0.2, 0.3, 0.15), 'pinky':
    (0.2, 0.3, 0.15)
}
_PART_NAMES: List[str] = ['palm'] + FINGERTIP_ORDER
_SOFTNESS = 0.003  # skinning blend length in metres


@dataclass
class _FingerPart(_Part):
    """Finger capsule whose coarse rings sit on its joints, at the start of the tip cap and on the cap (well resolved
    bends, round tips)."""
    joint_s: Tuple[float, ...] = ()

    def ring_positions(self) -> np.ndarray:
        return np.array([*self.joint_s, self.length, self.length + 0.55 * self.cap_end])


def _hand_parts() -> List[_Part]:
    """Palm capsule and one capsule per finger (root joint -> fingertip; the outer pole lies on the tip)."""
    palm = _Part('palm', (0.0, 0.0, 0.0), (0.088, 0.0, 0.002), 0.012, 0.012, (0, 0.5, 1), (0.030, 0.040, 0.043),
                 (0.0135, 0.0145, 0.0125), 4, 8, (0, ), _SOFTNESS)
    parts = [palm]
    for index, finger in enumerate(FINGERTIP_ORDER):
        chain = MANO_FINGER_JOINTS[finger]
        root, tip = TEMPLATE_JOINTS[chain[0]], TEMPLATE_TIPS[index]
        r_root, r_tip = _FINGER_RADII[finger]
        axis = (tip - root) / np.linalg.norm(tip - root)
        joint_s = tuple(float((TEMPLATE_JOINTS[j] - root) @ axis) for j in chain)  # 0, the two middle joints
        r_mid = 0.9 * r_root + 0.1 * r_tip
        parts.append(
            _FingerPart(finger, tuple(root), tuple(tip - r_tip * axis), r_root, r_tip, (0, 0.5, 1),
                        (r_root, r_mid, r_tip), (0.85 * r_root, 0.85 * r_mid, 0.85 * r_tip), 5, 6, (0, ) + tuple(chain),
                        _SOFTNESS, joint_s))
    return parts


def _bones(part_index: int) -> Dict[int, Tuple[np.ndarray, np.ndarray]]:
    """Joint -> bone segment that drives the vertices of a part (the wrist bone runs to the part's root joint)."""
    if part_index == 0:
        return {0: (TEMPLATE_JOINTS[0], TEMPLATE_JOINTS[MANO_FINGER_JOINTS['middle'][0]])}
    finger = FINGERTIP_ORDER[part_index - 1]
    chain = MANO_FINGER_JOINTS[finger]
    points = [TEMPLATE_JOINTS[j] for j in chain] + [TEMPLATE_TIPS[part_index - 1]]
    bones = {0: (TEMPLATE_JOINTS[0], points[0])}
    for k, joint in enumerate(chain):
        bones[joint] = (points[k], points[k + 1])
    return bones


def _skinning_weights(verts: np.ndarray, part_of_vertex: np.ndarray) -> np.ndarray:
    """Soft assignment of each vertex to its part's bones (the palm follows the wrist only)."""
    weights = np.zeros((len(verts), NUM_MANO_JOINTS))
    for index in range(len(_PART_NAMES)):
        rows = np.nonzero(part_of_vertex == index)[0]
        bones = _bones(index)
        ids = np.asarray(list(bones))
        dist = np.stack([_segment_distance(verts[rows], *bones[j]) for j in ids], 1)
        w = np.exp(-(dist - dist.min(1, keepdims=True)) / _SOFTNESS)
        w[w < 1e-3 * w.max(1, keepdims=True)] = 0.0
        weights[rows[:, None], ids[None, :]] = w / w.sum(1, keepdims=True)
    return weights


def _joint_regressor(verts: np.ndarray, part_of_vertex: np.ndarray) -> np.ndarray:
    """``(16, V)`` non-negative rows summing to 1, each on vertices of the joint's own part around the joint."""
    regressor = np.zeros((NUM_MANO_JOINTS, len(verts)))
    for joint in range(NUM_MANO_JOINTS):
        if joint == 0:
            part = 0
        else:
            finger = next(f for f, chain in MANO_FINGER_JOINTS.items() if joint in chain)
            part = _PART_NAMES.index(finger)
        rows = np.nonzero(part_of_vertex == part)[0]
        regressor[joint, rows] = _fit_regressor(verts[rows], TEMPLATE_JOINTS[joint:joint + 1])[0]
    return regressor


def _shape_directions(verts: np.ndarray, part_of_vertex: np.ndarray, parts: Sequence[_Part]) -> np.ndarray:
    """10 smooth, distinct shape directions ``(778, 3, 10)``: size, palm width / length / thickness, finger
    thickness and the length of each finger."""
    dirs = np.zeros((len(verts), 3, NUM_BETAS))
    is_palm = part_of_vertex == 0
    radial = np.zeros_like(verts)
    along = np.zeros(len(verts))
    for index, part in enumerate(parts):
        rows = part_of_vertex == index
        rel = verts[rows] - part.a
        along[rows] = rel @ part.e
        off = rel - np.outer(along[rows], part.e)
        radial[rows] = off / np.maximum(np.linalg.norm(off, axis=1, keepdims=True), 1e-9)
    root_of_part = np.stack([part.a for part in parts])  # palm: wrist; fingers: their root joint
    roots = root_of_part[part_of_vertex]
    palm_length = TEMPLATE_JOINTS[MANO_FINGER_JOINTS['middle'][0], 0]
    dirs[:, :, 0] = 0.06 * verts  # overall size about the wrist (at the origin)
    dirs[:, 2, 1] = 0.08 * (np.where(is_palm, verts[:, 2], roots[:, 2]) - 0.002)  # palm width (fingers move apart)
    dirs[:, 0, 2] = 0.08 * np.where(is_palm, np.clip(verts[:, 0], 0.0, palm_length), roots[:, 0])  # palm length
    dirs[:, 1, 3] = 0.002 * radial[:, 1] * is_palm  # palm thickness
    dirs[:, :, 4] = 0.0012 * radial * ~is_palm[:, None]  # finger thickness
    for column, finger in zip(range(5, 10), FINGERTIP_ORDER):
        index = _PART_NAMES.index(finger)
        rows = part_of_vertex == index
        dirs[rows, :, column] = 0.1 * np.clip(along[rows], 0.0, None)[:, None] * parts[index].e  # finger length
    return dirs


def generate_synthetic_hand() -> Dict[str, object]:
    """Build the synthetic hand in memory.

    Returns:
        dict with ``mano`` (the MANO pickle dict: v_template, shapedirs, posedirs, J_regressor, weights,
        kintree_table, f, hands_components, hands_mean, hands_coeffs, J, bs_style, bs_type, fingertip_vertex_ids),
        ``sampler`` (dict with ``down``, ``up``, ``adjacencies``, ``faces`` lists; level 0 = 778 vertices),
        ``fingertip_vertex_ids`` (5,) in FINGERTIP_ORDER, ``part_of_vertex`` (778,) part ids and ``part_names``.
    """
    parts = _hand_parts()
    pieces = [part.tessellate() for part in parts]
    offsets = np.cumsum([0] + [len(v) for v, _ in pieces])
    tips = np.array([offsets[i + 1] - 1 for i in range(1, len(parts))], dtype=np.int64)  # outer pole of each finger
    verts = np.concatenate([v for v, _ in pieces])
    faces = np.concatenate([f + offsets[i] for i, (_, f) in enumerate(pieces)])
    part_of_vertex = np.concatenate([np.full(len(v), i) for i, (v, _) in enumerate(pieces)])
    verts, faces, part_of_vertex, _, _ = _insert_centroids(verts, faces, part_of_vertex, None,
                                                           LEVEL_SIZES[1] - len(verts), parts)
    coarse = (verts, faces)
    template, fine_faces, part_of_vertex, up = _refine(verts, faces, part_of_vertex, parts, LEVEL_SIZES[0])

    j_regressor = _joint_regressor(template, part_of_vertex)
    mean_angles = np.zeros((NUM_MANO_JOINTS - 1, 3))
    for finger, chain in MANO_FINGER_JOINTS.items():
        mean_angles[np.asarray(chain) - 1, 0] = _MEAN_FLEXION[finger]
    hands_mean = angles_to_axis_angle(mean_angles, joint_axes(j_regressor @ template))
    kintree = np.stack([np.asarray(MANO_PARENTS, dtype=np.int64), np.arange(NUM_MANO_JOINTS, dtype=np.int64)])
    kintree[0, 0] = 4294967295
    mano = dict(v_template=template,
                shapedirs=_shape_directions(template, part_of_vertex, parts),
                posedirs=np.zeros((len(template), 3, NUM_POSE_BLEND)),
                J_regressor=j_regressor,
                weights=_skinning_weights(template, part_of_vertex),
                kintree_table=kintree,
                f=fine_faces.astype(np.uint32),
                J=j_regressor @ template,
                hands_components=np.eye(45),
                hands_mean=hands_mean,
                hands_coeffs=np.zeros((1, 45)),
                bs_style='lbs',
                bs_type='lrotmin',
                fingertip_vertex_ids=tips)
    sampler = dict(down=[_selection(LEVEL_SIZES[1], LEVEL_SIZES[0])],
                   up=[up],
                   adjacencies=[_adjacency(fine_faces, LEVEL_SIZES[0]),
                                _adjacency(coarse[1], LEVEL_SIZES[1])],
                   faces=[fine_faces.astype(np.int64), coarse[1].astype(np.int64)])
    return dict(mano=mano,
                sampler=sampler,
                fingertip_vertex_ids=tips,
                part_of_vertex=part_of_vertex,
                part_names=list(_PART_NAMES))


# ---------------------------------------------------------------------------------------------------- files
def write_synthetic_hand(folder: str, hand: Optional[Dict[str, object]] = None) -> Dict[str, str]:
    """Write the synthetic hand files into ``folder`` (atomic writes) and return their paths."""
    hand = generate_synthetic_hand() if hand is None else hand
    paths = dict(model_path=os.path.join(folder, MANO_FILE_NAME),
                 mesh_sampler_path=os.path.join(folder, MESH_SAMPLER_FILE_NAME))
    atomic_write_bytes(paths['model_path'], pickle.dumps(hand['mano'], protocol=2))
    sampler = hand['sampler']
    save_pickle_free(paths['mesh_sampler_path'], sampler['down'], sampler['up'], sampler['adjacencies'],
                     sampler['faces'])
    return paths


def generator_hash() -> str:
    """Short hash of the generator's source (this module and the ones it builds on), so a changed generator never
    reuses stale cached files."""
    digest = hashlib.sha1()
    for module in (synthetic_body, hand_pose, joints):
        with open(module.__file__, 'rb') as f:
            digest.update(f.read())
    with open(__file__, 'rb') as f:
        digest.update(f.read())
    return digest.hexdigest()[:8]


def default_hand_files(cache_dir: Optional[str] = None) -> Dict[str, str]:
    """Paths of the embedded hand files (``model_path``, ``mesh_sampler_path``).

    Generated once into ``<cache_dir>/synthetic_hand_<version>_<source hash>`` (``cache_dir`` defaults to
    ``$POINTHMR_CACHE`` or ``~/.cache/pointhmr``); safe when several processes generate at the same time (identical
    content, atomic replace).
    """
    folder = os.path.join(cache_dir or default_cache_dir(),
                          f'synthetic_hand_{SYNTHETIC_HAND_VERSION}_{generator_hash()}')
    paths = dict(model_path=os.path.join(folder, MANO_FILE_NAME),
                 mesh_sampler_path=os.path.join(folder, MESH_SAMPLER_FILE_NAME))
    if all(os.path.isfile(p) for p in paths.values()):
        return paths
    return write_synthetic_hand(folder)
