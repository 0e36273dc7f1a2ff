"""The project's one restricted unpickler: reads pickled data files without running code from them.

One mechanism (:class:`RestrictedUnpickler`), two allow-lists:

* :data:`SMPL_DATA` for SMPL model pickles and METRO ``.npz`` object arrays: numpy arrays / dtypes / scalars, scipy
  sparse matrices (csc, csr, coo) and chumpy objects (mapped to :class:`ChumpyStub`, whose state must hold the array
  under ``'x'``);
* :data:`OFFICIAL_CHECKPOINT` for official PointHMR ``.bin`` files (plain state_dicts or whole pickled modules):
  torch's own tensor / storage rebuild functions, a few containers, inert stubs for the official ``src.*`` classes
  and ``torch.nn`` modules, inert placeholders for ``torch.nn.functional`` functions.

Rules that hold for both lists: a global is only resolved when it is on the list (nothing is imported on request),
``copyreg._reconstructor`` only builds allow-listed classes, ``_codecs.encode`` only decodes latin-1 text (how
protocol-2 pickles store bytes), and from ``builtins`` only inert container types (``set``, ``frozenset``,
``bytearray``, ``complex``, ``slice``, ``object``) are ever returned: ``builtins.getattr``, ``eval``, ``exec``,
``__import__`` and every other builtin function are refused whatever a list says. torch's process-wide
``add_safe_globals`` registry is never consulted, so nothing another library allow-listed can widen these lists.
"""
import _compat_pickle
import builtins
import codecs
import copyreg
import io
import pickle
import types
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import numpy as np
import scipy.sparse as sp

#: builtins that may be reconstructed (inert data types); every other ``builtins.*`` global is refused
SAFE_BUILTIN_TYPES: Dict[str, type] = {
    'set': set, 'frozenset': frozenset, 'bytearray': bytearray, 'complex': complex, 'slice': slice, 'object': object
}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global that is not on the allow-list (nothing from the file was run)."""


class UnsafeCheckpointError(UnsafePickleError):
    """An official checkpoint asked for a global that is not on the checkpoint allow-list."""


def numpy_core_attr(submodule: str, name: str) -> Any:
    """``numpy._core.<submodule>.<name>`` on numpy 2, ``numpy.core.<submodule>.<name>`` on numpy 1."""
    try:
        module = __import__(f'numpy._core.{submodule}', fromlist=[name])
    except ImportError:  # numpy < 2
        module = __import__(f'numpy.core.{submodule}', fromlist=[name])
    return getattr(module, name)


def _latin1_encode(text: str, encoding: str = 'latin1', errors: str = 'strict') -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes; any other codec is refused."""
    if not isinstance(text, str) or encoding.replace('-', '').replace('_', '').lower() not in ('latin1', 'iso88591'):
        raise UnsafePickleError(f'_codecs.encode is only allowed for latin-1 text, got encoding {encoding!r}')
    return codecs.encode(text, 'latin1', errors)


