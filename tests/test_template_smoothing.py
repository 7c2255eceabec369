"""The beat template made again (beats.remade_template, templatesearch.remade_templates): a template of a few dozen
noisy beats keeps part of their noise, which the prediction adds back to every beat; the encoder weighs the
template low-passed, or as the beats' median instead of their trimmed mean, and keeps what the bit estimate
prefers. And the trimmed mean itself (beats.trimmed_means)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import read_signal
from sancodec.codec import beats, lossy, lossyrate, templatesearch
from sancodec.codec.beats import TEMPLATE_TRIM, find_template, remade_template, trimmed_means
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"
FS = 1000.0
WINDOW = (0.25, 0.45)


def _noisy_beats(seed: int = 0, noise: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth beat (QRS and T wave, nothing above about 60 Hz) every ~0.8 s at 1000 Hz in white noise, as PTB's
    lead i carries it: the samples, the true beat positions and the beat's shape over :data:`WINDOW`."""
    rng = np.random.default_rng(seed)
    t = np.arange(-250, 450)
    shape = 900 * np.exp(-0.5 * (t / 8.0) ** 2) - 150 * np.exp(-0.5 * ((t - 25) / 10.0) ** 2) \
        + 200 * np.exp(-0.5 * ((t - 280) / 45.0) ** 2)
    truth = np.cumsum(rng.integers(760, 840, 55)) + 300
    x = rng.normal(0, noise, truth[-1] + 500)
    for p in truth:
        x[p - 250 : p + 450] += shape
    return np.rint(x).astype(np.int64), truth, shape


def test_the_low_passed_template_is_nearer_the_beat_and_keeps_its_beats():
    x, truth, shape = _noisy_beats()
    raw = find_template(x, FS, WINDOW, truth)
    smooth = remade_template(x, FS, raw, 150.0)
    assert smooth is not None
    assert np.array_equal(smooth.positions, raw.positions) and smooth.anchor == raw.anchor
    assert len(smooth.t8) == len(raw.t8) and len(smooth.g64) == len(raw.g64)

    def miss(template):  # against the true shape (its level aside: each window is taken less its median)
        return np.std(template.t8 / 8 - shape)

    assert miss(smooth) < 0.6 * miss(raw)
    high = lambda t: np.abs(np.diff(t.t8)).mean()  # noqa: E731 (the taps' differences: side information)
    assert high(smooth) < 0.6 * high(raw)
    assert np.abs(smooth.g64 - 64).max() <= 4  # the gains refitted to the smoothed beat: every beat alike


@pytest.mark.parametrize("cutoff", [500.0, 800.0, 0.0, -1.0])
def test_no_cutoff_at_or_above_the_nyquist_frequency_or_at_zero(cutoff):
    x, truth, _ = _noisy_beats()
    template = find_template(x, FS, WINDOW, truth)
    assert remade_template(x, FS, template, cutoff) is None
    assert remade_template(x, FS, template) is None  # nothing asked


def test_the_template_is_the_beats_interquartile_mean_and_remade_as_their_median():
    x, truth, _ = _noisy_beats(3)
    template = find_template(x, FS, WINDOW, truth)
    before, width = int(WINDOW[0] * FS), len(template.t8)
    windows = np.array([x[p - before : p - before + width] for p in template.positions], dtype=np.float64)
    windows -= np.median(windows, axis=1)[:, None]
    k = int(TEMPLATE_TRIM * len(windows))
    middle = np.sort(windows, axis=0)[k : len(windows) - k]
    assert np.array_equal(template.t8, np.rint(middle.mean(axis=0) * 8).astype(np.int64))
    median = remade_template(x, FS, template, median=True)
    assert np.array_equal(median.t8, np.rint(np.median(windows, axis=0) * 8).astype(np.int64))
    assert np.array_equal(median.positions, template.positions)


def test_trimmed_means_are_the_sorted_middle_s_mean_and_the_median_where_none_is_trimmed():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 5))
    assert np.array_equal(trimmed_means(a, 0.25), np.median(a, axis=0))  # 3 rows: a quarter trims none
    b = rng.normal(size=(40, 6))
    np.testing.assert_allclose(trimmed_means(b, 0.25), np.sort(b, axis=0)[10:30].mean(axis=0), rtol=1e-12)


def test_the_encoder_keeps_the_smoothed_template_where_it_codes_in_fewer_bits(monkeypatch):
    x, truth, _ = _noisy_beats(1)
    raw = find_template(x, FS, WINDOW, truth)
    prepared = lossyrate.Prepared([x], [raw])
    ref = x.astype(np.float64)
    step = 20.0
    bits = prepared.estimate(step)
    chosen, chosen_bits = templatesearch.remade_templates([x], [ref], ref, prepared, bits, step, FS)
    assert chosen_bits < bits and chosen is not prepared
    assert not np.array_equal(chosen.templates[0].t8, raw.t8)
    # with nothing to weigh the template stays as it was
    monkeypatch.setattr(templatesearch, "REMADE", ())
    assert templatesearch.remade_templates([x], [ref], ref, prepared, bits, step, FS) == (prepared, bits)


