"""The onnxruntime backend through MeshInferencer and demo/mesh_demo.py on a real photo, against PyTorch."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from pointhmr.apis import RESULT_FIELDS, MeshInferencer

REPO = Path(__file__).resolve().parents[2]
BOXES = [[0.0, 0.0, 150.0, 220.0], [100.0, 50.0, 500.0, 600.0]]


@pytest.fixture(scope='module')
def inferencers(light_config_file, light_checkpoint, light_onnx):
    torch_inferencer = MeshInferencer(str(light_config_file), str(light_checkpoint))
    ort_inferencer = MeshInferencer(str(light_config_file), backend='onnxruntime', onnx_file=str(light_onnx[0]))
    return torch_inferencer, ort_inferencer


def test_same_results_as_pytorch_on_a_photo(inferencers, grace_hopper):
    torch_inferencer, ort_inferencer = inferencers
    assert not ort_inferencer.random_weights
    np.testing.assert_array_equal(ort_inferencer.faces, torch_inferencer.faces)
    expected = torch_inferencer(str(grace_hopper), bboxes=BOXES)
    got = ort_inferencer(str(grace_hopper), bboxes=BOXES)  # two crops: one batch of 2 through the dynamic model
    assert set(got) == set(RESULT_FIELDS)
    for key in RESULT_FIELDS:
        assert got[key].shape == expected[key].shape and got[key].dtype == np.float32, key
    assert np.abs(got['vertices'] - expected['vertices']).max() <= 1e-4
    np.testing.assert_allclose(got['keypoints_3d'], expected['keypoints_3d'], atol=1e-4)
    np.testing.assert_allclose(got['keypoints'], expected['keypoints'], atol=0.05)  # image pixels
    np.testing.assert_allclose(got['cameras'], expected['cameras'], atol=1e-4)
    for key in ('bboxes', 'input_centers', 'input_scales', 'keypoint_scores', 'bbox_scores'):
        np.testing.assert_array_equal(got[key], expected[key])
    np.testing.assert_allclose(got['depths'], expected['depths'], rtol=1e-3)
    drawn_torch = torch_inferencer.visualize(str(grace_hopper), expected)
    drawn_ort = ort_inferencer.visualize(str(grace_hopper), got)
    assert drawn_ort.shape == drawn_torch.shape
    assert np.mean(np.abs(drawn_ort.astype(np.int16) - drawn_torch.astype(np.int16)) > 8) < 0.005


def test_demo_with_onnxruntime(light_config_file, light_onnx, inferencers, grace_hopper, tmp_path):
    spec = importlib.util.spec_from_file_location('mesh_demo_onnx', REPO / 'demo' / 'mesh_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    out = tmp_path / 'out'
    assert demo.main([
        str(light_config_file), '--backend', 'onnxruntime', '--onnx',
        str(light_onnx[0]), '--input',
        str(grace_hopper), '--output-dir',
        str(out), '--fit-params'
    ]) == 0
    stem = grace_hopper.stem
    assert (out / f'{stem}_mesh.jpg').is_file() and (out / 'meshes' / f'{stem}_person0.obj').is_file()
    assert len(list((out / 'params').glob(f'{stem}_person0_*.npz'))) == 1  # parameter fitting on the ORT results
    with np.load(out / f'{stem}_results.npz') as saved:
        vertices = saved['vertices']
    expected = inferencers[0](str(grace_hopper))  # whole image, PyTorch
    assert np.abs(vertices - expected['vertices']).max() <= 1e-4
    with pytest.raises(SystemExit):
        demo.parse_args([str(light_config_file), '--backend', 'onnxruntime', '--input', 'x', '--output-dir', 'o'])
    with pytest.raises(SystemExit):
        demo.parse_args([str(light_config_file), '--input', 'x', '--output-dir', 'o'])  # pytorch needs a checkpoint


def test_backend_argument_errors(light_config_file):
    with pytest.raises(ValueError, match='onnx_file'):
        MeshInferencer(str(light_config_file), backend='onnxruntime')
    with pytest.raises(ValueError, match='backend must be one of'):
        MeshInferencer(str(light_config_file), 'none', backend='tensorrt')
