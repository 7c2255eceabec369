"""``batch --decode`` to a format asked for, with ``--physical`` and ``--channels``: each file written as ``sancodec
decode`` writes it (``decoded_output``, shared), files two inputs would both write failed rows, options checked
before any file is decoded."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from common import written_sans
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

DATA = Path(__file__).parent / "data"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def sans(tmp_path_factory) -> dict[str, Path]:
    """Files of five kinds: a WFDB record lossless and lossy, an EDF's, a float array's lossy file (its values on a
    grid), a CSV of decimals beside a time column."""
    folder = tmp_path_factory.mktemp("sans")
    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, folder / f.name)
    record = sancodec.read_signal(folder / "100_3chan")
    made = {"wfdb": sancodec.encode(record),
            "lossy": sancodec.encode(record, mode="lossy", prdn=3.0)}
    sancodec.write_signal(record, folder / "e.edf")
    made["edf"] = sancodec.encode(sancodec.read_signal(folder / "e.edf"))
    x = np.cumsum(np.random.default_rng(5).normal(size=(2000, 2)), axis=0).round(3)
    made["floats"] = sancodec.encode(x, fs=250.0, mode="lossy", prdn=2.0)
    (folder / "c.csv").write_text("time,a,b\n" + "".join(f"{k / 250:.3f},{a:.2f},{b}\n" for k, (a, b) in
                                                          enumerate(np.rint(x * 10).astype(int).tolist())))
    made["csv"] = sancodec.encode(sancodec.read_signal(folder / "c.csv"))
    return written_sans(folder, made)


def _files(folder: Path, stem: str) -> dict[str, bytes]:
    """The files named ``stem.*`` in ``folder`` by suffix, a WFDB header's record and signal file names made alike."""
    out = {}
    for f in sorted(folder.glob(f"{stem}.*")):
        data = f.read_bytes()
        out[f.suffix] = data.replace(stem.encode(), b"R") if f.suffix == ".hea" else data
    return out


CASES = [(fmt, channels, physical) for fmt in ("wfdb", "edf", "npy", "csv", "wav")
         for channels in (None, "1", "1,0")
         for physical in ((False, True) if fmt in ("npy", "csv") else (False,))]


@pytest.mark.parametrize("kind", ["wfdb", "lossy", "edf", "floats", "csv"])
def test_each_file_goes_to_the_format_asked_as_decode_writes_it(sans, tmp_path, kind):
    """For every kind of file, format, channel pick and --physical: the batch's worker writes the very bytes ``sancodec
    decode --format F [--channels C] [--physical]`` writes, or fails where decode refuses (float values to WFDB or
    WAV), with the same error."""
    from sancodec import batch

    san = sans[kind]
    for k, (fmt, channels, physical) in enumerate(CASES):
        ours, theirs = tmp_path / f"b{k}", tmp_path / f"d{k}"
        ours.mkdir(), theirs.mkdir()
        options = {"format": fmt, "channels": channels, "physical": physical}
        row = batch._decode_one((str(san), str(ours / "o"), options, True))
        picked = [] if channels is None else ["--channels", channels]
        res = run("decode", san, "--format", fmt, "-o", theirs / "o", *picked, *(["--physical"] if physical else []),
                  "-q")
        case = (kind, fmt, channels, physical)
        if res.exit_code != 0:
            assert row["status"] == "failed", case
            said = " ".join(res.output.split()).split(": ", 1)[-1].replace(str(theirs), str(ours))
            assert said in row["error"], (case, res.output, row["error"])
            assert not list(ours.iterdir()), case  # nothing written, nothing half-written
            continue
        assert row["status"] == "decoded", (case, row["error"])
        written = _files(theirs, "o")
        assert written and _files(ours, "o") == written, case
        assert row["output_bytes"] == sum(map(len, (f.read_bytes() for f in ours.iterdir()))), case


