"""The decimals a CSV printed a column with where they are more than its values need: ``numpy.savetxt``'s ``%.4f``
of times at 250 Hz (``0.0040``) or of millivolts on a 0.001 grid (``0.1450``). A value's own decimals
(``decimals.decimal_places``: ``0.004``) would print those cells shorter, so ``read_csv`` keeps these places in the
source entry (``printed_places``, ``time_decimals``) and ``write_csv`` pads the values to them again: the same file,
byte for byte. So too a column in ``numpy.savetxt``'s default ``%.18e`` (``2.040999999999999925e+00``), or any
``%.Ne``, where printing its values so gives back every cell (``exponent_digits``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["CHUNK_ROWS", "MAX_PRINTED", "PROBE_ROWS", "cell_bounds", "exponent_cells", "exponent_count",
           "exponent_digits", "padded_places", "printed_exponents", "printed_places", "prints_exactly", "text_chunks"]

MAX_PRINTED = 17  # the most places kept (a .san header is not trusted past them)
PROBE_ROWS = 1000  # padded_places looks at these first rows first: one cell not ending in 0 rules its column out


def padded_places(lines: Sequence[str], delimiter: str, decimal: str, skip_first: bool = False
                  ) -> list[int | None] | None:
    """Per column of a CSV's data rows ``lines``, the places after the decimal mark every one of its cells was printed
    with, where each of them ends in a 0 (so the values need fewer); None for any other column, and None in all
    where no column is so, a row holds another count of cells than the first, or a number has an exponent.
    ``skip_first``: the first column is not looked at (clock times). By the cells' characters, with numpy: the
    first :data:`PROBE_ROWS` rows first, where most CSVs show a cell that rules every column out."""
    if len(lines) > PROBE_ROWS:
        probed = _padded(lines[:PROBE_ROWS], delimiter, decimal, skip_first)
        if probed is None:
            return None
    return _padded(lines, delimiter, decimal, skip_first)


def _padded(lines: Sequence[str], delimiter: str, decimal: str, skip_first: bool) -> list[int | None] | None:
    """:func:`padded_places` of ``lines``, all of them: each column's places from its first cell, then every cell of
    it checked to end in a 0 with its decimal mark that many places before, inside the cell."""
    if not lines or len(delimiter) != 1 or len(decimal) != 1:
        return None
    first = lines[0].split(delimiter)
    wanted = [_places(cell, decimal) for cell in first]
    if skip_first:
        wanted[0] = None
    if all(p is None for p in wanted):
        return None
    columns = len(first)
    for text in text_chunks(lines):  # (a chunk's rows at a time: numpy's arrays of its cells are several times it)
        if np.any((text | 0x20) == ord("e")):  # an exponent (1.0e-3): its places are not the value's (a gap word
            return None  # too: left be)
        seps, ends, starts = cell_bounds(text, delimiter)
        if (len(seps) + 1) % columns or not np.array_equal(np.flatnonzero(text[seps] == ord("\n")),
                                                          np.arange(columns - 1, len(seps), columns)):
            return None  # a row of another count of cells
        for c, p in enumerate(wanted):
            if p is not None:
                e, at = ends[c::columns], ends[c::columns] - p
                if not (np.all(at >= starts[c::columns]) and np.all(text[e] == ord("0"))
                        and np.all(text[np.maximum(at, 0)] == ord(decimal))):
                    wanted[c] = None
        if all(p is None for p in wanted):
            return None
    return wanted


CHUNK_ROWS = 1 << 14  # the rows of a CSV's text that its layout's checks look at with numpy at a time


def text_chunks(lines: Sequence[str], rows: int | None = None) -> Iterator[np.ndarray]:
    """``lines`` joined by line ends ``rows`` at a time, each chunk's UTF-8 bytes: the checks of a CSV's layout by
    its cells' characters (:func:`cell_bounds`) made a chunk at a time, the same answers as over the whole text (no
    cell spans a line), in memory bounded by the chunk (over the whole, a long CSV's read took twelve times its
    size: several integers a cell). ``rows``: :data:`CHUNK_ROWS` unless given."""
    rows = CHUNK_ROWS if rows is None else rows
    for at in range(0, len(lines), rows):
        yield np.frombuffer("\n".join(lines[at : at + rows]).encode("utf-8"), np.uint8)


def cell_bounds(text: np.ndarray, delimiter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of a CSV's rows joined by line ends (``text``, their UTF-8 bytes): the separators' places (each
    delimiter and line end), each cell's last character's (its start's less one where it is empty) and each cell's
    first character's."""
    seps = np.flatnonzero((text == ord(delimiter)) | (text == ord("\n")))
    return seps, np.append(seps, len(text)) - 1, np.insert(seps + 1, 0, 0)


def _places(cell: str, decimal: str) -> int | None:
    """The places after ``cell``'s decimal mark where it ends in a 0 after one (1 to :data:`MAX_PRINTED`), else
    None."""
    head, mark, tail = cell.rpartition(decimal)
    return len(tail) if mark and head and tail.endswith("0") and tail.isdigit() and len(tail) <= MAX_PRINTED \
        else None


def printed_places(source: object, channels: int) -> list[int | None]:
    """Per channel, the places a CSV source printed it with where its values need fewer (``read_csv``'s
    ``printed_places``; a ``.san`` header is not trusted: each a whole 1 to :data:`MAX_PRINTED`, else None)."""
    printed = source.get("printed_places") if isinstance(source, dict) else None
    if not isinstance(printed, list) or len(printed) != channels:
        return [None] * channels
    return [p if type(p) is int and 1 <= p <= MAX_PRINTED else None for p in printed]


