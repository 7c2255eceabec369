"""Range coding of symbol segments, each under its own static frequency table.

The bitstream is constriction 0.4/0.5's (``RangeEncoder``: 32-bit words, 64-bit state; ``Categorical``
with ``perfect=False`` at 24-bit precision), which format 1.x files were written with, spelled out in
``docs/FORMAT.md``. Where the C kernels are built the coder runs there (no Python per symbol, and the GIL
released); otherwise :class:`_Encoder` and :class:`_Decoder` here, the same integer steps in Python: sancodec
no longer depends on constriction, which has no wheel for Linux on ARM (a Raspberry Pi's, a Jetson's), and no
source to build one from. The three agree bit for bit (``tests/test_kernels.py``, constriction's own encoder
and decoder beside them where it is installed): a table of frequencies summing to 2**14 becomes the cumulative
``floor(C_i * (2**24 - N) / 2**14) + i``, an exact integer.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from sancodec.codec import kernels
from sancodec.errors import SanFormatError

__all__ = ["RangeDecoder", "cumulative", "encode_bits", "encode_segments"]

PRECISION = 24
TABLE_BITS = 14  # frequencies sum to 2**14 (entropy.TOTAL)
_MASK = (1 << 64) - 1  # the coder's state is 64-bit: its sums wrap, and a wrap is a carry
_WORD = 1 << 32


def cumulative(freq: np.ndarray) -> np.ndarray:
    """The coder's cumulative table (N + 1 entries, the last 2**24) of frequencies summing to 2**14."""
    freq = np.asarray(freq, dtype=np.int64)
    n = len(freq)
    left = np.concatenate([[0], np.cumsum(freq)[:-1]])
    cum = (left * ((1 << PRECISION) - n)) >> TABLE_BITS
    return np.concatenate([cum + np.arange(n), [1 << PRECISION]]).astype(np.uint32)


def _bit_cumulative(zero: int) -> list[int]:
    """:func:`cumulative` of the two-symbol table ``[zero, 2**14 - zero]``."""
    return [0, ((zero * ((1 << PRECISION) - 2)) >> TABLE_BITS) + 1, 1 << PRECISION]


def _cumulative_once(made: dict[bytes, list[int]], freq: np.ndarray) -> list[int]:
    """:func:`cumulative` of ``freq`` as a list, made once per table in ``made`` (by the table's values): the Python
    coder's tables, where a stream asks for a few tables many times."""
    key = np.asarray(freq, dtype=np.int64).tobytes()
    cum = made.get(key)
    if cum is None:
        cum = made[key] = cumulative(freq).tolist()
    return cum


