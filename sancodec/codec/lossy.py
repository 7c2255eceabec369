"""Lossy coding at a quality target: wavelet transform coding with per-channel rate control.

A frame coding (id 3, format 1.2) holds one channel of one frame: ``offset`` (the frame's
rounded mean), the quantiser step ``Δ``, the number of levels, the reconstruction point ``ρ``
and the dead-zone-quantised CDF 9/7 bands, entropy-coded with the block-context coder
(the approximation band as differences). The decoder computes ``rint(inverse(bands) + offset)``
with the deterministic float lifting of ``codec.wavelet``.

Rate control runs per channel over the whole record: the encoder searches ``Δ``
(``codec.stepsearch``: a secant on logarithms, within 1 %) for the coarsest step whose *decoded*
channel meets the target, computed with the decoder's own reconstruction, so the PRDN (or SNR, or
bits per sample) the file promises is the one it delivers. Every channel meets the target on its own.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sancodec.codec import kernels, running, timedomain
from sancodec.codec.beats import MAX_TAP_SHIFT, BeatTemplate, align, find_beats, find_template, read_template
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.frames import (
    ChannelFrame,
    FrameCoding,
    FramePlan,
    check_magnitude,
    decode_channel_frame,
    register_coding,
)
from sancodec.codec.residual import estimate_bits
from sancodec.codec.stepsearch import coarsest_step, find_step
from sancodec.codec.wavelet import MAX_LEVELS, band_lengths, forward_flat, inverse, levels_for, split_bands
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.metrics import prdn_with_spread
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["EFFORTS", "LossyTarget", "MixHint", "TransformCoding", "check_effort", "encode_channel", "mix_frame",
           "mix_hint", "needs_minor"]

LEVELS = 7  # wavelet levels of the first rate control; then each channel takes its own (LEVEL_CHOICES)
LEVEL_CHOICES = (5, 6, 7, 8)  # the levels tried per channel (the frame stores its own since format 1.2)
LEVEL_SAMPLES = 1 << 15  # the levels are judged on the coded bytes of the channel's first samples
SPARSE_BPS = 0.1  # a longer channel coded in fewer bits per sample than this (a loose target) tries ...
SPARSE_LEVELS = (7, 8, 9)  # ... these levels on its whole first frame: its coarse bands carry the bytes
LEVEL_CLOSE = 0.8  # where the time domain wins by less than this, the other levels may still beat it
LEVEL_CHANNELS = 1 << 17  # on channels up to this long; on longer ones (but sparse ones, SPARSE_BPS) other
# levels saved under 1 % at the cost of a second rate control (mitdb 100, drive17a, 03700181 in docs/LOSSY.md)
ROUNDING = 0.4  # q = floor(|c| / Δ + ROUNDING): a dead zone |c| < 0.6 Δ (0.5 would be plain rounding)
RHO16 = 8  # reconstruction at (|q| - 0.5 + RHO16 / 16) Δ: the centre of the quantiser cell
QUANTISERS = ((0.35, 9), (0.3, 7), (0.4, 6))  # (rounding, rho16) also tried on channels up to LEVEL_CHANNELS
SEPARATE_BANDS = 2  # predictor bit 1 (format 1.5): each band coded on its own, long ones maybe under running contexts
TEMPLATE_WINDOWS = ((0.15, 0.35), (0.2, 0.4), (0.25, 0.45), (0.3, 0.5))  # seconds before, after each beat
PERIOD_SHARE = 0.95  # a template window longer than this share of the beat period is also tried cut to it ...
MIN_AFTER = 0.1  # ... where that leaves at least this many seconds after the beat
CLEAR_MARGIN = 1.1  # plain or beat template: bit estimates this far apart decide without coding both
GAP_DIFFERENCES = 4  # predictor bit 2 (format 1.5): the beat template's gaps stored as their differences
TAP_SHIFT = 8  # predictor bit 3 (format 1.7): the beat template's taps on a grid of 2**shift eighths
GAIN_GRIDS = (4, 16, 0)  # beat gains tried on grids of 4/64 and 16/64, and all 1 (0), beside their own 1/64
EFFORTS = ("default", "fast")  # how hard the lossy encoder looks for a smaller file (encode_channel)
QUICK_BANDS = 1 << 15  # effort "fast": on channels this long, each band is coded one way (below it, costs little)
MIX_FRAMES = 6  # a one-frame lossy file is coded again in about this many frames, some of them exact (_mixed) ...
MIX_FRAME = 1 << 15  # ... of at least this many samples, ...
MIX_SLOPE = 0.5  # ... where the exact coding may take at most this many bits per sample more than the wavelets'
# (at a high rate a wavelet coding's bytes fall by 1 / (2 ln 2) = 0.72 bits per sample as its error doubles:
# an exact frame that costs less than that more removes its error for fewer bytes than coding finer would)
MIN_GAIN_SHARE = 0.01  # the gains' grids are tried where the gains take at least this share of the bits


@dataclass(frozen=True)
class LossyTarget:
    """What the lossy mode aims at, per channel: a PRDN (percent), an SNR (dB) or bits per sample."""

    prdn: float | None = None
    snr: float | None = None
    bps: float | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.prdn, self.snr, self.bps) if v is not None]
        if len(given) != 1:
            raise SanConfigError("lossy mode needs exactly one target: prdn=P (percent, e.g. 2), snr=dB or "
                                 "bps=bits per sample (CLI: --prdn, --snr, --bps)")
        value = given[0]
        if not math.isfinite(value) or value <= 0 and self.snr is None:
            raise SanConfigError(f"the lossy target must be a positive finite number, got {value}")

    @property
    def max_prdn(self) -> float | None:
        """The PRDN bound this target implies (SNR s dB is PRDN 100 * 10**(-s / 20))."""
        if self.prdn is not None:
            return self.prdn
        return None if self.snr is None else 100.0 * 10 ** (-self.snr / 20)

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in (("prdn", self.prdn), ("snr", self.snr), ("bps", self.bps)) if v is not None}


def _quantise(bands: Sequence[np.ndarray], delta: float, rounding: float = ROUNDING) -> list[np.ndarray]:
    return [np.copysign(np.floor(np.abs(b) / delta + rounding), b).astype(np.int64) for b in bands]


def _quantise_flat(flat: np.ndarray, delta: float, rounding: float = ROUNDING) -> np.ndarray:
    """:func:`_quantise` of bands concatenated (one compiled pass where the C kernels are built)."""
    compiled = kernels.dead_zone_quantise(flat, delta, rounding)
    return compiled if compiled is not None else _quantise([flat], delta, rounding)[0]


def reconstruct(q: Sequence[np.ndarray], delta: float, rho16: int, offset: int,
                prediction: np.ndarray | None = None) -> np.ndarray:
    """The decoded samples (float64 integers) of quantised bands (plus the beat prediction): the
    decoder's one code path, in this order of float operations."""
    shift = rho16 / 16 - 0.5
    levels = len(q) - 1
    flat = np.concatenate(q) if len(q) > 1 else np.asarray(q[0])
    if levels == levels_for(len(flat), levels) and [len(b) for b in q] == band_lengths(len(flat), levels):
        compiled = kernels.wavelet_synthesis(flat, levels, delta, shift, offset, prediction)
        if compiled is not None:  # the same operations in C, in one pass per lifting step
            return compiled
    if shift == 0:  # the cell's centre: (b ± 0.0) * Δ is b * Δ, bit for bit (Δ > 0 is finite, 0 stays 0)
        deq = [b * delta for b in q]
    else:
        deq = [np.where(b == 0, 0.0, (b + np.sign(b) * shift) * delta) for b in q]
    y = inverse(deq) + offset
    return np.rint(y if prediction is None else y + prediction)


