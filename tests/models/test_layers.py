"""Tests of the model building blocks: sine encoding, pre-LN transformer layer/stack, residual conv heads."""
import math

import pytest
import torch
import torch.nn.functional as F

from pointhmr.models.layers import (PreNormTransformerEncoderLayer, SinePositionEncoding2D, TransformerEncoderStack,
                                    additive_attention_mask, build_residual_conv_head)


def test_sine_encoding_matches_formula():
    encoding = SinePositionEncoding2D(channels=16)
    out = encoding(3, 5)
    assert out.shape == (1, 16, 3, 5)
    assert len(list(encoding.parameters())) == 0
    d = 8  # channels per axis
    for row, col in [(0, 0), (2, 4), (1, 3)]:
        y = (row + 1) / (3 + 1e-6) * 2 * math.pi
        x = (col + 1) / (5 + 1e-6) * 2 * math.pi
        for k in range(d // 2):
            freq = 10000**(2 * k / d)
            assert out[0, 2 * k, row, col].item() == pytest.approx(math.sin(y / freq), abs=1e-5)
            assert out[0, 2 * k + 1, row, col].item() == pytest.approx(math.cos(y / freq), abs=1e-5)
            assert out[0, d + 2 * k, row, col].item() == pytest.approx(math.sin(x / freq), abs=1e-5)
            assert out[0, d + 2 * k + 1, row, col].item() == pytest.approx(math.cos(x / freq), abs=1e-5)
    assert encoding(3, 5) is out  # cached per size
    assert encoding(7, 7).shape == (1, 16, 7, 7)
    with pytest.raises(ValueError, match='divisible by 4'):
        SinePositionEncoding2D(channels=10)


def _reference_layer(layer: PreNormTransformerEncoderLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pre-LN layer written out with functional ops (eval mode: no dropout)."""
    attn = layer.self_attn
    d, heads = x.shape[-1], attn.num_heads
    y = F.layer_norm(x, (d, ), layer.norm1.weight, layer.norm1.bias)
    q, k, v = F.linear(y, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    split = lambda t: t.view(t.shape[0], t.shape[1], heads, d // heads).transpose(1, 2)  # noqa: E731
    scores = split(q) @ split(k).transpose(-1, -2) / math.sqrt(d // heads)
    scores = scores.masked_fill(mask, float('-inf'))
    out = (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(x.shape)
    x = x + attn.out_proj(out)
    y = F.layer_norm(x, (d, ), layer.norm2.weight, layer.norm2.bias)
    return x + layer.linear2(F.relu(layer.linear1(y)))


def test_prenorm_layer_matches_reference_and_respects_mask():
    torch.manual_seed(0)
    layer = PreNormTransformerEncoderLayer(embed_dims=16, num_heads=4, feedforward_channels=32).eval()
    names = {n for n, _ in layer.named_parameters()}
    assert {
        'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'linear1.weight',
        'linear2.weight', 'norm1.weight', 'norm2.bias'
    } <= names
    x = torch.randn(2, 6, 16)
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[3:, 4:] = True  # rows 3.. may not see tokens 4, 5 (except nothing else)
    mask[4, 4] = False
    with torch.no_grad():
        out = layer(x, mask)
        assert torch.allclose(out, _reference_layer(layer, x, mask), atol=1e-5)
        changed = x.clone()
        changed[:, 5] = torch.randn(2, 16)
        out_changed = layer(changed, mask)
    # row 3 cannot see token 5, so it is unchanged; row 0 can, so it changes
    assert torch.allclose(out[:, 3], out_changed[:, 3], atol=1e-6)
    assert not torch.allclose(out[:, 0], out_changed[:, 0], atol=1e-4)
    with pytest.raises(ValueError, match='divisible'):
        PreNormTransformerEncoderLayer(embed_dims=10, num_heads=4, feedforward_channels=8)


def _module_attention_layer(layer: PreNormTransformerEncoderLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The same layer through ``nn.MultiheadAttention`` with a boolean mask (the previous implementation)."""
    y = layer.norm1(x)
    x = x + layer.self_attn(y, y, y, attn_mask=mask, need_weights=False)[0]
    return x + layer.linear2(F.relu(layer.linear1(layer.norm2(x))))


def test_additive_mask_path_matches_multihead_attention_forward_and_backward():
    """Training path (SDPA + float mask) = nn.MultiheadAttention with the bool mask: outputs and every gradient."""
    torch.manual_seed(0)
    layer = PreNormTransformerEncoderLayer(embed_dims=16, num_heads=4, feedforward_channels=32, dropout=0.).train()
    mask = torch.rand(7, 7, generator=torch.Generator().manual_seed(1)) > 0.5
    mask.fill_diagonal_(False)
    bias = additive_attention_mask(mask)
    assert bias.dtype == torch.float32 and torch.equal(bias == float('-inf'), mask) and (bias[~mask] == 0).all()
    x = torch.randn(3, 7, 16, requires_grad=True)
    results = []
    for forward in (lambda: layer(x, bias), lambda: _module_attention_layer(layer, x, mask)):
        layer.zero_grad()
        x.grad = None
        out = forward()
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        results.append((out.detach(), x.grad.clone(), {n: p.grad.clone() for n, p in layer.named_parameters()}))
    (out, grad_x, grads), (out_ref, grad_x_ref, grads_ref) = results
    torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(grad_x, grad_x_ref, atol=1e-6, rtol=1e-5)
    assert grads.keys() == grads_ref.keys() and len(grads) == 12
    for name in grads:
        torch.testing.assert_close(grads[name], grads_ref[name], atol=1e-6, rtol=1e-5, msg=name)
    with torch.no_grad():  # a bool mask is still accepted (converted per call)
        torch.testing.assert_close(layer(x, mask), out, atol=1e-6, rtol=1e-5)


def test_additive_mask_refuses_fully_blocked_rows():
    mask = torch.zeros(3, 3, dtype=torch.bool)
    mask[1] = True
    with pytest.raises(ValueError, match='blocks every key'):
        additive_attention_mask(mask)
    assert additive_attention_mask(None) is None
    assert additive_attention_mask(torch.zeros(3, 3), torch.float64).dtype == torch.float64


def test_encoder_stack_names_and_final_norm():
    stack = TransformerEncoderStack(num_layers=2, embed_dims=8, num_heads=2, feedforward_channels=16,
                                    final_norm=True).eval()
    keys = set(stack.state_dict())
    assert {'layers.0.self_attn.in_proj_weight', 'layers.1.linear2.bias', 'norm.weight', 'norm.bias'} <= keys
    assert not torch.equal(stack.layers[0].linear1.weight, stack.layers[1].linear1.weight)  # independent layers
    x = torch.randn(1, 5, 8)
    with torch.no_grad():
        out = stack(x)
    # a final LayerNorm with default affine gives zero-mean, unit-variance tokens
    assert torch.allclose(out.mean(-1), torch.zeros(1, 5), atol=1e-5)
    plain = TransformerEncoderStack(num_layers=1, embed_dims=8, num_heads=2, feedforward_channels=16)
    assert plain.norm is None and 'norm.weight' not in plain.state_dict()


def test_residual_conv_head_layout():
    head = build_residual_conv_head(in_channels=4, hidden_channels=6, out_channels=5, num_blocks=2)
    keys = set(head.state_dict())
    assert {
        '0.conv1.weight', '0.bn1.running_mean', '0.downsample.0.weight', '0.downsample.1.weight', '1.conv2.weight',
        '2.weight'
    } <= keys
    assert '1.downsample.0.weight' not in keys  # no projection when channels stay the same
    assert head[2].bias is None and head[2].kernel_size == (1, 1)
    assert head[0].conv1.in_channels == 4 and head[1].conv1.in_channels == 6
    out = head(torch.randn(2, 4, 7, 7))
    assert out.shape == (2, 5, 7, 7)
    assert (out < 0).any()  # unconstrained output (no ReLU after the 1x1 conv)
    with pytest.raises(ValueError, match='num_blocks'):
        build_residual_conv_head(4, 6, 5, num_blocks=0)
