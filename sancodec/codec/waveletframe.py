"""The wavelet channel-frame of lossy files (path 3, format 1.2): its quantiser, layout and decoder.

A frame coding (id 3) holds one channel of one frame: ``offset`` (the frame's rounded mean), the
quantiser step ``Δ``, the number of levels, the reconstruction point ``ρ`` and the dead-zone-quantised
CDF 9/7 bands, entropy-coded with the block-context coder or running contexts (the approximation band
as differences), with an optional beat template whose prediction is added back. The decoder computes
``rint(inverse(bands) + offset + prediction)`` with the deterministic float lifting of ``codec.wavelet``;
the encoder's rate control (``codec.lossyrate``) measures every step with that same reconstruction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from sancodec.codec import adaptivebands, bandlpc, dependent, kernels, running, timedomain
from sancodec.codec.beats import BeatTemplate, read_template
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.frames import (
    ChannelFrame,
    FrameCoding,
    FramePlan,
    check_magnitude,
    decode_channel_frame,
    register_coding,
)
from sancodec.codec.interchannel import nested_difference
from sancodec.codec.jobs import PARALLEL_VALUES, Once, run_jobs, run_pieces
from sancodec.codec.mains import Mains, read_mains
from sancodec.codec.residual import estimate_bits
from sancodec.codec.wavelet import MAX_LEVELS, band_lengths, inverse, levels_for
from sancodec.errors import SanFormatError
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["ADAPTIVE_BANDS", "ADAPTIVE_PARENT", "BAND_LPC", "DEPENDENT", "MAINS", "RHO16", "ROUNDING", "SEPARATE_BANDS",
           "TAP_SECOND", "TransformCoding", "WaveletHead", "code_bands", "frame_prediction", "needs_minor", "quantise",
           "quantise_flat", "quick_bands", "read_head", "reconstruct", "reconstruct_flat", "template_side",
           "wavelet_payload"]

ROUNDING = 0.4  # q = floor(|c| / Δ + ROUNDING): a dead zone |c| < 0.6 Δ (0.5 would be plain rounding)
RHO16 = 8  # reconstruction at (|q| - 0.5 + RHO16 / 16) Δ: the centre of the quantiser cell
SEPARATE_BANDS = 2  # predictor bit 1 (format 1.5): each band coded on its own, long ones maybe under running contexts
GAP_DIFFERENCES = 4  # predictor bit 2 (format 1.5): the beat template's gaps stored as their differences
TAP_SHIFT = 8  # predictor bit 3 (format 1.7): the beat template's taps on a grid of 2**shift eighths
ADAPTIVE_BANDS = 16  # predictor bit 4 (format 1.9): the bands in one adaptive stream without tables (adaptivebands)
MAINS = 32  # predictor bit 5 (format 1.10): mains hum (codec.mains) added to the prediction, after the beat template
BAND_LPC = 64  # predictor bit 6 (format 1.11): with SEPARATE_BANDS or ADAPTIVE_BANDS, some bands coded as their
# linear prediction's residual (codec.bandlpc), their filters before the bands (after the contextual flags)
MINOR_11 = 11  # format 1.11: a wavelet frame with bands predicted (BAND_LPC)
DEPENDENT = 128  # predictor bit 7 (format 1.12): the detail bands' values are trellis-coded indices (codec.dependent)
TAP_SECOND = 256  # predictor bit 8 (format 1.12): the beat template's taps stored as their second differences
MINOR_12 = 12  # format 1.12: a wavelet frame quantised dependently (DEPENDENT) or with TAP_SECOND
ADAPTIVE_PARENT = 512  # predictor bit 9 (format 1.13): with ADAPTIVE_BANDS, the stream's bands from the third on have
# their contexts split by their parent's token too (adaptivebands, parent contexts)
MINOR_13 = 13  # format 1.13: a wavelet frame whose adaptive stream has parent contexts (ADAPTIVE_PARENT)
MINOR_10 = 10  # format 1.10: a wavelet frame with mains hum (MAINS), or nested in path 5 (a difference from
# earlier decoded channels)
QUICK_ADAPTIVE_SHARE = 0.99  # quick_bands keeps the adaptive stream where it takes under this share of the bands apart:
# it decodes a decision at a time, slower than the bands apart, for a gain of a few bytes where it only just wins
QUICK_ADAPTIVE_LONG = 1 << 15  # ... and on a frame of more values than this, codes it only where its tokens average at
QUICK_ADAPTIVE_DECISIONS = 6  # ... most this many binary decisions a value (a token of 5 or less, on average): past
# it the tables it saves are a small share of the bytes, and it did not win once in lossy_sizes' files (EMG, and
# other records at PRDN 1 % or 1 bit a sample: their tokens averaged 5.8 to 12.8, and the stream took 0.996 to 1.031
# of the bands apart), for most of the encode's time on such a frame (emg_myopathy at PRDN 2 %: 6 of 14 ms); it
# won on frames whose tokens averaged up to 4.6 (a103l's ECG at PRDN 1 %, effort fast), and on CTG's 19 200 values
# at 5.5
QUICK_LPC_VALUES = 1 << 14  # quick_bands also weighs a band of bandlpc.MIN_LENGTH to this many values as its linear
# prediction's residual (format 1.11): a pulse wave's coarse bands at PRDN 1-2 % in 0.86-0.91 of the bytes (up to 2^13
# values: balanced's files 0.05 % larger, fast's 0.5 %; a fit on 2^12 values to order 8: 0.1 % and 0.6 %; lossy_sizes)
LONG_LPC_BITS = 0.5  # quick_bands weighs a longer band's prediction where the band codes in this many bits a value
# or more: a sparser one has few bytes to save for its coding again (drive17a's finest band at PRDN 2 %, 418 112
# values at 0.09 bits a value: at 0, the same file in 1.19x the time, benchmarks/ab_setting.py
# sancodec.codec.waveletframe.LONG_LPC_BITS 0.5 0.0 --effort balanced). PTB s0010_re's finest band (19 200 values,
# 1000 Hz) at PRDN 1 % codes 8 % smaller so (sancodec info --bands: 6313 -> 5798 bytes), balanced's file 3 %
# (lossy_sizes.py: no file at a PRDN target
# larger, balanced's 0.04 % and fast's 0.6 % smaller in all), for 1.30 -> 1.39 times the samples coded under running
# contexts at PRDN 1 % (lossy_work.py, balanced; 1.08 -> 1.14 at 2 %, 1.09 -> 1.13 at 5 %)
SHORT_BANDS_WORK = 4  # quick_bands' short bands (their prediction's fits, then their coding) take about this many
# times a long band's time a value (drive17a at PRDN 2 %: 44 ns against 12), which orders the pieces it runs
RUNNING_BANDS = 1 << 12  # bands this long are also tried under running contexts (on shorter ones they seldom won
# in bench_lossy's runs, and by little, for as much work as the band's other codings)


def quantise(bands: Sequence[np.ndarray], delta: float, rounding: float = ROUNDING) -> list[np.ndarray]:
    """The dead-zone quantiser, ``sign(b) * floor(|b| / delta + rounding)`` as int64. A step search on huge
    samples tries steps whose cells overflow int64: such a cell (or a nan) is then INT64_MIN, as the compiled kernel
    makes it on every machine and build (x86's conversion instruction gives it; C and numpy leave the cast to the
    machine), without numpy's warning; no file is coded at such a step."""
    return [_dead_zone(b, delta, rounding) for b in bands]


