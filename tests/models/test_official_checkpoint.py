"""Official checkpoint loading/conversion: key mapping, pickled-module loading, safety, strict mismatch reports."""
import argparse
import os
import re
import sys
import types
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import nn

from pointhmr.models.official_checkpoint import (OFFICIAL_UNUSED_KEYS, CheckpointMismatchError, UnsafeCheckpointError,
                                                 compare_state_dicts, convert_official_checkpoint,
                                                 convert_official_state_dict, dropped_official_keys, export_to_official,
                                                 load_official_checkpoint, load_state_dict_strictly)
from pointhmr.utils import load_model_config

OFFICIAL_KEYS_TSV = Path(__file__).parent / 'data' / 'official_state_dict_keys.tsv'

# ---------------------------------------------------------------------------------------------------------------------
# helpers: light models, official-layout pickled modules written with stand-in `src.*` classes
# ---------------------------------------------------------------------------------------------------------------------
_FAKE_CLASSES = {
    'network': ('src.modeling.model.network', 'PointHMR'),
    'regressor': ('src.modeling.model.regressor', 'MeshRegressor'),
    'encoder': ('src.modeling.model.module.transformer', 'TransformerEncoder'),
    'encoder_layer': ('src.modeling.model.module.transformer', 'TransformerEncoderLayer'),
    'hrnet': ('src.modeling.backbone.hrnet_32', 'HigherResolutionNet'),
    'hr_module': ('src.modeling.model.module.basic_modules', 'HighResolutionModule'),
    'basic_block': ('src.modeling.model.module.basic_modules', 'BasicBlock'),
    'bottleneck': ('src.modeling.model.module.basic_modules', 'Bottleneck'),
    'position': ('src.modeling.model.module.position_encoding', 'PositionEmbeddingSine'),
    'mesh': ('src.modeling._smpl', 'Mesh'),
}


class FakeOfficialClasses:
    """Classes named like the official ones, importable (via sys.modules) only inside the ``with`` block."""

    def __enter__(self) -> 'FakeOfficialClasses':
        self.modules = {}
        self.classes = {}
        for role, (module_name, class_name) in _FAKE_CLASSES.items():
            parts = module_name.split('.')
            for depth in range(1, len(parts) + 1):
                name = '.'.join(parts[:depth])
                self.modules.setdefault(name, types.ModuleType(name))
            base = object if role == 'mesh' else nn.Module
            cls = type(class_name, (base, ), {'__module__': module_name, '__qualname__': class_name})
            setattr(self.modules[module_name], class_name, cls)
            self.classes[role] = cls
        assert not set(self.modules) & set(sys.modules), 'a real `src` package is importable; cannot fake it'
        sys.modules.update(self.modules)
        return self

    def __exit__(self, *exc) -> None:
        for name in self.modules:
            sys.modules.pop(name, None)

    def role_of(self, path: str, children: set) -> str:
        if path == '':
            return 'network'
        if path == 'backbone':
            return 'hrnet'
        if path == 'transformer':
            return 'regressor'
        if re.fullmatch(r'transformer\.transformer_\d', path):
            return 'encoder'
        if re.fullmatch(r'transformer\.transformer_\d\.layers\.\d+', path):
            return 'encoder_layer'
        if re.fullmatch(r'backbone\.stage\d\.\d+', path):
            return 'hr_module'
        if {'conv1', 'conv2', 'conv3'} <= children:
            return 'bottleneck'
        if {'conv1', 'conv2'} <= children:
            return 'basic_block'
        return ''


