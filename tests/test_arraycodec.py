"""The numcodecs codec: found by id through its entry point, config round trip, exact integers."""

from __future__ import annotations

import subprocess
import sys

import numcodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec.arraycodec import Sancodec
from sancodec.codec import read_info


def test_get_codec_finds_it_without_importing_sancodec_first():
    script = ("import sys, numcodecs, numpy as np\n"
              "assert 'sancodec' not in sys.modules\n"
              "c = numcodecs.get_codec({'id': 'sancodec', 'mode': 'lossless'})\n"
              "x = np.arange(-500, 500, dtype=np.int16)\n"
              "print(type(c).__name__, bool((c.decode(c.encode(x)) == x).all()))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Sancodec", "True"]


def test_config_round_trips_and_codecs_compare_by_config():
    codec = Sancodec(mode="near-lossless", max_error=2, fs=360.0)
    config = codec.get_config()
    assert config == {"id": "sancodec", "mode": "near-lossless", "max_error": 2, "prdn": None, "fs": 360.0,
                      "frame_len": None, "snr": None, "bps": None, "effort": None}
    old = {"id": "sancodec", "mode": "near-lossless", "max_error": 2, "prdn": None, "fs": 360.0, "frame_len": None}
    assert numcodecs.get_codec(old) == codec  # a config written before snr, bps and effort still loads
    # ... and one written before the efforts were renamed, which held "default" (now best; the default is balanced)
    assert numcodecs.get_codec({**config, "effort": "default"}) == codec
    assert numcodecs.get_codec(config) == codec
    assert Sancodec.from_config({k: v for k, v in config.items() if k != "id"}) == codec
    assert codec != Sancodec(mode="near-lossless", max_error=3, fs=360.0)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "uint16"])
