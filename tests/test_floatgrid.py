"""Lossless floats on a step (format 1.17, ``codec.floatgrid``): counts times a calibration factor come back bit for
bit, through the library, the CLI's .npy and the numcodecs codec; other floats are refused as before."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.codec.container import SanReader
from sancodec.codec.floatgrid import grid_step, grid_step32, on_grid32
from sancodec.codec.prepare import LOSSLESS_FLOATS
from sancodec.errors import SanConfigError


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.uint8)


def _counts(seed: int, n: int, c: int, reach: int) -> np.ndarray:
    """A random walk of integers (an ADC's counts), within ``reach``."""
    rng = np.random.default_rng(seed)
    return np.clip(np.cumsum(rng.integers(-40, 41, (n, c)), axis=0), -reach, reach)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 3000), st.integers(1, 3),
       st.floats(1e-12, 1e6, allow_nan=False, allow_infinity=False), st.sampled_from([1 << 12, 1 << 20, 1 << 40]))
def test_counts_times_any_factor_come_back_bit_for_bit(seed, n, c, factor, reach):
    """``counts * factor`` (float64, one multiplication: how a device's SDK scales its ADC counts) is found on its
    step and coded losslessly; the decode is the same doubles. (The counts' greatest common divisor is 1, as a
    recording's is: of a few counts that share a factor, that multiple of the step is found, on which the doubles
    need not lie; such a signal is refused.)"""
    x = np.vstack([_counts(seed, n, c, reach), np.ones((1, c), dtype=np.int64)]) * factor
    back = sancodec.decode(sancodec.encode(x, fs=250)).physical()  # (whole numbers or decimals: io.decimals')
    assert back.dtype == np.float64 and np.array_equal(_bits(back), _bits(x))


def test_a_file_of_floats_on_a_step_is_format_1_17_and_costs_what_its_integers_cost():
    """The header carries each channel's step (its quantum, as lossy float files do), the file format 1.17; its
    payload is the integers' (the same bytes but for the header), and the CRCs are theirs."""
    k = _counts(1, 20_000, 2, 1 << 15)
    x = k * np.array([0.195, 1 / 3])
    data = sancodec.encode(x, fs=250)
    reader = SanReader(io.BytesIO(data))
    assert reader.header["mode"] == "lossless" and reader.header["quantum"] == [0.195, 1 / 3]
    assert data[4:6] == bytes([1, 17])  # (major 1, minor 17)
    assert abs(len(data) - len(sancodec.encode(k, fs=250))) < 64
    assert sancodec.decode(data, start=5000, end=5010).samples.tolist() == x[5000:5010].tolist()


@pytest.mark.parametrize("make", [
    lambda rng: rng.normal(size=(2000, 1)),  # noise: no step (near a step, format 1.19: tests/test_neargrid.py)
    lambda rng: rng.normal(size=(2000, 1)) * 1e-300,  # noise near 0: its common unit too fine for 2^53 counts
])
def test_floats_on_no_step_are_refused_in_their_own_words(make):
    x = make(np.random.default_rng(0))
    with pytest.raises(SanConfigError) as caught:
        sancodec.encode(x, fs=250)
    assert str(caught.value) == LOSSLESS_FLOATS


def test_counts_divided_by_a_gain_whose_reciprocal_is_a_double_lie_on_its_step():
    """wfdb-python's physical signal, counts divided by the gain: a gain of 204.8 (a reciprocal of 5/1024, a double)
    gives a step, and the file is lossless, bit for bit (the README's limitations say so)."""
    x = np.cumsum(np.random.default_rng(0).integers(-40, 41, (20_000, 1)), axis=0) / 204.8
    assert grid_step(x[:, 0]) == 5 / 1024
    back = sancodec.decode(sancodec.encode(x, fs=250))
    assert np.array_equal(_bits(back.samples), _bits(x))


def test_a_hostile_step_in_a_lossless_file_is_refused_in_one_error(tmp_path):
    """A ``.san`` header is not trusted: a lossless file's steps (CRCs valid, contents lying) that are no positive
    number, are one too few, or sit beside a max error, are one SanFormatError, whole or streamed; a step that is a
    number, but another (the CRCs are the integers', which it does not change), decodes to other finite floats
    without a warning (the streamed reader's cast of such floats to integers warned)."""
    import warnings

    from common import refused_whole_and_opened, rewrap

    data = sancodec.encode(_counts(10, 5000, 2, 1 << 15) * np.array([0.195, 1 / 3]), fs=250)
    header = SanReader(io.BytesIO(data)).header
    for lie in ({"quantum": [0.0, 0.195]}, {"quantum": [-0.195, 0.195]}, {"quantum": ["0.195", 0.195]},
                {"quantum": [0.195]}, {"max_error": 3}):
        refused_whole_and_opened(rewrap(data, header={**header, **lie}), tmp_path)
    other = rewrap(data, header={**header, "quantum": [1e300, 1e300]})
    (tmp_path / "other.san").write_bytes(other)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(sancodec.decode(other).samples))
        with sancodec.open(tmp_path / "other.san") as f:
            assert np.all(np.isfinite(f.read()))
            f.check()


