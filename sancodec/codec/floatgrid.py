"""Floating-point samples that are whole multiples of one step: held exactly as integers times that step.

A float record is often an integer one scaled: ADC counts times a calibration factor (``counts * 0.195`` microvolts,
an exporter's volts as ``counts * 3.0517578125e-05``), computed in float64. Such values are no decimals in general
(``3 * 0.195`` is not the double nearest 0.585), so lossless mode refused them; but each is ``k * q`` exactly for
one double ``q``, the factor itself, and the decoder rebuilds it so (``out * quantum``, the header's per-channel step
that lossy and near-lossless float files carry too). :func:`grid_step` finds ``q`` where there is one, and checks
every value: lossless mode takes a channel so only where ``rint(x / q) * q == x`` for each of its values, bit for bit
(a negative zero, which an integer cannot hold, rules it out). Any floats lie on the step of their finest unit in
the last place, so a few float32 values, or many within a narrow range of magnitudes, are taken too (as integers of
up to 2^53: exact, though no smaller than the floats); float32 noise about 0, whose units shrink with its values,
and float64 noise are not.

Float32 samples (format 1.18, :func:`grid_steps32`) are held on a step where each is the float32 nearest ``k * q``:
the decoder's product rounded to float32. That is how a float32 record of counts is made, whether the scaling ran in
float32 (``counts * np.float32(0.1)``) or in float64 and was stored as float32 (two roundings, ``counts * 0.1 /
32767``, lost on the float64 check, are one here); :func:`grid_step32` finds the step as the intersection of the
intervals each value's float32 rounding allows. Float32 values on no step (a filtered recording's noise) are held as
their bits, the sign moved to the lowest place (:func:`folded_ints`), which the lossless coder predicts as it does
any integers (figures: ``benchmarks/bench_float32.py``, ``docs/results/float32_lossless.md``).
"""

from __future__ import annotations

import math

import numpy as np

from sancodec.errors import SanFormatError
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["approximate_gcd", "float32_of_folded", "folded_ints", "grid_step", "grid_step32",
           "grid_steps32", "integers_on", "off_steps", "negative_zero", "on_grid", "on_grid32",
           "with_neighbours"]

NEIGHBOURS = 4  # steps tried each side of the estimate, in units in the last place


