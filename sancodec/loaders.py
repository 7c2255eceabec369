"""Read one channel of a recording as float samples (physical units) for training.

Accepts a WFDB record (base path, ``.hea`` or ``.dat``), a ``.npy`` array
(1-D, or 2-D samples x channels) or a CSV file (numeric columns; a header row is
skipped). No torch here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sancodec.errors import SanFormatError

__all__ = ["read_channel"]


def _wfdb_base(path: Path) -> Path | None:
    if path.suffix in (".hea", ".dat", ".mat"):
        return path.with_suffix("")
    if path.with_name(path.name + ".hea").exists():
        return path
    return None


def read_channel(path: str | os.PathLike[str], channel: int = 0) -> np.ndarray:
    """Samples of one channel as float64; raises :class:`SanFormatError` on anything unusable."""
    p = Path(path)
    if p.is_dir():
        raise SanFormatError(f"{p}: is a directory, not a recording")
    base = _wfdb_base(p)
    if base is not None:
        data = _read_wfdb(base)
    elif not p.exists():
        raise SanFormatError(f"{p}: no such file")
    elif p.suffix == ".npy":
        try:
            data = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise SanFormatError(f"{p}: not a readable .npy array ({exc})") from None
    elif p.suffix == ".csv":
        data = _read_csv(p)
    else:
        raise SanFormatError(f"{p}: unknown file type {p.suffix!r} (use a WFDB record, .npy or .csv)")
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] == 0:
        raise SanFormatError(f"{p}: expected samples x channels, got shape {data.shape}")
    if not 0 <= channel < data.shape[1]:
        raise SanFormatError(f"{p}: channel {channel} does not exist (it has {data.shape[1]})")
    x = data[:, channel]
    if not np.all(np.isfinite(x)):
        raise SanFormatError(f"{p}: channel {channel} holds NaN or Inf")
    return x


def _read_wfdb(base: Path) -> np.ndarray:
    import wfdb

    if not base.with_name(base.name + ".hea").exists():
        raise SanFormatError(f"{base}: missing header {base.name}.hea")
    try:
        record = wfdb.rdrecord(str(base), physical=True, smooth_frames=True)
    except Exception as exc:  # wfdb raises bare Exception/ValueError on broken records
        raise SanFormatError(f"{base}: unreadable WFDB record ({type(exc).__name__}: {exc})") from None
    return record.p_signal


def _read_csv(path: Path) -> np.ndarray:
    try:
        with path.open("r", encoding="utf-8") as fh:
            first = fh.readline()
        skip = 0 if _is_numeric_row(first) else 1
        return np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SanFormatError(f"{path}: not a numeric CSV ({exc})") from None


def _is_numeric_row(line: str) -> bool:
    try:
        [float(v) for v in line.strip().split(",") if v.strip()]
    except ValueError:
        return False
    return bool(line.strip())