def _dead_zone(band: np.ndarray, delta: float, rounding: float) -> np.ndarray:
    """:func:`quantise` of one band."""
    cells = np.copysign(np.floor(np.abs(band) / delta + rounding), band)
    with np.errstate(invalid="ignore"):
        q = cells.astype(np.int64)
    past = ~(np.abs(cells) < 2.0**63)  # past int64 or nan (-2^63 is INT64_MIN either way)
    if past.any():
        q[past] = np.iinfo(np.int64).min
    return q


def quantise_flat(flat: np.ndarray, delta: float, rounding: float = ROUNDING) -> np.ndarray:
    """:func:`quantise` of bands concatenated (one compiled pass where the C kernels are built)."""
    compiled = kernels.dead_zone_quantise(flat, delta, rounding)
    return compiled if compiled is not None else quantise([flat], delta, rounding)[0]


def reconstruct(q: Sequence[np.ndarray], delta: float, rho16: int, offset: int,
                prediction: np.ndarray | None = None) -> np.ndarray:
    """The decoded samples (float64 integers) of quantised bands (plus the beat prediction): the
    decoder's one code path, in this order of float operations."""
    flat = np.concatenate(q) if len(q) > 1 else np.asarray(q[0])
    return reconstruct_flat(flat, [len(b) for b in q], delta, rho16, offset, prediction)


def reconstruct_flat(flat: np.ndarray, lengths: Sequence[int], delta: float, rho16: int, offset: int,
                     prediction: np.ndarray | None = None) -> np.ndarray:
    """:func:`reconstruct` of bands laid end to end in ``flat`` (``lengths``, coarsest first), as the decoder
    holds them."""
    shift = rho16 / 16 - 0.5
    levels = len(lengths) - 1
    if _lifts(flat, lengths):
        compiled = kernels.wavelet_synthesis(flat, levels, delta, shift, offset, prediction)
        if compiled is not None:  # the same operations in C, in one pass per lifting step
            return compiled
    q = np.split(flat, np.cumsum(lengths)[:-1])
    if shift == 0:  # the cell's centre: (b ± 0.0) * Δ is b * Δ, bit for bit (Δ > 0 is finite, 0 stays 0)
        deq = [b * delta for b in q]
    else:
        deq = [np.where(b == 0, 0.0, (b + np.sign(b) * shift) * delta) for b in q]
    y = inverse(deq) + offset
    return np.rint(y if prediction is None else y + prediction)


def _lifts(flat: np.ndarray, lengths: Sequence[int]) -> bool:
    """Whether bands of ``lengths`` laid end to end in ``flat`` are the layout the compiled lifting takes
    (``kernels._check_levels``): the levels ``levels_for`` allows, the lengths ``band_lengths`` gives."""
    levels = len(lengths) - 1
    return levels == levels_for(len(flat), levels) and list(lengths) == band_lengths(len(flat), levels)


