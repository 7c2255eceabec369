"""What a lossy encode gains from every core over one thread, record by record: the same files, timed side by side.

Run: .venv/bin/python benchmarks/bench_encode_threads.py [--data-dir ../shared/data] [--effort balanced] [--repeats 9]

Every signal of ``bench_lossy.SIGNALS`` the folder holds is coded at PRDN 2 % at ``--effort``, by turns on one
thread (``threads=1``) and on every core (sancodec's default), the fastest of ``--repeats`` each; the last column
is one thread's time over every core's (above 1: the cores help). The encoder shares a channel's pieces between
threads (``jobs.run_pieces``); the compiled kernels release the interpreter lock, the Python between them does
not, so what two threads gain depends on how much of a piece is Python. glibc's allocator is steadied as
``bench_lossy.py`` steadies it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import bench_lossy
from timing import steady_allocator

from sancodec.codec.lossy import EFFORTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="balanced")
    parser.add_argument("--repeats", type=int, default=9, help="the fastest of this many encodes of each")
    args = parser.parse_args()
    steady_allocator()
    loaded = [(label, bench_lossy.load(args.data_dir, path, channel))
              for _, label, path, channel in bench_lossy.SIGNALS]
    signals = [(label, signal) for label, signal in loaded if signal is not None]
    if not signals:
        raise SystemExit(f"no signals under {args.data_dir}")
    print(f"--effort {args.effort} at PRDN 2 %, the fastest of {args.repeats} encodes each, one thread and every "
          "core by turns\n")
    print("| signal (n) | one thread | every core | one over every |")
    print("|---|---:|---:|---:|")
    totals = [0.0, 0.0]
    for label, signal in signals:
        best = [float("inf"), float("inf")]
        for _ in range(args.repeats):
            for k, threads in enumerate((1, None)):
                best[k] = min(best[k], bench_lossy.encode_seconds(signal, 2.0, args.effort, threads))
        totals = [t + b for t, b in zip(totals, best)]
        print(f"| {label} ({signal.n_samples}) | "
              f"{best[0] * 1e3:.2f} ms | {best[1] * 1e3:.2f} ms | {best[0] / best[1]:.2f} |")
    print(f"| **every signal above, summed** | {totals[0] * 1e3:.1f} ms | {totals[1] * 1e3:.1f} ms | "
          f"{totals[0] / totals[1]:.2f} |")


if __name__ == "__main__":
    main()
