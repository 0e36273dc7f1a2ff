"""PointHMR's head: token assembly, progressively masked transformer, fixed mesh up-sampling, losses and predictions."""
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from torch import Tensor, nn

from pointhmr.body import graph_hops
from pointhmr.body.mesh_geometry import mesh_edges
from pointhmr.body.mesh_model import level_sizes
from pointhmr.codecs import fit_weak_perspective_camera, weak_perspective_project
from pointhmr.utils.arrays import to_numpy
from ..layers import additive_attention_mask
from ..losses import (edge_length_loss, heatmap_loss, heatmap_point_targets, keypoint_2d_loss, keypoint_3d_loss,
                      laplacian_loss, normal_loss, vertex_loss)
from ..necks.point_guided_sampler import PointGuidedSamplerOutput
from .mesh_regressor import MeshRegressor

#: official loss weights (official behaviour §3.2):
#: total = 1000 (L3D + L3D_reg) + 100 L_vert + 100 (L2D + L2D_reg) + 10 L_heat,
#: L_vert = 0.33 (L431 + L1723 + L6890), L_heat = 1000 BCE + (1 - Dice). The per-level vertex weights are named after
#: the mesh model's level sizes (``vertices_<N>``: vertices_431/1723/6890 for SMPL, vertices_195/778 for MANO); every
#: level defaults to :data:`DEFAULT_LEVEL_WEIGHT`.
DEFAULT_LOSS_WEIGHTS: Dict[str, float] = dict(joints_3d=1000.,
                                              joints_3d_reg=1000.,
                                              vertices=100.,
                                              joints_2d=100.,
                                              joints_2d_reg=100.,
                                              heatmap=10.,
                                              heatmap_bce=1000.,
                                              edge_length=0.,
                                              normal=0.,
                                              laplacian=0.)
DEFAULT_LEVEL_WEIGHT = 0.33
#: surface regularisers (not in the official recipe, weight 0 there): loss key -> loss_weights key
SURFACE_LOSSES = dict(loss_edge_length='edge_length', loss_normal='normal', loss_laplacian='laplacian')

#: valid ``heatmap_camera`` values: which camera projects the ground-truth mesh onto the point-supervision heatmaps
HEATMAP_CAMERAS = ('predicted', 'ground_truth')


