"""The beat template a lossy channel's wavelet coding subtracts (the SAN-style predictor): which
window around each beat, where each beat sits, and on which grids its gains and taps are stored,
each chosen by the bit estimate at a step (``codec.lossyrate``); the rate control then decides
whether the template pays in bytes at all (``codec.lossy.encode_channel``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import NamedTuple

import numpy as np

from sancodec.codec.beats import (
    MAX_TAP_SHIFT,
    BeatTemplate,
    align,
    beats_inside,
    find_beats,
    find_template,
    fitted_template,
    moved_beats,
    remade_template,
    remakes,
    windows_of,
)
from sancodec.codec.entropy import encode_arrays
from sancodec.codec.jobs import piece_count, run_pieces
from sancodec.codec.lossyrate import LEVELS, Prepared, squared_error, step_at_error
from sancodec.codec.waveletframe import RHO16, ROUNDING

__all__ = ["GAIN_GRIDS", "QUICK_BEFORE", "QUICK_WINDOW", "QUICK_WINDOW_HEAD", "SHORT_BEFORE", "TEMPLATE_WINDOWS",
           "TemplateTrial", "best_template", "coarser_gains", "coarser_taps", "gain_grid", "quick_grids",
           "quick_templates", "quick_windows", "remade_templates", "template_windows", "trial_head"]

TEMPLATE_WINDOWS = ((0.15, 0.35), (0.2, 0.4), (0.25, 0.45), (0.3, 0.5))  # seconds before, after each beat
PERIOD_SHARE = 0.95  # a template window longer than this share of the beat period is also tried cut to it ...
MIN_AFTER = 0.1  # ... where that leaves at least this many seconds after the beat
REMADE = ((150.0, False), (None, True))  # (low-pass cutoff Hz, median): the beat template also weighed low-passed, or
# as its beats' median (remade_templates, beats.remade_template; 100 Hz saved under 0.3 % where it won at all)
GAIN_GRIDS = (4, 16, 0)  # beat gains tried on grids of 4/64 and 16/64, and all 1 (0), beside their own 1/64
MIN_GAIN_SHARE = 0.01  # the gains' grids are tried where the gains take at least this share of the bits
PAIRED_CANDIDATES = 1 << 15  # ... two at a time where a thread is spare and they hold this many values (effort
# balanced's heads of 2^15 to 2^16 samples: a103l, bidmc, ABP and 03700181 encode 4 % faster than with them in turn,
# benchmarks/ab_setting.py; on fewer the second thread's wake and the interpreter lock cost what it saves)
QUICK_BEFORE = (0.15, 0.3)  # effort "balanced": the windows of template_windows starting this long before the beat
SHORT_BEFORE = (0.2, 0.25)  # (and on a channel of at most SHORT_CHANNEL samples whose template pays on the head, these
SHORT_CHANNEL = 1 << 16  # too: there the head is a quarter of the channel or more, and it chose PTB's and bidmc's ECG
# 1-6 % smaller codings at PRDN 1-9 %, the others' the same (benchmarks/lossy_sizes.py --compare); weighed on every
# channel, drive17a's 836 224 samples had it misjudge, 3.5 % larger at PRDN 5 %, and up to 2^17 samples a103l, its PPG
# and ABP took 7-13 % more time for the same bytes: ab_setting.py ...templatesearch.SHORT_CHANNEL 65536 131072)
QUICK_WINDOW_HEAD = 1 << 14  # ... are weighed on a channel's first this many samples, the smallest coding's kept ...
LONGER_MARGIN = 0.01  # ... the longest of those within this share of the fewest bits (a T wave a short one leaves out
# costs little on the head and much at a coarse step over the whole record: drive17a at PRDN 9 %) ...
QUICK_WINDOW = (0.25, 0.45)  # ... or this one (cut where template_windows cuts) where none finds beats there;
QUICK_ALIGN_ROUNDS = 1  # its beats are aligned once (best_template's: beats.ALIGN_ROUNDS) ...
SHORT_ALIGN_ROUNDS = 2  # ... twice on a channel of at most SHORT_CHANNEL samples, where a round over the whole
# channel costs about a millisecond: PTB's and bidmc's ECG 0.6-5.5 % smaller at PRDN 1-9 %, no file larger
# (benchmarks/lossy_sizes.py --compare); on every channel it cost 10 % more time summed (ab_setting.py
# ...templatesearch.QUICK_ALIGN_ROUNDS 1 2), for files within 0.2 % on the longer ECGs but 03700181's at 5-9 %
QUICK_GAIN = 0.985  # its template is kept where its bit estimate is below this share of the plain coding's ...
QUICK_HEAD = 1 << 16  # ... on a channel's first this many samples
QUICK_SIDE_HEAD = 1 << 16  # its gains' and taps' grids are chosen on this many samples (quick_grids) ...
MIN_HEAD_BEATS = 8  # ... holding at least this many beats
MIN_TEMPLATE_BEATS = 16  # effort "balanced" weighs no template on a channel with fewer beats than this: its taps
# (half a second of samples) cost more than a dozen beats save (macecgdb's 8 s strip, MIMIC's 1028 samples: the
# template was weighed and turned down at every PRDN, and the default never keeps one there; PTB's 38.4 s hold 53)
HEAD_TEST = 2 * QUICK_WINDOW_HEAD  # best_template first tests a template on the head of a frame this long or longer
UNFIT_SHARE = 0.8  # a head whose first window's template found leaves this share of its beat windows' energy or more
# unexplained (beats.fitted_template) has no template weighed: EMG (0.87-0.91), EEG (0.93-0.96), a flat-lined lead
# (0.99), where the templates that pay leave at most 0.28 (a103l's pulse; an ECG 0.01-0.21). Such a template did not
# take off the head's bits the share that effort balanced asks (QUICK_GAIN, 5 % when this was measured), and its bit
# estimates and alignment were a third of an EMG channel's encode. A head's windows leave shares within 0.04 of each
# other on bench_lossy's records, so the first decides, the others not made (EMG, EEG and mixedsignals in 0.79-0.97 of
# their time: benchmarks/ab_revision.py daab5bf --effort balanced)
WINDOW_VALUES = 1 << 23  # best_template holds the best window's prepared frames and up to this many samples' more
# (each about 16 bytes a sample: bands and prediction), at least one window's, while it weighs windows side by side


def best_template(frames: Sequence[np.ndarray], ref: np.ndarray, fs: float | None, step: float,
                   windows: Sequence[tuple[float, float]] | None = None
                   ) -> tuple[Prepared | None, float, tuple[float, float]]:
    """The frames prepared with the beat templates that the bit estimate at ``step`` prefers (window,
    alignment, gains' and taps' grids), that estimate and the window; (None, inf, a window) where no beat
    train is found. ``windows``: those to weigh (default: :func:`template_windows`, on a frame of :data:`HEAD_TEST`
    samples or more only where its head says a template may pay, :func:`_may_help`)."""
    floats = _as_floats(frames)
    beats = [find_beats(f, fs) for f in floats] if fs and windows != () else []
    best, best_bits, best_window = None, math.inf, TEMPLATE_WINDOWS[0]
    if windows is None and beats and len(frames[0]) >= HEAD_TEST and not _may_help(frames[0], fs or 0.0, beats[0],
                                                                                   step):
        return None, math.inf, best_window
    cut_bits, cut_window = math.inf, TEMPLATE_WINDOWS[0]  # the best of the windows cut to the period
    tried = template_windows(beats, fs or 0.0) if windows is None else windows
    n = sum(map(len, frames))
    at_once = max(1, min(piece_count(), WINDOW_VALUES // max(n, 1)))  # weighed side by side (jobs.piece_threads)
    for first in range(0, len(tried), at_once):
        chunk = tried[first : first + at_once]
        weighed = run_pieces([partial(_weigh_window, frames, floats, beats, fs or 0.0, w, step) for w in chunk],
                             [n] * len(chunk))
        for window, result in zip(chunk, weighed):
            if result is None:
                continue
            prepared, bits = result
            if (windows is not None or window in TEMPLATE_WINDOWS) and bits < best_bits:
                best, best_bits, best_window = prepared, bits, window
            elif window not in TEMPLATE_WINDOWS and bits < cut_bits:
                cut_bits, cut_window = bits, window
    if cut_bits < best_bits:  # the estimate favours a cut window: made again, kept if its coded bytes agree
        cut = Prepared(frames, [find_template(f, fs or 0.0, cut_window, b) for f, b in zip(floats, beats)])
        if best is None or _codes_smaller(cut, best, ref, step):
            best, best_bits, best_window = cut, cut_bits, cut_window
    if best is None:
        return None, math.inf, best_window
    # the chosen window's beats moved to where its template fits them best
    aligned = Prepared(frames, [None if t is None else align(f, fs or 0.0, best_window, t)
                                 for f, t in zip(floats, best.templates)])
    bits = aligned.estimate(step)
    best, best_bits = (aligned, bits) if bits < best_bits else (best, best_bits)
    best, best_bits = remade_templates(frames, floats, ref, best, best_bits, step, fs or 0.0)
    best, best_bits = coarser_gains(frames, ref, best, best_bits, step)
    return (*coarser_taps(frames, ref, best, best_bits, step), best_window)


def _weigh_window(frames: Sequence[np.ndarray], floats: Sequence[np.ndarray], beats: Sequence[np.ndarray], fs: float,
                  window: tuple[float, float], step: float) -> tuple[Prepared, float] | None:
    """The frames prepared with each one's template for ``window`` (``beats`` as marked; ``floats``: the frames as
    float64, :func:`_as_floats`) and their bit estimate at ``step``; None where no frame finds a beat train."""
    templates = [find_template(f, fs, window, b) for f, b in zip(floats, beats)]
    if all(t is None for t in templates):
        return None
    prepared = Prepared(frames, templates)
    return prepared, prepared.estimate(step)


def _as_floats(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The frames as float64, converted once for the beat detection, the templates and their alignment (each
    converted its own copy of a whole channel before)."""
    return [np.asarray(f, dtype=np.float64) for f in frames]