@pytest.mark.parametrize("shape", [(5000,), (5000, 3)])
def test_integers_come_back_exactly_with_their_dtype_and_shape(dtype, shape):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(1)
    x = np.clip(np.cumsum(rng.integers(-3, 4, shape), axis=0) + (info.min + info.max) // 2, info.min, info.max)
    x = x.astype(dtype)
    codec = Sancodec()
    back = codec.decode(codec.encode(x))
    assert back.dtype == x.dtype and back.shape == x.shape and np.array_equal(back, x)
    out = np.empty_like(x)
    codec.decode(codec.encode(x), out=out)
    assert np.array_equal(out, x)


def test_float32_counts_scaled_twice_are_lossless_as_float32():
    """A float32 chunk of counts after a gain and a range (two roundings: no decimals, on no float64 step, refused
    before format 1.18) is lossless on its float32 step, in about its counts' bytes, and decodes as float32."""
    k = np.cumsum(np.random.default_rng(3).integers(-40, 41, (20_000, 2)), axis=0)
    x = (k * 0.1 / 32767).astype(np.float32)
    data = Sancodec().encode(x)
    back = Sancodec().decode(data)
    assert back.dtype == np.float32 and np.array_equal(back.view(np.uint32), x.view(np.uint32))
    assert len(data) < len(Sancodec().encode(k)) + 128


def test_float32_noise_is_lossless_as_its_bits():
    """A float32 chunk on no step (noise, a filtered recording's) is lossless as its values' bits (format
    1.18; refused before), smaller than its raw bytes, and decodes as float32, bit for bit: -0.0 and subnormals too."""
    x = np.random.default_rng(4).normal(size=(30_000, 2)).astype(np.float32)
    x[7, 0], x[8, 1], x[9, 0] = -0.0, np.float32(1e-45), np.float32(-3e38)
    data = Sancodec().encode(x)
    back = Sancodec().decode(data)
    assert back.dtype == np.float32 and np.array_equal(back.view(np.uint32), x.view(np.uint32))
    assert len(data) < x.nbytes


def test_floats_in_near_lossless_and_lossy_modes(mitdb_100):
    x = sancodec.read_signal(mitdb_100).physical()[:20000, 0].astype(np.float32)
    near = Sancodec(mode="near-lossless", max_error=0.01)
    back = near.decode(near.encode(x))
    assert back.dtype == np.float32 and np.abs(back - x).max() <= 0.01 + 1e-6
    lossy = Sancodec(mode="lossy", prdn=5, fs=360.0)
    data = lossy.encode(x)
    back = lossy.decode(data)
    assert sancodec.metrics.prdn(x.astype(np.float64), back.astype(np.float64)) <= 5
    assert len(data) < x.nbytes / 5


@pytest.mark.parametrize("target, check", [({"snr": 30.0}, lambda x, y: sancodec.metrics.snr_db(x, y) >= 30 - 1e-9),
                                           ({"bps": 2.0}, lambda x, y: True)])
def test_lossy_takes_every_target_and_the_effort(mitdb_100, target, check):
    x = sancodec.read_signal(mitdb_100).samples[:30000, 0].astype(np.int16)
    for effort in ("best", "fast"):
        codec = numcodecs.get_codec({"id": "sancodec", "mode": "lossy", "fs": 360.0, "effort": effort, **target})
        data = codec.encode(x)
        back = codec.decode(data)
        assert check(x.astype(np.float64), back.astype(np.float64))
        assert read_info(data)["header"]["lossy"]["target"] == target
        if "bps" in target:  # the budget is the coded samples', header and framing apart
            assert 8 * read_info(data)["payload_bytes"] / len(x) <= 2.0 + 1e-9


@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f8"])
def test_decimal_floats_come_back_exactly_in_lossless_mode(dtype):
    """Floats that are decimals (millivolts at 3 places; whole numbers) code losslessly and come back bit for bit,
    in their dtype, byte order and shape (``io.decimals``)."""
    rng = np.random.default_rng(5)
    x = np.column_stack([np.cumsum(rng.integers(-20, 21, 5000)) / 1000, rng.integers(0, 99, 5000)]).astype(dtype)
    codec = numcodecs.get_codec({"id": "sancodec"})
    back = codec.decode(codec.encode(x))
    assert back.dtype == x.dtype and back.shape == x.shape and back.tobytes() == x.tobytes()
    back = codec.decode(codec.encode(x[:, 0]))
    assert back.shape == (5000,) and back.tobytes() == x[:, 0].tobytes()


@pytest.mark.parametrize("dtype, fill", [(np.uint16, 0), (np.int32, -7), (">i2", 3), (np.float32, 0.25),
                                         (np.float64, -0.0), (">f8", 1.5)])
def test_a_chunk_s_constant_last_rows_are_left_out_of_its_lossy_coding_and_put_back(mitdb_100, dtype, fill):
    """Zarr pads an edge chunk to the chunk's shape with the fill value. Coded with the padding, a lossy target held
    over the chunk let its rows of data, far from the fill value (a uint16 ADC's at 30 000 against 0), take the
    error of that step; the codec leaves the last rows out of the coding where they all hold one value, and puts
    them back exactly: the rows before meet the target themselves."""
    x = sancodec.read_signal(mitdb_100).samples[:3000, :2].astype(np.float64) + 30000
    x = x / 200 if np.dtype(dtype).kind == "f" else x
    chunk = np.concatenate([x, np.full((13000, 2), fill)]).astype(dtype)
    codec = Sancodec(mode="lossy", prdn=2, fs=360.0)
    data = codec.encode(chunk)
    back = codec.decode(data)
    assert back.dtype == chunk.dtype and back.shape == chunk.shape
    assert np.array_equal(back[3000:], chunk[3000:]) and np.signbit(back[3000:]).all() == np.signbit(fill)
    for ch in range(2):
        assert sancodec.metrics.prdn(x[:, ch], back[:3000, ch].astype(np.float64)) <= 2
    assert read_info(data)["header"]["n_samples"] == 3000  # the payload holds the rows of data alone
    one = codec.decode(codec.encode(chunk[:, 0]))  # a one-dimensional chunk too
    assert one.shape == (16000,) and np.array_equal(one[3000:], chunk[3000:, 0])
    assert sancodec.metrics.prdn(x[:, 0], one[:3000].astype(np.float64)) <= 2
    flat = np.full((500, 2), fill, dtype=dtype)  # a chunk of the fill value alone: coded whole
    assert np.array_equal(codec.decode(codec.encode(flat)), flat)
    if np.dtype(dtype).kind in "iu":  # the other modes code every row, exactly or within their bound
        assert read_info(Sancodec().encode(chunk))["header"]["n_samples"] == 16000
    else:  # an infinite tail is no padding to leave out: the coder refuses it, as it refuses any infinity
        chunk[3000:] = np.inf
        with pytest.raises(sancodec.SanFormatError, match="NaN or Inf"):
            codec.encode(chunk)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["int8", "uint8", "<i2", ">i2", ">u4", "int64", "<f4", ">f8"]))
