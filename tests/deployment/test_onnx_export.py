import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from pointhmr.deployment import OUTPUT_NAMES, ExportError
from pointhmr.deployment.onnx_export import export_onnx
from pointhmr.deployment.onnx_metadata import FORMAT, model_config_hash
from pointhmr.deployment.ort_backend import OnnxMeshModel, create_session


def predicted_vertices(model, images: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([p.vertices for p in model.head.predict(model.extract_feat(images), None)])


def test_export_is_valid_dense_and_described(light_onnx, light_cfg, light_model):
    path, diffs = light_onnx
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    ops = {node.op_type for node in proto.graph.node}
    assert not ops & {'Loop', 'Scan', 'If', 'NonZero'} and not any('Sparse' in op for op in ops)
    assert [i.name for i in proto.graph.input] == ['input'] and [o.name
                                                                 for o in proto.graph.output] == list(OUTPUT_NAMES)
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.dim_value  # dynamic batch
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta['pointhmr.format'] == FORMAT and meta['pointhmr.model_hash'] == model_config_hash(light_cfg)
    assert meta['pointhmr.num_vertices'] == str(light_model.head.body_model.num_vertices)
    assert meta['pointhmr.input_size'] == '224,224' and meta['pointhmr.dynamic_batch'] == 'true'
    assert set(diffs) == set(OUTPUT_NAMES) and max(diffs.values()) <= 1e-4


@pytest.mark.parametrize('batch', [1, 4])
def test_onnxruntime_equals_pytorch(light_onnx, light_model, batch, crops):
    """One dynamic-batch file, batch 1 and 4, against the PyTorch eager inference path on the same weights."""
    session = create_session(light_onnx[0], threads=1)
    images = crops(batch, seed=batch)
    outputs = dict(zip(OUTPUT_NAMES, session.run(list(OUTPUT_NAMES), {'input': images.numpy()})))
    expected = predicted_vertices(light_model, images)
    assert outputs['vertices'].shape == expected.shape == (batch, light_model.head.body_model.num_vertices, 3)
    assert np.abs(outputs['vertices'] - expected).max() <= 1e-4
    assert expected.std() > 1e-3


def test_refuses_unsupported_opset_and_input_size(light_model, light_cfg, tmp_path):
    with pytest.raises(ExportError, match=r'--opset 9 is not supported.*--opset 17'):
        export_onnx(light_model, light_cfg, tmp_path / 'a.onnx', opset=9)
    with pytest.raises(ExportError, match=r'--input-size 256 .*224x224.*--input-size 224'):
        export_onnx(light_model, light_cfg, tmp_path / 'b.onnx', input_size=256)
    assert not list(tmp_path.iterdir())


def test_backend_refuses_corrupt_foreign_and_mismatched_files(light_onnx, light_cfg, light_config_file, tmp_path):
    from pointhmr.deployment.onnx_metadata import OnnxModelError
    data = light_onnx[0].read_bytes()
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(data[:len(data) // 3])
    with pytest.raises(OnnxModelError, match=rf'{corrupt}.*re-export it with tools/deployment/pytorch2onnx.py'):
        OnnxMeshModel(light_config_file, corrupt)
    with pytest.raises(FileNotFoundError, match='missing.onnx'):
        OnnxMeshModel(light_config_file, tmp_path / 'missing.onnx')

    foreign = tmp_path / 'foreign.onnx'  # a valid ONNX model that pointhmr did not write
    node = onnx.helper.make_node('Identity', ['input'], ['camera'])
    graph = onnx.helper.make_graph([node], 'g',
                                   [onnx.helper.make_tensor_value_info('input', onnx.TensorProto.FLOAT, [1, 3])],
                                   [onnx.helper.make_tensor_value_info('camera', onnx.TensorProto.FLOAT, [1, 3])])
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid('', 17)]), str(foreign))
    with pytest.raises(OnnxModelError, match=rf'{foreign} has no pointhmr metadata.*pytorch2onnx.py'):
        OnnxMeshModel(light_config_file, foreign)

    backend = OnnxMeshModel(light_config_file, light_onnx[0])
    with pytest.raises(ValueError, match=rf'{light_onnx[0]} takes \(B, 3, 224, 224\) crops, got \(1, 3, 256, 256\)'):
        backend.run(np.zeros((1, 3, 256, 256), np.float32))

    other = light_cfg.copy()
    other.model.head.hops = [5, 3, 2, 1]  # another model (other masks), same weights layout
    other_file = tmp_path / 'other.py'
    other.dump(str(other_file))
    with pytest.raises(OnnxModelError, match=rf"{light_onnx[0]} was exported from config '{light_config_file}'"):
        OnnxMeshModel(other_file, light_onnx[0])


def test_import_pointhmr_does_not_import_onnx():
    code = ('import sys, pointhmr, pointhmr.apis, pointhmr.deployment\n'
            'from pointhmr.deployment import onnx_export, ort_backend\n'
            "assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules, sorted(m for m in sys.modules "
            "if m.startswith('onnx'))\n")
    subprocess.run([sys.executable, '-c', code], check=True)
