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
or ``std / 1024`` (lossy); lossless needs integer samples, or decimals (``io.decimals``: a CSV's ``0.0617``), which
it holds as integers with a gain of 10^d, the WFDB way: the decoded Signal's ``samples`` are those integers and its
``physical()`` the very doubles encoded (CSV and ``.npy`` outputs write those).
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, NamedTuple, NoReturn

import numpy as np

from sancodec._atomic import write_bytes_atomic
from sancodec.codec.container import SanReader, declared_frames, write_container
from sancodec.codec.encoder import DEFAULT_FRAME, DEFAULT_STEP, SanEncoder, header_frame_len
from sancodec.codec.float32promise import keeps_promise
from sancodec.codec.frames import FramePlan, WorkBudget, quantized_kernels
from sancodec.codec.gaps import (
    Gaps,
    apply_floors,
    apply_gaps,
    block_gap_stats,
    block_lows,
    carries_gap_fields,
    fill_rows,
    filled,
    floors,
    gap_fields,
    gap_runs,
    gap_targets,
    header_gaps,
    invalid_values,
    joined,
    lossy_floors,
    lost_rows_fill,
    near_lossless_fields,
    outside,
    rows_gaps,
    signal_lows,
    valid_block_stats,
)
from sancodec.codec.header import (
    MODES,
    FileLayout,
    check_sample_checksums,
    float_values,
    from_header,
    header_int,
    to_header,
    warn_unused_model,
)
from sancodec.codec.limits import DEFAULT_LIMITS, DecodeLimits
from sancodec.codec.lossy import LossyTarget, check_effort, mix_frame
from sancodec.codec.lossyfile import (
    BlockStats,
    LossyParts,
    block_targets,
    blocks,
    code_block,
    code_lossy,
    record_mean,
    record_prdn,
    record_spread,
)
from sancodec.codec.nanfloats import Rounded, near_bound, needs_rounding, rounded_for, rounded_prdns
from sancodec.codec.pipeline import (
    DecodedFrames,
    FrameDecoder,
    parallel_checksums,
    resolve_threads,
    san_activations,
    window_frames,
)
from sancodec.codec.prepare import (
    ENCODE_MODES,
    LosslessFloatsError,
    check_mode,
    check_options,
    decimal_bound,
    digitize,
    given_model,
    held_ints,
    resolve_model,
    whole_frames,
)
from sancodec.codec.schema import MAX_FS, check_header, is_whole
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError, SanFormatError, option
from sancodec.io.decimals import common_places, missing_of, on_decimal_grid
from sancodec.io.edf import clip_to_source_ranges
from sancodec.io.wfdb import clip_to_format
from sancodec.metrics import sum_of_squares
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal, slice_header

__all__ = ["ENCODE_MODES", "MODES", "DecodedFile", "Salvaged", "decode", "decode_file", "encode", "encode_file",
           "encode_lossy_blocks", "encode_to_file", "read_header", "read_info", "salvage_extent", "san_activations"]



#: Lossy files default to long frames: each frame carries its own entropy tables, which at a few
#: tenths of a bit per sample cost more than the random access they buy (mitdb 100 at PRDN 9 %:
#: CR 16.0 with frames of 2**15, 20.5 with one frame of 2**20).
DEFAULT_LOSSY_FRAME = 1 << 20
def _lossless_floats(signal: Signal, model: SanSpec | str | os.PathLike[str] | None, frame_len: int | None,
                     amplitude_step: float, embed_model: bool, predictor: str, verify: bool | None,
                     threads: int | None) -> bytes | None:
    """The lossless file of ``signal``'s floats where it has one (decimals, each channel on a step, format 1.17, or
    float64 values near one, 1.19), else None: what a near-lossless file of them must not outgrow."""
    try:
        return encode(signal, model, "lossless", frame_len=frame_len, amplitude_step=amplitude_step,
                      embed_model=embed_model, predictor=predictor, verify=verify, threads=threads)
    except LosslessFloatsError:  # (floats lossless mode refuses: only their near-lossless file)
        return None


def _one_frame_if_constant(signal: Signal) -> int | None:
    """One frame (up to the format's 2^24 samples) for a record whose every channel holds one value
    throughout: its frames would cost nothing but their framing (24 bytes each). None: the default."""
    x = signal.samples
    if signal.n_samples <= DEFAULT_FRAME or not bool((x == x[0]).all()):
        return None
    return min(1 << 24, signal.n_samples)  # the largest frame_len the format allows


def encode_to_file(
    out: BinaryIO,
    signal: Signal | np.ndarray,
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
    verify: bool | None = None,
    threads: int | None = None,
    effort: str | None = None,
    processes: bool = False,
    fs: float | None = None,
    _rounded: Rounded | None = None,
) -> int:
    """Encode ``signal`` into the file object ``out``; returns bytes written.

    ``signal``: a :class:`Signal`, or a numpy array (samples, or samples x channels) with its sampling rate ``fs``
    in Hz, taken as a ``.npy`` file of it is (``io.arrays.array_signal``).
    ``mode``: ``lossless``, ``near-lossless`` (``max_error``), ``lossy`` at a target (exactly
    one of ``prdn`` in percent, ``snr`` in dB, ``bps`` bits per sample; every channel meets it)
    or ``san`` (the paper's SAN-only representation). A near-lossless file is never larger than the lossless
    one: each channel-frame is coded exactly where that is smaller, and where the header's runs of a record's gaps
    and its floor (formats 1.15, 1.16) still take the file past the lossless file, or floats' grid of twice the
    error holds them in more bytes than their lossless file (decimals, a step), that file is returned (it decodes to
    the samples themselves, within any ``max_error``). ``predictor`` (near-lossless, lossless): see
    ``prepare.PREDICTORS`` (``auto``; ``fast`` leaves the sequential LMS and long-term stages out, keeping
    running contexts, which decode faster than block classes).
    ``verify`` decodes the result before writing it (frame by frame) and refuses a file that would
    not keep its promise (default: :func:`verifies`). ``threads``: frames coded at once (lossy: channels, and the
    pieces of a channel that the others leave threads for, ``jobs.piece_threads``; default: every core; same
    bytes). ``effort`` (lossy; None: ``balanced``): ``best`` looks for the smallest file (beat templates, other
    wavelet levels, the time domain) and checks it; ``fast`` keeps the plain wavelet coding and skips the check, at
    a plain wavelet coder's speed or better; ``balanced`` is ``fast`` with one beat template where it pays (most of
    what templates save on an ECG, in a sixth to an eighth of ``best``'s time). ``processes`` (lossy): a
    record's channels are coded on ``threads`` worker processes instead of threads, which the interpreter lock
    holds back (``codec.processes``: faster on records of many short channels; the workers start once per process,
    which costs time; a script then needs its ``if __name__ == "__main__":`` guard; same bytes; on threads where
    this process can have no workers).
    """
    check_mode(mode)
    rounding: list[Rounded] = []  # floats with NaN gaps that are no decimals, as rounded for a lossy mode
    rounder = gaps_rounder(mode, max_error, prdn, snr, bps, rounding)
    if rounder is not None and isinstance(signal, np.ndarray):  # (a DataFrame's values: in _encodable)
        signal = rounder(signal)
    signal = _encodable(signal, fs, rounder)
    rounded = rounding[0] if rounding else _rounded  # (_rounded: a Signal of such floats rounded by the caller,
    # the numcodecs codec's chunk, codec.nanfloats)
    if rounded is not None and mode == "near-lossless" and max_error is not None:
        max_error = near_bound(rounded, max_error)  # (the half unit the rounding may have moved a value by)
    given, asked_frame_len = signal, frame_len  # (near-lossless: the lossless file it must not outgrow)
    asked_effort, effort = effort, check_effort(effort)
    if mode == "lossless" and signal.samples.dtype == np.float16:  # as the float32s they widen to exactly (format
        # 1.18: their bits where on no step, -0.0 kept; the float64 grid refused some); the source's dtype says float16
        signal = replace(signal, samples=signal.samples.astype(np.float32))
    if mode == "lossless" and not signal.is_digital:  # decimals (a CSV's): exact as integers with a gain of 10^d;
        # else multiples of a step per channel (counts times a calibration factor), which digitize finds or refuses
        decimal = on_decimal_grid(signal)
        signal = signal if decimal is None else decimal
    # formats 1.15 and 1.16: gaps kept apart in near-lossless mode too (each sample within the error would move
    # their value), the other samples above them (a valid sample within the error of a WFDB record's invalid one
    # was read back as a gap); a CSV's or an array's gaps filled, a WFDB record's coded as values as a streamed
    # record's are (SanWriter), at the bottom of the format's range where the decode clips them
    near = mode == "near-lossless" and signal.is_digital
    if near:  # a bound in the values' units where they are decimals held as integers (a CSV's with a gap), every
        signal = common_places(signal)  # channel at the same places so that it holds each to all of the bound
        max_error = decimal_bound(signal, max_error)
    near_gaps, near_floors = (gap_runs(signal), floors(signal)) if near else ([], [])
    lows = signal_lows(signal, near_floors) if near else []
    filled_gaps = any(g is not None for g in near_gaps) and missing_of(signal.source) is not None
    if filled_gaps:
        signal = filled(signal, near_gaps, [(0, signal.n_samples)])
    if not signal.fs <= MAX_FS:
        raise SanConfigError(f"sampling frequency {signal.fs:g} Hz is above the {MAX_FS:g} Hz a .san header holds")
    if mode != "lossy":
        if (prdn, snr, bps) != (None, None, None):
            raise SanConfigError(f"{option('prdn')}, {option('snr')} and {option('bps')} are targets of lossy mode, "
                                 f"not {mode}")
        if asked_effort is not None:
            raise SanConfigError(f"{option('effort')} applies to lossy mode, not {mode}")
        if processes:
            raise SanConfigError(f"{option('processes')} applies to lossy mode, not {mode}")
        frame_len = _one_frame_if_constant(signal) if frame_len is None else frame_len
        encoder = SanEncoder(signal, model, mode, max_error, frame_len=frame_len, amplitude_step=amplitude_step,
                             embed_model=embed_model, predictor=predictor, threads=threads,
                             verify=verifies(verify, mode, effort))
        signal.check_frames("encode")
        digital, quantum, emax, grids = digitize(signal, encoder.file_mode, max_error)
        encoder.start_digitized(quantum, emax, signal.samples.dtype == np.float32,  # (float32 values: format 1.18)
                                grids)  # (float64 values near their steps: format 1.19)
        payloads = [*encoder.push(digital, signal.samples), *encoder.finish()]
        header, minor = encoder.header()
        if near:
            header.update(near_lossless_fields(near_gaps, near_floors, lows, header["max_error"], encoder.inexact,
                                               filled_gaps))
        buf = io.BytesIO()
        write_container(buf, header, payloads, minor=minor)
        if near and carries_gap_fields(header):
            lossless = encode(given, model, "lossless", frame_len=asked_frame_len, amplitude_step=amplitude_step,
                              embed_model=embed_model, predictor=predictor, verify=verify, threads=threads)
            if len(lossless) < buf.tell():
                return out.write(lossless)
        if mode == "near-lossless" and not given.is_digital:  # floats: their grid of 2 max_error holds them in more
            # bytes than their own decimals or step where it is finer (a 3-decimal signal at max_error 0.0004: 5 %)
            floats = _lossless_floats(given, model, asked_frame_len, amplitude_step, embed_model, predictor, verify,
                                      threads)
            if floats is not None and len(floats) < buf.tell():
                return out.write(floats)
        return out.write(buf.getvalue())
    asked, frame_len = frame_len, DEFAULT_LOSSY_FRAME if frame_len is None else frame_len
    frame_len = check_options(mode, max_error, predictor, amplitude_step, frame_len)
    if mode == "lossy" and predictor != "auto":  # its exact frames take their own plan (timedomain.EXACT*)
        raise SanConfigError(f"predictor {predictor!r} applies to lossless and near-lossless modes (the CLI's "
                             "--fast-decode), not lossy")
    target = LossyTarget(prdn, snr, bps)
    spec = resolve_model(model)
    signal.check_frames("encode")
    m = signal.frame_size  # multi-frequency: frames hold whole WFDB frames
    frame_len = whole_frames(frame_len, m)
    gaps = gap_runs(signal)  # format 1.15: a record's gaps coded apart, each run filled where its channel is coded
    gapped = any(g is not None for g in gaps)
    # (filled and measured block by block, as encode_lossy_blocks does)
    spans = blocks(signal.n_samples, frame_len, signal.n_channels)
    coded = filled(signal, gaps, spans) if gapped else signal
    valid_stats: list[list[BlockStats]] = []
    aims = None  # per channel, where it has gaps: the target its other samples meet
    steps = signal.sample_steps()
    values = [None if g is None else g[0] for g in gaps]
    candidates = floors(signal)  # format 1.16: each channel's floor, where its decode may reach its gap value
    if gapped:
        span_stats = [block_gap_stats([signal.samples[lo:hi:step, ch] for ch, step in enumerate(steps)],
                                      [coded.samples[lo:hi:step, ch] for ch, step in enumerate(steps)], values)
                      for lo, hi in spans]
        valid_stats = [v for _, v in span_stats]
        aims = gap_targets(target, [f for f, _ in span_stats], valid_stats, [g is not None for g in gaps])
    elif any(f is not None for f in candidates):  # (the floors' spreads, measured as encode_lossy_blocks does)
        valid_stats = [valid_block_stats([signal.samples[lo:hi:step, ch] for ch, step in enumerate(steps)], values)
                       for lo, hi in spans]
    if rounded is not None and target.max_prdn is not None:  # the rounding counted against each channel's target
        bound = target.max_prdn
        aims = [LossyTarget(prdn=(aim.max_prdn or bound) * limit / bound) for aim, limit in
                zip(aims or [target] * signal.n_channels, rounded_prdns(rounded, bound))]
    lows = signal_lows(signal, candidates)
    spreads = [record_spread([block[ch] for block in valid_stats]) if valid_stats else 0.0 for ch in range(len(steps))]
    digital, quantum, emax, _ = digitize(coded, mode, max_error, target.max_prdn)
    plan = FramePlan(mode, emax, amplitude_step, spec, quantized_kernels(spec), predictor)
    n = digital.shape[0]
    mix_len = mix_frame(n) - mix_frame(n) % m  # shorter frames, some of them exact, where a channel may gain by them

    def container(parts: LossyParts, frame_len: int) -> bytes:
        return _lossy_container(signal, plan, parts, target, header_frame_len(n, frame_len, m), n, emax, quantum,
                                embed_model, header_gaps(gaps), lossy_floors(candidates, lows, spreads, parts.achieved))

    probe = asked is None and effort == "best" and target.max_prdn is not None and n <= frame_len and mix_len > 0
    parts = code_lossy(coded, digital, quantum, target, frame_len, threads, effort, probe_mix=probe,
                       processes=processes, channel_targets=aims)
    data = container(parts, frame_len)
    if any(hint is not None and hint.exact for hint in parts.hints):  # a channel may mix: shorter frames
        mixed_parts = code_lossy(coded, digital, quantum, target, mix_len, threads, effort, mix=parts.hints,
                                 processes=processes, channel_targets=aims)
        mixed = container(mixed_parts, mix_len)
        if len(mixed) < len(data):
            data, frame_len, parts = mixed, mix_len, mixed_parts
    spans = blocks(n, frame_len, digital.shape[1])
    checks = verifies(verify, mode, effort)
    # each channel's mean, for the checks below alone (a pass over a long channel that balanced and fast skip)
    means = [float(signal.samples[::step, ch].mean()) if n else 0.0 for ch, step in enumerate(steps)] \
        if gapped or checks else []
    measured = None
    if rounded is not None:  # every channel's PRDN against the floats given, not their rounding
        given_rows, about = _given_rows(rounded, gaps, signal.adc_gain or [1.0] * signal.n_channels)
        data, measured = _with_gaps_measured(data, parts, gaps, valid_stats, means, spans,
                                             lambda: (given_rows[lo:hi] for lo, hi in spans), steps,
                                             lambda p: container(p, frame_len), about)
    elif gapped:  # the PRDN a gapped channel's other samples decode to, as the header says it
        data, measured = _with_gaps_measured(data, parts, gaps, valid_stats, means, spans,
                                             lambda: (signal.samples[lo:hi] for lo, hi in spans), steps,
                                             lambda p: container(p, frame_len))
    if checks:
        _verify(data, target, spans, (signal.samples[lo:hi] for lo, hi in spans), steps, means, prdns=measured)
    if target.bps is not None:
        warn_past_budget(data, target.bps)
    return out.write(data)


def _with_gaps_measured(data: bytes, parts: LossyParts, gaps: Gaps, valid: Sequence[Sequence[BlockStats]],
                        means: Sequence[float], spans: Sequence[tuple[int, int]],
                        rows: Callable[[], Iterable[np.ndarray]], steps: Sequence[int],
                        container: Callable[[LossyParts], bytes],
                        about: Sequence[float] | None = None) -> tuple[bytes, list[float]]:
    """A lossy file with gaps (format 1.15) made again with each gapped channel's PRDN that of its other samples as
    decoded (:func:`decoded_prdns`, ``valid``: their blocks' statistics, whose means it is measured about), and the
    PRDN of every channel so measured (gaps left out). ``about``: every channel's mean, given with ``rows`` of other
    values than those coded (floats before their rounding, :func:`_given_rows`): then every channel's PRDN is the
    one measured."""
    every = about is not None
    if about is None:
        about = [means[ch] if gap is None else record_mean([block[ch] for block in valid])
                 for ch, gap in enumerate(gaps)]
    measured = decoded_prdns(data, spans, rows(), steps, about, skip=[None if g is None else g[0] for g in gaps])
    achieved = [got if gap is not None or every else mine for got, mine, gap in zip(measured, parts.achieved, gaps)]
    return container(parts._replace(achieved=achieved)), measured


def _given_rows(rounded: Rounded, gaps: Gaps, gains: Sequence[float]) -> tuple[np.ndarray, list[float]]:
    """The floats given before their rounding (``codec.nanfloats``) in the units the file holds (times each
    channel's gain, 10^d), each gap its channel's gap value, as :func:`decoded_prdns` compares a decode with them;
    and each channel's mean outside its gaps, in those units."""
    rows = rounded.values * np.asarray(gains, dtype=np.float64)
    means = []
    for ch, gap in enumerate(gaps):
        nan = np.isnan(rows[:, ch])
        means.append(float(rows[~nan, ch].mean()) if (~nan).any() else 0.0)
        if gap is not None:
            rows[nan, ch] = gap[0]
    return rows, means


def warn_past_budget(data: bytes, bps: float) -> None:
    """A :class:`SancodecWarning` for each channel of lossy ``data`` whose bits a sample pass a budget of ``bps``:
    its smallest coding takes more (a short record's fixed costs), which the file holds anyway; the spent figure
    was printed beside the target, and said nothing of missing it."""
    from sancodec.codec.anatomy import lossy_anatomy

    for channel in lossy_anatomy(data, bands=False):
        if channel.bits_per_sample > bps * (1 + 1e-9):
            warnings.warn(f"channel {channel.name!r}: its smallest coding takes {channel.bits_per_sample:.3f} bits a "
                          f"sample, past the budget of {bps:g}; the file holds it so", SancodecWarning, stacklevel=4)


def encode_lossy_blocks(like: Signal, n: int, read: Callable[[int], Iterable[np.ndarray]], *,
                        prdn: float | None = None, snr: float | None = None, bps: float | None = None,
                        effort: str | None = None, frame_len: int | None = None, threads: int | None = None,
                        model: SanSpec | str | os.PathLike[str] | None = None, embed_model: bool = True,
                        verify: bool | None = None, progress: Callable[[str], None] | None = None,
                        processes: bool = False, source: Callable[[], dict[str, Any]] | None = None) -> bytes | None:
    """Lossy ``.san`` bytes of a record of ``n`` integer rows (``like``: its metadata; channels at several rates
    as ``Signal.samples_per_frame`` holds them, each sample repeated to the fastest rate, where it has no gaps), never
    held whole: ``read(rows)`` yields its rows from the first, ``rows`` at a time, each time it is called. Three
    passes: the blocks' statistics, their coding (``lossyfile``), and the check of the file a block at a time
    (``verify``: :func:`verifies`). The same file :func:`encode` makes of the record in memory; None where that one
    is not coded block by block (one block, or a channel flat in a block) or the record has gaps at several rates, so
    the caller reads the record whole. ``progress`` is told what
    each block is going through (a line such as ``"coding block 3 of 40"``); ``processes``: each block's channels
    on worker processes (:func:`encode_to_file`); ``source``: ``like``'s source where the record says it only once
    read (an EDF's signals past their declared range, ``io.edf.edf_blocks``), asked for when the header is made."""
    say = progress or (lambda _: None)
    effort = check_effort(effort)
    frame_len = DEFAULT_LOSSY_FRAME if frame_len is None else frame_len
    frame_len = check_options("lossy", None, "auto", DEFAULT_STEP, frame_len)
    target = LossyTarget(prdn, snr, bps)
    m, steps = like.frame_size, like.sample_steps()
    frame_len = whole_frames(frame_len, m)  # several rates: frames hold whole frames of every channel, as encode's
    values = invalid_values(like)  # format 1.15: each block's gaps filled, measured and coded apart, as encode does
    if m > 1 and any(v is not None for v in values):  # (a multi-rate record's gaps: read whole, as before)
        return None
    c = like.n_channels
    spans = blocks(n, frame_len, c)
    size = spans[0][1] - spans[0][0]
    stats, valid_stats, block_gaps = [], [], []
    counted: list[int] = []
    candidates = floors(like)  # format 1.16: each channel's floor, where its decode may reach its gap value
    lows = [math.inf] * c
    for rows in read(size):  # (a plain loop: enumerate would hold its last tuple, and a block, through each read)
        say(f"measuring block {len(counted) + 1} of {len(spans)}")
        filled_rows = fill_rows(rows, values)
        stats_here, valid_here = block_gap_stats([rows[:: steps[ch], ch] for ch in range(c)],
                                                 [filled_rows[:: steps[ch], ch] for ch in range(c)], values)
        stats.append(stats_here)
        valid_stats.append(valid_here)
        block_gaps.append(rows_gaps(rows, values, sum(counted)))
        counted.append(len(rows))
        lows = block_lows(lows, rows, values, candidates)
        del rows, filled_rows  # (this block let go before the next is read)
    if counted != [hi - lo for lo, hi in spans]:
        raise SanConfigError(f"the record holds {sum(counted)} rows, not {n}")
    gaps = joined(block_gaps)
    gapped = any(g is not None for g in gaps)
    aims = gap_targets(target, stats, valid_stats, [g is not None for g in gaps]) if gapped else target
    targets = block_targets(stats, aims)
    if targets is None:
        return None
    spec = resolve_model(model)
    plan = FramePlan("lossy", 0, DEFAULT_STEP, spec, quantized_kernels(spec), "auto")
    done = []
    for b, lo, hi, rows in spans_read(spans, read(size)):
        say(f"coding block {b + 1} of {len(spans)}")
        wanted = targets[b]
        block = replace(like, samples=held_ints(fill_rows(rows, values)), annotations=[])
        digital = block.samples if block.samples.dtype != np.int64 else digitize(block, "lossy", None)[0]  # (held
        # narrower: within ±2^53, which is all digitize checks of integers)

        def reference(ch: int, start: int, end: int, x: np.ndarray = digital) -> np.ndarray:
            return x[start : end : steps[ch], ch].astype(np.float64)

        done.append(code_block(block, digital, reference, wanted, frame_len, 0, hi - lo, threads, effort,
                               processes=processes))
        del rows, block, digital, reference  # (this block let go before the next is read)
    parts = LossyParts([p for d in done for p in d.payloads], record_prdn(stats, [d.achieved for d in done]),
                       max(d.minor for d in done), [None] * c)

    spreads = [record_spread([block[ch] for block in valid_stats]) for ch in range(c)]

    described = like if source is None else replace(like, source=source())  # (every block read by now)

    def container(parts: LossyParts) -> bytes:
        return _lossy_container(described, plan, parts, target, header_frame_len(n, frame_len, m), n, 0, None,
                                embed_model, header_gaps(gaps), lossy_floors(candidates, lows, spreads, parts.achieved))

    data = container(parts)
    means = [record_mean([s[ch] for s in stats]) for ch in range(c)]
    measured = None
    if gapped:  # the PRDN a gapped channel's other samples decode to, as the header says it
        data, measured = _with_gaps_measured(data, parts, gaps, valid_stats, means, spans, lambda: read(size),
                                             steps, container)
    if verifies(verify, "lossy", effort):
        _verify(data, target, spans, read(size), steps, means, say, prdns=measured)
    if target.bps is not None:
        warn_past_budget(data, target.bps)
    return data


def verifies(verify: bool | None, mode: str, effort: str | None) -> bool:
    """Whether an encode decodes its file and checks it before handing it over: ``verify`` where given, else
    always but in lossy mode at ``effort="fast"`` or ``"balanced"`` (the default, None), which trade the check (one
    more decode) for speed, as FLAC does without ``--verify``: their rate control has already measured every channel's
    error with the decoder's own reconstruction of the values it codes (the beat template's prediction
    included, integers in the file)."""
    return verify if verify is not None else not (mode == "lossy" and check_effort(effort) != "best")


def _lossy_container(like: Signal, plan: FramePlan, parts: LossyParts, target: LossyTarget, frame_len: int, n: int,
                     emax: int, quantum: list[float] | None, embed_model: bool, gaps: list | None = None,
                     floors: Sequence[int | None] = ()) -> bytes:
    """The lossy file of ``parts`` (``like``: the record's metadata; ``frame_len`` as the header holds it; ``gaps``:
    the header's ``lossy.gaps``, format 1.15, ``gaps.header_gaps``; ``floors``: its ``floor``, format 1.16)."""
    header = lossy_header(like, plan, parts.achieved, target, frame_len, n, emax, quantum, embed_model, gaps, floors)
    buf = io.BytesIO()
    write_container(buf, header, parts.payloads, minor=parts.minor)
    return buf.getvalue()


def lossy_header(like: Signal, plan: FramePlan, achieved: Sequence[float | None], target: LossyTarget, frame_len: int,
                 n: int, emax: int, quantum: list[float] | None, embed_model: bool, gaps: list | None = None,
                 floors: Sequence[int | None] = ()) -> dict[str, Any]:
    """A lossy file's header (:func:`_lossy_container`'s; the streaming writer's, ``codec.lossystream``), each
    channel's PRDN ``achieved`` rounded as the header holds it (None where undefined)."""
    header = to_header(like, plan, frame_len=frame_len, n=n, max_error=emax, quantum=quantum, crcs=None,
                       uses_model=False, embed_model=embed_model)
    rounded = [round(p, 6) if p is not None and np.isfinite(p) else None for p in achieved]
    header["lossy"] = {"target": target.to_dict(), "prdn": rounded, **({} if gaps is None else {"gaps": gaps})}
    header.update(gap_fields([], floors))
    return header


def _verify(data: bytes, target: LossyTarget, spans: Sequence[tuple[int, int]],
            rows: Iterable[np.ndarray], steps: Sequence[int], means: Sequence[float],
            say: Callable[[str], None] = lambda _: None, prdns: Sequence[float] | None = None) -> None:
    """Decode the lossy file just made a block of frames at a time (``spans``; ``rows``: the record's samples
    there, ``means``: each channel's over the record), so that memory stays bounded by the block: a file the
    decoder refuses, or a channel off its target, is never reported as written. ``prdns``: each channel's PRDN so
    measured already (a file with gaps, :func:`_with_gaps_measured`), not decoded again."""
    refuse_missed(list(prdns) if prdns is not None else decoded_prdns(data, spans, rows, steps, means, say), target)


def refuse_missed(prdns: Sequence[float], target: LossyTarget, where: str = "") -> None:
    """A :class:`SanConfigError` naming the first channel whose decoded PRDN (``prdns``) passes ``target``'s bound
    (``where``: the rows it was measured on, said after it); nothing for a byte budget."""
    bound = target.max_prdn
    if bound is None:
        return
    for ch, got in enumerate(prdns):
        if not got <= bound * (1 + 1e-9):
            raise SanConfigError(f"channel {ch} would decode at PRDN {got:.3g} % > {bound:.3g} %{where}; nothing was "
                                 "written")


def spans_read(spans: Sequence[tuple[int, int]], rows: Iterable[np.ndarray]
               ) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Each span's number, first and end row, and its block of ``rows`` (one block a span, of its length), a block
    at a time and none held once the caller lets it go: ``zip`` and ``enumerate`` keep their last tuple, and the
    block in it, while the next block is read (a 20-channel EDF's lossy blocks, two held at once). A SanFormatError
    where the blocks do not match the spans (a file changed between two reads of it)."""
    blocks = iter(rows)
    for b, (lo, hi) in enumerate(spans):
        block = next(blocks, None)
        if block is None or len(block) != hi - lo:
            raise SanFormatError(f"the record changed while it was read: rows {lo} to {hi} came back as "
                                 f"{0 if block is None else len(block)} rows")
        yield b, lo, hi, block
        del block
    if next(blocks, None) is not None:
        raise SanFormatError(f"the record changed while it was read: it holds more than "
                             f"{spans[-1][1] if spans else 0} rows")


def decoded_prdns(data: bytes, spans: Sequence[tuple[int, int]], rows: Iterable[np.ndarray], steps: Sequence[int],
                   means: Sequence[float], say: Callable[[str], None] = lambda _: None,
                   skip: Sequence[int | None] | None = None) -> list[float]:
    """Each channel's PRDN as the lossy file ``data`` decodes, a block of frames at a time (:func:`_verify`'s
    measure); ``skip``: per channel, its gaps' value (format 1.15), whose samples must decode to it (else a
    SanConfigError) and are left out."""
    errors, spreads = np.zeros(len(steps)), np.zeros(len(steps))
    for b, lo, hi, samples in spans_read(spans, rows):
        if len(spans) > 1:
            say(f"checking block {b + 1} of {len(spans)}")
        try:
            back = decode_file(data, lo, hi).signal.samples  # (a lossy file uses no model)
        except SanFormatError as exc:
            raise SanConfigError(f"these samples cannot be coded faithfully ({exc}); nothing was written") from None
        for ch, step in enumerate(steps):
            first = -lo % step  # the channel's own samples: rows lo + first, lo + first + step, ...
            x = samples[first::step, ch].astype(np.float64)
            y = back[first::step, ch].astype(np.float64)
            gap = None if skip is None else skip[ch]
            if gap is not None:  # the gaps come back as their value, and count for nothing
                kept = outside(x, gap)
                if not np.all(y[~kept] == gap):
                    raise SanConfigError(f"channel {ch} would not decode its gaps; nothing was written")
                x, y = x[kept], y[kept]
            errors[ch] += sum_of_squares(x - y)
            spreads[ch] += sum_of_squares(x - means[ch])
        del samples, back  # (this block let go before the next is read)
    out = []
    for ch in range(len(steps)):
        error, spread = float(errors[ch]), float(spreads[ch])  # metrics.prdn, summed a block at a time
        out.append(100 * math.sqrt(error / spread) if spread > 0 else 0.0 if error == 0 else math.inf)
    return out


def _with_gaps_rounded(values: np.ndarray, mode: str, max_error: float | None, max_prdn: float | None,
                       rounding: list[Rounded]) -> np.ndarray:
    """``values`` where they are floats with NaN gaps among values that are no decimals: rounded for the lossy
    ``mode`` (``codec.nanfloats``), which ``rounding`` then holds; else as they are."""
    if not needs_rounding(values):
        return values
    rounded = rounded_for(values, mode, max_error, max_prdn)
    rounding.append(rounded)
    return rounded.rounded.reshape(values.shape)


def gaps_rounder(mode: str, max_error: float | None, prdn: float | None, snr: float | None, bps: float | None,
                  rounding: list[Rounded]) -> Callable[[np.ndarray], np.ndarray] | None:
    """What a DataFrame's values, or a ``.npy`` or CSV's floats (``read_signal``'s ``rounder``: the CLI's), go through
    before they are read as a Signal (``from_pandas``' ``prepare``): in the lossy modes, :func:`_with_gaps_rounded`,
    ``rounding`` then holding what it rounded; None in the others."""
    if mode not in ("lossy", "near-lossless"):
        return None
    lossy_bound = LossyTarget(prdn, snr, bps).max_prdn if mode == "lossy" else None
    return lambda values: _with_gaps_rounded(values, mode, max_error, lossy_bound, rounding)


def _encodable(signal: Signal | np.ndarray, fs: float | None,
               prepare: Callable[[np.ndarray], np.ndarray] | None = None) -> Signal:
    """What :func:`encode_to_file` codes: ``signal`` itself, an array with its rate ``fs`` as a ``.npy`` of it
    reads, or a ``wfdb.Record`` as ``Signal.from_wfdb`` takes it; a :class:`SanConfigError` for anything else, an
    array without ``fs``, or an ``fs`` a Signal or Record overrides. ``prepare``: what a DataFrame's values go
    through first (:func:`gaps_rounder`)."""
    if isinstance(signal, np.ndarray):
        if fs is None:
            raise SanConfigError("encode: an array needs its sampling rate, e.g. encode(x, fs=250, ...) "
                                 "(or wrap it: Signal(samples, fs, channel_names, units))")
        from sancodec.io.arrays import array_signal

        return array_signal(signal, fs)
    if not isinstance(signal, Signal):
        from sancodec.io.pandas_objects import from_pandas, is_pandas
        from sancodec.io.wfdb_objects import from_wfdb, is_wfdb_record

        if is_pandas(signal):  # a DataFrame's columns (a Series: one), named by their labels; the index may give fs
            return from_pandas(signal, fs, prepare)
        if is_wfdb_record(signal):  # wfdb.rdrecord's record, as Signal.from_wfdb takes it
            return from_wfdb(signal) if fs is None or fs == signal.fs else _rate_refused(fs, signal.fs)
        if isinstance(signal, (str, os.PathLike)):  # a recording's path: read it first (a path is not guessed at)
            raise SanConfigError(f"encode takes a sancodec.Signal, a wfdb.Record, a pandas DataFrame or a numpy array, "
                                 f"not a path: "
                                 f"sancodec.encode(sancodec.read_signal({os.fspath(signal)!r})) codes the recording")
        raise SanConfigError(f"encode takes a sancodec.Signal, a wfdb.Record, a pandas DataFrame or Series or a numpy "
                             f"array, not a {type(signal).__name__}: Signal(samples, fs, channel_names, units) wraps "
                             "samples")
    if fs is not None and fs != signal.fs:
        _rate_refused(fs, signal.fs)
    return signal


def _rate_refused(fs: float, own: float) -> NoReturn:
    raise SanConfigError(f"encode: fs={fs} given for a signal at {own} Hz; a Signal (or a wfdb.Record) carries its "
                         "own rate")


def encode_rounded(signal: Signal, rounded: Rounded | None, model: SanSpec | str | os.PathLike[str] | None = None,
                   mode: str = "lossless", max_error: float | None = None, **options: Any) -> bytes:
    """:func:`encode` of a signal read with :func:`gaps_rounder`'s rounding (a ``.npy`` or CSV of floats with NaN
    gaps that are no decimals, read by the CLI or ``batch``): ``rounded``, what it rounded (None: nothing), which the
    target is counted and the PRDNs measured against."""
    _check_option_names("encode", options)
    buf = io.BytesIO()
    encode_to_file(buf, signal, model, mode, max_error, _rounded=rounded, **options)
    return buf.getvalue()


def encode(
    signal: Signal | np.ndarray,
    model: SanSpec | str | os.PathLike[str] | None = None,
    mode: str = "lossless",
    max_error: float | None = None,
    **options: Any,
) -> bytes:
    """Encode ``signal`` to ``.san`` bytes (options as :func:`encode_to_file`); ``model=None`` uses
    the bundled default model. Example: ``encode(sig, mode="lossy", prdn=2)``, or for an array
    ``encode(x, fs=250, mode="lossy", prdn=2)``."""
    _check_option_names("encode", options)
    buf = io.BytesIO()
    encode_to_file(buf, signal, model, mode, max_error, **options)
    return buf.getvalue()


def _check_option_names(caller: str, options: dict[str, Any]) -> None:
    """A TypeError naming ``caller`` (what the user called, not the function it hands its options to) and the option
    meant, for a keyword :func:`encode_to_file` does not take (``prdm=2``: "did you mean prdn?"). The options'
    names are read off its signature once (an encode per Zarr chunk asks every time)."""
    known = _encode_options()
    for name in options:
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (it takes {', '.join(known)})"
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")


@functools.cache
def _encode_options() -> tuple[str, ...]:
    """:func:`encode_to_file`'s keyword-only options, in its order."""
    import inspect

    return tuple(p.name for p in inspect.signature(encode_to_file).parameters.values()
                 if p.kind == p.KEYWORD_ONLY and not p.name.startswith("_"))


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
    # decode_file(..., salvage=True) of a file missing frames: what survives (Salvaged)
    salvaged: Salvaged | None = None

    @property
    def lpc_channel_frames(self) -> int:
        return self.codings.get("lpc", 0)


