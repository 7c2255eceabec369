"""A lossy decode on one thread and on every core, side by side: what ``codec.jobs`` (a frame's channels, a long
channel's bands and prediction side by side) gains, on whole multi-lead records.

Run: .venv/bin/python benchmarks/bench_decode_threads.py [--data-dir ../shared/data] [--repeats 9]

Each record is coded once (``--mode lossy --prdn 2``) and decoded ``--repeats`` times in each way, the ways taking
turns; the fastest of each. "Back to back": decodes one after another (the helper threads awake). "After an
encode": each decode follows an encode of the record (``--effort fast``, to keep the run short), as in
``bench_lossy.py``'s speed table, where the helpers have slept for the length of an encode: on a machine whose
idle cores take long to wake (a virtual machine's) the decode then gains little.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import sancodec
from sancodec import Signal, read_signal

#: (label, record under --data-dir; the bundled mitdb 100 when the folder lacks it)
RECORDS = [("mitdb 100 (2 leads)", "wfdb/100"), ("PTB s0010_re (15 leads)", "wfdb/s0010_re"),
           ("mimicdb 03700181 (all channels)", "wfdb/03700181")]


def load(data_dir: Path, path: str) -> Signal | None:
    full = data_dir / path
    if not full.with_name(full.name + ".hea").exists():
        full = Path(sancodec.__file__).parent / "data" / "samples" / "100" if path == "wfdb/100" else full
    return read_signal(full) if full.with_name(full.name + ".hea").exists() else None


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print("# A lossy decode on one thread and on every core\n")
    print(f"`benchmarks/bench_decode_threads.py --data-dir {args.data_dir}`, {time.strftime('%Y-%m-%d')}: "
          f"{os.cpu_count()} cores; lossy --prdn 2; the fastest of {args.repeats} decodes each (ratio: every core "
          "over one thread). Its docstring says how.\n")
    print("| record (samples x channels) | back to back: 1 thread | every core | ratio | after an encode: 1 thread "
          "| every core | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, path in RECORDS:
        sig = load(args.data_dir, path)
        if sig is None:
            continue
        data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="best")
        best = {k: float("inf") for k in ("b1", "bn", "a1", "an")}
        for _ in range(args.repeats):
            best["b1"] = min(best["b1"], seconds(lambda d=data: sancodec.decode(d, threads=1)))
            best["bn"] = min(best["bn"], seconds(lambda d=data: sancodec.decode(d)))
            for key, threads in (("a1", 1), ("an", None)):
                sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
                best[key] = min(best[key], seconds(lambda d=data, t=threads: sancodec.decode(d, threads=t)))
        n, c = sig.samples.shape
        print(f"| {label} ({n} x {c}) | {best['b1'] * 1e3:.1f} ms | {best['bn'] * 1e3:.1f} ms | "
              f"{best['bn'] / best['b1']:.2f} | {best['a1'] * 1e3:.1f} ms | {best['an'] * 1e3:.1f} ms | "
              f"{best['an'] / best['a1']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
