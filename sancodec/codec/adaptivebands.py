"""Adaptive band coding (format 1.9): a wavelet frame's bands in one range-coded stream without tables.

Each value's token (``kernels.tokenize``) is coded in unary, one binary decision per step ("is the token
above k?", until a no or the last token), each under an adaptive probability of its own: by band, by the
context of the band's previous token (0, 1-2, 3-6, more) and by step (steps from :data:`STEPS` on share
one). A probability starts at one half and moves towards each coded bit by a quarter of the way at first,
by a 32nd after a dozen uses. The raw low bits of large values follow the stream, as in every entropy-coded
block (``entropy.write_streams``). Block classes and running contexts send frequency tables, which on a
short record weigh as much as the values (macecgdb test01_00s, 4000 samples at PRDN 9 %: 1.30× the wavelet
coder's CR with tables, 1.61× with this, ``docs/LOSSY.md``); ``waveletframe.code_bands`` (and ``quick_bands``,
efforts fast and balanced) keeps whichever coding is smaller.
The C kernels (``_kernels/adaptivebands.c``) do the work where built; the functions here are their
reference (the same bytes), one range-coder segment per decision.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import TOTAL, ByteReader, ByteWriter, placed, read_streams, write_streams
from sancodec.codec.kernels import NUM_TOKENS, pack_bits, tokenize, unpack
from sancodec.codec.rangecoder import RangeDecoder, encode_bits
from sancodec.errors import SanFormatError

__all__ = ["MAX_VALUES", "decode", "encode"]

CONTEXTS = 4
STEPS = 24
START, MIN_P = 1 << 13, 32
FIRST_RATE, LAST_RATE, USES_PER_RATE = 2, 5, 4
MAX_VALUES = 1 << 17  # the encoder tries this coding on frames of up to this many values (it pays on short ones)


def _context(previous: int) -> int:
    return 0 if previous == 0 else 1 if previous <= 2 else 2 if previous <= 6 else 3


class _Models:
    """The adaptive probabilities of one band (of a 0, in 2**-14) and how often each was used."""

    def __init__(self) -> None:
        self.p = [START] * (CONTEXTS * (STEPS + 1))
        self.uses = [0] * (CONTEXTS * (STEPS + 1))

    @staticmethod
    def index(c: int, k: int) -> int:
        return c * (STEPS + 1) + min(k, STEPS)

    def update(self, j: int, bit: int) -> None:
        used = self.uses[j]
        rate = min(FIRST_RATE + used // USES_PER_RATE, LAST_RATE)
        self.uses[j] = min(used + 1, 255)
        f = self.p[j]
        v = f - (f >> rate) if bit else f + ((TOTAL - f) >> rate)
        self.p[j] = min(max(v, MIN_P), TOTAL - MIN_P)


def decisions(tokens: np.ndarray) -> int:
    """The binary decisions :func:`encode` codes for these tokens: each token plus one (its unary code and the
    stop), at most ``NUM_TOKENS - 1``: its work, about a few nanoseconds a decision."""
    return int(np.minimum(tokens.astype(np.int64) + 1, NUM_TOKENS - 1).sum())


def encode(arrays: Sequence[np.ndarray], max_decisions: int | None = None) -> bytes | None:
    """The integer ``arrays`` (a frame's bands, in order) coded adaptively in one stream; None, nothing coded, where
    that takes more than ``max_decisions`` binary decisions (:func:`decisions`; counted before any is coded)."""
    limit = -1 if max_decisions is None else max(int(max_decisions), 0)
    compiled = kernels.encode_adaptive_bands([np.asarray(a) for a in arrays], limit)
    if compiled is not None:
        return compiled or None  # b"": over the limit
    tokenized = [tokenize(np.asarray(a)) for a in arrays]  # (tokens, values) of each array, counted then coded
    if limit >= 0 and sum(decisions(tok) for tok, _ in tokenized) > limit:
        return None
    bits: list[int] = []
    zeros: list[int] = []  # each decision's probability of a 0, in 2**-14
    for tok, _ in tokenized:
        models, previous = _Models(), 0
        for t in tok.tolist():
            c = _context(previous)
            for k in range(NUM_TOKENS - 1):
                bit, j = int(t > k), _Models.index(c, k)
                bits.append(bit)
                zeros.append(models.p[j])
                models.update(j, bit)
                if not bit:
                    break
            previous = t
    tok = np.concatenate([t for t, _ in tokenized]) if tokenized else np.zeros(0, np.int32)
    val = np.concatenate([v for _, v in tokenized]) if tokenized else np.zeros(0, np.uint64)
    w = ByteWriter()
    write_streams(w, encode_bits(np.array(bits, dtype=np.int32), np.array(zeros, dtype=np.int64)),
                  pack_bits(val, tok))
    return w.getvalue()


def decode(data: bytes, lengths: Sequence[int], out: np.ndarray | None = None) -> list[np.ndarray]:
    """The bands of ``lengths`` values coded by :func:`encode`, refusing what the compiled decoder refuses;
    ``out``: where they go, end to end (those returned are views of it)."""
    if any(n < 0 for n in lengths):
        raise SanFormatError("adaptive bands: a negative band length")
    compiled = kernels.decode_adaptive_bands(data, lengths, out)
    if compiled is not None:
        return compiled
    if out is not None:
        return placed(decode(data, lengths), out)
    words, extra = read_streams(ByteReader(data, "adaptive bands"))
    n = int(sum(lengths))
    if n == 0:
        return [np.zeros(0, np.int64) for _ in lengths]
    decoder = RangeDecoder(words)
    tok = np.empty(n, dtype=np.int32)
    i = 0
    for length in lengths:
        models, previous = _Models(), 0
        for _ in range(length):
            c, t = _context(previous), 0
            for k in range(NUM_TOKENS - 1):
                j = _Models.index(c, k)
                bit = decoder.decode_bit(models.p[j])
                models.update(j, bit)
                if not bit:
                    break
                t += 1
            tok[i] = previous = t
            i += 1
    values = unpack(tok, extra)
    return np.split(values, np.cumsum(lengths)[:-1]) if len(lengths) else []
