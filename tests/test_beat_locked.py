"""benchmarks/beat_locked.py's measure: the share of a band's energy that a beat-synchronous mean holds."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from beat_locked import band_passed, locked_share  # noqa: E402

FS = 500.0


def _beats(n: int, period: int) -> np.ndarray:
    return np.arange(period // 2, n - period, period)


def test_a_repeating_beat_is_all_locked_and_white_noise_none_of_it():
    rng = np.random.default_rng(1)
    n, period = 60_000, 400
    beats = _beats(n, period)
    shape = np.exp(-0.5 * ((np.arange(period) - 150) / 6.0) ** 2)
    repeating = np.tile(shape, n // period)
    assert locked_share(repeating, beats, FS) > 0.99
    noise = rng.normal(size=n)
    assert locked_share(noise, beats, FS) < 0.02  # the mean of 150 beats keeps 1/150 of it, taken out


def test_a_beat_in_noise_is_locked_by_its_share_of_the_energy():
    rng = np.random.default_rng(2)
    n, period = 80_000, 400
    beats = _beats(n, period)
    shape = np.zeros(period)
    shape[140:160] = 3.0
    signal, noise = np.tile(shape, n // period), rng.normal(size=n)
    before, after = int(min(0.3 * FS, 0.4 * period)), int(min(0.5 * FS, 0.6 * period))
    windows = np.concatenate([np.arange(b - before, b + after) for b in beats[beats >= before]])
    expected = (signal[windows] ** 2).sum() / ((signal + noise)[windows] ** 2).sum()
    assert abs(locked_share(signal + noise, beats, FS) - expected) < 0.03


def test_band_passing_keeps_only_the_band():
    t = np.arange(20_000) / FS
    x = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 100 * t) + 5.0
    low = band_passed(x, FS, 0.5, 50.0)
    assert np.allclose(low, np.sin(2 * np.pi * 10 * t), atol=1e-9)
    assert np.allclose(band_passed(x, FS, 50.0, 250.0), np.sin(2 * np.pi * 100 * t), atol=1e-9)
