"""Random row access to METRO-style TSV files through a ``.lineidx`` byte-offset index.

A TSV row is ``key<TAB>value...<NEWLINE>``; ``<name>.lineidx`` (the ``.tsv`` suffix replaced) lists the byte offset
of every row, one integer per line. Unlike the official loader, a missing index is built (atomically: written to a
temporary file, then renamed) next to the TSV, or in a cache folder when the TSV's folder is read-only.
"""
import hashlib
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..fileio import atomic_write
from ..utils.cache import default_cache_dir
from ..utils.typing import PathLike


def lineidx_path(tsv_path: PathLike) -> str:
    """``a/b/test.img.tsv`` -> ``a/b/test.img.lineidx`` (the METRO naming)."""
    root, ext = osp.splitext(os.fspath(tsv_path))
    return (root if ext == '.tsv' else os.fspath(tsv_path)) + '.lineidx'


def _write_atomically(path: str, text: str) -> None:
    with atomic_write(path, 'w') as f:
        f.write(text)


def scan_offsets(tsv_path: PathLike) -> np.ndarray:
    """Byte offsets of the start of every non-empty row of a TSV file."""
    offsets = []
    position = 0
    with open(tsv_path, 'rb') as f:
        for line in f:
            if line.strip():
                offsets.append(position)
            position += len(line)
    return np.asarray(offsets, dtype=np.int64)


def build_lineidx(tsv_path: PathLike, cache_dir: Optional[str] = None) -> str:
    """Write the ``.lineidx`` of ``tsv_path`` and return its path.

    Next to the TSV when that folder is writable, otherwise under ``cache_dir`` (default ``lineidx/`` in the package
    cache, :func:`pointhmr.utils.cache.default_cache_dir`) with a name derived from the TSV's absolute path.
    """
    offsets = scan_offsets(tsv_path)
    text = ''.join(f'{o}\n' for o in offsets.tolist())
    target = lineidx_path(tsv_path)
    if os.access(osp.dirname(osp.abspath(target)), os.W_OK):
        try:
            _write_atomically(target, text)
            return target
        except OSError:
            pass
    target = _cached_lineidx_path(tsv_path, cache_dir)
    _write_atomically(target, text)
    return target


def _cached_lineidx_path(tsv_path: PathLike, cache_dir: Optional[str]) -> str:
    absolute = osp.abspath(os.fspath(tsv_path))
    digest = hashlib.sha1(absolute.encode('utf-8')).hexdigest()[:16]
    name = osp.splitext(osp.basename(absolute))[0]
    return osp.join(cache_dir or osp.join(default_cache_dir(), 'lineidx'), f'{name}.{digest}.lineidx')


class TSVFile:
    """Random access to the rows of one TSV file.

    Args:
        path: the ``.tsv`` file.
        cache_dir: where to build the index when the TSV's folder is read-only (default ``lineidx/`` in the package
            cache, ``$POINTHMR_CACHE``).

    ``tsv[i]`` / ``tsv.seek(i)`` returns the columns of row ``i`` (strings, no trailing newline);
    ``tsv.get_key(i)`` the first column. File handles are opened lazily and re-opened in forked workers.
    """

    def __init__(self, path: PathLike, cache_dir: Optional[str] = None) -> None:
        self.path = os.fspath(path)
        if not osp.isfile(self.path):
            raise FileNotFoundError(f'TSV file {self.path!r} does not exist; check the dataset yaml and data_root')
        self.cache_dir = cache_dir
        self._offsets: Optional[np.ndarray] = None
        self._handle = None
        self._pid: Optional[int] = None

    # ------------------------------------------------------------------ index
    @property
    def offsets(self) -> np.ndarray:
        """(N,) int64 byte offsets of the rows (loaded or built on first use)."""
        if self._offsets is None:
            self._offsets = self._load_offsets()
        return self._offsets

    def _load_offsets(self) -> np.ndarray:
        size = osp.getsize(self.path)
        for candidate in (lineidx_path(self.path), _cached_lineidx_path(self.path, self.cache_dir)):
            if osp.isfile(candidate):
                offsets = self._read_lineidx(candidate)
                if self._offsets_are_valid(offsets, size) and self._rows_start_at(offsets) \
                        and self._index_reaches_end(offsets, size):
                    return offsets
        return self._read_lineidx(build_lineidx(self.path, self.cache_dir))

    @staticmethod
    def _read_lineidx(path: str) -> np.ndarray:
        with open(path) as f:
            values = [line.strip() for line in f]
        try:
            return np.asarray([int(v) for v in values if v], dtype=np.int64)
        except ValueError as err:
            raise ValueError(f'index file {path!r} is not a list of integers ({err}); delete it to rebuild') from err

    @staticmethod
    def _offsets_are_valid(offsets: np.ndarray, size: int) -> bool:
        if offsets.size == 0:
            return size == 0
        return bool(offsets[0] >= 0 and offsets[-1] < size and np.all(np.diff(offsets) > 0))

    def _rows_start_at(self, offsets: np.ndarray) -> bool:
        """Spot-check that a few offsets follow a newline (catches an index left over from another file)."""
        if offsets.size == 0:
            return True
        probes = np.unique(np.linspace(0, offsets.size - 1, num=min(8, offsets.size)).astype(np.int64))
        with open(self.path, 'rb') as f:
            for i in probes.tolist():
                if offsets[i] == 0:
                    continue
                f.seek(int(offsets[i]) - 1)
                if f.read(1) != b'\n':
                    return False
        return True

    def _index_reaches_end(self, offsets: np.ndarray, size: int) -> bool:
        """False when rows follow the index's last row (rows appended after the index was written)."""
        start = int(offsets[-1]) if offsets.size else 0
        with open(self.path, 'rb') as f:
            f.seek(start)
            if offsets.size:
                f.readline()
            return not f.read(1 << 16).strip()

    # ------------------------------------------------------------------ rows
    def __len__(self) -> int:
        return int(self.offsets.shape[0])

    def _file(self):
        if self._handle is None or self._pid != os.getpid():
            self._handle = open(self.path, 'rb')
            self._pid = os.getpid()
        return self._handle

    def seek(self, row: int) -> List[str]:
        """Columns of row ``row``."""
        num_rows = len(self)
        if not -num_rows <= row < num_rows:
            raise IndexError(f'row {row} is out of range for TSV file {self.path!r} with {num_rows} rows')
        handle = self._file()
        handle.seek(int(self.offsets[row]))
        line = handle.readline()
        try:
            text = line.decode('utf-8')
        except UnicodeDecodeError as err:
            raise ValueError(f'row {row} of TSV file {self.path!r} is not UTF-8 text ({err})') from err
        return text.rstrip('\r\n').split('\t')

    __getitem__ = seek

    def get_key(self, row: int) -> str:
        """First column (the key) of row ``row``."""
        return self.seek(row)[0]

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_handle'] = None
        state['_pid'] = None
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.path!r})'


