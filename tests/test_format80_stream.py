"""WFDB format 80 (8-bit offset binary: MIMIC's waveform records) streamed as formats 16 and 212 are: encoded a block
at a time to the bytes of the record read whole, and decoded back to WFDB a block at a time to the files the
whole-record writer makes (wfdb-python's), lossless, near-lossless and lossy alike."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, Path]:
    """MIMIC's 3000003_0003 (2 channels of format 80, 1028 rows), and a record of format 80 made here: 3 channels,
    an odd count of rows, samples at both ends of the 8-bit range, a dropout (-128, the invalid sample)."""
    from sancodec.io.wfdb import write_wfdb

    folder = tmp_path_factory.mktemp("f80")
    for f in DATA.glob("3000003_0003.*"):
        shutil.copy(f, folder / f.name)
    t = np.arange(5001)
    x = np.stack([np.round(126 * np.sin(t / 9.0)), np.round(60 * np.sin(t / 31.0) + 20 * np.cos(t / 3.0)),
                  np.cumsum(np.random.default_rng(8).integers(-2, 3, len(t)))], axis=1).astype(np.int64)
    x[:, 2] = np.clip(x[:, 2] - x[:, 2].mean(), -127, 127)
    x[1000:1040, 1] = -128  # (a dropout)
    signal = sancodec.Signal(x, 125.0, ["ABP", "PLETH", "RESP"], ["mmHg", "NU", "NU"], adc_gain=[1.0, 10.0, 2.0],
                             baseline=[0, 0, 0], fmt=["80"] * 3)
    write_wfdb(signal, folder / "m80")
    return {"mimic": folder / "3000003_0003", "made": folder / "m80"}


MODES = [[], ["--mode", "near-lossless", "--max-error", "2"], ["--mode", "lossy", "--prdn", "9"]]


@pytest.mark.parametrize("kind", ["mimic", "made"])
@pytest.mark.parametrize("mode", MODES, ids=["lossless", "near", "lossy"])
def test_a_format_80_record_streams_both_ways_to_the_whole_files(records, tmp_path, monkeypatch, kind, mode):
    from sancodec import io
    from sancodec.io import wfdb as wfdb_io
    from sancodec.io.wfdb_stream import stream_header

    base = records[kind]
    assert stream_header(base) is not None
    options = {} if not mode else {"mode": mode[1]} | ({"max_error": 2} if "near-lossless" in mode else {"prdn": 9})
    whole = sancodec.encode(sancodec.read_signal(base), **options)
    with monkeypatch.context() as patched:
        if mode[1:2] != ["lossy"]:  # (lossy: a record of one lossy block is read whole, as encode reads it)
            patched.setattr(io, "read_signal", lambda *a, **kw: pytest.fail("read whole"))
        res = run("encode", base, "-o", tmp_path / "s.san", "-q", *mode)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s.san").read_bytes() == whole
    with monkeypatch.context() as patched:  # the whole-record writer refuses: the streamed one writes it
        patched.setattr(wfdb_io, "write_record", lambda *a, **kw: pytest.fail("written whole"))
        res = run("decode", tmp_path / "s.san", "-o", tmp_path / "back", "-q")
    assert res.exit_code == 0, res.output
    sancodec.write_signal(sancodec.decode(whole), tmp_path / "whole", format="wfdb")
    assert (tmp_path / "back.dat").read_bytes() == (tmp_path / "whole.dat").read_bytes()
    assert (tmp_path / "back.hea").read_text().replace("back", "R") == \
        (tmp_path / "whole.hea").read_text().replace("whole", "R")
    if not mode:  # lossless: the very signal file
        assert (tmp_path / "back.dat").read_bytes() == base.with_name(base.name + ".dat").read_bytes()
    back = sancodec.read_signal(tmp_path / "back")
    assert back.fmt == ["80"] * back.n_channels and int(back.samples.min()) >= -128 and int(back.samples.max()) <= 127


@pytest.mark.parametrize("mode", [{}, {"mode": "lossy", "prdn": 3.0}], ids=["lossless", "lossy"])
def test_a_header_that_says_format_80_of_wider_samples_is_refused_or_written_as_the_whole_writer_does(tmp_path, mode):
    """A file of format 212 samples whose header (valid CRCs) says format 80: the decoder clips to the format, so a
    lossless file fails its checksums, refused both ways in one line with nothing written; a lossy one's clipped
    samples are written by the streamed writer as the whole writer writes them."""
    import copy
    import json

    from common import with_header_bytes

    from sancodec.codec.container import SanReader

    data = sancodec.encode(sancodec.read_signal(DATA / "100_3chan"), **mode)
    header = copy.deepcopy(SanReader(data).header)
    header["signal"]["fmt"] = ["80"] * len(header["signal"]["fmt"])
    bad = with_header_bytes(data, json.dumps(header).encode(), 0)
    (tmp_path / "x.san").write_bytes(bad)
    whole = tmp_path / "whole"
    whole.mkdir()
    try:
        sancodec.write_signal(sancodec.decode(bad), whole / "rec", format="wfdb")
    except sancodec.SancodecError:
        pass
    out = tmp_path / "out"
    out.mkdir()
    res = run("decode", tmp_path / "x.san", "-o", out / "rec", "-q")
    written = sorted(p.name for p in whole.iterdir())
    assert sorted(p.name for p in out.iterdir()) == written
    if not written:
        assert res.exit_code != 0 and "checksum" in res.output and "Traceback" not in res.output
    else:
        assert res.exit_code == 0 and all((out / n).read_bytes() == (whole / n).read_bytes() for n in written)
    assert bool(written) == bool(mode)
