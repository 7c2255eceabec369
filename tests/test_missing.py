"""Gaps in a CSV (an empty cell, PhysioNet's "-" for an invalid sample, NaN): in columns of decimals they are held
losslessly as WFDB's invalid sample (``io.decimals.gapped_units``) and come back as the CSV wrote them, NaN in
``.npy`` and ``sancodec.open``, invalid samples in WFDB; EDF, which cannot mark them, and the lossy modes refuse."""

from __future__ import annotations

import re

import numpy as np
import pytest
import wfdb
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, Signal, read_signal, write_signal
from sancodec.cli import app
from sancodec.cli.codec_commands import _max_error_said
from sancodec.codec.container import SanReader
from sancodec.io.decimals import MISSING_VALUES, gapped_units, missing_of

runner = CliRunner()


def _gapped_csv(path, gap: str, n: int = 400, scale: float = 1.0) -> np.ndarray:
    """A 250 Hz CSV of two decimal columns (3 and 1 places) with ``gap`` written for some values; its values, NaN
    at the gaps."""
    rng = np.random.default_rng(8)
    a = np.round(np.sin(np.arange(n) / 9) * scale, 3)
    b = np.round(rng.integers(-500, 500, n) / 10, 1)
    x = np.column_stack([a, b])
    x[[3, 4, 5, 200], 0] = np.nan
    x[[4, 399], 1] = np.nan
    rows = [f"{i / 250:.3f}," + ",".join(gap if np.isnan(v) else f"{v:.{d}f}" for v, d in zip(row, (3, 1)))
            for i, row in enumerate(x)]
    path.write_text("time,a,b\n" + "\n".join(rows) + "\n")
    return x


@pytest.mark.parametrize("gap", ["", "-", "NaN", "NA"])
def test_gaps_come_back_as_written_and_as_nan_and_invalid_samples(tmp_path, gap):
    x = _gapped_csv(tmp_path / "g.csv", gap)
    signal = read_signal(tmp_path / "g.csv")
    assert signal.fs == 250.0 and missing_of(signal.source) == (MISSING_VALUES[0], gap)
    assert runner.invoke(app, ["encode", str(tmp_path / "g.csv"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / "back.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "back.csv").read_text() == (tmp_path / "g.csv").read_text()  # the very text
    for args, out in (([], "v.npy"), (["--physical"], "p.csv"), (["--channels", "1"], "one.csv")):
        res = runner.invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / out), "-q", *args])
        assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "v.npy"), x, equal_nan=True)
    assert (tmp_path / "p.csv").read_text().splitlines()[6] == f"0.016,{gap},{gap}"  # --physical keeps them
    assert [line.split(",")[1] for line in (tmp_path / "one.csv").read_text().splitlines()[1:]][4] == gap
    with sancodec.open(tmp_path / "g.san") as f:
        assert np.array_equal(f.read(), x, equal_nan=True)
    res = runner.invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / "w"), "--format", "wfdb",
                              "-q"])
    assert res.exit_code == 0, res.output
    record = wfdb.rdrecord(str(tmp_path / "w"))
    assert record.fmt == ["16", "16"] and np.array_equal(record.p_signal, x, equal_nan=True)


def test_info_says_how_gaps_are_held(tmp_path):
    _gapped_csv(tmp_path / "g.csv", "-")
    assert runner.invoke(app, ["encode", str(tmp_path / "g.csv"), "-q"]).exit_code == 0
    info = runner.invoke(app, ["info", str(tmp_path / "g.san")]).stdout  # (a table: its cells wrap)
    assert "gaps" in info and "held as -32768 (WFDB's invalid sample)" in info and "'-' in CSV" in info


