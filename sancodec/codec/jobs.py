"""Independent pieces of one decode or encode run side by side: a window's frames, a frame's channels, a channel's
bands.

A file of one long frame (a lossy record is one frame up to 2^24 samples a channel) had nothing to share when
only whole frames went on threads, however many cores. :func:`run_jobs` runs a few jobs on up to
``threads`` threads, this one included, largest first so the last to finish is a small one. The compiled
kernels release the GIL (``kernels``), so the jobs overlap; results come back in the jobs' order, so threads
change speed, never values. The lossy encoder codes a channel's bands so (:func:`run_pieces`) on the threads
its channels leave free (:func:`piece_threads`).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from sancodec.codec.kernels import release_scratch

__all__ = ["PARALLEL_VALUES", "PIECE_VALUES", "Once", "piece_count", "piece_threads", "run_jobs", "run_pieces"]

T = TypeVar("T")

#: Values a decode must hold before its pieces go on threads: below this a thread's start costs about what
#: it saves (tens of microseconds against about 10 ns a value).
PARALLEL_VALUES = 1 << 16
#: Values an encoder's pieces must hold before they go on threads (:func:`run_pieces`): the encoder spends several
#: times a decoder's time a value on them (a band coded every way, a beat template made and its bands weighed).
PIECE_VALUES = 1 << 14


#: Threads an encoder's pieces may run on in this thread (:func:`piece_threads`); a thread starts with 1.
_PIECE_THREADS: ContextVar[int] = ContextVar("sancodec_piece_threads", default=1)


@contextmanager
def piece_threads(threads: int) -> Iterator[None]:
    """Within the block, :func:`run_pieces` on this thread may use up to ``threads`` threads (this one included):
    the lossy encoder gives each channel the threads its channels leave free (``lossyfile.code_block``)."""
    token = _PIECE_THREADS.set(max(1, int(threads)))
    try:
        yield
    finally:
        _PIECE_THREADS.reset(token)


def piece_count() -> int:
    """The threads :func:`piece_threads` allows here (1 outside it): how many pieces a caller that holds their
    results in memory makes at a time."""
    return _PIECE_THREADS.get()


def run_pieces(jobs: Sequence[Callable[[], Any]], sizes: Sequence[int]) -> list[Any]:
    """:func:`run_jobs` on the threads :func:`piece_threads` allows here, where the jobs hold at least
    :data:`PIECE_VALUES` values in all (``sizes``); else one after another on this thread."""
    threads = _PIECE_THREADS.get() if sum(sizes) >= PIECE_VALUES else 1
    return run_jobs(jobs, sizes, threads)


def run_jobs(jobs: Sequence[Callable[[], Any]], sizes: Sequence[int], threads: int) -> list[Any]:
    """Each job's result, in order: on this thread alone when ``threads`` is 1 or there is one job, else on
    up to ``threads`` threads taking the jobs by decreasing ``sizes`` (each job's expected work), no more than the
    cores that helpers already at work leave (:data:`_BUSY`: none free, the jobs run here in turn). Where jobs
    fail, the first failing job's exception (by position: what running them in order raises) is raised here,
    once every thread has stopped."""
    helpers = min(threads, len(jobs)) - 1
    if helpers > 0:
        with _BUSY_LOCK:  # no more threads than the cores left: a call within a job is one of these jobs' work
            helpers = min(helpers, _CORES - 1 - _BUSY[0])
    if helpers <= 0:
        return [job() for job in jobs]
    order = sorted(range(len(jobs)), key=lambda i: -sizes[i])
    results: list[Any] = [None] * len(jobs)
    failures: dict[int, BaseException] = {}
    queue = iter(order)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next((j for j in queue if not failures or j < min(failures)), None)  # none after a failure
            if i is None:
                return
            try:
                results[i] = jobs[i]()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                with lock:
                    failures[i] = exc

    def helper() -> None:
        with _BUSY_LOCK:
            _BUSY[0] += 1
        try:
            work()
        finally:
            with _BUSY_LOCK:
                _BUSY[0] -= 1
            release_scratch()  # a helper lives on: it keeps no channel-sized buffer between calls

    futures = [_pool().submit(helper) for _ in itertools.repeat(None, helpers)]
    work()
    for future in futures:  # one not started yet finds nothing left: cancelled, never waited for (no deadlock
        if not future.cancel():  # when the pool is busy, nested calls included)
            future.result()
    if failures:
        raise failures[min(failures)]
    return results


class Once(Generic[T]):
    """A value made at most once, by the first thread that asks for it (calling it), while any other that asks
    meanwhile waits for it: work one piece needs early and another later, started by the first (the later one
    makes it itself where it gets there first, so nothing waits on a piece that runs after it, as pieces on one
    thread do)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._lock = threading.Lock()
        self._value: T | None = None

    def __call__(self) -> T:
        with self._lock:
            if self._make is not None:
                self._value, self._make = self._make(), None
            return self._value  # type: ignore[return-value]


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_CORES = os.cpu_count() or 1
#: Helper threads running jobs now, across every run_jobs in the process: a caller that finds every core at work
#: (its own job's sibling on the other core of two, say) runs its jobs in turn. Threads beyond the cores only took
#: turns at the interpreter lock: a balanced encode's beat template medians, called beside the mains hum's
#: spectrum, took a quarter longer on two threads than on one.
_BUSY = [0]
_BUSY_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The helper threads, started once (starting threads for each call cost about 0.15 ms, a tenth of a
    60000-sample decode); as many as the machine has cores, shared by every decode in the process."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="sancodec-job")
        return _POOL


def _forget_pool() -> None:
    """In a forked child the parent's threads are gone (and the lock may have been held): start afresh."""
    global _POOL, _POOL_LOCK, _BUSY_LOCK
    _POOL, _POOL_LOCK, _BUSY_LOCK = None, threading.Lock(), threading.Lock()
    _BUSY[0] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