def frame_prediction(template: BeatTemplate | None, mains: Mains | None, length: int) -> np.ndarray | None:
    """What a wavelet frame adds to its rebuilt samples: the beat template's prediction, then (1.10) the mains
    hum, in that order of float64 additions; None without either. The decoder's and the encoder's
    (``lossyrate.Prepared``) one computation, so both round the same sums."""
    prediction = None if template is None else template.prediction(length)
    if mains is not None:  # the template's prediction is this call's own: the hum is added to it in place
        prediction = mains.prediction(length, add_to=prediction)
    return prediction


def wavelet_payload(q: Sequence[np.ndarray], delta: float, levels: int, offset: int,
             template: BeatTemplate | None = None, quick: bool = False, rho16: int = RHO16,
             mains: Mains | None = None, dependent: bool = False, fitted_stream: bool = False) -> bytes:
    """The channel-frame; each band is coded plain or with block contexts, whichever is smaller
    (plain wins on short bands, where the context tables cost more than they save); ``mains``: the hum
    the prediction adds (format 1.10); ``dependent``: the detail bands hold trellis-coded indices (format 1.12,
    :data:`DEPENDENT`); ``fitted_stream``, with ``quick``: :func:`quick_bands` also weighs the adaptive stream of the
    bands' prediction residuals, as :func:`code_bands` does."""
    w = ByteWriter()
    w.varint(TransformCoding.id)
    w.svarint(offset)
    w.raw(np.float32(delta).tobytes())
    w.varint(levels)
    w.varint(rho16)
    streams = [np.diff(q[0], prepend=0), *q[1:]]
    separate, bands = quick_bands(streams, fitted_stream) if quick else code_bands(streams)
    side = ByteWriter()
    second, smooth = template.write(side) if template is not None else (False, False)
    # predictor: bit 0 beat template, bit 1 bands apart, bit 2 beat gaps as differences, bit 3 taps shifted, bit 5
    # mains hum, bit 6 bands predicted (with bit 1 or 4, from code_bands), bit 7 dependent quantisation, bit 8 taps as
    # second differences, bit 9 the adaptive stream's parent contexts (with bit 4, from code_bands)
    shifted = TAP_SHIFT if template is not None and template.shift else 0
    if mains is not None:
        mains.write(side)
    w.varint((0 if template is None else 1) | separate | (GAP_DIFFERENCES if second else 0) | shifted
             | (0 if mains is None else MAINS) | (DEPENDENT if dependent else 0) | (TAP_SECOND if smooth else 0))
    w.raw(side.getvalue())
    w.raw(bands)
    return w.getvalue()


def template_side(template: BeatTemplate) -> bytes:
    """The template's side information as its frame carries it."""
    side = ByteWriter()
    template.write(side)
    return side.getvalue()


def code_bands(streams: Sequence[np.ndarray], params: tuple[int, ...] = running.BAND_PARAMS) -> tuple[int, bytes]:
    """The bands' bytes and the predictor bits that say how: all in one entropy-coded blob (each plain or
    with block classes), or (format 1.5, :data:`SEPARATE_BANDS`) each band on its own, where long bands
    may use running contexts (:data:`RUNNING_BANDS`, the best of ``params``) and (format 1.11, :data:`BAND_LPC`)
    bands of at least ``bandlpc.MIN_LENGTH`` values may be coded as their linear prediction's residual, or
    (format 1.9, :data:`ADAPTIVE_BANDS`, frames of up to ``adaptivebands.MAX_VALUES`` values) all in one adaptive
    stream without tables (1.11: also with every band ``bandlpc.predicted`` finds a filter for as its residual; 1.13:
    each stream also with parent contexts, :data:`ADAPTIVE_PARENT`, ``adaptivebands.encode_either``);
    whichever is smallest. Each band's two block codings (and its residual's) are sized
    in one compiled call where built, and made only where kept."""
    fits = _band_fits(streams)
    residuals = [fit[1] for fit in fits.values()]
    candidates = [*streams, *residuals]  # a predicted band's residual is another way to code it
    owner = [*range(len(streams)), *fits]  # the band each candidate codes
    filters = [None] * len(streams) + [fit[0] for fit in fits.values()]
    sizes = kernels.block_sizes(candidates)
    if sizes is None:
        sizes = np.array([[len(encode_arrays([s], [ctx])) for ctx in (False, True)] for s in candidates])
    contextual = [bool(c < p) for p, c in sizes]
    joint = ByteWriter()
    joint.varint(_flags(contextual[: len(streams)]))
    lengths = [int(min(p, c)) for p, c in sizes]
    # the codings weighed are independent: made side by side on the threads jobs.piece_threads allows
    long_ones = [k for k, c in enumerate(candidates) if len(c) >= RUNNING_BANDS]
    work: list[Callable[[], Any]] = [partial(encode_arrays, streams, contextual[: len(streams)])]
    work += [partial(_running_band, candidates[k], params) for k in long_ones]
    values = sum(map(len, streams))
    tried_adaptive = values <= adaptivebands.MAX_VALUES  # format 1.9: no tables, which short frames pay most for
    adaptive = [streams] if tried_adaptive else []
    if tried_adaptive and fits:  # 1.11: also with every promising band's residual in its place
        adaptive.append(_with_residuals(streams, fits))
    work += [partial(adaptivebands.encode_either, a) for a in adaptive]
    made = run_pieces(work, [values, *(len(candidates[k]) for k in long_ones), *([2 * values] * len(adaptive))])
    joint.raw(made[0])
    blocks: list[bytes | None] = [None] * len(candidates)  # None: made when kept
    for k, block in zip(long_ones, made[1:]):
        if len(block) < lengths[k]:
            blocks[k], contextual[k], lengths[k] = block, True, len(block)
    # each band's cheapest candidate, a residual's filter bytes counted with it
    extra = [0] * len(streams) + [fit[2] for fit in fits.values()]
    chosen = list(range(len(streams)))
    for k in range(len(streams), len(candidates)):
        if lengths[k] + extra[k] < lengths[chosen[owner[k]]] + extra[chosen[owner[k]]]:
            chosen[owner[k]] = k
    apart_bytes = _apart_bytes(chosen, contextual, lengths, filters)
    unpredicted = list(range(len(streams)))
    if chosen != unpredicted:
        plain_bytes = _apart_bytes(unpredicted, contextual, lengths, filters)
        if apart_bytes >= plain_bytes:  # the filters' mask cost what the residuals saved
            chosen, apart_bytes = unpredicted, plain_bytes
    predicted = {b: filters[k] for b, k in enumerate(chosen) if filters[k] is not None}
    best = min(apart_bytes, len(joint.getvalue()))
    plain_adaptive, parents = made[len(made) - len(adaptive)] if adaptive else (None, False)
    if len(adaptive) == 2 and plain_adaptive is not None:  # the residuals' stream after the filters
        with_filters = _after_filters(fits, made[-1][0])
        if len(with_filters) < min(best, len(plain_adaptive)):
            return ADAPTIVE_BANDS | BAND_LPC | _parent_bit(made[-1][1]), with_filters
    if plain_adaptive is not None and len(plain_adaptive) < best:
        return ADAPTIVE_BANDS | _parent_bit(parents), plain_adaptive
    if apart_bytes < len(joint.getvalue()):
        kept = [(_made_block(blocks[k], candidates[k], contextual[k]), contextual[k]) for k in chosen]
        return SEPARATE_BANDS | (BAND_LPC if predicted else 0), _apart(kept, predicted)
    return 0, joint.getvalue()


