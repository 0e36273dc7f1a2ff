"""Shared test setup: import pointhmr first (registers components, applies the CPU/torch compatibility fixes)."""
import os
from pathlib import Path

import pytest
import torch

import pointhmr  # noqa: F401

# one intra-op thread: on small CPU machines shared with data workers, more threads make small models much slower
torch.set_num_threads(1)
REPO_ROOT = Path(__file__).resolve().parents[1]


def smpl_assets_dir() -> Path:
    """Folder of the real METRO/PointHMR-format body files (../shared/smpl_assets), or skip / fail when absent.

    Set POINTHMR_SMPL_ASSETS to point elsewhere. CI sets POINTHMR_REQUIRE_SMPL_ASSETS=1 so these tests cannot be skipped
    silently there.
    """
    path = Path(os.environ.get('POINTHMR_SMPL_ASSETS', REPO_ROOT.parent / 'shared' / 'smpl_assets'))
    if not (path / 'mesh_downsampling.npz').is_file():
        reason = (f'real SMPL-format assets not found at {path}; set POINTHMR_SMPL_ASSETS to the folder holding '
                  'mesh_downsampling.npz, J_regressor_h36m_correct.npy and smpl_431_adjmat_*.pt')
        if os.environ.get('POINTHMR_REQUIRE_SMPL_ASSETS') == '1':
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope='session')
def real_smpl_assets() -> Path:
    return smpl_assets_dir()


def _getattr_exec_chain(code: str) -> bytes:
    """Protocol-2 pickle of ``getattr(getattr(getattr, '__self__'), 'exec')(code)`` (the builtins escape)."""

    def text(value: str) -> bytes:
        data = value.encode()
        return b'X' + len(data).to_bytes(4, 'little') + data

    g = b'cbuiltins\ngetattr\n'
    return b'\x80\x02' + g + g + g + text('__self__') + b'\x86R' + text('exec') + b'\x86R' + text(code) + b'\x85R.'


@pytest.fixture
def getattr_exec_chain():
    """Builds the pickle ``getattr(getattr(getattr, '__self__'), 'exec')(code)`` for a given code string."""
    return _getattr_exec_chain
