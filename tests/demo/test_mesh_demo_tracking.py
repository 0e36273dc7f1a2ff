"""Mesh demo: --fit-params for images, tracked and smoothed video end to end, empty video / frames without people."""
import json

import cv2
import numpy as np
import torch


def _run(mesh_demo, config, *args):
    return mesh_demo.main([str(config), 'none', *map(str, args)])


def _clip(path, grace_hopper, frames: int = 5, size=(160, 96)):
    image = cv2.resize(cv2.imread(str(grace_hopper)), size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, size)
    for shift in range(frames):
        writer.write(np.roll(image, 4 * shift, axis=1))
    writer.release()
    return path


def test_image_fit_params(mesh_demo, light_config_file, grace_hopper, tmp_path):
    image = tmp_path / 'small.jpg'
    cv2.imwrite(str(image), cv2.imread(str(grace_hopper))[::4, ::4])
    out = tmp_path / 'out'
    assert _run(mesh_demo, light_config_file, '--input', image, '--output-dir', out, '--export', 'none', '--fit-params',
                '--no-side-view') == 0
    with np.load(out / 'small_results.npz') as data:
        assert data['global_orient'].shape == (1, 3) and data['body_pose'].shape == (1, 69)
        assert data['betas'].shape == (1, 10) and data['transl'].shape == (1, 3)
        assert data['camera_translation'].shape == (1, 3) and data['camera_translation'][0, 2] > 0
        assert np.isfinite(data['fit_vertex_error']).all()
    person = json.loads((out / 'small_results.json').read_text())['people'][0]
    assert len(person['body_pose']) == 69 and len(person['betas']) == 10
    with np.load(out / 'params' / 'small_person0_smpl.npz', allow_pickle=False) as data:
        assert data['global_orient'].shape == (3, ) and data['body_pose'].shape == (69, )
        assert data['betas'].shape == (10, ) and data['transl'].shape == (3, )
        assert str(data['model_type']) == 'smpl' and str(data['gender']) == 'neutral'


def test_video_tracks_smoothing_and_params(mesh_demo, light_config_file, grace_hopper, tmp_path, capsys):
    video = _clip(tmp_path / 'two.mp4', grace_hopper)
    # two people crossing (identical boxes at frame 2), nobody in frame 3
    left = [[10 + 15 * f, 10, 60 + 15 * f, 90] for f in range(5)]
    right = [[100 - 15 * f, 10, 150 - 15 * f, 90] for f in range(5)]
    boxes = {str(f): ([right[f], left[f]] if f % 2 else [left[f], right[f]]) for f in range(5)}
    boxes['3'] = []
    box_file = tmp_path / 'boxes.json'
    box_file.write_text(json.dumps(boxes))
    out = tmp_path / 'out'
    rc = _run(mesh_demo, light_config_file, '--input', video, '--output-dir', out, '--bboxes', box_file, '--fit-params',
              '--no-side-view', '--smooth', 'savgol', '--smooth-window', '3')
    assert rc == 0
    printed = capsys.readouterr().out
    assert '5/5' in printed and 'task/s' in printed  # progress bar: frames done and frames per second
    capture = cv2.VideoCapture(str(out / 'two_mesh.mp4'))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 5
    with np.load(out / 'two_results.npz') as data:
        np.testing.assert_array_equal(data['frame_index'], [0, 0, 1, 1, 2, 2, 4, 4])
        assert sorted(set(data['track_id'].tolist())) == [0, 1]
        assert str(data['smoothing']) == 'savgol' and data['body_pose'].shape == (8, 69)
        # each track follows its own person through the crossing: one moves right all along, the other left
        steps = [np.diff(data['bboxes'][data['track_id'] == track_id][:, [0, 2]].mean(1)) for track_id in (0, 1)]
        assert sorted([bool(np.all(steps[0] > 0)), bool(np.all(steps[1] > 0))]) == [False, True]
        assert bool(np.all(steps[0] > 0)) == bool(np.all(steps[1] < 0))
    for track_id in (0, 1):
        with np.load(out / 'tracks' / f'two_track{track_id}.npz') as track:
            np.testing.assert_array_equal(track['frame_index'], [0, 1, 2, 4])
            assert track['vertices'].shape == (4, 6890, 3) and float(track['fps']) == 10.0
        with np.load(out / 'params' / f'two_track{track_id}_smpl.npz', allow_pickle=False) as params:
            assert params['body_pose'].shape == (4, 69) and params['betas'].shape == (10, )
            np.testing.assert_array_equal(params['frame_indices'], [0, 1, 2, 4])


def test_video_smoothing_changes_results_and_none_keeps_them(mesh_demo, light_config_file, grace_hopper, tmp_path):
    video = _clip(tmp_path / 'one.mp4', grace_hopper, frames=4)
    arrays = {}
    for method in ('none', 'oneeuro'):
        out = tmp_path / method
        torch.manual_seed(0)  # the same random weights in both runs
        assert _run(mesh_demo, light_config_file, '--input', video, '--output-dir', out, '--smooth', method,
                    '--no-side-view') == 0
        with np.load(out / 'one_results.npz') as data:
            arrays[method] = data['vertices'].copy()
            assert data['track_id'].tolist() == [0, 0, 0, 0]
    assert arrays['none'].shape == arrays['oneeuro'].shape == (4, 6890, 3)
    np.testing.assert_array_equal(arrays['none'][0], arrays['oneeuro'][0])  # the filter starts at the first frame
    assert not np.allclose(arrays['none'][1:], arrays['oneeuro'][1:])


def test_empty_video_is_a_clear_error(mesh_demo, light_config_file, tmp_path, capsys):
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    assert _run(mesh_demo, light_config_file, '--input', empty, '--output-dir', tmp_path / 'out') == 1
    assert 'empty.mp4' in capsys.readouterr().err
