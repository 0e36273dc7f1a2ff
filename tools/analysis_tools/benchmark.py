"""Benchmark the PointHMR model: parameters, FLOPs, latency, throughput, training step time and peak memory.

Example (CPU, small repetition counts so it finishes in a few minutes on 2 cores)::

    python tools/analysis_tools/benchmark.py --device cpu --iters 2 --warmup 1 --batch-sizes 1 16 \
        --train-batch-size 2 --reference

``--reference`` also times a deliberately straightforward port of the official forward pass sharing our weights
(:mod:`pointhmr.models.official_reference`): sine encodings recomputed from a padding mask every call, the 112x112
loss heatmap always built, sequence-first ``nn.MultiheadAttention`` maths with attention weights returned, and
per-sample sparse up-sampling loops. Both columns are printed side by side, and the reference's vertices are compared
with ours (same weights -> same output; tests/models/test_official_reference.py asserts it).

Inference (latency, throughput) runs our ``extract_feat`` + ``head.predict`` and the reference's full forward (the
official evaluation calls the whole network). Our eval forward folds BatchNorm into the convolutions of the neck's
residual heads and runs their wide 3x3 convolutions as Winograd F(2x2, 3x3) (``ResidualBasicBlock`` fast inference);
the reference always runs the plain modules. ``--plain`` adds a column with our inference on the plain modules
(inference rows only). Parameters ("used" = receives a gradient), FLOPs and the training step use the full forward of
each with a surrogate loss (sum of mean squares of every output) so both columns do the same work (FLOPs are counted
in deploy mode, so ours include the Winograd saving); an extra row times our training step with the real
``model.loss`` on synthetic labels.

``--speedup`` prints only the speed-up against the official-style port, ratio = official-style time / ours: inference
at batch 1 and 8 with 1 and 2 threads (ours in deploy mode), and training steps at batch 4 and 12 (our ``model.loss``
against ``OfficialStyleReference.loss``: the same PointHMR loss terms with the official 112x112 maps and one-hot BCE;
forward, backward and Adam for both) with their peak memory; each pair interleaved in one process, medians. With
``--device cuda`` it prints images/s on a GPU, and ``--amp fp16|bf16`` runs our side under autocast (training: fp16
with a GradScaler, as AmpOptimWrapper); written for GPUs but not yet run on one::

    python tools/analysis_tools/benchmark.py --speedup --iters 3 --warmup 1
    python tools/analysis_tools/benchmark.py --speedup --device cuda --amp bf16 --train-batches 12 32

Peak memory: CUDA = ``torch.cuda.max_memory_allocated`` during the measured phase; CPU = peak increase of the heap bytes
in use (glibc ``mallinfo2``, sampled every 2 ms; resident set size where glibc is missing). Timings interleave the
implementations and report medians; on CPU one thread is the default (``--threads``) because multi-threaded OpenMP is
very noisy on a shared machine.
"""
import argparse
import contextlib
import copy
import os
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import pointhmr  # noqa: E402,F401  (registers the modules, applies the CPU compatibility fixes)
from pointhmr.models.layers import plain_inference  # noqa: E402
from pointhmr.models.official_reference import reference_from_model  # noqa: E402
from pointhmr.utils.cpu_allocator import glibc_mallinfo2  # noqa: E402
from pointhmr.utils.timing import device_synchronizer, time_interleaved  # noqa: E402

