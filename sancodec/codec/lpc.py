"""Integer linear prediction (LPC) for lossless frames, bit-exact and decodable in batches.

The polynomial predictors of the residual stage are blind to a signal's spectrum; an
order-p linear predictor (as in FLAC) is not, and wins on oversampled or narrow-band
records. Decoding LPC is a recursion over samples, so the frame is cut into segments
of ``SEGMENT`` samples that restart the predictor: every segment of every channel and
frame of a file is one lane, and the synthesis loop runs over the positions of one
segment for all lanes at once (a few thousand vectorised steps per file, not one per
sample). Inside a segment, position 0 is predicted by 0, positions 1..p-1 by the
previous sample, and the rest by ``(sum_k c_k v[t-k] + 2^(shift-1)) >> shift``, where
``v = u - bias``. Integer arithmetic only, so the bitstream is the same everywhere.
Format 1.8 adds filters that run over the whole block (``LpcFilter.whole``): each restart leaves a
spike the adaptive stages after it stumble on, and the compiled synthesis is sequential per block
anyway; the numpy reference then runs one lane per block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.errors import SanFormatError
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["SEGMENT", "LpcFilter", "analyse", "levinson", "residual", "synthesize"]

SEGMENT = 4096
ORDERS = (4, 8, 16, 32)
MAX_ORDER = 32
MAX_SHIFT = 20
MAX_COEF = 1 << 20
MAX_ABS_VALUE = 1 << 38  # what synthesis may hold: 32 * 2**20 * 2**38 < 2**63
COEF_BITS = 14  # precision aimed for: the largest coefficient gets about this many bits


@dataclass(frozen=True)
class LpcFilter:
    """Quantised predictor: ``coefs[k-1]`` multiplies ``v[t-k]``; ``bias`` is the DC removed first."""

    coefs: tuple[int, ...]
    shift: int
    bias: int
    whole: bool = False  # the predictor runs over the whole block, no restarts (format 1.8; the block's coding says)

    @property
    def segment(self) -> int | None:
        """Samples between restarts (None: none)."""
        return None if self.whole else SEGMENT

    @property
    def order(self) -> int:
        return len(self.coefs)

    def write(self, w: ByteWriter) -> None:
        w.varint(self.order)
        w.varint(self.shift)
        w.svarint(self.bias)
        for c in self.coefs:
            w.svarint(c)

    @classmethod
    def read(cls, r: ByteReader) -> LpcFilter:
        order = r.varint(MAX_ORDER)
        if order < 1:
            raise SanFormatError("LPC: order must be >= 1")
        shift = r.varint(MAX_SHIFT)
        bias = r.svarint(MAX_ABS_SAMPLE)
        coefs = tuple(r.svarint() for _ in range(order))
        if any(abs(c) > MAX_COEF for c in coefs):
            raise SanFormatError(f"LPC: a coefficient exceeds {MAX_COEF}")
        return cls(coefs, shift, bias)


@lru_cache(maxsize=8)
def _window(n: int) -> np.ndarray:
    return np.hanning(n + 2)[1:-1]


def _autocorrelation(v: np.ndarray, order: int) -> np.ndarray:
    y = v * _window(len(v))
    full = kernels.autocorrelation(y, order)  # direct sums in sample order: the same bits everywhere
    lag = np.exp(-0.5 * (2 * np.pi * 0.001 * np.arange(order + 1)) ** 2)  # lag window: smooths the spectrum
    r = full * lag
    r[0] *= 1 + 1e-6  # white-noise correction keeps the normal equations well conditioned
    return r


def levinson(r: np.ndarray, order: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Predictors a_1..a_p (v[t] ~ sum_k a_k v[t-k]) of every order 1..``order`` and their
    prediction-error powers (Levinson-Durbin, one pass): in one compiled call where built (the same bits; its
    32 steps of small numpy operations were a fifth of a short channel's lossy encode)."""
    compiled = kernels.levinson(r, order)
    if compiled is not None:
        rows, errors = compiled
        return [rows[p, : p + 1] for p in range(order)], errors
    a = np.zeros(order)
    err = r[0]
    coefs, errors = [], np.full(order, r[0])
    for i in range(order):
        if err <= 0:
            break
        k = (r[i + 1] - a[:i] @ r[i:0:-1]) / err
        a[:i] = a[:i] - k * a[:i][::-1]
        a[i] = k
        err *= 1 - k * k
        coefs.append(a[: i + 1].copy())
        errors[i] = err
    while len(coefs) < order:
        coefs.append(np.concatenate([coefs[-1], [0.0]]) if coefs else np.zeros(1))
    return coefs, errors


def _quantise(a: np.ndarray, bias: int) -> LpcFilter:
    peak = float(np.abs(a).max()) or 1.0
    shift = int(np.clip(COEF_BITS - 1 - np.floor(np.log2(peak)), 0, MAX_SHIFT))
    q = np.clip(np.rint(a * (1 << shift)), -MAX_COEF, MAX_COEF).astype(np.int64)
    return LpcFilter(tuple(int(c) for c in q), shift, bias)


def _energy(vi: np.ndarray, v: np.ndarray) -> float:
    """``v @ v`` of the integers ``vi`` (``v`` as float64). When every partial sum is an exact
    integer below 2**53 the sum is the same in any order, so integer numpy computes it: BLAS
    would thread this long dot product, and OpenBLAS's spinning threads then steal the cores
    that code other frames."""
    peak = int(np.abs(vi).max(initial=0))
    if peak * peak * len(vi) < 1 << 53:
        return float(np.dot(vi, vi))
    return float(v @ v)