@MODELS.register_module()
class ProgressiveMaskTransformerHead(BaseHead):
    """Regress the camera, the joints and the coarse mesh from PointHMR tokens, then up-sample to the full mesh.

    Every mesh fact comes from the mesh model ``body_model`` (docs/architecture.md, "Mesh models"): for SMPL 14
    joints, 431 coarse vertices up-sampled 431 -> 1723 -> 6890 (495 tokens); for MANO 21 joints, 195 -> 778 (266).
    Tokens ``[camera, grid (49), joints (learned ``joint_token_embed``), vertices]`` are concatenated with a
    learned per-slot code ``token_position_embed`` and pass through 4 pre-LN stacks; vertex tokens of stack ``i`` may
    only attend to vertices within ``hops[i]`` hops on the coarse mesh graph (plus all non-vertex tokens). Vertices
    are up-sampled with the mesh model's fixed sparse matrices (batched).

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
        num_joints / num_vertices / num_grid_tokens: token counts (14 / 431 / 49 -> 495 tokens for SMPL); ``None``
            takes the joints / coarse vertices from the mesh model, a number must agree with it.
        hops: hop threshold of the vertex-vertex attention mask per stack, wide -> narrow; ``None`` (or a ``None``
            entry) disables masking (ablation).
        keep_unused_embeddings: create the official ``cam_token_embed`` (1, C) and ``vertex_token_embed`` (N, C) that
            the forward never uses, so the default model has exactly the official 59,086,504 parameters and loads
            official checkpoints strictly. Their gradients are always None: distributed training then needs
            ``find_unused_parameters=True`` (or set this to False; 58,865,320 parameters).
        heatmap_size: ``(w, h)`` of the loss heatmap, an integer multiple of the logits' size (112 = 2 x 56).
        body_model: config of the mesh model (``SMPLBodyModel``, ``MANOHandModel``).
        loss_weights: overrides of :data:`DEFAULT_LOSS_WEIGHTS` and of the per-level ``vertices_<N>`` weights.
        heatmap_camera: camera that places the point (heatmap) targets: ``'predicted'`` (official: the network's own
            camera, detached, so targets are only as good as the camera) or ``'ground_truth'`` (the least-squares
            weak-perspective camera mapping the ground-truth mesh's joints onto the 2D labels; samples whose labels
            cannot fix one fall back to the predicted camera). The light CPU config uses ``'ground_truth'``: with an
            untrained backbone its point targets are right from the first step.
        camera_init: None (official) or ``(s, tx, ty)``: the initial camera bias (:class:`MeshRegressor`); hand crops
            need s ~ 8, which the default init reaches only after many steps.
        template_offsets: False (official: joints and vertices regressed directly) or True: the outputs are offsets
            from the mesh model's centred zero-pose joints / token-level vertices turned by
            ``template_global_orient``, and the xyz regressor starts at zero, so training starts from that smooth mesh.
        template_global_orient: axis-angle global orientation of that template; the default (pi about x) turns the
            SMPL frame (y up, facing +z) into the camera frame of the labels (y down, facing the camera), so the
            template stands upright in the image as the people of the datasets do.
        embedding_init_std: None (official: PyTorch's N(0, 1) init) or the std of a normal init of the learned token
            codes (``joint_token_embed``, ``token_position_embed``). Vertex tokens are told apart only by their slot
            code; N(0, 1) codes barely move in a short Adam run (about ``lr`` per step), so each vertex keeps a random
            offset: small codes (0.02, timm's choice) start every vertex alike and let training shape them.
        surface_levels: mesh sampler levels of the surface losses (``loss_weights`` ``edge_length``, ``normal``,
            ``laplacian``; all 0 = official), each term summed over the levels: None = the token level (431 / 195
            vertices, the independently regressed points); e.g. ``(2, 0)`` for SMPL adds the full mesh.
        decoder: keypoint codec mapping normalised crop coordinates to crop pixels.
        init_cfg: mmengine init config (``None`` = PyTorch default init, as the official code).
    """

    def __init__(self,
                 in_channels: int = 512,
                 position_channels: int = 128,
                 reduced_channels: int = 128,
                 num_heads: int = 4,
                 feedforward_channels: Sequence[int] = (1024, 512),
                 num_layers=2,
                 dropout: float = 0.1,
                 num_joints: Optional[int] = None,
                 num_vertices: Optional[int] = None,
                 num_grid_tokens: int = 49,
                 hops: Optional[Sequence[Optional[int]]] = (7, 5, 3, 1),
                 keep_unused_embeddings: bool = True,
                 heatmap_size: Tuple[int, int] = (112, 112),
                 body_model: ConfigType = dict(type='SMPLBodyModel'),
                 loss_weights: Optional[Dict[str, float]] = None,
                 heatmap_camera: str = 'predicted',
                 camera_init: Optional[Sequence[float]] = None,
                 template_offsets: bool = False,
                 template_global_orient: Sequence[float] = (math.pi, 0., 0.),
                 embedding_init_std: Optional[float] = None,
                 surface_levels: Optional[Sequence[int]] = None,
                 decoder: OptConfigType = dict(type='WeakPerspectiveCodec', input_size=(224, 224)),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.body_model = body = self._build_body_model(body_model)
        model_joints = int(body.num_joints)
        model_vertices = int(body.sampler.num_vertices[body.token_level])
        for name, given, expected in (('num_joints', num_joints, model_joints), ('num_vertices', num_vertices,
                                                                                 model_vertices)):
            if given is not None and int(given) != expected:
                raise ValueError(f'ProgressiveMaskTransformerHead: {name}={given} but the mesh model '
                                 f'{type(body).__name__} has {expected}; leave {name}=None or use the matching model')
        self.in_channels = in_channels
        self.num_joints = model_joints
        self.num_vertices = model_vertices
        self.num_grid_tokens = num_grid_tokens
        self.num_prefix_tokens = 1 + num_grid_tokens + self.num_joints
        self.num_tokens = self.num_prefix_tokens + self.num_vertices
        self.heatmap_size = tuple(int(s) for s in heatmap_size)
        #: vertex counts of the predicted levels, coarse -> fine (431, 1723, 6890 for SMPL)
        self.level_sizes = level_sizes(body)
        defaults = {**DEFAULT_LOSS_WEIGHTS, **{f'vertices_{n}': DEFAULT_LEVEL_WEIGHT for n in self.level_sizes}}
        unknown = set(loss_weights or {}) - set(defaults)
        if unknown:
            raise ValueError(f'ProgressiveMaskTransformerHead: unknown loss_weights keys {sorted(unknown)}; '
                             f'valid keys are {sorted(defaults)}')
        self.loss_weights = {**defaults, **(loss_weights or {})}
        if heatmap_camera not in HEATMAP_CAMERAS:
            raise ValueError(f'ProgressiveMaskTransformerHead: heatmap_camera must be one of {HEATMAP_CAMERAS}, got '
                             f'{heatmap_camera!r}')
        self.heatmap_camera = heatmap_camera
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

        self.joint_token_embed = nn.Embedding(self.num_joints, in_channels)
        self.token_position_embed = nn.Embedding(self.num_tokens, position_channels)
        if embedding_init_std is not None:
            for embedding in (self.joint_token_embed, self.token_position_embed):
                nn.init.normal_(embedding.weight, std=float(embedding_init_std))
        if keep_unused_embeddings:
            self.cam_token_embed = nn.Embedding(1, in_channels)
            self.vertex_token_embed = nn.Embedding(self.num_vertices, in_channels)
        self.transformer = MeshRegressor(embed_dims=in_channels + position_channels,
                                         reduced_dims=reduced_channels,
                                         num_heads=num_heads,
                                         feedforward_channels=feedforward_channels,
                                         num_layers=num_layers,
                                         num_grid_tokens=num_grid_tokens,
                                         dropout=dropout,
                                         camera_init=camera_init)
        self.template_offsets = bool(template_offsets)
        if len(template_global_orient) != 3:
            raise ValueError('ProgressiveMaskTransformerHead: template_global_orient must be 3 axis-angle values, got '
                             f'{template_global_orient}')
        self.template_global_orient = tuple(float(value) for value in template_global_orient)
        if self.template_offsets:
            self.register_buffer('template_xyz', self._template_xyz(), persistent=False)
            # start exactly at the template: the default init's offsets (about 0.5 m per point) would crumple it
            nn.init.zeros_(self.transformer.xyz_regressor.weight)
            nn.init.zeros_(self.transformer.xyz_regressor.bias)

        self.hops = None if hops is None else tuple(hops)
        self._register_attention_masks(self.body_model.sampler)
        self._register_surface_topology((body.token_level, ) if surface_levels is None else tuple(surface_levels))

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

    @torch.no_grad()
    def _template_xyz(self) -> Tensor:
        """(J + N, 3): the mesh model's joints and token-level vertices at zero body pose and shape, turned by
        ``template_global_orient`` and centred as the ground truth (:meth:`ground_truth_meshes`), the origin of
        ``template_offsets`` predictions."""
        body = self.body_model
        pose = torch.zeros(1, body.num_pose_params)
        pose[0, :3] = torch.tensor(self.template_global_orient)
        vertices = body.center(body(pose, torch.zeros(1, body.num_betas)))
        joints = body.keypoints(vertices)[:, list(body.joint_indices)]
        coarse = body.sampler.downsample(vertices, 0, body.token_level)
        return torch.cat((joints, coarse), dim=1)[0].float()

    def _register_attention_masks(self, sampler) -> None:
        """One (L, L) bool mask per stack (True = blocked), as non-persistent buffers ``attention_mask_{1..4}``, and
        its additive float form (0 / -inf, what the transformer uses) as ``attention_bias_{1..4}``, built once."""
        hops = self.hops if self.hops is not None else (None, ) * 4
        if len(hops) != 4:
            raise ValueError(f'ProgressiveMaskTransformerHead: hops needs one entry per stack (4), got {hops}')
        adjacency = sampler.adjacency(self.body_model.token_level)
        if adjacency.shape != (self.num_vertices, self.num_vertices):
            raise ValueError(f'ProgressiveMaskTransformerHead: coarse adjacency has shape {adjacency.shape}, expected '
                             f'({self.num_vertices}, {self.num_vertices}); check num_vertices / the body model')
        for index, hop in enumerate(hops, start=1):
            mask = None
            if hop is not None:
                reach = graph_hops.hop_reachability(adjacency, int(hop))
                mask = torch.as_tensor(graph_hops.attention_mask(reach, num_prefix_tokens=self.num_prefix_tokens),
                                       dtype=torch.bool)
            self.register_buffer(f'attention_mask_{index}', mask, persistent=False)
            self.register_buffer(f'attention_bias_{index}', additive_attention_mask(mask), persistent=False)

    def _register_surface_topology(self, levels: Tuple[int, ...]) -> None:
        """Faces (without degenerate ones) and unique edges of each surface-loss mesh level, as non-persistent buffers
        ``surface_faces_<N>`` / ``surface_edges_<N>`` (N vertices)."""
        sampler, predicted = self.body_model.sampler, tuple(self.body_model.vertex_levels)
        if not levels or any(level not in predicted for level in levels) or len(set(levels)) != len(levels):
            raise ValueError(f'ProgressiveMaskTransformerHead: surface_levels={levels} must be distinct predicted mesh '
                             f'levels {predicted} of {type(self.body_model).__name__}')
        self.surface_levels = tuple(int(level) for level in levels)
        for level in self.surface_levels:
            faces = sampler.faces(level)
            faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
            size = sampler.num_vertices[level]
            self.register_buffer(f'surface_faces_{size}', torch.as_tensor(faces, dtype=torch.long), persistent=False)
            self.register_buffer(f'surface_edges_{size}',
                                 torch.as_tensor(mesh_edges(faces), dtype=torch.long),
                                 persistent=False)

    @property
    def attention_masks(self) -> List[Optional[Tensor]]:
        return [getattr(self, f'attention_mask_{i}') for i in range(1, 5)]

    @property
    def attention_biases(self) -> List[Optional[Tensor]]:
        """The masks as additive float masks (0 = allowed, -inf = blocked), in the model's dtype."""
        return [getattr(self, f'attention_bias_{i}') for i in range(1, 5)]

    # ------------------------------------------------------------------ forward
    def upsample_vertices(self, vertices: Tensor) -> Tuple[Tensor, ...]:
        """Coarse (token-level) vertices -> the finer ``vertex_levels`` in order, e.g. (B, 431, 3) -> ((B, 1723, 3),
        (B, 6890, 3)) for SMPL, with the mesh sampler's fixed sparse matrices (one batched matmul per level)."""
        body = self.body_model
        outputs, current, level = [], vertices, body.token_level
        for finer in body.vertex_levels[1:]:
            current = body.sampler.upsample(current, level, finer)
            outputs.append(current)
            level = finer
        return tuple(outputs)

    def _heatmap_factors(self, height: int, width: int) -> Tuple[int, int]:
        """Nearest up-sampling factors (rows, columns) from ``height x width`` logits to ``heatmap_size``."""
        out_w, out_h = self.heatmap_size
        if out_h % height or out_w % width:
            raise ValueError(f'heatmap_size {self.heatmap_size} must be an integer multiple of the logits size '
                             f'({width}, {height})')
        return out_h // height, out_w // width

    def loss_heatmap(self, heatmap_logits: Tensor) -> Tensor:
        """(B, N, h, w) logits -> (B, N, H*W): softmax over their nearest up-sampling to ``heatmap_size``
        (official behaviour §1.5).

        Computed exactly without the large softmax: every logit is copied ``f_h * f_w`` times, so each copy holds the
        low-resolution softmax divided by ``f_h * f_w`` (one expand + copy instead of interpolate + softmax).
        """
        batch, channels, height, width = heatmap_logits.shape
        out_w, out_h = self.heatmap_size
        factor_h, factor_w = self._heatmap_factors(height, width)
        probs = heatmap_logits.flatten(2).softmax(dim=-1) / (factor_h * factor_w)
        probs = probs.view(batch, channels, height, 1, width, 1)
        return probs.expand(-1, -1, -1, factor_h, -1, factor_w).reshape(batch, channels, out_h * out_w)

    def points_from_regressed(self, xyz: Tensor) -> Tensor:
        """The transformer's (B, J + N, 3) regressed points -> joints and coarse vertices: themselves, or offsets added
        to the template with ``template_offsets`` (shared by :meth:`_regress` and the ONNX export model)."""
        return xyz + self.template_xyz.to(xyz.dtype) if self.template_offsets else xyz

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
        xyz = self.points_from_regressed(xyz)
        joints, vertices_coarse = xyz[:, :self.num_joints], xyz[:, self.num_joints:]
        levels = (vertices_coarse, ) + self.upsample_vertices(vertices_coarse)
        outputs = dict(camera=camera, joints=joints)
        for size, level_vertices in zip(self.level_sizes[:-1], levels[:-1]):
            outputs[f'vertices_{size}'] = level_vertices
        outputs['vertices'] = levels[-1]
        return outputs

    def forward(self, feats: PointGuidedSamplerOutput) -> Dict[str, Tensor]:
        """Neck output -> dict(camera (B, 3), joints (B, J, 3), ``vertices_<N>`` per coarser level, vertices (B, V, 3),
        heatmap (B, N, 112*112)); for SMPL joints (B, 14, 3), vertices_431, vertices_1723, vertices (B, 6890, 3)."""
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
    def ground_truth_meshes(self, pose: Tensor, betas: Tensor) -> Tuple[Tensor, ...]:
        """Mesh model (pose, betas) centred at its root keypoint -> one mesh per ``vertex_levels`` entry, coarse ->
        fine ((431, 1723, 6890)-vertex meshes for SMPL, centred at the H36M-regressed pelvis; official behaviour
        §3.1)."""
        body = self.body_model
        vertices = body.center(body(pose, betas))
        return tuple(vertices if level == 0 else body.sampler.downsample(vertices, 0, level)
                     for level in body.vertex_levels)

    def loss(self,
             feats: PointGuidedSamplerOutput,
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> Dict[str, Tensor]:
        """Weighted PointHMR losses (official behaviour §3.2/3.3) from ``gt_instance_labels`` of the data samples.

        The point term is computed at the heatmap logits' resolution (see :meth:`loss_by_predictions`): the
        (B, N, 112*112) loss heatmap of :meth:`forward` is never built in training.
        """
        preds = self._regress(feats)
        preds['heatmap_logits'] = feats.heatmap_logits
        return self.loss_by_predictions(preds, batch_data_samples)

    def loss_by_predictions(self,
                            preds: Dict[str, Tensor],
                            batch_data_samples: OptSampleList,
                            heatmap_loss_fn: Callable[..., Tensor] = heatmap_loss) -> Dict[str, Tensor]:
        """The losses of :meth:`loss` from predictions: :meth:`_regress`'s dict plus either ``heatmap_logits``
        (B, N, h, w) or ``heatmap`` (B, N, H*W), the up-sampled probabilities of :meth:`forward` (then
        ``heatmap_loss_fn(rows (K, H*W), targets (K,), bce_weight=...)`` computes the point term; the logits path gives
        the same value without building them)."""
        device = preds['camera'].device
        labels = {
            key: self._stack_labels(batch_data_samples, key, device)
            for key in ('keypoints_2d', 'keypoints_3d', 'smpl_pose', 'smpl_betas', 'has_3d_joints', 'has_smpl')
        }
        has_smpl, has_3d = labels['has_smpl'].reshape(-1), labels['has_3d_joints'].reshape(-1)
        body = self.body_model
        label_joints = list(body.label_joint_indices)
        gt_joints_3d = labels['keypoints_3d'][:, label_joints]
        gt_joints_2d = labels['keypoints_2d'][:, label_joints]
        weights = self.loss_weights
        camera = preds['camera']
        joints_from_mesh = body.keypoints(preds['vertices'])[:, list(body.joint_indices)]
        center = tuple(body.joint_center_indices)

        losses = dict()
        losses['loss_joints_3d'] = weights['joints_3d'] * keypoint_3d_loss(preds['joints'], gt_joints_3d, has_3d,
                                                                           center)
        losses['loss_joints_3d_reg'] = weights['joints_3d_reg'] * keypoint_3d_loss(joints_from_mesh, gt_joints_3d,
                                                                                   has_3d, center)
        gt_meshes = self.ground_truth_meshes(labels['smpl_pose'], labels['smpl_betas'])
        pred_meshes = [preds[f'vertices_{size}'] for size in self.level_sizes[:-1]] + [preds['vertices']]
        loss_vertices = None
        for size, pred_mesh, gt_mesh in zip(self.level_sizes, pred_meshes, gt_meshes):
            term = weights[f'vertices_{size}'] * vertex_loss(pred_mesh, gt_mesh, has_smpl)
            loss_vertices = term if loss_vertices is None else loss_vertices + term
        losses['loss_vertices'] = weights['vertices'] * loss_vertices
        losses.update(self._surface_losses(pred_meshes, gt_meshes, has_smpl))
        losses['loss_joints_2d'] = weights['joints_2d'] * keypoint_2d_loss(
            weak_perspective_project(preds['joints'], camera), gt_joints_2d)
        losses['loss_joints_2d_reg'] = weights['joints_2d_reg'] * keypoint_2d_loss(
            weak_perspective_project(joints_from_mesh, camera), gt_joints_2d)

        # point supervision: GT coarse mesh projected with the predicted (detached) or fitted camera, SMPL samples only
        keep = has_smpl > 0.5
        points = weak_perspective_project(gt_meshes[0][keep],
                                          self._point_camera(camera, gt_meshes[-1], gt_joints_2d)[keep])
        target_index, valid = heatmap_point_targets(points, self.heatmap_size)
        kept_rows, vertex_index = valid.nonzero(as_tuple=True)
        sample_index = keep.nonzero(as_tuple=True)[0][kept_rows]
        target_index = target_index[kept_rows, vertex_index]
        if 'heatmap_logits' in preds:
            probs, cells, replication = self.low_resolution_heatmap(preds['heatmap_logits'][sample_index, vertex_index],
                                                                    target_index)
            point_loss = heatmap_loss(probs, cells, bce_weight=weights['heatmap_bce'], replication=replication)
        else:
            point_loss = heatmap_loss_fn(preds['heatmap'][sample_index, vertex_index],
                                         target_index,
                                         bce_weight=weights['heatmap_bce'])
        losses['loss_heatmap'] = weights['heatmap'] * point_loss
        return losses

    def _surface_losses(self, pred_meshes: Sequence[Tensor], gt_meshes: Sequence[Tensor],
                        has_smpl: Tensor) -> Dict[str, Tensor]:
        """The surface regularisers with a non-zero weight, summed over ``surface_levels`` (none by default)."""
        weights = self.loss_weights
        active = {key: name for key, name in SURFACE_LOSSES.items() if weights[name] != 0}
        losses: Dict[str, Tensor] = {}
        for level in self.surface_levels if active else ():
            index = list(self.body_model.vertex_levels).index(level)
            pred, target = pred_meshes[index].float(), gt_meshes[index].float()  # float32 under autocast too
            size = pred.shape[1]
            faces, edges = getattr(self, f'surface_faces_{size}'), getattr(self, f'surface_edges_{size}')
            terms = dict(loss_edge_length=lambda: edge_length_loss(pred, target, edges, has_smpl),
                         loss_normal=lambda: normal_loss(pred, target, faces, has_smpl),
                         loss_laplacian=lambda: laplacian_loss(pred, target, edges, has_smpl))
            for key, name in active.items():
                term = weights[name] * terms[key]()
                losses[key] = term if key not in losses else losses[key] + term
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
        body = self.body_model
        joints = body.keypoints(gt_vertices)[:, list(body.joint_indices)]  # the GT mesh's (root-centred) frame
        fitted, valid = fit_weak_perspective_camera(joints, gt_joints_2d[..., :2], gt_joints_2d[..., 2])
        return torch.where(valid[:, None], fitted, camera)

    # ------------------------------------------------------------------ inference
    def predict(self,
                feats: PointGuidedSamplerOutput,
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> List[InstanceData]:
        """One InstanceData per sample (numpy): ``keypoints`` (1, K, 2) keypoints of the mesh (the mesh model's
        ``keypoints``: H36M-17 for SMPL, 21 hand joints for MANO) projected with the predicted camera in **crop
        pixels**, ``keypoint_scores`` (1, K), ``keypoints_3d`` (1, K, 3) and ``vertices`` (1, V, 3) centred at the
        root keypoint, ``joints_14`` (1, J, 3) joint tokens as regressed (J = 14 for SMPL, 21 for MANO; the name is
        kept for compatibility), ``camera`` (1, 3)."""
        preds = self._regress(feats)
        vertices, camera = preds['vertices'].float(), preds['camera'].float()  # float32 results under autocast too
        body = self.body_model
        h36m = body.keypoints(vertices)
        pelvis = h36m[:, body.root_keypoint:body.root_keypoint + 1]
        projected = weak_perspective_project(h36m, camera)
        if self.decoder is not None:
            keypoints, _ = self.decoder.decode(projected)
        else:
            keypoints = to_numpy(projected)
        keypoints_3d, vertices_c = to_numpy(h36m - pelvis, np.float32), to_numpy(vertices - pelvis, np.float32)
        joints_14, camera_np = to_numpy(preds['joints'], np.float32), to_numpy(camera, np.float32)
        results = []
        for i in range(camera.shape[0]):
            results.append(
                InstanceData(keypoints=keypoints[i:i + 1].astype(np.float32),
                             keypoint_scores=np.ones((1, keypoints.shape[1]), dtype=np.float32),
                             keypoints_3d=keypoints_3d[i:i + 1],
                             joints_14=joints_14[i:i + 1],
                             vertices=vertices_c[i:i + 1],
                             camera=camera_np[i:i + 1]))
        return results
