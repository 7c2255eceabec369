"""A lossy file's frames: every channel coded at its target (``lossy.encode_channel``), the record at once or,
past :data:`LOSSY_BLOCK` samples, a block at a time.

Each block of a long record gets the share of the record's squared error that its spread about the record's
mean gives it, ``(P/100)^2 · (||x_b - mean(x_b)||^2 + n_b (mean(x_b) - mean(x))^2)``: the shares add up to
the record's budget, so the record meets its PRDN (or SNR) target, while a channel's rate control holds a
block, not the record (docs/MEMORY.md has the bytes). The blocks' statistics come first (:func:`block_stats`,
one pass), so a record read from disk a block at a time is coded the same way (``api.encode_lossy_blocks``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from sancodec.codec import timedomain
from sancodec.codec.entropy import ByteWriter
from sancodec.codec.jobs import piece_threads
from sancodec.codec.lossy import DEFAULT_EFFORT, LossyTarget, MixHint, encode_channel, mix_hint
from sancodec.codec.lossycross import derived_channels, predict_lossy_across, recorded_fits
from sancodec.codec.pipeline import ordered_map, resolve_threads
from sancodec.codec.processes import ordered_map_processes
from sancodec.codec.waveletframe import needs_minor
from sancodec.metrics import spread_of
from sancodec.signal import Signal

__all__ = ["LOSSY_BLOCK", "LOSSY_BLOCK_VALUES", "LOSSY_PARALLEL_VALUES", "BlockStats", "ChannelJob", "LossyParts",
           "block_stats", "block_targets", "blocks", "code_block", "code_channel", "code_lossy", "record_mean",
           "record_prdn", "record_spread"]

#: Lossy channels are coded at once only while their samples in flight stay below this: each channel's rate
#: control holds its block whole (docs/MEMORY.md has the bytes it takes).
LOSSY_PARALLEL_VALUES = 1 << 24
#: A record longer than this many samples is coded block by block (whole frames) ...
LOSSY_BLOCK = 1 << 22
#: ... and a record of many channels in blocks of fewer rows: about this many samples over its channels (2^22 rows of
#: one or two channels; a 20-channel EDF's block of 2^22 rows held 84 M samples, 2.7 GB to code)
LOSSY_BLOCK_VALUES = 1 << 23

#: A function of (channel, first row, end row) giving what the channel's PRDN is measured against there,
#: on the digital scale, at the channel's own rate.
Reference = Callable[[int, int, int], np.ndarray]


class LossyParts(NamedTuple):
    """A lossy file's frame payloads, the PRDN each channel achieved (unrounded; None where undefined), the
    format minor version they need, and per channel what its coding in shorter frames needs
    (``lossy.mix_hint``: whether some of them may pay coded exactly; None for a time-domain coding)."""

    payloads: list[bytes]
    achieved: list
    minor: int
    hints: list[MixHint | None]


class BlockStats(NamedTuple):
    """One channel in one block: its values, their mean and their spread about it, ``||x - mean(x)||``."""

    count: int  # type: ignore[assignment]  # (tuple.count: a NamedTuple field of that name shadows the method)
    mean: float
    spread: float


def block_stats(ref: np.ndarray) -> BlockStats:
    """:class:`BlockStats` of ``ref``."""
    mean = float(ref.mean()) if len(ref) else 0.0
    return BlockStats(len(ref), mean, spread_of(ref))


def blocks(n: int, frame_len: int, channels: int = 1) -> list[tuple[int, int]]:
    """The blocks of a record of ``n`` rows of ``channels``: whole frames, :data:`LOSSY_BLOCK` rows or just over one
    frame, fewer where that is more than :data:`LOSSY_BLOCK_VALUES` samples over the channels (one frame at least)."""
    rows = min(LOSSY_BLOCK, LOSSY_BLOCK_VALUES // max(1, channels))
    size = max(frame_len, rows // frame_len * frame_len)
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def record_mean(column: Sequence[BlockStats]) -> float:
    """A channel's mean over the record from its blocks' statistics (0 where it has no samples)."""
    total = sum(s.count for s in column)
    return sum(s.count * s.mean for s in column) / total if total else 0.0


def _around(stats: Sequence[BlockStats]) -> list[float]:
    """Each block's spread about the mean of all of them (whose squares add up to the record's spread's)."""
    mean = record_mean(stats)
    return [math.sqrt(s.spread ** 2 + s.count * (s.mean - mean) ** 2) for s in stats]


