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

__all__ = ["CrossChannelCoding", "FrameGram", "cross_channel_candidate", "cross_head", "fits", "nested_difference",
           "predict_from_references", "read_cross_head", "rebuilt_samples"]

MAX_WEIGHT = 4
MAX_SHIFT = 1
SHORTLIST = 3  # least-squares fits whose residual is estimated in bits
CANDIDATE_CHANNELS = 8  # the earlier channels (at the same rate) a channel may be predicted from
EXACT_SUMS = 1 << 53  # a Gram matrix's sums of products of integers stay exact below this, in any order


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


class FrameGram:
    """The Gram matrix of a frame's full-rate channels of integers, made once for every channel's :func:`fits`
    (each channel's block of it, :meth:`block`), where every sum in it is exact: then any order of additions gives
    the same float, and a block is bit for bit what the einsum of that channel's own stack gives. A 12-lead frame's
    channels stacked and multiplied out one channel at a time made the products of the same pairs again and again
    (about 3.7 times the work of the whole frame's once)."""

    def __init__(self, channels: Sequence[int], gram: np.ndarray) -> None:
        self.column = {ch: i for i, ch in enumerate(channels)}
        self.gram = gram

    @classmethod
    def of(cls, channels: dict[int, np.ndarray]) -> FrameGram | None:
        """The Gram matrix of ``channels`` (channel number: its integer samples, all as long), or None where a sum
        in it could reach :data:`EXACT_SUMS` (the samples' peak squared, times their count) or there are none."""
        if not channels:
            return None
        xs = list(channels.values())
        n = len(xs[0])
        if any(len(x) != n or not np.issubdtype(x.dtype, np.integer) for x in xs):
            return None
        peak = max(max(-int(x.min(initial=0)), int(x.max(initial=0))) for x in xs)
        if peak * peak * max(n, 1) >= EXACT_SUMS:
            return None
        rows = np.array(xs, dtype=np.float64)  # a channel a row, contiguous (the stack fits makes took 1.6x as long)
        return cls(list(channels), np.einsum("it,jt->ij", rows, rows))

    def block(self, references: Sequence[int], own: int) -> np.ndarray:
        """The block :func:`fits` makes of ``references``' samples and ``own``'s (last), in that order."""
        at = [self.column[ch] for ch in (*references, own)]
        return self.gram[np.ix_(at, at)]


