import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from metric_helpers import packed_sample
from mmpose.registry import METRICS
from scipy.spatial.transform import Rotation

from pointhmr.body.joints import H36M_TO_J14, J14_L_HIP, J14_R_HIP
from pointhmr.evaluation import MeshMetric

REPO_ROOT = Path(__file__).resolve().parents[2]


def evaluate(metric: MeshMetric, samples, batch_size: int = 4) -> dict:
    for start in range(0, len(samples), batch_size):
        metric.process({}, samples[start:start + batch_size])
    return metric.evaluate(len(samples))


def j14_about_mid_hip(body_model, mesh: np.ndarray) -> np.ndarray:
    h36m = body_model.h36m_joints(torch.tensor(mesh)[None])[0].numpy()
    j14 = h36m[H36M_TO_J14]
    return j14 - (j14[J14_R_HIP] + j14[J14_L_HIP]) / 2


def test_registered_and_builds_from_config(body_model):
    metric = METRICS.build(dict(type='MeshMetric', body_model=body_model, prefix='mesh'))
    assert isinstance(metric, MeshMetric)
    assert metric.prefix == 'mesh'


def test_exact_prediction_scores_zero(body_model, gt_people):
    # predictions carry an arbitrary translation: the metric re-centres them at the regressed pelvis
    samples = [
        packed_sample(p['mesh'] + np.array([0.3, -0.2, 5.0]), p['keypoints_3d'], p['pose'], p['betas'])
        for p in gt_people
    ]
    metrics = evaluate(MeshMetric(body_model=body_model, prefix='mesh'), samples)
    assert set(metrics) == {'mesh/MPJPE', 'mesh/PA-MPJPE', 'mesh/MPVPE', 'mesh/PA-MPVPE'}
    for value in metrics.values():
        assert value == pytest.approx(0.0, abs=1e-3)  # mm; float32 packing only


def test_similarity_transform_only_changes_unaligned_errors(body_model, gt_people):
    rotation = Rotation.from_euler('xyz', [20, -35, 50], degrees=True).as_matrix()
    scale = 1.3
    samples, expected_mpjpe, expected_mpvpe = [], [], []
    for person in gt_people:
        pred = scale * person['mesh'] @ rotation.T + np.array([1.0, 2.0, 3.0])
        samples.append(packed_sample(pred, person['keypoints_3d'], person['pose'], person['betas']))
        # by linearity of the regressor the predicted J14 / mesh are the transformed GT ones (up to re-centring)
        gt_j14 = j14_about_mid_hip(body_model, person['mesh'])
        expected_mpjpe.append(np.linalg.norm(scale * gt_j14 @ rotation.T - gt_j14, axis=1).mean())
        gt_pelvis = body_model.h36m_joints(torch.tensor(person['mesh'])[None])[0, 0].numpy()
        gt_mesh = person['mesh'] - gt_pelvis
        expected_mpvpe.append(np.linalg.norm(scale * gt_mesh @ rotation.T - gt_mesh, axis=1).mean())
    metrics = evaluate(MeshMetric(body_model=body_model), samples)
    assert metrics['mesh/PA-MPJPE'] == pytest.approx(0.0, abs=1e-3)
    assert metrics['mesh/PA-MPVPE'] == pytest.approx(0.0, abs=1e-3)
    assert metrics['mesh/MPJPE'] == pytest.approx(1000 * np.mean(expected_mpjpe), rel=1e-4)
    assert metrics['mesh/MPVPE'] == pytest.approx(1000 * np.mean(expected_mpvpe), rel=1e-4)
    assert metrics['mesh/MPJPE'] > 10


def test_known_joint_offset_gives_known_mpjpe(body_model, gt_people):
    # moving every GT label joint except the hips by 5 cm along x: MPJPE = 12/14 * 50 mm
    samples = []
    for person in gt_people:
        label = person['keypoints_3d'].copy()
        moved = [j for j in list(range(12)) + [12, 18] if j not in (2, 3)]
        label[moved, 0] += 0.05
        samples.append(packed_sample(person['mesh'], label, person['pose'], person['betas']))
    metrics = evaluate(MeshMetric(body_model=body_model), samples)
    assert metrics['mesh/MPJPE'] == pytest.approx(50 * 12 / 14, rel=1e-4)
    assert 0 < metrics['mesh/PA-MPJPE'] < metrics['mesh/MPJPE']
    assert metrics['mesh/MPVPE'] == pytest.approx(0.0, abs=1e-3)


