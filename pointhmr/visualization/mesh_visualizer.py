"""MeshVisualizer: mmpose's PoseLocalVisualizer plus a shaded mesh overlay and a side-view panel.

Where the mesh faces come from, in this order (the first one available wins):

1. ``set_mesh_faces(faces)`` or the ``faces`` constructor argument (an (F, 3) array);
2. the ``body_model`` constructor argument, a config such as ``dict(type='SMPLBodyModel')`` built lazily from mmpose's
   ``MODELS`` on first use (its ``faces`` attribute); use the same body model as the estimator;
3. ``dataset_meta['mesh_faces']`` (set through ``set_dataset_meta``).

Without faces, or when the predictions carry no ``vertices``, it draws keypoints exactly like PoseLocalVisualizer.
Meshes are drawn on images at most ``max_render_side`` pixels on the long side (like the demo), so the renderer's
memory stays bounded whatever the image size; larger images give a downscaled picture.
"""
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.structures import InstanceData
from mmpose.registry import MODELS, VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from pointhmr.body.joints import H36M_NAMES, H36M_PELVIS
from pointhmr.utils.arrays import to_numpy
from .scene import MAX_RENDER_SIDE, bound_render_size, camera_for_centred_vertices, render_people, render_side_view

#: instance fields in image pixels (scaled with the picture when it is drawn downscaled)
PIXEL_KEYS = ('keypoints', 'bboxes', 'input_center', 'input_scale', 'bbox_centers', 'bbox_scales')


