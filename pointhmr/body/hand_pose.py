"""Hand articulation: anatomical joint axes of a MANO-format hand and a joint-limit pose sampler.

MANO poses a hand with 15 axis-angle rotations (one per finger joint, in the rest-pose frame of the parent). The axes
that matter anatomically (flexion = curling towards the palm, abduction = spreading in the palm plane, twist = about
the bone) follow from the rest-pose joint positions alone, so the same code serves the real MANO model and the
embedded synthetic hand:

* bone direction ``d``: from the joint to the next joint of its finger (the last joint reuses its parent's bone);
* palm normal ``n``: ``(index1 - wrist) x (pinky1 - wrist)``, pointing out of the palm for a right hand; the thumb
  curls towards the palm and the little finger at once, so it uses ``n + u`` (``u`` = index1 -> pinky1 direction);
* flexion axis ``d x n`` (a positive angle turns the bone towards the palm), abduction axis ``(d x n) x d``
  (a positive angle turns the bone towards the little finger), twist axis ``d``.

:class:`HandPoseSampler` draws per-finger curl levels (correlated through one grasp level per hand, so hands look
like open hands, fists and mixtures rather than random finger noise) and maps them into :data:`JOINT_LIMITS`.
"""
from typing import Dict, Optional, Tuple

import numpy as np
from scipy.spatial.transform import Rotation

from .joints import MANO_FINGER_JOINTS, MANO_PARENTS, NUM_MANO_JOINTS

Range = Tuple[float, float]

#: MANO joint -> (flexion, abduction, twist) limits in radians, around the flat hand (all angles 0 = flat hand)
JOINT_LIMITS: Dict[int, Tuple[Range, Range, Range]] = {
    1: ((-0.25, 1.5), (-0.30, 0.20), (-0.10, 0.10)),  # index MCP: spreads towards the thumb (negative)
    2: ((0.0, 1.75), (-0.05, 0.05), (-0.05, 0.05)),  # index PIP
    3: ((-0.1, 1.3), (-0.03, 0.03), (-0.03, 0.03)),  # index DIP
    4: ((-0.25, 1.5), (-0.15, 0.15), (-0.10, 0.10)),  # middle MCP
    5: ((0.0, 1.8), (-0.05, 0.05), (-0.05, 0.05)),
    6: ((-0.1, 1.3), (-0.03, 0.03), (-0.03, 0.03)),
    7: ((-0.25, 1.5), (-0.15, 0.40), (-0.10, 0.10)),  # pinky MCP: spreads away from the hand (positive)
    8: ((0.0, 1.7), (-0.05, 0.05), (-0.05, 0.05)),
    9: ((-0.1, 1.3), (-0.03, 0.03), (-0.03, 0.03)),
    10: ((-0.25, 1.5), (-0.10, 0.25), (-0.10, 0.10)),  # ring MCP
    11: ((0.0, 1.8), (-0.05, 0.05), (-0.05, 0.05)),
    12: ((-0.1, 1.3), (-0.03, 0.03), (-0.03, 0.03)),
    13: ((-0.3, 0.8), (-0.4, 0.5), (-0.3, 0.3)),  # thumb CMC: across the palm, out of the palm plane, rotation
    14: ((-0.1, 1.0), (-0.1, 0.1), (-0.1, 0.1)),  # thumb MCP
    15: ((-0.3, 1.3), (-0.05, 0.05), (-0.05, 0.05)),  # thumb IP
}


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v)
    if norm < 1e-9:
        raise ValueError('degenerate hand rest pose: two joints coincide or the palm is collinear')
    return v / norm


def joint_axes(rest_joints: np.ndarray) -> np.ndarray:
    """``(16, 3, 3)`` rows = flexion, abduction and twist axes of each MANO joint (row 0, the wrist, is identity).

    Args:
        rest_joints: ``(16, 3)`` rest-pose MANO joint positions of a right hand.
    """
    joints = np.asarray(rest_joints, dtype=np.float64)
    if joints.shape != (NUM_MANO_JOINTS, 3):
        raise ValueError(f'rest_joints must be (16, 3) MANO joints, got {joints.shape}')
    index1, pinky1 = MANO_FINGER_JOINTS['index'][0], MANO_FINGER_JOINTS['pinky'][0]
    palm = _unit(np.cross(joints[index1] - joints[0], joints[pinky1] - joints[0]))
    across = _unit(joints[pinky1] - joints[index1])
    axes = np.tile(np.eye(3), (NUM_MANO_JOINTS, 1, 1))
    for finger, chain in MANO_FINGER_JOINTS.items():
        normal = _unit(palm + across) if finger == 'thumb' else palm
        for k, joint in enumerate(chain):
            child_dir = joints[chain[k + 1]] - joints[joint] if k + 1 < len(chain) else \
                joints[joint] - joints[MANO_PARENTS[joint]]
            bone = _unit(child_dir)
            flexion = _unit(np.cross(bone, normal))
            axes[joint] = np.stack([flexion, np.cross(flexion, bone), bone])
    return axes


