"""The lossy mode's time-domain alternative (format 1.6): a channel coded by the lossless coder,
as it is or rounded to a coarser grid, where that takes fewer bytes than the wavelet coder.

A wavelet coder spends its bits on every coefficient of a signal that is flat for long stretches
(a fetal heart rate, a low-resolution ECG of a few dozen values); the lossless coder codes such
signals in a fraction of a bit per sample. So the lossy encoder also tries, per channel:

- **exact**: every frame as a lossless file codes it (any exact path: raw with LPC, LMS and long-term
  prediction, value table, constant), PRDN 0 on integer samples;
- **on a grid**: the samples rounded to the coarsest grid ``G = k g`` (``g`` the samples' own grid,
  ``k`` odd) whose PRDN meets the target, ``x0 + G * round((x - x0) / G)``, each frame a raw frame
  of that grid (its integers coded losslessly, so LPC and the rest apply).

and keeps the smallest of these and the wavelet coding. Decoders read the frames exactly as a
lossless file's (``frames.EXACT_IN_LOSSY``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple, TypeVar

import numpy as np

from sancodec.codec import kernels, running
from sancodec.codec.channelstats import channel_spread, channel_std
from sancodec.codec.entropy import ByteReader
from sancodec.codec.frames import Candidate, FramePlan, RawCoding, encode_channel_frame, get_coding, residual_stages
from sancodec.codec.interchannel import FrameGram, cross_channel_candidate
from sancodec.codec.jobs import piece_count, run_pieces
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.residual import best_residual, bits_from_histogram, estimate_bits
from sancodec.codec.valuegrid import value_grid
from sancodec.codec.valuetable import RANK_RANGE, distinct_ranks
from sancodec.metrics import prdn_of_error, prdn_with_spread, spread_of, sum_of_squares

__all__ = ["EXACT", "EXACT_QUICK", "Coded", "ExactPayload", "Work", "code_channel", "code_within", "exact_file",
           "exact_frames", "exact_payload", "grid_estimate", "grid_looks_smaller", "may_code_exactly",
           "predict_across"]

T = TypeVar("T")

EXACT = FramePlan("lossless", 0, 0.02, None, [])
EXACT_QUICK = FramePlan("lossless", 0, 0.02, None, [], predictor="fast")  # effort "balanced": no adaptive stages


class Coded(NamedTuple):
    """A channel's frame payloads, the PRDN they decode to, and whether they decode to its samples."""

    payloads: list[bytes]
    prdn: float
    exact: bool
    window: tuple[float, float] | None = None  # a wavelet coding's beat template window (lossy.MixHint)


BEYOND = 8  # EXACT's grid search tries at most this many odd k past the last before the first miss ...
QUICK_BEYOND = 2  # ... EXACT_QUICK's (effort balanced) this many, and codes the coarsest grid found alone (EXACT: the
# grid before it too; lossy_sizes: the same balanced files)
HOPELESS = 2.0  # skip a candidate whose order-0 estimate is this many times the bytes to beat
EXACT_AFTER_GRID = 1.25  # ... or, after a grid coding is kept, this many times that grid's own estimate (on
# bench_lossy's records the lossless coder came within 0.75-1.15 of the estimate of the samples or their cells)
PROBE = 1 << 15  # samples of a long channel coded exactly first, to see whether coding all of it can pay
PROBE_MARGIN = 1.15  # ... skipped where the probe's bytes, scaled to the channel, are this many times those to beat
# (on bench_lossy's records the scaled probe came close to the whole channel's bytes: 1.15 leaves room)
PROBE_BELOW = 1.0  # a grid whose order-0 estimate is below this many times the bytes to beat is coded without a probe


