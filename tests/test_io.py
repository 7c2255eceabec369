"""Signal I/O: WFDB round trips keep samples, header fields and annotations; clear errors."""

from __future__ import annotations

import io
import random
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from common import mutated
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sancodec import (
    SancodecError,
    SancodecWarning,
    SanConfigError,
    SanFormatError,
    Signal,
    decode,
    encode,
    read_signal,
    write_signal,
)
from sancodec.codec.container import SanReader

DATA = Path(__file__).parent / "data"
RECORDS = ["3000003_0003", "100_3chan", "test01_00s", "1001"]


def assert_same_record(a: Signal, b: Signal) -> None:
    np.testing.assert_array_equal(a.samples, b.samples)
    ha, hb = a.header_dict(), b.header_dict()
    for key in ("record_name", "file_name"):
        ha.pop(key), hb.pop(key)
    assert ha == hb


@pytest.mark.parametrize("name", RECORDS)
def test_wfdb_round_trip_is_exact(tmp_path, name):
    sig = read_signal(DATA / name)
    assert sig.is_digital and sig.samples.dtype == np.int64
    write_signal(sig, tmp_path / "copy")
    assert_same_record(sig, read_signal(tmp_path / "copy"))


def test_mitdb_with_annotations_round_trips(tmp_path, mitdb_100):
    sig = read_signal(str(mitdb_100) + ".dat")
    assert sig.samples.shape == (650000, 2) and sig.fmt == ["212", "212"]
    (ann,) = sig.annotations
    assert ann.extension == "atr" and len(ann) == 2274 and ann.symbol[:2] == ["+", "N"]
    files = write_signal(sig, tmp_path / "rec")
    assert sorted(f.name for f in files) == ["rec.atr", "rec.dat", "rec.hea"]
    back = read_signal(tmp_path / "rec.hea")
    assert_same_record(sig, back)
    assert back.annotations[0].equals(ann)


def _record_with_annotators(folder: Path) -> Path:
    """A copy of the 3-channel mitdb excerpt with a QRS detector's .qrs and an apnea-ecg style .apn beside its .atr,
    and a .txt that is no annotation file."""
    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, folder / f.name)
    wfdb.wrann("100_3chan", "atr", np.array([5, 400]), symbol=["N", "V"], write_dir=str(folder))
    wfdb.wrann("100_3chan", "qrs", np.array([10, 300, 600]), symbol=["N", "N", "N"], write_dir=str(folder))
    wfdb.wrann("100_3chan", "apn", np.array([12]), symbol=['"'], aux_note=["(A"], write_dir=str(folder))
    (folder / "100_3chan.txt").write_text("notes")
    return folder / "100_3chan"


@pytest.mark.parametrize("mode", [{"mode": "lossless"}, {"mode": "lossy", "prdn": 3}])
def test_every_known_annotators_file_is_carried_and_written_back(tmp_path, mode):
    """A record's .qrs and .apn come with its .atr (only .atr did: a lossless file dropped the others unsaid), are
    kept in the .san under their extensions, and are written back beside the record."""
    base = _record_with_annotators(tmp_path)
    sig = read_signal(base)
    assert [a.extension for a in sig.annotations] == ["atr", "qrs", "apn"]
    back = decode(encode(sig, **mode))
    assert all(a.equals(b) for a, b in zip(sig.annotations, back.annotations, strict=True))
    (tmp_path / "out").mkdir()
    files = write_signal(back, tmp_path / "out" / "rec")
    assert sorted(f.name for f in files) == ["rec.apn", "rec.atr", "rec.dat", "rec.hea", "rec.qrs"]
    for ext in ("qrs", "apn"):
        a, b = wfdb.rdann(str(base), ext), wfdb.rdann(str(tmp_path / "out" / "rec"), ext)
        assert list(a.sample) == list(b.sample) and a.symbol == b.symbol and a.aux_note == b.aux_note


def test_a_known_annotators_name_on_a_signal_file_or_on_no_annotation_file(tmp_path):
    """A record whose signal file is its .ecg reads that file as samples, not as annotations; a .qrs that is no
    annotation file is passed over with a warning naming it (a stray file need not stop an encode), an .atr that is
    none refused, naming it."""
    x = np.arange(300, dtype=np.int16).reshape(150, 2)
    wfdb.wrsamp("ecgrec", fs=250, units=["mV", "mV"], sig_name=["I", "II"], d_signal=x, fmt=["16", "16"],
                adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(tmp_path))
    (tmp_path / "ecgrec.dat").rename(tmp_path / "ecgrec.ecg")
    header = (tmp_path / "ecgrec.hea").read_text().replace("ecgrec.dat", "ecgrec.ecg")
    (tmp_path / "ecgrec.hea").write_text(header)
    sig = read_signal(tmp_path / "ecgrec")
    assert np.array_equal(sig.samples, x) and sig.annotations == []
    (tmp_path / "ecgrec.qrs").write_bytes(b"\xff" * 7)
    with pytest.warns(SancodecWarning, match=r"ecgrec\.qrs: no WFDB annotation file .*: passed over"):
        assert read_signal(tmp_path / "ecgrec").annotations == []
    (tmp_path / "ecgrec.qrs").write_text("hello\n")  # (which wfdb-python reads as two labels)
    with pytest.warns(SancodecWarning, match=r"ecgrec\.qrs: no WFDB annotation file"):
        assert read_signal(tmp_path / "ecgrec").annotations == []
    (tmp_path / "ecgrec.atr").write_bytes(b"\xff" * 7)
    with pytest.raises(SanFormatError, match=r"ecgrec\.atr: unreadable annotation file"):
        read_signal(tmp_path / "ecgrec")


def test_mitdb_s_annotation_file_decodes_byte_for_byte(tmp_path, mitdb_100):
    """MIT-BIH's .atr opens with no time resolution note, which wfdb-python's writer adds wherever it is given a
    rate (36 bytes more on mitdb 100, read the same); the source's file kept how it began, a lossless encode and
    decode gives it back byte for byte, as it does the .dat."""
    import sancodec

    sig = read_signal(mitdb_100)
    assert sig.annotations[0].time_resolution == 0
    write_signal(sancodec.decode(sancodec.encode(sig)), tmp_path / "100")
    for ext in ("atr", "dat"):
        assert (tmp_path / f"100.{ext}").read_bytes() == Path(f"{mitdb_100}.{ext}").read_bytes()
    # a lossy file keeps it as well, as it keeps its source's other details: the same metadata back
    excerpt = sig.slice(0, 20000)
    lossy = sancodec.encode(excerpt, mode="lossy", prdn=5, effort="fast")
    (item,) = SanReader(lossy).header["signal"]["annotations"]
    assert item["time_resolution"] == 0
    assert sancodec.decode(lossy).header_dict() == excerpt.header_dict()


@pytest.mark.parametrize("noted", [None, 360, 1000, 0.5])
def test_an_annotation_file_s_time_resolution_note_comes_back_as_it_was(tmp_path, noted):
    """Written with no note, with the record's rate or with another (wfdb-python's ``fs``): the same bytes after a
    lossless encode and decode, through the API and through the CLI's streamed encode and decode."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app

    x = (np.arange(2000)[:, None] * 7919 % 401 - 200).astype(np.int64)
    wfdb.wrsamp("rec", fs=360, units=["mV"], sig_name=["II"], d_signal=x, fmt=["16"], adc_gain=[200.0],
                baseline=[0], write_dir=str(tmp_path))
    wfdb.wrann("rec", "atr", np.array([10, 400, 1500]), symbol=["N", "V", "N"], fs=noted, write_dir=str(tmp_path))
    source = (tmp_path / "rec.atr").read_bytes()
    assert (b"## time resolution" in source) == (noted is not None)
    data = sancodec.encode(read_signal(tmp_path / "rec"))
    (tmp_path / "api").mkdir(), (tmp_path / "cli").mkdir()
    write_signal(sancodec.decode(data), tmp_path / "api" / "rec")
    assert (tmp_path / "api" / "rec.atr").read_bytes() == source
    runner = CliRunner()  # the CLI streams a format 16 record's encode and decode
    res = runner.invoke(app, ["encode", str(tmp_path / "rec"), "-o", str(tmp_path / "rec.san"), "-q"])
    assert res.exit_code == 0 and (tmp_path / "rec.san").read_bytes() == data, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "rec.san"), "-o", str(tmp_path / "cli" / "rec"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli" / "rec.atr").read_bytes() == source


@pytest.mark.parametrize("value", ["360", -1, 1e12, True, [360], float("nan")])
def test_a_hostile_time_resolution_in_a_header_is_refused(value):
    from sancodec.codec.annotations import pack_annotations, unpack_annotations
    from sancodec.signal import Annotations

    zeros = np.zeros(2, np.int64)
    packed = pack_annotations([Annotations("atr", np.array([1, 5]), ["N", "N"], zeros, zeros, zeros, ["", ""], 0)],
                              360.0)
    assert packed[0]["time_resolution"] == 0 and len(unpack_annotations(packed, 1000, 100)) == 1
    packed[0]["time_resolution"] = value
    with pytest.raises(SanFormatError, match="time_resolution"):
        unpack_annotations(packed, 1000, 100)


@pytest.mark.parametrize("note", ["x" * 256, "AFIB \u2192 SR"])  # past the one-byte length; past Latin-1
def test_an_annotation_note_wfdb_cannot_hold_is_refused_not_written_garbled(tmp_path, mitdb_100, note):
    """wfdb-python writes each character of a note as a byte after a one-byte length: a longer note, or a wider
    character, made an .atr that read back as other annotations (14 labels as 142, '?' among them), reported as
    written; now a one-line error, nothing written, and EDF still takes the note."""
    signal = read_signal(mitdb_100).slice(0, 3600)
    signal.annotations[0].aux_note[1] = note
    with pytest.raises(SancodecError, match="annotation note .* a WFDB annotation file cannot hold"):
        write_signal(signal, tmp_path / "rec")
    assert list(tmp_path.iterdir()) == []
    signal.annotations[0].aux_note[1] = note[:255].encode("latin-1", "replace").decode("latin-1")
    write_signal(signal, tmp_path / "rec")
    assert read_signal(tmp_path / "rec").annotations[0].equals(signal.annotations[0])


def test_annotations_that_read_back_otherwise_are_never_reported_written(tmp_path, mitdb_100, monkeypatch):
    """The read-back check behind the note check: with that check gone, wfdb-python's garbled file is caught as it
    is read back (every extension written, not only .atr), and nothing is left in place."""
    from sancodec.io import wfdb_names

    monkeypatch.setattr(wfdb_names, "_fits_aux", lambda note: True)
    signal = read_signal(mitdb_100).slice(0, 3600)
    signal.annotations[0].aux_note[1] = "x" * 300
    signal.annotations[0].extension = "qrs"
    with pytest.raises(SanFormatError, match=r"rec\.qrs: the written annotations do not read back"):
        write_signal(signal, tmp_path / "rec")
    assert list(tmp_path.iterdir()) == []


def test_flac_format_record(tmp_path):
    sig = read_signal(DATA / "flac_3_constant")
    assert sig.fmt == ["508"] * 3 and sig.samples.shape == (5600000, 3)
    write_signal(sig, tmp_path / "f")
    assert_same_record(sig, read_signal(tmp_path / "f"))


@pytest.mark.parametrize("fmt", ["16", "24", "32", "80", "212", "508", "516", "524"])
def test_every_writable_format_round_trips(tmp_path, fmt):
    bits = {"80": 8, "508": 8, "212": 12}.get(fmt, 16)
    x = np.random.default_rng(1).integers(-(1 << (bits - 1)), 1 << (bits - 1), size=(301, 2))
    wfdb.wrsamp("src", fs=250, units=["mV", "mV"], sig_name=["a", "b"], d_signal=x, fmt=[fmt, fmt],
                adc_gain=[100.0, 50.0], baseline=[0, 3], write_dir=str(tmp_path))
    sig = read_signal(tmp_path / "src")
    np.testing.assert_array_equal(sig.samples, x)
    write_signal(sig, tmp_path / "dst")
    assert_same_record(sig, read_signal(tmp_path / "dst"))


def test_unwritable_format_falls_back_to_16(tmp_path):
    sig = read_signal(DATA / "test01_00s")
    sig.fmt = ["310"] * sig.n_channels
    write_signal(sig, tmp_path / "w")
    back = read_signal(tmp_path / "w")
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.fmt == ["16"] * sig.n_channels


def test_npy_and_csv_round_trips(tmp_path):
    sig = read_signal(DATA / "test01_00s")
    write_signal(sig, tmp_path / "x.npy")
    back = read_signal(tmp_path / "x.npy", fs=500)
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.fs == 500
    write_signal(sig, tmp_path / "x.csv")
    csv_back = read_signal(tmp_path / "x.csv", fs=500)
    np.testing.assert_array_equal(csv_back.samples, sig.samples)
    assert csv_back.channel_names == sig.channel_names


def test_a_records_npy_and_mat_hold_the_narrowest_type_of_its_formats(tmp_path, mitdb_100):
    """A WFDB record's samples decoded to .npy or .mat come as int16 for formats 212 and 16 (as ``SanFile.dtype`` reads
    them and PhysioNet's .mat files hold them), a lossy decode's clipped to the format as its WFDB output is; they were
    int64, four times the bytes. A record of formats past 16 bits takes int32, one of no known format int64; a WAV's
    its own width."""
    import scipy.io

    sig = read_signal(mitdb_100).slice(0, 4000)
    for mode in ({"mode": "lossless"}, {"mode": "lossy", "prdn": 5}):
        back = decode(encode(sig, **mode))
        write_signal(back, tmp_path / "x.npy")
        write_signal(back, tmp_path / "x.mat")
        for got in (np.load(tmp_path / "x.npy"), scipy.io.loadmat(tmp_path / "x.mat")["val"].T):
            assert got.dtype == np.int16 and np.array_equal(got, back.samples)
    wide = Signal(sig.samples * 100, sig.fs, sig.channel_names, sig.units, adc_gain=[20000.0, 20000.0],
                  baseline=[0, 0], fmt=["24", "24"])
    write_signal(wide, tmp_path / "w.npy")
    assert np.load(tmp_path / "w.npy").dtype == np.int32
    bare = Signal(sig.samples, sig.fs, sig.channel_names, sig.units)
    write_signal(bare, tmp_path / "b.npy")
    assert np.load(tmp_path / "b.npy").dtype == np.int64
    import soundfile  # (a WAV's integers take its own width: 16 bits as int16, 24 as int32)

    for subtype, dtype in (("PCM_16", np.int16), ("PCM_24", np.int32)):
        soundfile.write(tmp_path / "a.wav", np.sin(np.arange(3000) / 9)[:, None] * [0.5, -0.25], 8000, subtype=subtype)
        back = decode(encode(read_signal(tmp_path / "a.wav"), mode="lossy", prdn=2))
        write_signal(back, tmp_path / "a.npy")
        assert np.load(tmp_path / "a.npy").dtype == dtype and np.array_equal(np.load(tmp_path / "a.npy"), back.samples)


def test_csv_without_header_and_with_time_column(tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n3,4\n5,6\n")
    assert read_signal(tmp_path / "a.csv", fs=10).samples.tolist() == [[1, 2], [3, 4], [5, 6]]
    (tmp_path / "b.csv").write_text("Time [s], RESP, II\n0.000,0.5,0.1\n0.008,0.6,0.2\n0.016,0.7,0.3\n")
    sig = read_signal(tmp_path / "b.csv")
    assert sig.channel_names == ["RESP", "II"] and sig.fs == 125.0  # not 124.99999999999989
    assert not sig.is_digital


def test_a_time_column_printed_to_fewer_decimals_still_gives_its_rate(tmp_path):
    """PhysioNet's bidmc CSV prints its 125 Hz times to two decimals once they pass 10 s (10.008 -> 10.01): the
    median step then read 0.01 s, 100 Hz; the rows over the span they cover read 125 Hz."""
    times = [f"{i / 125:.3f}" if i < 1250 else f"{i / 125:.2f}" for i in range(5001)]
    (tmp_path / "c.csv").write_text("Time [s], II\n" + "".join(f"{t},{i % 7}\n" for i, t in enumerate(times)))
    assert read_signal(tmp_path / "c.csv").fs == 125.0
    rows = "".join(f"{t},{k}\n" for k, t in enumerate([0, 0.002, 0.004, 0.003, 0.006, 0.008, 0.010]))
    (tmp_path / "d.csv").write_text("time,x\n" + rows)  # one row out of order: it read at the median step's rate,
    # 500 Hz, and its decode's times went on to 0.012 s; refused now, read at the rate --fs gives
    with pytest.raises(SanConfigError, match="not evenly spaced"):
        read_signal(tmp_path / "d.csv")
    assert read_signal(tmp_path / "d.csv", fs=500).fs == 500.0


def test_a_time_column_with_rows_missing_is_refused_not_read_at_a_wrong_rate(tmp_path):
    """A 250 Hz time column with a second of rows missing read at 229.16 Hz (its span's rate), and a lossless file of
    it decoded to times rebuilt at that rate, every one past the gap moved (5.000 s came back as 4.364 s). Refused now,
    saying where; --fs takes the rows as evenly spaced. Times printed to fewer places, or cut, still read (jitter
    within the unit printed)."""
    times = np.delete(np.arange(3000) * 0.004, range(1000, 1250))
    (tmp_path / "gap.csv").write_text("time,x\n" + "".join(f"{t:.3f},{k % 9}\n" for k, t in enumerate(times)))
    with pytest.raises(SanConfigError, match=r"not evenly spaced \(a step of 1.004 s after data row 1000"):
        read_signal(tmp_path / "gap.csv")
    from typer.testing import CliRunner

    from sancodec.cli import app

    res = CliRunner().invoke(app, ["encode", str(tmp_path / "gap.csv"), "-o", str(tmp_path / "gap.san")])
    assert res.exit_code == 2 and "not evenly spaced" in res.output and not (tmp_path / "gap.san").exists()
    assert read_signal(tmp_path / "gap.csv", fs=250).n_samples == 2750
    cut = [f"{np.floor(k / 360 * 1000) / 1000:.3f}" for k in range(3600)]  # 360 Hz cut to milliseconds
    (tmp_path / "cut.csv").write_text("time,x\n" + "".join(f"{t},{k % 9}\n" for k, t in enumerate(cut)))
    assert read_signal(tmp_path / "cut.csv").fs == 360.0


def _copy_record(tmp_path: Path, name: str) -> Path:
    for f in DATA.glob(f"{name}.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / name


def test_bad_inputs_raise_one_line_errors(tmp_path):
    base = _copy_record(tmp_path, "test01_00s")
    cases = {}
    cases["missing"] = tmp_path / "nope.dat"
    (tmp_path / "test01_00s.dat").rename(tmp_path / "moved.dat")
    cases["no dat"] = base
    (tmp_path / "orphan.dat").write_bytes(b"\0" * 10)
    cases["no hea"] = tmp_path / "orphan.dat"
    cases["dir"] = tmp_path
    (tmp_path / "x.edf").write_bytes(b"0")
    cases["ext"] = tmp_path / "x.edf"
    (tmp_path / "nan.npy").write_bytes(b"")
    np.save(tmp_path / "nan.npy", np.array([np.pi, np.nan]))  # (NaN among decimals is a gap, kept)
    cases["nan"] = tmp_path / "nan.npy"
    np.save(tmp_path / "inf.npy", np.array([1.0, np.inf]))
    cases["inf"] = tmp_path / "inf.npy"
    (tmp_path / "empty.csv").write_text("")
    cases["empty"] = tmp_path / "empty.csv"
    (tmp_path / "text.csv").write_text("a,b\nx,y\n")
    cases["text"] = tmp_path / "text.csv"
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases["pickle"] = tmp_path / "pickle.npy"
    (tmp_path / "text.npy").write_text("not an array\n")
    cases["not npy"] = tmp_path / "text.npy"
    for label, path in cases.items():
        with pytest.raises(SanFormatError) as info:
            read_signal(path)
        assert "\n" not in str(info.value), label
    with pytest.raises(SanFormatError, match="does not start with the .npy magic"):  # numpy spoke of a pickle
        read_signal(tmp_path / "text.npy", fs=100.0)
    with pytest.raises(SanFormatError, match="Object arrays"):  # a real object array keeps numpy's reason
        read_signal(tmp_path / "pickle.npy", fs=100.0)


def test_truncated_dat_is_detected(tmp_path):
    base = _copy_record(tmp_path, "test01_00s")
    data = (tmp_path / "test01_00s.dat").read_bytes()
    (tmp_path / "test01_00s.dat").write_bytes(data[: len(data) // 2])
    with pytest.raises(SancodecError, match="truncated|unreadable"):
        read_signal(base)


def test_signal_validation():
    with pytest.raises(SanFormatError):
        Signal(np.zeros((0, 1)), 100.0, ["a"], ["mV"])
    with pytest.raises(SanFormatError):
        Signal(np.zeros((5, 2)), 100.0, ["a"], ["mV", "mV"])
    with pytest.raises(SanFormatError):
        Signal(np.zeros((5, 1)), -1.0, ["a"], ["mV"])


@pytest.mark.parametrize("dtype, shape", [("int16", (3000,)), ("int32", (3000, 2)), ("uint8", (3000, 1))])
def test_a_npy_source_decodes_to_its_own_dtype_and_rank_by_default(tmp_path, dtype, shape):
    from typer.testing import CliRunner

    from sancodec.cli import app

    info = np.iinfo(dtype)
    x = np.clip(np.cumsum(np.random.default_rng(4).integers(-5, 6, shape), axis=0) + (info.min + info.max) // 2,
                info.min, info.max).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-q"])  # no -o, no --format: the source's
    assert res.exit_code == 0, res.output
    back = np.load(tmp_path / "x_decoded.npy")
    assert back.dtype == x.dtype and back.shape == x.shape and np.array_equal(back, x)
    assert runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", "--mode", "lossy", "--prdn", "20",
                               "-o", str(tmp_path / "l.san"), "-q"]).exit_code == 0
    assert runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.npy"), "-q"]).exit_code == 0
    lossy = np.load(tmp_path / "l.npy")
    assert lossy.dtype == x.dtype and lossy.shape == x.shape  # clipped to the dtype's range, never wrapped


def _records(rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(600, dtype=[("ecg", "<i2"), ("resp", "<f4")])
    out["ecg"] = rng.integers(-100, 100, 600)
    out["resp"] = np.round(rng.normal(size=600), 2).astype(np.float32)
    return out


@pytest.mark.parametrize("make", [
    lambda rng: rng.integers(-500, 500, (3000, 3)).astype("<i2"),
    lambda rng: np.asfortranarray(rng.integers(-500, 500, (3000, 3)).astype("<i2")),  # MATLAB's, column-major
    lambda rng: rng.integers(-500, 500, (1000, 2)).astype(">i2"),
    lambda rng: np.asfortranarray(np.round(rng.normal(size=(2000, 2)), 3)),  # decimals, column-major
    lambda rng: rng.integers(0, 255, 700).astype(np.uint8),
    lambda rng: _records(rng),  # a structured array of an int16 and a float32 field (pandas' to_records)
])
def test_a_npy_file_comes_back_byte_for_byte(tmp_path, make):
    """A lossless decode of a ``.npy`` source writes the very file: its dtype, byte order, rank and, where it was
    saved in Fortran order, that order (it came back C-ordered, another header and another byte order of data); a
    structured array's float32 field of decimals is weighed as float32 (lossless mode refused it, its values not
    being short decimals once widened to float64)."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    x = make(np.random.default_rng(9))
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", "-q"]).exit_code == 0
    assert runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "y.npy"), "-q"]).exit_code == 0
    assert (tmp_path / "y.npy").read_bytes() == (tmp_path / "x.npy").read_bytes()


