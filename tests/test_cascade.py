"""Format 1.8's lossless additions: the long adaptive stages (``codec.cascade``) and LPC without restarts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import needs_c, numpy_only

import sancodec
from sancodec import SanFormatError, Signal, read_signal
from sancodec.codec import cascade as cascade_module
from sancodec.codec import decode_file, kernels, lpc
from sancodec.codec import residual as residual_module
from sancodec.codec.cascade import DEFAULT, Cascade, affordable, read_cascade
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.codec.residual import LMS_LIMIT, read_residual

DATA = Path(__file__).parent / "data"
def _spiky(n: int, seed: int, scale: float = 30.0) -> np.ndarray:
    """Noise with a large spike every 117 samples: beats the stages learn to predict."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * scale
    x[np.arange(40, n, 117)] += 40 * scale
    return np.rint(x).astype(np.int64)


@pytest.mark.parametrize("stages", [DEFAULT.stages, ((512, 24), (16, 1)), ((32, 10),), ((16, 11), (48, 12), (64, 13))])
def test_the_stages_invert_exactly_and_numpy_gives_the_same_integers(stages, monkeypatch):
    x = _spiky(3000, 1)
    x[100:120] = 10**9  # beyond the int16 history: saturated there, and the weights may wrap
    c = Cascade(stages)
    out = c.forward(x)
    assert np.array_equal(c.inverse(out, LMS_LIMIT), x)
    if kernels.COMPILED:
        numpy_only(monkeypatch)
        assert np.array_equal(c.forward(x), out)
        assert np.array_equal(c.inverse(out, LMS_LIMIT), x)


def test_the_stages_learn_a_repeating_beat():
    rng = np.random.default_rng(2)
    t = np.arange(30000)
    x = np.rint(800 * np.exp(-(((t % 117) - 40.0) ** 2) / 18) + rng.normal(size=len(t)) * 30).astype(np.int64)
    out = DEFAULT.forward(x)
    assert np.abs(out[-5000:]).mean() < 0.5 * np.abs(x[-5000:]).mean()  # about the noise's 24 left


@pytest.mark.parametrize("on_numpy", [False, True])
def test_the_inverse_refuses_values_beyond_the_limit(on_numpy, monkeypatch):
    if on_numpy:
        numpy_only(monkeypatch)
    o = _spiky(200, 3)
    o[150] = 1 << 41
    with pytest.raises(SanFormatError, match="too large"):
        DEFAULT.inverse(o, LMS_LIMIT)
    with pytest.raises(SanFormatError, match="too large"):  # a restored value past the limit
        DEFAULT.inverse(np.full(200, LMS_LIMIT, dtype=np.int64), LMS_LIMIT)


def _stages_bytes(*fields: int) -> ByteReader:
    w = ByteWriter()
    for value in fields:
        w.varint(value)
    return ByteReader(w.getvalue(), "frame")


@pytest.mark.parametrize(("fields", "problem"), [
    ((0,), "empty"),
    ((4, 256, 13), "exceeds"),
    ((1, 8, 11), "8 taps"),
    ((1, 40, 11), "40 taps"),
    ((1, 528, 11), "exceeds"),
    ((1, 256, 0), "shift 0"),
    ((1, 256, 25), "exceeds"),
])
def test_hostile_stage_lists_are_refused(fields, problem):
    with pytest.raises(SanFormatError, match=problem):
        read_cascade(_stages_bytes(*fields))


def test_a_stage_list_reads_back():
    w = ByteWriter()
    DEFAULT.write(w)
    assert read_cascade(ByteReader(w.getvalue(), "frame")) == DEFAULT


def _block(coding: int, values: np.ndarray, *fields: int) -> ByteReader:
    w = ByteWriter()
    w.varint(coding)
    for value in fields:
        w.varint(value)
    w.raw(encode_arrays([values], [True]))
    return ByteReader(w.getvalue(), "frame")


@pytest.mark.parametrize("on_numpy", [False, True])
def test_a_residual_block_with_the_stages_reads_back_through_their_inverse(on_numpy, monkeypatch):
    if on_numpy:
        numpy_only(monkeypatch)
    coded = _spiky(500, 4)
    block = read_residual(_block(128 | 1, coded, 2, 256, 13, 16, 11), 500, True)
    assert block.cascade and block.order == 1 and block.lpc is None
    assert np.array_equal(block.e, DEFAULT.inverse(coded, LMS_LIMIT))


def test_lossy_blocks_and_lpc_less_whole_flags_are_refused():
    coded = np.arange(100) % 5
    with pytest.raises(SanFormatError, match="not for lossy"):
        read_residual(_block(128, coded, 1, 16, 11), 100, False)
    with pytest.raises(SanFormatError, match="needs an LPC filter"):
        read_residual(_block(64, coded), 100, True)


@pytest.mark.parametrize("on_numpy", [False, True])
def test_lpc_without_restarts_inverts_beside_restarting_filters(on_numpy, monkeypatch):
    if on_numpy:
        numpy_only(monkeypatch)
    rng = np.random.default_rng(5)
    n = 3 * lpc.SEGMENT + 77
    u = np.rint(3000 * np.sin(np.arange(n) * 0.05) + rng.normal(size=n) * 4).astype(np.int64)
    found = lpc.analyse(u)
    assert found is not None
    segmented = found[0]
    whole = lpc.LpcFilter(segmented.coefs, segmented.shift, segmented.bias, whole=True)
    e_seg, e_whole = lpc.residual(u, segmented), lpc.residual(u, whole)
    # restarts predict the first sample of every segment by 0: the whole filter does not
    assert abs(int(e_seg[lpc.SEGMENT])) > 20 * abs(int(e_whole[lpc.SEGMENT])) + 100
    assert np.array_equal(e_seg[: lpc.SEGMENT], e_whole[: lpc.SEGMENT])
    back = lpc.synthesize([(e_seg, segmented), (e_whole, whole), (e_whole[:5000], whole)])
    assert np.array_equal(back[0], u) and np.array_equal(back[1], u) and np.array_equal(back[2], u[:5000])


