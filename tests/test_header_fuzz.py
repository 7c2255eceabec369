"""Input reader fuzzing in CI: WFDB records with garbled header lines (read whole and streamed), EDF and BDF
files with garbled headers and model files with hostile values, in a worker limited to 1.5 GB of address space
(tests/fuzz_headers.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_garbled_headers_and_model_files_only_ever_raise_sancodec_errors():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    seed = os.environ.get("SANCODEC_FUZZ_SEED", "20261201")
    out = subprocess.run([sys.executable, str(HERE / "fuzz_headers.py"), "--cases", "600", "--seed", seed],
                         capture_output=True, text=True, timeout=600, env=env, cwd=HERE)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["escapes"] == 0, json.dumps(result["first_escapes"], indent=1)
    assert result["cases"] == 600 and 100 < result["refused"] < 600  # the edits reach past the parsers
