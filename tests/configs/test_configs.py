import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpose.registry import DATASETS, METRICS, MODELS

from pointhmr.evaluation import MeshMetric
from pointhmr.models.default_configs import pointhmr_hrnet_w32_model, pointhmr_light_model

CONFIG_ROOT = Path(__file__).resolve().parents[2] / 'configs'
ALL_CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)
H36M = CONFIG_ROOT / 'pointhmr' / 'pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py'
PW3D = CONFIG_ROOT / 'pointhmr' / 'pointhmr_hrnet-w32_2xb12-5e_3dpw-224.py'
SYNTHETIC = CONFIG_ROOT / 'pointhmr' / 'pointhmr_light_1xb8-synthetic-224.py'


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
    assert (checkpoint.save_best, checkpoint.rule) == ('mesh/PA-MPJPE', 'less')
    assert checkpoint.backend_args == dict(backend='atomic_local')
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    for split in ('val', 'test'):
        evaluator = cfg[f'{split}_evaluator']
        assert evaluator.type == 'MeshMetric' and evaluator.prefix == 'mesh'
        assert isinstance(METRICS.build(copy.deepcopy(evaluator)), MeshMetric)
        assert cfg[f'{split}_dataloader'].sampler.get('round_up') is False  # no padding duplicates
    for split in ('train', 'val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.type == 'MeshTSVDataset'


def test_model_configs_match_the_model_defaults():
    assert plain(Config.fromfile(str(H36M)).model) == plain(pointhmr_hrnet_w32_model())
    light = plain(pointhmr_light_model())
    # the synthetic config's documented CPU changes
    light['head'].update(heatmap_size=[56, 56], dropout=0.0, heatmap_camera='ground_truth',
                         loss_weights=dict(heatmap=1000.))
    assert plain(Config.fromfile(str(SYNTHETIC)).model) == light


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
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == [
        'LoadImage', 'MeshBBoxCenterScale', 'RandomMeshAugmentation', 'MeshTopdownAffine', 'PackMeshInputs']
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
    assert cfg.report_mean_pose_baseline is True
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
