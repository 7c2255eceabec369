"""benchmarks/wavelet_levels.py: a fixed level's CR over the envelope's is what it says (1 where that level is the
better one at every step, under 1 where the other one wins somewhere)."""

import sys
from pathlib import Path

import numpy as np

from sancodec import read_signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import wavelet_levels  # noqa: E402
from bench_lossy import TARGETS, wavelet_curve  # noqa: E402

DATA = Path(__file__).parent / "data"


def test_each_level_is_measured_against_the_better_of_the_two():
    x = read_signal(DATA / "a103l_20000").samples[:, 0]
    rows = wavelet_levels.shares(x)
    assert len(rows) == len(TARGETS)
    reached = [s for row in rows for s in row if s is not None]
    assert reached and all(0.5 < s < 1.1 for s in reached)
    assert any(max(s for s in row if s is not None) > 0.999 for row in rows)  # one of them is the envelope there
    envelope = wavelet_curve(x)  # bench_lossy's: the better level at each step, by bytes
    for levels in wavelet_levels.LEVELS:
        ours = wavelet_levels.curve(x, levels)
        assert len(ours) == len(envelope)
        assert all(c <= e + 1e-12 for (_, c, _), (_, e, _) in zip(ours, envelope))  # never above the envelope
    assert np.isfinite([p for p, _, _ in envelope]).all()
