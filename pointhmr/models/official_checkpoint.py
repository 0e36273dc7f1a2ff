"""Read official PointHMR checkpoints and map them onto the pointhmr model (and back).

The official code writes two kinds of files (official behaviour §7): a plain ``state_dict`` and the whole ``nn.Module``
pickled with ``torch.save`` (classes under ``src.modeling...``), which is what the released ``PointHMR_*.bin`` most
likely are. Both are read here without running code from the file:

* both go through the project's restricted unpickler (:mod:`pointhmr.fileio.safe_pickle`, allow-list
  ``OFFICIAL_CHECKPOINT``): a plain state_dict (or an mmengine-style ``{'state_dict': ...}`` / ``{'model': ...}``
  dict) only needs torch's tensor rebuild functions;
* in a pickled module every ``src.*`` class and every ``torch.nn`` class
  becomes an inert stub that only keeps its ``__dict__``, tensor/storage rebuild functions and a few containers are
  allowed, and any other global (``os.system``, ``builtins.eval``, ...) is refused with :class:`UnsafeCheckpointError`.
  The dotted parameter names are rebuilt by walking ``_modules`` / ``_parameters`` / ``_buffers``.

Name mapping (official -> pointhmr): ``backbone.*`` is identical (mmpose ``HRNet`` uses the same layout), the three conv
heads and ``cam_layer`` move under ``neck.``, the token embeddings and the transformer under ``head.``.
"""
import os
import pickle
import zipfile
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..fileio.safe_pickle import RestrictedUnpickler  # noqa: F401
from ..fileio.safe_pickle import OFFICIAL_CHECKPOINT, PickledModuleStub, UnsafeCheckpointError, restricted_pickle_module
from ..utils.typing import PathLike

# Official top-level prefix -> pointhmr prefix. Order matters only for readability; prefixes are disjoint.
OFFICIAL_TO_POINTHMR_PREFIXES: Tuple[Tuple[str, str], ...] = (
    ('backbone.', 'backbone.'),
    ('feature_extract_layer.', 'neck.feature_extract_layer.'),
    ('heatmap_layer.', 'neck.heatmap_layer.'),
    ('grid_layer.', 'neck.grid_layer.'),
    ('cam_layer.', 'neck.cam_layer.'),
    ('joint_token_embed.', 'head.joint_token_embed.'),
    ('token_position_embed.', 'head.token_position_embed.'),
    ('cam_token_embed.', 'head.cam_token_embed.'),
    ('vertex_token_embed.', 'head.vertex_token_embed.'),
    ('transformer.', 'head.transformer.'),
)

# Parameters that exist in the official model but are never used by its forward pass (official behaviour §1.6).
OFFICIAL_UNUSED_KEYS: Tuple[str, ...] = ('cam_token_embed.weight', 'vertex_token_embed.weight')


class CheckpointMismatchError(RuntimeError):
    """A state_dict does not match the model (missing / unexpected keys or shape mismatches).

    ``source`` (the file) and ``hint`` (how to relax or fix the load) are added to the report when given.
    """

    def __init__(self, report: 'StateDictMismatch', source: str = '', hint: str = ''):
        message = report.format()
        if source:
            message = f'{source}: {message}'
        if hint:
            message = f'{message}\n{hint}'
        super().__init__(message)
        self.report = report


def _is_module_stub(obj: Any) -> bool:
    return isinstance(obj, PickledModuleStub) and '_modules' in vars(obj) or isinstance(obj, nn.Module)


def _walk_module(obj: Any, prefix: str, out: 'OrderedDict[str, Tensor]', skipped: List[str]) -> None:
    if isinstance(obj, nn.Module):
        for key, value in obj.state_dict(prefix=prefix, keep_vars=False).items():
            out[key] = value
        return
    attrs = vars(obj)
    non_persistent = set(attrs.get('_non_persistent_buffers_set') or ())
    entries = list((attrs.get('_parameters') or {}).items())
    entries += [(k, v) for k, v in (attrs.get('_buffers') or {}).items() if k not in non_persistent]
    for name, value in entries:
        if value is None:
            continue
        if not isinstance(value, Tensor) or value.layout != torch.strided:
            skipped.append(prefix + name)
            continue
        out[prefix + name] = value.detach()
    for name, child in (attrs.get('_modules') or {}).items():
        if child is not None:
            _walk_module(child, f'{prefix}{name}.', out, skipped)