class Salvaged(NamedTuple):
    """What a salvaging read finds of a damaged file: its frames intact, those its header declares, the rows read
    (``[0, rows)``), the row ranges lost with their frames (a file cut short: its tail), and whether those within the
    rows read are read as gaps (each channel's invalid sample, ``gaps.lost_rows_fill``: where every channel has
    one, a frame damaged amid intact ones loses its rows only; elsewhere the rows read end at the first lost)."""

    frames: int
    of: int
    rows: int
    samples: int  # the record's rows
    lost: tuple[tuple[int, int], ...] = ()
    gaps: bool = False
    held: bool = False  # the gaps hold each channel's last row before them (no invalid sample: SanReader.hold_lost)

    def blocking(self) -> list[tuple[int, int]]:
        """The lost row ranges no read may reach: every one, or with :attr:`gaps` those past the rows read."""
        return [r for r in self.lost if not (self.gaps and r[1] <= self.rows)]

    def intact_after(self) -> list[tuple[int, int]]:
        """The row ranges past the rows read whose frames are intact (a range read of them decodes)."""
        ranges, at = [], self.rows
        for a, b in self.lost:
            if b <= self.rows:
                continue
            if a > at:
                ranges.append((at, a))
            at = max(at, b)
        return ranges + ([(at, self.samples)] if at < self.samples else [])


