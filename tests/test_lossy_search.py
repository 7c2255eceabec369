"""The lossy encoder's shortcuts: the rate control's step search (codec.stepsearch: a bracket within
1 % around the crossing, in few measurements, whatever the measure does), the plain-or-template choice
by bit estimates, the tap-by-tap beat prediction and the dequantiser's fast path — each the same
result as the long way."""

from __future__ import annotations

import math

import numpy as np
import pytest
from common import spy_steps, wavelet_fields

from sancodec.codec import lossyrate, templatesearch, waveletframe
from sancodec.codec.beats import BeatTemplate
from sancodec.codec.stepsearch import MAX_MEASUREMENTS, SCAN_GIVE_UP, coarsest_step, find_step, first_within
from sancodec.san.placement import scatter_kernels

LO, HI = float(np.float32(1e-3)), float(np.float32(1e5))


def _counted(f):
    calls = []

    def measure(x: float) -> float:
        calls.append(x)
        return f(x)
    return measure, calls


@pytest.mark.parametrize("seed", range(20))
def test_a_power_law_crossing_is_bracketed_within_one_percent_in_a_few_measurements(seed):
    rng = np.random.default_rng(seed)
    gamma, scale, bound = rng.uniform(0.4, 2.5), 10 ** rng.uniform(-2, 2), 10 ** rng.uniform(-1, 1)
    measure, calls = _counted(lambda x: scale * x**gamma)
    root = (bound / scale) ** (1 / gamma)
    guess = root * 10 ** rng.uniform(-1, 1)  # a first guess up to 10x off
    lo, hi = find_step(measure, bound, LO, HI, guess)
    assert measure(lo) <= bound < measure(hi) and hi / lo < 1.01
    assert lo <= root <= hi
    assert len(calls) - 2 <= 7  # a bisection from this bracket needs 21


def test_a_falling_measure_keeps_the_within_bound_end_on_top():
    """Bytes fall as the step grows: ``hi`` is the finest step within the budget."""
    measure, _ = _counted(lambda x: 1e6 / (1 + x) ** 1.3)
    lo, hi = find_step(measure, 2000.0, LO, HI, 1.0, rising=False)
    assert measure(hi) <= 2000.0 < measure(lo) and hi / lo < 1.01


@pytest.mark.parametrize("values", ["staircase", "zero below", "infinite above", "flat"])
def test_awkward_measures_still_end_in_a_bracket(values):
    """A staircase (quantised sizes), zeros (an exact decode), infinities (a constant reference) or a
    flat measure defeat the secant: the search falls back to bisection and still closes."""
    f = {"staircase": lambda x: math.floor(math.log2(x) * 3) + 40.0,
         "zero below": lambda x: 0.0 if x < 3.7 else x,
         "infinite above": lambda x: math.inf if x > 3.7 else x,
         "flat": lambda x: 1.0}[values]
    measure, calls = _counted(f)
    lo, hi = find_step(measure, 5.0 if values != "staircase" else 44.5, LO, HI, 100.0)
    assert len(calls) <= MAX_MEASUREMENTS
    if values == "flat":  # always within the bound: the search climbs to the top of the bracket
        assert hi == HI and HI / lo < 1.01
    else:
        assert hi / lo < 1.01 and measure(lo) <= (5.0 if values != "staircase" else 44.5) < measure(hi)


def test_every_step_measured_is_a_float32_strictly_inside_the_bracket():
    measure, calls = _counted(lambda x: x**0.7)
    find_step(measure, 3.0, LO, HI, 1e9)
    assert all(LO < x < HI and float(np.float32(x)) == x for x in calls)


@pytest.mark.parametrize("seed", range(40))
def test_the_beat_prediction_adds_tap_by_tap_exactly_what_the_san_placement_rule_scatters(seed):
    """BeatTemplate.prediction takes one vectorised add per template sample when beats outnumber them:
    the same float64 values as ``scatter_kernels`` (integer sums, exact), beats at either edge included."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 40)), int(rng.integers(1, 300))
    positions = np.unique(rng.integers(0, n, int(rng.integers(0, 2 * m + 20))))
    t8, g64 = rng.integers(-2000, 2000, m), rng.integers(-700, 700, len(positions))
    anchor = int(rng.integers(0, m))
    expected = scatter_kernels((1, n), [t8], [np.zeros(len(positions), np.int64)],
                               [positions - anchor + (m - 1) // 2], [g64])[0] / 512.0
    np.testing.assert_array_equal(BeatTemplate(t8, anchor, positions, g64).prediction(n), expected)


def test_the_dequantiser_fast_path_gives_the_bits_of_the_general_formula():
    """ρ at the cell's centre: ``b * Δ`` is ``where(b == 0, 0, (b ± 0.0) * Δ)`` bit for bit."""
    from sancodec.codec.wavelet import band_lengths, inverse
    from sancodec.codec.waveletframe import RHO16, reconstruct

    rng = np.random.default_rng(3)
    q = [rng.integers(-50, 50, k) * rng.integers(0, 2, k) for k in band_lengths(130, 4)]
    q[-1][:6] = [2**52, -(2**52), 0, 1, -1, 0]
    for delta in (float(np.float32(0.37)), 1.0, float(np.float32(1e-3)), 12345.5):
        general = [np.where(b == 0, 0.0, (b + np.sign(b) * (RHO16 / 16 - 0.5)) * delta) for b in q]
        np.testing.assert_array_equal(reconstruct(q, delta, RHO16, 7), np.rint(inverse(general) + 7))