def folded_ints(x: np.ndarray) -> np.ndarray:
    """Float32 values as integers (int64) in [0, 2^32): each value's bits with its sign moved to the lowest place,
    twice its magnitude's bits plus its sign (-0.0 is 1, beside 0.0's 0): how a lossless file holds float32 values on
    no step (format 1.18, ``float32`` without a ``quantum``). A value's magnitude's bits grow with it, a binade at a
    time, so a smooth signal's are smooth but where it crosses 0, where they fold back rather than jump by 2^31 as the
    bits in their order would: a band-passed ECG codes 1.6 % smaller so, white noise 7 % (``benchmarks/
    bench_float32.py``). Its inverse is :func:`float32_of_folded`."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)
    return ((bits & 0x7FFFFFFF) << 1) | (bits >> 31)


def float32_of_folded(ints: np.ndarray) -> np.ndarray:
    """The float32 values :func:`folded_ints` made ``ints`` of (int64, any shape), bit for bit; a SanFormatError
    where one is outside [0, 2^32) (a hostile file's: no float32 has it)."""
    if ints.size and (int(ints.min()) < 0 or int(ints.max()) >= 1 << 32):
        raise SanFormatError("a float32 file's sample is no float32's bits (outside [0, 2^32))")
    bits = (ints >> 1) | ((ints & 1) << 31)
    return bits.astype(np.uint32).view(np.float32)


def grid_steps32(x: np.ndarray) -> list[float] | None:
    """Each column's step of float32 samples ``x`` (samples x channels): the coarser of :func:`grid_step` (its products
    exact in float64, so exact in float32 too) and :func:`grid_step32` (its products rounded to float32), where either
    is found; None where a column has neither. The coarser step holds the column in the smaller integers."""
    x32 = np.asarray(x, dtype=np.float32)
    steps: list[float] = []
    for column in x32.T:
        wide = column.astype(np.float64)
        estimated = _estimates(wide) if column.size else None  # (the distinct values sorted once, for both searches)
        found = [] if estimated is None else \
            [q for q in (_step_near(wide, *estimated), _step32_near(column, *estimated)) if q is not None]
        if not found:
            return None
        steps.append(float(max(found)))
    return steps


def grid_step(x: np.ndarray) -> float | None:
    """A step ``q`` (a positive double) such that every value of ``x`` (float64) is ``rint(x / q) * q`` exactly, with
    ``|rint(x / q)|`` within ``MAX_ABS_SAMPLE``; None where none is found. The estimates: the smallest gap between the
    distinct values (a walk that takes single steps), else their approximate greatest common divisor
    (:func:`approximate_gcd` of the smallest gaps and values: a few samples far apart); each made exact on the largest
    value (``max / rint(max / estimate)``, the factor to within a few units in the last place) and tried with its
    neighbours; 1 for a channel of zeros."""
    found = _estimates(x) if x.size else None
    return None if found is None else _step_near(x, *found)


def _step_near(x: np.ndarray, distinct: np.ndarray, estimates: list[float]) -> float | None:
    """:func:`grid_step` of ``x`` from its distinct values and their estimates (:func:`_estimates`)."""
    if not estimates:
        return 1.0
    largest = float(np.abs(distinct).max())
    for estimate in estimates:
        step = _on_grid_near(x, largest, estimate)
        if step is not None:
            return step
    return None


def _estimates(x: np.ndarray) -> tuple[np.ndarray, list[float]] | None:
    """The distinct values of finite ``x`` (float64) and :func:`grid_step`'s estimates of their step (the smallest
    gap, the approximate common divisor); None where ``x`` holds a value not finite or a negative zero (which an
    integer cannot hold)."""
    if not bool(np.all(np.isfinite(x))) or negative_zero(x):
        return None
    distinct = np.unique(x)
    magnitudes = np.abs(distinct[distinct != 0])  # (of the distinct values: the same largest and smallest)
    if not magnitudes.size:
        return distinct, []
    with np.errstate(over="ignore"):
        gaps = np.diff(distinct)  # (the gap across 0 between values past half the float range: infinite, left out)
    smallest = np.unique(np.concatenate([gaps[(gaps > 0) & np.isfinite(gaps)], magnitudes]))[:GCD_TERMS]
    return distinct, [float(smallest[0]), approximate_gcd(smallest, float(magnitudes.max()))]


def grid_step32(x: np.ndarray) -> float | None:
    """A step ``q`` (a positive double) such that every value of ``x`` (float32) is ``float32(rint(x / q) * q)``, the
    decoder's product rounded to float32, with ``|rint(x / q)|`` within ``MAX_ABS_SAMPLE``; None where none is found;
    1 for a column of zeros. Each estimate of :func:`_estimates` is refined (:func:`_refined32`) and the step it gives
    checked on every value (:func:`on_grid32`)."""
    x32 = np.asarray(x, dtype=np.float32).ravel()
    found = _estimates(x32.astype(np.float64)) if x32.size else None
    return None if found is None else _step32_near(x32, *found)


def _step32_near(x32: np.ndarray, distinct: np.ndarray, estimates: list[float]) -> float | None:
    """:func:`grid_step32` of float32 ``x32`` from its distinct values and their estimates (:func:`_estimates`)."""
    if not estimates:
        return 1.0
    for estimate in estimates:
        step = _refined32(distinct, estimate)
        if step is not None and on_grid32(x32, step):
            return step
    return None


REFINE_COUNTS = (64, 4096, 1 << 20)  # _refined32's passes on the differences: their whole multiples up to these


def _refined32(distinct: np.ndarray, estimate: float) -> float | None:
    """The step of float32 values ``distinct`` (sorted, as float64) near ``estimate``: the middle of the steps that
    every value's float32 rounding interval allows, ``(low / k, high / k)`` for the value's whole multiple ``k``
    (:func:`_rounding_cells`). The multiples are taken from ``estimate`` only as far as its error allows: first the
    differences from the least value that hold at most 64 steps (an estimate from a gap near ``m`` steps is off by
    about ``m`` units in the float32's last place), each pass narrowing the step for the next; then the values
    themselves. None where the intervals do not meet (no step) or a multiple passes ``MAX_ABS_SAMPLE``."""
    low, high = _rounding_cells(distinct)
    step = estimate
    if not step > 0:
        return None
    if len(distinct) > 1:
        span_low, span_high = low[1:] - high[0], high[1:] - low[0]  # where each difference from the least value lies
        middle = distinct[1:] - distinct[0]
        for limit in (*REFINE_COUNTS, None):
            counts = np.rint(middle / step)
            chosen = counts > 0 if limit is None else (counts > 0) & (counts <= limit)
            if not chosen.any():
                continue
            narrowed = _meet(span_low[chosen] / counts[chosen], span_high[chosen] / counts[chosen])
            if narrowed is None:
                return None
            step = narrowed
    with np.errstate(over="ignore", invalid="ignore"):
        k = np.rint(distinct / step)
    nonzero = distinct != 0
    if not bool(np.all(np.abs(k) <= MAX_ABS_SAMPLE)) or bool(np.any(k[nonzero] == 0)):
        return None
    k, low, high = k[nonzero], low[nonzero], high[nonzero]
    if not k.size:
        return step
    ends = np.where(k > 0, low, high) / k, np.where(k > 0, high, low) / k  # (a negative multiple turns them over)
    return _meet(*ends)


def _rounding_cells(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each float32 value of ``x`` (as float64), the ends of the reals that round to it in float32: the midpoints
    to its float32 neighbours (exact doubles: a float32 and its neighbour's mean needs 25 bits). A midpoint rounds to
    the neighbour of even mantissa, so an end belongs to the cell or not: :func:`_meet` takes them closed, and
    :func:`on_grid32` decides."""
    x32 = x.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        below = np.nextafter(x32, np.float32(-np.inf)).astype(np.float64)
        above = np.nextafter(x32, np.float32(np.inf)).astype(np.float64)
        return (x + below) / 2, (x + above) / 2


def _meet(lows: np.ndarray, highs: np.ndarray) -> float | None:
    """The middle of the closed intervals' common part, None where they have none (or it is not finite). Closed: a
    product on a midpoint may round to the value (ties to even), and the values can pin the step there, on both
    sides (``counts * np.float32(0.37)``: of 10 388 values, 19 and 18 bound it at float32(0.37) from below and
    above, each product a tie)."""
    low, high = float(lows.max()), float(highs.min())
    middle = low / 2 + high / 2
    return middle if low <= middle <= high and math.isfinite(middle) and middle > 0 else None


GCD_TERMS = 64  # the smallest gaps and values the common divisor is taken of
GCD_TOLERANCE = 2.0**-20  # Euclid's remainder within this share of its divisor of 0 (or of the divisor) is none


def approximate_gcd(values: np.ndarray, largest: float) -> float:
    """The approximate greatest common divisor of positive ``values`` (sorted, the smallest first; ``neargrid`` takes a
    step from the gaps between a channel's values so): Euclid's, a remainder within
    :data:`GCD_TOLERANCE` of its divisor taken for none, the divisor made again after each value as that value
    divided by the whole number nearest its quotient (so that the rounding of the gaps it came from does not add up);
    0 where there is none (``largest`` over it past ``MAX_ABS_SAMPLE``)."""
    divisor = float(values[0])
    for value in values[1:]:
        a, b = float(value), divisor
        while b > 0:
            r = math.fmod(a, b)
            a, b = b, (0.0 if r <= GCD_TOLERANCE * b or b - r <= GCD_TOLERANCE * b else r)
        count = _whole_quotient(float(value), a)
        if count is None or a < largest / MAX_ABS_SAMPLE:
            return 0.0
        divisor = float(value) / count
    return divisor


def _whole_quotient(value: float, step: float) -> int | None:
    """The whole number nearest ``value / step`` (both positive), where it is 1 to ``MAX_ABS_SAMPLE``; else None (a
    step of 0, or so small that the quotient overflows)."""
    quotient = value / step if step > 0 else math.inf
    return round(quotient) if 0.5 <= quotient <= MAX_ABS_SAMPLE else None


def _on_grid_near(x: np.ndarray, largest: float, estimate: float) -> float | None:
    """The step near ``estimate`` that ``x`` lies on (:func:`on_grid`), refined on its ``largest`` magnitude and tried
    with :data:`NEIGHBOURS` units in the last place either side; None where none does."""
    count = _whole_quotient(largest, estimate)
    if count is None:
        return None
    tried = [*with_neighbours(largest / count, NEIGHBOURS), estimate]
    return next((q for q in tried if q > 0 and on_grid(x, q)), None)


def with_neighbours(value: float, count: int) -> list[float]:
    """``value``, then its ``count`` doubles above, then its ``count`` below, nearest first: the steps a search made on
    a rounded quotient tries (its rounding moves it by a few units in the last place)."""
    tried = [value]
    for direction in (math.inf, 0.0):
        step = value
        for _ in range(count):
            step = math.nextafter(step, direction)
            tried.append(step)
    return tried


def integers_on(x: np.ndarray, steps: list[float]) -> np.ndarray:
    """``x`` (samples x channels, float64) as the integers it holds on each column's step: ``rint(x / step)``."""
    return np.rint(x / np.asarray(steps)).astype(np.int64)


def off_steps(x: np.ndarray, steps: list[float]) -> int | None:
    """The first column of ``x`` (samples x channels) with a value that is not finite or not on its step
    (:func:`on_grid`; float32 ``x``: :func:`on_grid32`), or None where every one is."""
    on = on_grid32 if x.dtype == np.float32 else on_grid
    return next((c for c, q in enumerate(steps) if not (np.all(np.isfinite(x[:, c])) and on(x[:, c], q))), None)


def on_grid32(x: np.ndarray, q: float) -> bool:
    """Whether every value of ``x`` (float32) is ``float32(rint(x / q) * q)`` bit for bit (the decoder's integers
    times the step, rounded to float32), each integer within ``MAX_ABS_SAMPLE``."""
    x32 = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        k = np.rint(x32.astype(np.float64) / q)
        if not bool(np.all(np.abs(k) <= MAX_ABS_SAMPLE)):
            return False
        return bool(np.array_equal((k * q).astype(np.float32), x32)) and not negative_zero(x32)


def negative_zero(x: np.ndarray) -> bool:
    """Whether ``x`` holds a -0.0, which no integer times a step gives back (``rint`` makes it 0, and 0.0 == -0.0)."""
    return bool(np.any((x == 0) & np.signbit(x)))


def on_grid(x: np.ndarray, q: float) -> bool:
    """Whether every value of ``x`` (float64) is ``rint(x / q) * q`` bit for bit (as the decoder multiplies its
    integers by the step), each integer within ``MAX_ABS_SAMPLE``: a -0.0 is not (its integer 0 decodes to 0.0, which
    ``array_equal`` took for it: the streaming writer's ``step=`` lost such signs)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        k = np.rint(x / q)
        if not bool(np.all(np.abs(k) <= MAX_ABS_SAMPLE)):
            return False
        return bool(np.array_equal(k * q, x)) and not negative_zero(x)
