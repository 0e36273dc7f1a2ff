import cv2
import numpy as np
import pytest

from pointhmr.body.joints import J24_FROM_H36M
from pointhmr.datasets import MeshTSVDataset
from pointhmr.datasets.synthetic import SyntheticMeshGenerator


def _labelled(annotation):
    slots = sorted(J24_FROM_H36M)
    return np.asarray(annotation['2d_joints'])[slots], np.asarray(annotation['3d_joints'])[slots]


def test_2d_labels_lie_on_the_rendered_body(synthetic_generator):
    for sample in synthetic_generator.samples('check', 5):
        mask = sample.mask
        assert 0.02 < mask.mean() < 0.6
        joints_2d, _ = _labelled(sample.annotation)
        ys, xs = np.nonzero(mask)
        mask_mean = np.array([xs.mean(), ys.mean()]) + 0.5
        side = 200 * sample.annotation['scale']
        assert np.linalg.norm(mask_mean - joints_2d[:, :2].mean(0)) < 0.12 * side
        grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        cols = np.clip(np.floor(joints_2d[:, 0]).astype(int), 0, mask.shape[1] - 1)
        rows = np.clip(np.floor(joints_2d[:, 1]).astype(int), 0, mask.shape[0] - 1)
        assert grown[rows, cols].mean() >= 0.9
        # the label box contains the silhouette
        center = np.asarray(sample.annotation['center'])
        assert np.all(center - side / 2 <= [xs.min(), ys.min()]) and np.all(center + side / 2 >= [xs.max(), ys.max()])


def test_2d_labels_are_the_projection_of_the_3d_labels(synthetic_generator):
    for sample in synthetic_generator.samples('check', 3):
        ann = sample.annotation
        joints_2d, joints_3d = _labelled(ann)
        size = sample.image.shape[1]
        projected = joints_3d[:, :2] / joints_3d[:, 2:3] * ann['focal_length'] + size / 2
        np.testing.assert_allclose(joints_2d[:, :2], projected, atol=1e-6)
        assert np.all(joints_2d[:, 2] == 1) and np.all(joints_3d[:, 3] == 1)
        unlabelled = [i for i in range(24) if i not in J24_FROM_H36M]
        assert not np.asarray(ann['2d_joints'])[unlabelled].any()
        assert ann['has_smpl'] == 1 and np.asarray(ann['pose']).shape == (72, )


def test_samples_are_deterministic_and_independent_of_batching(synthetic_generator):
    first = list(synthetic_generator.samples('det', 3))
    repeat = list(synthetic_generator.samples('det', 3))
    for a, b in zip(first, repeat):
        np.testing.assert_array_equal(a.image, b.image)
        assert a.annotation['2d_joints'].tolist() == b.annotation['2d_joints'].tolist()
    # another batch size / start index: the same samples up to float32 rounding of the batched body forward
    other = SyntheticMeshGenerator(body=synthetic_generator.body, seed=0, batch_size=1)
    again = list(other.samples('det', 2, start=1))
    for a, b in zip(first[1:], again):
        assert a.key == b.key
        difference = np.abs(a.image.astype(int) - b.image.astype(int))
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-3
        np.testing.assert_allclose(a.annotation['2d_joints'], b.annotation['2d_joints'], atol=1e-3)
    shifted = list(SyntheticMeshGenerator(body=synthetic_generator.body, seed=1).samples('det', 1))
    assert not np.allclose(shifted[0].annotation['pose'], first[0].annotation['pose'])


def test_written_splits_load_as_mesh_tsv_datasets(synthetic_yamls):
    train = MeshTSVDataset(ann_file=synthetic_yamls['train'])
    test = MeshTSVDataset(ann_file=synthetic_yamls['test'], test_mode=True)
    assert len(train) == 6 and len(test) == 4
    item = test.get_data_info(3)
    assert item['img'].shape == (256, 256, 3) and item['img_path'] == 'test/0000003.jpg'
    assert item['dataset_name'] == 'synthetic' and item['has_smpl'] == 1
    assert item['keypoints_visible'].sum() == len(J24_FROM_H36M)


def test_body_parts_get_distinct_colours_by_default(synthetic_generator):
    parts = synthetic_generator
    uniform = SyntheticMeshGenerator(body=parts.body, seed=0, part_colors=False)
    assert uniform.face_colors is None and not uniform.part_colors
    colours = parts.face_colors
    assert parts.part_colors and colours.shape == (len(parts.faces), 3)
    assert len(np.unique(np.round(colours, 6), axis=0)) >= 16 and colours.min() >= 0.25 and colours.max() <= 1.0
    # same pose, box and labels either way: only the body's paint changes
    painted, plain = next(parts.samples('paint', 1)), next(uniform.samples('paint', 1))
    np.testing.assert_array_equal(painted.mask, plain.mask)
    np.testing.assert_allclose(painted.annotation['2d_joints'], plain.annotation['2d_joints'], atol=1e-3)
    assert np.abs(painted.image.astype(int) - plain.image.astype(int))[painted.mask].mean() > 10


def _plane_residual(image: np.ndarray) -> float:
    """Standard deviation left after fitting one plane a + b x + c y per channel (least squares)."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    design = np.stack([np.ones(height * width), xs.ravel(), ys.ravel()], axis=1)
    values = image.reshape(-1, 3).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    return float((values - design @ coef).std())


def test_background_styles():
    from pointhmr.datasets.synthetic.backgrounds import random_background
    plain = [random_background(np.random.default_rng(seed), 64, 64, 'plain') for seed in range(8)]
    cluttered = [random_background(np.random.default_rng(seed), 64, 64, 'cluttered') for seed in range(8)]
    # plain: a colour gradient plus light grain, nothing shaped like a limb; cluttered: noise blobs and shapes
    assert max(_plane_residual(image) for image in plain) < 8.
    assert np.median([_plane_residual(image) for image in cluttered]) > 15.
    assert len({tuple(image[32, 32]) for image in plain}) == 8  # colours still vary from image to image
    with pytest.raises(ValueError, match='style'):
        random_background(np.random.default_rng(0), 8, 8, 'busy')


def test_generator_refuses_unknown_background(synthetic_generator):
    with pytest.raises(ValueError, match='background'):
        SyntheticMeshGenerator(body=synthetic_generator.body, background='busy')
