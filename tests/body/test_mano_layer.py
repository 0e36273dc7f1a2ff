import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from mmpose.registry import MODELS
from scipy.spatial.transform import Rotation

from pointhmr.body import MANOHandModel
from pointhmr.body.joints import HAND21_NAMES, MANO21_TO_HAND21
from pointhmr.body.mano_layer import MANO_FINGERTIP_VERTEX_IDS


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_mesh_model_interface(hand_model):
    assert MODELS.get('MANOHandModel') is MANOHandModel
    assert hand_model.num_vertices == 778 and hand_model.model_type == 'mano'
    assert hand_model.faces.dtype == np.int64 and hand_model.faces.shape == (1532, 3)
    assert hand_model.sampler.num_vertices == [778, 195]
    assert hand_model.token_level == 1 and hand_model.vertex_levels == (1, 0)
    assert hand_model.num_pose_params == 48 and hand_model.num_betas == 10
    assert hand_model.root_keypoint == 0 and HAND21_NAMES[0] == 'wrist'
    assert hand_model.joint_indices == list(range(21)) == hand_model.label_joint_indices
    assert hand_model.num_joints == 21
    pose, betas = 0.3 * torch.randn(3, 48), torch.randn(3, 10)
    vertices = hand_model(pose, betas)
    assert vertices.shape == (3, 778, 3) and torch.isfinite(vertices).all()
    assert hand_model.keypoints(vertices).shape == (3, 21, 3)
    assert hand_model.mano_joints(pose, betas).shape == (3, 16, 3)
    assert hand_model.sampler.downsample(vertices, 0, 1).shape == (3, 195, 3)
    assert hand_model.sampler.upsample(hand_model.sampler.downsample(vertices), 1, 0).shape == (3, 778, 3)
    coarse = torch.randn(2, 195, 3, dtype=torch.float64)  # kept vertices survive up- then down-sampling
    torch.testing.assert_close(hand_model.sampler.downsample(hand_model.sampler.upsample(coarse, 1, 0), 0, 1), coarse)


def test_keypoints_are_mano_joints_and_tips_in_freihand_order(hand_model):
    pose, betas = 0.3 * torch.randn(2, 48), torch.randn(2, 10)
    vertices = hand_model(pose, betas)
    keypoints = hand_model.keypoints(vertices)
    joints = torch.einsum('jv,bvc->bjc', hand_model.mano.J_regressor, vertices)
    tips = vertices[:, list(hand_model.fingertip_vertex_ids)]
    torch.testing.assert_close(keypoints, torch.cat([joints, tips], 1)[:, MANO21_TO_HAND21])
    # the regressed joints match the kinematic joints of the posed hand (the regressor follows the skinning)
    torch.testing.assert_close(joints, hand_model.mano_joints(pose, betas), atol=4e-3, rtol=0)
    # each fingertip keypoint is the farthest keypoint of its finger from the wrist in the rest pose
    rest = hand_model.keypoints(hand_model(torch.zeros(1, 48), torch.zeros(1, 10)))[0]
    distance = (rest - rest[0]).norm(dim=-1)[1:].reshape(5, 4)
    assert torch.all(distance.argmax(1) == 3)


def test_center_subtracts_the_wrist(hand_model):
    vertices = hand_model(0.3 * torch.randn(2, 48), torch.randn(2, 10)) + torch.tensor([0.1, -0.2, 0.5])
    centred = hand_model.center(vertices)
    torch.testing.assert_close(centred, vertices - hand_model.keypoints(vertices)[:, :1])
    assert hand_model.keypoints(centred)[:, 0].abs().max() < 1e-6


def test_mean_pose_and_flat_hand(hand_model, synthetic_hand_files):
    zero_pose, zero_betas = torch.zeros(1, 48), torch.zeros(1, 10)
    relaxed = hand_model(zero_pose, zero_betas)[0]
    flat_model = MANOHandModel(**synthetic_hand_files, flat_hand_mean=True)
    torch.testing.assert_close(flat_model(zero_pose, zero_betas)[0], flat_model.mano.v_template)
    assert (relaxed - flat_model.mano.v_template).norm(dim=-1).max() > 0.01  # the mean pose curls the fingers
    mean_pose = torch.cat([torch.zeros(3), hand_model.hand_mean]).reshape(1, 48)
    torch.testing.assert_close(flat_model(mean_pose, zero_betas)[0], relaxed)
    assert flat_model.hand_mean.abs().max() == 0


def test_rotation_matrices_are_absolute(hand_model):
    pose = 0.3 * torch.randn(2, 48, dtype=torch.float64)
    full = (pose + hand_model.mano.pose_mean.double()).reshape(2, 16, 3)
    rotmats = torch.from_numpy(Rotation.from_rotvec(full.reshape(-1, 3).numpy()).as_matrix()).reshape(2, 16, 3, 3)
    betas = torch.randn(2, 10, dtype=torch.float64)
    torch.testing.assert_close(hand_model(rotmats, betas), hand_model(pose, betas))