def _cells(x: np.ndarray, x0: int, grid: int) -> np.ndarray:
    """``round((x - x0) / grid)`` in integers (an odd grid has no ties): the values a raw frame of that
    grid codes."""
    return (x - x0 + grid // 2) // grid


def _on_grid(x: np.ndarray, x0: int, grid: int) -> np.ndarray:
    """The samples rounded to the grid: ``x0 + grid * round((x - x0) / grid)``."""
    return x0 + grid * _cells(x, x0, grid)


def _grid_limit(span: int, g: int) -> int:
    """The largest odd k worth trying for grids ``k g`` on samples spread over ``span`` (their largest less their
    least): past it every sample rounds to the first one's cell, or the grid no longer fits a raw frame's head."""
    return min(2 * (span // g) + 3, (MAX_ABS_SAMPLE // g - 1) | 1)


def _holds(u: np.ndarray, x0: int, grid: int) -> bool:
    """Whether a raw frame of ``x0 + grid * u`` stays within the decoder's bound, |first| + grid · max
    |u - u[0]|, and so within the format's limit (:func:`_cells_hold` of the cells' largest and least: two passes
    over the cells, not four)."""
    return _cells_hold(int(u.max()), int(u.min()), x0, grid)


def _cells_hold(top: int, bottom: int, x0: int, grid: int) -> bool:
    """:func:`_holds` from the cells' largest ``top`` and least ``bottom`` (max |u| is the larger of ``top`` and
    ``-bottom``)."""
    return abs(x0) + grid * (float(max(top, -bottom)) + float(top - bottom)) <= MAX_ABS_SAMPLE


def _coarsest_grids(x: np.ndarray, ref: np.ndarray, bound: float, spread: float, g: int,
                    beyond: int = BEYOND) -> list[tuple[int, float]]:
    """The largest odd ``k`` whose grid ``k g`` keeps the channel within ``bound``, and that PRDN; (1, PRDN
    of x) where no k > 1 does. PRDN grows with k nearly monotonically: doubling from the k the uniform
    rounding error predicts, then bisection, finds the last k before the first miss; then the next few odd
    k (at most ``beyond``, a quarter of it) are tried, as one may meet the bound again (a103l's ECG at PRDN 1 %:
    k = 53 misses, 55 meets it). Where one does, both come back, the coarser first: a coarser grid
    usually, not always, codes smaller."""
    x0 = int(x[0])
    most, least = x.max(), x.min()
    limit = _grid_limit(int(most - least), g)
    top, bottom = int(most), int(least)
    # an integer channel's own samples spread over less than 2^48 (every grid tried then under 2^50, every value
    # below in float64 exact, every quotient's floor its cell): the error is the rounding's alone
    centred = np.subtract(x, x0, dtype=np.float64) if x.dtype.kind in "iu" and top - bottom < 1 << 48 and \
        np.array_equal(ref, x) else None

    def prdn_at(k: int) -> float:
        grid = k * g
        if not _range_holds(top, bottom, x0, grid):
            return math.inf
        if centred is not None:  # ref - (x0 + grid * cells), value for value, in float64 passes (no int64 division)
            err = np.add(centred, grid // 2)
            np.divide(err, grid, out=err)  # correctly rounded, off by under 1 / grid: its floor is the cell
            np.floor(err, out=err)
            err *= grid
            np.subtract(centred, err, out=err)
            return prdn_of_error(sum_of_squares(err), spread)
        return prdn_with_spread(ref, x0 + grid * _cells(x, x0, grid), spread)

    lo, lo_prdn = 1, prdn_with_spread(ref, x, spread)
    guess = bound / 100 * channel_std(ref) * math.sqrt(12) / g  # uniform rounding error of grid k g
    hi = min(limit, max(3, int(guess) | 1))
    while hi < limit and (got := prdn_at(hi)) <= bound:
        lo, lo_prdn, hi = hi, got, min(limit, 2 * hi + 1)
    while hi - lo > 2:  # lo within the bound, hi beyond it (or the limit), both odd
        mid = (lo + hi) // 2 | 1
        got = prdn_at(mid)
        lo, hi, lo_prdn = (mid, hi, got) if got <= bound else (lo, mid, lo_prdn)
    for k in range(min(limit, lo + 2 * min(beyond, lo // 8 + 1)) | 1, lo, -2):
        if (got := prdn_at(k)) <= bound:
            return [(k, got), (lo, lo_prdn)]
    return [(lo, lo_prdn)]


def _range_holds(top: int, bottom: int, x0: int, grid: int) -> bool:
    """:func:`_holds` of the cells of samples from ``bottom`` to ``top`` (the cells grow with the samples: their
    largest and least are those of ``top`` and ``bottom``), without the cells."""
    return _cells_hold((top - x0 + grid // 2) // grid, (bottom - x0 + grid // 2) // grid, x0, grid)


def _raw_frame(u: np.ndarray, x0: int, grid: int, plan: FramePlan = EXACT) -> bytes:
    """A raw frame (path 0) whose samples decode to ``x0 + grid * u``, its residual through ``plan``'s stages."""
    raw = get_coding(0)
    assert isinstance(raw, RawCoding)
    residual = residual_stages(plan)(best_residual(u - u[0], allow_lpc=True))  # as a lossless file codes it
    return exact_payload(raw.on_grid(x0 + grid * int(u[0]), grid, residual))


class ExactPayload(bytes):
    """A time-domain channel-frame payload with the format minor version it needs (``minor``: 8 where it uses what
    format 1.8 added to lossless coding, the long adaptive stages, LPC without restarts or running contexts' MSB
    mode, else 6), as :func:`exact_payload` wrote it: ``waveletframe.needs_minor`` takes it from here instead of
    decoding the payload to find out (a short record's encode spent a tenth of a millisecond or more on that)."""

    minor: int


def exact_payload(candidate: Candidate) -> ExactPayload:
    """``candidate``'s payload with the minor version it needs (:class:`ExactPayload`): what its residual uses as
    written, which is what a decode of it reports (``waveletframe._exact_minor``; a residual written plain, the
    context-free coding, uses no running contexts)."""
    payload = ExactPayload(candidate.payload())
    res = candidate.residual
    plain = res is not None and bool(ByteReader(memoryview(payload)[len(candidate.head):]).varint() & 4)  # no copy
    uses = res is not None and (res.cascade is not None or (res.lpc is not None and res.lpc.whole)
                                or (not plain and running.uses_msb(res.coded())))
    payload.minor = 8 if uses else 6
    return payload


def _may_pay(frames: Sequence[np.ndarray], to_beat: int, plan: FramePlan = EXACT, work: Work | None = None) -> bool:
    """Whether coding the channel exactly may take fewer than ``to_beat`` bytes (:func:`_probe_pays`; coding
    a long channel exactly is most of the lossy encoder's time where it cannot win, as at PRDN 2 % and up
    on mitdb 100; ``work``: where the probe's bytes are kept once counted)."""
    def head_bytes(head: int) -> int:
        return len(encode_channel_frame(np.asarray(frames[0][:head]), None, plan).payload())

    return _probe_pays(sum(map(len, frames)), len(frames[0]), to_beat,
                       head_bytes if work is None else lambda head: work.kept(("probe", head), head_bytes, head))


def _probe_pays(n: int, first: int, to_beat: int, coded_bytes: Callable[[int], int]) -> bool:
    """On a channel of ``n`` values longer than twice :data:`PROBE`, the bytes ``coded_bytes`` counts for the first
    frame's first ``PROBE`` values (``first``: that frame's length), scaled to the channel's length, must
    stay within :data:`PROBE_MARGIN` times ``to_beat``; a shorter channel is coded whole anyway."""
    if n <= 2 * PROBE:
        return True
    head = min(PROBE, first)
    return coded_bytes(head) * n / head < PROBE_MARGIN * to_beat


class _ExactEstimates:
    """The order-0 estimates, in bytes, of coding a channel's samples ``x`` exactly: of their differences, and of
    their values' ranks' differences, which the exact coder's value tables code (a few distinct values spread over
    a wide range: MIMIC's 8-bit ECG on a 12-bit scale). Each is made once, when first asked: ``code_channel``
    asks them for its order, its gate after a grid and :func:`_hopeless`."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._differences: float | None = None
        self._ranks: float | None = None

    def differences(self) -> float:
        if self._differences is None:
            self._differences = _difference_bits(self.x) / 8
        return self._differences

    def ranks(self) -> float:
        if self._ranks is None:
            self._ranks = _rank_bits(self.x) / 8
        return self._ranks

    def below(self, limit: float) -> bool:
        """Whether either estimate is under ``limit`` (the ranks' made only where the differences' is not)."""
        return self.differences() < limit or self.ranks() < limit

    def within(self, limit: float) -> bool:
        """Whether either estimate is at most ``limit`` (the ranks' made only where the differences' is not)."""
        return self.differences() <= limit or self.ranks() <= limit


def _hopeless(estimates: _ExactEstimates, to_beat: float) -> bool:
    """Whether the order-0 estimates say coding the samples exactly cannot come near ``to_beat`` bytes: both, of
    their differences and of their values' ranks' differences, at :data:`HOPELESS` times it or more."""
    return not estimates.below(HOPELESS * to_beat)


LOOK_HEAD = 1 << 16  # exact_looks_smaller estimates a channel's exact coding on this many first samples


def _rank_differences(x: np.ndarray) -> np.ndarray:
    """The differences of the ranks of ``x``'s values among its distinct values (``valuetable.distinct_ranks``)."""
    return np.diff(distinct_ranks(x)[1])


def _difference_bits(x: np.ndarray) -> float:
    """``estimate_bits(np.diff(x))``, its histogram counted in one compiled pass where built (the same bits)."""
    counts = kernels.difference_histogram(x)
    return estimate_bits(np.diff(x)) if counts is None else bits_from_histogram(counts, max(len(x) - 1, 0))


def _rank_bits(x: np.ndarray) -> float:
    """``estimate_bits(_rank_differences(x))``, its histogram counted in one compiled call where built and the values
    spread over less than :data:`RANK_RANGE` (where :func:`_rank_differences` counts rather than sorts: the same
    table's size), the same bits."""
    counts = kernels.rank_difference_histogram(x, RANK_RANGE)
    return estimate_bits(_rank_differences(x)) if counts is None else bits_from_histogram(counts, max(len(x) - 1, 0))


class HeadLook(NamedTuple):
    """:func:`exact_looks_smaller`'s two estimates of a channel's exact coding, in bytes of the channel: of its
    head's differences, and of its head's values' ranks' differences (None where that head spreads over
    :data:`RANK_RANGE` values or more: not ranked); and :func:`grid_estimate`'s, where asked (None: not made)."""

    differences: float
    ranks: float | None
    grid: float | None = None


EXACT_LOOK_MARGIN = 1.3  # exact_looks_smaller: an estimate under this many times the bytes to beat looks smaller (the
# exact coder's contexts and value tables code in less than the order-0 estimate: MCL1's 8-bit ECG at PRDN 1 % in
# 0.75 of it, where the estimate came to 0.995 of the wavelets' bytes)
GRID_LOOK_MARGIN = 1.15  # grid_looks_smaller: likewise for the estimate of a grid's cells (emg_myopathy came to
# 0.95-1.12 of the wavelets' bytes, which format 1.13's parent contexts made smaller, and coded smaller on its grid at
# PRDN 1-9 %; emg_healthy at 5 and 9 %, whose wavelets code smaller, to 1.19 and 1.31; ECG, pulse, pressure and
# respiration to 1.4-3.8)


def look_at_head(frames: Sequence[np.ndarray], ref: np.ndarray | None = None,
                 bound: float | None = None) -> HeadLook | None:
    """Both of :func:`exact_looks_smaller`'s estimates, made ahead (beside other work, before the bytes to beat are
    known), and with ``ref`` and a PRDN ``bound``, :func:`grid_estimate`'s too; None where the head holds fewer than
    2 samples."""
    head, scale = _look_head(frames)
    if len(head) < 2:
        return None
    wide = int(head.max()) - int(head.min()) >= RANK_RANGE
    grid = None if ref is None or bound is None else grid_estimate(frames, ref, bound)
    return HeadLook(_difference_bits(head) * scale, None if wide else _rank_bits(head) * scale, grid)


def _look_head(frames: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """The head :func:`exact_looks_smaller` looks at, and the scale from its bits to the channel's bytes."""
    head = np.asarray(frames[0][:LOOK_HEAD], dtype=np.int64)
    return head, sum(map(len, frames)) / max(len(head), 1) / 8


def exact_looks_smaller(frames: Sequence[np.ndarray], to_beat: float, look: HeadLook | None = None) -> bool:
    """Whether the order-0 estimate of coding the channel exactly, of its differences or of its values' ranks'
    differences (:func:`_hopeless`'s two, against the bytes themselves), is already below ``to_beat`` bytes,
    judged on the first frame's first :data:`LOOK_HEAD` samples and scaled to the channel's length: a cheap
    test (no sort: a head spread over :data:`RANK_RANGE` values or more is not ranked) for a long channel
    whose exact coding may be the smaller one, as MIMIC's 8-bit ECG at a tight target. ``look``: those
    estimates, if made ahead (:func:`look_at_head`); else the ranks' is made only where the differences' is not
    below ``to_beat``."""
    to_beat *= EXACT_LOOK_MARGIN
    if look is not None:
        return look.differences < to_beat or (look.ranks is not None and look.ranks < to_beat)
    head, scale = _look_head(frames)
    if len(head) < 2:
        return False
    if _difference_bits(head) * scale < to_beat:
        return True
    if int(head.max()) - int(head.min()) >= RANK_RANGE:
        return False
    return _rank_bits(head) * scale < to_beat


def grid_looks_smaller(frames: Sequence[np.ndarray], ref: np.ndarray, bound: float, to_beat: float,
                       look: HeadLook | None = None) -> bool:
    """Whether :func:`grid_estimate` is under :data:`GRID_LOOK_MARGIN` times ``to_beat`` bytes: a cheap test for a
    long channel whose spectrum is nearly flat (EMG), where a grid (:func:`code_channel`) codes it in fewer bytes
    than the wavelets, which gain little on such a signal and pay for their tables. ``look``: the estimate, if made
    ahead (:func:`look_at_head` with ``ref`` and ``bound``)."""
    if not math.isfinite(to_beat):
        return False
    estimate = look.grid if look is not None and look.grid is not None else grid_estimate(frames, ref, bound)
    return estimate < GRID_LOOK_MARGIN * to_beat


def grid_estimate(frames: Sequence[np.ndarray], ref: np.ndarray, bound: float) -> float:
    """The order-0 estimate, in bytes, of the channel rounded to the grid whose uniform rounding error is PRDN
    ``bound`` (of its cells or of their differences, the smaller), judged on the first frame's first
    :data:`LOOK_HEAD` samples and scaled to the channel's length; inf where the head holds fewer than 2 samples or
    the grid is 1 (exact coding: :func:`exact_looks_smaller`'s question)."""
    head, scale = _look_head(frames)
    grid = int(bound / 100 * channel_std(ref) * math.sqrt(12)) | 1  # odd, as code_channel's grids
    if len(head) < 2 or grid <= 1:
        return math.inf
    cells = (head - head[0] + grid // 2) // grid
    return min(_difference_bits(cells), estimate_bits(cells - cells.min())) * scale


def _exact(frames: Sequence[np.ndarray], estimates: _ExactEstimates, to_beat: float,
           plan: FramePlan = EXACT, work: Work | None = None) -> list[bytes] | None:
    """The frames coded exactly, as a lossless file codes them under ``plan``, or None where the order-0
    ``estimates`` of their samples or :func:`_may_pay`'s probe say they cannot come near ``to_beat`` bytes
    (``work``: where the codings are kept once made)."""
    if not _may_code(frames, estimates, to_beat, plan, work):
        return None

    def coded() -> list[bytes]:
        return [exact_payload(encode_channel_frame(f, None, plan)) for f in frames]

    return coded() if work is None else work.kept(("exact",), coded)


def _may_code(frames: Sequence[np.ndarray], estimates: _ExactEstimates, to_beat: float,
              plan: FramePlan = EXACT, work: Work | None = None) -> bool:
    """Whether neither the order-0 ``estimates`` of the frames' samples nor :func:`_may_pay`'s probe rules out
    coding the frames exactly in about ``to_beat`` bytes."""
    return not _hopeless(estimates, to_beat) and _may_pay(frames, int(to_beat), plan, work)


def exact_frames(frames: Sequence[np.ndarray], within: float) -> list[bytes] | None:
    """The frames coded exactly, as :func:`_exact` gates them against ``within`` bytes (``lossy`` weighs
    them frame by frame against its wavelet frames)."""
    return _exact(frames, _ExactEstimates(_joined(frames)), within)


def may_code_exactly(frames: Sequence[np.ndarray], within: float) -> bool:
    """Whether the order-0 estimate and the probe leave the exact coding of ``frames`` near ``within`` bytes
    (what :func:`exact_frames` would code, without coding it all)."""
    return _may_code(frames, _ExactEstimates(_joined(frames)), within)


def _joined(frames: Sequence[np.ndarray]) -> np.ndarray:
    """A channel's frames as one int64 array of its samples."""
    return np.concatenate(frames).astype(np.int64)


def _channel(frames: Sequence[np.ndarray], ref: np.ndarray) -> tuple[np.ndarray, float, int, int]:
    """A channel's samples as one array, its PRDN denominator, its first sample and its own grid."""
    x = _joined(frames)
    x0 = int(x[0])
    return x, channel_spread(ref), x0, value_grid(x, x0) or 1


class Work:
    """What :func:`code_channel` works out for one channel at one PRDN bound under one plan that does not depend on
    the bytes to beat: the channel's samples and grids (:meth:`searched`), and every coding it makes (the exact
    frames, each grid's raw frames, the probes' heads), each kept once made. A call with a guess of the bytes to
    beat, made beside the wavelets' payload coding (``lossy._quick``), leaves in it what the call with the real bytes
    then finds made: that call takes the same steps, and the file is the same, as without it (a coding the guess
    did not reach is made then; one it made that the real bytes skip is work lost)."""

    def __init__(self, frames: Sequence[np.ndarray], ref: np.ndarray, bound: float, plan: FramePlan = EXACT) -> None:
        self.frames, self.ref, self.bound, self.plan = frames, ref, bound, plan
        self._kept: dict[tuple[Any, ...], Any] = {}

    def kept(self, key: tuple[Any, ...], make: Callable[..., T], *args: Any) -> T:
        """``make(*args)``, made once for ``key`` (what it names: ``args`` are not part of it). The speculative call
        ends before the real one starts; within a call, only the grids' codings are made two at a time, each under
        its own key."""
        if key not in self._kept:
            self._kept[key] = make(*args)
        return self._kept[key]

    def searched(self) -> _Searched:
        """The channel's samples and its grids (:func:`_searched`), made once."""
        return self.kept(("searched",), _searched, self.frames, self.ref, self.bound, self.plan)

    def guess(self, to_beat: float) -> None:
        """:func:`code_channel` with ``to_beat`` a guess of the bytes to beat, for what it leaves made here."""
        code_channel(self.frames, self.ref, self.bound, int(to_beat), self.plan, self)


class _Searched(NamedTuple):
    """:func:`code_channel`'s work before the bytes to beat play a part: the channel's first sample, the exact
    coding's PRDN and estimates, the grids weighed (grid, its PRDN, its cells, their estimate in bytes) and whether
    the samples are coded exactly before them (:func:`_exact_first`)."""

    x0: int
    exact_prdn: float
    estimates: _ExactEstimates
    grids: list[tuple[int, float, np.ndarray, float]]
    exact_first: bool


def _searched(frames: Sequence[np.ndarray], ref: np.ndarray, bound: float, plan: FramePlan) -> _Searched:
    """:class:`_Searched` of a channel (of some samples) at the PRDN ``bound`` under ``plan``."""
    x, spread, x0, g = _channel(frames, ref)
    exact_prdn = prdn_with_spread(ref, x, spread)
    estimates = _ExactEstimates(x)
    grids = []  # (grid, its PRDN, its cells, their estimate in bytes)
    quick = plan.predictor == "fast"  # EXACT_QUICK: fewer k tried past the first miss, the coarsest grid alone
    found = _coarsest_grids(x, ref, bound, spread, g, QUICK_BEYOND if quick else BEYOND)
    for k, coarse_prdn in found[:1] if quick else found:
        if k > 1:
            u = _cells(x, x0, k * g)
            grids.append((k * g, coarse_prdn, u, _difference_bits(u) / 8))
    exact_first = exact_prdn <= bound and _exact_first(estimates, [e for *_, e in grids])
    return _Searched(x0, exact_prdn, estimates, grids, exact_first)


def code_channel(frames: Sequence[np.ndarray], ref: np.ndarray, bound: float, to_beat: int,
                 plan: FramePlan = EXACT, work: Work | None = None) -> Coded | None:
    """The channel's frames coded in the time domain within PRDN ``bound`` in fewer than ``to_beat``
    bytes; None where neither candidate does. ``plan``: :data:`EXACT`, the lossless coder as it codes a
    file, or :data:`EXACT_QUICK`, without its adaptive stages (their search is most of the time on a short
    channel, and they save little where the time domain wins: a fetal heart rate's steps, EEG on a grid), and
    with one grid weighed (:data:`QUICK_BEYOND`). The candidate whose order-0 estimate is least is coded first,
    and the others only where theirs comes near its bytes: where a grid wins, coding the samples exactly first
    was most of the time (CTG's heart rate). After
    a grid kept, the samples are coded exactly only where their estimate is within :data:`EXACT_AFTER_GRID` of
    the grid's (the same coder gains alike on both: Bonn's EEG at PRDN 2 %). Of equal sizes, the exact coding
    is kept. ``work``: the :class:`Work` of this channel, bound and plan, where some of it may be made already
    (else it is all made here)."""
    if not sum(map(len, frames)):
        return None
    if work is None:
        work = Work(frames, ref, bound, plan)
    assert work.bound == bound and work.plan is plan and work.frames is frames
    x0, exact_prdn, estimates, grids, exact_first = work.searched()
    best: Coded | None = None
    if exact_first:
        payloads = _exact(frames, estimates, to_beat, plan, work)
        if payloads is not None and sum(map(len, payloads)) < to_beat:
            best, to_beat = Coded(payloads, exact_prdn, True), sum(map(len, payloads))
    bounds, first = np.cumsum([0, *map(len, frames)]), len(frames[0])
    wavelet_bytes, kept_estimate = to_beat, math.inf
    probes = [work.kept(("grid probe", grid), _GridProbe, u, x0, grid, first, plan, estimate)
              for grid, _, u, estimate in grids]
    _grid_codings(grids, probes, bounds, x0, to_beat, plan, work)
    for (grid, coarse_prdn, u, estimate), probe in zip(grids, probes):  # in turn, each against the bytes left to beat
        if probe.may_pay(to_beat):
            payloads = work.kept(("raw frames", grid), _raw_frames, u, bounds, x0, grid, plan)
            if sum(map(len, payloads)) < to_beat:
                best, to_beat = Coded(payloads, coarse_prdn, False), sum(map(len, payloads))
                kept_estimate = estimate
    if exact_prdn <= bound and not exact_first and estimates.within(EXACT_AFTER_GRID * kept_estimate):
        payloads = _exact(frames, estimates, to_beat, plan, work)
        if payloads is not None and sum(map(len, payloads)) < wavelet_bytes and sum(map(len, payloads)) <= to_beat:
            best = Coded(payloads, exact_prdn, True)
    return best


def _grid_codings(grids: Sequence[tuple[int, float, np.ndarray, float]], probes: Sequence[_GridProbe],
                  bounds: np.ndarray, x0: int, to_beat: int, plan: FramePlan, work: Work) -> None:
    """The raw frames of every grid that :func:`code_channel` may code, made side by side where two or more may
    be and ``jobs.run_pieces`` allows (none where fewer, or on one thread), kept in ``work`` by grid: those that
    pass its tests against the bytes it starts with, which only fall as a grid is kept, so no grid it codes is left
    out; one it then skips (a grid kept before it coded smaller than its estimate allows) is work lost."""
    may = [(grid, u) for (grid, _, u, _), probe in zip(grids, probes) if probe.may_pay(to_beat)]
    if len(may) < 2 or piece_count() < 2:
        return
    run_pieces([partial(work.kept, ("raw frames", grid), _raw_frames, u, bounds, x0, grid, plan) for grid, u in may],
               [len(u) for _, u in may])


def _raw_frames(u: np.ndarray, bounds: np.ndarray, x0: int, grid: int, plan: FramePlan) -> list[bytes]:
    """:func:`_raw_frame` of each frame's cells (``bounds``: where each frame starts, and the end)."""
    return [_raw_frame(u[a:b], x0, grid, plan) for a, b in zip(bounds, bounds[1:])]


class _GridProbe:
    """:func:`code_channel`'s test of a grid against the bytes to beat as they fall: its order-0 ``estimate`` (in
    bytes) below :data:`HOPELESS` times them, and :func:`_may_pay` for raw frames of its cells ``u`` (``first``: the
    first frame's length), its head coded once; the probe is left out where the estimate is already below the bytes
    to beat (:data:`PROBE_BELOW`): the raw frames' coder, which predicts, seldom takes more than the differences'
    order-0 bits, and coding the head first was then work thrown away (EMG on a grid, a third of its samples). A
    grid that codes no smaller all the same is not kept: no file grows, only that coding's time is spent."""

    def __init__(self, u: np.ndarray, x0: int, grid: int, first: int, plan: FramePlan, estimate: float) -> None:
        self.u, self.x0, self.grid, self.first, self.plan, self.estimate = u, x0, grid, first, plan, estimate
        self._head: int | None = None  # the head's bytes, once coded

    def may_pay(self, to_beat: int) -> bool:
        return self.estimate < HOPELESS * to_beat and (
            self.estimate < PROBE_BELOW * to_beat or _probe_pays(len(self.u), self.first, to_beat, self._head_bytes))

    def _head_bytes(self, head: int) -> int:
        if self._head is None:
            self._head = len(_raw_frame(self.u[:head], self.x0, self.grid, self.plan))
        return self._head


def _exact_first(estimates: _ExactEstimates, grid_estimates: Sequence[float]) -> bool:
    """Whether :func:`code_channel` codes the samples exactly before its grids: where none is tried, or where the
    order-0 ``estimates`` of the exact coding are no more than the least of the grids' ``grid_estimates``."""
    return not grid_estimates or estimates.within(min(grid_estimates))


MAX_GRID_CODINGS = 8  # grids coded in full while looking for the finest that fits a byte budget


def code_within(frames: Sequence[np.ndarray], ref: np.ndarray, budget: float, to_beat: float,
                tie_bytes: float | None = None) -> Coded | None:
    """The channel coded in the time domain in at most ``budget`` bytes at a PRDN below ``to_beat`` (the
    wavelet coding's at that budget): exactly where that fits, else on the finest odd grid ``k g`` whose
    raw frames fit (found by the order-0 estimate, then at most :data:`MAX_GRID_CODINGS` codings); None
    where neither does. A bits-per-sample target asks for the lowest error in its bytes, and a flat or
    step-like channel (a fetal heart rate) has far less of it on a grid than as wavelets. ``tie_bytes``: the
    wavelet coding's bytes, where the exact coding, at the same error (none: a budget so loose that the wavelets
    decode exactly too), is kept if smaller: the wavelets spent the whole budget where the exact coding needs a
    third of it (mitdb 100 at 10 bits a sample, 1.6 MB against 0.55 MB, both exact)."""
    if not sum(map(len, frames)):
        return None
    x, spread, x0, g = _channel(frames, ref)
    exact_prdn = prdn_with_spread(ref, x, spread)
    tie = tie_bytes is not None and exact_prdn == to_beat
    payloads = _exact(frames, _ExactEstimates(x), budget) if exact_prdn < to_beat or tie else None
    size = None if payloads is None else sum(map(len, payloads))
    if payloads is not None and size is not None and size <= budget and \
            (tie_bytes is None or not tie or size < tie_bytes):
        return Coded(payloads, exact_prdn, True)
    if tie:  # (no grid has less error than none)
        return None
    bounds = np.cumsum([0, *map(len, frames)])
    limit = _grid_limit(int(x.max() - x.min()), g)

    def fits_estimate(k: int) -> bool:
        return _difference_bits(_cells(x, x0, k * g)) / 8 <= budget

    lo, hi = 1, 3  # the finest odd k whose estimate fits: doubling, then bisection (lo misses, hi fits)
    while hi < limit and not fits_estimate(hi):
        lo, hi = hi, min(limit, 2 * hi + 1)
    while hi - lo > 2:
        mid = (lo + hi) // 2 | 1
        lo, hi = (lo, mid) if fits_estimate(mid) else (mid, hi)
    best: Coded | None = None
    beaten = False  # a grid tried left as much error as the wavelets: every coarser one does too
    for _ in range(MAX_GRID_CODINGS):  # the lossless coder beats the estimate: try finer grids while they fit
        grid = hi * g
        u = _cells(x, x0, grid)
        if not _holds(u, x0, grid):
            break
        got = prdn_with_spread(ref, x0 + grid * u, spread)
        if got >= to_beat:  # not coded: only a finer grid may beat the wavelets
            beaten = True
        elif beaten and _difference_bits(u) / 8 > HOPELESS * budget:
            break  # finer than the budget can hold by far: no grid beats the wavelets in it
        else:
            payloads = [_raw_frame(u[a:b], x0, grid) for a, b in zip(bounds, bounds[1:])]
            if sum(map(len, payloads)) > budget:
                if best is not None or beaten or hi >= limit:
                    break
                hi = min(limit, 2 * hi + 1)  # the estimate was too kind: coarser
                continue
            best = Coded(payloads, got, False)
        if hi <= 3:
            break
        hi = max(3, (hi * 3 // 4) | 1)  # fits, or leaves too much error: a finer grid may do
    return best


def predict_across(parts: list[list[bytes]], frames: Sequence[Sequence[np.ndarray | None]], exact: Sequence[bool],
                   plan: FramePlan = EXACT) -> None:
    """Where several full-rate channels of a lossy file are coded exactly, code each one's frames as
    the difference from a combination of the exact channels before it (path 5, as a lossless file
    does: multi-lead ECG), in place where smaller. ``parts[i][ch]``: frame i's payload of channel
    ch; ``frames[ch][i]``: its samples, None for a channel at a slower rate; ``plan``: the lossless coder's
    (:func:`code_channel`)."""
    channels = [ch for ch, is_exact in enumerate(exact) if is_exact]
    for i, frame_parts in enumerate(parts):
        earlier: list[tuple[int, np.ndarray]] = []
        gram = _frame_gram(frames, i, channels)
        for ch in channels:
            x = frames[ch][i]
            if x is not None:
                frame_parts[ch] = _across(frame_parts[ch], ch, x, earlier, plan, gram)


def _frame_gram(frames: Sequence[Sequence[np.ndarray | None]], i: int, channels: Sequence[int]) -> FrameGram | None:
    """Frame ``i``'s :class:`~sancodec.codec.interchannel.FrameGram` of the full-rate samples of ``channels``
    (``frames[ch][i]``, None at a slower rate): every fit :func:`_across` makes in that frame takes its block, as
    the lossless encoder's do; None where fewer than two are at the full rate or a sum in it would not be exact."""
    samples = {ch: x for ch in channels if (x := frames[ch][i]) is not None}
    return FrameGram.of(samples) if len(samples) > 1 else None


def _across(part: bytes, ch: int, x: np.ndarray, earlier: list[tuple[int, np.ndarray]], plan: FramePlan,
            gram: FrameGram | None = None) -> bytes:
    """Channel ``ch``'s exact payload ``part`` of a frame, or where smaller the difference of its samples ``x`` from
    a combination of the exact channels ``earlier`` in that frame (path 5: :func:`predict_across`,
    :func:`exact_file`); ``x`` then joins ``earlier``. ``gram``: the frame's (:func:`_frame_gram`), where made."""
    shared = None if gram is None else (gram, ch)
    cross = cross_channel_candidate(x, earlier, plan, 8 * len(part), shared) if earlier else None
    earlier.append((ch, x))
    return cross[0] if cross is not None and len(cross[0]) < len(part) else part


def exact_file(frames: Sequence[Sequence[np.ndarray]], refs: Sequence[np.ndarray], bounds: Sequence[float],
               full_rate: Sequence[Sequence[np.ndarray | None]], plan: FramePlan = EXACT,
               to_beat: float = math.inf) -> tuple[list[list[bytes]], list[float]] | None:
    """Every channel coded exactly, each predicted from the exact ones before it where smaller: a
    lossless file's frames inside the lossy one (``frames[ch][i]``: channel ch's samples in frame i at
    its own rate, ``full_rate[ch][i]`` the same or None). None where a channel's exact samples miss
    its PRDN bound in ``bounds`` (a float source's rounding), or where the channels coded so far already take
    ``to_beat`` bytes or more (the lossy file's: a channel's bytes, once coded and predicted, only add to the
    sum, so the rest is not coded where the file cannot be smaller; one lead of a 12-lead record coded in the time
    domain had all 12 coded exactly, about a third of the record's encode under the profiler); ``plan``: the
    lossless coder's (:func:`code_channel`). The channels go in order, each one's frames predicted as
    :func:`predict_across` predicts them (from the exact channels before it in that frame): the same payloads."""
    achieved = []
    for chans, ref, bound in zip(frames, refs, bounds):
        x = np.concatenate(chans).astype(np.float64)
        achieved.append(prdn_with_spread(ref, x, spread_of(ref)))
        if not achieved[-1] <= bound:
            return None
    count = len(frames[0])
    parts: list[list[bytes]] = [[b""] * len(frames) for _ in range(count)]
    earlier: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(count)]  # per frame: the channels before
    grams = [_frame_gram(full_rate, i, range(len(frames))) for i in range(count)]
    total = 0
    for ch, chans in enumerate(frames):
        for i in range(count):
            part = encode_channel_frame(chans[i], None, plan).payload()
            samples = full_rate[ch][i]
            parts[i][ch] = part if samples is None else _across(part, ch, samples, earlier[i], plan, grams[i])
            total += len(parts[i][ch])
        if total >= to_beat:
            return None
    return parts, achieved