def _payload(q: Sequence[np.ndarray], delta: float, levels: int, offset: int,
             template: BeatTemplate | None = None, quick: bool = False, rho16: int = RHO16) -> bytes:
    """The channel-frame; each band is coded plain or with block contexts, whichever is smaller
    (plain wins on short bands, where the context tables cost more than they save)."""
    w = ByteWriter()
    w.varint(TransformCoding.id)
    w.svarint(offset)
    w.raw(np.float32(delta).tobytes())
    w.varint(levels)
    w.varint(rho16)
    streams = [np.diff(q[0], prepend=0), *q[1:]]
    separate, bands = _quick_bands(streams) if quick else _bands(streams)
    side = ByteWriter()
    second = template is not None and template.write(side)
    # predictor: bit 0 beat template, bit 1 bands apart, bit 2 beat gaps as differences, bit 3 taps shifted
    shifted = TAP_SHIFT if template is not None and template.shift else 0
    w.varint((0 if template is None else 1) | separate | (GAP_DIFFERENCES if second else 0) | shifted)
    w.raw(side.getvalue())
    w.raw(bands)
    return w.getvalue()


def _template_side(template: BeatTemplate) -> bytes:
    """The template's side information as its frame carries it."""
    side = ByteWriter()
    template.write(side)
    return side.getvalue()


def _bands(streams: Sequence[np.ndarray]) -> tuple[int, bytes]:
    """The bands' bytes and the predictor bit that says how: all in one entropy-coded blob (each plain or
    with block classes), or (format 1.5, :data:`SEPARATE_BANDS`) each band on its own, where long bands
    may use running contexts; whichever is smaller."""
    plain = [encode_arrays([s], [False]) for s in streams]
    classes = [encode_arrays([s], [True]) for s in streams]
    contextual = [len(c) < len(p) for p, c in zip(plain, classes)]
    joint = ByteWriter()
    joint.varint(_flags(contextual))
    joint.raw(encode_arrays(streams, contextual))
    alone = [(c, True) if ctx else (p, False) for p, c, ctx in zip(plain, classes, contextual)]
    for b, s in enumerate(streams):
        if len(s) >= running.MIN_LENGTH:
            block = running.encode(s, running.choose(s, running.BAND_PARAMS))
            alone[b] = (block, True) if len(block) < len(alone[b][0]) else alone[b]
    apart = _apart(alone)
    if len(apart) < len(joint.getvalue()):
        return SEPARATE_BANDS, apart
    return 0, joint.getvalue()


