"""Crash-safe checkpoint writing: an mmengine file backend that writes to a temporary file and renames it.

mmengine's local backend opens the target path and writes into it, so a run killed while saving leaves a truncated
``epoch_N.pth`` (and ``resume='auto'`` then fails on it). ``AtomicLocalBackend`` writes through
:func:`pointhmr.fileio.atomic_write` (temporary file next to the target, fsync, ``os.replace``, atomic on POSIX):
readers see either the old or the new complete file.

mmengine 0.10's ``CheckpointHook`` deletes the oldest checkpoint (``max_keep_ckpts``) and the previous best one
*before* writing the new one, so with ``max_keep_ckpts=1`` a kill during the save left no checkpoint at all. This
backend defers removing ``.pth`` files until the next checkpoint of the same folder is completely written. Select it
with::

    default_hooks = dict(checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='atomic_local')))
"""
import os
import threading
from pathlib import Path
from typing import Dict, List, Union

from mmengine.fileio import LocalBackend, register_backend

from .. import fileio  # the module, not its names: pointhmr.fileio imports pointhmr.utils.typing

ATOMIC_BACKEND_NAME = 'atomic_local'


class AtomicLocalBackend(LocalBackend):
    """Local file backend whose ``put`` / ``put_text`` replace the target atomically.

    ``remove`` of a ``.pth`` file is deferred until the next ``put`` into the same folder has completed.
    """

    _pending: Dict[str, List[str]] = {}
    _lock = threading.Lock()

    def remove(self, filepath: Union[str, Path]) -> None:
        path = os.path.abspath(os.fspath(filepath))
        if not path.endswith('.pth'):
            super().remove(filepath)
            return
        with self._lock:
            self._pending.setdefault(os.path.dirname(path), []).append(path)

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        fileio.atomic_write_bytes(filepath, obj)
        written = os.path.abspath(os.fspath(filepath))
        with self._lock:
            pending = self._pending.pop(os.path.dirname(written), [])
        for path in pending:
            if path != written and os.path.isfile(path):
                os.remove(path)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        fileio.atomic_write_bytes(filepath, obj.encode(encoding))


register_backend(ATOMIC_BACKEND_NAME, AtomicLocalBackend, force=True)