@pytest.mark.parametrize("entry", ["yes", 1, [True], None])
def test_a_hostile_fortran_entry_writes_a_c_ordered_npy(entry):
    """A ``.san`` header is not trusted: only ``fortran: true`` writes a ``.npy`` in Fortran order."""
    import sancodec
    from sancodec.io.arrays import array_signal, npy_bytes

    x = np.arange(600, dtype=np.int16).reshape(300, 2)
    signal = array_signal(x, 250.0)
    signal.source = {**signal.source, "fortran": entry}
    back = np.load(io.BytesIO(npy_bytes(sancodec.decode(sancodec.encode(signal)))))
    assert np.array_equal(back, x) and back.flags.c_contiguous and not back.flags.f_contiguous


@pytest.mark.parametrize("dtype, shape", [("float32", (6000,)), ("float64", (6000, 2))])
def test_a_float_npy_source_decodes_lossy_or_near_lossless_to_its_own_float_type(tmp_path, dtype, shape):
    """A float32 array coded lossy or near-lossless came back as float64: twice the bytes, and not the array the
    user gave. Its float type and rank come back, within the target."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    rng = np.random.default_rng(6)
    x = (np.sin(np.arange(6000) / 9.0)[:, None] + 0.05 * rng.normal(size=(6000, 2))).reshape(-1, 2)
    x = (x[:, 0] if len(shape) == 1 else x).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    for i, (mode, bound) in enumerate(((["--mode", "lossy", "--prdn", "3"], None),
                                       (["--mode", "near-lossless", "--max-error", "0.01"], 0.01))):
        made = runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", *mode,
                                   "-o", str(tmp_path / f"{i}.san"), "-q"])
        assert made.exit_code == 0, made.output
        res = runner.invoke(app, ["decode", str(tmp_path / f"{i}.san"), "-o", str(tmp_path / f"{i}.npy"), "-q"])
        assert res.exit_code == 0, res.output
        back = np.load(tmp_path / f"{i}.npy")
        assert back.dtype == x.dtype and back.shape == x.shape
        error = np.abs(back.astype(np.float64) - x)
        if bound is not None:
            assert error.max() <= bound * (1 + 1e-6)
        else:
            assert error.max() < np.abs(x).max()


def test_a_csv_source_decodes_to_csv_and_a_hostile_npy_source_entry_changes_nothing(tmp_path):
    from typer.testing import CliRunner

    from sancodec.cli import app
    from sancodec.io.arrays import npy_bytes

    (tmp_path / "t.csv").write_text("time,a\n" + "".join(f"{i / 100:.2f},{i % 9}\n" for i in range(500)))
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "t.csv"), "-q"]).exit_code == 0
    assert runner.invoke(app, ["decode", str(tmp_path / "t.san"), "-q"]).exit_code == 0
    assert read_signal(tmp_path / "t_decoded.csv", fs=100).samples[:, 0].tolist() == [i % 9 for i in range(500)]
    sig = read_signal(tmp_path / "t.csv")
    for source in ({"kind": "npy", "dtype": "garbage", "rank": 1}, {"kind": "npy", "dtype": "<f8", "rank": "x"},
                   {"kind": "npy", "dtype": "|O"}, {"kind": "npy"}, {"kind": "npy", "dtype": ","},  # (a SyntaxError
                   {"kind": "npy", "dtype": "i3"}, {"kind": "npy", "dtype": "(2)i8"}, {"kind": "npy", "dtype": 8}):
        # in numpy's dtype parser, and a TypeError: neither reaches the user)
        sig.source = source
        back = np.load(io.BytesIO(npy_bytes(sig)))
        assert np.array_equal(back.reshape(len(back), -1), sig.samples)


def test_a_csv_time_column_comes_back_from_its_start_and_rate(tmp_path):
    """A CSV's leading time column is written back on decode: its name, its first time, the rate; a decoded
    range starts where its rows do, and the table reads back as the source did."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    rows = "".join(f"{12.5 + i / 125:.3f},{i % 9},{(3 * i) % 11}\n" for i in range(400))
    (tmp_path / "t.csv").write_text("Time [s],RESP,II\n" + rows)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "t.csv"), "-q"]).exit_code == 0
    for extra, first in (([], 0), (["--start", "40", "--end", "100"], 40)):
        out = tmp_path / f"back{first}.csv"
        assert runner.invoke(app, ["decode", str(tmp_path / "t.san"), "-o", str(out), "-q", *extra]).exit_code == 0
        lines = out.read_text().splitlines()
        assert lines[0] == "Time [s],RESP,II"
        times = np.array([float(line.split(",")[0]) for line in lines[1:]])
        np.testing.assert_allclose(times, 12.5 + (first + np.arange(len(times))) / 125, rtol=0, atol=1e-9)
        back, source = read_signal(out), read_signal(tmp_path / "t.csv")
        assert back.fs == 125.0 and back.channel_names == ["RESP", "II"]
        np.testing.assert_array_equal(back.samples, source.samples[first : first + len(times)])


@pytest.mark.parametrize("entry", [{"time_column": "t,x", "time_start": 0.0}, {"time_column": "t\nx", "time_start": 0},
                                   {"time_column": 'a"b', "time_start": 0}, {"time_column": "", "time_start": 0},
                                   {"time_column": ["t"], "time_start": 0}, {"time_column": "t" * 201, "time_start": 0},
                                   {"time_column": "t", "time_start": float("nan")},
                                   {"time_column": "t", "time_start": float("inf")},
                                   {"time_column": "t", "time_start": "0"}, {"time_column": "t", "time_start": True},
                                   {"time_column": "t", "time_start": 1e300}, {"time_column": "t"}])
def test_a_hostile_time_column_entry_writes_no_time_column(tmp_path, entry):
    """A .san header's source entry is not trusted: a time column whose name would break the CSV or whose start is
    not a finite number is left out, and the channels are written as they are (a slice too). The entry comes in a
    file with valid CRCs; a non-finite start, which a header cannot hold, on a Signal made in Python."""
    from common import rewrap

    import sancodec
    from sancodec.codec.container import SanReader

    sig = Signal(np.arange(40, dtype=np.int64).reshape(20, 2), 125.0, ["a", "b"], ["NU", "NU"],
                 source={"kind": "csv", "time_column": "Time", "time_start": 1.0})
    if all(np.isfinite(v) for v in entry.values() if isinstance(v, float)):
        data = sancodec.encode(sig, mode="lossless")
        header = SanReader(data).header
        header = {**header, "signal": {**header["signal"], "source": {"kind": "csv", **entry}}}
        hostile = sancodec.decode(rewrap(data, header=header))
    else:
        hostile = Signal(sig.samples, sig.fs, sig.channel_names, sig.units, source={"kind": "csv", **entry})
    for part, name in ((hostile, "all.csv"), (hostile.slice(3, 9), "part.csv")):
        write_signal(part, tmp_path / name)
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[0] == "a,b" and len(lines) == 1 + part.n_samples


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=50))
@example([0.0, float("inf")]).via("a span past the float range had read 0 Hz")
@example([-1e308, 1e308]).via("the same, from two finite times")
@settings(max_examples=300, deadline=None)
def test_a_time_column_gives_a_positive_finite_rate_or_none(times):
    from sancodec.io.arrays import rate_of

    with np.errstate(all="ignore"):
        rate = rate_of(np.asarray(times, dtype=np.float64))
    assert rate is None or (np.isfinite(rate) and rate > 0)


def test_semicolon_and_tab_separated_csv_with_decimal_commas_round_trip_as_written(tmp_path):
    """A spreadsheet's European export (semicolons, decimal commas) and an instrument's tab-separated one are read
    (``arrays.dialect``), code losslessly (their decimals), and come back in their own dialect, byte for byte;
    a header that lies about the dialect (garbage) writes commas and points; a name holding the delimiter is
    quoted."""
    from typer.testing import CliRunner

    from sancodec.cli.app import app

    runner = CliRunner()
    european = "Zeit [s];EKG;Atmung\n0,000;0,0617;-1,25\n0,004;0,0620;-1,20\n0,008;-0,0700;1,10\n"
    tabbed = "time\tx\ty\n0.0\t1.50\t2\n0.5\t1.25\t3\n1.0\t-1.00\t4\n"
    for name, text, values in (("e.csv", european, [[0.0617, -1.25], [0.062, -1.2], [-0.07, 1.1]]),
                               ("t.csv", tabbed, [[1.5, 2], [1.25, 3], [-1.0, 4]])):
        (tmp_path / name).write_text(text)
        sig = read_signal(tmp_path / name)
        assert sig.samples.tolist() == values and sig.fs in (250.0, 2.0)
        assert runner.invoke(app, ["encode", str(tmp_path / name), "-o", str(tmp_path / "x.san"), "--force",
                                   "-q"]).exit_code == 0
        res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "back.csv"), "--force", "-q"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / "back.csv").read_text() == text
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + european.encode())  # Excel's "CSV UTF-8" export
    assert read_signal(tmp_path / "bom.csv").channel_names == ["EKG", "Atmung"]  # its time column found
    sig = read_signal(tmp_path / "e.csv")
    for lie in ({"delimiter": "|"}, {"decimal": ";"}, {"delimiter": ",", "decimal": ","}, {"delimiter": 5}):
        write_signal(Signal(sig.samples, sig.fs, sig.channel_names, sig.units, source={**sig.source, **lie}),
                     tmp_path / "lie.csv")
        assert (tmp_path / "lie.csv").read_text().splitlines()[1] == "0.000,0.0617,-1.25"
    named = Signal(sig.samples, sig.fs, ["a;b", "c"], sig.units, source=sig.source)
    write_signal(named, tmp_path / "named.csv")
    assert (tmp_path / "named.csv").read_text().splitlines()[:2] == ['Zeit [s];"a;b";c', "0,000;0,0617;-1,25"]
    assert read_signal(tmp_path / "named.csv").channel_names == ["a;b", "c"]  # quoted, in its own dialect


@pytest.mark.parametrize("dialect", [None, {"kind": "csv", "delimiter": ";", "decimal": ","},
                                     {"kind": "csv", "delimiter": "\t", "decimal": "."}])
def test_channel_names_holding_delimiters_or_quotes_come_back_from_a_csv(tmp_path, dialect):
    """A name holding a comma ("ECG, II", as some WFDB and EDF records name their leads), a semicolon or a quote is
    quoted in the header row, as spreadsheets write it, and read back whole; the delimiter is sniffed from the data
    rows, so names cannot mislead it. (Such a CSV used to read back as "3 names for 2 columns".)"""
    for names in (["ECG, II", "V5"], ['a"b', "c;d"], ["x\ny", "t"]):
        sig = Signal(np.array([[1, 2], [3, 4]]) / 4, 10.0, names, ["mV", "mV"], source=dialect)
        write_signal(sig, tmp_path / "n.csv")
        back = read_signal(tmp_path / "n.csv", fs=10)
        assert back.channel_names == [" ".join(n.splitlines()) for n in names]
        assert back.samples.tolist() == [[0.25, 0.5], [0.75, 1.0]]
    assert read_signal(tmp_path / "n.csv", fs=10).channel_names[0] == "x y"  # "t" second: not a time column either


@pytest.mark.parametrize("dialect", [None, {"kind": "csv", "delimiter": ";", "decimal": ","}])
def test_channel_names_that_are_numbers_come_back_from_a_csv(tmp_path, dialect):
    """Names that all read as numbers (a WFDB record's leads named "1" and "2") are quoted in the header row, which
    read_csv takes for names before unquoted data rows: the channels come back named so, with every sample. (Such a
    CSV used to read its header row as a first sample.) A file that quotes its data rows too keeps its first row as
    data (read since values in quotes read), and an unquoted row of numbers is data as before."""
    for names in (["42"], ["1", "2.5"], ["-3", "1e5"]):
        sig = Signal(np.arange(2 * len(names)).reshape(2, len(names)) + 7, 10.0, names, ["NU"] * len(names),
                     source=dialect)
        write_signal(sig, tmp_path / "n.csv")
        back = read_signal(tmp_path / "n.csv", fs=10)
        assert back.channel_names == names and back.samples.tolist() == sig.samples.tolist()
    (tmp_path / "plain.csv").write_text("42\n1\n2\n")
    assert read_signal(tmp_path / "plain.csv", fs=10).samples.ravel().tolist() == [42, 1, 2]
    (tmp_path / "named.csv").write_text("'42'\n1\n2\n")  # PhysioNet's single quotes
    assert read_signal(tmp_path / "named.csv", fs=10).channel_names == ["42"]
    (tmp_path / "all.csv").write_text('"1";"2"\n"3";"4"\n')  # every value quoted: its first row is no header
    assert read_signal(tmp_path / "all.csv", fs=10).samples.tolist() == [[1, 2], [3, 4]]


