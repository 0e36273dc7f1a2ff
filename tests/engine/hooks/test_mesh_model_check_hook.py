"""MeshModelCheckHook: config consumers and built mesh models that disagree are reported before a run starts."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmpose.registry import HOOKS, MODELS
from torch import nn

from pointhmr.engine.hooks import MeshModelCheckHook, config_mesh_model_mismatches, mesh_model_differences

BODY = dict(type='SMPLBodyModel')
OTHER = dict(type='SMPLBodyModel', gender='female')


@pytest.fixture(scope='module')
def body() -> nn.Module:
    return MODELS.build(BODY)


def test_same_model_has_no_differences(body):
    assert mesh_model_differences(body, copy.deepcopy(body)) == []


def test_differences_name_the_class_buffers_and_faces(body):
    assert mesh_model_differences(body, nn.Linear(2, 2)) == ['class SMPLBodyModel vs Linear']
    other = copy.deepcopy(body)
    other.h36m_regressor[0, 0] += 1e-3
    with torch.no_grad():  # a sparse sampler matrix with another value
        other.sampler.up_0 = (other.sampler.up_0.coalesce() * 2).coalesce()
    other.faces = other.faces[::-1].copy()
    assert mesh_model_differences(body, other) == ['h36m_regressor', 'sampler.up_0', 'faces']


def cfg_with(**overrides) -> Config:
    cfg = dict(body_model=BODY,
               model=dict(head=dict(body_model=BODY)),
               val_evaluator=dict(type='MeshMetric', body_model=BODY),
               test_evaluator=[dict(type='MeshMetric', body_model=BODY),
                               dict(type='OtherMetric')],
               visualizer=dict(type='MeshVisualizer', body_model=BODY))
    cfg.update(overrides)
    return Config(cfg)


def test_config_mismatches_list_every_consumer_on_another_body_model():
    assert config_mesh_model_mismatches(cfg_with()) == []
    mismatches = config_mesh_model_mismatches(cfg_with(body_model=OTHER))
    assert [m.split(' ')[0] for m in mismatches] == [
        'model.head.body_model', 'val_evaluator[0].body_model', 'test_evaluator[0].body_model', 'visualizer.body_model'
    ]
    # evaluator given as dict(metrics=[...]); consumers that name no body model are left to the built-object check
    cfg = cfg_with(val_evaluator=dict(metrics=[dict(
        type='MeshMetric'), dict(type='MeshMetric', body_model=OTHER)]),
                   visualizer=dict(type='MeshVisualizer'))
    assert [m.split(' ')[0] for m in config_mesh_model_mismatches(cfg)] == ['val_evaluator[1].body_model']
    # without a top-level body_model the head's is the reference; without either nothing is checked
    cfg = cfg_with(visualizer=dict(type='MeshVisualizer', body_model=OTHER))
    cfg.pop('body_model')
    assert [m.split(' ')[0] for m in config_mesh_model_mismatches(cfg)] == ['visualizer.body_model']
    assert config_mesh_model_mismatches(Config(dict(model=dict(type='X')))) == []


def fake_runner(cfg: Config, model_body: nn.Module, metric_body: nn.Module) -> SimpleNamespace:
    model = SimpleNamespace(head=SimpleNamespace(body_model=model_body))
    loop = SimpleNamespace(evaluator=SimpleNamespace(metrics=[SimpleNamespace(body_model=metric_body), object()]))
    return SimpleNamespace(cfg=cfg, model=model, val_loop=loop, test_loop=loop)


def test_hook_raises_before_the_run_and_before_each_loop(body):
    hook = HOOKS.build(dict(type='MeshModelCheckHook'))
    assert isinstance(hook, MeshModelCheckHook)
    hook.before_run(fake_runner(cfg_with(), body, body))
    with pytest.raises(ValueError, match=r"sets body_model = .*'gender': 'female'.*model.head.body_model = "):
        hook.before_run(fake_runner(cfg_with(body_model=OTHER), body, body))
    for stage, name in (('before_train', 'val_evaluator'), ('before_val', 'val_evaluator'), ('before_test',
                                                                                             'test_evaluator')):
        getattr(MeshModelCheckHook(), stage)(fake_runner(cfg_with(), body, copy.deepcopy(body)))
        with pytest.raises(ValueError, match=f'the {name} metric SimpleNamespace use different body models .class'):
            getattr(MeshModelCheckHook(), stage)(fake_runner(cfg_with(), body, nn.Linear(2, 2)))