def test_the_step_is_the_factor_where_the_walk_takes_single_steps():
    k = _counts(3, 5000, 1, 1 << 20)[:, 0]
    for factor in (0.195, 3.0517578125e-05, 1 / 3, 1.234567e-07, 7.0, 0.001):
        assert grid_step(k * factor) == factor
    assert grid_step(np.zeros(10)) == 1.0
    assert grid_step(np.array([np.inf, 1.0])) is None


def test_the_cli_gives_a_npy_of_calibrated_counts_back_byte_for_byte(tmp_path):
    """``sancodec encode x.npy --fs 250`` (lossless by default) of float64 and float32 arrays on a step: the decoded
    ``.npy`` is the source file, and ``info`` names each channel's step; a CSV of it reads back as the same doubles;
    an array of noise is one error line."""
    k = _counts(4, 30_000, 2, 1 << 15)
    np.save(tmp_path / "v.npy", k * np.array([0.195, 3.0517578125e-05]))
    np.save(tmp_path / "f.npy", (k * 2.0**-10).astype(np.float32))
    np.save(tmp_path / "n.npy", np.random.default_rng(0).normal(size=(500, 1)))
    runner = CliRunner()
    for name in ("v", "f"):
        res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.npy"), "--fs", "250", "--json"])
        assert res.exit_code == 0 and json.loads(res.stdout)["mode"] == "lossless", res.output
        res = runner.invoke(app, ["decode", str(tmp_path / f"{name}.san"), "-o", str(tmp_path / f"{name}_back.npy"),
                                  "-q"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / f"{name}_back.npy").read_bytes() == (tmp_path / f"{name}.npy").read_bytes()
    res = runner.invoke(app, ["info", str(tmp_path / "v.san")])
    assert res.exit_code == 0 and "floats on a step of 0.195" in res.stdout, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / "v.csv"), "-q"])
    assert res.exit_code == 0, res.output  # (each value at 17 digits, not at a lossy grid's places: the same doubles)
    back = sancodec.read_signal(tmp_path / "v.csv", fs=250).physical()
    assert np.array_equal(_bits(back), _bits(np.load(tmp_path / "v.npy")))
    res = runner.invoke(app, ["encode", str(tmp_path / "n.npy"), "--fs", "250"])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "whole multiples of one step" in res.stderr
    assert not (tmp_path / "n.san").exists()


def test_the_numcodecs_codec_holds_calibrated_floats_exactly():
    pytest.importorskip("numcodecs")
    from sancodec.arraycodec import Sancodec

    k = _counts(5, 10_000, 3, 1 << 15)
    for x in (k * 0.195, (k * 2.0**-12).astype(np.float32), k[:, 0] * 1.234567e-07):
        codec = Sancodec()
        back = codec.decode(codec.encode(x))
        assert back.dtype == x.dtype and back.shape == x.shape and np.array_equal(_bits(back), _bits(x))
    with pytest.raises(SanConfigError, match="a step's multiples"):
        Sancodec().encode(np.random.default_rng(0).normal(size=(100, 1)))


def test_blocks_pushed_to_the_encoder_stay_on_the_first_blocks_steps():
    """The block encoder (``SanEncoder.push``) takes a lossless float block on the first block's steps, and refuses
    one off them in its own words (not the SAN mode's message)."""
    from sancodec.codec.container import write_container
    from sancodec.codec.encoder import SanEncoder

    x = _counts(6, 20_000, 2, 1 << 15) * np.array([0.195, 1 / 3])
    encoder = SanEncoder(sancodec.Signal(x[:1], 250.0), None, "lossless", frame_len=4096)
    payloads = [p for i in range(0, len(x), 7000) for p in encoder.push(x[i : i + 7000])] + [*encoder.finish()]
    header, minor = encoder.header()
    buf = io.BytesIO()
    write_container(buf, header, payloads, minor=minor)
    assert np.array_equal(_bits(sancodec.decode(buf.getvalue()).samples), _bits(x))
    off = x.copy()
    off[15_000, 0] += 1e-9
    encoder = SanEncoder(sancodec.Signal(off[:1], 250.0), None, "lossless", frame_len=4096)
    with pytest.raises(SanConfigError, match="every block on the first block's steps"):
        for i in range(0, len(off), 7000):
            list(encoder.push(off[i : i + 7000]))


