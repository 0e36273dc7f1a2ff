"""Hand inference on real FreiHAND crops (../shared/fixtures, skipped cleanly without them): mmpose's
init_model / inference_topdown and the demo with the hand configs (random weights: shapes, geometry, exports)."""
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmpose.apis import inference_topdown, init_model

from pointhmr.visualization import load_obj, load_ply

REPO_ROOT = Path(__file__).resolve().parents[2]
HAND_CONFIGS = [
    REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-1200it_synthetic-hand-224.py',
    REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-w32_4xb16-200e_freihand-224.py'
]


@pytest.fixture(scope='module')
def freihand(real_fixtures):
    """(image paths, xyxy boxes, 2D keypoints) of the FreiHAND fixture crops."""
    folder = real_fixtures / 'freihand'
    data = json.loads((folder / 'test_freihand.json').read_text())
    names = {image['id']: image['file_name'] for image in data['images']}
    paths, boxes, keypoints = [], [], []
    for ann in data['annotations'][:4]:
        x, y, w, h = ann['bbox']
        paths.append(folder / names[ann['image_id']])
        boxes.append([x, y, x + w, y + h])
        keypoints.append(np.asarray(ann['keypoints'], dtype=np.float32).reshape(21, 3))
    return paths, np.asarray(boxes, dtype=np.float32), keypoints


@pytest.mark.parametrize('config', HAND_CONFIGS, ids=lambda p: p.name)
def test_init_model_and_inference_topdown_on_freihand_crops(config, freihand):
    torch.manual_seed(0)
    model = init_model(str(config), None, device='cpu')
    assert model.head.num_tokens == 266
    assert model.dataset_meta['num_keypoints'] == 21
    paths, boxes, labels = freihand
    for path, box, label in zip(paths[:2], boxes[:2], labels[:2]):
        sample = inference_topdown(model, str(path), bboxes=box[None])[0]
        pred = sample.pred_instances
        assert pred.vertices.shape == (1, 778, 3) and pred.keypoints.shape == (1, 21, 2)
        assert pred.keypoints_3d.shape == (1, 21, 3) and np.isfinite(pred.vertices).all()
        np.testing.assert_allclose(pred.keypoints_3d[0, 0], 0.0, atol=1e-6)  # wrist-centred
        centre, side = (box[:2] + box[2:]) / 2, float(sample.metainfo['input_scale'][0])
        np.testing.assert_allclose(sample.metainfo['input_center'], centre, atol=1e-3)
        # the box (padded 1.2x) holds every labelled keypoint of the real hand
        assert (np.abs(label[:, :2] - centre) <= side / 2).all()


def _load_demo():
    spec = importlib.util.spec_from_file_location('mesh_demo_hand', REPO_ROOT / 'demo' / 'mesh_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_on_freihand_crops_exports_778_vertex_meshes(freihand, tmp_path, capsys):
    paths, boxes, _ = freihand
    folder = tmp_path / 'images'
    folder.mkdir()
    box_file = {}
    for path, box in zip(paths[:2], boxes[:2]):
        (folder / path.name).write_bytes(path.read_bytes())
        box_file[path.name] = [box.tolist()]
    (tmp_path / 'boxes.json').write_text(json.dumps(box_file))
    out = tmp_path / 'out'
    rc = _load_demo().main([
        str(HAND_CONFIGS[0]), 'none', '--input',
        str(folder), '--output-dir',
        str(out), '--bboxes',
        str(tmp_path / 'boxes.json'), '--export', 'ply'
    ])
    assert rc == 0
    assert 'random weights' in capsys.readouterr().out
    for path in paths[:2]:
        drawn = cv2.imread(str(out / f'{path.stem}_mesh.jpg'))
        assert drawn.shape == (224, 2 * 224, 3)  # overlay | side view of the 224 x 224 crop
        with np.load(out / f'{path.stem}_results.npz', allow_pickle=False) as data:
            assert data['vertices'].shape == (1, 778, 3) and data['keypoints'].shape == (1, 21, 2)
            assert str(data['mesh_type']) == 'mano'
            vertices = data['vertices'][0]
        report = json.loads((out / f'{path.stem}_results.json').read_text())
        assert report['num_people'] == 1 and report['mesh_type'] == 'mano'
        assert np.asarray(report['people'][0]['vertices']).shape == (778, 3)
        loaded, faces, _ = load_ply(out / 'meshes' / f'{path.stem}_person0.ply')
        np.testing.assert_allclose(loaded, vertices, atol=1e-5)
        assert faces.max() == 777
    # OBJ export of the same mesh
    rc = _load_demo().main([
        str(HAND_CONFIGS[0]), 'none', '--input',
        str(folder / paths[0].name), '--output-dir',
        str(tmp_path / 'obj'), '--bboxes',
        str(tmp_path / 'boxes.json'), '--export', 'obj'
    ])
    assert rc == 0
    vertices, faces = load_obj(tmp_path / 'obj' / 'meshes' / f'{paths[0].stem}_person0.obj')
    assert vertices.shape == (778, 3) and faces.max() == 777
