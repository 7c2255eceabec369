"""The compiled kernels against their numpy references: identical results, so identical bytes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from common import needs_c, numpy_only
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec.codec import adaptive, kernels, lossyrate, lpc, residual, waveletframe
from sancodec.errors import SanFormatError


def test_the_compiled_kernels_are_built_unless_numpy_is_forced():
    # A fresh clone installs with a C compiler (make test): the fast path must be what the suite runs.
    assert kernels.COMPILED or os.environ.get("SANCODEC_KERNELS") == "numpy"


@needs_c
def test_another_build_of_the_kernels_is_loaded_where_named(tmp_path):
    """SANCODEC_KERNELS_LIB (make asan loads an AddressSanitizer build this way)."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "kernels_copy.so"
    shutil.copy(kernels._LIB._name, copy)
    code = "from sancodec.codec import kernels; print(kernels._LIB._name, kernels.COMPILED)"
    env = {**os.environ, "SANCODEC_KERNELS_LIB": str(copy)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(copy), "True"]


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = [
        rng.integers(-20, 20, 500),
        rng.integers(-(1 << 40), 1 << 40, 300),
        np.array([0, 1, -1, 7, -8, 8, -9, 15, 16, (1 << 53), -(1 << 53), (1 << 62) - 1, -(1 << 62)]),
        rng.laplace(0, 300, 2000).astype(np.int64),
    ]
    return np.concatenate(parts).astype(np.int64)


@needs_c
@pytest.mark.parametrize("seed", range(4))
def test_tokens_and_raw_bits_match_numpy_and_invert(seed):
    e = _values(seed)
    tok, val = kernels.tokenize(e)
    ref_tok, ref_val = kernels._np_tokenize(e)
    assert np.array_equal(tok, ref_tok) and np.array_equal(val, ref_val)
    packed = kernels.pack_bits(val, tok)
    assert packed == kernels._np_pack_bits(ref_val, ref_tok)
    assert np.array_equal(kernels.unpack(tok, packed), e)
    assert np.array_equal(kernels._np_unpack(tok, packed), e)


@needs_c
def test_unpack_refuses_what_numpy_refuses():
    tok, val = kernels.tokenize(np.array([100000, -5000, 3], dtype=np.int64))
    packed = kernels.pack_bits(val, tok)
    with pytest.raises(SanFormatError, match="raw bits"):
        kernels.unpack(tok, packed[:-1])
    with pytest.raises(SanFormatError, match="token out of range"):
        kernels.unpack(np.array([3, 76], dtype=np.int32), packed)
    with pytest.raises(SanFormatError, match="token out of range"):
        kernels.unpack(np.array([-1], dtype=np.int32), packed)
    assert kernels.unpack(np.zeros(0, np.int32), b"").size == 0
    # bits that run out before a bad token further on: the bad token is what is reported, as numpy does
    bad = np.concatenate([tok, [76]]).astype(np.int32)
    with pytest.raises(SanFormatError, match="token out of range"):
        kernels.unpack(bad, packed[:1])


