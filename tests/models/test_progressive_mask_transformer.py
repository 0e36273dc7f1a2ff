"""Tests of ProgressiveMaskTransformerHead (light widths, faithful token counts, stand-in body unless noted)."""
from collections import deque

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from torch import nn

from pointhmr.body.joints import H36M_TO_J14, J24_TO_J14
from pointhmr.codecs import weak_perspective_project
from pointhmr.models.necks import PointGuidedSamplerOutput
from pointhmr.utils import load_model_config


@pytest.fixture
def make_head(stand_in_body_cfg):
    """Build the light head on the stand-in body, with overrides."""

    def build(**overrides):
        cfg = load_model_config('pointhmr_light', body_model=stand_in_body_cfg)['head']
        cfg.update(overrides)
        return MODELS.build(cfg).eval()

    return build


def _tokens(batch: int = 2, channels: int = 64) -> PointGuidedSamplerOutput:
    torch.manual_seed(1)
    return PointGuidedSamplerOutput(torch.randn(batch, 1, channels), torch.randn(batch, 49, channels),
                                    torch.randn(batch, 431, channels), torch.randn(batch, 431, 56, 56))


def _lattice_hops(num: int, hops: int, width: int) -> np.ndarray:
    """Reachability on the stand-in's 4-neighbour lattice by breadth-first search (independent of graph_hops)."""
    reach = np.zeros((num, num), dtype=bool)
    for start in range(num):
        dist = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if dist[node] == hops:
                continue
            row, col = divmod(node, width)
            for nxt in (node - width, node + width, node - 1 if col > 0 else -1, node + 1 if col < width - 1 else -1):
                if 0 <= nxt < num and nxt not in dist:
                    dist[nxt] = dist[node] + 1
                    queue.append(nxt)
        reach[start, list(dist)] = True
    return reach


def _sample(has_smpl: float = 1., has_3d: float = 1., seed: int = 0) -> PoseDataSample:
    generator = torch.Generator().manual_seed(seed)
    keypoints_3d = torch.cat([0.2 * torch.randn(1, 24, 3, generator=generator), torch.ones(1, 24, 1)], dim=-1)
    keypoints_2d = torch.cat([torch.rand(1, 24, 2, generator=generator) * 2 - 1, torch.ones(1, 24, 1)], dim=-1)
    sample = PoseDataSample()
    sample.gt_instance_labels = InstanceData(keypoints_2d=keypoints_2d,
                                             keypoints_3d=keypoints_3d,
                                             smpl_pose=0.1 * torch.randn(1, 72, generator=generator),
                                             smpl_betas=torch.randn(1, 10, generator=generator),
                                             has_2d_joints=torch.ones(1),
                                             has_3d_joints=torch.full((1, ), has_3d),
                                             has_smpl=torch.full((1, ), has_smpl))
    return sample


def test_forward_shapes_heatmap_and_upsampling(make_head):
    head = make_head()
    tokens = _tokens()
    with torch.no_grad():
        out = head(tokens)
    assert out['camera'].shape == (2, 3)
    assert out['joints'].shape == (2, 14, 3)
    assert out['vertices_431'].shape == (2, 431, 3)
    assert out['vertices_1723'].shape == (2, 1723, 3)
    assert out['vertices'].shape == (2, 6890, 3)
    assert out['heatmap'].shape == (2, 431, 112 * 112)
    expected = F.interpolate(tokens.heatmap_logits, scale_factor=2, mode='nearest').flatten(2).softmax(-1)
    assert torch.allclose(out['heatmap'], expected, atol=1e-7)
    coarse = tokens.heatmap_logits.flatten(2).softmax(-1).view(2, 431, 56, 56)
    assert torch.allclose(out['heatmap'].view(2, 431, 112, 112)[:, :, 1::2, ::2], coarse / 4, atol=1e-7)
    sampler = head.body_model.sampler
    assert torch.allclose(out['vertices_1723'], sampler.upsample(out['vertices_431'], 2, 1), atol=1e-6)
    assert torch.allclose(out['vertices'], sampler.upsample(out['vertices_1723'], 1, 0), atol=1e-6)


