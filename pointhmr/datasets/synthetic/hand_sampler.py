"""Random plausible MANO hand parameters for the synthetic hand dataset (the ``parameter_sampler`` of the generator).

Finger articulation comes from :class:`pointhmr.body.hand_pose.HandPoseSampler` (joint limits of the hand model). The
global orientation turns the MANO frame (fingers along +x, palm facing -y, thumb side at -z) into a FreiHAND-like
view: fingers pointing up in the image with the palm facing the camera, then turned about the vertical axis by up to
``max_turn`` degrees (180 = palm or back of the hand), tilted about the horizontal axis by up to ``max_tilt`` and
rolled in the image plane by up to ``max_roll`` degrees. Betas are drawn from N(0, ``beta_std``) clipped to +-2.
"""
from typing import Tuple

import cv2
import numpy as np

#: rotation from the MANO frame to the camera frame (x right, y down, z forward): fingers -> up (-y), palm normal
#: (-y in MANO) -> towards the camera (-z), so the thumb side (-z in MANO) -> +x
MANO_TO_CAMERA = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _rotation(axis: int, degrees: float) -> np.ndarray:
    vector = np.zeros(3)
    vector[axis] = np.deg2rad(degrees)
    return cv2.Rodrigues(vector)[0]


class HandParameterSampler:
    """``(rng) -> (pose (48,), betas (10,))`` for a built :class:`~pointhmr.body.MANOHandModel`.

    Args:
        hand_model: the hand model (its rest joints and pose mean set up the articulation sampler).
        max_turn / max_tilt / max_roll: uniform ranges (degrees, either side) of the turn about the vertical axis, the
            tilt about the horizontal axis and the in-plane roll.
        beta_std: standard deviation of the shape coefficients.
        curl_noise: see :class:`~pointhmr.body.hand_pose.HandPoseSampler`.
    """

    def __init__(self,
                 hand_model,
                 max_turn: float = 60.0,
                 max_tilt: float = 30.0,
                 max_roll: float = 45.0,
                 beta_std: float = 0.8,
                 curl_noise: float = 0.35) -> None:
        from pointhmr.body.hand_pose import HandPoseSampler
        for name, value in (('max_turn', max_turn), ('max_tilt', max_tilt), ('max_roll', max_roll)):
            if not 0.0 <= float(value) <= 180.0:
                raise ValueError(f'HandParameterSampler: {name} must be in [0, 180] degrees, got {value}')
        if beta_std < 0:
            raise ValueError(f'HandParameterSampler: beta_std must be >= 0, got {beta_std}')
        self.fingers = HandPoseSampler.from_model(hand_model, curl_noise=curl_noise)
        self.num_betas = int(hand_model.num_betas)
        self.max_turn, self.max_tilt, self.max_roll = float(max_turn), float(max_tilt), float(max_roll)
        self.beta_std = float(beta_std)

    def global_orient(self, rng: np.random.Generator) -> np.ndarray:
        """(3,) axis-angle global orientation (roll @ tilt @ turn @ MANO_TO_CAMERA)."""
        turn = _rotation(1, rng.uniform(-self.max_turn, self.max_turn))
        tilt = _rotation(0, rng.uniform(-self.max_tilt, self.max_tilt))
        roll = _rotation(2, rng.uniform(-self.max_roll, self.max_roll))
        return cv2.Rodrigues(roll @ tilt @ turn @ MANO_TO_CAMERA)[0].reshape(3)

    def __call__(self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        orient = self.global_orient(rng)
        fingers = self.fingers.sample(rng)
        betas = np.clip(rng.normal(0.0, self.beta_std, self.num_betas), -2.0, 2.0) if self.beta_std else np.zeros(
            self.num_betas)
        return np.concatenate([orient, fingers]).astype(np.float64), betas.astype(np.float64)
