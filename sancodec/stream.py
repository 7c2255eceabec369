"""File objects in the style of soundfile: ``sancodec.open(path, "w", ...)`` and ``sancodec.open(path)``.

Memory is bounded by a window of frames (the writer's ``codec.pipeline.encode_window_frames``: about 2^21
samples over the channels; the reader's ``window_frames``: 2^20 rows, or 2^21 samples over many channels), not by
the record: the writer spools coded frames to a temp file beside the target and writes the container (header
first, with the sample count and checksums only known at the end) when it is closed; the reader decodes the frames
a request covers, a window at a time, and gives them a frame at a time. Samples come back in the narrowest
integer type their WFDB format allows (int16 for formats 16 and 212), a
decimal source's (a CSV's ``0.0617``, or a stream written with ``decimals=``) as its float values.
Floats stream losslessly where each channel's decimals are declared: ``decimals=3`` (or one per
channel) holds every value as an integer of 10^-3 and refuses a block with a value off that grid; a NaN
is a gap, held as format 32's invalid sample and read back as NaN.

    with sancodec.open("rec.san", "w", like=signal) as f:   # metadata from a Signal
        for block in blocks:
            f.write(block)
    with sancodec.open("rec.san") as f:
        for block in f.blocks(65536):
            ...
"""

from __future__ import annotations

import builtins
import datetime
import inspect
import io
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np

from sancodec._atomic import move_into_place, said_of_output, temp_folder
from sancodec._mapped import new_mapped_npy
from sancodec.codec.api import (
    DecodedFile,
    _check_work,
    decoded_range,
    frame_windows,
    nothing_before,
    salvaged_words,
    sample_range,
    weighs_float32,
)
from sancodec.codec.container import SanReader, write_container
from sancodec.codec.encoder import SanEncoder
from sancodec.codec.floatgrid import folded_ints, integers_on, off_steps
from sancodec.codec.gaps import Gaps, block_lows, floors, invalid_values, joined, near_lossless_fields, rows_gaps
from sancodec.codec.header import (
    FileLayout,
    check_sample_checksums,
    file_mode,
    float_values,
    from_header,
    sample_checksums,
    warn_unused_model,
)
from sancodec.codec.limits import DEFAULT_LIMITS, DecodeLimits
from sancodec.codec.lossy import LossyTarget
from sancodec.codec.lossystream import LossyStreamEncoder
from sancodec.codec.pipeline import window_frames
from sancodec.codec.prepare import given_model
from sancodec.codec.schema import is_real, is_whole
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError, SanFormatError
from sancodec.framecache import FrameCache
from sancodec.io.arrays import array_dtype_name, as_float16, decimal_dtype, in_dtype, source_dtype
from sancodec.io.decimals import (
    FLOAT16_NAMES,
    MISSING_VALUES,
    NEGATIVE_ZEROS,
    declared_places,
    header_decimals,
    missing_of,
    negative_zero_rows,
    negative_zero_runs,
    put_negative_zeros,
    units_at,
    with_decimals,
)
from sancodec.io.edf import clip_to_source_ranges
from sancodec.io.remote import is_url, opened_url
from sancodec.io.wfdb import clip_to_format, narrow_dtype
from sancodec.rowkey import named_channels, rows_for
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal, recording_start, slice_header

__all__ = ["SanFile", "SanWriter", "decoded_on_disk", "open"]

STREAM_GAP = MISSING_VALUES[1]  # a decimal stream's NaN: format 32's invalid sample (a stream's range is not known
# ahead, so not format 16's), its values within 32 bits where it has gaps
GATHER_BLOCK = 1 << 16  # rows an index that names rows apart (a stepped slice, a list) reads at a time
CACHE_BYTES = 1 << 25  # a SanFile keeps the frames its reads decoded in up to this many bytes (its cache_bytes), the
# least recently used dropped first (framecache.FrameCache): rows at random over mitdb 100 (1.3 M int16 values, 2.6 MB)
# decode each frame once (benchmarks/bench_row_reads.py)


def open(path: str | os.PathLike[str] | BinaryIO | bytes, mode: str = "r", *, like: Signal | None = None,
         fs: float | None = None, channels: int | None = None, **options: Any) -> SanFile | SanWriter:
    """``mode="r"``: a :class:`SanFile` (``model``, ``limits``, ``threads``, ``cache_bytes``, ``salvage``) of a path,
    a URL (fsspec's: only the frames asked for are fetched), a binary file object (read and seek) or a file's bytes.
    ``mode="w"``: a :class:`SanWriter` for channels described by ``like`` (a Signal whose metadata is copied) or
    by ``fs`` and ``channels``; further options as :class:`SanWriter` (``codec``, ``max_error``, ``decimals``,
    ``prdn``...)."""
    if mode not in ("r", "w"):
        raise SanConfigError(f"open() mode must be 'r' or 'w', got {mode!r}")
    _check_mode_options(mode, {"like": like, "fs": fs, "channels": channels, **options})
    if mode == "r":
        return SanFile(path, **options)
    if is_url(path):
        raise SanConfigError(f"{path}: open(..., 'w') writes to a local path (the file appears there whole when "
                             "closed), not to a URL: write it here, then copy it")
    if _is_stream(path):
        raise SanConfigError("open(..., 'w') writes to a path (the file appears there whole when closed), not to a "
                             "file object: sancodec.encode(signal) gives the bytes to write anywhere")
    where = cast("str | os.PathLike[str]", path)  # (neither a URL nor a stream: a local path)
    if like is not None and (fs is not None or channels is not None):  # (they were ignored: like's were taken)
        raise SanConfigError("open(path, 'w') takes like=<Signal> or fs= and channels=, not both (like= brings its "
                             "own rate and channels)")
    if like is None:
        if fs is None or channels is None:
            raise SanConfigError("open(path, 'w') needs like=<Signal> or both fs= and channels=")
        if not is_whole(channels) or channels < 1:
            raise SanConfigError(f"open(path, 'w') needs a whole number of channels >= 1, got {channels!r}")
        like = Signal(np.zeros((1, int(channels)), dtype=np.int64), float(fs), [f"ch{i}" for i in range(channels)],
                      [""] * int(channels))
        writer = SanWriter(where, like, **options)
        writer._as_array = True  # blocks of a numpy array: its integer type kept as an array's is (close)
        return writer
    return SanWriter(where, like, **options)


