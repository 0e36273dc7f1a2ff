"""FreiHAND (training/evaluation JSON + rgb images) -> METRO TSV/YAML.

    python tools/dataset_converters/freihand_to_metro.py FreiHAND_pub_v2/ --split training --out data/freihand
    python tools/dataset_converters/freihand_to_metro.py FreiHAND_pub_v2_eval/ --split evaluation \
        --out data/freihand --name test --vertices
"""
import argparse
import sys

from pointhmr.datasets.converters import freihand_samples, write_metro_split


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert FreiHAND to METRO TSV/YAML.')
    parser.add_argument('root', help='folder holding <split>_{xyz,K,mano}.json and <split>/rgb/')
    parser.add_argument('--split', default='training', choices=('training', 'evaluation'))
    parser.add_argument('--out', default='data/freihand', help='output folder')
    parser.add_argument('--name', default=None, help='output file stem (default: train / test)')
    parser.add_argument('--versions',
                        type=int,
                        default=None,
                        help='image versions per annotation (default: 4 for training, 1 for evaluation)')
    parser.add_argument('--vertices', action='store_true', help='also store the 778 GT vertices (<split>_verts.json)')
    parser.add_argument('--box',
                        default='image',
                        choices=('image', 'joints'),
                        help='person box: the whole 224 x 224 image (default) or the joints box x --box-factor')
    parser.add_argument('--box-factor', type=float, default=2.0)
    parser.add_argument('--overwrite',
                        action='store_true',
                        help='start from scratch: redo a complete split, drop an interrupted run\'s checkpoint')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    if args.versions is not None and args.versions < 1:
        parser.error('--versions must be >= 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    versions = args.versions or (4 if args.split == 'training' else 1)
    total, rows = freihand_samples(args.root,
                                   args.split,
                                   versions=versions,
                                   with_vertices=args.vertices,
                                   box=args.box,
                                   box_factor=args.box_factor)
    name = args.name or ('train' if args.split == 'training' else 'test')
    path = write_metro_split(args.out,
                             name,
                             rows,
                             total,
                             dataset_name='freihand',
                             overwrite=args.overwrite,
                             progress=not args.quiet,
                             image_hint=f' (expected under {args.root}/{args.split}/rgb/)')
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