def _may_help(x: np.ndarray, fs: float, beats: np.ndarray, step: float) -> bool:
    """Whether a beat template may pay on ``x``, judged on its first :data:`QUICK_WINDOW_HEAD` samples as effort
    "balanced" judges it (:func:`_head_window` over every window, :func:`_helps`): False only where the head
    shows a beat train whose best template leaves its bands no cheaper, side information aside (EMG bursts, EEG,
    respiration); True where the head shows none (the beats may start later). Spares :func:`best_template` its
    search over the whole channel where no template will be kept. (Every template is weighed here, those that fit
    no beat too: the default's byte budgets, at 1 bit a sample, kept such a template on EMG and on a flat-lined
    lead for 0.1 % fewer bytes.)"""
    head = x[:QUICK_WINDOW_HEAD]
    chosen = _head_window(head, beats, fs, template_windows([beats], fs), step)
    return chosen is None or _helps(head, fs, chosen, step)


def quick_templates(frames: Sequence[np.ndarray], fs: float | None,
                    step: float | Callable[[], float | None]) -> list[BeatTemplate | None] | None:
    """Effort "balanced"'s beat templates, one per frame: the window of :func:`template_windows` starting one of
    :data:`QUICK_BEFORE` before the beat whose template codes the first frame's first :data:`QUICK_WINDOW_HEAD`
    samples in the fewest bits at ``step`` (a step, or a callable that makes it once the beats are found; the bit
    estimate; :data:`QUICK_WINDOW`, or its cut, where no window
    finds beats there), the beats moved once to where the head's template fits them best (:func:`_placed_by`; on a
    channel of at most :data:`SHORT_CHANNEL` samples then aligned once more, :data:`SHORT_ALIGN_ROUNDS`; the fallback
    window: :func:`beats.align`, one round), the gains on their own grid; None without ``fs``,
    where no frame shows a beat train, or where that template leaves the head's wavelet bands no cheaper to
    code (its side information aside: EMG, EEG, respiration).
    One template instead of :func:`best_template`'s search (every window over the whole channel, two
    alignment rounds, the grids): most of what a template saves on an ECG for a fraction of the time. The
    window matters most where the heart beats fast (mimicdb 03700181 at 122 beats per minute wants 0.15 s
    before each beat, where mitdb 100 wants 0.3 s), the alignment on a sharp QRS."""
    if not fs:
        return None
    floats = _as_floats(frames)
    beats = [find_beats(f, fs) for f in floats]
    if sum(map(len, beats)) < MIN_TEMPLATE_BEATS:  # too few beats to pay for a template's taps
        return None
    windows = template_windows(beats, fs)
    head = frames[0][:QUICK_WINDOW_HEAD]
    at = step() if callable(step) else step  # a callable: the step made beside the beats (lossy._quick_wavelets)
    if not at:  # no step to weigh a window at (a channel without spread): no template
        return None
    weighed = _weighed_windows(head, beats[0], fs, quick_windows(windows), at, unfit=True)
    chosen = _best_choice(weighed) if isinstance(weighed, list) else None  # (else UNFIT)
    if weighed is UNFIT or (chosen is not None and not _helps(head, fs, chosen, at)):
        return None
    if chosen is not None and sum(map(len, frames)) <= SHORT_CHANNEL:  # a short channel's template pays: the others
        wider = _best_choice([*weighed, *_weighed_windows(head, beats[0], fs, quick_windows(windows, SHORT_BEFORE),
                                                          at)])
        chosen = wider if wider is not None and (wider is chosen or _helps(head, fs, wider, at)) else chosen
    if chosen is not None:  # the head's template places every frame's beats: one template made per frame
        rounds = SHORT_ALIGN_ROUNDS if sum(map(len, frames)) <= SHORT_CHANNEL else QUICK_ALIGN_ROUNDS
        templates = [_placed_by(f, fs, chosen, b, rounds) for f, b in zip(floats, beats)]
        return None if all(t is None for t in templates) else templates
    window = _fallback_window(windows)
    templates = [find_template(f, fs, window, b) for f, b in zip(floats, beats)]
    if all(t is None for t in templates):
        return None
    return [None if t is None else align(f, fs, window, t, rounds=QUICK_ALIGN_ROUNDS)
            for f, t in zip(floats, templates)]


