"""How many float64 signals of counts scaled at random lossless mode takes, and whether each comes back bit for bit:
format 1.19's near grids (``codec/neargrid.py``) against what users' tools make.

    python benchmarks/neargrid_coverage.py [--cases 3000] [--seed 8]

Each case is a random walk of counts (3 to 3000 samples, one or two channels, within ±2^4 to ±2^24) scaled by a
factor drawn log-uniformly from 1e-12 to 1e6, with an offset of 0, one within ±1 or one within ±10^4, by one of five
formulas: ``k * f + o``, ``k / (1 / f) + o``, ``(k * f + o) * 1e-6``, ``(k - 7) * f / 3 + o``, ``k * f / 7``.
Prints, per formula, the cases coded (each decoded and compared bit for bit: a mismatch is an error) and refused
(lossless mode's one error), and each refused case's parameters.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

import sancodec
from sancodec.codec.prepare import LosslessFloatsError

FORMULAS = ("k * f + o", "k / (1 / f) + o", "(k * f + o) * 1e-6", "(k - 7) * f / 3 + o", "k * f / 7")


def scaled(k: np.ndarray, f: float, o: float, formula: int) -> np.ndarray:
    """``k`` scaled by ``FORMULAS[formula]``."""
    return [k * f + o, k / (1 / f) + o, (k * f + o) * 1e-6, (k - 7) * f / 3 + o, k * f / 7][formula]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    counts: Counter[tuple[str, str]] = Counter()
    start = time.perf_counter()
    for case in range(args.cases):
        n, c = int(rng.integers(3, 3000)), int(rng.integers(1, 3))
        reach = int(rng.choice([2**4, 2**10, 2**15, 2**20, 2**24]))
        k = np.clip(np.cumsum(rng.integers(-40, 41, (n, c)), axis=0), -reach, reach)
        f = float(10 ** rng.uniform(-12, 6))
        o = float(rng.choice([0.0, rng.uniform(-1e4, 1e4), rng.uniform(-1, 1)]))
        formula = int(rng.integers(0, len(FORMULAS)))
        x = scaled(k, f, o, formula)
        try:
            data = sancodec.encode(x, fs=250)
        except LosslessFloatsError:
            counts[(FORMULAS[formula], "refused")] += 1
            print(f"refused: case {case}, {n} x {c} counts within ±{reach}, f = {f!r}, o = {o!r}, "
                  f"{FORMULAS[formula]}")
            continue
        back = sancodec.decode(data).physical().reshape(x.shape)
        if not np.array_equal(back.view(np.uint64), x.view(np.uint64)):
            raise AssertionError(f"case {case} decoded to other doubles")
        counts[(FORMULAS[formula], "coded")] += 1
    print(f"\n{args.cases} cases, seed {args.seed}, {time.perf_counter() - start:.0f} s")
    print("| formula | coded, bit for bit | refused |\n|---|---:|---:|")
    for name in FORMULAS:
        print(f"| `{name}` | {counts[(name, 'coded')]} | {counts[(name, 'refused')]} |")


if __name__ == "__main__":
    main()
