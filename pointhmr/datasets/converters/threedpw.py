"""3DPW from its sequence files (``sequenceFiles/<split>/*.pkl``, read by a restricted unpickler) + ``imageFiles/``.

One row per (frame, person) with a valid camera pose, like METRO's 3DPW TSVs:

* ``pose``: SMPL pose with the global orientation rotated into the camera frame; ``betas``: the first 10 shape
  coefficients; ``gender``: 'male' / 'female' (recorded, unused: the evaluation uses the neutral model);
* ``3d_joints``: J24 joints of the **neutral** SMPL mesh of that pose/shape (SMPL regressor + 14 extra regressors,
  the GraphCMR joint set), placed at the sequence's camera-frame pelvis; confidence 1 (the evaluation's GT joints);
* ``2d_joints``: those joints projected with the camera intrinsics; ``center``/``scale``: their bounding box,
  enlarged 1.2x (``scale = 1.2 * max(w, h) / 200``).
"""
import glob
import os.path as osp
from typing import Any, Dict, Iterator, List, Tuple

import cv2
import numpy as np
import torch

from ...body.safe_pickle import THREEDPW_SEQUENCE_KEYS, load_3dpw_sequence
from .metro_writer import MetroSample

#: rows of cat(SMPL regressor (24), extra regressor (14)) applied to the mesh -> J24 (GraphCMR / METRO get_joints)
J24_FROM_SMPL_AND_EXTRA = [8, 5, 29, 30, 4, 7, 21, 19, 17, 16, 18, 20, 31, 32, 33, 34, 35, 36, 37, 24, 26, 25, 28, 27]
_GENDERS = {'m': 'male', 'f': 'female', 'male': 'male', 'female': 'female'}
_CHUNK = 256


