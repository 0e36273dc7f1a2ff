"""``PointHMRRunner``: mmengine's Runner with the project's safety rules for checkpoints and datasets.

Selected by ``runner_type = 'PointHMRRunner'`` (set in ``configs/_base_/default_runtime.py``; tools/train.py and
tools/test.py use it for configs that name no runner). Differences from ``mmengine.runner.Runner``:

* checkpoints are read weights-only with clear errors (:func:`~pointhmr.engine.checkpoint_io.load_checkpoint_file`);
  the config text stored in a checkpoint is dropped before anything sees it (mmengine's ``resume`` would execute it);
* weights load strictly unless the config sets ``load_strict = False``; mismatches are listed at once;
* ``--resume`` of a weights-only file says to use ``load_from`` instead (not ``KeyError: 'meta'``);
* saved checkpoints store the message hub as tensors (no pickled functions, see ``make_message_hub_portable``);
* a dataloader whose dataset is empty fails at build time (an empty set with ``InfiniteSampler`` spins forever).
"""
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from .checkpoint_io import (DEFAULT_REVISE_KEYS, check_resumable, drop_config_text, load_checkpoint_file,
                            load_model_weights, make_message_hub_portable, restore_message_hub)


def check_dataset_not_empty(dataloader: DataLoader) -> None:
    """Raise a ValueError naming the dataset (and its annotation file) when it has no samples."""
    dataset = dataloader.dataset
    if len(dataset) > 0:
        return
    ann_file = getattr(dataset, 'ann_file', None)
    where = f' (ann_file {ann_file!r})' if ann_file else ''
    raise ValueError(f'{type(dataset).__name__}{where} has no samples: training or evaluating on it would hang or '
                     'do nothing. Check data_root / ann_file and filters such as max_samples.')


@RUNNERS.register_module()
class PointHMRRunner(Runner):
    """mmengine Runner that never evaluates checkpoint config text, loads strictly and rejects empty datasets."""

    _resuming = False

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        check_dataset_not_empty(loader)
        return loader

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._resuming = False

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS) -> Dict[str, Any]:
        """Load weights (strict unless ``strict=False`` or the config's ``load_strict=False``); return the checkpoint.

        The returned checkpoint has no ``meta['config']`` (never evaluated) and its message hub holds
        ``HistoryBuffer`` objects again.
        """
        if strict is None:
            strict = bool(self.cfg.get('load_strict', True))
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        drop_config_text(checkpoint)
        if self._resuming:
            check_resumable(checkpoint, filename)
        restore_message_hub(checkpoint)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        load_model_weights(model, checkpoint, filename, strict=strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def call_hook(self, fn_name: str, **kwargs) -> None:
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':
            make_message_hub_portable(kwargs['checkpoint'])
