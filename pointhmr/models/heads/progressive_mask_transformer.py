"""PointHMR's head: token assembly, progressively masked transformer, fixed mesh up-sampling, losses and predictions."""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from torch import Tensor, nn

from pointhmr.body import graph_hops
from pointhmr.body.joints import H36M_PELVIS, H36M_TO_J14, J24_TO_J14
from pointhmr.codecs import fit_weak_perspective_camera, weak_perspective_project
from pointhmr.utils.arrays import to_numpy
from ..layers import additive_attention_mask
from ..losses import heatmap_loss, heatmap_point_targets, keypoint_2d_loss, keypoint_3d_loss, vertex_loss
from ..necks.point_guided_sampler import PointGuidedSamplerOutput
from .mesh_regressor import MeshRegressor

#: official loss weights (spec 3.2): total = 1000 (L3D + L3D_reg) + 100 L_vert + 100 (L2D + L2D_reg) + 10 L_heat,
#: L_vert = 0.33 (L431 + L1723 + L6890), L_heat = 1000 BCE + (1 - Dice)
DEFAULT_LOSS_WEIGHTS: Dict[str, float] = dict(
    joints_3d=1000., joints_3d_reg=1000., vertices=100., joints_2d=100., joints_2d_reg=100., heatmap=10.,
    vertices_431=0.33, vertices_1723=0.33, vertices_6890=0.33, heatmap_bce=1000.)

#: valid ``heatmap_camera`` values: which camera projects the ground-truth mesh onto the point-supervision heatmaps
HEATMAP_CAMERAS = ('predicted', 'ground_truth')


