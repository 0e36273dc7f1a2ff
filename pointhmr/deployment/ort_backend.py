"""onnxruntime backend: an exported PointHMR .onnx file behind the same interface as the PyTorch estimator.

:class:`OnnxMeshModel` has what ``mmpose.apis.inference_topdown`` and :class:`~pointhmr.apis.MeshInferencer` use of
an estimator (``cfg``, ``dataset_meta``, ``test_step``, ``head.body_model``), so the whole inference path (pipeline,
crops, keypoints in image pixels, result collection, rendering, exports) is shared with the PyTorch backend; only the
network runs in onnxruntime. The config must be the one the file was exported from (checked with its metadata).
"""
import os
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import nn

from .mesh_export_model import OUTPUT_NAMES
from .onnx_metadata import OnnxModelError, check_metadata, require_module

PathLike = Union[str, os.PathLike]
INPUT_NAME = 'input'


def execution_providers(device: str = 'cpu') -> List[str]:
    """onnxruntime providers for a torch-style device string ('cpu', 'cuda', 'cuda:0')."""
    ort = require_module('onnxruntime')
    if device == 'cpu':
        return ['CPUExecutionProvider']
    if device.startswith('cuda'):
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise ValueError(f'device {device!r}: this onnxruntime has no CUDAExecutionProvider (available: '
                             f'{ort.get_available_providers()}); install onnxruntime-gpu or use --device cpu')
        return ['CUDAExecutionProvider', 'CPUExecutionProvider']
    raise ValueError(f"device must be 'cpu' or 'cuda[:N]' for the onnxruntime backend, got {device!r}")


def create_session(onnx_file: PathLike, device: str = 'cpu', threads: Optional[int] = None):
    """An ``onnxruntime.InferenceSession`` for ``onnx_file``; unreadable files raise :class:`OnnxModelError`."""
    ort = require_module('onnxruntime')
    path = os.fspath(onnx_file)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'ONNX file not found: {path}; export one with tools/deployment/pytorch2onnx.py')
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    provider_options = None
    if device.startswith('cuda') and ':' in device:
        provider_options = [{'device_id': int(device.split(':')[1])}, {}]
    try:
        return ort.InferenceSession(path,
                                    options,
                                    providers=execution_providers(device),
                                    provider_options=provider_options)
    except (ValueError, ImportError):
        raise
    except Exception as error:  # onnxruntime raises its own pybind error types (InvalidProtobuf, Fail, ...)
        raise OnnxModelError(f'{path} is not a usable ONNX model ({type(error).__name__}: {error}); it may be '
                             'truncated or corrupt: re-export it with tools/deployment/pytorch2onnx.py') from error


class OnnxMeshHead(nn.Module):
    """The PyTorch head's post-processing for onnxruntime outputs: mesh model (faces, sizes) and keypoint decoder."""

    def __init__(self, body_model: nn.Module, decoder) -> None:
        super().__init__()
        object.__setattr__(self, 'body_model', body_model)  # like the PyTorch head: not a submodule
        self.decoder = decoder

    def predict(self, outputs: Dict[str, np.ndarray]) -> List[InstanceData]:
        """One InstanceData per sample with the fields of ``ProgressiveMaskTransformerHead.predict`` (keypoints in
        crop pixels)."""
        keypoints, scores = self.decoder.decode(outputs['keypoints_2d'])
        results = []
        for i in range(len(outputs['camera'])):
            results.append(
                InstanceData(keypoints=keypoints[i:i + 1].astype(np.float32),
                             keypoint_scores=scores[i:i + 1].astype(np.float32),
                             keypoints_3d=outputs['keypoints_3d'][i:i + 1],
                             joints_14=outputs['joints'][i:i + 1],
                             vertices=outputs['vertices'][i:i + 1],
                             camera=outputs['camera'][i:i + 1]))
        return results


