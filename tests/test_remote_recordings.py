"""Recordings at a URL (``io.remote``): ``read_signal``, ``sancodec encode`` and ``sancodec report`` fetch a WFDB
record's files (its header, signal files, segments and annotations) or an EDF or ``.npy`` file through fsspec first
(its in-memory filesystem here: no network), and take them as the local copies."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

fsspec = pytest.importorskip("fsspec")  # (in the dev extra, through distributed and dask: this runs)
runner = CliRunner()
SAMPLES = Path(sancodec.__path__[0]) / "data" / "samples"


@pytest.fixture(scope="module")
def bucket(mitdb_100, tmp_path_factory):
    """memory://sancodec-remote/: record 100 (.hea, .dat, .atr), the multi-segment ms100, and an EDF and a .npy;
    and the local folder that holds copies of those two."""
    fs = fsspec.filesystem("memory")
    for f in Path(mitdb_100).parent.glob("100.*"):
        fs.pipe(f"/sancodec-remote/db/{f.name}", f.read_bytes())
    for f in (SAMPLES / "multisegment").glob("ms100*"):
        fs.pipe(f"/sancodec-remote/ms/{f.name}", f.read_bytes())
    local = tmp_path_factory.mktemp("local")
    signal = sancodec.read_signal(mitdb_100).slice(0, 20_000)
    sancodec.write_signal(signal, local / "night.edf")
    np.save(local / "x.npy", signal.samples[:, 0].astype(np.int16))
    for name in ("night.edf", "x.npy"):
        fs.pipe(f"/sancodec-remote/{name}", (local / name).read_bytes())
    yield "memory://sancodec-remote", local
    fs.rm("/sancodec-remote", recursive=True)


def test_read_signal_fetches_every_file_of_a_record(bucket, mitdb_100):
    bucket, local = bucket
    here = sancodec.read_signal(mitdb_100)
    for url in (f"{bucket}/db/100", f"{bucket}/db/100.hea", f"{bucket}/db/100.dat"):
        there = sancodec.read_signal(url)
        assert np.array_equal(there.samples, here.samples) and there.header_dict() == here.header_dict()
        assert there.annotations and there.annotations[0].symbol == here.annotations[0].symbol
        assert np.array_equal(there.annotations[0].sample, here.annotations[0].sample)
    segmented = sancodec.read_signal(f"{bucket}/ms/ms100")  # a multi-segment record: its segments fetched too
    beside = sancodec.read_signal(SAMPLES / "multisegment" / "ms100")
    assert np.array_equal(segmented.samples, beside.samples) and segmented.header_dict() == beside.header_dict()
    for name, fs in (("night.edf", None), ("x.npy", 360)):
        there, copy = sancodec.read_signal(f"{bucket}/{name}", fs=fs), sancodec.read_signal(local / name, fs=fs)
        assert np.array_equal(there.samples, copy.samples) and there.header_dict() == copy.header_dict()


def test_missing_files_and_unknown_schemes_are_one_error(bucket):
    bucket, _ = bucket
    with pytest.raises(sancodec.SanFormatError, match="sancodec-remote/none.edf: no such file"):
        sancodec.read_signal(f"{bucket}/none.edf")
    with pytest.raises(sancodec.SanConfigError, match="nosuch://x/y.edf"):
        sancodec.read_signal("nosuch://x/y.edf")


def test_encode_of_a_url_writes_its_san_in_the_working_folder(bucket, mitdb_100, tmp_path, monkeypatch):
    bucket, _ = bucket
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["encode", f"{bucket}/db/100", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["input"] == f"{bucket}/db/100" and summary["output"] == "100.san"
    assert (tmp_path / "100.san").read_bytes() == sancodec.encode(sancodec.read_signal(mitdb_100))
    res = runner.invoke(app, ["encode", f"{bucket}/night.edf", f"{bucket}/db/100.hea", "-o", str(tmp_path),
                              "--mode", "lossy", "--prdn", "3", "-f", "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["100.san", "night.san"]
    assert sancodec.open(tmp_path / "night.san").header["lossy"]["target"] == {"prdn": 3.0}
    res = runner.invoke(app, ["encode", f"{bucket}/db/100"])  # exists: refused without --force
    assert res.exit_code != 0 and "already exists" in res.output
    res = runner.invoke(app, ["encode", f"{bucket}/none.edf"])
    assert res.exit_code != 0 and "none.edf: no such file" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["encode", f"{bucket}/x.npy", "--raw", "int16", "--fs", "360"])
    assert res.exit_code != 0 and "not a URL" in res.output


def test_report_of_a_url_and_its_san(bucket, tmp_path):
    bucket, _ = bucket
    san = tmp_path / "n.san"
    res = runner.invoke(app, ["encode", f"{bucket}/night.edf", "-o", str(san), "-q"])
    assert res.exit_code == 0, res.output
    with fsspec.open(f"{bucket}/n.san", "wb") as out:
        out.write(san.read_bytes())
    for given in (str(san), f"{bucket}/n.san"):
        res = runner.invoke(app, ["report", f"{bucket}/night.edf", given, "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["prdn"] == 0.0
    res = runner.invoke(app, ["report", f"{bucket}/night.edf"])
    assert res.exit_code == 0 and f"{bucket}/night.edf: 20160 x 2 samples" in res.output  # (whole EDF records)


def test_a_remote_header_naming_files_outside_its_folder_is_refused(mitdb_100):
    """A .hea at a URL whose signal file is a path out of its folder (``../secret.dat``): refused in one error that
    names the URL (not the temporary folder it was fetched to), nothing fetched past the header."""
    fs = fsspec.filesystem("memory")
    text = Path(mitdb_100).with_suffix(".hea").read_text().replace("100.dat", "../secret.dat")
    fs.pipe("/sancodec-hostile/db/100.hea", text.encode())
    fs.pipe("/sancodec-hostile/secret.dat", b"\0" * 64)
    try:
        with pytest.raises(sancodec.SanFormatError, match="^memory://sancodec-hostile/db/100.hea: "):
            sancodec.read_signal("memory://sancodec-hostile/db/100")
    finally:
        fs.rm("/sancodec-hostile", recursive=True)
