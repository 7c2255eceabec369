"""Decimal samples (a CSV's ``0.0617``, a float array read from such text) held exactly as integers.

A column whose every value is ``D / 10**d`` for an integer ``D`` (the double nearest that decimal, as a text
reader makes it) is coded losslessly as ``D`` with gain ``10**d``, as WFDB holds ADC units and a gain: the
decoder's ``physical = D / 10**d`` is one correctly rounded division, the very double the text was read as. So
lossless mode takes such a file (it refuses other floating-point samples), and its CSV and ``.npy`` outputs
give the values back, the CSV with each column's ``d`` decimals, a float32 ``.npy`` as float32 (the division
rounded once more, to the very float32 it was: checked when the grid is found).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sancodec.codec.schema import is_whole
from sancodec.errors import SanConfigError
from sancodec.signal import Signal

__all__ = ["FLOAT16_NAMES", "FLOAT32_NAMES", "MAX_DECIMALS", "MISSING_TEXTS", "MISSING_VALUES", "NEGATIVE_ZEROS",
           "column_places", "decimal_places", "decimal_places_of", "decimal_values", "declared_places", "gap_value",
           "gapped_units", "header_decimals", "missing_of", "negative_zero_rows", "negative_zero_runs",
           "on_decimal_grid", "put_negative_zeros", "sliced_negative_zeros", "units_at", "with_decimals",
           "with_negative_zeros"]

MAX_DECIMALS = 9  # the most decimals looked for (a column of more is not taken for decimals)
MAX_UNITS = 1 << 49  # |D| below this: D * 10**-d's double times 10**d rounds back to D exactly (error < 2^-3) ...
MAX_UNITS_32 = 1 << 24  # ... and for float32 values, within their own significand: any float32 of 0.01 to 5e5 is
# the float32 nearest some 9-place decimal, whose integers would take more bits than the float itself (a lossless
# file larger than the raw array); this keeps the grids that are coarser than the values' precision, real decimals


def decimal_places(x: np.ndarray) -> list[int] | None:
    """Per column of ``x`` (float64 or float32, samples x channels), the fewest decimals ``d`` (0 to
    :data:`MAX_DECIMALS`) with every value exactly ``rint(value * 10**d) / 10**d`` (in float64, then rounded to
    ``x``'s dtype: what the decoder's writers give back) and those integers within :data:`MAX_UNITS`
    (:data:`MAX_UNITS_32` for float32); None where a column has no such ``d`` (binary fractions, noise, values too
    large for their decimals)."""
    places = column_places(x)
    if places is None or any(d is None for d in places):
        return None
    return [int(d) for d in places if d is not None]


def _units_found(column: np.ndarray, d: int) -> np.ndarray:
    """:func:`_units` at the places :func:`column_places` found for ``column`` (so never None)."""
    units = _units(column, d)
    if units is None:
        raise RuntimeError(f"{d} decimals were found for a column that has none")
    return units


def column_places(x: np.ndarray) -> list[int | None] | None:
    """:func:`decimal_places` column by column: each column's places, or None for a column that has none; None
    for an ``x`` that is not a 2-D float32 or float64 array of finite values."""
    if x.dtype not in (np.float64, np.float32) or x.ndim != 2 or not x.size or not np.all(np.isfinite(x)):
        return None
    return [next((d for d in range(MAX_DECIMALS + 1) if _exact_at(column, d)), None) for column in x.T]


PLACES_BLOCK = 1 << 16  # values :func:`column_places` weighs at a time


def _exact_at(column: np.ndarray, d: int) -> bool:
    """Whether :func:`_units` holds ``column`` at ``d`` decimals, weighed :data:`PLACES_BLOCK` values at a time (each
    value's own test: the same answer, where the whole column's temporaries were several times its size)."""
    return all(_units(column[at : at + PLACES_BLOCK], d) is not None for at in range(0, len(column), PLACES_BLOCK))


def _units(column: np.ndarray, d: int) -> np.ndarray | None:
    """``column``'s integers at ``d`` decimals, where every value is exactly one of them over ``10**d`` (rounded to
    ``column``'s dtype)."""
    scale = float(10**d)
    with np.errstate(over="ignore", invalid="ignore"):
        units = np.rint(column.astype(np.float64) * scale)
    limit = MAX_UNITS_32 if column.dtype == np.float32 else MAX_UNITS
    if not np.all(np.abs(units) < limit) or not np.array_equal((units / scale).astype(column.dtype), column):
        return None
    return units.astype(np.int64)


