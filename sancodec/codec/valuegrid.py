"""The grid a channel's integer samples sit on: the greatest common divisor of their distances from one of them.

A raw frame codes its samples on that grid (``frames.RawCoding``), a value table weighs the values it leaves empty
(``valuetable``), and the lossy time-domain coding rounds to multiples of it (``timedomain``). Most channels' grid
is 1, which the first few thousand samples already show: their divisor is taken first, and the rest of the channel
only where it is not 1 (the same divisor: a gcd of a part divides the whole's), not a pass over every sample for a
divisor a few hundred showed (a tenth of a millisecond or more a long channel, every lossless frame and lossy
time-domain coding).
"""

from __future__ import annotations

import numpy as np

__all__ = ["HEAD", "value_grid"]

HEAD = 1 << 12  # samples whose divisor is taken first


def value_grid(x: np.ndarray, x0: int) -> int:
    """``np.gcd.reduce(np.abs(x - x0))`` of integer samples ``x``: 0 where every sample is ``x0`` (or there are
    none), else the largest integer dividing every sample's distance from ``x0``."""
    g = int(np.gcd.reduce(np.abs(x[:HEAD] - x0)))
    if g == 1 or len(x) <= HEAD:
        return g
    return int(np.gcd(g, np.gcd.reduce(np.abs(x[HEAD:] - x0))))
