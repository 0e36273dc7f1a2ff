import hashlib
import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pointhmr.body.joints import FINGERTIP_ORDER, MANO_FINGER_JOINTS, MANO_PARENTS
from pointhmr.body.mesh_sampler import MeshSampler
from pointhmr.body.safe_pickle import load_smpl_pickle
from pointhmr.body.synthetic_hand import (TEMPLATE_JOINTS, TEMPLATE_TIPS, default_hand_files, generate_synthetic_hand,
                                          generator_hash, write_synthetic_hand)


def test_sizes_and_mano_keys(synthetic_hand):
    mano = synthetic_hand['mano']
    assert mano['v_template'].shape == (778, 3)
    assert mano['shapedirs'].shape == (778, 3, 10)
    assert mano['posedirs'].shape == (778, 3, 135) and not mano['posedirs'].any()
    assert mano['J_regressor'].shape == (16, 778)
    assert mano['weights'].shape == (778, 16)
    assert mano['f'].dtype == np.uint32 and mano['f'].shape == (1532, 3) and mano['f'].max() == 777
    assert mano['kintree_table'].shape == (2, 16) and mano['kintree_table'][0, 0] == 4294967295
    assert list(mano['kintree_table'][0, 1:]) == MANO_PARENTS[1:]
    assert mano['hands_components'].shape == (45, 45) and mano['hands_mean'].shape == (45, )
    np.testing.assert_array_equal(mano['hands_components'] @ mano['hands_components'].T, np.eye(45))
    assert len(synthetic_hand['fingertip_vertex_ids']) == 5


def test_proportions_and_frame(synthetic_hand):
    mano = synthetic_hand['mano']
    verts, joints = mano['v_template'], mano['J']
    length = verts[:, 0].max() - verts[:, 0].min()
    assert 0.17 < length < 0.22  # wrist to middle fingertip of an adult hand
    np.testing.assert_allclose(joints[0], 0.0, atol=1e-4)  # wrist at the origin
    assert np.all(joints[1:13, 0] > 0.07)  # fingers along +x
    # right hand: the palm normal (index1 - wrist) x (pinky1 - wrist) points to -y, the thumb is on the index side
    normal = np.cross(joints[1] - joints[0], joints[7] - joints[0])
    assert normal[1] < 0 and abs(normal[1]) > 0.9 * np.linalg.norm(normal)
    assert joints[15, 2] < joints[1, 2] < joints[4, 2] < joints[10, 2] < joints[7, 2]


def test_fingertips_are_the_outermost_vertices(synthetic_hand):
    verts = synthetic_hand['mano']['v_template']
    tips = synthetic_hand['fingertip_vertex_ids']
    np.testing.assert_allclose(verts[tips], TEMPLATE_TIPS, atol=1e-9)
    parts = synthetic_hand['part_of_vertex']
    for finger, tip in zip(FINGERTIP_ORDER, tips):
        rows = parts == synthetic_hand['part_names'].index(finger)
        root = TEMPLATE_JOINTS[MANO_FINGER_JOINTS[finger][0]]
        assert parts[tip] == synthetic_hand['part_names'].index(finger)
        assert np.linalg.norm(verts[tip] - root) == pytest.approx(np.linalg.norm(verts[rows] - root, axis=1).max())
    assert tips.max() < 195  # tips exist on the coarse level too (its vertices are the first ones)


