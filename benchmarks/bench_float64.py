"""Lossless float64 signals near a step: sancodec's file (format 1.19: a count and a correction in units in the last
place, ``codec.neargrid``) next to the counts' own file, zstd -19 on the raw bytes and pcodec (level 8, one array per
channel), and each codec's encode and decode time over sancodec's, side by side in one run.

    python benchmarks/bench_float64.py [--record sancodec/data/samples/100] [--rows 200000] [--repeats 3]

The signals are the record's first ``--rows`` rows of counts (mitdb 100, two leads) made physical in float64 as the
tools users have make them, none by one multiplication (which format 1.17 holds exactly, at the counts' cost):

- *two roundings*: ``counts * 0.1 / 32767`` (a gain, then a range);
- *MNE's EDF scaling, V*: as MNE reads an EDF of digital range [-32768, 32767] over [-3276.8, 3276.7] µV: the
  counts times the calibration plus the offset, then times 1e-6;
- *pyedflib's EDF scaling*: ``(counts - dmin) * (pmax - pmin) / (dmax - dmin) + pmin`` over the same ranges;
- *divided by a gain of 3*: wfdb-python's physical signal ``(d - baseline) / gain`` for a gain whose reciprocal is
  no double.

Bits a sample are the whole file's (sancodec's header included) over the samples of every channel; "counts" is
sancodec's lossless file of the integer counts themselves, what the float64 file costs on top of. Times are the
fastest of ``--repeats``, sancodec's on every core (its default), the others on one. Needs ``zstandard`` and
``pcodec`` (``make bench``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sancodec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_float32 import arguments, codecs, print_table  # noqa: E402

CAL = (3276.7 - -3276.8) / (32767 - -32768)  # µV per count, the EDF header's ranges


def signals(record: Path, rows: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The record's counts and the float64 signals made of them (module docstring)."""
    sig = sancodec.read_signal(record).slice(0, rows)
    k = np.asarray(sig.samples, dtype=np.int64)
    return k, {
        "two roundings": k * 0.1 / 32767,
        "MNE's EDF scaling, V": (k * CAL + (-3276.8 - CAL * -32768)) * 1e-6,
        "pyedflib's EDF scaling": (k - (-32768)) * (3276.7 - -3276.8) / (32767 - -32768) + -3276.8,
        "divided by a gain of 3": (k - 1024) / 3.0,
    }


def main() -> None:
    args = arguments(__doc__)
    fs = sancodec.read_signal(args.record).fs
    counts, made = signals(args.record, args.rows)
    counts_bits = 8 * len(sancodec.encode(sancodec.Signal(counts, fs=fs), mode="lossless")) / counts.size
    print(f"counts (int, {counts.size} samples): sancodec lossless {counts_bits:.2f} bits a sample\n")
    print_table(made, codecs(fs), args.repeats, "float64", counts_bits)


if __name__ == "__main__":
    main()
