"""Pack a transformed mesh sample into ``inputs`` + ``PoseDataSample`` (the data-sample contract of
docs/architecture.md)."""
from typing import Sequence

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.datasets.transforms.formatting import image_to_tensor
from mmpose.registry import TRANSFORMS
from mmpose.structures import PoseDataSample

#: results key -> shape of one instance (-1: any length: 24 body / 21 hand joints, 72 SMPL / 48 MANO pose values);
#: packed as float32 tensors with a leading 1
_LABEL_SHAPES = dict(
    keypoints_2d=(-1, 3),
    keypoints_3d=(-1, 4),
    smpl_pose=(-1, ),
    smpl_betas=(10, ),
    has_2d_joints=(),
    has_3d_joints=(),
    has_smpl=(),
)


@TRANSFORMS.register_module()
class PackMeshInputs(PackPoseInputs):
    """Pack ``img`` (H, W, 3) uint8 BGR into ``inputs`` (3, H, W) uint8 and the labels into a ``PoseDataSample``.

    * ``gt_instances`` (numpy, original-image space): ``bboxes`` (1, 4), ``bbox_scores`` (1,), ``keypoints``
      (1, K, 2), ``keypoints_visible`` (1, K) — whichever are present (K = 24 body, 21 hand joints).
    * ``gt_instance_labels`` (float32 tensors): ``keypoints_2d`` (1, K, 3), ``keypoints_3d`` (1, K, 4),
      ``smpl_pose`` (1, P) (72 SMPL, 48 MANO), ``smpl_betas`` (1, 10), ``has_2d_joints`` / ``has_3d_joints`` /
      ``has_smpl`` (1,).
      Inference inputs (image + box only) get an empty ``gt_instance_labels``.
    * metainfo: ``meta_keys`` found in the results.
    """

    instance_mapping_table = dict(bbox='bboxes',
                                  bbox_score='bbox_scores',
                                  keypoints='keypoints',
                                  keypoints_visible='keypoints_visible')
    label_mapping_table = {key: key for key in _LABEL_SHAPES}
    field_mapping_table = dict()

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_path', 'img_id', 'id', 'ori_shape', 'img_shape', 'input_size',
                                             'input_center', 'input_scale', 'flip', 'rotation', 'dataset_name'),
                 pack_transformed: bool = False) -> None:
        super().__init__(meta_keys=tuple(meta_keys), pack_transformed=pack_transformed)

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('PackMeshInputs needs the cropped image under "img"; put MeshTopdownAffine before it')
        img = np.asarray(results['img'])
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'PackMeshInputs expects an (H, W, 3) image, got shape {img.shape}')
        data_sample = PoseDataSample()

        gt_instances = InstanceData()
        for key, field in self.instance_mapping_table.items():
            if key in results:
                gt_instances.set_field(np.asarray(results[key]), field)
        if self.pack_transformed and 'transformed_keypoints' in results:
            gt_instances.set_field(np.asarray(results['transformed_keypoints']), 'transformed_keypoints')
        data_sample.gt_instances = gt_instances

        gt_instance_labels = InstanceData()
        for key, field in self.label_mapping_table.items():
            if key not in results:
                continue
            shape = _LABEL_SHAPES[key]
            value = np.asarray(results[key], dtype=np.float32)
            fixed = int(np.prod([d for d in shape if d > 0]))
            if value.size == 0 or value.size % fixed or (-1 not in shape and value.size != fixed):
                raise ValueError(f'PackMeshInputs: {key!r} has shape {value.shape}, expected {shape} for one person '
                                 '(-1 = any length)')
            gt_instance_labels.set_field(torch.from_numpy(value.reshape((1, ) + shape).copy()), field)
        data_sample.gt_instance_labels = gt_instance_labels

        data_sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=image_to_tensor(img), data_samples=data_sample)
