"""tools/deployment/pytorch2onnx.py end to end (light config)."""
import importlib.util
from pathlib import Path

import onnx
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def tool():
    path = REPO / 'tools' / 'deployment' / 'pytorch2onnx.py'
    spec = importlib.util.spec_from_file_location('pytorch2onnx_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exports_a_checkpoint(tool, light_config_file, light_checkpoint, tmp_path, capsys):
    out = tmp_path / 'light.onnx'
    assert tool.main([str(light_config_file), str(light_checkpoint), str(out), '--opset', '16']) == 0
    printed = capsys.readouterr().out
    assert 'onnx.checker passed' in printed and 'onnxruntime vs PyTorch' in printed
    proto = onnx.load(str(out))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta['pointhmr.checkpoint'] == 'light.pth' and meta['pointhmr.random_weights'] == 'false'
    assert meta['pointhmr.config'] == str(light_config_file) and meta['pointhmr.dynamic_batch'] == 'false'
    assert proto.opset_import[0].version == 16
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 1


def test_checkpoint_of_another_model(tool, light_config_file, light_checkpoint, tmp_path, capsys):
    state = torch.load(light_checkpoint, weights_only=True)['state_dict']
    key = next(k for k in state if k.startswith('head.joint_token_embed'))
    state[key] = torch.zeros(3, 3)
    del state[next(k for k in state if k.startswith('neck.cam_layer'))]
    bad = tmp_path / 'other.pth'
    torch.save(dict(state_dict=state), bad)
    out = tmp_path / 'x.onnx'
    assert tool.main([str(light_config_file), str(bad), str(out)]) == 1
    error = capsys.readouterr().err
    assert f'checkpoint {bad} does not match the model of {light_config_file}' in error
    assert 'neck.cam_layer' in error and key in error and 'Pass the config the checkpoint was trained with' in error
    assert not out.exists()


def test_unsupported_opset_and_missing_files(tool, light_config_file, tmp_path, capsys):
    assert tool.main([str(light_config_file), 'none', str(tmp_path / 'a.onnx'), '--opset', '11']) == 1
    assert '--opset 11 is not supported' in capsys.readouterr().err
    assert tool.main([str(light_config_file), str(tmp_path / 'nope.pth'), str(tmp_path / 'a.onnx')]) == 1
    assert 'nope.pth' in capsys.readouterr().err
    assert tool.main([str(tmp_path / 'nope.py'), 'none', str(tmp_path / 'a.onnx')]) == 1
    assert 'config file not found' in capsys.readouterr().err
