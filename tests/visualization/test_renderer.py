import numpy as np
import pytest
from mmpose.structures.bbox import get_warp_matrix

from pointhmr.visualization.renderer import (project_perspective, project_weak_perspective_to_image, render_mesh,
                                             side_view, vertex_normals)

BLACK = np.zeros((16, 16, 3), np.uint8)


def _triangle(depth=1.0):
    # right triangle in pixel coordinates; x right, y down; the normal (0, 0, -1) faces the viewer
    vertices = np.array([[2.0, 2.0, depth], [2.0, 12.0, depth], [12.0, 2.0, depth]])
    return vertices, np.array([[0, 1, 2]])


def test_triangle_fills_exactly_the_pixels_inside():
    vertices, faces = _triangle()
    image, mask = render_mesh(BLACK, vertices, faces, color=(1.0, 1.0, 1.0), ambient=1.0)
    ys, xs = np.mgrid[0:16, 0:16]
    expected = (xs >= 2) & (ys >= 2) & (xs + ys <= 14)
    np.testing.assert_array_equal(mask, expected)
    assert np.all(image[mask] == 255) and np.all(image[~mask] == 0)
    assert BLACK.max() == 0  # input untouched


def test_nearer_face_wins_whatever_the_face_order():
    # face A (near) faces the light, face B (far) is tilted by ~70 degrees, so A is brighter where they overlap
    near = np.array([[0.0, 0.0, 1.0], [0.0, 15.0, 1.0], [15.0, 0.0, 1.0]])
    far = np.array([[0.0, 0.0, 2.0], [0.0, 15.0, 2.0], [15.0, 0.0, 2.0 + 40.0]])
    vertices = np.concatenate([near, far])
    kwargs = dict(color=(1.0, 1.0, 1.0), ambient=0.0, light_dir=(0, 0, -1), smooth=False)
    bright, _ = render_mesh(BLACK, vertices, np.array([[0, 1, 2], [3, 4, 5]]), **kwargs)
    bright_swapped, _ = render_mesh(BLACK, vertices, np.array([[3, 4, 5], [0, 1, 2]]), **kwargs)
    np.testing.assert_array_equal(bright, bright_swapped)
    assert bright[3, 3, 0] == 255
    # push face A behind face B: now the darker, tilted face shows
    vertices_behind = vertices.copy()
    vertices_behind[:3, 2] = 100.0
    dark, _ = render_mesh(BLACK, vertices_behind, np.array([[0, 1, 2], [3, 4, 5]]), **kwargs)
    assert 0 < dark[3, 3, 0] < 200


def test_face_towards_the_light_is_brighter():
    facing, faces = _triangle()
    tilted = facing.copy()
    tilted[2, 2] += 10.0  # rotate the face about the x = 2 edge
    kwargs = dict(color=(0.5, 0.5, 0.5), ambient=0.2, light_dir=(0, 0, -1), smooth=False)
    lit, _ = render_mesh(BLACK, facing, faces, **kwargs)
    oblique, _ = render_mesh(BLACK, tilted, faces, **kwargs)
    assert lit[4, 4, 0] > oblique[4, 4, 0] > 0
    # lights on the other side: ambient only
    unlit, _ = render_mesh(BLACK, facing, faces, **{**kwargs, 'light_dir': (0, 0, 1), 'two_sided': False})
    assert unlit[4, 4, 0] == round(0.2 * 0.5 * 255)


def test_backface_culling_and_two_sided_lighting():
    vertices, faces = _triangle()
    back = faces[:, ::-1]
    _, mask = render_mesh(BLACK, vertices, back, cull_backfaces=True)
    assert not mask.any()
    _, mask = render_mesh(BLACK, vertices, faces, cull_backfaces=True)
    assert mask.any()
    front_img, _ = render_mesh(BLACK, vertices, faces, light_dir=(0, 0, -1))
    back_img, _ = render_mesh(BLACK, vertices, back, light_dir=(0, 0, -1))
    np.testing.assert_array_equal(front_img, back_img)


