"""benchmarks/beat_locked.py's measure: the share of a band's energy that a beat-synchronous mean holds."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from beat_locked import band_passed, locked_share, spectral_measures  # noqa: E402

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


def test_white_noise_is_flat_and_a_line_s_harmonics_hold_their_power():
    # flatness: a periodogram of white noise has exponential values, whose geometric mean is e^-gamma of their mean;
    # a band of a sine's harmonics and a little noise is far from flat and its harmonics hold nearly all its power
    rng = np.random.default_rng(3)
    n = 200_000
    noise = rng.normal(size=n)
    ((share, flatness),) = spectral_measures(noise, FS, [(60.0, 240.0)], 50.0)
    assert abs(flatness - np.exp(-np.euler_gamma)) < 0.02
    assert abs(share - 3 * 2.0 / 180.0) < 0.005  # white noise: 100, 150 and 200 Hz, 2 Hz each of 180
    t = np.arange(n) / FS
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (2, 3, 4)) + 0.01 * noise
    ((share, flatness),) = spectral_measures(hum, FS, [(60.0, 240.0)], 50.0)
    assert share > 0.99 and flatness < 0.1
    ((share, _),) = spectral_measures(hum, FS, [(60.0, 240.0)], None)
    assert np.isnan(share)
    ((share, _),) = spectral_measures(noise + 5.0, FS, [(0.0, 20.0)], 50.0)
    assert share == 0.0  # the bins near 0 Hz are no harmonic
