"""Keypoint codecs (registered in mmpose's KEYPOINT_CODECS)."""
from .weak_perspective import WeakPerspectiveCodec, fit_weak_perspective_camera, weak_perspective_project

__all__ = ['WeakPerspectiveCodec', 'fit_weak_perspective_camera', 'weak_perspective_project']
