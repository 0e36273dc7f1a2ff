"""mmpose's own top-down API (init_model / inference_topdown) on the configs shipped in configs/."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmpose.apis import inference_topdown, init_model

REPO_ROOT = Path(__file__).resolve().parents[2]
#: the light body configs (the hand configs have their own inference tests on FreiHAND crops)
LIGHT_CONFIGS = sorted((REPO_ROOT / 'configs' / 'pointhmr').glob('*light*_synthetic-224.py'))


def test_light_body_configs_are_found():
    assert LIGHT_CONFIGS, 'no light synthetic body config matched: update the glob after renaming configs'


@pytest.mark.parametrize('config', [REPO_ROOT / 'configs' / 'pointhmr_h36m.py'] + LIGHT_CONFIGS, ids=lambda p: p.name)
def test_init_model_and_inference_topdown(config, grace_hopper):
    torch.manual_seed(0)  # random weights: keep the predicted cameras reproducible
    model = init_model(str(config), None, device='cpu')
    bboxes = np.array([[60., 40., 460., 590.], [0., 0., 300., 300.]], dtype=np.float32)
    samples = inference_topdown(model, str(grace_hopper), bboxes=bboxes)

    assert len(samples) == 2
    for sample, bbox in zip(samples, bboxes):
        pred = sample.pred_instances
        assert pred.vertices.shape == (1, 6890, 3)
        assert pred.keypoints_3d.shape == (1, 17, 3)
        assert pred.camera.shape == (1, 3)
        assert pred.keypoints.shape == (1, 17, 2)
        assert np.isfinite(pred.vertices).all() and np.isfinite(pred.keypoints).all()
        # the 2D keypoints are mapped from the 224 crop back to image pixels: the crop is a padded square around the box
        centre = (bbox[:2] + bbox[2:]) / 2
        side = float(sample.metainfo['input_scale'][0])
        # the H36M config evaluates with crop_mode='official': the integer box's centre is within a pixel of the box's
        np.testing.assert_allclose(sample.metainfo['input_center'], centre, atol=1.0)
        assert side >= (bbox[2:] - bbox[:2]).max()
        assert (np.abs(pred.keypoints[0] - centre) <= side).all()