def salvaged_of(reader: SanReader, n: int, frame_len: int) -> Salvaged | None:
    """A salvaging reader's figures for a record of ``n`` rows in frames of ``frame_len`` (:class:`Salvaged`); None
    where no frame is lost."""
    declared = declared_frames(n, frame_len)
    count = min(reader.n_frames, declared)
    damaged = sorted(f for f in reader.lost if f < count)
    spans = [(f * frame_len, min(n, (f + 1) * frame_len)) for f in damaged]
    if count < declared:  # (a file cut short: its tail)
        spans.append((count * frame_len, n))
    lost: list[tuple[int, int]] = []
    for a, b in spans:  # (adjacent spans joined)
        if lost and lost[-1][1] == a:
            a = lost.pop()[0]
        lost.append((a, b))
    if not lost:
        return None
    marked = lost_rows_fill(reader.header) is not None
    fill = bool(reader.lost) and (marked or reader.hold_lost)
    first = min(reader.lost, default=count)
    rows = (n if count >= declared else count * frame_len) if fill else min(n, first * frame_len)
    return Salvaged(count - len(damaged), declared, rows, n, tuple(lost), fill, fill and not marked)


def _check_work(reader: SanReader, layout: FileLayout, limits: DecodeLimits, salvage: bool = False
                ) -> tuple[int, Salvaged | None]:
    """Refuse a file whose declared samples, frames or SAN work its size cannot justify; the rows its frames hold
    (with ``salvage``, a reader's frames found intact: the rows read; else every row), and with ``salvage`` what
    survives where frames are lost (:func:`salvaged_of`; else None)."""
    n, c = layout.n_samples, layout.n_channels
    declared = declared_frames(n, layout.frame_len)
    found = salvaged_of(reader, n, layout.frame_len) if salvage and reader.n_frames <= declared else None
    if found is not None:
        if not found.frames:
            raise SanFormatError(f"no frame survives (the header declares {declared}): nothing to salvage")
        n = found.rows
    elif reader.n_frames != declared:
        raise SanFormatError(f"{reader.n_frames} frames for {n} samples of {layout.frame_len}")
    payload = sum(length for _, length in reader.index)
    limits.check_values(n * c, payload, "file")
    limits.check_work("channel-frames", reader.n_frames * c, limits.min_channel_frames, 1 / 256, n * c)
    layout.plan.budget = WorkBudget(max(limits.min_activations, 4 * n * c),
                                    max(limits.min_taps, limits.taps_per_value * n * c))
    return n, found


