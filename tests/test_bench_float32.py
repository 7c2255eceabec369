"""benchmarks/bench_float32.py weighs the float32 signals it says: the band-passed ECG and the noise on no step nor
decimals (so sancodec holds their bits, format 1.18), the twice-rounded counts on a float32 step; each comes back bit
for bit."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

import sancodec
from sancodec.codec.container import SanReader
from sancodec.codec.floatgrid import grid_steps32
from sancodec.io.decimals import decimal_places

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_float32  # noqa: E402


def test_the_signals_are_what_the_benchmark_says_and_come_back_bit_for_bit():
    made = bench_float32.signals(Path(__file__).resolve().parents[1] / "sancodec" / "data" / "samples" / "100", 5000)
    assert list(made) == ["band-passed ECG, mV", "band-passed ECG, µV", "counts after two roundings", "white noise"]
    for name, x in made.items():
        assert x.dtype == np.float32 and x.shape == (5000, 2)
        on_step = name == "counts after two roundings"
        assert (grid_steps32(x) is not None) == on_step and decimal_places(x) is None, name
        data = sancodec.encode(sancodec.Signal(x, fs=360.0), mode="lossless")
        header = SanReader(io.BytesIO(data)).header
        assert header["float32"] is True and (header["quantum"] is not None) == on_step, name
        back = sancodec.decode(data).samples
        assert back.dtype == np.float32 and np.array_equal(back.view(np.uint32), x.view(np.uint32)), name


def test_the_band_pass_passes_its_band_and_stops_the_rest():
    fs, t = 360.0, np.arange(20_000) / 360.0
    for hz, passed in ((10.0, True), (0.05, False), (120.0, False)):
        out = bench_float32.band_pass(np.sin(2 * np.pi * hz * t)[:, None], fs)[2000:-2000, 0]
        assert (np.abs(out).max() > 0.9) == passed, hz
