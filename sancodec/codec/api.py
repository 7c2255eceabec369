"""The codec: ``Signal`` + SAN model -> ``.san`` bytes, and back.

Per frame (``frame_len`` samples, all channels) and channel:

* **SAN path** — the frame is normalised (integer offset ``o``, scale ``σ``),
  the SAN encodes it, and each kernel's activations are kept as position gaps
  and amplitudes quantised to ``a_q = rint(a / step)`` (``step`` relative to σ,
  declared in the header). The decoder rebuilds the prediction with integer
  arithmetic only: kernels quantised to ``w_q = rint(w * 4096)``, the exact
  integer sum ``acc = Σ a_q w_q`` placed by the model's convention, then
  ``pred = o + rint(acc * Δ / 4096)`` with ``Δ = σ * step`` stored as float32.
  Every operation is exact or a single correctly rounded IEEE operation, so
  the prediction is bit-identical on every platform.
* **Residual** (near-lossless and lossless) — ``r = x - pred`` is quantised
  for near-lossless (``rint``-free: ``sign(r) * ((|r| + E) // (2E + 1))``, so
  ``|x - x̂| <= E``), passed through a fixed polynomial predictor of order
  0–2 chosen per frame, and entropy-coded with block-envelope contexts.
* **Raw path** (near-lossless and lossless) — the same residual coder applied
  to the signal itself (with a value-grid step when all differences share a
  divisor). Per frame and channel the encoder keeps whichever coding is cheaper;
  the SAN path competes only with ``predictor="all"`` (it never paid in these
  modes on a measured record), and the report says how often each was used.

``lossy`` keeps the SAN path only (the paper's representation). Errors are in
the samples' own units: digital (ADC) units for WFDB sources. Float sources
(.npy/CSV) are first quantised to a grid of ``2 * max_error`` (near-lossless)
or ``std / 1024`` (lossy); lossless needs integer samples.
"""

from __future__ import annotations

import io
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from sancodec._atomic import write_bytes_atomic
from sancodec.codec import timedomain
from sancodec.codec.container import SanReader, write_container
from sancodec.codec.encoder import DEFAULT_FRAME, DEFAULT_STEP, SanEncoder, header_frame_len
from sancodec.codec.entropy import ByteWriter
from sancodec.codec.frames import FramePlan, WorkBudget, quantized_kernels
from sancodec.codec.header import MODES, FileLayout, check_sample_checksums, from_header, to_header
from sancodec.codec.limits import DEFAULT_LIMITS, DecodeLimits
from sancodec.codec.lossy import EFFORTS, LossyTarget, MixHint, encode_channel, mix_frame, mix_hint, needs_minor
from sancodec.codec.pipeline import (
    DecodedFrames,
    FrameDecoder,
    ordered_map,
    parallel_checksums,
    resolve_threads,
    san_activations,
    window_frames,
)
from sancodec.codec.prepare import ENCODE_MODES, check_options, digitize, resolve_model
from sancodec.codec.schema import check_header
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.wfdb import clip_to_format
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal, slice_header

__all__ = ["ENCODE_MODES", "MODES", "DecodedFile", "decode", "decode_file", "encode", "encode_file", "encode_to_file",
           "read_info", "san_activations"]



#: Lossy files default to long frames: each frame carries its own entropy tables, which at a few
#: tenths of a bit per sample cost more than the random access they buy (mitdb 100 at PRDN 9 %:
#: CR 16.0 with frames of 2**15, 20.5 with one frame of 2**20).
DEFAULT_LOSSY_FRAME = 1 << 20
#: Lossy channels are coded at once only while their samples in flight stay below this: each channel's rate
#: control holds it whole (docs/MEMORY.md has the bytes it takes), so a 24-h record's channels go one by one.
LOSSY_PARALLEL_VALUES = 1 << 24


class _LossyParts(NamedTuple):
    """A lossy file's frame payloads, the PRDN each channel achieved, the format minor version they need,
    and per channel what its coding in shorter frames, some of them exact, needs where that may pay
    (``lossy.mix_hint``; None where not)."""

    payloads: list[bytes]
    achieved: list
    minor: int
    hints: list[MixHint | None]


