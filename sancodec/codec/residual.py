"""The residual stage: what is left after a frame's predictor, mapped to the integers the
entropy coder sees.

A residual ``u`` is coded as ``e``: ``u`` differenced ``order`` times (a fixed polynomial
predictor, order 0-3), or filtered by an integer LPC filter (lossless only), then, where it pays
(lossless and near-lossless files, format 1.4), through a sign-sign LMS stage that predicts ``e``
from its own last 8 values with weights adapted sample by sample (``adaptive.lms_forward``: the
cascade of Monkey's Audio and MPEG-4 ALS, in integers), or (1.8) through the long adaptive stages
(``codec.cascade``: 256 then 16 taps, for beats that repeat within a few hundred samples).
Near-lossless first quantises ``r`` to ``sign(r) * ((|r| + E) // (2E + 1))`` so that
``|x - x̂| <= E``. A block is ``coding varint`` (order | plain << 2 | lpc << 3 | lms << 4 | ltp << 5
| whole << 6 | long << 7), the filter if any, the LMS order if any, the long stages if any, the
long-term side information if any, and the entropy-coded ``e``: plain, under block classes, or
(format 1.5, ``codec.running``) under running contexts, whichever is smallest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from sancodec.codec import cascade, running
from sancodec.codec.adaptive import decode_residual, lms_forward, lms_inverse
from sancodec.codec.cascade import Cascade, affordable, read_cascade
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.codec.kernels import band_histograms, bit_length_histogram, poly_histograms
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.longterm import LongTerm, find_long_term, read_long_term
from sancodec.codec.lpc import MAX_ABS_VALUE, LpcFilter, analyse, residual
from sancodec.errors import SanFormatError

__all__ = ["MAX_ORDER", "ReadBlock", "Residual", "best_residual", "bits_from_histogram", "estimate_bands",
           "estimate_bits", "estimate_histograms", "near_lossless", "poly_residual", "poly_restore", "read_residual",
           "write_residual"]

MAX_ORDER = 3
SMALL_FRAME = 8192  # below this the plain (context-free) residual coding is tried too
LPC_GAIN = 0.98  # LPC must beat the polynomial estimate by 2 %: its decode is a (batched) recursion
LMS_ORDERS = (8,)  # taps of the LMS stage the encoder tries (a reader takes 1..MAX_LMS_ORDER); 16 saved
# another 0.2-0.4 % on some records for half as much decoding speed again
MAX_LMS_ORDER = 32
LMS_GAIN = 0.99  # the LMS stage must save 1 %: its decode is a sequential recursion
LONG_TERM_GAIN = 0.99  # and so must long-term prediction
LMS_INPUT = 1 << 31  # the encoder's stage input stays within ±2^31 (the kernel clips its history there)
LMS_LIMIT = 1 << 40  # a reader refuses stage values beyond this (a hostile block)
LONG_TERM = True  # try long-term prediction (benchmarks switch it off to measure what it buys)
CASCADE = True  # try the long adaptive stages (the same)
LPC_WHOLE = True  # LPC without restarts (format 1.8; what it buys per record: benchmarks/bench_predictors.py)
CASCADE_MIN = 8192  # shorter blocks keep the LMS stage (a 256-tap filter needs a few beats to converge)
PROBE = 1 << 14  # the long stages run on a whole block only where they pay on its first PROBE values
RUNNING_CONTEXTS = True  # try running contexts (the same)
MSB_MODE = True  # and their MSB mode (format 1.8; the same)


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
    return bits_from_histogram(bit_length_histogram(e), len(e))


def estimate_bands(e: np.ndarray, lengths: Sequence[int]) -> float:
    """The sum of :func:`estimate_bits` over the consecutive runs of ``e`` of ``lengths`` (a wavelet coding's
    bands, concatenated), their histograms made in one compiled call and their entropies taken in one
    vectorised pass (per band they were most of a lossy estimate's time): the same terms, summed in another
    order, so within a few ulps of the per-band sum."""
    return estimate_histograms(band_histograms(e, lengths), lengths)


def estimate_histograms(counts: np.ndarray, lengths: Sequence[int]) -> float:
    """:func:`estimate_bands` from the bands' histograms (``kernels.band_histograms``, one row per band)."""
    return bits_from_histogram(counts, np.asarray(lengths, dtype=np.int64)[:, None])


def bits_from_histogram(counts: np.ndarray, n: int | np.ndarray) -> float:
    """:func:`estimate_bits` from ``counts[b]``, the values of bit length ``b`` (0 for 0), of ``n`` values; or
    the sum of it over several histograms, one per row of ``counts``, with ``n`` the column of their sizes. (Each
    probability is its count over its histogram's size, divided where seen: a lossy estimate makes this sum every
    time, a short lossless channel a few hundred times, so one histogram takes the fewest numpy calls that give the
    same float: the raw bits and the nonzero count in one integer product.)"""
    if counts.ndim == 1:
        seen = counts[counts > 0]
        raw_bits, nonzero = (counts @ _raw_and_nonzero(len(counts))).tolist()
        return float(-np.add.reduce(seen * np.log2(seen / n)) + raw_bits + nonzero)  # (ndarray.sum's reduction)
    return _histograms_bits(counts, n)


def _histograms_bits(counts: np.ndarray, n: int | np.ndarray) -> float:
    """:func:`bits_from_histogram` of histograms of any shape (the last axis their bit lengths): the route every
    histogram took before one alone had its own (``benchmarks/bench_short_lead_steps.py`` times the two)."""
    raw_bits = int((_raw_widths(counts.shape[-1]) * counts).sum())
    nonzero = int(counts[..., 1:].sum())
    seen = counts > 0
    p = np.divide(counts, n, out=np.ones(counts.shape), where=seen)[seen]  # no 0 / 0 for an empty histogram
    return float(-(counts[seen] * np.log2(p)).sum() + raw_bits + nonzero)


@lru_cache(maxsize=8)
def _raw_and_nonzero(size: int) -> np.ndarray:
    """For a histogram of ``size`` bit lengths, the columns its product with a histogram sums to the raw bits
    (:func:`_raw_widths`) and to the values that are not 0 (every bit length but 0's)."""
    columns = np.stack([_raw_widths(size), (np.arange(size) > 0).astype(np.int64)], axis=1)
    columns.flags.writeable = False
    return columns


@lru_cache(maxsize=8)
def _raw_widths(size: int) -> np.ndarray:
    """The raw bits a value of each bit length ``b < size`` carries past its token: ``max(b - 1, 0)``."""
    widths = np.maximum(np.arange(size) - 1, 0)
    widths.flags.writeable = False
    return widths


@dataclass(frozen=True)
class Residual:
    """How ``u`` maps to the coded ``e``: a polynomial order or an LPC filter, with its bit estimate."""

    order: int
    e: np.ndarray
    cost: float
    lpc: LpcFilter | None = None
    lms: int = 0  # taps of the LMS stage applied after the predictor (0: none)
    cascade: Cascade | None = None  # the long adaptive stages, applied before the LMS stage (format 1.8)
    ltp: LongTerm | None = None  # beat-to-beat prediction applied last (lossless files)
    block: bytes | None = field(default=None, compare=False)  # ``e``'s contextual coding, once known

    def coded(self) -> bytes:
        """``e``'s contextual entropy coding (computed once; the encoder's choices compare these)."""
        return self.block if self.block is not None else _coded(self.e)


def best_residual(u: np.ndarray, allow_lpc: bool) -> Residual:
    """The cheapest residual by the bit estimate; LPC only where decoding is exact (lossless)."""
    hists = poly_histograms(u)
    if hists is None:
        best = min((Residual(order, e, estimate_bits(e)) for order in range(MAX_ORDER + 1)
                    for e in (poly_residual(u, order),)), key=lambda r: r.cost)
    else:  # the same costs from one compiled pass; only the cheapest residual is built
        costs = [bits_from_histogram(h, len(u)) for h in hists]
        order = int(np.argmin(costs))
        best = Residual(order, poly_residual(u, order), costs[order])
    # LPC only where its synthesis stays exact (see lpc.MAX_ABS_VALUE); real samples are far inside.
    found = analyse(u) if allow_lpc and len(u) and np.abs(u).max() <= MAX_ABS_VALUE // 2 else None
    # Skip the LPC residual unless the predicted RMS undercuts the polynomial residual's.
    if found is not None and found[1] < 0.9 * float(np.sqrt(np.mean(best.e.astype(np.float64) ** 2))):
        f = replace(found[0], whole=LPC_WHOLE)
        e = residual(u, f)
        c = estimate_bits(e) + 16 * f.order
        if c < LPC_GAIN * best.cost:
            best = Residual(0, e, c / LPC_GAIN, f)
    return best


def with_adaptive_stages(res: Residual) -> Residual:
    """The LMS stage or the long adaptive stages, then long-term prediction, each kept where it pays,
    then running contexts where they code smaller than block classes: applied to the residual of the
    coding a channel-frame chose (the stages invert exactly on any integers, so near-lossless
    residuals too). The long stages stay out of a block coded in too few bytes to justify their work
    (``cascade.affordable``, the reader's cap)."""
    lms = _with_lms(res)
    done = with_running_contexts(with_long_term(_with_cascade(res, lms)))
    if done.cascade is not None and not affordable(done.cascade, len(done.e), len(done.coded())):
        return with_running_contexts(with_long_term(lms))
    return done


def with_running_contexts(res: Residual, msb: bool = True) -> Residual:
    """``res`` whose block is coded under running contexts (format 1.5) where that is smaller than block
    classes and, for a short residual, than the plain coding :func:`write_residual` weighs too (so a
    file says 1.5 only when it uses them); with ``msb``, in their MSB mode (1.8) where that is smaller
    still (it decodes a little slower: ``--fast-decode`` leaves it out)."""
    if not RUNNING_CONTEXTS or len(res.e) < running.MIN_LENGTH:
        return res
    block = res.coded()
    alternative = running.encode_chosen(res.e, running.PARAMS, either=msb and MSB_MODE)
    if len(alternative) >= len(block) or (len(res.e) < SMALL_FRAME and len(alternative) >= len(_plain(res.e))):
        return replace(res, block=block)
    return replace(res, block=alternative)


def _with_lms(best: Residual) -> Residual:
    """``best`` through the LMS stage (the order of :data:`LMS_ORDERS` the bit estimate prefers) when
    that saves :data:`LMS_GAIN` of the coded bytes."""
    e = best.e
    if len(e) < 4 * max(LMS_ORDERS) or max(-int(e.min()), int(e.max())) > LMS_INPUT:
        return best
    before = estimate_bits(e)
    after, taps, out = min((estimate_bits(o), taps, o) for taps in LMS_ORDERS for o in (lms_forward(e, taps),))
    if after >= before:  # the order-0 estimate misses most of the stage's gain, but never shows a loss it has
        return best
    blocks = best.coded(), _coded(out)  # the block-context coder sees what the estimate misses
    if len(blocks[1]) + 1 >= LMS_GAIN * len(blocks[0]):
        return replace(best, block=blocks[0])
    return Residual(best.order, out, best.cost * len(blocks[1]) / len(blocks[0]), best.lpc, taps, block=blocks[1])


def _with_cascade(best: Residual, chosen: Residual) -> Residual:
    """``best`` through the long adaptive stages (``cascade.DEFAULT``) instead of ``chosen`` (``best``
    with or without the LMS stage) where they save :data:`cascade.GAIN` of its coded bytes. A long block
    tries them only where they save as much on its first :data:`PROBE` values (the stages cost tens of ns
    a value, and on mitdb 100 they save too little to be kept); a channel the stages need long to learn
    can be missed that way."""
    e = best.e
    if not CASCADE or len(e) < CASCADE_MIN or max(-int(e.min()), int(e.max())) > LMS_INPUT:
        return chosen
    stages = cascade.DEFAULT
    if len(e) > 2 * PROBE:
        head = e[:PROBE]
        plain = head if not chosen.lms else lms_forward(head, chosen.lms)
        if len(_coded(stages.forward(head))) > cascade.GAIN * len(_coded(plain)):
            return chosen
    out = stages.forward(e)
    block = _coded(out)
    if len(block) + 4 >= cascade.GAIN * len(chosen.coded()):
        return chosen
    return Residual(best.order, out, chosen.cost * len(block) / len(chosen.coded()), best.lpc, cascade=stages,
                    block=block)


def with_long_term(res: Residual) -> Residual:
    """``res`` with beat-to-beat prediction (``codec.longterm``) where the block gets 1 % smaller."""
    found = find_long_term(res.e) if res.ltp is None and LONG_TERM else None
    if found is None:
        return res
    o2 = found.predicted(res.e)
    block = _coded(o2)
    coded = len(block) + len(found.side), len(res.coded())
    if coded[0] >= LONG_TERM_GAIN * coded[1]:
        return res
    return Residual(res.order, o2, res.cost * coded[0] / coded[1], res.lpc, res.lms, res.cascade, found, block)


def _coded(e: np.ndarray) -> bytes:
    """The contextual entropy coding of one residual (what the stages' choices compare)."""
    return encode_arrays([e], [True])


def _plain(e: np.ndarray) -> bytes:
    """The context-free entropy coding of one residual."""
    return encode_arrays([e], [False])


def write_residual(res: Residual) -> bytes:
    """The residual block, the smaller of the plain and contextual entropy codings."""
    best = b""
    for plain in ((False, True) if len(res.e) < SMALL_FRAME else (False,)):
        w = ByteWriter()
        whole = res.lpc is not None and res.lpc.whole
        w.varint(res.order | (int(plain) << 2) | (int(res.lpc is not None) << 3) | (int(res.lms > 0) << 4)
                 | (int(res.ltp is not None) << 5) | (int(whole) << 6) | (int(res.cascade is not None) << 7))
        if res.lpc is not None:
            res.lpc.write(w)
        if res.lms:
            w.varint(res.lms)
        if res.cascade is not None:
            res.cascade.write(w)
        if res.ltp is not None:
            res.ltp.write(w)
        w.raw(res.coded() if not plain else _plain(res.e))
        if not best or len(w.getvalue()) < len(best):
            best = w.getvalue()
    return best


class ReadBlock(NamedTuple):
    """A residual block as read: ``e`` with long-term prediction and the LMS stage undone (the caller
    restores ``u``, LPC in a batch), and what the block used."""

    e: np.ndarray
    order: int
    lpc: LpcFilter | None
    lms: int  # LMS taps (0: none)
    ltp: bool  # long-term prediction
    running: bool  # running contexts (format 1.5)
    cascade: bool = False  # the long adaptive stages (format 1.8)
    msb: bool = False  # running contexts' MSB mode (format 1.8)


def read_residual(r: ByteReader, length: int, lossless: bool) -> ReadBlock:
    """The residual block of ``length`` values at ``r`` (``lossless``: a lossless or near-lossless file)."""
    coding = r.varint(MAX_ORDER | 4 | 8 | 16 | 32 | 64 | 128)
    order, plain, uses_lpc, uses_lms = coding & 3, bool(coding & 4), bool(coding & 8), bool(coding & 16)
    if uses_lpc and (order or not lossless):
        raise SanFormatError("frame: LPC residuals are for lossless frames without a polynomial order")
    if coding & 64 and not uses_lpc:
        raise SanFormatError("frame: an LPC without restarts needs an LPC filter")
    if (uses_lms or coding & (32 | 128)) and not lossless:
        raise SanFormatError("frame: adaptive stages or long-term prediction are not for lossy files")
    flt = replace(LpcFilter.read(r), whole=bool(coding & 64)) if uses_lpc else None
    taps = r.varint(MAX_LMS_ORDER) if uses_lms else 0
    if uses_lms and taps < 1:
        raise SanFormatError("frame: an LMS stage of 0 taps")
    long_stages = read_cascade(r) if coding & 128 else None
    longterm = read_long_term(r, length) if coding & 32 else None
    block = r.raw(r.remaining())
    if long_stages is not None and not affordable(long_stages, length, len(block)):
        raise SanFormatError(f"frame: long adaptive stages of {long_stages.taps} taps over {length} values coded in "
                             f"{len(block)} bytes (a hostile block)")
    stages = None if longterm is None else (longterm.positions, longterm.shifts, longterm.gains, longterm.before,
                                            longterm.after)
    # compiled: every stage in one call
    e = decode_residual(block, length, not plain, taps, stages, long_stages, LMS_LIMIT)
    if e is None:
        e = running.decode_block(block, length, not plain)
        e = e if longterm is None else longterm.restore(e)
        e = lms_inverse(e, taps, LMS_LIMIT) if taps else e
        e = e if long_stages is None else long_stages.inverse(e, LMS_LIMIT)
    return ReadBlock(e, order, flt, taps, longterm is not None, not plain and running.is_running(block),
                     long_stages is not None, not plain and running.uses_msb(block))


def near_lossless(r: np.ndarray, step: int) -> np.ndarray:
    """Quantise ``r`` with ``step = 2E + 1`` so that ``|r - step * q| <= E`` (identity for step 1)."""
    if step == 1:
        return r
    half = (step - 1) // 2
    return np.sign(r) * ((np.abs(r) + half) // step)
