"""Decimal samples (a CSV's ``0.0617``) coded losslessly as integers with a gain of 10^d (``io.decimals``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.cli.app import app
from sancodec.codec.container import SanReader
from sancodec.io.decimals import (
    MAX_DECIMALS,
    column_places,
    decimal_places,
    decimal_values,
    header_decimals,
    on_decimal_grid,
)

runner = CliRunner()


def _csv(rows: np.ndarray, places: list[int], rate: float = 250.0) -> str:
    """A CSV as a device exports one: a time column with 3 decimals, then each column at its decimals."""
    lines = [",".join(["time", *"ab"[: rows.shape[1]]])]
    for i, row in enumerate(rows):
        lines.append(",".join([f"{i / rate:.3f}", *(f"{v / 10**d:.{d}f}" for v, d in zip(row, places))]))
    return "\n".join(lines) + "\n"


def test_the_fewest_decimals_that_hold_every_value_exactly():
    x = np.array([[0.5, 12.0, 0.0617, 0.1], [-1.25, 3.0, 1.0, 0.7]])
    assert decimal_places(x) == [2, 0, 4, 1]
    assert decimal_places(np.array([[1 / 3]])) is None  # no decimal of at most 9 places is that double
    assert decimal_places(np.array([[2.0**-20]])) is None  # a binary fraction: 20 decimals
    assert decimal_places(np.array([[1e14 + 0.5]])) is None  # 0.5 at 10^14: past 2^49 units at 1 decimal
    assert decimal_places(np.array([[np.nan]])) is None and decimal_places(np.array([[1.5]], np.float16)) is None
    assert decimal_places(np.array([[1.5, 0.1]], np.float32)) == [1, 1]  # float32(0.1): the float32 of 1 / 10


@settings(max_examples=40, deadline=None)
@given(st.integers(0, MAX_DECIMALS), st.integers(0, MAX_DECIMALS),
       st.lists(st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6)), min_size=2, max_size=300))
def test_decimal_csv_round_trips_exactly_through_a_lossless_file(tmp_path_factory, da, db, values):
    """Any CSV of decimals (each column at its own places, up to 9) codes losslessly and decodes to the same
    doubles; its CSV comes back with each column's decimals, the time column as it was printed."""
    tmp = tmp_path_factory.mktemp("dec")
    rows = np.array(values, dtype=np.int64)
    text = _csv(rows, [da, db])
    (tmp / "a.csv").write_text(text)
    source = read_signal(tmp / "a.csv")
    data = sancodec.encode(source, mode="lossless")
    back = sancodec.decode(data)
    if source.is_digital:  # whole numbers only: read as integers, coded as before (no gain, no decimals)
        assert decimal_values(back) is None and np.array_equal(back.samples, source.samples)
        places = [0, 0]
    else:
        decoded, places = decimal_values(back)
        assert np.array_equal(decoded, source.samples) and places == decimal_places(source.samples)
    sancodec.write_signal(back, tmp / "b.csv")
    parsed = read_signal(tmp / "b.csv")
    assert np.array_equal(parsed.samples, source.samples)
    if places == [da, db]:  # (each column is written at the fewest places that hold it: all the given ones here)
        assert (tmp / "b.csv").read_text() == text


