"""A CSV's layout is read off its text a chunk of rows at a time (``csv_places.text_chunks``, ``CHUNK_ROWS`` rows):
the same signal, source entry and refusal as the whole text gives, in a few times the file's memory (over the whole
text, numpy's arrays of every cell's bounds took twelve times a long CSV's size)."""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from common import random_csv_text, traced_peak

from sancodec import SancodecError, read_signal
from sancodec.io import arrays, csv_places

LAYOUT_KEYS = ("printed_places", "exponent_digits", "time_digits", "trimmed", "shortest", "values_spaced",
               "blank_lines", "crlf", "bom", "trailing_blank", "unterminated", "value_decimals", "time_untrimmed")


def _outcome(path: Path, fs: float | None) -> tuple:
    """What ``read_signal`` makes of ``path``: its refusal's words, or every field of the signal (the samples by
    their dtype and bytes, so a negative zero or a NaN's place counts)."""
    try:
        signal = read_signal(path, fs=fs)
    except SancodecError as exc:
        return ("refused", str(exc))
    samples = np.asarray(signal.samples)
    rest = {f.name: getattr(signal, f.name) for f in fields(signal) if f.name != "samples"}
    return ("read", samples.dtype.str, samples.shape, np.ascontiguousarray(samples).tobytes(), repr(rest))


def _exported(rng: random.Random) -> str:
    """A CSV as an exporter writes one, long enough to span chunks of a few rows: ``numpy.savetxt``'s fixed places
    (``%.4f``, padded), its ``%.18e``, integers, ``repr``'s shortest floats (pandas), a spreadsheet's trimmed
    decimals, MATLAB's ``%.5g`` times, ``", "`` between values, blank lines among the rows and after them, CRLF."""
    rows, columns = rng.randint(1, 60), rng.randint(1, 4)
    fs = rng.choice([250.0, 256.0, 360.0, 1000.0])
    values = np.round(np.array([[rng.gauss(0, 2) for _ in range(columns)] for _ in range(rows)]), rng.randint(0, 3))
    style = rng.choice(["%.4f", "%.18e", "%d", "repr", "trimmed", "%.3f"])
    if style == "%d":
        cells = [[str(int(round(v * 100))) for v in row] for row in values]
    elif style == "repr":
        cells = [[repr(float(v) + (1e-13 if rng.random() < 0.3 else 0.0)) for v in row] for row in values]
    elif style == "trimmed":
        cells = [[f"{v:.3f}".rstrip("0").rstrip(".") or "0" for v in row] for row in values]
    else:
        cells = [[style % v for v in row] for row in values]
    if rng.random() < 0.1 and rows > 3:  # a late cell that breaks the column's layout: the whole file's answer
        cells[-1][0] = rng.choice(["1.5", "2.50000", "3e-2", "-0.0", "", "7"])
    timed = rng.random() < 0.6
    times = rng.choice(["%.5g", "%.5g", "%.4f", "%.3f", "trimmed"])
    spaced = rng.random() < 0.3  # ", " between values: numpy.savetxt(delimiter=", ")'s
    lines = []
    for i, row in enumerate(cells):
        if timed:
            t = i / fs
            row = [(f"{t:.3f}".rstrip("0").rstrip(".") or "0") if times == "trimmed" else times % t, *row]
        lines.append((", " if spaced else ",").join(row))
    if spaced and rng.random() < 0.2 and len(lines) > 2:  # ... but in a late row
        lines[-1] = lines[-1].replace(", ", ",")
    if rng.random() < 0.1 and len(lines) > 2:  # a blank line among the rows
        lines.insert(rng.randint(1, len(lines) - 1), rng.choice(["", "  "]))
    names = ",".join(["time"] * timed + [f"ch{c}" for c in range(columns)])
    text = "\n".join([names, *lines]) + rng.choice(["\n", "", "\n\n"])
    return text.replace("\n", "\r\n") if rng.random() < 0.2 else text


#: the random texts' seeds: six in the suite; ``CHUNK_SEEDS=6:200`` runs those instead (seeds 3-150 found an exponent
#: in a chunk without a decimal mark left out of the trimmed layout's facts)
CHUNK_SEEDS = range(*map(int, os.environ.get("CHUNK_SEEDS", "0:6").split(":")))