def test_color_alpha_and_channel_order():
    vertices, faces = _triangle()
    grey = np.full((16, 16, 3), 100, np.uint8)
    kwargs = dict(ambient=1.0)
    rgb_img, mask = render_mesh(grey, vertices, faces, color=(255, 0, 0), channel_order='rgb', **kwargs)
    unit_img, _ = render_mesh(grey, vertices, faces, color=(1.0, 0.0, 0.0), channel_order='rgb', **kwargs)
    np.testing.assert_array_equal(rgb_img, unit_img)
    assert tuple(rgb_img[4, 4]) == (255, 0, 0)
    bgr_img, _ = render_mesh(grey, vertices, faces, color=(1.0, 0.0, 0.0), **kwargs)
    assert tuple(bgr_img[4, 4]) == (0, 0, 255)
    half, _ = render_mesh(grey, vertices, faces, color=(1.0, 0.0, 0.0), alpha=0.5, channel_order='rgb', **kwargs)
    assert tuple(half[4, 4]) == (178, 50, 50)
    assert np.all(half[~mask] == 100)


def test_sphere_shading_and_silhouette(sphere_mesh):
    vertices, faces = sphere_mesh
    camera_frame = vertices * 0.5 + np.array([0.0, 0.0, 3.0])
    vertices_px = project_perspective(camera_frame, 100.0, (32.0, 32.0))
    image, mask = render_mesh(np.zeros((64, 64, 3), np.uint8),
                              vertices_px,
                              faces,
                              color=(1.0, 1.0, 1.0),
                              light_dir=(0, 0, -1),
                              ambient=0.1,
                              vertices_3d=camera_frame)
    # silhouette of a sphere of radius 0.5 at distance 3: radius ~ 100 * 0.5 / sqrt(9 - 0.25) px
    radius = 100 * 0.5 / np.sqrt(3.0**2 - 0.5**2)
    ys, xs = np.mgrid[0:64, 0:64]
    dist = np.hypot(xs - 32, ys - 32)
    assert mask[dist < radius - 2].all() and not mask[dist > radius + 1].any()
    # facing the light (centre) is brighter than the rim
    assert image[32, 32, 0] > image[32, 32 + int(radius) - 1, 0] + 50
    # culling hides the far half but the visible image is the same
    culled, culled_mask = render_mesh(np.zeros((64, 64, 3), np.uint8),
                                      vertices_px,
                                      faces,
                                      color=(1.0, 1.0, 1.0),
                                      light_dir=(0, 0, -1),
                                      ambient=0.1,
                                      vertices_3d=camera_frame,
                                      cull_backfaces=True)
    assert np.mean(np.abs(culled.astype(int) - image.astype(int))) < 1.0
    assert abs(int(culled_mask.sum()) - int(mask.sum())) < 0.02 * mask.sum()


def test_faces_behind_the_camera_and_out_of_image_are_skipped(sphere_mesh):
    vertices, faces = sphere_mesh
    behind = project_perspective(vertices * 0.5 + np.array([0.0, 0.0, -3.0]), 200.0, (32.0, 32.0))
    assert np.isnan(behind[:, :2]).all()
    _, mask = render_mesh(np.zeros((64, 64, 3), np.uint8), behind, faces)
    assert not mask.any()
    far_away = project_perspective(vertices * 0.5 + np.array([50.0, 0.0, 3.0]), 200.0, (32.0, 32.0))
    _, mask = render_mesh(np.zeros((64, 64, 3), np.uint8), far_away, faces)
    assert not mask.any()


def test_project_perspective_pinhole():
    points = np.array([[1.0, -0.5, 2.0], [0.0, 0.0, 4.0]])
    projected = project_perspective(points, (100.0, 200.0), (10.0, 20.0))
    np.testing.assert_allclose(projected, [[60.0, -30.0, 2.0], [10.0, 20.0, 4.0]])


