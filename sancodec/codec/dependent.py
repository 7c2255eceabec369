"""Dependent (trellis-coded) quantisation of a lossy wavelet frame's detail bands (format 1.12, path 3 predictor bit 7).

A scalar quantiser leaves some of the error a quantiser of the same rate could avoid: at a high rate an
entropy-coded uniform quantiser is 0.25 bit a value from the rate-distortion bound on memoryless noise, the noise a
1000 Hz ECG's upper bands hold. Dependent quantisation (as VVC codes it) takes part of that back: two quantisers,
Q0 (even multiples of the step) and Q1 (odd multiples and 0), and four states that step by each index's parity
(:data:`NEXT`), states 0-1 using Q0 and 2-3 Q1. The decoder follows the state from each band's first value and
rebuilds an index ``q`` as the level ``2q`` (Q0) or ``2q - sign(q)`` (Q1), then as a scalar frame's value of that
level (:func:`levels`). The encoder picks each band's indices by a Viterbi search for the least squared error plus
``λ`` squared steps per bit of an order-0 rate table (:func:`quantise`, :func:`rates`), and a step search meets
the target with them (``dependentframe.coding``). The indices are coded as a scalar frame's are (bands apart or in
one adaptive stream, band prediction included); the approximation band keeps the scalar quantiser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sancodec.codec import kernels
from sancodec.errors import SanFormatError

__all__ = ["GENERIC", "LAMBDA", "MAX_INDEX", "NEXT", "RATE_SIZE", "levels", "levels_in_place", "quantise", "rates"]

NEXT = ((0, 2), (2, 0), (1, 3), (3, 1))  # the next state by the index's parity
RATE_SIZE = 64  # the rate tables' magnitudes: 0 .. RATE_SIZE - 1, larger ones priced as the last
LAMBDA = 0.15  # squared steps a bit: the trellis's price of rate against error (0.1-0.2 code alike)
MAX_INDEX = 1 << 60  # |index| a decoder accepts: its level 2q stays within int64


def levels(q: np.ndarray) -> np.ndarray:
    """The levels of one band's indices ``q`` (int64), read from state 0: ``2q`` where the state uses Q0, ``2q -
    sign(q)`` where it uses Q1; in one compiled call where built (the same values), else a value at a time."""
    q = np.ascontiguousarray(q, dtype=np.int64)
    out = np.empty_like(q)
    if kernels.dq_levels(q, out):
        return out
    state = 0
    values = q.tolist()
    for t, k in enumerate(values):
        out[t] = 2 * k - ((k > 0) - (k < 0) if state >> 1 else 0)
        state = NEXT[state][abs(k) & 1]
    return out


def levels_in_place(flat: np.ndarray, lengths: Sequence[int]) -> None:
    """A decoded frame's detail bands (all but the first of ``lengths``, end to end in ``flat``) turned from indices
    into levels, in place; a :class:`SanFormatError` where an index reaches :data:`MAX_INDEX`."""
    start = lengths[0]
    detail = flat[start:]
    if len(detail) and (int(detail.max()) >= MAX_INDEX or int(detail.min()) <= -MAX_INDEX):
        raise SanFormatError("frame: a dependently quantised wavelet index too large")
    for n in lengths[1:]:
        band = flat[start : start + n]
        band[:] = levels(band)
        start += n


def rates(q: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Bits per magnitude under each quantiser (rows Q0, Q1; :data:`RATE_SIZE` columns), an order-0 model of the
    indices ``q`` chosen under quantisers ``second``: -log2 of each magnitude's share (half a count added to each),
    and a sign bit for a nonzero one."""
    magnitude = np.minimum(np.abs(q), RATE_SIZE - 1)
    slot = magnitude + RATE_SIZE * np.asarray(second, dtype=np.int64)  # both quantisers' counts in one pass
    both = np.bincount(slot, minlength=2 * RATE_SIZE).reshape(2, RATE_SIZE) + 0.5
    rows = [-np.log2(counts / counts.sum()) + (np.arange(RATE_SIZE) > 0) for counts in both]
    return np.array(rows)


GENERIC = np.array([np.r_[1.0, 3.0 + 1.5 * np.arange(1, RATE_SIZE)]] * 2)  # rates before any were counted


def quantise(u: np.ndarray, lam: float = 0.0, table: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The indices of values ``u`` (in steps) on the trellis path from state 0 of the least squared error plus
    ``lam`` squared steps per bit of ``table`` (:func:`rates`; :data:`GENERIC` where None), and each value's
    quantiser (True: Q1). Compiled where built; the reference below weighs the same candidates in the same order
    (a value's nearest indices of either parity under each quantiser, and 0 where rate is priced), so both give the
    same path."""
    table = GENERIC if table is None else table
    compiled = kernels.dq_quantise(u, lam, table)
    if compiled is not None:
        return compiled
    return _reference_quantise(np.asarray(u, dtype=np.float64), lam, table)


def _reference_quantise(u: np.ndarray, lam: float, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantise` in numpy and Python: the candidates vectorised, the Viterbi search a value at a time."""
    n = len(u)
    cost_of = np.full((2, 2, n), np.inf)
    index = np.zeros((2, 2, n), dtype=np.int64)
    for second in (0, 1):
        base = np.rint((u + second * np.sign(u)) / 2)
        tried = [base - 1, base, base + 1] + ([np.zeros(n)] if lam > 0 else [])
        for k in tried:
            miss = (u - (2 * k - (np.sign(k) if second else 0))) ** 2
            if lam > 0:
                miss = miss + lam * table[second][np.minimum(np.abs(k), RATE_SIZE - 1).astype(np.int64)]
            parity = (np.abs(k) % 2).astype(np.int64)
            for p in (0, 1):
                better = (parity == p) & (miss < cost_of[second, p])
                cost_of[second, p][better] = miss[better]
                index[second, p][better] = k[better]
    preds = [[(s, p) for s in range(4) for p in (0, 1) if NEXT[s][p] == ns] for ns in range(4)]
    costs = [[cost_of[s >> 1, p].tolist() for s, p in pr] for pr in preds]
    cost = [0.0, math.inf, math.inf, math.inf]
    back: list[list[int]] = []
    for t in range(n):
        new, ways = [], []
        for ns, ((s1, p1), (s2, p2)) in enumerate(preds):
            a, b = cost[s1] + costs[ns][0][t], cost[s2] + costs[ns][1][t]
            new.append(b if b < a else a)
            ways.append(2 * s2 + p2 if b < a else 2 * s1 + p1)
        cost = new
        back.append(ways)
    state = int(np.argmin(cost))
    q, chosen = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for t in range(n - 1, -1, -1):
        way = back[t][state]
        state, parity = way >> 1, way & 1
        chosen[t] = state >> 1
        q[t] = index[state >> 1, parity, t]
    return q, chosen
