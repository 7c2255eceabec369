"""``decode --physical`` of a long record a block of rows at a time: :func:`io.arrays.physical_signal`'s signal, its
samples in an array mapped from a file rather than in memory.

``physical_signal`` makes a digital record's physical values whole (float64, beside the samples), finds each
column's decimal places over all of them, and holds them as decimal integers where every column has some: for a
6 h, 20-channel EDF that was gigabytes. Here the same choices are made from what a pass over the rows' blocks
finds (whether any value is a gap, the widest value and sample, each column's places, ``io.blockwise_places``),
and the signal they give is filled into a file-mapped array a block at a time: the same signal, so the same CSV
and ``.npy`` bytes, in memory bounded by the block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sancodec._mapped import new_mapped_npy
from sancodec.io.arrays import check_finite_physical, physical_table_of, physical_table_over, physical_timing
from sancodec.io.blockwise_places import PRESENT, WHOLE, blockwise_column_places
from sancodec.io.decimals import (
    MAX_UNITS,
    NEGATIVE_ZEROS,
    _units_found,
    decimal_places_of,
    gap_value,
    missing_of,
    negative_zero_runs,
    with_decimals,
)
from sancodec.io.physical_rows import PhysicalRows
from sancodec.signal import Signal

__all__ = ["BLOCK_VALUES", "physical_on_disk", "source_values_on_disk"]

BLOCK_VALUES = 1 << 17  # values made at a time (a block's rows are this over the channels)


def physical_on_disk(signal: Signal, start: int, folder: Path) -> Signal:
    """``io.arrays.physical_signal(signal, start)``, the same signal, its samples (where they are made anew: decimal
    integers, floats, or the samples with their gaps marked) in an array mapped from a file in ``folder`` and made a
    block of rows at a time; ``signal``'s own samples (a decimal source's, mapped by ``stream.decoded_on_disk``) where
    they are kept. The caller keeps ``folder`` until the output is written."""
    if not signal.is_digital:
        return signal
    return _Physical(signal, start, folder).signal()


def source_values_on_disk(made: Signal, folder: Path) -> np.ndarray:
    """What ``.npy`` output writes for ``made``, a signal :func:`physical_on_disk` made (``io.arrays.as_source_array``'s
    values: float64 physical values, a gap NaN), in an array mapped from a file in ``folder``, made a block at a
    time."""
    if not made.is_digital:
        return np.asarray(made.samples)  # (floats: written as they are)
    rows = PhysicalRows(made)
    out = _mapped(folder, "physical_values.npy", np.float64, (made.n_samples, made.n_channels))
    for a, b in _blocks(made):
        out[a:b] = rows.physical(a, b)
    out.flush()
    return out


class _Physical:
    """:func:`physical_on_disk`'s work on one signal: the facts of its physical values, found a block at a time,
    then the signal ``physical_signal`` makes of them."""

    def __init__(self, signal: Signal, start: int, folder: Path) -> None:
        self.source, self.folder, self.rows = signal, folder, PhysicalRows(signal)
        self.timing = physical_timing(signal, start)

    def as_csv(self, samples: np.ndarray) -> Signal:
        return physical_table_of(self.source, self.timing, samples)

    def signal(self) -> Signal:
        """``physical_signal``'s choices, made in its order."""
        signal = self.source
        places = decimal_places_of(signal)
        missing = missing_of(signal.source)
        if missing is not None and places is not None:  # decimals with gaps: as held
            return _with_runs(with_decimals(self.as_csv(signal.samples), places, signal.samples, gap=missing),
                              self._negative_zero_runs(gaps=True))
        gapped, digital_span, widest = self._facts()
        check_finite_physical(signal, np.isinf(widest))
        if gapped:
            made = self._gapped_units(widest)
            if made is not None:  # among decimals: "-", as rdsamp -p prints them
                return made
            value = gap_value(np.array([digital_span], dtype=np.int64))
            if value is not None:  # among values that are no decimals: the integers kept, gaps at a value of their own
                return self._table(value)
        return self._on_grid(gaps=not gapped)  # (gapped, but no value is left to mark a gap: their samples scaled)

    def _physical(self, a: int, b: int, gaps: bool = True) -> np.ndarray:
        return self.rows.physical(a, b, gaps)

    def _facts(self) -> tuple[bool, int, np.ndarray]:
        """Whether some physical value is a gap (NaN); the largest magnitude of a sample that is not one; each column's
        largest magnitude of a physical value that is not one."""
        gapped, span, widest = False, 0, np.zeros(self.source.n_channels)
        for a, b in _blocks(self.source):
            values = self._physical(a, b)
            gaps = np.isnan(values)
            if gaps.any():
                gapped = True
                present = np.asarray(self.source.samples[a:b])[~gaps]
                values = np.where(gaps, 0.0, values)
            else:
                present = np.asarray(self.source.samples[a:b])
            span = max(span, int(np.abs(present.astype(np.int64)).max(initial=0)))
            with np.errstate(invalid="ignore"):
                widest = np.fmax(widest, np.abs(values).max(axis=0))
        return gapped, span, widest

    def _places(self, kind: str, empty: int | None = None, gaps: bool = True) -> list[int | None] | None:
        """``blockwise_column_places`` of the physical values."""
        signal = self.source
        return blockwise_column_places(lambda a, b: self._physical(a, b, gaps), signal.n_samples, signal.n_channels,
                                       _block_rows(signal), kind, empty)

    def _gapped_units(self, widest: np.ndarray) -> Signal | None:
        """``decimals.gapped_units``' signal: each column's values at its places (of its values present), a gap the
        first of its missing values beyond them; None where a column is no decimals, or no value is left."""
        places = self._places(PRESENT, empty=0)
        if places is None or any(d is None for d in places):
            return None
        found = [int(d) for d in places if d is not None]
        span = max((int(np.rint(w * float(10**d))) for w, d in zip(widest.tolist(), found)), default=0)
        value = gap_value(np.array([span], dtype=np.int64)) if span < MAX_UNITS else None
        if value is None:
            return None
        units = self._filled("physical_units.npy", np.int64, lambda a, b: _units_with_gaps(self._physical(a, b),
                                                                                             found, value))
        return with_decimals(self.as_csv(units), found, units, gap=(value, "-"))

    def _table(self, value: int) -> Signal:
        """``io.arrays._physical_table``'s signal: the samples, each gap ``value``, with the record's gains."""
        signal = self.source

        def marked(a: int, b: int) -> np.ndarray:
            samples = np.array(signal.samples[a:b], dtype=np.int64)
            samples[np.isnan(self._physical(a, b))] = value
            return samples

        samples = self._filled("physical_samples.npy", np.int64, marked)
        return physical_table_over(signal, samples, value, self.timing)

    def _on_grid(self, gaps: bool) -> Signal:
        """``decimals.on_decimal_grid`` of the physical values (``gaps`` False: a gap's sample scaled as the others
        are), else those values as floats."""
        places = self._places(WHOLE, gaps=gaps)
        if places is not None and all(d is not None for d in places):
            found = [int(d) for d in places if d is not None]
            units = self._filled("physical_units.npy", np.int64, lambda a, b: np.column_stack(
                [_units_found(column, d) for column, d in zip(self._physical(a, b, gaps).T, found)]))
            return _with_runs(with_decimals(self.as_csv(units), found, units), self._negative_zero_runs(gaps))
        return self.as_csv(self._filled("physical_floats.npy", np.float64, lambda a, b: self._physical(a, b, gaps)))

    def _negative_zero_runs(self, gaps: bool) -> list[list[int] | None] | None:
        """``decimals.negative_zero_runs`` of every physical value, found a block at a time."""
        return _joined_runs([negative_zero_runs(self._physical(a, b, gaps), a) for a, b in _blocks(self.source)],
                            self.source.n_channels)

    def _filled(self, name: str, dtype: type, rows: Callable[[int, int], np.ndarray]) -> np.ndarray:
        """An array mapped from ``name`` in the folder, each block of rows made by ``rows``."""
        out = _mapped(self.folder, name, dtype, (self.source.n_samples, self.source.n_channels))
        for a, b in _blocks(self.source):
            out[a:b] = rows(a, b)
        out.flush()
        return out


