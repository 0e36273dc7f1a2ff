"""MeshMetric: MPJPE, PA-MPJPE, MPVPE and PA-MPVPE (millimetres) for 3D mesh recovery, plus the FreiHAND F-scores.

Every joint set, root and alignment comes from the mesh model (``body_model``; docs/architecture.md, "Mesh models").
For an SMPL body (METRO / PointHMR evaluation) that is:

* Prediction: the 6890-vertex mesh -> H36M-17 regressor -> J14 (``H36M_TO_J14``); joints and mesh minus the regressed
  pelvis (H36M joint 0).
* Ground truth joints: the J24 label (``keypoints_3d``) minus its pelvis (J24 index 14) -> J14 (``J24_TO_J14``).
  Ground truth mesh: body model (pose, betas), neutral, no translation, minus its H36M-regressed pelvis.
* MPJPE: both J14 sets re-centred at their mid-hip ((J14[2] + J14[3]) / 2), mean joint distance; has_3d_joints only.
* PA-MPJPE: similarity Procrustes of the predicted J14 onto the GT J14, mean joint distance; has_3d_joints only.
  Deliberate fix: the official code computes PA-MPJPE for every sample of a batch (also samples without 3D joints,
  whose labels are zeros) and only weights the batch mean by the number of has_3d_joints samples; here samples without
  3D joints are excluded, exactly as for MPJPE.
* MPVPE / PA-MPVPE: mean vertex distance over the 6890 vertices (pelvis-aligned / Procrustes-aligned); has_smpl only.
  When no evaluated sample has SMPL the keys are omitted (the official code logs 0).

Errors are stored per sample in :meth:`MeshMetric.process` and averaged once over the whole set in
:meth:`MeshMetric.compute_metrics`. Together with mmengine's ``collect_results`` (which gathers the per-sample results
of all ranks in dataset order and drops the distributed sampler's padding duplicates) this gives the exact
single-process numbers on any number of ranks; the official code averaged per-rank means and counted the padding.

For a MANO hand (FreiHAND protocol): the 21 mesh keypoints (FreiHAND order) and the 21 label joints, both minus the
wrist; MPJPE / MPVPE wrist-aligned, PA-MPJPE / PA-MPVPE after Procrustes alignment, and with ``fscore_thresholds_mm``
the per-sample F-score of the Procrustes-aligned predicted vertices against the ground-truth vertices (FreiHAND's
``calculate_fscore``: precision and recall are the fractions of points whose nearest neighbour in the other set lies
strictly closer than the threshold), averaged over the samples. ``outfile_prefix`` writes FreiHAND's submission file
(see :mod:`pointhmr.evaluation.freihand_submission`).
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.registry import METRICS, MODELS
from torch import nn

from pointhmr.body.joints import H36M_PELVIS, H36M_TO_J14, J14_L_HIP, J14_R_HIP, J24_PELVIS, J24_TO_J14
from pointhmr.utils.arrays import to_numpy
from .freihand_submission import write_freihand_submission
from .procrustes import procrustes_align, reconstruction_error
from .surface_quality import surface_errors

#: metric names (without prefix) in the order they are reported
METRIC_NAMES = ('MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE')


def _array(value: Any, name: str) -> np.ndarray:
    """A data-sample field as a float64 array; ``name`` is used in the error when it is missing."""
    if value is None:
        raise KeyError(f'MeshMetric: missing "{name}" in the data sample; see docs/architecture.md for the packed keys')
    return to_numpy(value, np.float64)


def center_joints(joints: np.ndarray, center_indices: Sequence[int] = (J14_R_HIP, J14_L_HIP)) -> np.ndarray:
    """Subtract the mean of the joints ``center_indices`` from (..., K, 3) joints (J14 mid-hip by default)."""
    center_indices = tuple(int(i) for i in center_indices)
    if len(center_indices) == 2:
        center = (joints[..., center_indices[0], :] + joints[..., center_indices[1], :]) / 2
    else:
        center = joints[..., list(center_indices), :].mean(axis=-2)
    return joints - center[..., None, :]


def center_at_mid_hip(joints_14: np.ndarray) -> np.ndarray:
    """Subtract the mid-hip ((J14[2] + J14[3]) / 2) from (..., 14, 3) joints."""
    return center_joints(joints_14, (J14_R_HIP, J14_L_HIP))


def label_joints(keypoints_3d: np.ndarray, root_index: int, joint_indices: Sequence[int]) -> np.ndarray:
    """(B, K_label, 3 or 4) labels -> (B, J, 3) joints relative to the label root (confidence column dropped)."""
    xyz = keypoints_3d[..., :3]
    xyz = xyz - xyz[..., root_index:root_index + 1, :]
    return xyz[..., list(joint_indices), :]


def gt_joints_14(keypoints_3d: np.ndarray) -> np.ndarray:
    """(B, 24, 3 or 4) J24 labels -> (B, 14, 3) pelvis-centred J14 (confidence column dropped)."""
    return label_joints(keypoints_3d, J24_PELVIS, J24_TO_J14)


def h36m_to_joints_14(h36m_joints: np.ndarray) -> np.ndarray:
    """(B, 17, 3) H36M joints -> (B, 14, 3) J14 relative to the H36M pelvis."""
    return label_joints(h36m_joints, H36M_PELVIS, H36M_TO_J14)


def joint_errors(
    pred_joints: np.ndarray, gt_joints: np.ndarray,
    center_indices: Sequence[int] = (J14_R_HIP, J14_L_HIP)) -> Dict[str, np.ndarray]:
    """Per-sample MPJPE (aligned at the mean of ``center_indices``: the J14 mid-hip by default) and PA-MPJPE in the
    input unit, for (B, J, 3) joint sets."""
    pred = center_joints(pred_joints, center_indices)
    gt = center_joints(gt_joints, center_indices)
    return dict(mpjpe=np.linalg.norm(pred - gt, axis=-1).mean(axis=-1), pa_mpjpe=reconstruction_error(pred, gt))


def fscore(pred: np.ndarray, gt: np.ndarray, threshold: float) -> float:
    """F-score of two point sets (N, 3) / (M, 3): ``2 P R / (P + R)`` (0 when both are 0), where P / R are the
    fractions of ``gt`` / ``pred`` points whose nearest neighbour in the other set lies strictly closer than
    ``threshold`` (FreiHAND's ``calculate_fscore``; the set is symmetric so the naming does not matter)."""
    from scipy.spatial import cKDTree
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if len(pred) == 0 or len(gt) == 0:
        return 0.0
    gt_to_pred, _ = cKDTree(pred).query(gt)
    pred_to_gt, _ = cKDTree(gt).query(pred)
    precision = float(np.mean(gt_to_pred < threshold))
    recall = float(np.mean(pred_to_gt < threshold))
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def aligned_fscores(pred_vertices: np.ndarray, gt_vertices: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """(B, T) F-scores of the Procrustes-aligned (B, V, 3) predictions against the ground truth, per threshold."""
    aligned = procrustes_align(pred_vertices, gt_vertices)
    return np.asarray([[fscore(a, g, t) for t in thresholds] for a, g in zip(aligned, gt_vertices)],
                      dtype=np.float64).reshape(len(aligned), len(thresholds))


def vertex_errors(pred_vertices: np.ndarray, gt_vertices: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-sample MPVPE and PA-MPVPE for (B, V, 3) pelvis-centred meshes, in the input unit."""
    return dict(mpvpe=np.linalg.norm(pred_vertices - gt_vertices, axis=-1).mean(axis=-1),
                pa_mpvpe=reconstruction_error(pred_vertices, gt_vertices))


def _field(container: Any, key: str) -> Any:
    """Read ``key`` from a dict or a data element; None when absent."""
    if container is None:
        return None
    if isinstance(container, dict):
        return container.get(key)
    return getattr(container, key, None)


def _floating_dtype(module: nn.Module) -> torch.dtype:
    """dtype of the first floating-point parameter or buffer of ``module`` (float32 if none)."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _first_instance(value: np.ndarray, expected_ndim: int) -> np.ndarray:
    """Drop the leading one-instance axis ((1, ...) -> (...)) if present."""
    return value[0] if value.ndim == expected_ndim + 1 else value


@METRICS.register_module()
class MeshMetric(BaseMetric):
    """Mesh-recovery metrics in millimetres: ``{prefix}/MPJPE``, ``PA-MPJPE``, ``MPVPE``, ``PA-MPVPE`` and, with
    ``fscore_thresholds_mm``, ``F@<t>mm`` (fractions in [0, 1]).

    Args:
        body_model: config dict of the mesh model (e.g. ``dict(type='SMPLBodyModel')``, ``dict(type='MANOHandModel')``)
            or a built module with the mesh-model interface (``forward``, ``keypoints``, ``root_keypoint``,
            ``joint_indices``, ``label_joint_indices``, ``label_root_index``, ``joint_center_indices``, ``center``).
            It is built lazily on first use.
        fscore_thresholds_mm: thresholds (mm) of the F-scores of the Procrustes-aligned vertices (FreiHAND: (5, 15));
            empty = none.
        surface_metrics: also ``EdgeErr%`` (mean relative edge-length error of the predicted mesh against the
            ground-truth mesh, percent) and ``NormalCos`` (mean cosine of their face normals)
            (:mod:`pointhmr.evaluation.surface_quality`); samples with SMPL only.
        outfile_prefix: when set, :meth:`compute_metrics` writes FreiHAND's submission ``<prefix>pred.json`` (and
            ``<prefix>pred.zip``): per sample in dataset order the root-centred keypoints and vertices in metres.
        prefix: prefix of the metric keys (default ``'mesh'``).
        collect_device: ``'cpu'`` or ``'gpu'``, used to gather results across ranks.
    """
    default_prefix: Optional[str] = 'mesh'

    def __init__(self,
                 body_model: Union[dict, nn.Module] = dict(type='SMPLBodyModel'),
                 fscore_thresholds_mm: Sequence[float] = (),
                 surface_metrics: bool = False,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not isinstance(body_model, (dict, nn.Module)):
            raise TypeError(f'MeshMetric: body_model must be a config dict or an nn.Module, got {type(body_model)}')
        thresholds = tuple(float(t) for t in fscore_thresholds_mm)
        if any(not np.isfinite(t) or t <= 0 for t in thresholds):
            raise ValueError(f'MeshMetric: fscore_thresholds_mm must be positive millimetres, got {thresholds}')
        self.fscore_thresholds_mm: Tuple[float, ...] = thresholds
        self.surface_metrics = bool(surface_metrics)
        self.outfile_prefix = outfile_prefix
        self._body_model_cfg = body_model
        self._body_model: Optional[nn.Module] = body_model if isinstance(body_model, nn.Module) else None

    @property
    def body_model(self) -> nn.Module:
        """The body model (built from its config on first access, kept on CPU in eval mode)."""
        if self._body_model is None:
            self._body_model = MODELS.build(self._body_model_cfg)
            self._body_model.eval()
        return self._body_model

    def _regress_keypoints(self, vertices: np.ndarray) -> np.ndarray:
        model = self.body_model
        dtype = _floating_dtype(model)
        with torch.no_grad():
            joints = model.keypoints(torch.as_tensor(vertices, dtype=dtype))
        return to_numpy(joints, np.float64)

    def _gt_vertices(self, pose: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """Ground-truth meshes (B, V, 3) centred at the body model's root keypoint (``center``)."""
        model = self.body_model
        dtype = _floating_dtype(model)
        with torch.no_grad():
            vertices = model.center(model(torch.as_tensor(pose, dtype=dtype), torch.as_tensor(betas, dtype=dtype)))
        return to_numpy(vertices, np.float64)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Compute and store the per-sample errors (metres) of one batch."""
        if not data_samples:
            return
        model = self.body_model
        pred_vertices, keypoints_3d, has_3d, has_smpl, poses, betas = [], [], [], [], [], []
        for sample in data_samples:
            pred = _field(sample, 'pred_instances')
            labels = _field(sample, 'gt_instance_labels')
            if pred is None or labels is None:
                raise KeyError('MeshMetric: each data sample needs "pred_instances" and "gt_instance_labels" '
                               '(pack inputs with PackMeshInputs and predict with the PointHMR estimator)')
            pred_vertices.append(_first_instance(_array(_field(pred, 'vertices'), 'pred_instances.vertices'), 2))
            keypoints_3d.append(
                _first_instance(_array(_field(labels, 'keypoints_3d'), 'gt_instance_labels.keypoints_3d'), 2))
            flag_3d = _array(_field(labels, 'has_3d_joints'), 'gt_instance_labels.has_3d_joints')
            has_3d.append(float(flag_3d.ravel()[0]))
            smpl_flag = _field(labels, 'has_smpl')  # absent = no SMPL label
            has_smpl.append(0.0 if smpl_flag is
                            None else float(_array(smpl_flag, 'gt_instance_labels.has_smpl').ravel()[0]))
            if has_smpl[-1] > 0:
                poses.append(_array(_field(labels, 'smpl_pose'), 'gt_instance_labels.smpl_pose').reshape(-1))
                betas.append(_array(_field(labels, 'smpl_betas'), 'gt_instance_labels.smpl_betas').reshape(-1))
        pred_vertices = np.stack(pred_vertices)
        if pred_vertices.ndim != 3 or pred_vertices.shape[-1] != 3:
            raise ValueError('MeshMetric: pred_instances.vertices must be (1, V, 3) per sample, got '
                             f'{pred_vertices.shape}')
        keypoints_3d = np.stack(keypoints_3d)
        num_label_joints = max(model.label_joint_indices) + 1
        if keypoints_3d.ndim != 3 or keypoints_3d.shape[2] not in (3, 4) or keypoints_3d.shape[1] < num_label_joints:
            raise ValueError(f'MeshMetric: gt_instance_labels.keypoints_3d must be (1, K, 4) per sample with K >= '
                             f'{num_label_joints} for {type(model).__name__}, got {keypoints_3d.shape[1:]}')
        has_3d = np.asarray(has_3d) > 0
        has_smpl = np.asarray(has_smpl) > 0

        root = int(model.root_keypoint)
        pred_keypoints = self._regress_keypoints(pred_vertices)
        pred_vertices = pred_vertices - pred_keypoints[:, None, root]
        pred_keypoints = pred_keypoints - pred_keypoints[:, None, root]
        joints = joint_errors(label_joints(pred_keypoints, root, model.joint_indices),
                              label_joints(keypoints_3d, model.label_root_index, model.label_joint_indices),
                              model.joint_center_indices)
        num = len(data_samples)
        mpvpe, pa_mpvpe = np.full(num, np.nan), np.full(num, np.nan)
        fscores = np.full((num, len(self.fscore_thresholds_mm)), np.nan)
        edge_error, normal_cos = np.full(num, np.nan), np.full(num, np.nan)
        if has_smpl.any():
            gt_vertices = self._gt_vertices(np.stack(poses), np.stack(betas))
            if gt_vertices.shape[1] != pred_vertices.shape[1]:
                raise ValueError(f'MeshMetric: predicted meshes have {pred_vertices.shape[1]} vertices but the body '
                                 f'model gives {gt_vertices.shape[1]}; use the same body model for model and metric')
            vertices = vertex_errors(pred_vertices[has_smpl], gt_vertices)
            mpvpe[has_smpl] = vertices['mpvpe']
            pa_mpvpe[has_smpl] = vertices['pa_mpvpe']
            if self.fscore_thresholds_mm:
                fscores[has_smpl] = aligned_fscores(pred_vertices[has_smpl], gt_vertices,
                                                    [t / 1000.0 for t in self.fscore_thresholds_mm])
            if self.surface_metrics:
                surface = surface_errors(pred_vertices[has_smpl], gt_vertices, model.faces)
                edge_error[has_smpl], normal_cos[has_smpl] = surface['edge_error'], surface['normal_cos']
        for i in range(num):
            result = dict(has_3d=bool(has_3d[i]),
                          has_smpl=bool(has_smpl[i]),
                          mpjpe=float(joints['mpjpe'][i]),
                          pa_mpjpe=float(joints['pa_mpjpe'][i]),
                          mpvpe=float(mpvpe[i]),
                          pa_mpvpe=float(pa_mpvpe[i]))
            if self.fscore_thresholds_mm:
                result['fscores'] = [float(f) for f in fscores[i]]
            if self.surface_metrics:
                result.update(edge_error=float(edge_error[i]), normal_cos=float(normal_cos[i]))
            if self.outfile_prefix is not None:
                metainfo = _field(data_samples[i], 'metainfo') or data_samples[i]
                index = _field(metainfo, 'id')
                result.update(index=None if index is None else int(index),
                              keypoints=pred_keypoints[i].astype(np.float32),
                              vertices=pred_vertices[i].astype(np.float32))
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average the per-sample errors over the samples with the needed labels; millimetres."""
        logger = MMLogger.get_current_instance()
        metrics: Dict[str, float] = {}
        with_3d = [r for r in results if r['has_3d']]
        with_smpl = [r for r in results if r['has_smpl']]
        if with_3d:
            metrics['MPJPE'] = 1000.0 * float(np.mean([r['mpjpe'] for r in with_3d]))
            metrics['PA-MPJPE'] = 1000.0 * float(np.mean([r['pa_mpjpe'] for r in with_3d]))
        else:
            logger.warning(f'MeshMetric: none of the {len(results)} samples has 3D joints; MPJPE/PA-MPJPE not reported')
        if with_smpl:
            metrics['MPVPE'] = 1000.0 * float(np.mean([r['mpvpe'] for r in with_smpl]))
            metrics['PA-MPVPE'] = 1000.0 * float(np.mean([r['pa_mpvpe'] for r in with_smpl]))
            for column, threshold in enumerate(self.fscore_thresholds_mm):
                metrics[f'F@{threshold:g}mm'] = float(np.mean([r['fscores'][column] for r in with_smpl]))
            if self.surface_metrics:
                metrics['EdgeErr%'] = 100.0 * float(np.mean([r['edge_error'] for r in with_smpl]))
                metrics['NormalCos'] = float(np.mean([r['normal_cos'] for r in with_smpl]))
        if self.outfile_prefix is not None:
            indices = [r['index'] for r in results]
            if all(index is not None for index in indices):
                results = [results[i] for i in np.argsort(indices, kind='stable')]
            path = write_freihand_submission(self.outfile_prefix, [r['keypoints'] for r in results],
                                             [r['vertices'] for r in results])
            logger.info(f'MeshMetric: wrote {len(results)} predictions to {path}')
        logger.info(f'MeshMetric: {len(results)} samples, {len(with_3d)} with 3D joints, {len(with_smpl)} with SMPL')
        return metrics
