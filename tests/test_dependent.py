"""Dependent quantisation and second-difference template taps (format 1.12, path 3 predictor bits 7 and 8): the
trellis quantiser compiled and in numpy, the decoder's levels, the default effort's choice, the round trip, and what
a hostile frame gets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import frame_of, rewrap, wavelet_head, wavelet_predictors
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import SanFormatError, read_signal
from sancodec.codec import decode_file, dependent, dependentframe, kernels, lossy
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.beats import BeatTemplate
from sancodec.codec.entropy import ByteWriter, encode_arrays
from sancodec.codec.wavelet import band_lengths, levels_for
from sancodec.codec.waveletframe import DEPENDENT, SEPARATE_BANDS, TAP_SECOND, needs_minor, wavelet_payload
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"
N = 2048


def _followed(q: np.ndarray) -> np.ndarray:
    """The levels a decoder rebuilds from one band's indices, state by state from state 0 (the format's words)."""
    state, out = 0, []
    for k in q.tolist():
        out.append(2 * k - ((k > 0) - (k < 0) if state >= 2 else 0))
        state = dependent.NEXT[state][abs(k) % 2]
    return np.array(out, dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.floats(0.0, 0.4), st.sampled_from([0.3, 1.0, 4.0, 40.0]), st.integers(0, 2**32 - 1))
def test_the_compiled_trellis_takes_the_reference_path_and_a_decoder_rebuilds_its_levels(n, lam, scale, seed):
    rng = np.random.default_rng(seed)
    u = rng.laplace(size=n) * scale
    u[rng.random(n) < 0.2] = 0.0  # exact zeros and ties
    table = dependent.rates(*dependent.quantise(u, 0.15)) if lam else dependent.GENERIC
    q, second = dependent.quantise(u, lam, table)
    ref_q, ref_second = dependent._reference_quantise(u, lam, table)
    assert np.array_equal(q, ref_q) and np.array_equal(second, ref_second)
    levels = dependent.levels(q)
    assert np.array_equal(levels, _followed(q))
    assert np.array_equal(levels, 2 * q - np.where(second, np.sign(q), 0))  # the quantiser the path went through


@pytest.mark.parametrize("lam", [0.0, 0.15])
def test_the_compiled_trellis_takes_the_reference_path_past_its_fast_rounding(lam):
    """Values of 2^50 steps or more (which the compiled search weighs a value at a time, without its vectorised
    rounding) among ordinary ones, in blocks of either kind and across a block's end, take the reference's path."""
    rng = np.random.default_rng(9)
    u = rng.normal(size=2000) * 3
    huge = np.array([2.0**50, -(2.0**50) - 3.5, 2.0**52 + 2.0, -(2.0**52) - 6.0, 2.0**52 + 3.0, -(2.0**52) - 7.0])
    u[[0, 511, 1024, 1100, 1300, 1535]] = huge  # in the first and third blocks of 512, at their edges, the second
    # and fourth without (2^52 + 2: half of it, 2^51 + 1, is odd, which the 1.5 * 2^52 sum would round to even)
    table = dependent.rates(*dependent.quantise(rng.normal(size=1000) * 3, 0.15))
    q, second = dependent.quantise(u, lam, table)
    ref_q, ref_second = dependent._reference_quantise(u, lam, table)
    assert np.array_equal(q, ref_q) and np.array_equal(second, ref_second)


def test_the_levels_are_the_same_without_the_compiled_kernels(monkeypatch):
    q = np.random.default_rng(1).integers(-9, 10, 5000)
    compiled = dependent.levels(q)
    monkeypatch.setattr(kernels, "_LIB", None)
    assert np.array_equal(dependent.levels(q), compiled)
    assert np.array_equal(compiled, _followed(q))


def test_the_trellis_has_less_error_than_its_quantisers_alone_and_buys_bits_with_error():
    u = np.random.default_rng(6).normal(size=20_000) * 20
    q, second = dependent.quantise(u)
    trellis = np.mean((u - dependent.levels(q)) ** 2)
    assert trellis < 0.8 * np.mean((u - 2 * np.rint(u / 2)) ** 2)  # Q0 alone: error 1/3
    table = dependent.rates(q, second)
    priced, priced_second = dependent.quantise(u, 0.3, table)
    bits = lambda k, s: float(table[s.astype(int), np.minimum(np.abs(k), 63)].sum())  # noqa: E731
    assert bits(priced, priced_second) < bits(q, second)
    assert np.mean((u - dependent.levels(priced)) ** 2) > trellis


def test_a_frame_s_detail_bands_turn_into_levels_and_a_huge_index_is_refused():
    lengths = band_lengths(N, levels_for(N, 7))
    flat = np.random.default_rng(2).integers(-5, 6, N)
    out = flat.copy()
    dependent.levels_in_place(out, lengths)
    assert np.array_equal(out[: lengths[0]], flat[: lengths[0]])  # the approximation band is scalar
    start = lengths[0]
    for n in lengths[1:]:
        assert np.array_equal(out[start : start + n], _followed(flat[start : start + n]))
        start += n
    for huge in (1 << 60, -(1 << 60), -(1 << 63)):
        bad = flat.copy()
        bad[-1] = huge
        with pytest.raises(SanFormatError, match="index too large"):
            dependent.levels_in_place(bad, lengths)


def test_a_smooth_template_s_taps_go_as_second_differences_and_come_back():
    t8 = np.rint(800 * np.exp(-0.5 * (np.arange(-200, 200) / 30.0) ** 2)).astype(np.int64)
    template = BeatTemplate(t8, 200, np.arange(300, 20_000, 800), np.full(25, 64))
    w = ByteWriter()
    second, smooth = template.write(w)
    assert smooth  # a smooth beat: its slope changes little from tap to tap
    from sancodec.codec.beats import read_template
    from sancodec.codec.entropy import ByteReader
    back = read_template(ByteReader(w.getvalue()), 20_000, second, False, smooth)
    assert np.array_equal(back.t8, t8) and np.array_equal(back.positions, template.positions)
    rough = BeatTemplate(np.random.default_rng(0).integers(-50, 50, 400), 200, template.positions, template.g64)
    assert not rough.write(ByteWriter())[1]


def _ptb(n: int = 1 << 14):
    return read_signal(DATA / "s0010_re_i").slice(0, n)


def test_ptb_at_prdn_1_codes_smaller_dependently_and_decodes_the_same_either_way(monkeypatch):
    """s0010_re's lead i at PRDN 1 %: the default keeps the trellis-coded frame (predictor bit 7, format 1.12), meets
    the target, decodes to the same samples with and without the compiled kernels, and is smaller than the scalar
    coding of the same choices."""
    sig = _ptb()
    data = sancodec.encode(sig, mode="lossy", effort="best", prdn=1.0)
    assert any(p & DEPENDENT for p in wavelet_predictors(data)) and data[5] == 12
    y = sancodec.decode(data).samples[:, 0]
    assert prdn(sig.samples[:, 0], y) <= 1.0
    monkeypatch.setattr(lossy, "DEPENDENT_CODING", False)
    scalar = sancodec.encode(sig, mode="lossy", effort="best", prdn=1.0)
    assert not any(p & DEPENDENT for p in wavelet_predictors(scalar))
    assert len(data) < 0.98 * len(scalar)
    monkeypatch.setattr(kernels, "_LIB", None)
    monkeypatch.setattr(kernels, "COMPILED", False)
    np.testing.assert_array_equal(sancodec.decode(data).samples[:, 0], y)


def test_the_dependent_coding_meets_its_bound_or_is_not_made():
    sig = _ptb()
    x = sig.samples[:, 0].astype(np.int64)
    from sancodec.codec.lossy import LossyTarget
    from sancodec.codec.lossyrate import Prepared, rate_control
    ref = x.astype(np.float64)
    for bound in (0.5, 2.0, 7.0):
        coded = rate_control(Prepared([x], [None]), ref, LossyTarget(prdn=bound))
        payload, got = dependentframe.coding(coded, ref, bound)
        assert got <= bound and needs_minor(payload) in (12, 13)  # 1.13 where its stream has parent contexts
    two = rate_control(Prepared([x[:8192], x[8192:]], [None, None]), ref, LossyTarget(prdn=2.0))
    assert dependentframe.coding(two, ref, 2.0) is None  # one frame only


def _base() -> bytes:
    sig = read_signal(DATA / "test01_00s").slice(0, N).select_channels([0])
    return sancodec.encode(sig, mode="lossy", prdn=5.0, frame_len=N)


def _dq_frame(last: int) -> bytes:
    """A dependently quantised wavelet frame (bands apart, plain blocks) whose finest band ends in ``last``."""
    rng = np.random.default_rng(4)
    bands = [rng.integers(-3, 4, m) for m in band_lengths(N, levels_for(N, 7))]
    bands[-1][-1] = last
    w = wavelet_head(2.0, levels_for(N, 7), SEPARATE_BANDS | DEPENDENT)
    w.varint(0)
    for b in bands:
        block = encode_arrays([b], [False])
        w.varint(len(block))
        w.raw(block)
    return frame_of([w.getvalue()])


@pytest.mark.parametrize("compiled", [True, False])
def test_a_hostile_dependent_frame_is_refused_and_a_fair_one_decodes(compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
        monkeypatch.setattr(kernels, "COMPILED", False)
    base = _base()
    fair = decode_file(rewrap(base, frames=[_dq_frame(3)]))
    assert fair.signal.samples.shape == (N, 1)
    for huge in (1 << 60, -(1 << 61)):
        with pytest.raises(SanFormatError, match="index too large"):
            decode_file(rewrap(base, frames=[_dq_frame(huge)]))


def test_smooth_taps_without_a_template_and_a_huge_smooth_template_are_refused():
    base = _base()
    w = wavelet_head(2.0, levels_for(N, 7), TAP_SECOND)
    with pytest.raises(SanFormatError, match="smooth taps without a beat template"):
        decode_file(rewrap(base, frames=[frame_of([w.getvalue()])]))
    w = wavelet_head(2.0, levels_for(N, 7), 1 | TAP_SECOND)
    m = 100
    w.varint(m)
    w.varint(10)
    w.varint(2)
    block = encode_arrays([np.full(m, 1 << 36), np.array([100, 800]), np.array([0, 0])], [False] * 3)
    w.varint(len(block))
    w.raw(block)
    hostile = rewrap(base, frames=[frame_of([w.getvalue()])])
    with pytest.raises(SanFormatError, match="beat template too large"):
        decode_file(hostile)
    with pytest.raises(SanFormatError, match="beat template too large"):
        lossy_anatomy(hostile)


def test_wavelet_payload_marks_its_bits_and_needs_minor_12():
    bands = [np.zeros(m, dtype=np.int64) for m in band_lengths(N, levels_for(N, 7))]
    assert needs_minor(wavelet_payload(bands, 2.0, levels_for(N, 7), 0, dependent=True)) == 12
    assert needs_minor(wavelet_payload(bands, 2.0, levels_for(N, 7), 0)) < 12
