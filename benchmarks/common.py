"""What the benchmarks share: timing."""

import time

import numpy as np


def best_of(repeat: int, fn, *args):
    """(shortest wall time of ``repeat`` calls in s, result of the last call)."""
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result
