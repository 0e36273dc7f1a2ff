"""Crash-safe checkpoint writing: an mmengine file backend that writes to a temporary file and renames it.

mmengine's local backend opens the target path and writes into it, so a run killed while saving leaves a truncated
``epoch_N.pth`` (and ``resume='auto'`` then fails on it). ``AtomicLocalBackend`` writes through :func:`pointhmr.fileio.atomic_write`
(temporary file next to the target, fsync, ``os.replace``, atomic on POSIX): readers see either
the old or the new complete file. Select it for checkpoints with::

    default_hooks = dict(checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='atomic_local')))
"""
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .. import fileio  # the module, not its names: pointhmr.fileio imports pointhmr.utils.typing

ATOMIC_BACKEND_NAME = 'atomic_local'


class AtomicLocalBackend(LocalBackend):
    """Local file backend whose ``put`` / ``put_text`` replace the target atomically."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        fileio.atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        fileio.atomic_write_bytes(filepath, obj.encode(encoding))


register_backend(ATOMIC_BACKEND_NAME, AtomicLocalBackend, force=True)
