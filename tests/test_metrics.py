"""Metrics against numbers computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sancodec.errors import SanConfigError
from sancodec.metrics import (
    bits_per_sample,
    compression_ratio,
    normalized_loss,
    phi,
    phi_scores,
    prd,
    prdn,
    prdn_of_error,
    snr_db,
    spread_of,
    sum_of_squares,
)


def test_compression_ratio_hand_computed():
    # n = 1000, W = 55, A = 40 -> CR = 1000 / (55 + 2*40) = 1000/135
    assert compression_ratio(1000, 55, 40) == pytest.approx(1000 / 135)
    # 2-D: n = 784, W = 3 + 3, A = 10 -> 784 / (6 + 30)
    assert compression_ratio(784, 6, 10, dim=2) == pytest.approx(784 / 36)


def test_normalized_loss_and_phi_hand_computed():
    x = np.array([[1.0, -2.0, 3.0, 0.0]])  # L(0, x) = 6/4 = 1.5
    x_hat = np.array([[1.0, -1.0, 2.0, 1.0]])  # L(x_hat, x) = 3/4 = 0.75
    assert normalized_loss(x_hat, x)[0] == pytest.approx(0.5)
    scores = phi_scores(x_hat, x, active=np.array([1]), w_total=2)
    # CR = 4 / (2 + 2) = 1 -> CR^-1 = 1, phi = (1 + 0.5)/2 = 0.75
    assert scores.cr_inv[0] == pytest.approx(1.0)
    assert scores.phi[0] == pytest.approx(0.75)
    assert phi(0.08, 0.59) == pytest.approx(0.335)


def test_phi_bar_is_mean_over_examples_and_broadcasts_per_model():
    x = np.array([[1.0, 1.0], [2.0, -2.0]])
    x_hat = np.array([[[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [2.0, -2.0]]])  # 2 models x 2 examples
    scores = phi_scores(x_hat, x, active=np.array([[1, 0], [0, 1]]), w_total=np.array([[1.0], [3.0]]))
    # model 0: ex0 CR^-1 = (1+2)/2 = 1.5, L~ 0; ex1 CR^-1 = 0.5, L~ 1 -> phi 0.75, 0.75
    np.testing.assert_allclose(scores.phi[0], [0.75, 0.75])
    # model 1: ex0 CR^-1 = 1.5, L~ 1 -> 1.25; ex1 CR^-1 = 2.5, L~ 0 -> 1.25
    np.testing.assert_allclose(scores.phi[1], [1.25, 1.25])
    np.testing.assert_allclose(scores.mean().phi, [0.75, 1.25])


def test_normalized_loss_of_zero_signal():
    z = np.zeros((1, 5))
    assert normalized_loss(z, z)[0] == 0.0
    assert math.isinf(normalized_loss(z + 1, z)[0])


def test_prd_prdn_snr_hand_computed():
    x = np.array([3.0, 5.0, 3.0, 5.0])  # mean 4, ||x - mean|| = 2, ||x|| = sqrt(68)
    x_hat = np.array([3.0, 5.0, 3.0, 4.0])  # ||err|| = 1
    assert prd(x, x_hat) == pytest.approx(100 / math.sqrt(68))
    assert prdn(x, x_hat) == pytest.approx(50.0)
    assert snr_db(x, x_hat) == pytest.approx(10 * math.log10(4 / 1))
    assert snr_db(x, x) == math.inf
    with pytest.raises(SanConfigError):
        prd(x, x_hat[:3])


def test_bits_per_sample():
    assert bits_per_sample(1000, 8000) == 1.0
    with pytest.raises(SanConfigError):
        bits_per_sample(10, 0)


def test_sums_of_squares_and_spreads_are_numpy_s():
    """``sum_of_squares`` and ``spread_of`` (numpy's own summation loop, no BLAS) agree with ``np.linalg.norm``
    to rounding, on strided views too, and give 0 for no values."""
    from sancodec.metrics import spread_of, sum_of_squares

    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 40.0, 100_001)
    for v in (x, x[::3], x[:0]):
        assert np.isclose(sum_of_squares(v), float(np.linalg.norm(v)) ** 2, rtol=1e-12)
        assert np.isclose(spread_of(v), float(np.linalg.norm(v - v.mean())) if len(v) else 0.0, rtol=1e-12)
    assert spread_of(np.full(7, 2.5)) == 0.0


def test_the_prdn_from_a_squared_error_is_prdn_s():
    # the lossy rate control measures the error's sum itself and asks prdn_of_error for the PRDN: bit for bit prdn's,
    # and 0 or inf for a flat original
    rng = np.random.default_rng(4)
    x = rng.normal(0, 300, 5000)
    for y in (x + rng.normal(0, 3, 5000), x.copy(), np.zeros(5000)):
        assert prdn_of_error(sum_of_squares(x - y), spread_of(x)) == prdn(x, y)
    flat = np.full(100, 7.0)
    assert prdn_of_error(0.0, spread_of(flat)) == prdn(flat, flat) == 0.0
    assert prdn_of_error(1.0, spread_of(flat)) == prdn(flat, flat + 0.1) == math.inf
