"""A digital signal's rows in physical units a block at a time, for the writers and ``decode --physical`` that never
hold a long record's values whole."""

from __future__ import annotations

import dataclasses

import numpy as np

from sancodec.io.decimals import NEGATIVE_ZEROS, negative_zero_rows, put_negative_zeros
from sancodec.signal import Signal

__all__ = ["PhysicalRows"]


class PhysicalRows:
    """A signal's rows in physical units a block at a time (``Signal.physical`` of each block as a signal of its own,
    its metadata kept, its annotations left behind; a decimal source's negative zeros put back by their rows in the
    record, which a block's own source would not place)."""

    def __init__(self, signal: Signal) -> None:
        source = signal.source
        self.negative_zeros = negative_zero_rows(source, signal.n_samples, signal.n_channels)
        self.kept = {k: v for k, v in source.items() if k != NEGATIVE_ZEROS} if isinstance(source, dict) else source
        self.signal = signal

    def physical(self, a: int, b: int, gaps: bool = True) -> np.ndarray:
        """Rows ``[a, b)`` in physical units, a gap NaN (``gaps`` False: scaled as the others)."""
        rows = dataclasses.replace(self.signal, samples=np.asarray(self.signal.samples[a:b]), source=self.kept,
                                   annotations=[])
        return put_negative_zeros(rows.physical(gaps=gaps), self.negative_zeros, a)