def test_the_streaming_writer_takes_floats_on_a_declared_step(tmp_path):
    """``sancodec.open(path, "w", step=...)``: floats on that step (one, or one per channel) stream losslessly as
    their integers and decode to the same doubles; a block off its step is refused and no file is left; the step
    is for lossless coding without decimals=, a positive finite number per channel."""
    x = _counts(7, 30_000, 2, 1 << 15) * np.array([0.195, 3.0517578125e-05])
    with sancodec.open(tmp_path / "s.san", "w", fs=250, channels=2, step=[0.195, 3.0517578125e-05]) as f:
        for i in range(0, len(x), 7777):
            f.write(x[i : i + 7777])
    assert np.array_equal(_bits(sancodec.decode((tmp_path / "s.san").read_bytes()).samples), _bits(x))
    with sancodec.open(tmp_path / "s.san") as f:
        assert np.array_equal(_bits(f.read(100, 200)), _bits(x[100:200]))
    off = x.copy()
    off[20_000, 1] += 1e-12
    with pytest.raises(SanConfigError, match="channel 1 of the block at row 15554 holds a value that is not a whole "
                                             "multiple of its step"):
        with sancodec.open(tmp_path / "off.san", "w", fs=250, channels=2, step=[0.195, 3.0517578125e-05]) as f:
            for i in range(0, len(off), 7777):
                f.write(off[i : i + 7777])
    assert not (tmp_path / "off.san").exists()
    for options in ({"step": 0.195, "decimals": 3}, {"step": 0.195, "codec": "near-lossless", "max_error": 1},
                    {"step": [0.1]}, {"step": float("nan")}, {"step": -1}, {"step": "0.1"}, {"step": True}):
        with pytest.raises(SanConfigError, match="step"):
            sancodec.open(tmp_path / "bad.san", "w", fs=250, channels=2, **options)
    assert not (tmp_path / "bad.san").exists()


def test_a_file_of_floats_on_a_step_checks_its_integers_checksums(tmp_path):
    """A lossless file's per-channel CRCs (of its integers) are checked on a whole decode, a streamed read and
    ``check``, for floats on a step as for integers (the streamed reader summed the floats, cast to integers, and
    then checked nothing)."""
    from common import rewrap

    x = _counts(8, 20_000, 2, 1 << 15) * np.array([0.195, 1 / 3])
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    (tmp_path / "good.san").write_bytes(data)
    with sancodec.open(tmp_path / "good.san") as f:
        f.check()
    bad = rewrap(data, header={**header, "sample_crc32": [(header["sample_crc32"][0] + 1) % 2**32,
                                                          header["sample_crc32"][1]]})
    (tmp_path / "bad.san").write_bytes(bad)
    with pytest.raises(sancodec.SanFormatError, match="channel 0: decoded samples fail the lossless checksum"):
        sancodec.decode(bad)
    for how in ("read", "check"):
        with sancodec.open(tmp_path / "bad.san") as f, \
                pytest.raises(sancodec.SanFormatError, match="fail the lossless checksum"):
            getattr(f, how)()


@pytest.mark.parametrize("scale", [1 / 1000, 0.195])
def test_near_lossless_floats_are_never_larger_than_their_lossless_file(scale):
    """Near-lossless floats sit on a grid of twice the max error; where that is finer than the floats' own decimals
    or step (a 3-decimal signal at max_error 0.0004, counts * 0.195 at 0.01), their file was larger than the lossless
    one. Where floats have a lossless file, the smaller of the two is written, as ``encode_to_file`` promises; each
    decodes within the error."""
    x = _counts(9, 50_000, 2, 1 << 15) * scale
    lossless = len(sancodec.encode(x, fs=250))
    for error in (1e-4, 4e-4, 1e-3, 0.01, 0.1, 1.0):
        data = sancodec.encode(x, fs=250, mode="near-lossless", max_error=error)
        assert len(data) <= lossless
        assert np.abs(sancodec.decode(data).physical() - x).max() <= error * (1 + 1e-9)


GOLDEN_GRID = Path(__file__).parent / "golden" / "floatgrid_lossless.san"


def _calibrated() -> np.ndarray:
    """Two channels of counts from integer formulas alone (no random stream, which a numpy release may change) times
    calibration factors that are no decimals: an ECG-like wave in microvolts and a slow one in volts."""
    t = np.arange(6000)
    a = (t % 500) * 7 - 1750 + ((t * t * 7919) % 61 - 30)
    b = ((t * 104729) % 201 - 100) + 300 * ((t % 250) < 20)
    return np.column_stack([a * 0.195, b * 3.0517578125e-05])


def test_the_format_1_17_golden_file():
    """The golden lossless file of floats on a step (format 1.17): the encoder writes it byte for byte
    (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it), and it decodes to the very doubles."""
    from common import encoded_as_golden

    x = _calibrated()
    golden = encoded_as_golden(GOLDEN_GRID, sancodec.encode(x, fs=250))
    assert golden[4:6] == bytes([1, 17])
    assert np.array_equal(_bits(sancodec.decode(golden).samples), _bits(x))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=40),
       st.sampled_from([np.float64, np.float32]))
def test_any_floats_are_coded_exactly_or_refused_in_one_error(values, dtype):
    """Any finite floats (subnormals, extremes, mixed signs, float32 or float64): lossless mode codes them bit for bit
    (decimals, or a step) or refuses them with a SanConfigError; the step search never raises anything else (an
    OverflowError from a quotient past the float range escaped it once, found by the CSV fuzzer)."""
    with np.errstate(over="ignore"):
        x = np.asarray(values, dtype=np.float64).astype(dtype)
    if not np.all(np.isfinite(x)):  # (a float64 value past float32's range)
        return
    try:
        data = sancodec.encode(x, fs=250)
    except SanConfigError:
        return
    back = sancodec.decode(data).physical().reshape(-1).astype(dtype)
    assert np.array_equal(_bits(back), _bits(x))


GOLDEN_GRID32 = Path(__file__).parent / "golden" / "floatgrid32_lossless.san"