@pytest.mark.parametrize("mode", [["--mode", "near-lossless", "--max-error", "1"], ["--mode", "lossy", "--prdn", "5"]])
def test_gaps_refuse_edf_in_one_line_and_the_other_modes_keep_them(tmp_path, mode):
    """EDF cannot mark a gap: refused in one line. Near-lossless and lossy modes code the gaps apart (format 1.15;
    near-lossless would move their value by up to the error, lossy made their jump take the channel's error): the
    decoded CSV has its gaps where the source had them, written as it wrote them."""
    _gapped_csv(tmp_path / "g.csv", "")
    signal = read_signal(tmp_path / "g.csv")
    with pytest.raises(SancodecError, match="which EDF and BDF cannot mark"):
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "g.edf")
    assert not (tmp_path / "g.edf").exists()
    res = runner.invoke(app, ["encode", str(tmp_path / "g.csv"), *mode, "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / "back.csv"), "-q"])
    assert res.exit_code == 0, res.output
    source = [line.split(",") for line in (tmp_path / "g.csv").read_text().splitlines()[1:]]
    back = [line.split(",") for line in (tmp_path / "back.csv").read_text().splitlines()[1:]]
    assert [[c == "" for c in row] for row in back] == [[c == "" for c in row] for row in source]
    assert any(c == "" for row in source for c in row)


def test_near_lossless_bounds_a_gapped_csv_in_its_values_units_as_without_the_gap(tmp_path):
    """A column of decimals with an empty cell is held as integers (10^-d each) to keep the gap, and --max-error was
    read in those integers' units: one empty cell made "--max-error 2" (2 mV without it) mean 0.002 mV, a file many
    times larger, and refused "--max-error 0.01" as no whole number. The bound is in the values' units either way,
    every column held to all of it: columns at other places are coded at the most of them
    (``decimals.common_places``; ``prepare.decimal_bound``)."""
    x = _gapped_csv(tmp_path / "g.csv", "")  # column a at 3 places, b at 1
    filled = (tmp_path / "g.csv").read_text().replace(",,", ",0.000,").replace(",\n", ",0.0\n")
    (tmp_path / "whole.csv").write_text(filled)  # (the gaps filled: the same values without one)
    for bound in (0.5, 0.05):
        sizes = []
        for name in ("g", "whole"):
            res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.csv"), "--mode", "near-lossless",
                                      "--max-error", str(bound), "-o", str(tmp_path / f"{name}.san"), "-q", "-f"])
            assert res.exit_code == 0, res.output
            sizes.append((tmp_path / f"{name}.san").stat().st_size)
        with sancodec.open(tmp_path / "g.san") as f:
            back = f.read()
        assert np.array_equal(np.isnan(back), np.isnan(x))
        for c in range(2):
            error = np.abs(back[:, c] - x[:, c])[~np.isnan(x[:, c])]
            assert 0.4 * bound < error.max() <= bound + 1e-12, (bound, c)
        assert sizes[0] < 1.5 * sizes[1]  # (the gaps cost a little: not a bound a thousand times finer)
        head = SanReader((tmp_path / "g.san").read_bytes()).header
        units = round(bound * 1000)
        assert head["max_error"] == units and _max_error_said(head) == f"{units} units of 10^-3: {bound:.3f}"


def test_values_past_16_bits_take_format_32s_invalid_sample(tmp_path):
    x = _gapped_csv(tmp_path / "g.csv", "-", scale=40.0)  # up to 40 000 units at 3 places
    signal = read_signal(tmp_path / "g.csv")
    assert missing_of(signal.source) == (MISSING_VALUES[1], "-")
    data = sancodec.encode(signal)
    write_signal(sancodec.decode(data), tmp_path / "w", format="wfdb")
    record = wfdb.rdrecord(str(tmp_path / "w"))
    assert record.fmt == ["32", "32"] and np.array_equal(record.p_signal, x, equal_nan=True)
    assert SanReader(data).header["signal"]["source"]["missing"] == {"value": -(1 << 31), "text": "-"}


def test_a_gap_in_a_column_of_other_floats_is_one_error():
    assert gapped_units(np.array([[1 / 3, np.nan]])) is None  # no decimal of at most 9 places
    assert gapped_units(np.array([[2.0**40, np.nan]])) is None  # past 32 bits
    units, places, value = gapped_units(np.array([[0.5, np.nan], [np.nan, 7.0]]))
    assert places == [1, 0] and value == -32768 and units.tolist() == [[5, -32768], [-32768, 7]]


def test_the_csv_error_for_gaps_among_floats_says_where(tmp_path):
    (tmp_path / "f.csv").write_text("time,a\n0.000,0.3333333333333333\n0.004,\n0.008,0.1111111111111111\n")
    with pytest.raises(SancodecError, match="data row 2, column 'a' is empty, a missing value, which sancodec keeps "
                                            "in columns of decimals"):
        read_signal(tmp_path / "f.csv")


@pytest.mark.parametrize("lie", [{"value": 5, "text": ""}, {"value": -32768, "text": "x"}, [-32768, ""],
                                 {"value": -32768.0, "text": ""}, {"value": True, "text": "-"}, "gap"])