def test_the_cli_codes_a_decimal_csv_losslessly_and_compares_like_with_like(tmp_path):
    """``sancodec encode a.csv`` (lossless, the default) used to refuse decimals as floating point. Now the file
    decodes to the same CSV text, ``--channels`` keeps each column's decimals, ``.npy`` gives the doubles back,
    and ``report`` compares the integers (the baselines too: the same integers, not 64-bit floats)."""
    rng = np.random.default_rng(7)
    rows = np.cumsum(rng.integers(-30, 31, size=(3000, 2)), axis=0)
    text = _csv(rows, [4, 2])
    (tmp_path / "a.csv").write_text(text)
    res = runner.invoke(app, ["encode", str(tmp_path / "a.csv"), "-o", str(tmp_path / "a.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert SanReader((tmp_path / "a.san").read_bytes()).header["signal"]["adc_gain"] == [1e4, 1e2]
    info = runner.invoke(app, ["info", str(tmp_path / "a.san")]).stdout
    assert "a [NU], format -, 4 decimals" in info and "b [NU], format -, 2 decimals" in info
    assert runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "b.csv"), "-q"]).exit_code == 0
    assert (tmp_path / "b.csv").read_text() == text
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "c.csv"), "--channels", "1",
                              "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c.csv").read_text().splitlines()[1:3] == [f"{i / 250:.3f},{v / 100:.2f}"
                                                                   for i, v in enumerate(rows[:2, 1])]
    assert runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "d.npy"), "-q"]).exit_code == 0
    assert np.array_equal(np.load(tmp_path / "d.npy"), read_signal(tmp_path / "a.csv").samples)
    res = runner.invoke(app, ["report", str(tmp_path / "a.csv"), str(tmp_path / "a.san"), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["max_abs_error"] == 0 and rep["prdn"] == 0
    raw = [k for k in rep["baselines"] if k.startswith("raw")]
    assert raw == ["raw 16-bit"] and rep["baselines"]["raw 16-bit"] == 3000 * 2 * 2  # the integers, not float64


def test_floats_off_every_decimal_grid_are_still_refused_in_one_line(tmp_path):
    x = np.random.default_rng(1).normal(size=(500, 1))
    with pytest.raises(SancodecError, match="decimals of at most 9 places"):
        sancodec.encode(Signal(x, 100.0, ["x"], ["mV"]), mode="lossless")
    np.save(tmp_path / "f.npy", x)
    res = runner.invoke(app, ["encode", str(tmp_path / "f.npy"), "--fs", "100"])
    assert res.exit_code != 0 and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "f.san").exists()


def test_a_header_that_lies_about_decimals_writes_the_integers(tmp_path):
    """The decimals come from an untrusted header: they count only where they are whole places of 0-9, one per
    channel, matching gains of 10^d and zero baselines; anything else writes the integers, as before."""
    sig = on_decimal_grid(Signal(np.array([[0.25, 1.5], [0.75, 2.5]]), 10.0, ["a", "b"], ["NU", "NU"]))
    assert sig is not None and decimal_values(sig)[1] == [2, 1]
    lies = [[2], [2, 99], [2, "1"], [2, 1.0], [2, -1], "21", None]
    for decimals in lies:
        hostile = Signal(sig.samples, sig.fs, sig.channel_names, sig.units, adc_gain=sig.adc_gain,
                         baseline=sig.baseline, source={"kind": "csv", "decimals": decimals})
        assert decimal_values(hostile) is None
        sancodec.write_signal(hostile, tmp_path / "h.csv")
        assert (tmp_path / "h.csv").read_text().splitlines()[1] == "25,15"
    for head in ({}, {"source": sig.source}, {**sig.header_dict(), "adc_gain": None},
                 {**sig.header_dict(), "baseline": [0]}, {**sig.header_dict(), "channel_names": "ab"}):
        assert header_decimals(head) is None
    assert header_decimals(sig.header_dict()) == [2, 1]
    for gain, baseline in (([100.0, 100.0], [0, 0]), ([100.0, 10.0], [0, 1])):
        hostile = Signal(sig.samples, sig.fs, sig.channel_names, sig.units, adc_gain=gain, baseline=baseline,
                         source=sig.source)
        assert decimal_values(hostile) is None
    hostile_time = {"kind": "csv", "decimals": [2, 1], "time_column": "t", "time_start": 0.0}
    for places in (40, -1, "3", 2.0):
        sancodec.write_signal(Signal(sig.samples, sig.fs, sig.channel_names, sig.units, adc_gain=sig.adc_gain,
                                     baseline=sig.baseline, source={**hostile_time, "time_decimals": places}),
                              tmp_path / "t.csv")
        assert (tmp_path / "t.csv").read_text().splitlines()[1:] == ["0,0.25,1.5", "0.1,0.75,2.5"]


def test_a_float32_array_of_decimals_comes_back_as_the_same_float32(tmp_path):
    """A float32 ``.npy`` of decimals (millivolts at 3 places, whole numbers stored as floats) codes losslessly and
    decodes to the very float32 values; float32 noise, on no decimals, is held as its bits (format 1.18), float64
    noise refused as before."""
    rng = np.random.default_rng(3)
    x = np.column_stack([np.cumsum(rng.integers(-9, 10, 4000)) / 1000, rng.integers(-500, 500, 4000)])
    x = x.astype(np.float32)
    assert decimal_places(x) == [3, 0]
    np.save(tmp_path / "x.npy", x)
    assert runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "200", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "y.npy"), "-q"])
    assert res.exit_code == 0, res.output
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and np.array_equal(y, x)
    noise = rng.normal(size=(100_000, 1)).astype(np.float32)  # (300 of them lie on a step, their finest: floatgrid)
    assert decimal_places(noise) is None
    data = sancodec.encode(Signal(noise, 100.0, ["x"], ["mV"]), mode="lossless")
    assert sancodec.decode(data).samples.dtype == np.float32 and np.array_equal(sancodec.decode(data).samples, noise)
    with pytest.raises(SancodecError, match="decimals of at most 9 places"):
        sancodec.encode(Signal(noise.astype(np.float64) * np.pi, 100.0, ["x"], ["mV"]), mode="lossless")


