"""OpenMMLab model-zoo metadata: model-index.yml -> configs/pointhmr/metafile.yml matches the configs and the README."""
import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / 'configs' / 'pointhmr'
#: {algorithm}_{backbone}_{N}xb{B}-{schedule}_{data}-{size}[_{variant}]
CONFIG_NAME = re.compile(r'^pointhmr_hrnet-[\w]+_\d+xb\d+-\d+(e|it)_[\w.-]+-\d+(_[\w-]+)?$')


@pytest.fixture(scope='module')
def metafiles():
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    paths = [REPO_ROOT / path for path in index['Import']]
    missing = [str(p) for p in paths if not p.is_file()]
    assert not missing, f'model-index.yml imports missing metafiles: {missing}'
    return {path: yaml.safe_load(path.read_text()) for path in paths}


@pytest.fixture(scope='module')
def models(metafiles):
    return [model for metafile in metafiles.values() for model in metafile['Models']]


def test_collections_and_readme(metafiles):
    for path, metafile in metafiles.items():
        names = {collection['Name'] for collection in metafile['Collections']}
        for collection in metafile['Collections']:
            assert (REPO_ROOT / collection['README']).is_file(), collection['README']
            assert collection['Paper']['Title']
        for model in metafile['Models']:
            assert model['In Collection'] in names, f'{path}: {model["Name"]} is in an undefined collection'


def test_every_config_in_the_metafile_exists_and_is_named_after_it(models):
    for model in models:
        config = REPO_ROOT / model['Config']
        assert config.is_file(), f'metafile names a missing config: {model["Config"]}'
        assert model['Name'] == config.stem
        assert CONFIG_NAME.match(config.stem), f'{config.name} does not follow the OpenMMLab naming scheme'
    assert len({model['Name'] for model in models}) == len(models), 'duplicate model names'


def test_every_config_is_in_the_metafile(models):
    listed = {(REPO_ROOT / model['Config']).resolve() for model in models}
    configs = {path.resolve() for path in CONFIG_DIR.glob('*.py')}
    assert configs, CONFIG_DIR
    unlisted = sorted(str(path.relative_to(REPO_ROOT)) for path in configs - listed)
    assert not unlisted, f'configs missing from configs/pointhmr/metafile.yml: {unlisted}'


def test_results_are_marked_with_their_source(models):
    with_results = [model for model in models if model.get('Results')]
    assert with_results
    for model in with_results:
        assert model['Metadata']['Results Source'], model['Name']
        for result in model['Results']:
            assert result['Task'] and result['Dataset'] and result['Metrics']
    # the paper's numbers are marked as such while no checkpoint of ours exists
    paper = {model['Name']: model for model in with_results if model['Metadata']['Results Source'] == 'paper'}
    assert all(model['Weights'] is None for model in paper.values())
    h36m = paper['pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224']['Results'][0]['Metrics']
    assert h36m == {'MPJPE': 48.3, 'PA-MPJPE': 32.9}


def test_our_measured_results_match_the_readme(models):
    """Results not from the paper must be the ones the README reports (one source for each number)."""
    readme = (REPO_ROOT / 'README.md').read_text()
    measured = [model for model in models if model.get('Results') and model['Metadata']['Results Source'] != 'paper']
    assert measured
    for model in measured:
        metrics = model['Results'][0]['Metrics']
        row = ' | '.join(str(metrics[key]) for key in ('MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE'))
        assert f'| {row} |' in readme, f'{model["Name"]}: {metrics} is not the README\'s measurement'
