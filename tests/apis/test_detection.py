from pathlib import Path

import mmdet
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from pointhmr.apis import detect_people, init_person_detector

RTMDET_TINY = Path(mmdet.__file__).parent / '.mim' / 'configs' / 'rtmdet' / 'rtmdet_tiny_8xb32-300e_coco.py'


class _FakeDetector:
    cfg = dict(default_scope='mmdet')


def _fake_result(boxes, scores, labels):
    result = DetDataSample()
    result.pred_instances = InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                                         scores=torch.tensor(scores, dtype=torch.float32),
                                         labels=torch.tensor(labels))
    return result


def test_keeps_confident_people_best_first(monkeypatch):
    boxes = [[0, 0, 10, 20], [5, 5, 50, 80], [1, 1, 9, 9], [3, 3, 30, 30], [4, 4, 4, 30]]
    scores = [0.6, 0.9, 0.95, 0.3, 0.99]
    labels = [0, 0, 2, 0, 0]  # index 2 is a car, index 4 has no width
    monkeypatch.setattr('mmdet.apis.inference_detector', lambda model, img: _fake_result(boxes, scores, labels))
    found, found_scores = detect_people(_FakeDetector(), np.zeros((90, 60, 3), np.uint8), score_thr=0.5)
    np.testing.assert_allclose(found, [[5, 5, 50, 80], [0, 0, 10, 20]])
    np.testing.assert_allclose(found_scores, [0.9, 0.6])
    assert found.dtype == np.float32
    cars, _ = detect_people(_FakeDetector(), np.zeros((90, 60, 3), np.uint8), score_thr=0.5, category=2)
    np.testing.assert_allclose(cars, [[1, 1, 9, 9]])


def test_no_detection_gives_empty_arrays(monkeypatch):
    monkeypatch.setattr('mmdet.apis.inference_detector',
                        lambda model, img: _fake_result(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)))
    found, scores = detect_people(_FakeDetector(), np.zeros((9, 6, 3), np.uint8))
    assert found.shape == (0, 4) and scores.shape == (0, )


def test_missing_image_is_named():
    with pytest.raises(FileNotFoundError, match='ghost.png'):
        detect_people(_FakeDetector(), 'ghost.png')


def test_real_detector_with_random_weights(grace_hopper, light_model):
    from pointhmr.apis import inference_mesh
    torch.manual_seed(0)
    detector = init_person_detector(str(RTMDET_TINY), 'none')
    inference_mesh(light_model, str(grace_hopper), [[0, 0, 100, 100]])  # leaves mmpose as the default scope
    boxes, scores = detect_people(detector, str(grace_hopper), score_thr=0.0)
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and scores.shape == (len(boxes), )
    assert np.all(np.diff(scores) <= 0) and np.all(boxes[:, 2] > boxes[:, 0])
