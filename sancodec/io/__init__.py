"""Read and write signals: WFDB (via wfdb-python), EDF/EDF+/BDF (via edfio), WAV, MATLAB, ``.npy`` and CSV.

``read_signal`` picks the reader from the path (a WFDB record may be named by
its base path, ``.hea`` or ``.dat``); ``write_signal`` picks the writer from
``format`` or the suffix. Every failure is a :class:`SanFormatError` with a
one-line message naming the file. No torch here.

Multi-frequency WFDB records (several samples per frame) have one rule: ``read_signal``
holds each slow channel's sample for its rows, so all channels share the fastest rate's time
axis and round-trip exactly; ``read_channel`` (training, the paper's loaders) returns one
channel at its own native rate (``Signal.channel``). No reader averages frames.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.arrays import Rounder, read_csv, read_npy, write_csv, write_npy
from sancodec.io.remote import fetched, is_url
from sancodec.io.wfdb import checked_annotators, find_wfdb_base, read_wfdb, write_wfdb
from sancodec.io.wfdb import output_files as wfdb_output_files
from sancodec.signal import Signal

__all__ = ["FORMATS", "ONE_FILE_FORMATS", "TABLE_SUFFIXES", "default_format", "output_files", "read_channel",
           "read_signal", "write_signal"]

FORMATS = ("wfdb", "npy", "csv", "edf", "bdf", "raw", "wav", "mat", "brainvision")
#: the formats written as one file, named by its suffix (the rest: WFDB's several files of a record, BrainVision's
#: header, data and markers)
ONE_FILE_FORMATS = tuple(f for f in FORMATS if f not in ("wfdb", "brainvision"))
#: the suffixes of delimited text tables, read and written as CSV (a ``.tsv`` written with tabs, a ``.txt`` with
#: its source's delimiter, else single spaces: ``numpy.savetxt``'s and ``numpy.loadtxt``'s default)
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
_SUFFIX_FORMATS = {".npy": "npy", ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".edf": "edf", ".bdf": "bdf",
                   ".bin": "raw", ".raw": "raw", ".wav": "wav", ".mat": "mat", ".vhdr": "brainvision"}


def read_signal(path: str | os.PathLike[str], fs: float | None = None, *, keep_header_text: bool = False,
                rounder: Rounder = None, annotators: Sequence[str] = ()) -> Signal:
    """Read a recording. ``fs`` (Hz) is required for ``.npy`` and for CSV without a time column;
    a WFDB header carries its own. ``keep_header_text``: a single-segment WFDB record's ``.hea`` text, or an EDF or
    BDF file's header, is kept in the signal's source, which a lossless ``.san`` holds and its decode writes back as
    it was (``io.wfdb_text``, ``io.edf_text``; ``sancodec encode --keep-header-text``). ``path`` may be a URL
    (``s3://bucket/night.edf``, ``https://host/db/100``): the recording's files are fetched through fsspec first
    (``io.remote``). ``rounder``: what a ``.npy`` or CSV's floats with NaN gaps that are no decimals go through
    (``api.gaps_rounder``, the CLI's lossy encode; else they are refused). ``annotators``: a WFDB record's annotation
    files of these extensions are read too, beside ``.atr`` and the other annotators sancodec knows
    (``io.wfdb.KNOWN_ANNOTATIONS``): ludb's per-lead ``["i", "ii", ...]``, a user's own ``["mine"]``; each must exist
    and parse."""
    asked = checked_annotators(annotators)
    if is_url(path):
        with fetched(str(path), asked) as local:
            return read_signal(local, fs, keep_header_text=keep_header_text, rounder=rounder, annotators=asked)
    p = Path(path)
    if p.is_dir():
        raise SanFormatError(f"{p}: is a directory, not a recording")
    base = find_wfdb_base(p)
    if base is not None:
        return _own_rate(read_wfdb(base, keep_header_text=keep_header_text, annotators=asked), fs, p, "a WFDB record")
    if asked:
        raise SanConfigError(f"{p}: annotators name a WFDB record's annotation files ({', '.join(asked)}); this is no "
                             "WFDB record")
    if not p.exists():
        raise SanFormatError(f"{p}: no such file")
    if p.suffix.lower() == ".npy":
        return read_npy(p, fs, rounder=rounder)
    if p.suffix.lower() in TABLE_SUFFIXES:
        return read_csv(p, fs, rounder=rounder)
    if p.suffix.lower() in (".edf", ".bdf"):
        from sancodec.io.edf import read_edf

        return _own_rate(read_edf(p, keep_header_text=keep_header_text), fs, p, edf_kind(p))
    if p.suffix.lower() == ".wav":
        from sancodec.io.wav import read_wav

        return _own_rate(read_wav(p), fs, p, "a WAV file")
    if p.suffix.lower() == ".vhdr":
        from sancodec.io.brainvision import read_brainvision

        return _own_rate(read_brainvision(p), fs, p, "a BrainVision recording")
    if p.suffix.lower() in (".vmrk", ".eeg") and p.with_suffix(".vhdr").is_file():
        raise SanFormatError(f"{p}: part of a BrainVision recording: give its header, {p.with_suffix('.vhdr').name}")
    if p.suffix.lower() == ".mat":  # (a WFDB record's .mat, PhysioNet's challenges', was found by its .hea above)
        from sancodec.io.matfile import read_mat

        return read_mat(p, fs)
    if p.suffix.lower() == ".san":  # encode's input, or report's first argument, given the coded file
        raise SanFormatError(f"{p}: a .san file, not a recording (`sancodec decode {p}` gives the recording back)")
    raise SanFormatError(f"{p}: unknown file type {p.suffix!r} (use a WFDB record, .edf, .bdf, .wav, .mat, .vhdr, "
                         ".npy, .csv, .tsv or .txt)")


def _own_rate(signal: Signal, fs: float | None, path: Path, what: str) -> Signal:
    """``signal``, read from a file that carries its own rate, refused where ``fs`` asks another: it was ignored
    without a word (``--fs 100`` on a 360 Hz record coded it at 360 Hz)."""
    check_own_rate(path, what, signal.fs, fs)
    return signal


def edf_kind(path: Path) -> str:
    """"an EDF file" or "a BDF file" (by ``path``'s suffix), as a message names the file (it said "an BDF file")."""
    return "a BDF file" if path.suffix.lower() == ".bdf" else "an EDF file"


def check_own_rate(path: str | os.PathLike[str], what: str, own: float, fs: float | None) -> None:
    """Refuse ``fs`` (``--fs``) asking another rate than ``own``, which the file at ``path`` (``what``: "a WFDB
    record") carries: the readers and the CLI's streaming encoders alike."""
    if fs is not None and fs != own:
        raise SanConfigError(f"{path}: {what} carries its own rate, {own:g} Hz; fs= (--fs) is for .npy arrays "
                             f"and CSV tables without a time column, got {fs:g}")


def read_channel(path: str | os.PathLike[str], channel: int = 0) -> np.ndarray:
    """One channel of a recording in physical units (float64) at its native rate, for training."""
    p = Path(path)
    if p.suffix.lower() in TABLE_SUFFIXES and p.is_file():  # (the rate is not used: a time column's, else 1 Hz)
        signal = read_csv(p, None, default_fs=1.0)
    elif p.suffix.lower() == ".mat" and find_wfdb_base(p) is None and p.is_file():  # (likewise: its own, else 1 Hz)
        from sancodec.io.matfile import read_mat

        signal = read_mat(p, None, default_fs=1.0)
    else:
        signal = read_signal(p, fs=1.0 if p.suffix.lower() == ".npy" else None)
    if not 0 <= channel < signal.n_channels:
        raise SanFormatError(f"{path}: channel {channel} does not exist (it has {signal.n_channels})")
    x = signal.channel(channel)
    if not np.all(np.isfinite(x)):
        raise SanFormatError(f"{path}: channel {channel} holds NaN or Inf")
    return x


def default_format(path: str | os.PathLike[str] | None, source: object) -> str:
    """The format a decoded signal is written in when none is asked for: the one ``path``'s suffix names (.npy,
    .csv, .edf, .bdf, .bin or .raw, .wav, .mat), else its source's (``Signal.source``'s kind: EDF, BDF, .npy, CSV,
    WAV or MATLAB, or raw samples, ``io.raw``), else WFDB."""
    named = _SUFFIX_FORMATS.get(Path(path).suffix.lower()) if path is not None else None
    kind = source.get("kind") if isinstance(source, dict) else None
    kind = "raw" if isinstance(source, dict) and isinstance(source.get("raw"), dict) else kind
    return named or (str(kind) if kind in _SUFFIX_FORMATS.values() else "wfdb")


def _format_of(path: Path, format: str | None) -> str:
    fmt = (format or _SUFFIX_FORMATS.get(path.suffix.lower(), "wfdb")).lower()
    if fmt not in FORMATS:
        raise SanConfigError(f"unknown output format {format!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def output_files(signal: Signal, path: str | os.PathLike[str], format: str | None = None) -> list[Path]:
    """Every file :func:`write_signal` would write (for ``--force`` checks before any work)."""
    p = Path(path)
    fmt = _format_of(p, format)
    if fmt == "brainvision":
        from sancodec.io.brainvision import output_names

        return output_names(p)
    return [p] if fmt in ONE_FILE_FORMATS else wfdb_output_files(signal, p)


def write_signal(signal: Signal, path: str | os.PathLike[str], format: str | None = None, *,
                 quantum: list[float] | None = None, offsets: list[float] | None = None,
                 fsync: bool = False, skipped: Sequence[tuple[int, int]] = ()) -> list[Path]:
    """Write ``signal``; returns the files written (a WFDB record is several files).

    ``format`` is ``wfdb``, ``npy``, ``csv``, ``edf``, ``bdf``, ``raw`` (a raw source's layout again, ``io.raw``),
    ``wav`` (integer PCM, ``io.wav``) or ``mat`` (MATLAB 5, ``io.matfile``); by default the suffix decides and
    anything else is written as WFDB (record base path); EDF and BDF hold whole data records, the last one filled
    out with each channel's last value and annotated where the samples end inside it (``io.edf.write_edf``).
    ``quantum``: the grid of a float signal decoded from a ``.san``, which lets WFDB and EDF hold it exactly (its
    multiples of the grid as integers) and sets the decimals CSV prints it at (``arrays.grid_places``); with
    ``offsets``, a float signal near that step from those offsets (format 1.19), which EDF and BDF hold as its counts
    and WFDB where each offset is a whole number of steps (``wfdb.near_grid_as_digital``). ``fsync``
    flushes files and folder to disk. ``skipped``: row ranges ``(first, end)`` that hold no data (a salvaged
    decode's lost frames, each channel's invalid sample), which EDF and BDF annotate as their gaps; the other
    formats hold the invalid samples themselves.
    """
    p = Path(path)
    fmt = _format_of(p, format)
    if not p.parent.exists():
        raise SanFormatError(f"{p.parent}: output directory does not exist")
    if fmt == "npy":
        return [write_npy(signal, p, fsync=fsync)]
    if fmt == "raw":
        from sancodec.io.raw import write_raw

        return [write_raw(signal, p, fsync=fsync)]
    if fmt == "csv":
        return [write_csv(signal, p, quantum=quantum, fsync=fsync, tabs=p.suffix.lower() == ".tsv",
                          spaces=p.suffix.lower() == ".txt")]
    if fmt == "wav":
        from sancodec.io.wav import write_wav

        return [write_wav(signal, p, fsync=fsync)]
    if fmt == "mat":
        from sancodec.io.matfile import write_mat

        return [write_mat(signal, p, fsync=fsync)]
    if fmt == "brainvision":
        from sancodec.io.brainvision import write_brainvision

        return write_brainvision(signal, p, fsync=fsync)
    if fmt in ("edf", "bdf"):
        from sancodec.io.edf import write_edf

        if p.suffix.lower() != f".{fmt}":
            raise SanConfigError(f"{p}: a {fmt.upper()} file's name must end in .{fmt}")
        return [write_edf(signal, p, quantum=quantum, offsets=offsets, fsync=fsync, skipped=skipped)]
    return write_wfdb(signal, p, quantum=quantum, offsets=offsets, fsync=fsync)