def _apart(blocks: Sequence[tuple[bytes, bool]]) -> bytes:
    """Bands coded each on its own (:data:`SEPARATE_BANDS`): the flags of the contextual ones, then every
    ``(block, contextual)`` after its length."""
    w = ByteWriter()
    w.varint(_flags([ctx for _, ctx in blocks]))
    for block, _ in blocks:
        w.varint(len(block))
        w.raw(block)
    return w.getvalue()


def _quick_bands(streams: Sequence[np.ndarray]) -> tuple[int, bytes]:
    """The bands coded apart in one way each (``effort="fast"``): running contexts where a band is long
    enough for them, block classes otherwise; :func:`_bands` tries every way and keeps the smallest."""
    return SEPARATE_BANDS, _apart([(running.encode(s, running.choose(s, running.BAND_PARAMS))
                                    if len(s) >= running.MIN_LENGTH else encode_arrays([s], [True]), True)
                                   for s in streams])


def _flags(contextual: Sequence[bool]) -> int:
    return sum(1 << b for b, ctx in enumerate(contextual) if ctx)


def needs_minor(payload: bytes, length: int | None = None) -> int:
    """The format minor version a lossy file's channel-frame payload needs: 7 for a wavelet frame whose
    beat template's taps are shifted, 6 for an exact (time-domain) coding (8 where, read as a frame of
    ``length`` values, it uses LPC without restarts, the long adaptive stages or running contexts' MSB
    mode), 5 for a wavelet frame whose bands are coded apart or whose beat gaps are stored as differences
    (1.5), else 3."""
    r = ByteReader(payload, "frame")
    if r.varint() != TransformCoding.id:
        return 6 if length is None else _exact_minor(payload, length)
    r.svarint(MAX_ABS_SAMPLE)
    r.raw(4)
    r.varint(MAX_LEVELS)
    r.varint(16)
    predictor = r.varint()
    return 7 if predictor & TAP_SHIFT else 5 if predictor & (SEPARATE_BANDS | GAP_DIFFERENCES) else 3


def _exact_minor(payload: bytes, length: int) -> int:
    """8 where an exact channel-frame of a lossy file uses what format 1.8 added to lossless coding, else 6."""
    part = decode_channel_frame(payload, length, timedomain.EXACT)
    return 8 if part.cascade or part.msb or (part.lpc is not None and part.lpc[1].whole) else 6


@register_coding
class TransformCoding(FrameCoding):
    """Path 3 (format 1.2, lossy files only): wavelet transform coding, see the module docstring."""

    id, name = 3, "wavelet"

    def candidates(self, x, san, plan):  # chosen by the lossy mode's rate control, never per frame
        return []

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        if plan.mode != "lossy":
            raise SanFormatError("frame: a wavelet frame needs a lossy file")
        offset = r.svarint(MAX_ABS_SAMPLE)
        delta = float(np.frombuffer(r.raw(4), dtype="<f4")[0])
        if not (math.isfinite(delta) and delta > 0):
            raise SanFormatError("frame: wavelet step is not a positive finite number")
        levels = r.varint(MAX_LEVELS)
        if levels != levels_for(length, levels):
            raise SanFormatError(f"frame: {levels} wavelet levels for {length} samples")
        rho16 = r.varint(16)
        predictor = r.varint(1 | SEPARATE_BANDS | GAP_DIFFERENCES | TAP_SHIFT)
        if predictor & (GAP_DIFFERENCES | TAP_SHIFT) and not predictor & 1:
            raise SanFormatError("frame: beat gaps as differences or shifted taps without a beat template")
        template = (read_template(r, length, bool(predictor & GAP_DIFFERENCES), bool(predictor & TAP_SHIFT))
                    if predictor & 1 else None)
        prediction = None
        if template is not None:
            if plan.budget is not None:
                plan.budget.spend(len(template.positions), len(template.positions) * len(template.t8))
            prediction = template.prediction(length)
        lengths = band_lengths(length, levels)
        flags = r.varint((1 << len(lengths)) - 1)
        contextual = [bool(flags >> b & 1) for b in range(len(lengths))]
        uses_running = False
        if predictor & SEPARATE_BANDS:
            blocks = [r.raw(r.varint(r.remaining())) for _ in lengths]
            if r.remaining():
                raise SanFormatError(f"frame: {r.remaining()} unexpected bytes after the wavelet bands")
            streams = [running.decode_block(b, n, ctx) for b, n, ctx in zip(blocks, lengths, contextual)]
            uses_running = any(ctx and running.is_running(b) for b, ctx in zip(blocks, contextual))
        else:
            streams = decode_arrays(r.raw(r.remaining()), lengths, contextual)
        q = [np.cumsum(streams[0]), *streams[1:]]
        with np.errstate(over="ignore", invalid="ignore"):  # floats cannot wrap; they are checked next
            y = reconstruct(q, delta, rho16, offset, prediction)
        check_magnitude(float(np.abs(y).max(initial=0)) if np.all(np.isfinite(y)) else np.inf, "a wavelet sample")
        return ChannelFrame(y.astype(np.int64), 0, path=self.name, running=uses_running)


