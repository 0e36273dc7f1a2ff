"""FreiHAND from its release layout: ``<split>_{xyz,K,mano}.json`` (+ optional ``<split>_verts.json``) and
``<split>/rgb/%08d.jpg`` for ``split`` in ``training`` / ``evaluation``.

One row per image (the training set holds 4 versions of every annotated frame: image ``v * N + i`` shares annotation
``i``). Label fields (METRO's hand TSV layout): ``center``/``scale`` (the whole 224 x 224 image by default, or the
joints' box enlarged by ``box_factor``), ``2d_joints`` (21, 3) the 3D joints projected with ``K``, ``3d_joints``
(21, 4) metres in the camera frame, ``pose`` (48,) MANO axis-angle (global orientation first), ``betas`` (10,),
``has_2d_joints`` / ``has_3d_joints`` / ``has_smpl`` (1 when MANO parameters are given), optionally ``vertices``
(778, 3) metres.
"""
import json
import os.path as osp
from typing import Iterator, Optional, Tuple

import numpy as np

from .metro_writer import MetroSample

NUM_HAND_JOINTS = 21
NUM_MANO_VERTICES = 778
FREIHAND_IMAGE_SIZE = 224


def _load_json_array(path: str, shape: Tuple[int, ...], what: str) -> np.ndarray:
    if not osp.isfile(path):
        raise FileNotFoundError(f'FreiHAND {what} file {path!r} not found')
    try:
        with open(path) as f:
            array = np.asarray(json.load(f), dtype=np.float64)
    except (json.JSONDecodeError, ValueError, TypeError) as err:
        raise ValueError(f'{path}: malformed FreiHAND {what} JSON ({err})') from err
    if array.ndim != len(shape) + 1 or array.shape[1:] != shape:
        raise ValueError(f'{path}: {what} has shape {array.shape}, expected (N, {", ".join(map(str, shape))})')
    if not np.all(np.isfinite(array)):
        raise ValueError(f'{path}: {what} contains NaN or infinite values')
    return array


def freihand_samples(root: str,
                     split: str = 'training',
                     versions: int = 4,
                     with_vertices: bool = False,
                     box: str = 'image',
                     box_factor: float = 2.0,
                     limit: Optional[int] = None) -> Tuple[int, Iterator[MetroSample]]:
    """``(number of rows, iterator of rows)`` for ``split`` of the FreiHAND release under ``root``."""
    if box not in ('image', 'joints'):
        raise ValueError(f"box must be 'image' or 'joints', got {box!r}")
    xyz = _load_json_array(osp.join(root, f'{split}_xyz.json'), (NUM_HAND_JOINTS, 3), '3D joints (xyz)')
    count = len(xyz)
    intrinsics = _load_json_array(osp.join(root, f'{split}_K.json'), (3, 3), 'camera intrinsics (K)')
    mano_path = osp.join(root, f'{split}_mano.json')
    mano = _load_json_array(mano_path, (1, 61), 'MANO parameters').reshape(-1, 61) if osp.isfile(mano_path) else None
    vertices = None
    if with_vertices:
        vertices = _load_json_array(osp.join(root, f'{split}_verts.json'), (NUM_MANO_VERTICES, 3), 'vertices')
    for name, array in (('K', intrinsics), ('mano', mano), ('verts', vertices)):
        if array is not None and len(array) != count:
            raise ValueError(f'{root}: {split}_{name}.json has {len(array)} entries but {split}_xyz.json has {count}')
    projected = np.einsum('nij,nkj->nki', intrinsics, xyz)
    if np.any(projected[..., 2] <= 0):
        raise ValueError(f'{root}: {split}_xyz.json has joints at or behind the camera (z <= 0); wrong file?')
    uv = projected[..., :2] / projected[..., 2:3]
    num_rows = count * versions if limit is None else min(limit, count * versions)

    def rows() -> Iterator[MetroSample]:
        for index in range(num_rows):
            i = index % count
            if box == 'image':
                center, side = np.full(2, FREIHAND_IMAGE_SIZE / 2.0), float(FREIHAND_IMAGE_SIZE)
            else:
                low, high = uv[i].min(axis=0), uv[i].max(axis=0)
                center, side = (low + high) / 2, box_factor * float((high - low).max())
            annotation = {
                'center': center,
                'scale': side / 200.0,
                '2d_joints': np.concatenate([uv[i], np.ones((NUM_HAND_JOINTS, 1))], axis=1),
                'has_2d_joints': 1,
                '3d_joints': np.concatenate([xyz[i], np.ones((NUM_HAND_JOINTS, 1))], axis=1),
                'has_3d_joints': 1,
            }
            if mano is not None:
                annotation.update(pose=mano[i, :48], betas=mano[i, 48:58], has_smpl=1)
            if vertices is not None:
                annotation['vertices'] = vertices[i]
            key = f'{split}/rgb/{index:08d}.jpg'
            yield MetroSample(key=key, image_path=osp.join(root, key), annotation=annotation)

    return num_rows, rows()
