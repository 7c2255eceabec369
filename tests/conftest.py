"""Shared test settings: hypothesis profiles and paths to the bundled data."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

try:  # (the tests that train or export import it themselves: the codec's run where it is not installed, a device's)
    import torch
except ImportError:
    torch = None
if torch is not None:  # two threads on their own; one per pytest-xdist worker (make test runs one per core)
    torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)

#: The modules that test training itself (torch's model, activations, fit and the paper's experiments): where torch
#: is not installed (a device that only encodes and decodes) they are not collected, and the report's header says so;
#: every other module runs there, its few tests that compare with torch skipped by pytest.importorskip.
TRAINING_MODULES = ["test_activations.py", "test_model.py", "test_train.py", "test_reproduce.py"]
#: The module that tests the ONNX graphs sancodec builds (onnx, the train extra's): not collected without onnx.
GRAPH_MODULES = ["test_runtime.py"]
collect_ignore = (TRAINING_MODULES if torch is None else []) + (GRAPH_MODULES if find_spec("onnx") is None else [])


def pytest_report_header(config: pytest.Config) -> str | None:
    if collect_ignore:
        return "not collected, for want of torch or onnx (training, export): " + ", ".join(collect_ignore)
    return None

# CI draws the same examples every run (a red CI must mean a change broke something); the "long"
# profile explores afresh: HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz.py
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RECORD = REPO / "sancodec" / "data" / "samples" / "100"


@pytest.fixture(scope="session")
def mitdb_100() -> Path:
    """Base path of the bundled mitdb record 100 (WFDB)."""
    return SAMPLE_RECORD
