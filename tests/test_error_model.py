"""The rate control's cheap PRDN estimate (``codec.errormodel``) and the search it helps
(``stepsearch.modelled_step``): fewer decodes for the same step within 1 %, the bound always met by a
measured step, and find_step's own search wherever the model does not fit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from common import spy_steps
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import read_signal
from sancodec.codec import errormodel, kernels, lossyrate
from sancodec.codec.errormodel import ErrorModel, cell_error, synthesis_gains
from sancodec.codec.lossy import LossyTarget
from sancodec.codec.stepsearch import MODELLED_MEASUREMENTS, TOLERANCE, find_step, modelled_step
from sancodec.metrics import prdn

LO, HI = float(np.float32(1e-3)), float(np.float32(1e5))
SAMPLE_100 = Path(sancodec.__path__[0]) / "data" / "samples" / "100"


def _mitdb(n: int = 65536) -> np.ndarray:
    return read_signal(SAMPLE_100).samples[:n, 0].astype(np.float64)


def _counted(f):
    calls: list[float] = []

    def measure(x: float) -> float:
        calls.append(x)
        return f(x)
    return measure, calls


def test_the_synthesis_gains_are_those_of_the_numpy_transform():
    """The compiled inverse and the numpy reference give each band the same gain; a finer band has a larger one,
    near 1 for the finest (the transform is nearly orthogonal)."""
    for levels in (1, 4, 7, 12):
        compiled = synthesis_gains.__wrapped__(levels)
        saved = kernels._LIB
        try:
            kernels._LIB = None
            reference = synthesis_gains.__wrapped__(levels)
        finally:
            kernels._LIB = saved
        assert np.allclose(compiled, reference, rtol=1e-12)
        assert all(g > 0 for g in compiled) and list(compiled[1:]) == sorted(compiled[1:])
        assert 0.9 < compiled[-1] < 1.5


def test_a_cell_spread_evenly_has_the_mean_squared_error_of_a_uniform_draw():
    rng = np.random.default_rng(0)
    for rounding in (0.4, 0.5):
        u = rng.uniform(-rounding, 1 - rounding, 1_000_000)
        assert cell_error(rounding) == pytest.approx(float(np.mean(u * u)), rel=5e-3)


def test_the_estimate_rises_with_the_step_and_tracks_the_decoded_prdn():
    """On mitdb 100 at the steps of PRDN 2-9 %, the estimate is within 10 % of what the channel decodes to, and
    the factor between them drifts by under 5 % across a 10 % change of step (what one decode calibrates)."""
    x = _mitdb()
    prepared = lossyrate.Prepared([x], [None])
    model = ErrorModel(prepared.flat, prepared.levels, prepared.rounding, float(np.linalg.norm(x - x.mean())))
    steps = np.geomspace(2.5, 40.0, 25)
    estimates = [model(s) for s in steps]
    assert all(b >= a for a, b in zip(estimates, estimates[1:]))
    factors = [prdn(x, prepared.decoded(float(s))) / e for s, e in zip(steps, estimates)]
    assert all(0.9 < f < 1.1 for f in factors)
    assert max(abs(math.log(b / a)) for a, b in zip(factors, factors[1:])) < 0.05


def test_a_flat_channel_has_no_spread_to_estimate_against():
    model = ErrorModel([np.zeros(64)], [2], 0.4, 0.0)
    assert model(1.0) == 0.0
    assert ErrorModel([np.ones(64)], [2], 0.4, 0.0)(10.0) == math.inf


@pytest.mark.parametrize("seed", range(20))
def test_a_model_off_by_a_drifting_factor_finds_the_crossing_in_fewer_measurements(seed):
    """A power-law measure and a model off from it by up to 20 %, drifting with the step: the bound is met at a
    measured step within 1 % of the crossing, in at most three measurements where find_step takes more."""
    rng = np.random.default_rng(seed)
    gamma, scale, bound = rng.uniform(0.5, 2.0), 10 ** rng.uniform(-2, 2), 10 ** rng.uniform(-1, 1)
    off, drift = rng.uniform(0.8, 1.2), rng.uniform(-0.02, 0.02)
    root = (bound / scale) ** (1 / gamma)
    guess = root * 10 ** rng.uniform(-0.5, 0.5)
    measure, calls = _counted(lambda s: scale * s**gamma)
    lo, hi = modelled_step(measure, lambda s: scale * s**gamma * off * s**drift, bound, LO, HI, guess)
    assert lo in calls and measure(lo) <= bound and lo <= root < lo * TOLERANCE * 1.001
    assert len(calls) - 1 <= MODELLED_MEASUREMENTS
    plain, plain_calls = _counted(lambda s: scale * s**gamma)
    find_step(plain, bound, LO, HI, guess)
    assert len(calls) - 1 <= len(plain_calls)


def test_where_the_model_does_not_fit_the_search_is_find_steps_own():
    """A measure far from the model's shape (a step-like signal's PRDN jumps about): the steps measured and the
    result are find_step's alone, after the modelled measurements that showed the misfit (remembered)."""
    jagged = lambda s: s * (1.6 if int(s * 7) % 3 else 0.7)  # noqa: E731
    measure, calls = _counted(jagged)
    got = modelled_step(measure, lambda s: s, 5.0, LO, HI, 3.0)
    alone, alone_calls = _counted(jagged)
    assert got == find_step(alone, 5.0, LO, HI, 3.0)
    assert set(alone_calls) <= set(calls) and len(calls) <= len(alone_calls) + MODELLED_MEASUREMENTS