def test_parameter_names_and_no_body_state(make_head):
    head = make_head(keep_unused_embeddings=True)
    keys = set(head.state_dict())
    assert {
        'joint_token_embed.weight', 'token_position_embed.weight', 'cam_token_embed.weight',
        'vertex_token_embed.weight', 'transformer.transformer_1.layers.0.self_attn.in_proj_weight',
        'transformer.transformer_2.norm.weight', 'transformer.transformer_4.norm.bias', 'transformer.dim_reduce.weight',
        'transformer.xyz_regressor.bias', 'transformer.cam_predictor.weight'
    } <= keys
    assert 'transformer.transformer_1.norm.weight' not in keys and 'transformer.transformer_3.norm.weight' not in keys
    assert not any('body' in k or 'mask' in k or 'sampler' in k for k in keys)
    assert head.token_position_embed.weight.shape == (495, 32)
    assert 'cam_token_embed.weight' not in make_head(keep_unused_embeddings=False).state_dict()


def test_body_model_is_a_submodule_without_state(make_head):
    head = make_head()
    assert dict(head.named_children())['body_model'] is head.body_model
    assert any(m is head.body_model for m in head.modules())
    assert not any(k.startswith('body_model') for k in head.state_dict())
    assert not any(n.startswith('body_model') for n, _ in head.named_parameters())


