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
