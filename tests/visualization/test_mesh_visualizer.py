import warnings

import cv2
import numpy as np
import pytest
from mmengine.structures import InstanceData
from mmpose.registry import MODELS, VISUALIZERS
from mmpose.structures import PoseDataSample

from pointhmr.visualization import MeshVisualizer
from pointhmr.visualization.renderer import project_weak_perspective_to_image

H, W = 120, 160


def _sample(vertices, num_people=1, per_instance_crops=False):
    sample = PoseDataSample(metainfo=dict(
        input_center=np.array([80.0, 60.0]), input_scale=np.array([100.0, 100.0]), ori_shape=(H, W), img_shape=(H, W)))
    pred = InstanceData()
    pred.vertices = np.repeat(vertices[None], num_people, 0).astype(np.float32)
    pred.camera = np.tile(np.array([[0.8, 0.0, 0.0]], np.float32), (num_people, 1))
    pred.keypoints = np.tile(np.array([[[80.0, 60.0]] * 17], np.float32), (num_people, 1, 1))
    pred.keypoint_scores = np.ones((num_people, 17), np.float32)
    pred.bboxes = np.tile(np.array([[30.0, 10.0, 130.0, 110.0]], np.float32), (num_people, 1))
    if per_instance_crops:
        pred.input_center = np.array([[60.0, 60.0], [100.0, 60.0]])[:num_people]
        pred.input_scale = np.full((num_people, 2), 100.0)
        pred.keypoints[:, 0] = pred.input_center  # the pelvis where the camera (0.8, 0, 0) projects it
    sample.pred_instances = pred
    return sample


def _image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 60, size=(H, W, 3), dtype=np.uint8)


def test_mesh_overlay_and_side_view_on_a_synthetic_body(tmp_path, toy_body):
    vertices, faces = toy_body
    visualizer = MeshVisualizer(name='test_mesh_overlay', faces=faces)
    image = _image()
    out_file = tmp_path / 'vis.png'
    drawn = visualizer.add_datasample('sample', image, _sample(vertices), out_file=str(out_file))
    assert drawn.shape == (H, 2 * W, 3)
    np.testing.assert_array_equal(cv2.imread(str(out_file))[..., ::-1], drawn)
    front, side = drawn[:, :W], drawn[:, W:]
    projected = project_weak_perspective_to_image(vertices, (0.8, 0.0, 0.0), (80.0, 60.0), 100.0)
    changed = np.any(front != image, axis=2)
    ys, xs = np.nonzero(changed)
    assert abs(xs.min() - projected[:, 0].min()) <= 2 and abs(ys.max() - projected[:, 1].max()) <= 2
    # mesh pixels are the light-blue body colour: blue channel brightest (image is RGB)
    assert np.mean(front[changed][:, 2]) > np.mean(front[changed][:, 0])
    assert np.any(side != 255) and np.mean(side == 255) > 0.5


def test_side_view_can_be_disabled_and_gt_keypoints_of_another_joint_set_are_drawn(toy_body):
    vertices, faces = toy_body
    visualizer = MeshVisualizer(name='test_no_side', faces=faces, draw_side_view=False)
    visualizer.set_dataset_meta(dict(keypoint_colors=np.zeros((17, 3), np.uint8), skeleton_links=[(0, 1)]))
    sample = _sample(vertices)
    sample.gt_instances = InstanceData(keypoints=np.full((1, 24, 2), 40.0), keypoints_visible=np.ones((1, 24)))
    drawn = visualizer.add_datasample('sample', _image(), sample)
    assert drawn.shape == (H, 2 * W, 3)  # GT keypoints | overlay
    assert np.any(drawn[:, :W] != _image())
    assert visualizer.skeleton == [(0, 1)]  # restored after drawing J24 labels


def test_without_vertices_it_draws_keypoints(toy_body):
    _, faces = toy_body
    sample = _sample(np.zeros((4, 3)))
    del sample.pred_instances.vertices
    sample.pred_instances.keypoints[0, :, 0] = np.linspace(20, 140, 17)
    visualizer = MeshVisualizer(name='test_fallback', faces=faces, radius=2)
    drawn = visualizer.add_datasample('s', _image(), sample, draw_gt=False)
    assert drawn.shape == (H, W, 3)  # no side-view panel
    changed = np.any(drawn != _image(), axis=2)
    for x in np.linspace(20, 140, 17):
        assert changed[60, int(round(x))]  # a dot on every keypoint
    assert not changed[:40].any()  # and nothing else (no mesh)


def test_missing_faces_warns_and_falls_back(toy_body):
    vertices, _ = toy_body
    visualizer = MeshVisualizer(name='test_missing_faces')
    with pytest.warns(UserWarning, match='no mesh faces'):
        drawn = visualizer.add_datasample('s', _image(), _sample(vertices), draw_gt=False)
    assert drawn.shape == (H, W, 3)


def test_faces_from_dataset_meta_and_from_a_body_model_config(toy_body):
    vertices, faces = toy_body
    from_meta = MeshVisualizer(name='test_meta_faces')
    from_meta.set_dataset_meta(dict(mesh_faces=faces))
    np.testing.assert_array_equal(from_meta.mesh_faces, faces)

    @MODELS.register_module(name='_ToyBodyForVisualizerTest', force=True)
    class _ToyBody:

        def __init__(self):
            self.faces = faces

    built = VISUALIZERS.build(
        dict(type='MeshVisualizer', name='test_cfg_faces', body_model=dict(type='_ToyBodyForVisualizerTest')))
    assert isinstance(built, MeshVisualizer)
    np.testing.assert_array_equal(built.mesh_faces, faces)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert built.add_datasample('s', _image(), _sample(vertices)).shape == (H, 2 * W, 3)


