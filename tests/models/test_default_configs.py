"""Tests of the ready model configs: the official model's sizes and a default forward pass (batch 1)."""
import torch
from mmpose.registry import MODELS

from pointhmr.models.default_configs import pointhmr_hrnet_w32_model, pointhmr_light_model


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_model_has_official_parameter_counts(stand_in_body_cfg):
    model = MODELS.build(pointhmr_hrnet_w32_model(body_model=stand_in_body_cfg))
    assert _count(model) == 59_086_504
    # per-part counts of spec 1.11
    assert _count(model.backbone) == 29_305_536
    assert _count(model.neck.feature_extract_layer) == 7_508_992
    assert _count(model.neck.heatmap_layer) == 5_343_538
    assert _count(model.neck.grid_layer) == 3_935_232
    transformer = model.head.transformer
    assert [_count(s) for s in transformer.stacks] == [5_911_808, 5_913_088, 396_544, 396_800]
    assert _count(transformer.dim_reduce) == 82_048
    state = model.state_dict()
    assert len(state) == 2023  # the official state_dict size: no body model, masks or sine encodings
    assert state['head.transformer.transformer_1.layers.0.self_attn.in_proj_weight'].shape == (1920, 640)
    assert state['neck.feature_extract_layer.0.conv1.weight'].shape == (512, 32, 3, 3)
    lean = MODELS.build(pointhmr_hrnet_w32_model(body_model=stand_in_body_cfg, keep_unused_embeddings=False))
    assert _count(lean) == 58_865_320


def test_default_model_forward_on_embedded_body():
    model = MODELS.build(pointhmr_hrnet_w32_model())  # the embedded synthetic SMPL-format body
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224), None, mode='tensor')
    assert out['camera'].shape == (1, 3)
    assert out['joints'].shape == (1, 14, 3)
    assert out['vertices'].shape == (1, 6890, 3)
    assert out['heatmap'].shape == (1, 431, 12544)
    assert torch.allclose(out['heatmap'].sum(-1), torch.ones(1, 431), atol=1e-4)


def test_light_model_keeps_faithful_token_counts(stand_in_body_cfg):
    model = MODELS.build(pointhmr_light_model(body_model=stand_in_body_cfg))
    assert model.head.num_tokens == 495 and model.head.token_position_embed.weight.shape[0] == 495
    assert _count(model) < 1_000_000