def test_plain_or_template_is_decided_by_bytes_where_the_estimates_are_close(monkeypatch):
    """Bit estimates decide only when more than 10 % apart; closer than that, both are coded."""

    class Fake:
        lengths = [1000]  # the samples it codes: how lossyrate.estimates sizes the work

        def __init__(self, estimate: float, size: int) -> None:
            self.e, self.size = estimate, size

        def estimate(self, step: float) -> float:
            return self.e

        def payloads(self, step: float) -> list[bytes]:
            return [bytes(self.size)]

    def coded(estimate: float, size: int) -> lossyrate.WaveletCoding:
        return lossyrate.WaveletCoding(Fake(estimate, size), 1.0, 1.0)

    a, b = coded(1000, 100), coded(1050, 90)  # close estimates: the real sizes decide (b is smaller)
    assert lossyrate.smaller(a, b) is b
    a, b = coded(1000, 100), coded(1200, 90)  # far apart: the estimate decides without coding
    assert lossyrate.smaller(a, b) is a
    assert lossyrate.smaller(coded(1000, 90), coded(1000, 90)).prepared.e == 1000  # a tie keeps the first


def test_the_secant_search_measures_far_fewer_steps_than_a_bisection(monkeypatch):
    """mitdb 100's first minute at PRDN 2 %: a handful of decoded measurements per rate control."""
    from pathlib import Path

    import sancodec
    from sancodec import read_signal
    from sancodec.codec import lossy
    from sancodec.metrics import prdn

    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 21600)
    calls = []
    original = lossyrate.Prepared.decoded
    monkeypatch.setattr(lossyrate.Prepared, "decoded", lambda self, d: calls.append(d) or original(self, d))
    back = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=2.0))
    assert all(1.9 <= prdn(sig.samples[:, ch], back.samples[:, ch]) <= 2.0 for ch in range(2))
    # 2 channels: plain and template searches, one at other wavelet levels and one for another quantiser
    # (a bisection takes ~12 each), one decode per gains' grid, and per quantiser one (and one to match)
    assert len(calls) <= 2 * (4 * 7 + 1 + len(templatesearch.GAIN_GRIDS) + 1 + len(lossy.QUANTISERS))


def test_channels_coded_on_several_threads_give_the_same_bytes():
    from pathlib import Path

    import sancodec
    from sancodec import read_signal

    sig = read_signal(Path(__file__).parent / "data" / "test01_00s")
    files = [sancodec.encode(sig, mode="lossy", prdn=3.0, threads=t) for t in (1, 2, 4)]
    assert files[0] == files[1] == files[2]


def test_long_channels_are_coded_one_at_a_time(monkeypatch):
    """Each lossy channel's rate control holds it whole: past LOSSY_PARALLEL_VALUES samples in flight the
    channels go one by one (on the calling thread), with the same bytes."""
    import threading
    from pathlib import Path

    import sancodec
    from sancodec import read_signal
    from sancodec.codec import lossyfile

    sig = read_signal(Path(__file__).parent / "data" / "test01_00s")
    together = sancodec.encode(sig, mode="lossy", prdn=3.0, threads=4)
    seen: list[str] = []
    original = lossyfile.encode_channel
    monkeypatch.setattr(lossyfile, "encode_channel",
                        lambda *args: seen.append(threading.current_thread().name) or original(*args))
    monkeypatch.setattr(lossyfile, "LOSSY_PARALLEL_VALUES", 2 * sig.n_samples)  # room for two channels at once
    assert sancodec.encode(sig, mode="lossy", prdn=3.0, threads=4) == together
    assert any(name.startswith("sancodec") for name in seen)
    seen.clear()
    monkeypatch.setattr(lossyfile, "LOSSY_PARALLEL_VALUES", sig.n_samples)  # one channel at a time
    assert sancodec.encode(sig, mode="lossy", prdn=3.0, threads=4) == together
    assert seen == [threading.current_thread().name] * sig.n_channels


