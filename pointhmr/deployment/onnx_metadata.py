"""What a pointhmr .onnx file records about its model (``metadata_props``), and the checks made on it.

Keys (all strings, prefix ``pointhmr.``): ``format``, ``version``, ``config`` (file the model came from),
``model_hash`` (sha256 of the config's model dict, see :func:`model_config_hash`), ``checkpoint``,
``random_weights``, ``input_size`` (``W,H``), ``opset``, ``dynamic_batch``, ``outputs`` (JSON: name -> shape, ``-1``
for the batch), ``mesh_model`` (class name), ``num_vertices``, ``num_keypoints``, ``winograd_tile``.
"""
import copy
import hashlib
import importlib
import json
import math
from types import ModuleType
from typing import Dict, Mapping, Optional, Tuple

from torch import nn

from .mesh_export_model import OUTPUT_NAMES, ExportError

#: the format written into ``pointhmr.format``; files of another format are refused
FORMAT = 'pointhmr-mesh-onnx/1'
#: ONNX opsets the exporter is tested with (the graph needs opset >= 14; the legacy exporter supports up to 20)
SUPPORTED_OPSETS = tuple(range(14, 21))
DEFAULT_OPSET = 17
INSTALL_HINT = ('install the deployment extras: pip install -r requirements/deploy.txt '
                '(or bash tools/install.sh --deploy)')


class OnnxModelError(ValueError):
    """An .onnx file cannot be used with the given config; the message names the file and the fix."""


def require_module(name: str) -> ModuleType:
    """Import ``onnx`` / ``onnxruntime`` on demand with an install hint when missing."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f'{name} is not installed; {INSTALL_HINT}') from error


def check_opset(opset: int) -> None:
    if int(opset) not in SUPPORTED_OPSETS:
        raise ExportError(f'--opset {opset} is not supported: the exporter supports opsets {SUPPORTED_OPSETS[0]}-'
                          f'{SUPPORTED_OPSETS[-1]} (attention needs >= 14); pass --opset {DEFAULT_OPSET} (default)')


def _strip(value):
    """Drop keys that do not change the inference graph (weight initialisation, training settings)."""
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if k not in ('init_cfg', 'train_cfg')}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return value


def model_config_hash(cfg) -> str:
    """sha256 of the config's ``model`` dict (canonical JSON, initialisation / training keys dropped)."""
    model_cfg = cfg['model'] if isinstance(cfg, Mapping) else cfg.model
    if hasattr(model_cfg, 'to_dict'):
        model_cfg = model_cfg.to_dict()
    text = json.dumps(_strip(copy.deepcopy(model_cfg)), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def model_input_size(model: nn.Module, cfg=None) -> Tuple[int, int]:
    """``(W, H)`` of the crops the model takes: the head decoder's ``input_size`` (else the config's
    ``input_size``, else 32 x the side of the square token grid)."""
    decoder = getattr(model.head, 'decoder', None)
    size = getattr(decoder, 'input_size', None)
    if size is None and cfg is not None:
        size = cfg.get('input_size', None)
    if size is None:
        side = math.isqrt(int(model.head.num_grid_tokens))
        size = (32 * side, 32 * side)
    width, height = (int(s) for s in size)
    return width, height


def build_metadata(model: nn.Module, cfg, wrapper, config_name: str, checkpoint_name: str, opset: int,
                   dynamic_batch: bool, input_size: Tuple[int, int]) -> Dict[str, str]:
    from pointhmr import __version__
    body = model.head.body_model
    shapes = wrapper.output_shapes(batch=-1 if dynamic_batch else 1)
    return {
        'pointhmr.format': FORMAT,
        'pointhmr.version': str(__version__),
        'pointhmr.config': str(config_name),
        'pointhmr.model_hash': model_config_hash(cfg),
        'pointhmr.checkpoint': str(checkpoint_name),
        'pointhmr.random_weights': str(bool(getattr(model, 'random_weights', False))).lower(),
        'pointhmr.input_size': f'{input_size[0]},{input_size[1]}',
        'pointhmr.opset': str(int(opset)),
        'pointhmr.dynamic_batch': str(bool(dynamic_batch)).lower(),
        'pointhmr.outputs': json.dumps({name: list(shapes[name])
                                        for name in OUTPUT_NAMES}),
        'pointhmr.mesh_model': type(body).__name__,
        'pointhmr.num_vertices': str(int(body.num_vertices)),
        'pointhmr.num_keypoints': str(int(shapes['keypoints_3d'][1])),
        'pointhmr.winograd_tile': str(wrapper.winograd_tile),
    }


def check_metadata(metadata: Mapping[str, str],
                   onnx_file: str,
                   cfg,
                   config_name: str,
                   num_vertices: Optional[int] = None) -> Dict[str, str]:
    """Raise :class:`OnnxModelError` unless ``metadata`` (an exported file's) belongs to the model of ``cfg``."""
    export_hint = f'export it with: python tools/deployment/pytorch2onnx.py {config_name} CHECKPOINT {onnx_file}'
    if metadata.get('pointhmr.format') is None:
        raise OnnxModelError(f'{onnx_file} has no pointhmr metadata: it was not written by '
                             f'tools/deployment/pytorch2onnx.py; {export_hint}')
    if metadata['pointhmr.format'] != FORMAT:
        raise OnnxModelError(f'{onnx_file} has format {metadata["pointhmr.format"]!r}, this pointhmr reads {FORMAT!r};'
                             f' re-export it: {export_hint}')
    if metadata.get('pointhmr.model_hash') != model_config_hash(cfg):
        raise OnnxModelError(f'{onnx_file} was exported from config {metadata.get("pointhmr.config")!r}, whose model '
                             f'differs from the model of {config_name}; pass that config, or re-export for this one: '
                             f'{export_hint}')
    if num_vertices is not None and int(metadata.get('pointhmr.num_vertices', -1)) != int(num_vertices):
        raise OnnxModelError(f'{onnx_file} predicts {metadata.get("pointhmr.num_vertices")} vertices but the mesh '
                             f'model of {config_name} has {num_vertices}; {export_hint}')
    return dict(metadata)