@dataclass(frozen=True)
class AllowList:
    """What one kind of file may contain.

    Args:
        name: what the file is (used in refusals).
        globals: exact ``'module.name'`` -> object to return.
        resolve: optional ``(module, name) -> object or None`` for families of names (stub classes, dtypes).
        reconstructable: classes ``copyreg._reconstructor`` may build (protocol 0/1 pickles of plain objects).
        error: exception class raised on a refused global.
        hint: appended to refusals (what the file should contain instead).
    """

    name: str
    globals: Dict[str, Any]
    resolve: Optional[Callable[[str, str], Any]] = None
    reconstructable: tuple = ()
    error: type = UnsafePickleError
    hint: str = ''


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only the globals of an :class:`AllowList`.

    Args:
        file: binary file object.
        allow_list: what may be reconstructed.
        source: file name, quoted in every refusal.
        encoding: for Python-2 pickles (``latin1`` keeps numpy buffers intact).
    """

    def __init__(self,
                 file: io.IOBase,
                 allow_list: AllowList,
                 source: str = '<bytes>',
                 encoding: str = 'latin1',
                 **kwargs: Any):
        super().__init__(file, encoding=encoding, **kwargs)
        self.allow_list = allow_list
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        # Python-2 names written by protocol-2 pickles (torch.save's default), e.g. __builtin__.set, copy_reg
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        qualified = f'{module}.{name}'
        if module == 'builtins':
            target = SAFE_BUILTIN_TYPES.get(name)
            if target is None or self.allow_list.globals.get(qualified) is not target:
                raise self.refuse(qualified)
            return target
        if qualified == 'copyreg._reconstructor':
            return self._reconstructor
        if qualified == '_codecs.encode':
            return _latin1_encode
        target = self.allow_list.globals.get(qualified)
        if target is None and self.allow_list.resolve is not None:
            target = self.allow_list.resolve(module, name)
        if target is None or _is_builtin_function(target):
            raise self.refuse(qualified)
        return target

    def _reconstructor(self, cls: type, base: type, state: Any) -> Any:
        allowed = self.allow_list.reconstructable
        if not (isinstance(cls, type) and issubclass(cls, allowed)) or base not in (object, np.ndarray):
            raise self.allow_list.error(
                f'{self.source}: copyreg._reconstructor called with a forbidden class {cls!r} / base {base!r}')
        return copyreg._reconstructor(cls, base, state)

    def refuse(self, qualified: str) -> UnsafePickleError:
        """The error for a global that is not allowed."""
        return self.allow_list.error(
            f'{self.source}: refusing to load the global {qualified!r}: it is not on the allow-list for '
            f'{self.allow_list.name}. {self.allow_list.hint}'.rstrip())


def _is_builtin_function(obj: Any) -> bool:
    """True for functions of the ``builtins`` module (getattr, eval, exec, __import__, ...), whatever their alias."""
    return isinstance(obj, types.BuiltinFunctionType) and getattr(builtins, getattr(obj, '__name__', ''), None) is obj


def restricted_loads(data: bytes, allow_list: AllowList, source: str = '<bytes>') -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data), allow_list, source=source).load()


def restricted_pickle_module(allow_list: AllowList, source: str) -> types.ModuleType:
    """A stand-in ``pickle`` module for ``torch.load(pickle_module=...)`` whose unpickler is restricted."""

    class _Unpickler(RestrictedUnpickler):

        def __init__(self, file: io.IOBase, **kwargs: Any):
            super().__init__(file, allow_list, source=source, **kwargs)

    module = types.ModuleType('pointhmr_restricted_pickle')
    module.Unpickler = _Unpickler
    module.load = lambda file, **kwargs: _Unpickler(file, **kwargs).load()
    module.loads = lambda data, **kwargs: _Unpickler(io.BytesIO(data), **kwargs).load()
    module.UnpicklingError = pickle.UnpicklingError
    return module


# ---------------------------------------------------------------------------------------------------------------------
# allow-list 1: SMPL-format data files (SMPL .pkl, METRO mesh_downsampling.npz object arrays)
# ---------------------------------------------------------------------------------------------------------------------
class ChumpyStub:
    """Stand-in for chumpy objects (``chumpy.ch.Ch`` and friends); keeps the pickled state only."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_array(self, source: str) -> np.ndarray:
        """The array the chumpy object held (its ``'x'`` state)."""
        state = self.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = state[1]  # (dict_state, slot_state) form
        if isinstance(state, dict) and 'x' in state:
            return np.asarray(resolve_chumpy_stubs(state['x'], source))
        raise UnsafePickleError(
            f'{source}: a chumpy object without an array under key "x" cannot be converted to numpy; re-save the file '
            'with plain numpy arrays (e.g. with chumpy installed: convert every chumpy value with np.array(value)).')


def resolve_chumpy_stubs(obj: Any, source: str) -> Any:
    """Replace chumpy stubs by numpy arrays inside dicts / lists / tuples / object arrays."""
    if isinstance(obj, ChumpyStub):
        return obj.to_array(source)
    if isinstance(obj, dict):
        return {key: resolve_chumpy_stubs(value, source) for key, value in obj.items()}
    if isinstance(obj, list):
        return [resolve_chumpy_stubs(value, source) for value in obj]
    if isinstance(obj, tuple):
        return tuple(resolve_chumpy_stubs(value, source) for value in obj)
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        out = np.empty(obj.shape, dtype=object)
        for index, value in np.ndenumerate(obj):
            out[index] = resolve_chumpy_stubs(value, source)
        return out
    return obj


