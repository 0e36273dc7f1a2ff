"""Tiny source layouts written by the tests (images are small random JPEGs)."""
import cv2
import numpy as np
import pytest


@pytest.fixture
def write_jpeg():
    """``write_jpeg(path, rng, height=48, width=64)`` writes a random JPEG and returns it decoded (BGR)."""

    def write(path, rng, height=48, width=64):
        path.parent.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        assert cv2.imwrite(str(path), image)
        return cv2.imread(str(path), cv2.IMREAD_COLOR)

    return write


@pytest.fixture
def load_tool():
    """Import a script of tools/dataset_converters/ by file name."""
    import importlib.util
    from pathlib import Path

    def load(name):
        path = Path(__file__).parents[3] / 'tools' / 'dataset_converters' / f'{name}.py'
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
