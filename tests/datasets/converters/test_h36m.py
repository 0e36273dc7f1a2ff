import os

import numpy as np
import pytest

from pointhmr.datasets import MeshTSVDataset
from pointhmr.datasets.converters import h36m_samples, write_metro_split
from pointhmr.datasets.converters.h36m import load_h36m_npz


def _source(tmp_path, write_jpeg, count=3, with_smpl=True):
    rng = np.random.default_rng(0)
    names = [f'images/S9_Directions_1.60457274_{i:06d}.jpg' for i in range(count)]
    images = [write_jpeg(tmp_path / 'h36m' / name, rng) for name in names]
    arrays = dict(imgname=np.array(names),
                  center=rng.uniform(20, 40, (count, 2)),
                  scale=rng.uniform(0.2, 0.3, count),
                  part=np.concatenate([rng.uniform(0, 60, (count, 24, 2)),
                                       rng.integers(0, 2, (count, 24, 1))], 2),
                  S=np.concatenate([rng.normal(0, 0.4, (count, 24, 3)),
                                    rng.integers(0, 2, (count, 24, 1))], 2))
    if with_smpl:
        arrays.update(pose=rng.normal(0, 0.3, (count, 72)),
                      shape=rng.normal(0, 1, (count, 10)),
                      has_smpl=np.array([1, 0, 1][:count]))
    npz = tmp_path / 'h36m_valid_protocol2.npz'
    np.savez(npz, **arrays)
    return str(npz), arrays, images


def _convert(tmp_path, npz, **kwargs):
    total, rows = h36m_samples(npz, str(tmp_path / 'h36m'))
    return write_metro_split(str(tmp_path / 'out'), 'valid.protocol2', rows, total, progress=False, **kwargs)


@pytest.mark.parametrize('with_smpl', [True, False])
def test_round_trip_source_to_dataset_sample(tmp_path, write_jpeg, with_smpl):
    npz, arrays, images = _source(tmp_path, write_jpeg, with_smpl=with_smpl)
    dataset = MeshTSVDataset(ann_file=_convert(tmp_path, npz))
    assert len(dataset) == 3
    for i in range(3):
        item = dataset.get_data_info(i)
        assert item['img_path'] == arrays['imgname'][i]
        np.testing.assert_array_equal(item['img'], images[i])  # the JPEG bytes are stored as they are
        np.testing.assert_allclose(item['bbox_center'][0], arrays['center'][i], rtol=1e-6)
        np.testing.assert_allclose(item['bbox_scale'][0], [200 * arrays['scale'][i]] * 2, rtol=1e-6)
        np.testing.assert_allclose(item['keypoints'][0], arrays['part'][i, :, :2], rtol=1e-6)
        np.testing.assert_array_equal(item['keypoints_visible'][0], arrays['part'][i, :, 2])
        np.testing.assert_allclose(item['keypoints_3d'][0], arrays['S'][i], rtol=1e-6, atol=1e-7)
        assert item['has_2d_joints'] == 1 and item['has_3d_joints'] == 1
        if with_smpl:
            assert item['has_smpl'] == arrays['has_smpl'][i]
            np.testing.assert_allclose(item['smpl_pose'], arrays['pose'][i], rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(item['smpl_betas'], arrays['shape'][i], rtol=1e-6, atol=1e-7)
        else:
            assert item['has_smpl'] == 0 and not item['smpl_pose'].any()


def test_complete_split_is_skipped_and_overwrite_redoes_it(tmp_path, write_jpeg, capsys):
    npz, _, _ = _source(tmp_path, write_jpeg)
    yaml_path = _convert(tmp_path, npz)
    label = tmp_path / 'out' / 'valid.protocol2.label.tsv'
    stamp = label.stat().st_mtime_ns
    os.utime(label, ns=(stamp - 10**9, stamp - 10**9))
    assert _convert(tmp_path, npz) == yaml_path
    assert 'skipping' in capsys.readouterr().out and label.stat().st_mtime_ns == stamp - 10**9
    _convert(tmp_path, npz, overwrite=True)
    assert label.stat().st_mtime_ns != stamp - 10**9


def test_missing_image_fails_clearly_and_the_rerun_resumes(tmp_path, write_jpeg, capsys):
    npz, arrays, images = _source(tmp_path, write_jpeg)
    missing = tmp_path / 'h36m' / arrays['imgname'][2]
    missing.rename(missing.with_suffix('.bak'))
    with pytest.raises(FileNotFoundError, match='000002.jpg.*check --img-root'):
        _convert(tmp_path, npz, image_hint=' (check --img-root)', checkpoint_every=1)
    # nothing under a final name; the two complete rows are kept for the next run
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        'valid.protocol2.hw.tsv.partial', 'valid.protocol2.img.tsv.partial', 'valid.protocol2.label.tsv.partial',
        'valid.protocol2.progress.json'
    ]
    missing.with_suffix('.bak').rename(missing)
    dataset = MeshTSVDataset(ann_file=_convert(tmp_path, npz))
    assert 'resuming after 2 rows' in capsys.readouterr().out
    assert [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))] == list(arrays['imgname'])
    np.testing.assert_array_equal(dataset.get_data_info(2)['img'], images[2])
    assert sorted(p.name for p in (tmp_path / 'out').iterdir() if 'partial' in p.name or 'progress' in p.name) == []


@pytest.mark.parametrize('change, error, match', [
    (lambda a: a.pop('scale'), KeyError, r"missing arrays \['scale'\]"),
    (lambda a: a.update(S=a['S'][:, :17]), ValueError, "'S' has shape"),
    (lambda a: a.update(imgname=np.array([None] * 3, dtype=object)), ValueError, 'without unpickling'),
])
def test_malformed_npz(tmp_path, write_jpeg, change, error, match):
    _, arrays, _ = _source(tmp_path, write_jpeg)
    change(arrays)
    bad = tmp_path / 'bad.npz'
    np.savez(bad, **arrays)
    with pytest.raises(error, match=match):
        load_h36m_npz(str(bad))
    with pytest.raises(FileNotFoundError, match='not found'):
        load_h36m_npz(str(tmp_path / 'absent.npz'))
    (tmp_path / 'junk.npz').write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='not a readable .npz'):
        load_h36m_npz(str(tmp_path / 'junk.npz'))


def test_cli(tmp_path, write_jpeg, load_tool):
    npz, _, _ = _source(tmp_path, write_jpeg)
    module = load_tool('h36m_to_metro')
    out = tmp_path / 'cli'
    assert module.main([npz, '--img-root', str(tmp_path / 'h36m'), '--out', str(out), '--quiet']) == 0
    assert len(MeshTSVDataset(ann_file=str(out / 'valid.protocol2.yaml'))) == 3
