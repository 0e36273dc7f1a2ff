"""Train a pointhmr model (mmengine Runner), single process or distributed.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--amp] [--cfg-options k=v ...]
                                 [--launcher none|pytorch|slurm]
    bash tools/dist_train.sh CONFIG GPUS [args]          # torchrun; gloo on CPU, NCCL on GPUs

Checkpoints are written atomically (pointhmr.utils.atomic_checkpoint); ``--resume`` / ``--resume auto`` continues from
the latest checkpoint of the work dir (or starts fresh when there is none), ``--resume PATH`` from a given one.
Training on CPU keeps freed heap memory for reuse (``--keep-freed-memory``, pointhmr.utils.cpu_allocator): same results,
steps about a quarter faster on this project's CPU machine.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, ROOT)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402

import pointhmr  # noqa: E402,F401  (registers modules, applies the torch / CPU compatibility fixes)
from pointhmr.engine import PointHMRRunner  # noqa: E402
from pointhmr.utils import check_dataset_files  # noqa: E402
from pointhmr.utils import (adapt_config_to_device, add_runner_arguments, find_resume_checkpoint, load_runner_config,
                            remove_interrupted_saves)
from pointhmr.utils.cpu_allocator import keep_freed_memory  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a pointhmr model')
    parser.add_argument('config',
                        help='config file (e.g. configs/pointhmr/pointhmr_hrnet-light_1xb8-800it_synthetic-224.py)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume training: without a value or "auto" from the latest checkpoint in the work dir (fresh start if '
        'there is none), otherwise from the given checkpoint file')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (needs a CUDA GPU)')
    parser.add_argument('--keep-freed-memory',
                        choices=['auto', 'on', 'off'],
                        default='auto',
                        help='glibc: keep freed heap memory for reuse instead of returning it to the OS after every '
                        'large tensor (same results, faster CPU steps, the process keeps its peak heap); auto = on '
                        'when no CUDA GPU is visible')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the lr by total batch / base batch size')
    add_runner_arguments(
        parser, 'override config settings, key=value pairs (e.g. train_cfg.max_iters=10); unknown keys are errors')
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace) -> Config:
    """Config file + command line -> the config the Runner is built from."""
    cfg = load_runner_config(args.config, args.cfg_options, args.launcher, args.work_dir, args.local_rank)

    if args.amp:
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a CUDA GPU (mmengine AmpOptimWrapper); drop --amp on CPU')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError(f'--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) in {args.config}')
        cfg.auto_scale_lr.enable = True

    if args.resume is not None:
        if osp.isdir(cfg.work_dir):
            remove_interrupted_saves(cfg.work_dir)
        if args.resume == 'auto':
            checkpoint = find_resume_checkpoint(cfg.work_dir)
            if checkpoint is None:
                print_log(f'--resume auto: no checkpoint in {cfg.work_dir}, starting from scratch', logger='current')
            else:
                cfg.resume, cfg.load_from = True, checkpoint
        else:
            if not osp.isfile(args.resume):
                raise FileNotFoundError(f'--resume: checkpoint {args.resume!r} does not exist')
            cfg.resume, cfg.load_from = True, args.resume
    if cfg.get('load_from') and not osp.isfile(cfg.load_from):
        raise FileNotFoundError(f'load_from: checkpoint {cfg.load_from!r} does not exist')

    adapt_config_to_device(cfg, args.launcher)
    check_dataset_files(
        cfg, ['train_dataloader', 'val_dataloader'] if cfg.get('val_cfg') is not None else ['train_dataloader'])
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.keep_freed_memory == 'on' or (args.keep_freed_memory == 'auto' and not torch.cuda.is_available()):
        applied = keep_freed_memory()
        print_log(f'CPU allocator: freed memory kept for reuse: {"yes" if applied else "no (not glibc)"}',
                  logger='current')
    cfg = load_config(args)
    runner = PointHMRRunner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
