"""pandas objects in memory as a :class:`Signal`: a ``DataFrame`` (a column a channel, named by its label) or a
``Series`` (one channel), as data scientists hold a recording. The rate comes from ``fs``, or from the index where it
says one: a ``DatetimeIndex`` or ``TimedeltaIndex`` (``pd.read_csv(..., index_col=0, parse_dates=True)``, a resample's
output), or a numeric index named ``time…`` (a CSV's time column as ``index_col``), read as a CSV's time column is
(``arrays.rate_of``); a ``DatetimeIndex``'s first timestamp is when the recording began (``base_date``,
``base_time``). pandas is imported only to make a DataFrame (:func:`to_pandas`): an object is recognised by its type's
module."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from sancodec.errors import SanConfigError
from sancodec.io.arrays import array_signal, rate_of
from sancodec.io.decimals import decimal_places
from sancodec.io.time_steps import meant_rate
from sancodec.signal import Signal

__all__ = ["from_pandas", "is_pandas", "to_pandas"]

RATE_TOLERANCE = 1e-6  # an fs given and the index's rate agree within this share of either
UNEVEN_SHARE = 1e-3  # an index whose steps differ from their median by more than this share (and two units) is uneven


def is_pandas(obj: object) -> bool:
    """Whether ``obj`` is a pandas ``DataFrame`` or ``Series``, without importing pandas."""
    kind = type(obj)
    return kind.__module__.split(".")[0] == "pandas" and kind.__name__ in ("DataFrame", "Series")


def from_pandas(obj: Any, fs: float | None = None,
                prepare: Callable[[np.ndarray], np.ndarray] | None = None) -> Signal:
    """``obj`` (a ``DataFrame`` or ``Series`` of numbers) as a Signal: its columns the channels, named by their labels;
    integer columns as integers and floats as floats (in their common type), missing values (NaN, or
    ``pd.NA`` in a nullable column) as gaps, which a lossless file keeps among decimals. ``fs``: the rate, else the
    index's (module docstring); both where they agree. ``prepare``: what the values go through before they are
    read (``sancodec.encode``'s rounding of floats with NaN gaps for a lossy mode)."""
    if not is_pandas(obj):
        raise SanConfigError(f"from_pandas takes a pandas DataFrame or Series, not a {type(obj).__name__}")
    series = type(obj).__name__ == "Series"
    frame = obj.to_frame() if series else obj
    # a Series's own name, or none; a frame's labels, but the numbers pandas gives unlabelled columns (as an array's)
    labels = [obj.name] if series else [None] * len(frame.columns) if type(frame.columns).__name__ == "RangeIndex" \
        else list(frame.columns)
    names = [_label(c, i) for i, c in enumerate(labels)]
    if not names:
        raise SanConfigError("a DataFrame without columns holds no channel")
    values = np.column_stack([_column(frame.iloc[:, i], names[i]) for i in range(len(names))])  # (numpy's promotion)
    if prepare is not None:  # (sancodec.encode's: floats with NaN gaps rounded for a lossy mode)
        values = prepare(values)
    rate = _index_rate(frame.index, len(frame), asked=fs is None)
    if fs is not None and rate is not None and not math.isclose(fs, rate, rel_tol=RATE_TOLERANCE):
        raise SanConfigError(f"fs={fs} given for a DataFrame whose index says {rate:g} Hz: leave fs out, or give the "
                             "index's rate")
    if fs is None and rate is None:
        raise SanConfigError("a DataFrame or Series needs its sampling rate, e.g. encode(df, fs=250, ...), where its "
                             "index does not say it (a DatetimeIndex, a TimedeltaIndex, a numeric index named time...)")
    name = str(obj.name) if series and obj.name is not None else "dataframe"
    signal = array_signal(values, fs if fs is not None else rate, name, names)
    start = frame.index[0] if type(frame.index).__name__ == "DatetimeIndex" and len(frame) else None
    if start is None or str(start) == "NaT":
        return signal
    # the first timestamp: when the recording began (its wall clock, as a WFDB header or EDF holds one; a time zone's
    # name and offset kept beside it, for to_pandas)
    zone = _zone_of(start)
    return replace(signal, base_date=start.date().isoformat(), base_time=start.time().isoformat(),
                   source=signal.source if zone is None else {**(signal.source or {}), "tz": zone})


def _zone_of(start: Any) -> dict[str, Any] | None:
    """A time-zone-aware first timestamp's zone as a source keeps it: its name and its offset from UTC at the start
    (seconds; the wall clock less it is the start in UTC); None for a naive one."""
    offset = start.utcoffset() if getattr(start, "tzinfo", None) is not None else None
    return None if offset is None else {"name": str(start.tz), "utc_offset": offset.total_seconds()}


def _zone(source: object) -> tuple[Any, float] | None:
    """The time zone a signal's start is in, and its offset from UTC there (seconds), where its source says one (a
    ``.san`` header's: not trusted, anything out of shape is none): a DataFrame's (``tz``: its name where pandas
    knows it, else a fixed offset) or a CSV's date-times' suffix (``Z``, ``+01:00``: a fixed offset)."""
    if not isinstance(source, dict):
        return None
    tz, iso = source.get("tz"), source.get("time_iso")
    if isinstance(tz, dict) and isinstance(tz.get("name"), str) and isinstance(tz.get("utc_offset"), (int, float)) \
            and not isinstance(tz.get("utc_offset"), bool) and abs(tz["utc_offset"]) < 86400:
        offset = float(tz["utc_offset"])
        return (tz["name"] if len(tz["name"]) <= 64 else None) or _fixed(offset), offset
    zone = iso.get("zone") if isinstance(iso, dict) and source.get("kind") == "csv" else None
    found = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", zone) if isinstance(zone, str) else None
    if zone == "Z":
        return datetime.timezone.utc, 0.0
    if found is None or int(found[2]) > 23 or int(found[3]) > 59:
        return None
    offset = (1 if found[1] == "+" else -1) * (3600.0 * int(found[2]) + 60.0 * int(found[3]))
    return _fixed(offset), offset


def _fixed(offset: float) -> Any:
    """A fixed offset from UTC (seconds) as a time zone."""
    return datetime.timezone(datetime.timedelta(seconds=offset))


def to_pandas(signal: Signal, physical: bool = True) -> Any:
    """``signal`` as a ``DataFrame``: a column a channel, under its name; its values in physical units (``physical``:
    gaps NaN, as ``Signal.physical`` gives them) or as held (integers, for a digital record); indexed by each sample's
    time (``time``): from the recording's start where it is known (a ``DatetimeIndex``, each time rounded to the
    nanosecond on its own: no period cut short and added up), else in seconds from 0 (floats, which ``to_csv`` writes
    as a time column sancodec and spreadsheets read; a ``TimedeltaIndex``'s "0 days 00:00:00.004000" is neither). A
    multi-frequency signal is refused (a DataFrame's rows share one rate)."""
    import pandas as pd

    if signal.samples_per_frame is not None:
        raise SanConfigError("to_pandas: a multi-frequency signal's channels have no one rate for a DataFrame's rows; "
                             "slice out the channels of one rate, or write the record with sancodec.write_signal")
    seconds = np.arange(signal.n_samples, dtype=np.float64) / signal.fs
    start = signal.start
    first = None if start is None else pd.Timestamp(start)
    zone = None if first is None else _zone(signal.source)
    if first is not None and zone is not None:  # the wall clock less its offset, in UTC, then in its zone again
        utc = (first - pd.Timedelta(seconds=zone[1])).tz_localize("UTC")
        try:
            first = utc.tz_convert(zone[0])
        except (TypeError, ValueError, KeyError, LookupError):  # (a name pandas does not know: its offset alone)
            first = utc.tz_convert(_fixed(zone[1]))
    index = pd.Index(seconds if first is None else first + pd.to_timedelta(seconds, unit="s"), name="time")
    values = signal.physical() if physical else signal.samples
    return pd.DataFrame(values, index=index, columns=list(signal.channel_names))


def _label(label: object, i: int) -> str:
    """A column's label as a channel name (a MultiIndex's levels joined by spaces); ``ch{i}`` for an unnamed one (a
    Series without a name, a frame's numbered columns)."""
    if isinstance(label, tuple):
        label = " ".join(str(part) for part in label if str(part))
    text = "" if label is None else str(label).strip()
    return text or f"ch{i}"


def _column(column: Any, name: str) -> np.ndarray:
    """One column's values: a numpy numeric column as it is, a nullable one (``Int64``, ``Float64``) as its numpy
    type, or as float64 with NaN for its missing values; anything else refused, naming the column."""
    dtype = column.dtype
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # a nullable dtype's numpy type
    kind = np.dtype(numpy_dtype).kind if isinstance(numpy_dtype, np.dtype) else "O"
    if kind not in "iuf":
        raise SanConfigError(f"column {name!r} holds {dtype}, not numbers: a DataFrame's columns are its channels")
    if column.isna().any():
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return column.to_numpy(dtype=numpy_dtype)


def _index_rate(index: Any, n: int, asked: bool = True) -> float | None:
    """The sampling rate an index says (module docstring), None where it says none: read over its span
    (``arrays.rate_of``), then as the times' resolution says it was meant (``time_steps.meant_rate``). Where the rate is
    ``asked`` of it (no fs given), times that do not increase (rows out of order, a time twice) or steps that are not
    even (a stretch of rows missing: coded as evenly spaced samples, every later one would move) are refused; with an
    fs given, such an index says no rate (the rows are taken as the fs says)."""
    times = _index_times(index, n)
    if times is None:
        return None
    ticks, unit = times
    steps = np.diff(ticks)
    middle = float(np.median(steps))
    first_bad = np.flatnonzero(steps <= 0)
    if len(first_bad):
        if asked:
            raise SanConfigError(f"the DataFrame's index does not increase at row {int(first_bad[0]) + 1} (rows out "
                                 "of time order, or a time twice): sort_index() first, or give fs= to take the rows "
                                 "as they stand")
        return None
    uneven = np.flatnonzero(np.abs(steps - middle) > max(2.0, UNEVEN_SHARE * middle))
    if len(uneven):
        if asked:
            k = int(uneven[0])
            raise SanConfigError(f"the DataFrame's index is not evenly spaced (a step of {steps[k] * unit:g} s after "
                                 f"row {k}, against {middle * unit:g} s): rows missing there would be coded as "
                                 "evenly spaced samples, every later one moved; resample to one rate (df.resample, "
                                 "or reindex with the missing rows as NaN, which sancodec keeps as gaps), or give fs= "
                                 "to take the rows as evenly spaced")
        return None
    rate = rate_of(ticks * unit)
    return None if rate is None else meant_rate(ticks, unit, rate)


def _index_times(index: Any, n: int) -> tuple[np.ndarray, float] | None:
    """An index's times as whole units from its first (int64) and that unit in seconds: a ``DatetimeIndex``'s or a
    ``TimedeltaIndex``'s at their resolution, a numeric ``time…`` index's at its decimals; None for any other index,
    fewer than two rows, or a time missing (NaT, NaN)."""
    kind = type(index).__name__
    if n < 2:
        return None
    if kind in ("DatetimeIndex", "TimedeltaIndex"):
        if index.hasnans:
            return None
        held = getattr(index, "unit", "ns")  # (pandas holds times in ns, us, ms or s)
        ticks = np.asarray(index - index[0]).astype(f"timedelta64[{held}]").astype(np.int64)
        return ticks, float(np.timedelta64(1, str(held)) / np.timedelta64(1, "s"))  # type: ignore[call-overload]
    if not (str(index.name or "").strip().lower().startswith("time") and np.dtype(index.dtype).kind in "iuf"):
        return None
    seconds = np.asarray(index, dtype=np.float64)
    if not np.all(np.isfinite(seconds)):
        return None
    places = decimal_places(seconds[:, None])
    unit = 10.0 ** -places[0] if places is not None else max(float(np.median(np.abs(np.diff(seconds)))), 1e-300) / 2**20
    return np.rint((seconds - seconds[0]) / unit).astype(np.int64), unit