def _is_tensor_mapping(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(isinstance(v, Tensor) for v in obj.values())


def extract_state_dict(obj: Any, source: str = '<checkpoint>') -> 'OrderedDict[str, Tensor]':
    """Get a flat state_dict out of a loaded checkpoint object (state_dict, mmengine dict, pickled module stub)."""
    if _is_module_stub(obj):
        out: 'OrderedDict[str, Tensor]' = OrderedDict()
        _walk_module(obj, '', out, skipped=[])
        return out
    if _is_tensor_mapping(obj):
        return OrderedDict((str(k), v) for k, v in obj.items())
    if isinstance(obj, Mapping):
        for key in ('state_dict', 'model', 'module'):
            if key in obj:
                return extract_state_dict(obj[key], source)
    kind = sorted(map(str, obj.keys()))[:8] if isinstance(obj, Mapping) else type(obj).__name__
    raise ValueError(f'{source} holds no recognisable PointHMR weights (found {kind}); expected a state_dict, a dict '
                     "with a 'state_dict' or 'model' entry, or a pickled official PointHMR module")


def strip_module_prefix(state_dict: Mapping[str, Tensor], prefix: str = 'module.') -> 'OrderedDict[str, Tensor]':
    """Remove a leading DataParallel/DDP ``module.`` from every key that has it."""
    return OrderedDict((k[len(prefix):] if k.startswith(prefix) else k, v) for k, v in state_dict.items())


def load_official_checkpoint(path: PathLike) -> 'OrderedDict[str, Tensor]':
    """Load an official PointHMR checkpoint (state_dict or pickled module) on CPU as an official-named state_dict.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: a pickled file references a global outside the allow-list (nothing from it was run).
        ValueError: the file is empty, truncated or holds no recognisable weights.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'official checkpoint {path!r} does not exist; pass the path of PointHMR_*.bin, '
                                'model.bin or state_dict.bin')
    # one loader for both layouts: torch's zip/legacy reader with the project's restricted unpickler (never torch's
    # process-wide weights-only registry, which other code may have widened)
    if os.path.getsize(path) == 0:
        raise ValueError(f'official checkpoint {path!r} is empty (0 bytes): the download or copy was cut off; fetch it '
                         'again')
    try:
        obj = torch.load(path,
                         map_location='cpu',
                         weights_only=False,
                         pickle_module=restricted_pickle_module(OFFICIAL_CHECKPOINT, path))
    except UnsafeCheckpointError:
        raise
    except (EOFError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as error:
        raise ValueError(f'cannot read official checkpoint {path!r} ({type(error).__name__}: {error}); the file is '
                         'truncated or not a PyTorch checkpoint: fetch it again') from error
    return strip_module_prefix(extract_state_dict(obj, source=path))


def _map_key(key: str, rules: Sequence[Tuple[str, str]], direction: str) -> str:
    for source, target in rules:
        if key.startswith(source):
            return target + key[len(source):]
    known = ', '.join(sorted({s.rstrip('.') for s, _ in rules}))
    raise KeyError(f'{direction}: key {key!r} has no mapping; expected it to start with one of: {known}')


def convert_official_state_dict(official: Mapping[str, Tensor],
                                target_keys: Optional[Iterable[str]] = None,
                                drop_unused: bool = False) -> 'OrderedDict[str, Tensor]':
    """Rename an official state_dict to pointhmr names.

    Args:
        official: official-named tensors (a leading ``module.`` is stripped).
        target_keys: the keys of the target model's state_dict. The unused official embeddings
            (:data:`OFFICIAL_UNUSED_KEYS`) are dropped when the target does not have them.
        drop_unused: drop the unused embeddings even if the target has them.
    """
    targets = None if target_keys is None else set(target_keys)
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    for key, value in strip_module_prefix(official).items():
        new_key = _map_key(key, OFFICIAL_TO_POINTHMR_PREFIXES, 'official -> pointhmr')
        if key in OFFICIAL_UNUSED_KEYS and (drop_unused or (targets is not None and new_key not in targets)):
            continue
        converted[new_key] = value
    return converted


def export_to_official(model_state_dict: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Rename a pointhmr model state_dict to the official layout (inverse of :func:`convert_official_state_dict`)."""
    inverse = tuple((target, source) for source, target in OFFICIAL_TO_POINTHMR_PREFIXES)
    return OrderedDict(
        (_map_key(k, inverse, 'pointhmr -> official'), v) for k, v in strip_module_prefix(model_state_dict).items())


def dropped_official_keys(official: Mapping[str, Tensor], converted: Mapping[str, Tensor]) -> List[str]:
    """Official keys that :func:`convert_official_state_dict` left out."""
    kept = set(converted)
    return [k for k in strip_module_prefix(official) if _map_key(k, OFFICIAL_TO_POINTHMR_PREFIXES, '') not in kept]


@dataclass
class StateDictMismatch:
    """Differences between a model's state_dict and the weights meant for it."""

    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shape_mismatches: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatches)

    def format(self, limit: int = 20) -> str:
        """Readable multi-line report, at most ``limit`` names per category."""
        if self.ok:
            return 'state_dict matches the model'
        lines = ['state_dict does not match the model:']

        def section(title: str, items: Sequence[str]) -> None:
            if items:
                lines.append(f'  {title} ({len(items)}):')
                lines.extend(f'    {item}' for item in items[:limit])
                if len(items) > limit:
                    lines.append(f'    ... and {len(items) - limit} more')

        section('missing in checkpoint', self.missing)
        section('unexpected in checkpoint', self.unexpected)
        section('shape mismatch (checkpoint vs model)',
                [f'{k}: {tuple(got)} vs {tuple(want)}' for k, got, want in self.shape_mismatches])
        return '\n'.join(lines)


