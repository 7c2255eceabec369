"""Lossy ``effort="fast"`` (the plain wavelet coding only) and ``effort="balanced"`` (fast with one beat template
where it pays): every channel still at its target."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from common import check_encode_decode, wavelet_heads, wavelet_predictors
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError, Signal, read_signal
from sancodec.cli import app
from sancodec.codec import adaptivebands, decode_file, lossy, read_info, templatesearch, timedomain, waveletframe
from sancodec.codec.beats import align
from sancodec.codec.lossyrate import LEVELS, Prepared
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def long_ecg(mitdb_100):
    """mitdb 100's first 100 000 samples, both leads: long enough for each band to be coded one way."""
    return read_signal(mitdb_100).slice(0, 100000)


def _no_template_search(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("effort fast looked for beats")

    monkeypatch.setattr(templatesearch, "find_beats", refuse)
    monkeypatch.setattr(lossy.timedomain, "code_channel", refuse)


@pytest.mark.parametrize("target", [0.5, 2.0, 9.0])
def test_fast_effort_meets_the_target_with_plain_wavelet_frames(long_ecg, target, monkeypatch):
    _no_template_search(monkeypatch)
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)  # the bands apart (the adaptive stream: the test below)
    data = check_encode_decode(long_ecg, mode="lossy", prdn=target, effort="fast")
    back = decode_file(data)
    assert back.codings == {"wavelet": 2, "running": 2}  # the long bands under running contexts
    # bands apart (some may be predicted, format 1.11), no template
    assert all(bits & ~waveletframe.BAND_LPC == waveletframe.SEPARATE_BANDS for _, bits in wavelet_heads(data))
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(2):
        got = prdn(long_ecg.samples[:, ch], back.signal.samples[:, ch])
        assert got <= target and recorded[ch] == pytest.approx(got, abs=1e-5)


def test_fast_effort_codes_each_long_band_one_way(long_ecg, monkeypatch):
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)
    calls: list[int] = []
    original = waveletframe.code_bands
    monkeypatch.setattr(waveletframe, "code_bands", lambda streams: calls.append(len(streams)) or original(streams))
    fast = sancodec.encode(long_ecg, mode="lossy", prdn=2.0, effort="fast")
    assert not calls  # quick_bands only
    best = sancodec.encode(long_ecg, mode="lossy", prdn=2.0, effort="best")
    assert calls and len(best) <= len(fast)  # effort best looks further and keeps what is smaller


def test_fast_effort_on_short_channels_and_byte_budgets():
    sig = read_signal(DATA / "test01_00s")  # 4000 samples: every coding of the bands is tried, it is cheap
    data = check_encode_decode(sig, mode="lossy", prdn=3.0, effort="fast")
    assert decode_file(data).codings == {"wavelet": 2, "cross": 2}  # channels 3 and 4 as differences (1.10)
    budget = check_encode_decode(sig, mode="lossy", bps=2.0, effort="fast")
    framing = 4 * sig.n_channels  # each channel's part carries its length
    assert read_info(budget)["payload_bytes"] <= 2.0 * sig.n_samples * sig.n_channels / 8 + framing


def _no_search_beyond_one_template(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("effort balanced searched like the default effort")

    def one_round(x, fs, window, template, rounds=2):
        if rounds != 1:
            raise AssertionError("effort balanced aligned its beats more than once")
        return align(x, fs, window, template, rounds)

    monkeypatch.setattr(lossy, "best_template", refuse)
    monkeypatch.setattr(lossy.timedomain, "code_channel", refuse)
    monkeypatch.setattr(templatesearch, "align", one_round)


@pytest.mark.parametrize("target", [2.0, 5.0])
def test_balanced_effort_pays_with_one_beat_template(long_ecg, target, monkeypatch):
    fast = sancodec.encode(long_ecg, mode="lossy", prdn=target, effort="fast")
    calls = _count_checks(monkeypatch)
    _no_search_beyond_one_template(monkeypatch)
    data = sancodec.encode(long_ecg, mode="lossy", prdn=target, effort="balanced")
    assert not calls  # not decoded to check it, as fast
    assert all(bits & 1 for bits in wavelet_predictors(data))  # both leads: a beat template
    assert len(data) < 0.93 * len(fast)  # mitdb 100's beats: the template saves bytes at the same target
    back = decode_file(data).signal.samples
    assert all(prdn(long_ecg.samples[:, ch], back[:, ch]) <= target for ch in range(2))


def test_balanced_effort_is_fast_where_no_template_pays(monkeypatch):
    import numpy as np

    from sancodec import Signal

    # noise: "beats" found and a template made, which fits none of them: turned away on the head (UNFIT); weighed
    # anyway, the whole channel's trial turns it down (a channel longer than lossy.TIME_DOMAIN_ALWAYS: no time-domain
    # coding weighed either)
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    rng = np.random.default_rng(3)
    noise = Signal(rng.normal(0, 200, (40000, 1)).round().astype(np.int64), 500.0, ["x"], ["NU"])
    assert len(noise.samples) > lossy.TIME_DOMAIN_ALWAYS
    # (white noise codes smaller on a grid, which balanced weighs where it looks so: not this test's question)
    monkeypatch.setattr(lossy.timedomain, "GRID_LOOK_MARGIN", 0.0)
    assert templatesearch.quick_templates([noise.samples[:, 0]], 500.0, 35.0) is None
    fast = sancodec.encode(noise, mode="lossy", prdn=5.0, effort="fast")
    assert sancodec.encode(noise, mode="lossy", prdn=5.0, effort="balanced") == fast
    with monkeypatch.context() as weighed:
        weighed.setattr(templatesearch, "UNFIT_SHARE", math.inf)
        assert templatesearch.quick_templates([noise.samples[:, 0]], 500.0, 35.0) is not None
        assert sancodec.encode(noise, mode="lossy", prdn=5.0, effort="balanced") == fast
    # EMG: "beats" found, but their template fits none (or leaves the head no cheaper): no template of the whole
    # channel made
    emg = read_signal(DATA / "emg_healthy")
    x = emg.samples[:, 0]
    assert len(templatesearch.find_beats(x, emg.fs)) > 4
    lengths: list[int] = []
    for name in ("find_template", "fitted_template"):
        monkeypatch.setattr(templatesearch, name, (lambda f: lambda x, *a: lengths.append(len(x)) or f(x, *a))(
            getattr(templatesearch, name)))
    for share in (templatesearch.UNFIT_SHARE, math.inf):
        monkeypatch.setattr(templatesearch, "UNFIT_SHARE", share)
        lengths.clear()
        assert templatesearch.quick_templates([x], emg.fs, 50.0) is None
        assert lengths and set(lengths) == {templatesearch.QUICK_WINDOW_HEAD}
    assert (sancodec.encode(emg, mode="lossy", prdn=2.0, effort="balanced")
            == sancodec.encode(emg, mode="lossy", prdn=2.0, effort="fast"))
    # a byte budget has no step to weigh a template at before its search: the plain coding, as fast
    sig = read_signal(DATA / "test01_00s")
    assert (sancodec.encode(sig, mode="lossy", bps=2.0, effort="balanced")
            == sancodec.encode(sig, mode="lossy", bps=2.0, effort="fast"))


def test_balanced_effort_looks_for_no_grids_where_free_side_information_would_not_pay(long_ecg, monkeypatch):
    """``TemplateTrial.may_pay``: a template whose head's bands alone (its side information left out) are not
    under ``QUICK_GAIN`` of theirs without it gets no gains' and taps' grids (``quick_grids``, the costly part of
    a template on a short channel); the file is fast's. Where it may pay, the grids are looked for."""
    import numpy as np

    from sancodec import Signal

    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    rng = np.random.default_rng(3)
    noise = Signal(rng.normal(0, 200, (40000, 1)).round().astype(np.int64), 500.0, ["x"], ["NU"])
    x = noise.samples[:, 0]
    monkeypatch.setattr(templatesearch, "UNFIT_SHARE", math.inf)  # noise's templates weighed (else turned away)
    monkeypatch.setattr(lossy.timedomain, "GRID_LOOK_MARGIN", 0.0)  # (its grid coding: not this test's question)
    templates = templatesearch.quick_templates([x], 500.0, 35.0)
    assert templates is not None
    trial = templatesearch.TemplateTrial([x], templates)
    with_template, without = trial.with_template, trial.without
    for step in (5.0, 35.0, 200.0):
        bands = with_template.estimate(step) - with_template.side_bits[0]
        assert trial.may_pay(step) == (bands < templatesearch.QUICK_GAIN * without.estimate(step))
    grids: list[int] = []
    original = lossy.quick_grids
    monkeypatch.setattr(lossy, "quick_grids", lambda *a, **k: grids.append(1) or original(*a, **k))
    fast = sancodec.encode(noise, mode="lossy", prdn=5.0, effort="fast")
    assert sancodec.encode(noise, mode="lossy", prdn=5.0, effort="balanced") == fast and not grids
    one_lead = long_ecg.select_channels([0])
    sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort="balanced")
    assert grids


