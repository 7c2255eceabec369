"""``decode --start/--end`` to WFDB a block of rows at a time (it went whole before): the range's header as
``decode_file`` cuts it (its start time moved, annotations re-based, the whole record's checksums dropped), the very
files that decoding the range whole and writing that makes; a multi-segment record's segment map cut to the range."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from common import written_sans
from multisegment_records import write_variable
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def sans(tmp_path_factory, mitdb_100) -> dict[str, Path]:
    """mitdb 100 (format 212, its .atr), lossless and lossy; an EDF+ with annotations; a multi-segment record with a
    layout and gaps."""
    folder = tmp_path_factory.mktemp("ranges")
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb_100.with_name(f"100.{ext}"), folder / f"100.{ext}")
    record = sancodec.read_signal(folder / "100")
    out = {"mitdb": sancodec.encode(record), "lossy": sancodec.encode(record, mode="lossy", prdn=3.0)}
    x = np.cumsum(np.random.default_rng(2).integers(-30, 31, size=(7680, 3)), axis=0).astype(np.int16)
    edf = sancodec.Signal(x, 256.0, ["Fp1", "Fp2", "Cz"], ["uV"] * 3, base_date="2024-03-01", base_time="22:10:00")
    sancodec.write_signal(edf, folder / "e.edf")
    out["edf"] = sancodec.encode(sancodec.read_signal(folder / "e.edf"))
    write_variable(folder)
    out["multi"] = sancodec.encode(sancodec.read_signal(folder / "s25047"))
    return written_sans(folder, out)


RANGES = {"mitdb": [(0, 1000), (123_457, 400_001), (649_000, 650_000)], "lossy": [(5000, 90_001)],
          "edf": [(256, 7000), (1, 2), (3000, 7680)], "multi": [(0, 40), (30, 500), (460, 800), (700, 1425)]}


@pytest.mark.parametrize(("kind", "lo", "hi"), [(k, lo, hi) for k, rs in RANGES.items() for lo, hi in rs])
def test_a_range_streams_to_the_files_of_decoding_it_whole(sans, tmp_path, monkeypatch, kind, lo, hi):
    from sancodec.io import wfdb as wfdb_io
    from sancodec.io import wfdb_multi

    whole = tmp_path / "whole"
    whole.mkdir()
    decoded = sancodec.codec.decode_file(sans[kind].read_bytes(), lo, hi)
    refused = None
    try:
        sancodec.write_signal(decoded.signal, whole / "rec", format="wfdb")
    except sancodec.SancodecError as exc:  # (a range of a multi-segment record within a gap: no segment to write)
        refused = str(exc)
    monkeypatch.setattr(wfdb_io, "write_record", lambda *a, **kw: pytest.fail("written whole"))
    monkeypatch.setattr(wfdb_multi, "write_segments", lambda *a, **kw: pytest.fail("written whole"))
    monkeypatch.setattr(sancodec.codec, "decode_file", lambda *a, **kw: pytest.fail("decoded whole"))
    out = tmp_path / "out"
    out.mkdir()
    res = run("decode", sans[kind], "--format", "wfdb", "-o", out / "rec", "--start", lo, "--end", hi, "--json")
    if refused is not None:  # refused alike: one line, nothing written
        assert res.exit_code != 0 and refused in " ".join(res.output.split()) and not list(out.iterdir())
        return
    assert res.exit_code == 0, res.output
    assert f'"start": {lo}' in res.stdout and f'"end": {hi}' in res.stdout
    names = sorted(p.name for p in whole.iterdir())
    assert names == sorted(p.name for p in out.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_the_summary_says_the_rows_and_channels_written(sans, tmp_path):
    res = run("decode", sans["mitdb"], "--format", "wfdb", "-o", tmp_path / "r", "--start", "1:00", "--end", "2:00",
              "--channels", "V5")
    assert res.exit_code == 0, res.output
    assert "decoded samples [21600, 43200) x 1 from" in " ".join(res.output.split())
