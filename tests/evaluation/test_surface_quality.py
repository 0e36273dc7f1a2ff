"""Surface-quality figures: edge-length error and normal consistency, alone, in MeshMetric and in the baseline."""
import numpy as np
import pytest
from metric_helpers import packed_sample
from scipy.spatial.transform import Rotation

from pointhmr.evaluation import MeshMetric
from pointhmr.evaluation.surface_quality import edge_length_errors, normal_consistency, surface_errors

SQUARE = np.array([[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.]])
FACES = np.array([[0, 1, 2], [0, 2, 3]])


def test_edge_length_error_hand_computed_and_rigid_invariant():
    stretched = SQUARE * [2., 1., 1.]  # edges 0-1, 2-3: +100 %; diagonal 0-2: sqrt(5/2) - 1; 0-3, 1-2: 0
    expected = (1 + 1 + (np.sqrt(2.5) - 1)) / 5
    assert edge_length_errors(stretched[None], SQUARE[None], FACES)[0] == pytest.approx(expected)
    moved = SQUARE @ Rotation.from_euler('xyz', [10, 70, -30], degrees=True).as_matrix().T + 4.
    assert edge_length_errors(moved[None], SQUARE[None], FACES)[0] == pytest.approx(0., abs=1e-12)


def test_normal_consistency_hand_computed():
    assert normal_consistency(SQUARE[None], SQUARE[None], FACES)[0] == pytest.approx(1.)
    flipped = SQUARE[[0, 2, 1, 3]]  # swaps vertices 1 and 2: face 0 turns over (-1), face 1 still faces +z (+1)
    expected = (-1. + 1.) / 2
    assert normal_consistency(flipped[None], SQUARE[None], FACES)[0] == pytest.approx(expected)
    folded = SQUARE.copy()
    folded[3] = [0., 0., 1.]  # face 1 turns 90 degrees about the diagonal axis 0-2: cos = 0
    assert normal_consistency(folded[None], SQUARE[None], FACES)[0] == pytest.approx(0.5, abs=1e-12)
    collapsed = np.zeros_like(SQUARE)  # zero-area faces are skipped, not counted as agreeing
    assert normal_consistency(collapsed[None], SQUARE[None], FACES)[0] == 0.


def test_surface_errors_checks_shapes():
    with pytest.raises(ValueError, match='surface_errors'):
        surface_errors(SQUARE[None], SQUARE[None, :3], FACES)


def test_mesh_metric_reports_surface_figures_only_when_asked(body_model, gt_people):
    rng = np.random.default_rng(4)
    noisy = [p['mesh'] + rng.normal(0, 0.02, p['mesh'].shape) for p in gt_people]
    samples = [
        packed_sample(m, p['keypoints_3d'], p['pose'], p['betas'], has_smpl=float(i != 0))
        for i, (m, p) in enumerate(zip(noisy, gt_people))
    ]
    plain = MeshMetric(body_model=body_model, prefix='mesh')
    plain.process({}, samples)
    assert not {'mesh/EdgeErr%', 'mesh/NormalCos'} & set(plain.evaluate(len(samples)))
    metric = MeshMetric(body_model=body_model, surface_metrics=True, prefix='mesh')
    metric.process({}, samples)
    metrics = metric.evaluate(len(samples))
    gt = np.stack([p['mesh'] for p in gt_people[1:]])
    expected = surface_errors(np.stack(noisy[1:]), gt, body_model.faces)  # sample 0 has no SMPL: skipped
    assert metrics['mesh/EdgeErr%'] == pytest.approx(100 * expected['edge_error'].mean(), rel=1e-4)
    assert metrics['mesh/NormalCos'] == pytest.approx(expected['normal_cos'].mean(), rel=1e-4)
    assert 0 < metrics['mesh/EdgeErr%'] and metrics['mesh/NormalCos'] < 1
