"""Estimators (registered in mmpose's MODELS)."""
from .pointhmr import IMAGENET_DATA_PREPROCESSOR, PointHMR

__all__ = ['PointHMR', 'IMAGENET_DATA_PREPROCESSOR']