def frame_windows(reader: SanReader, layout: FileLayout, lo: int, hi: int, limits: DecodeLimits,
                  threads: int | None = None, out: np.ndarray | None = None) -> Iterator[tuple[int, DecodedFrames]]:
    """The frames covering samples [lo, hi), decoded a window at a time: ``(first row, frames)``.
    ``out`` (rows [lo, hi)): frames wholly inside it are written there directly."""
    decoder = FrameDecoder(layout.plan, layout.steps, layout.frame_len, layout.n_samples, limits,
                           resolve_threads(threads), out, lo)
    first, last = lo // layout.frame_len, (hi - 1) // layout.frame_len
    step = window_frames(layout.frame_len, layout.n_channels)
    before: np.ndarray | None = None  # the last row decoded (what reader.hold_lost holds over lost rows)
    for w0 in range(first, last + 1, step):
        numbers = range(w0, min(w0 + step, last + 1))
        if reader.lost.isdisjoint(numbers):
            got = decoder.decode_window([(fi, reader.read_frame(fi)) for fi in numbers])
        else:
            got = _with_lost(decoder, reader, layout, numbers, before, out, lo)
        if reader.hold_lost and reader.lost and got.blocks:
            before = _last_row(got, numbers[-1] * layout.frame_len + got.rows[-1], out, lo)
        if layout.gaps is not None or layout.floors is not None:  # formats 1.15 and 1.16: samples above their
            row = w0 * layout.frame_len  # floor, then each gap run's value over what the frames decoded there
            for fi, block, rows in zip(numbers, got.blocks, got.rows):
                if fi in reader.lost:  # (its rows' gap values: no floor raises them)
                    row += rows
                    continue
                held = block if block is not None else None if out is None else out[row - lo : row - lo + rows]
                if held is None:  # (a frame is written into out only where out is given)
                    raise RuntimeError("a frame was decoded into no array")
                if layout.floors is not None:
                    apply_floors(layout.floors, held)
                if layout.gaps is not None:
                    apply_gaps(layout.gaps, held, row)
                row += rows
        yield w0 * layout.frame_len, got


