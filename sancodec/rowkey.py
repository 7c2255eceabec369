"""numpy's indexing of a (samples, channels) array, for a file whose rows are decoded a frame window at a time.

:func:`rows_for` splits an index (``f[key]``) into the rows it reads and the same index on just those rows, so that
:class:`sancodec.SanFile` decodes the frames that hold them, gathers them, and lets numpy apply the index to what it
gathered: every form numpy takes on a 2-D array (a stepped or reversed slice, a list or array of rows, a boolean
mask, ``...``, ``None``) gives numpy's shape and values, and numpy's own ``IndexError`` where it refuses one.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

__all__ = ["RowKey", "named_channels", "rows_for"]


class RowKey(NamedTuple):
    """What an index reads: ``span`` rows [lo, hi) in order (step 1: read as they are), or else ``rows``, the
    distinct rows it names, ascending; and ``key``, the index to apply to those rows gathered in that order."""

    span: tuple[int, int] | None
    rows: np.ndarray | None
    key: tuple[Any, ...]


def _consumed(entry: Any) -> int:
    """How many of the array's axes one entry of an index takes: none for ``None`` (a new axis), a boolean
    array's own rank, else one."""
    if entry is None:
        return 0
    if isinstance(entry, np.ndarray) and entry.dtype == bool:
        return entry.ndim
    return 1


def _as_index_array(entry: Any) -> Any:
    """An entry as numpy takes it: a list or tuple of rows, an array-like or a boolean as an array (``True`` is
    a mask, not row 1), anything else as it is."""
    if isinstance(entry, (bool, np.bool_, list, tuple, np.ndarray)) or \
            (hasattr(entry, "__array__") and not np.isscalar(entry)):
        array = np.asarray(entry)
        return array.astype(np.intp) if array.size == 0 and isinstance(entry, (list, tuple)) else array  # f[[]]
    return entry


def _is_names(entry: Any) -> bool:
    """Whether an index entry names channels: a string, or a non-empty array, list or tuple of them (nested too)."""
    if isinstance(entry, str):
        return True
    if isinstance(entry, np.ndarray):
        return entry.dtype.kind == "U" and entry.size > 0
    first = entry
    while isinstance(first, (list, tuple)) and len(first):  # (a list of rows is not made an array to be told apart)
        first = first[0]
    return isinstance(first, str) and np.asarray(entry).dtype.kind == "U"


def _channel_number(name: str, names: list[str]) -> int:
    """The index of the one channel called ``name``; an ``IndexError`` naming the file's channels where none is,
    or the indices where several are (WFDB allows two of a name)."""
    hits = [i for i, other in enumerate(names) if other == name]
    if not hits:
        raise IndexError(f"no channel named {name!r}; the file's channels: {', '.join(map(repr, names))}")
    if len(hits) > 1:
        raise IndexError(f"{len(hits)} channels are named {name!r} ({', '.join(map(str, hits))}): index them by "
                         "number")
    return hits[0]


def named_channels(key: Any, names: list[str]) -> Any:
    """``key`` with each channel name in its channel entry (``f[:, "V5"]``, ``f[::250, ["MLII", "V5"]]``,
    ``f[..., "V5"]``) turned into the channel's index, the rest as it was; an ``IndexError`` for a name in the rows'
    place (``f["V5"]``), one the file lacks, or one several channels share."""
    entries = list(key) if isinstance(key, tuple) else [key]
    named = [_is_names(e) for e in entries]
    if not any(named):
        return key
    taken = sum(1 if is_name else _consumed(_as_index_array(e)) for e, is_name in zip(entries, named)
                if e is not Ellipsis)  # (the axes the entries but an ellipsis take)
    axis = 0
    out: list[Any] = []
    for entry, is_name in zip(entries, named):
        if entry is Ellipsis:
            axis += max(0, 2 - taken)
            out.append(entry)
            continue
        if is_name:
            if axis != 1:
                raise IndexError(f"a channel name indexes the channels, the second axis (f[:, {entry!r}]), not the "
                                 "rows")
            if isinstance(entry, str):
                out.append(_channel_number(entry, names))
            else:  # (a list of names as an array of their indices, its shape kept: numpy indexes alike)
                wanted = np.asarray(entry)
                out.append(np.array([_channel_number(str(v), names) for v in wanted.ravel()],
                                    dtype=np.intp).reshape(wanted.shape))
            axis += 1
            continue
        out.append(entry)
        axis += _consumed(_as_index_array(entry))
    return tuple(out) if isinstance(key, tuple) else out[0]


