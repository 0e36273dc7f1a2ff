"""MeshMetric with the MANO hand model (FreiHAND protocol): wrist alignment, PA errors, F-scores, pred.json."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from pointhmr.body import MANOHandModel
from pointhmr.evaluation import MeshMetric, fscore, read_freihand_submission


@pytest.fixture(scope='module')
def hand() -> MANOHandModel:
    return MANOHandModel().eval()


def test_fscore_against_a_hand_computed_case():
    gt = np.array([[0., 0., 0.], [0.01, 0., 0.], [0., 0.01, 0.], [0., 0., 0.01]])
    pred = np.array([[0., 0., 0.], [0.01, 0., 0.], [0., 0.01, 0.], [0.02, 0., 0.01], [1., 1., 1.]])
    # 5 mm: 3 of 4 GT points have a prediction closer than 5 mm (the 4th is 10 mm from its nearest), 3 of 5
    # predictions have a GT point closer than 5 mm (14.1 mm and 1.7 m for the others): F = 2 * .75 * .6 / 1.35
    assert fscore(pred, gt, 0.005) == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    # 15 mm: all GT points matched (10 mm), 4 of 5 predictions (14.1 mm < 15 mm; the far one not): F = 2 * .8 / 1.8
    assert fscore(pred, gt, 0.015) == pytest.approx(2 * 1.0 * 0.8 / 1.8)
    assert fscore(pred, gt, 0.01) == pytest.approx(2 * 0.75 * 0.6 / 1.35)  # strictly closer: 10 mm does not count
    assert fscore(pred + 10., gt, 0.005) == 0.0


def _sample(hand, pose, betas, pred_vertices, index: int, translation=(0.05, -0.02, 0.7)) -> dict:
    with torch.no_grad():
        keypoints = hand.keypoints(hand(torch.as_tensor(pose[None]), torch.as_tensor(betas[None])))[0].numpy()
    label = np.concatenate([keypoints + np.asarray(translation), np.ones((21, 1))], axis=1)
    return dict(id=index,
                pred_instances=dict(vertices=np.asarray(pred_vertices, np.float32)[None]),
                gt_instance_labels=dict(keypoints_3d=torch.tensor(label, dtype=torch.float32)[None],
                                        smpl_pose=torch.tensor(pose, dtype=torch.float32)[None],
                                        smpl_betas=torch.tensor(betas, dtype=torch.float32)[None],
                                        has_3d_joints=torch.ones(1),
                                        has_smpl=torch.ones(1)))


def _people(hand, count: int = 3):
    rng = np.random.default_rng(0)
    people = []
    for _ in range(count):
        pose, betas = rng.normal(0, 0.3, 48).astype(np.float32), rng.normal(0, 1, 10).astype(np.float32)
        with torch.no_grad():
            mesh = hand.center(hand(torch.as_tensor(pose[None]), torch.as_tensor(betas[None])))[0].numpy()
        people.append((pose, betas, mesh.astype(np.float64)))
    return people


def test_similarity_transformed_prediction_is_perfect_after_alignment_but_not_before(hand):
    metric = MeshMetric(body_model=hand, fscore_thresholds_mm=(5, 15))
    samples = []
    for i, (pose, betas, mesh) in enumerate(_people(hand)):
        rotation = Rotation.from_euler('xyz', [20, -30, 45], degrees=True).as_matrix()
        samples.append(_sample(hand, pose, betas, 1.1 * mesh @ rotation.T + 0.3, i))
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result['PA-MPJPE'] < 1e-3 and result['PA-MPVPE'] < 1e-3
    assert result['F@5mm'] == pytest.approx(1.0) and result['F@15mm'] == pytest.approx(1.0)
    assert result['MPJPE'] > 10 and result['MPVPE'] > 10  # wrist-aligned only: the rotation and scale remain


def test_wrist_aligned_errors_and_fscores_of_a_shifted_fingertip(hand):
    """A prediction shifted by 2 cm: wrist alignment removes the shift (MPJPE / MPVPE 0) and so does Procrustes
    (aligned F@5mm = 1, although every vertex is 2 cm off before alignment)."""
    metric = MeshMetric(body_model=hand, fscore_thresholds_mm=(5, 15))
    people = _people(hand, 2)
    metric.process(
        {}, [_sample(hand, pose, betas, mesh + [0.02, 0., 0.], i) for i, (pose, betas, mesh) in enumerate(people)])
    result = metric.compute_metrics(metric.results)
    assert result['MPJPE'] < 1e-3 and result['MPVPE'] < 1e-3
    assert result['F@5mm'] == pytest.approx(1.0)
    # noise of 10 mm on every coordinate: F@5mm well below F@15mm
    metric = MeshMetric(body_model=hand, fscore_thresholds_mm=(5, 15))
    rng = np.random.default_rng(3)
    metric.process({}, [
        _sample(hand, pose, betas, mesh + rng.normal(0, 0.01, mesh.shape), i)
        for i, (pose, betas, mesh) in enumerate(people)
    ])
    result = metric.compute_metrics(metric.results)
    assert 0.0 <= result['F@5mm'] < result['F@15mm'] <= 1.0
    assert result['PA-MPVPE'] < result['MPVPE']


def test_outfile_prefix_writes_the_freihand_submission_in_sample_order(hand, tmp_path):
    metric = MeshMetric(body_model=hand, outfile_prefix=str(tmp_path / 'sub' / 'freihand_'))
    people = _people(hand, 3)
    samples = [_sample(hand, pose, betas, mesh, i) for i, (pose, betas, mesh) in enumerate(people)]
    metric.process({}, samples[::-1])  # arrive out of order (as several ranks' results may)
    metric.compute_metrics(metric.results)
    joints, vertices = read_freihand_submission(tmp_path / 'sub' / 'freihand_pred.json')
    assert joints.shape == (3, 21, 3) and vertices.shape == (3, 778, 3)
    for i, (_, _, mesh) in enumerate(people):
        np.testing.assert_allclose(vertices[i], mesh, atol=2e-6)  # metres, wrist-centred, sample order
        np.testing.assert_allclose(joints[i, 0], 0., atol=2e-6)
    zipped_joints, _ = read_freihand_submission(tmp_path / 'sub' / 'freihand_pred.zip')
    np.testing.assert_array_equal(zipped_joints, joints)


def test_metric_rejects_bad_options_and_mismatched_meshes(hand):
    with pytest.raises(ValueError, match='fscore_thresholds_mm'):
        MeshMetric(body_model=hand, fscore_thresholds_mm=(0, ))
    metric = MeshMetric(body_model=hand)
    pose, betas, mesh = _people(hand, 1)[0]
    with pytest.raises(ValueError, match='vertices'):
        metric.process({}, [_sample(hand, pose, betas, mesh[:700], 0)])