def smpl_j24(body_model, extra_regressor: np.ndarray, pose: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """(N, 24, 3) J24 joints of the posed mesh (no translation) and the (N, 3) SMPL root joint, in metres."""
    regressor = body_model.smpl.J_regressor.float()
    extra = torch.as_tensor(extra_regressor, dtype=torch.float32)
    if extra.shape != (14, regressor.shape[1]):
        raise ValueError(f'extra joint regressor must be (14, {regressor.shape[1]}) (J_regressor_extra.npy), got '
                         f'{tuple(extra.shape)}')
    joints, roots = [], []
    with torch.no_grad():
        for start in range(0, len(pose), _CHUNK):
            p = torch.as_tensor(pose[start:start + _CHUNK], dtype=torch.float32)
            b = torch.as_tensor(betas[start:start + _CHUNK], dtype=torch.float32)
            vertices = body_model(p, b)
            all_joints = torch.cat(
                [torch.einsum('jv,bvc->bjc', regressor, vertices),
                 torch.einsum('jv,bvc->bjc', extra, vertices)], dim=1)
            joints.append(all_joints[:, J24_FROM_SMPL_AND_EXTRA].numpy())
            roots.append(body_model.smpl_joints(p, b)[:, 0].numpy())
    return np.concatenate(joints).astype(np.float64), np.concatenate(roots).astype(np.float64)


def _person_array(data: Dict[str, Any], key: str, person: int, path: str) -> np.ndarray:
    values = data[key]
    if not isinstance(values, (list, tuple)) or person >= len(values):
        raise ValueError(f'{path}: {key!r} must be a list with one entry per person ({len(data["genders"])})')
    return np.asarray(values[person], dtype=np.float64)


def _sequence_rows(data: Dict[str, Any], path: str, img_root: str, body_model, extra: np.ndarray,
                   box_factor: float) -> List[MetroSample]:
    name = str(data['sequence'])
    cam_poses = np.asarray(data['cam_poses'], dtype=np.float64)
    intrinsics = np.asarray(data['cam_intrinsics'], dtype=np.float64)
    frame_ids = np.asarray(data['img_frame_ids']).astype(int)
    num_frames = len(frame_ids)
    if cam_poses.shape != (num_frames, 4, 4) or intrinsics.shape != (3, 3):
        raise ValueError(f'{path}: cam_poses {cam_poses.shape} / cam_intrinsics {intrinsics.shape}, expected '
                         f'({num_frames}, 4, 4) / (3, 3)')
    rows: List[Tuple[int, int, MetroSample]] = []
    for person, gender in enumerate(data['genders']):
        poses = _person_array(data, 'poses', person, path)
        betas = _person_array(data, 'betas', person, path).reshape(-1)[:10]
        valid = _person_array(data, 'campose_valid', person, path).astype(bool)
        positions = _person_array(data, 'jointPositions', person, path)
        if poses.shape != (num_frames, 72) or positions.shape != (num_frames, 72) or valid.shape != (num_frames, ):
            raise ValueError(f'{path}: person {person}: poses {poses.shape}, jointPositions {positions.shape}, '
                             f'campose_valid {valid.shape}; expected ({num_frames}, 72) and ({num_frames},)')
        frames = np.flatnonzero(valid)
        if frames.size == 0:
            continue
        rotations = cam_poses[frames, :3, :3]
        pose_cam = poses[frames].copy()
        for row, frame in enumerate(frames):
            orient = cv2.Rodrigues(poses[frame, :3].reshape(3, 1))[0]
            pose_cam[row, :3] = cv2.Rodrigues(rotations[row] @ orient)[0].reshape(3)
        shape = np.repeat(betas[None], len(frames), axis=0)
        j24, roots = smpl_j24(body_model, extra, pose_cam, shape)
        pelvis_cam = np.einsum('fij,fj->fi', rotations, positions[frames, :3]) + cam_poses[frames, :3, 3]
        j24 = j24 - roots[:, None] + pelvis_cam[:, None]
        projected = j24 @ intrinsics.T
        uv = projected[..., :2] / projected[..., 2:3]
        for row, frame in enumerate(frames):
            low, high = uv[row].min(axis=0), uv[row].max(axis=0)
            key = f'{name}/image_{frame_ids[frame]:05d}.jpg'
            annotation = {
                'center': (low + high) / 2,
                'scale': float(box_factor * (high - low).max() / 200.0),
                '2d_joints': np.concatenate([uv[row], np.ones((24, 1))], axis=1),
                'has_2d_joints': 1,
                '3d_joints': np.concatenate([j24[row], np.ones((24, 1))], axis=1),
                'has_3d_joints': 1,
                'pose': pose_cam[row],
                'betas': betas,
                'has_smpl': 1,
                'gender': _GENDERS.get(str(gender), str(gender)),
            }
            rows.append((int(frame), person,
                         MetroSample(key=key, image_path=osp.join(img_root, 'imageFiles', key), annotation=annotation)))
    return [sample for _, _, sample in sorted(rows, key=lambda r: (r[0], r[1]))]


def threedpw_samples(sequence_dir: str,
                     img_root: str,
                     body_model,
                     extra_regressor: np.ndarray,
                     box_factor: float = 1.2) -> Tuple[int, Iterator[MetroSample]]:
    """``(number of rows, iterator of rows)`` for every ``*.pkl`` of ``sequence_dir`` (sorted by name).

    ``body_model``: a neutral ``SMPLBodyModel``; ``extra_regressor``: ``J_regressor_extra.npy`` (14, V).
    """
    paths = sorted(glob.glob(osp.join(sequence_dir, '*.pkl')))
    if not paths:
        raise FileNotFoundError(f'no 3DPW sequence files (*.pkl) in {sequence_dir!r}; pass sequenceFiles/<split>')
    sequences = []
    for path in paths:
        data = load_3dpw_sequence(path)
        # keep only what the rows need (the files also hold clothed templates and 60 Hz poses)
        sequences.append((path, {key: data[key] for key in THREEDPW_SEQUENCE_KEYS}))
    total = int(sum(np.asarray(v, dtype=bool).sum() for _, d in sequences for v in d['campose_valid']))

    def rows() -> Iterator[MetroSample]:
        for path, data in sequences:
            yield from _sequence_rows(data, path, img_root, body_model, extra_regressor, box_factor)

    return total, rows()
