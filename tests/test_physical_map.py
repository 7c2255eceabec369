"""``decode --physical`` to CSV and ``.npy`` a block of rows at a time (``io.physical_map``, ``io.blockwise_places``):
the signal, the ``.npy`` array and the CSV bytes are those ``io.arrays.physical_signal`` gives when it makes the
values whole, for every kind of record it tells apart (decimals, decimals with gaps, gains that make no decimals,
gaps among those, gaps with no value left to mark them, negative zeros, values that overflow), in blocks of a few
values, so that the choices that look at every row are made across blocks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from common import decode_in_memory, decode_mapped
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, Signal, read_signal, write_signal
from sancodec.cli import app
from sancodec.io import csv_writer, physical_map
from sancodec.io.arrays import PhysicalTable, as_source_array, physical_signal
from sancodec.io.blockwise_places import PRESENT, WHOLE, blockwise_column_places
from sancodec.io.decimals import column_places, negative_zero_runs

runner = CliRunner()


def _bits(x: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    """An array as its dtype, shape and bytes: equal only where every value is the same float (NaN, -0.0)."""
    x = np.ascontiguousarray(x)
    return x.dtype.str, x.shape, x.tobytes()


def _record(rng: np.random.Generator, kind: str) -> Signal:
    """A digital record of ``kind`` (what ``physical_signal`` tells apart), a few dozen rows."""
    n, c = int(rng.integers(1, 50)), int(rng.integers(1, 4))
    x = rng.integers(-3000, 3000, (n, c))
    x[: n // 2] = x[: n // 2] // 10 * 10  # (the first rows need fewer places than the rest: a later block asks more)
    gains = [float(rng.choice([1, 10, 200, 86, 0.5, 1000, 3.3, 0.125, 25.6, -200.0])) for _ in range(c)]
    baselines = [int(rng.integers(-5, 5)) for _ in range(c)]
    fmt, source = None, None
    if kind == "wfdb gaps":  # WFDB's invalid samples: NaN in physical units
        fmt = [str(rng.choice(["16", "212"]))] * c
        x = np.clip(x, -2047, 2047)
        x[rng.random((n, c)) < 0.2] = -32768 if fmt[0] == "16" else -2048
    elif kind == "wide gaps":  # format 32's, beside samples too wide for a value to mark a gap with
        fmt = ["32"] * c
        x = x * int(rng.choice([1, 2**20, 2**30]))
        x[rng.random((n, c)) < 0.2] = -(1 << 31)
        if rng.random() < 0.5:
            x[0, 0] = 2**40
        gains = [float(rng.choice([1, 86, 10])) for _ in range(c)]
    elif kind in ("decimals", "decimals with gaps"):  # a CSV source's decimals, -0.0 cells and perhaps gaps
        places = [int(rng.integers(0, 4)) for _ in range(c)]
        gains, baselines = [float(10**d) for d in places], [0] * c
        x[rng.random((n, c)) < 0.3] = 0
        source = {"kind": "csv", "decimals": places}
        if kind == "decimals with gaps":
            x[rng.random((n, c)) < 0.2] = -(1 << 15)
            source["missing"] = {"value": -(1 << 15), "text": str(rng.choice(["", "-", "NaN"]))}
        runs = negative_zero_runs(np.where((x == 0) & (rng.random((n, c)) < 0.5), -0.0, 1.0))
        if runs is not None:
            source["negative_zeros"] = runs
    elif kind == "negative gains":  # zeros over a negative gain: -0.0
        x[rng.random((n, c)) < 0.5] = 0
        gains = [-abs(g) for g in gains]
    elif kind == "overflow":  # gains so small the values are infinite: refused both ways
        gains = [float(rng.choice([1e-310, 1e-300, 1])) for _ in range(c)]
    return Signal(x.astype(np.int64), 250.0, [f"c{k}" for k in range(c)], ["mV"] * c, adc_gain=gains,
                  baseline=baselines, fmt=fmt, source=source)


KINDS = ("plain", "wfdb gaps", "wide gaps", "decimals", "decimals with gaps", "negative gains", "overflow")


@pytest.mark.parametrize("kind", KINDS)
def test_physical_values_made_in_blocks_are_those_made_whole(tmp_path, monkeypatch, kind):
    """For 40 random records of each kind, in blocks of 7 values (the writer's of 2 rows): the signal
    ``physical_on_disk`` makes is ``physical_signal``'s (its class, samples to the bit, every field), the ``.npy``
    array is ``as_source_array``'s, the CSV the same bytes; or both refuse it."""
    monkeypatch.setattr(physical_map, "BLOCK_VALUES", 7)
    monkeypatch.setattr(csv_writer, "BLOCK_VALUES", 5)
    rng = np.random.default_rng(abs(hash(kind)) % 2**32)
    made_kinds = set()
    for k in range(40):
        record = _record(rng, kind)
        start = int(rng.integers(0, 100))
        folder = tmp_path / str(k)
        folder.mkdir()
        try:
            whole = physical_signal(record, start)
        except SancodecError as exc:
            with pytest.raises(type(exc), match=re.escape(str(exc))):
                physical_map.physical_on_disk(record, start, folder)
            made_kinds.add("refused")
            continue
        made = physical_map.physical_on_disk(record, start, folder)
        assert type(made) is type(whole), k
        assert _bits(made.samples) == _bits(whole.samples), k
        for field in dataclasses.fields(Signal):
            if field.name != "samples":
                assert getattr(made, field.name) == getattr(whole, field.name), (k, field.name)
        assert _bits(physical_map.source_values_on_disk(made, folder)) == _bits(as_source_array(whole)), k
        write_signal(whole, folder / "whole.csv")
        write_signal(made, folder / "blocks.csv")
        assert (folder / "whole.csv").read_bytes() == (folder / "blocks.csv").read_bytes(), k
        made_kinds.add(type(made).__name__ + (" of decimals" if "decimals" in (made.source or {}) else ""))
    expected = {"plain": {"Signal", "Signal of decimals"}, "wfdb gaps": {"Signal of decimals", "PhysicalTable"},
                "decimals": {"Signal of decimals"}, "decimals with gaps": {"Signal of decimals"},
                "overflow": {"refused"}}
    assert expected.get(kind, set()) <= made_kinds, made_kinds
    if kind == "wide gaps":  # (gaps with no value left to mark them: scaled as the other samples, floats)
        assert "Signal" in made_kinds and "PhysicalTable" in made_kinds


def test_blockwise_places_are_the_whole_columns_places(monkeypatch):
    """``blockwise_column_places`` gives ``column_places`` of the whole (and of each column's values that are not
    NaN), in blocks of 1 to 5 rows, for columns whose first rows need fewer places than later ones (another pass),
    binary fractions, huge values, infinities, NaN, float32, and columns of NaN alone."""
    rng = np.random.default_rng(7)
    for k in range(300):
        n, c = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        places = rng.integers(0, 5, c)
        x = np.rint(rng.normal(0, 1000, (n, c))) / 10.0**places
        head = int(rng.integers(0, n + 1))
        x[:head] = np.rint(x[:head])  # (whole numbers first: a later block asks for more places)
        if rng.random() < 0.2:
            x[rng.integers(0, n), rng.integers(0, c)] = rng.choice([np.pi, 1e300, np.inf, 2.0**60, -0.0])
        nans = rng.random((n, c)) < (0.3 if rng.random() < 0.5 else 0.0)
        gapped = np.where(nans, np.nan, x)
        if rng.random() < 0.3:
            x, gapped = x.astype(np.float32), gapped.astype(np.float32)
        rows = int(rng.integers(1, 6))
        got = blockwise_column_places(lambda a, b, x=x: x[a:b], n, c, rows, WHOLE)
        assert got == column_places(x), (k, x)
        present = [(column_places(col[~np.isnan(col)][:, None]) or [None])[0] for col in gapped.T]
        assert blockwise_column_places(lambda a, b, g=gapped: g[a:b], n, c, rows, PRESENT) == present, (k, gapped)
        zeros = [0 if np.isnan(col).all() else p for col, p in zip(gapped.T, present)]
        assert blockwise_column_places(lambda a, b, g=gapped: g[a:b], n, c, rows, PRESENT, empty=0) == zeros, k


def test_a_later_block_that_needs_more_places_is_checked_against_the_earlier_ones():
    """Whole numbers first, then tenths: the first block settles 0 places, a later one asks for 1, and every block is
    tried again at 1 (a second pass over them, not just the rest)."""
    x = np.concatenate([np.arange(10.0), np.arange(10.0) + 0.5])[:, None]
    seen: list[tuple[int, int]] = []

    def values(a: int, b: int) -> np.ndarray:
        seen.append((a, b))
        return x[a:b]

    assert blockwise_column_places(values, 20, 1, 4, WHOLE) == [1]
    assert seen[:5] == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 20)] and seen[5:] == seen[:5]


