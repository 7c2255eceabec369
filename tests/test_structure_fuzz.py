"""Structure-aware fuzzing in CI: a few thousand cases with valid CRCs and hostile contents,
run in a worker limited to 1.5 GB of address space and 10 s per case (tests/fuzz_structure.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common import fuzz_worker

HERE = Path(__file__).parent


def test_hostile_files_with_valid_crcs_only_ever_raise_sancodec_errors():
    result = fuzz_worker("fuzz_structure.py", 3000, seed=int(os.environ.get("SANCODEC_FUZZ_SEED", "20261129")))
    assert result["escapes"] == 0, json.dumps(result["escapes_kept"], indent=1)
    assert result["cases"] == 3000
    # The mutations reach past the header checks: some files still decode, most are refused.
    assert result["decoded"] > 50 and result["refused"] > 1000


def test_the_worker_really_runs_under_the_memory_limit():
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import fuzz_structure as f; f.limit_memory()\n"
            "import numpy as np\n"
            "try:\n    np.ones(1 << 28)\nexcept MemoryError:\n    print('limited')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert out.stdout.strip() == "limited", out.stderr
