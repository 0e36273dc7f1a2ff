"""The repository's configs are the one source of every model definition; code that needs a default model loads one.

``load_model_config('pointhmr_hrnet-w32')`` reads ``configs/_base_/models/pointhmr_hrnet-w32.py`` with mmengine and
returns its ``model`` dict (the official PointHMR-HR32); ``'pointhmr_light'`` is the light CPU/test model.
"""
import copy
import os.path as osp
from pathlib import Path
from typing import List, Optional, Union

from mmengine.config import Config

#: model definitions under ``configs/_base_/models/`` (file names without ``.py``)
MODEL_CONFIGS = ('pointhmr_hrnet-w32', 'pointhmr_light')


def config_roots() -> List[Path]:
    """Folders searched for ``configs/``: the source checkout holding this package, then an installed copy
    (``pointhmr/.mim/configs``, OpenMMLab's layout for packaged configs)."""
    package = Path(__file__).resolve().parents[1]
    return [package.parent / 'configs', package / '.mim' / 'configs']


def config_path(relative: str) -> Path:
    """Absolute path of a repository config, e.g. ``config_path('pointhmr/pointhmr_hrnet-w32_...py')``."""
    for root in config_roots():
        path = root / relative
        if path.is_file():
            return path
    searched = ', '.join(str(root) for root in config_roots())
    raise FileNotFoundError(f'config {relative!r} not found under {searched}; run from a source checkout of pointhmr '
                            '(the configs/ folder next to the package) or pass the path of a config file')


def load_model_config(name: Union[str, Path] = 'pointhmr_hrnet-w32', body_model: Optional[dict] = None) -> dict:
    """The ``model`` dict of a config, as plain dicts (ready for ``MODELS.build``).

    Args:
        name: one of :data:`MODEL_CONFIGS` (a file of ``configs/_base_/models/``) or the path of any config file.
        body_model: when given, the body model the head is built with instead of the config's ``body_model``
            (e.g. a stand-in in tests); the config's other consumers are not involved here.
    """
    name = str(name)
    if name.endswith('.py') or osp.sep in name:
        if not osp.isfile(name):
            raise FileNotFoundError(f'load_model_config: config file {name!r} does not exist')
        path = Path(name)
    elif name in MODEL_CONFIGS:
        path = config_path(f'_base_/models/{name}.py')
    else:
        raise ValueError(f'load_model_config: unknown model {name!r}; use one of {MODEL_CONFIGS} or a config path')
    model = Config.fromfile(str(path)).get('model')
    if model is None:
        raise KeyError(f'load_model_config: {path} defines no `model`')
    model = model.to_dict()
    if body_model is not None:
        model['head']['body_model'] = copy.deepcopy(body_model)
    return model
