"""What a second thread adds on this machine: compiled kernels alone, on one thread and on two at once.

Run: .venv/bin/python benchmarks/core_scaling.py [--repeats 5] [--calls 40]

Each workload is a compiled call that releases the interpreter lock and holds it not at all while it runs (no Python
between its calls worth counting): a mitdb 100-length channel's wavelet rebuild (``kernels.cdf97_inverse``), the
adaptive coding of a short ECG's bands both ways (``kernels.encode_adaptive_bands``, the bands of PTB s0010_re's lead
i at PRDN 2 % by their shape: a Laplacian of the same spread per band) and a table coding of the same bands
(``kernels.encode_arrays``). ``--calls`` calls on one thread are timed, then the same number on each of two threads
started together, by turns, the fastest of ``--repeats`` of each; the speed-up is the two threads' work over their
wall against one thread's (2.0 where two cores share nothing). Where it is well under 2, as on a VM whose two vCPUs
share a core or its caches, an encoder's second thread cannot give much more than that however its work is split:
the ceiling under every "every core" figure in the docs, the lossy encode's ratio to the wavelet coder
(``bench_lossy.py``) among them.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable

import numpy as np

from sancodec.codec import kernels

BAND_SPREAD = (120.0, 60.0, 40.0, 16.0, 5.0, 2.0, 1.2, 0.8)  # each band's mean magnitude, coarsest first


def short_bands(seed: int = 0) -> list[np.ndarray]:
    """Eight bands of a 38 400-value frame (300, 300, 600, ..., 19 200 values), integers of PTB's shape."""
    rng = np.random.default_rng(seed)
    lengths = [300, 300, 600, 1200, 2400, 4800, 9600, 19200]
    return [np.rint(rng.laplace(0, s, n)).astype(np.int64) for s, n in zip(BAND_SPREAD, lengths)]


Work = Callable[[], object]


def rebuild_work() -> Work:
    """A wavelet rebuild of a mitdb 100-length channel, on buffers of its own."""
    samples = np.random.default_rng(1).normal(0, 100, 650_000)
    work = np.empty_like(samples)

    def rebuild() -> object:
        work[:] = samples
        return kernels.cdf97_inverse(work, 6)

    return rebuild


def adaptive_work() -> Work:
    """The adaptive coding of :func:`short_bands` both ways, on bands of its own."""
    bands = short_bands()
    return lambda: kernels.encode_adaptive_bands(bands, -1, 2)


def table_work() -> Work:
    """The table coding of :func:`short_bands`, on bands of its own."""
    bands = short_bands()
    return lambda: kernels.encode_arrays(bands, [False] * len(bands))


#: each workload's name and how to make one (each thread makes its own: no array is shared between the two)
WORKLOADS: dict[str, Callable[[], Work]] = {"wavelet rebuild, 650 000 samples": rebuild_work,
                                            "adaptive bands both ways, 38 400 values": adaptive_work,
                                            "table-coded bands, 38 400 values": table_work}


def one_thread(fn: Work, calls: int) -> float:
    """Seconds of ``calls`` calls of ``fn`` on this thread."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def two_threads(make: Callable[[], Work], calls: int) -> float:
    """Seconds until two threads, started together, have each made ``calls`` calls of a workload ``make`` made for
    it."""
    fns = [make(), make()]
    ready = threading.Barrier(3)

    def run(fn: Work) -> None:
        ready.wait()
        for _ in range(calls):
            fn()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def speed_up(make: Callable[[], Work], calls: int, repeats: int) -> tuple[float, float, float]:
    """The fastest of ``repeats`` turns each of one thread and of two: their seconds, and the two threads' work over
    their wall against one thread's (``2 * one / two``)."""
    fn = make()
    fn()  # (warm)
    one, two = float("inf"), float("inf")
    for _ in range(repeats):
        one = min(one, one_thread(fn, calls))
        two = min(two, two_threads(make, calls))
    return one, two, 2 * one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    if not kernels.COMPILED:
        raise SystemExit("the compiled kernels are not built here: nothing to time")
    print(f"{args.calls} calls on one thread, then {args.calls} on each of two threads at once (the fastest of "
          f"{args.repeats} turns each)")
    print("| workload | one thread | two threads | speed-up (2.0: two full cores) |")
    print("|---|---:|---:|---:|")
    for name, make in WORKLOADS.items():
        one, two, gain = speed_up(make, args.calls, args.repeats)
        print(f"| {name} | {one * 1e3:.1f} ms | {two * 1e3:.1f} ms | {gain:.2f} |")


if __name__ == "__main__":
    main()
