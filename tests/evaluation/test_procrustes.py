import numpy as np
import pytest

from pointhmr.evaluation.procrustes import procrustes_align, reconstruction_error, similarity_procrustes


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def test_identity_gives_zero_error():
    points = np.random.default_rng(0).normal(size=(4, 14, 3))
    np.testing.assert_allclose(reconstruction_error(points, points), 0, atol=1e-12)


def test_recovers_known_similarity_transform():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(3, 20, 3))
    rotations = np.stack([random_rotation(rng) for _ in range(3)])
    scales = np.array([0.5, 1.0, 3.0])
    shifts = rng.normal(size=(3, 3))
    # source = inverse transform of the target, so aligning source -> target must undo it exactly
    source = np.einsum('bji,bnj->bni', rotations, target - shifts[:, None]) / scales[:, None, None]
    scale, rotation, translation = similarity_procrustes(source, target)
    np.testing.assert_allclose(scale, scales, rtol=1e-10)
    np.testing.assert_allclose(rotation, rotations, atol=1e-10)
    np.testing.assert_allclose(translation, shifts, atol=1e-10)
    np.testing.assert_allclose(procrustes_align(source, target), target, atol=1e-10)
    np.testing.assert_allclose(reconstruction_error(source, target), 0, atol=1e-10)


def test_reflection_is_never_returned():
    rng = np.random.default_rng(2)
    target = rng.normal(size=(30, 3))
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    scale, rotation, _ = similarity_procrustes(mirrored, target)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    assert scale > 0
    assert reconstruction_error(mirrored, target) > 0.1


def test_alignment_is_least_squares_optimal():
    rng = np.random.default_rng(3)
    target = rng.normal(size=(14, 3))
    source = target @ random_rotation(rng).T * 1.7 + rng.normal(scale=0.2, size=(14, 3))
    scale, rotation, translation = similarity_procrustes(source, target)
    best = np.sum((scale * source @ rotation.T + translation - target)**2)
    for _ in range(50):
        q, _ = np.linalg.qr(np.eye(3) + rng.normal(scale=0.05, size=(3, 3)))
        r = rotation @ (q * np.sign(np.linalg.det(q)))  # a nearby proper rotation
        s = scale * rng.uniform(0.9, 1.1)
        t = translation + rng.normal(scale=0.05, size=3)
        assert np.sum((s * source @ r.T + t - target)**2) >= best - 1e-9


def test_single_and_batched_inputs_agree():
    rng = np.random.default_rng(4)
    source, target = rng.normal(size=(2, 5, 10, 3))
    batched = reconstruction_error(source, target)
    single = [reconstruction_error(s, t) for s, t in zip(source, target)]
    np.testing.assert_allclose(batched, single)


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match='same shape'):
        reconstruction_error(np.zeros((2, 5, 3)), np.zeros((2, 6, 3)))
    with pytest.raises(ValueError, match=r'\(N, 3\)'):
        reconstruction_error(np.zeros((5, 2)), np.zeros((5, 2)))
