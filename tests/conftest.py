"""Shared test settings: hypothesis profiles and paths to the bundled data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

try:  # (the tests that train or export import it themselves: the codec's run where it is not installed, a device's)
    import torch
except ImportError:
    torch = None
if torch is not None:  # two threads on their own; one per pytest-xdist worker (make test runs one per core)
    torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)

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
