"""Run-time adjustments of a loaded config for the machine it runs on, and checkpoint discovery for resuming."""
import argparse
import difflib
import glob
import inspect
import os
import os.path as osp
import re
import zipfile
from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log

_CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def adapt_config_to_device(cfg: Config, launcher: str = 'none') -> Config:
    """Make ``cfg`` runnable on this machine (in place; returns it).

    * distributed backend: NCCL when CUDA is available, gloo otherwise (unless the config names one explicitly and it
      can work here);
    * CPU DDP: ``model_wrapper_cfg.device_ids = None`` (mmengine passes ``[LOCAL_RANK]``, which DDP rejects for CPU
      modules);
    * ``sync_bn`` is dropped on CPU (``SyncBatchNorm`` only runs on GPUs) and in non-distributed runs.
    """
    cuda = torch.cuda.is_available()
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend')
    if backend in (None, 'auto') or (backend == 'nccl' and not cuda):
        dist_cfg['backend'] = 'nccl' if cuda else 'gloo'
    if not cuda:
        wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    if launcher != 'none' and not cuda:
        allow_cpu_distributed()
    if cfg.get('sync_bn') and (not cuda or launcher == 'none'):
        print_log(f'sync_bn={cfg.sync_bn!r} ignored: SyncBatchNorm needs CUDA and a distributed launcher',
                  logger='current')
        cfg.sync_bn = None
    return cfg


def allow_cpu_distributed() -> None:
    """Let mmengine 0.10.7's ``init_dist`` run on a CPU-only torch 2.13.0 build (process-wide; launcher code only).

    ``init_dist`` calls ``torch.cuda.set_device(local_rank)``, which raises ``AttributeError`` on CPU builds; it is
    replaced by a no-op when CUDA is unavailable and the installed torch is the version this was written for.
    """
    from ..compat import installed_version
    if torch.cuda.is_available() or getattr(torch.cuda.set_device, '_pointhmr_cpu_noop', False):
        return
    if installed_version('torch') != '2.13.0':
        print_log(
            f'allow_cpu_distributed: written for torch 2.13.0, found {installed_version("torch")}; '
            'torch.cuda.set_device left unchanged',
            logger='current',
            level=30)
        return

    def set_device(*args, **kwargs) -> None:
        """No-op: this torch build has no CUDA (see pointhmr.utils.runtime.allow_cpu_distributed)."""

    set_device._pointhmr_cpu_noop = True
    torch.cuda.set_device = set_device


def is_complete_checkpoint(path: str) -> bool:
    """True when ``path`` is a complete torch zip checkpoint (every member's CRC checks out); reads the whole file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            return any(name.endswith('data.pkl') for name in names) and archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume auto`` continues from, or None when ``work_dir`` holds none.

    Uses the ``last_checkpoint`` pointer written by mmengine's CheckpointHook when it names a complete checkpoint;
    otherwise (pointer missing, empty or stale, or the file corrupt) the complete ``epoch_N.pth`` / ``iter_N.pth``
    with the largest N. Corrupt files are skipped with a warning; temporary files of an interrupted atomic save are
    ignored.
    """
    ordered = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            ordered.append(named if osp.isabs(named) else osp.join(work_dir, named))
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CHECKPOINT_NAME.match(osp.basename(path))
        if match:
            candidates.append((int(match.group(2)), osp.getmtime(path), path))
    ordered += [path for _, _, path in sorted(candidates, reverse=True)]
    for path in ordered:
        if not osp.isfile(path):
            continue
        if is_complete_checkpoint(path):
            return path
        print_log(f'--resume auto: skipping {path}: truncated or corrupt checkpoint', logger='current', level=30)
    return None


def remove_interrupted_saves(work_dir: str) -> List[str]:
    """Delete temporary files left in ``work_dir`` by atomic saves that were killed; returns their paths."""
    removed = []
    for path in glob.glob(osp.join(work_dir, '.*.tmp')) + glob.glob(osp.join(work_dir, '*.pth.tmp*')):
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    if removed:
        print_log(f'removed {len(removed)} temporary file(s) of interrupted checkpoint saves: {removed}',
                  logger='current')
    return removed


def _runner_settings() -> set:
    """Top-level settings mmengine's Runner reads (may be added by ``--cfg-options`` although absent)."""
    from mmengine.runner import Runner
    names = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
    return names | {'model_wrapper_cfg', 'compile', 'sync_bn', 'runner_type', 'custom_imports', 'load_strict'}


def _describe_missing(path: str, parent: Any, segment: str) -> str:
    choices = [str(k) for k in parent.keys()] if isinstance(parent, dict) else []
    close = difflib.get_close_matches(segment, choices, n=3)
    hint = f'; did you mean {", ".join(repr(c) for c in close)}?' if close else ''
    return f'{path!r}: {segment!r} does not exist{hint}'


