"""MeshInferencer: detector (optional) + PointHMR + rendering, the engine behind demo/mesh_demo.py."""
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np

from pointhmr.visualization.scene import MAX_RENDER_SIDE, bound_render_size, render_people, render_side_view
from .detection import detect_people, init_person_detector
from .inference import ImageInput, inference_mesh, init_mesh_model, load_image, mesh_faces_of, validate_bboxes
from .param_export import add_fitted_params
from .results import collect_mesh_results

#: inference backends: the PyTorch estimator, or an exported .onnx file run by onnxruntime (pointhmr.deployment)
BACKENDS = ('pytorch', 'onnxruntime')


def init_mesh_backend(config,
                      checkpoint: Optional[str] = None,
                      device: str = 'cpu',
                      backend: str = 'pytorch',
                      onnx_file: Optional[str] = None,
                      cfg_options: Optional[dict] = None):
    """The estimator of ``backend``: :func:`init_mesh_model` or an
    :class:`~pointhmr.deployment.ort_backend.OnnxMeshModel` (weights from ``onnx_file``; ``checkpoint`` unused)."""
    if backend == 'pytorch':
        return init_mesh_model(config, checkpoint, device=device, cfg_options=cfg_options)
    if backend != 'onnxruntime':
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if not onnx_file:
        raise ValueError('the onnxruntime backend needs the exported model: pass onnx_file (demo: --onnx OUT.onnx, '
                         'from tools/deployment/pytorch2onnx.py)')
    from mmengine import Config

    from pointhmr.deployment.ort_backend import OnnxMeshModel
    if cfg_options:
        config = Config.fromfile(str(config)) if not isinstance(config, Config) else config
        config.merge_from_dict(cfg_options)
    return OnnxMeshModel(config, onnx_file, device=device)


class MeshInferencer:
    """Predict and draw the meshes of the people in an image.

    Args:
        config: PointHMR config (path or Config).
        checkpoint: weights; None or 'none' = random weights (smoke tests; results are meaningless).
        device: torch device, e.g. 'cpu'.
        det_config / det_checkpoint: optional mmdet person detector; without it, boxes come from the caller or the
            whole image is one person.
        det_score_thr / det_category: keep detections of this class (0 = COCO person) above this score.
        cfg_options: overrides merged into the PointHMR config.
        backend: 'pytorch' or 'onnxruntime' (then ``onnx_file`` is the exported model and ``checkpoint`` is unused).
        onnx_file: .onnx file of the onnxruntime backend (``tools/deployment/pytorch2onnx.py``).
    """

    def __init__(self,
                 config,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 det_config=None,
                 det_checkpoint: Optional[str] = None,
                 det_score_thr: float = 0.5,
                 det_category: int = 0,
                 cfg_options: Optional[dict] = None,
                 backend: str = 'pytorch',
                 onnx_file: Optional[str] = None) -> None:
        self.model = init_mesh_backend(config, checkpoint, device, backend, onnx_file, cfg_options)
        self.random_weights = bool(getattr(self.model, 'random_weights', False))
        self.faces = mesh_faces_of(self.model)
        self.detector = init_person_detector(det_config, det_checkpoint, device) if det_config else None
        self.det_score_thr = det_score_thr
        self.det_category = det_category

    def __call__(self,
                 img: ImageInput,
                 bboxes: Optional[Union[Sequence, np.ndarray]] = None,
                 bbox_format: str = 'xyxy') -> Dict[str, np.ndarray]:
        """Results of :func:`pointhmr.apis.results.collect_mesh_results` (nearest person first).

        Boxes: ``bboxes`` when given (an empty array means nobody), else the detector's, else the whole image.
        """
        image, _ = load_image(img)
        boxes = validate_bboxes(bboxes, bbox_format)
        scores = None
        if boxes is None and self.detector is not None:
            boxes, scores = detect_people(self.detector, image, self.det_score_thr, self.det_category)
        samples = inference_mesh(self.model, image, boxes)
        if scores is not None:
            for sample, score in zip(samples, scores):
                sample.pred_instances.bbox_scores = np.full(len(sample.pred_instances), score, dtype=np.float32)
        return collect_mesh_results(samples,
                                    image.shape[:2],
                                    num_vertices=self.model_num_vertices,
                                    root_keypoint=int(getattr(self.model.head.body_model, 'root_keypoint', 0)),
                                    num_keypoints=int((self.model.dataset_meta or {}).get('num_keypoints', 17)))

    @property
    def mesh_type(self) -> str:
        """``model_type`` of the model's mesh model ('smpl', 'mano'), recorded in exported results."""
        return str(getattr(self.model.head.body_model, 'model_type', 'mesh'))

    def fit_params(self,
                   results: Dict[str, np.ndarray],
                   image_shape: Optional[Sequence[int]] = None,
                   **fit_kwargs) -> Dict[str, np.ndarray]:
        """``results`` plus the mesh-model parameters fitted to every person's vertices
        (:func:`pointhmr.apis.param_export.add_fitted_params`; ``image_shape`` (H, W) adds ``camera_translation``)."""
        return add_fitted_params(results, self.model.head.body_model, image_shape, **fit_kwargs)

    @property
    def model_num_vertices(self) -> int:
        body = self.model.head.body_model
        return int(getattr(body, 'num_vertices', int(self.faces.max()) + 1))

    #: longest side of a rendered image (:data:`pointhmr.visualization.scene.MAX_RENDER_SIDE`)
    MAX_RENDER_SIDE = MAX_RENDER_SIDE

    def visualize(self,
                  img: ImageInput,
                  results: Dict[str, np.ndarray],
                  side_view: bool = True,
                  draw_bboxes: bool = True,
                  alpha: float = 0.9,
                  max_side: Optional[int] = MAX_RENDER_SIDE) -> np.ndarray:
        """BGR image: mesh overlay [| side view], boxes drawn, 'random weights' noted when there are no weights.

        Images whose longest side exceeds ``max_side`` (None = no limit) are drawn at that size: the results keep
        their full-resolution coordinates, only the picture is smaller.
        """
        image, _ = load_image(img)
        vertices, cameras = results['vertices'], results['mesh_cameras']
        centers, scales = results['input_centers'], results['input_scales']
        bboxes = np.asarray(results['bboxes'], dtype=np.float64)
        image, factor = bound_render_size(image, max_side)
        if factor < 1.0:  # crop centres / sizes / boxes are pixels; the crop cameras are unit-free
            centers, scales, bboxes = (np.asarray(a, dtype=np.float64) * factor for a in (centers, scales, bboxes))
        front, _ = render_people(image, vertices, self.faces, cameras, centers, scales, alpha=alpha)
        if draw_bboxes:
            for box in bboxes:
                if np.all(np.isfinite(box)):
                    x1, y1, x2, y2 = (int(round(v)) for v in box)
                    cv2.rectangle(front, (x1, y1), (x2, y2), (0, 200, 0), max(1, image.shape[0] // 300))
        panels = [front]
        if side_view:
            panels.append(render_side_view(vertices, self.faces, cameras, centers, scales, image.shape[:2]))
        drawn = np.concatenate(panels, axis=1)
        if self.random_weights:
            cv2.putText(drawn, 'random weights (checkpoint=none)', (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255),
                        1, cv2.LINE_AA)
        return drawn