INPUT_SIZE = 224


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', help='mmengine config with a `model` dict (default: the default PointHMR model)')
    parser.add_argument('--light', action='store_true', help='use the light test variant instead of the default model')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch-sizes',
                        type=int,
                        nargs='+',
                        default=[1, 16],
                        help='latency is measured at the first size, throughput at the last')
    parser.add_argument('--train-batch-size', type=int, default=2, help='batch size of the training-step measurement')
    parser.add_argument('--iters', type=int, default=3, help='timed repetitions per measurement (median reported)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed repetitions before each measurement')
    parser.add_argument('--threads',
                        type=int,
                        default=1,
                        help='torch CPU threads (default 1: stable timings on a shared machine; 0 = torch default)')
    parser.add_argument('--reference', action='store_true', help='also time the straightforward official-style port')
    parser.add_argument('--plain',
                        action='store_true',
                        help='also time our inference with the fast path off (plain conv + BatchNorm modules)')
    parser.add_argument('--speedup',
                        action='store_true',
                        help='only the speed-up table against the official-style port: inference at --infer-batches x '
                        '--infer-threads, training steps (real losses, forward + backward + Adam) at --train-batches, '
                        'peak training memory; interleaved runs, medians, ratios')
    parser.add_argument('--infer-batches', type=int, nargs='+', default=[1, 8], help='--speedup inference batches')
    parser.add_argument('--infer-threads', type=int, nargs='+', default=[1, 2], help='--speedup inference threads')
    parser.add_argument('--train-batches', type=int, nargs='+', default=[4, 12], help='--speedup training batches')
    parser.add_argument('--train-threads', type=int, default=1, help='--speedup training-step threads')
    parser.add_argument('--amp',
                        choices=['none', 'fp16', 'bf16'],
                        default='none',
                        help='--speedup: run our model under torch.autocast (training: fp16 with a GradScaler, as '
                        'mmengine AmpOptimWrapper); the official-style port stays float32')
    parser.add_argument('--channels-last',
                        action='store_true',
                        help='--speedup: run our model and its input images in channels_last memory format (the '
                        'official-style port keeps its own contiguous copy of the weights)')
    parser.add_argument('--skip-flops', action='store_true')
    parser.add_argument('--skip-train', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------------------------------------
# model building and our forward
# ---------------------------------------------------------------------------------------------------------------------
def build_model(config: Optional[str], light: bool = False) -> nn.Module:
    """Build the estimator from ``config`` (a file with a ``model`` dict) or a default PointHMR model config."""
    from mmpose.registry import MODELS

    from pointhmr.utils import load_model_config
    model_cfg = load_model_config(config or ('pointhmr_light' if light else 'pointhmr_hrnet-w32'))
    return MODELS.build(model_cfg)


class TensorForward(nn.Module):
    """Our model as ``images (B, 3, H, W) -> tensors``: backbone, neck, head forward (no data preprocessing)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: Tensor):
        return self.model._forward(images)


def vertices_of(outputs) -> Tensor:
    """The full-resolution vertices (B, V, 3) from our head output or the reference tuple."""
    if isinstance(outputs, dict):
        for key in ('vertices', 'vertices_6890', 'verts'):
            if key in outputs:
                return outputs[key]
    if hasattr(outputs, 'vertices'):
        return outputs.vertices
    if isinstance(outputs, (tuple, list)):
        candidates = [t for t in outputs if isinstance(t, Tensor) and t.dim() == 3 and t.shape[-1] == 3]
        return max(candidates, key=lambda t: t.shape[1])
    raise TypeError(f'cannot find vertices in model output of type {type(outputs).__name__}')


def deploy(net: nn.Module) -> nn.Module:
    """Eval mode, and deploy mode (``switch_to_deploy``) for our model: how inference runs it."""
    net.eval()
    model = net.model if isinstance(net, TensorForward) else net
    if callable(getattr(model, 'switch_to_deploy', None)):
        model.switch_to_deploy()
    return net


def predict_instances(model: nn.Module, images: Tensor):
    """What inference runs: features, then the head's ``predict`` (no loss heatmap, numpy results)."""
    return model.head.predict(model.extract_feat(images), None)


def predict_instances_plain(model: nn.Module, images: Tensor):
    """:func:`predict_instances` with the residual heads' fast inference path switched off."""
    with plain_inference(model):
        return predict_instances(model, images)


def synthetic_data_samples(batch: int, seed: int = 0, num_joints: int = 24, num_pose_params: int = 72) -> list:
    """Training labels following docs/architecture.md (random values; only shapes and flags matter here); label joint
    and pose sizes of the mesh model (SMPL: 24 / 72, MANO: 21 / 48)."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        labels = InstanceData()
        labels.keypoints_2d = torch.cat(
            (torch.rand(1, num_joints, 2, generator=generator) * 2 - 1, torch.ones(1, num_joints, 1)), 2)
        labels.keypoints_3d = torch.cat(
            (torch.randn(1, num_joints, 3, generator=generator) * 0.3, torch.ones(1, num_joints, 1)), 2)
        labels.smpl_pose = torch.randn(1, num_pose_params, generator=generator) * 0.2
        labels.smpl_betas = torch.randn(1, 10, generator=generator) * 0.5
        labels.has_2d_joints = torch.ones(1)
        labels.has_3d_joints = torch.ones(1)
        labels.has_smpl = torch.ones(1)
        sample = PoseDataSample(metainfo=dict(input_size=(INPUT_SIZE, INPUT_SIZE)))
        sample.gt_instance_labels = labels
        samples.append(sample)
    return samples


def real_loss(model: nn.Module, images: Tensor) -> Tensor:
    """Sum of the model's training losses on synthetic labels."""
    body = model.head.body_model
    losses = model.loss(
        images,
        synthetic_data_samples(images.shape[0],
                               num_joints=int(body.num_label_joints),
                               num_pose_params=int(body.num_pose_params)))
    return sum(value for value in losses.values() if isinstance(value, Tensor))


def surrogate_loss(outputs) -> Tensor:
    """Sum of mean squares of every floating output tensor: exercises the full backward at negligible cost."""
    if isinstance(outputs, dict):
        tensors = list(outputs.values())
    elif hasattr(outputs, '_asdict'):
        tensors = list(outputs._asdict().values())
    else:
        tensors = list(outputs)
    tensors = [t for t in tensors if isinstance(t, Tensor) and t.is_floating_point() and t.requires_grad]
    return sum(t.square().mean() for t in tensors)


# ---------------------------------------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------------------------------------
@dataclass
class Subject:
    """One implementation under test.

    Attributes:
        net: ``images -> outputs`` module (parameters, FLOPs, surrogate-loss training step).
        infer: what inference runs, for latency / throughput.
        loss_of: optional ``images -> loss`` with the real training loss (extra training-step row).
        inference_only: only the latency / throughput / inference memory rows.
    """

    net: nn.Module
    infer: Callable[[Tensor], object]
    loss_of: Optional[Callable[[Tensor], Tensor]] = None
    inference_only: bool = False


class PeakMemory:
    """Context manager measuring the peak extra memory of a phase, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated`` minus the allocation at the start. CPU: peak increase of the heap bytes
    in use (glibc ``mallinfo2``: ``uordblks + hblkhd``, i.e. live malloc'd bytes incl. mmapped blocks), sampled every
    2 ms; without glibc, the resident set size (which under-reports when freed memory stays resident).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.peak_mib = float('nan')
        self._stop = threading.Event()
        mallinfo2 = glibc_mallinfo2()
        if mallinfo2 is not None:
            self.method = 'heap in use (glibc mallinfo2)'
            self._read = lambda: (lambda info: info.uordblks + info.hblkhd)(mallinfo2())
        else:
            self.method = 'resident set size'
            self._read = self._rss_bytes

    @staticmethod
    def _rss_bytes() -> int:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._max = max(self._max, self._read())
            time.sleep(0.002)

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
        else:
            self._base = self._max = self._read()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            self.peak_mib = (torch.cuda.max_memory_allocated() - self._base) / 2**20
        else:
            self._stop.set()
            self._thread.join()
            self.peak_mib = (max(self._max, self._read()) - self._base) / 2**20


def time_interleaved_on(calls: Dict[str, Callable[[], object]], iters: int, warmup: int,
                        device: torch.device) -> Dict[str, Tuple[float, float]]:
    """:func:`pointhmr.utils.timing.time_interleaved` with ``device``'s synchronisation."""
    return time_interleaved(calls, iters, warmup, device_synchronizer(device))


def peak_memory_of(call: Callable[[], object], device: torch.device) -> float:
    with PeakMemory(device) as memory:
        call()
    return memory.peak_mib


def count_parameters(net: nn.Module, images: Tensor) -> Tuple[int, int]:
    """(total, used): used = parameters that receive a gradient from a surrogate loss on one forward pass."""
    net.train()
    net.zero_grad(set_to_none=True)
    surrogate_loss(net(images)).backward()
    total = sum(p.numel() for p in net.parameters())
    used = sum(p.numel() for p in net.parameters() if p.grad is not None)
    net.zero_grad(set_to_none=True)
    return total, used


def count_flops(net: nn.Module, images: Tensor) -> Tuple[float, str]:
    """FLOPs of one forward pass, one fused multiply-add counted as one flop, and the counter used.

    mmengine.analysis (jit trace) is tried first; models whose trace fails (e.g. sparse tensors) are counted with
    torch.utils.flop_counter (dispatch level; its 2-per-multiply-add count is halved to match).
    """
    deploy(net)
    with torch.no_grad():
        try:
            from mmengine.analysis import FlopAnalyzer
            analyzer = FlopAnalyzer(net, (images, ))
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            return float(analyzer.total()), 'mmengine.analysis'
        except Exception as error:  # noqa: BLE001 - tracing limitations only change the counter used
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            with counter:
                net(images)
            return counter.get_total_flops() / 2, f'torch.utils.flop_counter ({type(error).__name__} in jit trace)'


def measure(subjects: Dict[str, Subject], args: argparse.Namespace, device: torch.device) -> Dict[str, Dict]:
    """All measurements, one result dict per subject."""
    results: Dict[str, Dict] = {name: {} for name in subjects}
    generator = torch.Generator().manual_seed(args.seed)

    def images(batch: int) -> Tensor:
        return torch.randn(batch, 3, INPUT_SIZE, INPUT_SIZE, generator=generator).to(device)

    one = images(1)
    for name, subject in subjects.items():
        if subject.inference_only:
            continue
        results[name]['params_total'], results[name]['params_used'] = count_parameters(subject.net, one)
        if not args.skip_flops:
            flops, counter = count_flops(subject.net, one)
            results[name]['gflops'], results[name]['flops_counter'] = flops / 1e9, counter

    latency_batch, throughput_batch = args.batch_sizes[0], args.batch_sizes[-1]
    for subject in subjects.values():
        deploy(subject.net)
    with torch.inference_mode():
        x = images(latency_batch)
        timed = time_interleaved_on({n: partial(s.infer, x)
                                     for n, s in subjects.items()}, args.iters, args.warmup, device)
        for name, (wall, cpu) in timed.items():
            results[name]['latency_ms'], results[name]['latency_cpu_ms'] = 1e3 * wall, 1e3 * cpu
        x = images(throughput_batch)
        timed = time_interleaved_on({n: partial(s.infer, x)
                                     for n, s in subjects.items()}, args.iters, args.warmup, device)
        for name, (wall, _) in timed.items():
            results[name]['throughput'] = throughput_batch / wall
            results[name]['infer_peak_mib'] = peak_memory_of(partial(subjects[name].infer, x), device)

    if args.skip_train:
        return results
    x = images(args.train_batch_size)
    steps = {}
    trained = [name for name, subject in subjects.items() if not subject.inference_only]
    for name in trained:
        subject = subjects[name]
        subject.net.train()
        optimizer = torch.optim.Adam([p for p in subject.net.parameters() if p.requires_grad], lr=1e-5)
        steps[name] = partial(_train_step, optimizer, partial(_surrogate_of, subject.net), x)
        if subject.loss_of is not None:
            steps[f'{name}:loss'] = partial(_train_step, optimizer, subject.loss_of, x)
    timed = time_interleaved_on(steps, args.iters, args.warmup, device)
    for key, (wall, _) in timed.items():
        name, _, kind = key.partition(':')
        results[name]['train_step_loss_s' if kind else 'train_step_s'] = wall
    for name in trained:
        results[name]['train_peak_mib'] = peak_memory_of(steps[name], device)
        subjects[name].net.zero_grad(set_to_none=True)
    return results


def _surrogate_of(net: nn.Module, images: Tensor) -> Tensor:
    return surrogate_loss(net(images))


def _train_step(optimizer: torch.optim.Optimizer, compute_loss: Callable[[Tensor], Tensor], images: Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    compute_loss(images).backward()
    optimizer.step()


# ---------------------------------------------------------------------------------------------------------------------
# speed-up against the official-style port (--speedup)
# ---------------------------------------------------------------------------------------------------------------------
def _autocast(device: torch.device, amp: str):
    """``torch.autocast`` for ``--amp`` (a no-op context for 'none')."""
    if amp == 'none':
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.float16 if amp == 'fp16' else torch.bfloat16)


class _TrainStep:
    """One optimisation step: zero_grad, ``losses = compute(images, samples)``, backward of their sum, Adam step
    (with a GradScaler for fp16 autocast, as mmengine's AmpOptimWrapper)."""

    def __init__(self,
                 net: nn.Module,
                 compute: Callable,
                 images: Tensor,
                 samples: list,
                 device: torch.device,
                 amp: str = 'none'):
        self.net, self.compute, self.images, self.samples = net, compute, images, samples
        self.device, self.amp = device, amp
        self.optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-5)
        self.scaler = torch.amp.GradScaler(device.type) if amp == 'fp16' else None

    def __call__(self) -> None:
        self.net.train()
        self.optimizer.zero_grad(set_to_none=True)
        with _autocast(self.device, self.amp):
            losses = self.compute(self.images, self.samples)
        loss = sum(value for value in losses.values() if isinstance(value, Tensor))
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()