def _made_block(block: bytes | None, values: np.ndarray, contextual: bool) -> bytes:
    """A band's block as made by a piece (``block``), or made now (None: made only where kept)."""
    return encode_arrays([values], [contextual]) if block is None else block


#: Each band's ``bandlpc.predicted``, made once whichever of ``quick_bands``' pieces asks first (by band)
Fits = dict[int, Once[tuple[Any, np.ndarray, int] | None]]


def _fits_once(streams: Sequence[np.ndarray]) -> Fits:
    """:data:`Fits` of every band of ``bandlpc.MIN_LENGTH`` values or more, none made yet."""
    return {b: Once(partial(bandlpc.predicted, s)) for b, s in enumerate(streams) if len(s) >= bandlpc.MIN_LENGTH}


def _band_fits(streams: Sequence[np.ndarray], once: Fits | None = None) -> dict[int, tuple[Any, np.ndarray, int]]:
    """Each band of ``bandlpc.MIN_LENGTH`` values or more that ``bandlpc.predicted`` finds a filter for: its filter,
    residual and the filter's bytes, by band (``once``: those fits, shared with other pieces)."""
    once = _fits_once(streams) if once is None else once
    fits = {b: fit() for b, fit in once.items()}
    return {b: fit for b, fit in fits.items() if fit is not None}


def _with_residuals(streams: Sequence[np.ndarray], fits: dict[int, tuple[Any, np.ndarray, int]]) -> list[np.ndarray]:
    """``streams`` with each band ``fits`` holds replaced by its residual (the adaptive stream of format 1.11)."""
    return [fits[b][1] if b in fits else s for b, s in enumerate(streams)]


def _after_filters(fits: dict[int, tuple[Any, np.ndarray, int]], stream: bytes) -> bytes:
    """An adaptive stream of the bands with ``fits``' residuals in place (format 1.11), after their filters."""
    w = ByteWriter()
    bandlpc.write_filters(w, {b: fit[0] for b, fit in fits.items()})
    w.raw(stream)
    return w.getvalue()


def _fitted_stream(streams: Sequence[np.ndarray], limit: int | None, once: Fits) -> tuple[bytes, bool] | None:
    """The frame in one adaptive stream with every band ``bandlpc.predicted`` finds a filter for as its residual, as
    :func:`code_bands` weighs it (the filters first), and whether it has parent contexts; None where no band has a
    filter or the stream takes more than ``limit`` decisions (``once``: the fits, shared with the other pieces)."""
    fits = _band_fits(streams, once)
    if not fits:
        return None
    coded = adaptivebands.encode_either(_with_residuals(streams, fits), limit)
    return None if coded is None else (_after_filters(fits, coded[0]), coded[1])


def _parent_bit(parents: bool) -> int:
    """:data:`ADAPTIVE_PARENT` where an adaptive stream has parent contexts, else 0."""
    return ADAPTIVE_PARENT if parents else 0


