import numpy as np
import pytest

from pointhmr.datasets.transforms import RandomMeshAugmentation


def test_samples_respect_ranges_and_probabilities():
    np.random.seed(0)
    transform = RandomMeshAugmentation()
    draws = [transform(dict()) for _ in range(400)]
    rotations = np.array([d['rotation'] for d in draws])
    scales = np.array([d['scale_factor'] for d in draws])
    noise = np.stack([d['pixel_noise'] for d in draws])
    flips = np.array([d['flip'] for d in draws])
    assert np.abs(rotations).max() <= 60.0 and 0.5 < np.mean(rotations == 0) < 0.7
    assert scales.min() >= 0.75 and scales.max() <= 1.25 and np.std(scales) > 0.1
    assert noise.shape == (400, 3) and noise.min() >= 0.6 and noise.max() <= 1.4
    assert 0.4 < flips.mean() < 0.6


def test_degenerate_settings():
    np.random.seed(1)
    out = RandomMeshAugmentation(flip_prob=1.0, rot_zero_prob=1.0, scale_std=0.0, noise=0.0)(dict())
    assert out['flip'] is True and out['rotation'] == 0.0 and out['scale_factor'] == 1.0
    np.testing.assert_array_equal(out['pixel_noise'], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match='flip_prob'):
        RandomMeshAugmentation(flip_prob=1.5)


def test_noise_channel_order_rgb_assigns_the_first_draw_to_red():
    """'rgb' (official): the first of the three gains multiplies R, stored last in the BGR order."""
    np.random.seed(5)
    bgr = RandomMeshAugmentation()(dict())['pixel_noise']
    np.random.seed(5)
    rgb = RandomMeshAugmentation(noise_channel_order='rgb')(dict())['pixel_noise']
    assert len(set(np.round(bgr, 6).tolist())) == 3  # three distinct draws, so the order is observable
    np.testing.assert_array_equal(rgb, bgr[::-1])
    with pytest.raises(ValueError, match='noise_channel_order'):
        RandomMeshAugmentation(noise_channel_order='rbg')