def measure_speedup(model: nn.Module,
                    reference: nn.Module,
                    args: argparse.Namespace,
                    device: torch.device,
                    report: Callable[[Dict], None] = lambda row: None) -> List[Dict]:
    """Rows of (mode, batch, threads, ours s, official-style s, ratio, img/s, peak MiB ours / official-style).

    Inference: our ``extract_feat`` + ``head.predict`` (the fast path) against the port's full forward. Training: our
    ``model.loss`` against the port's ``loss`` (same loss terms, the official 112x112 maps and one-hot targets), each
    with its own Adam over the shared weights. Each pair runs interleaved in this process; medians of ``--iters``.
    ``report`` is called with each row as soon as it is measured.
    """
    generator = torch.Generator().manual_seed(args.seed)
    rows = []

    def images(batch: int) -> Tensor:
        return torch.randn(batch, 3, INPUT_SIZE, INPUT_SIZE, generator=generator).to(device)

    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format

    def ours_infer(x: Tensor):
        with _autocast(device, args.amp):
            return predict_instances(model, x.contiguous(memory_format=memory_format))

    for threads in args.infer_threads if device.type == 'cpu' else [torch.get_num_threads()]:
        torch.set_num_threads(threads)
        for batch in args.infer_batches:
            deploy(model)  # our inference runs in deploy mode; the port pauses it (plain modules)
            reference.eval()
            x = images(batch)
            with torch.inference_mode():
                timed = time_interleaved_on(dict(ours=partial(ours_infer, x), official=partial(reference, x)),
                                            args.iters, args.warmup, device)
            rows.append(
                dict(mode='inference',
                     batch=batch,
                     threads=threads,
                     ours=timed['ours'][0],
                     official=timed['official'][0]))
            report(rows[-1])
    torch.set_num_threads(args.train_threads)
    for batch in args.train_batches:
        x, samples = images(batch), synthetic_data_samples(batch, seed=args.seed)
        steps = dict(ours=_TrainStep(model, model.loss, x.contiguous(memory_format=memory_format), samples, device,
                                     args.amp),
                     official=_TrainStep(reference, reference.loss, x, samples, device))
        timed = time_interleaved_on(steps, args.iters, args.warmup, device)
        row = dict(mode='training step',
                   batch=batch,
                   threads=args.train_threads,
                   ours=timed['ours'][0],
                   official=timed['official'][0])
        for name, step in steps.items():
            row[f'{name}_mib'] = peak_memory_of(step, device)
            step.optimizer.zero_grad(set_to_none=True)
        rows.append(row)
        report(row)
        del steps
    model.eval()
    reference.eval()
    return rows


