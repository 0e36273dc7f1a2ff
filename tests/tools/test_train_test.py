"""tools/train.py and tools/test.py end to end on a tiny synthetic set with the light config (few iterations)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-800it_synthetic-224.py'
sys.path.insert(0, str(REPO_ROOT / 'tools'))
import train as train_tool  # noqa: E402


def fast_options(data_root: Path, max_iters: int):
    root = f'{data_root}/'
    options = [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=5', 'default_hooks.logger.interval=1',
        'param_scheduler.0.milestones=[100]'
    ]
    for split in ('train', 'val', 'test'):
        options += [
            f'{split}_dataloader.batch_size=2', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False', f'{split}_dataloader.dataset.data_root={root}'
        ]
    return options


def run_tool(args, cwd: Path, timeout: int = 400) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    return log


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory) -> Path:
    from pointhmr.datasets.synthetic import make_synthetic_dataset
    root = tmp_path_factory.mktemp('synthetic')
    make_synthetic_dataset(str(root), dict(train=6, test=4), seed=0)
    return root


@pytest.fixture(scope='module')
def first_run(tiny_data, tmp_path_factory) -> Path:
    """Two training iterations with a checkpoint after each: a run interrupted before its planned 3rd iteration."""
    work_dir = tmp_path_factory.mktemp('work')
    log = run_tool([
        str(REPO_ROOT / 'tools' / 'train.py'),
        str(CONFIG), '--work-dir',
        str(work_dir), '--cfg-options', *fast_options(tiny_data, 2)
    ],
                   cwd=work_dir)
    (work_dir / 'tool_output.txt').write_text(log)
    return work_dir


@pytest.mark.slow
def test_cpu_training_keeps_freed_memory(first_run):
    from pointhmr.utils.cpu_allocator import glibc_mallinfo2
    expected = 'yes' if glibc_mallinfo2() is not None else 'no (not glibc)'
    assert f'CPU allocator: freed memory kept for reuse: {expected}' in (first_run / 'tool_output.txt').read_text()


@pytest.mark.slow
def test_training_writes_checkpoints_and_baseline_report(first_run):
    names = {p.name for p in first_run.iterdir()}
    assert {'iter_1.pth', 'iter_2.pth', 'last_checkpoint', 'mean_pose_baseline.json'} <= names
    assert any(n.startswith('best_mesh_PA-MPJPE_iter_') for n in names)
    assert not any('.tmp-' in n for n in names)
    import json
    report = json.loads((first_run / 'mean_pose_baseline.json').read_text())
    assert set(report['baseline']) == {'MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE', 'EdgeErr%', 'NormalCos'}
    assert 0 <= report['model']['mesh/EdgeErr%'] and -1 <= report['model']['mesh/NormalCos'] <= 1
    assert report['model']['mesh/PA-MPJPE'] > 0 and report['baseline']['PA-MPJPE'] > 0


@pytest.mark.slow
def test_checkpoint_loads_with_weights_only(first_run):
    checkpoint = torch.load(first_run / 'iter_2.pth', map_location='cpu', weights_only=True)
    assert {'meta', 'state_dict', 'optimizer', 'message_hub'} <= set(checkpoint)
    assert checkpoint['meta']['iter'] == 2
    assert any(k.startswith('backbone.') for k in checkpoint['state_dict'])


@pytest.mark.slow
def test_resume_auto_continues_from_saved_iteration_then_test(first_run, tiny_data):
    # an atomic save interrupted while writing the 3rd checkpoint leaves only a temporary file behind
    (first_run / 'iter_3.pth.tmp-12345').write_bytes(b'partial')
    state_2 = torch.load(first_run / 'iter_2.pth', map_location='cpu', weights_only=True)
    log = run_tool([
        str(REPO_ROOT / 'tools' / 'train.py'),
        str(CONFIG), '--work-dir',
        str(first_run), '--resume', '--cfg-options', *fast_options(tiny_data, 3)
    ],
                   cwd=first_run)
    assert 'resumed' in log.lower() and 'iter_2.pth' in log
    assert 'Iter(train) [1/3]' not in log and 'Iter(train) [3/3]' in log
    state_3 = torch.load(first_run / 'iter_3.pth', map_location='cpu', weights_only=True)
    assert state_3['meta']['iter'] == 3
    changed = [
        k for k, v in state_3['state_dict'].items()
        if v.is_floating_point() and not torch.equal(v, state_2['state_dict'][k])
    ]
    assert changed  # one more optimisation step happened on top of the resumed weights

    out = first_run / 'predictions.pkl'
    log = run_tool([
        str(REPO_ROOT / 'tools' / 'test.py'),
        str(CONFIG),
        str(first_run / 'iter_3.pth'), '--work-dir',
        str(first_run / 'test'), '--out',
        str(out), '--cfg-options', *fast_options(tiny_data, 3)
    ],
                   cwd=first_run)
    assert 'mesh/PA-MPJPE' in log and 'mesh/MPVPE' in log
    assert out.is_file() and out.stat().st_size > 0


def test_unknown_cfg_option_is_named(tiny_data):
    with pytest.raises(KeyError, match='optim_wraper'):
        train_tool.load_config(train_tool.parse_args([str(CONFIG), '--cfg-options', 'optim_wraper.optimizer.lr=1']))
    with pytest.raises(KeyError, match="did you mean 'max_iters'"):
        train_tool.load_config(train_tool.parse_args([str(CONFIG), '--cfg-options', 'train_cfg.max_iter.x=1']))


def test_missing_files_are_named(tmp_path, tiny_data):
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        train_tool.load_config(train_tool.parse_args([str(tmp_path / 'no_such_config.py')]))
    with pytest.raises(FileNotFoundError, match='make_synthetic_dataset'):
        train_tool.load_config(
            train_tool.parse_args([
                str(CONFIG), '--work-dir',
                str(tmp_path), '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/synthetic/'
            ]))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        train_tool.load_config(
            train_tool.parse_args([
                str(CONFIG), '--work-dir',
                str(tmp_path), '--resume',
                str(tmp_path / 'missing.pth'), '--cfg-options', *fast_options(tiny_data, 1)
            ]))


def test_resume_auto_without_checkpoint_starts_fresh(tmp_path, tiny_data):
    cfg = train_tool.load_config(
        train_tool.parse_args(
            [str(CONFIG), '--work-dir',
             str(tmp_path), '--resume', '--cfg-options', *fast_options(tiny_data, 1)]))
    assert not cfg.resume and cfg.load_from is None
    if not torch.cuda.is_available():
        assert cfg.env_cfg.dist_cfg.backend == 'gloo' and cfg.model_wrapper_cfg.device_ids is None
