"""CSV output is made and written a block of rows at a time (``io.csv_writer``): whatever the layout, the file is
the one a single block (the whole text at once) gives, the choices that look at every row included."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, Signal, read_signal, write_signal
from sancodec.cli import app
from sancodec.io import csv_writer

runner = CliRunner()

TEXTS = {
    "plain": "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n",
    "decimals": "ECG,RESP\n0.145,1.5\n-0.2,2.25\n0.3,3\n0.5,-1.75\n1,0\n",
    "padded places": "x\n0.1450\n0.2500\n-0.3000\n0.4000\n0.5550\n",
    "trimmed": "x,y\n1.5,2.25\n3,4.125\n-1.5,2\n0.5,1\n7,8.5\n",
    "seconds": "time,ECG\n0.000,1\n0.004,2\n0.008,3\n0.012,4\n0.016,5\n0.020,6\n",
    "units row": "'Elapsed time','MLII','V5'\n'seconds','mV','mV'\n0.000,-0.145,-0.065\n0.003,-0.145,-0.065\n"
                 "0.006,-0.145,-0.065\n0.008,-0.120,-0.080\n0.011,-0.135,0.080\n",
    "clock": "'Elapsed time','MLII'\n'hh:mm:ss.mmm','mV'\n'0:00.000',-0.145\n'0:00.003',-0.145\n'0:00.006',-0.145\n"
             "'0:00.008',-0.120\n'0:00.011',-0.135\n",
    "iso": "timestamp,ppg\n2024-03-01T10:00:00.000,5\n2024-03-01T10:00:00.040,6\n2024-03-01T10:00:00.080,7\n"
           "2024-03-01T10:00:00.120,8\n2024-03-01T10:00:00.160,9\n",
    "semicolons": "zeit;a;b\n0,000;1,5;2\n0,010;1,25;3\n0,020;-1;4\n0,030;0,5;5\n0,040;2;6\n",
    "tabs": "a\tb\n1\t2\n3\t4\n5\t6\n7\t8\n",
    "gaps": "a,b\n1,\n2,3\n,4\n5,6\n7,\n",
    "dash gaps": "a,b\n1,-\n2,3\n-,4\n5,6\n",
    "last cells gaps": "a,b\n1.5,\n2.5,\n3.5,\n4.5,\n",
    "quoted": 'a,b\n"1","2"\n"3","4"\n"5","6"\n"7","8"\n',
    "closed": "a,b,\n1,2,\n3,4,\n5,6,\n7,8,\n",
    "headerless": "1,2\n3,4\n5,6\n7,8\n",
    "aligned": "     a     b\n   1.5     2\n  -2.5    30\n   3.5  -400\n     4     5\n",
    "spaced": "a, b\n1, 2\n3, 4\n5, 6\n7, 8\n",
    "comments": "# recorded 2024\n# by a device\na,b\n1,2\n3,4\n5,6\n7,8\n# end of data\n",
    "sep line": "sep=;\na;b\n1;2\n3;4\n5;6\n",
    "bom crlf": "\ufeffa,b\r\n1,2\r\n3,4\r\n5,6\r\n7,8\r\n",
    "unended": "a,b\n1,2\n3,4\n5,6\n7,8",
    "blank lines": "a,b\n\n1,2\n3,4\n\n5,6\n7,8\n9,10\n\n11,12\n",
    "trailing blanks": "a,b\n1,2\n3,4\n5,6\n\n\n",
    "pandas index": ",a,b\n0,1.5,2\n1,2.5,3\n2,3.5,4\n3,4.5,5\n",
    "python floats": "a,b\n0.195,0\n0.39,1\n0.585,2\n0.78,3\n0.9750000000000001,4\n",  # (pandas' counts times 0.195)
    "exponents": "a\n1.000000000000000000e+00\n2.500000000000000000e+00\n-3.000000000000000000e+00\n",
    "negative zeros": "a,b\n-0.0,1\n0.0,2\n-0.0,3\n1.5,-0.0\n0.0,0.0\n",
}
BLOCKS = (1, 2, 3, 7)


def _csv_bytes(signal: Signal, path: Path, rows: int, monkeypatch: pytest.MonkeyPatch, **options) -> bytes:
    """``signal`` written as CSV at ``path`` with ``rows`` rows to a block; the file's bytes."""
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", rows)
    write_signal(signal, path, **options)
    return path.read_bytes()


