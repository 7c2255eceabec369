"""What salvage costs: ``decode_file(..., salvage=True)`` of damaged copies of mitdb 100 (the bundled sample, lossless,
frames of 2^14 samples) against the whole file's plain decode, and the walk's search past a damaged frame over
random bytes against ``zlib.crc32`` of the same bytes, each pair timed in turn in one run (the fastest of
``--repeats``).

Run: .venv/bin/python benchmarks/bench_salvage.py [--repeats 5] [--random-mib 64]

Rows: the plain decode of the whole file; a salvage of the whole file (its index intact, every frame checked); of
the file with a byte of frame 10 flipped (its rows gaps); of the file cut at frame 30's end with frame 10 damaged
too (the walk from the header, past frame 10); and the walk's search: frame 0, then ``--random-mib`` MiB of random
bytes (no frame head to find), against crc32 of those bytes (what reading them as frames would cost at least).
Ratios over the plain decode (or crc32) are the figures to quote: this machine's speed drifts between runs.
"""

from __future__ import annotations

import argparse
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from timing import fastest_seconds

import sancodec
from sancodec.codec import decode_file
from sancodec.codec.container import FRAME_HEAD, SanReader

SAMPLE = Path(sancodec.__file__).parent / "data" / "samples" / "100"
FRAME = 1 << 14


def fastest(fn: Callable[[], object], repeats: int) -> float:
    """The least wall time of ``repeats`` calls of ``fn``, after one untimed call."""
    fn()
    return fastest_seconds(fn, repeats)


def damaged(data: bytes, frame: int) -> bytes:
    """``data`` with a payload byte of ``frame`` flipped (its stored CRC no longer holds)."""
    out = bytearray(data)
    out[SanReader(data).index[frame][0] + FRAME_HEAD.size + 3] ^= 0x10
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--random-mib", type=int, default=64)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # (each salvage warns of what it lost)
    data = sancodec.encode(sancodec.read_signal(SAMPLE), frame_len=FRAME)
    index = SanReader(data).index
    cut = damaged(data, 10)[: index[30][0] + index[30][1]]
    cases = [("plain decode of the whole file", lambda: decode_file(data)),
             ("salvage of the whole file", lambda: decode_file(data, salvage=True)),
             ("salvage, frame 10 damaged (index intact)", lambda: decode_file(damaged(data, 10), salvage=True)),
             ("salvage, cut after frame 30, frame 10 damaged (walked)", lambda: decode_file(cut, salvage=True))]
    print(f"mitdb 100, lossless, {len(index)} frames of {FRAME} samples, {len(data)} bytes; the fastest of "
          f"{args.repeats}")
    base = None
    for label, fn in cases:
        seconds = fastest(fn, args.repeats)
        base = base or seconds
        print(f"  {label:<58} {1e3 * seconds:8.1f} ms  {seconds / base:5.2f}x")
    first = index[0][0] + index[0][1]
    noise = np.random.default_rng(0).integers(0, 256, args.random_mib << 20, dtype=np.uint8).tobytes()
    blob = data[:first] + noise
    walked = decode_file(blob, salvage=True).salvaged
    assert walked is not None and walked.frames == 1  # (frame 0 found, nothing past it)
    search = fastest(lambda: decode_file(blob, salvage=True), args.repeats)
    crc = fastest(lambda: zlib.crc32(noise), args.repeats)
    mib = len(noise) / (1 << 20)
    print(f"the walk's search past frame 0 over {mib:.0f} MiB of random bytes: {1e3 * search:.1f} ms "
          f"({mib / search:.0f} MiB/s), crc32 of them {1e3 * crc:.1f} ms ({mib / crc:.0f} MiB/s): "
          f"{search / crc:.2f}x crc32's time")


if __name__ == "__main__":
    main()