def official_module_from_state_dict(state_dict, fakes: FakeOfficialClasses) -> nn.Module:
    """An nn.Module tree with official class names whose state_dict() is ``state_dict`` (plus official extras)."""
    tree: dict = {}
    for key in state_dict:
        node = tree
        for part in key.split('.')[:-1]:
            node = node.setdefault(part, {})

    def build(path: str, node: dict) -> nn.Module:
        role = fakes.role_of(path, set(node))
        if path.endswith('self_attn'):
            weight = state_dict[f'{path}.in_proj_weight']
            module = nn.MultiheadAttention(weight.shape[1], 4)
        elif role:
            module = fakes.classes[role]()
            nn.Module.__init__(module)
        elif node and all(name.isdigit() for name in node):
            module = nn.Sequential()
        else:
            module = nn.Module()
        for name, child in node.items():
            if name not in module._modules:
                module.add_module(name, build(f'{path}.{name}' if path else name, child))
        return module

    root = build('', tree)
    for key, value in state_dict.items():
        owner_path, name = key.rsplit('.', 1) if '.' in key else ('', key)
        owner = root.get_submodule(owner_path)
        if name in ('running_mean', 'running_var', 'num_batches_tracked'):
            owner.register_buffer(name, value.clone())
        else:
            owner._parameters.pop(name, None)
            owner.register_parameter(name, nn.Parameter(value.clone(), requires_grad=value.is_floating_point()))
    # things the official pickled module holds besides its weights
    mesh = fakes.classes['mesh']()
    mesh._U = [torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1., 2.]), (2, 2))]
    mesh.num_downsampling = 2
    root.mesh_sampler = mesh
    root.args = argparse.Namespace(model_dim=512, num_enc_layers=4)
    root.transformer.masks = [torch.zeros(3, 3, dtype=torch.bool)]
    root.transformer.transformer_1.layers[0].activation = F.relu
    root.position_encoding = fakes.classes['position']()
    nn.Module.__init__(root.position_encoding)
    root.position_encoding.register_buffer('cache', torch.zeros(2), persistent=False)
    return root


def save_official_pickled_module(state_dict, path: Path) -> None:
    with FakeOfficialClasses() as fakes:
        module = official_module_from_state_dict(state_dict, fakes)
        assert OrderedDict(module.state_dict()).keys() == state_dict.keys()
        torch.save(module, path)
    assert 'src.modeling.model.network' not in sys.modules


def build_light_model(seed: int, keep_unused_embeddings: bool = False) -> nn.Module:
    torch.manual_seed(seed)
    cfg = load_model_config('pointhmr_light')
    cfg['head']['keep_unused_embeddings'] = keep_unused_embeddings
    model = MODELS.build(cfg)
    model.eval()
    return model


def vertices(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model._forward(images)['vertices']


@pytest.fixture(scope='module')
def light_model() -> nn.Module:
    return build_light_model(seed=0, keep_unused_embeddings=True)


@pytest.fixture(scope='module')
def images() -> torch.Tensor:
    return torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(3))


@pytest.fixture(scope='module')
def expected_vertices(light_model, images) -> torch.Tensor:
    return vertices(light_model, images)


# ---------------------------------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------------------------------
def test_every_official_key_maps_onto_the_default_model():
    rows = [line.split('\t') for line in OFFICIAL_KEYS_TSV.read_text().splitlines() if line.strip()]
    assert len(rows) == 2023
    official = OrderedDict()
    for name, shape, dtype in rows:
        dims = tuple(int(d) for d in re.findall(r'\d+', shape))
        official[name] = torch.zeros(dims, dtype=getattr(torch, dtype))
    model = MODELS.build(load_model_config('pointhmr_hrnet-w32'))
    converted = convert_official_state_dict(official, target_keys=model.state_dict().keys())
    assert len(converted) == 2023  # the default model keeps the unused embeddings
    report = compare_state_dicts(model.state_dict(), converted)
    assert report.ok, report.format()
    load_state_dict_strictly(model, converted)
    assert model.state_dict()['head.transformer.transformer_1.layers.0.self_attn.in_proj_weight'].abs().sum() == 0
    assert sum(p.numel() for p in model.parameters()) == 59_086_504
    assert export_to_official(converted).keys() == official.keys()


@pytest.mark.parametrize('layout', ['state_dict', 'pickled_module'])
def test_official_file_reproduces_the_model_outputs(light_model, images, expected_vertices, tmp_path, layout):
    official = export_to_official(light_model.state_dict())
    assert 'transformer.transformer_1.layers.0.self_attn.in_proj_weight' in official
    assert 'backbone.conv1.weight' in official and 'heatmap_layer.0.conv1.weight' in official
    path = tmp_path / 'official.bin'
    if layout == 'state_dict':
        torch.save(official, path)
    else:
        save_official_pickled_module(official, path)

    loaded = load_official_checkpoint(path)
    assert list(loaded) == list(official)
    assert all(torch.equal(loaded[k], official[k]) for k in official)

    fresh = build_light_model(seed=1, keep_unused_embeddings=True)
    assert not torch.allclose(vertices(fresh, images), expected_vertices)
    convert_official_checkpoint(path, model=fresh)
    fresh.eval()
    assert torch.equal(vertices(fresh, images), expected_vertices)