def quick_windows(windows: Sequence[tuple[float, float]],
                  befores: Sequence[float] | None = None) -> list[tuple[float, float]]:
    """The windows of ``windows`` (:func:`template_windows`) that :func:`quick_templates` weighs on the head: those
    starting one of ``befores`` (by default :data:`QUICK_BEFORE`; on a short channel then :data:`SHORT_BEFORE`)
    before the beat, and of the windows cut to the beat period only the one that starts earliest (0.15 s before the
    beat). Where the heart beats so fast that every window is cut, one starting later before the beat takes in the
    previous beat's T wave and leaves out most of its own (it ends 0.15 s after the beat at 128 beats per minute): on
    no record of ``benchmarks/lossy_sizes.py`` was it
    chosen, and weighing it was a quarter of the head's search there (a103l, 03700181, the PPG)."""
    befores = QUICK_BEFORE if befores is None else befores
    earliest = TEMPLATE_WINDOWS[0][0]
    return [w for w in windows if w[0] in befores and (w in TEMPLATE_WINDOWS or w[0] == earliest)]


def _placed_by(x: np.ndarray, fs: float, chosen: HeadChoice, beats: np.ndarray,
               rounds: int) -> BeatTemplate | None:
    """``x``'s template for ``chosen``'s window, its ``beats`` first moved to where ``chosen``'s template (the
    head's) fits them best (:func:`beats.moved_beats`): :func:`beats.align`'s round without the whole frame's
    template made twice (the head's QRS is the frame's), then ``rounds - 1`` rounds of :func:`beats.align` (none
    moved where ``rounds`` is 0); ``x``'s template at ``beats`` as marked where that finds none."""
    window, guide = chosen.window, chosen.template
    inside = beats_inside(beats, len(x), fs, window)
    moved = moved_beats(x, fs, replace(guide, positions=inside)) if len(inside) and rounds else None
    fitted = None if moved is None else find_template(x, fs, window, moved)
    if fitted is None:
        return find_template(x, fs, window, beats)
    return fitted if rounds <= 1 else align(x, fs, window, fitted, rounds=rounds - 1)


