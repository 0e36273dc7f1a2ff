"""Temporal smoothing of per-frame predictions of one tracked person: One-Euro filter (online, causal) and
Savitzky-Golay (offline, centred, no lag for motion that is locally polynomial).

Both smooth arrays ``(T, ...)`` along time. Frames need not be consecutive: the One-Euro filter uses the real time
step between frames, and Savitzky-Golay smooths each run of consecutive frames on its own.
"""
from typing import Dict, Iterable, Optional, Sequence

import numpy as np
from scipy.signal import savgol_filter

SMOOTHERS = ('none', 'oneeuro', 'savgol')


class OneEuroFilter:
    """One-Euro filter (Casiez et al., CHI 2012): a low-pass filter whose cutoff rises with the speed of the signal,
    so slow motion is smoothed strongly (jitter removed) and fast motion follows with little lag.

    Args:
        min_cutoff: cutoff frequency (Hz) at rest; lower = smoother.
        beta: cutoff increase per unit of speed (signal units per second); higher = less lag on fast motion.
        d_cutoff: cutoff (Hz) of the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 10.0, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f'need min_cutoff > 0, d_cutoff > 0 and beta >= 0, got {min_cutoff}, {d_cutoff}, {beta}')
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self._value: Optional[np.ndarray] = None
        self._speed: Optional[np.ndarray] = None
        self._time: Optional[float] = None

    @staticmethod
    def _alpha(cutoff, dt: float):
        tau = 1.0 / (2.0 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, value: np.ndarray, time: float) -> np.ndarray:
        """Filtered ``value`` at ``time`` (seconds, increasing)."""
        value = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value, self._speed, self._time = value.copy(), np.zeros_like(value), float(time)
            return value.copy()
        if self._value.shape != value.shape:
            raise ValueError(f'OneEuroFilter got shape {value.shape} after {self._value.shape}; use one filter per '
                             'track')
        dt = float(time) - self._time
        if dt <= 0:
            raise ValueError(f'OneEuroFilter times must increase, got {time} after {self._time}')
        speed = (value - self._value) / dt
        self._speed = self._speed + self._alpha(self.d_cutoff, dt) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + self._alpha(cutoff, dt) * (value - self._value)
        self._time = float(time)
        return self._value.copy()


def _runs(frame_indices: np.ndarray) -> Iterable[slice]:
    """Slices of consecutive frame indices."""
    breaks = np.flatnonzero(np.diff(frame_indices) != 1) + 1
    bounds = [0, *breaks.tolist(), len(frame_indices)]
    return (slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]))


def smooth_sequence(values: np.ndarray,
                    method: str = 'oneeuro',
                    frame_indices: Optional[Sequence[int]] = None,
                    fps: float = 30.0,
                    min_cutoff: float = 1.0,
                    beta: float = 10.0,
                    window: int = 9,
                    polyorder: int = 2) -> np.ndarray:
    """Smooth ``values`` ``(T, ...)`` of one person along time.

    Args:
        method: 'oneeuro', 'savgol' or 'none'.
        frame_indices: ``(T,)`` increasing frame numbers (default 0..T-1); gaps are handled (see module docstring).
        fps: frames per second (One-Euro time step).
        min_cutoff / beta: One-Euro parameters (see :class:`OneEuroFilter`).
        window / polyorder: Savitzky-Golay window (odd, frames) and polynomial order; shorter runs use the longest
            odd window that fits (runs shorter than ``polyorder + 2`` frames stay as they are).
    """
    if method not in SMOOTHERS:
        raise ValueError(f'unknown smoothing method {method!r}; choose one of {SMOOTHERS}')
    values = np.asarray(values)
    frames = np.arange(len(values)) if frame_indices is None else np.asarray(frame_indices, dtype=np.int64)
    if frames.shape != (len(values), ) or np.any(np.diff(frames) <= 0):
        raise ValueError(f'frame_indices must be {len(values)} increasing frame numbers, got {frames.tolist()}')
    if method == 'none' or len(values) < 2:
        return values.copy()
    if fps <= 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    out = np.empty_like(values, dtype=np.float64)
    if method == 'oneeuro':
        filt = OneEuroFilter(min_cutoff=min_cutoff, beta=beta)
        for t in range(len(values)):
            out[t] = filt(values[t], frames[t] / fps)
        return out.astype(values.dtype)
    if window < 3 or window % 2 == 0 or polyorder < 0 or polyorder >= window:
        raise ValueError(f'savgol needs an odd window >= 3 and 0 <= polyorder < window, got {window}, {polyorder}')
    for run in _runs(frames):
        length = run.stop - run.start
        size = min(window, length if length % 2 else length - 1)
        if size <= polyorder + 1:
            out[run] = values[run]
            continue
        out[run] = savgol_filter(values[run].astype(np.float64), size, polyorder, axis=0, mode='interp')
    return out.astype(values.dtype)


#: result fields smoothed per track, and whether they are in pixels (scaled by the person's crop size first so the
#: One-Euro speed threshold means the same for every field and image size)
SMOOTHED_FIELDS: Dict[str, bool] = dict(vertices=False,
                                        keypoints_3d=False,
                                        keypoints=True,
                                        cameras=False,
                                        mesh_cameras=False,
                                        input_centers=True,
                                        input_scales=True)


def smooth_track(results: Dict[str, np.ndarray],
                 frame_indices: np.ndarray,
                 method: str = 'oneeuro',
                 **kwargs) -> Dict[str, np.ndarray]:
    """Smooth the per-frame results of ONE track (every array ``(T, ...)``, frame order) with
    :func:`smooth_sequence`; fields outside :data:`SMOOTHED_FIELDS` are copied unchanged."""
    out = {key: np.array(value, copy=True) for key, value in results.items()}
    if method == 'none':
        return out
    unit = 1.0
    if 'input_scales' in results and len(results['input_scales']):
        unit = float(np.nanmedian(np.asarray(results['input_scales'])[:, 0])) or 1.0
    for key, in_pixels in SMOOTHED_FIELDS.items():
        if key not in results or not len(results[key]):
            continue
        scale = unit if in_pixels else 1.0
        out[key] = smooth_sequence(np.asarray(results[key]) / scale, method, frame_indices, **kwargs) * scale
        out[key] = out[key].astype(np.asarray(results[key]).dtype)
    return out
