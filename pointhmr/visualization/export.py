"""Mesh and result export: Wavefront OBJ, ASCII PLY, NPZ and JSON (all written atomically), plus OBJ/PLY readers.

Every writer creates the parent folder, writes to a temporary file next to the target and renames it with
``os.replace``, so a crash never leaves a half-written file under the final name.
"""
import io
import json
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import numpy as np
import torch

from ..fileio import atomic_write
from ..utils.arrays import to_numpy
from ..utils.typing import PathLike


def _mesh_arrays(vertices: Any, faces: Any) -> Tuple[np.ndarray, np.ndarray]:
    vertices = to_numpy(vertices, np.float64)
    faces = to_numpy(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f'vertices must have shape (N, 3), got {vertices.shape}; export one person at a time')
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f'faces must be an integer array of shape (F, 3), got {faces.dtype} {faces.shape}')
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'faces index 0..{faces.max()} but there are only {len(vertices)} vertices')
    return vertices, faces.astype(np.int64)


def save_obj(path: PathLike, vertices: Any, faces: Any) -> Path:
    """Write a triangle mesh as Wavefront OBJ (1-based face indices). Returns the path."""
    vertices, faces = _mesh_arrays(vertices, faces)
    buffer = io.StringIO()
    np.savetxt(buffer, vertices, fmt='v %.6f %.6f %.6f')
    np.savetxt(buffer, faces + 1, fmt='f %d %d %d')
    with atomic_write(path, 'w') as handle:
        handle.write(buffer.getvalue())
    return Path(path)


def save_ply(path: PathLike, vertices: Any, faces: Any, colors: Optional[Any] = None) -> Path:
    """Write a triangle mesh as ASCII PLY; ``colors`` are optional per-vertex (N, 3) RGB in 0-1 or 0-255."""
    vertices, faces = _mesh_arrays(vertices, faces)
    header = [
        'ply', 'format ascii 1.0', 'comment pointhmr mesh', f'element vertex {len(vertices)}', 'property float x',
        'property float y', 'property float z'
    ]
    table = vertices
    fmt = '%.6f %.6f %.6f'
    if colors is not None:
        rgb = to_numpy(colors, np.float64)
        if rgb.shape == (3, ):
            rgb = np.broadcast_to(rgb, vertices.shape)
        if rgb.shape != vertices.shape:
            raise ValueError(f'colors must be (3,) or (N, 3) = {vertices.shape}, got {rgb.shape}')
        rgb = np.clip(np.rint(rgb * 255.0 if rgb.max() <= 1.0 else rgb), 0, 255)
        header += ['property uchar red', 'property uchar green', 'property uchar blue']
        table = np.concatenate([vertices, rgb], axis=1)
        fmt += ' %d %d %d'
    header += [f'element face {len(faces)}', 'property list uchar int vertex_indices', 'end_header']
    buffer = io.StringIO()
    buffer.write('\n'.join(header) + '\n')
    np.savetxt(buffer, table, fmt=fmt)
    np.savetxt(buffer, faces, fmt='3 %d %d %d')
    with atomic_write(path, 'w') as handle:
        handle.write(buffer.getvalue())
    return Path(path)


def load_obj(path: PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read vertices (N, 3) and triangle faces (F, 3) from an OBJ file (``v``/``f`` lines; ``f a/b/c`` allowed)."""
    vertices, faces = [], []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == 'v':
                vertices.append([float(x) for x in parts[1:4]])
            elif parts[0] == 'f':
                if len(parts) != 4:
                    raise ValueError(f'{path}: only triangle faces are supported, got {line.strip()!r}')
                faces.append([int(p.split('/')[0]) - 1 for p in parts[1:4]])
    return np.asarray(vertices, dtype=np.float64).reshape(-1, 3), np.asarray(faces, dtype=np.int64).reshape(-1, 3)


def load_ply(path: PathLike) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Read an ASCII triangle PLY: vertices (N, 3), faces (F, 3), uint8 colors (N, 3) or None."""
    with open(path, encoding='utf-8') as handle:
        lines = handle.read().splitlines()
    if not lines or lines[0].strip() != 'ply' or 'format ascii' not in lines[1]:
        raise ValueError(f'{path} is not an ASCII PLY file')
    end = lines.index('end_header')
    header = lines[:end]
    num_vertices = next(int(h.split()[2]) for h in header if h.startswith('element vertex'))
    num_faces = next(int(h.split()[2]) for h in header if h.startswith('element face'))
    has_color = any(h.endswith(' red') for h in header)
    body = lines[end + 1:]
    table = np.asarray([row.split() for row in body[:num_vertices]], dtype=np.float64).reshape(num_vertices, -1)
    face_rows = np.asarray([row.split() for row in body[num_vertices:num_vertices + num_faces]],
                           dtype=np.int64).reshape(num_faces, -1)
    if num_faces and not np.all(face_rows[:, 0] == 3):
        raise ValueError(f'{path}: only triangle faces are supported')
    colors = table[:, 3:6].astype(np.uint8) if has_color else None
    return table[:, :3], face_rows[:, 1:4], colors


def _plain(value: Any) -> Any:
    """Convert numpy / torch values (possibly nested) to JSON-serialisable Python objects."""
    if isinstance(value, torch.Tensor):
        value = to_numpy(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def save_results_json(path: PathLike, results: Any, indent: Optional[int] = None) -> Path:
    """Write results (nested dicts / lists of arrays, numbers, strings) as JSON."""
    text = json.dumps(_plain(results), indent=indent, allow_nan=True)
    with atomic_write(path, 'w') as handle:
        handle.write(text + '\n')
    return Path(path)


def save_results_npz(path: PathLike, results: Mapping[str, Any]) -> Path:
    """Write a flat mapping name -> numeric/string array as compressed NPZ (loadable with ``allow_pickle=False``)."""
    if not isinstance(results, Mapping):
        raise TypeError(f'results must be a mapping name -> array, got {type(results).__name__}')
    arrays = {}
    for key, value in results.items():
        array = to_numpy(value)
        if array.dtype == object:
            raise ValueError(f'results[{key!r}] is not a numeric or string array (dtype object); flatten it first')
        arrays[str(key)] = array
    with atomic_write(path, 'wb') as handle:
        np.savez_compressed(handle, **arrays)
    return Path(path)
