"""The CLI's streaming paths: WFDB format 16/212 records coded and restored block by block, so
memory is bounded by the frame window, not the record (see ``io.wfdb_stream``); headerless interleaved samples
(``--raw``, ``io.raw``) coded as they are read, from a file or a pipe; ``.npy`` through standard input and output
(pipes)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from rich.console import Console

from sancodec._warnings import caught_here
from sancodec.cli.app import rewound_input
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError, SanFormatError

console = Console(markup=False)  # (as codec_commands: file names are text)
EDF_BLOCK_VALUES = 1 << 21  # an EDF or BDF file is read about this many samples at a time (whole data records)


READING_BYTES = 1 << 24  # a file read whole shows a spinner from this size (a 778 MB CSV took over a minute)


def reading(quiet: bool, source: Path | str):  # -> context manager
    """A spinner while a file is read whole before it is coded (nothing when quiet, small, or no local file)."""
    try:
        size = 0 if quiet else Path(source).stat().st_size
    except (OSError, ValueError):  # (a WFDB record's name, standard input, a URL)
        size = 0
    if size < READING_BYTES:
        return contextlib.nullcontext()
    return console.status(f"reading {source} ({size / 1e6:.0f} MB)…")


def busy(quiet: bool, n_samples: int, n_channels: int, mode: str):  # -> context manager
    """A spinner for long work (nothing when quiet or short)."""
    if quiet or n_samples < 1 << 17:
        return contextlib.nullcontext()
    return console.status(f"coding {n_samples} x {n_channels} samples ({mode})…")


def stream_encode(source: Path, out: Path, spec, mode: str, max_error: float | None, frame_len: int | None,
                   threads: int | None, fsync: bool, quiet: bool, predictor: str = "auto", fs: float | None = None,
                   keep_header_text: bool = False, annotators: Sequence[str] = ()) -> tuple[int, int, int, int] | None:
    """Encode a format 16/212 WFDB record block by block; None when it cannot be streamed (``fs``: a rate the
    command was given, refused where the record's differs; ``keep_header_text``: its .hea text kept too,
    ``io.wfdb_text``; ``annotators``: its annotation files of these extensions too, ``io.wfdb.record_annotations``)."""
    from sancodec.io import check_own_rate
    from sancodec.io.wfdb import find_wfdb_base, with_header_text
    from sancodec.io.wfdb_stream import like_signal, stream_header
    from sancodec.stream import SanWriter

    if source.suffix.lower() in (".edf", ".bdf"):
        return _stream_edf(source, out, spec, mode, max_error, frame_len, threads, fsync, quiet, predictor, fs,
                           keep_header_text)
    if source.suffix.lower() in (".wav", ".vhdr"):
        return _stream_wav(source, out, spec, mode, max_error, frame_len, threads, fsync, quiet, predictor, fs)
    base = find_wfdb_base(source)
    head = stream_header(base) if base is not None else None
    if base is None or head is None:
        return None
    check_own_rate(source, "a WFDB record", float(head.fs), fs)
    like = like_signal(base, head, annotators)
    if keep_header_text:
        like = with_header_text(like, base)
    with busy(quiet, head.sig_len, head.n_sig, mode):
        with SanWriter(out, like, mode, max_error, model=spec, frame_len=frame_len, threads=threads,
                       fsync=fsync, predictor=predictor) as writer:
            for block in summed_blocks(base, head, 1 << 20, like):
                writer.write(block)
        if mode == "near-lossless":
            _no_larger_than_lossless(base, head, out, spec, frame_len, threads, fsync, predictor, annotators)
    return head.sig_len, head.n_sig, head.sig_len * head.n_sig, out.stat().st_size


def _stream_edf(source: Path, out: Path, spec, mode: str, max_error: float | None, frame_len: int | None,
                threads: int | None, fsync: bool, quiet: bool, predictor: str, fs: float | None,
                keep_header_text: bool) -> tuple[int, int, int, int] | None:
    """Encode an EDF or BDF file a block of data records at a time (``io.edf.edf_blocks``, about
    :data:`EDF_BLOCK_VALUES` samples): the same file as coding it whole, in memory bounded by the block and the
    encoder's window of frames; None where it must be read whole."""
    from sancodec.stream import SanWriter

    streamed = _edf_streamed(source, fs, keep_header_text)
    if streamed is None:
        return None
    like, n = streamed.like, streamed.rows
    with busy(quiet, n, like.n_channels, mode):
        with SanWriter(out, like, mode, max_error, model=spec, frame_len=frame_len, threads=threads,
                       fsync=fsync, predictor=predictor) as writer:
            for block in streamed.blocks:
                writer.write(block)
            writer.amend(source=streamed.source())
    return n, like.n_channels, sum(n // step for step in like.sample_steps()), out.stat().st_size


WAV_BLOCK_ROWS = 1 << 16  # a WAV file is read this many frames at a time


def _stream_wav(source: Path, out: Path, spec, mode: str, max_error: float | None, frame_len: int | None,
                threads: int | None, fsync: bool, quiet: bool, predictor: str, fs: float | None
                ) -> tuple[int, int, int, int] | None:
    """Encode a WAV file or a BrainVision recording of integers :data:`WAV_BLOCK_ROWS` frames at a time
    (``io.wav.wav_reads``, ``io.brainvision.brainvision_reads``): the same file as coding it whole, in memory
    bounded by the block and the encoder's window of frames; None for a WAV or a BrainVision recording of floats (read
    whole)."""
    from sancodec.stream import SanWriter

    found = _wav_reads(source, fs) if source.suffix.lower() == ".wav" else _brainvision_reads(source, fs)
    if found is None:
        return None
    like, n, read = found
    with busy(quiet, n, like.n_channels, mode):
        with SanWriter(out, like, mode, max_error, model=spec, frame_len=frame_len, threads=threads,
                       fsync=fsync, predictor=predictor) as writer:
            for block in read(WAV_BLOCK_ROWS):
                writer.write(block)
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


def _no_larger_than_lossless(base: Path, head, out: Path, spec, frame_len: int | None, threads: int | None,
                             fsync: bool, predictor: str, annotators: Sequence[str] = ()) -> None:  # head: wfdb's
    """Where the near-lossless file just streamed to ``out`` holds its record's gaps' runs or a floor (bytes no frame's
    fallback to exact coding weighs, ``gaps.carries_gap_fields``), the record streamed again losslessly, and that
    file put in its place where it is smaller, as ``sancodec.encode`` keeps the smaller: a near-lossless file is never
    larger than the lossless one. The record is read twice only then (a WFDB record with invalid samples)."""
    from sancodec._atomic import move_into_place, temp_folder
    from sancodec.codec.container import SanReader
    from sancodec.codec.gaps import carries_gap_fields
    from sancodec.io.wfdb_stream import like_signal
    from sancodec.stream import SanWriter

    with out.open("rb") as fh:  # the header only
        if not carries_gap_fields(SanReader(fh).header):
            return
    with temp_folder(out) as folder:
        exact = folder / out.name
        with caught_here(SancodecWarning):  # (the first pass said what the record's checksums and files say; this
            # thread's)
            like = like_signal(base, head, annotators)
            with SanWriter(exact, like, "lossless", model=spec, frame_len=frame_len, threads=threads,
                           predictor=predictor) as writer:
                for block in summed_blocks(base, head, 1 << 20, like):
                    writer.write(block)
        if exact.stat().st_size < out.stat().st_size:
            move_into_place([(exact, out)], fsync=fsync)


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
                        threads: int | None, fsync: bool, quiet: bool,
                        fs: float | None = None, verify: bool | None = None,
                        processes: bool = False, annotators: Sequence[str] = ()) -> tuple[int, int, int, bytes] | None:
    """Encode a format 16/212 WFDB record, an EDF or BDF file, or a ``.npy`` array of integers (at
    ``fs``) longer than one lossy block (``lossyfile.blocks``) in lossy mode, read a block at a time
    (``api.encode_lossy_blocks``); None when it cannot be (``verify``: as ``api.verifies``; ``processes``: each
    block's channels on worker processes; ``annotators``: as :func:`stream_encode`'s)."""
    import numpy as np

    from sancodec._atomic import write_bytes_atomic
    from sancodec.codec.api import DEFAULT_LOSSY_FRAME, encode_lossy_blocks
    from sancodec.codec.lossyfile import blocks
    from sancodec.io import check_own_rate
    from sancodec.io.arrays import map_npy
    from sancodec.io.wfdb import find_wfdb_base
    from sancodec.io.wfdb_stream import like_signal, read_blocks, stream_header

    described = None  # (an EDF's source, known once its records are read)
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
        if found is None or head is None or (frame_len or 0) % 2:  # read_blocks reads whole pairs of samples
            return None
        base = found
        check_own_rate(source, "a WFDB record", float(head.fs), fs)
        if len(blocks(head.sig_len, frame_len or DEFAULT_LOSSY_FRAME, head.n_sig)) < 2:  # (before its annotations are
            return None  # read, and warned of: read whole, they are again)
        like, n = like_signal(base, head, annotators), head.sig_len
        passes = [0]

        def read(rows: int):  # the first of the passes checks the checksums (summed_blocks)
            passes[0] += 1
            return summed_blocks(base, head, rows) if passes[0] == 1 else read_blocks(base, head, rows)
    c = like.n_channels
    if len(blocks(n, frame_len or DEFAULT_LOSSY_FRAME, c)) < 2:  # one block: coded as read whole
        return None
    with busy(quiet, n, c, "lossy") as status:
        say = None if status is None else lambda line: status.update(f"lossy, {line} of {n} x {c} samples…")
        data = encode_lossy_blocks(like, n, read, model=spec, frame_len=frame_len, threads=threads, effort=effort,
                                   progress=say, verify=verify, processes=processes, source=described, **targets)
    if data is None:
        return None
    write_bytes_atomic(out, data, fsync=fsync)
    return n, c, n * c, data


