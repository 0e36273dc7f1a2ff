"""Loading mmengine checkpoints safely: weights-only unpickling, clear errors, strict weights, no config evaluation.

* :func:`load_checkpoint_file` reads a checkpoint with torch's weights-only loader. mmengine 0.10 pickles the message
  hub's ``HistoryBuffer`` objects with their statistics methods as ``builtins.getattr(HistoryBuffer, 'mean')``;
  instead of allow-listing ``getattr`` (which lets a crafted file reach ``exec``), only while one checkpoint is read
  ``HistoryBuffer`` is allowed and the name ``builtins.getattr`` is bound to :func:`history_buffer_statistic`, which
  resolves nothing but those methods.
* :func:`make_message_hub_portable` / :func:`restore_message_hub` store the message hub's ``HistoryBuffer`` objects as
  plain tensors, so checkpoints written by :class:`~pointhmr.engine.PointHMRRunner` need no ``getattr`` at all.
* :func:`drop_config_text` removes the config source that mmengine stores in ``meta['config']``: mmengine's
  ``Runner.resume`` would execute it (``Config.fromstring``), so a resumed checkpoint could run arbitrary code.
* :func:`load_model_weights` loads ``state_dict`` strictly by default and reports every missing / unexpected key and
  shape mismatch at once.
"""
import os
import pickle
import re
import zipfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model
from torch import nn

from ..fileio.safe_pickle import UnsafePickleError
from ..models.official_checkpoint import (CheckpointMismatchError, StateDictMismatch, compare_state_dicts,
                                          weights_checked_by_caller)

#: how to relax a strict load (printed with every mismatch report)
RELAX_HINT = ('Check that the checkpoint was trained with this config. To load the matching tensors anyway and keep '
              'the rest at their initial values, set load_strict=False (e.g. --cfg-options load_strict=False, or '
              'init_mesh_model(..., strict=False)).')
DEFAULT_REVISE_KEYS: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )
_PORTABLE_FIELDS = ('log_history', 'count_history', 'max_length')