def on_decimal_grid(signal: Signal) -> Signal | None:
    """``signal`` (floating-point samples) as integers on each channel's decimal grid (:func:`decimal_places`):
    gain ``10**d``, baseline 0, the decimals kept in its source entry for the writers (:func:`decimal_values`);
    None where a channel is not on one, or the samples are integers already, or they are a BrainVision recording's
    32-bit floats, which its kept header writes back as floats (lossless on their step instead, format 1.18:
    ``codec.floatgrid.grid_step32``)."""
    if signal.is_digital or isinstance(signal.source, dict) and signal.source.get("kind") == "brainvision":
        return None
    x = np.asarray(signal.samples)
    columns = [column.astype(np.float32) if single else column  # a float32 field's values, weighed as float32
               for column, single in zip(x.T, _float32_fields(signal.source, x.shape[1], x))]
    found = [column_places(column[:, None]) for column in columns]
    if any(f is None or f[0] is None for f in found):
        return None
    places = [int(f[0]) for f in found if f is not None and f[0] is not None]
    units = np.empty(x.shape, np.int64)  # (filled a column at a time: a list of them and their stack held it twice)
    for c, (column, d) in enumerate(zip(columns, places)):
        units[:, c] = _units_found(column, d)
    return with_decimals(signal, places, units, values=x)


FLOAT32_NAMES = ("<f4", ">f4", "=f4", "|f4")  # numpy's names of float32 in a source entry's dtype
FLOAT16_NAMES = ("<f2", ">f2", "=f2", "|f2")  # and of float16


def _float32_fields(source: object, channels: int, x: np.ndarray) -> list[bool]:
    """Per column of ``x`` (float64), whether it is a structured ``.npy`` source's float32 field (``source.fields``,
    its dtype string) holding float32 values exactly: such a column's decimals are those of its float32 values,
    which a decode writes back into the field (0.12 is a decimal as float32, not as the float64 it widens to)."""
    fields = source.get("fields") if isinstance(source, dict) and source.get("kind") == "npy" else None
    if x.dtype != np.float64 or not isinstance(fields, list) or len(fields) != channels:
        return [False] * channels
    return [isinstance(f, list) and len(f) == 2 and f[1] in FLOAT32_NAMES
            and bool(np.array_equal(x[:, c].astype(np.float32).astype(np.float64), x[:, c]))
            for c, f in enumerate(fields)]


def with_decimals(signal: Signal, places: list[int], units: np.ndarray, gap: tuple[int, str] | None = None,
                  values: np.ndarray | None = None) -> Signal:
    """``signal``'s metadata over ``units``, integers at ``places`` decimals per channel: gain ``10**d``, baseline 0,
    the places in its source entry (what :func:`header_decimals` reads back), and ``gap`` (the integer that stands
    for a missing value and the text a CSV writes for it, :func:`missing_of`) where ``units`` hold gaps; no WFDB
    storage format, whose ADC range and resolution were for other integers, nor a multi-segment record's map, whose
    segments' gains were (it is written as one record), nor an older gaps' or negative zeros' marker, which was for
    other integers too. ``values``: the floats ``units`` hold, whose negative zeros (a CSV's ``-0.000``) are kept
    (:func:`negative_zero_runs`), which no integer can hold. (An EDF source's ranges are the EDF writer's to check:
    ``edf._fields_for``.)"""
    source = {k: v for k, v in signal.source.items() if k not in ("missing", NEGATIVE_ZEROS)} \
        if isinstance(signal.source, dict) else {}
    if source.get("kind") == "wfdb-multisegment":
        source = {k: v for k, v in source.items() if k not in ("kind", "segments", "layout", "layout_header")}
    if gap is not None:
        source["missing"] = {"value": gap[0], "text": gap[1]}
    runs = None if values is None else negative_zero_runs(values)
    if runs is not None:
        source[NEGATIVE_ZEROS] = runs
    return replace(signal, samples=units, adc_gain=[float(10**d) for d in places], baseline=[0] * len(places),
                   fmt=None, adc_res=None, adc_zero=None, source={**source, "decimals": places})


