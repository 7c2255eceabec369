"""The lossy rate control's search for a quantiser step: where a measure of the decoded channel
(its PRDN, or its size in bytes) crosses a bound, to within 1 %, in few measurements.

Both measures are close to a power of the step over a small range, so a secant on their
logarithms lands near the crossing in two or three measurements (a bisection on the step's
logarithm needs about twelve from the starting bracket). Each estimate is aimed 0.5 % past the
crossing, away from the last measurement, so that the next measurement falls on the crossing's
other side and the bracket closes; where the secant does not shrink the bracket it gives way to a
bisection step (after three measurements that moved the same end, or once the bracket is closed where the last
slope measured was steeper than :data:`STEEP_SLOPE`: a cliff, along which the secant, its slope clamped to
:data:`MAX_SLOPE`, crawls).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from sancodec.codec.jobs import run_pieces

__all__ = ["coarsest_step", "find_step", "first_measured", "first_within", "modelled_step"]

TOLERANCE = 1.01  # the search stops when the bracket's ends are within 1 % of each other
NUDGE = 1.005  # each estimate is aimed this much past the crossing
MAX_MEASUREMENTS = 40
MAX_SLOPE = 5.0  # the secant's slope (log measure over log step) is taken within 0.2 .. this ...
STEEP_SLOPE = 6.0  # ... and past this, a cliff: the search bisects once the bracket is closed (a clamped secant
# crawls along a cliff, each end moving by a sliver: a power law of slope 8.5 took 29 measurements, one of slope 12
# or more all 40 without closing the bracket, 12 with the bisection; benchmarks/step_search_counts.py)
SCAN_GIVE_UP = 5.0  # coarsest_step's scan stops past the first step it measures beyond this many times the bound
SCAN = tuple(1.08**k for k in range(1, 26))  # up to 6.8 times, for a measure that jumps about
MAX_RESTARTS = 8
AIM = 1.004  # modelled_step measures next this far inside the bound from where it expects it to be crossed ...
MODELLED_MEASUREMENTS = 3  # ... at most this many times before it hands the bracket to find_step ...
MISFIT = 0.1  # ... and gives the search to find_step from the start where the model's factor moves by more than
# this (about 10 %: a step-like signal, whose measure is far from monotone)


def _f32(x: float) -> float:
    """The step as the file stores it (float32), so that what is measured is what decodes."""
    return float(np.float32(x))


def find_step(measure: Callable[[float], float], bound: float, lo: float, hi: float, guess: float,
              rising: bool = True) -> tuple[float, float]:
    """The bracket ``(lo, hi)`` (float32 steps, ``hi / lo < 1.01`` unless the search ran out) around
    the step where ``measure`` crosses ``bound``.

    ``rising``: the measure grows with the step (PRDN): ``lo`` stays within the bound, ``hi`` beyond
    it. Otherwise it falls (bytes): ``hi`` stays within the bound, ``lo`` beyond it. The starting
    ``lo`` and ``hi`` are taken on trust, unmeasured; ``guess`` is where to measure first.
    """
    target = math.log(bound)
    last: tuple[float, float] | None = None  # (log step, log measure) of the previous measurement
    slope, x = (1.0 if rising else -1.0), guess
    moves: list[bool] = []  # per measurement: whether it moved lo (else hi)
    steep = False  # the last slope measured was past STEEP_SLOPE
    for _ in range(MAX_MEASUREMENTS):
        if hi / lo < TOLERANCE:
            break
        x = _inside(x, lo, hi, bisect=(len(moves) >= 3 and len(set(moves[-3:])) == 1)
                    or (steep and len(set(moves)) == 2))
        value = measure(x)
        moves.append((value <= bound) == rising)
        lo, hi = (x, hi) if moves[-1] else (lo, x)
        if not (value > 0 and math.isfinite(value)):
            last, x = None, math.sqrt(lo * hi)  # no logarithm to follow: bisect
            continue
        point = (math.log(x), math.log(value))
        if last is not None and point[0] != last[0]:
            s = (point[1] - last[1]) / (point[0] - last[0])
            if s * slope > 0:  # a slope of the expected sign, kept within reason
                steep = abs(s) > STEEP_SLOPE
                slope = math.copysign(min(max(abs(s), 0.2), MAX_SLOPE), slope)
        last = point
        root = math.exp(min(max(point[0] + (target - point[1]) / slope, -700.0), 700.0))
        x = root * NUDGE if root > x else root / NUDGE
    return lo, hi


def first_measured(guess: float, lo: float, hi: float) -> float:
    """The step :func:`find_step`, :func:`coarsest_step` and :func:`modelled_step` measure first from ``guess``
    in ``(lo, hi)``: a caller may measure it ahead, beside other work."""
    return _inside(guess, lo, hi, bisect=False)


def _inside(x: float, lo: float, hi: float, bisect: bool) -> float:
    """``x`` moved strictly inside ``(lo, hi)`` (by at least 0.4 %), or their geometric mean when
    ``bisect`` or when no float32 step fits there."""
    if not bisect:
        x = _f32(min(max(x, lo * 1.004), hi / 1.004))
        if lo < x < hi:
            return x
    return _f32(math.sqrt(lo * hi))


def coarsest_step(measure: Callable[[float], float], bound: float, lo: float, hi: float,
                  guess: float, size: int = 0) -> tuple[float, float]:
    """Like :func:`find_step` for a rising measure; where the search met the measure going down as the
    step grew (few coefficients left, where a PRDN is far from monotone in the step), it then scans
    coarser steps in 8 % increments up to 6.8 times the crossing (:func:`first_within`, two at a time where a
    thread is spare and a measurement holds ``size`` values or more in all; none past one that measures beyond
    :data:`SCAN_GIVE_UP` times the bound), and starts over from the first that meets the bound again (a smaller
    file). A search that saw the measure rise throughout costs nothing more."""
    top, seen = hi, []

    def recorded(x: float) -> float:
        seen.append((x, measure(x)))
        return seen[-1][1]

    lo, hi = find_step(recorded, bound, lo, hi, guess)
    for _ in range(MAX_RESTARTS):
        if not _falls_somewhere(seen):
            break
        seen.clear()
        coarser = first_within(measure, bound, [s for s in (_f32(lo * f) for f in SCAN) if s < top], size)
        if coarser is None:
            break
        lo, hi = find_step(recorded, bound, coarser, top, coarser * 1.2)
    return lo, hi


def first_within(measure: Callable[[float], float], bound: float, steps: Sequence[float],
                 size: int = 0) -> float | None:
    """The first of ``steps`` whose ``measure`` is within ``bound`` (None: none is), the steps past the first that
    measures beyond :data:`SCAN_GIVE_UP` times the bound left untaken (a PRDN that far past its bound does not come
    back under it a few steps coarser on bench_lossy's records: mixedsignals' lead II scanned 25 steps from 1.4 to
    16.8 % against a bound of 2 %, and now 6, the same files; ``benchmarks/step_search_counts.py``). Where
    ``jobs.run_pieces`` allows (``size``: the values one measurement works on), on two threads, each taking the next
    step not yet taken, in order, until past the first found within: the same step found, a step past it perhaps
    measured as well (its work lost); on one thread, the steps in order up to that one, no more. ``measure`` must be
    safe to call from two threads (``coarsest_step``'s are decodes, compiled work mostly, which releases the
    interpreter lock)."""
    state = {"next": 0, "found": len(steps), "end": len(steps)}  # the next step to take; the least index found
    # within the bound; the steps past the first measured beyond SCAN_GIVE_UP times the bound, not taken
    lock = threading.Lock()

    def scan() -> None:
        while True:
            with lock:
                i = state["next"]
                if i >= min(state["found"], state["end"]):  # every step before the first found is taken
                    return
                state["next"] = i + 1
            value = measure(steps[i])
            if value <= bound:
                with lock:
                    state["found"] = min(state["found"], i)
            elif value > SCAN_GIVE_UP * bound:
                with lock:
                    state["end"] = min(state["end"], i + 1)

    run_pieces([scan, scan], [size, size])
    return steps[state["found"]] if state["found"] < len(steps) else None


def _falls_somewhere(points: list[tuple[float, float]]) -> bool:
    """Whether, among the measured ``(step, value)``, a coarser step measured lower than a finer one."""
    values = [v for _, v in sorted(points)]
    return any(b < a for a, b in zip(values, values[1:]))


def modelled_step(measure: Callable[[float], float], model: Callable[[float], float], bound: float, lo: float,
                  hi: float, guess: float, rising: bool = True) -> tuple[float, float]:
    """:func:`find_step` helped by ``model``, a cheap estimate of ``measure`` that is off by a factor that drifts
    slowly with the step (``errormodel.ErrorModel`` of a PRDN, which rises with the step; a coding's bit estimate of
    its bytes, which fall, ``rising`` False): each measurement calibrates the model there (between two
    measurements, the factor is taken as a power of the step through both), and a step :data:`AIM` inside the
    bound from the calibrated model's crossing is measured next. It stops where a measured step meets the bound and
    the calibrated model puts the crossing within 1 % beyond it: then the bracket's other end is that step's 1 %
    away, unmeasured. Fewer measurements than find_step where the model fits (at most three on a power law the
    model is off from by a drifting factor, ``tests/test_error_model.py``); after :data:`MODELLED_MEASUREMENTS`, or
    where the model cannot be calibrated (a measure or an estimate of 0), it hands the bracket to find_step; where
    the factor moves by more than :data:`MISFIT`, find_step searches from the start (the steps and result it would
    have found alone, the measurements made remembered)."""
    measured: dict[float, float] = {}

    def remembered(step: float) -> float:
        if step not in measured:
            measured[step] = measure(step)
        return measured[step]

    start, x = (lo, hi), _inside(guess, lo, hi, bisect=False)
    factors: list[tuple[float, float]] = []  # (log step, log of measure / model) at each measurement
    for _ in range(MODELLED_MEASUREMENTS):
        value = remembered(x)
        met = value <= bound
        lo, hi = (x, hi) if met == rising else (lo, x)
        if hi / lo < TOLERANCE:
            return lo, hi
        estimate = model(x)
        if not (0 < value < math.inf and 0 < estimate < math.inf):
            break
        factors.append((math.log(x), math.log(value / estimate)))
        if abs(factors[-1][1] - factors[0][1]) > MISFIT:  # not the measure's shape: find_step's search, as it was
            return find_step(remembered, bound, *start, guess, rising)
        calibrated = _calibrated(model, factors[-2:])
        if rising:
            crossing = _crossing(calibrated, bound, (x, value), lo, hi)
            if met and crossing < lo * TOLERANCE:
                return lo, _f32(lo * TOLERANCE)
        else:  # a falling measure's reciprocal rises
            crossing = _crossing(partial(_reciprocal, calibrated), 1.0 / bound, (x, 1.0 / value), lo, hi)
            if met and crossing > hi / TOLERANCE:
                return _f32(hi / TOLERANCE), hi
        x = _inside(crossing / AIM if rising else crossing * AIM, lo, hi, bisect=False)
    return find_step(remembered, bound, lo, hi, x, rising)


def _reciprocal(f: Callable[[float], float], s: float) -> float:
    """1 / ``f(s)``: a falling measure as a rising one (inf where ``f`` gives 0 or less: a bit estimate of 0 bytes
    at a step that quantises every value to 0, which :func:`_crossing` stops at)."""
    value = f(s)
    return 1.0 / value if value > 0 else math.inf


def _calibrated(model: Callable[[float], float], factors: list[tuple[float, float]]) -> Callable[[float], float]:
    """``model`` times the factor measured (one point), or through the two points of ``factors`` as a power of
    the step (its exponent kept within ±1, against a noisy pair)."""
    (u0, f0), (u1, f1) = factors[0], factors[-1]
    power = min(max((f1 - f0) / (u1 - u0), -1.0), 1.0) if u1 != u0 else 0.0
    return lambda s: model(s) * math.exp(f1 + power * (math.log(s) - u1))


def _crossing(f: Callable[[float], float], target: float, start: tuple[float, float], lo: float,
              hi: float) -> float:
    """Where the rising ``f`` reaches ``target`` between ``lo`` and ``hi``, to within 0.01 %: a secant on
    logarithms from ``start`` (a step and ``f`` there), at most 16 evaluations (the last estimate where it does
    not settle)."""
    goal, (x, value), slope = math.log(target), start, 1.0
    for _ in range(16):
        if abs(math.log(value) - goal) < 1e-4:
            break
        nxt = min(max(x * math.exp((goal - math.log(value)) / slope), lo), hi)
        after = f(nxt)
        if nxt == x or not 0 < after < math.inf:
            return nxt
        s = (math.log(after) - math.log(value)) / (math.log(nxt) - math.log(x))
        slope = min(max(s, 0.2), 5.0) if s > 0 else slope
        x, value = nxt, after
    return x
