"""The command line: every command through CliRunner, the installed entry point, bad inputs."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError, read_signal, write_signal
from sancodec.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def mitdb_excerpt(tmp_path_factory, mitdb_100) -> Path:
    """mitdb 100's first 2^16 samples, both leads, as a WFDB record: ``report`` runs the comparison tools (lzma -9e,
    zstd -19) on what it is given, seconds on the whole half hour."""
    base = tmp_path_factory.mktemp("excerpt") / "100x"
    write_signal(read_signal(mitdb_100).slice(0, 1 << 16), base)
    return base


def copy_record(tmp_path: Path, name: str = "test01_00s") -> Path:
    for f in DATA.glob(f"{name}.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / name


def test_encode_info_decode_lossless(tmp_path):
    rec = copy_record(tmp_path)
    res = run("encode", rec, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    san = Path(summary["output"])
    assert san == tmp_path / "test01_00s.san" and summary["mode"] == "lossless"
    res = run("info", san)
    assert res.exit_code == 0 and "lossless" in res.stdout and "4000 x 4" in res.stdout
    info = json.loads(run("info", san, "--json").stdout)
    assert info["header"]["n_channels"] == 4 and info["frames"] == 1
    # one frame (format 1.7): header and framing are the preamble, the header and the payload's CRC
    head_len = int.from_bytes(san.read_bytes()[8:12], "little")
    assert info["bytes"] - info["payload_bytes"] == 16 + head_len + 4
    assert f"{16 + head_len + 4} bytes (frames' payloads {info['payload_bytes']})" in res.stdout
    res = run("decode", san, "-o", tmp_path / "back")
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(read_signal(tmp_path / "back").samples, read_signal(rec).samples)


def test_multi_frequency_record_through_the_cli(tmp_path):
    rec = tmp_path / "mixedsignals_1000f"
    for f in DATA.glob("mixedsignals_1000f*"):
        shutil.copy(f, tmp_path / f.name)
    assert run("encode", rec, "-q").exit_code == 0
    res = run("info", tmp_path / "mixedsignals_1000f.san")
    assert res.exit_code == 0 and "4 samples/frame" in res.stdout and "1 samples/frame" in res.stdout
    res = run("decode", tmp_path / "mixedsignals_1000f.san", "-o", tmp_path / "back")
    assert res.exit_code == 0, res.output
    # Output names come from -o, each signal file's tail after the record's name from the source (_e.dat, ...).
    assert sorted(p.name for p in tmp_path.glob("back*")) == ["back.hea", "back_e.dat", "back_p.dat", "back_r.dat"]
    back, original = read_signal(tmp_path / "back"), read_signal(rec)
    np.testing.assert_array_equal(back.samples, original.samples)
    assert back.samples_per_frame == original.samples_per_frame == [4, 4, 4, 2, 2, 1]


def test_decode_shows_a_lossy_files_target_and_prdn_on_both_paths(tmp_path):
    """The issue's "decode shows the PRDN achieved": on the streamed WFDB path and on the in-memory one."""
    rec = copy_record(tmp_path)
    out = tmp_path / "l.san"
    assert run("encode", rec, "-o", out, "--mode", "lossy", "--prdn", "4", "-q").exit_code == 0
    for args in ([], ["--format", "npy"]):  # format 16 WFDB streams; npy decodes in memory
        res = run("decode", out, "-o", tmp_path / f"d{len(args)}", *args)
        assert res.exit_code == 0, res.output
        assert "target PRDN 4 %" in res.stdout and res.stdout.count(" %") == 1 + 4  # the target, four channels


def test_encode_modes_channels_and_range_decode(tmp_path):
    rec = copy_record(tmp_path)
    out = tmp_path / "n.san"
    assert run("encode", rec, "-o", out, "--mode", "near-lossless", "--max-error", "3", "--channels", "0,2",
               "-q").exit_code == 0
    res = run("decode", out, "-o", tmp_path / "part.npy", "--format", "npy", "--start", "100", "--end", "900")
    assert res.exit_code == 0, res.output
    part = np.load(tmp_path / "part.npy")
    original = read_signal(rec).samples[100:900][:, [0, 2]]
    assert part.shape == (800, 2) and np.abs(part - original).max() <= 3
    assert run("decode", out, "-o", tmp_path / "c.csv", "--format", "csv").exit_code == 0
    names = read_signal(rec).channel_names
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[0] == f"{names[0]},{names[2]}" and len(lines) == 4001
    for suffix in ("csv", "npy"):  # without --format, -o's suffix names the format
        assert run("decode", out, "-o", tmp_path / f"inferred.{suffix}", "-q").exit_code == 0
    assert (tmp_path / "inferred.csv").read_text().splitlines() == lines
    res = run("decode", out, "-o", tmp_path / "inferred.csv", "-q")  # an inferred format's output is no exception
    assert res.exit_code == 2 and "already exists" in res.stderr
    assert (tmp_path / "inferred.csv").read_text().splitlines() == lines
    assert np.load(tmp_path / "inferred.npy").shape == (4000, 2)


def test_a_san_mode_file_is_named_san_and_a_targeted_one_lossy(tmp_path, mitdb_excerpt):
    """A --mode san file's header says "lossy" (the paper's code had that name before the targeted lossy mode);
    info and report name it as it was encoded."""
    san, lossy = tmp_path / "s.san", tmp_path / "l.san"
    assert run("encode", mitdb_excerpt, "--mode", "san", "-o", san, "-q").exit_code == 0
    assert run("encode", mitdb_excerpt, "--mode", "lossy", "--prdn", "5", "--effort", "fast", "-o", lossy,
               "-q").exit_code == 0
    for path, mode in ((san, "san"), (lossy, "lossy")):
        res = run("info", path, "--json")
        assert res.exit_code == 0 and json.loads(res.stdout)["encoded_mode"] == mode
        assert json.loads(res.stdout)["header"]["mode"] == "lossy"  # the file itself is unchanged
        assert f".san ({mode})" in run("report", mitdb_excerpt, path).stdout
    assert "san (the paper's SAN-only code)" in run("info", san).stdout


def test_decode_json_says_what_it_wrote(tmp_path, mitdb_100):
    san = tmp_path / "l.san"
    assert run("encode", mitdb_100, "--mode", "lossy", "--prdn", "3", "--effort", "fast", "-o", san,
               "-q").exit_code == 0
    achieved = json.loads(run("info", san, "--json").stdout)["header"]["lossy"]["prdn"]
    res = run("decode", san, "-o", tmp_path / "back", "--json")  # the streamed WFDB path
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["outputs"] == [str(tmp_path / f"back.{x}") for x in ("atr", "dat", "hea")]
    assert (out["mode"], out["start"], out["end"], out["channels"]) == ("lossy", 0, 650000, [0, 1])
    assert out["target"] == {"prdn": 3.0} and out["prdn_per_channel"] == achieved
    res = run("decode", san, "-o", tmp_path / "part.npy", "--json", "--start", "100", "--end", "900",
              "--channels", "1")
    out = json.loads(res.stdout)
    assert (out["format"], out["start"], out["end"], out["channels"]) == ("npy", 100, 900, [1])
    assert out["prdn_per_channel"] == achieved[1:] and np.load(tmp_path / "part.npy").shape == (800, 1)


def test_report_on_an_array_takes_its_rate_from_fs_or_the_san(tmp_path):
    x = np.cumsum(np.random.default_rng(6).integers(-9, 10, (4000, 2)), axis=0).astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    assert run("encode", tmp_path / "x.npy", "--fs", "250", "-q").exit_code == 0
    res = run("report", tmp_path / "x.npy", tmp_path / "x.san", "--json")  # the .san says 250 Hz
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["max_abs_error"] == 0
    res = run("report", tmp_path / "x.npy", "--fs", "250", "--mode", "lossy", "--prdn", "3", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["prdn"] <= 3
    res = run("report", tmp_path / "x.npy")  # it names the option the command has
    assert res.exit_code == 2 and "--fs" in res.stderr


@pytest.mark.parametrize("mode", [[], ["--mode", "near-lossless", "--max-error", "3"]], ids=["lossless", "near"])
def test_report_warns_of_a_san_not_made_from_the_recording_given(tmp_path, mode):
    """A lossless .san that decodes to other samples than the recording given, or a near-lossless one past its max
    error, was made from another recording (or this one changed since): report measures them, and says so; the
    recording it was made from, or one within its bound, draws no warning."""
    x = np.cumsum(np.random.default_rng(7).integers(-9, 10, (3000, 2)), axis=0).astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    assert run("encode", tmp_path / "x.npy", "--fs", "250", "-q", *mode).exit_code == 0
    res = run("report", tmp_path / "x.npy", tmp_path / "x.san")
    assert res.exit_code == 0 and "warning" not in res.stderr, res.output
    changed = x.copy()
    decoded = sancodec.decode((tmp_path / "x.san").read_bytes()).samples
    if mode:  # a sample moved onto its decode: another recording, within the near-lossless file's 3 of its decode
        at = np.argwhere(decoded != x)[0]
        changed[tuple(at)] = decoded[tuple(at)]
    else:
        changed[700, 1] += 2
    assert not np.array_equal(changed, x)
    np.save(tmp_path / "y.npy", changed)
    res = run("report", tmp_path / "y.npy", tmp_path / "x.san")
    assert res.exit_code == 0 and ("warning" in res.stderr) == (not mode), res.output
    changed[700, 1] = decoded[700, 1] + 9
    np.save(tmp_path / "y.npy", changed)
    res = run("report", tmp_path / "y.npy", tmp_path / "x.san", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["max_abs_error"] > (0 if not mode else 3)
    said = "is lossless, but decodes to other samples than" if not mode else "keeps every sample within 3, but is"
    assert f"x.san {said}" in res.stderr and "y.npy: it was not made from this recording" in res.stderr


def test_report_json_and_plot(tmp_path, mitdb_100, mitdb_excerpt, monkeypatch):
    """``report --json --plot``: the figures, and a picture of the first 5 s, decoded alone (it decoded the whole
    record again for them: a 24 h Holter's)."""
    import sancodec.codec

    ranges = []
    real = sancodec.codec.decode_file
    monkeypatch.setattr(sancodec.codec, "decode_file", lambda data, *a, **k: ranges.append(a) or real(data, *a, **k))
    res = run("report", mitdb_100, "--json", "--plot", tmp_path / "p.png")
    assert res.exit_code == 0, res.output
    assert ranges == [(0, 1800)]  # (5 s at 360 Hz)
    rep = json.loads(res.stdout)
    assert rep["mode"] == "lossless" and rep["max_abs_error"] == 0
    assert rep["n_samples"] == 650000 and rep["n_channels"] == 2
    assert rep["bits_per_sample"] < rep["baselines"]["raw 16-bit"] * 8 / 1.3e6
    for key in ("gzip -9", "bz2 -9", "FLAC -8", "zstd -19"):
        assert key in rep["baselines"]
    assert rep["original_bytes"] == 1950000
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run("report", mitdb_excerpt, "--mode", "san")
    assert res.exit_code == 0 and "PRDN" in res.stdout and ".san (san)" in res.stdout


def test_report_says_why_a_tool_has_no_size(tmp_path, monkeypatch, mitdb_excerpt):
    """A fresh install has no pcodec (not a dependency), and FLAC holds 8 channels at most: each row said "n/a"
    and no more. Now the row names the package to install, or says what FLAC holds (16- or 24-bit integers: not
    floats); a record of more than 8 channels is measured as FLAC streams of 8 in turn, summed."""
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setitem(sys.modules, "pcodec", None)  # its import fails, as where it is not installed
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pcodec" else found(name, *a))
    res = run("report", mitdb_excerpt, "--mode", "lossy", "--prdn", "3")
    assert res.exit_code == 0, res.output
    row = next(line for line in res.stdout.splitlines() if "pcodec 12" in line)
    assert "n/a" in row and "pip install pcodec" in row
    res = run("report", mitdb_excerpt, "--json")
    rep = json.loads(res.stdout)
    assert rep["baselines"]["pcodec 12"] is None and rep["baselines_not_installed"] == {"pcodec 12": "pcodec"}
    wide = np.cumsum(np.random.default_rng(0).integers(-5, 6, (3000, 9)), axis=0).astype(np.int16)
    np.save(tmp_path / "wide.npy", wide)  # 9 channels: past FLAC's 8
    res = run("report", tmp_path / "wide.npy", "--fs", "250", "--json")
    assert res.exit_code == 0, res.output
    from sancodec.baselines import _flac_size

    assert json.loads(res.stdout)["baselines"]["FLAC -8"] == _flac_size(wide[:, :8], 16) + _flac_size(wide[:, 8:], 16)
    np.save(tmp_path / "floats.npy", np.sin(np.arange(3000) / 7.0) + 1e-9 * np.arange(3000))
    res = run("report", tmp_path / "floats.npy", "--fs", "250", "--mode", "lossy", "--prdn", "2")
    assert res.exit_code == 0, res.output
    row = next(line for line in res.stdout.splitlines() if "FLAC -8" in line)
    assert "n/a" in row and "holds 16- or 24-bit" in row


def test_report_encodes_at_any_lossy_target(mitdb_excerpt):
    """``report`` encoding now takes the lossy targets and effort ``encode`` takes, and refuses what
    ``encode`` refuses, in one line."""
    res = run("report", mitdb_excerpt, "--mode", "lossy", "--snr", "30", "--effort", "fast", "--json")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["snr_db"] >= 30 and len(rep["prdn_per_channel"]) == 2
    assert all(p <= 100 * 10 ** (-30 / 20) for p in rep["prdn_per_channel"])  # the target holds per channel
    text = run("report", mitdb_excerpt, "--mode", "lossy", "--prdn", "5").stdout
    assert "PRDN per channel: " in text
    error = int(re.search(r"max \|error\| (\d+) ADC units \(([\d.]+) mV\)", " ".join(text.split())).group(1))
    physical = float(re.search(r"ADC units \(([\d.]+) mV\)", " ".join(text.split())).group(1))
    assert error > 0 and abs(physical - error / 200) < 1e-3 * physical  # mitdb: 200 units per mV, every channel
    res = run("report", mitdb_excerpt, "--mode", "lossy", "--bps", "1.5", "--json")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert 1.3 < rep["bits_per_sample"] < 1.5 + 8 * 1024 / (2 << 16)  # the budget, plus at most 1 KiB of header
    for bad in (["--mode", "lossless", "--effort", "fast"], ["--mode", "lossy", "--prdn", "2", "--snr", "30"]):
        res = run("report", mitdb_excerpt, *bad)
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_decode_writes_the_channels_asked_for(tmp_path):
    rec = copy_record(tmp_path)
    assert run("encode", rec, "-o", tmp_path / "t.san", "-q").exit_code == 0
    source = read_signal(rec)
    assert run("decode", tmp_path / "t.san", "-o", tmp_path / "two", "--channels", "2,0", "-q").exit_code == 0
    two = read_signal(tmp_path / "two")
    assert np.array_equal(two.samples, source.samples[:, [2, 0]])
    assert two.channel_names == [source.channel_names[2], source.channel_names[0]]
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "one", "--format", "npy", "--channels", "3", "-q")
    assert res.exit_code == 0 and np.array_equal(np.load(tmp_path / "one.npy")[:, 0], source.samples[:, 3])
    before = (tmp_path / "two.dat").read_bytes()
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "two", "--channels", "1")  # no --force: kept
    assert res.exit_code == 2 and "--force" in res.stderr and (tmp_path / "two.dat").read_bytes() == before
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "bad", "--channels", "9")
    assert res.exit_code == 2 and "outside 0..3" in res.stderr and not (tmp_path / "bad.hea").exists()


