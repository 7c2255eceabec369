"""A rate control's measurement of a long channel, on one thread and in halves on two: its time, side by side.

Run: .venv/bin/python benchmarks/bench_error_halves.py [--data-dir ../shared/data] [--repeats 15] [--markdown F]

Each signal of ``bench_lossy.SIGNALS`` of ``lossyrate.SHARED_ERROR`` samples or more is prepared plain
(``lossyrate.Prepared``, the first rate control's levels) and its decoded squared error measured at the step rate
control tries first at PRDN 2 % (``lossyrate.first_step``), by turns on one thread (the one compiled call,
``kernels.wavelet_requantised_error``) and where two threads are allowed (``Prepared._error_in_halves``: the bands
requantised and the last level rebuilt and summed a half on each thread, the coarser levels on one), the fastest of
``--repeats`` each; the last column is one thread's time over two's (above 1: the halves help). Both give the same
value, bit for bit, which this checks. glibc's allocator is steadied as ``bench_lossy.py`` steadies it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from timing import steady_allocator

from sancodec import Signal
from sancodec.codec.jobs import piece_threads
from sancodec.codec.lossy import LossyTarget
from sancodec.codec.lossyrate import SHARED_ERROR, Prepared, first_step


def side_by_side(signal: Signal, repeats: int) -> tuple[float, float]:
    """Seconds of one measurement of ``signal``'s first channel on one thread and on two, the fastest of
    ``repeats`` each, taken by turns; raises AssertionError where the two differ."""
    x = signal.samples[:, 0]
    ref = x.astype(np.float64)
    prepared = Prepared([x], [None])
    step = first_step(ref, LossyTarget(prdn=2.0)) or 1.0
    best = {1: float("inf"), 2: float("inf")}
    values = {}
    for _ in range(repeats):
        for threads in (1, 2):
            with piece_threads(threads):
                start = time.perf_counter()
                values[threads] = prepared.decoded_error(step, ref)  # decoded_error: not remembered per step
                best[threads] = min(best[threads], time.perf_counter() - start)
    assert values[1] == values[2], "the halves' error differs from the one call's"
    return best[1], best[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=15, help="the fastest of this many measurements of each")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets (the tests import this module without)
    steady_allocator()
    signals = [(label, s) for label, s in bench_lossy.labelled(args.data_dir) if len(s.samples) >= SHARED_ERROR]
    if not signals:
        raise SystemExit(f"no signal of {SHARED_ERROR} samples or more under {args.data_dir}")
    lines = ["# A long channel's error at a trial step, in halves on two threads\n",
             f"`benchmarks/bench_error_halves.py --data-dir {args.data_dir}`, {time.strftime('%Y-%m-%d')}; its "
             f"docstring says how. The fastest of {args.repeats} measurements each, one thread and two by turns.\n",
             "| signal (n) | one thread | two threads, in halves | one over two |", "|---|---:|---:|---:|"]
    for label, signal in signals:
        one, two = side_by_side(signal, args.repeats)
        lines.append(f"| {label} ({len(signal.samples)}) | {one * 1e3:.2f} ms | {two * 1e3:.2f} ms | "
                     f"{one / two:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