SPEEDUP_HEADER = (f'{"":<14} {"batch":>5} {"threads":>7} {"pointhmr (s)":>13} {"official (s)":>13} {"ratio":>7} '
                  f'{"pointhmr img/s":>15} {"peak MiB pointhmr / official":>29}')


def format_speedup_row(row: Dict) -> str:
    """One speed-up row (ratio = official-style time / ours)."""
    memory = (f'{row["ours_mib"]:.0f} / {row["official_mib"]:.0f}' if 'ours_mib' in row else '-')
    return (f'{row["mode"]:<14} {row["batch"]:>5} {row["threads"]:>7} {row["ours"]:>13.3f} '
            f'{row["official"]:>13.3f} {"x%.2f" % (row["official"] / row["ours"]):>7} '
            f'{row["batch"] / row["ours"]:>15.2f} {memory:>29}')


def compare_outputs(ours: nn.Module, reference: nn.Module, device: torch.device) -> float:
    """Largest absolute vertex difference between our forward and the reference (eval mode, same input)."""
    deploy(ours)
    reference.eval()
    x = torch.randn(2, 3, INPUT_SIZE, INPUT_SIZE, generator=torch.Generator().manual_seed(1)).to(device)
    with torch.inference_mode():
        return (vertices_of(ours(x)) - vertices_of(reference(x))).abs().max().item()


