"""Person boxes from an mmdet detector (``mmdet.apis.inference_detector``)."""
from typing import Optional, Tuple

import numpy as np
import torch.nn as nn
from mmengine.registry import DefaultScope

from pointhmr.utils.arrays import to_numpy
from .inference import NO_CHECKPOINT, ImageInput, load_image


def init_person_detector(config, checkpoint: Optional[str] = None, device: str = 'cpu') -> nn.Module:
    """Build an mmdet detector; ``checkpoint`` None or 'none' keeps random weights (no pretrained download)."""
    from mmdet.apis import init_detector
    from mmengine import Config
    cfg = Config.fromfile(config) if not isinstance(config, Config) else config
    if checkpoint in NO_CHECKPOINT:
        checkpoint = None
        if 'backbone' in cfg.model:
            cfg.model.backbone.init_cfg = None
    # init_detector switches the process-wide default scope to mmdet; keep the caller's scope (mmpose) afterwards
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
        return init_detector(cfg, checkpoint, device=device)


def detect_people(detector: nn.Module,
                  img: ImageInput,
                  score_thr: float = 0.5,
                  category: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Return person boxes (N, 4) float32 xyxy and scores (N,), best first.

    Keeps detections of class ``category`` (0 = person for COCO-trained detectors) with score > ``score_thr``.
    """
    from mmdet.apis import inference_detector
    image, _ = load_image(img)
    with DefaultScope.overwrite_default_scope(detector.cfg.get('default_scope', 'mmdet')):
        result = inference_detector(detector, image)
    pred = result.pred_instances
    boxes, scores, labels = to_numpy(pred.bboxes), to_numpy(pred.scores), to_numpy(pred.labels)
    keep = (labels == category) & (scores > score_thr)
    keep &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores = boxes[keep].astype(np.float32).reshape(-1, 4), scores[keep].astype(np.float32)
    order = np.argsort(-scores, kind='stable')
    return boxes[order], scores[order]
