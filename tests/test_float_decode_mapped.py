"""``decode`` of a file of floats (a lossy or near-lossless float array's, a lossless file of floats on a step or of
float32 values) to ``.npy``, CSV or EDF (its grid's integers) goes through the file-mapped array
(``stream.decoded_on_disk``), its values made as ``decode_file`` makes them (``SanFile.sample_blocks``): the same
files as the decode in memory. A lossy file of a float32 source's values, whose decode weighs them all for float32
first, is still decoded in memory."""

from __future__ import annotations

import numpy as np
import pytest
from common import decode_in_memory, decode_mapped

import sancodec
from sancodec import stream
from sancodec.io import csv_writer

N = 6000


def _floats(kind: str) -> tuple[np.ndarray, list[str]]:
    """A 2-channel float array of ``kind`` and the encode options that code it so."""
    rng = np.random.default_rng(len(kind))
    walk = np.cumsum(rng.normal(0, 0.02, (N, 2)), axis=0) + np.sin(np.arange(N) / 9.0)[:, None]
    if kind == "lossy":
        return walk, ["--mode", "lossy", "--prdn", "3"]
    if kind == "near":
        return walk, ["--mode", "near-lossless", "--max-error", "0.01"]
    if kind == "step":  # counts times a calibration factor: lossless on that step (format 1.17)
        return np.cumsum(rng.integers(-3, 4, (N, 2)), axis=0) * (0.01 / 3), []
    if kind == "float32":  # float32 values: lossless, their bits (format 1.18)
        return walk.astype(np.float32), []
    assert kind == "float32 lossy"
    return walk.astype(np.float32), ["--mode", "lossy", "--prdn", "3"]


@pytest.mark.parametrize("kind, fmt", [(kind, fmt) for kind in ("lossy", "near", "step", "float32")
                                       for fmt in ("npy", "csv", "edf", "npy --physical", "csv --physical",
                                                   "csv --channels 1", "npy --start 1000 --end 4000")
                                       if (kind, fmt) != ("float32", "edf")])
def test_a_float_files_decode_is_mapped_and_writes_what_the_decode_in_memory_writes(tmp_path, monkeypatch, kind,
                                                                                    fmt):
    monkeypatch.setattr(csv_writer, "BLOCK_ROWS", 700)
    x, options = _floats(kind)
    np.save(tmp_path / "x.npy", x)
    from typer.testing import CliRunner

    from sancodec.cli import app

    res = CliRunner().invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", "-o", str(tmp_path / "x.san"),
                                   "-q", *options])
    assert res.exit_code == 0, res.output
    san = str(tmp_path / "x.san")
    fmt, *more = fmt.split()
    mapped, whole = tmp_path / f"mapped.{fmt}", tmp_path / f"whole.{fmt}"
    decode_mapped(monkeypatch, [san, "-o", str(mapped), "-q", *more])
    decode_in_memory(monkeypatch, [san, "-o", str(whole), "-q", *more])
    assert mapped.read_bytes() == whole.read_bytes()
    if fmt == "npy" and not more:
        assert np.array_equal(np.load(mapped), sancodec.decode((tmp_path / "x.san").read_bytes()).samples)


def test_a_lossy_file_of_float32_values_is_still_decoded_in_memory(tmp_path):
    """A float32 ``.npy``'s lossy decode is weighed whole for float32 (``codec.float32promise``): no mapped array."""
    x, _ = _floats("float32 lossy")
    np.save(tmp_path / "x.npy", x)
    signal = sancodec.read_signal(tmp_path / "x.npy", fs=250.0)
    (tmp_path / "x.san").write_bytes(sancodec.encode(signal, mode="lossy", prdn=3.0))
    assert stream.decoded_on_disk(tmp_path / "x.san", tmp_path) is None
    assert stream.decoded_on_disk(tmp_path / "x.san", tmp_path, decimals=True) is None


def test_a_long_float32_decode_to_npy_holds_a_window_not_the_record(tmp_path):
    """A lossless file of 2 x 2^20 float32 values (8 MB, format 1.18) decoded to ``.npy`` by the CLI: its peak of
    Python and numpy memory is under five times the values, where the decode in memory took seven (the values made
    whole, then written); the rest is the decoder's window of frames, about 2^21 values, all of this record. (A lossy
    file's frames are up to 2^20 rows, each decoded whole: there the frame's decode is most of the peak.)"""
    from common import traced_peak
    from typer.testing import CliRunner

    from sancodec.cli import app

    n = 1 << 20
    x = np.cumsum(np.random.default_rng(1).normal(0, 0.02, (n, 2)), axis=0).astype(np.float32)
    (tmp_path / "x.san").write_bytes(sancodec.encode(sancodec.Signal(x, 250.0, ["a", "b"], ["mV", "mV"])))
    results = []
    peak = traced_peak(lambda: results.append(CliRunner().invoke(
        app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "x.npy"), "-q"])))
    assert results[0].exit_code == 0, results[0].output
    assert np.array_equal(np.load(tmp_path / "x.npy"), x)
    assert peak < 5 * x.nbytes, peak / x.nbytes


@pytest.mark.parametrize("quantum", [[1e308, 1e308], [1e-320, 1.0], [0.0, 1.0], [-1.0, 1.0], [1.0], "x"])
def test_a_float_file_whose_step_lies_is_one_error_on_the_mapped_path_and_leaves_no_output(tmp_path, quantum):
    """A float file's ``quantum`` rewritten (valid CRCs: what an attacker sends), decoded to ``.npy`` and CSV through
    the mapped array: a one-line error and exit 1 where the values it makes cannot be, never a traceback, and no
    output or temporary file left; or a file where the step is one a decode can use."""
    from common import rewrap
    from typer.testing import CliRunner

    from sancodec.cli import app
    from sancodec.codec.container import SanReader

    x, _ = _floats("lossy")
    data = sancodec.encode(sancodec.Signal(x, 250.0, ["a", "b"], ["mV", "mV"]), mode="lossy", prdn=3.0)
    header = SanReader(data).header
    assert header.get("quantum") is not None
    (tmp_path / "bad.san").write_bytes(rewrap(data, {**header, "quantum": quantum}))
    for fmt in ("npy", "csv"):
        out = tmp_path / f"o.{fmt}"
        res = CliRunner().invoke(app, ["decode", str(tmp_path / "bad.san"), "-o", str(out), "-q"])
        if res.exit_code:
            assert res.exit_code == 1 and res.output.startswith("error:") and "Traceback" not in res.output, \
                res.output
            assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bad.san", *([out.name] * (res.exit_code == 0))])
        out.unlink(missing_ok=True)


@pytest.mark.parametrize("fmt", ["npy", "csv", "edf"])
def test_a_float_files_mapped_decode_keeps_an_existing_output_without_force(tmp_path, fmt):
    """An output that exists is kept, and the decode refused in one error, without --force; written with it."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    x, _ = _floats("lossy")
    (tmp_path / "x.san").write_bytes(sancodec.encode(sancodec.Signal(x, 250.0, ["a", "b"], ["mV", "mV"]),
                                                     mode="lossy", prdn=3.0))
    out = tmp_path / f"o.{fmt}"
    out.write_bytes(b"mine")
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(out), "-q"])
    assert res.exit_code != 0 and "already exists" in res.output and out.read_bytes() == b"mine", res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o." + fmt, "x.san"]
    assert CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(out), "-q", "-f"]).exit_code == 0
    assert out.read_bytes() != b"mine"