def _units_with_gaps(values: np.ndarray, places: Sequence[int], value: int) -> np.ndarray:
    """``values``' columns as integers at their ``places``, each NaN ``value``."""
    gaps = np.isnan(values)
    units = np.full(values.shape, value, dtype=np.int64)
    for c, d in enumerate(places):
        present = ~gaps[:, c]
        units[present, c] = _units_found(values[present, c], d)
    return units


def _with_runs(signal: Signal, runs: list[list[int] | None] | None) -> Signal:
    """``signal`` (a decimal signal) with its negative zeros' runs in its source, where there are some."""
    if runs is None:
        return signal
    return dataclasses.replace(signal, source={**(signal.source or {}), NEGATIVE_ZEROS: runs})


def _joined_runs(parts: Sequence[list[list[int] | None] | None], columns: int) -> list[list[int] | None] | None:
    """Blocks' runs (``decimals.negative_zero_runs``, each counted in the record's rows) as the record's: a run that a
    block's end cut in two, one."""
    if all(part is None for part in parts):
        return None
    out: list[list[int] | None] = []
    for c in range(columns):
        runs: list[int] = []
        for part in parts:
            for start, length in zip(*[iter((part or [None] * columns)[c] or [])] * 2):
                if runs and runs[-2] + runs[-1] == start:
                    runs[-1] += length
                else:
                    runs += [start, length]
        out.append(runs or None)
    return out


def _block_rows(signal: Signal) -> int:
    return max(1, BLOCK_VALUES // signal.n_channels)


def _blocks(signal: Signal) -> list[tuple[int, int]]:
    """The blocks of rows the signal is made in, as ``(a, b)``."""
    rows, n = _block_rows(signal), signal.n_samples
    return [(a, min(a + rows, n)) for a in range(0, n, rows)]


def _mapped(folder: Path, name: str, dtype: Any, shape: tuple[int, int]) -> np.memmap:
    return new_mapped_npy(folder / name, dtype, shape)