class HeadChoice(NamedTuple):
    """:func:`_head_window`'s choice: the window, its template on the head, and the head's bit estimate with it
    (side information included)."""

    window: tuple[float, float]
    template: BeatTemplate
    bits: float


#: :func:`_head_window`'s answer where the head shows a beat train but no window's template fits its beats
#: (:data:`UNFIT_SHARE`): no template pays, and none is weighed
UNFIT = HeadChoice((0.0, 0.0), BeatTemplate(np.zeros(1, np.int64), 0, np.zeros(0, np.int64), np.zeros(0, np.int64)),
                   math.inf)


def _head_window(head: np.ndarray, beats: np.ndarray, fs: float, windows: Sequence[tuple[float, float]],
                 step: float, unfit: bool = False) -> HeadChoice | None:
    """The window of ``windows`` whose template (``beats`` as marked) codes ``head`` in the fewest bits at
    ``step``, side information included, that template and those bits (:func:`_best_choice` of
    :func:`_weighed_windows`); None where none finds a beat train there; with ``unfit``, :data:`UNFIT` where the
    first template found leaves :data:`UNFIT_SHARE` of its beat windows' energy or more unexplained (no other
    window's template made, no bit estimate)."""
    weighed = _weighed_windows(head, beats, fs, windows, step, unfit)
    return _best_choice(weighed) if isinstance(weighed, list) else weighed  # (else UNFIT)


def _weighed_windows(head: np.ndarray, beats: np.ndarray, fs: float, windows: Sequence[tuple[float, float]],
                     step: float, unfit: bool = False) -> list[HeadChoice] | HeadChoice:
    """Each window of ``windows`` whose template (``beats`` as marked) finds a beat train on ``head``, with that
    template and the head's bit estimate with it at ``step``, in their order; with ``unfit``, :data:`UNFIT` as
    :func:`_head_window` says."""
    marked = beats[beats < len(head)]
    # one after another: on two threads a head's few windows (a template and an estimate of 2^14 samples each,
    # much of it in Python) took longer than in turn, each thread waiting on the other for the interpreter lock
    fitted: list[tuple[BeatTemplate | None, float]] = []
    for w in windows:
        fitted.append(fitted_template(head, fs, w, marked) if unfit else (find_template(head, fs, w, marked), 1.0))
        if unfit and fitted[-1][0] is not None and all(t is None for t, _ in fitted[:-1]) and \
                fitted[-1][1] >= UNFIT_SHARE:  # the first template found decides (UNFIT_SHARE)
            return UNFIT
    return [HeadChoice(w, t, Prepared([head], [t]).estimate(step)) for w, (t, _) in zip(windows, fitted)
            if t is not None]


def _best_choice(choices: Sequence[HeadChoice]) -> HeadChoice | None:
    """Of ``choices``, the longest window within :data:`LONGER_MARGIN` of the fewest bits (the head misjudges by
    as much); None where there are none."""
    if not choices:
        return None
    fewest = min(c.bits for c in choices)
    return max((c for c in choices if c.bits <= (1 + LONGER_MARGIN) * fewest), key=lambda c: c.window[0] + c.window[1])


