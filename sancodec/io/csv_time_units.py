"""The unit a CSV's time column is in, by its name: ``time_ms``, ``Time (ms)``, ``timestamp [µs]`` hold milliseconds
or microseconds, not seconds, so the rate read from them is that many times the rows over the span. ``read_csv``
keeps the unit's scale in the source entry (``time_scale``) and ``write_csv`` rebuilds the column in it."""

from __future__ import annotations

import re

__all__ = ["SCALES", "time_scale", "time_unit_scale"]

SCALES = {"ms": 1000, "msec": 1000, "millisecond": 1000, "milliseconds": 1000, "us": 10**6, "µs": 10**6,
          "μs": 10**6, "usec": 10**6, "microsecond": 10**6, "microseconds": 10**6, "ns": 10**9, "nanosecond": 10**9,
          "nanoseconds": 10**9}
_UNIT = re.compile(r"(?:^|[\s_\-\[(])(" + "|".join(sorted(SCALES, key=len, reverse=True)) + r")[\])]?\s*$")


def time_unit_scale(name: str) -> int:
    """The units of a time column named ``name`` in a second: 1000 where the name ends in a millisecond unit
    (``time_ms``, ``Time (ms)``, ``t [msec]``), 10**6 in a microsecond one, 10**9 in a nanosecond one; else 1
    (seconds, what a time column holds by default)."""
    found = _UNIT.search(name.strip().lower())
    return SCALES[found[1]] if found else 1


def time_scale(source: object) -> int:
    """A CSV source's ``time_scale`` (:func:`time_unit_scale` of its time column's name), where it is one of the
    scales a name gives (a ``.san`` header is not trusted); else 1."""
    scale = source.get("time_scale") if isinstance(source, dict) else None
    return scale if type(scale) is int and scale in SCALES.values() else 1
