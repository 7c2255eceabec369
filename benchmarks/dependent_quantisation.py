"""Dependent (trellis-coded) quantisation as VVC does it, for ``bench_lossy_variants.py``: 4 states stepping by each
index's parity, Q0 (even multiples of the step) in states 0-1 and Q1 (odd multiples and 0) in states 2-3, the
indices chosen by a Viterbi search for the least squared error. Needs numpy only (the tests import it)."""

from __future__ import annotations

import math

import numpy as np

DQ_NEXT = ((0, 2), (2, 0), (1, 3), (3, 1))  # dependent quantisation: the next state by the index's parity


def dq_levels(k: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The reconstruction, in steps, of indices ``k`` under quantiser Q0 (``2k``) or Q1 (``2k - sign(k)``)."""
    return 2 * k - np.where(second, np.sign(k), 0)


def dq_quantise(band: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """``band``'s indices under dependent quantisation at ``step`` and the quantiser (0 or 1) of each: the path
    through the 4-state trellis (from state 0) of the least squared error (Viterbi)."""
    u = band / step
    n = len(u)
    at = np.arange(n)
    error, index = {}, {}
    for second in (0, 1):  # the nearest index of each parity under each quantiser
        base = np.rint((u + second * np.sign(u)) / 2)
        candidates = np.stack([base - 1, base, base + 1])
        miss = (u - dq_levels(candidates, np.full(candidates.shape, bool(second)))) ** 2
        for parity in (0, 1):
            masked = np.where(np.abs(candidates) % 2 == parity, miss, np.inf)
            best = masked.argmin(axis=0)
            error[second, parity] = masked[best, at].tolist()
            index[second, parity] = candidates[best, at].astype(np.int64)
    preds = [[(s, p) for s in range(4) for p in (0, 1) if DQ_NEXT[s][p] == ns] for ns in range(4)]
    cost = [0.0, math.inf, math.inf, math.inf]
    back = np.zeros((n, 4), dtype=np.int8)
    taken = np.zeros((n, 4), dtype=np.int8)  # the parity taken into each state
    for t in range(n):
        new = []
        for ns, ((s1, p1), (s2, p2)) in enumerate(preds):
            a, b = cost[s1] + error[s1 >> 1, p1][t], cost[s2] + error[s2 >> 1, p2][t]
            if b < a:
                new.append(b)
                back[t, ns], taken[t, ns] = s2, p2
            else:
                new.append(a)
                back[t, ns], taken[t, ns] = s1, p1
        cost = new
    state = int(np.argmin(cost))
    k, second = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for t in range(n - 1, -1, -1):
        parity, state = int(taken[t, state]), int(back[t, state])
        second[t] = state >> 1
        k[t] = index[state >> 1, parity][t]
    return k, second
