"""Necks (registered in mmpose's MODELS)."""
from .point_guided_sampler import PointGuidedSampler, PointGuidedSamplerOutput

__all__ = ['PointGuidedSampler', 'PointGuidedSamplerOutput']
