"""Tests of the PointHMR loss terms on hand-computed inputs."""
import pytest
import torch
import torch.nn.functional as F

from pointhmr.models.losses import (heatmap_loss, heatmap_point_targets, keypoint_2d_loss, keypoint_3d_loss,
                                    mid_hip_centred, one_hot_heatmaps, vertex_loss)


def test_mid_hip_centring_uses_j14_hips():
    joints = torch.zeros(1, 14, 3)
    joints[0, 2] = torch.tensor([1., 2., 3.])
    joints[0, 3] = torch.tensor([3., 4., 5.])
    centred = mid_hip_centred(joints)
    assert torch.allclose(centred[0, 0], -torch.tensor([2., 3., 4.]))
    assert torch.allclose(centred[0, 2] + centred[0, 3], torch.zeros(3))


def test_keypoint_3d_loss_hand_computed():
    pred = torch.zeros(2, 14, 3)
    target = torch.zeros(2, 14, 4)
    target[..., 3] = 1.
    pred[0, 0, 0] = 0.5  # one coordinate off by 0.5 -> 0.25 squared error, hips untouched
    target[0, 1, 3] = 0.  # confidence 0 on a joint without error: no effect
    pred[1] += 7.  # sample 1 is shifted as a whole: re-centring removes it ...
    pred[1, 5, 2] = 100.  # ... but this huge error is masked out by has_3d = 0
    loss = keypoint_3d_loss(pred, target, has_3d=torch.tensor([1., 0.]))
    assert loss.item() == pytest.approx(0.25 / (1 * 14 * 3))
    # confidence weights the error; a whole-body translation is not penalised
    target[0, 0, 3] = 0.5
    pred[0] += 3.
    assert keypoint_3d_loss(pred, target, torch.tensor([1., 0.])).item() == pytest.approx(0.125 / 42)


def test_keypoint_3d_loss_zero_when_no_3d_keeps_graph():
    pred = torch.randn(2, 14, 3, requires_grad=True)
    loss = keypoint_3d_loss(pred, torch.rand(2, 14, 4), torch.zeros(2))
    assert loss.item() == 0.
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))
    with pytest.raises(ValueError, match='keypoint_3d_loss'):
        keypoint_3d_loss(pred, torch.rand(2, 14, 3), torch.ones(2))


def test_keypoint_2d_loss_hand_computed():
    pred = torch.zeros(2, 14, 2)
    target = torch.zeros(2, 14, 3)
    target[..., 2] = 1.
    pred[0, 4, 1] = 0.2
    pred[1, 6, 0] = 0.4
    target[1, 6, 2] = 0.  # missing joint: confidence 0
    assert keypoint_2d_loss(pred, target).item() == pytest.approx(0.04 / (2 * 14 * 2))
    # optional has_2d mask removes sample 0 (same denominator)
    assert keypoint_2d_loss(pred, target, has_2d=torch.tensor([0., 1.])).item() == pytest.approx(0.)


def test_vertex_loss_masks_by_has_smpl_and_guards_empty():
    pred = torch.zeros(3, 5, 3)
    target = torch.zeros(3, 5, 3)
    target[0, 0, 0] = 0.3
    target[1] = 9.  # sample without SMPL
    target[2, 4, 2] = -0.6
    loss = vertex_loss(pred, target, torch.tensor([1., 0., 1.]))
    assert loss.item() == pytest.approx((0.3 + 0.6) / (2 * 5 * 3))
    pred.requires_grad_(True)
    empty = vertex_loss(pred, target, torch.zeros(3))
    assert empty.item() == 0. and empty.requires_grad
    with pytest.raises(ValueError, match='vertex_loss'):
        vertex_loss(pred, target[:, :4], torch.ones(3))


def test_heatmap_targets_floor_and_no_row_wrap():
    size = (112, 112)
    cell = 2. / 112
    points = torch.tensor([
        [-1. + 0.5 * cell, -1. + 0.5 * cell],  # first cell -> index 0
        [-1. + 3.5 * cell, -1. + 10.5 * cell],  # column 3, row 10
        [1. + 0.5 * cell, -1. + 10.5 * cell],  # x just past the right border: the official code wrapped it to row 11
        [-1. - 0.5 * cell, 0.],  # x just left of the border: official truncation put it into column 0
        [0., 1.],  # y exactly at the bottom border -> row 112, outside
    ])
    index, valid = heatmap_point_targets(points, size)
    assert valid.tolist() == [True, True, False, False, False]
    assert index[:2].tolist() == [0, 10 * 112 + 3]
    assert index[2:].tolist() == [0, 0, 0]  # invalid points get a harmless placeholder index


def test_one_hot_by_scatter():
    maps = one_hot_heatmaps(torch.tensor([0, 5, 5]), num_cells=6)
    assert maps.shape == (3, 6)
    assert maps.sum(1).tolist() == [1., 1., 1.]
    assert maps[1, 5] == 1 and maps[0, 0] == 1


