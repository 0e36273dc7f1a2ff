"""Hooks of pointhmr runs."""
from .mesh_model_check_hook import MeshModelCheckHook, config_mesh_model_mismatches, mesh_model_differences

__all__ = ['MeshModelCheckHook', 'config_mesh_model_mismatches', 'mesh_model_differences']