class CompositeTSVFile:
    """A sequence of rows drawn from several TSV files (the METRO "composite" dataset form).

    Args:
        paths: the TSV files (one per source).
        pairs: ``(source_index, row_index)`` per item; ``None`` = every row of every source in order.
        key_prefixes: prefix of each source's keys (default: the paths as given); keys read ``<prefix>_<key>``.
        cache_dir: see :class:`TSVFile`.
    """

    def __init__(self,
                 paths: Sequence[PathLike],
                 pairs: Optional[Union[np.ndarray, Iterable[Tuple[int, int]]]] = None,
                 key_prefixes: Optional[Sequence[str]] = None,
                 cache_dir: Optional[str] = None) -> None:
        if len(paths) == 0:
            raise ValueError('CompositeTSVFile needs at least one TSV path')
        self.tsvs = [TSVFile(p, cache_dir=cache_dir) for p in paths]
        self.key_prefixes = list(key_prefixes) if key_prefixes is not None else [os.fspath(p) for p in paths]
        if len(self.key_prefixes) != len(self.tsvs):
            raise ValueError(f'got {len(self.key_prefixes)} key prefixes for {len(self.tsvs)} TSV files')
        if pairs is None:
            pairs = [(s, r) for s, tsv in enumerate(self.tsvs) for r in range(len(tsv))]
        self.pairs = np.asarray(list(pairs) if not isinstance(pairs, np.ndarray) else pairs, dtype=np.int64)
        self.pairs = self.pairs.reshape(-1, 2)
        bad = (self.pairs[:, 0] < 0) | (self.pairs[:, 0] >= len(self.tsvs))
        if bad.any():
            raise ValueError(f'composite line list names source {int(self.pairs[bad][0, 0])}, but only '
                             f'{len(self.tsvs)} TSV files are listed')

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    def locate(self, index: int) -> Tuple[TSVFile, int]:
        """The TSV file and row that item ``index`` comes from."""
        source, row = self.pairs[index]
        return self.tsvs[int(source)], int(row)

    def seek(self, index: int) -> List[str]:
        tsv, row = self.locate(index)
        return tsv.seek(row)

    __getitem__ = seek

    def get_key(self, index: int) -> str:
        source, row = self.pairs[index]
        return f'{self.key_prefixes[int(source)]}_{self.tsvs[int(source)].get_key(int(row))}'


def write_tsv(path: PathLike, rows: Iterable[Sequence[str]]) -> str:
    """Write rows (sequences of column strings, no tabs/newlines inside) and their ``.lineidx``; return the path.

    Both files are written to temporary names and renamed, so readers never see a half-written file.
    """
    path = os.fspath(path)
    offsets = []
    with atomic_write(path, 'wb') as f:
        position = 0
        for i, columns in enumerate(rows):
            line = '\t'.join(columns)
            if '\n' in line or '\r' in line:
                raise ValueError(f'row {i} for {path!r} contains a newline; encode values before writing')
            data = (line + '\n').encode('utf-8')
            offsets.append(position)
            f.write(data)
            position += len(data)
    _write_atomically(lineidx_path(path), ''.join(f'{o}\n' for o in offsets))
    return path
