import numpy as np
import pytest

from pointhmr.body.joints import J24_FLIP_PERM, J24_PELVIS, SMPL_POSE_FLIP_PERM
from pointhmr.datasets.transforms import MeshTopdownAffine
from pointhmr.datasets.transforms.mesh_topdown_affine import augment_joints_3d, augment_smpl_pose, crop_affine


def _results(rng, image=None, center=(150.0, 110.0), side=180.0, **aug):
    joints_3d = np.concatenate([rng.normal(0, 0.4, (24, 3)) + [0.1, -0.2, 5.0], np.ones((24, 1))], 1)
    # weak-perspective image labels of the same joints: p = centre + k * X[:2]
    k = 150.0
    keypoints = np.asarray(center) + k * (joints_3d[:, :2] - joints_3d[J24_PELVIS, :2])
    results = dict(img=image if image is not None else rng.integers(0, 255, (240, 320, 3), dtype=np.uint8),
                   bbox_center=np.array([center], np.float32),
                   bbox_scale=np.array([[side, side]], np.float32),
                   keypoints=keypoints[None].astype(np.float32),
                   keypoints_visible=np.ones((1, 24), np.float32),
                   keypoints_3d=joints_3d[None].astype(np.float32),
                   smpl_pose=rng.normal(0, 0.4, 72).astype(np.float32),
                   smpl_betas=np.zeros(10, np.float32))
    results.update(aug)
    return results, k


@pytest.mark.parametrize('flip, rotation, scale', [(False, 0.0, 1.0), (True, 0.0, 1.0), (False, 37.0, 0.8),
                                                   (True, -52.0, 1.2)])