def test_channels_are_named_by_index_or_by_name(tmp_path):
    """``--channels III,0``: a channel's name where it is the only one so named (in other case where no channel has
    that very name), an index otherwise; a name no channel has, or two channels share, is refused naming the
    channels."""
    rec = copy_record(tmp_path, "100_3chan")  # (leads I, II and III)
    source = read_signal(rec)
    assert run("encode", rec, "-o", tmp_path / "iii.san", "--channels", "III", "-q").exit_code == 0
    assert sancodec.decode((tmp_path / "iii.san").read_bytes()).channel_names == ["III"]
    assert run("encode", rec, "-o", tmp_path / "t.san", "-q").exit_code == 0
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "x.npy", "--channels", " ii ,0", "-q")
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "x.npy"), source.samples[:, [1, 0]])
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "y.npy", "--channels", "V5")
    assert res.exit_code == 2 and "no channel index or name" in res.stderr and "2 'III'" in res.stderr
    assert not (tmp_path / "y.npy").exists()
    twins = sancodec.Signal(source.samples[:, [0, 0]], source.fs, ["ECG", "ECG"], ["mV", "mV"])
    (tmp_path / "twins.san").write_bytes(sancodec.encode(twins))
    res = run("decode", tmp_path / "twins.san", "-o", tmp_path / "z.npy", "--channels", "ECG")
    assert res.exit_code == 2 and "channels 0, 1 are all named so" in res.stderr


def test_a_channel_whose_name_holds_a_comma_is_picked_by_name(tmp_path):
    """``--channels`` splits at commas, so a channel named ``ECG, lead II`` (an EDF or BrainVision label may hold a
    comma) could not be picked by name. Now items that, joined by their commas, are a channel's very name pick it,
    beside other names and indices, on encode and decode; numbers alone stay indices, and a name two channels share
    is refused."""
    x = (np.arange(3000).reshape(-1, 3) % 97).astype(np.int16)
    names = ["ECG, lead II", "ECG", "1,2"]
    (tmp_path / "t.san").write_bytes(sancodec.encode(sancodec.Signal(x, 250.0, names, ["mV"] * 3)))
    for picked, columns in (("ECG, lead II", [0]), (" ECG,ECG, lead II ,2", [1, 0, 2]), ("1,2", [1, 2]),
                            ("ECG, lead II,0", [0, 0])):
        res = run("decode", tmp_path / "t.san", "-o", tmp_path / "x.npy", "--channels", picked, "-q", "--force")
        assert res.exit_code == 0, (picked, res.output)
        assert np.array_equal(np.load(tmp_path / "x.npy"), x[:, columns]), picked
    rec = copy_record(tmp_path, "100_3chan")  # a WFDB signal's description is the rest of its line, commas too
    hea = tmp_path / "100_3chan.hea"
    hea.write_text(hea.read_text().replace(" 0 III\n", " 0 lead III, limb\n"))
    res = run("encode", rec, "-o", tmp_path / "e.san", "-q", "--channels", "lead III, limb,0")
    assert res.exit_code == 0, res.output
    assert sancodec.decode((tmp_path / "e.san").read_bytes()).channel_names == ["lead III, limb", "I"]
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "y.npy", "--channels", "ECG, lead III")
    assert res.exit_code == 2 and "no channel index or name" in res.stderr and not (tmp_path / "y.npy").exists()
    twins = sancodec.Signal(x[:, [0, 0]], 250.0, ["a,b", "a,b"], ["mV", "mV"])
    (tmp_path / "twins.san").write_bytes(sancodec.encode(twins))
    res = run("decode", tmp_path / "twins.san", "-o", tmp_path / "z.npy", "--channels", "a,b")
    assert res.exit_code == 2 and "channels 0, 1 are all named so" in res.stderr, res.output


def test_decode_channels_never_empty_and_a_channel_twice_is_written(tmp_path):
    """``--channels ''`` is refused (it asked for no channel; it gave every one before), on encode and decode; a
    channel asked for twice is written twice, to WFDB too, whose header then names two signals alike (wfdb-python's
    writer refused that: "sig_name strings must be unique")."""
    rec = copy_record(tmp_path)
    assert run("encode", rec, "-o", tmp_path / "t.san", "-q").exit_code == 0
    for args in (("decode", tmp_path / "t.san", "-o", tmp_path / "none.npy"),
                 ("encode", rec, "-o", tmp_path / "n.san")):
        res = run(*args, "--channels", "")
        assert res.exit_code == 2, res.output
        assert "--channels takes comma-separated channel indices or names, got ''" in res.stderr
    assert not (tmp_path / "none.npy").exists() and not (tmp_path / "n.san").exists()
    res = run("decode", tmp_path / "t.san", "-o", tmp_path / "twice", "--channels", "1,1", "-q")
    assert res.exit_code == 0, res.output
    source, twice = read_signal(rec), read_signal(tmp_path / "twice")
    assert np.array_equal(twice.samples, source.samples[:, [1, 1]])
    assert twice.channel_names == [source.channel_names[1]] * 2


def test_a_record_whose_signals_share_a_name_comes_back(tmp_path):
    """WFDB lets two signals share a name (PhysioNet's records have two "ECG"s), and wfdb-python reads such a record,
    but its writer refuses one: every decode of it to WFDB failed ("unexpected error"). Now each path that writes a
    record (streamed, in memory, lossy) gives the names back, the samples byte for byte where lossless."""
    rec = copy_record(tmp_path, "100_3chan")
    hea = tmp_path / "100_3chan.hea"
    hea.write_text(hea.read_text().replace(" 0 III\n", " 0 I\n"))
    names = read_signal(rec).channel_names
    assert names == ["I", "II", "I"]
    source = (tmp_path / "100_3chan.dat").read_bytes()
    for encode in ([], ["--channels", "0,1,2"], ["--mode", "lossy", "--prdn", "5"]):  # streamed, whole, lossy
        san = tmp_path / f"e{len(encode)}.san"
        assert run("encode", rec, "-o", san, *encode, "-q").exit_code == 0
        for decode in ([], ["--channels", "0,1,2"]):
            out = tmp_path / f"back{len(encode)}{len(decode)}"
            res = run("decode", san, "-o", out, *decode, "-q")
            assert res.exit_code == 0 and res.stderr == "", res.output
            back = read_signal(out)
            assert back.channel_names == names
            assert [line.split()[-1] for line in (tmp_path / f"{out.name}.hea").read_text().splitlines()[1:4]] == \
                names
            if not encode or encode[0] != "--mode":
                assert (tmp_path / f"{out.name}.dat").read_bytes() == source


def test_a_record_whose_signal_lines_have_no_description_is_read(tmp_path):
    """A signal line's description (the signal's name) is optional in WFDB; wfdb-python reads it as None, which
    sancodec refused ("unreadable or missing sig_name"). Now such a record reads with names "", and comes back from a
    .san byte for byte (its .dat), its lines without descriptions, as often as a channel is asked for."""
    rec = copy_record(tmp_path, "100_3chan")
    hea = tmp_path / "100_3chan.hea"
    hea.write_text("\n".join(line.rsplit(" ", 1)[0] if line.startswith("100_3chan.dat") else line
                             for line in hea.read_text().splitlines()) + "\n")
    assert read_signal(rec).channel_names == ["", "", ""]
    assert run("encode", rec, "-o", tmp_path / "n.san", "-q").exit_code == 0
    for decode in ([], ["--channels", "0,1,2,0"]):  # streamed, and in memory
        out = tmp_path / f"back{len(decode)}"
        res = run("decode", tmp_path / "n.san", "-o", out, *decode, "-q")
        assert res.exit_code == 0 and res.stderr == "", res.output
        back = read_signal(out)
        assert back.channel_names == [""] * back.n_channels and back.n_channels == 3 + bool(decode)
        lines = [line for line in (tmp_path / f"{out.name}.hea").read_text().splitlines() if ".dat " in line]
        assert len(lines) == back.n_channels and all(len(line.split()) == 8 for line in lines)
    assert (tmp_path / "back0.dat").read_bytes() == (tmp_path / "100_3chan.dat").read_bytes()