def test_a_header_that_lies_about_gaps_is_not_believed(tmp_path, lie):
    """The missing-value entry comes from an untrusted header: only WFDB's two invalid samples and the texts a CSV
    writes count; anything else is ignored, and the integers decode as values."""
    signal = Signal(np.array([[5, -32768], [1, 2]]), 10.0, ["a", "b"], ["mV", "mV"], adc_gain=[10.0, 1.0],
                    baseline=[0, 0], source={"kind": "csv", "decimals": [1, 0], "missing": lie})
    assert missing_of(signal.source) is None
    write_signal(signal, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[1:] == ["0.5,-32768", "0.1,2"]


def test_report_of_a_gapped_csv_compares_and_draws_it(tmp_path):
    """``report`` (sizes, a lossless file's zero error) and its plot, the gaps left out of the lines (they had been
    drawn as spikes to -32768)."""
    _gapped_csv(tmp_path / "g.csv", "")
    assert runner.invoke(app, ["encode", str(tmp_path / "g.csv"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["report", str(tmp_path / "g.csv"), str(tmp_path / "g.san"), "--plot",
                              str(tmp_path / "g.png"), "--json"])
    assert res.exit_code == 0, res.output
    assert '"prdn": 0.0' in res.stdout and (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_report_gives_a_gapped_csvs_near_lossless_error_in_its_values_units(tmp_path):
    """``report``'s largest error of decimals held as integers (a column with a gap) was "50 ADC units" for a bound
    of 0.05 given in the values' units: now the values' units, the integers beside them."""
    x = _gapped_csv(tmp_path / "g.csv", "")[:, :1]
    rows = (tmp_path / "g.csv").read_text().splitlines()
    (tmp_path / "one.csv").write_text("\n".join(row.rpartition(",")[0] for row in rows) + "\n")
    res = runner.invoke(app, ["report", str(tmp_path / "one.csv"), "--mode", "near-lossless", "--max-error", "0.05"])
    assert res.exit_code == 0, res.output
    said = re.search(r"max \|error\| ([\d.]+) \((\d+) units of 10\^-3\)", " ".join(res.stdout.split()))
    assert said is not None, res.stdout
    assert 0.02 < float(said[1]) <= 0.05 and int(said[2]) == round(float(said[1]) * 1000)
    assert np.isnan(x).any()


def test_decode_physical_prints_a_wfdb_records_invalid_samples_as_rdsamp_does(tmp_path):
    """``decode --physical`` (wfdb's rdsamp -p) of a record with invalid samples (format 16's -32768, format 212's
    -2048) prints "-" where rdsamp does, NaN in .npy: where every channel's values are decimals (gains of 200 and
    1000 units per mV), and where a gain gives other floats (86 units per mV, printed to 17 digits beside a column of
    decimals at its places). Those had printed -32768 / 86 mV, a spike no recording holds."""
    rng = np.random.default_rng(2)
    for fmt, invalid, gains in (("16", -32768, [200.0, 1000.0]), ("212", -2048, [200.0, 200.0]),
                                ("16", -32768, [86.0, 200.0])):
        d = rng.integers(-900, 900, (300, 2))
        d[[10, 11, 250], 0] = invalid
        d[40, 1] = invalid
        wfdb.wrsamp("r", fs=250, units=["mV", "mV"], sig_name=["I", "II"], d_signal=d, fmt=[fmt] * 2, adc_gain=gains,
                    baseline=[0, 0], write_dir=str(tmp_path))
        assert runner.invoke(app, ["encode", str(tmp_path / "r"), "--force", "-q"]).exit_code == 0
        res = runner.invoke(app, ["decode", str(tmp_path / "r.san"), "-o", str(tmp_path / "p.csv"), "--physical",
                                  "--force", "-q"])
        assert res.exit_code == 0, res.output
        rows = [line.split(",") for line in (tmp_path / "p.csv").read_text().splitlines()[2:]]
        assert float(rows[9][1]) == d[9, 0] / gains[0] and [rows[i][1] for i in (10, 11, 250)] == ["-"] * 3
        assert rows[40][2] == "-" and rows[41][2] != "-"
        assert rows[41][2] == f"{d[41, 1] / gains[1]:.3f}"  # (a column of decimals at its places)
        res = runner.invoke(app, ["decode", str(tmp_path / "r.san"), "-o", str(tmp_path / "p.npy"), "--physical",
                                  "--force", "-q"])
        values = np.load(tmp_path / "p.npy")
        assert np.isnan(values[[10, 11, 250], 0]).all() and np.isnan(values[40, 1])
        assert np.array_equal(values[~np.isnan(values[:, 0]), 0], d[d[:, 0] != invalid, 0] / gains[0])


def test_a_decoded_gapped_signal_reads_its_gaps_as_nan_in_physical_units(tmp_path):
    """``Signal.physical()`` of a decoded gapped file: NaN at the gaps (as wfdb-python gives invalid samples), the
    values elsewhere; ``report`` of a file whose channel is all gaps still says zero error."""
    x = _gapped_csv(tmp_path / "g.csv", "-")
    decoded = sancodec.decode(sancodec.encode(read_signal(tmp_path / "g.csv")))
    assert np.array_equal(decoded.physical(), x, equal_nan=True)
    (tmp_path / "all.csv").write_text("time,a,b\n" + "".join(f"{i / 100:.2f},,{i}\n" for i in range(50)))
    assert runner.invoke(app, ["encode", str(tmp_path / "all.csv"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["report", str(tmp_path / "all.csv"), str(tmp_path / "all.san"), "--json"])
    assert res.exit_code == 0, res.output
    assert '"prdn": 0.0' in res.stdout and "NaN" not in res.stdout


def test_new_decimals_forget_an_old_gap_marker(tmp_path):
    """A stream ``like`` a gapped CSV's signal holds new integers: the CSV's marker (-32768) is not its own, so a
    value of -32.768 streamed at 3 decimals reads back as that value, not as a gap."""
    _gapped_csv(tmp_path / "g.csv", "-")
    like = read_signal(tmp_path / "g.csv")
    assert missing_of(like.source) is not None
    values = np.array([[-32.768, 1.0], [0.5, 2.0]])
    with sancodec.open(tmp_path / "s.san", "w", like=like, decimals=3) as f:
        f.write(values)
    with sancodec.open(tmp_path / "s.san") as f:
        assert np.array_equal(f.read(), values)


def test_one_columns_empty_gaps_come_back_as_nan_not_blank_lines(tmp_path):
    """A one-column CSV's empty cell is a blank line, which a reader skips (the row was lost on reading it back):
    such gaps are written as NaN; with more columns an empty cell stays empty."""
    (tmp_path / "one.csv").write_text("x\n0.5\n\n1.5\n")  # (a blank line in the source is no row either)
    (tmp_path / "two.csv").write_text("time,x\n0.00,0.5\n0.01,\n0.02,1.5\n")
    signal = read_signal(tmp_path / "two.csv").select_channels([0])
    write_signal(signal, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines() == ["time,x", "0.00,0.5", "0.01,", "0.02,1.5"]
    signal = sancodec.Signal(signal.samples, signal.fs, signal.channel_names, signal.units, adc_gain=signal.adc_gain,
                             baseline=signal.baseline, source={k: v for k, v in signal.source.items()
                                                               if not k.startswith("time")})
    write_signal(signal, tmp_path / "n.csv")  # no time column: one column
    assert (tmp_path / "n.csv").read_text().splitlines() == ["x", "0.5", "NaN", "1.5"]
    assert np.array_equal(read_signal(tmp_path / "n.csv", fs=100.0).physical(), signal.physical(), equal_nan=True)


@pytest.mark.parametrize("lie", [{"value": 7, "text": "-"}, {"value": -32768, "text": "x"}, {"value": "-32768"},
                                 [-32768, "-"], None])
def test_a_san_whose_header_lies_about_gaps_decodes_without_believing_it(tmp_path, lie):
    """A .san with valid CRCs whose ``missing`` entry lies (another integer, a text no CSV writes, garbage): decode,
    ``sancodec.open`` and the CSV writer take no sample for a gap; a true entry on a file holding -32768 as a value
    makes that value a gap (what the entry says), nothing else."""
    from common import rewrap

    values = np.array([[-32.768, 0.007], [0.5, -32.768]])  # -32 768 units at 3 places: the marker's integer
    data = sancodec.encode(Signal(values, 10.0, ["a", "b"], ["mV", "mV"]))
    header = SanReader(data).header
    header["signal"]["source"]["missing"] = lie
    (tmp_path / "l.san").write_bytes(rewrap(data, header=header))
    with sancodec.open(tmp_path / "l.san") as f:
        assert np.array_equal(f.read(), values)
    decoded = sancodec.decode((tmp_path / "l.san").read_bytes())
    assert np.array_equal(decoded.physical(), values)
    res = runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.csv"), "--force", "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "l.csv").read_text().splitlines()[1:] == ["-32.768,0.007", "0.500,-32.768"]
    header["signal"]["source"]["missing"] = {"value": -32768, "text": "-"}
    (tmp_path / "t.san").write_bytes(rewrap(data, header=header))
    with sancodec.open(tmp_path / "t.san") as f:
        assert np.array_equal(np.isnan(f.read()), [[True, False], [False, True]])


def test_physical_output_gaps_are_the_formats_invalid_samples_of_a_wfdb_record_alone():
    """``physical_signal`` takes its gaps from ``Signal.physical()`` (``codec.gaps.invalid_values``): a WFDB record's
    -32768 in format 16 is a gap ("-"), an EDF source's is a value (its format names the samples' width, and -32768
    is a sample there), as the library holds both."""
    from sancodec.io.arrays import physical_signal

    d = np.array([[10], [-32768], [30]])
    wfdb_like = Signal(d, 100.0, ["x"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    edf_like = Signal(d, 100.0, ["x"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"], source={"kind": "edf"})
    assert missing_of(physical_signal(wfdb_like).source) == (MISSING_VALUES[0], "-")
    held = physical_signal(edf_like)
    assert missing_of(held.source) is None and np.array_equal(held.physical(), d / 200.0)
