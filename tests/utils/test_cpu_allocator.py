"""pointhmr.utils.cpu_allocator: after keep_freed_memory() a large CPU tensor comes from the heap and its memory stays
in the process when freed; without it glibc maps and unmaps it (the control). Each case runs in a fresh interpreter so
the test process's allocator is untouched."""
import json
import subprocess
import sys

import pytest

from pointhmr.utils import cpu_allocator
from pointhmr.utils.cpu_allocator import glibc_mallinfo2

pytestmark = pytest.mark.skipif(glibc_mallinfo2() is None, reason='needs glibc (mallinfo2)')

PROBE = '''
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location('cpu_allocator', sys.argv[2])  # without importing all of pointhmr
allocator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(allocator)
glibc_mallinfo2, keep_freed_memory = allocator.glibc_mallinfo2, allocator.keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == 'keep' else None
mallinfo2 = glibc_mallinfo2()
block = torch.ones(64 << 20, dtype=torch.uint8)  # 64 MiB, over glibc's largest mmap threshold
live = mallinfo2()
del block
freed = mallinfo2()
print(json.dumps(dict(applied=applied, mapped_live=live.hblkhd,
                      returned=(live.arena + live.hblkhd) - (freed.arena + freed.hblkhd))))
'''
MIB = 1 << 20


def _probe(mode: str) -> dict:
    result = subprocess.run([sys.executable, '-c', PROBE, mode, cpu_allocator.__file__],
                            capture_output=True,
                            text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_large_blocks_come_from_the_heap_and_stay():
    kept = _probe('keep')
    assert kept['applied'] is True
    assert kept['mapped_live'] < 64 * MIB  # not a separate mmap
    assert kept['returned'] < 64 * MIB  # freed memory kept for the next step


def test_default_glibc_maps_and_returns_large_blocks():
    default = _probe('default')
    assert default['mapped_live'] >= 64 * MIB
    assert default['returned'] >= 64 * MIB
