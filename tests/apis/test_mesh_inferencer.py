import json

import numpy as np
import pytest

from pointhmr.apis import RESULT_FIELDS, MeshInferencer, load_image, mesh_results_to_json
from pointhmr.visualization import project_weak_perspective_to_image, save_results_json


@pytest.fixture(scope='module')
def inferencer(light_cfg):
    return MeshInferencer(light_cfg, 'none')


def test_results_for_two_people(inferencer, grace_hopper):
    assert inferencer.random_weights
    boxes = [[0.0, 0.0, 150.0, 220.0], [100.0, 50.0, 500.0, 600.0]]
    results = inferencer(str(grace_hopper), bboxes=boxes)
    assert set(results) == set(RESULT_FIELDS)
    assert results['vertices'].shape == (2, 6890, 3) and results['keypoints'].shape == (2, 17, 2)
    assert all(v.dtype == np.float32 for v in results.values())
    # nearest first: the bigger box (larger crop) is the nearer person
    assert results['depths'][0] <= results['depths'][1]
    np.testing.assert_allclose(results['bboxes'][0], boxes[1])
    # mesh_cameras put the pelvis of the centred joints exactly on the predicted pelvis keypoint
    for i in range(2):
        projected = project_weak_perspective_to_image(results['keypoints_3d'][i], results['mesh_cameras'][i],
                                                      results['input_centers'][i], results['input_scales'][i])
        np.testing.assert_allclose(projected[:, :2], results['keypoints'][i], atol=0.05)


def test_no_person_and_visualisation(inferencer, grace_hopper):
    image, _ = load_image(grace_hopper)
    empty = inferencer(image, bboxes=np.zeros((0, 4)))
    assert empty['vertices'].shape == (0, 6890, 3) and empty['bboxes'].shape == (0, 4)
    drawn = inferencer.visualize(image, empty, side_view=False, draw_bboxes=False)
    changed = np.any(drawn != image, axis=2)
    assert changed[:25].any() and not changed[25:].any()  # only the 'random weights' note at the top

    results = inferencer(image, bboxes=[[100, 50, 500, 600]])
    drawn = inferencer.visualize(image, results, side_view=True)
    assert drawn.shape == (image.shape[0], 2 * image.shape[1], 3)
    assert np.any(drawn[:, image.shape[1]:] != 255)


def test_json_form(inferencer, grace_hopper, tmp_path):
    results = inferencer(str(grace_hopper), bboxes=[[100, 50, 500, 600]])
    path = save_results_json(tmp_path / 'r.json', mesh_results_to_json(results, image_path='gh.jpg'))
    loaded = json.loads(path.read_text())
    assert loaded['num_people'] == 1 and loaded['image_path'] == 'gh.jpg'
    np.testing.assert_allclose(loaded['people'][0]['vertices'], results['vertices'][0], atol=1e-6)
    assert set(loaded['people'][0]) == set(RESULT_FIELDS)


def test_large_images_are_drawn_at_a_bounded_size(inferencer, grace_hopper):
    import cv2
    image, _ = load_image(grace_hopper)
    big = cv2.resize(image, (image.shape[1] * 4, image.shape[0] * 4), interpolation=cv2.INTER_NEAREST)
    results = inferencer(big, bboxes=[[400, 200, 2000, 2400]])
    drawn = inferencer.visualize(big, results, max_side=image.shape[0])
    assert drawn.shape == (image.shape[0], 2 * image.shape[1], 3)  # overlay | side view, downscaled 4x
    small = inferencer(image, bboxes=[[100, 50, 500, 600]])
    reference = inferencer.visualize(image, small)
    assert np.mean(np.abs(drawn.astype(float) - reference.astype(float))) < 8  # the same picture, just smaller
    assert max(inferencer.visualize(big, results, side_view=False).shape[:2]) == MeshInferencer.MAX_RENDER_SIDE
