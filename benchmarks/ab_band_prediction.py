"""Band prediction (format 1.11, ``codec.bandlpc``) on and off, side by side: bytes per signal and target, and the
encode's time summed over the set.

Run: .venv/bin/python benchmarks/ab_band_prediction.py --data-dir ../shared/data [--effort best] [--rounds 5]

Every signal of ``bench_lossy.SIGNALS`` that ``--data-dir`` holds is coded at PRDN 1, 2, 5 and 9 % with band
prediction and without it (``bandlpc.MIN_LENGTH`` past every band: no band is weighed as a residual), and the
file sizes are printed with their change. Then the whole set is encoded at PRDN 2 % with it and without it in
turn, ``--rounds`` times (a noisy machine's drift falls on both alike), and the fastest and the median round of
each are printed. Both files of a pair meet the target, which the script checks (they may decode to other
samples: the prediction is of the quantised values, but bytes that change can change which coding the encoder
keeps, another wavelet level or the time domain).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench_lossy import SIGNALS, TARGETS, load

import sancodec
from sancodec.codec import bandlpc
from sancodec.metrics import prdn


def _encode(sig: sancodec.Signal, target: float, effort: str, on: bool) -> bytes:
    saved = bandlpc.MIN_LENGTH
    bandlpc.MIN_LENGTH = saved if on else 1 << 62
    try:
        return sancodec.encode(sig, mode="lossy", prdn=target, effort=effort)
    finally:
        bandlpc.MIN_LENGTH = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", default="best")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    signals = [(label, s) for _, label, path, channel in SIGNALS
               if (s := load(args.data_dir, path, channel)) is not None]
    print(f"bytes with band prediction (without it), effort {args.effort}")
    print("| signal | " + " | ".join(f"PRDN {t:g} %" for t in TARGETS) + " |")
    print("|---|" + "---:|" * len(TARGETS))
    totals = [0, 0]
    for label, sig in signals:
        cells = []
        for target in TARGETS:
            on, off = _encode(sig, target, args.effort, True), _encode(sig, target, args.effort, False)
            x = sig.samples[:, 0]
            if max(prdn(x, sancodec.decode(data).samples[:, 0]) for data in (on, off)) > target:
                raise SystemExit(f"{label} at PRDN {target:g} %: a file misses its target")
            totals[0] += len(on)
            totals[1] += len(off)
            cells.append(f"{len(on)} ({len(off)}, {100 * (len(on) / len(off) - 1):+.1f} %)")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"| **all** | {totals[0]} ({totals[1]}, {100 * (totals[0] / totals[1] - 1):+.2f} %) |")
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (False, True):
            start = time.perf_counter()
            for _, sig in signals:
                _encode(sig, 2.0, args.effort, on)
            times[on].append(time.perf_counter() - start)
    for on in (True, False):
        label = "with band prediction" if on else "without"
        print(f"encode at PRDN 2 %, summed, {label}: fastest {min(times[on]):.3f} s, median "
              f"{statistics.median(times[on]):.3f} s")
    print(f"ratio with/without: fastest {min(times[True]) / min(times[False]):.2f}, median "
          f"{statistics.median(times[True]) / statistics.median(times[False]):.2f}")


if __name__ == "__main__":
    main()
