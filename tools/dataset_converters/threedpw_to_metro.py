"""3DPW (sequenceFiles/<split>/*.pkl + imageFiles/) -> METRO TSV/YAML.

    python tools/dataset_converters/threedpw_to_metro.py 3DPW/ --split test --out data/3dpw \
        --smpl /path/to/smpl_assets --name test_has_gender

The pickles are read by a restricted unpickler (numpy arrays and plain containers only). The GT joints come from the
neutral SMPL model (``--smpl``: SMPL .pkl or a folder holding it, next to ``J_regressor_extra.npy``).
"""
import argparse
import os.path as osp
import sys

import numpy as np


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert 3DPW sequence files to METRO TSV/YAML.')
    parser.add_argument('root', help='3DPW folder holding sequenceFiles/ and imageFiles/')
    parser.add_argument('--split', default='test', choices=('train', 'validation', 'test'))
    parser.add_argument('--out', default='data/3dpw', help='output folder')
    parser.add_argument('--name',
                        default=None,
                        help='output file stem (default: the split; the 3DPW config '
                        'expects test_has_gender for the test split)')
    parser.add_argument('--smpl',
                        default=None,
                        help='neutral SMPL model (.pkl or folder); default: the embedded '
                        'synthetic body (for trying the tool only)')
    parser.add_argument('--extra-regressor',
                        default=None,
                        help='J_regressor_extra.npy (default: next to the --smpl model)')
    parser.add_argument('--box-factor', type=float, default=1.2, help='box = factor x joints box (METRO: 1.2)')
    parser.add_argument('--overwrite',
                        action='store_true',
                        help='start from scratch: redo a complete split, drop an interrupted run\'s checkpoint')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from pointhmr.body.smpl_layer import SMPLBodyModel
    from pointhmr.datasets.converters import threedpw_samples, write_metro_split
    body_model = SMPLBodyModel(model_path=args.smpl)
    extra_path = args.extra_regressor or osp.join(osp.dirname(body_model.model_file), 'J_regressor_extra.npy')
    if not osp.isfile(extra_path):
        raise FileNotFoundError(f'extra joint regressor {extra_path!r} not found; pass --extra-regressor '
                                'J_regressor_extra.npy (shipped with METRO / PointHMR)')
    extra = np.load(extra_path, allow_pickle=False)
    total, rows = threedpw_samples(osp.join(args.root, 'sequenceFiles', args.split),
                                   args.root,
                                   body_model,
                                   extra,
                                   box_factor=args.box_factor)
    path = write_metro_split(args.out,
                             args.name or args.split,
                             rows,
                             total,
                             dataset_name='3dpw',
                             overwrite=args.overwrite,
                             progress=not args.quiet,
                             image_hint=' (is imageFiles/ under the 3DPW root?)')
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
