"""The CLI's streaming paths: WFDB format 16/212 records coded and restored block by block, so
memory is bounded by the frame window, not the record (see ``io.wfdb_stream``); headerless interleaved samples
(``--raw``, ``io.raw``) coded as they are read, from a file or a pipe; ``.npy`` through standard input and output
(pipes)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rich.console import Console

from sancodec.cli.app import rewound_input
from sancodec.errors import SancodecError, SancodecWarning, SanConfigError

console = Console(markup=False)  # (as codec_commands: file names are text)


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
