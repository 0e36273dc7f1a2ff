"""BoxTracker: stable ids through a crossing, new ids for new people, tracks end after max_missed frames."""
import numpy as np
import pytest

from pointhmr.apis import BoxTracker
from pointhmr.apis.tracking import box_iou


def _box(cx: float, cy: float = 100.0, w: float = 60.0, h: float = 160.0) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def test_two_people_crossing_keep_their_ids():
    tracker = BoxTracker()
    ids_of_left_starter, ids_of_right_starter = [], []
    for frame in range(21):
        left_starter, right_starter = _box(100 + 10 * frame), _box(300 - 10 * frame)  # same box at frame 10
        order = [1, 0] if frame % 2 else [0, 1]  # detector order changes from frame to frame
        boxes = np.stack([left_starter, right_starter])[order]
        ids = tracker.update(boxes)[np.argsort(order)]
        ids_of_left_starter.append(ids[0])
        ids_of_right_starter.append(ids[1])
    assert set(ids_of_left_starter) == {0} and set(ids_of_right_starter) == {1}


def test_new_people_and_ended_tracks():
    tracker = BoxTracker(max_missed=2)
    assert tracker.update(np.stack([_box(100)])).tolist() == [0]
    assert tracker.update(np.stack([_box(102), _box(400)])).tolist() == [0, 1]  # a new person
    assert tracker.update(np.zeros((0, 4))).tolist() == []  # a frame with nobody
    assert tracker.update(None).tolist() == []
    assert tracker.active_ids == [0, 1]
    assert tracker.update(np.stack([_box(104)])).tolist() == [0]  # back within max_missed: same id
    for _ in range(3):
        tracker.update(np.stack([_box(104)]))
    assert tracker.active_ids == [0]  # person 1 missed 5 > 2 frames: ended
    assert tracker.update(np.stack([_box(104), _box(400)])).tolist() == [0, 2]  # ids are never reused


def test_far_jump_starts_a_new_track():
    tracker = BoxTracker()
    tracker.update(np.stack([_box(100)]))
    assert tracker.update(np.stack([_box(600)])).tolist() == [1]


def test_iou_and_bad_input():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[1.0, 1 / 3, 0.0]])
    with pytest.raises(ValueError, match='NaN'):
        BoxTracker().update(np.array([[0, 0, np.nan, 1]]))
    with pytest.raises(ValueError, match='iou_thr'):
        BoxTracker(iou_thr=2)