@pytest.mark.parametrize("target", [1.0, 2.0])
def test_balanced_keeps_a_template_whose_estimate_saves_a_few_percent(target, monkeypatch):
    """PTB s0010_re lead i at PRDN 1 and 2 %: its template (with the gains' and taps' grids) takes less than the 5 %
    effort balanced once asked off the head's bit estimate, and 1.4-2.3 % off the file. Balanced keeps it, as the
    default does (``QUICK_GAIN``): its file is smaller than balanced's without a template."""
    sig = read_signal(DATA / "s0010_re_i")
    balanced = sancodec.encode(sig, mode="lossy", prdn=target, effort="balanced")
    assert all(bits & 1 for bits in wavelet_predictors(balanced))  # every frame has the template
    assert prdn(sig.samples[:, 0], sancodec.decode(balanced).samples[:, 0]) <= target
    monkeypatch.setattr(lossy, "quick_templates", lambda *a, **k: None)
    assert len(balanced) < 0.99 * len(sancodec.encode(sig, mode="lossy", prdn=target, effort="balanced"))


def test_balanced_weighs_dependent_quantisation_on_a_short_templated_channel(monkeypatch):
    """``lossy.QUICK_DEPENDENT``: balanced weighs format 1.12's trellis, as the default does, on a one-frame channel of
    at most that many samples whose coding has a beat template, and keeps it where smaller (PTB s0010_re at PRDN
    1 %: about 4 % smaller), the target met; not on a longer channel (the setting below its length), nor on a short
    one without a template (EMG: the same file whatever the setting)."""
    sig = read_signal(DATA / "s0010_re_i")
    assert sig.n_samples <= lossy.QUICK_DEPENDENT
    full = waveletframe.code_bands
    monkeypatch.setattr(waveletframe, "code_bands", lambda *a: pytest.fail("balanced codes every band every way"))
    dependent = sancodec.encode(sig, mode="lossy", prdn=1.0, effort="balanced")  # its trellis frame too: quick_bands
    monkeypatch.setattr(waveletframe, "code_bands", full)
    assert all(bits & waveletframe.DEPENDENT for bits in wavelet_predictors(dependent))
    assert all(bits & 1 for bits in wavelet_predictors(dependent))  # with the template
    assert prdn(sig.samples[:, 0], sancodec.decode(dependent).samples[:, 0]) <= 1.0
    emg = read_signal(DATA / "emg_healthy")
    assert emg.n_samples <= lossy.QUICK_DEPENDENT
    weighed: list[int] = []
    original = lossy._dependent
    monkeypatch.setattr(lossy, "_dependent", lambda *a, **k: weighed.append(1) or original(*a, **k))
    emg_file = sancodec.encode(emg, mode="lossy", prdn=5.0, effort="balanced")
    assert not weighed  # no template, no trellis weighed
    monkeypatch.setattr(lossy, "QUICK_DEPENDENT", sig.n_samples - 1)  # a channel longer than asked: not weighed
    plain = sancodec.encode(sig, mode="lossy", prdn=1.0, effort="balanced")
    assert not any(bits & waveletframe.DEPENDENT for bits in wavelet_predictors(plain))
    assert len(dependent) < 0.97 * len(plain)
    monkeypatch.setattr(lossy, "QUICK_DEPENDENT", 0)
    assert sancodec.encode(emg, mode="lossy", prdn=5.0, effort="balanced") == emg_file


def test_balanced_effort_weighs_no_grids_where_the_template_would_not_pay_at_the_plain_step(long_ecg, monkeypatch):
    """A channel of ``lossy.PLAIN_FIRST`` to ``QUICK_MAINS`` samples has its plain coding made first, and its
    template must also pay, its side information free, at that coding's step: an ECG with a dropout (mixedsignals
    has one), whose spread makes the first step far too fine, gets no grids weighed, which the first step alone
    would have had weighed; the same file on one thread and two, meeting its target. (Its mitdb excerpt has a mains
    line, which balanced codes on channels of ``QUICK_MAINS`` samples or more: that is kept out here.)"""

    from sancodec import Signal

    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    monkeypatch.setattr(lossy, "QUICK_MAINS", lossy.PLAIN_AHEAD)

    one_lead = long_ecg.select_channels([0]).slice(0, 60000)
    x = one_lead.samples.copy()
    x[30000:31000] = -32768
    sig = Signal(x, one_lead.fs, one_lead.channel_names, one_lead.units)
    assert lossy.PLAIN_FIRST <= len(x) < lossy.QUICK_MAINS
    grids: list[int] = []
    original = lossy.quick_grids
    monkeypatch.setattr(lossy, "quick_grids", lambda *a, **k: grids.append(1) or original(*a, **k))
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert not grids
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=2) == data
    assert prdn(x[:, 0], sancodec.decode(data).samples[:, 0]) <= 2.0
    checks = lossy._templated
    monkeypatch.setattr(lossy, "_templated", lambda *a: checks(*a[:8]))  # the first step's checks alone
    sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert grids


def test_balanced_effort_weighs_the_time_domain_on_short_channels(monkeypatch):
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    sig = read_signal(DATA / "1001")  # CTG, 19 200 samples: the fetal heart rate steps between few values
    assert sig.n_samples <= lossy.TIME_DOMAIN_ALWAYS
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    data = check_encode_decode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert decode_file(data).codings["raw"] == 1  # the heart rate in the time domain, on its grid
    assert len(data) < 0.95 * len(fast)  # (fast's wavelets with format 1.13's parent contexts: 0.90 of them)
    back = decode_file(data).signal.samples
    assert all(prdn(sig.samples[:, ch], back[:, ch]) <= 2.0 for ch in range(2))
    # the lossless coder without its adaptive stages (effort best's time domain runs them)
    from sancodec.codec import frames

    staged: list[int] = []
    original = frames.with_adaptive_stages
    monkeypatch.setattr(frames, "with_adaptive_stages", lambda res: staged.append(len(res.e)) or original(res))
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == data and not staged
    sancodec.encode(sig, mode="lossy", prdn=2.0, effort="best")
    assert staged
    # one sample longer than the limit: weighed only where a grid looks smaller, as the heart rate's steps do; with
    # that look off too, the wavelet coding alone, as fast codes it
    monkeypatch.setattr(lossy, "TIME_DOMAIN_ALWAYS", sig.n_samples - 1)
    assert lossy.timedomain.grid_looks_smaller([sig.samples[:, 0]], sig.samples[:, 0].astype(float), 2.0, len(fast))
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == data
    monkeypatch.setattr(lossy.timedomain, "GRID_LOOK_MARGIN", 0.0)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == fast


