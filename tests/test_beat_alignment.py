"""The beat template's alignment (codec.beats.align): beats the detector marked a few samples off are
moved to where the template fits them, the template fitted again, and the lossy file gets smaller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import wavelet_predictors
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import read_signal
from sancodec.codec import beats, lossyrate, templatesearch
from sancodec.codec.beats import align, find_template
from sancodec.metrics import prdn

FS = 250.0
WINDOW = (0.2, 0.4)


def _beat_train(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A sharp synthetic QRS-like beat every ~0.8 s (with noise), and the true beat positions."""
    rng = np.random.default_rng(seed)
    t = np.arange(-50, 100)
    shape = 800 * np.exp(-0.5 * (t / 3.0) ** 2) - 200 * np.exp(-0.5 * ((t - 8) / 4.0) ** 2) \
        + 120 * np.exp(-0.5 * ((t - 60) / 12.0) ** 2)
    truth = np.cumsum(rng.integers(180, 220, 60)) + 100
    x = rng.normal(0, 3, truth[-1] + 200)
    for p in truth:
        x[p - 50 : p + 100] += shape * rng.uniform(0.9, 1.1)
    return np.rint(x).astype(np.int64), truth


@pytest.mark.parametrize("seed", range(4))
def test_jittered_beats_are_moved_back_onto_the_true_ones(seed):
    x, truth = _beat_train(seed)
    rng = np.random.default_rng(100 + seed)
    jittered = truth + rng.integers(-6, 7, len(truth))  # what a wandering detector might mark
    rough = find_template(x, FS, WINDOW, jittered)
    fitted = align(x, FS, WINDOW, rough)
    moved = fitted.positions - (np.median(fitted.positions - truth[: len(fitted.positions)]).astype(int))
    assert np.abs(moved - truth[: len(moved)]).max() <= 1  # a constant offset is the template's business
    residual = [x - t.prediction(len(x)) for t in (rough, fitted)]
    assert np.sum(residual[1].astype(float) ** 2) < 0.5 * np.sum(residual[0].astype(float) ** 2)


def test_beats_are_fitted_in_chunks_with_the_same_result(monkeypatch):
    x, truth = _beat_train(7)
    jittered = truth + np.random.default_rng(3).integers(-6, 7, len(truth))
    rough = find_template(x, FS, WINDOW, jittered)
    whole = align(x, FS, WINDOW, rough)
    monkeypatch.setattr(beats, "ALIGN_CHUNK", 5)  # memory bounded on long records: 1024 beats at a time
    chunked = align(x, FS, WINDOW, rough)
    np.testing.assert_array_equal(whole.positions, chunked.positions)
    np.testing.assert_array_equal(whole.t8, chunked.t8)


@pytest.mark.parametrize("offset", [0.0, 3e6])
def test_each_beat_moves_where_the_direct_least_squares_fit_is_best(offset):
    # the running sums give each candidate window's residual as fitting it directly does, a large offset too
    x, truth = _beat_train(5)
    v = x.astype(np.float64) + offset
    rng = np.random.default_rng(9)
    positions = truth + rng.integers(-6, 7, len(truth))
    qrs = np.exp(-0.5 * (np.arange(-20, 20) / 3.0) ** 2) * 8
    qrs -= qrs.mean()
    offsets, shift = np.arange(-20, 20), 10
    windows = v[positions[:, None, None] + np.arange(-shift, shift + 1)[None, :, None] + offsets[None, None, :]]
    windows -= windows.mean(axis=2, keepdims=True)
    residual = windows - (windows @ qrs / (qrs @ qrs))[..., None] * qrs
    direct = positions + np.argmin(np.square(residual).sum(axis=2), axis=1) - shift
    np.testing.assert_array_equal(beats._best_shift(v, positions, offsets, qrs, shift, len(v)), direct)


def test_a_flat_template_is_left_as_it_is():
    x, truth = _beat_train(1)
    rough = find_template(x, FS, WINDOW, truth)
    flat = beats.BeatTemplate(np.zeros_like(rough.t8), rough.anchor, rough.positions, rough.g64)
    assert align(x, FS, WINDOW, flat) is flat


