"""Fixtures for the body tests: the synthetic body (generated once per session) and the real METRO-format assets."""
import os
import pickle
import sys
import types

import numpy as np
import pytest
import torch

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='session', autouse=True)
def _few_threads():
    torch.set_num_threads(1)


@pytest.fixture(scope='session')
def smpl_assets_dir(real_smpl_assets) -> str:
    """Folder of real METRO / PointHMR body files (see ``real_smpl_assets`` in tests/conftest.py)."""
    return str(real_smpl_assets)


@pytest.fixture(scope='session')
def body_cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp('pointhmr_cache'))


@pytest.fixture(scope='session')
def synthetic_files(body_cache_dir):
    from pointhmr.body.synthetic_body import default_body_files
    return default_body_files(cache_dir=body_cache_dir)


@pytest.fixture(scope='session')
def synthetic_body():
    from pointhmr.body.synthetic_body import generate_synthetic_body
    return generate_synthetic_body()


@pytest.fixture(scope='session')
def body_model(synthetic_files):
    from pointhmr.body import SMPLBodyModel
    return SMPLBodyModel(**synthetic_files)


def _write_fake_chumpy_pickle(path, arrays):
    """Write a pickle whose values are ``chumpy.ch.Ch`` objects (stub module, removed again afterwards)."""
    chumpy = types.ModuleType('chumpy')
    chumpy_ch = types.ModuleType('chumpy.ch')

    class Ch:

        def __init__(self, x):
            self.x = x
            self._dirty_vars = set()

    Ch.__module__, Ch.__qualname__ = 'chumpy.ch', 'Ch'
    chumpy_ch.Ch = Ch
    chumpy.ch = chumpy_ch
    sys.modules['chumpy'], sys.modules['chumpy.ch'] = chumpy, chumpy_ch
    try:
        wrapped = {
            key: Ch(value) if isinstance(value, np.ndarray) and value.dtype.kind == 'f' else value
            for key, value in arrays.items()
        }
        path.write_bytes(pickle.dumps(wrapped, protocol=2))
    finally:
        del sys.modules['chumpy'], sys.modules['chumpy.ch']
    return path


@pytest.fixture
def write_fake_chumpy_pickle():
    """``write(path, arrays)``: a pickle whose float arrays are ``chumpy.ch.Ch`` objects."""
    return _write_fake_chumpy_pickle


@pytest.fixture(scope='session')
def synthetic_hand_files(body_cache_dir):
    from pointhmr.body.synthetic_hand import default_hand_files
    return default_hand_files(cache_dir=body_cache_dir)


@pytest.fixture(scope='session')
def synthetic_hand():
    from pointhmr.body.synthetic_hand import generate_synthetic_hand
    return generate_synthetic_hand()


@pytest.fixture(scope='session')
def hand_model(synthetic_hand_files):
    from pointhmr.body import MANOHandModel
    return MANOHandModel(**synthetic_hand_files)
