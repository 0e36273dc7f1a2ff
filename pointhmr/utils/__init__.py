"""pointhmr.utils: crash-safe checkpoint backend, repository configs, run-time config changes, mean-pose baseline."""
from .atomic_checkpoint import ATOMIC_BACKEND_NAME, AtomicLocalBackend
from .config import MODEL_CONFIGS, config_path, load_model_config
from .mean_pose_baseline import format_baseline_comparison, mean_pose_baseline
from .runtime import (adapt_config_to_device, add_runner_arguments, check_cfg_options, check_dataset_files,
                      find_resume_checkpoint, load_runner_config)

__all__ = [
    'ATOMIC_BACKEND_NAME', 'AtomicLocalBackend', 'MODEL_CONFIGS', 'config_path', 'load_model_config',
    'mean_pose_baseline',
    'format_baseline_comparison', 'adapt_config_to_device', 'check_cfg_options', 'check_dataset_files',
    'find_resume_checkpoint', 'add_runner_arguments', 'load_runner_config'
]
