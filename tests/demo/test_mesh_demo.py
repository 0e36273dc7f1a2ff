import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pointhmr.visualization import load_obj, load_ply


@pytest.fixture()
def two_images(tmp_path, grace_hopper):
    folder = tmp_path / 'images'
    folder.mkdir()
    image = cv2.imread(str(grace_hopper))[::2, ::2]  # 300 x 256: small keeps the test fast
    cv2.imwrite(str(folder / 'a.jpg'), image)
    cv2.imwrite(str(folder / 'b.png'), cv2.flip(image, 1)[::2, ::2])
    (folder / 'notes.txt').write_text('not an image')
    return folder


def _run(mesh_demo, config, *args):
    return mesh_demo.main([str(config), 'none', *map(str, args)])


def test_folder_of_two_images_end_to_end(mesh_demo, light_config_file, two_images, tmp_path, capsys):
    out = tmp_path / 'out'
    assert _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', out, '--export', 'ply') == 0
    printed = capsys.readouterr().out
    assert 'random weights' in printed
    for stem, shape in (('a', (300, 256)), ('b', (150, 128))):
        drawn = cv2.imread(str(out / f'{stem}_mesh.jpg'))
        assert drawn.shape == (shape[0], 2 * shape[1], 3)  # overlay | side view
        with np.load(out / f'{stem}_results.npz', allow_pickle=False) as data:
            assert data['vertices'].shape == (1, 6890, 3) and data['keypoints'].shape == (1, 17, 2)
            assert bool(data['random_weights'])
            np.testing.assert_allclose(data['bboxes'][0], [0, 0, shape[1], shape[0]])  # whole image
            vertices = data['vertices'][0]
        report = json.loads((out / f'{stem}_results.json').read_text())
        assert report['num_people'] == 1 and report['random_weights'] is True
        loaded_vertices, faces, _ = load_ply(out / 'meshes' / f'{stem}_person0.ply')
        np.testing.assert_allclose(loaded_vertices, vertices, atol=1e-5)
        assert faces.max() == 6889
    assert not (out / 'notes_mesh.jpg').exists()


def test_box_file_multi_person_no_person_and_side_view_off(mesh_demo, light_config_file, two_images, tmp_path, capsys):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text(json.dumps({'a.jpg': [[0, 0, 100, 150], [75, 25, 250, 300]], 'b': []}))
    out = tmp_path / 'out'
    rc = _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', out, '--bboxes', boxes,
              '--no-side-view')
    assert rc == 0
    assert 'no person' in capsys.readouterr().out
    assert cv2.imread(str(out / 'a_mesh.jpg')).shape == (300, 256, 3)
    with np.load(out / 'a_results.npz') as data:
        assert data['vertices'].shape == (2, 6890, 3)
        assert data['depths'][0] <= data['depths'][1]
    assert len(list((out / 'meshes').glob('a_person*.obj'))) == 2
    vertices, faces = load_obj(out / 'meshes' / 'a_person0.obj')
    assert vertices.shape == (6890, 3) and faces.shape[1] == 3
    with np.load(out / 'b_results.npz') as data:
        assert data['vertices'].shape == (0, 6890, 3)
    assert json.loads((out / 'b_results.json').read_text())['people'] == []
    # no person: the image is written unchanged apart from the random-weights note
    b_in = cv2.imread(str(two_images / 'b.png')).astype(int)
    b_out = cv2.imread(str(out / 'b_mesh.jpg')).astype(int)
    assert np.abs(b_out[25:] - b_in[25:]).mean() < 8.0  # jpeg noise only; a mesh changes ~100 levels