def test_alignment_makes_the_lossy_file_smaller_where_the_detector_wanders(monkeypatch):
    """mitdb 100's first 30 000 samples at PRDN 9 %: same target met, fewer bytes than with the beats
    where the detector put them."""
    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 30000)
    aligned = sancodec.encode(sig, mode="lossy", effort="best", prdn=9.0)
    for ch in range(2):
        assert prdn(sig.samples[:, ch], sancodec.decode(aligned).samples[:, ch]) <= 9.0
    monkeypatch.setattr("sancodec.codec.templatesearch.align", lambda x, fs, window, template: template)
    assert len(aligned) < len(sancodec.encode(sig, mode="lossy", effort="best", prdn=9.0))


def _t_wave_train(seed: int, t_height: float, early: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A beat every ~0.74 s at 1 kHz whose T wave, 0.35 s after the QRS, is ``t_height`` of the QRS's
    slope energy: a detector spacing marks 0.3 s apart takes such a T wave for a beat. ``early``: that
    beat comes at 0.7 of the interval after the one before it (a premature beat; the next one keeps its
    place, the compensatory pause)."""
    rng = np.random.default_rng(seed)
    t = np.arange(-100, 500)
    qrs = 1000 * np.exp(-0.5 * (t / 8.0) ** 2)
    t_wave = t_height * 1000 * np.exp(-0.5 * ((t - 350) / 8.0) ** 2)
    truth = np.cumsum(rng.integers(720, 760, 50)) + 200
    if early is not None:
        truth[early] = truth[early - 1] + int(0.7 * (truth[early] - truth[early - 1]))
    x = rng.normal(0, 2, truth[-1] + 600)
    for p in truth:
        x[p - 100 : p + 500] += qrs + t_wave
    return np.rint(x).astype(np.int64), truth


@pytest.mark.parametrize("seed", range(3))
def test_a_t_wave_as_steep_as_the_qrs_is_not_a_second_beat(seed):
    x, truth = _t_wave_train(seed, 0.8)
    found = beats.find_beats(x, 1000.0)
    assert len(found) == len(truth)
    assert np.abs(found - truth).max() <= 10  # the QRS, not the T wave 350 samples later


def test_the_beat_period_is_the_repetition_not_its_multiple():
    x, truth = _t_wave_train(0, 0.8)
    d = np.abs(np.diff(x.astype(np.float64), prepend=float(x[0])))
    period = beats.beat_period(np.convolve(d, np.ones(40) / 40, mode="same"), 1000.0)
    assert period is not None and abs(period - np.median(np.diff(truth))) <= 15
    assert beats.beat_period(np.zeros(5000), 1000.0) is None  # nothing repeats
    assert beats.beat_period(np.ones(100), 1000.0) is None  # shorter than two periods


@pytest.mark.parametrize("seed", range(3))
def test_the_beat_period_from_lagged_products_is_the_fft_s(seed, monkeypatch):
    # a sparse envelope's autocorrelation from its lagged products (beats.DIRECT_LAGS) is the FFT's, to rounding,
    # and gives the same period; a dense one takes the FFT (the envelopes every 10th value, as find_beats sees them)
    x, truth = _t_wave_train(seed, 0.8)
    d = np.abs(np.diff(x.astype(np.float64), prepend=float(x[0])))
    envelope = np.convolve(d, np.ones(40) / 40, mode="same")[::10]
    sparse = np.where(envelope > 0.25 * np.percentile(envelope, 99), envelope, 0.0).astype(np.float32)
    lo, hi, n = 30, 200, len(sparse)
    e = sparse.astype(np.float64) - float(sparse.mean())
    size = 1 << (n + hi).bit_length()
    spectrum = np.fft.rfft(e, size)
    by_fft = np.fft.irfft(spectrum * np.conj(spectrum), size)[lo : hi + 1]
    direct = beats._lagged_covariances(sparse.astype(np.float64), float(sparse.mean()), lo, hi)
    assert np.allclose(direct, by_fft, rtol=0, atol=1e-9 * float(np.abs(by_fft).max()))
    assert np.count_nonzero(sparse) * (hi - lo + 1) <= beats.DIRECT_LAGS * size * np.log2(size)  # takes the sums
    period = beats.beat_period(sparse, 100.0)
    assert period is not None and abs(10 * period - np.median(np.diff(truth))) <= 15
    monkeypatch.setattr(beats, "DIRECT_LAGS", 0.0)  # the FFT for every envelope
    assert beats.beat_period(sparse, 100.0) == period
    calls = []
    monkeypatch.setattr(beats.kernels, "lagged_products", lambda *a: calls.append(a))
    monkeypatch.setattr(beats, "DIRECT_LAGS", 5.0)
    assert beats.beat_period(envelope, 100.0) == period and not calls  # dense: through the FFT


@pytest.mark.parametrize("t_height", [0.0, 0.8])
def test_a_premature_beat_is_kept(t_height):
    """The period check only rules out marks closer than 0.6 of the period: a premature beat at 0.7 of
    it stays a beat."""
    x, truth = _t_wave_train(1, t_height, early=20)
    found = beats.find_beats(x, 1000.0)
    assert len(found) == len(truth) and np.abs(found - truth).max() <= 10


def test_gains_on_a_coarser_grid():
    x, truth = _beat_train(0)
    t = find_template(x, FS, WINDOW, truth)
    assert len(np.unique(t.g64)) > 3  # the fitted gains differ beat by beat
    for grid in (4, 16):
        coarse = t.with_gains_on(grid)
        assert np.all(coarse.g64 % grid == 0) and np.abs(coarse.g64 - t.g64).max() <= grid // 2
        assert np.array_equal(coarse.t8, t.t8) and np.array_equal(coarse.positions, t.positions)
    assert np.all(t.with_gains_on(0).g64 == 64)


def test_coarser_gains_make_the_lossy_file_smaller_at_a_loose_target(monkeypatch):
    """mitdb 100's first 30 000 samples at PRDN 9 %: the gains' grid the encoder picks meets the same
    target in fewer bytes than the fitted 1/64 gains; at PRDN 1 % it costs nothing either."""
    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 30000)
    for target in (9.0, 1.0):
        chosen = sancodec.encode(sig, mode="lossy", prdn=target)
        for ch in range(2):
            assert prdn(sig.samples[:, ch], sancodec.decode(chosen).samples[:, ch]) <= target
        with monkeypatch.context() as m:
            m.setattr("sancodec.codec.templatesearch.GAIN_GRIDS", ())
            fine = sancodec.encode(sig, mode="lossy", prdn=target)
        assert len(chosen) < len(fine) if target == 9.0 else len(chosen) <= len(fine)


def test_taps_on_a_coarser_grid():
    x, truth = _beat_train(0)
    t = find_template(x, FS, WINDOW, truth)
    for shift in (2, 5):
        coarse = t.with_taps_on(shift)
        assert coarse.shift == shift and np.all(coarse.t8 % (1 << shift) == 0)
        assert np.abs(coarse.t8 - t.t8).max() <= 1 << (shift - 1)
        assert np.array_equal(coarse.g64, t.g64) and np.array_equal(coarse.positions, t.positions)
    assert t.with_taps_on(40) is t  # every tap would round to 0: the template stays as it was


def test_coarser_taps_make_the_lossy_file_smaller_at_a_loose_target(monkeypatch):
    """mitdb 100's first 30 000 samples at PRDN 9 %: taps on the grid the encoder picks (format 1.7,
    predictor bit 3) meet the target in fewer bytes than taps on the 1/8 grid."""
    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 30000)
    chosen = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert any(bits & 8 for bits in wavelet_predictors(chosen))
    for ch in range(2):
        assert prdn(sig.samples[:, ch], sancodec.decode(chosen).samples[:, ch]) <= 9.0
    monkeypatch.setattr(templatesearch, "coarser_taps", lambda frames, ref, kept, bits, step: (kept, bits))
    fine = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert not any(bits & 8 for bits in wavelet_predictors(fine)) and len(chosen) < len(fine)


def test_an_exact_decode_leaves_the_gains_and_taps_as_they_are():
    """At a step so fine that the channel decodes exactly there is no error for a coarser grid to match:
    the template is kept as fitted, without a division by a zero error (found by a random-signal check)."""
    import warnings


    x, truth = _beat_train(0)
    prepared = lossyrate.Prepared([x], [find_template(x, FS, WINDOW, truth)])
    ref = x.astype(np.float64)
    assert lossyrate.squared_error(prepared, ref, 1e-3) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a division by zero would warn
        assert templatesearch.coarser_gains([x], ref, prepared, 1.0, 1e-3) == (prepared, 1.0)  # gains: all the bits
        assert templatesearch.coarser_taps([x], ref, prepared, 1.0, 1e-3) == (prepared, 1.0)


def test_windows_longer_than_the_beat_are_also_tried_cut_to_it():

    fast = [np.arange(0, 20000, 117)]  # a103l: 128 beats per minute at 250 Hz, every window longer than a beat
    windows = templatesearch.template_windows(fast, 250.0)
    fit = templatesearch.PERIOD_SHARE * 117 / 250
    every = templatesearch.TEMPLATE_WINDOWS
    cut = windows[len(every):]
    assert windows[: len(every)] == every and cut
    least = templatesearch.MIN_AFTER
    assert all(before + after == pytest.approx(fit, abs=1e-3) and after >= least for before, after in cut)
    assert templatesearch.template_windows([np.arange(0, 20000, 288)], 360.0) == every  # 75 per minute: one fits
    assert templatesearch.template_windows([], 360.0) == every


def test_a_window_cut_to_a_fast_beat_makes_the_lossy_file_smaller(monkeypatch):
    """a103l's ECG II (first 20 000 samples) at PRDN 5 %: a template cut to its 0.47-s beat codes smaller than
    any of the standard windows, each longer than the beat."""

    sig = read_signal(Path(__file__).parent / "data" / "a103l_20000").select_channels([0])
    cut = sancodec.encode(sig, mode="lossy", prdn=5.0)
    assert prdn(sig.samples[:, 0], sancodec.decode(cut).samples[:, 0]) <= 5.0
    monkeypatch.setattr(templatesearch, "template_windows", lambda beats, fs: templatesearch.TEMPLATE_WINDOWS)
    assert len(cut) < len(sancodec.encode(sig, mode="lossy", prdn=5.0))


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from([0.0, 1.0, 37.3, 50.0, 99.0, 99.9, 100.0]))
@settings(max_examples=300, deadline=None)
def test_the_percentile_is_numpys_to_the_bit(values, q):
    """The beat detector's threshold (one partition, not numpy's four) is ``np.percentile``'s, ties included."""
    v = np.array(values)
    assert beats.percentile(v, q) == np.percentile(v, q)
    assert beats.percentile(np.repeat(v, 3), q) == np.percentile(np.repeat(v, 3), q)


