"""Float64 samples near a grid: held exactly as an integer count and a small correction in units in the last place.

Float64 records are mostly counts scaled, but not always by one multiplication (which :mod:`floatgrid` holds):
``counts * 0.1 / 32767`` rounds twice, MNE's EDF reader adds an offset after its scaling (``counts * cal + offset``),
wfdb-python divides by the gain (``counts / 3``). Each such value lies within a few units in its last place of
``p = k * q + o`` (in float64, as the decoder computes it) for one step ``q`` and offset ``o`` per channel, so it is
held as the count ``k`` and the correction ``c = (v - p) / u`` that takes ``p`` to it, with the unit
``u = max(spacing(|p|) / 2^h, 2^e)``: the float's unit in the last place at ``p`` (``h`` halvings of it reach a value
just below a power of two, a binade down), floored at ``2^e`` where an offset subtracted late leaves values near 0 on
a coarser unit than their own (``(counts + 32768) * cal - 3276.8``). The decoder gives back
``rint(p / u) * u + 0.0 + c * u``: each term exact, their sum the value, which the encoder checks bit for bit on every
value before it takes a channel so (format 1.19: the header's ``near_grid``). The count and the correction go as one
integer, ``k * 2^b + c + 2^(b - 1)`` with ``b`` the correction's bits (0 where every correction is 0), which the
lossless coder codes as it does any integers. A correction is a function of its count, so where the counts take few
values (an ECG's) the lossless coder's value table holds the pairs at the counts' own cost (0.01 bits a sample more
on mitdb 100, ``benchmarks/bench_float64.py``); elsewhere at most about ``b`` bits a sample more (a random walk's,
``tests/test_neargrid.py``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sancodec.codec.floatgrid import approximate_gcd, negative_zero, with_neighbours
from sancodec.errors import SanFormatError
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["LEAST_EXPONENT", "MAX_BITS", "MAX_HALVINGS", "NearGrid", "common_unit", "near_grid", "near_integers",
           "near_values"]

MAX_BITS = 12  # a correction takes at most this many bits (|c| < 2048 units): more is no grid worth the name
MAX_HALVINGS = 2  # h: the unit is the ulp at p halved at most this many times
FLOOR_TRIES = 4  # e: the floors tried, from the values' common unit down (common_unit)
LEAST_EXPONENT = -1074  # 2^-1074, the least double: a floor of no effect
GAP_TERMS = 64  # the smallest gaps between distinct values that estimate the step


class NearGrid(NamedTuple):
    """One channel's grid (format 1.19): step ``q``, offset ``o``, the unit's floor exponent ``e`` and halvings
    ``h``, and the correction's bits ``b``."""

    step: float
    offset: float
    floor: int
    halvings: int
    bits: int

    def fields(self) -> list[float | int]:
        """The header's entry for the channel (``near_grid``): ``[offset, floor, halvings, bits]`` (the step is the
        channel's ``quantum``)."""
        return [self.offset, self.floor, self.halvings, self.bits]


def near_values(z: np.ndarray, grid: NearGrid) -> np.ndarray:
    """The float64 values integers ``z`` (one channel's, int64) hold on ``grid``; a SanFormatError where one is not
    finite (a hostile file's step, offset or floor)."""
    z = np.asarray(z, dtype=np.int64)
    k = z >> grid.bits
    with np.errstate(over="ignore", invalid="ignore"):
        p = k.astype(np.float64) * grid.step + grid.offset
        if not bool(np.all(np.isfinite(p))):
            raise SanFormatError("header field 'near_grid' puts a sample beyond the float range")
        u = _units(p, grid.floor, grid.halvings)
        values = np.rint(p / u) * u + 0.0  # (+ 0.0: a p just below 0 rounds to -0.0, which no value held is)
        if grid.bits:
            values += ((z & ((1 << grid.bits) - 1)) - (1 << (grid.bits - 1))) * u
    if not bool(np.all(np.isfinite(values))):
        raise SanFormatError("header field 'near_grid' puts a sample beyond the float range")
    return values


