"""Measure how far the 'official' crop (integer box + resize) is from the 'exact' crop, and the 2D-label quirk.

    python tools/analysis_tools/crop_differences.py [--images a.jpg b.jpg] [--boxes 200] [--seed 0]

Prints, over random boxes on real photos (default: matplotlib's sample photo): the official box corners' offsets from
the exact box in crop pixels, grey-level differences between the two crops (no rotation and rotated), the shift of
the official pixels relative to the exact ones, and the official "truncate then +1" 2D-label offset.
"""
import argparse
from pathlib import Path
from typing import List

import cv2
import numpy as np

from pointhmr.datasets.transforms import MeshTopdownAffine
from pointhmr.datasets.transforms.official_crop import official_box


def default_images() -> List[str]:
    import matplotlib
    return [str(Path(matplotlib.get_data_path()) / 'sample_data' / 'grace_hopper.jpg')]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Exact vs official crop: box offsets, grey levels, label quirk.')
    parser.add_argument('--images', nargs='+', default=None, help='photos (default: matplotlib sample photo)')
    parser.add_argument('--boxes', type=int, default=200, help='random boxes per image')
    parser.add_argument('--res', type=int, default=224, help='crop side')
    parser.add_argument('--side-range',
                        type=float,
                        nargs=2,
                        default=(0.4, 1.0),
                        help='box sides drawn in this range times the shorter image side')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    exact = MeshTopdownAffine((args.res, args.res), crop_mode='exact')
    official = MeshTopdownAffine((args.res, args.res), crop_mode='official')
    offsets, offsets_px, shifts, stats = [], [], [], {0: [], 1: []}
    for path in args.images or default_images():
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f'cannot read image {path!r}')
        height, width = img.shape[:2]
        for _ in range(args.boxes):
            side = rng.uniform(*args.side_range) * min(height, width)
            center = rng.uniform([side / 4, side / 4], [width - side / 4, height - side / 4])
            ul, br = official_box(center, side, args.res)
            offsets_px.append(np.concatenate([ul - (center - side / 2), br - (center + side / 2)]))
            offsets.append(offsets_px[-1] * args.res / side)
            rotated = int(rng.random() < 0.5)
            rotation = float(np.clip(rng.normal(0, 30), -60, 60)) if rotated else 0.0
            sample = dict(img=img, bbox_center=center[None], bbox_scale=np.full((1, 2), side), rotation=rotation)
            out_a, out_b = exact(dict(sample)), official(dict(sample))
            a, b = out_a['img'].astype(np.float64), out_b['img'].astype(np.float64)
            # where an official crop pixel shows the image content that the exact crop shows at q
            grid = np.stack(np.meshgrid(np.arange(args.res) + 0.5, np.arange(args.res) + 0.5), -1).reshape(-1, 2)
            m_a, m_b = out_a['crop_matrix'].astype(np.float64), out_b['crop_matrix'].astype(np.float64)
            image_points = np.linalg.solve(m_a[:, :2], (grid - m_a[:, 2]).T).T
            shifts.append(np.linalg.norm(image_points @ m_b[:, :2].T + m_b[:, 2] - grid, axis=1).mean())
            stats[rotated].append((np.abs(a - b).max(), np.abs(a - b).mean()))
    offsets = np.asarray(offsets)
    print(f'official box corners - exact box corners: {offsets.min():+.2f} .. {offsets.max():+.2f} crop px '
          f'(mean {offsets.mean():+.2f}, {len(offsets)} boxes); in image px {np.min(offsets_px):+.2f} .. '
          f'{np.max(offsets_px):+.2f}')
    print(f'content shift official vs exact (mean over the crop): {np.min(shifts):.2f} .. {np.max(shifts):.2f} '
          f'crop px (average {np.mean(shifts):.2f})')
    for rotated, name in ((0, 'no rotation'), (1, 'rotated')):
        values = np.asarray(stats[rotated])
        if len(values):
            print(f'grey levels exact vs official, {name}: max {values[:, 0].max():.0f}, per-crop mean '
                  f'{values[:, 1].min():.2f} .. {values[:, 1].max():.2f} (average {values[:, 1].mean():.2f}, '
                  f'{len(values)} crops)')
    points = rng.uniform(0, args.res, (100000, 2))
    quirk = np.trunc(points) + 1 - points
    print(f'official 2D labels (truncate, +1) - exact labels: {quirk.min():+.2f} .. {quirk.max():+.2f} px, mean '
          f'{quirk.mean():+.3f} px per coordinate ({quirk.mean() * 2 / args.res:+.4f} in [-1, 1] units)')
    gains = rng.uniform(0.6, 1.4, (100000, 3))
    print(f'pixel noise rgb vs bgr: same distribution; a given draw swaps the B and R gains, mean |g_R - g_B| = '
          f'{np.abs(gains[:, 0] - gains[:, 2]).mean():.3f}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