class OnnxMeshModel(nn.Module):
    """A PointHMR .onnx file run by onnxruntime, usable wherever the mesh APIs take an estimator.

    Args:
        config: the config file (or Config) the file was exported from; gives the test pipeline, data preprocessor,
            mesh model and keypoint decoder.
        onnx_file: the exported model (``tools/deployment/pytorch2onnx.py``).
        device: 'cpu' or 'cuda[:N]' (CUDA execution provider).
        threads: onnxruntime intra-op threads (None = onnxruntime's default).
    """

    def __init__(self, config, onnx_file: PathLike, device: str = 'cpu', threads: Optional[int] = None) -> None:
        super().__init__()
        from mmengine import Config
        from mmengine.registry import init_default_scope
        from mmpose.registry import KEYPOINT_CODECS, MODELS

        from pointhmr.models.estimators.pointhmr import IMAGENET_DATA_PREPROCESSOR
        if isinstance(config, (str, os.PathLike)):
            if not os.path.isfile(os.fspath(config)):
                raise FileNotFoundError(f'config file not found: {config}')
            config_name, cfg = os.fspath(config), Config.fromfile(os.fspath(config))
        else:
            config_name, cfg = getattr(config, 'filename', None) or '<Config object>', config
        self.onnx_file = os.fspath(onnx_file)
        self.session = create_session(onnx_file, device, threads)
        self.cfg = cfg
        init_default_scope(cfg.get('default_scope', 'mmpose'))
        head_cfg = cfg.model.get('head', None) or {}
        body = MODELS.build(head_cfg.get('body_model', dict(type='SMPLBodyModel')))
        self.metadata = check_metadata(self.session.get_modelmeta().custom_metadata_map,
                                       self.onnx_file,
                                       cfg,
                                       config_name,
                                       num_vertices=int(body.num_vertices))
        self.random_weights = self.metadata.get('pointhmr.random_weights') == 'true'
        self.dynamic_batch = self.metadata.get('pointhmr.dynamic_batch') == 'true'
        self.input_size = tuple(int(s) for s in self.metadata['pointhmr.input_size'].split(','))
        self.test_cfg = dict(cfg.model.get('test_cfg', None) or {})
        preprocessor = cfg.model.get('data_preprocessor', None) or dict(IMAGENET_DATA_PREPROCESSOR)
        self.data_preprocessor = MODELS.build(preprocessor)
        decoder = head_cfg.get('decoder', None) or dict(type='WeakPerspectiveCodec', input_size=self.input_size)
        self.head = OnnxMeshHead(body, KEYPOINT_CODECS.build(decoder))
        self.dataset_meta = _dataset_meta(cfg)

    def run(self, inputs: np.ndarray) -> Dict[str, np.ndarray]:
        """Normalised crops (B, 3, H, W) float32 -> the named outputs (B, ...)."""
        inputs = np.ascontiguousarray(inputs, dtype=np.float32)
        width, height = self.input_size
        if inputs.ndim != 4 or inputs.shape[1:] != (3, height, width):
            raise ValueError(f'{self.onnx_file} takes (B, 3, {height}, {width}) crops, got {inputs.shape}; the test '
                             f'pipeline of the config must crop to {width}x{height}')
        if self.dynamic_batch or len(inputs) == 1:
            values = self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: inputs})
        else:  # exported for batch 1: one crop per call
            runs = [self.session.run(list(OUTPUT_NAMES), {INPUT_NAME: inputs[i:i + 1]}) for i in range(len(inputs))]
            values = [np.concatenate(parts) for parts in zip(*runs)]
        return dict(zip(OUTPUT_NAMES, values))

    def test_step(self, data: dict) -> list:
        """mmengine's ``test_step``: preprocess the batch, run the network, fill ``pred_instances`` (image pixels)."""
        from mmpose.models.pose_estimators import TopdownPoseEstimator
        data = self.data_preprocessor(data, False)
        outputs = self.run(data['inputs'].detach().cpu().float().numpy())
        preds = self.head.predict(outputs)
        return TopdownPoseEstimator.add_pred_to_datasample(self, preds, None, data['data_samples'])

    def forward(self, inputs: torch.Tensor) -> Dict[str, np.ndarray]:
        return self.run(inputs.detach().cpu().numpy())


def _dataset_meta(cfg) -> dict:
    """dataset_meta as ``mmpose.apis.init_model`` takes it from a config (train dataset metainfo; COCO otherwise)."""
    from mmpose.apis.inference import dataset_meta_from_config
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    meta = dataset_meta_from_config(cfg, dataset_mode='train')
    return meta if meta is not None else parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
