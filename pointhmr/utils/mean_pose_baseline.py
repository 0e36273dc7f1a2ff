"""Mean-pose baseline: the errors of predicting the training set's mean joints / mesh for every test sample.

A model that learned anything must beat it; ``MeanPoseBaselineHook`` (pointhmr.engine.hooks) logs "model vs baseline"
after training in configs that list it in ``custom_hooks`` (the synthetic CPU config).
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmpose.registry import DATASETS, MODELS
from torch import nn

from pointhmr.body.mesh_model import SMPLMeshInterface
from pointhmr.evaluation.mesh_metric import aligned_fscores, center_joints, joint_errors, label_joints, vertex_errors
from pointhmr.evaluation.surface_quality import surface_errors

DatasetLike = Union[BaseDataset, dict]


def _labels(dataset: DatasetLike, max_samples: Optional[int]) -> Dict[str, np.ndarray]:
    """Stack the raw 3D labels of a dataset (``get_data_info``, no pipeline)."""
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dict(dataset, pipeline=[]))
    count = len(dataset) if max_samples is None else min(len(dataset), max_samples)
    if count == 0:
        raise ValueError(f'mean_pose_baseline: dataset {dataset!r} is empty')
    items = [dataset.get_data_info(i) for i in range(count)]

    def stacked(key: str) -> np.ndarray:
        if key not in items[0]:
            raise KeyError(f'mean_pose_baseline: dataset items have no {key!r}; expected MeshTSVDataset-style items')
        return np.stack([np.asarray(item[key], dtype=np.float64) for item in items])

    keypoints_3d = stacked('keypoints_3d')
    return dict(keypoints_3d=keypoints_3d.reshape(count, keypoints_3d.shape[-2], -1),
                has_3d=stacked('has_3d_joints') > 0,
                pose=stacked('smpl_pose').reshape(count, -1),
                betas=stacked('smpl_betas').reshape(count, -1),
                has_smpl=stacked('has_smpl') > 0)


def _centred_meshes(body_model: nn.Module, pose: np.ndarray, betas: np.ndarray, chunk: int = 64) -> np.ndarray:
    meshes = []
    with torch.no_grad():
        for start in range(0, len(pose), chunk):
            vertices = body_model(torch.as_tensor(pose[start:start + chunk], dtype=torch.float32),
                                  torch.as_tensor(betas[start:start + chunk], dtype=torch.float32))
            meshes.append(body_model.center(vertices).double().numpy())
    return np.concatenate(meshes)


def mean_pose_baseline(train_dataset: DatasetLike,
                       test_dataset: DatasetLike,
                       body_model: Optional[Union[dict, nn.Module]] = None,
                       max_samples: Optional[int] = None,
                       fscore_thresholds_mm: Sequence[float] = (),
                       surface_metrics: bool = False) -> Dict[str, float]:
    """Errors (mm) of predicting the training mean for every test sample, with MeshMetric's protocol.

    Args:
        train_dataset / test_dataset: built datasets or dataset configs (MeshTSVDataset items: ``keypoints_3d``,
            ``has_3d_joints``, ``smpl_pose``, ``smpl_betas``, ``has_smpl``); the pipeline is not run.
        body_model: when given (config or module), also the mean root-centred GT mesh -> ``MPVPE`` / ``PA-MPVPE``;
            its joint sets are used for the joints (None = SMPL's: J24 labels, J14 joints, mid-hip alignment).
        max_samples: use at most this many items of each split.
        fscore_thresholds_mm: also ``F@<t>mm`` of the mean mesh (Procrustes-aligned, as :class:`MeshMetric`).
        surface_metrics: also ``EdgeErr%`` and ``NormalCos`` of the mean mesh (as :class:`MeshMetric`).

    Returns:
        ``MPJPE`` and ``PA-MPJPE`` (the mean of the root-aligned training joints: J14 mid-hip for SMPL), ``MPVPE`` and
        ``PA-MPVPE`` when a body model is given and both splits have SMPL labels.
    """
    train, test = _labels(train_dataset, max_samples), _labels(test_dataset, max_samples)
    if not train['has_3d'].any() or not test['has_3d'].any():
        raise ValueError('mean_pose_baseline: both splits need samples with 3D joints (has_3d_joints = 1)')
    if isinstance(body_model, dict):
        body_model = MODELS.build(body_model)
    joint_set = body_model if body_model is not None else SMPLMeshInterface()

    def joints(keypoints_3d: np.ndarray) -> np.ndarray:
        return label_joints(keypoints_3d, joint_set.label_root_index, joint_set.label_joint_indices)

    centre = joint_set.joint_center_indices
    mean_joints = center_joints(joints(train['keypoints_3d'][train['has_3d']]), centre).mean(axis=0)
    gt = joints(test['keypoints_3d'][test['has_3d']])
    errors = joint_errors(np.broadcast_to(mean_joints, gt.shape), gt, centre)
    result = {'MPJPE': 1000 * float(errors['mpjpe'].mean()), 'PA-MPJPE': 1000 * float(errors['pa_mpjpe'].mean())}
    if body_model is not None and train['has_smpl'].any() and test['has_smpl'].any():
        mean_mesh = _centred_meshes(body_model, train['pose'][train['has_smpl']],
                                    train['betas'][train['has_smpl']]).mean(axis=0)
        gt_meshes = _centred_meshes(body_model, test['pose'][test['has_smpl']], test['betas'][test['has_smpl']])
        errors = vertex_errors(np.broadcast_to(mean_mesh, gt_meshes.shape), gt_meshes)
        result['MPVPE'] = 1000 * float(errors['mpvpe'].mean())
        result['PA-MPVPE'] = 1000 * float(errors['pa_mpvpe'].mean())
        if fscore_thresholds_mm:
            fscores = aligned_fscores(np.broadcast_to(mean_mesh, gt_meshes.shape), gt_meshes,
                                      [t / 1000.0 for t in fscore_thresholds_mm]).mean(axis=0)
            result.update({f'F@{t:g}mm': float(f) for t, f in zip(fscore_thresholds_mm, fscores)})
        if surface_metrics:
            surface = surface_errors(np.broadcast_to(mean_mesh, gt_meshes.shape), gt_meshes, body_model.faces)
            result['EdgeErr%'] = 100 * float(surface['edge_error'].mean())
            result['NormalCos'] = float(surface['normal_cos'].mean())
    return result


def format_baseline_comparison(
    model_metrics: Dict[str, float],
    baseline: Dict[str, float],
    names: Sequence[str] = ('MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE', 'F@5mm', 'F@15mm', 'EdgeErr%', 'NormalCos')
) -> str:
    """A small text table ``metric | model | mean-pose baseline`` (model keys may carry a ``prefix/``; errors in mm,
    F-scores and NormalCos as fractions, EdgeErr% in percent)."""
    unprefixed = {key.split('/')[-1]: value for key, value in model_metrics.items()}
    lines = [f'{"metric":<10} {"model":>12} {"mean-pose baseline":>25}']
    for name in names:
        if name in unprefixed or name in baseline:
            model_value = f'{unprefixed[name]:.2f}' if name in unprefixed else '-'
            baseline_value = f'{baseline[name]:.2f}' if name in baseline else '-'
            lines.append(f'{name:<10} {model_value:>12} {baseline_value:>25}')
    return '\n'.join(lines)
