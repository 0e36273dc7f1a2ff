"""MeanPoseBaselineHook: after training, test the final model and report it next to the mean-pose baseline."""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from pointhmr.fileio import atomic_write
from pointhmr.utils.mean_pose_baseline import format_baseline_comparison, mean_pose_baseline
from pointhmr.utils.runtime import check_dataset_files

#: file written into the work dir: ``{"model": test metrics, "baseline": mean-pose baseline}``
REPORT_FILE = 'mean_pose_baseline.json'


@HOOKS.register_module()
class MeanPoseBaselineHook(Hook):
    """Run the test loop once training has ended and log the final model's errors next to the errors of predicting
    the training set's mean joints / mesh for every test sample (:func:`pointhmr.utils.mean_pose_baseline`).

    A short CPU run can look fine on its own; the baseline says whether the model learned anything. The table is
    logged and written to ``<work_dir>/mean_pose_baseline.json``. Configure it in ``custom_hooks``.

    Args:
        max_samples: use at most this many items of each split for the baseline (None = all).
    """
    priority = 'LOWEST'

    def __init__(self, max_samples: Optional[int] = None) -> None:
        self.max_samples = max_samples

    def before_run(self, runner) -> None:
        """Fail before training, not after it, when the test split named by the config is missing."""
        if runner.cfg.get('test_dataloader') is not None:
            check_dataset_files(runner.cfg, ['test_dataloader'])

    def after_train(self, runner) -> None:
        test_loop = runner.test_loop
        if test_loop is None:
            raise ValueError('MeanPoseBaselineHook needs test_dataloader, test_cfg and test_evaluator in the config')
        metrics = test_loop.run()
        if not is_main_process():
            return
        metric = next((m for m in test_loop.evaluator.metrics if hasattr(m, 'body_model')), None)
        baseline = mean_pose_baseline(runner.train_dataloader.dataset,
                                      test_loop.dataloader.dataset,
                                      body_model=None if metric is None else metric.body_model,
                                      max_samples=self.max_samples,
                                      fscore_thresholds_mm=getattr(metric, 'fscore_thresholds_mm', ()),
                                      surface_metrics=getattr(metric, 'surface_metrics', False))
        print_log('final model vs mean-pose baseline (test split):\n' + format_baseline_comparison(metrics, baseline),
                  logger='current')
        with atomic_write(osp.join(runner.work_dir, REPORT_FILE), 'w') as f:
            json.dump(dict(model=metrics, baseline=baseline), f, indent=2)
