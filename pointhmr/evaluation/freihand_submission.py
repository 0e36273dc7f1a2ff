"""FreiHAND hidden-test submission: ``pred.json`` (and the ``pred.zip`` the evaluation server takes).

The file is FreiHAND's ``[xyz_list, verts_list]``: for every test image, in the dataset's sample order, the 21 joints
(FreiHAND order: wrist, then thumb / index / middle / ring / little finger, each from the knuckle to the tip) and the
778 MANO vertices, as lists of ``[x, y, z]`` in metres. The predictions are root-relative (wrist at the origin);
FreiHAND's headline numbers (PA-MPJPE, PA-MPVPE, aligned F-scores) are computed after Procrustes alignment, so the
missing absolute translation only affects its unaligned numbers.
"""
import io
import json
import os
import zipfile
from typing import Sequence, Tuple, Union

import numpy as np

from pointhmr.fileio import atomic_write_bytes

PathLike = Union[str, os.PathLike]

#: joints and vertices per hand in a FreiHAND submission
FREIHAND_NUM_JOINTS, FREIHAND_NUM_VERTICES = 21, 778


def _points(values: Sequence[np.ndarray], count: int, what: str) -> list:
    out = []
    for index, value in enumerate(values):
        array = np.asarray(value, dtype=np.float64)
        if array.shape != (count, 3) or not np.all(np.isfinite(array)):
            raise ValueError(f'FreiHAND submission: {what} of sample {index} must be finite ({count}, 3) metres, got '
                             f'shape {array.shape}; use a MANO hand model (21 joints, 778 vertices)')
        out.append(np.round(array, 6).tolist())
    return out


def freihand_submission_json(joints: Sequence[np.ndarray], vertices: Sequence[np.ndarray]) -> str:
    """JSON text ``[xyz_list, verts_list]`` of per-sample (21, 3) joints and (778, 3) vertices in metres."""
    if len(joints) != len(vertices):
        raise ValueError(f'FreiHAND submission: {len(joints)} joint sets but {len(vertices)} meshes')
    return json.dumps(
        [_points(joints, FREIHAND_NUM_JOINTS, 'joints'),
         _points(vertices, FREIHAND_NUM_VERTICES, 'vertices')],
        separators=(',', ':'))


def write_freihand_submission(outfile_prefix: PathLike, joints: Sequence[np.ndarray],
                              vertices: Sequence[np.ndarray]) -> Tuple[str, str]:
    """Write ``<outfile_prefix>pred.json`` and ``<outfile_prefix>pred.zip`` (holding ``pred.json``) atomically.

    ``outfile_prefix`` may be a folder (ending in a separator) or a file-name prefix, as mmpose's ``outfile_prefix``.
    Returns the two paths.
    """
    text = freihand_submission_json(joints, vertices).encode('utf-8')
    prefix = os.fspath(outfile_prefix)
    folder = os.path.dirname(prefix)
    if folder:
        os.makedirs(folder, exist_ok=True)
    json_path, zip_path = f'{prefix}pred.json', f'{prefix}pred.zip'
    atomic_write_bytes(json_path, text)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('pred.json', text)
    atomic_write_bytes(zip_path, buffer.getvalue())
    return json_path, zip_path


def read_freihand_submission(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read a ``pred.json`` (or a ``pred.zip`` holding one) back as ``(N, 21, 3)`` joints and ``(N, 778, 3)``
    vertices."""
    path = os.fspath(path)
    if path.endswith('.zip'):
        with zipfile.ZipFile(path) as archive:
            content = json.loads(archive.read('pred.json'))
    else:
        with open(path) as f:
            content = json.load(f)
    if not isinstance(content, list) or len(content) != 2:
        raise ValueError(f'{path}: expected FreiHAND\'s [xyz_list, verts_list]')
    joints = np.asarray(content[0], dtype=np.float64).reshape(-1, FREIHAND_NUM_JOINTS, 3)
    vertices = np.asarray(content[1], dtype=np.float64).reshape(-1, FREIHAND_NUM_VERTICES, 3)
    return joints, vertices
