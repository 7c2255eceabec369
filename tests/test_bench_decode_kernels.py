"""benchmarks/bench_decode_kernels.py records the decoder's calls it times: each kind it names is met on files that
use it, and the calls replayed give what the decode got (a guard against the wrappers drifting from the kernels'
signatures)."""

import sys
from pathlib import Path

import numpy as np
from common import needs_c

import sancodec
from sancodec import Signal, read_signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_decode_kernels import record_calls  # noqa: E402


@needs_c
def test_every_kind_of_decoder_call_is_recorded_and_replays():
    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100")
    long = Signal(sig.samples[:200_000, :1], sig.fs, sig.channel_names[:1], sig.units[:1])  # running contexts
    short = Signal(sig.samples[:3000, :1], sig.fs, sig.channel_names[:1], sig.units[:1])  # adaptive bands
    steps = Signal(np.repeat(np.arange(40, dtype=np.int64) % 7, 100)[:, None], 250.0, ["x"], ["NU"])  # exact
    coded = [sancodec.encode(s, mode="lossy", prdn=2.0) for s in (long, short, steps)]
    calls = record_calls(coded)
    kinds = {"band block, running contexts", "adaptive band stream", "wavelet rebuild",
             "time-domain residual (entropy and adaptive stages)"}
    assert kinds <= set(calls), set(calls)
    for kind in kinds:
        for again, values in calls[kind]:
            out = again()
            got = out if isinstance(out, np.ndarray) else np.concatenate(out)
            assert got.shape == (values,)

