"""How long sancodec takes to read a large CSV, next to numpy's own parser on the same file in the same run.

    python benchmarks/bench_csv_read.py [--rows 650000] [--channels 3] [--repeats 5] [--csv FILE ...]

Three files are written to a temporary folder: a plain table (a header row of names, values at 3 decimals, as
``numpy.savetxt`` writes it), the same with a few empty cells (gaps, read as NaN), and the same values printed to
6 places after a time column (``padded.csv``: the places kept, ``io.csv_places``). Each is read by
``sancodec.read_signal`` (which also works out the CSV's layout, decimals, gaps and how to write it back) and by
``numpy.loadtxt`` (numbers only; for the gapped file with ``ndmin=2`` and empty cells as NaN through
``converters``, which numpy then parses in Python): the fastest of ``--repeats`` reads each, and sancodec's time
over numpy's. ``--csv`` adds files of your own (a header row, then numbers, a time column first: PhysioNet's
bidmc_01_Signals.csv), read at their time column's rate as ``sancodec encode`` reads them.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from timing import fastest_seconds as fastest

import sancodec


def write_tables(folder: Path, rows: int, channels: int) -> tuple[Path, Path, Path]:
    """The plain CSV, the gapped one (every 5000th row's last cell empty), and a padded one (a time column at 250 Hz
    to 4 places and the values to 6, as ``numpy.savetxt(fmt="%.6f")`` prints values that need 3: every cell ends in
    0, the places sancodec keeps to write it back byte for byte), from a seeded random walk."""
    x = np.round(np.cumsum(np.random.default_rng(0).normal(0, 0.01, (rows, channels)), axis=0), 3)
    names = ",".join(f"ch{i}" for i in range(channels))
    plain = folder / "plain.csv"
    np.savetxt(plain, x, delimiter=",", fmt="%.3f", header=names, comments="")
    lines = plain.read_text().splitlines()
    for i in range(1, len(lines), 5000):
        lines[i] = lines[i].rsplit(",", 1)[0] + ","
    gapped = folder / "gapped.csv"
    gapped.write_text("\n".join(lines) + "\n")
    padded = folder / "padded.csv"
    np.savetxt(padded, np.column_stack([np.arange(rows) / 250, x]), delimiter=",",
               fmt=["%.4f", *["%.6f"] * channels], header="time," + names, comments="")
    return plain, gapped, padded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=650_000)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--csv", type=Path, nargs="*", default=[], help="more CSV files to time (a header row, numbers)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, gapped, padded = write_tables(Path(tmp), args.rows, args.channels)
        print(f"{args.rows} rows x {args.channels} channels; the fastest of {args.repeats} reads, seconds")
        print("file | sancodec.read_signal | numpy.loadtxt | ratio")
        for path in (plain, gapped, padded, *args.csv):
            rate = None if path in (padded, *args.csv) else 250.0  # (a time column's rate, as encode reads it)
            ours = fastest(lambda p=path, r=rate: sancodec.read_signal(p, fs=r), args.repeats)
            theirs = fastest(lambda p=path: np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2,
                                                       converters=lambda s: float(s) if s.strip() else np.nan),
                             args.repeats) if path is gapped else \
                fastest(lambda p=path: np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2), args.repeats)
            print(f"{path.name} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
