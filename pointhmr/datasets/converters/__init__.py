"""Converters from public dataset releases to METRO's TSV/YAML layout (read by ``MeshTSVDataset``)."""
from .freihand import freihand_samples
from .h36m import h36m_samples
from .metro_writer import MetroSample, write_metro_split
from .threedpw import threedpw_samples

__all__ = ['MetroSample', 'write_metro_split', 'h36m_samples', 'threedpw_samples', 'freihand_samples']
