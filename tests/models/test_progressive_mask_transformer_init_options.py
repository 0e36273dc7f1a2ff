"""Head options that change only the starting point of training: ``camera_init`` (camera regressor bias) and
``template_offsets`` (joints / coarse vertices as offsets from the centred zero-pose mesh). Defaults are official."""
import math

import pytest
import torch
from mmpose.registry import MODELS

from pointhmr.models.heads.mesh_regressor import MeshRegressor
from pointhmr.models.necks import PointGuidedSamplerOutput
from pointhmr.utils import load_model_config

HAND = dict(type='MANOHandModel')


def _hand_head_cfg(**options) -> dict:
    cfg = load_model_config('pointhmr_light', body_model=HAND)['head']
    cfg.update(num_joints=None, num_vertices=None, **options)
    return cfg


def _build(cfg: dict, seed: int = 0):
    torch.manual_seed(seed)
    return MODELS.build(cfg).eval()


def _tokens(batch: int = 2, channels: int = 64) -> PointGuidedSamplerOutput:
    torch.manual_seed(1)
    return PointGuidedSamplerOutput(torch.randn(batch, 1, channels), torch.randn(batch, 49, channels),
                                    torch.randn(batch, 195, channels), torch.randn(batch, 195, 56, 56))


def test_camera_init_sets_only_the_camera_bias():
    default = _build(_hand_head_cfg())
    explicit_none = _build(_hand_head_cfg(camera_init=None))
    scaled = _build(_hand_head_cfg(camera_init=(8., 0.5, -0.25)))
    for name, value in default.state_dict().items():
        assert torch.equal(value, explicit_none.state_dict()[name]), name
        if name != 'transformer.cam_predictor.bias':
            assert torch.equal(value, scaled.state_dict()[name]), name
    assert torch.equal(scaled.transformer.cam_predictor.bias.detach(), torch.tensor([8., 0.5, -0.25]))
    assert not torch.equal(default.transformer.cam_predictor.bias, scaled.transformer.cam_predictor.bias)
    with torch.no_grad():
        scaled.transformer.cam_predictor.weight.zero_()
        camera = scaled(_tokens())['camera']
    assert torch.allclose(camera, torch.tensor([[8., 0.5, -0.25]] * 2))


def test_camera_init_rejects_a_wrong_length():
    with pytest.raises(ValueError, match='camera_init'):
        MeshRegressor(embed_dims=32, reduced_dims=16, feedforward_channels=(32, 32), num_layers=1, camera_init=(8., 0.))


def test_template_offsets_add_the_centred_template_to_the_regressed_points():
    plain = _build(_hand_head_cfg())
    offset = _build(_hand_head_cfg(template_offsets=True))
    assert not hasattr(plain, 'template_xyz')
    # the template is a non-persistent buffer: checkpoints are unchanged and load both ways
    assert set(plain.state_dict()) == set(offset.state_dict())
    # a fresh head starts exactly at the template (zero-initialised xyz regressor)
    with torch.no_grad():
        fresh = offset(_tokens())
    assert torch.equal(fresh['joints'], offset.template_xyz[None, :21].expand(2, -1, -1))
    assert torch.equal(fresh['vertices_195'], offset.template_xyz[None, 21:].expand(2, -1, -1))
    offset.load_state_dict(plain.state_dict(), strict=True)
    with torch.no_grad():
        ref, out = plain(_tokens()), offset(_tokens())
    template = offset.template_xyz
    assert template.shape == (21 + 195, 3)
    assert torch.allclose(out['joints'], ref['joints'] + template[:21], atol=1e-6)
    assert torch.allclose(out['vertices_195'], ref['vertices_195'] + template[21:], atol=1e-6)
    assert torch.allclose(out['camera'], ref['camera'])

    # zero offsets: the output is the zero-pose mesh turned into the camera frame (pi about x) and centred as the
    # ground truth meshes
    body = offset.body_model
    pose = torch.zeros(1, body.num_pose_params)
    pose[0, 0] = math.pi
    with torch.no_grad():
        offset.transformer.xyz_regressor.weight.zero_()
        offset.transformer.xyz_regressor.bias.zero_()
        out = offset(_tokens())
        gt_coarse, gt_full = offset.ground_truth_meshes(pose, torch.zeros(1, 10))
    assert torch.allclose(out['vertices_195'][0], gt_coarse[0], atol=1e-6)
    assert torch.allclose(out['joints'][0], body.keypoints(gt_full)[0], atol=1e-6)
    assert torch.allclose(out['joints'][0, body.root_keypoint], torch.zeros(3), atol=1e-6)
    assert float(out['joints'].abs().max()) > 0.05  # a real hand (metres), not zeros


def test_embedding_init_std_scales_only_the_learned_token_codes():
    default = _build(_hand_head_cfg())
    small = _build(_hand_head_cfg(embedding_init_std=0.02))
    for head, low, high in ((default, 0.9, 1.1), (small, 0.018, 0.022)):
        for name in ('joint_token_embed', 'token_position_embed'):
            assert low < float(getattr(head, name).weight.std()) < high, name
    assert set(default.state_dict()) == set(small.state_dict())


def test_template_global_orient_turns_the_template():
    upright = _build(_hand_head_cfg(template_offsets=True)).template_xyz  # default: pi about x (camera frame)
    model_frame = _build(_hand_head_cfg(template_offsets=True, template_global_orient=(0., 0., 0.))).template_xyz
    # pi about x maps (x, y, z) to (x, -y, -z); both are centred the same way
    torch.testing.assert_close(upright, model_frame * torch.tensor([1., -1., -1.]), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match='template_global_orient'):
        _build(_hand_head_cfg(template_offsets=True, template_global_orient=(0., 0.)))
