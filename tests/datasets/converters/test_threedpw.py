import os
import pickle

import cv2
import numpy as np
import pytest
import torch

from pointhmr.body.safe_pickle import load_3dpw_sequence
from pointhmr.body.smpl_layer import SMPLBodyModel
from pointhmr.datasets import MeshTSVDataset
from pointhmr.datasets.converters import threedpw_samples, write_metro_split
from pointhmr.datasets.converters.threedpw import J24_FROM_SMPL_AND_EXTRA, smpl_j24


@pytest.fixture(scope='module')
def body_model():
    torch.set_num_threads(1)
    return SMPLBodyModel()  # the embedded synthetic body: same topology as SMPL


@pytest.fixture(scope='module')
def extra_regressor(body_model):
    weights = np.random.default_rng(7).uniform(0, 1, (14, body_model.num_vertices))**8
    return weights / weights.sum(axis=1, keepdims=True)


def _rotation(rng):
    return cv2.Rodrigues(rng.normal(0, 0.6, (3, 1)))[0]


def _sequence(rng, name, frames=4):
    cam_poses = np.tile(np.eye(4), (frames, 1, 1))
    for f in range(frames):
        cam_poses[f, :3, :3] = _rotation(rng)
        cam_poses[f, :3, 3] = rng.normal(0, 0.3, 3)
    positions = []
    for _ in range(2):
        joints = rng.normal(0, 0.3, (frames, 24, 3))
        joints[:, 0] = rng.normal([0, 0, 0], 0.2, (frames, 3))
        positions.append(joints.reshape(frames, 72))
    # two people; the second has one frame without a valid camera pose
    return dict(sequence=name,
                genders=['m', 'f'],
                poses=[rng.normal(0, 0.2, (frames, 72)) for _ in range(2)],
                betas=[rng.normal(0, 1, 10), rng.normal(0, 1, 10)],
                trans=[rng.normal(0, 1, (frames, 3)) for _ in range(2)],
                cam_poses=cam_poses,
                cam_intrinsics=np.array([[500.0, 0, 32], [0, 500.0, 24], [0, 0, 1]]),
                jointPositions=positions,
                poses2d=[rng.normal(0, 1, (frames, 3, 18)) for _ in range(2)],
                img_frame_ids=np.arange(frames) * 2,
                campose_valid=[np.ones(frames, bool),
                               np.array([True, False, True, True][:frames])])


@pytest.fixture
def source(tmp_path, write_jpeg):
    rng = np.random.default_rng(0)
    sequences = {}
    for name in ('courtyard_arguing_00', 'downtown_bus_00'):
        data = _sequence(rng, name)
        # the cameras are moved 4 m in front of the people so the projections are sensible
        data['cam_poses'][:, 2, 3] += 4.0
        sequences[name] = data
        folder = tmp_path / '3DPW' / 'sequenceFiles' / 'test'
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f'{name}.pkl').write_bytes(pickle.dumps(data, protocol=2))
        for frame in data['img_frame_ids']:
            write_jpeg(tmp_path / '3DPW' / 'imageFiles' / name / f'image_{frame:05d}.jpg', rng)
    return tmp_path / '3DPW', sequences


def test_round_trip_source_to_dataset_sample(tmp_path, source, body_model, extra_regressor):
    root, sequences = source
    total, rows = threedpw_samples(str(root / 'sequenceFiles' / 'test'), str(root), body_model, extra_regressor)
    assert total == 2 * (4 + 3)
    yaml_path = write_metro_split(str(tmp_path / 'out'), 'test_has_gender', rows, total, progress=False)
    dataset = MeshTSVDataset(ann_file=yaml_path)
    assert len(dataset) == total
    index = 0
    for name, data in sorted(sequences.items()):
        for frame in range(4):
            for person in (0, 1):
                if not data['campose_valid'][person][frame]:
                    continue
                item = dataset.get_data_info(index)
                index += 1
                key = f'{name}/image_{data["img_frame_ids"][frame]:05d}.jpg'
                assert item['img_path'] == key
                np.testing.assert_array_equal(item['img'], cv2.imread(str(root / 'imageFiles' / key)))
                rotation, shift = data['cam_poses'][frame, :3, :3], data['cam_poses'][frame, :3, 3]
                pose = data['poses'][person][frame]
                # global orientation rotated into the camera frame, body pose and shape as given
                orient = cv2.Rodrigues(item['smpl_pose'][:3].astype(np.float64))[0]
                np.testing.assert_allclose(orient, rotation @ cv2.Rodrigues(pose[:3])[0], atol=1e-5)
                np.testing.assert_allclose(item['smpl_pose'][3:], pose[3:], atol=1e-6)
                np.testing.assert_allclose(item['smpl_betas'], data['betas'][person], atol=1e-6)
                assert item['has_smpl'] == 1 and item['has_3d_joints'] == 1 and item['has_2d_joints'] == 1
                # 3D joints: the world-pose joints rotated by the camera, SMPL root at the camera-frame pelvis
                joints = item['keypoints_3d'][0, :, :3].astype(np.float64)
                world, world_root = smpl_j24(body_model, extra_regressor, pose[None], data['betas'][person][None])
                pelvis = rotation @ data['jointPositions'][person][frame, :3] + shift
                np.testing.assert_allclose(joints, (world[0] - world_root[0]) @ rotation.T + pelvis, atol=2e-4)
                # 2D joints: the 3D joints projected; the box covers them, enlarged 1.2x
                projected = joints @ data['cam_intrinsics'].T
                np.testing.assert_allclose(item['keypoints'][0], projected[:, :2] / projected[:, 2:], atol=1e-2)
                side = item['bbox_scale'][0, 0]
                extent = item['keypoints'][0].max(0) - item['keypoints'][0].min(0)
                assert side == pytest.approx(1.2 * extent.max(), rel=1e-4)
    label = (tmp_path / 'out' / 'test_has_gender.label.tsv').read_text().splitlines()
    assert '"gender":"male"' in label[0] and '"gender":"female"' in label[1]