def test_balanced_effort_codes_a_long_channel_on_few_values_exactly(long_ecg, monkeypatch):
    import numpy as np

    from sancodec import Signal

    x = long_ecg.samples[:, 0]
    k = np.rint((x - x.min()) / 6).astype(np.int64)  # a few dozen levels, as an 8-bit recorder's ...
    y = k * 13 + (k * k) // 40  # ... on an uneven scale: no common grid, a value table codes it
    sig = Signal(y[:, None], long_ecg.fs, ["ecg"], ["NU"])
    assert sig.n_samples > lossy.TIME_DOMAIN_ALWAYS
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    assert lossy.timedomain.exact_looks_smaller([y], len(fast))
    assert not lossy.timedomain.exact_looks_smaller([x], len(fast))  # the ECG itself, on every value: no
    data = check_encode_decode(sig, mode="lossy", prdn=2.0, effort="balanced")
    np.testing.assert_array_equal(sancodec.decode(data).samples, sig.samples)  # exact, and far smaller
    assert len(data) < 0.7 * len(fast)
    monkeypatch.setattr(lossy.timedomain, "exact_looks_smaller", lambda frames, to_beat, look=None: False)
    monkeypatch.setattr(lossy.timedomain, "GRID_LOOK_MARGIN", 0.0)  # (a grid looks smaller too)
    assert len(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")) > len(data)


def test_balanced_effort_codes_a_flat_spectrum_on_a_grid_where_it_looks_smaller(long_ecg):
    """grid_looks_smaller: the order-0 estimate of a channel on the grid its PRDN bound allows, within
    GRID_LOOK_MARGIN of the wavelets' bytes. White noise (as EMG, a nearly flat spectrum) looks so, and balanced
    codes it on that grid, smaller than the wavelets, within the target; an ECG does not look so; a bound whose grid
    is 1 is exact_looks_smaller's question."""
    import numpy as np

    from sancodec import Signal

    rng = np.random.default_rng(3)
    noise = Signal(rng.normal(0, 200, (40000, 1)).round().astype(np.int64), 500.0, ["x"], ["NU"])
    x = noise.samples[:, 0]
    assert len(x) > lossy.TIME_DOMAIN_ALWAYS
    fast = sancodec.encode(noise, mode="lossy", prdn=5.0, effort="fast")
    assert timedomain.grid_looks_smaller([x], x.astype(np.float64), 5.0, len(fast))
    data = check_encode_decode(noise, mode="lossy", prdn=5.0, effort="balanced")
    assert "wavelet" not in decode_file(data).codings and len(data) < len(fast)  # (EMG: 0.83-0.92 of it)
    assert prdn(x, sancodec.decode(data).samples[:, 0]) <= 5.0
    ecg = long_ecg.select_channels([0])
    ecg_fast = sancodec.encode(ecg, mode="lossy", prdn=5.0, effort="fast")
    y = ecg.samples[:, 0]
    assert not timedomain.grid_looks_smaller([y], y.astype(np.float64), 5.0, len(ecg_fast))
    assert not timedomain.grid_looks_smaller([x], x.astype(np.float64), 0.01, 1e12)  # grid 1: exact coding
    # the grid's estimate made ahead (look_at_head with the reference and the bound) decides alike
    for z, bound in ((x, 5.0), (y, 5.0), (x, 0.01), (y, 2.0)):
        ref = z.astype(np.float64)
        look = timedomain.look_at_head([z], ref, bound)
        assert look.grid == timedomain.grid_estimate([z], ref, bound)
        assert timedomain.look_at_head([z]).grid is None  # not asked
        for to_beat in (len(fast), len(ecg_fast), 1e12, float("inf")):
            assert timedomain.grid_looks_smaller([z], ref, bound, to_beat, look) == \
                timedomain.grid_looks_smaller([z], ref, bound, to_beat)


def test_balanced_effort_weighs_the_time_domain_where_the_wavelets_are_sparse(monkeypatch):
    import numpy as np

    from sancodec import Signal

    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    excerpt = read_signal(DATA / "mixedsignals_1000f")  # lead II: long flat stretches between steps
    x = np.tile(excerpt.samples[:, 0], 10)
    sig = Signal(x[:, None], excerpt.fs, ["II"], ["NU"])
    assert lossy.TIME_DOMAIN_ALWAYS < len(x) <= lossy.LEVEL_CHANNELS
    fast = sancodec.encode(sig, mode="lossy", prdn=5.0, effort="fast")
    assert 8 * len(fast) < lossy.SPARSE_BPS * len(x)  # the wavelets take under 0.1 bit a sample ...
    assert not lossy.timedomain.exact_looks_smaller([x], len(fast))  # ... and exact coding does not look smaller
    data = check_encode_decode(sig, mode="lossy", prdn=5.0, effort="balanced")
    assert decode_file(data).codings == {"raw": 1}  # on a grid in the time domain, far smaller
    assert len(data) < 0.5 * len(fast)
    monkeypatch.setattr(lossy, "SPARSE_BPS", 0.0)
    monkeypatch.setattr(lossy.timedomain, "GRID_LOOK_MARGIN", 0.0)  # (a grid looks smaller too)
    assert sancodec.encode(sig, mode="lossy", prdn=5.0, effort="balanced") == fast


def test_exact_looks_smaller_is_cheap_and_bounded():
    import numpy as np


    rng = np.random.default_rng(5)
    steps = rng.integers(-3, 4, 200000).cumsum()
    assert timedomain.exact_looks_smaller([steps], 200000 * 3 / 8)  # about 2.8 bits a sample
    assert not timedomain.exact_looks_smaller([steps], 200000 * 2 / 8)
    # within EXACT_LOOK_MARGIN of the bytes to beat (the exact coder's contexts code below the order-0 estimate)
    assert timedomain.exact_looks_smaller([steps], 200000 * 2.5 / 8)  # 2.8 bits under 1.3 x 2.5
    wide = steps * 1000  # the same, spread over more than RANK_RANGE values: the differences alone decide
    assert np.ptp(wide[: timedomain.LOOK_HEAD]) >= timedomain.RANK_RANGE
    assert not timedomain.exact_looks_smaller([wide], 200000 * 3 / 8)
    assert not timedomain.exact_looks_smaller([steps[:1]], 1e9)  # nothing to difference
    assert timedomain.look_at_head([steps[:1]]) is None
    # the estimates made ahead (look_at_head: both, the ranks' where the head is not too wide) decide alike
    assert timedomain.look_at_head([wide]).ranks is None
    for x in (steps, wide):
        look = timedomain.look_at_head([x, x[:5000]])
        for to_beat in (len(x) * k / 8 for k in (1.5, 2.5, 2.9, 3.5, 6.0)):
            assert timedomain.exact_looks_smaller([x, x[:5000]], to_beat, look) == \
                timedomain.exact_looks_smaller([x, x[:5000]], to_beat)
    # the ranks' differences, from a count per value or from a sort, are np.unique's inverse's
    for x in (steps, wide, np.array([5, -3, 5, 900, -3, 7])):
        expected = np.diff(np.unique(x, return_inverse=True)[1].reshape(-1))
        np.testing.assert_array_equal(timedomain._rank_differences(x), expected)


def test_two_threads_look_at_a_long_channel_s_head_ahead_for_the_same_file(long_ecg, monkeypatch):
    """Effort "balanced" on two threads makes timedomain.look_at_head beside the template search (the thread that
    made the plain coding is idle), on one thread it does not; exact_looks_smaller and grid_looks_smaller decide the
    same, the same file."""
    one_lead = long_ecg.select_channels([0]).slice(0, 60000)
    assert lossy.TIME_DOMAIN_ALWAYS < one_lead.n_samples
    looks: list[object] = []
    original = timedomain.look_at_head
    monkeypatch.setattr(timedomain, "look_at_head", lambda *args: looks.append(original(*args)) or looks[-1])
    data = sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert not looks
    assert sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort="balanced", threads=2) == data
    assert len(looks) == 1 and looks[0] is not None and looks[0].grid is not None  # the grid's estimate too


def test_a_template_s_fit_is_the_share_of_its_beat_windows_energy_it_leaves():
    import numpy as np

    from sancodec.codec.beats import fitted_template

    rng = np.random.default_rng(3)
    fs, beats = 250.0, np.arange(100, 9900, 200)
    shape = np.exp(-0.5 * ((np.arange(-40, 40) / 4.0) ** 2)) * 800
    x = np.zeros(10000)
    for b, g in zip(beats, rng.uniform(0.8, 1.2, len(beats))):  # one shape, its own gain at each beat
        x[b - 40 : b + 40] += g * shape
    template, share = fitted_template(x, fs, (0.15, 0.35), beats)
    assert template is not None and share < 0.01
    noise = rng.normal(0, 100, 10000)  # the same marks on noise: no shape in common
    template, share = fitted_template(noise, fs, (0.15, 0.35), beats)
    assert template is not None and share > 0.9
    assert fitted_template(x, fs, (0.15, 0.35), beats[:3]) == (None, 1.0)  # too few beats: no template


def test_balanced_weighs_no_template_on_a_head_whose_beats_share_no_shape(monkeypatch):
    """quick_templates: on EMG, whose marked peaks' windows keep over 0.9 of their energy under any window's template,
    no template is weighed (no bit estimate, no alignment: templatesearch.UNFIT); weighed anyway (the share
    raised past 1), it is turned down, the same file. An ECG's templates fit: weighed as before."""
    import math

    from sancodec.codec.beats import fitted_template

    estimates: list[float] = []
    original = templatesearch.Prepared.estimate
    monkeypatch.setattr(templatesearch.Prepared, "estimate", lambda self, step: estimates.append(step) or
                        original(self, step))
    windows = [w for w in templatesearch.TEMPLATE_WINDOWS if w[0] in templatesearch.QUICK_BEFORE]
    for name, fits in (("emg_healthy", False), ("a103l_20000", True)):
        sig = read_signal(DATA / name)
        x, fs = sig.samples[:, 0], sig.fs
        head = x[: templatesearch.QUICK_WINDOW_HEAD].astype(float)
        marked = templatesearch.find_beats(x.astype(float), fs)
        shares = [fitted_template(head, fs, w, marked[marked < len(head)])[1] for w in windows]
        assert (max(shares) < 0.25) if fits else (min(shares) > 0.9)
        estimates.clear()
        assert (templatesearch.quick_templates([x], fs, 30.0) is not None) == fits
        assert bool(estimates) == fits
    emg = read_signal(DATA / "emg_healthy")
    data = sancodec.encode(emg, mode="lossy", prdn=2.0, effort="balanced")
    monkeypatch.setattr(templatesearch, "UNFIT_SHARE", math.inf)
    estimates.clear()
    assert templatesearch.quick_templates([emg.samples[:, 0]], emg.fs, 30.0) is None  # weighed, turned down
    assert estimates
    assert sancodec.encode(emg, mode="lossy", prdn=2.0, effort="balanced") == data