@needs_c
@pytest.mark.parametrize("width", [1, 7, 8, 31, 32, 33, 34, 56, 57, 58, 62, 63])
def test_unpack_reads_every_width_at_every_bit_offset_and_the_tail(width):
    """The 8-byte window reader: values of each raw width after 0..8 one-bit values (every offset), and
    the last values inside the data's final 8 bytes."""
    rng = np.random.default_rng(width)
    magnitude = np.int64(1) << np.int64(width - 1)
    for lead in range(9):
        e = np.concatenate([rng.integers(-1, 2, lead), magnitude + rng.integers(0, magnitude, 40) // 2,
                            -(magnitude + rng.integers(0, magnitude, 3) // 2)]).astype(np.int64)
        tok, val = kernels.tokenize(e)
        packed = kernels.pack_bits(val, tok)
        assert packed == kernels._np_pack_bits(val, tok)  # the packer's 32-bit writes at every offset
        assert np.array_equal(kernels.unpack(tok, packed), e)
        assert np.array_equal(kernels._np_unpack(tok, packed), e)


@needs_c
def test_the_class_table_is_numpys_rule_for_every_block():
    rng = np.random.default_rng(1)
    for n in (1, 15, 16, 17, 33, 1000):
        tok = rng.integers(0, 76, n).astype(np.int32)
        assert np.array_equal(kernels.classes(tok), kernels._np_classes(tok))
    # Every possible (block size, sum) pair, through the compiled path.
    for size in range(1, 17):
        for total in range(0, 75 * size + 1, 7):
            tok = np.full(size, total // size, dtype=np.int32)
            tok[: total % size] += 1
            assert kernels.classes(tok)[0] == kernels._np_classes(tok)[0]


@needs_c
@pytest.mark.parametrize("seed", [0, 1])
def test_the_polynomial_residuals_histograms_are_numpy_s(seed):
    """``poly_histograms`` (the lossless coder's order choice, one pass): numpy's counts of the bit lengths of the
    residuals of orders 0-3, zeros and values past 2^53 (frexp's exponent, capped) among them."""
    from sancodec.codec.residual import poly_residual

    rng = np.random.default_rng(seed)
    u = np.concatenate([np.cumsum(rng.integers(-300, 300, 5000)), rng.integers(-(1 << 60), 1 << 60, 300),
                        np.zeros(50, np.int64), [(1 << 62) - 1, -(1 << 62), 1, 0, -1]]).astype(np.int64)
    with np.errstate(over="ignore"):
        want = [np.bincount(np.frexp(np.abs(poly_residual(u, k)).astype(np.float64))[1], minlength=66)[:66]
                for k in range(4)]
    assert np.array_equal(kernels.poly_histograms(u), np.stack(want))


@needs_c
def test_bit_length_histogram_matches_frexp():
    e = _values(5)
    ref = np.bincount(np.frexp(np.abs(e).astype(np.float64))[1], minlength=66)
    assert np.array_equal(kernels.bit_length_histogram(e), ref)


@needs_c
@pytest.mark.parametrize("order", [1, 4, 8, 32])
def test_lpc_residual_and_synthesis_match_numpy(order, monkeypatch):
    rng = np.random.default_rng(order)
    u = np.cumsum(rng.integers(-50, 50, 3 * lpc.SEGMENT + 123)).astype(np.int64)
    f = lpc.LpcFilter(tuple(int(c) for c in rng.integers(-3000, 3000, order)), 12, int(u.mean()))
    compiled = lpc.residual(u, f)
    numpy_only(monkeypatch)
    assert np.array_equal(compiled, lpc.residual(u, f))
    (numpy_back,) = lpc.synthesize([(compiled, f)])
    monkeypatch.undo()
    (c_back,) = lpc.synthesize([(compiled, f)])
    assert np.array_equal(numpy_back, u) and np.array_equal(c_back, u)


@needs_c
@pytest.mark.parametrize("scale", [0.999, 1.001])
def test_the_lpc_residual_is_numpy_s_either_side_of_the_float_sums_bound(scale, monkeypatch):
    # max|u - bias| * sum|coefs| just under 2^53: the prediction sums run in float64, exactly; just over: in int64
    rng = np.random.default_rng(3)
    coefs = [int(c) for c in rng.integers(-3000, 3000, 16)]
    coefs[0] |= 1  # odd: the sums below take both parities
    top = int(scale * 2**53 / sum(abs(c) for c in coefs))
    u = rng.integers(-top, top, 2 * lpc.SEGMENT + 77).astype(np.int64)
    for j, t in enumerate(range(1000, 1400, 40)):  # windows whose sum reaches top * sum|coefs|, odd or even: past
        u[t - 16 : t] = [top * (1 if c > 0 else -1) for c in coefs[::-1]]  # 2^53 a float sum would round them
        u[t - 1] -= j % 2 * (1 if coefs[0] > 0 else -1)
    f = lpc.LpcFilter(tuple(coefs), 0, 0)  # no shift: a sum rounded by one shows in the residual
    compiled = lpc.residual(u, f)
    numpy_only(monkeypatch)
    assert np.array_equal(compiled, lpc.residual(u, f))


@needs_c
@pytest.mark.parametrize("whole", [False, True])
def test_lpc_synthesis_past_the_float_exact_range_matches_numpy(whole, monkeypatch):
    """The compiled synthesis sums lags 2.. in float64 while every value times the coefficients' sum stays below
    2^53, and hands the rest of the frame to its int64 loop once a value passes that: here a ramp to 2^37 under
    coefficients near 2^17, whose float products would round (checked below), decodes to the same samples."""
    rng = np.random.default_rng(7)
    a = (1 << 17) - 1
    f = lpc.LpcFilter((0, a, -(a - 1)), 0, 0, whole=whole)
    u = np.cumsum(rng.integers(1 << 20, 1 << 21, 100_000)).astype(np.int64)
    e = lpc.residual(u, f)
    assert np.abs(e).max() <= lpc.MAX_ABS_VALUE and np.abs(u).max() <= lpc.MAX_ABS_VALUE
    exact = a * u[1:-1] - (a - 1) * u[:-2]  # the lag-2 and lag-3 terms
    rounded = (a * u[1:-1].astype(np.float64) + -(a - 1) * u[:-2].astype(np.float64)).astype(np.int64)
    assert np.any(exact != rounded)  # float64 alone would miss some predictions
    (c_back,) = lpc.synthesize([(e, f)])
    numpy_only(monkeypatch)
    (numpy_back,) = lpc.synthesize([(e, f)])
    assert np.array_equal(c_back, u) and np.array_equal(numpy_back, u)


@needs_c
def test_compiled_synthesis_refuses_a_hostile_filter():
    f = lpc.LpcFilter((1 << 20,) * 32, 0, 0)
    with pytest.raises(SanFormatError, match="hostile filter"):
        lpc.synthesize([(np.full(5000, 1000, dtype=np.int64), f)])


@needs_c
@pytest.mark.parametrize(("order", "seed"), [(1, 0), (8, 1), (16, 2), (32, 3), (5, 4)])
def test_the_lms_stage_matches_python_and_inverts(order, seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(-50, 50, 3000).cumsum(), rng.integers(-(1 << 35), 1 << 35, 200),  # clipped
                        rng.laplace(0, 30, 1000).astype(np.int64), np.zeros(3, np.int64)])
    out = adaptive.lms_forward(x, order)
    assert np.array_equal(out, np.asarray(adaptive._np_lms(x.tolist(), order, True, 0)))
    assert np.array_equal(adaptive.lms_inverse(out, order, 1 << 40), x)
    assert adaptive._np_lms(out.tolist(), order, False, 1 << 40) == x.tolist()
    assert np.abs(out[:3000]).mean() < np.abs(x[:3000]).mean()  # it predicts a random walk well
    assert len(adaptive.lms_forward(x[:0], order)) == 0


@pytest.mark.parametrize("compiled", [True, False])
def test_the_lms_inverse_refuses_values_beyond_its_limit(compiled, monkeypatch):
    if compiled and not kernels.COMPILED:
        pytest.skip("nothing compiled")
    if not compiled:
        numpy_only(monkeypatch)
    big = np.full(100, 1 << 20, dtype=np.int64)
    with pytest.raises(SanFormatError, match="LMS"):
        adaptive.lms_inverse(big, 16, 1 << 19)  # an output beyond the limit
    steep = np.full(20000, 1 << 18, dtype=np.int64)  # the running sum crosses the limit
    with pytest.raises(SanFormatError, match="LMS"):
        adaptive.lms_inverse(steep, 16, 1 << 24)


@needs_c
def test_the_wavelet_quantiser_and_synthesis_give_numpy_s_bits(monkeypatch):
    # the lossy decoder's floats: the C lifting must round exactly as numpy's, at every length and level
    from sancodec.codec import wavelet

    rng = np.random.default_rng(11)
    for n in (4, 5, 6, 7, 9, 16, 33, 1001, 4097):
        for levels in sorted({1, 2, wavelet.levels_for(n, 12)}):
            levels = wavelet.levels_for(n, levels)
            x = rng.laplace(0, 1e3, n) * rng.choice([1e-3, 1.0, 1e9])
            pred = rng.normal(0, 50, n)
            got = []
            for compiled in (True, False):
                if not compiled:
                    numpy_only(monkeypatch)
                flat = wavelet.forward_flat(x, levels)
                q = waveletframe.quantise_flat(flat, 0.37)
                bands = wavelet.split_bands(q, levels)
                got.append([flat, q, wavelet.inverse(wavelet.split_bands(flat, levels)),
                            waveletframe.reconstruct(bands, 0.37, 8, -17),
                            waveletframe.reconstruct(bands, 0.37, 11, 5, pred)])
                monkeypatch.undo()
            for a, b in zip(*got):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    for n, levels in ((3, 1), (7, 3), (1 << 20, 13)):  # what would read outside the arrays is refused
        with pytest.raises(ValueError, match="wavelet levels"):
            kernels.cdf97_forward(np.zeros(n), levels)
        with pytest.raises(ValueError, match="wavelet levels"):
            kernels.wavelet_synthesis(np.zeros(n, np.int64), levels, 1.0, 0.0, 0, None)


@needs_c
@settings(max_examples=60, deadline=None)
@given(st.integers(4, 5000), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_the_compiled_wavelet_forward_matches_numpy_on_any_input(n, levels, seed):
    # the C lifting runs a level in blocks of 256 values, each step a few values behind the one before: any
    # length, across the blocks' seams and the level's ends, must give numpy's level-by-level bits
    from sancodec.codec import wavelet

    levels = wavelet.levels_for(n, levels)
    x = np.random.default_rng(seed).laplace(0, 1e3, n)
    bands, s = [], x
    for _ in range(levels):
        s, d = wavelet._forward_level(s)
        bands.insert(0, d)
    compiled = kernels.cdf97_forward(x, levels)
    assert compiled.tobytes() == np.concatenate([s, *bands]).tobytes()
    rebuilt = s
    for d in bands:
        rebuilt = wavelet._inverse_level(rebuilt, d)  # the numpy lifting, level by level
    assert kernels.cdf97_inverse(compiled, levels).tobytes() == rebuilt.tobytes()


@needs_c
@settings(max_examples=80, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1),
       st.sampled_from(["small", "walk", "wide", "lattice", "extremes"]))
def test_the_difference_and_rank_histograms_are_numpy_s_counts(n, seed, kind):
    # the exact coding's order-0 estimates (timedomain) counted without the differences' arrays: numpy's counts of
    # np.diff (wrapping in int64 as numpy's does) and of the values' ranks' differences
    from sancodec.codec import timedomain

    rng = np.random.default_rng(seed)
    x = {"small": lambda: rng.integers(-5, 6, n), "walk": lambda: np.cumsum(rng.integers(-300, 300, n)),
         "wide": lambda: rng.integers(-2**62, 2**62, n), "lattice": lambda: rng.integers(0, 40, n) * 37 + 10**12,
         "extremes": lambda: rng.choice(np.array([-2**63, 2**63 - 1, 0, 2**53, -2**53 - 1]), n)}[kind]()
    x = np.asarray(x, dtype=np.int64)
    assert np.array_equal(kernels.difference_histogram(x), kernels.bit_length_histogram(np.diff(x)))
    assert timedomain._difference_bits(x) == residual.estimate_bits(np.diff(x))
    ranks = kernels.rank_difference_histogram(x, timedomain.RANK_RANGE)
    if n and int(x.max()) - int(x.min()) < timedomain.RANK_RANGE:
        reference = np.diff(np.unique(x, return_inverse=True)[1].reshape(-1))
        assert np.array_equal(ranks, kernels.bit_length_histogram(reference))
    else:  # no values, or a spread too wide for the table: numpy's route
        assert ranks is None
    if n:
        assert timedomain._rank_bits(x) == residual.estimate_bits(timedomain._rank_differences(x))
    floats = x.astype(np.float64)  # not integers: numpy's routes
    assert kernels.difference_histogram(floats) is None and kernels.rank_difference_histogram(floats, 1 << 16) is None


def _prepared_by_numpy(f: np.ndarray, p: np.ndarray | None, levels: int) -> tuple[int, np.ndarray]:
    """``lossyrate.Prepared``'s numpy route: the residual, the offset its mean rounds to, the bands of the rest."""
    from sancodec.codec import wavelet

    r = f if p is None else f - p
    offset = int(np.rint(r.mean()))
    centred = np.subtract(f, offset, dtype=np.float64) if p is None else r - offset
    return offset, wavelet.forward_flat(centred, levels)


@needs_c
@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 12), st.integers(0, 2**32 - 1),
       st.sampled_from(["none", "floats", "halves"]), st.sampled_from([1, 1e3, 1e9, 2.0**60]))
def test_the_prepared_frame_in_one_call_is_numpy_s_offset_and_bands(n, levels, seed, prediction, scale):
    # the residual, its offset and the forward in one compiled call (the offset taken off in the first level's
    # split): numpy's bits, or None where its own sum of the mean cannot be sure of numpy's rounding
    from sancodec.codec import wavelet

    levels = wavelet.levels_for(n, levels)
    rng = np.random.default_rng(seed)
    f = rng.integers(-scale, scale, n, endpoint=True).astype(np.int64) + int(rng.integers(-(1 << 40), 1 << 40))
    p = {"none": None, "floats": rng.normal(0, scale, n), "halves": rng.integers(-99, 99, n) / 2.0}[prediction]
    got = kernels.prepared_forward(f, p, levels)
    offset, bands = _prepared_by_numpy(f, p, levels)
    if got is None:  # only where the mean lies within a hair of a half-integer
        r = f if p is None else f - p
        assert abs(abs(r.mean() - offset) - 0.5) <= n * 2.0**-47 * np.abs(r).mean() * 1.01
    else:
        assert got[0] == offset and got[1].tobytes() == bands.tobytes()


@needs_c
def test_the_prepared_frame_leaves_a_mean_on_a_half_integer_to_numpy():
    f = np.array([0, 1] * 500, dtype=np.int64)  # mean 0.5: numpy's rint makes it 0 (half to even)
    assert kernels.prepared_forward(f, None, 5) is None
    assert kernels.prepared_forward(f + 2, None, 5) is None  # 2.5 too
    assert kernels.prepared_forward(f[:-1], None, 5)[0] == 0  # 499 / 999 is clear of the half
    assert kernels.prepared_forward(np.zeros(0, np.int64), None, 0) is None  # no mean at all
    with pytest.raises(ValueError, match="int64"):
        kernels.prepared_forward(f.astype(np.float64), None, 5)
    with pytest.raises(ValueError, match="prediction"):
        kernels.prepared_forward(f, np.zeros(len(f) - 1), 5)
    with pytest.raises(ValueError, match="wavelet levels"):
        kernels.prepared_forward(f[:3], None, 1)


@needs_c
def test_prepared_frames_are_the_same_by_the_compiled_and_the_numpy_route(monkeypatch):
    # Prepared takes the one-call route where it can: its offsets and bands are the numpy route's, with a template's
    # prediction and without, and a mean on a half-integer goes numpy's way
    from sancodec.codec.beats import BeatTemplate

    rng = np.random.default_rng(7)
    frames = [np.cumsum(rng.integers(-9, 10, 3000)).astype(np.int64), np.array([0, 1] * 600, dtype=np.int64)]
    template = BeatTemplate(np.array([40, 160, -80, 8], np.int64), 1, np.array([100, 900, 2000]),
                            np.array([64, 60, 70], np.int64))
    calls = []
    real = kernels.prepared_forward
    monkeypatch.setattr(kernels, "prepared_forward", lambda *a: calls.append(real(*a)) or calls[-1])
    compiled = lossyrate.Prepared(frames, [template, None])
    assert calls[0] is not None and calls[1] is None  # the second frame's mean is 0.5: numpy's rounding decides
    monkeypatch.setattr(kernels, "prepared_forward", lambda *a: None)
    plain = lossyrate.Prepared(frames, [template, None])
    assert compiled.offsets == plain.offsets
    assert all(a.tobytes() == b.tobytes() for a, b in zip(compiled.flat, plain.flat))


@needs_c
@settings(max_examples=60, deadline=None)
@given(st.integers(4, 3000), st.integers(1, 12), st.integers(0, 2**32 - 1),
       st.sampled_from([1e-3, 0.37, 1.0, 77.0, 1e6]), st.integers(0, 16), st.booleans())
def test_the_compiled_wavelet_rebuild_matches_numpy_on_any_input(n, levels, seed, delta, rho16, predicted):
    from sancodec.codec import wavelet

    levels = wavelet.levels_for(n, levels)
    rng = np.random.default_rng(seed)
    flat = rng.laplace(0, 10.0 ** rng.uniform(-2, 9), n)
    pred = rng.normal(0, 1e3, n) if predicted else None
    offset = int(rng.integers(-(1 << 40), 1 << 40))
    q = waveletframe.quantise([flat], delta)[0]
    assert np.array_equal(kernels.dead_zone_quantise(flat, delta, waveletframe.ROUNDING), q)
    lengths = wavelet.band_lengths(n, levels)  # the estimate's counts, quantised and counted in one pass
    assert np.array_equal(kernels.quantised_histograms(flat, lengths, delta, waveletframe.ROUNDING),
                          kernels.band_histograms(q, lengths))
    bands = wavelet.split_bands(q, levels)
    shift = rho16 / 16 - 0.5
    compiled = kernels.wavelet_synthesis(q, levels, delta, shift, offset, pred)
    deq = [b * delta for b in bands] if shift == 0 else [np.where(b == 0, 0.0, (b + np.sign(b) * shift) * delta)
                                                         for b in bands]
    x = deq[0]
    for d in deq[1:]:
        x = wavelet._inverse_level(x, d)  # the numpy lifting, level by level
    x = x + offset
    assert compiled.tobytes() == np.rint(x if pred is None else x + pred).tobytes()
    if shift == 0:
        again = kernels.wavelet_requantised(flat, levels, delta, waveletframe.ROUNDING, offset, pred)
        assert again.tobytes() == compiled.tobytes()
    samples = kernels.wavelet_samples(q, levels, delta, shift, offset, pred)  # the decoder's int64, in the last pass
    if np.all(np.abs(compiled) < 2**51):
        assert samples is not None and np.array_equal(samples, compiled.astype(np.int64))
    else:
        assert samples is None


@needs_c
@settings(max_examples=60, deadline=None)
@given(st.integers(4, 3000), st.integers(0, 2**32 - 1), st.sampled_from([1e-3, 0.37, 3.0, 1e3, 1e7]),
       st.sampled_from(["integers", "halves", "far"]), st.integers(0, 12))
def test_the_rebuild_s_squared_error_is_numpy_s_sum_where_exact_and_none_elsewhere(n, seed, delta, ref_kind, levels):
    # a rate control's measurement summed in the rebuild's own last level (its samples never written): only where
    # every partial sum is an exact integer (any order gives the same bits), else None and the channel rebuilt for
    # the caller's own sum
    from sancodec.codec import wavelet

    rng = np.random.default_rng(seed)
    levels = wavelet.levels_for(n, levels)
    x = np.cumsum(rng.normal(0, 30, n)).round()
    ref = {"integers": x, "halves": x + 0.5, "far": x + 2.0**27}[ref_kind]
    flat = kernels.cdf97_forward(x, levels)
    pred = rng.normal(0, 9, n) if seed % 2 else None
    decoded, error = kernels.wavelet_requantised_error(flat, levels, delta, waveletframe.ROUNDING, 3, pred, ref)
    alone = kernels.wavelet_requantised(flat, levels, delta, waveletframe.ROUNDING, 3, pred)
    if ref_kind == "integers":
        assert decoded is None and error == float(np.einsum("i,i->", alone - ref, alone - ref))
    else:  # a reference not of integers, or a total past 2^53: the channel, for the caller's sum
        assert error is None and decoded.tobytes() == alone.tobytes()
    with pytest.raises(ValueError, match="reference"):
        kernels.wavelet_requantised_error(flat, levels, delta, waveletframe.ROUNDING, 3, pred, ref[:-1])


@needs_c
@settings(max_examples=80, deadline=None)
@given(st.integers(4, 3000), st.integers(0, 2**32 - 1), st.sampled_from([1e-3, 0.37, 3.0, 1e3]), st.integers(1, 12),
       st.lists(st.floats(0, 1), max_size=3))
def test_the_rebuild_s_squared_error_in_pieces_is_the_one_call_s(n, seed, delta, levels, cuts):
    # the rate control's measurement on two threads (lossyrate.Prepared._error_in_halves): the bands requantised in
    # ranges, the levels but the last rebuilt, the last level summed over ranges of its approximation (any cut, an
    # empty range, the lone last sample) add up to the one call's total, bit for bit, with or without a prediction
    from sancodec.codec import wavelet

    rng = np.random.default_rng(seed)
    levels = wavelet.levels_for(n, levels)
    if levels < 1:
        return
    x = np.cumsum(rng.normal(0, 30, n)).round()
    flat = kernels.cdf97_forward(x - 2.0, levels)
    pred = rng.normal(0, 9, n).round() if seed % 2 else None
    whole = kernels.wavelet_requantised_error(flat, levels, delta, waveletframe.ROUNDING, 3, pred, x)[1]
    out = np.empty(n)
    edges = [0, *sorted(int(c * n) for c in cuts), n]
    assert all(kernels.requantised_range(flat, a, b, delta, waveletframe.ROUNDING, out, x)
               for a, b in zip(edges, edges[1:]))
    ns = n - n // 2
    if levels > 1:
        kernels.cdf97_inverse(out[:ns], levels - 1)
    edges = [0, *sorted(int(c * ns) for c in cuts), ns]
    total = sum(kernels.last_level_error(out, levels, a, b, 3, pred, x) for a, b in zip(edges, edges[1:]))
    assert whole is not None and total == whole
    assert not kernels.requantised_range(flat, 0, n, delta, waveletframe.ROUNDING, out, x + 0.5)  # not integers
    with pytest.raises(ValueError, match="range"):
        kernels.last_level_error(out, levels, 0, ns + 1, 3, pred, x)
    with pytest.raises(ValueError, match="range"):
        kernels.requantised_range(flat, 0, n, delta, waveletframe.ROUNDING, out, x[:-1])


@needs_c
def test_a_long_channel_s_error_is_made_in_halves_with_the_one_call_s_bits(monkeypatch):
    """``Prepared.decoded_error`` of a one-frame channel of ``lossyrate.SHARED_ERROR`` samples or more, where two
    threads are allowed: made in halves side by side, the one call's total (with a prediction too); a reference not
    of integers goes to the one call, and is remembered so (its halves not tried again)."""
    from sancodec.codec.jobs import piece_threads
    from sancodec.codec.lossyrate import SHARED_ERROR, Prepared, channel_error

    rng = np.random.default_rng(8)
    n = SHARED_ERROR + 4321
    x = np.cumsum(rng.normal(0, 5, n)).round()
    pieces = []
    monkeypatch.setattr(kernels, "last_level_error", _counting(kernels.last_level_error, pieces))
    ones = []
    monkeypatch.setattr(kernels, "wavelet_requantised_error", _counting(kernels.wavelet_requantised_error, ones))
    for prediction in (None, rng.normal(0, 3, n).round()):
        given = None if prediction is None else lossyrate.FixedPrediction(prediction)
        prepared = Prepared([x.astype(np.int64)], [given])
        for delta in (0.7, 9.0):
            alone = prepared.decoded_error(delta, x)  # one thread: the one call
            with piece_threads(2):
                assert prepared.decoded_error(delta, x) == alone == channel_error(prepared.decoded(delta), x)
    assert len(ones) == 4 and len(pieces) == 2 * 4
    halves = x + 0.5
    prepared = Prepared([x.astype(np.int64)], [None])
    requantised = []
    monkeypatch.setattr(kernels, "requantised_range", _counting(kernels.requantised_range, requantised))
    with piece_threads(2):
        for delta in (0.7, 9.0):
            assert prepared.decoded_error(delta, halves) == channel_error(prepared.decoded(delta), halves)
    assert len(pieces) == 2 * 4 and len(ones) == 4 + 2 and len(requantised) == 2  # the second step: no halves tried


@needs_c
def test_a_prepared_coding_s_error_is_its_decode_s_by_any_route(monkeypatch):
    """``Prepared.decoded_error`` gives ``channel_error`` of ``decoded`` bit for bit: summed in the rebuild (one frame
    or several), from the decode where the sum would not be exact (a total past 2^53, a float reference), under
    another reconstruction point, and without the C kernels."""
    from sancodec.codec.lossyrate import EXACT_SUM, Prepared, channel_error

    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(0, 5, 20000)).round()
    sums = []
    monkeypatch.setattr(kernels, "wavelet_requantised_error", _counting(kernels.wavelet_requantised_error, sums))
    for frames in ([x], [x[:8000], x[8000:]]):
        # exact; not integers; a total past 2^53 in every frame; each frame's sum exact but the total past 2^53
        for ref in (x, x + 0.25, x * 2.0**20, x + 750000.0):
            prepared = Prepared(frames, [None] * len(frames))
            for delta in (0.5, 9.0, 2.0**22):
                want = channel_error(prepared.decoded(delta), ref)
                assert prepared.decoded_error(delta, ref) == want
                assert prepared.with_quantiser(0.3, 7).decoded_error(delta, ref) == \
                    channel_error(prepared.with_quantiser(0.3, 7).decoded(delta), ref)
    assert len(sums) == 4 * 3 * (1 + 2)  # one call a frame, the other reconstruction point never
    # the last reference: each frame's sum exact, the total not, so the whole decode is summed again
    far, split = x + 750000.0, Prepared([x[:8000], x[8000:]], [None, None])
    decoded = split.decoded(0.5)
    frames_errors = [channel_error(decoded[a:b], far[a:b]) for a, b in ((0, 8000), (8000, 20000))]
    assert max(frames_errors) <= EXACT_SUM < channel_error(decoded, far)
    summed_again = []
    monkeypatch.setattr(lossyrate, "_error_of_decoded", _counting(lossyrate._error_of_decoded, summed_again))
    split.decoded_error(0.5, x)
    assert not summed_again
    split.decoded_error(0.5, far)
    assert len(summed_again) == 1
    numpy_only(monkeypatch)
    prepared = Prepared([x], [None])
    assert prepared.decoded_error(9.0, x) == channel_error(prepared.decoded(9.0), x)