def _with_lost(decoder: FrameDecoder, reader: SanReader, layout: FileLayout, numbers: range,
               before: np.ndarray | None, out: np.ndarray | None, lo: int) -> DecodedFrames:
    """Frames ``numbers`` decoded where intact, and for each of :attr:`SanReader.lost` (a salvaging reader's damaged
    frames) a block of each channel's gap value (``gaps.lost_rows_fill``), or with :attr:`SanReader.hold_lost`
    where there is none, of the last row decoded before it (``before``: the window's before its first frame; 0
    where none was: a decode that starts there). ``out`` and ``lo``: the decoder's, where intact frames' rows go."""
    fill = lost_rows_fill(reader.header)
    if fill is None and not reader.hold_lost:  # (Salvaged's rows stop at the first lost frame: no gap value)
        raise SanFormatError(f"frame {min(reader.lost & set(numbers))} is damaged (its rows are lost)")
    blocks: list[np.ndarray | None] = []
    rows: list[int] = []
    activations, codings = 0, Counter[str]()
    for damaged, grouped in itertools.groupby(numbers, key=lambda fi: fi in reader.lost):
        run = list(grouped)
        if damaged:
            held = np.zeros(layout.n_channels, dtype=np.int64) if before is None else before
            for fi in run:
                size = min(layout.frame_len, layout.n_samples - fi * layout.frame_len)
                value = fill if fill is not None else held
                blocks.append(np.broadcast_to(value, (size, len(value))).copy())
                rows.append(size)
            continue
        got = decoder.decode_window([(fi, reader.read_frame(fi)) for fi in run])
        before = _last_row(got, run[-1] * layout.frame_len + got.rows[-1], out, lo)
        blocks += got.blocks
        rows += got.rows
        activations += got.activations
        codings += got.codings
    return DecodedFrames(blocks, rows, activations, codings)