def test_an_array_with_its_rate_codes_as_its_npy_file_does(tmp_path):
    """``sancodec.encode(x, fs=...)`` takes an array as ``read_signal`` takes a ``.npy`` of it (decimals found, its
    dtype and rank kept: the same source entry and samples, the record named "array"), and the file decodes to the
    same array."""
    x = (np.cumsum(np.random.default_rng(5).integers(-9, 10, 3000)) / 1000).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    from_file = sancodec.encode(read_signal(tmp_path / "x.npy", fs=200.0))
    from_array = sancodec.encode(x, fs=200)
    header = SanReader(from_array).header["signal"]
    assert header["source"] == SanReader(from_file).header["signal"]["source"] and header["record_name"] == "array"
    assert np.array_equal(sancodec.decode(from_array).samples, sancodec.decode(from_file).samples)
    (tmp_path / "x.san").write_bytes(from_array)
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "y.npy"), "-q"])
    assert res.exit_code == 0, res.output
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and y.shape == x.shape and np.array_equal(y, x)
    lossy = sancodec.decode(sancodec.encode(x, fs=200, mode="lossy", prdn=2))
    assert lossy.fs == 200.0 and lossy.n_samples == len(x) and lossy.channel_names == ["ch0"]


def test_a_san_whose_header_lies_about_decimals_decodes_to_its_integers(tmp_path):
    """A .san with valid CRCs whose header's decimals no longer match its gains (or are garbage) decodes, through
    the CLI and ``sancodec.open``, to its integers (in CSV and .npy), and ``info`` names no decimals: nothing of
    the lie is used."""
    from common import rewrap

    (tmp_path / "a.csv").write_text(_csv(np.array([[1, 20], [3, -40], [5, 60]]), [2, 1]))
    data = sancodec.encode(read_signal(tmp_path / "a.csv"))
    header = SanReader(data).header
    for lie in ([3, 1], [2], [2, 1.5], "21", [2, None], [2, 10]):
        header["signal"]["source"]["decimals"] = lie
        (tmp_path / "lie.san").write_bytes(rewrap(data, header=header))
        info = runner.invoke(app, ["info", str(tmp_path / "lie.san")])
        assert info.exit_code == 0 and "decimals" not in info.stdout
        for out in ("x.csv", "x.npy"):
            res = runner.invoke(app, ["decode", str(tmp_path / "lie.san"), "-o", str(tmp_path / out), "--force", "-q"])
            assert res.exit_code == 0, res.output
        assert (tmp_path / "x.csv").read_text().splitlines()[1:] == ["0.000,1,2", "0.004,3,-4", "0.008,5,6"]
        assert np.load(tmp_path / "x.npy").tolist() == [[1, 2], [3, -4], [5, 6]]
        with sancodec.open(tmp_path / "lie.san") as f:  # the streaming reader: its integers too
            assert f.dtype.kind == "i" and f.read().tolist() == [[1, 2], [3, -4], [5, 6]]


