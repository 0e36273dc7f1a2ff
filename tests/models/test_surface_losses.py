"""Surface regularisers (edge length, normals, Laplacian) and their use by the head (weight 0 = official = absent)."""
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from sample_helpers import random_labels

from pointhmr.body.mesh_geometry import mesh_edges
from pointhmr.models.losses import edge_length_loss, laplacian_coordinates, laplacian_loss, normal_loss
from pointhmr.models.necks import PointGuidedSamplerOutput
from pointhmr.utils import load_model_config

#: a unit square in the z = 0 plane split into two triangles
SQUARE = torch.tensor([[[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.]]])
SQUARE_FACES = torch.tensor([[0, 1, 2], [0, 2, 3]])
ONE = torch.ones(1)


def test_mesh_edges_are_unique_sorted_and_skip_degenerate_faces():
    edges = mesh_edges(np.array([[0, 1, 2], [0, 2, 3], [4, 4, 1]]))
    assert edges.tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 4], [2, 3]]
    with pytest.raises(ValueError, match='faces'):
        mesh_edges(np.zeros((0, 3)))


def test_edge_length_loss_hand_computed():
    edges = torch.as_tensor(mesh_edges(SQUARE_FACES.numpy()))
    stretched = SQUARE * torch.tensor([2., 1., 1.])  # x doubles: edges 0-1 and 2-3 grow by 1, the diagonal by
    expected = (1 + 1 + (5**0.5 - 2**0.5)) / 5  # sqrt(5) - sqrt(2); 0-3 and 1-2 unchanged; 5 unique edges
    assert float(edge_length_loss(stretched, SQUARE, edges, ONE)) == pytest.approx(expected, rel=1e-6)
    # rigid motion keeps every length
    moved = SQUARE @ torch.tensor([[0., 1., 0.], [-1., 0., 0.], [0., 0., 1.]]) + 3.
    assert float(edge_length_loss(moved, SQUARE, edges, ONE)) == pytest.approx(0., abs=1e-6)


def test_normal_loss_is_zero_in_plane_and_counts_out_of_plane_edges():
    in_plane = SQUARE * torch.tensor([3., 0.5, 1.]) + torch.tensor([1., 2., 0.])
    assert float(normal_loss(in_plane, SQUARE, SQUARE_FACES, ONE)) == pytest.approx(0., abs=1e-7)
    lifted = SQUARE.clone()
    lifted[0, 2, 2] = 1.  # vertex 2 up by 1: edges 1-2 (|cos| 1/sqrt2), 0-2 (1/sqrt3), 2-3 (1/sqrt2)
    expected = (1 / 2**0.5 + 1 / 3**0.5 + 0 + 1 / 3**0.5 + 0 + 1 / 2**0.5) / 6
    assert float(normal_loss(lifted, SQUARE, SQUARE_FACES, ONE)) == pytest.approx(expected, rel=1e-6)


def test_laplacian_coordinates_and_loss():
    edges = torch.as_tensor(mesh_edges(SQUARE_FACES.numpy()))
    delta = laplacian_coordinates(SQUARE, edges)
    # vertex 0 has neighbours 1, 2, 3: mean (2/3, 2/3, 0); vertex 1 has 0 and 2: mean (0.5, 0.5, 0)
    assert torch.allclose(delta[0, 0], torch.tensor([-2 / 3, -2 / 3, 0.]))
    assert torch.allclose(delta[0, 1], torch.tensor([0.5, -0.5, 0.]))
    # translation-invariant, sensitive to a bump
    assert float(laplacian_loss(SQUARE + 5., SQUARE, edges, ONE)) == pytest.approx(0., abs=1e-6)
    bumped = SQUARE.clone()
    bumped[0, 0, 2] = 0.3
    assert float(laplacian_loss(bumped, SQUARE, edges, ONE)) > 0.01


