"""The PointHMR head and estimator on the MANO hand model (embedded synthetic hand; real METRO graph when available):
266 tokens, output shapes, hop masks on the 195-vertex graph, per-level loss weights, wrist-centred targets."""
from collections import deque

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from pointhmr.body import MANOHandModel, graph_hops
from pointhmr.body.mesh_sampler import MeshSampler
from pointhmr.models.necks import PointGuidedSamplerOutput
from pointhmr.utils import load_model_config

HAND = dict(type='MANOHandModel')


def _hand_model_cfg(name: str = 'pointhmr_light') -> dict:
    cfg = load_model_config(name, body_model=HAND)
    cfg['neck']['num_vertices'] = 195
    cfg['head'].update(num_joints=None, num_vertices=None)
    return cfg


@pytest.fixture(scope='module')
def hand_head():
    return MODELS.build(_hand_model_cfg()['head']).eval()


def _tokens(batch: int = 2, channels: int = 64) -> PointGuidedSamplerOutput:
    torch.manual_seed(1)
    return PointGuidedSamplerOutput(torch.randn(batch, 1, channels), torch.randn(batch, 49, channels),
                                    torch.randn(batch, 195, channels), torch.randn(batch, 195, 56, 56))


def _bfs_reach(adjacency, hops: int) -> np.ndarray:
    """k-hop reachability by breadth-first search from every vertex (independent of graph_hops)."""
    adjacency = adjacency.tocsr()
    num = adjacency.shape[0]
    reach = np.zeros((num, num), dtype=bool)
    for start in range(num):
        dist = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if dist[node] == hops:
                continue
            for nxt in adjacency.indices[adjacency.indptr[node]:adjacency.indptr[node + 1]]:
                if adjacency[node, nxt] != 0 and int(nxt) not in dist:
                    dist[int(nxt)] = dist[node] + 1
                    queue.append(int(nxt))
        reach[start, list(dist)] = True
    return reach


def test_hand_head_has_266_tokens_and_mano_output_shapes(hand_head):
    assert (hand_head.num_joints, hand_head.num_vertices, hand_head.num_tokens) == (21, 195, 266)
    assert hand_head.level_sizes == (195, 778)
    assert hand_head.token_position_embed.weight.shape[0] == 266
    assert hand_head.joint_token_embed.weight.shape[0] == 21
    with torch.no_grad():
        out = hand_head(_tokens())
    assert out['camera'].shape == (2, 3) and out['joints'].shape == (2, 21, 3)
    assert out['vertices_195'].shape == (2, 195, 3) and out['vertices'].shape == (2, 778, 3)
    assert out['heatmap'].shape == (2, 195, 112 * 112)
    assert 'vertices_431' not in out
    sampler = hand_head.body_model.sampler
    assert torch.allclose(out['vertices'], sampler.upsample(out['vertices_195'], 1, 0), atol=1e-6)
    for mask in hand_head.attention_masks:
        assert mask.shape == (266, 266)
        assert not mask[:71].any() and not mask[:, :71].any()  # camera, 49 grid and 21 joint tokens are free


def test_hand_hop_masks_match_breadth_first_search_on_the_195_graph(hand_head):
    adjacency = hand_head.body_model.sampler.adjacency(1)
    assert adjacency.shape == (195, 195)
    for mask, hops in zip(hand_head.attention_masks, (7, 5, 3, 1)):
        expected = _bfs_reach(adjacency, hops)
        np.testing.assert_array_equal(~mask[71:, 71:].numpy(), expected)
    assert (~hand_head.attention_masks[3][71:, 71:]).sum() < (~hand_head.attention_masks[0][71:, 71:]).sum()


def test_hop_masks_on_the_real_mano_195_graph(real_smpl_assets):
    sampler = MeshSampler.from_file(real_smpl_assets / 'mano_downsampling.npz')
    assert sampler.num_vertices[:2] == [778, 195]
    adjacency = sampler.adjacency(1)
    for hops in (1, 3):
        np.testing.assert_array_equal(graph_hops.hop_reachability(adjacency, hops), _bfs_reach(adjacency, hops))


def test_head_rejects_token_counts_that_contradict_the_mesh_model():
    cfg = _hand_model_cfg()['head']
    with pytest.raises(ValueError, match='num_vertices=431 but the mesh model MANOHandModel has 195'):
        MODELS.build(dict(cfg, num_vertices=431))
    with pytest.raises(ValueError, match='num_joints=14'):
        MODELS.build(dict(cfg, num_joints=14))
    with pytest.raises(ValueError, match='vertices_195'):
        MODELS.build(dict(cfg, loss_weights=dict(vertices_431=1.)))


