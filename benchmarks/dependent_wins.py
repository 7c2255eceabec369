"""Where effort balanced's dependent quantisation (format 1.12) beats the scalar coding it is weighed against: could
balanced skip the scalar coding's payloads on the channels it quantises dependently, and code the trellis alone?

Run: .venv/bin/python benchmarks/dependent_wins.py [--data-dir ../shared/data]

Excerpts of 20 000, 40 000 and 60 000 samples (from samples 0, 100 000 and 300 000) of the first channels of the ECG
and blood pressure records, each coded at PRDN 1, 2, 5 and 9 % with ``--effort balanced``; where balanced weighs the
trellis (one frame, a beat template, at most ``lossy.QUICK_DEPENDENT`` samples), the scalar coding's payload bytes
beside the trellis coding's (``dependentframe.coding``: none where no step meets the bound). The scalar payloads
cost balanced about 2 ms of PTB's 18 at PRDN 2 % (``benchmarks/lossy_timeline.py``); the trellis alone would keep
them only where it always wins.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import dependentframe, lossy

RECORDS = ("wfdb/100", "wfdb/a103l", "wfdb/03700181", "physionet/drivedb/drive17a", "wfdb/s0010_re",
           "wfdb/mixedsignals", "wfdb/test01_00s")
EXCERPTS = ((0, 20000), (100000, 40000), (300000, 60000))
TARGETS = (1.0, 2.0, 5.0, 9.0)


def weighed(signal: Signal, prdn: float) -> list[tuple[int, int | None]]:
    """Each (scalar payload bytes, trellis payload bytes or None) balanced weighed coding ``signal`` at ``prdn``."""
    seen: list[tuple[int, int | None]] = []
    real = lossy._dependent

    def spy(coded, ref, bound, window=None):
        trellis = dependentframe.coding(coded, ref, bound)
        seen.append((sum(map(len, coded.payloads())), None if trellis is None else len(trellis[0])))
        return real(coded, ref, bound, window)

    lossy._dependent = spy
    try:
        sancodec.encode(signal, mode="lossy", prdn=prdn, effort="balanced", threads=1)
    finally:
        lossy._dependent = real
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    print("| excerpt | PRDN | scalar bytes | trellis bytes | trellis / scalar |\n|---|---:|---:|---:|---:|")
    outcomes: Counter[str] = Counter()
    ratios = []
    for path in RECORDS:
        if not (args.data_dir / path).with_suffix(".hea").exists():
            continue
        record = read_signal(args.data_dir / path)
        for ch in range(min(record.n_channels, 2)):
            step = record.sample_steps()[ch]
            x = record.samples[::step, ch]
            for lo, n in EXCERPTS:
                part = x[lo : lo + n]
                if len(part) < 8000 or np.ptp(part) == 0:
                    continue
                signal = Signal(part.astype(np.int64)[:, None], record.fs / step, ["x"], ["NU"])
                for prdn in TARGETS:
                    for scalar, trellis in weighed(signal, prdn):
                        ratio = None if trellis is None else trellis / scalar
                        outcomes["smaller" if ratio is not None and ratio < 1 else
                                 "no step meets the bound" if ratio is None else "not smaller"] += 1
                        ratios += [] if ratio is None else [ratio]
                        print(f"| {path} ch {ch} [{lo}, {lo + len(part)}) | {prdn:g} % | {scalar} | "
                              f"{'–' if trellis is None else trellis} | {'–' if ratio is None else f'{ratio:.3f}'} |")
    print(f"\ntrellis weighed {sum(outcomes.values())} times: " + ", ".join(f"{k} {v}" for k, v in outcomes.items())
          + (f"; trellis / scalar from {min(ratios):.3f} to {max(ratios):.3f}, median {np.median(ratios):.3f}"
             if ratios else ""))


if __name__ == "__main__":
    main()