def _same_in_blocks(signal: Signal, folder: Path, monkeypatch: pytest.MonkeyPatch, suffix: str = ".csv",
                    **options) -> bytes:
    """The CSV of ``signal`` in one block, checked to be the same in blocks of each of :data:`BLOCKS` rows."""
    whole = _csv_bytes(signal, folder / f"whole{suffix}", 1 << 30, monkeypatch, **options)
    for rows in BLOCKS:
        assert _csv_bytes(signal, folder / f"blocks{suffix}", rows, monkeypatch, **options) == whole, rows
    return whole


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_each_csv_layout_is_written_the_same_a_few_rows_at_a_time(tmp_path, monkeypatch, name):
    """A CSV source read and decoded, written back in blocks of 1 to 7 rows, gives the file one block gives, which
    reads back as the source's values (``.tsv`` and ``.txt`` outputs of it in blocks as in one)."""
    path = tmp_path / "source.csv"
    path.write_bytes(TEXTS[name].encode())
    timed = any(word in TEXTS[name].lower() for word in ("time", "elapsed", "zeit"))
    signal = read_signal(path, fs=None if timed else 250.0)
    back = sancodec.decode(sancodec.encode(signal))
    _same_in_blocks(back, tmp_path, monkeypatch)
    again = read_signal(tmp_path / "blocks.csv", fs=signal.fs)
    assert np.array_equal(again.physical(), signal.physical(), equal_nan=True)
    _same_in_blocks(back, tmp_path, monkeypatch, ".tsv")
    _same_in_blocks(back, tmp_path, monkeypatch, ".txt")


def test_non_csv_sources_and_lossy_floats_are_written_the_same_in_blocks(tmp_path, monkeypatch):
    """Integers of a WFDB-like source, float32 and float64 samples, a lossy float file's grid places, and the
    physical table ``decode --physical`` writes (gaps among the values): the same file in blocks as in one."""
    rng = np.random.default_rng(5)
    digital = Signal(rng.integers(-2000, 2000, (40, 3)).astype(np.int16), 360.0, ["MLII", "V5", "time"],
                     ["mV"] * 3, adc_gain=[200.0, 86.0, 1.0], baseline=[0, 3, 0], fmt=["212", "212", "16"])
    _same_in_blocks(digital, tmp_path, monkeypatch)
    timed = Signal(digital.samples, 360.0, ["time", "MLII", "V5"])  # (a first channel named as times: a time column)
    _same_in_blocks(timed, tmp_path, monkeypatch)
    _same_in_blocks(Signal(rng.normal(size=(30, 2)).astype(np.float32), 100.0), tmp_path, monkeypatch)
    floats = Signal(rng.normal(size=(30, 2)), 100.0)
    _same_in_blocks(floats, tmp_path, monkeypatch)
    _same_in_blocks(floats, tmp_path, monkeypatch, quantum=[0.001, 0.25])
    gapped = digital.samples.copy()
    gapped[::7, 1] = -32768  # (format 212's invalid sample: a gap)
    with_gaps = Signal(gapped, 360.0, ["MLII", "V5", "x"], ["mV"] * 3, adc_gain=[200.0, 86.0, 1.0], baseline=[0, 3, 0],
                       fmt=["16", "16", "16"])
    from sancodec.io.arrays import physical_signal

    table = physical_signal(with_gaps)
    assert b"-" in _same_in_blocks(table, tmp_path, monkeypatch)


def _passes(monkeypatch: pytest.MonkeyPatch) -> list[csv_writer.Choices]:
    """The choices of every pass ``io.csv_writer`` makes from now on, in order."""
    made: list[csv_writer.Choices] = []
    start = csv_writer._Pass.__init__

    def counted(self, signal, quantum, tabs, spaces, choices, whole):
        made.append(choices)
        start(self, signal, quantum, tabs, spaces, choices, whole)

    monkeypatch.setattr(csv_writer._Pass, "__init__", counted)
    return made


