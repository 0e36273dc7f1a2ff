"""Tests of the deploy (fast inference) path: Winograd F(2x2, 3x3), BatchNorm folding, switch_to_deploy."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import nn

from pointhmr.models.layers import ResidualBasicBlock, build_residual_conv_head, fold_batch_norm, plain_inference
from pointhmr.models.layers.winograd import winograd_f2_conv3x3, winograd_f2_weight


def _randomise_norms(module: nn.Module, seed: int = 0) -> None:
    """Non-trivial BatchNorm affine parameters and running statistics (fresh ones would make folding trivial)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for norm in module.modules():
            if isinstance(norm, nn.BatchNorm2d):
                size = norm.num_features
                norm.weight.copy_(0.5 + torch.rand(size, generator=generator))
                norm.bias.copy_(0.2 * torch.randn(size, generator=generator))
                norm.running_mean.copy_(0.3 * torch.randn(size, generator=generator))
                norm.running_var.copy_(0.5 + torch.rand(size, generator=generator))


@pytest.fixture
def winograd_everywhere(monkeypatch):
    """Use Winograd for every 3x3 convolution of the residual blocks (the light sizes are below the default 128)."""
    monkeypatch.setattr(ResidualBasicBlock, 'winograd_min_channels', 1)


@pytest.mark.parametrize('size', [(8, 8), (6, 10), (2, 2)])
def test_winograd_matches_conv2d(size):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 6, *size, generator=generator)
    weight = torch.randn(5, 6, 3, 3, generator=generator)
    bias = torch.randn(5, generator=generator)
    out = winograd_f2_conv3x3(x, winograd_f2_weight(weight), bias)
    assert out.shape == (3, 5, *size)
    assert torch.allclose(out, F.conv2d(x, weight, bias, padding=1), atol=1e-4)
    assert torch.allclose(winograd_f2_conv3x3(x, winograd_f2_weight(weight)), F.conv2d(x, weight, padding=1), atol=1e-4)


def test_winograd_rejects_unsupported_shapes():
    weight = winograd_f2_weight(torch.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match='even H and W'):
        winograd_f2_conv3x3(torch.randn(1, 3, 7, 8), weight)
    with pytest.raises(ValueError, match='even H and W'):
        winograd_f2_conv3x3(torch.randn(1, 2, 8, 8), weight)
    with pytest.raises(ValueError, match=r'\(O, C, 3, 3\)'):
        winograd_f2_weight(torch.randn(4, 3, 1, 1))


def test_fold_batch_norm_matches_conv_then_norm():
    torch.manual_seed(0)
    conv, norm = nn.Conv2d(4, 6, 3, padding=1, bias=True), nn.BatchNorm2d(6)
    _randomise_norms(norm)
    norm.eval()
    x = torch.randn(2, 4, 5, 5)
    weight, bias = fold_batch_norm(conv.weight, conv.bias, norm)
    with torch.no_grad():
        assert torch.allclose(F.conv2d(x, weight, bias, padding=1), norm(conv(x)), atol=1e-5)


def _deployed_block(in_channels: int = 8, out_channels: int = 16) -> ResidualBasicBlock:
    torch.manual_seed(0)
    block = ResidualBasicBlock(in_channels, out_channels)
    _randomise_norms(block)
    block.eval()
    return block


@pytest.mark.parametrize('channels', [(8, 16), (16, 16)])
@pytest.mark.parametrize('size', [8, 7])  # 7 x 7: odd map, direct convolution of the folded weights
def test_deployed_block_matches_plain(winograd_everywhere, channels, size):
    block = _deployed_block(*channels)
    x = torch.randn(2, channels[0], size, size)
    with torch.no_grad():
        plain = block(x)
        block.switch_to_deploy()
        fast = block(x)
        with plain_inference(block):
            assert not block.deploy and torch.equal(block(x), plain)
    assert block.deploy
    weights = block.deploy_weights
    assert len(weights) == (2 if channels[0] == channels[1] else 3) and all(winograd for _, _, winograd in weights[:2])
    assert torch.allclose(fast, plain, atol=1e-4) and not torch.equal(fast, plain)  # another computation, same result


