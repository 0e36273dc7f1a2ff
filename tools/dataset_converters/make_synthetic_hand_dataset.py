"""Generate the synthetic hand dataset (METRO FreiHAND TSV/YAML layout) from the embedded MANO-format hand.

Example::

    python tools/dataset_converters/make_synthetic_hand_dataset.py --out data/synthetic_hand --train 2000 --test 200

writes ``train.yaml`` / ``test.yaml`` (+ their ``.img/.hw/.label/.linelist`` TSVs and ``.lineidx`` indexes) and
``synthetic_meta.json`` under ``--out``: 224 x 224 images, labels with 21 joints (FreiHAND order, wrist first), MANO
pose (48) and betas (10). Use them with ``HandMeshTSVDataset(ann_file=...)`` (the synthetic hand config does).
"""
import argparse
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Generate the synthetic PointHMR hand dataset (TSV/YAML).')
    parser.add_argument('--out', default='data/synthetic_hand', help='output folder')
    parser.add_argument('--train', type=int, default=2000, help='number of training samples')
    parser.add_argument('--test', type=int, default=200, help='number of test samples')
    parser.add_argument('--seed', type=int, default=0, help='base seed (samples depend on seed, split and index)')
    parser.add_argument('--max-turn',
                        type=float,
                        default=60.0,
                        help='hands turn about the vertical axis by up to this many degrees either side of showing '
                        'the palm (180 = palm or back)')
    parser.add_argument('--max-roll', type=float, default=45.0, help='in-plane roll range in degrees, either side')
    parser.add_argument('--part-colors',
                        action=argparse.BooleanOptionalAction,
                        default=True,
                        help='paint the palm and every finger segment in its own colour (default)')
    parser.add_argument('--background', choices=('plain', 'cluttered'), default='plain', help='background style')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--quiet', action='store_true', help='no progress output')
    args = parser.parse_args(argv)
    for name in ('train', 'test'):
        if getattr(args, name) < 0:
            parser.error(f'--{name} must be >= 0')
    for name in ('max_turn', 'max_roll'):
        if not 0.0 <= getattr(args, name) <= 180.0:
            parser.error(f'--{name.replace("_", "-")} must be in [0, 180] degrees')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    torch.set_num_threads(max(1, args.threads))
    from pointhmr.datasets.synthetic import make_synthetic_hand_dataset

    start = time.time()

    def progress(split: str, done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(f'{split}: {done}/{total}', flush=True)

    splits = {name: count for name, count in (('train', args.train), ('test', args.test)) if count > 0}
    yamls = make_synthetic_hand_dataset(args.out,
                                        splits,
                                        seed=args.seed,
                                        part_colors=args.part_colors,
                                        background=args.background,
                                        max_turn=args.max_turn,
                                        max_roll=args.max_roll,
                                        progress=None if args.quiet else progress)
    for split, path in yamls.items():
        print(f'{split}: {path}')
    print(f'done in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
