"""Restricted loaders for the SMPL-format data files (no arbitrary code runs while reading them).

* :func:`load_smpl_pickle` reads an SMPL ``.pkl`` (official v1.0.0 files hold chumpy objects; they become numpy).
* :func:`load_metro_mesh_downsampling` reads METRO / GraphCMR ``mesh_downsampling.npz`` without ``allow_pickle``.
* :func:`load_legacy_adjacency` reads the ``smpl_431_adjmat_{indices,values,size}.pt`` triple with the safe loader.
* :func:`load_3dpw_sequence` reads a 3DPW ``sequenceFiles/<split>/<name>.pkl`` (numpy arrays, lists, strings only).

Only numpy arrays / dtypes / scalars, scipy sparse matrices (csc, csr, coo) and chumpy objects (mapped to a stub whose
state must hold the array under ``'x'``) may be reconstructed, plus plain sets that chumpy state may contain; any
other global raises ``pickle.UnpicklingError``.
"""
import codecs
import copyreg
import io
import os
import pickle
import zipfile
from typing import Any, Dict, List, Optional

import numpy as np
import scipy.sparse as sp
import torch
from numpy.lib import format as npy_format

from ..utils.typing import PathLike


def numpy_core_attr(submodule: str, name: str) -> Any:
    """``numpy._core.<submodule>.<name>`` on numpy 2, ``numpy.core.<submodule>.<name>`` on numpy 1."""
    try:
        module = __import__(f'numpy._core.{submodule}', fromlist=[name])
    except ImportError:  # numpy < 2
        module = __import__(f'numpy.core.{submodule}', fromlist=[name])
    return getattr(module, name)


class ChumpyStub:
    """Stand-in for chumpy objects (``chumpy.ch.Ch`` and friends); keeps the pickled state only."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_array(self, source: str) -> np.ndarray:
        state = self.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = state[1]  # (dict_state, slot_state) form
        if isinstance(state, dict) and 'x' in state:
            return np.asarray(_resolve_stubs(state['x'], source))
        raise pickle.UnpicklingError(
            f'{source}: a chumpy object without an array under key "x" cannot be converted to numpy; re-save the file '
            'with plain numpy arrays (e.g. with chumpy installed: convert every chumpy value with np.array(value)).')


_SPARSE_CLASSES = {'csc_matrix': sp.csc_matrix, 'csr_matrix': sp.csr_matrix, 'coo_matrix': sp.coo_matrix}
_SPARSE_MODULES = ('scipy.sparse', 'scipy.sparse.csc', 'scipy.sparse._csc', 'scipy.sparse.csr', 'scipy.sparse._csr',
                   'scipy.sparse.coo', 'scipy.sparse._coo')
_RECONSTRUCTABLE = tuple(_SPARSE_CLASSES.values()) + (np.ndarray, ChumpyStub)


def _safe_reconstructor(cls: type, base: type, state: Any) -> Any:
    """``copyreg._reconstructor`` limited to the allow-listed classes (used by protocol 0/1 pickles)."""
    if not (isinstance(cls, type) and issubclass(cls, _RECONSTRUCTABLE)) or base not in (object, np.ndarray):
        raise pickle.UnpicklingError(f'copyreg._reconstructor called with a forbidden class {cls!r} / base {base!r}')
    return copyreg._reconstructor(cls, base, state)


def _allowed_globals() -> Dict[tuple, Any]:
    reconstruct = numpy_core_attr('multiarray', '_reconstruct')
    scalar = numpy_core_attr('multiarray', 'scalar')
    frombuffer = numpy_core_attr('numeric', '_frombuffer')
    allowed = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype, ('_codecs', 'encode'): codecs.encode,
               ('copyreg', '_reconstructor'): _safe_reconstructor, ('copy_reg', '_reconstructor'): _safe_reconstructor,
               ('builtins', 'object'): object, ('__builtin__', 'object'): object}
    for builtins_module in ('builtins', '__builtin__'):  # plain containers that chumpy state dicts may hold
        allowed[(builtins_module, 'set')] = set
        allowed[(builtins_module, 'frozenset')] = frozenset
    for core in ('numpy.core', 'numpy._core'):
        allowed[(f'{core}.multiarray', '_reconstruct')] = reconstruct
        allowed[(f'{core}.multiarray', 'scalar')] = scalar
        allowed[(f'{core}.numeric', '_frombuffer')] = frombuffer
    for module in _SPARSE_MODULES:
        for name, cls in _SPARSE_CLASSES.items():
            allowed[(module, name)] = cls
    return allowed


def _numpy_only_globals() -> Dict[tuple, Any]:
    """Allow-list of 3DPW sequence pickles: numpy arrays, dtypes and scalars (no sparse matrices, no chumpy)."""
    return {key: value for key, value in _allowed_globals().items() if not key[0].startswith('scipy')}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only reconstructs numpy / scipy.sparse objects (plus chumpy stubs when ``allow_chumpy``).

    ``allowed`` replaces the default allow-list (``(module, name) -> object``), e.g. :func:`_numpy_only_globals`.
    """

    def __init__(self, file: io.IOBase, source: str, allow_chumpy: bool = True, encoding: str = 'latin1',
                 allowed: Optional[Dict[tuple, Any]] = None):
        super().__init__(file, encoding=encoding)
        self.source = source
        self.allow_chumpy = allow_chumpy
        self._allowed = _allowed_globals() if allowed is None else allowed

    def find_class(self, module: str, name: str) -> Any:
        target = self._allowed.get((module, name))
        if target is not None:
            return target
        if self.allow_chumpy and (module == 'chumpy' or module.startswith('chumpy.')):
            return ChumpyStub
        raise pickle.UnpicklingError(
            f'{self.source}: refusing to load the global "{module}.{name}" (only numpy arrays, scipy sparse matrices '
            'and chumpy arrays are allowed in SMPL-format pickles). Is this really an SMPL / METRO data file?')

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(f'{self.source}: persistent ids are not allowed in SMPL-format pickles')


