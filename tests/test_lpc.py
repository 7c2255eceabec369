"""Linear prediction for lossless frames: exact inversion, batching, analysis, and hostile filters."""

from __future__ import annotations

import numpy as np
import pytest
from common import expected_minor, rewrap
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import SanFormatError, Signal
from sancodec.codec import container, decode_file
from sancodec.codec.adaptive import lms_inverse
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.codec.lpc import MAX_COEF, SEGMENT, LpcFilter, analyse, residual, synthesize
from sancodec.codec.residual import (
    LMS_ORDERS,
    best_residual,
    estimate_bands,
    estimate_bits,
    poly_residual,
    read_residual,
    with_adaptive_stages,
)


@st.composite
def filters(draw):
    order = draw(st.integers(1, 32))
    coefs = draw(st.lists(st.integers(-(1 << 14), 1 << 14), min_size=order, max_size=order))
    return LpcFilter(tuple(coefs), draw(st.integers(0, 14)), draw(st.integers(-1000, 1000)))


@st.composite
def jobs(draw):
    out = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.sampled_from([1, 2, 33, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT + 7]))
        seed = draw(st.integers(0, 2**32 - 1))
        u = np.random.default_rng(seed).integers(-30000, 30000, size=n)
        out.append((u, draw(filters())))
    return out


@settings(max_examples=60, deadline=None)
@given(jobs())
def test_synthesis_inverts_the_residual_exactly_for_any_filters_in_one_batch(batch):
    decoded = synthesize([(residual(u, f), f) for u, f in batch])
    for (u, _), got in zip(batch, decoded):
        np.testing.assert_array_equal(got, u)


def test_residual_restarts_every_segment():
    f = LpcFilter((4096, -2048, 1024), 12, 5)
    u = np.arange(3 * SEGMENT) % 97
    e = residual(u, f)
    v = u - 5
    for start in (0, SEGMENT, 2 * SEGMENT):
        assert e[start] == v[start]  # position 0 of a segment is predicted by 0
        assert e[start + 1] == v[start + 1] - v[start]  # then by the previous sample up to the order
        assert e[start + 2] == v[start + 2] - v[start + 1]
    t = 10
    pred = (4096 * v[t - 1] - 2048 * v[t - 2] + 1024 * v[t - 3] + 2048) >> 12
    assert e[t] == v[t] - pred


def test_analysis_finds_a_resonance_the_polynomial_predictors_miss():
    rng = np.random.default_rng(0)
    n = 20000
    x = np.zeros(n)
    noise = rng.normal(size=n) * 20
    for t in range(2, n):  # AR(2): a lightly damped resonance at 0.2 cycles per sample
        x[t] = 2 * 0.99 * np.cos(2 * np.pi * 0.2) * x[t - 1] - 0.99**2 * x[t - 2] + noise[t]
    u = np.rint(x).astype(np.int64)
    found = analyse(u)
    assert found is not None
    flt, rms = found
    assert 15 < rms < 30  # the innovation's RMS is 20
    e = residual(u, flt)
    assert np.sqrt(np.mean(e.astype(float) ** 2)) < 25
    # about 2 bits per sample fewer than the best polynomial predictor
    assert estimate_bits(e) < 0.8 * min(estimate_bits(poly_residual(u, k)) for k in range(4))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 40)), min_size=0, max_size=9), st.integers(0, 2**32 - 1))
def test_the_bands_estimate_in_one_pass_is_the_sum_of_theirs(shapes, seed):
    # a wavelet coding's bands: empty ones, all-zero ones, and magnitudes up to 2**40
    rng = np.random.default_rng(seed)
    arrays = [np.rint(rng.laplace(scale=2.0 ** (spread / 4), size=n)).astype(np.int64) for n, spread in shapes]
    expected = sum(estimate_bits(a) for a in arrays)
    flat = np.concatenate([np.zeros(0, np.int64), *arrays])
    assert estimate_bands(flat, [len(a) for a in arrays]) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_too_short_frames_have_no_filter():
    assert analyse(np.arange(15)) is None


def test_filter_serialisation_round_trips_and_rejects_hostile_values():
    f = LpcFilter((MAX_COEF, -7, 0), 12, -42)
    w = ByteWriter()
    f.write(w)
    assert LpcFilter.read(ByteReader(w.getvalue(), "t")) == f
    for bad in (LpcFilter((MAX_COEF + 1,), 3, 0), LpcFilter((), 3, 0)):
        w = ByteWriter()
        bad.write(w)
        with pytest.raises(SanFormatError):
            LpcFilter.read(ByteReader(w.getvalue(), "t"))
    w = ByteWriter()
    w.varint(33)  # order above the maximum
    with pytest.raises(SanFormatError):
        LpcFilter.read(ByteReader(w.getvalue() + bytes(40), "t"))