def test_a_record_counter_comes_back(tmp_path):
    """A record line's counter frequency and base counter value (``360/100(5)``; mixedsignals' ``62.4725/999.56``)
    were dropped by every decode. Now kept in lossless and lossy files, streamed or whole; a range's base counter is
    its first sample's count."""
    rec = copy_record(tmp_path, "100_3chan")
    hea = tmp_path / "100_3chan.hea"
    hea.write_text(hea.read_text().replace("100_3chan 3 360.0 999", "100_3chan 3 360/100(5) 999"))
    for encode in ([], ["--channels", "0,1,2"], ["--mode", "lossy", "--prdn", "5"]):  # streamed, whole, lossy
        san = tmp_path / f"e{len(encode)}.san"
        assert run("encode", rec, "-o", san, *encode, "-q").exit_code == 0
        for decode, line in (([], "3 360/100(5) 999"), (["--channels", "0,1,2"], "3 360/100(5) 999"),
                             (["--start", "36", "--end", "72"], "3 360/100(15) 36")):
            out = tmp_path / f"back{len(encode)}{len(decode)}"
            res = run("decode", san, "-o", out, *decode, "-q")
            assert res.exit_code == 0 and res.stderr == "", res.output
            assert (tmp_path / f"{out.name}.hea").read_text().splitlines()[0] == f"{out.name} {line}"
        assert "counter 100 Hz, base 5" in " ".join(run("info", san).stdout.replace("│", " ").split())
    assert (tmp_path / "back00.dat").read_bytes() == (tmp_path / "100_3chan.dat").read_bytes()


def test_report_given_a_san_first_says_what_it_needs(tmp_path, mitdb_100):
    assert run("encode", mitdb_100, "-o", tmp_path / "m.san", "-q").exit_code == 0
    res = run("report", tmp_path / "m.san")  # was "unknown file type '.san'"
    assert res.exit_code == 2 and "give the recording first" in res.stderr and "sancodec info" in res.stderr


def test_train_export_sweep(tmp_path):
    pytest.importorskip("torch")  # training (a device without torch runs the rest)
    rec = copy_record(tmp_path)
    model = tmp_path / "m.json"
    res = run("train", rec, "-o", model, "--m", "15", "--kernels", "2", "--epochs", "2", "--channel", "0",
              "--channel", "1", "-q", "--device", "cpu")
    assert res.exit_code == 0, res.output
    assert json.loads(model.read_text())["kernel_sizes"] == [15, 15]
    res = run("train", rec, "-o", tmp_path / "short.json", "--m", "15", "--segment", "10", "-q")
    assert res.exit_code == 2 and "shorter than the largest kernel" in res.stderr  # it trained dead kernels
    for q in ("0", "-1"):  # were "unexpected error (ValueError: max() arg is an empty sequence)" and a puzzle
        for objective in ([], ["--objective", "bytes", "--prdn", "2"]):
            res = run("train", rec, "-o", tmp_path / "none.json", "--m", "15", "--kernels", q, *objective, "-q")
            assert res.exit_code == 2 and f"--kernels must be at least 1, got {q}" in res.stderr, res.output
            assert not (tmp_path / "none.json").exists()
    res = run("export", model, tmp_path / "onnx")
    assert res.exit_code == 0, res.output
    assert {p.name for p in (tmp_path / "onnx").iterdir()} == {"encoder.onnx", "decoder.onnx", "manifest.json"}
    san = tmp_path / "x.san"
    assert run("encode", rec, "-o", san, "--model", model, "--mode", "san", "-q").exit_code == 0
    for mode in (["--mode", "lossless"], ["--mode", "near-lossless", "--max-error", "2"],
                 ["--mode", "lossy", "--prdn", "2"]):  # was read and changed nothing (the files byte for byte alike)
        res = run("encode", rec, "-o", tmp_path / "m.san", "--model", model, *mode)
        assert res.exit_code == 2 and "--model applies to --mode san" in res.stderr, res.output
        assert not (tmp_path / "m.san").exists()
    np.save(tmp_path / "long.npy", np.random.default_rng(0).normal(size=12000).cumsum())
    res = run("sweep", tmp_path / "long.npy", "-a", "peaks", "--m-min", "3", "--m-max", "6", "--epochs", "1",
              "--json", "-q", "--csv", tmp_path / "sweep.csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "sweep.csv").open()))
    assert sorted(int(r["m"]) for r in rows) == [3, 4, 5, 6]
    best = min(rows, key=lambda r: float(r["val_phi"]))  # selection by validation phi, as the paper does
    chosen = json.loads(res.stdout)["peaks"]
    assert chosen["m"] == int(best["m"]) and chosen["val_phi"] == pytest.approx(float(best["val_phi"]))
    res = run("sweep", tmp_path / "long.npy", "--m-min", "999", "--m-max", "1001", "--epochs", "1", "-q")
    assert res.exit_code == 2 and "longer than the protocol's 1000-sample segments" in res.stderr  # was swept


@pytest.mark.parametrize(
    "case, code, message",
    [
        ("missing", 1, "no such"),
        ("directory", 1, "directory"),
        ("truncated", 1, "truncated"),
        ("hea_without_dat", 1, "missing"),
        ("corrupt_san", 1, "checksum"),
        ("unknown_ext", 1, "unknown file type"),
        ("san_as_recording", 1, r"a \.san file, not a recording \(`sancodec decode "),  # was "unknown file type '.san'"
        ("mat_without_rate", 2, r"a MATLAB file without a rate variable \(fs, srate.*give it with --fs"),
        ("negative_error", 2, "max-error"),
        ("unwritable", 1, "permission denied|not writable|read-only"),
        ("exists", 2, "--force"),
        ("output_is_directory", 2, "is a directory"),
    ],
)
def test_bad_inputs_give_one_line_errors(tmp_path, case, code, message):
    rec = copy_record(tmp_path)
    args: list = ["encode", rec, "-o", tmp_path / "o.san"]
    if case == "missing":
        args[1] = tmp_path / "nope.dat"
    elif case == "directory":
        args[1] = tmp_path
    elif case == "truncated":
        dat = tmp_path / "test01_00s.dat"
        dat.write_bytes(dat.read_bytes()[:1000])
    elif case == "hea_without_dat":
        (tmp_path / "test01_00s.dat").unlink()
    elif case == "corrupt_san":
        assert run("encode", rec, "-o", tmp_path / "ok.san", "-q").exit_code == 0
        data = bytearray((tmp_path / "ok.san").read_bytes())
        data[len(data) // 2] ^= 0x10
        (tmp_path / "bad.san").write_bytes(bytes(data))
        args = ["decode", tmp_path / "bad.san", "-o", tmp_path / "out"]
    elif case == "unknown_ext":
        (tmp_path / "x.mef").write_bytes(b"0")
        args[1] = tmp_path / "x.mef"
    elif case == "mat_without_rate":  # (was "unknown file type '.mat'", then "save the array as .npy")
        import scipy.io

        scipy.io.savemat(tmp_path / "x.mat", {"ecg": np.arange(100.0)})
        args[1] = tmp_path / "x.mat"
    elif case == "san_as_recording":  # a coded file given to encode
        assert run("encode", rec, "-o", tmp_path / "ok.san", "-q").exit_code == 0
        args[1] = tmp_path / "ok.san"
    elif case == "negative_error":
        args += ["--mode", "near-lossless", "--max-error", "-1"]
    elif case == "unwritable":
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        args[3] = locked / "o.san"
        if shutil.which("id") and subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
            # root ignores directory permissions: make the target an existing directory instead
            (locked / "o.san" / "test01_00s.san").mkdir(parents=True)
            args += ["--force"]
            code, message = 2, "directory"
    elif case == "exists":
        (tmp_path / "o.san").write_bytes(b"keep me")
    elif case == "output_is_directory":  # with --force too: a folder is never replaced (-o a folder: the file in it)
        (tmp_path / "o.san" / "test01_00s.san").mkdir(parents=True)
        args += ["--force"]
    res = run(*args)
    assert res.exit_code == code, res.output
    err = res.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in res.output
    import re

    assert re.search(message, err, re.IGNORECASE), err
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".") and p.suffix == ".tmp"]
    assert leftovers == []
    if case == "exists":
        assert (tmp_path / "o.san").read_bytes() == b"keep me"


def test_installed_entry_point_round_trip(tmp_path, mitdb_100):
    exe = str(Path(sys.executable).with_name("sancodec"))
    san = tmp_path / "100.san"
    steps = [
        [exe, "encode", str(mitdb_100), "-o", str(san)],
        [exe, "info", str(san)],
        [exe, "decode", str(san), "-o", str(tmp_path / "back")],
        [exe, "report", str(mitdb_100), str(san), "--json"],
    ]
    outputs = []
    for cmd in steps:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (cmd, out.stderr)
        outputs.append(out.stdout)
    assert json.loads(outputs[-1])["max_abs_error"] == 0
    original, back = read_signal(mitdb_100), read_signal(tmp_path / "back")
    np.testing.assert_array_equal(back.samples, original.samples)
    assert back.annotations[0].equals(original.annotations[0])
    bad = subprocess.run([exe, "decode", str(tmp_path / "none.san")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_cli_streams_a_format_212_record_of_an_odd_sample_count_and_writes_it_back_as_wfdb_does(tmp_path):
    """999 x 3 values in format 212: the last one in two bytes. The streaming reader called the file truncated
    (it asked for a whole three-byte pair), and its writer padded a byte wfdb-python does not write."""
    import sancodec
    from sancodec.io.wfdb_stream import stream_header

    for ext in ("hea", "dat"):
        shutil.copy(DATA / f"100_3chan.{ext}", tmp_path / f"100_3chan.{ext}")
    base = tmp_path / "100_3chan"
    assert stream_header(base) is not None and (tmp_path / "100_3chan.dat").stat().st_size == 1498 * 3 + 2
    result = run("encode", base, "-o", tmp_path / "s.san", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.san").read_bytes() == sancodec.encode(read_signal(base))
    assert run("decode", tmp_path / "s.san", "-o", tmp_path / "back", "-q").exit_code == 0
    assert (tmp_path / "back.dat").read_bytes() == (tmp_path / "100_3chan.dat").read_bytes()
    assert np.array_equal(read_signal(tmp_path / "back").samples, read_signal(base).samples)


def test_cli_streams_a_format_212_record_to_the_apis_bytes_and_back(tmp_path, mitdb_100):
    import sancodec
    from sancodec.io.wfdb import find_wfdb_base
    from sancodec.io.wfdb_stream import stream_header

    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    base = tmp_path / "100"
    assert stream_header(find_wfdb_base(base)) is not None  # this record takes the streaming path
    result = run("encode", base, "-o", tmp_path / "s.san", "--threads", "2", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.san").read_bytes() == sancodec.encode(read_signal(base))
    result = run("decode", tmp_path / "s.san", "-o", tmp_path / "back", "--threads", "3", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "back.dat").read_bytes() == (tmp_path / "100.dat").read_bytes()
    back, source = read_signal(tmp_path / "back"), read_signal(base)
    assert np.array_equal(back.samples, source.samples)
    assert back.annotations[0].symbol == source.annotations[0].symbol
    assert np.array_equal(back.annotations[0].sample, source.annotations[0].sample)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["100.hea", "100.dat", "100.atr", "s.san", "back.hea", "back.dat", "back.atr"])
    # an existing output is refused without --force, and nothing is written
    result = run("decode", tmp_path / "s.san", "-o", tmp_path / "back", "-q")
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_cli_reads_a_long_record_a_block_at_a_time_in_lossy_mode(tmp_path, mitdb_100, monkeypatch):
    """`encode --mode lossy` of a format 212 record longer than one lossy block (here made 2^16 samples):
    read block by block, never whole (wfdb-python's reader is not called), and the same bytes as the API
    encoding the record in memory; the summary reports the PRDN achieved."""
    import sancodec
    import sancodec.io
    from sancodec.codec import lossyfile

    for ext in ("hea", "dat"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), tmp_path / f"100.{ext}")
    base = tmp_path / "100"
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 16)
    expected = sancodec.encode(read_signal(base), mode="lossy", prdn=3.0, frame_len=1 << 15, effort="fast")
    monkeypatch.setattr(sancodec.io, "read_signal", lambda *a, **k: pytest.fail("the record was read whole"))
    result = run("encode", base, "--mode", "lossy", "--prdn", "3", "--frame-len", 1 << 15, "--effort", "fast",
                 "-o", tmp_path / "l.san", "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "l.san").read_bytes() == expected
    summary = json.loads(result.output)
    assert summary["target"] == {"prdn": 3.0} and all(p <= 3.0 for p in summary["prdn_per_channel"])
    result = run("encode", base, "--mode", "lossy", "--prdn", "9", "--frame-len", 1 << 15, "-o", tmp_path / "l.san")
    assert result.exit_code != 0 and "Traceback" not in result.output  # an existing output needs --force
    assert (tmp_path / "l.san").read_bytes() == expected


def test_cli_reads_a_long_npy_array_a_block_at_a_time_in_lossy_mode(tmp_path, monkeypatch, mitdb_100):
    """`encode x.npy --fs 360 --mode lossy`: an int16 array longer than one lossy block (here made 2^14 rows) is
    memory-mapped and coded a block at a time, to the bytes of the API coding it in memory; a float array, or
    one within a block, is read whole as before."""
    import sancodec
    import sancodec.io
    from sancodec.codec import lossyfile

    x = read_signal(mitdb_100).samples[:60_000].astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 14)
    expected = sancodec.encode(read_signal(tmp_path / "x.npy", fs=360.0), mode="lossy", snr=30.0,
                               frame_len=1 << 13)
    real_read = sancodec.io.read_signal
    monkeypatch.setattr(sancodec.io, "read_signal", lambda *a, **k: pytest.fail("the array was read whole"))
    result = run("encode", tmp_path / "x.npy", "--fs", "360", "--mode", "lossy", "--snr", "30", "--frame-len",
                 1 << 13, "-o", tmp_path / "x.san", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.san").read_bytes() == expected
    np.save(tmp_path / "f.npy", x.astype(np.float32))
    monkeypatch.setattr(sancodec.io, "read_signal", real_read)
    result = run("encode", tmp_path / "f.npy", "--fs", "360", "--mode", "lossy", "--snr", "30", "-o",
                 tmp_path / "f.san", "-q")
    assert result.exit_code == 0, result.output


def test_a_record_that_cannot_stream_goes_through_wfdb_python_whole(tmp_path):
    from sancodec.io.wfdb_stream import stream_header

    base = copy_record(tmp_path, "03700181_2000f")  # multi-frequency (212x4): wfdb-python reads it whole
    assert stream_header(base) is None
    result = run("encode", base, "-o", tmp_path / "x.san", "-q")
    assert result.exit_code == 0, result.output
    result = run("decode", tmp_path / "x.san", "-o", tmp_path / "y", "-q")
    assert result.exit_code == 0, result.output
    assert np.array_equal(read_signal(tmp_path / "y").samples, read_signal(base).samples)


def test_pipes_npy_in_on_stdin_and_out_on_stdout(tmp_path):
    import io

    x = (800 * np.sin(np.arange(30000) / 25)).astype(np.int32).reshape(-1, 2)
    buf = io.BytesIO()
    np.save(buf, x)
    res = runner.invoke(app, ["encode", "-", "--fs", "250", "-o", str(tmp_path / "p.san"), "-q"], input=buf.getvalue())
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "p.san"), "-o", "-"])
    assert res.exit_code == 0
    back = np.load(io.BytesIO(res.stdout_bytes))  # nothing but the array on standard output
    assert np.array_equal(back, x)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.san"]
    res = runner.invoke(app, ["encode", "-", "--fs", "250", "-o", str(tmp_path / "p.san")], input=buf.getvalue())
    assert res.exit_code != 0 and "--force" in res.output  # an existing output is kept
    res = runner.invoke(app, ["encode", "-", "--fs", "250"], input=buf.getvalue())
    assert res.exit_code == 2 and "needs -o" in res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "p.san"), "-o", "-", "--format", "wfdb"])
    assert res.exit_code == 2 and "standard output" in res.output
    res = runner.invoke(app, ["encode", "-", "--fs", "250", "-o", str(tmp_path / "q.san")], input=b"not npy")
    assert res.exit_code == 1 and "standard input" in res.output and not (tmp_path / "q.san").exists()


