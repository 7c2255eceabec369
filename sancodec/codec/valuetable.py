"""Value-table frames: each sample's rank in the frame's sorted table of distinct values.

Pays where values sit on a non-integer grid or a sparse alphabet (EMG stored in steps of 50/3 units,
quantised vital signs): the gcd grid cannot see those, a rank table can. Path 2 (format 1.1) codes
the table as its first value and the gaps between entries minus one; path 6 (format 1.4) as the gaps
minus the table's most common gap, ``step``, which turns a 50/3 grid's gaps of 16 and 17 into 0 and 1
(emg_myopathy: 583 bytes of table become about a hundred). The encoder writes the smaller.
"""

from __future__ import annotations

import numpy as np

from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.frames import (
    VALUE_TABLE_ID,
    Candidate,
    ChannelFrame,
    FrameCoding,
    FramePlan,
    SanInput,
    _finish,
    best_residual,
    check_magnitude,
    register_coding,
)
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.valuegrid import value_grid
from sancodec.errors import SanFormatError

__all__ = ["SteppedTableCoding", "ValueTableCoding"]

STEPPED_TABLE_ID = 6
RANK_RANGE = 1 << 16  # values spread over less than this are ranked from a count per value, not a sort


def distinct_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` of a 1-D int64 array: its distinct values in order and each sample's
    rank among them, from a count per value where they spread over less than :data:`RANK_RANGE` (no sort: a
    quarter of the time on MIMIC's 8-bit ECG, whose 300 000 samples take 101 values), else from a sort."""
    if not len(x):
        return x[:0], np.zeros(0, dtype=np.intp)
    lowest = int(x.min())
    span = int(x.max()) - lowest
    if span >= RANK_RANGE:
        table, ranks = np.unique(x, return_inverse=True)
        return table, ranks.reshape(-1)
    present = np.bincount(x - lowest, minlength=span + 1) > 0
    return np.flatnonzero(present) + lowest, (np.cumsum(present) - 1)[x - lowest]


def _sparse_alphabet(x: np.ndarray) -> bool:
    """At least two distinct values, filling at most half of the grid between the extremes (counted
    with a histogram, not a sort, when the grid is small enough)."""
    if len(x) < 2:
        return False
    lo, hi = int(x.min()), int(x.max())
    g = max(value_grid(x, int(x[0])), 1)
    span = (hi - lo) // g + 1
    if span > 8 * len(x):  # fewer values than samples can never fill half of this grid
        return span > 1
    distinct = int(np.count_nonzero(np.bincount((x - lo) // g, minlength=span)))
    return distinct >= 2 and 2 * distinct <= span


def _table_head(table: np.ndarray) -> bytes:
    """The smaller of the two table codings, with its path id: path 2's gaps minus one, or path 6's
    gaps minus the most common gap."""
    gaps = np.diff(table)
    plain = ByteWriter()
    plain.varint(VALUE_TABLE_ID)
    plain.varint(len(table))
    side = encode_arrays([np.concatenate([table[:1], gaps - 1])], [False])
    plain.varint(len(side))
    plain.raw(side)
    if not len(gaps):
        return plain.getvalue()
    values, counts = np.unique(gaps, return_counts=True)
    step = int(values[np.argmax(counts)])
    stepped = ByteWriter()
    stepped.varint(STEPPED_TABLE_ID)
    stepped.varint(len(table))
    stepped.varint(step)
    side = encode_arrays([np.concatenate([table[:1], gaps - step])], [False])
    stepped.varint(len(side))
    stepped.raw(side)
    return min(plain.getvalue(), stepped.getvalue(), key=len)


def _table(d: np.ndarray, offset: int) -> np.ndarray:
    """The table ``T[0] = d[0]``, ``T[i] = T[i-1] + d[i] + offset``: its size checked in floats first
    (nothing wraps), then every gap >= 1 (strictly increasing)."""
    check_magnitude(float(np.abs(d.astype(np.float64)).sum()) + float(offset) * len(d), "a value-table entry")
    gaps = d[1:] + offset
    if len(gaps) and gaps.min() < 1:
        raise SanFormatError("frame: value table is not increasing")
    return np.cumsum(np.concatenate([d[:1], gaps]))


def _decode_table(r: ByteReader, length: int, plan: FramePlan, stepped: bool) -> ChannelFrame:
    """Path 2 (gaps minus one) or path 6 (``step`` first, gaps minus it), then the ranks' residual."""
    size = r.varint(length)
    if size < 1:
        raise SanFormatError("frame: empty value table")
    step = r.varint(MAX_ABS_SAMPLE) if stepped else 1
    (d,) = decode_arrays(r.raw(r.varint(r.remaining())), [size], [False])
    return _finish(r, np.zeros(length, dtype=np.int64), 0, 1, _table(d, step), plan, "table")


@register_coding
class ValueTableCoding(FrameCoding):
    """Path 2 (format 1.1, exact frames only): ranks in a table coded as gaps minus one. The encoder
    of both table paths: it writes path 6 where that table is smaller."""

    id, name = VALUE_TABLE_ID, "table"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        if plan.mode == "lossy" or not _sparse_alphabet(x):
            return []
        table, ranks = distinct_ranks(x)
        head = _table_head(table)
        res = best_residual(ranks.astype(np.int64), allow_lpc=True)
        minor = 4 if head[0] == STEPPED_TABLE_ID else 3
        return [Candidate(res.cost + 8 * len(head), head, res, exact=True, needs_minor=minor)]

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        return _decode_table(r, length, plan, stepped=False)


@register_coding
class SteppedTableCoding(FrameCoding):
    """Path 6 (format 1.4, exact frames only): ranks in a table coded as gaps minus ``step``."""

    id, name = STEPPED_TABLE_ID, "table"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        return []  # written by ValueTableCoding where its table is smaller

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        return _decode_table(r, length, plan, stepped=True)