def test_random_chunks_with_constant_tails_keep_their_shape_type_tail_and_target(seed, dtype):
    """Any chunk, its last rows one value or not, comes back in its shape and dtype (byte order included), its
    constant last rows exactly, and the rows before them at the target."""
    rng = np.random.default_rng(seed)
    n, c, target = int(rng.integers(20, 3000)), int(rng.integers(1, 4)), float(rng.choice([1.0, 5.0, 20.0]))
    kind = np.dtype(dtype)
    lo, hi = (float(np.iinfo(kind).min), float(np.iinfo(kind).max)) if kind.kind in "iu" else (-1e6, 1e6)
    lo, hi = max(lo, -2.0**40), min(hi, 2.0**40)
    x = np.clip(np.cumsum(rng.normal(size=(n, c)), axis=0) * min(hi - lo, 2000) / 100 + (lo + hi) / 2, lo, hi)
    tail = int(rng.integers(0, n))
    x[n - tail :] = rng.choice([0.0, lo, hi, 0.25 if kind.kind == "f" else 7.0])
    x = x.astype(kind)
    x = x[:, 0] if c == 1 and rng.random() < 0.5 else x
    codec = Sancodec(mode="lossy", prdn=target)
    back = codec.decode(codec.encode(x))
    assert back.shape == x.shape and back.dtype == x.dtype
    assert np.array_equal(back[n - tail :], x[n - tail :])
    rows, got = x.reshape(n, -1).astype(np.float64), back.reshape(n, -1).astype(np.float64)
    head = n - _tail_rows(rows)
    for ch in range(rows.shape[1]):
        assert sancodec.metrics.prdn(rows[:head, ch], got[:head, ch]) <= target + 1e-9 or np.ptp(rows[:head, ch]) == 0


def _tail_rows(rows: np.ndarray) -> int:
    """The last rows all of the last row's first value (what the codec leaves out), none where every row is."""
    same = (rows == rows[-1, 0]).all(axis=1)
    return 0 if same.all() else len(rows) - 1 - int(np.flatnonzero(~same)[-1])


def test_a_payload_whose_tail_the_codec_would_not_write_is_refused():
    """The tail's rows and value come from the payload: more values than ``MAX_TAIL_VALUES``, or a value outside the
    dtype (70000 in int16, 0.5 in an integer type), is a SanFormatError, not a huge array or a wrapped value."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    data = Sancodec(mode="lossy", prdn=2).encode(np.r_[np.arange(100), np.zeros(20)].astype(np.int16))
    assert Sancodec().decode(data).shape == (120,)
    for tag, message in (("numcodecs <i2 1 tail 9999999999 0", "more than the codec makes"),
                         ("numcodecs <i2 1 tail 20 70000", "not a value of int16"),
                         ("numcodecs <i2 1 tail 20 0x1.0000000000000p-1", "not a value of int16"),
                         ("numcodecs <i2 1 tail 20 nan", "not a value of int16")):
        header = SanReader(data).header
        header["signal"]["comments"] = [tag]
        with pytest.raises(sancodec.SanFormatError, match=message):
            Sancodec().decode(rewrap(data, header=header))


def test_a_payload_whose_dtype_tag_numpy_cannot_parse_is_refused_as_not_ours():
    """The dtype tag comes from the payload: "f3" or "i5" (np.dtype raises a TypeError on them) is no tag."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    data = Sancodec().encode(np.arange(100, dtype=np.int16))
    for tag in ("numcodecs f3 1", "numcodecs i5 1", "numcodecs <u3 2"):
        header = SanReader(data).header
        header["signal"]["comments"] = [tag]
        with pytest.raises(sancodec.SanFormatError, match="no dtype tag"):
            Sancodec().decode(rewrap(data, header=header))


def test_a_float16_chunk_is_lossless_bit_for_bit():
    """A float16 chunk was refused in lossless mode; it is coded as the float32s it widens to exactly (their step or
    their bits, format 1.18) and decodes to the same bits, -0.0 and 65504 among noise; a lossy chunk comes back as
    float16 too, within its target."""
    x = np.random.default_rng(5).normal(0, 2, (4000, 2)).astype(np.float16)
    x[3, 0], x[4, 1] = -0.0, 65504
    back = Sancodec().decode(Sancodec().encode(x))
    assert back.dtype == np.float16 and np.array_equal(back.view(np.uint16), x.view(np.uint16))
    smooth = np.sin(np.arange(5000) / 40.0).astype(np.float16)
    lossy = Sancodec(mode="lossy", prdn=2).decode(Sancodec(mode="lossy", prdn=2).encode(smooth))
    assert lossy.dtype == np.float16 and lossy.shape == smooth.shape
    assert 100 * np.linalg.norm(lossy - smooth.astype(np.float64)) / np.linalg.norm(smooth - smooth.mean()) < 2.1


