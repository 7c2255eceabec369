"""A float32 source's lossy and near-lossless decodes go back to float32 only where that keeps the file's promise
(``codec.float32promise``)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.codec.float32promise import keeps_promise
from sancodec.io.arrays import as_source_array
from sancodec.metrics import prdn


def _offset_signal() -> np.ndarray:
    """A float32 signal near 302 that moves by thousandths: its float32 spacing (3e-5) is about a hundredth of its
    spread, so rounding a decode to float32 moves it by as much as the coder's own error allows."""
    return (np.cumsum(np.random.default_rng(3).normal(size=(8000, 1)), axis=0) * 0.0002 + 302).astype(np.float32)


def test_a_lossy_decode_rounded_to_float32_past_its_target_is_written_as_float64(tmp_path):
    """Written back as float32 (the ``.npy`` of a float32 source), this decode's PRDN was 0.583 % against a target of
    0.5 %; its float64 values keep it (0.481 %), so the file is written as float64. A millivolt ECG's decode, whose
    rounding is far inside its target, is still float32."""
    x = _offset_signal()
    np.save(tmp_path / "p.npy", x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "p.npy"), "--fs", "250", "--mode", "lossy", "--prdn", "0.5",
                              "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "p.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    back = np.load(tmp_path / "back.npy")
    decoded = sancodec.decode((tmp_path / "p.san").read_bytes()).samples
    assert prdn(x[:, 0].astype(np.float64), decoded[:, 0].astype(np.float32).astype(np.float64)) > 0.5  # (as was)
    assert back.dtype == np.float64 and prdn(x[:, 0].astype(np.float64), back[:, 0]) <= 0.5
    ecg = (np.sin(np.arange(20_000) / 40.0) + 0.01 * np.sin(np.arange(20_000) / 3.0)).astype(np.float32)
    kept = as_source_array(sancodec.decode(sancodec.encode(ecg, fs=250, mode="lossy", prdn=2)))
    assert kept.dtype == np.float32 and prdn(ecg.astype(np.float64), kept.astype(np.float64)) <= 2


@pytest.mark.parametrize("seed", range(4))
def test_every_float32_decode_written_keeps_its_target(seed):
    """Random offsets and scales, whatever dtype the decode is written in: every channel within its PRDN target, and
    a near-lossless decode within its max error."""
    rng = np.random.default_rng(seed)
    x = (np.cumsum(rng.normal(size=(5000, 2)), axis=0) * 10 ** rng.uniform(-4, 0) + 10 ** rng.uniform(1, 5)) \
        .astype(np.float32)
    for p in (0.5, 2.0):
        y = as_source_array(sancodec.decode(sancodec.encode(x, fs=250, mode="lossy", prdn=p)))
        assert all(prdn(x[:, c].astype(np.float64), y[:, c].astype(np.float64)) <= p for c in range(2))
    e = float(np.ptp(x) / 300)
    y = as_source_array(sancodec.decode(sancodec.encode(x, fs=250, mode="near-lossless", max_error=e)))
    assert np.abs(y.astype(np.float64) - x.astype(np.float64)).max() <= e


def test_a_header_out_of_shape_gives_float64():
    """Nothing in the header is trusted: a target, achieved PRDN, max error or grid out of shape keeps the decode in
    float64 (no error: float64 keeps any promise); values that float32 holds exactly go back whatever it says."""
    values = np.array([[0.1, 1.0], [0.2, 2.0], [0.35, 3.0]])
    lossy = {"mode": "lossy", "lossy": {"target": {"prdn": 50.0}, "prdn": [1.0, 1.0]}}
    assert keeps_promise(values, lossy, [0.05, 1.0])
    for broken in ({"target": {"prdn": 50.0}, "prdn": [1.0]}, {"target": {"prdn": "50"}, "prdn": [1.0, 1.0]},
                   {"target": {"prdn": 50.0}, "prdn": [True, 1.0]}, {"target": {"prdn": 50.0}, "prdn": [-1.0, 1.0]},
                   {"target": {"prdn": 50.0}, "prdn": [float("nan"), 1.0]}, {"target": []}, None):
        assert not keeps_promise(values, {"mode": "lossy", "lossy": broken}, [0.05, 1.0])
    assert keeps_promise(values, {"mode": "lossy", "lossy": {"target": {"bps": 2.0}, "prdn": [1.0, 1.0]}}, None)
    assert keeps_promise(values, {"mode": "lossy", "lossy": {"target": {"snr": 6.0}, "prdn": [1.0, 1.0]}}, None)
    assert not keeps_promise(values, {"mode": "lossy", "lossy": {"target": {"snr": 80.0}, "prdn": [1.0, 1.0]}}, None)
    near = {"mode": "near-lossless", "max_error": 0.01}
    assert keeps_promise(values, near, [0.019, 0.019])  # 0.1's move (1.5e-9) within 0.01 - 0.0095
    assert not keeps_promise(values, near, [0.02, 0.02])  # a grid of twice the error: no room for any move
    for broken_near in ({"mode": "near-lossless", "max_error": "0.01"}, {"mode": "near-lossless"},
                        {"mode": "lossless"}, {}):
        assert not keeps_promise(values, broken_near, [0.019, 0.019])
    assert not keeps_promise(values, near, [0.019])
    assert keeps_promise(np.array([[0.5, 1.0], [0.25, 2.0]]), {}, None)  # float32 values already
    assert not keeps_promise(np.array([[1e300, 1.0]]), near, [0.019, 0.019])  # past float32's range


def test_a_lossy_decode_to_brainvision_warns_where_its_float32_may_pass_the_target(tmp_path):
    """BrainVision's only float type is 32 bits: a lossy decode of floats written there is rounded to it, and where
    that may pass the target (a large offset beside a small swing) ``decode`` says so in a ``warning:`` line; a decode
    whose rounding keeps the target writes without one."""
    runner = CliRunner()
    np.save(tmp_path / "offset.npy", _offset_signal().astype(np.float64))
    np.save(tmp_path / "plain.npy", np.cumsum(np.random.default_rng(1).normal(size=(8000, 2)), axis=0) * 0.37)
    for name, warned in (("offset", True), ("plain", False)):
        res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.npy"), "--fs", "250", "--mode", "lossy", "--prdn",
                                  "0.5", "-q"])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["decode", str(tmp_path / f"{name}.san"), "-o", str(tmp_path / f"{name}.vhdr")])
        assert res.exit_code == 0, res.output
        assert ("warning: BrainVision holds 32-bit floats" in res.stderr) is warned, res.stderr


def test_a_lossy_file_whose_header_lies_about_its_prdn_decodes_in_float64_or_is_refused(tmp_path):
    """A float32 source's lossy file rebuilt with valid CRCs and an achieved PRDN that is no number, or a list of the
    wrong length: refused as a format error or decoded as float64, which keeps any promise (never a crash, never
    float32 on the header's word)."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    data = sancodec.encode(_offset_signal(), fs=250, mode="lossy", prdn=0.5)
    header = SanReader(data).header
    for lie in (["x"], [None], [], [0.1, 0.1], "0.1"):
        header["lossy"]["prdn"] = lie
        try:
            decoded = sancodec.decode(rewrap(data, header=header))
        except sancodec.SanFormatError:
            continue
        assert as_source_array(decoded).dtype == np.float64
