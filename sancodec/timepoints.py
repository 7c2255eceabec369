"""A point in a recording given as a row (sample) number or as a time from its start: what ``sancodec decode
--start/--end`` take. PhysioNet's tools and EDF viewers count in seconds and clock times (``rdsamp -f 90 -t 1:30``),
so ``90s``, ``1:30``, ``1:02:03.5``, ``500ms``, ``2min`` and ``1h`` name the rows whose times fall from there on; a
plain integer stays a row number, as it always was."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

from sancodec.errors import SanConfigError

__all__ = ["is_time", "length_text", "range_rows", "row_at", "seconds_in"]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_CLOCK = re.compile(rf"(?:(\d+):)?(\d+):({_NUMBER})")  # [h:]m:s, its seconds with a fraction where given
_UNITS = {"ms": Fraction(1, 1000), "s": Fraction(1), "min": Fraction(60), "h": Fraction(3600)}
_TIMED = re.compile(rf"({_NUMBER})\s*(ms|s|min|h)")
_ROW = re.compile(r"[+-]?\d+")


def is_time(text: str | None) -> bool:
    """Whether ``text`` is given as a time (not a row number; None: nothing given)."""
    return text is not None and _ROW.fullmatch(text.strip()) is None


def seconds_in(text: str, what: str = "--start") -> Fraction:
    """The time ``text`` names, in seconds, exactly (``90s``, ``1.5min``, ``500ms``, ``1h``, ``1:30``,
    ``1:02:03.5``); a SanConfigError naming ``what`` for anything else (a negative time among it)."""
    written = text.strip()
    timed = _TIMED.fullmatch(written)
    if timed is not None:
        return Fraction(timed[1]) * _UNITS[timed[2]]
    clock = _CLOCK.fullmatch(written)
    if clock is not None:
        hours, minutes, seconds = int(clock[1] or 0), int(clock[2]), Fraction(clock[3])
        if clock[1] is not None and minutes >= 60 or seconds >= 60:
            raise SanConfigError(f"{what} {text!r}: minutes and seconds of a clock time run 0 to 59")
        return Fraction(3600 * hours + 60 * minutes) + seconds
    raise SanConfigError(f"{what} takes a sample number or a time from the record's start (90s, 500ms, 2min, 1h, "
                         f"1:30, 1:02:03.5), got {text!r}")


def row_at(text: str | None, fs: float, what: str = "--start") -> int | None:
    """The row ``text`` names in a recording of ``fs`` rows a second: a row number as it is; for a time, the first
    row at or after it (so ``--start 10s --end 20s`` is the rows whose times fall in [10 s, 20 s): ``10 fs`` to
    ``20 fs`` where those are whole), ``fs`` taken as the decimal it prints as (360.0, 257.3), so a whole second's
    row is found exactly. None for None."""
    if text is None:
        return None
    if not is_time(text):
        return int(text.strip())
    if not (math.isfinite(fs) and fs > 0):
        raise SanConfigError(f"{what} {text!r}: the record has no sampling rate to find a time at")
    return math.ceil(seconds_in(text, what) * Fraction(repr(float(fs))))


def range_rows(header_of: Callable[[], dict], start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--start`` and ``--end`` as rows of a file: a row number as it is; a time by :func:`row_at` at the rate of the
    file's header (``header_of()``, ``codec.api.read_header``'s, read only where a time is given), in a
    multi-frequency record its first whole frame at or after it (such a record is cut at whole frames), and one past
    the record's end a SanConfigError that says the record's length."""
    from sancodec.signal import frame_rows

    if not (is_time(start) or is_time(end)):
        return row_at(start, math.nan, "--start"), row_at(end, math.nan, "--end")
    header = header_of()
    signal = header.get("signal") or {}
    fs, m, n = float(signal.get("fs", math.nan)), frame_rows(signal.get("samples_per_frame")), int(header["n_samples"])

    def rows(text: str | None, what: str) -> int | None:
        row = row_at(text, fs, what)
        if row is None or not is_time(text):
            return row
        if row > n:
            raise SanConfigError(f"{what} {text}: past the record's end ({n} rows at {fs:g} Hz, "
                                 f"{length_text(n / fs)})")
        return -(-row // m) * m

    return rows(start, "--start"), rows(end, "--end")


def length_text(seconds: float) -> str:
    """A record's length in words: seconds, and past a minute also as hours, minutes and seconds (1:02:03.500)."""
    if not seconds >= 60 or seconds > 1e12:  # (a header's rate is checked positive: nan or huge only from a lie)
        return f"{seconds:.6g} s"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:06.3f} ({seconds:.6g} s)"