def test_weak_perspective_matches_the_crop_affine():
    rng = np.random.default_rng(0)
    vertices = rng.normal(size=(5, 3)) * 0.3
    camera = np.array([0.9, 0.05, -0.1])
    center, scale = np.array([310.0, 240.0]), np.array([180.0, 180.0])
    projected = project_weak_perspective_to_image(vertices, camera, center, scale, (224, 224))
    crop_px = (camera[0] * (vertices[:, :2] + camera[1:]) + 1.0) / 2.0 * 224.0
    crop_to_image = get_warp_matrix(center, scale, 0.0, (224, 224), inv=True)
    expected = crop_px @ crop_to_image[:, :2].T + crop_to_image[:, 2]
    np.testing.assert_allclose(projected[:, :2], expected, atol=1e-6)
    np.testing.assert_allclose(projected[:, 2], vertices[:, 2])
    # normalised corner (1, 1) is the bottom-right crop corner
    corner = project_weak_perspective_to_image(np.array([[1.0, 1.0, 0.0]]), (1.0, 0.0, 0.0), (100, 50), 200.0)
    np.testing.assert_allclose(corner[0, :2], [200.0, 150.0])
    with pytest.raises(ValueError, match='camera'):
        project_weak_perspective_to_image(vertices, (1.0, 0.0), center, scale)


def test_side_view_rotates_about_the_vertical_axis():
    points = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, -2.0, 0.0]]) + [5.0, 1.0, 3.0]
    rotated = side_view(points, 90.0)
    np.testing.assert_allclose(rotated.mean(0), points.mean(0), atol=1e-12)
    np.testing.assert_allclose(rotated[0] - points.mean(0), [0.0, 0.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(rotated[2:, 1], points[2:, 1])  # heights unchanged
    np.testing.assert_allclose(side_view(points, 360.0), points, atol=1e-12)
    batch = np.stack([points, points + 1.0])
    np.testing.assert_allclose(side_view(batch, 90.0)[1], rotated + 1.0, atol=1e-12)


def test_bad_inputs_are_rejected():
    vertices, faces = _triangle()
    with pytest.raises(ValueError, match='faces index'):
        render_mesh(BLACK, vertices, faces + 5)
    with pytest.raises(ValueError, match=r'\(N, 3\)'):
        render_mesh(BLACK, vertices[:, :2], faces)
    with pytest.raises(ValueError, match='color'):
        render_mesh(BLACK, vertices, faces, color=(1.0, 0.0))
    with pytest.raises(ValueError, match='image'):
        render_mesh(np.zeros((4, 4, 4), np.uint8), vertices, faces)


def test_vertex_normals_of_a_sphere_point_outwards(sphere_mesh):
    vertices, faces = sphere_mesh
    normals = vertex_normals(vertices, faces)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-9)
    radial = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    assert np.min(np.einsum('ij,ij->i', normals, radial)) > 0.95


def test_rasterisation_in_chunks_is_exact_and_bounds_memory(monkeypatch):
    import tracemalloc

    from pointhmr.visualization import renderer
    rng = np.random.default_rng(0)
    size = 600
    centres = rng.uniform(0, size, (60, 1, 2))
    xy = centres + rng.uniform(-250, 250, (60, 3, 2))  # 60 large overlapping triangles
    vertices = np.concatenate([xy.reshape(-1, 2), rng.uniform(1, 5, (180, 1))], axis=1)
    faces = np.arange(180).reshape(60, 3)
    background = np.zeros((size, size, 3), np.uint8)
    whole, whole_mask = render_mesh(background, vertices, faces)
    peaks = {}
    for chunk in (1 << 30, 1 << 12):
        monkeypatch.setattr(renderer, 'RASTER_CHUNK', chunk)
        image, mask = render_mesh(background, vertices, faces)
        np.testing.assert_array_equal(mask, whole_mask)
        np.testing.assert_array_equal(image, whole)
        tracemalloc.start()
        renderer._rasterise(vertices[:, :2], vertices[:, 2], faces, size, size)
        peaks[chunk] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    buffers = size * size * (8 + 8 + 24)  # face index, depth and barycentric buffers: the unavoidable part
    # single faces are the chunking unit (60 huge faces here), so a little more than the buffers remains
    assert peaks[1 << 12] < 2 * buffers < peaks[1 << 30], peaks
