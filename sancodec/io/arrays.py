"""``.npy`` and CSV signals: plain arrays, samples x channels."""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from tokenize import TokenError
from typing import Any, NamedTuple

import numpy as np

from sancodec._atomic import write_file_atomic
from sancodec.codec.schema import is_real
from sancodec.errors import SancodecWarning, SanConfigError, SanFormatError
from sancodec.io.csv_datetimes import is_iso, iso_layout, iso_times, iso_times_in_seconds, start_of
from sancodec.io.csv_places import (
    CHUNK_ROWS,
    cell_bounds,
    exponent_cells,
    exponent_count,
    exponent_digits,
    padded_places,
    text_chunks,
)
from sancodec.io.csv_time_units import time_unit_scale
from sancodec.io.decimals import (
    FLOAT16_NAMES,
    FLOAT32_NAMES,
    MAX_DECIMALS,
    MISSING_TEXTS,
    column_places,
    decimal_places,
    decimal_values,
    gap_value,
    gapped_units,
    missing_of,
    on_decimal_grid,
    with_decimals,
)
from sancodec.io.time_steps import meant_rate, step_of, step_source, stepped_ns
from sancodec.signal import Signal, beyond_exact_range

__all__ = ["array_signal", "gaps_as_nan", "map_npy", "physical_signal", "read_csv", "read_npy", "time_column",
           "write_csv", "write_npy"]


#: What a reader gives floats with NaN gaps that are no decimals before it holds them (``api.gaps_rounder``: the CLI's
#: encode in the lossy modes rounds them for the target); None: refused
Rounder = Callable[[np.ndarray], np.ndarray] | None


def _as_signal(path: Path, data: np.ndarray, fs: float | None, names: list[str] | None,
               source: dict | None = None, rounder: Rounder = None) -> Signal:
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.size == 0:
        raise SanFormatError(f"{path}: expected a non-empty samples x channels array, got shape {data.shape}")
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        return _with_nan_gaps(path, data, fs, names, source, rounder)
    if data.dtype.kind not in "iuf":
        raise SanFormatError(f"{path}: samples must be numeric, got dtype {data.dtype}")
    if beyond_exact_range(data):
        raise SanFormatError(f"{path}: integer samples beyond ±2**53 (here {int(data.min())}..{int(data.max())}); "
                             "sancodec holds integers within ±2**53 exactly and refuses the rest")
    if fs is None:
        raise SanConfigError(f"{path}: a .npy or CSV file does not say its sampling frequency; give it with "
                             "--fs (Python: read_signal(path, fs=...)); a CSV may instead start with a time column")
    if not (np.isfinite(fs) and fs > 0):
        raise SanConfigError(f"{path}: sampling frequency must be positive, got {fs}")
    c = data.shape[1]
    return Signal(
        samples=data,
        fs=float(fs),
        channel_names=names or [f"ch{i}" for i in range(c)],
        units=["NU"] * c,
        record_name=path.stem,
        source=source,
    )


def _with_nan_gaps(path: Path, data: np.ndarray, fs: float | None, names: list[str] | None,
                   source: dict | None, rounder: Rounder = None) -> Signal:
    """An array of decimals with gaps (NaN: what ``decode --physical`` writes for a record's missing samples, a
    Zarr fill value) as a CSV's gaps are held: integers at each column's decimals, every gap WFDB's invalid sample
    (``decimals.gapped_units``), kept in lossless mode and decoded to NaN again. Infinities, and NaN among floats
    that are not decimals, are refused."""
    if np.isinf(data).any():
        raise SanFormatError(f"{path}: holds infinite samples")
    data, held = _held_gaps(data, rounder)
    if held is None:
        raise SanFormatError(f"{path}: holds NaN among values that are not decimals of at most {MAX_DECIMALS} places "
                             "within 32 bits: sancodec keeps missing values (NaN) among decimals only, losslessly, "
                             "and among any floats in near-lossless and lossy modes (rounded to what the bound or "
                             "target needs); fill the gaps, or cut the record there")
    units, places, value = held
    return with_decimals(_as_signal(path, units, fs, names, source), places, units, gap=(value, "NaN"), values=data)


def _held_gaps(data: np.ndarray, rounder: Rounder) -> tuple[np.ndarray, tuple[np.ndarray, list[int], int] | None]:
    """Floats with NaN gaps (samples x channels) as ``decimals.gapped_units`` holds them, where they are decimals, or
    once ``rounder`` rounded them (encode in a lossy mode: for its target); the values held (the rounded ones), and
    what ``gapped_units`` gave, None where it holds neither."""
    held = gapped_units(data)
    if held is None and rounder is not None:
        data = rounder(data)
        held = gapped_units(data)
    return data, held


def npy_source(array: np.ndarray) -> dict:
    """What a ``.npy`` source's ``Signal.source`` keeps so that it is written back as it was: its dtype and rank, and
    where a 2-D array was in Fortran order (``np.save``'s ``fortran_order``, a MATLAB or column-major export's),
    ``fortran``."""
    fortran = array.ndim == 2 and bool(array.flags.f_contiguous) and not array.flags.c_contiguous
    return {"kind": "npy", "dtype": array.dtype.str, "rank": int(array.ndim), **({"fortran": True} if fortran else {})}


def array_signal(data: np.ndarray, fs: float | None, name: str = "array", names: list[str] | None = None) -> Signal:
    """An in-memory array (samples, or samples x channels) as :func:`read_npy` reads the same array from a ``.npy``
    file: channels ``ch0``, ``ch1``, ..., its dtype and rank kept to be written back as they were; ``names``: the
    channels' names, where the array's columns are known to be its channels (a DataFrame's: not checked for rows
    that look like channels)."""
    data = np.asarray(data)
    if names is None:
        _check_orientation(name, data.shape)
    return _as_signal(Path(name), data, fs, names, npy_source(data))


def _check_orientation(label: object, shape: tuple[int, ...], fix: str = "transpose it (numpy: x.T)") -> None:
    """Say where a 2-D array's rows are likely its channels (more columns than rows: a 12-lead ECG saved as 12 x
    5000), which are read as samples: refused past the channels a .san holds (its error named a header field), else
    a warning. A one-row array (one sample of each channel) is left alone."""
    from sancodec.codec.limits import DEFAULT_LIMITS

    if len(shape) != 2 or shape[1] <= shape[0] or shape[0] < 2:
        return
    rows, columns = shape
    said = (f"{label}: {rows} rows of {columns} columns, read as {rows} samples of {columns} channels (rows are "
            f"samples); if its rows are the channels, {fix}")
    if columns > DEFAULT_LIMITS.max_channels:
        raise SanConfigError(f"{said}: a .san holds at most {DEFAULT_LIMITS.max_channels} channels")
    warnings.warn(said, SancodecWarning, stacklevel=4)


#: what numpy's reader raises for a damaged .npy: its header is a Python literal, tokenized and parsed (a header cut
#: inside a bracket was a TokenError, which escaped as one), and the array it declares is allocated
NPY_ERRORS = (ValueError, OSError, EOFError, SyntaxError, TokenError, RecursionError, MemoryError, TypeError)


def read_npy(path: Path | io.BytesIO, fs: float | None, name: str | None = None, rounder: Rounder = None) -> Signal:
    """A ``.npy`` array (samples x channels), from a path or a file object (``name`` for messages); ``rounder``: see
    :data:`Rounder`."""
    label = name or path
    try:
        data = np.load(path, allow_pickle=False)
    except NPY_ERRORS as exc:
        if "pickle" in str(exc) and not _starts_like_npy(path):  # numpy takes what is not .npy for a pickle
            raise SanFormatError(f"{label}: not a .npy array (it does not start with the .npy magic "
                                 "\\x93NUMPY)") from None
        raise SanFormatError(f"{label}: not a readable .npy array ({exc})") from None
    if not isinstance(data, np.ndarray):
        raise SanFormatError(f"{label}: holds an archive of arrays, not one array")
    if data.dtype.names is not None:
        return _structured_signal(Path(str(label)), data, fs)
    _check_orientation(label, data.shape)
    return _as_signal(Path(str(label)), np.asarray(data), fs, None, npy_source(data), rounder)


_FIELD_DTYPE = re.compile(r"[<>|=]?(?:[iu][1248]|f[248])")  # a structured array's numeric field (dtype.str)


def _structured_signal(path: Path, data: np.ndarray, fs: float | None) -> Signal:
    """A structured array of named numeric fields, one row a sample (numpy's record arrays, pandas'
    ``DataFrame.to_records(index=False)``), as a channel per field named after it: integers where every field holds
    them, else floats (a float32 or an integer field's values exactly); the fields kept in the source (``fields``),
    so that it is written back as the same structured array."""
    named: Mapping[str, tuple[Any, ...]] = data.dtype.fields or {}  # (a structured dtype's: the caller checked)
    fields = [(name, named[name][0]) for name in data.dtype.names or ()]
    odd = [f"{name!r} ({dtype})" for name, dtype in fields if dtype.shape or not _FIELD_DTYPE.fullmatch(dtype.str)]
    if odd or data.ndim != 1 or not fields:
        said = f"its fields {', '.join(odd)} are not numbers" if odd else (
            "it has no fields" if not fields else f"it has {data.ndim} dimensions")
        raise SanFormatError(f"{path}: a structured array is read as one channel per field, one row a sample, each "
                             f"field a number; {said}")
    for name in data.dtype.names or ():
        if beyond_exact_range(data[name]):
            raise SanFormatError(f"{path}: field {name!r} holds integers beyond ±2**53, which sancodec refuses")
    integers = all(dtype.kind in "iu" for _, dtype in fields)
    columns = np.column_stack([data[name].astype(np.int64 if integers else np.float64) for name, _ in fields])
    source = {"kind": "npy", "fields": [[name, dtype.str] for name, dtype in fields], "rank": 1}
    return _as_signal(path, columns, fs, [name for name, _ in fields], source)


def _source_fields(source: dict, channels: int) -> list[tuple[str, np.dtype]] | None:
    """The named fields a structured ``.npy`` source had (:func:`_structured_signal`), one per channel, from
    ``Signal.source`` (a ``.san`` header is not trusted: None for anything but distinct non-empty names, each with
    a numeric dtype, as many as ``channels``)."""
    fields = source.get("fields")
    if not isinstance(fields, list) or len(fields) != channels:
        return None
    if not all(isinstance(f, list) and len(f) == 2 and all(isinstance(v, str) for v in f) and f[0]
               and _FIELD_DTYPE.fullmatch(f[1]) for f in fields):
        return None
    if len({name for name, _ in fields}) != len(fields):
        return None
    return [(name, np.dtype(dtype)) for name, dtype in fields]


def _as_fields(x: np.ndarray, fields: Sequence[tuple[str, np.dtype]]) -> np.ndarray:
    """Samples ``x`` (samples x channels) as a structured array of ``fields``: an integer field's values rounded
    and clipped to its range (a lossy reconstruction may overshoot), never wrapped."""
    out = np.empty(len(x), dtype=np.dtype([(name, dtype) for name, dtype in fields]))
    for k, (name, dtype) in enumerate(fields):
        column = x[:, k]
        if dtype.kind in "iu":
            if column.dtype.kind == "f":
                column = np.rint(np.where(np.isfinite(column), column, 0.0))
                column = np.clip(column, -2.0**63, 2.0**63 - 1024).astype(np.int64)
            column = in_dtype(column.astype(np.int64, copy=False), dtype)
        out[name] = column
    return out


def _starts_like_npy(source: Path | io.BytesIO) -> bool:
    """Whether ``source`` starts with the .npy magic (an object array's file does; garbage does not)."""
    try:
        if isinstance(source, io.BytesIO):
            return source.getvalue()[:6] == b"\x93NUMPY"
        with open(source, "rb") as f:
            return f.read(6) == b"\x93NUMPY"
    except OSError:
        return False


