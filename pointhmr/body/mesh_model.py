"""The mesh-model interface shared by the head, losses, metric, visualizer and exporters, and its SMPL implementation.

A mesh model is an ``nn.Module`` registered in mmpose's ``MODELS`` (all arrays non-persistent buffers) with:

* ``num_vertices``, ``faces`` (F, 3) int64, ``sampler`` (:class:`~pointhmr.body.mesh_sampler.MeshSampler`);
* ``token_level``: sampler level of the transformer's vertex tokens; ``vertex_levels``: levels the head predicts /
  up-samples and the vertex loss compares, coarse -> fine (the last one is level 0, the full mesh);
* ``forward(pose, betas) -> (B, V, 3)`` metres, ``num_pose_params``, ``num_betas``;
* ``keypoints(vertices) -> (B, K, 3)``: the model's keypoint set (predicted ``keypoints`` / ``keypoints_3d``);
  ``root_keypoint``: index of the root in it; ``center(vertices)``: vertices minus that root keypoint;
* ``joint_indices``: keypoints -> the joint set of the joint tokens and of the metric (``num_joints`` entries);
  ``label_joint_indices``: dataset label joints -> that set; ``label_root_index``: the root of the label joints;
* ``joint_center_indices``: joints (of that set) whose mean is the origin of the 3D joint loss and of MPJPE;
* ``num_label_joints`` and ``label_from_keypoints`` (label slot -> keypoint): how dataset labels are filled from the
  model's keypoints (the synthetic dataset generators);
* ``model_type``: ``'smpl'`` / ``'mano'`` for exports.

:class:`SMPLMeshInterface` implements the generic names for SMPL-format bodies on top of ``h36m_joints`` (H36M-17
keypoints, J14 joints, J24 labels, mid-hip alignment); :class:`~pointhmr.body.smpl_layer.SMPLBodyModel` uses it.
"""
from typing import Dict, Tuple

import torch
from torch import nn

from .joints import H36M_PELVIS, H36M_TO_J14, J14_L_HIP, J14_R_HIP, J24_FROM_H36M, J24_PELVIS, J24_TO_J14, NUM_J24


class SMPLMeshInterface:
    """Generic mesh-model names for an SMPL-format body that provides ``h36m_joints(vertices)`` and ``sampler``."""

    #: exported mesh type
    model_type: str = 'smpl'
    #: pose parameters (24 joints x 3 axis-angle)
    num_pose_params: int = 72
    #: index of the root (pelvis) in :meth:`keypoints` (H36M-17)
    root_keypoint: int = H36M_PELVIS
    #: keypoints -> the joint set of the joint tokens and the metric (H36M-17 -> J14)
    joint_indices: Tuple[int, ...] = tuple(H36M_TO_J14)
    #: dataset label joints -> that joint set (J24 -> J14)
    label_joint_indices: Tuple[int, ...] = tuple(J24_TO_J14)
    #: root of the dataset label joints (J24 pelvis)
    label_root_index: int = J24_PELVIS
    #: joints of the J14 set whose mean is the origin of the 3D joint loss and of MPJPE: the mid-hip
    joint_center_indices: Tuple[int, ...] = (J14_R_HIP, J14_L_HIP)
    #: label joints per sample (J24) and which keypoint (H36M-17) fills each J24 slot (others: confidence 0)
    num_label_joints: int = NUM_J24
    label_from_keypoints: Dict[int, int] = J24_FROM_H36M
    #: sampler level of the vertex tokens (431 vertices)
    token_level: int = 2
    #: sampler levels predicted / compared by the head, coarse -> fine (431, 1723, 6890)
    vertex_levels: Tuple[int, ...] = (2, 1, 0)

    @property
    def num_joints(self) -> int:
        """Joint tokens / evaluated joints (14)."""
        return len(self.joint_indices)

    def keypoints(self, vertices: torch.Tensor) -> torch.Tensor:
        """The keypoint set: H36M-17 joints ``(B, 17, 3)`` regressed from vertices ``(B, V, 3)``."""
        return self.h36m_joints(vertices)

    def center(self, vertices: torch.Tensor) -> torch.Tensor:
        """Vertices ``(B, V, 3)`` minus their regressed root keypoint (the frame of the head's targets and metric)."""
        return vertices - self.keypoints(vertices)[:, self.root_keypoint:self.root_keypoint + 1]


def level_sizes(mesh_model: nn.Module) -> Tuple[int, ...]:
    """Vertex counts of the mesh model's ``vertex_levels`` (coarse -> fine), e.g. (431, 1723, 6890)."""
    return tuple(int(mesh_model.sampler.num_vertices[level]) for level in mesh_model.vertex_levels)
