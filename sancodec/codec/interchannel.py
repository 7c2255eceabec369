"""Inter-channel prediction (path 5, format 1.3): a channel coded exactly as its difference from a
small integer combination of channels before it in the same frame, themselves coded exactly
(lossless files, and exact frames of near-lossless files).

Multi-lead ECG is full of exact or near-exact linear relations: Einthoven's III = II − I and the
augmented leads aVR = −(I + II)/2, aVL = I − II/2, aVF = II − I/2 hold within a unit or two in the
ADC's integers, and records sometimes carry a channel twice. Path 5 stores the references and the
difference ``d = x − ((Σ w_j x_j) >> shift)`` as an ordinary channel-frame (raw, value table or
constant, with its own residual predictor). The encoder finds the combination by least squares
on the frame (weights rounded to halves, at most two references) and keeps it only when the file
gets smaller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.frames import (
    LOSSY_DIFFERENCES,
    Candidate,
    ChannelFrame,
    FrameCoding,
    FramePlan,
    SanInput,
    check_magnitude,
    decode_channel_frame,
    encode_channel_frame,
    register_coding,
)
from sancodec.codec.kernels import poly_histograms
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.residual import bits_from_histogram, estimate_bits, poly_residual
from sancodec.errors import SanFormatError

__all__ = ["CrossChannelCoding", "cross_channel_candidate", "cross_head", "fits", "nested_difference",
           "predict_from_references", "read_cross_head", "rebuilt_samples"]

MAX_WEIGHT = 4
MAX_SHIFT = 1
SHORTLIST = 3  # least-squares fits whose residual is estimated in bits
CANDIDATE_CHANNELS = 8  # the earlier channels (at the same rate) a channel may be predicted from


@register_coding
class CrossChannelCoding(FrameCoding):
    """Path 5: ``n_refs varint`` (1-2), per reference ``channel varint`` (an earlier channel at the same
    rate) and ``weight svarint`` (|w| ≤ 4), ``shift varint`` (≤ 1), then a complete channel-frame of
    the difference (any path but 5)."""

    id, name = 5, "cross"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        return []  # needs the frame's other channels: see cross_channel_candidate

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        refs, shift = read_cross_head(r)
        nested = r.raw(r.remaining())
        path = ByteReader(nested, "frame").varint()  # read as the decoder reads it: any spelling
        if path == self.id:
            raise SanFormatError("frame: inter-channel prediction of an inter-channel difference")
        if plan.mode == "lossy" and path not in LOSSY_DIFFERENCES:  # exact (1.6) or wavelet (1.10) differences
            raise SanFormatError("frame: inter-channel prediction in a lossy file needs an exact or wavelet difference")
        part = decode_channel_frame(nested, length, plan)
        part.refs, part.ref_shift, part.path = refs, shift, self.name
        return part


def rebuilt_samples(part: ChannelFrame, channels: Sequence[np.ndarray | None], index: int) -> np.ndarray:
    """Channel ``index``'s decoded samples in a frame: ``part``'s own, plus for path 5 its prediction from the
    decoded ``channels`` before it, checked against the format's bound: what the decoder assembles
    (``pipeline.assemble``) and what the lossy encoder predicts later channels from (``codec.lossycross``)."""
    samples = part.samples()
    if part.refs:
        samples = samples + predict_from_references(channels, part.refs, part.ref_shift, index)
        check_magnitude(float(np.abs(samples).max(initial=0)), "a sample")
    return samples


def read_cross_head(r: ByteReader) -> tuple[tuple[tuple[int, int], ...], int]:
    """Path 5's references ``((channel, weight), ...)`` and shift, read and checked (``r`` just past the path id)."""
    n_refs = r.varint(2)
    if n_refs < 1:
        raise SanFormatError("frame: inter-channel prediction without a reference")
    refs = tuple((r.varint(1 << 16), r.svarint(MAX_WEIGHT)) for _ in range(n_refs))
    return refs, r.varint(MAX_SHIFT)


def cross_head(refs: Sequence[tuple[int, int]], shift: int) -> bytes:
    """The start of a path-5 payload: the path id, the references ``(channel, weight)`` and the shift; the
    difference's channel-frame follows."""
    head = ByteWriter()
    head.varint(CrossChannelCoding.id)
    head.varint(len(refs))
    for channel, weight in refs:
        head.varint(channel)
        head.svarint(weight)
    head.varint(shift)
    return head.getvalue()


