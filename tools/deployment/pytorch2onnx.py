"""Export a PointHMR model to ONNX (OpenMMLab style): CONFIG CHECKPOINT OUT.onnx.

    python tools/deployment/pytorch2onnx.py configs/pointhmr/<config>.py work_dirs/best.pth pointhmr.onnx \\
        --dynamic-batch

The graph takes the normalised crop ``input`` (B, 3, 224, 224) (RGB, ImageNet mean/std, as after the data
preprocessor) and returns ``camera`` (B, 3), ``joints`` (B, J, 3), ``vertices`` (B, V, 3) and ``vertices_coarse``
(root-centred metres), ``keypoints_3d`` (B, K, 3) and ``keypoints_2d`` (B, K, 2) (normalised crop coordinates). The
config and a hash of its model are stored in the file; run it with
``demo/mesh_demo.py CONFIG --backend onnxruntime --onnx OUT.onnx``. After writing, the file is checked with
``onnx.checker`` and (unless ``--no-verify``) run by onnxruntime on a random crop and compared with PyTorch.
CHECKPOINT ``none`` exports random weights (smoke tests).
"""
import argparse
import os
import sys
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from pointhmr.deployment.onnx_metadata import DEFAULT_OPSET, SUPPORTED_OPSETS  # noqa: E402

#: largest onnxruntime-vs-PyTorch difference accepted by the verification (metres / normalised units)
VERIFY_TOLERANCE = 1e-4


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PointHMR config file')
    parser.add_argument('checkpoint', help="checkpoint file, or 'none' for random weights")
    parser.add_argument('output', help='the .onnx file to write')
    parser.add_argument('--opset',
                        type=int,
                        default=DEFAULT_OPSET,
                        help=f'ONNX opset ({SUPPORTED_OPSETS[0]}-{SUPPORTED_OPSETS[-1]}, default {DEFAULT_OPSET})')
    parser.add_argument('--dynamic-batch', action='store_true', help='dynamic batch axis (default: batch 1)')
    parser.add_argument('--input-size',
                        type=int,
                        default=None,
                        help='square crop side; must be the model\'s (224 for the released configs)')
    parser.add_argument('--winograd-tile',
                        type=int,
                        choices=(0, 2, 4),
                        default=4,
                        help='Winograd F(m x m, 3x3) for the wide neck convolutions (0 = direct convolutions)')
    parser.add_argument('--no-verify', action='store_true', help='skip the onnxruntime-vs-PyTorch check')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import pointhmr  # noqa: F401  (registers the components)
    from pointhmr.deployment.mesh_export_model import ExportError
    from pointhmr.deployment.onnx_export import build_model_for_export, export_onnx
    try:
        model, cfg, config_name = build_model_for_export(args.config, args.checkpoint)
        diffs = export_onnx(model,
                            cfg,
                            args.output,
                            opset=args.opset,
                            dynamic_batch=args.dynamic_batch,
                            input_size=args.input_size,
                            config_name=config_name,
                            checkpoint_name=os.path.basename(args.checkpoint),
                            winograd_tile=args.winograd_tile or None,
                            verify=not args.no_verify)
    except (FileNotFoundError, ExportError, ImportError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if getattr(model, 'random_weights', False):
        print("WARNING: checkpoint 'none': the exported model has random weights (smoke test)")
    size = os.path.getsize(args.output) / 2**20
    print(f'{args.output}: {size:.1f} MiB, opset {args.opset}, '
          f'{"dynamic batch" if args.dynamic_batch else "batch 1"}, onnx.checker passed')
    if diffs:
        worst = max(diffs.values())
        print('onnxruntime vs PyTorch, max abs difference: ' + ', '.join(f'{k} {v:.2e}' for k, v in diffs.items()))
        if worst > VERIFY_TOLERANCE:
            print(
                f'error: onnxruntime differs from PyTorch by {worst:.2e} > {VERIFY_TOLERANCE:.0e}; the export is '
                f'wrong for this model (try --winograd-tile 0)',
                file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
