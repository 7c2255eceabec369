"""The PRDN sancodec's lossy files reach at a bits-per-sample budget, with their bytes, for every bench_lossy signal:
what ``--bps`` buys, to compare two versions of the encoder (run this one at each, a worktree through
``PYTHONPATH``), as ``lossy_sizes.py`` compares bytes at PRDN targets.

Run: .venv/bin/python benchmarks/budget_prdn.py [--data-dir ../shared/data] [--bps 1.0] [--effort best]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_lossy import SIGNALS, load

import sancodec
from sancodec.metrics import prdn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--bps", type=float, default=1.0)
    parser.add_argument("--effort", default="best")
    args = parser.parse_args()
    print(f"| signal | PRDN at {args.bps:g} bit/sample ({args.effort}) | bytes |")
    print("|---|---:|---:|")
    for _, label, path, channel in SIGNALS:
        sig = load(args.data_dir, path, channel)
        if sig is None:
            continue
        data = sancodec.encode(sig, mode="lossy", bps=args.bps, effort=args.effort)
        got = prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0])
        print(f"| {label} | {got:.6f} % | {len(data)} |")


if __name__ == "__main__":
    main()
