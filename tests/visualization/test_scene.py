import numpy as np
import pytest

from pointhmr.visualization.renderer import project_perspective, project_weak_perspective_to_image
from pointhmr.visualization.scene import (camera_for_centred_vertices, person_translations, render_people,
                                          render_side_view)

H, W = 120, 160


def test_single_person_overlay_lands_where_the_camera_projects_it(toy_body):
    vertices, faces = toy_body
    camera, center, scale = np.array([0.8, 0.05, 0.0]), np.array([70.0, 60.0]), np.array([100.0, 100.0])
    image = np.full((H, W, 3), 30, np.uint8)
    rendered, mask = render_people(image, vertices[None], faces, camera[None], center[None], scale[None])
    projected = project_weak_perspective_to_image(vertices, camera, center, scale)
    ys, xs = np.nonzero(mask)
    assert abs(xs.min() - projected[:, 0].min()) <= 1.5 and abs(xs.max() - projected[:, 0].max()) <= 1.5
    assert abs(ys.min() - projected[:, 1].min()) <= 1.5 and abs(ys.max() - projected[:, 1].max()) <= 1.5
    assert np.all(rendered[~mask] == 30) and np.any(rendered[mask] != 30)


def test_nearer_person_is_drawn_in_front(toy_body):
    vertices, faces = toy_body
    people = np.stack([vertices, vertices])
    centers = np.array([[75.0, 60.0], [85.0, 60.0]])
    colors = [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)]
    kwargs = dict(colors=colors, alpha=1.0, ambient=1.0, channel_order='rgb')
    # a larger crop scale s * input_scale means a nearer person
    near_first, _ = render_people(np.zeros((H, W, 3), np.uint8), people, faces, [[0.8, 0, 0], [0.8, 0, 0]], centers,
                                  [120.0, 80.0], **kwargs)
    near_second, _ = render_people(np.zeros((H, W, 3), np.uint8), people, faces, [[0.8, 0, 0], [0.8, 0, 0]], centers,
                                   [80.0, 120.0], **kwargs)
    torso = (int(80), int(55))  # inside both torsos
    assert tuple(near_first[torso[1], torso[0]]) == (255, 0, 0)
    assert tuple(near_second[torso[1], torso[0]]) == (0, 0, 255)


def test_person_translation_matches_weak_perspective_at_the_pelvis():
    cameras = np.array([[0.9, 0.1, -0.05], [0.5, 0.0, 0.2]])
    centers = np.array([[300.0, 200.0], [120.0, 260.0]])
    scales = np.array([[150.0, 150.0], [90.0, 90.0]])
    focal = 700.0
    translations = person_translations(cameras, centers, scales, (480, 640), focal)
    assert translations[0, 2] < translations[1, 2]  # bigger on screen = nearer
    pelvis_px = project_perspective(translations, focal, (320.0, 240.0))[:, :2]
    expected = [
        project_weak_perspective_to_image(np.zeros((1, 3)), c, ctr, s)[0, :2]
        for c, ctr, s in zip(cameras, centers, scales)
    ]
    np.testing.assert_allclose(pelvis_px, expected, atol=1e-6)


def test_side_view_panel_shows_the_depth_profile(toy_body):
    vertices, faces = toy_body
    args = (vertices[None], faces, [[0.8, 0.0, 0.0]], [[80.0, 60.0]], [[100.0, 100.0]])
    _, front_mask = render_people(np.zeros((H, W, 3), np.uint8), *args)
    panel = render_side_view(*args, image_shape=(H, W), background=(255, 255, 255))
    assert panel.shape == (H, W, 3)
    side_mask = np.any(panel != 255, axis=2)
    assert side_mask.any()

    def aspect(mask):
        ys, xs = np.nonzero(mask)
        return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)

    # the toy body is 0.66 m wide but only 0.2 m deep
    assert aspect(side_mask) < 0.6 * aspect(front_mask)


def test_no_people_leaves_the_image_unchanged(toy_body):
    _, faces = toy_body
    image = np.full((H, W, 3), 7, np.uint8)
    rendered, mask = render_people(image, np.zeros((0, 10, 3)), faces[:0], np.zeros((0, 3)), np.zeros((0, 2)),
                                   np.zeros((0, 2)))
    assert not mask.any() and np.array_equal(rendered, image)
    panel = render_side_view(np.zeros((0, 10, 3)), faces[:0], np.zeros((0, 3)), np.zeros((0, 2)), np.zeros((0, 2)),
                             (H, W))
    assert np.all(panel == 255)


def test_camera_for_centred_vertices_matches_the_uncentred_projection():
    rng = np.random.default_rng(1)
    vertices = rng.normal(size=(30, 3)) * 0.3
    pelvis = np.array([0.05, -0.2, 0.1])  # where the model's pelvis is before centring
    camera, center, scale = np.array([0.7, 0.1, -0.05]), np.array([200.0, 150.0]), np.array([180.0, 180.0])
    uncentred = project_weak_perspective_to_image(vertices, camera, center, scale)
    pelvis_px = project_weak_perspective_to_image(pelvis[None], camera, center, scale)[0, :2]
    mesh_camera = camera_for_centred_vertices(camera[None], pelvis_px[None], center[None], scale[None])[0]
    centred = project_weak_perspective_to_image(vertices - pelvis, mesh_camera, center, scale)
    np.testing.assert_allclose(centred[:, :2], uncentred[:, :2], atol=1e-9)
    assert mesh_camera[0] == camera[0]


def test_body_model_mesh_renders_with_outward_faces():
    import torch
    from mmpose.registry import MODELS
    body = MODELS.build(dict(type='SMPLBodyModel'))
    pose = torch.zeros(1, 72)
    pose[0, 0] = np.pi  # SMPL y-up -> camera frame (y down, facing the camera), as in the datasets
    vertices = body(pose, torch.zeros(1, 10))[0].numpy()
    args = (vertices[None], body.faces, [[0.9, 0.0, 0.0]], [[64.0, 64.0]], [[128.0, 128.0]])
    shown, mask = render_people(np.zeros((128, 128, 3), np.uint8), *args)
    culled, culled_mask = render_people(np.zeros((128, 128, 3), np.uint8), *args, cull_backfaces=True)
    assert mask.sum() > 0.05 * mask.size
    # faces turned away from the viewer are exactly the hidden ones: culling them changes (almost) nothing
    assert np.mean(culled_mask != mask) < 0.002 and np.abs(culled.astype(int) - shown).mean() < 0.5


def test_bound_render_size():
    from pointhmr.visualization.scene import bound_render_size
    image = np.zeros((300, 500, 3), np.uint8)
    small, factor = bound_render_size(image, 250)
    assert small.shape == (150, 250, 3) and factor == 0.5
    same, factor = bound_render_size(image, 500)
    assert same is image and factor == 1.0
    assert bound_render_size(image, None)[1] == 1.0
    with pytest.raises(ValueError, match='max_side'):
        bound_render_size(image, 0)
