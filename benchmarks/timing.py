"""Shared timing helpers for the benchmark scripts: medians over repeats after one warm-up, the fastest of
repeats, and paired ratios."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import statistics
import time
from collections.abc import Callable

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def steady_allocator() -> bool:
    """Fix glibc malloc's mmap and trim thresholds for this process (32 MB and 1 GB): by default they move with
    what the process has freed, and a long benchmark run then lands, run to run, where every large array comes
    fresh from the kernel, page faults and all, or not: bench_lossy's wavelet coder took 41 or 66 ms on mitdb 100
    in otherwise alike runs (PyWavelets allocates each level anew). Fixed, both coders time alike run to run.
    False where this is not glibc (nothing changed)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fastest_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The shortest wall time of ``fn`` over ``repeats`` calls (the first included: a kernel replayed on inputs
    already in cache needs no warm-up)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def fastest(so_far: float, seconds: float) -> float:
    """The fewer of two timings, NaN where the wavelet coder's curve does not reach the PRDN timed (a NaN stays:
    ``min`` would keep whichever came first)."""
    return float("nan") if math.isnan(seconds) or math.isnan(so_far) else min(so_far, seconds)


def paired_ratio(fn: Callable[[], object], reference: Callable[[], object], repeats: int) -> float:
    """Median over ``repeats`` of ``reference``'s time / ``fn``'s time, the two timed back to back in
    each round (after one warm-up of each): a machine that speeds up or slows down between rounds
    moves both sides of a ratio alike."""
    fn()
    reference()
    ratios = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        reference()
        ratios.append((time.perf_counter() - t1) / (t1 - t0))
    return statistics.median(ratios)
