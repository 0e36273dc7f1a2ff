"""Run-time adjustments of a loaded config for the machine it runs on, and checkpoint discovery for resuming."""
import glob
import os.path as osp
import re
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

_CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def adapt_config_to_device(cfg: Config, launcher: str = 'none') -> Config:
    """Make ``cfg`` runnable on this machine (in place; returns it).

    * distributed backend: NCCL when CUDA is available, gloo otherwise (unless the config names one explicitly and it
      can work here);
    * CPU DDP: ``model_wrapper_cfg.device_ids = None`` (mmengine passes ``[LOCAL_RANK]``, which DDP rejects for CPU
      modules);
    * ``sync_bn`` is dropped on CPU (``SyncBatchNorm`` only runs on GPUs) and in non-distributed runs.
    """
    cuda = torch.cuda.is_available()
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend')
    if backend in (None, 'auto') or (backend == 'nccl' and not cuda):
        dist_cfg['backend'] = 'nccl' if cuda else 'gloo'
    if not cuda:
        wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    if cfg.get('sync_bn') and (not cuda or launcher == 'none'):
        print_log(f'sync_bn={cfg.sync_bn!r} ignored: SyncBatchNorm needs CUDA and a distributed launcher',
                  logger='current')
        cfg.sync_bn = None
    return cfg


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume auto`` continues from, or None when ``work_dir`` holds none.

    Uses the ``last_checkpoint`` pointer written by mmengine's CheckpointHook when it names an existing file; otherwise
    (pointer missing, empty or stale) the ``epoch_N.pth`` / ``iter_N.pth`` with the largest N (temporary files of an
    interrupted atomic save are ignored).
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            named = named if osp.isabs(named) else osp.join(work_dir, named)
            if osp.isfile(named):
                return named
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CHECKPOINT_NAME.match(osp.basename(path))
        if match:
            candidates.append((int(match.group(2)), osp.getmtime(path), path))
    if not candidates:
        return None
    return max(candidates)[2]
