import numpy as np
import pytest
from mmpose.structures import merge_data_samples

from pointhmr.apis import inference_mesh, init_mesh_model, load_image, mesh_faces_of, validate_bboxes
from pointhmr.visualization import MeshVisualizer, project_weak_perspective_to_image


def test_inference_on_a_real_photo(light_model, grace_hopper):
    boxes = np.array([[120.0, 60.0, 460.0, 600.0], [0.0, 0.0, 200.0, 300.0]])
    samples = inference_mesh(light_model, str(grace_hopper), boxes)
    assert len(samples) == 2
    for sample, box in zip(samples, boxes):
        pred = sample.pred_instances
        assert pred.vertices.shape == (1, 6890, 3) and np.isfinite(pred.vertices).all()
        assert pred.keypoints.shape == (1, 17, 2) and pred.keypoints_3d.shape == (1, 17, 3)
        assert pred.camera.shape == (1, 3)
        np.testing.assert_allclose(pred.input_center[0], (box[:2] + box[2:]) / 2, atol=1e-3)
        assert pred.input_scale.shape == (1, 2) and pred.input_scale[0, 0] >= (box[2:] - box[:2]).max()
        assert sample.metainfo['img_path'] == str(grace_hopper)
        # 2D keypoints are the predicted H36M joints projected with the predicted camera, in image pixels
        pelvis_centred = pred.keypoints_3d[0]
        projected = project_weak_perspective_to_image(pelvis_centred, pred.camera[0], pred.input_center[0],
                                                      pred.input_scale[0])
        offset = pred.keypoints[0] - projected[:, :2]
        np.testing.assert_allclose(offset, np.broadcast_to(offset[0], offset.shape), atol=1e-2)
    # merged samples keep one crop per person, so they can be drawn
    merged = merge_data_samples(samples)
    assert merged.pred_instances.input_center.shape == (2, 2)
    visualizer = MeshVisualizer(name='test_inference_vis', faces=mesh_faces_of(light_model))
    image, _ = load_image(grace_hopper)
    drawn = visualizer.add_datasample('gh', image[..., ::-1], merged, draw_gt=False)
    assert drawn.shape == (image.shape[0], 2 * image.shape[1], 3)


def test_whole_image_and_array_input(light_model, grace_hopper):
    image, _ = load_image(grace_hopper)
    samples = inference_mesh(light_model, image)
    assert len(samples) == 1
    height, width = image.shape[:2]
    np.testing.assert_allclose(samples[0].pred_instances.input_center[0], (width / 2, height / 2), atol=1e-3)
    assert 'img_path' not in samples[0].metainfo or samples[0].metainfo['img_path'] is None
    # xywh boxes give the same crops as the equivalent xyxy boxes
    xyxy = inference_mesh(light_model, image, [[10, 20, 210, 420]])
    xywh = inference_mesh(light_model, image, [[10, 20, 200, 400]], bbox_format='xywh')
    np.testing.assert_allclose(xyxy[0].pred_instances.input_center, xywh[0].pred_instances.input_center)


def test_no_person_gives_no_samples(light_model, grace_hopper):
    assert inference_mesh(light_model, str(grace_hopper), np.zeros((0, 4))) == []
    assert inference_mesh(light_model, str(grace_hopper), []) == []


def test_missing_and_corrupt_images_are_named(light_model, tmp_path):
    missing = tmp_path / 'nope.jpg'
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        inference_mesh(light_model, str(missing))
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'\xff\xd8\xff\xe0 definitely not a jpeg' * 4)
    with pytest.raises(ValueError, match='corrupt.jpg'):
        inference_mesh(light_model, str(corrupt))
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        inference_mesh(light_model, np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match='uint8'):
        inference_mesh(light_model, np.zeros((10, 10, 3), np.float32))


@pytest.mark.parametrize('boxes', [[1.0, 2.0, 3.0], np.zeros((2, 5)), np.zeros((1, 2, 4))])
def test_bboxes_of_the_wrong_shape(light_model, grace_hopper, boxes):
    with pytest.raises(ValueError, match=r'expected|\(N, 4\)') as error:
        inference_mesh(light_model, str(grace_hopper), boxes)
    assert '(N, 4)' in str(error.value)


def test_bbox_validation():
    np.testing.assert_allclose(validate_bboxes([[1, 2, 3, 4]], 'xywh'), [[1, 2, 4, 6]])
    assert validate_bboxes(None) is None and validate_bboxes([]).shape == (0, 4)
    with pytest.raises(ValueError, match='no area'):
        validate_bboxes([[5, 5, 5, 10]])
    with pytest.raises(ValueError, match='NaN'):
        validate_bboxes([[0, 0, np.nan, 1]])
    with pytest.raises(ValueError, match='bbox_format'):
        validate_bboxes([[0, 0, 1, 1]], 'cxcywh')


def test_init_mesh_model_checks_paths(light_cfg, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        init_mesh_model(light_cfg, str(tmp_path / 'missing.pth'))
    with pytest.raises(FileNotFoundError, match='missing_cfg.py'):
        init_mesh_model(str(tmp_path / 'missing_cfg.py'), 'none')


def test_model_faces(light_model):
    faces = mesh_faces_of(light_model)
    np.testing.assert_array_equal(faces, light_model.head.body_model.faces)
    assert faces.dtype == np.int64 and faces.shape[1] == 3 and faces.max() == 6889

    class NoBody:
        head = None

    with pytest.raises(AttributeError, match='faces'):
        mesh_faces_of(NoBody())