def test_video_input(mesh_demo, light_config_file, grace_hopper, tmp_path):
    video = tmp_path / 'clip.mp4'
    frame = cv2.resize(cv2.imread(str(grace_hopper)), (128, 150))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5.0, (128, 150))
    for shift in range(3):
        writer.write(np.roll(frame, 5 * shift, axis=1))
    writer.release()
    out = tmp_path / 'out'
    assert _run(mesh_demo, light_config_file, '--input', video, '--output-dir', out, '--max-frames', 2) == 0
    capture = cv2.VideoCapture(str(out / 'clip_mesh.mp4'))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 2
    with np.load(out / 'clip_results.npz') as data:
        np.testing.assert_array_equal(data['frame_index'], [0, 1])
        assert data['vertices'].shape == (2, 6890, 3) and int(data['num_frames']) == 2
    assert not (out / 'meshes').exists()  # videos export no meshes unless asked


def test_bad_inputs(mesh_demo, light_config_file, two_images, tmp_path, capsys):
    assert _run(mesh_demo, light_config_file, '--input', tmp_path / 'missing.jpg', '--output-dir', tmp_path) == 1
    assert 'missing.jpg' in capsys.readouterr().err
    (two_images / 'c.jpg').write_bytes(b'garbage bytes, not a jpeg')
    out = tmp_path / 'out'
    assert _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', out, '--export', 'none') == 1
    assert 'c.jpg' in capsys.readouterr().err
    assert (out / 'a_mesh.jpg').exists() and (out / 'b_mesh.jpg').exists() and not (out / 'meshes').exists()
    bad_boxes = tmp_path / 'bad.json'
    bad_boxes.write_text(json.dumps([[1, 2, 3]]))
    assert _run(mesh_demo, light_config_file, '--input', two_images / 'a.jpg', '--output-dir', out, '--bboxes',
                bad_boxes) == 1
    assert '(N, 4)' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', out, '--bboxes', bad_boxes,
             '--det-config', 'x.py')


def test_detector_boxes(mesh_demo, light_config_file, grace_hopper, tmp_path, capsys):
    import mmdet
    det_config = Path(mmdet.__file__).parent / '.mim' / 'configs' / 'rtmdet' / 'rtmdet_tiny_8xb32-300e_coco.py'
    image = tmp_path / 'small.jpg'
    cv2.imwrite(str(image), cv2.imread(str(grace_hopper))[::4, ::4])
    out = tmp_path / 'out'
    # random detector weights: whatever it finds (often nobody) must flow through consistently
    rc = _run(mesh_demo, light_config_file, '--input', image, '--output-dir', out, '--det-config', det_config,
              '--det-checkpoint', 'none', '--det-score-thr', '0.9', '--export', 'none')
    assert rc == 0
    with np.load(out / 'small_results.npz') as data:
        num = len(data['vertices'])
        assert data['bboxes'].shape == (num, 4) and np.all(data['bbox_scores'] > 0.9)
    assert (out / 'small_mesh.jpg').exists()
    assert ('no person' in capsys.readouterr().out) == (num == 0)


def test_invalid_box_json_names_the_file(mesh_demo, light_config_file, two_images, tmp_path, capsys):
    boxes = tmp_path / 'boxes.json'
    boxes.write_text('{"a.jpg": [[0, 0, 10, 10]],')  # cut short
    rc = _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', tmp_path / 'out', '--bboxes', boxes)
    assert rc == 1
    assert f'--bboxes {boxes}: not valid JSON' in capsys.readouterr().err


def test_one_failing_image_does_not_stop_the_folder(mesh_demo, light_config_file, two_images, tmp_path, capsys,
                                                    monkeypatch):
    from pointhmr.apis import MeshInferencer
    original = MeshInferencer.visualize

    def visualize(self, image, results, **kwargs):
        if image.shape[0] == 300:  # a.jpg
            raise MemoryError('renderer ran out of memory')
        return original(self, image, results, **kwargs)

    monkeypatch.setattr(MeshInferencer, 'visualize', visualize)
    out = tmp_path / 'out'
    assert _run(mesh_demo, light_config_file, '--input', two_images, '--output-dir', out, '--export', 'none') == 1
    err = capsys.readouterr().err
    assert 'skipping' in err and 'a.jpg' in err and 'MemoryError' in err and '1 of 2 image(s) failed: a.jpg' in err
    assert (out / 'b_mesh.jpg').is_file() and not (out / 'a_mesh.jpg').exists()
