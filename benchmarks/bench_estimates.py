"""The order-0 bit estimate of one histogram (``residual.bits_from_histogram``), timed on the calls real encodes make:
microseconds a call, next to the same histograms through the general route (``residual._histograms_bits``, which
takes histograms of any shape and which every histogram took before one alone had a route of its own), the floats of
both checked equal.

Run: .venv/bin/python benchmarks/bench_estimates.py [--data-dir ../shared/data] [--repeats 7]

The calls are collected from a lossy encode at PRDN 2 % (the default effort) of every signal of
``lossy_signals.SIGNALS`` the folder holds, and from a lossless encode of each record of
``bench_short_records.records`` (PTB-XL's size, where a lead's coding weighs a few hundred residual estimates), on one
thread. Each route is then timed over every call collected, the fastest of ``--repeats`` passes, the two routes
taking turns. A short lead's lossless coding is mostly Python between small compiled calls, and this estimate is one
of the larger of those (``docs/LOSSY_HISTORY.md``, twenty-second session); what a pass saves is a share of those
encodes' time, not a ratio of it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_short_records import records
from lossy_signals import labelled

import sancodec
from sancodec.codec import residual

Call = tuple[np.ndarray, int]


def collected(data_dir: Path) -> dict[str, list[Call]]:
    """The one-histogram calls (``counts``, ``n``) of the encodes named in the module's docstring, by kind."""
    calls: list[Call] = []
    original = residual.bits_from_histogram

    def recording(counts: np.ndarray, n: int | np.ndarray) -> float:
        if counts.ndim == 1:
            calls.append((counts.copy(), int(n)))
        return original(counts, n)

    out: dict[str, list[Call]] = {}
    residual.bits_from_histogram = recording  # type: ignore[assignment]
    try:
        for _, signal in labelled(data_dir):
            sancodec.encode(signal, mode="lossy", prdn=2.0, threads=1)
        out["lossy encodes at PRDN 2 %"], calls = calls, []
        for _, signal in records(data_dir):
            sancodec.encode(signal, threads=1)
        out["short records' lossless encodes"] = calls
    finally:
        residual.bits_from_histogram = original  # type: ignore[assignment]
    return out


def pass_seconds(route: Callable[[np.ndarray, int], float], calls: list[Call]) -> float:
    start = time.perf_counter()
    for counts, n in calls:
        route(counts, n)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("| encodes | calls | one histogram's route, us a call | the general route, us a call | ratio |")
    print("|---|---:|---:|---:|---:|")
    for kind, calls in collected(args.data_dir).items():
        if not calls:
            continue
        for counts, n in calls:  # the same float, to the bit, both ways
            assert residual.bits_from_histogram(counts, n) == residual._histograms_bits(counts, n)
        one, general = float("inf"), float("inf")
        for _ in range(args.repeats):
            one = min(one, pass_seconds(residual.bits_from_histogram, calls))
            general = min(general, pass_seconds(residual._histograms_bits, calls))
        print(f"| {kind} | {len(calls)} | {1e6 * one / len(calls):.2f} | {1e6 * general / len(calls):.2f} | "
              f"{one / general:.2f} |")


if __name__ == "__main__":
    main()