def test_an_snr_target_is_answered_in_db_too(mitdb_excerpt, tmp_path):
    """A file coded at an SNR target reports each channel's SNR achieved in dB beside its PRDN (``encode``, ``info``,
    ``decode``), -20 log10(PRDN / 100), each at or above the target; a PRDN target's report stays in percent."""
    import re

    from sancodec.codec.container import SanReader

    out = tmp_path / "snr.san"
    res = run("encode", mitdb_excerpt, "--mode", "lossy", "--snr", "30", "--effort", "fast", "-o", out)
    assert res.exit_code == 0, res.output
    prdn = SanReader(out.read_bytes()).header["lossy"]["prdn"]
    expected = [f"{-20 * np.log10(p / 100):.2f} dB" for p in prdn]
    for printed in (res.stdout, run("info", out).stdout, run("decode", out, "-o", tmp_path / "back.npy").stdout):
        flat = " ".join(printed.split()).replace("│ │", "")  # rich wraps long rows; rejoin them
        assert all(e in flat for e in expected), (expected, printed)
        assert all(float(db) >= 30 for db in re.findall(r"\(([\d.]+) dB\)", flat))
    res = run("encode", mitdb_excerpt, "--mode", "lossy", "--prdn", "3", "--effort", "fast", "-o", tmp_path / "p.san")
    assert res.exit_code == 0 and " dB" not in res.stdout


def test_names_and_units_from_a_file_are_printed_and_drawn_as_text(tmp_path):
    """A channel named "[/x]" or "[red]b" (rich's markup) or "$\\frac{a$" (matplotlib's mathtext), and units such as
    "mV" (rich had taken "[mV]" for a style and dropped it), come out as written: ``info`` had failed with a
    MarkupError, ``report --plot`` and ``--rd-curve`` with a mathtext ValueError."""
    names = ["[/x]", "[red]b", "$\\frac{a$"]
    t = np.arange(600) / 250
    rows = np.column_stack([t, np.round(np.sin(2 * np.pi * np.outer(t, [1.0, 1.3, 0.7])) * 100)])
    src = tmp_path / "odd.csv"
    src.write_text("time," + ",".join(names) + "\n" + "\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n")
    san = tmp_path / "odd.san"
    res = run("encode", src, "-o", san)
    assert res.exit_code == 0 and str(san) in res.output, res.output
    res = run("info", san)
    assert res.exit_code == 0, res.output
    for name in names:
        assert f"{name} [NU]" in res.output
    res = run("report", src, san, "--plot", tmp_path / "p.png")
    assert res.exit_code == 0 and (tmp_path / "p.png").stat().st_size > 0, res.output
    res = run("report", src, "--mode", "lossy", "--prdn", "5", "--rd-curve", tmp_path / "rd.png", "--plot",
              tmp_path / "q.png")
    assert res.exit_code == 0 and (tmp_path / "rd.png").stat().st_size > 0, res.output
    mv = tmp_path / "mv.san"
    assert run("encode", DATA / "test01_00s", "-o", mv).exit_code == 0
    assert re.search(r"\[mV\]", run("info", mv).output)


def test_decoding_some_channels_of_a_lossy_file_names_their_prdn_only(tmp_path):
    """``decode --channels`` of a lossy file reports the PRDN of the channels written, by name, in their order
    (it had listed every channel's)."""
    rec = copy_record(tmp_path)
    san = tmp_path / "l.san"
    assert run("encode", rec, "-o", san, "--mode", "lossy", "--prdn", "3").exit_code == 0
    from sancodec.codec.container import SanReader

    head = SanReader(san.read_bytes()).header
    names, prdn = head["signal"]["channel_names"], head["lossy"]["prdn"]
    res = run("decode", san, "-o", tmp_path / "two.npy", "--channels", "2,0")
    assert res.exit_code == 0, res.output
    line = " ".join(res.output.split())
    assert f"{names[2]}: {prdn[2]:.3f} %, {names[0]}: {prdn[0]:.3f} %" in line
    assert f"{prdn[1]:.3f} %" not in line or prdn[1] in (prdn[0], prdn[2])
    res = run("decode", san, "-o", tmp_path / "all.npy")
    assert ", ".join(f"{p:.3f} %" for p in prdn) in " ".join(res.output.split())


def test_many_channels_figures_are_summarised_not_listed(tmp_path):
    """Past 16 channels, encode, decode, info and report give the PRDN's range over the channels (a 256-channel
    EEG's summary had been 256 entries); --json still lists each channel's."""
    x = np.cumsum(np.random.default_rng(6).integers(-20, 21, (3000, 20)), axis=0).astype(np.int16)
    np.save(tmp_path / "x.npy", x)
    san = tmp_path / "x.san"
    res = run("encode", tmp_path / "x.npy", "--fs", "500", "-o", san, "--mode", "lossy", "--prdn", "3", "--effort",
              "fast")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "over 20 channels (--json lists each)" in text and "bits/sample spent (header apart) " in text
    assert text.count(" %") < 5
    for args in (("decode", san, "-o", tmp_path / "y.npy"), ("info", san), ("report", tmp_path / "x.npy", san)):
        res = run(*args)
        assert res.exit_code == 0 and "over 20 channels (--json lists each)" in " ".join(res.output.split()), args
    summary = json.loads(run("encode", tmp_path / "x.npy", "--fs", "500", "-o", san, "-f", "--mode", "lossy",
                             "--prdn", "3", "--effort", "fast", "--json").output)
    assert len(summary["prdn_per_channel"]) == 20


def test_report_says_why_phi_is_0_where_no_san_is_paid_for(mitdb_excerpt):
    """The paper's φ counts a SAN's kernels and activations: a lossy file without them has CR⁻¹ 0 by definition,
    which the report now says instead of leaving a φ near 0 to read as a win; a SAN file's line is as before."""
    lossy = " ".join(run("report", mitdb_excerpt, "--mode", "lossy", "--prdn", "5", "--effort", "fast").stdout.split())
    assert "(0 activations, W = 0; φ counts a SAN's kernels and activations, and this file holds none" in lossy
    san = " ".join(run("report", mitdb_excerpt, "--mode", "san").stdout.split())
    match = re.search(r"\((\d+) activations, W = (\d+)\)", san)
    assert match and int(match.group(1)) > 0 and int(match.group(2)) > 0 and "holds none" not in san


def test_a_recording_given_where_a_san_goes_is_named_as_one(tmp_path):
    """``info``, ``decode`` and ``report``'s .san argument given a recording say so and how to make a .san of it
    (was "not a .san file (magic b'0   ')" for an EDF); a .san under another name is still read."""
    rec = copy_record(tmp_path)
    assert run("decode", run_san(tmp_path, rec), "-o", tmp_path / "r.edf", "-q").exit_code == 0
    for args in (["info", tmp_path / "r.edf"], ["decode", tmp_path / "r.edf", "-o", tmp_path / "x.npy"],
                 ["decode", tmp_path / "r.edf", "-o", tmp_path / "x.edf"], ["decode", tmp_path / "r.edf", "-o",
                                                                         tmp_path / "x.wav"],
                 ["report", rec, tmp_path / "r.edf"], ["info", f"{rec}.dat"]):
        res = run(*args)
        assert res.exit_code == 1 and "a recording, not a .san file (`sancodec encode" in res.stderr, res.output
        assert res.stderr.count("\n") == 1
    renamed = tmp_path / "t.bin"
    renamed.write_bytes((tmp_path / "t.san").read_bytes())
    assert run("info", renamed).exit_code == 0


def run_san(tmp_path, rec) -> Path:
    """``rec`` encoded to ``tmp_path``/t.san."""
    assert run("encode", rec, "-o", tmp_path / "t.san", "-q").exit_code == 0
    return tmp_path / "t.san"


def test_fs_is_refused_where_the_file_carries_another_rate(tmp_path):
    """``--fs`` (``fs=``) is for .npy arrays and CSV tables without a time column; on a WFDB record or an EDF file
    it was ignored without a word (``--fs 100`` on a 360 Hz record coded it at 360 Hz). The file's own rate, given
    again, is taken."""
    rec = copy_record(tmp_path, "100_3chan")
    res = run("encode", rec, "--fs", "100", "-o", tmp_path / "x.san")
    assert res.exit_code == 2 and "carries its own rate, 360 Hz" in res.stderr and not (tmp_path / "x.san").exists()
    res = run("encode", rec, "--fs", "100", "--mode", "lossy", "--prdn", "2", "-o", tmp_path / "x.san")
    assert res.exit_code == 2 and "carries its own rate, 360 Hz" in res.stderr
    assert run("encode", rec, "--fs", "360", "-o", tmp_path / "x.san", "-q").exit_code == 0
    assert run("decode", tmp_path / "x.san", "-o", tmp_path / "x.edf", "-q").exit_code == 0
    with pytest.raises(SanConfigError, match="an EDF file carries its own rate, 360 Hz"):
        read_signal(tmp_path / "x.edf", fs=250)
    assert read_signal(tmp_path / "x.edf", fs=360).fs == 360
    assert run("decode", tmp_path / "x.san", "-o", tmp_path / "x.bdf", "-q").exit_code == 0
    with pytest.raises(SanConfigError, match="x.bdf: a BDF file carries its own rate, 360 Hz"):  # ("an BDF file")
        read_signal(tmp_path / "x.bdf", fs=250)
    res = run("encode", tmp_path / "x.bdf", "--fs", "100", "-o", tmp_path / "y.san")  # (read a block at a time)
    assert res.exit_code == 2 and "a BDF file carries its own rate, 360 Hz" in res.stderr