def test_regressor_and_weights(synthetic_hand):
    mano = synthetic_hand['mano']
    regressor, weights, verts = mano['J_regressor'], mano['weights'], mano['v_template']
    assert regressor.min() >= 0 and weights.min() >= 0
    np.testing.assert_allclose(regressor.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(regressor @ verts, TEMPLATE_JOINTS, atol=1e-3)
    for row, joint in zip(regressor, TEMPLATE_JOINTS):  # each joint uses vertices close to it
        assert np.linalg.norm(verts[row > 0] - joint, axis=1).max() < 0.05
    blended = (weights > 0.05).sum(1) > 1
    assert 0.05 < blended.mean() < 0.8


def test_shape_directions_are_distinct(synthetic_hand):
    dirs = synthetic_hand['mano']['shapedirs'].reshape(-1, 10)
    assert np.linalg.matrix_rank(dirs) == 10
    normed = dirs / np.linalg.norm(dirs, axis=0)
    assert np.abs(normed.T @ normed - np.eye(10)).max() < 0.95
    # one unit of each coefficient moves the surface by millimetres to about a centimetre
    largest = np.linalg.norm(synthetic_hand['mano']['shapedirs'], axis=1).max(0)
    assert np.all(largest > 1e-3) and np.all(largest < 0.02)


def test_closed_surface_and_mesh_levels(synthetic_hand):
    sampler = MeshSampler(**synthetic_hand['sampler'])
    assert sampler.num_vertices == [778, 195]
    for level in range(2):
        faces, adjacency = sampler.faces(level), sampler.adjacency(level)
        assert faces.max() == sampler.num_vertices[level] - 1
        assert abs(adjacency - adjacency.T).max() == 0 and adjacency.diagonal().sum() == 0
        assert np.all(adjacency.data == 2.0)  # every edge shared by exactly two faces: closed parts
        # 6 closed genus-0 parts: V - E + F = 2 per part
        assert sampler.num_vertices[level] - adjacency.nnz // 2 + len(faces) == 12
        degree = np.diff(adjacency.indptr)
        assert degree.min() >= 3 and degree.max() <= 14
    down, up = sampler.down_matrix(0), sampler.up_matrix(0)
    assert np.all(np.diff(down.indptr) == 1) and np.all(down.data == 1.0)
    np.testing.assert_array_equal(down.indices, np.arange(195))
    np.testing.assert_array_equal(up[:195].toarray(), np.eye(195))
    np.testing.assert_allclose(np.asarray(up.sum(1)).ravel(), 1.0, atol=1e-9)
    verts = synthetic_hand['mano']['v_template']
    assert np.abs(up @ (down @ verts) - verts).max() < 0.008  # coarse mesh up-sampled stays on the surface


def test_faces_point_outwards(synthetic_hand):
    verts, faces = synthetic_hand['mano']['v_template'], synthetic_hand['mano']['f'].astype(np.int64)
    parts = synthetic_hand['part_of_vertex']
    for index, name in enumerate(synthetic_hand['part_names']):
        part_faces = faces[parts[faces[:, 0]] == index]
        centred = verts - verts[parts == index].mean(0)
        volume = np.einsum('ij,ij->i', centred[part_faces[:, 0]],
                           np.cross(centred[part_faces[:, 1]], centred[part_faces[:, 2]])).sum() / 6
        assert volume > 0, name


def test_deterministic_bytes_and_hash(tmp_path, synthetic_hand):
    again = generate_synthetic_hand()
    for key, value in synthetic_hand['mano'].items():
        if isinstance(value, np.ndarray):
            assert value.tobytes() == again['mano'][key].tobytes(), key
    for key in ('up', 'down', 'adjacencies'):
        for a, b in zip(synthetic_hand['sampler'][key], again['sampler'][key]):
            assert (sp.csr_matrix(a) != sp.csr_matrix(b)).nnz == 0
    first = write_synthetic_hand(str(tmp_path / 'a'), synthetic_hand)
    second = write_synthetic_hand(str(tmp_path / 'b'), again)
    for key in first:
        digests = [hashlib.sha256(open(paths[key], 'rb').read()).hexdigest() for paths in (first, second)]
        assert digests[0] == digests[1], key
    assert generator_hash() == generator_hash() and len(generator_hash()) == 8


def test_default_hand_files_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path))
    paths = default_hand_files()
    assert set(paths) == {'model_path', 'mesh_sampler_path'}
    folder = os.path.dirname(paths['model_path'])
    assert os.path.basename(folder).endswith(generator_hash()) and folder.startswith(str(tmp_path))
    stamp = os.path.getmtime(paths['model_path'])
    assert default_hand_files() == paths and os.path.getmtime(paths['model_path']) == stamp
    assert not [name for name in os.listdir(folder) if name.endswith('.tmp')]
    data = load_smpl_pickle(paths['model_path'])  # plain numpy arrays: passes the restricted loader
    assert all(type(v) in (np.ndarray, str) for v in data.values())
    assert MeshSampler.from_file(paths['mesh_sampler_path']).num_vertices == [778, 195]


