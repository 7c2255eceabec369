"""benchmarks/lossy_stages.py times the lossy encoder's stages where they are called: every stage it names is still a
function of the encoder (a renamed one would drop out of its table unnoticed), its clock comes off again, and
``--per-signal`` prints each signal's own split; ``--walls`` splits an encode on every core by what ran."""

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


def test_covered_is_the_union_of_the_spans():
    assert lossy_stages.covered([]) == 0.0
    assert lossy_stages.covered([(5.0, 6.0), (0.0, 2.0), (1.0, 3.0)]) == pytest.approx(4.0)  # overlap counted once
    assert lossy_stages.covered([(0.0, 10.0), (2.0, 3.0), (9.0, 10.0)]) == pytest.approx(10.0)  # nested ones add none
    assert lossy_stages.covered([(0.0, 1.0), (1.0, 2.0)]) == pytest.approx(2.0)


@needs_c
def test_walls_split_an_encode_on_every_core_and_put_the_library_back():
    lib, sig = kernels._LIB, mitdb_lead(40_000)
    got = lossy_stages.walls(sig, "balanced", 2.0)
    assert kernels._LIB is lib
    assert 0 < got.covered < got.total and got.interpreted == pytest.approx(got.total - got.covered)
    assert got.compiled >= got.covered * (1 - 1e-9)  # calls that overlap add up beyond the time they cover


def test_without_the_compiled_kernels_every_second_is_interpreted(monkeypatch):
    numpy_only(monkeypatch)
    got = lossy_stages.walls(mitdb_lead(4_000), "fast", 2.0)
    assert got.total > 0 and got.covered == 0.0 and got.compiled == 0.0 and got.interpreted == got.total


def test_the_walls_table_sums_only_where_the_baseline_reaches_the_target():
    signals = [mitdb_lead(6_000), mitdb_lead(8_000)]
    made, runs = [], []

    def baseline(signal):  # the first signal's wavelet coder reaches the target, the second's does not
        made.append(signal.n_samples)

        def timer():
            runs.append(signal.n_samples)
            return 0.5 if signal is signals[0] else float("nan")
        return timer

    lines = lossy_stages.walls_table(signals, ["first", "second"], "fast", 2.0, 2, baseline)
    assert made == [6_000, 8_000]  # each signal's baseline made ready once ...
    assert runs == [6_000, 6_000, 8_000, 8_000]  # ... and run as many times as it is encoded
    assert len(lines) == 2 + 2 + 1
    first, second, summed = (line.strip("| ").split(" | ") for line in lines[2:])
    assert first[0] == "first (6000)" and first[-1] == "500.0" and second[-1] == "–"
    # the sums hold the first signal alone, each over the baseline's 500 ms
    for cell, mine in zip(summed[1:6], first[1:6]):
        ms, ratio = cell.split(" (")
        assert ms == mine and float(ratio.rstrip("x)")) == pytest.approx(float(mine) / 500, abs=0.0051)
    assert summed[-1] == "500.0"


def test_the_ideal_wall_is_the_python_alone_or_the_whole_spread_over_the_cores():
    # Python and numpy hold the interpreter lock: they run one at a time whatever the cores; compiled calls spread
    assert lossy_stages.ideal_wall(10.0, 8.0, 2) == 5.0  # mostly compiled: the whole halved
    assert lossy_stages.ideal_wall(10.0, 2.0, 2) == 8.0  # mostly Python: the Python alone
    assert lossy_stages.ideal_wall(10.0, 6.0, 4) == 4.0
    assert lossy_stages.ideal_wall(10.0, 6.0, 1) == 10.0


@needs_c
def test_the_split_adds_each_compiled_call_to_the_stage_running_it():
    lib, sig = kernels._LIB, mitdb_lead(20_000)
    before = [getattr(owner, name) for owner, name, _ in lossy_stages.STAGES]
    total, seconds, compiled = lossy_stages.split_sweep([sig], "balanced", 2.0, lossy_stages.STAGES)
    assert kernels._LIB is lib and [getattr(owner, name) for owner, name, _ in lossy_stages.STAGES] == before
    assert sum(seconds.values()) == pytest.approx(total) and "other" in seconds
    assert set(compiled) <= set(seconds) and len(compiled) > 1  # calls inside stages and outside them
    assert all(0 < compiled[label] <= seconds[label] for label in compiled)
    lines = lossy_stages.split_lines(seconds, compiled)
    assert len(lines) == len(seconds)
    rests = [float(line.rsplit(" ", 1)[1]) for line in lines]
    assert rests == sorted(rests, reverse=True)  # the most Python and numpy first
