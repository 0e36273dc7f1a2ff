"""Generate the synthetic human-mesh dataset (METRO TSV/YAML format) from the embedded body model.

Example::

    python tools/dataset_converters/make_synthetic_dataset.py --out data/synthetic --train 2000 --test 200 --seed 0

writes ``train.yaml`` / ``test.yaml`` (+ their ``.img/.hw/.label/.linelist`` TSVs and ``.lineidx`` indexes) and
``synthetic_meta.json`` under ``--out``; use them with ``MeshTSVDataset(ann_file='data/synthetic/train.yaml')``.
"""
import argparse
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate the synthetic PointHMR dataset (TSV/YAML).')
    parser.add_argument('--out', default='data/synthetic', help='output folder')
    parser.add_argument('--train', type=int, default=2000, help='number of training samples')
    parser.add_argument('--test', type=int, default=200, help='number of test samples')
    parser.add_argument('--seed', type=int, default=0, help='base seed (samples depend on seed, split and index)')
    parser.add_argument('--max-turn',
                        type=float,
                        default=60.0,
                        help='bodies turn about the vertical axis by up to this many degrees either side of facing '
                        'the camera (180 = any direction; front and back views are then nearly ambiguous)')
    parser.add_argument('--part-colors',
                        action=argparse.BooleanOptionalAction,
                        default=True,
                        help='paint every body part in its own colour (default); --no-part-colors: one random colour '
                        'per body')
    parser.add_argument('--background',
                        choices=('plain', 'cluttered'),
                        default='plain',
                        help='plain: colour gradients with light grain (default; the light CPU config learns from it '
                        'in minutes); cluttered: colour noise plus random circles, boxes and limb-like lines')
    parser.add_argument('--image-size', type=int, default=256, help='square image side in pixels')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--quiet', action='store_true', help='no progress output')
    args = parser.parse_args(argv)
    for name in ('train', 'test'):
        if getattr(args, name) < 0:
            parser.error(f'--{name} must be >= 0')
    if not 0.0 <= args.max_turn <= 180.0:
        parser.error('--max-turn must be in [0, 180] degrees')
    if args.image_size < 32:
        parser.error('--image-size must be at least 32')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    torch.set_num_threads(max(1, args.threads))
    from pointhmr.datasets.synthetic import SyntheticCameraConfig, make_synthetic_dataset

    start = time.time()
    split_start = {}

    def progress(split: str, done: int, total: int) -> None:
        now = time.time()
        begun = split_start.setdefault(split, now)
        if done == total or done % 100 == 0:
            rate = done / max(now - begun, 1e-6) if done > 1 else float('nan')
            print(f'{split}: {done}/{total} ({rate:.1f} images/s)', flush=True)

    splits = {name: count for name, count in (('train', args.train), ('test', args.test)) if count > 0}
    yamls = make_synthetic_dataset(args.out,
                                   splits,
                                   seed=args.seed,
                                   max_turn=args.max_turn,
                                   part_colors=args.part_colors,
                                   background=args.background,
                                   camera=SyntheticCameraConfig(image_size=args.image_size),
                                   progress=None if args.quiet else progress)
    for split, path in yamls.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
