"""``batch`` encodes a record as ``sancodec encode`` reads it: WFDB format 16/212, EDF/BDF, WAV and BrainVision
integers a block at a time (``encode_streamed``), never read whole, to the very bytes of coding them whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import sancodec

DATA = Path(__file__).parent / "data"

MODES = [{"mode": "lossless"}, {"mode": "near-lossless", "max_error": 3.0}, {"mode": "lossy", "prdn": 4.0}]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """A WFDB record of format 212, an EDF and a 16-bit WAV of integers."""
    import soundfile

    folder = tmp_path_factory.mktemp("sources")
    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, folder / f.name)
    x = np.cumsum(np.random.default_rng(12).integers(-40, 41, size=(6000, 2)), axis=0).astype(np.int16)
    sancodec.write_signal(sancodec.Signal(x, 250.0, ["a", "b"], ["uV", "uV"]), folder / "e.edf")
    soundfile.write(folder / "w.wav", x, 250, subtype="PCM_16")
    return {"wfdb": folder / "100_3chan", "edf": folder / "e.edf", "wav": folder / "w.wav"}


@pytest.mark.parametrize("kind", ["wfdb", "edf", "wav"])
@pytest.mark.parametrize("mode", MODES, ids=[m["mode"] for m in MODES])
def test_a_streamable_record_is_never_read_whole_and_codes_to_the_whole_files_bytes(sources, tmp_path, monkeypatch,
                                                                                     kind, mode):
    """The batch's worker read every record whole (a day-long Holter's int64 samples per worker): now those that
    ``sancodec encode`` streams go a block at a time (``read_signal`` is never called for them; lossy records of one
    block are read whole, as encode reads them), the same ``.san`` as ``sancodec.encode`` of the record read whole, and
    the manifest's bits per sample from its values."""
    from sancodec import batch, io

    whole = sancodec.encode(sancodec.read_signal(sources[kind]), **mode)
    read = io.read_signal
    reads: list[object] = []
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: reads.append(a) or read(*a, **kw))
    out = tmp_path / "o.san"
    row = batch._encode_one((str(sources[kind]), str(out), mode, True))
    assert row["status"] == "encoded", row["error"]
    assert out.read_bytes() == whole
    assert bool(reads) == (mode["mode"] == "lossy")  # (lossy: one block, read whole as encode reads it)
    values = sancodec.read_signal(sources[kind]).n_values
    assert row["bits_per_sample"] == round(8 * len(whole) / values, 4) and row["output_bytes"] == len(whole)


def test_a_long_record_in_lossy_mode_goes_a_block_at_a_time(tmp_path, monkeypatch):
    """A record of several lossy blocks (the blocks made small here) and an integer ``.npy`` of them: coded a block at
    a time (``api.encode_lossy_blocks``, its samples never read whole), the bytes of ``sancodec.encode``'s."""
    from sancodec import batch, io
    from sancodec.codec import api, lossyfile

    x = np.cumsum(np.random.default_rng(3).integers(-20, 21, size=((1 << 20) + 3000, 1)), axis=0).astype(np.int16)
    np.save(tmp_path / "n.npy", x)
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 11)
    whole = sancodec.encode(sancodec.read_signal(tmp_path / "n.npy", fs=250.0), mode="lossy", prdn=3.0)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    monkeypatch.setattr(io, "read_signal", lambda *a, **kw: pytest.fail("read whole"))
    row = batch._encode_one((str(tmp_path / "n.npy"), str(tmp_path / "n.san"), {"mode": "lossy", "prdn": 3.0,
                                                                                "fs": 250.0}, True))
    assert row["status"] == "encoded", row["error"]
    assert made == [True] and (tmp_path / "n.san").read_bytes() == whole
    assert float(row["prdn"]) <= 3.0


@pytest.mark.parametrize(("options", "kwargs"), [
    ({"frame_len": 512}, {"frame_len": 512}),
    ({"fast_decode": True}, {"predictor": "fast"}),
    ({"mode": "near-lossless", "max_error": 2.0, "fast_decode": True, "frame_len": 4096},
     {"mode": "near-lossless", "max_error": 2.0, "predictor": "fast", "frame_len": 4096}),
    ({"mode": "lossy", "prdn": 3.0, "verify": True, "frame_len": 2048},
     {"mode": "lossy", "prdn": 3.0, "verify": True, "frame_len": 2048}),
    ({"channels": "1"}, {"channels": [1]}),
    ({"channels": "1,0", "mode": "lossy", "snr": 30.0}, {"channels": [1, 0], "mode": "lossy", "snr": 30.0}),
])
def test_encode_options_reach_every_record_as_encode_takes_them(sources, tmp_path, options, kwargs):
    """``batch --frame-len``, ``--fast-decode``, ``--verify`` and ``--channels`` (before, ``sancodec encode`` only):
    each record's file the very bytes ``sancodec.encode`` makes with them, streamed or read whole."""
    from sancodec import batch

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    shutil.copy(sources["edf"], src / "e.edf")
    shutil.copy(sources["wav"], src / "w.wav")
    rows = batch.encode_tree(src, dst, workers=1, **options)
    assert [r.status for r in rows] == ["encoded", "encoded"], [r.error for r in rows]
    picked = kwargs.pop("channels", None)
    for name in ("e.edf", "w.wav"):
        signal = sancodec.read_signal(src / name)
        signal = signal if picked is None else signal.select_channels(picked)
        assert (dst / f"{name}.san").read_bytes() == sancodec.encode(signal, **kwargs), name


def test_a_record_without_the_channel_named_is_a_failed_row_and_bad_options_one_error(sources, tmp_path):
    from typer.testing import CliRunner

    from sancodec import batch
    from sancodec.cli import app

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(sources["edf"], src / "e.edf")  # (channels a, b)
    for f in sources["wfdb"].parent.glob("100_3chan.*"):
        shutil.copy(f, src / f.name)  # (channels I, II, III)
    rows = {Path(r.path).name: r for r in batch.encode_tree(src, tmp_path / "dst", workers=1, channels="II")}
    assert rows["100_3chan"].status == "encoded" and rows["e.edf"].status == "failed"
    assert "'II': no channel index or name" in rows["e.edf"].error
    assert sancodec.decode((tmp_path / "dst" / "100_3chan.san").read_bytes()).channel_names == ["II"]
    for args, said in [(["--fast-decode", "--mode", "lossy", "--prdn", "2"], "applies to lossless and near-lossless"),
                       (["--verify"], "applies to lossy mode, not lossless"),
                       (["--frame-len", "3"], "must be in 16..16777216"),
                       (["--channels", " "], "--channels takes comma-separated"),
                       (["--decode", "--frame-len", "512"], "--frame-len: options of an encode")]:
        res = CliRunner().invoke(app, ["batch", str(src), str(tmp_path / "bad"), *args, "-q"])
        assert res.exit_code == 2 and said in res.output and "Traceback" not in res.output, (args, res.output)
        assert not (tmp_path / "bad" / "manifest.csv").exists()
