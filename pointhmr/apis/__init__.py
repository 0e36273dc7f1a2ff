"""pointhmr.apis: mesh inference helpers around mmpose.apis / mmdet.apis (imported on demand, not by
``import pointhmr``, because mmpose.apis is slow to import)."""
from .detection import detect_people, init_person_detector
from .inference import inference_mesh, init_mesh_model, load_image, mesh_faces_of, validate_bboxes
from .mesh_inferencer import MeshInferencer
from .param_export import add_fitted_params, animation_params, save_animation_params
from .param_fitting import fit_body_params
from .results import RESULT_FIELDS, collect_mesh_results, empty_mesh_results, mesh_results_to_json
from .temporal_smoothing import OneEuroFilter, smooth_sequence, smooth_track
from .track_results import assign_track_ids, group_by_track, scatter_tracks, smooth_tracks
from .tracking import BoxTracker

__all__ = [
    'inference_mesh', 'init_mesh_model', 'load_image', 'mesh_faces_of', 'validate_bboxes', 'detect_people',
    'init_person_detector', 'MeshInferencer', 'RESULT_FIELDS', 'collect_mesh_results', 'empty_mesh_results',
    'mesh_results_to_json', 'fit_body_params', 'BoxTracker', 'OneEuroFilter', 'smooth_sequence', 'smooth_track',
    'add_fitted_params', 'animation_params', 'save_animation_params', 'assign_track_ids', 'group_by_track',
    'scatter_tracks', 'smooth_tracks'
]