def test_decode_physical_writes_millivolts_that_code_back_losslessly(tmp_path, mitdb_100):
    """``decode --physical`` (wfdb's rdsamp -p): CSV and .npy in physical units, the CSV at each channel's decimals
    (mitdb's 200 units per mV: 3 places) after a time column from ``--start`` and a units row; that CSV codes back
    losslessly to the same millivolts, its units kept. WFDB and EDF, which hold the gains, refuse the option in one
    line."""
    source = read_signal(mitdb_100).slice(0, 3600)
    (tmp_path / "a.san").write_bytes(sancodec.encode(source))
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "p.csv"), "--physical",
                              "--start", "720", "--end", "1440", "--channels", "1,0", "-q"])
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[:2] == ["time [s],V5,MLII", "s,mV,mV"] and lines[2].split(",")[0] == "2"  # units, as rdsamp's
    assert all(len(v.split(".")[1]) == 3 for row in lines[2:] for v in row.split(",")[1:])
    millivolts = source.physical()[720:1440, [1, 0]]
    written = read_signal(tmp_path / "p.csv")
    assert written.fs == 360.0 and np.array_equal(written.samples, millivolts) and written.units == ["mV", "mV"]
    back = sancodec.decode(sancodec.encode(written))  # lossless: the decimals
    assert np.array_equal(back.physical(), millivolts) and back.adc_gain == [1000.0, 1000.0]
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "p.npy"), "--physical", "-q"])
    assert res.exit_code == 0 and np.array_equal(np.load(tmp_path / "p.npy"), source.physical())
    before = (tmp_path / "p.csv").read_bytes()  # an existing output is replaced only with --force
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "p.csv"), "--physical"])
    assert res.exit_code != 0 and "--force" in res.output and (tmp_path / "p.csv").read_bytes() == before
    for out in ("p.edf", "rec"):
        res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / out), "--physical"])
        assert res.exit_code == 2 and "--physical applies to CSV and .npy" in res.output
        assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / out).exists()


def test_a_csv_of_floats_prints_each_decimal_column_at_its_places(tmp_path):
    """Columns that are decimals print at their places, the others with 17 significant digits (exact), so that a
    record whose gains are decimal on some channels only (03700181's RESP, not its ECG) reads naturally."""
    x = np.array([[0.0105, 1 / 3, 2.0], [0.02, 2 / 3, -1.0]])
    assert decimal_places(x) is None and column_places(x) == [4, None, 0]
    sancodec.write_signal(Signal(x, 10.0, ["a", "b", "c"], ["NU"] * 3), tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().splitlines() == ["a,b,c", "0.0105,0.33333333333333331,2",
                                                             "0.0200,0.66666666666666663,-1"]
    assert np.array_equal(read_signal(tmp_path / "f.csv", fs=10).samples, x)


def test_floats_stream_losslessly_at_declared_decimals_and_read_back_as_the_same_values(tmp_path):
    """``sancodec.open(path, "w", decimals=...)``: float blocks (a device's millivolts at 3 places, a second channel
    at 1) held as integers at those places, read back by ``sancodec.open`` block by block as the same doubles (the
    whole pass's checksums, the integers', checked), and by ``decode`` as a decimal signal."""
    rng = np.random.default_rng(11)
    x = np.column_stack([np.cumsum(rng.integers(-9, 10, 50_000)) / 1000, rng.integers(-90, 90, 50_000) / 10])
    path = tmp_path / "s.san"
    with sancodec.open(path, "w", fs=250, channels=2, decimals=[3, 1]) as f:
        for start in range(0, len(x), 7_000):
            f.write(x[start : start + 7_000])
    with sancodec.open(path) as f:
        assert f.dtype == np.float64
        y = f.read()
        parts = list(f.blocks(9_999))
    assert np.array_equal(y, x) and np.array_equal(np.concatenate(parts), x)
    decoded, places = decimal_values(sancodec.decode(path.read_bytes()))
    assert places == [3, 1] and np.array_equal(decoded, x)
    with sancodec.open(tmp_path / "arr.san", "w", fs=250, channels=2, decimals=np.array([3, 1])) as f:
        f.write(x[:100])  # the places as a numpy array
    with sancodec.open(tmp_path / "arr.san") as f:
        assert np.array_equal(f.read(), x[:100])
    with sancodec.open(tmp_path / "zero.san", "w", fs=250, channels=2, decimals=np.array(3)) as f:
        f.write(x[:10])  # a 0-d array: one number for every channel
    with sancodec.open(tmp_path / "one.san", "w", fs=250, channels=1, decimals=2) as f:  # one channel, 1-D blocks
        f.write(np.array([0.25, -1.5, 3.0], np.float32))
        f.write(np.array([7, 8]))  # whole numbers are on every grid
    with sancodec.open(tmp_path / "one.san") as f:
        assert np.array_equal(f.read()[:, 0], [0.25, -1.5, 3.0, 7.0, 8.0])


def test_a_streamed_block_off_its_declared_grid_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "s.san"
    for block in (np.array([[0.125, 1.0]]), np.array([[np.inf, 1.0]]), np.array([[1e15, 1.0]]),
                  np.array([[-21474836.48, 1.0]])):  # (the last: -2^31 units, what a gap is held as)
        with pytest.raises(SancodecError, match="channel 0 holds a value that is not a decimal of 2 places"):
            with sancodec.open(path, "w", fs=100, channels=2, decimals=2) as f:
                f.write(np.array([[0.25, 1.5]]))
                f.write(block)
        assert not path.exists() and not list(tmp_path.iterdir())
    for decimals in (10, -1, "3", [1], [1, 2, 3], True, 1.5, np.array([[1, 2]]), np.array([1.0, 2.0]), {1: 2}):
        with pytest.raises(SancodecError, match="decimals must be a whole number of 0 to 9"):
            sancodec.open(path, "w", fs=100, channels=2, decimals=decimals)
    with pytest.raises(SancodecError, match="floats at declared decimals: open the writer with decimals=3"):
        with sancodec.open(path, "w", fs=100, channels=2) as f:  # floats without decimals=: what to do about it
            f.write(np.array([[0.25, 1.5]]))
    with pytest.raises(SancodecError, match="decimals= is for lossless coding"):
        sancodec.open(path, "w", fs=100, channels=2, decimals=2, codec="near-lossless", max_error=1)
    with pytest.raises(SancodecError, match="takes \\(samples, 2\\) blocks"):
        with sancodec.open(path, "w", fs=100, channels=2, decimals=2) as f:
            f.write(np.zeros((4, 3)))
    assert not path.exists()


def test_sancodec_open_reads_a_decimal_source_as_its_values(tmp_path):
    """A file coded from a CSV of decimals, or from a float32 ``.npy`` of them, reads through ``sancodec.open`` as
    the values it was given (float64; float32 for the float32 array), not as the integers the file holds."""
    rows = np.column_stack([np.arange(-300, 300) * 7, np.arange(600) % 13])
    (tmp_path / "a.csv").write_text(_csv(rows, [4, 2]))
    source = read_signal(tmp_path / "a.csv")
    (tmp_path / "a.san").write_bytes(sancodec.encode(source))
    with sancodec.open(tmp_path / "a.san") as f:
        assert f.dtype == np.float64 and np.array_equal(f.read(), source.samples)
    x = (np.arange(-500, 500).reshape(-1, 1) / 1000).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "200", "-q"]).exit_code == 0
    with sancodec.open(tmp_path / "x.san") as f:
        y = f.read()
    assert y.dtype == np.float32 and np.array_equal(y, x)


