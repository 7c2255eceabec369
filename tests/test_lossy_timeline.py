"""benchmarks/lossy_timeline.py traces one lossy encode's steps and compiled calls thread by thread: every step it
names is still a function of the encoder (a renamed one would drop out of the timeline unnoticed), its tracing codes
the same file and comes off again, and its summary splits an encode's own thread by step."""

import sys
import threading
from pathlib import Path

import pytest
from common import mitdb_lead, needs_c

import sancodec
from sancodec.codec import kernels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import lossy_timeline  # noqa: E402
from lossy_timeline import Span  # noqa: E402


def test_every_step_named_is_a_function_of_the_encoder():
    for owner, name in lossy_timeline.STEPS:
        assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name} is gone"


@needs_c
def test_a_traced_encode_codes_the_same_file_and_puts_everything_back():
    sig, lib = mitdb_lead(40_000), kernels._LIB
    plain = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
    before = [getattr(owner, name) for owner, name in lossy_timeline.STEPS]
    tracer = lossy_timeline.Tracer()
    try:
        traced = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="balanced")
        spans = tracer.traced()
    finally:
        tracer.restore()
    assert traced == plain
    assert [getattr(owner, name) for owner, name in lossy_timeline.STEPS] == before and kernels._LIB is lib
    names = {s.name for s in spans}
    assert "quick_templates" in names and "rate_control" in names  # an ECG's balanced encode takes both steps
    assert any(n.startswith("C:san_") for n in names)  # and calls the compiled kernels
    assert all(s.end >= s.start for s in spans)


@needs_c
def test_the_fastest_encode_is_kept_its_spans_from_its_start():
    wall, spans = lossy_timeline.traced_encode(mitdb_lead(20_000), "balanced", 2.0, repeats=2)
    assert wall > 0 and spans
    assert min(s.start for s in spans) >= 0 and max(s.end for s in spans) <= wall + 1e-3


def test_own_steps_count_the_outermost_steps_those_inside_them_and_the_time_between():
    own, other = 1, 2
    spans = [Span(own, 0.0, 4.0, "a"), Span(own, 1.0, 2.0, "inner"), Span(own, 5.0, 6.0, "b"),
             Span(own, 6.5, 7.0, "a"), Span(own, 1.5, 1.6, "C:san_x"), Span(other, 0.0, 8.0, "c")]
    steps = lossy_timeline.own_steps(spans, own)
    assert steps["a"] == pytest.approx(4.5) and steps["b"] == pytest.approx(1.0)
    assert steps["a > inner"] == pytest.approx(1.0)  # a step inside another is also counted under it
    assert "inner" not in steps and "c" not in steps and "C:san_x" not in steps
    assert steps["(between steps)"] == pytest.approx(8.0 - 5.5)  # to the last span's end, any thread's


def test_the_bar_shows_how_busy_each_slice_was():
    spans = [Span(1, 0.0, 1.0, "C:a"), Span(1, 2.5, 3.0, "C:b")]
    assert lossy_timeline.busy_bar(spans, 4.0, 1.0) == "@ +  "  # full, none, half, none, and the wall's end


def test_the_summary_splits_each_signal_and_sums_them(capsys):
    own = threading.get_ident()
    rows = [("first", 2.0, [Span(own, 0.0, 1.5, "a"), Span(own + 1, 0.0, 0.5, "C:x")]),
            ("second", 1.0, [Span(own, 0.0, 1.0, "b")])]
    lossy_timeline.summary(rows, own)
    out = capsys.readouterr().out
    assert out.startswith("first: 2000.0 ms: a 1500.0") and "second: 1000.0 ms: b 1000.0" in out
    assert "summed over 2 signals: 3000.0 ms on every core, 2500.0 ms of it with no helper thread at work" in out
