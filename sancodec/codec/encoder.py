"""Incremental encoding: rows in, frame payloads out, the header once the last row is known.

``SanEncoder`` is the one encoder of the non-target modes (lossless, near-lossless, ``san``):
``sancodec.encode`` feeds it the whole signal, the streaming writer (``sancodec.open(path,
"w")``) feeds it blocks. It holds at most one window of frames (``pipeline.encode_window_frames``) and
cuts frames at the same places whatever the block sizes, so both write identical bytes.
Lossy coding at a target is ``api``'s (the record at once) and ``lossystream``'s (streamed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from sancodec.codec.container import FRAME_HEAD
from sancodec.codec.floatgrid import folded_ints, integers_on, off_steps
from sancodec.codec.frames import FramePlan, quantized_kernels
from sancodec.codec.header import from_header, sample_checksums, to_header
from sancodec.codec.limits import DEFAULT_LIMITS
from sancodec.codec.neargrid import NearGrid
from sancodec.codec.pipeline import FrameEncoder, encode_window_frames, resolve_threads
from sancodec.codec.prepare import check_options, digitize, resolve_model, whole_frames
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal

__all__ = ["DEFAULT_FRAME", "DEFAULT_STEP", "NOTHING_WRITTEN", "SanEncoder", "header_frame_len"]

DEFAULT_FRAME = 1 << 17  # measured: fewer entropy tables and stage warm-ups, smaller and faster than 2^15
DEFAULT_STEP = 0.02


def header_frame_len(n: int, frame_len: int, frame_size: int) -> int:
    """``frame_len``, or the format's default 2^15 where that gives the same single frame (a record of
    at most 2^15 rows): the binary header then leaves the field out."""
    default = 1 << 15
    return default if n <= min(default, frame_len) and default % frame_size == 0 else frame_len


NOTHING_WRITTEN = "nothing to encode: no samples were written"
LOSSY_NEEDS_THE_RECORD = ("SanEncoder codes lossless, near-lossless and san modes; lossy at a target is "
                          "sancodec.encode's, or codec.lossystream's for rows streamed in (sancodec.open(path, 'w', "
                          "codec='lossy', prdn=2))")


class SanEncoder:
    """Encode rows of ``like``'s channels (its metadata goes in the header; its samples are ignored)."""

    def __init__(self, like: Signal, model: SanSpec | str | os.PathLike[str] | None = None,
                 mode: str = "lossless", max_error: float | None = None, *, frame_len: int | None = None,
                 amplitude_step: float = DEFAULT_STEP, embed_model: bool = True, predictor: str = "auto",
                 threads: int | None = None, verify: bool = True) -> None:
        if mode == "lossy":
            raise SanConfigError(LOSSY_NEEDS_THE_RECORD)
        frame_len = DEFAULT_FRAME if frame_len is None else frame_len
        frame_len = check_options(mode, max_error, predictor, amplitude_step, frame_len)
        self.frame_len = whole_frames(frame_len, like.frame_size)  # multi-frequency: frames hold whole WFDB frames
        self.like, self.mode, self.max_error = like, mode, max_error
        self._block_head = like.header_dict() | {"annotations": []}  # what each block's Signal is built from
        self.file_mode = "lossy" if mode == "san" else mode
        spec = resolve_model(model)
        self.embed_model, self.verify = embed_model, verify
        self.threads = resolve_threads(threads)
        self._window = encode_window_frames(self.frame_len, like.n_channels, self.threads) * self.frame_len  # rows
        self.plan = FramePlan(self.file_mode, 0, amplitude_step, spec, quantized_kernels(spec), predictor)
        self.quantum: list[float] | None = None
        self.float32 = False  # format 1.18: float32 samples (on the quantum's steps, or their bits), decoded so
        self.near: list[NearGrid] | None = None  # format 1.19: float64 samples near the quantum's steps
        self.emax = 0
        self._coder: FrameEncoder | None = None
        self._digitized = False
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []  # (digital, source) blocks not yet coded
        self._held = 0
        self.n = 0
        self._crcs = [0] * like.n_channels
        self.uses_model = False
        self.minor = 3  # format 1.3 (the binary header), 1.4 once a frame uses an LMS stage, 1.5 running contexts
        self._payload_bytes = 0  # frame heads and payloads, as the decoder's work limits count them
        self.inexact = [False] * like.n_channels  # per channel: whether a frame codes it other than exactly

    def _start(self, quantum: list[float] | None, emax: int, float32: bool = False,
               near: list[NearGrid] | None = None) -> None:
        self.quantum, self.emax, self.near = quantum, emax, near
        self.float32 = float32 and self.file_mode == "lossless"  # (without a quantum: their bits)
        self.plan.max_error = emax
        self._coder = FrameEncoder(self.plan, self.like.sample_steps(), quantum, self.like.fmt,
                                   self.max_error or 0, self.threads, self.verify)

    def _digitize(self, rows: np.ndarray) -> np.ndarray:
        """A streamed block's integers; its grid must be the first block's (fixed for these modes; a lossless block of
        floats on the first block's steps, ``floatgrid``, is taken on them)."""
        if rows.dtype.kind == "f" and not np.isfinite(rows).all():  # (Signal's own refusal blames a header)
            raise SanConfigError(f"a {self.mode} stream takes finite values: this block holds NaN or an infinity")
        block = Signal.from_header(self._block_head, rows)
        if self.file_mode == "lossless" and self.float32 and self.quantum is None and not block.is_digital:
            if np.asarray(rows).dtype != np.float32:
                raise SanConfigError("a lossless file of float32 values takes float32 blocks only")
            return folded_ints(rows)
        if self.file_mode == "lossless" and self.quantum is not None and not block.is_digital:
            x = np.asarray(rows, dtype=np.float32 if self.float32 else np.float64)
            if off_steps(x, self.quantum) is not None:
                raise SanConfigError("lossless coding of floats on a step needs every block on the first block's "
                                     f"steps {self.quantum}; this one is not (use sancodec.encode on the whole signal)")
            return integers_on(x.astype(np.float64), self.quantum)
        digital, quantum, emax, _ = digitize(block, self.file_mode, self.max_error, near=False, float32_room=False)
        if self._coder is None:
            self._start(quantum, emax, block.samples.dtype == np.float32)
        elif quantum != self.quantum and self.mode == "san":
            raise SanConfigError("san mode of floating-point samples needs the whole signal (its grid comes "
                                 "from the record's spread); use sancodec.encode")
        elif quantum != self.quantum:  # (near-lossless: integers on no grid, floats on max_error's)
            kinds = ("integers", "floats") if self.quantum is None else ("floats", "integers")
            raise SanConfigError(f"a {self.mode} stream takes blocks of one kind: the first were {kinds[0]}, "
                                 f"this one holds {kinds[1]}")
        return digital

    def start_digitized(self, quantum: list[float] | None, emax: int, float32: bool = False,
                        near: list[NearGrid] | None = None) -> None:
        """Declare that rows come already digitised on this grid (the whole-signal API: ``push(digital,
        source)``); ``float32``: a lossless file's floats are float32, on the grid or (``quantum`` None) as their
        bits (``digitize`` of float32 samples, ``floatgrid.folded_ints``), which its decode gives back
        (format 1.18); ``near``: a lossless file's float64 values are near each channel's step, each integer a count
        and a correction (``codec.neargrid``, format 1.19)."""
        self._start(quantum, emax, float32, near)
        self._digitized = True

    def push(self, rows: np.ndarray, source: np.ndarray | None = None) -> Iterator[bytes]:
        """Add rows (samples x channels); yields the payloads of every window this completes."""
        rows = np.asarray(rows)
        if rows.ndim == 1:
            rows = rows[:, None]
        if rows.ndim != 2 or rows.shape[1] != self.like.n_channels:
            raise SanConfigError(f"write() takes (samples, {self.like.n_channels}) blocks, got shape {rows.shape}")
        if not len(rows):
            return
        if self._digitized:
            digital = rows
        else:
            digital, source = self._digitize(rows), rows
        self._rows.append((digital, rows if source is None else source))
        self._held += len(rows)
        self.n += len(rows)
        while self._held >= self._window:
            yield from self._code(self._window)

    @property
    def taken(self) -> int:
        """The rows :meth:`push` has taken (coded or held)."""
        return self.n

    def finish(self) -> Iterator[bytes]:
        """The payloads of the frames still held (the last one may be short)."""
        if self.n == 0:
            raise SanConfigError(NOTHING_WRITTEN)
        if self.n % self.like.frame_size:
            raise SanConfigError(f"a multi-frequency signal needs whole frames of {self.like.frame_size} samples, "
                                 f"got {self.n}")
        while self._held:
            yield from self._code(min(self._held, self._window))

    def _code(self, count: int) -> Iterator[bytes]:
        joined = len(self._rows) > 1
        digital = np.concatenate([d for d, _ in self._rows]) if joined else self._rows[0][0]
        if joined and all(_same_values(d, s) for d, s in self._rows):  # integers coded as they came: their source
            digital.flags.writeable = False  # is the same array, joined once (a 20-channel EDF's window of rows,
            source = digital  # not twice)
        else:
            source = np.concatenate([s for _, s in self._rows]) if joined else self._rows[0][1]
        now, later = digital[:count], digital[count:]
        self._rows = [(later, later if source is digital else source[count:])] if len(later) else []
        self._held = len(later)
        held = Signal.from_header(self._block_head, now)
        held.check_frames("encode")
        self._crcs = sample_checksums(now, self._crcs)
        assert self._coder is not None
        for coded in self._coder.encode_window(now.astype(np.int64, copy=False), source[:count], self.frame_len):
            self.uses_model |= coded.uses_model
            self.minor = max(self.minor, coded.minor)
            self.inexact = [a or b for a, b in zip(self.inexact, coded.inexact)] if coded.inexact else self.inexact
            self._payload_bytes += FRAME_HEAD.size + len(coded.payload)
            yield coded.payload

    def header(self) -> tuple[dict, int]:
        """The file's header and format minor version (call after :meth:`finish`)."""
        frame_len = header_frame_len(self.n, self.frame_len, self.like.frame_size)
        header = to_header(self.like, self.plan, frame_len=frame_len, n=self.n,
                           max_error=self.emax if self.quantum is None else self.max_error, quantum=self.quantum,
                           crcs=self._crcs if self.mode == "lossless" else None, uses_model=self.uses_model,
                           embed_model=self.embed_model, float32=self.float32, near=self.near)
        try:
            from_header(header, self.plan.spec)  # a header the decoder would refuse is never written
            DEFAULT_LIMITS.check_values(self.n * self.like.n_channels, self._payload_bytes, "file")
        except SanFormatError as exc:
            raise SanConfigError(f"this signal cannot be coded faithfully ({exc}); nothing was written") from None
        return header, self.minor


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are the same values in the same memory (an int64 block and the view of it that
    ``digitize`` codes)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides and \
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