@pytest.mark.parametrize("kind", ["measure 0", "model 0"])
def test_a_model_that_cannot_be_calibrated_hands_the_bracket_to_find_step(kind):
    """An exact decode (PRDN 0) or an estimate of 0 gives no factor: the search goes on as find_step's."""
    measure, calls = _counted(lambda s: 0.0 if kind == "measure 0" and s < 3.0 else s)
    lo, hi = modelled_step(measure, (lambda s: 0.0) if kind == "model 0" else (lambda s: s), 5.0, LO, HI, 1.0)
    assert measure(lo) <= 5.0 < measure(hi) and hi / lo < TOLERANCE


@pytest.mark.parametrize("target", [2.0, 5.0, 9.0])
def test_the_modelled_rate_control_meets_the_target_with_fewer_decodes(monkeypatch, target):
    """mitdb 100's first 2^17 samples: the modelled search meets the PRDN, at a step within 1.5 % of find_step's,
    in fewer decodes (counted by Prepared.decoded_error, each a decode and its error)."""
    x = _mitdb(1 << 17)
    calls = spy_steps(monkeypatch, lossyrate.Prepared, "decoded_error")
    original = lossyrate.Prepared.decoded
    found = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, LossyTarget(prdn=target), scan=False)
    plain_decodes = len(calls)
    calls.clear()
    modelled = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, LossyTarget(prdn=target), scan=False,
                                      modelled=True)
    assert modelled.prdn <= target and modelled.prdn == prdn(x, original(modelled.prepared, modelled.step))
    assert abs(math.log(modelled.step / found.step)) < 0.015
    assert len(calls) < plain_decodes


@pytest.mark.parametrize(("n", "target"), [(4096, 2.0), (1 << 17, 1.0)])
def test_a_short_channel_or_a_fine_target_is_searched_as_before(monkeypatch, n, target):
    """Under ``MODELLED`` samples a decode costs what the model does, and under an RMS error of ``FINEST`` (mitdb
    100 at PRDN 1 %) the decoded samples' rounding shapes the PRDN: the search is find_step's, no model made."""
    x = _mitdb(n)
    made = []
    monkeypatch.setattr(lossyrate, "ErrorModel", lambda *a: made.append(a) or ErrorModel(*a))
    plain = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, LossyTarget(prdn=target), scan=False)
    modelled = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, LossyTarget(prdn=target), scan=False,
                                      modelled=True)
    assert modelled.step == plain.step and not made
    assert errormodel.SAMPLE <= lossyrate.MODELLED


@given(st.integers(0, 2**32 - 1), st.floats(0.5, 20.0), st.sampled_from(["walk", "beats", "noise"]))
@settings(max_examples=25, deadline=None)
def test_the_modelled_rate_control_always_meets_its_target(seed, target, kind):
    """Random channels of 2^17 samples (a random walk, a noisy beat train, white noise, on integers) at random
    PRDN targets: the step found decodes within the target, the PRDN reported being the decoded one."""
    rng = np.random.default_rng(seed)
    n = lossyrate.MODELLED
    if kind == "walk":
        x = np.cumsum(rng.normal(0, 3, n))
    elif kind == "beats":
        t = np.arange(n)
        x = 400 * np.exp(-0.5 * ((t % 300 - 150) / 4.0) ** 2) + rng.normal(0, 5, n)
    else:
        x = rng.normal(0, 50, n)
    x = np.rint(x)
    coded = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, LossyTarget(prdn=target), scan=False,
                                   modelled=True)
    assert coded.prdn <= target
    assert coded.prdn == prdn(x, coded.prepared.decoded(coded.step))


@pytest.mark.parametrize("seed", range(20))
def test_a_falling_measure_and_its_model_find_the_finest_step_within_the_bound(seed):
    """A byte count falls as the step grows: a power law of negative exponent and a model off from it by up to 20 %,
    drifting with the step (a coding's bit estimate of its bytes). The finest step within the bound is measured,
    within 1 % of the crossing, in at most three measurements where find_step takes more."""
    rng = np.random.default_rng(100 + seed)
    gamma, scale, bound = rng.uniform(0.5, 2.0), 10 ** rng.uniform(2, 5), 10 ** rng.uniform(1, 3)
    off, drift = rng.uniform(0.8, 1.2), rng.uniform(-0.02, 0.02)
    root = (scale / bound) ** (1 / gamma)  # scale * root**-gamma == bound
    measure, calls = _counted(lambda s: scale * s**-gamma)
    lo, hi = modelled_step(measure, lambda s: scale * s**-gamma * off * s**drift, bound, LO, HI, root * off ** 0.7,
                           rising=False)
    assert hi in calls and measure(hi) <= bound and hi / (TOLERANCE * 1.001) < root <= hi
    assert len(calls) <= MODELLED_MEASUREMENTS
    plain, plain_calls = _counted(lambda s: scale * s**-gamma)
    find_step(plain, bound, LO, HI, root * off ** 0.7, rising=False)
    assert len(calls) <= len(plain_calls)