def test_a_jagged_measure_is_scanned_past_its_first_crossing():
    """A PRDN that jumps about with the step (few coefficients left; mixedsignals at 1 %): the first
    crossing near 12 is not the coarsest step within the bound, 40-45 is (the scan passes steps up to 4.2 times
    the bound to get there, within SCAN_GIVE_UP); a measure that rises throughout costs no more measurements than
    find_step takes."""
    def jagged(x: float) -> float:
        if 40 <= x < 45:
            return 0.5
        return 0.08 * x * (1 + 0.3 * math.sin(40 * math.log(x))) if x < 40 else 9.0

    lo, hi = coarsest_step(jagged, 1.0, LO, HI, 1.0)
    assert jagged(lo) <= 1.0 < jagged(hi) and 40 <= lo < 45 and hi / lo < 1.01
    smooth, calls = _counted(lambda x: x**0.8)
    coarsest_step(smooth, 2.0, LO, HI, 1.0)
    again, calls_again = _counted(lambda x: x**0.8)
    find_step(again, 2.0, LO, HI, 1.0)
    assert len(calls) == len(calls_again)


@pytest.mark.parametrize("seed", range(12))
def test_the_scan_for_a_coarser_step_finds_the_first_within_on_two_threads_as_on_one(seed):
    """first_within (coarsest_step's scan): on two threads the same step as the first within the bound in order
    (each thread takes the next step not taken: none before it is skipped), the second thread measuring too; on
    one thread the steps in order up to that one and no more."""
    import threading

    from sancodec.codec import jobs

    rng = np.random.default_rng(seed)
    steps = [float(s) for s in np.sort(rng.uniform(1, 100, 25))]
    values = rng.uniform(0, 2, 25)
    beyond = int(rng.integers(0, 26))  # within the bound (1) nowhere before a random index, maybe nowhere, and
    values[:beyond] = rng.uniform(1.01, 4.99, beyond)  # never beyond SCAN_GIVE_UP times it (the test below)
    expected = next((s for s, v in zip(steps, values) if v <= 1.0), None)
    threads_seen, calls = set(), []
    stop = len(steps) if expected is None else steps.index(expected) + 1
    two = jobs._CORES > 1 and stop > 1  # a second step before the one found, for the second thread to take
    meet = threading.Barrier(2, timeout=5.0)

    def measure(x: float) -> float:
        name = threading.current_thread().name
        if two and name not in threads_seen:  # each thread's first step held until the other has taken one
            threads_seen.add(name)
            meet.wait()
        threads_seen.add(name)
        calls.append(x)
        return float(values[steps.index(x)])

    with jobs.piece_threads(2):
        assert first_within(measure, 1.0, steps, jobs.PIECE_VALUES) == expected
    assert set(steps[:stop]) <= set(calls)  # every step before the one found measured
    assert len(threads_seen) == 2 or not two
    calls.clear()
    two = False
    assert first_within(measure, 1.0, steps, jobs.PIECE_VALUES) == expected  # one thread
    assert calls == steps[:stop]


def test_the_scan_stops_past_a_step_far_beyond_the_bound():
    """first_within takes no step past the first that measures beyond SCAN_GIVE_UP times the bound (a PRDN that far
    past its bound does not come back under it a few steps coarser): the steps up to it measured, in order, and
    a step within the bound after it not looked for; one before it is still found."""
    steps = [float(s) for s in range(1, 26)]
    values = [1.5, 2.0, 4.9, 5.1, 4.0, 0.5, *[9.0] * 19]  # the bound 1: beyond 5 first at the fourth step
    measure, calls = _counted(lambda x: values[int(x) - 1])
    assert SCAN_GIVE_UP == 5.0
    assert first_within(measure, 1.0, steps) is None
    assert calls == steps[:4]
    values[2] = 0.9
    calls.clear()
    assert first_within(measure, 1.0, steps) == 3.0 and calls == steps[:3]


def test_a_cliff_is_bisected_not_crawled_along():
    """Past MAX_SLOPE the secant's slope is clamped, and along a cliff each measurement would move an end of the
    bracket by a sliver: once the bracket is closed where the slope measured passes STEEP_SLOPE, the search
    bisects. Power laws of slope 12 and 40 are bracketed within 1 % in a dozen measurements (the clamped secant
    alone used all 40 without closing the bracket); mixedsignals' PRDN at 2 %, slope 1 but for a cliff of slope
    8.5 across the bound (1.16 % at a step of 2050, 2.69 % at 2265), in 10 (it took 23); a smooth measure in as few
    as before."""
    def cliff(x: float) -> float:
        if x < 2050:
            return 1.16 * x / 2050
        return 1.16 * (x / 2050) ** 8.5 if x < 2265 else 2.69 * x / 2265

    for k, most in ((12, 12), (40, 12), (None, 10), (1.0, 4)):
        measure, calls = _counted(cliff if k is None else (lambda x, k=k: 2.0 * (x / 2150.0) ** k))
        lo, hi = find_step(measure, 2.0, LO, HI, 375.0)
        assert measure(lo) <= 2.0 < measure(hi) and hi / lo < 1.01
        assert len(calls) - 2 <= most, (k, len(calls))  # (the two checks above counted too)