NEGATIVE_ZEROS = "negative_zeros"  # a decimal source's entry: per channel null or its -0.0 values' runs


def negative_zero_runs(values: np.ndarray, first: int = 0) -> list[list[int] | None] | None:
    """Each column's runs of negative zeros in ``values`` (floats, samples x channels; counted from row ``first``), as
    ``[first row, rows, ...]``, null for a column without any; None where there are none: a ``-0.000`` cell is held as
    the integer 0, which has no sign, so a decimal source keeps where they were."""
    x = np.asarray(values)
    if x.dtype.kind != "f" or x.ndim != 2:
        return None
    negative = (x == 0) & np.signbit(x)
    if not negative.any():
        return None
    from sancodec.codec.gaps import runs_of  # (the gaps' runs; io is imported by the codec package)

    out: list[list[int] | None] = []
    for column in negative.T:
        starts, ends = runs_of(np.ascontiguousarray(column), first)
        out.append(np.column_stack([starts, ends - starts]).ravel().tolist() if len(starts) else None)
    return out


def negative_zero_rows(source: object, n_rows: int, n_channels: int) -> list[np.ndarray] | None:
    """Each channel's rows that hold a negative zero by a decimal source's entry (:func:`negative_zero_runs`); None
    where there is none or it is not such an entry (a ``.san`` header is not trusted: runs of whole rows, each of at
    least one, in order, within ``n_rows``, or the entry counts for nothing)."""
    entry = source.get(NEGATIVE_ZEROS) if isinstance(source, dict) else None
    if not isinstance(entry, list) or len(entry) != n_channels:
        return None
    out = []
    for runs in entry:
        if runs is None:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        if not isinstance(runs, list) or len(runs) % 2 or not all(type(v) is int and 0 <= v <= n_rows for v in runs):
            return None
        starts, lengths = np.asarray(runs[::2], dtype=np.int64), np.asarray(runs[1::2], dtype=np.int64)
        ends = starts + lengths
        if (lengths < 1).any() or (ends > n_rows).any() or (starts[1:] < ends[:-1]).any():
            return None
        before = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        out.append(np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()), dtype=np.int64))
    return out


def with_negative_zeros(x: np.ndarray, source: object) -> np.ndarray:
    """``x`` (a decimal source's values, float samples x channels) with its negative zeros put back where the source
    entry says and the value there is a zero (a lossy decode's other values are left as they are); in place."""
    return put_negative_zeros(x, negative_zero_rows(source, x.shape[0], x.shape[1]))


def put_negative_zeros(x: np.ndarray, rows: list[np.ndarray] | None, first: int = 0) -> np.ndarray:
    """``x`` (values of the record's rows from ``first`` on) with -0.0 at each channel's ``rows`` (of the record,
    :func:`negative_zero_rows`) that it holds and where its value is a zero; in place."""
    for c, at in enumerate(rows or ()):
        at = at[(at >= first) & (at < first + len(x))] - first
        x[at[x[at, c] == 0], c] = -0.0
    return x


def sliced_negative_zeros(source: dict, start: int, end: int, n_rows: int) -> dict:
    """``source`` (a decimal source's entry) for rows ``[start, end)`` of its ``n_rows``: its negative zeros' runs
    re-based there (dropped where none is left, or where they are not such runs)."""
    rows = negative_zero_rows(source, n_rows, len(source.get(NEGATIVE_ZEROS) or []))
    rest = {k: v for k, v in source.items() if k != NEGATIVE_ZEROS}
    if rows is None:
        return rest
    mask = np.zeros((end - start, len(rows)), dtype=bool)
    for c, at in enumerate(rows):
        kept = at[(at >= start) & (at < end)] - start
        mask[kept, c] = True
    runs = negative_zero_runs(np.where(mask, -0.0, 1.0))
    return rest if runs is None else {**rest, NEGATIVE_ZEROS: runs}