@given(st.lists(st.floats(0.0, 1e38), min_size=0, max_size=300), st.floats(0.0, 1e38))
@settings(max_examples=300, deadline=None)
def test_the_envelope_kept_above_its_threshold_is_where_s_to_the_bit(values, threshold):
    """``beats.kept_above`` (one float32 product) is ``np.where(e > t, e, 0).astype(np.float32)`` on an envelope
    within float32's range (a channel's samples are within 2^53), values equal to the threshold dropped, bit for
    bit."""
    e = np.array(values + [threshold], dtype=np.float64)
    expected = np.where(e > threshold, e, 0.0).astype(np.float32)
    got = beats.kept_above(e, threshold)
    assert got.dtype == np.float32 and got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("kind", ["laplace", "few", "ascending", "descending", "hidden", "sampled", "constant"])
@pytest.mark.parametrize("q", [90.0, 99.0, 99.9, 99.99])
@pytest.mark.parametrize("n", [4095, 4096, 50_001, 300_000])
def test_the_percentile_of_a_long_envelope_is_numpys_to_the_bit(kind, q, n):
    """A long array's percentile is selected among the values above a threshold from a sample of it
    (``_top_values``): the same value, where the sample is representative, blind to the largest values (they lie
    where it never looks: the cut keeps more), misleading (large values just where it looks: the cut keeps too few,
    and every value is selected among) or all ties."""
    rng = np.random.default_rng(n)
    v = {"laplace": lambda: np.abs(rng.laplace(size=n)) * 1e3,
         "few": lambda: rng.integers(0, 4, n).astype(np.float64),
         "ascending": lambda: np.sort(rng.normal(size=n)),
         "descending": lambda: np.sort(rng.normal(size=n))[::-1].copy(),
         "hidden": lambda: np.where(np.arange(n) % beats.TOP_SAMPLE == 1, 1e6 + np.arange(n), rng.normal(size=n)),
         "sampled": lambda: np.where(np.arange(n) % beats.TOP_SAMPLE == 0, 1e6 - np.arange(n), rng.normal(size=n)),
         "constant": lambda: np.full(n, 2.5)}[kind]()
    assert beats.percentile(v, q) == np.percentile(v, q)