def _counting(fn, calls: list):
    def counted(*args):
        calls.append(args)
        return fn(*args)
    return counted


@needs_c
def test_the_decoder_s_int64_samples_leave_large_and_non_finite_values_to_the_float_route():
    """``wavelet_samples`` converts in its last pass only below 2^51: past that (or nan, inf) it says None and
    the frame goes the float route, where check_magnitude refuses what exceeds 2^53."""
    q = np.zeros(64, dtype=np.int64)
    q[0] = 1
    for delta, offset, want_none in ((1.0, 2**51 - 2**10, False), (1.0, 2**51 + 2**10, True), (1e300, 0, True),
                                     (2.0**60, 0, True)):
        samples = kernels.wavelet_samples(q, 3, delta, 0.0, offset, None)
        assert (samples is None) == want_none
        if samples is not None:
            assert np.array_equal(samples, kernels.wavelet_synthesis(q, 3, delta, 0.0, offset, None).astype(np.int64))
    with pytest.raises(ValueError, match="prediction"):
        kernels.wavelet_samples(q, 3, 1.0, 0.0, 0, np.zeros(10))


@needs_c
@pytest.mark.parametrize("delta", [1e-3, 0.37, 1.0, 2.0**40])
def test_the_branchless_rounding_of_the_rebuild_agrees_with_floor_and_rint_at_their_edges(delta):
    # wavelet.c's dead zone and final rounding use 2**52 tricks that vectorise: halves (ties to even), -0.0,
    # values about 2**52 and 2**53, and quantised values past 2**63 (int64 decides them) as numpy does
    from sancodec.codec import wavelet

    edges = [0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.49999999999999994, 2.0**52 - 0.5, 2.0**52, 2.0**52 + 1, 2.0**53 + 2,
             -(2.0**52) + 0.5, 1e15 + 0.5, 2.0**62]
    for huge in ([], [2.0**63, 2.0**64, -(2.0**70)]):  # without and with the int64 conversion's fallback
        flat = np.array((edges + huge) * 2, dtype=np.float64) * delta
        with np.errstate(invalid="ignore"):  # numpy's cast of what int64 cannot hold
            q = waveletframe.quantise([flat], delta)[0]
        assert np.array_equal(kernels.dead_zone_quantise(flat, delta, waveletframe.ROUNDING), q)
        halves = [len(flat) // 2, len(flat) - len(flat) // 2]  # bit lengths past 2**53 too: frexp's, capped
        assert np.array_equal(kernels.quantised_histograms(flat, halves, delta, waveletframe.ROUNDING),
                              kernels.band_histograms(q, halves))
        levels = wavelet.levels_for(len(flat), 2)
        for offset in (0, -7):  # with no offset, a small negative coefficient's 0 must not rebuild as -0.0
            zeros = np.array([-0.1, -0.0, 0.1, -0.2] * 4) * delta
            for lv in (0, 2):
                got = kernels.wavelet_requantised(zeros, lv, delta, waveletframe.ROUNDING, offset, None)
                want = kernels.wavelet_synthesis(np.zeros(16, np.int64), lv, delta, 0.0, offset, None)
                assert got.tobytes() == want.tobytes()
        compiled = kernels.wavelet_requantised(flat, levels, delta, waveletframe.ROUNDING, 3, None)
        assert compiled.tobytes() == kernels.wavelet_synthesis(q, levels, delta, 0.0, 3, None).tobytes()
        x = [b * delta for b in wavelet.split_bands(q, levels)]
        rebuilt = x[0]
        for d in x[1:]:
            rebuilt = wavelet._inverse_level(rebuilt, d)
        assert compiled.tobytes() == np.rint(rebuilt + 3).tobytes()


@needs_c
def test_the_lifting_scratch_is_each_thread_s_own(monkeypatch):
    # kernels.scratch keeps one buffer per thread: transforms on several threads at once give what they give
    # one at a time, and a scratch longer than what is kept is made afresh
    from concurrent.futures import ThreadPoolExecutor

    from sancodec.codec import wavelet

    rng = np.random.default_rng(2)
    signals = [rng.normal(0, 100, int(n)) for n in rng.integers(5000, 60000, 24)]

    def both_ways(x):
        levels = wavelet.levels_for(len(x), 7)
        flat = kernels.cdf97_forward(x, levels)
        return flat, kernels.wavelet_requantised(flat, levels, 0.5, waveletframe.ROUNDING, 0, None)

    alone = [both_ways(x) for x in signals]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(both_ways, signals))
    monkeypatch.setattr(kernels, "SCRATCH_KEPT", 10)
    kernels._scratch.__dict__.clear()
    unkept = [both_ways(x) for x in signals[:3]]
    for (a, b), (c, d) in zip(alone + alone[:3], together + unkept):
        assert a.tobytes() == c.tobytes() and b.tobytes() == d.tobytes()


