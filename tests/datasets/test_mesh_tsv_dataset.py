import json
import os.path as osp

import numpy as np
import pytest
import yaml
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import DATASETS

from pointhmr.body import joints
from pointhmr.datasets import H36M_METAINFO, MeshTSVDataset
from pointhmr.datasets.tsv_file import write_tsv


def test_items_follow_the_data_contract(tiny_split):
    path, annotations, images = tiny_split
    dataset = DATASETS.build(dict(type='MeshTSVDataset', ann_file=path))
    assert len(dataset) == 4
    item = dataset[2]
    ann = annotations[2]
    assert item['img'].dtype == np.uint8 and item['img'].shape == images[2].shape
    # JPEG is lossy but close
    assert np.abs(item['img'].astype(int) - images[2].astype(int)).mean() < 4
    assert item['img_path'] == 'tiny_002.jpg' and item['img_id'] == 2 and item['id'] == 2
    assert item['ori_shape'] == images[2].shape[:2]
    side = 200 * ann['scale']
    np.testing.assert_allclose(item['bbox_center'], [ann['center']], rtol=1e-6)
    np.testing.assert_allclose(item['bbox_scale'], [[side, side]], rtol=1e-6)
    np.testing.assert_allclose(item['bbox'], [[
        ann['center'][0] - side / 2, ann['center'][1] - side / 2, ann['center'][0] + side / 2,
        ann['center'][1] + side / 2
    ]],
                               rtol=1e-5)
    assert item['bbox_score'].shape == (1, )
    j2d = np.asarray(ann['2d_joints'])
    np.testing.assert_allclose(item['keypoints'][0], j2d[:, :2], rtol=1e-6)
    np.testing.assert_array_equal(item['keypoints_visible'][0], j2d[:, 2])
    np.testing.assert_allclose(item['keypoints_3d'][0], ann['3d_joints'], rtol=1e-6)
    assert item['keypoints'].shape == (1, 24, 2) and item['keypoints_visible'].shape == (1, 24)
    assert item['keypoints_3d'].shape == (1, 24, 4)
    assert item['smpl_pose'].shape == (72, ) and item['smpl_betas'].shape == (10, )
    assert item['has_2d_joints'] == 1 and item['has_3d_joints'] == 1 and item['has_smpl'] == 1
    assert item['dataset_name'] == osp.basename(osp.dirname(path))


def test_metainfo_is_parsed_h36m_meta(tiny_split):
    dataset = MeshTSVDataset(ann_file=tiny_split[0])
    meta = dataset.metainfo
    assert meta['num_keypoints'] == 17
    assert meta['flip_indices'] == joints.H36M_FLIP_PERM
    assert [tuple(link) for link in meta['skeleton_links']] == [tuple(b) for b in joints.H36M_SKELETON]
    assert meta['keypoint_colors'].shape == (17, 3) and meta['sigmas'].shape == (17, )
    assert parse_pose_metainfo(H36M_METAINFO)['keypoint_id2name'][0] == 'Pelvis'
    renamed = MeshTSVDataset(ann_file=tiny_split[0], metainfo=dict(dataset_name='h36m_custom', extra_key=3))
    assert renamed.metainfo['dataset_name'] == 'h36m_custom' and renamed.metainfo['extra_key'] == 3


def test_data_root_linelist_max_samples_and_lazy_init(tmp_path, tsv_helpers):
    H = tsv_helpers
    rng = np.random.default_rng(1)
    annotations = [H.make_annotation(rng) for _ in range(5)]
    images = [H.make_image(rng) for _ in range(5)]
    config = H.write_split(str(tmp_path), 'part', annotations, images, linelist=[4, 1, 3])
    (tmp_path / 'part.yaml').write_text(yaml.safe_dump(config))
    dataset = MeshTSVDataset(ann_file='part.yaml', data_root=str(tmp_path), lazy_init=True)
    assert not dataset._fully_initialized
    assert len(dataset) == 3
    assert [dataset.get_data_info(i)['img_path'] for i in range(3)] == ['part_004.jpg', 'part_001.jpg', 'part_003.jpg']
    assert len(MeshTSVDataset(ann_file=str(tmp_path / 'part.yaml'), max_samples=2)) == 2
    subset = dataset.get_subset([2])
    assert len(subset) == 1 and subset.get_data_info(0)['img_path'] == 'part_003.jpg' and len(dataset) == 3


