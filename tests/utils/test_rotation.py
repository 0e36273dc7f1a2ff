"""Rotation conversions: round trips at every angle (0, small, pi), Kabsch, geodesic angles."""
import math

import torch

from pointhmr.utils.rotation import axis_angle_to_matrix, kabsch_rotation, matrix_to_axis_angle, rotation_angle_between


def test_axis_angle_round_trip_every_angle_range():
    gen = torch.Generator().manual_seed(0)
    axes = torch.nn.functional.normalize(torch.randn(60, 3, generator=gen, dtype=torch.float64), dim=1)
    angles = torch.cat([
        torch.zeros(5),
        torch.full((5, ), 1e-5),
        torch.rand(40, generator=gen) * 3.0,
        torch.full((10, ), math.pi - 1e-4)
    ]).double()
    aa = axes * angles[:, None]
    rot = axis_angle_to_matrix(aa)
    torch.testing.assert_close(rot @ rot.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(60, 3, 3))
    back = axis_angle_to_matrix(matrix_to_axis_angle(rot))
    torch.testing.assert_close(back, rot, atol=1e-6, rtol=0)
    torch.testing.assert_close(matrix_to_axis_angle(rot)[:50], aa[:50], atol=1e-6, rtol=0)


def test_rodrigues_matches_known_rotation_and_gradient_at_zero():
    rot = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    torch.testing.assert_close(rot @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)
    zero = torch.zeros(3, requires_grad=True)
    axis_angle_to_matrix(zero)[1, 0].backward()  # d R_10 / d w_z = 1 at the identity
    torch.testing.assert_close(zero.grad, torch.tensor([0.0, 0.0, 1.0]))


def test_kabsch_recovers_rotation_per_group_and_angle_between():
    gen = torch.Generator().manual_seed(1)
    points = torch.randn(40, 3, generator=gen)
    rots = axis_angle_to_matrix(torch.randn(2, 3, generator=gen))
    groups = torch.zeros(40, 2)
    groups[:20, 0] = 1
    groups[20:, 1] = 1
    target = torch.cat([points[:20] @ rots[0].T, points[20:] @ rots[1].T]) + torch.tensor([1.0, 2.0, 3.0])
    found = kabsch_rotation(points, target[None], groups)[0]
    torch.testing.assert_close(found, rots, atol=1e-5, rtol=0)
    assert float(rotation_angle_between(rots[0], rots[0])) < 1e-3
    half_turn = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    torch.testing.assert_close(rotation_angle_between(torch.eye(3), half_turn), torch.tensor(math.pi / 2))
