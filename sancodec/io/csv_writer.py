"""CSV output a block of rows at a time: :func:`io.arrays.write_csv`'s text, never held whole.

A long record's CSV text is several times its samples' size, and was made whole in memory first
(``benchmarks/bench_edf_memory.py --outputs csv``: a 6 h, 20-channel EDF at 256 Hz decoded to CSV in 2012 MB of
anonymous memory). Here each block of rows (:data:`BLOCK_VALUES` values) is printed and laid out as the whole text
was, and written. The few choices that look at every row are made hopefully and checked block by block
(:class:`Choices`): a column printed at its source's places where every value prints exactly there, clock or ISO
times where every time can be one, the times from whole nanoseconds where every one is known so, a table's gaps
written ``NaN`` where every row ends in one, an aligned table realigned where every row fits its widths. A block
that finds one false starts the file again with it so, and with the choices made of the text after it hopeful
again: the file is the one the whole text gave.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from sancodec.io.arrays import (
    MAX_TRAILING_BLANK,
    PhysicalTable,
    _clock_unit,
    _dialect_of,
    _first_row_as_data,
    _from_txt,
    _header_row,
    _realigned,
    _row_as_written,
    _shortest_floats,
    _stepped,
    _time_format,
    _trim,
    _trim_after_first,
    _value_decimals,
    aligned_widths,
    clock_times,
    column_times,
    footer_count,
    grid_places,
    index_column,
    is_time_name,
    time_column,
)
from sancodec.io.arrays import (
    _blank_lines as blank_line_entries,
)
from sancodec.io.blockwise_places import PRESENT, blockwise_column_places
from sancodec.io.csv_datetimes import iso_layout, iso_times
from sancodec.io.csv_places import printed_exponents, printed_places, prints_exactly
from sancodec.io.csv_time_units import time_scale
from sancodec.io.decimals import decimal_places_of, missing_of
from sancodec.io.physical_rows import PhysicalRows
from sancodec.signal import Signal

__all__ = ["BLOCK_ROWS", "BLOCK_VALUES", "Choices", "write_table"]

BLOCK_VALUES = 1 << 17  # values printed at a time: a block's rows are this over the columns (a Python string per row
# and the block's text: 8192 rows of 20 channels held the decode of a 6 h EDF to 104 MB of anonymous memory, where
# 32768 held it to 228, in the same time: benchmarks/bench_edf_memory.py)
BLOCK_ROWS = 1 << 15  # ... and at most this many rows (tests make it small, so that a few rows make several blocks)

CLOCK, ISO, SECONDS = 0, 1, 2  # how a time column is printed: elapsed clock times, date-times, or numbers


@dataclass
class Choices:
    """The choices of a CSV's text that look at every row, each as the last pass found it: hopeful (the first
    field's way) until a block of rows refutes it. ``inexact``: columns some value of which does not print exactly at
    its source's places (``csv_places.prints_exactly``); ``times``: :data:`CLOCK`, :data:`ISO` or :data:`SECONDS`, the
    first that every row's time can be printed as; ``no_ns``: some row's time is not known in whole nanoseconds
    (``time_steps.stepped_ns``), ``negative_ns``: some is negative (the clock times then round seconds);
    ``gaps_open``: some row does not end in an empty gap (none is written ``NaN``); ``unaligned``: some row does not fit
    the aligned table's widths (none is realigned)."""

    inexact: set[int] = field(default_factory=set)
    times: int = CLOCK
    no_ns: bool = False
    negative_ns: bool = False
    gaps_open: bool = False
    unaligned: bool = False


class _Refuted(Exception):
    """A block of rows found one of the :class:`Choices` false: the pass starts again with ``choices``."""

    def __init__(self, choices: Choices) -> None:
        super().__init__("refuted")
        self.choices = choices


def _refute(choices: Choices, **changed: Any) -> _Refuted:
    """:class:`_Refuted` with ``changed`` made, and the choices made of the text after it hopeful again (the text
    they judged changes): a column's places or the times' layout reopen the gaps' and the alignment's, the gaps'
    the alignment's."""
    after = {"gaps_open": False, "unaligned": False} if set(changed) - {"gaps_open", "unaligned"} else \
        {"unaligned": False} if "gaps_open" in changed else {}
    return _Refuted(dataclasses.replace(choices, **{**after, **changed}))