def test_smplx_mano_layer_loads_the_file_directly(synthetic_hand_files, hand_model):
    smplx = pytest.importorskip('smplx')
    layer = smplx.MANO(model_path=synthetic_hand_files['model_path'], use_pca=False, flat_hand_mean=False, batch_size=2)
    assert layer.is_rhand
    torch.manual_seed(0)
    orient, hand_pose, betas = 0.5 * torch.randn(2, 3), 0.3 * torch.randn(2, 45), torch.randn(2, 10)
    out = layer(betas=betas, global_orient=orient, hand_pose=hand_pose)
    torch.testing.assert_close(out.vertices, hand_model(torch.cat([orient, hand_pose], 1), betas))


def test_skinning_is_local(synthetic_hand, hand_model):
    parts = torch.from_numpy(synthetic_hand['part_of_vertex'])
    index_part = synthetic_hand['part_names'].index('index')
    rest = hand_model(torch.zeros(1, 48), torch.zeros(1, 10))
    pose = torch.zeros(1, 48)
    pose[0, 3:6] = torch.tensor([0.0, 0.0, -1.2])  # index MCP (MANO joint 1): flexion about -z (towards the palm)
    bent = hand_model(pose, torch.zeros(1, 10))
    moved = (bent - rest)[0].norm(dim=-1)
    tip = synthetic_hand['fingertip_vertex_ids'][FINGERTIP_ORDER.index('index')]
    assert moved[tip] > 0.05
    assert moved[parts != index_part].max() == 0
    assert bent[0, tip, 1] < rest[0, tip, 1] - 0.04  # the tip goes to the palm side (-y)
    keypoints_moved = (hand_model.keypoints(bent) - hand_model.keypoints(rest))[0].norm(dim=-1)
    assert keypoints_moved[6:9].min() > 0.02  # index2-4 in FreiHAND order
    assert keypoints_moved[:5].max() < 1e-6 and keypoints_moved[9:].max() < 1e-6


def test_betas_change_size_and_finger_length(hand_model, synthetic_hand):
    mano = hand_model.mano

    def unposed(betas):
        return mano.v_template + torch.einsum('vck,k->vc', mano.shapedirs, betas)

    zero, bigger, longer_middle = torch.zeros(10), torch.zeros(10), torch.zeros(10)
    bigger[0] = 2.0
    longer_middle[7] = 2.0
    extent = lambda v: float(v[:, 0].max() - v[:, 0].min())  # noqa: E731
    assert extent(unposed(bigger)) > extent(unposed(zero)) + 0.01
    tips = list(synthetic_hand['fingertip_vertex_ids'])
    grow = (unposed(longer_middle) - unposed(zero))[tips].norm(dim=-1)
    assert grow[FINGERTIP_ORDER.index('middle')] > 0.01
    assert grow[[i for i, f in enumerate(FINGERTIP_ORDER) if f != 'middle']].max() < 1e-9  # middle finger only


def test_renders_with_the_project_renderer(hand_model):
    from pointhmr.visualization.renderer import render_mesh
    flat = torch.cat([torch.zeros(3), -hand_model.hand_mean])[None]
    verts = hand_model(flat, torch.zeros(1, 10))[0].numpy()
    scale, offset = 900.0, np.array([0.09, 0.0, 0.0])
    # look at the palm from below: image x = hand x, image y = hand z, depth = -hand y
    pixels = np.stack([(verts[:, 0] - offset[0]) * scale + 100, verts[:, 2] * scale + 100, -verts[:, 1]], 1)
    image, mask = render_mesh(np.zeros((200, 200, 3), np.uint8),
                              pixels,
                              hand_model.faces,
                              vertices_3d=np.stack([verts[:, 0], verts[:, 2], -verts[:, 1]], 1))
    assert 0.1 < mask.mean() < 0.6 and image[mask].min() > 0
    # across the fingers (x = 13.5 cm, beyond the thumb tip) the four fingers show as four separate runs of pixels
    column = int((0.135 - offset[0]) * scale + 100)
    runs = np.count_nonzero(np.diff(mask[:, column].astype(int)) == 1)
    assert runs == 4
