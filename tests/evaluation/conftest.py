"""Fixtures for the metric tests (helpers live in metric_helpers.py)."""
import numpy as np
import pytest
import torch
from metric_helpers import LinearBodyModel, j24_from_h36m


@pytest.fixture
def body_model() -> LinearBodyModel:
    return LinearBodyModel()


@pytest.fixture
def gt_people(body_model):
    """Six random people: pose (72,), betas (10,), GT mesh (V, 3) and its J24 label (24, 4) with a camera offset."""
    rng = np.random.default_rng(1)
    people = []
    for _ in range(6):
        pose, betas = rng.normal(0, 0.5, 72), rng.normal(0, 1.0, 10)
        with torch.no_grad():
            mesh = body_model(torch.tensor(pose)[None], torch.tensor(betas)[None])
            h36m = body_model.h36m_joints(mesh)[0].numpy()
        people.append(
            dict(pose=pose,
                 betas=betas,
                 mesh=mesh[0].numpy(),
                 keypoints_3d=j24_from_h36m(h36m, translation=rng.normal(0, 2, 3))))
    return people
