"""Evaluate a pointhmr checkpoint (MeshMetric: MPJPE, PA-MPJPE, MPVPE, PA-MPVPE in mm).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] [--cfg-options k=v ...]
                                            [--launcher none|pytorch|slurm]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [args]

Checkpoints are loaded with torch's safe loader (weights_only=True; pointhmr allow-lists numpy data types, never
builtins functions) and strictly (``--cfg-options load_strict=False`` relaxes it); see pointhmr.engine.runner.
Results are exact on any number of processes (no padding duplicates).
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402

import pointhmr  # noqa: E402,F401
from pointhmr.engine import PointHMRRunner  # noqa: E402
from pointhmr.utils import check_dataset_files  # noqa: E402
from pointhmr.utils import adapt_config_to_device, add_runner_arguments, load_runner_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pointhmr checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (Runner .pth, or a converted official checkpoint)')
    parser.add_argument('--out', help='also dump the raw predictions to this .pkl file (mmengine DumpResults)')
    add_runner_arguments(parser, 'override config settings, key=value pairs; unknown keys are errors')
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace) -> Config:
    cfg = load_runner_config(args.config, args.cfg_options, args.launcher, args.work_dir, args.local_rank)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out!r}')
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(type='DumpResults', out_file_path=args.out)]
    adapt_config_to_device(cfg, args.launcher)
    check_dataset_files(cfg, ['test_dataloader'])
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    runner = PointHMRRunner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
