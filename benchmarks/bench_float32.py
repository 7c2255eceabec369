"""Lossless float32 signals: sancodec's file (format 1.18: on a step, or the values' bits) next to zstd -19
on the raw bytes and pcodec (level 8, one array per channel), and each codec's encode and decode time over
sancodec's, side by side in one run.

    python benchmarks/bench_float32.py [--record sancodec/data/samples/100] [--rows 200000] [--repeats 3]

The signals are made from the record's first ``--rows`` rows (mitdb 100, two leads, in mV), as float32 recordings
are made in practice:

- *band-passed ECG, mV*: the physical signal through a 0.5-40 Hz FIR band-pass (a windowed sinc, 361 taps, in
  float64), stored as float32: values on no step, held as their bits;
- *band-passed ECG, µV*: the same times 1000;
- *counts after two roundings*: the record's counts times 0.1 / 32767 in float64, stored as float32: on a float32
  step (the coder holds the counts);
- *white noise*: seeded normal float32 noise, where nothing predicts anything (bits: the floats' exponent and sign).

Bits a sample are the whole file's (sancodec's header included) over the samples of every channel; times are the
fastest of ``--repeats``, sancodec's on every core (its default), the others on one. Needs ``zstandard`` and
``pcodec`` (``make bench``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import sancodec


def band_pass(x: np.ndarray, fs: float, low: float = 0.5, high: float = 40.0, taps: int = 361) -> np.ndarray:
    """``x`` (samples x channels, float64) through a linear-phase FIR band-pass from ``low`` to ``high`` Hz: the
    difference of two Hamming-windowed sincs, convolved with each column (same length)."""
    t = np.arange(taps) - (taps - 1) / 2
    window = np.hamming(taps)
    kernel = (2 * high / fs * np.sinc(2 * high / fs * t) - 2 * low / fs * np.sinc(2 * low / fs * t)) * window
    return np.column_stack([np.convolve(column, kernel, mode="same") for column in x.T])


def signals(record: Path, rows: int) -> dict[str, np.ndarray]:
    """The float32 signals the benchmark weighs (module docstring)."""
    sig = sancodec.read_signal(record).slice(0, rows)
    filtered = band_pass(sig.physical(), sig.fs)
    counts = np.asarray(sig.samples, dtype=np.int64)
    return {
        "band-passed ECG, mV": filtered.astype(np.float32),
        "band-passed ECG, µV": (filtered * 1000).astype(np.float32),
        "counts after two roundings": (counts * 0.1 / 32767).astype(np.float32),
        "white noise": np.random.default_rng(0).normal(size=counts.shape).astype(np.float32),
    }


def fastest(work: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        best = min(best, time.perf_counter() - start)
    return best, out


#: each codec by name: its encode of an array and its decode of what that made
Coders = dict[str, tuple[Callable[[np.ndarray], bytes | list[bytes]], Callable[[object], object]]]


def codecs(fs: float) -> Coders:
    import zstandard
    from pcodec import ChunkConfig, standalone

    def san(x: np.ndarray) -> bytes:
        return sancodec.encode(sancodec.Signal(x, fs=fs), mode="lossless")

    def pco(x: np.ndarray) -> list[bytes]:
        return [standalone.simple_compress(np.ascontiguousarray(x[:, k]), ChunkConfig(compression_level=8))
                for k in range(x.shape[1])]

    return {
        "sancodec lossless": (san, lambda b: sancodec.decode(b).samples),  # type: ignore[arg-type]
        "zstd -19": (lambda x: zstandard.ZstdCompressor(level=19).compress(x.tobytes()),
                     lambda b: zstandard.ZstdDecompressor().decompress(b)),  # type: ignore[arg-type]
        "pcodec level 8": (pco, lambda b: [standalone.simple_decompress(p) for p in b]),  # type: ignore[union-attr]
    }


def size_of(blob: bytes | list[bytes]) -> int:
    return len(blob) if isinstance(blob, bytes) else sum(map(len, blob))


def weighed(x: np.ndarray, coders: Coders, repeats: int) -> list[tuple[str, int, float, float]]:
    """Each codec's bytes, encode and decode seconds (the fastest of ``repeats``) on ``x``, in ``coders``' order;
    sancodec's decode checked to be ``x`` bit for bit."""
    rows = []
    for codec, (encode, decode) in coders.items():
        seconds, blob = fastest(lambda: encode(x), repeats)  # noqa: B023 (called at once)
        back_seconds, back = fastest(lambda: decode(blob), repeats)  # noqa: B023
        if codec == "sancodec lossless":
            bits = f"u{x.dtype.itemsize}"
            assert isinstance(back, np.ndarray) and np.array_equal(back.view(bits), x.view(bits))
        rows.append((codec, size_of(blob), seconds, back_seconds))  # type: ignore[arg-type]
    return rows


def arguments(doc: str) -> argparse.Namespace:
    """The float benchmarks' command line (``--record``, ``--rows``, ``--repeats``), described by ``doc``'s first
    paragraph."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--record", type=Path, default=Path("sancodec/data/samples/100"))
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    return ap.parse_args()


def print_table(made: dict[str, np.ndarray], coders: Coders, repeats: int, kind: str,
                baseline_bits: float | None = None) -> None:
    """The markdown table of every codec on every signal of ``made`` (:func:`weighed`; ``kind``: the floats' type, as
    the first column names it): bytes, bits a sample (with ``baseline_bits``, also their excess over it, "over the
    counts'"), encode and decode seconds and each over sancodec's."""
    over = " over the counts' |" if baseline_bits is not None else ""
    print(f"| signal ({kind}, samples) | codec | bytes | bits a sample |{over} encode | / sancodec's | decode | "
          "/ sancodec's |")
    print("|---|---|---:|---:|" + ("---:|" if over else "") + "---:|---:|---:|---:|")
    for name, x in made.items():
        rows = weighed(x, coders, repeats)
        base_encode, base_decode = rows[0][2], rows[0][3]
        for codec, size, seconds, back_seconds in rows:
            bits = 8 * size / x.size
            excess = f" {bits - baseline_bits:+.2f} |" if baseline_bits is not None else ""
            print(f"| {name} ({x.size}) | {codec} | {size} | {bits:.2f} |{excess} {seconds:.4f} s | "
                  f"{seconds / base_encode:.2f} | {back_seconds:.4f} s | {back_seconds / base_decode:.2f} |")


def main() -> None:
    args = arguments(__doc__)
    fs = sancodec.read_signal(args.record).fs
    print_table(signals(args.record, args.rows), codecs(fs), args.repeats, "float32")


if __name__ == "__main__":
    main()