def _hand_sample(hand: MANOHandModel, seed: int) -> PoseDataSample:
    """A labelled sample whose 21 label joints are the keypoints of the posed GT hand (camera frame, not centred)."""
    generator = torch.Generator().manual_seed(seed)
    pose, betas = 0.2 * torch.randn(1, 48, generator=generator), torch.randn(1, 10, generator=generator)
    with torch.no_grad():
        keypoints = hand.keypoints(hand(pose, betas)) + torch.tensor([0.1, -0.05, 0.6])
    sample = PoseDataSample()
    sample.gt_instance_labels = InstanceData(keypoints_2d=torch.cat(
        [torch.rand(1, 21, 2, generator=generator) * 2 - 1,
         torch.ones(1, 21, 1)], -1),
                                             keypoints_3d=torch.cat([keypoints, torch.ones(1, 21, 1)], -1),
                                             smpl_pose=pose,
                                             smpl_betas=betas,
                                             has_2d_joints=torch.ones(1),
                                             has_3d_joints=torch.ones(1),
                                             has_smpl=torch.ones(1))
    return sample


def test_hand_loss_uses_wrist_centred_targets_and_per_level_weights(hand_head):
    hand = hand_head.body_model
    samples = [_hand_sample(hand, seed) for seed in range(2)]
    tokens = _tokens()
    losses = hand_head.loss(tokens, samples)
    assert set(losses) == {
        'loss_joints_3d', 'loss_joints_3d_reg', 'loss_vertices', 'loss_joints_2d', 'loss_joints_2d_reg', 'loss_heatmap'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    # the vertex loss is the weighted sum of the two levels against the wrist-centred GT meshes
    with torch.no_grad():
        out = hand_head(tokens)
        pose = torch.cat([s.gt_instance_labels.smpl_pose for s in samples])
        betas = torch.cat([s.gt_instance_labels.smpl_betas for s in samples])
        gt = hand.center(hand(pose, betas))
        assert torch.allclose(hand.keypoints(gt)[:, 0], torch.zeros(2, 3), atol=1e-6)
        expected = 100. * (0.33 * (out['vertices_195'] - hand.sampler.downsample(gt, 0, 1)).abs().mean() + 0.33 *
                           (out['vertices'] - gt).abs().mean())
    assert torch.allclose(losses['loss_vertices'], expected, rtol=1e-5)
    # per-level weights are configurable by the level sizes: only the 195-vertex level
    weighted = MODELS.build(dict(_hand_model_cfg()['head'], loss_weights=dict(vertices_195=1., vertices_778=0.)))
    weighted.load_state_dict(hand_head.state_dict())
    weighted.eval()
    with torch.no_grad():
        vertices_loss = weighted.loss(tokens, samples)['loss_vertices']
    expected_195 = 100. * (out['vertices_195'] - hand.sampler.downsample(gt, 0, 1)).abs().mean()
    assert torch.allclose(vertices_loss, expected_195, rtol=1e-5)


def test_hand_estimator_predicts_21_keypoints_and_778_vertices():
    model = MODELS.build(_hand_model_cfg()).eval()
    sample = PoseDataSample(
        metainfo=dict(input_size=(224, 224), input_center=np.array([112., 112.]), input_scale=np.array([224., 224.])))
    sample.gt_instances = InstanceData(bboxes=np.array([[0., 0., 224., 224.]]), bbox_scores=np.ones(1))
    with torch.no_grad():
        pred = model.predict(torch.rand(1, 3, 224, 224) * 255, [sample])[0].pred_instances
    assert pred.keypoints.shape == (1, 21, 2) and pred.keypoints_3d.shape == (1, 21, 3)
    assert pred.vertices.shape == (1, 778, 3) and pred.joints_14.shape == (1, 21, 3)
    np.testing.assert_allclose(pred.keypoints_3d[0, 0], 0., atol=1e-6)  # wrist-centred


def test_hrnet_w32_hand_model_keeps_the_official_layout_with_266_tokens():
    model = MODELS.build(_hand_model_cfg('pointhmr_hrnet-w32'))
    assert model.head.num_tokens == 266
    assert model.neck.cam_layer.in_features == 195
    assert model.head.vertex_token_embed.weight.shape == (195, 512)  # kept like the official body model's
