"""load_model_config: the repository's model configs as the one source of the default models (sizes, forward)."""
import pytest
import torch
from mmpose.registry import MODELS

from pointhmr.utils import MODEL_CONFIGS, config_path, load_model_config


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_model_has_official_parameter_counts():
    model = MODELS.build(load_model_config('pointhmr_hrnet-w32'))
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
    lean_cfg = load_model_config('pointhmr_hrnet-w32')
    lean_cfg['head']['keep_unused_embeddings'] = False
    lean = MODELS.build(lean_cfg)
    assert _count(lean) == 58_865_320


def test_default_model_forward_on_embedded_body():
    model = MODELS.build(load_model_config())  # the official model on the embedded synthetic SMPL-format body
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224), None, mode='tensor')
    assert out['camera'].shape == (1, 3)
    assert out['joints'].shape == (1, 14, 3)
    assert out['vertices'].shape == (1, 6890, 3)
    assert out['heatmap'].shape == (1, 431, 12544)
    assert torch.allclose(out['heatmap'].sum(-1), torch.ones(1, 431), atol=1e-4)


def test_light_model_keeps_faithful_token_counts():
    model = MODELS.build(load_model_config('pointhmr_light'))
    assert model.head.num_tokens == 495 and model.head.token_position_embed.weight.shape[0] == 495
    assert _count(model) < 1_000_000


def test_model_configs_are_plain_dicts_from_the_config_files():
    for name in MODEL_CONFIGS:
        cfg = load_model_config(name)
        assert type(cfg) is dict and type(cfg['head']) is dict
        assert cfg == load_model_config(str(config_path(f'_base_/models/{name}.py')))  # by name or by path
        assert cfg['head']['body_model'] == dict(type='SMPLBodyModel')
        assert cfg['head']['decoder'] == dict(type='WeakPerspectiveCodec', input_size=(224, 224))
        other = dict(type='SMPLBodyModel', gender='female')
        switched = load_model_config(name, body_model=other)
        body = switched['head'].pop('body_model')
        assert body == other and body is not other  # a copy
        cfg['head'].pop('body_model')
        assert switched == cfg  # nothing else changes


def test_load_model_config_rejects_unknown_names(tmp_path):
    with pytest.raises(ValueError, match='unknown model .pointhmr_w48.*pointhmr_hrnet-w32'):
        load_model_config('pointhmr_w48')
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_model_config(str(tmp_path / 'missing.py'))
    (tmp_path / 'no_model.py').write_text('a = 1\n')
    with pytest.raises(KeyError, match='defines no `model`'):
        load_model_config(str(tmp_path / 'no_model.py'))
    with pytest.raises(FileNotFoundError, match='not found under'):
        config_path('_base_/models/missing.py')
