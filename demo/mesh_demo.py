"""PointHMR mesh demo: image, folder of images or video -> rendered meshes, per-person meshes and result files.

Examples::

    python demo/mesh_demo.py configs/pointhmr/<config>.py work_dirs/best.pth --input photo.jpg --output-dir out
    python demo/mesh_demo.py CONFIG CKPT --input frames/ --output-dir out \\
        --det-config <mmdet config> --det-checkpoint <mmdet weights>
    python demo/mesh_demo.py CONFIG none --input clip.mp4 --output-dir out --bboxes boxes.json   # random weights
    python demo/mesh_demo.py CONFIG --backend onnxruntime --onnx pointhmr.onnx --input photo.jpg --output-dir out

Person boxes come from the mmdet detector when given, else from ``--bboxes`` (JSON: a list of [x1, y1, x2, y2]
boxes used for every image/frame, or a dict keyed by image file name, image stem or frame index), else the whole
image is one person. Per image ``<stem>`` it writes to the output folder:

* ``<stem>_mesh.jpg``: mesh overlay (all people, nearer in front) and, unless ``--no-side-view``, a side view;
* ``<stem>_results.npz`` / ``.json``: vertices (pelvis-centred metres, camera frame x right, y down), 3D joints, 2D
  keypoints, cameras, boxes, ... (``pointhmr.apis.results.RESULT_FIELDS``), nearest person first;
* ``meshes/<stem>_person<i>.obj|ply`` (``--export``).

A video gives ``<stem>_mesh.mp4`` and one ``_results.npz`` / ``.json`` with a ``frame_index`` per person.
CHECKPOINT ``none`` keeps random weights (smoke tests); the outputs say so.
"""
import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='PointHMR config file')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help="checkpoint file, or 'none' for random weights (smoke tests); not used by onnxruntime")
    parser.add_argument('--input', required=True, help='image file, folder of images, or video file')
    parser.add_argument('--output-dir', required=True, help='folder for the rendered images and result files')
    parser.add_argument('--det-config', default=None, help='mmdet config of a person detector')
    parser.add_argument('--det-checkpoint', default=None, help="mmdet checkpoint ('none' = random weights)")
    parser.add_argument('--det-score-thr', type=float, default=0.5, help='minimum person detection score')
    parser.add_argument('--det-category', type=int, default=0, help='detector class id of a person (COCO: 0)')
    parser.add_argument('--bboxes', default=None, help='JSON file of person boxes (see the module docstring)')
    parser.add_argument('--bbox-format', choices=('xyxy', 'xywh'), default='xyxy')
    parser.add_argument('--device', default='cpu', help="torch device, e.g. 'cpu' or 'cuda:0'")
    parser.add_argument('--export',
                        choices=('obj', 'ply', 'none'),
                        default=None,
                        help='per-person mesh files (default: obj for images, none for videos)')
    parser.add_argument('--side-view',
                        action=argparse.BooleanOptionalAction,
                        default=True,
                        help='append a side-view panel to the rendered images')
    parser.add_argument('--max-frames', type=int, default=None, help='stop a video after this many frames')
    parser.add_argument('--backend', choices=('pytorch', 'onnxruntime'), default='pytorch',
                        help='run the network in PyTorch (CHECKPOINT) or onnxruntime (--onnx)')
    parser.add_argument('--onnx', default=None, help='.onnx file for --backend onnxruntime '
                        '(tools/deployment/pytorch2onnx.py, exported from CONFIG)')
    args = parser.parse_args(argv)
    if args.backend == 'onnxruntime' and not args.onnx:
        parser.error('--backend onnxruntime needs --onnx OUT.onnx (export it with tools/deployment/pytorch2onnx.py)')
    if args.backend == 'pytorch' and args.checkpoint is None:
        parser.error("CHECKPOINT is required with --backend pytorch ('none' = random weights)")
    if args.onnx and args.backend != 'onnxruntime':
        parser.error('--onnx needs --backend onnxruntime')
    if args.det_config and args.bboxes:
        parser.error('give either --det-config (detector boxes) or --bboxes (box file), not both')
    if args.det_checkpoint and not args.det_config:
        parser.error('--det-checkpoint needs --det-config')
    return args


def list_inputs(path: Path):
    """('video', path) or ('images', sorted image paths)."""
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        return 'images', images
    if not path.is_file():
        raise FileNotFoundError(f'--input not found: {path}')
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return 'video', path
    return 'images', [path]