def declared_places(decimals: object, n_channels: int) -> list[int]:
    """A caller's decimals, one whole number of 0 to :data:`MAX_DECIMALS` for every channel or one per channel, as a
    list; a :class:`SanConfigError` for anything else."""
    if isinstance(decimals, np.ndarray):
        decimals = decimals.tolist()  # (a 0-d array: its one number)
    places = list(decimals) if isinstance(decimals, (list, tuple)) else [decimals] * n_channels
    if len(places) != n_channels or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                                            and 0 <= d <= MAX_DECIMALS for d in places):
        raise SanConfigError(f"decimals must be a whole number of 0 to {MAX_DECIMALS}, or one per channel "
                             f"({n_channels}), got {decimals!r}")
    return [int(d) for d in places if is_whole(d)]


def units_at(block: np.ndarray, places: list[int], gap: int | None = None) -> np.ndarray:
    """``block`` (samples x channels, integers or float32/float64 values) as int64 units at each channel's
    ``places``, a NaN as ``gap`` where one is given (a stream's missing values, ``MISSING_VALUES``); a
    :class:`SanConfigError` naming the first channel with a value that is not on its grid (a value with more
    decimals, an infinity, a NaN without ``gap``, or one too large for its decimals, or taking ``gap``'s place)."""
    if block.dtype.kind in "iub":
        block = block.astype(np.float64)  # whole numbers: on every grid (within MAX_UNITS)
    if block.dtype not in (np.float64, np.float32):
        raise SanConfigError(f"decimal samples must be integers, float32 or float64, got {block.dtype}")
    columns = []
    for c, d in enumerate(places):
        holes = np.isnan(block[:, c]) if gap is not None else np.zeros(len(block), dtype=bool)
        present = block[~holes, c]
        with np.errstate(invalid="ignore"):
            units = _units(present, d) if np.all(np.isfinite(present)) else None
        if units is not None and gap is not None and bool((units == gap).any()):
            units = None  # (a value that would read back as a gap)
        if units is not None and holes.any():
            units, kept = np.full(len(block), gap, dtype=np.int64), units
            units[~holes] = kept
        if units is None:
            raise SanConfigError(f"channel {c} holds a value that is not a decimal of {d} places (more places, not "
                                 "finite, too large for them, or the -2^31 units that mark a gap): declare each "
                                 "channel's decimals for the whole stream")
        columns.append(units)
    return np.column_stack(columns) if columns else np.zeros((len(block), 0), dtype=np.int64)


def decimal_values(signal: Signal) -> tuple[np.ndarray, list[int]] | None:
    """The values and decimals of a signal :func:`on_decimal_grid` made (or decoded from its file): its samples over
    their gains, and each channel's decimals; None where ``signal`` is not such a signal. A ``.san`` header is not
    trusted: the decimals count only where they are 0 to :data:`MAX_DECIMALS`, one per channel, and match the
    gains and zero baselines."""
    places = decimal_places_of(signal)
    if places is None:
        return None
    return signal.physical(), places  # (samples over 10^d, a CSV's gaps NaN again: Signal.physical)


def decimal_places_of(signal: Signal) -> list[int] | None:
    """:func:`decimal_values`' decimals of ``signal`` alone (its values not made: a CSV writer makes them a block of
    rows at a time); None where it is no such signal."""
    return header_decimals({"source": signal.source, "channel_names": signal.channel_names,
                            "adc_gain": signal.adc_gain, "baseline": signal.baseline}) if signal.is_digital else None


#: WFDB's invalid sample in formats 16 and 32, which a decimal source's missing values are held as (the narrowest
#: that leaves every other value), so that a WFDB record written from the file marks them as WFDB does
MISSING_VALUES = (-(1 << 15), -(1 << 31))
#: What a CSV may write for a missing value: an empty cell, PhysioNet's "-" for an invalid sample, NaN and the like
MISSING_TEXTS = ("", "-", "NaN", "nan", "NA", "N/A", "null", "NULL", "None")