def test_an_exact_decode_or_no_template_leaves_it_as_it_is():
    x, truth, _ = _noisy_beats()
    ref = x.astype(np.float64)
    prepared = lossyrate.Prepared([x], [find_template(x, FS, WINDOW, truth)])
    assert lossyrate.squared_error(prepared, ref, 1e-3) == 0
    assert templatesearch.remade_templates([x], [ref], ref, prepared, 1.0, 1e-3, FS) == (prepared, 1.0)
    plain = lossyrate.Prepared([x], [None])
    assert templatesearch.remade_templates([x], [ref], ref, plain, 1.0, 20.0, FS) == (plain, 1.0)


def test_ptb_s0010_re_codes_smaller_with_its_beats_trimmed_mean_and_the_template_remade(monkeypatch):
    """PTB s0010_re's lead i (1000 Hz, a record issue 13's goal was missed on) at PRDN 2 %, scalar-quantised as the
    bit estimate that weighs the templates judges it: 1.7 % fewer bytes than with the beats' median and no template
    remade, and fewer than with the trimmed mean alone. (Quantised dependently afterwards, format 1.12, the remade
    template's file came out 8 bytes larger than the trimmed mean's: the estimate does not see the trellis.)"""
    monkeypatch.setattr(lossy, "DEPENDENT_CODING", False)
    sig = read_signal(DATA / "s0010_re_i")
    chosen = sancodec.encode(sig, mode="lossy", effort="best", prdn=2.0)
    assert prdn(sig.samples[:, 0], sancodec.decode(chosen).samples[:, 0]) <= 2.0
    monkeypatch.setattr(templatesearch, "REMADE", ())
    trimmed = sancodec.encode(sig, mode="lossy", effort="best", prdn=2.0)
    monkeypatch.setattr(beats, "TEMPLATE_TRIM", 0.0)  # the median (trimmed_means trims nothing)
    median = sancodec.encode(sig, mode="lossy", effort="best", prdn=2.0)
    assert len(chosen) < len(trimmed) < 0.99 * len(median)


@pytest.mark.parametrize(("long_bits", "longer"), [(1005.0, True), (1009.9, True), (1011.0, False), (990.0, True)])
def test_the_head_prefers_the_longer_window_within_a_margin(monkeypatch, long_bits, longer):
    """Effort balanced's window on a channel's head (``_head_window``): the longest whose bit estimate is within
    ``LONGER_MARGIN`` (1 %) of the fewest: a short window that leaves the T wave out costs little on the head and much
    over the record at a coarse step (drive17a at PRDN 9 %: 30 % more bytes)."""
    x, truth, _ = _noisy_beats(4)
    head = x[: 1 << 14]
    windows = [(0.15, 0.35), (0.3, 0.5)]

    def estimate(self, step):
        return 1000.0 if len(self.templates[0].t8) == 500 else long_bits

    monkeypatch.setattr(lossyrate.Prepared, "estimate", estimate)
    chosen = templatesearch._head_window(head, truth, FS, windows, 20.0)
    assert chosen.window == (windows[1] if longer else windows[0])
    assert chosen.bits == (long_bits if longer else 1000.0)


def test_a_cutoff_at_or_above_nyquist_is_no_way_and_makes_no_windows(monkeypatch):
    """``remade_templates(..., ways)``: a low-pass at or above the Nyquist frequency remakes nothing, so with it alone
    the template stays as it was and its beats' windows are not even cut; a way that applies is weighed."""
    x, truth, _ = _noisy_beats(1)
    raw = find_template(x, FS, WINDOW, truth)
    prepared = lossyrate.Prepared([x], [raw])
    ref = x.astype(np.float64)
    bits = prepared.estimate(20.0)
    cut: list[int] = []
    original = templatesearch.windows_of
    monkeypatch.setattr(templatesearch, "windows_of", lambda *a: cut.append(1) or original(*a))
    assert templatesearch.remade_templates([x], [ref], ref, prepared, bits, 20.0, FS, ((FS / 2, False),)) == \
        (prepared, bits)
    assert not cut
    chosen, chosen_bits = templatesearch.remade_templates([x], [ref], ref, prepared, bits, 20.0, FS,
                                                          ((FS / 8, False),))
    assert cut and chosen_bits < bits and chosen is not prepared


def test_balanced_remakes_a_short_strips_template_low_passed(monkeypatch):
    """``lossy.SHORT_REMADE``: effort "balanced" weighs a whole short channel's template remade low-passed, as the
    default's search does: PTB s0010_re's lead i at PRDN 2 % keeps it (its taps smoother, fewer bytes of side
    information) and codes at least 0.5 % smaller than without it, the target met."""
    sig = read_signal(DATA / "s0010_re_i")
    remade: list[tuple] = []
    original = lossy.remade_templates
    monkeypatch.setattr(lossy, "remade_templates", lambda *a, **k: remade.append(a[-1]) or original(*a, **k))
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert remade == [lossy.SHORT_REMADE]
    assert prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0]) <= 2.0
    monkeypatch.setattr(lossy, "SHORT_REMADE", ())
    assert len(data) < 0.995 * len(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced"))