def test_the_first_template_found_on_the_head_decides_that_none_fits(monkeypatch):
    """templatesearch._head_window with ``unfit``: where the first window's template leaves UNFIT_SHARE or more of
    its beats' energy unexplained (EMG), the head is UNFIT and no other window's template is made; where it fits
    (an ECG), every window's is made and the best weighed."""
    made: list[tuple[float, float]] = []
    original = templatesearch.fitted_template
    monkeypatch.setattr(templatesearch, "fitted_template",
                        lambda x, fs, w, b: made.append(w) or original(x, fs, w, b))
    for name, fits in (("emg_healthy", False), ("a103l_20000", True)):
        sig = read_signal(DATA / name)
        x, fs = sig.samples[:, 0].astype(float), sig.fs
        head = x[: templatesearch.QUICK_WINDOW_HEAD]
        beats = templatesearch.find_beats(x, fs)
        windows = templatesearch.quick_windows(templatesearch.template_windows([beats], fs))
        assert len(windows) > 1
        made.clear()
        chosen = templatesearch._head_window(head, beats, fs, windows, 30.0, unfit=True)
        assert (chosen is not templatesearch.UNFIT and chosen is not None) == fits
        assert made == (windows if fits else windows[:1])


def test_the_head_test_aligns_the_template_only_where_it_does_not_pay_unaligned(monkeypatch):
    """templatesearch._helps: a template that already takes fewer bits on the head than the plain coding, unaligned
    and with its side information, is taken without aligning it; one that does not is aligned and judged without
    its side information (the lenient test), as before."""
    sig = read_signal(DATA / "a103l_20000")
    x, fs = sig.samples[:, 0], sig.fs
    head = x[: templatesearch.QUICK_WINDOW_HEAD]
    marked = templatesearch.find_beats(x, fs)
    marked = marked[marked < len(head)]
    chosen = templatesearch._head_window(head, marked, fs, [(0.15, 0.35)], 30.0)
    assert chosen is not None
    plain = Prepared([head], [None]).estimate(30.0)
    assert chosen.bits == Prepared([head], [chosen.template]).estimate(30.0) < plain
    aligned: list[int] = []
    original = templatesearch.align

    def counted(*args, **kwargs):
        aligned.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(templatesearch, "align", counted)
    assert templatesearch._helps(head, fs, chosen, 30.0) and not aligned
    dearer = chosen._replace(bits=plain)  # as if it did not pay unaligned: aligned, its side information left out
    with_template = Prepared([head], [original(head, fs, chosen.window, chosen.template,
                                               rounds=templatesearch.QUICK_ALIGN_ROUNDS)])
    expected = with_template.estimate(30.0) - with_template.side_bits[0] < plain
    assert templatesearch._helps(head, fs, dearer, 30.0) == expected and aligned == [1]


