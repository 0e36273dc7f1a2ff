"""Headless triangle-mesh renderer (numpy only) and the projections that feed it.

Coordinate frame everywhere: x right, y down, z forward (OpenCV camera frame). ``vertices_px`` are
``(x_px, y_px, depth)`` with pixel centres at integer coordinates and larger depth = farther from the viewer.
Faces are rasterised by vectorised scanlines into a z-buffer (per pixel, the nearest face wins): the exact form of
the painter's algorithm, also correct for intersecting faces. Shading is Lambertian, flat (per face) or smooth
(interpolated vertex normals), plus ambient.

Faces follow the SMPL convention: counter-clockwise seen from outside in a right-handed frame, so a face whose normal
``(v1 - v0) x (v2 - v0)`` has a negative z component faces the viewer. Lighting is two-sided by default (normals are
turned towards the viewer), so meshes with the opposite winding still render correctly unless back faces are culled.
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from pointhmr.body.mesh_geometry import face_normals

ColorLike = Union[Sequence[float], np.ndarray]

#: light-blue mesh colour (RGB, 0-1), as in the official demo
DEFAULT_MESH_COLOR = (0.65, 0.74, 0.86)
#: direction from the surface towards the light in the camera frame: from the viewer, slightly above and left
DEFAULT_LIGHT_DIR = (-0.3, -0.4, -1.0)


def _as_unit_color(color: ColorLike) -> np.ndarray:
    rgb = np.asarray(color, dtype=np.float64).reshape(-1)
    if rgb.shape != (3, ) or not np.all(np.isfinite(rgb)) or rgb.min() < 0:
        raise ValueError(f'color must be 3 non-negative numbers (r, g, b) in 0-1 or 0-255, got {color!r}')
    return rgb / 255.0 if rgb.max() > 1.0 else rgb


def _check_mesh(vertices: np.ndarray, faces: np.ndarray, name: str) -> Tuple[np.ndarray, np.ndarray]:
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f'{name} must have shape (N, 3), got {vertices.shape}')
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f'faces must be an integer array of shape (F, 3), got {faces.dtype} {faces.shape}')
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'faces index vertices 0..{len(vertices) - 1} but contain {faces.min()}..{faces.max()}; '
                         'pass the faces of this mesh (e.g. the full 6890-vertex SMPL faces for 6890 vertices)')
    return vertices, faces.astype(np.int64)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (N, 3); isolated vertices get (0, 0, -1) (towards the viewer)."""
    fn = face_normals(vertices, faces)
    corners = faces.reshape(-1)
    normals = np.stack(
        [np.bincount(corners, weights=np.repeat(fn[:, k], 3), minlength=len(vertices)) for k in range(3)], axis=1)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(length > 1e-12, normals / np.maximum(length, 1e-12), np.array([0.0, 0.0, -1.0]))
    return normals


def _lambert(normals: np.ndarray, light: np.ndarray, ambient: float, two_sided: bool) -> np.ndarray:
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    unit = normals / np.maximum(length, 1e-12)
    if two_sided:
        unit = np.where(unit[..., 2:3] > 0, -unit, unit)
    diffuse = np.clip(unit @ light, 0.0, 1.0)
    return ambient + (1.0 - ambient) * diffuse


#: covered pixels rasterised at once (bounds the renderer's temporary memory to a few hundred MB)
RASTER_CHUNK = 1 << 20