def check_effort(effort: str) -> None:
    """Refuse an ``effort`` that is not one of :data:`EFFORTS`."""
    if effort not in EFFORTS:
        raise SanConfigError(f"--effort must be one of {', '.join(EFFORTS)}, got {effort!r}")


@dataclass(frozen=True)
class MixHint:
    """What a channel's one-frame coding chose, for its coding in shorter frames, some exact (:func:`_mixed`),
    to reuse: the beat template's window (None: none). That coding looks no further (no other window, no
    time-domain candidate: the one-frame file it is weighed against already holds the best of those)."""

    window: tuple[float, float] | None


def encode_channel(frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                   fs: float | None = None, effort: str = "default", mix: MixHint | None = None) -> timedomain.Coded:
    """The payloads of one channel's frames at the coarsest step that meets ``target``, the PRDN the
    decoder will deliver (``ref``: the channel's samples to compare with, on the same scale), and
    whether they decode to the samples themselves.

    With ``fs``, a beat template (``codec.beats``) is tried too, and kept only if the channel's
    file gets smaller at the same target: the SAN-style predictor pays in bytes or is not used. Its
    window around each beat is the one of :data:`TEMPLATE_WINDOWS` whose frames code smallest at the
    plain coding's step (the best window differs by record: mitdb 100 wants a long one, a103l a short
    one), so only that one goes through rate control. The result is then compared with the channel's
    time-domain codings and other wavelet levels (:func:`_settle`).

    ``effort="fast"`` (:data:`EFFORTS`) keeps the plain wavelet coding: one rate control without the
    scan past a falling PRDN, each band coded one way on channels of :data:`QUICK_BANDS` samples or more.
    With ``mix``, a wavelet coding at a PRDN bound may code some of its frames exactly (:func:`_mixed`)."""
    check_effort(effort)
    if effort == "fast":
        quick = sum(map(len, frames)) >= QUICK_BANDS
        coded = _rate_control(_Prepared(frames, [None] * len(frames), quick=quick), ref, target, scan=False)
        return timedomain.Coded(coded.payloads(), coded.prdn, False)
    plain = _rate_control(_Prepared(frames, [None] * len(frames)), ref, target)
    windows = None if mix is None else () if mix.window is None else (mix.window,)
    best, best_bits, window = _best_template(frames, ref, fs, plain.step, windows)
    chosen = plain
    if best is not None and best_bits <= CLEAR_MARGIN * plain.estimate():  # else the template cannot pay
        chosen = _smaller(plain, _rate_control(best, ref, target, guess=plain.step))
    return _settle(chosen, frames, ref, target, mix, window if chosen is not plain else None)


def _best_template(frames: Sequence[np.ndarray], ref: np.ndarray, fs: float | None, step: float,
                   windows: Sequence[tuple[float, float]] | None = None
                   ) -> tuple[_Prepared | None, float, tuple[float, float]]:
    """The frames prepared with the beat templates that the bit estimate at ``step`` prefers (window,
    alignment, gains' and taps' grids), that estimate and the window; (None, inf, a window) where no beat
    train is found. ``windows``: those to weigh (default: :func:`_windows`)."""
    beats = [find_beats(f, fs) for f in frames] if fs and windows != () else []
    best, best_bits, best_window = None, math.inf, TEMPLATE_WINDOWS[0]
    cut_bits, cut_window = math.inf, TEMPLATE_WINDOWS[0]  # the best of the windows cut to the period
    for window in _windows(beats, fs or 0.0) if windows is None else windows:  # two windows' frames held at a time
        templates = [find_template(f, fs, window, b) for f, b in zip(frames, beats)]
        if any(t is not None for t in templates):
            prepared = _Prepared(frames, templates)
            bits = prepared.estimate(step)
            if (windows is not None or window in TEMPLATE_WINDOWS) and bits < best_bits:
                best, best_bits, best_window = prepared, bits, window
            elif window not in TEMPLATE_WINDOWS and bits < cut_bits:
                cut_bits, cut_window = bits, window
    if cut_bits < best_bits:  # the estimate favours a cut window: made again, kept if its coded bytes agree
        cut = _Prepared(frames, [find_template(f, fs, cut_window, b) for f, b in zip(frames, beats)])
        if best is None or _codes_smaller(cut, best, ref, step):
            best, best_bits, best_window = cut, cut_bits, cut_window
    if best is None:
        return None, math.inf, best_window
    # the chosen window's beats moved to where its template fits them best
    aligned = _Prepared(frames, [None if t is None else align(f, fs or 0.0, best_window, t)
                                 for f, t in zip(frames, best.templates)])
    bits = aligned.estimate(step)
    best, best_bits = (aligned, bits) if bits < best_bits else (best, best_bits)
    best, best_bits = _coarser_gains(frames, ref, best, best_bits, step)
    return (*_coarser_taps(frames, ref, best, best_bits, step), best_window)