def _refuted(signal: Signal, folder: Path, monkeypatch: pytest.MonkeyPatch, rows: int) -> csv_writer.Choices:
    """The choices the last pass over ``signal`` in blocks of ``rows`` had, its file checked to be the one a single
    block gives, which made them without a second pass."""
    whole = _csv_bytes(signal, folder / "whole.csv", 1 << 30, monkeypatch)
    made = _passes(monkeypatch)
    assert _csv_bytes(signal, folder / "blocks.csv", rows, monkeypatch) == whole
    assert len(made) > 1  # a later block refuted what the first ones held
    return made[-1]


def test_a_column_printed_at_its_places_until_a_later_value_cannot_be_is_printed_as_one_block_prints_it(
        tmp_path, monkeypatch):
    """A decimal column its source printed at 4 places where 3 would do: where a value past 2^52 / 10^4 comes late,
    no value is padded (the whole text's choice), and the file is written again from the start."""
    x = np.array([[145], [250], [-300], [400], [555], [451_000_000_000_000]], dtype=np.int64)
    signal = Signal(x, 1.0, ["x"], ["mV"], adc_gain=[1000.0], baseline=[0],
                    source={"kind": "csv", "decimals": [3], "printed_places": [4]})
    assert _refuted(signal, tmp_path, monkeypatch, 2).inexact == {0}
    assert (tmp_path / "blocks.csv").read_text().splitlines()[1] == "0.145"


def test_clock_times_that_a_later_row_passes_are_seconds_as_one_block_writes_them(tmp_path, monkeypatch):
    """Elapsed clock times at a rate so slow that the fifth row's is past 10^9 hours: every time is written in
    seconds, as the whole text writes them."""
    signal = Signal(np.arange(6, dtype=np.int16)[:, None], 1e-12, ["ECG"],
                    source={"kind": "csv", "time_column": "time", "time_start": 0.0, "time_clock": True})
    assert _refuted(signal, tmp_path, monkeypatch, 2).times == csv_writer.SECONDS


def test_times_known_in_nanoseconds_until_a_later_row_are_rebuilt_from_the_rate_as_one_block_does(
        tmp_path, monkeypatch):
    """A time column's step of 10^15 ns: its rows past 2^62 ns from the first are not known in whole nanoseconds, so
    none is (the clock times rebuilt from the rate), in blocks as in one."""
    signal = Signal(np.zeros((4700, 1), np.int16), 1e-6, ["ECG"],
                    source={"kind": "csv", "time_column": "time", "time_start": 0.0, "time_clock": True,
                            "time_step_ns": 10**15})
    assert _refuted(signal, tmp_path, monkeypatch, 1000).no_ns


def test_gaps_closing_the_first_rows_but_not_a_later_one_are_written_as_one_block_writes_them(tmp_path, monkeypatch):
    """Every row's last cell an empty gap is written NaN (else the table reads as rows closed by a delimiter); where
    a later row's is a value, none is, as the whole text has it."""
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,\n2,\n3,\n4,\n5,6\n")
    signal = read_signal(path, fs=10.0)
    assert _refuted(signal, tmp_path, monkeypatch, 2).gaps_open
    assert (tmp_path / "blocks.csv").read_text() == "a,b\n1,\n2,\n3,\n4,\n5,6\n"


def test_an_aligned_table_whose_later_row_outgrows_its_widths_is_single_spaced_as_one_block_writes_it(
        tmp_path, monkeypatch):
    """A table aligned by runs of spaces is realigned only where every row fits its widths: a decoded value wider
    than its column, late, makes the whole table single-spaced (a mixed one would read another way)."""
    path = tmp_path / "aligned.txt"
    path.write_text("     a     b\n   1.5     2\n  -2.5    30\n   3.5  -400\n     4     5\n     6     7\n")
    signal = read_signal(path, fs=10.0)
    wide = Signal(np.vstack([signal.samples, [[10**7, 1]]]), signal.fs, signal.channel_names, signal.units,
                  adc_gain=signal.adc_gain, baseline=signal.baseline, source=signal.source)
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 1 << 30)
    write_signal(wide, tmp_path / "whole.txt")
    made = _passes(monkeypatch)
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 2)
    write_signal(wide, tmp_path / "blocks.txt")
    assert (tmp_path / "blocks.txt").read_bytes() == (tmp_path / "whole.txt").read_bytes()
    assert made[-1].unaligned and len(made) > 1
    assert "  " not in (tmp_path / "blocks.txt").read_text().splitlines()[1]


