"""An EDF or BDF file written a block of data records at a time, under the header edfio makes for it.

edfio's ``Edf.write`` holds the whole file in memory twice over: every signal's samples as its own array, then every
data record in one array of the file's size. A decoded recording of 20 channels over 24 h is about 900 MB of EDF, so
:func:`write_records` takes the header edfio makes (its fields as ``Edf.write`` joins them, the annotation signal it
builds) and writes the data records itself, each block from the recording's rows (a decode's memory-mapped array),
in the bytes ``Edf.write`` gives them. edfio is given a :func:`placeholder` for each data signal's samples: an array of
one value, of the recording's length, that takes no memory. The same bytes as edfio's own write; where this edfio
names its header fields otherwise (a release that renamed them), the samples are put in place and edfio writes the
file, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sancodec.io.raw import int24_bytes

__all__ = ["BLOCK_BYTES", "Column", "placeholder", "write_records"]

BLOCK_BYTES = 1 << 22  # data records written at a time: about this many bytes of them


class Column(NamedTuple):
    """Where a data signal's samples are in the recording's rows: channel ``k``, every ``step``-th row."""

    signal: Any  # the edfio signal given a stand-in
    k: int
    step: int


def placeholder(value: int, length: int, dtype: type) -> np.ndarray:
    """``length`` copies of ``value`` as ``dtype``, in no memory (a broadcast view): what edfio is given as a data
    signal's samples, so that it checks a range and counts samples without the recording being held."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), (length,))


def write_records(edf: Any, target: Path, rows: Callable[[int, int], np.ndarray], columns: Sequence[Column],
                  rows_per_record: int) -> None:
    """Write the file ``edf`` (an ``edfio.Edf`` or ``Bdf`` whose data signals hold :func:`placeholder` samples) at
    ``target``: edfio's header, then the data records, their samples taken from ``rows(start, stop)`` (the recording's
    rows ``start`` to ``stop``, every channel, at its fastest rate) and ``columns``' places in them, the annotation
    signal's from edfio, a block of about :data:`BLOCK_BYTES` at a time."""
    signals = tuple(edf._signals)
    records = edf.num_data_records
    try:
        header = _header(edf, signals, records)
    except AttributeError:  # an edfio that names its fields otherwise: the samples in place, written by edfio
        _put_in_place(rows, columns, records * rows_per_record)
        edf.write(target)
        return
    import edfio

    placed = {id(c.signal): c for c in columns}
    three = edf._signal_class is edfio.BdfSignal  # BDF's 24-bit samples: 3 bytes of each int32
    widths = [s.samples_per_data_record * s._bytes_per_sample for s in signals]
    per_block = max(1, BLOCK_BYTES // max(1, sum(widths)))
    with open(target, "wb") as f:
        f.write(header)
        for first in range(0, records, per_block):
            last = min(records, first + per_block)
            block = rows(first * rows_per_record, last * rows_per_record)
            data = np.empty((last - first, sum(widths)), dtype=np.uint8)
            at = 0
            for s, width in zip(signals, widths):
                column = placed.get(id(s))
                if column is None:  # edfio's annotation signal: its bytes, record by record
                    data[:, at : at + width] = s.digital.view(np.uint8)[first * width : last * width].reshape(
                        last - first, width)
                elif three:
                    data[:, at : at + width] = int24_bytes(block[:: column.step, column.k]).reshape(last - first, width)
                else:
                    values = np.ascontiguousarray(block[:: column.step, column.k], dtype="<i2")
                    data[:, at : at + width] = values.view(np.uint8).reshape(last - first, width)
                at += width
            data.tofile(f)


def _header(edf: Any, signals: tuple[Any, ...], records: int) -> bytes:
    """The header record as ``Edf.write`` joins it: the file's fields, then each signal field of every signal, after
    each signal's samples per record are set from its length (edfio 0.4's private names)."""
    for s in signals:
        s._set_samples_per_data_record(s._num_samples // records)
    fields = [getattr(edf, "_" + name) for name, _ in type(edf)._header_fields]
    fields += [getattr(s, "_" + name) for name, _ in type(signals[0])._header_fields for s in signals]
    return b"".join(fields)


def _put_in_place(rows: Callable[[int, int], np.ndarray], columns: Sequence[Column], length: int) -> None:
    """Each column's samples in its signal, in place of its stand-in, for edfio's own write."""
    whole = rows(0, length)
    for c in columns:
        c.signal._digital = np.ascontiguousarray(whole[:: c.step, c.k], dtype=c.signal.digital.dtype)
