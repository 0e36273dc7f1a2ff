"""Interleaved timing for the benchmark tools: implementations alternate, so load changes hit all of them alike."""
import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch


def device_synchronizer(device: torch.device) -> Callable[[], None]:
    """A function that waits for queued work on ``device`` (a no-op on CPU)."""
    if device.type == 'cuda':
        return torch.cuda.synchronize
    return lambda: None


def time_interleaved(calls: Dict[str, Callable[[], object]],
                     iters: int,
                     warmup: int,
                     synchronize: Optional[Callable[[], None]] = None) -> Dict[str, Tuple[float, float]]:
    """Median (wall seconds, process CPU seconds) per call, the calls alternating ``iters`` times after ``warmup``
    untimed rounds; ``synchronize`` (e.g. :func:`device_synchronizer`) runs before and after each timed call."""
    synchronize = synchronize or (lambda: None)
    for _ in range(warmup):
        for call in calls.values():
            call()
    wall: Dict[str, List[float]] = {name: [] for name in calls}
    cpu: Dict[str, List[float]] = {name: [] for name in calls}
    for _ in range(iters):
        for name, call in calls.items():
            synchronize()
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            call()
            synchronize()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in calls}