def _helps(head: np.ndarray, fs: float, chosen: HeadChoice, step: float) -> bool:
    """Whether ``chosen``'s template, aligned as :func:`quick_templates` aligns it, leaves ``head``'s bands fewer
    bits at ``step`` than they take without it, its side information left out (a lenient test: the
    whole channel's :class:`TemplateTrial` counts it). Where the template as chosen, unaligned and with its side
    information, already takes fewer (an ECG's, mostly), it is taken without aligning it to see: the alignment
    fits each beat better, and no record in ``benchmarks/lossy_sizes.py`` had it fail the test after that."""
    plain = Prepared([head], [None]).estimate(step)
    if chosen.bits < plain:
        return True
    with_template = Prepared([head], [align(head, fs, chosen.window, chosen.template, rounds=QUICK_ALIGN_ROUNDS)])
    return with_template.estimate(step) - with_template.side_bits[0] < plain


def _fallback_window(windows: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """:data:`QUICK_WINDOW`, or where ``windows`` holds cut ones (:func:`template_windows`), its cut."""
    if len(windows) == len(TEMPLATE_WINDOWS):
        return QUICK_WINDOW
    return next((w for w in windows[len(TEMPLATE_WINDOWS):] if w[0] == QUICK_WINDOW[0]), windows[-1])


def quick_grids(frames: Sequence[np.ndarray], ref: np.ndarray, templates: Sequence[BeatTemplate | None],
                step: float, head: Prepared | None = None,
                kept: list[Prepared] | None = None) -> list[BeatTemplate | None]:
    """Effort "balanced"'s ``templates`` with their gains and taps on the grids that :func:`gain_grid` and
    :func:`coarser_taps` choose at ``step`` on the first templated frame's first :data:`QUICK_SIDE_HEAD` samples
    (its template's beats there), applied to every frame's: side information scales with the beats as the
    residual's bits do with the samples, so a head judges the grids for the whole at a fraction of the time. A
    template of many taps (a 1000 Hz record) or many beats at a loose target costs more than it saves
    without them (PTB s0010_re, a103l's pulse at PRDN 5-9 %). ``head``: that frame's head prepared with its
    template as :class:`TemplateTrial` prepares it, if it was (its bands are shared where the heads are alike);
    ``kept``: where given, the head prepared with the grids chosen is appended to it (:func:`trial_head` makes the
    next trial's head of it)."""
    i = next(i for i, t in enumerate(templates) if t is not None)
    template = templates[i]
    assert template is not None
    x = frames[i][:QUICK_SIDE_HEAD]
    start = sum(map(len, frames[:i]))
    mine = template.positions - template.anchor < len(x)  # the beats whose template reaches into the head
    if np.count_nonzero(mine) < MIN_HEAD_BEATS:
        return list(templates)
    local = replace(template, positions=template.positions[mine], g64=template.g64[mine])
    # the channel's own reference where the head is all of it: the decodes remembered for it (squared_error) serve
    head_ref = ref if start == 0 and len(x) == len(ref) else ref[start : start + len(x)]
    if head is not None and head.prepares(x, template):
        prepared = head.with_templates([local])  # the beats it leaves out predict nothing in the head
    else:
        prepared = Prepared([x], [local])
    prepared, bits, grid = gain_grid([x], head_ref, prepared, prepared.estimate(step), step)
    prepared = coarser_taps([x], head_ref, prepared, bits, step)[0]
    fitted = prepared.templates[0]
    assert fitted is not None  # (the grids keep the head's template: they change its gains and taps)
    shift = fitted.shift
    if kept is not None:
        kept.append(prepared)
    if grid is None and shift == template.shift:
        return list(templates)
    out: list[BeatTemplate | None] = []
    for t in templates:
        if t is not None and grid is not None:
            t = t.with_gains_on(grid)
        if t is not None and shift != t.shift:
            t = t.with_taps_on(shift)
        out.append(t)
    return out


def trial_head(grids_head: Prepared, frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None],
               quick: bool) -> Prepared | None:
    """:func:`quick_grids`' head prepared with the grids it chose (``kept``), as :class:`TemplateTrial` would
    prepare its head under ``templates`` (the grids applied to every frame's): its bands shared, the side
    information counted again (``Prepared.with_templates``), where it is that head (:data:`QUICK_HEAD` samples of the
    first templated frame, the trial's levels and quantiser, no hum) and its template is that frame's template's
    beats in the head, tap for tap and gain for gain (a beat left out starts past the head: it predicts nothing
    there); None where not."""
    i = next(i for i, t in enumerate(templates) if t is not None)
    template, head = templates[i], frames[i][:QUICK_HEAD]
    assert template is not None
    mine = template.positions - template.anchor < len(head)
    in_head = replace(template, positions=template.positions[mine], g64=template.g64[mine])
    trial_like = grids_head.asked_levels == LEVELS and (grids_head.rounding, grids_head.rho16) == (ROUNDING, RHO16)
    if not trial_like or grids_head.lengths != [len(head)] or grids_head.mains[0] is not None or \
            not _same_templates(grids_head.templates, [in_head]):
        return None
    shared = grids_head.with_templates([template])
    shared.quick = quick  # the head's payloads coded as the trial's (where the channel is its head, they are coded)
    return shared