def test_several_people_need_per_instance_crops(toy_body):
    vertices, faces = toy_body
    visualizer = MeshVisualizer(name='test_multi', faces=faces, draw_side_view=False)
    with pytest.raises(ValueError, match='per-person input_center'):
        visualizer.add_datasample('s', _image(), _sample(vertices, num_people=2))
    drawn = visualizer.add_datasample('s', _image(), _sample(vertices, num_people=2, per_instance_crops=True))
    changed = np.any(drawn != _image(), axis=2)
    assert changed[:, :70].any() and changed[:, 90:].any()  # two bodies, left and right of the centre


def test_bad_faces_are_rejected():
    with pytest.raises(ValueError, match=r'\(F, 3\)'):
        MeshVisualizer(name='test_bad_faces', faces=np.zeros((5, 4), np.int64))


def test_mesh_follows_the_predicted_pelvis_keypoint(toy_body):
    vertices, faces = toy_body
    sample = _sample(vertices)
    sample.pred_instances.keypoints[0, 0] = (100.0, 60.0)  # pelvis 20 px right of the crop camera's origin
    kwargs = dict(faces=faces, draw_side_view=False)
    aligned = MeshVisualizer(name='test_align_on', **kwargs).add_datasample('s', _image(), sample, draw_gt=False)
    raw = MeshVisualizer(name='test_align_off', align_to_pelvis=False, **kwargs).add_datasample('s',
                                                                                                _image(),
                                                                                                sample,
                                                                                                draw_gt=False)

    def centre_x(drawn):
        return np.nonzero(np.any(drawn != _image(), axis=2))[1].mean()

    assert abs(centre_x(aligned) - centre_x(raw) - 20.0) < 1.0


def _upscaled(sample: PoseDataSample, factor: int) -> PoseDataSample:
    """``sample`` with every pixel quantity multiplied by ``factor`` (an image ``factor`` times larger)."""
    big = PoseDataSample(metainfo=dict(input_center=sample.input_center * factor,
                                       input_scale=sample.input_scale * factor,
                                       ori_shape=(H * factor, W * factor),
                                       img_shape=(H * factor, W * factor)))
    pred = InstanceData()
    for key, value in sample.pred_instances.items():
        pred.set_field(value * factor if key in ('keypoints', 'bboxes') else value, key)
    big.pred_instances = pred
    big.gt_instances = InstanceData(keypoints=sample.gt_instances.keypoints * factor,
                                    keypoints_visible=sample.gt_instances.keypoints_visible)
    return big


def test_large_images_are_drawn_at_the_bounded_size_with_scaled_coordinates(toy_body):
    from pointhmr.apis.mesh_inferencer import MeshInferencer
    from pointhmr.visualization.scene import MAX_RENDER_SIDE
    vertices, faces = toy_body
    default = MeshVisualizer(name='test_bound_default')
    assert default.max_render_side == MAX_RENDER_SIDE == MeshInferencer.MAX_RENDER_SIDE  # one constant
    sample = _sample(vertices)
    sample.gt_instances = InstanceData(keypoints=np.array([[[40.0, 30.0], [120.0, 90.0]]]),
                                       keypoints_visible=np.ones((1, 2)))
    kwargs = dict(faces=faces, draw_side_view=False, radius=2)
    native = MeshVisualizer(name='test_bound_native', **kwargs).add_datasample('s', _image(), sample)
    factor = 8
    big_image = cv2.resize(_image(), (W * factor, H * factor), interpolation=cv2.INTER_NEAREST)
    bounded = MeshVisualizer(name='test_bound_big', max_render_side=W, **kwargs)
    drawn = bounded.add_datasample('s', big_image, _upscaled(sample, factor))
    assert drawn.shape == native.shape == (H, 2 * W, 3)  # GT keypoints | overlay, at the bounded size
    # the same pixels change as when drawing the small image: every coordinate followed the picture
    changed_native = np.any(native != np.concatenate([_image()] * 2, axis=1), axis=2)
    changed_bounded = np.any(drawn != np.concatenate([_image()] * 2, axis=1), axis=2)
    assert changed_native.sum() > 200
    assert np.mean(changed_native != changed_bounded) < 0.01
    assert changed_bounded[30, 40] and changed_bounded[90, 120]  # GT keypoints at 1/8 of their big-image position
    unbounded = MeshVisualizer(name='test_bound_off', max_render_side=None, **kwargs)
    assert unbounded.add_datasample('s', big_image, _upscaled(sample, factor)).shape == (H * factor, 2 * W * factor, 3)


def test_default_bound_keeps_huge_images_at_max_render_side(toy_body):
    from pointhmr.visualization.scene import MAX_RENDER_SIDE
    vertices, faces = toy_body
    factor = 25  # 3000 x 4000 pixels
    big_image = np.zeros((H * factor, W * factor, 3), np.uint8)
    sample = _sample(vertices)
    sample.gt_instances = InstanceData(keypoints=np.full((1, 1, 2), 40.0), keypoints_visible=np.ones((1, 1)))
    visualizer = MeshVisualizer(name='test_bound_huge', faces=faces)
    drawn = visualizer.add_datasample('s', big_image, _upscaled(sample, factor), draw_gt=False)
    assert drawn.shape == (MAX_RENDER_SIDE * H // W, 2 * MAX_RENDER_SIDE, 3)  # overlay | side view
    assert np.any(drawn[:, :MAX_RENDER_SIDE] != 0)  # the mesh is on the overlay