def map_npy(path: Path, fs: float | None) -> tuple[Signal, np.ndarray] | None:
    """A ``.npy`` file of integers memory-mapped (samples x channels, read only as it is sliced) and a one-row
    Signal of the metadata :func:`read_npy` gives it; None where it cannot be mapped (another dtype, an
    unreadable file: :func:`read_npy` reports it)."""
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except NPY_ERRORS:
        return None
    if not isinstance(data, np.ndarray) or data.ndim not in (1, 2) or data.dtype.kind not in "iu" or not data.size:
        return None
    rows = data[:, None] if data.ndim == 1 else data
    _check_orientation(path, data.shape)
    return _as_signal(path, np.asarray(rows[:1]), fs, None, npy_source(data)), rows


def npy_bytes(signal: Signal) -> bytes:
    """The samples as ``.npy`` bytes (what ``write_npy`` writes; for pipes): a ``.npy`` source's integers in its own
    dtype (a lossy reconstruction clipped to the dtype's range, never wrapped) and rank, else as held."""
    buf = io.BytesIO()
    np.save(buf, npy_array(signal), allow_pickle=False)
    return buf.getvalue()


def npy_array(signal: Signal, values: np.ndarray | None = None) -> np.ndarray:
    """The array a ``.npy`` of ``signal`` holds: :func:`as_source_array`'s (or ``values``, made already: ``decode
    --physical``'s, mapped from a file), in C order unless its source was a Fortran-ordered array (picked channels,
    ``x[:, [1, 0]]``, come in Fortran order from numpy: written in C order, as every other array is)."""
    array = as_source_array(signal) if values is None else values
    fortran = isinstance(signal.source, dict) and signal.source.get("fortran") is True
    return np.ascontiguousarray(array) if array.ndim == 2 and not array.flags.c_contiguous and not fortran else array


_INTEGER_DTYPE = re.compile(r"[<>|=]?[iu][1248]")  # what npy_source writes for an integer array (dtype.str)


ARRAY_KINDS = ("npy", "mat")  # sources of one array whose dtype comes back (a .npy file's, a MATLAB file's)


def array_dtype_name(source: object) -> object:
    """The dtype name a ``.npy`` or MATLAB source entry holds (``Signal.source``, or a ``.san`` header's, not
    trusted: whatever it holds, for the caller to check); None for any other source."""
    return source.get("dtype") if isinstance(source, dict) and source.get("kind") in ARRAY_KINDS else None


def source_dtype(source: object) -> np.dtype | None:
    """The integer dtype a ``.npy`` or MATLAB source had, from ``Signal.source`` (a ``.san`` header is not trusted:
    None for anything but an integer dtype of at most 64 bits)."""
    name = array_dtype_name(source)
    if not isinstance(name, str) or not _INTEGER_DTYPE.fullmatch(name):  # np.dtype(",") is a SyntaxError
        return None
    return np.dtype(name)


def decimal_dtype(source: object) -> np.dtype:
    """The float type a decimal source's values come back in: float32 for a float32 ``.npy`` (the float32 each value
    was, which ``io.decimals`` checked when it found the grid), else float64 (a float16 source's too: see
    :func:`as_float16`)."""
    return np.dtype(np.float32 if array_dtype_name(source) in FLOAT32_NAMES else np.float64)


def as_float16(x: np.ndarray) -> np.ndarray | None:
    """Float array ``x`` as float16 where each value is one (NaN too), exactly or as the float32 it names (a decimal's
    digits name the float32 that a float16 source's value widened to, ``io.decimals``): a float16 source's lossless
    decode, which goes back to float16 as it came; None for other values (a lossy or near-lossless decode's, which
    stay float64: float16 would round them past the target or the error bound)."""
    with np.errstate(over="ignore", invalid="ignore"):
        x32 = x.astype(np.float32)
        x16 = x32.astype(np.float16)
        named = np.isclose(x, x32, rtol=1e-8, atol=0.0, equal_nan=True) | (x == x32)  # (9 significant digits)
        exact = np.array_equal(x16, x32, equal_nan=True) and bool(named.all())
    return x16 if exact else None


_FLOAT_DTYPE = re.compile(r"[<>|=]?f[248]")  # a float array's dtype.str


def _in_byte_order(x: np.ndarray, name: object) -> np.ndarray:
    """Float samples ``x`` in the byte order of the source's dtype ``name`` where that names the float type ``x``
    holds (a big-endian ``>f4`` array comes back ``>f4``, as a big-endian integer one does); else ``x`` as it is."""
    if not isinstance(name, str) or not _FLOAT_DTYPE.fullmatch(name):
        return x
    dtype = np.dtype(name)
    return x.astype(dtype) if dtype != x.dtype and dtype.newbyteorder("=") == x.dtype.newbyteorder("=") else x


IN_DTYPE_ROWS = 1 << 16  # in_dtype clips this many rows at a time: no int64 copy of a whole record beside its own


