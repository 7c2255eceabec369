"""codec.channelstats: a channel's spread and standard deviation worked out once per channel, the same floats."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from sancodec.codec import channelstats
from sancodec.codec.channelstats import channel_spread, channel_std
from sancodec.metrics import spread_of


def test_the_same_floats_as_the_functions_they_stand_for() -> None:
    ref = np.random.default_rng(3).normal(100.0, 7.0, 10_001)
    assert channel_spread(ref) == spread_of(ref)
    assert channel_std(ref) == pytest.approx(float(np.std(ref)), rel=1e-14)
    empty = np.zeros(0)
    assert channel_spread(empty) == 0.0 and channel_std(empty) == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_the_standard_deviation_from_the_spread_sets_np_std_s_first_step(seed: int) -> None:
    """channel_std is the spread over the root of the count, within an ulp or two of np.std; the rate control's first
    step, a float32, and the time-domain grids' first odd multiple come out the same from either."""
    from sancodec.codec.lossy import LossyTarget
    from sancodec.codec.lossyrate import first_step

    rng = np.random.default_rng(seed)
    for n in rng.integers(2, 200_000, 40):
        ref = np.rint(rng.normal(rng.uniform(-1e4, 1e4), rng.uniform(0.5, 3e3), n))
        exact = float(np.std(ref))
        assert channel_std(ref) == pytest.approx(exact, rel=4e-16 * 8)
        for prdn in (1.0, 2.0, 5.0, 9.0):
            step = first_step(ref, LossyTarget(prdn=prdn))
            assert step is not None
            assert np.float32(step) == np.float32(prdn / 100 * exact * np.sqrt(12))
            grid_guess = int(prdn / 100 * channel_std(ref) * np.sqrt(12) / 3) | 1  # timedomain's, on a grid of 3
            assert grid_guess == int(prdn / 100 * exact * np.sqrt(12) / 3) | 1


def test_worked_out_once_per_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(x: np.ndarray) -> float:
        calls.append(len(x))
        return spread_of(x)

    monkeypatch.setattr(channelstats, "spread_of", counted)
    ref, other = np.arange(50.0), np.arange(50.0)  # equal values, another array: another channel
    assert channel_spread(ref) == channel_spread(ref) == channel_spread(other)
    assert calls == [50, 50]


def test_forgotten_with_the_array() -> None:
    ref = np.linspace(0.0, 1.0, 99)
    channel_std(ref)
    key = id(ref)
    assert key in channelstats._KEPT
    del ref
    gc.collect()
    assert key not in channelstats._KEPT