def block_targets(stats: Sequence[Sequence[BlockStats]], target: LossyTarget | Sequence[LossyTarget]
                  ) -> list[list[LossyTarget]] | None:
    """Per block and channel (``stats[b][ch]``), the target that spends the block's share of the record's
    squared error: a PRDN of ``P`` times its spread about the record's mean over its own (a byte budget:
    the same bits per sample). ``target``: the record's, or each channel's. None for one block, or where a channel
    is flat in some block (its PRDN there is undefined)."""
    if len(stats) <= 1:
        return None
    aims = [target] * len(stats[0]) if isinstance(target, LossyTarget) else list(target)
    if any(t.max_prdn is None for t in aims):
        return [list(aims) for _ in stats]
    if any(not s.spread > 0 for block in stats for s in block):
        return None
    around = [_around([block[ch] for block in stats]) for ch in range(len(stats[0]))]
    bounds = [float(t.max_prdn or 0.0) for t in aims]  # (every one a PRDN bound: checked above)
    return [[LossyTarget(prdn=bounds[ch] * around[ch][b] / s.spread) for ch, s in enumerate(block)]
            for b, block in enumerate(stats)]


def record_spread(column: Sequence[BlockStats]) -> float:
    """A channel's spread about its mean over the record, ``||x - mean(x)||``, from its blocks' statistics."""
    return math.sqrt(sum(a * a for a in _around(column)))


def record_prdn(stats: Sequence[Sequence[BlockStats]], achieved: Sequence[Sequence[float]]) -> list[float | None]:
    """Each channel's PRDN over the record from each block's (``achieved[b][ch]``, relative to its own spread)."""
    out: list[float | None] = []
    for ch in range(len(stats[0])):
        column = [block[ch] for block in stats]
        error = sum((got[ch] / 100 * s.spread) ** 2 for got, s in zip(achieved, column))
        whole = record_spread(column)
        out.append(100 * math.sqrt(error) / whole if whole > 0 else None)
    return out


def code_lossy(signal: Signal, digital: np.ndarray, quantum: list[float] | None, target: LossyTarget,
               frame_len: int, threads: int | None = None, effort: str = DEFAULT_EFFORT, *,
               mix: Sequence[MixHint | None] | None = None, probe_mix: bool = False,
               processes: bool = False, channel_targets: Sequence[LossyTarget] | None = None) -> LossyParts:
    """Lossy at a target (``channel_targets``: each channel's, where they differ), the record held in memory: each
    channel's rate control runs over the whole record (at its own rate) or, past :data:`LOSSY_BLOCK` samples, over
    each block of it in turn, channels on ``threads`` workers (same bytes; fewer where they are long:
    :data:`LOSSY_PARALLEL_VALUES`). ``effort``: ``lossy.EFFORTS``; ``mix``: per channel, the hint with which it may
    code some frames exactly (``lossy._mixed``); ``probe_mix``: say where that may pay; ``processes``: channels on
    worker processes (:func:`code_block`)."""
    n, c = digital.shape
    steps = signal.sample_steps()

    def reference(ch: int, lo: int, hi: int) -> np.ndarray:
        raw = signal.samples[lo:hi:steps[ch], ch].astype(np.float64)
        return raw / quantum[ch] if quantum is not None else raw

    spans = blocks(n, frame_len, c)
    stats = [[block_stats(reference(ch, lo, hi)) for ch in range(c)] for lo, hi in spans] if len(spans) > 1 else []
    aims = [target] * c if channel_targets is None else list(channel_targets)
    targets = block_targets(stats, aims)
    if targets is None:  # one block, or a block where a channel is flat: the record at once
        spans, targets = [(0, n)], [aims]
    done = [code_block(signal, digital, reference, targets[b], frame_len, lo, hi, threads, effort, mix, probe_mix,
                       processes)
            for b, (lo, hi) in enumerate(spans)]
    if len(done) == 1:
        return done[0]
    return LossyParts([p for parts in done for p in parts.payloads], record_prdn(stats, [d.achieved for d in done]),
                      max(parts.minor for parts in done), [None] * c)


class ChannelJob(NamedTuple):
    """One channel of a block, as :func:`code_channel` codes it (on a thread, or pickled to a worker process)."""

    frames: list[np.ndarray]
    ref: np.ndarray
    target: LossyTarget
    fs: float
    effort: str
    mix: MixHint | None
    probe_mix: bool
    piece_threads: int


def code_channel(job: ChannelJob) -> tuple[timedomain.Coded, MixHint | None]:
    """A channel coded at its target (``lossy.encode_channel``) on the threads ``job`` leaves it for its pieces, and
    what a coding in shorter frames may reuse of it where ``job.probe_mix`` asks."""
    with piece_threads(job.piece_threads):  # the threads the channels leave free code a channel's bands
        coded = encode_channel(job.frames, job.ref, job.target, job.fs, job.effort, job.mix)
    return coded, mix_hint(job.frames, coded, job.target) if job.probe_mix else None


