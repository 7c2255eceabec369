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
    assert channel_std(ref) == float(np.std(ref))
    empty = np.zeros(0)
    assert channel_spread(empty) == 0.0 and channel_std(empty) == 0.0


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
