import importlib.util
import json
import os.path as osp

import yaml

TOOL = osp.join(osp.dirname(__file__), '..', '..', '..', 'tools', 'dataset_converters', 'make_synthetic_dataset.py')


def test_tool_writes_yaml_splits(tmp_path, synthetic_generator):
    spec = importlib.util.spec_from_file_location('make_synthetic_dataset', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'synthetic'
    assert tool.main([
        '--out',
        str(out), '--train', '2', '--test', '1', '--seed', '3', '--image-size', '96', '--max-turn', '30', '--quiet'
    ]) == 0
    config = yaml.safe_load((out / 'test.yaml').read_text())
    assert config['img'] == 'test.img.tsv' and (out / config['label']).is_file()
    assert len((out / 'train.label.tsv').read_text().splitlines()) == 2
    assert (out / 'train.img.lineidx').is_file() and (out / 'synthetic_meta.json').is_file()
    meta = json.loads((out / 'synthetic_meta.json').read_text())
    assert meta['max_turn'] == 30.0 and meta['splits'] == {'train': 2, 'test': 1}
    assert meta['part_colors'] is True and meta['background'] == 'plain'  # the defaults the light config learns from


def test_tool_writes_the_harder_variant_when_asked(tmp_path, synthetic_generator):
    spec = importlib.util.spec_from_file_location('make_synthetic_dataset', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'hard'
    assert tool.main([
        '--out',
        str(out), '--train', '1', '--test', '0', '--image-size', '64', '--no-part-colors', '--background', 'cluttered',
        '--quiet'
    ]) == 0
    meta = json.loads((out / 'synthetic_meta.json').read_text())
    assert meta['part_colors'] is False and meta['background'] == 'cluttered'