def compare_state_dicts(model_state: Mapping[str, Tensor], weights: Mapping[str, Tensor]) -> StateDictMismatch:
    """List missing / unexpected keys and shape mismatches of ``weights`` against ``model_state``."""
    report = StateDictMismatch()
    report.missing = [k for k in model_state if k not in weights]
    report.unexpected = [k for k in weights if k not in model_state]
    report.shape_mismatches = [(k, tuple(weights[k].shape), tuple(model_state[k].shape)) for k in model_state
                               if k in weights and tuple(weights[k].shape) != tuple(model_state[k].shape)]
    return report


#: set on a model's modules while a caller that has compared the weights itself loads them (see
#: :func:`weights_checked_by_caller`); the estimator's own strict-loading hook then stands aside
WEIGHTS_CHECKED_ATTR = '_pointhmr_weights_checked_by_caller'


@contextmanager
def weights_checked_by_caller(model: nn.Module) -> Iterator[None]:
    """While active, ``model.load_state_dict`` skips the estimator's strict key/shape check (the caller has checked
    the weights and decided to load them, e.g. non-strictly after logging the report)."""
    modules = list(model.modules())
    for module in modules:
        object.__setattr__(module, WEIGHTS_CHECKED_ATTR, True)
    try:
        yield
    finally:
        for module in modules:
            module.__dict__.pop(WEIGHTS_CHECKED_ATTR, None)


def load_state_dict_strictly(model: nn.Module, state_dict: Mapping[str, Tensor],
                             allow_missing: Iterable[str] = ()) -> StateDictMismatch:
    """Load ``state_dict`` into ``model``; raise :class:`CheckpointMismatchError` with a full report on any mismatch.

    ``allow_missing`` lists model keys that may be absent (kept at their current values).
    """
    report = compare_state_dicts(model.state_dict(), state_dict)
    allowed = set(allow_missing)
    report.missing = [k for k in report.missing if k not in allowed]
    if not report.ok:
        raise CheckpointMismatchError(report)
    with weights_checked_by_caller(model):
        model.load_state_dict(state_dict, strict=not allowed)
    return report


def convert_official_checkpoint(path: PathLike,
                                model: Optional[nn.Module] = None,
                                drop_unused: bool = False) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Load an official file, convert it to pointhmr names and (if ``model`` is given) load it strictly into the model.

    Returns:
        ``(converted_state_dict, dropped_official_keys)``.
    """
    official = load_official_checkpoint(path)
    target_keys = None if model is None else model.state_dict().keys()
    converted = convert_official_state_dict(official, target_keys=target_keys, drop_unused=drop_unused)
    dropped = dropped_official_keys(official, converted)
    if model is not None:
        allow_missing = [_map_key(k, OFFICIAL_TO_POINTHMR_PREFIXES, '') for k in dropped]
        load_state_dict_strictly(model, converted, allow_missing=allow_missing)
    return converted, dropped


def count_tensors(state_dict: Mapping[str, Tensor]) -> Counter:
    """``Counter`` with the number of tensors, parameters (elements of float tensors) and integer buffers."""
    counts: Counter = Counter()
    for value in state_dict.values():
        counts['tensors'] += 1
        if value.is_floating_point():
            counts['elements'] += value.numel()
        else:
            counts['integer_tensors'] += 1
    return counts


__all__ = [
    'OFFICIAL_TO_POINTHMR_PREFIXES', 'OFFICIAL_UNUSED_KEYS', 'UnsafeCheckpointError', 'CheckpointMismatchError',
    'RestrictedUnpickler', 'StateDictMismatch', 'load_official_checkpoint', 'extract_state_dict', 'strip_module_prefix',
    'convert_official_state_dict', 'export_to_official', 'dropped_official_keys', 'compare_state_dicts',
    'load_state_dict_strictly', 'convert_official_checkpoint', 'count_tensors', 'WEIGHTS_CHECKED_ATTR',
    'weights_checked_by_caller'
]