def test_decode_refuses_an_output_name_and_format_that_disagree_and_an_empty_range(tmp_path):
    """``-o x.npy --format csv`` wrote x.csv, not the file named; ``--start 10 --end 10`` was called outside the
    record. An output named without a format's suffix still takes the format's."""
    rec = copy_record(tmp_path)
    san = run_san(tmp_path, rec)
    res = run("decode", san, "-o", tmp_path / "x.npy", "--format", "csv")
    assert res.exit_code == 2 and "names NPY output but --format asks CSV" in res.stderr
    assert not (tmp_path / "x.npy").exists() and not (tmp_path / "x.csv").exists()
    assert run("decode", san, "-o", tmp_path / "x.csv", "--format", "csv", "-q").exit_code == 0
    assert run("decode", san, "-o", tmp_path / "y", "--format", "npy", "-q").exit_code == 0
    assert (tmp_path / "y.npy").exists()
    for start, end in (("10", "10"), ("10", "5")):  # (a reversed range was said to be outside the record)
        res = run("decode", san, "-o", tmp_path / "z.npy", "--start", start, "--end", end)
        assert res.exit_code == 2 and f"sample range [{start}, {end}) is empty: end must come after start" in res.stderr
    res = run("decode", san, "-o", tmp_path / "z.npy", "--start", "10", "--end", "4001")
    assert res.exit_code == 2 and "sample range [10, 4001) is outside the record's [0, 4000)" in res.stderr


def test_a_record_whose_samples_miss_its_header_checksums_is_archived_as_read_and_said_so(tmp_path):
    """A WFDB header keeps a 16-bit checksum of each channel's samples; a signal file changed after it (a damaged
    copy) was archived without a word, and decoding wrote a header whose checksums match the damaged samples, so the
    damage no longer showed. Every path that reads the samples now warns, one line a channel; a whole record reads
    as before."""
    rec = copy_record(tmp_path, "100_3chan")
    raw = bytearray((tmp_path / "100_3chan.dat").read_bytes())
    raw[100] ^= 0x55
    (tmp_path / "100_3chan.dat").write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        damaged = read_signal(rec)
    said = [str(w.message) for w in caught if w.category is sancodec.SancodecWarning]
    assert len(said) == 2 and "channel 0 (I): its samples give checksum 43940, the header says 43172" in said[0]
    for extra in ([], ["--channels", "0,1"], ["--mode", "lossy", "--prdn", "2"]):  # streamed, in memory, lossy
        res = run("encode", rec, *extra, "-o", tmp_path / "x.san", "-f", "-q")
        assert res.exit_code == 0, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 2 and all(line.startswith("warning: ") and "100_3chan.hea" in line for line in lines)
    assert run("encode", rec, "-o", tmp_path / "y.san", "-q").exit_code == 0
    assert (sancodec.decode((tmp_path / "y.san").read_bytes()).samples == damaged.samples).all()  # as read
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_signal(DATA / "100_3chan")


def test_a_damaged_record_comes_back_with_its_headers_checksums(tmp_path):
    """Decoding a damaged record's .san wrote a header whose checksums matched the damaged samples, so the damage no
    longer showed. Its samples now come back with the checksums the original header declared, on the streamed WFDB
    path, the in-memory one and through the library, so the restored record warns as the original did; a channel
    kept alone keeps its own; samples that are not those read (a range, a lossy decode) get their own checksums."""
    import wfdb

    rec = copy_record(tmp_path, "100_3chan")
    raw = bytearray((tmp_path / "100_3chan.dat").read_bytes())
    raw[100] ^= 0x55
    (tmp_path / "100_3chan.dat").write_bytes(bytes(raw))
    declared = wfdb.rdheader(str(rec)).checksum
    assert declared == [43172, 63954, 43172]

    def checksums(base: Path) -> list[int]:
        return wfdb.rdheader(str(base)).checksum

    for encode in ([], ["--channels", "0,1,2"]):  # the record read a frame at a time, and whole
        san = tmp_path / f"d{len(encode)}.san"
        assert run("encode", rec, "-o", san, *encode, "-q").exit_code == 0
        info = " ".join(run("info", san).stdout.replace("│", " ").split())  # (the table's rows wrap)
        assert "single record; 2 channel(s) whose samples miss the header's checksum, kept" in info, info
        for decode in ([], ["--channels", "0,1,2"]):  # streamed and in memory
            out = tmp_path / f"back{len(encode)}{len(decode)}"
            res = run("decode", san, "-o", out, *decode, "-q")
            assert res.exit_code == 0 and res.stderr == "", res.output
            assert checksums(out) == declared and (tmp_path / f"{out.name}.dat").read_bytes() == bytes(raw)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                read_signal(out)  # the damage shows, as it did on the original
            assert sum("the header says 43172" in str(w.message) for w in caught) == 1
        assert run("decode", san, "-o", tmp_path / "two", "--channels", "2,1", "-f", "-q").exit_code == 0
        assert checksums(tmp_path / "two") == [43172, 63954]  # channel III's own (undamaged), then II's declared
    own = [int(v) % 65536 for v in read_signal(rec).samples.sum(axis=0)]
    assert own[:2] != declared[:2]
    assert run("decode", tmp_path / "d0.san", "-o", tmp_path / "part", "--end", "998", "-q").exit_code == 0
    part = read_signal(rec).samples[:998].sum(axis=0)
    assert checksums(tmp_path / "part") == [int(v) % 65536 for v in part]
    assert run("encode", rec, "-o", tmp_path / "l.san", "--mode", "lossy", "--prdn", "2", "-q").exit_code == 0
    assert run("decode", tmp_path / "l.san", "-o", tmp_path / "lossy", "-q").exit_code == 0
    lossy = read_signal(tmp_path / "lossy")
    assert checksums(tmp_path / "lossy") == [int(v) % 65536 for v in lossy.samples.sum(axis=0)]
    write_signal(read_signal(rec), tmp_path / "lib")  # the library's own round trip keeps them too
    assert checksums(tmp_path / "lib") == declared


def test_pictures_are_written_in_the_format_their_name_says(tmp_path, mitdb_excerpt):
    """Every --plot and --rd-curve was PNG data whatever its name (a .jpg, or a .txt, of PNG bytes); now the
    suffix's format, and a suffix matplotlib writes no picture in is refused before any work."""
    res = run("report", mitdb_excerpt, "--plot", tmp_path / "p.svg", "--rd-curve", tmp_path / "rd.pdf")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert (tmp_path / "rd.pdf").read_bytes()[:5] == b"%PDF-"
    assert run("report", mitdb_excerpt, "--plot", tmp_path / "bare").exit_code == 0  # no suffix: PNG
    assert (tmp_path / "bare").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run("report", mitdb_excerpt, "--plot", tmp_path / "p.txt")
    assert res.exit_code == 2 and "matplotlib writes no .txt picture" in res.stderr
    assert not (tmp_path / "p.txt").exists()


def test_decode_says_when_the_model_given_is_not_the_files(tmp_path):
    """``decode --model`` on a file that decodes without that model (it uses none, or embeds another) decodes as
    written and says the model went unused, on the streamed WFDB path and the in-memory one, and so does the library;
    the file's own model given, or none, says nothing."""
    from sancodec.codec import decode_file
    from sancodec.san.bundled import default_model
    from sancodec.san.spec import SanSpec, load_model, save_model

    rec = copy_record(tmp_path)
    own, other = tmp_path / "own.json", tmp_path / "other.json"
    save_model(default_model(), own)
    save_model(SanSpec((np.ones(5, dtype=np.float32), np.arange(7, dtype=np.float32)), ("peaks", "peaks")), other)
    plain, san = tmp_path / "plain.san", tmp_path / "san.san"
    assert run("encode", rec, "-o", plain, "-q").exit_code == 0
    assert run("encode", rec, "-o", san, "--mode", "san", "-q").exit_code == 0  # the bundled model, embedded
    for file, model, said in ((plain, other, "decodes without one"), (san, other, "decodes with its own"),
                              (san, own, None), (plain, None, None)):
        for fmt in ("wfdb", "npy"):  # WFDB streams; npy decodes in memory
            out = tmp_path / f"back_{fmt}"
            res = run("decode", file, "-o", out, "--format", fmt, "--force", *(["--model", model] if model else []))
            assert res.exit_code == 0, res.output
            lines = [line for line in res.stderr.splitlines() if "model given" in line]
            if said is None:
                assert lines == [], res.stderr
            else:
                assert len(lines) == 1 and lines[0].startswith("warning: ") and said in lines[0], res.stderr
            back = read_signal(out.with_suffix(".npy"), fs=500) if fmt == "npy" else read_signal(out)
            assert back.n_samples == 4000
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert decode_file(san.read_bytes(), model=load_model(other)).signal.n_samples == 4000
    assert any("decodes with its own" in str(w.message) for w in caught if w.category is sancodec.SancodecWarning)


def test_san_files_go_through_pipes_both_ways(tmp_path, monkeypatch):
    """``encode -o -`` wrote a file named "-" and its summary to standard output, and ``decode -`` read a file named
    "-" (or found none): a pipeline got neither. Now ``-o -`` writes the .san to standard output, nothing else, and
    ``decode -`` and ``info -`` read it from standard input; what cannot work says so in one line."""
    monkeypatch.chdir(tmp_path)  # where a file named "-" would land
    rec = copy_record(tmp_path)
    assert run("encode", rec, "-o", tmp_path / "file.san", "-q").exit_code == 0
    made = runner.invoke(app, ["encode", str(rec), "-o", "-"])
    assert made.exit_code == 0, made.output
    assert made.stdout_bytes == (tmp_path / "file.san").read_bytes() and not (tmp_path / "-").exists()
    lossy = runner.invoke(app, ["encode", str(rec), "-o", "-", "--mode", "lossy", "--prdn", "3"])
    assert lossy.exit_code == 0 and lossy.stdout_bytes.startswith(b"\x89SAN")
    back = runner.invoke(app, ["decode", "-", "-o", "-"], input=made.stdout_bytes)
    assert back.exit_code == 0, back.output
    assert np.array_equal(np.load(io.BytesIO(back.stdout_bytes)), read_signal(rec).samples)
    res = runner.invoke(app, ["decode", "-", "-o", str(tmp_path / "rec_back")], input=lossy.stdout_bytes)
    assert res.exit_code == 0 and read_signal(tmp_path / "rec_back").n_samples == 4000, res.output
    res = runner.invoke(app, ["info", "-"], input=made.stdout_bytes)
    assert res.exit_code == 0 and "standard input (" in res.stdout and "lossless" in res.stdout
    (tmp_path / "there.npy").write_bytes(b"mine")  # an existing output, from standard input too: --force or nothing
    res = runner.invoke(app, ["decode", "-", "-o", str(tmp_path / "there.npy")], input=made.stdout_bytes)
    assert res.exit_code == 2 and "already exists" in res.stderr and (tmp_path / "there.npy").read_bytes() == b"mine"
    for args, stdin, code, said in ((["decode", "-"], made.stdout_bytes, 2, "needs -o FILE"),
                                    (["decode", "-", "-o", "x.npy"], b"", 1, "standard input held no .san"),
                                    (["decode", "-", "-o", "x.npy"], made.stdout_bytes[:100], 1, "standard input: "),
                                    (["encode", str(rec), "-o", "-", "--json"], None, 2, "--json is for a file")):
        res = runner.invoke(app, args, input=stdin)
        assert res.exit_code == code and said in res.stderr, (args, res.output)
    assert not (tmp_path / "-").exists() and not (tmp_path / "x.npy").exists()


