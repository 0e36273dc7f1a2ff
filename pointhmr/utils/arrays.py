"""Conversion of tensors (any device / dtype), arrays and sequences to numpy arrays."""
from typing import Any, Optional

import numpy as np
import numpy.typing as npt
import torch


def to_numpy(value: Any, dtype: Optional[npt.DTypeLike] = None) -> np.ndarray:
    """``value`` as a numpy array: tensors are detached and copied to the CPU (half / bfloat16 as float32), anything
    else goes through ``np.asarray``; ``dtype`` converts the result."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype in (torch.float16, torch.bfloat16):
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=dtype)