def _san_of(tmp_path: Path, record: Signal, name: str = "rec") -> Path:
    san = tmp_path / f"{name}.san"
    san.write_bytes(sancodec.encode(record))
    return san


@pytest.mark.parametrize("fmt", ["csv", "npy"])
@pytest.mark.parametrize("record_kind", ["mitdb", "gaps", "edf", "decimal csv"])
def test_decode_physical_goes_through_file_mapped_arrays_and_writes_what_decoding_in_memory_writes(
        tmp_path, monkeypatch, fmt, record_kind):
    """``decode --physical`` to CSV and ``.npy`` decodes into an array mapped from a file and makes the physical
    values a block at a time into another: the same bytes as decoding whole (``--start 0``, which decodes in memory),
    the record never decoded whole, no temporary file left behind."""

    monkeypatch.setattr(physical_map, "BLOCK_VALUES", 999)
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 700)
    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 4000)
    if record_kind == "gaps":  # WFDB's invalid samples in format 212, a gain that makes no decimals
        samples = np.array(record.samples)
        samples[100:180, 0] = -2048
        samples[3000:3100, 1] = -2048
        record = dataclasses.replace(record, samples=samples, adc_gain=[86.0, 200.0])
    elif record_kind == "edf":
        write_signal(record, tmp_path / "rec.edf")
        record = read_signal(tmp_path / "rec.edf")
    elif record_kind == "decimal csv":
        (tmp_path / "rec.csv").write_text("time,a,b\n" + "".join(
            f"{k / 250:.3f},{(k % 7 - 3) / 100:.2f},{'' if k % 11 == 0 else -(k % 5) / 10}\n" for k in range(3000)))
        record = read_signal(tmp_path / "rec.csv")
    san = _san_of(tmp_path, record)
    out = tmp_path / "out"
    out.mkdir()
    decode_mapped(monkeypatch, [str(san), "-o", str(out / f"back.{fmt}"), "--physical", "-q"])
    decode_in_memory(monkeypatch, [str(san), "-o", str(tmp_path / f"memory.{fmt}"), "--physical", "-q"])
    assert (out / f"back.{fmt}").read_bytes() == (tmp_path / f"memory.{fmt}").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [f"back.{fmt}"]
    if record_kind == "gaps":
        values = np.load(out / "back.npy") if fmt == "npy" else None
        text = (out / "back.csv").read_text() if fmt == "csv" else ""
        assert (values is not None and np.isnan(values[100:180, 0]).all()) or ",-," in text


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_lying_headers_decoded_physical_are_one_error_or_a_file_and_an_existing_output_is_kept(tmp_path):
    """A .san whose CRCs pass but whose signal entry lies (gains of 0, 1e-310 and NaN-like strings, baselines past
    2^63, formats that make every sample a gap, decimals and missing values out of shape, negative zeros past the
    rows) decoded with --physical to CSV and .npy through the mapped arrays: each writes a file or is refused in one
    line, never a traceback nor numpy's warning (values that overflow a float are named); so too through the other
    mapped paths (a channel pick, a range, standard output). Without --force an existing output is kept."""
    import copy

    from common import rewrap

    from sancodec.codec.container import SanReader

    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 3000)
    good = sancodec.encode(record)
    header = SanReader(good).header
    lies = {
        "zero gains": lambda s: s.update(adc_gain=[0.0, 0.0]),
        "tiny gains": lambda s: s.update(adc_gain=[1e-310, -1e-310]),
        "string gains": lambda s: s.update(adc_gain=["nan", None]),
        "huge baselines": lambda s: s.update(baseline=[2**70, -(2**70)]),
        "every sample a gap": lambda s: s.update(fmt=["8", "80"]),
        "decimals": lambda s: s.update(source={"kind": "csv", "decimals": [3, 40], "missing": {"value": 5}}),
        "negative zeros": lambda s: s.update(adc_gain=[1000.0, 1.0], baseline=[0, 0], source={
            "kind": "csv", "decimals": [3, 0], "negative_zeros": [[0, 10**9], [2999, 1]]}),
    }
    for k, (what, lie) in enumerate(lies.items()):
        changed = copy.deepcopy(header)
        lie(changed["signal"])
        bad = tmp_path / f"{k}.san"
        bad.write_bytes(rewrap(good, changed))
        for fmt, options in [("csv", ["--physical"]), ("npy", ["--physical"]),  # (and the other mapped paths:
                             ("npy", ["--channels", "1,0", "--start", "10", "--end", "2000"]),  # a pick and a range,
                             ("csv", ["--channels", "V5", "--physical", "--start", "7"]),  # standard output)
                             ("-", ["--physical", "--channels", "0"])]:
            target = "-" if fmt == "-" else str(tmp_path / f"{k}.{fmt}")
            res = runner.invoke(app, ["decode", str(bad), "-o", target, *options, *(["--force"] if fmt != "-" else [])])
            assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output, (what, fmt, options, res.output)
            assert "unexpected error" not in res.output, (what, fmt, options, res.output)
            assert res.exit_code == 0 or res.stderr.count("\n") == 1, (what, fmt, options, res.output)
            if what == "tiny gains" and "--physical" in options:
                assert res.exit_code == 1 and re.search(r"overflow a float \(gain -?1e-310\)", res.stderr), res.output
    san = tmp_path / "good.san"
    san.write_bytes(good)
    for fmt, options in [("csv", ["--physical"]), ("npy", ["--physical"]), ("edf", ["--start", "10"]),
                         ("wav", ["--channels", "V5", "--end", "900"])]:
        (tmp_path / f"kept.{fmt}").write_text("mine\n")
        res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / f"kept.{fmt}"), *options])
        assert res.exit_code == 2 and "--force" in res.stderr
        assert (tmp_path / f"kept.{fmt}").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # (no mapped array left)