def nested_difference(payload: bytes) -> bytes | None:
    """The channel-frame that the path-5 ``payload`` (path id included) nests, its head checked; None for a
    payload of another path."""
    r = ByteReader(payload, "frame")
    if r.varint() != CrossChannelCoding.id:
        return None
    read_cross_head(r)
    return r.raw(r.remaining())


def predict_from_references(channels: Sequence[np.ndarray | None], refs: Sequence[tuple[int, int]],
                            shift: int, index: int) -> np.ndarray:
    """``(Σ w_j x_j) >> shift`` from decoded channels before ``index`` (None: not at this rate)."""
    total = None
    bound = 0.0
    for channel, weight in refs:
        source = channels[channel] if channel < index else None
        if source is None:
            raise SanFormatError(f"frame: channel {index} refers to channel {channel}, not an earlier one at its rate")
        bound += abs(weight) * float(np.abs(source).max(initial=0))
        term = source * weight
        total = term if total is None else total + term
    check_magnitude(bound, "an inter-channel prediction")
    if total is None:  # (read_cross_head reads one reference or two)
        raise SanFormatError(f"frame: channel {index} predicted from no channel")
    return total >> shift


def fits(y: np.ndarray, xs: list[np.ndarray]) -> list[tuple[float, tuple[tuple[int, int], ...], int]]:
    """Least-squares fits of ``y`` on one or two of ``xs`` (Gram matrix without BLAS), weights rounded
    to halves: ``(residual energy, ((index, weight), ...), shift)``, best first."""
    m = len(xs)
    a = np.stack([*xs, y], axis=1).astype(np.float64)
    gram = np.einsum("ti,tj->ij", a, a)  # C loops: no threaded BLAS
    yy = gram[m, m]
    found: list[tuple[tuple[int, ...], np.ndarray]] = []
    for i in range(m):
        if gram[i, i] > 0:
            found.append(((i,), np.array([gram[i, m] / gram[i, i]])))
        for j in range(i + 1, m):
            g = gram[np.ix_([i, j], [i, j])]
            if abs(np.linalg.det(g)) > 1e-9 * (g[0, 0] * g[1, 1] + 1e-300):
                found.append(((i, j), np.linalg.solve(g, gram[[i, j], m])))
    out = []
    for idx, coef in found:
        halves = np.clip(np.rint(2 * coef), -MAX_WEIGHT, MAX_WEIGHT).astype(np.int64)
        if not halves.any():
            continue
        shift = 0 if not (halves % 2).any() else 1
        weights = halves // 2 if shift == 0 else halves
        w = weights / (1 << shift)
        sub = gram[np.ix_(list(idx), list(idx))]
        energy = yy - 2 * float(w @ gram[list(idx), m]) + float(w @ sub @ w)
        out.append((energy, tuple((k, int(v)) for k, v in zip(idx, weights) if v), shift))
    return sorted(out, key=lambda f: f[0])


def cross_channel_candidate(x: np.ndarray, earlier: Sequence[tuple[int, np.ndarray]], plan: FramePlan,
                            cost_to_beat: float) -> tuple[bytes, int] | None:
    """The path-5 payload for channel samples ``x`` predicted from ``earlier`` ``(channel, samples)``
    (same rate, coded exactly so the decoder sees these very samples) and the format minor version
    it needs, or None when no combination's estimate beats ``cost_to_beat`` bits."""
    if plan.mode == "lossy" or not earlier or len(x) < 16 or cost_to_beat <= 0:
        return None
    earlier = list(earlier)[-CANDIDATE_CHANNELS:]
    xs = [s for _, s in earlier]
    best = None
    for _, refs, shift in fits(x, xs)[:SHORTLIST]:
        pred = predict_from_references(xs, refs, shift, len(xs))
        d = x - pred
        if max(-int(d.min()), int(d.max())) > MAX_ABS_SAMPLE:
            continue
        hists = poly_histograms(d)
        if hists is None:
            bits = min(estimate_bits(poly_residual(d, k)) for k in range(4))
        else:
            bits = min(bits_from_histogram(h, len(d)) for h in hists)
        if best is None or bits < best[0]:
            best = (bits, refs, shift, d)
    if best is None or best[0] >= 0.95 * cost_to_beat:
        return None
    _, refs, shift, d = best
    head = cross_head([(earlier[k][0], weight) for k, weight in refs], shift)
    exact = replace(plan, max_error=0)  # the difference is coded exactly, also in near-lossless files
    nested = encode_channel_frame(d, None, exact)
    return head + nested.payload(), nested.minor