@lru_cache(maxsize=1)
def mode_options() -> tuple[frozenset[str], frozenset[str]]:
    """The options only a reader takes (:class:`SanFile`'s), and those only a writer takes (:class:`SanWriter`'s, and
    :func:`open`'s ``fs`` and ``channels``), read off their signatures once."""
    reader = set(inspect.signature(SanFile.__init__).parameters) - {"self", "path"}
    writer = set(inspect.signature(SanWriter.__init__).parameters) - {"self", "path"}
    return frozenset(reader - writer), frozenset((writer - reader) | {"fs", "channels"})


def _check_mode_options(mode: str, given: dict[str, Any]) -> None:
    """Refuse, in words, options of the other mode: a reader given ``prdn=`` or ``like=`` (a writer meant, without its
    ``"w"``: ``like=`` was taken in silence and the file opened to read), a writer given ``cache_bytes=``."""
    other = mode_options()[0 if mode == "w" else 1]
    wrong = [name for name, value in given.items() if name in other and value is not None]
    if wrong:
        meant, this = (("writing", "w"), "read") if mode == "r" else (("reading", "r"), "write")
        raise SanConfigError(f"{'=, '.join(wrong)}= {'is' if len(wrong) == 1 else 'are'} for {meant[0]} a .san: "
                             f"open(path, {meant[1]!r}, ...) (this call opens it to {this})")


def declared_steps(step: object, codec: str, decimals: object, channels: int) -> list[float]:
    """A writer's ``step=``: one positive finite number, or one per channel, for lossless or lossy coding without
    ``decimals=``; a :class:`SanConfigError` for anything else."""
    if codec not in ("lossless", "lossy") or decimals is not None:
        raise SanConfigError("step= is for lossless or lossy coding of floats on a step, without decimals=")
    steps = list(step) if isinstance(step, (list, tuple, np.ndarray)) else [step] * channels
    if len(steps) != channels or not all(is_real(v) and 0 < float(v) <= 1e300 for v in steps):
        raise SanConfigError(f"step must be a positive finite number, or one per channel ({channels}), got {step!r}")
    return [float(v) for v in steps if is_real(v)]


def on_steps(block: object, steps: list[float], first: int) -> np.ndarray:
    """A streamed block of floats as its integers on ``steps`` (``floatgrid.on_grid``, column by column; float32
    blocks ``on_grid32``); a :class:`SanConfigError` naming the first column off its step (``first``: the block's first
    row in the stream)."""
    x = np.asarray(block)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] != len(steps):
        return x  # (push() names the shape it wants)
    c = off_steps(x, steps)
    if c is not None:
        raise SanConfigError(f"channel {c} of the block at row {first} holds a value that is not a whole "
                             f"multiple of its step {steps[c]!r} (within 2**53 of them); the block is refused")
    return integers_on(x.astype(np.float64), steps)


def check_lossy_options(codec: str, max_error: float | None, predictor: str, targets: dict[str, float | None],
                        effort: str | None, verify: bool | None) -> None:
    """Refuse a writer's options that do not go together: a lossy target, ``effort`` or ``verify`` without
    ``codec="lossy"``, and ``max_error`` or a ``predictor`` with it."""
    given = [name for name, value in targets.items() if value is not None]
    if codec != "lossy":
        extra = given + (["effort"] if effort is not None else []) + (["verify"] if verify is not None else [])
        if extra:
            raise SanConfigError(f"{'=, '.join(extra)}= apply to lossy streaming: open the writer with "
                                 f"codec='lossy' (this one is {codec})")
        return
    if max_error is not None:
        raise SanConfigError("max_error= is near-lossless's bound; lossy streaming takes prdn=, snr= or bps=")
    if predictor != "auto":
        raise SanConfigError(f"predictor {predictor!r} applies to lossless and near-lossless streaming, not lossy")


