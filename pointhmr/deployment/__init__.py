"""Deployment: ONNX export of PointHMR estimators and an onnxruntime inference backend.

Nothing here imports ``onnx`` or ``onnxruntime`` at module import time; they are imported by the functions that need
them (install them with ``bash tools/install.sh --deploy`` or ``pip install -r requirements/deploy.txt``).
"""
from .mesh_export_model import OUTPUT_NAMES, ExportError, GatherUpsampler, MeshExportModel, additive_attention_mask

__all__ = ['OUTPUT_NAMES', 'ExportError', 'GatherUpsampler', 'MeshExportModel', 'additive_attention_mask']