def _last_row(got: DecodedFrames, end: int, out: np.ndarray | None, lo: int) -> np.ndarray | None:
    """A copy of the last row of frames ``got`` (whose rows end at ``end``), from its last block or, where that frame
    was written into the decoder's ``out`` (from row ``lo``), from there; None where it is in neither."""
    block = got.blocks[-1]
    row = block[-1] if block is not None else None if out is None else out[end - 1 - lo]
    return None if row is None else row.copy()


def _decode_frames(reader: SanReader, layout: FileLayout, lo: int, hi: int, limits: DecodeLimits,
                   threads: int | None) -> tuple[np.ndarray, int, Counter]:
    """Samples [lo, hi) of every channel as int64, the activation count and the coding counts."""
    out = np.empty((hi - lo, layout.n_channels), dtype=np.int64)  # every row is written below
    activations, codings = 0, Counter[str]()
    for row, got in frame_windows(reader, layout, lo, hi, limits, threads, out):
        for block, rows in zip(got.blocks, got.rows):
            if block is not None:  # a frame the range cuts: copy its overlap
                a, b = max(lo, row), min(hi, row + rows)
                out[a - lo : b - lo] = block[a - row : b - row]
            row += rows
        activations += got.activations
        codings += got.codings
    return out, activations, codings


