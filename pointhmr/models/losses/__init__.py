"""PointHMR loss terms (official behaviour §3.2 / 3.3)."""
from .heatmap_loss import heatmap_loss, heatmap_point_targets, one_hot_heatmaps
from .joint_losses import graph_zero, joints_centred, keypoint_2d_loss, keypoint_3d_loss, mid_hip_centred
from .surface_losses import edge_length_loss, laplacian_coordinates, laplacian_loss, normal_loss
from .vertex_loss import vertex_loss

__all__ = [
    'heatmap_loss', 'heatmap_point_targets', 'one_hot_heatmaps', 'graph_zero', 'joints_centred', 'keypoint_2d_loss',
    'keypoint_3d_loss', 'mid_hip_centred', 'vertex_loss', 'edge_length_loss', 'normal_loss', 'laplacian_coordinates',
    'laplacian_loss'
]
