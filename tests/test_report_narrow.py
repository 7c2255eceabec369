"""``sancodec report`` holds the record whole: its integer samples at the narrowest type that holds them
(``report.held_narrow``), every figure the same as from int64."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
import sancodec.report
from sancodec import Signal, read_signal
from sancodec.cli import app
from sancodec.io import write_signal
from sancodec.rd import rd_curves
from sancodec.report import held_narrow

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).resolve().parents[1] / "sancodec" / "data" / "samples" / "100"


def _signal(x: np.ndarray) -> Signal:
    return Signal(x, 250.0, ["a", "b"][: x.shape[1]], ["mV"] * x.shape[1])


@pytest.mark.parametrize(("low", "high", "dtype", "held"), [
    (-32768, 32767, np.int64, np.int16),
    (-32769, 0, np.int64, np.int32),
    (0, 32768, np.int32, np.int32),  # already the narrowest that holds it
    (-(1 << 31) - 1, 5, np.int64, np.int64),  # beyond int32: as it is
    (0, 255, np.uint8, np.uint8),  # already narrower
    (0, 65535, np.uint16, np.uint16),  # as narrow as int32 would not be
    (0, 40000, np.uint32, np.uint32),  # as wide as int32: kept
])
def test_held_narrow_takes_the_narrowest_of_int16_and_int32_that_holds_the_samples(low, high, dtype, held):
    x = np.array([[low, high], [high, low], [0, 0]], dtype=dtype)
    got = held_narrow(_signal(x))
    assert got.samples.dtype == held
    assert np.array_equal(got.samples.astype(np.int64), x.astype(np.int64))


def test_held_narrow_leaves_floats_as_they_are():
    sig = _signal(np.array([[0.5, 1.0], [2.0, -3.0]]))
    assert held_narrow(sig) is sig


def _inputs(tmp: Path) -> list[Path]:
    """Recordings of every kind report reads: WFDB 212, 16 (one lead of 15), multi-frequency with gaps, a .npy of
    int64, an EDF, a CSV of decimals."""
    for f in [*DATA.glob("s0010_re_i.*"), *DATA.glob("mixedsignals_1000f*"), *DATA.glob("03700181_2000f.*")]:
        (tmp / f.name).write_bytes(f.read_bytes())
    sig = read_signal(SAMPLE).slice(0, 30000)
    write_signal(sig, tmp / "mitdb", format="wfdb")  # (format 212, as read)
    np.save(tmp / "ecg.npy", sig.samples.astype(np.int64))
    write_signal(sig, tmp / "ecg.edf")
    np.savetxt(tmp / "ecg.csv", sig.physical()[:5000], fmt="%.3f", delimiter=",", header="a,b", comments="")
    return [tmp / "mitdb", tmp / "s0010_re_i", tmp / "mixedsignals_1000f", tmp / "03700181_2000f", tmp / "ecg.npy",
            tmp / "ecg.edf", tmp / "ecg.csv"]


def test_a_report_from_samples_held_narrow_is_the_report_from_int64(tmp_path, monkeypatch):
    """Every figure of ``report --json`` (sizes, baselines, PRD, PRDN, SNR, φ), lossless and lossy, encoded now and
    given as a .san, is the same where the record is held at its narrowest type as where it is held as int64; and
    a WFDB 212 record is held as int16."""
    held: list[np.dtype] = []
    real = sancodec.report.make_report
    monkeypatch.setattr(sancodec.report, "make_report", lambda sig, *a, **k: held.append(sig.samples.dtype) or
                        real(sig, *a, **k))
    for rec in _inputs(tmp_path):
        fs = ["--fs", "360"] if rec.suffix in (".npy", ".csv") else []
        for mode in (["--mode", "lossless"], ["--mode", "lossy", "--prdn", "3"]):
            san = tmp_path / f"{rec.stem}.san"
            done = CliRunner().invoke(app, ["encode", str(rec), "-o", str(san), "--force", *fs, *mode])
            assert done.exit_code == 0, done.output
            reports = []
            for narrow in (True, False):
                if not narrow:
                    monkeypatch.setattr(sancodec.report, "held_narrow", lambda sig: sig)
                for given in ([str(san)], [*fs, *mode]):
                    res = CliRunner().invoke(app, ["report", str(rec), *given, "--json"])
                    assert res.exit_code == 0, res.output
                    reports.append(json.loads(res.stdout))
                monkeypatch.undo()
                monkeypatch.setattr(sancodec.report, "make_report", lambda sig, *a, **k: held.append(
                    sig.samples.dtype) or real(sig, *a, **k))
            assert reports[:2] == reports[2:], (rec, mode)
    assert held[0] == np.int16 and np.dtype(np.int64) in held  # (the 212 record held narrow, then wide)


def test_the_rate_distortion_curves_of_samples_held_narrow_are_those_of_int64():
    sig = read_signal(DATA / "test01_00s")
    narrow = held_narrow(sig)
    assert narrow.samples.dtype == np.int16
    assert rd_curves(narrow, 0) == rd_curves(sig, 0)