@needs_c
def test_the_rate_control_s_decoded_channel_and_estimate_match_numpy(monkeypatch, mitdb_100):
    # lossyrate.Prepared's compiled shortcut (quantised and rebuilt in one call, without the quantised values)
    # against the reference path, with and without a beat template's prediction; the bit estimate too
    from sancodec.codec.beats import find_template

    x = sancodec.read_signal(mitdb_100).samples[:30001, 0]
    frames = [x[:20000], x[20000:]]
    template = find_template(frames[0], 360.0)
    assert template is not None
    results = []
    for compiled in (True, False):
        if not compiled:
            numpy_only(monkeypatch)
        for templates in ([None, None], [template, None]):
            prepared = lossyrate.Prepared(frames, templates)
            for step in (0.37, 3.0, 41.0):
                results.append((prepared.decoded(step).tobytes(), prepared.estimate(step)))
        monkeypatch.undo()
    half = len(results) // 2
    assert results[:half] == results[half:]


@needs_c
@pytest.mark.parametrize("beats", [3, 40, 400])
def test_the_beat_template_prediction_matches_numpy(beats, monkeypatch):
    # few beats take numpy's scatter path, many its loop over taps; beats cut by either end of the frame
    from sancodec.codec.beats import BeatTemplate

    rng = np.random.default_rng(beats)
    length, m = 20000, 180
    positions = np.sort(rng.choice(length, beats, replace=False)).astype(np.int64)
    positions[0], positions[-1] = 3, length - 5
    template = BeatTemplate(rng.integers(-(1 << 20), 1 << 20, m), 60, positions, rng.integers(-200, 300, beats))
    compiled = template.prediction(length)
    numpy_only(monkeypatch)
    assert compiled.tobytes() == template.prediction(length).tobytes()


@needs_c
@pytest.mark.parametrize(("beats", "shift", "seed"), [(0, 0, 0), (1, 3, 1), (5, 0, 2), (300, 0, 3), (300, 4, 4),
                                                     (2000, 1, 5)])
def test_a_template_s_side_information_in_one_call_is_the_numpy_route_s(beats, shift, seed, monkeypatch):
    # steady gaps (their differences code smaller: the second block kept) and random short ones (the first kept:
    # checked), taps of either sign shifted arithmetically, gains either side of 64; then read back as the decoder
    # reads it
    from sancodec.codec.beats import BeatTemplate, read_template
    from sancodec.codec.entropy import ByteReader

    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 400))
    gaps = rng.integers(1, 8, beats) if seed % 2 else np.full(beats, 200) + rng.integers(0, 2, beats)
    positions = np.cumsum(gaps).astype(np.int64)
    t8 = rng.integers(-(1 << 20), 1 << 20, m) << shift
    template = BeatTemplate(t8, int(rng.integers(0, m)), positions, rng.integers(-300, 400, beats), shift)
    side, second, smooth = template._written
    assert second == (seed % 2 == 0 and beats > 5)
    assert not smooth  # random taps: their second differences code larger (format 1.12 keeps the first)
    assert (side, second) == kernels.template_side(template.t8, template.anchor, positions, template.g64, shift)
    numpy_only(monkeypatch)
    fresh = BeatTemplate(template.t8, template.anchor, positions, template.g64, shift)
    assert fresh._written == (side, second, smooth)
    back = read_template(ByteReader(side), int(positions[-1]) + 1 if beats else 1, second, bool(shift))
    assert np.array_equal(back.t8, template.t8) and np.array_equal(back.positions, positions)
    assert np.array_equal(back.g64, template.g64) and back.anchor == template.anchor


@needs_c
@pytest.mark.parametrize(("beats", "shift", "steady"), [(40, 0, True), (40, 2, False), (600, 1, True)])
def test_a_smooth_template_s_second_differences_in_one_call_are_the_numpy_route_s(beats, shift, steady, monkeypatch):
    # format 1.12: a smooth template's taps go as their second differences (the compiled call handed their first
    # differences), its gaps as they are or as their differences, whichever is smaller, apart from the first
    # differences' choice; the numpy route writes the same bytes, and the decoder reads them back
    from sancodec.codec.beats import BeatTemplate, read_template
    from sancodec.codec.entropy import ByteReader

    rng = np.random.default_rng(beats + shift)
    t8 = np.rint(4000 * np.sin(np.linspace(0, 3, 300)) ** 3).astype(np.int64) >> shift << shift
    gaps = np.full(beats, 300) + rng.integers(0, 3, beats) if steady else rng.integers(300, 900, beats)
    positions = np.cumsum(gaps).astype(np.int64)
    template = BeatTemplate(t8, 100, positions, rng.integers(40, 90, beats), shift)
    side, second, smooth = template._written
    assert smooth and second == steady
    numpy_only(monkeypatch)
    assert BeatTemplate(t8, 100, positions, template.g64, shift)._written == (side, second, smooth)
    back = read_template(ByteReader(side), int(positions[-1]) + 1, second, bool(shift), smooth)
    assert np.array_equal(back.t8, t8) and np.array_equal(back.positions, positions)
    assert np.array_equal(back.g64, template.g64)


@needs_c
def test_a_template_with_a_negative_field_leaves_its_side_information_to_the_numpy_route():
    # the compiled route declines (None), and the numpy route refuses it as ByteWriter refuses a negative varint
    from sancodec.codec.beats import BeatTemplate
    from sancodec.codec.entropy import ByteWriter

    assert kernels.template_side(np.array([1, 2]), -1, np.array([5]), np.array([64]), 0) is None
    with pytest.raises(ValueError, match="non-negative"):
        BeatTemplate(np.array([1, 2]), -1, np.array([5]), np.array([64])).write(ByteWriter())


@needs_c
def test_a_long_beat_template_s_prediction_matches_numpy(monkeypatch):
    # a template longer than the taps the C kernel converts at a time (a 4 kHz beat), its beats overlapping and cut
    # by either end of the frame
    from sancodec.codec.beats import BeatTemplate

    rng = np.random.default_rng(7)
    length, m = 6000, 1300
    positions = np.array([5, 700, 1500, 2200, 4100, 5990], dtype=np.int64)
    template = BeatTemplate(rng.integers(-(1 << 20), 1 << 20, m), 400, positions, rng.integers(-200, 300, 6))
    compiled = template.prediction(length)
    numpy_only(monkeypatch)
    assert compiled.tobytes() == template.prediction(length).tobytes()


@needs_c
def test_the_beat_template_prediction_is_exact_at_the_reader_s_bound(monkeypatch):
    # taps near 2^40 and gains at the bound beats._exact allows (max|g| * sum|t8| <= 2^53), beats a sample apart:
    # the compiled sum in doubles must give the int64 sum's bits
    from sancodec.codec.beats import BeatTemplate, _exact

    t8 = np.array([1 << 40, -(1 << 40), (1 << 39) + 12345, -7, 1], dtype=np.int64)
    gain = (1 << 53) // int(np.abs(t8).sum())
    rng = np.random.default_rng(5)
    g64 = rng.choice([gain, -gain, gain - 1, 3], 300).astype(np.int64)
    assert _exact(t8, g64)
    template = BeatTemplate(t8, 2, np.arange(1, 301, dtype=np.int64), g64)
    compiled = template.prediction(304)
    numpy_only(monkeypatch)
    assert compiled.tobytes() == template.prediction(304).tobytes()


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.5]), min_size=1, max_size=120),
       st.integers(1, 25), st.booleans())
def test_greedy_peaks_keep_the_positions_the_numpy_peaks_keep(values, d, noisy):
    # plateaus, ties within reach of each other, zeros and negatives, a peak on either edge
    from sancodec.san.sparse import peaks

    s = np.asarray(values, dtype=np.float64)
    if noisy:
        s = s + np.random.default_rng(len(values)).normal(scale=1e-3, size=len(s))
    reference = np.flatnonzero(peaks(s[None, None], d)[0, 0])
    assert np.array_equal(kernels.greedy_peaks(s, d), reference)
    single = s.astype(np.float32)  # a float32 row (the beat detector's envelope) is read as float32: the same
    wide = np.flatnonzero(peaks(single.astype(np.float64)[None, None], d)[0, 0])  # peaks as its float64 values'
    assert np.array_equal(kernels.greedy_peaks(single, d), wide)


