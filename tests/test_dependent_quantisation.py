"""benchmarks/dependent_quantisation.py (bench_lossy_variants.py's dependent quantiser): a decoder that follows the
trellis state rebuilds what the encoder chose, the trellis path beats each of its quantisers used alone, and the
rate-aware search trades error for bits by its own cost."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from dependent_quantisation import DQ_NEXT, RATE_SIZE, dq_levels, dq_quantise, dq_rates  # noqa: E402


def _decoded(k: np.ndarray) -> np.ndarray:
    """The values a decoder rebuilds from indices ``k`` alone: the state starts at 0 and steps by each parity."""
    state, out = 0, []
    for index in k.tolist():
        out.append(2 * index - (int(np.sign(index)) if state >> 1 else 0))
        state = DQ_NEXT[state][abs(index) % 2]
    return np.array(out)


def test_a_decoder_following_the_state_rebuilds_the_encoders_values():
    band = np.random.default_rng(5).normal(size=4000) * 9
    k, second = dq_quantise(band, 1.5)
    assert (_decoded(k) == dq_levels(k, second)).all()
    assert second[0] == 0  # the path starts in state 0, whose quantiser is Q0


def test_the_trellis_path_has_less_error_than_its_quantisers_alone():
    band = np.random.default_rng(6).normal(size=20_000) * 20
    k, second = dq_quantise(band, 1.0)
    trellis = np.mean((band - dq_levels(k, second)) ** 2)
    even = np.mean((band - 2 * np.rint(band / 2)) ** 2)  # Q0 alone: the even multiples, error 1/3
    assert trellis < 0.8 * even


def test_the_rate_aware_trellis_is_decodable_and_cheapest_by_its_own_cost():
    band = np.random.default_rng(7).laplace(size=6000) * 4
    plain, plain_second = dq_quantise(band, 1.0)
    rates = dq_rates(plain, plain_second)
    lam = 0.15
    k, second = dq_quantise(band, 1.0, lam, rates)
    assert (_decoded(k) == dq_levels(k, second)).all()

    def error(k: np.ndarray, second: np.ndarray) -> float:
        return float(np.sum((band - dq_levels(k, second)) ** 2))

    def bits(k: np.ndarray, second: np.ndarray) -> float:
        return float(rates[second.astype(int), np.minimum(np.abs(k), RATE_SIZE - 1)].sum())

    # the least-error path is one the search could take: the one it takes costs less, so fewer bits for more error
    assert error(k, second) + lam * bits(k, second) < error(plain, plain_second) + lam * bits(plain, plain_second)
    assert bits(k, second) < bits(plain, plain_second)
    assert error(k, second) > error(plain, plain_second)


def test_rate_tables_price_common_magnitudes_cheaper_and_signs_a_bit():
    k = np.array([0] * 90 + [1] * 8 + [-2] * 2)
    rates = dq_rates(k, np.zeros(len(k), dtype=bool))
    assert rates.shape == (2, RATE_SIZE)
    assert rates[0, 0] < rates[0, 1] < rates[0, 2] < rates[0, 3]
    assert rates[1, 0] == rates[1, 1] - 1  # no index under Q1: every magnitude equally likely, plus a sign bit