def _code_lossy(signal: Signal, digital: np.ndarray, quantum: list[float] | None, target: LossyTarget,
                frame_len: int, threads: int | None = None, effort: str = "default", *,
                mix: Sequence[MixHint | None] | None = None, probe_mix: bool = False) -> _LossyParts:
    """Lossy at a target: each channel's rate control runs over the whole record (at its own rate) or, past
    :data:`LOSSY_BLOCK` samples, over each block of it in turn (:func:`_block_targets`), channels on
    ``threads`` workers (same bytes; fewer where they are long: :data:`LOSSY_PARALLEL_VALUES`).
    ``effort``: ``lossy.EFFORTS``; ``mix``: per channel, the hint with which it may code some frames
    exactly (``lossy._mixed``); ``probe_mix``: say where that may pay."""
    n, c = digital.shape
    steps = signal.sample_steps()

    def reference(ch: int, lo: int, hi: int) -> np.ndarray:  # what its PRDN is measured against, digital scale
        raw = signal.samples[lo:hi:steps[ch], ch].astype(np.float64)
        return raw / quantum[ch] if quantum is not None else raw

    blocks = _blocks(n, frame_len)
    targets = _block_targets(blocks, reference, c, target)
    if targets is None:  # one block, or a block where a channel is flat: the record at once
        blocks, targets = [(0, n)], [[target] * c]
    done = [_code_block(signal, digital, reference, targets[b], frame_len, lo, hi, threads, effort, mix, probe_mix)
            for b, (lo, hi) in enumerate(blocks)]
    if len(done) == 1:
        return done[0]._replace(achieved=[round(p, 6) if np.isfinite(p) else None for p in done[0].achieved])
    achieved = []
    for ch in range(c):  # the record's PRDN from each block's squared error (PRDN times its own spread)
        local = [float(np.linalg.norm(r - r.mean())) for r in (reference(ch, lo, hi) for lo, hi in blocks)]
        error = sum((parts.achieved[ch] / 100 * spread) ** 2 for parts, spread in zip(done, local))
        whole = _spread(reference, ch, blocks)
        achieved.append(round(100 * math.sqrt(error) / whole, 6) if whole > 0 else None)
    return _LossyParts([p for parts in done for p in parts.payloads], achieved, max(parts.minor for parts in done),
                       [None] * c)


#: A record longer than this many samples is coded block by block (whole frames): each channel's rate
#: control then holds a block, not the record (docs/MEMORY.md has the bytes), and each block gets the
#: share of the record's error its spread about the record's mean gives it, so the record meets the target.
LOSSY_BLOCK = 1 << 22


