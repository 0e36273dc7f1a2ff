"""Fixed sparse up/down-sampling between the SMPL mesh levels (6890 <-> 1723 <-> 431 vertices), official behaviour §2.3.

Level 0 is the full mesh, level 1 the middle and level 2 the coarse one. ``D[i]`` maps level ``i`` to ``i + 1``
(pure vertex selection), ``U[i]`` maps level ``i + 1`` back to ``i`` (interpolation weights).
"""
import io
import os
import zipfile
from typing import Dict, List, Sequence, Union

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ..fileio import atomic_write_bytes
from ..utils.typing import PathLike
from .safe_pickle import load_metro_mesh_downsampling, reading_body_file


def _to_torch_sparse(matrix: sp.spmatrix) -> torch.Tensor:
    coo = sp.coo_matrix(matrix)
    indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32))
    return torch.sparse_coo_tensor(indices, values, size=coo.shape, check_invariants=True).coalesce()


def _selection_indices(matrix: sp.spmatrix) -> Union[np.ndarray, None]:
    """Column index per row when ``matrix`` is a pure selection (one 1.0 per row), else None."""
    csr = sp.csr_matrix(matrix)
    csr.eliminate_zeros()
    if not (np.all(np.diff(csr.indptr) == 1) and np.all(csr.data == 1.0)):
        return None
    return csr.indices.astype(np.int64)


