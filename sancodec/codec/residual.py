"""The residual stage: what is left after a frame's predictor, mapped to the integers the
entropy coder sees.

A residual ``u`` is coded as ``e``: ``u`` differenced ``order`` times (a fixed polynomial
predictor, order 0-3), or filtered by an integer LPC filter (lossless only). Near-lossless
first quantises ``r`` to ``sign(r) * ((|r| + E) // (2E + 1))`` so that ``|x - x̂| <= E``.
A block is ``coding varint`` (order | plain << 2 | lpc << 3), the filter if any, and the
entropy-coded ``e``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.kernels import bit_length_histogram, decode_block, encode_block, poly_histograms
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.lpc import MAX_ABS_VALUE, LpcFilter, analyse, residual
from sancodec.errors import SanFormatError

__all__ = ["MAX_ORDER", "Residual", "best_residual", "estimate_bits", "near_lossless",
           "poly_residual", "poly_restore", "read_residual", "write_residual"]

MAX_ORDER = 3
SMALL_FRAME = 8192  # below this the plain (context-free) residual coding is tried too
LPC_GAIN = 0.98  # LPC must beat the polynomial estimate by 2 %: its decode is a (batched) recursion


def poly_residual(u: np.ndarray, order: int) -> np.ndarray:
    """``u`` differenced ``order`` times, keeping the first value of each pass."""
    e = u
    for _ in range(order):
        e = np.concatenate([e[:1], np.diff(e)])
    return e


def poly_restore(e: np.ndarray, order: int) -> np.ndarray:
    """Inverse of :func:`poly_residual`. Each pass is first run in float64: partial sums beyond
    2**53 (a hostile residual) are refused before the int64 pass could wrap."""
    u = e
    # |u| <= max|e| * n**order: when that bound is exact-safe, no partial sum can leave the range.
    safe = not len(e) or max(-int(e.min()), int(e.max())) * len(e) ** order <= MAX_ABS_SAMPLE
    for _ in range(order):
        if not safe and len(u) and float(np.abs(np.cumsum(u, dtype=np.float64)).max()) > MAX_ABS_SAMPLE:
            raise SanFormatError("frame: residual values too large (would overflow the decoder's integers)")
        u = np.cumsum(u)
    return u


def estimate_bits(e: np.ndarray) -> float:
    """Cheap bit estimate: order-0 entropy of magnitude classes + raw bits."""
    return _bits_from_histogram(bit_length_histogram(e), len(e))


def _bits_from_histogram(counts: np.ndarray, n: int) -> float:
    """:func:`estimate_bits` from ``counts[b]``, the values of bit length ``b`` (0 for 0)."""
    lengths = np.arange(len(counts))
    raw_bits = int((np.maximum(lengths - 1, 0) * counts).sum())
    nonzero = int(counts[1:].sum())
    p = counts[counts > 0] / n
    return float(-(counts[counts > 0] * np.log2(p)).sum() + raw_bits + nonzero)


@dataclass(frozen=True)
class Residual:
    """How ``u`` maps to the coded ``e``: a polynomial order or an LPC filter, with its bit estimate."""

    order: int
    e: np.ndarray
    cost: float
    lpc: LpcFilter | None = None


def best_residual(u: np.ndarray, allow_lpc: bool) -> Residual:
    """The cheapest residual by the bit estimate; LPC only where decoding is exact (lossless)."""
    hists = poly_histograms(u)
    if hists is None:
        best = min((Residual(order, e, estimate_bits(e)) for order in range(MAX_ORDER + 1)
                    for e in (poly_residual(u, order),)), key=lambda r: r.cost)
    else:  # the same costs from one compiled pass; only the cheapest residual is built
        costs = [_bits_from_histogram(h, len(u)) for h in hists]
        order = int(np.argmin(costs))
        best = Residual(order, poly_residual(u, order), costs[order])
    # LPC only where its synthesis stays exact (see lpc.MAX_ABS_VALUE); real samples are far inside.
    found = analyse(u) if allow_lpc and len(u) and np.abs(u).max() <= MAX_ABS_VALUE // 2 else None
    # Skip the LPC residual unless the predicted RMS undercuts the polynomial residual's.
    if found is not None and found[1] < 0.9 * float(np.sqrt(np.mean(best.e.astype(np.float64) ** 2))):
        f = found[0]
        e = residual(u, f)
        c = estimate_bits(e) + 16 * f.order
        if c < LPC_GAIN * best.cost:
            best = Residual(0, e, c / LPC_GAIN, f)
    return best


def write_residual(res: Residual) -> bytes:
    """The residual block, the smaller of the plain and contextual entropy codings."""
    best = b""
    for plain in ((False, True) if len(res.e) < SMALL_FRAME else (False,)):
        w = ByteWriter()
        w.varint(res.order | (int(plain) << 2) | (int(res.lpc is not None) << 3))
        if res.lpc is not None:
            res.lpc.write(w)
        block = encode_block(res.e, not plain)
        w.raw(block if block is not None else encode_arrays([res.e], [not plain]))
        if not best or len(w.getvalue()) < len(best):
            best = w.getvalue()
    return best


def read_residual(r: ByteReader, length: int, lossless: bool) -> tuple[np.ndarray, int, LpcFilter | None]:
    """``(e, order, filter)`` of a residual block; the caller restores ``u`` (LPC in a batch)."""
    coding = r.varint(MAX_ORDER | 4 | 8)
    order, plain, uses_lpc = coding & 3, bool(coding & 4), bool(coding & 8)
    if uses_lpc and (order or not lossless):
        raise SanFormatError("frame: LPC residuals are for lossless frames without a polynomial order")
    flt = LpcFilter.read(r) if uses_lpc else None
    block = r.raw(r.remaining())
    e = decode_block(block, length, not plain)
    if e is None:
        (e,) = decode_arrays(block, [length], [not plain])
    return e, order, flt


def near_lossless(r: np.ndarray, step: int) -> np.ndarray:
    """Quantise ``r`` with ``step = 2E + 1`` so that ``|r - step * q| <= E`` (identity for step 1)."""
    if step == 1:
        return r
    half = (step - 1) // 2
    return np.sign(r) * ((np.abs(r) + half) // step)
