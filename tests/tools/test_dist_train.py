"""tools/dist_train.sh: a 2-process gloo (CPU) training run with the light config on a tiny synthetic set."""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'pointhmr' / 'pointhmr_hrnet-light_1xb8-800it_synthetic-224.py'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_gloo_training(tmp_path):
    from pointhmr.datasets.synthetic import make_synthetic_dataset
    data = tmp_path / 'data'
    make_synthetic_dataset(str(data), dict(train=8, test=3), seed=1)  # 3 test samples: uneven split over 2 ranks
    work_dir = tmp_path / 'work'
    options = [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'custom_hooks=[]'
    ]
    for split in ('train', 'val', 'test'):
        options += [
            f'{split}_dataloader.batch_size=2', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False', f'{split}_dataloader.dataset.data_root={data}/'
        ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable, MASTER_PORT=str(free_port()))
    proc = subprocess.Popen([
        'bash',
        str(REPO_ROOT / 'tools' / 'dist_train.sh'),
        str(CONFIG), '2', '--work-dir',
        str(work_dir), '--cfg-options', *options
    ],
                            cwd=tmp_path,
                            env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            text=True,
                            start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:  # never leave the workers behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, log[-6000:]
    assert 'Distributed training: True' in log
    assert 'MeshMetric: 3 samples' in log  # every test sample once, no padding duplicate
    checkpoint = torch.load(work_dir / 'iter_2.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    assert not any(k.startswith('module.') for k in checkpoint['state_dict'])
