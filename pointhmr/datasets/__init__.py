"""METRO TSV/YAML datasets, mesh transforms, PackMeshInputs and the synthetic dataset generator."""
from .mesh_tsv_dataset import HandMeshTSVDataset, MeshTSVDataset
from .metainfo import H36M_METAINFO, HAND21_METAINFO
from .transforms import MeshBBoxCenterScale, MeshTopdownAffine, PackMeshInputs, RandomMeshAugmentation
from .tsv_file import CompositeTSVFile, TSVFile, build_lineidx, write_tsv

__all__ = [
    'MeshTSVDataset', 'HandMeshTSVDataset', 'H36M_METAINFO', 'HAND21_METAINFO', 'MeshBBoxCenterScale',
    'RandomMeshAugmentation', 'MeshTopdownAffine', 'PackMeshInputs', 'TSVFile', 'CompositeTSVFile', 'build_lineidx',
    'write_tsv'
]
