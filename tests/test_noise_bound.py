"""benchmarks/noise_bound.py's measures: the Gaussian bound's reverse water-filling, the block variances, and the
dead-zone scalar quantiser on a unit Gaussian."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from noise_bound import (  # noqa: E402
    band_split,
    best_scalar_rate,
    block_variances,
    dead_zone_quantiser,
    water_filled_bits,
)


def test_one_variance_takes_half_the_log_of_its_ratio_to_the_error_per_coefficient():
    v = np.full(1000, 4.0)
    assert water_filled_bits(v, 1000 * 1.0) == pytest.approx(1000 * 0.5 * math.log2(4.0))
    assert water_filled_bits(v, 4000.0) == 0.0  # the error takes all of it: nothing to code
    assert water_filled_bits(v, 5000.0) == 0.0


def test_coefficients_below_the_water_level_give_all_theirs_and_cost_nothing():
    # 10 coefficients of variance 0.1 and 10 of 16: an error of 10 * 0.1 + 10 * 1 leaves theta = 1
    v = np.concatenate([np.full(10, 0.1), np.full(10, 16.0)])
    assert water_filled_bits(v, 11.0) == pytest.approx(10 * 0.5 * math.log2(16.0))
    # a tighter error puts theta under the small ones too: every coefficient gets the same share
    assert water_filled_bits(v, 20 * 0.05) == pytest.approx(10 * 0.5 * math.log2(0.1 / 0.05)
                                                            + 10 * 0.5 * math.log2(16.0 / 0.05))


def test_block_variances_are_each_blocks_mean_square_the_short_last_block_its_own():
    c = np.array([1.0, -1.0, 3.0, 3.0, 2.0])
    assert block_variances(c, 2).tolist() == [1.0, 1.0, 9.0, 9.0, 4.0]
    assert block_variances(c, 8).tolist() == pytest.approx([24 / 5] * 5)


def test_the_band_split_is_orthonormal_so_the_bands_share_the_error_exactly():
    x = np.random.default_rng(3).normal(size=1000)
    bands = band_split(x, 3)
    assert len(bands) == 4
    assert sum(float((b**2).sum()) for b in bands) == pytest.approx(float((x[:1000] ** 2).sum()))


def test_the_band_split_keeps_a_constant_in_the_approximation_and_a_nyquist_tone_in_the_finest_band():
    constant = band_split(np.full(64, 3.0), 2)  # the low-pass sums to sqrt(2): each level scales a constant so
    assert np.allclose(constant[0], 3.0 * 2.0) and all(np.allclose(d, 0.0) for d in constant[1:])
    nyquist = band_split(np.tile([1.0, -1.0], 32), 2)  # the high-pass passes it whole
    assert np.allclose(nyquist[0], 0.0) and np.allclose(nyquist[1], 0.0)
    assert float((nyquist[2] ** 2).sum()) == pytest.approx(64.0)


def test_a_dead_zone_quantiser_on_a_unit_gaussian():
    error, entropy = dead_zone_quantiser(1.0, 20.0)  # everything in the dead zone: all error, no bits
    assert error == pytest.approx(1.0)
    assert entropy == pytest.approx(0.0, abs=1e-9)
    # at a fine step the uniform quantiser's error is step^2 / 12 and its entropy h(X) - log2(step)
    step = 0.05
    error, entropy = dead_zone_quantiser(step, step / 2)
    assert error == pytest.approx(step**2 / 12, rel=0.01)
    assert entropy == pytest.approx(0.5 * math.log2(2 * math.pi * math.e) - math.log2(step), abs=0.01)


def test_the_scalar_quantisers_least_rate_lies_above_the_bound_by_at_most_a_quarter_bit_and_more():
    previous = math.inf
    for error in (0.1, 0.5, 0.9):
        bound = 0.5 * math.log2(1 / error)
        rate = best_scalar_rate(error, grid=12, rounds=3)
        assert bound < rate < bound + 0.3  # Gish and Pierce: 0.254 bit at high rate, less at low
        assert rate < previous
        previous = rate


def test_a_files_white_bands_are_its_noise_and_its_error_splits_exactly():
    from noise_bound import white_split

    import sancodec
    from sancodec.codec.beats import find_beats

    fs, n = 1000.0, 1 << 14
    rng = np.random.default_rng(5)
    t = np.arange(n)
    beats = np.arange(300, n - 300, 800)
    qrs = sum(np.exp(-0.5 * ((t - b) / 8.0) ** 2) for b in beats)
    x = np.rint(800 * qrs + 6 * rng.normal(size=n)).astype(np.int64)
    sig = sancodec.Signal(x[:, None], fs, ["ecg"], ["NU"])
    at = white_split(sig, 5.0, find_beats(x.astype(float), fs), None)
    assert at is not None
    # the beats' QRS (a Gaussian of 8 ms) has nothing above 62.5 Hz: the bands there are the noise, white
    assert at.names == ["d3", "d2", "d1"]
    assert all(0.95 < k <= 1.0 for k in at.kept)  # little of the noise is locked to the beats
    file = at.file
    decoded = sancodec.decode(file.data).samples[:, 0]
    m = len(file.error_bands[0]) * 2 ** (len(file.order) - 1)
    assert file.total_error() == pytest.approx(float(((x - decoded)[:m] ** 2).sum()))
    assert 0 < at.white_error() < file.total_error()
    assert at.white_bytes() == pytest.approx(sum(file.bands[i].bytes for i in at.white))
    assert len(at.variances(16)) == sum(len(at.signal_bands[i]) for i in at.white)


def test_sancodec_on_white_noise_meets_each_error_and_spends_more_than_the_bound():
    from noise_bound import QUANTISER_ERRORS, coder_rows

    rows = coder_rows(n=1 << 12)
    assert [float(r[0]) for r in rows] == list(QUANTISER_ERRORS[:3])
    for asked, reached, bits, bound, scalar, over_bound, _ in ([float(v) for v in r] for r in rows):
        assert 0.9 * asked <= reached <= asked * 1.0005  # the PRDN target met (the shares printed to 3 digits)
        assert bits > bound and bits > 0.9 * scalar  # no coder beats Shannon on a Gaussian
        assert over_bound == pytest.approx(bits / bound, abs=0.01)


def test_centroids_beat_any_other_reconstruction_of_the_same_bins():
    for offset in (0.3, 0.5, 0.7):
        assert dead_zone_quantiser(1.0, 0.7)[0] < dead_zone_quantiser(1.0, 0.7, offset)[0]
    assert dead_zone_quantiser(1.0, 0.7)[1] == dead_zone_quantiser(1.0, 0.7, 0.5)[1]  # the same bins, the same bits


def test_sancodecs_rounding_wants_a_wider_dead_zone_at_low_rates_and_never_beats_the_best_scalar_quantiser():
    from noise_bound import sancodec_quantiser_rate

    assert sancodec_quantiser_rate(0.5, 0.25) < sancodec_quantiser_rate(0.5, 0.4)  # low rate: a wide dead zone
    assert sancodec_quantiser_rate(0.05, 0.4) < sancodec_quantiser_rate(0.05, 0.2)  # high rate: a narrow one
    for error in (0.05, 0.5):
        for rounding in (0.2, 0.4):
            assert sancodec_quantiser_rate(error, rounding) > 0.999 * best_scalar_rate(error)


def test_the_order_0_count_of_the_dead_zone_per_band():
    from noise_bound import ROUNDINGS, bits_at_error, rounded, rounding_row

    rng = np.random.default_rng(7)
    c = rng.normal(size=20_000)
    error, bits = rounded([c], 1.0, [0.5])  # plain rounding to the nearest step, rebuilt at it
    assert error == pytest.approx(float(((c - np.round(c)) ** 2).sum()))
    _, counts = np.unique(np.round(c), return_counts=True)
    assert bits == pytest.approx(-float((counts * np.log2(counts / len(c))).sum()))
    # at half the variance in error a wider dead zone codes a Gaussian in fewer bits, as the rate table says
    assert bits_at_error([c], [0.25], 0.5 * len(c)) < bits_at_error([c], [0.4], 0.5 * len(c))
    x = np.rint(40 * rng.normal(size=4096))
    row = rounding_row(band_split(x - x.mean(), 3), 0.5**2 * float(((x - x.mean()) ** 2).sum()), 50.0)
    base, one, per_band = float(row[1]), float(row[3]), float(row[5])
    assert per_band <= one <= base and float(row[2]) in ROUNDINGS
    assert all(float(r) in ROUNDINGS for r in row[4].split())


def test_context_bits_is_the_conditional_entropy_plus_each_tables_price():
    from noise_bound import context_bits

    symbols = np.array([0, 0, 1, 1, 0, 2, 2, 2])
    contexts = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # context 0: two 0s and two 1s (4 bits, two counts priced at log2(4) / 2); context 1: one 0, three 2s
    expected = 4.0 + 0.5 * 2 * 2.0 + (-(math.log2(1 / 4) + 3 * math.log2(3 / 4))) + 0.5 * 2 * 2.0
    assert context_bits(symbols, contexts) == pytest.approx(expected)
    # a context per value: no entropy left, but eight one-count tables to pay for (half a bit each, the least price)
    assert context_bits(symbols, np.arange(8)) == pytest.approx(8 * 0.5)


def test_the_memory_measure_finds_nothing_in_white_noise_and_the_energy_of_bursts_and_parents():
    from noise_bound import context_bits, memory_contexts

    rng = np.random.default_rng(11)
    n = 40_000

    def sizes(k, parent):
        return {name: context_bits(np.minimum(k, 15), c) for name, c in memory_contexts(k, parent).items()}

    white = np.floor(np.abs(rng.normal(size=n)) + 0.4).astype(np.int64)
    white_parent = np.floor(np.abs(rng.normal(size=n // 2)) + 0.4).astype(np.int64)
    got = sizes(white, white_parent)
    assert set(got) == {"order 0", "previous value", "previous and parent", "local energy"}
    assert min(got.values()) > 0.99 * got["order 0"]  # memoryless: every context pays for its tables, gains nothing
    # bursts: runs of 64 values loud or quiet; the previous values' energy sees them, order 0 does not
    loud = np.repeat(rng.random(n // 64) < 0.2, 64)
    bursty = np.floor(np.abs(rng.normal(size=n)) * np.where(loud, 6.0, 0.3) + 0.4).astype(np.int64)
    got = sizes(bursty, None)
    assert "previous and parent" not in got  # no parent band: no parent context
    assert got["local energy"] < 0.8 * got["order 0"] and got["previous value"] < 0.9 * got["order 0"]
    # a band whose loudness follows its parent's, value by value at half the index
    scale = np.where(rng.random(n // 2) < 0.3, 5.0, 0.3)
    parent = np.floor(np.abs(rng.normal(size=n // 2)) * scale + 0.4).astype(np.int64)
    child = np.floor(np.abs(rng.normal(size=n)) * np.repeat(scale, 2) + 0.4).astype(np.int64)
    got = sizes(child, parent)
    assert got["previous and parent"] < 0.9 * got["previous value"]