def in_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integer samples ``x`` as ``dtype``, clipped to its range (a lossy reconstruction may overshoot), never
    wrapped; a block of :data:`IN_DTYPE_ROWS` rows at a time (``x`` may be a day's record mapped from a file)."""
    info = np.iinfo(dtype)
    lo, hi = info.min, min(info.max, (1 << 63) - 1)  # x is int64: uint64 clips at 2**63 - 1
    out = np.empty_like(x, dtype=dtype)  # (x's memory order kept, as astype keeps it)
    for start in range(0, max(len(x), 1), IN_DTYPE_ROWS):
        out[start : start + IN_DTYPE_ROWS] = np.clip(x[start : start + IN_DTYPE_ROWS], lo, hi)
    return out


def integer_bits(source: object, fmt: object) -> int | None:
    """The width in bits of a record's integer samples, as its source or formats tell it: an integer WAV's own bits, a
    ``.npy`` or MATLAB array's integer type, else the widest of its WFDB formats (``io.wfdb.FORMAT_BITS``, every one
    known: an EDF's "16", a BDF's "24"); None for floats and anything out of shape (a ``.san`` header's: not
    trusted)."""
    from sancodec.io.wfdb import FORMAT_BITS  # (io.wfdb imports this module's neighbours: not at the top)

    entry: dict = source if isinstance(source, dict) else {}
    wav = entry.get("wav") if entry.get("kind") == "wav" else None
    if isinstance(wav, dict):
        bits = wav.get("bits")
        return bits if wav.get("float") is not True and type(bits) is int and 0 < bits <= 32 else None
    dtype = source_dtype(entry)
    if dtype is not None:
        return 8 * dtype.itemsize
    widths = [FORMAT_BITS.get(str(f)) for f in fmt] if isinstance(fmt, list) and fmt else [None]
    return None if any(w is None for w in widths) else max(w for w in widths if w is not None)


def _narrowed(x: np.ndarray, bits: int | None) -> np.ndarray:
    """Integer samples of ``bits`` bits (:func:`integer_bits`) in the narrowest type that holds them: int16 for WFDB's
    formats 16 and 212 (as ``sancodec.SanFile`` reads them and PhysioNet's .mat files hold them), int32 past 16 bits,
    clipped to it as a lossy decode is to its format; anything else as it is (int64 where the width is unknown)."""
    if x.dtype.kind not in "iu" or bits is None or bits > 32:
        return x
    dtype = np.dtype(np.int16 if bits <= 16 else np.int32)
    return x if dtype.itemsize >= x.dtype.itemsize else in_dtype(x, dtype)


def as_source_array(signal: Signal) -> np.ndarray:
    """``signal``'s samples in the dtype and rank its ``.npy`` source had (a MATLAB source's dtype), where
    ``Signal.source`` says so; a decimal source's values, not its integers, and a :class:`PhysicalTable`'s physical
    values (:func:`held_values`); a float32 source's floats as float32 (a lossy or near-lossless decode's where its
    rounding keeps the file's promise: else ``api.decoded_range`` marks the source float64, ``codec.float32promise``);
    a float16 source's as float16 where each value is one (:func:`as_float16`); another record's integers in the
    narrowest type its formats hold (:func:`_narrowed`)."""
    decimal = held_values(signal)
    x = signal.samples if decimal is None else decimal
    source = signal.source if isinstance(signal.source, dict) else {}
    if source.get("kind") not in ARRAY_KINDS:
        return _narrowed(x, integer_bits(source, signal.fmt))
    fields = _source_fields(source, x.shape[1]) if source.get("kind") == "npy" else None
    if fields is not None:
        return _as_fields(x, fields)
    if decimal is not None or x.dtype.kind == "f":  # (a float source's lossy or near-lossless values too)
        x = x.astype(decimal_dtype(source), copy=False)
        half = as_float16(x) if array_dtype_name(source) in FLOAT16_NAMES else None  # (a lossless decode's values)
        x = _in_byte_order(x if half is None else half, array_dtype_name(source))
    dtype = source_dtype(source)
    if dtype is not None and x.dtype.kind in "iu":
        x = in_dtype(x, dtype)
    if source.get("rank") == 1 and x.shape[1] == 1:
        return x[:, 0]
    return np.asfortranarray(x) if source.get("fortran") is True and x.ndim == 2 else x


def rate_of(times: np.ndarray, places: int | None = None) -> float | None:
    """The sampling rate of a time column: rows over the span they cover, which printed times rounded to a few
    decimals do not skew (PhysioNet's bidmc export prints 125 Hz times to two decimals after a while: its median
    step reads 100 Hz); the median step where the times run backwards; to 9 significant digits (125, not
    124.99999999999989). With ``places``, the decimals the times were printed with: the whole number of hertz the
    span allows, where their rounding leaves room for one only (mitdb's 360 Hz printed to the millisecond: its
    first 3600 rows span 9.997 s, 360.008 Hz as they read), or, that failing, the one the last time's own decimals
    allow (times printed to 5 significant digits, MATLAB's: 103.99 for 103.992 s, 125.0024 Hz as they read). None
    where no positive rate follows."""
    with np.errstate(over="ignore", invalid="ignore"):  # (times of inf, or 1e308 apart: no rate, no warning)
        steps = np.diff(times)
        span = float(times[-1] - times[0])  # (inf less inf: nan, no rate)
    rate = (len(times) - 1) / span if np.all(steps >= 0) and span > 0 else None
    if rate is not None and places is not None:
        last = decimal_places(np.asarray(times[-1:], dtype=np.float64)[:, None])  # (printed to fewer places than
        for held in sorted({places, *([] if last is None else last)}, reverse=True):  # others: to N digits, 100.01)
            slack = 10.0**-held  # each end rounded by half a unit of the last place
            lo, hi = (len(times) - 1) / (span + slack), (len(times) - 1) / max(span - slack, 1e-300)
            whole = round(rate)
            if whole > 0 and lo <= whole <= hi and hi - lo < 1:  # the one whole number there (few rows allow many)
                return float(whole)
    if rate is None:
        with np.errstate(invalid="ignore"):
            step = float(np.median(steps))
        rate = 1.0 / step if step > 0 else None
    return float(f"{rate:.9g}") if rate is not None and np.isfinite(rate) and rate > 0 else None


def read_csv(path: Path, fs: float | None, default_fs: float | None = None, rounder: Rounder = None) -> Signal:
    """CSV with or without a header row; ``fs``, else a leading time column (header 'time…'), else ``default_fs``
    sets the rate; ``rounder``: see :data:`Rounder`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SanFormatError(f"{path}: not a UTF-8 text CSV") from None
    layout = _text_layout(text)  # a spreadsheet's byte-order mark and CRLF line ends, written back so
    lines = list(filter(str.strip, text.removeprefix("\ufeff").splitlines()))  # (blank lines out; no bytecode a row)
    named = _named_delimiter(path, lines[0]) if lines else None  # Excel's "sep=;" first line: written back so
    lines = lines[named is not None:]
    preamble = _preamble(lines)  # "# exported by ...": kept as the signal's comments, written back so
    lines = lines[len(preamble):]
    footer = _preamble(lines[::-1])[::-1]  # "# end of recording" after the rows: kept after them, written back so
    lines = lines[: len(lines) - len(footer)]
    if not lines:
        raise SanFormatError(f"{path}: empty CSV")
    delimiter, decimal = dialect(lines, named)
    aligned = aligned_table(lines) if named is None and delimiter in (",", " ") else None  # MATLAB's save -ascii, a
    if aligned is not None:  # fixed-width export's: values between runs of spaces, read as single-spaced ones
        lines, delimiter, decimal = aligned.lines, " ", "."
    if preamble and _names_in_comment(preamble[-1], lines[0], delimiter, decimal) and \
            not _quoted_numbers(lines, delimiter):  # numpy.savetxt's "# a,b" (not where the names below are quoted
        lines, preamble = [preamble[-1], *lines], preamble[:-1]  # numbers, as write_csv writes such names)
    first = _cells(lines[0], delimiter)  # (quoted names read whole)
    closed = len(first) > 1 and first[-1] == "" and lines[0].rstrip(" ").endswith(delimiter)  # "1,2,": numbers
    names, spaced, names_quoted = None, False, False
    if not _data_row(first[: len(first) - closed], decimal) or _quoted_numbers(lines, delimiter):
        names = first
        spaced = _spaced_names(lines[0], delimiter)  # "Time [s], RESP, PLETH" (PhysioNet's BIDMC): written back so
        names_quoted = _every_cell_quoted(lines[0], delimiter)  # R's write.csv: "","ECG": written back so
        lines = lines[1:]
    units, units_spaced = None, False
    second = [v.strip() for v in _cells(lines[0], delimiter)] if lines else []
    if names is not None and len(lines) > 1 and not any(_number(v, decimal) for v in second) \
            and not all(_gap_word(v) is not None for v in second) and not (second and is_iso(second[0])):  # (a row
        # of gaps is data, and so is one of a date-time and gaps)
        units_spaced = _spaced_names(lines[0], delimiter)  # ("s, mV, mV", as the names above it: written back so)
        units, lines = _cells(lines[0], delimiter), lines[1:]  # a second header row: the units (PhysioNet's export)
    if not lines:
        raise SanFormatError(f"{path}: the CSV has a header row but no data rows")
    written: dict[str, Any] = {"names_spaced": True} if spaced else {}  # how the rows were written, for write_csv
    # to write them so
    if named is not None:
        written["sep_line"] = True
    if aligned is not None and aligned.widths is not None and (names is not None or aligned.first == aligned.widths):
        written["aligned"] = aligned.widths  # each column's width (a right-aligned value and the spaces before it)
        if names is not None and aligned.first is not None:  # the names' own, where they are aligned too
            written["aligned_names"] = aligned.first
    if _values_spaced(lines, delimiter):  # numpy.savetxt(..., delimiter=", "): "0.126, -0.132", written back so
        written["values_spaced"] = True
        lines = [line.replace(delimiter + " ", delimiter) for line in lines]  # (each cell then read as unspaced:
        # its places, exponents and trimmed decimals)
    if units_spaced:
        written["units_spaced"] = True
    if decimal == "." and _floats_as_python_prints(lines, delimiter):  # pandas' to_csv of floats: as repr prints each
        written["float_repr"] = True
    if _trailing_delimiter(lines, names, delimiter):  # "1.5,": no column past it, not a channel of gaps named ""
        lines = [line.rstrip(" ")[:-1] for line in lines]
        names, units = names if names is None else names[:-1], units if units is None else units[:-1]
        written["closed"] = True
    parsed_decimal = decimal
    # values in double quotes ("0.125","1.5"): read as the cells they are (the whole text searched first, at C speed:
    # nearly every CSV has no quote at all)
    first_quoted = False  # whether each row's first value alone is in quotes (R's write.csv: its row names)
    if '"' in text and any('"' in line for line in lines):
        if all(line.count('"') == 2 * (line.count(delimiter) + 1) for line in lines):  # every value, in each row
            written["quoted"] = True
        else:
            first_quoted = all(line.startswith('"') and line.count('"') == 2 for line in lines)
        lines, parsed_decimal = _unquoted(path, lines, delimiter, decimal), "."
    del text  # (its rows are in lines: a long CSV's text let go before its numbers are read)
    if names_quoted and "quoted" not in written:
        written["names_quoted"] = True
    head = _cells(lines[0], delimiter)[:1]  # (none where the row was a quoted empty value alone)
    match = _CLOCK.fullmatch(head[0]) if names is not None and head else None
    clock = match is not None and names is not None and (is_time_name(names[0]) or not names[0].strip() and
                                                         match[1] is not None)  # (or pandas' Timedelta under an
    # unnamed index: wfdb-python's to_dataframe().to_csv())
    if names is not None and names and is_iso(names[0]):  # (a date-time is no name: the file has no header row)
        raise SanFormatError(f"{path}: its first row starts with a date-time ({names[0].strip()!r}), not a name: "
                             "give the CSV a header row (time,ECG,...) to read that column as its times")
    dated = names is not None and bool(head) and is_iso(head[0])  # ISO 8601 date-times first: the time column
    padded = None
    trimming = _trimmed(lines, delimiter, parsed_decimal, clock or dated)
    if trimming is None and not (clock or dated) and names is not None and len(names) > 1 and is_time_name(names[0]):
        trimming = _trimmed(lines, delimiter, parsed_decimal, True)  # the values' layout, where the times alone
        if trimming:  # ruled it out: printed at their fixed places ("%.3f"'s 0.100 beside pandas' 0.23 and 0.334)
            written["time_untrimmed"] = True
    if trimming:  # a spreadsheet's 1.5 beside 2.25 (Python's and pandas' 1.0 beside 2.25, "shortest"): written back so
        written[trimming] = True
    if trimming != "trimmed":  # numpy.savetxt's %.4f of values that need fewer places (0.0040; pandas' 3.0 in a
        # column of whole numbers): written back so
        padded = padded_places(lines, delimiter, parsed_decimal, skip_first=clock or dated)
    clock_places: int | None = None
    iso: dict[str, Any] | None = None
    dates: list[str] = []
    iso_seconds = None
    pandas_days = False
    ticks: np.ndarray | None = None  # the times in whole nanoseconds from the first, where they were read so
    if clock:
        lines, clock_places, pandas_days, ticks = _clock_times_in_seconds(lines, delimiter, path)
    elif dated:
        dates = [lines[i].partition(delimiter)[0].strip() for i in _sampled_rows(len(lines))]
        lines, iso, iso_seconds, ticks = iso_times_in_seconds(lines, delimiter, path)
    try:
        data = _numbers(lines, delimiter, parsed_decimal)
    except ValueError as exc:
        gapped = _with_gaps(lines, delimiter, parsed_decimal)  # empty cells, PhysioNet's "-" and the like as NaN
        if gapped is None:
            said = _bad_cell(lines, delimiter, parsed_decimal, names) or f"not a numeric CSV ({exc})"
            raise SanFormatError(f"{path}: {said}") from None
        data = gapped
    if iso_seconds is not None and data.ndim == 2 and len(data) == len(iso_seconds):  # (parsed as placeholders)
        data[:, 0] = iso_seconds
    exponents = exponent_digits(lines, delimiter, data, skip_first=clock or dated) \
        if parsed_decimal == "." and not trimming else None  # numpy.savetxt's default %.18e: written back so
    gap = np.argwhere(np.isnan(data))[0] if np.isnan(data).any() else None
    gap_text = None if gap is None else _gap_text(lines[int(gap[0])], delimiter, int(gap[1]))
    timed = names is not None and (is_time_name(names[0]) or dated or clock) and data.shape[1] > 1
    if timed and np.isnan(data[:, 0]).any():
        row = int(np.argwhere(np.isnan(data[:, 0]))[0][0])
        raise SanFormatError(f"{path}: {_where(row, 0, names)} is {gap_text or 'empty'}: a time is never missing")
    source: dict[str, Any] = {"kind": "csv", **written, **layout}
    if path.suffix.lower() in (".tsv", ".txt"):  # (decoded by default to a .tsv, or a .txt, again)
        source["suffix"] = path.suffix.lower()
    if (delimiter, decimal) != (",", "."):
        source |= {"delimiter": delimiter, "decimal": decimal}
    if timed:
        assert names is not None  # (a time column has a name)
        found = decimal_places(data[:, :1])
        time_places = clock_places if clock else None if found is None else found[0]  # the decimals the times were
        # printed with
        scale = 1 if clock or dated else time_unit_scale(names[0])  # "time_ms": milliseconds
        if data.shape[0] > 1:
            seconds = data[:, 0] if scale == 1 else (data[:, 0] - data[0, 0]) / scale  # (from the first: exact for
            # microseconds since 1970; the places of seconds: 3 more for milliseconds)
            rate = rate_of(seconds, None if time_places is None else time_places + len(str(scale)) - 1)
            if fs is None:
                if rate is not None:
                    _check_even(path, seconds, rate, data[:, 0], scale)
                    if ticks is not None:  # date-times or clock times to the nanosecond: the rate they were made
                        rate = meant_rate(ticks, 1e-9, rate)  # at (date_range's 360 Hz, not its span's 360.0001)
                fs = rate
            elif rate is not None and abs(rate - fs) > RATE_MISMATCH * fs:  # the times are rebuilt at fs
                warnings.warn(f"{path}: its time column runs at {rate:.6g} Hz, not the {fs:.6g} Hz given, which the "
                              f"samples are coded at (a decode's times step by 1/{fs:.6g} s)", SancodecWarning,
                              stacklevel=3)
        if time_places is not None and padded is not None and padded[0] is not None:  # 0.0040: printed with 4 places
            time_places = max(time_places, padded[0])
        if np.isfinite(data[0, 0]):  # written back by write_csv, rebuilt from the rate, printed as they were
            source |= {"time_column": names[0], "time_start": float(data[0, 0])}
            if scale != 1:
                source["time_scale"] = scale  # the column's unit in a second: its times rebuilt in it
            if time_places is not None:
                source["time_decimals"] = time_places
            if clock:
                source["time_clock"] = True  # written back as clock times
                if pandas_days:
                    source["time_days"] = True  # ... as pandas prints a Timedelta: "0 days 00:00:00.004000"
                source = step_source(source, ticks, fs)  # ... from their step where the rate misses it
            elif iso is not None:  # written back as date-times, rounded or cut as the rows given back say
                source = step_source(source, ticks, fs)
                iso["rounded"] = fs is None or _dates_rounded(dates, len(lines), fs, {**source, "time_iso": iso})
                source["time_iso"] = iso
            elif fs is not None and exponents is not None and exponents[0] is not None and \
                    _times_in_exponents(lines, delimiter, exponents[0], float(data[0, 0]), fs, scale):
                source["time_exponent"] = exponents[0]  # numpy.savetxt's %.18e of the times, written back so
            elif fs is not None and (digits := _time_digits(lines, delimiter, parsed_decimal, float(data[0, 0]), fs,
                                                            time_places, None if written.get("time_untrimmed")
                                                            else trimming, scale)) is not None:
                source["time_digits"] = digits  # MATLAB's csvwrite: 100.01 for 100.008, written back so
        data, names, units = data[:, 1:], names[1:], None if units is None else units[1:]
        padded = None if padded is None else padded[1:]
        exponents = None if exponents is None else exponents[1:]  # (the times are rebuilt: printed as they were)
    elif names is not None and (index_start := _index_start(lines, delimiter, names, data)) is not None:
        source["index_column"] = {"name": names[0], "start": index_start,  # pandas' to_csv: its rows' numbers,
                                  **({"quoted": True} if first_quoted else {})}  # rebuilt (R's row names: quoted)
        data, names, units = data[:, 1:], names[1:], None if units is None else units[1:]
        padded = None if padded is None else padded[1:]
        exponents = None if exponents is None else exponents[1:]
    if padded is not None and any(p is not None for p in padded) and len(padded) == data.shape[1]:
        source["printed_places"] = padded  # written back by write_csv at these places
    if exponents is not None and any(n is not None for n in exponents) and len(exponents) == data.shape[1]:
        source["exponent_digits"] = exponents  # written back by write_csv so
    if names is None:
        source["headerless"] = True  # written back without a header row
    if names is not None and len(names) != data.shape[1]:
        raise SanFormatError(f"{path}: header has {len(names)} names for {data.shape[1]} columns")
    _check_orientation(path, data.shape, "write it a column a channel")
    del lines  # (the rows' text, let go before the numbers are made into what the signal holds)
    if gap is not None:  # gaps: decimals as integers, each gap WFDB's invalid sample (decimals.gapped_units)
        data, held = _held_gaps(data, rounder)
        if held is None:
            row, column = (int(v) for v in np.argwhere(np.isnan(data))[0])
            raise SanFormatError(f"{path}: {_where(row, column, names)} is {gap_text or 'empty'}, a missing value, "
                                 "which sancodec keeps in columns of decimals (at most 9 places, within 32 bits) "
                                 "only, or in near-lossless and lossy modes among any floats; fill the gap, or cut "
                                 "the record there")
        units_held, places, value = held
        signal = with_decimals(_as_signal(path, units_held, default_fs if fs is None else fs, names, source), places,
                               units_held, gap=(value, gap_text or ""), values=data)
    else:
        if _whole_numbers(data):
            data = data.astype(np.int64)
        elif (printed := column_places(data)) is not None:  # what a lossy file's CSV prints at most (write_csv)
            source["value_decimals"] = printed
        signal = _as_signal(path, data, default_fs if fs is None else fs, names, source)
    if units is not None and len(units) == signal.n_channels:  # (a unit no header could hold stays "NU")
        signal.units = [u if u.isprintable() and len(u) <= 64 else "NU" for u in units]
        signal.source = {**(signal.source or {}), "units_row": True}  # written back by write_csv
    if "time_iso" in source:  # the first date-time: the record's start, as a WFDB header or an EDF file says it
        signal.base_date, signal.base_time = start_of(source["time_iso"])
    if preamble or footer:
        signal.comments = [*signal.comments, *preamble, *footer]
        signal.source = {**(signal.source or {}), "comment_lines": True}  # written back by write_csv
        if footer:  # the last comments, written after the rows
            signal.source["footer_lines"] = len(footer)
    return signal


_TRAILING_ZEROS = re.compile(r"(\.\d*?)0+(?![\d.])")  # (\d*? : the shortest digits that keep one before the zeros)


def _whole_numbers(data: np.ndarray) -> bool:
    """Whether a CSV's numbers are whole and within 32 bits, none of them a negative zero (pandas' -0.0, kept as
    decimals keep it): read as integers. A block of rows at a time (its temporaries were as large as the numbers)."""
    for at in range(0, len(data), CHUNK_ROWS):
        block = data[at : at + CHUNK_ROWS]
        if not (np.all(block == np.round(block)) and np.all(np.abs(block) < 2**31)) or \
                np.any((block == 0) & np.signbit(block)):
            return False
    return True


def _trimmed(lines: Sequence[str], delimiter: str, decimal: str, clock: bool) -> str | None:
    """"trimmed" where some values of a CSV's rows hold decimals and none ends in a 0 after its decimal mark (nor in
    the mark alone, nor has 18 places or more, nor an exponent): a spreadsheet's numbers, each printed in as few
    decimals as it needs (1.5 beside 2.25), which :func:`write_csv` then prints so (``trimmed``) rather than each
    column at its most places (1.50); "shortest" where the only such 0 is a whole number's one place (1.0 beside
    2.25: Python's ``repr`` of a float, what ``pandas.DataFrame.to_csv`` writes), printed so (``shortest``); else
    None. ``clock``: the first column holds clock times, not looked at. By the cells' last characters, found with
    numpy (a regular expression over the rows took half of a 650 000-row CSV's read); the first :data:`TRIM_PROBE`
    rows first, where one such value (a 0 last after another digit, an exponent) answers for the whole (no) at a
    fraction of the time: ``numpy.savetxt``'s fixed places end in 0 every tenth value or so."""
    if len(lines) > TRIM_PROBE and _trim_facts(lines[:TRIM_PROBE], delimiter, decimal, clock)[2]:
        return None
    held, untrimmed, unshortened = _trim_facts(lines, delimiter, decimal, clock)
    return None if not held else "trimmed" if not untrimmed else "shortest" if not unshortened else None


def _values_spaced(lines: Sequence[str], delimiter: str) -> bool:
    """Whether every delimiter of a CSV's data rows is followed by one space, no more (``numpy.savetxt`` with
    ``delimiter=", "``), and no row is quoted or closed by a delimiter (whose writers lay out their own cells)."""
    if delimiter not in (",", ";"):
        return False
    count = spaced = 0
    for at in range(0, len(lines), CHUNK_ROWS):  # (a chunk of rows at a time: the text is not copied whole)
        body = "\n".join(lines[at : at + CHUNK_ROWS])
        if '"' in body or delimiter + "  " in body:
            return False
        count, spaced = count + body.count(delimiter), spaced + body.count(delimiter + " ")
    return count > 0 and spaced == count


def _floats_as_python_prints(lines: Sequence[str], delimiter: str) -> bool:
    """Whether a CSV's data rows (their first :data:`TRIM_PROBE`, every cell after the first) print each number that
    is no integer as Python's ``repr`` of its float does, the shortest text that reads back as it
    (``pandas.DataFrame.to_csv``), some with 16 significant digits or more (where fewer, the decimals' own layouts
    say it)."""
    probe = lines[:TRIM_PROBE]
    if not _LONG_NUMBER.search("\n".join(probe)):  # (no cell of 16 digits: no answer but no, without a float each)
        return False
    long = False
    for line in probe:
        for cell in line.split(delimiter)[1:]:
            text = cell.strip()
            if text.lstrip("-").isdigit():  # (an integer column's: pandas prints those as integers)
                continue
            try:
                if repr(float(text)) != text:
                    return False
            except ValueError:
                return False
            long = long or len(text.lstrip("-").replace(".", "").lstrip("0")) >= 16
    return long


def _shortest_floats(rows: np.ndarray, formats: list[str], source: dict) -> tuple[np.ndarray, list[str]]:
    """Where a CSV source printed its numbers as Python prints floats (``float_repr``: pandas' 0.8675855513307985), or
    as few digits as they need (``trimmed``, ``shortest``), its float64 columns that are no decimals (17 significant
    digits, else) as Python prints each (``repr``: the shortest text that reads back as that float)."""
    python = source.get("float_repr") is True  # (then its decimals too: -0.104, not -0.1040)
    wanted = [c for c, f in enumerate(formats) if f == "%.17g" or python and _PLACES_FORMAT.fullmatch(f)]
    asked = python or source.get("trimmed") is True or source.get("shortest") is True
    if not wanted or not asked:
        return rows, formats
    out = rows.astype(object)
    for c in wanted:  # (Python floats: their repr, nan and inf included; a decimal as its places print it, first)
        out[:, c] = [repr(float(formats[c] % v)) for v in rows[:, c].tolist()]
    return out, ["%s" if c in wanted else f for c, f in enumerate(formats)]


_PLACES_FORMAT = re.compile(r"%\.[1-9]\d*f")  # a decimal column's format, one place or more
_LONG_NUMBER = re.compile(r"[\d.eE+-]{16,}")  # what a number of 16 significant digits or more holds


def _trim_after_first(text: str, delimiter: str, shortest: bool) -> str:
    """:func:`_trim` of every cell of ``text``'s rows but the first (a time column at its fixed places)."""
    rows = text.split("\n")
    return "\n".join(first + sep + _trim(rest, shortest) for first, sep, rest in (r.partition(delimiter) for r in rows))


def _trim(text: str, shortest: bool) -> str:
    """``text``'s decimals without their trailing zeros (and a whole number's point), or with ``shortest`` keeping one
    0 after a whole number's point (1.0, Python's ``repr``): :func:`_trimmed`'s layouts."""
    return _TRAILING_ZEROS.sub((lambda m: m[1] if len(m[1]) > 1 else m[1] + "0") if shortest
                               else (lambda m: m[1].rstrip(".")), text)


TRIM_PROBE = 1000  # rows :func:`_trimmed` looks at first
RATE_MISMATCH = 1e-3  # a rate given that far from a CSV's time column's is warned of
UNEVEN_PERIODS = 0.25  # a time column whose times stray from even steps by more than this share of a period ...
UNEVEN_PRINTED = 1.000001  # ... and more than the unit each was printed to (cut, or rounded)


def _check_even(path: Path, seconds: np.ndarray, rate: float, times: np.ndarray, scale: int = 1) -> None:
    """Refuse a time column (``seconds``, read at ``rate``; ``times``: as printed, in units of ``1 / scale`` s) whose
    times stray from even steps by more than their printing explains (:data:`UNEVEN_PERIODS` of a period,
    :data:`UNEVEN_PRINTED` of the unit each was printed to, :func:`_printed_units`): rows missing, rows out of order,
    or a logger's jitter. Its samples would be coded as evenly spaced and its times rebuilt so on decode, every time
    past the stray moved; ``--fs`` takes the rows as evenly spaced at that rate, knowingly. A block of rows at a time
    (the whole column's temporaries were several times a narrow CSV's size)."""
    with np.errstate(over="ignore", invalid="ignore"):  # (times of inf, or 1e308 apart: refused, without a warning)
        for at in range(0, len(seconds), CHUNK_ROWS):
            block = slice(at, at + CHUNK_ROWS)
            drift = np.abs(seconds[block] - seconds[0] - np.arange(at, at + len(seconds[block])) / rate)
            units = _printed_units(times[block]) / scale
            if not np.all(drift <= np.maximum(UNEVEN_PERIODS / rate, UNEVEN_PRINTED * units)):
                break
        else:
            return
        drift = np.abs(seconds - seconds[0] - np.arange(len(seconds)) / rate)  # (refused: the whole column's)
        steps = np.diff(seconds)
    middle = float(np.median(steps))
    k = int(np.argmax(np.abs(steps - middle)))
    raise SanConfigError(f"{path}: its time column is not evenly spaced (a step of {steps[k]:.6g} s after data row "
                         f"{k + 1}, against {middle:.6g} s; the times stray from even steps at {rate:.6g} Hz by up to "
                         f"{float(drift.max()):.3g} s): rows missing or out of order, or uneven times, which the "
                         "decode would rebuild evenly; --fs takes the rows as evenly spaced at that rate (Python: "
                         "read_signal(path, fs=...))")


def _printed_units(times: np.ndarray) -> np.ndarray:
    """Each time's unit in its last printed place as its value shows it: ``10**-d`` for the fewest decimals ``d`` (up
    to 9) that hold it (10.01: 0.01; 10.008: 0.001), else a millionth of its magnitude (times printed to significant
    digits, or in binary fractions)."""
    with np.errstate(over="ignore", invalid="ignore"):
        units = np.maximum(np.abs(times), 1.0) * 1e-6
        for d in range(9, -1, -1):
            scaled = times * 10.0**d
            held = np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(np.abs(scaled), 1.0)
            units = np.where(held, 10.0**-d, units)
    return units


def _trim_facts(lines: Sequence[str], delimiter: str, decimal: str, clock: bool) -> tuple[bool, bool, bool]:
    """For :func:`_trimmed`: whether some cell of ``lines`` holds a decimal mark, whether some value rules the trimmed
    layout out (a 0 or the mark last after its mark, 18 places or more, an exponent), and whether some value rules the
    shortest out (the same, but a 0 that is the one place after a whole number's point). Each fact is some cell's: the
    text looked at a chunk of rows at a time (``csv_places.text_chunks``), every chunk's facts joined."""
    facts = (False, False, False)
    for text in text_chunks(lines):
        held, untrimmed, unshortened = _chunk_trim_facts(text, delimiter, decimal, clock)
        facts = (facts[0] or held, facts[1] or untrimmed, facts[2] or unshortened)
    return facts if facts[0] else (False, False, False)


def _chunk_trim_facts(text: np.ndarray, delimiter: str, decimal: str, clock: bool) -> tuple[bool, bool, bool]:
    """:func:`_trim_facts` of the rows joined in ``text`` (their UTF-8 bytes), an exponent's facts where they hold
    no decimal mark too (another chunk's may)."""
    letters = (text[1:] | 0x20) == ord("e")  # an exponent: e or E after a digit
    exponent = bool(np.any(letters & (text[:-1] >= ord("0")) & (text[:-1] <= ord("9"))))
    marks = np.flatnonzero(text == ord(decimal))
    if not len(marks):
        return False, exponent, exponent
    seps, ends, starts = cell_bounds(text, delimiter)
    if clock:  # the clock times: each row's first cell
        first = np.insert(text[seps] == ord("\n"), 0, True)
        ends, starts = ends[~first], starts[~first]
    last = np.searchsorted(marks, ends, side="right") - 1  # the last decimal mark at or before each cell's end
    held = (last >= 0) & (marks[np.maximum(last, 0)] >= starts)  # ... within the cell
    tail = text[np.maximum(ends, 0)][held]
    places = (ends - marks[np.maximum(last, 0)])[held]
    ruled_out = exponent or bool(np.any(tail == ord(decimal))) or bool(np.any(places >= 18))
    zeros = tail == ord("0")
    return bool(held.any()), ruled_out or bool(np.any(zeros)), ruled_out or bool(np.any(zeros & (places != 1)))


MAX_TRAILING_BLANK = 1024  # a CSV's empty lines after its last row, kept up to this many (a header's, at most)


def _text_layout(text: str) -> dict[str, bool | int | list[list[int | str]]]:
    """How a CSV's text is laid out beyond its rows, for :func:`write_csv` to lay it out so (source keys): ``bom``,
    it starts with a byte-order mark (a spreadsheet's "CSV UTF-8"); ``crlf``, every line ends with CR LF (Windows);
    ``unterminated``, its last line has no line end; ``trailing_blank``, how many empty lines follow its last row
    (an exporter's closing blank line); ``blank_lines``, the lines before those that hold nothing or only spaces and
    tabs (an export's empty line between its header and its rows, or between blocks of rows), each as ``[its index
    among the lines, its text]``, up to :data:`MAX_BLANK_LINES` (more are not kept). None of them where not so."""
    end = _body_end(text)  # (the text is not copied: a long CSV's read holds it and its rows at once)
    blank = text.count("\n", end) - 1
    start = 1 if text.startswith("\ufeff") else 0
    first = text.find("\n", start, end)
    lead_blank = not text[start : end if first < 0 else first].strip()
    inside: list[tuple[int, str]] = \
        [(k, line) for k, line in enumerate(text[start:end].splitlines()) if not line.strip()] \
        if lead_blank or _BLANK_INSIDE_TEXT.search(text, start, end) else []  # (a pass over every line only where
    # one is blank: it took a fifth of a 650 000-row CSV's read)
    layout: dict[str, bool | int] = {
        "bom": start == 1,
        "crlf": "\n" in text and text.count("\r\n") == text.count("\n") == text.count("\r"),
        "unterminated": end > 0 and end == len(text)}
    out: dict[str, bool | int | list[list[int | str]]] = {key: True for key, value in layout.items() if value}
    if end > 0 and 0 < blank <= MAX_TRAILING_BLANK:
        out["trailing_blank"] = blank
    if 0 < len(inside) <= MAX_BLANK_LINES and all(_BLANK.fullmatch(line) for _, line in inside):
        out["blank_lines"] = [[k, line] for k, line in inside]
    return out


def _body_end(text: str) -> int:
    """The length of ``text.rstrip("\\r\\n")``, without the copy of the text it makes."""
    tail = text[-4096:]
    kept = len(tail.rstrip("\r\n"))
    return len(text) - len(tail) + kept if kept else len(text.rstrip("\r\n"))


MAX_BLANK_LINES = 4096  # a CSV's blank lines among its rows, kept up to this many
_BLANK_INSIDE_TEXT = re.compile(r"\n[ \t]*\r?\n")  # a line of nothing, or of spaces and tabs, after the first
_BLANK = re.compile(r"[ \t]{0,256}")  # ... each of nothing, or of at most 256 spaces and tabs


def _blank_lines(value: object) -> list[tuple[int, str]] | None:
    """A source's ``blank_lines`` (:func:`_text_layout`) as a writer inserts them: a ``.san`` header is not trusted,
    and anything but a list of at most :data:`MAX_BLANK_LINES` ``[index, text]`` pairs, the indices whole numbers
    rising from 0, each text :data:`_BLANK`, counts for nothing (None)."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_BLANK_LINES:
        return None
    out: list[tuple[int, str]] = []
    for entry in value:
        if not (isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and isinstance(entry[1], str)
                and entry[0] > (out[-1][0] if out else -1) and _BLANK.fullmatch(entry[1])):
            return None
        out.append((entry[0], entry[1]))
    return out


def _names_in_comment(note: str, line: str, delimiter: str, decimal: str) -> bool:
    """Whether the preamble's last ``note`` is the header row, written as a comment (``numpy.savetxt(header=...)``
    writes "# time,ECG"): names, as many as the first row below, ``line``, holds values, and that row data."""
    names, values = _cells(note, delimiter), _cells(line, delimiter)
    return len(names) == len(values) and not _data_row(names, decimal) and _data_row(values, decimal)


def footer_count(source: dict[str, Any], comments: int) -> int:
    """How many of a CSV source's ``comments`` (the last ones) stood after its rows, as ``source["footer_lines"]``
    says (read from a file's header: 0 unless a count from 1 to ``comments``)."""
    count = source.get("footer_lines")
    return count if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= comments else 0


def _preamble(lines: Sequence[str]) -> list[str]:
    """The comments of the lines starting with ``#`` before a CSV's first row (an export's notes: device, date,
    settings), each without its ``#`` and the space after it."""
    notes = []
    for line in lines:
        if not line.lstrip().startswith("#"):
            break
        note = line.lstrip()[1:]
        notes.append(note[1:] if note.startswith(" ") else note)
    return notes


def _unquoted(path: Path, lines: Sequence[str], delimiter: str, decimal: str) -> list[str]:
    """Data rows whose values stand in double quotes, as rows of the bare values (the csv module's reading: a quoted
    value may hold the delimiter), a decimal comma made a point (the rows are then read with a point)."""
    for row, line in enumerate(lines):
        if line.count('"') % 2:  # (the csv module would read on into the next rows, as one value)
            raise SanFormatError(f"{path}: a quoted value does not close in data row {row + 1}")
    try:
        rows = list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise SanFormatError(f"{path}: a quoted value does not read ({exc})") from None
    return [delimiter.join(c.strip().replace(",", ".") if decimal == "," else c.strip() for c in row) for row in rows]


def _trailing_delimiter(lines: Sequence[str], names: Sequence[str] | None, delimiter: str) -> bool:
    """Whether every data row of ``lines`` ends with ``delimiter`` under a header (if any) whose last name is empty:
    an export that closes each row with a delimiter, whose last "column" holds nothing, not a channel of gaps."""
    if names is not None and (len(names) < 2 or names[-1].strip()):
        return False
    return all(line.rstrip(" ").endswith(delimiter) for line in lines) and \
        (names is not None or all(line.rstrip(" ")[:-1].strip() for line in lines))


def _with_gaps(lines: Sequence[str], delimiter: str, decimal: str) -> np.ndarray | None:
    """The rows with their missing values (``decimals.MISSING_TEXTS``: an empty cell, "-", "NA"...) as NaN, in one
    pass of a regular expression and numpy's reader (a cell at a time took three times the whole read of a
    650 000-row record); None where a cell is neither a number nor one of those, or the rows differ in length (the
    error says which)."""
    try:
        return _numbers(_gaps_as_nan_rows(lines, delimiter), delimiter, decimal)
    except ValueError:
        return None


def gaps_as_nan(lines: Sequence[str], delimiter: str) -> str:
    """``lines`` joined by line breaks, each cell that holds a missing value's text (``decimals.MISSING_TEXTS``, or
    nothing, between spaces or tabs) as ``nan``: one regular expression, run on the rows that may hold one
    (:func:`_digitless_rows`; over every row it took half of a gapped 650 000-row CSV's read)."""
    return "\n".join(_gaps_as_nan_rows(lines, delimiter))


def _gaps_as_nan_rows(lines: Sequence[str], delimiter: str) -> list[str]:
    """:func:`gaps_as_nan`'s rows, not joined."""
    d = re.escape(delimiter)
    words = "|".join(re.escape(t) for t in MISSING_TEXTS if t)
    blank = "[ ]" if delimiter == "\t" else "[ \t]"  # (a cell's spaces, never its delimiter: a tab-separated row's
    # "\t\t-2.02", two gaps, read as "nannan\t-2.02")
    gap = re.compile(rf"(?<![^{d}\n]){blank}*(?:{words})?{blank}*(?=[{d}\n]|\Z)")
    rows = list(lines)
    for i in _digitless_rows(rows, delimiter):
        rows[i] = gap.sub("nan", rows[i])
    return rows


def _digitless_rows(lines: Sequence[str], delimiter: str) -> Sequence[int]:
    """The indices of ``lines`` holding a cell (between delimiters) without a digit: every row a missing value's
    text can be in (none of ``decimals.MISSING_TEXTS`` holds a digit, and every number does), found with numpy; every
    row where ``delimiter`` is not one ASCII character."""
    if len(delimiter) != 1 or not delimiter.isascii():
        return range(len(lines))
    found: list[int] = []
    for at in range(0, len(lines), CHUNK_ROWS):  # (a chunk of rows at a time: several integers a cell)
        text = np.frombuffer(("\n".join(lines[at : at + CHUNK_ROWS]) + "\n").encode("utf-8"), np.uint8)  # (the last
        # line end: no cell past it)
        ends = np.flatnonzero((text == ord(delimiter)) | (text == ord("\n")))
        starts = np.insert(ends[:-1] + 1, 0, 0)
        digits = (text >= ord("0")) & (text <= ord("9"))
        # each cell's digits and the delimiter after it (no digit): an empty cell's count is its delimiter's, 0
        counts = np.add.reduceat(digits, starts, dtype=np.int64)
        newlines = np.flatnonzero(text == ord("\n"))
        found += (at + np.unique(np.searchsorted(newlines, starts[counts == 0]))).tolist()
    return found


def _numbers(rows: Sequence[str], delimiter: str, decimal: str) -> np.ndarray:
    """The data rows' numbers (numpy's reader, a decimal comma read as a point); a ValueError where one does not
    read, a row starting with ``#`` among them (numpy would pass it over as a comment: a row lost without a word), or
    a row with nothing in it (a quoted empty value alone; numpy would warn of no data, or pass the row over). The rows
    are handed to numpy as they are: joined into one text in a ``StringIO`` (four bytes a character) they took nine
    times a 100 MB CSV's size at the peak of its read."""
    if any(not row.strip() for row in rows):
        raise ValueError("a row holds no value")
    return np.loadtxt((row.replace(",", ".") for row in rows) if decimal == "," else rows, delimiter=delimiter,
                      ndmin=2, comments=None)


def _gap_text(line: str, delimiter: str, column: int) -> str | None:
    """The text a CSV wrote for the missing value in ``column`` of ``line`` (:func:`_gap_word`), or None."""
    cells = _cells(line, delimiter)
    return _gap_word(cells[column].strip()) if column < len(cells) else None


def _data_row(cells: Sequence[str], decimal: str) -> bool:
    """Whether a first row of ``cells`` is data, not names: numbers (with ``decimal`` as the mark: "0,125;1,5" is
    data), among them gaps (``1,,3``, ``1,-,3``); a row of gaps alone is no data to tell by (names)."""
    words = [c.strip() for c in cells]
    return any(_number(c, decimal) for c in words) and \
        all(_number(c, decimal) or _gap_word(c) is not None for c in words)


def _gap_word(text: str) -> str | None:
    """``text`` where it is one of ``decimals.MISSING_TEXTS``, "NaN" for another spelling numpy reads as NaN
    ("NAN"), else None (not a gap)."""
    return text if text in MISSING_TEXTS else "NaN" if text.lower() == "nan" else None


def _where(row: int, column: int, names: Sequence[str] | None) -> str:
    """A data cell's place, for an error: its row among the data rows (from 1) and its column's name or number."""
    name = repr(names[column]) if names is not None and column < len(names) else f"{column + 1}"
    return f"data row {row + 1}, column {name}"


def _bad_cell(lines: Sequence[str], delimiter: str, decimal: str, names: Sequence[str] | None) -> str | None:
    """What is wrong with the first data row that does not read: a cell that is neither a number nor a missing
    value (``decimals.MISSING_TEXTS``), or a row of another length than the first; None where every row reads."""
    width = None
    for row, line in enumerate(lines):
        cells = _cells(line, delimiter)
        for column, cell in enumerate(cells):
            text = cell.strip()
            if not _number(text, decimal) and text not in MISSING_TEXTS:  # (a gap reads: read_csv keeps it)
                return f"{_where(row, column, names)} is not a number ({text[:40]!r}){_spaced_hint(text, decimal)}"
        width = len(cells) if width is None else width
        if len(cells) != width:
            return f"data row {row + 1} has {len(cells)} values, the first {width}"
    return None


def _spaced_hint(text: str, decimal: str) -> str:
    """What to do where a cell that is no number is numbers between runs of spaces (columns aligned so, a fixed-width
    export's, in a table that also holds commas, semicolons, tabs or quotes, which :func:`aligned_table` leaves
    alone): a sentence to add to its error; "" for any other cell."""
    parts = text.split()
    if len(parts) < 2 or "  " not in text or not all(_number(v, decimal) for v in parts):
        return ""
    return ("; its values stand between runs of spaces, which sancodec reads as columns only in a table that holds no "
            "comma, semicolon, tab or quote: separate every value one way")


def _cells(line: str, delimiter: str) -> list[str]:
    """A CSV row's cells, quotes (PhysioNet's single ones too) and spaces around them taken off."""
    return [v.strip().strip("'\"") for v in next(csv.reader([line], delimiter=delimiter))]


def _quoted_numbers(lines: Sequence[str], delimiter: str) -> bool:
    """Whether the first of ``lines``, whose cells all read as numbers, is a header of names that are numbers: some
    cell quoted (as :func:`_header_row` writes such names), and a second line with no quote at all (a file that
    quotes every value quotes its data rows too)."""
    quoted = any(len(c) >= 2 and c[0] == c[-1] and c[0] in "\"'" for c in map(str.strip, lines[0].split(delimiter)))
    return quoted and len(lines) > 1 and not any(q in lines[1] for q in "\"'")


def _number(cell: str, decimal: str) -> bool:
    """Whether ``cell`` reads as a number (with ``decimal`` as its decimal mark)."""
    try:
        float(cell.replace(",", ".") if decimal == "," else cell)
    except ValueError:
        return False
    return True


_CLOCK = re.compile(r"(?:(\d+) days )?(?:(\d+):)?(\d+):(\d+(?:[.,]\d*)?)")  # h:mm:ss.mmm or m:ss.mmm, PhysioNet's
# elapsed time; after a count of days ("0 days 00:00:00.004000"), pandas' Timedelta as to_csv prints a TimedeltaIndex


def _clock_times_in_seconds(lines: list[str], delimiter: str, path: Path
                            ) -> tuple[list[str], int, bool, np.ndarray | None]:
    """``lines`` with their first cell, an elapsed time as PhysioNet's exports print it ('0:01.250') or as pandas
    prints a Timedelta ('0 days 00:00:01.250000'), in seconds; the most decimals a time's seconds were printed with
    (at most :data:`decimals.MAX_DECIMALS`); whether the times were pandas' (every one of them); and the times in
    whole nanoseconds from the first (None where one was printed past the nanosecond)."""
    out, ns = [], []
    places, days_seen, plain_seen = 0, False, False
    for line in lines:
        first, sep, rest = line.partition(delimiter)
        clock = _CLOCK.fullmatch(first.strip().strip("'\""))
        if clock is None:
            raise SanFormatError(f"{path}: the time column mixes clock times with {first.strip()!r}")
        days, hours, minutes, seconds = clock.groups()
        days_seen, plain_seen = days_seen or days is not None, plain_seen or days is None
        whole, _, fraction = seconds.replace(",", ".").partition(".")
        places = max(places, len(fraction))
        counted = 86400 * int(days or 0) + 3600 * int(hours or 0) + 60 * int(minutes)  # (whole seconds before the
        # seconds field)
        out.append(f"{counted + float(seconds.replace(',', '.'))!r}{sep}{rest}")
        ns.append((counted + int(whole)) * 10**9 + int(fraction[:9].ljust(9, "0")))
    if days_seen and plain_seen:
        raise SanFormatError(f"{path}: the time column mixes pandas' Timedelta times with clock times")
    exact = places <= 9 and bool(ns) and max(ns) < 2**62
    ticks = np.asarray(ns, dtype=np.int64) - ns[0] if exact else None
    return out, min(places, MAX_DECIMALS), days_seen, ticks


def column_times(start: float, rows: np.ndarray, fs: float, scale: int = 1) -> np.ndarray:
    """A CSV time column's times at ``rows`` (row indices) from ``start`` at ``fs`` in units of ``1 / scale`` s
    (``time_scale``): start plus the row over the rate (times the scale, which keeps whole milliseconds whole: 4 i,
    not i / 0.25). What :func:`write_csv` writes, and what the reader tries a layout against."""
    with np.errstate(over="ignore"):  # (a rate of 1e-300 Hz: times past float64's range print as inf)
        return start + (rows / fs if scale == 1 else rows * scale / fs)


def _sampled_rows(n: int) -> list[int]:
    """About :data:`TIME_SAMPLE` rows of ``n``, the first and last among them: where a time layout is tried first."""
    return sorted({*range(0, n, max(1, n // TIME_SAMPLE)), n - 1})


def _dates_rounded(dates: list[str], n: int, fs: float, source: dict) -> bool:
    """Whether a CSV's date-times (``dates``, the first cells of :func:`_sampled_rows` of its ``n`` rows) come back
    from the rate with their fractions cut rather than rounded (a logger that truncates: 2.777 ms printed .002):
    rounded unless only cutting gives every one back."""
    rows, start = np.asarray(_sampled_rows(n)), float(source.get("time_start", 0.0))
    times = column_times(start, rows, fs)
    ns = _stepped(source, start, rows, fs)
    return iso_times(times, source, rounded=True, ns=ns) == dates or \
        iso_times(times, source, rounded=False, ns=ns) != dates


def _stepped(source: object, start: float, rows: np.ndarray, fs: float) -> np.ndarray | None:
    """The times of ``rows`` in whole nanoseconds from a CSV source's time column's step (``time_steps``; ``start``:
    its first time's, checked by the caller), where it holds one; else None (the times are rebuilt from the rate)."""
    step = step_of(source, fs)
    return None if step is None else stepped_ns(start, rows, step)


TIME_WORDS = ("time", "zeit", "temps", "tiempo", "tempo", "tijd", "tid", "czas", "elapsed", "timestamp")


def is_time_name(name: str) -> bool:
    """Whether a CSV's first column name says it holds times: it starts with "time", or its first word (before a
    space, bracket or underscore) is the word for time in a language spreadsheets export in ("Zeit [s]"; not "t",
    which may as well be a temperature)."""
    lowered = name.strip().lower()
    return lowered.startswith("time") or re.split(r"[\s\[(_]", lowered, maxsplit=1)[0] in TIME_WORDS


DELIMITERS = (",", ";", "\t", " ")  # what a CSV's values may be separated by: commas; semicolons where a comma is the
# decimal mark (European spreadsheets' exports); tabs (instruments' text exports); single spaces (numpy.savetxt's
# default, numpy.loadtxt's)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")


def dialect(lines: Sequence[str], named: str | None = None) -> tuple[str, str]:
    """A CSV's delimiter and decimal mark from its first rows: ``named`` where the file named it (Excel's "sep=;"
    line); else semicolons or tabs where every row after the first (which may be a header: its names may hold
    anything) has some; single spaces where every such row has a space between cells and none a semicolon, a tab, a
    run of spaces or a comma but inside a decimal-comma number (``numpy.savetxt``'s default,
    :func:`_space_delimited`); else commas; and a decimal comma where the delimiter is not one and a value of the first
    rows has it (no value has a point then: a value of each kind is not read as either)."""
    head = lines[:20]
    rows = head[1:] or head
    delimiter = named or next((d for d in (";", "\t") if all(d in row for row in rows)), ",")
    if delimiter == "," and named is None and _space_delimited(rows):
        delimiter = " "
    cells = [c.strip().strip('"') for line in head for c in line.split(delimiter)]  # ("0,125": a value in quotes)
    comma = delimiter != "," and any(_DECIMAL_COMMA.fullmatch(c) for c in cells)
    return delimiter, "," if comma else "."


_SEP_LINE = re.compile(r"sep=(.)", re.IGNORECASE)  # Excel's first line naming the delimiter ("sep=;")


def _named_delimiter(path: Path, line: str) -> str | None:
    """The delimiter a CSV's first ``line`` names where it is Excel's "sep=;" (which Excel reads and writes to say a
    file's separator whatever the locale): one of :data:`DELIMITERS`, else refused in words; None for any other
    line."""
    match = _SEP_LINE.fullmatch(line)
    if match is None:
        return None
    if match[1] not in DELIMITERS:
        raise SanFormatError(f"{path}: its first line, {line!r}, separates values by {match[1]!r}: sancodec reads "
                             "commas, semicolons, tabs or single spaces")
    return match[1]


class AlignedTable(NamedTuple):
    """A table whose values stand between runs of spaces (:func:`aligned_table`): its lines with single spaces
    between values, and the widths its rows are right-aligned to, where every row but the first is (``widths``; the
    first line's own, ``first``, where it is aligned so too), for :func:`write_csv` to write them so again."""

    lines: list[str]
    widths: list[int] | None
    first: list[int] | None


ALIGNED_WIDTH = 1 << 10  # a column of an aligned table is at most this wide (a header's value, not trusted, too)
ALIGNED_ROWS = 1 << 14  # _fixed_widths checks this many rows at a time


def aligned_table(lines: Sequence[str]) -> AlignedTable | None:
    """``lines`` (a table's, after its comments) read as columns aligned by runs of spaces, where its first rows
    after the first (which may be names, quoted too) hold two values or more each, as many in each, between spaces
    only (no comma, semicolon, tab or quote), some of them between runs of spaces or after spaces at the row's start:
    MATLAB's ``save -ascii`` (``   1.0000000e+00   2.5000000e-01``), ``numpy.savetxt(fmt="%10.4f")``, Fortran
    and instruments' fixed-width text, which every reader of whitespace-separated values reads so and which was
    refused. None for any other table (they read as before: every such one was refused)."""
    rows = lines[1:21] or lines[:1]
    counts = {len(row.split()) for row in rows}
    if len(counts) != 1 or min(counts) < 2 or any(any(d in row for d in ',;\t"\'') for row in rows):
        return None  # (a first row of names may quote them: write_csv quotes names that read as numbers)
    if not any("  " in row.strip() or row.startswith(" ") for row in rows):
        return None
    single = [" ".join(line.split()) for line in lines]
    widths = _fixed_widths(lines[1:] or lines[:1])
    first = _fixed_widths(lines[:1]) if len(lines) > 1 else widths  # (equal to widths: every line is aligned to them)
    return AlignedTable(single, widths, first)


def _fixed_widths(rows: Sequence[str]) -> list[int] | None:
    """The widths every one of ``rows`` is right-aligned to (each value's end at the same place in each row, spaces
    alone before it back to the last value's end), each at most :data:`ALIGNED_WIDTH`; None where they are not
    (ragged rows: written back single-spaced). Checked over every row at once, a row a line of a character array."""
    if not rows or len({len(row) for row in rows}) != 1 or any(not row.isascii() for row in rows):
        return None
    ends = [m.end() for m in re.finditer(r"\S+", rows[0])]
    widths = np.diff([0, *ends]).tolist()
    if not widths or max(widths) > ALIGNED_WIDTH or ends[-1] != len(rows[0]):
        return None
    for first in range(0, len(rows), ALIGNED_ROWS):  # (a block of rows at a time: a long table's text once more, not
        # several times over)
        block = rows[first : first + ALIGNED_ROWS]
        chars = np.frombuffer("".join(block).encode("ascii"), dtype=np.uint8).reshape(len(block), len(rows[0]))
        filled = chars != ord(" ")
        for start, end in zip([0, *ends], ends):
            field = filled[:, start:end]
            if not field[:, -1].all() or (start and field[:, 0].any()) or \
                    (np.diff(field.view(np.int8), axis=1) < 0).any():
                return None  # (a value ends elsewhere, runs into the one before, or holds a space)
    return widths


def aligned_widths(source: dict[str, Any], key: str, columns: int) -> list[int] | None:
    """A CSV source's ``aligned`` (or ``aligned_names``) widths, from a header not trusted: a list of ``columns``
    whole numbers from 1 to :data:`ALIGNED_WIDTH`, else None."""
    widths = source.get(key)
    if not isinstance(widths, list) or len(widths) != columns or \
            not all(type(w) is int and 1 <= w <= ALIGNED_WIDTH for w in widths):
        return None
    return widths


def _first_row_as_data(text: str, delimiter: str, closed: bool) -> str:
    """A headerless table's ``text`` with its first row's gaps written ``NaN`` where every cell of it is a gap's text
    (empty, ``-``, ``NA``...; quoted or not): such a row reads as a header of names (random CSV testing,
    ``CSV_SEEDS=8625:8626``, ``11286:11287``: the table came back a row short), ``NaN`` as the gaps they are."""
    first, end, rest = text.partition("\n")
    cells = first.split(delimiter)
    if closed and len(cells) > 1 and not cells[-1].strip():
        cells, tail = cells[:-1], delimiter + cells[-1]
    else:
        tail = ""
    if not first or any(_gap_word(c.strip().strip('"')) is None for c in cells):
        return text
    return delimiter.join('"NaN"' if '"' in c else "NaN" for c in cells) + tail + end + rest


def _realigned(line: str, widths: list[int] | None) -> str | None:
    """A single-spaced row right-aligned to ``widths`` again, where each value fits its width (a space before every
    value but the first); else None."""
    cells = line.split(" ")
    if widths is None or len(cells) != len(widths) or any(len(c) + (k > 0) > w for k, (c, w) in
                                                          enumerate(zip(cells, widths))):
        return None
    return "".join(c.rjust(w) for c, w in zip(cells, widths))


def _space_delimited(rows: Sequence[str]) -> bool:
    """Whether ``rows`` (a CSV's first data rows) hold cells between single spaces: each has a space inside it, no
    semicolon or tab, no run of spaces (columns aligned by runs of spaces would read as empty cells), and a comma
    only inside a number with a decimal comma (``1,5 2,25``)."""
    return bool(rows) and all(" " in row.strip() and "  " not in row.strip() and not any(d in row for d in ";\t")
                              and all("," not in c or _DECIMAL_COMMA.fullmatch(c) for c in row.split())
                              for row in rows)


def _from_txt(signal: Signal) -> bool:
    """Whether ``signal`` was read from a ``.txt`` table (whose own delimiter a ``.txt`` of it keeps)."""
    return isinstance(signal.source, dict) and signal.source.get("kind") == "csv" and \
        signal.source.get("suffix") == ".txt"


def _dialect_of(signal: Signal) -> tuple[str, str]:
    """How :func:`write_csv` separates ``signal``'s values and marks decimals: as its CSV source did (``read_csv``'s
    ``delimiter`` and ``decimal``, from an untrusted header: used only where they are one of :data:`DELIMITERS`
    and a point or, beside another delimiter, a comma), else commas and points."""
    source = signal.source if isinstance(signal.source, dict) else {}
    delimiter, decimal = source.get("delimiter", ","), source.get("decimal", ".")
    if delimiter not in DELIMITERS or decimal not in (".", ",") or delimiter == decimal:
        return ",", "."
    return delimiter, decimal


def _header_row(names: Sequence[str], delimiter: str, quote_all: bool = False) -> str:
    """The CSV's header row: the names, one quoted where it holds the delimiter or a quote (as spreadsheets quote
    them, and ``read_csv`` reads them back), every one where the row would read as data (numbers, gaps among them:
    ``read_csv`` takes a row of quoted numbers before unquoted ones for names) or its first starts with ``#`` (it
    would read as a comment), a line break in one made a space."""
    out = io.StringIO()
    cells = [" ".join(n.splitlines()) for n in names]
    as_read = [cells[0].lstrip("\ufeff"), *cells[1:]] if cells else cells  # (a byte-order mark: dropped at the start)
    every = quote_all or _data_row(as_read, ".") or _data_row(as_read, ",") or \
        (bool(cells) and cells[0].lstrip().startswith("#"))
    # (either decimal mark: the reader tells the file's from its first rows, this one among them)
    csv.writer(out, delimiter=delimiter, lineterminator="", quoting=csv.QUOTE_ALL if every else csv.QUOTE_MINIMAL
               ).writerow(cells)
    return out.getvalue()


def _row_as_written(line: str, delimiter: str, quoted: bool, closed: bool, first_quoted: bool = False) -> str:
    """A row of values as a CSV source wrote its own: each in double quotes (``quoted``; a row of numbers holds no
    delimiter inside a value), or its first alone (``first_quoted``: R's row names), closed by a delimiter
    (``closed``)."""
    if quoted:
        line = delimiter.join(f'"{value}"' for value in line.split(delimiter))
    elif first_quoted:
        value, mark, rest = line.partition(delimiter)
        line = f'"{value}"{mark}{rest}'
    return line + delimiter if closed else line


def _every_cell_quoted(line: str, delimiter: str) -> bool:
    """Whether every cell of a CSV's row ``line`` is in double quotes (R's ``write.csv`` quotes its names so)."""
    cells = [c.strip() for c in line.split(delimiter)]
    return all(len(c) >= 2 and c[0] == c[-1] == '"' for c in cells)


def physical_signal(signal: Signal, start: int = 0) -> Signal:
    """``signal`` in physical units, ``(digital - baseline) / gain`` (``Signal.physical``), for CSV and ``.npy``
    output (wfdb's ``rdsamp -p``): where every channel's values are decimals (a gain of 200 units per mV: steps
    of 0.005), held as such (``decimals.on_decimal_grid``: the CSV prints each at its places, 0.005 not
    0.0050000000000000001); a CSV source's time column kept, else one named "time [s]" added, its first row at
    ``start`` samples; the units in a second header row, as rdsamp prints them. A float signal (a float source's
    decoded values) is in its units already: unchanged."""
    if not signal.is_digital:
        return signal
    source = signal.source if isinstance(signal.source, dict) else {}
    timing = physical_timing(signal, start)
    as_csv = partial(physical_table_of, signal, timing)
    missing = missing_of(source)
    if missing is not None and (held := decimal_values(signal)) is not None:  # decimals with gaps: as held
        return with_decimals(as_csv(signal.samples), held[1], signal.samples, gap=missing, values=held[0])
    physical = signal.physical()  # a WFDB record's invalid samples NaN
    check_finite_physical(signal, np.isinf(physical).any(axis=0))
    if np.isnan(physical).any():
        gapped = gapped_units(physical)
        if gapped is not None:  # among decimals (a gap in a multi-segment record): "-", as rdsamp -p prints them
            units, places, value = gapped
            return with_decimals(as_csv(units), places, units, gap=(value, "-"))
        # among values that are no decimals (a gain of 86 units per mV): the integers kept, written in physical units
        table = _physical_table(signal, np.isnan(physical), timing)
        if table is not None:
            return table
        physical = signal.physical(gaps=False)  # (no integer is left to stand for a gap: their format's value scaled)
    values = as_csv(physical)
    return on_decimal_grid(values) or values


def check_finite_physical(signal: Signal, infinite: np.ndarray) -> None:
    """A :class:`SanFormatError` naming the first channel of ``signal`` whose physical values overflow a float
    (``infinite``, per channel: a gain of 1e-310), which no CSV or ``.npy`` of physical units can hold."""
    if infinite.any():
        c = int(np.argmax(infinite))
        gain = signal.adc_gain[c] if signal.adc_gain is not None else 1.0
        raise SanFormatError(f"channel {c} ({signal.channel_names[c]}): its values in physical units overflow a "
                             f"float (gain {gain!r}); decode it without --physical to write its samples")


def physical_timing(signal: Signal, start: int) -> dict[str, Any]:
    """The time column of :func:`physical_signal`'s CSV layout: a CSV source's own, else one named "time [s]" whose
    first row is at ``start`` samples."""
    source = signal.source if isinstance(signal.source, dict) else {}
    time = time_column(source) if source.get("kind") == "csv" else None
    if time is None:
        return {"time_column": "time [s]", "time_start": start / signal.fs}
    return {"time_column": time[0], "time_start": time[1], "time_decimals": source.get("time_decimals"),
            "time_clock": source.get("time_clock"), "time_days": source.get("time_days"),
            "time_iso": source.get("time_iso"), "time_scale": source.get("time_scale")}


def physical_table_of(signal: Signal, timing: dict[str, Any], samples: np.ndarray) -> Signal:
    """``signal``'s names and units over ``samples`` (its values in physical units), in :func:`physical_signal`'s
    CSV layout (``timing``: :func:`physical_timing`'s time column, and a units row)."""
    return Signal(samples, signal.fs, list(signal.channel_names), list(signal.units), record_name=signal.record_name,
                  source={"kind": "csv", **timing, "units_row": True})


@dataclass(eq=False)
class PhysicalTable(Signal):
    """A digital signal that CSV and ``.npy`` output write in physical units (:func:`held_values`): floats that are
    no decimals (a gain of 86 units per mV) among gaps, "-" in a CSV as rdsamp -p prints them and NaN in a ``.npy``,
    which a signal of floats cannot hold (it holds no NaN). Made by :func:`physical_signal` alone, never read from a
    file, so no header can ask for it."""


def held_values(signal: Signal) -> np.ndarray | None:
    """The values ``.npy`` output writes for a digital signal that is not its integers: a decimal source's
    (``decimals.decimal_values``), or a :class:`PhysicalTable`'s physical values, its gaps NaN; None for any other
    signal. (The CSV writer prints them at each column's places, which it finds a block of rows at a time:
    ``io.csv_writer``.)"""
    if isinstance(signal, PhysicalTable):
        return signal.physical()
    held = decimal_values(signal)
    return None if held is None else held[0]


def _physical_table(signal: Signal, gaps: np.ndarray, timing: dict[str, Any]) -> PhysicalTable | None:
    """``signal`` (digital) as a :class:`PhysicalTable` in a CSV's layout (``timing``: its time column), each of
    ``gaps`` held as the first of ``decimals.MISSING_VALUES`` beyond every other sample (its "missing" entry, "-"),
    so that ``Signal.physical`` gives NaN there whatever its format; None where no such value is left."""
    value = gap_value(signal.samples[~gaps])
    if value is None:
        return None
    samples = np.array(signal.samples, dtype=np.int64)
    samples[gaps] = value
    return physical_table_over(signal, samples, value, timing)


def physical_table_over(signal: Signal, samples: np.ndarray, value: int, timing: dict[str, Any]) -> PhysicalTable:
    """A :class:`PhysicalTable` of ``signal``'s gains, names and units over ``samples`` (its integers, each gap
    ``value``, "-" in a CSV), in :func:`physical_signal`'s CSV layout (``timing``: its time column)."""
    return PhysicalTable(samples, signal.fs, list(signal.channel_names), list(signal.units),
                         adc_gain=list(signal.adc_gain or [1.0] * signal.n_channels),
                         baseline=list(signal.baseline or [0] * signal.n_channels), record_name=signal.record_name,
                         source={"kind": "csv", **timing, "units_row": True, "missing": {"value": value, "text": "-"}})


def write_npy(signal: Signal, path: Path, *, fsync: bool = False, values: np.ndarray | None = None) -> Path:
    """The samples as :func:`npy_bytes` has them, written into the file as numpy writes an array to one (a long
    record's bytes never held in memory beside its array: a day's recording is gigabytes). ``values``: that array
    made already (``decode --physical``'s, mapped from a file: ``io.physical_map.source_values_on_disk``)."""
    array = npy_array(signal, values)
    return write_file_atomic(path, lambda fh: np.lib.format.write_array(fh, array, allow_pickle=False), fsync=fsync)


def _index_start(lines: Sequence[str], delimiter: str, names: Sequence[str], data: np.ndarray) -> int | None:
    """The first row number of a CSV's index column (``pandas.DataFrame.to_csv``'s default: a first column with no
    name, holding each row's number, 0, 1, 2, ... or from any whole number on), where the first column of ``data``
    (its rows read from ``lines``) is one and another column follows: every value one more than the one before, and
    :func:`_sampled_rows`' cells printed as plain whole numbers (what :func:`write_csv` prints); else None."""
    if not names or names[0].strip() or data.ndim != 2 or data.shape[1] < 2 or not len(data):
        return None
    first = data[0, 0]
    if not np.isfinite(first) or first != np.round(first) or abs(first) >= 2**52:
        return None
    if not np.array_equal(data[:, 0], first + np.arange(len(data))):
        return None
    start = int(first)
    rows = _sampled_rows(len(lines))
    return start if _first_cells(lines, delimiter, rows) == [str(start + i) for i in rows] else None


def index_column(source: object) -> tuple[str, int] | None:
    """The index column a CSV source began with (:func:`read_csv`), as its name and first row number, where the source
    entry holds one :func:`write_csv` can write: a name of at most 200 characters with no comma, quote or line break,
    and a whole number below 2^52 in magnitude (a ``.san`` header is not trusted: anything else is None)."""
    entry = source.get("index_column") if isinstance(source, dict) and source.get("kind") == "csv" else None
    if not isinstance(entry, dict):
        return None
    name, start = entry.get("name"), entry.get("start")
    if not isinstance(name, str) or len(name) > 200 or any(ch in name for ch in ',"\'\r\n'):
        return None
    if type(start) is not int or abs(start) >= 2**52:
        return None
    return name, start


def time_column(source: dict | None) -> tuple[str, float] | None:
    """The time column a CSV source began with (:func:`read_csv`), as its name and first time, where the source
    entry holds one that :func:`write_csv` can write: a name that keeps the CSV's shape (no comma, quote or
    line break; 200 characters at most; none only for date-times and pandas' Timedeltas, which read back as times by
    their look) and a
    finite start. A ``.san`` header is not trusted: anything else
    is None (no time column)."""
    if not isinstance(source, dict) or source.get("kind") != "csv":
        return None
    name, start = source.get("time_column"), source.get("time_start")
    if not isinstance(name, str) or len(name) > 200 or any(ch in name for ch in ',"\'\r\n') or \
            (not name and iso_layout(source) is None and source.get("time_days") is not True):  # (unnamed:
        # date-times and pandas' Timedeltas, read back by their look)
        return None
    try:
        value = float(start) if is_real(start) else math.nan
    except OverflowError:  # (an integer past a double's range, in a header)
        value = math.nan
    if not math.isfinite(value) or abs(value) > 2.0**53:  # (microseconds since 1970: 1.7e15)
        return None
    return name, value


def _time_places(source: object, default: int | None = None) -> int | None:
    """The decimals a CSV source's times were printed with (``read_csv``'s ``time_decimals``, 0 to
    ``decimals.MAX_DECIMALS``: a ``.san`` header is not trusted), or ``default`` (also for a signal of no CSV source:
    a first channel named as times are, written after a time column of its own, found none and failed)."""
    if not isinstance(source, dict):
        return default
    places = source.get("time_decimals")
    return places if type(places) is int and 0 <= places <= MAX_DECIMALS else default


def _time_format(source: object) -> str:
    """How a CSV source's time column is printed: with an exponent as it was (``time_exponent``), to the significant
    digits it had (``time_digits``), else with the decimals it had (:func:`_time_places`), else to 12 significant
    digits."""
    exponent = exponent_count(source.get("time_exponent")) if isinstance(source, dict) else None
    if exponent is not None:
        return f"%.{exponent}e"
    digits = source.get("time_digits") if isinstance(source, dict) else None
    if type(digits) is int and 1 <= digits <= 17:  # (a .san header is not trusted)
        return f"%.{digits}g"
    places = _time_places(source)
    return "%.12g" if places is None else f"%.{places}f"


TIME_SAMPLE = 1024  # _time_digits first tries a layout on about this many of the rows, then on every row


def _times_in_exponents(lines: Sequence[str], delimiter: str, digits: int, start: float, fs: float,
                        scale: int) -> bool:
    """Whether the times :func:`write_csv` rebuilds (``start + n / fs``), printed ``%.{digits}e``, give back the time
    cells of :func:`_sampled_rows` of the CSV's rows ``lines`` (whose every cell ``csv_places.exponent_digits``
    found of that shape)."""
    rows = _sampled_rows(len(lines))
    times = column_times(start, np.array(rows), fs, scale)
    return _first_cells(lines, delimiter, rows) == exponent_cells(times, digits)


def _first_cells(lines: Sequence[str], delimiter: str, rows: Sequence[int]) -> list[str]:
    """The first cell of each of ``rows`` of a CSV's data rows ``lines``, as printed (spaces around it taken off)."""
    return [lines[i].split(delimiter, 1)[0].strip() for i in rows]


def _time_digits(lines: Sequence[str], delimiter: str, decimal: str, start: float, fs: float,
                 places: int | None, trimmed: str | None = None, scale: int = 1) -> int | None:
    """The significant digits a CSV's time column was printed to (``%.Ng``: MATLAB's csvwrite and dlmwrite print
    5, and BIDMC's exports hold 100.01 for 100.008 s), where its decimals (``places``; without their trailing zeros
    where the CSV is ``trimmed``) do not give its cells back from the times :func:`write_csv` rebuilds
    (``start + n / fs``) and ``N`` gives every one of them back; None elsewhere, so that a file printed at fixed
    decimals, or at neither, is written as before."""
    n = len(lines)

    def cell(line: str) -> str:  # a row's time as printed, with a decimal point
        text = line.split(delimiter, 1)[0].strip()
        return text.replace(decimal, ".") if decimal != "." else text

    rows = _sampled_rows(n)
    texts = [cell(lines[i]) for i in rows]
    times = column_times(start, np.asarray(rows), fs, scale).tolist()  # (as write_csv computes them)
    if places is not None:
        printed = [f"{x:.{places}f}" for x in times]
        if trimmed:
            printed = [_trim(p, trimmed == "shortest") for p in printed]
        if printed == texts:
            return None
    for digits in range(1, 18):
        if all(t == f"{x:.{digits}g}" for t, x in zip(texts, times)):  # then every row
            form = f"%.{digits}g"
            for at in range(0, n, CHUNK_ROWS):  # (a chunk of rows at a time: three lists of the whole column were
                # several times a long CSV's size)
                every = column_times(start, np.arange(at, min(at + CHUNK_ROWS, n)), fs, scale).tolist()
                if [cell(line) for line in lines[at : at + CHUNK_ROWS]] != [form % x for x in every]:
                    return None
            return digits
    return None


def _spaced_names(line: str, delimiter: str) -> bool:
    """Whether a header row put one space after each delimiter between its names ("Time [s], RESP, PLETH"), and no
    quotes, so that :func:`write_csv` can write it so again."""
    cells = line.split(delimiter)
    return len(cells) > 1 and '"' not in line and not cells[0].startswith(" ") and \
        all(c.startswith(" ") and not c.startswith("  ") and c.strip() for c in cells[1:])


def clock_times(times: np.ndarray, source: object, ns: np.ndarray | None = None) -> list[str] | None:
    """``times`` (seconds) as the elapsed clock times a CSV source printed (``read_csv``'s ``time_clock``: PhysioNet's
    exports' "0:01.250", hours from the first hour on, "1:00:00.000"), at the decimals it printed them with (``ns``:
    the same times in whole nanoseconds, where known so: ``time_steps.stepped_ns``); None for a source that printed
    seconds, or times a clock cannot show (negative, or beyond 10^9 hours)."""
    if not isinstance(source, dict) or source.get("time_clock") is not True:
        return None
    places = _time_places(source, 3) or 0  # (never None with a default)
    scale = 10**places
    if not len(times) or not (np.all(times >= 0) and float(times[-1]) < 3.6e12):
        return None
    if ns is not None and places <= 9 and bool(np.all(ns >= 0)):  # whole units of the last place, rounded half up
        unit = 10 ** (9 - places)
        units = (ns + unit // 2) // unit
    else:
        units = np.rint(times * scale).astype(np.int64)  # integer parts: no 59.9995 s printed as 60.000
    whole, part = np.divmod(units, scale)
    hours, rest = np.divmod(whole, 3600)
    minutes, seconds = np.divmod(rest, 60)
    fractions = [f".{f:0{places}d}" for f in part.tolist()] if places else [""] * len(units)
    if source.get("time_days") is True:  # pandas' Timedelta: days, then hours of the day, two digits each field
        return [f"{h // 24} days {h % 24:02d}:{m:02d}:{s:02d}{f}"
                for h, m, s, f in zip(hours.tolist(), minutes.tolist(), seconds.tolist(), fractions)]
    return [f"{h}:{m:02d}:{s:02d}{f}" if h else f"{m}:{s:02d}{f}"
            for h, m, s, f in zip(hours.tolist(), minutes.tolist(), seconds.tolist(), fractions)]


def _clock_unit(source: object) -> str:
    """The units row's cell for clock times, as PhysioNet prints it ("hh:mm:ss.mmm")."""
    places = _time_places(source, 3) or 0
    return "hh:mm:ss" + ("." + "m" * places if places else "")


def _value_decimals(source: object, channels: int) -> list[int | None]:
    """Per channel, the decimals a CSV source printed its values with (``read_csv``'s ``value_decimals``; a ``.san``
    header is not trusted: each a whole 0 to ``decimals.MAX_DECIMALS``, else None)."""
    printed = source.get("value_decimals") if isinstance(source, dict) else None
    if not isinstance(printed, list) or len(printed) != channels:
        return [None] * channels
    return [d if type(d) is int and 0 <= d <= MAX_DECIMALS else None for d in printed]


def grid_places(step: float) -> int | None:
    """The decimals a lossy float file's values print at, for a grid of ``step`` (the file's quantum): one more than
    resolves the step, so each printed value is within a twentieth of a step of the decoded one (a lossy decode's
    error is tens of steps); None for a step that is not a positive finite number, or so fine that 17 significant
    digits say less."""
    if not (is_real(step) and math.isfinite(step) and step > 0):  # (from an untrusted header)
        return None
    places = max(0, math.ceil(-math.log10(step)) + 1)
    return places if places <= 17 else None


def write_csv(signal: Signal, path: Path, *, quantum: Sequence[float] | None = None, fsync: bool = False,
              tabs: bool = False, spaces: bool = False) -> Path:
    """A header row of channel names (:func:`_header_row`; none for a CSV source without one, ``headerless``), then
    one row per sample: integers, decimals (a decimal
    source's values, or float columns that are decimals: ``io.decimals``) at each column's places, other floats
    with 17 significant digits (they read back exactly; float32 samples with 9, which read back as the same
    float32s, format 1.18's decode), or, with ``quantum`` (a lossy float file's grid step per
    channel), at :func:`grid_places`. A CSV source's time column comes first again, rebuilt from its first time
    and the rate (``start + n / fs``) and printed as it was (:func:`_time_format`), in seconds, or as the elapsed
    clock times it held (:func:`clock_times`); its delimiter and decimal mark are kept (:func:`_dialect_of`), and
    its units row (``units_row``), its numbers' trimmed decimals (``trimmed``, ``shortest``) or places wider than
    they need (``printed_places``, ``csv_places``) or with an exponent (``exponent_digits``, ``time_exponent``:
    ``numpy.savetxt``'s default ``%.18e``), byte-order mark, CRLF line ends and unended last line; with ``tabs``
    (a ``.tsv``), tabs between values whatever the source's delimiter; with ``spaces`` (a ``.txt``), single spaces
    (``numpy.loadtxt``'s default reads them) but for a ``.txt`` source's own. The text is made and written a block
    of rows at a time (``io.csv_writer``): a day's record is never held whole as text."""
    from sancodec.io.csv_writer import write_table  # (it builds on this module's helpers)

    return write_file_atomic(path, lambda fh: write_table(fh, signal, quantum, tabs, spaces), fsync=fsync)