def _float32_counts(k: np.ndarray, factor: float, how: str) -> np.ndarray:
    """Counts ``k`` scaled to float32 as a device or an exporter does it: in float32 arithmetic, in float64 and then
    stored, or through two roundings in float64 (a gain, then a range) and then stored."""
    if how == "float32":
        return k.astype(np.float32) * np.float32(factor)
    if how == "float64":
        return (k * factor).astype(np.float32)
    return (k * factor / 32767 * 3).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 3000), st.integers(1, 3),
       st.floats(1e-9, 1e6, allow_nan=False, allow_infinity=False), st.sampled_from(["float32", "float64", "twice"]),
       st.sampled_from([1 << 10, 1 << 15, 1 << 20]))
def test_float32_counts_scaled_any_way_come_back_as_the_same_float32(seed, n, c, factor, how, reach):
    """Float32 samples that are counts scaled (format 1.18): lossless mode codes them, and they decode to the same
    float32 bits; as float32 where the file says so (its ``float32`` field), else as decimals (``io.decimals``, which
    take them first where each has at most 9 places). Before 1.18, the float32 scaling and the two roundings were
    refused, or held on a step of the floats' finest unit in the last place (integers of up to 2^53)."""
    x = _float32_counts(np.vstack([_counts(seed, n, c, reach), np.ones((1, c), dtype=np.int64)]), factor, how)
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    back = sancodec.decode(data)
    if header.get("float32"):
        assert back.samples.dtype == np.float32 and data[4:6] == bytes([1, 18])
        assert int(np.abs(np.rint(x / np.asarray(header["quantum"]))).max()) <= 2 * reach  # (the counts, not units
        # in the last place)
        assert np.array_equal(_bits(back.samples), _bits(x))
    else:
        assert np.array_equal(_bits(back.physical().astype(np.float32)), _bits(x))


def test_float32_counts_after_two_roundings_are_a_format_1_18_file_that_costs_what_its_counts_cost(tmp_path):
    """``counts * 0.1 / 32767`` stored as float32 (a gain and a range: on no float64 step, so refused before): the
    header holds each channel's step and ``float32``, the file is format 1.18 and as large as its counts' file but for
    the header; it decodes as float32, bit for bit, whole, in a range, through ``sancodec.open`` and a block at a
    time."""
    k = _counts(5, 40_000, 2, 1 << 15)
    x = (k * 0.1 / 32767).astype(np.float32)
    data = sancodec.encode(x, fs=250)
    header = SanReader(io.BytesIO(data)).header
    assert header["float32"] is True and data[4:6] == bytes([1, 18])
    assert np.array_equal(np.rint(x / np.asarray(header["quantum"])), k)
    assert abs(len(data) - len(sancodec.encode(k, fs=250))) < 64
    back = sancodec.decode(data)
    assert back.samples.dtype == np.float32 and np.array_equal(_bits(back.samples), _bits(x))
    part = sancodec.decode(data, start=1000, end=1010).samples
    assert part.dtype == np.float32 and np.array_equal(_bits(part), _bits(x[1000:1010]))
    (tmp_path / "x.san").write_bytes(data)
    with sancodec.open(tmp_path / "x.san") as f:
        assert f.dtype == np.float32
        assert np.array_equal(_bits(f.read()), _bits(x))
        assert np.array_equal(_bits(f[12_345:12_400]), _bits(x[12_345:12_400]))
        assert np.array_equal(_bits(np.concatenate(list(f.blocks(7000)))), _bits(x))


def test_the_float32_step_search_finds_the_factor_whatever_the_scaling():
    """:func:`grid_step32` finds a step holding the counts themselves (their largest magnitude), where the float64
    search finds only the floats' finest unit in the last place; a tie on a float32 midpoint counts (products of
    ``np.float32(0.37)`` pin the step there); float32 noise, an offset after the scaling and a negative zero have
    none."""
    k = _counts(6, 20_000, 1, 1 << 12)[:, 0]
    for factor in (0.37, 0.1, 0.195, 1 / 3, 7.3, 123.456, 7e-6, 1e5 / 3):
        for how in ("float32", "float64", "twice"):
            x = _float32_counts(k, factor, how)
            q = grid_step32(x)
            assert q is not None and on_grid32(x, q), (factor, how)
            assert np.array_equal(np.abs(np.rint(x / q)), np.abs(k)), (factor, how)
    x = _float32_counts(k, 0.37, "float32")
    assert grid_step(x.astype(np.float64)) < 1e-6  # (the float64 search: units in the last place)
    rng = np.random.default_rng(0)
    assert grid_step32(rng.normal(size=5000).astype(np.float32)) is None
    assert grid_step32((k * 0.00305 + 1.5).astype(np.float32)) in (None, grid_step32((k * 0.00305 + 1.5)
                                                                                      .astype(np.float32)))
    assert grid_step32(np.array([1.0, -0.0], dtype=np.float32)) is None
    assert grid_step32(np.zeros(4, dtype=np.float32)) == 1.0


