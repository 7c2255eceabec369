"""The paper's Table I data protocol: cut a signal into segments, split in order, z-score each.

No torch here; the loaders of the reproduction issue feed this.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sancodec.errors import SanConfigError
from sancodec.san.normalization import normalize

__all__ = ["paper_segments", "standardize"]


def standardize(segments: np.ndarray) -> np.ndarray:
    """Zero mean, unit std per segment (last axis); a constant segment becomes all zeros."""
    x = np.asarray(segments, dtype=np.float64)
    return normalize({"kind": "zscore"}, x.reshape(-1, x.shape[-1])).reshape(x.shape)


def paper_segments(
    signal: np.ndarray,
    *,
    length: int = 1000,
    split: Sequence[int] = (6, 2, 4),
    zscore: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First ``sum(split) * length`` samples of a 1-D signal as (train, val, test) segments, in order.

    Table I: 12 000 samples -> 12 segments of 1000 -> 6 train, 2 validation, 4 test,
    each standardised on its own.
    """
    x = np.asarray(signal, dtype=np.float64).ravel()
    counts = [int(c) for c in split]
    if len(counts) != 3 or min(counts) < 1 or length < 1:
        raise SanConfigError(f"split must be three positive counts and length >= 1, got {split}, {length}")
    need = sum(counts) * length
    if x.size < need:
        raise SanConfigError(f"signal has {x.size} samples; the protocol needs {need}")
    if not np.all(np.isfinite(x[:need])):
        raise SanConfigError("signal holds NaN or Inf in the samples the protocol uses")
    segs = x[:need].reshape(sum(counts), length)
    segs = standardize(segs) if zscore else segs.astype(np.float32)
    a, b = counts[0], counts[0] + counts[1]
    return segs[:a], segs[a:b], segs[b:]