def _component_parameters(node: dict) -> Optional[Tuple[set, bool]]:
    """(argument names, accepts **kwargs) of the class a config dict builds, or None when it cannot be resolved."""
    type_ = node.get('type')
    cls = type_ if isinstance(type_, type) else None
    if isinstance(type_, str):
        from mmpose import registry
        for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS',
                     'OPTIM_WRAPPERS', 'OPTIMIZERS', 'PARAM_SCHEDULERS', 'DATA_SAMPLERS', 'LOOPS', 'KEYPOINT_CODECS',
                     'LOG_PROCESSORS', 'RUNNERS'):
            found = getattr(registry, name, None)
            cls = found.get(type_) if found is not None else None
            if cls is not None:
                break
    if cls is None:
        return None
    try:
        parameters = inspect.signature(cls.__init__ if isinstance(cls, type) else cls).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)} - {'self'}
    return names, any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def _check_new_leaf(path: str, node: dict, segment: str) -> Optional[str]:
    """Error text when a new last key of ``--cfg-options`` looks like a typo or is no argument of the component."""
    component = _component_parameters(node)
    known = set(map(str, node.keys())) | (component[0] if component else set())
    if segment in known:
        return None
    close = difflib.get_close_matches(segment, sorted(known), n=3, cutoff=0.8)
    if close:
        return f'{path!r}: {segment!r} does not exist; did you mean {", ".join(repr(c) for c in close)}?'
    if component is not None and not component[1]:
        return f'{path!r}: {segment!r} is not an argument of {node.get("type")!r} (arguments: {sorted(component[0])})'
    return None


def check_cfg_options(cfg: Config, options: Optional[dict]) -> None:
    """Reject ``--cfg-options`` keys that would silently create settings nobody reads.

    Every dotted key must name an existing top-level setting and existing intermediate dicts / list indices; only the
    last segment may be new: an argument of the component the dict builds (e.g. ``train_dataloader.dataset.
    max_samples=8``). A new last segment that closely resembles an existing key or argument (a typo such as
    ``default_hooks.checkpoint.intervall``), or that the component's class does not accept, is an error.

    Raises:
        KeyError: naming every unknown key, with close matches.
    """
    errors = []
    for key in options or {}:
        segments = key.split('.')
        node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        for depth, segment in enumerate(segments):
            is_leaf = depth == len(segments) - 1
            if isinstance(node, (list, tuple)):
                if not segment.isdigit() or int(segment) >= len(node):
                    errors.append(f'{key!r}: {segment!r} is not an index of a list of length {len(node)}')
                    break
                node = node[int(segment)]
            elif isinstance(node, dict):
                if segment not in node:
                    if not is_leaf or (depth == 0 and segment not in _runner_settings()):
                        errors.append(_describe_missing(key, node, segment))
                    elif depth > 0:
                        problem = _check_new_leaf(key, node, segment)
                        if problem:
                            errors.append(problem)
                    break
                node = node[segment]
            else:
                errors.append(f'{key!r}: {".".join(segments[:depth])!r} is {node!r}, not a dict or list')
                break
    if errors:
        raise KeyError('unknown --cfg-options key(s):\n  ' + '\n  '.join(errors))


def check_dataset_files(cfg: Config, dataloaders: Sequence[str]) -> None:
    """Fail early (before workers or ranks start) when a dataloader's ``ann_file`` does not exist.

    Raises:
        FileNotFoundError: naming each missing file and the config key that refers to it.
    """
    missing = []
    for name in dataloaders:
        loader = cfg.get(name)
        if not loader:
            continue
        dataset = loader.get('dataset', {})
        datasets = dataset.get('datasets', [dataset])  # ConcatDataset-style wrappers
        for sub in datasets:
            ann_file = sub.get('ann_file')
            if not ann_file:
                continue
            path = ann_file if osp.isabs(ann_file) else osp.join(sub.get('data_root', '') or '', ann_file)
            if not osp.isfile(path):
                missing.append(f'{name}.dataset.ann_file -> {path!r}')
    if missing:
        hint = ''
        if any('synthetic' in m for m in missing):
            hint = '\nGenerate the synthetic dataset first: python tools/dataset_converters/make_synthetic_dataset.py'
        raise FileNotFoundError('dataset file(s) not found (working directory ' + os.getcwd() + '):\n  ' +
                                '\n  '.join(missing) + hint + '\nSet data_root / ann_file with --cfg-options, e.g. '
                                'train_dataloader.dataset.data_root=/path/to/data/')


def add_runner_arguments(parser, cfg_options_help: str) -> None:
    """The options tools/train.py and tools/test.py share: --work-dir, --cfg-options, --launcher, --local-rank."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='folder for logs and checkpoints (default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help=cfg_options_help)
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none',
                        help='job launcher (pytorch = torchrun / tools/dist_train.sh)')
    # torch.distributed.launch passes --local-rank (torchrun sets LOCAL_RANK itself)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)


def load_runner_config(config: str,
                       cfg_options: Optional[dict],
                       launcher: str,
                       work_dir: Optional[str],
                       local_rank: int = 0) -> Config:
    """Config file + command-line overrides (unknown keys are errors) + launcher + work dir."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist (run from the repository root, e.g. '
                                'configs/pointhmr/pointhmr_hrnet-light_1xb8-800it_synthetic-224.py)')
    cfg = Config.fromfile(config)
    check_cfg_options(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg
