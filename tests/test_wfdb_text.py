"""A WFDB record's .hea text kept in a lossless .san (``--keep-header-text``, ``io.wfdb_text``): a decode to the
same record name writes it back as it was, where it says what wfdb-python's own header says; never otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import Signal, read_signal, write_signal
from sancodec.cli import app
from sancodec.codec.container import SanReader

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _copy(record: Path, folder: Path) -> Path:
    """The record's files copied into ``folder``; its base path there."""
    folder.mkdir()
    for f in record.parent.glob(record.name + ".*"):
        shutil.copy(f, folder / f.name)
    return folder / record.name


def test_the_cli_gives_mitdb_100s_files_back_byte_for_byte(tmp_path, mitdb_100):
    """With --keep-header-text every file of the record comes back as it was (its .hea has a comment before the
    record line, CR LF line ends and no units, which wfdb-python writes otherwise); without it, the .dat and the .atr
    do, the .hea in wfdb-python's layout."""
    for keep in (True, False):
        out = tmp_path / ("kept" if keep else "plain")
        out.mkdir()
        args = ["encode", str(mitdb_100), "-o", str(out / "100.san"), "-q"] + (["--keep-header-text"] if keep else [])
        assert runner.invoke(app, args).exit_code == 0
        res = runner.invoke(app, ["decode", str(out / "100.san"), "-o", str(out / "100"), "-q"])
        assert res.exit_code == 0, res.output
        for ext in ("dat", "atr", "hea"):
            same = (out / f"100.{ext}").read_bytes() == Path(f"{mitdb_100}.{ext}").read_bytes()
            assert same == (keep or ext != "hea"), ext
        info = runner.invoke(app, ["info", str(out / "100.san")]).output
        assert ("its .hea text kept (166 characters)" in info) == keep, info
    assert (tmp_path / "kept" / "100.san").stat().st_size - (tmp_path / "plain" / "100.san").stat().st_size < 200


@pytest.mark.parametrize("name", ["test01_00s", "1001", "3000003_0003", "a103l_20000"])
def test_kept_header_text_comes_back_through_the_api(tmp_path, name):
    source = _copy(DATA / name, tmp_path / "src")
    data = sancodec.encode(read_signal(source, keep_header_text=True))
    (tmp_path / "out").mkdir()
    write_signal(sancodec.decode(data), tmp_path / "out" / name)
    for ext in ("hea", "dat"):
        assert (tmp_path / "out" / f"{name}.{ext}").read_bytes() == Path(f"{source}.{ext}").read_bytes()


def test_a_record_decoded_under_another_name_gets_wfdb_pythons_header(tmp_path):
    signal = read_signal(DATA / "test01_00s", keep_header_text=True)
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "other")
    text = (tmp_path / "other.hea").read_text()
    assert text.startswith("other 4 500 4000") and text != signal.source["hea"]
    assert np.array_equal(read_signal(tmp_path / "other").samples, signal.samples)


def _hostile(text: str) -> Signal:
    signal = read_signal(DATA / "test01_00s", keep_header_text=True)
    return sancodec.decode(sancodec.encode(Signal(signal.samples, signal.fs, signal.channel_names, signal.units,
                                                  signal.adc_gain, signal.baseline, signal.fmt, signal.adc_res,
                                                  signal.adc_zero, signal.file_name, signal.comments,
                                                  record_name=signal.record_name, source={"hea": text})))


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("100/mV", "1000/mV", 1),  # another gain
    lambda t: t.replace("test01_00s.dat", "other.dat", 1),  # another signal file
    lambda t: t.replace(" 114 ", " 115 ", 1),  # another checksum
    lambda t: t + "x.dat 16 100/mV 16 0 0 0 0 extra\n",  # a line past the signals
    lambda t: t.replace("\n", "\x00\n", 1),  # a control character
    lambda t: t + "# é\n",  # past ASCII
    lambda t: 12345,  # not text
    lambda t: t.replace("test01_00s 4 ", "test01_00s 2147483647 ", 1),  # a count wfdb-python would make lists of
])
def test_a_kept_header_that_says_otherwise_is_never_written(tmp_path, edit):
    """A .san header is not trusted: a kept text that describes other files, gains or samples, or holds lines some
    reader might take for more, is passed over, and wfdb-python's own header written, which reads back right."""
    source = (DATA / "test01_00s.hea").read_text()
    signal = _hostile(edit(source))
    write_signal(signal, tmp_path / "test01_00s")
    written = (tmp_path / "test01_00s.hea").read_text()
    assert written != source and written.startswith("test01_00s 4 500 4000")
    assert np.array_equal(read_signal(tmp_path / "test01_00s").samples, signal.samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test01_00s.dat", "test01_00s.hea"]  # no scratch left


def test_the_text_is_kept_in_lossless_files_only_and_never_past_a_slice(tmp_path):
    signal = read_signal(DATA / "test01_00s", keep_header_text=True)
    assert "hea" in SanReader(sancodec.encode(signal)).header["signal"]["source"]
    for mode in ({"mode": "near-lossless", "max_error": 1}, {"mode": "lossy", "prdn": 2}):
        assert not (SanReader(sancodec.encode(signal, **mode)).header["signal"].get("source") or {}).get("hea")
    assert "hea" not in (signal.slice(0, 100).source or {})
    assert "hea" not in (signal.select_channels([1, 0]).source or {})
    res = runner.invoke(app, ["encode", str(DATA / "test01_00s"), "-o", str(tmp_path / "x.san"), "--mode", "lossy",
                              "--prdn", "2", "--keep-header-text"])
    assert res.exit_code != 0 and "applies to lossless mode" in res.output and not (tmp_path / "x.san").exists()


@pytest.mark.parametrize("files, written", [
    (["rec.dat", "rec.xyz"], ["out.dat", "out.xyz"]),  # PTB's leads and Frank leads
    (["rec_e.dat", "rec_p.dat"], ["out_e.dat", "out_p.dat"]),  # MIMIC's files per rate
    (["rec.dat", "rec.hea"], ["out_0.dat", "out_1.dat"]),  # the header's own name
    (["rec.dat", "rec.atr"], ["out_0.dat", "out_1.dat"]),  # an annotation file's
    (["rec.dat", "../rec.xyz"], ["out_0.dat", "out_1.dat"]),  # not after the record's name
    (["rec.dat", "rec/x.xyz"], ["out_0.dat", "out_1.dat"]),  # a folder
    (["rec.dat", "rec.mat"], ["out_0.dat", "out_1.dat"]),  # a MAT file's, which this one would not be
    (["other.dat", "other.xyz"], ["out_0.dat", "out_1.dat"]),  # another record's
])
def test_a_record_in_several_files_keeps_their_names_after_its_own(tmp_path, files, written):
    """Each signal file is named as its source's was after the record's name (``s0010_re.xyz`` decoded as
    ``name.xyz``), where every one was so named with an extension no header, .san or annotation file uses; else
    ``name_<k>.dat``. No name is taken whole from a .san header: the record's part is the output's."""
    x = (np.arange(600).reshape(300, 2) * 7919 % 401 - 200).astype(np.int64)
    zeros = np.zeros(1, np.int64)
    from sancodec.signal import Annotations

    signal = Signal(x, 250.0, ["i", "vx"], ["mV", "mV"], adc_gain=[200.0, 200.0], baseline=[0, 0],
                    fmt=["16", "16"], file_name=files, record_name="rec",
                    annotations=[Annotations("atr", np.array([5]), ["N"], zeros, zeros, zeros, [""])])
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.hea", "out.atr", *written])
    assert np.array_equal(read_signal(tmp_path / "out").samples, x)
