"""A lossy channel made ready for quantisation (:class:`Prepared`) and the rate control over its step.

Rate control runs per channel over the whole record: the encoder searches ``Δ``
(``codec.stepsearch``: a secant on logarithms, within 1 %) for the coarsest step whose *decoded*
channel meets the target, computed with the decoder's own reconstruction
(``codec.waveletframe.reconstruct``), so the PRDN (or SNR, or bits per sample) the file promises is
the one it delivers. Every channel meets the target on its own.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.beats import BeatTemplate
from sancodec.codec.channelstats import channel_spread, channel_std, mark_not_integral, not_integral
from sancodec.codec.errormodel import ErrorModel
from sancodec.codec.jobs import piece_count, run_pieces
from sancodec.codec.mains import Mains
from sancodec.codec.residual import estimate_bands, estimate_histograms
from sancodec.codec.stepsearch import coarsest_step, find_step, first_measured, modelled_step
from sancodec.codec.wavelet import band_lengths, forward_flat, levels_for, split_bands
from sancodec.codec.waveletframe import (
    RHO16,
    ROUNDING,
    frame_prediction,
    quantise_flat,
    reconstruct,
    template_side,
    wavelet_payload,
)
from sancodec.metrics import prdn_of_error, sum_of_squares

if TYPE_CHECKING:
    from sancodec.codec.lossy import LossyTarget

__all__ = ["CLEAR_MARGIN", "LEVELS", "FixedPrediction", "Prepared", "WaveletCoding", "channel_error", "estimates",
           "first_step", "rate_control", "smaller", "squared_error", "step_at_error"]

LEVELS = 7  # wavelet levels of the first rate control; then each channel takes its own (lossy.LEVEL_CHOICES)
KEPT_PREDICTION = 1 << 20  # a channel of at most this many samples keeps its beat prediction (8 MB), not made again
MODELLED = 1 << 17  # rate_control(modelled=True) models channels of this many samples or more (a shorter one
# decodes in little more than the time the model takes to make) ...
FINEST = 0.5  # ... at an RMS error of at least this: finer, the decoded samples' rounding to integers shapes the
# PRDN more than the quantiser does, and the model misses it (mitdb 100 at 1 %)
BUDGET_MODELLED = 1 << 13  # a byte budget's search is helped by the bit estimate on channels of this many samples
# or more (shorter, its search and calibration cost what the codings they spare do: 1.4-1.8x the time on 1000-4000)
SHARED_ESTIMATES = 1 << 19  # estimates weighs its codings side by side where they hold this many values
CLEAR_MARGIN = 1.1  # plain or beat template: bit estimates this far apart decide without coding both
EXACT_SUM = float(1 << 53)  # a sum of squared integer differences below this is exact, whatever its order
SHARED_ERROR = 1 << 18  # a one-frame channel of this many samples or more has a step's error made in halves side by
# side (Prepared.decoded_error): the bands requantised and the last level rebuilt and summed, a half on each thread


class Prepared:
    """One channel's frames made ready for quantisation: the template's prediction subtracted, the
    offset removed, the wavelet bands computed once for every step tried."""

    def __init__(self, frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None],
                 levels: int = LEVELS, quick: bool = False, mains: Sequence[Mains | None] | None = None,
                 predictions: Sequence[np.ndarray | None] | None = None) -> None:
        """``predictions``: each frame's ``frame_prediction`` of its template and hum, where the caller has made it
        (fresh arrays, kept by a short channel as its own), else made here."""
        self.templates = templates
        self.mains = list(mains) if mains is not None else [None] * len(frames)  # the hum each frame adds (1.10)
        self.quick = quick  # each band coded one way (quick_bands)
        self.rounding, self.rho16 = ROUNDING, RHO16  # the quantiser (with_quantiser)
        self.asked_levels = levels
        self.lengths = [len(f) for f in frames]
        self.offsets, self.flat = [], []
        self.levels = [levels_for(len(f), levels) for f in frames]
        # a long channel's prediction is made again when needed (kept, it would take as much memory as its bands)
        self._kept: list[np.ndarray | None] | None = [] if sum(self.lengths) <= KEPT_PREDICTION else None
        for i, (f, lv) in enumerate(zip(frames, self.levels)):
            p = self.prediction(i) if predictions is None else predictions[i]
            if self._kept is not None:
                if p is not None:
                    p.flags.writeable = False  # shared by every measurement: nobody may change it
                self._kept.append(p)
            compiled = kernels.prepared_forward(f, p, lv) if f.dtype == np.int64 else None
            offset, flat = compiled if compiled is not None else prepared_by_numpy(f, p, lv)  # the same bits
            self.offsets.append(offset)
            self.flat.append(flat)
        self.side_bits = _side_bits(templates, self.mains)  # counted once
        self._forget()

    def _forget(self) -> None:
        """Drop what was worked out for these frames (a copy of other frames or under another quantiser)."""
        self._last: tuple[float, list[bytes]] | None = None
        self._estimates: dict[float, float] = {}  # estimate's bits by step: asked again by whoever weighs the coding
        self._bands: dict[float, list[float]] = {}  # ... and each frame's bands' share of them (with_templates shares)
        self._errors: tuple[np.ndarray | None, dict[float, float]] = (None, {})  # squared_error's, by step, for a ref

    def prediction(self, i: int) -> np.ndarray | None:
        """Frame ``i``'s beat prediction (None without a template): kept on a short channel
        (:data:`KEPT_PREDICTION`), else made from the template each time."""
        if self._kept is not None and i < len(self._kept):
            return self._kept[i]
        return frame_prediction(self.templates[i], self.mains[i], self.lengths[i])

    def subset(self, keep: Sequence[int]) -> Prepared:
        """The frames ``keep`` alone (bands shared, not recomputed), under the same quantiser."""
        other = copy.copy(self)
        other.templates = [self.templates[i] for i in keep]
        other.mains = [self.mains[i] for i in keep]
        other.lengths = [self.lengths[i] for i in keep]
        other.offsets = [self.offsets[i] for i in keep]
        other.flat = [self.flat[i] for i in keep]
        other.levels = [self.levels[i] for i in keep]
        other.side_bits = [self.side_bits[i] for i in keep]
        other._kept = None if self._kept is None else [self._kept[i] for i in keep]
        other._forget()
        return other

    def prepares(self, frame: np.ndarray, template: BeatTemplate | None) -> bool:
        """Whether this is one frame of ``frame``'s length prepared under ``template`` (that object) and no hum: what
        a head prepared elsewhere (``templatesearch.TemplateTrial``'s) must be for a caller that would prepare that
        head under that template to take it instead."""
        return self.lengths == [len(frame)] and self.templates[0] is template and self.mains[0] is None

    def with_templates(self, templates: Sequence[BeatTemplate | None]) -> Prepared:
        """The same frames under ``templates``, which must predict each frame's samples as these frames' do (a
        template less beats that reach none of them): bands, offsets, predictions and the bands' estimates shared
        (a channel's head weighed again with its own beats' side information), the side information counted
        again."""
        other = copy.copy(self)
        other.templates = list(templates)
        other.side_bits = _side_bits(other.templates, other.mains)
        other._forget()
        other._bands = self._bands  # the same bands: one estimate of them serves both ...
        other._errors = self._errors  # ... and the same predictions, one decode at a step
        return other

    def with_quick(self, quick: bool) -> Prepared:
        """The same frames with each band coded one way (``quick``) or every way: bands, predictions and what was
        measured of them (estimates, decoded errors) shared, only the payloads made afresh."""
        other = copy.copy(self)
        other.quick = quick
        other._last = None
        return other

    def with_quantiser(self, rounding: float, rho16: int) -> Prepared:
        """The same frames (bands shared, not recomputed) under another dead zone (``rounding``, the
        encoder's choice) and reconstruction point (``rho16``, stored in each frame since format 1.2)."""
        other = copy.copy(self)
        other.rounding, other.rho16 = rounding, rho16
        other._forget()
        return other

    def quantised(self, delta: float) -> list[list[np.ndarray]]:
        """Each frame's quantised bands at step ``delta``."""
        return [split_bands(quantise_flat(f, delta, self.rounding), lv) for f, lv in zip(self.flat, self.levels)]

    def decoded(self, delta: float) -> np.ndarray:
        """The channel the decoder rebuilds at step ``delta`` (compiled: quantised and rebuilt in one call
        where the reconstruction point is the cell's centre, the decoder's arithmetic bit for bit)."""
        parts = []
        for i, (f, lv, o) in enumerate(zip(self.flat, self.levels, self.offsets)):
            p = self.prediction(i)
            compiled = kernels.wavelet_requantised(f, lv, delta, self.rounding, o, p) if self.rho16 == 8 else None
            parts.append(compiled if compiled is not None else
                         reconstruct(split_bands(quantise_flat(f, delta, self.rounding), lv), delta, self.rho16, o, p))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)  # one frame: no copy

    def estimate(self, delta: float) -> float:
        """A quick bit estimate of the frames at step ``delta``: order-0 bits of the quantised bands
        (``residual.estimate_bits``) plus the templates' side information (remembered per step: the same
        coding is weighed at its step more than once)."""
        if delta not in self._estimates:
            self._estimates[delta] = self._estimated(delta)
        return self._estimates[delta]

    def _estimated(self, delta: float) -> float:
        if delta not in self._bands:
            self._bands[delta] = [self._band_bits(f, lv, delta) for f, lv in zip(self.flat, self.levels)]
        bits = 0.0
        for bands, side in zip(self._bands[delta], self.side_bits):
            bits += bands
            bits += side
        return bits

    def _band_bits(self, flat: np.ndarray, levels: int, delta: float) -> float:
        lengths = band_lengths(len(flat), levels)
        counts = kernels.quantised_histograms(flat, lengths, delta, self.rounding)  # no quantised copy made
        return estimate_bands(quantise_flat(flat, delta, self.rounding), lengths) if counts is None else \
            estimate_histograms(counts, lengths)

    def squared_error(self, ref: np.ndarray, delta: float) -> float:
        """The squared error of the frames decoded at step ``delta`` against ``ref`` (remembered per step for the
        last ``ref`` object asked about, by every copy that shares these bands and predictions: a grid's search
        measures the coding it kept at the same step again, a second rate control retraces the first's steps)."""
        asked, errors = self._errors
        if asked is not ref:
            errors = {}
            self._errors = (ref, errors)
        if delta not in errors:
            errors[delta] = self.decoded_error(delta, ref)
        return errors[delta]

    def decoded_error(self, delta: float, ref: np.ndarray) -> float:
        """:func:`channel_error` of the frames decoded at step ``delta`` against ``ref`` (not remembered): each frame's
        summed in its decode's own compiled call where those sums are exact (a reference of integers, a total below
        2^53: the bits numpy's sum of the whole gives), else the decode's as :func:`_error_of_decoded` sums it (the
        frames decoded again where a compiled call summed one instead of decoding it)."""
        halves = self._error_in_halves(delta, ref)
        if halves is not None:
            return halves
        parts: list[np.ndarray | None] = []
        total, exact, start = 0.0, True, 0
        for i, (f, lv, o) in enumerate(zip(self.flat, self.levels, self.offsets) if self.rho16 == 8 else ()):
            got = kernels.wavelet_requantised_error(f, lv, delta, self.rounding, o, self.prediction(i),
                                                    ref[start : start + len(f)])
            if got is None:  # no C kernels
                return _error_of_decoded(self.decoded(delta), ref)
            parts.append(got[0])
            exact, total, start = exact and got[1] is not None, total + (got[1] or 0.0), start + len(f)
        if not parts:  # another reconstruction point: the decode's own route
            return _error_of_decoded(self.decoded(delta), ref)
        if exact and total < EXACT_SUM:
            return total
        decoded = [p for p in parts if p is not None]
        if len(decoded) < len(parts):  # a frame summed, not decoded: all of them decoded afresh
            return _error_of_decoded(self.decoded(delta), ref)
        return _error_of_decoded(decoded[0] if len(decoded) == 1 else np.concatenate(decoded), ref)

    def _error_in_halves(self, delta: float, ref: np.ndarray) -> float | None:
        """:meth:`decoded_error` of a one-frame channel of :data:`SHARED_ERROR` samples or more on two threads where
        ``jobs.piece_threads`` allows: the bands requantised (and ``ref`` checked for integers) a half on each, the
        levels but the last rebuilt on this one, the last level's samples rebuilt and their squared differences
        summed a half on each (``kernels.requantised_range``, ``last_level_error``): the one compiled call's total,
        bit for bit, where that is exact; None where this does not apply or the total is not exact (``ref`` not of
        integers, which is remembered for it, or a total of 2^53 or more), for the one call to decide."""
        flat = self.flat[0] if len(self.flat) == 1 else None
        n = len(ref)
        if flat is None or len(flat) != n or n < SHARED_ERROR or self.rho16 != 8 or self.levels[0] < 1 or \
                piece_count() < 2 or not kernels.COMPILED or ref.dtype != np.float64 or not ref.flags.c_contiguous \
                or not_integral(ref):
            return None
        out = np.empty(n)
        half = n // 2
        pieces = [partial(kernels.requantised_range, flat, lo, hi, delta, self.rounding, out, ref)
                  for lo, hi in ((0, half), (half, n))]
        if not all(run_pieces(pieces, [half, n - half])):
            mark_not_integral(ref)
            return None
        levels, ns = self.levels[0], n - n // 2
        if levels > 1:
            kernels.cdf97_inverse(out[:ns], levels - 1)
        middle = ns // 2
        halves = [partial(kernels.last_level_error, out, levels, lo, hi, self.offsets[0], self.prediction(0), ref)
                  for lo, hi in ((0, middle), (middle, ns))]
        total = sum(run_pieces(halves, [2 * middle, n - 2 * middle]))
        return total if total < EXACT_SUM else None

    def payloads(self, delta: float) -> list[bytes]:
        """The frames' payloads at step ``delta`` (the bits only: no reconstruction needed; the last
        step's are kept, as the search for a size budget asks for them again)."""
        if self._last is None or self._last[0] != delta:
            self._last = (delta, [wavelet_payload(q, delta, lv, o, t, self.quick, self.rho16, m) for q, lv, o, t, m
                                  in zip(self.quantised(delta), self.levels, self.offsets, self.templates, self.mains)])
        return self._last[1]


def prepared_by_numpy(frame: np.ndarray, prediction: np.ndarray | None, levels: int) -> tuple[int, np.ndarray]:
    """A frame's offset and bands as :class:`Prepared` makes them where ``kernels.prepared_forward`` does not: the
    residual ``frame - prediction`` (the frame alone without one), its mean rounded to the offset, and
    ``forward_flat`` of the residual less it (in one float64 pass, in place after a prediction; the integers'
    difference rounds as its conversion would: the same values)."""
    r = frame if prediction is None else frame - prediction
    offset = int(np.rint(r.mean()))
    centred = np.subtract(frame, offset, dtype=np.float64) if prediction is None else np.subtract(r, offset, out=r)
    return offset, forward_flat(centred, levels)


def _side_bits(templates: Sequence[BeatTemplate | None], mains: Sequence[Mains | None]) -> list[int]:
    """Each frame's side information in bits: its template's and its hum's."""
    return [(0 if t is None else 8 * len(template_side(t))) + (0 if m is None else 8 * len(m.side))
            for t, m in zip(templates, mains)]


def rate_control(prepared: Prepared, ref: np.ndarray, target: LossyTarget, guess: float | None = None,
                  scan: bool = True, modelled: bool = False) -> WaveletCoding:
    """The coarsest step that meets ``target`` and the PRDN it decodes to (``guess``: where the search
    measures first; by default the step uniform quantisation of every coefficient would need; ``scan``:
    past a PRDN that falls as the step grows, look for coarser steps that meet it, ``coarsest_step``;
    ``modelled``, without ``scan``: a PRDN bound searched with the estimate of ``errormodel`` calibrated by
    each decode, ``stepsearch.modelled_step``, on a channel of :data:`MODELLED` samples or more at an RMS error
    of :data:`FINEST` or more: fewer decodes, a step within the same 1 %). A byte budget's search, for the finest
    step that fits, is helped so by the coding's bit estimate, calibrated by each coding of the frames, and starts
    where that estimate crosses the budget (``guess`` by default), on a channel of :data:`BUDGET_MODELLED` samples or
    more: two to four codings of the frames where it took 6 to 9 from the middle of its range."""
    scale = max((max(float(f.max(initial=0)), -float(f.min(initial=0))) for f in prepared.flat), default=0.0)  # max |f|
    # lo: exact after rounding; hi: every coefficient quantises to 0 (both, like every step tried, float32)
    lo, hi = float(np.float32(1e-3)), float(np.float32(max(4.0 * scale, 1.0)))
    bound = target.max_prdn
    measured: dict[float, float] = {}
    first = max(guess if guess is not None else first_step(ref, target) or 0.0, lo) if bound is not None else 0.0
    may_model = modelled and not scan and len(ref) >= MODELLED
    if bound is not None and may_model and piece_count() > 1:  # the first step's decode beside the spread and model
        x = first_measured(first, lo, hi)
        spread, model = run_pieces([partial(prepared.squared_error, ref, x),
                                    partial(_spread_and_model, prepared, ref)], [len(ref)] * 2)[1]
    else:
        spread, model = channel_spread(ref), None  # metrics.prdn's denominator, once per channel

    def distortion(step: float) -> float:  # each decode remembered by the bands (squared_error): another search of
        # them (a sparse channel's scan after its plain coding's, lossy._quick) measures none of its steps again
        measured[step] = prdn_of_error(prepared.squared_error(ref, step), spread)
        return measured[step]

    if bound is not None:  # the coarsest step that still meets the PRDN
        if may_model and bound / 100 * spread / math.sqrt(len(ref)) >= FINEST:
            model = model or ErrorModel(prepared.flat, prepared.levels, prepared.rounding, spread)
            step = modelled_step(distortion, model, bound, lo, hi, first)[0]
        else:
            step = coarsest_step(distortion, bound, lo, hi, first, len(ref))[0] if scan else \
                find_step(distortion, bound, lo, hi, first)[0]
    else:  # the finest step that fits the budget
        assert target.bps is not None  # (a LossyTarget holds a PRDN bound or a budget)
        budget = target.bps * len(ref) / 8
        size = lambda s: sum(map(len, prepared.payloads(s)))  # noqa: E731
        if len(ref) < BUDGET_MODELLED:  # frames that code in about the time their estimate takes
            step = find_step(size, budget, lo, hi, guess if guess is not None else math.sqrt(lo * hi),
                             rising=False)[1]
        else:
            first = guess if guess is not None else _budget_guess(prepared, budget, lo, hi)
            step = modelled_step(size, lambda s: prepared.estimate(s) / 8, budget, lo, hi, first, rising=False)[1]
    return WaveletCoding(prepared, step, measured[step] if step in measured else distortion(step))


def _budget_guess(prepared: Prepared, budget: float, lo: float, hi: float) -> float:
    """Where the bit estimate of ``prepared``'s coding crosses ``budget`` bytes: the byte search's first step, near
    where the bytes cross it."""
    return find_step(lambda s: prepared.estimate(s) / 8, budget, lo, hi, math.sqrt(lo * hi), rising=False)[1]


def _spread_and_model(prepared: Prepared, ref: np.ndarray) -> tuple[float, ErrorModel]:
    """``ref``'s spread and the :class:`ErrorModel` of ``prepared``'s bands with it (:func:`rate_control`, beside
    its first decode)."""
    spread = channel_spread(ref)
    return spread, ErrorModel(prepared.flat, prepared.levels, prepared.rounding, spread)


def first_step(ref: np.ndarray, target: LossyTarget) -> float | None:
    """Where rate control first measures a PRDN (or SNR) target: the step that uniform quantisation of
    every coefficient would need; None for a byte budget, whose search starts in the middle of its range."""
    if target.max_prdn is None:
        return None
    return target.max_prdn / 100 * channel_std(ref) * math.sqrt(12)


class WaveletCoding(NamedTuple):
    """One way of coding a channel at the step its rate control found, and the PRDN it decodes to."""

    prepared: Prepared
    step: float
    prdn: float

    def payloads(self) -> list[bytes]:
        return self.prepared.payloads(self.step)

    def estimate(self) -> float:
        return self.prepared.estimate(self.step)


def smaller(a: WaveletCoding, b: WaveletCoding) -> WaveletCoding:
    """The one whose frames take fewer bytes (``a`` on a tie): judged by the bit estimate where it
    differs by more than :data:`CLEAR_MARGIN`, else by coding both."""
    ea, eb = estimates([(a.prepared, a.step), (b.prepared, b.step)])
    if max(ea, eb) > CLEAR_MARGIN * min(ea, eb):
        return a if ea <= eb else b
    return a if sum(map(len, a.payloads())) <= sum(map(len, b.payloads())) else b


def estimates(codings: Sequence[tuple[Prepared, float]]) -> list[float]:
    """Each ``(prepared, step)``'s :meth:`Prepared.estimate`, side by side where ``jobs.piece_threads`` allows and
    they hold :data:`SHARED_ESTIMATES` values or more (an estimate takes about a nanosecond a value: on fewer, a
    helper's wake costs what it saves)."""
    sizes = [sum(p.lengths) for p, _ in codings]
    if sum(sizes) < SHARED_ESTIMATES:
        return [p.estimate(step) for p, step in codings]
    return run_pieces([partial(p.estimate, step) for p, step in codings], sizes)


def squared_error(prepared: Prepared, ref: np.ndarray, step: float) -> float:
    """The squared error of the channel decoded at ``step`` against ``ref`` (:meth:`Prepared.squared_error`)."""
    return prepared.squared_error(ref, step)


def step_at_error(candidate: Prepared, ref: np.ndarray, error: float, step: float) -> float:
    """The step where ``candidate``'s decoded squared error would equal ``error`` (> 0), measured at ``step``
    and taken to scale with the step squared."""
    return step * math.sqrt(error / max(squared_error(candidate, ref, step), 1e-300))


def channel_error(y: np.ndarray, ref: np.ndarray) -> float:
    """The squared error of ``y`` against ``ref``."""
    return sum_of_squares(y - ref)


def _error_of_decoded(decoded: np.ndarray, ref: np.ndarray) -> float:
    """:func:`channel_error` of a decode made for this measurement alone, its difference from ``ref`` taken in its
    place (no second channel-sized array: a rate control measures a long channel at several steps; its PRDN is
    ``metrics.prdn_of_error`` of it). The value of :func:`channel_error`'s sum, which squares the same differences."""
    return sum_of_squares(np.subtract(decoded, ref, out=decoded))


class FixedPrediction:
    """A given prediction in the slot of a beat template: it writes no side information (what it
    costs is counted elsewhere, or is the same for everything compared)."""

    shift = 0  # no tap grid: format 1.7's predictor bit 3 stays clear

    def __init__(self, prediction: np.ndarray) -> None:
        self.p = prediction

    def prediction(self, length: int) -> np.ndarray:
        return self.p[:length]

    def write(self, w: object) -> tuple[bool, bool]:
        return False, False
