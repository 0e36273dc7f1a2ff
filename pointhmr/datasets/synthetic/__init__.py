"""Synthetic human-mesh dataset generator (METRO TSV/YAML format) built on the embedded body model."""
from .backgrounds import random_background
from .generator import SyntheticCameraConfig, SyntheticMeshGenerator, SyntheticSample, make_synthetic_dataset
from .pose_sampler import sample_smpl_parameters

__all__ = [
    'SyntheticCameraConfig', 'SyntheticMeshGenerator', 'SyntheticSample', 'make_synthetic_dataset', 'random_background',
    'sample_smpl_parameters'
]
