import os
import pickle
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from pointhmr.body.safe_pickle import (load_legacy_adjacency, load_metro_mesh_downsampling, load_smpl_pickle,
                                       restricted_loads)


class _SystemCall:
    """Pickles to ``os.system(<command>)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


def test_refuses_os_system_and_does_not_run_it(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'v_template': _SystemCall(f'touch {marker}')}, protocol=2))
    with pytest.raises(pickle.UnpicklingError) as info:
        load_smpl_pickle(path)
    assert 'system' in str(info.value) and str(path) in str(info.value)
    assert not marker.exists()


def test_refuses_other_builtins():
    with pytest.raises(pickle.UnpicklingError, match='eval'):
        restricted_loads(pickle.dumps(_Eval(), protocol=2))


class _Eval:

    def __reduce__(self):
        return eval, ('1 + 1', )


def test_plain_numpy_and_sparse_pickle_round_trip(tmp_path):
    data = {
        'a': np.arange(12.0).reshape(3, 4), 'b': sp.csc_matrix(np.eye(3)), 'c': np.float32(2.5), 'n': 'lbs', 'i':
        np.arange(5, dtype=np.uint32)
    }
    for protocol in (0, 2, 4, 5):
        path = tmp_path / f'p{protocol}.pkl'
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        out = load_smpl_pickle(path)
        np.testing.assert_array_equal(out['a'], data['a'])
        np.testing.assert_array_equal(out['b'].toarray(), np.eye(3))
        np.testing.assert_array_equal(out['i'], data['i'])
        assert out['c'] == np.float32(2.5) and out['n'] == 'lbs'


def test_chumpy_objects_become_numpy(tmp_path, write_fake_chumpy_pickle):
    arrays = {'v_template': np.random.RandomState(0).rand(5, 3), 'f': np.array([[0, 1, 2]], dtype=np.uint32)}
    path = write_fake_chumpy_pickle(tmp_path / 'chumpy.pkl', arrays)
    assert b'chumpy.ch' in path.read_bytes()
    assert 'chumpy' not in sys.modules
    out = load_smpl_pickle(path)
    assert type(out['v_template']) is np.ndarray
    np.testing.assert_array_equal(out['v_template'], arrays['v_template'])
    np.testing.assert_array_equal(out['f'], arrays['f'])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pkl'):
        load_smpl_pickle(tmp_path / 'nope.pkl')


def test_real_mesh_downsampling(smpl_assets_dir):
    data = load_metro_mesh_downsampling(os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))
    assert set(data) == {'A', 'U', 'D', 'F'}
    assert [a.shape for a in data['A']] == [(6890, 6890), (1723, 1723), (431, 431)]
    assert [u.shape for u in data['U']] == [(6890, 1723), (1723, 431)]
    assert [d.shape for d in data['D']] == [(1723, 6890), (431, 1723)]
    assert [f.shape for f in data['F']] == [(13776, 3), (3442, 3), (858, 3)]
    for down in data['D']:
        csr = down.tocsr()
        assert np.all(np.diff(csr.indptr) == 1) and np.all(csr.data == 1.0)
    for adjacency in data['A']:
        assert abs(adjacency - adjacency.T).max() == 0 and adjacency.diagonal().sum() == 0


def test_real_legacy_adjacency(smpl_assets_dir):
    files = [os.path.join(smpl_assets_dir, f'smpl_431_adjmat_{n}.pt') for n in ('indices', 'values', 'size')]
    adjacency = load_legacy_adjacency(*files)
    assert adjacency.shape == (431, 431) and adjacency.nnz == 3005
    np.testing.assert_allclose(np.asarray(adjacency.sum(1)).ravel(), 1.0, rtol=1e-5)  # row-normalised
    a2 = load_metro_mesh_downsampling(os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))['A'][2]
    pattern = (a2 != 0).astype(int) + sp.identity(431, dtype=int)
    assert ((adjacency != 0).astype(int) != (pattern != 0).astype(int)).nnz == 0


def test_real_h36m_regressor_is_plain_npy(smpl_assets_dir):
    regressor = np.load(os.path.join(smpl_assets_dir, 'J_regressor_h36m_correct.npy'), allow_pickle=False)
    assert regressor.shape == (17, 6890)
    np.testing.assert_allclose(regressor.sum(1), 1.0, atol=1e-3)  # float sums are 0.9996-1.00005


def test_truncated_body_files_are_named_with_the_fix(tmp_path, synthetic_files):
    from pointhmr.body.mesh_sampler import MeshSampler
    from pointhmr.body.safe_pickle import CorruptBodyFileError, load_npy
    cases = [('model_path', load_smpl_pickle), ('h36m_regressor_path', load_npy),
             ('mesh_sampler_path', MeshSampler.from_file)]
    for key, loader in cases:
        data = open(synthetic_files[key], 'rb').read()
        cut = tmp_path / ('cut_' + os.path.basename(synthetic_files[key]))
        cut.write_bytes(data[:len(data) // 2])
        with pytest.raises(CorruptBodyFileError, match=rf'{cut.name}: cannot read .*truncated or damaged'):
            loader(cut)


def test_real_mano_195_adjacency_matches_the_sampler(smpl_assets_dir):
    files = [os.path.join(smpl_assets_dir, f'mano_195_adjmat_{n}.pt') for n in ('indices', 'values', 'size')]
    adjacency = load_legacy_adjacency(*files)
    assert adjacency.shape == (195, 195) and adjacency.nnz == 1331
    np.testing.assert_allclose(np.asarray(adjacency.sum(1)).ravel(), 1.0, rtol=1e-5)  # row-normalised
    a1 = load_metro_mesh_downsampling(os.path.join(smpl_assets_dir, 'mano_downsampling.npz'))['A'][1]
    pattern = (a1 != 0).astype(int) + sp.identity(195, dtype=int)
    assert ((adjacency != 0).astype(int) != (pattern != 0).astype(int)).nnz == 0
    with np.load(os.path.join(smpl_assets_dir, 'derived', 'mano_195_adjmat.npz'), allow_pickle=False) as derived:
        np.testing.assert_array_equal(derived['indices'], np.vstack(adjacency.nonzero()))
