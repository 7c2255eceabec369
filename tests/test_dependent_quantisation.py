"""benchmarks/dependent_quantisation.py (bench_lossy_variants.py's dependent quantiser): a decoder that follows the
trellis state rebuilds what the encoder chose, and the trellis path beats each of its quantisers used alone."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from dependent_quantisation import DQ_NEXT, dq_levels, dq_quantise  # noqa: E402


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