def _codes_smaller(a: _Prepared, b: _Prepared, ref: np.ndarray, step: float) -> bool:
    """Whether ``a``'s frames take fewer bytes than ``b``'s at ``step``, ``a`` coded at the step where its
    decoded error equals ``b``'s there (the error taken to scale with the step squared)."""
    error_a, error_b = _squared_error(a, ref, step), _squared_error(b, ref, step)
    step_a = step * math.sqrt(error_b / error_a) if error_a > 0 and error_b > 0 else step
    return sum(map(len, a.payloads(float(np.float32(step_a))))) < sum(map(len, b.payloads(step)))


def _windows(beats: Sequence[np.ndarray], fs: float) -> tuple[tuple[float, float], ...]:
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


def _settle(chosen: _Coded, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
            mix: MixHint | None = None, window: tuple[float, float] | None = None) -> timedomain.Coded:
    """The channel's coding: ``chosen`` (wavelets), its time-domain alternatives where smaller (for a
    byte budget: where their PRDN is lower), and other wavelet levels where :func:`_other_levels` finds
    them better (channels up to :data:`LEVEL_CHANNELS` samples, or sparse longer ones); with ``mix``, some
    frames coded exactly where :func:`_mixed` finds that smaller (``window``: the template's, if any)."""
    coded = _settled(chosen, frames, ref, target, time_domain=mix is None)
    if isinstance(coded, timedomain.Coded):
        return coded
    mixed = _mixed(coded, frames, ref, target.max_prdn) if mix and target.max_prdn is not None else None
    return timedomain.Coded(coded.payloads(), coded.prdn, False, window) if mixed is None else mixed


def _settled(chosen: _Coded, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
             time_domain: bool = True) -> timedomain.Coded | _Coded:
    """:func:`_settle` without mixing: a wavelet coding comes back as it is (``time_domain``: weigh the
    time-domain codings)."""
    bound = target.max_prdn
    short = sum(map(len, frames)) <= LEVEL_CHANNELS
    if bound is not None and time_domain:  # format 1.6: the lossless coder, on the samples or a coarser grid
        wavelet_bytes = sum(map(len, chosen.payloads()))
        exact = timedomain.code_channel(frames, ref, bound, wavelet_bytes)
        if exact is not None:
            exact_bytes = sum(map(len, exact.payloads))
            if not (short and exact_bytes > LEVEL_CLOSE * wavelet_bytes):
                return exact
            chosen = _other_quantisers(_other_levels(chosen, frames, ref, target), ref, target)  # may still beat it
            return exact if sum(map(len, chosen.payloads())) >= exact_bytes else chosen
    if short:
        chosen = _other_quantisers(_other_levels(chosen, frames, ref, target), ref, target)
    elif 8 * sum(map(len, chosen.payloads())) < SPARSE_BPS * sum(map(len, frames)):
        chosen = _other_levels(chosen, frames, ref, target, len(frames[0]), SPARSE_LEVELS)
    if target.bps is not None:  # a byte budget: the time domain where it has less error in those bytes
        within = timedomain.code_within(frames, ref, target.bps * len(ref) / 8, chosen.prdn)
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
    """What a coding in shorter frames needs where ``coded`` (a channel's wavelet coding at a PRDN bound) may
    shrink with some of those frames coded exactly (:func:`_mixed`): its exact coding may take at most
    :func:`_mix_within` bytes. None where it may not."""
    if (target.max_prdn is not None and not coded.exact and all(needs_minor(p) != 6 for p in coded.payloads)
            and timedomain.may_code_exactly(frames, _mix_within(frames, coded.payloads))):
        return MixHint(coded.window)
    return None


def _mixed(coded: _Coded, frames: Sequence[np.ndarray], ref: np.ndarray, bound: float) -> timedomain.Coded | None:
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
    error = [_error(decoded[a:b], r) for a, b, r in zip(edges, edges[1:], refs)]
    exact_error = [_error(f, r) for f, r in zip(frames, refs)]  # 0 but for a float source's grid
    price = [(len(x) - len(w)) / (e - z) if e > z else math.inf
             for x, w, e, z in zip(exact, payloads, error, exact_error)]
    order = [int(i) for i in np.argsort(price, kind="stable") if math.isfinite(price[i])][: len(frames) - 1]
    spread = float(np.linalg.norm(ref - ref.mean()))
    allowed = (bound / 100 * spread) ** 2  # the channel's squared error at its bound
    best, best_bytes = None, sum(map(len, payloads))
    for k in range(1, len(order) + 1):
        taken = set(order[:k])
        keep = [i for i in range(len(frames)) if i not in taken]
        left = allowed - sum(exact_error[i] for i in taken)
        sub_ref = np.concatenate([refs[i] for i in keep])
        sub_spread = float(np.linalg.norm(sub_ref - sub_ref.mean()))
        if not (left > 0 and sub_spread > 0):
            break
        target = LossyTarget(prdn=100 * math.sqrt(left) / sub_spread * (1 - 1e-9))
        rest = _rate_control(coded.prepared.subset(keep), sub_ref, target, guess=coded.step)
        parts = dict(zip(keep, rest.payloads())) | {i: exact[i] for i in taken}
        total = sum(map(len, parts.values()))
        got = 100 * math.sqrt(_error(rest.prepared.decoded(rest.step), sub_ref)
                              + sum(exact_error[i] for i in taken)) / spread
        if total >= best_bytes or not got <= bound:
            break
        best, best_bytes = timedomain.Coded([parts[i] for i in range(len(frames))], got, False), total
    return best


