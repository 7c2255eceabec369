"""Golden .san files pin the format: decoding them and re-encoding their source must not change.

Regenerate (only after an intended format change, with a version bump):
    SANCODEC_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import load_model, read_signal, save_model
from sancodec.model import SAN

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
REGENERATE = os.environ.get("SANCODEC_REGENERATE_GOLDEN") == "1"
CASES = {
    "test01_00s_lossless.san": {"mode": "lossless"},
    "test01_00s_near2.san": {"mode": "near-lossless", "max_error": 2},
    "test01_00s_lossy.san": {"mode": "lossy"},
}


def _source():
    return read_signal(HERE / "data" / "test01_00s").slice(0, 2000)


def _model():
    path = GOLDEN / "model.json"
    if REGENERATE and not path.exists():
        save_model(SAN([11, 24], ["peaks", "max_pool_indices"], seed=5).to_spec(), path)
    return load_model(path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_file(name):
    path = GOLDEN / name
    data = sancodec.encode(_source(), _model(), frame_len=1024, **CASES[name])
    if REGENERATE:
        path.write_bytes(data)
        (GOLDEN / (name + ".sha256")).write_text(hashlib.sha256(data).hexdigest() + "\n")
    golden = path.read_bytes()
    assert hashlib.sha256(golden).hexdigest() == (GOLDEN / (name + ".sha256")).read_text().strip()
    assert data == golden, "the encoder's output changed: the format or the coder drifted"
    decoded = sancodec.decode(golden)
    src = _source()
    if CASES[name]["mode"] == "lossless":
        np.testing.assert_array_equal(decoded.samples, src.samples)
    elif CASES[name]["mode"] == "near-lossless":
        assert np.abs(decoded.samples - src.samples).max() <= 2
    assert decoded.header_dict() == src.header_dict()
