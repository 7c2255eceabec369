"""Lossy streaming (``sancodec.open(path, "w", codec="lossy", prdn=P)``: each frame coded at P as soon as it is whole)
against ``sancodec.encode`` of the whole record at the same target and frame length, side by side in one run.

    python benchmarks/bench_lossy_stream.py [--data-dir ../shared/data] [--effort balanced] [--repeats 2]

For every signal of ``bench_lossy``'s set held as integers (the writer takes ADC units), at PRDN 2 and 5 %, with
the lossy default frames (2^20 samples: most of these records are one frame, and then the two files are the same
bytes) and with frames of 2^16: the bytes of each file, the PRDN each decodes to (measured here), and the seconds
each took (the fastest of ``--repeats``; the writer fed 10 000 rows a write, writing to a temporary folder). The
encoder gives each frame of a record the share of its error budget that the record's spread gives it; the writer,
which cannot look ahead, holds every frame to P about its own mean, which meets P over the record.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from lossy_signals import labelled

import sancodec
from sancodec.metrics import prdn

FRAMES = (1 << 20, 1 << 16)
TARGETS = (2.0, 5.0)
BLOCK = 10_000


def streamed(path: Path, signal: sancodec.Signal, **options: object) -> bytes:
    """``signal`` written through a lossy writer, :data:`BLOCK` rows a write: the file's bytes."""
    with sancodec.open(path, "w", like=signal, codec="lossy", **options) as f:
        for s in range(0, signal.n_samples, BLOCK):
            f.write(signal.samples[s : s + BLOCK])
    return path.read_bytes()


def fastest(work: Callable[[], bytes], repeats: int) -> tuple[float, bytes]:
    """The least seconds of ``repeats`` calls of ``work`` and what it gave."""
    best, out = float("inf"), b""
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        best = min(best, time.perf_counter() - start)
    return best, out


def decoded_prdn(signal: sancodec.Signal, data: bytes) -> float:
    """The worst channel's PRDN of ``data`` as it decodes, against ``signal``."""
    back = sancodec.decode(data).samples
    return max(prdn(signal.samples[:, ch].astype(np.float64), back[:, ch].astype(np.float64))
               for ch in range(signal.n_channels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", default="balanced", choices=["best", "balanced", "fast"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    signals = labelled(args.data_dir)
    skipped = [label for label, s in signals if not s.is_digital]
    print(f"lossy streaming against sancodec.encode, --effort {args.effort}, the fastest of {args.repeats}; "
          f"{BLOCK} rows a write\n")
    print("| signal (n) | frames | PRDN target | encode bytes | stream bytes | stream / encode | PRDN decoded: "
          "encode, stream | seconds: encode, stream |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    totals: dict[tuple[int, float], list[int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.san"
        for label, signal in signals:
            if not signal.is_digital:
                continue
            for frame_len in FRAMES:
                if frame_len < (1 << 20) and signal.n_samples <= frame_len:
                    continue  # one frame either way: the same file
                for target in TARGETS:
                    options: dict[str, Any] = {"prdn": target, "effort": args.effort, "frame_len": frame_len}
                    t_encode, whole = fastest(partial(sancodec.encode, signal, mode="lossy", **options),
                                              args.repeats)
                    t_stream, data = fastest(partial(streamed, path, signal, **options), args.repeats)
                    sums = totals.setdefault((frame_len, target), [0, 0])
                    sums[0] += len(whole)
                    sums[1] += len(data)
                    print(f"| {label} ({signal.n_samples}) | 2^{frame_len.bit_length() - 1} | {target:g} % | "
                          f"{len(whole)} | {len(data)} | {len(data) / len(whole):.4f} | "
                          f"{decoded_prdn(signal, whole):.3f}, {decoded_prdn(signal, data):.3f} | "
                          f"{t_encode:.3f}, {t_stream:.3f} |")
    for (frame_len, target), (a, b) in totals.items():
        print(f"| **summed** | 2^{frame_len.bit_length() - 1} | {target:g} % | {a} | {b} | {b / a:.4f} | | |")
    if skipped:
        print(f"\nnot streamed (floats; the writer takes integers): {', '.join(skipped)}")


if __name__ == "__main__":
    main()