def test_module_prefix_and_mmengine_wrapping_are_accepted(light_model, tmp_path):
    official = export_to_official(light_model.state_dict())
    prefixed = OrderedDict((f'module.{k}', v) for k, v in official.items())
    torch.save({'meta': {'epoch': 3}, 'state_dict': prefixed}, tmp_path / 'wrapped.pth')
    torch.save({'model': prefixed}, tmp_path / 'model_key.pth')
    for name in ('wrapped.pth', 'model_key.pth'):
        loaded = load_official_checkpoint(tmp_path / name)
        assert list(loaded) == list(official)


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / 'pwned'

    class Exploit:

        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    path = tmp_path / 'evil.bin'
    torch.save({'backbone.conv1.weight': torch.zeros(1), 'payload': Exploit()}, path)
    with pytest.raises(UnsafeCheckpointError) as error:
        load_official_checkpoint(path)
    assert str(path) in str(error.value) and 'system' in str(error.value)
    assert not marker.exists()

    class EvalExploit:

        def __reduce__(self):
            return eval, (f'open({str(marker)!r}, "w")', )

    torch.save(EvalExploit(), path)
    with pytest.raises(UnsafeCheckpointError, match='builtins.eval'):
        load_official_checkpoint(path)
    assert not marker.exists()


def test_mismatches_are_reported_with_key_names(light_model, tmp_path):
    official = export_to_official(light_model.state_dict())
    official['cam_layer.weight'] = torch.zeros(1, 7)  # wrong shape
    del official['transformer.dim_reduce.bias']  # missing
    official['transformer.extra_head.weight'] = torch.zeros(2)  # unexpected
    path = tmp_path / 'bad.bin'
    torch.save(official, path)
    model = build_light_model(seed=2, keep_unused_embeddings=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as error:
        convert_official_checkpoint(path, model=model)
    message = str(error.value)
    assert 'neck.cam_layer.weight: (1, 7) vs (1, 431)' in message
    assert 'head.transformer.dim_reduce.bias' in message
    assert 'head.transformer.extra_head.weight' in message
    assert error.value.report.missing == ['head.transformer.dim_reduce.bias']
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), 'model changed on failed load'


def test_unused_embeddings_follow_the_target_model(light_model):
    official = export_to_official(light_model.state_dict())
    assert set(OFFICIAL_UNUSED_KEYS) <= set(official)
    lean = build_light_model(seed=0, keep_unused_embeddings=False)
    converted = convert_official_state_dict(official, target_keys=lean.state_dict().keys())
    assert dropped_official_keys(official, converted) == list(OFFICIAL_UNUSED_KEYS)
    load_state_dict_strictly(lean, converted)
    kept = convert_official_state_dict(official, target_keys=light_model.state_dict().keys())
    assert 'head.cam_token_embed.weight' in kept
    forced = convert_official_state_dict(official, target_keys=light_model.state_dict().keys(), drop_unused=True)
    assert 'head.vertex_token_embed.weight' not in forced


def test_unknown_names_are_rejected():
    with pytest.raises(KeyError, match='smpl.v_template'):
        convert_official_state_dict({'smpl.v_template': torch.zeros(3)})
    with pytest.raises(KeyError, match='data_preprocessor.mean'):
        export_to_official({'data_preprocessor.mean': torch.zeros(3)})


def test_missing_and_empty_files_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_official_checkpoint(tmp_path / 'nope.bin')
    torch.save({'epoch': 3}, tmp_path / 'no_weights.pth')
    with pytest.raises(ValueError, match='no recognisable PointHMR weights'):
        load_official_checkpoint(tmp_path / 'no_weights.pth')
    (tmp_path / 'empty.bin').write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty.bin.*is empty \(0 bytes\)'):
        load_official_checkpoint(tmp_path / 'empty.bin')
    (tmp_path / 'cut.bin').write_bytes((tmp_path / 'no_weights.pth').read_bytes()[:200])
    with pytest.raises(ValueError, match=r'cut.bin.*truncated or not a PyTorch checkpoint'):
        load_official_checkpoint(tmp_path / 'cut.bin')


def test_getattr_exec_chain_is_refused_by_the_converter(tmp_path, getattr_exec_chain):
    marker = tmp_path / 'ran'
    path = tmp_path / 'PointHMR_h36m.bin'
    path.write_bytes(getattr_exec_chain(f'open({str(marker)!r}, "w").close()'))
    with pytest.raises(UnsafeCheckpointError, match='builtins.getattr'):
        load_official_checkpoint(path)
    assert not marker.exists()
