"""Several predicted people in one scene: front overlay on the image and a side-view panel.

PointHMR predicts, per person crop, pelvis-centred vertices (metres) and a weak-perspective camera ``(s, tx, ty)`` of
the crop. On the image, one metre at the person spans ``k = s * input_scale / 2`` pixels. With a nominal pinhole
camera of focal ``f`` pixels at the image centre ``p``, the person then stands at depth ``D = f / k`` and translation
``T = ((c - p) / k + t, D)`` (``c`` = crop centre), which orders people by depth and places them for the side view.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .renderer import DEFAULT_MESH_COLOR, project_weak_perspective_to_image, render_mesh, side_view

#: one colour per person (RGB, 0-1); the first is the official demo's light blue
PERSON_COLORS = (DEFAULT_MESH_COLOR, (0.91, 0.68, 0.55), (0.62, 0.85, 0.62), (0.88, 0.62, 0.85), (0.95, 0.86, 0.5),
                 (0.55, 0.84, 0.9))

#: longest side of a rendered picture; larger images are drawn downscaled (renderer memory grows with the pixels)
MAX_RENDER_SIDE = 1920


def bound_render_size(image: np.ndarray, max_side: Optional[int] = MAX_RENDER_SIDE) -> Tuple[np.ndarray, float]:
    """``(image, factor)``: ``image`` shrunk (area interpolation) so that its longest side is at most ``max_side``
    (None = no limit) and the factor applied (1.0 = unchanged). Pixel coordinates drawn on it (crop centres and
    sides, keypoints, boxes) must be multiplied by ``factor``; weak-perspective crop cameras are unit-free."""
    if max_side is not None and max_side < 1:
        raise ValueError(f'max_side must be a positive number of pixels or None, got {max_side}')
    factor = 1.0 if max_side is None else min(1.0, max_side / max(image.shape[:2]))
    if factor < 1.0:
        size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image, factor


def _people_arrays(vertices, cameras, input_centers, input_scales):
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim == 2:
        vertices = vertices[None]
    if vertices.ndim != 3 or vertices.shape[2] != 3:
        raise ValueError(f'vertices must be (P, V, 3) for P people, got {vertices.shape}')
    num = len(vertices)
    cameras = np.asarray(cameras, dtype=np.float64).reshape(-1, 3)
    centers = np.asarray(input_centers, dtype=np.float64).reshape(-1, 2)
    scales = np.asarray(input_scales, dtype=np.float64)
    if scales.ndim == 0 or (scales.ndim == 1 and scales.size == num and num != 1):
        scales = np.broadcast_to(scales.reshape(-1, 1), (num, 2))  # one square side per person
    elif scales.size == num:
        scales = np.repeat(scales.reshape(-1, 1), 2, axis=1)
    else:
        scales = scales.reshape(-1, 2)
    for name, array in (('cameras', cameras), ('input_centers', centers), ('input_scales', scales)):
        if len(array) != num:
            raise ValueError(f'{name} has {len(array)} rows but there are {num} people (vertices {vertices.shape})')
    return vertices, cameras, centers, scales


def default_focal(image_shape: Sequence[int]) -> float:
    """Nominal focal length in pixels for an (H, W) image: the longer side (about a 53 degree field of view)."""
    return float(max(image_shape[0], image_shape[1]))


def person_translations(cameras: np.ndarray,
                        input_centers: np.ndarray,
                        input_scales: np.ndarray,
                        image_shape: Sequence[int],
                        focal: Optional[float] = None) -> np.ndarray:
    """(P, 3) camera-frame translations of the pelvis-centred meshes under a nominal pinhole camera (see module doc)."""
    cameras = np.asarray(cameras, dtype=np.float64).reshape(-1, 3)
    centers = np.asarray(input_centers, dtype=np.float64).reshape(-1, 2)
    scales = np.asarray(input_scales, dtype=np.float64).reshape(len(cameras), -1)
    focal = default_focal(image_shape) if focal is None else float(focal)
    principal = np.array([image_shape[1], image_shape[0]], dtype=np.float64) / 2.0
    px_per_metre = np.maximum(np.abs(cameras[:, :1]) * scales[:, :1] / 2.0, 1e-6)
    shift = (centers - principal) / px_per_metre + cameras[:, 1:3]
    return np.concatenate([shift, focal / px_per_metre], axis=1)


def camera_for_centred_vertices(cameras: np.ndarray, pelvis_px: np.ndarray, input_centers: np.ndarray,
                                input_scales: np.ndarray) -> np.ndarray:
    """(P, 3) cameras that project the pelvis-centred vertices where the model's (uncentred) mesh projects.

    PointHMR's camera acts on the mesh as regressed, while ``pred_instances.vertices`` are centred at the regressed
    pelvis. Weak perspective is affine, so moving the translation to put the origin on the predicted pelvis keypoint
    (``pelvis_px``, image pixels) is exact: ``t' = x2d_pelvis / s`` with ``x2d`` the normalised crop coordinate.
    """
    cameras = np.asarray(cameras, dtype=np.float64).reshape(-1, 3)
    centers = np.asarray(input_centers, dtype=np.float64).reshape(-1, 2)
    scales = np.asarray(input_scales, dtype=np.float64).reshape(len(cameras), -1)
    pelvis_norm = (np.asarray(pelvis_px, dtype=np.float64).reshape(-1, 2) - centers) * 2.0 / scales[:, :2]
    scale = np.where(np.abs(cameras[:, :1]) > 1e-9, cameras[:, :1], 1e-9)
    return np.concatenate([cameras[:, :1], pelvis_norm / scale], axis=1)


def _stack_people(vertices: np.ndarray, faces: np.ndarray, colors: Optional[Sequence]) -> Tuple[np.ndarray, np.ndarray]:
    num, num_vertices = vertices.shape[:2]
    all_faces = (faces[None] + (np.arange(num) * num_vertices)[:, None, None]).reshape(-1, 3)
    palette = PERSON_COLORS if colors is None else colors
    face_colors = np.repeat(np.asarray([palette[i % len(palette)] for i in range(num)], dtype=np.float64),
                            len(faces),
                            axis=0)
    face_colors = np.where(face_colors.max(1, keepdims=True) > 1.0, face_colors / 255.0, face_colors)
    return all_faces, face_colors


def render_people(image: np.ndarray,
                  vertices: np.ndarray,
                  faces: np.ndarray,
                  cameras: np.ndarray,
                  input_centers: np.ndarray,
                  input_scales: np.ndarray,
                  focal: Optional[float] = None,
                  colors: Optional[Sequence] = None,
                  alpha: float = 0.9,
                  channel_order: str = 'bgr',
                  **render_kwargs) -> Tuple[np.ndarray, np.ndarray]:
    """Overlay P predicted meshes (P, V, 3) on the image, nearer people in front. Returns (image, mask).

    Each mesh is placed exactly where its weak-perspective camera projects it (the same place as the predicted 2D
    keypoints); people are ordered by their nominal depth (:func:`person_translations`).
    """
    vertices, cameras, centers, scales = _people_arrays(vertices, cameras, input_centers, input_scales)
    faces = np.asarray(faces, dtype=np.int64)
    if len(vertices) == 0:
        image = np.asarray(image)
        return image.copy(), np.zeros(image.shape[:2], dtype=bool)
    depth = person_translations(cameras, centers, scales, np.shape(image), focal)[:, 2]
    projected = [
        project_weak_perspective_to_image(v, c, ctr, sc)[:, :2]
        for v, c, ctr, sc in zip(vertices, cameras, centers, scales)
    ]
    vertices_px = np.concatenate(
        [np.concatenate([xy, v[:, 2:3] + d], axis=1) for xy, v, d in zip(projected, vertices, depth)])
    all_faces, face_colors = _stack_people(vertices, faces, colors)
    return render_mesh(image,
                       vertices_px,
                       all_faces,
                       alpha=alpha,
                       vertices_3d=vertices.reshape(-1, 3),
                       channel_order=channel_order,
                       face_colors=face_colors,
                       **render_kwargs)


def render_side_view(vertices: np.ndarray,
                     faces: np.ndarray,
                     cameras: np.ndarray,
                     input_centers: np.ndarray,
                     input_scales: np.ndarray,
                     image_shape: Sequence[int],
                     angle: float = 90.0,
                     focal: Optional[float] = None,
                     colors: Optional[Sequence] = None,
                     background: Sequence[int] = (255, 255, 255),
                     margin: float = 0.08,
                     channel_order: str = 'bgr',
                     **render_kwargs) -> np.ndarray:
    """Render the people seen from the side (scene rotated ``angle`` degrees about the vertical axis).

    Returns a uint8 (H, W, 3) panel of ``image_shape`` (H, W); the scene is fitted into it orthographically.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    panel = np.empty((height, width, 3), dtype=np.uint8)
    panel[:] = np.asarray(background, dtype=np.uint8)
    vertices, cameras, centers, scales = _people_arrays(vertices, cameras, input_centers, input_scales)
    if len(vertices) == 0:
        return panel
    faces = np.asarray(faces, dtype=np.int64)
    translations = person_translations(cameras, centers, scales, (height, width), focal)
    scene = (vertices + translations[:, None, :]).reshape(-1, 3)
    rotated = side_view(scene, angle)
    low, high = rotated[:, :2].min(0), rotated[:, :2].max(0)
    extent = np.maximum(high - low, 1e-6)
    fit = min(width * (1 - 2 * margin) / extent[0], height * (1 - 2 * margin) / extent[1])
    xy = (rotated[:, :2] - (low + high) / 2.0) * fit + np.array([width, height]) / 2.0
    vertices_px = np.concatenate([xy, rotated[:, 2:3]], axis=1)
    all_faces, face_colors = _stack_people(vertices, faces, colors)
    rendered, _ = render_mesh(panel,
                              vertices_px,
                              all_faces,
                              vertices_3d=rotated,
                              channel_order=channel_order,
                              face_colors=face_colors,
                              **render_kwargs)
    return rendered