def test_a_lying_float32_field_or_a_step_past_float32s_range_is_one_format_error(tmp_path):
    """``float32`` anywhere but a lossless file, or anything but true, is refused by the reader; so is a step whose
    products pass float32's range (the CRCs are the integers', which it does not change), whole or streamed, where a
    float64 file's decodes to large finite doubles, and, in a file without a step, an integer that is no float32's
    bits (outside [-2^31, 2^31))."""
    from common import rewrap

    data = sancodec.encode((_counts(7, 5000, 2, 1 << 15) * 0.1 / 32767).astype(np.float32), fs=250)
    header = SanReader(io.BytesIO(data)).header
    lossy = sancodec.encode(_counts(7, 5000, 2, 1 << 15), fs=250, mode="lossy", prdn=5)
    wide = sancodec.encode(_counts(7, 5000, 2, 1 << 15) * (1 << 20), fs=250)  # (integers past 2^31)
    bad_files = [rewrap(data, header={**header, **lie}) for lie in (
        {"float32": False}, {"float32": 1}, {"float32": "true"}, {"quantum": [1e300, 1e300]},
        {"quantum": [1e-3, 1e37]})]
    bad_files += [rewrap(other, header={**SanReader(io.BytesIO(other)).header, "float32": True})
                  for other in (lossy, wide)]
    for bad in bad_files:
        (tmp_path / "bad.san").write_bytes(bad)
        with pytest.raises(sancodec.SanFormatError, match="float32|header"):
            sancodec.decode(bad)
        with pytest.raises(sancodec.SanFormatError, match="float32|header"):
            with sancodec.open(tmp_path / "bad.san") as f:
                f.read()


def test_the_cli_gives_a_float32_npy_of_twice_rounded_counts_back_byte_for_byte(tmp_path):
    """A ``.npy`` of float32 counts after two roundings encodes losslessly in the bytes its counts take (before format
    1.18: on the floats' finest unit in the last place, in more bytes) and decodes to the source file's bytes."""
    k = _counts(8, 30_000, 3, 1 << 15)
    np.save(tmp_path / "f.npy", (k * 0.1 / 32767).astype(np.float32))
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "f.npy"), "--fs", "250", "-o", str(tmp_path / "f.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "f.san").stat().st_size < len(sancodec.encode(k, fs=250)) + 128
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "back.npy").read_bytes() == (tmp_path / "f.npy").read_bytes()
    res = runner.invoke(app, ["info", str(tmp_path / "f.san")])
    assert res.exit_code == 0 and res.stdout.count("float32 values on a step of") == 3, res.output


