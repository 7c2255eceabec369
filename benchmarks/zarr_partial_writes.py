"""A lossy Zarr array written in pieces smaller than its chunks: the PRDN its rows decode to, against the same array
written whole.

Run: .venv/bin/python benchmarks/zarr_partial_writes.py [--prdn 2] [--chunk 16384] [--piece 2048]

zarr writes a piece of a chunk by decoding the chunk, putting the piece in, and coding the chunk again: with a lossy
codec, the rows already there are coded once more from their decoded values, and each coding adds its error. The
sample record's first two chunks (mitdb 100, both leads, bundled with sancodec) are written as one array, then
again ``--piece`` rows a write, and each lead's PRDN over the record is printed for both. The remedy is the
writer's: whole chunks a write (``a[:] = x``, or pieces that are multiples of the chunk). Needs ``zarr`` (the dev
extra).
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np

import sancodec
from sancodec.metrics import prdn

SAMPLE = Path(sancodec.__file__).parent / "data" / "samples" / "100"


def written(x: np.ndarray, path: Path, chunk: int, piece: int | None, target: float) -> np.ndarray:
    """``x`` written as a lossy Zarr array at PRDN ``target`` (chunks of ``chunk`` rows), whole or ``piece`` rows a
    write, and read back."""
    import zarr

    from sancodec.zarr_codec import Sancodec

    with warnings.catch_warnings():  # (zarr: numcodecs codecs are not in the Zarr 3 specification)
        warnings.simplefilter("ignore")
        a = zarr.create_array(path, shape=x.shape, chunks=(chunk, x.shape[1]), dtype=x.dtype, compressors=None,
                              serializer=Sancodec(mode="lossy", prdn=target, fs=360.0))
        step = len(x) if piece is None else piece
        for lo in range(0, len(x), step):
            a[lo : lo + step] = x[lo : lo + step]
        return np.asarray(zarr.open_array(path)[:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--chunk", type=int, default=16384)
    parser.add_argument("--piece", type=int, default=2048)
    args = parser.parse_args()
    x = sancodec.read_signal(SAMPLE).samples[: 2 * args.chunk, :2].astype(np.int16)
    print(f"mitdb 100, {len(x)} rows x 2, lossy at PRDN {args.prdn:g} %, chunks of {args.chunk} rows: each lead's "
          "PRDN over the record")
    with tempfile.TemporaryDirectory() as tmp:
        for label, piece in (("written whole", None), (f"written {args.piece} rows a write", args.piece)):
            y = written(x, Path(tmp) / label.replace(" ", "_"), args.chunk, piece, args.prdn)
            got = [prdn(x[:, c].astype(np.float64), y[:, c].astype(np.float64)) for c in range(x.shape[1])]
            print(f"  {label}: " + ", ".join(f"{g:.3f} %" for g in got))


if __name__ == "__main__":
    main()