def missing_of(source: object) -> tuple[int, str] | None:
    """A decimal source's missing values (``source.missing``): the integer that stands for one and the text its CSV
    wrote for it; None where it has none, or where the entry is not one of :data:`MISSING_VALUES` and
    :data:`MISSING_TEXTS` (a ``.san`` header is not trusted)."""
    entry = source.get("missing") if isinstance(source, dict) else None
    if not isinstance(entry, dict):
        return None
    value, text = entry.get("value"), entry.get("text")
    if type(value) is not int or value not in MISSING_VALUES or not isinstance(text, str) or text not in MISSING_TEXTS:
        return None
    return value, text


def gapped_units(data: np.ndarray) -> tuple[np.ndarray, list[int], int] | None:
    """Columns of decimals with gaps (NaN) as integers at each column's decimals (:func:`decimal_places` of the
    values present), every gap the first of :data:`MISSING_VALUES` beyond the others' range; None where a column's
    values are not decimals, or too wide for 32 bits."""
    gaps = np.isnan(data)
    places = []
    for column, gap in zip(data.T, gaps.T):
        present = column[~gap]
        found = column_places(present[:, None]) if len(present) else [0]
        if found is None or found[0] is None:
            return None
        places.append(int(found[0]))
    units = np.zeros(data.shape, dtype=np.int64)
    for c, d in enumerate(places):
        units[~gaps[:, c], c] = _units_found(data[~gaps[:, c], c], d)
    value = gap_value(units[~gaps])
    if value is None:
        return None
    units[gaps] = value
    return units, places, value


def gap_value(present: np.ndarray) -> int | None:
    """The first of :data:`MISSING_VALUES` beyond every one of the integers ``present`` (the samples beside the
    gaps), to stand for a gap among them; None where none is."""
    span = int(np.abs(present).max(initial=0))
    return next((v for v in MISSING_VALUES if span < -v), None)


def common_places(signal: Signal) -> Signal:
    """A decimal signal (:func:`header_decimals`) whose channels' places differ with every channel at the most of
    them (its integers times 10^(D - d), a gap at a gap value beyond them all), so that one near-lossless bound in
    units of 10^-D holds each channel to all of it; as it is where the places are the same, or where a channel's
    integers would pass 32 bits so (or no gap value is left beyond them)."""
    places = header_decimals(signal.header_dict())
    if not places or len(set(places)) == 1:
        return signal
    top = max(places)
    missing = missing_of(signal.source)
    units = np.array(signal.samples, dtype=np.int64)
    gaps = units == missing[0] if missing is not None else np.zeros(units.shape, dtype=bool)
    for c, d in enumerate(places):
        present = units[~gaps[:, c], c]
        if int(np.abs(present).max(initial=0)) * 10 ** (top - d) >= 1 << 31:
            return signal
    scaled = units * np.array([10 ** (top - d) for d in places], dtype=np.int64)
    gap = None
    if missing is not None:
        value = gap_value(scaled[~gaps])
        if value is None:
            return signal
        scaled[gaps] = value
        gap = (value, missing[1])
    return with_decimals(signal, [top] * len(places), scaled, gap=gap)


def header_decimals(head: dict) -> list[int] | None:
    """Each channel's decimals where a signal's header (``Signal.header_dict``, a ``.san``'s ``signal``) holds a
    decimal source: ``source.decimals`` whole places of 0 to :data:`MAX_DECIMALS`, one per channel, matching gains
    of ``10**d`` and zero baselines; None otherwise (anything else in an untrusted header counts for nothing)."""
    source, names = head.get("source"), head.get("channel_names")
    places = source.get("decimals") if isinstance(source, dict) else None
    gains, baselines = head.get("adc_gain"), head.get("baseline")
    if not isinstance(places, list) or not isinstance(names, list) or len(places) != len(names):
        return None
    if not all(type(d) is int and 0 <= d <= MAX_DECIMALS for d in places):
        return None
    if not isinstance(gains, list) or not isinstance(baselines, list) or len(gains) != len(places) or \
            len(baselines) != len(places):
        return None
    if any(g != float(10**d) for g, d in zip(gains, places)) or any(b != 0 for b in baselines):
        return None
    return places
