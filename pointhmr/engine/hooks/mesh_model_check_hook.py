"""MeshModelCheckHook: a run whose model, metrics and visualizer use different mesh (body) models stops at start-up.

A config declares ``body_model = dict(...)`` once and passes it to the model head, the evaluators and the visualizer.
mmengine resolves such references when it parses the file that holds them, so a derived config that only sets
``body_model`` changes the variable but none of its consumers (see the README, "Real SMPL and datasets"). Two checks:

* before the run, the config: every consumer that names a body model names the config's ``body_model``;
* before training / validation / testing, the built objects: the head's body model and every metric's body model have
  the same class and the same fixed data (buffers and faces).
"""
from typing import Any, List, Optional, Tuple

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS
from torch import nn

#: where the README explains how to switch the body model of a config
FIX_HINT = ('declare body_model once and pass it to model.head, val_evaluator, test_evaluator and visualizer '
            '(README, "Real SMPL and datasets")')


def _plain(value: Any) -> Any:
    """ConfigDicts / tuples -> dicts / lists, for comparisons."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _evaluator_metrics(evaluator: Any) -> List[dict]:
    """Metric configs of an evaluator config: a metric dict, a list of them, or ``dict(metrics=...)``."""
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    return [m for m in metrics if isinstance(m, dict)]


def config_mesh_model_mismatches(cfg: Any) -> List[str]:
    """Consumers of a config whose ``body_model`` differs from the config's top-level ``body_model``.

    Without a top-level ``body_model`` the model head's is the reference. Consumers that name no body model are not
    checked here (the built metric is compared with the model before it runs).
    """
    head = (cfg.get('model') or {}).get('head') or {}
    reference = cfg.get('body_model', head.get('body_model'))
    if reference is None:
        return []
    consumers: List[Tuple[str, Any]] = [('model.head.body_model', head.get('body_model'))]
    for split in ('val', 'test'):
        for index, metric in enumerate(_evaluator_metrics(cfg.get(f'{split}_evaluator'))):
            name = f'{split}_evaluator[{index}].body_model ({metric.get("type")})'
            consumers.append((name, metric.get('body_model')))
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict):
        consumers.append(('visualizer.body_model', visualizer.get('body_model')))
    reference = _plain(reference)
    return [
        f'{name} = {_plain(value)}' for name, value in consumers if value is not None and _plain(value) != reference
    ]


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.layout != b.layout:
        return False
    a, b = a.detach().cpu(), b.detach().cpu()
    if a.is_sparse:
        a, b = a.coalesce(), b.coalesce()
        return torch.equal(a.indices(), b.indices()) and torch.equal(a.values().double(), b.values().double())
    return torch.equal(a.double(), b.double()) if a.is_floating_point() else torch.equal(a, b)


def mesh_model_differences(a: nn.Module, b: nn.Module) -> List[str]:
    """What differs between two built mesh models: class, buffer names, buffer values (by name) or faces; [] if
    they are the same model."""
    if type(a) is not type(b):
        return [f'class {type(a).__name__} vs {type(b).__name__}']
    buffers_a, buffers_b = dict(a.named_buffers()), dict(b.named_buffers())
    if buffers_a.keys() != buffers_b.keys():
        return [f'buffers {sorted(buffers_a.keys() ^ buffers_b.keys())} exist in only one']
    differences = [name for name in buffers_a if not _same_tensor(buffers_a[name], buffers_b[name])]
    faces_a, faces_b = getattr(a, 'faces', None), getattr(b, 'faces', None)
    if (faces_a is None) != (faces_b is None) or (faces_a is not None
                                                  and not np.array_equal(np.asarray(faces_a), np.asarray(faces_b))):
        differences.append('faces')
    return differences


def _model_mesh_model(model: nn.Module) -> Optional[nn.Module]:
    if is_model_wrapper(model):
        model = model.module
    return getattr(getattr(model, 'head', None), 'body_model', None)


@HOOKS.register_module()
class MeshModelCheckHook(Hook):
    """Raise before a run when the config's consumers or the built model and metrics use different mesh models.

    Configured by ``configs/_base_/default_runtime.py`` as ``default_hooks.mesh_model_check``.
    """
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._checked: set = set()

    def before_run(self, runner) -> None:
        mismatches = config_mesh_model_mismatches(runner.cfg)
        if mismatches:
            raise ValueError(f'MeshModelCheckHook: the config sets body_model = {_plain(runner.cfg.get("body_model"))} '
                             f'but {"; ".join(mismatches)}. A derived config that changes body_model must pass it to '
                             f'every consumer: {FIX_HINT}')

    def before_train(self, runner) -> None:
        self._check_metrics(runner, 'val_evaluator', runner.val_loop)

    def before_val(self, runner) -> None:
        self._check_metrics(runner, 'val_evaluator', runner.val_loop)

    def before_test(self, runner) -> None:
        self._check_metrics(runner, 'test_evaluator', runner.test_loop)

    def _check_metrics(self, runner, name: str, loop: Any) -> None:
        """Compare the model's mesh model with the one of every metric of ``loop`` that has one (once per metric)."""
        evaluator = getattr(loop, 'evaluator', None)
        mesh_model = _model_mesh_model(runner.model)
        if evaluator is None or mesh_model is None:
            return
        for metric in evaluator.metrics:
            if id(metric) in self._checked or not hasattr(metric, 'body_model'):
                continue
            differences = mesh_model_differences(mesh_model, metric.body_model)
            if differences:
                raise ValueError(f'MeshModelCheckHook: the model and the {name} metric {type(metric).__name__} use '
                                 f'different body models ({", ".join(differences)} differ): the metric would score '
                                 f'against another mesh than the model predicts. {FIX_HINT}')
            self._checked.add(id(metric))