def _apart_bytes(chosen: Sequence[int], contextual: Sequence[bool], lengths: Sequence[int],
                 filters: Sequence[Any]) -> int:
    """The bytes of the bands apart when band ``b`` is coded as candidate ``chosen[b]`` (``code_bands``' lists:
    each candidate's block bytes, whether it is contextual, its filter or None): flags, mask and filters, blocks."""
    head = ByteWriter()
    head.varint(_flags([contextual[k] for k in chosen]))
    predicted = {b: filters[k] for b, k in enumerate(chosen) if filters[k] is not None}
    if predicted:
        bandlpc.write_filters(head, predicted)
    return len(head.getvalue()) + sum(_varint_size(lengths[k]) + lengths[k] for k in chosen)


def _running_band(s: np.ndarray, params: tuple[int, ...]) -> bytes:
    """A long band under running contexts, with the param set of ``params`` their estimate prefers."""
    return running.encode_chosen(s, params)


def _varint_size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _apart(blocks: Sequence[tuple[bytes, bool]], predicted: dict[int, Any] | None = None) -> bytes:
    """Bands coded each on its own (:data:`SEPARATE_BANDS`): the flags of the contextual ones, the filters of
    the ``predicted`` ones (:data:`BAND_LPC`, ``bandlpc.write_filters``), then every ``(block, contextual)``
    after its length."""
    w = ByteWriter()
    w.varint(_flags([ctx for _, ctx in blocks]))
    if predicted:
        bandlpc.write_filters(w, predicted)
    for block, _ in blocks:
        w.varint(len(block))
        w.raw(block)
    return w.getvalue()


def quick_bands(streams: Sequence[np.ndarray], fitted_stream: bool = False) -> tuple[int, bytes]:
    """The bands coded apart, each band one way or two (efforts "fast" and "balanced"): a long band under running
    contexts or in one table, whichever the running contexts' estimate prefers (``running.weigh``, over
    ``running.QUICK_BAND_PARAMS``), a short one plain or with block classes, whichever is smaller; a band of up to
    :data:`QUICK_LPC_VALUES` values also as its linear prediction's residual, coded so, where a quick fit looks
    promising and it and its filter size smaller (:func:`_quick_predicted`; format 1.11), a longer one coded both
    ways where the fit looks promising and the band takes :data:`LONG_LPC_BITS` a value or more (:func:`_long_band`);
    on a frame of
    up to ``adaptivebands.MAX_VALUES`` values, also all in one adaptive stream (:data:`ADAPTIVE_BANDS`), kept
    where it takes under :data:`QUICK_ADAPTIVE_SHARE` of the bands apart: without tables it codes a coarsely
    quantised frame's bands in far fewer bytes (a103l's pulse at PRDN 5-9 %), for about the time of the coding
    apart, in one compiled call that runs beside the others (both without and with parent contexts, format 1.13,
    the smaller kept: ``adaptivebands.encode_either``); on a frame of more than :data:`QUICK_ADAPTIVE_LONG` values,
    only where its tokens take at most :data:`QUICK_ADAPTIVE_DECISIONS` decisions a value (a finely
    quantised frame, whose stream takes several times that work and does not pay).
    :func:`code_bands` codes every way and keeps the smallest. The codings are made side by side on the threads
    ``jobs.piece_threads`` allows (the same bytes). ``fitted_stream``: on such a frame, also the adaptive stream of
    every band with a filter as its residual (:func:`_fitted_stream`), kept where smallest (a trellis-quantised
    frame's: PTB's at PRDN 2 % 0.9 % smaller so)."""
    values = sum(map(len, streams))
    adaptive = 0 < values <= adaptivebands.MAX_VALUES
    # the bands too long for a prediction's fit coded beside the fits and the short bands' coding (one piece); a
    # frame with none (a short record's) has its fits made first and each band coded as a piece of its own
    long = [b for b, s in enumerate(streams) if len(s) > QUICK_LPC_VALUES]
    once = _fits_once(streams)  # a band's fit made once, by the first piece that asks (the fitted stream's too)
    if long:
        jobs: list[Callable[[], Any]] = [partial(_long_band, streams[b], once.get(b)) for b in long]
        sizes = [len(streams[b]) for b in long]
        jobs.append(partial(_short_bands, streams, long, once))
        sizes.append(SHORT_BANDS_WORK * (values - sum(sizes)))
    else:
        coded, predicted, saved = _quick_predicted(streams, once)
        jobs, sizes = [partial(_quick_band, s) for s in coded], [len(s) for s in coded]
    fitted = adaptive and fitted_stream
    if adaptive:
        limit = QUICK_ADAPTIVE_DECISIONS * values if values > QUICK_ADAPTIVE_LONG else None
        jobs.append(partial(adaptivebands.encode_either, streams, limit))
        sizes.append(2 * values)
    if fitted:
        jobs.append(partial(_fitted_stream, streams, limit, once))
        sizes.append(2 * values)
    made = run_pieces(jobs, sizes)
    with_fits = made.pop() if fitted else None
    if long:
        short, predicted, saved = made[len(long)]
        apart, predicted, long_saved = _with_long_bands(len(streams), short, predicted,
                                                        dict(zip(long, made[: len(long)])))
        saved += long_saved
    else:
        apart = _apart(made[: len(streams)], predicted)
    stream, parents = made[-1] if adaptive and made[-1] is not None else (None, False)
    # the stream where it takes under the share of the bands apart as they would be without prediction (what the
    # residuals saved added back), and is still the smaller
    if stream is not None and not (len(stream) < QUICK_ADAPTIVE_SHARE * (len(apart) + saved) and
                                   len(stream) <= len(apart)):
        stream = None
    kept = apart if stream is None else stream  # (a stream kept is no larger than the bands apart)
    if with_fits is not None and len(with_fits[0]) < len(kept):
        return ADAPTIVE_BANDS | BAND_LPC | _parent_bit(with_fits[1]), with_fits[0]
    if stream is not None:
        return ADAPTIVE_BANDS | _parent_bit(parents), stream
    return SEPARATE_BANDS | (BAND_LPC if predicted else 0), apart


