"""``decode --channels`` of a whole file to EDF, WAV, ``.npy`` or CSV (``--physical`` too) goes through the
file-mapped array with only the picked channels mapped (``stream.decoded_on_disk(pick=...)``): the same files as
picking them from a decode in memory (``--start 0``, which decodes in memory), the record never decoded whole; a
pick that leaves out a record's fastest channels (rows thinned) is decoded in memory as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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
    res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / f"memory.{fmt}"), "--channels", picks, "-q",
                              "--start", "0", *options])
    assert res.exit_code == 0, res.output
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
