"""pointhmr.utils: checkpoint backend, repository configs, run-time config changes, mean-pose baseline, small helpers
(``to_numpy``, ``default_cache_dir``, ``PathLike``)."""
from .arrays import to_numpy
from .atomic_checkpoint import ATOMIC_BACKEND_NAME, AtomicLocalBackend
from .cache import default_cache_dir
from .config import MODEL_CONFIGS, config_path, load_model_config
from .mean_pose_baseline import format_baseline_comparison, mean_pose_baseline
from .runtime import (adapt_config_to_device, add_runner_arguments, check_cfg_options, check_dataset_files,
                      find_resume_checkpoint, load_runner_config, remove_interrupted_saves)
from .typing import PathLike

__all__ = [
    'ATOMIC_BACKEND_NAME', 'AtomicLocalBackend', 'MODEL_CONFIGS', 'config_path', 'load_model_config',
    'mean_pose_baseline', 'format_baseline_comparison', 'adapt_config_to_device', 'check_cfg_options',
    'check_dataset_files', 'find_resume_checkpoint', 'add_runner_arguments', 'load_runner_config',
    'remove_interrupted_saves', 'to_numpy', 'default_cache_dir', 'PathLike'
]