def _blocks(n: int, frame_len: int) -> list[tuple[int, int]]:
    """The blocks of a record of ``n`` samples: whole frames, :data:`LOSSY_BLOCK` samples or just over one frame."""
    size = max(frame_len, LOSSY_BLOCK // frame_len * frame_len)
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _spread(reference: Callable[[int, int, int], np.ndarray], ch: int, blocks: Sequence[tuple[int, int]]) -> float:
    """``||ref - mean(ref)||`` of channel ``ch`` over the record, a block at a time."""
    sums = [(float(r.sum()), float(r @ r), len(r)) for r in (reference(ch, lo, hi) for lo, hi in blocks)]
    total, squares, count = (sum(v) for v in zip(*sums))
    return math.sqrt(max(squares - total * total / count, 0.0)) if count else 0.0


def _block_targets(blocks: Sequence[tuple[int, int]], reference: Callable[[int, int, int], np.ndarray], c: int,
                   target: LossyTarget) -> list[list[LossyTarget]] | None:
    """Per block and channel, the target that spends the block's share of the record's squared error,
    ``(P/100)^2`` times its squared spread about the record's mean (the shares add up to the record's
    budget): a PRDN of ``P`` times that spread over its own (a byte budget: the same bits per sample).
    None for one block, or where a channel is flat in some block (its PRDN there is undefined)."""
    if len(blocks) == 1:
        return None
    if target.max_prdn is None:
        return [[target] * c for _ in blocks]
    out: list[list[LossyTarget]] = [[] for _ in blocks]
    for ch in range(c):
        refs = [reference(ch, lo, hi) for lo, hi in blocks]
        mean = sum(float(r.sum()) for r in refs) / max(sum(map(len, refs)), 1)
        for b, r in enumerate(refs):
            local = float(np.linalg.norm(r - r.mean())) if len(r) else 0.0
            if not local > 0:
                return None
            around = math.sqrt(local * local + len(r) * (float(r.mean()) - mean) ** 2)
            out[b].append(LossyTarget(prdn=target.max_prdn * around / local))
    return out


def _code_block(signal: Signal, digital: np.ndarray, reference: Callable[[int, int, int], np.ndarray],
                targets: Sequence[LossyTarget], frame_len: int, lo: int, hi: int, threads: int | None,
                effort: str, mix: Sequence[MixHint | None] | None,
                probe_mix: bool) -> _LossyParts:
    """Samples ``lo`` to ``hi`` of the record coded, each channel at its target (``achieved``: the PRDN each
    channel decodes to there, unrounded)."""
    c = digital.shape[1]
    steps = signal.sample_steps()
    starts = list(range(lo, hi, frame_len))

    def frames(ch: int) -> list[np.ndarray]:  # the channel's samples per frame, at its own rate
        return [digital[s : min(s + frame_len, hi) : steps[ch], ch] for s in starts]

    def one_channel(ch: int) -> tuple[timedomain.Coded, MixHint | None]:
        coded = encode_channel(frames(ch), reference(ch, lo, hi), targets[ch], signal.fs / steps[ch], effort,
                               None if mix is None else mix[ch])
        return coded, mix_hint(frames(ch), coded, targets[ch]) if probe_mix else None

    chunks: list[list[bytes]] = [[] for _ in starts]
    achieved, exact, hints = [], [], []
    workers = min(resolve_threads(threads), c, max(1, LOSSY_PARALLEL_VALUES // max(hi - lo, 1)))
    for coded, hint in ordered_map(one_channel, range(c), workers):
        hints.append(hint)
        achieved.append(coded.prdn)
        exact.append(coded.exact)
        for i, part in enumerate(coded.payloads):
            chunks[i].append(part)
    full_rate = [[digital[s : min(s + frame_len, hi), ch] if steps[ch] == 1 else None for s in starts]
                 for ch in range(c)]
    if sum(exact) > 1:  # exact channels predicted from earlier exact ones, as a lossless file does
        timedomain.predict_across(chunks, full_rate, exact)
    bounds = [t.max_prdn for t in targets]
    if c > 1 and None not in bounds and any(needs_minor(part) == 6 for part in chunks[0]):
        # near the lossless regime: every channel exact, predicted across channels, may be smaller still
        whole = timedomain.exact_file([frames(ch) for ch in range(c)], [reference(ch, lo, hi) for ch in range(c)],
                                      bounds, full_rate)
        if whole is not None and sum(map(len, sum(whole[0], []))) < sum(map(len, sum(chunks, []))):
            chunks, achieved = whole[0], list(whole[1])
    payloads = []
    for parts in chunks:
        w = ByteWriter()
        for part in parts:
            w.varint(len(part))
            w.raw(part)
        payloads.append(w.getvalue())
    lengths = [[len(f) for f in frames(ch)] for ch in range(c)]  # values of each part, channel by channel
    minor = max((needs_minor(part, lengths[ch][i]) for i, parts in enumerate(chunks) for ch, part in enumerate(parts)),
                default=3)
    return _LossyParts(payloads, achieved, minor, hints)


def _one_frame_if_constant(signal: Signal) -> int | None:
    """One frame (up to the format's 2^24 samples) for a record whose every channel holds one value
    throughout: its frames would cost nothing but their framing (24 bytes each). None: the default."""
    x = signal.samples
    if signal.n_samples <= DEFAULT_FRAME or not bool((x == x[0]).all()):
        return None
    return min(1 << 24, signal.n_samples)  # the largest frame_len the format allows


def encode_to_file(
    out: BinaryIO,
    signal: Signal,
    model: SanSpec | str | os.PathLike[str] | None = None,
    mode: str = "lossless",
    max_error: float | None = None,
    *,
    prdn: float | None = None,
    snr: float | None = None,
    bps: float | None = None,
    frame_len: int | None = None,
    amplitude_step: float = DEFAULT_STEP,
    embed_model: bool = True,
    predictor: str = "auto",
    verify: bool = True,
    threads: int | None = None,
    effort: str = "default",
) -> int:
    """Encode ``signal`` into the file object ``out``; returns bytes written.

    ``mode``: ``lossless``, ``near-lossless`` (``max_error``), ``lossy`` at a target (exactly
    one of ``prdn`` in percent, ``snr`` in dB, ``bps`` bits per sample; every channel meets it)
    or ``san`` (the paper's SAN-only representation). ``predictor`` (near-lossless, lossless): see
    ``prepare.PREDICTORS`` (``auto``; ``fast`` leaves the sequential LMS and long-term stages out, keeping
    running contexts, which decode faster than block classes).
    ``verify`` decodes the result before writing it (frame by frame) and refuses a file that would
    not keep its promise. ``threads``: frames coded at once (default: every core; same bytes).
    ``effort`` (lossy): ``default`` looks for the smallest file (beat templates, other wavelet levels,
    the time domain); ``fast`` keeps the plain wavelet coding, at about a plain wavelet coder's speed.
    """
    if effort not in EFFORTS:
        raise SanConfigError(f"--effort must be one of {', '.join(EFFORTS)}, got {effort!r}")
    if mode != "lossy":
        if (prdn, snr, bps) != (None, None, None):
            raise SanConfigError(f"--prdn, --snr and --bps are targets of lossy mode, not {mode}")
        if effort != "default":
            raise SanConfigError(f"--effort applies to lossy mode, not {mode}")
        frame_len = _one_frame_if_constant(signal) if frame_len is None else frame_len
        encoder = SanEncoder(signal, model, mode, max_error, frame_len=frame_len, amplitude_step=amplitude_step,
                             embed_model=embed_model, predictor=predictor, threads=threads, verify=verify)
        signal.check_frames("encode")
        digital, quantum, emax = digitize(signal, encoder.file_mode, max_error)
        encoder.start_digitized(quantum, emax)
        payloads = [*encoder.push(digital, signal.samples), *encoder.finish()]
        header, minor = encoder.header()
        buf = io.BytesIO()
        write_container(buf, header, payloads, minor=minor)
        return out.write(buf.getvalue())
    asked, frame_len = frame_len, DEFAULT_LOSSY_FRAME if frame_len is None else frame_len
    check_options(mode, max_error, predictor, amplitude_step, frame_len)
    target = LossyTarget(prdn, snr, bps)
    spec = resolve_model(model)
    signal.check_frames("encode")
    m = signal.frame_size  # multi-frequency: frames hold whole WFDB frames
    frame_len = max(frame_len - frame_len % m, -(-16 // m) * m)
    digital, quantum, emax = digitize(signal, mode, max_error, target.max_prdn)
    plan = FramePlan(mode, emax, amplitude_step, spec, quantized_kernels(spec), predictor)
    n = digital.shape[0]
    mix_len = mix_frame(n) - mix_frame(n) % m  # shorter frames, some of them exact, where a channel may gain by them

    def container(parts: _LossyParts, frame_len: int) -> bytes:
        header = to_header(signal, plan, frame_len=header_frame_len(digital.shape[0], frame_len, m), n=digital.shape[0],
                           max_error=emax, quantum=quantum, crcs=None, uses_model=False, embed_model=embed_model)
        header["lossy"] = {"target": target.to_dict(), "prdn": parts.achieved}
        buf = io.BytesIO()
        write_container(buf, header, parts.payloads, minor=parts.minor)
        return buf.getvalue()

    probe = asked is None and effort == "default" and target.max_prdn is not None and n <= frame_len and mix_len > 0
    parts = _code_lossy(signal, digital, quantum, target, frame_len, threads, effort, probe_mix=probe)
    data = container(parts, frame_len)
    if any(parts.hints):
        mixed = container(_code_lossy(signal, digital, quantum, target, mix_len, threads, effort, mix=parts.hints),
                          mix_len)
        data, frame_len = (mixed, mix_len) if len(mixed) < len(data) else (data, frame_len)
    if verify:
        _verify(data, signal, spec, target, frame_len)
    return out.write(data)


def _verify(data: bytes, signal: Signal, spec: SanSpec, target: LossyTarget, frame_len: int) -> None:
    """Decode the lossy file just made, a block of frames (:func:`_blocks`) at a time so that memory stays
    bounded by the block: a file the decoder refuses, or a channel off its target, is never reported as
    written."""
    n = signal.n_samples
    bound = target.max_prdn
    steps = signal.sample_steps()
    means = [float(signal.samples[::step, ch].mean()) if n else 0.0 for ch, step in enumerate(steps)]
    errors, spreads = np.zeros(signal.n_channels), np.zeros(signal.n_channels)
    for lo, hi in _blocks(n, frame_len):
        try:
            back = decode_file(data, lo, hi, model=spec).signal.samples
        except SanFormatError as exc:
            raise SanConfigError(f"these samples cannot be coded faithfully ({exc}); nothing was written") from None
        for ch, step in enumerate(steps):
            first = -lo % step  # the channel's own samples: rows lo + first, lo + first + step, ...
            x = signal.samples[lo + first : hi : step, ch].astype(np.float64)
            d = x - back[first::step, ch].astype(np.float64)
            errors[ch] += float(d @ d)
            spreads[ch] += float((x - means[ch]) @ (x - means[ch]))
    if bound is not None:
        for ch in range(signal.n_channels):
            error, spread = float(errors[ch]), float(spreads[ch])  # metrics.prdn, summed a block at a time
            got = 100 * math.sqrt(error / spread) if spread > 0 else 0.0 if error == 0 else math.inf
            if not got <= bound * (1 + 1e-9):
                raise SanConfigError(f"channel {ch} would decode at PRDN {got:.3g} % > {bound:.3g} %; "
                                     "nothing was written")


def encode(
    signal: Signal,
    model: SanSpec | str | os.PathLike[str] | None = None,
    mode: str = "lossless",
    max_error: float | None = None,
    **options: Any,
) -> bytes:
    """Encode ``signal`` to ``.san`` bytes (options as :func:`encode_to_file`); ``model=None`` uses
    the bundled default model. Example: ``encode(sig, mode="lossy", prdn=2)``."""
    buf = io.BytesIO()
    encode_to_file(buf, signal, model, mode, max_error, **options)
    return buf.getvalue()


@dataclass
class DecodedFile:
    """A decoded ``.san``: the signal (or the requested range), header and counters."""

    signal: Signal
    header: dict[str, Any]
    start: int
    end: int
    activations: int
    frames_read: int
    # How the channel-frames were coded: counts of paths "san", "raw", "table" and residuals "lpc".
    codings: dict[str, int] = field(default_factory=dict)

    @property
    def lpc_channel_frames(self) -> int:
        return self.codings.get("lpc", 0)


def _check_work(reader: SanReader, layout: FileLayout, limits: DecodeLimits) -> None:
    """Refuse a file whose declared samples, frames or SAN work its size cannot justify."""
    n, c = layout.n_samples, layout.n_channels
    if reader.n_frames != -(-n // layout.frame_len):
        raise SanFormatError(f"{reader.n_frames} frames for {n} samples of {layout.frame_len}")
    payload = sum(length for _, length in reader.index)
    limits.check_values(n * c, payload, "file")
    limits.check_work("channel-frames", reader.n_frames * c, limits.min_channel_frames, 1 / 256, n * c)
    layout.plan.budget = WorkBudget(max(limits.min_activations, 4 * n * c),
                                    max(limits.min_taps, limits.taps_per_value * n * c))


def frame_windows(reader: SanReader, layout: FileLayout, lo: int, hi: int, limits: DecodeLimits,
                  threads: int | None = None, out: np.ndarray | None = None) -> Iterator[tuple[int, DecodedFrames]]:
    """The frames covering samples [lo, hi), decoded a window at a time: ``(first row, frames)``.
    ``out`` (rows [lo, hi)): frames wholly inside it are written there directly."""
    decoder = FrameDecoder(layout.plan, layout.steps, layout.frame_len, layout.n_samples, limits,
                           resolve_threads(threads), out, lo)
    first, last = lo // layout.frame_len, (hi - 1) // layout.frame_len
    step = window_frames(layout.frame_len)
    for w0 in range(first, last + 1, step):
        frames = [(fi, reader.read_frame(fi)) for fi in range(w0, min(w0 + step, last + 1))]
        yield w0 * layout.frame_len, decoder.decode_window(frames)


def _decode_frames(reader: SanReader, layout: FileLayout, lo: int, hi: int, limits: DecodeLimits,
                   threads: int | None) -> tuple[np.ndarray, int, Counter]:
    """Samples [lo, hi) of every channel as int64, the activation count and the coding counts."""
    out = np.empty((hi - lo, layout.n_channels), dtype=np.int64)  # every row is written below
    activations, codings = 0, Counter()
    for row, got in frame_windows(reader, layout, lo, hi, limits, threads, out):
        for block, rows in zip(got.blocks, got.rows):
            if block is not None:  # a frame the range cuts: copy its overlap
                a, b = max(lo, row), min(hi, row + rows)
                out[a - lo : b - lo] = block[a - row : b - row]
            row += rows
        activations += got.activations
        codings += got.codings
    return out, activations, codings


def decode_file(
    source: BinaryIO | bytes, start: int | None = None, end: int | None = None, model: SanSpec | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS, threads: int | None = None,
) -> DecodedFile:
    """Decode samples [start, end) reading only the frames that cover them.

    Nothing in the file is trusted: the header is checked against its schema, declared work
    against ``limits`` (raise them for files you trust), and every integer against overflow."""
    reader = SanReader(source, limits)
    layout = from_header(reader.header, model, limits)
    _check_work(reader, layout, limits)
    n = layout.n_samples
    lo = 0 if start is None else int(start)
    hi = n if end is None else int(end)
    if not 0 <= lo < hi <= n:
        raise SanConfigError(f"sample range [{lo}, {hi}) is outside the record's [0, {n})")
    out, activations, codings = _decode_frames(reader, layout, lo, hi, limits, threads)
    signal_head = {**layout.signal_head, "annotations": layout.annotations(limits)}
    if layout.quantum is not None:
        samples: np.ndarray = out * np.asarray(layout.quantum, dtype=np.float64)
        if not np.all(np.isfinite(samples)):
            raise SanFormatError("header field 'quantum' scales samples beyond the float range")
    else:
        samples = clip_to_format(out, signal_head.get("fmt"))
        crcs = layout.sample_crc32
        if crcs is not None and lo == 0 and hi == n:
            check_sample_checksums(parallel_checksums(samples, resolve_threads(threads)), crcs)
    if lo != 0 or hi != n:
        signal_head = slice_header(signal_head, lo, hi)
    signal = Signal.from_header(signal_head, samples)
    return DecodedFile(signal, reader.header, lo, hi, activations, reader.frames_read, dict(codings))


def decode(data: bytes, start: int | None = None, end: int | None = None, *,
           limits: DecodeLimits = DEFAULT_LIMITS, threads: int | None = None) -> Signal:
    """Decode ``.san`` bytes (optionally samples [start, end) only) into a :class:`Signal`;
    ``limits`` caps what the file may ask for (raise them for files you trust); ``threads``:
    frames decoded at once (default: every core)."""
    return decode_file(data, start, end, limits=limits, threads=threads).signal


def read_info(source: BinaryIO | bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Header (checked against the format's schema), frame count and sizes of a ``.san`` (``payload_bytes``:
    its frames' payloads, the rest being header and framing), without decoding samples."""
    reader = SanReader(source, limits)
    check_header(reader.header, limits)
    return {"header": reader.header, "frames": reader.n_frames, "bytes": reader.size, "version": reader.version,
            "payload_bytes": reader.payload_bytes}


def encode_file(signal: Signal, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Encode to ``path`` atomically (temp file, then rename); returns the file size."""
    data = encode(signal, **kwargs)
    write_bytes_atomic(path, data)
    return len(data)