def test_j24_uses_the_graphcmr_joint_rows(body_model, extra_regressor):
    pose, betas = np.zeros((1, 72)), np.zeros((1, 10))
    joints, _ = smpl_j24(body_model, extra_regressor, pose, betas)
    vertices = body_model(torch.zeros(1, 72), torch.zeros(1, 10))[0].numpy().astype(np.float64)
    np.testing.assert_allclose(joints[0, 14], extra_regressor[33 - 24] @ vertices, atol=1e-5)  # pelvis: extra row 9
    np.testing.assert_allclose(joints[0, 0], body_model.smpl.J_regressor[8].numpy() @ vertices, atol=1e-5)
    assert len(J24_FROM_SMPL_AND_EXTRA) == 24
    with pytest.raises(ValueError, match='extra joint regressor'):
        smpl_j24(body_model, extra_regressor[:9], pose, betas)


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned', ))


def test_sequence_pickles_are_read_safely(tmp_path):
    evil = tmp_path / 'evil.pkl'
    evil.write_bytes(pickle.dumps({'sequence': _Evil()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match='refusing to load'):
        load_3dpw_sequence(evil)
    partial = tmp_path / 'partial.pkl'
    partial.write_bytes(pickle.dumps({'sequence': 'x', 'poses': [np.zeros((2, 72))]}, protocol=2))
    with pytest.raises(KeyError, match='not a 3DPW sequence file, missing keys'):
        load_3dpw_sequence(partial)
    truncated = tmp_path / 'truncated.pkl'
    truncated.write_bytes(pickle.dumps(_sequence(np.random.default_rng(1), 's'), protocol=2)[:200])
    with pytest.raises(pickle.UnpicklingError, match='not a readable 3DPW sequence pickle'):
        load_3dpw_sequence(truncated)
    with pytest.raises(FileNotFoundError, match='3DPW sequence file not found'):
        load_3dpw_sequence(tmp_path / 'absent.pkl')
    with pytest.raises(FileNotFoundError, match='no 3DPW sequence files'):
        threedpw_samples(str(tmp_path / 'empty'), str(tmp_path), None, np.zeros((14, 1)))


def test_inconsistent_sequence_is_reported(tmp_path, body_model, extra_regressor):
    data = _sequence(np.random.default_rng(2), 'bad_00')
    data['poses'][1] = data['poses'][1][:2]
    folder = tmp_path / 'seq'
    folder.mkdir()
    (folder / 'bad_00.pkl').write_bytes(pickle.dumps(data, protocol=2))
    _, rows = threedpw_samples(str(folder), str(tmp_path), body_model, extra_regressor)
    with pytest.raises(ValueError, match=r'bad_00.pkl: person 1: poses \(2, 72\)'):
        list(rows)


def test_cli(tmp_path, source, extra_regressor, load_tool):
    root, _ = source
    np.save(tmp_path / 'J_regressor_extra.npy', extra_regressor)
    out = tmp_path / 'cli'
    tool = load_tool('threedpw_to_metro')
    assert tool.main([
        str(root), '--out',
        str(out), '--name', 'test_has_gender', '--quiet', '--extra-regressor',
        str(tmp_path / 'J_regressor_extra.npy')
    ]) == 0
    assert len(MeshTSVDataset(ann_file=str(out / 'test_has_gender.yaml'))) == 14
    with pytest.raises(FileNotFoundError, match='extra joint regressor'):
        tool.main([str(root), '--out', str(out), '--extra-regressor', str(tmp_path / 'absent.npy')])