def test_a_float16_npy_is_lossless_byte_for_byte_and_reads_back_as_float16(tmp_path):
    """A float16 ``.npy`` was coded on the float64 grid its values widen to, where -0.0 beside values up to 65504 found
    none (refused), and came back as float64, four times its memory. It is coded as the float32s it widens to
    exactly (format 1.18: on a step, else their bits) and decodes to the source file's bytes; ``sancodec.open`` reads
    it as float16, -0.0 and all. Lossy and near-lossless files of it come back as float64, which keeps the bound
    (float32, or float16, would round past it)."""
    rng = np.random.default_rng(16)
    x = (rng.normal(0, 3, (3000, 2))).astype(np.float16)
    x[7, 1], x[9, 0] = -0.0, 65504
    np.save(tmp_path / "h.npy", x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "h.npy"), "--fs", "100", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "h.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "back.npy").read_bytes() == (tmp_path / "h.npy").read_bytes()
    with sancodec.open(tmp_path / "h.san") as f:
        assert f.dtype == np.float16 and np.array_equal(f[:].view(np.uint16), x.view(np.uint16))
    res = runner.invoke(app, ["info", str(tmp_path / "h.san")])
    assert res.exit_code == 0 and " ".join(res.stdout.split()).count("float16 values, as float32s,") == 2, res.output
    smooth = (np.sin(np.arange(4000) / 30.0)[:, None] * [1.0, 0.1]).astype(np.float16)  # decimals or a step
    np.save(tmp_path / "s.npy", smooth)
    assert runner.invoke(app, ["encode", str(tmp_path / "s.npy"), "--fs", "100", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(tmp_path / "s_back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s_back.npy").read_bytes() == (tmp_path / "s.npy").read_bytes()
    res = runner.invoke(app, ["encode", str(tmp_path / "s.npy"), "--fs", "100", "--mode", "lossy", "--prdn", "1",
                              "-o", str(tmp_path / "l.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.npy"), "-q"]).exit_code == 0
    assert np.load(tmp_path / "l.npy").dtype == np.float64
    res = runner.invoke(app, ["encode", str(tmp_path / "h.npy"), "--fs", "100", "--mode", "near-lossless",
                              "--max-error", "0.01", "-o", str(tmp_path / "n.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["decode", str(tmp_path / "n.san"), "-o", str(tmp_path / "n.npy"), "-q"]).exit_code == 0
    near = np.load(tmp_path / "n.npy")
    assert near.dtype == np.float64 and np.abs(near - x.astype(np.float64)).max() <= 0.01 + 1e-12  # (the
    # difference's own rounding)


def test_a_file_that_says_float16_of_values_that_are_not_is_one_format_error():
    """``sancodec.open`` reads a float16 source's lossless file as float16: a header that names a float16 source for
    values float16 cannot hold (float32 ones) is refused at the read, not rounded; the npy writer keeps such values
    as float64, as a float16 source's lossy ones."""
    from common import rewrap

    x = (np.arange(2000, dtype=np.float32) / 3).reshape(-1, 1)
    data = sancodec.encode(x, fs=100)
    header = SanReader(data).header
    assert header["signal"]["source"]["dtype"] == "<f4"
    header["signal"]["source"]["dtype"] = "<f2"
    lying = rewrap(data, header=header)
    with sancodec.open(lying) as f:
        assert f.dtype == np.float16
        with pytest.raises(sancodec.SanFormatError, match="float16 cannot hold exactly"):
            f[:]
    from sancodec.io.arrays import as_source_array
    assert as_source_array(sancodec.decode(lying)).dtype == np.float64  # (as a float16 source's lossy values)


def test_a_float32_near_lossless_decode_written_as_float32_stays_within_max_error(tmp_path):
    """A float32 source's near-lossless decode goes back to float32 in a ``.npy``, and that rounding took it past
    ``--max-error``: 0.010009765625 at 0.01 on values up to 386. The grid leaves room for it (half the float32
    spacing at the largest value it can decode to); an error finer than that spacing is refused with a line that
    says so, where lossless mode keeps the values."""
    x = (np.cumsum(np.random.default_rng(3).normal(size=(20_000, 1)), axis=0) * 3).astype(np.float32)
    np.save(tmp_path / "g.npy", x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "g.npy"), "--fs", "100", "--mode", "near-lossless",
                              "--max-error", "0.01", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    back = np.load(tmp_path / "back.npy")
    assert back.dtype == np.float32 and np.abs(back.astype(np.float64) - x.astype(np.float64)).max() <= 0.01
    with pytest.raises(SanConfigError, match="finer than these float32 values' own spacing"):
        sancodec.encode(x, fs=100, mode="near-lossless", max_error=1e-6)


def test_the_format_1_18_golden_file():
    """The golden lossless file of float32 samples on a step (format 1.18): the encoder writes it byte for byte
    (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it), and it decodes to the very float32 values."""
    from common import encoded_as_golden

    x = (_calibrated() / np.array([0.195, 3.0517578125e-05]) * 0.1 / 32767).astype(np.float32)
    golden = encoded_as_golden(GOLDEN_GRID32, sancodec.encode(x, fs=250))
    assert golden[4:6] == bytes([1, 18])
    back = sancodec.decode(golden).samples
    assert back.dtype == np.float32 and np.array_equal(_bits(back), _bits(x))


def test_a_stream_of_float32_blocks_is_lossless_as_their_bits(tmp_path):
    """``sancodec.open(path, "w")`` takes float32 blocks losslessly (format 1.18, as their bits: a first block may hold
    too few values to show a step; refused before), and the file decodes to them, bit for bit, as float32; a block of
    another type after them, or float32 after integers, is refused and nothing written."""
    x = np.random.default_rng(9).normal(size=(10_000, 2)).astype(np.float32)
    x[3, 1] = -0.0
    like = sancodec.Signal(x[:1], fs=250.0)
    with sancodec.open(tmp_path / "s.san", "w", like=like) as f:
        for start in range(0, len(x), 777):
            f.write(x[start : start + 777])
    back = sancodec.decode((tmp_path / "s.san").read_bytes())
    assert back.samples.dtype == np.float32 and np.array_equal(_bits(back.samples), _bits(x))
    assert SanReader(io.BytesIO((tmp_path / "s.san").read_bytes())).header["float32"] is True
    for first, then in ((x[:10], x[10:20].astype(np.float64)), (np.zeros((10, 2), dtype=np.int64), x[10:20])):
        with pytest.raises(SanConfigError, match="blocks of one kind"):
            with sancodec.open(tmp_path / "t.san", "w", like=like) as f:
                f.write(first)
                f.write(then)
        assert not (tmp_path / "t.san").exists()


@pytest.mark.parametrize("dtype", [">f2", ">f4", ">f8"])
def test_a_big_endian_float_npy_codes_as_its_native_twin_and_decodes_to_its_own_bytes(tmp_path, dtype):
    """A big-endian float ``.npy`` (``>f4``: MATLAB's and some instruments' exports) missed every float32 test
    (``dtype == np.float32`` is false of it): it was coded on the float64 grid (format 1.17, not the decimals its
    native twin takes) and came back little-endian, and ``sancodec.open`` read a ``>f4`` file as float64. It now
    codes in the very bytes its native twin does, decodes to the source file's bytes and reads as its own type."""
    x = np.round(np.cumsum(np.random.default_rng(4).normal(size=(3000, 2)), axis=0) * 4) / 4  # quarters
    runner = CliRunner()
    sizes = []
    for name, order in (("big", dtype), ("own", "=" + dtype[1:])):  # (names of a length: the header holds it)
        np.save(tmp_path / f"{name}.npy", x.astype(order))
        res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.npy"), "--fs", "250", "-q"])
        assert res.exit_code == 0, res.output
        sizes.append((tmp_path / f"{name}.san").stat().st_size)
    assert sizes[0] == sizes[1]
    res = runner.invoke(app, ["decode", str(tmp_path / "big.san"), "-o", str(tmp_path / "back.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "back.npy").read_bytes() == (tmp_path / "big.npy").read_bytes()
    with sancodec.open(tmp_path / "big.san") as f:
        assert f.dtype == np.dtype(dtype).newbyteorder("=") and np.array_equal(f[:], x)


def test_a_stream_takes_big_endian_float32_blocks_as_float32(tmp_path):
    """``SanWriter.write`` of big-endian float32 blocks was refused as "not float32" (lossless streaming takes integers,
    float32 values, ...); they are float32 values, taken as the native blocks are, bit for bit."""
    x = np.random.default_rng(5).normal(size=(4000, 2)).astype(np.float32)
    like = sancodec.Signal(x[:1], fs=250.0)
    with sancodec.open(tmp_path / "s.san", "w", like=like) as f:
        for start in range(0, len(x), 1000):
            f.write(x[start : start + 1000].astype(">f4"))
    back = sancodec.decode((tmp_path / "s.san").read_bytes())
    assert back.samples.dtype == np.float32 and np.array_equal(_bits(back.samples), _bits(x))


def test_a_lossless_stream_takes_float16_blocks_and_reads_back_as_float16(tmp_path):
    """``SanWriter.write`` refused float16 blocks in lossless mode ("takes integers, float32 values, ..."), though
    ``sancodec.encode`` codes a float16 array exactly. They are coded as the float32s they widen to exactly, and the
    file reads back (``sancodec.open``, a ``.npy`` decode) as those float16s, -0.0 and all; a block of another type
    after them, or float16 after another type, is refused and nothing written."""
    x = (np.random.default_rng(16).normal(size=(4000, 2)) * 10).astype(np.float16)
    x[5, 1] = -0.0
    like = sancodec.Signal(x[:1].astype(np.float64), fs=250.0)
    with sancodec.open(tmp_path / "h.san", "w", like=like) as f:
        for start in range(0, len(x), 999):
            f.write(x[start : start + 999])
    with sancodec.open(tmp_path / "h.san") as f:
        assert f.dtype == np.float16 and np.array_equal(f[:].view(np.uint16), x.view(np.uint16))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "h.san"), "-o", str(tmp_path / "h.npy"), "-q"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "h.npy").view(np.uint16), x.view(np.uint16))
    for first, then in ((x[:10], x[10:20].astype(np.float32)), (x[:10].astype(np.float32), x[10:20]),
                        (np.zeros((10, 2), dtype=np.int64), x[10:20])):
        with pytest.raises(SanConfigError, match="blocks of one kind"):
            with sancodec.open(tmp_path / "t.san", "w", like=like) as f:
                f.write(first)
                f.write(then)
        assert not (tmp_path / "t.san").exists()


GOLDEN_BITS32 = Path(__file__).parent / "golden" / "float32_bits_lossless.san"


def test_the_format_1_18_golden_file_of_float32_bits():
    """The golden lossless file of float32 values on no step, held as their bits, sign last (format 1.18, no quantum):
    values made by IEEE division and addition alone (correctly rounded: the same on every machine), one of them so
    near 0 that its unit in the last place leaves no step within 2^53 of the largest. The encoder writes it byte for
    byte (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it); it decodes to the very float32 values."""
    from common import encoded_as_golden

    t = np.arange(6000)
    a = ((t % 500) * 7 - 1750 + ((t * t * 7919) % 61 - 30)).astype(np.float32)
    b = (((t * 104729) % 201 - 100) + 300 * ((t % 250) < 20)).astype(np.float32)
    x = np.column_stack([a / np.float32(7) + b / np.float32(3), b / np.float32(11) - np.float32(0.5)])
    x[100] = np.float32(1e-30)
    golden = encoded_as_golden(GOLDEN_BITS32, sancodec.encode(x, fs=250))
    header = SanReader(io.BytesIO(golden)).header
    assert golden[4:6] == bytes([1, 18]) and header["float32"] is True and header["quantum"] is None
    back = sancodec.decode(golden).samples
    assert back.dtype == np.float32 and np.array_equal(_bits(back), _bits(x))


def test_a_float32_decode_prints_to_csv_in_the_digits_a_float32_needs(tmp_path):
    """A float32 file's decode written as CSV prints each value in 9 significant digits (17 for doubles), which read
    back as the same float32s."""
    x = np.random.default_rng(10).normal(size=(500, 2)).astype(np.float32)
    (tmp_path / "x.san").write_bytes(sancodec.encode(x, fs=250))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "x.csv"), "-q"])
    assert res.exit_code == 0, res.output
    cells = [cell for line in (tmp_path / "x.csv").read_text().splitlines()[1:] for cell in line.split(",")]
    assert max(len(cell.lstrip("-").replace("0.", "", 1).lstrip("0").replace(".", "").split("e")[0])
               for cell in cells) <= 9
    back = np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1, dtype=np.float32)
    assert np.array_equal(_bits(back), _bits(x))


def test_the_encode_summary_weighs_floats_against_their_own_width(tmp_path):
    """``encode``'s summary sets a float input's file against its own floats (float32: 4 bytes a value, a float64
    array's 8), beside the 16-bit figure it gives every input; an integer record's has the 16-bit figure alone."""
    runner = CliRunner()
    np.save(tmp_path / "f.npy", np.random.default_rng(11).normal(size=(3000, 2)).astype(np.float32))
    np.save(tmp_path / "d.npy", _counts(11, 3000, 2, 1 << 12) * 0.195)
    np.save(tmp_path / "i.npy", _counts(11, 3000, 2, 1 << 12))
    for name, width in (("f", 4), ("d", 8), ("i", None)):
        res = runner.invoke(app, ["encode", str(tmp_path / f"{name}.npy"), "--fs", "250", "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        assert summary.get("float_bytes") == width, name
        if width is not None:
            assert summary["cr_vs_floats"] == round(6000 * width / summary["bytes"], 3)
    res = runner.invoke(app, ["encode", str(tmp_path / "f.npy"), "--fs", "250", "--force"])
    assert res.exit_code == 0 and "smaller than its 32-bit floats" in " ".join(res.stdout.split()), res.output


def test_a_float32_file_on_a_step_decodes_to_a_wfdb_record_of_its_counts(tmp_path):
    """A format 1.18 file on a step goes to WFDB as its counts with a gain of one over the step (its samples, the
    float32 nearest each product, are half a float32 unit from it: refused as off the grid before), and the record's
    physical values, as float32, are the samples."""
    import wfdb

    k = _counts(12, 4000, 2, 1 << 14)
    x = (k * 0.1 / 32767).astype(np.float32)
    (tmp_path / "x.san").write_bytes(sancodec.encode(x, fs=250))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "rec"), "--format", "wfdb",
                                   "-q"])
    assert res.exit_code == 0, res.output
    record = wfdb.rdrecord(str(tmp_path / "rec"), physical=False)
    assert np.array_equal(record.d_signal, k)
    assert np.array_equal(_bits(wfdb.rdrecord(str(tmp_path / "rec")).p_signal.astype(np.float32)), _bits(x))


