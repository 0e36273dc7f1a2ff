"""pointhmr.evaluation: mesh-recovery metrics (MPJPE, PA-MPJPE, MPVPE, PA-MPVPE) and Procrustes alignment."""
from .mesh_metric import MeshMetric
from .procrustes import procrustes_align, reconstruction_error, similarity_procrustes

__all__ = ['MeshMetric', 'procrustes_align', 'reconstruction_error', 'similarity_procrustes']
