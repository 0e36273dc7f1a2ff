"""Benchmark :func:`pointhmr.apis.fit_body_params` on meshes generated from random plausible SMPL parameters.

Example (one CPU thread, a shared machine)::

    python tools/analysis_tools/fit_benchmark.py --num-people 32 --batch-size 16
    python tools/analysis_tools/fit_benchmark.py --noise-mm 10 --max-turn 180      # noisy targets, any facing

The ground-truth meshes come from the body model (the embedded synthetic body, or ``--model-path`` for real SMPL
files) with poses and shapes from the synthetic dataset's sampler and a random translation. It prints the mean and
worst vertex error of the fitted meshes (mm, against the noise-free targets), the mean joint-angle error (degrees,
geodesic, over all 24 joints and over the joints the sampler moves), the betas error and the time per person.

The machine is shared, so absolute times vary with its load: the script also times one forward pass of the body
model per person at the same batch size (``reference``), interleaved with the fit, and prints the fit time as a
multiple of it.
"""
import argparse
import time
from typing import Dict, List

import numpy as np
import torch


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-people', type=int, default=32, help='meshes to fit')
    parser.add_argument('--batch-size', type=int, default=16, help='people fitted together')
    parser.add_argument('--iters', type=int, default=5, help='Levenberg-Marquardt iterations of the fit')
    parser.add_argument('--noise-mm', type=float, default=0.0, help='Gaussian noise (std, mm) added to the targets')
    parser.add_argument('--max-turn', type=float, default=60.0, help='turn range about the vertical axis, degrees')
    parser.add_argument('--repeats', type=int, default=3, help='timing repetitions (the median is printed)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--model-path', default=None, help='real SMPL model file/folder (default: synthetic body)')
    return parser.parse_args()


def make_targets(body_model, num: int, seed: int, max_turn: float) -> Dict[str, torch.Tensor]:
    from pointhmr.datasets.synthetic.pose_sampler import sample_smpl_parameters
    rng = np.random.default_rng(seed)
    params = [sample_smpl_parameters(rng, max_turn=max_turn) for _ in range(num)]
    pose = torch.tensor(np.stack([p[0] for p in params]), dtype=torch.float32)
    betas = torch.tensor(np.stack([p[1] for p in params]), dtype=torch.float32)
    transl = torch.tensor(rng.normal(0.0, 0.2, size=(num, 3)), dtype=torch.float32)
    with torch.no_grad():
        vertices = body_model(pose, betas) + transl[:, None]
    return dict(pose=pose, betas=betas, transl=transl, vertices=vertices)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    from pointhmr.apis.param_fitting import fit_body_params
    from pointhmr.body import SMPLBodyModel
    from pointhmr.datasets.synthetic.pose_sampler import JOINT_RANGES
    from pointhmr.utils.rotation import axis_angle_to_matrix, rotation_angle_between

    body_model = SMPLBodyModel(model_path=args.model_path)
    gt = make_targets(body_model, args.num_people, args.seed, args.max_turn)
    noise = torch.from_numpy(
        np.random.default_rng(args.seed + 1).normal(0.0, args.noise_mm / 1000.0, size=gt['vertices'].shape)).float()
    targets = gt['vertices'] + noise
    zeros_pose = torch.zeros(args.batch_size,
                             body_model.num_pose_params if hasattr(body_model, 'num_pose_params') else 72)
    zeros_betas = torch.zeros(args.batch_size, body_model.num_betas)

    fit_times: List[float] = []
    ref_times: List[float] = []
    fitted = None
    for _ in range(max(args.repeats, 1)):
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(0, args.num_people, args.batch_size):
                body_model(zeros_pose, zeros_betas)
        ref_times.append((time.perf_counter() - start) / args.num_people)
        start = time.perf_counter()
        fitted = fit_body_params(targets, body_model, num_iters=args.iters, batch_size=args.batch_size)
        fit_times.append((time.perf_counter() - start) / args.num_people)

    error = (fitted['vertices'] - gt['vertices']).norm(dim=-1).mean(-1) * 1000.0
    num_joints = gt['pose'].shape[1] // 3
    pose_fit = torch.cat([fitted['global_orient'], fitted['body_pose']], 1).reshape(-1, num_joints, 3)
    angles = torch.rad2deg(
        rotation_angle_between(axis_angle_to_matrix(gt['pose'].reshape(-1, num_joints, 3)),
                               axis_angle_to_matrix(pose_fit)))
    moved = [0] + sorted(JOINT_RANGES)
    fit_time, ref_time = float(np.median(fit_times)), float(np.median(ref_times))
    print(f'body model: {body_model.model_file}')
    print(f'people: {args.num_people} (batch {args.batch_size}), iterations: {args.iters}, noise: {args.noise_mm} mm, '
          f'turn: +-{args.max_turn} deg, threads: {args.threads}')
    print(f'vertex error (mm, vs noise-free mesh): mean {error.mean():.3f}  max {error.max():.3f}')
    print(f'vertex error to the fitted target (mm): mean {fitted["vertex_error"].mean():.3f}')
    print(f'joint-angle error (deg): mean over all {num_joints} joints {angles.mean():.3f}, over the {len(moved)} '
          f'posed joints {angles[:, moved].mean():.3f}, global orientation {angles[:, 0].mean():.3f}')
    print(f'betas error (mean abs): {(fitted["betas"] - gt["betas"]).abs().mean():.4f}  translation error (mm): '
          f'{(fitted["transl"] - gt["transl"]).norm(dim=-1).mean() * 1000:.3f}')
    print(f'time per person: {fit_time * 1000:.1f} ms (median of {len(fit_times)})   reference (one body-model forward '
          f'per person): {ref_time * 1000:.2f} ms   ratio: {fit_time / ref_time:.1f} forward passes')


if __name__ == '__main__':
    main()