@pytest.mark.parametrize("seed", CHUNK_SEEDS)
def test_a_csv_read_a_chunk_of_rows_at_a_time_is_the_csv_read_whole(tmp_path, monkeypatch, seed):
    """Random CSV texts, hostile ones and exporters' ones, read with chunks of 1, 2 and 5 rows: the same signal
    (samples, source entry, every field) or the same refusal as with one chunk of all of them; the layouts the
    chunked checks find (padded places, exponents, MATLAB's significant digits, trimmed decimals, spaced values,
    blank lines) each found at least once."""
    rng = random.Random(seed)
    found: Counter[str] = Counter()
    read = 0
    for case in range(150):
        text = random_csv_text(rng, most_rows=12) if case % 2 else _exported(rng).encode()
        path = tmp_path / f"c{case}.csv"
        path.write_bytes(text)
        fs = None if rng.random() < 0.5 else 100.0
        whole = _outcome(path, fs)
        for rows in (1, 2, 5):
            with monkeypatch.context() as patched:
                patched.setattr(csv_places, "CHUNK_ROWS", rows)
                patched.setattr(arrays, "CHUNK_ROWS", rows)
                assert _outcome(path, fs) == whole, (rows, text)
        if whole[0] == "read":
            read += 1
            source = read_signal(path, fs=fs).source or {}
            found.update(key for key in LAYOUT_KEYS if key in source)
    assert read > 60
    assert all(found[key] for key in ("printed_places", "exponent_digits", "time_digits", "trimmed", "shortest",
                                       "values_spaced", "blank_lines", "crlf", "trailing_blank")), found


def test_a_long_csv_of_decimals_and_times_reads_in_a_few_times_its_size(tmp_path, monkeypatch):
    """A CSV of millivolts at one decimal and a time column (``decode --physical``'s), 40 chunks of rows long: its
    read peaks at under five times the file's size (the text and its rows, then the rows and the numbers, and a
    chunk's checks), where the whole text's numpy checks (trimmed decimals, padded places) and the whole time
    column's texts took twelve times it."""
    monkeypatch.setattr(csv_places, "CHUNK_ROWS", 1000)  # (the file as a long one is to its chunks)
    monkeypatch.setattr(arrays, "CHUNK_ROWS", 1000)
    rng = np.random.default_rng(5)
    rows, columns = 40_000, 8
    values = np.round(rng.normal(0, 300, (rows, columns)), 1)
    lines = [",".join(["time [s]", *(f"ch{c}" for c in range(columns))])]
    lines += [",".join([f"{i / 256:.5g}", *(f"{v:.1f}" for v in row)]) for i, row in enumerate(values.tolist())]
    path = tmp_path / "mv.csv"
    path.write_text("\n".join(lines) + "\n")
    size = path.stat().st_size
    signal = None

    def read() -> None:
        nonlocal signal
        signal = arrays.read_csv(path, None)

    peak = traced_peak(read)
    assert signal is not None and np.array_equal(signal.samples, values)
    assert signal.source.get("time_digits") == 5  # (the whole time column checked against %.5g, a chunk at a time)
    assert peak < 5 * size, (peak / size)


def test_decimals_are_made_integers_in_about_their_own_size():
    """``on_decimal_grid`` (a lossless encode of a CSV's decimals) fills the integers a column at a time: its peak is
    the integers and a column's work, where a list of the columns and their stack held them twice."""
    from sancodec import Signal
    from sancodec.io.decimals import on_decimal_grid

    x = np.round(np.random.default_rng(2).normal(0, 300, (100_000, 16)), 2)
    signal = Signal(x, 250.0, [f"c{c}" for c in range(16)], ["mV"] * 16)
    made = []
    peak = traced_peak(lambda: made.append(on_decimal_grid(signal)))
    assert made[0] is not None and np.array_equal(made[0].samples, np.rint(x * 100).astype(np.int64))
    assert made[0].adc_gain == [100.0] * 16
    assert peak < 1.5 * x.nbytes, peak / x.nbytes


def test_a_columns_places_and_a_time_columns_evenness_are_weighed_a_block_at_a_time():
    """``column_places`` (a CSV's decimals) and the time column's evenness check weigh a block of values at a time:
    their temporaries a block's, where each made several arrays of the whole column (a narrow CSV, time and one
    lead, read at eight times its size)."""
    from sancodec.io.decimals import column_places

    n = 1_000_000
    x = np.round(np.random.default_rng(3).normal(0, 5, (n, 1)), 3)
    assert column_places(x) == [3]
    assert traced_peak(lambda: column_places(x)) < 0.5 * x.nbytes
    times = np.round(np.arange(n) / 250, 3)
    assert traced_peak(lambda: arrays._check_even(Path("t.csv"), times, 250.0, times)) < 0.5 * times.nbytes
    late = times.copy()
    late[-10:] += 1.0  # rows missing at the end: refused, as over the whole column
    with pytest.raises(SancodecError, match="not evenly spaced.*after data row 999990"):
        arrays._check_even(Path("t.csv"), late, 250.0, late)


