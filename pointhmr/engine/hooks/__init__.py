"""Hooks of pointhmr runs."""
from .mean_pose_baseline_hook import MeanPoseBaselineHook
from .mesh_model_check_hook import MeshModelCheckHook, config_mesh_model_mismatches, mesh_model_differences
from .switch_to_deploy_hook import SwitchToDeployHook

__all__ = [
    'MeanPoseBaselineHook', 'MeshModelCheckHook', 'config_mesh_model_mismatches', 'mesh_model_differences',
    'SwitchToDeployHook'
]
