"""Running contexts (format 1.5): a residual's tokens coded under tables chosen sample by sample from a
running mean of the tokens before it.

Block classes (``entropy``) send one class per 16 tokens as side information; the decoder follows a
running mean at no cost (docs/PREDICTORS.md has what that saves per record). With ``split`` each context is halved
again by whether the last token lies above the mean, which pays on bursty EMG residuals. The C kernels
(``_kernels/running.c``) do the work where built; the functions here are their Python reference
(the same bytes) and the encoder's choice of parameters. The block layout is in docs/FORMAT.md.
"""

from __future__ import annotations

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import (
    ByteReader,
    ByteWriter,
    decode_arrays,
    placed,
    quantize_table,
    read_streams,
    read_table,
    write_streams,
    write_table,
)
from sancodec.codec.kernels import NUM_TOKENS, pack_bits, tokenize, unpack
from sancodec.codec.rangecoder import RangeDecoder, encode_segments
from sancodec.errors import SanFormatError

__all__ = ["BAND_PARAMS", "MIN_LENGTH", "MSB", "PARAMS", "QUICK_BAND_PARAMS", "choose", "contexts", "decode",
           "decode_block", "encode", "encode_either", "is_running", "uses_msb", "weigh"]

CONTEXTS = 64
MAX_PARAMS = 63  # (k - 1) | m << 2 | split << 4 | msb << 5 with k in 1..4, m in 0..2
MSB = 32  # params bit 5 (format 1.8): the top MSB_BITS mantissa bits range-coded under adaptive probabilities
MSB_BITS = 2
EITHER = 64  # not a format bit: asks the compiled encoder for the smaller of the two
MSB_START, MSB_MIN, MSB_RATE, TOTAL = 8192, 32, 5, 1 << 14
# The param sets the encoder weighs, (k, m, split) = (2,1,0) (3,1,0) (3,2,0) (1,1,1): those that won on the records
# of docs/BENCHMARKS.md ((2,2,0) and (1,2,1) as well saved under 0.1 % there, for half as much counting again).
PARAMS = (5, 6, 10, 20)
# Wavelet bands (codec.waveletframe) adapt more slowly: (k, 0, 0) for k = 1..4 won most bands of mitdb 100, a103l
# and 03700181 at PRDN 1-5 %, these 8 sets coding within 0.1 % of the best of all 24.
BAND_PARAMS = (0, 1, 2, 3, 5, 6, 16, 20)
QUICK_BAND_PARAMS = (0, 3, 16, 20)  # lossy effort "fast": the four that won most bands, weighed in one pass
MIN_LENGTH = 1024  # shorter residuals keep block classes (64 small tables would not pay)


def is_running(block: bytes) -> bool:
    """Whether a contextual residual block uses running contexts (its first varint is 0, which a
    block-class block, starting with a non-empty class table, never has)."""
    return block[:1] == b"\x00"


def uses_msb(block: bytes) -> bool:
    """Whether a running-context block is in MSB mode (format 1.8): its params, one byte after the 0."""
    return is_running(block) and len(block) > 1 and bool(block[1] & MSB)


def _split_params(params: int) -> tuple[int, int, int]:
    return (params & 3) + 1, params >> 2 & 3, params >> 4 & 1


def _msb_update(f: int, bit: int) -> int:
    """``msb_update`` of running.c: the adaptive probability of a 0 (in 2^-14) after ``bit``."""
    f = f - (f >> MSB_RATE) if bit else f + ((TOTAL - f) >> MSB_RATE)
    return min(max(f, MSB_MIN), TOTAL - MSB_MIN)


def _msb_count(token: int) -> int:
    """How many top mantissa bits of a value of ``token`` (>= 16) MSB mode range-codes (``msb_count``)."""
    return min(MSB_BITS, token - 12)


def _msb_bits(token: int, value: int) -> list[int]:
    """The top mantissa bits of a value of ``token`` (>= 16) that MSB mode range-codes, first first."""
    w = token - 12
    return [value >> (w - 1 - b) & 1 for b in range(_msb_count(token))]


def _context(acc: int, m: int, split: int, last: int) -> int:
    """``running_context`` of running.c: 2**m steps per octave of 1 + mean token, at most 31."""
    y = acc + 16
    b = y.bit_length() - 5
    c = min(31, (b << m) | ((y >> (b + 4 - m)) & ((1 << m) - 1)))
    return 2 * c + int(last << 4 > acc) if split else c


def _next(acc: int, k: int, t: int) -> int:
    """``running_next`` of running.c: the running mean after token ``t``, the newest weighted 2**-k."""
    return acc - (acc >> k) + (t << (4 - k))


