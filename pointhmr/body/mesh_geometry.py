"""Triangle-mesh geometry shared by the surface losses, the surface-quality metric and the renderer."""
import numpy as np


def mesh_edges(faces: np.ndarray) -> np.ndarray:
    """(F, 3) triangle indices -> (E, 2) int64 unique undirected edges, each ``(low, high)``, sorted."""
    faces = np.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ValueError(f'mesh_edges: faces must be a non-empty (F, 3) array, got shape {faces.shape}')
    pairs = np.concatenate((faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]])).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]  # degenerate faces of down-sampled meshes repeat a vertex
    return np.unique(pairs, axis=0)


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unnormalised face normals ``(v1 - v0) x (v2 - v0)``: (V, 3) -> (F, 3), or batched (B, V, 3) -> (B, F, 3);
    their length is twice the face area."""
    tri = np.asarray(vertices)[..., np.asarray(faces), :]
    return np.cross(tri[..., 1, :] - tri[..., 0, :], tri[..., 2, :] - tri[..., 0, :])