def test_balanced_effort_weighs_its_window_on_the_head_and_aligns_once(monkeypatch):
    import numpy as np

    from sancodec.codec import beats as beats_module

    sig = read_signal(DATA / "a103l_20000")  # 128 beats per minute: the windows are also tried cut to the period
    x, fs = sig.samples[:, 0], sig.fs
    # a channel this short has its beats aligned twice (SHORT_ALIGN_ROUNDS: its own test); here, once
    monkeypatch.setattr(templatesearch, "SHORT_ALIGN_ROUNDS", templatesearch.QUICK_ALIGN_ROUNDS)
    calls: list[tuple[int, tuple[float, float]]] = []
    original = templatesearch.find_template

    def counted(x, fs, window, beats):
        calls.append((len(x), window))
        return original(x, fs, window, beats)

    monkeypatch.setattr(templatesearch, "find_template", counted)
    monkeypatch.setattr(beats_module, "find_template", counted)  # align's, too
    fitted = templatesearch.fitted_template  # the head's windows', each with its fit
    monkeypatch.setattr(templatesearch, "fitted_template",
                        lambda x, fs, window, beats: calls.append((len(x), window)) or fitted(x, fs, window, beats))
    templates = templatesearch.quick_templates([x], fs, 30.0)
    assert templates is not None
    head = [w for n, w in calls if n == templatesearch.QUICK_WINDOW_HEAD]
    whole = [w for n, w in calls if n == len(x)]
    beats = templatesearch.find_beats(x, fs)
    windows = templatesearch.template_windows([beats], fs)
    weighed = templatesearch.quick_windows(windows)
    # one cut (the one starting earliest), not the cut of the later start; no alignment on the head: the template
    # chosen pays there unaligned, its side information included
    assert len(weighed) == 3
    # a channel this short (SHORT_CHANNEL) whose template pays on the head has the other starts weighed after them
    assert len(x) <= templatesearch.SHORT_CHANNEL
    wider = templatesearch.quick_windows(windows, templatesearch.SHORT_BEFORE)
    assert [w[0] for w in wider] == list(templatesearch.SHORT_BEFORE) and all(w in windows for w in wider)
    assert head == weighed + wider
    weighed = weighed + wider
    assert [w for w in windows if w[0] in templatesearch.QUICK_BEFORE and w not in weighed] == \
        [w for w in windows if w not in templatesearch.TEMPLATE_WINDOWS and w[0] == templatesearch.QUICK_BEFORE[1]]
    first = x[: templatesearch.QUICK_WINDOW_HEAD]

    def head_bits(window: tuple[float, float]) -> float:
        return Prepared([first], [original(first, fs, window, beats[beats < len(first)])]).estimate(30.0)

    chosen = min(weighed, key=head_bits)
    assert head_bits(chosen) < Prepared([first], [None]).estimate(30.0)
    assert whole == [chosen]  # the whole channel's template made once, for the window the head preferred, ...
    assert len(templates[0].t8) == int(chosen[0] * fs) + int(chosen[1] * fs)
    # ... at the beats the head's template moved (its QRS, aligned as _helps aligns it: no whole-channel
    # template made to move them by)
    guide = original(first, fs, chosen, beats[beats < len(first)])
    marked = templatesearch.beats_inside(beats, len(x), fs, chosen)
    moved = templatesearch.moved_beats(x, fs, templatesearch.replace(guide, positions=marked))
    np.testing.assert_array_equal(templates[0].positions, templatesearch.beats_inside(moved, len(x), fs, chosen))
    monkeypatch.undo()
    # each part pays on this record's first lead: the window weighed, the beats aligned once (the wavelet
    # coding weighed alone, without the time-domain codings a channel this short may take)
    monkeypatch.setattr(lossy, "TIME_DOMAIN_ALWAYS", 0)
    sizes = {}
    for before, rounds in ((templatesearch.QUICK_BEFORE, 1), ((), 1), (templatesearch.QUICK_BEFORE, 0)):
        monkeypatch.setattr(templatesearch, "QUICK_BEFORE", before)
        monkeypatch.setattr(templatesearch, "QUICK_ALIGN_ROUNDS", rounds)
        monkeypatch.setattr(templatesearch, "SHORT_ALIGN_ROUNDS", rounds)
        sizes[before, rounds] = len(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced"))
    chosen_and_aligned = sizes[templatesearch.QUICK_BEFORE, 1]
    assert chosen_and_aligned < sizes[(), 1] and chosen_and_aligned < sizes[templatesearch.QUICK_BEFORE, 0]


def test_balanced_weighs_the_other_window_starts_where_a_short_channels_template_pays(monkeypatch):
    """templatesearch.quick_templates: on a channel of at most SHORT_CHANNEL samples whose head's template pays
    (_helps), the window starts of SHORT_BEFORE are weighed after QUICK_BEFORE's, the best of all kept; on a longer
    channel, or where no template pays (EMG), only QUICK_BEFORE's. PTB's lead i (38 400 samples at 1 kHz) codes
    smaller so at PRDN 5 %."""
    weighed: list[list[float]] = []
    original = templatesearch._weighed_windows
    monkeypatch.setattr(templatesearch, "_weighed_windows", lambda head, beats, fs, windows, *rest, **kw:
                        weighed.append(sorted({w[0] for w in windows})) or original(head, beats, fs, windows, *rest,
                                                                                    **kw))
    ptb = read_signal(DATA / "s0010_re_i")
    x, fs = ptb.samples[:, 0], ptb.fs
    assert len(x) <= templatesearch.SHORT_CHANNEL
    assert templatesearch.quick_templates([x], fs, 30.0) is not None
    assert weighed == [sorted(templatesearch.QUICK_BEFORE), sorted(templatesearch.SHORT_BEFORE)]
    wide = sancodec.encode(ptb, mode="lossy", prdn=5.0, effort="balanced")
    weighed.clear()
    emg = read_signal(DATA / "emg_healthy")  # no template fits its bursts: nothing more weighed
    assert templatesearch.quick_templates([emg.samples[:, 0]], emg.fs, 30.0) is None
    assert weighed == [sorted(templatesearch.QUICK_BEFORE)]
    monkeypatch.setattr(templatesearch, "SHORT_CHANNEL", len(x) - 1)  # as a longer channel: two starts
    weighed.clear()
    assert templatesearch.quick_templates([x], fs, 30.0) is not None
    assert weighed == [sorted(templatesearch.QUICK_BEFORE)]
    narrow = sancodec.encode(ptb, mode="lossy", prdn=5.0, effort="balanced")
    assert len(wide) < 0.98 * len(narrow)
    back = sancodec.decode(wide).samples[:, 0]
    assert prdn(x, back) <= 5.0


def test_balanced_aligns_a_short_channels_beats_twice(monkeypatch):
    """templatesearch.quick_templates: on a channel of at most SHORT_CHANNEL samples, the beats the head's template
    moved are aligned once more over the whole channel (SHORT_ALIGN_ROUNDS), where a longer channel stops after the
    first move. PTB's lead i (38 400 samples at 1 kHz) codes smaller so at PRDN 2 and 5 %, each PRDN met."""
    import numpy as np

    ptb = read_signal(DATA / "s0010_re_i")
    x, fs = ptb.samples[:, 0], ptb.fs
    assert len(x) <= templatesearch.SHORT_CHANNEL and templatesearch.SHORT_ALIGN_ROUNDS == 2
    aligned: list[tuple[int, tuple[float, float], int]] = []
    original = templatesearch.align

    def counted(x, fs, window, template, rounds):
        aligned.append((len(x), window, rounds))
        return original(x, fs, window, template, rounds=rounds)

    monkeypatch.setattr(templatesearch, "align", counted)
    twice = templatesearch.quick_templates([x], fs, 30.0)
    whole = [(window, rounds) for n, window, rounds in aligned if n == len(x)]
    assert twice is not None and len(whole) == 1 and whole[0][1] == 1  # the whole channel aligned once more
    monkeypatch.setattr(templatesearch, "SHORT_ALIGN_ROUNDS", 1)
    aligned.clear()
    once = templatesearch.quick_templates([x], fs, 30.0)
    assert once is not None and not [n for n, *_ in aligned if n == len(x)]
    # the second round is beats.align's round from the first's template, over the whole channel
    again = original(x, fs, whole[0][0], once[0], rounds=1)
    np.testing.assert_array_equal(twice[0].positions, again.positions)
    np.testing.assert_array_equal(twice[0].t8, again.t8)
    assert not np.array_equal(once[0].positions, twice[0].positions)  # it moved beats
    files_once = {p: sancodec.encode(ptb, mode="lossy", prdn=p, effort="balanced") for p in (2.0, 5.0)}
    monkeypatch.setattr(templatesearch, "SHORT_ALIGN_ROUNDS", 2)
    monkeypatch.setattr(templatesearch, "SHORT_CHANNEL", len(x) - 1)  # as a longer channel: aligned once
    aligned.clear()
    assert templatesearch.quick_templates([x], fs, 30.0) is not None
    assert not [n for n, *_ in aligned if n == len(x)]
    monkeypatch.undo()
    for p, once_data in files_once.items():
        data = sancodec.encode(ptb, mode="lossy", prdn=p, effort="balanced")
        assert len(data) < 0.995 * len(once_data)
        assert prdn(x, sancodec.decode(data).samples[:, 0]) <= p


def test_balanced_weighs_no_template_on_a_channel_of_a_dozen_beats(monkeypatch):
    """templatesearch.quick_templates: a channel with fewer than MIN_TEMPLATE_BEATS beats (MIMIC's 1028 samples at
    125 Hz: 11) has no window weighed; weighed anyway, its template is turned down at every PRDN: the same bytes."""
    sig = read_signal(DATA / "3000003_0003")
    x, fs = sig.samples[:, 0], sig.fs
    beats = len(templatesearch.find_beats(x.astype(float), fs))
    assert 0 < beats < templatesearch.MIN_TEMPLATE_BEATS
    weighed: list[int] = []
    original = templatesearch._weighed_windows
    monkeypatch.setattr(templatesearch, "_weighed_windows", lambda *args, **kw: weighed.append(1) or
                        original(*args, **kw))
    assert templatesearch.quick_templates([x], fs, 1.0) is None and not weighed
    files = {p: sancodec.encode(sig, mode="lossy", prdn=p, effort="balanced") for p in (1.0, 5.0, 9.0)}
    monkeypatch.setattr(templatesearch, "MIN_TEMPLATE_BEATS", 0)
    templatesearch.quick_templates([x], fs, 1.0)
    assert weighed  # a beat train there: its windows weighed
    for p, data in files.items():
        assert sancodec.encode(sig, mode="lossy", prdn=p, effort="balanced") == data


def test_balanced_effort_drops_a_template_that_only_paid_at_a_finer_step(long_ecg, monkeypatch):
    # the template is weighed at the first step measured, then again at the step its rate control found
    steps: list[float] = []

    def pays_first(self, step):
        steps.append(step)
        return len(steps) == 1

    monkeypatch.setattr(templatesearch.TemplateTrial, "pays", pays_first)
    sig = long_ecg.slice(0, 30000)
    data = sancodec.encode(sig, mode="lossy", prdn=5.0, effort="balanced")
    # lead 0: weighed at the first guess (pays), at the step found (does not); lead 1: at its first guess only
    assert len(steps) == 3 and steps[1] != steps[0]
    assert not any(bits & 1 for bits in wavelet_predictors(data))  # the plain coding on both, at its own step
    back = sancodec.decode(data).samples
    assert all(prdn(sig.samples[:, ch], back[:, ch]) <= 5.0 for ch in range(2))


def test_the_template_is_weighed_on_the_head_of_a_long_channel(long_ecg, monkeypatch):
    monkeypatch.setattr(templatesearch, "QUICK_HEAD", 1 << 13)
    x = long_ecg.samples[:, 0]
    templates = templatesearch.quick_templates([x], 360.0, 20.0)
    assert templates is not None
    sizes: list[int] = []
    original = Prepared.__init__

    def record(self, frames, *args, **kwargs):
        sizes.append(sum(map(len, frames)))
        original(self, frames, *args, **kwargs)

    monkeypatch.setattr(Prepared, "__init__", record)
    trial = templatesearch.TemplateTrial([x], templates)
    assert trial.pays(20.0) and trial.pays(40.0)
    assert sizes == [1 << 13, 1 << 13]  # the head with its template and without, not the 100 000 samples, once


def test_effort_is_checked():
    sig = read_signal(DATA / "test01_00s")
    with pytest.raises(SanConfigError, match=r"effort \(--effort\) must be one of"):
        sancodec.encode(sig, mode="lossy", prdn=2.0, effort="quick")
    with pytest.raises(SanConfigError, match="applies to lossy mode"):
        sancodec.encode(sig, mode="lossless", effort="fast")


def test_cli_effort(tmp_path):
    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    rec = str(tmp_path / "test01_00s")
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--effort", "fast"])
    assert res.exit_code == 0, res.output
    back = sancodec.decode((tmp_path / "test01_00s.san").read_bytes()).samples
    x = read_signal(tmp_path / "test01_00s").samples
    assert all(prdn(x[:, ch], back[:, ch]) <= 2.0 for ch in range(x.shape[1]))
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--effort", "balanced", "-f"])
    assert res.exit_code == 0 and "not decoded to check it (--effort balanced" in res.output, res.output
    back = sancodec.decode((tmp_path / "test01_00s.san").read_bytes()).samples
    assert all(prdn(x[:, ch], back[:, ch]) <= 2.0 for ch in range(x.shape[1]))
    res = CliRunner().invoke(app, ["encode", rec, "--effort", "fast", "-o", str(tmp_path / "x.san")])
    assert res.exit_code == 2 and "--effort applies to lossy mode" in res.stderr
    assert not (tmp_path / "x.san").exists()


def _count_checks(monkeypatch) -> list[int]:
    """The lossy encoder's decode-and-check passes (api._verify), counted as they run."""
    from sancodec.codec import api

    calls: list[int] = []
    original = api._verify
    monkeypatch.setattr(api, "_verify", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_fast_effort_skips_the_check_unless_asked(monkeypatch):
    sig = read_signal(DATA / "test01_00s")
    calls = _count_checks(monkeypatch)
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    assert not calls
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast", verify=True) == fast and calls == [1]
    default = sancodec.encode(sig, mode="lossy", prdn=2.0)
    assert default == sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") and calls == [1]  # unchecked
    sancodec.encode(sig, mode="lossy", prdn=2.0, effort="best")
    assert calls == [1, 1]  # effort best checks
    sancodec.encode(sig, mode="lossy", prdn=2.0, effort="best", verify=False)
    assert calls == [1, 1]
    back = sancodec.decode(fast).samples  # unchecked, still at the target on every channel
    assert all(prdn(sig.samples[:, ch], back[:, ch]) <= 2.0 for ch in range(sig.n_channels))


def test_fast_effort_skips_the_check_of_a_record_coded_block_by_block(monkeypatch):
    import numpy as np

    from sancodec.codec import api, lossyfile

    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 12)
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000]
    read = lambda rows: (x[i : i + rows] for i in range(0, len(x), rows))  # noqa: E731
    for verify, checked in ((None, False), (True, True)):
        said: list[str] = []
        data = api.encode_lossy_blocks(sig.slice(0, 1), len(x), read, prdn=5.0, effort="fast", frame_len=1 << 11,
                                       verify=verify, progress=said.append)
        assert data is not None and any("coding block" in line for line in said)
        assert any("checking block" in line for line in said) == checked


