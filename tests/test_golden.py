"""Golden .san files pin the format: decoding them and re-encoding their source must not change.

Regenerate (only after an intended format change, with a version bump; move the old files
to a ``vX.Y`` folder first, where they stay as decode-only fixtures):
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
from sancodec.train.model import SAN

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
REGENERATE = os.environ.get("SANCODEC_REGENERATE_GOLDEN") == "1"
CASES = {
    "test01_00s_lossless.san": {"mode": "lossless"},
    "test01_00s_near2.san": {"mode": "near-lossless", "max_error": 2},
    "test01_00s_lossy.san": {"mode": "lossy"},
    # One 4000-sample frame: long enough that the encoder picks linear prediction (format 1.1).
    "test01_00s_lossless_lpc.san": {"mode": "lossless", "frame_len": 4096, "n": 4000},
    # EMG on a 50/3-unit grid: the value-table path (format 1.1), two frames.
    "emg_healthy_lossless_table.san": {"mode": "lossless", "frame_len": 4096, "n": 8000, "record": "emg_healthy"},
}
OLD_VERSIONS = ["v1.0"]


def _source(name: str):
    return read_signal(HERE / "data" / CASES[name].get("record", "test01_00s")).slice(0, CASES[name].get("n", 2000))


def _options(name: str) -> dict:
    return {"frame_len": 1024, **{k: v for k, v in CASES[name].items() if k not in ("n", "record")}}


def _model():
    path = GOLDEN / "model.json"
    if REGENERATE and not path.exists():
        save_model(SAN([11, 24], ["peaks", "max_pool_indices"], seed=5).to_spec(), path)
    return load_model(path)


def _check_decoded(name: str, data: bytes) -> sancodec.codec.DecodedFile:
    decoded = sancodec.codec.decode_file(data)
    src = _source(name)
    if CASES[name]["mode"] == "lossless":
        np.testing.assert_array_equal(decoded.signal.samples, src.samples)
    elif CASES[name]["mode"] == "near-lossless":
        assert np.abs(decoded.signal.samples - src.samples).max() <= 2
    assert decoded.signal.header_dict() == src.header_dict()
    return decoded


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_file(name):
    path = GOLDEN / name
    data = sancodec.encode(_source(name), _model(), **_options(name))
    if REGENERATE:
        path.write_bytes(data)
        (GOLDEN / (name + ".sha256")).write_text(hashlib.sha256(data).hexdigest() + "\n")
    golden = path.read_bytes()
    assert hashlib.sha256(golden).hexdigest() == (GOLDEN / (name + ".sha256")).read_text().strip()
    assert data == golden, "the encoder's output changed: the format or the coder drifted"
    decoded = _check_decoded(name, golden)
    assert golden[4:6] == bytes([sancodec.codec.container.MAJOR, sancodec.codec.container.MINOR])
    assert (decoded.lpc_channel_frames > 0) == name.endswith("_lpc.san")
    assert ("table" in decoded.codings) == name.endswith("_table.san")


@pytest.mark.parametrize("version", OLD_VERSIONS)
@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("test01_00s") and not n.endswith("_lpc.san")))
def test_files_of_older_minor_versions_still_decode(version, name):
    golden = (GOLDEN / version / name).read_bytes()
    assert hashlib.sha256(golden).hexdigest() == (GOLDEN / version / (name + ".sha256")).read_text().strip()
    assert golden[4:6] == bytes(int(v) for v in version[1:].split("."))
    _check_decoded(name, golden)
