"""Mesh inference around ``mmpose.apis``: model loading, validated inputs, one PoseDataSample per person."""
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch.nn as nn
from mmengine import Config
from mmpose.apis import inference_topdown, init_model
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import bbox_xywh2xyxy

from pointhmr.utils.arrays import to_numpy
from ..engine.checkpoint_io import drop_config_text, load_checkpoint_file, load_model_weights

ImageInput = Union[str, os.PathLike, np.ndarray]
#: checkpoint values meaning "no weights": the model keeps its random initialisation (smoke tests only)
NO_CHECKPOINT = (None, '', 'none', 'None')


def load_image(img: ImageInput) -> Tuple[np.ndarray, Optional[str]]:
    """Return (BGR uint8 (H, W, 3) image, its path or None), failing clearly on missing or undecodable files."""
    if isinstance(img, (str, os.PathLike)):
        path = str(img)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'image file not found: {path}')
        with open(path, 'rb') as handle:
            content = handle.read()
        try:
            image = mmcv.imfrombytes(content, flag='color', channel_order='bgr', backend='cv2')
        except Exception as error:  # cv2 may raise on some corrupt streams instead of returning None
            raise ValueError(f'cannot decode image file {path}: {error}') from error
        if image is None or image.size == 0:
            raise ValueError(f'cannot decode image file {path}: not a readable image (corrupt or unsupported)')
        return image, path
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
            raise ValueError(f'image array must be (H, W, 3) BGR, got shape {img.shape}')
        if img.dtype != np.uint8:
            raise ValueError(f'image array must be uint8 (0-255 BGR), got dtype {img.dtype}')
        return img, None
    raise TypeError(f'img must be an image path or an (H, W, 3) uint8 array, got {type(img).__name__}')


def validate_bboxes(bboxes: Optional[Union[Sequence, np.ndarray]], bbox_format: str = 'xyxy') -> Optional[np.ndarray]:
    """Check boxes and return them as float32 (N, 4) xyxy (N may be 0); None stays None (= whole image)."""
    if bbox_format not in ('xyxy', 'xywh'):
        raise ValueError(f"bbox_format must be 'xyxy' or 'xywh', got {bbox_format!r}")
    if bboxes is None:
        return None
    boxes = np.asarray(bboxes, dtype=np.float32)
    if boxes.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'bboxes must have shape (N, 4) ({bbox_format}, one row per person), got {boxes.shape}; '
                         'wrap a single box as [[x1, y1, x2, y2]]')
    if not np.all(np.isfinite(boxes)):
        raise ValueError(f'bboxes contain NaN or inf: {boxes.tolist()}')
    if bbox_format == 'xywh':
        boxes = bbox_xywh2xyxy(boxes).astype(np.float32)
    bad = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    if bad.any():
        raise ValueError(f'bboxes {boxes[bad].tolist()} have no area; expected x1 < x2 and y1 < y2 (xyxy)')
    return boxes


def init_mesh_model(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    cfg_options: Optional[dict] = None,
                    strict: bool = True,
                    deploy: bool = True) -> nn.Module:
    """Build a mesh estimator with ``mmpose.apis.init_model``; ``checkpoint`` None or 'none' keeps random weights.

    The checkpoint is read weights-only and loaded strictly: any missing / unexpected key or shape mismatch raises
    ``CheckpointMismatchError`` listing them all; ``strict=False`` loads the matching tensors and logs the report.
    ``deploy``: switch the model to deploy mode (``model.switch_to_deploy()``, the CPU fast path of the residual conv
    heads); call it again after changing the weights, ``model.train()`` leaves it.
    """
    if checkpoint in NO_CHECKPOINT:
        checkpoint = None
    elif not os.path.isfile(str(checkpoint)):
        raise FileNotFoundError(f'checkpoint file not found: {checkpoint} (pass "none" for random weights)')
    if isinstance(config, (str, Path)) and not os.path.isfile(str(config)):
        raise FileNotFoundError(f'config file not found: {config}')
    config = str(config) if isinstance(config, Path) else config
    model = init_model(config, None, device=device, cfg_options=cfg_options)
    if checkpoint is not None:
        loaded = load_checkpoint_file(checkpoint, map_location='cpu')
        drop_config_text(loaded)
        load_model_weights(model, loaded, checkpoint, strict=strict)
        dataset_meta = (loaded.get('meta') or {}).get('dataset_meta')
        if dataset_meta is not None:  # same priority as mmpose's init_model: checkpoint > config
            model.dataset_meta = dataset_meta
        model.to(device)
    model.random_weights = checkpoint is None
    if deploy:
        model.switch_to_deploy()
    return model


def mesh_faces_of(model: nn.Module) -> np.ndarray:
    """(F, 3) int64 faces of the model's body model (``model.head.body_model.faces``)."""
    body = getattr(getattr(model, 'head', None), 'body_model', None)
    faces = getattr(body, 'faces', None)
    if faces is None:
        raise AttributeError(f'{type(model).__name__} has no head.body_model.faces; pass the mesh faces explicitly')
    return to_numpy(faces, np.int64)


def inference_mesh(model: nn.Module,
                   img: ImageInput,
                   bboxes: Optional[Union[Sequence, np.ndarray]] = None,
                   bbox_format: str = 'xyxy') -> List[PoseDataSample]:
    """Predict one mesh per person box with ``mmpose.apis.inference_topdown``.

    Args:
        model: a PointHMR estimator from :func:`init_mesh_model`.
        img: image path or BGR uint8 (H, W, 3) array.
        bboxes: (N, 4) person boxes; None = the whole image is one person; an empty (0, 4) array = nobody.
        bbox_format: 'xyxy' or 'xywh'.

    Returns:
        One PoseDataSample per box (empty list without boxes). Besides the model's ``pred_instances`` (keypoints,
        keypoints_3d, vertices, camera, bboxes ...), each gets per-person ``input_center`` (1, 2) and ``input_scale``
        (1, 2) so that merged samples (``mmpose.structures.merge_data_samples``) can still be drawn and exported.
    """
    image, path = load_image(img)
    boxes = validate_bboxes(bboxes, bbox_format)
    if boxes is None:
        height, width = image.shape[:2]
        boxes = np.array([[0, 0, width, height]], dtype=np.float32)
    if len(boxes) == 0:
        return []
    samples = inference_topdown(model, image, boxes, bbox_format='xyxy')
    for sample in samples:
        pred = sample.pred_instances
        num = len(pred)
        pred.input_center = np.asarray(sample.metainfo['input_center'], dtype=np.float32).reshape(1, 2).repeat(num, 0)
        pred.input_scale = np.asarray(sample.metainfo['input_scale'], dtype=np.float32).reshape(1, -1).repeat(num, 0)
        if path is not None:
            sample.set_metainfo(dict(img_path=path))
    return samples
