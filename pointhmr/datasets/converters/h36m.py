"""Human3.6M from the SPIN-style preprocessed annotation ``.npz`` (e.g. ``h36m_valid_protocol2.npz``).

Arrays per sample: ``imgname`` (path relative to the image root), ``center`` (2,), ``scale`` (box side / 200),
``part`` (24, 3) J24 pixels + visibility, ``S`` (24, 4) J24 metres (camera frame) + confidence; optional ``pose``
(72,), ``shape`` (10,) and ``has_smpl``. The npz is read with ``allow_pickle=False``.
"""
import os.path as osp
from typing import Dict, Iterator, Tuple

import numpy as np

from ...body.joints import NUM_J24
from .metro_writer import MetroSample

#: key -> shape of one sample (None: scalar); the first group is required
_REQUIRED = {'imgname': None, 'center': (2, ), 'scale': None}
_OPTIONAL = {'part': (NUM_J24, 3), 'S': (NUM_J24, 4), 'pose': (72, ), 'shape': (10, ), 'has_smpl': None}


def load_h36m_npz(path: str) -> Dict[str, np.ndarray]:
    """Read and validate the annotation arrays; errors name the file and the key."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Human3.6M annotation file {path!r} not found (e.g. h36m_valid_protocol2.npz from '
                                'the SPIN preprocessing)')
    with open(path, 'rb') as f:
        if f.read(4) != b'PK\x03\x04':
            raise ValueError(f'{path}: not a readable .npz archive (no zip header); re-download the annotation file')
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as err:
        raise ValueError(f'{path}: cannot read without unpickling ({err}); the file must hold plain arrays '
                         '(imgname as a string array)') from err
    except Exception as err:  # zipfile.BadZipFile, OSError, ...
        raise ValueError(f'{path}: not a readable .npz archive ({err})') from err
    missing = [key for key in _REQUIRED if key not in arrays]
    if missing:
        raise KeyError(f'{path}: missing arrays {missing}; expected a SPIN-style npz with imgname/center/scale/'
                       'part/S (and optionally pose/shape/has_smpl)')
    count = len(arrays['imgname'])
    for key, shape in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in arrays:
            continue
        expected = (count, ) + (shape or ())
        if arrays[key].shape != expected:
            raise ValueError(f'{path}: array {key!r} has shape {arrays[key].shape}, expected {expected}')
    if 'part' not in arrays and 'S' not in arrays:
        raise KeyError(f'{path}: neither 2D joints "part" nor 3D joints "S" found; nothing to convert')
    return arrays


def _annotation(arrays: Dict[str, np.ndarray], i: int) -> dict:
    ann = dict(center=arrays['center'][i].astype(np.float64), scale=float(arrays['scale'][i]))
    if 'part' in arrays:
        ann.update({'2d_joints': arrays['part'][i].astype(np.float64), 'has_2d_joints': 1})
    if 'S' in arrays:
        ann.update({'3d_joints': arrays['S'][i].astype(np.float64), 'has_3d_joints': 1})
    if 'pose' in arrays and 'shape' in arrays:
        has_smpl = int(arrays['has_smpl'][i]) if 'has_smpl' in arrays else 1
        ann.update(pose=arrays['pose'][i].astype(np.float64),
                   betas=arrays['shape'][i].astype(np.float64),
                   has_smpl=int(bool(has_smpl)))
    return ann


def h36m_samples(npz_path: str, img_root: str) -> Tuple[int, Iterator[MetroSample]]:
    """``(number of samples, iterator of rows)``; the TSV key is ``imgname``, the image ``img_root/imgname``."""
    arrays = load_h36m_npz(npz_path)

    def rows() -> Iterator[MetroSample]:
        for i in range(len(arrays['imgname'])):
            name = str(arrays['imgname'][i])
            yield MetroSample(key=name, image_path=osp.join(img_root, name), annotation=_annotation(arrays, i))

    return len(arrays['imgname']), rows()