def test_physical_table_columns_in_the_writer_are_weighed_a_block_at_a_time(tmp_path, monkeypatch):
    """A :class:`PhysicalTable` (gaps among values that are no decimals) is printed with each column's places of its
    values present found block by block: the same CSV in blocks of 1, 2 and 3 rows as in one."""
    samples = np.array([[10, -32768], [20, 5], [-32768, 6], [40, 7], [50, -32768]], dtype=np.int64)
    table = PhysicalTable(samples, 100.0, ["a", "b"], ["mV", "mV"], adc_gain=[10.0, 86.0], baseline=[0, 0],
                          source={"kind": "csv", "time_column": "time [s]", "time_start": 0.0, "units_row": True,
                                  "missing": {"value": -32768, "text": "-"}})
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 1 << 30)
    write_signal(table, tmp_path / "one.csv")
    for rows in (1, 2, 3):
        monkeypatch.setattr(csv_writer, "BLOCK_ROWS", rows)
        write_signal(table, tmp_path / "blocks.csv")
        assert (tmp_path / "blocks.csv").read_bytes() == (tmp_path / "one.csv").read_bytes(), rows
    assert (tmp_path / "one.csv").read_text().splitlines()[2:4] == ["0,1,-", "0.01,2,0.058139534883720929"]
