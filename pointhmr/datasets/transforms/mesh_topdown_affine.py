"""Crop / rotate / flip one person for PointHMR and apply the same augmentation to every label.

Official behaviour §4.2.

Geometry convention: pixel coordinates are continuous with pixel ``i`` covering ``[i, i + 1)``, so the crop centre is
``input_size / 2`` and the mapping back to the image is mmpose's
``image = crop / input_size * input_scale + input_center - input_scale / 2`` (no rotation at test time). The image
warp uses the same affine, converted to OpenCV's pixel-index convention, so images and labels stay aligned to a
fraction of a pixel.

Two crop modes (``crop_mode``):

* ``'exact'`` (default): one bilinear warp of the exact ``center``/``side`` square (rotation and flip included).
* ``'official'``: the official code's integer box + bilinear resize, rotate-then-resize with padding for rotated crops,
  flip and pixel noise applied to the float crop, rounded to uint8 once (:mod:`.official_crop`). Use it to evaluate
  converted official checkpoints. Labels use the affine of the box actually cut, so they stay aligned with the pixels
  (the official labels use the exact square, so they sit off the official pixels by the corner truncation: up to one
  image pixel, ``224 / side`` crop pixels).

2D confidences (``has_2d_joints_mode``): ``'mask'`` (default) multiplies the per-joint confidences by the sample's
``has_2d_joints`` flag, so a sample without 2D joints never trains the 2D terms; ``'official'`` ignores the flag like
the official loss (confidences only).

Deliberate difference from the official code (both modes): 2D labels are not truncated to integer pixels and shifted
by +1 (GraphCMR's quirk, about +0.5 px on average).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from pointhmr.body.joints import J24_FLIP_PERM, J24_PELVIS, SMPL_POSE_FLIP_PERM
from pointhmr.codecs import WeakPerspectiveCodec
from .official_crop import official_crop

CROP_MODES = ('exact', 'official')
HAS_2D_JOINTS_MODES = ('mask', 'official')


def rotation_about_z(rotation_deg: float) -> np.ndarray:
    """3x3 rotation by ``-rotation_deg`` about the camera z axis: the 3D counterpart of rotating the image
    counter-clockwise by ``rotation_deg`` (x right, y down)."""
    phi = -np.deg2rad(rotation_deg)
    cos, sin = np.cos(phi), np.sin(phi)
    return np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])


def crop_affine(center: np.ndarray, side: float, rotation_deg: float, flip: bool, input_size: Tuple[int,
                                                                                                    int]) -> np.ndarray:
    """2x3 matrix (continuous pixel convention) from image pixels to crop pixels.

    The square of side ``side`` at ``center`` fills the crop; the content is rotated counter-clockwise by
    ``rotation_deg`` about the crop centre, then mirrored horizontally when ``flip``.
    """
    width, height = input_size
    linear = rotation_about_z(rotation_deg)[:2, :2] * np.array([[width / side], [height / side]])
    if flip:
        linear = np.diag([-1.0, 1.0]) @ linear
    offset = np.array([width / 2.0, height / 2.0]) - linear @ np.asarray(center, dtype=np.float64)
    return np.concatenate([linear, offset[:, None]], axis=1)


def to_opencv_affine(matrix: np.ndarray) -> np.ndarray:
    """Convert a continuous-convention affine to OpenCV's (pixel centres at integer coordinates)."""
    out = matrix.copy()
    out[:, 2] += matrix[:, :2] @ np.array([0.5, 0.5]) - 0.5
    return out


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to (..., 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def _flip_perm(flip_perm: Optional[Sequence[int]], what: str) -> Sequence[int]:
    if flip_perm is None:
        raise ValueError(f'a horizontal flip was requested but no {what} flip permutation is set (hands are never '
                         'flipped: use RandomMeshAugmentation(flip_prob=0.0))')
    return flip_perm


def augment_joints_3d(joints: np.ndarray,
                      rotation_deg: float,
                      flip: bool,
                      root_index: int = J24_PELVIS,
                      flip_perm: Optional[Sequence[int]] = J24_FLIP_PERM) -> np.ndarray:
    """(K, 4) joints + confidence (J24 by default) -> root-centred, rotated about z, mirrored (x negated, sides
    swapped with ``flip_perm``)."""
    out = joints.astype(np.float64, copy=True)
    out[:, :3] -= out[root_index, :3]
    out[:, :3] = out[:, :3] @ rotation_about_z(rotation_deg).T
    if flip:
        out = out[list(_flip_perm(flip_perm, 'joint'))]
        out[:, 0] *= -1.0
    return out.astype(np.float32)


def augment_smpl_pose(pose: np.ndarray,
                      rotation_deg: float,
                      flip: bool,
                      flip_perm: Optional[Sequence[int]] = SMPL_POSE_FLIP_PERM) -> np.ndarray:
    """(P,) axis-angle pose (72 SMPL, 48 MANO) -> global orientation pre-multiplied by the z rotation, then mirrored
    with ``flip_perm``."""
    out = np.asarray(pose, dtype=np.float64).reshape(-1).copy()
    if rotation_deg != 0.0:
        global_orient, _ = cv2.Rodrigues(out[:3].reshape(3, 1))
        out[:3] = cv2.Rodrigues(rotation_about_z(rotation_deg) @ global_orient)[0].reshape(3)
    if flip:
        out = out[list(_flip_perm(flip_perm, 'pose'))]
        out[1::3] *= -1.0
        out[2::3] *= -1.0
    return out.astype(np.float32)


@TRANSFORMS.register_module()
class MeshTopdownAffine(BaseTransform):
    """Warp the person box to the network input and transform the labels consistently.

    Reads ``img``, ``bbox_center`` (1, 2), ``bbox_scale`` (1, 2) and, when present, the augmentation recorded by
    ``RandomMeshAugmentation`` and the labels ``keypoints`` / ``keypoints_visible`` / ``keypoints_3d`` /
    ``smpl_pose``. Writes:

    * ``img`` (H, W, 3) uint8 crop (zero border, pixel noise applied), ``img_shape``;
    * ``input_size``, ``input_center`` (2,), ``input_scale`` (2,) (the box that fills the crop: centre and
      width/height in image pixels; ``'official'`` mode: the integer box, whose sides may differ by a pixel),
      ``flip``, ``rotation``, ``crop_matrix`` (2x3, image -> crop pixels);
    * ``transformed_keypoints`` (1, K, 2) crop pixels and ``keypoints_2d`` (1, K, 3) normalised [-1, 1]
      (``WeakPerspectiveCodec``) + confidence (see ``has_2d_joints_mode``), sides swapped when flipped;
    * ``keypoints_3d`` (1, K, 4) root-centred and augmented; ``smpl_pose`` (P,) augmented.

    ``keypoints`` / ``keypoints_visible`` stay in original-image pixels (they become ``gt_instances``).

    Args:
        input_size: network input ``(w, h)``.
        crop_mode: ``'exact'`` (one warp of the exact box) or ``'official'`` (the official integer box + resize;
            square ``input_size`` only). See the module docstring.
        has_2d_joints_mode: ``'mask'`` (confidence x ``has_2d_joints``) or ``'official'`` (confidence only).
        root_index: root of the label joints (J24 pelvis 14; 0 = the wrist of FreiHAND hands).
        flip_perm: left/right swap of the label joints (J24); ``None`` = flipping is an error (hands).
        pose_flip_perm: left/right swap of the flattened axis-angle pose (SMPL); ``None`` as above.
    """

    def __init__(
        self,
        input_size: Tuple[int, int] = (224, 224),
        crop_mode: str = 'exact',
        has_2d_joints_mode: str = 'mask',
        root_index: int = J24_PELVIS,
        flip_perm: Optional[Sequence[int]] = tuple(J24_FLIP_PERM),
        pose_flip_perm: Optional[Sequence[int]] = tuple(SMPL_POSE_FLIP_PERM)
    ) -> None:
        super().__init__()
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f'input_size must be (w, h) with positive entries, got {input_size}')
        if crop_mode not in CROP_MODES:
            raise ValueError(f'crop_mode must be one of {CROP_MODES}, got {crop_mode!r}')
        if crop_mode == 'official' and input_size[0] != input_size[1]:
            raise ValueError(f"crop_mode='official' crops squares only; got input_size={input_size}")
        if has_2d_joints_mode not in HAS_2D_JOINTS_MODES:
            raise ValueError(f'has_2d_joints_mode must be one of {HAS_2D_JOINTS_MODES}, got {has_2d_joints_mode!r}')
        self.has_2d_joints_mode = has_2d_joints_mode
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.crop_mode = crop_mode
        self.codec = WeakPerspectiveCodec(input_size=self.input_size)
        self.root_index = int(root_index)
        self.flip_perm = None if flip_perm is None else [int(i) for i in flip_perm]
        self.pose_flip_perm = None if pose_flip_perm is None else [int(i) for i in pose_flip_perm]

    @staticmethod
    def _single(results: dict, key: str, width: int) -> np.ndarray:
        value = np.asarray(results[key], dtype=np.float64).reshape(-1, width)
        if value.shape[0] != 1:
            raise ValueError(f'MeshTopdownAffine crops one person per sample, but {key!r} holds {value.shape[0]} '
                             'instances; split multi-person inputs into one sample per box')
        return value[0]

    def transform(self, results: dict) -> Optional[dict]:
        for key in ('img', 'bbox_center', 'bbox_scale'):
            if key not in results:
                raise KeyError(f'MeshTopdownAffine needs {key!r} in the results; put MeshBBoxCenterScale (and an '
                               'image loader) before it')
        center = self._single(results, 'bbox_center', 2)
        side = float(self._single(results, 'bbox_scale', 2).max()) * float(results.get('scale_factor', 1.0))
        if not np.isfinite(side) or side <= 0:
            raise ValueError(f'bbox_scale must be positive, got {results["bbox_scale"]}')
        rotation = float(results.get('rotation', 0.0))
        flip = bool(results.get('flip', False))
        pixel_noise = results.get('pixel_noise')
        gains = None
        if pixel_noise is not None and not np.allclose(pixel_noise, 1.0):
            gains = np.asarray(pixel_noise, dtype=np.float32).reshape(1, 1, -1)
        if self.crop_mode == 'official':
            img, matrix, box_center, box_size = self._official(results['img'], center, side, rotation, flip, gains)
        else:
            matrix = crop_affine(center, side, rotation, flip, self.input_size)
            box_center, box_size = center, np.array([side, side])
            img = cv2.warpAffine(results['img'],
                                 to_opencv_affine(matrix),
                                 self.input_size,
                                 flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0)
            if gains is not None:
                img = np.clip(np.rint(img.astype(np.float32) * gains), 0, 255).astype(np.uint8)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['input_size'] = self.input_size
        results['input_center'] = np.asarray(box_center, dtype=np.float32)
        results['input_scale'] = np.asarray(box_size, dtype=np.float32)
        results['flip'] = flip
        results['rotation'] = rotation
        results['crop_matrix'] = matrix.astype(np.float32)

        if 'keypoints' in results:
            keypoints = np.asarray(results['keypoints'], dtype=np.float64).reshape(1, -1, 2)
            num_joints = keypoints.shape[1]
            visible = results.get('keypoints_visible')
            visible = np.ones((1, num_joints)) if visible is None else np.asarray(visible).reshape(1, num_joints)
            if self.has_2d_joints_mode == 'mask' and 'has_2d_joints' in results:
                visible = visible * float(np.asarray(results['has_2d_joints']).reshape(-1)[0])
            crop_points = apply_affine(keypoints, matrix)
            if flip:
                perm = list(_flip_perm(self.flip_perm, 'joint'))
                crop_points, visible = crop_points[:, perm], visible[:, perm]
            encoded = self.codec.encode(crop_points.astype(np.float32), visible.astype(np.float32))
            results['transformed_keypoints'] = crop_points.astype(np.float32)
            results['keypoints_2d'] = np.concatenate(
                [encoded['keypoint_labels'], encoded['keypoint_weights'][..., None]], axis=-1).astype(np.float32)
        if 'keypoints_3d' in results:
            joints = np.asarray(results['keypoints_3d'], dtype=np.float64).reshape(-1, 4)
            results['keypoints_3d'] = augment_joints_3d(joints, rotation, flip, self.root_index, self.flip_perm)[None]
        if 'smpl_pose' in results:
            results['smpl_pose'] = augment_smpl_pose(results['smpl_pose'], rotation, flip, self.pose_flip_perm)
        return results

    def _official(self, img: np.ndarray, center: np.ndarray, side: float, rotation: float, flip: bool,
                  gains: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Official crop, then flip, then pixel noise on the float crop (that order), rounded to uint8 once."""
        res = self.input_size[0]
        crop, matrix = official_crop(img, center, side, rotation, res)
        # the affine's inverse maps the crop centre / corners back to the cut box (rotation does not change its size)
        linear = matrix[:, :2]
        box_center = np.linalg.solve(linear, np.full(2, res / 2.0) - matrix[:, 2])
        box_size = res / np.sqrt((linear**2).sum(axis=1))
        if flip:
            crop = crop[:, ::-1]
            matrix = np.array([[-1.0, 0.0, float(res)], [0.0, 1.0, 0.0]]) @ np.vstack([matrix, [0.0, 0.0, 1.0]])
        if gains is not None:
            crop = crop * gains
        crop = np.clip(np.rint(crop), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(crop), matrix, box_center, box_size

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, crop_mode={self.crop_mode!r}, '
                f'has_2d_joints_mode={self.has_2d_joints_mode!r}, root_index={self.root_index}, '
                f'flip={"yes" if self.flip_perm is not None else "no"})')
