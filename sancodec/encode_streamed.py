"""Recordings encoded as they are read, a block at a time, so memory is bounded by the block and the encoder's
window of frames, not by the record: WFDB records of format 16, 212 or 80, EDF and BDF files, WAV files and BrainVision
recordings of integers (every mode), and ``.npy`` arrays of integers in lossy mode (``codec.api.encode_lossy_blocks``),
each the same file as coding it read whole. ``sancodec encode`` and ``sancodec batch`` (``sancodec.batch``) encode
through these. Imports are made when called: the command line starts without numpy."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sancodec._warnings import caught_here
from sancodec.errors import SancodecWarning, SanFormatError

if TYPE_CHECKING:
    from sancodec.signal import Signal

__all__ = ["EDF_BLOCK_VALUES", "WAV_BLOCK_ROWS", "Busy", "no_spinner", "stream_encode", "stream_encode_lossy",
           "summed_blocks"]

EDF_BLOCK_VALUES = 1 << 21  # an EDF or BDF file is read about this many samples at a time (whole data records)
WAV_BLOCK_ROWS = 1 << 16  # a WAV file is read this many frames at a time

#: what shows that long work goes on, given its samples, channels and mode: a context (the command line's spinner,
#: whose ``update`` a lossy encode tells its progress; None where there is nothing to tell)
Busy = Callable[[int, int, str], AbstractContextManager[Any]]


def no_spinner(n_samples: int, n_channels: int, mode: str) -> AbstractContextManager[Any]:
    """Nothing shown (:data:`Busy` for work no one watches: a batch's worker)."""
    return contextlib.nullcontext()


#: the channels to keep, in their order, given a recording's channel names (``encode --channels``)
Pick = Callable[[list[str]], list[int]]


class _Picked:
    """A streamed recording's channels kept (``pick``; None: all), as ``Signal.select_channels`` keeps them of the
    recording read whole: its metadata (:attr:`kept`), each block's columns (:meth:`block`, :meth:`blocks`), and a
    source entry made once the samples are read (:meth:`source`). A pick that changes a multi-frequency record's row
    rate (its fast channels left out) is not streamed (:attr:`streams`)."""

    def __init__(self, like: Any, pick: Pick | None) -> None:
        self.wanted = None if pick is None else pick(list(like.channel_names))
        self.full = like
        self.kept = like if self.wanted is None else like.select_channels(self.wanted)
        self.streams = self.kept.fs == like.fs

    def block(self, block: Any) -> Any:
        return block if self.wanted is None else block[:, self.wanted]

    def blocks(self, blocks: Any) -> Any:
        return blocks if self.wanted is None else (block[:, self.wanted] for block in blocks)

    def source(self, source: Any) -> Any:
        """``source``, the whole recording's source entry, as the kept channels' (``select_channels``')."""
        if self.wanted is None:
            return source
        from dataclasses import replace

        return replace(self.full, source=source).select_channels(self.wanted).source


class _Coding(NamedTuple):
    """How a streamed recording is coded (the streaming encoders' options), and :meth:`write`, the one loop that codes
    its blocks into a file."""

    spec: Any
    mode: str
    max_error: float | None
    frame_len: int | None
    threads: int | None
    fsync: bool
    predictor: str

    def write(self, path: Path, like: Any, blocks: Any, source: Callable[[], Any] | None = None,
              lossless: bool = False) -> None:
        """``blocks`` coded into ``path`` (``SanWriter``: nothing there until it is whole) with ``like``'s metadata,
        in this coding's mode or, with ``lossless``, losslessly; ``source``: the source entry the header holds, asked
        for once every block is read (what a recording says of itself only then)."""
        from sancodec.stream import SanWriter

        with SanWriter(path, like, "lossless" if lossless else self.mode, None if lossless else self.max_error,
                       model=self.spec, frame_len=self.frame_len, threads=self.threads, fsync=self.fsync,
                       predictor=self.predictor) as writer:
            for block in blocks:
                writer.write(block)
            if source is not None:
                writer.amend(source=source())


def stream_encode(source: Path, out: Path, spec, mode: str, max_error: float | None, frame_len: int | None,
                   threads: int | None, fsync: bool, busy: Busy, predictor: str = "auto", fs: float | None = None,
                   keep_header_text: bool = False, annotators: Sequence[str] = (),
                   pick: Pick | None = None) -> tuple[int, int, int, int] | None:
    """Encode a format 16, 212 or 80 WFDB record block by block (an EDF or BDF file, a WAV file or a BrainVision
    recording of integers too); None when it cannot be streamed (``fs``: a rate the command was given, refused where the
    record's differs; ``keep_header_text``: its .hea text kept too, ``io.wfdb_text``; ``annotators``: its annotation
    files of these extensions too, ``io.wfdb.record_annotations``; ``pick``: the channels kept, as
    ``Signal.select_channels`` keeps them of the record read whole)."""
    from sancodec.io import check_own_rate
    from sancodec.io.wfdb import find_wfdb_base, with_header_text
    from sancodec.io.wfdb_multi_stream import multisegment_stream
    from sancodec.io.wfdb_stream import like_signal, stream_header

    coding = _Coding(spec, mode, max_error, frame_len, threads, fsync, predictor)
    if source.suffix.lower() in (".edf", ".bdf"):
        return _stream_edf(source, out, coding, busy, fs, keep_header_text, pick)
    if source.suffix.lower() in (".wav", ".vhdr"):
        return _stream_wav(source, out, coding, busy, fs, pick)
    base = find_wfdb_base(source)
    head = stream_header(base) if base is not None else None
    if base is not None and head is None and not keep_header_text:  # (a multi-segment record keeps no .hea text)
        found = multisegment_stream(base, annotators)
        if found is None:
            return None
        check_own_rate(source, "a WFDB record", found.like.fs, fs)
        return _stream_multisegment(found, out, coding, busy, pick)
    if base is None or head is None:
        return None
    check_own_rate(source, "a WFDB record", float(head.fs), fs)
    like = like_signal(base, head, annotators)
    if keep_header_text:
        like = with_header_text(like, base)
    picked = _Picked(like, pick)
    if not picked.streams:
        return None
    c = picked.kept.n_channels

    def code(path: Path, like: Signal, lossless: bool = False) -> None:
        kept = _Picked(like, pick)  # (a damaged record's checksums, kept in like's source once read: the kept ones')
        coding.write(path, kept.kept, kept.blocks(summed_blocks(base, head, 1 << 20, like)),
                     None if pick is None else lambda: kept.source(like.source), lossless)

    with busy(head.sig_len, c, mode):
        code(out, like)
        if mode == "near-lossless":  # (the lossless file made of the record read again, its header text apart)
            _no_larger_than_lossless(out, lambda path: code(path, like_signal(base, head, annotators), True), fsync)
    return head.sig_len, c, head.sig_len * c, out.stat().st_size


def _stream_multisegment(found: Any, out: Path, coding: _Coding, busy: Busy,
                         pick: Pick | None) -> tuple[int, int, int, int] | None:  # found: a MultiStream
    """A multi-segment record (``io.wfdb_multi_stream``) encoded a block at a time: the same file as coding it read
    whole; None where its pick changes its row rate (read whole)."""
    picked = _Picked(found.like, pick)
    if not picked.streams:
        return None
    like, n = picked.kept, found.rows
    with busy(n, like.n_channels, coding.mode):
        coding.write(out, like, picked.blocks(found.read(1 << 20)))
        if coding.mode == "near-lossless":
            _no_larger_than_lossless(out, lambda path: coding.write(path, like, picked.blocks(found.read(1 << 20)),
                                                                    lossless=True), coding.fsync)
    return n, like.n_channels, sum(n // step for step in like.sample_steps()), out.stat().st_size


def _stream_edf(source: Path, out: Path, coding: _Coding, busy: Busy, fs: float | None, keep_header_text: bool,
                pick: Pick | None = None) -> tuple[int, int, int, int] | None:
    """Encode an EDF or BDF file a block of data records at a time (``io.edf.edf_blocks``, about
    :data:`EDF_BLOCK_VALUES` samples): the same file as coding it whole, in memory bounded by the block and the
    encoder's window of frames; None where it must be read whole."""
    streamed = _edf_streamed(source, fs, keep_header_text)
    if streamed is None:
        return None
    picked = _Picked(streamed.like, pick)
    if not picked.streams:
        return None
    like, n = picked.kept, streamed.rows
    with busy(n, like.n_channels, coding.mode):
        coding.write(out, like, picked.blocks(streamed.blocks), lambda: picked.source(streamed.source()))
    return n, like.n_channels, sum(n // step for step in like.sample_steps()), out.stat().st_size


def _stream_wav(source: Path, out: Path, coding: _Coding, busy: Busy, fs: float | None,
                pick: Pick | None = None) -> tuple[int, int, int, int] | None:
    """Encode a WAV file or a BrainVision recording of integers :data:`WAV_BLOCK_ROWS` frames at a time
    (``io.wav.wav_reads``, ``io.brainvision.brainvision_reads``): the same file as coding it whole, in memory
    bounded by the block and the encoder's window of frames; None for a WAV or a BrainVision recording of floats (read
    whole)."""
    found = _wav_reads(source, fs) if source.suffix.lower() == ".wav" else _brainvision_reads(source, fs)
    if found is None:
        return None
    full, n, read = found
    picked = _Picked(full, pick)
    like = picked.kept
    with busy(n, like.n_channels, coding.mode):
        coding.write(out, like, picked.blocks(read(WAV_BLOCK_ROWS)))
    return n, like.n_channels, n * like.n_channels, out.stat().st_size


def _brainvision_reads(source: Path, fs: float | None):  # -> (like, rows, read) or None
    """A BrainVision recording of integers for the streaming encoders (``io.brainvision.brainvision_reads``), refused
    where ``fs`` asks another rate than its own; None for one of floats (read whole: the streaming writer takes
    floats only on a declared grid)."""
    from sancodec.io import check_own_rate
    from sancodec.io.brainvision import brainvision_reads

    like, n, read = brainvision_reads(source)
    check_own_rate(source, "a BrainVision recording", like.fs, fs)
    return (like, n, read) if like.is_digital else None


def _wav_reads(source: Path, fs: float | None):  # -> (like, rows, read) or None
    """A WAV file of integers for the streaming encoders (``io.wav.wav_reads``), refused where ``fs`` asks another
    rate than its own; None for one of floats (read whole: the streaming writer takes floats only on a declared grid,
    or float32 ones losslessly)."""
    from sancodec.io import check_own_rate
    from sancodec.io.wav import wav_reads

    like, n, read = wav_reads(source)
    check_own_rate(source, "a WAV file", like.fs, fs)
    return (like, n, read) if like.is_digital else None


def _no_larger_than_lossless(out: Path, exact: Callable[[Path], None], fsync: bool) -> None:
    """Where the near-lossless file just streamed to ``out`` holds its record's gaps' runs or a floor (bytes no frame's
    fallback to exact coding weighs, ``gaps.carries_gap_fields``), the record streamed again losslessly (``exact``
    writes that file at the path it is given), and that file put in its place where it is smaller, as
    ``sancodec.encode`` keeps the smaller: a near-lossless file is never larger than the lossless one. The record is
    read twice only then (a WFDB record with invalid samples)."""
    from sancodec._atomic import move_into_place, temp_folder
    from sancodec.codec.container import SanReader
    from sancodec.codec.gaps import carries_gap_fields

    with out.open("rb") as fh:  # the header only
        if not carries_gap_fields(SanReader(fh).header):
            return
    with temp_folder(out) as folder:
        again = folder / out.name
        with caught_here(SancodecWarning):  # (the first pass said what the record's checksums and files say; this
            # thread's)
            exact(again)
        if again.stat().st_size < out.stat().st_size:
            move_into_place([(again, out)], fsync=fsync)


def summed_blocks(base: Path, head, rows: int, like=None):  # head: its wfdb header -> Iterator[np.ndarray]
    """``read_blocks`` of the record, its channels' sums checked against the header's checksums once the last
    block is read (``wfdb.warn_checksums``), as the whole-record reader checks them; a disagreement kept in the
    source of ``like`` (the Signal whose header the .san writes at its end), as that reader keeps it."""
    import numpy as np

    from sancodec.io.wfdb import warn_checksums, with_checksums
    from sancodec.io.wfdb_stream import read_blocks

    sums = np.zeros(head.n_sig, dtype=np.int64)
    for block in read_blocks(base, head, rows):
        sums += block.sum(axis=0, dtype=np.int64)
        yield block
    kept = warn_checksums(base.with_name(base.name + ".hea"), head, sums)
    if like is not None:
        with_checksums(like, kept)


def stream_encode_lossy(source: Path, out: Path, spec, targets: dict, effort: str | None, frame_len: int | None,
                        threads: int | None, fsync: bool, busy: Busy,
                        fs: float | None = None, verify: bool | None = None,
                        processes: bool = False, annotators: Sequence[str] = (),
                        pick: Pick | None = None) -> tuple[int, int, int, bytes] | None:
    """Encode a format 16, 212 or 80 WFDB record, an EDF or BDF file, a WAV file or BrainVision recording of integers,
    or a ``.npy`` array of integers (at ``fs``) longer than one lossy block (``lossyfile.blocks``) in lossy mode, read a
    block at a time (``api.encode_lossy_blocks``); None when it cannot be (``verify``: as ``api.verifies``;
    ``processes``: each block's channels on worker processes; ``annotators``, ``pick``: as :func:`stream_encode`'s)."""
    import numpy as np

    from sancodec._atomic import write_bytes_atomic
    from sancodec.codec.api import DEFAULT_LOSSY_FRAME, encode_lossy_blocks
    from sancodec.codec.lossyfile import blocks
    from sancodec.io import check_own_rate
    from sancodec.io.arrays import map_npy
    from sancodec.io.wfdb import find_wfdb_base
    from sancodec.io.wfdb_multi_stream import multisegment_stream
    from sancodec.io.wfdb_stream import like_signal, read_blocks, stream_header

    described = None  # (an EDF's source, known once its records are read)
    read: Callable[[int], Iterator[Any]]  # each block's rows, from the first, each time it is called
    if source.suffix.lower() == ".npy":  # an array of integers, memory-mapped
        mapped = map_npy(source, fs)
        if mapped is None:
            return None
        like, array = mapped
        n = len(array)
        read = lambda rows: (np.asarray(array[i : i + rows]) for i in range(0, n, rows))  # noqa: E731
    elif source.suffix.lower() in (".edf", ".bdf"):  # its data records a block at a time, every rate
        found = _edf_reads(source, fs)
        if found is None:
            return None
        like, n, read, described = found
    elif source.suffix.lower() == ".wav":  # its frames a block at a time
        found_wav = _wav_reads(source, fs)
        if found_wav is None:
            return None
        like, n, read = found_wav
    elif source.suffix.lower() == ".vhdr":  # a BrainVision recording of integers, a block at a time
        found_bv = _brainvision_reads(source, fs)
        if found_bv is None:
            return None
        like, n, read = found_bv
    else:
        found = find_wfdb_base(source)
        head = stream_header(found) if found is not None else None
        multi = multisegment_stream(found, annotators) if found is not None and head is None else None
        if multi is not None:  # a multi-segment record: its rows laid out a block at a time
            check_own_rate(source, "a WFDB record", multi.like.fs, fs)
            like, n, read = multi.like, multi.rows, multi.read
        elif found is None or head is None or (frame_len or 0) % 2:  # read_blocks reads whole pairs of samples
            return None
        else:
            base, wfdb_head = found, head
            check_own_rate(source, "a WFDB record", float(head.fs), fs)
            if len(blocks(head.sig_len, frame_len or DEFAULT_LOSSY_FRAME, head.n_sig)) < 2:  # (before its
                return None  # annotations are read, and warned of: read whole, they are again)
            like, n = like_signal(base, head, annotators), head.sig_len
            passes = [0]

            def read(rows: int) -> Iterator[Any]:  # the first of the passes checks the checksums (summed_blocks)
                passes[0] += 1
                return summed_blocks(base, wfdb_head, rows) if passes[0] == 1 else read_blocks(base, wfdb_head, rows)
    picked = _Picked(like, pick)
    c = picked.kept.n_channels
    if not picked.streams or len(blocks(n, frame_len or DEFAULT_LOSSY_FRAME, c)) < 2:  # one block: coded as read
        return None  # whole
    if described is not None and pick is not None:
        said = described
        described = lambda: picked.source(said())  # noqa: E731
    with busy(n, c, "lossy") as status:
        say = None if status is None else lambda line: status.update(f"lossy, {line} of {n} x {c} samples…")
        data = encode_lossy_blocks(picked.kept, n, lambda rows: picked.blocks(read(rows)), model=spec,
                                   frame_len=frame_len, threads=threads, effort=effort, progress=say, verify=verify,
                                   processes=processes, source=described, **targets)
    if data is None:
        return None
    write_bytes_atomic(out, data, fsync=fsync)
    return n, c, n * c, data


def _edf_reads(source: Path, fs: float | None):  # -> (like, rows, read, source) | None
    """An EDF or BDF file (any rates) for ``encode_lossy_blocks``: its metadata, its rows,
    a reader of its rows a block at a time from the first, each time it is called, and its source entry as reading it
    whole gives it, once the first read is through (it says where a signal passes its declared range); None where it
    is not read so (a file ``io.edf.edf_blocks`` does not stream)."""
    from dataclasses import replace

    import numpy as np

    from sancodec.io.edf import edf_blocks
    from sancodec.stream import reblocked

    first = _edf_streamed(source, fs)
    if first is None:
        return None
    like = replace(first.like, samples=first.like.samples[: first.like.frame_size])  # (one frame of every rate)
    passes: list = []  # the first read's blocks (edf_blocks), which say the source once read
    # each piece held at the file's own width (EDF 16 bits, BDF 24 in an int32): a lossy block of 20 channels
    # over 2^20 rows is 42 MB of int16, not 168 MB of int64 (the coder widens a channel at a time)
    held = np.int16 if all(f == "16" for f in like.fmt or ()) else np.int32

    def read(rows: int):  # (read EDF_BLOCK_VALUES at a time, joined into blocks of rows: reading a lossy block of
        again = edf_blocks(source, EDF_BLOCK_VALUES)  # records at once took several times its size)
        if again is None:  # (the file changed since)
            raise SanFormatError(f"{source}: changed while it was read")
        if not passes:
            passes.append(again)
        return reblocked((piece.astype(held) for piece in again.blocks), rows)

    return like, first.rows, read, lambda: passes[0].source()


def _edf_streamed(source: Path, fs: float | None, keep_header_text: bool = False):  # -> io.edf.EdfBlocks | None
    """An EDF or BDF file to be read a block of data records at a time (``io.edf.edf_blocks``, about
    :data:`EDF_BLOCK_VALUES` samples a block), its rate checked against ``fs`` (``--fs``) as reading it whole checks
    it; None where it must be read whole."""
    from sancodec.io import check_own_rate, edf_kind
    from sancodec.io.edf import edf_blocks

    streamed = edf_blocks(source, EDF_BLOCK_VALUES, keep_header_text=keep_header_text)
    if streamed is not None:
        check_own_rate(source, edf_kind(source), streamed.like.fs, fs)
    return streamed