def stream_raw(source: Path, out: Path, like, picked: list[int] | None, layout, spec, mode: str,
               max_error: float | None, targets: dict, effort: str | None, frame_len: int | None, threads: int | None,
               fsync: bool, quiet: bool, predictor: str = "auto", verify: bool | None = None
               ) -> tuple[int, int, int, int]:
    """Encode headerless interleaved samples (``layout``: ``io.raw.RawLayout``; ``like``: their metadata) from a
    file or standard input (``-``) as they are read, a block at a time, through the streaming writer (lossy: each
    frame at the target, ``codec.lossystream``); ``picked``: the channels kept, in order. A stream that ends within
    a row has that row's bytes left out, with a warning."""
    import sys
    import warnings

    from sancodec.io.raw import RawReader
    from sancodec.stream import SanWriter

    kept = like if picked is None else like.select_channels(picked)
    lossy = {"effort": effort, "verify": verify, **targets} if mode == "lossy" else {}
    with contextlib.ExitStack() as stack:
        f = sys.stdin.buffer if str(source) == "-" else stack.enter_context(source.open("rb"))
        reader = RawReader(f, layout, 1 << 16)
        status = None if quiet else stack.enter_context(console.status(f"coding {source} ({mode})…"))
        with SanWriter(out, kept, mode, max_error, model=spec, frame_len=frame_len, threads=threads, fsync=fsync,
                       predictor=predictor, **lossy) as writer:
            for block in reader:
                writer.write(block if picked is None else block[:, picked])
                if status is not None:
                    status.update(f"coding {source} ({mode}): {reader.rows_read} rows read…")
            if reader.left_over:
                warnings.warn(f"{source}: the input ended {reader.left_over} bytes into a row of "
                              f"{layout.row_bytes}; those bytes were left out", SancodecWarning, stacklevel=2)
    n, c = reader.rows_read, kept.n_channels
    return n, c, n * c, out.stat().st_size


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