class TemplateTrial:
    """Effort "balanced"'s test of its templates: the bit estimate of the first templated frame's first
    :data:`QUICK_HEAD` samples with their template, the template's side information counted by the share of
    the frame they are, against :data:`QUICK_GAIN` of theirs without it. A long channel's beats look alike
    throughout, and weighing its head spares a wavelet transform and an estimate of every sample; the head's
    two transforms are made once, for every step it is weighed at."""

    def __init__(self, frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None],
                 quick: bool = False, without: Prepared | None = None, with_template: Prepared | None = None) -> None:
        i = next(i for i, t in enumerate(templates) if t is not None)
        head = frames[i][:QUICK_HEAD]
        if without is None:  # the head without a template: made beside the head with it
            self.with_template, self.without = run_pieces([partial(Prepared, [head], [templates[i]], quick=quick),
                                                           partial(Prepared, [head], [None], quick=quick)],
                                                          [len(head)] * 2)
        else:  # another trial's (the same frames'), shared; the head with the template too where made (trial_head)
            self.with_template = with_template if with_template is not None else \
                Prepared([head], [templates[i]], quick=quick)
            self.without = without
        self.side_elsewhere = self.with_template.side_bits[0] * (1 - len(head) / len(frames[i]))

    def pays(self, step: float) -> bool:
        """Whether the template pays at ``step``."""
        return self.with_template.estimate(step) - self.side_elsewhere < QUICK_GAIN * self.without.estimate(step)

    def may_pay(self, step: float) -> bool:
        """Whether the template would pay at ``step`` were its side information free: where not, no grid for its
        gains and taps (``quick_grids``, which trades a worse prediction for less side information) makes it pay,
        and none is looked for."""
        bands = self.with_template.estimate(step) - self.with_template.side_bits[0]
        return bands < QUICK_GAIN * self.without.estimate(step)


def _codes_smaller(a: Prepared, b: Prepared, ref: np.ndarray, step: float) -> bool:
    """Whether ``a``'s frames take fewer bytes than ``b``'s at ``step``, ``a`` coded at the step where its
    decoded error equals ``b``'s there (the error taken to scale with the step squared)."""
    error_a, error_b = squared_error(a, ref, step), squared_error(b, ref, step)
    step_a = step * math.sqrt(error_b / error_a) if error_a > 0 and error_b > 0 else step
    return sum(map(len, a.payloads(float(np.float32(step_a))))) < sum(map(len, b.payloads(step)))


def template_windows(beats: Sequence[np.ndarray], fs: float) -> tuple[tuple[float, float], ...]:
    """:data:`TEMPLATE_WINDOWS`, and where every one of them is longer than :data:`PERIOD_SHARE` of the
    beat period (the median gap of ``beats``), each also cut after the beat to fit it: a template longer
    than a beat takes in part of the next one, wherever the intervals vary (a103l at 128 beats per minute)."""
    gaps = np.concatenate([np.diff(b) for b in beats]) if len(beats) else np.zeros(0)
    if not len(gaps) or not fs > 0:
        return TEMPLATE_WINDOWS
    fit = PERIOD_SHARE * float(np.median(gaps)) / fs
    if any(before + after <= fit for before, after in TEMPLATE_WINDOWS):
        return TEMPLATE_WINDOWS
    cut = [(before, round(fit - before, 3)) for before, _ in TEMPLATE_WINDOWS if fit - before >= MIN_AFTER]
    return TEMPLATE_WINDOWS + tuple(dict.fromkeys(cut))


def remade_templates(frames: Sequence[np.ndarray], floats: Sequence[np.ndarray], ref: np.ndarray,
                     prepared: Prepared, bits: float, step: float, fs: float,
                     ways: Sequence[tuple[float | None, bool]] | None = None) -> tuple[Prepared, float]:
    """``prepared`` or the same beats with each frame's template made again as one of :data:`REMADE` says
    (``beats.remade_template``: low-passed, or the beats' median for their trimmed mean; ``floats``: the frames as
    float64), whichever the bit estimate prefers, each judged at the step where its error is ``prepared``'s at
    ``step`` (as :func:`gain_grid` judges a grid), and that estimate. A template of a few dozen beats keeps part of
    their noise, which the prediction adds back to every beat, and its noisy taps cost side information: low-passed,
    PTB s0010_re (1000 Hz) codes 0.1-0.4 % smaller than with the interquartile mean alone; a pulse wave whose beats
    change shape may code smaller with their median (a103l's PPG at PRDN 5 %). ``ways``: those to weigh (default:
    :data:`REMADE`; a cutoff at or above the Nyquist frequency is no way: left out)."""
    ways = [(cutoff, median) for cutoff, median in (REMADE if ways is None else ways) if remakes(fs, cutoff, median)]
    if not ways or all(t is None for t in prepared.templates) or any(m is not None for m in prepared.mains):
        return prepared, bits
    error = squared_error(prepared, ref, step)
    if not error > 0:  # an exact decode: no error to match
        return prepared, bits
    windows = [None if t is None else windows_of(f, t) for f, t in zip(floats, prepared.templates)]
    weigh = partial(_remade_candidate, frames, floats, windows, ref, error, step, fs, prepared)
    n = sum(map(len, frames))
    # side by side where threads allow
    at_once = max(1, min(piece_count(), len(ways))) if n >= PAIRED_CANDIDATES else 1
    for first in range(0, len(ways), at_once):
        chunk = ways[first : first + at_once]
        for weighed in run_pieces([partial(weigh, *how) for how in chunk], [n] * len(chunk)):
            if weighed is not None and weighed[1] < bits:
                prepared, bits = weighed
    return prepared, bits


