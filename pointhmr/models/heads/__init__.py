"""Heads (registered in mmpose's MODELS)."""
from .mesh_regressor import MeshRegressor
from .progressive_mask_transformer import DEFAULT_LOSS_WEIGHTS, ProgressiveMaskTransformerHead

__all__ = ['MeshRegressor', 'ProgressiveMaskTransformerHead', 'DEFAULT_LOSS_WEIGHTS']
