"""Encoding and decoding of METRO mesh-dataset rows (official behaviour §6): base64 JPEG images and JSON labels.

Decoders raise ``ValueError`` naming the TSV file, the row and the offending key, so a bad row in a 300k-row file
can be found and fixed.
"""
import base64
import binascii
import json
from typing import Any, Dict

import cv2
import numpy as np

from pointhmr.body.joints import NUM_J24


def label_groups(num_joints: int = NUM_J24, num_pose_params: int = 72, num_betas: int = 10) -> tuple:
    """Label groups ``(flag key, {data key: shape})``; a group may be absent as a whole (zeros, flag 0). Bodies:
    24 J24 joints, 72 SMPL pose values; FreiHAND hands: 21 joints (wrist first), 48 MANO pose values."""
    return (
        ('has_2d_joints', {'2d_joints': (num_joints, 3)}),
        ('has_3d_joints', {'3d_joints': (num_joints, 4)}),
        ('has_smpl', {'pose': (num_pose_params, ), 'betas': (num_betas, )}),
    )


#: plausibility bounds (absolute values): 2D pixel coordinates / box centres, 3D joints in metres, SMPL parameters
MAX_ABS_PIXELS = 1e5
MAX_ABS_METRES = 1e3
MAX_ABS_SMPL = 1e3
MAX_SCALE = 1e4  # box side / 200 px


class RowError(ValueError):
    """A TSV row that cannot be decoded; the message names the file, the row and the key."""

    def __init__(self, path: str, row: int, key: str, problem: str) -> None:
        super().__init__(f'{path}: row {row}, key {key!r}: {problem}')
        self.path, self.row, self.key = path, row, key