def _tables(freqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    stride = max(len(f) for f in freqs) + 1
    cums = np.zeros((len(freqs), stride), dtype=np.uint32)
    for i, f in enumerate(freqs):
        cums[i, : len(f) + 1] = cumulative(f)
    return cums, np.array([len(f) for f in freqs], dtype=np.int32)


class _Encoder:
    """The encoder of ``rangecoder.c`` (``san_rc_*``) in Python, for builds without the C kernels: the interval's
    lower end and range in 64 bits, words whose value a carry may still change (a run of all-ones words after
    the first) held back until it settles."""

    def __init__(self) -> None:
        self.lower, self.range = 0, _MASK
        self.inverted, self.first = 0, 0  # words held back, and the first of them
        self.words: list[int] = []

    def _flush_inverted(self, carry: bool) -> None:
        self.words.append((self.first + carry) & 0xFFFFFFFF)
        self.words.extend([0 if carry else 0xFFFFFFFF] * (self.inverted - 1))
        self.inverted = 0

    def put(self, cum: Sequence[int], x: int) -> None:
        """Encode symbol ``x`` under the cumulative table ``cum`` (:func:`cumulative`)."""
        self.put_all(cum, (x,))

    def put_all(self, cum: Sequence[int], symbols: Sequence[int]) -> None:
        """Encode each of ``symbols`` in turn under the cumulative table ``cum``, the state in locals (the loop a
        build without the C kernels codes every token in); a symbol outside the table raises ValueError (nothing of
        it coded)."""
        n = len(cum) - 1
        out = self.words
        lower, rng, inverted, first = self.lower, self.range, self.inverted, self.first
        for x in symbols:
            if not 0 <= x < n:
                self.lower, self.range, self.inverted, self.first = lower, rng, inverted, first
                raise ValueError("a symbol lies outside its frequency table")
            scale = rng >> PRECISION
            low = cum[x]
            new_lower, width = (lower + scale * low) & _MASK, scale * (cum[x + 1] - low)
            if inverted and (new_lower + width) & _MASK > new_lower:  # the held-back words settle (rare)
                self.inverted, self.first = inverted, first
                self._flush_inverted(new_lower < lower)
                inverted = 0
            lower, rng = new_lower, width
            if width < _WORD:
                rng = width << 32
                word, lower = new_lower >> 32, (new_lower << 32) & _MASK
                if inverted:
                    inverted += 1
                elif (lower + rng) & _MASK > lower:
                    out.append(word)
                else:
                    inverted, first = 1, word
        self.lower, self.range, self.inverted, self.first = lower, rng, inverted, first

    def finish(self) -> np.ndarray:
        """The sealed stream (constriction's ``get_compressed``): no words where nothing was encoded."""
        if self.range == _MASK:
            return np.asarray(self.words, dtype=np.uint32)
        point = (self.lower + _WORD - 1) & _MASK
        if self.inverted:
            self._flush_inverted(point < self.lower)
        self.words.append(point >> 32)
        if ((self.lower + self.range) & _MASK) >> 32 == point >> 32:
            self.words.append(0)
        return np.asarray(self.words, dtype=np.uint32)


class _Decoder:
    """The decoder of ``rangecoder.c`` (``rd_*``) in Python: the point read so far less the interval's lower end
    (``offset``), and the range; a stream no encoder could have written raises :class:`SanFormatError` where the
    C decoder refuses it."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words.tolist()
        self.range, self.offset, self.read = _MASK, 0, 0
        while self.read < 2 and self.read < len(self.words):
            self.offset = (self.offset << 32) | self.words[self.read]
            self.read += 1
        if self.read == 1:
            self.offset <<= 32

    def symbols(self, cum: Sequence[int], n: int, count: int) -> list[int]:
        """``count`` symbols under the cumulative table ``cum`` of ``n`` symbols, the state in locals (the loop a
        build without the C kernels decodes every token in)."""
        words, read, size = self.words, self.read, len(self.words)
        rng, offset = self.range, self.offset
        first_cum, out = cum[1], list[int]()
        append = out.append
        for _ in range(count):
            scale = rng >> PRECISION
            first = scale * first_cum
            if offset < first:
                x, rng = 0, first
            else:
                quantile = offset // scale
                if quantile >= 1 << PRECISION:
                    raise SanFormatError("entropy-coded block: invalid range-coder data")
                x = bisect_right(cum, quantile, 0, n) - 1
                low = cum[x]
                offset -= scale * low
                rng = scale * (cum[x + 1] - low)
            if rng < _WORD:
                rng <<= 32
                offset = (offset << 32) & _MASK
                if read < size:
                    offset |= words[read]
                    read += 1
            append(x)
        self.read, self.range, self.offset = read, rng, offset
        return out

    def symbol(self, cum: Sequence[int], n: int) -> int:
        """One symbol under the cumulative table ``cum`` of ``n`` symbols."""
        return self.symbols(cum, n, 1)[0]


def encode_segments(segments: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Words (uint32) coding each ``(symbols, frequencies)`` segment in order, one stream."""
    segments = [(np.ascontiguousarray(s, dtype=np.int32), f) for s, f in segments if len(s)]
    if not segments:
        return np.zeros(0, dtype=np.uint32)
    if not kernels.COMPILED:
        encoder = _Encoder()
        cums: dict[bytes, list[int]] = {}  # (running contexts cut a band into many short segments under a few tables)
        for symbols, freq in segments:
            encoder.put_all(_cumulative_once(cums, freq), symbols.tolist())
        return encoder.finish()
    tables, sizes = _tables([f for _, f in segments])
    symbols = np.concatenate([s for s, _ in segments])
    lengths = np.array([len(s) for s, _ in segments], dtype=np.int64)
    state = np.zeros(8, dtype=np.uint64)
    out = np.empty(len(symbols) + 8, dtype=np.uint32)  # at most one word per symbol, plus the seal
    lib = kernels._LIB
    lib.san_rc_init(state, len(out))
    status = lib.san_rc_encode(state, out, symbols, lengths, np.arange(len(segments), dtype=np.int32),
                               len(segments), tables, sizes, tables.shape[1])
    if status == -2:
        raise ValueError("a symbol lies outside its frequency table")
    count = lib.san_rc_finish(state, out) if status == 0 else -1
    if count < 0:
        raise RuntimeError("range coder output overflow")
    return out[:count].copy()


def encode_bits(bits: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """Words coding binary symbols, each under its own two-symbol table ``[zeros[i], 2**14 - zeros[i]]``: the
    stream :func:`encode_segments` writes for one segment per bit."""
    if not len(bits):
        return np.zeros(0, dtype=np.uint32)
    if kernels.COMPILED:
        return encode_segments([(bits[i : i + 1], np.array([z, (1 << TABLE_BITS) - z])) for i, z in enumerate(zeros)])
    encoder = _Encoder()
    for bit, zero in zip(np.asarray(bits).tolist(), np.asarray(zeros).tolist()):
        encoder.put(_bit_cumulative(int(zero)), int(bit))
    return encoder.finish()


class RangeDecoder:
    """Decodes segments from one stream, in the order they were encoded."""

    def __init__(self, words: np.ndarray) -> None:
        self._words = np.ascontiguousarray(words, dtype=np.uint32)
        if kernels.COMPILED:
            self._bytes = np.ascontiguousarray(self._words.astype("<u4")).view(np.uint8)  # the C side reads LE
            self._state = np.zeros(8, dtype=np.uint64)
            kernels._LIB.san_rd_init(self._state, self._bytes, len(self._words))
        else:
            self._coder = _Decoder(self._words)
            self._cums: dict[bytes, list[int]] = {}  # each table's cumulative, made once (a running decoder asks
            # for one symbol at a time under a few tables)

    def decode(self, lengths: Sequence[int], freqs: Sequence[np.ndarray]) -> np.ndarray:
        """``sum(lengths)`` symbols: ``lengths[g]`` of them under table ``freqs[g]``, concatenated."""
        keep = [(n, f) for n, f in zip(lengths, freqs) if n]
        total = sum(n for n, _ in keep)
        if not keep:
            return np.zeros(0, dtype=np.int32)
        if not kernels.COMPILED:
            out = np.empty(total, dtype=np.int32)
            i = 0
            for n, f in keep:
                cum = _cumulative_once(self._cums, f)
                out[i : i + n] = self._coder.symbols(cum, len(cum) - 1, n)
                i += n
            return out
        cums, sizes = _tables([f for _, f in keep])
        out = np.empty(total, dtype=np.int32)
        status = kernels._LIB.san_rd_decode(self._state, self._bytes, out,
                                            np.array([n for n, _ in keep], dtype=np.int64),
                                            np.arange(len(keep), dtype=np.int32), len(keep), cums, sizes,
                                            cums.shape[1])
        if status:
            raise SanFormatError("entropy-coded block: invalid range-coder data")
        return out

    def decode_bit(self, zero: int) -> int:
        """One binary symbol under the table ``[zero, 2**14 - zero]`` (:func:`encode_bits`'s), one call."""
        if kernels.COMPILED:
            return int(self.decode([1], [np.array([zero, (1 << TABLE_BITS) - zero])])[0])
        return self._coder.symbol(_bit_cumulative(int(zero)), 2)