def test_cli_verify_flag(tmp_path, monkeypatch):
    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    rec = str(tmp_path / "test01_00s")
    calls = _count_checks(monkeypatch)
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--effort", "fast", "--verify"])
    assert res.exit_code == 0, res.output
    assert calls == [1] and "not decoded to check" not in res.output
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--no-verify", "-f"])
    assert res.exit_code == 0, res.output
    assert calls == [1] and "not decoded to check" in res.output
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--effort", "fast", "-f", "--json"])
    assert res.exit_code == 0, res.output
    assert calls == [1] and json.loads(res.stdout)["checked"] is False
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "-f", "--json"])
    summary = json.loads(res.stdout)
    assert calls == [1] and summary["checked"] is False and summary["effort"] == "balanced"  # the default
    res = CliRunner().invoke(app, ["encode", rec, "--mode", "lossy", "--prdn", "2", "--effort", "best", "-f", "--json"])
    summary = json.loads(res.stdout)
    assert calls == [1, 1] and summary["checked"] is True and summary["effort"] == "best"
    res = CliRunner().invoke(app, ["encode", rec, "--no-verify", "-o", str(tmp_path / "x.san")])
    assert res.exit_code == 2 and "apply to lossy mode" in res.stderr
    assert not (tmp_path / "x.san").exists()


def test_fast_effort_codes_a_long_band_in_one_table_where_contexts_would_not_pay():
    """quick_bands: running contexts for a bursty band, one table for a stationary one (whose 64 context
    tables would cost more than they save: PTB s0010_re's and a103l PLETH's finest bands at low rates)."""
    import numpy as np

    from sancodec.codec import running
    from sancodec.codec.entropy import ByteReader, decode_arrays, encode_arrays

    rng = np.random.default_rng(0)
    flat = np.rint(rng.laplace(0, 2, 9000)).astype(np.int64)
    bursty = np.concatenate([np.rint(rng.laplace(0, s, 1000)).astype(np.int64) for s in [0.3, 40] * 5])
    assert not running.weigh(flat, running.BAND_PARAMS)[1] and running.weigh(bursty, running.BAND_PARAMS)[1]
    separate, blob = waveletframe.quick_bands([flat, bursty])
    r = ByteReader(blob, "bands")
    assert separate == waveletframe.SEPARATE_BANDS and r.varint() == 0b10  # only the bursty band contextual
    first, second = r.raw(r.varint()), r.raw(r.varint())
    assert first == encode_arrays([flat], [False]) and len(first) < len(running.encode(flat, 3))
    assert running.is_running(second)
    assert np.array_equal(decode_arrays(first, [len(flat)], [False])[0], flat)


def test_quick_bands_keep_the_adaptive_stream_where_it_is_smaller(long_ecg, monkeypatch):
    """quick_bands also codes a frame of up to adaptivebands.MAX_VALUES values in one adaptive stream and keeps it
    where it takes under QUICK_ADAPTIVE_SHARE of the bands apart (a coarse ECG frame's, whose tables cost most), the
    bands apart where they are smaller (a bursty band, which running contexts follow) or where the stream only
    just wins (it decodes slower), and always past MAX_VALUES."""
    import numpy as np

    from sancodec.codec.wavelet import forward_flat, split_bands

    monkeypatch.setattr(waveletframe, "QUICK_LPC_VALUES", 0)  # (no band predicted: the bands apart as they are)
    monkeypatch.setattr(waveletframe, "LONG_LPC_BITS", math.inf)
    x = long_ecg.samples[:60000, 0].astype(np.float64)
    q = waveletframe.quantise(split_bands(forward_flat(x - np.rint(x.mean()), 6), 6), 60.0)
    coarse = [np.diff(q[0], prepend=0), *q[1:]]
    rng = np.random.default_rng(0)
    bursty = np.concatenate([np.rint(rng.laplace(0, s, 2000)).astype(np.int64) for s in [0.3, 40] * 20])
    chosen = {}
    for name, streams in (("coarse", coarse), ("bursty", [bursty[:100], bursty])):
        how, blob = waveletframe.quick_bands(streams)
        adaptive, parents = adaptivebands.encode_either(streams)  # the smaller of the streams without and with
        # parent contexts (format 1.13)
        assert adaptive == adaptivebands.encode(streams, parent=parents)
        apart = waveletframe._apart([waveletframe._quick_band(s) for s in streams])
        assert blob == (adaptive if how & waveletframe.ADAPTIVE_BANDS else apart)
        assert how & waveletframe.ADAPTIVE_PARENT == (waveletframe.ADAPTIVE_PARENT if parents and blob == adaptive
                                                      else 0)
        assert len(blob) == min(len(adaptive), len(apart))
        chosen[name] = how & ~waveletframe.ADAPTIVE_PARENT, len(adaptive) / len(apart)
    assert chosen["coarse"][0] == waveletframe.ADAPTIVE_BANDS and chosen["bursty"][0] == waveletframe.SEPARATE_BANDS
    assert chosen["coarse"][1] < waveletframe.QUICK_ADAPTIVE_SHARE
    monkeypatch.setattr(waveletframe, "QUICK_ADAPTIVE_SHARE", chosen["coarse"][1])  # the stream no longer under it
    assert waveletframe.quick_bands(coarse)[0] == waveletframe.SEPARATE_BANDS
    monkeypatch.undo()
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 50000)  # a frame past it: the bands apart, not weighed
    assert waveletframe.quick_bands(coarse)[0] & ~waveletframe.BAND_LPC == waveletframe.SEPARATE_BANDS


def test_quick_bands_code_no_adaptive_stream_for_a_long_finely_quantised_frame(long_ecg, monkeypatch):
    """On a frame of more than QUICK_ADAPTIVE_LONG values, quick_bands codes the adaptive stream only where its
    tokens take at most QUICK_ADAPTIVE_DECISIONS binary decisions a value: a finely quantised frame (tokens of 7 or
    so) gets its bands apart without the stream's work, a coarse one still weighs the stream, and a frame no longer
    than QUICK_ADAPTIVE_LONG weighs it whatever its tokens."""
    import numpy as np

    from sancodec.codec.kernels import tokenize
    from sancodec.codec.wavelet import forward_flat, split_bands

    x = long_ecg.samples[:60000, 0].astype(np.float64)
    bands = split_bands(forward_flat(x - np.rint(x.mean()), 6), 6)
    fine = waveletframe.quantise(bands, 0.5)
    coarse = waveletframe.quantise(bands, 60.0)
    per_value = {name: sum(adaptivebands.decisions(tokenize(b)[0]) for b in q) / 60000
                 for name, q in (("fine", fine), ("coarse", coarse))}
    assert per_value["fine"] > waveletframe.QUICK_ADAPTIVE_DECISIONS > per_value["coarse"]
    coded: list[bool] = []
    original = adaptivebands.encode_either

    def recorded(streams, max_decisions=None):
        out = original(streams, max_decisions)
        coded.append(out is not None)
        return out

    monkeypatch.setattr(adaptivebands, "encode_either", recorded)
    monkeypatch.setattr(waveletframe, "QUICK_LPC_VALUES", 0)  # (no band predicted: the bands apart as they are)
    monkeypatch.setattr(waveletframe, "LONG_LPC_BITS", math.inf)
    how, blob = waveletframe.quick_bands(fine)
    assert how == waveletframe.SEPARATE_BANDS and coded == [False]
    assert blob == waveletframe._apart([waveletframe._quick_band(s) for s in fine])
    assert waveletframe.quick_bands(coarse)[0] & waveletframe.ADAPTIVE_BANDS and coded[-1]
    monkeypatch.setattr(waveletframe, "QUICK_ADAPTIVE_LONG", 60000)  # no longer past it: the stream is weighed
    waveletframe.quick_bands(fine)
    assert coded[-1]


