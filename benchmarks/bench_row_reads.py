"""Reading a ``.san`` a few rows at a time (``f[i]`` in a loop, a Dask array's small chunks), with the frames of the
last read kept (``stream.KEPT_VALUES``) and without (``KEPT_VALUES = 0``: each read decodes its frames again), next
to what a user would read the rows from instead, side by side in one run.

    python benchmarks/bench_row_reads.py [--record sancodec/data/samples/100] [--rows 2000] [--repeats 3]

The record is encoded losslessly (frames of 2^17 samples) and lossy at PRDN 2 % with ``--effort fast`` (one frame)
into a temporary folder, and written as FLAC (libsndfile, level 8: ``soundfile``, one ``seek`` and ``read`` a row,
the file open throughout) and as a Zarr 3 array (zarr's default zstd compressor, chunks of 2^17 rows, ``a[i]``);
for each, ``--rows`` reads of one row each are timed, rows in order (i = 0, 1, ...) and at random (the same seeded
rows for every file), the fastest of ``--repeats`` passes: milliseconds a read, the frames the ``.san`` reads decoded,
and each time over the lossless ``.san``'s with the frames kept. Rows at random are where keeping a frame helps
little: a read mostly lands in another frame and decodes it, where FLAC seeks to the row's block. Needs
``soundfile`` and ``zarr`` (``make bench``, the dev extra).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import sancodec
from sancodec import stream


def one_pass(path: Path, rows: Sequence[int] | int, kept: int) -> tuple[float, int]:
    """Seconds for one-row reads of ``rows`` (a count: rows 0, 1, ...) of a freshly opened ``path`` with
    ``KEPT_VALUES`` at ``kept``, and the frames they read."""
    saved, stream.KEPT_VALUES = stream.KEPT_VALUES, kept
    try:
        with sancodec.open(path) as f:
            start = time.perf_counter()
            for i in _rows(rows):
                f[i]
            return time.perf_counter() - start, f._reader.frames_read
    finally:
        stream.KEPT_VALUES = saved


def _rows(rows: Sequence[int] | int) -> Sequence[int]:
    return range(rows) if isinstance(rows, int) else rows


def flac_pass(path: Path, rows: Sequence[int]) -> float:
    """Seconds for one-row reads of ``rows`` of the FLAC file at ``path`` (libsndfile: a seek and a read each)."""
    import soundfile

    with soundfile.SoundFile(path) as f:
        start = time.perf_counter()
        for i in rows:
            f.seek(i)
            f.read(1, dtype="int16")
        return time.perf_counter() - start


def zarr_pass(path: Path, rows: Sequence[int]) -> float:
    """Seconds for one-row reads (``a[i]``) of ``rows`` of the Zarr array at ``path``."""
    import zarr

    a = zarr.open_array(path, mode="r")
    start = time.perf_counter()
    for i in rows:
        a[i]
    return time.perf_counter() - start


def main() -> None:
    import soundfile
    import zarr

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", default="sancodec/data/samples/100")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    signal = sancodec.read_signal(args.record)
    x = signal.samples.astype(np.int16)
    print(f"{args.rows} one-row reads (f[i]) of {args.record}, the fastest of {args.repeats} passes each\n")
    print("| file | rows | ms a read | frames read | over the lossless .san's, frames kept |")
    print("|---|---|---:|---:|---:|")
    orders = {"in order": list(range(args.rows)),
              "at random": np.random.default_rng(0).integers(0, len(x), args.rows).tolist()}
    with tempfile.TemporaryDirectory() as folder:
        files = {"lossless": sancodec.encode(signal),
                 "lossy, PRDN 2 %, --effort fast": sancodec.encode(signal, mode="lossy", prdn=2, effort="fast")}
        flac = Path(folder) / "f.flac"
        soundfile.write(flac, x, int(signal.fs), format="FLAC", subtype="PCM_16", compression_level=1.0)
        zarr_path = Path(folder) / "f.zarr"
        zarr.create_array(zarr_path, shape=x.shape, chunks=(1 << 17, x.shape[1]), dtype="int16")[:] = x
        for order, picked in orders.items():
            rows: list[tuple[str, float, int | None]] = []
            for label, data in files.items():
                path = Path(folder) / "f.san"
                path.write_bytes(data)
                kept = min(one_pass(path, picked, stream.KEPT_VALUES) for _ in range(args.repeats))
                not_kept = min(one_pass(path, picked, 0) for _ in range(args.repeats))
                rows += [(f".san {label}, frames kept", *kept), (f".san {label}, not kept", *not_kept)]
            others: dict[str, tuple[Callable[[Path, Sequence[int]], float], Path]] = {
                "FLAC -8 (libsndfile)": (flac_pass, flac), "Zarr 3 (zstd, 2^17-row chunks)": (zarr_pass, zarr_path)}
            for label, (timed, where) in others.items():
                rows.append((label, min(timed(where, picked) for _ in range(args.repeats)), None))
            base = rows[0][1]
            for label, seconds, frames in rows:
                ratio = seconds / base
                print(f"| {label} | {order} | {seconds / args.rows * 1e3:.4f} | {'' if frames is None else frames} | "
                      + (f"{ratio:.0f}x |" if ratio >= 100 else f"{ratio:.3g}x |"))


if __name__ == "__main__":
    main()