def test_a_file_sent_to_standard_output_is_described_on_standard_error(tmp_path, mitdb_100):
    """``encode -o -`` and ``decode -o -`` said nothing of what they made: a lossy encode's PRDN achieved, a decode's
    annotations left out of its .npy went unsaid. Now standard output holds the file alone and the summary goes to
    standard error (none with -q); ``decode -o - --json`` is refused as ``encode``'s is (its JSON had nowhere to go)."""
    lossy = runner.invoke(app, ["encode", str(mitdb_100), "-o", "-", "--mode", "lossy", "--prdn", "3"])
    assert lossy.exit_code == 0 and lossy.stdout_bytes.startswith(b"\x89SAN"), lossy.output
    assert "standard output: " in lossy.stderr and "target PRDN 3 %" in lossy.stderr, lossy.stderr
    quiet = runner.invoke(app, ["encode", str(mitdb_100), "-o", "-", "--mode", "lossy", "--prdn", "3", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout_bytes == lossy.stdout_bytes
    back = runner.invoke(app, ["decode", "-", "-o", "-", "--end", "720"], input=lossy.stdout_bytes)
    assert back.exit_code == 0, back.output
    assert np.load(io.BytesIO(back.stdout_bytes)).shape == (720, 2)  # nothing but the array on standard output
    said = " ".join(back.stderr.split())
    assert "decoded samples [0, 720) x 2 from 1 frame(s) -> standard output" in said, said
    assert "WFDB annotation(s) (atr) not written: .npy holds samples only" in said
    assert "lossy file, target PRDN 3 %" in said
    quiet = runner.invoke(app, ["decode", "-", "-o", "-", "--end", "720", "-q"], input=lossy.stdout_bytes)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout_bytes == back.stdout_bytes
    for option in ("--json", "--fsync"):
        res = runner.invoke(app, ["decode", "-", "-o", "-", option], input=lossy.stdout_bytes)
        assert res.exit_code == 2 and f"{option} is for a file" in res.stderr and not res.stdout_bytes, res.output


def test_an_output_folder_takes_the_file_named_after_the_input(tmp_path):
    """``-o FOLDER`` (an existing one) puts the output inside it, named as the default output is named, as ``cp``
    copies into a folder. ``decode -o out`` wrote out.hea and out.dat beside the folder, and ``encode`` refused."""
    rec = copy_record(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    res = run("encode", rec, "-o", out, "-q")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["test01_00s.san"]
    for args, names in (([], ["test01_00s.dat", "test01_00s.hea"]), (["--format", "npy"], ["test01_00s.npy"])):
        back = tmp_path / f"back{len(args)}"
        back.mkdir()
        res = run("decode", out / "test01_00s.san", "-o", back, *args, "-q")
        assert res.exit_code == 0, res.output
        assert sorted(p.name for p in back.iterdir()) == names
        fs = {"fs": 500} if args else {}  # (a .npy does not say its rate)
        assert np.array_equal(read_signal(back / names[-1], **fs).samples, read_signal(rec).samples)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_dir()) == ["test01_00s.dat", "test01_00s.hea"]
    res = run("encode", rec, "-o", out, "-q")  # the file in the folder exists: --force, as for any output
    assert res.exit_code == 2 and "out/test01_00s.san: already exists" in res.stderr
    before = (tmp_path / "back2" / "test01_00s.npy").read_bytes()
    res = run("decode", out / "test01_00s.san", "-o", tmp_path / "back2", "--format", "npy", "-q")  # and decode's
    assert res.exit_code == 2 and "back2/test01_00s.npy: already exists" in res.stderr
    assert (tmp_path / "back2" / "test01_00s.npy").read_bytes() == before
    res = runner.invoke(app, ["decode", "-", "-o", str(out)], input=(out / "test01_00s.san").read_bytes())
    assert res.exit_code == 2 and "standard input has no name to give the output" in res.stderr


def test_several_inputs_each_make_their_own_output_and_a_failure_spares_the_rest(tmp_path):
    """``encode a b c`` and ``decode *.san`` were refused (one input only); now each input makes its own output,
    beside it or in ``-o FOLDER``, a record named by several of its files (``rec.hea rec.dat rec.atr``, a shell's
    ``*``) once, and one that fails says so in one line while the others are still made, as gzip does."""
    for name in ("test01_00s", "100_3chan"):
        copy_record(tmp_path, name)
    (tmp_path / "100_3chan.atr").write_bytes(b"")  # a record's other file, as * names it
    out = tmp_path / "out"
    out.mkdir()
    res = run("encode", tmp_path / "test01_00s.hea", tmp_path / "test01_00s.dat", tmp_path / "100_3chan.atr",
              tmp_path / "missing", tmp_path / "100_3chan", "-o", out, "-q")
    assert res.exit_code == 1, res.output
    assert res.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing'}: no such WFDB record (missing "
                                               "missing.hea)"]
    assert sorted(p.name for p in out.iterdir()) == ["100_3chan.san", "test01_00s.san"]
    res = run("decode", out / "test01_00s.san", out / "100_3chan.san", "-o", out, "--format", "npy", "--json")
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["outputs"] for line in res.stdout.splitlines()] == [[str(out / "test01_00s.npy")],
                                                                                [str(out / "100_3chan.npy")]]
    assert np.array_equal(np.load(out / "100_3chan.npy"), read_signal(tmp_path / "100_3chan").samples)
    res = run("encode", tmp_path / "test01_00s", tmp_path / "100_3chan", "--mode", "lossy", "--prdn", "3", "-q")
    assert res.exit_code == 0 and (tmp_path / "test01_00s.san").exists() and (tmp_path / "100_3chan.san").exists()
    (tmp_path / "twin").mkdir()
    copy_record(tmp_path / "twin")
    before = (out / "test01_00s.san").read_bytes()
    for args, said in ((["encode", tmp_path / "test01_00s", tmp_path / "100_3chan", "-o", tmp_path / "one.san"],
                        "2 inputs each make their own .san: -o names an existing folder"),
                       (["decode", out / "test01_00s.san", out / "100_3chan.san", "-o", "-"],
                        "2 inputs each make their own output"),
                       (["decode", "-", out / "100_3chan.san", "-o", out], "standard input (-) is one input alone"),
                       (["encode", tmp_path / "test01_00s", tmp_path / "twin" / "test01_00s", "-o", out, "--force"],
                        f"{tmp_path / 'test01_00s'} and {tmp_path / 'twin' / 'test01_00s'} would both make "
                        f"{out / 'test01_00s.san'}"),
                       (["decode", out / "100_3chan.san", tmp_path / "100_3chan.san", "-o", out, "--force"],
                        "would both make")):
        res = run(*args)
        assert res.exit_code == 2 and said in res.stderr, res.output
    assert not (tmp_path / "one.san").exists()
    assert (out / "test01_00s.san").read_bytes() == before  # neither --force replaced it


def test_an_output_named_as_an_input_is_refused_with_the_o_that_was_meant(tmp_path):
    """``sancodec encode rec out.san`` (cp's order) coded rec into rec.san beside it, then said out.san was missing;
    ``decode a.san out.csv`` decoded to a_decoded.* and said the same of out.csv. Both are refused before anything is
    read or written, the error naming the -o command meant; a real input that is missing is still said as before."""
    rec = copy_record(tmp_path, "100_3chan")
    res = run("encode", rec, tmp_path / "out.san", "--mode", "lossy", "--prdn", "3")
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == (f"error: {tmp_path / 'out.san'}: no such input (sancodec encode names its output "
                                  f"with -o: sancodec encode {rec} -o {tmp_path / 'out.san'})")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["100_3chan.dat", "100_3chan.hea"]  # no 100_3chan.san
    assert run("encode", rec, "-o", tmp_path / "out.san", "-q").exit_code == 0
    for wanted in ("out.csv", "rec_out"):  # a recording's name, or a WFDB record's base name
        res = run("decode", tmp_path / "out.san", tmp_path / wanted)
        assert res.exit_code == 2 and f"sancodec decode {tmp_path / 'out.san'} -o {tmp_path / wanted})" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["100_3chan.dat", "100_3chan.hea", "out.san"]
    res = run("decode", tmp_path / "out.san", tmp_path / "gone.san", "-q")  # a missing .san: an input, as ever
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {tmp_path / 'gone.san'}: no such file"
    assert (tmp_path / "out_decoded.hea").exists()
    res = run("encode", rec, tmp_path / "gone", "-q")  # a missing record: an input too (its .san made, it said)
    assert res.exit_code == 1 and "no such WFDB record" in res.stderr and (tmp_path / "100_3chan.san").exists()


@pytest.mark.parametrize("args", [("encode", "gone.edf"), ("encode", "gone.bdf", "--mode", "lossy", "--prdn", "2"),
                                  ("report", "gone.edf"), ("decode", "gone.san", "-o", "out.edf"),
                                  ("decode", "gone.san"), ("info", "gone.san")])
def test_a_missing_input_is_said_missing_whatever_reads_it(tmp_path, args):
    """A missing EDF or BDF said "unreadable EDF file (FileNotFoundError: [Errno 2] ...)", a missing .san decoded to
    a file named with -o "cannot be read (No such file or directory)": every reader now says "no such file"."""
    command, name, *rest = args
    res = run(command, tmp_path / name, *(tmp_path / a if a.startswith("out") else a for a in rest))
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {tmp_path / name}: no such file", res.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extra", [[], ["--prdn", "2"], ["--effort", "fast"], ["--max-error", "1"]])
def test_an_unknown_mode_is_said_before_the_options_judged_by_it(tmp_path, extra):
    """``--mode losy --prdn 2`` was told that --prdn is a target "of lossy mode, not losy" (and ``encode(x,
    mode="losy", prdn=2)`` likewise): the typo is named first, in the library and the CLI, streamed or not."""
    rec = copy_record(tmp_path, "100_3chan")
    said = "unknown mode 'losy'; choose one of lossy, san, near-lossless, lossless"
    res = run("encode", rec, "--mode", "losy", *extra, "-o", tmp_path / "x.san")
    assert res.exit_code == 2 and res.stderr.strip() == f"error: {said}", res.output
    assert not (tmp_path / "x.san").exists()
    options = {"prdn": 2.0} if "--prdn" in extra else {"effort": "fast"} if "--effort" in extra else \
        {"max_error": 1} if "--max-error" in extra else {}
    with pytest.raises(SanConfigError, match=re.escape(said)):
        sancodec.encode(read_signal(rec), mode="losy", **options)


def test_export_names_its_folder_with_o_as_the_other_commands_do(tmp_path):
    """``sancodec export m.json -o onnx`` (as train, encode and decode name their outputs) was "No such option: -o":
    -o now names the folder as OUT_DIR does; neither, or two different ones, is refused before anything is written."""
    pytest.importorskip("onnx")
    from sancodec.san.bundled import default_model

    model = tmp_path / "m.json"
    sancodec.save_model(default_model(), model)
    assert run("export", model, "-o", tmp_path / "a", "-q").exit_code == 0
    assert run("export", model, tmp_path / "b", "-q").exit_code == 0
    assert run("export", model, tmp_path / "c", "-o", tmp_path / "c", "-q").exit_code == 0  # the same one twice
    files = {"encoder.onnx", "decoder.onnx", "manifest.json"}
    assert all({p.name for p in (tmp_path / d).iterdir()} == files for d in "abc")
    assert (tmp_path / "a" / "encoder.onnx").read_bytes() == (tmp_path / "b" / "encoder.onnx").read_bytes()
    res = run("export", model)
    assert res.exit_code == 2 and res.stderr.strip() == (f"error: name the folder for the ONNX files: sancodec export "
                                                         f"{model} OUT_DIR (or -o OUT_DIR)")
    res = run("export", model, tmp_path / "d", "-o", tmp_path / "e")
    assert res.exit_code == 2 and "the folder is given twice" in res.stderr
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()


