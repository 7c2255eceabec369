"""Plain sequential reference implementations of the sparse activations (numpy).

These follow docs/PAPER.md word for word, one example and one kernel at a time. They
are slow on purpose: they are the specification that the vectorised torch
versions in :mod:`sancodec.train.activations` are tested against. No torch here.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "max_activations_ref",
    "max_pool_indices_ref",
    "peak_candidates_ref",
    "peaks_ref",
]


def max_activations_ref(s: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest values of a 1-D or 2-D map (ties: lower row-major index)."""
    flat = s.ravel()
    k = max(1, min(int(k), flat.size))
    order = sorted(range(flat.size), key=lambda i: (-flat[i], i))[:k]
    out = np.zeros_like(flat)
    out[order] = flat[order]
    return out.reshape(s.shape)


def max_pool_indices_ref(s: np.ndarray, m: int) -> np.ndarray:
    """Windows of m (m x m) with stride m, partial last windows included; keep first argmax."""
    out = np.zeros_like(s)
    if s.ndim == 1:
        for start in range(0, s.shape[0], m):
            window = s[start : start + m]
            best = int(np.argmax(window))
            out[start + best] = window[best]
        return out
    for r0 in range(0, s.shape[0], m):
        for c0 in range(0, s.shape[1], m):
            window = s[r0 : r0 + m, c0 : c0 + m]
            r, c = np.unravel_index(int(np.argmax(window)), window.shape)
            out[r0 + r, c0 + c] = window[r, c]
    return out


def peak_candidates_ref(s: np.ndarray) -> list[int] | list[tuple[int, int]]:
    """Candidate positions: positive strict local maxima (see sancodec.train.activations)."""
    if s.ndim == 1:
        n = s.shape[0]
        found: list[int] = []
        for i in range(n):
            left = s[i - 1] if i > 0 else 0.0
            if not (s[i] > 0 and s[i] > left):
                continue
            j = i + 1
            while j < n and s[j] == s[i]:
                j += 1
            after = s[j] if j < n else 0.0
            if after < s[i]:
                found.append(i)
        return found
    h, w = s.shape
    found2: list[tuple[int, int]] = []
    for r in range(h):
        for c in range(w):
            v = s[r, c]
            if v <= 0:
                continue
            ok = True
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if dr == 0 and dc == 0:
                        continue
                    rr, cc = r + dr, c + dc
                    nb = s[rr, cc] if 0 <= rr < h and 0 <= cc < w else 0.0
                    if not v > nb:
                        ok = False
            if ok:
                found2.append((r, c))
    return found2


def peaks_ref(s: np.ndarray, mpd: int) -> np.ndarray:
    """Sequential greedy Peaks: visit candidates by amplitude (ties: lower index), keep a
    candidate unless a kept peak lies within distance <= mpd (Chebyshev in 2-D)."""
    candidates = peak_candidates_ref(s)
    if s.ndim == 1:
        order = sorted(candidates, key=lambda i: (-s[i], i))
        kept: list = []
        for i in order:
            if all(abs(i - j) > mpd for j in kept):
                kept.append(i)
    else:
        w = s.shape[1]
        pairs: list[tuple[int, int]] = candidates  # type: ignore[assignment]  # (2-D: (row, column) pairs)
        by_height = sorted(pairs, key=lambda rc: (-s[rc], rc[0] * w + rc[1]))
        kept2: list[tuple[int, int]] = []
        for r, c in by_height:
            if all(max(abs(r - r2), abs(c - c2)) > mpd for r2, c2 in kept2):
                kept2.append((r, c))
        kept = list(kept2)
    out = np.zeros_like(s)
    for pos in kept:
        out[pos] = s[pos]
    return out
