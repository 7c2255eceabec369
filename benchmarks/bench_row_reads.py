"""Reading a ``.san`` a few rows at a time (``f[i]`` in a loop, a Dask array's small chunks), with the frames reads
decoded kept (``cache_bytes``' default, ``stream.CACHE_BYTES``, the least recently used dropped first), with room for a
quarter of the record's decoded bytes only (a record too long for what is kept), and without (``cache_bytes=0``: each
read decodes its frames again), next to what a user would read the rows from instead, side by side in one run.

    python benchmarks/bench_row_reads.py [--record sancodec/data/samples/100] [--rows 2000] [--repeats 3]

The record is encoded losslessly (frames of 2^17 samples) and lossy at PRDN 2 % with ``--effort fast`` (one frame)
into a temporary folder, and written as FLAC (libsndfile, level 8: ``soundfile``, one ``seek`` and ``read`` a row,
the file open throughout) and as a Zarr 3 array (zarr's default zstd compressor, chunks of 2^17 rows, ``a[i]``);
for each, ``--rows`` reads of one row each are timed, rows in order (i = 0, 1, ...) and at random (the same seeded
rows for every file), the fastest of ``--repeats`` passes: milliseconds a read, the frames the ``.san`` reads decoded,
and each time over the lossless ``.san``'s with the frames kept. Rows at random over a record longer than the frames
kept are where sancodec loses: a read mostly lands in a frame not kept and decodes it, where FLAC seeks to the row's
block. Needs ``soundfile`` and ``zarr`` (``make bench``, the dev extra).

    python benchmarks/bench_row_reads.py --frame-lens 131072,32768,16384,8192,4096 [--rows 2000]

instead weighs what shorter frames (``--frame-len``) buy there: the lossless file's bytes and its rows read at
random with no frames kept, at each frame length, next to FLAC's.
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


def one_pass(path: Path, rows: Sequence[int] | int, cache_bytes: int) -> tuple[float, int]:
    """Seconds for one-row reads of ``rows`` (a count: rows 0, 1, ...) of ``path`` opened afresh with
    ``cache_bytes``, and the frames they read."""
    with sancodec.open(path, cache_bytes=cache_bytes) as f:
        start = time.perf_counter()
        for i in _rows(rows):
            f[i]
        return time.perf_counter() - start, f._reader.frames_read


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


def frame_lengths(signal: sancodec.Signal, lengths: Sequence[int], rows: Sequence[int], repeats: int) -> None:
    """The lossless file's bytes and its rows read at random without frames kept, at each frame length of
    ``lengths`` (``--frame-len``: frames are the unit of random access), next to FLAC's, printed as a table."""
    import soundfile

    x = signal.samples.astype(np.int16)
    print(f"{len(rows)} one-row reads (f[i]) at random, no frames kept, the fastest of {repeats} passes each\n")
    print("| file | bytes | ms a read | over FLAC's time |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        flac = Path(folder) / "f.flac"
        soundfile.write(flac, x, int(signal.fs), format="FLAC", subtype="PCM_16", compression_level=1.0)
        flac_seconds = min(flac_pass(flac, rows) for _ in range(repeats))
        for length in lengths:
            path = Path(folder) / f"f{length}.san"
            path.write_bytes(sancodec.encode(signal, frame_len=length))
            seconds = min(one_pass(path, rows, 0)[0] for _ in range(repeats))
            print(f"| .san lossless, --frame-len {length} | {path.stat().st_size} | "
                  f"{seconds / len(rows) * 1e3:.4f} | {seconds / flac_seconds:.2f}x |")
        print(f"| FLAC -8 (libsndfile) | {flac.stat().st_size} | {flac_seconds / len(rows) * 1e3:.4f} | 1x |")


def main() -> None:
    import soundfile
    import zarr

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", default="sancodec/data/samples/100")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frame-lens", help="comma-separated frame lengths: instead of the table above, the lossless "
                        "file's bytes and rows read at random at each (e.g. 131072,32768,8192,4096)")
    args = parser.parse_args()
    signal = sancodec.read_signal(args.record)
    if args.frame_lens:
        at_random = np.random.default_rng(0).integers(0, signal.n_samples, args.rows).tolist()
        frame_lengths(signal, [int(v) for v in args.frame_lens.split(",")], at_random, args.repeats)
        return
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
                kept = min(one_pass(path, picked, stream.CACHE_BYTES) for _ in range(args.repeats))
                not_kept = min(one_pass(path, picked, 0) for _ in range(args.repeats))
                rows.append((f".san {label}, frames kept", *kept))
                if label == "lossless":  # a record four times the frames kept: most rows at random miss them
                    quarter = min(one_pass(path, picked, x.nbytes // 4) for _ in range(args.repeats))
                    rows.append((f".san {label}, a quarter of the record kept", *quarter))
                rows.append((f".san {label}, not kept", *not_kept))
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
