"""``encode --channels`` (and ``batch --channels``) streams what ``encode`` streams: a WFDB record of format 16 or
212, an EDF or BDF file, a WAV file of integers, a long lossy record, each block's columns picked, the very file of
picking them from the record read whole (``Signal.select_channels``); a multi-frequency record whose pick drops its
fast channels (a new row rate) is read whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

DATA = Path(__file__).parent / "data"


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def _walk(n: int, channels: int, seed: int) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).integers(-30, 31, size=(n, channels)), axis=0).astype(np.int16)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """A WFDB record of format 212 (I, II, III), a 4-channel EDF (one of them a damaged checksum's record: a WFDB
    record whose samples miss their header's checksums), a WAV of integers, an EDF of two rates."""
    import soundfile

    from sancodec.io.wfdb import write_wfdb

    folder = tmp_path_factory.mktemp("pick")
    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, folder / f.name)
    x = _walk(6000, 4, 1)
    sancodec.write_signal(sancodec.Signal(x, 250.0, ["Fp1", "Fp2", "C3", "C4"], ["uV"] * 4), folder / "e.edf")
    soundfile.write(folder / "w.wav", x[:, :3], 250, subtype="PCM_16")
    y = _walk(4096, 3, 2)
    y[:, 2] = np.repeat(y[::8, 2], 8)
    sancodec.write_signal(sancodec.Signal(y, 256.0, ["a", "b", "slow"], ["uV"] * 3, adc_gain=[10.0] * 3,
                                          baseline=[0] * 3, samples_per_frame=[8, 8, 1]), folder / "m.edf")
    damaged = sancodec.Signal(_walk(3000, 3, 3).astype(np.int64), 360.0, ["x", "y", "z"], ["mV"] * 3,
                              adc_gain=[200.0] * 3, baseline=[0] * 3, fmt=["16"] * 3)
    write_wfdb(damaged, folder / "dmg")
    raw = bytearray((folder / "dmg.dat").read_bytes())
    raw[2:4] = (int.from_bytes(raw[2:4], "little", signed=True) + 7).to_bytes(2, "little", signed=True)  # (y's first)
    (folder / "dmg.dat").write_bytes(bytes(raw))
    return {"wfdb": folder / "100_3chan", "edf": folder / "e.edf", "wav": folder / "w.wav", "multi": folder / "m.edf",
            "damaged": folder / "dmg"}


CASES = [("wfdb", "II", True), ("wfdb", "III,0", True), ("edf", "C4,Fp1", True), ("edf", "2", True),
         ("wav", "2,0", True), ("multi", "b,slow", True), ("multi", "slow", False), ("damaged", "y,x", True)]


@pytest.mark.parametrize(("kind", "picked", "streams"), CASES)
@pytest.mark.parametrize("mode", [[], ["--mode", "near-lossless", "--max-error", "2"]], ids=["lossless", "near"])
def test_a_pick_is_streamed_to_the_bytes_of_picking_from_the_record_read_whole(sources, tmp_path, monkeypatch, kind,
                                                                               picked, streams, mode):
    from sancodec import io
    from sancodec.decoded_output import channel_indices

    options = {"mode": "near-lossless", "max_error": 2} if mode else {}
    with pytest.warns(sancodec.SancodecWarning, match="checksum") if kind == "damaged" else _nothing():
        whole_signal = sancodec.read_signal(sources[kind])  # (the damaged record: a warning for y)
        whole = sancodec.encode(whole_signal.select_channels(channel_indices(whole_signal.channel_names, picked)),
                                **options)
    read = io.read_signal
    reads: list[object] = []
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: reads.append(a) or read(*a, **kw))
    res = run("encode", sources[kind], "--channels", picked, "-o", tmp_path / "p.san", *mode, "--json")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p.san").read_bytes() == whole
    assert bool(reads) != streams
    if kind == "damaged":  # (the header's checksums kept, the picked channels' in their order: y's the one missed)
        assert len(sancodec.decode(whole).source["checksums"]) == 2
        assert "warning" in res.output and "checksum" in res.output
    assert json.loads(res.stdout.splitlines()[-1])["channels"] == len(picked.split(","))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_long_lossy_record_streams_its_pick_a_block_at_a_time(tmp_path, monkeypatch):
    """Past one lossy block (the blocks made small here), the channels picked of each block, coded a block at a time
    (``api.encode_lossy_blocks``): the bytes of the whole record's pick, for the CLI and a batch worker alike."""
    from sancodec import batch, io
    from sancodec.codec import api, lossyfile

    x = _walk((1 << 20) + 2000, 3, 4)
    np.save(tmp_path / "n.npy", x)
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 11)
    read = sancodec.read_signal(tmp_path / "n.npy", fs=250.0)
    whole = sancodec.encode(read.select_channels([2, 0]), mode="lossy", prdn=3.0)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: pytest.fail("read whole"))
    res = run("encode", tmp_path / "n.npy", "--fs", "250", "--channels", "2,0", "--mode", "lossy", "--prdn", "3",
              "-o", tmp_path / "c.san", "-q")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c.san").read_bytes() == whole and made == [True]
    row = batch._encode_one((str(tmp_path / "n.npy"), str(tmp_path / "b.san"),
                             {"mode": "lossy", "prdn": 3.0, "fs": 250.0, "channels": "2,0"}, True))
    assert row["status"] == "encoded", row["error"]
    assert (tmp_path / "b.san").read_bytes() == whole and made == [True, True]


def test_a_channel_not_there_is_one_error_and_no_file(sources, tmp_path):
    res = run("encode", sources["edf"], "--channels", "Cz", "-o", tmp_path / "p.san")
    assert res.exit_code != 0 and "--channels 'Cz': no channel index or name" in res.output
    assert not list(tmp_path.iterdir())
