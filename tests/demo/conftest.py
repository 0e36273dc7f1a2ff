"""Load demo/mesh_demo.py as a module; a light config file and a real photo for it."""
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP = _load(REPO / 'tests' / 'apis' / 'light_model_setup.py', 'pointhmr_tests_light_model_setup_demo')


@pytest.fixture(scope='session')
def mesh_demo():
    return _load(REPO / 'demo' / 'mesh_demo.py', 'mesh_demo')


@pytest.fixture(scope='session')
def light_config_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('cfg') / 'pointhmr_light_infer.py'
    SETUP.light_config().dump(str(path))
    return path


@pytest.fixture(scope='session')
def grace_hopper() -> Path:
    return SETUP.grace_hopper_path()