def _rasterise(xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, height: int,
               width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scanline z-buffer rasterisation of the faces, fully vectorised.

    Each face is cut into row spans (exact intersection of the pixel row with the triangle), so the work is
    proportional to the covered pixels even for long thin faces. Returns, over the flattened (H * W) image: the winning
    face index (-1 = empty), its depth, its barycentric coordinates (H * W, 3), and the indices of covered pixels.
    """
    num_pixels = height * width
    face_buf = np.full(num_pixels, -1, dtype=np.int64)
    depth_buf = np.full(num_pixels, np.inf)
    bary_buf = np.zeros((num_pixels, 3))
    if len(faces) == 0:
        return face_buf, depth_buf, bary_buf, np.zeros(0, dtype=np.int64)
    tri = xy[faces]  # (F, 3, 2)
    tri_z = depth[faces]  # (F, 3)
    x0 = np.clip(np.ceil(tri[..., 0].min(1)), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(tri[..., 0].max(1)), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.ceil(tri[..., 1].min(1)), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(tri[..., 1].max(1)), -1, height - 1).astype(np.int64)
    rows = np.maximum(y1 - y0 + 1, 0) * (x1 >= x0)
    # barycentric coordinates as affine functions of the pixel centre: lambda_i = a_i * x + b_i * y + c_i
    (ax, ay), (bx, by), (cx, cy) = (tri[:, k].T for k in range(3))
    area2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    keep = np.flatnonzero((rows > 0) & (np.abs(area2) > 1e-12))
    if len(keep) == 0:
        return face_buf, depth_buf, bary_buf, np.zeros(0, dtype=np.int64)
    inv = 1.0 / area2[keep]
    coef_a = np.stack([(by - cy), (cy - ay), (ay - by)], 1)[keep] * inv[:, None]
    coef_b = np.stack([(cx - bx), (ax - cx), (bx - ax)], 1)[keep] * inv[:, None]
    coef_c = np.stack([bx * cy - cx * by, cx * ay - ax * cy, ax * by - bx * ay], 1)[keep] * inv[:, None]
    x0, x1, y0, rows, tri_z = x0[keep], x1[keep], y0[keep], rows[keep], tri_z[keep]
    # faces in chunks of at most about RASTER_CHUNK covered pixels: the per-pixel temporaries (about 300 bytes each)
    # stay bounded whatever the image size; the z-test carries over between chunks through depth_buf
    budget = np.cumsum(rows * np.maximum(x1 - x0 + 1, 1))
    starts = np.searchsorted(budget, np.arange(0, int(budget[-1]), RASTER_CHUNK), side='right')
    bounds = np.unique(np.concatenate([[0], starts, [len(keep)]]))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        chunk = np.arange(lo, hi)
        # one (face, row) pair per covered row of each face; x range from lambda_i >= 0 for the three edges
        pair_face = chunk[np.repeat(np.arange(len(chunk)), rows[chunk])]
        pair_y = y0[pair_face] + np.arange(len(pair_face)) - np.repeat(
            np.cumsum(rows[chunk]) - rows[chunk], rows[chunk])
        a = coef_a[pair_face]
        bound = -(coef_b[pair_face] * pair_y[:, None] + coef_c[pair_face]) / np.where(np.abs(a) > 1e-12, a, 1.0)
        lower = np.max(np.where(a > 1e-12, bound, -np.inf), axis=1)
        upper = np.min(np.where(a < -1e-12, bound, np.inf), axis=1)
        flat_ok = np.all((np.abs(a) > 1e-12) | (bound <= 1e-9), axis=1)  # a == 0: lambda is constant along the row
        span_x0 = np.maximum(np.ceil(np.maximum(lower, -1.0) - 1e-7), x0[pair_face]).astype(np.int64)
        span_x1 = np.minimum(np.floor(np.minimum(upper, float(width)) + 1e-7), x1[pair_face]).astype(np.int64)
        span = np.where(flat_ok, np.maximum(span_x1 - span_x0 + 1, 0), 0)
        del a, bound, lower, upper, flat_ok

        face_of = np.repeat(pair_face, span)
        px = np.repeat(span_x0, span) + np.arange(len(face_of)) - np.repeat(np.cumsum(span) - span, span)
        py = np.repeat(pair_y, span)
        bary = coef_a[face_of] * px[:, None] + coef_b[face_of] * py[:, None] + coef_c[face_of]
        z = np.einsum('ij,ij->i', bary, tri_z[face_of])
        pixel = py * width + px
        del px, py
        np.minimum.at(depth_buf, pixel, z)
        win = np.flatnonzero(z <= depth_buf[pixel])  # ties at equal depth: any of them
        face_buf[pixel[win]] = keep[face_of[win]]
        bary_buf[pixel[win]] = bary[win]
    covered = np.flatnonzero(face_buf >= 0)
    return face_buf, depth_buf, bary_buf, covered


def render_mesh(image: np.ndarray,
                vertices_px: np.ndarray,
                faces: np.ndarray,
                color: ColorLike = DEFAULT_MESH_COLOR,
                alpha: float = 1.0,
                light_dir: Sequence[float] = DEFAULT_LIGHT_DIR,
                ambient: float = 0.35,
                smooth: bool = True,
                cull_backfaces: bool = False,
                two_sided: bool = True,
                vertices_3d: Optional[np.ndarray] = None,
                channel_order: str = 'bgr',
                face_colors: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Render a shaded triangle mesh over ``image``.

    Args:
        image: uint8 (H, W, 3) background (or (H, W) grey); not modified.
        vertices_px: (N, 3) pixel x, pixel y, depth (larger = farther). Faces with a non-finite vertex are skipped.
        faces: (F, 3) vertex indices.
        color: mesh colour (r, g, b), in 0-1 or 0-255.
        alpha: opacity of the mesh over the image, 0-1.
        light_dir: direction from the surface towards the light, camera frame (x right, y down, z forward).
        ambient: ambient share of the intensity, 0-1 (1 = unshaded silhouette colour).
        smooth: interpolate vertex normals (Gouraud-like per pixel); False = flat shading per face.
        cull_backfaces: skip faces turned away from the viewer (needs outward counter-clockwise winding).
        two_sided: light back faces as if they faced the viewer.
        vertices_3d: optional (N, 3) camera-frame vertices used only for the normals. Pass them whenever depth is not
            in pixel units (e.g. metres from :func:`project_perspective`), otherwise the shading is distorted.
        channel_order: 'bgr' (OpenCV images) or 'rgb' (mmengine visualizers); ``color`` is always r, g, b.
        face_colors: optional (F, 3) per-face r, g, b (0-1 or 0-255) overriding ``color`` (e.g. one colour per person).

    Returns:
        (rendered uint8 (H, W, 3) image, (H, W) bool mask of the pixels the mesh covers).
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be (H, W, 3) or (H, W), got shape {image.shape}')
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    if not 0.0 <= alpha <= 1.0 or not 0.0 <= ambient <= 1.0:
        raise ValueError(f'alpha and ambient must be in [0, 1], got alpha={alpha}, ambient={ambient}')
    vertices_px, faces = _check_mesh(vertices_px, faces, 'vertices_px')
    rgb = _as_unit_color(color)
    if face_colors is not None:
        face_rgb = np.asarray(face_colors, dtype=np.float64)
        if face_rgb.shape != faces.shape or not np.all(np.isfinite(face_rgb)) or face_rgb.min() < 0:
            raise ValueError(f'face_colors must be non-negative (F, 3) = {faces.shape}, got {face_rgb.shape}')
        face_rgb = face_rgb / 255.0 if face_rgb.max() > 1.0 else face_rgb
    light = np.asarray(light_dir, dtype=np.float64)
    if light.shape != (3, ) or np.linalg.norm(light) < 1e-12:
        raise ValueError(f'light_dir must be a non-zero 3-vector, got {light_dir!r}')
    light = light / np.linalg.norm(light)
    if vertices_3d is None:
        shading_vertices = vertices_px
    else:
        shading_vertices, _ = _check_mesh(vertices_3d, faces, 'vertices_3d')
        if shading_vertices.shape != vertices_px.shape:
            raise ValueError(f'vertices_3d {shading_vertices.shape} must match vertices_px {vertices_px.shape}')

    height, width = image.shape[:2]
    finite = np.all(np.isfinite(vertices_px), axis=1)[faces].all(axis=1)
    face_ids = np.flatnonzero(finite)
    if cull_backfaces and len(face_ids):
        normals = face_normals(shading_vertices, faces[face_ids])
        face_ids = face_ids[normals[:, 2] < 0]
    faces_used = faces[face_ids]
    face_buf, _, bary_buf, covered = _rasterise(vertices_px[:, :2], vertices_px[:, 2], faces_used, height, width)

    out = image.astype(np.float32, copy=True)
    mask = np.zeros(height * width, dtype=bool)
    mask[covered] = True
    if len(covered):
        hit_faces = faces_used[face_buf[covered]]
        if smooth:
            v_normals = vertex_normals(shading_vertices, faces_used)
            normals = np.einsum('ij,ijk->ik', bary_buf[covered], v_normals[hit_faces])
        else:
            normals = face_normals(shading_vertices, faces_used)[face_buf[covered]]
        intensity = _lambert(normals, light, ambient, two_sided)
        base = rgb[None] if face_colors is None else face_rgb[face_ids[face_buf[covered]]]
        shade = intensity[:, None] * base * 255.0
        if channel_order == 'bgr':
            shade = shade[:, ::-1]
        flat = out.reshape(-1, 3)
        flat[covered] = alpha * shade + (1.0 - alpha) * flat[covered]
    rendered = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return rendered, mask.reshape(height, width)


def project_perspective(vertices_cam: np.ndarray, focal: Union[float, Sequence[float]],
                        principal_point: Sequence[float]) -> np.ndarray:
    """Pinhole projection of camera-frame (N, 3) vertices to (N, 3) ``(x_px, y_px, depth=Z)``.

    ``focal`` is f or (fx, fy) in pixels. Vertices at or behind the camera (Z <= 0) get NaN pixels and are skipped by
    :func:`render_mesh`.
    """
    vertices_cam = np.asarray(vertices_cam, dtype=np.float64)
    if vertices_cam.ndim != 2 or vertices_cam.shape[1] != 3:
        raise ValueError(f'vertices_cam must have shape (N, 3), got {vertices_cam.shape}')
    fxy = np.broadcast_to(np.asarray(focal, dtype=np.float64), (2, ))
    centre = np.asarray(principal_point, dtype=np.float64).reshape(2)
    z = vertices_cam[:, 2]
    with np.errstate(divide='ignore', invalid='ignore'):
        xy = vertices_cam[:, :2] / z[:, None] * fxy + centre
    xy[z <= 0] = np.nan
    return np.concatenate([xy, z[:, None]], axis=1)


def project_weak_perspective_to_image(
    vertices: np.ndarray,
    camera: Sequence[float],
    input_center: Sequence[float],
    input_scale: Union[float, Sequence[float]],
    input_size: Tuple[int, int] = (224, 224)) -> np.ndarray:
    """Weak-perspective projection of (N, 3) vertices into original-image pixels.

    ``x2d = s * (X[:, :2] + (tx, ty))`` lies in [-1, 1] over the square crop of side ``input_scale`` pixels centred at
    ``input_center``; crop pixel ``(x2d + 1) / 2 * input_size`` maps back to the image, i.e.
    ``image_px = input_center + x2d * input_scale / 2``. Depth is ``Z`` (model units, metres).
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f'vertices must have shape (N, 3), got {vertices.shape}')
    cam = np.asarray(camera, dtype=np.float64).reshape(-1)
    if cam.shape != (3, ):
        raise ValueError(f'camera must be (s, tx, ty), got shape {np.shape(camera)}')
    size = np.broadcast_to(np.asarray(input_size, dtype=np.float64), (2, ))
    if np.any(size <= 0):
        raise ValueError(f'input_size must be positive, got {input_size!r}')
    centre = np.asarray(input_center, dtype=np.float64).reshape(2)
    scale = np.broadcast_to(np.asarray(input_scale, dtype=np.float64).reshape(-1), (2, ))
    x2d = cam[0] * (vertices[:, :2] + cam[1:3])
    crop_px = (x2d + 1.0) * 0.5 * size
    image_px = centre + (crop_px - 0.5 * size) * scale / size
    return np.concatenate([image_px, vertices[:, 2:3]], axis=1)


def side_view(vertices: np.ndarray, angle: float = 90.0) -> np.ndarray:
    """Rotate (..., N, 3) vertices by ``angle`` degrees about the vertical (y) axis through their centroid."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim < 2 or vertices.shape[-1] != 3:
        raise ValueError(f'vertices must have shape (..., N, 3), got {vertices.shape}')
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    rotation = np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])
    centroid = vertices.mean(axis=-2, keepdims=True)
    return (vertices - centroid) @ rotation.T + centroid