def test_a_long_csv_with_gaps_reads_in_a_few_times_its_size(tmp_path, monkeypatch):
    """A CSV of decimals with a gap ("-", PhysioNet's) every thousand rows, 40 chunks of rows long: its rows of a
    cell without a digit are found a chunk at a time (``_digitless_rows``), the read peaking under eight times the
    file's size, where the whole text's arrays of every cell took sixteen times it."""
    monkeypatch.setattr(csv_places, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(arrays, "CHUNK_ROWS", 1000)
    values = np.round(np.random.default_rng(5).normal(0, 300, (40_000, 8)), 1)
    lines = [",".join(f"ch{c}" for c in range(8))]
    for i, row in enumerate(values.tolist()):
        lines.append(",".join("-" if i % 997 == 5 and c == 2 else f"{v:.1f}" for c, v in enumerate(row)))
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(lines) + "\n")
    made = []
    peak = traced_peak(lambda: made.append(arrays.read_csv(path, 250.0)))
    held = made[0].samples
    gaps = np.arange(40_000) % 997 == 5
    assert np.array_equal(held[~gaps], np.rint(values[~gaps] * 10).astype(held.dtype))
    assert made[0].source["missing"]["text"] == "-"
    assert peak < 8 * path.stat().st_size, peak / path.stat().st_size


def _whole_text_layout(text: str) -> dict:
    """``arrays._text_layout`` as it was, over copies of the whole text (``rstrip``, ``replace``): the reference the
    copy-free one must match."""
    body = text.rstrip("\r\n")
    blank = text[len(body) :].count("\n") - 1
    lead = body.removeprefix("\ufeff")
    inside = [(k, line) for k, line in enumerate(lead.splitlines()) if not line.strip()] \
        if not lead.partition("\n")[0].strip() or arrays._BLANK_INSIDE_TEXT.search(lead) else []
    layout = {"bom": text.startswith("\ufeff"),
              "crlf": "\n" in text and text.count("\r\n") == text.count("\n") and "\r" not in text.replace("\r\n", ""),
              "unterminated": bool(body) and body == text}
    out: dict = {key: True for key, value in layout.items() if value}
    if bool(body) and 0 < blank <= arrays.MAX_TRAILING_BLANK:
        out["trailing_blank"] = blank
    if 0 < len(inside) <= arrays.MAX_BLANK_LINES and all(arrays._BLANK.fullmatch(line) for _, line in inside):
        out["blank_lines"] = [[k, line] for k, line in inside]
    return out


def test_a_csvs_text_layout_is_found_without_copying_the_text():
    """``_text_layout`` (byte-order mark, CRLF, trailing blank lines, blank lines among the rows, no last line end)
    over random texts of line ends, spaces and a few cells, and texts longer than the 4096 characters its end is
    looked for in: what the whole-text reference finds."""
    rng = random.Random(7)
    pieces = ["1,2", "a", " ", "\t", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\ufeff", "", "x\u2028y", "  \n"]
    for case in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        if case % 10 == 0:  # (long: a tail of 4096 characters that may be all line ends)
            text = rng.choice(["", "\ufeff"]) + "1,2\n" * rng.randint(1000, 1100) + rng.choice(["", "\n" * 5000,
                                                                                                   "\r\n" * 3000])
        assert arrays._text_layout(text) == _whole_text_layout(text), repr(text[:80])


def test_a_columns_places_are_the_same_weighed_in_blocks_of_any_size(monkeypatch):
    """``column_places`` in blocks of 1, 3 and 7 values gives what one block of the whole column gives, for columns of
    decimals, binary fractions, float32 values and values too large for their decimals."""
    from sancodec.io import decimals

    rng = np.random.default_rng(11)
    for case in range(300):
        n = int(rng.integers(1, 40))
        x = np.round(rng.normal(0, 10 ** rng.integers(0, 6), (n, 3)), int(rng.integers(0, 10)))
        x[:, 1] = rng.integers(-5, 5, n) / 8.0  # binary fractions
        if case % 3 == 0:
            x[rng.integers(0, n), 2] = 1e15 + 0.5  # too large for any decimals
        if case % 5 == 0:
            x = x.astype(np.float32)
        whole = decimals.column_places(x)
        for block in (1, 3, 7):
            monkeypatch.setattr(decimals, "PLACES_BLOCK", block)
            assert decimals.column_places(x) == whole
        monkeypatch.undo()