def test_bbox_centre_goes_to_crop_centre_and_3d_rotation_matches_2d(flip, rotation, scale):
    rng = np.random.default_rng(0)
    results, k = _results(rng, flip=flip, rotation=rotation, scale_factor=scale)
    center = results['bbox_center'][0].copy()
    results['keypoints'][0, 5] = center
    results['keypoints_3d'][0, 5, :3] = results['keypoints_3d'][0, J24_PELVIS, :3]
    out = MeshTopdownAffine()(results)
    crop = out['transformed_keypoints'][0]
    moved = J24_FLIP_PERM.index(5) if flip else 5
    np.testing.assert_allclose(crop[moved], [112.0, 112.0], atol=1e-4)
    np.testing.assert_allclose(out['keypoints_2d'][0, moved, :2], [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(out['input_scale'], [180.0 * scale] * 2, rtol=1e-6)
    # the augmented 3D joints project (orthographically, same scale) onto the augmented 2D joints
    pixels_per_metre = k * 224.0 / (180.0 * scale)
    joints = out['keypoints_3d'][0]
    np.testing.assert_allclose(joints[J24_PELVIS, :3], 0.0, atol=1e-6)
    np.testing.assert_allclose(crop - crop[J24_PELVIS], pixels_per_metre * joints[:, :2], atol=1e-3)
    assert out['img'].shape == (224, 224, 3) and out['img_shape'] == (224, 224)
    assert out['flip'] == flip and out['rotation'] == rotation


def test_image_and_keypoints_move_together():
    """A bright dot drawn at a keypoint ends up where the transformed keypoint is (rotation + flip + scale)."""
    rng = np.random.default_rng(1)
    image = np.zeros((240, 320, 3), np.uint8)
    spot = np.array([165.5, 96.5])  # continuous coordinates of the centre of pixel (165, 96)
    image[96, 165] = 255
    results, _ = _results(rng, image=image, side=60.0, flip=True, rotation=23.0, scale_factor=1.0)
    results['keypoints'][0, 3] = spot
    out = MeshTopdownAffine()(results)
    crop_point = out['transformed_keypoints'][0, J24_FLIP_PERM.index(3)]
    weights = out['img'][..., 0].astype(np.float64)
    ys, xs = np.mgrid[0:224, 0:224]
    centroid = np.array([(weights * (xs + 0.5)).sum(), (weights * (ys + 0.5)).sum()]) / weights.sum()
    np.testing.assert_allclose(centroid, crop_point, atol=0.35)


def test_flip_twice_is_identity_for_image_2d_3d_and_pose():
    rng = np.random.default_rng(2)
    transform = MeshTopdownAffine()
    plain = transform(_results(rng, flip=False)[0])
    flipped = transform(_results(np.random.default_rng(2), flip=True)[0])
    # re-crop the flipped crop at its own centre with side 224 (identity geometry) and flip again
    again = transform(
        dict(img=flipped['img'],
             bbox_center=np.array([[112.0, 112.0]]),
             bbox_scale=np.array([[224.0, 224.0]]),
             keypoints=flipped['transformed_keypoints'],
             keypoints_visible=flipped['keypoints_2d'][..., 2],
             flip=True))
    difference = np.abs(again['img'].astype(int) - plain['img'].astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.01  # OpenCV's fixed-point interpolation rounding
    np.testing.assert_allclose(again['transformed_keypoints'], plain['transformed_keypoints'], atol=1e-4)
    joints = plain['keypoints_3d'][0]
    np.testing.assert_allclose(augment_joints_3d(augment_joints_3d(joints, 0.0, True), 0.0, True), joints, atol=1e-6)
    pose = rng.normal(0, 0.5, 72)
    np.testing.assert_allclose(augment_smpl_pose(augment_smpl_pose(pose, 0.0, True), 0.0, True), pose, atol=1e-6)
    flipped_pose = augment_smpl_pose(pose, 0.0, True)
    np.testing.assert_allclose(flipped_pose[3:6], pose[6:9] * [1, -1, -1], atol=1e-6)  # left hip <- right hip
    assert SMPL_POSE_FLIP_PERM[:3] == [0, 1, 2]


def test_pose_rotation_pre_multiplies_global_orientation():
    import cv2
    rng = np.random.default_rng(3)
    pose = rng.normal(0, 0.5, 72)
    rotated = augment_smpl_pose(pose, 40.0, False)
    np.testing.assert_allclose(rotated[3:], pose[3:], atol=1e-6)
    phi = np.deg2rad(-40.0)
    rz = np.array([[np.cos(phi), -np.sin(phi), 0], [np.sin(phi), np.cos(phi), 0], [0, 0, 1]])
    expected = rz @ cv2.Rodrigues(pose[:3])[0]
    np.testing.assert_allclose(cv2.Rodrigues(rotated[:3].astype(np.float64))[0], expected, atol=1e-5)


def test_pixel_noise_scales_channels_and_inference_inputs_work():
    image = np.full((100, 100, 3), 100, np.uint8)
    out = MeshTopdownAffine(input_size=(64, 64))(dict(img=image,
                                                      bbox_center=np.array([[50.0, 50.0]]),
                                                      bbox_scale=np.array([[40.0, 40.0]]),
                                                      pixel_noise=np.array([0.5, 1.0, 1.4])))
    np.testing.assert_array_equal(out['img'][32, 32], [50, 100, 140])
    assert 'keypoints_2d' not in out and out['input_size'] == (64, 64)
    with pytest.raises(KeyError, match='bbox_center'):
        MeshTopdownAffine()(dict(img=image))
    with pytest.raises(ValueError, match='one person'):
        MeshTopdownAffine()(dict(img=image, bbox_center=np.zeros((2, 2)), bbox_scale=np.ones((2, 2))))


def test_crop_affine_scales_box_to_input_size():
    matrix = crop_affine(np.array([10.0, 20.0]), 50.0, 0.0, False, (224, 224))
    corners = np.array([[-15.0, -5.0], [35.0, 45.0]]) @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(corners, [[0, 0], [224, 224]], atol=1e-9)


def test_augmented_pose_poses_the_augmented_body(synthetic_generator):
    """Body joints of the augmented pose = the rotated / mirrored joints of the original pose (embedded body)."""
    import torch

    from pointhmr.body.joints import H36M_FLIP_PERM
    from pointhmr.datasets.synthetic.pose_sampler import sample_smpl_parameters
    from pointhmr.datasets.transforms.mesh_topdown_affine import rotation_about_z

    body = synthetic_generator.body
    pose, betas = sample_smpl_parameters(np.random.default_rng(4))

    def centred_joints(p):
        with torch.no_grad():
            v = body(torch.tensor(p[None], dtype=torch.float32), torch.tensor(betas[None], dtype=torch.float32))
            j = body.h36m_joints(v)[0].numpy()
        return j - j[0]

    joints = centred_joints(pose)
    rotated = centred_joints(augment_smpl_pose(pose, 30.0, False))
    np.testing.assert_allclose(rotated, joints @ rotation_about_z(30.0).T, atol=1e-5)
    mirrored = centred_joints(augment_smpl_pose(pose, 0.0, True))
    # the embedded body is symmetric up to about a millimetre
    np.testing.assert_allclose(mirrored, joints[H36M_FLIP_PERM] * [-1.0, 1.0, 1.0], atol=5e-3)


@pytest.mark.parametrize('mode, expected', [('mask', 0.0), ('official', 1.0)])
def test_has_2d_joints_mode(mode, expected):
    """'mask' zeroes the confidences of a sample flagged has_2d_joints = 0; 'official' keeps them (flag ignored)."""
    results, _ = _results(np.random.default_rng(4))
    results['has_2d_joints'] = np.float32(0)
    out = MeshTopdownAffine(has_2d_joints_mode=mode)(results)
    np.testing.assert_array_equal(out['keypoints_2d'][0, :, 2], np.full(24, expected))
    results, _ = _results(np.random.default_rng(4))
    results['has_2d_joints'] = np.float32(1)
    results['keypoints_visible'][0, :5] = 0
    out = MeshTopdownAffine(has_2d_joints_mode=mode)(results)
    np.testing.assert_array_equal(out['keypoints_2d'][0, :, 2], [0] * 5 + [1] * 19)
    with pytest.raises(ValueError, match='has_2d_joints_mode'):
        MeshTopdownAffine(has_2d_joints_mode='ignore')
