"""Hand-built data samples for the model tests: random SMPL-style labels (J24 2D / 3D joints, pose, betas)."""
import torch
from mmengine.structures import InstanceData


def random_labels(seed: int, has_smpl: float = 1.) -> InstanceData:
    """``gt_instance_labels`` of one sample: J24 2D joints in [-1, 1] and 3D joints (confidence 1), pose ~ N(0, 0.1),
    betas ~ N(0, 1), all flags 1 except ``has_smpl``."""
    generator = torch.Generator().manual_seed(seed)
    keypoints_2d = torch.rand(1, 24, 2, generator=generator) * 2 - 1
    keypoints_3d = 0.2 * torch.randn(1, 24, 3, generator=generator)
    confidence = torch.ones(1, 24, 1)
    return InstanceData(keypoints_2d=torch.cat([keypoints_2d, confidence], -1),
                        keypoints_3d=torch.cat([keypoints_3d, confidence], -1),
                        smpl_pose=0.1 * torch.randn(1, 72, generator=generator),
                        smpl_betas=torch.randn(1, 10, generator=generator),
                        has_2d_joints=torch.ones(1),
                        has_3d_joints=torch.ones(1),
                        has_smpl=torch.full((1, ), has_smpl))
