"""pointhmr: PointHMR 3D human mesh recovery as an MMEngine / mmpose plugin.

Importing the package registers every component into mmpose's registries, so configs use
``default_scope='mmpose'`` and ``custom_imports=dict(imports=['pointhmr'], allow_failed_imports=False)``.
"""
from . import compat

compat.apply()

from . import body, codecs, datasets, engine, evaluation, models, utils, visualization  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
