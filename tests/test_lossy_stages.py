"""benchmarks/lossy_stages.py times the lossy encoder's stages where they are called: every stage it names is still a
function of the encoder (a renamed one would drop out of its table unnoticed), its clock comes off again, and
``--per-signal`` prints each signal's own split."""

import sys
from pathlib import Path

import pytest
from common import mitdb_lead, needs_c, numpy_only

import sancodec
from sancodec.codec import kernels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import lossy_stages  # noqa: E402


def test_every_stage_named_is_a_function_of_the_encoder():
    for owner, name, label in lossy_stages.STAGES:
        assert callable(getattr(owner, name, None)), f"{label}: {owner.__name__}.{name} is gone"


def test_a_sweep_times_its_stages_within_the_whole_and_takes_its_clock_off():
    before = [getattr(owner, name) for owner, name, _ in lossy_stages.STAGES]
    total, seconds = lossy_stages.sweep([mitdb_lead(20_000)], "balanced", 2.0, lossy_stages.STAGES)
    assert total > 0 and seconds  # a balanced encode of an ECG passes through named stages
    assert 0 < sum(seconds.values()) <= total
    assert [getattr(owner, name) for owner, name, _ in lossy_stages.STAGES] == before


def test_per_signal_prints_a_line_for_each_signal(capsys):
    signals = [mitdb_lead(8_000), mitdb_lead(12_000)]
    lossy_stages.per_signal(signals, ["first", "second"], "fast", 2.0, 1, lossy_stages.STAGES)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0].strip() for line in lines] == ["first", "second"]
    assert "(8000)" in lines[0] and "(12000)" in lines[1] and " ms: " in lines[0]


@needs_c
def test_the_clock_counts_the_kernels_calls_within_the_whole_and_puts_the_library_back():
    lib, sig = kernels._LIB, mitdb_lead(20_000)
    plain = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)
    made = []
    total, clock = lossy_stages.clocked(
        lambda: made.append(sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced", threads=1)))
    assert made == [plain]  # timed calls code the same file
    assert clock is not None and 0 < clock.seconds < total and kernels._LIB is lib
    clock = lossy_stages.CompiledClock(lib)
    assert clock._lib is lib and clock.seconds == 0.0
    with pytest.raises(RuntimeError):
        lossy_stages.clocked(lambda: (_ for _ in ()).throw(RuntimeError))
    assert kernels._LIB is lib  # put back after a failure too


@needs_c
def test_the_clock_splits_the_compiled_seconds_by_kernel_and_lists_the_largest():
    lib, sig = kernels._LIB, mitdb_lead(20_000)
    total, clock = lossy_stages.clocked_sweep([sig], "balanced", 2.0, 1)
    assert kernels._LIB is lib and clock is not None
    assert sum(clock.by_kernel.values()) == pytest.approx(clock.seconds) and 0 < clock.seconds < total
    assert set(clock.calls) == set(clock.by_kernel) and all(clock.calls[k] >= 1 for k in clock.calls)
    # the rate control decodes its trial steps: that kernel is called, more than once
    assert clock.calls["san_wavelet_requantised_error"] > 1
    lines = lossy_stages.kernel_lines(clock, total, 3)
    assert len(lines) == 3 and lines[0].split()[0] == clock.by_kernel.most_common(1)[0][0]
    assert f"{clock.calls[lines[0].split()[0]]} calls" in lines[0]


def test_without_the_compiled_kernels_the_clock_counts_none(monkeypatch):
    numpy_only(monkeypatch)
    total, inside = lossy_stages.compiled_sweep([mitdb_lead(4_000)], "fast", 2.0, 1)
    assert total > 0 and inside == 0.0 and kernels._LIB is None
