"""benchmarks/bench_error_halves.py times a long channel's measurement on one thread and in halves on two, and checks
that both give the same error (a guard against the script drifting from ``Prepared.decoded_error``)."""

import sys
from pathlib import Path

import numpy as np
from common import needs_c

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import kernels
from sancodec.codec.lossyrate import SHARED_ERROR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_error_halves  # noqa: E402


@needs_c
def test_the_halves_are_timed_beside_the_one_call_and_agree(monkeypatch):
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    rows = SHARED_ERROR + 1001
    tiled = np.resize(sig.samples[:, 0], rows)[:, None]
    long_lead = Signal(tiled, sig.fs, sig.channel_names[:1], sig.units[:1])
    pieces = []
    real = kernels.last_level_error
    monkeypatch.setattr(kernels, "last_level_error", lambda *a: pieces.append(1) or real(*a))
    one, two = bench_error_halves.side_by_side(long_lead, repeats=2)
    assert one > 0 and two > 0
    assert len(pieces) == 2 * 2  # two halves a measurement, on the two-thread turns only