def analyse(u: np.ndarray) -> tuple[LpcFilter, float] | None:
    """The filter for ``u`` among ``ORDERS`` with the lowest estimated cost, and its
    predicted residual RMS (from Levinson-Durbin's error power); None if ``u`` is too short."""
    orders = [p for p in ORDERS if 4 * p <= min(len(u), SEGMENT)]
    if not orders:
        return None
    bias = int(np.rint(u.mean()))
    v = (u - bias).astype(np.float64)
    r = _autocorrelation(v, max(orders))
    if r[0] <= 0:
        return None
    coefs, errors = levinson(r, max(orders))
    power = np.maximum(errors / r[0] * _energy(u.astype(np.int64) - bias, v) / len(v), 1e-12)
    # Gaussian estimate: n/2 log2(error power) data bits + 16 bits per coefficient.
    cost = {p: 0.5 * len(u) * np.log2(power[p - 1]) + 16 * p for p in orders}
    best = min(orders, key=cost.__getitem__)
    return _quantise(coefs[best - 1], bias), float(np.sqrt(power[best - 1]))


def residual(u: np.ndarray, f: LpcFilter) -> np.ndarray:
    """Open-loop residual of ``u`` under ``f`` (vectorised; exact inverse of :func:`synthesize`)."""
    segment = f.segment or max(len(u), 1)
    compiled = kernels.lpc_residual(u, f.coefs, f.shift, f.bias, segment)
    if compiled is not None:
        return compiled
    v = u.astype(np.int64) - f.bias
    n, p = len(v), f.order
    acc = np.convolve(v, np.asarray((0, *f.coefs), dtype=np.int64))[:n]  # integer, exact
    pred = (acc + ((1 << f.shift) >> 1)) >> f.shift
    t = np.arange(n) % segment
    prev = np.concatenate([[0], v[:-1]])
    pred = np.where(t == 0, 0, np.where(t < p, prev, pred))
    return v - pred


def synthesize(jobs: Sequence[tuple[np.ndarray, LpcFilter]]) -> list[np.ndarray]:
    """Invert :func:`residual` for many (residual, filter) pairs at once; returns each ``u``."""
    if kernels.COMPILED:
        return [kernels.lpc_synthesize(e, f.coefs, f.shift, f.bias, f.segment or max(len(e), 1), MAX_ABS_VALUE)
                for e, f in jobs]
    out: list[np.ndarray | None] = [None] * len(jobs)
    # Restarting filters in lanes of SEGMENT samples; whole blocks one lane each, batched with blocks of
    # their own length only (padding a short block to a long one could cost far more memory than the file
    # justifies).
    groups: dict[int | None, list[int]] = {}
    for i, (e, f) in enumerate(jobs):
        groups.setdefault(len(e) if f.whole else None, []).append(i)
    for length, picked in groups.items():
        batch = [jobs[i] for i in picked]
        for i, u in zip(picked, _synthesize_lanes(batch, SEGMENT if length is None else max(length, 1))):
            out[i] = u
    return out  # type: ignore[return-value]


def _synthesize_lanes(jobs: Sequence[tuple[np.ndarray, LpcFilter]], segment: int) -> list[np.ndarray]:
    """:func:`synthesize` in numpy: every ``segment`` samples of every job is a lane, and the recursion
    runs over the positions of a segment for all lanes at once."""
    lanes_of = [-(-len(e) // segment) for e, _ in jobs]
    n_lanes = sum(lanes_of)
    width = max(f.order for _, f in jobs)
    steps = min(segment, max(len(e) for e, _ in jobs))  # short frames: no lane needs a full segment
    e = np.zeros((n_lanes, segment), dtype=np.int64)
    coefs = np.zeros((n_lanes, width), dtype=np.int64)  # column j multiplies v[t - width + j]
    shift = np.zeros(n_lanes, dtype=np.int64)
    order = np.zeros(n_lanes, dtype=np.int64)
    valid = np.zeros(n_lanes, dtype=np.int64)  # real samples in each lane; the rest is padding
    lane = 0
    for (res, f), count in zip(jobs, lanes_of):
        valid[lane : lane + count] = np.minimum(segment, len(res) - segment * np.arange(count))
        padded = np.zeros(count * segment, dtype=np.int64)
        padded[: len(res)] = res
        e[lane : lane + count] = padded.reshape(count, segment)
        coefs[lane : lane + count, width - f.order :] = np.asarray(f.coefs[::-1], dtype=np.int64)
        shift[lane : lane + count] = f.shift
        order[lane : lane + count] = f.order
        lane += count
    half = (1 << shift) >> 1
    v = np.zeros((n_lanes, width + segment), dtype=np.int64)  # `width` zero columns of history first
    et = np.ascontiguousarray(e.T)
    if np.abs(e).max(initial=0) > MAX_ABS_VALUE:
        raise SanFormatError("LPC: residual values too large")
    for t in range(steps):
        if t == 0:
            pred = np.zeros(n_lanes, dtype=np.int64)
        else:
            full = (np.einsum("ij,ij->i", coefs, v[:, t : t + width]) + half) >> shift
            pred = np.where(t < order, v[:, width + t - 1], full)
        v[:, width + t] = np.where(t < valid, et[t] + pred, 0)  # padding stays 0: it cannot grow
        # |v| <= 2**38 keeps every later sum of 32 coefficients (|c| <= 2**20) times v within int64.
        if np.abs(v[:, width + t]).max() > MAX_ABS_VALUE:
            raise SanFormatError("LPC: the synthesis leaves the range where its integers are exact (hostile filter)")
    out, lane = [], 0
    for (res, f), count in zip(jobs, lanes_of):
        out.append(v[lane : lane + count, width:].reshape(-1)[: len(res)] + f.bias)
        lane += count
    return out
