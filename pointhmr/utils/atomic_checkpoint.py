"""Crash-safe checkpoint writing: an mmengine file backend that writes to a temporary file and renames it.

mmengine's local backend opens the target path and writes into it, so a run killed while saving leaves a truncated
``epoch_N.pth`` (and ``resume='auto'`` then fails on it). ``AtomicLocalBackend`` writes ``<path>.tmp-<pid>`` next to the
target, flushes and fsyncs it, and moves it over the target with ``os.replace`` (atomic on POSIX): readers see either
the old or the new complete file. Select it for checkpoints with::

    default_hooks = dict(checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='atomic_local')))
"""
import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

ATOMIC_BACKEND_NAME = 'atomic_local'


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file in the same folder + fsync + ``os.replace``)."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    tmp_path = f'{filepath}.tmp-{os.getpid()}'
    try:
        with open(tmp_path, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
    try:  # persist the rename itself
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


class AtomicLocalBackend(LocalBackend):
    """Local file backend whose ``put`` / ``put_text`` replace the target atomically."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


register_backend(ATOMIC_BACKEND_NAME, AtomicLocalBackend, force=True)
