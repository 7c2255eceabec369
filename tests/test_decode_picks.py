"""``decode --channels`` of a whole file to EDF, WAV, ``.npy`` or CSV (``--physical`` too) goes through the
file-mapped array with only the picked channels mapped (``stream.decoded_on_disk(pick=...)``): the same files as
picking them from a decode in memory (``--start 0``, which decodes in memory), the record never decoded whole; a
pick that leaves out a record's fastest channels (rows thinned) is decoded in memory as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import decode_in_memory, decode_mapped
from typer.testing import CliRunner

import sancodec
from sancodec import read_signal, write_signal
from sancodec.cli import app
from sancodec.io import csv_writer, physical_map

runner = CliRunner()


def _multirate(folder: Path) -> Path:
    """A 5-channel EDF, its last two channels at an eighth of the rate, 3.2768 units a µV (no decimals)."""
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.integers(-20, 21, (4096, 5)), axis=0).astype(np.int16)
    x[:, 3:] = np.repeat(x[::8, 3:], 8, axis=0)
    signal = sancodec.Signal(x, 256.0, [f"EEG{k}" for k in range(5)], ["uV"] * 5, adc_gain=[3.2768] * 5,
                             baseline=[0] * 5, samples_per_frame=[8, 8, 8, 1, 1])
    write_signal(signal, folder / "slow.edf")
    return folder / "slow.edf"


@pytest.mark.parametrize("record, output, picks, mapped", [
    ("mitdb", "csv", "V5", True), ("mitdb", "npy", "1,0", True), ("mitdb", "edf", "MLII", True),
    ("mitdb", "wav", "1", True), ("mitdb", "csv --physical", "1,0", True), ("mitdb", "npy --physical", "V5,0,V5", True),
    ("slow", "edf", "EEG4,EEG0", True), ("slow", "npy --physical", "4,1", True), ("slow", "csv", "EEG3,EEG4", False),
])
def test_decode_channels_maps_only_the_picked_channels_and_writes_what_picking_in_memory_writes(
        tmp_path, monkeypatch, record, output, picks, mapped):
    from sancodec import codec as codec_package

    monkeypatch.setattr(physical_map, "BLOCK_VALUES", 999)
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 700)
    source = _multirate(tmp_path) if record == "slow" else \
        Path(sancodec.__file__).parent / "data" / "samples" / "100"
    signal = read_signal(source)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(signal if record == "slow" else signal.slice(0, 20000)))
    fmt, *options = output.split()
    out = tmp_path / "out"
    out.mkdir()
    whole = codec_package.decode_file
    used: list[bool] = []
    if mapped:
        monkeypatch.setattr(codec_package, "decode_file", lambda *a, **kw: pytest.fail("decoded in memory"))
    else:
        monkeypatch.setattr(codec_package, "decode_file", lambda *a, **kw: used.append(True) or whole(*a, **kw))
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / f"back.{fmt}"), "--channels", picks, "-q", *options])
    assert res.exit_code == 0, res.output
    monkeypatch.setattr(codec_package, "decode_file", whole)
    decode_in_memory(monkeypatch, [str(san), "-o", str(tmp_path / f"memory.{fmt}"), "--channels", picks, "-q",
                                   *options])
    assert (out / f"back.{fmt}").read_bytes() == (tmp_path / f"memory.{fmt}").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [f"back.{fmt}"]
    assert used == ([] if mapped else [True])
    if fmt == "npy":  # (picked columns in C order, as every other array: numpy's x[:, [1, 0]] is Fortran-ordered)
        assert not np.load(out / "back.npy", mmap_mode="r").flags.f_contiguous or \
            np.load(out / "back.npy").shape[1] == 1


def test_a_bad_pick_is_one_error_and_an_existing_output_is_kept(tmp_path):
    record = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 3000)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(record))
    res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "x.csv"), "--channels", "nope"])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "'nope'" in res.stderr, res.output
    (tmp_path / "kept.npy").write_text("mine\n")
    res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "kept.npy"), "--channels", "V5"])
    assert res.exit_code == 2 and "--force" in res.stderr
    assert (tmp_path / "kept.npy").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.npy", "rec.san"]


@pytest.mark.parametrize("record, output, options", [
    ("mitdb", "csv", ["--start", "1000", "--end", "7000"]), ("mitdb", "npy", ["--start", "4096"]),
    ("mitdb", "edf", ["--end", "5000"]), ("mitdb", "wav", ["--start", "17", "--end", "18"]),
    ("mitdb", "csv", ["--start", "300", "--end", "9000", "--physical", "--channels", "V5"]),
    ("mitdb", "npy", ["--start", "0", "--end", "20000", "--physical"]),
    ("slow", "edf", ["--start", "800", "--end", "2400"]), ("slow", "npy", ["--start", "8", "--physical"]),
    ("decimal csv", "csv", ["--start", "11", "--end", "2900"]),
])
def test_decode_a_range_maps_that_range_alone_and_writes_what_decoding_it_in_memory_writes(
        tmp_path, monkeypatch, record, output, options):
    """``decode --start/--end`` to EDF, WAV, ``.npy`` or CSV maps rows [start, end) alone (their header cut to the
    range, annotations and a CSV source's times with it): the same bytes as decoding the range in memory."""

    monkeypatch.setattr(physical_map, "BLOCK_VALUES", 999)
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 700)
    if record == "slow":
        signal = read_signal(_multirate(tmp_path))
    elif record == "decimal csv":
        (tmp_path / "rec.csv").write_text("time,a,b\n" + "".join(
            f"{k / 250:.3f},{(k % 7 - 3) / 100:.2f},{'' if k % 11 == 0 else -(k % 5) / 10}\n" for k in range(3000)))
        signal = read_signal(tmp_path / "rec.csv")
    else:
        signal = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 20000)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(signal))
    out = tmp_path / "out"
    out.mkdir()
    decode_mapped(monkeypatch, [str(san), "-o", str(out / f"back.{output}"), "-q", *options])
    decode_in_memory(monkeypatch, [str(san), "-o", str(tmp_path / f"memory.{output}"), "-q", *options])
    assert (out / f"back.{output}").read_bytes() == (tmp_path / f"memory.{output}").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [f"back.{output}"]