def sample_range(start: int | None, end: int | None, n: int) -> tuple[int, int]:
    """``[start, end)`` of a record of ``n`` samples as plain ints (None: its ends), refused unless both are whole
    indices (a numpy integer is one; 5.5 is not, where it had been cut to 5) with ``0 <= start < end <= n``."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not is_whole(value):
            raise SanConfigError(f"{name} must be a whole sample index, got {value!r}")
    lo, hi = 0 if start is None else int(start), n if end is None else int(end)
    if 0 <= hi <= lo <= n:  # (an empty or reversed range within the record was said to be outside it)
        raise SanConfigError(f"sample range [{lo}, {hi}) is empty: end must come after start")
    if not 0 <= lo < hi <= n:
        raise SanConfigError(f"sample range [{lo}, {hi}) is outside the record's [0, {n})")
    return lo, hi


def decode_file(
    source: BinaryIO | bytes, start: int | None = None, end: int | None = None, model: SanSpec | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS, threads: int | None = None, salvage: bool = False,
    hold_lost: bool = False,
) -> DecodedFile:
    """Decode samples [start, end) reading only the frames that cover them.

    Nothing in the file is trusted: the header is checked against its schema, declared work
    against ``limits`` (raise them for files you trust), and every integer against overflow. ``salvage``: a
    truncated file, or one whose index or a frame is damaged, decodes every frame that is intact (from the index,
    or walked from the header where it is lost: :meth:`SanReader._walk_frames`), a damaged frame's rows each
    channel's invalid sample (a gap) where every channel has one (a WFDB record's, a CSV's with gaps:
    ``gaps.lost_rows_fill``), else as far as the first damaged one. [start, end) within the rows readable (``end``
    by default the last readable from ``start``: :func:`salvaged_range`), ``DecodedFile.salvaged`` what survives
    (:class:`Salvaged`). ``hold_lost``, with ``salvage``: where there is no invalid sample, a damaged frame's rows
    hold each channel's last row before them (0 where none is decoded before them) rather than end the rows read:
    for an output that marks them otherwise (EDF and BDF annotate them ``BAD_ACQ_SKIP``)."""
    reader = SanReader(source, limits, salvage=salvage)
    reader.hold_lost = salvage and hold_lost
    layout = from_header(reader.header, model, limits)
    warn_unused_model(layout, model)
    found = _check_work(reader, layout, limits, salvage)[1]
    if found is not None:
        lo, hi = salvaged_range(found, start, end, layout.n_samples)
        decoded = decoded_range(reader, layout, lo, hi, limits, threads)
        decoded.salvaged = found
        return decoded
    return decoded_range(reader, layout, start, end, limits, threads)


def salvaged_range(found: Salvaged, start: int | None, end: int | None, n: int) -> tuple[int, int]:
    """``[start, end)`` of a salvaged record of ``n`` rows (:func:`sample_range`), ``end`` by default the last row
    readable from ``start`` on; refused where it reaches rows lost with their frames (:meth:`Salvaged.blocking`)."""
    if not found.rows and start is None and end is None:  # (nothing before the damage: say so, not the range's)
        raise SanFormatError(nothing_before(found))
    lo, asked = sample_range(start, end, n)
    blocking = found.blocking()
    hi = asked if end is not None else min([asked, *(a for a, _ in blocking if a > lo)])
    for a, b in blocking:
        if a < hi and lo < b:
            raise SanConfigError(f"sample range [{lo}, {asked}) reaches rows [{a}, {b}) of the record's {n}, lost with "
                                 f"their frames: the rows readable are {_readable(found)}")
    return lo, hi


def nothing_before(found: Salvaged) -> str:
    """Why a salvaging read whose first frame is lost, without an invalid sample to mark its rows, reads no row
    before the damage, and what it can read."""
    return (f"frame 0 is damaged and the channels have no invalid sample to mark its rows with, so no row comes "
            f"before the damage: the rows intact are {_readable(found)} (decode them as a range; decoded to EDF or "
            "BDF, the lost rows are held and annotated)")


def _readable(found: Salvaged) -> str:
    """The row ranges a salvaging read reaches: those read, and those intact past them."""
    return _ranges([(x, y) for x, y in [(0, found.rows), *found.intact_after()] if x < y])


def salvage_extent(source: BinaryIO | bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Salvaged | None:
    """What ``decode_file(source, salvage=True)`` finds of a damaged file, without decoding it (:class:`Salvaged`);
    None where the preamble or header is damaged too (nothing can be salvaged), its fields are out of shape, or it
    holds more frames than its header declares."""
    try:
        reader = SanReader(source, limits, salvage=True)
        n = header_int(reader.header, "n_samples", 1, 1 << 40)
        frame_len = header_int(reader.header, "frame_len", 16, 1 << 24)
    except SancodecError:
        return None
    if reader.n_frames > declared_frames(n, frame_len):
        return None
    return salvaged_of(reader, n, frame_len) or Salvaged(reader.n_frames, reader.n_frames, n, n)


#: salvage's figures (:class:`Salvaged`, ``DecodedFile.salvaged``) as JSON names them
SALVAGE_FIELDS = ("frames", "of", "rows", "samples")


def salvage_json(found: Salvaged) -> dict[str, Any]:
    """:class:`Salvaged` as JSON gives it: :data:`SALVAGE_FIELDS`, and the row ranges lost and whether those read
    are gaps."""
    return {**dict(zip(SALVAGE_FIELDS, found)), "lost": [list(r) for r in found.lost], "gaps": found.gaps,
            "held": found.held}


def salvage_text(found: Salvaged, of_record: bool = False) -> str:
    """Salvage's figures in words: "76 of its 159 frames are intact, rows [0, 311296)" (``of_record``: "... of its
    650000"), and how rows lost amid them are read (as gaps), or which rows past the damage are intact too."""
    record = f" of its {found.samples}" if of_record else ""
    read = f", rows [0, {found.rows}){record}" if found.rows else ""  # (frame 0 lost, no invalid sample: none read)
    return f"{found.frames} of its {found.of} frames are intact{read}{_lost_words(found)}"


