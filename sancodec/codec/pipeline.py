"""Frames in parallel: one frame (all channels) is the unit of work, coded or decoded on a thread pool; a decode
also runs a frame's channels side by side on the threads its window leaves free (``jobs``).

Frames are independent, so threads change speed, never bytes: results are gathered in frame
order and every coding decision depends on the frame alone. The compiled kernels release the
GIL (see ``kernels``); the range coder does not, which bounds the gain. The SAN activations
(only the ``san`` mode and ``predictor="all"/"san"`` need them) are computed for a *window* of
frames at a time, the same windows whatever feeds the encoder, so the streaming writer and
the whole-signal API write identical files.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import NamedTuple, TypeVar

import numpy as np

from sancodec.codec import constant, kernels, valuetable  # noqa: F401 - they register paths 4, 2 and 6
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.frames import (
    ChannelFrame,
    FramePlan,
    SanCoding,
    SanInput,
    decode_channel_frame,
    encode_channel_frame,
    plain_coding,
    resolve_lpc,
)
from sancodec.codec.interchannel import CANDIDATE_CHANNELS, FrameGram, cross_channel_candidate, rebuilt_samples
from sancodec.codec.jobs import PARALLEL_VALUES, run_jobs
from sancodec.codec.limits import DecodeLimits
from sancodec.codec.schema import is_whole
from sancodec.errors import SanConfigError, SanFormatError, option
from sancodec.io.wfdb import clip_to_format
from sancodec.san.normalization import normalization_params
from sancodec.san.spec import SanSpec
from sancodec.signal import channel_crc32

__all__ = ["ENCODE_WINDOW_VALUES", "WINDOW_ROWS", "FrameDecoder", "FrameEncoder", "encode_window_frames",
           "ordered_map", "ordered_submit", "resolve_threads", "window_frames"]

T = TypeVar("T")
R = TypeVar("R")

#: Rows per window (32 frames of 2^15): the SAN batch, and what a streaming encoder or decoder holds at once.
WINDOW_ROWS = 1 << 20
#: Samples over all its channels that a decoder holds at once: 2^20 rows of a two-channel record, fewer rows of a
#: record of more channels (a 20-channel EDF's window of 2^20 rows took 600 MB to decode;
#: ``benchmarks/bench_edf_memory.py``)
DECODE_WINDOW_VALUES = 1 << 21


def window_frames(frame_len: int, channels: int = 1) -> int:
    """Frames per window: :data:`WINDOW_ROWS` rows' worth, or :data:`DECODE_WINDOW_VALUES` samples' worth over
    ``channels`` where that is fewer; at least 4 frames (so threads have frames to share), 2 of more than two
    channels (whose channels a frame's threads share), and 1 where a frame alone holds :data:`ALONE_VALUES` samples
    or more (a lossy frame of 2^20 rows of 8 channels or more: its channels keep the threads busy)."""
    if channels > 2 and frame_len * channels >= ALONE_VALUES:
        return 1
    rows = min(WINDOW_ROWS, DECODE_WINDOW_VALUES // max(1, channels))
    return max(4 if channels <= 2 else 2, rows // max(1, frame_len))


#: A frame's rows and samples over its channels from which an encoder codes its channels side by side, where its
#: window leaves it threads (:meth:`FrameEncoder.encode`). Much of a short channel's lossless coding is Python,
#: which threads take turns at: on two cores 12 of PTB s0010_re's leads took 0.62x the one-thread time in 20 000
#: rows, 0.72x in 10 000, 0.86x in 5000 but 1.08x in 2500, and 4 leads 0.88x in 10 000 rows but 1.06x in 5000
#: (by hand, the fastest of 7 encodes each way)
CHANNEL_ROWS = 1 << 12
CHANNEL_VALUES = 1 << 15

#: Samples over its channels of a frame that a decoder's window holds alone (:func:`window_frames`): two such frames
#: decoded side by side held two blocks of 2^20 rows, 336 MB of a 20-channel lossy record
ALONE_VALUES = 1 << 23


#: Samples over all its channels that an encoder holds and codes at once: 2^20 rows of a two-channel record, fewer
#: rows of a record of more channels, whose window of 2^20 rows held ten times as many samples
#: (``benchmarks/bench_edf_memory.py`` measures a 20-channel EDF's streamed encode)
ENCODE_WINDOW_VALUES = 1 << 21


def encode_window_frames(frame_len: int, channels: int, threads: int) -> int:
    """Frames an encoder holds and codes at once: :data:`ENCODE_WINDOW_VALUES` samples' worth over ``channels``, at
    least one for each of ``threads`` and at least 2 (the frames' coding is the same, whatever the window)."""
    return max(2, threads, ENCODE_WINDOW_VALUES // max(1, channels * frame_len))

MAX_THREADS = 256


@lru_cache(maxsize=1)
def _cores() -> int:
    """The machine's cores, asked once (``os.cpu_count`` reads /proc on every call: a tenth of a small file's
    decode)."""
    return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """Worker threads: ``threads``, else ``$SANCODEC_THREADS``, else every core."""
    if threads is None:
        env = os.environ.get("SANCODEC_THREADS", "")
        threads = int(env) if env.isdigit() else _cores()
    if not is_whole(threads):
        raise SanConfigError(f"{option('threads')} must be a whole number, got {threads!r}")
    if not 1 <= int(threads) <= MAX_THREADS:
        raise SanConfigError(f"{option('threads')} must be in 1..{MAX_THREADS}, got {threads}")
    return int(threads)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``map(fn, items)`` on ``threads`` workers, results in input order, at most ``2 * threads``
    items in flight (so a stream's memory stays bounded)."""
    if threads <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="sancodec") as pool:
        yield from ordered_submit(pool, fn, items, threads)


def ordered_submit(pool: Executor, fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map(fn, items)`` on ``pool`` (threads or processes, ``workers`` of them), results in input order, at most
    ``2 * workers`` items in flight."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= 2 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


#: Samples over its channels from which a lossless or near-lossless frame's channels decode side by side, where its
#: window leaves it threads (a lossy frame's: ``jobs.PARALLEL_VALUES``). A one-frame record of PTB s0010_re's 12
#: leads decoded on two cores in 0.87x the one-thread time in 3000 rows, 0.66x in 5000, but 1.15x in 2500; 4 leads
#: 0.77x in 10 000 rows; a lossy frame's channels, more of whose decode is Python, took 1.3x in 5000 rows of 12
#: leads, 0.73x in 10 000 (by hand, the fastest of 11 decodes each way)
EXACT_DECODE_VALUES = 1 << 15

#: Samples from which a decode's checksums take several threads (:func:`parallel_checksums`): a short record's
#: columns are checked in microseconds, less than a thread pool took to start (a quarter of the decode of 4 leads of
#: 5000 samples on two threads)
CHECKSUM_VALUES = 1 << 18


def parallel_checksums(samples: np.ndarray, threads: int) -> list[int]:
    """Each channel's CRC-32 (``signal.channel_crc32``), channels on the shared helper threads (``jobs.run_jobs``;
    zlib releases the GIL) where they hold :data:`CHECKSUM_VALUES` samples or more."""
    if threads <= 1 or samples.size < CHECKSUM_VALUES:
        return channel_crc32(samples)
    columns = [samples[:, k : k + 1] for k in range(samples.shape[1])]  # views: each job copies its own
    return [crc for (crc,) in run_jobs([partial(channel_crc32, c) for c in columns], [len(samples)] * len(columns),
                                       threads)]


def san_activations(spec: SanSpec, frames: np.ndarray) -> np.ndarray:
    """Sparse activations (batch, q, L) of normalised frames (batch, L), without torch:
    onnxruntime on the exported graphs (numpy FFT when unavailable) + numpy selection."""
    from sancodec.san.runtime import engine_for

    return engine_for(spec).encode(np.ascontiguousarray(frames, dtype=np.float32))


def channel_inputs(spec: SanSpec, frames: list[np.ndarray]) -> list[SanInput]:
    """Normalise every frame of one channel as the model says and run the SAN on them, one batch
    per frame length."""
    offsets, sigmas = [], []
    for f in frames:
        o, c = normalization_params(spec.normalization, f[None], integer_offset=True)
        offsets.append(int(o[0]))
        sigmas.append(float(c[0]))
    alphas: list[np.ndarray] = [np.empty(0)] * len(frames)
    for size in sorted({len(f) for f in frames}):
        which = [i for i, f in enumerate(frames) if len(f) == size]
        batch = np.stack([(frames[i] - offsets[i]) / sigmas[i] for i in which])
        for i, a in zip(which, san_activations(spec, batch)):
            alphas[i] = a
    return [SanInput(a, o, s) for a, o, s in zip(alphas, offsets, sigmas)]


@dataclass(frozen=True)
class CodedFrame:
    """One frame's payload and what the file's header needs to know about it."""

    payload: bytes
    uses_model: bool
    minor: int = 3  # the format minor version the frame needs (4: an LMS stage, 5: running contexts)
    inexact: tuple[bool, ...] = ()  # per channel: whether its samples may decode to other values than the source's


@dataclass(frozen=True)
class FrameJob:
    """A frame to code: its integer samples, the source samples (verification) and SAN inputs."""

    digital: np.ndarray  # (rows, channels) int64
    source: np.ndarray  # the same rows as given (ints, or floats on the quantum grid)
    inputs: list[SanInput | None]


class FrameEncoder:
    """Codes frames of a non-target mode and decodes each one back before it is accepted."""

    def __init__(self, plan: FramePlan, steps: list[int], quantum: list[float] | None, fmt: list[str] | None,
                 max_error: float, threads: int, verify: bool = True) -> None:
        self.plan, self.steps, self.quantum, self.fmt = plan, steps, quantum, fmt
        self.max_error, self.threads, self.verify = max_error, threads, verify
        self.check = FramePlan(plan.mode, plan.max_error, plan.step, plan.spec, plan.wq)  # the decoder's view

    def needs_san(self) -> bool:
        return self.plan.mode == "lossy" or self.plan.predictor in ("all", "san")

    def jobs(self, digital: np.ndarray, source: np.ndarray, frame_len: int) -> list[FrameJob]:
        """The frames of a window of whole frames (the last may be short), with their SAN inputs."""
        starts = range(0, len(digital), frame_len)
        inputs: list[list[SanInput | None]] = [[None] * len(self.steps) for _ in starts]
        if self.needs_san():
            assert self.plan.spec is not None
            for ch, step in enumerate(self.steps):
                frames = [digital[s : s + frame_len : step, ch] for s in starts]
                for i, found in enumerate(channel_inputs(self.plan.spec, frames)):
                    inputs[i][ch] = found
        return [FrameJob(digital[s : s + frame_len], source[s : s + frame_len], inputs[i])
                for i, s in enumerate(starts)]

    def encode_window(self, digital: np.ndarray, source: np.ndarray, frame_len: int) -> Iterator[CodedFrame]:
        """The window's frames coded in order, on the encoder's threads; the threads its frames leave (a record of
        one frame, of many channels: PTB-XL's 12 leads of 10 s) code each frame's channels side by side."""
        jobs = self.jobs(digital, source, frame_len)
        spare = max(1, self.threads // max(1, len(jobs)))
        yield from ordered_map(partial(self.encode, spare=spare), jobs, self.threads)

    def encode(self, job: FrameJob, spare: int = 1) -> CodedFrame:
        """One frame coded and (with ``verify``) decoded back; ``spare``: the threads its channels may take, where
        it holds :data:`CHANNEL_ROWS` rows and :data:`CHANNEL_VALUES` samples or more (the same bytes on any
        number)."""
        spare = spare if len(job.digital) >= CHANNEL_ROWS and job.digital.size >= CHANNEL_VALUES else 1
        parts, minor, exact = self._parts(job, self.plan, spare)
        if self.plan.mode == "near-lossless" and len(self.steps) > 1:
            # Every channel exact lets the others be predicted from it: never more bytes than lossless.
            all_exact, exact_minor, _ = self._parts(job, replace(self.plan, max_error=0), spare)
            if sum(map(len, all_exact)) < sum(map(len, parts)):
                parts, minor, exact = all_exact, exact_minor, [True] * len(parts)
        if self.verify:
            try:
                self._verify(parts, job, spare)
            except SanConfigError:
                if self.plan.mode != "lossless":
                    raise
                parts, minor = self._plain_parts(job)  # (samples near 2^53: their predictions pass the bound)
                self._verify(parts, job, spare)
        w = ByteWriter()
        for part in parts:
            w.varint(len(part))
            w.raw(part)
        return CodedFrame(w.getvalue(), any(part[0] == SanCoding.id for part in parts), minor,
                          tuple(not e for e in exact))

    def _plain_parts(self, job: FrameJob) -> tuple[list[bytes], int]:
        """A lossless frame whose coding the decoder refused (samples near 2^53, whose prediction from their first,
        differences or value table pass the bound it checks: random integers past 2^51, float64 values in [0, 1)
        to full precision, on their step of 2^-53), coded again: each channel's own coding where it decodes alone
        to its samples, else its samples as they are (``frames.plain_coding``), none predicted from another
        channel; and the format minor version they need."""
        parts, minor = [], 3
        for ch, step in enumerate(self.steps):
            x = job.digital[::step, ch]
            own = _own_coding(x, job.inputs[ch], self.plan)
            if self._decodes_to(own.payload, x):
                parts.append(own.payload)
                minor = max(minor, own.minor)
            else:
                parts.append(plain_coding(x))
        return parts, minor

    def _decodes_to(self, payload: bytes, x: np.ndarray) -> bool:
        """Whether the channel-frame ``payload`` decodes alone to ``x``."""
        try:
            part = decode_channel_frame(payload, len(x), self.check)
            resolve_lpc([part])
            return not part.refs and bool(np.array_equal(part.samples(), x))
        except SanFormatError:
            return False

    def _parts(self, job: FrameJob, plan: FramePlan, spare: int = 1) -> tuple[list[bytes], int, list[bool]]:
        """Each channel's cheapest coding (a full-rate channel may refer to earlier exact ones, path 5), the
        format minor version they need, and which channels they code exactly. Each channel's own coding is made
        on up to ``spare`` threads; where every full-rate channel's own coding is exact (a lossless file, a
        near-lossless one's pass at a max error of 0), so that each one's references are known before any is
        weighed against them, so are their codings from earlier channels."""
        xs = [job.digital[::step, ch] for ch, step in enumerate(self.steps)]
        sizes = [len(x) for x in xs]
        coded = run_jobs([partial(_own_coding, x, job.inputs[ch], plan) for ch, x in enumerate(xs)], sizes, spare)
        crosses: list[tuple[bytes, int] | None] | None = None
        full = [ch for ch, step in enumerate(self.steps) if step == 1]
        if plan.mode != "lossy" and all(coded[ch].exact or plan.mode == "lossless" for ch in full):
            later = full[1:]
            gram = FrameGram.of({ch: xs[ch] for ch in full}) if later else None  # made once for every channel's fits
            made = run_jobs([partial(cross_channel_candidate, xs[ch], [(k, xs[k]) for k in full if k < ch], plan,
                                     coded[ch].cost, None if gram is None else (gram, ch)) for ch in later],
                            [sizes[ch] * min(CANDIDATE_CHANNELS, i + 1) for i, ch in enumerate(later)], spare)
            crosses = [None] * len(xs)
            for ch, cross in zip(later, made):
                crosses[ch] = cross
        parts, minor, flags = [], 3, []
        exact: list[tuple[int, np.ndarray]] = []  # earlier full-rate channels coded exactly: references
        for ch, (step, x, chosen) in enumerate(zip(self.steps, xs, coded)):
            part, is_exact, needs = chosen.payload, chosen.exact or plan.mode == "lossless", chosen.minor
            if step == 1 and exact and plan.mode != "lossy":
                cross = crosses[ch] if crosses is not None else cross_channel_candidate(x, exact, plan, chosen.cost)
                if cross is not None and len(cross[0]) < len(part):
                    (part, needs), is_exact = cross, True
            if step == 1 and is_exact:
                exact.append((ch, x))
            parts.append(part)
            flags.append(is_exact)
            minor = max(minor, needs)
        return parts, minor, flags

    def _hint(self, job: FrameJob) -> str:
        """What to change where a near-lossless frame of floats failed its decode: values past 2^51 on max_error's
        grid (a fine bound on values of a large magnitude) leave its coding no room below the 2^53 the decoder
        holds."""
        if self.plan.mode != "near-lossless" or self.quantum is None or not len(job.digital) or \
                float(np.abs(job.digital).max()) <= 2.0**51:
            return ""
        return (": on max_error's grid these values come near 2**53; a coarser max_error (--max-error), or the values "
                "less their offset, may fit")

    def _verify(self, parts: list[bytes], job: FrameJob, spare: int = 1) -> None:
        """Decode the frame just coded (its channels on up to ``spare`` threads): a frame the decoder refuses, or
        samples off their promise, is never written (a WFDB format range, a value the format cannot hold...)."""
        rows = len(job.digital)
        try:
            done = run_jobs([partial(FrameDecoder._channel, p, rows // s, self.check)
                             for p, s in zip(parts, self.steps)], [len(p) for p in parts], spare)
            decoded = [part for _, _, part in done]
            resolve_lpc(decoded)  # (numpy's LPC synthesis, in one batch; the C kernels' ran with each channel)
            back = assemble(decoded, self.steps, rows)
        except SanFormatError as exc:
            raise SanConfigError(f"these samples cannot be coded faithfully ({exc}){self._hint(job)}; nothing was "
                                 "written") from None
        mode = self.plan.mode
        if mode == "lossless":
            if not np.array_equal(back, job.digital) or not np.array_equal(clip_to_format(back, self.fmt), back):
                raise SanConfigError("the lossless file would not decode to the same samples (are they within "
                                     "their WFDB format's range?); nothing was written")
        elif mode == "near-lossless":
            values = back * np.asarray(self.quantum) if self.quantum is not None else clip_to_format(back, self.fmt)
            worst = float(np.abs(values.astype(np.float64) - job.source.astype(np.float64)).max(initial=0))
            if worst > float(self.max_error or 0) * (1 + 1e-9) + 1e-12:
                raise SanConfigError(f"the near-lossless file would be off by {worst:g} > {self.max_error}; "
                                     "nothing was written")


class _OwnCoding(NamedTuple):
    """What :meth:`FrameEncoder._parts` keeps of a channel-frame's own cheapest coding
    (``frames.encode_channel_frame``): its payload, whether it is exact, the format minor version it needs and its
    estimated bits, not the candidate's arrays (every channel of a frame is coded before any is weighed against
    earlier ones: a candidate a channel would hold several arrays of its samples)."""

    payload: bytes
    exact: bool
    minor: int
    cost: float


def _own_coding(x: np.ndarray, inputs: SanInput | None, plan: FramePlan) -> _OwnCoding:
    """A channel-frame's own cheapest coding, its payload made on the thread that codes the channel."""
    chosen = encode_channel_frame(x, inputs, plan)
    return _OwnCoding(chosen.payload(), chosen.exact, chosen.minor, chosen.cost)


def assemble(parts: list[ChannelFrame], steps: list[int], rows: int, out: np.ndarray | None = None) -> np.ndarray:
    """A frame's (rows, channels) int64 samples from its decoded channel parts (into ``out`` if given; a frame of
    one full-rate channel is its samples, not a copy)."""
    if out is None and len(parts) == 1 and steps[0] == 1 and not parts[0].refs:
        samples = np.ascontiguousarray(parts[0].samples(), dtype=np.int64)
        if samples.shape == (rows,) and samples.flags.writeable:
            return samples.reshape(rows, 1)
    out = np.empty((rows, len(parts)), dtype=np.int64) if out is None else out
    _predicted(out, [_place(out, part, ch, step) for ch, (part, step) in enumerate(zip(parts, steps))], steps)
    return out


def _place(block: np.ndarray, part: ChannelFrame, ch: int, step: int) -> ChannelFrame | None:
    """``part``'s samples put in ``block``'s column ``ch`` (each repeated ``step`` times); where it is predicted from
    other channels (inter-channel prediction), nothing put and ``part`` returned, for :func:`_predicted` to make once
    theirs are in place."""
    if part.refs:
        if step != 1:
            raise SanFormatError(f"frame: channel {ch} is not at the full rate, so cannot be predicted")
        return part
    samples = part.samples()
    block[:, ch] = np.repeat(samples, step) if step > 1 else samples
    return None


@dataclass
class DecodedFrames:
    """Consecutive decoded frames: one block of rows per frame (None where the frame was written
    straight into the decoder's ``out``), their SAN activations and how they were coded."""

    blocks: list[np.ndarray | None]
    rows: list[int]
    activations: int
    codings: Counter

    @property
    def samples(self) -> np.ndarray:
        """The rows of every frame (only for a decoder without ``out``)."""
        blocks = [b for b in self.blocks if b is not None]
        if len(blocks) != len(self.blocks):
            raise RuntimeError("frames written in place have no block")
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


_STAGES = ("lms", "ltp", "running", "cascade", "msb")


def _describe(part: ChannelFrame) -> tuple[str, bool, bool, tuple[str, ...]]:
    """What :func:`_codings` counts of a channel-frame, taken before its LPC synthesis runs (which clears
    ``lpc``): its coding, whether it uses LPC and over the whole block, and its stages."""
    whole = part.lpc is not None and part.lpc[1].whole
    return part.path, part.lpc is not None, whole, tuple(name for name in _STAGES if getattr(part, name))


def _codings(described: list[tuple[str, bool, bool, tuple[str, ...]]]) -> Counter:
    """A frame's codings and the stages its channel-frames use (each :func:`_describe`d), counted
    (``decode``'s ``codings``): one Counter of one list, in the order the codings, then each stage, first
    appear."""
    return Counter([d[0] for d in described] + ["lpc" for d in described if d[1]]
                   + ["lpc_whole" for d in described if d[2]]
                   + [name for name in _STAGES for d in described if name in d[3]])


class FrameDecoder:
    """Decodes windows of frames on a thread pool (LPC in one batch per window without the C kernels)."""

    def __init__(self, plan: FramePlan, steps: list[int], frame_len: int, n_samples: int, limits: DecodeLimits,
                 threads: int, out: np.ndarray | None = None, first_row: int = 0) -> None:
        """``out``: where rows ``first_row``.. go; frames that lie wholly inside it are written there by
        the worker threads (in parallel, no second copy), the others come back as blocks."""
        self.plan, self.steps, self.frame_len, self.n = plan, steps, frame_len, n_samples
        self.limits, self.threads = limits, threads
        self.out, self.first_row = out, first_row
        self._spare = 1

    def _rows(self, fi: int) -> int:
        return min(self.frame_len, self.n - fi * self.frame_len)

    def _destination(self, fi: int) -> np.ndarray | None:
        if self.out is None:
            return None
        start, rows = fi * self.frame_len - self.first_row, self._rows(fi)
        return self.out[start : start + rows] if 0 <= start and start + rows <= len(self.out) else None

    def _assemble(self, fi: int, parts: list[ChannelFrame]) -> np.ndarray | None:
        dest = self._destination(fi)
        block = assemble(parts, self.steps, self._rows(fi), dest)
        return None if dest is not None else block

    def _parse(self, item: tuple[int, bytes]) -> _ParsedFrame:
        """One frame's activations and coding counts; with the C kernels (whose LPC synthesis runs here) also its
        samples, assembled on the worker thread (``block``: None where written into ``out``), each channel put in
        place as it is decoded (:meth:`_placed`), so that a frame holds its block and the channels being decoded,
        not every channel's samples beside the block (a 20-channel lossy frame of 2^20 rows: 168 MB less); without
        them its channel parts (``parts``), for one LPC batch per window."""
        fi, payload = item
        length = self._rows(fi)
        self.limits.check_values(length * len(self.steps), len(payload), f"frame {fi}")
        r = ByteReader(payload, f"frame {fi}")
        payloads = [r.raw(r.varint(r.remaining())) for _ in self.steps]
        # threads the window leaves to this frame: its channels side by side, then each channel's pieces
        side_by_side = PARALLEL_VALUES if self.plan.mode == "lossy" else EXACT_DECODE_VALUES
        spare = self._spare if length * len(self.steps) >= side_by_side else 1
        plan = self.plan if spare <= len(self.steps) else replace(self.plan, threads=spare // len(self.steps))
        dest = self._destination(fi)
        one = dest is None and self.steps == [1]  # a frame of one full-rate channel: its samples are its block
        block = None if not kernels.COMPILED or one else \
            dest if dest is not None else np.empty((length, len(self.steps)), dtype=np.int64)
        jobs = [partial(self._channel, p, length // step, plan) if block is None else
                partial(self._placed, block, p, length // step, plan, ch, step)
                for ch, (p, step) in enumerate(zip(payloads, self.steps))]
        done = run_jobs(jobs, [len(p) for p in payloads], spare)
        if r.remaining():
            raise SanFormatError(f"frame {fi}: unexpected trailing bytes")
        codings = _codings([described for _, described, _ in done])
        activations = sum(a for a, _, _ in done)
        if block is None:
            parts = [part for _, _, part in done]
            if not kernels.COMPILED:
                return _ParsedFrame(activations, codings, parts, None, False)
            return _ParsedFrame(activations, codings, None, self._assemble(fi, parts), True)
        _predicted(block, [part for _, _, part in done], self.steps)
        return _ParsedFrame(activations, codings, None, None if dest is not None else block, True)

    @staticmethod
    def _channel(payload: bytes, length: int, plan: FramePlan) -> tuple[int, tuple, ChannelFrame]:
        """One channel-frame's activations, its :func:`_describe` and the channel-frame; its LPC synthesis runs here
        with the C kernels (numpy batches it per window)."""
        part = decode_channel_frame(payload, length, plan)
        described = _describe(part)
        if kernels.COMPILED:
            resolve_lpc([part])
        return part.activations, described, part

    @classmethod
    def _placed(cls, block: np.ndarray, payload: bytes, length: int, plan: FramePlan, ch: int, step: int
                ) -> tuple[int, tuple, ChannelFrame | None]:
        """:meth:`_channel`, its samples then put in ``block``'s column ``ch`` and let go (:func:`_place`); the
        channel-frame itself returned only where it is predicted from other channels, else None."""
        activations, described, part = cls._channel(payload, length, plan)
        return activations, described, _place(block, part, ch, step)

    def decode_window(self, frames: list[tuple[int, bytes]]) -> DecodedFrames:
        """Frames ``(number, payload)`` (consecutive) to their samples, in order."""
        self._spare = max(1, self.threads // len(frames))  # the threads each frame may use inside itself
        done = run_jobs([partial(self._parse, frame) for frame in frames], [len(p) for _, p in frames],
                        min(self.threads, len(frames)))
        codings: Counter[str] = sum((d.codings for d in done), Counter())
        if not kernels.COMPILED:
            resolve_lpc([p for d in done for p in d.parts or []])  # numpy: one batch for the whole window
        blocks = [d.block if d.finished else self._assemble(fi, d.parts or []) for (fi, _), d in zip(frames, done)]
        return DecodedFrames(blocks, [self._rows(fi) for fi, _ in frames], sum(d.activations for d in done), codings)


class _ParsedFrame(NamedTuple):
    """:meth:`FrameDecoder._parse`'s frame: its activations and coding counts, its channel parts where its samples
    are still to be assembled (numpy's LPC synthesis pending), its block (None where written into the decoder's
    ``out``, or not yet assembled) and whether it is assembled."""

    activations: int
    codings: Counter
    parts: list[ChannelFrame] | None
    block: np.ndarray | None
    finished: bool


def _predicted(block: np.ndarray, parts: list[ChannelFrame | None], steps: list[int]) -> None:
    """The channels of ``parts`` that are predicted from others (the rest are None: in ``block`` already), in order,
    each from the full-rate columns of ``block`` before it (``interchannel.rebuilt_samples``)."""
    if all(part is None for part in parts):
        return
    columns: list[np.ndarray | None] = [block[:, c] if step == 1 else None for c, step in enumerate(steps)]
    for ch, part in enumerate(parts):
        if part is not None:
            block[:, ch] = rebuilt_samples(part, columns, ch)
