"""WFDB signal file formats that wfdb-python reads but does not write (8, 61, 160, 310, 311), encoded here.

A record in one of them was written back as format 16 (with a warning): another signal file, and another header.
Each encoder below inverts wfdb-python's reader (``wfdb.io._signal``), its values interleaved as a signal file holds
them (a frame of one sample a signal); a record's samples that a format cannot hold (a lossy decode past format
310's 10 bits, or steps past format 8's 8-bit differences) are left to the writer's fallback to format 16.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FORMATS", "encode", "holds"]

FORMATS = ("8", "61", "160", "310", "311")
_TEN_BITS = (-512, 511)
_SIXTEEN_BITS = (-32768, 32767)


def holds(fmt: str, values: np.ndarray, inits: Sequence[int] | None = None) -> bool:
    """Whether format ``fmt`` holds every channel of ``values`` (samples x channels of one signal file): 10-bit
    values for 310 and 311, 16-bit for 61 and 160, and for 8 each step from the one before within 8 bits, the first
    from the channel's initial value (``inits``, the header's; by default its first sample)."""
    x = np.asarray(values, dtype=np.int64)
    if not x.size:
        return fmt in FORMATS
    if fmt == "8":
        steps = _steps(x, inits)
        return bool(steps.min() >= -128 and steps.max() <= 127)
    low, high = _TEN_BITS if fmt in ("310", "311") else _SIXTEEN_BITS if fmt in ("61", "160") else (1, 0)
    return bool(x.min() >= low and x.max() <= high)


def encode(fmt: str, values: np.ndarray, inits: Sequence[int] | None = None) -> bytes:
    """The signal file of ``values`` (samples x channels, which :func:`holds`) in format ``fmt`` (8: its first
    differences from ``inits``, the header's initial values, by default the first samples)."""
    x = np.asarray(values, dtype=np.int64)
    if fmt == "61":  # 16-bit two's complement, big-endian
        return x.reshape(-1).astype(">i2").tobytes()
    if fmt == "160":  # 16-bit offset binary
        return (x.reshape(-1) + 32768).astype("<u2").tobytes()
    if fmt == "8":  # 8-bit first differences, each channel's first from the header's initial value
        return _steps(x, inits).reshape(-1).astype(np.int8).tobytes()
    if fmt in ("310", "311"):
        return _ten_bits(fmt, x.reshape(-1) & 0x3FF)
    raise ValueError(f"format {fmt} is not one of {FORMATS}")


def _steps(x: np.ndarray, inits: Sequence[int] | None) -> np.ndarray:
    """Format 8's steps of ``x`` (samples x channels): each sample less the one before, the first less its channel's
    initial value (``inits``; None: the first sample, a step of 0)."""
    start = x[:1] if inits is None else np.asarray(inits, dtype=np.int64).reshape(1, -1)
    return np.diff(x, axis=0, prepend=start)


def _ten_bits(fmt: str, u: np.ndarray) -> bytes:
    """10-bit values ``u`` (as unsigned) three to a 32-bit word: 311 in its bits 0-9, 10-19 and 20-29; 310 the first
    two in bits 1-10 of its two 16-bit halves and the third's low and high five bits in the halves' bits 11-15.
    A last group of one value takes two bytes, of two a whole word (as wfdb-python and WFDB's C library write
    them)."""
    n = len(u)
    padded = np.zeros(-(-n // 3) * 3, dtype=np.int64)
    padded[:n] = u
    a, b, c = padded[0::3], padded[1::3], padded[2::3]
    if fmt == "311":
        words = a | (b << 10) | (c << 20)
    else:
        low = ((a & 0x7F) << 1) | ((a >> 7) & 0x07) << 8 | (c & 0x1F) << 11
        high = ((b & 0x7F) << 1) | ((b >> 7) & 0x07) << 8 | ((c >> 5) & 0x1F) << 11
        words = low | (high << 16)
    data = words.astype("<u4").tobytes()
    extra = n % 3
    return data if extra != 1 else data[: 4 * (n // 3) + 2]
