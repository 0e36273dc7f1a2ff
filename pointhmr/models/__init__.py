"""PointHMR model parts, registered in mmpose's MODELS: layers, neck, head, losses, estimator."""
from . import estimators, heads, layers, losses, necks  # noqa: F401
from .default_configs import pointhmr_hrnet_w32_model, pointhmr_light_model
from .estimators import PointHMR
from .heads import MeshRegressor, ProgressiveMaskTransformerHead
from .necks import PointGuidedSampler, PointGuidedSamplerOutput

__all__ = ['PointHMR', 'PointGuidedSampler', 'PointGuidedSamplerOutput', 'ProgressiveMaskTransformerHead',
           'MeshRegressor', 'pointhmr_hrnet_w32_model', 'pointhmr_light_model']
