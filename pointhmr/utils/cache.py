"""The package's cache folder (generated body files, indexes of TSV files in read-only folders)."""
import os
import os.path as osp

#: environment variable overriding the cache folder
CACHE_ENV = 'POINTHMR_CACHE'


def default_cache_dir() -> str:
    """``$POINTHMR_CACHE`` or ``~/.cache/pointhmr``."""
    return os.environ.get(CACHE_ENV) or osp.join(osp.expanduser('~'), '.cache', 'pointhmr')
