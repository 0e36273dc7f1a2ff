"""Convert an official PointHMR checkpoint (pickled module or state_dict) into a pointhmr / mmengine checkpoint.

Usage::

    python tools/model_converters/convert_official_ckpt.py PointHMR_h36m.bin work_dirs/pointhmr_h36m.pth \
        [--config CFG] [--drop-unused]

The file is read without running code from it (restricted unpickler), renamed to pointhmr's keys, loaded **strictly**
into a model built from ``--config`` (default: the official PointHMR-HR32 model) and written atomically as
``{'meta': {...}, 'state_dict': ...}``, loadable with ``load_from=`` or ``mmengine.runner.load_checkpoint``.
Exits with status 1 and a readable report when keys or shapes do not match or the pickle is refused.
"""
import argparse
import hashlib
import os
import pickle
import sys
import time
from typing import Optional, Sequence

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import pointhmr  # noqa: E402  (registers the modules, applies the CPU compatibility fixes)
from pointhmr.fileio import atomic_write  # noqa: E402
from pointhmr.models.official_checkpoint import UnsafeCheckpointError  # noqa: E402
from pointhmr.models.official_checkpoint import CheckpointMismatchError, convert_official_checkpoint, count_tensors


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert an official PointHMR checkpoint to a pointhmr checkpoint.')
    parser.add_argument('src', help='official file: PointHMR_*.bin / model.bin (pickled module) or state_dict.bin')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument('--config',
                        help='mmengine config whose `model` the weights must fit (default: the official '
                        'PointHMR-HR32 model, configs/_base_/models/pointhmr_hrnet-w32.py)')
    parser.add_argument('--drop-unused',
                        action='store_true',
                        help='drop the never-used cam_token_embed / vertex_token_embed even if the model has them')
    return parser.parse_args(argv)


def build_model(config: Optional[str]) -> torch.nn.Module:
    """The model to verify against: from ``config``'s ``model`` dict, or the default PointHMR-HR32."""
    from mmpose.registry import MODELS

    from pointhmr.utils import load_model_config
    return MODELS.build(load_model_config(config or 'pointhmr_hrnet-w32'))


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def save_atomically(checkpoint: dict, dst: str) -> None:
    """``torch.save`` into a temporary file next to ``dst``, then rename it over ``dst``."""
    with atomic_write(dst, 'wb') as f:
        torch.save(checkpoint, f)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if os.path.abspath(args.src) == os.path.abspath(args.dst):
        print('error: SRC and DST are the same file; choose another output path', file=sys.stderr)
        return 2
    if not os.path.isfile(args.src):
        print(f'error: official checkpoint {args.src!r} does not exist', file=sys.stderr)
        return 1
    try:
        model = build_model(args.config)
        state_dict, dropped = convert_official_checkpoint(args.src, model=model, drop_unused=args.drop_unused)
    except CheckpointMismatchError as error:
        print(f'error: {args.src} does not fit the model' + (f' of {args.config}' if args.config else '') +
              f'.\n{error}',
              file=sys.stderr)
        return 1
    except UnsafeCheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, KeyError, EOFError, pickle.UnpicklingError, RuntimeError) as error:
        print(f'error: could not convert {args.src}: {error}', file=sys.stderr)
        return 1

    meta = dict(
        converted_from=os.path.abspath(args.src),
        source_sha256=sha256_of(args.src),
        config=args.config or 'configs/_base_/models/pointhmr_hrnet-w32.py',
        dropped_keys=list(dropped),
        converter='tools/model_converters/convert_official_ckpt.py',
        pointhmr_version=str(pointhmr.__version__),
        torch_version=str(torch.__version__),
        time=time.strftime('%Y-%m-%d %H:%M:%S'),
    )
    save_atomically(dict(meta=meta, state_dict=state_dict), args.dst)

    counts = count_tensors(state_dict)
    print(f'converted {args.src} -> {args.dst}')
    print(f'  tensors: {counts["tensors"]} ({counts["integer_tensors"]} integer buffers)')
    print(f'  float elements (parameters + BN statistics): {counts["elements"]:,}')
    print(f'  model parameters: {sum(p.numel() for p in model.parameters()):,}')
    print(f'  dropped official keys: {", ".join(dropped) if dropped else "none"}')
    print('  strict load into the model: OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