def _clock(seconds: float) -> str:
    """An elapsed time as PhysioNet's CSV exports print it: m:ss.mmm, h:mm:ss.mmm past the hour."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return (f"{h}:{m:02d}" if h else f"{m}") + f":{rest / 1000:06.3f}"


def test_physionets_csv_export_with_its_units_row_and_clock_times_reads_as_the_record(tmp_path, mitdb_100):
    """PhysioNet's exports ('Elapsed time','MLII','V5' / 'hh:mm:ss.mmm','mV','mV' / '0:00.003',-0.145,-0.065): the
    second header row gives the units, the clock times the rate (360 Hz, not the 360.008 their millisecond rounding
    reads over 10 s), and the millivolts code losslessly; a clock time past the hour reads too."""
    source = read_signal(mitdb_100).slice(0, 3600)
    mv = source.physical()
    rows = [f"'{_clock(i / 360)}',{a:.3f},{b:.3f}" for i, (a, b) in enumerate(mv)]
    (tmp_path / "samples.csv").write_text("'Elapsed time','MLII','V5'\n'hh:mm:ss.mmm','mV','mV'\n"
                                          + "\n".join(rows) + "\n")
    sig = read_signal(tmp_path / "samples.csv")
    assert sig.channel_names == ["MLII", "V5"] and sig.units == ["mV", "mV"] and sig.fs == 360.0
    assert np.array_equal(sig.samples, mv)
    import sancodec

    back = sancodec.decode(sancodec.encode(sig))  # lossless: millivolts at 3 decimals
    assert np.array_equal(back.physical(), mv) and back.units == ["mV", "mV"]
    assert _clock(3725.5) == "1:02:05.500"
    (tmp_path / "late.csv").write_text("'Elapsed time','x'\n'1:02:05.500',1\n'1:02:05.504',2\n")
    assert read_signal(tmp_path / "late.csv").fs == 250.0
    (tmp_path / "mixed.csv").write_text("'Elapsed time','x'\n'0:00.000',1\n0.004,2\n")
    with pytest.raises(SanFormatError, match="mixes clock times"):
        read_signal(tmp_path / "mixed.csv")
    (tmp_path / "odd.csv").write_text("'Elapsed time','x','y'\n'hh','m\x7fV','" + "u" * 65 + "'\n'0:00.000',1,2\n"
                                      "'0:00.004',2,3\n")
    assert read_signal(tmp_path / "odd.csv").units == ["NU", "NU"]  # none a header could hold: not units at all
    write_signal(sig, tmp_path / "again.csv")  # the units row is written back, the times as clock times
    text = (tmp_path / "again.csv").read_text().splitlines()
    assert text[:4] == ["Elapsed time,MLII,V5", "hh:mm:ss.mmm,mV,mV", "0:00.000,-0.145,-0.065",
                        "0:00.003,-0.145,-0.065"]
    assert [row.split(",")[0] for row in text[2:]] == [_clock(i / 360) for i in range(3600)]  # as PhysioNet's
    again = read_signal(tmp_path / "again.csv")
    assert again.units == ["mV", "mV"] and np.array_equal(again.samples, mv)
    for lie in ("yes", 1, None):
        write_signal(Signal(sig.samples, sig.fs, sig.channel_names, sig.units, source={**sig.source, "units_row": lie}),
                     tmp_path / "lie.csv")
        assert (tmp_path / "lie.csv").read_text().splitlines()[1] == "0:00.000,-0.145,-0.065"


def test_clock_times_are_written_back_as_clock_times_past_the_hour_and_from_a_later_start(tmp_path):
    """A CSV whose times were elapsed clock times is written back so (h:mm:ss past the hour, at the decimals it had,
    a --start range from its own time); a header that says so but holds a start no clock shows (negative), or
    says so in anything but true, gets seconds."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app

    runner = CliRunner()
    rows = [f"{_clock(3599.98 + i / 100)},{i}" for i in range(6)]
    (tmp_path / "h.csv").write_text("Elapsed time,x\n" + "\n".join(rows) + "\n")
    sig = read_signal(tmp_path / "h.csv")
    assert sig.fs == 100.0 and sig.source["time_clock"] is True
    write_signal(sig, tmp_path / "h2.csv")
    assert (tmp_path / "h2.csv").read_text().splitlines() == ["Elapsed time,x", "59:59.980,0", "59:59.990,1",
                                                              "1:00:00.000,2", "1:00:00.010,3", "1:00:00.020,4",
                                                              "1:00:00.030,5"]
    (tmp_path / "h.san").write_bytes(sancodec.encode(sig))
    res = runner.invoke(app, ["decode", str(tmp_path / "h.san"), "-o", str(tmp_path / "part.csv"), "--start", "3",
                              "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "part.csv").read_text().splitlines()[1:3] == ["1:00:00.010,3", "1:00:00.020,4"]
    (tmp_path / "whole.csv").write_text("Elapsed time,x\n0:07,1\n0:08,2\n")  # whole seconds: no decimals
    write_signal(read_signal(tmp_path / "whole.csv"), tmp_path / "whole2.csv")
    assert (tmp_path / "whole2.csv").read_text().splitlines()[1:] == ["0:07,1", "0:08,2"]
    for source in ({**sig.source, "time_start": -1.0}, {**sig.source, "time_clock": "yes"}):
        write_signal(Signal(sig.samples, sig.fs, sig.channel_names, sig.units, source=source), tmp_path / "s.csv")
        assert ":" not in (tmp_path / "s.csv").read_text().splitlines()[1]


def test_a_cell_that_is_no_number_is_named_by_row_and_column(tmp_path):
    """Stray text in a device's export: one error naming the data row and column (numpy counted rows from 0 and
    suggested usecols); a ragged row says its length; a gap in the time column says a time is never missing."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    (tmp_path / "g.csv").write_text("time,a,b\n0.000,1.5,2\n0.004,2.5,n/a7\n0.008,3.5,4\n")
    with pytest.raises(SanFormatError, match=re.escape("data row 2, column 'b' is not a number ('n/a7')")):
        read_signal(tmp_path / "g.csv")
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "g.csv"), "-q"])
    assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1 and "data row 2" in res.output
    assert not (tmp_path / "g.san").exists()
    (tmp_path / "r.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(SanFormatError, match="data row 2 has 1 values, the first 2"):
        read_signal(tmp_path / "r.csv", fs=10)
    (tmp_path / "t.csv").write_text("time,a\n0.000,1\n,2\n0.008,3\n")
    with pytest.raises(SanFormatError, match="data row 2, column 'time' is empty: a time is never missing"):
        read_signal(tmp_path / "t.csv")


def test_csv_round_trips_that_used_to_lose_a_column_or_a_row(tmp_path):
    """Three texts random CSV testing found (tests/test_hostile_sources.py, more seeds): a first channel named as a
    time column is ("Zeit", a time column whose first time could not be kept) came back as the time column, a
    channel short; one column at decimal commas ("0,056") came back as two values; a row of gaps right under the
    header came back as the units row, a row short."""
    cases = {
        "zeit.csv": "Zeit,time,x\ninf,-0.442,0.0906\n-1,-35.2,-36.0\n0.64,-508.0,0.0263\n",  # time dropped: inf
        "one.csv": "Zeit;'Elapsed time'\n9007199254740993;0,056\n-956,0;0,615\n",  # time dropped: too large
        "gaps.csv": "a;t\n-;nan\n41,1;-742,0\n87,4;0\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        signal = read_signal(tmp_path / name, fs=100.0)
        write_signal(signal, tmp_path / "o.csv")
        again = read_signal(tmp_path / "o.csv", fs=100.0)
        assert again.n_channels == signal.n_channels and again.n_samples == signal.n_samples, name
        assert np.array_equal(again.physical(), signal.physical(), equal_nan=True), name
    assert read_signal(tmp_path / "gaps.csv", fs=100.0).units == ["NU", "NU"]  # not "-" and "nan"


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_time_column_of_inf_or_of_vast_spans_reads_and_writes_without_warnings(tmp_path):
    """Two texts the random CSV testing found printing numpy's overflow and invalid-value warnings: times of inf,
    and times 1e308 apart (a rate of about 1e-308 Hz, whose rebuilt times pass float64's range)."""
    for text in ("Zeit,t\n0.0472,-17.0\n1e308,0.24\n30.4,0.5\n1.23456789012,-16.3\ninf,9.2\n",
                 "'Elapsed time'\tZeit\n-0.0773\t0.011\ninf\t-63.2\n-70.2\t0.42\n"):
        (tmp_path / "w.csv").write_text(text)
        try:
            signal = read_signal(tmp_path / "w.csv")
        except SancodecError:  # (no rate follows from such times: --fs is asked for)
            signal = read_signal(tmp_path / "w.csv", fs=10.0)
        write_signal(signal, tmp_path / "o.csv")


def test_integers_without_a_wfdb_format_are_written_as_those_integers(tmp_path):
    """A digital signal with no WFDB format (a user's integers, an integer .npy or CSV source) went through
    wfdb-python's digitisation of its physical values: format 32 at gains such as 1.8e10 units per mV, the integers
    and gains lost. Now format 16, or 32 past its range, with the signal's own gains (1 where it has none)."""
    x = (np.arange(3000).reshape(1500, 2) % 50).astype(np.int64)
    for fields, gains, fmt in (({"adc_gain": [200.0, 100.0], "baseline": [5, -3]}, [200.0, 100.0], "16"),
                               ({}, [1.0, 1.0], "16")):
        signal = Signal(x * (1 if fmt == "16" else 100000), 250.0, ["a", "b"], ["mV", "mV"], **fields)
        write_signal(signal, tmp_path / "rec")
        back = read_signal(tmp_path / "rec")
        assert back.fmt == [fmt, fmt] and back.adc_gain == gains and np.array_equal(back.samples, signal.samples)
        assert np.allclose(back.physical(), signal.physical())
    wide = Signal(x * 100000, 250.0, ["a", "b"], ["mV", "mV"])
    write_signal(wide, tmp_path / "wide")
    back = read_signal(tmp_path / "wide")
    assert back.fmt == ["32", "32"] and np.array_equal(back.samples, wide.samples)
    past = Signal(x * 2**40, 250.0, ["a", "b"], ["mV", "mV"])  # (came back other integers, without a word)
    with pytest.raises(SanConfigError, match="past WFDB's widest format"):
        write_signal(past, tmp_path / "past")
    write_signal(past, tmp_path / "past.npy")
    assert np.array_equal(read_signal(tmp_path / "past.npy", fs=250).samples, past.samples)


def test_repeated_and_empty_channel_names_are_written_as_they_are(tmp_path):
    """A name repeated (wfdb-python's writer refuses it; each repeat goes through a placeholder put back in the
    header), empty (a signal line without a description) or ending as a placeholder would (the placeholder is
    made longer, so that its line is found by its end alone): each record reads back with its very names."""
    x = np.arange(300, dtype=np.int16).reshape(100, 3)
    for k, names in enumerate((["A", "A", "x sancodec_repeated_name_1"], ["", "", ""], ["a b", "", "a b"],
                               ["sancodec_repeated_name_1", "sancodec_repeated_name_1", "B"])):
        write_signal(Signal(x, 250.0, names, ["mV"] * 3), tmp_path / f"r{k}", format="wfdb")
        back = read_signal(tmp_path / f"r{k}")
        assert back.channel_names == names and np.array_equal(back.samples, x)


def test_a_hostile_counter_entry_writes_no_counter(tmp_path):
    """A ``.san`` header is not trusted: a ``counter`` source entry that is no list of one or two finite numbers
    within ``wfdb.MAX_COUNTER``, the first above 0, writes a record line without a counter (and the record)."""
    x = np.arange(200, dtype=np.int16).reshape(100, 2)
    for k, counter in enumerate(([0], [-5.0], [float("nan")], [1e300], [100, float("inf")], [100, 2, 3], "100",
                                 [True], [[100]], [])):
        signal = Signal(x, 250.0, ["a", "b"], ["mV"] * 2, source={"counter": counter})
        write_signal(signal, tmp_path / f"r{k}", format="wfdb")
        assert (tmp_path / f"r{k}.hea").read_text().splitlines()[0] == f"r{k} 2 250 100"
        assert np.array_equal(read_signal(tmp_path / f"r{k}").samples, x)
    for k, (counter, line) in enumerate((([12.5, 7.25], "250/12.5(7.25)"), ([12.5, 0], "250/12.5"),
                                         ([12.5], "250/12.5"), ([12.5, -3], "250/12.5"))):  # (no base at or below 0)
        write_signal(Signal(x, 250.0, ["a", "b"], ["mV"] * 2, source={"counter": counter}), tmp_path / f"ok{k}")
        assert (tmp_path / f"ok{k}.hea").read_text().splitlines()[0] == f"ok{k} 2 {line} 100"
        assert read_signal(tmp_path / f"ok{k}").source["counter"] == ([12.5, 7.25] if k == 0 else [12.5])


def test_header_strings_are_spelled_as_wfdb_and_edf_hold_them_or_refused(tmp_path):
    """wfdb-python reads a header as ASCII and drops the rest ('Lead ä' came back 'Lead', 'µV' came back 'V', a unit
    with '!' made a line that read back as other fields); EDF failed on edfio's ascii error. The micro sign is
    spelled 'u' (µV: uV, as EDF+ writes it); any other character past ASCII is refused by name."""
    x = (np.arange(3000).reshape(1500, 2) % 50).astype(np.int64)

    def made(names=("a", "b"), units=("mV", "mV"), comments=()):
        return Signal(x, 250.0, list(names), list(units), adc_gain=[200.0, 200.0], baseline=[0, 0],
                      comments=list(comments))

    for out in ("rec", "rec.edf"):
        write_signal(made(units=("mV", "\u00b5V")), tmp_path / out)
        assert read_signal(tmp_path / out).units == ["mV", "uV"]
    for bad, message in ((made(names=("Lead \u00e4", "b")), "channel name 'Lead \u00e4' holds a character past ASCII"),
                         (made(comments=("Patient M\u00fcller",)), "comment 'Patient M\u00fcller' holds"),
                         (made(units=("mV", "millivolts!")), "unit 'millivolts!' cannot be written in a WFDB")):
        with pytest.raises(SanConfigError, match=message):
            write_signal(bad, tmp_path / "bad")
    with pytest.raises(SanConfigError, match="channel 0's name 'Lead \u00e4' holds a character past ASCII"):
        write_signal(made(names=("Lead \u00e4", "b")), tmp_path / "bad.edf")
    assert not any(p.name.startswith("bad") for p in tmp_path.iterdir())
    write_signal(made(names=("Lead \u00e4", "b")), tmp_path / "ok.csv")  # CSV and .npy keep them
    assert read_signal(tmp_path / "ok.csv", fs=250).channel_names == ["Lead \u00e4", "b"]


def test_a_first_channel_named_as_times_are_writes_as_csv_after_a_time_column(tmp_path):
    """A signal of no CSV source whose first channel is called 'time' (read_csv would take it for the time column)
    gets a time column of its own, as designed; finding no source's time decimals it failed with an AttributeError
    ('NoneType' object has no attribute 'get')."""
    x = (np.arange(3000).reshape(1500, 2) % 50).astype(np.int64)
    signal = Signal(x, 250.0, ["time", "c"], ["mV", "mV"], adc_gain=[200.0, 200.0], baseline=[0, 0])
    write_signal(signal, tmp_path / "t.csv")
    back = read_signal(tmp_path / "t.csv")
    assert back.channel_names == ["time", "c"] and back.fs == 250.0 and np.array_equal(back.samples, x)


def test_kept_checksums_trust_nothing_in_a_san_header():
    """A damaged record's checksums come from an untrusted .san header: only well-formed ``[declared, read]`` pairs
    of 16-bit values, one a channel, whose read checksum is the samples' own, change what a header says."""
    from sancodec.io.wfdb import kept_checksums

    sums = [70000, 5, -1]
    own = [70000 % 65536, 5, 65535]
    assert kept_checksums(None, sums) == own
    for junk in ("x", [1, 2], [[1, 2]] * 2, {"checksums": 3}, {"checksums": [[1, 2]] * 2}):
        assert kept_checksums(junk if isinstance(junk, dict) else {"checksums": junk}, sums) == own
    for pair in ([9, 70000 % 65536, 0], [9], [9.0, 5], [True, 5], [-9, 5], [65536, 5], "9,5", None):
        assert kept_checksums({"checksums": [None, pair, None]}, sums) == own
    assert kept_checksums({"checksums": [None, [9, 5], [7, 65535]]}, sums) == [own[0], 9, 7]
    assert kept_checksums({"checksums": [None, [9, 6], None]}, sums) == own  # other samples: their own


def test_nan_gaps_among_decimals_in_an_array_are_kept_as_a_csvs_are(tmp_path):
    """``decode --physical -o x.npy`` writes a record's missing samples as NaN, and a Zarr fill value is NaN, yet
    a .npy or array holding NaN was refused ("holds NaN or Inf samples") where a CSV's gaps were kept. Now NaN among
    decimals is held as a CSV's gaps are (integers at the decimals, each gap WFDB's invalid sample): lossless files
    give the same values and NaN back, float64 and float32 alike, through the CLI and the library, and lossy and
    near-lossless files NaN at the same places (format 1.15); NaN among other floats and infinities are refused in
    one line each."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app
    from sancodec.metrics import prdn

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args])

    x = np.round(np.sin(np.arange(3000) / 7) * 3, 3)
    x[100:110] = np.nan
    two = np.stack([x, np.round(np.cos(np.arange(3000) / 5), 1)], axis=1)
    two[5, 1] = np.nan
    for name, array in (("f64", x), ("f32", x.astype(np.float32)), ("two", two)):
        source = tmp_path / f"{name}.npy"
        np.save(source, array)
        assert run("encode", source, "--fs", "100", "-o", tmp_path / f"{name}.san", "-q").exit_code == 0
        assert run("decode", tmp_path / f"{name}.san", "-o", tmp_path / f"{name}_back.npy", "-q").exit_code == 0
        back = np.load(tmp_path / f"{name}_back.npy")
        assert back.dtype == array.dtype and np.array_equal(back, array, equal_nan=True), name
    decoded = sancodec.decode(sancodec.encode(x, fs=100.0))
    assert np.array_equal(decoded.physical().ravel(), x, equal_nan=True)
    lossy = sancodec.decode(sancodec.encode(x, fs=100.0, mode="lossy", prdn=2)).physical().ravel()
    assert np.array_equal(np.isnan(lossy), np.isnan(x))  # (format 1.15: the gaps coded apart)
    assert prdn(x[~np.isnan(x)], lossy[~np.isnan(x)]) <= 2
    near = sancodec.decode(sancodec.encode(x, fs=100.0, mode="near-lossless", max_error=0.01)).physical().ravel()
    assert np.array_equal(np.isnan(near), np.isnan(x)) and np.nanmax(np.abs(near - x)) <= 0.01 + 1e-12
    other = np.sin(np.arange(100.0))
    other[4] = np.nan
    with pytest.raises(SanFormatError, match="NaN among values that are not decimals"):
        sancodec.encode(other, fs=100.0)
    with pytest.raises(SanFormatError, match="holds infinite samples"):
        sancodec.encode(np.array([1.0, np.inf, 2.0]), fs=100.0)


def test_a_tsv_table_reads_codes_and_comes_back_as_a_tsv(tmp_path):
    """Tab-separated exports (.tsv) were refused as an unknown file type, though the CSV reader reads tabs. Now a .tsv
    encodes, decodes by default to a .tsv again, byte for byte, and ``-o x.tsv`` or ``write_signal(s, "x.tsv")``
    writes tabs whatever the source's delimiter."""
    from typer.testing import CliRunner

    from sancodec.batch import find_inputs
    from sancodec.cli import app

    text = "time\tECG\tRESP\n" + "".join(f"{k / 250:.3f}\t{np.sin(k / 9):.3f}\t{1 + k % 7 / 10:.1f}\n"
                                         for k in range(500))
    (tmp_path / "t.tsv").write_text(text)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "t.tsv"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "t.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t_decoded.tsv").read_text() == text
    again = runner.invoke(app, ["decode", str(tmp_path / "t.san"), "-q"])  # there already: --force or nothing
    assert again.exit_code == 2 and "t_decoded.tsv: already exists" in again.stderr
    signal = read_signal(tmp_path / "t.tsv")
    assert signal.fs == 250 and signal.channel_names == ["ECG", "RESP"]
    comma = Signal(np.arange(12).reshape(6, 2), 100.0, ["a", "b"], ["mV", "mV"])
    write_signal(comma, tmp_path / "c.tsv")
    assert (tmp_path / "c.tsv").read_text().splitlines()[:2] == ["a\tb", "0\t1"]
    assert np.array_equal(read_signal(tmp_path / "c.tsv", fs=100).samples, comma.samples)
    assert [p.name for p in find_inputs(tmp_path, csv=True)] == ["c.tsv", "t.tsv", "t_decoded.tsv"]
    assert find_inputs(tmp_path) == []  # (batch takes tables with --csv only)


@pytest.mark.parametrize(("text", "names", "values"), [
    ("0,125;1,5\n0,130;1,6\n", ["ch0", "ch1"], [[0.125, 1.5], [0.130, 1.6]]),  # decimal commas, no header
    ("1,,3\n4,5,6\n", ["ch0", "ch1", "ch2"], [[1, np.nan, 3], [4, 5, 6]]),  # a gap in the first row
    ("1,-,3\n4,5,6\n", ["ch0", "ch1", "ch2"], [[1, np.nan, 3], [4, 5, 6]]),
    ("time,ECG,RESP,\n0.000,0.125,1.5,\n0.004,0.130,1.6,\n", ["ECG", "RESP"], [[0.125, 1.5], [0.130, 1.6]]),
    ("1,2,\n3,4,\n", ["ch0", "ch1"], [[1, 2], [3, 4]]),  # each row closed by a delimiter, no header
    ("0,125;1,5;\n0,130;1,6;\n", ["ch0", "ch1"], [[0.125, 1.5], [0.130, 1.6]]),
    ("a,b,\n1,2,5\n3,4,6\n", ["a", "b", ""], [[1, 2, 5], [3, 4, 6]]),  # a last column of values: a channel
])
def test_a_csv_first_row_of_data_is_data_and_a_closing_delimiter_no_channel(tmp_path, text, names, values):
    """A CSV without a header whose first row held decimal commas ("0,125;1,5") or a gap ("1,,3") was taken for
    names: its first row lost without a word, its channels named "0,125" and "1,5". Rows each closed by a delimiter
    ("1.5,", as some exports write them) made a last channel named "" of gaps alone."""
    (tmp_path / "x.csv").write_text(text)
    signal = read_signal(tmp_path / "x.csv", fs=250.0)
    assert signal.channel_names == names
    assert np.allclose(signal.physical(), values, equal_nan=True, rtol=0, atol=1e-12)


def test_a_csv_of_quoted_values_or_with_a_comment_preamble_reads_as_its_values(tmp_path):
    """Values in double quotes ('"0.125","1.5"', as csv.QUOTE_ALL and some recorders write them) were refused, "not a
    numeric CSV"; a preamble of '#' lines (a recorder's notes, or numpy.savetxt's "# time,ECG" header) was read as
    the header. Quoted values read (a quoted decimal comma too); the notes become the signal's comments, written back
    as such to a CSV (and to a WFDB header); numpy.savetxt's commented header names the columns."""
    rows = [(k / 250, round(np.sin(k / 9), 3), 1 + k % 7 / 10) for k in range(300)]
    quoted = '"time","ECG","RESP"\n' + "".join(f'"{t:.3f}","{e:.3f}","{r:.1f}"\n' for t, e, r in rows)
    (tmp_path / "q.csv").write_text(quoted)
    (tmp_path / "qe.csv").write_text(quoted.replace(",", ";").replace(".", ","))  # "0,125";"1,5"
    for name in ("q.csv", "qe.csv"):
        signal = read_signal(tmp_path / name)
        assert signal.fs == 250 and signal.channel_names == ["ECG", "RESP"], name
        assert np.allclose(signal.physical(), [r[1:] for r in rows], rtol=0, atol=1e-9), name
    notes = "# recorder X-100, firmware 2.1\n#gain 1000\n"
    (tmp_path / "c.csv").write_text(notes + quoted.replace('"', ""))
    signal = read_signal(tmp_path / "c.csv")
    assert signal.comments == ["recorder X-100, firmware 2.1", "gain 1000"] and signal.channel_names == ["ECG", "RESP"]
    write_signal(signal, tmp_path / "back.csv")
    back = (tmp_path / "back.csv").read_text()
    assert back.startswith("# recorder X-100, firmware 2.1\n# gain 1000\ntime,ECG,RESP\n")
    assert read_signal(tmp_path / "back.csv").comments == signal.comments
    from sancodec import decode, encode

    assert decode(encode(signal)).comments == signal.comments
    t = np.arange(5) / 250
    np.savetxt(tmp_path / "s.csv", np.column_stack([t, t * 2]), delimiter=",", header="made today\ntime,ECG",
               fmt="%.4f")
    signal = read_signal(tmp_path / "s.csv")
    assert signal.fs == 250 and signal.channel_names == ["ECG"] and signal.comments == ["made today"]
    (tmp_path / "open.csv").write_text('a,b\n"1","2\n3,4\n')
    with pytest.raises(SanFormatError, match="open.csv: a quoted value does not close in data row 1"):
        read_signal(tmp_path / "open.csv", fs=10)


@pytest.mark.parametrize(("names", "source"), [
    (["1,2", "975.0"], {"kind": "csv", "delimiter": ";", "decimal": "."}),  # numbers to a reader of decimal commas
    (["0:00,004"], {"kind": "csv", "delimiter": "\t", "decimal": ","}),  # one column: read back with commas
    (["#1", "ECG"], None),  # a first name that would read as a comment line
    (["\ufeff1", "2"], None),  # numbers once a byte-order mark at the file's start is dropped
])
def test_a_csv_header_that_would_read_otherwise_is_quoted(tmp_path, names, source):
    """Header rows random CSV testing found reading back as data, as a comment or split in two (CSV_SEEDS=100:2100
    in tests/test_hostile_sources.py): each is written quoted, and the names and samples come back."""
    signal = Signal(np.arange(6 * len(names)).reshape(6, len(names)) - 3, 100.0, names, ["NU"] * len(names),
                    source=source)
    write_signal(signal, tmp_path / "h.csv")
    back = read_signal(tmp_path / "h.csv", fs=100.0)
    assert back.channel_names == names and back.samples.tolist() == signal.samples.tolist()


def test_comment_lines_after_a_csvs_rows_are_kept_after_them(tmp_path):
    """A recorder's closing notes ("# end of recording") after the rows were refused ("data row 4, column 'time' is
    not a number"). Now '#' lines after the last row are comments, as those before the first are: the signal's last
    comments, written back after the rows by a decode to CSV (lossless and lossy); a header's ``footer_lines`` that is
    no count of those comments writes them all before the rows. Rows after such a line are still refused (below)."""
    from sancodec import decode, encode

    rows = "".join(f"{k / 250:.3f},{k % 7 - 3}\n" for k in range(40))
    text = "# device X\ntime,ECG\n" + rows + "# end of recording\n#  checksum 0x5a\n\n"
    (tmp_path / "f.csv").write_text(text)
    signal = read_signal(tmp_path / "f.csv")
    assert signal.fs == 250 and signal.n_samples == 40 and signal.comments == ["device X", "end of recording",
                                                                               " checksum 0x5a"]
    for mode in ("lossless", "lossy"):  # (the source's text itself, its blank last line too)
        back = decode(encode(signal, mode=mode, **({"prdn": 1.0} if mode == "lossy" else {})))
        write_signal(back, tmp_path / f"{mode}.csv")
        assert (tmp_path / f"{mode}.csv").read_text() == text, mode
        assert read_signal(tmp_path / f"{mode}.csv").comments == signal.comments
    (tmp_path / "only.csv").write_text("a,b\n1,2\n3,4\n# the end\n")  # a footer alone
    alone = read_signal(tmp_path / "only.csv", fs=1.0)
    assert alone.comments == ["the end"] and alone.samples.tolist() == [[1, 2], [3, 4]]
    write_signal(alone, tmp_path / "only_back.csv")
    assert (tmp_path / "only_back.csv").read_text() == "a,b\n1,2\n3,4\n# the end\n"
    for hostile in ("2", True, 0, 4, -1, 1.0, None):  # a header's count that is none of the comments': all before
        odd = Signal(signal.samples, 250.0, ["ECG"], ["NU"], comments=list(signal.comments),
                     source={**signal.source, "footer_lines": hostile})
        write_signal(odd, tmp_path / "odd.csv")
        before = "# device X\n# end of recording\n#  checksum 0x5a\ntime"
        assert (tmp_path / "odd.csv").read_text().startswith(before), hostile


def test_a_csv_row_starting_with_a_hash_inside_the_table_is_refused_not_passed_over(tmp_path):
    """numpy's reader passes over a row starting with '#' as a comment: a data row lost without a word (the samples
    after it one row early). Comments go before the table (kept); one inside it is refused by its row. A row of one
    quoted empty value is a gap, as an empty cell is, not numpy's "input contained no data" warning."""
    (tmp_path / "h.csv").write_text("a,b\n1,2\n# x\n3,4\n")
    with pytest.raises(SanFormatError, match="data row 2, column 'a' is not a number"):
        read_signal(tmp_path / "h.csv", fs=1.0)
    (tmp_path / "e.csv").write_text('a\n1\n""\n3\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(read_signal(tmp_path / "e.csv", fs=1.0).physical(), [[1.0], [np.nan], [3.0]],
                              equal_nan=True)


@pytest.mark.parametrize("text", [
    '"time","ECG","RESP"\n"0.000","0.125","1.5"\n"0.004","0.130","1.6"\n"0.008","0.128","1.7"\n',  # every value quoted
    "time,ECG,RESP,\n0.000,0.125,1.5,\n0.004,0.130,1.6,\n0.008,0.128,1.7,\n",  # each row closed by a delimiter
    '"ECG";"RESP";\n"0,125";"1,5";\n"0,130";"1,6";\n',  # both, with decimal commas
    "# recorder X\ntime\tECG\t\n0.000\t0.125\t\n0.004\t0.130\t\n",  # tabs, a preamble
])
def test_a_csv_comes_back_written_as_it_was(tmp_path, text):
    """A CSV that quoted its values or closed its rows with a delimiter came back with neither (its values kept):
    both are kept in the source (``quoted``, ``closed``) and written again, so the decoded file is the original's
    text, byte for byte."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    (tmp_path / "x.csv").write_text(text)
    runner = CliRunner()
    rate = [] if "time" in text else ["--fs", "250"]  # (a time column gives the rate)
    made = runner.invoke(app, ["encode", str(tmp_path / "x.csv"), *rate, "-q"])
    assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x_decoded.csv").read_text() == text


def _spreadsheet_number(rng: random.Random) -> str:
    """A number as a spreadsheet's "CSV" export prints it: as few decimals as it needs (1.5, 2.25, 3)."""
    text = f"{rng.randint(-99999, 99999) / 10 ** rng.randint(0, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@pytest.mark.parametrize("seed", range(3))
def test_a_spreadsheets_csv_comes_back_byte_for_byte(tmp_path, seed):
    """A spreadsheet's "CSV UTF-8" export starts with a byte-order mark, ends its lines with CR LF and prints each
    number in as few decimals as it needs (1.5 beside 2.25); a hand-made file may end without a line end. Each came
    back changed (no mark, LF, 1.50, a line end added), and one ending in blank lines, or holding some among its rows,
    without them: all are kept in the source (``bom``, ``crlf``, ``trimmed``, ``unterminated``, ``trailing_blank``,
    ``blank_lines``), so a lossless decode is the original file, byte for byte, in any dialect."""
    import sancodec

    rng = random.Random(seed)
    for case in range(25):
        delimiter, decimal = rng.choice([(",", "."), (";", ","), ("\t", "."), ("\t", ",")])
        columns, rows = rng.randint(1, 4), rng.randint(2, 40)
        decimal = "." if columns == 1 else decimal  # ("1,5" alone: two values; a one-column CSV's decimals are points)
        lines = [delimiter.join(["time", *(f"ch{c}" for c in range(columns))])]
        fs = rng.choice([250, 500, 1000])
        for r in range(rows):  # the times too as few decimals as they need (0, 0.004, 0.008, 0.01)
            times = [f"{r / fs:.3f}".rstrip("0").rstrip(".")] if columns > 1 else []
            lines.append(delimiter.join(v.replace(".", decimal) for v in [*times, *(_spreadsheet_number(rng)
                                                                                   for _ in range(columns))]))
        if columns == 1:
            lines[0] = "ch0"
        for _ in range(rng.choice([0, 0, 1, 3])):  # blank lines among the rows (between blocks, under the header)
            lines.insert(rng.randint(0, len(lines) - 1), rng.choice(["", "", "  ", "\t"]))
        ending = "" if rng.random() < 0.3 else "\n" * rng.choice([1, 1, 2, 3])  # (an exporter's closing blank lines)
        text = ("\ufeff" if rng.random() < 0.5 else "") + "\n".join(lines) + ending
        original = text.replace("\n", "\r\n" if rng.random() < 0.5 else "\n").encode()
        (tmp_path / "x.csv").write_bytes(original)
        signal = read_signal(tmp_path / "x.csv", fs=None if columns > 1 else float(fs))
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
        assert (tmp_path / "o.csv").read_bytes() == original, case


def _matlab_csv(rows: int, fs: float = 125.0) -> str:
    """A CSV as PhysioNet's BIDMC exports are written (MATLAB's csvwrite): names after ", ", every number, the
    times too, to 5 significant digits (100.01 for 100.008 s, twice 100.02)."""
    rng = np.random.default_rng(7)
    values = np.round(np.cumsum(rng.normal(0, 0.02, (rows, 2)), axis=0), 4)
    lines = ["Time [s], RESP, PLETH", *(f"{i / fs:.5g},{a:.5g},{b:.5g}" for i, (a, b) in enumerate(values))]
    return "\n".join(lines) + "\n"


def test_a_matlab_export_comes_back_byte_for_byte(tmp_path):
    """BIDMC's CSV came back with its header's spaces gone and 38 000 of its times changed (100.008 where it
    printed 100.01): the names' spacing and the times' significant digits are kept in the source (``names_spaced``,
    ``time_digits``), so a lossless decode is the original file, byte for byte; a lossy one prints the same times."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app

    text = _matlab_csv(13_000)
    assert "\n100.01," in text and text.count("\n100.02,") == 2
    (tmp_path / "m.csv").write_text(text)
    signal = read_signal(tmp_path / "m.csv")
    assert signal.fs == 125.0 and signal.source["names_spaced"] is True and signal.source["time_digits"] == 5
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == text
    runner = CliRunner()
    for args in (["-q"], ["--mode", "lossy", "--prdn", "5", "-q", "-o", str(tmp_path / "lossy.san")]):
        made = runner.invoke(app, ["encode", str(tmp_path / "m.csv"), *args])
        assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["decode", str(tmp_path / "m.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "m_decoded.csv").read_text() == text
    res = runner.invoke(app, ["decode", str(tmp_path / "lossy.san"), "-o", str(tmp_path / "l.csv"), "-q"])
    assert res.exit_code == 0, res.output
    lossy = (tmp_path / "l.csv").read_text().splitlines()
    assert lossy[0] == "Time [s], RESP, PLETH"
    assert [line.split(",")[0] for line in lossy] == [line.split(",")[0] for line in text.splitlines()]


@pytest.mark.parametrize("times, digits", [
    (lambda i: f"{i / 125:.3f}", None),  # fixed decimals: written as before, no key
    (lambda i: f"{i / 125:.3f}".rstrip("0").rstrip("."), None),  # a spreadsheet's trimmed decimals: as before
    (lambda i: f"{i / 125:.5g}", 5),  # MATLAB's 5 significant digits
    (lambda i: f"{i / 125:.4g}", 4),
    (lambda i: f"{i / 125 + (0.001 if i == 7000 else 0):.5g}", None),  # one time off the rate: neither layout
])
def test_a_csvs_time_digits_are_kept_only_where_they_give_every_time_back(tmp_path, times, digits):
    lines = ["time,a", *(f"{times(i)},{i % 7}" for i in range(13_000))]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    source = read_signal(tmp_path / "t.csv", fs=125.0).source
    assert source.get("time_digits") == digits and "names_spaced" not in source


def test_a_headers_time_digits_are_used_only_when_they_are_a_count_of_digits():
    """A ``.san`` header is not trusted: ``time_digits`` of another type or beyond 1-17 is left out."""
    from sancodec.io.arrays import _time_format

    assert _time_format({"time_digits": 5, "time_decimals": 3}) == "%.5g"
    for bad in (0, 18, "5", True, 5.0, None):
        assert _time_format({"time_digits": bad, "time_decimals": 3}) == "%.3f"


@pytest.mark.parametrize("flag, header", [(True, "time, a, b"), ("yes", "time,a,b"), (1, "time,a,b"),
                                          (None, "time,a,b")])
def test_a_headers_names_spaced_spaces_the_names_only_when_it_is_true(tmp_path, flag, header):
    """``names_spaced`` from a ``.san`` header (not trusted) spaces the names row only where it is ``true``."""
    x = np.arange(12, dtype=np.int64).reshape(6, 2)
    source = {"kind": "csv", "time_column": "time", "time_start": 0.0, "time_decimals": 3, "names_spaced": flag}
    write_signal(Signal(x, 250.0, ["a", "b"], ["mV", "mV"], source=source), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == header


@pytest.mark.parametrize("text, kept", [
    ("\ufefftime,ECG\r\n0,1.25\r\n0.004,1.5\r\n0.008,-2\r\n", {"bom": True, "crlf": True, "trimmed": True}),
    ("a;b\n1,5;2\n2,25;3", {"unterminated": True, "trimmed": True}),
    ("a,b\r\n1.50,2\n2.25,3\r\n", {}),  # LF and CR LF mixed: LF; a decimal with a trailing 0: each column's places
    ("a,b\n1.5,2\n1e-3,3\n", {}),  # an exponent: not a spreadsheet's decimals
    ("a,b\n1,2\n3,4\n", {}),  # no decimals: nothing to trim
])
def test_a_csvs_text_layout_is_kept_only_where_it_holds_throughout(tmp_path, text, kept):
    """The layout keys are set only where the whole text is so (every line end CR LF; no decimal ending in 0)."""
    (tmp_path / "x.csv").write_bytes(text.encode())
    source = read_signal(tmp_path / "x.csv", fs=100.0).source
    assert {k: source[k] for k in ("bom", "crlf", "trimmed", "unterminated") if k in source} == kept


def test_a_structured_arrays_fields_are_its_channels_and_it_comes_back_as_it_was(tmp_path):
    """A structured .npy (numpy's record arrays, pandas' to_records) was refused ("samples must be numeric"): each
    field is now a channel named after it, and the decoded .npy is the same structured array, byte for byte
    losslessly (fields of mixed widths, signs and byte orders; decimals beside integers), with the same fields
    lossy (an integer field clipped to its range, never wrapped)."""
    import sancodec

    rng = np.random.default_rng(5)
    n = 3000
    ints = np.zeros(n, dtype=[("ECG", "<i2"), ("RESP", "u1"), ("count", ">i4")])
    ints["ECG"] = np.cumsum(rng.integers(-40, 41, n)).clip(-32768, 32767)
    ints["RESP"], ints["count"] = np.arange(n) % 200, np.arange(n) * 3
    mixed = np.zeros(n, dtype=[("ECG", "<f8"), ("beat", "<i8")])
    mixed["ECG"], mixed["beat"] = np.round(np.sin(np.arange(n) / 9.0), 3), np.arange(n) // 300
    for name, array in (("ints", ints), ("mixed", mixed)):
        np.save(tmp_path / f"{name}.npy", array)
        signal = read_signal(tmp_path / f"{name}.npy", fs=250.0)
        assert signal.channel_names == list(array.dtype.names)
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / f"{name}_back.npy")
        assert (tmp_path / f"{name}_back.npy").read_bytes() == (tmp_path / f"{name}.npy").read_bytes()
    back = sancodec.decode(sancodec.encode(read_signal(tmp_path / "ints.npy", fs=250.0), mode="lossy", prdn=5))
    write_signal(back, tmp_path / "lossy.npy")
    lossy = np.load(tmp_path / "lossy.npy")
    assert lossy.dtype == ints.dtype and len(lossy) == n
    assert lossy["RESP"].min() >= 0 and np.abs(lossy["ECG"].astype(float) - ints["ECG"]).max() < 200


@pytest.mark.parametrize("dtype, said", [
    ([("a", "<i2"), ("b", "U4")], r"its fields 'b' \(<U4\) are not numbers"),
    ([("a", "<i2"), ("b", "<f4", (3,))], r"its fields 'b' \(\('<f4', \(3,\)\)\) are not numbers"),
    ([("a", "<c8")], r"its fields 'a' \(complex64\) are not numbers"),
])
def test_a_structured_array_of_other_fields_is_refused_in_one_error(tmp_path, dtype, said):
    np.save(tmp_path / "x.npy", np.zeros(10, dtype=dtype))
    with pytest.raises(SanFormatError, match="a structured array is read as one channel per field.*" + said):
        read_signal(tmp_path / "x.npy", fs=100.0)
    np.save(tmp_path / "y.npy", np.zeros((4, 10), dtype=[("a", "<i2")]))
    with pytest.raises(SanFormatError, match="it has 2 dimensions"):
        read_signal(tmp_path / "y.npy", fs=100.0)


def test_an_array_whose_rows_look_like_its_channels_is_said_so(tmp_path):
    """A 12-lead ECG saved as 12 x 5000 is read as 12 samples of 5000 channels (rows are samples): it failed with
    "header field 'n_channels' = 5000 is not an integer in [1, 4096]", and 12 x 3000 was coded as 3000 channels
    without a word. Past the channels a .san holds it is refused, else a warning says how to transpose it; an
    array of the usual shape, and a one-row one, say nothing."""
    import sancodec
    from sancodec import SancodecWarning

    leads = np.cumsum(np.random.default_rng(3).integers(-5, 6, (12, 5000)), axis=1).astype(np.int16)
    np.save(tmp_path / "wide.npy", leads)
    with pytest.raises(SanConfigError, match=r"wide.npy: 12 rows of 5000 columns, .* transpose it .* at most 4096"):
        read_signal(tmp_path / "wide.npy", fs=500.0)
    np.save(tmp_path / "short.npy", leads[:, :300])
    with pytest.warns(SancodecWarning, match="short.npy: 12 rows of 300 columns, read as 12 samples of 300 channels"):
        read_signal(tmp_path / "short.npy", fs=500.0)
    with pytest.warns(SancodecWarning, match="transpose it"):
        sancodec.encode(leads[:, :300], fs=500.0)
    np.savetxt(tmp_path / "wide.csv", leads[:, :50], delimiter=",", fmt="%d")
    with pytest.warns(SancodecWarning, match="wide.csv: 12 rows of 50 columns, .* write it a column a channel"):
        read_signal(tmp_path / "wide.csv", fs=500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_signal_shape(tmp_path, leads.T) == (5000, 12)
        assert read_signal_shape(tmp_path, leads[:, :1].T) == (1, 12)


def read_signal_shape(folder: Path, x: np.ndarray) -> tuple[int, int]:
    np.save(folder / "x.npy", x)
    return read_signal(folder / "x.npy", fs=500.0).samples.shape


def test_a_multi_frequency_records_annotation_file_notes_its_frame_rate(tmp_path):
    """Its annotation times count frames, as the header's rate does (250 Hz here, the rows at 500): a file whose
    note is not known (built in Python, or from an older .san) is noted at that rate; it said 500 before, so a
    reader timing its labels by the note put each at half its time."""
    from sancodec.signal import Annotations

    rows = np.arange(4000)
    samples = np.column_stack([rows * 7919 % 301 - 150, np.repeat(rows[::2] * 104729 % 201 - 100, 2)])
    zeros = np.zeros(3, np.int64)
    ann = Annotations("atr", np.array([10, 1000, 3000]), ["N", "V", "N"], zeros, zeros, zeros, ["", "", ""])
    signal = Signal(samples.astype(np.int64), 500.0, ["ECG", "ABP"], ["mV", "mmHg"], adc_gain=[200.0, 1.0],
                    baseline=[0, 0], fmt=["16", "16"], samples_per_frame=[2, 1], annotations=[ann])
    write_signal(signal, tmp_path / "rec")
    back = wfdb.rdann(str(tmp_path / "rec"), "atr")
    assert back.fs == 250 and wfdb.rdheader(str(tmp_path / "rec")).fs == 250
    assert list(back.sample) == [5, 500, 1500]  # (in frames)
    assert read_signal(tmp_path / "rec").annotations[0].equals(ann)


@pytest.mark.parametrize("blank", [10**9, -1, 0, "2", True, 2.0])
def test_a_hostile_trailing_blank_count_writes_no_blank_line(tmp_path, blank):
    """A ``.san`` header is not trusted: a count of closing blank lines that is no whole number of 1 to 1024 counts
    for nothing (a billion would have written a gigabyte of line ends)."""
    import sancodec

    (tmp_path / "x.csv").write_text("a\n1.5\n2.25\n\n")
    signal = read_signal(tmp_path / "x.csv", fs=10.0)
    assert signal.source["trailing_blank"] == 1
    signal.source = {**signal.source, "trailing_blank": blank}
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == "a\n1.5\n2.25\n"


@pytest.mark.parametrize("entry", [[[1, "x"]], [[2, ""], [1, ""]], [[1, ""], [1, ""]], [[-1, ""]], [[True, ""]],
                                   [[1.0, ""]], [[1]], [[1, " " * 257]], [[0, ""]] * 5000, "[[1, '']]", [],
                                   [[10**9, ""]]])
def test_blank_lines_among_a_csvs_rows_come_back_but_not_from_a_hostile_entry(tmp_path, entry):
    """Blank lines among a CSV's rows were dropped (a lossless decode another file); now kept (``blank_lines``) and
    put back, and not in a range of the rows, whose lines are others. A ``.san`` header is not trusted: an entry that
    is no list of ``[index, spaces]`` pairs rising from 0 writes none (one past the lines writes none from there)."""
    import sancodec

    text = "a,b\n\n1,2\n3,4\n  \n5,6\n"
    (tmp_path / "x.csv").write_text(text)
    signal = read_signal(tmp_path / "x.csv", fs=10.0)
    assert signal.source["blank_lines"] == [[1, ""], [4, "  "]]
    data = sancodec.encode(signal)
    write_signal(sancodec.decode(data), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == text
    write_signal(sancodec.decode(data, start=1, end=3), tmp_path / "part.csv")
    assert (tmp_path / "part.csv").read_text() == "a,b\n3,4\n5,6\n"
    signal.source = {**signal.source, "blank_lines": entry}
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text() == "a,b\n1,2\n3,4\n5,6\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["1", "-2.5", "", " ", "NA", " - ", "\tnan", "N/A", "abc", "3e4", "x1",
                                          " 7 ", "null", "NaN1"]), min_size=1, max_size=4), min_size=1, max_size=12),
       st.sampled_from([",", ";", "\t", "|"]))
def test_gaps_read_as_nan_as_the_expression_over_every_row_reads_them(rows, delimiter):
    """``arrays.gaps_as_nan`` runs its regular expression on the rows that hold a cell without a digit only (numpy
    finds them): the same text as the expression run over all of them, as the reader did (half of a gapped
    650 000-row CSV's read)."""
    import re

    from sancodec.io.arrays import gaps_as_nan
    from sancodec.io.decimals import MISSING_TEXTS

    lines = [delimiter.join(row) for row in rows]
    d = re.escape(delimiter)
    words = "|".join(re.escape(t) for t in MISSING_TEXTS if t)
    blank = "[ ]" if delimiter == "\t" else "[ \t]"  # (a cell's spaces, never its delimiter)
    gap = re.compile(rf"(?<![^{d}\n]){blank}*(?:{words})?{blank}*(?=[{d}\n]|\Z)")
    assert gaps_as_nan(lines, delimiter) == gap.sub("nan", "\n".join(lines))
    if delimiter == "\t":  # each cell a gap or not, its tabs kept
        assert gaps_as_nan(lines, delimiter).count("\t") == "\n".join(lines).count("\t")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["1", "1.5", "2.25", "2.50", "3.", "1e3", "-0.125", "7", "12:00:01.5", "1.0",
                                          "-20.0"]),
                         min_size=2, max_size=3), min_size=1, max_size=12), st.booleans())