@MODELS.register_module()
class ProgressiveMaskTransformerHead(BaseHead):
    """Regress the camera, 14 joints and the 431-vertex mesh from PointHMR tokens, then up-sample to 6890 vertices.

    Tokens ``[camera, grid (49), joints (14, learned ``joint_token_embed``), vertices (431)]`` are concatenated with a
    learned per-slot code ``token_position_embed`` and pass through 4 pre-LN stacks; vertex tokens of stack ``i`` may
    only attend to vertices within ``hops[i]`` hops on the coarse mesh graph (plus all non-vertex tokens). Vertices
    are up-sampled 431 -> 1723 -> 6890 with the body model's fixed sparse matrices (batched).

    The body model built from ``body_model`` is the submodule ``body_model``; it must hold its arrays as non-persistent
    buffers (no parameters, nothing in the state_dict), so the head's state_dict stays the official one.

    Args:
        in_channels: token content width ``C`` (the neck's ``feat_channels``, 512).
        position_channels: width of the learned slot code concatenated to every token (128).
        reduced_channels: width of stacks 3-4 (128).
        num_heads: attention heads.
        feedforward_channels: FFN widths of stacks (1-2, 3-4).
        num_layers: layers per stack (int or 4 ints).
        dropout: transformer dropout.
        num_joints / num_vertices / num_grid_tokens: token counts (14 / 431 / 49 -> 495 tokens).
        hops: hop threshold of the vertex-vertex attention mask per stack, wide -> narrow; ``None`` (or a ``None``
            entry) disables masking (ablation).
        keep_unused_embeddings: create the official ``cam_token_embed`` (1, C) and ``vertex_token_embed`` (N, C) that
            the forward never uses, so the default model has exactly the official 59,086,504 parameters and loads
            official checkpoints strictly. Their gradients are always None: distributed training then needs
            ``find_unused_parameters=True`` (or set this to False; 58,865,320 parameters).
        heatmap_size: ``(w, h)`` of the loss heatmap, an integer multiple of the logits' size (112 = 2 x 56).
        body_model: config of the body model (``SMPLBodyModel``: forward, ``h36m_joints``, ``sampler``).
        loss_weights: overrides of :data:`DEFAULT_LOSS_WEIGHTS`.
        heatmap_camera: camera that places the point (heatmap) targets: ``'predicted'`` (official: the network's own
            camera, detached, so targets are only as good as the camera) or ``'ground_truth'`` (the least-squares
            weak-perspective camera mapping the ground-truth mesh's joints onto the 2D labels; samples whose labels
            cannot fix one fall back to the predicted camera). The light CPU config uses ``'ground_truth'``: with an
            untrained backbone its point targets are right from the first step.
        decoder: keypoint codec mapping normalised crop coordinates to crop pixels.
        init_cfg: mmengine init config (``None`` = PyTorch default init, as the official code).
    """

    def __init__(self, in_channels: int = 512, position_channels: int = 128, reduced_channels: int = 128,
                 num_heads: int = 4, feedforward_channels: Sequence[int] = (1024, 512), num_layers=2,
                 dropout: float = 0.1, num_joints: int = 14, num_vertices: int = 431, num_grid_tokens: int = 49,
                 hops: Optional[Sequence[Optional[int]]] = (7, 5, 3, 1), keep_unused_embeddings: bool = True,
                 heatmap_size: Tuple[int, int] = (112, 112), body_model: ConfigType = dict(type='SMPLBodyModel'),
                 loss_weights: Optional[Dict[str, float]] = None,
                 heatmap_camera: str = 'predicted',
                 decoder: OptConfigType = dict(type='WeakPerspectiveCodec', input_size=(224, 224)),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_joints = num_joints
        self.num_vertices = num_vertices
        self.num_grid_tokens = num_grid_tokens
        self.num_prefix_tokens = 1 + num_grid_tokens + num_joints
        self.num_tokens = self.num_prefix_tokens + num_vertices
        self.heatmap_size = tuple(int(s) for s in heatmap_size)
        unknown = set(loss_weights or {}) - set(DEFAULT_LOSS_WEIGHTS)
        if unknown:
            raise ValueError(f'ProgressiveMaskTransformerHead: unknown loss_weights keys {sorted(unknown)}; '
                             f'valid keys are {sorted(DEFAULT_LOSS_WEIGHTS)}')
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        if heatmap_camera not in HEATMAP_CAMERAS:
            raise ValueError(f'ProgressiveMaskTransformerHead: heatmap_camera must be one of {HEATMAP_CAMERAS}, got '
                             f'{heatmap_camera!r}')
        self.heatmap_camera = heatmap_camera
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

        self.joint_token_embed = nn.Embedding(num_joints, in_channels)
        self.token_position_embed = nn.Embedding(self.num_tokens, position_channels)
        if keep_unused_embeddings:
            self.cam_token_embed = nn.Embedding(1, in_channels)
            self.vertex_token_embed = nn.Embedding(num_vertices, in_channels)
        self.transformer = MeshRegressor(
            embed_dims=in_channels + position_channels, reduced_dims=reduced_channels, num_heads=num_heads,
            feedforward_channels=feedforward_channels, num_layers=num_layers, num_grid_tokens=num_grid_tokens,
            dropout=dropout)

        self.body_model = self._build_body_model(body_model)
        self.hops = None if hops is None else tuple(hops)
        self._register_attention_masks(self.body_model.sampler)

    # ------------------------------------------------------------------ constants derived from the body model
    @staticmethod
    def _build_body_model(body_model: ConfigType) -> nn.Module:
        """Build the body model and check that it is fixed data: no parameters, no state_dict entries."""
        body = MODELS.build(body_model)
        state = list(body.state_dict()) + [name for name, _ in body.named_parameters()]
        if state:
            raise ValueError(f'ProgressiveMaskTransformerHead: the body model {type(body).__name__} has parameters or '
                             f'persistent buffers ({sorted(set(state))[:5]}...); register its arrays with '
                             'register_buffer(..., persistent=False) so checkpoints hold only the network')
        return body

    def _register_attention_masks(self, sampler) -> None:
        """One (L, L) bool mask per stack (True = blocked), as non-persistent buffers ``attention_mask_{1..4}``, and
        its additive float form (0 / -inf, what the transformer uses) as ``attention_bias_{1..4}``, built once."""
        hops = self.hops if self.hops is not None else (None, ) * 4
        if len(hops) != 4:
            raise ValueError(f'ProgressiveMaskTransformerHead: hops needs one entry per stack (4), got {hops}')
        adjacency = sampler.adjacency(2)
        if adjacency.shape != (self.num_vertices, self.num_vertices):
            raise ValueError(f'ProgressiveMaskTransformerHead: coarse adjacency has shape {adjacency.shape}, expected '
                             f'({self.num_vertices}, {self.num_vertices}); check num_vertices / the body model')
        for index, hop in enumerate(hops, start=1):
            mask = None
            if hop is not None:
                reach = graph_hops.hop_reachability(adjacency, int(hop))
                mask = torch.as_tensor(
                    graph_hops.attention_mask(reach, num_prefix_tokens=self.num_prefix_tokens), dtype=torch.bool)
            self.register_buffer(f'attention_mask_{index}', mask, persistent=False)
            self.register_buffer(f'attention_bias_{index}', additive_attention_mask(mask), persistent=False)

    @property
    def attention_masks(self) -> List[Optional[Tensor]]:
        return [getattr(self, f'attention_mask_{i}') for i in range(1, 5)]

    @property
    def attention_biases(self) -> List[Optional[Tensor]]:
        """The masks as additive float masks (0 = allowed, -inf = blocked), in the model's dtype."""
        return [getattr(self, f'attention_bias_{i}') for i in range(1, 5)]

    # ------------------------------------------------------------------ forward
    def upsample_vertices(self, vertices: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, 431, 3) coarse vertices -> ((B, 1723, 3), (B, 6890, 3)) with the body sampler's fixed sparse matrices
        (one batched sparse-dense matmul per level)."""
        sampler = self.body_model.sampler
        mid = sampler.upsample(vertices, 2, 1)
        return mid, sampler.upsample(mid, 1, 0)

    def _heatmap_factors(self, height: int, width: int) -> Tuple[int, int]:
        """Nearest up-sampling factors (rows, columns) from ``height x width`` logits to ``heatmap_size``."""
        out_w, out_h = self.heatmap_size
        if out_h % height or out_w % width:
            raise ValueError(f'heatmap_size {self.heatmap_size} must be an integer multiple of the logits size '
                             f'({width}, {height})')
        return out_h // height, out_w // width

    def loss_heatmap(self, heatmap_logits: Tensor) -> Tensor:
        """(B, N, h, w) logits -> (B, N, H*W): softmax over their nearest up-sampling to ``heatmap_size`` (spec 1.5).

        Computed exactly without the large softmax: every logit is copied ``f_h * f_w`` times, so each copy holds the
        low-resolution softmax divided by ``f_h * f_w`` (one expand + copy instead of interpolate + softmax).
        """
        batch, channels, height, width = heatmap_logits.shape
        out_w, out_h = self.heatmap_size
        factor_h, factor_w = self._heatmap_factors(height, width)
        probs = heatmap_logits.flatten(2).softmax(dim=-1) / (factor_h * factor_w)
        probs = probs.view(batch, channels, height, 1, width, 1)
        return probs.expand(-1, -1, -1, factor_h, -1, factor_w).reshape(batch, channels, out_h * out_w)

    def _regress(self, feats: PointGuidedSamplerOutput) -> Dict[str, Tensor]:
        if isinstance(feats, list):
            raise NotImplementedError('ProgressiveMaskTransformerHead does not support flip test; set '
                                      'test_cfg.flip_test=False')
        cam_token, grid_tokens, vertex_tokens = feats.cam_token, feats.grid_tokens, feats.vertex_tokens
        batch = cam_token.shape[0]
        if grid_tokens.shape[1] != self.num_grid_tokens or vertex_tokens.shape[1] != self.num_vertices:
            raise ValueError(f'ProgressiveMaskTransformerHead expects {self.num_grid_tokens} grid and '
                             f'{self.num_vertices} vertex tokens, got {grid_tokens.shape[1]} and '
                             f'{vertex_tokens.shape[1]} (the 49 grid slots tie the model to 224 x 224 input)')
        joint_tokens = self.joint_token_embed.weight[None].expand(batch, -1, -1)
        content = torch.cat((cam_token, grid_tokens, joint_tokens, vertex_tokens), dim=1)
        position = self.token_position_embed.weight[None].expand(batch, -1, -1)
        camera, xyz = self.transformer(torch.cat((content, position), dim=2), self.attention_biases)
        joints, vertices_coarse = xyz[:, :self.num_joints], xyz[:, self.num_joints:]
        vertices_mid, vertices = self.upsample_vertices(vertices_coarse)
        return dict(camera=camera, joints=joints, vertices_431=vertices_coarse, vertices_1723=vertices_mid,
                    vertices=vertices)

    def forward(self, feats: PointGuidedSamplerOutput) -> Dict[str, Tensor]:
        """Neck output -> dict(camera (B, 3), joints (B, 14, 3), vertices_431, vertices_1723, vertices (B, 6890, 3),
        heatmap (B, N, 112*112))."""
        outputs = self._regress(feats)
        outputs['heatmap'] = self.loss_heatmap(feats.heatmap_logits)
        return outputs

    # ------------------------------------------------------------------ training
    @staticmethod
    def _stack_labels(batch_data_samples: OptSampleList, key: str, device: torch.device) -> Tensor:
        """Concatenate ``gt_instance_labels.<key>`` (one instance per sample) over the batch, as float32."""
        values = []
        for sample in batch_data_samples:
            labels = sample.get('gt_instance_labels')
            value = None if labels is None else labels.get(key)
            if value is None:
                raise KeyError(f'data_sample.gt_instance_labels.{key} is missing; pack it with PackMeshInputs '
                               '(see docs/architecture.md, data sample contract)')
            value = torch.as_tensor(value)
            values.append(value.reshape(1) if value.dim() == 0 else value)
        return torch.cat(values).to(device=device, dtype=torch.float32)

    @torch.no_grad()
    def ground_truth_meshes(self, pose: Tensor, betas: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """SMPL(pose, betas) centred at its H36M-regressed pelvis -> (431, 1723, 6890)-vertex meshes (spec 3.1)."""
        body = self.body_model
        vertices = body.center(body(pose, betas))
        return body.sampler.downsample(vertices, 0, 2), body.sampler.downsample(vertices, 0, 1), vertices

    def loss(self, feats: PointGuidedSamplerOutput, batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> Dict[str, Tensor]:
        """Weighted PointHMR losses (spec 3.2/3.3) from ``gt_instance_labels`` of the data samples.

        The point term is computed at the heatmap logits' resolution (see :meth:`loss_by_predictions`): the
        (B, N, 112*112) loss heatmap of :meth:`forward` is never built in training.
        """
        preds = self._regress(feats)
        preds['heatmap_logits'] = feats[3]
        return self.loss_by_predictions(preds, batch_data_samples)

    def loss_by_predictions(self, preds: Dict[str, Tensor], batch_data_samples: OptSampleList,
                            heatmap_loss_fn: Callable[..., Tensor] = heatmap_loss) -> Dict[str, Tensor]:
        """The losses of :meth:`loss` from predictions: :meth:`_regress`'s dict plus either ``heatmap_logits``
        (B, N, h, w) or ``heatmap`` (B, N, H*W), the up-sampled probabilities of :meth:`forward` (then
        ``heatmap_loss_fn(rows (K, H*W), targets (K,), bce_weight=...)`` computes the point term; the logits path gives
        the same value without building them)."""
        device = preds['camera'].device
        labels = {key: self._stack_labels(batch_data_samples, key, device)
                  for key in ('keypoints_2d', 'keypoints_3d', 'smpl_pose', 'smpl_betas', 'has_3d_joints', 'has_smpl')}
        has_smpl, has_3d = labels['has_smpl'].reshape(-1), labels['has_3d_joints'].reshape(-1)
        gt_joints_3d = labels['keypoints_3d'][:, J24_TO_J14]
        gt_joints_2d = labels['keypoints_2d'][:, J24_TO_J14]
        weights = self.loss_weights
        camera = preds['camera']
        joints_from_mesh = self.body_model.h36m_joints(preds['vertices'])[:, H36M_TO_J14]

        losses = dict()
        losses['loss_joints_3d'] = weights['joints_3d'] * keypoint_3d_loss(preds['joints'], gt_joints_3d, has_3d)
        losses['loss_joints_3d_reg'] = weights['joints_3d_reg'] * keypoint_3d_loss(joints_from_mesh, gt_joints_3d,
                                                                                   has_3d)
        gt_431, gt_1723, gt_6890 = self.ground_truth_meshes(labels['smpl_pose'], labels['smpl_betas'])
        loss_vertices = (weights['vertices_431'] * vertex_loss(preds['vertices_431'], gt_431, has_smpl)
                         + weights['vertices_1723'] * vertex_loss(preds['vertices_1723'], gt_1723, has_smpl)
                         + weights['vertices_6890'] * vertex_loss(preds['vertices'], gt_6890, has_smpl))
        losses['loss_vertices'] = weights['vertices'] * loss_vertices
        losses['loss_joints_2d'] = weights['joints_2d'] * keypoint_2d_loss(
            weak_perspective_project(preds['joints'], camera), gt_joints_2d)
        losses['loss_joints_2d_reg'] = weights['joints_2d_reg'] * keypoint_2d_loss(
            weak_perspective_project(joints_from_mesh, camera), gt_joints_2d)

        # point supervision: GT coarse mesh projected with the predicted (detached) or fitted camera, SMPL samples only
        keep = has_smpl > 0.5
        points = weak_perspective_project(gt_431[keep], self._point_camera(camera, gt_6890, gt_joints_2d)[keep])
        target_index, valid = heatmap_point_targets(points, self.heatmap_size)
        kept_rows, vertex_index = valid.nonzero(as_tuple=True)
        sample_index = keep.nonzero(as_tuple=True)[0][kept_rows]
        target_index = target_index[kept_rows, vertex_index]
        if 'heatmap_logits' in preds:
            probs, cells, replication = self.low_resolution_heatmap(
                preds['heatmap_logits'][sample_index, vertex_index], target_index)
            point_loss = heatmap_loss(probs, cells, bce_weight=weights['heatmap_bce'], replication=replication)
        else:
            point_loss = heatmap_loss_fn(preds['heatmap'][sample_index, vertex_index], target_index,
                                         bce_weight=weights['heatmap_bce'])
        losses['loss_heatmap'] = weights['heatmap'] * point_loss
        return losses

    def low_resolution_heatmap(self, logits: Tensor, target_index: Tensor) -> Tuple[Tensor, Tensor, int]:
        """(K, h, w) logits and (K,) flat cells of the ``heatmap_size`` map -> ((K, h*w) probabilities of one cell of
        the up-sampled map, (K,) logit cells holding the targets, cells of the up-sampled map per logit): the inputs
        of :func:`heatmap_loss` with ``replication`` that equal the loss on :meth:`loss_heatmap`'s maps."""
        height, width = logits.shape[-2:]
        out_w = self.heatmap_size[0]
        factor_h, factor_w = self._heatmap_factors(height, width)
        replication = factor_h * factor_w
        probs = logits.flatten(1).float().softmax(dim=-1) / replication  # float32 under autocast too (log(1 - p))
        cells = torch.div(target_index, out_w * factor_h, rounding_mode='floor') * width + torch.div(
            target_index % out_w, factor_w, rounding_mode='floor')
        return probs, cells, replication

    def _point_camera(self, camera: Tensor, gt_vertices: Tensor, gt_joints_2d: Tensor) -> Tensor:
        """(B, 3) camera for the heatmap targets (``heatmap_camera``), without gradient."""
        camera = camera.detach()
        if self.heatmap_camera == 'predicted':
            return camera
        joints = self.body_model.h36m_joints(gt_vertices)[:, H36M_TO_J14]  # the GT mesh's frame (pelvis-centred)
        fitted, valid = fit_weak_perspective_camera(joints, gt_joints_2d[..., :2], gt_joints_2d[..., 2])
        return torch.where(valid[:, None], fitted, camera)

    # ------------------------------------------------------------------ inference
    def predict(self, feats: PointGuidedSamplerOutput, batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> List[InstanceData]:
        """One InstanceData per sample (numpy): ``keypoints`` (1, 17, 2) H36M joints of the mesh projected with the
        predicted camera in **crop pixels**, ``keypoint_scores`` (1, 17), ``keypoints_3d`` (1, 17, 3) and ``vertices``
        (1, 6890, 3) centred at the regressed pelvis, ``joints_14`` (1, 14, 3) joint tokens as regressed, ``camera``
        (1, 3)."""
        preds = self._regress(feats)
        vertices, camera = preds['vertices'].float(), preds['camera'].float()  # float32 results under autocast too
        h36m = self.body_model.h36m_joints(vertices)
        pelvis = h36m[:, H36M_PELVIS:H36M_PELVIS + 1]
        projected = weak_perspective_project(h36m, camera)
        if self.decoder is not None:
            keypoints, _ = self.decoder.decode(projected)
        else:
            keypoints = to_numpy(projected)
        keypoints_3d, vertices_c = to_numpy(h36m - pelvis, np.float32), to_numpy(vertices - pelvis, np.float32)
        joints_14, camera_np = to_numpy(preds['joints'], np.float32), to_numpy(camera, np.float32)
        results = []
        for i in range(camera.shape[0]):
            results.append(InstanceData(
                keypoints=keypoints[i:i + 1].astype(np.float32),
                keypoint_scores=np.ones((1, keypoints.shape[1]), dtype=np.float32),
                keypoints_3d=keypoints_3d[i:i + 1], joints_14=joints_14[i:i + 1], vertices=vertices_c[i:i + 1],
                camera=camera_np[i:i + 1]))
        return results
