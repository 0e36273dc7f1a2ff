"""The ``'official'`` crop mode against a reference written from the official crop's description, on a real photo."""
import math
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest

from pointhmr.datasets.transforms import MeshTopdownAffine
from pointhmr.datasets.transforms.official_crop import official_box, official_crop

RES = 224


@pytest.fixture(scope='module')
def photo() -> np.ndarray:
    """matplotlib's sample photo (600 x 512, BGR), shipped with the installed package."""
    path = Path(matplotlib.get_data_path()) / 'sample_data' / 'grace_hopper.jpg'
    if not path.is_file():
        pytest.fail(f'{path} missing: the matplotlib installation has no sample data')
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def reference_crop(img: np.ndarray, center, side: float, rotation: float, res: int = RES) -> np.ndarray:
    """Written from the description: corners = truncated inverse images of crop points 0 and res; copy (zero
    outside); if rotated: pad, rotate about the centre with cv2 (zero border), unpad; bilinear resize. float64."""
    corner = lambda q, axis: int(center[axis] + side * (q / res - 0.5))  # noqa: E731 (int() truncates toward 0)
    ul = np.array([corner(0, 0), corner(0, 1)])
    br = np.array([corner(res, 0), corner(res, 1)])
    pad = int(math.hypot(*(br - ul)) / 2 - (br[1] - ul[1]) / 2)
    if rotation != 0:
        ul, br = ul - pad, br + pad
    ys, xs = np.arange(ul[1], br[1]), np.arange(ul[0], br[0])
    inside_y = (ys >= 0) & (ys < img.shape[0])
    inside_x = (xs >= 0) & (xs < img.shape[1])
    box = np.zeros((len(ys), len(xs), 3))
    box[np.ix_(inside_y, inside_x)] = img[np.ix_(ys[inside_y], xs[inside_x])]
    if rotation != 0:
        height, width = box.shape[:2]
        matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), rotation, 1.0)
        box = cv2.warpAffine(box, matrix, (width, height), borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        box = box[pad:height - pad, pad:width - pad]
    return cv2.resize(box, (res, res), interpolation=cv2.INTER_LINEAR)


# (center, side, rotation): inside the photo, crossing the left/top (negative, truncated toward zero) and the
# right/bottom borders, larger than the photo, rotated
CASES = [
    ((256.37, 301.81), 301.3, 0.0),
    ((40.62, 35.29), 180.7, 0.0),
    ((480.13, 560.77), 250.1, 0.0),
    ((250.41, 290.66), 733.9, 0.0),
    ((256.37, 301.81), 301.3, 27.0),
    ((30.21, 580.56), 210.3, -41.5),
    ((260.44, 310.93), 95.7, 12.5),
]


@pytest.mark.parametrize('center, side, rotation', CASES)
def test_official_mode_matches_reference_within_rounding(photo, center, side, rotation):
    out = MeshTopdownAffine(input_size=(RES, RES), crop_mode='official')(dict(img=photo,
                                                                              bbox_center=np.array([center]),
                                                                              bbox_scale=np.array([[side, side]]),
                                                                              rotation=rotation))
    reference = reference_crop(photo, center, side, rotation)
    assert out['img'].dtype == np.uint8 and out['img'].shape == (RES, RES, 3)
    assert np.abs(out['img'].astype(np.float64) - reference).max() <= 0.5 + 1e-3
    assert reference.max() > 50  # the box holds real photo content


@pytest.mark.parametrize('flip', [False, True])
def test_official_flip_and_noise_act_on_the_float_crop(photo, flip):
    center, side, rotation = (300.52, 280.17), 260.3, -18.0
    gains = np.array([0.7, 1.3, 1.05], np.float32)
    out = MeshTopdownAffine(crop_mode='official')(dict(img=photo,
                                                       bbox_center=np.array([center]),
                                                       bbox_scale=np.array([[side, side]]),
                                                       rotation=rotation,
                                                       flip=flip,
                                                       pixel_noise=gains))
    reference = reference_crop(photo, center, side, rotation)
    if flip:
        reference = reference[:, ::-1]
    reference = np.clip(reference * gains, 0, 255)
    assert np.abs(out['img'].astype(np.float64) - reference).max() <= 0.5 + 1e-3


def test_box_corners_truncate_toward_zero():
    ul, br = official_box(np.array([40.6, 35.3]), 180.7, RES)
    # exact corners -49.75 / -55.05 and 130.95 / 125.65: int() truncates toward zero
    np.testing.assert_array_equal(ul, [-49, -55])
    np.testing.assert_array_equal(br, [130, 125])


@pytest.mark.parametrize('rotation, flip', [(0.0, False), (33.0, True), (-50.0, False)])
def test_labels_follow_the_official_pixels(rotation, flip):
    """A bright dot lands where its transformed keypoint says (labels use the affine of the box actually cut)."""
    image = np.zeros((300, 400, 3), np.uint8)
    image[141:144, 201:204] = 255  # 3x3 block around the centre of pixel (202, 142)
    keypoints = np.zeros((1, 24, 2))
    keypoints[0, 3] = (202.5, 142.5)
    out = MeshTopdownAffine(crop_mode='official')(dict(img=image,
                                                       bbox_center=np.array([[190.37, 150.81]]),
                                                       bbox_scale=np.array([[61.3, 61.3]]),
                                                       rotation=rotation,
                                                       flip=flip,
                                                       keypoints=keypoints,
                                                       keypoints_visible=np.ones((1, 24))))
    index = 2 if flip else 3  # J24: right ankle (3) <-> left ankle (2) under the flip permutation
    weights = out['img'][..., 0].astype(np.float64)
    ys, xs = np.mgrid[0:RES, 0:RES]
    centroid = np.array([(weights * (xs + 0.5)).sum(), (weights * (ys + 0.5)).sum()]) / weights.sum()
    np.testing.assert_allclose(centroid, out['transformed_keypoints'][0, index], atol=0.3)
    # the recorded box is the integer box that was cut
    ul, br = official_box(np.array([190.37, 150.81]), 61.3, RES)
    np.testing.assert_allclose(out['input_center'], (ul + br) / 2, atol=1e-4)
    np.testing.assert_allclose(out['input_scale'], br - ul, atol=1e-4)


def test_official_crop_matrix_maps_the_box_onto_the_crop():
    ul, br = official_box(np.array([256.37, 301.81]), 301.3, RES)
    _, matrix = official_crop(np.zeros((600, 512, 3), np.uint8), np.array([256.37, 301.81]), 301.3, 0.0, RES)
    corners = np.array([ul, br], np.float64) @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(corners, [[0, 0], [RES, RES]], atol=1e-9)


def test_official_mode_rejects_bad_settings():
    with pytest.raises(ValueError, match='crop_mode'):
        MeshTopdownAffine(crop_mode='nearest')
    with pytest.raises(ValueError, match='squares only'):
        MeshTopdownAffine(input_size=(192, 256), crop_mode='official')
    with pytest.raises(ValueError, match='empty'):
        official_crop(np.zeros((10, 10, 3), np.uint8), np.array([5.2, 5.2]), 0.3, 0.0, RES)