def decoded_on_disk(source: Path, spec, limits, threads: int | None, folder: Path, decimals: bool = False,
                    pick: Callable[[list[str]], list[int]] | None = None, start: int | None = None,
                    end: int | None = None):
    """``sancodec.stream.decoded_on_disk`` of ``source`` (imported when called: the CLI starts without numpy); an
    ``api.DecodedFile`` or None."""
    from sancodec.stream import decoded_on_disk as on_disk

    return on_disk(source, folder, model=spec, limits=limits, threads=threads, decimals=decimals, pick=pick,
                   start=start, end=end)


def source_of(path: Path | str, opened: BinaryIO | None = None) -> object:
    """The ``Signal.source`` entry a file's header holds (None where it has none or cannot be read: the decode
    itself reports the problem); what ``io.default_format`` names its default output format by. ``opened``: the
    file opened already (a URL's), read from its start. Its header alone is read (``api.read_header``): not the
    index, which a file to salvage may have lost, nor a frame (a salvaging reader's walk reads every one, which the
    decode does again)."""
    from sancodec.codec.api import read_header

    try:
        with rewound_input(path, opened) as f:
            return (read_header(f).get("signal") or {}).get("source")
    except (SancodecError, OSError, AttributeError):
        return None


def read_stdin(fs: float | None):  # -> Signal
    """A ``.npy`` array piped in on standard input."""
    import io
    import sys

    from sancodec.io.arrays import read_npy

    return read_npy(io.BytesIO(sys.stdin.buffer.read()), fs, name="standard input")


def write_stdout(signal, fmt: str, values=None) -> None:
    """Decoded samples as ``.npy`` on standard output (nothing else goes there), written as numpy writes an array to
    a file (a long record's mapped samples a piece at a time, never as one string of bytes). ``values``: the array,
    made already (``decode --physical``'s)."""
    import sys

    import numpy as np

    from sancodec.io.arrays import npy_array

    if fmt != "npy":
        raise SanConfigError(f"-o - writes .npy to standard output; --format {fmt} needs a file")
    np.lib.format.write_array(sys.stdout.buffer, npy_array(signal, values), allow_pickle=False)
    sys.stdout.buffer.flush()