def contexts(tok: np.ndarray, params: int) -> np.ndarray:
    """The context of every token under ``params`` (a recursion over time: numpy cannot batch it)."""
    k, m, split = _split_params(params)
    out = np.empty(len(tok), dtype=np.int64)
    acc = last = 0
    for i, t in enumerate(tok.tolist()):
        out[i] = _context(acc, m, split, last)
        acc, last = _next(acc, k, t), t
    return out


def _counts(tok: np.ndarray, params: tuple[int, ...]) -> np.ndarray:
    """Token counts by context, ``[len(params), CONTEXTS, NUM_TOKENS]``."""
    tok = np.ascontiguousarray(tok, dtype=np.int32)
    if kernels._LIB is not None:
        out = np.empty((len(params), CONTEXTS, NUM_TOKENS), dtype=np.int64)
        kernels._LIB.san_running_counts(tok, len(tok), np.array(params, dtype=np.int32), len(params), out)
        return out
    return np.stack([np.bincount(contexts(tok, p) * NUM_TOKENS + tok, minlength=CONTEXTS * NUM_TOKENS)
                     .reshape(CONTEXTS, NUM_TOKENS) for p in params])


def _estimates(counts: np.ndarray) -> np.ndarray:
    """Bits of the tokens under each param set's tables (``counts``: :func:`_counts`), plus about 1.5 bytes
    per table entry; every param set in one pass of array operations (one compiled call where built)."""
    if kernels._LIB is not None:
        costs = np.empty(len(counts), dtype=np.float64)
        kernels._LIB.san_running_costs(np.ascontiguousarray(counts, dtype=np.int64), len(counts), costs)
        return costs
    totals = counts.sum(axis=2, keepdims=True)
    used = counts > 0
    info = (counts * np.log2(np.where(used, totals, 1) / np.maximum(counts, 1))).sum(axis=(1, 2))
    last = np.where(used.any(axis=2), NUM_TOKENS - np.argmax(used[:, :, ::-1], axis=2), 0)
    return info + 12.0 * last.sum(axis=1)


def choose(e: np.ndarray, params: tuple[int, ...] = PARAMS) -> int:
    """The param set of ``params`` that the estimate says codes ``e`` in the fewest bits."""
    return weigh(e, params)[0]


def weigh(e: np.ndarray, params: tuple[int, ...] = PARAMS) -> tuple[int, bool]:
    """:func:`choose`'s param set, and whether the same estimate says running contexts code ``e`` in fewer
    bits than one table (``entropy``'s plain coding, whose counts are any param set's summed over contexts)."""
    tok, _ = tokenize(e)
    counts = _counts(tok, params)
    costs = _estimates(counts)
    best = int(np.argmin(costs))
    one_table = np.zeros_like(counts[:1])
    one_table[0, 0] = counts[0].sum(axis=0)  # every token in one context: the same estimate for one table
    return params[best], bool(costs[best] < _estimates(one_table)[0])


def encode_chosen(e: np.ndarray, params: tuple[int, ...], either: bool = False) -> bytes:
    """``encode(e, choose(e, params))`` (with ``either``, :func:`encode_either`): in one compiled call where built,
    ``e`` tokenized and counted once, where the two calls would do both twice."""
    block = _chosen_block(e, params, only_paying=False, either=either)
    assert block is not None  # made whatever the estimate says
    return block


def encode_if_paying(e: np.ndarray, params: tuple[int, ...]) -> bytes | None:
    """:func:`encode_chosen`'s block where :func:`weigh` says running contexts code ``e`` in fewer bits than one
    table; else None (the caller codes it in one table)."""
    return _chosen_block(e, params, only_paying=True, either=False)


def _chosen_block(e: np.ndarray, params: tuple[int, ...], only_paying: bool, either: bool) -> bytes | None:
    fused = kernels.running_choose_encode(e, params, only_paying, either)
    if fused is not None:
        return fused[2]
    chosen, pays = weigh(e, params)
    if only_paying and not pays:
        return None
    return encode_either(e, chosen) if either else encode(e, chosen)


