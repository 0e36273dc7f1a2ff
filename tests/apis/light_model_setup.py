"""Shared by tests/apis and tests/demo: a light PointHMR config (random weights) and a real photo of a person."""
from pathlib import Path

import matplotlib
import pytest
from mmengine import Config

from pointhmr.datasets.metainfo import H36M_METAINFO
from pointhmr.utils import config_path


def light_config() -> Config:
    """The light model (configs/_base_/models/pointhmr_light.py) with the inference pipeline of the test configs."""
    base = Config.fromfile(str(config_path('_base_/models/pointhmr_light.py')))
    return Config(
        dict(default_scope='mmpose',
             custom_imports=dict(imports=['pointhmr'], allow_failed_imports=False),
             model=base.model.to_dict(),
             train_dataloader=dict(dataset=dict(metainfo=H36M_METAINFO)),
             test_dataloader=dict(dataset=dict(pipeline=[
                 dict(type='LoadImage'),
                 dict(type='MeshBBoxCenterScale'),
                 dict(type='MeshTopdownAffine', input_size=base.input_size),
                 dict(type='PackMeshInputs'),
             ]))))


def grace_hopper_path() -> Path:
    """matplotlib's sample photo of a person (512 x 600), shipped inside the installed package."""
    path = Path(matplotlib.get_data_path()) / 'sample_data' / 'grace_hopper.jpg'
    if not path.is_file():
        pytest.fail(f'{path} missing: the matplotlib installation has no sample data')
    return path
