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

* ``<stem>_mesh.jpg``: mesh overlay (all people, nearer in front) and, unless ``--no-side-view``, a side view (drawn
  at most 1920 px on the long side);
* ``<stem>_results.npz`` / ``.json``: vertices (pelvis-centred metres, camera frame x right, y down), 3D joints, 2D
  keypoints, cameras, boxes, ... (``pointhmr.apis.results.RESULT_FIELDS``), nearest person first;
* ``meshes/<stem>_person<i>.obj|ply`` (``--export``).

A video gives ``<stem>_mesh.mp4`` and one ``_results.npz`` / ``.json`` with a ``frame_index`` and a ``track_id`` per
person: people are tracked across frames (``--track-*``) and each track is smoothed over time (``--smooth``, One-Euro
by default for videos); ``tracks/<stem>_track<id>.npz`` holds each track's results with its frame indices.
``--fit-params`` adds the fitted SMPL (or MANO) parameters to the results and writes an animation-ready file per
person (``params/<stem>_person<i>_smpl.npz``; per track ``params/<stem>_track<id>_smpl.npz``), see the README.
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
    parser.add_argument('checkpoint',
                        nargs='?',
                        default=None,
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
    add_param_and_video_arguments(parser)
    parser.add_argument('--backend',
                        choices=('pytorch', 'onnxruntime'),
                        default='pytorch',
                        help='run the network in PyTorch (CHECKPOINT) or onnxruntime (--onnx)')
    parser.add_argument('--onnx',
                        default=None,
                        help='.onnx file for --backend onnxruntime '
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


def add_param_and_video_arguments(parser: argparse.ArgumentParser) -> None:
    """--fit-params and the video tracking / smoothing options."""
    group = parser.add_argument_group('parameters, tracking and smoothing')
    group.add_argument('--fit-params', action='store_true', help='fit SMPL/MANO parameters to every predicted mesh')
    group.add_argument('--smooth',
                       choices=('none', 'oneeuro', 'savgol'),
                       default=None,
                       help='temporal smoothing of each video track (default: oneeuro for videos; images: none)')
    group.add_argument('--smooth-min-cutoff', type=float, default=1.0, help='One-Euro cutoff at rest (Hz)')
    group.add_argument('--smooth-beta', type=float, default=10.0, help='One-Euro speed coefficient')
    group.add_argument('--smooth-window', type=int, default=9, help='Savitzky-Golay window (odd, frames)')
    group.add_argument('--track-iou-thr', type=float, default=0.3, help='min IoU of a box with its track')
    group.add_argument('--track-max-missed',
                       type=int,
                       default=10,
                       help='frames a track may go unseen before it ends (a returning person then gets a new id)')


def export_params(results: Dict[str, np.ndarray], mesh_model, params_dir: Path, stem: str) -> List[str]:
    """One animation-ready parameter file per person of an image."""
    from pointhmr.apis import animation_params, save_animation_params
    from pointhmr.apis.param_fitting import model_type_of
    paths = []
    for i in range(len(results['vertices'])):
        person = {key: value[i] for key, value in results.items() if np.ndim(value) >= 1}
        path = params_dir / f'{stem}_person{i}_{model_type_of(mesh_model)}.npz'
        save_animation_params(path, animation_params(person, mesh_model))
        paths.append(str(path))
    return paths


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
        try:
            boxes = json.load(handle)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f'--bboxes {path}: not valid JSON ({error}); expected e.g. [[x1, y1, x2, y2], ...] or '
                             '{"photo.jpg": [[x1, y1, x2, y2]], "0": [...]}') from error
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
    """Process the images; returns the number that failed (any error: logged, the folder run goes on)."""
    failures = []
    for image_path in images:
        try:
            run_image(inferencer, image_path, args, box_file, out_dir)
        except Exception as error:  # noqa: BLE001 - one bad image (or a renderer failure) does not stop a folder
            print(f'error: skipping {image_path}: {type(error).__name__}: {error}', file=sys.stderr)
            failures.append(image_path.name)
    if failures:
        print(f'{len(failures)} of {len(images)} image(s) failed: {", ".join(failures)}', file=sys.stderr)
    return len(failures)


def run_image(inferencer, image_path: Path, args, box_file, out_dir: Path) -> None:
    """Predict, draw and write the results of one image."""
    from pointhmr.apis import load_image
    export = args.export or 'obj'
    image, _ = load_image(image_path)
    boxes = boxes_for(box_file, image_path.name, image_path.stem)
    results = inferencer(image, bboxes=boxes, bbox_format=args.bbox_format)
    num = len(results['vertices'])
    if args.fit_params:
        results = inferencer.fit_params(results, image.shape[:2])
        export_params(results, inferencer.model.head.body_model, out_dir / 'params', image_path.stem)
    drawn = inferencer.visualize(image, results, side_view=args.side_view)
    out_image = out_dir / f'{image_path.stem}_mesh.jpg'
    cv2.imwrite(str(out_image), drawn)
    meshes = export_meshes(results, inferencer.faces, out_dir /
                           'meshes', image_path.stem, export) if export != 'none' else []
    write_results(results,
                  out_dir,
                  image_path.stem,
                  image_path=str(image_path),
                  mesh_type=inferencer.mesh_type,
                  random_weights=inferencer.random_weights,
                  mesh_files=meshes or None)
    if num == 0:
        print(f'{image_path}: no person found (empty results written); {out_image}')
    else:
        print(f'{image_path}: {num} person(s) -> {out_image}, {image_path.stem}_results.npz/.json, '
              f'{len(meshes)} mesh file(s)')


def run_video(inferencer, video: Path, args, box_file, out_dir: Path) -> int:
    """Track, smooth and render the frames into one video, one result file and one file per track; returns the
    number of person detections."""
    from mmengine.utils import ProgressBar

    from pointhmr.apis import BoxTracker, assign_track_ids, group_by_track, scatter_tracks, smooth_tracks
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f'cannot open video {video} (unsupported codec, corrupt or empty file)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    total = min(total, args.max_frames) if args.max_frames is not None else total
    tracker = BoxTracker(iou_thr=args.track_iou_thr, max_missed=args.track_max_missed)
    per_frame, image_shape = [], None
    print(f'{video}: inference')
    progress = ProgressBar(max(total, 0), file=sys.stdout)  # shows frames done and frames per second
    try:
        while args.max_frames is None or len(per_frame) < args.max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            image_shape = frame.shape[:2]
            results = inferencer(frame, bboxes=boxes_for(box_file, str(len(per_frame))), bbox_format=args.bbox_format)
            per_frame.append(assign_track_ids(results, tracker, len(per_frame)))
            progress.update()
    finally:
        capture.release()
    print()
    if not per_frame:
        raise ValueError(f'video {video} has no readable frames')
    method = args.smooth or 'oneeuro'
    tracks = smooth_tracks(group_by_track(per_frame),
                           method,
                           fps=fps,
                           min_cutoff=args.smooth_min_cutoff,
                           beta=args.smooth_beta,
                           window=args.smooth_window)
    per_frame = scatter_tracks(per_frame, tracks)
    mesh_model = inferencer.model.head.body_model
    if args.fit_params:  # one batched fit over all frames (much faster than frame by frame)
        counts = np.cumsum([len(results['vertices']) for results in per_frame])[:-1]
        fitted = inferencer.fit_params(stack_frames(per_frame), image_shape)
        per_frame = [{key: value
                      for key, value in zip(fitted, row)}
                     for row in zip(*(np.split(value, counts) for value in fitted.values()))]
        tracks = group_by_track(per_frame)
    write_video(inferencer, video, per_frame, fps, args, out_dir)
    write_tracks(tracks, mesh_model, out_dir, video.stem, fps, args.fit_params)
    stacked = stack_frames(per_frame)
    write_results(stacked,
                  out_dir,
                  video.stem,
                  video_path=str(video),
                  num_frames=len(per_frame),
                  random_weights=inferencer.random_weights,
                  smoothing=method)
    num = len(stacked['vertices'])
    print(f'{video}: {len(per_frame)} frame(s), {num} person detection(s) in {len(tracks)} track(s) -> '
          f'{out_dir / (video.stem + "_mesh.mp4")}')
    if num == 0:
        print(f'{video}: no person found in any frame (empty results written)')
    return num


def stack_frames(per_frame: List[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """The per-person arrays of all frames concatenated (frame order)."""
    keys = [key for key in per_frame[0] if np.ndim(per_frame[0][key]) >= 1]
    return {key: np.concatenate([results[key] for results in per_frame]) for key in keys}


def write_video(inferencer, video: Path, per_frame: List[Dict[str, np.ndarray]], fps: float, args,
                out_dir: Path) -> None:
    """Second pass over the video: draw the (smoothed) results of every frame into ``<stem>_mesh.mp4``."""
    from mmengine.utils import ProgressBar
    export = args.export or 'none'
    capture = cv2.VideoCapture(str(video))
    writer = None
    print(f'{video}: rendering')
    progress = ProgressBar(len(per_frame), file=sys.stdout)
    try:
        for index, results in enumerate(per_frame):
            ok, frame = capture.read()
            if not ok:
                raise ValueError(f'video {video} ended early on the rendering pass (frame {index})')
            drawn = inferencer.visualize(frame, results, side_view=args.side_view)
            if writer is None:
                writer = cv2.VideoWriter(str(out_dir / f'{video.stem}_mesh.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (drawn.shape[1], drawn.shape[0]))
            writer.write(drawn)
            if export != 'none':
                export_meshes(results, inferencer.faces, out_dir / 'meshes', f'{video.stem}_f{index:06d}', export)
            progress.update()
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    print()


def write_tracks(tracks: Dict[int, Dict[str, np.ndarray]], mesh_model, out_dir: Path, stem: str, fps: float,
                 fit_params: bool) -> None:
    """``tracks/<stem>_track<id>.npz`` per track and, with fitted parameters,
    ``params/<stem>_track<id>_<model>.npz``."""
    from pointhmr.apis import animation_params, save_animation_params
    from pointhmr.apis.param_fitting import model_type_of
    from pointhmr.visualization import save_results_npz
    for track_id, track in tracks.items():
        save_results_npz(out_dir / 'tracks' / f'{stem}_track{track_id}.npz', dict(track, fps=np.asarray(fps)))
        if fit_params:
            save_animation_params(out_dir / 'params' / f'{stem}_track{track_id}_{model_type_of(mesh_model)}.npz',
                                  animation_params(track, mesh_model, track['frame_index'], fps))


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
    if kind == 'images' and args.smooth not in (None, 'none'):
        print(f'note: --smooth {args.smooth} applies to videos only; images are not smoothed')
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
