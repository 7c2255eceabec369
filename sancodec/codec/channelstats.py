"""A lossy channel's spread (``metrics.spread_of``) and standard deviation (from the spread), worked out once per
channel: the rate controls, the first step and the time-domain grids of one channel's encode each asked for them
again, a pass over the whole channel every time (a few milliseconds over bench_lossy's signals).

Kept by the reference array's identity while it lives (a weak reference: the entry goes with the array), so a
channel's samples must not change between calls, which no encoder does: the reference is what every decode is
measured against. The spread is the float ``metrics.spread_of`` gives, computed the same way.
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np

from sancodec.metrics import spread_of

__all__ = ["channel_spread", "channel_std", "mark_not_integral", "not_integral"]

_LOCK = threading.Lock()
_KEPT: dict[int, dict[str, float]] = {}  # id(ref) -> what was worked out for it, while ref lives


def _entry(ref: np.ndarray) -> dict[str, float]:
    key = id(ref)
    with _LOCK:
        entry = _KEPT.get(key)
        if entry is None:
            entry = _KEPT[key] = {}
            weakref.finalize(ref, _KEPT.pop, key, None)
    return entry


def channel_spread(ref: np.ndarray) -> float:
    """``metrics.spread_of(ref)`` (``||ref - mean(ref)||``), remembered for ``ref`` while it lives."""
    entry = _entry(ref)
    if "spread" not in entry:
        entry["spread"] = spread_of(ref)
    return entry["spread"]


def channel_std(ref: np.ndarray) -> float:
    """``ref``'s standard deviation, ``np.std(ref)`` to within an ulp or two (0 for no values): its spread over the
    square root of its count, from :func:`channel_spread`, which every lossy channel works out anyway. ``np.std``'s
    own pass over the channel (its mean, the deviations, their squares, their sum) was the encoder's first work on
    every channel, before any of it could run beside another (2 % of a balanced sweep on two cores); the rate
    control's first step and the time-domain grids' first guess take it, each rounded (to a float32 step, to an
    odd integer) where an ulp of it decides nothing."""
    return channel_spread(ref) / math.sqrt(len(ref)) if len(ref) else 0.0


def not_integral(ref: np.ndarray) -> bool:
    """Whether ``ref`` was found to hold a value that is not an integer (:func:`mark_not_integral`): a float source's
    reference, whose decoded error no compiled call sums exactly (``lossyrate.Prepared.decoded_error``)."""
    return "fraction" in _entry(ref)


def mark_not_integral(ref: np.ndarray) -> None:
    """Remember that ``ref`` holds a value that is not an integer (:func:`not_integral`)."""
    _entry(ref)["fraction"] = 1.0