def load_box_file(path: str):
    """The parsed JSON box file: a list (same boxes everywhere) or a dict keyed by name / stem / frame index."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'--bboxes file not found: {path}')
    with open(path, encoding='utf-8') as handle:
        boxes = json.load(handle)
    if not isinstance(boxes, (list, dict)):
        raise ValueError(f'{path}: expected a JSON list of boxes or a dict name -> boxes, got {type(boxes).__name__}')
    return boxes


def boxes_for(box_file, *keys: str):
    """Boxes for an image (keys: file name, stem) or frame (key: index); None = whole image; [] = nobody."""
    if box_file is None:
        return None
    if isinstance(box_file, list):
        return box_file
    for key in keys:
        if key in box_file:
            return box_file[key]
    return []


def export_meshes(results: Dict[str, np.ndarray], faces: np.ndarray, mesh_dir: Path, stem: str, fmt: str) -> List[str]:
    from pointhmr.visualization import save_obj, save_ply
    paths = []
    for i, vertices in enumerate(results['vertices']):
        path = mesh_dir / f'{stem}_person{i}.{fmt}'
        (save_obj if fmt == 'obj' else save_ply)(path, vertices, faces)
        paths.append(str(path))
    return paths


def write_results(results: Dict[str, np.ndarray], out_dir: Path, stem: str, **extra) -> None:
    from pointhmr.apis import mesh_results_to_json
    from pointhmr.visualization import save_results_json, save_results_npz
    arrays = dict(results)
    arrays.update({key: np.asarray(value) for key, value in extra.items() if value is not None})
    save_results_npz(out_dir / f'{stem}_results.npz', arrays)
    save_results_json(out_dir / f'{stem}_results.json', mesh_results_to_json(results, **extra))


def run_images(inferencer, images: List[Path], args, box_file, out_dir: Path) -> int:
    """Process the images; returns the number that failed (unreadable image or bad boxes)."""
    from pointhmr.apis import load_image
    export = args.export or 'obj'
    failures = 0
    for image_path in images:
        try:
            image, _ = load_image(image_path)
            boxes = boxes_for(box_file, image_path.name, image_path.stem)
            results = inferencer(image, bboxes=boxes, bbox_format=args.bbox_format)
        except ValueError as error:  # one unreadable image or bad box entry does not stop a folder
            print(f'error: skipping {image_path}: {error}', file=sys.stderr)
            failures += 1
            continue
        num = len(results['vertices'])
        drawn = inferencer.visualize(image, results, side_view=args.side_view)
        out_image = out_dir / f'{image_path.stem}_mesh.jpg'
        cv2.imwrite(str(out_image), drawn)
        meshes = export_meshes(results, inferencer.faces, out_dir /
                               'meshes', image_path.stem, export) if export != 'none' else []
        write_results(results,
                      out_dir,
                      image_path.stem,
                      image_path=str(image_path),
                      random_weights=inferencer.random_weights,
                      mesh_files=meshes or None)
        if num == 0:
            print(f'{image_path}: no person found (empty results written); {out_image}')
        else:
            print(f'{image_path}: {num} person(s) -> {out_image}, {image_path.stem}_results.npz/.json, '
                  f'{len(meshes)} mesh file(s)')
    return failures


def run_video(inferencer, video: Path, args, box_file, out_dir: Path) -> int:
    """Process the frames into one video and one result file; returns the number of person detections."""
    from pointhmr.apis import RESULT_FIELDS
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f'cannot open video {video} (unsupported codec or corrupt file)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    export = args.export or 'none'
    writer, frames, per_frame = None, 0, []
    out_video = out_dir / f'{video.stem}_mesh.mp4'
    try:
        while args.max_frames is None or frames < args.max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            results = inferencer(frame, bboxes=boxes_for(box_file, str(frames)), bbox_format=args.bbox_format)
            results['frame_index'] = np.full(len(results['vertices']), frames, dtype=np.int64)
            drawn = inferencer.visualize(frame, results, side_view=args.side_view)
            if writer is None:
                writer = cv2.VideoWriter(str(out_video), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (drawn.shape[1], drawn.shape[0]))
            writer.write(drawn)
            if export != 'none':
                export_meshes(results, inferencer.faces, out_dir / 'meshes', f'{video.stem}_f{frames:06d}', export)
            per_frame.append(results)
            frames += 1
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    if frames == 0:
        raise ValueError(f'video {video} has no readable frames')
    stacked = {key: np.concatenate([r[key] for r in per_frame]) for key in (*RESULT_FIELDS, 'frame_index')}
    write_results(stacked,
                  out_dir,
                  video.stem,
                  video_path=str(video),
                  num_frames=frames,
                  random_weights=inferencer.random_weights)
    num = len(stacked['vertices'])
    print(f'{video}: {frames} frame(s), {num} person detection(s) -> {out_video}')
    if num == 0:
        print(f'{video}: no person found in any frame (empty results written)')
    return num


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        kind, inputs = list_inputs(Path(args.input))
        box_file = load_box_file(args.bboxes) if args.bboxes else None
        if kind == 'images' and not inputs:
            print(f'no images ({", ".join(IMAGE_EXTENSIONS)}) in {args.input}; nothing to do')
            return 0
        from pointhmr.apis import MeshInferencer
        inferencer = MeshInferencer(args.config,
                                    args.checkpoint,
                                    device=args.device,
                                    det_config=args.det_config,
                                    det_checkpoint=args.det_checkpoint,
                                    det_score_thr=args.det_score_thr,
                                    det_category=args.det_category,
                                    backend=args.backend,
                                    onnx_file=args.onnx)
    except (FileNotFoundError, ValueError, ImportError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if inferencer.random_weights:
        print("WARNING: checkpoint 'none': the model has random weights, the meshes are meaningless (smoke test)")
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if kind == 'video':
            run_video(inferencer, inputs, args, box_file, out_dir)
            return 0
        return 1 if run_images(inferencer, inputs, args, box_file, out_dir) else 0
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