def test_float32_bits_are_not_written_to_wfdb_digitised_anew(tmp_path):
    """A float32 file on no step asked for as WFDB is one error, nothing written (wfdb-python would digitise its
    values anew, not exactly), as EDF is; .npy gets them bit for bit."""
    x = np.random.default_rng(13).normal(size=(2000, 2)).astype(np.float32)
    (tmp_path / "x.san").write_bytes(sancodec.encode(x, fs=250))
    runner = CliRunner()
    for args in (["-o", str(tmp_path / "rec"), "--format", "wfdb"], ["-o", str(tmp_path / "rec.edf")]):
        res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), *args])
        assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.san"]
    assert runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / "x.npy")]).exit_code == 0
    assert np.array_equal(_bits(np.load(tmp_path / "x.npy")), _bits(x))


def test_a_stream_of_float32_blocks_on_a_declared_step_holds_their_counts(tmp_path):
    """``step=`` with float32 blocks: each value the float32 nearest a multiple (``on_grid32``; refused as off the step
    before), held as the counts and decoded as float32, bit for bit; a float64 block after them is refused."""
    k = _counts(14, 9000, 2, 1 << 14)
    x = (k * 0.1 / 32767).astype(np.float32)
    like = sancodec.Signal(x[:1], fs=250.0)
    with sancodec.open(tmp_path / "s.san", "w", like=like, step=0.1 / 32767) as f:
        for start in range(0, len(x), 1000):
            f.write(x[start : start + 1000])
    data = (tmp_path / "s.san").read_bytes()
    header = SanReader(io.BytesIO(data)).header
    assert header["float32"] is True and header["quantum"] == [0.1 / 32767] * 2
    back = sancodec.decode(data).samples
    assert back.dtype == np.float32 and np.array_equal(_bits(back), _bits(x))
    assert len(data) < len(sancodec.encode(k, fs=250)) + 128
    with pytest.raises(SanConfigError, match="blocks of one kind"):
        with sancodec.open(tmp_path / "t.san", "w", like=like, step=0.1 / 32767) as f:
            f.write(x[:10])
            f.write(x[10:20].astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_negative_zero_in_a_stream_on_a_declared_step_is_refused_not_lost(tmp_path, dtype):
    """A -0.0 among a streamed block's multiples of its step is refused, nothing written: its integer 0 would decode
    to 0.0 (the float64 check took -0.0 for 0.0, and the file lost the sign)."""
    x = np.array([[0.195], [-0.0], [0.39]] * 10, dtype=dtype)
    with pytest.raises(SanConfigError, match="not a whole multiple of its step"):
        with sancodec.open(tmp_path / "z.san", "w", like=sancodec.Signal(x[:1], fs=250.0), step=0.195) as f:
            f.write(x)
    assert not (tmp_path / "z.san").exists()


def test_floats_spanning_more_than_a_float_holds_are_refused_without_a_numpy_warning():
    """Values near ±1.7e308 span past float64's range: the near grid's search found no grid, as it should, but
    numpy's overflow warning reached the user on the way to the refusal."""
    x = np.array([-1.7e308, 1.7e308, 0.5, 1.25])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(sancodec.SanConfigError, match="lossless mode needs"):
            sancodec.encode(x, fs=1)
