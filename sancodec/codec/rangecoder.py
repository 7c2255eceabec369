"""Range coding of symbol segments, each under its own static frequency table.

The bitstream is constriction's (``RangeEncoder``: 32-bit words, 64-bit state; ``Categorical``
with ``perfect=False`` at 24-bit precision), which format 1.x files were written with. Where
the C kernels are built the coder runs there (no Python per symbol, and the GIL released);
otherwise constriction does the work. The two agree bit for bit: a table of frequencies
summing to 2**14 becomes the cumulative ``floor(C_i * (2**24 - N) / 2**14) + i`` in both, an
exact integer, because constriction's float products of dyadic probabilities are exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sancodec.codec import kernels
from sancodec.errors import SanFormatError

__all__ = ["RangeDecoder", "cumulative", "encode_bits", "encode_segments"]

PRECISION = 24
TABLE_BITS = 14  # frequencies sum to 2**14 (entropy.TOTAL)


def cumulative(freq: np.ndarray) -> np.ndarray:
    """The coder's cumulative table (N + 1 entries, the last 2**24) of frequencies summing to 2**14."""
    freq = np.asarray(freq, dtype=np.int64)
    n = len(freq)
    left = np.concatenate([[0], np.cumsum(freq)[:-1]])
    cum = (left * ((1 << PRECISION) - n)) >> TABLE_BITS
    return np.concatenate([cum + np.arange(n), [1 << PRECISION]]).astype(np.uint32)


def _tables(freqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    stride = max(len(f) for f in freqs) + 1
    cums = np.zeros((len(freqs), stride), dtype=np.uint32)
    for i, f in enumerate(freqs):
        cums[i, : len(f) + 1] = cumulative(f)
    return cums, np.array([len(f) for f in freqs], dtype=np.int32)


def _model(freq: np.ndarray):  # -> constriction Categorical
    import constriction

    return constriction.stream.model.Categorical(np.asarray(freq, dtype=np.float64) / (1 << TABLE_BITS),
                                                 perfect=False)


def encode_segments(segments: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Words (uint32) coding each ``(symbols, frequencies)`` segment in order, one stream."""
    segments = [(np.ascontiguousarray(s, dtype=np.int32), f) for s, f in segments if len(s)]
    if not segments:
        return np.zeros(0, dtype=np.uint32)
    if not kernels.COMPILED:
        import constriction

        coder = constriction.stream.queue.RangeEncoder()
        for symbols, freq in segments:
            coder.encode(symbols, _model(freq))
        return np.asarray(coder.get_compressed(), dtype=np.uint32)
    cums, sizes = _tables([f for _, f in segments])
    symbols = np.concatenate([s for s, _ in segments])
    lengths = np.array([len(s) for s, _ in segments], dtype=np.int64)
    state = np.zeros(8, dtype=np.uint64)
    out = np.empty(len(symbols) + 8, dtype=np.uint32)  # at most one word per symbol, plus the seal
    lib = kernels._LIB
    lib.san_rc_init(state, len(out))
    status = lib.san_rc_encode(state, out, symbols, lengths, np.arange(len(segments), dtype=np.int32),
                               len(segments), cums, sizes, cums.shape[1])
    if status == -2:
        raise ValueError("a symbol lies outside its frequency table")
    count = lib.san_rc_finish(state, out) if status == 0 else -1
    if count < 0:
        raise RuntimeError("range coder output overflow")
    return out[:count].copy()


def encode_bits(bits: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    """Words coding binary symbols, each under its own two-symbol table ``[zeros[i], 2**14 - zeros[i]]``: the
    stream :func:`encode_segments` writes for one segment per bit, with constriction in one batch call where
    the C kernels are not built (its model family takes a row of probabilities per symbol)."""
    if not len(bits):
        return np.zeros(0, dtype=np.uint32)
    if kernels.COMPILED:
        return encode_segments([(bits[i : i + 1], np.array([z, (1 << TABLE_BITS) - z])) for i, z in enumerate(zeros)])
    import constriction

    p = np.asarray(zeros, dtype=np.float64) / (1 << TABLE_BITS)
    coder = constriction.stream.queue.RangeEncoder()
    coder.encode(np.ascontiguousarray(bits, dtype=np.int32), constriction.stream.model.Categorical(perfect=False),
                 np.stack([p, 1.0 - p], axis=1))
    return np.asarray(coder.get_compressed(), dtype=np.uint32)


class RangeDecoder:
    """Decodes segments from one stream, in the order they were encoded."""

    def __init__(self, words: np.ndarray) -> None:
        self._words = np.ascontiguousarray(words, dtype=np.uint32)
        self._bits = None  # constriction's two-symbol model family, made on the first decode_bit
        if kernels.COMPILED:
            self._bytes = np.ascontiguousarray(self._words.astype("<u4")).view(np.uint8)  # the C side reads LE
            self._state = np.zeros(8, dtype=np.uint64)
            kernels._LIB.san_rd_init(self._state, self._bytes, len(self._words))
        else:
            import constriction

            self._coder = constriction.stream.queue.RangeDecoder(self._words)

    def decode(self, lengths: Sequence[int], freqs: Sequence[np.ndarray]) -> np.ndarray:
        """``sum(lengths)`` symbols: ``lengths[g]`` of them under table ``freqs[g]``, concatenated."""
        keep = [(n, f) for n, f in zip(lengths, freqs) if n]
        total = sum(n for n, _ in keep)
        if not keep:
            return np.zeros(0, dtype=np.int32)
        if not kernels.COMPILED:
            try:
                parts = [self._coder.decode(_model(f), n) for n, f in keep]
            except (AssertionError, ValueError, RuntimeError, OverflowError) as exc:
                # constriction asserts on range-coder words no encoder could have written
                raise SanFormatError(f"entropy-coded block: invalid range-coder data ({type(exc).__name__})") from None
            return np.concatenate(parts).astype(np.int32)
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
        if self._bits is None:
            import constriction

            self._bits = constriction.stream.model.Categorical(perfect=False)
        p = zero / (1 << TABLE_BITS)
        try:
            return int(self._coder.decode(self._bits, np.array([[p, 1.0 - p]]))[0])
        except (AssertionError, ValueError, RuntimeError, OverflowError) as exc:
            raise SanFormatError(f"entropy-coded block: invalid range-coder data ({type(exc).__name__})") from None
