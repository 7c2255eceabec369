"""Input reader fuzzing in CI: WFDB records with garbled header lines (read whole and streamed), EDF and BDF
files with garbled headers, model files with hostile values, and .npy, MATLAB, BrainVision, WAV and CSV files with
bytes changed, in a worker limited to 1.5 GB of address space (tests/fuzz_headers.py)."""

from __future__ import annotations

import json
import os

from common import fuzz_worker


def test_garbled_headers_and_model_files_only_ever_raise_sancodec_errors():
    result = fuzz_worker("fuzz_headers.py", 600, seed=os.environ.get("SANCODEC_FUZZ_SEED", "20261201"))
    assert result["escapes"] == 0, json.dumps(result["first_escapes"], indent=1)
    assert result["cases"] == 600 and 100 < result["refused"] < 600  # the edits reach past the parsers
