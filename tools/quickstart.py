"""The main job on the embedded default, end to end on a CPU: data -> training -> evaluation -> rendered results.

    .venv/bin/python tools/quickstart.py [--work-dir work_dirs/quickstart] [--iters 800] [--train 2000 --test 200]

1. writes the synthetic dataset (rendered images of the embedded synthetic SMPL-format body, METRO TSV format) to
   ``data/synthetic`` unless it is already there (``tools/dataset_converters/make_synthetic_dataset.py``);
2. trains the light PointHMR config for ``--iters`` iterations, evaluates it on the held-out split and prints its
   MPJPE / PA-MPJPE / MPVPE next to a mean-pose baseline (``tools/train.py``);
3. renders the trained model's meshes on a few held-out images (front overlay + side view) and exports them
   (``demo/mesh_demo.py``).

Every step is a tool of this repository run as a subprocess, so the quick start also shows how to use them.
"""
import argparse
import base64
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'configs/pointhmr/pointhmr_hrnet-light_1xb8-800it_synthetic-224.py'
#: bodies of the synthetic dataset turn at most this many degrees from facing the camera (make_synthetic_dataset.py)
MAX_TURN = 60.0
#: summary format per metric (decimals, unit); the rest are errors in millimetres
UNITS = {'EdgeErr%': (1, ' %'), 'NormalCos': (3, ''), 'F@5mm': (3, ''), 'F@15mm': (3, '')}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='pointhmr quick start on the embedded synthetic body and dataset')
    parser.add_argument('--work-dir', default='work_dirs/quickstart', help='logs, checkpoints and rendered results')
    parser.add_argument('--data-dir', default='data/synthetic', help='where the synthetic dataset is (or is written)')
    parser.add_argument('--train', type=int, default=2000, help='synthetic training images')
    parser.add_argument('--test', type=int, default=200, help='synthetic held-out images')
    parser.add_argument('--iters', type=int, default=800, help='training iterations (batch 8; the config\'s max_iters)')
    parser.add_argument('--num-render', type=int, default=4, help='held-out images to render')
    return parser.parse_args(argv)


def run(step: str, command: List[str]) -> None:
    """Run one tool of this repository, streaming its output; stop with its exit code on failure."""
    print(f'\n=== {step}\n$ {" ".join(command)}', flush=True)
    start = time.time()
    result = subprocess.run([sys.executable] + command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f'quickstart: step "{step}" failed with exit code {result.returncode}')
    print(f'=== {step}: done in {time.time() - start:.0f} s', flush=True)


def dataset_is_complete(data_dir: Path, train: int, test: int) -> bool:
    meta = data_dir / 'synthetic_meta.json'
    if not (meta.is_file() and (data_dir / 'train.yaml').is_file() and (data_dir / 'test.yaml').is_file()):
        return False
    meta = json.loads(meta.read_text())
    splits = meta.get('splits', {})
    # older datasets (full turns, one colour per body, cluttered backgrounds) lack these keys: regenerate them
    return (splits.get('train') == train and splits.get('test') == test and meta.get('max_turn') == MAX_TURN
            and meta.get('part_colors') is True and meta.get('background') == 'plain')


def export_render_inputs(data_dir: Path, out_dir: Path, count: int) -> Path:
    """Write ``count`` held-out images as JPEG files plus their person boxes (``boxes.json`` for the demo)."""
    import pointhmr  # noqa: F401  (registers the dataset)
    from pointhmr.datasets.mesh_tsv_dataset import MeshTSVDataset
    from pointhmr.datasets.tsv_file import TSVFile

    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = MeshTSVDataset(ann_file=str(data_dir / 'test.yaml'), test_mode=True)
    images = TSVFile(str(data_dir / 'test.img.tsv'))
    boxes = {}
    for index in range(min(count, len(dataset))):
        info = dataset.get_data_info(index)
        name = f'held_out_{index:03d}.jpg'
        (out_dir / name).write_bytes(base64.b64decode(images[info['id']][-1]))
        boxes[name] = [[float(v) for v in info['bbox'][0]]]
    (out_dir / 'boxes.json').write_text(json.dumps(boxes, indent=1))
    return out_dir


def main(argv=None) -> None:
    args = parse_args(argv)
    work_dir, data_dir = ROOT / args.work_dir, ROOT / args.data_dir
    if dataset_is_complete(data_dir, args.train, args.test):
        print(f'=== synthetic dataset: using {data_dir}')
    else:
        run('synthetic dataset', [
            'tools/dataset_converters/make_synthetic_dataset.py', '--out',
            str(data_dir), '--train',
            str(args.train), '--test',
            str(args.test), '--seed', '0', '--max-turn',
            str(MAX_TURN)
        ])
    run('train + evaluate', [
        'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--cfg-options', f'train_cfg.max_iters={args.iters}', f'train_cfg.val_interval={args.iters}',
        f'default_hooks.checkpoint.interval={args.iters}', f'param_scheduler.0.milestones=[{int(args.iters * 0.75)}]',
        f'train_dataloader.dataset.data_root={data_dir}/', f'val_dataloader.dataset.data_root={data_dir}/',
        f'test_dataloader.dataset.data_root={data_dir}/'
    ])
    checkpoint = work_dir / f'iter_{args.iters}.pth'
    if not checkpoint.is_file():
        sys.exit(f'quickstart: expected checkpoint {checkpoint} after training')
    inputs = export_render_inputs(data_dir, work_dir / 'held_out_images', args.num_render)
    run('render results', [
        'demo/mesh_demo.py', CONFIG,
        str(checkpoint), '--input',
        str(inputs), '--bboxes',
        str(inputs / 'boxes.json'), '--output-dir',
        str(work_dir / 'results')
    ])
    comparison = work_dir / 'mean_pose_baseline.json'
    print('\n=== summary')
    if comparison.is_file():
        numbers = json.loads(comparison.read_text())
        for key, value in numbers['model'].items():
            name = key.split('/')[-1]
            if name in numbers['baseline']:
                digits, unit = UNITS.get(name, (1, ' mm'))
                print(f'  {name:>9}: model {value:8.{digits}f}{unit}   mean-pose baseline '
                      f'{numbers["baseline"][name]:8.{digits}f}{unit}')
    print(f'  checkpoint: {checkpoint}\n  rendered results: {work_dir / "results"}')


if __name__ == '__main__':
    main()