def test_a_short_channel_takes_another_quantiser_where_it_codes_smaller(monkeypatch):
    """test01_00s's first lead at PRDN 9 %: a narrower dead zone with the reconstruction point moved
    (format 1.2's ρ) codes it smaller than the default quantiser, still within the target; without the
    alternatives the file is the default's."""
    from pathlib import Path

    import sancodec
    from sancodec import read_signal
    from sancodec.codec import adaptivebands, lossy
    from sancodec.metrics import prdn

    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)  # the bands coded with tables (1.8), where this was measured
    sig = read_signal(Path(__file__).parent / "data" / "test01_00s").select_channels([0])
    chosen = sancodec.encode(sig, mode="lossy", effort="best", prdn=9.0)
    assert [rho16 for _, rho16, _ in wavelet_fields(chosen)] != [waveletframe.RHO16]
    assert prdn(sig.samples[:, 0], sancodec.decode(chosen).samples[:, 0]) <= 9.0
    monkeypatch.setattr(lossy, "QUANTISERS", ())
    default = sancodec.encode(sig, mode="lossy", effort="best", prdn=9.0)
    assert [rho16 for _, rho16, _ in wavelet_fields(default)] == [waveletframe.RHO16] and len(chosen) < len(default)


def test_the_default_template_search_stops_on_a_head_where_no_template_may_pay(monkeypatch):
    from pathlib import Path

    from sancodec import read_signal

    data = Path(__file__).parent / "data"
    lengths: list[int] = []
    original = templatesearch.find_template
    monkeypatch.setattr(templatesearch, "find_template", lambda x, *a: lengths.append(len(x)) or original(x, *a))
    # EMG bursts: "beats" found, but the head's best template leaves its bands no cheaper: no window is made
    # on the whole channel, and no template comes back
    emg = read_signal(data / "emg_healthy").samples[:, 0]
    assert len(emg) >= templatesearch.HEAD_TEST
    assert templatesearch.best_template([emg], emg.astype(float), 4000.0, 50.0) == (
        None, math.inf, templatesearch.TEMPLATE_WINDOWS[0])
    assert lengths and set(lengths) == {templatesearch.QUICK_WINDOW_HEAD}
    # an ECG whose head's template helps: every window is weighed on the whole channel, as without the test
    lengths.clear()
    ecg = read_signal(data / "a103l_20000").samples[:, 0]
    ecg = np.concatenate([ecg, ecg])  # two copies: past HEAD_TEST
    assert len(ecg) >= templatesearch.HEAD_TEST
    prepared, bits, _ = templatesearch.best_template([ecg], ecg.astype(float), 250.0, 30.0)
    assert prepared is not None and math.isfinite(bits)
    windows = templatesearch.template_windows([templatesearch.find_beats(ecg, 250.0)], 250.0)
    assert lengths.count(len(ecg)) >= len(windows)


def test_a_coding_s_squared_error_is_remembered_per_step_for_one_reference(monkeypatch):
    """``lossyrate.squared_error`` decodes a coding once per step for the same ``ref`` object (a grid's search
    measures the coding it kept at the same step again), again for another ``ref``, and a copy under another
    quantiser or of fewer frames decodes for itself."""
    from sancodec.codec.lossyrate import Prepared, squared_error

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0, 5, 20000)).round()
    ref = x.astype(np.float64)
    prepared = Prepared([x[:8000], x[8000:]], [None, None])
    decodes = spy_steps(monkeypatch, Prepared, "decoded_error")
    error = squared_error(prepared, ref, 4.0)
    assert squared_error(prepared, ref, 4.0) == error and decodes == [4.0]
    assert squared_error(prepared, ref, 6.0) > error and decodes == [4.0, 6.0]
    assert squared_error(prepared, ref + 1.0, 4.0) != error and len(decodes) == 3  # another reference
    assert squared_error(prepared, ref, 4.0) == error and len(decodes) == 4  # the last reference only is kept
    other = prepared.with_quantiser(0.3, 7)
    assert squared_error(other, ref, 4.0) != error and len(decodes) == 5
    part = prepared.subset([1])
    assert squared_error(part, ref[8000:], 4.0) < error and len(decodes) == 6
