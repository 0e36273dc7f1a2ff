"""k-hop reachability on a mesh graph and PointHMR's progressive attention masks (official behaviour §1.8)."""
from typing import Union

import numpy as np
import scipy.sparse as sp
import torch

ArrayOrSparse = Union[np.ndarray, sp.spmatrix, torch.Tensor]


def hop_reachability(adjacency: ArrayOrSparse, hops: int) -> np.ndarray:
    """Boolean ``(N, N)`` matrix: ``True`` where ``j`` is within ``hops`` graph hops of ``i`` (self included).

    ``R1`` is the non-zero pattern of ``adjacency`` plus the identity; each further step adds one hop
    (``R_{k+1}[i] = OR_{j in R_k[i]} R1[j]``). ``hops=0`` gives the identity.
    """
    if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)) or hops < 0:
        raise ValueError(f'hops must be a non-negative integer, got {hops!r}')
    if isinstance(adjacency, torch.Tensor):
        adjacency = adjacency.to_dense().cpu().numpy() if adjacency.is_sparse else adjacency.cpu().numpy()
    pattern = sp.csr_matrix(adjacency, dtype=np.float64)
    if pattern.ndim != 2 or pattern.shape[0] != pattern.shape[1]:
        raise ValueError(f'adjacency must be a square (N, N) matrix, got shape {pattern.shape}')
    num = pattern.shape[0]
    pattern.eliminate_zeros()
    one_hop = (pattern != 0).astype(np.int32) + sp.identity(num, dtype=np.int32, format='csr')
    one_hop = (one_hop > 0).astype(np.int32)
    reach = sp.identity(num, dtype=np.int32, format='csr')
    for _ in range(int(hops)):
        reach = ((reach @ one_hop) > 0).astype(np.int32)
    return reach.toarray().astype(bool)


def attention_mask(reach: np.ndarray, num_prefix_tokens: int = 64) -> torch.Tensor:
    """PointHMR attention mask ``(P + N, P + N)`` with ``True`` = blocked (PyTorch ``attn_mask`` semantics).

    The first ``num_prefix_tokens`` rows/columns (camera, grid and joint tokens) are unrestricted; vertex row ``i`` may
    attend to every prefix token and to vertex ``j`` only where ``reach[i, j]``.
    """
    reach = np.asarray(reach, dtype=bool)
    if reach.ndim != 2 or reach.shape[0] != reach.shape[1]:
        raise ValueError(f'reach must be a square (N, N) boolean matrix, got shape {reach.shape}')
    if num_prefix_tokens < 0:
        raise ValueError(f'num_prefix_tokens must be >= 0, got {num_prefix_tokens}')
    size = num_prefix_tokens + reach.shape[0]
    mask = torch.zeros(size, size, dtype=torch.bool)
    mask[num_prefix_tokens:, num_prefix_tokens:] = torch.from_numpy(~reach)
    return mask
