import os
import os.path as osp
import stat

import numpy as np
import pytest

from pointhmr.datasets.tsv_file import CompositeTSVFile, TSVFile, build_lineidx, lineidx_path, write_tsv


def _write_raw(path, rows):
    with open(path, 'w') as f:
        for row in rows:
            f.write('\t'.join(row) + '\n')


def test_lineidx_is_built_when_missing_and_rows_are_random_access(tmp_path):
    rows = [(f'k{i}', 'x' * (i * 7 % 13), str(i)) for i in range(25)]
    path = tmp_path / 'data.img.tsv'
    _write_raw(path, rows)
    assert not osp.exists(tmp_path / 'data.img.lineidx')
    tsv = TSVFile(path)
    assert len(tsv) == 25
    assert osp.isfile(tmp_path / 'data.img.lineidx')
    for i in [24, 3, 0, 17, -1]:
        assert tsv[i] == list(rows[i])
    assert tsv.get_key(5) == 'k5'
    # the built index lists the byte offset of every row start
    offsets = [int(line) for line in open(tmp_path / 'data.img.lineidx')]
    data = path.read_bytes()
    assert offsets[0] == 0 and all(data[o - 1:o] == b'\n' for o in offsets[1:])


def test_out_of_range_row_names_file_and_row(tmp_path):
    path = tmp_path / 'few.tsv'
    write_tsv(path, [('a', '1'), ('b', '2')])
    with pytest.raises(IndexError, match=r'row 2 .*few\.tsv'):
        TSVFile(path).seek(2)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.tsv'):
        TSVFile(tmp_path / 'nothere.tsv')


def test_write_tsv_writes_matching_lineidx(tmp_path):
    path = write_tsv(tmp_path / 'w.label.tsv', [('k0', '[{"a": 1}]'), ('k1', 'é\tz')])
    assert osp.isfile(lineidx_path(path))
    tsv = TSVFile(path)
    assert tsv[1] == ['k1', 'é', 'z']
    with pytest.raises(ValueError, match='newline'):
        write_tsv(tmp_path / 'bad.tsv', [('k', 'a\nb')])


def test_stale_lineidx_is_rebuilt(tmp_path):
    path = tmp_path / 's.tsv'
    write_tsv(path, [('a', 'short'), ('b', 'short')])
    _write_raw(path, [('a', 'much longer value'), ('b', 'x'), ('c', 'y')])  # index now points mid-row
    tsv = TSVFile(path)
    assert len(tsv) == 3 and tsv[2] == ['c', 'y']


def test_lineidx_stale_after_appended_rows_is_rebuilt(tmp_path):
    path = tmp_path / 'grow.tsv'
    write_tsv(path, [('a', '1'), ('b', '2')])
    with open(path, 'a') as f:
        f.write('c\t3\nd\t4\n')  # the old index is consistent, but misses the new rows
    tsv = TSVFile(path)
    assert len(tsv) == 4 and tsv[3] == ['d', '4']
    assert (tmp_path / 'grow.lineidx').read_text().split() == ['0', '4', '8', '12']
    with open(path, 'a') as f:
        f.write('\n\n')  # trailing blank lines are not rows
    assert len(TSVFile(path)) == 4


@pytest.mark.skipif(hasattr(os, 'geteuid') and os.geteuid() == 0, reason='root ignores folder permissions')
def test_lineidx_goes_to_cache_dir_for_read_only_folder(tmp_path):
    folder = tmp_path / 'ro'
    folder.mkdir()
    _write_raw(folder / 'r.tsv', [('a', '1'), ('b', '2'), ('c', '3')])
    cache = tmp_path / 'cache'
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        built = build_lineidx(folder / 'r.tsv', cache_dir=str(cache))
        assert built.startswith(str(cache))
        tsv = TSVFile(folder / 'r.tsv', cache_dir=str(cache))
        assert tsv[2] == ['c', '3'] and not osp.exists(folder / 'r.lineidx')
    finally:
        folder.chmod(stat.S_IRWXU)


def test_composite_follows_pairs_and_prefixes_keys(tmp_path):
    a = write_tsv(tmp_path / 'a.tsv', [(f'a{i}', str(i)) for i in range(3)])
    b = write_tsv(tmp_path / 'b.tsv', [(f'b{i}', str(10 + i)) for i in range(2)])
    composite = CompositeTSVFile([a, b], pairs=np.array([[1, 1], [0, 2], [0, 0]]), key_prefixes=['A', 'B'])
    assert len(composite) == 3
    assert [composite[i][1] for i in range(3)] == ['11', '2', '0']
    assert composite.get_key(0) == 'B_b1'
    everything = CompositeTSVFile([a, b])
    assert [everything[i][0] for i in range(len(everything))] == ['a0', 'a1', 'a2', 'b0', 'b1']
    with pytest.raises(ValueError, match='source 2'):
        CompositeTSVFile([a, b], pairs=[(2, 0)])


def test_tsv_file_survives_pickling(tmp_path):
    import pickle
    tsv = TSVFile(write_tsv(tmp_path / 'p.tsv', [('a', '1'), ('b', '2')]))
    assert tsv[1] == ['b', '2']  # opens a handle
    clone = pickle.loads(pickle.dumps(tsv))
    assert clone[0] == ['a', '1']


def test_lineidx_falls_back_to_cache_when_folder_not_writable(tmp_path, monkeypatch):
    from pointhmr.datasets import tsv_file
    path = tmp_path / 'nw.tsv'
    _write_raw(path, [('a', '1'), ('b', '2')])
    monkeypatch.setattr(tsv_file.os, 'access', lambda *args, **kwargs: False)
    cache = tmp_path / 'cache'
    tsv = TSVFile(path, cache_dir=str(cache))
    assert tsv[1] == ['b', '2']
    assert not osp.exists(tmp_path / 'nw.lineidx')
    assert len(os.listdir(cache)) == 1
