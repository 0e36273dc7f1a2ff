"""Fixtures for the model tests: a small, deterministic stand-in body model with the SMPLBodyModel API.

The stand-in has the real level sizes (6890 / 1723 / 431 vertices, 17 H36M joints) but trivial geometry: vertices are a
fixed template plus linear functions of pose and betas, the coarse graph is a 431-node lattice, and the sampler uses
pure selections (D) and 3-neighbour interpolation (U). It is registered as ``StandInBodyModel`` in MODELS.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from mmpose.registry import MODELS
from torch import nn

from pointhmr.body.mesh_model import SMPLMeshInterface
from pointhmr.body.mesh_sampler import MeshSampler
from pointhmr.utils import load_model_config

LEVEL_SIZES = (6890, 1723, 431)
LATTICE_WIDTH = 20


def _selection(num_out: int, num_in: int, rng: np.random.Generator) -> sp.csr_matrix:
    cols = np.sort(rng.choice(num_in, num_out, replace=False))
    return sp.csr_matrix((np.ones(num_out), (np.arange(num_out), cols)), shape=(num_out, num_in))


def _interpolation(num_out: int, num_in: int, rng: np.random.Generator) -> sp.csr_matrix:
    rows = np.repeat(np.arange(num_out), 3)
    cols = ((rng.integers(num_in, size=num_out)[:, None] + np.arange(3)) % num_in).reshape(-1)
    weights = rng.dirichlet(np.ones(3), size=num_out).reshape(-1)
    return sp.csr_matrix((weights, (rows, cols)), shape=(num_out, num_in))


def _lattice(num: int, width: int = LATTICE_WIDTH) -> sp.csr_matrix:
    """Grid graph with ``width`` columns (4-neighbourhood), symmetric, no self loops."""
    rows, cols = [], []
    for i in range(num):
        for j in (i + 1, i + width):
            if j < num and (j != i + 1 or (i + 1) % width):
                rows += [i, j]
                cols += [j, i]
    return sp.csr_matrix((np.full(len(rows), 2.), (rows, cols)), shape=(num, num))


def _chain(num: int) -> sp.csr_matrix:
    idx = np.arange(num - 1)
    return sp.csr_matrix((np.ones(2 * (num - 1)), (np.r_[idx, idx + 1], np.r_[idx + 1, idx])), shape=(num, num))


@MODELS.register_module(force=True)
class StandInBodyModel(SMPLMeshInterface, nn.Module):
    """Deterministic stand-in for ``SMPLBodyModel`` (same API: forward, h36m_joints, center, faces, num_vertices,
    sampler)."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        full, mid, coarse = LEVEL_SIZES
        self.num_vertices = full
        self.faces = np.stack([np.arange(3), np.arange(1, 4), np.arange(2, 5)]).astype(np.int64)
        self.sampler = MeshSampler(down=[_selection(mid, full, rng),
                                         _selection(coarse, mid, rng)],
                                   up=[_interpolation(full, mid, rng),
                                       _interpolation(mid, coarse, rng)],
                                   adjacencies=[_chain(full), _chain(mid), _lattice(coarse)],
                                   faces=[self.faces, self.faces, self.faces])
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer('template', 0.3 * torch.randn(full, 3, generator=generator), persistent=False)
        self.register_buffer('pose_dirs', 0.01 * torch.randn(72, full * 3, generator=generator), persistent=False)
        self.register_buffer('shape_dirs', 0.01 * torch.randn(10, full * 3, generator=generator), persistent=False)
        regressor = torch.rand(17, full, generator=generator) * (torch.rand(17, full, generator=generator) < 0.01)
        regressor[:, 0] += 1e-3
        self.register_buffer('h36m_regressor', regressor / regressor.sum(1, keepdim=True), persistent=False)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        offsets = pose @ self.pose_dirs + betas @ self.shape_dirs
        return self.template[None] + offsets.view(pose.shape[0], -1, 3)

    def h36m_joints(self, vertices: torch.Tensor) -> torch.Tensor:
        return torch.einsum('jv,bvc->bjc', self.h36m_regressor.to(vertices.dtype), vertices)

    def center(self, vertices: torch.Tensor) -> torch.Tensor:
        return vertices - self.h36m_joints(vertices)[:, :1]  # H36M joint 0, the pelvis


@pytest.fixture
def stand_in_body_cfg() -> dict:
    """Config of the stand-in body model."""
    return dict(type='StandInBodyModel')


@pytest.fixture
def lattice_width() -> int:
    """Columns of the stand-in's coarse 431-vertex lattice graph."""
    return LATTICE_WIDTH


@pytest.fixture
def light_model_cfg(stand_in_body_cfg) -> dict:
    """Light PointHMR estimator config on the stand-in body."""
    return load_model_config('pointhmr_light', body_model=stand_in_body_cfg)
