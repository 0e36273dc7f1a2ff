"""Atomic file writes: nothing is ever left half-written under its final name.

A temporary file is written next to the target, flushed and fsynced, then moved over the target with ``os.replace``
(atomic on POSIX); readers see the old file or the new one. Used for checkpoints, converted weights, cached body files,
TSV indexes and exported meshes/results.
"""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from ..utils.typing import PathLike


@contextmanager
def atomic_write(path: PathLike, mode: str = 'wb') -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing (``'wb'`` or ``'w'``); on success it replaces ``path``."""
    if mode not in ('wb', 'w'):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        text_args = {} if mode == 'wb' else {'encoding': 'utf-8', 'newline': '\n'}
        with os.fdopen(fd, mode, **text_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Persist a rename (best effort: not every file system supports fsync on folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, 'wb') as handle:
        handle.write(data)