def test_a_csvs_trimmed_layout_is_the_whole_files_answer_though_its_head_is_looked_at_first(rows, clock):
    """``arrays._trimmed`` answers "no" from the first ``TRIM_PROBE`` rows where one value there rules both layouts out
    (a numpy.savetxt file's 0 last, a tenth of a 650 000-row read): the whole file's answer, whatever the probe's
    length."""
    from sancodec.io import arrays

    lines = [",".join(row) for row in rows]
    whole = arrays._trim_facts(lines, ",", ".", clock)
    for probe in (1, 3, 1000):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(arrays, "TRIM_PROBE", probe)
            assert arrays._trimmed(lines, ",", ".", clock) == (None if not whole[0] else "trimmed" if not whole[1]
                                                                else "shortest" if not whole[2] else None)


def _savetxt_csv(path: Path, delimiter: str = ",", decimal: str = ".") -> str:
    """A CSV as ``numpy.savetxt`` writes one with fixed places wider than the values need: times at 250 Hz to 4
    places (0.0040), millivolts on a 0.005 grid to 6 (0.145000), ADC counts to 2 (512.00), one column at the places
    its values need (1.125), so that only the padded columns are kept so."""
    rng = np.random.default_rng(11)
    n = 3000
    mv = np.round(np.cumsum(rng.integers(-3, 4, n)) * 0.005, 3)
    counts = rng.integers(-2048, 2048, n)
    exact = rng.integers(-4000, 4000, n) / 8  # 1/8ths: 3 places, the last one never 0 (1.125, 0.375, 0.5 as 0.500)
    buf = io.StringIO()
    np.savetxt(buf, np.c_[np.arange(n) / 250, mv, counts, exact], delimiter=delimiter,
               fmt=["%.4f", "%.6f", "%.2f", "%.3f"], header=delimiter.join(["time", "mv", "counts", "exact"]),
               comments="")
    text = buf.getvalue()
    if decimal != ".":
        lines = text.splitlines(keepends=True)
        text = lines[0] + "".join(line.replace(".", decimal) for line in lines[1:])
    path.write_text(text)
    return text


