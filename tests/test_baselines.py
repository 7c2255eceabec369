"""The comparison tools see the samples at the narrowest integer width that holds them, as the files store them."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from sancodec import Signal
from sancodec.baselines import _raw_bytes, baseline_sizes, float_width, raw_width


def _signal(x: np.ndarray) -> Signal:
    c = x.shape[1]
    if x.dtype.kind == "f":
        return Signal(x, 250.0, [f"c{i}" for i in range(c)], ["mV"] * c)
    return Signal(x, 250.0, [f"c{i}" for i in range(c)], ["uV"] * c, adc_gain=[1.0] * c, baseline=[0] * c,
                  fmt=["16"] * c)


def _walk(high: int, n: int = 6000, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(high)
    return np.clip(np.cumsum(rng.integers(-40, 41, (n, channels)), axis=0) * (high // 2000), -high, high - 1)


@pytest.mark.parametrize("high, width", [(2**15, 16), (2**23, 24), (2**31, 32)])
def test_each_width_is_the_narrowest_that_holds_the_samples(high, width):
    x = _walk(high)
    x[0, 0], x[1, 1] = -high, high - 1  # both ends of the width's range
    sig = _signal(x.astype(np.int64))
    assert raw_width(sig) == width
    raw = _raw_bytes(sig.samples, width)
    assert len(raw) == x.size * width // 8
    wide = np.frombuffer(raw, np.uint8).reshape(-1, width // 8)  # little-endian, sign-extended back
    back = sum(wide[:, i].astype(np.int64) << (8 * i) for i in range(width // 8))
    back = np.where(back >= 1 << (width - 1), back - (1 << width), back)
    assert np.array_equal(back.reshape(x.shape), x)
    sizes = baseline_sizes(sig)
    assert next(iter(sizes)) == f"raw {width}-bit" and sizes[f"raw {width}-bit"] == len(raw)
    assert sizes["gzip -9"] == len(gzip.compress(raw, 9, mtime=0))
    if width == 32:
        assert sizes["FLAC -8"] is None  # libsndfile's FLAC holds at most 24 bits
    else:
        pytest.importorskip("soundfile")
        assert 0 < sizes["FLAC -8"] < len(raw)


def test_one_sample_past_32_bits_or_a_float_source_goes_as_float64():
    x = _walk(2**31).astype(np.int64)
    x[0, 0] = 2**31
    assert raw_width(_signal(x)) is None
    floats = _signal(np.cumsum(np.random.default_rng(1).normal(size=(500, 1)), axis=0))
    sizes = baseline_sizes(floats)
    assert raw_width(floats) is None and sizes["raw float64"] == 500 * 8
    assert sizes["FLAC -8"] is None
    try:  # pcodec (a benchmark extra) takes the float64 columns as the general tools do
        import pcodec  # noqa: F401
    except ImportError:
        assert sizes["pcodec 12"] is None
    else:
        assert 0 < sizes["pcodec 12"] < 500 * 8


def test_a_24_bit_record_is_not_compared_as_eight_bytes_a_sample():
    sig = _signal(_walk(2**23).astype(np.int64))
    sizes = baseline_sizes(sig)
    assert sizes["raw 24-bit"] == sig.samples.size * 3
    assert sizes["gzip -9"] < sig.samples.size * 3  # it had been given float64: 8 bytes a sample
    if sizes["pcodec 12"] is not None:
        assert sizes["pcodec 12"] < sizes["raw 24-bit"]


def _compared_as_held(x: np.ndarray) -> None:
    """Float samples ``x`` (float32 or float16) go to the tools in their own width, as their file holds them."""
    bits = 8 * x.dtype.itemsize
    sig = _signal(x.astype(np.float64))  # read_signal holds a float .npy's samples as float64
    assert raw_width(sig) is None and float_width(sig) == bits
    sizes = baseline_sizes(sig)
    assert next(iter(sizes)) == f"raw float{bits}" and sizes[f"raw float{bits}"] == x.size * x.dtype.itemsize
    assert sizes["gzip -9"] == len(gzip.compress(x.astype(f"<f{x.dtype.itemsize}").tobytes(), 9, mtime=0))
    if sizes["pcodec 12"] is not None:
        assert sizes["pcodec 12"] < x.size * x.dtype.itemsize


def test_float32_samples_are_compared_as_the_four_bytes_a_sample_their_file_holds():
    x32 = np.cumsum(np.random.default_rng(2).normal(size=(700, 2)), axis=0).astype(np.float32)
    _compared_as_held(x32)
    off_grid = x32.astype(np.float64)
    off_grid[3, 0] += 1e-12  # one value no float32 holds: all go as float64
    assert float_width(_signal(off_grid)) == 64 and "raw float64" in baseline_sizes(_signal(off_grid))
    huge = np.full((4, 1), 1e300)  # past float32's range: float64, without an overflow warning
    with np.errstate(all="raise"):
        assert float_width(_signal(huge)) == 64


def test_a_multi_frequency_record_is_compared_at_each_channels_own_rate():
    """Channels at 4, 2 and 1 samples a frame go to the tools as the file holds them (frame by frame, each
    channel's samples in turn: 7 a frame, not the 12 rows x 3 channels sancodec holds them on), FLAC one stream a
    channel, pcodec one array a channel."""
    rng = np.random.default_rng(4)
    own = [np.cumsum(rng.integers(-20, 21, 400 * spf)) for spf in (4, 2, 1)]
    rows = np.column_stack([np.repeat(c, 4 // spf) for c, spf in zip(own, (4, 2, 1))]).astype(np.int64)
    sig = Signal(rows, 1000.0, ["a", "b", "c"], ["uV"] * 3, adc_gain=[1.0] * 3, baseline=[0] * 3, fmt=["16"] * 3,
                 samples_per_frame=[4, 2, 1])
    stored = np.concatenate([c.reshape(400, -1) for c in own], axis=1).astype("<i2").tobytes()
    sizes = baseline_sizes(sig)
    assert sizes["raw 16-bit"] == len(stored) == 2 * sig.n_values == 2 * 400 * 7
    assert sizes["gzip -9"] == len(gzip.compress(stored, 9, mtime=0))
    if sizes["FLAC -8"] is not None:
        single = [baseline_sizes(_signal(c[:, None].astype(np.int64)))["FLAC -8"] for c in own]
        assert sizes["FLAC -8"] == sum(single)
    if sizes["pcodec 12"] is not None:
        single = [baseline_sizes(_signal(c[:, None].astype(np.int64)))["pcodec 12"] for c in own]
        assert sizes["pcodec 12"] == sum(single)


def test_float16_samples_are_compared_as_the_two_bytes_a_sample_their_file_holds():
    """A float16 ``.npy`` went to the tools as float32, four bytes a sample of which 13 bits are always 0: it goes as
    float16, as its file holds it (pcodec too), and one value float16 cannot hold sends all as float32."""
    x16 = np.random.default_rng(5).normal(0, 3, (600, 2)).astype(np.float16)
    _compared_as_held(x16)
    wider = x16.astype(np.float64)
    wider[0, 0] = 0.1  # no float16, a float32's neighbour at most: float32 then
    assert float_width(_signal(wider.astype(np.float32).astype(np.float64))) == 32
