"""The configs that evaluate converted official checkpoints crop like the official code; training crops exactly."""
from pathlib import Path

import pytest
from mmengine import Config

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
OFFICIAL_EVAL = sorted(CONFIG_DIR.glob('pointhmr/*h36m*.py')) + sorted(
    CONFIG_DIR.glob('pointhmr/*3dpw*.py')) + [CONFIG_DIR / 'pointhmr_h36m.py']


def _transform(pipeline, name):
    found = [t for t in pipeline if t['type'] == name]
    assert len(found) == 1, f'expected one {name} in {pipeline}'
    return found[0]


@pytest.mark.parametrize('path', OFFICIAL_EVAL, ids=lambda p: p.name)
def test_official_benchmark_configs(path):
    cfg = Config.fromfile(str(path))
    for loader in ('val_dataloader', 'test_dataloader'):
        affine = _transform(cfg[loader]['dataset']['pipeline'], 'MeshTopdownAffine')
        assert affine.get('crop_mode') == 'official'
    train = cfg.train_dataloader['dataset']['pipeline']
    assert _transform(train, 'MeshTopdownAffine').get('crop_mode', 'exact') == 'exact'
    assert _transform(train, 'RandomMeshAugmentation').get('noise_channel_order') == 'rgb'
    header = path.read_text().split('_base_')[0]
    assert 'crop_mode' in header and 'truncate then +1' in header


def test_metafile_states_each_configs_crop_mode():
    import yaml
    metafile = yaml.safe_load((CONFIG_DIR / 'pointhmr' / 'metafile.yml').read_text())
    checked = 0
    for model in metafile['Models']:
        path = CONFIG_DIR.parent / model['Config']
        if not path.is_file():  # a missing config is test_metafile.py's finding
            continue
        checked += 1
        cfg = Config.fromfile(str(path))
        evaluation = _transform(cfg.test_dataloader['dataset']['pipeline'], 'MeshTopdownAffine')
        mode = model['Metadata']['Crop Mode']
        assert mode.startswith('official in evaluation') == (evaluation.get('crop_mode') == 'official'), model['Name']
        assert 'no truncate' in model['Metadata']['2D Labels']
    assert checked >= 5