def _remade_candidate(frames: Sequence[np.ndarray], floats: Sequence[np.ndarray],
                      windows: Sequence[np.ndarray | None], ref: np.ndarray, error: float, step: float, fs: float,
                      prepared: Prepared, cutoff: float | None, median: bool) -> tuple[Prepared, float] | None:
    """``prepared``'s templates remade (``beats.remade_template``, of each frame's ``windows``), the frames prepared
    with them and their estimate at equal error (:func:`_weigh_candidate`); None where no template could be remade
    so."""
    remade = [None if t is None else remade_template(f, fs, t, cutoff, median, w)
              for f, t, w in zip(floats, prepared.templates, windows)]
    if all(r is None for r in remade):
        return None
    templates = [t if r is None else r for r, t in zip(remade, prepared.templates)]
    return _weigh_candidate(frames, ref, error, step, prepared.asked_levels, templates)


def coarser_gains(frames: Sequence[np.ndarray], ref: np.ndarray, prepared: Prepared, bits: float,
                   step: float) -> tuple[Prepared, float]:
    """:func:`gain_grid` without the grid chosen."""
    return gain_grid(frames, ref, prepared, bits, step)[:2]


def gain_grid(frames: Sequence[np.ndarray], ref: np.ndarray, prepared: Prepared, bits: float,
              step: float) -> tuple[Prepared, float, int | None]:
    """``prepared`` with its beat gains rounded to the grid of :data:`GAIN_GRIDS` that the bit estimate
    prefers, and that estimate. The gains are side information: at a loose target a coarse gain costs
    less than it loses (all gains 1, grid 0, makes them nearly free), where the gains take at least
    :data:`MIN_GAIN_SHARE` of the bits. A coarser gain predicts worse, so
    each grid is judged at the step where its decoded channel has the error ``prepared`` has at
    ``step`` (measured at ``step``, the error taken to scale with the step squared). Also returns the grid
    chosen, None where the gains stay on their own."""
    gain_bits = sum(0 if t is None else 8 * len(encode_arrays([t.g64 - 64], [False])) for t in prepared.templates)
    if gain_bits < MIN_GAIN_SHARE * bits:  # no grid can save more than the gains take
        return prepared, bits, None
    error = squared_error(prepared, ref, step)
    if not error > 0:  # an exact decode: no error for a coarser grid to match
        return prepared, bits, None
    chosen = None
    weigh = partial(_weigh_candidate, frames, ref, error, step, prepared.asked_levels)
    ahead: dict[int, tuple[Prepared, float]] = {}
    n = sum(map(len, frames))
    if piece_count() > 1 and n >= PAIRED_CANDIDATES and 0 in GAIN_GRIDS[1:]:
        # the first grid's candidate and every gain 1's side by side
        first, ones = run_pieces([partial(weigh, _gains_on(prepared.templates, g)) for g in (GAIN_GRIDS[0], 0)],
                                 [n, n])
        ahead[GAIN_GRIDS[0]] = first
        if all(t is None or bool(np.all(t.g64 == 64)) for t in ones[0].templates):
            ahead[0] = ones  # every gain 1 whichever grid went before (else made in turn, from the one kept)
    weighed = [prepared.templates]  # the gains weighed so far, in the grids' order
    for grid in GAIN_GRIDS:
        if grid in ahead:
            candidate, estimate = ahead[grid]
        else:
            gains = _gains_on(prepared.templates, grid)
            if any(_same_templates(gains, w) for w in weighed):  # its estimate is one already weighed against bits
                continue
            made = [a for a in ahead.values() if _same_templates(gains, a[0].templates)]  # made beside the first
            candidate, estimate = made[0] if made else weigh(gains)
        weighed.append(candidate.templates)
        if estimate < bits:
            prepared, bits, chosen = candidate, estimate, grid
    return prepared, bits, chosen


