"""Reading a ``.san`` a few rows at a time (``f[i]`` in a loop, a Dask array's small chunks), with the frames of the
last read kept (``stream.KEPT_VALUES``) and without (``KEPT_VALUES = 0``: each read decodes its frames again), side
by side in one run.

    python benchmarks/bench_row_reads.py [--record sancodec/data/samples/100] [--rows 2000] [--repeats 3]

The record is encoded losslessly (frames of 2^17 samples) and lossy at PRDN 2 % with ``--effort fast`` (one frame)
into a temporary folder; for each file, ``--rows`` reads of one row each (``f[i]``, i = 0, 1, ...) are timed, the
fastest of ``--repeats`` passes each way: milliseconds a read, the frames read, and the time without keeping over
the time with it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sancodec
from sancodec import stream


def one_pass(path: Path, rows: int, kept: int) -> tuple[float, int]:
    """Seconds for ``rows`` one-row reads of a freshly opened ``path`` with ``KEPT_VALUES`` at ``kept``, and the
    frames they read."""
    saved, stream.KEPT_VALUES = stream.KEPT_VALUES, kept
    try:
        with sancodec.open(path) as f:
            start = time.perf_counter()
            for i in range(rows):
                f[i]
            return time.perf_counter() - start, f._reader.frames_read
    finally:
        stream.KEPT_VALUES = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", default="sancodec/data/samples/100")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    signal = sancodec.read_signal(args.record)
    print(f"{args.rows} one-row reads (f[i]) of {args.record}, the fastest of {args.repeats} passes each way\n")
    print("| file | kept: ms a read | frames read | not kept: ms a read | frames read | not kept over kept |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        files = {"lossless": sancodec.encode(signal),
                 "lossy, PRDN 2 %, --effort fast": sancodec.encode(signal, mode="lossy", prdn=2, effort="fast")}
        for label, data in files.items():
            path = Path(folder) / "f.san"
            path.write_bytes(data)
            with_kept = min(one_pass(path, args.rows, stream.KEPT_VALUES) for _ in range(args.repeats))
            without = min(one_pass(path, args.rows, 0) for _ in range(args.repeats))
            print(f"| {label} | {with_kept[0] / args.rows * 1e3:.4f} | {with_kept[1]} | "
                  f"{without[0] / args.rows * 1e3:.3f} | {without[1]} | {without[0] / with_kept[0]:.0f}x |")


if __name__ == "__main__":
    main()
