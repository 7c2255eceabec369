"""``decode --start/--end`` as times (90s, 1:30, 500ms, 2min, 1h, 1:02:03.5): the rows whose times fall in the range,
the same files as the row numbers they stand for; ``timepoints`` parses them exactly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError
from sancodec.cli import app
from sancodec.timepoints import is_time, row_at, seconds_in

DATA = Path(__file__).parent / "data"


def run(*args: object, stdin: bytes | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("90 s", 90), ("1.5min", 90), ("500ms", 0.5), (".25s", 0.25), ("2h", 7200), ("1:30", 90),
    ("0:00.5", 0.5), ("1:02:03.5", 3723.5), ("90:00", 5400), ("10.s", 10),
])
def test_times_are_read_exactly(text, seconds):
    from fractions import Fraction

    assert is_time(text) and seconds_in(text) == Fraction(seconds)


@pytest.mark.parametrize(("text", "fs", "row"), [
    ("10", 360.0, 10), ("-3", 360.0, -3), (" 42 ", 1.0, 42),  # row numbers as they were
    ("10s", 360.0, 3600), ("0.1s", 360.0, 36),  # (0.1 * 360.0 in floats is 36.000000000000004: not row 37)
    ("10s", 257.3, 2573), ("0.1s", 257.3, 26),  # a rate that is no binary fraction, as its decimal
    ("1ms", 360.0, 1), ("0s", 500.0, 0), ("2.5s", 0.4, 1),
])
def test_a_time_is_the_first_row_at_or_after_it(text, fs, row):
    assert row_at(text, fs) == row and row_at(None, fs) is None


@pytest.mark.parametrize("text", ["abc", "-1s", "1:60", "1:00:60", "1:60:00", "1e3s", "1:2:3:4", "5 sec", "s", ""])
def test_anything_else_is_one_error_naming_the_option(text):
    with pytest.raises(SanConfigError, match="--end"):
        row_at(text, 360.0, "--end")


@pytest.fixture(scope="module")
def san(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tp")
    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, folder / f.name)
    path = folder / "r.san"
    path.write_bytes(sancodec.encode(sancodec.read_signal(folder / "100_3chan")))  # 999 rows at 360 Hz
    return path


@pytest.mark.parametrize("fmt", ["npy", "csv", "edf", "wfdb"])
def test_a_time_range_decodes_the_files_of_its_rows(san, tmp_path, fmt):
    """``--start 0.5s --end 0:02`` is rows [180, 720) at 360 Hz: the very files ``--start 180 --end 720`` writes."""
    res = run("decode", san, "--start", "0.5s", "--end", "0:02", "--format", fmt, "-o", tmp_path / "t", "--json")
    assert res.exit_code == 0, res.output
    assert run("decode", san, "--start", "180", "--end", "720", "--format", fmt, "-o", tmp_path / "r",
               "-q").exit_code == 0
    timed = sorted(tmp_path.glob("t*"))
    assert timed and len(timed) == len(list(tmp_path.glob("r*")))
    for f in timed:
        other = tmp_path / ("r" + f.name[1:])
        ours, theirs = f.read_bytes(), other.read_bytes()
        if f.suffix == ".hea":  # (a header names its record and its signal file)
            ours = re.sub(rb"(?m)^t(?=[ .])", b"R", ours.replace(b"t.dat", b"R.dat"))
            theirs = re.sub(rb"(?m)^r(?=[ .])", b"R", theirs.replace(b"r.dat", b"R.dat"))
        assert ours == theirs, f.name
    assert '"start": 180' in res.stdout and '"end": 720' in res.stdout


def test_standard_input_is_read_once_for_its_rate(san, tmp_path):
    res = run("decode", "-", "--start", "1s", "-o", tmp_path / "p.npy", "-q", stdin=san.read_bytes())
    assert res.exit_code == 0, res.output
    whole = sancodec.decode(san.read_bytes())
    assert np.array_equal(np.load(tmp_path / "p.npy"), whole.samples[360:])


def test_a_multi_frequency_record_is_cut_at_the_first_whole_frame_at_or_after_a_time(tmp_path):
    """Rows of a record whose slow channels run at an eighth of the rate go by frames of 8: 0.1 s at 256 Hz is row
    25.6, taken as row 32 (the frame from which every channel has its samples), where row 26 is refused."""
    x = np.cumsum(np.random.default_rng(3).integers(-20, 21, (4096, 3)), axis=0).astype(np.int16)
    x[:, 2:] = np.repeat(x[::8, 2:], 8, axis=0)
    signal = sancodec.Signal(x, 256.0, ["a", "b", "c"], ["uV"] * 3, adc_gain=[10.0] * 3, baseline=[0] * 3,
                             samples_per_frame=[8, 8, 1])
    path = tmp_path / "m.san"
    path.write_bytes(sancodec.encode(signal))
    res = run("decode", path, "--start", "0.1s", "--end", "1s", "-o", tmp_path / "m.npy", "--json")
    assert res.exit_code == 0, res.output
    assert '"start": 32' in res.stdout and '"end": 256' in res.stdout
    assert run("decode", path, "--start", "26", "-o", tmp_path / "n.npy").exit_code != 0


@pytest.mark.parametrize(("args", "said"), [
    (["--end", "3s"], "--end 3s: past the record's end (999 rows at 360 Hz, 2.775 s)"),
    (["--start", "1:61"], "--start '1:61': minutes and seconds of a clock time run 0 to 59"),
    (["--start", "ten"], "--start takes a sample number or a time"),
    (["--start", "-5"], "sample range [-5, 999) is outside the record's [0, 999)"),
])
def test_a_range_out_of_reach_is_one_line(san, tmp_path, args, said):
    res = run("decode", san, *args, "-o", tmp_path / "x.npy")
    assert res.exit_code != 0 and said in " ".join(res.output.split()) and "Traceback" not in res.output, res.output
    assert not (tmp_path / "x.npy").exists()