@pytest.mark.parametrize("delimiter, decimal", [(",", "."), (";", ","), ("\t", ".")])
def test_a_csv_printed_to_more_places_than_its_values_need_comes_back_byte_for_byte(tmp_path, delimiter, decimal):
    """``numpy.savetxt(fmt="%.4f")`` of times at 250 Hz prints 0.0040, of millivolts on a 0.005 grid at "%.6f"
    0.145000, of ADC counts at "%.2f" 512.00: a lossless decode printed each at the places its values need (0.004,
    0.145, 512), so the file came back changed. The places a column was printed with, where every cell of it ends in
    a 0, are kept in the source (``printed_places``, the times' ``time_decimals``) and printed again: the original
    file, byte for byte, in any dialect, and a subset of its channels at their own places."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    text = _savetxt_csv(tmp_path / "x.csv", delimiter, decimal)
    signal = read_signal(tmp_path / "x.csv")
    assert signal.fs == 250.0
    assert signal.source["printed_places"] == [6, 2, None] and signal.source["time_decimals"] == 4
    runner = CliRunner()
    made = runner.invoke(app, ["encode", str(tmp_path / "x.csv"), "-q"])
    assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x_decoded.csv").read_text() == text
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "--channels", "2,0", "-o", str(tmp_path / "s.csv"),
                              "-q"])
    assert res.exit_code == 0, res.output
    rows = [line.split(delimiter) for line in text.splitlines()]
    assert (tmp_path / "s.csv").read_text().splitlines() == [delimiter.join([r[0], r[3], r[1]]) for r in rows]


@pytest.mark.parametrize("layout", ["pandas", "numpy spaced", "spaced, crlf, units row", "trimmed, semicolons"])
def test_times_at_fixed_places_beside_trimmed_values_and_spaced_values_come_back_byte_for_byte(tmp_path, layout):
    """Times printed ``"%.3f"`` (0.100) beside values printed as pandas and Python print floats (0.23 beside 0.334):
    the time column's trailing zeros had the whole file judged untrimmed, so a lossless decode printed the values at
    their most places (0.230); ``numpy.savetxt(delimiter=", ")``'s spaced values came back without their spaces.
    The time column keeps its places (``time_untrimmed``), spaced values their spaces (``values_spaced``)."""
    values = np.round(np.cumsum(np.random.default_rng(5).normal(size=(600, 2)), axis=0), 3)
    sep, end, units, mark = {"pandas": (",", "\n", "", "."), "numpy spaced": (", ", "\n", "", "."),
                             "spaced, crlf, units row": (", ", "\r\n", "s, mV, mV", "."),
                             "trimmed, semicolons": (";", "\n", "", ",")}[layout]

    def cell(v: float) -> str:  # Python's repr (pandas' to_csv), or a spreadsheet's trimmed decimals
        return repr(float(v)) if mark == "." else f"{v:.3f}".rstrip("0").rstrip(".").replace(".", mark)

    rows = [sep.join([f"{k / 250:.3f}".replace(".", mark), *(cell(v) for v in row)]) for k, row in enumerate(values)]
    text = end.join([sep.join(["time", "a", "b"]), *([units] if units else []), *rows]) + end
    (tmp_path / "x.csv").write_bytes(text.encode())
    signal = read_signal(tmp_path / "x.csv")
    assert signal.fs == 250.0 and signal.channel_names == ["a", "b"]
    write_signal(decode(encode(signal)), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == text.encode()


def test_numpy_savetxts_spaced_exponents_come_back_byte_for_byte(tmp_path):
    """``numpy.savetxt(fmt="%.4e", delimiter=", ")``: each cell read without the space before it, so its exponent
    layout is found as in an unspaced file, and written back spaced."""
    import io

    buf = io.StringIO()
    x = np.round(np.cumsum(np.random.default_rng(6).normal(size=(400, 2)), axis=0), 3)
    np.savetxt(buf, np.column_stack([np.arange(400) / 500, x]), fmt="%.4e", delimiter=", ", header="time, a, b",
               comments="")
    (tmp_path / "e.csv").write_text(buf.getvalue())
    signal = read_signal(tmp_path / "e.csv")
    assert signal.fs == 500.0 and signal.source["values_spaced"] is True
    write_signal(decode(encode(signal)), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_text() == buf.getvalue()


@pytest.mark.parametrize("key", ["values_spaced", "units_spaced", "time_untrimmed", "float_repr", "time_days",
                                 "sep_line"])
def test_a_headers_csv_layout_keys_change_the_text_only_when_they_are_true(tmp_path, key):
    """This session's layout keys of a CSV source, from a ``.san`` header (not trusted): another value ("yes", 1, a
    list) writes the file as if the key were absent; ``true`` changes its text (each key is read)."""
    x = np.array([[1.25, 0.1 + 0.2], [2.5, 1.0 / 3], [3.75, 0.5]])
    base = {"kind": "csv", "time_column": "time", "time_start": 0.0, "time_decimals": 3, "units_row": True,
            "units_spaced": False, "trimmed": key != "float_repr", "time_clock": key == "time_days"}

    def written(value: object) -> str:
        source = {**base, key: value}
        write_signal(Signal(x, 250.0, ["a", "b"], ["mV", "mV"], source=source), tmp_path / "o.csv")
        return (tmp_path / "o.csv").read_text()

    plain = written(None)
    for bad in ("yes", 1, [True]):
        assert written(bad) == plain
    assert written(True) != plain


@pytest.mark.parametrize("text", [
    "sep=;\r\ntime;ECG;ABP\r\n0,000;0,125;80\r\n0,004;0,25;81\r\n0,008;-0,5;79\r\n0,012;0,375;80\r\n",
    "\ufeffsep=,\ntime,ECG,ABP\n0.000,0.125,80\n0.004,0.25,81\n0.008,-0.5,79\n0.012,0.375,80\n",
    "sep=\t\n# exported by a logger\ntime\tECG\tABP\n0.000\t0.125\t80\n0.004\t0.25\t81\n0.008\t-0.5\t79\n"
    "0.012\t0.375\t80\n"])
def test_excels_sep_line_names_the_delimiter_and_is_written_back(tmp_path, text):
    """Excel's first line "sep=;" (written by Excel and by exporters for it, so that a file opens in columns whatever
    the locale): read as a header of one name and its rows as data of another width before, refused as a file
    without a rate. Now it names the delimiter, and a lossless decode writes it back, byte for byte; a ``.tsv`` made
    of a file of commas or semicolons has none (it would name another delimiter)."""
    (tmp_path / "x.csv").write_bytes(text.encode())
    sig = read_signal(tmp_path / "x.csv")
    assert sig.fs == 250.0 and sig.channel_names == ["ECG", "ABP"] and sig.source["sep_line"] is True
    assert np.array_equal(sig.physical(), [[0.125, 80], [0.25, 81], [-0.5, 79], [0.375, 80]])
    write_signal(decode(encode(sig)), tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_bytes() == text.encode()
    write_signal(sig, tmp_path / "x.tsv")
    tabs = (tmp_path / "x.tsv").read_text()
    assert ("sep=" in tabs) == text.startswith("sep=\t") and "time\tECG\tABP\n" in tabs


def test_a_sep_line_naming_a_delimiter_sancodec_does_not_read_is_refused_in_words(tmp_path):
    (tmp_path / "x.csv").write_text("sep=|\ntime|ECG\n0|1\n0.004|2\n")
    with pytest.raises(SanFormatError, match=r"its first line, 'sep=\|', separates values by '\|': sancodec reads "
                                             "commas, semicolons, tabs or single spaces"):
        read_signal(tmp_path / "x.csv")


@pytest.mark.parametrize("clock", [False, True])
def test_a_headers_time_step_is_used_only_where_it_is_a_whole_number_of_nanoseconds_at_the_rate(tmp_path, clock):
    """A CSV source's ``time_step_ns`` (``time_steps``), from a ``.san`` header (not trusted): a whole number of
    nanoseconds near the period writes the times from it; anything else (a float, a bool, a string, none or a
    negative step, one far from the rate's period, one whose rows would pass int64) writes them from the rate, as
    without it; never an error."""
    x = np.arange(8, dtype=np.int64)[:, None]
    layout = {"time_clock": True, "time_days": True} if clock else \
        {"time_iso": {"start": "2024-03-01T10:00:00.000000000", "separator": " ", "places": 9, "zone": "",
                      "bare_whole": False, "rounded": True}}
    base = {"kind": "csv", "time_column": "time", "time_start": 0.0, "time_decimals": 9, **layout}

    def times(step: object, start: object = 0.0) -> list[str]:
        write_signal(Signal(x, 360.0, ["a"], source={**base, "time_start": start, "time_step_ns": step}),
                     tmp_path / "o.csv")
        return [row.rpartition(",")[0] for row in (tmp_path / "o.csv").read_text().splitlines()[1:]]

    plain = times(None)
    assert plain[-1].endswith(":00.019444444")  # 7 / 360 s rounded
    assert times(2777777)[-1].endswith(":00.019444439")  # 7 steps of 2777777 ns
    for bad in (2777777.0, True, "2777777", 0, -2777777, 4000000, 10**16):
        assert times(bad) == plain
    assert times(2777777, start=1e300) == times(None, start=1e300)  # (no nanosecond count: the rate's way)


def test_padded_places_are_the_whole_files_answer_though_its_head_is_looked_at_first():
    """A column is padded only where every cell has the same places and ends in a 0, in every row, not only in the
    first ``PROBE_ROWS``; rows of unequal cells, an exponent or no padded column give None; clock times (the first
    column, ``skip_first``) are not looked at."""
    from sancodec.io.csv_places import PROBE_ROWS, padded_places

    rows = [f"{i / 250:.4f},{i * 0.01:.3f},{i % 7}.50,{i}" for i in range(PROBE_ROWS + 500)]
    assert padded_places(rows, ",", ".") == [4, 3, 2, None]
    assert padded_places(rows, ",", ".", skip_first=True) == [None, 3, 2, None]
    late = [*rows[:-1], rows[-1].replace(".50,", ".25,")]  # one cell past the head ends in 5
    assert padded_places(late, ",", ".") == [4, 3, None, None]
    wider = [*rows[:-1], rows[-1].replace(".50,", ".500,")]  # one cell printed to more places
    assert padded_places(wider, ",", ".") == [4, 3, None, None]
    assert padded_places([*rows[:-1], rows[-1] + ",1.0"], ",", ".") is None  # a row of another count of cells
    assert padded_places([*rows[:-1], "1.0e-3,0.010,1.50,2"], ",", ".") is None  # an exponent
    assert padded_places([r.split(",", 1)[1] for r in rows[:10]], ",", ".") == [3, 2, None]
    assert padded_places(["1.25,2", "1.5,3"], ",", ".") is None
    assert padded_places(["0,000;1,50", "0,010;2,00"], ";", ",") == [3, 2]
    assert padded_places(["1.0,,2.0", "2.0,,3.0"], ",", ".") == [1, None, 1]  # an empty column: not padded


@pytest.mark.parametrize("entry", [[6, "2", None], [0, 2, None], [18, 2, None], [True, 2, None], [6.0, 2, None],
                                   [6, 2], "6,2,None", None])
def test_a_headers_printed_places_are_used_only_where_they_are_a_count_of_places(tmp_path, entry):
    """``printed_places`` from a ``.san`` header is not trusted: an entry of another length or type, or a count
    outside 1-17, pads nothing; a value too large for its places to print exactly (a double's error reaching the
    last place) is printed at its own."""
    from sancodec.io.csv_places import printed_places

    (tmp_path / "x.csv").write_text("a,b,c\n1.450000,512.00,9\n-0.005000,3.00,1\n")
    signal = read_signal(tmp_path / "x.csv", fs=250.0)
    assert signal.source["printed_places"] == [6, 2, None]
    signal.source = {**signal.source, "printed_places": entry}
    kept = printed_places(signal.source, 3)
    write_signal(signal, tmp_path / "o.csv")
    first = (tmp_path / "o.csv").read_text().splitlines()[1].split(",")
    assert first[0] == ("1.450000" if kept[0] == 6 else "1.450")
    assert first[1] == ("512.00" if kept[1] == 2 else "512")
    assert first[2] == "9"
    big = Signal(np.array([[2**50], [1]], dtype=np.int64), 250.0, ["a"], ["mV"], source={"kind": "csv",
                                                                                        "printed_places": [3]})
    write_signal(big, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_text().splitlines()[1] == str(2**50)


@pytest.mark.parametrize("layout", ["default", "named", "timed", "mixed", "six", "gap", "counts"])
def test_numpy_savetxts_default_csv_comes_back_byte_for_byte(tmp_path, layout):
    """``numpy.savetxt(path, x, delimiter=",")`` prints ``%.18e`` (``2.040999999999999925e+00``) and no header row:
    a lossless decode printed the values at their own decimals (``2.041``) under a header row of made-up names, so
    the file came back changed (the values the same). A column whose cells are ``%.Ne`` of its values, the time
    column too, is printed so again (``exponent_digits``), and a CSV without names is written without them: the
    original file, byte for byte, whatever ``N``, beside a column printed otherwise, around a gap, of whole
    numbers."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    rng = np.random.default_rng(7)
    x = np.round(np.cumsum(rng.normal(size=(2500, 2)), axis=0), 3)
    path = tmp_path / "x.csv"
    kwargs: dict = {"delimiter": ","}
    if layout == "named":
        kwargs |= {"header": "a,b", "comments": ""}
    elif layout == "timed":
        x, kwargs = np.column_stack([np.arange(len(x)) / 250, x]), kwargs | {"header": "time,a,b", "comments": ""}
    elif layout == "mixed":
        kwargs["fmt"] = ["%.18e", "%.3f"]
    elif layout == "six":
        kwargs["fmt"] = "%.6e"
    elif layout == "gap":
        x[5, 1] = np.nan
    elif layout == "counts":
        x = np.cumsum(rng.integers(-9, 10, size=(2500, 2)), axis=0)
    np.savetxt(path, x, **kwargs)
    runner = CliRunner()
    made = runner.invoke(app, ["encode", str(path), "-q", *([] if layout == "timed" else ["--fs", "250"])])
    assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x_decoded.csv").read_bytes() == path.read_bytes()
    assert np.array_equal(read_signal(tmp_path / "x_decoded.csv", fs=250.0).physical(),
                          read_signal(path, fs=250.0).physical(), equal_nan=True)


@pytest.mark.parametrize("name, kwargs", [("x.txt", {}), ("x.csv", {}), ("named.txt", {"fmt": "%.3f", "header": "a b",
                                                                                   "comments": ""}),
                                          ("ints.txt", {"fmt": "%d"})])
def test_a_table_of_values_between_single_spaces_comes_back_byte_for_byte(tmp_path, name, kwargs):
    """``numpy.savetxt(path, x)`` separates values by single spaces (and ``numpy.loadtxt`` reads them so): such a
    table, in a ``.txt`` (refused before: an unknown file type) or a ``.csv`` (refused: its rows read as one cell,
    "not a number"), is read a column a value and decoded, by default to a ``.txt`` again, to the original file."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    rng = np.random.default_rng(11)
    x = np.round(np.cumsum(rng.normal(size=(2000, 2)), axis=0), 3)
    x = np.cumsum(rng.integers(-9, 10, size=(2000, 2)), axis=0) if name == "ints.txt" else x
    np.savetxt(tmp_path / name, x, **kwargs)
    signal = read_signal(tmp_path / name, fs=250.0)
    assert signal.n_channels == 2 and np.allclose(signal.physical(), x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / name), "--fs", "250", "-o", str(tmp_path / "x.san"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"x_decoded{Path(name).suffix}").read_bytes() == (tmp_path / name).read_bytes()


def test_a_txt_output_of_another_source_is_values_between_single_spaces(tmp_path):
    """``-o out.txt`` of a WFDB record, or of a CSV, writes the table with single spaces (``numpy.loadtxt`` reads
    it back), a ``.txt`` source's with its own delimiter; values between runs of spaces beside commas are refused in
    one error that says so."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app
    from sancodec.io.arrays import dialect

    sig = read_signal(DATA / "100_3chan")
    write_signal(sig, tmp_path / "r.txt")
    (tmp_path / "x.san").write_bytes(sancodec.encode(sig))
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert lines[0].split(" ") == sig.channel_names and "," not in lines[1]
    assert np.array_equal(np.loadtxt(tmp_path / "r.txt", skiprows=1), sig.samples)
    assert np.array_equal(read_signal(tmp_path / "r.txt", fs=sig.fs).samples, sig.samples)
    (tmp_path / "c.csv").write_text("a,b\n1,2\n3,4\n")
    write_signal(read_signal(tmp_path / "c.csv", fs=10.0), tmp_path / "c.txt")
    assert (tmp_path / "c.txt").read_text() == "a b\n1 2\n3 4\n"
    (tmp_path / "t.txt").write_text("a\tb\n1\t2\n3\t4\n")
    write_signal(read_signal(tmp_path / "t.txt", fs=10.0), tmp_path / "t2.txt")
    assert (tmp_path / "t2.txt").read_text() == "a\tb\n1\t2\n3\t4\n"
    assert dialect(["a b", "1 2", "3 4"]) == (" ", ".") and dialect(["1,5 2,5", "1,0 3,0"]) == (" ", ",")
    assert dialect(["1 2", "3  4"]) == (",", ".") and dialect(["a,b c", "1,2"]) == (",", ".")
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "r.txt"), "-q"])
    assert res.exit_code != 0 and "exists" in res.output and (tmp_path / "r.txt").read_text().splitlines() == lines
    (tmp_path / "mixed.csv").write_text("a,b\n1,    22\n3,  4   5\n")  # (aligned columns read: test_aligned_...)
    with pytest.raises(SanFormatError, match="runs of spaces, which sancodec reads as columns only in a table that"):
        read_signal(tmp_path / "mixed.csv", fs=10.0)