def test_eval_and_no_grad_alone_do_not_deploy(winograd_everywhere, monkeypatch):
    block = _deployed_block()
    monkeypatch.setattr(block, '_fused_forward', lambda x: pytest.fail('fast path without switch_to_deploy()'))
    with torch.inference_mode():
        block(torch.randn(1, 8, 6, 6))
    assert not block.deploy and block.deploy_weights is None and not list(block.buffers(recurse=False))


def test_deploy_weights_change_only_by_explicit_calls(winograd_everywhere):
    block = _deployed_block()
    x = torch.randn(1, 8, 6, 6)
    block.switch_to_deploy()
    with torch.no_grad():
        before = block(x)
        block.conv2.weight.mul_(-2.)  # e.g. load_state_dict / an optimizer step: the deploy weights stay as they were
        block.bn1.running_var.mul_(3.)
        assert torch.equal(block(x), before)
        block.switch_to_deploy()  # the explicit refresh
        fast = block(x)
        with plain_inference(block):
            plain = block(x)
    assert torch.allclose(fast, plain, atol=1e-4) and not torch.allclose(fast, before, atol=1e-3)
    block.train()  # leaves deploy mode
    assert not block.deploy and block.deploy_weights is None and not list(block.buffers(recurse=False))
    assert all(getattr(block, f'deploy_weight_{i}') is None for i in range(3))


def test_deploy_weights_follow_device_and_dtype_moves(winograd_everywhere):
    block = _deployed_block()
    block.switch_to_deploy()
    block.double()
    assert all(w.dtype == torch.float64 and b.dtype == torch.float64 for w, b, _ in block.deploy_weights)
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        fast = block(x)
        with plain_inference(block):
            assert torch.allclose(fast, block(x), atol=1e-5)  # folded in float32, then moved


def test_training_and_grad_use_plain_modules(winograd_everywhere):
    torch.manual_seed(0)
    block = ResidualBasicBlock(8, 16)
    _randomise_norms(block)
    reference = copy.deepcopy(block)
    x = torch.randn(2, 8, 6, 6)
    expected = reference.train()(x)
    block.eval().switch_to_deploy()
    out = block.train()(x)
    assert not block.deploy
    assert torch.equal(out, expected)  # training: identical computation, batch statistics updated
    assert torch.equal(block.bn1.running_mean, reference.bn1.running_mean)
    out.sum().backward()
    assert block.conv1.weight.grad is not None
    block.eval().switch_to_deploy()  # deployed, but autograd on (e.g. gradients w.r.t. the input): plain modules
    x.requires_grad_(True)
    block(x).sum().backward()
    assert x.grad is not None and block.conv1.weight.grad.abs().sum() > 0


def test_state_dict_untouched_by_deploy(winograd_everywhere):
    torch.manual_seed(0)
    head = build_residual_conv_head(8, 16, 5, num_blocks=2)
    _randomise_norms(head)
    before = copy.deepcopy(head.state_dict())
    head.eval()
    for block in head[:2]:
        block.switch_to_deploy()
    with torch.inference_mode():
        head(torch.randn(1, 8, 6, 6))
    after = head.state_dict()
    assert list(after) == list(before)
    assert all(torch.equal(after[key], before[key]) for key in before)
    restored = build_residual_conv_head(8, 16, 5, num_blocks=2)
    restored.load_state_dict(after, strict=True)


def test_light_model_predictions_match_plain(light_model_cfg, winograd_everywhere):
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg)
    _randomise_norms(model, seed=1)
    model.eval()
    images = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        plain = model.head.predict(model.extract_feat(images), None)
        model.switch_to_deploy()  # mmpose's BasePoseEstimator: every submodule with switch_to_deploy
        fast = model.head.predict(model.extract_feat(images), None)
    blocks = [m for m in model.modules() if isinstance(m, ResidualBasicBlock)]
    assert blocks and all(block.deploy for block in blocks)
    for fast_instance, plain_instance in zip(fast, plain):
        for key in ('vertices', 'keypoints_3d', 'joints_14', 'camera', 'keypoints'):
            assert fast_instance.get(key) == pytest.approx(plain_instance.get(key), abs=1e-4), key
