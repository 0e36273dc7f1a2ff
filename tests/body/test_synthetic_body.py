import os

import numpy as np
import pytest
import scipy.sparse as sp

from pointhmr.body.joints import H36M_NAMES, SMPL_PARENTS
from pointhmr.body.mesh_sampler import MeshSampler
from pointhmr.body.safe_pickle import load_smpl_pickle
from pointhmr.body.synthetic_body import TEMPLATE_JOINTS, default_body_files, generate_synthetic_body


def test_sizes_and_smpl_keys(synthetic_body):
    smpl = synthetic_body['smpl']
    assert smpl['v_template'].shape == (6890, 3)
    assert smpl['shapedirs'].shape == (6890, 3, 10)
    assert smpl['posedirs'].shape == (6890, 3, 207)
    assert smpl['J_regressor'].shape == (24, 6890)
    assert smpl['weights'].shape == (6890, 24)
    assert smpl['f'].dtype == np.uint32 and smpl['f'].shape[1] == 3 and smpl['f'].max() == 6889
    assert smpl['kintree_table'].shape == (2, 24) and smpl['kintree_table'][0, 0] == 4294967295
    assert list(smpl['kintree_table'][0, 1:]) == SMPL_PARENTS[1:]
    assert synthetic_body['h36m_regressor'].shape == (17, 6890)


def test_proportions(synthetic_body):
    verts = synthetic_body['smpl']['v_template']
    height = verts[:, 1].max() - verts[:, 1].min()
    assert 1.6 < height < 1.85
    joints = synthetic_body['smpl']['J']
    assert joints[16, 0] > 0 and joints[1, 0] > 0  # left side at +x, as SMPL
    assert joints[15, 1] > joints[12, 1] > joints[0, 1] > joints[4, 1] > joints[7, 1]  # head above neck above ...
    nose = synthetic_body['h36m_regressor'][H36M_NAMES.index('Nose')] @ verts
    assert nose[2] > joints[15, 2]  # facing +z


def test_regressors(synthetic_body):
    smpl, h36m = synthetic_body['smpl'], synthetic_body['h36m_regressor']
    verts = smpl['v_template']
    for regressor in (smpl['J_regressor'], h36m):
        assert regressor.min() >= 0
        np.testing.assert_allclose(regressor.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(smpl['J_regressor'] @ verts, TEMPLATE_JOINTS, atol=2e-3)
    # each joint uses vertices near it only
    for row, joint in zip(smpl['J_regressor'], TEMPLATE_JOINTS):
        used = verts[row > 0]
        assert np.linalg.norm(used - joint, axis=1).max() < 0.35
    h36m_joints = h36m @ verts
    np.testing.assert_allclose(h36m_joints[H36M_NAMES.index('L_Elbow')], TEMPLATE_JOINTS[18], atol=2e-3)
    head, neck = h36m_joints[H36M_NAMES.index('Head')], h36m_joints[H36M_NAMES.index('Neck')]
    assert head[1] > neck[1] > h36m_joints[H36M_NAMES.index('Torso')][1] > h36m_joints[0][1]


def test_skinning_weights(synthetic_body):
    weights = synthetic_body['smpl']['weights']
    assert weights.min() >= 0
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-9)
    blended = (weights > 0.05).sum(1) > 1
    assert 0.05 < blended.mean() < 0.8  # blending near joints, not everywhere


def test_shape_directions_are_distinct(synthetic_body):
    dirs = synthetic_body['smpl']['shapedirs'].reshape(-1, 10)
    assert np.linalg.matrix_rank(dirs) == 10
    normed = dirs / np.linalg.norm(dirs, axis=0)
    cosine = np.abs(normed.T @ normed - np.eye(10))
    assert cosine.max() < 0.95