@VISUALIZERS.register_module()
class MeshVisualizer(PoseLocalVisualizer):
    """Draw predicted meshes (front overlay + side view) for PointHMR results.

    Args:
        name: instance name (mmengine visualizers are managed instances).
        faces: (F, 3) mesh faces of the predicted vertices.
        body_model: config of a body model with a ``faces`` attribute, built lazily when ``faces`` is not given.
        mesh_colors: one (r, g, b) per person, cycled (default: light blue, then other pastel colours).
        mesh_alpha: opacity of the mesh over the image.
        draw_side_view: append a side-view panel next to the overlay.
        side_view_angle: rotation about the vertical axis for the side view, degrees.
        focal: nominal focal length (pixels) ordering people by depth; None = the longer image side.
        align_to_pelvis: place the root-centred vertices on the predicted root keypoint (the mesh model's
            ``root_keypoint`` of ``pred_instances.keypoints`` when ``body_model`` is set: the wrist of hands; else H36M
            joint 0 of 17 keypoints) instead of at the crop camera's origin; see
            :func:`pointhmr.visualization.scene.camera_for_centred_vertices`.
        max_render_side: longest side (pixels) of pictures with meshes; larger images are drawn downscaled, with
            every pixel coordinate scaled alike (None = no limit; the renderer's memory grows with the pixels).
        **kwargs: PoseLocalVisualizer arguments (name, vis_backends, save_dir, bbox_color, kpt_color, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 faces: Optional[np.ndarray] = None,
                 body_model: Optional[Dict] = None,
                 mesh_colors: Optional[Sequence[Sequence[float]]] = None,
                 mesh_alpha: float = 0.9,
                 draw_side_view: bool = True,
                 side_view_angle: float = 90.0,
                 focal: Optional[float] = None,
                 align_to_pelvis: bool = True,
                 max_render_side: Optional[int] = MAX_RENDER_SIDE,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self._faces: Optional[np.ndarray] = None
        self._root_keypoint: Optional[int] = None
        self.body_model_cfg = body_model
        self.mesh_colors = mesh_colors
        self.mesh_alpha = mesh_alpha
        self.draw_side_view = draw_side_view
        self.side_view_angle = side_view_angle
        self.focal = focal
        self.align_to_pelvis = align_to_pelvis
        self.max_render_side = max_render_side
        if faces is not None:
            self.set_mesh_faces(faces)

    def set_mesh_faces(self, faces: Any) -> None:
        """Set the (F, 3) faces used to draw predicted vertices (e.g. ``model.head.body_model.faces``)."""
        faces = to_numpy(faces)
        if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
            raise ValueError(f'mesh faces must be an integer array of shape (F, 3), got {faces.dtype} {faces.shape}')
        self._faces = faces.astype(np.int64)

    @property
    def mesh_faces(self) -> Optional[np.ndarray]:
        """The faces in use (see the module docstring for the order of sources), or None."""
        if self._faces is None and self.body_model_cfg is not None:
            body = MODELS.build(self.body_model_cfg)
            self.set_mesh_faces(body.faces)
            self._root_keypoint = getattr(body, 'root_keypoint', None)
        if self._faces is None and self.dataset_meta and self.dataset_meta.get('mesh_faces') is not None:
            return to_numpy(self.dataset_meta['mesh_faces']).astype(np.int64)
        return self._faces

    def draw_mesh(self,
                  image: np.ndarray,
                  instances: InstanceData,
                  metainfo: Optional[Dict] = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Render all predicted people on an RGB image. Returns (overlay, side-view panel or None).

        ``instances`` needs ``vertices`` (P, V, 3) and ``camera`` (P, 3); crop centres and sides come from
        ``instances.input_center/input_scale`` (per person, as written by :func:`pointhmr.apis.inference_mesh`) or,
        for a single person, from ``metainfo``.
        """
        faces = self.mesh_faces
        if faces is None:
            raise ValueError('MeshVisualizer has no mesh faces: call set_mesh_faces(model faces), pass faces= or '
                             "body_model=dict(type='SMPLBodyModel'), or put 'mesh_faces' in dataset_meta")
        vertices = to_numpy(instances.vertices)
        cameras = to_numpy(instances.camera)
        centers, scales = self._crop_geometry(instances, metainfo or {}, len(vertices))
        keypoints = to_numpy(instances.keypoints) if 'keypoints' in instances else None
        root = self._root_keypoint
        if root is None and keypoints is not None and keypoints.shape[-2] == len(H36M_NAMES):
            root = H36M_PELVIS
        if self.align_to_pelvis and keypoints is not None and root is not None:
            cameras = camera_for_centred_vertices(cameras, keypoints[:, root], centers, scales)
        common = dict(focal=self.focal, colors=self.mesh_colors, channel_order='rgb')
        front, _ = render_people(image, vertices, faces, cameras, centers, scales, alpha=self.mesh_alpha, **common)
        side = None
        if self.draw_side_view:
            side = render_side_view(vertices,
                                    faces,
                                    cameras,
                                    centers,
                                    scales,
                                    image.shape[:2],
                                    angle=self.side_view_angle,
                                    **common)
        return front, side

    @staticmethod
    def _scaled(instances: InstanceData, factor: float) -> InstanceData:
        """A shallow copy of ``instances`` with its pixel quantities (:data:`PIXEL_KEYS`) multiplied by ``factor``."""
        scaled = InstanceData(metainfo=instances.metainfo)
        for key, value in instances.items():
            scaled.set_field(to_numpy(value) * factor if key in PIXEL_KEYS else value, key)
        return scaled

    @staticmethod
    def _crop_geometry(instances: InstanceData, metainfo: Dict, num: int) -> Tuple[np.ndarray, np.ndarray]:
        if 'input_center' in instances and 'input_scale' in instances:
            return to_numpy(instances.input_center).reshape(num, 2), to_numpy(instances.input_scale).reshape(num, -1)
        if 'input_center' in metainfo and 'input_scale' in metainfo:
            if num != 1:
                raise ValueError(f'{num} people but one input_center in metainfo: store per-person input_center and '
                                 'input_scale in pred_instances (pointhmr.apis.inference_mesh does)')
            return to_numpy(metainfo['input_center']).reshape(1, 2), to_numpy(metainfo['input_scale']).reshape(1, -1)
        raise ValueError('drawing meshes needs input_center and input_scale in pred_instances or the metainfo')

    def _draw_keypoints_any_set(self, image: np.ndarray, instances: InstanceData, kpt_thr: float, show_kpt_idx: bool,
                                skeleton_style: str) -> np.ndarray:
        """Draw keypoints; a joint set other than dataset_meta's (e.g. J24 labels vs H36M-17) gets one plain colour."""
        num_keypoints = np.shape(instances.keypoints)[-2]
        colors = self.kpt_color
        if colors is None or isinstance(colors, str) or len(colors) == num_keypoints:
            return self._draw_instances_kpts(image, instances, kpt_thr, show_kpt_idx, skeleton_style)
        saved = self.kpt_color, self.skeleton
        self.kpt_color, self.skeleton = 'red', None
        try:
            return self._draw_instances_kpts(image, instances, kpt_thr, show_kpt_idx, skeleton_style)
        finally:
            self.kpt_color, self.skeleton = saved

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: PoseDataSample,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       draw_heatmap: bool = False,
                       draw_bbox: bool = False,
                       show_kpt_idx: bool = False,
                       skeleton_style: str = 'mmpose',
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       kpt_thr: float = 0.3,
                       step: int = 0,
                       draw_mesh: bool = True) -> np.ndarray:
        """Draw [GT keypoints |] mesh overlay [| side view] when predictions have vertices, else keypoints.

        ``image`` is RGB, as for every mmengine visualizer. Returns the drawn RGB image; with meshes, images longer
        than ``max_render_side`` are drawn at that size.
        """
        pred = data_sample.get('pred_instances', None)
        has_mesh = draw_pred and draw_mesh and pred is not None and 'vertices' in pred and len(pred) > 0
        if has_mesh and self.mesh_faces is None:
            warnings.warn('MeshVisualizer: predictions have vertices but no mesh faces are set; drawing keypoints. '
                          'Call set_mesh_faces() or configure body_model / faces.')
            has_mesh = False
        if not has_mesh:
            return super().add_datasample(name,
                                          image,
                                          data_sample,
                                          draw_gt=draw_gt,
                                          draw_pred=draw_pred,
                                          draw_heatmap=draw_heatmap,
                                          draw_bbox=draw_bbox,
                                          show_kpt_idx=show_kpt_idx,
                                          skeleton_style=skeleton_style,
                                          show=show,
                                          wait_time=wait_time,
                                          out_file=out_file,
                                          kpt_thr=kpt_thr,
                                          step=step)

        gt = data_sample.get('gt_instances', None)
        metainfo = data_sample.metainfo
        image, factor = bound_render_size(image, self.max_render_side)
        if factor < 1.0:
            pred = self._scaled(pred, factor)
            gt = None if gt is None else self._scaled(gt, factor)
            metainfo = {
                key: to_numpy(value) * factor if key in ('input_center', 'input_scale') else value
                for key, value in metainfo.items()
            }
        panels = []
        if draw_gt and gt is not None and 'keypoints' in gt and 'keypoints' in data_sample.gt_instances:
            gt_image = self._draw_keypoints_any_set(image.copy(), gt, kpt_thr, show_kpt_idx, skeleton_style)
            if draw_bbox:
                gt_image = self._draw_instances_bbox(gt_image, gt)
            panels.append(gt_image)
        front, side = self.draw_mesh(image, pred, metainfo)
        if draw_bbox:
            front = self._draw_instances_bbox(front, pred)
        panels += [front] + ([side] if side is not None else [])
        drawn = np.concatenate(panels, axis=1)

        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return self.get_image()
