"""Export-friendly forward of a PointHMR estimator (ONNX / TensorRT): same weights, dense ops only.

:class:`MeshExportModel` wraps a built estimator (it shares, never copies, its modules) and runs the inference path
with three substitutions that exporters need:

* mesh up-sampling as a gather + weighted sum (:class:`GatherUpsampler`) instead of sparse matrix products;
* attention masks as float additive biases with a large *finite* negative value (:func:`additive_attention_mask`),
  so no row can turn into NaN and no boolean masks reach the graph;
* the residual conv blocks of the neck as :class:`~pointhmr.deployment.export_conv.ExportResidualBlock` (BatchNorm
  folded, the wide 3x3 convolutions as Winograd F(4x4, 3x3) in batched matrix products) instead of the eager CPU fast
  path, whose caches and per-sample loop cannot be exported.

Every size comes from the estimator and its mesh model (vertex counts, keypoints, levels): nothing is specific to
SMPL. Sparse matrices are read once at construction (scipy), so the traced graph holds only dense constants.
"""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from pointhmr.codecs import weak_perspective_project

#: value added to blocked attention scores: exp() of it underflows to exactly 0 in float32, and it stays finite in
#: float16 (a fully blocked row would give a uniform row, never NaN)
MASK_VALUE = -1e4

#: output names of the exported graph, in order
OUTPUT_NAMES = ('camera', 'joints', 'vertices', 'vertices_coarse', 'keypoints_3d', 'keypoints_2d')


class ExportError(ValueError):
    """The model or config cannot be exported; the message says why and what to change."""


def additive_attention_mask(mask: Optional[Tensor]) -> Optional[Tensor]:
    """(L, L) bool mask (True = blocked, PyTorch semantics) -> float32 additive bias (0 or :data:`MASK_VALUE`)."""
    if mask is None:
        return None
    if mask.dtype != torch.bool:
        raise ExportError(f'expected a boolean attention mask, got dtype {mask.dtype}')
    bias = torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
    return bias.masked_fill(mask, MASK_VALUE)


