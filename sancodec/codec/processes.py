"""Work on worker processes: a lossy record's channels coded side by side where threads gain little.

A record's channels code independently, but the lossy encoder's Python between its compiled kernels holds the
interpreter lock, so channels on threads overlap poorly where that Python is much of the work: on records of many
short channels (PTB s0010_re's 15 leads, macecgdb's 4) two processes take less time than two threads at the default
and balanced efforts, while long channels, whose compiled work threads already overlap, gain nothing and pay for
their samples' trip to the workers (mitdb 100's two leads: ``benchmarks/bench_multilead.py``,
``docs/LOSSY_MULTILEAD.md``; the pass that codes channels as differences from earlier ones runs after them, in the
caller). Opt-in (``encode(..., processes=True)``, ``sancodec encode --processes``), because workers start as fresh
interpreters: multiprocessing's forkserver where the platform has it (no thread of the caller is forked), else
spawn. That costs time the first time in a process (``docs/LOSSY_MULTILEAD.md`` times it; a fresh worker's first long
channel also finds its memory fresh from the kernel), after which the pool stays up for the next encode, and each
worker imports the caller's main module, as multiprocessing always does: a script guards its work with
``if __name__ == "__main__":``. The bytes are the same as on threads, which take the work where this process can
have no workers (a daemonic one, such as a multiprocessing pool's worker, or a platform without process semaphores).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from sancodec.codec.pipeline import ordered_submit
from sancodec.errors import SancodecError, option

__all__ = ["ordered_map_processes", "shutdown"]

T = TypeVar("T")
R = TypeVar("R")

#: What a forkserver imports once, before it forks each worker: the lossy encoder, so a worker starts warm.
PRELOAD = ["sancodec.codec.lossyfile"]

_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0
_LOCK = threading.Lock()


def _context() -> multiprocessing.context.BaseContext:
    """Forkserver where the platform has it (its workers fork from a server that holds no thread of ours), else
    spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes, started once and kept for later calls (started again where more are asked for)."""
    global _POOL, _POOL_WORKERS
    with _LOCK:
        if _POOL is None or _POOL_WORKERS < workers:
            if _POOL is not None:
                _POOL.shutdown(wait=True)
            _POOL = ProcessPoolExecutor(workers, mp_context=_context(), initializer=_ignore_interrupts)
            _POOL_WORKERS = workers
        return _POOL


def _ignore_interrupts() -> None:
    """A worker leaves Ctrl-C to the caller (the terminal sends it to every process of the group): the caller's
    KeyboardInterrupt ends the encode, and the workers stop with the pool, with no traceback of their own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def shutdown() -> None:
    """Stop the worker processes (the next call starts them again); Python also stops them at exit."""
    global _POOL, _POOL_WORKERS
    with _LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        _POOL, _POOL_WORKERS = None, 0


def ordered_map_processes(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R] | None:
    """``map(fn, items)`` on ``workers`` processes, results in input order, at most ``2 * workers`` items in flight
    (``fn``, each item and each result cross to and from the workers pickled: ``fn`` a module's function); None
    where this process cannot have workers (a daemonic process, such as a multiprocessing pool's worker, or a
    platform without working process semaphores): the caller runs ``fn`` on threads instead. An exception ``fn``
    raises comes back as itself; a worker that died (killed, out of memory) is a
    :class:`~sancodec.errors.SancodecError`, and the pool starts afresh on the next call."""
    if multiprocessing.current_process().daemon:
        return None
    try:
        pool = _pool(workers)
    except (OSError, ImportError, NotImplementedError):  # no sem_open, no /dev/shm: no pool here
        return None
    return _results(pool, fn, items, workers)


def _results(pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """:func:`ordered_map_processes`' results, a dead worker's pool made an error."""
    try:
        yield from ordered_submit(pool, fn, items, workers)
    except BrokenProcessPool as exc:
        shutdown()
        raise SancodecError(f"a worker process stopped before it finished ({exc}); out of memory? Encode again "
                            f"without {option('processes')} (threads hold one copy of the record)") from None


def _forget_pool() -> None:
    """In a forked child the parent's workers are not its own: start afresh."""
    global _POOL, _POOL_WORKERS, _LOCK
    _POOL, _POOL_WORKERS, _LOCK = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