def test_mesh_levels(synthetic_body):
    sampler = MeshSampler(**synthetic_body['sampler'])
    assert sampler.num_vertices == [6890, 1723, 431]
    for level in range(3):
        faces = sampler.faces(level)
        adjacency = sampler.adjacency(level)
        assert faces.max() == sampler.num_vertices[level] - 1
        assert abs(adjacency - adjacency.T).max() == 0 and adjacency.diagonal().sum() == 0
        assert np.all(adjacency.data == 2.0)  # closed mesh: every edge shared by two faces
        degree = np.diff(adjacency.indptr)
        assert degree.min() >= 3 and degree.max() <= 16
    for level in range(2):
        down, up = sampler.down_matrix(level), sampler.up_matrix(level)
        assert np.all(np.diff(down.indptr) == 1) and np.all(down.data == 1.0)
        kept = down.indices
        np.testing.assert_array_equal(up[kept].toarray(), np.eye(len(kept)))
        others = np.setdiff1d(np.arange(up.shape[0]), kept)
        assert np.all(np.diff(up.indptr)[others] == 3)
        np.testing.assert_allclose(np.asarray(up.sum(1)).ravel(), 1.0, atol=1e-9)
    # the coarse mesh up-sampled back stays close to the fine template surface
    verts = synthetic_body['smpl']['v_template']
    coarse = sampler.down_matrix(1) @ (sampler.down_matrix(0) @ verts)
    upsampled = sampler.up_matrix(0) @ (sampler.up_matrix(1) @ coarse)
    assert np.abs(upsampled - verts).max() < 0.06


def test_faces_point_outwards(synthetic_body):
    verts, faces = synthetic_body['smpl']['v_template'], synthetic_body['smpl']['f'].astype(np.int64)
    parts = synthetic_body['part_of_vertex']
    for index in range(len(synthetic_body['part_names'])):
        part_faces = faces[parts[faces[:, 0]] == index]
        centred = verts - verts[parts == index].mean(0)
        volume = np.einsum('ij,ij->i', centred[part_faces[:, 0]],
                           np.cross(centred[part_faces[:, 1]], centred[part_faces[:, 2]])).sum() / 6
        assert volume > 0, synthetic_body['part_names'][index]


def test_deterministic(synthetic_body):
    again = generate_synthetic_body()
    for key, value in synthetic_body['smpl'].items():
        if isinstance(value, np.ndarray):
            assert value.tobytes() == again['smpl'][key].tobytes(), key
    assert synthetic_body['h36m_regressor'].tobytes() == again['h36m_regressor'].tobytes()
    for key in ('up', 'down', 'adjacencies'):
        for a, b in zip(synthetic_body['sampler'][key], again['sampler'][key]):
            assert (sp.csr_matrix(a) != sp.csr_matrix(b)).nnz == 0


def test_default_body_files_are_cached(tmp_path, monkeypatch, synthetic_body):
    from pointhmr.body import synthetic_body as module
    monkeypatch.setattr(module, 'generate_synthetic_body', lambda: synthetic_body)  # same content, no 2nd generation
    monkeypatch.setenv('POINTHMR_CACHE', str(tmp_path))
    paths = default_body_files()
    assert set(paths) == {'model_path', 'h36m_regressor_path', 'mesh_sampler_path'}
    for path in paths.values():
        assert os.path.isfile(path) and os.path.dirname(path).startswith(str(tmp_path))
    stamp = os.path.getmtime(paths['model_path'])
    assert default_body_files() == paths and os.path.getmtime(paths['model_path']) == stamp
    assert not [name for name in os.listdir(os.path.dirname(paths['model_path'])) if name.endswith('.tmp')]
    data = load_smpl_pickle(paths['model_path'])  # plain numpy arrays: passes the restricted loader
    assert all(type(v) in (np.ndarray, str) for v in data.values())
    np.load(paths['h36m_regressor_path'], allow_pickle=False)
    with np.load(paths['mesh_sampler_path'], allow_pickle=False) as sampler:
        assert 'U1_data' in sampler

    # a cached file cut short (full disk, killed copy) is regenerated instead of failing to unpickle
    complete = open(paths['model_path'], 'rb').read()
    with open(paths['model_path'], 'wb') as f:
        f.write(complete[:1000])
    with pytest.warns(UserWarning, match='regenerating'):
        assert default_body_files() == paths
    assert open(paths['model_path'], 'rb').read() == complete


def test_smplx_loads_the_file_directly(synthetic_files):
    smplx = pytest.importorskip('smplx')
    import torch
    model = smplx.SMPL(model_path=synthetic_files['model_path'], batch_size=2)
    out = model(betas=torch.randn(2, 10), body_pose=0.2 * torch.randn(2, 69), global_orient=torch.zeros(2, 3))
    assert out.vertices.shape == (2, 6890, 3) and torch.isfinite(out.vertices).all()