def _error(y: np.ndarray, ref: np.ndarray) -> float:
    """The squared error of ``y`` against ``ref``."""
    d = y - ref
    return float(d @ d)


def _other_levels(coded: _Coded, frames: Sequence[np.ndarray], ref: np.ndarray, target: LossyTarget,
                  samples: int = LEVEL_SAMPLES, choices: Sequence[int] = LEVEL_CHOICES) -> _Coded:
    """``coded`` (at :data:`LEVELS`) or the same coding at the levels :func:`_best_levels` prefers, through
    rate control, whichever codes smaller (by the coded bytes, as the bit estimate misjudges levels) or,
    for a byte budget, whichever has the lower PRDN in it."""
    prepared = coded.prepared
    levels = _best_levels(frames, coded.step, prepared.prediction(0), samples, choices)
    if levels == prepared.asked_levels:
        return coded
    other = _rate_control(_Prepared(frames, prepared.templates, levels), ref, target, guess=coded.step)
    if target.bps is not None:
        return other if other.prdn < coded.prdn else coded
    return other if sum(map(len, other.payloads())) < sum(map(len, coded.payloads())) else coded


def _other_quantisers(coded: _Coded, ref: np.ndarray, target: LossyTarget) -> _Coded:
    """``coded`` or the same coding under the dead zone and reconstruction point of :data:`QUANTISERS`
    that the bit estimate prefers at equal error (measured at ``coded``'s step, the error taken to scale
    with the step squared), through rate control and kept where it codes smaller (for a byte budget:
    decodes with a lower PRDN). A signal whose finest bands hold noise wants a narrower dead zone and a
    reconstruction point nearer zero (PTB s0010_re at PRDN 9 %)."""
    error = _squared_error(coded.prepared, ref, coded.step)
    if not error > 0:  # an exact decode: no error to match
        return coded
    best_bits, pick, pick_step = coded.estimate(), None, coded.step
    for rounding, rho16 in QUANTISERS:
        candidate = coded.prepared.with_quantiser(rounding, rho16)
        step = _step_at_error(candidate, ref, error, coded.step)
        if (bits := candidate.estimate(step)) < best_bits:
            best_bits, pick, pick_step = bits, candidate, step
    if pick is None:
        return coded
    other = _rate_control(pick, ref, target, guess=pick_step)
    if target.bps is not None:
        return other if other.prdn < coded.prdn else coded
    return other if sum(map(len, other.payloads())) < sum(map(len, coded.payloads())) else coded


def _best_levels(frames: Sequence[np.ndarray], step: float, prediction: np.ndarray | None = None,
                 samples: int = LEVEL_SAMPLES, choices: Sequence[int] = LEVEL_CHOICES) -> int:
    """The wavelet levels of ``choices`` whose coding of the channel's first ``samples`` samples (less
    the first frame's ``prediction``, where given) takes the fewest bytes at ``step`` (the first on a
    tie). Judged by coded bytes, not the bit estimate, which misses the context tables of small coarse
    bands: a short record wants few levels, a long one at a coarse step more."""
    head = frames[0][:samples]
    given = [None if prediction is None else FixedPrediction(prediction[: len(head)])]
    sizes = [sum(map(len, _Prepared([head], given, lv).payloads(step))) for lv in choices]  # type: ignore[list-item]
    return choices[int(np.argmin(sizes))]


class FixedPrediction:
    """A given prediction in the slot of a beat template: it writes no side information (what it
    costs is counted elsewhere, or is the same for everything compared)."""

    shift = 0  # no tap grid: format 1.7's predictor bit 3 stays clear

    def __init__(self, prediction: np.ndarray) -> None:
        self.p = prediction

    def prediction(self, length: int) -> np.ndarray:
        return self.p[:length]

    def write(self, w: object) -> bool:
        return False


