"""Issue 16, outputs and data: nothing is written where the user did not ask, no data changes
silently, and every failure is one clear line. One test per reported case."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from common import rewrap
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError, SanFormatError, Signal, read_signal
from sancodec.cli import app
from sancodec.codec.container import SanReader

DATA = Path(__file__).parent / "data"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _copy(tmp_path: Path, name: str) -> Path:
    for f in DATA.glob(f"{name}.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / name


def _hostile_san(tmp_path: Path, **signal_changes) -> Path:
    rec = read_signal(DATA / "test01_00s").slice(0, 500)
    data = sancodec.encode(rec, mode="lossless")
    head = SanReader(data).header
    head["signal"].update(signal_changes)
    path = tmp_path / "hostile.san"
    path.write_bytes(rewrap(data, header=head))
    return path


# ----------------------------------------------------------------- WFDB output names
@pytest.mark.parametrize("inside", [["x.py"] * 4, [".."] * 4, ["../../evil.dat"] * 4])
def test_wfdb_file_names_come_from_the_output_name_alone(tmp_path, inside):
    san = _hostile_san(tmp_path, file_name=inside)
    res = run("decode", san, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.dat", "out.hea"]
    assert not (tmp_path.parent / "evil.dat").exists()


@pytest.mark.parametrize("ext", ["dat", "hea", "py", "a/b", "x" * 40])
def test_annotation_extensions_are_restricted(tmp_path, ext):
    rec = read_signal(sancodec.__path__[0] + "/data/samples/100").slice(0, 3600)
    data = sancodec.encode(rec, mode="lossless")
    head = SanReader(data).header
    head["signal"]["annotations"][0]["extension"] = ext
    san = tmp_path / "a.san"
    san.write_bytes(rewrap(data, header=head))
    res = run("decode", san, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "extension" in res.stderr and res.stderr.count("\n") == 1
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("name", ["my rec", "v102s.ll", "back_心电", "a" * 80])
def test_record_names_wfdb_cannot_hold_are_refused_with_the_rule(tmp_path, name):
    san = tmp_path / "x.san"
    san.write_bytes(sancodec.encode(read_signal(DATA / "test01_00s"), mode="lossless"))
    res = run("decode", san, "-o", tmp_path / name)
    assert res.exit_code == 2 and "ASCII letters, digits" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.san"]


@pytest.mark.parametrize("existing", ["out.dat", "out.atr", "out.hea"])
def test_every_file_of_a_record_needs_force(tmp_path, existing):
    sig = read_signal(sancodec.__path__[0] + "/data/samples/100").slice(0, 3600)  # with .atr annotations
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(sig, mode="lossless"))
    (tmp_path / existing).write_text("keep me")
    res = run("decode", san, "-o", tmp_path / "out")
    assert res.exit_code == 2 and existing in res.stderr and "--force" in res.stderr
    assert (tmp_path / existing).read_text() == "keep me"
    assert run("decode", san, "-o", tmp_path / "out", "--force").exit_code == 0
    assert (tmp_path / existing).read_bytes() != b"keep me"


def test_report_plot_and_encode_never_overwrite_their_own_input(tmp_path):
    rec = _copy(tmp_path, "test01_00s")
    before = (tmp_path / "test01_00s.hea").read_bytes()
    res = run("report", rec, "--plot", tmp_path / "test01_00s.hea", "--force")
    assert res.exit_code == 2 and "input" in res.stderr
    res = run("encode", rec, "-o", tmp_path / "test01_00s.hea", "--force")
    assert res.exit_code == 2 and "input" in res.stderr
    assert (tmp_path / "test01_00s.hea").read_bytes() == before
    san = tmp_path / "t.san"
    assert run("encode", rec, "-o", san, "-q").exit_code == 0
    res = run("decode", san, "-o", tmp_path / "t.san", "--format", "npy", "--force")
    assert res.exit_code in (0, 2)
    assert san.read_bytes()[:4] == b"\x89SAN"  # t.san.npy or a refusal, never the .san itself


def test_report_plot_needs_force_and_export_too(tmp_path):
    rec = _copy(tmp_path, "test01_00s")
    (tmp_path / "p.png").write_text("old")
    assert run("report", rec, "--plot", tmp_path / "p.png").exit_code == 2
    assert (tmp_path / "p.png").read_text() == "old"
    pytest.importorskip("onnx")  # the export (the train extra's; a device without it has checked the report)
    model = tmp_path / "m.json"
    from sancodec.san.bundled import default_model  # (imported here: no test before it need have)

    sancodec.save_model(default_model(), model)
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "manifest.json").write_text("old")
    res = run("export", model, tmp_path / "onnx")
    assert res.exit_code == 2 and "manifest.json" in res.stderr
    assert run("export", model, tmp_path / "onnx", "--force", "-q").exit_code == 0


def test_parallel_decodes_into_one_record_never_mix(tmp_path):
    """Two different sources decoded with -f into the same record, four at a time, eight times in each of three
    rounds: each final record is one source's, whole (its .hea describes its .dat)."""
    a = read_signal(DATA / "test01_00s")
    b = Signal(a.samples[::-1].copy(), a.fs, a.channel_names, a.units, a.adc_gain, a.baseline, a.fmt)
    sans = []
    for name, sig in (("a", a), ("b", b)):
        path = tmp_path / f"{name}.san"
        path.write_bytes(sancodec.encode(sig, mode="lossless"))
        sans.append(path)
    out = tmp_path / "out"

    def decode(i: int) -> int:
        cmd = [sys.executable, "-m", "sancodec", "decode", str(sans[i % 2]), "-o", str(out), "-f", "-q"]
        return subprocess.run(cmd, capture_output=True, timeout=120).returncode

    for _ in range(3):
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(decode, range(8))) == {0}
        back = read_signal(out)
        assert np.array_equal(back.samples, a.samples) or np.array_equal(back.samples, b.samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.san", "b.san", "out.dat", "out.hea"]


def test_written_files_follow_the_umask_without_changing_it(tmp_path):
    code = ("import os, sancodec; os.umask(0o027); "
            f"sancodec.write_bytes_atomic({str(tmp_path / 'f.bin')!r}, b'x'); "
            f"print(oct(os.stat({str(tmp_path / 'f.bin')!r}).st_mode & 0o777), oct(os.umask(0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["0o640", "0o27"], out.stderr


def test_sancodec_imports_and_writes_where_there_is_no_flock(tmp_path):
    """Windows has no fcntl: ``import sancodec`` failed there at once. Without it (blocked here), the package
    imports, and files and WFDB records are written atomically as before, writers of one process taking turns
    (``_atomic.folder_lock``); two threads decoding into one record leave one source's record, whole."""
    code = f"""
import sys
sys.modules["fcntl"] = None  # as on Windows
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np
import sancodec
from sancodec import _atomic, read_signal, write_signal
assert _atomic.fcntl is None
tmp = Path({str(tmp_path)!r})
sancodec.write_bytes_atomic(tmp / "f.bin", b"x")
sig = read_signal({str(DATA / "test01_00s")!r})
other = sancodec.Signal(sig.samples[::-1].copy(), sig.fs, sig.channel_names, sig.units, sig.adc_gain, sig.baseline,
                        sig.fmt)
with ThreadPoolExecutor(2) as pool:
    list(pool.map(lambda i: write_signal((sig, other)[i % 2], tmp / "out"), range(8)))
back = read_signal(tmp / "out").samples
assert np.array_equal(back, sig.samples) or np.array_equal(back, other.samples)
print(sorted(p.name for p in tmp.iterdir()))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['f.bin',", "'out.dat',", "'out.hea']"], out.stdout


def test_a_241_character_name_is_written(tmp_path):
    name = "n" * 245 + ".san"
    sancodec.write_bytes_atomic(tmp_path / name, b"data")
    assert (tmp_path / name).read_bytes() == b"data"


# ----------------------------------------------------------------- no silent data changes
def test_format_8_first_differences_round_trip_and_every_binary_format(tmp_path):
    """wfdb-python's binformats record: one channel per binary format; format 8 stores 8-bit
    differences, so its values run to -2047 and must not be clipped to 8 bits."""
    sig = read_signal(DATA / "binformats")
    assert sig.fmt[0] == "8" and sig.samples[:, 0].min() < -127
    data = sancodec.encode(sig, mode="lossless")
    np.testing.assert_array_equal(sancodec.decode(data).samples, sig.samples)
    (tmp_path / "b.san").write_bytes(data)
    assert run("decode", tmp_path / "b.san", "-o", tmp_path / "back").exit_code == 0
    np.testing.assert_array_equal(read_signal(tmp_path / "back").samples, sig.samples)


def test_every_binary_format_comes_back_in_its_own_format_byte_for_byte(tmp_path, caplog):
    """The formats wfdb-python reads but does not write (8, 61, 160, 310, 311) were written back as format 16, with a
    warning: other signal files, another header. Now encoded in their own (``io.wfdb_formats``): every signal file of
    binformats comes back byte for byte, its header says the same formats, and with --keep-header-text is the very
    text. A lossy decode is written in a format where it holds the samples (format 8's steps, 310's 10 bits), else
    as 16 with the warning."""
    import logging

    import wfdb

    for keep in ([], ["--keep-header-text"]):
        san = tmp_path / f"b{len(keep)}.san"
        assert run("encode", DATA / "binformats", "-o", san, *keep, "-q").exit_code == 0
        (tmp_path / f"o{len(keep)}").mkdir()
        out = tmp_path / f"o{len(keep)}" / "binformats"
        assert run("decode", san, "-o", out, "-q").exit_code == 0
        for k in range(10):
            assert (out.parent / f"binformats.d{k}").read_bytes() == (DATA / f"binformats.d{k}").read_bytes(), k
    assert wfdb.rdheader(str(tmp_path / "o0" / "binformats")).fmt == wfdb.rdheader(str(DATA / "binformats")).fmt
    assert (tmp_path / "o1" / "binformats.hea").read_text() == (DATA / "binformats.hea").read_text()
    sig = read_signal(DATA / "binformats")
    lossy = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=1))
    from sancodec.io.wfdb_formats import holds

    expected = [f if f not in ("8", "61", "160", "310", "311") or holds(f, lossy.samples[:, [k]]) else
                ("32" if abs(lossy.samples[:, k]).max() > 32767 else "16") for k, f in enumerate(sig.fmt)]
    with caplog.at_level(logging.WARNING, logger="sancodec"):
        sancodec.write_signal(lossy, tmp_path / "lossy", format="wfdb")
    assert wfdb.rdheader(str(tmp_path / "lossy")).fmt == expected
    said = [r for r in caplog.records if "cannot hold these samples" in r.getMessage()]
    assert len(said) == sum(a != b for a, b in zip(expected, sig.fmt)) > 0
    np.testing.assert_array_equal(read_signal(tmp_path / "lossy").samples, lossy.samples)


def test_a_format_8_record_whose_initial_value_is_not_its_first_sample_comes_back(tmp_path):
    """Format 8 holds first differences, the first from the header's initial value (0 here, the first samples 5 and
    -3). Written in format 8 with the first sample as its start, the record did not read back ("does not read back
    to the same samples") and nothing was written; now its steps start from the kept initial value: the signal file
    and header byte for byte, lossless, and a lossy decode reads back as decoded."""
    x = np.array([[5, -3], [7, -1], [6, 0], [10, 4], [12, 9]], dtype=np.int64)
    steps = np.diff(x, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    (tmp_path / "r.dat").write_bytes(steps.reshape(-1).astype(np.int8).tobytes())
    sums = x.sum(axis=0) % 65536
    (tmp_path / "r.hea").write_text("r 2 250 5\n" + "".join(f"r.dat 8 200/mV 12 0 0 {sums[k]} 0 s{k}\n"
                                                            for k in range(2)))
    (tmp_path / "out").mkdir()
    assert run("encode", tmp_path / "r", "-o", tmp_path / "r.san", "--keep-header-text", "-q").exit_code == 0
    res = run("decode", tmp_path / "r.san", "-o", tmp_path / "out" / "r", "-q")
    assert res.exit_code == 0, res.output
    for name in ("r.dat", "r.hea"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / name).read_bytes(), name
    lossy = sancodec.decode(sancodec.encode(read_signal(tmp_path / "r"), mode="lossy", prdn=20))
    sancodec.write_signal(lossy, tmp_path / "lossy", format="wfdb")
    np.testing.assert_array_equal(read_signal(tmp_path / "lossy").samples, lossy.samples)


def test_int64_with_a_spread_of_2_to_the_41_round_trips(tmp_path):
    x = np.array([[0], [1 << 41], [3], [(1 << 41) - 5]] * 8, dtype=np.int64)
    sig = Signal(x, 10.0, ["a"], ["NU"])
    np.testing.assert_array_equal(sancodec.decode(sancodec.encode(sig, mode="lossless")).samples, x)


def test_uint64_beyond_2_to_the_53_is_refused_not_wrapped(tmp_path):
    np.save(tmp_path / "u.npy", np.array([0, 2**64 - 1, 5], dtype=np.uint64))
    res = run("encode", tmp_path / "u.npy", "--fs", "100")
    assert res.exit_code == 1 and "2**53" in res.stderr and not (tmp_path / "u.san").exists()
    sig = Signal(np.array([[0], [2**60]], dtype=np.int64), 1.0, ["a"], ["NU"])
    with pytest.raises(SanConfigError, match="2\\*\\*53"):
        sancodec.encode(sig, mode="lossless")


@pytest.mark.parametrize("max_error", [0.01, 0.5])
def test_wfdb_output_of_a_float_source_keeps_the_near_lossless_bound(tmp_path, max_error):
    x = np.cumsum(np.random.default_rng(4).normal(size=(3000, 2)), axis=0) * 3
    np.save(tmp_path / "f.npy", x)
    assert run("encode", tmp_path / "f.npy", "--fs", "250", "--mode", "near-lossless", "--max-error",
               max_error, "-q").exit_code == 0
    assert run("decode", tmp_path / "f.san", "-o", tmp_path / "back", "--format", "wfdb").exit_code == 0
    back = read_signal(tmp_path / "back").physical()
    assert np.abs(back - x).max() <= max_error * (1 + 1e-6)


def test_npy_and_csv_need_a_sampling_frequency(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(100))
    res = run("encode", tmp_path / "x.npy")
    assert res.exit_code == 2 and "--fs" in res.stderr
    (tmp_path / "t.csv").write_text("time,a\n0,1\n0.004,2\n0.008,3\n")
    assert read_signal(tmp_path / "t.csv").fs == pytest.approx(250)


def test_reports_count_real_samples_of_multi_frequency_records(tmp_path):
    rec = _copy(tmp_path, "03700181_2000f")
    res = run("encode", rec, "--json")
    summary = json.loads(res.stdout)
    sig = read_signal(rec)
    real = 2000 * (4 + 1 + 1)  # MCL1 at 4 samples per frame, ABP and RESP at 1
    assert sig.n_values == real
    assert summary["cr_vs_16bit"] == pytest.approx(real * 2 / summary["bytes"], rel=1e-3)


# ----------------------------------------------------------------- messages
def test_an_empty_header_is_one_line(tmp_path):
    (tmp_path / "e.hea").write_text("")
    res = run("encode", tmp_path / "e")
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "e.hea" in res.stderr


@pytest.mark.parametrize(("line", "new", "message"), [
    (0, "100_3chan 2147483648 360.0 999", "declares 2147483648 signals but describes 3"),  # was lists of 2**31
    (1, "100_3chan.dat 212 200(1024)/mV 11 (3) 1024 1011 63954 0 I", "adc_zero"),  # wfdb read it as None
])
def test_a_garbled_wfdb_header_is_a_format_error_naming_what(tmp_path, line, new, message):
    rec = _copy(tmp_path, "100_3chan")
    lines = (tmp_path / "100_3chan.hea").read_text().splitlines()
    lines[line] = new
    (tmp_path / "100_3chan.hea").write_text("\n".join(lines) + "\n")
    with pytest.raises(SanFormatError, match=message):
        read_signal(rec)
    res = run("encode", rec)
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "Traceback" not in res.output


def test_decode_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.san"
    bad.write_bytes(b"\x89SAN" + bytes(60))
    res = run("decode", bad)
    assert res.exit_code == 1 and str(bad) in res.stderr


def test_a_csv_with_only_a_header_row_says_so(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(SanFormatError, match="no data rows"):
        read_signal(tmp_path / "h.csv", fs=1.0)


def test_help_shows_no_bool_placeholders_and_version_flag_works():
    import typer

    commands = [c.name for c in typer.main.get_command(app).commands.values()]
    assert {"encode", "decode", "report", "export", "train", "version", "batch"} <= set(commands)
    for command in commands:  # (every one: version --build showed one)
        lines = run(command, "--help").stdout.splitlines()
        assert not [line for line in lines if "<bool>" in line and "Show this message" not in line], command
    res = run("--version")
    assert res.exit_code == 0 and res.stdout.strip() == sancodec.__version__


def test_an_unexpected_exception_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    from sancodec.codec.pipeline import FrameDecoder

    def boom(*_a, **_k):
        raise KeyError("surprise")

    san = tmp_path / "x.san"
    san.write_bytes(sancodec.encode(read_signal(DATA / "test01_00s"), mode="lossless"))
    monkeypatch.setattr(FrameDecoder, "decode_window", boom)  # both the streaming and the whole-file decoder
    res = run("decode", san)
    assert res.exit_code == 1 and "unexpected error" in res.stderr and "Traceback" not in res.stderr


def test_a_file_the_encoder_cannot_hold_faithfully_is_never_written(tmp_path):
    sig = read_signal(DATA / "test01_00s").slice(0, 100)
    sig.samples[5, 0] = 40000  # beyond format 16: the decoder would clip it
    with pytest.raises(SanConfigError, match="nothing was written"):
        sancodec.encode(sig, mode="lossless")
    assert os.listdir(tmp_path) == []


def _wfdb_records() -> list[str]:
    # flac_3_constant (5.6 M samples) is left to test_codec's lossless round trip: writing it as
    # WFDB twice would double the suite's time for no new format.
    return sorted({p.stem for p in DATA.glob("*.hea")} - {"flac_3_constant"})


@pytest.mark.parametrize("name", _wfdb_records())
def test_every_bundled_wfdb_record_round_trips_through_san_and_back_to_wfdb(tmp_path, name):
    """The bundled WFDB corpus (wfdb-python's sample records and small derived ones): .san and
    back, then written as WFDB by the CLI and read again by wfdb-python, bit-exact."""
    sig = read_signal(DATA / name)
    san = tmp_path / "r.san"
    san.write_bytes(sancodec.encode(sig, mode="lossless"))
    res = run("decode", san, "-o", tmp_path / "back")
    assert res.exit_code == 0, res.output
    back = read_signal(tmp_path / "back")
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.samples_per_frame == sig.samples_per_frame


def test_encoding_never_writes_into_the_callers_samples():
    """digitize hands the coders int64 samples as a read-only view of the caller's array (no 8-byte-a-sample
    copy): no mode writes into it, compiled kernels included (which a read-only flag would not stop)."""
    from sancodec.codec.prepare import digitize

    rng = np.random.default_rng(0)
    base = sancodec.read_signal(Path(__file__).parent / "data" / "test01_00s").samples.astype(np.int64)
    for x in (np.ascontiguousarray(base[:, :1]), base.copy(), rng.integers(-3000, 3000, (20000, 1)),
              np.repeat(rng.integers(0, 50, 200), 100)[:, None] * 25):
        x = x.astype(np.int64)
        sig = sancodec.Signal(x, 500.0, [f"c{i}" for i in range(x.shape[1])], ["NU"] * x.shape[1])
        digital = digitize(sig, "lossless", None)[0]
        assert np.shares_memory(digital, sig.samples) and not digital.flags.writeable
        before = sig.samples.copy()
        for options in ({"mode": "lossless"}, {"mode": "lossless", "predictor": "all"},
                        {"mode": "near-lossless", "max_error": 2}, {"mode": "lossy", "prdn": 3.0},
                        {"mode": "lossy", "bps": 2.0}, {"mode": "san"}):
            sancodec.encode(sig, **options)
            assert np.array_equal(sig.samples, before), options


def test_many_threads_encoding_and_decoding_at_once_give_what_one_thread_gives(mitdb_100):
    """A service that codes its uploads on a thread pool: every mode and effort, many records at once on eight
    threads, gives each the bytes and decoded samples that coding it alone gives (no cache, scratch buffer or
    model session shared between calls leaks from one to another)."""
    import hashlib

    records = [read_signal(DATA / name) for name in ("a103l_20000", "emg_healthy", "1001", "100_3chan")]
    records.append(read_signal(mitdb_100).slice(0, 60000))
    options = [{"mode": "lossless"}, {"mode": "near-lossless", "max_error": 2}, {"mode": "san"},
               {"mode": "lossy", "prdn": 2.0, "effort": "balanced"}, {"mode": "lossy", "prdn": 5.0, "effort": "fast"},
               {"mode": "lossy", "snr": 30.0}]
    jobs = [(sig, o) for sig in records for o in options]

    def code(job) -> tuple[str, str]:
        sig, o = job
        data = sancodec.encode(sig, **o)
        back = np.ascontiguousarray(sancodec.decode(data).samples)
        return hashlib.sha256(data).hexdigest(), hashlib.sha256(back.tobytes()).hexdigest()

    alone = [code(job) for job in jobs]
    with ThreadPoolExecutor(8) as pool:
        at_once = list(pool.map(code, jobs[::-1]))[::-1]
    assert at_once == alone


def test_a_write_that_fails_names_the_output_not_its_temp_file(tmp_path, monkeypatch):
    """A .san or record that cannot be written was said of the hidden temp file or folder beside it ("error:
    /proc/.san-f4d13279.d: No such file or directory", writing into /proc); now of the output the user named, on
    each path that writes: a .san made whole, one streamed, a decoded record and a decoded .npy."""
    import sancodec._atomic as atomic

    rec = _copy(tmp_path, "test01_00s")
    assert run("encode", rec, "-o", tmp_path / "ok.san", "-q").exit_code == 0
    monkeypatch.setattr(atomic, "_temp_name", lambda folder, suffix=".tmp": folder / "gone" / f".san-x{suffix}")
    for args, named in ((["encode", rec, "-o", tmp_path / "a.san", "--channels", "0,1"], "a.san"),
                        (["encode", rec, "-o", tmp_path / "b.san"], "b.san"),
                        (["decode", tmp_path / "ok.san", "-o", tmp_path / "back"], "back"),
                        (["decode", tmp_path / "ok.san", "-o", tmp_path / "back.npy"], "back.npy")):
        res = run(*args, "-q")
        assert res.exit_code == 1 and res.stderr.startswith(f"error: {tmp_path / named}: "), res.stderr
        assert ".san-" not in res.stderr and "No such file or directory" in res.stderr


def test_a_full_disk_is_said_of_the_output_on_every_path_that_writes_through_a_temp_folder(tmp_path, monkeypatch):
    """A full disk's OSError names no file: a streamed .san or record said "error: No space left on device" and no
    more, and numpy's short write ("900000 requested and 200704 written", no errno) came out bare from EDF or inside
    "could not write WFDB record (...)". Each now names the output, and leaves nothing behind."""
    import errno
    import os

    from sancodec import stream
    from sancodec._atomic import said_of_output
    from sancodec.io import edf, wfdb, wfdb_stream

    rec = _copy(tmp_path, "test01_00s")
    assert run("encode", rec, "-o", tmp_path / "ok.san", "-q").exit_code == 0
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    short = OSError("900000 requested and 200704 written")

    def raising(exc):
        def fail(*args, **kwargs):
            raise exc
        return fail

    cases = [(stream, "write_container", full, ["encode", rec, "-o", tmp_path / "s.san"], "s.san", "No space left"),
             (wfdb_stream, "_encode", full, ["decode", tmp_path / "ok.san", "-o", tmp_path / "r"], "r",
              "No space left"),
             (wfdb, "write_record", short, ["decode", tmp_path / "ok.san", "-o", tmp_path / "whole", "--salvage"],
              "whole", "is the disk full?"),  # (a salvaging decode writes the record whole)
             (wfdb_stream, "_encode", full, ["decode", tmp_path / "ok.san", "-o", tmp_path / "cut", "--end", "100"],
              "cut", "No space left"),  # (a range streamed too)
             (edf, "_reads_back", short, ["decode", tmp_path / "ok.san", "-o", tmp_path / "e.edf"], "e.edf",
              "is the disk full?"),  # (the written EDF's check, inside the temp folder)
             (edf, "write_records", full, ["decode", tmp_path / "ok.san", "-o", tmp_path / "w.edf"], "w.edf",
              "No space left")]  # (its data records, written a block at a time)
    for owner, name, exc, args, named, said in cases:
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, raising(exc))
            res = run(*args, "-q")
        assert res.exit_code == 1 and res.stderr.startswith(f"error: {tmp_path / named}: "), res.stderr
        assert said in res.stderr and ".san-" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.san", "test01_00s.dat", "test01_00s.hea"]
    folder = tmp_path / ".san-x.d"
    with pytest.raises(FileNotFoundError) as caught, said_of_output(tmp_path / "out", folder):  # an input's: as it was
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "in.dat"))
    assert caught.value.filename == str(tmp_path / "in.dat")
    with pytest.raises(OSError) as caught, said_of_output(tmp_path / "out", folder):  # a file in the temp folder
        raise OSError(errno.EIO, "Input/output error", str(folder / "out.dat"))
    assert caught.value.filename == str(tmp_path / "out") and caught.value.errno == errno.EIO