def _random_text(rng: random.Random) -> str:
    """A CSV of 1 to 40 rows in one of the layouts :data:`TEXTS` shows, mixed at random."""
    columns, delimiter = rng.randint(1, 3), rng.choice([",", ";", "\t"])
    comma = delimiter != "," and rng.random() < 0.5
    lines = [f"# note {k}" for k in range(rng.choice([0, 0, 1]))]
    timed, clock = rng.random() < 0.4, rng.random() < 0.3
    quoted, closed = rng.random() < 0.1, rng.random() < 0.1
    width = rng.choice([0, 0, 0, 9]) if not quoted and not closed else 0  # (a table aligned by runs of spaces)
    names = (["time"] if timed else []) + [rng.choice(["a", "ECG", "x y", '"p,q"']) + str(k) for k in range(columns)]
    units = (["hh:mm:ss.mmm" if clock else "s"] if timed else []) + ["mV"] * columns
    if rng.random() < 0.8:
        lines.append(delimiter.join(names) if not width else "".join(n.rjust(width) for n in names))
        if rng.random() < 0.2 and not width:
            lines.append(delimiter.join(units))
    places = rng.randint(0, 3)
    for row in range(rng.randint(1, 40)):
        cells = [(f"0:{row * 0.004:06.3f}" if clock else f"{row * 0.004:.3f}")] if timed else []
        cells += ["" if rng.random() < 0.05 and not width else f"{rng.randint(-999, 999) / 10**places:.{places}f}"
                  for _ in range(columns)]
        cells = [c.replace(".", ",") if comma and not width else c for c in cells]
        if width:
            lines.append("".join(c.rjust(width) for c in cells))
        else:
            lines.append(delimiter.join(f'"{c}"' if quoted else c for c in cells) + (delimiter if closed else ""))
        if rng.random() < 0.03:
            lines.append("")
    if rng.random() < 0.2:
        lines.append("# footer")
    text = "\n".join(lines) + ("" if rng.random() < 0.2 else "\n")
    return ("\ufeff" if rng.random() < 0.1 else "") + (text.replace("\n", "\r\n") if rng.random() < 0.2 else text)


@pytest.mark.parametrize("seed", range(6))
def test_random_csv_texts_are_written_the_same_in_blocks_as_in_one(tmp_path, monkeypatch, seed):
    """Random CSVs of the layouts above, read (or refused) and decoded: written back in blocks of 1 to 7 rows as in
    one."""
    rng = random.Random(seed)
    written = 0
    for _ in range(40):
        path = tmp_path / "source.csv"
        path.write_bytes(_random_text(rng).encode())
        try:
            signal = sancodec.decode(sancodec.encode(read_signal(path, fs=None if rng.random() < 0.5 else 50.0)))
        except SancodecError:
            continue
        _same_in_blocks(signal, tmp_path, monkeypatch)
        written += 1
    assert written > 12


