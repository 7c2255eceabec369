"""The CDF 9/7 wavelet (JPEG 2000's irreversible filter) as lifting steps, in float64 numpy.

Whole-sample symmetric extension at both ends, any length, ``levels`` dyadic levels; bands
are returned coarsest first (``[approximation, details_L, …, details_1]``). Every operation is
an elementwise IEEE add or multiply in a fixed order, so the inverse gives the same bits on
every platform: the targeted lossy coder's decoder is deterministic (golden files pin it). The compiled
kernels (``kernels.cdf97_forward``, ``cdf97_inverse``) run the same operations in the same order.
"""

from __future__ import annotations

import numpy as np

from sancodec.codec import kernels

__all__ = ["MAX_LEVELS", "band_lengths", "forward", "forward_flat", "inverse", "levels_for", "split_bands"]

ALPHA, BETA = -1.586134342059924, -0.052980118572961
GAMMA, DELTA = 0.882911075530934, 0.443506852043971
K = 1.230174104914001
MAX_LEVELS = 12


def _predict(d: np.ndarray, s: np.ndarray, c: float) -> np.ndarray:
    """``d[i] + c * (s[i] + s[i + 1])``, with ``s`` mirrored past its end."""
    n = len(d)
    right = s[1 : n + 1] if len(s) > n else np.concatenate([s[1:], s[-1:]])
    return d + c * (s[:n] + right)


def _update(s: np.ndarray, d: np.ndarray, c: float) -> np.ndarray:
    """``s[i] + c * (d[i - 1] + d[i])``, with ``d`` mirrored at both ends."""
    n = len(s)
    left = np.concatenate([d[:1], d[: n - 1]])
    right = d[:n] if len(d) >= n else np.concatenate([d, d[-1:]])
    return s + c * (left + right)


def _forward_level(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, d = x[0::2].astype(np.float64), x[1::2].astype(np.float64)
    d = _predict(d, s, ALPHA)
    s = _update(s, d, BETA)
    d = _predict(d, s, GAMMA)
    s = _update(s, d, DELTA)
    return s * K, d / K


def _inverse_level(s: np.ndarray, d: np.ndarray) -> np.ndarray:
    s, d = s / K, d * K
    s = _update(s, d, -DELTA)
    d = _predict(d, s, -GAMMA)
    s = _update(s, d, -BETA)
    d = _predict(d, s, -ALPHA)
    x = np.empty(len(s) + len(d))
    x[0::2], x[1::2] = s, d
    return x


def levels_for(n: int, wanted: int) -> int:
    """At most ``wanted`` levels, fewer for short signals (each band keeps at least 2 samples)."""
    levels = 0
    while levels < min(wanted, MAX_LEVELS) and n >= 4:
        n = (n + 1) // 2
        levels += 1
    return levels


def band_lengths(n: int, levels: int) -> list[int]:
    """Lengths of the bands of an ``n``-sample signal, coarsest first."""
    details = []
    for _ in range(levels):
        details.append(n // 2)
        n = (n + 1) // 2
    return [n] + details[::-1]


def forward(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """The bands of ``x`` (coarsest first)."""
    return split_bands(forward_flat(x, levels), levels)


def forward_flat(x: np.ndarray, levels: int) -> np.ndarray:
    """The bands of ``x`` concatenated coarsest first (:func:`split_bands` takes them apart)."""
    compiled = kernels.cdf97_forward(x, levels) if levels == levels_for(len(x), levels) else None
    if compiled is not None:
        return compiled
    details = []
    s = np.asarray(x, dtype=np.float64)
    for _ in range(levels):
        s, d = _forward_level(s)
        details.append(d)
    return np.concatenate([s] + details[::-1])


def split_bands(flat: np.ndarray, levels: int) -> list[np.ndarray]:
    """Bands concatenated coarsest first as a list of views, one per band."""
    return list(np.split(flat, np.cumsum(band_lengths(len(flat), levels))[:-1]))


def inverse(bands: list[np.ndarray]) -> np.ndarray:
    """Inverse of :func:`forward`."""
    levels, n = len(bands) - 1, sum(map(len, bands))
    if [len(b) for b in bands] == band_lengths(n, levels) and levels == levels_for(n, levels):
        compiled = kernels.cdf97_inverse(np.concatenate(bands).astype(np.float64, copy=False), levels)
        if compiled is not None:
            return compiled
    s = bands[0]
    for d in bands[1:]:
        s = _inverse_level(s, d)
    return s
