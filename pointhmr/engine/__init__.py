"""pointhmr.engine: the project's Runner, safe checkpoint loading and mmengine hooks (registered in mmpose's HOOKS)."""
from .checkpoint_io import (check_resumable, drop_config_text, load_checkpoint_file, load_model_weights,
                            make_message_hub_portable, mmengine_checkpoint_globals, restore_message_hub)
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .runner import PointHMRRunner, check_dataset_not_empty

__all__ = [
    'PointHMRRunner', 'check_dataset_not_empty', 'check_resumable', 'drop_config_text', 'load_checkpoint_file',
    'load_model_weights', 'make_message_hub_portable', 'mmengine_checkpoint_globals', 'restore_message_hub', *_hooks_all
]