_SPARSE_CLASSES = {'csc_matrix': sp.csc_matrix, 'csr_matrix': sp.csr_matrix, 'coo_matrix': sp.coo_matrix}
_SPARSE_MODULES = ('scipy.sparse', 'scipy.sparse.csc', 'scipy.sparse._csc', 'scipy.sparse.csr', 'scipy.sparse._csr',
                   'scipy.sparse.coo', 'scipy.sparse._coo')


def _numpy_globals() -> Dict[str, Any]:
    allowed: Dict[str, Any] = {'numpy.ndarray': np.ndarray, 'numpy.dtype': np.dtype}
    for core in ('numpy.core', 'numpy._core'):
        allowed[f'{core}.multiarray._reconstruct'] = numpy_core_attr('multiarray', '_reconstruct')
        allowed[f'{core}.multiarray.scalar'] = numpy_core_attr('multiarray', 'scalar')
    return allowed


def _numpy_dtype_class(module: str, name: str) -> Any:
    if module in ('numpy', 'numpy.dtypes') and name.endswith('DType'):
        dtype_class = getattr(np.dtypes, name, None)
        if isinstance(dtype_class, type) and issubclass(dtype_class, np.dtype):
            return dtype_class
    return None


def _smpl_globals() -> Dict[str, Any]:
    allowed = _numpy_globals()
    for core in ('numpy.core', 'numpy._core'):
        allowed[f'{core}.numeric._frombuffer'] = numpy_core_attr('numeric', '_frombuffer')
    for name in ('set', 'frozenset', 'object'):
        allowed[f'builtins.{name}'] = SAFE_BUILTIN_TYPES[name]
    for module in _SPARSE_MODULES:
        for name, cls in _SPARSE_CLASSES.items():
            allowed[f'{module}.{name}'] = cls
    return allowed


def _resolve_smpl(module: str, name: str) -> Any:
    if module == 'chumpy' or module.startswith('chumpy.'):
        return ChumpyStub
    return _numpy_dtype_class(module, name)


def _resolve_no_chumpy(module: str, name: str) -> Any:
    return _numpy_dtype_class(module, name)


SMPL_DATA = AllowList(name='SMPL-format data files (numpy arrays, scipy sparse matrices, chumpy arrays)',
                      globals=_smpl_globals(),
                      resolve=_resolve_smpl,
                      reconstructable=tuple(_SPARSE_CLASSES.values()) + (np.ndarray, ChumpyStub),
                      hint='Is this really an SMPL / METRO data file?')

#: the same list without chumpy (object arrays inside METRO .npz files)
NUMPY_SCIPY_DATA = AllowList(name='numpy / scipy data arrays',
                             globals=_smpl_globals(),
                             resolve=_resolve_no_chumpy,
                             reconstructable=tuple(_SPARSE_CLASSES.values()) + (np.ndarray, ),
                             hint='Is this really a METRO / GraphCMR data file?')


# ---------------------------------------------------------------------------------------------------------------------
# allow-list 2: official PointHMR checkpoints (state_dicts and whole pickled modules)
# ---------------------------------------------------------------------------------------------------------------------
class PickledModuleStub:
    """Inert stand-in for a class of a pickled module: keeps the instance ``__dict__`` and nothing else."""

    _stub_global: str = ''

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)

    def __repr__(self) -> str:
        return f'<stub of {self._stub_global}>'


class PickledGlobalPlaceholder:
    """Inert stand-in for a function referenced by a pickled module (never called)."""

    def __init__(self, qualified_name: str):
        self.qualified_name = qualified_name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f'{self.qualified_name} is a placeholder loaded from a checkpoint and cannot be called')

    def __repr__(self) -> str:
        return f'<placeholder of {self.qualified_name}>'


class SkippedSparseTensor:
    """Placeholder for a sparse tensor of the pickled module that could not be rebuilt on CPU (never needed)."""

    def __init__(self, reason: str):
        self.reason = reason