def test_samples_without_labels_are_masked(body_model, gt_people):
    good = [packed_sample(p['mesh'], p['keypoints_3d'], p['pose'], p['betas']) for p in gt_people[:3]]
    rng = np.random.default_rng(5)
    # garbage predictions whose labels are flagged missing must not count (official PA-MPJPE counted them)
    no_3d = [
        packed_sample(rng.normal(size=p['mesh'].shape), np.zeros((24, 4)), p['pose'], p['betas'], has_3d=0)
        for p in gt_people[3:]
    ]
    metrics = evaluate(MeshMetric(body_model=body_model), good + no_3d)
    assert metrics['mesh/MPJPE'] == pytest.approx(0.0, abs=1e-3)
    assert metrics['mesh/PA-MPJPE'] == pytest.approx(0.0, abs=1e-3)
    assert metrics['mesh/MPVPE'] > 100  # the garbage meshes do have SMPL ground truth

    no_smpl = [
        packed_sample(rng.normal(size=p['mesh'].shape), p['keypoints_3d'], np.zeros(72), np.zeros(10), has_smpl=0)
        for p in gt_people[3:]
    ]
    with_mesh = [packed_sample(p['mesh'], p['keypoints_3d'], p['pose'], p['betas']) for p in gt_people[:3]]
    metrics = evaluate(MeshMetric(body_model=body_model), with_mesh + no_smpl)
    assert metrics['mesh/MPVPE'] == pytest.approx(0.0, abs=1e-3)
    assert metrics['mesh/MPJPE'] > 100


def test_no_smpl_at_all_omits_vertex_metrics(body_model, gt_people):
    samples = [packed_sample(p['mesh'], p['keypoints_3d'], np.zeros(72), np.zeros(10), has_smpl=0) for p in gt_people]
    metrics = evaluate(MeshMetric(body_model=body_model), samples)
    assert set(metrics) == {'mesh/MPJPE', 'mesh/PA-MPJPE'}
    assert all(np.isfinite(v) for v in metrics.values())


def test_per_sample_average_is_not_a_mean_of_batch_means(body_model, gt_people):
    rng = np.random.default_rng(6)
    samples = [
        packed_sample(p['mesh'] + rng.normal(scale=0.02 * (i + 1), size=p['mesh'].shape), p['keypoints_3d'], p['pose'],
                      p['betas']) for i, p in enumerate(gt_people)
    ]
    reference = evaluate(MeshMetric(body_model=body_model), samples, batch_size=len(samples))
    uneven = evaluate(MeshMetric(body_model=body_model), samples, batch_size=4)  # batches of 4 and 2
    for key, value in reference.items():
        assert uneven[key] == pytest.approx(value, rel=1e-9)


def test_missing_prediction_is_a_clear_error(body_model, gt_people):
    person = gt_people[0]
    sample = packed_sample(person['mesh'], person['keypoints_3d'], person['pose'], person['betas'])
    del sample['pred_instances']['vertices']
    with pytest.raises(KeyError, match='pred_instances.vertices'):
        MeshMetric(body_model=body_model).process({}, [sample])


DIST_SCRIPT = textwrap.dedent('''
    import importlib.util, json, os, sys
    import numpy as np, torch, torch.distributed as dist
    import pointhmr
    from pointhmr.evaluation import MeshMetric
    spec = importlib.util.spec_from_file_location('metric_helpers', sys.argv[1])
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    torch.set_num_threads(1)
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    body = helpers.LinearBodyModel()
    rng = np.random.default_rng(7)
    samples = []
    for i in range(5):
        pose, betas = rng.normal(0, 0.5, 72), rng.normal(0, 1, 10)
        mesh = body(torch.tensor(pose)[None], torch.tensor(betas)[None])
        label = helpers.j24_from_h36m(body.h36m_joints(mesh)[0].numpy())
        pred = mesh[0].numpy() + rng.normal(scale=0.01 * (i + 1) ** 2, size=mesh.shape[1:])
        samples.append(helpers.packed_sample(pred, label, pose, betas, has_smpl=float(i % 2 == 0)))
    # DistributedSampler(shuffle=False) order: rank r gets indices r, r + world, ...; padded with the first indices
    padded = list(range(5)) + list(range(5))[:(-5) % world]
    mine = padded[rank::world]
    metric = MeshMetric(body_model=body)
    metric.process({}, [samples[i] for i in mine[:2]])
    metric.process({}, [samples[i] for i in mine[2:]])
    result = metric.evaluate(size=5)
    if rank == 0:
        single = MeshMetric(body_model=body)
        single.process({}, samples)
        reference = {'mesh/' + k: v for k, v in single.compute_metrics(single.results).items()}
        json.dump(dict(dist=result, single=reference, shards=[padded[r::world] for r in range(world)]),
                  open(sys.argv[2], 'w'))
    dist.destroy_process_group()
''')


@pytest.mark.slow
def test_two_rank_gloo_evaluation_matches_single_process(tmp_path):
    script = tmp_path / 'dist_metric.py'
    script.write_text(DIST_SCRIPT)
    out = tmp_path / 'result.json'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([
        sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
        str(script),
        str(Path(__file__).with_name('metric_helpers.py')),
        str(out)
    ],
                            env=env,
                            cwd=tmp_path,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:  # never leave the workers behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, log[-5000:]
    result = json.loads(out.read_text())
    assert result['shards'][1][-1] == 0  # rank 1 really evaluated a padding duplicate of sample 0
    assert set(result['dist']) == {'mesh/MPJPE', 'mesh/PA-MPJPE', 'mesh/MPVPE', 'mesh/PA-MPVPE'}
    for key, value in result['single'].items():
        assert result['dist'][key] == pytest.approx(value, rel=1e-9)
