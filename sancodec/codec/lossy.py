"""Lossy coding at a quality target: one channel's coding, chosen among wavelet and time-domain codings.

For each channel the encoder codes its samples with the wavelet frame coding (``codec.waveletframe``)
at the coarsest step that meets the target (``codec.lossyrate``), with a beat template subtracted
where that makes the file smaller (``codec.templatesearch``), then weighs the channel's time-domain
codings (``codec.timedomain``), other wavelet levels and quantisers, and, in a one-frame file, coding
some shorter frames exactly (:func:`mix_hint`, :func:`_mixed`); the smallest coding that meets the
target is kept. ``codec.lossyfile`` runs it over a record's channels and blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from sancodec.codec import dependentframe, timedomain
from sancodec.codec.beats import BeatTemplate
from sancodec.codec.channelstats import channel_spread
from sancodec.codec.jobs import Once, piece_count, run_pieces
from sancodec.codec.lossyrate import (
    CLEAR_MARGIN,
    LEVELS,
    FixedPrediction,
    Prepared,
    WaveletCoding,
    channel_error,
    first_step,
    rate_control,
    smaller,
    squared_error,
    step_at_error,
)
from sancodec.codec.mains import fit_mains, mains_frequency
from sancodec.codec.schema import is_real
from sancodec.codec.templatesearch import (
    QUICK_HEAD,
    TemplateTrial,
    best_template,
    quick_grids,
    quick_templates,
    remade_templates,
    trial_head,
)
from sancodec.codec.waveletframe import RHO16, ROUNDING, frame_prediction, needs_minor
from sancodec.errors import SanConfigError, option
from sancodec.metrics import spread_of

__all__ = ["DEFAULT_EFFORT", "EFFORTS", "LossyTarget", "MixHint", "check_effort", "encode_channel", "mix_frame",
           "mix_hint"]

LEVEL_CHOICES = (5, 6, 7, 8)  # the levels tried per channel (the frame stores its own since format 1.2)
LEVEL_SAMPLES = 1 << 15  # the levels are judged on the coded bytes of the channel's first samples
SPARSE_BPS = 0.1  # a longer channel coded in fewer bits per sample than this (a loose target) tries ...
SPARSE_LEVELS = (7, 8, 9)  # ... these levels on its whole first frame: its coarse bands carry the bytes
LEVEL_CLOSE = 0.8  # where the time domain wins by less than this, the other levels may still beat it (a frame of
# a few thousand samples: 7 levels leave coarse bands of a few values that cost their tables) ...
LEVEL_CLOSE_LONG = 0.95  # ... where its first frame holds LEVEL_CLOSE_SAMPLES or more, by less than this: there the
# other levels and quantisers took at most 0.8 % off the wavelets' bytes where the time domain had won (EMG, EEG at
# PRDN 1-9 % in bench_lossy: the search was half of EMG's encode, and beat the time domain nowhere)
LEVEL_CLOSE_SAMPLES = 1 << 14
LEVEL_CHANNELS = 1 << 17  # on channels up to this long; on longer ones (but sparse ones, SPARSE_BPS) other
# levels saved under 1 % at the cost of a second rate control (mitdb 100, drive17a, 03700181 in docs/LOSSY.md)
SHORT_PLAIN_LEVELS = 5  # effort "balanced" codes a channel of up to LEVEL_CHANNELS samples plain at these levels, not
# lossyrate.LEVELS (7), with no search: best's _best_levels, which judges the levels by the coded bytes, picks 5
# for most short channels (a short record wants few levels: its coarse bands' tables cost more than they save), and at
# 5 balanced's respiration codes 8-17 % smaller at PRDN 1-9 %, its PPG 2-4 % at 1-2 %, short ECG strips 1-5 %, for
# 1.016 of the summed time, all of it mixedsignals, whose sparse path below can no longer reuse the plain coding's
# decodes (ab_setting.py sancodec.codec.lossy.SHORT_PLAIN_LEVELS 7 5 --effort balanced --prdn 2). Fast keeps 7: a
# sparse channel (mixedsignals) codes up to twice as large at 5, which balanced's sparse path codes again at 7
SHORT_REMADE = ((150.0, False),)  # effort "balanced": on a channel its template trial's head holds whole (one frame
# of up to templatesearch.QUICK_HEAD samples), the template also remade so (templatesearch.REMADE's low-pass: a short
# strip's template keeps the noise of a few dozen beats) and kept where the bit estimate prefers it, as best
# weighs it: PTB s0010_re's 1000 Hz lead 0.7-3.2 % smaller at PRDN 1-9 %, its side information 316 -> 266 bytes at
# 2 % (no other file of benchmarks/lossy_sizes.py changes; the median, best's other way, changed none but
# bidmc's at 9 %, by 0.3 %)
QUANTISERS = ((0.35, 9), (0.3, 7), (0.4, 6))  # (rounding, rho16) also tried on channels up to LEVEL_CHANNELS
EFFORTS = ("best", "balanced", "fast")  # how hard the lossy encoder looks for a smaller file (encode_channel) ...
DEFAULT_EFFORT = "balanced"  # ... and where none is named: every CR goal of issue 13 that "best" meets, within 0-5 % of
# its files (docs/LOSSY.md), in a sixth to an eighth of its time
QUICK_BANDS = 1 << 14  # efforts "fast", "balanced": on channels this long, each band is coded one way
TIME_DOMAIN_ALWAYS = 1 << 15  # the time-domain codings are weighed on channels up to this long; on longer ones only
# where they look smaller (_time_domain_may_pay: EMG on a grid, MIMIC's 8-bit ECG exactly) or the channel is sparse;
# best weighed them on every channel before (on mitdb 100, drive17a, 03700181's ECG, PTB, bidmc, ABP and a103l
# they were never smaller, and their search took 4-14 % of those channels' encode at best at PRDN 2 %)
QUICK_MAINS = 1 << 15  # effort "balanced" looks for mains hum on channels this long ...
QUICK_LINE_PADDING = 1  # ... its line in a spectrum zero-padded to this many times the channel (best's: 4) ...
QUICK_LINE_SAMPLES = 1 << 16  # ... of its first this many samples (best's: 2^18) ...
QUICK_MAINS_GAIN = 1.0  # ... and codes it where it lowers its head's bit estimate under this share
PLAIN_FIRST = 1 << 14  # shorter ones, at least this long, code plain first (beside the template search) ...
PLAIN_AHEAD = 1 << 17  # ... as do those shorter than this where no line is found (after the search, on its thread)
MAX_TARGET = 1e6  # a PRDN (percent) or bits per sample above this is refused: the header holds targets within 10^6
MIN_SNR, MAX_SNR = -80.0, 1000.0  # dB: the PRDN bounds they imply, 10^6 % down to 10^-48 %, stay positive and finite
DEPENDENT_CODING = True  # effort best weighs a one-frame wavelet coding quantised dependently (1.12)
QUICK_DEPENDENT = 1 << 16  # effort "balanced" weighs it too on one-frame channels of up to this many samples whose
# coding has a beat template (0: on none): PTB s0010_re 4.1 / 3.2 / 1.5 / 2.5 % and bidmc's ECG 2.2 / 2.5 % smaller at
# PRDN 1 / 2 / 5 / 9 % and 1 / 2 %, for 10.7 and 11.5 ms more at 2 % (ab_setting.py ...lossy.QUICK_DEPENDENT 0 65536).
# Weighed on every channel that short, it cost a third more time summed at 2 % for 0-1.3 % on the channels without a
# template (EMG, respiration, EEG, CTG and mixedsignals' files unchanged): docs/LOSSY_HISTORY.md
BESIDE_VALUES = 1 << 15  # effort "balanced" begins the time domain or a sparse channel's every-way coding beside the
# payloads' coding on a channel this long or longer (_begins_beside) ...
AHEAD_SHARE = 0.85  # ... the time domain where it would be weighed against this share of the payloads' bit estimate
# (the coder's contexts code in less than the order-0 estimate: 0.88-0.95 of it on bench_lossy's EMG and ECG at PRDN
# 1-9 %); begun on the estimate itself it ran where the bytes then asked for none, at a cost: mitdb 100 at PRDN 1 %
# took 1.15x its time, emg_healthy at 5 % 1.59x (ab_setting.py sancodec.codec.lossy.AHEAD_SHARE 0.85 1.0 --prdn 1, 5)
MIX_FRAMES = 6  # a one-frame lossy file is coded again in about this many frames, some of them exact (_mixed) ...
MIX_FRAME = 1 << 15  # ... of at least this many samples, ...
MIX_SLOPE = 0.5  # ... where the exact coding may take at most this many bits per sample more than the wavelets'
# (at a high rate a wavelet coding's bytes fall by 1 / (2 ln 2) = 0.72 bits per sample as its error doubles:
# an exact frame that costs less than that more removes its error for fewer bytes than coding finer would)


@dataclass(frozen=True)
class LossyTarget:
    """What the lossy mode aims at, per channel: a PRDN (percent), an SNR (dB) or bits per sample."""

    prdn: float | None = None
    snr: float | None = None
    bps: float | None = None

    def __post_init__(self) -> None:
        given = [(k, v) for k, v in (("prdn", self.prdn), ("snr", self.snr), ("bps", self.bps)) if v is not None]
        if len(given) != 1:
            raise SanConfigError("lossy mode needs exactly one target: prdn=P (percent, e.g. 2), snr=dB or "
                                 "bps=bits per sample (CLI: --prdn, --snr, --bps)")
        name, value = given[0]
        if not is_real(value):  # a config file's "2"
            raise SanConfigError(f"the lossy target {option(name)} must be a number, got {value!r}")
        value = float(value)  # a numpy scalar becomes the plain number a header holds
        object.__setattr__(self, name, value)
        if not math.isfinite(value) or value <= 0 and self.snr is None:
            kind = "finite number" if self.snr is not None else "positive finite number"
            raise SanConfigError(f"the lossy target {option(name)} must be a {kind}, got {value}")
        if self.snr is not None and not MIN_SNR <= value <= MAX_SNR:
            implied = f"PRDN {100 * 10 ** (-MIN_SNR / 20):g} % to {100 * 10 ** (-MAX_SNR / 20):g} %"
            raise SanConfigError(f"the lossy target {option(name)} must be between {MIN_SNR:g} and {MAX_SNR:g} dB "
                                 f"({implied}), got {value:g}")
        if self.snr is None and value > MAX_TARGET:
            raise SanConfigError(f"the lossy target {option(name)} must be at most {MAX_TARGET:g}, got {value:g} (a "
                                 "file's header holds it; a PRDN of 100 % is already a file of zeros)")

    @property
    def max_prdn(self) -> float | None:
        """The PRDN bound this target implies (SNR s dB is PRDN 100 * 10**(-s / 20))."""
        if self.prdn is not None:
            return self.prdn
        return None if self.snr is None else 100.0 * 10 ** (-self.snr / 20)

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in (("prdn", self.prdn), ("snr", self.snr), ("bps", self.bps)) if v is not None}


def check_effort(effort: str | None) -> str:
    """Refuse an ``effort`` that is not one of :data:`EFFORTS`; the effort to code at (None: :data:`DEFAULT_EFFORT`)."""
    if effort is None:
        return DEFAULT_EFFORT
    if effort not in EFFORTS:
        renamed = " (the effort once called default is now best; balanced is the default)" if effort == "default" \
            else ""
        raise SanConfigError(f"{option('effort')} must be one of {', '.join(EFFORTS)}, got {effort!r}{renamed}")
    return effort


@dataclass(frozen=True)
class MixHint:
    """What a channel's one-frame wavelet coding chose, for its coding in shorter frames to reuse: the beat
    template's window (None: none), and whether some of those frames may pay coded exactly (:func:`_mixed`).
    That coding looks no further (no other window, no time-domain candidate: the one-frame file it is weighed
    against already holds the best of those). A record is coded in shorter frames where one of its channels
    may mix; its other channels, which must share the frame length, then only repeat their choices."""

    window: tuple[float, float] | None
    exact: bool = True


def encode_channel(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None = None,
                   effort: str = DEFAULT_EFFORT, mix: MixHint | None = None) -> timedomain.Coded:
    """The payloads of one channel's frames at the coarsest step that meets ``target``, the PRDN the
    decoder will deliver (``ref``: the channel's samples to compare with, on the same scale), and
    whether they decode to the samples themselves.

    At ``effort="best"``, with ``fs``, a beat template (``codec.beats``) is tried too, and kept only if the channel's
    file gets smaller at the same target: the SAN-style predictor pays in bytes or is not used. Its
    window around each beat is the one of ``templatesearch.TEMPLATE_WINDOWS`` whose frames code smallest at the
    plain coding's step (the best window differs by record: mitdb 100 wants a long one, a103l a short
    one), so only that one goes through rate control. Then the mains hum where a line stands out
    (:func:`_hum_coding`; also on the plain coding where it saved nothing on the template's), and the result
    is compared with the channel's time-domain codings (where they may pay: :func:`_time_domain_may_pay`) and other
    wavelet levels (:func:`_settle`).

    ``effort="fast"`` (:data:`EFFORTS`) keeps the plain wavelet coding: one rate control without the scan past a
    falling PRDN (on a long channel, its search helped by ``errormodel``'s estimate: ``rate_control``'s
    ``modelled``), each band coded one way on channels of :data:`QUICK_BANDS` samples or more (and a frame of up to
    ``adaptivebands.MAX_VALUES`` values in one adaptive stream too, the smaller kept: ``waveletframe.quick_bands``).
    ``effort="balanced"`` (:data:`DEFAULT_EFFORT`) codes as fast does, with one beat template where its bit
    estimate says it pays (``templatesearch.quick_templates``, ``quick_grids`` and ``TemplateTrial``: one window,
    weighed on the channel's head, one alignment round, the gains' and taps' grids chosen on the head), the mains
    hum on long channels where it pays on the head (:func:`_quick_prepared`), and the time-domain codings where they
    may pay, as best weighs them (:func:`_time_domain_may_pay`), without the lossless
    coder's adaptive stages (:func:`_quick`).
    With ``mix``, a wavelet coding at a PRDN bound may code some of its frames exactly (:func:`_mixed`)."""
    check_effort(effort)
    if effort != "best":
        return _quick(frames, ref, target, fs if effort == "balanced" else None)
    plain = rate_control(Prepared(frames, [None] * len(frames)), ref, target)
    windows = None if mix is None else () if mix.window is None else (mix.window,)
    best, best_bits, window = best_template(frames, ref, fs, plain.step, windows)
    chosen, hum = plain, None
    if best is not None and best_bits <= CLEAR_MARGIN * plain.estimate():  # else the template cannot pay
        coded, hum = _controlled_with_hum(best, frames, ref, target, fs, guess=plain.step)
        chosen = _kept(plain, coded, target)
    templated = chosen is not plain
    hummed = _hum_coding(chosen, frames, ref, target, fs, hum if templated else None)
    settled = chosen if hummed is None else smaller(chosen, hummed)
    if templated and settled is chosen and hummed is not None:
        # a line stands out but its hum saved nothing on the template's coding: where the template's beats are a
        # beatless channel's noise, its median is a piece of the hum itself, and the hum pays on the plain coding
        plain_hummed = _hum_coding(plain, frames, ref, target, fs)
        settled = settled if plain_hummed is None else smaller(settled, plain_hummed)
    templated = any(t is not None for t in settled.prepared.templates)
    return _settle(settled, frames, ref, target, mix, window if templated else None)


def _kept(a: WaveletCoding, b: WaveletCoding, target: LossyTarget) -> WaveletCoding:
    """Of two codings that meet ``target``, the one to keep: for a byte budget, which each fills at the finest step
    that fits, the one that decodes with the lower PRDN (``a`` on a tie); else the smaller (``smaller``)."""
    if target.bps is not None:
        return b if b.prdn < a.prdn else a
    return smaller(a, b)


def _controlled_with_hum(prepared: Prepared, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                         fs: float | None, **control: Any) -> tuple[WaveletCoding, _Hum | None]:
    """``rate_control(prepared, ref, target, **control)`` and, where threads are to spare
    (``jobs.piece_threads``) and :func:`_hum_coding` will look for the hum, :func:`_hum_candidate` of ``prepared``
    made beside it (for :func:`_hum_coding` where ``prepared``'s coding is kept; else that work is lost)."""
    if piece_count() < 2 or not _looks_for_hum(prepared, target, fs):
        return rate_control(prepared, ref, target, **control), None
    n = sum(map(len, frames))
    assert fs is not None  # (_looks_for_hum: a rate to look for the hum at)
    coded, hum = run_pieces([partial(rate_control, prepared, ref, target, **control),
                             partial(_hum_candidate, prepared, frames, fs)], [n, n])
    return coded, _Hum(prepared, hum)


class _Hum(NamedTuple):
    """:func:`_hum_candidate` of ``prepared``, made ahead (:func:`_controlled_with_hum`)."""

    prepared: Prepared
    candidate: Prepared | None


def _looks_for_hum(prepared: Prepared, target: LossyTarget, fs: float | None) -> bool:
    """Whether :func:`_hum_coding` looks for the hum in a coding of ``prepared``."""
    return bool(fs) and target.max_prdn is not None and all(m is None for m in prepared.mains)


def _hum_candidate(prepared: Prepared, frames: Sequence[np.ndarray], fs: float) -> Prepared | None:
    """``prepared`` with each frame's mains hum added to its prediction (``codec.mains``, format 1.10), fitted on
    the frames less that prediction; None where no line near 50 or 60 Hz stands out of the first frame's spectrum."""
    predictions = [prepared.prediction(i) for i in range(len(frames))]
    first = frames[0] if predictions[0] is None else frames[0] - predictions[0]
    frequency = mains_frequency(first, fs)
    if frequency is None:
        return None
    hum = fit_mains(frames, fs, frequency, predictions)
    return Prepared(frames, prepared.templates, prepared.asked_levels, prepared.quick, hum)


def _hum_coding(coded: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                fs: float | None, hum: _Hum | None = None) -> WaveletCoding | None:
    """The same coding as ``coded`` with each frame's mains hum added to its prediction (:func:`_hum_candidate`),
    through rate control; None where no line near 50 or 60 Hz stands out of the channel's spectrum (less its beat
    prediction), or for a byte budget. ``hum``: the candidate made ahead for ``coded``'s frames, if it was. Effort
    best keeps it where it codes smaller than ``coded`` (format 1.10)."""
    prepared = coded.prepared
    if not _looks_for_hum(prepared, target, fs):
        return None
    assert fs
    with_hum = hum.candidate if hum is not None and hum.prepared is prepared else _hum_candidate(prepared, frames, fs)
    if with_hum is None:
        return None
    return rate_control(with_hum, ref, target, guess=coded.step)


def _quick_prepared(frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None], fs: float | None,
                    line: float | None, step: float, quick: bool, head: Prepared | None = None,
                    levels: int = LEVELS) -> Prepared:
    """Effort "balanced"'s frames prepared with ``templates``, and with the mains hum at the frequency ``line``
    (found in the channel itself, beside its beat detection; None: none stands out) where it pays on the first
    templated frame's head (:data:`templatesearch.QUICK_HEAD` samples, as ``TemplateTrial`` weighs the template):
    the head's bit estimate at ``step`` with the hum fitted there, under :data:`QUICK_MAINS_GAIN` of its estimate
    without. Decided before the rate control, so that one rate control codes the channel (best weighs the
    hum's coding against the one without it, each through rate control: :func:`_hum_coding`). ``head``: that head
    prepared with its template, without the hum, if it was (``TemplateTrial``'s); ``levels``: the wavelet levels."""
    if line is not None and fs and _hum_pays_on_head(frames, templates, fs, line, step, head):
        predictions = [frame_prediction(t, None, len(f)) for f, t in zip(frames, templates)]
        mains = fit_mains(frames, fs, line, predictions)
        # each template's prediction, the hum added in place: frame_prediction's of both, not the template's again
        predictions = [m.prediction(len(f), add_to=p) for f, p, m in zip(frames, predictions, mains)]
        return Prepared(frames, templates, levels, quick=quick, mains=mains, predictions=predictions)
    return Prepared(frames, templates, levels, quick=quick)


def _hum_pays_on_head(frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None], fs: float,
                      line: float, step: float, prepared: Prepared | None = None) -> bool:
    """Whether the hum at ``line``, fitted on the first templated frame's head (the first frame's, without a
    template) less its template's prediction, lowers the head's bit estimate at ``step`` (its side information
    included) under :data:`QUICK_MAINS_GAIN` of what it is without (``prepared``: that head without the hum, if it
    was prepared; its estimate is then known)."""
    i = next((i for i, t in enumerate(templates) if t is not None), 0)
    head = frames[i][:QUICK_HEAD]
    without = prepared if prepared is not None and prepared.prepares(head, templates[i]) else \
        Prepared([head], [templates[i]])
    with_hum = Prepared([head], [templates[i]], mains=fit_mains([head], fs, line, [without.prediction(0)]))
    return with_hum.estimate(step) < QUICK_MAINS_GAIN * without.estimate(step)


def _quick(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None) -> timedomain.Coded:
    """Efforts "fast" and "balanced" (with ``fs``: a beat template may be tried, and at a PRDN bound the
    time-domain codings are weighed too, as best weighs them, on a channel of at most
    :data:`TIME_DOMAIN_ALWAYS` samples, where they cost little, on one of up to :data:`LEVEL_CHANNELS` samples
    whose wavelet coding takes under :data:`SPARSE_BPS` bits per sample, or where the order-0 estimate of its
    exact coding, or of its samples on the grid the target allows, comes near the wavelets' bytes
    (``timedomain.exact_looks_smaller``, ``grid_looks_smaller``): step-like or coarsely quantised signals, CTG's
    heart rate, mixedsignals' flat stretches or MIMIC's 8-bit ECG, code far smaller so, and EMG's nearly flat
    spectrum on a grid).
    Such a sparse channel's wavelets are also coded as best's first coding codes them (every band's
    coding weighed, and the scan past a PRDN that falls as the step grows, ``stepsearch.coarsest_step``):
    mixedsignals' lead II at PRDN 1 % in half the bytes. On a one-frame channel of at most :data:`QUICK_DEPENDENT`
    samples whose wavelet coding has a beat template (a short ECG strip: its bands, the beats taken out, are mostly
    noise), that coding is also quantised dependently, as best's is, where smaller."""
    n = sum(map(len, frames))
    # the head's exact estimates (the last test below) made ahead, on a thread the wavelets leave spare, where asked
    ahead = bool(fs) and target.max_prdn is not None and n > TIME_DOMAIN_ALWAYS and piece_count() > 1
    chosen, look = _quick_wavelets(frames, ref, target, fs, look_ahead=ahead)
    every = _every_way_ahead(frames, ref, target, fs, chosen)
    work = _time_domain_ahead(frames, ref, target, fs, chosen, look) if every is None else None
    to_beat = sum(map(len, chosen.payloads()))
    sparse = _sparse(n, to_beat)  # a step-like signal's grid may code it smaller
    if fs and sparse and target.max_prdn is not None:
        # as best's first coding: every band's coding weighed, and the scan past a falling PRDN
        every_way = every if every is not None else rate_control(_every_way(chosen.prepared, frames), ref, target)
        if _begins_beside(frames, chosen):  # the time domain (weighed on a sparse channel) against the lesser guess
            work = _time_domain_beside(every_way, frames, ref, target.max_prdn,
                                       min(to_beat, every_way.estimate() / 8), work)
        # by their bytes (few on a sparse channel), not smaller's bit estimate, which misjudges codings at other
        # levels (the plain one at SHORT_PLAIN_LEVELS, this at lossyrate.LEVELS)
        chosen = every_way if sum(map(len, every_way.payloads())) < sum(map(len, chosen.payloads())) else chosen
        to_beat = sum(map(len, chosen.payloads()))
    coded = timedomain.Coded(chosen.payloads(), chosen.prdn, False)
    if fs and target.bps is not None:  # a byte budget: the time domain where it has less error in those bytes, weighed
        # where cheap or promising (best weighs it everywhere): CTG's heart rate at 1 bit a sample at PRDN 1.3 %
        # on its grid, not 2.1 % as wavelets, MIMIC's 8-bit ECG at 2 bits exact
        cheap = n <= TIME_DOMAIN_ALWAYS or timedomain.exact_looks_smaller(frames, int(_budget(ref, target)))
        return (_within_budget(frames, ref, target, chosen.prdn, to_beat) if cheap else None) or coded
    if not fs or target.max_prdn is None:
        return coded
    templated = any(t is not None for t in chosen.prepared.templates)
    dependent = _dependent(chosen, ref, target.max_prdn) if templated and n <= QUICK_DEPENDENT else None
    if dependent is not None:
        coded, to_beat = dependent, len(dependent.payloads[0])
    if _time_domain_may_pay(frames, ref, target.max_prdn, to_beat, sparse, look):
        return timedomain.code_channel(frames, ref, target.max_prdn, to_beat, timedomain.EXACT_QUICK, work) or coded
    return coded


def _time_domain_ahead(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None,
                       chosen: WaveletCoding, look: timedomain.HeadLook | None) -> timedomain.Work | None:
    """Effort "balanced"'s time-domain codings begun beside ``chosen``'s payload coding (its payloads made here, kept
    by ``chosen``), where a thread is spare and :func:`_time_domain_may_pay` says they may pay against
    :data:`AHEAD_SHARE` of a guess of those payloads' bytes (``chosen``'s bit estimate), but where another coding
    will set the bytes to beat (a sparse channel's every-way coding, a short templated one's dependent quantisation,
    :func:`_quick`): ``timedomain.code_channel`` run against that guess, what it made kept in the
    :class:`timedomain.Work` returned, for the call against the real bytes (which then takes the same steps and
    makes the same file; a coding the guess left out is made then). None where not begun. Where the real bytes then
    ask for no time-domain coding, that work is lost; the payloads' coding, whose pieces took turns on one thread
    meanwhile, took longer. On an EMG, whose grid wins, the grid's search and coding no longer wait for the
    payloads' bytes."""
    n = sum(map(len, frames))
    bound = target.max_prdn
    if not fs or bound is None or target.bps is not None or not _begins_beside(frames, chosen):
        return None
    guess = chosen.estimate() / 8
    if _sparse(n, guess):  # its every-way coding sets the bytes to beat
        return None
    if not _time_domain_may_pay(frames, ref, bound, int(AHEAD_SHARE * guess), False, look):
        return None
    return _time_domain_beside(chosen, frames, ref, bound, guess)


def _sparse(n: int, nbytes: float) -> bool:
    """Whether a channel of ``n`` samples coded in ``nbytes`` (or so estimated) is sparse for effort balanced
    (:func:`_quick`): at most :data:`LEVEL_CHANNELS` samples, under :data:`SPARSE_BPS` bits a sample."""
    return n <= LEVEL_CHANNELS and 8 * nbytes < SPARSE_BPS * n


def _begins_beside(frames: Sequence[np.ndarray], chosen: WaveletCoding) -> bool:
    """Whether :func:`_quick` may begin work beside ``chosen``'s payload coding: a thread is spare, the channel holds
    :data:`BESIDE_VALUES` samples or more, and ``chosen`` is not a short templated channel's (whose bytes to beat will
    be its dependent quantisation's, made on both threads)."""
    n = sum(map(len, frames))
    templated = any(t is not None for t in chosen.prepared.templates)
    return piece_count() > 1 and n >= BESIDE_VALUES and not (templated and n <= QUICK_DEPENDENT)


def _time_domain_beside(coded: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray, bound: float,
                        guess: float, work: timedomain.Work | None = None) -> timedomain.Work:
    """``timedomain.code_channel`` run against ``guess`` bytes beside ``coded``'s payload coding (its payloads made
    here, kept by ``coded``), and the :class:`timedomain.Work` it leaves (``work``: one begun before, added to)."""
    work = timedomain.Work(frames, ref, bound, timedomain.EXACT_QUICK) if work is None else work
    run_pieces([coded.payloads, partial(work.guess, guess)], [sum(map(len, frames))] * 2)
    return work


def _every_way_ahead(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None,
                     chosen: WaveletCoding) -> WaveletCoding | None:
    """Effort "balanced"'s every-way coding of a channel whose bit estimate says it is sparse (under
    :data:`SPARSE_BPS` bits a sample; :func:`_quick` codes such a channel so where its bytes say it is), its rate
    control run beside ``chosen``'s payload coding (the payloads made here, kept by ``chosen``) where
    :func:`_begins_beside` allows: the coding :func:`_quick` would make after the payloads. None where not made;
    where the bytes then say the channel is not sparse, that work is lost (mixedsignals' lead II: the rate control
    no longer waits for the payloads)."""
    n = sum(map(len, frames))
    if not fs or target.max_prdn is None or not _begins_beside(frames, chosen) or \
            not _sparse(n, chosen.estimate() / 8):
        return None
    return run_pieces([chosen.payloads, partial(rate_control, _every_way(chosen.prepared, frames), ref, target)],
                      [n, n])[1]


def _budget(ref: np.ndarray, target: LossyTarget) -> float:
    """A bits-per-sample target's bytes for the channel ``ref``."""
    assert target.bps is not None
    return target.bps * len(ref) / 8


def _within_budget(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                   to_beat: float, tie_bytes: float | None = None) -> timedomain.Coded | None:
    """The channel in the time domain within a byte budget's bytes at a PRDN below ``to_beat`` (its wavelets' there),
    or at the same PRDN in fewer bytes than ``tie_bytes`` (theirs), where one fits (``timedomain.code_within``); else
    None."""
    return timedomain.code_within(frames, ref, _budget(ref, target), to_beat, tie_bytes)


def _time_domain_may_pay(frames: Sequence[np.ndarray], ref: np.ndarray, bound: float, to_beat: int, sparse: bool,
                         look: timedomain.HeadLook | None = None) -> bool:
    """Whether a channel's time-domain codings are weighed against its wavelets' ``to_beat`` bytes at the PRDN
    ``bound`` (every effort but fast): on a channel of at most :data:`TIME_DOMAIN_ALWAYS` samples, where they cost
    little, on a ``sparse`` one (a step-like signal's grid), or where the order-0 estimate of its exact coding, or of
    its samples on the grid the target allows, comes near those bytes (``timedomain.exact_looks_smaller``,
    ``grid_looks_smaller``, judged on the channel's head; ``look``: their estimates, if made ahead)."""
    return sum(map(len, frames)) <= TIME_DOMAIN_ALWAYS or sparse or \
        timedomain.exact_looks_smaller(frames, to_beat, look) or \
        timedomain.grid_looks_smaller(frames, ref, bound, to_beat, look)


def _every_way(prepared: Prepared, frames: Sequence[np.ndarray]) -> Prepared:
    """``frames`` prepared plain, each band to be coded every way, as best's first coding prepares them:
    ``prepared`` so (:meth:`Prepared.with_quick`: its bands and the errors its rate control decoded shared) where it
    is ``frames``' plain coding at the first rate control's levels and quantiser, else made afresh."""
    plain = all(t is None for t in prepared.templates) and all(m is None for m in prepared.mains)
    alike = prepared.lengths == [len(f) for f in frames] and prepared.asked_levels == LEVELS and \
        (prepared.rounding, prepared.rho16) == (ROUNDING, RHO16)
    return prepared.with_quick(False) if plain and alike else Prepared(frames, [None] * len(frames))


def _quick_wavelets(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None,
                    look_ahead: bool = False) -> tuple[WaveletCoding, timedomain.HeadLook | None]:
    """:func:`_quick`'s wavelet coding: one rate control, on the template's coding (its gains and taps on the
    grids ``templatesearch.quick_grids`` picks on the channel's head, looked for only where the template would pay
    with its side information free, ``TemplateTrial.may_pay``) where it pays at the first step measured
    and again at the step found (``templatesearch.TemplateTrial``), else on the plain coding (from that step
    where the template's was run); with effort "balanced" (``fs``) on a channel of :data:`QUICK_MAINS` samples or
    more, the mains hum where it pays on the head (:func:`_quick_prepared`), its line looked for in the channel
    itself beside the beat detection (:func:`_line_then_plain`; PTB s0010_re's 1000 Hz lead, 38 400 samples, has its
    50 Hz hum coded so). On a shorter channel (no hum), of :data:`PLAIN_FIRST` samples or more, and on one shorter
    than :data:`PLAIN_AHEAD` where no line stands out (made after the line search, on its thread), the plain coding
    is made first, beside the template's search where a thread is spare (that rate control is compiled work mostly,
    the search Python mostly), and the template must also pay, its side information free, at the plain coding's
    step: a first step far too fine (mixedsignals: a dropout's spread) no longer has a
    template weighed, its grids chosen and its rate control run at steps the coding never comes near.
    ``look_ahead``: :func:`timedomain.look_at_head` (the exact coding's estimates and, at a PRDN bound, the grid's)
    is made beside those pieces (the second thread, idle once its piece is done, makes it), and returned with the
    coding (else None)."""
    n = sum(map(len, frames))
    quick = n >= QUICK_BANDS
    mains = fs if len(ref) >= QUICK_MAINS else None
    templates, line, plain = None, None, None
    ahead = [partial(timedomain.look_at_head, frames, ref, target.max_prdn)] if look_ahead else []
    looked = [min(n, timedomain.LOOK_HEAD)] * len(ahead)  # the least work: taken last, by the first thread free
    if mains and target.max_prdn is not None:  # a PRDN bound (a byte budget codes plain, without the hum); mains is fs
        # the first step (the channel's spread: a pass over a long channel) made beside the beat detection, on the
        # thread that then looks for the line; the template search takes it once its beats are found
        made = Once(partial(first_step, ref, target))
        templates, (line, plain), *rest = run_pieces(
            [partial(quick_templates, frames, fs, made),
             partial(_line_then_plain, made, frames, ref, target, mains, quick, n < PLAIN_AHEAD), *ahead],
            [n, n, *looked])
        first = made()
        if not first:  # a channel without spread: coded plain, as a byte budget is, without the hum or the look
            templates, line, plain, rest = None, None, None, []
    else:
        first = first_step(ref, target) if fs else None
        rest = []  # with nothing to make the look beside, exact_looks_smaller makes what it needs of it, if asked
        if fs and target.bps is not None:  # a byte budget (no first step): the template weighed at the plain coding's
            plain = _plain_controlled(frames, ref, target, fs, None, None, quick)
            first = plain.step
            templates = quick_templates(frames, fs, first)
        elif first and n >= PLAIN_FIRST:
            templates, plain, *rest = run_pieces(
                [partial(quick_templates, frames, fs, first),
                 partial(_plain_controlled, frames, ref, target, fs, None, first, quick), *ahead], [n, n, *looked])
        elif first:
            templates = quick_templates(frames, fs, first)
    look = rest[0] if rest else None
    coded, guess = None, None
    if templates is not None and first:
        coded, guess = _templated(frames, ref, target, templates, fs, line, first, quick, plain)
    if coded is None and plain is not None:
        return plain, look
    if plain is not None and coded is not None and target.bps is not None:  # both fill the budget: the lower PRDN
        return _kept(plain, coded, target), look
    if coded is None:
        coded = _plain_controlled(frames, ref, target, fs, line, first, quick, guess)
    return coded, look


def _line_then_plain(made: Once[float | None], frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                     fs: float, quick: bool, plain_ahead: bool) -> tuple[float | None, WaveletCoding | None]:
    """:func:`_quick_wavelets`' piece beside the template search on a channel long enough for the hum: the first step
    (``made()``), then the mains line (``mains.mains_frequency`` of the first :data:`QUICK_LINE_SAMPLES` samples, in
    a spectrum padded :data:`QUICK_LINE_PADDING` times: an eighth of best's transform on a long channel, the
    lines found where best finds them on bench_lossy's records), and with ``plain_ahead``, where no line
    stands out, the plain coding (:func:`_plain_controlled`), as a channel too short for the hum has it made beside
    the search (the same coding: without a line the hum plays no part); else None for it."""
    first = made()
    line = mains_frequency(frames[0][:QUICK_LINE_SAMPLES], fs, QUICK_LINE_PADDING)
    if line is not None or not plain_ahead or not first:
        return line, None
    return line, _plain_controlled(frames, ref, target, fs, None, first, quick)


def _plain_controlled(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget, fs: float | None,
                      line: float | None, first: float | None, quick: bool, guess: float | None = None
                      ) -> WaveletCoding:
    """:func:`_quick_wavelets`' plain coding (with the hum at ``line`` where it pays on the head,
    :func:`_quick_prepared`) through one rate control, measured first at ``guess`` (None: the first step); with
    ``fs`` (effort "balanced"), at :data:`SHORT_PLAIN_LEVELS` wavelet levels on a channel of at most
    :data:`LEVEL_CHANNELS` samples."""
    levels = SHORT_PLAIN_LEVELS if fs and sum(map(len, frames)) <= LEVEL_CHANNELS else LEVELS
    prepared = _quick_prepared(frames, [None] * len(frames), fs, line, first or 0.0, quick, levels=levels)
    return rate_control(prepared, ref, target, guess=guess, scan=False, modelled=True)


def _templated(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
               templates: Sequence[BeatTemplate | None], fs: float | None, line: float | None, first: float,
               quick: bool, plain: WaveletCoding | None = None) -> tuple[WaveletCoding | None, float | None]:
    """:func:`_quick_wavelets`'s coding with ``templates`` (their gains and taps on ``quick_grids``' grids, looked
    for only where ``TemplateTrial.may_pay`` at ``first`` and at the step of ``plain``, the plain coding, if
    made), where the trial says it pays at ``first`` and again at the step its rate control finds (which
    measures first at the plain coding's step, if known: the templated step is near the plain one); else None,
    with that step where it paid at ``first`` only (the plain coding's guess). On a channel of one frame that
    the trial's head holds whole, the trial's preparations are the codings': the plain one's frame is its head
    without a template (where it is at the trial's levels, ``lossyrate.LEVELS``: not at :data:`SHORT_PLAIN_LEVELS`),
    and its head with the template is what the rate control codes (where no hum is coded: ``line`` None); there the
    template is also weighed remade as :data:`SHORT_REMADE` says (``templatesearch.remade_templates``), before its
    grids are chosen, as best's search weighs it."""
    plain_step = None if plain is None else plain.step
    whole = len(frames) == 1 and len(frames[0]) <= QUICK_HEAD  # the trial's head is the channel
    without = plain.prepared if whole and plain is not None and plain.prepared.prepares(frames[0], None) and \
        plain.prepared.asked_levels == LEVELS else None  # (the trial weighs both at LEVELS: SHORT_PLAIN_LEVELS' is not)
    trial = TemplateTrial(frames, templates, quick, without=without)
    if not trial.may_pay(first):  # no grid for its side information can make it pay
        return None, None
    if plain_step is not None and not trial.may_pay(plain_step):  # ... nor at the step the channel is coded near
        return None, None
    if whole and fs and trial.with_template.prepares(frames[0], templates[0]):  # (SHORT_REMADE)
        head = trial.with_template
        remade = remade_templates(frames, [np.asarray(frames[0], dtype=np.float64)], ref, head, head.estimate(first),
                                  first, fs, SHORT_REMADE)[0]
        if remade is not head:  # the trial's head is the channel: the remade template's preparation is the new one
            templates = remade.templates
            trial = TemplateTrial(frames, templates, quick, without=trial.without,
                                  with_template=remade.with_quick(quick))
    kept: list[Prepared] = []
    gridded = quick_grids(frames, ref, templates, first, head=trial.with_template, kept=kept)
    if any(a is not b for a, b in zip(gridded, templates)):  # the trial again, on the grids' templates (its head
        # with them the grids' own, where it is that head)
        trial = TemplateTrial(frames, gridded, quick, without=trial.without,
                              with_template=trial_head(kept[0], frames, gridded, quick) if kept else None)
    if not trial.pays(first):
        return None, None
    prepared = trial.with_template if whole and line is None and trial.with_template.prepares(frames[0], gridded[0]) \
        else _quick_prepared(frames, gridded, fs, line, first, quick, head=trial.with_template)
    coded = rate_control(prepared, ref, target, guess=plain_step, scan=False, modelled=True)
    if not trial.pays(coded.step):
        return None, coded.step  # the template paid at a finer step only: its side information costs more
    return coded, None


def _settle(chosen: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
            mix: MixHint | None = None, window: tuple[float, float] | None = None) -> timedomain.Coded:
    """The channel's coding: ``chosen`` (wavelets), its time-domain alternatives where smaller (for a
    byte budget: where their PRDN is lower), and other wavelet levels where :func:`_other_levels` finds
    them better (channels up to :data:`LEVEL_CHANNELS` samples, or sparse longer ones); with ``mix``, some
    frames coded exactly where :func:`_mixed` finds that smaller (``window``: the template's, if any)."""
    coded = _settled(chosen, frames, ref, target, time_domain=mix is None)
    if isinstance(coded, timedomain.Coded):
        return coded
    mixed = _mixed(coded, frames, ref, target.max_prdn) if mix and mix.exact and target.max_prdn is not None else None
    if mixed is not None:
        return mixed
    dependent = _dependent(coded, ref, target.max_prdn, window) if DEPENDENT_CODING and target.max_prdn is not None \
        else None
    return dependent if dependent is not None else timedomain.Coded(coded.payloads(), coded.prdn, False, window)


def _dependent(coded: WaveletCoding, ref: np.ndarray, bound: float,
               window: tuple[float, float] | None = None) -> timedomain.Coded | None:
    """A one-frame wavelet coding's frame quantised dependently at the PRDN ``bound`` (format 1.12,
    ``dependentframe.coding``), where that is smaller than ``coded``'s; else None (also for several frames)."""
    dependent = dependentframe.coding(coded, ref, bound)  # None for several frames
    if dependent is None or len(dependent[0]) >= len(coded.payloads()[0]):
        return None
    return timedomain.Coded([dependent[0]], dependent[1], False, window)


def _settled(chosen: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
             time_domain: bool = True) -> timedomain.Coded | WaveletCoding:
    """:func:`_settle` without mixing: a wavelet coding comes back as it is (``time_domain``: weigh the
    time-domain codings)."""
    bound = target.max_prdn
    n = sum(map(len, frames))
    short = n <= LEVEL_CHANNELS
    if bound is not None and time_domain:  # format 1.6: the lossless coder, on the samples or a coarser grid
        wavelet_bytes = sum(map(len, chosen.payloads()))
        sparse = 8 * wavelet_bytes < SPARSE_BPS * n
        exact = timedomain.code_channel(frames, ref, bound, wavelet_bytes) \
            if _time_domain_may_pay(frames, ref, bound, wavelet_bytes, sparse) else None
        if exact is not None:
            exact_bytes = sum(map(len, exact.payloads))
            close = LEVEL_CLOSE_LONG if len(frames[0]) >= LEVEL_CLOSE_SAMPLES else LEVEL_CLOSE
            if not (short and exact_bytes > close * wavelet_bytes):
                return exact
            chosen = _other_quantisers(_other_levels(chosen, frames, ref, target), ref, target)  # may still beat it
            return exact if sum(map(len, chosen.payloads())) >= exact_bytes else chosen
    if short:
        chosen = _other_quantisers(_other_levels(chosen, frames, ref, target), ref, target)
    elif 8 * sum(map(len, chosen.payloads())) < SPARSE_BPS * n:
        chosen = _other_levels(chosen, frames, ref, target, len(frames[0]), SPARSE_LEVELS)
    if target.bps is not None:  # a byte budget: the time domain where it has less error in those bytes
        within = _within_budget(frames, ref, target, chosen.prdn, sum(map(len, chosen.payloads())))
        if within is not None:
            return within
    return chosen


def mix_frame(n: int) -> int:
    """The frame length a one-frame lossy file of ``n`` samples is coded again in to mix exact and wavelet
    frames (:func:`_mixed`): the power of two nearest ``n /`` :data:`MIX_FRAMES`, 0 where that is below
    :data:`MIX_FRAME` (too few samples for frames of their own)."""
    size = 1 << max(0, round(math.log2(max(n, 1) / MIX_FRAMES)))
    return size if size >= MIX_FRAME else 0


def _mix_within(frames: Sequence[np.ndarray], payloads: Sequence[bytes]) -> float:
    """The bytes the exact coding of ``frames`` may take for some of them to pay coded exactly beside
    wavelet ``payloads``: theirs plus :data:`MIX_SLOPE` bits per sample."""
    return sum(map(len, payloads)) + MIX_SLOPE * sum(map(len, frames)) / 8


def mix_hint(frames: Sequence[np.ndarray], coded: timedomain.Coded, target: LossyTarget) -> MixHint | None:
    """What a coding in shorter frames needs of ``coded``, a channel's wavelet coding at a PRDN bound: its
    window, and whether it may shrink with some of those frames coded exactly (:func:`_mixed`: where its exact
    coding may take at most :func:`_mix_within` bytes). None for any other coding (in the time domain, or at
    another target), which the shorter frames look for again."""
    if target.max_prdn is None or coded.exact or any(needs_minor(p) == 6 for p in coded.payloads):
        return None
    return MixHint(coded.window, timedomain.may_code_exactly(frames, _mix_within(frames, coded.payloads)))


def _mixed(coded: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray,
           bound: float) -> timedomain.Coded | None:
    """``coded`` with the ``k`` frames whose exact coding removes their error for the fewest extra bytes
    coded exactly, and the others through rate control again at the coarser step the error left to them
    allows, for the ``k`` that codes smallest (the first ``k`` that no longer shrinks the channel ends the
    search); None where no ``k`` is smaller. Where the exact coding's bytes come close to the wavelets'
    (samples on a coarse lattice of values: MIMIC's 8-bit ECG at PRDN 2 %), taking a few frames' error
    to zero costs fewer bytes than coding every frame finer."""
    payloads = coded.payloads()
    exact = timedomain.exact_frames(frames, _mix_within(frames, payloads)) if len(frames) > 1 else None
    if exact is None:
        return None
    edges = np.cumsum([0, *map(len, frames)])
    refs = [ref[a:b] for a, b in zip(edges, edges[1:])]
    decoded = coded.prepared.decoded(coded.step)
    error = [channel_error(decoded[a:b], r) for a, b, r in zip(edges, edges[1:], refs)]
    exact_error = [channel_error(f, r) for f, r in zip(frames, refs)]  # 0 but for a float source's grid
    price = [(len(x) - len(w)) / (e - z) if e > z else math.inf
             for x, w, e, z in zip(exact, payloads, error, exact_error)]
    order = [int(i) for i in np.argsort(price, kind="stable") if math.isfinite(price[i])][: len(frames) - 1]
    spread = channel_spread(ref)
    allowed = (bound / 100 * spread) ** 2  # the channel's squared error at its bound
    best, best_bytes = None, sum(map(len, payloads))
    for k in range(1, len(order) + 1):
        taken = set(order[:k])
        keep = [i for i in range(len(frames)) if i not in taken]
        left = allowed - sum(exact_error[i] for i in taken)
        sub_ref = np.concatenate([refs[i] for i in keep])
        sub_spread = spread_of(sub_ref)
        if not (left > 0 and sub_spread > 0):
            break
        target = LossyTarget(prdn=100 * math.sqrt(left) / sub_spread * (1 - 1e-9))
        rest = rate_control(coded.prepared.subset(keep), sub_ref, target, guess=coded.step)
        parts = dict(zip(keep, rest.payloads())) | {i: exact[i] for i in taken}
        total = sum(map(len, parts.values()))
        got = 100 * math.sqrt(channel_error(rest.prepared.decoded(rest.step), sub_ref)
                              + sum(exact_error[i] for i in taken)) / spread
        if total >= best_bytes or not got <= bound:
            break
        best, best_bytes = timedomain.Coded([parts[i] for i in range(len(frames))], got, False), total
    return best


def _other_levels(coded: WaveletCoding, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                  samples: int = LEVEL_SAMPLES, choices: Sequence[int] = LEVEL_CHOICES) -> WaveletCoding:
    """``coded`` (at ``lossyrate.LEVELS``) or the same coding at the levels :func:`_best_levels` prefers, through
    rate control, whichever codes smaller (by the coded bytes, as the bit estimate misjudges levels) or,
    for a byte budget, whichever has the lower PRDN in it."""
    prepared = coded.prepared
    levels = _best_levels(frames, coded.step, prepared.prediction(0), samples, choices)
    if levels == prepared.asked_levels:
        return coded
    other = rate_control(Prepared(frames, prepared.templates, levels, mains=prepared.mains), ref, target,
                         guess=coded.step)
    if target.bps is not None:
        return other if other.prdn < coded.prdn else coded
    return other if sum(map(len, other.payloads())) < sum(map(len, coded.payloads())) else coded


def _other_quantisers(coded: WaveletCoding, ref: np.ndarray, target: LossyTarget) -> WaveletCoding:
    """``coded`` or the same coding under the dead zone and reconstruction point of :data:`QUANTISERS`
    that the bit estimate prefers at equal error (measured at ``coded``'s step, the error taken to scale
    with the step squared), through rate control and kept where it codes smaller (for a byte budget:
    decodes with a lower PRDN). A signal whose finest bands hold noise wants a narrower dead zone and a
    reconstruction point nearer zero (PTB s0010_re at PRDN 9 %)."""
    error = squared_error(coded.prepared, ref, coded.step)
    if not error > 0:  # an exact decode: no error to match
        return coded
    best_bits, pick, pick_step = coded.estimate(), None, coded.step
    n = sum(coded.prepared.lengths)
    weighed = run_pieces([partial(_at_error, coded.prepared.with_quantiser(*q), ref, error, coded.step)
                          for q in QUANTISERS], [n] * len(QUANTISERS))  # side by side (jobs.piece_threads)
    for candidate, step, bits in weighed:
        if bits < best_bits:
            best_bits, pick, pick_step = bits, candidate, step
    if pick is None:
        return coded
    other = rate_control(pick, ref, target, guess=pick_step)
    if target.bps is not None:
        return other if other.prdn < coded.prdn else coded
    return other if sum(map(len, other.payloads())) < sum(map(len, coded.payloads())) else coded


def _at_error(candidate: Prepared, ref: np.ndarray, error: float, step: float) -> tuple[Prepared, float, float]:
    """``candidate``, the step where its squared error would be ``error`` (``step_at_error``, measured at ``step``)
    and its bit estimate there."""
    at = step_at_error(candidate, ref, error, step)
    return candidate, at, candidate.estimate(at)


def _best_levels(frames: Sequence[np.ndarray], step: float, prediction: np.ndarray | None = None,
                 samples: int = LEVEL_SAMPLES, choices: Sequence[int] = LEVEL_CHOICES) -> int:
    """The wavelet levels of ``choices`` whose coding of the channel's first ``samples`` samples (less
    the first frame's ``prediction``, where given) takes the fewest bytes at ``step`` (the first on a
    tie). Judged by coded bytes, not the bit estimate, which misses the context tables of small coarse
    bands: a short record wants few levels, a long one at a coarse step more."""
    head = frames[0][:samples]
    given = [None if prediction is None else FixedPrediction(prediction[: len(head)])]
    sizes = run_pieces([partial(_coded_bytes, head, given, lv, step) for lv in choices], [len(head)] * len(choices))
    return choices[int(np.argmin(sizes))]


def _coded_bytes(head: np.ndarray, given: Sequence[FixedPrediction | None], levels: int, step: float) -> int:
    """The bytes of ``head`` (less the prediction ``given``) coded at ``levels`` levels and ``step``."""
    return sum(map(len, Prepared([head], given, levels).payloads(step)))  # type: ignore[arg-type]
