"""``encode``, ``decode``, ``info`` and ``report``: recordings <-> .san files."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sancodec._atomic import temp_folder
from sancodec.cli.app import (
    annotator_list,
    app,
    boundary,
    check_output,
    each_input,
    fetched_input,
    input_files,
    named,
    opened_input,
    refuse_output_among,
    refuse_stdin_among,
    rewound_input,
    several_into,
    shown,
    source_arguments,
)
from sancodec.cli.streaming import (
    busy,
    decoded_on_disk,
    read_stdin,
    reading,
    source_of,
    stream_raw,
    write_stdout,
)
from sancodec.codec.container import MAGIC, SanReader
from sancodec.codec.header import file_mode, from_header
from sancodec.codec.schema import is_whole
from sancodec.decoded_output import channel_indices, output_target, record_like, shaped, stream_wfdb, write_shaped
from sancodec.encode_streamed import stream_encode, stream_encode_lossy
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io import TABLE_SUFFIXES
from sancodec.io.decimals import FLOAT16_NAMES, FLOAT32_NAMES, header_decimals, missing_of
from sancodec.signal import frame_rows
from sancodec.timepoints import is_time, length_text

if TYPE_CHECKING:
    from sancodec.codec.api import Salvaged
    from sancodec.san.spec import SanSpec

console = Console(markup=False)  # names, units and paths come from files: "[mV]" is text, not a style
#: Where report's spinners and progress bar go: stderr, shown while stdout is piped (``report --json > out.json``),
#: and never mixed into what stdout prints
progress_console = Console(stderr=True, markup=False)
STDOUT = "standard output"  # where -o - sends a file, in the words that say so (on standard error: not in the data)
MODES = "lossless | near-lossless (--max-error) | lossy (--prdn, --snr or --bps) | san (the paper's SAN-only code)"


def _default_san_path(source: Path) -> Path:
    """``source``'s .san beside it: its name less a recording's suffix (in any case: X.EDF makes X.san), plus .san."""
    suffix = source.suffix
    known = suffix.lower() in RECORDING_SUFFIXES
    return source.with_name((source.name[: -len(suffix)] if known else source.name) + ".san")


def _san_path(input: Path, output: Path | None) -> Path:
    """Where ``encode`` writes ``input``'s .san: ``-o``'s path (in a folder, named after the input), else beside it."""
    return _into_folder(output, input, _default_san_path(Path(input.name)).name) if output else _default_san_path(input)


def _decoded_base(input: Path | str, output: Path | None) -> Path:
    """The path ``decode`` names ``input``'s output by, before its format's suffix: ``-o``'s (in a folder, named after
    the .san file), else ``<stem>_decoded`` beside it (a URL's: in the working folder)."""
    local = _local_name(input)
    return _into_folder(output, local, local.stem) if output else local.with_name(local.stem + "_decoded")


def _local_name(input: Path | str) -> Path:
    """The path a file argument's outputs are named after: its own, or a URL's last part (in the working folder)."""
    from sancodec.io.remote import url_name

    return input if isinstance(input, Path) else Path(url_name(input))


def _into_folder(output: Path, input: Path, name: str) -> Path:
    """``-o``'s path; where it names an existing folder, ``name`` (the input's, as the default output is named)
    inside it, as ``cp`` copies into a folder. Standard input has no name to give."""
    if str(output) == "-" or not output.is_dir():
        return output
    if str(input) == "-":
        raise SanConfigError(f"{output}: is a directory, and standard input has no name to give the output: -o FILE")
    return output / name


def _pick_channels(signal, channels: str | None):
    return signal.select_channels(channel_indices(signal.channel_names, channels)) if channels is not None else signal


def _raw_signal(path: Path, raw: str, fs: float | None):  # -> Signal
    """The headerless samples at ``path`` (``--raw``'s layout) whole, as ``encode --raw`` codes them."""
    from dataclasses import replace

    import numpy as np

    from sancodec.io.raw import RawReader

    layout, like = _raw_like(raw, path, fs)
    if path.is_dir() or not path.exists():
        raise SanFormatError(f"{path}: no such file")
    with path.open("rb") as f:
        blocks = list(RawReader(f, layout))
    if not blocks:
        raise SanFormatError(f"{path}: holds no whole row of {layout.row_bytes} bytes")
    return replace(like, samples=np.concatenate(blocks))


def _raw_input(raw: str | None, input: Path, fs: float | None, channels: str | None, keep_header_text: bool,
               processes: bool, to_stdout: bool) -> tuple[Any, list[int] | None, Any] | None:
    """``--raw``'s metadata (a one-row Signal), the channels kept (None: all) and its layout (``io.raw``), or None
    without it; a SanConfigError for the options it cannot go with."""
    if raw is None:
        return None
    layout, like = _raw_like(raw, input, fs)
    if keep_header_text:
        raise SanConfigError("--keep-header-text keeps a WFDB or EDF header; --raw samples have none")
    if processes:
        raise SanConfigError("--processes codes a whole record's channels on worker processes; --raw samples are "
                             "coded as they are read, a frame at a time")
    if to_stdout:
        raise SanConfigError("--raw samples are coded into a file as they are read: give -o FILE, not -o -")
    return like, (None if channels is None else channel_indices(like.channel_names, channels)), layout


def _raw_like(raw: str, input: Path, fs: float | None) -> tuple[Any, Any]:
    """``--raw``'s layout (``io.raw.raw_layout``) and the metadata of ``input``'s samples in it at ``fs``, which it
    needs (standard input's record is named ``stdin``)."""
    from sancodec.io.raw import raw_layout

    layout = raw_layout(raw)
    if fs is None:
        raise SanConfigError("--raw samples do not say their sampling frequency: give it with --fs")
    return layout, layout.like(fs, "stdin" if str(input) == "-" else input.stem, input.suffix)


def _source_text(source: object) -> str:
    """What kind of record the file came from, for ``info``."""
    if not isinstance(source, dict):
        return "single record"
    segments = source.get("segments")
    if isinstance(segments, list):
        gaps = sum(1 for s in segments if isinstance(s, dict) and not s.get("channels"))
        return f"WFDB multi-segment, {source.get('layout')} layout: {len(segments) - gaps} segments, {gaps} gaps"
    kind = source.get("kind")
    text = "single record" if "kind" not in source else \
        {"mat": "MATLAB", "brainvision": "BrainVision"}.get(kind if isinstance(kind, str) else "", str(kind).upper())
    raw = source.get("raw")  # encode --raw's (io.raw)
    if isinstance(raw, dict) and isinstance(raw.get("type"), str):
        text = f"raw {raw['type']}, {'big' if raw.get('big_endian') else 'little'}-endian"
    kept = source.get("checksums")  # a damaged WFDB record's (io.wfdb.warn_checksums)
    missed = sum(1 for pair in kept if pair is not None) if isinstance(kept, list) else 0
    text += f"; {missed} channel(s) whose samples miss the header's checksum, kept" if missed else ""
    from sancodec.io.wfdb import kept_counter

    counter = kept_counter(source)  # a WFDB record line's counter (io.wfdb.record_counter)
    if counter is not None:
        text += f"; counter {counter[0]:g} Hz" + (f", base {counter[1]:g}" if len(counter) > 1 else "")
    text += "; header's initial values kept" if isinstance(source.get("init_values"), list) else ""
    text += _table_time_text(source) + _wav_text(source) + _mat_text(source) + _brainvision_text(source)
    hea = source.get("hea")  # encode --keep-header-text (io.wfdb_text, io.edf_text)
    text += f"; its .hea text kept ({len(hea)} characters)" if isinstance(hea, str) else ""
    edf = source.get("edf_header")
    return text + (f"; its header kept ({len(edf)} bytes)" if isinstance(edf, str) else "")


def _table_time_text(source: dict) -> str:
    """``info``'s words on a CSV source's time column: its name and how it was printed (a header's entry, not
    trusted: said only where it is as ``read_csv`` makes it)."""
    from sancodec.io.arrays import time_column
    from sancodec.io.csv_datetimes import iso_layout
    from sancodec.io.csv_time_units import time_scale

    time = time_column(source)
    if time is None:
        return ""
    how = "ISO 8601 date-times" if iso_layout(source) is not None else "clock times" \
        if source.get("time_clock") is True else {1: "seconds", 1000: "milliseconds", 10**6: "microseconds",
                                                   10**9: "nanoseconds"}[time_scale(source)]
    return f"; time column {time[0]!r} in {how}"


def _wav_text(source: dict) -> str:
    """``info``'s words on a WAV source: its bits, and whether its header and chunks are kept (a header's entry, not
    trusted)."""
    kept = source.get("wav") if source.get("kind") == "wav" else None
    floating = isinstance(kept, dict) and kept.get("float") is True
    if not isinstance(kept, dict) or kept.get("bits") not in ((32, 64) if floating else (8, 16, 24, 32)):
        return ""
    return f", {kept['bits']}-bit" + (" floats" if floating else "") + \
        ("; its header and chunks kept" if isinstance(kept.get("before"), str) else "")


def _brainvision_text(source: dict) -> str:
    """``info``'s words on a BrainVision source: its binary format and orientation, whether its header and marker
    file are kept, and its markers (a header's entries, not trusted: said only where they are as ``io.brainvision``
    makes them)."""
    binary, orientation = source.get("binary"), source.get("orientation")
    if source.get("kind") != "brainvision" or binary not in ("INT_16", "INT_32", "IEEE_FLOAT_32") or \
            orientation not in ("MULTIPLEXED", "VECTORIZED"):
        return ""
    kept = [what for key, what in (("vhdr", "header"), ("vmrk", "marker file")) if isinstance(source.get(key), str)]
    notes = source.get("annotations")
    return (f", {binary} {orientation.lower()}" + (f"; its {' and '.join(kept)} kept" if kept else "")
            + (f"; {len(notes)} markers" if isinstance(notes, list) and notes else ""))


def _mat_text(source: dict) -> str:
    """``info``'s words on a MATLAB source: its variable, how it was laid out, and its rate's variable (a header's
    entry, not trusted: only names a MATLAB variable may have, as ``io.matfile`` writes them back)."""
    from sancodec.io.matfile import kept_name

    name = kept_name(source.get("variable"), "") if source.get("kind") == "mat" else ""
    if not name:
        return ""
    rate = kept_name(source.get("rate_variable"), "")
    laid = "channels x samples" if source.get("transposed") is True else "samples x channels"
    return f", variable {name!r} ({laid})" + (f", its rate in {rate!r}" if rate else "")


@app.command()
@boundary
def encode(
    inputs: list[str] = typer.Argument(..., metavar="inputs", help="WFDB record (rec, rec.hea or rec.dat), EDF/BDF, "
                                       ".wav, .mat, BrainVision (.vhdr), .npy, .csv, .tsv or .txt, or headerless "
                                       "samples with --raw; several, each to its own .san (-o: a folder); - reads .npy "
                                       "(or --raw samples) from standard input (give -o and --fs); a URL "
                                       "(s3://bucket/rec) is fetched through fsspec first, a WFDB record's files with "
                                       "it, and its .san written in the working folder."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output .san (default: next to the input; a "
                                       "folder: into it, named after the input); - writes it to standard output, and "
                                       "no summary."),
    model: Path | None = typer.Option(None, "--model", help="Model JSON, or a folder `sancodec export` wrote (its "
                                      "ONNX graphs then run it), for --mode san (default: the bundled ECG model); the "
                                      "other modes' coders do not use a SAN."),
    mode: str = typer.Option("lossless", help=f"{MODES}. Lossless by default: nothing is lost silently."),
    max_error: float | None = typer.Option(None, help="near-lossless bound, in the samples' units (a WFDB or EDF "
                                           "record's ADC units; a CSV's or an array's values, decimals with gaps "
                                           "too)."),
    prdn: float | None = typer.Option(None, "--prdn", help="lossy target: PRDN in percent, met by every channel."),
    snr: float | None = typer.Option(None, "--snr", help="lossy target: SNR in dB, met by every channel."),
    bps: float | None = typer.Option(None, "--bps", help="lossy target: bits per sample per channel."),
    effort: str | None = typer.Option(None, "--effort", help="lossy: balanced (the default: one beat template "
                                      "where it pays, and the time domain where it is cheap or may win), best (the "
                                      "smallest file it finds, checked; several times slower) or fast (plain "
                                      "wavelets: a wavelet coder's speed, larger files)."),
    verify: bool | None = typer.Option(None, "--verify/--no-verify", metavar="",
                                       help="lossy: decode the file and check every channel's target before writing "
                                       "it (default: only at --effort best; lossless and "
                                       "near-lossless files are always checked)."),
    channels: str | None = typer.Option(None, help="Comma-separated channel indices or names (default: all; a "
                                        "name holding commas is taken whole)."),
    fs: float | None = typer.Option(None, help="Sampling frequency for .npy, --raw and header-less CSV."),
    raw: str | None = typer.Option(None, "--raw", metavar="TYPE[:CHANNELS]", help="The input is headerless "
                                   "interleaved samples (a device's dump, or a capture piped in as -): int8, uint8, "
                                   "int16, uint16, int24, int32, uint32 or int64, little-endian ('>' first for "
                                   "big-endian: >int16), and the channels a row holds (int16:8; default 1). Needs "
                                   "--fs. Coded as it is read, a block at a time (lossy: each frame at the target)."),
    frame_len: int | None = typer.Option(None, help="Samples per frame, the random-access granularity (default "
                                         "131072; 1048576 in lossy mode: each frame costs entropy tables)."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Overwrite an existing output."),
    fsync: bool = typer.Option(False, "--fsync", metavar="", help="Flush the output and its folder to disk."),
    threads: int | None = typer.Option(None, "--threads", help="Threads: frames coded at once; in lossy mode "
                                       "channels, and a channel's pieces (default: all cores; same bytes)."),
    processes: bool = typer.Option(False, "--processes", metavar="", help="lossy: code the channels on --threads "
                                   "worker processes instead of threads, which the interpreter lock holds back: "
                                   "faster on records of many short channels (12-lead strips), not on a few long "
                                   "ones; each command starts the workers anew (PTB's first encode 0.4-0.6 s longer "
                                   "in two runs; same bytes)."),
    fast_decode: bool = typer.Option(False, "--fast-decode", metavar="", help="Lossless and near-lossless: faster "
                                     "decoding (no sequential LMS or long-term stages), ~5 % larger."),
    keep_header_text: bool = typer.Option(False, "--keep-header-text", metavar="", help="Lossless, a single-segment "
                                          "WFDB record or an EDF/BDF file: keep its .hea text or EDF header (a few "
                                          "hundred bytes), so that a decode (to the same record name) writes it "
                                          "back as it was, not as wfdb-python or edfio lay one out (as flac "
                                          "--keep-foreign-metadata): the files byte for byte."),
    annotators: str | None = typer.Option(None, "--annotators", metavar="EXT[,EXT...]", help="A WFDB record's "
                                          "annotation files of these extensions too (ludb's i,ii,...,v6; your "
                                          "own), each required, beside .atr and the annotators sancodec knows "
                                          "(.qrs, .apn, .ecg, .pu ...), which are kept where they are."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No summary."),
) -> None:
    """Compress a recording into a .san file (decoded and checked before it is written, but in lossy mode only at
    --effort best or with --verify). WFDB records in format 16, 212 or 80 (multi-segment ones of such segments too) are
    read a frame at a time, EDF and BDF files a block of data records at a time (in lossy mode both a block at a time,
    as are integer .npy arrays), and --raw samples as they come: memory is bounded by the block, not the record."""
    options = {name: value for name, value in locals().items() if name != "inputs"}
    options["annotators"] = annotator_list(annotators)
    sources = source_arguments(inputs)
    refuse_output_among(sources, output, "encode", lambda path: path.suffix.lower() == ".san")
    sources = _distinct_records(sources) if len(sources) > 1 else sources
    several_into(sources, output, ".san", lambda source: _san_path(_local_name(source), output))
    each_input(sources, lambda source: _encode_source(source, **options))


def _encode_source(source: Path | str, output: Path | None, **options: Any) -> None:
    """``encode`` of one input: a local path as it is, a URL's recording fetched first (``fetched_input``), its .san
    named after the URL's last part, in the working folder unless ``-o`` says where."""
    if isinstance(source, Path):
        _encode_one(source, output, **options)
        return
    if options.get("raw") is not None:
        raise SanConfigError(f"{source}: --raw reads a local file or standard input, not a URL")
    with fetched_input(source, options["annotators"]) as local:
        _encode_one(local, _san_path(_local_name(source), output), **options, label=source)


def _distinct_records(inputs: list[Path | str]) -> list[Path | str]:
    """``inputs`` with each WFDB record once, where a shell's ``*`` named it by several of its files (rec.hea,
    rec.dat, rec.atr): the first mention kept, as the record's base path, in order."""
    from sancodec.io.wfdb import find_wfdb_base

    seen: dict[Path | str, None] = {}
    for path in inputs:
        if isinstance(path, str):  # a URL: as given
            seen.setdefault(path)
            continue
        base = find_wfdb_base(path)
        companion = path.with_suffix("")  # an annotation or other file of a record (rec.atr, rec.qrs)
        if base is None and path.suffix.lower() not in (*RECORDING_SUFFIXES, ".san") and \
                companion.with_name(companion.name + ".hea").exists():
            base = companion
        seen.setdefault(base or path)
    return list(seen)


def _encode_one(input: Path, output: Path | None, model: Path | None, mode: str, max_error: float | None,
                prdn: float | None, snr: float | None, bps: float | None, effort: str | None, verify: bool | None,
                channels: str | None, fs: float | None, raw: str | None, frame_len: int | None, force: bool,
                fsync: bool, threads: int | None, processes: bool, fast_decode: bool, keep_header_text: bool,
                annotators: list[str], json_out: bool, quiet: bool, label: str | None = None) -> None:
    """``encode`` of one input."""
    from sancodec._atomic import write_bytes_atomic
    from sancodec.codec.api import encode_rounded, gaps_rounder, verifies
    from sancodec.codec.lossy import check_effort
    from sancodec.codec.prepare import check_mode
    from sancodec.io import read_signal
    from sancodec.io.wfdb import find_wfdb_base
    from sancodec.san.bundled import default_model
    from sancodec.san.spec import load_model

    piped, to_stdout = str(input) == "-", output is not None and str(output) == "-"
    if piped and output is None:
        raise SanConfigError("reading standard input (-) needs -o FILE for the .san, or -o - for standard output")
    if to_stdout and (json_out or fsync):
        raise SanConfigError(f"-o - writes the .san to standard output; {'--json' if json_out else '--fsync'} is for "
                             "a file (give -o FILE)")
    if to_stdout:
        _not_a_terminal(".san")
    check_mode(mode)  # (before the options judged by it)
    if effort is not None and mode != "lossy":
        raise SanConfigError(f"--effort applies to lossy mode, not {mode}")
    if keep_header_text and mode != "lossless":
        raise SanConfigError(f"--keep-header-text applies to lossless mode, whose decode alone gives back the samples "
                             f"a .hea describes, not {mode}")
    if mode != "lossy" and (prdn, snr, bps) != (None, None, None):  # (a streamed record never reaches the library's
        # own check: without this a forgotten --mode lossy made a lossless file without a word)
        raise SanConfigError(f"--prdn, --snr and --bps are targets of lossy mode, not {mode} (add --mode lossy)")
    if model is not None and mode != "san":  # (it was read, and changed nothing: the files were byte for byte alike)
        raise SanConfigError(f"--model applies to --mode san, the paper's SAN-only code; the {mode} coder does not "
                             "use a SAN model (`sancodec train --objective bytes` reports whether one would pay)")
    if fast_decode and mode in ("lossy", "san"):
        raise SanConfigError(f"--fast-decode applies to lossless and near-lossless modes, not {mode} (whose decode "
                             "has no sequential stages to leave out)")
    if processes and mode != "lossy":
        raise SanConfigError(f"--processes applies to lossy mode, not {mode}")
    if verify is not None and mode != "lossy":
        raise SanConfigError(f"--verify and --no-verify apply to lossy mode, not {mode} (always checked)")
    _check_values(mode, max_error, _targets(prdn, snr, bps), effort, frame_len, threads)
    raw_input = _raw_input(raw, input, fs, channels, keep_header_text, processes, to_stdout)
    if annotators and (piped or raw is not None or find_wfdb_base(input) is None):
        raise SanConfigError(f"--annotators names a WFDB record's annotation files; {label or input} is no WFDB "
                             "record")
    out = _san_path(input, output)
    if not to_stdout:
        check_output(out, force, [] if piped else input_files(input, annotators))
    spec = load_model(model) if model else default_model()
    started = time.perf_counter()
    streamed: tuple[int, ...] | None = None
    data = b""
    whole = piped or to_stdout  # (the streaming encoders write a file: standard output takes the bytes made whole)
    pick = None if channels is None else partial(channel_indices, channels=channels)
    if raw_input is not None:  # headerless samples, coded as they are read (a file, or a pipe)
        streamed = stream_raw(input, out, *raw_input, spec, mode, max_error, _targets(prdn, snr, bps), effort,
                              frame_len, threads, fsync, quiet, "fast" if fast_decode else "auto", verify)
        data = out.read_bytes() if mode == "lossy" else b""  # (the summary's per-channel figures)
    elif mode != "lossy" and not whole:  # (--channels: those channels of each block, as picked read whole)
        streamed = stream_encode(input, out, spec, mode, max_error, frame_len, threads, fsync, partial(busy, quiet),
                                 "fast" if fast_decode else "auto", fs, keep_header_text, annotators, pick)
    elif not whole:  # lossy: a long WFDB record read a block at a time
        lossy = stream_encode_lossy(input, out, spec, _targets(prdn, snr, bps), effort, frame_len, threads, fsync,
                                    partial(busy, quiet), fs, verify, processes, annotators, pick)
        if lossy is not None:
            *counts, data = lossy
            streamed = (*counts, len(data))
    if streamed is None:
        rounding: list = []  # a .npy or CSV's floats with NaN gaps that are no decimals, rounded for a lossy mode
        with reading(quiet or to_stdout or piped, input):
            read = read_stdin(fs) if piped else read_signal(
                input, fs=fs, keep_header_text=keep_header_text, annotators=annotators,
                rounder=gaps_rounder(mode, max_error, prdn, snr, bps, rounding))
        picked = channel_indices(read.channel_names, channels) if channels is not None else None
        signal = read if picked is None else read.select_channels(picked)
        rounded = None if not rounding else rounding[0] if picked is None else rounding[0].channels(picked)
        with busy(quiet or to_stdout, signal.n_samples, signal.n_channels, mode):
            options: dict[str, Any] = dict(frame_len=frame_len, prdn=prdn, snr=snr, bps=bps, threads=threads,
                                           effort=effort, predictor="fast" if fast_decode else "auto", verify=verify,
                                           processes=processes)
            data = encode_rounded(signal, rounded, spec, mode, max_error, **options)  # (rounded: the floats before
            # their rounding, which its target is counted and measured against)
        if to_stdout:  # the .san alone goes there (its summary to standard error, as decode -o - writes its .npy)
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            write_bytes_atomic(out, data, fsync=fsync)
        # real samples: a slow channel of a multi-frequency record counts once per sample
        streamed = (signal.n_samples, signal.n_channels, signal.n_values, len(data))
    n_samples, n_channels, values, size = streamed
    seconds = time.perf_counter() - started
    if data:
        header = SanReader(data).header
    else:
        with out.open("rb") as fh:  # (streamed: the header only)
            header = SanReader(fh).header
    # near-lossless: the lossless file where that is smaller (a record's invalid samples' runs in the header, floats
    # on their own step or as float32 bits), never larger
    written = header["mode"] if mode == "near-lossless" else mode
    say = progress_console if to_stdout else console  # (standard output holds the .san alone)
    if written != mode and not quiet and not json_out:
        say.print("near-lossless took more bytes than lossless: the lossless file is written, which decodes to "
                  "the samples themselves")
    summary = {
        "input": label or str(input), "output": STDOUT if to_stdout else str(out), "mode": written,
        "samples": n_samples, "channels": n_channels, "bytes": size,
        "bits_per_sample": round(8 * size / values, 4),
        "cr_vs_16bit": round(values * 2 / size, 3), "seconds": round(seconds, 3),
    }
    width = _float_width(header)
    if width is not None:  # floats: against their own width too (float32: 4 bytes)
        summary |= {"float_bytes": width, "cr_vs_floats": round(values * width / size, 3)}
    else:
        bits = _wide_integer_bits(header)
        if bits is not None:  # integers of 24 bits or more: against their own width too
            summary |= {"sample_bits": bits, "cr_vs_samples": round(values * bits / 8 / size, 3)}
    if mode == "lossy":
        from sancodec.codec.anatomy import lossy_anatomy

        lossy = SanReader(data).header["lossy"]
        spent = [round(channel.bits_per_sample, 4) for channel in lossy_anatomy(data, bands=False)]
        summary |= {"target": lossy["target"], "prdn_per_channel": lossy["prdn"], "bits_per_sample_per_channel": spent,
                    "effort": check_effort(effort), "checked": verifies(verify, mode, effort)}
    _print_summary(summary, json_out, quiet, say)


def _float_width(header: dict) -> int | None:
    """The bytes of a float input's samples, as the file's header tells them: a ``.npy`` source's own float type (its
    decimals too; float16's 2, though its values go as float32s, format 1.18), 4 for other float32 values, 8 for
    other floats on a step or a lossy grid (a quantum); None for integers and a text's decimals."""
    source = header.get("signal", {}).get("source")
    dtype = source.get("dtype") if isinstance(source, dict) and source.get("kind") == "npy" else None
    if dtype in FLOAT32_NAMES:
        return 4
    if dtype in FLOAT16_NAMES:
        return 2
    if isinstance(dtype, str) and dtype in ("<f8", ">f8", "=f8", "|f8"):
        return 8
    if header.get("float32") is True:
        return 4
    return 8 if header.get("quantum") is not None else None


def _wide_integer_bits(header: dict) -> int | None:
    """The bits of an integer input's samples where they are more than 16, as the file's header tells them (24, 32 or
    64: a BDF's, a WFDB record's formats 24 and 32, a WAV's, an int32 or int64 ``.npy``'s; ``io.arrays.integer_bits``);
    None for 16 bits or fewer, floats and anything out of shape (a header's, not trusted)."""
    from sancodec.io.arrays import integer_bits

    entry = header.get("signal")
    signal: dict = entry if isinstance(entry, dict) else {}
    bits = integer_bits(signal.get("source"), signal.get("fmt"))
    return bits if bits in (24, 32, 64) else None


def _smaller_than(summary: dict) -> str:
    """The encode summary's ratio in words: against 16-bit samples, or a float input's own width, or that of integers
    of 24 bits or more."""
    if "cr_vs_floats" in summary:
        return _ratio_words(summary, "cr_vs_floats", summary["float_bytes"],
                            f"its {8 * summary['float_bytes']}-bit floats")
    if "cr_vs_samples" in summary:
        return _ratio_words(summary, "cr_vs_samples", summary["sample_bits"] // 8,
                            f"its {summary['sample_bits']}-bit samples")
    return _ratio_words(summary, "cr_vs_16bit", 2, "16-bit samples")


def _ratio_words(summary: dict, key: str, width: int, what: str) -> str:
    """The summary's compression ratio ``key`` against ``what`` (``width`` bytes a value) in words: "4.71x smaller
    than ...", or where the file is the larger (a few samples, which the header outweighs) "47.0x larger than ...",
    not "0.021x smaller"."""
    ratio = summary[key]
    raw = summary["samples"] * summary["channels"] * width
    if ratio >= 1 or raw <= 0:
        return f"{ratio}x smaller than {what}"
    return f"{round(summary['bytes'] / raw, 3)}x larger than {what}"


def _print_summary(summary: dict, json_out: bool, quiet: bool, out: Console = console) -> None:
    """encode's summary of one file made, as JSON or in words, to ``out`` (standard error where the .san itself went
    to standard output)."""
    if json_out:
        typer.echo(json.dumps(summary))
    elif not quiet:
        out.print(Text.assemble((str(summary["output"]), "bold"),
                                    f": {summary['bytes']} bytes, {summary['bits_per_sample']} bits/sample, "
                                    f"{_smaller_than(summary)} ({summary['mode']}, "
                                    f"{summary['seconds']:.2f} s)"))
        if summary["mode"] == "lossy":
            achieved = _achieved(summary["target"], summary["prdn_per_channel"])
            spent = summary["bits_per_sample_per_channel"]
            if len(achieved) <= LISTED_CHANNELS:
                out.print(f"target {_target_text(summary['target'])}; per channel, "
                              f"{_achieved_what(summary['target'])} achieved and bits/sample spent (header apart): "
                              + ", ".join(f"{a} at {b:.3f}" for a, b in zip(achieved, spent)))
            else:
                out.print(f"target {_target_text(summary['target'])}; PRDN achieved "
                              + _per_channel(achieved, summary["prdn_per_channel"], " %")
                              + f"; bits/sample spent (header apart) {min(spent):.3f}–{max(spent):.3f}")
            if not summary["checked"]:
                out.print(f"not decoded to check it (--effort {summary['effort']}; --verify checks it, as "
                              "--effort best does)")


@app.command()
@boundary
def decode(
    inputs: list[str] = typer.Argument(..., metavar="inputs", help="A .san file; several, each to its own output "
                                       "(-o: a folder); - reads one from standard input; a URL (s3://...) is read "
                                       "through fsspec, only the frames the range needs."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output path (record base path for WFDB; a "
                                       "folder: into it, named after the .san file)."),
    format: str | None = typer.Option(None, "--format", help="wfdb | edf | bdf | npy | csv | raw | wav | mat | "
                                      "brainvision (default: the -o suffix's, .npy, .csv, .tsv or .txt, .edf or "
                                      ".bdf, .bin or .raw, .wav, .mat, .vhdr; else the source's: EDF/BDF, .npy (its "
                                      "dtype and shape), CSV, WAV, MATLAB (its variable, class and orientation), "
                                      "BrainVision or encode --raw's layout (the same bytes, lossless), and WFDB for "
                                      "the rest)."),
    start: str | None = typer.Option(None, help="First sample to decode, or a time from the record's start: 90s, "
                                     "500ms, 2min, 1h, 1:30 (m:s), 1:02:03.5 (h:m:s); a time's first row at or after "
                                     "it (reads only the frames needed)."),
    end: str | None = typer.Option(None, help="Sample after the last one to decode, or a time: --start 10s --end 20s "
                                   "decodes the rows whose times fall in [10 s, 20 s)."),
    model: Path | None = typer.Option(None, "--model", help="Model JSON or exported folder, when the file only "
                                       "references one (a model the file does not decode with is not used, and a "
                                       "warning says so)."),
    channels: str | None = typer.Option(None, "--channels", help="Comma-separated channel indices or names to "
                                        "write, in that order (default: all; every channel is still decoded; a name "
                                        "holding commas is taken whole)."),
    physical: bool = typer.Option(False, "--physical", metavar="", help="CSV and .npy: values in physical units, "
                                  "(digital - baseline) / gain, as wfdb's rdsamp -p, not the stored integers; a CSV "
                                  "gets a time column."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Overwrite existing outputs."),
    fsync: bool = typer.Option(False, "--fsync", metavar="", help="Flush the outputs and their folder to disk."),
    max_values: int | None = typer.Option(None, "--max-values", help="Decode files declaring more samples x channels "
                                          "than their size justifies (see docs/FORMAT.md, Limits)."),
    threads: int | None = typer.Option(None, "--threads", help="Frames decoded at once (default: every core)."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print the summary as JSON (the files written, "
                                  "the rows and channels, a lossy file's target and PRDN per channel)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No summary."),
    salvage: bool = typer.Option(False, "--salvage", metavar="", help="A truncated file, or one whose index or a "
                                 "frame is damaged: decode every frame that is intact (from the index, or walked "
                                 "from the header where it is lost), a damaged frame's rows as each channel's "
                                 "invalid sample where every channel has one (WFDB's; EDF and BDF output annotate "
                                 "them BAD_ACQ_SKIP, and where there is none hold each channel's last value there), "
                                 "else up to the first damaged frame. A warning says which rows; the file is read "
                                 "whole."),
) -> None:
    """Restore a recording from a .san file (original digital format by default). Records of WFDB format 16, 212 or 80
    (an EDF's, a 16-bit WAV's or .npy's too; a multi-segment record's segments; a range or the channels picked too) are
    written as they decode, EDF and BDF files a block of data records at a time (memory bounded by the frame, not the
    record); WAV, .npy and CSV files (--physical's too, and the channels and range picked alone) from an array mapped
    from a temporary file, a block of rows at a time."""
    options = {name: value for name, value in locals().items() if name != "inputs"}
    sources = source_arguments(inputs)
    refuse_output_among(sources, output, "decode", lambda path: path.suffix.lower() != ".san")
    # (an output's name as a WFDB record would take it: a.b.san's and a_b.san's records would both be a_b)
    several_into(sources, output, "output", lambda input: record_like(_decoded_base(input, output)))
    each_input(sources, lambda input: _decode_one(input, **options))


def _decode_one(input: Path | str, **options: Any) -> None:
    """``decode`` of one .san file; a URL's opened once (fsspec: a request for its size, then its header and
    frames), and read again from its start by each step that reads it (it was opened by each: two or three times)."""
    from sancodec.stream import is_url

    if not is_url(input):
        _decode_from(input, None, **options)
        return
    with opened_input(input) as remote:
        _decode_from(input, remote, **options)


def _decode_from(input: Path | str, opened: BinaryIO | None, output: Path | None, format: str | None,
                 start: str | None, end: str | None, model: Path | None, channels: str | None, physical: bool,
                 force: bool, fsync: bool, max_values: int | None, threads: int | None, json_out: bool,
                 quiet: bool, salvage: bool) -> None:
    """:func:`_decode_one` of ``input`` (``opened``: a URL's file, opened once; None: a path)."""
    from sancodec.codec import decode_file
    from sancodec.codec.api import sample_range
    from sancodec.codec.limits import DecodeLimits
    from sancodec.io import default_format
    from sancodec.san.spec import load_model

    to_stdout, from_stdin = output is not None and str(output) == "-", str(input) == "-"
    if isinstance(input, Path) and not from_stdin:
        _check_input_file(input)  # (before the output's name is judged: a missing input is the error to report)
    if from_stdin and output is None:
        raise SanConfigError("reading standard input (-) needs -o FILE for the recording, or -o - for .npy on "
                             "standard output")
    if to_stdout and (json_out or fsync):
        raise SanConfigError(f"-o - writes .npy to standard output; {'--json' if json_out else '--fsync'} is for "
                             "a file (give -o FILE)")
    if to_stdout:
        _not_a_terminal(".npy")
    piped = _read_san(input) if from_stdin and (is_time(start) or is_time(end)) else None  # (read once: its rate)
    first, last = _range_rows(input, opened, piped, start, end)
    # (standard input is read once, below)
    source = None if from_stdin else source_of(input, opened)
    fmt = (format or ("npy" if to_stdout else default_format(output, source))).lower()
    by_suffix = None if output is None or to_stdout else default_format(output, None)
    if format is not None and by_suffix is not None and output is not None and output.suffix and \
            by_suffix != "wfdb" and by_suffix != fmt:
        raise SanConfigError(f"-o {output} names {by_suffix.upper()} output but --format asks {fmt.upper()}: give one, "
                             "or make them agree")  # (the file was written under the format's suffix instead)
    base = _decoded_base(input, output)
    # (a name decode picked, patient.01.san: patient_01_decoded, not -o's, is made a valid WFDB record name)
    target = base if to_stdout else output_target(base, fmt, source, output is None or output.is_dir())
    if physical and fmt not in ("csv", "npy"):
        raise SanConfigError(f"--physical applies to CSV and .npy output, not {fmt.upper()}, which holds the gains "
                             "itself")
    limits = DecodeLimits() if max_values is None else DecodeLimits(max_values=max_values)
    spec = load_model(model) if model else None
    if fmt == "wfdb" and not to_stdout and not from_stdin and not salvage:
        pick = None if channels is None else lambda names: channel_indices(names, channels)
        try:
            files = stream_wfdb(input if opened is None else opened, target, spec, limits, threads, force, fsync,
                                pick, first, last)
        except SanFormatError as exc:
            raise SanFormatError(named(str(exc), input)) from None
        if files is not None:
            with rewound_input(input, opened) as fh:  # the header only: the streamed file is not read whole again
                header = SanReader(fh).header
            wanted = list(range(header["n_channels"])) if channels is None else \
                channel_indices(header["signal"]["channel_names"], channels)
            lo, hi = sample_range(first, last, header["n_samples"])
            if json_out:
                _print_decoded_json(input, files, header, lo, hi, wanted, fmt)
            elif not quiet:
                console.print(f"decoded samples [{lo}, {hi}) x {len(wanted)} from {input}, a block at a time -> "
                              + ", ".join(str(f) for f in files))
                _print_lossy_target(header, None if channels is None else wanted)
            return
    on_disk = fmt in ("edf", "bdf", "wav", "npy", "csv") and not (from_stdin or salvage)  # (--physical: CSV and
    # .npy only, made a block at a time there too; --channels: only those mapped; --start/--end: that range; -o -:
    # .npy, mapped in the temporary folder)
    beside = Path(tempfile.gettempdir()) / "sancodec-stdout.npy" if to_stdout else target  # (where it is mapped)
    picked: list[int] = []  # (the channels a mapped decode kept, in their order)

    def keep(names: list[str]) -> list[int]:
        assert channels is not None
        picked[:] = channel_indices(names, channels)
        return picked

    with contextlib.ExitStack() as stack:
        folder: Path | None = None
        try:
            decoded = None
            hold = fmt in ("edf", "bdf")  # (a salvaged file's lost rows without an invalid sample: annotated there)
            # (the EDF, WAV and CSV writers take a Signal: its samples mapped from a file beside the output, not held)
            if on_disk and isinstance(input, Path) and beside.parent.is_dir():
                with input.open("rb") as fh:
                    _refuse_recording(input, fh.read(len(MAGIC)))
                folder = stack.enter_context(temp_folder(beside))  # (a full disk there: said of the output)
                decoded = decoded_on_disk(input, spec, limits, threads, folder, fmt == "csv" or physical,
                                          None if channels is None else keep, first, last)  # (a CSV writes a
                # decimal source's integers at their places; --physical makes its values of them)
                folder = folder if decoded is not None else None
            if decoded is None and opened is not None:  # a URL: only the frames the range needs are fetched
                with rewound_input(input, opened) as remote:
                    decoded = decode_file(remote, first, last, model=spec, limits=limits, threads=threads,
                                          salvage=salvage, hold_lost=hold)
            elif decoded is None:
                decoded = decode_file(_read_san(input) if piped is None else piped, first, last, model=spec,
                                      limits=limits, threads=threads,
                                      salvage=salvage, hold_lost=hold)
        except SanFormatError as exc:
            raise SanFormatError(named(str(exc), input)) from None
        _warn_salvaged(input, decoded)
        _write_decoded(decoded, input, target, fmt, channels, physical, to_stdout, force, fsync, json_out, quiet,
                       folder, picked if folder is not None and channels is not None else None)


def _range_rows(input: Path | str, opened: BinaryIO | None, piped: bytes | None, start: str | None,
                end: str | None) -> tuple[int | None, int | None]:
    """``--start`` and ``--end`` as rows (``timepoints.range_rows``), a time's at the rate the file's header gives
    (read from ``piped``, standard input's bytes, where given; else from the file's start)."""
    from sancodec.codec.api import read_header
    from sancodec.timepoints import range_rows

    def header() -> dict:
        try:
            if piped is not None:
                return read_header(piped)
            with rewound_input(input, opened) as fh:
                return read_header(fh)
        except SanFormatError as exc:
            raise SanFormatError(named(str(exc), input)) from None

    return range_rows(header, start, end)


def _warn_salvaged(input: Path | str, decoded: Any) -> None:
    """decode --salvage's ``warning:`` where frames were lost: how many survive, and the rows they hold."""
    if decoded.salvaged is None:
        return
    import warnings

    from sancodec.codec.api import salvaged_words
    from sancodec.errors import SancodecWarning

    warnings.warn(f"{input}: {salvaged_words(decoded.salvaged)}", SancodecWarning, stacklevel=2)


def _near_text(step: float, entry: list[Any]) -> str:
    """``info``'s words for a channel of float64 values near a step (format 1.19, ``codec.neargrid``): on it where its
    grid has no offset and no correction."""
    offset, _, _, bits = entry
    if not offset and not bits:
        return f", floats on a step of {step!r}"
    shifted = f" from {offset!r}" if offset else ""
    return f", floats near a step of {step!r}{shifted}, each within {bits}-bit corrections in its last place"


#: the output formats that hold no WFDB annotations, and decode's words saying so
_NO_ANNOTATIONS = {"npy": ".npy holds samples only", "csv": "CSV holds samples only",
                   "mat": "the MATLAB file holds samples only", "wav": "WAV holds samples only",
                   "brainvision": "the marker file holds its New Segment only", "raw": "raw output holds samples only"}


def _left_out(signal: Any, fmt: str) -> list[tuple[int, str]]:
    """What an output in ``fmt`` leaves out of ``signal``'s annotations, each (how many, the line that says so): its
    WFDB annotation sets, which .npy, CSV, MATLAB, WAV, raw and BrainVision output do not hold (EDF, BDF and WFDB
    do), and an EDF, BDF or BrainVision source's EDF+ annotations or markers (its ``source["annotations"]``, a
    BrainVision file's New Segment markers aside), which those do not hold either (BrainVision's own markers aside:
    its writer keeps them where it can). They were left out without a word."""
    if fmt not in _NO_ANNOTATIONS:
        return []
    out = []
    labels = sum(len(a) for a in signal.annotations)
    if labels:
        sets = ", ".join(sorted({a.extension for a in signal.annotations if len(a)}))
        out.append((labels, f"{labels} WFDB annotation(s) ({sets}) not written: {_NO_ANNOTATIONS[fmt]} (a decode to "
                            "WFDB, EDF or BDF writes them)"))
    source = signal.source
    if isinstance(source, dict) and source.get("kind") in ("edf", "bdf", "brainvision"):
        marks = source.get("kind") == "brainvision"
        notes = [n for n in source.get("annotations") or []
                 if not (marks and isinstance(n, list) and len(n) == 3 and str(n[2]).startswith("New Segment/"))]
        if notes and not (fmt == "brainvision" and marks):
            what = "BrainVision marker(s)" if marks else "EDF+ annotation(s)"
            out.append((len(notes), f"{len(notes)} {what} not written: {_NO_ANNOTATIONS[fmt]} (a decode to EDF, "
                                    "BDF or WFDB writes them)"))
    return out


def _write_decoded(decoded: Any, input: Path | str, target: Path, fmt: str, channels: str | None, physical: bool,
                   to_stdout: bool, force: bool, fsync: bool, json_out: bool, quiet: bool,
                   folder: Path | None = None, picked: list[int] | None = None) -> None:
    """``decode``'s output of ``decoded`` (an ``api.DecodedFile``): its channels picked, physical where asked,
    written in ``fmt`` (``decoded_output.shaped`` and ``write_shaped``, as ``batch --decode`` writes it), and said.
    ``folder``: where ``decoded``'s samples are mapped from (``stream.decoded_on_disk``); None: in memory.
    ``picked``: the channels ``decoded`` holds already (a mapped decode's --channels), in their order."""
    from sancodec.io.edf import SKIP_NOTE

    out = shaped(decoded, input, fmt, channels, physical, folder, picked)
    signal, wanted = out.signal, out.wanted
    padded = 0
    if to_stdout:  # the .npy alone goes there; what is said of it, to standard error
        write_stdout(signal, fmt, out.values)
        files: list[Any] = [STDOUT]
    else:
        files, padded = write_shaped(out, decoded, target, fmt, force, fsync, [input])
        _warn_float32_rounding(decoded, fmt)
    left_out = _left_out(signal, fmt)
    if json_out:
        _print_decoded_json(input, files, decoded.header, decoded.start, decoded.end, wanted, fmt, padded,
                            decoded.salvaged, sum(count for count, _ in left_out))
    elif not quiet:
        say = progress_console if to_stdout else console
        say.print(f"decoded samples [{decoded.start}, {decoded.end}) x {signal.n_channels} from "
                  f"{decoded.frames_read} frame(s) -> " + ", ".join(str(f) for f in files))
        labels = sum(len(a) for a in signal.annotations)
        if labels and fmt in ("edf", "bdf"):
            say.print(f"{labels} WFDB annotation(s) ("
                      + ", ".join(sorted({a.extension for a in signal.annotations if len(a)}))
                      + f") written as {fmt.upper()}+ annotations")
        for _, line in left_out:
            say.print(line)
        if padded:
            say.print(f"{fmt.upper()} holds whole data records: {padded} samples ({padded / signal.fs:.4g} s) "
                      f"repeating each channel's last value end the file, annotated {SKIP_NOTE}")
        _print_lossy_target(decoded.header, wanted, say)


def _warn_float32_rounding(decoded: Any, fmt: str) -> None:
    """A ``warning:`` where a lossy or near-lossless decode of floats went to BrainVision, whose only float type is
    32 bits, and that rounding may take it past the file's PRDN target or max error (``codec.float32promise``: a
    large offset with a small swing); a ``.npy`` or CSV holds the decode itself."""
    import warnings

    import numpy as np

    from sancodec.codec.float32promise import keeps_promise
    from sancodec.errors import SancodecWarning

    header = decoded.header
    if fmt != "brainvision" or decoded.signal.is_digital or header.get("mode") not in ("lossy", "near-lossless"):
        return
    if not keeps_promise(np.asarray(decoded.signal.samples, dtype=np.float64), header, header.get("quantum")):
        said = "PRDN target" if header.get("mode") == "lossy" else "max error"
        warnings.warn(f"BrainVision holds 32-bit floats, and rounded to them these values may pass the file's {said} "
                      "(a large offset beside a small swing); .npy or CSV holds the decode itself", SancodecWarning,
                      stacklevel=2)


def _print_decoded_json(source: Path | str, files: list[Path], header: dict, start: int, end: int,
                        channels: list[int], fmt: str, padded: int = 0,
                        salvaged: Salvaged | None = None, left_out: int = 0) -> None:
    """decode --json: what was written, from which rows and channels (the file's indices, in the order written),
    a lossy file's target and the PRDN each of those channels achieved over the record, the samples an EDF or
    BDF file's last data record was filled out with (``padded``, ``io.edf.edf_padding``), and the annotations the
    output format left out (``left_out``, :func:`_left_out`'s counts)."""
    from sancodec.codec.api import salvage_json

    lossy = header.get("lossy") or {}
    prdn = lossy.get("prdn")
    typer.echo(json.dumps({"input": str(source), "outputs": [str(f) for f in files], "format": fmt,
                           "mode": file_mode(header), "start": start, "end": end, "channels": channels,
                           "target": lossy.get("target"),
                           "prdn_per_channel": None if prdn is None else [prdn[c] for c in channels],
                           "padded_samples": padded,
                           "salvaged": None if salvaged is None else salvage_json(salvaged),
                           "annotations_not_written": left_out}))


def _print_lossy_target(header: dict, channels: list[int] | None = None, out: Console = console) -> None:
    """A lossy file's target and the PRDN each channel achieved over the record (nothing for other modes): of
    ``channels`` (the file's indices, in the order written; by default every channel), each named where they are a
    choice; to ``out`` (standard error where the decode went to standard output)."""
    if header.get("lossy"):
        target, prdn = header["lossy"]["target"], header["lossy"]["prdn"]
        achieved = _achieved(target, prdn)
        names = header.get("signal", {}).get("channel_names") or []
        every = channels is None or channels == list(range(len(prdn)))
        picked = list(range(len(prdn))) if channels is None else channels
        listed = achieved if every else [f"{names[c] if c < len(names) else c}: {achieved[c]}" for c in picked]
        out.print("lossy file, target " + _target_text(target) + f"; {_achieved_what(target)} per channel "
                      "(whole record): " + _per_channel(listed, prdn if every else [prdn[c] for c in picked], " %"))


def _max_error_said(head: dict) -> str:
    """A near-lossless file's bound as ``info`` shows it: the header's whole units, and where they are a decimal
    source's integers (10^-d of its values each: a CSV's with a gap), the bound in the values' units too."""
    emax = head["max_error"]
    places = header_decimals(head["signal"])
    if not places or not is_whole(emax):
        return str(emax)
    finest = max(places)
    kind = "unit" if emax == 1 else "units"
    return f"{emax} {kind} of 10^-{min(places)}: {emax / 10 ** min(places):.{min(places)}f}" + \
        (f"; finer channels' {emax / 10 ** finest:.{finest}f}" if finest != min(places) else "")


def _check_values(mode: str, max_error: float | None, targets: dict[str, float], effort: str | None,
                  frame_len: int | None, threads: int | None) -> None:
    """The library's own checks of ``encode``'s values, made before the output is looked at: a value it refuses is
    said first (it was found only after "already exists, use --force", which --force then led to)."""
    from sancodec.codec.lossy import LossyTarget, check_effort
    from sancodec.codec.pipeline import resolve_threads
    from sancodec.codec.prepare import check_options

    check_options(mode, max_error, "auto", 1.0, 1 << 16 if frame_len is None else frame_len)
    if mode == "lossy":
        LossyTarget(**targets)
        check_effort(effort)
    if threads is not None:
        resolve_threads(threads)


def _targets(prdn: float | None, snr: float | None, bps: float | None) -> dict[str, float]:
    """The lossy targets given on the command line, as ``encode``'s keyword arguments."""
    return {k: v for k, v in (("prdn", prdn), ("snr", snr), ("bps", bps)) if v is not None}


def _target_text(target: dict) -> str:
    units = {"prdn": " %", "snr": " dB", "bps": " bits/sample"}
    return ", ".join(f"{k.upper()} {v:g}{units[k]}" for k, v in target.items())


def _achieved_what(target: dict) -> str:
    """What :func:`_achieved` shows: the PRDN, and for an SNR target its SNR too."""
    return "PRDN (SNR)" if "snr" in target else "PRDN"


LISTED_CHANNELS = 16  # per-channel figures are listed up to this many channels, summarised past it


def _per_channel(items: list[str], values: list[float | None], unit: str) -> str:
    """``items`` (one text per channel) joined, or past :data:`LISTED_CHANNELS` channels their range, from the least
    to the largest of ``values`` (in ``unit``), and where --json lists each: a 256-channel EEG's summary had been
    256 entries."""
    if len(items) <= LISTED_CHANNELS:
        return ", ".join(items)
    known = [v for v in values if v is not None]
    span = f"{min(known):.3f}–{max(known):.3f}{unit}" if known else "-"
    return f"{span} over {len(items)} channels (--json lists each)"


def _achieved(target: dict, prdn: list) -> list[str]:
    """Each channel's PRDN achieved ("-" where the file holds none: a flat channel); for an SNR target also the
    SNR it amounts to, -20 log10(PRDN / 100) dB (the target's own definition, ``lossy.LossyTarget``), so that a user
    who asked in dB reads the answer in dB (a lossless channel's PRDN of 0 is an infinite SNR)."""
    from sancodec.metrics import snr_of_prdn

    def one(p: float | None) -> str:
        if p is None:
            return "-"
        if "snr" not in target:
            return f"{p:.3f} %"
        return f"{p:.3f} % ({snr_of_prdn(p):.2f} dB)" if p > 0 else f"{p:.3f} % (exact)"
    return [one(p) for p in prdn]


#: the one-file outputs' suffixes, which a format's replaces
#: what encode reads, that a .san is not
RECORDING_SUFFIXES = (".edf", ".bdf", ".hea", ".dat", ".npy", ".csv", ".tsv", ".txt", ".wav", ".mat", ".vhdr")


def _check_input_file(path: Path) -> None:
    """A SanFormatError where ``path`` is a folder or missing: what decoding it would find first."""
    if path.is_dir():
        raise SanFormatError(f"{path}: is a directory, not a .san file")
    if not path.exists():
        raise SanFormatError(f"{path}: no such file")


def _read_san(path: Path | str) -> bytes:
    """A .san file's bytes (``-``: standard input's; a URL's through fsspec), refused in one line where there are
    none to read."""
    if isinstance(path, str):  # (a URL: file arguments are paths else, source_arguments)
        with opened_input(path) as remote:
            return remote.read()
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        if not data:
            raise SanFormatError("standard input held no .san file (it was empty)")
        return data
    _check_input_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SanFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    _refuse_recording(path, data[: len(MAGIC)])
    return data


def _refuse_recording(path: Path, start: bytes) -> None:
    """A SanFormatError where ``path``, whose first bytes are ``start``, is a recording (by its suffix) and no .san
    file: it says how to make one (was "not a .san file (magic b'0   ')" for an EDF given to info or decode)."""
    if not start.startswith(MAGIC) and path.suffix.lower() in RECORDING_SUFFIXES:
        raise SanFormatError(f"{path}: a recording, not a .san file (`sancodec encode {path.name}` makes one)")


def _real_samples(head: dict) -> int:
    """Samples over all channels, each slow channel of a multi-frequency record at its own rate."""
    spf = head["signal"].get("samples_per_frame") or [1] * head["n_channels"]
    return sum(head["n_samples"] * v // frame_rows(spf) for v in spf)


def _not_a_terminal(what: str) -> None:
    """Refuse to write binary ``what`` (-o -) to standard output where that is a terminal, as gzip refuses."""
    if sys.stdout.isatty():
        raise SanConfigError(f"-o - writes {what} bytes to standard output, which is a terminal here: pipe it into a "
                             "program or a file (| or >), or give -o FILE")


@app.command()
@boundary
def info(
    inputs: list[str] = typer.Argument(..., metavar="inputs", help="A .san file; several, each in turn (`sancodec "
                                       "check` lists an archive a line a file); - reads one from standard input; a "
                                       "URL (s3://..., https://...) is read through fsspec, its header and index "
                                       "only."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print the header as JSON (a line a file)."),
    bands: bool = typer.Option(False, "--bands", metavar="", help="Lossy files: where each channel's bytes go "
                               "(frame codings, beat template, each wavelet band and its frequencies)."),
) -> None:
    """Show a .san file's header, channels, mode, model, frames and size."""
    sources = source_arguments(inputs)
    refuse_stdin_among(sources)
    each_input(sources, lambda input: _info_one(input, json_out, bands))


def _gaps_text(gaps: list | None, names: list[str]) -> str | None:
    """A lossy or near-lossless file's gaps coded apart (format 1.15: ``FileLayout.gaps``), channel by channel: how
    many rows, in how many runs, which value they decode to; None where it has none."""
    if gaps is None:
        return None
    return "; ".join(f"{name}: {int((ends - starts).sum())} rows in {len(starts)} run(s), decoded as {value}"
                     for name, gap in zip(names, gaps) if gap is not None for value, starts, ends in [gap])


def _info_one(input: Path | str, json_out: bool, bands: bool) -> None:
    """``info`` of one .san file (a URL's header and index alone, its payloads too for ``bands``)."""
    from sancodec.codec import read_info
    from sancodec.codec.anatomy import lossy_anatomy
    from sancodec.io.arrays import array_dtype_name
    from sancodec.stream import is_url

    try:
        if is_url(input) and not bands:
            with opened_input(input) as remote:
                details, anatomy = read_info(remote), None
        else:
            data = _read_san(input)
            details = read_info(data)
            anatomy = lossy_anatomy(data) if bands else None
    except SanFormatError as exc:
        raise SanFormatError(named(str(exc), input)) from None
    head = details["header"]
    if json_out:
        extra = {} if anatomy is None else {"channels": [a.to_dict() for a in anatomy]}
        typer.echo(json.dumps({**details, "version": list(details["version"]), "encoded_mode": file_mode(head),
                               **extra}))
        return
    sig = head["signal"]
    model = head.get("model") or {}
    major, minor = details["version"]
    table = Table(title=f"{shown(input)} ({details['bytes']} bytes, format {major}.{minor})")
    table.add_column("field")
    table.add_column("value")
    rows = [
        ("mode", file_mode(head) + (f" (max error {_max_error_said(head)})" if head["mode"] == "near-lossless" else "")
         + (" (the paper's SAN-only code)" if file_mode(head) == "san" else "")
         + (f" (target {_target_text(head['lossy']['target'])}, {_achieved_what(head['lossy']['target'])} achieved "
            + _per_channel(_achieved(head["lossy"]["target"], head["lossy"]["prdn"]), head["lossy"]["prdn"], " %")
            + ")"
            if head.get("lossy") else "")),
        ("samples x channels", f"{head['n_samples']} x {head['n_channels']} at {sig['fs']} Hz"),
        ("duration", length_text(head["n_samples"] / sig["fs"])),
        *([("start", " ".join(str(sig[k]) for k in ("base_date", "base_time") if sig.get(k)))]
          if sig.get("base_date") or sig.get("base_time") else []),
        ("frames", f"{details['frames']} of {head['frame_len']} samples"),
        ("bits per sample", f"{8 * details['bytes'] / _real_samples(head):.3f}"),
        ("header and framing", f"{details['bytes'] - details['payload_bytes']} bytes "
                               f"(frames' payloads {details['payload_bytes']})"),
        ("model", (model.get("sha256", "")[:16] + ("… (embedded)" if model.get("spec") else "… (referenced)"))
         if model else "none (no frame uses the SAN)"),
        ("annotations", _annotations_text(sig)),
        ("source", _source_text(sig.get("source"))),
    ]
    places = header_decimals(sig)
    missing = missing_of(sig.get("source")) if places is not None else None
    if missing is not None:  # a CSV's gaps (or a stream's NaN): how they are held and come back
        rows.append(("gaps", f"held as {missing[0]} (WFDB's invalid sample), written back as "
                             f"{repr(missing[1]) if missing[1] else 'empty cells'} in CSV, NaN in .npy"))
    layout = from_header(head)  # (the gaps' runs and floors checked, as a decode checks them)
    coded_apart = _gaps_text(layout.gaps, sig["channel_names"])
    if coded_apart:
        rows.append(("gaps coded apart", coded_apart))
    floors = layout.floors
    if floors is not None:
        rows.append(("samples kept above", "; ".join(f"{name}: {floor - 1}" for name, floor
                                                     in zip(sig["channel_names"], floors) if floor is not None)
                     + " (their gap value: format 1.16's floor)"))
    for i, name in enumerate(sig["channel_names"]):
        fmt = sig["fmt"][i] if sig.get("fmt") else "-"
        spf = sig.get("samples_per_frame")  # (checked by the reader: whole numbers whose lcm divides the rows)
        rate = f", {spf[i]} samples/frame ({sig['fs'] * spf[i] / frame_rows(spf):g} Hz)" \
            if isinstance(spf, list) and i < len(spf) else ""
        decimals = "" if places is None else f", {places[i]} decimals"
        half = array_dtype_name(sig.get("source")) in FLOAT16_NAMES  # (a float16 array's, widened)
        kind = ("float16 values, as float32s," if half else "float32 values") if head.get("float32") is True \
            else "floats"  # (format 1.18: each the float32 nearest that step times an integer; without a step, each
        # held as its bits)
        near = head.get("near_grid")  # (format 1.19: a count on the step from an offset, and a correction)
        step = _near_text(head["quantum"][i], near[i]) if near \
            else f", {kind} on a step of {head['quantum'][i]!r}" if head["mode"] == "lossless" and head.get("quantum") \
            else f", {kind} held as their bits" if head.get("float32") is True \
            else ""  # (format 1.17: each value that step times an integer)
        rows.append((f"channel {i}", f"{name} [{sig['units'][i]}], format {fmt}{rate}{decimals}{step}"))
    for key, value in rows:
        table.add_row(key, str(value))
    console.print(table)
    for channel in anatomy or []:
        console.print(_anatomy_table(channel))


def _annotations_text(sig: dict) -> str:
    """``info``'s annotations row: each WFDB annotation file's count, and an EDF/BDF source's EDF+ annotations (the
    header's own entry, untrusted: counted only where it is a list)."""
    parts = [f"{a['extension']}: {a['count']}" for a in sig.get("annotations", [])]
    source = sig.get("source")
    notes = source.get("annotations") if isinstance(source, dict) and source.get("kind") in ("edf", "bdf") else None
    if isinstance(notes, list) and notes and isinstance(source, dict):
        parts.append(f"{source['kind'].upper()}+: {len(notes)}")
    return ", ".join(parts) or "none"


def _anatomy_table(channel) -> Table:
    """One channel's bytes by part (``info --bands``); ≈ marks a band's estimated share of a joint blob, (LPC) a
    band coded as its linear prediction's residual (its filter's bytes counted with it), (parent contexts) one
    coded in an adaptive stream under its parent's contexts too (format 1.13); "in part": in some frames only."""
    frames = ", ".join(f"{count} {kind}" for kind, count in channel.frames.items())
    table = Table(title=f"{channel.name}: {channel.bytes} bytes in {frames} frame(s)")
    for col in ("part", "Hz", "values", "bytes", "share"):
        table.add_column(col, justify="left" if col in ("part", "Hz") else "right")

    def row(part: str, hz: str, values: str, size: float, estimated: bool = False) -> None:
        share = f"{100 * size / channel.bytes:.1f} %" if channel.bytes else "-"
        table.add_row(part, hz, values, ("≈" if estimated else "") + f"{size:.0f}", share)

    for kind, size in channel.frame_bytes.items():
        if not kind.startswith("wavelet"):
            row(f"{kind} frames", "", "", size)
    if channel.head_bytes:
        row("wavelet frame heads", "", "", channel.head_bytes)
    if channel.template_bytes:
        row("beat template", "", "", channel.template_bytes)
    if channel.mains_bytes:
        row("mains hum", "", "", channel.mains_bytes)
    for band in channel.bands.values():
        tags = [name + ("" if count == band.coefficients else " in part")
                for name, count in (("LPC", band.predicted), ("parent contexts", band.parents)) if count]
        label = f"band {band.name}" + (f" ({', '.join(tags)})" if tags else "")
        row(label, f"{band.low_hz:g}-{band.high_hz:g}", str(band.coefficients), band.bytes, band.estimated)
    return table


@app.command()
@boundary
def report(
    input: str = typer.Argument(..., help="The original recording (a URL: fetched through fsspec first)."),
    san: str | None = typer.Argument(None, help="Its .san file (default: encode now, in memory; a URL: read "
                                     "through fsspec)."),
    mode: str = typer.Option("lossless", help=f"Mode when encoding now: {MODES}."),
    max_error: float | None = typer.Option(None, help="near-lossless bound when encoding now."),
    prdn: float | None = typer.Option(None, "--prdn", help="lossy target (PRDN %) when encoding now."),
    snr: float | None = typer.Option(None, "--snr", help="lossy target (SNR in dB) when encoding now."),
    bps: float | None = typer.Option(None, "--bps", help="lossy target (bits per sample) when encoding now."),
    effort: str | None = typer.Option(None, "--effort",
                                      help="lossy effort when encoding now: balanced (the default), best or fast."),
    fs: float | None = typer.Option(None, "--fs", help="Sampling frequency of a .npy recording or a CSV without a "
                                    "time column (default: the .san's, when one is given)."),
    json_out: bool = typer.Option(False, "--json", metavar="", help="Print the report as JSON."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG: original, reconstruction, residual, kernels."),
    rd_curve: Path | None = typer.Option(None, "--rd-curve", help="Write a PNG: channel 0's bits/sample against "
                                         "PRDN for lossy and near-lossless, a plain wavelet coder's, lossless "
                                         "lines, this file's point."),
    force: bool = typer.Option(False, "--force", "-f", metavar="", help="Overwrite an existing --plot or "
                               "--rd-curve file."),
    raw: str | None = typer.Option(None, "--raw", metavar="TYPE[:CHANNELS]", help="The recording is headerless "
                                   "interleaved samples, as encode --raw reads them (with --fs, or the .san's rate)."),
    model: Path | None = typer.Option(None, "--model", help="Model JSON or exported folder: the SAN of --mode san "
                                      "when encoding now (default: the bundled ECG model), or of a .san that only "
                                      "references its model."),
) -> None:
    """Sizes next to raw, gzip, bz2, zstd and FLAC (a lossy file's also next to a plain wavelet coder at the PRDN of
    each channel), and the fidelity figures, on one screen."""
    options = {name: value for name, value in locals().items() if name not in ("input", "san")}
    source, given = source_arguments([input])[0], None if san is None else source_arguments([san])[0]
    with fetched_input(source) as local:
        _report(local, str(source), given, **options)


def _unreported(values: Any) -> Any:
    """``report``'s answer, in lossless and san modes, to floats with NaN gaps that are no decimals (``read_signal``'s
    ``rounder``): one error that names the modes that code them, not the reader's."""
    raise SanConfigError("floats with NaN gaps that are no decimals code in near-lossless and lossy modes only "
                         "(rounded for the target): `sancodec report --mode lossy --prdn P` measures such a file "
                         "against the floats given; fill the gaps for the other modes")


def _report_rounder(mode: str, max_error: float | None, prdn: float | None, snr: float | None, bps: float | None,
                    given: bytes | None, rounding: list) -> Any:
    """What ``report`` reads floats with NaN gaps that are no decimals through: rounded for the lossy ``mode``'s
    target as ``encode`` rounds them (``api.gaps_rounder``; with a ``.san`` given, for a bits budget's fine places:
    they stand in for the values in the wavelet coder's row alone, the file being measured against the floats
    themselves); :func:`_unreported` in the other modes."""
    from sancodec.codec.api import gaps_rounder

    if given is not None:
        return gaps_rounder("lossy", None, None, None, 1.0, rounding)
    return gaps_rounder(mode, max_error, prdn, snr, bps, rounding) or _unreported


def _report(input: Path, label: str, san: Path | str | None, mode: str, max_error: float | None,
            prdn: float | None, snr: float | None, bps: float | None, effort: str | None, fs: float | None,
            json_out: bool, plot: Path | None, rd_curve: Path | None, force: bool, raw: str | None,
            model: Path | None) -> None:
    """``report`` of the local recording ``input`` (``label``: as the command named it, a URL perhaps)."""
    from sancodec.baselines import baseline_sizes, missing_packages
    from sancodec.codec.api import encode_rounded
    from sancodec.io import read_signal
    from sancodec.io.wfdb import find_wfdb_base
    from sancodec.rd import WAVELET_VALUES, wavelet_bytes
    from sancodec.report import as_coded, held_narrow, make_report
    from sancodec.san.spec import load_model

    if input.suffix.lower() == ".san":  # the recording comes first; a .san alone has no original to compare with
        raise SanConfigError(f"{label}: report compares a .san with its original recording: give the recording "
                             f"first, then the .san (`sancodec info {input.name}` describes a .san alone)")
    for picture in (plot, rd_curve):
        if picture is not None:
            check_output(picture, force, input_files(input) + ([san] if san else []))
            figure_format(picture)  # (before any work)
    spec = load_model(model) if model else None
    given = _read_san(san) if san else None
    if fs is None and given is not None and (raw is not None or input.suffix.lower() in (".npy", *TABLE_SUFFIXES)):
        with _said_of(san):
            fs = (SanReader(given).header.get("signal") or {}).get("fs")  # the rate it was encoded at
    rounding: list = []  # floats with NaN gaps that are no decimals, as given, and rounded for a lossy mode
    signal = held_narrow(read_signal(input, fs=fs, rounder=_report_rounder(mode, max_error, prdn, snr, bps, given,
                                                                          rounding)) if raw is None else
                         _raw_signal(input, raw, fs))  # (held whole)
    floats = rounding[0].values if rounding else None  # (what the file is measured against, and the tools given)
    if floats is not None and (plot is not None or rd_curve is not None):
        raise SanConfigError("--plot and --rd-curve do not draw floats with NaN gaps that are no decimals (the table "
                             "and its figures measure them); fill the gaps to draw them")
    if given is not None:
        data = given
    else:
        with progress_console.status(f"encoding {signal.n_samples} x {signal.n_channels} samples ({mode})…"):
            data = encode_rounded(signal, rounding[0] if rounding else None, spec, mode, max_error, effort=effort,
                                  **_targets(prdn, snr, bps))
    base = find_wfdb_base(input)
    if base is not None:
        files = base.parent.glob(base.name + ".*")
        original_bytes = sum(f.stat().st_size for f in files if f.suffix in (".dat", ".mat"))
    else:
        original_bytes = input.stat().st_size
    with progress_console.status("decoding, and compressing the samples with gzip, bz2, lzma -9e, zstd, FLAC, "
                                 "pcodec and a wavelet coder to compare…"):
        with _said_of(san):  # (a damaged .san's faults name it)
            header = SanReader(data).header
            signal = held_narrow(as_coded(signal, header))  # decimals: compared, and sized, as the integers coded
            rep = make_report(signal, data, original_bytes=original_bytes or None, model=spec, given=floats)
        sizes = baseline_sizes(signal, floats)
        if san is not None:
            _warn_other_original(label, str(san), rep, header, signal)
        lossy = any(p > 0 for p in rep.prdn_per_channel)  # a lossy file's like-for-like size: the reference wavelet
        # coder with each channel at the PRDN the .san decodes to (rd.wavelet_bytes)
        wavelet = wavelet_bytes(signal, list(rep.prdn_per_channel)) if lossy else None
    if plot is not None:
        _plot(signal, data, plot, spec)
    if rd_curve is not None:
        _rd_plot(signal, data, rd_curve, rep.prdn_per_channel[0])
    if json_out:
        typer.echo(json.dumps({**rep.to_dict(), "baselines": sizes, "baselines_not_installed": missing_packages(),
                               "wavelet_at_prdn": wavelet}))
        return
    n = signal.n_values
    table = Table(title=f"{label}: {signal.n_samples} x {signal.n_channels} samples" if signal.frame_size == 1 else
                  f"{label}: {signal.n_values} samples in {signal.n_channels} channels at their own rates")
    raw_bytes = next(iter(sizes.values()))  # the raw samples at the width the tools were given (baselines.raw_width)
    for col in ("encoding", "bytes", "bits/sample", "CR vs raw"):
        table.add_column(col, justify="right" if col != "encoding" else "left")
    missing = missing_packages()
    rows = {**sizes, **({WAVELET_ROW: wavelet} if lossy else {}), f".san ({rep.mode})": len(data)}
    for name, size in rows.items():
        if size is None and name == WAVELET_ROW:
            table.add_row(name, "n/a", f"past {WAVELET_VALUES >> 20} M samples" if n > WAVELET_VALUES else
                          "can't meet these PRDNs", "")
        elif size is None:  # the tool is not installed, or cannot hold these samples (FLAC: 16 or 24 bits)
            table.add_row(name, "n/a", f"pip install {missing[name]}" if name in missing else
                          "holds 16- or 24-bit integers" if name == "FLAC -8" else "can't hold these", "")
        else:
            table.add_row(name, str(size), f"{8 * size / n:.3f}", f"{raw_bytes / size:.2f}" if raw_bytes else "")
    console.print(table)
    per_channel = ("PRDN per channel: " + _per_channel([f"{p:.3f} %" for p in rep.prdn_per_channel],
                                                       list(rep.prdn_per_channel), " %") + "\n"
                   if rep.n_channels > 1 else "")
    console.print(
        f"PRD {rep.prd:.3f} %   PRDN {rep.prdn:.3f} %   SNR {rep.snr_db:.2f} dB   "
        f"{_max_error_text(signal, rep, floats is not None)}\n"
        f"{per_channel}"
        f"paper's metric: CR⁻¹ {rep.cr_inv_paper:.4f}  L̃ {rep.l_tilde:.4f}  φ {rep.phi:.4f}  "
        f"({rep.activations} activations, W = {rep.kernel_sizes_sum}"
        + (")" if rep.activations or rep.kernel_sizes_sum else
           "; φ counts a SAN's kernels and activations, and this file holds none: its CR⁻¹ is 0 by the paper's "
           "definition, so judge it by its bytes above)")
    )


def _warn_other_original(label: str, san: str, rep: Any, header: dict, signal: Any) -> None:
    """A ``warning:`` where the .san given cannot have been made from the recording given: a lossless file that
    decodes to other samples, or a near-lossless one past its max error (its samples' units: not where decimals are
    held as integers); the report still measures the one against the other."""
    import warnings

    from sancodec.errors import SancodecWarning

    if rep.mode == "lossless" and rep.max_abs_error > 0:
        said = "is lossless, but decodes to other samples than"
    elif rep.mode == "near-lossless" and not header_decimals(signal.header_dict()) and \
            isinstance(header.get("max_error"), (int, float)) and rep.max_abs_error > float(header["max_error"]):
        said = f"keeps every sample within {header['max_error']:g}, but is {rep.max_abs_error:g} from"
    else:
        return
    warnings.warn(f"{san} {said} {label}: it was not made from this recording (or this one has changed since)",
                  SancodecWarning, stacklevel=2)


#: report's row of the reference wavelet coder at the PRDN each channel of a lossy .san decodes to
WAVELET_ROW = "wavelet coder, same PRDNs"


def _as_text(name: str) -> str:
    """A channel name as matplotlib prints it literally: its dollar signs escaped, which would otherwise open
    mathtext (a name such as "$\\frac{a$" failed the whole plot)."""
    return name.replace("$", r"\$")


def _max_error_text(signal, rep, floats: bool = False) -> str:
    """``report``'s largest error, in what it counts: a digital record's ADC units, with their physical size where
    every channel shares one gain and unit (mitdb 100: "3 ADC units (0.015 mV)"); decimals held as integers in their
    values' units ("0.050 (50 units of 10^-3)"); a float record's own units (``floats``: floats with NaN gaps,
    measured as given, which ``signal`` holds rounded as decimals)."""
    e, units = rep.max_abs_error, set(signal.units)
    unit = f" {next(iter(units))}" if len(units) == 1 and next(iter(units)) not in ("", "NU") else ""
    if not signal.is_digital or floats:
        return f"max |error| {e:g}{unit}"
    places = header_decimals(signal.header_dict())
    if places and len(set(places)) == 1:  # decimals held as integers (a CSV's with a gap): in their values' units
        return f"max |error| {e / 10 ** places[0]:.{places[0]}f}{unit} ({e:g} units of 10^-{places[0]})"
    gains = set(signal.adc_gain or [])
    physical = f" ({e / next(iter(gains)):.4g}{unit})" if unit and len(gains) == 1 and next(iter(gains)) > 0 else ""
    return f"max |error| {e:g} ADC units{physical}"


@contextlib.contextmanager
def _said_of(san: Path | str | None) -> Iterator[None]:
    """A :class:`SanFormatError` raised in the block said of the .san file ``san`` (None: one encoded now, in
    memory, which has no name): ``report``'s damaged .san said "frame 0: checksum mismatch" alone."""
    try:
        yield
    except SanFormatError as exc:
        if san is None:
            raise
        raise SanFormatError(named(str(exc), san)) from None


def _rd_plot(signal, data: bytes, path: Path, here: float) -> None:
    """``report --rd-curve``: channel 0's curves (``rd.rd_curves``) and this file's point, at ``here``, channel 0's
    PRDN outside its gaps (the report's, not a second decode of the file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = _rd_curves_shown(signal)
    fig, ax = plt.subplots(figsize=(10.5, 5))
    for label, points, style in (("sancodec lossy (--prdn)", curves.lossy, "o-"),
                                 ("sancodec near-lossless (--max-error)", curves.near_lossless, "s--"),
                                 ("plain wavelet coder (reference)", curves.wavelet, "^-.")):
        pts = sorted(p for p in points if p[0] > 0)
        if pts:
            ax.plot([p for p, _ in pts], [b for _, b in pts], style, label=label)
    for i, (tool, bps) in enumerate(sorted(curves.lossless.items(), key=lambda kv: kv[1])):
        name = tool if "lossless" in tool else f"{tool} (lossless)"
        ax.axhline(bps, ls=":", lw=1, color=f"C{i + 2}", label=f"{name}: {bps:.2f}")
    if here > 0:
        mode = file_mode(SanReader(data).header)
        lossy = mode == "lossy"
        ax.plot([here], [_star_bits(data, signal.n_values, lossy)], "k*", ms=14,
                label=f"this file ({mode}" + (", channel 0)" if lossy else ")"))
    ax.set_xscale("log")
    ax.set_yscale("log")  # (a lossy curve at a tenth of a bit a sample stays readable under the lossless lines)
    ax.set_xlabel("PRDN, channel 0 (%)")
    ax.set_ylabel("bits per sample")
    ax.set_title(f"rate against distortion: {_as_text(signal.channel_names[0])}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)  # (beside the axes:
    # over them, its markers read as points of the curves, this file's star among them)
    fig.tight_layout()
    _save_figure(fig, path)


def _star_bits(data: bytes, values: int, lossy: bool) -> float:
    """This file's bits per sample on ``report --rd-curve``, counted as the curves count theirs (a one-channel file's
    every byte, header and framing included): a lossy file's channel 0's own bits and the container's bytes beyond
    every channel's payload spread over the ``values`` samples (a one-channel file's whole bits; channel 0's alone,
    header apart, drew a short record's star far below the curve it lies on); another file's whole bits."""
    if not lossy:
        return 8 * len(data) / values
    from sancodec.codec.anatomy import lossy_anatomy

    channels = lossy_anatomy(data, bands=False)
    return channels[0].bits_per_sample + 8 * (len(data) - sum(c.bytes for c in channels)) / values


def _rd_curves_shown(signal):
    """``rd.rd_curves`` of channel 0 with a progress bar on stderr, where that is a terminal: each step is a whole
    coding of the channel, minutes in all on a day's record."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sancodec.rd import rd_curves

    with Progress(TextColumn("rate-distortion curve, channel 0: {task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=progress_console,
                  disable=not progress_console.is_terminal, transient=True) as bar:
        task = bar.add_task("", total=None)

        def shown(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        return rd_curves(signal, 0, progress=shown)


def _plot(signal, data: bytes, path: Path, model: SanSpec | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from sancodec.codec import decode_file
    from sancodec.codec.anatomy import beat_template
    from sancodec.report import file_spec

    n = min(signal.n_samples, int(signal.fs * 5) or 2000)
    decoded = decode_file(data, 0, n, model=model)  # the frames of the first seconds drawn, not the record (a 24 h
    # Holter's); ``model``: a file's that only references it
    spec_dict = file_spec(decoded.header.get("model") or {}, model)
    t = np.arange(n) / signal.fs  # (seconds from the record's start)
    x, y = signal.samples[:n, 0].astype(float), decoded.signal.samples[:n, 0].astype(float)
    missing = missing_of(signal.source)
    if missing is not None:  # a CSV's gaps (WFDB's invalid sample): left out of the lines, not drawn as spikes
        x[x == missing[0]], y[y == missing[0]] = math.nan, math.nan
    unit = "ADC units" if signal.is_digital else _as_text(signal.units[0])
    fig, axes = plt.subplots(4, 1, figsize=(10, 9))
    axes[0].plot(t, x, lw=0.8)
    axes[0].set_title(f"original, channel 0 ({_as_text(signal.channel_names[0])})")
    axes[1].plot(t, y, lw=0.8, color="tab:orange")
    axes[1].set_title(f"decoded ({file_mode(decoded.header)})")
    axes[2].plot(t, x - y, lw=0.8, color="tab:red")
    axes[2].set_title("residual (original - decoded)")
    for ax in axes[:3]:
        ax.set_ylabel(unit)
    axes[2].set_xlabel("time (s)")
    template = None if spec_dict else beat_template(data)
    if spec_dict:
        for i, k in enumerate(spec_dict["kernels"]):
            axes[3].plot(k, label=f"kernel {i} ({spec_dict['activations'][i]}, m={len(k)})")
        axes[3].legend(fontsize=8)
        axes[3].set_title("SAN kernels")
    elif template is not None:  # the lossy coder's one-kernel SAN: the record's beat, placed at each beat it predicts
        rate = signal.fs / signal.sample_steps()[0]  # (channel 0's own rate: the template's taps are its samples)
        axes[3].plot((np.arange(len(template.t8)) - template.anchor) / rate, template.t8 / 8.0, lw=1.2,
                     color="tab:green")
        axes[3].axvline(0.0, ls=":", lw=0.8, color="grey")
        axes[3].set_title(f"beat template, channel 0: a one-kernel SAN fitted to the record ({len(template.t8)} taps, "
                          f"{len(template.positions)} beats)")
        axes[3].set_xlabel("time from the beat (s)")
        axes[3].set_ylabel(unit)
    else:
        axes[3].axis("off")
        axes[3].text(0.5, 0.5, "no SAN kernel or beat template in this file", ha="center", va="center",
                     transform=axes[3].transAxes)
    fig.tight_layout()
    _save_figure(fig, path)


def figure_format(path: Path) -> str:
    """The image format ``path``'s suffix names (png without one), refused where matplotlib writes no such format:
    every picture was PNG data whatever its name (a .jpg or a .txt of PNG bytes)."""
    from matplotlib.backend_bases import FigureCanvasBase

    fmt = path.suffix.lower().lstrip(".") or "png"
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise SanConfigError(f"{path}: matplotlib writes no .{fmt} picture; name it .png, .svg, .pdf or another of "
                             f"{', '.join(sorted(supported))}")
    return fmt


def _save_figure(fig, path: Path) -> None:
    """``fig`` written to ``path`` in the format its suffix names (:func:`figure_format`), atomically."""
    import io

    import matplotlib.pyplot as plt

    from sancodec._atomic import write_bytes_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format=figure_format(path), dpi=90)
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())
