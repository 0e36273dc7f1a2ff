import os.path as osp

from pointhmr.utils import default_cache_dir


def test_cache_dir_is_pointhmr_cache_or_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path))
    assert default_cache_dir() == str(tmp_path)
    monkeypatch.delenv('POINTHMR_CACHE')
    assert default_cache_dir() == osp.join(osp.expanduser('~'), '.cache', 'pointhmr')


def test_tsv_indexes_of_read_only_folders_go_to_the_cache(monkeypatch, tmp_path):
    from pointhmr.datasets.tsv_file import _cached_lineidx_path
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path / 'cache'))
    path = _cached_lineidx_path(tmp_path / 'data' / 'a.tsv', None)
    assert osp.dirname(path) == str(tmp_path / 'cache' / 'lineidx') and osp.basename(path).startswith('a.')