@needs_c
def test_lpc_without_restarts_matches_numpy(monkeypatch):
    rng = np.random.default_rng(6)
    u = np.cumsum(rng.integers(-50, 51, 2 * lpc.SEGMENT + 9))
    f = lpc.LpcFilter(*lpc.analyse(u)[0].__dict__.values())
    f = lpc.LpcFilter(f.coefs, f.shift, f.bias, whole=True)
    compiled = lpc.residual(u, f)
    numpy_only(monkeypatch)
    assert np.array_equal(lpc.residual(u, f), compiled)


def _a103l() -> Signal:
    return read_signal(DATA / "a103l_20000")


def test_the_encoder_runs_the_stages_where_beats_repeat_and_the_file_decodes_exactly():
    sig = _a103l()
    data = sancodec.encode(sig)
    decoded = decode_file(data)
    np.testing.assert_array_equal(decoded.signal.samples, sig.samples)
    assert decoded.codings["cascade"] == 3 and decoded.codings["lpc_whole"] == 3
    assert data[5] == 8
    residual_module.CASCADE = False
    try:
        without = sancodec.encode(sig)
    finally:
        residual_module.CASCADE = True
    assert len(data) < 0.97 * len(without)  # what the stages buy on this record


def test_the_encoder_leaves_the_stages_out_where_they_do_not_pay():
    rng = np.random.default_rng(7)
    noise = rng.integers(-3000, 3000, (40000, 1))  # nothing to predict
    sig = Signal(noise, 250.0, ["noise"], ["mV"])
    decoded = decode_file(sancodec.encode(sig))
    assert "cascade" not in decoded.codings
    mitdb = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 100000)
    decoded = decode_file(sancodec.encode(mitdb))  # the LMS stage and long-term prediction win there
    assert "cascade" not in decoded.codings and decoded.codings["lms"] == 2
    np.testing.assert_array_equal(decoded.signal.samples, mitdb.samples)


def test_a_block_too_small_for_the_work_of_its_stages_is_refused():
    """A hostile file could ask for minutes of decoding with a few bytes: 3 x 512 taps over 2^20 values."""
    zeros = np.zeros(1 << 20, dtype=np.int64)
    with pytest.raises(SanFormatError, match="hostile"):
        read_residual(_block(128, zeros, 3, 512, 13, 512, 13, 512, 13), len(zeros), True)
    assert affordable(DEFAULT, 82500, 20000) and not affordable(Cascade(((512, 13),) * 3), 1 << 20, 1000)


def test_the_encoder_drops_the_stages_where_the_block_is_too_small_for_them(monkeypatch):
    monkeypatch.setattr(cascade_module, "WORK_PER_BYTE", 1)  # as if every block were cheap to code
    monkeypatch.setattr(cascade_module, "WORK_FLOOR", 1)
    sig = _a103l()
    decoded = decode_file(sancodec.encode(sig))
    assert "cascade" not in decoded.codings
    np.testing.assert_array_equal(decoded.signal.samples, sig.samples)


def test_the_numpy_synthesis_batches_whole_blocks_only_with_blocks_of_their_length(monkeypatch):
    """Padding a short whole-block job to a long one in one batch would cost memory no file justifies."""
    numpy_only(monkeypatch)
    seen = []
    real = lpc._synthesize_lanes
    monkeypatch.setattr(lpc, "_synthesize_lanes", lambda jobs, segment: seen.append(
        (len(jobs), segment)) or real(jobs, segment))
    f = lpc.LpcFilter((3, -1), 1, 0, whole=True)
    jobs = [(np.arange(n) % 7 - 3, f) for n in (5000, 40, 5000, 40)] + [(np.arange(100) % 5, lpc.LpcFilter((1,), 0, 0))]
    back = lpc.synthesize(jobs)
    assert sorted(seen) == [(1, lpc.SEGMENT), (2, 40), (2, 5000)]
    for (e, flt), u in zip(jobs, back):
        assert np.array_equal(lpc.residual(u, flt), e)


def test_a_lossy_file_whose_exact_channels_use_format_1_8_says_1_8():
    """A lossy channel coded in the time domain is coded as a lossless one: LPC without restarts there
    makes the file 1.8, so a 1.7 reader refuses it by its version rather than by a field."""
    sig = _a103l()
    data = sancodec.encode(sig, mode="lossy", prdn=0.5)
    decoded = decode_file(data)
    assert decoded.codings["lpc_whole"] == 3 and data[5] == 8
    for ch in range(3):
        assert sancodec.metrics.prdn(sig.samples[:, ch], decoded.signal.samples[:, ch]) <= 0.5
    wavelets = sancodec.encode(sig, mode="lossy", prdn=5.0)
    assert decode_file(wavelets).codings == {"wavelet": 3} and wavelets[5] != 8  # 1.9 where its bands are adaptive
