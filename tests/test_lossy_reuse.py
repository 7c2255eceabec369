"""The lossy encoder makes no frame's bands and decodes none at a step twice where it has them: a second rate control
of the same bands (a sparse channel's scan after its plain coding's) takes the decodes the first made, a gain grid
that changes no gain is not weighed again, and taps already on a grid keep their frame's bands. Each gives the file
it gave before (``benchmarks/lossy_sizes.py --compare``: every bench_lossy file byte for byte)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pytest

import sancodec
from sancodec import Signal
from sancodec.codec import lossy, lossyrate, templatesearch
from sancodec.codec.beats import find_template
from sancodec.codec.lossy import LossyTarget

FS = 250.0
WINDOW = (0.2, 0.4)


def _beat_train(seed: int, beats: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A QRS-like beat every ~0.8 s with noise and gains that vary, and the beats' positions."""
    rng = np.random.default_rng(seed)
    t = np.arange(-50, 100)
    shape = 800 * np.exp(-0.5 * (t / 3.0) ** 2) - 200 * np.exp(-0.5 * ((t - 8) / 4.0) ** 2) \
        + 120 * np.exp(-0.5 * ((t - 60) / 12.0) ** 2)
    truth = np.cumsum(rng.integers(180, 220, beats)) + 100
    x = rng.normal(0, 3, truth[-1] + 200)
    for p in truth:
        x[p - 50 : p + 100] += shape * rng.uniform(0.8, 1.2)
    return np.rint(x).astype(np.int64), truth


def _counted_decodes(monkeypatch) -> list[tuple[int, float]]:
    """Each decode's (bands, step), as ``Prepared.decoded_error`` is called."""
    calls: list[tuple[int, float]] = []
    real = lossyrate.Prepared.decoded_error

    def counted(self, delta, ref):
        calls.append((id(self.flat[0]), delta))
        return real(self, delta, ref)

    monkeypatch.setattr(lossyrate.Prepared, "decoded_error", counted)
    return calls


@pytest.mark.parametrize("prdn", [1.0, 5.0])
def test_a_second_rate_control_of_the_same_bands_decodes_no_step_again(prdn, monkeypatch):
    x, _ = _beat_train(1)
    ref, target = x.astype(np.float64), LossyTarget(prdn=prdn)
    fresh = [lossyrate.rate_control(lossyrate.Prepared([x], [None], quick=True), ref, target, scan=False,
                                    modelled=True),
             lossyrate.rate_control(lossyrate.Prepared([x], [None]), ref, target)]
    calls = _counted_decodes(monkeypatch)
    quick = lossyrate.Prepared([x], [None], quick=True)
    first = lossyrate.rate_control(quick, ref, target, scan=False, modelled=True)
    every_way = quick.with_quick(False)
    assert every_way.flat[0] is quick.flat[0] and every_way.quick is False
    second = lossyrate.rate_control(every_way, ref, target)
    assert len(calls) == len(set(calls)) and len(calls) > 0  # the scan's search retraces the first: no decode twice
    for got, want in zip((first, second), fresh):
        assert (got.step, got.prdn, got.payloads()) == (want.step, want.prdn, want.payloads())


def test_every_way_shares_a_plain_codings_bands_only():
    x, truth = _beat_train(2)
    plain = lossyrate.Prepared([x], [None], quick=True)
    assert lossy._every_way(plain, [x]).flat[0] is plain.flat[0]
    templated = lossyrate.Prepared([x], [find_template(x, FS, WINDOW, truth)], quick=True)
    other_levels = lossyrate.Prepared([x], [None], levels=5, quick=True)
    for prepared in (templated, other_levels, plain.with_quantiser(0.3, 7)):
        made = lossy._every_way(prepared, [x])
        assert made.flat[0] is not prepared.flat[0] and made.templates == [None] and made.quick is False
        assert made.asked_levels == lossyrate.LEVELS and (made.rounding, made.rho16) == (0.4, 8)


