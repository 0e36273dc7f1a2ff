import os
import subprocess
import sys

import numpy as np

from pointhmr.body.mesh_sampler import MeshSampler
from pointhmr.body.safe_pickle import load_legacy_adjacency

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tools', 'model_converters'))

import convert_smpl_assets  # noqa: E402


def test_converts_real_assets(smpl_assets_dir, tmp_path):
    assert convert_smpl_assets.main([smpl_assets_dir, str(tmp_path / 'out')]) == 0
    converted = MeshSampler.from_file(tmp_path / 'out' / 'mesh_downsampling_coo.npz')
    original = MeshSampler.from_file(os.path.join(smpl_assets_dir, 'mesh_downsampling.npz'))
    for i in range(2):
        assert (converted.up_matrix(i) != original.up_matrix(i)).nnz == 0
        assert (converted.down_matrix(i) != original.down_matrix(i)).nnz == 0
    for i in range(3):
        assert (converted.adjacency(i) != original.adjacency(i)).nnz == 0
        np.testing.assert_array_equal(converted.faces(i), original.faces(i))
    legacy = load_legacy_adjacency(
        *[os.path.join(smpl_assets_dir, f'smpl_431_adjmat_{n}.pt') for n in ('indices', 'values', 'size')])
    with np.load(tmp_path / 'out' / 'smpl_431_adjmat.npz', allow_pickle=False) as data:
        assert data['indices'].shape == (2, 3005) and list(data['size']) == [431, 431]
        dense = np.zeros((431, 431), dtype=np.float32)
        dense[data['indices'][0], data['indices'][1]] = data['values']
    np.testing.assert_array_equal(dense, legacy.toarray().astype(np.float32))
    assert not [n for n in os.listdir(tmp_path / 'out') if n.endswith('.tmp')]


def test_empty_source_fails(tmp_path):
    (tmp_path / 'src').mkdir()
    assert convert_smpl_assets.main([str(tmp_path / 'src'), str(tmp_path / 'dst')]) == 1
    assert convert_smpl_assets.main([str(tmp_path / 'absent'), str(tmp_path / 'dst')]) == 2


def test_command_line_help():
    tool = os.path.join(REPO_ROOT, 'tools', 'model_converters', 'convert_smpl_assets.py')
    result = subprocess.run([sys.executable, tool, '--help'], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and 'SRC_DIR' in result.stdout.upper()