def history_buffer_statistic(owner: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` while a checkpoint is read: only ``HistoryBuffer.<statistics method>``."""
    if owner is HistoryBuffer and isinstance(name, str) and name in HistoryBuffer._statistics_methods \
            and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}): checkpoints may only reference the statistics methods of '
        'mmengine.logging.HistoryBuffer (min, max, mean, current)')


@contextmanager
def mmengine_checkpoint_globals() -> Iterator[None]:
    """While active, weights-only loads accept ``HistoryBuffer`` and resolve ``builtins.getattr`` to
    :func:`history_buffer_statistic` (what checkpoints of plain mmengine 0.10 runs contain)."""
    with torch.serialization.safe_globals([HistoryBuffer, (history_buffer_statistic, 'builtins.getattr')]):
        yield


def _is_local(filename: str) -> bool:
    return '://' not in filename


def load_checkpoint_file(filename: str, map_location: Any = 'cpu') -> Dict[str, Any]:
    """Read a checkpoint (weights only) and return its dict; every failure names the file and what to do.

    Raises:
        FileNotFoundError: no such file.
        ValueError: empty, truncated or not a checkpoint dict.
        UnsafePickleError: the file references objects outside torch's weights-only list (nothing was run).
    """
    filename = os.fspath(filename)
    if _is_local(filename):
        if not os.path.isfile(filename):
            raise FileNotFoundError(f'checkpoint {filename!r} does not exist')
        if os.path.getsize(filename) == 0:
            raise ValueError(f'checkpoint {filename!r} is empty (0 bytes): it was cut off while being written. Delete '
                             'it and use an earlier checkpoint (--resume auto picks the newest complete one).')
    try:
        with mmengine_checkpoint_globals():
            checkpoint = _load_checkpoint(filename, map_location=map_location)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()
        detail = next((line for line in first if 'GLOBAL' in line or 'global' in line), first[0] if first else '')
        raise UnsafePickleError(
            f'refusing to load checkpoint {filename!r}: it holds objects outside the weights-only allow-list '
            f'({detail.strip()}). Nothing from it was run. Only load checkpoints from a source you trust; convert '
            'official PointHMR files with tools/model_converters/convert_official_ckpt.py.') from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f'cannot read checkpoint {filename!r} ({type(error).__name__}: {error}). The file is '
                         'truncated or corrupt, or not a PyTorch checkpoint; use another checkpoint.') from error
    if not isinstance(checkpoint, dict):
        raise ValueError(f'checkpoint {filename!r} holds a {type(checkpoint).__name__}, not a dict of weights; '
                         'expected a file written by tools/train.py or tools/model_converters/convert_official_ckpt.py')
    return checkpoint


def drop_config_text(checkpoint: Dict[str, Any]) -> Optional[str]:
    """Remove (and return) the config source in ``meta['config']`` / ``meta['cfg']``; it is never evaluated."""
    meta = checkpoint.get('meta')
    if not isinstance(meta, dict):
        return None
    text = meta.pop('config', None)
    meta.pop('cfg', None)
    return text


def check_resumable(checkpoint: Dict[str, Any], filename: str) -> None:
    """Raise a clear error when ``checkpoint`` cannot be resumed (weights only, no training state)."""
    meta = checkpoint.get('meta')
    missing = [key for key in ('meta', 'message_hub') if key not in checkpoint]
    if isinstance(meta, dict):
        missing += [f"meta['{key}']" for key in ('epoch', 'iter') if key not in meta]
    if missing:
        raise ValueError(
            f'cannot resume from {filename!r}: it holds model weights but no training state (missing '
            f'{", ".join(missing)}); --resume needs a checkpoint written by tools/train.py. To start a new run from '
            f'these weights use load_from instead: --cfg-options load_from={filename}')


def make_message_hub_portable(checkpoint: Dict[str, Any]) -> None:
    """Store the message hub's ``HistoryBuffer`` objects as dicts of tensors (in place; loads need no getattr)."""
    hub = checkpoint.get('message_hub')
    if not isinstance(hub, dict) or not isinstance(hub.get('log_scalars'), dict):
        return
    portable = {}
    for key, value in hub['log_scalars'].items():
        if isinstance(value, HistoryBuffer):
            log_history, count_history = value.data
            value = dict(log_history=torch.from_numpy(np.asarray(log_history, dtype=np.float64)),
                         count_history=torch.from_numpy(np.asarray(count_history, dtype=np.float64)),
                         max_length=int(value.max_length))
        portable[key] = value
    hub['log_scalars'] = portable


def _to_numpy(value: Any) -> np.ndarray:
    """Tensor on any device (resume maps checkpoints to the training device) or array -> numpy array."""
    return value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)


def restore_message_hub(checkpoint: Dict[str, Any]) -> None:
    """Inverse of :func:`make_message_hub_portable` (in place; ``HistoryBuffer`` objects are left as they are)."""
    hub = checkpoint.get('message_hub')
    if not isinstance(hub, dict) or not isinstance(hub.get('log_scalars'), dict):
        return
    for key, value in list(hub['log_scalars'].items()):
        if isinstance(value, dict) and set(value) == set(_PORTABLE_FIELDS):
            hub['log_scalars'][key] = HistoryBuffer(_to_numpy(value['log_history']), _to_numpy(value['count_history']),
                                                    int(value['max_length']))


def _revised(state_dict: Dict[str, Any], revise_keys: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    for pattern, replacement in revise_keys:
        state_dict = {re.sub(pattern, replacement, k): v for k, v in state_dict.items()}
    return state_dict


def load_model_weights(model: nn.Module,
                       checkpoint: Dict[str, Any],
                       source: str,
                       strict: bool = True,
                       revise_keys: Sequence[Tuple[str, str]] = DEFAULT_REVISE_KEYS) -> StateDictMismatch:
    """Load ``checkpoint['state_dict']`` (or the checkpoint itself) into ``model``.

    Args:
        strict: raise :class:`CheckpointMismatchError` listing every missing / unexpected key and shape mismatch
            (the model is left unchanged); False loads the matching tensors and logs the same report as a warning.

    Returns:
        The mismatch report (empty when everything matched).
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not state_dict or not all(torch.is_tensor(v) for v in state_dict.values()):
        raise ValueError(f'checkpoint {source!r} holds no model weights (expected a "state_dict" of tensors, found '
                         f'keys {sorted(map(str, checkpoint))[:8]})')
    report = compare_state_dicts(model.state_dict(), _revised(state_dict, revise_keys))
    if not report.ok:
        if strict:
            raise CheckpointMismatchError(report, source=source, hint=RELAX_HINT)
        print_log(f'{source}: loading non-strictly (load_strict=False):\n{report.format()}', logger='current', level=30)
        matching = {
            k: v
            for k, v in _revised(state_dict, revise_keys).items()
            if k not in report.unexpected and k not in {m[0]
                                                        for m in report.shape_mismatches}
        }
        with weights_checked_by_caller(model):
            model.load_state_dict(matching, strict=False)
        return report
    _load_checkpoint_to_model(model, checkpoint, strict=True, revise_keys=list(revise_keys))
    return report