@pytest.mark.parametrize('loss', [edge_length_loss, laplacian_loss])
def test_surface_losses_skip_samples_without_smpl_and_keep_the_graph(loss):
    edges = torch.as_tensor(mesh_edges(SQUARE_FACES.numpy()))
    pred = torch.cat((SQUARE, SQUARE * 2)).requires_grad_(True)
    target = torch.cat((SQUARE, SQUARE))
    assert float(loss(pred, target, edges, torch.tensor([1., 0.])).detach()) == pytest.approx(0., abs=1e-6)
    empty = loss(pred, target, edges, torch.zeros(2))
    empty.backward()
    assert float(empty.detach()) == 0. and pred.grad is not None


def _samples(count: int = 2):
    samples = []
    for seed in range(count):
        sample = PoseDataSample()
        sample.gt_instance_labels = random_labels(seed)
        samples.append(sample)
    return samples


def _head(**loss_weights):
    cfg = load_model_config('pointhmr_light')['head']
    torch.manual_seed(0)
    return MODELS.build(dict(cfg, dropout=0., loss_weights=loss_weights))


def test_head_adds_only_the_weighted_surface_losses_on_the_token_level():
    light_batch_samples = _samples()
    official = _head()
    assert official.surface_levels == (official.body_model.token_level, )
    assert official.surface_faces_431.shape[1] == 3 and int(official.surface_edges_431.max()) == 430
    torch.manual_seed(2)
    feats = PointGuidedSamplerOutput(torch.randn(2, 1, 64), torch.randn(2, 49, 64), torch.randn(2, 431, 64),
                                     torch.randn(2, 431, 56, 56))
    plain = official.loss(feats, light_batch_samples)
    assert not {'loss_edge_length', 'loss_normal', 'loss_laplacian'} & set(plain)
    regularised = _head(edge_length=100., laplacian=50., normal=0.)
    regularised.load_state_dict(official.state_dict())
    losses = regularised.loss(feats, light_batch_samples)
    assert {'loss_edge_length', 'loss_laplacian'} <= set(losses) and 'loss_normal' not in losses
    for key in plain:
        assert torch.equal(plain[key], losses[key]), key
    preds = regularised._regress(feats)
    gt = regularised.ground_truth_meshes(*[
        torch.stack([torch.as_tensor(s.gt_instance_labels[k]).reshape(-1) for s in light_batch_samples])
        for k in ('smpl_pose', 'smpl_betas')
    ])
    expected = 100. * edge_length_loss(preds['vertices_431'], gt[0], regularised.surface_edges_431, torch.ones(2))
    assert torch.allclose(losses['loss_edge_length'], expected)
    losses['loss_laplacian'].backward()
    assert regularised.transformer.xyz_regressor.weight.grad.abs().sum() > 0


def test_head_surface_levels_sum_over_levels_and_bad_levels():
    cfg = load_model_config('pointhmr_light')['head']
    two = MODELS.build(dict(cfg, surface_levels=(2, 0), loss_weights=dict(edge_length=1.)))
    assert int(two.surface_edges_6890.max()) == 6889 and int(two.surface_edges_431.max()) == 430
    torch.manual_seed(1)
    pred = [torch.randn(2, n, 3) for n in (431, 1723, 6890)]
    gt = [torch.randn(2, n, 3) for n in (431, 1723, 6890)]
    losses = two._surface_losses(pred, gt, torch.ones(2))
    expected = (edge_length_loss(pred[0], gt[0], two.surface_edges_431, torch.ones(2)) +
                edge_length_loss(pred[2], gt[2], two.surface_edges_6890, torch.ones(2)))
    assert set(losses) == {'loss_edge_length'} and torch.allclose(losses['loss_edge_length'], expected)
    for bad in ((5, ), (2, 2), ()):
        with pytest.raises(ValueError, match='surface_levels'):
            MODELS.build(dict(cfg, surface_levels=bad))


def test_surface_losses_are_float32_under_autocast():
    head = _head(edge_length=1., normal=1., laplacian=1.)
    torch.manual_seed(2)
    feats = PointGuidedSamplerOutput(torch.randn(2, 1, 64), torch.randn(2, 49, 64), torch.randn(2, 431, 64),
                                     torch.randn(2, 431, 56, 56))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss(feats, _samples())
    for key in ('loss_edge_length', 'loss_normal', 'loss_laplacian'):
        assert losses[key].dtype == torch.float32 and torch.isfinite(losses[key]), key