@needs_c
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_peaks_order_many_candidates_as_numpy_does(seed):
    """Thousands of candidates, their values from 1e-300 to inf with many ties (the peak picker's radix sort on
    the values' bits, every byte of them in play, keeps the earlier of equal peaks first, as numpy's order)."""
    from sancodec.san.sparse import peaks

    rng = np.random.default_rng(seed)
    pool = np.concatenate([[1e-300, 5e-324, 1.0, 1.0 + 2**-52, 3.0, 1e300, np.inf], rng.lognormal(0, 30, 40)])
    s = np.where(rng.random(6000) < 0.7, rng.choice(pool, 6000), 0.0)  # zeros between: many separate peaks
    for d in (1, 3, 40):
        reference = np.flatnonzero(peaks(s[None, None], d)[0, 0])
        assert np.array_equal(kernels.greedy_peaks(s, d), reference)
        with np.errstate(over="ignore"):  # 1e300 to inf, 1e-300 to 0, 1 + 2^-52 to 1: ties the float32 route keeps
            single = s.astype(np.float32)
        wide = np.flatnonzero(peaks(single.astype(np.float64)[None, None], d)[0, 0])
        assert np.array_equal(kernels.greedy_peaks(single, d), wide)


@needs_c
def test_the_bands_histograms_in_one_call_are_numpy_s_per_band(monkeypatch):
    rng = np.random.default_rng(8)
    lengths = [0, 5, 1, 300, 0, 2000, 17]
    e = np.concatenate([rng.integers(-(1 << 40), 1 << 40, n) >> rng.integers(0, 40) for n in lengths])
    e[3] = -(1 << 62)  # beyond 2**53: frexp's exponent, as numpy's
    compiled = kernels.band_histograms(e, lengths)
    numpy_only(monkeypatch)
    assert np.array_equal(compiled, kernels.band_histograms(e, lengths)) and compiled.shape == (7, 66)
    assert compiled.sum(axis=1).tolist() == lengths
    with pytest.raises(ValueError):
        kernels.band_histograms(e, [len(e) + 1])


@needs_c
@pytest.mark.parametrize("rounding", [0.5, waveletframe.ROUNDING, 0.3])
def test_the_quantised_bands_counts_are_those_of_the_quantised_values(rounding):
    """``quantised_histograms`` (the lossy estimate's quantise-then-count, no quantised copy): the counts
    ``band_histograms`` gives the values ``dead_zone_quantise`` makes, band by band, over chunk edges (512
    values), empty bands, zeros of both signs, and cells from 2^53 on amid small ones (the slow route)."""
    rng = np.random.default_rng(11)
    lengths = [0, 3, 511, 512, 513, 0, 1500, 1]
    flat = np.concatenate([rng.laplace(0, 10.0 ** rng.uniform(-1, 6), n) for n in lengths])
    flat[[5, 600, 1700]] = [0.0, -0.0, -0.2]
    flat[[10, 1200]] = [2.0**60, -(2.0**75)]  # cells past 2**53 (the second past int64: its cast decides)
    for delta in (1e-3, 0.37, 25.0):
        with np.errstate(invalid="ignore"):
            q = kernels.dead_zone_quantise(flat, delta, rounding)
        counts = kernels.quantised_histograms(flat, lengths, delta, rounding)
        assert counts.shape == (len(lengths), 66) and counts.sum(axis=1).tolist() == lengths
        assert np.array_equal(counts, kernels.band_histograms(q, lengths))
    with pytest.raises(ValueError):
        kernels.quantised_histograms(flat, [len(flat) + 1], 1.0, rounding)


def test_the_beat_detector_s_moving_average_is_numpy_s_centred_convolution():
    from sancodec.codec.beats import _moving_average

    rng = np.random.default_rng(5)
    for width in (1, 2, 3, 14, 40):
        for n in (1, 2, 13, 14, 15, 41, 1000):
            d = rng.integers(0, 50, n).astype(np.float64)
            centred = np.convolve(d, np.ones(width) / width, mode="full")[(width - 1) // 2 :][:n]
            assert np.allclose(_moving_average(d, width), centred, rtol=1e-12, atol=1e-12), (width, n)


@needs_c
@pytest.mark.parametrize("width", [1, 2, 3, 14, 40])
def test_the_compiled_beat_envelope_has_numpy_s_bits(width):
    from sancodec.codec.beats import _moving_average

    rng = np.random.default_rng(width)
    for n in (1, 2, 13, 14, 15, 41, 1000, 70000):
        v = np.cumsum(rng.normal(scale=50, size=n))
        v = np.rint(v) if n % 2 else v
        reference = _moving_average(np.abs(np.diff(v, prepend=v[0])), width)
        assert kernels.difference_envelope(v, width).tobytes() == reference.tobytes(), (width, n)
    # integers summed as integers, where every partial sum is exact: samples past 2^51, and a sum past 2^53, take
    # the float route (the same bits either way)
    for v in (np.rint(rng.normal(scale=2.0**49, size=5000)), np.array([0.0, 2.0**51, 0.0, 3.0] * 50),
              np.tile([0.0, 2.0**50 - 1], 40), rng.integers(-9, 9, 3000).astype(np.float64) + 0.5,
              np.tile([3.0, 1e300, -1e300], 20)):  # far past int64: never converted to it
        reference = _moving_average(np.abs(np.diff(v, prepend=v[0])), width)
        assert kernels.difference_envelope(v, width).tobytes() == reference.tobytes(), width


@needs_c
@pytest.mark.parametrize("shift", [1, 12, 40])
def test_the_compiled_beat_shifts_are_numpy_s(shift, monkeypatch):
    # san_best_shift weighs up to 64 shifts together (tap by tap), more one by one: numpy's choice either way,
    # beats near both ends of the frame included (their windows outside it left out)
    from sancodec.codec.beats import _best_shift

    rng = np.random.default_rng(shift)
    v = np.cumsum(rng.normal(size=6000)) + 50 * np.sin(np.arange(6000) / 7.0)
    positions = np.sort(np.concatenate([rng.integers(0, 6000, 300), [0, 5, 5995, 5999]]))
    qrs = rng.normal(size=33)
    qrs -= qrs.mean()
    offsets = np.arange(len(qrs)) - 16
    compiled = _best_shift(v, positions, offsets, qrs, shift, len(v))
    numpy_only(monkeypatch)
    np.testing.assert_array_equal(_best_shift(v, positions, offsets, qrs, shift, len(v)), compiled)


@needs_c
@pytest.mark.parametrize("n, lo, hi", [(1, 0, 0), (50, 0, 49), (300, 10, 150), (5000, 36, 240), (5000, 240, 240),
                                       (30000, 36, 240)])  # the last: more nonzero values than numpy takes at once
def test_the_compiled_lagged_products_have_numpy_s_bits(n, lo, hi, monkeypatch):
    # a sparse envelope's lagged products (beat_period): the same additions in the same order either way, and the
    # sums np.dot gives to rounding, with the last lags' shorter overlaps
    rng = np.random.default_rng(n + lo)
    e = np.where(rng.random(n) < 0.15, rng.gamma(2.0, 30.0, n), 0.0)
    compiled = kernels.lagged_products(e, lo, hi)
    reference = np.array([np.dot(e[: n - lag], e[lag:]) for lag in range(lo, hi + 1)])
    assert np.allclose(compiled, reference, rtol=1e-12, atol=1e-9)
    numpy_only(monkeypatch)
    assert kernels.lagged_products(e, lo, hi).tobytes() == compiled.tobytes()
    with pytest.raises(ValueError):
        kernels.lagged_products(e, lo, n)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.sampled_from(["normal", "few", "sorted", "reversed", "periodic"]),
       st.integers(0, 2**32 - 1))
