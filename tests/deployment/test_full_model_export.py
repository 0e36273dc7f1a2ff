"""The default (full-size) PointHMR exports and matches PyTorch: the Winograd F(4x4, 3x3) neck at 431/512 channels."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine import Config


@pytest.mark.slow
def test_full_model_export_equals_pytorch(tmp_path, crops, randomise_weights):
    from pointhmr.apis import init_mesh_model
    from pointhmr.deployment.onnx_export import export_onnx
    from pointhmr.deployment.ort_backend import create_session
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / 'pointhmr_h36m.py'))
    model = randomise_weights(init_mesh_model(cfg, 'none'), seed=1)
    path = tmp_path / 'full.onnx'
    export_onnx(model, cfg, path, dynamic_batch=False, verify=False)
    images = crops(1, seed=3)
    got = create_session(path, threads=1).run(['vertices'], {'input': images.numpy()})[0]
    with torch.no_grad():
        expected = model.head.predict(model.extract_feat(images), None)[0].vertices
    assert got.shape == expected.shape == (1, model.head.body_model.num_vertices, 3)
    assert np.abs(got - expected).max() <= 1e-4 and expected.std() > 1e-3
