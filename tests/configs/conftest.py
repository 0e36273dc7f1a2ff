"""Fixtures for the config tests: a tiny synthetic dataset in a temporary folder."""
from pathlib import Path

import pytest


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> Path:
    """6 training and 4 test samples in METRO TSV/YAML format (data engineer's generator)."""
    from pointhmr.datasets.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('synthetic')
    make_synthetic_dataset(str(root), dict(train=6, test=4), seed=0)
    return root
