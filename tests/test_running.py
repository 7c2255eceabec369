"""Running contexts (format 1.5): the C coder against its Python reference, the encoder's choice of
parameters, what it buys, and hostile blocks."""

from __future__ import annotations

import numpy as np
import pytest
from common import expected_minor, needs_c, numpy_only

import sancodec
from sancodec.codec import kernels, running
from sancodec.codec.entropy import ByteWriter, encode_arrays
from sancodec.codec.residual import Residual, read_residual, with_running_contexts
from sancodec.errors import SanFormatError


def _bursty(n: int, seed: int, run: int = 50) -> np.ndarray:
    """A residual whose scale changes in bursts of ``run`` samples (as EMG's), with a few huge values."""
    rng = np.random.default_rng(seed)
    scale = np.repeat(rng.choice([2.0, 30.0, 400.0], size=n // run + 1), run)[:n]
    e = np.rint(rng.laplace(0, 1, n) * scale).astype(np.int64)
    e[rng.integers(0, n, 3)] = [1 << 40, -(1 << 50), (1 << 62) - 1]
    return e


def _c_decode(block: bytes, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    status = kernels._LIB.san_block_decode(block, len(block), n, 2, out)
    if status:
        raise SanFormatError(f"entropy-coded block: {kernels._BLOCK_ERRORS.get(status, 'invalid')}")
    return out


@needs_c
@pytest.mark.parametrize("params", running.PARAMS + (0, 3, 11, 27) + tuple(p | running.MSB for p in (0, 5, 10, 20, 27)))
def test_the_compiled_coder_writes_the_python_reference_bytes_and_both_decode_them(params, monkeypatch):
    e = _bursty(3000, params)
    block = running.encode(e, params)
    assert running.is_running(block) and np.array_equal(_c_decode(block, len(e)), e)
    with monkeypatch.context() as m:
        numpy_only(m)
        assert running.encode(e, params) == block
        assert np.array_equal(running.decode(block, len(e)), e)


@needs_c
def test_the_compiled_counts_match_the_reference_contexts():
    tok, _ = kernels.tokenize(_bursty(5000, 1))
    counts = running._counts(tok, running.PARAMS)
    for j, params in enumerate(running.PARAMS):
        ctx = running.contexts(tok, params)
        ref = np.bincount(ctx * kernels.NUM_TOKENS + tok, minlength=running.CONTEXTS * kernels.NUM_TOKENS)
        assert np.array_equal(counts[j].ravel(), ref)


def _sparse(n: int, seed: int) -> np.ndarray:
    """A fine wavelet band at a loose target: runs of zeros of every length (from 1 to thousands, one at each
    end) between bursts of values, small and large."""
    rng = np.random.default_rng(seed)
    e = np.zeros(n, dtype=np.int64)
    i = int(rng.integers(20, 60))  # the block starts with a run of zeros
    while i < n - 300:  # ... and ends with one
        burst = int(rng.integers(1, 12))
        e[i : i + burst] = np.rint(rng.laplace(0, rng.choice([1.0, 20.0, 3000.0]), burst))
        i += burst + int(rng.choice([1, 2, 7, 15, 16, 17, 31, 40, 100, 700, 2500]))
    return e


ALL_PARAMS = tuple(k - 1 | m << 2 | split << 4 for k in range(1, 5) for m in range(3) for split in (0, 1))


@needs_c
@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_counts_and_blocks_match_the_reference_on_long_runs_of_zeros(seed, monkeypatch):
    # the compiled passes take a run of zeros at once (running.c's zero_run): the same counts and contexts as
    # token by token, under every param set, four at once and one at a time, from any start in a block of 8
    tok, _ = kernels.tokenize(_sparse(12000 + seed, seed)[seed:])
    assert np.count_nonzero(tok) < len(tok) // 4
    counts = running._counts(tok, ALL_PARAMS)
    single = np.stack([running._counts(tok, (p,))[0] for p in ALL_PARAMS[:3]])
    assert np.array_equal(single, counts[:3])
    for j, params in enumerate(ALL_PARAMS):
        ctx = running.contexts(tok, params)
        ref = np.bincount(ctx * kernels.NUM_TOKENS + tok, minlength=running.CONTEXTS * kernels.NUM_TOKENS)
        assert np.array_equal(counts[j].ravel(), ref), params
    e = _sparse(9000, seed + 10)
    blocks = {p: running.encode(e, p) for p in (0, 3, 8, 27, 20 | running.MSB)}
    chosen = kernels.running_choose_encode(e, running.QUICK_BAND_PARAMS, only_paying=False)
    numpy_only(monkeypatch)
    assert {p: running.encode(e, p) for p in blocks} == blocks
    assert chosen == (*running.weigh(e, running.QUICK_BAND_PARAMS), running.encode_chosen(e, running.QUICK_BAND_PARAMS))


def test_contexts_follow_the_running_mean_in_steps_per_octave():
    """A constant token t settles at context floor(2^m log2(1 + t)) (its mantissa steps are linear)."""
    for t, m, expected in [(0, 1, 0), (1, 0, 1), (3, 1, 4), (15, 2, 16), (75, 2, 24)]:
        tok = np.full(200, t, dtype=np.int32)
        assert running.contexts(tok, (2 - 1) | m << 2)[-1] == expected
    # the split: is the last token above the mean (which it pulls up by half, k = 1)?
    tok = np.array([0, 20, 0, 20], dtype=np.int32)
    assert list(running.contexts(tok, 16 | 4) % 2) == [0, 0, 1, 0]


def test_the_chosen_parameters_code_within_a_percent_of_the_best_of_them():
    for seed in range(3):
        e = _bursty(20000, seed)
        sizes = {p: len(running.encode(e, p)) for p in running.PARAMS}
        assert sizes[running.choose(e)] <= 1.01 * min(sizes.values())


def test_running_contexts_beat_block_classes_on_a_bursty_residual_and_the_split_is_chosen():
    e = _bursty(30000, 7, run=5)
    assert running.choose(e) & 16  # short bursts: the last token says more than the mean
    res = with_running_contexts(Residual(0, e, 0.0))
    assert running.is_running(res.block)
    assert len(res.block) < 0.99 * len(encode_arrays([e], [True]))


def test_short_residuals_keep_block_classes():
    e = _bursty(running.MIN_LENGTH - 1, 3)
    assert with_running_contexts(Residual(0, e, 0.0)).block is None


def test_a_file_with_running_contexts_is_format_1_5_and_decodes_without_the_compiled_kernels(monkeypatch):
    sig = sancodec.read_signal(kernels.__file__.rsplit("/codec/", 1)[0] + "/data/samples/100").slice(0, 20000)
    data = sancodec.encode(sig, mode="lossless")
    decoded = sancodec.codec.decode_file(data)
    assert decoded.codings.get("running") == 2 and data[5] == expected_minor(data, 8 if decoded.codings.get("msb")
                                                                              else 5)
    numpy_only(monkeypatch)
    assert np.array_equal(sancodec.decode(data).samples, sig.samples)
    assert sancodec.encode(sig, mode="lossless") == data


def _block(params: int, mask: int, tables: list[list[int]], tail: bytes = b"\x00\x00") -> bytes:
    w = ByteWriter()
    for v in (0, params, mask):
        w.varint(v)
    for t in tables:
        w.varint(len(t))
        for f in t:
            w.varint(f)
    return w.getvalue() + tail


HOSTILE = {
    "params out of range": _block(64, 1, [[1 << 14]]),
    "mantissa bits out of range in MSB mode": _block(running.MSB | 12, 1, [[1 << 14]]),
    "mantissa bits out of range": _block(12, 1, [[1 << 14]]),
    "a context without a table": _block(5, 2, [[1 << 14]]),  # context 0 comes first and has none
    "a table that does not sum": _block(5, 1, [[100, 200]]),
    "an empty table": _block(5, 1, [[]]),
    "truncated": _block(5, 1, [[1 << 14]])[:-2],
    "trailing bytes": _block(5, 1, [[1 << 14]], b"\x00\x00\x00"),
    "a mask beyond 64 contexts": bytes([0, 5]) + b"\xff" * 9 + b"\x7f",
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_hostile_blocks_are_refused_by_both_readers(what, monkeypatch):
    block = HOSTILE[what]
    if kernels.COMPILED:
        with pytest.raises(SanFormatError):
            _c_decode(block, 10)
    numpy_only(monkeypatch)
    with pytest.raises(SanFormatError):
        running.decode(block, 10)


@needs_c
@pytest.mark.parametrize("params", [20, 20 | running.MSB])
def test_both_readers_agree_on_damaged_blocks(params, monkeypatch):
    """Random damage: the compiled and the reference reader refuse the same blocks, and decode the
    others to the same values."""
    e = _bursty(400, 11)
    block = bytearray(running.encode(e, params))
    rng = np.random.default_rng(5)
    for _ in range(150):
        bad = bytearray(block)
        for i in rng.integers(0, len(bad), rng.integers(1, 4)):
            bad[i] = int(rng.integers(0, 256))
        bad = bytes(bad[: len(bad) - int(rng.integers(0, 2))])
        try:
            ours = _c_decode(bad, len(e))
        except SanFormatError:
            ours = None
        with monkeypatch.context() as m:
            numpy_only(m)
            try:
                ref = running.decode(bad, len(e))
            except SanFormatError:
                ref = None
        assert (ours is None) == (ref is None)
        assert ours is None or np.array_equal(ours, ref)


def test_a_running_block_in_a_residual_reads_back_through_read_residual():
    e = _bursty(2000, 4)
    w = ByteWriter()
    w.varint(1)  # order 1, contextual
    data = w.getvalue() + running.encode(e, 9)
    from sancodec.codec.entropy import ByteReader

    got = read_residual(ByteReader(data), len(e), True)
    assert got.running and got.order == 1 and np.array_equal(got.e, e)


def test_msb_mode_codes_the_top_mantissa_bits_of_a_laplacian_residual_smaller_and_fast_decode_leaves_it_out():
    """Values fall off within an octave, so the first bits below a token's leading one are not uniform."""
    rng = np.random.default_rng(8)
    e = np.rint(rng.laplace(0, 60, 20000)).astype(np.int64)
    params = running.choose(e)
    plain, msb = running.encode(e, params), running.encode(e, params | running.MSB)
    assert len(msb) < 0.998 * len(plain) and running.uses_msb(msb) and not running.uses_msb(plain)
    res = Residual(0, e, 0.0)
    assert with_running_contexts(res).block == msb
    assert not running.uses_msb(with_running_contexts(res, msb=False).block)
    noise = rng.integers(-4, 5, 20000)  # tokens below 16: no mantissa bits to model, MSB mode never pays
    assert not running.uses_msb(with_running_contexts(Residual(0, noise, 0.0)).block)


@pytest.mark.parametrize("scale", [3, 60, 2000])
def test_the_compiled_either_coding_is_the_smaller_of_the_two_as_the_reference_picks_it(scale, monkeypatch):
    e = np.rint(np.random.default_rng(scale).laplace(0, scale, 5000)).astype(np.int64)
    params = running.choose(e)
    both = [running.encode(e, params), running.encode(e, params | running.MSB)]
    either = running.encode_either(e, params)
    assert either == min(both, key=len)
    numpy_only(monkeypatch)
    assert running.encode_either(e, params) == either


def _flat_then_bursty(n: int, seed: int) -> np.ndarray:
    """A residual whose running contexts do not pay against one table: one steady Laplacian scale."""
    return np.rint(np.random.default_rng(seed).laplace(0, 40, n)).astype(np.int64)


@needs_c
@pytest.mark.parametrize("params", [running.QUICK_BAND_PARAMS, running.PARAMS, (20,), (3, 0, 3)])
@pytest.mark.parametrize("residual", ["bursty", "steady", "empty", "zeros"])
def test_the_fused_choice_and_coding_is_weigh_then_encode_on_either_kernels(params, residual, monkeypatch):
    # one compiled call for the choice and the block: the same set (the first of equal estimates), the same
    # verdict against one table, the same bytes, and no block where only a paying one is asked for
    e = {"bursty": lambda: _bursty(4000, 3), "steady": lambda: _flat_then_bursty(4000, 4),
         "empty": lambda: np.zeros(0, np.int64), "zeros": lambda: np.zeros(3000, np.int64)}[residual]()
    chosen, pays = running.weigh(e, params)
    block = running.encode(e, chosen)
    fused = kernels.running_choose_encode(e, params, only_paying=False)
    assert fused == (chosen, pays, block)
    assert kernels.running_choose_encode(e, params, only_paying=True) == (chosen, pays, block if pays else None)
    assert running.encode_chosen(e, params) == block
    assert running.encode_if_paying(e, params) == (block if pays else None)
    either = running.encode_either(e, chosen)
    assert kernels.running_choose_encode(e, params, only_paying=False, either=True) == (chosen, pays, either)
    assert running.encode_chosen(e, params, either=True) == either
    numpy_only(monkeypatch)
    assert running.encode_chosen(e, params) == block
    assert running.encode_if_paying(e, params) == (block if pays else None)
    assert running.encode_chosen(e, params, either=True) == either


def test_both_verdicts_of_the_fused_weigh_are_reached():
    # the cases above hold a residual whose contexts pay and one whose do not (else the test would prove little)
    assert running.weigh(_bursty(4000, 3), running.QUICK_BAND_PARAMS)[1]
    assert not running.weigh(_flat_then_bursty(4000, 4), running.QUICK_BAND_PARAMS)[1]


@needs_c
@pytest.mark.parametrize("bad", [(), (running.MSB,), (64,), (-1,), (12,), (0, 3 | running.MSB)])
def test_the_fused_weigh_refuses_param_sets_a_block_cannot_carry(bad):
    with pytest.raises(RuntimeError):
        kernels.running_choose_encode(_bursty(2000, 1), bad, only_paying=False)
