"""Per-frame results <-> per-track sequences: ids, grouping with gaps, smoothing written back to the right rows."""
import numpy as np

from pointhmr.apis import BoxTracker, assign_track_ids, group_by_track, scatter_tracks, smooth_tracks


def _frame(centres, value):
    boxes = np.array([[c - 20, 0, c + 20, 80] for c in centres], dtype=np.float32).reshape(-1, 4)
    return dict(bboxes=boxes,
                keypoints_3d=np.full((len(boxes), 17, 3), value, np.float32),
                input_scales=np.full((len(boxes), 2), 100.0, np.float32))


def test_group_smooth_scatter_round_trip():
    tracker = BoxTracker()
    rng = np.random.default_rng(0)
    frames = []
    for index in range(12):
        centres = [50 + 2 * index] + ([300 - 2 * index] if index != 5 else [])  # person 1 missing in frame 5
        frames.append(assign_track_ids(_frame(centres, rng.normal()), tracker, index))
    tracks = group_by_track(frames)
    assert sorted(tracks) == [0, 1]
    np.testing.assert_array_equal(tracks[1]['frame_index'], [i for i in range(12) if i != 5])
    assert tracks[0]['keypoints_3d'].shape == (12, 17, 3)
    same = scatter_tracks(frames, tracks)
    for before, after in zip(frames, same):
        for key in before:
            np.testing.assert_array_equal(before[key], after[key])
    smoothed = scatter_tracks(frames, smooth_tracks(tracks, 'savgol', window=5))
    jitter = np.std(np.diff([f['keypoints_3d'][0, 0, 0] for f in frames]))
    assert np.std(np.diff([f['keypoints_3d'][0, 0, 0] for f in smoothed])) < jitter
    np.testing.assert_array_equal(smoothed[3]['bboxes'], frames[3]['bboxes'])  # boxes are not smoothed
    assert smoothed[5]['keypoints_3d'].shape == (1, 17, 3)


def test_frames_without_people():
    tracker = BoxTracker()
    frames = [assign_track_ids(_frame([], 0.0), tracker, i) for i in range(3)]
    assert group_by_track(frames) == {}
    assert scatter_tracks(frames, {})[0]['track_id'].shape == (0, )
