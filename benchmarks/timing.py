"""Shared timing helpers for the benchmark scripts: medians over repeats after one warm-up, the fastest of
repeats, and paired ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