def angles_to_axis_angle(angles: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``(15, 3)`` (flexion, abduction, twist) angles -> ``(45,)`` axis-angle articulated pose (flat-hand relative).

    Each joint rotates by ``R(flexion) R(abduction) R(twist)`` about its own axes from :func:`joint_axes`.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape != (NUM_MANO_JOINTS - 1, 3):
        raise ValueError(f'angles must be (15, 3) flexion/abduction/twist, got {angles.shape}')
    pose = np.zeros((NUM_MANO_JOINTS - 1, 3))
    for row, joint in enumerate(range(1, NUM_MANO_JOINTS)):
        rotation = Rotation.identity()
        for axis, angle in zip(axes[joint], angles[row]):
            rotation = rotation * Rotation.from_rotvec(angle * axis)
        pose[row] = rotation.as_rotvec()
    return pose.reshape(-1)


class HandPoseSampler:
    """Random plausible 45-D articulated MANO poses inside :data:`JOINT_LIMITS` (deterministic for a given ``rng``).

    Args:
        rest_joints: ``(16, 3)`` rest-pose joints of the hand model (:meth:`MANOHandModel.rest_joints`).
        hand_mean: ``(45,)`` pose the model adds to its input (MANO ``hands_mean`` when the model is built with
            ``flat_hand_mean=False``); it is subtracted so the model's full pose is the sampled one. None = zeros.
        curl_noise: spread of each finger's curl around the hand's grasp level (0 = all fingers curl together).
    """

    def __init__(self, rest_joints: np.ndarray, hand_mean: Optional[np.ndarray] = None, curl_noise: float = 0.35):
        self.axes = joint_axes(rest_joints)
        self.hand_mean = np.zeros(45) if hand_mean is None else np.asarray(hand_mean, dtype=np.float64).reshape(-1)
        if self.hand_mean.shape != (45, ):
            raise ValueError(f'hand_mean must have 45 values, got {self.hand_mean.shape}')
        if not 0.0 <= curl_noise <= 1.0:
            raise ValueError(f'curl_noise must be in [0, 1], got {curl_noise}')
        self.curl_noise = float(curl_noise)
        limits = np.array([JOINT_LIMITS[j] for j in range(1, NUM_MANO_JOINTS)])  # (15, 3, 2)
        self.low, self.high = limits[..., 0], limits[..., 1]

    @classmethod
    def from_model(cls, model, **kwargs) -> 'HandPoseSampler':
        """Sampler for a built :class:`~pointhmr.body.MANOHandModel` (its rest joints and added pose mean)."""
        return cls(model.rest_joints().cpu().numpy(), model.hand_mean.cpu().numpy(), **kwargs)

    def sample_angles(self, rng: np.random.Generator) -> np.ndarray:
        """``(15, 3)`` flexion / abduction / twist angles inside the limits."""
        grasp = rng.uniform(0.0, 1.0)
        angles = np.zeros((NUM_MANO_JOINTS - 1, 3))
        for finger, chain in MANO_FINGER_JOINTS.items():
            curl = np.clip(grasp + self.curl_noise * rng.uniform(-1.0, 1.0), 0.0, 1.0)
            rows = np.asarray(chain) - 1
            low, high = self.low[rows], self.high[rows]
            flex = curl + 0.15 * rng.uniform(-1.0, 1.0, size=len(rows))
            angles[rows, 0] = low[:, 0] + np.clip(flex, 0.0, 1.0) * (high[:, 0] - low[:, 0])
            # curled fingers spread less; abduction and twist are drawn around the middle of their ranges
            spread = 1.0 - 0.6 * curl if finger != 'thumb' else 1.0
            for column in (1, 2):
                mid, half = 0.5 * (low[:, column] + high[:, column]), 0.5 * (high[:, column] - low[:, column])
                angles[rows, column] = mid + spread * half * rng.uniform(-1.0, 1.0, size=len(rows))
        return angles

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """``(45,)`` pose to feed the model (the hand mean already subtracted)."""
        return angles_to_axis_angle(self.sample_angles(rng), self.axes) - self.hand_mean