def test_bad_inputs(hand_model):
    with pytest.raises(ValueError, match='48'):
        hand_model(torch.zeros(1, 45), torch.zeros(1, 10))
    with pytest.raises(ValueError, match='betas'):
        hand_model(torch.zeros(2, 48), torch.zeros(1, 10))
    with pytest.raises(ValueError, match='778'):
        hand_model.keypoints(torch.zeros(1, 6890, 3))
    with pytest.raises(ValueError, match='fingertip'):
        MANOHandModel(fingertip_vertex_ids=(1, 2, 3))


def test_nothing_in_state_dict(hand_model):

    class Parent(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)
            self.hand = hand_model

    assert set(Parent().state_dict()) == {'linear.weight', 'linear.bias'}
    assert list(hand_model.parameters()) == []


def test_default_arguments_use_synthetic_hand(tmp_path, monkeypatch):
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path))
    model = MANOHandModel()
    assert model.model_file.startswith(str(tmp_path))
    assert len(model.fingertip_vertex_ids) == 5 and model.fingertip_vertex_ids != MANO_FINGERTIP_VERTEX_IDS


def test_missing_mano_file_explains_where_to_get_it(tmp_path, synthetic_hand_files):
    with pytest.raises(FileNotFoundError, match=r'MANO_RIGHT\.pkl.*mano\.is\.tue\.mpg\.de'):
        MANOHandModel(model_path=tmp_path / 'MANO_RIGHT.pkl')
    with pytest.raises(FileNotFoundError, match=r'MANO_RIGHT\.pkl.*mano\.is\.tue\.mpg\.de'):
        MANOHandModel(model_path=tmp_path)
    os.symlink(synthetic_hand_files['model_path'], tmp_path / 'MANO_RIGHT.pkl')
    with pytest.raises(FileNotFoundError, match='mesh_sampler_path'):
        MANOHandModel(model_path=tmp_path)


def test_folder_model_path_and_real_tip_ids(tmp_path, synthetic_hand_files):
    os.makedirs(tmp_path / 'models')
    os.symlink(synthetic_hand_files['model_path'], tmp_path / 'models' / 'MANO_RIGHT.pkl')
    model = MANOHandModel(model_path=tmp_path,
                          mesh_sampler_path=synthetic_hand_files['mesh_sampler_path'],
                          fingertip_vertex_ids=MANO_FINGERTIP_VERTEX_IDS)
    assert model.model_file.endswith(os.path.join('models', 'MANO_RIGHT.pkl'))
    vertices = model(torch.zeros(1, 48), torch.zeros(1, 10))
    torch.testing.assert_close(model.keypoints(vertices)[0, 4], vertices[0, 745])  # thumb tip
    torch.testing.assert_close(model.keypoints(vertices)[0, 12], vertices[0, 445])  # middle tip


class _SystemCall:

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def test_malicious_mano_pickle_is_refused(tmp_path, synthetic_hand, synthetic_hand_files):
    marker = tmp_path / 'pwned'
    data = dict(synthetic_hand['mano'], hands_mean=_SystemCall(f'touch {marker}'))
    (tmp_path / 'MANO_RIGHT.pkl').write_bytes(pickle.dumps(data, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match='system'):
        MANOHandModel(model_path=tmp_path, mesh_sampler_path=synthetic_hand_files['mesh_sampler_path'])
    assert not marker.exists()


def test_smpl_file_is_not_a_hand(tmp_path, synthetic_files, synthetic_hand_files):
    with pytest.raises(KeyError, match='not a MANO model'):
        MANOHandModel(model_path=synthetic_files['model_path'],
                      mesh_sampler_path=synthetic_hand_files['mesh_sampler_path'])


def test_official_style_mano_pickle(tmp_path, synthetic_hand, synthetic_hand_files, write_fake_chumpy_pickle,
                                    hand_model):
    """Like the official MANO_RIGHT.pkl: chumpy arrays and a scipy sparse J_regressor."""
    data = dict(synthetic_hand['mano'], J_regressor=sp.csc_matrix(synthetic_hand['mano']['J_regressor']))
    data.pop('fingertip_vertex_ids')
    path = write_fake_chumpy_pickle(tmp_path / 'MANO_RIGHT.pkl', data)
    assert b'chumpy.ch' in path.read_bytes() and b'scipy.sparse' in path.read_bytes()
    model = MANOHandModel(model_path=path, mesh_sampler_path=synthetic_hand_files['mesh_sampler_path'])
    assert model.fingertip_vertex_ids == MANO_FINGERTIP_VERTEX_IDS  # no ids in the file: the real MANO ones
    pose, betas = 0.3 * torch.randn(2, 48), torch.randn(2, 10)
    torch.testing.assert_close(model(pose, betas), hand_model(pose, betas))


def test_real_mano_sampler_with_synthetic_shape(smpl_assets_dir, synthetic_hand_files):
    """The real mano_downsampling.npz plugs in (778 vertices, like the synthetic hand)."""
    model = MANOHandModel(model_path=synthetic_hand_files['model_path'],
                          mesh_sampler_path=os.path.join(smpl_assets_dir, 'mano_downsampling.npz'))
    assert model.sampler.num_vertices == [778, 195, 49, 13, 4]
    vertices = model(torch.zeros(2, 48), torch.zeros(2, 10))
    assert model.sampler.downsample(vertices, 0, 1).shape == (2, 195, 3)