def test_heatmap_loss_equals_bce_plus_dice():
    torch.manual_seed(0)
    pred = torch.randn(4, 30).softmax(-1)
    target = torch.tensor([0, 7, 29, 7])
    onehot = one_hot_heatmaps(target, 30)
    bce = F.binary_cross_entropy(pred, onehot)
    dice = 2 * ((pred * onehot).sum(1) + 1e-5) / (pred.sum(1) + onehot.sum(1) + 2e-5)
    expected = 1000. * bce + (1 - dice).mean()
    assert heatmap_loss(pred, target).item() == pytest.approx(expected.item(), rel=1e-5)
    assert heatmap_loss(pred, target, bce_weight=0.).item() == pytest.approx((1 - dice).mean().item(), rel=1e-5)
    # a perfect prediction has (almost) zero loss
    assert heatmap_loss(onehot, target).item() == pytest.approx(0., abs=1e-4)


def test_heatmap_loss_on_replicated_cells_equals_the_loss_on_the_upsampled_map():
    """``replication``: the loss of a 2x nearest up-sampled map from the low-resolution probabilities, exactly."""
    logits = torch.randn(5, 1, 6, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    logits.requires_grad_(True)
    full = F.interpolate(logits, scale_factor=2, mode='nearest').flatten(1).softmax(-1)  # (5, 168)
    target = torch.tensor([0, 13, 167, 100, 55])
    low_target = (target // 14 // 2) * 7 + (target % 14) // 2
    expected = heatmap_loss(full, target)
    got = heatmap_loss(logits.flatten(1).softmax(-1) / 4, low_target, replication=4)
    assert got.item() == pytest.approx(expected.item(), rel=1e-12)
    grad_expected, = torch.autograd.grad(expected, logits)
    grad_got, = torch.autograd.grad(got, logits)
    torch.testing.assert_close(grad_got, grad_expected, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match='replication'):
        heatmap_loss(full, target, replication=0)


def test_heatmap_loss_nan_guard_keeps_graph():
    logits = torch.randn(0, 12544, requires_grad=True)
    loss = heatmap_loss(logits.softmax(-1), torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0. and not torch.isnan(loss)
    loss.backward()
    assert logits.grad is not None
    with pytest.raises(ValueError, match='heatmap_loss'):
        heatmap_loss(torch.rand(2, 3), torch.zeros(3, dtype=torch.long))


def test_heatmap_targets_exact_for_low_precision_points():
    # the last cell of a 112 x 112 map: 12543 is not representable in float16 / bfloat16
    points = torch.tensor([[0.99, 0.99], [-1., -1.]])
    for dtype in (torch.float16, torch.bfloat16):
        index, valid = heatmap_point_targets(points.to(dtype), (112, 112))
        assert index.dtype == torch.long and valid.all()
        assert index.tolist() == [12543, 0], dtype


def heatmap_loss_by_autograd(pred, target, bce_weight=1000., smooth=1e-5, replication=1):
    """The loss on the up-sampled map (each entry repeated ``replication`` times, target in the first copy) through
    F.binary_cross_entropy on one-hot maps: the reference of the hand-written backward."""
    full = pred.repeat_interleave(replication, dim=1)
    onehot = one_hot_heatmaps(target * replication, full.shape[1], dtype=full.dtype)
    dice = 2. * (full.gather(1, (target * replication)[:, None]).squeeze(1) + smooth) / (full.sum(1) + 1. + 2 * smooth)
    return bce_weight * F.binary_cross_entropy(full, onehot) + (1. - dice).mean()


@pytest.mark.parametrize('replication', [1, 4])
def test_heatmap_loss_hand_written_gradient_equals_autograd(replication):
    """The fused loss (hand-written backward) against the plain autograd formula: values and gradients, float64,
    including rows whose target probability is tiny (its log clamped) and nearly one-hot rows."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 50, generator=generator, dtype=torch.float64) * 3
    logits[1, 7] = 60.  # nearly one-hot row: log(1 - p) of its peak large and negative
    logits[2, 3] = -300.  # target 3 of row 2: p_t ~ 1e-131, log(p_t) clamped at -100, no gradient through it
    target = torch.tensor([0, 7, 3, 49, 10, 10])
    grads = []
    for loss_fn in (heatmap_loss, heatmap_loss_by_autograd):
        leaf = logits.clone().requires_grad_(True)
        loss = loss_fn(leaf.softmax(-1) / replication, target, bce_weight=1000., replication=replication)
        loss.backward()
        grads.append((loss.detach(), leaf.grad))
    (fused, fused_grad), (plain, plain_grad) = grads
    torch.testing.assert_close(fused, plain, rtol=1e-12, atol=0)
    torch.testing.assert_close(fused_grad, plain_grad, rtol=1e-9, atol=1e-12)
    assert fused_grad.abs().max() > 1e-3  # a real gradient


def test_heatmap_loss_float32_matches_the_plain_formula():
    logits = torch.randn(431 * 2, 56 * 56, generator=torch.Generator().manual_seed(1))
    target = torch.randint(0, 56 * 56, (431 * 2, ), generator=torch.Generator().manual_seed(2))
    results = []
    for loss_fn in (heatmap_loss, heatmap_loss_by_autograd):
        leaf = logits.clone().requires_grad_(True)
        loss = loss_fn(leaf.softmax(-1) / 4, target, replication=4)
        loss.backward()
        results.append((loss.detach(), leaf.grad))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-5, atol=0)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=1e-4, atol=1e-9)