def test_fast_effort_writes_adaptive_frames_that_decode_within_the_target(long_ecg, monkeypatch):
    sig = long_ecg.select_channels([0]).slice(0, 60000)
    data = check_encode_decode(sig, mode="lossy", prdn=9.0, effort="fast")
    assert [bits & ~waveletframe.ADAPTIVE_PARENT for _, bits in wavelet_heads(data)] == [waveletframe.ADAPTIVE_BANDS]
    assert prdn(sig.samples[:, 0], decode_file(data).signal.samples[:, 0]) <= 9.0
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)  # the bands apart only: a larger file
    apart = check_encode_decode(sig, mode="lossy", prdn=9.0, effort="fast")
    bits = [bits & ~waveletframe.BAND_LPC for _, bits in wavelet_heads(apart)]  # (some bands may be predicted)
    assert bits == [waveletframe.SEPARATE_BANDS] and len(data) < len(apart)


def test_balanced_effort_puts_gains_and_taps_on_the_grids_its_head_prefers(monkeypatch):
    sig = read_signal(DATA / "a103l_20000")  # 250 Hz, three channels with templates of 150 taps and more
    monkeypatch.setattr(lossy, "TIME_DOMAIN_ALWAYS", 0)  # the wavelet coding alone
    data = check_encode_decode(sig, mode="lossy", prdn=5.0, effort="balanced")
    assert all(bits & 8 for bits in wavelet_predictors(data))  # every template's taps on a coarser grid
    back = decode_file(data).signal.samples
    assert all(prdn(sig.samples[:, ch], back[:, ch]) <= 5.0 for ch in range(3))
    judged: list[int] = []
    original = templatesearch.gain_grid

    def recorded(frames, *args):
        judged.append(len(frames[0]))
        return original(frames, *args)

    monkeypatch.setattr(templatesearch, "gain_grid", recorded)
    monkeypatch.setattr(templatesearch, "QUICK_SIDE_HEAD", 8192)
    on_a_shorter_head = sancodec.encode(sig, mode="lossy", prdn=5.0, effort="balanced")
    assert judged == [8192] * 3  # judged on each channel's head only
    assert all(bits & 8 for bits in wavelet_predictors(on_a_shorter_head))
    monkeypatch.setattr(lossy, "quick_grids", lambda frames, ref, templates, step, **_: list(templates))
    assert len(data) < 0.95 * len(sancodec.encode(sig, mode="lossy", prdn=5.0, effort="balanced"))


def _steps(n: int = 50000) -> Signal:
    """Steps between a dozen levels with a few one-sample blips: under 0.1 bit a sample as wavelets (sparse)."""
    import numpy as np

    rng = np.random.default_rng(7)
    edges = np.sort(rng.choice(n, 12, replace=False))
    x = np.repeat(rng.integers(-400, 400, len(edges) + 1), np.diff(np.concatenate([[0], edges, [n]])))
    x = x + (rng.random(n) < 0.002) * rng.integers(-3, 4, n)
    return Signal(x[:, None].astype(np.int64), 250.0, ["x"], ["NU"])


def test_balanced_effort_codes_a_sparse_channel_s_wavelets_as_the_default_first_does(monkeypatch):
    # steps between a few levels: under 0.1 bit a sample as wavelets; the time domain left out, the wavelet
    # coding with every band's coding weighed and the step scanned past a falling PRDN codes it smaller
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)  # plain at fast's levels (another test's question)
    sig = _steps()
    x, n = sig.samples[:, 0], len(sig.samples)
    monkeypatch.setattr(lossy.timedomain, "code_channel", lambda *args: None)
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    data = check_encode_decode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert 8 * len(fast) < lossy.SPARSE_BPS * n and len(data) < len(fast)
    assert prdn(x, decode_file(data).signal.samples[:, 0]) <= 2.0
    monkeypatch.setattr(lossy, "SPARSE_BPS", 0.0)  # the rule off: balanced codes the quick bands, unscanned
    assert len(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")) > len(data)


def _breathing(n: int = 40000, fs: float = 125.0) -> Signal:
    """A respiration-like channel: a breath every four seconds or so, its rate drifting, three harmonics, a little
    noise."""
    import numpy as np

    rng = np.random.default_rng(11)
    t = np.arange(n) / fs
    phase = 2 * np.pi * np.cumsum(0.25 + 0.02 * np.sin(2 * np.pi * t / 60)) / fs
    x = 2000 * np.sin(phase) + 600 * np.sin(2 * phase + 0.5) + 200 * np.sin(3 * phase + 1) + rng.normal(0, 4, n)
    return Signal(np.rint(x).astype(np.int64)[:, None], fs, ["RESP"], ["NU"])


def test_balanced_codes_a_short_channel_plain_at_fewer_levels(monkeypatch):
    """lossy.SHORT_PLAIN_LEVELS: balanced's plain coding of a channel of at most LEVEL_CHANNELS samples takes 5
    wavelet levels, not 7 (fast's): a slow breathing signal codes far smaller so, its target met; a longer channel
    keeps 7."""
    sig = _breathing()
    assert len(sig.samples) <= lossy.LEVEL_CHANNELS
    fast = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    data = check_encode_decode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert [levels for levels, _ in wavelet_heads(data)] == [lossy.SHORT_PLAIN_LEVELS] == [5]
    assert [levels for levels, _ in wavelet_heads(fast)] == [LEVELS] == [7]
    assert len(data) < 0.85 * len(fast)
    assert prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0]) <= 2.0
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == fast
    monkeypatch.undo()
    monkeypatch.setattr(lossy, "LEVEL_CHANNELS", len(sig.samples) - 1)  # as a longer channel: fast's levels
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == fast


def test_balanced_template_trial_weighs_both_heads_at_the_same_levels(monkeypatch):
    """A short channel's template trial weighs its head without the template at lossyrate.LEVELS, as it weighs the
    head with it: not the plain coding's bands at SHORT_PLAIN_LEVELS, whose order-0 estimate would lean the trial
    toward the template (the estimate favours more levels where the coded bytes favour fewer)."""
    seen: list[tuple[int, int]] = []
    real = lossy.TemplateTrial

    def spy(*args, **kwargs):
        trial = real(*args, **kwargs)
        seen.append((trial.without.asked_levels, trial.with_template.asked_levels))
        return trial

    monkeypatch.setattr(lossy, "TemplateTrial", spy)
    sig = read_signal(DATA / "a103l_20000").select_channels([0])  # one frame the trial's head holds whole, its
    # plain coding made first (no mains line looked for on a channel this short)
    assert lossy.PLAIN_FIRST <= len(sig.samples) <= min(templatesearch.QUICK_HEAD, lossy.QUICK_MAINS)
    assert lossy.SHORT_PLAIN_LEVELS != LEVELS
    sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert seen and all(pair == (LEVELS, LEVELS) for pair in seen)


def test_balanced_keeps_a_sparse_channels_smaller_coding_by_its_bytes(monkeypatch):
    """A sparse channel's plain coding (at SHORT_PLAIN_LEVELS) and its scan at lossyrate.LEVELS with every band coded
    every way are weighed by their bytes, not the bit estimate, which misjudges codings at other levels: the file is
    never larger than the plain coding alone (the rule off, SPARSE_BPS 0), which it was when the estimate chose."""
    sig = _steps()
    x, n = sig.samples[:, 0], len(sig.samples)
    monkeypatch.setattr(lossy.timedomain, "code_channel", lambda *args: None)  # the wavelets' question alone
    data = check_encode_decode(sig, mode="lossy", prdn=2.0, effort="balanced")
    monkeypatch.setattr(lossy, "SPARSE_BPS", 0.0)
    plain = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    assert 8 * len(plain) < 0.1 * n  # sparse
    assert len(data) <= len(plain)
    assert prdn(x, sancodec.decode(data).samples[:, 0]) <= 2.0


def test_a_head_prepared_again_with_its_own_beats_shares_the_bands_and_counts_its_side_information(long_ecg):
    """``Prepared.with_templates``: a channel's head under its template less the beats outside it has the bands the
    whole template gives it; the copy shares them and their estimate, and counts the fewer beats' side information:
    the same estimate, bit for bit, as preparing it afresh."""
    import numpy as np

    from sancodec.codec.lossyrate import Prepared

    x = long_ecg.samples[:, 0]
    template = templatesearch.quick_templates([x], long_ecg.fs, 20.0)[0]
    head = x[: templatesearch.QUICK_HEAD]
    mine = template.positions - template.anchor < len(head)
    local = templatesearch.replace(template, positions=template.positions[mine], g64=template.g64[mine])
    whole = Prepared([head], [template])
    whole.estimate(20.0)
    shared = whole.with_templates([local])
    fresh = Prepared([head], [local])
    assert shared.flat[0] is whole.flat[0] and shared.side_bits == fresh.side_bits < whole.side_bits
    for step in (20.0, 55.0):
        assert shared.estimate(step) == fresh.estimate(step)
        assert shared.squared_error(head.astype(float), step) == fresh.squared_error(head.astype(float), step)
    assert np.array_equal(shared.flat[0], fresh.flat[0])
    # what a caller checks before taking a head prepared elsewhere: its length, that template object, no hum
    assert whole.prepares(head, template) and shared.prepares(head, local)
    assert not whole.prepares(head, local) and not whole.prepares(head[:-1], template)
    assert not Prepared([head], [None]).prepares(head, template)


