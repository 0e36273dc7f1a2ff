"""Per-frame mesh results <-> per-track sequences: assign track ids, regroup by track, smooth, write back.

A video's results are a list of per-frame dicts (:func:`pointhmr.apis.results.collect_mesh_results`, one row per
person). :func:`assign_track_ids` adds ``track_id`` and ``frame_index`` rows with a :class:`BoxTracker`;
:func:`group_by_track` turns the frames into one dict of ``(T, ...)`` arrays per track (frame order, with
``frame_index``); :func:`smooth_tracks` smooths each track over time and :func:`scatter_tracks` writes the smoothed
rows back into the frames (for rendering).
"""
from typing import Dict, List

import numpy as np

from .temporal_smoothing import smooth_track
from .tracking import BoxTracker

FrameResults = Dict[str, np.ndarray]


def assign_track_ids(results: FrameResults, tracker: BoxTracker, frame_index: int) -> FrameResults:
    """``results`` with ``track_id`` (P,) from ``tracker`` (boxes ``results['bboxes']``) and ``frame_index`` (P,)."""
    out = dict(results)
    out['track_id'] = tracker.update(results['bboxes'])
    out['frame_index'] = np.full(len(results['bboxes']), frame_index, dtype=np.int64)
    return out


def _per_person_keys(results: FrameResults) -> List[str]:
    num = len(results['track_id'])
    return [key for key, value in results.items() if np.ndim(value) >= 1 and len(value) == num]


def group_by_track(frames: List[FrameResults]) -> Dict[int, FrameResults]:
    """track id -> that person's rows of every per-person field, stacked over the frames it appears in."""
    rows: Dict[int, Dict[str, list]] = {}
    for results in frames:
        keys = _per_person_keys(results)
        for row, track_id in enumerate(results['track_id'].tolist()):
            track = rows.setdefault(int(track_id), {key: [] for key in keys})
            for key in keys:
                track.setdefault(key, []).append(results[key][row])
    return {track_id: {key: np.stack(values) for key, values in track.items()} for track_id, track in rows.items()}


def smooth_tracks(tracks: Dict[int, FrameResults], method: str = 'oneeuro', **kwargs) -> Dict[int, FrameResults]:
    """Every track smoothed over its frames with :func:`pointhmr.apis.temporal_smoothing.smooth_track`."""
    return {track_id: smooth_track(track, track['frame_index'], method, **kwargs) for track_id, track in tracks.items()}


def scatter_tracks(frames: List[FrameResults], tracks: Dict[int, FrameResults]) -> List[FrameResults]:
    """Copies of ``frames`` whose rows take the values of the matching (track id, frame index) row of ``tracks``."""
    lookup = {(track_id, int(frame)): (track, t)
              for track_id, track in tracks.items()
              for t, frame in enumerate(track['frame_index'].tolist())}
    out = []
    for results in frames:
        results = {key: np.array(value, copy=True) for key, value in results.items()}
        for row, (track_id, frame) in enumerate(zip(results['track_id'].tolist(), results['frame_index'].tolist())):
            track, t = lookup[(int(track_id), int(frame))]
            for key in _per_person_keys(results):
                if key in track:
                    results[key][row] = track[key][t]
        out.append(results)
    return out
