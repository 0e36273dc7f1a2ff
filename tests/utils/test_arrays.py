import numpy as np
import pytest
import torch

from pointhmr.utils import to_numpy


def test_tensors_are_detached_copied_and_converted():
    tensor = torch.arange(6, dtype=torch.float32, requires_grad=True).reshape(2, 3)
    array = to_numpy(tensor * 2)
    assert isinstance(array, np.ndarray) and array.dtype == np.float32 and array.tolist() == [[0, 2, 4], [6, 8, 10]]
    assert to_numpy(tensor, np.float64).dtype == np.float64
    half = to_numpy(torch.ones(2, dtype=torch.bfloat16))  # numpy has no bfloat16: float32
    assert half.dtype == np.float32 and half.tolist() == [1, 1]
    assert to_numpy(torch.tensor([1, 2])).dtype == np.int64


@pytest.mark.parametrize('value', [[1, 2], (1, 2), np.array([1, 2])])
def test_other_values_go_through_asarray(value):
    assert to_numpy(value, np.float32).tolist() == [1.0, 2.0]
