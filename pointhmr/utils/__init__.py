"""pointhmr.utils: crash-safe checkpoint backend, run-time config adjustments, mean-pose baseline."""
from .atomic_checkpoint import ATOMIC_BACKEND_NAME, AtomicLocalBackend
from .mean_pose_baseline import format_baseline_comparison, mean_pose_baseline
from .runtime import (adapt_config_to_device, add_runner_arguments, check_cfg_options, check_dataset_files,
                      find_resume_checkpoint, load_runner_config, remove_interrupted_saves)

__all__ = [
    'ATOMIC_BACKEND_NAME', 'AtomicLocalBackend', 'mean_pose_baseline',
    'format_baseline_comparison', 'adapt_config_to_device', 'check_cfg_options', 'check_dataset_files',
    'find_resume_checkpoint', 'add_runner_arguments', 'load_runner_config', 'remove_interrupted_saves'
]
