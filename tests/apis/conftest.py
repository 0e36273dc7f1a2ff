"""Fixtures of the inference tests: a light PointHMR model with random weights and a real photo."""
import importlib.util
from pathlib import Path

import pytest
from mmengine import Config


def load_setup():
    """tests/apis/light_model_setup.py, loaded by path (test folders are not packages)."""
    spec = importlib.util.spec_from_file_location('pointhmr_tests_light_model_setup',
                                                  Path(__file__).with_name('light_model_setup.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP = load_setup()


@pytest.fixture(scope='session')
def light_cfg() -> Config:
    return SETUP.light_config()


@pytest.fixture(scope='session')
def light_model(light_cfg):
    from pointhmr.apis import init_mesh_model
    return init_mesh_model(light_cfg, 'none', device='cpu')


@pytest.fixture(scope='session')
def grace_hopper() -> Path:
    return SETUP.grace_hopper_path()
