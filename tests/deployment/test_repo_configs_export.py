"""Every light config of the repository (body and any other mesh model, e.g. the hand) exports, and onnxruntime gives
PyTorch's predictions on the same random weights."""
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
LIGHT_CONFIGS = sorted((REPO / 'configs' / 'pointhmr').glob('*light*.py'))


def test_there_is_a_light_config():
    assert LIGHT_CONFIGS


@pytest.mark.parametrize('config', LIGHT_CONFIGS, ids=[p.stem for p in LIGHT_CONFIGS])
def test_light_config_exports_and_matches_pytorch(config, tmp_path, crops, randomise_weights):
    from pointhmr.deployment.onnx_export import build_model_for_export, export_onnx
    from pointhmr.deployment.ort_backend import create_session
    model, cfg, name = build_model_for_export(str(config), 'none')
    model = randomise_weights(model, seed=2)
    path = tmp_path / 'model.onnx'
    diffs = export_onnx(model, cfg, path, dynamic_batch=True, config_name=name)
    assert max(diffs.values()) <= 1e-4
    images = crops(2, seed=5)
    outputs = create_session(path, threads=1).run(['vertices', 'keypoints_2d'], {'input': images.numpy()})
    with torch.no_grad():
        preds = model.head.predict(model.extract_feat(images), None)
    expected = np.concatenate([p.vertices for p in preds])
    assert outputs[0].shape == expected.shape and expected.shape[1] == model.head.body_model.num_vertices
    assert np.abs(outputs[0] - expected).max() <= 1e-4
    keypoints, _ = model.head.decoder.decode(outputs[1])
    np.testing.assert_allclose(keypoints, np.concatenate([p.keypoints for p in preds]), atol=1e-2)  # crop pixels
