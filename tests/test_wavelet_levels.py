"""benchmarks/wavelet_levels.py: a fixed level's CR over the envelope's is what it says (1 where that level is the
better one at every step, under 1 where the other one wins somewhere). Synthetic curves: the wavelet coder itself
needs PyWavelets, a benchmark extra a fresh clone does not install."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import wavelet_levels  # noqa: E402
from lossy_signals import TARGETS  # noqa: E402

PRDNS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0)  # one point per quantiser step


def _curve(scale: float, stretch: float = 1.0) -> list[tuple[float, float, str]]:
    """A power-law rate curve, CR = scale * PRDN^0.8, one point per step at PRDN ``stretch`` times :data:`PRDNS`
    (two levels' codings at one step land at different PRDN)."""
    return [(stretch * p, scale * (stretch * p) ** 0.8, "") for p in PRDNS]


def test_the_better_level_scores_one_and_the_other_its_share():
    rows = wavelet_levels.shares_of({5: _curve(10.0), 6: _curve(9.0, 1.07)})
    assert len(rows) == len(TARGETS)
    for five, six in rows:
        assert five == pytest.approx(1.0) and six == pytest.approx(0.9)


def test_where_each_level_wins_at_some_steps_the_other_falls_short_there():
    low = [(p, c * (1.1 if p < 3 else 0.9), "") for p, c, _ in _curve(10.0)]  # level 5 better at low PRDN only
    rows = wavelet_levels.shares_of({5: low, 6: _curve(10.0, 1.07)})
    assert rows[0][0] == pytest.approx(1.0) and rows[0][1] == pytest.approx(1 / 1.1)  # PRDN 1 %: level 5's steps
    assert rows[-1][1] == pytest.approx(1.0) and rows[-1][0] == pytest.approx(0.9)  # PRDN 9 %: level 6's
    unreached = wavelet_levels.shares_of({5: [(0.5, 5.0, "")] * len(PRDNS), 6: _curve(10.0)})
    assert all(five is None for five, _ in unreached)  # a curve that stays at 0.5 % reaches no target
