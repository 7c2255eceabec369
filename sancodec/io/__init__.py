"""Read and write signals: WFDB (via wfdb-python), ``.npy`` and CSV.

``read_signal`` picks the reader from the path (a WFDB record may be named by
its base path, ``.hea`` or ``.dat``); ``write_signal`` picks the writer from
``format`` or the suffix. Every failure is a :class:`SanFormatError` with a
one-line message naming the file. No torch here.

Multi-frequency WFDB records (several samples per frame) have one rule: ``read_signal``
holds each slow channel's sample for its rows, so all channels share the fastest rate's time
axis and round-trip exactly; ``read_channel`` (training, the paper's loaders) returns one
channel at its own native rate (``Signal.channel``). No reader averages frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.arrays import read_csv, read_npy, write_csv, write_npy
from sancodec.io.wfdb import find_wfdb_base, read_wfdb, write_wfdb
from sancodec.signal import Signal

__all__ = ["FORMATS", "read_channel", "read_signal", "write_signal"]

FORMATS = ("wfdb", "npy", "csv")


def read_signal(path: str | os.PathLike[str], fs: float | None = None) -> Signal:
    """Read a recording. ``fs`` is needed for ``.npy`` and header-less CSV (default 1 Hz)."""
    p = Path(path)
    if p.is_dir():
        raise SanFormatError(f"{p}: is a directory, not a recording")
    base = find_wfdb_base(p)
    if base is not None:
        return read_wfdb(base)
    if not p.exists():
        raise SanFormatError(f"{p}: no such file")
    if p.suffix.lower() == ".npy":
        return read_npy(p, fs)
    if p.suffix.lower() == ".csv":
        return read_csv(p, fs)
    raise SanFormatError(f"{p}: unknown file type {p.suffix!r} (use a WFDB record, .npy or .csv)")


def read_channel(path: str | os.PathLike[str], channel: int = 0) -> np.ndarray:
    """One channel of a recording in physical units (float64) at its native rate, for training."""
    signal = read_signal(path)
    if not 0 <= channel < signal.n_channels:
        raise SanFormatError(f"{path}: channel {channel} does not exist (it has {signal.n_channels})")
    x = signal.channel(channel)
    if not np.all(np.isfinite(x)):
        raise SanFormatError(f"{path}: channel {channel} holds NaN or Inf")
    return x


def write_signal(signal: Signal, path: str | os.PathLike[str], format: str | None = None) -> list[Path]:
    """Write ``signal``; returns the files written (a WFDB record is several files).

    ``format`` is ``wfdb``, ``npy`` or ``csv``; by default the suffix decides and
    anything else is written as WFDB (record base path).
    """
    p = Path(path)
    fmt = (format or {".npy": "npy", ".csv": "csv"}.get(p.suffix.lower(), "wfdb")).lower()
    if fmt not in FORMATS:
        raise SanConfigError(f"unknown output format {format!r}; choose one of {', '.join(FORMATS)}")
    if not p.parent.exists():
        raise SanFormatError(f"{p.parent}: output directory does not exist")
    if fmt == "npy":
        return [write_npy(signal, p)]
    if fmt == "csv":
        return [write_csv(signal, p)]
    return write_wfdb(signal, p)