def test_a_falling_model_that_reaches_0_bytes_past_the_crossing_still_finds_the_finest_step():
    """A bit estimate of 0 bytes at the coarse steps that quantise every value to 0 (a tight budget: white noise at
    0.01 bits a sample) raised ZeroDivisionError in the search for the crossing (its reciprocal); it is a step the
    search stops at now, and the bound is met at a measured step."""
    measure, calls = _counted(lambda s: 40.0 + 1e4 / s)  # a header's fixed bytes, then the coded values'
    model = lambda s: max(0.0, 1e4 / s - 80.0)  # noqa: E731 (the estimate: the values' bits, 0 from step 125 on)
    lo, hi = modelled_step(measure, model, 60.0, LO, HI, 100.0, rising=False)
    assert hi in calls and measure(hi) <= 60.0 < measure(lo) and hi / lo < TOLERANCE * 1.001


def test_a_budget_far_below_the_bytes_the_values_take_codes_the_coarsest_way():
    """White noise within 0.01 bits a sample (the modelled byte search's model reaching 0 bytes): it used to fail
    with ZeroDivisionError; it codes now, at every effort, within a few bytes of the coding of every value as 0."""
    x = np.random.default_rng(1).integers(-1000, 1000, (20_000, 1))
    for effort in ("fast", "balanced", "best"):
        with pytest.warns(sancodec.SancodecWarning, match="past the budget of 0.01"):
            data = sancodec.encode(x, fs=250, mode="lossy", bps=0.01, effort=effort)
        y = sancodec.decode(data).samples
        assert prdn(x[:, 0].astype(float), y[:, 0].astype(float)) > 90 and len(data) < 200


@pytest.mark.parametrize("bps", [0.5, 1.0, 2.0])
def test_a_byte_budget_is_filled_in_fewer_codings(monkeypatch, bps):
    """mitdb 100's first 2^16 samples within a bits-per-sample budget: the search helped by the bit estimate finds a
    step that fits, within 1.5 % of the finest step find_step finds from the middle of the range, coding the frames
    at most four times where that took six or more (counted by Prepared.payloads)."""
    x = _mitdb()
    target = LossyTarget(bps=bps)
    calls = spy_steps(monkeypatch, lossyrate.Prepared, "payloads")
    found = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, target, scan=False)
    modelled = len(calls)
    assert sum(map(len, found.payloads())) <= bps * len(x) / 8
    calls.clear()
    monkeypatch.setattr(lossyrate, "BUDGET_MODELLED", len(x) + 1)  # the search as it was
    plain = lossyrate.rate_control(lossyrate.Prepared([x], [None]), x, target, scan=False)
    assert abs(math.log(found.step / plain.step)) < 0.015
    assert modelled <= 4 < 6 <= len(calls)


@given(st.integers(0, 2**32 - 1), st.floats(0.005, 6.0), st.sampled_from(["walk", "beats", "noise", "steps"]))
@settings(max_examples=25, deadline=None)
def test_a_byte_budget_is_always_kept(seed, bps, kind):
    """Random channels of 2^13 to 2^15 samples within random bit budgets: the modelled search's step codes the
    frames within the budget wherever any step does (the coarsest, every value 0, is the least it can take), and
    it is the finest such step to within 1 % or so (the step 2 % finer overshoots)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(lossyrate.BUDGET_MODELLED, 1 << 15))
    t = np.arange(n)
    x = {"walk": lambda: np.cumsum(rng.normal(0, 3, n)),
         "beats": lambda: 400 * np.exp(-0.5 * ((t % 300 - 150) / 4.0) ** 2) + rng.normal(0, 5, n),
         "noise": lambda: rng.normal(0, 50, n),
         "steps": lambda: np.repeat(rng.integers(-100, 100, n // 64 + 1), 64)[:n] * 1.0}[kind]()
    x = np.rint(x)
    prepared = lossyrate.Prepared([x], [None])
    coded = lossyrate.rate_control(prepared, x, LossyTarget(bps=bps), scan=False)
    budget = bps * n / 8
    size = sum(map(len, prepared.payloads(coded.step)))
    coarsest = sum(map(len, prepared.payloads(float(np.float32(max(4.0 * np.abs(prepared.flat[0]).max(), 1.0))))))
    assert size <= budget or coarsest > budget
    if size <= budget and kind != "steps":  # (a step-like channel's bytes need not fall steadily with the step)
        assert sum(map(len, prepared.payloads(coded.step / 1.02))) > budget or coded.step / 1.02 < 1e-3
    assert coded.prdn == prdn(x, prepared.decoded(coded.step))