def encode(e: np.ndarray, params: int) -> bytes:
    """``e`` coded under running contexts with ``params`` (see running.c for the layout; ``params | MSB``:
    MSB mode)."""
    if not 0 <= params <= MAX_PARAMS or params >> 2 & 3 > 2:
        raise ValueError(f"running-context parameters {params} out of range")
    block = kernels.encode_running(e, params)
    if block is not None:
        return block
    tok, val = tokenize(np.asarray(e))
    ctx = contexts(tok, params)
    w = ByteWriter()
    w.varint(0)
    w.varint(params)
    present = np.unique(ctx)
    w.varint(sum(1 << int(c) for c in present))
    freqs = {}
    for c in present:
        freqs[int(c)] = quantize_table(np.bincount(tok[ctx == c], minlength=NUM_TOKENS))
        write_table(w, freqs[int(c)])
    if params & MSB:
        words = encode_segments(_msb_segments(tok, val, ctx, freqs))
        write_streams(w, words, kernels._np_pack_bits(val, tok, MSB_BITS))
        return w.getvalue()
    # runs of one context (none in an empty residual)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(ctx)) + 1, [len(ctx)]]) if len(ctx) else np.zeros(1, int)
    words = encode_segments([(tok[a:b], freqs[int(ctx[a])]) for a, b in zip(starts[:-1], starts[1:])])
    write_streams(w, words, pack_bits(val, tok))
    return w.getvalue()


def _msb_segments(tok: np.ndarray, val: np.ndarray, ctx: np.ndarray, freqs: dict) -> list:
    """MSB mode's symbols in coding order, one segment each: a token under its context's table, then its
    top mantissa bits under their adaptive tables (the reference of running.c's encoder loop)."""
    models: dict[tuple[int, int, int], int] = {}
    segments = []
    for t, v, c in zip(tok.tolist(), val.tolist(), ctx.tolist()):
        segments.append((np.array([t], dtype=np.int32), freqs[c]))
        slot = 0
        for bit in (_msb_bits(t, v) if t >= kernels.DIRECT else []):
            f = models.get((c, t, slot), MSB_START)
            segments.append((np.array([bit], dtype=np.int32), np.array([f, TOTAL - f], dtype=np.int64)))
            models[c, t, slot] = _msb_update(f, bit)
            slot = 1 + bit
    return segments


def encode_either(e: np.ndarray, params: int) -> bytes:
    """The smaller of ``encode(e, params)`` and ``encode(e, params | MSB)`` (ties: the first), in one
    compiled call that shares the tables."""
    if not 0 <= params <= MAX_PARAMS or params & MSB or params >> 2 & 3 > 2:
        raise ValueError(f"running-context parameters {params} out of range")
    block = kernels.encode_running(e, params | EITHER)
    if block is not None:
        return block
    return min((encode(e, params), encode(e, params | MSB)), key=len)


def decode(data: bytes, n: int) -> np.ndarray:
    """The ``n`` values of a running-context block, refusing what running.c refuses."""
    r = ByteReader(data, "entropy-coded block")
    r.varint(0)
    params = r.varint(MAX_PARAMS)
    mask = r.varint((1 << 64) - 1)
    k, m, split = _split_params(params)
    if m > 2:
        raise SanFormatError(f"{r.what}: running-context parameters {params} out of range")
    tables = {c: read_table(r, NUM_TOKENS) for c in range(CONTEXTS) if mask >> c & 1}
    words, extra = read_streams(r)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    decoder = RangeDecoder(words)
    tok = np.empty(n, dtype=np.int32)
    hi = np.zeros(n, dtype=np.int64)
    models: dict[tuple[int, int, int], int] = {}
    acc = last = 0
    for i in range(n):
        c = _context(acc, m, split, last)
        if c not in tables:
            raise SanFormatError(f"{r.what}: invalid range-coder data (a context without a table)")
        last = int(decoder.decode([1], [tables[c]])[0])
        tok[i] = last
        acc = _next(acc, k, last)
        if params & MSB and last >= kernels.DIRECT:
            slot = 0
            for _ in range(_msb_count(last)):
                f = models.get((c, last, slot), MSB_START)
                bit = int(decoder.decode([1], [np.array([f, TOTAL - f], dtype=np.int64)])[0])
                models[c, last, slot] = _msb_update(f, bit)
                hi[i] = hi[i] << 1 | bit
                slot = 1 + bit
    return kernels._np_unpack(tok, extra, hi, MSB_BITS) if params & MSB else unpack(tok, extra)


def decode_block(block: bytes, n: int, contextual: bool, out: np.ndarray | None = None) -> np.ndarray:
    """One array coded on its own: plain, block classes or, when contextual, running contexts; ``out``: where
    its ``n`` values go (``kernels.decode_block``), returned."""
    values = kernels.decode_block(block, n, 2 if contextual and is_running(block) else int(contextual), out)
    if values is not None:
        return values
    values = decode(block, n) if contextual and is_running(block) else decode_arrays(block, [n], [contextual])[0]
    return values if out is None else placed([values], out)[0]