def _short_bands(streams: Sequence[np.ndarray], long: Sequence[int], once: Fits
                 ) -> tuple[dict[int, tuple[bytes, bool]], dict[int, Any], int]:
    """:func:`quick_bands`' bands but ``long`` (those past :data:`QUICK_LPC_VALUES` values, coded beside this):
    each one's block as :func:`_quick_band` codes it, as its prediction's residual where :func:`_quick_predicted`
    keeps one; the filters by band, and the bytes they save on the estimate (``once``: the fits, shared)."""
    coded, predicted, saved = _quick_predicted(streams, once)
    return {b: _quick_band(s) for b, s in enumerate(coded) if b not in long}, predicted, saved


def _quick_predicted(streams: Sequence[np.ndarray], once: Fits) -> tuple[list[np.ndarray], dict[int, Any], int]:
    """The bands as :func:`quick_bands` codes them: each band of ``bandlpc.MIN_LENGTH`` to :data:`QUICK_LPC_VALUES`
    values as its linear prediction's residual where ``bandlpc.predicted`` finds a promising filter and the
    residual's bit estimate (``residual.estimate_bits``) and the filter come to fewer bytes than the band's (only
    the coding kept is made); the filters by band, and the bytes that saves on the estimate (the mask's counted),
    or none where it saves nothing (``once``: the fits, shared with other pieces)."""
    made = {b: fit() for b, fit in once.items() if len(streams[b]) <= QUICK_LPC_VALUES}
    fits = {b: fit for b, fit in made.items() if fit is not None}
    if not fits:
        return list(streams), {}, 0
    coded, predicted, saved = list(streams), {}, 0.0
    for b, (f, residual, filter_bytes) in fits.items():
        gain = (estimate_bits(streams[b]) - estimate_bits(residual)) / 8 - filter_bytes
        if gain > 0:
            coded[b], predicted[b] = residual, f
            saved += gain
    saved -= _varint_size(sum(1 << b for b in predicted)) if predicted else 0
    if saved <= 0:
        return list(streams), {}, 0
    return coded, predicted, int(saved)


class _LongBand(NamedTuple):
    """A long band as :func:`quick_bands` codes it (:func:`_long_band`): its block and whether it is contextual, and
    where ``bandlpc.predicted`` finds a promising filter, that filter and its residual's block (else None, None)."""

    block: tuple[bytes, bool]
    filter: Any
    residual: tuple[bytes, bool] | None


def _long_band(s: np.ndarray, once: Once[tuple[Any, np.ndarray, int] | None] | None) -> _LongBand:
    """A band of more than :data:`QUICK_LPC_VALUES` values coded as :func:`_quick_band` codes it, and as its linear
    prediction's residual too where ``bandlpc.predicted`` finds a promising filter (fitted on the band's first
    ``bandlpc.FIT_HEAD`` values; about one long band in five at PRDN 1-9 % on bench_lossy's records). Both are
    coded, not estimated: on these long bands the order-0 estimate that :func:`_quick_predicted` trusts chose wrong
    about as often as right on bench_lossy's records (PTB's finest band at PRDN 1 % codes 8 % smaller so). ``once``:
    the band's fit, shared with the fitted stream's piece (:func:`quick_bands`); None for a band under
    ``bandlpc.MIN_LENGTH`` values (long only where a setting puts :data:`QUICK_LPC_VALUES` below it), which
    ``bandlpc.predicted`` finds no filter for."""
    block = _quick_band(s)
    fit = once() if once is not None and 8 * len(block[0]) >= LONG_LPC_BITS * len(s) else None
    return _LongBand(block, None, None) if fit is None else _LongBand(block, fit[0], _quick_band(fit[1]))


def _with_long_bands(count: int, short: dict[int, tuple[bytes, bool]], predicted: dict[int, Any],
                     long: dict[int, _LongBand]) -> tuple[bytes, dict[int, Any], int]:
    """:func:`quick_bands`' bands apart from the short bands' blocks and filters (``short``, ``predicted``) and the
    ``long`` ones, each long band as its residual where that is the smaller file (the filters' bytes and mask
    counted: the bands apart made both ways where a residual may pay); the filters of every band predicted, and the
    bytes the long residuals saved."""
    blocks = short | {b: band.block for b, band in long.items()}
    plain = _apart([blocks[b] for b in range(count)], predicted)
    smaller = {b: (band.filter, band.residual) for b, band in long.items()
               if band.residual is not None and len(band.residual[0]) < len(band.block[0])}
    if not smaller:
        return plain, predicted, 0
    blocks |= {b: residual for b, (_, residual) in smaller.items()}
    filters = predicted | {b: f for b, (f, _) in smaller.items()}
    apart = _apart([blocks[b] for b in range(count)], filters)
    return (apart, filters, len(plain) - len(apart)) if len(apart) < len(plain) else (plain, predicted, 0)


