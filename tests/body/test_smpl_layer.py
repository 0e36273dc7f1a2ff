import os

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from pointhmr.body import SMPLBodyModel
from pointhmr.body.joints import H36M_NAMES


def _axis_angle_to_matrix(pose):
    angle = pose.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    axis = pose / angle
    x, y, z = axis.unbind(-1)
    zeros = torch.zeros_like(x)
    skew = torch.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], -1).reshape(*pose.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=pose.dtype).expand_as(skew)
    sin, cos = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
    return eye + sin * skew + (1 - cos) * skew @ skew


def test_registered_and_shapes(body_model):
    assert MODELS.get('SMPLBodyModel') is SMPLBodyModel
    pose, betas = 0.2 * torch.randn(3, 72), torch.randn(3, 10)
    vertices = body_model(pose, betas)
    assert vertices.shape == (3, 6890, 3) and torch.isfinite(vertices).all()
    assert body_model.h36m_joints(vertices).shape == (3, 17, 3)
    assert body_model.smpl_joints(pose, betas).shape == (3, 24, 3)
    assert body_model.faces.dtype == np.int64 and body_model.faces.shape[1] == 3
    assert body_model.num_vertices == 6890 and body_model.sampler.num_vertices == [6890, 1723, 431]
    assert body_model.sampler.downsample(vertices, 0, 2).shape == (3, 431, 3)


def test_center_subtracts_the_regressed_pelvis(body_model):
    vertices = body_model(0.2 * torch.randn(2, 72), torch.randn(2, 10)) + torch.tensor([0.5, -1.0, 3.0])
    centred = body_model.center(vertices)
    pelvis = body_model.h36m_joints(vertices)[:, H36M_NAMES.index('Pelvis')]
    torch.testing.assert_close(centred + pelvis[:, None], vertices)
    torch.testing.assert_close(body_model.h36m_joints(centred)[:, 0], torch.zeros(2, 3), atol=1e-6, rtol=0)


def test_zero_pose_gives_template(body_model):
    vertices = body_model(torch.zeros(1, 72), torch.zeros(1, 10))
    torch.testing.assert_close(vertices[0], body_model.smpl.v_template)


def test_rotation_matrix_pose_matches_axis_angle(body_model):
    pose, betas = 0.4 * torch.randn(2, 72), torch.randn(2, 10)
    rotmats = _axis_angle_to_matrix(pose.reshape(2, 24, 3))
    torch.testing.assert_close(body_model(rotmats, betas), body_model(pose, betas), atol=1e-5, rtol=1e-4)


def test_bending_elbow_moves_hand_not_feet(body_model):
    template = body_model.smpl.v_template
    rest = body_model(torch.zeros(1, 72), torch.zeros(1, 10))[0]
    pose = torch.zeros(1, 72)
    pose[0, 18 * 3 + 1] = -1.5  # left elbow (SMPL joint 18) about y
    bent = body_model(pose, torch.zeros(1, 10))[0]
    moved = (bent - rest).norm(dim=-1)
    left_hand, feet = template[:, 0] > 0.75, template[:, 1] < -1.0
    right_arm, torso = template[:, 0] < -0.3, template[:, 0].abs() < 0.12
    assert moved[left_hand].min() > 0.2
    assert moved[feet].max() < 1e-6 and moved[right_arm].max() < 1e-6 and moved[torso].max() < 1e-6
    joints = body_model.h36m_joints(torch.stack([rest, bent]))
    wrist = H36M_NAMES.index('L_Wrist')
    assert (joints[1, wrist] - joints[0, wrist]).norm() > 0.2


def test_betas_change_height_and_girth(body_model):

    def extent(betas, axis):
        vertices = body_model(torch.zeros(1, 72), betas)[0]
        return float(vertices[:, axis].max() - vertices[:, axis].min())

    zero = torch.zeros(1, 10)
    taller = zero.clone()
    taller[0, 0] = 2.0
    assert extent(taller, 1) > extent(zero, 1) + 0.1
    heavier = zero.clone()
    heavier[0, 1] = 2.0
    template = body_model.smpl.v_template
    waist = (template[:, 1] - 0.0).abs() < 0.03
    depth = lambda b: float(body_model(torch.zeros(1, 72), b)[0][waist, 2].max())  # noqa: E731
    assert depth(heavier) > depth(zero) + 0.02


def test_body_arrays_are_not_in_parent_state_dict(body_model):

    class Parent(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)
            self.body = body_model

    parent = Parent()
    assert set(parent.state_dict()) == {'linear.weight', 'linear.bias'}
    assert list(body_model.parameters()) == []
    parent.load_state_dict(Parent().state_dict(), strict=True)


def test_default_arguments_use_synthetic_body(tmp_path, monkeypatch):
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path))
    model = SMPLBodyModel()
    assert model.model_file.startswith(str(tmp_path))
    assert model(torch.zeros(1, 72), torch.zeros(1, 10)).shape == (1, 6890, 3)


def test_missing_files_explain_what_to_do(tmp_path, synthetic_files):
    with pytest.raises(FileNotFoundError, match='SMPLify'):
        SMPLBodyModel(model_path=tmp_path / 'basicModel_neutral_lbs_10_207_0_v1.0.0.pkl')
    with pytest.raises(FileNotFoundError, match='SMPL_NEUTRAL.pkl'):
        SMPLBodyModel(model_path=tmp_path)
    with pytest.raises(FileNotFoundError, match='h36m_regressor_path'):
        SMPLBodyModel(model_path=synthetic_files['model_path'], h36m_regressor_path=tmp_path / 'none.npy')
    with pytest.raises(ValueError, match='gender'):
        SMPLBodyModel(gender='other')


def test_folder_model_path(tmp_path, synthetic_files):
    os.symlink(synthetic_files['model_path'], tmp_path / 'basicModel_neutral_lbs_10_207_0_v1.0.0.pkl')
    model = SMPLBodyModel(model_path=tmp_path,
                          h36m_regressor_path=synthetic_files['h36m_regressor_path'],
                          mesh_sampler_path=synthetic_files['mesh_sampler_path'])
    assert model.model_file.endswith('basicModel_neutral_lbs_10_207_0_v1.0.0.pkl')


def test_fake_chumpy_smpl_pickle(tmp_path, synthetic_body, synthetic_files, write_fake_chumpy_pickle):
    path = write_fake_chumpy_pickle(tmp_path / 'basicModel_neutral_lbs_10_207_0_v1.0.0.pkl', synthetic_body['smpl'])
    model = SMPLBodyModel(model_path=path,
                          h36m_regressor_path=synthetic_files['h36m_regressor_path'],
                          mesh_sampler_path=synthetic_files['mesh_sampler_path'])
    reference = SMPLBodyModel(**synthetic_files)
    pose, betas = 0.3 * torch.randn(2, 72), torch.randn(2, 10)
    torch.testing.assert_close(model(pose, betas), reference(pose, betas))


def test_real_regressor_and_sampler(smpl_assets_dir, synthetic_files):
    model = SMPLBodyModel(model_path=synthetic_files['model_path'],
                          h36m_regressor_path=os.path.join(smpl_assets_dir, 'J_regressor_h36m_correct.npy'),
                          mesh_sampler_path=os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))
    assert model.sampler.faces(0).shape == (13776, 3)
    vertices = model(torch.zeros(1, 72), torch.zeros(1, 10))
    assert model.h36m_joints(vertices).shape == (1, 17, 3)
