"""A CSV's first column of ISO 8601 date-times (a logger's export, pandas' ``DatetimeIndex``: ``2024-01-01
00:00:00.004``) as its time column: read as seconds from the first, and written back as date-times printed as the
source printed them. The first date-time, the separator between date and time, the fraction's places (and whether
a whole second was printed without one, as ``datetime.isoformat`` does), a zone suffix (``Z``, ``+01:00``) and
whether the fraction was rounded or cut are kept in the source entry (``time_iso``): a lossless decode of a
regular series is the original column, byte for byte."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sancodec.errors import SanFormatError

__all__ = ["ISO_SECONDS", "is_iso", "iso_layout", "iso_times", "iso_times_in_seconds", "start_of"]

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?")
_START = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}")  # numpy's date-time at nanoseconds
ISO_SECONDS = 9.0e9  # the most seconds a column may span (numpy's nanoseconds reach about 292 years)
_NS = 10**9


def is_iso(cell: str) -> bool:
    """Whether ``cell`` is an ISO 8601 date-time as a CSV prints one (date, ``T`` or a space, time to the second,
    an optional fraction and zone)."""
    return _ISO.fullmatch(cell.strip()) is not None


def iso_times_in_seconds(lines: Sequence[str], delimiter: str, path: Path
                         ) -> tuple[list[str], dict[str, Any], np.ndarray, np.ndarray]:
    """``lines`` with their first cell, a date-time, as ``0`` (a placeholder the parser takes for a number), the
    column's layout for :func:`iso_times` (whether its fractions were rounded still to be settled) and its times
    from the first row's, in seconds and in whole nanoseconds. A cell that is no date-time, another zone or separator
    than the first row's, or a date-time numpy cannot place is refused, named. The cells are checked by one regular
    expression over them all (a cell at a time only to name the first that fails), their fractions' widths by their
    lengths."""
    parts = [line.partition(delimiter) for line in lines]
    cells = [p[0].strip() for p in parts]
    if not cells:
        raise SanFormatError(f"{path}: no rows under the time column")
    first = _ISO.fullmatch(cells[0])
    if first is None:
        raise SanFormatError(f"{path}: the time column mixes date-times with {cells[0]!r}")
    separator, zone = first[2], first[5] or ""
    row = rf"\d{{4}}-\d{{2}}-\d{{2}}{re.escape(separator)}\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,9}})?{re.escape(zone)}"
    if re.fullmatch(rf"(?:{row}\n)*{row}", "\n".join(cells)) is None:
        _name_misfit(cells, first, path)
    low, high = min(cells), max(cells)  # (one layout: the text's order is the times')
    for text in (low, high):
        if not 1678 <= int(text[:4]) <= 2261:  # (numpy's nanoseconds wrap past these years without a word)
            raise SanFormatError(f"{path}: the time column holds a date-time numpy cannot place ({text!r}: years "
                                 "1678 to 2261)")
    try:
        times = np.array([c[:len(c) - len(zone)] for c in cells] if zone else cells, dtype="datetime64[ns]")
    except (ValueError, OverflowError):
        raise SanFormatError(f"{path}: the time column holds a date-time numpy cannot place (years 1678 to 2261, "
                             "months and days as calendars have them)") from None
    ns = (times - times[0]).astype(np.int64)
    if float(np.abs(ns).max()) / _NS > ISO_SECONDS:
        raise SanFormatError(f"{path}: the time column spans more than {ISO_SECONDS:.0e} s")
    shown = np.maximum(np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)) - len(zone) - 20, 0)
    places = int(shown.max())
    bare = shown == 0
    layout = {"start": str(times[0]), "separator": separator, "places": places, "zone": zone,
              "bare_whole": bool(places > 0 and bare.any() and np.all(ns[bare] % _NS == 0)
                                 and np.all(shown[~bare] == places)),
              "rounded": True}
    return ["0" + p[1] + p[2] for p in parts], layout, ns / _NS, ns


def _name_misfit(cells: Sequence[str], first: re.Match[str], path: Path) -> None:
    """Raise the :class:`SanFormatError` that names the first of ``cells`` unlike ``first`` (the first row's): no
    date-time, another zone, another separator."""
    for cell in cells:
        match = _ISO.fullmatch(cell)
        if match is None:
            raise SanFormatError(f"{path}: the time column mixes date-times with {cell!r}")
        if match[5] != first[5]:
            raise SanFormatError(f"{path}: the time column's date-times change their zone at {cell!r} (after "
                                 f"{first[0]!r}; a daylight-saving switch?): write them in one zone, or UTC")
        if match[2] != first[2]:
            raise SanFormatError(f"{path}: the time column's date-times change their separator at {cell!r} "
                                 f"(after {first[0]!r})")
    raise SanFormatError(f"{path}: the time column's date-times are not laid out alike")  # (not reached)


def start_of(layout: dict[str, Any]) -> tuple[str, str]:
    """The first date-time's date and time of day as ISO strings (``Signal.base_date``, ``base_time``)."""
    day, _, clock = str(layout["start"]).partition("T")
    return day, clock.rstrip("0").rstrip(".") if "." in clock else clock


def iso_layout(source: object) -> dict[str, Any] | None:
    """A source entry's ``time_iso``, where every field is as :func:`iso_times_in_seconds` makes it (a ``.san``
    header is not trusted); else None."""
    layout = source.get("time_iso") if isinstance(source, dict) else None
    if not isinstance(layout, dict):
        return None
    start, separator, places = layout.get("start"), layout.get("separator"), layout.get("places")
    zone, bare, rounded = layout.get("zone"), layout.get("bare_whole"), layout.get("rounded")
    if not (isinstance(start, str) and _START.fullmatch(start) and separator in ("T", " ") and type(places) is int
            and 0 <= places <= 9 and isinstance(zone, str) and (zone == "" or re.fullmatch(r"Z|[+-]\d{2}:?\d{2}", zone))
            and type(bare) is bool and type(rounded) is bool):
        return None
    if not 1678 <= int(start[:4]) <= 2261:
        return None
    try:
        np.datetime64(start, "ns")
    except ValueError:  # (a 30th of February)
        return None
    return layout


def iso_times(times: np.ndarray, source: object, rounded: bool | None = None,
              ns: np.ndarray | None = None) -> list[str] | None:
    """``times`` (seconds from the first date-time) as the date-times a CSV source printed (:func:`iso_layout`;
    ``rounded``: its fractions rounded, else cut, by default as the layout says); ``ns``: the same times in whole
    nanoseconds where they are known so (``time_steps.stepped_ns``), used in place of ``times`` rounded; None for a
    source without them, or times past :data:`ISO_SECONDS` or numpy's calendar."""
    layout = iso_layout(source)
    if layout is None or not len(times) or not np.all(np.isfinite(times)) or \
            float(np.abs(times).max()) > ISO_SECONDS:
        return None
    places = layout["places"]
    unit = 10 ** (9 - places)
    start = np.datetime64(layout["start"], "ns").astype(np.int64)
    if ns is None:
        ns = np.rint(np.asarray(times, dtype=np.float64) * _NS).astype(np.int64)
    if start + int(ns.max()) >= 2**62 or start + int(ns.min()) <= -(2**62):  # (numpy's calendar: about 146 years)
        return None
    total = start + ns
    rounding = layout["rounded"] if rounded is None else rounded
    total = (total + unit // 2) // unit * unit if rounding else total // unit * unit
    try:
        texts = np.datetime_as_string(total.astype("datetime64[ns]"), unit="ns").tolist()
    except (ValueError, OverflowError):
        return None
    cut = 19 + (places + 1 if places else 0)
    separator, zone, bare = layout["separator"], layout["zone"], layout["bare_whole"]
    whole = (total % _NS == 0).tolist() if bare else [False] * len(texts)
    return [f"{t[:10]}{separator}{t[11:19 if w else cut]}{zone}" for t, w in zip(texts, whole)]