def _units(p: np.ndarray, floor: int, halvings: int) -> np.ndarray:
    """The correction's unit at each ``p``: its unit in the last place halved ``halvings`` times, at least
    ``2^floor`` (powers of two: every product and sum with them below is exact)."""
    return _units_of(_spacing(p), floor, halvings)


def _spacing(p: np.ndarray) -> np.ndarray:
    """``spacing(|p|)``: each point's unit in the last place (infinite past the largest double, without a warning)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.spacing(np.abs(p))


def _units_of(spacing: np.ndarray, floor: int, halvings: int) -> np.ndarray:
    """:func:`_units` from ``spacing(|p|)``, made once where several units are weighed at the same ``p``."""
    return np.maximum(np.ldexp(spacing, -halvings), math.ldexp(1.0, floor))


def _points(x: np.ndarray, step: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Each value's count on ``step`` from ``offset`` (as float64) and its point ``p = k * step + offset``, as the
    decoder computes it."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        k = np.rint((x - offset) / step)
        return k, k * step + offset


def _corrections(x: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each value's correction from its point ``p`` in units ``u`` (float64: a whole number where ``u`` holds it)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return (x - np.rint(p / u) * u) / u


def near_integers(x: np.ndarray, grid: NearGrid) -> np.ndarray | None:
    """``x`` (one channel, float64) as its integers on ``grid`` (:func:`near_values` gives it back bit for bit), or
    None where it does not: a correction that is no whole number of units or needs more than ``grid.bits``, an
    integer past ``MAX_ABS_SAMPLE``."""
    k, p = _points(x, grid.step, grid.offset)
    if not bool(np.all(np.abs(k) <= MAX_ABS_SAMPLE >> grid.bits)):
        return None
    c = _corrections(x, p, _units(p, grid.floor, grid.halvings))
    half = (1 << grid.bits) >> 1
    if not bool(np.all(np.isfinite(c))) or not bool(np.all((c >= -half) & (c < max(half, 1)))) or \
            (grid.bits == 0 and bool(np.any(c != 0))) or not bool(np.array_equal(c, np.rint(c))):
        return None
    z = (k.astype(np.int64) << grid.bits) + (c.astype(np.int64) + half if grid.bits else 0)
    back = near_values(z, grid)
    return z if np.array_equal(back.view(np.uint64), np.asarray(x, dtype=np.float64).view(np.uint64)) else None


def near_grid(x: np.ndarray) -> NearGrid | None:
    """The grid that holds float64 ``x`` (one channel) in the fewest bits (its counts' range and its corrections:
    :func:`_size`), or None where none is found (a value not finite or a -0.0, no step among the distinct values'
    gaps, corrections past :data:`MAX_BITS`). The steps: the distinct values' smallest gap, or their gaps'
    approximate common divisor, made exact on the whole range they span (:func:`_steps_near`), and the unit every value
    is a multiple of; the offsets: :func:`_offsets`; the two steps and offsets ranked first (:func:`_ranked`) searched
    for the unit's halvings and floors (:func:`_best_grid`). All of it on the distinct values, which decide it (an
    ECG's 200 000 samples hold a few hundred); the caller's :func:`near_integers` checks every value."""
    if not x.size or not bool(np.all(np.isfinite(x))) or negative_zero(x):
        return None
    distinct = np.unique(x)
    unit = common_unit(distinct)
    if len(distinct) == 1:  # one value: a step of its own magnitude, exact
        return _best_grid(distinct, abs(float(distinct[0])) or 1.0, [0.0], unit)
    gaps = np.diff(distinct)
    gaps = np.unique(gaps[(gaps > 0) & np.isfinite(gaps)])[:GAP_TERMS]
    with np.errstate(over="ignore"):  # (values past ±max/2 may span more than a float holds: no grid, below)
        span = float(distinct[-1] - distinct[0])
    if not gaps.size or not math.isfinite(span):
        return None
    pairs = {(step, offset) for estimate in (float(gaps[0]), approximate_gcd(gaps, span))
             for step in _steps_near(estimate, span) for offset in _offsets(distinct, step)}
    sample = distinct[:: -(-len(distinct) // RANK_SAMPLE)]  # (a grid that fails on some values fails on them all)
    weighed = sorted((_ranked(sample, step, offset, unit), step, offset) for step, offset in pairs)
    kept = [(step, offset) for _, step, offset in weighed[:QUICK_KEPT]
            if len(sample) == len(distinct) or _best_grid(sample, step, [offset], unit) is not None]
    found = [_best_grid(distinct, step, [offset], unit) for step, offset in kept]
    if span / math.ldexp(1.0, unit) <= MAX_ABS_SAMPLE:  # every value a multiple of their common unit: no correction
        found.append(_best_grid(distinct, math.ldexp(1.0, unit), [0.0], unit))
    return min((g for g in found if g is not None), key=lambda g: _size(g, span), default=None)


def _size(grid: NearGrid, span: float) -> float:
    """About the bits a value takes on ``grid`` for values spanning ``span``: its counts' range and its corrections
    (a step of the values' common unit needs no correction, but its counts span far more than the step they were
    scaled by)."""
    return math.log2(span / grid.step + 1) + grid.bits


QUICK_KEPT = 2  # the steps and offsets ranked first (:func:`_ranked`) are searched in full ...
RANK_SAMPLE = 4096  # ... ranked on at most this many of the distinct values, and tried on them first (float64
# noise's million distinct values, ranked in full, made lossless mode's refusal several times slower)
TYPICAL = 90  # the percentile of the corrections' magnitudes that ranks them (the few near 0 a floor takes left out)
NEIGHBOURS = 2  # doubles tried either side of a step made on the span


def _steps_near(estimate: float, span: float) -> list[float]:
    """The steps tried near ``estimate`` (a gap, or the gaps' common divisor): made exact on the ``span`` of the
    values (``span / round(span / estimate)``), its :data:`NEIGHBOURS` doubles either side (the span's own rounding
    moves it by a few), and each of those to 12 significant digits, as a calibration factor is often written
    (``0.00305``: the span's step came out 0.0030500000000000006, one unit in the last place off, which costs a bit
    of correction a sample)."""
    if not estimate > 0 or not span / estimate <= MAX_ABS_SAMPLE or round(span / estimate) < 1:
        return []
    steps = with_neighbours(span / round(span / estimate), NEIGHBOURS)
    steps += [float(f"{s:.12g}") for s in steps]
    return [s for s in dict.fromkeys(steps) if s > 0]


def _ranked(x: np.ndarray, step: float, offset: float, unit: int) -> tuple[float, float]:
    """How :func:`near_grid` ranks a step and offset before it searches the best in full: the fewest bits of ``x``'s
    corrections with the plain unit (no halving) and none or the floor of the values' common ``unit``
    (:data:`MAX_BITS` + 1 where they are no whole numbers of it or need more), then the :data:`TYPICAL` percentile of
    their magnitudes in that unit (infinite where a value is not finite there). A step one unit in the last place off
    moves the corrections of the larger counts by more units; the few values near 0 that only a floor holds do not
    rank."""
    _, p = _points(x, step, offset)
    spacing = _spacing(p)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        c = (x - p) / spacing
    if not bool(np.all(np.isfinite(c))):
        return float(MAX_BITS + 1), math.inf
    found = [b for b in (_bits_needed(x, p, _units_of(spacing, floor, 0)) for floor in {LEAST_EXPONENT, unit})
             if b is not None]
    return float(min(found, default=MAX_BITS + 1)), float(np.percentile(np.abs(c), TYPICAL))


def _offsets(distinct: np.ndarray, step: float) -> list[float]:
    """The offsets tried on ``step``: 0; the median of the distinct values' remainders (each value less its nearest
    multiple of the step, taken about the least value's remainder, so that remainders near half a step do not split
    between its two ends); and the remainder of the value nearest that offset (its multiple the least), which carries
    least of the products' rounding: where a count of 0 was scaled, ``0 * f + o`` is the offset ``o`` itself (counts
    times 580 279.87 plus 0.16 gave values of 10^9 whose median remainder was off by their unit in the last place,
    10^-7, and corrections of 2^32 units at the values near 0.16)."""
    with np.errstate(over="ignore", invalid="ignore"):  # (values past a step's 2^1024 multiples: no offset but 0)
        first = float(distinct[0] - np.rint(distinct[0] / step) * step)
        counts = np.rint((distinct - first) / step)
        remainders = distinct - counts * step
        median = float(np.median(remainders))
        nearest = int(np.argmin(np.abs(np.rint((distinct - median) / step))))
        least = float(distinct[nearest] - np.rint((distinct[nearest] - median) / step) * step)
    return [o for o in dict.fromkeys([0.0, median, least]) if math.isfinite(o)]


def _best_grid(x: np.ndarray, step: float, offsets: list[float], unit: int) -> NearGrid | None:
    """Of the grids on ``step`` with each of ``offsets``, each halving of the unit up to :data:`MAX_HALVINGS` and each
    floor (none, then :data:`FLOOR_TRIES` from the channel's common ``unit`` down: :func:`common_unit` of all its
    values, also where ``x`` is a sample of them, whose own common unit may be coarser), the one whose corrections
    take the fewest bits and hold ``x`` exactly (:func:`near_integers`); None where none does."""
    floors = dict.fromkeys([LEAST_EXPONENT, *(max(unit - j, LEAST_EXPONENT) for j in range(FLOOR_TRIES))])
    candidates: list[NearGrid] = []
    for offset in offsets:
        _, p = _points(x, step, offset)  # (the decoder's p, made once for every unit)
        if not bool(np.all(np.isfinite(p))):
            continue
        spacing = _spacing(p)
        for halvings in range(MAX_HALVINGS + 1):
            for floor in floors:
                bits = _bits_needed(x, p, _units_of(spacing, floor, halvings))
                if bits is not None:
                    candidates.append(NearGrid(step, offset, floor, halvings, bits))
                    if bits == 0:
                        break
    for grid in sorted(candidates, key=lambda g: g.bits):  # (a stable sort: the first tried first among equals)
        if near_integers(x, grid) is not None:
            return grid
    return None


def common_unit(x: np.ndarray) -> int:
    """The exponent of the largest power of two that every nonzero value of ``x`` (finite) is a whole multiple of
    (:data:`LEAST_EXPONENT` for none): each value's lowest mantissa bit set, the least of them. Values made by taking
    a large offset away (``(counts + 32768) * cal - 3276.8``) share the offset's unit in the last place, however near
    0 they come, which is where a floor of the unit belongs."""
    nonzero = x[x != 0]
    if not nonzero.size:
        return LEAST_EXPONENT
    fraction, exponent = np.frexp(np.abs(nonzero))
    mantissa = (fraction * 2.0**53).astype(np.int64)  # (exact: 53 bits, subnormals' fewer)
    lowest = np.log2((mantissa & -mantissa).astype(np.float64)).astype(np.int64)
    return max(int((exponent - 53 + lowest).min()), LEAST_EXPONENT)


def _bits_needed(x: np.ndarray, p: np.ndarray, u: np.ndarray) -> int | None:
    """The bits the corrections of ``x`` take from ``p`` in units ``u`` (0 where every one is 0), or None where one is
    no whole number of units or needs more than :data:`MAX_BITS`."""
    c = _corrections(x, p, u)
    if not bool(np.all(np.isfinite(c))) or not bool(np.array_equal(c, np.rint(c))):
        return None
    low, high = float(c.min()), float(c.max())
    if low == high == 0:
        return 0
    bits = 1 + (max(int(-low), int(high) + 1, 1) - 1).bit_length()  # the least b with c in [-2^(b-1), 2^(b-1))
    return bits if bits <= MAX_BITS else None