def _quick_band(s: np.ndarray) -> tuple[bytes, bool]:
    """One band's block as :func:`quick_bands` codes it, and whether it is contextual."""
    if len(s) >= RUNNING_BANDS:
        block = running.encode_if_paying(s, running.QUICK_BAND_PARAMS)
        return (block, True) if block is not None else (encode_arrays([s], [False]), False)
    plain, classes = encode_arrays([s], [False]), encode_arrays([s], [True])
    return (classes, True) if len(classes) < len(plain) else (plain, False)


def _flags(contextual: Sequence[bool]) -> int:
    return sum(1 << b for b, ctx in enumerate(contextual) if ctx)


class WaveletHead(NamedTuple):
    """The fields a wavelet channel-frame starts with, after its path id (format 1.2, section 5)."""

    offset: int
    delta: float
    levels: int
    rho16: int
    predictor: int  # bit 0 beat template, 1 bands apart, 2 beat gaps as differences, 3 taps shifted, 4 adaptive,
    # 5 mains hum, 6 bands predicted, 7 dependent quantisation, 8 taps as second differences, 9 parent contexts


def read_head(r: ByteReader, length: int | None) -> WaveletHead:
    """Read and check a wavelet channel-frame's head (``length``: the frame's values, to check its levels
    against; None: not checked): the decoder's, ``needs_minor``'s and ``anatomy``'s one reading of it."""
    offset = r.svarint(MAX_ABS_SAMPLE)
    delta = float(np.frombuffer(r.raw(4), dtype="<f4")[0])
    if not (math.isfinite(delta) and delta > 0):
        raise SanFormatError("frame: wavelet step is not a positive finite number")
    levels = r.varint(MAX_LEVELS)
    if length is not None and levels != levels_for(length, levels):
        raise SanFormatError(f"frame: {levels} wavelet levels for {length} samples")
    rho16 = r.varint(16)
    predictor = r.varint(1 | SEPARATE_BANDS | GAP_DIFFERENCES | TAP_SHIFT | ADAPTIVE_BANDS | MAINS | BAND_LPC
                         | DEPENDENT | TAP_SECOND | ADAPTIVE_PARENT)
    if predictor & ADAPTIVE_PARENT and not predictor & ADAPTIVE_BANDS:
        raise SanFormatError("frame: parent contexts without an adaptive stream of the wavelet bands")
    if predictor & BAND_LPC and not predictor & (SEPARATE_BANDS | ADAPTIVE_BANDS):
        raise SanFormatError("frame: wavelet bands predicted but neither coded apart nor adaptive")
    if predictor & (GAP_DIFFERENCES | TAP_SHIFT | TAP_SECOND) and not predictor & 1:
        raise SanFormatError("frame: beat gaps as differences, shifted or smooth taps without a beat template")
    if predictor & SEPARATE_BANDS and predictor & ADAPTIVE_BANDS:
        raise SanFormatError("frame: wavelet bands both apart and in one adaptive stream")
    return WaveletHead(offset, delta, levels, rho16, predictor)


def needs_minor(payload: bytes, length: int | None = None) -> int:
    """The format minor version a lossy file's channel-frame payload needs: 7 for a wavelet frame whose
    beat template's taps are shifted, 6 for an exact (time-domain) coding (8 where, read as a frame of
    ``length`` values, it uses LPC without restarts, the long adaptive stages or running contexts' MSB
    mode), 5 for a wavelet frame whose bands are coded apart or whose beat gaps are stored as differences
    (1.5), else 3; 10 for a wavelet frame nested in an inter-channel prediction (path 5, ``codec.lossycross``);
    11 for one with bands predicted (:data:`BAND_LPC`); 12 for one quantised dependently (:data:`DEPENDENT`) or whose
    template's taps are second differences (:data:`TAP_SECOND`); 13 for one whose adaptive stream has parent
    contexts (:data:`ADAPTIVE_PARENT`)."""
    nested = nested_difference(payload)
    if nested is not None and ByteReader(nested, "frame").varint() == TransformCoding.id:
        return max(MINOR_10, needs_minor(nested, length))
    r = ByteReader(payload, "frame")
    if r.varint() != TransformCoding.id:
        return 6 if length is None else _exact_minor(payload, length)
    predictor = read_head(r, length).predictor
    if predictor & ADAPTIVE_PARENT:
        return MINOR_13
    if predictor & (DEPENDENT | TAP_SECOND):
        return MINOR_12
    if predictor & BAND_LPC:
        return MINOR_11
    if predictor & MAINS:
        return MINOR_10
    if predictor & ADAPTIVE_BANDS:
        return 9
    return 7 if predictor & TAP_SHIFT else 5 if predictor & (SEPARATE_BANDS | GAP_DIFFERENCES) else 3


def _exact_minor(payload: bytes, length: int) -> int:
    """8 where an exact channel-frame of a lossy file uses what format 1.8 added to lossless coding, else 6: as its
    encoder wrote it down (``timedomain.ExactPayload``), else from a decode of it."""
    if isinstance(payload, timedomain.ExactPayload):
        return payload.minor
    part = decode_channel_frame(payload, length, timedomain.EXACT)
    return 8 if part.cascade or part.msb or (part.lpc is not None and part.lpc[1].whole) else 6


