"""benchmarks/lossy_signals.filled_as_coded: a gapped record as the lossy benchmarks give it to the wavelet coder, its
gaps filled as sancodec's lossy encode fills them (``benchmarks/bench_multilead.py`` stopped at its first record when
the gap filler's signature changed under it)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sancodec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from lossy_signals import filled_as_coded  # noqa: E402


def test_a_gapped_record_comes_back_filled_on_the_line_across_each_gap_and_the_rest_as_it_was():
    t = np.arange(3000)
    x = np.stack([np.rint(400 * np.sin(t / 30)), np.rint(200 * np.cos(t / 45))], axis=1).astype(np.int64)
    gapped = x.copy()
    gapped[1000:1100, 0] = -32768  # WFDB format 16's invalid sample: a dropout in the first channel
    gapped[:20, 1] = -32768  # and one at the second channel's start
    sig = sancodec.Signal(gapped, 360.0, ["a", "b"], ["mV", "mV"], fmt=["16", "16"])
    out = filled_as_coded(sig)
    assert not (out.samples == -32768).any()
    keep = gapped != -32768
    assert np.array_equal(out.samples[keep], gapped[keep])
    line = np.rint(np.interp(np.arange(1000, 1100), [999, 1100], [gapped[999, 0], gapped[1100, 0]]))
    assert np.array_equal(out.samples[1000:1100, 0], line.astype(np.int64))  # the line between the sides
    assert (out.samples[:20, 1] == gapped[20, 1]).all()  # the nearest sample where the gap starts the channel
    data = sancodec.encode(sig, mode="lossy", prdn=2.0)  # and sancodec's lossy file gives the gaps back
    assert np.array_equal(sancodec.decode(data).samples[~keep], gapped[~keep])


def test_a_record_without_gaps_is_left_as_it_is():
    x = np.arange(2000, dtype=np.int64).reshape(1000, 2)
    sig = sancodec.Signal(x, 250.0, ["a", "b"], ["mV", "mV"], fmt=["16", "16"])
    assert np.array_equal(filled_as_coded(sig).samples, x)