def encode_image(image: np.ndarray, quality: int = 90) -> str:
    """BGR uint8 image -> base64 text of its JPEG bytes."""
    ok, buffer = cv2.imencode('.jpg', image, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise ValueError(f'cv2 could not JPEG-encode an image of shape {image.shape}')
    return base64.b64encode(buffer.tobytes()).decode('ascii')


def decode_image(text: str, path: str = '<tsv>', row: int = -1) -> np.ndarray:
    """base64 JPEG/PNG text -> BGR uint8 image (H, W, 3)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise RowError(path, row, 'img', f'invalid base64 ({err})') from err
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise RowError(path, row, 'img', f'cannot decode the {len(data)} image bytes (not a JPEG/PNG?)')
    return image


def encode_label(annotation: Dict[str, Any]) -> str:
    """Annotation dict (arrays allowed) -> the JSON text of a one-element list, as in METRO label TSVs."""

    def plain(value):
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        return value

    return json.dumps([{k: plain(v) for k, v in annotation.items()}], separators=(',', ':'))


def _as_array(annotation: dict, key: str, shape: tuple, path: str, row: int, dtype=np.float32) -> np.ndarray:
    try:
        array = np.asarray(annotation[key], dtype=dtype)
    except (TypeError, ValueError) as err:
        raise RowError(path, row, key, f'not a numeric array ({err})') from err
    if array.ndim == 0 and shape == (1, ):
        array = array.reshape(1)
    leading_ones = array.ndim >= len(shape) and all(d == 1 for d in array.shape[:array.ndim - len(shape)])
    if not leading_ones or array.shape[array.ndim - len(shape):] != shape:
        expected = ' or '.join(str(s) for s in (shape, (1, ) + shape)) if len(shape) > 1 else str(shape)
        raise RowError(path, row, key, f'shape {array.shape}, expected {expected}')
    array = array.reshape(shape)
    if not np.all(np.isfinite(array)):
        raise RowError(path, row, key, 'contains NaN or infinite values')
    return array


def _flag(annotation: dict, key: str, path: str, row: int) -> float:
    try:
        return float(bool(float(annotation[key])))
    except (TypeError, ValueError) as err:
        raise RowError(path, row, key, f'expected 0 or 1, got {annotation[key]!r}') from err


def decode_label(text: str,
                 path: str = '<tsv>',
                 row: int = -1,
                 num_joints: int = NUM_J24,
                 num_pose_params: int = 72) -> Dict[str, Any]:
    """Label JSON text -> dict of numpy arrays and 0/1 float flags.

    Returns keys ``center`` (2,) float64, ``scale`` (float), ``2d_joints`` (K, 3), ``3d_joints`` (K, 4), ``pose`` (P,),
    ``betas`` (10,), ``has_2d_joints``, ``has_3d_joints``, ``has_smpl`` (floats 0/1), with K = ``num_joints`` (24
    for bodies, 21 for FreiHAND hands) and P = ``num_pose_params`` (72 SMPL, 48 MANO). ``center``/``scale`` are
    required; a label group (e.g. ``3d_joints`` + ``has_3d_joints``) may be absent only as a whole, meaning zeros
    with flag 0. ``(1, K, 3)``-shaped joints are accepted (official behaviour §6.2).
    """
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        raise RowError(path, row, 'label', f'malformed JSON ({err})') from err
    if isinstance(parsed, list):
        if len(parsed) == 0:
            raise RowError(path, row, 'label', 'empty annotation list')
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        raise RowError(path, row, 'label', f'expected a JSON object (or a list of one), got {type(parsed).__name__}')
    for key in ('center', 'scale'):
        if key not in parsed:
            raise RowError(path, row, key, 'missing key')
    # the box stays float64: the official crop truncates its corners to integers, and float32 rounding would move
    # about 1% of the boxes by a pixel
    out: Dict[str, Any] = dict(center=_as_array(parsed, 'center', (2, ), path, row, np.float64))
    scale = _as_array(parsed, 'scale', (1, ), path, row, np.float64)[0]
    if scale <= 0:
        raise RowError(path, row, 'scale', f'must be positive, got {scale}')
    out['scale'] = float(scale)
    _check_bound(out['center'], 'center', MAX_ABS_PIXELS, 'pixels', path, row)
    if scale > MAX_SCALE:
        raise RowError(path, row, 'scale', f'{scale} is implausible (box side / 200 px, expected at most {MAX_SCALE})')
    for flag_key, shapes in label_groups(num_joints, num_pose_params):
        present = [k for k in shapes if k in parsed]
        if flag_key in parsed:
            flag = _flag(parsed, flag_key, path, row)
        elif present:
            raise RowError(path, row, flag_key, f'missing key (required when {present[0]!r} is given)')
        else:
            flag = 0.0
        out[flag_key] = flag
        for data_key, shape in shapes.items():
            if data_key in parsed:
                out[data_key] = _as_array(parsed, data_key, shape, path, row)
            elif flag > 0:
                raise RowError(path, row, data_key, f'missing key (required when {flag_key} is 1)')
            else:
                out[data_key] = np.zeros(shape, np.float32)
    _check_label_ranges(out, path, row)
    return out


def _check_bound(array: np.ndarray, key: str, bound: float, unit: str, path: str, row: int) -> None:
    worst = float(np.abs(array).max()) if array.size else 0.0
    if worst > bound:
        raise RowError(
            path, row, key, f'value {worst:g} is implausible (expected |value| <= {bound:g} {unit}); '
            'check the units and the converter that wrote this row')


def _check_confidence(array: np.ndarray, key: str, path: str, row: int) -> None:
    bad = (array < 0) | (array > 1)
    if bad.any():
        joint = int(np.flatnonzero(bad)[0])
        raise RowError(
            path, row, key, f'confidence {float(array[joint]):g} of joint {joint} is outside [0, 1] (last '
            'column = visibility / confidence)')


def _check_label_ranges(label: Dict[str, Any], path: str, row: int) -> None:
    """Reject values that would make the losses diverge (confidences outside [0, 1], absurd coordinates)."""
    _check_confidence(label['2d_joints'][:, 2], '2d_joints', path, row)
    _check_bound(label['2d_joints'][:, :2], '2d_joints', MAX_ABS_PIXELS, 'pixels', path, row)
    _check_confidence(label['3d_joints'][:, 3], '3d_joints', path, row)
    _check_bound(label['3d_joints'][:, :3], '3d_joints', MAX_ABS_METRES, 'metres', path, row)
    _check_bound(label['pose'], 'pose', MAX_ABS_SMPL, 'radians', path, row)
    _check_bound(label['betas'], 'betas', MAX_ABS_SMPL, 'shape coefficients', path, row)
