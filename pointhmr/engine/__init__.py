"""pointhmr.engine: mmengine hooks registered in mmpose's HOOKS."""
from .hooks import *  # noqa: F401,F403
