"""benchmarks/effort_frontier.py measures each encoder configuration against issue 13's goals: its configurations must
name settings the encoder reads, change what they say they change, and leave the encoder as it was."""

import math
import sys
from pathlib import Path

import pytest
from common import wavelet_predictors

import sancodec
from sancodec import read_signal
from sancodec.codec import lossy, templatesearch, timedomain, waveletframe
from sancodec.metrics import prdn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import effort_frontier  # noqa: E402
from ab_setting import setting  # noqa: E402
from lossy_signals import points_below  # noqa: E402

DATA = Path(__file__).parent / "data"


def test_every_configuration_names_settings_the_encoder_has_with_values_of_their_kind():
    assert [c.effort for c in effort_frontier.CONFIGURATIONS].count("balanced") >= 2
    assert {c.effort for c in effort_frontier.CONFIGURATIONS} == set(lossy.EFFORTS)
    assert len({c.short for c in effort_frontier.CONFIGURATIONS}) == len(effort_frontier.CONFIGURATIONS)
    for config in effort_frontier.CONFIGURATIONS:
        for dotted, value in config.settings.items():
            module, name = setting(dotted)  # SystemExit where the encoder no longer has it
            assert type(value) is type(getattr(module, name)), dotted  # a tuple for a tuple, an int for an int


def test_settings_are_applied_within_the_block_and_put_back_after_it_even_on_an_error():
    kept = (lossy.QUICK_DEPENDENT, lossy.SHORT_REMADE, templatesearch.SHORT_CHANNEL, timedomain.GRID_LOOK_MARGIN)
    everything = {k: v for c in effort_frontier.CONFIGURATIONS for k, v in c.settings.items()}
    with effort_frontier.applied(everything):
        assert lossy.QUICK_DEPENDENT == 0 and lossy.SHORT_REMADE == () and templatesearch.SHORT_CHANNEL == 0
        assert timedomain.GRID_LOOK_MARGIN == 0.0
    assert (lossy.QUICK_DEPENDENT, lossy.SHORT_REMADE, templatesearch.SHORT_CHANNEL,
            timedomain.GRID_LOOK_MARGIN) == kept
    with pytest.raises(RuntimeError), effort_frontier.applied(effort_frontier.TRELLIS):
        raise RuntimeError
    assert lossy.QUICK_DEPENDENT == kept[0]
    with pytest.raises(SystemExit, match="no setting"), \
            effort_frontier.applied({**effort_frontier.TRELLIS, "sancodec.codec.lossy.NO_SUCH_SETTING": 1}):
        pass
    assert lossy.QUICK_DEPENDENT == kept[0]  # what was set before the unknown one is put back too


def test_a_configuration_codes_as_it_says_and_its_ratios_are_measured_on_met_targets():
    """Without the trellis, PTB s0010_re's lead at PRDN 1 % has no dependently quantised frame (balanced's file has
    one, and is smaller); each ratio is the file's CR over the given wavelet CR, None where there is none."""
    sig = read_signal(DATA / "s0010_re_i")
    by_name = {c.short: c for c in effort_frontier.CONFIGURATIONS}
    balanced, _ = effort_frontier.encode(sig, by_name["balanced"], 1.0)
    without, seconds = effort_frontier.encode(sig, by_name["-trellis"], 1.0)
    assert seconds > 0
    assert all(bits & waveletframe.DEPENDENT for bits in wavelet_predictors(balanced))
    assert not any(bits & waveletframe.DEPENDENT for bits in wavelet_predictors(without))
    assert len(balanced) < len(without)
    assert prdn(sig.samples[:, 0], sancodec.decode(without).samples[:, 0]) <= 1.0
    assert lossy.QUICK_DEPENDENT > 0  # put back
    ratios = effort_frontier.ratios_met(sig, by_name["-trellis"], [2.0, None], (1.0, 9.0))
    assert ratios[1] is None and ratios[0] == pytest.approx(11 * sig.n_samples / (8 * len(without)) / 2.0)


def test_points_below_the_goal_and_the_floor_and_the_fastest_timing():
    goals, points = {1.0: 1.2, 5.0: 1.5}, [("ECG", "a", 1.0, 1.19), ("ECG", "a", 5.0, 1.6), ("EMG", "b", 1.0, 0.85)]
    short, low = points_below(points, goals, 0.9, digits=3)
    assert short == ["a 1 %: 1.190x"] and low == ["b 1 %: 0.850x"]  # the EMG point has no ECG goal, only the floor
    assert points_below(points, goals, 0.9) == (["a 1 %: 1.19x"], ["b 1 %: 0.85x"])  # bench_lossy's two decimals
    assert effort_frontier.fastest(float("inf"), 0.2) == 0.2 and effort_frontier.fastest(0.1, 0.2) == 0.1
    assert math.isnan(effort_frontier.fastest(float("inf"), float("nan")))  # the wavelet coder does not reach it
    assert math.isnan(effort_frontier.fastest(float("nan"), 0.1))


def test_one_thread_times_a_configuration_and_its_compiled_share():
    sig = read_signal(DATA / "s0010_re_i")
    by_name = {c.short: c for c in effort_frontier.CONFIGURATIONS}
    total, inside = effort_frontier.one_thread([sig], by_name["-trellis"], 1)
    assert 0 <= inside < total
    assert lossy.QUICK_DEPENDENT > 0  # put back
