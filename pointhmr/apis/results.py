"""Per-image mesh results as plain arrays (for export) from the per-person PoseDataSamples of inference_mesh."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmpose.structures import PoseDataSample

from pointhmr.body.joints import H36M_PELVIS
from pointhmr.utils.arrays import to_numpy
from pointhmr.visualization.scene import camera_for_centred_vertices, person_translations

#: key -> trailing shape of one person (vertices use the model's vertex count)
RESULT_FIELDS = dict(
    vertices=(None, 3),
    keypoints_3d=(17, 3),
    keypoints=(17, 2),
    keypoint_scores=(17, ),
    cameras=(3, ),
    mesh_cameras=(3, ),
    bboxes=(4, ),
    bbox_scores=(),
    input_centers=(2, ),
    input_scales=(2, ),
    depths=(),
)


def _get(pred, key: str, num: int, default_shape: Sequence[int], fill: float = np.nan) -> np.ndarray:
    if key in pred:
        value = pred.get(key)
        return to_numpy(value, np.float32).reshape((num, ) + tuple(default_shape))
    return np.full((num, ) + tuple(default_shape), fill, dtype=np.float32)


def empty_mesh_results(num_vertices: int = 6890) -> Dict[str, np.ndarray]:
    """Results for an image without people: every field with a leading dimension of 0."""
    return {
        key: np.zeros((0, ) + tuple(num_vertices if d is None else d for d in shape), dtype=np.float32)
        for key, shape in RESULT_FIELDS.items()
    }


def collect_mesh_results(samples: List[PoseDataSample],
                         image_shape: Sequence[int],
                         focal: Optional[float] = None,
                         num_vertices: int = 6890) -> Dict[str, np.ndarray]:
    """Stack per-person predictions into arrays with a leading person axis P, nearest person first.

    Fields (float32): ``vertices`` (P, V, 3) pelvis-centred metres; ``keypoints_3d`` (P, 17, 3) pelvis-centred H36M
    joints; ``keypoints`` (P, 17, 2) image pixels; ``keypoint_scores`` (P, 17); ``cameras`` (P, 3) weak-perspective
    (s, tx, ty) of each crop as predicted; ``mesh_cameras`` (P, 3) the same camera re-anchored to project the centred
    ``vertices`` (see :func:`camera_for_centred_vertices`); ``bboxes`` (P, 4) xyxy; ``bbox_scores`` (P,);
    ``input_centers`` / ``input_scales`` (P, 2) crop centre and side in pixels; ``depths`` (P,) nominal depth in
    metres under a pinhole camera of focal ``focal`` (default: the longer image side), used for the ordering.
    """
    pairs = [(s, s.pred_instances) for s in samples if 'pred_instances' in s and len(s.pred_instances) > 0]
    if not pairs:
        return empty_mesh_results(num_vertices)
    columns: Dict[str, List[np.ndarray]] = {key: [] for key in RESULT_FIELDS}
    for sample, pred in pairs:
        num = len(pred)
        vertices = _get(pred, 'vertices', num, (-1, 3))
        columns['vertices'].append(vertices)
        columns['keypoints_3d'].append(_get(pred, 'keypoints_3d', num, (-1, 3)))
        columns['keypoints'].append(_get(pred, 'keypoints', num, (-1, 2)))
        columns['keypoint_scores'].append(_get(pred, 'keypoint_scores', num, (-1, ), fill=1.0))
        columns['cameras'].append(_get(pred, 'camera', num, (3, )))
        columns['bboxes'].append(_get(pred, 'bboxes', num, (4, )))
        columns['bbox_scores'].append(_get(pred, 'bbox_scores', num, (), fill=1.0))
        if 'input_center' in pred:
            centers, scales = _get(pred, 'input_center', num, (2, )), _get(pred, 'input_scale', num, (-1, ))
        else:
            centers = np.repeat(np.asarray(sample.metainfo['input_center'], np.float32).reshape(1, 2), num, 0)
            scales = np.repeat(np.asarray(sample.metainfo['input_scale'], np.float32).reshape(1, -1), num, 0)
        scales = np.repeat(scales[:, :1], 2, axis=1) if scales.shape[1] == 1 else scales[:, :2]
        columns['input_centers'].append(centers)
        columns['input_scales'].append(scales)
    results = {key: np.concatenate(value) for key, value in columns.items() if value}
    results['mesh_cameras'] = camera_for_centred_vertices(results['cameras'], results['keypoints'][:, H36M_PELVIS],
                                                          results['input_centers'],
                                                          results['input_scales']).astype(np.float32)
    results['depths'] = person_translations(results['cameras'], results['input_centers'], results['input_scales'],
                                            image_shape, focal)[:, 2].astype(np.float32)
    order = np.argsort(results['depths'], kind='stable')
    return {key: results[key][order] for key in RESULT_FIELDS}


def mesh_results_to_json(results: Dict[str, np.ndarray], **extra) -> Dict:
    """JSON-friendly form: ``extra`` fields (e.g. image path) + ``num_people`` + ``people`` (one dict per person
    holding every per-person array of ``results``)."""
    num = len(results['vertices'])
    keys = [key for key, value in results.items() if np.ndim(value) >= 1 and len(value) == num]
    people = [{key: results[key][i] for key in keys} for i in range(num)]
    return dict(**extra, num_people=num, people=people)
