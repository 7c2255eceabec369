"""Headerless interleaved samples (a device's dump, or a capture piped in): their layout from a short text such as
``int16:8`` (the CLI's ``--raw``), and their rows read a block at a time from a file object, so that a recording of
any length streams through with bounded memory.

A row holds one sample of each channel, each the same integer type, little-endian unless the type starts with ``>``
(``>int16``, or numpy's ``>i2``); ``int24`` is the 3-byte type of 24-bit ADCs (BDF's, an ADS1299's), read into int32.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from sancodec.errors import SanConfigError
from sancodec.io.arrays import npy_source
from sancodec.signal import Signal

__all__ = ["RAW_SUFFIXES", "RAW_TYPES", "RawLayout", "RawReader", "int24_bytes", "int24_values", "raw_bytes",
           "raw_layout", "raw_of", "write_raw"]

#: The sample types a raw stream may hold: their size in bytes and the numpy kind their values are read into.
RAW_TYPES = {"int8": (1, "i1"), "uint8": (1, "u1"), "int16": (2, "i2"), "uint16": (2, "u2"), "int24": (3, "i4"),
             "int32": (4, "i4"), "uint32": (4, "u4"), "int64": (8, "i8")}
_NUMPY_NAMES = {"i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16", "i3": "int24", "i4": "int32",
                "u4": "uint32", "i8": "int64"}
MAX_RAW_CHANNELS = 4096  # as many as a .san holds (limits.DecodeLimits.max_channels)
#: the suffixes a raw file keeps (and that name raw output): what its decode writes back under
RAW_SUFFIXES = (".bin", ".raw")


class RawLayout(NamedTuple):
    """A raw stream's rows: each value's type (a key of :data:`RAW_TYPES`), byte order and the channels a row holds."""

    type: str
    big_endian: bool
    channels: int

    @property
    def row_bytes(self) -> int:
        return RAW_TYPES[self.type][0] * self.channels

    @property
    def dtype(self) -> np.dtype:
        """The numpy type the values are read into (int32 for int24), in the machine's byte order."""
        return np.dtype(RAW_TYPES[self.type][1])

    def like(self, fs: float, name: str = "record", suffix: str = ".bin") -> Signal:
        """A one-row Signal of the stream's metadata: channels ``ch0``, ``ch1``... at ``fs``, record ``name``, kept as
        a ``.npy`` of :attr:`dtype` would be, and as this layout (``raw``: a decode writes the same bytes back by
        default, under ``suffix``, one of :data:`RAW_SUFFIXES`)."""
        if not (np.isfinite(fs) and fs > 0):
            raise SanConfigError(f"sampling frequency must be positive, got {fs}")
        row = np.zeros((1, self.channels), dtype=self.dtype)
        kept = suffix.lower() if suffix.lower() in RAW_SUFFIXES else RAW_SUFFIXES[0]
        raw = {"type": self.type, "big_endian": self.big_endian, "suffix": kept}
        return Signal(row, float(fs), [f"ch{i}" for i in range(self.channels)], ["NU"] * self.channels,
                      record_name=name, source={**npy_source(row), "raw": raw})


def raw_layout(text: str) -> RawLayout:
    """``TYPE[:CHANNELS]`` (``int16:8``, ``>i2:2``, ``int24``: one channel) as a :class:`RawLayout`; a
    :class:`SanConfigError` that lists the types for anything else."""
    name, _, count = text.strip().partition(":")
    big = name.startswith(">")
    base = name[1:] if name[:1] in "<>" else name
    base = _NUMPY_NAMES.get(base, base)
    if base not in RAW_TYPES:
        raise SanConfigError(f"--raw {text!r}: the sample type must be one of {', '.join(RAW_TYPES)} (little-endian; "
                             "'>' first for big-endian, e.g. >int16), then ':' and the channels, e.g. int16:8")
    if count and not count.isdigit() or count and not 1 <= int(count) <= MAX_RAW_CHANNELS:
        raise SanConfigError(f"--raw {text!r}: the channels after ':' must be a whole number from 1 to "
                             f"{MAX_RAW_CHANNELS}")
    return RawLayout(base, big, int(count) if count else 1)


