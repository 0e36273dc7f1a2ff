"""ONNX export of PointHMR estimators (TorchScript-based ``torch.onnx.export``) with pointhmr metadata in the file.

The graph: ``input`` normalised crop (B, 3, H, W) (RGB, ImageNet-normalised, as after the data preprocessor) ->
the outputs of :class:`~pointhmr.deployment.MeshExportModel` (:data:`~pointhmr.deployment.OUTPUT_NAMES`). The file's
``metadata_props`` record the config, a hash of its model dict, the input size and the output sizes, so that the
onnxruntime backend can refuse a file exported from another config (:mod:`pointhmr.deployment.onnx_metadata`).

``onnx`` / ``onnxruntime`` are imported inside the functions (``pip install -r requirements/deploy.txt``).
"""
import contextlib
import io
import os
import warnings
from typing import Dict, Iterator, Optional, Union

import numpy as np
import torch
from torch import nn

from pointhmr.fileio import atomic_write_bytes
from .mesh_export_model import OUTPUT_NAMES, ExportError, MeshExportModel
from .onnx_metadata import (DEFAULT_OPSET, SUPPORTED_OPSETS, build_metadata, check_opset, model_input_size,
                            require_module)

PathLike = Union[str, os.PathLike]
INPUT_NAME = 'input'


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence the tracer's constant-shape warnings and the legacy exporter's deprecation notice (expected here: the
    exported graph is for one input size and only the batch is dynamic)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', FutureWarning)
        warnings.filterwarnings('ignore', message='.*ONNX.*')
        yield


def load_checkpoint_strictly(model: nn.Module, checkpoint: PathLike, config_name: str = 'the config') -> None:
    """Load an mmengine / plain state_dict checkpoint into ``model``; any mismatch raises :class:`ExportError` naming
    the checkpoint, the config and the differing keys."""
    from pointhmr.models.official_checkpoint import CheckpointMismatchError, load_state_dict_strictly
    path = os.fspath(checkpoint)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:
        raise ExportError(f'cannot read checkpoint {path}: {error}. Pass a checkpoint written by tools/train.py (or '
                          'converted with the official-checkpoint converter)') from error
    state_dict = data.get('state_dict', data) if isinstance(data, dict) else None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ExportError(f'{path} holds no state_dict of tensors; pass a checkpoint written by tools/train.py')
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}
    try:
        load_state_dict_strictly(model, state_dict)
    except CheckpointMismatchError as error:
        raise ExportError(f'checkpoint {path} does not match the model of {config_name}:\n{error}\nPass the config '
                          'the checkpoint was trained with (or the checkpoint of this config).') from error


def build_model_for_export(config, checkpoint: Optional[PathLike]):
    """(estimator in eval mode, Config, config name) from a config file / Config and a checkpoint (None / 'none' =
    random weights)."""
    from mmengine import Config

    from pointhmr.apis.inference import NO_CHECKPOINT, init_mesh_model
    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(os.fspath(config)):
            raise FileNotFoundError(f'config file not found: {config}')
        config_name = os.fspath(config)
        cfg = Config.fromfile(config_name)
    else:
        cfg, config_name = config, getattr(config, 'filename', None) or '<Config object>'
    model = init_mesh_model(cfg, 'none', device='cpu')
    if checkpoint not in NO_CHECKPOINT:
        load_checkpoint_strictly(model, checkpoint, config_name)
        if callable(getattr(model, 'switch_to_deploy', None)):  # eager fast-path caches from the loaded weights
            model.switch_to_deploy()
    model.random_weights = checkpoint in NO_CHECKPOINT
    return model.eval(), cfg, config_name


def export_onnx(model: nn.Module,
                cfg,
                out_file: PathLike,
                opset: int = DEFAULT_OPSET,
                dynamic_batch: bool = True,
                input_size: Optional[int] = None,
                config_name: str = '',
                checkpoint_name: str = '',
                winograd_tile: Optional[int] = 4,
                winograd_min_channels: Optional[int] = None,
                verify: bool = True) -> Dict[str, float]:
    """Export ``model`` (built from ``cfg``) to ``out_file`` (written atomically) and check it.

    Args:
        model: PointHMR estimator (eval mode; its weights are exported as they are).
        cfg: the Config it was built from (its model dict is hashed into the file's metadata).
        out_file: the .onnx file to write.
        opset: ONNX opset, one of :data:`~pointhmr.deployment.onnx_metadata.SUPPORTED_OPSETS`.
        dynamic_batch: make the batch axis dynamic (otherwise the graph takes exactly one crop).
        input_size: square input side to check against the model's (None = the model's).
        config_name / checkpoint_name: recorded in the metadata.
        winograd_tile: Winograd tile of the wide neck convolutions (4, 2 or None = direct convolutions).
        winograd_min_channels: width from which a 3x3 convolution uses Winograd (None = the blocks' default, 128).
        verify: run the exported file with onnxruntime on a random crop and compare it with PyTorch.

    Returns:
        The max absolute difference per output (onnxruntime vs PyTorch) when ``verify``; else an empty dict.
    """
    onnx = require_module('onnx')
    check_opset(opset)
    width, height = model_input_size(model, cfg)
    if input_size is not None and (int(input_size), int(input_size)) != (width, height):
        raise ExportError(f'--input-size {input_size} does not fit {config_name or "the config"}: its model takes '
                          f'{width}x{height} crops (the grid tokens and heatmaps are sized for it); pass --input-size '
                          f'{width} or a config trained at {input_size}')
    wrapper = MeshExportModel(model, winograd_tile=winograd_tile, winograd_min_channels=winograd_min_channels)
    generator = torch.Generator().manual_seed(0)
    dummy = torch.randn(2 if dynamic_batch else 1, 3, height, width, generator=generator)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {name: {0: 'batch'} for name in (INPUT_NAME, *OUTPUT_NAMES)}
    buffer = io.BytesIO()
    with torch.no_grad(), _quiet_tracing():
        torch.onnx.export(wrapper, (dummy, ),
                          buffer,
                          dynamo=False,
                          opset_version=opset,
                          input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES),
                          dynamic_axes=dynamic_axes,
                          do_constant_folding=True)
    proto = onnx.load_model_from_string(buffer.getvalue())
    metadata = build_metadata(model,
                              cfg,
                              wrapper,
                              config_name=config_name,
                              checkpoint_name=checkpoint_name,
                              opset=opset,
                              dynamic_batch=dynamic_batch,
                              input_size=(width, height))
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    atomic_write_bytes(out_file, data)
    if not verify:
        return {}
    with torch.no_grad():
        expected = [t.numpy() for t in wrapper(dummy)]
    from .ort_backend import create_session
    session = create_session(out_file)
    got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: dummy.numpy()})
    return {name: float(np.abs(a - b).max()) for name, a, b in zip(OUTPUT_NAMES, got, expected)}


__all__ = [
    'export_onnx', 'build_model_for_export', 'load_checkpoint_strictly', 'DEFAULT_OPSET', 'SUPPORTED_OPSETS',
    'INPUT_NAME'
]