# Modules whose classes are replaced by attribute-keeping stubs (the official code and torch.nn containers/layers).
_STUBBED_MODULE_PREFIXES = ('src.', 'torch.nn.modules.', 'torch.nn.parallel.', 'argparse')
# Modules whose (function) globals are replaced by inert placeholders, e.g. ``F.relu`` stored as an activation.
_PLACEHOLDER_MODULES = ('torch.nn.functional', 'torch.nn.init')
_STUB_CLASSES: Dict[str, type] = {}


def _stub_class(module: str, name: str) -> type:
    qualified = f'{module}.{name}'
    if qualified not in _STUB_CLASSES:
        _STUB_CLASSES[qualified] = type(name, (PickledModuleStub, ),
                                        {'__module__': f'pointhmr.stubs.{module}', '_stub_global': qualified})
    return _STUB_CLASSES[qualified]


def _torch_nn_attr(module: str, name: str) -> Any:
    """Look up ``module.name`` inside torch.nn without importing anything outside torch (None when absent)."""
    import torch
    owner: Any = torch.nn
    for part in module.split('.')[2:]:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return getattr(owner, name, None)


def _rebuild_sparse_tensor_or_skip(*args, **kwargs):
    import torch
    try:
        return torch._utils._rebuild_sparse_tensor(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the sampler's sparse matrices are not needed, skip them
        return SkippedSparseTensor(f'{type(error).__name__}: {error}')


def _checkpoint_globals() -> Dict[str, Any]:
    """torch's built-in weights-only list (never the user-extended one) + containers + numpy arrays."""
    import collections

    from torch import _weights_only_unpickler
    allowed = {k: v for k, v in _weights_only_unpickler._get_allowed_globals().items() if not k.startswith('builtins.')}
    allowed.update(
        {'collections.OrderedDict': collections.OrderedDict, 'collections.defaultdict': collections.defaultdict})
    for name in ('set', 'frozenset', 'slice', 'complex', 'bytearray', 'object'):
        allowed[f'builtins.{name}'] = SAFE_BUILTIN_TYPES[name]
    allowed['torch._utils._rebuild_sparse_tensor'] = _rebuild_sparse_tensor_or_skip
    allowed.update(_numpy_globals())
    return {k: v for k, v in allowed.items() if not _is_builtin_function(v)}


def _resolve_checkpoint(module: str, name: str) -> Any:
    dtype_class = _numpy_dtype_class(module, name)
    if dtype_class is not None:
        return dtype_class
    if module.startswith(_PLACEHOLDER_MODULES) and '.' not in name:
        return PickledGlobalPlaceholder(f'{module}.{name}')
    if module.startswith(_STUBBED_MODULE_PREFIXES) and '.' not in name:
        if module.startswith('torch.nn.') and not isinstance(_torch_nn_attr(module, name), type):
            return None
        return _stub_class(module, name)
    return None


class _LazyCheckpointGlobals(dict):
    """Built on first use (importing torch's allow-list is not free)."""

    def _fill(self) -> None:
        if not self:
            self.update(_checkpoint_globals())

    def get(self, key, default=None):
        self._fill()
        return super().get(key, default)


OFFICIAL_CHECKPOINT = AllowList(
    name='official PointHMR checkpoints (tensors, containers, classes of the official model)',
    globals=_LazyCheckpointGlobals(),
    resolve=_resolve_checkpoint,
    reconstructable=(PickledModuleStub, ),
    error=UnsafeCheckpointError,
    hint='Only load checkpoints from a source you trust; if this global is harmless, convert the file to a plain '
    'state_dict with the official code first.')

__all__ = [
    'SAFE_BUILTIN_TYPES', 'UnsafePickleError', 'UnsafeCheckpointError', 'AllowList', 'RestrictedUnpickler',
    'restricted_loads', 'restricted_pickle_module', 'numpy_core_attr', 'ChumpyStub', 'resolve_chumpy_stubs',
    'SMPL_DATA', 'NUMPY_SCIPY_DATA', 'PickledModuleStub', 'PickledGlobalPlaceholder', 'SkippedSparseTensor',
    'OFFICIAL_CHECKPOINT'
]