def _same_templates(a: Sequence[BeatTemplate | None], b: Sequence[BeatTemplate | None]) -> bool:
    """Whether templates ``a`` are ``b``, field for field: the same prediction (:func:`_same_prediction`) and the same
    shift, so the same side information. In :func:`gain_grid`, a candidate already weighed: its estimate, the same
    again, would not beat ``bits``: either it did, and ``bits`` is that estimate (or less), or it did not, and
    ``bits`` has only fallen since (the base's is ``bits`` itself, at the step whose error is its own)."""
    return _same_prediction(a, b) and all(t is u or (t is not None and u is not None and t.shift == u.shift)
                                          for t, u in zip(a, b))


def _gains_on(templates: Sequence[BeatTemplate | None], grid: int) -> list[BeatTemplate | None]:
    return [None if t is None else t.with_gains_on(grid) for t in templates]


def _taps_on(templates: Sequence[BeatTemplate | None], shift: int) -> list[BeatTemplate | None]:
    return [None if t is None else t.with_taps_on(shift) for t in templates]


def _weigh_candidate(frames: Sequence[np.ndarray], ref: np.ndarray, error: float, step: float, levels: int,
                     templates: Sequence[BeatTemplate | None]) -> tuple[Prepared, float]:
    """The frames prepared with ``templates`` and their bit estimate at the step where their squared error would be
    ``error`` (:func:`_at_equal_error`)."""
    candidate = Prepared(frames, templates, levels)
    return candidate, _at_equal_error(candidate, ref, error, step)


def coarser_taps(frames: Sequence[np.ndarray], ref: np.ndarray, prepared: Prepared, bits: float,
                  step: float) -> tuple[Prepared, float]:
    """``prepared`` with its templates' taps on the coarsest grid of ``2**shift`` eighths (format 1.7)
    that the bit estimate prefers, and that estimate. Taps finer than the residual's step cost side
    information (a 1000 Hz template is hundreds of taps) and predict no better; each shift (2, 4, …,
    up to a grid of about ``step``) is judged as :func:`coarser_gains` judges a gain grid, and the
    search stops at the first that does not help."""
    tap_bits = sum(0 if t is None else 8 * len(encode_arrays([np.diff(t.t8, prepend=0)], [False]))
                   for t in prepared.templates)
    if tap_bits < MIN_GAIN_SHARE * bits:
        return prepared, bits
    error = squared_error(prepared, ref, step)
    if not error > 0:  # an exact decode: no error for a coarser grid to match
        return prepared, bits
    shifts = list(range(2, min(MAX_TAP_SHIFT, int(math.log2(max(8 * step, 1)))) + 1, 2))
    weigh = partial(_weigh_candidate, frames, ref, error, step, prepared.asked_levels)
    n = sum(map(len, frames))
    at_once = min(piece_count(), 2) if n >= PAIRED_CANDIDATES else 1
    while shifts:
        # the next shift, and with a thread to spare the one after it on the first's taps (what it is made from
        # where the first is kept; its work is lost where the first ends the search)
        chain = [_taps_on(prepared.templates, shifts.pop(0))]
        if at_once > 1 and shifts:
            chain.append(_taps_on(chain[0], shifts.pop(0)))
        jobs = [partial(_weigh_taps, weigh, prepared, ref, error, step, t) for t in chain]
        for candidate, estimate in run_pieces(jobs, [n] * len(chain)):
            if estimate >= bits:
                return prepared, bits
            prepared, bits = candidate, estimate
    return prepared, bits


def _weigh_taps(weigh: Callable[[Sequence[BeatTemplate | None]], tuple[Prepared, float]], prepared: Prepared,
                ref: np.ndarray, error: float, step: float,
                templates: Sequence[BeatTemplate | None]) -> tuple[Prepared, float]:
    """``weigh(templates)``, but where the coarser taps are ``prepared``'s own (taps already on that grid: the shift
    stored is all that changes), ``prepared``'s bands and decoded errors shared (:meth:`Prepared.with_templates`),
    not made again: the same bands, the same estimate."""
    if not _same_prediction(templates, prepared.templates) or any(m is not None for m in prepared.mains) or \
            (prepared.rounding, prepared.rho16) != (ROUNDING, RHO16):
        return weigh(templates)
    candidate = prepared.with_templates(templates)
    candidate.quick = False  # as weigh's frames are prepared (only a coding's payloads differ by it)
    return candidate, _at_equal_error(candidate, ref, error, step)


def _same_prediction(a: Sequence[BeatTemplate | None], b: Sequence[BeatTemplate | None]) -> bool:
    """Whether templates ``a`` predict every sample as ``b`` do: the same beats, gains and taps (a shift aside)."""
    return len(a) == len(b) and all(
        t is u or (t is not None and u is not None and t.anchor == u.anchor and np.array_equal(t.t8, u.t8)
                   and np.array_equal(t.positions, u.positions) and np.array_equal(t.g64, u.g64))
        for t, u in zip(a, b))


def _at_equal_error(candidate: Prepared, ref: np.ndarray, error: float, step: float) -> float:
    """``candidate``'s bit estimate at :func:`step_at_error`, never coarser than ``step``."""
    return candidate.estimate(min(step_at_error(candidate, ref, error, step), step))
