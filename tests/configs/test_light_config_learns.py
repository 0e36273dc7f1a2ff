"""Fast check that the quick start's light config learns (60 Adam steps on two synthetic images, in-process): its
losses fall, the predicted mesh moves towards the ground truth and stays a whole surface. Whether the surface comes
out whole is a matter of hundreds of steps: the quick start measures it (README, "Known limitations")."""
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpose.registry import DATASETS, MODELS

from pointhmr.evaluation.surface_quality import surface_errors
from pointhmr.utils import load_model_config  # noqa: F401  (registers pointhmr's modules)

SYNTHETIC = Path(
    __file__).resolve().parents[2] / 'configs' / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-800it_synthetic-224.py'

STEPS = 60
IMAGES = 2


def _mesh_errors(model, batch) -> dict:
    """Mean vertex error (m) and surface figures of the predicted meshes of ``batch`` against their ground truth."""
    model.eval()
    with torch.no_grad():
        predictions = model(**batch, mode='predict')
    model.train()
    head = model.head
    pred = np.stack([p.pred_instances.vertices[0] for p in predictions]).astype(np.float64)
    labels = [p.gt_instance_labels for p in predictions]
    pose = torch.stack([torch.as_tensor(label.smpl_pose).reshape(-1) for label in labels]).float()
    betas = torch.stack([torch.as_tensor(label.smpl_betas).reshape(-1) for label in labels]).float()
    gt = head.ground_truth_meshes(pose, betas)[-1].double().numpy()
    surface = surface_errors(pred, gt, head.body_model.faces)
    return dict(mpvpe=float(np.linalg.norm(pred - gt, axis=-1).mean()),
                edge_error=float(surface['edge_error'].mean()),
                normal_cos=float(surface['normal_cos'].mean()))


def test_light_config_learns_the_surface(tiny_synthetic_root):
    cfg = Config.fromfile(str(SYNTHETIC))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    dataset = DATASETS.build(
        dict(cfg.val_dataloader.dataset, data_root=str(tiny_synthetic_root) + '/', ann_file='train.yaml'))
    batch = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(IMAGES)]), False)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.optim_wrapper.optimizer.lr)
    before = _mesh_errors(model, batch)
    first = None
    for _ in range(STEPS):
        losses = model(**batch, mode='loss')
        total = sum(losses.values())
        first = first or {key: float(value) for key, value in losses.items()}
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    after = _mesh_errors(model, batch)
    last = {key: float(value) for key, value in model(**batch, mode='loss').items()}
    assert {'loss_edge_length', 'loss_normal', 'loss_laplacian'} <= set(first)
    # the config starts from the upright template (template_offsets): the image terms fall fast, the 3D terms and the
    # mesh error fall, and the surface stays a whole body (the template's NormalCos is ~0.8; random points give ~0)
    assert last['loss_joints_2d'] < 0.2 * first['loss_joints_2d'], (first, last)
    assert last['loss_heatmap'] < 0.5 * first['loss_heatmap'], (first, last)
    assert last['loss_joints_3d'] < 0.8 * first['loss_joints_3d'], (first, last)
    assert last['loss_vertices'] < first['loss_vertices'], (first, last)
    assert after['mpvpe'] < 0.95 * before['mpvpe'], (before, after)
    assert after['normal_cos'] > 0.5, (before, after)
