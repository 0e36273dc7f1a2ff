"""pointhmr.evaluation: mesh-recovery metrics (MPJPE, PA-MPJPE, MPVPE, PA-MPVPE, F-scores), Procrustes alignment and
FreiHAND's submission writer."""
from .freihand_submission import read_freihand_submission, write_freihand_submission
from .mesh_metric import MeshMetric, fscore
from .procrustes import procrustes_align, reconstruction_error, similarity_procrustes

__all__ = [
    'MeshMetric', 'fscore', 'procrustes_align', 'reconstruction_error', 'similarity_procrustes',
    'read_freihand_submission', 'write_freihand_submission'
]
