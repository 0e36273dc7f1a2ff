"""The hand data pipeline end to end on a tiny synthetic hand set (METRO FreiHAND layout): HandMeshTSVDataset,
FreiHAND augmentation (no flip), wrist-rooted labels, packing and the light hand model's loss on the batch."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

from pointhmr.utils import load_model_config

HAND_AFFINE = dict(type='MeshTopdownAffine', input_size=(224, 224), root_index=0, flip_perm=None, pose_flip_perm=None)
TEST_PIPELINE = [dict(type='MeshBBoxCenterScale'), HAND_AFFINE, dict(type='PackMeshInputs')]
#: FreiHAND's augmentation: rotation N(0, 90) clipped to +-180, zero with prob. 0.6; scale N(1, .25) in [.75, 1.25]
TRAIN_PIPELINE = [
    dict(type='MeshBBoxCenterScale'),
    dict(type='RandomMeshAugmentation',
         flip_prob=0.0,
         rot_std=90.0,
         rot_max=180.0,
         rot_zero_prob=0.6,
         scale_std=0.25,
         scale_range=(0.75, 1.25),
         noise=0.4), HAND_AFFINE,
    dict(type='PackMeshInputs')
]


@pytest.fixture(scope='module')
def hand_yamls(tmp_path_factory):
    from pointhmr.datasets.synthetic import make_synthetic_hand_dataset
    return make_synthetic_hand_dataset(str(tmp_path_factory.mktemp('synthetic_hand')), {'train': 4, 'test': 3}, seed=0)


def test_hand_rows_have_freihand_label_shapes(hand_yamls):
    dataset = DATASETS.build(dict(type='HandMeshTSVDataset', ann_file=hand_yamls['test']))
    item = dataset.get_data_info(0)
    assert item['keypoints'].shape == (1, 21, 2) and item['keypoints_3d'].shape == (1, 21, 4)
    assert item['smpl_pose'].shape == (48, ) and item['smpl_betas'].shape == (10, )
    assert dataset.metainfo['num_keypoints'] == 21 and dataset.metainfo['keypoint_id2name'][0] == 'wrist'
    assert dataset.dataset_name == 'synthetic-hand'
    # the body reader refuses hand rows with a message naming the row and key
    body = DATASETS.build(dict(type='MeshTSVDataset', ann_file=hand_yamls['test']))
    with pytest.raises(ValueError, match=r"key '2d_joints': shape \(21, 3\), expected \(24, 3\)"):
        body.get_data_info(0)


def test_test_pipeline_packs_wrist_rooted_hand_labels(hand_yamls):
    init_default_scope('mmpose')
    dataset = DATASETS.build(
        dict(type='HandMeshTSVDataset', ann_file=hand_yamls['test'], pipeline=TEST_PIPELINE, test_mode=True))
    batch = pseudo_collate([dataset[i] for i in range(3)])
    for index, sample in enumerate(batch['data_samples']):
        labels = sample.gt_instance_labels
        assert labels.keypoints_2d.shape == (1, 21, 3) and labels.keypoints_3d.shape == (1, 21, 4)
        assert labels.smpl_pose.shape == (1, 48)
        assert torch.allclose(labels.keypoints_3d[0, 0, :3], torch.zeros(3), atol=1e-6)  # wrist-centred
        assert labels.keypoints_2d[0, :, :2].abs().max() < 1.0  # the whole hand is inside the crop
        # the crop labels map back to the image-space labels
        decoded = (labels.keypoints_2d[0, :, :2].numpy() + 1) / 2 * 224
        back = decoded / 224 * sample.input_scale + sample.input_center - sample.input_scale / 2
        np.testing.assert_allclose(back, dataset.get_data_info(index)['keypoints'][0], atol=1e-3)


def test_rotation_turns_3d_joints_and_global_orientation_together(hand_yamls):
    from pointhmr.body import MANOHandModel
    init_default_scope('mmpose')
    hand = MANOHandModel()
    dataset = DATASETS.build(dict(type='HandMeshTSVDataset', ann_file=hand_yamls['train']))
    pipeline = Compose([dict(type='MeshBBoxCenterScale'), HAND_AFFINE, dict(type='PackMeshInputs')])
    item = dataset.get_data_info(1)
    item.update(rotation=120.0)  # what RandomMeshAugmentation would record
    labels = pipeline(item)['data_samples'].gt_instance_labels
    with torch.no_grad():
        mesh = hand(labels.smpl_pose, labels.smpl_betas)
        joints = hand.keypoints(hand.center(mesh))
    # the augmented MANO parameters give the augmented (rotated, wrist-centred) 3D label joints
    np.testing.assert_allclose(joints[0].numpy(), labels.keypoints_3d[0, :, :3].numpy(), atol=2e-3)


def test_flip_is_refused_for_hands(hand_yamls):
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='HandMeshTSVDataset', ann_file=hand_yamls['train']))
    pipeline = Compose([dict(type='MeshBBoxCenterScale'), HAND_AFFINE])
    item = dataset.get_data_info(0)
    item.update(flip=True)
    with pytest.raises(ValueError, match='hands are never flipped'):
        pipeline(item)


def test_training_batch_through_the_light_hand_model(hand_yamls):
    init_default_scope('mmpose')
    np.random.seed(0)
    dataset = DATASETS.build(dict(type='HandMeshTSVDataset', ann_file=hand_yamls['train'], pipeline=TRAIN_PIPELINE))
    batch = pseudo_collate([dataset[i] for i in range(4)])
    cfg = load_model_config('pointhmr_light', body_model=dict(type='MANOHandModel'))
    cfg['neck']['num_vertices'] = 195
    cfg['head'].update(num_joints=None, num_vertices=None)
    model = MODELS.build(cfg)
    losses = model(**model.data_preprocessor(batch, training=True), mode='loss')
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.head.joint_token_embed.weight.grad.abs().sum() > 0