def test_the_medians_are_numpy_s_on_either_axis(rows, cols, kind, seed):
    # one partition at the upper middle and the largest value before it: ties, sorted runs and periodic values,
    # odd and even counts (the mean of the two middle values), short and long lines along either axis
    rng = np.random.default_rng(seed)
    a = {"normal": lambda: rng.normal(size=(rows, cols)) * 1e3,
         "few": lambda: rng.integers(-2, 3, (rows, cols)).astype(np.float64),
         "sorted": lambda: np.sort(rng.normal(size=(rows, cols)), axis=1),
         "reversed": lambda: np.sort(rng.normal(size=(rows, cols)), axis=0)[::-1].copy(),
         "periodic": lambda: np.tile(np.arange(cols, dtype=np.float64) % 7, (rows, 1)) * 0.5}[kind]()
    for axis in (0, 1):
        assert kernels.medians(a, axis).tobytes() == np.median(a, axis=axis).tobytes(), axis
    tall = np.repeat(a, -(-1100 // rows), axis=0)[: 1100 + seed % 2]  # long lines, odd and even
    tall[:: 7] += rng.normal(size=tall[:: 7].shape)
    for b, axis in ((tall, 0), (np.ascontiguousarray(tall.T), 1)):
        kept = b.copy()
        assert kernels.medians(b, axis).tobytes() == np.median(b, axis=axis).tobytes(), axis
        assert b.tobytes() == kept.tobytes()  # the input left as it was


@pytest.mark.parametrize("shape", [(1, 9), (2, 9), (7, 2), (301, 270), (2271, 270)])
def test_the_template_s_medians_split_over_two_threads_are_the_same(shape, monkeypatch):
    """``beats._medians`` with a thread to spare: each half of the rows or columns on its own thread (every array
    here, however small), the medians numpy's, in order, and the same as on one thread; by default only an array
    of ``SHARED_MEDIANS`` values or more is split."""
    from sancodec.codec import beats, jobs

    a = np.random.default_rng(shape[0]).normal(size=shape) * 100
    split: list[int] = []
    run_pieces = beats.run_pieces
    monkeypatch.setattr(beats, "run_pieces", lambda jobs_, sizes: split.append(len(jobs_)) or run_pieces(jobs_, sizes))
    with jobs.piece_threads(2):
        beats._medians(a, 0)
    assert bool(split) == (a.size >= beats.SHARED_MEDIANS and shape[1] > 1)
    monkeypatch.setattr(beats, "SHARED_MEDIANS", 0)
    for axis in (0, 1):
        alone = beats._medians(a, axis)
        with jobs.piece_threads(2):
            shared = beats._medians(a, axis)
        assert shared.tobytes() == alone.tobytes() == np.median(a, axis=axis).tobytes(), axis


@pytest.mark.parametrize("beats_count", [2, 9, 301, 2271])
def test_a_template_s_beat_windows_and_trimmed_means_split_over_two_threads_are_the_same(beats_count, monkeypatch):
    """``beats._beat_windows`` (each half of the beats copied and centred on its own thread) and
    ``beats.trimmed_means`` (each half of the taps) with a thread to spare: the same values as on one thread, the
    windows' edges clipped as ``_rows`` clips them; by default only arrays of ``SHARED_MEDIANS`` values or more."""
    from sancodec.codec import beats, jobs

    rng = np.random.default_rng(beats_count)
    v = np.rint(rng.normal(size=beats_count * 300) * 200)
    starts = np.sort(rng.integers(-20, len(v) - 250, size=beats_count))  # some windows past the start: clipped
    split: list[int] = []
    run_pieces = beats.run_pieces
    monkeypatch.setattr(beats, "run_pieces", lambda jobs_, sizes: split.append(len(jobs_)) or run_pieces(jobs_, sizes))
    with jobs.piece_threads(2):
        beats._beat_windows(v, starts, 270)
    assert bool(split) == (beats_count * 270 >= beats.SHARED_MEDIANS)
    monkeypatch.setattr(beats, "SHARED_MEDIANS", 0)
    alone = beats._beat_windows(v, starts, 270)
    means = beats.trimmed_means(alone, beats.TEMPLATE_TRIM)
    split.clear()
    with jobs.piece_threads(2):
        shared = beats._beat_windows(v, starts, 270)
        shared_means = beats.trimmed_means(shared, beats.TEMPLATE_TRIM)
    assert split == [2, 2]  # both made in halves (the windows by beats, the means by taps)
    assert shared.tobytes() == alone.tobytes()
    assert shared_means.tobytes() == means.tobytes()
    assert len(means) == 270


def test_the_medians_of_long_rows_are_numpy_s_and_leave_them_as_they_were():
    rng = np.random.default_rng(9)
    for n in (200_000, 200_001):
        a = np.stack([rng.normal(size=n), np.round(rng.laplace(size=n) * 3) + 0.0])  # + 0.0: no -0.0
        kept = a.copy()
        assert kernels.medians(a, 1).tobytes() == np.median(a, axis=1).tobytes()
        assert a.tobytes() == kept.tobytes()
        a[1] = np.round(rng.laplace(size=n) * 3)  # -0.0 beside 0.0: equal values, a zero's sign is either's
        assert np.array_equal(kernels.medians(a, 1), np.median(a, axis=1))


def _counted(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``san_counted_medians`` of each row of ``rows``: the medians it counted and which rows it counted."""
    return kernels._counted_medians(np.ascontiguousarray(rows, dtype=np.float64))


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 700), st.integers(0, 2**32 - 1))
def test_counted_medians_are_numpy_s_where_the_values_are_halves_spread_narrowly(rows, n, seed):
    # multiples of 1/2 (a beat template's windows less their medians), odd and even counts, ties, a spread up to the
    # histogram's last bin: counted, numpy's median bit for bit
    rng = np.random.default_rng(seed)
    span = int(rng.integers(0, kernels.COUNTED_SPAN * n + 1))  # in halves: up to the cap's last bin
    a = (rng.integers(0, span + 1, (rows, n)) + 2 * int(rng.integers(-10**6, 10**6))) / 2 + 0.0
    a[:, 0] = a.min(axis=1) if span else a[:, 0]
    out, done = _counted(a)
    assert done.all()
    assert out.tobytes() == np.median(a, axis=1).tobytes()


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.integers(2, 700), st.integers(0, 2**32 - 1), st.sampled_from(["spread", "qrs", "two"]))
def test_medians_of_halves_spread_widely_are_selected_numpy_s(rows, n, seed, shape):
    # a spread past one histogram's (a window's own values, across its QRS): not counted (numpy's selection is the
    # quicker there), and the medians numpy's bit for bit; "two": two clusters, an even count's middle ranks apart
    rng = np.random.default_rng(seed)
    cap = kernels.COUNTED_SPAN * n + 1
    span = int(rng.integers(cap, 64 * cap))  # in halves: past one histogram
    shift = 2 * int(rng.integers(-10**6, 10**6))
    if shape == "spread":
        h = rng.integers(0, span + 1, (rows, n))
    elif shape == "qrs":  # most values near a baseline, some far from it
        h = np.clip(np.rint(rng.normal(span / 3, 4, (rows, n))), 0, span).astype(np.int64)
        h[:, : n // 4] = rng.integers(0, span + 1, (rows, n // 4))
    else:
        h = np.where(rng.random((rows, n)) < 0.5, rng.integers(0, 3, (rows, n)), span - rng.integers(0, 3, (rows, n)))
        h[:, : n // 2] = rng.integers(0, 3, (rows, n // 2))
        h[:, n // 2 :] = span - rng.integers(0, 3, (rows, n - n // 2))
    h[:, 0], h[:, -1] = 0, span  # the spread itself
    a = (h + shift) / 2 + 0.0
    assert not _counted(a)[1].any()
    assert kernels.medians(a, 1).tobytes() == np.median(a, axis=1).tobytes()


@needs_c
def test_counted_medians_leave_other_rows_to_the_selection(monkeypatch):
    n = 50
    assert _counted((np.arange(n) * 2.0)[None])[1].all()  # 196 halves: counted
    last = np.r_[np.zeros(n - 1), 1.0]
    assert _counted((np.arange(n) * 2.0 + 2.0 * last)[None])[1].all()  # 200 halves, 4 n + 1 bins: counted
    assert not _counted((np.arange(n) * 2.0 + 2.5 * last)[None])[1].any()  # 201 halves: past them, selected
    for odd in (0.25, np.nan, np.inf, -np.inf, 2.0**51):
        row = np.arange(n, dtype=np.float64) / 2
        row[17] = odd
        assert not _counted(row[None])[1].any(), odd
    # rows that count and rows that do not, mixed: each median numpy's, wherever it came from
    rng = np.random.default_rng(3)
    a = np.round(rng.normal(size=(30, n)) * 4) / 2 + 0.0
    a[::3] *= 10**6  # wide
    a[1::7, 5] += 0.1  # not halves
    out, done = _counted(a)
    assert done.any() and not done.all()
    assert out[done].tobytes() == np.median(a[done], axis=1).tobytes()
    for least in (kernels.COUNTED_MIN, 0):  # these short rows selected, as by default; then counted where they count
        monkeypatch.setattr(kernels, "COUNTED_MIN", least)
        for axis in (0, 1):
            assert kernels.medians(a, axis).tobytes() == np.median(a, axis=axis).tobytes()
    # none of the first rows counts: no row is tried, every median selected (numpy's)
    b = np.concatenate([a[:1] * 1.1 + 0.1] * 8 + [a[1:2]])
    assert not _counted(b)[1].any()
    assert kernels.medians(b, 1).tobytes() == np.median(b, axis=1).tobytes()


def test_the_template_s_medians_are_the_same_with_and_without_the_compiled_kernels(monkeypatch, mitdb_100):
    # a beat template's column medians counted (windows less their own medians) and its rows' selected
    from sancodec.codec import beats

    x = np.asarray(sancodec.read_signal(mitdb_100).samples[:120000, 0], dtype=np.float64)
    found = beats.find_beats(x, 360.0)
    windows = beats._rows(x, found[2:-2] - 90, 300)  # rows and columns long enough to be counted (COUNTED_MIN)
    assert min(windows.shape) >= kernels.COUNTED_MIN
    baselines = kernels.medians(windows, 1)
    centred = windows - baselines[:, None]
    if kernels.COMPILED:  # the C kernels count every row and column: the comparisons below are theirs with numpy's
        assert _counted(windows)[1].all() and _counted(centred.T)[1].all()
    columns = kernels.medians(centred, 0)
    numpy_only(monkeypatch)
    assert baselines.tobytes() == kernels.medians(windows, 1).tobytes() == np.median(windows, axis=1).tobytes()
    assert columns.tobytes() == kernels.medians(centred, 0).tobytes() == np.median(centred, axis=0).tobytes()


@needs_c
def test_beats_moved_with_and_without_the_compiled_kernels_are_the_same(monkeypatch, mitdb_100):
    # beats at either end of the frame, whose windows some shifts push outside it (and one that no shift fits)
    from dataclasses import replace

    from sancodec.codec.beats import find_beats, find_template, moved_beats

    x = sancodec.read_signal(mitdb_100).samples[:60000, 0]
    template = find_template(x, 360.0, (0.25, 0.45), find_beats(x, 360.0))
    assert template is not None
    rng = np.random.default_rng(4)
    edges = np.array([0, 1, 5, 30, 59990, 59999])
    positions = np.unique(np.concatenate([template.positions + rng.integers(-6, 7, len(template.positions)), edges]))
    positions = positions[(positions >= 0) & (positions < len(x))]
    guide = replace(template, positions=positions)
    compiled = moved_beats(x, 360.0, guide)
    numpy_only(monkeypatch)
    reference = moved_beats(x, 360.0, guide)
    assert len(reference) > 60 and np.array_equal(compiled, reference)


@needs_c
def test_beats_found_with_and_without_the_compiled_kernels_are_the_same(monkeypatch, mitdb_100):
    from sancodec.codec.beats import find_beats

    x = sancodec.read_signal(mitdb_100).samples[:60000, 0]
    compiled = find_beats(x, 360.0)
    numpy_only(monkeypatch)
    assert len(compiled) > 60 and np.array_equal(find_beats(x, 360.0), compiled)


@needs_c
@pytest.mark.parametrize("options", [{"mode": "lossless"}, {"mode": "near-lossless", "max_error": 2},
                                     {"mode": "lossy", "prdn": 3}])
def test_files_are_byte_identical_with_and_without_the_compiled_kernels(options, monkeypatch, mitdb_100):
    sig = sancodec.read_signal(mitdb_100).slice(0, 40000)
    compiled = sancodec.encode(sig, frame_len=8192, **options)
    numpy_only(monkeypatch)
    assert sancodec.encode(sig, frame_len=8192, **options) == compiled
    numpy_decoded = sancodec.decode(compiled).samples
    monkeypatch.undo()
    assert np.array_equal(sancodec.decode(compiled).samples, numpy_decoded)


@needs_c
@pytest.mark.parametrize("contextual", [True, False])
def test_whole_block_coding_matches_the_python_coder(contextual, monkeypatch):
    from sancodec.codec.entropy import decode_arrays, encode_arrays

    rng = np.random.default_rng(int(contextual))
    cases = [np.zeros(0, np.int64), np.array([5]), np.arange(15), np.full(40, 7)] + [
        (rng.laplace(0, scale, n)).astype(np.int64) for n, scale in ((17, 3), (1000, 50), (40000, 8), (5000, 1e6))]
    for e in cases:
        block = kernels.encode_block(e, contextual)
        assert np.array_equal(kernels.decode_block(block, len(e), contextual), e)
        numpy_only(monkeypatch)
        assert encode_arrays([e], [contextual]) == block  # the Python range coder + numpy: the same bytes
        (back,) = decode_arrays(block, [len(e)], [contextual])
        monkeypatch.undo()
        assert np.array_equal(back, e)


@needs_c
def test_several_arrays_coded_in_one_compiled_call_match_the_python_coder(monkeypatch):
    """The joint blob of a wavelet frame's bands (waveletframe.code_bands): tables in order, one stream."""
    from sancodec.codec.entropy import decode_arrays, encode_arrays

    rng = np.random.default_rng(11)
    for trial in range(60):
        k = int(rng.integers(2, 10))
        scales = rng.choice([0.05, 2.0, 300.0, 1e12], k)
        arrays = [rng.laplace(0, float(s), int(rng.integers(0, 3000))).astype(np.int64) for s in scales]
        if trial % 7 == 0:
            arrays[1] = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0])
        flags = [bool(f) for f in rng.integers(0, 2, k)]
        blob = kernels.encode_arrays(arrays, flags)
        assert blob is not None and encode_arrays(arrays, flags) == blob
        numpy_only(monkeypatch)
        assert encode_arrays(arrays, flags) == blob  # the Python coder: the same bytes
        back = decode_arrays(blob, [len(a) for a in arrays], flags)
        monkeypatch.undo()
        assert all(np.array_equal(a, b) for a, b in zip(arrays, back))


def _damaged(blob: bytes, trial: int, rng: np.random.Generator) -> bytes:
    """``blob`` cut short, with a bit flipped or with a byte too many (by ``trial``)."""
    damaged = bytearray(blob)
    how = trial % 3
    if how == 0:
        damaged = damaged[: rng.integers(0, len(damaged))]
    elif how == 1:
        damaged[rng.integers(0, len(damaged))] ^= 1 << int(rng.integers(0, 8))
    else:
        damaged += bytes([int(rng.integers(0, 256))])
    return bytes(damaged)


@needs_c
def test_the_compiled_decoder_of_several_arrays_refuses_what_the_python_reader_refuses(monkeypatch):
    from sancodec.codec.entropy import decode_arrays

    rng = np.random.default_rng(8)
    arrays = [rng.laplace(0, scale, n).astype(np.int64) for n, scale in ((300, 0.3), (0, 1.0), (2000, 40), (700, 3))]
    lengths = [len(a) for a in arrays]
    for flags in ([True, False, True, False], [False, True, True, True]):
        blob = kernels.encode_arrays(arrays, flags)
        assert blob is not None
        for trial in range(200):
            damaged = _damaged(blob, trial, rng)
            try:
                got = decode_arrays(damaged, lengths, flags)
            except SanFormatError:
                got = None
            numpy_only(monkeypatch)
            try:
                want = decode_arrays(damaged, lengths, flags)
            except SanFormatError:
                want = None
            monkeypatch.undo()
            assert (got is None) == (want is None)
            assert got is None or all(np.array_equal(a, b) for a, b in zip(got, want))


@needs_c
def test_the_compiled_block_decoder_refuses_what_the_python_reader_refuses(monkeypatch):
    from sancodec.codec.entropy import decode_arrays

    rng = np.random.default_rng(7)
    e = rng.laplace(0, 30, 3000).astype(np.int64)
    for contextual in (True, False):
        block = kernels.encode_block(e, contextual)
        for trial in range(300):
            damaged = _damaged(block, trial, rng)
            try:
                got = kernels.decode_block(damaged, len(e), contextual)
            except SanFormatError:
                got = None
            numpy_only(monkeypatch)
            try:
                (want,) = decode_arrays(damaged, [len(e)], [contextual])
            except SanFormatError:
                want = None
            monkeypatch.undo()
            assert (got is None) == (want is None)
            if got is not None:
                assert np.array_equal(got, want)


@needs_c
def test_the_autocorrelation_has_the_same_bits_compiled_and_in_numpy(monkeypatch):
    """Lags in blocks of vector lanes (one block of 36 for order 32): every order around a block's edge, and
    signals shorter than the lags."""
    rng = np.random.default_rng(3)
    for n, order in ((40, 32), (4096, 32), (32768, 32), (30, 32), (3, 8), (1, 0), (5000, 35), (5000, 36),
                     (5000, 37), (777, 64), (100, 71)):
        y = rng.normal(0, 1e4, n) * np.hanning(n)
        compiled = kernels.autocorrelation(y, order)
        numpy_only(monkeypatch)
        assert np.array_equal(kernels.autocorrelation(y, order), compiled)  # bit for bit, not approximately
        monkeypatch.undo()
        reference = np.correlate(y, y, "full")[n - 1 : n + order]
        assert np.allclose(compiled[: len(reference)], reference, rtol=0, atol=1e-9 * reference[0])
        assert not compiled[len(reference) :].any()  # lags past the signal sum nothing


@needs_c
def test_levinson_has_the_same_bits_compiled_and_in_numpy(monkeypatch):
    """Every order's predictor and error power, bit for bit: from real autocorrelations (lpc._autocorrelation of
    noise, a random walk, a sine) and from arbitrary sequences whose error power stops being positive part way
    (the orders past it padded alike)."""
    rng = np.random.default_rng(8)
    cases = [(lpc._autocorrelation(y, 32), 32) for y in (rng.normal(0, 100, 4000), np.cumsum(rng.normal(0, 1, 999)),
                                                          1e4 * np.sin(0.05 * np.arange(2000)))]
    cases += [(rng.normal(0, 1, order + 1), order) for order in (1, 4, 8, 16, 32, 64) for _ in range(20)]
    stopped = 0
    for r, order in cases:
        coefs, errors = lpc.levinson(r, order)
        numpy_only(monkeypatch)
        want_coefs, want_errors = lpc.levinson(r, order)
        monkeypatch.undo()
        assert len(coefs) == len(want_coefs) == order
        assert all(np.array_equal(a, b) and len(a) == p + 1 for p, (a, b) in enumerate(zip(coefs, want_coefs)))
        assert np.array_equal(errors, want_errors)
        stopped += bool(np.any(errors[1:] == r[0]) and errors[0] != r[0])
    assert stopped  # some sequences stopped early: their padding was compared too


def _python_coded(segments):
    """The Python coder's words for ``segments`` (what a build without the C kernels writes)."""
    from sancodec.codec import rangecoder

    encoder = rangecoder._Encoder()
    for symbols, freq in segments:
        cum = rangecoder.cumulative(freq).tolist()
        for x in symbols.tolist():
            encoder.put(cum, x)
    return encoder.finish()


def _python_decoded(words, lengths, freqs):
    """The Python decoder's symbols, or None where it refuses the stream."""
    from sancodec.codec import rangecoder

    decoder = rangecoder._Decoder(np.asarray(words, dtype=np.uint32))
    out = []
    try:
        for n, freq in zip(lengths, freqs):
            cum = rangecoder.cumulative(freq).tolist()
            out += [decoder.symbol(cum, len(cum) - 1) for _ in range(n)]
    except SanFormatError:
        return None
    return np.array(out, dtype=np.int32)


@needs_c
def test_the_range_coders_write_and_read_constrictions_words():
    """Random multi-segment streams (symbols of zero frequency included): the C coder's words are the Python
    coder's (a build without the C kernels) and constriction's RangeEncoder's (the format's first coder, where it
    is installed: it has no wheel for Linux on ARM); random word streams: every decoder gives the same symbols or
    every one refuses."""
    from sancodec.codec import rangecoder
    from sancodec.codec.entropy import quantize_table

    try:
        import constriction
    except ImportError:  # (the C and Python coders are still compared below)
        constriction = None
    rng = np.random.default_rng(11)
    for _ in range(300):
        segments = []
        for _ in range(int(rng.integers(1, 4))):
            n = int(rng.choice([2, 5, 16, 76]))
            counts = rng.multinomial(int(rng.integers(1, 2000)), rng.dirichlet(np.full(n, 0.3)))
            freq = quantize_table(counts)
            symbols = rng.choice(n, int(rng.integers(0, 3000)), p=counts / counts.sum()).astype(np.int32)
            unused = np.flatnonzero(freq == 0)
            if len(unused) and len(symbols):
                symbols[: min(3, len(symbols))] = unused[0]  # the model is leaky: these still code
            segments.append((symbols, freq))
        words = rangecoder.encode_segments(segments)
        assert np.array_equal(words, _python_coded(segments))
        if constriction is not None:
            reference = constriction.stream.queue.RangeEncoder()
            for symbols, freq in segments:
                if len(symbols):
                    reference.encode(symbols, constriction.stream.model.Categorical(
                        np.asarray(freq, dtype=np.float64) / 2**14, perfect=False))
            assert np.array_equal(words, np.asarray(reference.get_compressed(), dtype=np.uint32))
        lengths, freqs = [len(s) for s, _ in segments], [f for _, f in segments]
        back = rangecoder.RangeDecoder(words).decode(lengths, freqs)
        assert np.array_equal(back, np.concatenate([s for s, _ in segments]))
        assert np.array_equal(_python_decoded(words, lengths, freqs), back)
    refused = 0
    for _ in range(600):
        freq = quantize_table(rng.multinomial(300, rng.dirichlet(np.ones(16) * 0.3)))
        words = rng.integers(0, 2**32, int(rng.integers(0, 6)), dtype=np.uint64).astype(np.uint32)
        try:
            ours = rangecoder.RangeDecoder(words).decode([100], [freq])
        except SanFormatError:
            ours = None
        python = _python_decoded(words, [100], [freq])
        assert (ours is None) == (python is None)
        refused += ours is None
        if ours is not None:
            assert np.array_equal(ours, python)
        if constriction is not None:
            try:
                theirs = constriction.stream.queue.RangeDecoder(words).decode(
                    constriction.stream.model.Categorical(np.asarray(freq, dtype=np.float64) / 2**14,
                                                          perfect=False), 100)
            except (AssertionError, ValueError, RuntimeError, OverflowError):
                theirs = None
            assert (ours is None) == (theirs is None)
            if ours is not None:
                assert np.array_equal(ours, theirs)
    assert refused  # some streams no encoder wrote were refused, by every decoder


@needs_c
def test_the_python_coder_codes_binary_decisions_as_the_c_coder():
    """encode_bits and decode_bit without the C kernels: the words and bits of the C coder's."""
    from sancodec.codec import rangecoder

    rng = np.random.default_rng(12)
    for _ in range(40):
        n = int(rng.integers(1, 3000))
        zeros = rng.integers(1, 2**14, n)
        bits = (rng.random(n) * 2**14 >= zeros).astype(np.int32)
        words = rangecoder.encode_bits(bits, zeros)
        encoder = rangecoder._Encoder()
        for bit, zero in zip(bits.tolist(), zeros.tolist()):
            encoder.put(rangecoder._bit_cumulative(zero), bit)
        assert np.array_equal(encoder.finish(), words)
        decoder = rangecoder._Decoder(words)
        assert [decoder.symbol(rangecoder._bit_cumulative(z), 2) for z in zeros.tolist()] == bits.tolist()


@needs_c
def test_a_kernel_takes_only_contiguous_arrays_of_its_dtype():
    """The compiled kernels' array arguments (``kernels._Array``, passed as a data pointer) refuse what the C code
    cannot read as it expects: another dtype (its bytes swapped too), a strided view (read-only too), a list; an array
    of the right kind is read in place."""
    import ctypes

    lib = kernels._LIB
    out = np.zeros(8)
    strided_read_only = np.zeros(16)[::2]
    strided_read_only.flags.writeable = False
    for bad in (np.zeros(8, np.float32), np.zeros(16)[::2], [0.0] * 8, np.zeros(8, np.int64),
                np.zeros(8).astype(">f8"), strided_read_only):
        with pytest.raises(ctypes.ArgumentError):
            lib.san_cdf97_inverse(bad, 8, 0, out)
    bands = np.arange(8, dtype=np.float64)
    lib.san_cdf97_inverse(bands, 8, 0, out)  # no levels: the bands are the signal, left in place
    assert np.array_equal(bands, np.arange(8))
    q = np.zeros(4, np.int64)
    lib.san_dead_zone_quantise(np.array([0.5, -2.6, 7.0, 0.0]), 4, 1.0, 0.5, q)
    assert q.tolist() == [1, -3, 7, 0]
    # a read-only array (a kept prediction), a view that starts inside another, an empty one: their own data
    read_only = np.array([9.5, -1.5, 0.2, 3.0, 8.0])
    read_only.flags.writeable = False
    lib.san_dead_zone_quantise(read_only[1:], 4, 1.0, 0.5, q)
    assert q.tolist() == [-2, 0, 3, 8]
    lib.san_dead_zone_quantise(np.arange(10.0)[6:], 4, 2.0, 0.0, q)
    assert q.tolist() == [3, 3, 4, 4]
    lib.san_dead_zone_quantise(np.zeros(0), 0, 1.0, 0.5, np.zeros(0, np.int64))


def _trimmed_reference(rows: np.ndarray, k: int) -> np.ndarray:
    """Each row's mean without its ``k`` lowest and ``k`` highest values: the sorted middle's exact sum of halves
    (Python integers) over twice their count, where the row is halves; else numpy's float mean of the middle."""
    out = []
    for row in rows:
        middle = np.sort(row)[k : len(row) - k]
        if np.all(2 * row == np.rint(2 * row)):
            out.append(float(int(sum(int(v) for v in 2 * middle))) / (2.0 * len(middle)))
        else:
            out.append(middle.mean())
    return np.array(out)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(3, 600), st.floats(0.05, 0.45), st.integers(0, 2**32 - 1),
       st.sampled_from(["narrow", "wide", "float", "mixed"]))