def test_pandas_index_column_is_the_rows_numbers_not_a_channel(tmp_path):
    """``pandas.DataFrame.to_csv`` writes the frame's index first, a column with no name: it was read as a channel
    named "", coded as a signal (a lossy file gave it back as -8, -8, -7, ...) and counted by ``info``. It is the rows'
    numbers, kept as such: not a channel, written back from its first number (a slice of a frame's, 1000 on, too),
    exact in any mode, numbering a ``--start`` range from where it was; the file, byte for byte. An unnamed first
    column that is not one row number after another stays a channel."""
    import pandas as pd
    from typer.testing import CliRunner

    from sancodec.cli import app

    x = np.round(np.cumsum(np.random.default_rng(12).normal(size=(3000, 2)), axis=0), 3)
    frame = pd.DataFrame(x, columns=["ECG", "PPG"])
    frame.to_csv(tmp_path / "p.csv")
    frame.iloc[1000:].to_csv(tmp_path / "s.csv")
    runner = CliRunner()
    for name, first in (("p", 0), ("s", 1000)):
        signal = read_signal(tmp_path / f"{name}.csv", fs=250.0)
        assert signal.channel_names == ["ECG", "PPG"] and signal.source["index_column"] == {"name": "", "start": first}
        res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.csv"), "--fs", "250", "-q"])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["decode", str(tmp_path / f"{name}.san"), "-q"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / f"{name}_decoded.csv").read_bytes() == (tmp_path / f"{name}.csv").read_bytes()
    res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "--start", "5", "--end", "7", "-o",
                              str(tmp_path / "part.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert [line.split(",")[0] for line in (tmp_path / "part.csv").read_text().splitlines()] == ["", "1005", "1006"]
    res = runner.invoke(app, ["encode", str(tmp_path / "p.csv"), "--fs", "250", "--mode", "lossy", "--prdn", "5",
                              "-o", str(tmp_path / "l.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.csv"), "-q"]).exit_code == 0
    assert np.array_equal(pd.read_csv(tmp_path / "l.csv", index_col=0).index, np.arange(3000))
    (tmp_path / "even.csv").write_text(",a\n0,1.5\n2,2.5\n4,3.5\n")
    assert read_signal(tmp_path / "even.csv", fs=10.0).n_channels == 2


@pytest.mark.parametrize("row_names", [True, False])
def test_r_write_csv_comes_back_byte_for_byte(tmp_path, row_names):
    """R's ``write.csv(frame)`` quotes every name and each row's name (its number from 1: the rows' numbers, not a
    channel), the values bare; with ``row.names = FALSE`` the names alone. The quotes were lost (the names and the
    row numbers written bare, the numbers coded as a channel); they are kept: the file, byte for byte."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    x = np.round(np.cumsum(np.random.default_rng(13).normal(size=(500, 2)), axis=0), 3)
    head = '"","ECG","PPG"' if row_names else '"ECG","PPG"'
    rows = [(f'"{i + 1}",' if row_names else "") + f"{a:.3f},{b:.3f}" for i, (a, b) in enumerate(x)]
    (tmp_path / "r.csv").write_text("\n".join([head, *rows]) + "\n")
    signal = read_signal(tmp_path / "r.csv", fs=100.0)
    assert signal.channel_names == ["ECG", "PPG"]
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "r.csv"), "--fs", "100", "-q"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["decode", str(tmp_path / "r.san"), "-q"]).exit_code == 0
    assert (tmp_path / "r_decoded.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()
    res = runner.invoke(app, ["decode", str(tmp_path / "r.san"), "--start", "10", "--end", "12", "-o",
                              str(tmp_path / "part.csv"), "-q"])  # a range: its rows as the source wrote them
    assert res.exit_code == 0, res.output
    assert (tmp_path / "part.csv").read_text().splitlines() == [head, *rows[10:12]]


def test_a_header_that_says_headerless_keeps_the_names_a_time_column_or_units_row_needs(tmp_path):
    """``headerless`` from a ``.san`` header is not trusted: a table with a time column or a units row keeps its
    header rows (read back without them, the first data row would be taken for names)."""
    (tmp_path / "t.csv").write_text("time,a\n0.000,1\n0.004,2\n0.008,3\n")
    signal = read_signal(tmp_path / "t.csv")
    signal.source = {**signal.source, "headerless": True}
    write_signal(signal, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == "time,a"
    (tmp_path / "u.csv").write_text("a,b\nmV,mV\n1.5,2.5\n3.5,4.5\n")
    signal = read_signal(tmp_path / "u.csv", fs=10.0)
    signal.source = {**signal.source, "headerless": True}
    write_signal(signal, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[:2] == ["a,b", "mV,mV"]


@pytest.mark.parametrize("entry", [{"name": "", "start": 1.5}, {"name": "", "start": 2**60},
                                   {"name": "a,b", "start": 0}, {"name": 3, "start": 0}, {"start": 0}, "0", None])
def test_a_headers_index_column_is_written_only_where_it_can_be(tmp_path, entry):
    """``index_column`` from a ``.san`` header is not trusted: a start that is no whole number below 2^52 or a name
    that would change the CSV's shape writes no index column."""
    (tmp_path / "x.csv").write_text(",a\n0,1.5\n1,2.5\n")
    signal = read_signal(tmp_path / "x.csv", fs=10.0)
    assert signal.source["index_column"] == {"name": "", "start": 0}
    signal.source = {**signal.source, "index_column": entry}
    write_signal(signal, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == "a\n1.5\n2.5\n"


def test_exponent_digits_are_kept_only_where_every_cell_has_their_shape():
    """``exponent_digits`` keeps a column's ``N`` where its first rows print as ``%.Ne`` of their values and every
    cell, past those too, has that shape; another ``N`` late in a column, a cell without an exponent, a row of other
    cells, or a first row without one gives None (and no cell is printed for a CSV that has none)."""
    from sancodec.io.csv_places import PROBE_ROWS, exponent_digits

    v = np.round(np.random.default_rng(1).normal(size=(PROBE_ROWS + 300, 2)), 4)
    rows = [f"{a:.18e},{b:.4f}" for a, b in v]
    assert exponent_digits(rows, ",", v) == [18, None]
    assert exponent_digits(rows, ",", v, skip_first=True) is None
    for late in (f"{v[-1, 0]:.17e},{v[-1, 1]:.4f}", f"{v[-1, 0]:.4f},{v[-1, 1]:.4f}"):  # past the first rows
        assert exponent_digits([*rows[:-1], late], ",", v) is None
    assert exponent_digits([*rows[:-1], rows[-1] + ",1"], ",", v) is None
    rounded = ["2.041000000000000000e+00,1.0000", *rows[1:]]  # a first row another writer printed
    assert exponent_digits(rounded, ",", np.vstack([[2.041, 1.0], v[1:]])) is None
    assert exponent_digits(["1.5,2.5"], ",", np.array([[1.5, 2.5]])) is None


@pytest.mark.parametrize("entry", [[18, 99], [-1, 18], ["18", 18], [True, 18], [18.0, 18], [18], "18", None])
def test_a_headers_exponent_digits_are_used_only_where_they_are_a_count_of_digits(tmp_path, entry):
    """``exponent_digits`` (and ``time_exponent``) from a ``.san`` header are not trusted: an entry of another length
    or type, or a count outside 0-20, prints that column as it would be printed without it."""
    from sancodec.io.csv_places import printed_exponents

    np.savetxt(tmp_path / "x.csv", np.c_[np.arange(3) / 250, [1.25, -0.5, 3.0], [2.0, 4.0, 8.0]], delimiter=",",
               header="time,a,b", comments="")
    signal = read_signal(tmp_path / "x.csv")
    assert signal.source["exponent_digits"] == [18, 18] and signal.source["time_exponent"] == 18
    signal.source = {**signal.source, "exponent_digits": entry, "time_exponent": entry}
    kept = printed_exponents(signal.source, 2)
    write_signal(signal, tmp_path / "o.csv")
    first = (tmp_path / "o.csv").read_text().splitlines()[1].split(",")
    assert first[0] == "0.000"
    assert first[1] == ("1.250000000000000000e+00" if kept[0] == 18 else "1.25")
    assert first[2] == ("2.000000000000000000e+00" if kept[1] == 18 else "2")


@pytest.mark.parametrize("seed", range(3))
def test_a_savetxt_csv_at_any_places_comes_back_byte_for_byte(tmp_path, seed):
    """``numpy.savetxt`` CSVs of random widths: each column's values on a grid of ``10**-d`` printed to ``d`` places
    or more, a time column at a common rate printed to 3-6 places (fewer than 1/360 s needs, too), in each dialect:
    a lossless decode is the original file, byte for byte."""
    import sancodec

    rng = np.random.default_rng(seed)
    for case in range(12):
        delimiter, decimal = [(",", "."), (";", ","), ("\t", ".")][case % 3]
        rows, columns = int(rng.integers(2, 300)), int(rng.integers(1, 4))
        fs = float(rng.choice([125, 250, 256, 360, 500, 1000]))
        grids = rng.integers(0, 4, columns)
        values = [rng.integers(-5000, 5000, rows) / 10.0 ** d for d in grids]
        formats = [f"%.{int(rng.integers(3, 7))}f", *(f"%.{d + int(rng.integers(0, 4))}f" for d in grids)]
        names = ["time", *(f"ch{c}" for c in range(columns))]
        buf = io.StringIO()
        np.savetxt(buf, np.column_stack([np.arange(rows) / fs, *values]), delimiter=delimiter, fmt=formats,
                   header=delimiter.join(names), comments="")
        lines = buf.getvalue().splitlines(keepends=True)
        text = lines[0] + "".join(line.replace(".", decimal) for line in lines[1:])
        (tmp_path / "x.csv").write_text(text)
        signal = read_signal(tmp_path / "x.csv", fs=fs)
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
        assert (tmp_path / "o.csv").read_text() == text, (case, formats)


def test_a_rate_given_against_a_csvs_time_column_is_warned_of(tmp_path):
    """``--fs 250`` on a CSV whose time column runs at 100 Hz coded it at 250 Hz without a word (its decode's times
    then stepped by 0.004 s, printed at the column's 2 places as 0.00, 0.00, 0.01): a warning now says so. A rate the
    column agrees with, a time column printed to fewer places than its rate needs (1/360 s at 3), and a training
    read of one channel (whose rate is not used) say nothing."""
    from sancodec.errors import SancodecWarning
    from sancodec.io import read_channel

    (tmp_path / "t.csv").write_text("time,ecg\n" + "".join(f"{i / 100:.2f},{i % 9}\n" for i in range(500)))
    (tmp_path / "u.csv").write_text("time,ecg\n" + "".join(f"{i / 360:.3f},{i % 9}\n" for i in range(500)))
    with pytest.warns(SancodecWarning, match=r"t\.csv: its time column runs at 100 Hz, not the 250 Hz given"):
        assert read_signal(tmp_path / "t.csv", fs=250.0).fs == 250.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_signal(tmp_path / "t.csv", fs=100.0).fs == 100.0
        assert read_signal(tmp_path / "u.csv", fs=360.0).fs == 360.0
        assert read_signal(tmp_path / "u.csv").fs == 360.0
        assert list(read_channel(tmp_path / "t.csv")[:3]) == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("seed", range(3))
def test_a_pandas_csv_comes_back_byte_for_byte(tmp_path, seed):
    """``pandas.DataFrame.to_csv`` prints each float as Python's ``repr`` does, in as few decimals as it needs but a
    whole number with one 0 after its point (0.69 beside -1.0), and its index first, in a column with no name: such
    a file came back with -0.10 for -0.1 and 1.00 for 1.0. That layout is kept (``shortest``), so a lossless decode
    is the original file, byte for byte, with a float time column first too."""
    import sancodec

    rng = random.Random(seed)
    for case in range(10):
        columns, rows = rng.randint(1, 3), rng.randint(2, 60)
        timed = rng.random() < 0.5
        names = ["time" if timed else "", *(f"ch{c}" for c in range(columns))]
        digits = [rng.randint(0, 3) for _ in range(columns)]
        lines = [",".join(names)]
        for r in range(rows):
            values = [repr(round(rng.uniform(-50, 50), d)) for d in digits]
            if rng.random() < 0.2:
                values[0] = repr(float(rng.randint(-5, 5)))  # a whole number: "3.0"
            lines.append(",".join([repr(r / 250) if timed else str(r), *values]))
        text = "\n".join(lines) + "\n"
        (tmp_path / "x.csv").write_text(text)
        signal = read_signal(tmp_path / "x.csv", fs=None if timed else 250.0)
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
        assert (tmp_path / "o.csv").read_text() == text, (case, text[:200])


def _dated_csv(path: Path, rows: int, fs: float, separator: str = " ", timespec: str = "milliseconds",
               zone: str = "", rounded: bool = False, start: str = "2024-03-05T23:59:58") -> str:
    """A CSV whose first column holds ISO 8601 date-times at ``fs``, as a logger or ``pandas.to_csv`` of a
    ``DatetimeIndex`` prints them: ``datetime.isoformat`` at ``timespec`` (which cuts the fraction; ``rounded``
    rounds it to the places printed; ``"auto"`` leaves a whole second's out), then a ``zone`` suffix."""
    import datetime

    t0 = datetime.datetime.fromisoformat(start)
    places = {"seconds": 0, "milliseconds": 3, "microseconds": 6, "auto": 6}[timespec]
    lines = ["time,ecg,resp"]
    for i in range(rows):
        t = t0 + datetime.timedelta(microseconds=round(i * 1e6 / fs))
        if rounded and places < 6:
            unit = 10 ** (6 - places)
            t = t.replace(microsecond=0) + datetime.timedelta(microseconds=round(t.microsecond / unit) * unit)
        lines.append(f"{t.isoformat(sep=separator, timespec=timespec)}{zone},{i % 50 - 25},{(i * 7) % 30}.5")
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


@pytest.mark.parametrize("fs, separator, timespec, zone, rounded", [
    (250.0, " ", "milliseconds", "", False),  # a logger's 2024-03-05 23:59:58.004
    (360.0, " ", "milliseconds", "", False),  # 2.777 ms cut to .002
    (360.0, "T", "milliseconds", "Z", True),  # ... or rounded to .003, in UTC
    (4.0, "T", "auto", "+01:00", False),  # datetime.isoformat(): a whole second without a fraction, an offset
    (1.0, " ", "seconds", "", False),  # whole seconds
    (1000.0, "T", "microseconds", "", False),
])
def test_a_csvs_iso_date_times_are_its_time_column_and_come_back_byte_for_byte(tmp_path, fs, separator, timespec,
                                                                               zone, rounded):
    """A CSV whose first column holds ISO 8601 date-times (a logger's export, pandas' DatetimeIndex) was refused
    ("is not a number"): the column is now its time column, the rate taken from it, the first date-time the
    record's start (``base_date``, ``base_time``: an EDF decode's start date and time), and its layout kept
    (``time_iso``: separator, places, zone, a whole second's missing fraction, rounded or cut), so a lossless decode
    is the original file, byte for byte; a range decodes to its own date-times, a lossy file to the same ones."""
    from typer.testing import CliRunner

    import sancodec
    from sancodec.cli import app

    text = _dated_csv(tmp_path / "d.csv", 3000, fs, separator, timespec, zone, rounded)
    signal = read_signal(tmp_path / "d.csv")
    assert signal.fs == fs and signal.channel_names == ["ecg", "resp"]
    assert (signal.base_date, signal.base_time) == ("2024-03-05", "23:59:58")
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == text
    runner = CliRunner()
    for args in (["-q"], ["--mode", "lossy", "--prdn", "5", "-q", "-o", str(tmp_path / "l.san")]):
        made = runner.invoke(app, ["encode", str(tmp_path / "d.csv"), *args])
        assert made.exit_code == 0, made.output
    lines = text.splitlines()
    res = runner.invoke(app, ["decode", str(tmp_path / "d.san"), "--start", "1000", "--end", "1003", "-o",
                              str(tmp_path / "part.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "part.csv").read_text().splitlines() == [lines[0], *lines[1001:1004]]
    res = runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.csv"), "-q"])
    assert res.exit_code == 0, res.output
    assert [r.split(",")[0] for r in (tmp_path / "l.csv").read_text().splitlines()] == [r.split(",")[0] for r in lines]
    res = runner.invoke(app, ["decode", str(tmp_path / "d.san"), "-o", str(tmp_path / "d.edf"), "-q"])
    assert res.exit_code == 0, res.output
    edf = read_signal(tmp_path / "d.edf")
    assert (edf.base_date, edf.base_time) == ("2024-03-05", "23:59:58")


@pytest.mark.parametrize("text, said", [
    ("time,a\n2024-01-01 00:00:00,1\n5.0,2\n", "mixes date-times with '5.0'"),
    ("time,a\n2024-03-31 01:59:59+01:00,1\n2024-03-31 03:00:00+02:00,2\n", "change their zone"),
    ("time,a\n2024-01-01 00:00:00,1\n2024-01-01T00:00:01,2\n", "change their separator"),
    ("2024-01-01 00:00:00,1\n2024-01-01 00:00:01,2\n", "give the CSV a header row"),
    ("time,a\n2024-02-30 00:00:00,1\n2024-03-01 00:00:00,2\n", "numpy cannot place"),
    ("time,a\n1500-01-01 00:00:00,1\n1500-01-01 00:00:01,2\n", "numpy cannot place"),
])
def test_a_csvs_date_times_that_cannot_be_its_times_are_refused_named(tmp_path, text, said):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(SanFormatError, match=said):
        read_signal(tmp_path / "d.csv")


@pytest.mark.parametrize("layout", [
    None, "2024", [1], {"start": "2024-01-01T00:00:00.000000000"},
    {"start": "2024-13-01T00:00:00.000000000", "separator": " ", "places": 3, "zone": "", "bare_whole": False,
     "rounded": True},
    {"start": "2024-01-01T00:00:00.000000000", "separator": "x", "places": 3, "zone": "", "bare_whole": False,
     "rounded": True},
    {"start": "2024-01-01T00:00:00.000000000", "separator": " ", "places": 10, "zone": "", "bare_whole": False,
     "rounded": True},
    {"start": "2024-01-01T00:00:00.000000000", "separator": " ", "places": 3, "zone": "\n", "bare_whole": False,
     "rounded": True},
    {"start": "2024-01-01T00:00:00.000000000", "separator": " ", "places": 3, "zone": "", "bare_whole": 1,
     "rounded": True},
])
def test_a_headers_date_time_layout_is_used_only_where_every_field_holds(tmp_path, layout):
    """``time_iso`` from a ``.san`` header is not trusted: a layout with any field out of place writes the time
    column as seconds, as before; a sound one as date-times."""
    x = np.arange(6, dtype=np.int64).reshape(3, 2)
    source = {"kind": "csv", "time_column": "time", "time_start": 0.0, "time_decimals": 3, "time_iso": layout}
    write_signal(Signal(x, 250.0, ["a", "b"], ["mV", "mV"], source=source), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[2].split(",")[0] == "0.004"
    good = {"start": "2024-01-01T00:00:00.000000000", "separator": " ", "places": 3, "zone": "", "bare_whole": False,
            "rounded": True}
    write_signal(Signal(x, 250.0, ["a", "b"], ["mV", "mV"], source={**source, "time_iso": good}), tmp_path / "g.csv")
    assert (tmp_path / "g.csv").read_text().splitlines()[2].split(",")[0] == "2024-01-01 00:00:00.004"


@pytest.mark.parametrize("name, scale", [("time", 1), ("time [s]", 1), ("times", 1), ("timestamp", 1),
                                         ("time_ms", 1000), ("Time (ms)", 1000), ("Zeit [ms]", 1000),
                                         ("time msec", 1000),
                                         ("timestamp_us", 10**6), ("time [µs]", 10**6), ("time_ns", 10**9),
                                         ("time_msg", 1), ("time (milliseconds)", 1000)])
def test_a_time_columns_unit_is_read_from_its_name(name, scale):
    from sancodec.io.csv_time_units import time_unit_scale

    assert time_unit_scale(name) == scale


@pytest.mark.parametrize("name, times, fs", [
    ("time_ms", lambda i: f"{4 * i}", 250.0),  # whole milliseconds
    ("Time (ms)", lambda i: f"{i * 1000 / 360:.3f}", 360.0),
    ("timestamp_ms", lambda i: f"{1709683198000 + 4 * i}", 250.0),  # milliseconds since 1970
    ("timestamp [us]", lambda i: f"{1709683198000000 + 2000 * i}", 500.0),  # microseconds since 1970
])
def test_a_time_column_in_milliseconds_gives_its_rate_and_comes_back_byte_for_byte(tmp_path, name, times, fs):
    """A time column named in milliseconds or microseconds (``time_ms``, ``Time (ms)``, a logger's epoch
    ``timestamp_ms``) was read as seconds: 4 ms steps gave 0.25 Hz, which the lossy coder's beat and hum searches
    and an EDF decode's record length took as the rate. The unit is now read from the name (``time_scale``), the
    rate in hertz, and the column rebuilt in its unit: the file back byte for byte, a range at its own times."""
    import sancodec

    text = "\n".join([f"{name},ecg", *(f"{times(i)},{i % 40 - 20}" for i in range(2000))]) + "\n"
    (tmp_path / "t.csv").write_text(text)
    signal = read_signal(tmp_path / "t.csv")
    assert signal.fs == fs and signal.channel_names == ["ecg"]
    decoded = sancodec.decode(sancodec.encode(signal))
    write_signal(decoded, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == text
    write_signal(decoded.slice(700, 703), tmp_path / "p.csv")
    lines = text.splitlines()
    assert (tmp_path / "p.csv").read_text().splitlines() == [lines[0], *lines[701:704]]


_CELLS = st.one_of(
    st.integers(-5000, 5000).map(str),
    st.tuples(st.integers(-5000, 5000), st.integers(0, 4), st.integers(0, 3)).map(
        lambda t: f"{t[0] / 10 ** t[1]:.{t[1] + t[2]}f}"),  # a decimal printed to its places or more
    st.floats(-1e4, 1e4, allow_nan=False).map(repr),  # pandas' repr
    st.sampled_from(["", "NaN", "-", "1e-3", "0.", "-0.0", "2024-01-01 00:00:00.004", "x"]),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["time", "time_ms", "Time (ms)", "stamp", ""]),
       st.sampled_from(["iso", "seconds", "ms", "cells"]), st.integers(1, 3), st.integers(1, 30), st.data())
def test_any_csv_of_these_layouts_reads_codes_and_writes_back_its_values_or_is_refused(tmp_path_factory, name, times,
                                                                                        columns, rows, data):
    """CSVs built from the layouts sancodec keeps (ISO date-times, seconds or milliseconds first, padded, trimmed and
    pandas' numbers, gaps, stray words): each is read and comes back from a lossless ``.san`` with the same values
    (gaps too), re-read from the CSV written, or is refused with a SancodecError; nothing else is raised."""
    import datetime

    import sancodec
    from sancodec.errors import SancodecError

    folder = tmp_path_factory.mktemp("csv")
    t0 = datetime.datetime(2024, 5, 1, 12)
    first = {"iso": lambda i: (t0 + datetime.timedelta(milliseconds=4 * i)).isoformat(sep=" ", timespec="milliseconds"),
             "seconds": lambda i: f"{i / 250:.4f}", "ms": lambda i: str(4 * i),
             "cells": lambda i: data.draw(_CELLS)}[times]
    lines = [",".join([name, *(f"c{c}" for c in range(columns))])]
    lines += [",".join([first(i), *(data.draw(_CELLS) for _ in range(columns))]) for i in range(rows)]
    (folder / "x.csv").write_text("\n".join(lines) + "\n")
    try:
        signal = read_signal(folder / "x.csv", fs=None if data.draw(st.booleans()) else 250.0)
        coded = sancodec.encode(signal)  # (floats that are no decimals: refused in lossless mode)
    except SancodecError:
        return
    decoded = sancodec.decode(coded)
    write_signal(decoded, folder / "o.csv")
    again = read_signal(folder / "o.csv", fs=signal.fs)
    assert np.array_equal(again.physical(), signal.physical(), equal_nan=True)


def test_pandas_unnamed_datetime_index_and_a_first_row_of_gaps_read_as_data(tmp_path):
    """``pandas.to_csv`` of a frame on an unnamed ``DatetimeIndex`` heads its date-times with an empty name: the
    time column was dropped from the decode (an empty name was not written back). A first row of a date-time and
    gaps was taken for a units row (PhysioNet's second header row), its time and gaps lost: it is data."""
    import sancodec

    text = ",a,b\n" + "".join(f"2024-05-01 12:00:{i * 0.004:06.3f},{i % 7}.5,{i % 3}\n" for i in range(400))
    (tmp_path / "p.csv").write_text(text)
    signal = read_signal(tmp_path / "p.csv")
    assert signal.fs == 250.0 and signal.channel_names == ["a", "b"]
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == text
    gaps = "time,a,b\n2024-05-01 12:00:00.000,-,-\n" + "".join(
        f"2024-05-01 12:00:{i * 0.004:06.3f},{i % 7},{i % 3}\n" for i in range(1, 400))
    (tmp_path / "g.csv").write_text(gaps)
    signal = read_signal(tmp_path / "g.csv")
    assert signal.n_samples == 400 and signal.base_time == "12:00:00" and "units_row" not in signal.source
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text() == gaps


def test_a_signals_and_a_san_files_start_is_a_datetime(tmp_path):
    """``Signal.start`` and ``SanFile.start``: the base date and time as one datetime (a CSV's first date-time, an
    EDF file's start), midnight without a time, None without a date or for fields that are no ISO date and time
    (a ``.san`` header is not trusted)."""
    import datetime

    import sancodec
    from sancodec.signal import recording_start

    text = "time,a\n" + "".join(f"2024-03-05 23:59:{58 + i * 0.004:06.3f},{i}\n" for i in range(100))
    (tmp_path / "d.csv").write_text(text)
    signal = read_signal(tmp_path / "d.csv")
    assert signal.start == datetime.datetime(2024, 3, 5, 23, 59, 58)
    (tmp_path / "d.san").write_bytes(sancodec.encode(signal))
    with sancodec.open(tmp_path / "d.san") as f:
        assert f.start == datetime.datetime(2024, 3, 5, 23, 59, 58)
    write_signal(sancodec.decode((tmp_path / "d.san").read_bytes()), tmp_path / "d.edf")
    assert read_signal(tmp_path / "d.edf").start == datetime.datetime(2024, 3, 5, 23, 59, 58)
    assert recording_start("2024-03-05", None) == datetime.datetime(2024, 3, 5)
    assert recording_start("2024-03-05", "10:42:33.25") == datetime.datetime(2024, 3, 5, 10, 42, 33, 250000)
    for date, clock in ((None, "10:00:00"), ("05/03/2024", None), ("2024-03-05", "25:00"), (7, None),
                        ("2024-03-05", 3), ("", "")):
        assert recording_start(date, clock) is None


def test_a_damaged_npy_header_is_refused_in_one_error(tmp_path):
    """Bytes changed, dropped or added in a .npy file's header (a Python literal that numpy tokenizes: a cut inside
    its bracket raised tokenize's TokenError, which escaped as it was), 600 ways, on the whole read and on the
    mapped one the CLI's lossy encoder takes: read, or refused in a SancodecError."""
    from sancodec.io.arrays import map_npy

    path = tmp_path / "base.npy"
    np.save(path, (np.arange(3000).reshape(1000, 3) % 97).astype(np.int16))
    base = path.read_bytes()
    rng = random.Random(9)
    case = tmp_path / "case.npy"
    for _ in range(600):
        case.write_bytes(mutated(base, rng, 128))
        try:
            read_signal(case, fs=100.0)
        except SancodecError:
            pass
        try:
            map_npy(case, 100.0)
        except SancodecError:
            pass


@pytest.mark.parametrize("record", ["03700181_2000f", "3000003_0003"])
def test_a_slice_starts_where_its_first_row_was_recorded_as_wfdb_python_s_sampfrom(tmp_path, record):
    """A slice (``Signal.slice``, ``decode(start=)``, ``SanFile.signal``) kept the record's start time, so that its
    ``to_pandas`` index, and the WFDB header or EDF start a decoded range was written with, put its first row at the
    record's first: 1000 rows of MIMIC's ABP at 125 Hz, 8 s early. It moves to the first row kept, as wfdb-python's
    ``rdrecord(sampfrom=...)`` moves it (a date and time together, a time of day alone)."""
    from sancodec import open as open_san

    sig = read_signal(DATA / record)
    theirs = wfdb.rdrecord(str(DATA / record), sampfrom=1000, sampto=1020)  # (frames: rows of the fastest channel)
    lo, hi = 1000 * sig.frame_size, 1020 * sig.frame_size
    data = encode(sig)
    with open_san(data) as f:
        picked = f.signal(lo, hi)
    for part in (sig.slice(lo, hi), decode(data, start=lo, end=hi), picked):
        assert part.base_time == theirs.base_time.isoformat()
        assert part.base_date == (None if theirs.base_date is None else theirs.base_date.isoformat())
    write_signal(decode(data, start=lo, end=hi), tmp_path / "part")
    back = wfdb.rdrecord(str(tmp_path / "part"))
    assert (back.base_date, back.base_time) == (theirs.base_date, theirs.base_time)
    if theirs.base_date is not None and sig.samples_per_frame is None:  # (to_pandas: one rate)
        frame = decode(data, start=lo, end=hi).to_pandas()
        assert frame.index[0] == sig.to_pandas().index[lo]


def test_a_slice_of_a_header_with_lying_start_fields_keeps_them_as_they_are():
    """The start fields come from a ``.san`` header, not trusted: a date or time that is no ISO one, a date that a
    slice would move past year 9999, or a time of another type are left as they were, nothing raised (a date of
    another type is no date: the time alone moves)."""
    from sancodec.signal import moved_start

    assert moved_start("2024-01-31", "23:59:50", 10.5) == {"base_time": "00:00:00.500000", "base_date": "2024-02-01"}
    assert moved_start(None, "23:59:50", 20.0) == {"base_time": "00:00:10"}  # (a time of day alone wraps)
    assert moved_start(5, "10:00:00", 1.0) == {"base_time": "10:00:01"}  # (a date that is no text: none, left)
    for date, time, seconds in (("2024-13-01", "10:00:00", 1.0), ("2024-01-01", "25:00:00", 1.0),
                                ("9999-12-31", "23:59:59", 2.0), ("2024-01-01", 7, 1.0),
                                ("2024-01-01", "10:00:00", float("nan")), ("2024-01-01", "10:00:00", 1e300),
                                ("2024-01-01", "", 1.0), ("2024-01-01", "10:00:00", 0.0)):
        assert moved_start(date, time, seconds) == {}, (date, time, seconds)


def test_an_annotators_file_in_the_way_of_a_decode_is_kept_without_force(tmp_path):
    """A decode that would write a record's .qrs beside its .atr refuses, naming --force, where only that .qrs is in
    the way, and leaves it as it was; with --force it is replaced by the record's."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    base = _record_with_annotators(tmp_path)
    (tmp_path / "a.san").write_bytes(encode(read_signal(base)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "rec.qrs").write_bytes(b"mine")
    args = ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "out" / "rec"), "--format", "wfdb", "-q"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--force" in res.stderr, res.output
    assert (tmp_path / "out" / "rec.qrs").read_bytes() == b"mine" and sorted(p.name for p in (tmp_path / "out")
                                                                              .iterdir()) == ["rec.qrs"]
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0
    assert wfdb.rdann(str(tmp_path / "out" / "rec"), "qrs").sample.tolist() == [10, 300, 600]


def test_a_known_annotators_extension_with_a_digit_decodes_to_wfdb(tmp_path, mitdb_100):
    """qtdb's .pu0 (an annotator sancodec knows) was kept in the .san, but its decode to WFDB crashed ("unexpected
    error (ValueError: extension must only comprise of letters.)": wfdb-python writes extensions of letters only):
    written under a stand-in and renamed, byte for byte as it was."""
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    wfdb.wrann("100", "pux", np.array([100, 500, 900]), symbol=["(", "N", ")"], write_dir=str(tmp_path), fs=360)
    (tmp_path / "100.pux").rename(tmp_path / "100.pu0")
    back = decode(encode(read_signal(tmp_path / "100")))
    assert [a.extension for a in back.annotations] == ["atr", "pu0"]
    (tmp_path / "out").mkdir()
    files = write_signal(back, tmp_path / "out" / "100")
    assert sorted(f.name for f in files) == ["100.atr", "100.dat", "100.hea", "100.pu0"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["100.atr", "100.dat", "100.hea", "100.pu0"]
    for ext in ("atr", "pu0"):
        assert (tmp_path / "out" / f"100.{ext}").read_bytes() == (tmp_path / f"100.{ext}").read_bytes(), ext


def _custom_labelled(folder: Path) -> Path:
    """mitdb 100 with an .atr that defines two labels of its own (q and z, codes 42 and 43), as wrann writes one."""
    import pandas as pd

    for ext in ("hea", "dat"):
        shutil.copy(DATA.parent.parent / "sancodec" / "data" / "samples" / f"100.{ext}", folder / f"100.{ext}")
    labels = pd.DataFrame({"label_store": [42, 43], "symbol": ["q", "z"], "description": ["my first", "zed"]})
    wfdb.wrann("100", "atr", np.array([10, 20, 30, 4000]), symbol=["q", "N", "z", "q"], custom_labels=labels,
               write_dir=str(folder), fs=360)
    return folder / "100"


@pytest.mark.parametrize("mode", [{"mode": "lossless"}, {"mode": "lossy", "prdn": 5}])
def test_an_annotation_files_own_labels_come_back(tmp_path, mode):
    """An annotation file's own label definitions (wfdb-python's custom_labels) are kept: its q and z came back as
    comments (") with the symbol in the note, and the written file's read-back check did not see it (wrann changed
    the very lists it was given, which the check then compared with what it read)."""
    base = _custom_labelled(tmp_path)
    sig = read_signal(base)
    assert sig.annotations[0].custom_labels == [(42, "q", "my first"), (43, "z", "zed")]
    back = decode(encode(sig, **mode))
    assert back.annotations[0].equals(sig.annotations[0]) and back.annotations[0].custom_labels == \
        sig.annotations[0].custom_labels
    (tmp_path / "out").mkdir()
    write_signal(back, tmp_path / "out" / "100")
    assert (tmp_path / "out" / "100.atr").read_bytes() == (tmp_path / "100.atr").read_bytes()
    assert wfdb.rdann(str(tmp_path / "out" / "100"), "atr").symbol == ["q", "N", "z", "q"]


def test_labels_wfdb_cannot_write_are_refused_not_changed(tmp_path, mitdb_100):
    """A symbol neither WFDB's nor defined (annotations made in Python) was written as a comment, its symbol moved to
    the note, and reported written; now refused in one line, nothing left behind."""
    from sancodec.signal import Annotations

    sig = read_signal(mitdb_100).slice(0, 2000)
    made = Annotations("atr", np.array([5, 50]), ["N", "Y"], np.zeros(2, np.int64), np.zeros(2, np.int64),
                       np.zeros(2, np.int64), ["", ""])
    sig.annotations = [made]
    with pytest.raises(SanFormatError, match=r"100\.atr: the written annotations do not read back as they were"):
        write_signal(sig, tmp_path / "100")
    made.custom_labels = [(42, "QQ", "two letters")]  # (wfdb-python writes a label of one character only)
    made.symbol = ["N", "QQ"]
    with pytest.raises(SanFormatError, match=r"100\.atr: wfdb-python cannot write these annotations \(.*\)$"):
        write_signal(sig, tmp_path / "100")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("labels", [[], 7, [[42, "q"]], [[0, "q", "a"]], [[50, "q", "a"]], [[42, "", "a"]],
                                    [[42, "q", "x" * 256]], [[True, "q", "a"]], [[42, "q", "a"], [43, "q", "b"]],
                                    [[42, "q", "a"], [42, "z", "b"]], [[42, 5, "a"]], [[42, "q", ""]]])
def test_a_headers_hostile_label_definitions_are_refused(labels):
    from sancodec.codec.annotations import pack_annotations, unpack_annotations
    from sancodec.signal import Annotations

    made = Annotations("atr", np.array([5]), ["q"], np.zeros(1, np.int64), np.zeros(1, np.int64),
                       np.zeros(1, np.int64), [""], custom_labels=[(42, "q", "mine")])
    packed = pack_annotations([made])
    assert unpack_annotations(packed, 100, 10)[0]["custom_labels"] == [[42, "q", "mine"]]
    packed[0]["labels"] = labels
    with pytest.raises(SanFormatError, match="custom_labels"):
        unpack_annotations(packed, 100, 10)


def test_a_wfdb_annotation_objects_labels_without_codes_are_refused(mitdb_100):
    import sancodec

    record = wfdb.rdrecord(str(mitdb_100), sampto=1000, physical=False)
    ann = wfdb.Annotation("100", "atr", np.array([10]), symbol=["q"], custom_labels=[("q", "mine")])
    with pytest.raises(SanConfigError, match="custom_labels without label_store|label_store"):
        sancodec.Signal.from_wfdb(record, ann)
    ann = wfdb.Annotation("100", "atr", np.array([10]), symbol=["q"], custom_labels=[(42, "q", "mine")])
    back = sancodec.decode(sancodec.encode(sancodec.Signal.from_wfdb(record, ann)))
    assert back.annotations[0].custom_labels == [(42, "q", "mine")]


def test_random_bytes_under_a_known_annotators_name_are_passed_over(tmp_path, mitdb_100):
    """A .qrs of random bytes that ends in the zero word, which wfdb-python reads as labels (slowly: 37 s over 16 MB),
    was carried in the .san as annotations; its opening is not laid out as an annotation file's: passed over, said."""
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    blob = np.random.default_rng(0).integers(0, 256, 1 << 16, dtype=np.uint8)
    blob[-2:] = 0
    (tmp_path / "100.qrs").write_bytes(blob.tobytes())
    with pytest.warns(SancodecWarning, match=r"100\.qrs: no WFDB annotation file \(its opening is not laid out"):
        assert [a.extension for a in read_signal(tmp_path / "100").annotations] == ["atr"]


def test_an_empty_annotation_file_under_a_known_annotators_name_is_no_stray_file(tmp_path, mitdb_100):
    """A detector's .qrs that found nothing (the closing zero word alone) is an annotation file of no labels, read
    without a word (the layout check took it for a stray file and warned)."""
    for ext in ("hea", "dat"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    (tmp_path / "100.qrs").write_bytes(b"\x00\x00")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SancodecWarning)
        sig = read_signal(tmp_path / "100")
    assert [(a.extension, len(a)) for a in sig.annotations] == [("qrs", 0)]


def test_in_dtype_clips_a_block_of_rows_at_a_time_to_the_same_values(monkeypatch):
    """``in_dtype`` (a decode's integers narrowed to the source's type, a lossy overshoot clipped) made an int64 copy of
    the whole record beside it: 230 MB for an hour of 8 channels at 1 kHz, decoded to .npy. Now it clips a block of
    rows at a time, to the values ``np.clip(x, lo, hi).astype(dtype)`` gives, in ``x``'s memory order, and holds
    about the result alone."""
    from common import traced_peak

    from sancodec.io import arrays

    rng = np.random.default_rng(5)
    monkeypatch.setattr(arrays, "IN_DTYPE_ROWS", 7)
    for dtype in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint64, np.int64):
        info = np.iinfo(dtype)
        x = rng.integers(-(1 << 40), 1 << 40, size=(50, 3)) // rng.integers(1, 1 << 40, size=(50, 3))
        x[::5] = [info.min, info.max, -1] if info.max < (1 << 63) else [0, (1 << 63) - 1, -1]
        for array in (x, np.asfortranarray(x), x[:, 1], x[:0]):
            want = np.clip(array, info.min, min(info.max, (1 << 63) - 1)).astype(dtype)
            got = arrays.in_dtype(array, np.dtype(dtype))
            assert got.dtype == dtype and got.shape == want.shape and np.array_equal(got, want), dtype
            assert got.flags.f_contiguous == want.flags.f_contiguous
    monkeypatch.undo()
    x = rng.integers(-40000, 40000, size=(1 << 20, 2))  # 16 MB of int64, 4 MB as int16
    peak = traced_peak(lambda: arrays.in_dtype(x, np.dtype(np.int16)))
    assert peak < x.nbytes // 2, peak


def test_a_npy_is_written_from_its_array_not_from_bytes_made_of_it(tmp_path, monkeypatch):
    """``write_npy`` made the file's bytes in memory beside the array and wrote them; ``decode -o x.npy`` decoded
    the record whole as int64 first (618 MB of memory for an hour of 8 channels at 1 kHz). Now the array is written
    into the file as numpy writes one (the same bytes), and the decode to .npy goes through a file-mapped array a
    window of frames at a time, as the EDF and WAV outputs do."""
    from common import traced_peak
    from typer.testing import CliRunner

    from sancodec import codec
    from sancodec.cli import app

    x = np.random.default_rng(6).integers(-3000, 3000, size=(1 << 20, 2)).astype(np.int16)
    signal = Signal(x, 250.0)
    peak = traced_peak(lambda: write_signal(signal, tmp_path / "x.npy"))
    assert peak < x.nbytes // 2, peak
    buf = io.BytesIO()
    np.save(buf, x)
    assert (tmp_path / "x.npy").read_bytes() == buf.getvalue()
    (tmp_path / "x.san").write_bytes(encode(Signal(x[: 1 << 16], 250.0)))
    monkeypatch.setattr(codec, "decode_file", lambda *a, **k: pytest.fail("decoded whole"))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "back.npy"), x[: 1 << 16])


def test_aligned_widths_are_checked_over_every_row_a_block_at_a_time(monkeypatch):
    """The widths an aligned table is written back to hold for every row, checked a block of rows at a time (a long
    table's text is not copied whole again): a row past the first block that is aligned otherwise leaves none."""
    from sancodec.io import arrays

    monkeypatch.setattr(arrays, "ALIGNED_ROWS", 2)
    rows = ["   1.5  -2", "  10.0   3", "  -7.2  44", "   0.1   5", "   2.0   6"]
    assert arrays.aligned_table(rows).widths == [6, 4]
    assert arrays.aligned_table([*rows[:4], " 2.0     6"]).widths is None  # (the same length, other places)
    assert arrays.aligned_table([*rows[:4], "   2.0  6 "]) is None or \
        arrays.aligned_table([*rows[:4], "   2.0  6 "]).widths is None


def test_aligned_columns_read_as_values_and_come_back_aligned(tmp_path):
    """Values between runs of spaces (MATLAB's ``save -ascii``, ``numpy.savetxt(fmt="%10.4f")``, Fortran's and
    instruments' fixed-width text) were refused ("its values stand between runs of spaces"). Now such a table, with
    no comma, semicolon, tab or quote, reads by its runs of spaces; where every row is right-aligned to the same
    widths (its names' row to its own), a decode to text writes them so again, byte for byte where lossless; ragged
    rows read too and go back single-spaced; a header's widths that are no list of whole widths are passed over."""
    from typer.testing import CliRunner

    from sancodec import decode, encode
    from sancodec.cli import app

    rng = np.random.default_rng(11)
    x = np.round(np.cumsum(rng.normal(size=(400, 3)), axis=0), 4)
    matlab = "".join("".join(f"{v:16.7e}" for v in row) + "\n" for row in x)  # save -ascii's layout
    (tmp_path / "m.txt").write_text(matlab)
    signal = read_signal(tmp_path / "m.txt", fs=100.0)
    assert signal.n_channels == 3 and np.array_equal(signal.physical(), x) and signal.source["aligned"] == [16] * 3
    write_signal(decode(encode(signal)), tmp_path / "m_back.txt")
    assert (tmp_path / "m_back.txt").read_text() == matlab
    table = np.column_stack([np.arange(400) / 250, x])
    np.savetxt(tmp_path / "n.txt", table, fmt="%10.4f", header="      time       ECG      RESP       ABP",
               comments="")
    signal = read_signal(tmp_path / "n.txt")
    assert signal.fs == 250 and signal.channel_names == ["ECG", "RESP", "ABP"]
    assert np.array_equal(signal.physical(), x)
    write_signal(decode(encode(signal)), tmp_path / "n_back.txt")
    assert (tmp_path / "n_back.txt").read_text() == (tmp_path / "n.txt").read_text()
    (tmp_path / "n.san").write_bytes(encode(signal, mode="lossy", prdn=2.0))  # its values at the grid's places
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "n.san"), "-o", str(tmp_path / "n_lossy.txt"), "-q"])
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "n_lossy.txt").read_text().splitlines()
    assert lines[0] == "      time       ECG      RESP       ABP" and {len(line) for line in lines[1:]} == {43}
    assert np.allclose(read_signal(tmp_path / "n_lossy.txt").physical(), decode((tmp_path / "n.san").read_bytes())
                       .physical(), rtol=0, atol=1e-4)
    (tmp_path / "lead.txt").write_text("  -0.0419 -0.0195\n   0.0806 55.6000\n")  # single spaces after leading ones:
    lead = read_signal(tmp_path / "lead.txt", fs=10.0)  # (was read as an empty first cell, "has 4 values")
    assert lead.samples.tolist() == [[-0.0419, -0.0195], [0.0806, 55.6]]
    write_signal(decode(encode(lead)), tmp_path / "lead_back.txt")
    assert (tmp_path / "lead_back.txt").read_text() == "  -0.0419 -0.0195\n   0.0806 55.6000\n"
    (tmp_path / "ragged.txt").write_text("1  2   3\n10 20  30\n  7 8 9\n")
    ragged = read_signal(tmp_path / "ragged.txt", fs=10.0)
    assert ragged.samples.tolist() == [[1, 2, 3], [10, 20, 30], [7, 8, 9]] and "aligned" not in ragged.source
    write_signal(ragged, tmp_path / "ragged_back.txt")
    assert (tmp_path / "ragged_back.txt").read_text() == "1 2 3\n10 20 30\n7 8 9\n"
    for hostile in ([16, 16], [16, 16, 0], [16.0] * 3, "16", [True] * 3, [1 << 20] * 3):
        odd = Signal(signal.samples[:3], 250.0, source={**signal.source, "aligned": hostile,
                                                         "aligned_names": hostile})
        write_signal(odd, tmp_path / "odd.txt")  # (single-spaced: no widths to keep)
        assert (tmp_path / "odd.txt").read_text().splitlines()[1].count("  ") == 0, hostile


