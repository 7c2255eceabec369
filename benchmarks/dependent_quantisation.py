"""Dependent (trellis-coded) quantisation as VVC does it, for ``bench_lossy_variants.py``: the library's quantiser
(``sancodec.codec.dependent``, format 1.12) with a step, 4 states stepping by each index's parity, Q0 (even
multiples of the step) in states 0-1 and Q1 (odd multiples and 0) in states 2-3, the indices chosen by a Viterbi
search for the least cost: the squared error, plus (with ``lam``) ``lam`` step² per bit the indices take by a table
of bits per magnitude and quantiser (:func:`dq_rates`). Needs numpy only (the tests import it)."""

from __future__ import annotations

import numpy as np

from sancodec.codec.dependent import NEXT as DQ_NEXT
from sancodec.codec.dependent import RATE_SIZE, quantise
from sancodec.codec.dependent import rates as dq_rates

__all__ = ["DQ_NEXT", "RATE_SIZE", "dq_levels", "dq_quantise", "dq_rates"]


def dq_levels(k: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The reconstruction, in steps, of indices ``k`` under quantiser Q0 (``2k``) or Q1 (``2k - sign(k)``)."""
    return 2 * k - np.where(second, np.sign(k), 0)


def dq_quantise(band: np.ndarray, step: float, lam: float = 0.0,
                rates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``band``'s indices under dependent quantisation at ``step`` and the quantiser (0 or 1) of each: the path
    through the 4-state trellis (from state 0) of the least squared error, plus ``lam`` (in squared steps) per bit
    of ``rates`` (:func:`dq_rates`; None with ``lam``: the library's generic table)."""
    return quantise(np.asarray(band, dtype=np.float64) / step, lam, rates)
