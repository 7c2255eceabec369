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
"""

from __future__ import annotations

import math

import numpy as np

from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["grid_step", "grid_steps", "integers_on", "off_steps", "on_grid"]

NEIGHBOURS = 4  # steps tried each side of the estimate, in units in the last place


def grid_steps(x: np.ndarray) -> list[float] | None:
    """Each column's :func:`grid_step` of ``x`` (samples x channels, floats); None where a column has none."""
    steps = [grid_step(np.asarray(column, dtype=np.float64)) for column in np.asarray(x).T]
    return None if any(s is None for s in steps) else [float(s) for s in steps if s is not None]


def grid_step(x: np.ndarray) -> float | None:
    """A step ``q`` (a positive double) such that every value of ``x`` (float64) is ``rint(x / q) * q`` exactly, with
    ``|rint(x / q)|`` within ``MAX_ABS_SAMPLE``; None where none is found. The estimates: the smallest gap between the
    distinct values (a walk that takes single steps), else their approximate greatest common divisor (:func:`_gcd`
    of the smallest gaps and values: a few samples far apart); each made exact on the largest value
    (``max / rint(max / estimate)``, the factor to within a few units in the last place) and tried with its
    neighbours; 1 for a channel of zeros."""
    if not x.size or not bool(np.all(np.isfinite(x))) or bool(np.any((x == 0) & np.signbit(x))):
        return None
    distinct = np.unique(x)
    magnitudes = np.abs(distinct[distinct != 0])  # (of the distinct values: the same largest and smallest)
    if not magnitudes.size:
        return 1.0
    with np.errstate(over="ignore"):
        gaps = np.diff(distinct)  # (the gap across 0 between values past half the float range: infinite, left out)
    largest = float(magnitudes.max())
    smallest = np.unique(np.concatenate([gaps[(gaps > 0) & np.isfinite(gaps)], magnitudes]))[:GCD_TERMS]
    for estimate in (float(smallest[0]), _gcd(smallest, largest)):
        step = _on_grid_near(x, largest, estimate)
        if step is not None:
            return step
    return None


GCD_TERMS = 64  # the smallest gaps and values the common divisor is taken of
GCD_TOLERANCE = 2.0**-20  # Euclid's remainder within this share of its divisor of 0 (or of the divisor) is none


def _gcd(values: np.ndarray, largest: float) -> float:
    """The approximate greatest common divisor of positive ``values``: Euclid's, a remainder within
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
    refined = largest / count
    tried = [refined]
    for direction in (math.inf, 0.0):
        step = refined
        for _ in range(NEIGHBOURS):
            step = math.nextafter(step, direction)
            tried.append(step)
    tried.append(estimate)
    return next((q for q in tried if q > 0 and on_grid(x, q)), None)


def integers_on(x: np.ndarray, steps: list[float]) -> np.ndarray:
    """``x`` (samples x channels, float64) as the integers it holds on each column's step: ``rint(x / step)``."""
    return np.rint(x / np.asarray(steps)).astype(np.int64)


def off_steps(x: np.ndarray, steps: list[float]) -> int | None:
    """The first column of ``x`` (samples x channels) with a value that is not finite or not on its step
    (:func:`on_grid`), or None where every one is."""
    return next((c for c, q in enumerate(steps) if not (np.all(np.isfinite(x[:, c])) and on_grid(x[:, c], q))), None)


def on_grid(x: np.ndarray, q: float) -> bool:
    """Whether every value of ``x`` (float64) is ``rint(x / q) * q`` bit for bit (as the decoder multiplies its
    integers by the step), each integer within ``MAX_ABS_SAMPLE``."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        k = np.rint(x / q)
        if not bool(np.all(np.abs(k) <= MAX_ABS_SAMPLE)):
            return False
        return bool(np.array_equal(k * q, x))