def test_a_batch_to_csv_picks_channels_by_name_and_fails_only_the_files_that_clash_or_lack_them(sans, tmp_path):
    """``batch --decode --format csv --physical --channels`` over a tree: each file decoded as ``sancodec decode``
    decodes it; ``a.edf.san`` and ``a.npy.san``, which would both be ``a.csv``, are failed rows that say so (the
    others decoded); a file without the channel named is a failed row naming it; exit 1."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "ward").mkdir(parents=True)
    shutil.copy(sans["wfdb"], src / "ward" / "r.san")
    shutil.copy(sans["lossy"], src / "a.edf.san")
    shutil.copy(sans["wfdb"], src / "a.npy.san")
    shutil.copy(sans["floats"], src / "f.san")  # (channels ch0, ch1: no "II")
    res = run("batch", "--decode", src, dst, "--format", "csv", "--physical", "--channels", "II", "--workers", "1",
              "-q")
    assert res.exit_code == 1, res.output
    with open(dst / "manifest.csv", newline="") as f:
        rows = {row["path"]: row for row in csv.DictReader(f)}
    assert rows[str(src / "ward" / "r.san")]["status"] == "decoded"
    for name in ("a.edf.san", "a.npy.san"):
        row = rows[str(src / name)]
        assert row["status"] == "failed" and f"would both be written as {dst / 'a.csv'}" in row["error"]
    assert rows[str(src / "f.san")]["status"] == "failed" and "'II': no channel index or name" in \
        rows[str(src / "f.san")]["error"]
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*")) == ["manifest.csv", "ward", "ward/r.csv"]
    assert run("decode", sans["wfdb"], "-o", tmp_path / "r.csv", "--physical", "--channels", "II", "-q").exit_code == 0
    assert (dst / "ward" / "r.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["--physical"], "--physical: options of batch --decode"),
    (["--format", "csv"], "--format: options of batch --decode"),
    (["--decode", "--physical"], "--physical applies to CSV and .npy output"),
    (["--decode", "--physical", "--format", "edf"], "--physical applies to CSV and .npy output"),
    (["--decode", "--format", "flac"], "unknown format 'flac'"),
    (["--decode", "--channels", " "], "--channels takes comma-separated channel indices or names"),
])
def test_decode_options_are_one_error_before_any_file(sans, tmp_path, args, message):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(sans["wfdb"], src / "r.san")
    res = run("batch", src, tmp_path / "dst", *args, "-q")
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "dst" / "r.csv").exists() and not (tmp_path / "dst" / "manifest.csv").exists()


@pytest.mark.parametrize(("start", "end"), [("0.5s", "0:02"), ("100", None), (None, "1s"), ("1000ms", "999")])
@pytest.mark.parametrize("fmt", ["wfdb", "edf", "npy", "csv"])
def test_a_range_of_each_file_is_what_decode_writes_of_it(sans, tmp_path, start, end, fmt):
    """``batch --decode --start/--end``, rows or times from each record's start: the files ``sancodec decode`` writes
    of that range."""
    from sancodec import batch

    ours, theirs = tmp_path / "b", tmp_path / "d"
    ours.mkdir(), theirs.mkdir()
    row = batch._decode_one((str(sans["wfdb"]), str(ours / "o"), {"format": fmt, "start": start, "end": end}, True))
    assert row["status"] == "decoded", row["error"]
    ranged = [*(["--start", start] if start else []), *(["--end", end] if end else [])]
    assert run("decode", sans["wfdb"], "--format", fmt, "-o", theirs / "o", *ranged, "-q").exit_code == 0
    assert _files(ours, "o") == _files(theirs, "o") and _files(ours, "o")


def test_a_record_that_ends_before_the_range_is_a_failed_row_and_a_bad_time_one_error(sans, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(sans["wfdb"], src / "short.san")  # 999 rows at 360 Hz: 2.775 s
    shutil.copy(sans["floats"], src / "long.san")  # 2000 rows at 250 Hz: 8 s
    res = run("batch", "--decode", src, tmp_path / "dst", "--format", "npy", "--end", "5s", "--workers", "1", "-q")
    assert res.exit_code == 1, res.output
    with open(tmp_path / "dst" / "manifest.csv", newline="") as f:
        rows = {Path(row["path"]).name: row for row in csv.DictReader(f)}
    assert rows["long.san"]["status"] == "decoded" and len(np.load(tmp_path / "dst" / "long.npy")) == 1250
    assert rows["short.san"]["status"] == "failed" and "--end 5s: past the record's end (999 rows at 360 Hz, " \
        "2.775 s)" in rows["short.san"]["error"]
    res = run("batch", "--decode", src, tmp_path / "bad", "--start", "1:75", "-q")
    assert res.exit_code == 2 and "minutes and seconds of a clock time run 0 to 59" in res.output
    assert not (tmp_path / "bad" / "manifest.csv").exists()
    res = run("batch", src, tmp_path / "bad", "--end", "5s", "-q")
    assert res.exit_code == 2 and "--end: options of batch --decode" in res.output
