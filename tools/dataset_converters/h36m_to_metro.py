"""Human3.6M (SPIN-style preprocessed .npz + extracted frames) -> METRO TSV/YAML.

    python tools/dataset_converters/h36m_to_metro.py h36m_valid_protocol2.npz --img-root h36m/ \
        --out data/human3.6m --split valid.protocol2

writes ``data/human3.6m/valid.protocol2.{img,hw,label,linelist}.tsv`` (+ ``.lineidx``) and ``valid.protocol2.yaml``.
A complete split is skipped on re-runs, an interrupted one resumes (``--overwrite`` starts again).
"""
import argparse
import sys

from pointhmr.datasets.converters import h36m_samples, write_metro_split


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert a SPIN-style Human3.6M .npz to METRO TSV/YAML.')
    parser.add_argument('npz', help='annotation file with imgname/center/scale/part/S (optional pose/shape)')
    parser.add_argument('--img-root', required=True, help='folder the npz imgname paths are relative to')
    parser.add_argument('--out', default='data/human3.6m', help='output folder')
    parser.add_argument('--split', default='valid.protocol2', help='output file stem (e.g. valid.protocol2, train)')
    parser.add_argument('--overwrite',
                        action='store_true',
                        help='start from scratch: redo a complete split, drop an interrupted run\'s checkpoint')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    total, rows = h36m_samples(args.npz, args.img_root)
    path = write_metro_split(args.out,
                             args.split,
                             rows,
                             total,
                             dataset_name='human3.6m',
                             overwrite=args.overwrite,
                             progress=not args.quiet,
                             image_hint=' (check --img-root)')
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