def write_table(fh: BinaryIO, signal: Signal, quantum: Sequence[float] | None, tabs: bool, spaces: bool) -> None:
    """``io.arrays.write_csv``'s text of ``signal`` written to ``fh`` (open for writing and seeking, at its start) a
    block of rows at a time, each pass over the rows made with the choices the last one left (:class:`Choices`)."""
    source = signal.source if isinstance(signal.source, dict) else {}
    choices = Choices(times=CLOCK if source.get("time_clock") is True else ISO if iso_layout(source) is not None
                      else SECONDS)  # (the first its source can print: clock_times and iso_times check that first)
    whole = _whole(signal)
    while True:
        try:
            _Pass(signal, quantum, tabs, spaces, choices, whole).write(fh)
            return
        except _Refuted as refuted:
            choices = refuted.choices
            fh.seek(0)
            fh.truncate()


class _Whole(NamedTuple):
    """What the CSV of a signal takes of all its rows, worked out once for every pass, a block of rows at a time:
    ``held``, each column's decimals where the CSV prints the signal's values rather than its integers (what
    ``io.arrays.held_values`` gives it: a decimal source's, or a :class:`PhysicalTable`'s, each column's places of
    its values that are not gaps), else None; ``places``, each column's decimals (``held``, or a float signal's
    ``column_places``), or None; ``rows``, a digital signal's values made a block at a time."""

    held: Sequence[int | None] | None
    places: Sequence[int | None] | None
    rows: PhysicalRows | None