def _resonant_signal(n: int, channels: int = 2) -> Signal:
    t = np.arange(n)[:, None]
    rng = np.random.default_rng(1)
    x = 4000 * np.sin(2 * np.pi * 0.013 * t * (1 + np.arange(channels))) + rng.normal(size=(n, channels)) * 3
    return Signal(np.rint(x).astype(np.int64), 250.0, [f"c{i}" for i in range(channels)], ["mV"] * channels,
                  adc_gain=[200.0] * channels, baseline=[0] * channels, fmt=["16"] * channels)


def test_lossless_codec_uses_lpc_bit_exactly_and_range_decodes():
    sig = _resonant_signal(50000)
    data = sancodec.encode(sig, mode="lossless", frame_len=16384)
    full = decode_file(data)
    assert full.lpc_channel_frames == 8  # every channel of every frame
    np.testing.assert_array_equal(full.signal.samples, sig.samples)
    # LPC frames are format 1.1, the binary header 1.3, LPC without restarts 1.8
    assert full.codings["lpc_whole"] == 8
    assert data[4:6] == bytes([container.MAJOR, 8])
    raw_only = len(sancodec.encode(sig, mode="lossless", frame_len=16384, predictor="raw"))
    assert raw_only == len(data)  # the raw path is where LPC lives
    part = decode_file(data, start=16000, end=33000)
    assert part.frames_read == 3
    np.testing.assert_array_equal(part.signal.samples, sig.samples[16000:33000])


def test_near_lossless_uses_lpc_only_in_exact_frames_and_is_never_larger_than_lossless():
    """LPC's open-loop residual cannot bound a quantised error, so a near-lossless file uses it only
    in frames coded exactly (format 1.2), where that is cheaper than quantising."""
    sig = _resonant_signal(20000)
    near = sancodec.encode(sig, mode="near-lossless", max_error=1)
    decoded = decode_file(near)
    assert len(near) <= len(sancodec.encode(sig, mode="lossless"))
    if decoded.lpc_channel_frames:
        # exact frames in a near-lossless file need 1.2; every file is 1.3 now, 1.8 with LPC without restarts
        assert decoded.codings["lpc_whole"] == decoded.lpc_channel_frames
        assert near[5] == expected_minor(near, 8)
    assert np.abs(decoded.signal.samples - sig.samples).max() <= 1


def test_a_tampered_filter_with_valid_crcs_fails_the_sample_checksum():
    sig = _resonant_signal(8000, channels=1)
    data = sancodec.encode(sig, mode="lossless", frame_len=8192)
    reader = container.SanReader(data)
    payload = bytearray(reader.read_frame(0))
    # payload: varint len, path 0, svarint x0, varint grid, coding varint (bit 3 = LPC), order, shift, bias, coefs
    r = ByteReader(bytes(payload), "t")
    r.varint()
    assert r.varint() == 0
    r.svarint()
    r.varint()
    assert r.varint() & 8
    order_at = r.pos
    assert r.varint() >= 1
    payload[order_at + 1] ^= 1  # the shift
    with pytest.raises(SanFormatError, match="checksum"):
        decode_file(rewrap(data, frames=[bytes(payload)]))


def _residual_block(coding: int, *fields: int) -> ByteReader:
    w = ByteWriter()
    w.varint(coding)
    for value in fields:
        w.varint(value)
    w.raw(encode_arrays([np.arange(100) % 5], [True]))
    return ByteReader(w.getvalue(), "frame")


def test_the_lms_stage_is_kept_only_where_it_pays_and_decodes_bit_exactly():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.integers(-40, 41, 60000)) + (200 * np.sin(np.arange(60000) / 9)).astype(np.int64)
    noise = rng.integers(-3000, 3000, 60000)  # nothing to predict: the stage would only cost
    sig = Signal(np.stack([walk, noise], axis=1), 250.0, ["walk", "noise"], ["mV", "mV"])
    decoded = decode_file(sancodec.encode(sig, frame_len=1 << 15))
    assert np.array_equal(decoded.signal.samples, sig.samples)
    assert decoded.codings["lms"] == 2  # the walk's two frames; never the noise's
    assert with_adaptive_stages(best_residual(walk[:32768], allow_lpc=True)).lms in LMS_ORDERS
    assert with_adaptive_stages(best_residual(noise[:32768], allow_lpc=True)).lms == 0


@pytest.mark.parametrize(("coding", "fields", "lossless", "problem"), [
    (16, (8,), False, "not for lossy files"),
    (16, (0,), True, "0 taps"),
    (16, (33,), True, "exceeds"),
])
def test_a_hostile_lms_field_is_refused(coding, fields, lossless, problem):
    with pytest.raises(SanFormatError, match=problem):
        read_residual(_residual_block(coding, *fields), 100, lossless)


def test_an_lms_block_reads_back_with_its_taps():
    e, order, flt, taps, ltp, _, long_stages, _ = read_residual(_residual_block(16 | 1, 8), 100, True)
    assert not long_stages
    assert (order, flt, taps, ltp) == (1, None, 8, False)
    assert np.array_equal(e, lms_inverse(np.arange(100) % 5, 8, 1 << 40))