def test_the_grids_and_the_hum_weigh_the_trial_s_head_without_preparing_it_again(mitdb_100, monkeypatch):
    """``quick_grids`` and the hum's test on the head take ``TemplateTrial``'s head as it was prepared (its bands,
    its estimate): two wavelet transforms of that head fewer on a long ECG with mains hum, the same file."""
    from sancodec.codec import kernels, lossyrate, wavelet

    sig = read_signal(mitdb_100).select_channels([0])
    assert len(sig.samples) >= lossy.QUICK_MAINS
    transforms: list[int] = []  # a frame's transform by either of Prepared's routes (one compiled call, or numpy's)
    original, compiled = wavelet.forward_flat, kernels.prepared_forward
    monkeypatch.setattr(lossyrate, "forward_flat", lambda x, *a: transforms.append(len(x)) or original(x, *a))

    def counted(f, *a):
        got = compiled(f, *a)
        if got is not None:  # else Prepared's numpy route transforms it (counted there)
            transforms.append(len(f))
        return got

    monkeypatch.setattr(kernels, "prepared_forward", counted)
    made = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    shared = transforms.count(templatesearch.QUICK_HEAD)
    real_grids, real_hum = lossy.quick_grids, lossy._hum_pays_on_head
    monkeypatch.setattr(lossy, "quick_grids", lambda *a, head=None, **k: real_grids(*a, **k))  # each head made afresh
    monkeypatch.setattr(lossy, "_hum_pays_on_head", lambda *a: real_hum(*a[:5]))
    transforms.clear()
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced") == made
    assert transforms.count(templatesearch.QUICK_HEAD) == shared + 2


def test_balanced_effort_codes_a_channel_its_trial_holds_whole_with_the_trial_s_preparations(long_ecg, monkeypatch):
    """A one-frame channel of at most ``QUICK_HEAD`` samples (the template trial's head is all of it): the plain
    coding's frame serves as the trial's head without a template and the trial's head with it is what the rate
    control codes, two preparations fewer than where the head is made apart, and the same file (no hum looked for:
    its mitdb excerpt has a mains line, whose head fit would make preparations of its own). The plain coding must be
    at the trial's levels for its frame to serve (lossy.SHORT_PLAIN_LEVELS set to them here). A whole channel's
    template is also weighed remade (lossy.SHORT_REMADE, its own test), which a channel made apart is not: left out
    here."""
    monkeypatch.setattr(lossy, "QUICK_MAINS", lossy.PLAIN_AHEAD)
    monkeypatch.setattr(lossy, "SHORT_PLAIN_LEVELS", LEVELS)
    monkeypatch.setattr(lossy, "SHORT_REMADE", ())
    one_lead = long_ecg.select_channels([0]).slice(0, 60000)
    assert lossy.PLAIN_FIRST <= one_lead.n_samples <= lossy.QUICK_HEAD
    made: list[int] = []
    init = Prepared.__init__
    monkeypatch.setattr(Prepared, "__init__", lambda self, *a, **k: made.append(1) or init(self, *a, **k))
    data = sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    assert [bits & 1 for bits in wavelet_predictors(data)] == [1]  # the template kept
    reused = len(made)
    made.clear()
    monkeypatch.setattr(lossy, "QUICK_HEAD", 0)  # no channel is whole in the trial's head: each made apart
    assert sancodec.encode(one_lead, mode="lossy", prdn=2.0, effort="balanced", threads=1) == data
    assert reused == len(made) - 2


def test_the_trial_after_the_grids_takes_the_grids_head(long_ecg, monkeypatch):
    """``templatesearch.trial_head``: the head ``quick_grids`` prepared with the grids it chose is the second
    ``TemplateTrial``'s head (the bands shared, the whole template's side information counted): its offsets, bands and
    estimates are those of that head prepared afresh, a template that is not the head's beats of the grids' gets
    none, and balanced's file is the same with one preparation fewer."""
    from dataclasses import replace

    import numpy as np

    one_lead = long_ecg.select_channels([0])
    x = one_lead.samples[:, 0]
    assert len(x) > templatesearch.QUICK_HEAD  # the template's later beats lie past the head
    step = 12.0  # its grids: the gains on one, the taps on 2^2 eighths
    templates = templatesearch.quick_templates([x], one_lead.fs, step)
    assert templates is not None
    ref = x.astype(np.float64)
    kept: list[Prepared] = []
    gridded = templatesearch.quick_grids([x], ref, templates, step, kept=kept)
    assert gridded[0] is not templates[0] and len(kept) == 1  # the grids chose something
    shared = templatesearch.trial_head(kept[0], [x], gridded, True)
    fresh = Prepared([x[: templatesearch.QUICK_HEAD]], [gridded[0]], quick=True)
    assert shared is not None and shared.quick and shared.templates[0] is gridded[0]
    assert shared.offsets == fresh.offsets and shared.flat[0].tobytes() == fresh.flat[0].tobytes()
    assert shared.side_bits == fresh.side_bits and shared.side_bits != kept[0].side_bits
    assert all(shared.estimate(s) == fresh.estimate(s) for s in (step, 2 * step, step / 3))
    other = replace(gridded[0], g64=gridded[0].g64 + 1)  # not the grids' template
    assert templatesearch.trial_head(kept[0], [x], [other], True) is None
    assert templatesearch.trial_head(kept[0], [x], [gridded[0].with_taps_on(4)], True) is None  # other taps
    assert templatesearch.trial_head(kept[0].with_quantiser(0.3, 7), [x], gridded, True) is None  # not the trial's
    made: list[int] = []
    init = Prepared.__init__
    monkeypatch.setattr(Prepared, "__init__", lambda self, *a, **k: made.append(1) or init(self, *a, **k))
    # at PRDN 3 %, where the grids choose something (at 2 % the template's taps as second differences, format 1.12,
    # left them nothing to gain)
    data = sancodec.encode(one_lead, mode="lossy", prdn=3.0, effort="balanced", threads=1)
    shared_count = len(made)
    made.clear()
    monkeypatch.setattr(lossy, "trial_head", lambda *a: None)  # the head prepared afresh
    assert sancodec.encode(one_lead, mode="lossy", prdn=3.0, effort="balanced", threads=1) == data
    assert shared_count == len(made) - 1


@pytest.mark.parametrize("mode", ["lossless", "near-lossless", "san"])
@pytest.mark.parametrize("target", [["--prdn", "2"], ["--snr", "30"], ["--bps", "2"]])
def test_cli_refuses_a_lossy_target_in_another_mode_on_every_path(tmp_path, mode, target):
    """A format 212 record is streamed frame by frame past the library's own check of the options: a forgotten
    ``--mode lossy`` once made a lossless file of it without a word (with ``--channels`` it was refused)."""
    extra = ["--max-error", "2"] if mode == "near-lossless" else []
    for channels in ([], ["--channels", "0"]):
        out = tmp_path / "x.san"
        res = CliRunner().invoke(app, ["encode", str(DATA / "100_3chan"), "--mode", mode, *extra, *target, *channels,
                                       "-o", str(out)])
        assert res.exit_code == 2 and "targets of lossy mode" in res.stderr, res.output
        assert res.stderr.count("\n") == 1 and not out.exists()


def test_fast_decode_is_refused_in_lossy_mode(tmp_path):
    """Lossy files' exact frames take their own plan (``timedomain.EXACT``): ``--fast-decode`` would change
    nothing, so it is refused rather than ignored, by the CLI and the library alike."""
    out = tmp_path / "x.san"
    res = CliRunner().invoke(app, ["encode", str(DATA / "100_3chan"), "--mode", "lossy", "--prdn", "2",
                                   "--fast-decode", "-o", str(out)])
    assert res.exit_code == 2 and "--fast-decode applies to lossless and near-lossless" in res.stderr
    assert not out.exists()
    res = CliRunner().invoke(app, ["encode", str(DATA / "100_3chan"), "--mode", "san", "--fast-decode", "-o", str(out)])
    assert res.exit_code == 2 and "not san" in res.stderr and not out.exists()  # (the same file as without it)
    sig = read_signal(DATA / "100_3chan")
    with pytest.raises(SanConfigError, match="'fast' applies to lossless and near-lossless modes"):
        sancodec.encode(sig, mode="lossy", prdn=2, predictor="fast")
    assert sancodec.decode(sancodec.encode(sig, mode="lossless", predictor="fast")).samples.tolist() == \
        sig.samples.tolist()  # where it means something, taken