def test_a_dotted_file_name_keeps_its_dots_when_decoded(tmp_path):
    """``decode my.rec.san`` wrote my.npy (the stem's ".rec_decoded" taken for a suffix and replaced): another
    file's name, which --force would have written over. It writes my.rec_decoded.npy, and ``-o out.v2`` out.v2.npy."""
    np.save(tmp_path / "my.rec.npy", np.arange(3000, dtype=np.int16) % 97)
    assert run("encode", tmp_path / "my.rec.npy", "--fs", "250", "-q").exit_code == 0
    assert run("decode", tmp_path / "my.rec.san", "-q").exit_code == 0
    assert run("decode", tmp_path / "my.rec.san", "-o", tmp_path / "out.v2", "-q").exit_code == 0
    assert run("decode", tmp_path / "my.rec.san", "-o", tmp_path / "as.csv", "-q").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["as.csv", "my.rec.npy", "my.rec.san", "my.rec_decoded.npy",
                                                          "out.v2.npy"]
    with open(tmp_path / "UP.NPY", "wb") as f:  # a suffix in capitals is the recording's suffix too (was UP.NPY.san)
        np.save(f, np.arange(100, dtype=np.int16))
    assert run("encode", tmp_path / "UP.NPY", "--fs", "250", "-q").exit_code == 0 and (tmp_path / "UP.san").exists()


def test_a_dotted_wfdb_file_decodes_to_a_record_name_wfdb_takes(tmp_path):
    """``decode patient.01.san`` of a WFDB source was refused: the record name it picked, patient.01_decoded, holds a
    dot, which WFDB's names do not. A name decode picks itself is made one (patient_01_decoded, in a folder
    patient_01); one given with -o is checked, not changed. Two inputs whose records would share a name are refused
    before either is written, and a missing input is said to be missing, not its output's name wrong."""
    rec = copy_record(tmp_path)
    assert run("encode", rec, "-o", tmp_path / "patient.01.san", "-q").exit_code == 0
    res = run("decode", tmp_path / "patient.01.san", "-q")
    assert res.exit_code == 0, res.output
    back = read_signal(tmp_path / "patient_01_decoded")
    assert np.array_equal(back.samples, read_signal(rec).samples)
    before = (tmp_path / "patient_01_decoded.dat").read_bytes()
    res = run("decode", tmp_path / "patient.01.san")  # the name it picks, there already: refused without --force
    assert res.exit_code == 2 and "already exists" in res.stderr, res.output
    assert (tmp_path / "patient_01_decoded.dat").read_bytes() == before
    (tmp_path / "out").mkdir()
    assert run("decode", tmp_path / "patient.01.san", "-o", tmp_path / "out", "-q").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["patient_01.dat", "patient_01.hea"]
    res = run("decode", tmp_path / "patient.01.san", "-o", tmp_path / "my.rec")
    assert res.exit_code == 2 and "a WFDB record name holds" in res.stderr
    shutil.copy(tmp_path / "patient.01.san", tmp_path / "patient_01.san")
    res = run("decode", tmp_path / "patient.01.san", tmp_path / "patient_01.san", "-o", tmp_path / "out", "-f")
    assert res.exit_code == 2 and "would both make" in res.stderr, res.output
    res = run("decode", tmp_path / "no.such.san")
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {tmp_path / 'no.such.san'}: no such file"


def test_the_encode_summary_says_larger_where_the_file_is_larger(tmp_path):
    """A few samples take fewer bytes than the file's header: the summary said "0.021x smaller than 16-bit samples";
    it says "47.0x larger" (the JSON keeps the ratio). A float16 array is weighed against its own 16 bits, not 64."""
    np.save(tmp_path / "one.npy", np.array([5], dtype=np.int16))
    res = run("encode", tmp_path / "one.npy", "--fs", "100")
    size = (tmp_path / "one.san").stat().st_size
    assert res.exit_code == 0 and f"{round(size / 2, 3)}x larger than 16-bit samples" in " ".join(res.stdout.split())
    res = run("encode", tmp_path / "one.npy", "--fs", "100", "-f", "--json")
    assert json.loads(res.stdout)["cr_vs_16bit"] == round(2 / size, 3)
    np.save(tmp_path / "half.npy", np.ones(1000, dtype=np.float16))
    res = run("encode", tmp_path / "half.npy", "--fs", "100")
    size = (tmp_path / "half.san").stat().st_size
    assert res.exit_code == 0 and f"{round(2000 / size, 3)}x smaller than its 16-bit floats" in \
        " ".join(res.stdout.split()), res.output
    noise = np.random.default_rng(1).normal(0, 3, 5000).astype(np.float16)  # (as float32 bits: format 1.18)
    np.save(tmp_path / "noise.npy", noise)
    res = run("encode", tmp_path / "noise.npy", "--fs", "100")
    size = (tmp_path / "noise.san").stat().st_size
    assert size > 10_000 and res.exit_code == 0 and \
        f"{round(size / 10_000, 3)}x larger than its 16-bit floats" in " ".join(res.stdout.split()), res.output


def test_the_encode_summary_weighs_wide_integers_against_their_own_width(tmp_path):
    """24-, 32- and 64-bit integers (a 24-bit WAV, an int32 or int64 array) are weighed against their own width, as
    floats are (they were against 16-bit samples, a 24-bit file's ratio two thirds of what it saves); 16 bits or fewer
    against 16 as before; --json adds sample_bits and cr_vs_samples beside cr_vs_16bit."""
    import soundfile

    soundfile.write(tmp_path / "w.wav", np.sin(np.arange(4000) / 9) * 0.5, 8000, subtype="PCM_24")
    x = (np.sin(np.arange(4000) / 7) * 1000).round()
    np.save(tmp_path / "i32.npy", x.astype(np.int32))
    np.save(tmp_path / "i64.npy", x.astype(np.int64))
    np.save(tmp_path / "i16.npy", x.astype(np.int16))
    for name, bits in (("w.wav", 24), ("i32.npy", 32), ("i64.npy", 64), ("i16.npy", None)):
        rate = ["--fs", "250"] if name.endswith(".npy") else []
        res = run("encode", tmp_path / name, *rate, "--json")
        summary = json.loads(res.stdout)
        assert res.exit_code == 0 and summary.get("sample_bits") == bits, res.output
        size = summary["bytes"]
        assert summary["cr_vs_16bit"] == round(4000 * 2 / size, 3)
        res = run("encode", tmp_path / name, *rate, "-f")
        words = f"{round(4000 * bits / 8 / size, 3)}x smaller than its {bits}-bit samples" if bits else \
            f"{round(4000 * 2 / size, 3)}x smaller than 16-bit samples"
        assert words in " ".join(res.stdout.split()), res.output


def test_info_of_several_files_shows_each_in_turn(tmp_path):
    rec = copy_record(tmp_path)
    for name, mode in (("a.san", []), ("b.san", ["--mode", "lossy", "--prdn", "4"])):
        assert run("encode", rec, "-o", tmp_path / name, "-q", *mode).exit_code == 0
    res = run("info", tmp_path / "a.san", tmp_path / "missing.san", tmp_path / "b.san", "--json")
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {tmp_path / 'missing.san'}: no such file"
    assert [json.loads(line)["encoded_mode"] for line in res.stdout.splitlines()] == ["lossless", "lossy"]
    res = run("info", tmp_path / "a.san", tmp_path / "b.san")
    assert res.exit_code == 0 and res.stdout.count("│ mode ") == 2 and "target PRDN 4 %" in res.stdout


def test_binary_output_is_not_written_to_a_terminal(tmp_path):
    """``-o -`` with standard output on a terminal (nothing piped) would fill it with a .san's or a .npy's bytes:
    refused in one line, as gzip refuses, and nothing written."""
    import os
    import pty
    import subprocess
    import sys

    rec = copy_record(tmp_path)
    san = run_san(tmp_path, rec)
    for args, what in ((["encode", str(rec), "-o", "-"], ".san"), (["decode", str(san), "-o", "-"], ".npy")):
        leader, follower = pty.openpty()
        try:
            done = subprocess.run([sys.executable, "-m", "sancodec", *args], stdout=follower, stderr=subprocess.PIPE,
                                  cwd=tmp_path, timeout=120)
        finally:
            os.close(follower)
            os.close(leader)
        said = done.stderr.decode()
        assert done.returncode == 2 and f"-o - writes {what} bytes to standard output, which is a terminal" in said
    assert not (tmp_path / "-").exists()


def test_a_bad_value_is_said_before_an_existing_output(tmp_path):
    """A value the encoder refuses is said first: it was found only after "already exists (use --force)", which
    --force then led to; and a near-lossless encode without --max-error says what it needs."""
    rec = copy_record(tmp_path)
    (tmp_path / "test01_00s.san").write_bytes(b"kept")
    for args, said in ((["--mode", "near-lossless"], "needs max_error (--max-error): the largest error a sample"),
                       (["--mode", "lossy"], "exactly one target"),
                       (["--mode", "lossy", "--prdn", "2", "--effort", "slow"], "must be one of best"),
                       (["--threads", "0"], "threads (--threads) must be in 1..256"),
                       (["--frame-len", "3"], "frame_len (--frame-len) must be in 16..16777216")):
        res = run("encode", rec, *args)
        assert res.exit_code == 2 and said in res.stderr and "already exists" not in res.stderr, (args, res.output)
    assert (tmp_path / "test01_00s.san").read_bytes() == b"kept"
    assert "already exists" in run("encode", rec, "--mode", "lossy", "--prdn", "2").stderr


def _matlab_record(folder: Path) -> Path:
    """A WFDB record whose signals lie in a MATLAB v4 file, as PhysioNet's challenge records are (``a103l.mat
    16+24``: a 24-byte MATLAB header, then the int16 matrix ``val``, a row a signal), its header as theirs is laid
    out."""
    x = np.cumsum(np.random.default_rng(3).integers(-40, 41, (3000, 3)), axis=0).astype("<i2")
    head = np.array([30, 3, 3000, 0, 4], dtype="<i4").tobytes() + b"val\0"
    (folder / "ch01.mat").write_bytes(head + x.tobytes())
    sums = [int(v) for v in x.astype(np.int64).sum(axis=0)]
    lines = ["ch01 3 250 3000"] + [f"ch01.mat 16+24 200/mV 16 0 {int(x[0, k])} {sums[k] % 65536} 0 {name}"
                                   for k, name in enumerate(["II", "V", "PLETH"])] + ["#Asystole", "#False alarm"]
    (folder / "ch01.hea").write_text("\n".join(lines) + "\n")
    return folder / "ch01"


def test_a_record_in_a_matlab_file_comes_back_as_one(tmp_path):
    """A record whose signals lie in a MATLAB file (PhysioNet's challenge records) was decoded to a .dat: another
    record's files. Now its .mat comes back byte for byte (the streamed path leaves such a record to the whole-record
    writer), the .hea too with --keep-header-text; a lossy decode or a choice of channels is a .mat as well, which
    wfdb-python reads."""
    import wfdb

    rec = _matlab_record(tmp_path)
    source = read_signal(rec)
    for keep in ([], ["--keep-header-text"]):
        san = tmp_path / f"m{len(keep)}.san"
        assert run("encode", rec, "-o", san, *keep, "-q").exit_code == 0
        (tmp_path / f"back{len(keep)}").mkdir()
        out = tmp_path / f"back{len(keep)}" / "ch01"  # (a kept .hea is written back under the record's own name)
        res = run("decode", san, "-o", out, "-q")
        assert res.exit_code == 0 and res.stderr == "", res.output
        assert sorted(p.name for p in out.parent.iterdir()) == ["ch01.hea", "ch01.mat"]
        assert out.with_suffix(".mat").read_bytes() == (tmp_path / "ch01.mat").read_bytes()
        assert np.array_equal(read_signal(out).samples, source.samples)
    assert (tmp_path / "back1" / "ch01.hea").read_text() == (tmp_path / "ch01.hea").read_text()
    assert wfdb.rdheader(str(tmp_path / "back0" / "ch01")).byte_offset == [24] * 3
    assert run("encode", rec, "-o", tmp_path / "l.san", "--mode", "lossy", "--prdn", "5", "-q").exit_code == 0
    for args, channels in (([], 3), (["--channels", "2"], 1)):
        out = tmp_path / f"l{channels}"
        assert run("decode", tmp_path / "l.san", "-o", out, *args, "-q").exit_code == 0
        record = wfdb.rdrecord(str(out), physical=False)
        assert record.file_name == [f"{out.name}.mat"] * channels and record.d_signal.shape == (3000, channels)
    (tmp_path / "back0" / "ch01.hea").unlink()
    res = run("decode", tmp_path / "m0.san", "-o", tmp_path / "back0" / "ch01", "-q")  # the .mat is an output too
    assert res.exit_code == 2 and "already exists" in res.stderr


