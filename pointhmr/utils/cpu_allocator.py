"""Keep freed heap memory in the process on glibc: large CPU tensors then stop costing page faults every step.

glibc's ``malloc`` serves every block over its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and returns it
with ``munmap`` when freed, and it trims the top of the heap back to the OS: a CPU training step that allocates and
frees the same large tensors (heatmaps, their gradients) each iteration then pays a page fault for every page it
touches, every step (seen as system time). Turning both off (``mallopt(M_MMAP_MAX, 0)``, a huge
``M_TRIM_THRESHOLD``) keeps the freed memory for reuse: the same arithmetic, the same results, faster steps; the price
is that the process keeps its peak heap until it exits.
"""
import ctypes
import ctypes.util
import sys
from typing import Callable, Optional

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TRIM_NEVER = 2**31 - 1  # mallopt takes an int


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (byte counts of the heap: ``uordblks`` in use, ``fordblks`` free, ``hblkhd`` in
    mmapped blocks, ``arena`` obtained with sbrk)."""
    _fields_ = [(name, ctypes.c_size_t) for name in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
                                                     'fsmblks', 'uordblks', 'fordblks', 'keepcost')]


def glibc_mallinfo2() -> Optional[Callable[[], MallInfo2]]:
    """glibc's ``mallinfo2`` function, or None where it is missing (non-glibc, glibc < 2.33)."""
    try:
        function = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    function.restype = MallInfo2
    return function


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory (no mmap per large block, no heap trimming); returns whether it applied (False
    on non-glibc platforms, where nothing is changed)."""
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_NEVER))