def test_composite_yaml(tmp_path, tsv_helpers):
    H = tsv_helpers
    rng = np.random.default_rng(2)
    configs = []
    for name, count in (('a', 3), ('b', 2)):
        configs.append(
            H.write_split(str(tmp_path), name, [H.make_annotation(rng) for _ in range(count)],
                          [H.make_image(rng) for _ in range(count)]))
    write_tsv(tmp_path / 'mix.linelist.tsv', [('1', '0'), ('0', '2'), ('1', '1'), ('0', '0')])
    (tmp_path / 'labels.txt').write_text('a.label.tsv\nb.label.tsv\n')
    mix = dict(composite=True,
               img=[c['img'] for c in configs],
               hw=[c['hw'] for c in configs],
               label='labels.txt',
               linelist='mix.linelist.tsv')
    (tmp_path / 'mix.yaml').write_text(yaml.safe_dump(mix))
    dataset = MeshTSVDataset(ann_file=str(tmp_path / 'mix.yaml'))
    assert len(dataset) == 4
    assert [dataset.get_data_info(i)['img_path'] for i in range(4)
            ] == ['b.img.tsv_b_000.jpg', 'a.img.tsv_a_002.jpg', 'b.img.tsv_b_001.jpg', 'a.img.tsv_a_000.jpg']
    # without a line list: every row of every source
    del mix['linelist']
    (tmp_path / 'all.yaml').write_text(yaml.safe_dump(mix))
    assert len(MeshTSVDataset(ann_file=str(tmp_path / 'all.yaml'))) == 5


def _replace_label(H, tmp_path, annotation_json):
    write_tsv(
        tmp_path / 'tiny.label.tsv',
        [(f'tiny_{i:03d}.jpg', annotation_json if i == 1 else json.dumps([H.make_annotation(np.random.default_rng(i))]))
         for i in range(4)])


@pytest.mark.parametrize('mutate, key', [
    (lambda a: a.pop('center'), 'center'),
    (lambda a: a.update({'3d_joints': [[0.0] * 4] * 23}), '3d_joints'),
    (lambda a: a.update({'pose': [0.0] * 71}), 'pose'),
    (lambda a: a.update({'has_smpl': 'yes'}), 'has_smpl'),
    (lambda a: a.pop('has_2d_joints'), 'has_2d_joints'),
    (lambda a: a.pop('betas'), 'betas'),
])
def test_bad_label_rows_name_file_row_and_key(tiny_split, tmp_path, tsv_helpers, mutate, key):
    H = tsv_helpers
    annotation = H.make_annotation(np.random.default_rng(9))
    mutate(annotation)
    _replace_label(H, tmp_path, json.dumps([annotation]))
    dataset = MeshTSVDataset(ann_file=tiny_split[0])
    dataset.get_data_info(0)
    with pytest.raises(ValueError, match=rf"tiny\.label\.tsv: row 1, key '{key}'"):
        dataset.get_data_info(1)


def _with_column(values, column, value):
    array = np.asarray(values, dtype=np.float64).reshape(24, -1)
    array[5, column] = value
    return array.tolist()


@pytest.mark.parametrize('mutate, key, problem', [
    (lambda a: a.update({'2d_joints': _with_column(a['2d_joints'], 2, -5.0)}), '2d_joints', r'confidence -5 of joint 5'),
    (lambda a: a.update({'2d_joints': _with_column(a['2d_joints'], 0, 1e20)}), '2d_joints', 'implausible'),
    (lambda a: a.update({'3d_joints': _with_column(a['3d_joints'], 3, 2.0)}), '3d_joints', r'outside \[0, 1\]'),
    (lambda a: a.update({'3d_joints': _with_column(a['3d_joints'], 1, -1e9)}), '3d_joints', 'metres'),
    (lambda a: a.update({'center': [1e20, 0.0]}), 'center', 'implausible'),
    (lambda a: a.update({'betas': [1e6] * 10}), 'betas', 'implausible'),
])
def test_out_of_range_labels_name_file_row_and_key(tiny_split, tmp_path, tsv_helpers, mutate, key, problem):
    H = tsv_helpers
    annotation = H.make_annotation(np.random.default_rng(9))
    mutate(annotation)
    _replace_label(H, tmp_path, json.dumps([annotation]))
    with pytest.raises(ValueError, match=rf"tiny\.label\.tsv: row 1, key '{key}': .*{problem}"):
        MeshTSVDataset(ann_file=tiny_split[0]).get_data_info(1)


