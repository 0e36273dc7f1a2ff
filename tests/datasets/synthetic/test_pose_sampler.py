import cv2
import numpy as np
import pytest

from pointhmr.datasets.synthetic.pose_sampler import DEFAULT_MAX_TURN, sample_global_orient, sample_smpl_parameters


def _yaw_from_camera_deg(global_orient: np.ndarray) -> float:
    """Angle (degrees) about the vertical axis between the body's facing direction and facing the camera."""
    rotation, _ = cv2.Rodrigues(np.asarray(global_orient, dtype=np.float64).reshape(3, 1))
    facing = rotation @ np.array([0.0, 0.0, 1.0])  # SMPL faces +z; the camera looks along +z
    return float(np.degrees(np.arctan2(facing[0], -facing[2])))


def _yaws(max_turn: float, count: int = 200) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.array([_yaw_from_camera_deg(sample_global_orient(rng, max_turn=max_turn)) for _ in range(count)])


def test_default_turn_keeps_bodies_facing_the_camera():
    yaws = _yaws(DEFAULT_MAX_TURN)
    assert DEFAULT_MAX_TURN == 60.0
    assert np.abs(yaws).max() <= DEFAULT_MAX_TURN + 10.0  # the small tilt moves the facing direction a little
    assert np.abs(yaws).max() > 0.8 * DEFAULT_MAX_TURN  # the range is used, in both directions
    assert yaws.min() < 0 < yaws.max()


def test_zero_turn_faces_the_camera_and_full_turn_covers_the_back():
    assert np.abs(_yaws(0.0, 50)).max() < 10.0
    assert (np.abs(_yaws(180.0)) > 120.0).mean() > 0.2


def test_smpl_parameters_follow_max_turn_and_reject_bad_ranges():
    pose, betas = sample_smpl_parameters(np.random.default_rng(1), max_turn=20.0)
    assert pose.shape == (72, ) and betas.shape == (10, )
    assert abs(_yaw_from_camera_deg(pose[:3])) <= 30.0
    with pytest.raises(ValueError, match='max_turn'):
        sample_global_orient(np.random.default_rng(0), max_turn=200.0)
