"""Lossy channels predicted from the decoded channels before them (format 1.10): multi-lead ECG.

Einthoven's III = II − I and the augmented leads aVR, aVL, aVF are combinations of leads I and II, and other
records carry a channel twice or nearly so. A lossy file codes each channel at its target on its own
(``lossy.encode_channel``); then, where a channel is close to a small integer combination of channels before
it, its frames are coded again as the difference from that combination of their *decoded* samples: path 5
(``codec.interchannel``) around a wavelet frame of the difference, or around an exact coding of it. The
decoder adds the same combination of the samples it decoded (``pipeline.assemble``), so the channel's error is
the difference's coding error, and the difference is coded to the channel's own PRDN bound (scaled from the
channel's spread to the difference's). Kept only where the channel's bytes fall. 12-lead PTB s0010_re at
PRDN 2 %: the four derived leads take tens to hundreds of bytes instead of kilobytes
(``benchmarks/bench_multilead.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sancodec.codec.frames import FramePlan, decode_channel_frame, resolve_lpc
from sancodec.codec.interchannel import CANDIDATE_CHANNELS, cross_head, fits, predict_from_references
from sancodec.codec.lossy import LossyTarget, encode_channel

__all__ = ["DECODER_VIEW", "PROBE_STRIDE", "SPREAD_SHARE", "predict_lossy_across"]

SPREAD_SHARE = 0.4  # a channel is coded as a difference only where the fit leaves at most this share of its spread
PROBE_STRIDE = 8  # the fit is first probed on every this-many-th original sample: decoding references costs
DECODER_VIEW = FramePlan("lossy", 0, 0.02, None, [])  # how the decoder reads a lossy file's channel-frames

#: ``frames(ch)``: channel ch's samples per frame (digital, at its own rate); ``reference(ch)``: what its PRDN is
#: measured against over the block, the frames end to end.
Frames = Callable[[int], list[np.ndarray]]


def predict_lossy_across(parts: list[list[bytes]], frames: Frames, reference: Callable[[int], np.ndarray],
                         targets: Sequence[LossyTarget], steps: Sequence[int], fs: float | None, effort: str,
                         achieved: list, exact: list[bool]) -> None:
    """Where a full-rate channel at a PRDN (or SNR) bound is close to a combination of the full-rate channels
    before it, code its frames as the difference from that combination of their decoded samples, in place
    (``parts[i][ch]``: frame i's payload of channel ch) where smaller; ``achieved[ch]`` becomes its new PRDN
    and ``exact[ch]`` False (its decoded samples are not its own: no exact channel may refer to it)."""
    full = [ch for ch, step in enumerate(steps) if step == 1]
    decoded: dict[int, list[np.ndarray]] = {}

    def decoded_frames(ch: int) -> list[np.ndarray]:
        if ch not in decoded:
            decoded[ch] = _decode_channel(parts, ch, [len(f) for f in frames(ch)], decoded_frames)
        return decoded[ch]

    for index, ch in enumerate(full[1:], 1):
        bound = targets[ch].max_prdn
        earlier = full[max(0, index - CANDIDATE_CHANNELS) : index]
        for k in [k for k in decoded if k not in earlier]:  # out of reach of this channel and the later ones
            del decoded[k]
        if bound is None or exact[ch] or not _may_pay(frames, ch, earlier):  # exact: timedomain.predict_across's
            continue
        coded = _as_difference(frames(ch), reference(ch), [decoded_frames(k) for k in earlier], earlier, bound,
                               fs, effort)
        if coded is None or sum(map(len, coded[0])) >= sum(len(p[ch]) for p in parts):
            continue
        for frame_parts, part in zip(parts, coded[0]):
            frame_parts[ch] = part
        achieved[ch], exact[ch] = coded[1], False
        decoded.pop(ch, None)  # decoded again from its new parts if a later channel refers to it


def _may_pay(frames: Frames, ch: int, earlier: Sequence[int]) -> bool:
    """Whether a fit of channel ``ch``'s original samples on ``earlier`` ones (every :data:`PROBE_STRIDE`-th)
    leaves at most :data:`SPREAD_SHARE` of its spread: only then are the references decoded and fitted."""
    x = np.concatenate(frames(ch))[::PROBE_STRIDE]
    if len(x) < 16 or not earlier:
        return False
    found = _centred_fits(x, [np.concatenate(frames(k))[::PROBE_STRIDE] for k in earlier])
    spread = float(np.sum((x - x.mean()) ** 2))
    return bool(found) and spread > 0 and found[0][0] <= SPREAD_SHARE ** 2 * spread


def _centred_fits(y: np.ndarray, xs: list[np.ndarray]) -> list[tuple[float, tuple[tuple[int, int], ...], int]]:
    """``interchannel.fits`` of ``y`` and ``xs`` less their means: the weights of the combination, its residual
    energy about its mean (the wavelet coding's offset takes the rest)."""
    return fits(y - y.mean(), [x - x.mean() for x in xs])


def _as_difference(xs: list[np.ndarray], ref: np.ndarray, refs: list[list[np.ndarray]], channels: Sequence[int],
                   bound: float, fs: float | None, effort: str) -> tuple[list[bytes], float] | None:
    """The frames ``xs`` coded as their difference from the best fit on the decoded frames ``refs`` (of
    ``channels``) at PRDN ``bound`` against ``ref``, as path-5 payloads, and the PRDN achieved; None where no
    fit leaves a difference to code (or it is flat)."""
    found = _centred_fits(np.concatenate(xs), [np.concatenate(r) for r in refs])
    if not found:
        return None
    _, weights, shift = found[0]
    predictions = [predict_from_references([r[i] for r in refs], weights, shift, len(refs)) for i in range(len(xs))]
    difference = [x - p for x, p in zip(xs, predictions)]
    difference_ref = ref - np.concatenate(predictions)
    spread = float(np.linalg.norm(ref - ref.mean()))
    left = float(np.linalg.norm(difference_ref - difference_ref.mean()))
    if not (spread > 0 and left > 0):
        return None
    coded = encode_channel(difference, difference_ref, LossyTarget(prdn=bound * spread / left), fs, effort)
    if coded.prdn is None:
        return None
    head = cross_head([(channels[k], w) for k, w in weights], shift)
    return [head + p for p in coded.payloads], coded.prdn * left / spread


def _decode_channel(parts: list[list[bytes]], ch: int, lengths: Sequence[int],
                    decoded_frames: Callable[[int], list[np.ndarray]]) -> list[np.ndarray]:
    """Channel ``ch``'s frames as the decoder rebuilds them from ``parts`` (the channels a path-5 frame
    refers to through ``decoded_frames``)."""
    out = []
    for i, (frame_parts, length) in enumerate(zip(parts, lengths)):
        part = decode_channel_frame(frame_parts[ch], length, DECODER_VIEW)
        resolve_lpc([part])
        samples = part.samples()
        if part.refs:
            sources: list[np.ndarray | None] = [None] * ch
            for k, _ in part.refs:
                sources[k] = decoded_frames(k)[i]
            samples = samples + predict_from_references(sources, part.refs, part.ref_shift, ch)
        out.append(samples)
    return out

