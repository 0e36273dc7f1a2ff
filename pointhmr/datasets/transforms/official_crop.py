"""The official code's person crop (METRO / GraphCMR ``image_ops.crop``), reproduced for evaluating its checkpoints.

How it works: with ``h = side`` (``200 * scale``) the crop map sends image point ``p`` to
``res * ((p - center) / h + 0.5)``. The box corners are the images of crop points 0 and ``res`` under the inverse
map, each coordinate truncated toward zero to an integer. That integer box is copied into a zero buffer (zero outside
the image) and resized to ``res x res`` with bilinear interpolation. With a rotation the box is first padded on every
side by ``int(|br - ul| / 2 - (br_y - ul_y) / 2)`` pixels, the padded buffer is rotated about its centre
(``cv2.getRotationMatrix2D`` + ``cv2.warpAffine``, zero border), the padding removed, then the result resized: two
resamplings instead of the one warp of the ``'exact'`` mode.

The pixels come from the integer box, not from the exact ``center``/``side`` square, so :func:`official_crop` also
returns the affine of the crop actually cut; labels transformed with it stay aligned with the pixels.
"""
from typing import Tuple

import cv2
import numpy as np


def official_box(center: np.ndarray, side: float, res: int) -> Tuple[np.ndarray, np.ndarray]:
    """Integer corners ``(ul, br)`` (x, y) of the official crop box, before the rotation padding.

    Computed like the official code, through the inverted 3x3 crop matrix: corners that fall on an integer (frequent
    for boxes built from integer mask boxes) come out one ulp above or below it, and the truncation follows that; the
    direct formula ``center -/+ side / 2`` gives another integer for about 0.6% of corner coordinates of such boxes.
    """
    cx, cy = (float(v) for v in np.asarray(center, dtype=np.float64).reshape(2))
    forward = np.array([[res / side, 0.0, res * (-cx / side + 0.5)], [0.0, res / side, res * (-cy / side + 0.5)],
                        [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(forward)
    # official: transform([1, 1]) -> int(inv @ (0, 0)) + 1, minus 1 again for the corner (same for res + 1)
    ul = (inverse @ np.array([0.0, 0.0, 1.0]))[:2].astype(int)
    br = (inverse @ np.array([float(res), float(res), 1.0]))[:2].astype(int)
    return ul, br


def official_crop(img: np.ndarray, center: np.ndarray, side: float, rotation: float,
                  res: int) -> Tuple[np.ndarray, np.ndarray]:
    """Cut and resize the official crop; return ``(crop, matrix)``.

    ``crop`` is the floating-point ``(res, res, C)`` image before any rounding; ``matrix`` the 2x3 affine (continuous
    pixel convention, pixel ``i`` covers ``[i, i + 1)``) from image pixels to crop pixels of the box actually cut.
    """
    if side <= 0 or not np.isfinite(side):
        raise ValueError(f'official crop: box side must be positive, got {side}')
    ul, br = official_box(center, side, res)
    size = (br - ul).astype(np.float64)
    if np.any(size <= 0):
        raise ValueError(f'official crop: the integer box {ul.tolist()}..{br.tolist()} is empty (box side {side}); '
                         'the official code cannot crop boxes smaller than a pixel')
    pad = int(np.linalg.norm(br - ul) / 2 - float(br[1] - ul[1]) / 2) if rotation != 0 else 0
    top_left, bottom_right = ul - pad, br + pad
    width, height = (bottom_right - top_left).tolist()
    channels = img.shape[2:] if img.ndim == 3 else ()
    # rotated crops: float64 like the official buffer (np.zeros), because OpenCV rotates float32 and float64 images
    # differently (up to several grey levels); the resize alone agrees to 1e-4 grey levels, so float32 saves memory
    buffer = np.zeros((height, width) + channels, dtype=np.float64 if rotation != 0 else np.float32)
    img_h, img_w = img.shape[:2]
    x0, x1 = max(0, top_left[0]), min(img_w, bottom_right[0])
    y0, y1 = max(0, top_left[1]), min(img_h, bottom_right[1])
    if x1 > x0 and y1 > y0:
        buffer[y0 - top_left[1]:y1 - top_left[1], x0 - top_left[0]:x1 - top_left[0]] = img[y0:y1, x0:x1]
    rot = cv2.getRotationMatrix2D(((width - 1) * 0.5, (height - 1) * 0.5), float(rotation), 1.0)
    if rotation != 0:
        buffer = cv2.warpAffine(buffer, rot, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
        buffer = buffer[pad:height - pad, pad:width - pad]
    crop = cv2.resize(buffer, (res, res), interpolation=cv2.INTER_LINEAR)
    if crop.ndim == 2 and channels:
        crop = crop[..., None]
    # image p -> res / size * (R (p - box centre) + size / 2): rotation about the box centre, then the resize
    linear = np.diag(res / size) @ rot[:, :2]
    box_center = (ul + br) / 2.0
    offset = np.full(2, res / 2.0) - linear @ box_center
    return crop, np.concatenate([linear, offset[:, None]], axis=1)
