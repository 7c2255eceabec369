"""A cheap estimate of the PRDN a wavelet coding decodes to at a quantiser step, for the rate control of
``--effort fast`` and ``balanced`` (``stepsearch.modelled_step``).

The CDF 9/7 synthesis is nearly orthogonal: the decoded error's energy is close to the quantisation errors'
energy in each band times that band's synthesis gain (the squared norm of its basis functions). A coefficient
in the dead zone (``|c| < (1 - rounding) Δ``) leaves its whole ``c²``; one past it an error spread over its cell,
on average :func:`cell_error` ``Δ²`` (smooth in the step, where the exact error is a sawtooth). Over a fixed
sample of the coefficients (every one of a short band, every k-th of a long one, about :data:`SAMPLE` in all),
each band's sorted once, an estimate is a binary search per band. It is off by a few percent (the rounding of
the decoded samples, the basis functions' overlap, the sample), but by a factor that drifts slowly with the
step, so a decode nearby calibrates it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.wavelet import band_lengths, inverse, split_bands

__all__ = ["SAMPLE", "ErrorModel", "cell_error", "synthesis_gains"]

SAMPLE = 1 << 15  # coefficients the estimate sums over, about (every one where a channel has fewer)
MIN_PER_BAND = 64  # ... and at least this many of each band, or all of it
GAIN_LENGTH = 1 << 12  # the synthesis gains are measured on a signal this long (longer for many levels: its
# coarsest band keeps 16 coefficients)


@cache
def synthesis_gains(levels: int) -> tuple[float, ...]:
    """Each band's synthesis gain for a transform of ``levels`` levels (coarsest first): the energy of the
    signal that a unit coefficient in the band's middle decodes to."""
    length = max(GAIN_LENGTH, 16 << levels)
    edges = np.cumsum([0, *band_lengths(length, levels)])
    gains = []
    for a, b in zip(edges, edges[1:]):
        unit = np.zeros(length)
        unit[(a + b) // 2] = 1.0
        rebuilt = kernels.cdf97_inverse(unit, levels)
        if rebuilt is None:  # without the C kernels: the numpy transform
            rebuilt = inverse(split_bands(unit, levels))
        gains.append(float(rebuilt @ rebuilt))
    return tuple(gains)


def cell_error(rounding: float) -> float:
    """The mean squared error, in units of ``Δ²``, of a coefficient spread evenly over a dead-zone cell
    ``[(q - rounding) Δ, (q + 1 - rounding) Δ)`` rebuilt at ``q Δ`` (the cell's centre at ``RHO16 = 8``)."""
    return ((1 - rounding) ** 3 + rounding**3) / 3


class ErrorModel:
    """The PRDN estimate of frames' wavelet bands (``flat``: each frame's bands concatenated coarsest first, at
    ``levels``) quantised by the dead zone ``rounding`` at a step: 100 √(Σ gain · error²) / ``spread``."""

    def __init__(self, flat: Sequence[np.ndarray], levels: Sequence[int], rounding: float, spread: float) -> None:
        total = sum(len(f) for f in flat)
        stride = max(1, total // SAMPLE)
        picked: dict[float, list[np.ndarray]] = {}  # by weight (gain times stride): bands alike are pooled
        for f, lv in zip(flat, levels):
            edges = np.cumsum([0, *band_lengths(len(f), lv)])
            for (a, b), gain in zip(zip(edges, edges[1:]), synthesis_gains(lv)):
                every = min(stride, max(1, (b - a) // MIN_PER_BAND))
                picked.setdefault(gain * every, []).append(np.abs(f[a:b:every]))
        self.pools = []  # (weight, |c| sorted, Σ c² of the i smallest for each i)
        for weight, parts in picked.items():
            values = np.sort(np.concatenate(parts))
            self.pools.append((weight, values, np.concatenate([[0.0], np.cumsum(values * values)])))
        self.dead_zone = 1 - rounding
        self.cell = cell_error(rounding)
        self.spread = spread

    def __call__(self, step: float) -> float:
        """The estimated PRDN (percent) at ``step`` (> 0); inf where the channel has no spread."""
        energy = 0.0
        for weight, values, squares in self.pools:
            i = int(np.searchsorted(values, self.dead_zone * step))  # those below quantise to 0
            energy += weight * (float(squares[i]) + (len(values) - i) * self.cell * step * step)
        if not self.spread > 0:
            return 0.0 if energy == 0 else math.inf
        return 100.0 * math.sqrt(energy) / self.spread
