import pytest
import torch

from pointhmr.codecs import fit_weak_perspective_camera, weak_perspective_project


def test_fit_recovers_the_camera_and_ignores_unlabelled_points():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(3, 14, 3, generator=generator)
    camera = torch.tensor([[0.8, 0.1, -0.2], [1.5, -0.3, 0.0], [0.4, 0.0, 0.5]])
    projected = weak_perspective_project(points, camera)
    weights = torch.ones(3, 14)
    weights[1, :5] = 0.
    projected[1, :5] = 100.  # garbage where unlabelled
    fitted, valid = fit_weak_perspective_camera(points, projected, weights)
    assert valid.all()
    assert torch.allclose(fitted, camera, atol=1e-5)


def test_fit_is_least_squares_under_noise():
    generator = torch.Generator().manual_seed(1)
    points = torch.randn(1, 14, 3, generator=generator)
    target = weak_perspective_project(points, torch.tensor([[1., 0.2, 0.1]])) + 0.05 * torch.randn(1, 14, 2)
    fitted, _ = fit_weak_perspective_camera(points, target, torch.ones(1, 14))
    best = (weak_perspective_project(points, fitted) - target).square().sum()
    for delta in torch.eye(3) * 1e-2:
        for sign in (1., -1.):
            assert (weak_perspective_project(points, fitted + sign * delta) - target).square().sum() > best


def test_fit_reports_cameras_it_cannot_fix():
    points = torch.randn(3, 4, 3)
    target = torch.rand(3, 4, 2)
    weights = torch.ones(3, 4)
    weights[0] = 0.  # nothing labelled
    weights[1, 1:] = 0.  # a single point fixes no scale
    points[2, :, :2] = 0.3  # all points at one image position
    fitted, valid = fit_weak_perspective_camera(points, target, weights)
    assert valid.tolist() == [False, False, False] and torch.equal(fitted, torch.zeros(3, 3))
    with pytest.raises(ValueError, match='points_2d'):
        fit_weak_perspective_camera(points, target[..., :1], weights)
