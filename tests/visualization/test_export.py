import json
import os

import numpy as np
import pytest
import torch

from pointhmr.fileio import atomic_write
from pointhmr.visualization.export import load_obj, load_ply, save_obj, save_ply, save_results_json, save_results_npz


def test_obj_round_trip(tmp_path, sphere_mesh):
    vertices, faces = sphere_mesh
    path = save_obj(tmp_path / 'sub' / 'mesh.obj', vertices, faces)
    text = path.read_text()
    assert text.count('\nf ') + text.startswith('f ') == len(faces)
    assert min(int(t) for line in text.splitlines() if line.startswith('f ') for t in line.split()[1:]) == 1
    loaded_vertices, loaded_faces = load_obj(path)
    np.testing.assert_allclose(loaded_vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(loaded_faces, faces)


def test_ply_round_trip_with_and_without_colors(tmp_path, sphere_mesh):
    vertices, faces = sphere_mesh
    plain = save_ply(tmp_path / 'plain.ply', torch.from_numpy(vertices), faces)
    loaded_vertices, loaded_faces, colors = load_ply(plain)
    np.testing.assert_allclose(loaded_vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(loaded_faces, faces)
    assert colors is None
    per_vertex = np.linspace(0.0, 1.0, len(vertices))[:, None].repeat(3, 1)
    _, _, colors = load_ply(save_ply(tmp_path / 'color.ply', vertices, faces, colors=per_vertex))
    np.testing.assert_array_equal(colors, np.rint(per_vertex * 255).astype(np.uint8))
    _, _, colors = load_ply(save_ply(tmp_path / 'one.ply', vertices, faces, colors=(10, 20, 30)))
    assert colors.shape == vertices.shape and tuple(colors[7]) == (10, 20, 30)


def test_mesh_writers_reject_bad_shapes(tmp_path, sphere_mesh):
    vertices, faces = sphere_mesh
    with pytest.raises(ValueError, match=r'\(N, 3\)'):
        save_obj(tmp_path / 'a.obj', vertices[None], faces)
    with pytest.raises(ValueError, match='faces'):
        save_ply(tmp_path / 'a.ply', vertices, faces.astype(np.float32))
    with pytest.raises(ValueError, match='colors'):
        save_ply(tmp_path / 'a.ply', vertices, faces, colors=np.ones((2, 3)))
    assert not list(tmp_path.iterdir())


def test_results_npz_and_json_round_trip(tmp_path):
    results = dict(vertices=np.random.default_rng(0).normal(size=(2, 10, 3)).astype(np.float32),
                   cameras=torch.tensor([[1.0, 0.1, -0.2], [0.8, 0.0, 0.0]]),
                   bboxes=np.array([[0, 0, 5, 5]] * 2),
                   img_path=np.array(['a.jpg', 'a.jpg']))
    npz = save_results_npz(tmp_path / 'r.npz', results)
    assert npz.name == 'r.npz'
    with np.load(npz, allow_pickle=False) as data:
        assert set(data.files) == set(results)
        np.testing.assert_array_equal(data['vertices'], results['vertices'])
        np.testing.assert_allclose(data['cameras'], results['cameras'].numpy())
        assert data['img_path'][1] == 'a.jpg'
    path = save_results_json(tmp_path / 'r.json', dict(people=[dict(camera=np.float32(0.5), kp=np.eye(2))], n=2))
    assert json.loads(path.read_text()) == dict(people=[dict(camera=0.5, kp=[[1.0, 0.0], [0.0, 1.0]])], n=2)
    with pytest.raises(ValueError, match='ragged'):
        save_results_npz(tmp_path / 'bad.npz', dict(ragged=np.array([np.zeros(2), np.zeros(3)], dtype=object)))
    assert sorted(os.listdir(tmp_path)) == ['r.json', 'r.npz']


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / 'out.txt'
    target.write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_write(target, 'w') as handle:
            handle.write('half')
            raise RuntimeError('crash')
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.txt']
    with atomic_write(target, 'w') as handle:
        handle.write('new')
    assert target.read_text() == 'new'
