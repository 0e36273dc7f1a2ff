import numpy as np
import torch

from pointhmr.datasets.transforms import MeshBBoxCenterScale, MeshTopdownAffine, PackMeshInputs


def _labelled_results():
    rng = np.random.default_rng(0)
    return dict(img=rng.integers(0, 255, (120, 160, 3), dtype=np.uint8),
                img_path='k.jpg',
                img_id=3,
                id=3,
                ori_shape=(120, 160),
                dataset_name='unit',
                bbox=np.array([[20.0, 10.0, 120.0, 110.0]], np.float32),
                bbox_score=np.ones(1, np.float32),
                bbox_center=np.array([[70.0, 60.0]], np.float32),
                bbox_scale=np.array([[120.0, 120.0]], np.float32),
                keypoints=rng.uniform(0, 100, (1, 24, 2)).astype(np.float32),
                keypoints_visible=np.ones((1, 24), np.float32),
                keypoints_3d=np.concatenate(
                    [rng.normal(size=(1, 24, 3)), np.ones((1, 24, 1))], -1).astype(np.float32),
                smpl_pose=rng.normal(size=72).astype(np.float32),
                smpl_betas=rng.normal(size=10).astype(np.float32),
                has_2d_joints=np.float32(1),
                has_3d_joints=np.float32(1),
                has_smpl=np.float32(0))


def test_packed_sample_follows_the_contract():
    results = MeshTopdownAffine()(_labelled_results())
    packed = PackMeshInputs()(results)
    assert packed['inputs'].dtype == torch.uint8 and packed['inputs'].shape == (3, 224, 224)
    assert torch.equal(packed['inputs'][:, 5, 7], torch.from_numpy(results['img'][5, 7]))  # BGR kept
    sample = packed['data_samples']
    gt = sample.gt_instances
    assert set(gt.keys()) == {'bboxes', 'bbox_scores', 'keypoints', 'keypoints_visible'}
    assert isinstance(gt.keypoints, np.ndarray) and gt.keypoints.shape == (1, 24, 2)
    assert gt.bboxes.shape == (1, 4) and gt.bbox_scores.shape == (1, ) and gt.keypoints_visible.shape == (1, 24)
    labels = sample.gt_instance_labels
    expected = dict(keypoints_2d=(1, 24, 3),
                    keypoints_3d=(1, 24, 4),
                    smpl_pose=(1, 72),
                    smpl_betas=(1, 10),
                    has_2d_joints=(1, ),
                    has_3d_joints=(1, ),
                    has_smpl=(1, ))
    assert set(labels.keys()) == set(expected)
    for key, shape in expected.items():
        value = labels.get(key)
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float32 and tuple(value.shape) == shape
    assert labels.has_smpl.item() == 0 and labels.has_3d_joints.item() == 1
    for key in ('img_path', 'img_id', 'id', 'ori_shape', 'img_shape', 'input_size', 'input_center', 'input_scale',
                'flip', 'rotation', 'dataset_name'):
        assert key in sample.metainfo, key
    assert sample.metainfo['input_scale'].shape == (2, ) and sample.metainfo['img_shape'] == (224, 224)


def test_inference_input_with_only_image_and_box():
    image = np.zeros((90, 60, 3), np.uint8)
    results = dict(img=image, bbox=np.array([[5.0, 5.0, 50.0, 80.0]], np.float32), bbox_score=np.ones(1))
    for transform in (MeshBBoxCenterScale(), MeshTopdownAffine(), PackMeshInputs()):
        results = transform(results)
    sample = results['data_samples']
    assert len(sample.gt_instance_labels.keys()) == 0
    assert sample.gt_instances.bboxes.shape == (1, 4)
    np.testing.assert_allclose(sample.metainfo['input_center'], [27.5, 42.5])
    np.testing.assert_allclose(sample.metainfo['input_scale'], [90.0, 90.0])
