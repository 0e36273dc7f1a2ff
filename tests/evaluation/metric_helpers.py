"""Helpers for the metric tests: a tiny linear stand-in body model and packed data-sample builders."""
from typing import Optional

import numpy as np
import torch
from torch import nn

from pointhmr.body.joints import J24_FROM_H36M
from pointhmr.body.mesh_model import SMPLMeshInterface


class LinearBodyModel(SMPLMeshInterface, nn.Module):
    """Small deterministic body model with the SMPLBodyModel interface (linear in pose and betas, 60 vertices)."""

    def __init__(self, num_vertices: int = 60, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.num_vertices = num_vertices
        self.register_buffer('template', torch.tensor(rng.normal(0, 0.3, (num_vertices, 3)), dtype=torch.float64))
        for name, rows in (('pose_dirs', 72), ('beta_dirs', 10)):
            self.register_buffer(name, torch.tensor(rng.normal(0, 0.05, (rows, num_vertices * 3)), dtype=torch.float64))
        weights = rng.uniform(0, 1, (17, num_vertices)) * (rng.uniform(0, 1, (17, num_vertices)) < 0.2)
        weights[:, 0] += 1e-3
        self.register_buffer('regressor', torch.tensor(weights / weights.sum(1, keepdims=True), dtype=torch.float64))
        #: a strip of triangles over consecutive vertices (the surface metrics need faces)
        self.faces = np.stack([np.arange(num_vertices - 2) + k for k in range(3)], axis=1)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        offsets = pose.to(self.template) @ self.pose_dirs + betas.to(self.template) @ self.beta_dirs
        return self.template + offsets.view(-1, self.num_vertices, 3)

    def h36m_joints(self, vertices: torch.Tensor) -> torch.Tensor:
        return torch.einsum('jv,bvc->bjc', self.regressor, vertices.to(self.regressor))

    def center(self, vertices: torch.Tensor) -> torch.Tensor:
        return vertices.to(self.regressor) - self.h36m_joints(vertices)[:, :1]  # minus the pelvis (H36M joint 0)


def j24_from_h36m(h36m: np.ndarray, translation: Optional[np.ndarray] = None) -> np.ndarray:
    """(17, 3) H36M joints -> (24, 4) J24 label (confidence 1 where an H36M joint exists), optionally translated."""
    label = np.zeros((24, 4))
    for slot, joint in J24_FROM_H36M.items():
        label[slot, :3] = h36m[joint]
        label[slot, 3] = 1.0
    if translation is not None:
        label[:, :3] += translation
    return label


def packed_sample(pred_vertices: np.ndarray,
                  keypoints_3d: np.ndarray,
                  pose: np.ndarray,
                  betas: np.ndarray,
                  has_3d: float = 1.0,
                  has_smpl: float = 1.0) -> dict:
    """A data sample as mmengine's Evaluator hands it to metrics (``PoseDataSample.to_dict()``)."""
    return dict(pred_instances=dict(vertices=np.asarray(pred_vertices, dtype=np.float32)[None]),
                gt_instance_labels=dict(keypoints_3d=torch.tensor(keypoints_3d, dtype=torch.float32)[None],
                                        smpl_pose=torch.tensor(pose, dtype=torch.float32)[None],
                                        smpl_betas=torch.tensor(betas, dtype=torch.float32)[None],
                                        has_3d_joints=torch.tensor([has_3d]),
                                        has_smpl=torch.tensor([has_smpl])))