class RawReader:
    """The rows of a raw stream ``source`` (a binary file object: a file, a pipe), ``rows`` at a time (the last block
    shorter), as arrays of ``layout.dtype``, rows x channels; bytes at the end that make no whole row are left out
    and counted in :attr:`left_over` once the stream has ended."""

    def __init__(self, source: BinaryIO, layout: RawLayout, rows: int = 1 << 16) -> None:
        self.source, self.layout, self.rows = source, layout, max(1, int(rows))
        self.left_over = 0
        self.rows_read = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        size = self.rows * self.layout.row_bytes
        while True:
            chunk = self._read(size)
            whole = len(chunk) - len(chunk) % self.layout.row_bytes
            if whole:
                rows = self._values(chunk[:whole])
                self.rows_read += len(rows)
                yield rows
            if len(chunk) < size:  # the stream has ended
                self.left_over = len(chunk) - whole
                return

    def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes, fewer only at the stream's end (a pipe gives what it holds at each read)."""
        parts, got = [], 0
        while got < size:
            part = self.source.read(size - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def _values(self, data: bytes) -> np.ndarray:
        """Whole rows of bytes as their values, rows x channels."""
        layout, order = self.layout, ">" if self.layout.big_endian else "<"
        if layout.type != "int24":
            values = np.frombuffer(data, dtype=np.dtype(order + RAW_TYPES[layout.type][1]))
            return values.astype(layout.dtype).reshape(-1, layout.channels)
        return int24_values(data, layout.big_endian).astype(np.int32).reshape(-1, layout.channels)


def int24_values(data: bytes, big_endian: bool = False) -> np.ndarray:
    """Bytes of 24-bit two's complement integers (little-endian unless ``big_endian``: BDF's samples, a 24-bit ADC's)
    as int64, the sign bit extended."""
    b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
    if big_endian:
        b = b[:, ::-1]
    unsigned = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return (unsigned ^ 0x800000) - 0x800000


def int24_bytes(values: np.ndarray, big_endian: bool = False) -> np.ndarray:
    """Integers within 24 bits as their three bytes each (uint8, a row a value; little-endian unless
    ``big_endian``): :func:`int24_values`' inverse, BDF's samples and a 24-bit raw layout's."""
    b = np.ascontiguousarray(values, dtype="<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    return b[:, ::-1] if big_endian else b


def raw_of(signal: Signal) -> tuple[RawLayout, str] | None:
    """The layout a raw source had and its suffix, from ``signal.source`` (a ``.san`` header is not trusted: None for
    anything but a known type, a byte order and a suffix of :data:`RAW_SUFFIXES`)."""
    source = signal.source if isinstance(signal.source, dict) else {}
    raw = source.get("raw")
    if not isinstance(raw, dict) or raw.get("type") not in RAW_TYPES or not isinstance(raw.get("big_endian"), bool):
        return None
    suffix = raw.get("suffix")
    return RawLayout(raw["type"], raw["big_endian"], signal.n_channels), \
        suffix if suffix in RAW_SUFFIXES else RAW_SUFFIXES[0]


def raw_bytes(signal: Signal) -> bytes:
    """``signal``'s samples laid out as its raw source was (:func:`raw_of`): interleaved, in its type and byte
    order, a lossy reconstruction's values clipped to the type's range, never wrapped; a SanConfigError for a
    signal that came from no raw source, or whose channels run at several rates."""
    found = raw_of(signal)
    if found is None:
        raise SanConfigError("raw output writes samples back as a raw source (encode --raw) laid them out; this "
                             "one came from another format: write .npy (its values in their type) or CSV")
    if signal.frame_size != 1 or not signal.is_digital:
        raise SanConfigError("raw output holds integers, every channel at one rate")
    layout = found[0]
    size = RAW_TYPES[layout.type][0]
    bits = 8 * size
    low, high = (0, 2**bits - 1) if layout.type.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    x = np.clip(np.asarray(signal.samples, dtype=np.int64), low, min(high, 2**63 - 1))
    order = ">" if layout.big_endian else "<"
    if layout.type != "int24":
        return x.astype(order + RAW_TYPES[layout.type][1]).tobytes()
    return np.ascontiguousarray(int24_bytes(x, layout.big_endian)).tobytes()


def write_raw(signal: Signal, path: Path, *, fsync: bool = False) -> Path:
    """:func:`raw_bytes` of ``signal`` written to ``path`` (whole, or not at all)."""
    from sancodec._atomic import write_bytes_atomic

    return write_bytes_atomic(path, raw_bytes(signal), fsync=fsync)
