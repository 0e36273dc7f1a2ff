"""tools/model_converters/convert_official_ckpt.py: converts, verifies strictly, writes an mmengine checkpoint, fails
loudly."""
import importlib.util
import os
from pathlib import Path

import pytest
import torch
from mmengine.runner import load_checkpoint
from mmpose.registry import MODELS

from pointhmr.models.official_checkpoint import export_to_official
from pointhmr.utils import config_path, load_model_config

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' / 'convert_official_ckpt.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('convert_official_ckpt', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(folder: Path, keep_unused_embeddings: bool) -> str:
    path = folder / f'light_keep{int(keep_unused_embeddings)}.py'
    base = config_path('_base_/models/pointhmr_light.py')
    path.write_text(f'_base_ = [{str(base)!r}]\n'
                    f'model = dict(head=dict(keep_unused_embeddings={keep_unused_embeddings}))\n')
    return str(path)


def build(seed: int, keep_unused_embeddings: bool = True) -> torch.nn.Module:
    torch.manual_seed(seed)
    cfg = load_model_config('pointhmr_light')
    cfg['head']['keep_unused_embeddings'] = keep_unused_embeddings
    return MODELS.build(cfg).eval()


@pytest.fixture(scope='module')
def source_model() -> torch.nn.Module:
    return build(seed=0)


@pytest.fixture()
def official_file(source_model, tmp_path) -> Path:
    path = tmp_path / 'state_dict.bin'
    torch.save(export_to_official(source_model.state_dict()), path)
    return path


def test_converts_and_writes_a_loadable_checkpoint(tool, source_model, official_file, tmp_path, capsys):
    dst = tmp_path / 'out' / 'pointhmr.pth'
    assert tool.main([str(official_file), str(dst), '--config', write_config(tmp_path, True)]) == 0
    out = capsys.readouterr().out
    assert 'strict load into the model: OK' in out and 'dropped official keys: none' in out
    assert f'tensors: {len(source_model.state_dict())}' in out
    assert [p.name for p in dst.parent.iterdir()] == ['pointhmr.pth'], 'temporary file left behind'

    checkpoint = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(checkpoint) == {'meta', 'state_dict'}
    assert checkpoint['meta']['dropped_keys'] == []
    target = build(seed=5)
    load_checkpoint(target, str(dst), map_location='cpu', strict=True)
    images = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(target._forward(images)['vertices'], source_model._forward(images)['vertices'])


@pytest.mark.parametrize('keep_in_model, flag', [(False, []), (True, ['--drop-unused'])])
def test_unused_embeddings_are_dropped_and_reported(tool, official_file, tmp_path, capsys, keep_in_model, flag):
    dst = tmp_path / 'lean.pth'
    assert tool.main([str(official_file), str(dst), '--config', write_config(tmp_path, keep_in_model)] + flag) == 0
    out = capsys.readouterr().out
    assert 'dropped official keys: cam_token_embed.weight, vertex_token_embed.weight' in out
    state_dict = torch.load(dst, map_location='cpu', weights_only=True)['state_dict']
    assert not any('token_embed' in k and ('cam_' in k or 'vertex_' in k) for k in state_dict)


def test_shape_mismatch_fails_with_the_key_name(tool, source_model, tmp_path, capsys):
    official = export_to_official(source_model.state_dict())
    official['transformer.xyz_regressor.weight'] = torch.zeros(3, 5)
    src, dst = tmp_path / 'bad.bin', tmp_path / 'bad.pth'
    torch.save(official, src)
    assert tool.main([str(src), str(dst), '--config', write_config(tmp_path, True)]) == 1
    err = capsys.readouterr().err
    assert 'head.transformer.xyz_regressor.weight: (3, 5) vs (3, 32)' in err
    assert not dst.exists()


def test_refused_pickle_fails_without_running_it(tool, tmp_path, capsys):
    marker = tmp_path / 'pwned'

    class Exploit:

        def __reduce__(self):
            return os.system, (f'touch {marker}', )

    src, dst = tmp_path / 'evil.bin', tmp_path / 'evil.pth'
    torch.save({'model': Exploit()}, src)
    assert tool.main([str(src), str(dst), '--config', write_config(tmp_path, True)]) == 1
    err = capsys.readouterr().err
    assert 'refusing to load' in err and 'system' in err
    assert not marker.exists() and not dst.exists()


def test_missing_source_and_same_paths_are_errors(tool, tmp_path, capsys):
    assert tool.main([str(tmp_path / 'nope.bin'), str(tmp_path / 'x.pth')]) == 1
    assert 'does not exist' in capsys.readouterr().err
    same = tmp_path / 'same.pth'
    assert tool.main([str(same), str(same)]) == 2
