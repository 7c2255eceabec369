"""Annotation files of annotators sancodec does not know by name (ludb's per-lead ``.i``, ``.ii`` ..., a user's own
``wrann`` output): named with ``--annotators`` or ``read_signal(..., annotators=[...])`` they are kept in the
``.san`` and written back by decode, on every path a record is read by (whole, streamed lossless, streamed lossy,
the near-lossless stream's lossless second pass, a URL, a multi-segment record, a batch); left unnamed, a warning
names them, once, where before they were dropped without a word."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecWarning, SanConfigError, SanFormatError, read_signal, write_signal
from sancodec.cli import app
from sancodec.codec.container import SanReader

runner = CliRunner()
SAMPLES = Path(sancodec.__path__[0]) / "data" / "samples"
HINT = "look like WFDB annotation files of annotators sancodec does not know"


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _write_annotators(folder: Path, name: str, rows: int) -> None:
    """Beside record ``name``: ``.i`` and ``.v1`` annotation files (ludb's kind), a text note, odd bytes and random
    bytes that end in a zero word (none an annotation file: no warning may name them)."""
    t = np.linspace(10, rows - 10, 30).astype(np.int64)
    wfdb.wrann(name, "i", t, symbol=["N"] * 30, write_dir=str(folder), fs=360)
    wfdb.wrann(name, "vx", t[::3], symbol=["("] * 10, aux_note=["p"] * 10, write_dir=str(folder), fs=360)
    (folder / f"{name}.vx").rename(folder / f"{name}.v1")  # (wfdb-python writes extensions of letters only)
    (folder / f"{name}.notes").write_text("seen by Dr A\n")
    (folder / f"{name}.bak").write_bytes(b"\x12" * 9)
    blob = np.random.default_rng(0).integers(0, 256, 1 << 16, dtype=np.uint8)  # (random bytes ending as an annotation
    blob[-2:] = 0  # file does, which wfdb-python reads as labels, slowly)
    (folder / f"{name}.blob").write_bytes(blob.tobytes())


@pytest.fixture
def record(tmp_path, mitdb_100) -> Path:
    """mitdb 100 (format 212, 650000 rows: the CLI streams it) with its .atr, two unknown annotators' files and two
    files that are none."""
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    _write_annotators(tmp_path, "100", 650_000)
    return tmp_path / "100"


def _same_files(a: Path, b: Path, extensions: tuple[str, ...]) -> None:
    for ext in extensions:
        x, y = wfdb.rdann(str(a), ext), wfdb.rdann(str(b), ext)
        assert list(x.sample) == list(y.sample) and x.symbol == y.symbol and x.aux_note == y.aux_note, ext


def _kept(path: Path) -> list[dict]:
    """The annotation sets the .san at ``path`` holds (its header's)."""
    return SanReader(path.read_bytes()).header["signal"].get("annotations", [])


def _hints(output: str) -> int:
    return output.count("look like WFDB annotation files") + output.count("looks like a WFDB annotation file")


def test_unnamed_annotators_files_are_named_in_a_warning_and_not_kept(record):
    with pytest.warns(SancodecWarning, match=r"100\.i, 100\.v1 " + HINT + r".*--annotators i,v1") as said:
        sig = read_signal(record)
    assert [a.extension for a in sig.annotations] == ["atr"]
    assert not any(other in str(w.message) for w in said for other in ("notes", "bak", "blob"))


def test_named_annotators_files_are_kept_and_written_back(record, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SancodecWarning)  # (nothing left unnamed: no warning)
        sig = read_signal(record, annotators=["i", "v1"])
    assert [a.extension for a in sig.annotations] == ["atr", "i", "v1"]
    back = sancodec.decode(sancodec.encode(sig))
    (tmp_path / "out").mkdir()
    files = write_signal(back, tmp_path / "out" / "100")
    assert sorted(f.name for f in files) == ["100.atr", "100.dat", "100.hea", "100.i", "100.v1"]
    _same_files(record, tmp_path / "out" / "100", ("atr", "i", "v1"))
    assert [a.extension for a in read_signal(record, annotators=["v1", "v1"]).annotations] == ["atr", "v1"]


def test_the_cli_keeps_them_on_the_streamed_lossless_path(record, tmp_path, monkeypatch):
    import sancodec.io

    monkeypatch.setattr(sancodec.io, "read_signal", lambda *a, **k: pytest.fail("the record was read whole"))
    result = run("encode", record, "--annotators", ".i, v1", "-o", tmp_path / "a.san", "-q")
    assert result.exit_code == 0, result.output
    assert _hints(result.output) == 0
    monkeypatch.undo()
    (tmp_path / "out").mkdir()
    result = run("decode", tmp_path / "a.san", "-o", tmp_path / "out" / "100")
    assert result.exit_code == 0, result.output
    _same_files(record, tmp_path / "out" / "100", ("atr", "i", "v1"))
    result = run("encode", record, "-o", tmp_path / "b.san", "-q")  # unnamed: said once, left out
    assert result.exit_code == 0 and _hints(result.output) == 1, result.output
    assert [a["extension"] for a in _kept(tmp_path / "b.san")] == ["atr"]


def test_the_cli_keeps_them_on_the_lossy_paths_and_warns_once(record, tmp_path, monkeypatch):
    """A lossy encode read whole warned twice of the files it left out (the streaming reader looked first); read a
    block at a time (a record of several lossy blocks) it keeps those named too."""
    from sancodec.codec import lossyfile

    result = run("encode", record, "--mode", "lossy", "--prdn", "5", "--effort", "fast", "-o", tmp_path / "w.san")
    assert result.exit_code == 0 and _hints(result.output) == 1, result.output
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 18)
    result = run("encode", record, "--mode", "lossy", "--prdn", "5", "--effort", "fast", "--annotators", "v1",
                 "-o", tmp_path / "s.san", "--frame-len", 1 << 17)
    assert result.exit_code == 0, result.output
    assert _hints(result.output) == 1 and "100.i looks like a WFDB annotation file" in result.output
    header = SanReader((tmp_path / "s.san").read_bytes()).header
    assert [a["extension"] for a in header["signal"]["annotations"]] == ["atr", "v1"]
    assert len(header["lossy"]["prdn"]) == 2


def test_the_near_lossless_streams_lossless_second_pass_keeps_them(tmp_path):
    """A near-lossless record whose dropouts take it past lossless is streamed again losslessly, and that file
    kept: it keeps the annotators named too."""
    from sancodec.io.wfdb import write_wfdb

    t = np.arange(4000)
    x = np.cumsum((t * t * 7919 + t * 104729) % 81 - 40)
    x = (x - x.mean()).astype(np.int64)
    x[::6] = -32768
    write_wfdb(sancodec.Signal(x[:, None], 360.0, ["ECG"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"]),
               tmp_path / "rec")
    _write_annotators(tmp_path, "rec", 4000)
    result = run("encode", tmp_path / "rec", "--mode", "near-lossless", "--max-error", "4", "--annotators", "i",
                 "-o", tmp_path / "n.san", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{"):])["mode"] == "lossless"
    header = SanReader((tmp_path / "n.san").read_bytes()).header
    assert [a["extension"] for a in header["signal"]["annotations"]] == ["i"]
    assert _hints(result.output) == 1  # (v1: said by the first pass, not again by the second)


def test_a_multi_segment_record_keeps_them(tmp_path):
    for f in (SAMPLES / "multisegment").glob("ms100*"):
        shutil.copy(f, tmp_path / f.name)
    _write_annotators(tmp_path, "ms100", 500)
    sig = read_signal(tmp_path / "ms100", annotators=["i"])
    assert [a.extension for a in sig.annotations] == ["i"]
    assert [a.extension for a in sancodec.decode(sancodec.encode(sig)).annotations] == ["i"]


def test_a_url_records_named_annotators_are_fetched(record, tmp_path):
    fsspec = pytest.importorskip("fsspec")  # (in the dev extra, through distributed and dask: this runs)
    fs = fsspec.filesystem("memory")
    for f in record.parent.glob("100.*"):
        fs.pipe(f"/sancodec-annotators/db/{f.name}", f.read_bytes())
    try:
        there = read_signal("memory://sancodec-annotators/db/100", annotators=["v1"])
        assert [a.extension for a in there.annotations] == ["atr", "v1"]
        with pytest.raises(SanFormatError, match="sancodec-annotators/db/100.q9: no such file"):
            read_signal("memory://sancodec-annotators/db/100", annotators=["q9"])
        result = run("encode", "memory://sancodec-annotators/db/100", "--annotators", "i", "-o", tmp_path / "u.san",
                     "-q")
        assert result.exit_code == 0, result.output
        header = SanReader((tmp_path / "u.san").read_bytes()).header
        assert [a["extension"] for a in header["signal"]["annotations"]] == ["atr", "i"]
    finally:
        fs.rm("/sancodec-annotators", recursive=True)


def test_a_batch_keeps_them_for_its_wfdb_records(record, tmp_path):
    from sancodec.batch import decode_tree, encode_tree

    tree = tmp_path / "tree"
    tree.mkdir()
    for f in record.parent.glob("100.*"):
        shutil.copy(f, tree / f.name)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:  # (in this process: a cluster of worker processes takes seconds to start)
        rows = encode_tree(tree, tmp_path / "coded", client=client, annotators=["i", "v1"])
        assert [r.status for r in rows] == ["encoded"] and not rows[0].warnings
        assert rows[0].input_bytes == sum((tree / f"100.{ext}").stat().st_size for ext in ("hea", "dat", "atr", "i",
                                                                                            "v1"))
        decode_tree(tmp_path / "coded", tmp_path / "back", client=client)
    _same_files(record, tmp_path / "back" / "100", ("atr", "i", "v1"))
    result = run("batch", tmp_path / "coded", tmp_path / "again", "--decode", "--annotators", "i", "-q")
    assert result.exit_code == 2 and "--annotators names the annotation files an encode reads" in result.output


def test_what_cannot_be_kept_is_refused_in_one_line(record, tmp_path):
    result = run("encode", record, "--annotators", "i,q9", "-o", tmp_path / "x.san")
    assert result.exit_code == 1 and "100.q9: no such annotation file (annotator 'q9' asked for)" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.san").exists()
    for given in ("hea", "a.b", ",", "i,,v1", "x" * 17):
        result = run("encode", record, "--annotators", given, "-o", tmp_path / "x.san")
        assert result.exit_code == 2 and "Traceback" not in result.output, (given, result.output)
    np.save(tmp_path / "x.npy", np.zeros((100, 1), np.int16))
    result = run("encode", tmp_path / "x.npy", "--fs", "100", "--annotators", "i", "-o", tmp_path / "x.san")
    assert result.exit_code == 2 and "no WFDB record" in result.output
    assert not (tmp_path / "x.san").exists()
    with pytest.raises(SanConfigError, match=r"annotators=\['i'\]"):
        read_signal(record, annotators="i")  # type: ignore[arg-type]
    with pytest.raises(SanConfigError, match="this is no WFDB record"):
        read_signal(tmp_path / "x.npy", fs=100, annotators=["i"])
    with pytest.raises(SanConfigError, match="annotator 'dat': an annotation file's extension .* none of csv, dat"):
        read_signal(record, annotators=["dat"])
    (record.parent / "100.atr").write_bytes(b"\xff" * 7)
    with pytest.raises(SanFormatError, match="unreadable annotation file"):
        read_signal(record, annotators=["i"])


def test_an_encode_never_writes_over_a_named_annotators_file(record):
    before = (record.parent / "100.v1").read_bytes()
    for force in ([], ["--force"]):
        result = run("encode", record, "--annotators", "i,v1", "-o", record.parent / "100.v1", *force)
        assert result.exit_code == 2 and "100.v1: is also an input of this command" in result.output, result.output
    assert (record.parent / "100.v1").read_bytes() == before


def test_an_annotator_named_on_the_records_own_signal_file_is_refused(tmp_path):
    x = np.arange(300, dtype=np.int16).reshape(150, 2)
    wfdb.wrsamp("rec", fs=250, units=["mV", "mV"], sig_name=["I", "II"], d_signal=x, fmt=["16", "16"],
                adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(tmp_path))
    (tmp_path / "rec.dat").rename(tmp_path / "rec.sig")
    (tmp_path / "rec.hea").write_text((tmp_path / "rec.hea").read_text().replace("rec.dat", "rec.sig"))
    with pytest.raises(SanConfigError, match="rec.sig: a signal file of the record, not an annotation file"):
        read_signal(tmp_path / "rec", annotators=["sig"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SancodecWarning)  # (its signal file is no unkept annotation file)
        assert read_signal(tmp_path / "rec").annotations == []


def test_an_annotators_extension_with_a_digit_decodes_to_wfdb(tmp_path, mitdb_100):
    """qtdb's .pu0 (an annotator sancodec knows) was kept in the .san, but its decode to WFDB crashed ("unexpected
    error (ValueError: extension must only comprise of letters.)": wfdb-python writes letters only): written under
    a stand-in and renamed, byte for byte as it was, beside a named .v1."""
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    _write_annotators(tmp_path, "100", 650_000)
    (tmp_path / "100.i").rename(tmp_path / "100.pu0")
    assert run("encode", tmp_path / "100", "--annotators", "v1", "-o", tmp_path / "a.san", "-q").exit_code == 0
    (tmp_path / "out").mkdir()
    result = run("decode", tmp_path / "a.san", "-o", tmp_path / "out" / "100")
    assert result.exit_code == 0, result.output
    for ext in ("atr", "pu0", "v1"):
        assert (tmp_path / "out" / f"100.{ext}").read_bytes() == (tmp_path / f"100.{ext}").read_bytes(), ext
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["100.atr", "100.dat", "100.hea", "100.pu0",
                                                                     "100.v1"]
    (tmp_path / "busy").mkdir()  # (its renamed annotation file in the way: kept without --force, nothing written)
    (tmp_path / "busy" / "100.v1").write_bytes(b"mine")
    result = run("decode", tmp_path / "a.san", "-o", tmp_path / "busy" / "100")
    assert result.exit_code == 2 and "100.v1: already exists" in result.output, result.output
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["100.v1"]
    assert (tmp_path / "busy" / "100.v1").read_bytes() == b"mine"


@pytest.mark.parametrize("suffix, said", [(".npy", ".npy holds samples only"), (".csv", "CSV holds samples only"),
                                          (".mat", "the MATLAB file holds samples only"),
                                          (".wav", "WAV holds samples only"),
                                          (".vhdr", "the marker file holds its New Segment only")])
def test_a_decode_to_a_format_without_annotations_says_they_are_not_written(tmp_path, suffix, said):
    """A decode to .npy, CSV, MATLAB, WAV or BrainVision left a record's annotations out without a word."""
    x = np.cumsum(np.random.default_rng(2).integers(-9, 10, (1000, 1)), axis=0)
    sig = sancodec.Signal(x, 360.0, ["ECG"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    write_signal(sig, tmp_path / "rec")
    _write_annotators(tmp_path, "rec", 1000)
    assert run("encode", tmp_path / "rec", "--annotators", "i", "-o", tmp_path / "r.san", "-q").exit_code == 0
    result = run("decode", tmp_path / "r.san", "-o", tmp_path / f"out{suffix}")
    assert result.exit_code == 0, result.output
    assert f"30 WFDB annotation(s) (i) not written: {said} (a decode to WFDB, EDF or BDF" in \
        " ".join(result.output.split())
    result = run("decode", tmp_path / "r.san", "-o", tmp_path / f"again{suffix}", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["annotations_not_written"] == 30, result.output
    result = run("decode", tmp_path / "r.san", "-o", tmp_path / "out.edf")
    assert "30 WFDB annotation(s) (i) written as EDF+ annotations" in result.output
    assert json.loads(run("decode", tmp_path / "r.san", "-o", tmp_path / "json.edf", "--json").output)[
        "annotations_not_written"] == 0
    assert "not written" not in run("decode", tmp_path / "r.san", "-o", tmp_path / "back").output


def test_an_edf_sources_annotations_left_out_of_a_decode_are_said(tmp_path):
    """An EDF+ file's annotations (here a record's labels written as EDF+) decoded to .npy or BrainVision were left out
    without a word; to EDF or WFDB they are written, and nothing is said."""
    x = np.cumsum(np.random.default_rng(3).integers(-9, 10, (2000, 1)), axis=0)
    sig = sancodec.Signal(x, 200.0, ["ECG"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    write_signal(sig, tmp_path / "rec")
    _write_annotators(tmp_path, "rec", 2000)
    assert run("encode", tmp_path / "rec", "--annotators", "i", "-o", tmp_path / "r.san", "-q").exit_code == 0
    assert run("decode", tmp_path / "r.san", "-o", tmp_path / "night.edf").exit_code == 0
    assert run("encode", tmp_path / "night.edf", "-o", tmp_path / "e.san", "-q").exit_code == 0
    for out, said in (("e.npy", ".npy holds samples only"), ("e.vhdr", "the marker file holds its New Segment only")):
        result = run("decode", tmp_path / "e.san", "-o", tmp_path / out)
        assert result.exit_code == 0, result.output
        assert f"30 EDF+ annotation(s) not written: {said}" in " ".join(result.output.split())
        result = run("decode", tmp_path / "e.san", "-o", tmp_path / f"j{out}", "--json")
        assert json.loads(result.output)["annotations_not_written"] == 30
    for out in (("-o", tmp_path / "again.edf"), ("-o", tmp_path / "w", "--format", "wfdb")):
        result = run("decode", tmp_path / "e.san", *out)
        assert result.exit_code == 0 and "not written" not in result.output, result.output
    assert len(read_signal(tmp_path / "w").annotations[0]) == 30


def test_a_folders_names_are_listed_once_while_it_stays_as_it_was(record, monkeypatch):
    """The warning's look for files beside a record lists its folder once while the folder is unchanged (a batch over
    a folder of thousands of records listed it once a record); a file added since is seen, and a folder changed just
    now is listed again (a file added within the clock's tick would leave its time as it was)."""
    import os

    from sancodec.io import wfdb as wfdb_io

    folder = record.parent
    os.utime(folder, (1_600_000_000, 1_600_000_000))  # (a folder nobody has changed for years)
    listed = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listed.append(path) or real(path))
    for _ in range(3):
        assert wfdb_io.unkept_annotation_files(record, {"atr"}) == ["i", "v1"]
    assert len(listed) == 1
    wfdb.wrann("100", "j", np.array([5, 9]), symbol=["N", "N"], write_dir=str(folder), fs=360)  # (now: changed)
    assert wfdb_io.unkept_annotation_files(record, {"atr"}) == ["i", "j", "v1"]
    assert wfdb_io.unkept_annotation_files(record, {"atr"}) == ["i", "j", "v1"] and len(listed) == 3
