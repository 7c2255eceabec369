"""Times held as whole units (a pandas index's nanoseconds, a CSV's date-times or clock times read to the
nanosecond): the rate they were made at, and the step they were made with. ``pandas.date_range`` at 360 Hz holds
its period cut to 2777777 ns and adds it up, so the times' span reads 360.0001 Hz; the rate meant was 360
(:func:`meant_rate`), and a CSV of those times is written back from the step itself (:func:`even_step`,
:func:`stepped_ns`), not from the rate, whose times would drift from them by a nanosecond every few hundred rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SNAP_DIGITS", "SNAP_WIDTH", "STEP_KEY", "even_step", "meant_rate", "step_of", "step_source", "stepped_ns"]

SNAP_DIGITS = 3  # a rate is snapped to one of at most this many decimals that its times allow ...
SNAP_WIDTH = 1e-4  # ... where the rates a constant step allows lie within this share of each other
STEP_KEY = "time_step_ns"  # a CSV source entry's key for its time column's step, where the rate does not rebuild it
_NS = 10**9
_MOST_NS = 2**62  # the nanoseconds from a column's first time to its last that a rebuild may reach (numpy's calendar)


def even_step(ticks: np.ndarray) -> int | None:
    """The one step between ``ticks`` (whole units, int64) where every step is that same positive number; else None
    (fewer than two ticks too)."""
    if len(ticks) < 2:
        return None
    steps = np.diff(ticks)
    first = int(steps[0])
    return first if first > 0 and bool(np.all(steps == first)) else None


def meant_rate(ticks: np.ndarray, unit: float, rate: float) -> float:
    """The rate that times of ``ticks`` (whole units of ``unit`` seconds from the first) were made at, where it shows
    (else ``rate``, their span's): with every step the same (``date_range``'s ``freq``, a period cut to the
    resolution: 360 Hz's as 2777777 ns, whose span reads 360.0001 Hz), its own rate where that has at most
    :data:`SNAP_DIGITS` decimals (62.5 Hz's 0.016 s), else the roundest rate (the most trailing zeros, then the
    fewest decimals) whose period the step may be cut from (truncated or rounded), where those lie within
    :data:`SNAP_WIDTH` of each other; with steps that vary (each time rounded on its own: ``start +
    to_timedelta(arange(n) / fs)``, which cuts some by more than a unit), the rate of fewest decimals whose every
    time is within two units of its own."""
    step_units = even_step(ticks)
    if step_units is not None:
        step = float(step_units) * unit
        own = float(f"{1.0 / step:.12g}")
        if round(own, SNAP_DIGITS) == own:
            return own
        low, high = 1.0 / (step + unit), 1.0 / max(step - unit / 2, 1e-300)
        if not high - low <= SNAP_WIDTH * low:
            return rate
        for digits in range(SNAP_DIGITS + 1):
            scale = 10**digits
            found = list(range(math.floor(low * scale) + 1, math.floor(high * scale) + 1))
            if found:
                return max(found, key=_trailing_zeros) / scale
        return rate
    at = np.arange(len(ticks), dtype=np.float64)
    for digits in range(SNAP_DIGITS + 1):
        snapped = round(rate, digits)
        if snapped > 0 and float(np.max(np.abs(ticks * unit - at / snapped))) <= 2 * unit:
            return float(snapped)
    return rate


def _trailing_zeros(k: int) -> int:
    """How many zeros end ``k`` (a candidate rate times a power of ten): 44100 before 44101."""
    zeros = 0
    while k and k % 10 == 0:
        k, zeros = k // 10, zeros + 1
    return zeros


def step_of(source: object, fs: float) -> int | None:
    """A CSV source entry's time step in nanoseconds (:data:`STEP_KEY`; a ``.san`` header is not trusted): a whole
    number from 1 ns to 10^15 ns whose rate is ``fs`` within :data:`SNAP_WIDTH` (else the times are rebuilt from
    ``fs``, as for a column without one); None where there is none or it is not so."""
    step = source.get(STEP_KEY) if isinstance(source, dict) else None
    if type(step) is not int or not 1 <= step <= 10**15 or not (math.isfinite(fs) and fs > 0):
        return None
    return step if abs(_NS / step - fs) <= SNAP_WIDTH * fs else None


def stepped_ns(start: float, rows: np.ndarray, step: int) -> np.ndarray | None:
    """The times of ``rows`` (row indices from the column's first time kept, whose time is ``start`` seconds) in
    whole nanoseconds, ``step`` apart: the first time rounded to the nanosecond, then each row's step added in
    integers (exact); None where they would pass :data:`_MOST_NS` or ``start`` is no time."""
    if not math.isfinite(start) or abs(start) * _NS >= _MOST_NS:
        return None
    first = round(start * _NS)
    last = int(rows.max(initial=0))
    if abs(first) + last * step >= _MOST_NS or int(rows.min(initial=0)) < 0:
        return None
    return first + np.asarray(rows, dtype=np.int64) * step


def step_source(source: dict[str, Any], ticks: np.ndarray | None, fs: float | None) -> dict[str, Any]:
    """``source`` with :data:`STEP_KEY` added where its time column's ``ticks`` (whole nanoseconds from the first)
    step evenly by a number the rate ``fs`` does not rebuild (a period cut to the nanosecond: 2777777 ns at 360 Hz);
    else as it is."""
    step = None if ticks is None else even_step(ticks)
    if step is None or fs is None or step * fs == _NS or step_of({STEP_KEY: step}, fs) is None:
        return source
    return {**source, STEP_KEY: step}