@pytest.mark.parametrize(("line", "adc_res", "zero"), [("212", 0, 0), ("212 200", 0, 0), ("212 200(1024)/mV 11", 11, 0),
                                                  ("212 200(1024)/mV 11 1024", 11, 1024), ("212 200 11 0 995", 11, 0)])
def test_a_header_whose_signal_lines_stop_early_is_read_and_comes_back(tmp_path, line, adc_res, zero):
    """WFDB lets a signal line stop after any field from its format on (``100.dat 212``; the rest take WFDB's
    defaults). Such a record was refused ("unreadable or missing adc_res"). Now read with those defaults (the ADC
    resolution and zero 0, the initial value the ADC zero), its samples back whatever the mode, and its .hea byte for
    byte with --keep-header-text (the kept text, which leaves those fields out, says what the written one spells
    out)."""
    import wfdb

    rec = copy_record(tmp_path, "100_3chan")
    hea = tmp_path / "100_3chan.hea"
    hea.write_text("100_3chan 3 360.0 999\n" + "".join(f"100_3chan.dat {line}\n" for _ in range(3)))
    source = read_signal(rec)
    assert source.adc_res == [adc_res] * 3 and source.adc_zero == [zero] * 3
    for keep in ([], ["--keep-header-text"]):
        san, out = tmp_path / f"k{len(keep)}.san", tmp_path / f"back{len(keep)}"
        assert run("encode", rec, "-o", san, *keep, "-q").exit_code == 0
        out.mkdir()
        res = run("decode", san, "-o", out / "100_3chan", "-q")
        assert res.exit_code == 0, res.output
        assert (out / "100_3chan.dat").read_bytes() == (tmp_path / "100_3chan.dat").read_bytes()
    assert wfdb.rdheader(str(tmp_path / "back0" / "100_3chan")).adc_res == [adc_res] * 3
    assert (tmp_path / "back1" / "100_3chan.hea").read_bytes() == hea.read_bytes()
    assert (tmp_path / "back0" / "100_3chan.hea").read_bytes() != hea.read_bytes()  # (wfdb-python's spelling)
    res = run("encode", rec, "-o", tmp_path / "l.san", "--mode", "lossy", "--prdn", "5", "--json")
    assert res.exit_code == 0 and max(json.loads(res.stdout)["prdn_per_channel"]) <= 5, res.output


def test_a_headers_initial_values_come_back(tmp_path):
    """A header's initial value that is not its channel's first sample (a record that starts with an invalid sample:
    mixedsignals says 0 for -32768) was written as the first sample. Now kept: streamed or whole, lossless or lossy,
    a choice of channels; a range starts at its own first sample; a hostile entry is passed over."""
    import wfdb

    rec = copy_record(tmp_path, "100_3chan")
    hea = tmp_path / "100_3chan.hea"
    hea.write_text(hea.read_text().replace("11 1024 1011 63954 0 II", "11 1024 0 63954 0 II"))
    first = [int(v) for v in read_signal(rec).samples[0]]
    assert first[1] == 1011
    for encode in ([], ["--channels", "0,1,2"], ["--mode", "lossy", "--prdn", "5"]):  # streamed, whole, lossy
        san = tmp_path / f"e{len(encode)}.san"
        assert run("encode", rec, "-o", san, *encode, "-q").exit_code == 0
        for decode, inits in (([], [first[0], 0, first[2]]), (["--channels", "1,0"], [0, first[0]])):
            out = tmp_path / f"back{len(encode)}{len(decode)}"
            assert run("decode", san, "-o", out, *decode, "-q").exit_code == 0
            assert wfdb.rdheader(str(out)).init_value == inits
        assert "header's initial values kept" in " ".join(run("info", san).stdout.replace("│", " ").split())
    assert run("decode", tmp_path / "e0.san", "-o", tmp_path / "part", "--start", "10", "-q").exit_code == 0
    assert wfdb.rdheader(str(tmp_path / "part")).init_value == [int(v) for v in read_signal(rec).samples[10]]
    signal = read_signal(rec)
    for k, hostile in enumerate(([1, 2], [0.5, 1, 2], [2**40, 0, 0], "0", [True, 0, 0])):
        signal.source = {**signal.source, "init_values": hostile}
        write_signal(signal, tmp_path / f"h{k}")
        assert wfdb.rdheader(str(tmp_path / f"h{k}")).init_value == first


def test_report_of_a_damaged_san_names_it(tmp_path):
    """``report rec damaged.san``: one line that names the .san (it said "frame 0: checksum mismatch" alone, with
    the recording beside it on the command line); a file cut short, and one whose checksums hold but whose frame
    lies, the same; exit 1."""
    rec = copy_record(tmp_path)
    san = tmp_path / "rec.san"
    assert run("encode", rec, "-o", san, "-q").exit_code == 0
    data = bytearray(san.read_bytes())
    data[-40] ^= 0xFF
    (tmp_path / "bad.san").write_bytes(bytes(data))
    (tmp_path / "cut.san").write_bytes(bytes(data[: len(data) // 2]))
    from common import rewrap

    from sancodec.codec.container import SanReader

    good = san.read_bytes()
    frames = [SanReader(good).read_frame(0)[:-7] + b"\x00" * 7]  # (checksums valid, the frame's contents false)
    (tmp_path / "lies.san").write_bytes(rewrap(good, frames=frames, one_frame=True))
    for name in ("bad.san", "cut.san", "lies.san"):
        res = run("report", rec, tmp_path / name)
        assert res.exit_code == 1 and res.stderr.startswith(f"error: {tmp_path / name}: "), res.output
        assert res.stderr.count("\n") == 1


def test_info_shows_a_records_duration_and_start(tmp_path):
    """``info`` said how many samples at what rate but neither how long the recording lasts nor when it began (a WFDB
    header's base date and time, an EDF file's start, a CSV's first date-time): both are rows now; a record without
    a start shows its duration alone."""
    rec = copy_record(tmp_path)  # macecgdb test01_00s: 4000 samples at 500 Hz, no base time
    assert run("encode", rec, "-q").exit_code == 0
    res = run("info", tmp_path / "test01_00s.san")
    assert res.exit_code == 0 and "│ duration           │ 8 s" in res.stdout and "│ start" not in res.stdout
    import datetime

    t0 = datetime.datetime(2024, 3, 5, 22, 58, 30)
    stamps = (t0 + datetime.timedelta(milliseconds=4 * i) for i in range(20000))
    rows = ["time,ecg", *(f"{t.isoformat(sep=' ', timespec='milliseconds')},{i % 9}" for i, t in enumerate(stamps))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    assert run("encode", tmp_path / "d.csv", "-q").exit_code == 0
    res = run("info", tmp_path / "d.san")
    assert res.exit_code == 0, res.output
    assert "│ duration           │ 0:01:20.000 (80 s)" in res.stdout
    assert "│ start              │ 2024-03-05 22:58:30" in res.stdout
    assert "│ source             │ CSV; time column 'time' in ISO 8601 date-times" in res.stdout


def test_some_channels_go_to_wfdb_a_block_at_a_time_as_the_whole_record_writer_writes_them(tmp_path, monkeypatch,
                                                                                        mitdb_100):
    """``decode --channels`` to WFDB decoded the whole record in memory, every channel, then wrote those asked for (a
    day's two-channel Holter: a gigabyte of int64 samples). Now the streamed writer takes the channels, in their
    order, a channel twice too: the same header, signal file and annotations as the whole-record writer makes of
    them, lossless and lossy, a WFDB record's format 212 and an EDF's channels; --json names them."""
    from sancodec.cli import codec_commands
    from sancodec.io import wfdb as wfdb_io

    san = tmp_path / "m.san"
    assert run("encode", mitdb_100, "-o", san, "-q").exit_code == 0
    lossy = tmp_path / "l.san"
    assert run("encode", mitdb_100, "-o", lossy, "-q", "--mode", "lossy", "--prdn", "3").exit_code == 0
    x = np.cumsum(np.random.default_rng(4).integers(-40, 41, size=(5000, 3)), axis=0).astype(np.int16)
    edf = sancodec.Signal(x, 250.0, ["EEG a", "EEG b", "EEG c"], ["uV"] * 3)
    write_signal(edf, tmp_path / "e.edf")
    assert run("encode", tmp_path / "e.edf", "-o", tmp_path / "e.san", "-q").exit_code == 0
    cases = [(san, "V5"), (san, "1,0,1"), (lossy, "MLII"), (tmp_path / "e.san", "EEG c,0")]
    for k, (source, picked) in enumerate(cases):
        with monkeypatch.context() as patched:  # the whole-record writer refuses: only the streamed one can write it
            patched.setattr(wfdb_io, "write_record", lambda *a, **kw: pytest.fail("written whole"))
            res = run("decode", source, "--format", "wfdb", "-o", tmp_path / f"s{k}", "--channels", picked, "--json")
        assert res.exit_code == 0, res.output
        wanted = json.loads(res.stdout)["channels"]
        whole: list[int] = []
        with monkeypatch.context() as patched:  # the whole-record writer, as every --channels decode went before
            patched.setattr(codec_commands, "stream_wfdb", lambda *a, **kw: None)
            patched.setattr(wfdb_io, "write_record", lambda *a, w=wfdb_io.write_record, seen=whole, **kw:
                            seen.append(1) or w(*a, **kw))
            res = run("decode", source, "--format", "wfdb", "-o", tmp_path / f"w{k}", "--channels", picked, "-q")
        assert res.exit_code == 0 and whole, res.output
        streamed = sorted(p.suffix for p in tmp_path.glob(f"s{k}.*"))
        assert streamed == sorted(p.suffix for p in tmp_path.glob(f"w{k}.*")) and ".dat" in streamed
        for suffix in streamed:  # (a header names its record and signal file)
            ours, theirs = ((tmp_path / f"{side}{k}{suffix}").read_bytes() for side in "sw")
            if suffix == ".hea":
                ours, theirs = ours.replace(f"s{k}".encode(), b"R"), theirs.replace(f"w{k}".encode(), b"R")
            assert ours == theirs, (picked, suffix)
        assert read_signal(tmp_path / f"s{k}").n_channels == len(wanted)
    assert json.loads(run("decode", san, "--format", "wfdb", "-o", tmp_path / "j", "--channels", "1,0,1",
                          "--json").stdout)["channels"] == [1, 0, 1]


def test_a_large_file_read_whole_to_encode_shows_a_spinner_while_it_is_read(tmp_path, monkeypatch):
    """A file read whole before it is coded (a CSV: over a minute for 778 MB) shows a spinner that names it and its
    size from ``READING_BYTES`` on; none below it, none with -q, none for a WFDB record's name (no such file)."""
    from sancodec.cli import streaming

    shown: list[str] = []
    monkeypatch.setattr(streaming.console, "status", lambda text, **kw: shown.append(text) or nullcontext())
    f = tmp_path / "r.csv"
    f.write_text("a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(300)))
    assert run("encode", f, "--fs", "100", "-o", tmp_path / "r.san").exit_code == 0
    assert not any(text.startswith("reading") for text in shown)  # (below READING_BYTES)
    monkeypatch.setattr(streaming, "READING_BYTES", f.stat().st_size)
    assert run("encode", f, "--fs", "100", "-o", tmp_path / "r.san", "-f").exit_code == 0
    assert shown[-1] == f"reading {f} (0 MB)…"
    shown.clear()
    assert run("encode", f, "--fs", "100", "-o", tmp_path / "r.san", "-f", "-q").exit_code == 0
    assert shown == []
    assert run("encode", copy_record(tmp_path), "--channels", "0", "-o", tmp_path / "w.san").exit_code == 0
    assert not any(text.startswith("reading") for text in shown)  # (the record's name is no file)
