"""Long-term (beat-to-beat) prediction of exact residuals, format 1.4: what LPC and LMS cannot see.

An ECG residual keeps a burst at every QRS complex, and each burst resembles the one a beat
earlier. The encoder finds the beat period ``P`` (the autocorrelation peak of ``|o|`` summed over
blocks of 4 (their maxima), picks one position per beat (greedy peaks at least ``0.6 P`` apart, windows of
``P / 20`` before and ``P / 10`` after), and predicts the
window ``[p_k - before, p_k + after)`` of beat ``k`` from the same window of beat ``k - 1``,
shifted by ``s_k`` in -2..2 and scaled by ``g_k / 8`` (0..15, 0: not predicted):
``o2[t] = o[t] - ((g_k · o[t - p_k + p_{k-1} + s_k] + 4) >> 3)``. Every reference window ends
before its beat's window starts, so the decoder restores the windows in order (``kernels.ltp_inverse``).
Side information per beat: position gap, shift, gain. Kept only where the block gets 1 % smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.kernels import ltp_inverse
from sancodec.errors import SanFormatError
from sancodec.san.sparse import peaks

__all__ = ["LongTerm", "find_long_term", "read_long_term"]

MAX_WINDOW = 1 << 16
MAX_GAIN = 15
SHIFTS = range(-2, 3)
MIN_LENGTH = 2048  # shorter residuals hold too few beats to pay for the side information
LIMIT = 1 << 40  # a reader refuses restored values beyond this (as the LMS stage)


@dataclass(frozen=True)
class LongTerm:
    """Beat positions (increasing), per-beat shifts (-2..2) and gains (0..15, in eighths), windows."""

    positions: np.ndarray
    shifts: np.ndarray
    gains: np.ndarray
    before: int
    after: int

    def predicted(self, o: np.ndarray) -> np.ndarray:
        """``o2`` for the residual ``o`` (the encoder: every reference is known, so one vector pass)."""
        keep = np.flatnonzero(self.gains[1:]) + 1
        width = self.before + self.after
        at = (self.positions[keep] - self.before)[:, None] + np.arange(width)
        ref = (self.positions[keep - 1] - self.before + self.shifts[keep])[:, None] + np.arange(width)
        out = o.copy()
        out[at] -= (self.gains[keep][:, None] * o[ref] + 4) >> 3
        return out

    def write(self, w: ByteWriter) -> None:
        w.varint(self.before)
        w.varint(self.after)
        w.varint(len(self.positions))
        block = encode_arrays([np.diff(self.positions, prepend=0), self.shifts + 2, self.gains], [False] * 3)
        w.varint(len(block))
        w.raw(block)

    def restore(self, o2: np.ndarray) -> np.ndarray:
        """The residual ``o`` whose prediction left ``o2`` (the decoder: beat after beat)."""
        return ltp_inverse(o2, self.positions, self.shifts, self.gains, self.before, self.after, LIMIT)


def read_long_term(r: ByteReader, length: int) -> LongTerm:
    """Read and validate the side information: windows inside the block, every reference window
    ending before its beat's window starts."""
    before, after = r.varint(MAX_WINDOW), r.varint(MAX_WINDOW)
    count = r.varint(length)
    gaps, shifts, gains = decode_arrays(r.raw(r.varint(r.remaining())), [count] * 3, [False] * 3)
    positions, shifts = np.cumsum(gaps), shifts - 2
    if before + after < 1 or (count and (gaps[0] < 0 or gaps[1:].min(initial=1) < 1 or positions[-1] >= length)):
        raise SanFormatError("frame: long-term beat positions are not increasing inside the block")
    if count and (shifts.min() < -2 or shifts.max() > 2 or gains.min() < 0 or gains.max() > MAX_GAIN):
        raise SanFormatError("frame: long-term shift or gain out of range")
    keep = np.flatnonzero(gains[1:]) + 1
    start, ref_start = positions[keep] - before, positions[keep - 1] - before + shifts[keep]
    if len(keep) and (start.min() < 0 or (positions[keep] + after).max() > length or ref_start.min() < 0
                      or (ref_start + before + after > start).any() or (start[1:] < start[:-1] + before + after).any()):
        raise SanFormatError("frame: a long-term window leaves the block or overlaps its reference")
    return LongTerm(positions.astype(np.int64), shifts.astype(np.int64), gains.astype(np.int64), before, after)


def _period(envelope: np.ndarray) -> int | None:
    """The beat period of ``envelope`` in its samples (16 .. len/4), or None without a clear one."""
    a = envelope - envelope.mean()
    n = len(a)
    spectrum = np.fft.rfft(a, 2 * n)
    r = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n)[:n]
    lo, hi = 16, min(1 << 12, n // 4)
    if r[0] <= 0 or hi <= lo:
        return None
    lag = lo + int(np.argmax(r[lo:hi]))
    return lag if r[lag] > 0.15 * r[0] else None


def find_long_term(o: np.ndarray) -> LongTerm | None:
    """Beats, shifts and gains for ``o`` fitted by least squares, or None when ``o`` shows no beat.
    The period and the beats are found on the maxima of ``|o|`` over blocks of 4 samples (a quarter of the
    work), each beat then placed on the largest ``|o|`` of its block."""
    if len(o) < MIN_LENGTH or np.abs(o).max(initial=0) > LIMIT // 16:
        return None
    blocks = np.abs(o[: len(o) // 4 * 4]).reshape(-1, 4)
    envelope = blocks.max(axis=1).astype(np.float64)
    period = _period(np.convolve(envelope, np.ones(2) / 2, mode="same"))
    if period is None:
        return None
    coarse = np.flatnonzero(peaks(envelope.astype(np.float32)[None, None], max(1, int(0.6 * period)))[0, 0])
    positions = (4 * coarse + np.argmax(blocks[coarse], axis=1)).astype(np.int64)
    before, after = max(1, period // 5), max(2, (4 * period) // 10)
    if len(positions) < 3:
        return None
    shifts, gains = _fit(o.astype(np.float64), positions, before, after)
    return LongTerm(positions, shifts, gains, before, after) if gains.any() else None


def _fit(v: np.ndarray, positions: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """Per beat the shift and gain (eighths) with the least squared error; gain 0 where the windows
    would leave the block or touch their reference."""
    n, width = len(v), before + after
    cur, prev = positions[1:], positions[:-1]
    valid = (cur - before >= 0) & (cur + after <= n) & (prev - before - 2 >= 0) & (prev + after + 2 <= cur - before)
    shifts, gains = np.zeros(len(positions), np.int64), np.zeros(len(positions), np.int64)
    k = np.flatnonzero(valid)
    if not len(k):
        return shifts, gains
    target = v[(cur[k] - before)[:, None] + np.arange(width)]
    best = np.full(len(k), np.inf)
    for shift in SHIFTS:
        ref = v[(prev[k] - before + shift)[:, None] + np.arange(width)]
        g = np.clip(np.rint(8 * (target * ref).sum(1) / np.maximum((ref * ref).sum(1), 1.0)), 0, MAX_GAIN)
        err = ((target - g[:, None] * ref / 8) ** 2).sum(1)
        better = err < best
        best[better], shifts[k[better] + 1], gains[k[better] + 1] = err[better], shift, g[better]
    return shifts, gains