def _whole(signal: Signal) -> _Whole:
    """:class:`_Whole` of ``signal``."""
    n, columns = signal.n_samples, signal.n_channels
    block = max(1, BLOCK_VALUES // columns)
    rows = PhysicalRows(signal) if signal.is_digital else None
    if rows is not None and isinstance(signal, PhysicalTable):
        held: Sequence[int | None] | None = blockwise_column_places(rows.physical, n, columns, block, PRESENT)
    else:
        held = decimal_places_of(signal)
    if held is not None or signal.is_digital:
        return _Whole(held, held, rows)
    return _Whole(None, blockwise_column_places(lambda a, b: np.asarray(signal.samples[a:b]), n, columns, block),
                  None)


class _Pass:
    """One pass over ``signal``'s rows with ``choices``: the text's layout worked out as ``io.arrays.write_csv``
    worked it out for the whole, then each block's text made and written."""

    def __init__(self, signal: Signal, quantum: Sequence[float] | None, tabs: bool, spaces: bool, choices: Choices,
                 whole: _Whole) -> None:
        self.signal, self.choices, self.held, self.rows = signal, choices, whole.held, whole.rows
        held, places = whole.held, whole.places
        names = list(signal.channel_names)
        digits = "%.9g" if signal.samples.dtype == np.float32 else "%.17g"  # (what reads back as the same float)
        formats = ["%d" if signal.is_digital else digits] * signal.n_channels
        if places is not None:  # the double nearest each decimal prints as that decimal at its places (the rest: 17
            formats = [digits if d is None else f"%.{d}f" for d in places]  # digits)
        integers = signal.is_digital and places is None and not (isinstance(signal.source, dict)
                                                                  and "decimals" in signal.source)
        self.exact: dict[int, int] = {}  # columns printed at the source's places where every value prints exactly
        for c, p in enumerate(printed_places(signal.source, signal.n_channels)):  # a CSV's 0.1450 for 0.145, so again
            d = 0 if integers else None if places is None else places[c]
            if p is not None and d is not None and d < p:
                self.exact[c] = p
                if c not in choices.inexact:
                    formats[c] = f"%.{p}f"
        if held is None and not signal.is_digital and quantum is not None and len(quantum) == signal.n_channels:
            printed = _value_decimals(signal.source, signal.n_channels)
            for c, step in enumerate(quantum):  # a lossy float file's columns that are no decimals: at its grid's
                d = grid_places(step)  # places, or the source's, where fewer
                own = printed[c]
                d = d if own is None or d is None else min(d, own)
                if d is not None and (places is None or places[c] is None):
                    formats[c] = f"%.{d}f"
        else:  # (not a lossy float file's values, which print at the digits its grid needs)
            for c, n in enumerate(printed_exponents(signal.source, signal.n_channels)):  # numpy.savetxt's %.18e
                if n is not None:
                    formats[c] = f"%.{n}e"
        time = time_column(signal.source)
        if time is None and signal.n_channels > 1 and is_time_name(names[0]):  # a first channel named as times are
            time = ("time [s]", 0.0)  # (read_csv would take it for the time column): times first, as a channel
        self.time, time_unit = time, "s"
        if time is not None:
            names = [time[0], *names]
            if choices.times == SECONDS:
                formats = [_time_format(signal.source), *formats]
            else:
                time_unit = "ISO 8601" if choices.times == ISO else _clock_unit(signal.source)
        self.index = index_column(signal.source) if time is None else None
        if self.index is not None:  # pandas' index column, its rows' numbers, first again
            names, formats = [self.index[0], *names], ["%d", *formats]
        delimiter, decimal = _dialect_of(signal)
        delimiter = "\t" if tabs else " " if spaces and not _from_txt(signal) else delimiter
        if decimal == "," and len(names) == 1:  # one column: no delimiter to tell "0,056" from two values by
            decimal = "."
        source = signal.source if isinstance(signal.source, dict) else {}
        clock = time is not None and choices.times != SECONDS
        quoted, closed = source.get("quoted") is True and not clock, source.get("closed") is True
        named_by = delimiter if len(names) > 1 else ","  # (one column: read back with commas, quoted as they would be)
        header = _header_row(names, named_by, quoted or source.get("names_quoted") is True)
        may_space = not tabs and delimiter != " "  # (a .tsv or .txt made of a spaced CSV is not spaced)
        if source.get("names_spaced") is True and may_space and '"' not in header and len(names) > 1:
            header = header.replace(named_by, named_by + " ")  # "Time [s], RESP, PLETH", as the source wrote its names
        if source.get("units_row") is True:  # a CSV source's units row (spaced where it was)
            row = _header_row([*([time_unit] if time is not None else []), *signal.units], named_by, quoted)
            units_spaced = source.get("units_spaced") is True and may_space and '"' not in row
            header += "\n" + (row.replace(named_by, named_by + " ") if units_spaced else row)
        self.header, self.formats, self.delimiter, self.decimal, self.source = header, formats, delimiter, decimal, \
            source
        self.quoted, self.closed = quoted, closed
        self.missing = missing_of(signal.source) if held is not None else None
        self.row_names = self.index is not None and isinstance(source.get("index_column"), dict) and \
            source["index_column"].get("quoted") is True  # R's row names, each in quotes
        self.headerless = source.get("headerless") is True and time is None and "\n" not in header
        self.columns = len(names)
        self.gaps_closed = self.missing is not None and not self.missing[1] and not closed and not quoted and \
            len(names) > 1 and len(delimiter) == 1
        widths = aligned_widths(source, "aligned", len(names)) if delimiter == " " else None
        self.widths = None if quoted or closed or self.row_names else widths
        self.named_widths = None if self.headerless else aligned_widths(source, "aligned_names", len(names))
        self.ns_known = self.ns_unknown = False  # whether some row's time has been, or not been, known in nanoseconds
        self.layout = _Layout(source)

    def write(self, fh: BinaryIO) -> None:
        """Every block's text, laid out, written to ``fh``."""
        n = self.signal.n_samples
        rows = max(1, min(BLOCK_ROWS, BLOCK_VALUES // self.signal.n_channels))
        for a in range(0, n, rows):
            b = min(a + rows, n)
            fh.write(self.layout.block(self._text(a, b), a == 0, b == n).encode("utf-8"))
        self.layout.finish(fh)

    def _values(self, a: int, b: int) -> np.ndarray:
        """Rows ``[a, b)`` of what the CSV prints: the samples, or the values held for them."""
        if self.held is None or self.rows is None:
            return np.asarray(self.signal.samples[a:b])  # (a plain array: numpy.savetxt makes each row of a memmap one)
        return self.rows.physical(a, b)

    def _times(self, a: int, b: int) -> tuple[np.ndarray, list[str] | None]:
        """Rows ``[a, b)``'s times, and their clock or date-time texts where the choices print them so."""
        assert self.time is not None
        source, choices = self.signal.source, self.choices
        rows_at = np.arange(a, b)
        times = column_times(self.time[1], rows_at, self.signal.fs, time_scale(source))
        ns = None if choices.no_ns else _stepped(source, self.time[1], rows_at, self.signal.fs)
        if ns is None and self.ns_known:  # (known for rows before these, not for these: for none)
            raise _refute(choices, no_ns=True)
        self.ns_unknown = self.ns_unknown or ns is None
        ns = None if self.ns_unknown else ns  # (not known for rows before these: for none)
        self.ns_known = ns is not None
        if choices.times == SECONDS:
            return times, None
        if choices.times == CLOCK:
            if ns is not None and not choices.negative_ns and not bool(np.all(ns >= 0)):
                raise _refute(choices, negative_ns=True)
            texts = clock_times(times, source, None if choices.negative_ns else ns)
        else:
            texts = iso_times(times, source, ns=ns)
        if texts is None:
            raise _refute(choices, times=choices.times + 1)
        return times, texts

    def _text(self, a: int, b: int) -> str:
        """Rows ``[a, b)``'s lines (the header's, the preamble's and the footer's with the first and last), as
        ``io.arrays.write_csv`` made the whole text's, before its layout (:class:`_Layout`)."""
        first_block, last_block = a == 0, b == self.signal.n_samples
        rows, formats, delimiter, source = self._values(a, b), list(self.formats), self.delimiter, self.source
        for c, p in self.exact.items():
            if c not in self.choices.inexact and not prints_exactly(np.asarray(rows[:, c], dtype=np.float64), p):
                raise _refute(self.choices, inexact=self.choices.inexact | {c})
        clock = None
        if self.time is not None:
            times, clock = self._times(a, b)
            if clock is None:
                rows = np.column_stack([times, rows.astype(np.float64)])  # integers within 2**53: exact
        if self.index is not None:
            numbers = np.arange(a, b, dtype=np.int64 if rows.dtype.kind in "iu" else np.float64) + self.index[1]
            rows = np.column_stack([numbers, rows])
        rows, formats = _shortest_floats(rows, formats, source)
        buf = io.StringIO()
        np.savetxt(buf, rows, delimiter=delimiter, fmt=formats, comments="")
        body = buf.getvalue()
        buf.close()  # (its text let go now: savetxt's wrapper of it is a class of its own, in a cycle that only the
        # garbage collector breaks, and until it ran, each block's text stayed: 80 MB of a float CSV's)
        if source.get("trimmed") is True or source.get("shortest") is True:  # as the source printed its values
            shortest = source.get("trimmed") is not True
            keep_times = source.get("time_untrimmed") is True and self.time is not None and clock is None
            body = _trim_after_first(body, delimiter, shortest) if keep_times else _trim(body, shortest)
        if clock is not None:  # each row after its clock time
            body = "".join(f"{t}{delimiter}{v}\n" for t, v in zip(clock, body.split("\n")))
        missing = self.missing
        if self.decimal == "," or missing is not None:  # the values only: the header rows keep their names and units
            body = body.replace(".", ",") if self.decimal == "," else body
            gap = missing[1] if missing is not None and (missing[1] or self.columns > 1) else "NaN"  # (one column's
            body = body if missing is None else body.replace("nan", gap)  # empty cell: a blank line)
        if source.get("values_spaced") is True and delimiter in (",", ";") and \
                not (self.quoted or self.closed or self.row_names):
            body = body.replace(delimiter, delimiter + " ")  # numpy's ", "
        head = self.header + "\n" if first_block else ""
        if self.quoted or self.closed or self.row_names:  # as the source wrote its rows: every value in double quotes
            # (or the first), each row closed by a delimiter
            head = "".join(_row_as_written(line, delimiter, False, self.closed) + "\n"
                           for line in head.split("\n")[:-1])
            body = "".join(_row_as_written(line, delimiter, self.quoted, self.closed, self.row_names) + "\n"
                           for line in body.split("\n")[:-1])
        if self.headerless and first_block:  # a CSV source without names (its names' line dropped whole)
            head, body = "", _first_row_as_data(body, delimiter, self.closed)
        if self.gaps_closed and not self.choices.gaps_open:  # every row's last cell an empty gap: written NaN, or the
            # table reads as one whose rows are closed by a delimiter, a column short (random CSV testing, seed 10025)
            lines = body.split("\n")[:-1]
            if not all(line.rstrip(" ").endswith(delimiter) for line in lines):
                raise _refute(self.choices, gaps_open=True)
            body = "".join(line.rstrip(" ") + "NaN\n" for line in lines)
        if self.widths is not None and not self.choices.unaligned:  # a table aligned by runs of spaces, so again
            aligned = [_realigned(line, self.widths) for line in body.split("\n")[:-1]]
            if not all(row is not None for row in aligned):
                raise _refute(self.choices, unaligned=True)
            body = "".join(f"{row}\n" for row in aligned)
            head = "".join(f"{(_realigned(line, self.named_widths) if k == 0 else None) or line}\n"
                           for k, line in enumerate(head.split("\n")[:-1]))
        text = head + body
        if source.get("comment_lines") is True:  # a CSV source's preamble, and its footer
            lines = [f"# {' '.join(c.splitlines())}\n" for c in self.signal.comments]
            after = footer_count(source, len(lines))
            text = ("".join(lines[: len(lines) - after]) if first_block else "") + text + \
                ("".join(lines[len(lines) - after:]) if last_block else "")
        if source.get("sep_line") is True and first_block and delimiter == _dialect_of(self.signal)[0]:  # Excel's
            text = f"sep={delimiter}\n" + text  # "sep=;" (not in a .tsv or .txt made of the file)
        return text


class _Layout:
    """A CSV source's text layout (``io.arrays._text_layout``) a block at a time: its blank lines put back at their
    places among the lines written so far, its trailing blank lines after the last block, CR LF line ends, no line
    end after the last line (the file cut after it: :meth:`finish`), its byte-order mark before the first."""

    def __init__(self, source: dict) -> None:
        self.source = source
        self.blanks = blank_line_entries(source.get("blank_lines")) or []
        self.lines = 0  # lines written so far, blank ones put back among them
        self.line_ends = 0  # bytes of CR and LF that end what is written so far (what an unended file is cut by)

    def block(self, text: str, first: bool, last: bool) -> str:
        """``text`` (lines ended by LF) laid out, for its place in the file."""
        source = self.source
        if self.blanks:
            text = self._with_blank_lines(text, last)
        blank = source.get("trailing_blank")
        if last and type(blank) is int and 0 < blank <= MAX_TRAILING_BLANK and source.get("unterminated") is not True:
            text += "\n" * blank
        text = text.replace("\n", "\r\n") if source.get("crlf") is True else text
        text = "\ufeff" + text if first and source.get("bom") is True else text
        kept = text.rstrip("\r\n")
        self.line_ends = len(text) - len(kept) + (self.line_ends if not kept else 0)
        return text

    def _with_blank_lines(self, text: str, last: bool) -> str:
        lines = text.split("\n")[:-1]
        out: list[str] = []
        taken = 0
        while self.blanks:
            index, blank = self.blanks[0]
            need = index - self.lines - len(out)  # lines of text before this blank line
            if taken + need > len(lines):
                break
            out += lines[taken : taken + need]
            taken += need
            out.append(blank)
            self.blanks.pop(0)
        if last:
            self.blanks = []  # (those past the last line count for nothing)
        out += lines[taken:]
        self.lines += len(out)
        return "".join(f"{line}\n" for line in out)

    def finish(self, fh: BinaryIO) -> None:
        """An unended source's file cut after its last line's text (``unterminated``)."""
        if self.source.get("unterminated") is True and self.line_ends:
            fh.truncate(fh.tell() - self.line_ends)
