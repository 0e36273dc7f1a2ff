"""Load demo/mesh_demo.py as a module and provide a light config file for it."""
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'apis'))
from conftest import grace_hopper_path, light_config  # noqa: E402

sys.path.pop(0)


@pytest.fixture(scope='session')
def mesh_demo():
    spec = importlib.util.spec_from_file_location('mesh_demo', REPO / 'demo' / 'mesh_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def light_config_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('cfg') / 'pointhmr_light_infer.py'
    light_config().dump(str(path))
    return path


@pytest.fixture(scope='session')
def grace_hopper() -> Path:
    return grace_hopper_path()
