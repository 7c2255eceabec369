"""benchmarks/bench_encode_kernels.py times the encoder's kernel calls where they are made: each kind it names is met
on an ECG excerpt's encode, and the timing wrappers change nothing the encoder writes (a guard against them drifting
from the kernels' signatures)."""

import sys
from pathlib import Path

from common import needs_c

import sancodec
from sancodec import Signal, read_signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_encode_kernels  # noqa: E402


@needs_c
def test_every_kind_of_encoder_call_is_timed_and_the_bytes_stay_the_same():
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    excerpt = Signal(sig.samples[:40_000, :1], sig.fs, sig.channel_names[:1], sig.units[:1])
    plain = sancodec.encode(excerpt, mode="lossy", prdn=2.0, effort="best")
    for kind in bench_encode_kernels.KINDS:
        kind.calls = kind.count = 0
        kind.seconds = kind.compared = kind.reference_seconds = 0.0
    timed = bench_encode_kernels.timed_encodes([excerpt], "best", repeats=1, budget=0.05)
    assert timed == [plain]
    for kind in bench_encode_kernels.KINDS:
        assert kind.calls > 0 and kind.count > 0 and kind.seconds > 0, kind.label
        if kind.reference is not None:
            assert kind.compared > 0 and kind.reference_seconds > 0, kind.label
    # every wrapper taken off again
    assert all(getattr(kind.owner, kind.name) is kind._real for kind in bench_encode_kernels.KINDS)
