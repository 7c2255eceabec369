"""Where a kernel lands when an activation reconstructs it: the one placement rule.

The decoder is the adjoint of the encoder's cross-correlation (see ``spec.same_padding``):
an activation of amplitude ``a`` at ``t`` adds ``a * w[j]`` at ``t + j - before``. Every
reconstruction outside the convolution graphs (the codec's exact integer prediction, the
runtime's sparse decode) goes through :func:`scatter_kernels`; the graphs use
``spec.aligned_kernels``, which applies the same offsets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sancodec.san.spec import same_padding

__all__ = ["kernel_taps", "scatter_kernels"]


def kernel_taps(m: int) -> np.ndarray:
    """Offsets from an activation's position to each of the m kernel samples it places."""
    return np.arange(m) - same_padding(m)[0]


def scatter_kernels(
    shape: tuple[int, int],
    kernels: Sequence[np.ndarray],
    rows: Sequence[np.ndarray],
    positions: Sequence[np.ndarray],
    amplitudes: Sequence[np.ndarray],
) -> np.ndarray:
    """``(batch, n)`` float64 sum of every kernel placed at its activations.

    ``rows[k]``, ``positions[k]``, ``amplitudes[k]`` list kernel k's activations. O(A·m) work,
    one ``bincount`` per kernel; taps falling outside ``[0, n)`` are dropped. Integer-valued
    inputs give exact integer sums (every partial sum stays below 2**53 for valid files)."""
    batch, n = shape
    flat = np.zeros(batch * n, dtype=np.float64)
    for w, b, t, a in zip(kernels, rows, positions, amplitudes):
        if t.size == 0:
            continue
        idx = t[:, None] + kernel_taps(len(w))[None, :]
        ok = (idx >= 0) & (idx < n)
        weights = np.asarray(a, dtype=np.float64)[:, None] * np.asarray(w, dtype=np.float64)[None, :]
        flat += np.bincount((b[:, None] * n + idx)[ok], weights=weights[ok], minlength=batch * n)
    return flat.reshape(batch, n)