def _decode_band(block: bytes, n: int, contextual: bool, place: np.ndarray, f: Any) -> None:
    """One band coded apart, decoded into ``place``; with a filter ``f`` (format 1.11), the block holds its
    prediction's residual, and the band is rebuilt from it in place (``bandlpc.restore``)."""
    running.decode_block(block, n, contextual, place)
    if f is not None:
        bandlpc.restore(place, f)


def _decode_adaptive(stream: bytes, lengths: Sequence[int], flat: np.ndarray, filters: dict[int, Any],
                     parents: bool = False) -> None:
    """The bands of one adaptive stream (``parents``: with parent contexts, format 1.13) decoded into ``flat``, end to
    end; the ones with a filter (format 1.11) rebuilt from their prediction's residual in place
    (``bandlpc.restore``)."""
    adaptivebands.decode(stream, lengths, flat, parents)
    places = np.split(flat, np.cumsum(lengths)[:-1])
    for b, f in filters.items():
        bandlpc.restore(places[b], f)


@register_coding
class TransformCoding(FrameCoding):
    """Path 3 (format 1.2, lossy files only): wavelet transform coding, see the module docstring."""

    id, name = 3, "wavelet"

    def candidates(self, x, san, plan):  # chosen by the lossy mode's rate control, never per frame
        return []

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        if plan.mode != "lossy":
            raise SanFormatError("frame: a wavelet frame needs a lossy file")
        offset, delta, levels, rho16, predictor = read_head(r, length)
        template = (read_template(r, length, bool(predictor & GAP_DIFFERENCES), bool(predictor & TAP_SHIFT),
                                  bool(predictor & TAP_SECOND)) if predictor & 1 else None)
        if template is not None and plan.budget is not None:
            plan.budget.spend(len(template.positions), len(template.positions) * len(template.t8))
        mains = read_mains(r, length) if predictor & MAINS else None  # format 1.10: the hum, after the template
        lengths = band_lengths(length, levels)
        uses_running = False
        flat = np.empty(length, dtype=np.int64)  # every band decoded into its place in one buffer: no copies
        # the prediction, then the bands: independent pieces, side by side where plan.threads allows (jobs)
        jobs: list[Callable[[], Any]] = [partial(frame_prediction, template, mains, length)]
        sizes = [length if template is not None or mains is not None else 0]
        if predictor & ADAPTIVE_BANDS:
            filters = bandlpc.read_filters(r, len(lengths)) if predictor & BAND_LPC else {}
            jobs.append(partial(_decode_adaptive, r.raw(r.remaining()), lengths, flat, filters,
                                bool(predictor & ADAPTIVE_PARENT)))
            sizes.append(2 * length)  # one stream: about two binary decisions a value
        else:
            flags = r.varint((1 << len(lengths)) - 1)
            contextual = [bool(flags >> b & 1) for b in range(len(lengths))]
            if predictor & SEPARATE_BANDS:
                filters = bandlpc.read_filters(r, len(lengths)) if predictor & BAND_LPC else {}
                blocks = [r.raw(r.varint(r.remaining())) for _ in lengths]
                if r.remaining():
                    raise SanFormatError(f"frame: {r.remaining()} unexpected bytes after the wavelet bands")
                places = np.split(flat, np.cumsum(lengths)[:-1])
                jobs += [partial(_decode_band, b, n, ctx, place, filters.get(i))
                         for i, (b, n, ctx, place) in enumerate(zip(blocks, lengths, contextual, places))]
                sizes += lengths
                uses_running = any(ctx and running.is_running(b) for b, ctx in zip(blocks, contextual))
            else:
                jobs.append(partial(decode_arrays, r.raw(r.remaining()), lengths, contextual, flat))
                sizes.append(length)
        prediction = run_jobs(jobs, sizes, plan.threads if length >= PARALLEL_VALUES else 1)[0]
        if predictor & DEPENDENT:  # format 1.12: the detail bands' indices to their levels
            dependent.levels_in_place(flat, lengths)
        return self._rebuild(flat, lengths, delta, rho16, offset, prediction, uses_running)

    def _rebuild(self, flat: np.ndarray, lengths: Sequence[int], delta: float, rho16: int, offset: int,
                 prediction: np.ndarray | None, uses_running: bool) -> ChannelFrame:
        """The frame's samples from its decoded bands, end to end in ``flat`` (the approximation band as
        differences, summed in place)."""
        np.cumsum(flat[: lengths[0]], out=flat[: lengths[0]])
        if _lifts(flat, lengths):
            samples = kernels.wavelet_samples(flat, len(lengths) - 1, delta, rho16 / 16 - 0.5, offset, prediction)
            if samples is not None:  # every sample below 2^51: within what check_magnitude allows
                return ChannelFrame(samples, 0, path=self.name, running=uses_running)
        with np.errstate(over="ignore", invalid="ignore"):  # floats cannot wrap; they are checked next
            y = reconstruct_flat(flat, lengths, delta, rho16, offset, prediction)
        # the largest |y| without a temporary: a nan makes both ends nan, which check_magnitude refuses, as inf
        check_magnitude(max(float(y.max(initial=0)), -float(y.min(initial=0))), "a wavelet sample")
        return ChannelFrame(y.astype(np.int64), 0, path=self.name, running=uses_running)
