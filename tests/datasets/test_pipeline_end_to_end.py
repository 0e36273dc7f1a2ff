"""The whole data pipeline on a tiny generated synthetic set, through mmengine's Compose and pseudo_collate."""
import cv2
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

TEST_PIPELINE = [
    dict(type='MeshBBoxCenterScale'),
    dict(type='MeshTopdownAffine', input_size=(224, 224)),
    dict(type='PackMeshInputs')
]
TRAIN_PIPELINE = [
    dict(type='MeshBBoxCenterScale'),
    dict(type='RandomMeshAugmentation'),
    dict(type='MeshTopdownAffine', input_size=(224, 224)),
    dict(type='PackMeshInputs')
]


def test_test_pipeline_batches(synthetic_yamls):
    init_default_scope('mmpose')
    dataset = DATASETS.build(
        dict(type='MeshTSVDataset', ann_file=synthetic_yamls['test'], pipeline=TEST_PIPELINE, test_mode=True))
    batch = pseudo_collate([dataset[i] for i in range(3)])
    assert len(batch['inputs']) == 3 and all(x.shape == (3, 224, 224) and x.dtype == torch.uint8
                                             for x in batch['inputs'])
    for sample in batch['data_samples']:
        labels = sample.gt_instance_labels
        assert labels.keypoints_2d.shape == (1, 24, 3) and labels.keypoints_3d.shape == (1, 24, 4)
        assert labels.smpl_pose.shape == (1, 72) and labels.has_smpl.item() == 1
        assert sample.flip is False and sample.rotation == 0.0
        visible = labels.keypoints_2d[0, :, 2] > 0
        assert labels.keypoints_2d[0, visible, :2].abs().max() < 1.0  # the person is inside the crop
        # pelvis-centred 3D joints
        assert torch.allclose(labels.keypoints_3d[0, 14, :3], torch.zeros(3), atol=1e-6)
        # mapping the crop labels back to the image gives the image-space labels
        decoded = (labels.keypoints_2d[0, visible, :2].numpy() + 1) / 2 * 224
        back = decoded / 224 * sample.input_scale + sample.input_center - sample.input_scale / 2
        np.testing.assert_allclose(back, sample.gt_instances.keypoints[0, visible.numpy()], atol=1e-3)


def test_augmented_labels_stay_on_the_body(synthetic_generator):
    """Warp the rendered silhouette with the sampled augmentation: the transformed 2D joints stay on it."""
    init_default_scope('mmpose')
    sample = next(synthetic_generator.samples('aug', 1))
    ann = sample.annotation
    side = 200 * ann['scale']
    base = dict(bbox_center=np.array([ann['center']], np.float32),
                bbox_scale=np.array([[side, side]], np.float32),
                keypoints=np.asarray(ann['2d_joints'], np.float32)[None, :, :2],
                keypoints_visible=np.asarray(ann['2d_joints'], np.float32)[None, :, 2])
    augment = Compose([dict(type='RandomMeshAugmentation', rot_zero_prob=0.0, noise=0.0)])
    affine = Compose([dict(type='MeshTopdownAffine')])
    np.random.seed(5)
    for _ in range(4):
        params = augment(dict())
        mask_image = np.repeat(sample.mask[..., None].astype(np.uint8) * 255, 3, axis=2)
        out = affine(dict(base, img=mask_image, **params))
        grown = cv2.dilate(out['img'][..., 0], np.ones((7, 7), np.uint8)) > 0
        points = out['transformed_keypoints'][0][out['keypoints_2d'][0, :, 2] > 0]
        inside = (points >= 0).all(1) & (points < 224).all(1)
        cols, rows = np.floor(points[inside]).astype(int).T
        assert grown[rows, cols].mean() >= 0.9


def test_train_pipeline_runs_with_augmentation(synthetic_yamls):
    init_default_scope('mmpose')
    np.random.seed(0)
    dataset = DATASETS.build(dict(type='MeshTSVDataset', ann_file=synthetic_yamls['train'], pipeline=TRAIN_PIPELINE))
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    assert len(batch['data_samples']) == 6
    assert {type(s.flip) for s in batch['data_samples']} == {bool}
    for sample in batch['data_samples']:
        joints = sample.gt_instance_labels.keypoints_3d[0]
        assert torch.allclose(joints[14, :3], torch.zeros(3), atol=1e-6)