def _coarser_gains(frames: Sequence[np.ndarray], ref: np.ndarray, prepared: _Prepared, bits: float,
                   step: float) -> tuple[_Prepared, float]:
    """``prepared`` with its beat gains rounded to the grid of :data:`GAIN_GRIDS` that the bit estimate
    prefers, and that estimate. The gains are side information: at a loose target a coarse gain costs
    less than it loses (all gains 1, grid 0, makes them nearly free), where the gains take at least
    :data:`MIN_GAIN_SHARE` of the bits. A coarser gain predicts worse, so
    each grid is judged at the step where its decoded channel has the error ``prepared`` has at
    ``step`` (measured at ``step``, the error taken to scale with the step squared)."""
    gain_bits = sum(0 if t is None else 8 * len(encode_arrays([t.g64 - 64], [False])) for t in prepared.templates)
    if gain_bits < MIN_GAIN_SHARE * bits:  # no grid can save more than the gains take
        return prepared, bits
    error = _squared_error(prepared, ref, step)
    if not error > 0:  # an exact decode: no error for a coarser grid to match
        return prepared, bits
    for grid in GAIN_GRIDS:
        templates = [None if t is None else t.with_gains_on(grid) for t in prepared.templates]
        candidate = _Prepared(frames, templates, prepared.asked_levels)
        estimate = _at_equal_error(candidate, ref, error, step)
        if estimate < bits:
            prepared, bits = candidate, estimate
    return prepared, bits


def _coarser_taps(frames: Sequence[np.ndarray], ref: np.ndarray, prepared: _Prepared, bits: float,
                  step: float) -> tuple[_Prepared, float]:
    """``prepared`` with its templates' taps on the coarsest grid of ``2**shift`` eighths (format 1.7)
    that the bit estimate prefers, and that estimate. Taps finer than the residual's step cost side
    information (a 1000 Hz template is hundreds of taps) and predict no better; each shift (2, 4, …,
    up to a grid of about ``step``) is judged as :func:`_coarser_gains` judges a gain grid, and the
    search stops at the first that does not help."""
    tap_bits = sum(0 if t is None else 8 * len(encode_arrays([np.diff(t.t8, prepend=0)], [False]))
                   for t in prepared.templates)
    if tap_bits < MIN_GAIN_SHARE * bits:
        return prepared, bits
    error = _squared_error(prepared, ref, step)
    if not error > 0:  # an exact decode: no error for a coarser grid to match
        return prepared, bits
    for shift in range(2, min(MAX_TAP_SHIFT, int(math.log2(max(8 * step, 1)))) + 1, 2):
        templates = [None if t is None else t.with_taps_on(shift) for t in prepared.templates]
        candidate = _Prepared(frames, templates, prepared.asked_levels)
        estimate = _at_equal_error(candidate, ref, error, step)
        if estimate >= bits:
            break
        prepared, bits = candidate, estimate
    return prepared, bits


def _at_equal_error(candidate: _Prepared, ref: np.ndarray, error: float, step: float) -> float:
    """``candidate``'s bit estimate at :func:`_step_at_error`, never coarser than ``step``."""
    return candidate.estimate(min(_step_at_error(candidate, ref, error, step), step))


def _step_at_error(candidate: _Prepared, ref: np.ndarray, error: float, step: float) -> float:
    """The step where ``candidate``'s decoded squared error would equal ``error`` (> 0), measured at ``step``
    and taken to scale with the step squared."""
    return step * math.sqrt(error / max(_squared_error(candidate, ref, step), 1e-300))


def _squared_error(prepared: _Prepared, ref: np.ndarray, step: float) -> float:
    """The squared error of the channel decoded at ``step``."""
    return _error(prepared.decoded(step), ref)


class _Coded(NamedTuple):
    """One way of coding a channel at the step its rate control found, and the PRDN it decodes to."""

    prepared: _Prepared
    step: float
    prdn: float

    def payloads(self) -> list[bytes]:
        return self.prepared.payloads(self.step)

    def estimate(self) -> float:
        return self.prepared.estimate(self.step)


def _smaller(a: _Coded, b: _Coded) -> _Coded:
    """The one whose frames take fewer bytes (``a`` on a tie): judged by the bit estimate where it
    differs by more than :data:`CLEAR_MARGIN`, else by coding both."""
    ea, eb = a.estimate(), b.estimate()
    if max(ea, eb) > CLEAR_MARGIN * min(ea, eb):
        return a if ea <= eb else b
    return a if sum(map(len, a.payloads())) <= sum(map(len, b.payloads())) else b


