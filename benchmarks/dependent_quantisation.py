"""Dependent (trellis-coded) quantisation as VVC does it, for ``bench_lossy_variants.py``: 4 states stepping by each
index's parity, Q0 (even multiples of the step) in states 0-1 and Q1 (odd multiples and 0) in states 2-3, the
indices chosen by a Viterbi search for the least cost: the squared error, plus (with ``lam``) ``lam`` step² per bit
the indices take by a table of bits per magnitude and quantiser (:func:`dq_rates`), as an encoder that trades error
for rate searches it. Needs numpy only (the tests import it)."""

from __future__ import annotations

import math

import numpy as np

DQ_NEXT = ((0, 2), (2, 0), (1, 3), (3, 1))  # dependent quantisation: the next state by the index's parity
RATE_SIZE = 64  # the rate tables' magnitudes: 0 .. RATE_SIZE - 1, larger ones priced as the last


def dq_levels(k: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The reconstruction, in steps, of indices ``k`` under quantiser Q0 (``2k``) or Q1 (``2k - sign(k)``)."""
    return 2 * k - np.where(second, np.sign(k), 0)


def dq_rates(k: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Bits per magnitude under each quantiser (rows Q0, Q1; :data:`RATE_SIZE` columns), an order-0 model of
    indices ``k`` chosen under quantisers ``second``: -log2 of each magnitude's share (a half count added to each),
    and a sign bit for a nonzero one."""
    magnitude = np.minimum(np.abs(k), RATE_SIZE - 1)
    rows = []
    for q in (False, True):
        counts = np.bincount(magnitude[second == q], minlength=RATE_SIZE) + 0.5
        rows.append(-np.log2(counts / counts.sum()) + (np.arange(RATE_SIZE) > 0))
    return np.array(rows)


def _candidates(u: np.ndarray, lam: float, rates: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per quantiser and parity, each value's cheapest index (``u``: the values in steps) and its cost: the nearest
    indices of that parity, and 0 (parity 0) where a rate is priced."""
    n = len(u)
    cost = np.full((2, 2, n), np.inf)
    index = np.zeros((2, 2, n), dtype=np.int64)
    for second in (0, 1):
        base = np.rint((u + second * np.sign(u)) / 2)
        tried = [base - 1, base, base + 1] + ([np.zeros(n)] if lam else [])
        for k in tried:
            miss = (u - dq_levels(k, np.full(n, bool(second)))) ** 2
            if lam and rates is not None:
                miss = miss + lam * rates[second][np.minimum(np.abs(k), RATE_SIZE - 1).astype(np.int64)]
            parity = (np.abs(k) % 2).astype(np.int64)
            for p in (0, 1):
                better = (parity == p) & (miss < cost[second, p])
                cost[second, p][better] = miss[better]
                index[second, p][better] = k[better]
    return cost, index


def dq_quantise(band: np.ndarray, step: float, lam: float = 0.0,
                rates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``band``'s indices under dependent quantisation at ``step`` and the quantiser (0 or 1) of each: the path
    through the 4-state trellis (from state 0) of the least squared error, plus ``lam`` (in squared steps) per bit
    of ``rates`` (:func:`dq_rates`; None with ``lam``: a generic table, 1 bit for 0 and 3 + 1.5 |k| bits else)."""
    u = band / step
    n = len(u)
    if lam and rates is None:
        generic = np.r_[1.0, 3.0 + 1.5 * np.arange(1, RATE_SIZE)]
        rates = np.array([generic, generic])
    cost_of, index = _candidates(u, lam, rates)
    preds = [[(s, p) for s in range(4) for p in (0, 1) if DQ_NEXT[s][p] == ns] for ns in range(4)]
    table = [[cost_of[s >> 1, p].tolist() for (s, p) in pr] for pr in preds]
    ways = [[s * 2 + p for (s, p) in pr] for pr in preds]
    cost = [0.0, math.inf, math.inf, math.inf]
    back: list[tuple[int, int, int, int]] = []
    (a0, b0), (a1, b1), (a2, b2), (a3, b3) = table
    (s0, r0), (s1, r1), (s2, r2), (s3, r3) = [[(s >> 1) for s in w] for w in ways]
    (w0, v0), (w1, v1), (w2, v2), (w3, v3) = ways
    for t in range(n):
        x0, y0 = cost[s0] + a0[t], cost[r0] + b0[t]
        x1, y1 = cost[s1] + a1[t], cost[r1] + b1[t]
        x2, y2 = cost[s2] + a2[t], cost[r2] + b2[t]
        x3, y3 = cost[s3] + a3[t], cost[r3] + b3[t]
        cost = [min(x0, y0), min(x1, y1), min(x2, y2), min(x3, y3)]
        back.append((v0 if y0 < x0 else w0, v1 if y1 < x1 else w1, v2 if y2 < x2 else w2, v3 if y3 < x3 else w3))
    state = int(np.argmin(cost))
    k, second = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for t in range(n - 1, -1, -1):
        way = back[t][state]
        state, parity = way >> 1, way & 1
        second[t] = state >> 1
        k[t] = index[state >> 1, parity, t]
    return k, second