def fits(y: np.ndarray, xs: list[np.ndarray],
         gram: np.ndarray | None = None) -> list[tuple[float, tuple[tuple[int, int], ...], int]]:
    """Least-squares fits of ``y`` on one or two of ``xs`` (Gram matrix without BLAS; ``gram``: that matrix, of
    ``xs`` and ``y`` in that order, where made already, :class:`FrameGram`), weights rounded
    to halves: ``(residual energy, ((index, weight), ...), shift)``, best first (of equal energies, channel by
    channel: its fit alone, then with each later one). Every pair's 2x2 normal equations are solved at once, in
    closed form (:func:`_pair_solutions`): a numpy solve and determinant a pair (up to 55 pairs a lead of a 12-lead
    frame) took about a quarter of a 12 x 5000 record's lossless encode under the profiler."""
    m = len(xs)
    if gram is None:
        # converted as it is stacked (the columns stacked as they are, then converted, took ten times as long)
        a = np.stack([*xs, y], axis=1, dtype=np.float64)
        gram = np.einsum("ti,tj->ij", a, a)  # C loops: no threaded BLAS
    yy = float(gram[m, m])
    diagonal, toward = np.diag(gram)[:m], gram[:m, m]
    first, second = np.triu_indices(m, 1)
    solved, pair_coefs = _pair_solutions(gram, first, second)
    with np.errstate(divide="ignore", invalid="ignore"):  # (a zero channel's single fit is left out below)
        single_coefs = toward / diagonal
    # every fit's weights as halves at once; then each one's energy at its weights
    singles = np.flatnonzero(diagonal > 0)
    pairs = np.flatnonzero(solved)
    halves1 = _halves(single_coefs[singles])
    halves2 = _halves(pair_coefs[pairs])
    out: list[tuple[int, float, tuple[tuple[int, int], ...], int]] = []  # (order found, energy, refs, shift)
    for k, h in zip(singles.tolist(), halves1.tolist()):
        if h:
            shift = h % 2
            w = h / 2
            energy = yy - 2 * w * float(toward[k]) + w * float(diagonal[k]) * w
            out.append((_found_order(m, k, k), energy, ((k, h if shift else h // 2),), shift))
    for p, (hi, hj) in zip(pairs.tolist(), halves2.tolist()):
        if not (hi or hj):
            continue
        i, j = int(first[p]), int(second[p])
        shift = 1 if (hi % 2 or hj % 2) else 0
        wi, wj = hi / 2, hj / 2
        gii, gij, gjj = float(gram[i, i]), float(gram[i, j]), float(gram[j, j])
        energy = yy - 2 * (wi * float(toward[i]) + wj * float(toward[j])) + \
            ((wi * gii + wj * gij) * wi + (wi * gij + wj * gjj) * wj)
        weights = (hi, hj) if shift else (hi // 2, hj // 2)
        out.append((_found_order(m, i, j), energy, tuple((k, v) for k, v in zip((i, j), weights) if v), shift))
    out.sort(key=lambda f: (f[1], f[0]))
    return [(energy, refs, shift) for _, energy, refs, shift in out]


def _pair_solutions(gram: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pair (``first[p]``, ``second[p]``) of the channels of ``gram`` (the last row and column: the
    channel fitted), whether its 2x2 normal equations are well posed (their determinant above 10^-9 of the
    diagonal's product) and their solution (rows; Cramer's rule, exact enough for weights rounded to halves)."""
    m = gram.shape[0] - 1
    gii, gjj, gij = gram[first, first], gram[second, second], gram[first, second]
    bi, bj = gram[first, m], gram[second, m]
    det = gii * gjj - gij * gij
    solved = np.abs(det) > 1e-9 * (gii * gjj + 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        coefs = np.stack([(bi * gjj - gij * bj) / det, (gii * bj - gij * bi) / det], axis=1)
    return solved, coefs.reshape(len(first), 2)


def _halves(coefs: np.ndarray) -> np.ndarray:
    """Weights ``coefs`` rounded to halves within ±:data:`MAX_WEIGHT`, as counts of halves (int64; a weight that is
    not finite, from a singular fit, is never asked for)."""
    return np.clip(np.rint(2 * coefs), -MAX_WEIGHT, MAX_WEIGHT).astype(np.int64)


def _found_order(m: int, i: int, j: int) -> int:
    """Where fit (``i``) (``i == j``) or (``i``, ``j``) comes in the order the fits were first listed: channel by
    channel, each one's single fit, then its pairs with the channels after it (the tie-break of equal energies)."""
    return i * (m + 1) + (0 if i == j else j - i)


def cross_channel_candidate(x: np.ndarray, earlier: Sequence[tuple[int, np.ndarray]], plan: FramePlan,
                            cost_to_beat: float, shared: tuple[FrameGram, int] | None = None
                            ) -> tuple[bytes, int] | None:
    """The path-5 payload for channel samples ``x`` predicted from ``earlier`` ``(channel, samples)``
    (same rate, coded exactly so the decoder sees these very samples) and the format minor version
    it needs, or None when no combination's estimate beats ``cost_to_beat`` bits. ``shared``: the frame's
    :class:`FrameGram` and ``x``'s channel in it, where made (the same fits, from its block)."""
    if plan.mode == "lossy" or not earlier or len(x) < 16 or cost_to_beat <= 0:
        return None
    earlier = list(earlier)[-CANDIDATE_CHANNELS:]
    xs = [s for _, s in earlier]
    gram = None if shared is None else shared[0].block([ch for ch, _ in earlier], shared[1])
    best = None
    for _, refs, shift in fits(x, xs, gram)[:SHORTLIST]:
        try:
            pred = predict_from_references(xs, refs, shift, len(xs))
        except SanFormatError:  # (references near 2^53: a prediction the decoder would refuse)
            continue
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