@MODELS.register_module(force=True)
class StatefulBodyModel(nn.Module):
    """A body model that keeps a persistent buffer: it would add entries to the head's state_dict."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer('template', torch.zeros(4, 3))


def test_body_model_with_persistent_state_is_rejected(make_head):
    with pytest.raises(ValueError, match=r"StatefulBodyModel has parameters or persistent buffers \(\['template'\]"):
        make_head(body_model=dict(type='StatefulBodyModel'))


def test_body_model_follows_dtype_moves(make_head):
    head = make_head().double()
    assert head.body_model.template.dtype == torch.float64
    tokens = PointGuidedSamplerOutput(*(t.double() for t in _tokens()))
    with torch.no_grad():
        assert head(tokens)['vertices'].dtype == torch.float64


def test_progressive_masks_on_lattice(make_head, lattice_width):
    head = make_head()
    masks = head.attention_masks
    prefix = 64
    counts = []
    for mask, hops in zip(masks, (7, 5, 3, 1)):
        assert mask.shape == (495, 495) and mask.dtype == torch.bool
        assert not mask[:prefix].any() and not mask[:, :prefix].any()  # non-vertex tokens unrestricted
        reach = _lattice_hops(431, hops, lattice_width)
        assert np.array_equal(~mask[prefix:, prefix:].numpy(), reach)
        counts.append(int((~mask).sum()))
    assert counts == sorted(counts, reverse=True)  # wide -> narrow
    for mask, bias in zip(masks, head.attention_biases):  # the additive float masks the transformer uses, built once
        assert bias.dtype == torch.float32 and torch.equal(bias == float('-inf'), mask) and (bias[~mask] == 0).all()
    assert head.attention_biases[0] is head.attention_biases[0]
    assert all(m is None for m in make_head(hops=None).attention_masks)
    partial = make_head(hops=(None, 2, None, 1)).attention_masks
    assert partial[0] is None and partial[1] is not None
    with pytest.raises(ValueError, match='one entry per stack'):
        make_head(hops=(7, 5))


def test_masks_on_real_coarse_mesh_match_official_counts(make_head, real_smpl_assets):
    head = make_head(
        body_model=dict(type='SMPLBodyModel', mesh_sampler_path=str(real_smpl_assets / 'mesh_downsampling.npz')))
    allowed = [int((~mask).sum()) for mask in head.attention_masks]
    assert allowed == [135299, 102511, 76943, 62269]  # official behaviour §1.8: 7, 5, 3, 1 hops


def test_loss_terms_and_guards(make_head):
    head = make_head()
    tokens = _tokens()
    samples = [_sample(seed=0), _sample(has_smpl=0., seed=1)]
    losses = head.loss(tokens, samples)
    assert set(losses) == {
        'loss_joints_3d', 'loss_joints_3d_reg', 'loss_vertices', 'loss_joints_2d', 'loss_joints_2d_reg', 'loss_heatmap'
    }
    assert all(torch.isfinite(v) and v.item() > 0 for k, v in losses.items() if k != 'loss_heatmap')
    # the vertex term, recomputed from the outputs and the stand-in's pelvis-centred GT mesh of the SMPL sample only
    with torch.no_grad():
        out = head(tokens)
        body = head.body_model
        gt = body(samples[0].gt_instance_labels.smpl_pose, samples[0].gt_instance_labels.smpl_betas)
        gt = gt - body.h36m_joints(gt)[:, :1]
        terms = [(out['vertices_431'][:1] - body.sampler.downsample(gt, 0, 2)).abs().mean(),
                 (out['vertices_1723'][:1] - body.sampler.downsample(gt, 0, 1)).abs().mean(),
                 (out['vertices'][:1] - gt).abs().mean()]
    assert losses['loss_vertices'].item() == pytest.approx(100 * 0.33 * sum(terms).item(), rel=1e-4)

    # no sample with SMPL / 3-D joints: finite zeros that keep the graph (the official heatmap term was NaN)
    tokens_grad = PointGuidedSamplerOutput(*(t.clone().requires_grad_(True) for t in tokens))
    empty = head.loss(tokens_grad, [_sample(0., 0., seed=2), _sample(0., 0., seed=3)])
    for key in ('loss_heatmap', 'loss_vertices', 'loss_joints_3d', 'loss_joints_3d_reg'):
        assert empty[key].item() == 0.
    sum(empty.values()).backward()
    assert tokens_grad.cam_token.grad is not None
    with pytest.raises(ValueError, match='loss_weights'):
        make_head(loss_weights=dict(joint_3d=1.))


def test_heatmap_loss_reaches_heatmap_logits(make_head):
    head = make_head(loss_weights=dict(joints_3d=0., joints_3d_reg=0., vertices=0., joints_2d=0., joints_2d_reg=0.))
    tokens = _tokens(batch=1)
    logits = tokens.heatmap_logits.clone().requires_grad_(True)
    losses = head.loss(tokens._replace(heatmap_logits=logits), [_sample(seed=4)])
    camera = head(tokens)['camera']
    if camera[0, 0].abs() < 1e-3:
        pytest.skip('degenerate random camera')
    losses['loss_heatmap'].backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_training_loss_at_logit_resolution_equals_the_loss_on_the_112_heatmap(make_head):
    """``loss`` never builds the (B, N, 112*112) maps; same values and gradients as the loss on forward()'s heatmap."""
    head = make_head(heatmap_camera='ground_truth')  # fitted camera: targets inside the map
    tokens = PointGuidedSamplerOutput(*(t.clone().requires_grad_(True) for t in _tokens()))
    samples = [_sample(seed=0), _sample(seed=1)]
    fast = head.loss(tokens, samples)
    preds = head.forward(tokens)
    assert preds['heatmap'].shape[-1] == 112 * 112
    full = head.loss_by_predictions(preds, samples)
    assert fast.keys() == full.keys()
    for key in fast:
        assert fast[key].item() == pytest.approx(full[key].item(), rel=1e-6), key  # float32 sums in another order
    assert fast['loss_heatmap'].item() > 0
    grads_fast = torch.autograd.grad(sum(fast.values()), tokens)
    grads_full = torch.autograd.grad(sum(full.values()), tokens)
    for fast_grad, full_grad in zip(grads_fast, grads_full):
        torch.testing.assert_close(fast_grad, full_grad, rtol=1e-5, atol=1e-9)
    assert grads_fast[3].abs().sum() > 0  # the logits get the heatmap gradient