def _lost_words(found: Salvaged) -> str:
    """What :func:`salvage_text` adds to its figures: the rows lost among those read (as gaps), or the rows intact
    past those read."""
    within = [r for r in found.lost if r[1] <= found.rows]
    if within and found.held:
        return (f"; rows {_ranges(within)} among them are lost with their frames, each channel holding its last value "
                "before them (annotated as no data where the output can)")
    if within and found.gaps:
        return f"; rows {_ranges(within)} among them are gaps (lost with their frames: each channel's invalid sample)"
    after = found.intact_after()
    if after:
        lost = _ranges([r for r in found.lost if r[0] >= found.rows])
        return f"; rows {lost} are lost, rows {_ranges(after)} past them intact (a decode of a range reads them)"
    return ""


def _ranges(ranges: Sequence[tuple[int, int]]) -> str:
    """Row ranges in words: "[0, 4096), [8192, 12288)" (the first 4, then how many more)."""
    said = ", ".join(f"[{a}, {b})" for a, b in ranges[:4])
    return said + (f" and {len(ranges) - 4} more" if len(ranges) > 4 else "")


def decoded_range(reader: SanReader, layout: FileLayout, start: int | None, end: int | None, limits: DecodeLimits,
                  threads: int | None) -> DecodedFile:
    """:func:`decode_file` of a file whose reader and layout are made and checked already (``sancodec.SanFile``'s):
    samples [start, end) as a Signal, its header fields, annotations and source cut to the range."""
    n = layout.n_samples
    lo, hi = sample_range(start, end, n)
    out, activations, codings = _decode_frames(reader, layout, lo, hi, limits, threads)
    signal_head = {**layout.signal_head, "annotations": layout.annotations(limits)}
    crcs = layout.sample_crc32 if lo == 0 and hi == n and not reader.lost else None  # (a lossless file's, of its
    # samples: a salvaged file's rows, some lost, fail them)
    if layout.quantum is not None or layout.float32:
        if crcs is not None:  # (a lossless file of floats on a step, 1.17, or of float32 values, 1.18: of its integers)
            check_sample_checksums(parallel_checksums(out, resolve_threads(threads)), crcs)
        samples: np.ndarray = float_values(out, layout)
    else:
        samples = clip_to_format(out, signal_head.get("fmt"))
        if reader.header.get("mode") != "lossless":  # (an EDF source's own range: its writer refuses past it)
            samples = clip_to_source_ranges(samples, signal_head)
        if crcs is not None:
            check_sample_checksums(parallel_checksums(samples, resolve_threads(threads)), crcs)
    if lo != 0 or hi != n or reader.lost:  # (a salvaged file's rows: the whole record's checksums and header text
        signal_head = slice_header(signal_head, lo, hi, n)  # are not theirs)
    from sancodec.io.arrays import array_dtype_name  # (io.arrays imports the codec package: not at the top)
    from sancodec.io.decimals import FLOAT32_NAMES

    # (a float32 array's lossy or near-lossless decode, which io.arrays.as_source_array writes as float32 unless it is
    # marked float64 here: codec.float32promise)
    source = signal_head.get("source")
    if weighs_float32(layout, source):
        if array_dtype_name(source) in FLOAT32_NAMES and not keeps_promise(samples, reader.header, layout.quantum):
            signal_head = {**signal_head, "source": {**signal_head["source"], "dtype": "<f8"}}  # written as float64
        elif _float32_wav(source) and keeps_promise(samples, reader.header, layout.quantum):  # a float32 WAV's as
            samples = samples.astype(np.float32).astype(np.float64)  # float32 values, which its writer writes so
    signal = Signal.from_header(signal_head, samples)
    return DecodedFile(signal, reader.header, lo, hi, activations, reader.frames_read, dict(codings))


def weighs_float32(layout: FileLayout, source: object) -> bool:
    """Whether :func:`decoded_range` weighs all of a file's values for float32 before it says how they are written: a
    lossy or near-lossless file of floats whose source (a header's, not trusted) is a float32 array's or a 32-bit
    float WAV's (``codec.float32promise``). A decode a window at a time (``stream.decoded_on_disk``) leaves such a
    file to it."""
    from sancodec.io.arrays import array_dtype_name  # (io.arrays imports the codec package: not at the top)
    from sancodec.io.decimals import FLOAT32_NAMES

    return layout.quantum is not None and not layout.float32 and \
        (array_dtype_name(source) in FLOAT32_NAMES or _float32_wav(source))


def _float32_wav(source: object) -> bool:
    """Whether a ``.san`` header's source (not trusted: anything else is no) is a WAV of 32-bit floats, whose lossy
    or near-lossless decode goes back to float32 where that keeps the file's promise (``codec.float32promise``): its
    writer then writes them at their source's 32 bits (``io.wav``), where 64-bit floats doubled the file."""
    wav = source.get("wav") if isinstance(source, dict) and source.get("kind") == "wav" else None
    return isinstance(wav, dict) and wav.get("float") is True and wav.get("bits") == 32


def decode(data: bytes, start: int | None = None, end: int | None = None, *,
           model: SanSpec | str | os.PathLike[str] | None = None, limits: DecodeLimits = DEFAULT_LIMITS,
           threads: int | None = None, salvage: bool = False) -> Signal:
    """Decode ``.san`` bytes (optionally samples [start, end) only) into a :class:`Signal`; ``model``: the SAN of a
    file that only references its model (``encode(..., embed_model=False)``), a :class:`SanSpec` or the path of a
    model file or exported folder; ``limits`` caps what the file may ask for (raise them for files you trust);
    ``threads``: frames decoded at once (default: every core); ``salvage``: a truncated file, or one whose index is
    damaged, decoded as far as its frames are intact (:func:`decode_file`; a :class:`SancodecWarning` says which
    rows, where frames were lost)."""
    decoded = decode_file(data, start, end, given_model(model), limits=limits, threads=threads, salvage=salvage)
    if decoded.salvaged is not None:
        warnings.warn(salvaged_words(decoded.salvaged), SancodecWarning, stacklevel=2)
    return decoded.signal


def salvaged_words(found: Salvaged) -> str:
    """What a salvaging read of a damaged file keeps (:class:`Salvaged`), in words: :func:`salvage_text` of the
    record's rows, and where nothing past the rows read is intact, that the rest is lost."""
    rest = ": the rest is lost" if found.rows != found.samples and not found.intact_after() else ""
    return f"{salvage_text(found, of_record=True)}{rest}"


def read_info(source: BinaryIO | bytes, limits: DecodeLimits = DEFAULT_LIMITS, salvage: bool = False
              ) -> dict[str, Any]:
    """Header (checked against the format's schema), frame count and sizes of a ``.san`` (``payload_bytes``:
    its frames' payloads, the rest being header and framing), without decoding samples (``salvage``: the frames
    found intact, as :func:`decode_file` finds them, each read to check it)."""
    reader = SanReader(source, limits, salvage=salvage)
    check_header(reader.header, limits)
    return {"header": reader.header, "frames": reader.n_frames - len(reader.lost), "bytes": reader.size,
            "version": reader.version, "payload_bytes": reader.payload_bytes}


def read_header(source: BinaryIO | bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """A ``.san``'s header, checked against the format's schema, without reading its index or a frame (a file cut
    short, or damaged past its header, gives it too: what decode --salvage reads before it decodes)."""
    header = SanReader(source, limits, header_only=True).header
    check_header(header, limits)
    return header


def encode_file(signal: Signal, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Encode to ``path`` atomically (temp file, then rename); returns the file size."""
    _check_option_names("encode_file", {k: v for k, v in kwargs.items() if k not in ("model", "mode", "max_error")})
    data = encode(signal, **kwargs)
    write_bytes_atomic(path, data)
    return len(data)