class SanWriter:
    """Streams blocks into a ``.san`` file; nothing appears at ``path`` until :meth:`close` succeeds. ``decimals``
    (lossless): floating-point blocks whose values have at most that many decimals (one number, or one per channel),
    held exactly as integers with a gain of 10^d, as ``sancodec.encode`` holds a CSV's decimals. Near-lossless: each
    channel-frame is coded exactly where that is smaller, but the header's runs of the record's invalid samples are
    not weighed against a lossless file, which the writer, holding no block once coded, cannot make:
    ``sancodec.encode`` and the CLI, which can read the record again, keep whichever file is smaller. ``step``
    (lossless): floating-point blocks whose values are whole multiples of that step (one number, or one per
    channel: counts times a calibration factor, computed in float64), held as those integers and decoded to the same
    doubles (format 1.17, ``codec.floatgrid``), or float32 blocks each the float32 nearest such a multiple, decoded as
    float32 (format 1.18); a block off it is refused (that block alone: :meth:`write`). Float32 blocks with neither
    are held as their bits (format 1.18, ``floatgrid.folded_ints``), float16 ones as the float32s they widen to, read
    back as float16. ``codec="lossy"``
    with ``prdn``, ``snr`` or ``bps`` (and ``effort``, ``verify`` as ``sancodec.encode`` takes them): integer
    samples coded a frame at a time, each frame at the target about its own mean, so the record meets it too
    (``codec.lossystream``; memory: a frame of rows); a record of one frame is ``sancodec.encode``'s very file at
    efforts balanced (the default) and fast. Lossy floats need ``step``: each channel's grid (the file's quantum),
    their PRDN measured against the floats themselves."""

    def __init__(self, path: str | os.PathLike[str], like: Signal, codec: str = "lossless",
                 max_error: float | None = None, *, model: SanSpec | str | os.PathLike[str] | None = None,
                 frame_len: int | None = None, predictor: str = "auto", threads: int | None = None,
                 embed_model: bool = True, fsync: bool = False, decimals: int | Sequence[int] | None = None,
                 step: float | Sequence[float] | None = None, prdn: float | None = None, snr: float | None = None,
                 bps: float | None = None, effort: str | None = None, verify: bool | None = None) -> None:
        self.path = Path(path)
        check_lossy_options(codec, max_error, predictor, {"prdn": prdn, "snr": snr, "bps": bps}, effort, verify)
        self._places: list[int] | None = None
        steps = None if step is None else declared_steps(step, codec, decimals, like.n_channels)
        self._steps = None if codec == "lossy" else steps  # (lossy: the grid its floats are coded on, below)
        self._gaps = False  # whether a decimal stream held a NaN (said in the header at close)
        if decimals is not None:  # floats streamed losslessly: each block's values as integers at fixed places
            if codec != "lossless":
                raise SanConfigError(f"decimals= is for lossless coding of decimal values, not {codec}")
            self._places = declared_places(decimals, like.n_channels)
            self._negative_zeros: list[list[int] | None] = [None] * like.n_channels  # each channel's -0.0 runs
            like = with_decimals(like, self._places, np.zeros((1, like.n_channels), dtype=np.int64))
        self._encoder: SanEncoder | LossyStreamEncoder
        if codec == "lossy":  # a frame coded at the target as soon as it is whole (codec.lossystream)
            self._encoder = LossyStreamEncoder(like, LossyTarget(prdn, snr, bps), effort=effort, frame_len=frame_len,
                                               threads=threads, model=model, embed_model=embed_model, verify=verify,
                                               quantum=steps)
        else:
            encoder = SanEncoder(like, model, codec, max_error, frame_len=frame_len, predictor=predictor,
                                 threads=threads, embed_model=embed_model)
            if self._steps is not None:  # floats on declared steps: each block's integers pushed (write)
                encoder.start_digitized(self._steps, 0)
            self._encoder = encoder
        near = codec == "near-lossless" and like.is_digital  # formats 1.15 and 1.16, as sancodec.encode codes them:
        self._gap_values = invalid_values(like) if near else []  # each block's invalid samples as runs of rows, the
        self._floors = floors(like) if near else []  # other samples decoded above them
        self._block_gaps: list[Gaps] = []
        self._lows = [math.inf] * len(self._floors)  # each channel's least sample outside its gaps
        self._rows = 0
        self._fsync = fsync
        self._folder_cm = temp_folder(self.path)
        self._folder = self._folder_cm.__enter__()
        self._spool = builtins.open(self._folder / "frames", "w+b")
        self._lengths: list[int] = []
        self._as_array = False  # open(path, "w", fs=, channels=): the header says the blocks' integer type (close)
        self._block_type: np.dtype | None = None  # the integer blocks' type so far (their concatenation's) ...
        self._block_rank = 0  # ... and rank: 0 before any block, -1 once ranks differ or a block is anything else
        self._float16: bool | None = None  # whether a lossless stream's blocks are float16 (None before the first)
        self._failed: str | None = None  # the failure that dropped the stream, if one did
        self.closed = False

    @property
    def frames_written(self) -> int:
        return len(self._lengths)

    def __repr__(self) -> str:
        like = self._encoder.like
        return (f"SanWriter({str(self.path)!r}, mode={self._encoder.mode!r}, fs={like.fs!r}, "
                f"channels={like.n_channels}, rows={self._encoder.n}{', closed' if self.closed else ''})")

    def write(self, block: np.ndarray) -> None:
        """Append rows (samples x channels; a 1-D block for one channel). A block refused before the coder takes any
        of its rows (a shape, a type or values the stream cannot hold: a SancodecError) leaves the writer as it was,
        the rows before it kept, as soundfile's writes do; any other failure drops the stream (:meth:`abort`), and
        a later write or :meth:`close` says so."""
        self._check_open("write()")
        if isinstance(block, np.ndarray) and block.dtype.kind == "f" and not block.dtype.isnative:
            block = block.astype(block.dtype.newbyteorder("="))  # (big-endian float32s are float32s too)
        before = self._refusable_state()
        try:
            if self._places is not None:
                block = np.asarray(block)
                block = block[:, None] if block.ndim == 1 else block
                if block.ndim == 2 and block.shape[1] == len(self._places):  # (else push() names the shape it wants)
                    runs = negative_zero_runs(block, self._encoder.n)  # -0.0: the integer 0 has no sign
                    block = units_at(block, self._places, gap=STREAM_GAP)  # NaN: a gap
                    self._gaps = self._gaps or bool((block == STREAM_GAP).any())
                    if runs is not None:
                        self._negative_zeros = [a if b is None else (a or []) + b
                                                for a, b in zip(self._negative_zeros, runs)]
            elif self._steps is not None:
                block = on_steps(self._of_one_kind(block), self._steps, self._encoder.n)
            elif self._encoder.mode == "lossless" and (self._half(block) or np.asarray(block).dtype == np.float32 or
                                                       isinstance(self._encoder, SanEncoder) and self._encoder.float32):
                block = folded_ints(self._of_one_kind(block))
            elif self._encoder.mode == "lossless" and np.asarray(block).dtype.kind == "f":
                raise SanConfigError("lossless streaming takes integers, float32 values, or floats at declared "
                                     "decimals: open the writer with decimals=3 (or one per channel) for values of up "
                                     "to 3 decimals, step=0.195 for counts times that factor, or "
                                     "codec='near-lossless' with max_error in their units")
            self._note_type(block)
            for payload in self._encoder.push(block):
                self._spill(payload)
            if any(v is not None for v in self._gap_values):  # (format 8 has gaps but no floor)
                rows = np.asarray(block)
                rows = rows[:, None] if rows.ndim == 1 else rows
                self._block_gaps.append(rows_gaps(rows, self._gap_values, self._rows))
                self._lows = block_lows(self._lows, rows, self._gap_values, self._floors)
                self._rows += len(rows)
        except SancodecError as exc:
            if (self._encoder.taken, len(self._lengths)) == before[:2]:  # refused whole: the stream as it was
                self._restore(before)
                raise
            self._fail(exc)
            raise
        except BaseException as exc:
            self._fail(exc)
            raise

    def _check_open(self, what: str) -> None:
        """Refuse ``what`` on a writer that is closed, naming the failure that dropped it where one did."""
        if self._failed is not None:
            raise SanConfigError(f"{what} on a SanWriter that an earlier failure dropped ({self._failed}): nothing "
                                 f"was written to {self.path}")
        if self.closed:
            raise SanConfigError(f"{what} on a closed SanWriter")

    def _fail(self, exc: BaseException) -> None:
        """Drop the stream after ``exc``, which a later write or close names."""
        self._failed = f"{type(exc).__name__}: {exc}" if not isinstance(exc, SancodecError) else str(exc)
        self.abort()

    def _refusable_state(self) -> tuple[Any, ...]:
        """The rows the coder has taken and the payloads spilled, then what :meth:`write` changes of the writer's own
        state before the coder takes a block's rows: what a block refused whole is undone to."""
        return (self._encoder.taken, len(self._lengths), self._gaps, self._negative_zeros if self._places is not None
                else None, self._block_type, self._block_rank, self._float16)

    def _restore(self, state: tuple[Any, ...]) -> None:
        """The writer's own state as :meth:`_refusable_state` took it."""
        self._gaps, zeros, self._block_type, self._block_rank, self._float16 = state[2:]
        if self._places is not None:
            self._negative_zeros = zeros

    def _half(self, block: object) -> bool:
        """Whether a lossless stream's ``block`` is float16 (the float32s it widens to exactly are coded, as
        ``sancodec.encode`` codes a float16 array, and the file reads back as float16: :meth:`close`); a float16 block
        after blocks of another type, or another after float16 ones, is refused, as float32 ones are."""
        half = isinstance(block, np.ndarray) and block.dtype == np.float16
        if isinstance(block, np.ndarray) and not block.size:  # (an empty block says nothing of the stream's kind)
            return half
        if self._float16 is None and not self._encoder.n:
            self._float16 = half
        elif half != bool(self._float16):
            kind = np.asarray(block).dtype.name
            raise SanConfigError(f"a lossless stream takes blocks of one kind: the block at row {self._encoder.n} is "
                                 f"{kind}, the stream's {'are' if self._float16 else 'are not'} float16")
        return half

    def _of_one_kind(self, block: object) -> np.ndarray:
        """A block of a lossless stream of float32 values or of another kind throughout: float32 blocks on declared
        steps are checked as the float32 nearest each multiple (``floatgrid.on_grid32``), without steps held as their
        bits (``floatgrid.folded_ints``: no step is looked for, which a first block may hold too few values to show),
        and decode as float32 (format 1.18), the encoder told so at the first; a block of the other kind after them,
        or a float32 one after others, is refused."""
        encoder = self._encoder
        assert isinstance(encoder, SanEncoder)
        rows = np.asarray(block)
        rows = rows.astype(np.float32) if rows.dtype == np.float16 else rows  # (exactly: see _half)
        single = rows.dtype == np.float32
        if not encoder.n and single and not encoder.float32:
            encoder.start_digitized(self._steps, 0, float32=True)  # (nothing pushed yet: started anew)
        elif single != encoder.float32:
            raise SanConfigError(f"a lossless stream takes blocks of one kind: the block at row {encoder.n} is "
                                 f"{rows.dtype.name}, the stream's {'are' if encoder.float32 else 'are not'} float32")
        return rows

    def _note_type(self, block: object) -> None:
        """Keep the integer type and rank of each block as given (before any decimals or steps made integers of
        floats): :meth:`close` says them in the header of an array's blocks."""
        if self._block_rank < 0:
            return
        if isinstance(block, np.ndarray) and block.dtype.kind in "iu" and block.ndim in (1, 2) and \
                self._block_rank in (0, block.ndim):
            self._block_type = block.dtype if self._block_type is None else np.result_type(self._block_type,
                                                                                             block.dtype)
            self._block_rank = block.ndim
        else:
            self._block_rank = -1

    def _array_source(self) -> dict[str, Any] | None:
        """An array's blocks (:func:`open` with ``fs=`` and ``channels=``) said as ``sancodec.encode`` says an
        array: a ``.npy`` source of the integer type their concatenation has, so that a read gives that type back
        (int16 blocks as int16, not int64) and a decode writes a ``.npy`` of it; None for blocks of floats (decimals,
        steps), of mixed ranks, or not numpy arrays, which read as before."""
        dtype, rank = self._block_type, self._block_rank
        if not self._as_array or dtype is None or rank <= 0 or self._places is not None or self._steps is not None \
                or self._encoder.like.source is not None:
            return None
        if dtype.kind not in "iu" or dtype.itemsize > 8 or (dtype.kind == "u" and dtype.itemsize == 8):
            return None  # (uint64 and the like: within ±2^53 only, as read back as int64)
        return {"kind": "npy", "dtype": dtype.str, "rank": 1 if rank == 1 and self._encoder.like.n_channels == 1 else 2}

    def amend(self, **fields: Any) -> None:
        """Change the metadata the header will hold (fields of the ``like`` Signal: ``source``, ``annotations``...)
        before :meth:`close`: what a streamed source says only once its samples are read (an EDF signal's samples
        past the range its header declares, ``io.edf.edf_blocks``)."""
        self._check_open("amend()")
        self._encoder.like = replace(self._encoder.like, **fields)

    def _spill(self, payload: bytes) -> None:
        with said_of_output(self.path, self._folder):  # (a full disk's write names no file)
            self._spool.write(payload)
        self._lengths.append(len(payload))

    def _spooled(self) -> Iterator[bytes]:
        self._spool.seek(0)
        for length in self._lengths:
            yield self._spool.read(length)

    def close(self) -> Path:
        """Code what is held, write the container and move it into place; returns the path (again, where closed
        already; a SanConfigError where a failure dropped the stream, which wrote nothing)."""
        if self._failed is not None:
            self._check_open("close()")
        if self.closed:
            return self.path
        try:
            for payload in self._encoder.finish():
                self._spill(payload)
            array = self._array_source()
            if array is not None:
                self._encoder.like = replace(self._encoder.like, source=array)
            elif self._float16 and self._encoder.like.source is None:  # read back (and decoded to .npy) as float16
                self._encoder.like = replace(self._encoder.like, source={"kind": "npy", "dtype": "<f2", "rank": 2})
            if self._gaps:  # the gaps' marker, for the readers (decimals.missing_of)
                like = self._encoder.like
                self._encoder.like = replace(like, source={**(like.source or {}),
                                                           "missing": {"value": STREAM_GAP, "text": "NaN"}})
            if self._places is not None and any(r is not None for r in self._negative_zeros):  # -0.0 cells
                like = self._encoder.like
                self._encoder.like = replace(like, source={**(like.source or {}),
                                                           NEGATIVE_ZEROS: self._negative_zeros})
            header, minor = self._encoder.header()
            if self._floors:
                assert isinstance(self._encoder, SanEncoder)  # (floors: near-lossless)
                header.update(near_lossless_fields(joined(self._block_gaps), self._floors, self._lows,
                                                   header["max_error"], self._encoder.inexact, False))
            final = self._folder / "file.san"
            with said_of_output(self.path, self._folder), builtins.open(final, "wb") as out:
                frames = list(self._spooled()) if len(self._lengths) == 1 else self._spooled()  # (one: format 1.7's)
                write_container(out, header, frames, minor=minor)
            move_into_place([(final, self.path)], fsync=self._fsync)
        except BaseException as exc:
            self._fail(exc)
            raise
        finally:
            self.abort()
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (the target is left as it was)."""
        if not self.closed:
            self.closed = True
            self._spool.close()
            self._folder_cm.__exit__(None, None, None)

    def __enter__(self) -> SanWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _is_stream(source: object) -> bool:
    """Whether ``source`` is a file's bytes or a binary file object (read and seek) rather than a path."""
    return isinstance(source, (bytes, bytearray, memoryview)) or (hasattr(source, "read") and hasattr(source, "seek"))


