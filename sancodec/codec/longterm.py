"""Long-term (beat-to-beat) prediction of residuals, format 1.4: what LPC and LMS cannot see.

An ECG residual keeps a burst at every QRS complex, and each burst resembles the one a beat
earlier. The encoder finds the beat period ``P`` (the autocorrelation peak of ``|o|``'s maxima over
blocks of 8), picks one position per beat (greedy peaks at least ``0.6 P`` apart, windows of
``P / 20`` before and ``P / 10`` after), and predicts the
window ``[p_k - before, p_k + after)`` of beat ``k`` from the same window of beat ``k - 1``,
shifted by ``s_k`` in -2..2 and scaled by ``g_k / 8`` (0..15, 0: not predicted):
``o2[t] = o[t] - ((g_k · o[t - p_k + p_{k-1} + s_k] + 4) >> 3)``. Every reference window ends
before its beat's window starts, so the decoder restores the windows in order (``adaptive.ltp_inverse``).
Side information: the first position, then the position gaps minus the period, the shifts + 2 and
the gains of all beats, one after the other in one plain entropy-coded array. Lossless and
near-lossless files; kept only where the block gets 1 % smaller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.adaptive import ltp_inverse
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.errors import SanFormatError
from sancodec.san.sparse import peaks

__all__ = ["LongTerm", "find_long_term", "read_long_term"]

MAX_WINDOW = 1 << 16
MAX_GAIN = 15
SHIFTS = range(-1, 2)  # the encoder tries these; the format allows -2..2 (measured: ±1 is as good)
MIN_LENGTH = 2048  # shorter residuals hold too few beats to pay for the side information
WINDOW_BEFORE, WINDOW_AFTER = 20, 10  # a beat's window: P / 20 before its position, P / 10 after
BLOCK = 8  # the beat search runs on |o|'s maxima over blocks of this many samples
LIMIT = 1 << 40  # a reader refuses restored values beyond this (as the LMS stage)


@dataclass(frozen=True)
class LongTerm:
    """Beat positions (increasing), per-beat shifts (-2..2) and gains (0..15, in eighths), windows, and
    the beat period the position gaps are written against."""

    positions: np.ndarray
    shifts: np.ndarray
    gains: np.ndarray
    before: int
    after: int
    period: int

    def predicted(self, o: np.ndarray) -> np.ndarray:
        """``o2`` for the residual ``o`` (the encoder: every reference is known, so one vector pass)."""
        keep = np.flatnonzero(self.gains[1:]) + 1
        width = self.before + self.after
        at = (self.positions[keep] - self.before)[:, None] + np.arange(width)
        ref = (self.positions[keep - 1] - self.before + self.shifts[keep])[:, None] + np.arange(width)
        out = o.copy()
        out[at] -= (self.gains[keep][:, None] * o[ref] + 4) >> 3
        return out

    @cached_property
    def side(self) -> bytes:
        """The side information as written (computed once: the encoder sizes it, then writes it)."""
        w = ByteWriter()
        for value in (self.before, self.after, self.period, len(self.positions), self.positions[0]):
            w.varint(int(value))
        values = np.concatenate([np.diff(self.positions) - self.period, self.shifts + 2, self.gains])
        block = encode_arrays([values], [False])
        w.varint(len(block))
        w.raw(block)
        return w.getvalue()

    def write(self, w: ByteWriter) -> None:
        w.raw(self.side)

    def restore(self, o2: np.ndarray) -> np.ndarray:
        """The residual ``o`` whose prediction left ``o2`` (the decoder: beat after beat)."""
        return ltp_inverse(o2, self.positions, self.shifts, self.gains, self.before, self.after, LIMIT)


def read_long_term(r: ByteReader, length: int) -> LongTerm:
    """Read the side information and check the beats: increasing inside the block, shifts and gains in
    range (the windows are checked where they are restored)."""
    before, after, period = r.varint(MAX_WINDOW), r.varint(MAX_WINDOW), r.varint(MAX_WINDOW)
    count, first = r.varint(length), r.varint(length)
    if count < 1 or before + after < 1:
        raise SanFormatError("frame: long-term prediction without beats or windows")
    block = r.raw(r.varint(r.remaining()))
    (values,) = decode_arrays(block, [3 * count - 1], [False])
    if values.min(initial=0) < -MAX_WINDOW or values.max(initial=0) > length:  # before any arithmetic
        raise SanFormatError("frame: long-term beat positions are not increasing inside the block")
    gaps, shifts, gains = values[: count - 1] + period, values[count - 1 : 2 * count - 1] - 2, values[2 * count - 1 :]
    positions = first + np.concatenate([[0], np.cumsum(gaps)])
    if gaps.min(initial=1) < 1 or positions[-1] >= length:
        raise SanFormatError("frame: long-term beat positions are not increasing inside the block")
    if shifts.min() < -2 or shifts.max() > 2 or gains.min() < 0 or gains.max() > MAX_GAIN:
        raise SanFormatError("frame: long-term shift or gain out of range")
    # The windows (inside the block, after their references, not overlapping) are checked as they are
    # restored (adaptive.ltp_inverse), beat by beat.
    return LongTerm(positions.astype(np.int64), shifts.astype(np.int64), gains.astype(np.int64), before, after, period)


def _period(envelope: np.ndarray) -> int | None:
    """The beat period of ``envelope`` in its samples (8 .. 500 blocks of 8, i.e. up to 4000 samples,
    short of the 4096-sample LPC segments whose restarts repeat in an LPC residual), or None without a
    clear one."""
    a = envelope - envelope.mean()
    n = len(a)
    spectrum = np.fft.rfft(a, 2 * n)
    r = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n)[:n]
    lo, hi = 8, min(500, n // 4)
    if r[0] <= 0 or hi <= lo:
        return None
    window = r[lo - 1 : hi + 1]
    peaks_at = lo + np.flatnonzero((window[1:-1] >= window[:-2]) & (window[1:-1] >= window[2:]))
    if not len(peaks_at) or r[peaks_at].max() <= 0.15 * r[0]:
        return None
    # the shortest lag nearly as strong as the strongest: the beat, not a multiple of it
    return int(peaks_at[np.argmax(r[peaks_at] >= 0.85 * r[peaks_at].max())])


def find_long_term(o: np.ndarray) -> LongTerm | None:
    """Beats, shifts and gains for ``o`` fitted by least squares, or None when ``o`` shows no beat.
    The period and the beats are found on the maxima of ``|o|`` over blocks of :data:`BLOCK` samples
    (a fraction of the work), each beat then placed on the largest ``|o|`` of its block."""
    if len(o) < MIN_LENGTH:
        return None
    blocks = np.abs(o[: len(o) // BLOCK * BLOCK]).reshape(-1, BLOCK)
    envelope = blocks.max(axis=1)
    if envelope.max(initial=0) > LIMIT // 16:
        return None
    period = _period(np.convolve(envelope.astype(np.float64), np.ones(3) / 3, mode="same"))
    if period is None:
        return None
    coarse = _greedy_peaks(envelope.astype(np.float32), max(1, int(0.6 * period)))
    positions = (BLOCK * coarse + np.argmax(blocks[coarse], axis=1)).astype(np.int64)
    period *= BLOCK
    before, after = max(1, period // WINDOW_BEFORE), max(2, period // WINDOW_AFTER)
    if len(positions) < 3:
        return None
    shifts, gains = _fit(o, positions, before, after)
    return LongTerm(positions, shifts, gains, before, after, period) if gains.any() else None


def _greedy_peaks(row: np.ndarray, spacing: int) -> np.ndarray:
    """The positions ``sparse.peaks`` keeps on ``row`` (float32) at least ``spacing`` apart, increasing: in one
    compiled pass where built (``kernels.greedy_peaks``, the same positions; the numpy rounds took about a tenth of a
    short 12-lead record's lossless encode under the profiler), else by ``sparse.peaks``."""
    compiled = kernels.greedy_peaks(row, spacing)
    return compiled if compiled is not None else np.flatnonzero(peaks(row[None, None], spacing)[0, 0])


def _fit(o: np.ndarray, positions: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """Per beat the shift and gain (eighths) with the least squared error; gain 0 where the windows
    would leave the block or touch their reference. In one compiled pass where built (``kernels.ltp_fit``, the same
    values: a short lead's lossless coding weighs it for each of its candidate residuals), else in numpy, the
    reference, all beats at once a shift at a time."""
    n, width = len(o), before + after
    cur, prev = positions[1:], positions[:-1]
    valid = (cur - before >= 0) & (cur + after <= n) & (prev - before - 2 >= 0) & (prev + after + 2 <= cur - before)
    shifts, gains = np.zeros(len(positions), np.int64), np.zeros(len(positions), np.int64)
    k = np.flatnonzero(valid)
    if not len(k):
        return shifts, gains
    compiled = kernels.ltp_fit(o, cur[k], prev[k], before, width, SHIFTS, MAX_GAIN)
    if compiled is not None:
        shifts[k + 1], gains[k + 1] = compiled
        return shifts, gains
    v = o.astype(np.float64)
    target = v[(cur[k] - before)[:, None] + np.arange(width)]
    best = np.full(len(k), np.inf)
    for shift in SHIFTS:
        ref = v[(prev[k] - before + shift)[:, None] + np.arange(width)]
        g = np.clip(np.rint(8 * (target * ref).sum(1) / np.maximum((ref * ref).sum(1), 1.0)), 0, MAX_GAIN)
        err = ((target - g[:, None] * ref / 8) ** 2).sum(1)
        better = err < best
        best[better], shifts[k[better] + 1], gains[k[better] + 1] = err[better], shift, g[better]
    return shifts, gains
