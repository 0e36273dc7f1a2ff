"""SwitchToDeployHook: validation / test epochs run the deployed model; training leaves deploy mode."""
from types import SimpleNamespace

import torch
from mmengine.hooks import EMAHook
from mmpose.registry import HOOKS, MODELS

from pointhmr.models.layers import ResidualBasicBlock
from pointhmr.utils import load_model_config


def _blocks(model):
    return [m for m in model.modules() if isinstance(m, ResidualBasicBlock)]


def test_val_and_test_epochs_deploy_the_model():
    model = MODELS.build(load_model_config('pointhmr_light'))
    hook = HOOKS.build(dict(type='SwitchToDeployHook'))
    assert hook.priority == 'LOWEST'  # after hooks that swap weights in before_val_epoch (EMAHook: NORMAL)
    assert EMAHook.priority == 'NORMAL'
    runner = SimpleNamespace(model=model)
    assert not any(block.deploy for block in _blocks(model))
    hook.before_val_epoch(runner)
    assert all(block.deploy for block in _blocks(model))
    model.train()  # the train loop
    assert not any(block.deploy for block in _blocks(model))
    with torch.no_grad():  # weights change while training; the next test epoch folds the new ones
        model.neck.feature_extract_layer[0].conv1.weight.mul_(2)
    hook.before_test_epoch(runner)
    block = model.neck.feature_extract_layer[0]
    assert block.deploy and block.deploy_weights[0][0].shape == block.conv1.weight.shape
    hook.before_test_epoch(SimpleNamespace(model=torch.nn.Linear(2, 2)))  # models without the switch are left alone
