"""Readers for the SMPL-format data files, built on the project's one restricted unpickler (``pointhmr.fileio``).

* :func:`load_smpl_pickle` reads an SMPL ``.pkl`` (official v1.0.0 files hold chumpy objects; they become numpy).
* :func:`load_metro_mesh_downsampling` reads METRO / GraphCMR ``mesh_downsampling.npz`` without ``allow_pickle``.
* :func:`load_legacy_adjacency` reads the ``smpl_431_adjmat_{indices,values,size}.pt`` triple with the safe loader.

Only numpy arrays / dtypes / scalars, scipy sparse matrices (csc, csr, coo) and chumpy objects (mapped to a stub whose
state must hold the array under ``'x'``) may be reconstructed, plus plain sets that chumpy state may contain; any
other global raises ``pickle.UnpicklingError`` (the ``SMPL_DATA`` allow-list).
"""
import os
import pickle
import zipfile
from typing import Any, Dict, List, Union

import numpy as np
import scipy.sparse as sp
import torch
from numpy.lib import format as npy_format

from ..fileio.safe_pickle import NUMPY_SCIPY_DATA, SMPL_DATA, ChumpyStub, numpy_core_attr, resolve_chumpy_stubs
from ..fileio.safe_pickle import restricted_loads as _restricted_loads

PathLike = Union[str, os.PathLike]

__all__ = ['ChumpyStub', 'numpy_core_attr', 'restricted_loads', 'load_smpl_pickle', 'load_metro_mesh_downsampling',
           'load_legacy_adjacency']


def restricted_loads(data: bytes, source: str = '<bytes>', allow_chumpy: bool = True) -> Any:
    """Unpickle SMPL-format ``data`` with the project's restricted unpickler; chumpy objects become numpy arrays."""
    obj = _restricted_loads(data, SMPL_DATA if allow_chumpy else NUMPY_SCIPY_DATA, source=source)
    return resolve_chumpy_stubs(obj, source)


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
