"""Keypoint codecs (registered in mmpose's KEYPOINT_CODECS)."""
from .weak_perspective import WeakPerspectiveCodec, weak_perspective_project

__all__ = ['WeakPerspectiveCodec', 'weak_perspective_project']