class MeshSampler(nn.Module):
    """Up/down-sampling of per-vertex features with fixed sparse matrices (no parameters, nothing in checkpoints).

    Args:
        down: ``D`` matrices, ``D[i]`` of shape ``(N_{i+1}, N_i)``.
        up: ``U`` matrices, ``U[i]`` of shape ``(N_i, N_{i+1})``.
        adjacencies: one ``(N_i, N_i)`` adjacency per level.
        faces: one ``(F_i, 3)`` face array per level.
    """

    def __init__(self, down: Sequence[sp.spmatrix], up: Sequence[sp.spmatrix], adjacencies: Sequence[sp.spmatrix],
                 faces: Sequence[np.ndarray]):
        super().__init__()
        levels = len(adjacencies)
        if not (len(down) == len(up) == levels - 1 and len(faces) == levels and levels >= 1):
            raise ValueError(f'inconsistent mesh levels: {len(down)} D, {len(up)} U, {len(adjacencies)} A, '
                             f'{len(faces)} F (expected L-1, L-1, L, L)')
        self._down = [sp.csr_matrix(m) for m in down]
        self._up = [sp.csr_matrix(m) for m in up]
        self._adjacencies = [sp.csr_matrix(m) for m in adjacencies]
        self._faces = [np.asarray(f, dtype=np.int64) for f in faces]
        self.num_vertices: List[int] = [a.shape[0] for a in self._adjacencies]
        for i in range(levels - 1):
            n_fine, n_coarse = self.num_vertices[i], self.num_vertices[i + 1]
            if self._down[i].shape != (n_coarse, n_fine) or self._up[i].shape != (n_fine, n_coarse):
                raise ValueError(f'level {i}: D {self._down[i].shape} / U {self._up[i].shape} do not match vertex '
                                 f'counts {n_fine} -> {n_coarse}')
        for i in range(levels - 1):
            self.register_buffer(f'up_{i}', _to_torch_sparse(self._up[i]), persistent=False)
            selection = _selection_indices(self._down[i])
            if selection is not None:
                self.register_buffer(f'down_index_{i}', torch.from_numpy(selection), persistent=False)
            else:
                self.register_buffer(f'down_{i}', _to_torch_sparse(self._down[i]), persistent=False)

    @property
    def num_levels(self) -> int:
        return len(self.num_vertices)

    # ------------------------------------------------------------------ operations
    @staticmethod
    def _apply_sparse(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``matrix @ x`` for ``x`` of shape (B, N, C)."""
        batch, num, channels = x.shape
        flat = x.permute(1, 0, 2).reshape(num, batch * channels)
        out = torch.sparse.mm(matrix.to(dtype=x.dtype), flat)
        return out.reshape(-1, batch, channels).permute(1, 0, 2)

    def _check(self, x: torch.Tensor, level: int, what: str) -> torch.Tensor:
        if not 0 <= level < self.num_levels:
            raise ValueError(f'{what}: mesh level {level} does not exist (levels 0..{self.num_levels - 1})')
        if x.dim() not in (2, 3) or x.shape[-2] != self.num_vertices[level]:
            raise ValueError(f'{what}: expected (B, {self.num_vertices[level]}, C) or ({self.num_vertices[level]}, C) '
                             f'features for level {level}, got {tuple(x.shape)}')
        return x if x.dim() == 3 else x.unsqueeze(0)

    def downsample(self, x: torch.Tensor, n1: int = 0, n2: int = 1) -> torch.Tensor:
        """Level ``n1`` -> level ``n2`` (``n2 > n1``) by vertex selection; ``x`` is (B, N, C) or (N, C)."""
        if n2 <= n1:
            raise ValueError(f'downsample needs n2 > n1, got n1={n1}, n2={n2}')
        if n2 >= self.num_levels:
            raise ValueError(f'downsample: mesh level {n2} does not exist (levels 0..{self.num_levels - 1})')
        squeeze = x.dim() == 2
        out = self._check(x, n1, 'downsample')
        for i in range(n1, n2):
            index = getattr(self, f'down_index_{i}', None)
            if index is not None:
                out = out.index_select(1, index.to(out.device))
            else:
                out = self._apply_sparse(getattr(self, f'down_{i}'), out)
        return out[0] if squeeze else out

    def upsample(self, x: torch.Tensor, n1: int = 1, n2: int = 0) -> torch.Tensor:
        """Level ``n1`` -> level ``n2`` (``n2 < n1``) with the interpolation matrices; ``x`` is (B, N, C) or (N, C)."""
        if n2 >= n1 or n2 < 0:
            raise ValueError(f'upsample needs 0 <= n2 < n1, got n1={n1}, n2={n2}')
        squeeze = x.dim() == 2
        out = self._check(x, n1, 'upsample')
        for i in range(n1 - 1, n2 - 1, -1):
            out = self._apply_sparse(getattr(self, f'up_{i}'), out)
        return out[0] if squeeze else out

    def adjacency(self, level: int) -> sp.csr_matrix:
        """Vertex adjacency of a level (scipy CSR, symmetric, no self loops)."""
        return self._adjacencies[level].copy()

    def faces(self, level: int) -> np.ndarray:
        """Faces ``(F, 3)`` int64 of a level."""
        return self._faces[level].copy()

    def down_matrix(self, level: int) -> sp.csr_matrix:
        """``D[level]`` as scipy CSR."""
        return self._down[level].copy()

    def up_matrix(self, level: int) -> sp.csr_matrix:
        """``U[level]`` as scipy CSR."""
        return self._up[level].copy()

    def extra_repr(self) -> str:
        return f'num_vertices={self.num_vertices}'

    # ------------------------------------------------------------------ files
    @classmethod
    def from_file(cls, path: PathLike) -> 'MeshSampler':
        """Load either our pickle-free ``.npz`` (``A0_row``... keys) or METRO's pickled ``mesh_downsampling.npz``."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'mesh sampler file not found: {path}')
        with reading_body_file(path, 'mesh sampler file'):
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
            metro = load_metro_mesh_downsampling(path) if 'A.npy' in names else None
            pickle_free = _read_pickle_free(path) if metro is None and 'A0_row.npy' in names else None
        if metro is not None:
            return cls(metro['D'], metro['U'], metro['A'], metro['F'])
        if pickle_free is not None:
            return cls(**pickle_free)
        raise ValueError(f'{path}: neither a pickle-free mesh sampler npz (A0_row, ...) nor a METRO '
                         'mesh_downsampling.npz (A, U, D, F); convert it with '
                         'tools/model_converters/convert_smpl_assets.py')

    def save_pickle_free(self, path: PathLike) -> None:
        """Write the matrices as a pickle-free ``.npz`` (COO triplets ``X_row/_col/_data/_shape`` and ``F0..``)."""
        save_pickle_free(path, self._down, self._up, self._adjacencies, self._faces)


def save_pickle_free(path: PathLike, down: Sequence[sp.spmatrix], up: Sequence[sp.spmatrix],
                     adjacencies: Sequence[sp.spmatrix], faces: Sequence[np.ndarray]) -> None:
    """Write mesh-sampler matrices to a pickle-free ``.npz`` atomically (readable with ``allow_pickle=False``)."""
    arrays: Dict[str, np.ndarray] = {}
    for prefix, matrices in (('A', adjacencies), ('U', up), ('D', down)):
        for i, matrix in enumerate(matrices):
            coo = sp.coo_matrix(matrix)
            arrays[f'{prefix}{i}_row'] = coo.row.astype(np.int64)
            arrays[f'{prefix}{i}_col'] = coo.col.astype(np.int64)
            arrays[f'{prefix}{i}_data'] = coo.data.astype(np.float64)
            arrays[f'{prefix}{i}_shape'] = np.asarray(coo.shape, dtype=np.int64)
    for i, face in enumerate(faces):
        arrays[f'F{i}'] = np.asarray(face, dtype=np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def _read_pickle_free(path: str) -> Dict[str, List]:
    with np.load(path, allow_pickle=False) as data:

        def matrices(prefix: str) -> List[sp.csr_matrix]:
            out, i = [], 0
            while f'{prefix}{i}_row' in data:
                shape = tuple(int(s) for s in data[f'{prefix}{i}_shape'])
                out.append(
                    sp.csr_matrix((data[f'{prefix}{i}_data'], (data[f'{prefix}{i}_row'], data[f'{prefix}{i}_col'])),
                                  shape=shape))
                i += 1
            return out

        faces, i = [], 0
        while f'F{i}' in data:
            faces.append(np.asarray(data[f'F{i}'], dtype=np.int64))
            i += 1
        return dict(down=matrices('D'), up=matrices('U'), adjacencies=matrices('A'), faces=faces)
