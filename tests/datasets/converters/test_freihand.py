import json

import numpy as np
import pytest

from pointhmr.datasets.converters import freihand_samples, write_metro_split
from pointhmr.datasets.tsv_file import TSVFile


def _source(tmp_path, write_jpeg, split='training', count=3, versions=2):
    rng = np.random.default_rng(0)
    root = tmp_path / 'FreiHAND'
    xyz = rng.normal(0, 0.03, (count, 21, 3)) + [0, 0, 0.6]
    intrinsics = np.tile(np.array([[480.0, 0, 112], [0, 480.0, 112], [0, 0, 1]]), (count, 1, 1))
    intrinsics[:, 0, 0] += rng.uniform(-20, 20, count)
    mano = rng.normal(0, 0.5, (count, 1, 61))
    verts = rng.normal(0, 0.05, (count, 778, 3))
    root.mkdir(parents=True)
    for name, array in (('xyz', xyz), ('K', intrinsics), ('mano', mano), ('verts', verts)):
        (root / f'{split}_{name}.json').write_text(json.dumps(array.tolist()))
    images = [write_jpeg(root / split / 'rgb' / f'{i:08d}.jpg', rng, 224, 224) for i in range(count * versions)]
    return root, dict(xyz=xyz, K=intrinsics, mano=mano.reshape(count, 61), verts=verts), images


def _rows(path):
    tsv = TSVFile(path)
    return [tsv.seek(i) for i in range(len(tsv))]


@pytest.mark.parametrize('box', ['image', 'joints'])
def test_round_trip_source_to_tsv_rows(tmp_path, write_jpeg, box):
    root, source, images = _source(tmp_path, write_jpeg)
    total, rows = freihand_samples(str(root), 'training', versions=2, with_vertices=True, box=box)
    assert total == 6
    yaml_path = write_metro_split(str(tmp_path / 'out'), 'train', rows, total, progress=False)
    assert yaml_path.endswith('train.yaml')
    labels = _rows(str(tmp_path / 'out' / 'train.label.tsv'))
    image_rows = _rows(str(tmp_path / 'out' / 'train.img.tsv'))
    hw_rows = _rows(str(tmp_path / 'out' / 'train.hw.tsv'))
    from pointhmr.datasets.mesh_tsv_format import decode_image
    for index in range(6):
        i = index % 3  # image v * N + i shares annotation i
        key, text = labels[index]
        assert key == image_rows[index][0] == hw_rows[index][0] == f'training/rgb/{index:08d}.jpg'
        np.testing.assert_array_equal(decode_image(image_rows[index][1]), images[index])
        assert json.loads(hw_rows[index][1]) == [{'height': 224, 'width': 224}]
        ann = json.loads(text)[0]
        np.testing.assert_allclose(np.array(ann['3d_joints'])[:, :3], source['xyz'][i])
        projected = source['xyz'][i] @ source['K'][i].T
        uv = projected[:, :2] / projected[:, 2:]
        np.testing.assert_allclose(np.array(ann['2d_joints'])[:, :2], uv)
        assert np.all(np.array(ann['2d_joints'])[:, 2] == 1) and np.all(np.array(ann['3d_joints'])[:, 3] == 1)
        np.testing.assert_allclose(ann['pose'], source['mano'][i, :48])
        np.testing.assert_allclose(ann['betas'], source['mano'][i, 48:58])
        np.testing.assert_allclose(ann['vertices'], source['verts'][i])
        assert ann['has_2d_joints'] == ann['has_3d_joints'] == ann['has_smpl'] == 1
        if box == 'image':
            assert ann['center'] == [112.0, 112.0] and ann['scale'] == pytest.approx(224 / 200)
        else:
            np.testing.assert_allclose(ann['center'], (uv.min(0) + uv.max(0)) / 2)
            assert ann['scale'] * 200 == pytest.approx(2.0 * (uv.max(0) - uv.min(0)).max())


def test_evaluation_split_without_mano(tmp_path, write_jpeg):
    root, source, _ = _source(tmp_path, write_jpeg, split='evaluation', versions=1)
    (root / 'evaluation_mano.json').unlink()
    total, rows = freihand_samples(str(root), 'evaluation', versions=1)
    rows = list(rows)
    assert total == len(rows) == 3
    assert 'pose' not in rows[0].annotation and 'vertices' not in rows[0].annotation
    assert rows[2].image_path.endswith('evaluation/rgb/00000002.jpg')


def test_missing_and_malformed_sources(tmp_path, write_jpeg):
    root, _, _ = _source(tmp_path, write_jpeg)
    with pytest.raises(FileNotFoundError, match='evaluation_xyz.json'):
        freihand_samples(str(root), 'evaluation')
    (root / 'training_K.json').write_text('[[1, 2')
    with pytest.raises(ValueError, match='training_K.json: malformed FreiHAND camera intrinsics'):
        freihand_samples(str(root), 'training')
    (root / 'training_K.json').write_text(json.dumps(np.zeros((3, 2, 3)).tolist()))
    with pytest.raises(ValueError, match=r'shape \(3, 2, 3\), expected \(N, 3, 3\)'):
        freihand_samples(str(root), 'training')
    (root / 'training_K.json').write_text(json.dumps(np.tile(np.eye(3), (2, 1, 1)).tolist()))
    with pytest.raises(ValueError, match='training_K.json has 2 entries but training_xyz.json has 3'):
        freihand_samples(str(root), 'training')
    (root / 'training_K.json').write_text(json.dumps(np.tile(np.eye(3), (3, 1, 1)).tolist()))
    (root / 'training' / 'rgb' / '00000004.jpg').write_bytes(b'garbage')
    total, rows = freihand_samples(str(root), 'training', versions=2)
    with pytest.raises(ValueError, match='00000004.jpg.*not a readable JPEG'):
        write_metro_split(str(tmp_path / 'out'), 'train', rows, total, progress=False)
    assert not (tmp_path / 'out' / 'train.yaml').exists()
    (root / 'training' / 'rgb' / '00000004.jpg').unlink()
    _, rows = freihand_samples(str(root), 'training', versions=2)
    with pytest.raises(FileNotFoundError, match='00000004.jpg'):
        write_metro_split(str(tmp_path / 'out'), 'train', rows, None, progress=False)


def test_cli(tmp_path, write_jpeg, load_tool):
    root, _, _ = _source(tmp_path, write_jpeg, versions=4)
    out = tmp_path / 'cli'
    assert load_tool('freihand_to_metro').main([str(root), '--out', str(out), '--quiet']) == 0
    assert len(_rows(str(out / 'train.label.tsv'))) == 12  # 4 versions by default for training