def test_the_percentile_cut_keeps_few_values_or_none():
    # the cut is what makes a long channel's percentile cheap: about twice the values above it, and None (every value
    # selected among) where the sample overrates the largest ones
    v = np.abs(np.random.default_rng(1).laplace(size=200_000))
    top = beats._top_values(v, 2000)
    assert top is not None and 2000 < len(top) < 8000
    sampled = np.where(np.arange(200_000) % beats.TOP_SAMPLE == 0, 1e6, v)
    assert beats._top_values(sampled, 4000) is None
    assert beats._top_values(v[:1000], 10) is None


def test_a_templates_side_information_is_made_once_and_follows_its_fields():
    """``write`` gives the same bytes each time (made once), and a template with other gains or taps its own."""
    from sancodec.codec.entropy import ByteWriter

    x, truth = _beat_train(1)
    t = find_template(x, FS, WINDOW, truth)

    def written(template: beats.BeatTemplate) -> tuple[bytes, bool]:
        w = ByteWriter()
        second = template.write(w)
        return w.getvalue(), second

    first = written(t)
    assert written(t) == first
    for other in (t.with_gains_on(0), t.with_taps_on(2)):
        fresh = beats.BeatTemplate(other.t8.copy(), other.anchor, other.positions.copy(), other.g64.copy(),
                                   other.shift)
        assert written(other) == written(fresh) != first


