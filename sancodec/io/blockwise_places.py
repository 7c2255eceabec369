"""Each column's decimal places (``decimals.column_places``) found a block of rows at a time, for values that are
never held whole: a long record's physical values, made block by block from samples mapped from a file.

A column's places are the fewest ``d`` at which every one of its values is a decimal of ``d`` places. Each block is
tried at the places the blocks before it allowed, and only where it refuses them at more: a record's first block
nearly always settles them, so one pass does. Where a later block asks for more places, the earlier blocks are
tried again at those (another pass, for that column alone), until a pass asks for no more: the places found are
those of the whole column, exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sancodec.io.decimals import MAX_DECIMALS, _units

__all__ = ["PRESENT", "WHOLE", "blockwise_column_places"]

WHOLE = "whole"  # column_places of the samples x channels values: None for all where one is not finite
PRESENT = "present"  # each column's places of its values that are not NaN, each column on its own


def blockwise_column_places(values_of: Callable[[int, int], np.ndarray], n: int, columns: int, rows: int,
                            kind: str = WHOLE, empty: int | None = None) -> list[int | None] | None:
    """``decimals.column_places`` of the float values that ``values_of(a, b)`` gives for rows ``[a, b)`` of ``n``
    (samples x ``columns``), made ``rows`` rows at a time. ``kind`` :data:`WHOLE`: as ``column_places`` of all of them
    (None where there are none, or one is not finite); :data:`PRESENT`: each column's places of its values that are
    not NaN (None for a column where one of those is not finite or has no places; ``empty`` for a column of NaN
    alone), as the CSV writer weighs a ``PhysicalTable``'s columns and ``decimals.gapped_units`` a column with gaps."""
    if n <= 0 or columns <= 0:
        return None if kind == WHOLE else [empty] * columns
    places: list[int | None] = [0] * columns  # each column's fewest places that no block has refused yet
    seen = [False] * columns  # (PRESENT: whether the column holds a value that is not NaN)
    pending = set(range(columns))  # the columns a pass over every block has still to try at their places
    first = True
    while pending:
        asked = pending
        pending = set()
        for a in range(0, n, rows):
            block = values_of(a, min(a + rows, n))
            if first and (block.dtype not in (np.float64, np.float32) or
                          kind == WHOLE and not np.all(np.isfinite(block))):
                return None if kind == WHOLE else [None] * columns
            for c in sorted(asked):
                column = block[:, c]
                if kind == PRESENT:
                    column = column[~np.isnan(column)]
                    if not len(column):
                        continue
                    seen[c] = True
                    if not np.all(np.isfinite(column)):
                        places[c] = None
                        asked.discard(c)
                        pending.discard(c)
                        continue
                d = places[c]
                if d is not None and _units(column, d) is not None:
                    continue
                more = next((k for k in range(int(d or 0) + 1, MAX_DECIMALS + 1) if _units(column, k) is not None),
                            None)
                places[c] = more
                if more is None:
                    asked.discard(c)
                    pending.discard(c)
                elif a > 0 or not first:  # the blocks before this one (or after it, on a pass again) were tried at
                    pending.add(c)  # fewer places: tried again at these
            if not asked:
                break
        first = False
    if kind == PRESENT:
        return [d if seen[c] else empty for c, d in enumerate(places)]
    return places