def test_trimmed_means_are_the_sorted_middle_s_and_the_same_counted_or_selected(rows, n, trim, seed, kind):
    # a beat template's columns (halves; narrow: counted in C, wide: past its histogram, selected by numpy), a float
    # channel's, or rows of each: the same bits from either route, the sorted middle's mean (exact for halves)
    rng = np.random.default_rng(seed)
    k = max(1, min(int(trim * n), (n - 1) // 2))
    halves = rng.integers(0, kernels.COUNTED_SPAN * n + 1, (rows, n)) + 2 * int(rng.integers(-10**6, 10**6))
    a = halves / 2 + 0.0
    if kind == "wide":
        a[:, 0] += 10.0**7
    elif kind == "float":
        a = rng.normal(size=(rows, n)) * 50
    elif kind == "mixed":
        a[::2, 1] += 0.1
        a[1::3, 2] += 10.0**7
    reference = _trimmed_reference(a, k)
    got = kernels.trimmed_means(a, k)
    assert got.tobytes() == kernels._selected_trimmed_means(a, k).tobytes()
    exact = np.all(2 * a == np.rint(2 * a), axis=1)
    assert got[exact].tobytes() == reference[exact].tobytes()
    np.testing.assert_allclose(got[~exact], reference[~exact], rtol=1e-12, atol=1e-9)


def _as_columns(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """``a``'s rows as the columns ``before`` onwards of a row-major block ``after`` columns wider than that: the same
    values, laid out as a template's beat windows are before ``beats.trimmed_means`` takes their transpose."""
    block = np.full((a.shape[1], before + a.shape[0] + after), np.nan)
    block[:, before : before + a.shape[0]] = a.T
    columns = block[:, before : before + a.shape[0]].T
    assert kernels._column_block(columns)
    return columns


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(3, 400), st.floats(0.05, 0.45), st.integers(0, 2**32 - 1),
       st.sampled_from(["narrow", "wide", "outliers", "float", "mixed"]), st.integers(0, 9), st.integers(0, 9))
def test_trimmed_means_read_a_block_s_columns_in_place_with_the_same_bits(rows, n, trim, seed, kind, before, after):
    # the columns of a row-major block (a template's windows transposed; rows not a multiple of the tile, the block
    # wider on either side), read where they lie: the same bits as those rows copied, counted, bucketed or selected
    rng = np.random.default_rng(seed)
    k = max(1, min(int(trim * n), (n - 1) // 2))
    a = (rng.integers(0, kernels.COUNTED_SPAN * n + 1, (rows, n)) + 2 * int(rng.integers(-10**6, 10**6))) / 2 + 0.0
    if kind == "wide":  # past one histogram: counted in buckets, the two that hold the trim's ends selected
        a = rng.integers(-10**7, 10**7, (rows, n)) / 2 + 0.0
    elif kind == "outliers":  # a narrow middle and far ends: ranks k to n - k - 1 in one bucket, or in two
        a[:, 0] += 10.0**7
        a[:, -1] -= 10.0**7 * rng.integers(0, 2)
    elif kind == "float":
        a = rng.normal(size=(rows, n)) * 50
    elif kind == "mixed":
        a[::2, 1] += 0.1
        a[1::3, 2] += 10.0**7
    columns = _as_columns(a, before, after)
    got = kernels.trimmed_means(columns, k)
    assert got.tobytes() == kernels.trimmed_means(np.ascontiguousarray(a), k).tobytes()
    assert got.tobytes() == kernels._selected_trimmed_means(a, k).tobytes()
    exact = np.all(2 * a == np.rint(2 * a), axis=1)
    assert got[exact].tobytes() == _trimmed_reference(a[exact], k).tobytes()


@pytest.mark.parametrize("n", [3, 4, 5, 17, 21, 33, 51, 64, 65, kernels.NETWORK_MAX - 1, kernels.NETWORK_MAX,
                               kernels.NETWORK_MAX + 1])
def test_trimmed_means_by_network_sum_the_same_ranks_in_every_lane(n):
    # a block's columns of up to NETWORK_MAX values are sorted by a network, TRIM_TILE side by side: every lane of a
    # tile, a last tile cut short, ties, narrow and wide spans, and lanes the exact sum must leave to numpy (not halves,
    # nan, inf, too large) beside exact ones, the same bits as the rows counted or selected one at a time
    rng = np.random.default_rng(n)
    rows = 3 * kernels.TRIM_TILE + 3
    a = rng.integers(-4 * n, 4 * n, (rows, n)) / 2 + 0.0
    a[1] = rng.integers(-10**7, 10**7, n) / 2  # wide: counted in buckets by the row route
    a[2] = 7.5  # every value tied
    a[3, n // 2] = 0.25  # not a half: numpy's float mean
    a[4, 0] = np.nan
    a[5, -1] = np.inf
    a[6, 1] = 2.0**51  # too large for the exact route
    a[9, :] = a[9, ::-1] * -1  # descending
    a[10] = np.sort(a[10])  # sorted already
    k = max(1, n // 4) if n > 2 else 1
    columns = _as_columns(a, 3, 5)
    with np.errstate(invalid="ignore"):
        got = kernels.trimmed_means(columns, k)
        expected = kernels._selected_trimmed_means(a, k)
    assert got.tobytes() == expected.tobytes()
    exact = np.all(2 * a == np.rint(2 * a), axis=1) & np.all(np.abs(a) < 2.0**49, axis=1)
    assert got[exact].tobytes() == _trimmed_reference(a[exact], k).tobytes()


def test_a_template_s_trimmed_means_take_its_windows_in_place():
    # beats.trimmed_means hands the C kernels its windows' columns as they lie (no transposed copy): the same
    # template as its rows copied
    from sancodec.codec import beats

    rng = np.random.default_rng(5)
    windows = rng.integers(-3000, 3000, (301, 77)) / 2.0
    k = int(beats.TEMPLATE_TRIM * len(windows))
    expected = kernels.trimmed_means(np.ascontiguousarray(windows.T), k)
    assert beats.trimmed_means(windows, beats.TEMPLATE_TRIM).tobytes() == expected.tobytes()
    assert kernels._column_block(windows.T) and kernels._column_block(windows.T[:30])
    assert not kernels._column_block(windows[:, ::2].T) and not kernels._column_block(windows)


@needs_c
def test_compiled_trimmed_means_leave_rows_they_cannot_sum_exactly_to_numpy():
    def compiled(row: np.ndarray, k: int) -> tuple[bool, float]:
        row = np.ascontiguousarray(row, dtype=np.float64)
        n = row.shape[1]
        cap = kernels.COUNTED_SPAN * n + 1
        out, flags = np.empty(1), np.empty(1, dtype=np.uint8)
        kernels._LIB.san_trimmed_means(row, 1, n, k, cap, np.empty(cap + 1, dtype=np.int32),
                                       np.empty(n, dtype=np.int64), out, flags)
        return bool(flags[0]), float(out[0])

    plain = np.arange(40, dtype=np.float64)[None] / 2
    assert compiled(plain, 10) == (True, _trimmed_reference(plain, 10)[0])
    wide = plain.copy()
    wide[0, 17] = 10.0**6  # past one histogram: selected, the same sum
    assert compiled(wide, 10) == (True, _trimmed_reference(wide, 10)[0])
    for odd in (0.25, np.nan, np.inf, 2.0**51):  # not halves, not finite, too large
        row = plain.copy()
        row[0, 17] = odd
        assert not compiled(row, 10)[0], odd
    # halves whose kept values' doubles could sum past 2^62 (3000 kept near 2^51): left to numpy, which sums them
    # as floats, as it does where C is not built
    big = np.full((1, 5000), 2.0**50 - 1)
    big[0, ::2] -= 0.5
    assert not compiled(big, 1000)[0] and compiled(big[:, :4000], 1000)[0]  # 2000 kept: within 2^62
    assert kernels.trimmed_means(big, 1000).tobytes() == kernels._selected_trimmed_means(big, 1000).tobytes()


@settings(max_examples=100, deadline=None)
@given(st.integers(3, 300), st.integers(0, 2**32 - 1), st.sampled_from(["sorted", "reversed", "equal", "two"]))
def test_selected_trimmed_means_take_any_order_of_values(n, seed, order):
    # the compiled selection (a span past one histogram) on orders a quickselect may stumble on: the same bits
    rng = np.random.default_rng(seed)
    halves = rng.integers(0, 10**7, n)
    if order == "sorted":
        halves = np.sort(halves)
    elif order == "reversed":
        halves = np.sort(halves)[::-1]
    elif order == "equal":
        halves = np.full(n, 7) + (np.arange(n) == n // 2) * 10**7
    else:
        halves = np.where(np.arange(n) % 2 == 0, 0, 10**7)
    row = (halves / 2.0)[None]
    k = int(rng.integers(1, (n - 1) // 2 + 1))
    assert kernels.trimmed_means(row, k).tobytes() == _trimmed_reference(row, k).tobytes()


def test_trimmed_means_refuse_a_trim_that_keeps_nothing():
    with pytest.raises(ValueError):
        kernels.trimmed_means(np.zeros((2, 4)), 2)
    with pytest.raises(ValueError):
        kernels.trimmed_means(np.zeros((2, 4)), 0)