def test_decimals_decode_to_wfdb_as_their_integers_at_gains_of_ten_to_the_places(tmp_path):
    """A decimal file written as WFDB holds its integers at gain 10^d, format 16 or 32 by their range (-40 000 units
    here: 32 for both channels of the one signal file), so the
    record's physical values are the decimals (wfdb's own digitisation picked gains such as 3.1e9 units per NU)."""
    (tmp_path / "c.csv").write_text("time,a,b\n0.000,0.125,1.5\n0.004,0.250,2.5\n0.008,-0.375,3.0\n"
                                    "0.012,1.000,-2.5\n0.016,-40.000,0.5\n")
    assert runner.invoke(app, ["encode", str(tmp_path / "c.csv"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "c.san"), "-o", str(tmp_path / "w"), "--format", "wfdb", "-q"])
    assert res.exit_code == 0, res.output
    back = read_signal(tmp_path / "w")
    assert back.adc_gain == [1000.0, 10.0] and back.baseline == [0, 0] and back.fmt == ["32", "32"]
    assert np.array_equal(back.physical(), read_signal(tmp_path / "c.csv").samples)


@settings(max_examples=25, deadline=None)
@given(places=st.lists(st.integers(0, MAX_DECIMALS), min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(1, 400), min_size=1, max_size=6), float32=st.booleans())
def test_any_decimal_stream_cut_anywhere_reads_back_exactly(tmp_path_factory, places, seed, cuts, float32):
    """Decimals of any declared places, float64 or float32, streamed in blocks cut anywhere, read back as the same
    values (float32 blocks as the decimals they stand for, read as float64)."""
    rng = np.random.default_rng(seed)
    n = sum(cuts)
    limit = [min(10**6, (1 << 24 if float32 else 1 << 49) // 2) for _ in places]
    units = np.column_stack([np.cumsum(rng.integers(-50, 51, n)).clip(-lim, lim) for lim in limit])
    x = units / np.array([float(10**d) for d in places])
    blocks = x.astype(np.float32) if float32 else x
    path = tmp_path_factory.mktemp("stream") / "s.san"
    with sancodec.open(path, "w", fs=100, channels=len(places), decimals=places) as f:
        start = 0
        for cut in cuts:
            f.write(blocks[start : start + cut])
            start += cut
    with sancodec.open(path) as f:
        back = f.read()
    assert back.dtype == np.float64 and np.array_equal(back, x)  # each decimal's double, float32 blocks' too
    assert np.array_equal(back.astype(blocks.dtype), blocks)


def test_a_decimal_stream_keeps_its_nan_as_gaps(tmp_path):
    """NaN in a stream of declared decimals (a lead off for a while) is a gap: held as format 32's invalid sample
    (a stream's range is not known ahead), read back as NaN by ``sancodec.open`` and in .npy, written back as NaN in
    CSV and as invalid samples in WFDB; a stream without NaN says nothing of gaps."""
    import wfdb

    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=(3000, 2)), 3)
    x[100:140, 0] = np.nan
    x[2999, 1] = np.nan
    path = tmp_path / "g.san"
    with sancodec.open(path, "w", fs=250, channels=2, decimals=3) as f:
        for start in range(0, 3000, 700):
            f.write(x[start : start + 700])
    with sancodec.open(path) as f:
        assert np.array_equal(f.read(), x, equal_nan=True)
    assert SanReader(path.read_bytes()).header["signal"]["source"]["missing"] == {"value": -(1 << 31), "text": "NaN"}
    for out in ("g.csv", "g.npy", "w"):
        args = ["--format", "wfdb"] if out == "w" else []
        res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / out), "-q", *args])
        assert res.exit_code == 0, res.output
    assert (tmp_path / "g.csv").read_text().splitlines()[101].split(",")[0] == "NaN"
    assert np.array_equal(np.load(tmp_path / "g.npy"), x, equal_nan=True)
    record = wfdb.rdrecord(str(tmp_path / "w"))
    assert record.fmt == ["32", "32"] and np.array_equal(record.p_signal, x, equal_nan=True)
    with sancodec.open(tmp_path / "none.san", "w", fs=250, channels=2, decimals=3) as f:
        f.write(np.nan_to_num(x))
    assert "missing" not in SanReader((tmp_path / "none.san").read_bytes()).header["signal"]["source"]