class _Prepared:
    """One channel's frames made ready for quantisation: the template's prediction subtracted, the
    offset removed, the wavelet bands computed once for every step tried."""

    def __init__(self, frames: Sequence[np.ndarray], templates: Sequence[BeatTemplate | None],
                 levels: int = LEVELS, quick: bool = False) -> None:
        self.templates = templates
        self.quick = quick  # each band coded one way (_quick_bands)
        self.rounding, self.rho16 = ROUNDING, RHO16  # the quantiser (with_quantiser)
        self.asked_levels = levels
        self.lengths = [len(f) for f in frames]
        self.offsets, self.flat = [], []
        self.levels = [levels_for(len(f), levels) for f in frames]
        for i, (f, lv) in enumerate(zip(frames, self.levels)):  # a frame's prediction is made again when needed:
            p = self.prediction(i)  # a long channel's would take as much memory as its bands
            r = f if p is None else f - p
            self.offsets.append(int(np.rint(r.mean())))
            self.flat.append(forward_flat(r - self.offsets[-1], lv))
        self.side_bits = [0 if t is None else 8 * len(_template_side(t)) for t in templates]  # counted once
        self._last: tuple[float, list[bytes]] | None = None

    def prediction(self, i: int) -> np.ndarray | None:
        """Frame ``i``'s beat prediction (None without a template), made from the template each time."""
        t = self.templates[i]
        return None if t is None else t.prediction(self.lengths[i])

    def subset(self, keep: Sequence[int]) -> _Prepared:
        """The frames ``keep`` alone (bands shared, not recomputed), under the same quantiser."""
        other = copy.copy(self)
        other.templates = [self.templates[i] for i in keep]
        other.lengths = [self.lengths[i] for i in keep]
        other.offsets = [self.offsets[i] for i in keep]
        other.flat = [self.flat[i] for i in keep]
        other.levels = [self.levels[i] for i in keep]
        other.side_bits = [self.side_bits[i] for i in keep]
        other._last = None
        return other

    def with_quantiser(self, rounding: float, rho16: int) -> _Prepared:
        """The same frames (bands shared, not recomputed) under another dead zone (``rounding``, the
        encoder's choice) and reconstruction point (``rho16``, stored in each frame since format 1.2)."""
        other = copy.copy(self)
        other.rounding, other.rho16, other._last = rounding, rho16, None
        return other

    def quantised(self, delta: float) -> list[list[np.ndarray]]:
        """Each frame's quantised bands at step ``delta``."""
        return [split_bands(_quantise_flat(f, delta, self.rounding), lv) for f, lv in zip(self.flat, self.levels)]

    def decoded(self, delta: float) -> np.ndarray:
        """The channel the decoder rebuilds at step ``delta`` (compiled: quantised and rebuilt in one call
        where the reconstruction point is the cell's centre, the decoder's arithmetic bit for bit)."""
        parts = []
        for i, (f, lv, o) in enumerate(zip(self.flat, self.levels, self.offsets)):
            p = self.prediction(i)
            compiled = kernels.wavelet_requantised(f, lv, delta, self.rounding, o, p) if self.rho16 == 8 else None
            parts.append(compiled if compiled is not None else
                         reconstruct(split_bands(_quantise_flat(f, delta, self.rounding), lv), delta, self.rho16, o, p))
        return np.concatenate(parts)

    def estimate(self, delta: float) -> float:
        """A quick bit estimate of the frames at step ``delta``: order-0 bits of the quantised bands
        (``residual.estimate_bits``) plus the templates' side information."""
        bits = 0.0
        for qs, side in zip(self.quantised(delta), self.side_bits):
            bits += sum(estimate_bits(q) for q in qs)
            bits += side
        return bits

    def payloads(self, delta: float) -> list[bytes]:
        """The frames' payloads at step ``delta`` (the bits only: no reconstruction needed; the last
        step's are kept, as the search for a size budget asks for them again)."""
        if self._last is None or self._last[0] != delta:
            self._last = (delta, [_payload(q, delta, lv, o, t, self.quick, self.rho16) for q, lv, o, t
                                  in zip(self.quantised(delta), self.levels, self.offsets, self.templates)])
        return self._last[1]


def _rate_control(prepared: _Prepared, ref: np.ndarray, target: LossyTarget, guess: float | None = None,
                  scan: bool = True) -> _Coded:
    """The coarsest step that meets ``target`` and the PRDN it decodes to (``guess``: where the search
    measures first; by default the step uniform quantisation of every coefficient would need; ``scan``:
    past a PRDN that falls as the step grows, look for coarser steps that meet it, ``coarsest_step``)."""
    scale = max((float(np.abs(f).max(initial=0)) for f in prepared.flat), default=0.0)
    # lo: exact after rounding; hi: every coefficient quantises to 0 (both, like every step tried, float32)
    lo, hi = float(np.float32(1e-3)), float(np.float32(max(4.0 * scale, 1.0)))
    bound = target.max_prdn
    measured: dict[float, float] = {}
    spread = float(np.linalg.norm(ref - ref.mean())) if len(ref) else 0.0  # metrics.prdn's denominator, once

    def distortion(step: float) -> float:
        measured[step] = prdn_with_spread(ref, prepared.decoded(step), spread)
        return measured[step]

    if bound is not None:  # the coarsest step that still meets the PRDN
        std = float(np.std(ref)) if len(ref) else 0.0
        first = guess if guess is not None else bound / 100 * std * math.sqrt(12)
        step = (coarsest_step if scan else find_step)(distortion, bound, lo, hi, max(first, lo))[0]
    else:  # the finest step that fits the budget
        budget = target.bps * len(ref) / 8
        step = find_step(lambda s: sum(map(len, prepared.payloads(s))), budget, lo, hi,
                         guess if guess is not None else math.sqrt(lo * hi), rising=False)[1]
    return _Coded(prepared, step, measured[step] if step in measured else distortion(step))
