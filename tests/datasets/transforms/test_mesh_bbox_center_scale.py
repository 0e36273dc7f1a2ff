import numpy as np
import pytest

from pointhmr.datasets.transforms import MeshBBoxCenterScale


def test_square_box_from_xyxy():
    out = MeshBBoxCenterScale(padding=1.25)(dict(bbox=np.array([[10.0, 20.0, 50.0, 120.0]])))
    np.testing.assert_allclose(out['bbox_center'], [[30.0, 70.0]])
    np.testing.assert_allclose(out['bbox_scale'], [[125.0, 125.0]])


def test_dataset_values_are_kept():
    results = dict(bbox=np.array([[0.0, 0.0, 10.0, 10.0]]),
                   bbox_center=np.array([[3.0, 4.0]]),
                   bbox_scale=np.array([[77.0, 77.0]]))
    out = MeshBBoxCenterScale()(results)
    np.testing.assert_array_equal(out['bbox_scale'], [[77.0, 77.0]])


def test_errors_say_what_is_missing():
    with pytest.raises(KeyError, match='bbox'):
        MeshBBoxCenterScale()(dict())
    with pytest.raises(ValueError, match='xyxy'):
        MeshBBoxCenterScale()(dict(bbox=np.array([[10.0, 10.0, 5.0, 5.0]])))
