import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpose.registry import DATASETS, METRICS, MODELS

from pointhmr.body.synthetic_body import default_body_files
from pointhmr.engine.hooks import config_mesh_model_mismatches
from pointhmr.evaluation import MeshMetric
from pointhmr.utils import load_model_config

CONFIG_ROOT = Path(__file__).resolve().parents[2] / 'configs'
ALL_CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)
H36M = CONFIG_ROOT / 'pointhmr' / 'pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py'
PW3D = CONFIG_ROOT / 'pointhmr' / 'pointhmr_hrnet-w32_2xb12-5e_3dpw-224.py'
SYNTHETIC = CONFIG_ROOT / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-800it_synthetic-224.py'


def plain(value):
    """ConfigDict / tuples -> plain dicts and lists, for comparisons."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def test_expected_configs_exist():
    names = {p.name for p in ALL_CONFIGS}
    assert {'pointhmr_h36m.py', H36M.name, PW3D.name, SYNTHETIC.name} <= names
    assert sum('h36m-mix-224_' in n for n in names) >= 3  # ablations


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: p.name)
def test_config_loads_with_runtime_contract(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmpose'
    assert 'pointhmr' in cfg.custom_imports['imports'] and cfg.custom_imports['allow_failed_imports'] is False
    assert cfg.model.type == 'PointHMR'
    checkpoint = cfg.default_hooks.checkpoint
    if '_freihand-' in path.name:  # FreiHAND's test labels are hidden: no "best" checkpoint to select
        assert checkpoint.save_best is None
    else:
        assert (checkpoint.save_best, checkpoint.rule) == ('mesh/PA-MPJPE', 'less')
    assert checkpoint.backend_args == dict(backend='atomic_local')
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    for split in ('val', 'test'):
        evaluator = cfg[f'{split}_evaluator']
        assert evaluator.type == 'MeshMetric' and evaluator.prefix == 'mesh'
        assert isinstance(METRICS.build(copy.deepcopy(evaluator)), MeshMetric)
        assert cfg[f'{split}_dataloader'].sampler.get('round_up') is False  # no padding duplicates
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.type in ('MeshTSVDataset', 'HandMeshTSVDataset')


def test_full_configs_use_the_model_configs():
    assert plain(Config.fromfile(str(H36M)).model) == plain(load_model_config('pointhmr_hrnet-w32'))
    light = plain(load_model_config('pointhmr_light'))
    # the synthetic config's documented CPU changes
    light['head'].update(heatmap_size=[56, 56],
                         dropout=0.0,
                         heatmap_camera='ground_truth',
                         embedding_init_std=0.02,
                         template_offsets=True,
                         surface_levels=[2, 0],
                         loss_weights=dict(heatmap=1000., edge_length=100., normal=10., laplacian=100.))
    assert plain(Config.fromfile(str(SYNTHETIC)).model) == light


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: p.name)
def test_shared_settings_are_declared_once_and_referenced(path):
    cfg = Config.fromfile(str(path))
    body_model, head = plain(cfg.body_model), cfg.model.head
    assert body_model['type'] in ('SMPLBodyModel', 'MANOHandModel')
    assert plain(head.body_model) == body_model
    for split in ('val', 'test'):
        assert plain(cfg[f'{split}_evaluator'].body_model) == body_model
    assert plain(cfg.visualizer.body_model) == body_model
    assert config_mesh_model_mismatches(cfg) == []
    assert plain(head.decoder) == plain(cfg.codec) and tuple(cfg.codec.input_size) == tuple(cfg.input_size)
    assert tuple(head.heatmap_size) == tuple(cfg.heatmap_size)
    for split in ('train', 'val', 'test'):
        affine = [t for t in cfg[f'{split}_dataloader'].dataset.pipeline if t['type'] == 'MeshTopdownAffine']
        assert len(affine) == 1 and tuple(affine[0]['input_size']) == tuple(cfg.input_size)


def write_child(folder: Path, base: Path, body: str) -> Path:
    path = folder / 'child.py'
    path.write_text(f'_base_ = [{str(base)!r}]\n{body}')
    return path


#: the README's way to switch the body model of a config
SWITCH_BODY_MODEL = """body_model = dict(type='SMPLBodyModel', gender='female', _delete_=True)
model = dict(head=dict(body_model=body_model))
val_evaluator = dict(body_model=body_model)
test_evaluator = val_evaluator
visualizer = dict(body_model=body_model)
"""


@pytest.mark.parametrize('base', [H36M, PW3D, SYNTHETIC], ids=lambda p: p.name)
def test_child_config_switches_the_body_model_of_every_consumer(tmp_path, base):
    cfg = Config.fromfile(str(write_child(tmp_path, base, SWITCH_BODY_MODEL)))
    switched = dict(type='SMPLBodyModel', gender='female')
    assert plain(cfg.body_model) == switched
    assert plain(cfg.model.head.body_model) == switched
    assert plain(cfg.val_evaluator.body_model) == switched and plain(cfg.test_evaluator.body_model) == switched
    assert plain(cfg.visualizer.body_model) == switched
    assert cfg.val_evaluator.type == 'MeshMetric' and cfg.visualizer.type == 'MeshVisualizer'  # merged, not replaced
    assert config_mesh_model_mismatches(cfg) == []
    # mmengine resolves `body_model` references where they are written: setting only the variable switches nothing,
    # which the start-up check reports for every consumer
    lone = Config.fromfile(str(write_child(tmp_path, base, SWITCH_BODY_MODEL.splitlines()[0] + '\n')))
    assert plain(lone.body_model) == switched and plain(lone.model.head.body_model) == dict(type='SMPLBodyModel')
    assert [m.split(' ')[0] for m in config_mesh_model_mismatches(lone)] == [
        'model.head.body_model', 'val_evaluator[0].body_model', 'test_evaluator[0].body_model', 'visualizer.body_model'
    ]


def _runner(cfg: Config, root: Path, work_dir: Path) -> Runner:
    cfg.work_dir = str(work_dir)
    cfg.test_dataloader = dict(cfg.test_dataloader,
                               num_workers=0,
                               persistent_workers=False,
                               dataset=dict(cfg.test_dataloader.dataset, data_root=str(root) + '/'))
    return Runner.from_cfg(cfg)


def test_start_up_check_stops_mismatched_body_models(tmp_path, tiny_synthetic_root):
    lone = write_child(tmp_path, SYNTHETIC, "body_model = dict(type='SMPLBodyModel', gender='female')\n")
    lone = Config.fromfile(str(lone))
    with pytest.raises(ValueError, match='model.head.body_model = .*pass it to every consumer'):
        _runner(lone, tiny_synthetic_root, tmp_path / 'lone').test()
    # built objects: the model's body model has another H36M regressor than the metric's default one (which no config
    # entry names, so only the built models can show it)
    regressor = tmp_path / 'h36m_regressor.npy'
    np.save(regressor, 1.5 * np.load(default_body_files()['h36m_regressor_path']))
    other_body = dict(type='SMPLBodyModel', h36m_regressor_path=str(regressor))
    cfg = Config.fromfile(str(SYNTHETIC))
    cfg.body_model = cfg.model.head.body_model = cfg.val_evaluator.body_model = cfg.visualizer.body_model = other_body
    cfg.test_evaluator = dict(type='MeshMetric', prefix='mesh')
    with pytest.raises(ValueError,
                       match='model and the test_evaluator metric MeshMetric use different body models '
                       r'\(h36m_regressor differ\)'):
        _runner(cfg, tiny_synthetic_root, tmp_path / 'built').test()


def test_h36m_recipe_matches_the_release_scripts():
    cfg = Config.fromfile(str(H36M))
    assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.optim_wrapper.optimizer.lr == 1e-5
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.train_cfg.max_epochs == 60 and cfg.train_cfg.by_epoch
    assert plain(cfg.param_scheduler) == [dict(type='MultiStepLR', by_epoch=True, milestones=[30], gamma=0.1)]
    assert cfg.train_dataloader.batch_size == 12 and cfg.auto_scale_lr.base_batch_size == 24
    assert cfg.train_dataloader.dataset.ann_file == 'Tax-H36m-coco40k-Muco-UP-Mpii/train.yaml'
    assert cfg.val_dataloader.dataset.ann_file == 'human3.6m/valid.protocol2.yaml'
    assert cfg.test_dataloader.dataset.ann_file == 'human3.6m/valid.protocol2.yaml'
    assert cfg.randomness.seed == 88
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline
            ] == ['LoadImage', 'MeshBBoxCenterScale', 'RandomMeshAugmentation', 'MeshTopdownAffine', 'PackMeshInputs']
    assert 'RandomMeshAugmentation' not in [t['type'] for t in cfg.val_dataloader.dataset.pipeline]
    alias = Config.fromfile(str(CONFIG_ROOT / 'pointhmr_h36m.py'))
    assert plain(alias.model) == plain(cfg.model) and plain(alias.optim_wrapper) == plain(cfg.optim_wrapper)


def test_3dpw_finetune_recipe():
    cfg = Config.fromfile(str(PW3D))
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.train_cfg.max_epochs == 5
    assert plain(cfg.param_scheduler)[0]['milestones'] == [3]
    assert cfg.train_dataloader.dataset.ann_file == '3dpw/train.yaml'
    assert cfg.val_dataloader.dataset.ann_file == '3dpw/test_has_gender.yaml'
    assert cfg.test_dataloader.dataset.ann_file == '3dpw/test_has_gender.yaml'


@pytest.mark.parametrize('suffix, path, expected', [
    ('no-point-sampling', ('neck', 'use_point_sampling'), False),
    ('no-progressive-mask', ('head', 'hops'), None),
    ('fixed-hop-3', ('head', 'hops'), [3, 3, 3, 3]),
])
def test_ablations_change_one_setting(suffix, path, expected):
    base = plain(Config.fromfile(str(H36M)).model)
    ablation = plain(Config.fromfile(str(H36M).replace('.py', f'_{suffix}.py')).model)
    assert ablation[path[0]][path[1]] == expected
    ablation[path[0]][path[1]] = base[path[0]][path[1]]
    assert ablation == base


def test_amp_variant_only_changes_the_optimizer_wrapper():
    base = Config.fromfile(str(H36M))
    amp = Config.fromfile(str(H36M).replace('.py', '_amp.py'))
    assert amp.optim_wrapper.type == 'AmpOptimWrapper' and amp.optim_wrapper.loss_scale == 'dynamic'
    assert plain(amp.optim_wrapper.optimizer) == plain(base.optim_wrapper.optimizer)
    assert plain(amp.model) == plain(base.model)


def test_synthetic_config_builds_model_and_datasets(tiny_synthetic_root):
    cfg = Config.fromfile(str(SYNTHETIC))
    assert plain(cfg.custom_hooks) == [dict(type='MeanPoseBaselineHook')]
    model = MODELS.build(cfg.model)
    for split, count in (('train', 6), ('test', 4)):
        loader = cfg[f'{split}_dataloader']
        dataset = DATASETS.build(dict(loader.dataset, data_root=str(tiny_synthetic_root) + '/'))
        assert len(dataset) == count
        item = dataset[0]
        assert tuple(item['inputs'].shape) == (3, 224, 224)
        labels = item['data_samples'].gt_instance_labels
        assert tuple(labels.keypoints_3d.shape) == (1, 24, 4)
    model.eval()
    batch = model.data_preprocessor(dict(inputs=[item['inputs']], data_samples=[item['data_samples']]), False)
    with torch.no_grad():
        prediction = model(**batch, mode='predict')[0]
    assert prediction.pred_instances.vertices.shape == (1, 6890, 3)


def test_default_model_builds_with_official_size():
    model = MODELS.build(Config.fromfile(str(H36M)).model)
    assert sum(p.numel() for p in model.parameters()) == 59_086_504
