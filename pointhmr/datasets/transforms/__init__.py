"""Data transforms for mesh recovery (registered in mmpose's TRANSFORMS)."""
from .mesh_bbox_center_scale import MeshBBoxCenterScale
from .mesh_topdown_affine import MeshTopdownAffine
from .pack_mesh_inputs import PackMeshInputs
from .random_mesh_augmentation import RandomMeshAugmentation

__all__ = ['MeshBBoxCenterScale', 'RandomMeshAugmentation', 'MeshTopdownAffine', 'PackMeshInputs']
