import collections
import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pointhmr.body.graph_hops import attention_mask, hop_reachability
from pointhmr.body.safe_pickle import load_legacy_adjacency, load_metro_mesh_downsampling


def _chain(n):
    return sp.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1], shape=(n, n))


def test_chain_reachability():
    for hops in (0, 1, 2, 4):
        reach = hop_reachability(_chain(10), hops)
        expected = np.abs(np.arange(10)[:, None] - np.arange(10)[None, :]) <= hops
        np.testing.assert_array_equal(reach, expected)


def test_accepts_dense_and_torch_inputs():
    dense = _chain(6).toarray()
    ref = hop_reachability(dense, 2)
    np.testing.assert_array_equal(hop_reachability(torch.from_numpy(dense), 2), ref)
    np.testing.assert_array_equal(hop_reachability(torch.from_numpy(dense).to_sparse(), 2), ref)


def test_bad_inputs():
    with pytest.raises(ValueError, match='hops'):
        hop_reachability(_chain(4), -1)
    with pytest.raises(ValueError, match='square'):
        hop_reachability(np.ones((3, 4)), 1)


def test_mask_structure():
    reach = hop_reachability(_chain(5), 1)
    mask = attention_mask(reach, num_prefix_tokens=3)
    assert mask.dtype == torch.bool and mask.shape == (8, 8)
    assert not mask[:3].any() and not mask[:, :3].any()
    np.testing.assert_array_equal(mask[3:, 3:].numpy(), ~reach)


@pytest.mark.parametrize('source', ['legacy', 'npz'])
def test_real_431_masks(smpl_assets_dir, source):
    if source == 'legacy':
        adjacency = load_legacy_adjacency(
            *[os.path.join(smpl_assets_dir, f'smpl_431_adjmat_{n}.pt') for n in ('indices', 'values', 'size')])
    else:
        adjacency = load_metro_mesh_downsampling(os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))['A'][2]
    one_hop = hop_reachability(adjacency, 1)
    assert one_hop.sum() == 3005
    assert (one_hop.sum(1).min(), one_hop.sum(1).max()) == (4, 11)
    expected = {
        1: (62269, 4, 6.97, 11), 3: (76943, 18, 41.0, 72), 5: (102511, 37, 100.3, 187), 7: (135299, 63, 176.4, 316)
    }
    for hops, (allowed, low, mean, high) in expected.items():
        reach = hop_reachability(adjacency, hops)
        mask = attention_mask(reach, num_prefix_tokens=64)
        assert mask.shape == (495, 495)
        assert int((~mask).sum()) == allowed
        per_row = reach.sum(1)
        assert per_row.min() == low and per_row.max() == high and round(per_row.mean(), 1) == round(mean, 1)


def _bfs_reachability(adjacency, hops):
    """Independent reference: breadth-first search from every vertex, depth <= hops."""
    csr = sp.csr_matrix(adjacency)
    num = csr.shape[0]
    reach = np.zeros((num, num), dtype=bool)
    for start in range(num):
        depth = {start: 0}
        queue = collections.deque([start])
        while queue:
            vertex = queue.popleft()
            if depth[vertex] == hops:
                continue
            for neighbour in csr.indices[csr.indptr[vertex]:csr.indptr[vertex + 1]]:
                if neighbour not in depth and csr[vertex, neighbour] != 0:
                    depth[neighbour] = depth[vertex] + 1
                    queue.append(neighbour)
        reach[start, list(depth)] = True
    return reach


@pytest.mark.parametrize('source', ['legacy', 'npz'])
def test_real_195_hand_masks_match_bfs(smpl_assets_dir, source):
    """Hand variant: 7/5/3/1-hop masks on the 195-vertex MANO graph behind 1 camera + 49 grid + 21 joint tokens."""
    if source == 'legacy':
        adjacency = load_legacy_adjacency(
            *[os.path.join(smpl_assets_dir, f'mano_195_adjmat_{n}.pt') for n in ('indices', 'values', 'size')])
    else:
        adjacency = load_metro_mesh_downsampling(os.path.join(smpl_assets_dir, 'mano_downsampling.npz'))['A'][1]
    assert adjacency.shape == (195, 195)
    previous = None
    for hops in (1, 3, 5, 7):
        reach = hop_reachability(adjacency, hops)
        np.testing.assert_array_equal(reach, _bfs_reachability(adjacency, hops))
        assert np.array_equal(reach, reach.T) and reach.diagonal().all()
        if previous is not None:
            assert (reach >= previous).all() and reach.sum() > previous.sum()
        previous = reach
        mask = attention_mask(reach, num_prefix_tokens=1 + 49 + 21)
        assert mask.shape == (266, 266)
        assert int((~mask).sum()) == 71 * 266 + 195 * 71 + int(reach.sum())  # prefix rows, prefix columns, hops
    assert hop_reachability(adjacency, 1).sum() == 1331  # the legacy file's non-zeros (self loops included)