class GatherUpsampler(nn.Module):
    """``out = M @ x`` for a fixed sparse ``M`` (N_out, N_in) as a gather and a weighted sum over ``k`` entries per row.

    ``k`` is the largest number of nonzeros in a row of ``M``; shorter rows are padded with weight 0 (index 0). The
    index (N_out, k) and weight (N_out, k) tensors are non-persistent buffers, so checkpoints are unchanged.
    """

    def __init__(self, matrix: sp.spmatrix) -> None:
        super().__init__()
        csr = sp.csr_matrix(matrix, dtype=np.float64)
        csr.eliminate_zeros()
        csr.sort_indices()
        rows, cols = csr.shape
        counts = np.diff(csr.indptr)
        k = max(int(counts.max()) if rows else 1, 1)
        index = np.zeros((rows, k), dtype=np.int64)
        weight = np.zeros((rows, k), dtype=np.float32)
        slot = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], counts)
        row_of = np.repeat(np.arange(rows), counts)
        index[row_of, slot] = csr.indices
        weight[row_of, slot] = csr.data
        self.num_in, self.num_out, self.k = cols, rows, k
        self.register_buffer('index', torch.from_numpy(index.reshape(-1)), persistent=False)
        self.register_buffer('weight', torch.from_numpy(weight)[None, :, :, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, N_in, C) -> (B, N_out, C)."""
        gathered = x.index_select(1, self.index)  # (B, N_out * k, C)
        gathered = gathered.reshape(x.shape[0], self.num_out, self.k, x.shape[2])
        return (gathered * self.weight.to(x.dtype)).sum(dim=2)

    def extra_repr(self) -> str:
        return f'{self.num_in} -> {self.num_out}, k={self.k}'


def composed_upsampling_matrix(sampler, coarse_level: int, fine_level: int = 0) -> sp.csr_matrix:
    """``U[fine] @ ... @ U[coarse - 1]``: one matrix taking level ``coarse_level`` to ``fine_level``."""
    matrix = None
    for level in range(coarse_level - 1, fine_level - 1, -1):
        up = sp.csr_matrix(sampler.up_matrix(level), dtype=np.float64)
        matrix = up if matrix is None else up @ matrix
    if matrix is None:
        raise ExportError(f'no up-sampling between mesh levels {coarse_level} and {fine_level}')
    return sp.csr_matrix(matrix)


def token_level_of(body, num_token_vertices: int) -> int:
    """Sampler level of the head's vertex tokens: ``body.token_level`` when the mesh model has it, else the unique
    level with ``num_token_vertices`` vertices."""
    level = getattr(body, 'token_level', None)
    if level is not None:
        return int(level)
    levels = [i for i, n in enumerate(body.sampler.num_vertices) if n == num_token_vertices]
    if len(levels) != 1:
        raise ExportError(f'cannot tell which mesh level the {num_token_vertices} vertex tokens are (sampler levels '
                          f'{body.sampler.num_vertices}); give the mesh model a token_level')
    return levels[0]


def mesh_keypoints(body, vertices: Tensor) -> Tensor:
    """The mesh model's keypoint set ``(B, K, 3)`` (``keypoints``; ``h36m_joints`` for older body models)."""
    regress = getattr(body, 'keypoints', None)
    if not callable(regress):
        regress = body.h36m_joints
    return regress(vertices)


def root_keypoint_of(body) -> int:
    """Index of the root keypoint the predicted meshes are centred on (``root_keypoint``; H36M pelvis otherwise)."""
    root = getattr(body, 'root_keypoint', None)
    if root is None:
        from pointhmr.body.joints import H36M_PELVIS
        root = H36M_PELVIS
    return int(root)


def check_exportable(model: nn.Module) -> None:
    """Raise :class:`ExportError` naming the part of ``model`` the exporter does not support."""
    from pointhmr.models import PointGuidedSampler, PointHMR, ProgressiveMaskTransformerHead
    if not isinstance(model, PointHMR):
        raise ExportError(f'only PointHMR estimators can be exported, got {type(model).__name__}; use a pointhmr '
                          'config (model.type = "PointHMR")')
    if not isinstance(model.neck, PointGuidedSampler):
        raise ExportError(f'model.neck is {type(model.neck).__name__}; the exporter supports PointGuidedSampler')
    if not isinstance(model.head, ProgressiveMaskTransformerHead):
        raise ExportError(f'model.head is {type(model.head).__name__}; the exporter supports '
                          'ProgressiveMaskTransformerHead')
    if model.test_cfg and model.test_cfg.get('flip_test', False):
        raise ExportError('flip test cannot be exported; set model.test_cfg.flip_test=False')
    body = model.head.body_model
    for name in ('sampler', 'num_vertices'):
        if not hasattr(body, name):
            raise ExportError(f'the mesh model {type(body).__name__} has no {name!r}; it does not follow the '
                              'mesh-model interface (see docs/architecture.md)')


class MeshExportModel(nn.Module):
    """Normalised crop ``(B, 3, H, W)`` -> the outputs in :data:`OUTPUT_NAMES` (a tuple, in that order).

    * ``camera`` (B, 3) weak-perspective (s, tx, ty) of the crop;
    * ``joints`` (B, J, 3) the joint tokens as regressed (J = the head's ``num_joints``);
    * ``vertices`` (B, V, 3) the full mesh, centred at the root keypoint (as ``PointHMR.predict``);
    * ``vertices_coarse`` (B, V_c, 3) the token-level mesh, centred the same way;
    * ``keypoints_3d`` (B, K, 3) the mesh model's keypoints, root-centred;
    * ``keypoints_2d`` (B, K, 2) the keypoints projected with the camera, normalised crop coordinates [-1, 1].

    The estimator must be in eval mode (this module puts it there); its weights are shared, not copied. During
    :meth:`forward` the estimator's residual blocks are swapped for their export form and restored afterwards.

    Args:
        model: a built PointHMR estimator.
        winograd_tile: output tile of the Winograd convolutions of the wide neck convolutions (4 or 2); ``None`` =
            direct convolutions.
        winograd_min_channels: 3x3 convolutions at least this wide use Winograd (default: the blocks' own threshold,
            128: the 431/512-channel convolutions of the full model's neck).
    """

    def __init__(self,
                 model: nn.Module,
                 winograd_tile: Optional[int] = 4,
                 winograd_min_channels: Optional[int] = None) -> None:
        super().__init__()
        check_exportable(model)
        from pointhmr.models.layers import ResidualBasicBlock
        from .export_conv import ExportResidualBlock
        self._block_swaps = [(parent, name, child, ExportResidualBlock(child, winograd_tile, winograd_min_channels))
                             for parent in model.modules() for name, child in parent.named_children()
                             if isinstance(child, ResidualBasicBlock)]
        self.winograd_tile = winograd_tile
        self.model = model.eval()
        head = model.head
        body = head.body_model
        level = token_level_of(body, head.num_vertices)
        matrix = composed_upsampling_matrix(body.sampler, level, 0)
        if matrix.shape != (int(body.num_vertices), head.num_vertices):
            raise ExportError(f'the mesh model up-samples level {level} to {matrix.shape}, expected '
                              f'({body.num_vertices}, {head.num_vertices})')
        self.upsampler = GatherUpsampler(matrix)
        for index, mask in enumerate(head.attention_masks, start=1):
            self.register_buffer(f'attention_bias_{index}', additive_attention_mask(mask), persistent=False)
        self.root_keypoint = root_keypoint_of(body)
        self.eval()

    @property
    def attention_biases(self) -> List[Optional[Tensor]]:
        return [getattr(self, f'attention_bias_{i}') for i in range(1, 5)]

    @contextlib.contextmanager
    def _export_blocks(self) -> Iterator[None]:
        for parent, name, _, export_block in self._block_swaps:
            parent._modules[name] = export_block.to(device=export_block.block.conv1.weight.device)
        try:
            yield
        finally:
            for parent, name, block, _ in self._block_swaps:
                parent._modules[name] = block

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        model, head = self.model, self.model.head
        body = head.body_model
        with self._export_blocks():
            cam_token, grid_tokens, vertex_tokens, _ = model.neck(model.backbone(inputs))
        if grid_tokens.shape[1] != head.num_grid_tokens:
            raise ExportError(f'input crops of {tuple(inputs.shape[2:])} give {grid_tokens.shape[1]} grid tokens, the '
                              f'head expects {head.num_grid_tokens}: use the input size the model was built for')
        batch = inputs.shape[0]
        joint_tokens = head.joint_token_embed.weight[None].expand(batch, -1, -1)
        content = torch.cat((cam_token, grid_tokens, joint_tokens, vertex_tokens), dim=1)
        position = head.token_position_embed.weight[None].expand(batch, -1, -1)
        camera, xyz = head.transformer(torch.cat((content, position), dim=2), self.attention_biases)
        xyz = head.points_from_regressed(xyz)
        joints, coarse = xyz[:, :head.num_joints], xyz[:, head.num_joints:]
        vertices = self.upsampler(coarse)
        keypoints = mesh_keypoints(body, vertices)
        root = keypoints[:, self.root_keypoint:self.root_keypoint + 1]
        keypoints_2d = weak_perspective_project(keypoints, camera)
        return camera, joints, vertices - root, coarse - root, keypoints - root, keypoints_2d

    def output_shapes(self, batch: int = 1) -> Dict[str, Tuple[int, ...]]:
        """Shape of every output for a given batch size (from the model, not from running it)."""
        head, body = self.model.head, self.model.head.body_model
        num_keypoints = int(mesh_keypoints(body, torch.zeros(1, int(body.num_vertices), 3)).shape[1])
        return dict(camera=(batch, 3),
                    joints=(batch, head.num_joints, 3),
                    vertices=(batch, int(body.num_vertices), 3),
                    vertices_coarse=(batch, head.num_vertices, 3),
                    keypoints_3d=(batch, num_keypoints, 3),
                    keypoints_2d=(batch, num_keypoints, 2))


def named_outputs(outputs: Sequence[Tensor]) -> Dict[str, Tensor]:
    """The tuple of :meth:`MeshExportModel.forward` as a dict keyed by :data:`OUTPUT_NAMES`."""
    return dict(zip(OUTPUT_NAMES, outputs))