def _cache_bytes(given: object) -> int:
    """A SanFile's ``cache_bytes``: :data:`CACHE_BYTES` for None, else a whole number of bytes of at least 0 (0: no
    frame kept), refused otherwise."""
    if given is None:
        return CACHE_BYTES
    if not is_whole(given) or int(given) < 0:
        raise SanConfigError(f"cache_bytes must be a whole number of bytes >= 0 (0: keep no frames), got {given!r}")
    return int(given)


def _reopened(path: Path, model: SanSpec | None, limits: DecodeLimits, threads: int | None, size: int,
              header: dict[str, Any], cache_bytes: int | None = None, salvage: bool = False) -> SanFile:
    """:meth:`SanFile.__reduce__`'s file opened again, refused where it is not the one pickled."""
    with warnings.catch_warnings():  # (a salvaged file: its opening said what survives, once)
        warnings.simplefilter("ignore", SancodecWarning)
        f = SanFile(path, model=model, limits=limits, threads=threads, cache_bytes=cache_bytes, salvage=salvage)
    if f._reader.size != size or f.header != header:
        f.close()
        raise SanFormatError(f"{path}: changed since it was opened (a pickled SanFile reopens the same file)")
    return f


def reblocked(blocks: Iterable[np.ndarray], n: int) -> Iterator[np.ndarray]:
    """The rows of ``blocks`` (arrays of rows, one after another) again, ``n`` rows a block (the last what is left):
    each row once; a block within one of ``blocks`` given as a view of it, else gathered into a block of its own as
    the pieces come (so that memory holds that block and one piece, not the pieces and their join), and none kept
    once given."""
    out: np.ndarray | None = None
    filled = 0
    for block in blocks:
        at = 0
        while at < len(block):
            if out is None and len(block) - at >= n:  # a whole block inside this one: a view
                yield block[at : at + n]
                at += n
                continue
            if out is None:
                out = np.empty((n, *block.shape[1:]), dtype=block.dtype)
            elif not np.can_cast(block.dtype, out.dtype):  # (the dtype the pieces' concatenation would take)
                out = out.astype(np.result_type(out, block))
            take = min(n - filled, len(block) - at)
            out[filled : filled + take] = block[at : at + take]
            filled, at = filled + take, at + take
            if filled == n:
                given, out, filled = out, None, 0
                yield given
                del given
        del block
    if filled:
        assert out is not None
        last, out = out[:filled], None
        yield last


