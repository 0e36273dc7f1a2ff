"""Person tracking across video frames: boxes matched to tracks by IoU and centre distance, stable ``track_id``s.

Each track predicts where its box goes next (constant velocity of the box centre, smoothed), so two people who cross
keep their ids while their boxes overlap. A frame's boxes are assigned to the predicted tracks by the Hungarian
algorithm on ``1 - IoU + centre distance / box diagonal``; a pair is allowed only when its IoU reaches ``iou_thr`` or
its centre distance is at most ``center_thr`` box diagonals. Unmatched boxes start new tracks (new ids, never reused);
a track that goes unmatched for more than ``max_missed`` frames ends.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class Track:
    """One tracked person: last matched box (xyxy), centre velocity (pixels / frame), frames since last match."""
    track_id: int
    bbox: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    missed: int = 0
    hits: int = 1

    def predicted_bbox(self) -> np.ndarray:
        shift = self.velocity * (self.missed + 1)
        return self.bbox + np.concatenate([shift, shift])


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(N, M)`` of xyxy boxes ``(N, 4)`` and ``(M, 4)``."""
    lt = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    rb = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(boxes_a[:, 2:] - boxes_a[:, :2], 0, None).prod(-1)
    area_b = np.clip(boxes_b[:, 2:] - boxes_b[:, :2], 0, None).prod(-1)
    union = area_a[:, None] + area_b[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


class BoxTracker:
    """Assign stable track ids to per-frame person boxes.

    Args:
        iou_thr: a box may continue a track when their IoU (with the track's predicted box) is at least this ...
        center_thr: ... or when their centres are at most this many box diagonals apart.
        max_missed: frames a track may go unmatched before it ends (0 = it ends at the first miss).
        velocity_momentum: weight of the old velocity when the centre velocity is updated (0 = last displacement).
    """

    def __init__(self,
                 iou_thr: float = 0.3,
                 center_thr: float = 0.5,
                 max_missed: int = 10,
                 velocity_momentum: float = 0.5) -> None:
        if not 0.0 <= iou_thr <= 1.0:
            raise ValueError(f'iou_thr must be in [0, 1], got {iou_thr}')
        if center_thr < 0 or max_missed < 0 or not 0.0 <= velocity_momentum < 1.0:
            raise ValueError(f'need center_thr >= 0, max_missed >= 0 and velocity_momentum in [0, 1), got '
                             f'{center_thr}, {max_missed}, {velocity_momentum}')
        self.iou_thr, self.center_thr, self.max_missed = iou_thr, center_thr, max_missed
        self.velocity_momentum = velocity_momentum
        self.tracks: List[Track] = []
        self.next_id = 0

    @property
    def active_ids(self) -> List[int]:
        return [track.track_id for track in self.tracks]

    def update(self, bboxes: Optional[np.ndarray]) -> np.ndarray:
        """Match this frame's boxes ``(N, 4)`` xyxy (None or empty: nobody) and return their track ids ``(N,)``."""
        boxes = np.zeros((0, 4)) if bboxes is None else np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        if not np.isfinite(boxes).all():
            raise ValueError('tracker boxes contain NaN or inf; drop those people before tracking')
        ids = np.full(len(boxes), -1, dtype=np.int64)
        matches = self._match(boxes)
        matched_tracks = set()
        for det, index in matches.items():
            track = self.tracks[index]
            old_centre, new_centre = _centres(track.bbox[None])[0], _centres(boxes[det:det + 1])[0]
            step = (new_centre - old_centre) / (track.missed + 1)
            track.velocity = self.velocity_momentum * track.velocity + (1 - self.velocity_momentum) * step
            track.bbox, track.missed = boxes[det].copy(), 0
            track.hits += 1
            ids[det] = track.track_id
            matched_tracks.add(index)
        survivors = []
        for index, track in enumerate(self.tracks):
            if index not in matched_tracks:
                track.missed += 1
                if track.missed > self.max_missed:
                    continue
            survivors.append(track)
        self.tracks = survivors
        for det in np.flatnonzero(ids < 0):
            self.tracks.append(Track(self.next_id, boxes[det].copy()))
            ids[det] = self.next_id
            self.next_id += 1
        return ids

    def _match(self, boxes: np.ndarray) -> Dict[int, int]:
        """detection index -> track index."""
        if not len(boxes) or not self.tracks:
            return {}
        predicted = np.stack([track.predicted_bbox() for track in self.tracks])
        iou = box_iou(boxes, predicted)
        diagonal = np.linalg.norm(predicted[:, 2:] - predicted[:, :2], axis=1)
        distance = np.linalg.norm(_centres(boxes)[:, None] - _centres(predicted)[None], axis=-1) / np.maximum(
            diagonal[None], 1e-6)
        allowed = (iou >= self.iou_thr) | (distance <= self.center_thr)
        cost = np.where(allowed, 1.0 - iou + distance, 1e6)
        rows, cols = linear_sum_assignment(cost)
        return {int(r): int(c) for r, c in zip(rows, cols) if allowed[r, c]}


def _centres(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, :2] + boxes[:, 2:]) / 2.0
