"""Synthetic mesh dataset generator (METRO TSV/YAML format) built on the embedded body and hand models."""
from .backgrounds import random_background
from .generator import SyntheticCameraConfig, SyntheticMeshGenerator, SyntheticSample, make_synthetic_dataset
from .hand_dataset import HAND_CAMERA, make_synthetic_hand_dataset
from .hand_sampler import HandParameterSampler
from .pose_sampler import sample_smpl_parameters

__all__ = [
    'SyntheticCameraConfig', 'SyntheticMeshGenerator', 'SyntheticSample', 'make_synthetic_dataset', 'random_background',
    'sample_smpl_parameters', 'HandParameterSampler', 'HAND_CAMERA', 'make_synthetic_hand_dataset'
]