class SanFile:
    """Random and sequential access to a ``.san`` file's samples, a window of frames at a time: a local path, a URL
    (through fsspec: ``s3://``, ``https://``...; :attr:`path` is then the URL itself), a binary file object or a
    file's bytes. ``cache_bytes``: the frames small reads decode are kept in up to this many bytes (default
    :data:`CACHE_BYTES`, 32 MiB; 0 keeps none), the least recently used dropped first, so rows read at random inside
    them decode nothing. ``salvage``: a file cut short, or whose index or a frame is damaged, opened for its intact
    frames as ``decode(..., salvage=True)`` finds them (each read to check it): every row, a damaged frame's as
    each channel's invalid sample, where every channel has one; else the rows before the first damaged frame
    (:attr:`salvaged`, and a warning, say which); else such a file is refused."""

    def __init__(self, path: str | os.PathLike[str] | BinaryIO | bytes, *,
                 model: SanSpec | str | os.PathLike[str] | None = None,
                 limits: DecodeLimits = DEFAULT_LIMITS, threads: int | None = None,
                 cache_bytes: int | None = None, salvage: bool = False) -> None:
        model = given_model(model)  # (a model file's or exported folder's path read before the file is opened)
        self._owned = not _is_stream(path)  # a file object given is the caller's: not closed here
        self._closed = False
        self._f: BinaryIO
        if isinstance(path, (bytes, bytearray, memoryview)):  # a file's bytes in memory
            self.path, self._f = Path("<bytes>"), io.BytesIO(path)
        elif not self._owned:  # a binary file object (an fsspec file, a BytesIO): only the frames asked for are read
            self._f = path  # type: ignore[assignment]
            name = getattr(path, "name", None)
            self.path = Path(name) if isinstance(name, str) else Path("<stream>")
        elif is_url(path):  # "s3://bucket/rec.san": through fsspec, only the frames asked for fetched
            self.path, self._f = path, opened_url(path)  # type: ignore[assignment]
        else:
            self.path = Path(path)  # type: ignore[arg-type]
            try:
                self._f = builtins.open(self.path, "rb")
            except FileNotFoundError:
                raise SanFormatError(f"{self.path}: no such file") from None
            except OSError as exc:
                raise SanFormatError(f"{self.path}: cannot be read ({exc.strerror})") from None
        try:
            self._reader = SanReader(self._f, limits, salvage=salvage)
            self._layout: FileLayout = from_header(self._reader.header, model, limits)
            warn_unused_model(self._layout, model)
            self._rows, found = _check_work(self._reader, self._layout, limits, salvage)
        except SanFormatError as exc:  # said of this file (the reader, given bytes, knows no name)
            self._release()
            said = str(exc)
            raise SanFormatError(said if said.startswith(f"{self.path}: ") else f"{self.path}: {said}") from None
        except BaseException:
            self._release()
            raise
        self._limits, self._threads, self._model = limits, threads, model
        #: with ``salvage``, a file missing frames (cut short, its index or a frame damaged): what survives
        #: (``api.Salvaged``), the rows read being its rows; else None
        self.salvaged = found
        if self.salvaged is not None and not self._rows:  # (frame 0 lost, nothing to mark its rows with)
            self._release()
            raise SanFormatError(f"{self.path}: {nothing_before(self.salvaged)}")
        if self.salvaged is not None:
            warnings.warn(f"{self.path}: {salvaged_words(self.salvaged)}", SancodecWarning, stacklevel=2)
        self._kept = FrameCache(_cache_bytes(cache_bytes))  # the frames small reads decoded (read)
        head = self._layout.signal_head
        self._array = source_dtype(head.get("source"))  # a .npy source's integers: its own dtype
        floats = self._layout.quantum is not None or self._layout.float32  # (format 1.17 or 1.18)
        places = header_decimals(head) if not floats else None
        self._scale = None if places is None else np.array([float(10**d) for d in places])  # decimals: their values
        self.dtype = (np.dtype(np.float32 if self._layout.float32 else np.float64) if floats else self._array
                      if self._array is not None else narrow_dtype(head.get("fmt")))
        if self._scale is not None:
            self.dtype = decimal_dtype(head.get("source"))
        if (floats or self._scale is not None) and self._reader.header.get("mode") == "lossless" and \
                array_dtype_name(head.get("source")) in FLOAT16_NAMES:
            self.dtype = np.dtype(np.float16)  # (a lossless file's values: each a float16, as they came)
        self._missing = missing_of(head.get("source")) if self._scale is not None else None  # a CSV's gaps: NaN
        self._negative = negative_zero_rows(head.get("source"), self._layout.n_samples, self._layout.n_channels) \
            if self._scale is not None else None  # its -0.000 cells
        self._lossy_like = self._reader.header.get("mode") != "lossless"  # its values may pass an EDF source's range
        self._activations = 0  # the SAN activations of the frames decoded (activations_read)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its path and options, opened again where unpickled (a Dask array's chunks read in worker
        processes): the file there must be this one, its size and header the same, or the reopened one is refused.
        One read from a file object or bytes has no path to open again: refused (a TypeError, as pickle raises)."""
        if not self._owned or str(self.path) == "<bytes>":
            raise TypeError(f"{self.path}: a SanFile read from a file object or bytes cannot be pickled; open it by "
                            "its path")
        return _reopened, (self.path, self._model, self._limits, self._threads, self._reader.size,
                           self._reader.header, self._kept.limit, self.salvaged is not None)

    def __repr__(self) -> str:
        return (f"SanFile({str(self.path)!r}, mode={file_mode(self._reader.header)!r}, "
                f"fs={self._layout.signal_head.get('fs')!r}, shape={self.shape}, dtype={self.dtype}"
                f"{', closed' if self._closed else ''})")

    @property
    def header(self) -> dict[str, Any]:
        return self._reader.header

    @property
    def signal_head(self) -> dict[str, Any]:
        """The signal's metadata (``Signal.header_dict`` form), annotations unpacked and checked."""
        return {**self._layout.signal_head, "annotations": self._layout.annotations(self._limits)}

    @property
    def quantum(self) -> list[float] | None:
        return self._layout.quantum

    @property
    def info(self) -> dict[str, Any]:
        """Samples, channels, rate, mode and frames, without decoding anything."""
        h = self._reader.header
        return {"n_samples": self.n_samples, "n_channels": self._layout.n_channels,
                "fs": self._layout.signal_head.get("fs"), "mode": file_mode(h), "frame_len": self._layout.frame_len,
                "frames": self._reader.n_frames, "channel_names": self._layout.signal_head.get("channel_names"),
                "bytes": self._reader.size}

    @property
    def n_samples(self) -> int:
        """The rows :meth:`read` gives: the record's, or a salvaged file's rows that survive (:attr:`salvaged`)."""
        return self._rows

    @property
    def fs(self) -> float:
        """The sampling rate in Hz (a multi-frequency record's: its rows', the fastest channel's), as
        :attr:`Signal.fs <sancodec.Signal.fs>` and ``info["fs"]`` say it."""
        return float(self._layout.signal_head["fs"])

    @property
    def channel_names(self) -> list[str]:
        """The channels' names, in the file's order (``info["channel_names"]``)."""
        return [str(name) for name in self._layout.signal_head["channel_names"]]

    @property
    def start(self) -> datetime.datetime | None:
        """When the recording began, where the header knows its date (:attr:`Signal.start <sancodec.Signal.start>`);
        else None."""
        return recording_start(self._layout.signal_head.get("base_date"), self._layout.signal_head.get("base_time"))

    @property
    def frames_read(self) -> int:
        """Frames read from the file so far, each checked against its checksum (a frame read twice counts twice):
        what ``decode`` reports of a decode."""
        return self._reader.frames_read

    @property
    def activations_read(self) -> int:
        """The SAN activations of the frames decoded so far (a frame decoded twice counts twice): what ``decode``
        counts of a whole file, for the paper's compression ratio (``report``)."""
        return self._activations

    def _values(self, rows: np.ndarray, first: int) -> np.ndarray:
        """``rows`` (from row ``first`` of the record) as values of the source's kind."""
        if self._scale is not None:
            values = rows / self._scale
            if self._missing is not None:
                values[rows == self._missing[0]] = np.nan
            put_negative_zeros(values, self._negative, first)
            return self._as_dtype(values)
        if self._array is not None and self._layout.quantum is None and not self._layout.float32:
            return in_dtype(rows, self._array)
        return self._as_dtype(self._signal_values(rows))  # (clipped as decode_file clips them)

    def _as_dtype(self, values: np.ndarray) -> np.ndarray:
        """Float ``values`` as :attr:`dtype`; float16 (a float16 source's lossless file) only where each is one
        (``io.arrays.as_float16``), which the header promised (else a SanFormatError: a file that lies, not a value
        rounded)."""
        if self.dtype != np.float16:
            return values.astype(self.dtype, copy=False)
        half = as_float16(values)
        if half is None:
            raise SanFormatError(f"{self.path}: a lossless file of float16 values decodes to values float16 cannot "
                                 "hold exactly")
        return half

    def blocks(self, n: int, start: int = 0, end: int | None = None) -> Iterator[np.ndarray]:
        """Consecutive blocks of ``n`` rows covering [start, end) exactly once (the last may be shorter).
        A pass over the whole record checks the lossless checksums at its end."""
        return self._blocks(n, start, end, as_signal=False)

    def sample_blocks(self, n: int, start: int = 0, end: int | None = None) -> Iterator[np.ndarray]:
        """Rows [start, end) (the whole record by default) in consecutive blocks of ``n`` rows as
        ``sancodec.decode``'s Signal holds its samples (the stored integers clipped to their format, a decimal file's
        integers, a float file's values on its step), not as :meth:`read` gives them (the source's kind: a decimal
        file's floats): what a comparison with the original as coded takes, a block at a time (``report``). A pass
        over the whole record checks the lossless checksums at its end."""
        return self._blocks(n, start, end, as_signal=True)

    def _blocks(self, n: int, start: int, end: int | None, as_signal: bool) -> Iterator[np.ndarray]:
        """:meth:`blocks` (``as_signal``: :meth:`sample_blocks`) of rows [start, end), ``n`` checked first."""
        if not is_whole(n) or n < 1:
            raise SanConfigError(f"block size must be a whole number >= 1, got {n!r}")
        lo, hi = self._range(start, end)
        return reblocked(self._windows(lo, hi, as_signal), n)

    def _signal_values(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` as ``api.decoded_range`` makes its Signal's samples of them (:meth:`sample_blocks`)."""
        if self._layout.quantum is not None or self._layout.float32:
            return float_values(rows, self._layout)
        values = clip_to_format(rows, self._layout.signal_head.get("fmt"))
        return clip_to_source_ranges(values, self._layout.signal_head) if self._lossy_like else values

    def _windows(self, lo: int, hi: int, as_signal: bool = False) -> Iterator[np.ndarray]:
        """Rows [lo, hi) a window of frames at a time (``as_signal``: as :meth:`sample_blocks` gives them, else as
        :meth:`read` does), the lossless checksums checked at the end of a whole pass."""
        whole = lo == 0 and hi == self._layout.n_samples and not self._reader.lost  # (a salvaged file's rows: never
        # the whole record's, whose checksums they fail)
        # (a decimal file's checksums are its integers', as are those of a file of floats on a step)
        integers = self._scale is not None or self._layout.quantum is not None or self._layout.float32
        crcs = [0] * self._layout.n_channels
        for row, got in frame_windows(self._reader, self._layout, lo, hi, self._limits, self._threads):
            blocks = got.blocks  # each frame's rows, given a frame at a time: never joined, each let go once given
            if any(block is None for block in blocks):
                raise RuntimeError("frames written in place have no block")
            self._activations += got.activations
            del got
            for i, block in enumerate(blocks):
                assert block is not None
                first, row = row, row + len(block)
                blocks[i] = None
                a, b = max(lo, first), min(hi, row)
                if b <= a:
                    continue
                part = block[a - first : b - first]
                values = self._signal_values(part) if as_signal else self._values(part, a)
                if whole:
                    crcs = sample_checksums(part if integers else values, crcs)
                del block, part
                yield values
        if whole:
            self._check_crcs(crcs)

    def check(self, block: int = 1 << 16) -> None:
        """Decode the whole file ``block`` rows at a time, keeping nothing: every frame's checksum, each lossless
        channel's sample CRC and the annotations checked (``sancodec check``; memory bounded by a block and a frame
        window). Raises what a decode would, at the first fault."""
        self.signal_head  # noqa: B018 - the annotations unpacked and checked
        for _ in self.blocks(block):
            pass

    @property
    def shape(self) -> tuple[int, int]:
        """(samples, channels), as the array :meth:`read` of the whole file would have."""
        return self.n_samples, self._layout.n_channels

    @property
    def chunks(self) -> tuple[int, int]:
        """(rows of a frame, channels): the piece a read decodes at least, as Zarr and h5py name theirs, so that
        ``dask.array.from_array(f)`` cuts its chunks at whole frames."""
        return min(self._layout.frame_len, self.n_samples), self._layout.n_channels

    @property
    def ndim(self) -> int:
        """2: (samples, channels), as numpy and Dask ask of an array (``dask.array.from_array(f, chunks=...)``
        reads a file lazily, its chunks on several threads at once)."""
        return 2

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The whole file decoded (``np.asarray(f)``), as :meth:`read` gives it, in ``dtype`` where asked."""
        if copy is False:
            raise ValueError("a SanFile's samples are decoded: np.asarray(f, copy=False) has no array to share")
        values = self.read()
        return values if dtype is None else values.astype(dtype, copy=False)

    def __len__(self) -> int:
        return self.n_samples

    def __getitem__(self, key: Any) -> np.ndarray:
        """Samples as numpy indexes an array of :attr:`shape`, decoding only the frames that hold the rows asked for:
        ``f[3600:7200]``, ``f[-360:]``, ``f[5]``, ``f[:, 0]``, ``f[::250]``, ``f[[10, 5000]]``, ``f[mask]``,
        ``f[..., 1]`` (``rowkey.rows_for``: every index numpy takes, its shape and values; an ``IndexError`` past the
        ends or for an index numpy refuses), and channels by name too: ``f[:, "V5"]``, ``f[::250, ["MLII", "V5"]]``
        (``rowkey.named_channels``). Rows far apart are read apart: the frames between them are not decoded, and a
        stepped slice of a long file holds a block at a time, not the rows it steps over."""
        picked = rows_for(named_channels(key, self.channel_names), self.n_samples)
        self._check_open()  # (however few rows are asked for)
        if picked.rows is not None:
            return self._gathered(picked.rows)[picked.key]
        assert picked.span is not None  # (rows_for: a span where it gives no rows)
        lo, hi = picked.span
        if hi <= lo:
            return np.empty((0, self._layout.n_channels), dtype=self.dtype)[picked.key]
        return self.read(lo, hi)[picked.key]

    def _gathered(self, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` (distinct, ascending) of every channel, in that order: each run of rows less than a
        frame apart read whole where it spans at most :data:`GATHER_BLOCK` rows, else a block of that many at a
        time, the rows taken from each."""
        if not len(rows):
            return np.empty((0, self._layout.n_channels), dtype=self.dtype)
        pieces = []
        gap = max(1, int(self._layout.frame_len))
        for run in np.split(rows, np.flatnonzero(np.diff(rows) > gap) + 1):
            lo, hi = int(run[0]), int(run[-1]) + 1
            if hi - lo <= GATHER_BLOCK:  # a short run: one read (its frames kept for the next, read)
                pieces.append(self.read(lo, hi)[run - lo])
                continue
            at = lo
            for block in self.blocks(min(hi - lo, GATHER_BLOCK), lo, hi):
                a, b = np.searchsorted(run, (at, at + len(block)))
                pieces.append(block[run[a:b] - at])
                at += len(block)
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]

    def __iter__(self) -> Iterator[np.ndarray]:
        """Row after row, decoded a block at a time (not a frame window a row)."""
        for block in self.blocks(1 << 16):
            yield from block

    def _check_crcs(self, crcs: list[int]) -> None:
        stored = self._layout.sample_crc32  # (a lossless file's: of its integers, a float one's too, format 1.17)
        if stored is not None:
            check_sample_checksums(crcs, stored)

    def signal(self, start: int = 0, end: int | None = None) -> Signal:
        """Samples [start, end) as a :class:`Signal`, as ``sancodec.decode(data, start, end)`` gives it (its header
        fields, annotations and source cut to the range, ready for ``write_signal``), reading only the frames that
        cover them: a range of a remote or long file without the rest of it."""
        lo, hi = self._range(start, end)  # (a salvaged file's: within the rows that survive)
        decoded = decoded_range(self._reader, self._layout, lo, hi, self._limits, self._threads)
        self._activations += decoded.activations
        return decoded.signal

    def read(self, start: int = 0, end: int | None = None) -> np.ndarray:
        """Samples [start, end) of every channel (only the frames that cover them are decoded). The frames of a read
        within one window of them are kept, up to ``cache_bytes`` over the reads, the least recently used
        dropped first: a later read inside kept frames (``f[i]`` in a loop, at random, a Dask array's chunks smaller
        than a frame) decodes nothing."""
        lo, hi = self._range(start, end)
        whole = lo == 0 and hi == self._layout.n_samples  # (through blocks, which check the samples' checksums)
        near = None if whole else self._in_one_window(lo, hi)
        return near if near is not None else np.concatenate(list(self.blocks(hi - lo, lo, hi)))

    def _in_one_window(self, lo: int, hi: int) -> np.ndarray | None:
        """:meth:`read` of [lo, hi) from the frames kept, those not kept decoded (one window, from the first to the
        last of them) and kept; None where the rows span more than a window."""
        frame_len = self._layout.frame_len
        first, last = lo // frame_len, (hi - 1) // frame_len
        if last - first >= window_frames(frame_len, self._layout.n_channels):
            return None
        frames = self._kept.found(first, last)
        missing = [i for i in range(first, last + 1) if i not in frames]
        if missing:
            a, b = missing[0], missing[-1]
            row, got = next(frame_windows(self._reader, self._layout, a * frame_len,
                                          min((b + 1) * frame_len, self.n_samples), self._limits, self._threads))
            self._activations += got.activations
            values = self._values(got.samples, row)
            for i in range(a, b + 1):
                piece = values[(i - a) * frame_len : (i - a + 1) * frame_len]
                frames[i] = piece if a == b else piece.copy()  # (one frame dropped frees its memory)
                self._kept.put(i, frames[i])
        pieces = [frames[i][max(lo - i * frame_len, 0) : hi - i * frame_len] for i in range(first, last + 1)]
        return pieces[0].copy() if len(pieces) == 1 else np.concatenate(pieces)

    def _range(self, start: int, end: int | None) -> tuple[int, int]:
        self._check_open()
        return sample_range(start, end, self.n_samples)

    def _check_open(self) -> None:
        if self._closed or self._f.closed:  # a read on a closed file used to fail in seek() with a ValueError
            raise SanConfigError(f"{self.path}: read on a closed SanFile")

    def close(self) -> None:
        """Close the file (one opened here by its path; a file object given stays open, its caller's)."""
        self._closed = True
        self._release()

    def _release(self) -> None:
        if self._owned:
            self._f.close()

    def __enter__(self) -> SanFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def decoded_on_disk(source: str | os.PathLike[str] | BinaryIO | bytes, folder: Path, *, model: SanSpec | None = None,
                    limits: DecodeLimits = DEFAULT_LIMITS, threads: int | None = None,
                    decimals: bool = False, pick: Callable[[list[str]], Sequence[int]] | None = None,
                    start: int | None = None, end: int | None = None) -> DecodedFile | None:
    """The ``.san`` ``source`` (rows [start, end), all by default), decoded a window at a time into an array mapped
    from a file in ``folder``, as ``decode_file`` decodes it (the same samples, checksums checked, and metadata): for
    the EDF, BDF, WAV, ``.npy`` and CSV writers, which take a Signal and write it a block of rows at a time, so that
    its samples sit on disk rather than in memory (the caller keeps ``folder`` until they are written). With
    ``decimals``, a decimal source's file too (a CSV's: its integers, as ``decode_file``'s Signal holds them, for the
    CSV writer, which prints them a block at a time). ``pick``: the channels to keep, in their order, given the file's
    channel names (decode --channels): the signal ``Signal.select_channels`` makes of the decode, only those channels
    mapped. ``start``, ``end``: as ``decode_file(source, start, end)`` gives them (its header cut to the range,
    ``slice_header``; the lossless checksums checked where the range is the whole record). None for any other file
    whose values are not integers but a float file's (on a step, or float32 bits: its values as ``decode_file`` makes
    them, float64 or float32), and for a pick that leaves out a record's fastest channels (its rows thinned:
    ``select_channels``' work), which the caller decodes in memory; so too for a lossy or near-lossless file of a
    float32 array's or a 32-bit float WAV's values, whose decode weighs every value for float32 first
    (``api.weighs_float32``)."""
    with SanFile(source, model=model, limits=limits, threads=threads) as f:
        digits = decimals and f._scale is not None and f.quantum is None  # (a decimal file's integers)
        floats = not digits and (f.quantum is not None or f._layout.float32) and \
            not weighs_float32(f._layout, f._layout.signal_head.get("source"))
        if not digits and not floats and (f.quantum is not None or f.dtype.kind not in "iu"):
            return None
        n, c = f.shape
        lo, hi = sample_range(start, end, n)
        head = f.signal_head if (lo, hi) == (0, n) else slice_header(f.signal_head, lo, hi, n)
        dtype = np.dtype(np.int64) if digits else np.dtype(np.float32 if f._layout.float32 else np.float64) \
            if floats else f.dtype
        wanted = None if pick is None else list(pick(f.channel_names))
        picked = None
        if wanted is not None:  # the picked channels' metadata as select_channels makes it (of no samples but one row)
            whole = Signal.from_header(head, np.zeros((1, c), dtype=dtype))
            picked = whole.select_channels(wanted)
            if picked.fs != whole.fs:
                return None
        samples = new_mapped_npy(folder / "samples.npy", dtype, (hi - lo, c if wanted is None else len(wanted)))
        row = 0
        for block in f.sample_blocks(1 << 16, lo, hi) if digits or floats else f.blocks(1 << 16, lo, hi):
            samples[row : row + len(block)] = block if wanted is None else block[:, wanted]
            row += len(block)
        signal = Signal.from_header(head, samples) if picked is None else replace(picked, samples=samples)
        return DecodedFile(signal, f.header, lo, hi, f.activations_read, f.frames_read)
