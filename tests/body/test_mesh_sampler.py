import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pointhmr.body.mesh_sampler import MeshSampler


@pytest.fixture(scope='module')
def real_sampler(smpl_assets_dir):
    return MeshSampler.from_file(os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))


def test_real_shapes(real_sampler):
    s = real_sampler
    assert s.num_vertices == [6890, 1723, 431]
    assert [s.up_matrix(i).shape for i in range(2)] == [(6890, 1723), (1723, 431)]
    assert [s.down_matrix(i).shape for i in range(2)] == [(1723, 6890), (431, 1723)]
    assert [s.faces(i).shape for i in range(3)] == [(13776, 3), (3442, 3), (858, 3)]
    assert s.faces(0).dtype == np.int64
    for i in range(2):
        down = s.down_matrix(i)
        assert np.all(np.diff(down.indptr) == 1) and np.all(down.data == 1.0)
    assert s.adjacency(2).shape == (431, 431)
    assert list(s.state_dict()) == [] and list(s.parameters()) == []


def test_real_operations_match_scipy(real_sampler):
    s = real_sampler
    x = torch.randn(2, 6890, 3, dtype=torch.float64)
    mid = s.downsample(x)
    coarse = s.downsample(x, 0, 2)
    ref_mid = s.down_matrix(0) @ x[1].numpy()
    np.testing.assert_allclose(mid[1].numpy(), ref_mid)
    np.testing.assert_allclose(coarse[1].numpy(), s.down_matrix(1) @ ref_mid)
    up = s.upsample(coarse, 2, 1)
    np.testing.assert_allclose(up[0].numpy(), s.up_matrix(1) @ coarse[0].numpy(), rtol=1e-5, atol=1e-6)
    full = s.upsample(up, 1, 0)
    assert full.shape == (2, 6890, 3)
    np.testing.assert_allclose(s.upsample(coarse, 2, 0).numpy(), full.numpy(), atol=1e-6)
    # (N, C) input
    assert s.downsample(x[0]).shape == (1723, 3)


def test_round_trip_on_kept_vertices(real_sampler):
    s = real_sampler
    x = torch.randn(1, 1723, 4)
    kept = s.down_matrix(0).indices  # 6890-level index of each 1723-level vertex
    restored = s.downsample(s.upsample(x, 1, 0), 0, 1)
    torch.testing.assert_close(restored, x)
    assert len(np.unique(kept)) == 1723


def test_gradient_flows(real_sampler):
    x = torch.randn(2, 431, 3, requires_grad=True)
    real_sampler.upsample(x, 2, 0).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_pickle_free_round_trip_is_exact(real_sampler, tmp_path):
    path = tmp_path / 'sampler.npz'
    real_sampler.save_pickle_free(path)
    with np.load(path, allow_pickle=False) as data:
        assert 'A0_row' in data and 'F2' in data
    again = MeshSampler.from_file(path)
    for i in range(2):
        assert (again.up_matrix(i) != real_sampler.up_matrix(i)).nnz == 0
        assert (again.down_matrix(i) != real_sampler.down_matrix(i)).nnz == 0
    for i in range(3):
        assert (again.adjacency(i) != real_sampler.adjacency(i)).nnz == 0
        np.testing.assert_array_equal(again.faces(i), real_sampler.faces(i))


def test_bad_inputs(tmp_path):
    eye = sp.identity(3, format='csr')
    sampler = MeshSampler([eye[:2]], [eye[:, :2]], [eye, eye[:2, :2]], [np.zeros((1, 3)), np.zeros((1, 3))])
    with pytest.raises(ValueError, match='level 0'):
        sampler.downsample(torch.zeros(1, 5, 3))
    with pytest.raises(ValueError, match='n2 > n1'):
        sampler.downsample(torch.zeros(1, 3, 3), 1, 0)
    with pytest.raises(ValueError, match='does not exist'):
        sampler.downsample(torch.zeros(1, 3, 3), 0, 2)
    with pytest.raises(FileNotFoundError, match='missing.npz'):
        MeshSampler.from_file(tmp_path / 'missing.npz')
    np.savez(tmp_path / 'other.npz', x=np.zeros(2))
    with pytest.raises(ValueError, match='convert_smpl_assets'):
        MeshSampler.from_file(tmp_path / 'other.npz')


def test_real_mano_sampler(smpl_assets_dir):
    """METRO's mano_downsampling.npz: 778 -> 195 -> 49 -> 13 -> 4, the same as its pickle-free derived copy."""
    s = MeshSampler.from_file(os.path.join(smpl_assets_dir, 'mano_downsampling.npz'))
    sizes = [778, 195, 49, 13, 4]
    assert s.num_vertices == sizes
    assert [s.down_matrix(i).shape for i in range(4)] == list(zip(sizes[1:], sizes[:-1]))
    assert [s.up_matrix(i).shape for i in range(4)] == list(zip(sizes[:-1], sizes[1:]))
    assert [s.faces(i).shape for i in range(5)] == [(1538, 3), (374, 3), (88, 3), (18, 3), (3, 3)]
    for i in range(4):
        down = s.down_matrix(i)
        assert np.all(np.diff(down.indptr) == 1) and np.all(down.data == 1.0)  # pure vertex selection
        assert np.all(np.diff(s.up_matrix(i).indptr) == 3)  # 3 weights per up-sampled vertex
    # as in METRO's body file, the 778 <- 195 weights do not always sum to 1 (58 rows between 0.93 and 1.22)
    sums = np.asarray(s.up_matrix(0).sum(1)).ravel()
    assert np.count_nonzero(np.abs(sums - 1.0) > 1e-6) == 58 and 0.93 < sums.min() and sums.max() < 1.22
    for i in range(5):
        adjacency = s.adjacency(i)
        assert abs(adjacency - adjacency.T).max() == 0 and adjacency.diagonal().sum() == 0
    # the MANO surface is open at the wrist: a disk (V - E + F = 1), edges on the rim belong to one face
    assert 778 - s.adjacency(0).nnz // 2 + 1538 == 1
    x = torch.randn(2, 195, 3, dtype=torch.float64)
    torch.testing.assert_close(s.downsample(s.upsample(x, 1, 0), 0, 1), x)  # kept vertices round trip
    derived = MeshSampler.from_file(os.path.join(smpl_assets_dir, 'derived', 'mano_downsampling_coo.npz'))
    for i in range(4):
        assert (derived.up_matrix(i) != s.up_matrix(i)).nnz == 0
        assert (derived.down_matrix(i) != s.down_matrix(i)).nnz == 0
    for i in range(5):
        assert (derived.adjacency(i) != s.adjacency(i)).nnz == 0
        np.testing.assert_array_equal(derived.faces(i), s.faces(i))