def _resolve_stubs(obj: Any, source: str) -> Any:
    """Replace chumpy stubs by numpy arrays inside dicts / lists / tuples / object arrays."""
    if isinstance(obj, ChumpyStub):
        return obj.to_array(source)
    if isinstance(obj, dict):
        return {key: _resolve_stubs(value, source) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_resolve_stubs(value, source) for value in obj]
    if isinstance(obj, tuple):
        return tuple(_resolve_stubs(value, source) for value in obj)
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        out = np.empty(obj.shape, dtype=object)
        for index, value in np.ndenumerate(obj):
            out[index] = _resolve_stubs(value, source)
        return out
    return obj


def restricted_loads(data: bytes, source: str = '<bytes>', allow_chumpy: bool = True) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` and convert chumpy stubs to numpy arrays."""
    obj = RestrictedUnpickler(io.BytesIO(data), source, allow_chumpy=allow_chumpy).load()
    return _resolve_stubs(obj, source)


#: keys every 3DPW sequence file holds and the converter needs
THREEDPW_SEQUENCE_KEYS = ('sequence', 'genders', 'poses', 'betas', 'cam_poses', 'cam_intrinsics', 'jointPositions',
                          'img_frame_ids', 'campose_valid')


def load_3dpw_sequence(path: PathLike) -> Dict[str, Any]:
    """Read a 3DPW sequence ``.pkl`` (Python 2 pickle of numpy arrays / lists / strings) without running code."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'3DPW sequence file not found: {path}')
    with open(path, 'rb') as f:
        try:
            data = RestrictedUnpickler(f, path, allow_chumpy=False, allowed=_numpy_only_globals()).load()
        except (EOFError, ValueError, TypeError, IndexError) as err:  # truncated / corrupt pickle streams
            raise pickle.UnpicklingError(f'{path}: not a readable 3DPW sequence pickle ({err})') from err
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(f'{path}: expected a dict (a 3DPW sequence file), got {type(data).__name__}')
    missing = [key for key in THREEDPW_SEQUENCE_KEYS if key not in data]
    if missing:
        raise KeyError(f'{path}: not a 3DPW sequence file, missing keys {missing}')
    return data


def load_smpl_pickle(path: PathLike) -> Dict[str, Any]:
    """Read an SMPL model ``.pkl`` safely; returns a dict of numpy arrays / scipy sparse matrices / plain values."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'SMPL model file not found: {path}')
    with open(path, 'rb') as f:
        data = restricted_loads(f.read(), source=path)
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(f'{path}: expected a dict of SMPL arrays, got {type(data).__name__}')
    return data


def _read_npy_member(archive: zipfile.ZipFile, member: str, source: str) -> np.ndarray:
    with archive.open(member) as f:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(f)
        else:
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(f)
        payload = f.read()
    if dtype.hasobject:
        array = restricted_loads(payload, source=f'{source}:{member}', allow_chumpy=False)
        if not isinstance(array, np.ndarray):
            raise pickle.UnpicklingError(f'{source}:{member}: expected a pickled object array')
        return array
    array = np.frombuffer(payload, dtype=dtype, count=int(np.prod(shape)))
    return array.reshape(shape, order='F' if fortran_order else 'C').copy()


def load_metro_mesh_downsampling(path: PathLike) -> Dict[str, List[Any]]:
    """Read METRO's pickled ``mesh_downsampling.npz``: ``dict(A=[3 csc], U=[2 csc], D=[2 csc], F=[3 arrays])``.

    Each member is parsed with ``numpy.lib.format``; object arrays are unpickled with the restricted unpickler. The
    ``M`` member (pickled mesh objects) is never read.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'mesh down-sampling file not found: {path}')
    out: Dict[str, List[Any]] = {}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for key in ('A', 'U', 'D', 'F'):
            if f'{key}.npy' not in names:
                raise KeyError(f'{path}: member "{key}.npy" missing; is this a METRO mesh_downsampling.npz?')
            array = _read_npy_member(archive, f'{key}.npy', path)
            items = list(array.ravel()) if array.dtype == object else [array]
            if key == 'F':
                out[key] = [np.asarray(face) for face in items]
            else:
                out[key] = [sp.csc_matrix(matrix) for matrix in items]
    return out


def load_legacy_adjacency(indices_pt: PathLike, values_pt: PathLike, size_pt: PathLike) -> sp.csr_matrix:
    """Read the ``smpl_431_adjmat_{indices,values,size}.pt`` triple (``torch.load(weights_only=True)``) as scipy CSR."""
    loaded = []
    for path in (indices_pt, values_pt, size_pt):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'adjacency file not found: {path}')
        loaded.append(torch.load(path, map_location='cpu', weights_only=True))
    indices, values, size = loaded
    indices = np.asarray(indices, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    shape = tuple(int(s) for s in size)
    if indices.shape != (2, values.shape[0]) or len(shape) != 2:
        raise ValueError(f'inconsistent adjacency files: indices {indices.shape}, values {values.shape}, size {shape}')
    return sp.csr_matrix((values, (indices[0], indices[1])), shape=shape)