def test_predict_fields_in_crop_pixels(make_head):
    head = make_head()
    tokens = _tokens()
    with torch.no_grad():
        results = head.predict(tokens, [PoseDataSample(), PoseDataSample()])
        out = head(tokens)
        h36m = head.body_model.h36m_joints(out['vertices'])
    assert len(results) == 2
    first = results[0]
    assert first.keypoints.shape == (1, 17, 2) and first.keypoint_scores.shape == (1, 17)
    assert first.keypoints_3d.shape == (1, 17, 3) and first.vertices.shape == (1, 6890, 3)
    assert first.joints_14.shape == (1, 14, 3) and first.camera.shape == (1, 3)
    projected = out['camera'][1, 0] * (h36m[1, :, :2] + out['camera'][1, 1:])
    np.testing.assert_allclose(results[1].keypoints[0], ((projected + 1) * 112).numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(first.keypoints_3d[0, 0], np.zeros(3), atol=1e-6)  # pelvis-centred
    np.testing.assert_allclose(first.vertices[0], (out['vertices'][0] - h36m[0, :1]).numpy(), atol=1e-6)
    with pytest.raises(NotImplementedError, match='flip'):
        head.predict([tokens, tokens], [PoseDataSample()])


def _sample_projected_with(head, camera: torch.Tensor, seed: int = 5):
    """A sample whose 2-D J14 labels are the ground-truth mesh's joints projected with ``camera`` (1, 3), and that
    (1, 6890, 3) pelvis-centred ground-truth mesh."""
    sample = _sample(seed=seed)
    labels = sample.gt_instance_labels
    _, _, vertices = head.ground_truth_meshes(labels.smpl_pose.float(), labels.smpl_betas.float())
    joints = head.body_model.h36m_joints(vertices)[:, H36M_TO_J14]
    keypoints_2d = torch.zeros(1, 24, 3)
    keypoints_2d[:, J24_TO_J14, :2] = weak_perspective_project(joints, camera)
    keypoints_2d[:, J24_TO_J14, 2] = 1.
    labels.keypoints_2d = keypoints_2d
    return sample, vertices


def test_ground_truth_heatmap_camera_fits_the_labels_and_ignores_the_predicted_camera(make_head):
    true_camera = torch.tensor([[0.9, 0.05, -0.1]])
    head = make_head(heatmap_camera='ground_truth')
    sample, vertices = _sample_projected_with(head, true_camera)
    joints_2d = sample.gt_instance_labels.keypoints_2d[:, J24_TO_J14]
    predicted = torch.tensor([[2.0, 0.3, 0.3]])
    assert torch.allclose(head._point_camera(predicted, vertices, joints_2d), true_camera, atol=1e-5)
    # labels that cannot fix a camera (no confident joint): the predicted camera is used
    assert torch.equal(head._point_camera(predicted, vertices, joints_2d * torch.tensor([1., 1., 0.])), predicted)

    # the point targets no longer move with the predicted camera; with the official setting they do
    tokens = _tokens(batch=1)
    moved = tokens._replace(cam_token=tokens.cam_token + 3.)
    fitted = [head.loss(t, [sample])['loss_heatmap'] for t in (tokens, moved)]
    assert torch.equal(fitted[0], fitted[1])
    official = make_head(heatmap_camera='predicted')
    official.load_state_dict(head.state_dict())
    assert not torch.equal(
        official.loss(tokens, [sample])['loss_heatmap'],
        official.loss(moved, [sample])['loss_heatmap'])


def test_unknown_heatmap_camera_is_refused(make_head):
    with pytest.raises(ValueError, match='heatmap_camera'):
        make_head(heatmap_camera='gt')
