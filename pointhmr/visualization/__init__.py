"""pointhmr.visualization: headless mesh renderer, multi-person scenes, mesh/result export, MeshVisualizer."""
from .export import load_obj, load_ply, save_obj, save_ply, save_results_json, save_results_npz
from .mesh_visualizer import MeshVisualizer
from .renderer import project_perspective, project_weak_perspective_to_image, render_mesh, side_view, vertex_normals
from .scene import camera_for_centred_vertices, person_translations, render_people, render_side_view

__all__ = [
    'render_mesh', 'project_perspective', 'project_weak_perspective_to_image', 'side_view', 'vertex_normals',
    'render_people', 'render_side_view', 'person_translations', 'camera_for_centred_vertices', 'MeshVisualizer',
    'save_obj', 'save_ply', 'load_obj', 'load_ply', 'save_results_json', 'save_results_npz'
]