def code_block(signal: Signal, digital: np.ndarray, reference: Reference, targets: Sequence[LossyTarget],
               frame_len: int, lo: int, hi: int, threads: int | None = None, effort: str = DEFAULT_EFFORT,
               mix: Sequence[MixHint | None] | None = None, probe_mix: bool = False,
               processes: bool = False) -> LossyParts:
    """Rows ``lo`` to ``hi`` of the record (``digital``, ``signal`` for its channels' rates) coded in frames of
    ``frame_len``, each channel at its target; ``achieved``: the PRDN each channel decodes to there. ``processes``:
    the channels go to worker processes rather than threads (``codec.processes``; the same bytes)."""
    c = digital.shape[1]
    steps = signal.sample_steps()
    starts = list(range(lo, hi, frame_len))

    def frames(ch: int) -> list[np.ndarray]:  # the channel's samples per frame, at its own rate, as int64 (a block
        # held narrower, an EDF's int16, is widened a channel at a time as it is coded)
        return [np.asarray(digital[s : min(s + frame_len, hi) : steps[ch], ch], dtype=np.int64) for s in starts]

    total = resolve_threads(threads)
    workers = min(total, c, max(1, LOSSY_PARALLEL_VALUES // max(hi - lo, 1)))

    def job(ch: int) -> ChannelJob:
        return ChannelJob(frames(ch), reference(ch, lo, hi), targets[ch], signal.fs / steps[ch], effort,
                          None if mix is None else mix[ch], probe_mix, total // workers)

    # a 12-lead ECG's III, aVR, aVL and aVF, combinations of earlier leads, are coded only as differences (below)
    fitted = recorded_fits(frames, targets, steps) if c > 1 else {}  # the channels' fits on their recorded samples
    derived = derived_channels(fitted)
    own = [ch for ch in range(c) if ch not in derived]

    def coded_channels(channels: list[int]) -> Iterator[tuple[timedomain.Coded, MixHint | None]]:
        """The channels coded on their own, in order: on worker processes where asked and possible, else threads."""
        on_processes = ordered_map_processes(code_channel, map(job, channels), workers) \
            if processes and workers > 1 else None  # None also where this process can have no workers
        return on_processes or ordered_map(lambda ch: code_channel(job(ch)), channels, workers)

    chunks: list[list[bytes]] = [[b""] * c for _ in starts]  # a derived channel's parts are filled in below
    achieved: list[float | None] = [None] * c
    exact: list[bool] = [False] * c
    hints: list[MixHint | None] = [None] * c

    def put(ch: int, coded: timedomain.Coded, hint: MixHint | None) -> None:
        achieved[ch], exact[ch], hints[ch] = coded.prdn, coded.exact, hint
        for i, part in enumerate(coded.payloads):
            chunks[i][ch] = part

    for ch, (coded, hint) in zip(own, coded_channels(own)):
        put(ch, coded, hint)
    if derived and any(exact[ch] for ch in own):  # near the lossless regime, where exact channels predict exact
        # derived ones (timedomain.predict_across, below), which takes their codings on their own: made, as before
        later = sorted(derived)
        for ch, (coded, hint) in zip(later, coded_channels(later)):
            put(ch, coded, hint)
        derived = set()

    def alone(ch: int) -> None:  # a derived channel coded on its own after all, in place
        put(ch, *code_channel(job(ch)))

    def full_rate() -> list[list[np.ndarray | None]]:  # the full-rate channels' frames (near the lossless regime)
        return [[*frames(ch)] if steps[ch] == 1 else [None] * len(starts) for ch in range(c)]
    if c > 1:  # channels close to a combination of the decoded ones before them: coded as the difference
        predict_lossy_across(chunks, frames, lambda ch: reference(ch, lo, hi), targets, steps, signal.fs, effort,
                             achieved, exact, derived, alone, fitted)
    for ch in sorted(derived):  # left by a caller that turned the difference off: on their own, as every channel
        alone(ch)
    plan = timedomain.EXACT if effort == "best" else timedomain.EXACT_QUICK  # as lossy.encode_channel codes
    if sum(exact) > 1:  # exact channels predicted from earlier exact ones, as a lossless file does
        timedomain.predict_across(chunks, full_rate(), exact, plan)
    bounds = [t.max_prdn for t in targets if t.max_prdn is not None]
    if c > 1 and len(bounds) == c and any(needs_minor(part) == 6 for part in chunks[0]):
        # near the lossless regime: every channel exact, predicted across channels, may be smaller still
        lossy_bytes = sum(map(len, sum(chunks, [])))
        whole = timedomain.exact_file([frames(ch) for ch in range(c)], [reference(ch, lo, hi) for ch in range(c)],
                                      bounds, full_rate(), plan, lossy_bytes)
        if whole is not None and sum(map(len, sum(whole[0], []))) < lossy_bytes:
            chunks, achieved = whole[0], list(whole[1])
    payloads = []
    for parts in chunks:
        w = ByteWriter()
        for part in parts:
            w.varint(len(part))
            w.raw(part)
        payloads.append(w.getvalue())
    lengths = [[len(range(s, min(s + frame_len, hi), steps[ch])) for s in starts] for ch in range(c)]  # values of
    # each part, channel by channel
    minor = max((needs_minor(part, lengths[ch][i]) for i, parts in enumerate(chunks) for ch, part in enumerate(parts)),
                default=3)
    return LossyParts(payloads, achieved, minor, hints)
