"""MeanPoseBaselineHook: checks the test split before training, tests the final model and writes the report.

The end-to-end run (tools/train.py on the synthetic config) is test_train_test.py of the tools tests.
"""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import HOOKS

from pointhmr.body.joints import J24_FROM_H36M
from pointhmr.engine.hooks import MeanPoseBaselineHook


class ItemsDataset:
    """MeshTSVDataset-like items (3D joints only) behind ``get_data_info``."""

    def __init__(self, seed: int, count: int = 4) -> None:
        rng = np.random.default_rng(seed)
        self.items = []
        for _ in range(count):
            joints = np.zeros((24, 4))
            h36m = rng.normal(size=(17, 3))
            for slot, joint in J24_FROM_H36M.items():
                joints[slot] = [*h36m[joint], 1.0]
            self.items.append(
                dict(keypoints_3d=joints,
                     has_3d_joints=1.0,
                     smpl_pose=np.zeros(72),
                     smpl_betas=np.zeros(10),
                     has_smpl=0.0))

    def __len__(self) -> int:
        return len(self.items)

    def get_data_info(self, index: int) -> dict:
        return self.items[index]


def test_before_run_names_a_missing_test_split(tmp_path):
    hook = HOOKS.build(dict(type='MeanPoseBaselineHook'))
    cfg = Config(dict(test_dataloader=dict(dataset=dict(data_root=str(tmp_path), ann_file='test.yaml'))))
    with pytest.raises(FileNotFoundError, match='test_dataloader.dataset.ann_file'):
        hook.before_run(SimpleNamespace(cfg=cfg))


def test_after_train_tests_and_writes_the_comparison(tmp_path):
    calls = []
    test_loop = SimpleNamespace(run=lambda: calls.append('test') or {'mesh/MPJPE': 1.0, 'mesh/PA-MPJPE': 0.5},
                                evaluator=SimpleNamespace(metrics=[object()]),
                                dataloader=SimpleNamespace(dataset=ItemsDataset(1)))
    runner = SimpleNamespace(test_loop=test_loop,
                             train_dataloader=SimpleNamespace(dataset=ItemsDataset(0)),
                             work_dir=str(tmp_path))
    MeanPoseBaselineHook().after_train(runner)
    assert calls == ['test']
    report = json.loads((tmp_path / 'mean_pose_baseline.json').read_text())
    assert report['model'] == {'mesh/MPJPE': 1.0, 'mesh/PA-MPJPE': 0.5}
    assert set(report['baseline']) == {'MPJPE', 'PA-MPJPE'} and report['baseline']['MPJPE'] > 0
    with pytest.raises(ValueError, match='needs test_dataloader'):
        MeanPoseBaselineHook().after_train(SimpleNamespace(test_loop=None))