def test_what_it_refuses():
    for beyond in (np.array([0, (1 << 53) + 1], np.int64), np.array([0, 1 << 63], np.uint64)):  # (not wrapped)
        with pytest.raises(sancodec.SanConfigError, match=f"holds {beyond.dtype} values within ±2\\*\\*53"):
            Sancodec().encode(beyond)
    with pytest.raises(sancodec.SanConfigError, match="numbers, not complex"):
        Sancodec().encode(np.zeros(10, dtype=np.complex64))
    noise = np.random.default_rng(0).normal(size=100_000)
    with pytest.raises(sancodec.SanConfigError, match="floats take near-lossless or lossy"):  # float64 off every
        Sancodec().encode(noise)  # decimal grid and step (float32 and float16 noise: lossless as bits, format 1.18)
    with pytest.raises(sancodec.SanConfigError, match="shape"):
        Sancodec().encode(np.zeros((4, 4, 4), dtype=np.int16))
    with pytest.raises(sancodec.SanConfigError, match="prdn"):
        Sancodec(mode="lossy")
    with pytest.raises(sancodec.SanConfigError, match="prdn must be a number"):  # a config's string: a TypeError
        Sancodec(mode="lossy", prdn="2")                                          # at the first chunk, before
    with pytest.raises(sancodec.SanConfigError, match="fs must be a number"):
        Sancodec(fs=True)
    with pytest.raises(sancodec.SanConfigError, match="applies to lossy mode"):  # was ignored
        Sancodec(mode="lossless", prdn=2)
    with pytest.raises(sancodec.SanConfigError, match="applies to near-lossless mode"):
        Sancodec(mode="lossy", prdn=2, max_error=1)
    with pytest.raises(sancodec.SanConfigError, match="one target: .* got prdn, snr"):
        Sancodec(mode="lossy", prdn=2, snr=30)
    with pytest.raises(sancodec.SanConfigError, match="effort applies to lossy mode"):
        Sancodec(mode="lossless", effort="fast")
    with pytest.raises(sancodec.SanConfigError, match=r"effort \(--effort\) must be one of"):
        Sancodec(mode="lossy", prdn=2, effort="slow")
    with pytest.raises(sancodec.SanFormatError, match="dtype tag"):
        Sancodec().decode(sancodec.encode(sancodec.Signal(np.zeros((100, 1), np.int64), 1.0, ["a"], [""])))


@pytest.mark.parametrize(("config", "message"), [
    ({"mode": "near-lossless"}, "needs max_error"), ({"mode": "near-lossless", "max_error": -1}, "max_error must be"),
    ({"mode": "near-lossless", "max_error": float("inf")}, "max_error must be"),
    ({"mode": "lossy", "prdn": -2}, "positive finite"), ({"mode": "lossy", "snr": 1e9}, "between"),
    ({"fs": 0}, "fs must be a positive finite"), ({"fs": float("nan")}, "fs must be a positive finite"),
    ({"frame_len": 3}, "frame_len must be in 16..16777216")])
def test_values_the_encoder_would_refuse_are_refused_when_the_codec_is_made(config, message):
    """Not at the first chunk written (a near-lossless codec without its bound was made without a word, and
    failed, or never, where only fill-value chunks were written)."""
    with pytest.raises(sancodec.SanConfigError, match=message):
        Sancodec(**config)


def test_a_float_chunk_with_nan_is_coded_in_the_codecs_mode():
    """A chunk with NaN was coded lossless whatever the codec's mode (its decimals exact, other floats refused): a
    lossy array's chunks with a gap took lossless bytes, and a NaN fill value's padding of an edge chunk of filtered
    floats failed the write. Now the lossy modes code the gaps apart (format 1.15) at the target or within the
    bound, round other floats to what the target needs (``codec.nanfloats``), and leave a NaN padding out as any
    constant tail (its tag's fill "nan")."""
    from sancodec.codec.container import SanReader

    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(size=(6000, 2)), axis=0)
    for decimals, x in ((True, np.round(walk / 200, 3)), (False, walk / 213.3)):  # (floats that are no decimals)
        x[100:180, 0] = np.nan
        lossless = len(Sancodec().encode(x)) if decimals else None
        for codec in (Sancodec(mode="lossy", prdn=2), Sancodec(mode="near-lossless", max_error=0.01)):
            data = codec.encode(x)
            back = codec.decode(data)
            assert SanReader(data).header["mode"] == codec.mode and np.array_equal(np.isnan(back), np.isnan(x))
            assert lossless is None or len(data) < lossless / 2
            for ch in range(2):
                kept = ~np.isnan(x[:, ch])
                if codec.mode == "lossy":
                    assert sancodec.metrics.prdn(x[kept, ch], back[kept, ch]) <= 2
                else:
                    assert np.abs(x[kept, ch] - back[kept, ch]).max() <= 0.01 + 1e-12
    padded = walk / 213.3
    padded[5000:] = np.nan  # a NaN fill value's padding: rows left out, given back as NaN
    codec = Sancodec(mode="lossy", prdn=2)
    data = codec.encode(padded)
    assert SanReader(data).header["n_samples"] == 5000
    back = codec.decode(data)
    assert np.isnan(back[5000:]).all() and max(sancodec.metrics.prdn(padded[:5000, ch], back[:5000, ch])
                                               for ch in range(2)) <= 2