def test_malformed_json_and_corrupt_images_are_named(tiny_split, tmp_path, tsv_helpers):
    H = tsv_helpers
    _replace_label(H, tmp_path, '[{"center": [1, 2], "scale": ')
    with pytest.raises(ValueError, match=r"tiny\.label\.tsv: row 1, key 'label': malformed JSON"):
        MeshTSVDataset(ann_file=tiny_split[0]).get_data_info(1)
    rows = [(f'tiny_{i:03d}.jpg', v) for i, v in enumerate(['!!notbase64', 'aGVsbG8=', 'x', 'y'])]
    write_tsv(tmp_path / 'tiny.img.tsv', rows)
    dataset = MeshTSVDataset(ann_file=tiny_split[0])
    with pytest.raises(ValueError, match=r"tiny\.img\.tsv: row 0, key 'img': invalid base64"):
        dataset.get_data_info(0)
    with pytest.raises(ValueError, match=r"tiny\.img\.tsv: row 1, key 'img': cannot decode"):
        dataset.get_data_info(1)


def test_optional_label_groups_and_batched_joint_shapes(tiny_split, tmp_path, tsv_helpers):
    H = tsv_helpers
    annotation = H.make_annotation(np.random.default_rng(3))
    for key in ('3d_joints', 'has_3d_joints', 'pose', 'betas', 'has_smpl'):
        annotation.pop(key)
    annotation['2d_joints'] = [annotation['2d_joints']]  # (1, 24, 3) is accepted
    _replace_label(H, tmp_path, json.dumps([annotation]))
    item = MeshTSVDataset(ann_file=tiny_split[0]).get_data_info(1)
    assert item['has_3d_joints'] == 0 and item['has_smpl'] == 0 and item['has_2d_joints'] == 1
    assert not item['keypoints_3d'].any() and not item['smpl_pose'].any()
    np.testing.assert_allclose(item['keypoints'][0], np.asarray(annotation['2d_joints'][0])[:, :2], rtol=1e-6)


def test_misaligned_tsvs_and_missing_yaml_entries(tiny_split, tmp_path, tsv_helpers):
    H = tsv_helpers
    write_tsv(tmp_path / 'tiny.label.tsv',
              [(f'other_{i}.jpg', json.dumps([H.make_annotation(np.random.default_rng(i))])) for i in range(4)])
    with pytest.raises(ValueError, match='not aligned'):
        MeshTSVDataset(ann_file=tiny_split[0]).get_data_info(0)
    (tmp_path / 'nolabel.yaml').write_text(yaml.safe_dump(dict(img='tiny.img.tsv')))
    with pytest.raises(ValueError, match="no 'label' entry"):
        MeshTSVDataset(ann_file=str(tmp_path / 'nolabel.yaml'))
    with pytest.raises(FileNotFoundError, match='missing.yaml'):
        MeshTSVDataset(ann_file=str(tmp_path / 'missing.yaml'))


def test_box_keeps_the_label_precision_for_the_official_crop(tmp_path, tsv_helpers):
    """center/scale stay float64: with float32 this box's official bottom corner would move by a pixel."""
    from pointhmr.datasets.transforms.official_crop import official_box
    rng = np.random.default_rng(0)
    annotation = tsv_helpers.make_annotation(rng)
    annotation.update(center=[601.5, 618.0], scale=1.17)
    config = tsv_helpers.write_split(str(tmp_path), 'box', [annotation], [tsv_helpers.make_image(rng)])
    (tmp_path / 'box.yaml').write_text(yaml.safe_dump(config))
    item = MeshTSVDataset(ann_file=str(tmp_path / 'box.yaml')).get_data_info(0)
    assert item['bbox_center'][0].tolist() == [601.5, 618.0] and item['bbox_scale'][0, 0] == 200 * 1.17
    expected = official_box(np.array([601.5, 618.0]), 200 * 1.17, 224)
    rounded = official_box(np.array([601.5, 618.0]), float(np.float32(200 * float(np.float32(1.17)))), 224)
    assert rounded[1].tolist() != expected[1].tolist()  # the case is sensitive to the rounding
    got = official_box(item['bbox_center'][0], float(item['bbox_scale'][0, 0]), 224)
    assert [c.tolist() for c in got] == [c.tolist() for c in expected]