def test_a_range_out_of_the_record_or_off_a_frame_is_the_same_error_either_way(tmp_path, monkeypatch):
    """A range past the record, backwards, or (a record of several rates) not at whole frames: the one error the
    decode in memory gives, no output and no temporary folder left."""
    signal = read_signal(_multirate(tmp_path))
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(signal))
    for options in (["--start", "5000"], ["--start", "30", "--end", "20"], ["--start", "3", "--end", "800"]):
        res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "out.csv"), *options])
        from sancodec.cli import codec_commands

        with monkeypatch.context() as patched:
            patched.setattr(codec_commands, "decoded_on_disk", lambda *a: None)
            memory = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "out.csv"), *options])
        assert res.exit_code == memory.exit_code != 0 and res.stderr == memory.stderr, (options, res.output)
        assert res.stderr.count("\n") == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.san", "slow.edf"]


@pytest.mark.parametrize("options", [[], ["--channels", "1,0"], ["--physical"],
                                     ["--start", "100", "--end", "9000", "--channels", "V5", "--physical"]])
def test_decode_to_standard_output_goes_through_the_mapped_array(tmp_path, monkeypatch, options):
    """``decode -o -`` maps the decode in the temporary folder and writes its ``.npy`` to standard output as numpy
    writes an array to a file (never as one string of bytes): the bytes decoding in memory writes there, picked
    channels in C order as a file of them is."""
    signal = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 20000)
    san = tmp_path / "rec.san"
    san.write_bytes(sancodec.encode(signal))
    mapped = decode_mapped(monkeypatch, [str(san), "-o", "-", "-q", *options]).stdout_bytes
    memory = decode_in_memory(monkeypatch, [str(san), "-o", "-", "-q", *options]).stdout_bytes
    assert mapped == memory and mapped.startswith(b"\x93NUMPY")
    decode_mapped(monkeypatch, [str(san), "-o", str(tmp_path / "file.npy"), "-q", *options])
    assert (tmp_path / "file.npy").read_bytes() == mapped
