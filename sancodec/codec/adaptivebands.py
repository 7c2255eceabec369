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
With ``parent`` (format 1.13, ``waveletframe.ADAPTIVE_PARENT``), every band from the third on (a detail band
below the coarsest) also splits its contexts by its parent's token: the value at half its index in the band before
it, the next coarser, which the decoder has already (0, 1-2, more: :data:`PARENTS` classes). A detail coefficient is
large where its parent is where the signal's energy comes and goes (a QRS the template left over, muscle bursts),
which the previous token sees only after the fact: bidmc 01's ECG at PRDN 5 % and 9 % codes 13 % and 14 % smaller so
(the default effort's files, ``benchmarks/lossy_sizes.py --compare``), and the encoders weigh both streams
(:func:`encode_either`).
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

__all__ = ["MAX_VALUES", "PARENTS", "decode", "encode", "encode_either"]

CONTEXTS = 4
PARENTS = 3  # a parent token's classes: 0, 1-2, more
STEPS = 24
START, MIN_P = 1 << 13, 32
FIRST_RATE, LAST_RATE, USES_PER_RATE = 2, 5, 4
MAX_VALUES = 1 << 17  # the encoder tries this coding on frames of up to this many values (it pays on short ones)


def _context(previous: int) -> int:
    return 0 if previous == 0 else 1 if previous <= 2 else 2 if previous <= 6 else 3


def _limit(max_decisions: int | None) -> int:
    """The compiled coder's decision limit: ``max_decisions`` (at least 0), or -1 for none."""
    return -1 if max_decisions is None else max(int(max_decisions), 0)


def _parent_classes(up: np.ndarray | None, n: int) -> list[int]:
    """The parent classes of a band's ``n`` values: the class (0, 1-2, more) of the token at half each value's index
    in ``up``, the tokens of the band before it (its last where that band is shorter; 0 where it is empty or None,
    a band without parent contexts)."""
    if up is None or not len(up):
        return [0] * n
    t = up[np.minimum(np.arange(n) >> 1, len(up) - 1)]
    return np.where(t == 0, 0, np.where(t <= 2, 1, 2)).tolist()


def _parent_of(tokens: Sequence[np.ndarray], b: int, parent: bool) -> np.ndarray | None:
    """The tokens band ``b`` takes its parent contexts from: with ``parent``, from the third band on, band ``b - 1``'s;
    else None."""
    return tokens[b - 1] if parent and b >= 2 else None


class _Models:
    """The adaptive probabilities of one band (of a 0, in 2**-14) and how often each was used."""

    def __init__(self) -> None:
        self.p = [START] * (CONTEXTS * PARENTS * (STEPS + 1))
        self.uses = [0] * (CONTEXTS * PARENTS * (STEPS + 1))

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


def encode(arrays: Sequence[np.ndarray], max_decisions: int | None = None, parent: bool = False) -> bytes | None:
    """The integer ``arrays`` (a frame's bands, in order) coded adaptively in one stream (``parent``: with the
    parent contexts of format 1.13); None, nothing coded, where that takes more than ``max_decisions`` binary
    decisions (:func:`decisions`; counted before any is coded)."""
    limit = _limit(max_decisions)
    compiled = kernels.encode_adaptive_bands([np.asarray(a) for a in arrays], limit, int(parent))
    if compiled is not None:
        return compiled[0] or None  # b"": over the limit
    tokenized = [tokenize(np.asarray(a)) for a in arrays]  # (tokens, values) of each array, counted then coded
    if limit >= 0 and sum(decisions(tok) for tok, _ in tokenized) > limit:
        return None
    bits: list[int] = []
    zeros: list[int] = []  # each decision's probability of a 0, in 2**-14
    tokens = [tok for tok, _ in tokenized]
    for b, tok in enumerate(tokens):
        models, previous = _Models(), 0
        for t, pc in zip(tok.tolist(), _parent_classes(_parent_of(tokens, b, parent), len(tok))):
            c = _context(previous) * PARENTS + pc
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


def encode_either(arrays: Sequence[np.ndarray], max_decisions: int | None = None) -> tuple[bytes, bool] | None:
    """:func:`encode` of ``arrays`` without and with the parent contexts (on three bands or more), the smaller
    stream (the one without where they tie) and whether it has them; None where the stream would take more than
    ``max_decisions`` binary decisions. Compiled, both are coded in one pass over the tokens, each value's decisions
    for both in one loop (about 1.4 times one stream's time: each decision waits on the one before it)."""
    compiled = kernels.encode_adaptive_bands([np.asarray(a) for a in arrays], _limit(max_decisions), 2) \
        if len(arrays) >= 3 else None
    if compiled is not None:
        return compiled if compiled[0] else None
    plain = encode(arrays, max_decisions)
    if plain is None or len(arrays) < 3:  # (under three bands no band has a parent: the same stream)
        return None if plain is None else (plain, False)
    with_parents = encode(arrays, max_decisions, parent=True)  # (the same decisions: within the limit too)
    return (with_parents, True) if with_parents is not None and len(with_parents) < len(plain) else (plain, False)


def decode(data: bytes, lengths: Sequence[int], out: np.ndarray | None = None,
           parent: bool = False) -> list[np.ndarray]:
    """The bands of ``lengths`` values coded by :func:`encode` (``parent``: with its parent contexts), refusing what
    the compiled decoder refuses; ``out``: where they go, end to end (those returned are views of it)."""
    if any(n < 0 for n in lengths):
        raise SanFormatError("adaptive bands: a negative band length")
    compiled = kernels.decode_adaptive_bands(data, lengths, out, parent)
    if compiled is not None:
        return compiled
    if out is not None:
        return placed(decode(data, lengths, parent=parent), out)
    words, extra = read_streams(ByteReader(data, "adaptive bands"))
    n = int(sum(lengths))
    if n == 0:
        return [np.zeros(0, np.int64) for _ in lengths]
    decoder = RangeDecoder(words)
    tok = np.empty(n, dtype=np.int32)
    bands: list[np.ndarray] = []  # each band's tokens, as decoded: the next band's parents
    i = 0
    for b, length in enumerate(lengths):
        models, previous = _Models(), 0
        bands.append(tok[i : i + length])
        for pc in _parent_classes(_parent_of(bands, b, parent), length):
            c, t = _context(previous) * PARENTS + pc, 0
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