def rows_for(key: Any, n: int) -> RowKey:
    """The rows of an ``n``-row, 2-D array that ``key`` reads, and ``key`` on those rows alone (:class:`RowKey`).
    Raises ``IndexError`` for a row past the ends (as numpy does) and for an index numpy takes on no array (a
    float, a second ``...``); what remains wrong for this array's shape numpy says when the key is applied."""
    entries = list(key) if isinstance(key, tuple) else [key]
    entries = [_as_index_array(e) for e in entries]
    if sum(e is Ellipsis for e in entries) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    at = next((i for i, e in enumerate(entries) if e is not None), None)  # the entry that indexes the rows
    if at is None or entries[at] is Ellipsis and 2 - sum(_consumed(e) for e in entries if e is not Ellipsis) > 0:
        return RowKey((0, n), None, tuple(entries))  # no entry, or an ellipsis over the rows: every row
    if entries[at] is Ellipsis:  # an ellipsis of no axes (f[..., 3, 1]): the entry after it takes the rows
        at = next(i for i, e in enumerate(entries) if i > at and e is not None)
    entry = entries[at]
    if isinstance(entry, slice):
        lo, hi, step = entry.indices(n)
        if step == 1:
            entries[at] = slice(None)
            return RowKey((lo, max(lo, hi)), None, tuple(entries))
        picked = np.arange(lo, hi, step, dtype=np.int64)
        rows = np.sort(picked)
        entries[at] = slice(None) if step > 0 else slice(None, None, -1)  # (its rows gathered ascending)
        return RowKey(None, rows, tuple(entries))
    if isinstance(entry, np.ndarray) and entry.dtype == bool:
        if entry.ndim == 0:  # numpy's f[True], f[False]: a new axis of one row or none, every row kept
            return RowKey((0, n), None, tuple(entries))
        if entry.shape[0] != n:
            raise IndexError(f"boolean index did not match indexed array along axis 0; size of axis is {n} but "
                             f"size of corresponding boolean axis is {entry.shape[0]}")
        hit = entry.reshape(n, -1).any(axis=1)
        rows = np.flatnonzero(hit).astype(np.int64)
        entries[at] = entry[hit]  # the mask on the rows gathered: the same elements, in the same order
        return RowKey(None, rows, tuple(entries))
    if isinstance(entry, np.ndarray):
        if entry.dtype.kind not in "iu":
            raise IndexError("arrays used as indices must be of integer (or boolean) type")
        wanted = entry.astype(np.int64) if entry.dtype.kind == "i" or entry.size == 0 or entry.max() < 2**63 \
            else entry  # (an unsigned row past int64 is past the end)
        if wanted.size and (wanted.max() >= n or wanted.min() < -n):
            bad = wanted.max() if wanted.max() >= n else wanted.min()
            raise IndexError(f"row {int(bad)} is outside the file's {n} samples")
        wanted = np.where(wanted < 0, wanted + n, wanted)
        rows = np.unique(wanted)
        entries[at] = np.searchsorted(rows, wanted)  # each row's place among those gathered
        return RowKey(None, rows, tuple(entries))
    try:
        row = operator.index(entry)
    except TypeError:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
                         f"boolean arrays are valid indices, not {type(entry).__name__}") from None
    at_row = row + n if row < 0 else row
    if not 0 <= at_row < n:
        raise IndexError(f"row {row} is outside the file's {n} samples")
    entries[at] = 0
    return RowKey((at_row, at_row + 1), None, tuple(entries))
