"""onnxruntime vs the PyTorch eager fast path, in one process, interleaved: latency, throughput and their ratios.

    python tools/analysis_tools/onnx_benchmark.py                      # default PointHMR-HR32, random weights
    python tools/analysis_tools/onnx_benchmark.py --config CONFIG --checkpoint CKPT --onnx exported.onnx

PyTorch runs what inference runs (eval, autograd off, ``model.switch_to_deploy()`` when the model has it:
``extract_feat`` + ``head.predict``, i.e. BatchNorm folding and Winograd F(2x2, 3x3) in the neck); onnxruntime runs
the exported graph (:mod:`pointhmr.deployment`), exported on the fly to a temporary file unless ``--onnx`` is given.
Both use ``--threads`` intra-op threads. The two alternate call by call, so load changes on a shared machine hit
both; medians of wall time and of process CPU time are reported (CPU time is the steadier one under load). The max
vertex difference between the two is printed too (not with ``--onnx`` and random weights: they differ).
"""
import argparse
import os
import sys
import tempfile
import time
from typing import Optional, Sequence

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

DEFAULT_CONFIG = 'configs/pointhmr_h36m.py'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='PointHMR config (default: %(default)s)')
    parser.add_argument('--checkpoint', default='none', help="weights ('none' = random weights, same speed)")
    parser.add_argument('--onnx', default=None, help='exported model of CONFIG (default: export to a temporary file)')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--iters', type=int, default=5, help='timed calls per backend and batch size (median)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=1, help='intra-op threads of both backends')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (onnxruntime CUDA execution provider)")
    parser.add_argument('--winograd-tile',
                        type=int,
                        choices=(0, 2, 4),
                        default=4,
                        help='Winograd tile of the exported neck convolutions when exporting here (0 = direct)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import pointhmr  # noqa: F401  (registers the components)
    from pointhmr.deployment.onnx_export import build_model_for_export, export_onnx
    from pointhmr.deployment.ort_backend import create_session
    from pointhmr.utils.timing import device_synchronizer, time_interleaved
    torch.set_num_threads(args.threads)
    device = torch.device('cuda' if args.device.startswith('cuda') else 'cpu')
    model, cfg, config_name = build_model_for_export(args.config, args.checkpoint)
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = args.onnx
        if onnx_file is None:
            onnx_file = os.path.join(folder, 'model.onnx')
            start = time.perf_counter()
            export_onnx(model,
                        cfg,
                        onnx_file,
                        dynamic_batch=True,
                        config_name=config_name,
                        winograd_tile=args.winograd_tile or None,
                        verify=False)
            print(f'exported {config_name} in {time.perf_counter() - start:.1f} s')
        session = create_session(onnx_file, device=args.device, threads=args.threads)
        model = model.to(device).eval()
        if callable(getattr(model, 'switch_to_deploy', None)):
            model.switch_to_deploy()

        synchronize = device_synchronizer(device)
        print(f'{config_name}, {args.threads} thread(s), device {args.device}, torch {torch.__version__}, '
              f'onnxruntime {__import__("onnxruntime").__version__}')
        print('| batch | PyTorch eager fast path | onnxruntime | speed-up (wall) | speed-up (CPU time) | '
              'max vertex diff |')
        print('| --- | --- | --- | --- | --- | --- |')
        for batch in args.batch_sizes:
            images = torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(batch))
            images_np, images_dev = images.numpy(), images.to(device)

            def run_torch():
                with torch.no_grad():
                    return model.head.predict(model.extract_feat(images_dev), None)

            def run_ort():
                return session.run(['vertices'], {'input': images_np})[0]

            diff = float(np.abs(run_ort() - np.concatenate([p.vertices for p in run_torch()])).max())
            # a given --onnx file with random weights holds other random weights than the model built here
            diff_text = f'{diff:.1e} m' if args.onnx is None or not model.random_weights else 'n/a (random weights)'
            times = time_interleaved(dict(pytorch=run_torch, onnxruntime=run_ort), args.iters, args.warmup, synchronize)
            (torch_wall, torch_cpu), (ort_wall, ort_cpu) = times['pytorch'], times['onnxruntime']
            if batch == 1:
                cells = f'{torch_wall * 1e3:.0f} ms | {ort_wall * 1e3:.0f} ms'
            else:
                cells = f'{batch / torch_wall:.2f} img/s | {batch / ort_wall:.2f} img/s'
            print(
                f'| {batch} | {cells} | {torch_wall / ort_wall:.2f}x | {torch_cpu / max(ort_cpu, 1e-9):.2f}x | '
                f'{diff_text} |',
                flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