def prints_exactly(values: np.ndarray, places: int) -> bool:
    """Whether ``%.{places}f`` prints each of ``values`` (decimals of fewer places, as the nearest doubles) as that
    decimal padded with zeros: where every value times ``10**places`` is below 2^52, a double's error (half an ulp)
    is under half a unit of the last place printed."""
    finite = values[np.isfinite(values)]
    return not len(finite) or float(np.abs(finite).max()) * 10.0**places < 2.0**52


MAX_EXPONENT_DIGITS = 20  # the most digits after the point kept in a column printed with an exponent
_EXPONENT = re.compile(r"-?[0-9]\.([0-9]{1,20})e[+-][0-9]{2,3}")  # %.Ne of a finite value (Python's, numpy's)


def exponent_digits(lines: Sequence[str], delimiter: str, values: np.ndarray, skip_first: bool = False
                    ) -> list[int | None] | None:
    """Per column of a CSV's data rows ``lines`` (read as ``values``, rows x columns), the digits ``N`` after the
    point where its cells are ``%.Ne`` of its values, as ``numpy.savetxt`` prints by default (``%.18e``); None for
    any other column (a cell without an exponent, another ``N``, a gap), and None in all where no column is so.
    ``skip_first``: the first column is not looked at (clock times). The first row's cells pick the columns to look
    at (most CSVs print no exponent: nothing more is done); every cell of those is checked for the shape ``%.Ne``
    prints (``-d.ddde+dd``, with numpy, :func:`_shaped`), and the first :data:`PROBE_ROWS` rows' cells against their
    values printed so (printing every value costs a microsecond each: a 650 000-row file's read four times over).
    A cell of that shape which a writer rounded otherwise would come back as ``%.Ne`` prints its value: the same
    value, other digits."""
    if not lines or values.ndim != 2 or len(values) != len(lines) or len(delimiter) != 1:
        return None
    first = [cell.strip() for cell in lines[0].split(delimiter)]
    if len(first) != values.shape[1]:
        return None
    wanted = [None if (c == 0 and skip_first) or (m := _EXPONENT.fullmatch(cell)) is None else len(m.group(1))
              for c, cell in enumerate(first)]
    if all(n is None for n in wanted):
        return None
    probe = [line.split(delimiter) for line in lines[:PROBE_ROWS]]
    if any(len(row) != len(first) for row in probe):
        return None
    for c, n in enumerate(wanted):
        held = ~np.isnan(values[:PROBE_ROWS, c])  # (a gap is written as the CSV wrote it: not looked at)
        cells = [row[c] for row, h in zip(probe, held) if h]
        if n is not None and cells != exponent_cells(values[:PROBE_ROWS, c][held], n):
            wanted[c] = None
    if all(n is None for n in wanted):
        return None
    row = 0
    for text in text_chunks(lines):  # (a chunk's rows at a time: numpy's arrays of its cells are several times it)
        seps, ends, starts = cell_bounds(text, delimiter)
        rows = int(np.count_nonzero(text[seps] == ord("\n"))) + 1
        if len(seps) + 1 != rows * len(first):
            return None
        for c, n in enumerate(wanted):
            held = ~np.isnan(values[row : row + rows, c])
            if n is not None and not _shaped(text, starts[c :: len(first)][held], ends[c :: len(first)][held], n):
                wanted[c] = None
        row += rows
    return wanted if any(n is not None for n in wanted) else None


def _shaped(text: np.ndarray, starts: np.ndarray, ends: np.ndarray, digits: int) -> bool:
    """Whether every cell of ``text`` from ``starts`` to ``ends`` (inclusive) has the shape ``%.{digits}e`` prints:
    an optional minus, a digit, the point, ``digits`` digits, ``e``, a sign and two or three digits."""
    minus = text[starts] == ord("-")
    point = starts + minus + 1
    e = point + digits + 1
    tail = ends - e
    if not np.all((tail >= 3) & (tail <= 4)):
        return False
    digit = (text[starts + minus] >= ord("0")) & (text[starts + minus] <= ord("9"))
    sign = (text[e + 1] == ord("+")) | (text[e + 1] == ord("-"))
    return bool(np.all(digit) and np.all(text[point] == ord(".")) and np.all(text[e] == ord("e")) and np.all(sign))


def exponent_cells(column: np.ndarray, digits: int) -> list[str]:
    """``column``'s values as ``%.{digits}e`` prints them."""
    form = f"%.{digits}e"
    return [form % v for v in column.tolist()]


def printed_exponents(source: object, channels: int) -> list[int | None]:
    """Per channel, the digits after the point a CSV source printed it with in ``%.Ne`` (``read_csv``'s
    ``exponent_digits``; a ``.san`` header is not trusted: each a whole 0 to :data:`MAX_EXPONENT_DIGITS`, else
    None)."""
    printed = source.get("exponent_digits") if isinstance(source, dict) else None
    if not isinstance(printed, list) or len(printed) != channels:
        return [None] * channels
    return [exponent_count(n) for n in printed]


def exponent_count(entry: object) -> int | None:
    """A header's count of digits after an exponent's point (``exponent_digits``' each, ``time_exponent``), where it is
    a whole 0 to :data:`MAX_EXPONENT_DIGITS` (a ``.san`` header is not trusted), else None."""
    return entry if type(entry) is int and 0 <= entry <= MAX_EXPONENT_DIGITS else None
