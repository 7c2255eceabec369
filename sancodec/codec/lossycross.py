"""Lossy channels predicted from the decoded channels before them (format 1.10): multi-lead ECG.

Einthoven's III = II − I and the augmented leads aVR, aVL, aVF are combinations of leads I and II, and other
records carry a channel twice or nearly so. A lossy file codes each channel at its target on its own
(``lossy.encode_channel``); then, where a channel is close to a small integer combination of channels before
it, its frames are coded again as the difference from that combination of their *decoded* samples: path 5
(``codec.interchannel``) around a wavelet frame of the difference, or around an exact coding of it. The
decoder adds the same combination of the samples it decoded (``pipeline.assemble``), so the channel's error is
the difference's coding error, and the difference is coded to the channel's own PRDN bound (scaled from the
channel's spread to the difference's). Kept only where the channel's bytes fall. 12-lead PTB s0010_re at
PRDN 2 %: III, aVR, aVL and aVF take 1699, 38, 150 and 38 bytes, I and II 11 963 and 7522 (README; whole
records against the wavelet coder: ``benchmarks/bench_multilead.py``).

The channels are chosen on every :data:`FIT_STRIDE`-th sample as recorded (cheap, all of up to 8 earlier
channels), then only the few in the best fits are decoded and fitted again as decoded: memory and time for
a reference the decoder rebuilds are spent on channels that may be used. A channel those fits give to within the
recorder's rounding (:func:`derived_channels`: III, aVR, aVL and aVF) is not coded on its own first, since its
difference always codes far smaller: a 12-lead record's encode spares a third of its leads' codings, the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from sancodec.codec.frames import FramePlan, decode_channel_frame, resolve_lpc
from sancodec.codec.interchannel import (
    CANDIDATE_CHANNELS,
    SHORTLIST,
    cross_head,
    fits,
    predict_from_references,
    rebuilt_samples,
)
from sancodec.codec.lossy import LossyTarget, encode_channel
from sancodec.errors import SanFormatError
from sancodec.metrics import spread_of

__all__ = ["DECODER_VIEW", "DERIVED_SHARE", "FIT_STRIDE", "SPREAD_SHARE", "RecordedFit", "derived_channels",
           "predict_lossy_across", "recorded_fits"]

SPREAD_SHARE = 0.4  # a channel is coded as a difference only where the fit leaves at most this share of its spread
DERIVED_SHARE = 1e-4  # a channel whose fit on the recorded samples leaves at most this share of its energy (12-lead
# PTB s0010_re's III, aVR, aVL, aVF: 1-3 x 10^-6, the recorder's rounding; its V leads 0.1-0.6) is derived: its own
# coding, which its difference's always beat, is not made (derived_channels)
FIT_STRIDE = 8  # the fits are made on every this-many-th sample
DECODER_VIEW = FramePlan("lossy", 0, 0.02, None, [])  # how the decoder reads a lossy file's channel-frames

#: ``frames(ch)``: channel ch's samples per frame (digital, at its own rate).
Frames = Callable[[int], list[np.ndarray]]
#: A combination of earlier channels: ``((channel, weight), ...)`` and the shift, as path 5 stores them.
Combination = tuple[tuple[tuple[int, int], ...], int]


class RecordedFit(NamedTuple):
    """A channel's best least-squares combinations of the channels before it (``interchannel.fits`` on every
    :data:`FIT_STRIDE`-th sample as recorded, less their means) and its energy about its mean there."""

    found: list[tuple[float, tuple[tuple[int, int], ...], int]]
    energy: float


def recorded_fits(frames: Frames, targets: Sequence[LossyTarget], steps: Sequence[int]) -> dict[int, RecordedFit]:
    """Each full-rate channel's :class:`RecordedFit` against the up to :data:`CANDIDATE_CHANNELS` full-rate
    channels before it, for the channels at a PRDN (or SNR) bound with at least 16 such samples: made once, for
    :func:`derived_channels` and :func:`predict_lossy_across` both (25-50 ms an encode on PTB s0010_re's 15
    leads)."""
    full = [ch for ch, step in enumerate(steps) if step == 1]
    sparse = {ch: _sparse(frames(ch)) for ch in full} if len(full) > 1 else {}
    out = {}
    for index, ch in enumerate(full[1:], 1):
        x = sparse[ch]
        if targets[ch].max_prdn is None or len(x) < 16:
            continue
        earlier = full[max(0, index - CANDIDATE_CHANNELS) : index]
        out[ch] = RecordedFit(_centred_fits(x, [sparse[k] for k in earlier]), float(np.sum((x - x.mean()) ** 2)))
    return out


def derived_channels(fitted: dict[int, RecordedFit]) -> set[int]:
    """The channels that a combination of the full-rate channels before them gives to within :data:`DERIVED_SHARE`
    of their energy (``fitted``: :func:`recorded_fits`): a 12-lead ECG's III, aVR, aVL and aVF. Their difference
    from the decoded combination holds little more than the other channels' coding error, so it codes far smaller
    than they do on their own (PTB s0010_re at PRDN 2 %: 38-1703 bytes against 7-12 kB); the caller makes no coding
    of them on their own, and :func:`predict_lossy_across` codes them as differences (on their own only where that
    fails)."""
    return {ch for ch, fit in fitted.items()
            if fit.found and fit.energy > 0 and fit.found[0][0] <= DERIVED_SHARE * fit.energy}


def predict_lossy_across(parts: list[list[bytes]], frames: Frames, reference: Callable[[int], np.ndarray],
                         targets: Sequence[LossyTarget], steps: Sequence[int], fs: float | None, effort: str,
                         achieved: list, exact: list[bool], derived: set[int] | None = None,
                         alone: Callable[[int], None] | None = None,
                         fitted: dict[int, RecordedFit] | None = None) -> None:
    """Where a full-rate channel at a PRDN (or SNR) bound is close to a combination of the full-rate channels
    before it, code its frames as the difference from that combination of their decoded samples, in place
    (``parts[i][ch]``: frame i's payload of channel ch; ``reference(ch)``: what its PRDN is measured against,
    the frames end to end) where smaller; ``achieved[ch]`` becomes its new PRDN and ``exact[ch]`` False (its
    decoded samples are not its own: no exact channel may refer to it). Channels coded exactly are left to
    ``timedomain.predict_across`` (exact differences from exact channels). ``derived``
    (:func:`derived_channels`): channels not coded on their own yet (their parts empty), coded as differences
    whatever their size, else by ``alone(ch)``, which puts their own coding in ``parts``, ``achieved`` and ``exact``,
    at their turn (before a later channel may refer to them); each is taken out of the set once coded.
    ``fitted``: :func:`recorded_fits`, made here where not given."""
    derived = set() if derived is None else derived
    full = [ch for ch, step in enumerate(steps) if step == 1]
    if len(full) < 2:
        return
    fitted = recorded_fits(frames, targets, steps) if fitted is None else fitted
    lengths = [len(f) for f in frames(full[0])]  # every full-rate channel's frames
    # the referenced channels' frames as the decoder rebuilds them, kept by a module-level function (a closure
    # that calls itself is a reference cycle: it kept each block's samples alive until the garbage collector ran)
    decoded: dict[int, list[np.ndarray]] = {}
    for index, ch in enumerate(full[1:], 1):
        bound = targets[ch].max_prdn
        earlier = full[max(0, index - CANDIDATE_CHANNELS) : index]
        for k in [k for k in decoded if k not in earlier]:  # out of reach of this channel and the later ones
            del decoded[k]
        close = [] if bound is None or exact[ch] or ch not in fitted else _close_channels(fitted[ch], earlier)
        difference = _difference(parts, frames, reference, ch, close, bound, fs, effort, lengths, decoded)
        if ch in derived:  # no coding of it on its own yet: the difference whatever its size, else one now
            derived.discard(ch)
            if difference is None:
                assert alone is not None, "a derived channel needs its own coding where its difference fails"
                alone(ch)
                continue
        elif difference is None or sum(map(len, difference[0])) >= sum(len(p[ch]) for p in parts):
            continue
        for frame_parts, part in zip(parts, difference[0]):
            frame_parts[ch] = part
        achieved[ch], exact[ch] = difference[1], False  # ch is decoded (from its new parts) only once a later one
        # refers to it


def _difference(parts: list[list[bytes]], frames: Frames, reference: Callable[[int], np.ndarray], ch: int,
                close: Sequence[int], bound: float | None, fs: float | None, effort: str,
                lengths: Sequence[int], decoded: dict[int, list[np.ndarray]]) -> tuple[list[bytes], float] | None:
    """Channel ``ch``'s frames coded as their difference from the closest combination of the decoded channels
    ``close`` (:func:`_close_channels`; each part with the combination's head) and the PRDN the channel decodes to;
    None where none is close, no combination is found, or the difference cannot be coded."""
    if not close or bound is None:
        return None
    x = _sparse(frames(ch))
    combination = _close_combination(x, {k: _sparse(_decoded(parts, k, lengths, decoded)) for k in close})
    if combination is None:
        return None
    try:
        predictions = _predictions(parts, ch, combination, lengths, decoded)
    except SanFormatError:  # past the format's bound on a prediction (samples near 2**50): not used
        return None
    coded = _as_difference(frames(ch), reference(ch), predictions, bound, fs, effort)
    if coded is None:
        return None
    head = cross_head(*combination)
    return [head + part for part in coded[0]], coded[1]


def _predictions(parts: list[list[bytes]], ch: int, combination: Combination, lengths: Sequence[int],
                 decoded: dict[int, list[np.ndarray]]) -> list[np.ndarray]:
    """Channel ``ch``'s prediction in each frame: ``combination`` of the decoded channels it names."""
    return [predict_from_references(_referenced(parts, combination[0], ch, i, lengths, decoded), *combination, ch)
            for i in range(len(parts))]


def _referenced(parts: list[list[bytes]], refs: Sequence[tuple[int, int]], ch: int, i: int, lengths: Sequence[int],
                decoded: dict[int, list[np.ndarray]]) -> list[np.ndarray | None]:
    """Frame ``i`` of each channel ``refs`` names, decoded, at its place among the ``ch`` channels before
    channel ``ch`` (None at the others): what ``interchannel.predict_from_references`` takes."""
    sources: list[np.ndarray | None] = [None] * ch
    for k, _ in refs:
        sources[k] = _decoded(parts, k, lengths, decoded)[i]
    return sources


def _close_channels(fit: RecordedFit, earlier: Sequence[int]) -> list[int]:
    """The channels of ``earlier`` in the :data:`SHORTLIST` best least-squares combinations (at most two
    channels each, weights in halves: ``interchannel.fits``) of a channel's :class:`RecordedFit` on the samples
    as recorded; none where the best leaves more than :data:`SPREAD_SHARE` of the channel's spread (only the
    channels returned are decoded, to be fitted again as decoded)."""
    if not fit.found or not fit.found[0][0] <= SPREAD_SHARE**2 * fit.energy:
        return []
    return sorted({earlier[k] for _, weights, _ in fit.found[:SHORTLIST] for k, _ in weights})


def _close_combination(x: np.ndarray, sources: dict[int, np.ndarray]) -> Combination | None:
    """The least-squares combination of the decoded ``sources`` (every :data:`FIT_STRIDE`-th sample, by channel)
    closest to ``x`` (the same samples, as recorded): with the references as the decoder sees them, of two
    combinations equal on the recorded samples (aVR from I and II, or from I and III) the one whose coding
    errors cancel best."""
    channels = sorted(sources)
    found = _centred_fits(x, [sources[k] for k in channels])
    if not found:
        return None
    _, weights, shift = found[0]
    return tuple((channels[k], w) for k, w in weights), shift


def _centred_fits(y: np.ndarray, xs: list[np.ndarray]) -> list[tuple[float, tuple[tuple[int, int], ...], int]]:
    """``interchannel.fits`` of ``y`` and ``xs`` less their means: a combination's residual energy about its
    mean (the wavelet coding's offset takes the rest)."""
    return fits(y - y.mean(), [x - x.mean() for x in xs])


def _sparse(frames: list[np.ndarray]) -> np.ndarray:
    """Every :data:`FIT_STRIDE`-th sample of each frame, as float64 (frames of a full-rate channel share their
    lengths with every other's, so the samples line up across channels)."""
    return np.concatenate([f[::FIT_STRIDE] for f in frames]).astype(np.float64)


def _as_difference(xs: list[np.ndarray], ref: np.ndarray, predictions: list[np.ndarray], bound: float,
                   fs: float | None, effort: str) -> tuple[list[bytes], float] | None:
    """The frames ``xs`` less ``predictions`` coded at PRDN ``bound`` against ``ref`` (the channel's own spread
    scaled to the difference's), and the channel's PRDN achieved; None where the difference is flat."""
    difference = [x - p for x, p in zip(xs, predictions)]
    difference_ref = ref - np.concatenate(predictions)
    spread = spread_of(ref)
    left = spread_of(difference_ref)
    if not (spread > 0 and left > 0):
        return None
    coded = encode_channel(difference, difference_ref, LossyTarget(prdn=bound * spread / left), fs, effort)
    return None if coded.prdn is None else (list(coded.payloads), coded.prdn * left / spread)


def _decoded(parts: list[list[bytes]], ch: int, lengths: Sequence[int],
             decoded: dict[int, list[np.ndarray]]) -> list[np.ndarray]:
    """Channel ``ch``'s frames (of ``lengths``) as the decoder rebuilds them from ``parts``, kept in ``decoded``
    (with those of the channels a path-5 frame of it refers to)."""
    if ch in decoded:
        return decoded[ch]
    out = []
    for i, (frame_parts, length) in enumerate(zip(parts, lengths)):
        part = decode_channel_frame(frame_parts[ch], length, DECODER_VIEW)
        resolve_lpc([part])
        out.append(rebuilt_samples(part, _referenced(parts, part.refs, ch, i, lengths, decoded), ch))
    decoded[ch] = out
    return out
