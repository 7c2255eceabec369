"""Entropy coding of integer arrays: tokens + raw bits, static integer tables, range coding (``rangecoder``).

Each signed integer is zig-zag mapped to ``v >= 0`` and split into a *token*
(``v`` itself below 16, else ``11 + bit_length(v)``) and ``bit_length(v) - 1``
raw low bits. Tokens are range-coded (``rangecoder``: constriction's ``RangeEncoder``'s bitstream) with
static frequency tables stored in the stream as integers summing to 2**14, so
the probabilities the decoder sees are exact dyadic numbers and the bitstream
is identical on every platform. Raw bits are packed MSB-first.

An array flagged *contextual* (residuals) is cut into blocks of 16; each block
gets an envelope class from its mean token (coded first, as side information)
and the tokens of each class share one table. This forward-adaptive model is
what beats FLAC and bz2 on ECG residuals (measured by benchmarks/bench_codec.py,
recorded in docs/BENCHMARKS.md). A residual or a wavelet band coded on its own may instead use running
contexts (``codec.running``, format 1.5), which need no side information.
The per-value loops (tokens, raw bits, classes) are in ``kernels``: C when built, numpy otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.kernels import BLOCK, NUM_CLASSES, NUM_TOKENS, classes, pack_bits, tokenize, unpack
from sancodec.codec.rangecoder import RangeDecoder, encode_segments
from sancodec.errors import SanFormatError

__all__ = ["ByteReader", "ByteWriter", "decode_arrays", "encode_arrays", "placed", "quantize_table", "read_streams",
           "read_table", "write_streams", "write_table"]

PRECISION = 14
TOTAL = 1 << PRECISION


# ----------------------------------------------------------------- varints
class ByteWriter:
    """Append-only byte buffer with LEB128 varints."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def varint(self, value: int) -> None:
        value = int(value)
        if value < 0:
            raise ValueError("varint must be non-negative")
        out = bytearray()
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
        self.parts.append(bytes(out))

    def svarint(self, value: int) -> None:
        value = int(value)
        self.varint(2 * value if value >= 0 else -2 * value - 1)

    def raw(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class ByteReader:
    """Bounds-checked reader: every overrun is a :class:`SanFormatError`."""

    def __init__(self, data: bytes | memoryview, what: str = "stream") -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.what = what

    def varint(self, limit: int = (1 << 63) - 1) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise SanFormatError(f"{self.what}: truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift > 63:
                raise SanFormatError(f"{self.what}: varint too long")
        if value > limit:
            raise SanFormatError(f"{self.what}: value {value} exceeds its limit {limit}")
        return value

    def svarint(self, limit: int = (1 << 62)) -> int:
        v = self.varint(2 * limit + 1)
        return v // 2 if v % 2 == 0 else -(v + 1) // 2

    def raw(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise SanFormatError(f"{self.what}: needs {n} bytes, {len(self.data) - self.pos} left")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def remaining(self) -> int:
        return len(self.data) - self.pos


# ------------------------------------------------------------------ tables
def quantize_table(counts: np.ndarray) -> np.ndarray:
    """Integer frequencies summing to TOTAL, every used symbol >= 1 (deterministic)."""
    counts = counts.astype(np.int64)
    used = counts > 0
    n_used = int(used.sum())
    freq = np.where(used, 1 + (counts * (TOTAL - n_used)) // max(int(counts.sum()), 1), 0)
    short = TOTAL - int(freq.sum())
    order = np.argsort(-counts, kind="stable")[:n_used]
    freq[order[: short % n_used]] += 1
    freq[order] += short // n_used
    return freq


def write_table(w: ByteWriter, freq: np.ndarray) -> None:
    last = int(np.flatnonzero(freq)[-1]) + 1
    w.varint(last)
    for f in freq[:last]:
        w.varint(int(f))


def read_table(r: ByteReader, alphabet: int) -> np.ndarray:
    size = r.varint(alphabet)
    if size == 0:
        raise SanFormatError(f"{r.what}: empty frequency table")
    freq = np.zeros(alphabet, dtype=np.int64)  # full alphabet, exactly as the encoder's model
    freq[:size] = [r.varint(TOTAL) for _ in range(size)]
    if int(freq.sum()) != TOTAL:
        raise SanFormatError(f"{r.what}: frequency table sums to {int(freq.sum())}, not {TOTAL}")
    return freq


# ------------------------------------------------------------------ arrays
def encode_arrays(arrays: Sequence[np.ndarray], contextual: Sequence[bool]) -> bytes:
    """Code integer arrays into one blob; the decoder must be told their lengths and flags. Coded in one
    compiled call where the C kernels are built (``kernels.encode_arrays``: the same bytes)."""
    if len(arrays) == len(contextual):
        block = kernels.encode_arrays([np.asarray(a) for a in arrays], [bool(c) for c in contextual])
        if block is not None:
            return block
    tables = ByteWriter()
    segments: list[tuple[np.ndarray, np.ndarray]] = []  # (symbols, frequencies) in coding order
    all_tok, all_val = [], []
    for arr, ctx in zip(arrays, contextual, strict=True):
        tok, val = tokenize(np.asarray(arr))
        all_tok.append(tok)
        all_val.append(val)
        if len(tok) == 0:
            continue
        if not ctx:
            freq = quantize_table(np.bincount(tok, minlength=NUM_TOKENS))
            write_table(tables, freq)
            segments.append((tok, freq))
            continue
        cls = classes(tok)
        cfreq = quantize_table(np.bincount(cls, minlength=NUM_CLASSES))
        write_table(tables, cfreq)
        segments.append((cls, cfreq))
        per_sample = np.repeat(cls.astype(np.uint8), BLOCK)[: len(tok)]
        grouped = tok[np.argsort(per_sample, kind="stable")]  # tokens by class, in order within each
        counts = np.bincount(per_sample, minlength=NUM_CLASSES)
        start = 0
        for c in np.flatnonzero(counts):
            sel = grouped[start : start + counts[c]]
            start += counts[c]
            freq = quantize_table(np.bincount(sel, minlength=NUM_TOKENS))
            write_table(tables, freq)
            segments.append((sel, freq))
    tok = np.concatenate(all_tok) if all_tok else np.zeros(0, np.int32)
    val = np.concatenate(all_val) if all_val else np.zeros(0, np.uint64)
    out = ByteWriter()
    out.raw(tables.getvalue())
    write_streams(out, encode_segments(segments), pack_bits(val, tok))
    return out.getvalue()


def write_streams(w: ByteWriter, words: np.ndarray, extra: bytes) -> None:
    """The range coder's words and the raw bits that end every entropy-coded block."""
    w.varint(len(words))
    w.raw(np.asarray(words, dtype=np.uint32).astype("<u4").tobytes())
    w.varint(len(extra))
    w.raw(extra)


def read_streams(r: ByteReader) -> tuple[np.ndarray, bytes]:
    """:func:`write_streams`'s words and raw bits, which must end the block."""
    n_words = r.varint(r.remaining() // 4)
    words = np.frombuffer(r.raw(4 * n_words), dtype="<u4").astype(np.uint32)
    n_extra = r.varint(r.remaining())
    extra = r.raw(n_extra)
    if r.remaining():
        raise SanFormatError(f"{r.what}: {r.remaining()} unexpected trailing bytes")
    return words, extra


def placed(arrays: Sequence[np.ndarray], out: np.ndarray) -> list[np.ndarray]:
    """``arrays`` copied end to end into ``out``, returned as views of it: what a reference decoder gives where
    its caller asked for the compiled decoder's ``out``."""
    edges = np.cumsum([len(a) for a in arrays])
    if arrays:
        out[:] = np.concatenate(arrays)
    return np.split(out, edges[:-1]) if arrays else []


def decode_arrays(data: bytes, lengths: Sequence[int], contextual: Sequence[bool],
                  out: np.ndarray | None = None) -> list[np.ndarray]:
    """Inverse of :func:`encode_arrays` for arrays of the given lengths and flags (in one compiled call
    where the C kernels are built, refusing exactly what this reader refuses); ``out``: where the arrays go,
    end to end (those returned are views of it)."""
    if len(lengths) == 1 and len(contextual) == 1:
        values = kernels.decode_block(data, int(lengths[0]), bool(contextual[0]), out)
        if values is not None:
            return [values]
    elif len(lengths) == len(contextual):
        arrays = kernels.decode_arrays(data, lengths, contextual, out)
        if arrays is not None:
            return arrays
    if out is not None:
        return placed(decode_arrays(data, lengths, contextual), out)
    r = ByteReader(data, "entropy-coded block")
    plans: list[Any] = []  # (None, a table, or a class table and its token tables)
    for n, ctx in zip(lengths, contextual, strict=True):
        if n == 0:
            plans.append(None)
        elif not ctx:
            plans.append(read_table(r, NUM_TOKENS))
        else:
            cfreq = read_table(r, NUM_CLASSES)
            present = np.flatnonzero(cfreq)
            plans.append((cfreq, [read_table(r, NUM_TOKENS) for _ in present]))
    words, extra = read_streams(r)
    tokens = _decode_tokens(RangeDecoder(words), lengths, plans)
    flat = np.concatenate(tokens) if tokens else np.zeros(0, np.int32)
    return _finish_values(flat, extra, lengths)


def _decode_tokens(decoder: RangeDecoder, lengths: Sequence[int], plans: list[Any]) -> list[np.ndarray]:
    tokens = []
    for n, plan in zip(lengths, plans):
        if plan is None:
            tokens.append(np.zeros(0, np.int32))
            continue
        if not isinstance(plan, tuple):
            tokens.append(decoder.decode([n], [plan]))
            continue
        cfreq, tables = plan
        cls = decoder.decode([-(-n // BLOCK)], [cfreq])
        per_sample = np.repeat(cls.astype(np.uint8), BLOCK)[:n]
        present = np.flatnonzero(cfreq)
        counts = np.bincount(per_sample, minlength=NUM_CLASSES)[present]
        order = np.argsort(per_sample, kind="stable")
        # a class the table gives no frequency (only in a damaged stream) keeps token 0, as before
        order = order[np.isin(per_sample[order], present)]
        tok = np.zeros(n, dtype=np.int32)
        tok[order] = decoder.decode(list(counts), tables)
        tokens.append(tok)
    return tokens


def _finish_values(flat: np.ndarray, extra: bytes, lengths: Sequence[int]) -> list[np.ndarray]:
    values = unpack(flat, extra)
    out, start = [], 0
    for n in lengths:
        out.append(values[start : start + n])
        start += n
    return out