def test_a_sparse_channel_codes_as_it_did_with_its_bands_made_afresh(monkeypatch):
    """A step-like channel (a sparse one: balanced's scan past a falling PRDN runs after its plain coding): the same
    file whether the scan takes the plain coding's bands and decodes or makes its own."""
    rng = np.random.default_rng(5)
    x = np.repeat(rng.integers(-400, 400, 10) * 5, 4000)[:, None]  # ten flat stretches
    sig = Signal(x.astype(np.int64), 250.0, ["II"], ["mV"])
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", lossyrate.LEVELS)  # plain at the levels the scan codes at
    shared = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    calls = []
    real = lossy._every_way

    def afresh(prepared, frames):
        calls.append(real(prepared, frames).flat[0] is prepared.flat[0])
        return lossyrate.Prepared(frames, [None] * len(frames))

    monkeypatch.setattr(lossy, "_every_way", afresh)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == shared
    assert calls == [True]  # the channel was sparse, and its plain coding's bands would have been shared


def _reference_gain_grid(frames, ref, prepared, bits, step):
    """gain_grid as it weighed every grid (one thread), for comparison."""
    error = lossyrate.squared_error(prepared, ref, step)
    chosen = None
    for grid in templatesearch.GAIN_GRIDS:
        gains = [None if t is None else t.with_gains_on(grid) for t in prepared.templates]
        candidate, estimate = templatesearch._weigh_candidate(frames, ref, error, step, prepared.asked_levels, gains)
        if estimate < bits:
            prepared, bits, chosen = candidate, estimate, grid
    return prepared, bits, chosen


@pytest.mark.parametrize("step", [4.0, 20.0, 80.0])
def test_a_gain_grid_that_changes_no_gain_is_not_weighed_again(step, monkeypatch):
    x, truth = _beat_train(3)
    ref = x.astype(np.float64)
    on_four = find_template(x, FS, WINDOW, truth).with_gains_on(4)  # grid 4 changes none of these gains
    prepared = lossyrate.Prepared([x], [on_four])
    bits = prepared.estimate(step)
    want = _reference_gain_grid([x], ref, prepared, bits, step)
    weighed = []
    real = templatesearch._weigh_candidate
    monkeypatch.setattr(templatesearch, "_weigh_candidate",
                        lambda *args: weighed.append(args[-1][0].g64.copy()) or real(*args))
    got = templatesearch.gain_grid([x], ref, prepared, bits, step)
    assert (got[1], got[2]) == (want[1], want[2]) and np.array_equal(got[0].templates[0].g64, want[0].templates[0].g64)
    assert len(weighed) == 2 and not any(np.array_equal(g, on_four.g64) for g in weighed)  # grids 16 and 0 only
    assert not any(np.array_equal(a, b) for i, a in enumerate(weighed) for b in weighed[i + 1 :])


def test_taps_already_on_a_grid_keep_their_frames_bands():
    x, truth = _beat_train(4)
    ref = x.astype(np.float64)
    fitted = find_template(x, FS, WINDOW, truth)
    on_grid = replace(fitted, t8=(fitted.t8 // 16) * 16)  # taps on a grid of 16 eighths, stored unshifted
    prepared = lossyrate.Prepared([x], [on_grid], quick=True)
    step = 30.0
    error = lossyrate.squared_error(prepared, ref, step)
    weigh = partial(templatesearch._weigh_candidate, [x], ref, error, step, prepared.asked_levels)
    shifted = [on_grid.with_taps_on(2)]  # the same taps, a shift of 2 stored: less side information
    assert shifted[0].shift == 2 and np.array_equal(shifted[0].t8, on_grid.t8)
    kept, estimate = templatesearch._weigh_taps(weigh, prepared, ref, error, step, shifted)
    made, made_estimate = weigh(shifted)
    assert kept.flat[0] is prepared.flat[0] and kept.quick is False and kept.side_bits == made.side_bits
    assert estimate == made_estimate and kept.side_bits[0] < prepared.side_bits[0]
    coarser = [fitted.with_taps_on(2)]  # taps that move: bands of their own
    assert templatesearch._weigh_taps(weigh, prepared, ref, error, step, coarser)[0].flat[0] is not prepared.flat[0]
