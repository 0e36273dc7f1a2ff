"""Random plausible SMPL poses and shapes for the synthetic dataset.

Each body joint's axis-angle components are drawn uniformly from limited ranges around a relaxed standing pose
(arms lowered from the T-pose, mild bends), which keeps the bodies human-looking without a learned pose prior.
The global orientation turns the SMPL frame (y up, facing +z) into the camera frame (y down, facing the camera),
turns the body about the vertical axis by a random angle in ``[-max_turn, max_turn]`` degrees and adds a small random
tilt. The default turn range (+-60 degrees, people mostly facing the camera as in real photos) keeps the task
learnable: a uniformly coloured body seen from the front and from the back has nearly the same silhouette, so a full
turn (``max_turn=180``) makes the facing direction almost ambiguous from the image.
"""
from typing import Dict, Tuple

import cv2
import numpy as np

#: default turn range about the vertical axis, degrees either side of facing the camera
DEFAULT_MAX_TURN = 60.0

#: SMPL joint index -> ((low, high) for the x, y and z axis-angle components), radians
JOINT_RANGES: Dict[int, Tuple[Tuple[float, float], Tuple[float, float], Tuple[float, float]]] = {
    1: ((-0.9, 0.3), (-0.3, 0.3), (-0.05, 0.45)),  # left hip: flexion (x<0 = leg forward), abduction (z>0)
    2: ((-0.9, 0.3), (-0.3, 0.3), (-0.45, 0.05)),  # right hip
    3: ((-0.15, 0.35), (-0.2, 0.2), (-0.15, 0.15)),  # spine1
    4: ((0.0, 1.4), (-0.05, 0.05), (-0.05, 0.05)),  # left knee (bends backwards only)
    5: ((0.0, 1.4), (-0.05, 0.05), (-0.05, 0.05)),  # right knee
    6: ((-0.1, 0.2), (-0.2, 0.2), (-0.1, 0.1)),  # spine2
    7: ((-0.3, 0.3), (-0.2, 0.2), (-0.1, 0.1)),  # left ankle
    8: ((-0.3, 0.3), (-0.2, 0.2), (-0.1, 0.1)),  # right ankle
    9: ((-0.1, 0.2), (-0.2, 0.2), (-0.1, 0.1)),  # spine3
    12: ((-0.3, 0.4), (-0.4, 0.4), (-0.2, 0.2)),  # neck
    13: ((-0.1, 0.1), (-0.15, 0.15), (-0.2, 0.1)),  # left collar
    14: ((-0.1, 0.1), (-0.15, 0.15), (-0.1, 0.2)),  # right collar
    15: ((-0.2, 0.3), (-0.3, 0.3), (-0.15, 0.15)),  # head
    16: ((-0.5, 0.5), (-0.6, 0.4), (-1.4, 0.3)),  # left shoulder: z<0 lowers the arm
    17: ((-0.5, 0.5), (-0.4, 0.6), (-0.3, 1.4)),  # right shoulder: z>0 lowers the arm
    18: ((-0.1, 0.1), (-2.0, 0.0), (-0.1, 0.1)),  # left elbow: y<0 bends forwards
    19: ((-0.1, 0.1), (0.0, 2.0), (-0.1, 0.1)),  # right elbow
    20: ((-0.3, 0.3), (-0.3, 0.3), (-0.4, 0.4)),  # left wrist
    21: ((-0.3, 0.3), (-0.3, 0.3), (-0.4, 0.4)),  # right wrist
}

_LOW = np.zeros((24, 3))
_HIGH = np.zeros((24, 3))
for _joint, _ranges in JOINT_RANGES.items():
    _LOW[_joint], _HIGH[_joint] = np.array(_ranges).T


def sample_body_pose(rng: np.random.Generator) -> np.ndarray:
    """(72,) axis-angle pose with zero global orientation and joint angles inside :data:`JOINT_RANGES`."""
    return rng.uniform(_LOW, _HIGH).reshape(72)


def sample_global_orient(rng: np.random.Generator,
                         max_tilt: float = 0.15,
                         max_turn: float = DEFAULT_MAX_TURN) -> np.ndarray:
    """(3,) axis-angle: SMPL (y up) -> camera (y down), a turn about the vertical axis drawn uniformly from
    ``[-max_turn, max_turn]`` degrees (0 = facing the camera, 180 = any direction), a tilt of up to ``max_tilt``
    radians about the camera's x and z axes."""
    if not 0.0 <= max_turn <= 180.0:
        raise ValueError(f'max_turn must be in [0, 180] degrees, got {max_turn}')
    turn = rng.uniform(-1.0, 1.0) * np.deg2rad(max_turn)
    tilt_x, tilt_z = rng.uniform(-max_tilt, max_tilt, size=2)
    to_camera, _ = cv2.Rodrigues(np.array([[np.pi], [0.0], [0.0]]))
    turn_m, _ = cv2.Rodrigues(np.array([[0.0], [turn], [0.0]]))
    tilt_m, _ = cv2.Rodrigues(np.array([[tilt_x], [0.0], [tilt_z]]))
    rotation = tilt_m @ to_camera @ turn_m
    return cv2.Rodrigues(rotation)[0].reshape(3)


def sample_betas(rng: np.random.Generator, std: float = 0.6, limit: float = 1.5) -> np.ndarray:
    """(10,) mild shape coefficients: N(0, std) clipped to [-limit, limit]."""
    return np.clip(rng.normal(0.0, std, size=10), -limit, limit)


def sample_smpl_parameters(rng: np.random.Generator,
                           max_turn: float = DEFAULT_MAX_TURN) -> Tuple[np.ndarray, np.ndarray]:
    """One random (pose (72,), betas (10,)) pair; ``max_turn``: see :func:`sample_global_orient`."""
    pose = sample_body_pose(rng)
    pose[:3] = sample_global_orient(rng, max_turn=max_turn)
    return pose, sample_betas(rng)