ROWS = (
    ('params_total', 'parameters, total (M)', lambda v: f'{v / 1e6:.3f}'),
    ('params_used', 'parameters, used (M)', lambda v: f'{v / 1e6:.3f}'),
    ('gflops', 'FLOPs @1x3x224x224 (G, mult-add = 1)', lambda v: f'{v:.2f}'),
    ('latency_ms', 'latency, batch {lb} (ms, median wall)', lambda v: f'{v:.1f}'),
    ('latency_cpu_ms', 'latency, batch {lb} (ms, median process CPU)', lambda v: f'{v:.1f}'),
    ('throughput', 'throughput, batch {tb} (img/s)', lambda v: f'{v:.2f}'),
    ('infer_peak_mib', 'inference peak memory, batch {tb} (MiB)', lambda v: f'{v:.0f}'),
    ('train_step_s', 'train step fwd+bwd+Adam, batch {trb} (s)', lambda v: f'{v:.3f}'),
    ('train_peak_mib', 'train step peak memory, batch {trb} (MiB)', lambda v: f'{v:.0f}'),
    ('train_step_loss_s', 'train step with model.loss, batch {trb} (s)', lambda v: f'{v:.3f}'),
)


def format_table(columns: Dict[str, Dict], args: argparse.Namespace) -> str:
    """Metrics as rows, implementations as columns."""
    names = list(columns)
    labels = {
        key: label.format(lb=args.batch_sizes[0], tb=args.batch_sizes[-1], trb=args.train_batch_size)
        for key, label, _ in ROWS
    }
    width = max(len(v) for v in labels.values())
    lines = [f'{"metric":<{width}}  ' + '  '.join(f'{n:>14}' for n in names)]
    lines.append('-' * len(lines[0]))
    for key, _, fmt in ROWS:
        if any(key in columns[n] for n in names):
            cells = [fmt(columns[n][key]) if key in columns[n] else '-' for n in names]
            lines.append(f'{labels[key]:<{width}}  ' + '  '.join(f'{c:>14}' for c in cells))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        print('error: --device cuda requested but CUDA is not available; use --device cpu', file=sys.stderr)
        return 2
    if args.iters < 1 or args.warmup < 0 or min(args.batch_sizes + [args.train_batch_size]) < 1:
        print('error: --iters and batch sizes must be >= 1 and --warmup >= 0', file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    model = build_model(args.config, args.light).to(device)
    if args.speedup:
        reference = reference_from_model(model).to(device)
        if args.channels_last:  # the port gets its own contiguous weights, ours go channels_last
            reference = copy.deepcopy(reference)
            model = model.to(memory_format=torch.channels_last)
        difference = compare_outputs(TensorForward(model), reference, device)
        print(f'device: {device}, torch {torch.__version__}, amp {args.amp}, {args.iters} timed iterations (median, '
              f'pointhmr and the official-style port interleaved) after {args.warmup} warm-up; '
              f'load average {os.getloadavg()[0]:.1f} at the start' +
              ('; pointhmr in channels_last' if args.channels_last else ''))
        method = 'torch.cuda.max_memory_allocated' if device.type == 'cuda' else PeakMemory(device).method
        print(f'peak training memory: increase of {method} over one step; ratio = official-style time / ours')
        print(f'max |vertices(pointhmr) - vertices(official-style)| = {difference:.3e} m (eval mode, same weights)')
        print(SPEEDUP_HEADER + '\n' + '-' * len(SPEEDUP_HEADER), flush=True)
        measure_speedup(model, reference, args, device, report=lambda row: print(format_speedup_row(row), flush=True))
        print(f'load average {os.getloadavg()[0]:.1f} at the end')
        return 0
    subjects = {
        'pointhmr': Subject(TensorForward(model), partial(predict_instances, model), loss_of=partial(real_loss, model))
    }
    if args.plain:
        subjects['pointhmr-plain'] = Subject(TensorForward(model),
                                             partial(predict_instances_plain, model),
                                             inference_only=True)
    if args.reference:
        if tuple(model.head.level_sizes) != (431, 1723, 6890):
            print(
                'error: --reference ports the official SMPL model (431 -> 1723 -> 6890); drop it for '
                f'{type(model.head.body_model).__name__}',
                file=sys.stderr)
            return 2
        reference = reference_from_model(model).to(device)
        subjects['official-style'] = Subject(reference, reference)
        difference = compare_outputs(subjects['pointhmr'].net, reference, device)
    columns = measure(subjects, args, device)
    memory_note = ('torch.cuda.max_memory_allocated' if device.type == 'cuda' else
                   f'CPU, increase of {PeakMemory(device).method} over the phase start, sampled every 2 ms')
    print(f'device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'{args.iters} timed iterations (median, implementations interleaved) after {args.warmup} warm-up')
    print(f'peak memory: {memory_note}')
    print(format_table(columns, args))
    for name, column in columns.items():
        if 'flops_counter' in column:
            print(f'FLOPs of {name} counted with {column["flops_counter"]}')
    if args.reference:
        print(f'max |vertices(pointhmr) - vertices(official-style)| = {difference:.3e} m (eval mode, same weights)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
