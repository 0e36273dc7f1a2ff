"""Tests of the point-guided sampler neck (light widths, faithful token counts)."""
import pytest
import torch

from pointhmr.models.necks import PointGuidedSampler


def _backbone_outputs(batch: int = 2):
    torch.manual_seed(0)
    return (torch.randn(batch, 8, 56, 56), torch.randn(batch, 16, 28,
                                                       28), torch.randn(batch, 32, 14,
                                                                        14), torch.randn(batch, 64, 7, 7))


def _light_neck(**kwargs) -> PointGuidedSampler:
    return PointGuidedSampler(in_channels=(8, 64),
                              feat_channels=16,
                              num_vertices=431,
                              heatmap_channels=12,
                              num_blocks=(1, 1, 1),
                              **kwargs).eval()


def test_shapes_and_submodule_names():
    neck = _light_neck()
    with torch.no_grad():
        out = neck(_backbone_outputs())
    assert out.cam_token.shape == (2, 1, 16)
    assert out.grid_tokens.shape == (2, 49, 16)
    assert out.vertex_tokens.shape == (2, 431, 16)
    assert out.heatmap_logits.shape == (2, 431, 56, 56)
    keys = set(neck.state_dict())
    assert {
        'feature_extract_layer.0.conv1.weight', 'heatmap_layer.1.weight', 'grid_layer.1.weight', 'cam_layer.weight',
        'cam_layer.bias'
    } <= keys
    assert neck.cam_layer.weight.shape == (1, 431)


def test_vertex_tokens_are_heatmap_weighted_features():
    neck = _light_neck()
    feats = _backbone_outputs()
    with torch.no_grad():
        out = neck(feats)
        target = neck.feature_extract_layer(feats[0]) + neck.position_encoding(56, 56)  # (B, C, 56, 56)
        weights = out.heatmap_logits.flatten(2).softmax(-1)
        for vertex in (0, 100, 430):  # expected feature under the vertex's heatmap, computed per vertex
            expected = (weights[:, vertex, None] * target.flatten(2)).sum(-1)
            assert torch.allclose(out.vertex_tokens[:, vertex], expected, atol=1e-4)
        expected_cam = (out.vertex_tokens * neck.cam_layer.weight[0, :, None]).sum(1) + neck.cam_layer.bias
        assert torch.allclose(out.cam_token[:, 0], expected_cam, atol=1e-4)
        grid = neck.grid_layer(feats[3]) + neck.position_encoding(7, 7)
        assert torch.allclose(out.grid_tokens[:, 8], grid[:, :, 1, 1], atol=1e-5)  # row-major flatten


def test_without_point_sampling_uses_learned_queries():
    neck = _light_neck(use_point_sampling=False)
    assert 'vertex_query_embed.weight' in neck.state_dict()
    feats = _backbone_outputs()
    with torch.no_grad():
        out = neck(feats)
        # the heatmap head no longer influences the vertex tokens
        neck.heatmap_layer[-1].weight.mul_(-3.)
        out_changed = neck(feats)
    assert out.vertex_tokens.shape == (2, 431, 16)
    assert torch.allclose(out.vertex_tokens, out_changed.vertex_tokens)
    assert not torch.allclose(out.heatmap_logits, out_changed.heatmap_logits)


def test_bad_inputs_are_named():
    neck = _light_neck()
    with pytest.raises(ValueError, match='backbone outputs'):
        neck(torch.randn(1, 8, 56, 56))
    with pytest.raises(ValueError, match='num_blocks'):
        PointGuidedSampler(num_blocks=(1, 1))