def test_a_comment_above_names_that_are_quoted_numbers_stays_a_comment(tmp_path):
    """A CSV of a preamble and one channel named "-0.291" (random CSV testing, ``CSV_SEEDS=3935:3936``) is written as
    ``# note``, ``"-0.291"``, its rows: read back, the comment was taken for numpy.savetxt's commented header row and
    the quoted name for the first sample (a row more, every value one late). Names that are quoted numbers under a
    comment are the names now, the comment a comment."""
    (tmp_path / "h.csv").write_text("# note 0\ntime,-0.291\ninf,0.087\n")
    signal = read_signal(tmp_path / "h.csv", fs=10.0)
    assert signal.channel_names == ["-0.291"] and signal.samples.tolist() == [[0.087]]
    write_signal(signal, tmp_path / "back.csv")
    assert (tmp_path / "back.csv").read_text() == '# note 0\n"-0.291"\n0.087\n'
    again = read_signal(tmp_path / "back.csv", fs=10.0)
    assert again.channel_names == ["-0.291"] and again.samples.tolist() == [[0.087]] and again.comments == ["note 0"]
    np.savetxt(tmp_path / "s.csv", [[1.5, 2.0]], delimiter=",", header="made today\na,b", fmt="%.1f")  # (as before)
    assert read_signal(tmp_path / "s.csv", fs=1.0).channel_names == ["a", "b"]


