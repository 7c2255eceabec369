"""benchmarks/lossy_work.py counts the values the lossy encoder hands its channel-sized kernels, and the repeats: every
kernel it names is still one of ``sancodec.codec.kernels``, counting changes no file, a call made twice with the same
inputs counts as a repeat, and the kernels are put back."""

import sys
from pathlib import Path

import numpy as np
from common import mitdb_lead, needs_c

import sancodec
from sancodec.codec import kernels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import lossy_work  # noqa: E402


def test_every_kernel_counted_is_one_of_the_compiled_kernels():
    for name, label, _ in lossy_work.KERNELS:
        assert callable(getattr(kernels, name, None)), f"{label}: kernels.{name} is gone"


@needs_c
def test_counting_changes_no_file_and_puts_the_kernels_back():
    signals = [mitdb_lead(20_000), mitdb_lead(30_000)]
    plain = [sancodec.encode(s, mode="lossy", prdn=2.0, effort="balanced", threads=1) for s in signals]
    before = [getattr(kernels, name) for name, _, _ in lossy_work.KERNELS]
    counter, samples, files = lossy_work.count(signals, "balanced", 2.0)
    assert files == plain and samples == 50_000
    assert [getattr(kernels, name) for name, _, _ in lossy_work.KERNELS] == before
    for label in ("forward transform (a frame prepared)", "decode at a step (its error)", "bit estimate at a step"):
        assert counter.calls[label] > 0 and counter.values[label] >= 20_000 and counter.repeated[label] >= 0
    lines = lossy_work.report(counter, samples)
    assert len(lines) == sum(1 for _, label, _ in lossy_work.KERNELS if counter.calls[label])
    assert all("x the samples" in line for line in lines)


@needs_c
def test_a_call_with_the_same_inputs_counts_as_a_repeat_until_forgotten():
    frame = np.arange(5000, dtype=np.int64) % 97
    counter = lossy_work.WorkCounter()
    try:
        for _ in range(2):
            kernels.prepared_forward(frame, None, 5)
        kernels.prepared_forward(frame + 1, None, 5)  # other values: not a repeat
        counter.forget()
        kernels.prepared_forward(frame, None, 5)  # another encode's: not a repeat either
    finally:
        counter.restore()
    label = "forward transform (a frame prepared)"
    assert counter.calls[label] == 4 and counter.values[label] == 20_000 and counter.repeated[label] == 5000


@needs_c
def test_an_adaptive_stream_turned_down_counts_no_work_and_its_limit_makes_no_other_stream():
    from sancodec.codec import adaptivebands

    bands = [np.rint(np.random.default_rng(1).laplace(0, 200, 40_000)).astype(np.int64)]
    label = "bands coded (one adaptive stream)"
    counter = lossy_work.WorkCounter()
    try:
        assert adaptivebands.encode(bands, 10) is None  # past its limit: nothing coded, nothing counted
        assert counter.calls[label] == 0 and counter.values[label] == 0
        whole = adaptivebands.encode(bands)
        assert adaptivebands.encode(bands, 10**9) == whole  # the same stream under another limit: a repeat
    finally:
        counter.restore()
    assert counter.calls[label] == 2 and counter.values[label] == 80_000 and counter.repeated[label] == 40_000
