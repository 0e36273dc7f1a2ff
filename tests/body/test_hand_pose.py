import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from pointhmr.body.hand_pose import JOINT_LIMITS, HandPoseSampler, angles_to_axis_angle, joint_axes
from pointhmr.body.synthetic_hand import TEMPLATE_JOINTS


def test_axes_are_orthonormal_and_follow_the_hand():
    axes = joint_axes(TEMPLATE_JOINTS)
    assert axes.shape == (16, 3, 3)
    for frame in axes:
        np.testing.assert_allclose(frame @ frame.T, np.eye(3), atol=1e-12)
        assert abs(np.linalg.det(frame)) == pytest.approx(1.0)
    # synthetic hand: fingers along +x, palm facing -y -> finger flexion about -z, twist about the finger (+x)
    for joint in range(1, 13):
        assert axes[joint][0] @ np.array([0.0, 0.0, -1.0]) > 0.95
        assert axes[joint][2][0] > 0.95
    rotation = Rotation.from_rotvec([0.3, -1.2, 2.0]).as_matrix()
    np.testing.assert_allclose(joint_axes(TEMPLATE_JOINTS @ rotation.T)[1:], axes[1:] @ rotation.T, atol=1e-12)


def test_angles_to_axis_angle():
    axes = joint_axes(TEMPLATE_JOINTS)
    angles = np.zeros((15, 3))
    angles[0, 0] = 0.7  # index MCP flexion only
    pose = angles_to_axis_angle(angles, axes).reshape(15, 3)
    np.testing.assert_allclose(pose[0], 0.7 * axes[1][0])
    assert not pose[1:].any()
    with pytest.raises(ValueError, match='15, 3'):
        angles_to_axis_angle(np.zeros((16, 3)), axes)


def test_sampler_is_deterministic_and_inside_the_limits():
    sampler = HandPoseSampler(TEMPLATE_JOINTS)
    first = [sampler.sample(np.random.default_rng(7)) for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    assert first[0].shape == (45, )
    assert not np.array_equal(first[0], sampler.sample(np.random.default_rng(8)))
    rng = np.random.default_rng(0)
    angles = np.stack([sampler.sample_angles(rng) for _ in range(500)])
    low = np.array([[r[0] for r in JOINT_LIMITS[j]] for j in range(1, 16)])
    high = np.array([[r[1] for r in JOINT_LIMITS[j]] for j in range(1, 16)])
    assert np.all(angles >= low - 1e-12) and np.all(angles <= high + 1e-12)
    # open hands and fists both occur: mean finger flexion spans most of its range
    finger_flexion = angles[:, :12, 0].mean(1)
    assert finger_flexion.min() < 0.2 and finger_flexion.max() > 1.1


def test_sample_removes_the_model_mean(hand_model):
    sampler = HandPoseSampler.from_model(hand_model)
    np.testing.assert_allclose(sampler.hand_mean, hand_model.hand_mean.numpy(), atol=1e-7)
    pose = sampler.sample(np.random.default_rng(3))
    angles = sampler.sample_angles(np.random.default_rng(3))
    np.testing.assert_allclose(pose + sampler.hand_mean, angles_to_axis_angle(angles, sampler.axes), atol=1e-12)


def test_sampled_hands_stay_plausible(hand_model, synthetic_hand):
    sampler = HandPoseSampler.from_model(hand_model)
    rng = np.random.default_rng(1)
    poses = torch.from_numpy(np.stack([np.concatenate([np.zeros(3), sampler.sample(rng)]) for _ in range(64)]))
    vertices = hand_model(poses.float(), torch.zeros(64, 10))
    keypoints = hand_model.keypoints(vertices)
    tips = keypoints[:, [4, 8, 12, 16, 20]]
    # fingers bend towards the palm (-y), never far backwards; tips stay within a hand length of the wrist
    assert tips[..., 1].max() < 0.03
    assert (tips - keypoints[:, :1]).norm(dim=-1).max() < 0.2
    # bones keep their lengths (rigid skinning of the joints): thumb1 -> thumb2 in every sample
    bone = (keypoints[:, 2] - keypoints[:, 1]).norm(dim=-1)
    assert (bone.max() - bone.min()) < 2e-3


def test_bad_arguments():
    with pytest.raises(ValueError, match='16, 3'):
        HandPoseSampler(np.zeros((21, 3)))
    with pytest.raises(ValueError, match='degenerate'):
        HandPoseSampler(np.zeros((16, 3)))
    with pytest.raises(ValueError, match='hand_mean'):
        HandPoseSampler(TEMPLATE_JOINTS, hand_mean=np.zeros(48))
    with pytest.raises(ValueError, match='curl_noise'):
        HandPoseSampler(TEMPLATE_JOINTS, curl_noise=2.0)