def test_a_time_column_that_starts_and_ends_at_infinity_gives_no_rate_and_no_warning(tmp_path):
    """A time column whose first and last times are both ``inf`` (random CSV testing, ``CSV_SEEDS=3517:3518``) took
    their difference outside the guard that keeps such columns quiet: numpy's "invalid value encountered in scalar
    subtract". It gives no rate, without a warning, as other unusable times do."""
    from sancodec.io.arrays import rate_of

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rate_of(np.array([np.inf, 0.5, np.inf])) is None
        (tmp_path / "t.csv").write_text("Zeit;a\ninf;1,5\n0,5;2,0\ninf;3,0\n")
        assert read_signal(tmp_path / "t.csv", fs=100.0).samples.shape == (3, 1)


def test_empty_cells_before_a_tab_read_as_gaps_one_each(tmp_path):
    """A tab-separated row that starts with two empty cells (``\\t\\t-2.02``) had its gaps read as one cell
    ("nannan"): the gap's spaces took the tab that ends it, and the row came out a value short (random CSV testing,
    ``CSV_SEEDS=5005:5006``, a headerless table of closed rows written back). Each empty cell is one gap now."""
    (tmp_path / "t.tsv").write_text("a\tb\tc\n\t\t-2.02\n1\t \t3\n-\t2\t\n")
    signal = read_signal(tmp_path / "t.tsv", fs=10.0)
    assert np.array_equal(signal.physical(), [[np.nan, np.nan, -2.02], [1, np.nan, 3], [np.nan, 2, np.nan]],
                          equal_nan=True)
    (tmp_path / "c.tsv").write_text("-0.071\t0.678\t99.2\t\n-75.7\t407.0\t \t\n-\t-\t-2.02\t\n")  # closed rows
    closed = read_signal(tmp_path / "c.tsv", fs=100.0)
    write_signal(closed, tmp_path / "back.tsv")
    assert np.array_equal(read_signal(tmp_path / "back.tsv", fs=100.0).physical(), closed.physical(), equal_nan=True)
    assert (tmp_path / "back.tsv").read_text().startswith("-0.071\t0.678\t99.2\t\n")  # (no blank line first: the
    # names' line of a headerless table of closed rows was cut a character short)


def test_a_headerless_tables_first_row_of_gaps_comes_back_a_row_of_data(tmp_path):
    """A table without names whose first row holds gaps alone (``;nan``, `` ,nan``: random CSV testing,
    ``CSV_SEEDS=8625:8626`` and ``9444:9445``) was written back with its gaps' own text, nothing (``;``), which reads
    as a header of empty names: the table came back a row short, or as no data at all. That row's gaps are written
    ``NaN`` now (quoted where the row's values are, the closing delimiter kept); the other rows keep their text. So is
    each row's last gap where every row would end in the delimiter (``CSV_SEEDS=10025:10026``: read back as rows closed
    by a delimiter, a column short)."""
    for text, written in ((";nan\n-0,039;1,5\n;2,25\n", "NaN;NaN\n-0,039;1,5\n;2,25\n"),
                          (" ,nan\n", "NaN,NaN\n"), (" ,nan,\n1,2,\n", "NaN,NaN,\n1,2,\n"),
                          ("-;nan;\n53.0;-0.0829;\n", "NaN;NaN;\n53;-0.0829;\n"),  # (gaps of "-", closed rows)
                          (";672.0;-2.75;-\n", ";672.0;-2.75;NaN\n")):  # (a last gap as nothing: rows read closed)
        (tmp_path / "h.csv").write_text(text)
        signal = read_signal(tmp_path / "h.csv", fs=10.0)
        write_signal(signal, tmp_path / "back.csv")
        again = read_signal(tmp_path / "back.csv", fs=10.0)
        assert np.array_equal(again.physical(), signal.physical(), equal_nan=True), text
        if written is not None:
            assert (tmp_path / "back.csv").read_text() == written, text
