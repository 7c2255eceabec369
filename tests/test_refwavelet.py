"""``refwavelet``: the plain wavelet coder ``report --rd-curve`` draws beside sancodec."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import sancodec
from sancodec import read_signal, refwavelet
from sancodec.metrics import prdn

X = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").samples[:20000, 0]


def test_finer_steps_cost_more_and_err_less():
    coded = [refwavelet.code(X, step, 6) for step in (1.0, 4.0, 16.0, 64.0)]
    sizes = [size for size, _ in coded]
    errors = [prdn(X.astype(float), y) for _, y in coded]
    assert sizes == sorted(sizes, reverse=True) and errors == sorted(errors)
    assert errors[0] < 2.0 and sizes[-1] < sizes[0] / 4
    assert all(np.array_equal(y, np.rint(y)) and len(y) == len(X) for _, y in coded)  # integers, every sample


def test_a_step_past_every_coefficient_leaves_the_header_and_the_mean():
    size, y = refwavelet.code(X, 1e9, 5)  # every band all zeros: the header and the bands' tables
    assert np.all(y == np.rint(X.mean())) and refwavelet.HEADER_BYTES < size < 100


def test_the_curve_keeps_the_better_level_count_and_stays_in_its_prdn_range():
    points = refwavelet.curve(X, lowest=0.5, highest=20.0)
    assert points and all(0.5 <= p <= 20.0 for p, _ in points)
    p, bits = points[len(points) // 2]
    step = next(s for s in refwavelet.STEPS if abs(prdn(X.astype(float), refwavelet.code(X, s, 5)[1]) - p) < 1e-12
                or abs(prdn(X.astype(float), refwavelet.code(X, s, 6)[1]) - p) < 1e-12)
    best = min(refwavelet.code(X, step, lv)[0] for lv in refwavelet.LEVELS)
    assert bits == 8 * best / len(X)
    assert refwavelet.curve(X[:0]) == []


def test_a_signal_of_a_wide_spread_has_its_steps_scaled_to_reach_the_prdn_range():
    """Decimals on a fine grid (a CSV's values to 8 places: integers near 10^8) are past :data:`STEPS`' reach: the
    steps are scaled by a power of two, and the curve spans the PRDN range as it does for the same samples in ADC
    units; a signal within :data:`WIDEST_SPREAD` keeps the steps as they are."""
    assert float(np.std(X)) < refwavelet.WIDEST_SPREAD
    plain = refwavelet.curve(X)
    wide = refwavelet.curve(X.astype(np.float64) * 2.0**20)
    assert float(np.std(X)) * 2.0**20 > refwavelet.WIDEST_SPREAD
    assert len(wide) >= 10 and all(0.2 <= p <= 40.0 for p, _ in wide)
    assert wide[0][0] < 1.0 and wide[-1][0] > 20.0  # (from near lossless to coarse, as the ADC units' curve goes)
    assert plain[0][0] < 1.0 and plain[-1][0] > 20.0