@pytest.mark.parametrize("source", ["wfdb", "csv"])
def test_decode_to_csv_goes_through_a_file_mapped_array_and_writes_what_decoding_in_memory_writes(
        tmp_path, monkeypatch, source):
    """``decode -o x.csv`` decodes into an array mapped from a temporary file beside the output
    (``decoded_on_disk``, as for EDF, WAV and ``.npy``; a CSV source's decimals as their integers), which the CSV
    writer takes a block of rows at a time: the same file as decoding whole in memory and writing that, the record
    never decoded whole, and no temporary file left behind."""
    from sancodec.cli import codec_commands

    mapped = codec_commands.decoded_on_disk
    used: list[bool] = []
    monkeypatch.setattr(codec_commands, "decoded_on_disk", lambda *a: used.append(True) or mapped(*a))
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 1000)
    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 5000)
    if source == "csv":
        write_signal(record.slice(0, 5000), tmp_path / "rec.csv")
        record = read_signal(tmp_path / "rec.csv", fs=record.fs)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(record))
    out = tmp_path / "out"
    out.mkdir()
    from common import decode_mapped

    decode_mapped(monkeypatch, [str(san), "-o", str(out / "back.csv"), "-q"])
    write_signal(sancodec.decode(san.read_bytes()), tmp_path / "memory.csv")
    assert (out / "back.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["back.csv"]
    assert used == [True]


def test_lying_headers_on_the_csv_decode_paths_are_one_error_or_a_file_and_an_existing_csv_is_kept(tmp_path):
    """A .san of a CSV source whose CRCs pass but whose signal entry lies (decimals of another count or out of range,
    gains that do not match them, negative zeros, missing values, time column, printed places, blank lines and
    widths out of shape) decoded to CSV through the file-mapped array and the block writer, and by batch --decode:
    each writes a file or is refused in one line, never a traceback. Without --force an existing CSV is kept."""
    import copy

    from common import rewrap

    from sancodec import batch
    from sancodec.codec.container import SanReader

    path = tmp_path / "c.csv"
    path.write_text("time,a,b\n" + "".join(f"{k / 250:.3f},{(k % 7) / 100:.2f},{-(k % 5)}\n" for k in range(3000)))
    good = sancodec.encode(read_signal(path))
    header = SanReader(good).header
    lies = {
        "decimals count": lambda s: s["source"].update(decimals=[2]),
        "decimals range": lambda s: s["source"].update(decimals=[40, -1]),
        "gains": lambda s: s.update(adc_gain=[1e300, 0.0]),
        "negative zeros": lambda s: s["source"].update(negative_zeros=[[[5, 10**12]], "x"]),
        "missing": lambda s: s["source"].update(missing={"value": -32768, "text": "\n"}),
        "time": lambda s: s["source"].update(time_column=7, time_start=1e308, time_clock=True, time_decimals=99),
        "places": lambda s: s["source"].update(printed_places=[10**9, "x"], value_decimals=[[]]),
        "blank lines": lambda s: s["source"].update(blank_lines=[[10**15, " "], [3, "x"]], unterminated=True),
        "widths": lambda s: s["source"].update(aligned=[1, 2, 3, 4], delimiter=" ", headerless=True),
    }
    for k, (what, lie) in enumerate(lies.items()):
        changed = copy.deepcopy(header)
        lie(changed["signal"])
        bad = tmp_path / f"{k}.san"
        bad.write_bytes(rewrap(good, changed))
        res = runner.invoke(app, ["decode", str(bad), "-o", str(tmp_path / f"{k}.csv"), "--force"])
        assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output, (what, res.output)
        assert "unexpected error" not in res.output, (what, res.output)
        assert res.exit_code == 0 or res.stderr.count("\n") == 1, (what, res.output)
        row = batch._decode_one((str(bad), str(tmp_path / "out" / f"{k}.csv"), {}, False))
        assert row["status"] in ("decoded", "failed"), (what, row)
    san = tmp_path / "good.san"
    san.write_bytes(good)
    (tmp_path / "kept.csv").write_text("mine\n")
    res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "kept.csv")])
    assert res.exit_code == 2 and "--force" in res.stderr
    assert (tmp_path / "kept.csv").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # (no mapped array left)


def test_each_blocks_text_is_let_go_before_the_next_is_made(tmp_path, monkeypatch):
    """A float CSV's memory is bounded by a block of rows, with the garbage collector idle too: numpy.savetxt wraps
    the block's text buffer in a class made per call (a reference cycle), which kept every block's text alive until
    the collector ran (80 MB of a 2 h float CSV's, benchmarks/bench_edf_memory.py --physical --gain 3.2768)."""
    import gc

    from common import traced_peak

    monkeypatch.setattr(csv_writer, "BLOCK_VALUES", 1 << 12)
    signal = Signal(np.random.default_rng(0).normal(size=(50_000, 4)), 250.0)  # (%.17g: about 4 MB of text)
    gc.collect()
    gc.disable()
    try:
        peak = traced_peak(lambda: write_signal(signal, tmp_path / "floats.csv"))
    finally:
        gc.enable()
    text = (tmp_path / "floats.csv").stat().st_size
    assert text > 4_000_000
    assert peak < text / 2, (peak, text)
