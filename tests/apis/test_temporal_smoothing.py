"""Temporal smoothing: less jitter (acceleration) without drifting from the clean sequence; gaps; bad input."""
import numpy as np
import pytest
import torch

from pointhmr.apis import OneEuroFilter, smooth_sequence, smooth_track
from pointhmr.body import SMPLBodyModel


@pytest.fixture(scope='module')
def clean_sequence() -> np.ndarray:
    """(60, V, 3) pelvis-free mesh sequence at 30 fps: swinging arms and a bending knee (1 Hz)."""
    torch.set_num_threads(1)
    time = np.arange(60) / 30.0
    pose = np.zeros((60, 72))
    pose[:, 0] = np.pi
    pose[:, 16 * 3 + 2] = -1.0 + 0.5 * np.sin(2 * np.pi * time)
    pose[:, 17 * 3 + 2] = 1.0 - 0.5 * np.sin(2 * np.pi * time)
    pose[:, 4 * 3] = 0.6 + 0.5 * np.sin(2 * np.pi * time)
    with torch.no_grad():
        return SMPLBodyModel()(torch.tensor(pose, dtype=torch.float32), torch.zeros(60, 10)).numpy()


def _acceleration(sequence: np.ndarray) -> float:
    return float(np.linalg.norm(sequence[2:] - 2 * sequence[1:-1] + sequence[:-2], axis=-1).mean())


def _error(sequence: np.ndarray, clean: np.ndarray) -> float:
    return float(np.linalg.norm(sequence - clean, axis=-1).mean())


@pytest.mark.parametrize('method', ['oneeuro', 'savgol'])
def test_smoother_halves_acceleration_without_drifting(clean_sequence, method):
    rng = np.random.default_rng(0)
    jittered = (clean_sequence + rng.normal(0, 0.005, clean_sequence.shape) +
                rng.normal(0, 0.01, (len(clean_sequence), 1, 3))).astype(np.float32)
    smoothed = smooth_sequence(jittered, method)
    assert smoothed.shape == jittered.shape and smoothed.dtype == jittered.dtype
    assert _acceleration(smoothed) <= 0.5 * _acceleration(jittered)
    assert _error(smoothed, clean_sequence) <= _error(jittered, clean_sequence)


def test_gaps_and_short_runs():
    values = np.concatenate([np.zeros((5, 2)), np.full((2, 2), 10.0)])
    frames = np.array([0, 1, 2, 3, 4, 20, 21])
    out = smooth_sequence(values, 'savgol', frames, window=5)
    np.testing.assert_allclose(out, values, atol=1e-9)  # the gap is not smoothed over; a 2-frame run stays
    euro = smooth_sequence(values, 'oneeuro', frames)
    assert abs(euro[5, 0] - 10.0) < abs(euro[5, 0] - 0.0)  # a long gap: the filter catches up quickly
    np.testing.assert_array_equal(smooth_sequence(values, 'none', frames), values)


def test_smooth_track_keeps_unsmoothed_fields_and_scales_pixels():
    rng = np.random.default_rng(1)
    track = dict(keypoints=100 + rng.normal(0, 3, (30, 17, 2)),
                 input_scales=np.full((30, 2), 200.0),
                 bbox_scores=rng.random(30))
    out = smooth_track(track, np.arange(30), 'savgol')
    np.testing.assert_array_equal(out['bbox_scores'], track['bbox_scores'])
    assert _acceleration(out['keypoints']) < 0.5 * _acceleration(track['keypoints'])
    np.testing.assert_allclose(out['input_scales'], 200.0)


def test_bad_input():
    with pytest.raises(ValueError, match='unknown smoothing method'):
        smooth_sequence(np.zeros((3, 2)), 'kalman')
    with pytest.raises(ValueError, match='increasing'):
        smooth_sequence(np.zeros((3, 2)), 'savgol', [0, 2, 1])
    with pytest.raises(ValueError, match='odd window'):
        smooth_sequence(np.zeros((3, 2)), 'savgol', window=4)
    filt = OneEuroFilter()
    filt(np.zeros(2), 0.0)
    with pytest.raises(ValueError, match='one filter per track'):
        filt(np.zeros(3), 0.1)
    with pytest.raises(ValueError, match='must increase'):
        filt(np.zeros(2), 0.0)
