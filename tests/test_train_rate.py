"""``sancodec train --objective bytes``: a SAN chosen by the bytes it saves at a PRDN target (train.rate)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sancodec import load_model, read_signal
from sancodec.cli import app
from sancodec.errors import SanConfigError
from sancodec.train.rate import lossy_bytes, san_prediction, select_by_bytes, split_held_out

DATA = Path(__file__).parent / "data"


def _ecg() -> np.ndarray:
    return read_signal(DATA / "test01_00s").samples[:, 0]


def test_the_fewest_held_out_bytes_win_and_every_part_is_counted():
    pytest.importorskip("torch")  # training (a device without torch runs the rest)
    x = _ecg()
    seen = []
    chosen = select_by_bytes([x], 5.0, [1, 2], [10, 25], segment=500, epochs=2, device="cpu",
                             steps=(0.1, 1.0), floors=(0.0, 4.0), on_candidate=seen.append, rates=[500.0])
    assert len(chosen.candidates) == 2 * 2 * 2 * 2 and seen == chosen.candidates
    assert chosen.best == min(chosen.candidates, key=lambda c: (c.total_bytes, c.q, c.m))
    assert (chosen.spec.q, chosen.spec.kernel_sizes[0]) == (chosen.best.q, chosen.best.m)
    for c in chosen.candidates:
        assert c.total_bytes == c.residual_bytes + c.activation_bytes + c.kernel_bytes
        assert c.kernel_bytes == 2 * c.q * c.m  # int16 kernels travel in the file
    held = split_held_out([x], 500)[1][0]
    assert chosen.plain_bytes == lossy_bytes(held, 5.0) and chosen.lossy_mode_bytes is not None
    meta = chosen.metadata(5.0)
    assert meta["objective"] == "bytes" and meta["validation_bytes"] == chosen.best.total_bytes


def test_the_residual_is_coded_after_the_prediction():
    """A perfect prediction leaves nothing to code; a SAN's activations cost bytes, fewer with a floor."""
    x = _ecg()[:3000]
    assert lossy_bytes(x, 2.0, x.astype(np.float64)) < 0.2 * lossy_bytes(x, 2.0)
    spec = load_model(Path(__file__).parent.parent / "sancodec" / "data" / "models" / "default.json")
    pred, side = san_prediction(spec, x, 0.1, 0.0, segment=1000)
    _, fewer = san_prediction(spec, x, 0.1, 100.0, segment=1000)
    assert len(pred) == len(x) and side > fewer


def test_too_short_a_record_is_a_clear_error():
    with pytest.raises(SanConfigError, match="too short for --objective bytes"):
        split_held_out([np.arange(2000)], 1024)


def test_the_cli_writes_the_model_chosen_by_bytes(tmp_path):
    pytest.importorskip("torch")  # training (a device without torch runs the rest)
    for f in DATA.glob("test01_00s.*"):
        shutil.copy(f, tmp_path / f.name)
    rec, model = tmp_path / "test01_00s", tmp_path / "rate.json"
    runner = CliRunner()
    res = runner.invoke(app, ["train", str(rec), "-o", str(model), "--objective", "bytes", "--prdn", "5",
                              "--kernels", "1", "--m", "10", "--m", "20", "--segment", "500", "--epochs", "2",
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    meta = json.loads(model.read_text())["metadata"]
    lines = [line for line in res.output.splitlines() if line.startswith("  q=")]
    assert len(lines) == 2 * 5 * 4  # every m, amplitude step and floor scored
    totals = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert meta["objective"] == "bytes" and meta["prdn"] == 5.0 and meta["validation_bytes"] == min(totals)
    assert meta["plain_wavelet_bytes"] > 0 and meta["lossy_mode_bytes"] > 0
    assert load_model(model).q == 1
    bad = runner.invoke(app, ["train", str(rec), "-o", str(tmp_path / "x.json"), "--prdn", "5"])
    assert bad.exit_code != 0 and "--objective bytes" in bad.output
    written = model.read_bytes()  # an existing model file is kept unless --force says otherwise
    again = runner.invoke(app, ["train", str(rec), "-o", str(model), "--objective", "bytes", "--prdn", "5",
                                "--kernels", "1", "--m", "10", "--segment", "500", "--epochs", "1"])
    assert again.exit_code != 0 and "--force" in again.output and model.read_bytes() == written