def test_a_short_channel_keeps_its_prediction_and_decodes_the_same(monkeypatch):
    """Up to ``KEPT_PREDICTION`` samples the beat prediction is made once (read-only), past it again per
    measurement: the decoded channel and the bit estimate do not change."""
    x, truth = _beat_train(2)
    t = find_template(x, FS, WINDOW, truth)
    kept = lossyrate.Prepared([x], [t])
    assert kept.prediction(0) is kept.prediction(0) and not kept.prediction(0).flags.writeable
    assert kept.subset([0]).prediction(0) is kept.prediction(0)
    monkeypatch.setattr(lossyrate, "KEPT_PREDICTION", len(x) - 1)
    made = lossyrate.Prepared([x], [t])
    assert made.prediction(0) is not made.prediction(0)
    for step in (0.7, 3.0, 20.0):
        assert np.array_equal(kept.decoded(step), made.decoded(step))
        assert kept.estimate(step) == made.estimate(step)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.integers(1, 40), st.lists(st.integers(-60, 340), max_size=30), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_beat_windows_are_the_clipped_rows(n, width, starts, inside, seed):
    """``beats._rows``: each start's ``width`` values, the end values repeated past either end, as the index
    matrix gives them (from a sliding view where every row lies inside), and a copy the caller may change."""
    from sancodec.codec.beats import _rows

    v = np.random.default_rng(seed).normal(size=n)
    if inside:  # every row inside v: the sliding view's path
        starts = [s % max(n - width + 1, 1) for s in starts]
    s = np.array(sorted(starts), dtype=np.int64)
    rows = _rows(v, s, width)
    assert np.array_equal(rows, v[np.clip(s[:, None] + np.arange(width)[None, :], 0, n - 1)])
    assert rows.flags.writeable and not np.shares_memory(rows, v)


def test_a_channel_converted_once_to_floats_gives_the_same_beats_and_templates_and_stays_as_it_was():
    # the template search converts a channel to float64 once and hands that array to the detector, the template
    # and the alignment, which no longer copy it: they must read it only, and find what they find on the integers
    x, _ = _beat_train(5)
    floats = x.astype(np.float64)
    kept = floats.copy()
    marked = beats.find_beats(x, FS)
    assert np.array_equal(beats.find_beats(floats, FS), marked)
    template = find_template(x, FS, WINDOW, marked)
    again = find_template(floats, FS, WINDOW, marked)
    assert template is not None and again is not None
    assert np.array_equal(again.t8, template.t8) and np.array_equal(again.g64, template.g64)
    moved = beats.moved_beats(floats, FS, template)
    assert moved is not None and np.array_equal(moved, beats.moved_beats(x, FS, template))
    aligned = align(floats, FS, WINDOW, template)
    assert np.array_equal(aligned.positions, align(x, FS, WINDOW, template).positions)
    assert floats.tobytes() == kept.tobytes()


@pytest.mark.parametrize("values", [[], [7], [3, 5, 5, 12], [-(2**40), 2**40, 0]])
def test_a_template_s_differences_are_numpy_s(values):
    a = np.array(values, dtype=np.int64)
    assert np.array_equal(beats._differences(a), np.diff(a, prepend=0))
    assert beats._differences(a).dtype == np.int64
