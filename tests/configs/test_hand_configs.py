"""The hand configs: one mesh model for head, evaluator and visualizer, FreiHAND's augmentation, and the light
synthetic-hand config trains a few iterations and evaluates (tools/train.py, tiny synthetic hand set)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
FREIHAND = REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-w32_4xb16-200e_freihand-224.py'
LIGHT_HAND = REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-1200it_synthetic-hand-224.py'


@pytest.mark.parametrize('path', [FREIHAND, LIGHT_HAND], ids=lambda p: p.name)
def test_hand_configs_use_one_mano_model_and_never_flip(path):
    cfg = Config.fromfile(str(path))
    assert cfg.body_model == dict(type='MANOHandModel')
    assert cfg.model.head.body_model == cfg.body_model == cfg.test_evaluator.body_model == cfg.visualizer.body_model
    assert cfg.model.neck.num_vertices == 195
    assert cfg.test_evaluator.fscore_thresholds_mm == (5, 15)
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline):
        affine = next(t for t in pipeline if t.type == 'MeshTopdownAffine')
        assert affine.root_index == 0 and affine.flip_perm is None and affine.pose_flip_perm is None
    augmentation = next(t for t in cfg.train_pipeline if t.type == 'RandomMeshAugmentation')
    assert augmentation.flip_prob == 0.0
    assert cfg.train_dataloader.dataset.type == cfg.test_dataloader.dataset.type == 'HandMeshTSVDataset'


def test_freihand_config_has_the_freihand_augmentation_and_writes_a_submission():
    cfg = Config.fromfile(str(FREIHAND))
    augmentation = next(t for t in cfg.train_pipeline if t.type == 'RandomMeshAugmentation')
    assert (augmentation.rot_std, augmentation.rot_max, augmentation.rot_zero_prob) == (90.0, 180.0, 0.6)
    assert (augmentation.scale_std, tuple(augmentation.scale_range), augmentation.noise) == (0.25, (0.75, 1.25), 0.4)
    assert cfg.test_evaluator.outfile_prefix.endswith('freihand_')
    assert cfg.model.head.loss_weights == dict(vertices_195=0.5, vertices_778=0.5)


@pytest.mark.slow
def test_light_hand_config_trains_and_evaluates(tmp_path):
    from pointhmr.datasets.synthetic import make_synthetic_hand_dataset
    data = tmp_path / 'data'
    make_synthetic_hand_dataset(str(data), dict(train=4, test=3), seed=0)
    work_dir = tmp_path / 'work'
    options = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
        'param_scheduler.0.milestones=[100]'
    ]
    for split in ('train', 'val', 'test'):
        options += [
            f'{split}_dataloader.batch_size=2', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False', f'{split}_dataloader.dataset.data_root={data}/'
        ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'tools' / 'train.py'),
        str(LIGHT_HAND), '--work-dir',
        str(work_dir), '--cfg-options', *options
    ],
                          cwd=tmp_path,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    report = json.loads((work_dir / 'mean_pose_baseline.json').read_text())
    model = {key.split('/')[-1]: value for key, value in report['model'].items()}
    names = {'MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE', 'F@5mm', 'F@15mm', 'EdgeErr%', 'NormalCos'}
    assert names <= set(model) and set(report['baseline']) == names
    assert 0.0 <= model['F@5mm'] <= model['F@15mm'] <= 1.0
    assert (work_dir / 'iter_2.pth').is_file()