def test_negative_zeros_come_back(tmp_path):
    """A ``-0.000`` cell (a small negative printed to 3 places, as devices and ``%.3f`` print it) or an array's -0.0
    is held as the integer 0, which has no sign: the source keeps where they were, and every way back gives them
    again (a CSV byte for byte through the CLI; an array's doubles; ``sancodec.open``'s reads, ranges included; a
    slice; a CSV with gaps; a stream written at declared decimals)."""
    (tmp_path / "z.csv").write_text("a,b\n0.001,-0.000\n-0.002,0.003\n-0.000,0.004\n0.000,-0.001\n-0.000,-0.000\n")
    assert runner.invoke(app, ["encode", str(tmp_path / "z.csv"), "--fs", "100", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "z.san"), "-o", str(tmp_path / "back.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "back.csv").read_bytes() == (tmp_path / "z.csv").read_bytes()
    x = np.array([[0.5, -0.0], [-0.0, 0.25], [-0.0, -0.0], [0.0, 1.0]] * 50)
    data = sancodec.encode(Signal(x, 10.0, ["a", "b"], ["mV", "mV"]))
    decoded = sancodec.decode(data)
    for got, want in ((decoded.physical(), x), (decoded.slice(1, 150).physical(), x[1:150]),
                      (sancodec.decode(data, start=1, end=150).physical(), x[1:150])):
        assert np.array_equal(np.signbit(got), np.signbit(want)) and np.array_equal(got, want)
    (tmp_path / "x.san").write_bytes(data)
    with sancodec.open(tmp_path / "x.san") as f:
        assert np.array_equal(np.signbit(f.read()), np.signbit(x))
        assert np.array_equal(np.signbit(f.read(3, 101)), np.signbit(x[3:101]))
    gapped = tmp_path / "g.csv"
    gapped.write_text("a\n0.5\nNaN\n-0.0\n0.0\n-0.0\n")
    back = sancodec.decode(sancodec.encode(read_signal(gapped, fs=10.0)))
    assert np.array_equal(np.signbit(back.physical()), [[False], [False], [True], [False], [True]])
    with sancodec.open(tmp_path / "s.san", "w", fs=10, channels=2, decimals=3) as f:
        for lo in range(0, len(x), 30):  # (runs across the blocks' ends)
            f.write(x[lo : lo + 30])
    with sancodec.open(tmp_path / "s.san") as f:
        assert np.array_equal(np.signbit(f.read()), np.signbit(x))


@pytest.mark.parametrize("entry", [[[0, 1]], "x", [[0, 1], [5]], [[3, 1, 2, 1], None], [[0, -1], None],
                                   [[0, 1 << 40], None], [[True, 1], None]])
def test_a_hostile_negative_zeros_entry_counts_for_nothing(entry):
    """A ``.san`` header is not trusted: runs that are not whole rows, in order, within the record, one list a
    channel, are passed over; the values come back as their integers say."""
    x = np.array([[0.5, 0.0], [0.0, 0.25], [0.0, 0.0]])
    signal = on_decimal_grid(Signal(x, 10.0, ["a", "b"], ["mV", "mV"]))
    signal.source = {**signal.source, "negative_zeros": entry}
    back = sancodec.decode(sancodec.encode(signal)).physical()
    assert not np.signbit(back).any() and np.array_equal(back, x)


def test_a_near_lossless_bound_on_decimals_held_as_integers_is_in_their_values_units():
    """``prepare.decimal_bound``: a decoded decimal file (integers at 10^-d) takes a bound in its values' units, as
    the floats it was made of take it: the whole 10^-d's within it (0.29 at 2 places: 29 units, though 0.29 * 100
    is 28.999999999999996 in floats), the coarsest channel's where places differ; ADC units of any other digital
    signal, and floats, as they are. Its near-lossless file keeps every value within the bound."""
    from sancodec.codec.prepare import decimal_bound

    walk = np.cumsum(np.random.default_rng(4).normal(size=(3000, 2)), axis=0)
    x = np.column_stack([np.round(walk[:, 0], 2), np.round(walk[:, 1] / 10, 3)])
    decoded = sancodec.decode(sancodec.encode(Signal(x, 250.0, ["a", "b"], ["mV", "mV"])))
    assert decoded.adc_gain == [100.0, 1000.0]
    assert decimal_bound(on_decimal_grid(Signal(np.array([[0.25]]), 10.0, ["a"], ["mV"])), 0.29) == 29.0
    assert decimal_bound(decoded, 0.29) == 29.0 and decimal_bound(decoded, 0.004) == 0.0
    assert decimal_bound(Signal(np.zeros((4, 1), np.int16), 10.0), 0.29) == 0.29  # (ADC units: refused later)
    assert decimal_bound(Signal(np.zeros((4, 1)), 10.0), 0.29) == 0.29
    back = sancodec.decode(sancodec.encode(decoded, mode="near-lossless", max_error=0.29)).physical()
    assert np.abs(back - decoded.physical()).max() <= 0.29 + 1e-12
    assert np.abs(back - decoded.physical())[:, 0].max() > 0.1


def test_common_places_puts_every_channel_at_the_most_places_where_32_bits_hold_them():
    """``decimals.common_places`` (near-lossless: one bound in units of 10^-D holds each channel to all of it): a
    channel at 1 place beside one at 3 is held at 3 (its integers times 100, its gaps at a value beyond them all);
    where that would pass 32 bits the signal is left as it was (the bound then in the coarsest channel's units)."""
    from sancodec.io.decimals import common_places, gapped_units, with_decimals

    x = np.array([[0.5, 1.125], [np.nan, 2.25], [-3.5, np.nan]])
    units, places, value = gapped_units(x)
    signal = with_decimals(Signal(units, 10.0, ["a", "b"], ["mV", "mV"]), places, units, gap=(value, ""))
    same = common_places(signal)
    assert same.adc_gain == [1000.0, 1000.0] and same.samples[:, 0].tolist() == [500, value, -3500]
    assert np.array_equal(same.physical(), x, equal_nan=True)
    wide = np.array([[3.0e6, 0.125], [1.0, np.nan]])  # (3e9 at 3 places: past 2^31)
    units, places, value = gapped_units(wide)
    signal = with_decimals(Signal(units, 10.0, ["a", "b"], ["mV", "mV"]), places, units, gap=(value, ""))
    assert common_places(signal) is signal
