"""Loaders for the paper's experiments: PhysioNet databases, UCI epileptic seizure, MNIST.

Local folders are read directly; PhysioNet databases can also be named, in which case
wfdb-python streams the first record from PhysioNet (``pn_dir``; needs network, never
used by the tests). No torch here.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io import read_channel

__all__ = [
    "PAPER_TABLE1",
    "TABLE1_DATABASES",
    "LOCAL_TABLE1",
    "Split",
    "load_mnist",
    "load_uci_epilepsy",
    "merge_epilepsy_classes",
    "minmax",
    "split_indices",
    "table1_signal",
]

#: The 15 PhysioNet databases of the paper's Table I.
TABLE1_DATABASES = (
    "apnea-ecg", "bidmc", "bpssrat", "cebsdb", "ctu-uhb-ctgdb", "drivedb", "emgdb", "mitdb", "noneeg",
    "prcp", "shhpsgdb", "slpdb", "sufhsdb", "voiced", "wrist",
)

#: Records used when a local data folder holds them (docs/PAPER.md): path, channel.
LOCAL_TABLE1 = {
    "mitdb": ("wfdb/100", 0),
    "bidmc": ("physionet/bidmc/bidmc_01_Signals.csv", 0),
    "ctu-uhb-ctgdb": ("physionet/ctu-uhb-ctgdb/1001", 0),
    "emgdb": ("physionet/emgdb/emg_healthy", 0),
    "drivedb": ("physionet/drivedb/drive17a", 0),
}

#: The paper's Table I figures (m, CR⁻¹, L~, φ̄) for the databases available offline.
PAPER_TABLE1 = {
    "mitdb": {"identity": (66, .78, .50, .64), "max_activations": (35, .09, .62, .36),
              "max_pool_indices": (187, .20, .51, .35), "peaks": (55, .08, .59, .33)},
    "bidmc": {"identity": (5, .82, .51, .66), "max_activations": (31, .10, .86, .48),
              "max_pool_indices": (10, .10, .59, .34), "peaks": (95, .10, .61, .35)},
    "ctu-uhb-ctgdb": {"identity": (5, .50, .58, .54), "max_activations": (18, .13, .78, .45),
                      "max_pool_indices": (47, .08, .73, .40), "peaks": (43, .06, .72, .39)},
    "emgdb": {"identity": (3, .96, .61, .78), "max_activations": (20, .12, .84, .48),
              "max_pool_indices": (20, .09, .78, .43), "peaks": (8, .07, .76, .42)},
    "drivedb": {"identity": (1, .59, .72, .66), "max_activations": (10, .21, .63, .42),
                "max_pool_indices": (28, .09, .75, .42), "peaks": (32, .07, .77, .42)},
}


def table1_signal(database: str, data_dir: str | os.PathLike[str] | None, n: int = 12000) -> tuple[np.ndarray, str]:
    """First ``n`` samples of the first channel used for ``database``, and where they came from.

    With ``data_dir`` the local record of :data:`LOCAL_TABLE1` is read (multi-frequency
    records at their native rate, not frame-averaged); otherwise, or for databases with
    no local record, wfdb-python streams the database's first record from PhysioNet.
    """
    if database not in TABLE1_DATABASES:
        raise SanConfigError(f"unknown Table I database {database!r}; choose from {', '.join(TABLE1_DATABASES)}")

    if data_dir is not None and database in LOCAL_TABLE1:
        rel, channel = LOCAL_TABLE1[database]
        path = Path(data_dir) / rel
        if path.suffix != ".csv" and not path.with_name(path.name + ".hea").exists():
            raise SanFormatError(f"{path}: record not found in the data folder")
        what = "column" if path.suffix == ".csv" else "channel"
        return read_channel(path, channel)[:n], f"{rel} {what} {channel} (native rate)"
    import wfdb

    try:  # the real streaming path: needs network access to physionet.org
        first = wfdb.get_record_list(database)[0]
        rec = wfdb.rdrecord(first, pn_dir=database, channels=[0], sampto=n, smooth_frames=False)
    except Exception as exc:
        raise SanFormatError(f"{database}: cannot stream from PhysioNet ({type(exc).__name__}: {exc})") from None
    return np.asarray(rec.e_p_signal[0][:n], dtype=np.float64), f"PhysioNet {database}/{first} channel 0"


def load_uci_epilepsy(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """The UCI epileptic seizure CSV (optionally gzipped): X (rows, 178) floats, y (rows,) in 1..5."""
    p = Path(path)
    if p.is_dir():
        candidates = sorted(p.glob("*.csv*"))
        if not candidates:
            raise SanFormatError(f"{p}: no UCI epileptic seizure CSV in this folder")
        p = candidates[0]
    opener = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rt") as fh:
            header = fh.readline()
            body = np.loadtxt(fh, delimiter=",", dtype=str, ndmin=2)
    except (OSError, ValueError) as exc:
        raise SanFormatError(f"{p}: not a readable UCI CSV ({exc})") from None
    if body.shape[1] != 180 or not header.strip():
        raise SanFormatError(f"{p}: expected an id column, 178 samples and y, got {body.shape[1]} columns")
    x = body[:, 1:179].astype(np.float64)
    y = body[:, 179].astype(np.int64)
    if y.min() < 1 or y.max() > 5:
        raise SanFormatError(f"{p}: classes must be 1..5")
    return x, y


def merge_epilepsy_classes(y: np.ndarray) -> np.ndarray:
    """Paper's 3 classes: 0 = seizure (1), 1 = tumour area (2, 3), 2 = eyes open/closed (4, 5)."""
    return np.select([y == 1, (y == 2) | (y == 3)], [0, 1], default=2).astype(np.int64)


def minmax(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] with the global min and max."""
    lo, hi = float(x.min()), float(x.max())
    return ((x - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def split_indices(n: int, fractions: tuple[float, float, float] = (0.76, 0.12, 0.12), seed: int = 0) -> Split:
    """Shuffled train/val/test indices; 11500 rows -> 8740 / 1380 / 1380."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    n_train = n - n_val - n_test
    return Split(order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])


def _read_idx(path: Path) -> np.ndarray:
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SanFormatError(f"{path}: cannot read IDX file ({exc})") from None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 8:
        raise SanFormatError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    count = int(np.prod(dims))
    if len(data) - 4 - 4 * ndim != count:
        raise SanFormatError(f"{path}: IDX size does not match its dimensions {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder: str | os.PathLike[str], n_val: int = 10000) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST from IDX files: train = first part of the training set, val = its last ``n_val``,
    test = the test set; images as float32 in [0, 1], labels int64."""
    base = Path(folder)

    def pick(stem: str) -> Path:
        for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx")):
            if (base / name).exists():
                return base / name
        raise SanFormatError(f"{base}: missing MNIST file {stem}(.gz)")

    xtr = _read_idx(pick("train-images-idx3-ubyte")).astype(np.float32) / 255.0
    ytr = _read_idx(pick("train-labels-idx1-ubyte")).astype(np.int64)
    xte = _read_idx(pick("t10k-images-idx3-ubyte")).astype(np.float32) / 255.0
    yte = _read_idx(pick("t10k-labels-idx1-ubyte")).astype(np.int64)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise SanFormatError(f"{base}: image and label counts differ")
    if not 0 < n_val < len(xtr):
        raise SanConfigError(f"n_val must be between 1 and {len(xtr) - 1}")
    cut = len(xtr) - n_val
    return {"train": (xtr[:cut], ytr[:cut]), "val": (xtr[cut:], ytr[cut:]), "test": (xte, yte)}
