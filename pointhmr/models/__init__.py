"""PointHMR model parts, registered in mmpose's MODELS: layers, neck, head, losses, estimator."""
from . import estimators, heads, layers, losses, necks  # noqa: F401
from .estimators import PointHMR
from .heads import MeshRegressor, ProgressiveMaskTransformerHead
from .necks import PointGuidedSampler, PointGuidedSamplerOutput

__all__ = [
    'PointHMR', 'PointGuidedSampler', 'PointGuidedSamplerOutput', 'ProgressiveMaskTransformerHead', 'MeshRegressor'
]
