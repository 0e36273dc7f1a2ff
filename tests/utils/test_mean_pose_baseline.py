import numpy as np
import pytest
import torch

from pointhmr.body.joints import J24_FROM_H36M
from pointhmr.body.mesh_model import SMPLMeshInterface
from pointhmr.evaluation.mesh_metric import center_at_mid_hip, gt_joints_14
from pointhmr.evaluation.procrustes import reconstruction_error
from pointhmr.utils import format_baseline_comparison, mean_pose_baseline


class ListDataset:
    """Stand-in exposing MeshTSVDataset's raw items (get_data_info)."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def get_data_info(self, index):
        return self.items[index]


class ScaledTemplateBody(SMPLMeshInterface, torch.nn.Module):
    """Body whose mesh is a template scaled by (1 + betas[0]); the 17 joints are the first 17 vertices."""

    def __init__(self):
        super().__init__()
        self.register_buffer('template', torch.tensor(np.random.default_rng(0).normal(size=(40, 3)),
                                                      dtype=torch.float32))

    def forward(self, pose, betas):
        return self.template[None] * (1 + betas[:, :1, None])

    def h36m_joints(self, vertices):
        return vertices[:, :17]

    def center(self, vertices):
        return vertices - vertices[:, :1]


def make_items(rng, count, has_3d=1.0, scale_betas=None):
    items = []
    for i in range(count):
        joints = np.zeros((1, 24, 4))
        h36m = rng.normal(size=(17, 3))
        for slot, joint in J24_FROM_H36M.items():
            joints[0, slot, :3], joints[0, slot, 3] = h36m[joint] + 5.0, 1.0
        betas = np.zeros(10)
        betas[0] = 0.0 if scale_betas is None else scale_betas[i]
        items.append(
            dict(keypoints_3d=joints,
                 has_3d_joints=np.float32(has_3d),
                 smpl_pose=np.zeros(72),
                 smpl_betas=betas,
                 has_smpl=np.float32(1.0)))
    return items


def test_baseline_predicts_the_training_mean():
    rng = np.random.default_rng(0)
    train = make_items(rng, 7, scale_betas=np.linspace(-0.2, 0.2, 7))  # mean scale 1
    test = make_items(rng, 3, scale_betas=[0.5, 0.5, 0.5])
    result = mean_pose_baseline(ListDataset(train), ListDataset(test), body_model=ScaledTemplateBody())
    mean = center_at_mid_hip(gt_joints_14(np.concatenate([t['keypoints_3d'] for t in train]))).mean(0)
    gt = center_at_mid_hip(gt_joints_14(np.concatenate([t['keypoints_3d'] for t in test])))
    assert result['MPJPE'] == pytest.approx(1000 * np.linalg.norm(gt - mean, axis=-1).mean())
    assert result['PA-MPJPE'] == pytest.approx(1000 * reconstruction_error(np.broadcast_to(mean, gt.shape), gt).mean())
    # meshes: the mean template (scale 1) vs the 1.5x template, both centred at vertex 0
    template = ScaledTemplateBody().template.double().numpy()
    centred = template - template[0]
    assert result['MPVPE'] == pytest.approx(1000 * 0.5 * np.linalg.norm(centred, axis=1).mean(), rel=1e-5)
    assert result['PA-MPVPE'] == pytest.approx(0.0, abs=1e-2)


def test_baseline_fscores_of_the_mean_mesh():
    rng = np.random.default_rng(0)
    train = make_items(rng, 4, scale_betas=np.zeros(4))
    same_shape = make_items(rng, 2, scale_betas=[0.5, 0.5])  # the mean mesh up to scale: perfect after alignment
    result = mean_pose_baseline(ListDataset(train),
                                ListDataset(same_shape),
                                body_model=ScaledTemplateBody(),
                                fscore_thresholds_mm=(5, 15))
    assert result['F@5mm'] == pytest.approx(1.0) and result['F@15mm'] == pytest.approx(1.0)
    without = mean_pose_baseline(ListDataset(train), ListDataset(same_shape), body_model=ScaledTemplateBody())
    assert 'F@5mm' not in without


def test_baseline_without_body_model_and_without_3d_labels():
    rng = np.random.default_rng(1)
    result = mean_pose_baseline(ListDataset(make_items(rng, 4)), ListDataset(make_items(rng, 2)))
    assert set(result) == {'MPJPE', 'PA-MPJPE'}
    with pytest.raises(ValueError, match='3D joints'):
        mean_pose_baseline(ListDataset(make_items(rng, 4, has_3d=0.0)), ListDataset(make_items(rng, 2)))
    table = format_baseline_comparison({'mesh/PA-MPJPE': 12.5}, result)
    assert 'PA-MPJPE' in table and '12.50' in table and f'{result["MPJPE"]:.2f}' in table


def test_baseline_surface_figures_of_the_mean_mesh():
    rng = np.random.default_rng(0)
    body = ScaledTemplateBody()
    body.faces = np.stack([np.arange(38) + k for k in range(3)], axis=1)
    train = make_items(rng, 4, scale_betas=np.zeros(4))
    test = make_items(rng, 2, scale_betas=[0.5, 0.5])  # every edge 1.5x as long as the mean mesh's: error 1/3
    result = mean_pose_baseline(ListDataset(train), ListDataset(test), body_model=body, surface_metrics=True)
    assert result['EdgeErr%'] == pytest.approx(100 / 3, rel=1e-5)
    assert result['NormalCos'] == pytest.approx(1.0)  # scaling keeps every face's orientation
    table = format_baseline_comparison({'mesh/EdgeErr%': 10.0}, result)
    assert 'EdgeErr%' in table and '33.33' in table and 'NormalCos' in table
