"""WFDB records through wfdb-python: digital samples, every header field, annotation files (:data:`KNOWN_ANNOTATIONS`).

Reading keeps the digital integers (``physical=False``) so lossless coding is
possible for every format wfdb-python reads (8, 16, 24, 32, 61, 80, 160, 212,
310, 311, FLAC-based 508/516/524). Multi-frequency records (several samples per
frame) are read with every channel held at the fastest rate (see ``Signal``), and
written back with their original samples per frame; annotation times, which WFDB
counts in frames, are scaled to rows and back.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import re
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from sancodec._atomic import move_into_place, temp_folder
from sancodec.errors import SancodecWarning, SanConfigError, SanFormatError
from sancodec.io import wfdb_formats, wfdb_multi
from sancodec.io.decimals import header_decimals, missing_of
from sancodec.io.wfdb_names import (
    ANNOTATION_EXTENSION,
    RECORD_NAME,
    RESERVED_EXTENSIONS,
    ascii_units,
    check_record_name,
    check_strings,
    put_back_names,
    writable_names,
)
from sancodec.io.wfdb_text import DEFAULTS, header_text, restore_header_text
from sancodec.signal import (
    Annotations,
    Signal,
    annotation_rate,
    checked_custom_labels,
    checked_time_resolution,
    frame_rows,
    readable_frame,
)

__all__ = ["ANNOTATION_EXTENSIONS", "FORMAT_BITS", "KNOWN_ANNOTATIONS", "RECORD_NAME", "annotations_of",
           "check_annotations_read_back", "check_record_name", "clip_to_format", "described_signals",
           "float_as_digital", "find_wfdb_base", "header_value", "header_values", "narrow_dtype", "output_files",
           "read_header", "read_single", "read_wfdb", "record_files", "write_annotations", "write_record", "write_wfdb"]

ANNOTATION_EXTENSIONS = ("atr",)  # what a record read from a URL fetches beside its .hea and .dat (io.remote)
#: The annotation files a local record carries where it has them: the reference labels (.atr) and those of the
#: annotators PhysioNet's databases hold beside them (QRS detectors' .qrs, apnea-ecg's .apn, the ST databases',
#: qtdb's waveform boundaries, slpdb's sleep stages, alarms, breaths, events ...); a file of one of these names that
#: is no annotation file is passed over with a warning (an .atr refused: record_annotations). Kept in a .san and
#: written back by decode under the same extension.
KNOWN_ANNOTATIONS = ("atr", "qrs", "qrsc", "gqrs", "sqrs", "wqrs", "wabp", "ecg", "apn", "ari", "st", "sta", "stb",
                     "stc", "stf", "16a", "pu", "pu0", "pu1", "man", "q1c", "q2c", "qt1", "qt2", "alh", "alm", "blh",
                     "blm", "bph", "bpm", "arousal", "breath", "event", "trigger", "seizures")
#: Formats wfdb-python can write; others (8, 61, 160, 310, 311) are written as 16 (or 32).
WRITABLE_FORMATS = ("80", "16", "24", "32", "212", "508", "516", "524")
log = logging.getLogger("sancodec")
#: Bits of a stored sample per WFDB format: the range a decoded sample is clipped to.
# Format 8 stores 8-bit *differences*: its samples are not limited to 8 bits, so it has no entry.
FORMAT_BITS = {"80": 8, "508": 8, "16": 16, "61": 16, "160": 16, "516": 16, "212": 12,
               "310": 10, "311": 10, "24": 24, "524": 24, "32": 32}


def clip_to_format(x: np.ndarray, fmts: object) -> np.ndarray:
    """``x`` (samples x channels) clipped to each channel's WFDB format range; ``x`` itself when nothing
    lies outside (or there are no formats), else a clipped copy."""
    if not isinstance(fmts, list) or len(fmts) != x.shape[1] or not len(x):
        return x
    bounds = [FORMAT_BITS.get(str(f)) for f in fmts]
    tightest = min((b for b in bounds if b is not None), default=None)
    if tightest is None:
        return x
    flat = x.reshape(-1)  # one pass over contiguous memory: nearly always everything is in range
    if flat.min() >= -(1 << (tightest - 1)) and flat.max() < 1 << (tightest - 1):
        return x
    out = x.copy()
    for ch, bits in enumerate(bounds):
        if bits is not None:
            out[:, ch] = np.clip(out[:, ch], -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return out


def narrow_dtype(fmts: object) -> np.dtype:
    """The narrowest integer type that holds every channel's WFDB format (int64 when unknown)."""
    bits = [FORMAT_BITS.get(str(f)) for f in fmts] if isinstance(fmts, list) and fmts else [None]
    if any(b is None for b in bits):
        return np.dtype(np.int64)
    widest = max(b for b in bits if b is not None)
    return np.dtype(np.int16 if widest <= 16 else np.int32)


def _writable_format(fmt: str, values: np.ndarray) -> str:
    if fmt in WRITABLE_FORMATS:
        return fmt
    wide = values.size and (values.min() < -32768 or values.max() > 32767)
    target = "32" if wide else "16"
    if fmt in wfdb_formats.FORMATS:  # (written by io.wfdb_formats where it holds them)
        log.warning("WFDB format %s cannot hold these samples (a lossy decode's, past its range or its steps); "
                    "writing format %s instead", fmt, target)
    else:
        log.warning("WFDB format %s cannot be written; writing format %s instead", fmt, target)
    return target


def find_wfdb_base(path: Path) -> Path | None:
    """The record base path if ``path`` names a WFDB record (``rec``, ``rec.hea``, ``rec.dat``)."""
    if path.suffix in (".hea", ".dat"):
        return path.with_suffix("")
    if path.suffix == "" or path.with_name(path.name + ".hea").exists():
        if path.with_name(path.name + ".hea").exists() or not path.exists():
            return path
    return None


def record_files(path: Path, _segments: bool = True, annotators: Sequence[str] = ()) -> list[Path]:
    """The files of the WFDB record ``path`` names: its header, the signal files the header lists
    (a multi-segment record: every segment's files) and its annotation files, those of
    :data:`KNOWN_ANNOTATIONS` and of ``annotators`` (``encode --annotators``: what a command must
    never write over, and what a batch row counts as its input); empty for other paths."""
    base = find_wfdb_base(path)
    if base is None or not base.with_name(base.name + ".hea").exists():
        return []
    import wfdb  # (a record's: 0.35 s of wfdb-python and pandas that an .npy's encode does not wait on)

    files = [base.with_name(base.name + ".hea")]
    try:
        head = wfdb.rdheader(str(base))
        files += [base.parent / f for f in dict.fromkeys(getattr(head, "file_name", None) or [])]
        for seg in (getattr(head, "seg_name", None) or []) if _segments else []:
            if RECORD_NAME.fullmatch(str(seg)):
                files += record_files(base.parent / str(seg), _segments=False)
    except Exception:  # noqa: BLE001 - an unreadable header still protects the .hea itself
        pass
    files += [base.with_name(f"{base.name}.{ext}") for ext in (*KNOWN_ANNOTATIONS, *annotators)]
    return list(dict.fromkeys(f for f in files if f.exists()))


def read_header(base: Path):  # -> wfdb.Record or wfdb.MultiRecord header
    """The header of record ``base``, or a SanFormatError saying what is wrong with it."""
    import wfdb

    header = base.with_name(base.name + ".hea")
    if not header.exists():
        if base.with_name(base.name + ".dat").exists():
            raise SanFormatError(f"{base}: has a .dat but no header {header.name}")
        raise SanFormatError(f"{base}: no such WFDB record (missing {header.name})")
    try:
        return wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises bare Exception/ValueError on broken headers
        raise SanFormatError(f"{header}: unreadable WFDB header ({type(exc).__name__}: {exc})") from None


def read_wfdb(base: Path, *, quiet: bool = False, keep_header_text: bool = False,
              annotators: Sequence[str] = ()) -> Signal:
    """The WFDB record ``base`` (single- or multi-segment) with every header field and its annotations (``quiet``:
    a single-segment record's checksums that its samples miss are kept, not warned of; ``keep_header_text``: a
    single-segment record's ``.hea`` text too, for a lossless file's decode to write back, ``wfdb_text``;
    ``annotators``: annotation files of these extensions too, :func:`record_annotations`)."""
    head = read_header(base)
    if getattr(head, "n_seg", None):
        return wfdb_multi.read_multisegment(base, head, annotators)
    signal = read_single(base, head, quiet=quiet, annotators=annotators)
    return with_header_text(signal, base) if keep_header_text else signal


def with_header_text(signal: Signal, base: Path) -> Signal:
    """``signal`` (record ``base``) with its ``.hea`` text in its source (``wfdb_text.header_text``), where it is
    such text."""
    text = header_text(base)
    if text is not None:
        signal.source = {**(signal.source or {}), "hea": text}
    return signal


def read_single(base: Path, head, *, annotations: bool = True, quiet: bool = False,  # head: wfdb's
                annotators: Sequence[str] = ()) -> Signal:
    """A single-segment record whose header ``head`` was read (``annotations``: read its annotation files too;
    ``quiet``, ``annotators``: as :func:`read_wfdb`)."""
    header = base.with_name(base.name + ".hea")
    if head.n_sig == 0:
        raise SanFormatError(f"{header}: record has no signals")
    described = described_signals(head)
    if described != head.n_sig:  # a count the lines do not back (2**31: lists of it)
        raise SanFormatError(f"{header}: declares {head.n_sig} signals but describes {described}")
    spf = [int(s or 1) for s in (head.samps_per_frame or [1] * head.n_sig)]
    frame = readable_frame(spf, str(header))  # (rates that do not divide the fastest share their least common multiple)
    _check_signal_files(base, head, spf)
    rec, data = _read_samples(base, spf)
    samples = np.asarray(data, dtype=np.int64)
    kept = None
    if frame == 1:  # (a multi-frequency record's channels are held repeated on its rows: no plain sum of them)
        kept = warn_checksums(header, head, samples.sum(axis=0), quiet=quiet)
    carried = record_annotations(base, frame, signal_files=getattr(head, "file_name", None) or (),
                                 annotators=annotators) if annotations else []
    return with_checksums(signal_from_record(rec, samples, spf, carried), kept)


def warn_checksums(header: Path, head, sums: np.ndarray,  # head: its wfdb header
                   quiet: bool = False) -> list[list[int] | None] | None:
    """A :class:`SancodecWarning` for each channel whose samples' ``sums`` do not give the 16-bit checksum
    ``head`` declares (none declared: nothing to check): its signal file was changed after the header was written,
    damaged most likely. The samples are kept as read, so a .san archives them as they are; and so is the damage:
    the answer, each channel's ``[declared, read]`` checksums (None where they agree; None for all where every one
    does), goes in the signal's source (:func:`with_checksums`) for the writers to give those samples their header's
    checksum back (:func:`kept_checksums`), so that a restored record shows the damage as the original did.
    ``quiet``: no warning (a record written so, read back to check it)."""
    declared = list(getattr(head, "checksum", None) or [])
    names = list(getattr(head, "sig_name", None) or [])
    kept: list[list[int] | None] = [None] * len(sums)
    for c, (want, total) in enumerate(zip(declared, sums)):
        if want is not None and (int(total) - int(want)) % 65536:
            name = names[c] if c < len(names) else f"channel {c}"
            if not quiet:
                warnings.warn(f"{header}: channel {c} ({name}): its samples give checksum {int(total) % 65536}, the "
                              f"header says {int(want)}: the signal file was changed after the header was written "
                              "(damaged?); its samples are kept as read, and the header's checksum with them",
                              SancodecWarning, stacklevel=3)
            kept[c] = [int(want) % 65536, int(total) % 65536]
    return kept if any(k is not None for k in kept) else None


def with_checksums(signal: Signal, kept: list[list[int] | None] | None) -> Signal:
    """``signal`` with :func:`warn_checksums`'s answer in its source (key ``checksums``), where there is one."""
    if kept is not None:
        signal.source = {**(signal.source or {}), "checksums": kept}
    return signal


def kept_checksums(source: object, sums: Sequence[int] | np.ndarray) -> list[int]:
    """The 16-bit checksums a written record's header gives its channels of samples summing to ``sums``: each the one
    its source's header declared where the source's samples disagreed with it and these are those samples (the same
    sum as read: a lossless decode of the whole channel), else the samples' own. A ``.san`` header is not trusted:
    anything but a list of ``[declared, read]`` pairs of 16-bit values or None, one a channel, is passed over."""
    own = [int(s) % 65536 for s in sums]
    kept = source.get("checksums") if isinstance(source, dict) else None
    if not isinstance(kept, list) or len(kept) != len(own):
        return own
    for c, pair in enumerate(kept):
        if isinstance(pair, list) and len(pair) == 2 and all(type(v) is int and 0 <= v < 65536 for v in pair) \
                and pair[1] == own[c]:
            own[c] = pair[0]
    return own


def described_signals(head) -> int:  # head: a wfdb Record header
    """How many signals the header's signal lines describe (the fewest of its names, files and formats): a
    header whose count says more (``n_sig`` of 2**31 over three lines) must not size anything by its count."""
    return min(len(getattr(head, name, None) or []) for name in ("sig_name", "file_name", "fmt"))


def record_annotations(base: Path, frame: int = 1, extensions: Sequence[str] | None = None,
                       signal_files: Sequence[str] = (), annotators: Sequence[str] = ()) -> list[Annotations]:
    """The record's annotation files of ``extensions`` (by default :data:`KNOWN_ANNOTATIONS`, but for the record's own
    ``signal_files``: a database's ``.ecg`` signal file is no annotation file) that exist, times in rows (WFDB counts
    them in frames of ``frame`` rows), then those of ``annotators`` (extensions asked for by name, ludb's ``i``,
    ``ii`` ...: each must exist and parse). An ``.atr`` (or any file of ``extensions`` or ``annotators``) that does not
    parse is refused; another annotator's name on a file that is no annotation file (a tool's ``.event`` text beside
    the record) is passed over with a :class:`SancodecWarning` saying the ``.san`` will not hold it. Reading a
    record (``extensions`` None), files of other names that look like annotation files are named in a warning
    (:func:`unkept_annotation_files`): they are not kept unless asked for."""
    annotations = []
    taken = {str(name) for name in signal_files}
    asked = checked_annotators(annotators)
    for name in asked:
        if f"{base.name}.{name}" in taken:
            raise SanConfigError(f"{base.name}.{name}: a signal file of the record, not an annotation file")
        if not base.with_name(f"{base.name}.{name}").is_file():
            raise SanFormatError(f"{base}.{name}: no such annotation file (annotator {name!r} asked for)")
    for ext in dict.fromkeys([*(KNOWN_ANNOTATIONS if extensions is None else extensions), *asked]):
        if f"{base.name}.{ext}" not in taken and base.with_name(f"{base.name}.{ext}").is_file():
            found_by_name = extensions is None and ext != "atr" and ext not in asked  # (not asked for: a stray file
            # is passed over)
            try:
                if found_by_name:
                    _check_annotation_layout(base.with_name(f"{base.name}.{ext}"))
                ann = _read_annotations(base, ext)
            except SanFormatError as exc:
                if not found_by_name:
                    raise
                warnings.warn(f"{exc}: passed over, not kept as annotations", SancodecWarning, stacklevel=2)
                continue
            ann.sample = ann.sample * frame
            annotations.append(ann)
    if extensions is None:
        unkept = unkept_annotation_files(base, {*KNOWN_ANNOTATIONS, *asked, *(n.rsplit(".", 1)[-1] for n in taken
                                                                              if n.startswith(f"{base.name}."))})
        if unkept:
            listed = ", ".join(f"{base.name}.{ext}" for ext in unkept)
            said = ("looks like a WFDB annotation file of an annotator sancodec does not know, and is not kept (name "
                    "it to keep it" if len(unkept) == 1 else "look like WFDB annotation files of annotators sancodec "
                    "does not know, and are not kept (name them to keep them")
            warnings.warn(f"{listed} {said}: sancodec encode --annotators {','.join(unkept)}, or "
                          f"read_signal(..., annotators={unkept!r}))", SancodecWarning, stacklevel=2)
    return annotations


def checked_annotators(annotators: Sequence[str]) -> list[str]:
    """``annotators`` (annotation file extensions asked for by name), each once, or a :class:`SanConfigError` for
    one a WFDB annotation file cannot be named by here (1-16 ASCII letters, digits or '_', not a signal or header
    extension: what a ``.san`` holds and a decode writes back)."""
    if isinstance(annotators, str):
        raise SanConfigError(f"annotators: a list of extensions, not the string {annotators!r} "
                             f"(annotators=[{annotators!r}])")
    asked = [str(a) for a in annotators]
    for name in asked:
        if not ANNOTATION_EXTENSION.fullmatch(name) or name.lower() in RESERVED_EXTENSIONS:
            raise SanConfigError(f"annotator {name[:40]!r}: an annotation file's extension holds 1-16 letters, digits "
                                 f"or '_', and is none of {', '.join(sorted(RESERVED_EXTENSIONS))}")
    return list(dict.fromkeys(asked))


#: Extensions of files that sit beside records and are never annotation files: recordings, sancodec's and other
#: tools' outputs. Not looked into for the warning of :func:`unkept_annotation_files`.
_NO_ANNOTATIONS = frozenset({"bdf", "bin", "bz2", "csv", "edf", "eeg", "flac", "gz", "html", "ini", "json", "log",
                             "md", "npz", "pdf", "png", "raw", "rec", "svg", "tar", "tsv", "txt", "vhdr", "vmrk",
                             "wav", "xml", "xyz", "zarr", "zip", "zst"})
_LOOKED_AT = 64  # files of other extensions looked into at most (a folder of a record's thousand exports)
_OPENING_WORDS = 4096  # the 16-bit words of a file's opening walked to tell whether it is an annotation file
_SKIP, _AUX = 59, 63  # WFDB annotation words' codes (their top six bits) that are followed by more: a skip (two
# words of interval), a note (its bytes, padded even); 60-62 (number, subtype, channel) are one word
_LAST_LABEL = 49  # codes 1 ... 49 are labels; 50 ... 58 none any WFDB file holds


def unkept_annotation_files(base: Path, known: set[str] | frozenset[str]) -> list[str]:
    """The extensions of the files ``base.EXT`` beside the record, EXT none of ``known`` (nor a signal, header or
    other recording's), that look like WFDB annotation files (:func:`_looks_like_annotations`). A hint, never data:
    what a user may want kept and is not; found in the opening few kilobytes of each file, not by reading it whole
    (wfdb-python took 37 s over a 16 MB file of random bytes, and read it as labels)."""
    import bisect

    prefix = base.name + "."
    try:
        names = _names_in(base.parent)
    except OSError:
        return []
    first = bisect.bisect_left(names, prefix)
    candidates = [base.parent / name for name in itertools.takewhile(lambda n: n.startswith(prefix), names[first:])]
    found: list[str] = []
    looked = 0
    for path in candidates:
        ext = path.name[len(base.name) + 1:]
        if (ext in known or not ANNOTATION_EXTENSION.fullmatch(ext) or ext.lower() in RESERVED_EXTENSIONS
                or ext.lower() in _NO_ANNOTATIONS):
            continue
        looked += 1
        if looked > _LOOKED_AT:
            break
        try:
            if path.is_file() and _looks_like_annotations(path):
                found.append(ext)
        except OSError:
            continue
    return found


_LISTINGS: dict[str, tuple[int, list[str]]] = {}  # a folder's sorted names as last listed, by the folder's mtime
_LISTINGS_KEPT = 8
_LISTINGS_LOCK = threading.Lock()
_RACY_NS = 2_000_000_000  # a folder changed within this long of its listing is listed again next time


def _names_in(folder: Path) -> list[str]:
    """The names in ``folder``, sorted: listed again only where the folder changed since (its mtime) or had changed
    within :data:`_RACY_NS` of its listing, so that a batch reading each record of a folder of thousands lists it
    once, not once a record (6 ms a record in one of 6000 files)."""
    import os

    changed = os.stat(folder).st_mtime_ns
    key = os.fspath(folder.resolve())
    with _LISTINGS_LOCK:  # (a batch's rows run on threads too)
        kept = _LISTINGS.get(key)
    if kept is not None and kept[0] == changed:
        return kept[1]
    listed = time.time_ns()
    names = sorted(os.listdir(folder))
    if listed - changed < _RACY_NS:  # (changed just now: a file added within the clock's tick of the folder's last
        return names  # change leaves its mtime as it was, and would go unseen; kept only once the folder is still)
    with _LISTINGS_LOCK:
        if len(_LISTINGS) >= _LISTINGS_KEPT:
            _LISTINGS.pop(next(iter(_LISTINGS)))
        _LISTINGS[key] = (changed, names)
    return names


def _looks_like_annotations(path: Path) -> bool:
    """Whether the file at ``path`` ends as a WFDB annotation file does (:func:`_check_annotation_end`) and opens laid
    out as one, a label at least in its opening (:func:`_opening_labels`)."""
    try:
        _check_annotation_end(path)
    except SanFormatError:
        return False
    return bool(_opening_labels(path))


def _opening_labels(path: Path) -> int | None:
    """The labels in the first :data:`_OPENING_WORDS` words of the file at ``path`` where they are laid out as a WFDB
    (MIT) annotation file's, else None: 16-bit words, each a label's code (1 ... 49) or a skip, number, subtype,
    channel or note with what follows them, and the zero word that closes the file only as its last word (its end
    checked apart, :func:`_check_annotation_end`). Random bytes break that within a few dozen words (a code of
    50 ... 58 comes one word in seven)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        opening = fh.read(2 * _OPENING_WORDS)
    words = np.frombuffer(opening[: len(opening) // 2 * 2], dtype="<u2").tolist()
    last, i, labels = size // 2 - 1, 0, 0
    while i < len(words):
        code, low = words[i] >> 10, words[i] & 1023
        if code == 0 and low == 0:  # the end: only as the file's last word
            return labels if i == last else None
        if _LAST_LABEL < code < _SKIP:
            return None
        labels += code <= _LAST_LABEL
        i += 3 if code == _SKIP else 1 + (low + 1) // 2 if code == _AUX else 1
    return labels


def _check_annotation_layout(path: Path) -> None:
    """A :class:`SanFormatError` unless ``path`` ends as a WFDB annotation file does (:func:`_check_annotation_end`)
    and opens laid out as one (:func:`_opening_labels`): a file found by its annotator's name alone, read whole by
    wfdb-python only then (random bytes that end in a zero word, read as labels, were carried)."""
    _check_annotation_end(path)
    if _opening_labels(path) is None:  # (an empty one, a detector's that found nothing, is one)
        raise SanFormatError(f"{path}: no WFDB annotation file (its opening is not laid out as one's)")


def _check_annotation_end(path: Path) -> None:
    """A :class:`SanFormatError` unless ``path`` ends as a WFDB annotation file does, in the zero word that closes
    it (an even number of bytes): wfdb-python reads almost any bytes as labels ("hello" as two), so a file found by
    its annotator's name alone, a tool's text beside the record, must show that much before it is read as one."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 2))
        end = fh.read(2)
    if size < 2 or size % 2 or end != b"\x00\x00":
        raise SanFormatError(f"{path}: no WFDB annotation file (it does not end in the zero word that closes one)")


def signal_from_record(rec, samples: np.ndarray, spf: list[int],  # rec: a wfdb Record (header or samples read)
                       annotations: list[Annotations]) -> Signal:
    """A Signal of ``samples`` with every header field of the WFDB record ``rec``."""
    frame = frame_rows(spf)
    counter = record_counter(rec)
    inits = _header_inits(rec, samples)
    source = {**({} if counter is None else {"counter": counter}), **({} if inits is None else {"init_values": inits})}
    return Signal(
        samples=samples,
        samples_per_frame=spf if frame > 1 else None,
        fs=header_value(rec, "fs", float) * frame,
        channel_names=signal_names(rec),
        units=header_values(rec, "units", str),
        adc_gain=header_values(rec, "adc_gain", float),
        baseline=header_values(rec, "baseline", int),
        fmt=header_values(rec, "fmt", str),
        adc_res=header_values(rec, "adc_res", int, default=DEFAULTS["adc_res"]),
        adc_zero=header_values(rec, "adc_zero", int, default=DEFAULTS["adc_zero"]),
        file_name=header_values(rec, "file_name", str),
        comments=[str(c) for c in (rec.comments or [])],
        base_time=None if rec.base_time is None else rec.base_time.isoformat(),
        base_date=None if rec.base_date is None else rec.base_date.isoformat(),
        record_name=str(rec.record_name),
        annotations=annotations,
        source=source or None,
    )


def _header_inits(rec, samples: np.ndarray) -> list[int] | None:  # rec: a wfdb Record
    """The header's initial values where one is not its channel's first sample (a record that starts with an invalid
    sample, mixedsignals' header saying 0 for it), as the source entry ``init_values``; None where each is its first
    sample, as a writer writes them. A signal line that stops before the field (``100.dat 212``: WFDB allows every
    field after the format to be left out) gives WFDB's default, the channel's ADC zero (0 where that is left out
    too); one garbled there (unread, a later field read) is taken as its first sample."""
    given = list(getattr(rec, "init_value", None) or [])
    if len(given) != samples.shape[1] or not len(samples):
        return None
    first = [int(v) for v in samples[0]]
    zeros = list(getattr(rec, "adc_zero", None) or [])
    zeros = [0 if z is None else int(z) for z in zeros] if len(zeros) == len(given) else [0] * len(given)
    stopped = _stopped_before(rec, LATER_FIELDS[3:], len(given))
    inits = [int(g) if g is not None else z if s else f for g, z, s, f in zip(given, zeros, stopped, first)]
    return inits if inits != first else None


def kept_inits(source: object, first: Sequence[int] | np.ndarray) -> list[int]:
    """The initial values a written record's header gives its channels whose first samples are ``first``: its
    source's (``init_values``, :func:`_header_inits`) where the source kept them, else the first samples. A format 8
    file's first differences are taken from them (``wfdb_formats``: a record whose header gives 0 and whose first
    sample is 5 starts with a step of 5). A ``.san`` header is not trusted: anything but a list of integers within 32
    bits, one a channel, is passed over."""
    own = [int(v) for v in first]
    kept = source.get("init_values") if isinstance(source, dict) else None
    if not isinstance(kept, list) or len(kept) != len(own) or \
            not all(type(v) is int and -(1 << 31) <= v < 1 << 31 for v in kept):
        return own
    return kept


MAX_COUNTER = 1e15  # a record's counter frequency (Hz) and base counter value, at most (in magnitude)


def record_counter(rec) -> list[float] | None:  # rec: a wfdb Record header
    """The record line's counter frequency and, where given, base counter value (``360/100(5)``: a clock, a tape
    counter's say, that the record's times may be given in), as the source entry ``counter`` (``[100, 5]``, or
    ``[100]`` without a base); None where the line gives no counter or one :func:`kept_counter` would not write."""
    freq, base = getattr(rec, "counter_freq", None), getattr(rec, "base_counter", None)
    return kept_counter({"counter": [freq] if base is None else [freq, base]}) if freq is not None else None


def kept_counter(source: object) -> list[float] | None:
    """The ``counter`` entry of ``source`` (a ``Signal.source``; :func:`record_counter`) a writer gives its record
    line: a frequency above 0 and a base counter value, each finite and within :data:`MAX_COUNTER` (an integer where
    it is one); None for anything else (a ``.san`` header is not trusted)."""
    value = source.get("counter") if isinstance(source, dict) else None
    if not isinstance(value, list) or not 1 <= len(value) <= 2 or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    numbers = [float(v) for v in value]
    if not all(math.isfinite(v) and abs(v) <= MAX_COUNTER for v in numbers) or not numbers[0] > 0:
        return None
    return [int(v) if v.is_integer() else v for v in numbers]


def counter_fields(source: object) -> dict[str, float | None]:
    """``wfdb.Record``'s ``counter_freq`` and ``base_counter`` for :func:`kept_counter`'s entry (None: not written; a
    base at or below 0 as none, WFDB's default of 0: wfdb-python's writer refuses any other)."""
    counter = kept_counter(source)
    return {"counter_freq": None if counter is None else counter[0],
            "base_counter": None if counter is None or len(counter) < 2 or counter[1] <= 0 else counter[1]}


def signal_names(rec) -> list[str]:  # rec: a wfdb Record
    """Each signal's description, its name: "" where its line has none (the field is optional in WFDB, and
    wfdb-python reads it as None; such a record was refused as "unreadable or missing sig_name")."""
    values = getattr(rec, "sig_name", None)
    if values is None:
        _missing(rec, "sig_name", values)
    return ["" if v is None else str(v) for v in values]


def header_value(rec, name: str, kind: type) -> Any:  # rec: a wfdb Record
    """The header field ``name`` as ``kind``; one the header garbled or left out (wfdb reads it as None) is a
    ``SanFormatError`` naming it, not a TypeError from deep inside."""
    value = getattr(rec, name, None)
    if value is None:
        _missing(rec, name, value)
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        _missing(rec, name, value)


#: A signal line's fields after its ADC gain, in their order: a line may stop before any of them (WFDB defaults the
#: rest), and wfdb-python reads each one left out, or garbled, as None
LATER_FIELDS = ("adc_res", "adc_zero", "init_value", "checksum", "block_size", "sig_name")


def header_values(rec, name: str, kind: type, default: Any = None) -> list:  # rec: a wfdb Record
    """The per-channel header field ``name``, each value as ``kind`` (see :func:`header_value`); with ``default``, a
    value the signal line leaves out is that (WFDB's own default: a line may stop after its format, and wfdb-python
    reads the ADC resolution and zero it leaves out as None; such a record was refused as "unreadable or missing
    adc_res"): where every field after it on the line (:data:`LATER_FIELDS`) is None too, the line stopped before
    it; where one is not, the field was there and garbled, and is refused as before."""
    values = getattr(rec, name, None)
    if values is not None and default is not None:
        later = LATER_FIELDS[LATER_FIELDS.index(name) + 1 :] if name in LATER_FIELDS else ()
        stopped = _stopped_before(rec, later, len(values))
        values = [default if v is None and s else v for v, s in zip(values, stopped)]
    if values is None or any(v is None for v in values):
        _missing(rec, name, values)
    try:
        return [kind(v) for v in values]
    except (TypeError, ValueError, OverflowError):
        _missing(rec, name, values)


def _stopped_before(rec, later: Sequence[str], channels: int) -> list[bool]:  # rec: a wfdb Record
    """Per channel, whether its signal line stopped before the fields ``later`` (the rest of :data:`LATER_FIELDS`
    from one on): wfdb-python read each of them as None."""
    after = [list(getattr(rec, f, None) or [None] * channels) for f in later]
    return [all(len(a) == channels and a[k] is None for a in after) for k in range(channels)]


def _missing(rec, name: str, value: object) -> NoReturn:
    raise SanFormatError(f"{getattr(rec, 'record_name', 'record')}.hea: unreadable or missing {name} ({value!r})")


def _read_samples(base: Path, spf: list[int]):  # -> (wfdb.Record, samples x channels int array)
    """Digital samples, the channels of a multi-frequency record held on its frame's rows (``Signal.frame_size``)."""
    import wfdb

    frame = frame_rows(spf)
    try:
        rec = wfdb.rdrecord(str(base), physical=False, return_res=64, smooth_frames=frame == 1)
    except Exception as exc:
        raise SanFormatError(f"{base}: unreadable WFDB signal data ({type(exc).__name__}: {exc})") from None
    if frame == 1:
        data = rec.d_signal
    else:
        channels = rec.e_d_signal or []
        if len({len(a) // s for a, s in zip(channels, spf)}) > 1:
            raise SanFormatError(f"{base}: channels hold different numbers of frames")
        data = np.stack([np.repeat(a, frame // s) for a, s in zip(channels, spf)], axis=1) if channels else None
    if data is None or data.size == 0:
        raise SanFormatError(f"{base}: record holds no samples")
    if rec.sig_len and data.shape[0] < rec.sig_len * frame:
        raise SanFormatError(f"{base}: signal file is truncated ({data.shape[0] // frame} of {rec.sig_len} frames)")
    return rec, data


_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5,
                     "310": 4 / 3, "311": 4 / 3}


def _check_signal_files(base: Path, head, spf: list[int]) -> None:  # head: wfdb.Record header
    """Every signal file exists and, for fixed-size formats, is long enough for sig_len frames."""
    need: dict[str, float] = {}
    offsets = head.byte_offset or [None] * head.n_sig
    for name, fmt, offset, per_frame in zip(head.file_name, head.fmt, offsets, spf):
        path = base.parent / name
        if not path.exists():
            raise SanFormatError(f"{base}.hea: signal file {name} is missing")
        per = _BYTES_PER_SAMPLE.get(str(fmt))
        if per is None or not head.sig_len:
            continue
        need[name] = need.get(name, float(offset or 0)) + per * head.sig_len * per_frame
    for name, expected in need.items():
        size = (base.parent / name).stat().st_size
        if size < int(expected):
            raise SanFormatError(f"{base.parent / name}: signal file is truncated ({size} of {int(expected)} bytes)")


def _read_annotations(base: Path, ext: str) -> Annotations:
    import wfdb

    try:
        ann = wfdb.rdann(str(base), ext)
    except Exception as exc:
        raise SanFormatError(f"{base}.{ext}: unreadable annotation file ({type(exc).__name__}: {exc})") from None
    return annotations_of(ann, ext, _noted_resolution(Path(f"{base}.{ext}"), ann.fs))


def annotations_of(ann, extension: str | None = None,  # ann: a wfdb.Annotation
                   time_resolution: float | None = None) -> Annotations:
    """A ``wfdb.Annotation`` (``rdann``'s) as :class:`Annotations`: its samples, symbols, subtypes, channels, numbers
    and notes, under ``extension`` (by default its own, else ``atr``), with ``time_resolution`` (None: unknown)."""
    n = len(ann.sample)

    def column(values: Any) -> np.ndarray:
        return np.asarray(values if values is not None else np.zeros(n), dtype=np.int64)

    return Annotations(extension=extension or str(ann.extension or "atr"), sample=np.asarray(ann.sample, np.int64),
                       symbol=[str(s) for s in (ann.symbol if ann.symbol is not None else [""] * n)],
                       subtype=column(ann.subtype), chan=column(ann.chan), num=column(ann.num),
                       aux_note=[str(s) for s in (ann.aux_note or [""] * n)], time_resolution=time_resolution,
                       custom_labels=_custom_labels(getattr(ann, "custom_labels", None)))


def _custom_labels(given: Any) -> list[tuple[int, str, str]] | None:
    """A ``wfdb.Annotation``'s ``custom_labels`` (rdann's DataFrame of label_store, symbol and description, or a
    user's list of such triplets) as :class:`Annotations` holds them; None for none; a :class:`SanConfigError` for
    labels without their codes (``(symbol, description)`` pairs: the codes wfdb-python would pick depend on the
    symbols in use) or otherwise not WFDB's."""
    if given is None:
        return None
    if hasattr(given, "columns"):  # a DataFrame
        given = list(zip(given["label_store"], given["symbol"], given["description"])) \
            if "label_store" in given.columns else [()]
    if not isinstance(given, (list, tuple)) or any(not isinstance(item, (list, tuple)) or len(item) != 3
                                                   for item in given):
        raise SanConfigError("custom_labels without label_store: give (label_store, symbol, description) triplets")
    try:
        items = [(int(s), str(sym), d if isinstance(d, str) else "") for s, sym, d in given]  # (no description:
        # None, or pandas' NaN)
        return checked_custom_labels(items) if items else None
    except (TypeError, ValueError) as exc:
        raise SanConfigError(f"annotations' custom_labels: {exc}") from None


#: An annotation file's note of its rate, among the definitions that open it (wfdb-python writes it first, as WFDB's
#: library does; custom label definitions may follow): "## time resolution: 360" (wfdb.io.annotation's own pattern)
_RESOLUTION_NOTE = re.compile(rb"## time resolution: \d+\.?\d*")
_OPENING = 1 << 12  # bytes of an annotation file looked through for it: about a hundred definitions


def _noted_resolution(path: Path, fs: object) -> float | None:
    """The ``time_resolution`` of the annotation file at ``path`` (``Annotations``): the rate wfdb read (``fs``)
    where the file opens with a time resolution note, 0 where it has none (rdann then takes the header's rate, and
    tells no difference), None where it cannot be told."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_OPENING)
    except OSError:
        return None
    if _RESOLUTION_NOTE.search(head) is None:
        return 0
    try:
        return checked_time_resolution(fs)
    except ValueError:
        return None


def wfdb_time(value: str | None, kind: str):  # -> datetime.time | datetime.date | None
    """A Signal's ISO ``base_time`` or ``base_date`` (``kind``) as wfdb-python's datetime object, None for none."""
    import datetime

    if value is None:
        return None
    return datetime.time.fromisoformat(value) if kind == "time" else datetime.date.fromisoformat(value)


#: What follows the record's name in a signal file's name that :func:`_signal_file_names` keeps: an underscore and a
#: few letters or digits, then an extension (PTB's ``s0010_re.xyz``, MIMIC's ``mixedsignals_e.dat``)
_FILE_TAIL = re.compile(r"(?:_[A-Za-z0-9]{1,16})?\.([A-Za-z0-9]{1,8})")


def _signal_file_names(signal: Signal, name: str) -> list[str]:
    """Signal file per channel for record ``name``: ``name.dat``, or where the source kept channels in several files
    (PTB's leads and Frank leads, FLAC formats' one file per rate) one per group, each named as its source file was
    after the record's name (``s0010_re.xyz`` written as ``name.xyz``) where every one was so named, else
    ``name_<k>.dat``. No name is taken whole from a ``.san`` header: the record's part comes from ``name``, the rest
    only where it is an extension (and perhaps an underscore and a few letters before it) that no header, ``.san`` or
    annotation file of the record uses."""
    c = signal.n_channels
    source = signal.file_name or ["0"] * c
    groups = {f: k for k, f in enumerate(dict.fromkeys(source))}
    if _in_matlab_file(signal):
        return [f"{name}.mat"] * c
    if len(groups) == 1:
        return [f"{name}.dat"] * c
    taken = RESERVED_EXTENSIONS - {"dat"} | {a.extension.lower() for a in signal.annotations}
    record = signal.record_name
    tails = {f: f[len(record) :] for f in groups if isinstance(f, str) and record and f.startswith(record)}
    if len(tails) == len(groups) and all((m := _FILE_TAIL.fullmatch(t)) and m.group(1).lower() not in taken
                                         for t in tails.values()):
        return [f"{name}{tails[f]}" for f in source]
    return [f"{name}_{groups[f]}.dat" for f in source]


def _own_formats(signal: Signal, files: Sequence[str], inits: Sequence[int]) -> dict[str, tuple[str, list[int]]]:
    """The signal files of ``signal`` (``files``, one a channel) in a format wfdb-python reads but does not write
    (``wfdb_formats.FORMATS``: 8, 61, 160, 310, 311) that holds their samples (format 8's steps from the header's
    initial values, ``inits``), with that format and their channels:
    written by ``wfdb_formats.encode``, where they were written as format 16 (one sample a frame only; a file that
    does not hold its samples is still written so, with a warning)."""
    if signal.frame_size != 1 or signal.fmt is None:
        return {}
    own = {}
    for file in dict.fromkeys(files):
        channels = [i for i, f in enumerate(files) if f == file]
        fmts = {str(signal.fmt[i]) for i in channels}
        fmt = next(iter(fmts))
        if len(fmts) == 1 and fmt in wfdb_formats.FORMATS and \
                wfdb_formats.holds(fmt, signal.samples[:, channels], [inits[i] for i in channels]):
            own[file] = (fmt, channels)
    return own


MATLAB_HEADER = 24  # bytes of a WFDB .mat signal file's MATLAB v4 header (its 20 and the name "val"), which the
# header's byte offset skips (``a103l.mat 16+24``)


def _in_matlab_file(signal: Signal) -> bool:
    """Whether ``signal`` came from a WFDB record whose signals lie in one MATLAB v4 file, format 16 (PhysioNet's
    challenge records: ``a103l.mat 16+24``), one sample a frame: written back as such a file (:func:`_as_matlab`)."""
    names = signal.file_name or []
    return signal.is_digital and signal.fmt is not None and signal.frame_size == 1 and len(set(names)) == 1 and \
        str(names[0]).lower().endswith(".mat") and all(f == "16" for f in signal.fmt) and \
        signal.n_channels < 1 << 31 and signal.n_samples < 1 << 31


def _as_matlab(path: Path, channels: int, samples: int) -> None:
    """The format 16 signal file wfdb-python wrote at ``path`` as WFDB's MATLAB one: a MATLAB v4 matrix ``val`` of
    int16 (type 30), one row a signal and one column a sample (column-major: the same interleaved values), its
    :data:`MATLAB_HEADER` bytes before them."""
    data = path.read_bytes()
    if len(data) != 2 * channels * samples:
        raise SanFormatError(f"{path.name}: wfdb wrote {len(data)} bytes, not {2 * channels * samples}")
    head = np.array([30, channels, samples, 0, 4], dtype="<i4").tobytes() + b"val\0"
    path.write_bytes(head + data)


def _is_multisegment(signal: Signal) -> bool:
    """A digital signal read from a multi-segment record: written back as one."""
    return wfdb_multi.is_multisegment(signal) and signal.is_digital and signal.fmt is not None


def _annotated(signal: Signal) -> Signal:
    """``signal`` as :func:`write_wfdb` writes it: where it came from EDF/BDF with EDF+ annotations and has no WFDB
    ones, with those as an ``.atr`` of notes (``edf.edf_annotations_as_wfdb``)."""
    from sancodec.io.edf import edf_annotations_as_wfdb

    notes = edf_annotations_as_wfdb(signal)
    return dataclasses.replace(signal, annotations=notes) if notes else signal


def output_files(signal: Signal, path: Path) -> list[Path]:
    """Every file :func:`write_wfdb` would write for ``signal`` at record ``path``."""
    name = check_record_name(path)
    signal = _annotated(signal)
    if _is_multisegment(signal):
        return wfdb_multi.output_files(signal, path)
    files = [f"{name}.hea", *dict.fromkeys(_signal_file_names(signal, name))]
    files += [f"{name}.{a.extension}" for a in signal.annotations if len(a)]
    return [path.parent / f for f in files]


def float_as_digital(signal: Signal, quantum: list[float]) -> Signal:
    """A float signal whose samples are integers x quantum (a decoded .npy/CSV source; float32 samples each the
    float32 nearest that product, format 1.18) as digital samples with ``adc_gain = 1 / quantum``: WFDB and EDF then
    hold them exactly (refused past 32 bits)."""
    q, gains = _steps_and_gains(quantum)
    digital = _counts(signal.samples / q, "grid")
    if signal.samples.dtype == np.float32:  # (the float32 nearest each product: half a float32 unit away)
        off = not np.array_equal((digital * q).astype(np.float32), signal.samples)
    else:
        off = bool(np.abs(digital * q - signal.samples).max(initial=0) > 1e-6 * q.min())
    if off:
        raise SanConfigError("the float samples do not sit on the file's grid; use --format npy")
    return _counts_signal(signal, digital, gains, [0] * signal.n_channels)


NEAR_TOLERANCE = 2.0**-9  # of a step: how far a float64 near its step (format 1.19) may sit from its count's value
# (its correction: at most 2^11 units in the last place of a count below 2^31, 2^-10 of the step)


def near_grid_as_digital(signal: Signal, quantum: list[float], offsets: list[float]) -> tuple[Signal, list[float]]:
    """A float signal near a step from an offset per channel (a format 1.19 file's ``k * quantum + offset`` and a
    correction in its last places) as its counts ``k``: digital samples with ``adc_gain = 1 / quantum`` and, where
    the offset is a whole number of steps, ``baseline = -offset / quantum``; and what is left of each offset (0.0
    there; else the offset itself, baseline 0), which WFDB cannot hold and EDF holds in its physical range. The
    corrections are not held: the samples come back as ``k * quantum + offset`` (:data:`NEAR_TOLERANCE`)."""
    q, gains = _steps_and_gains(quantum)
    o = np.asarray(offsets, dtype=np.float64)
    if q.shape != o.shape or not np.all(np.isfinite(o)):
        raise SanConfigError("a near grid's offsets must be finite, one for each step")
    whole = np.rint(o / q)
    exact = np.abs(o / q - whole) <= 1e-9 * np.maximum(1.0, np.abs(whole))
    with np.errstate(over="ignore", invalid="ignore"):
        counts = _counts((signal.samples - o) / q, "step")
    if np.abs(counts * q + o - signal.samples).max(initial=0) > NEAR_TOLERANCE * q.min():
        raise SanConfigError("the float samples do not sit near the file's step; use --format npy")
    baselines = [int(-w) if e else 0 for w, e in zip(whole, exact)]
    return _counts_signal(signal, counts, gains, baselines), [0.0 if e else float(v) for v, e in zip(o, exact)]


def _steps_and_gains(quantum: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """A float signal's steps as an array, and their gains ``1 / step``; a step with no finite positive gain (a grid
    of 5e-324, a flat channel's own value) refused."""
    q = np.asarray(quantum, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        gains = 1 / q
    if not (np.all(np.isfinite(gains)) and np.all(gains > 0)):
        raise SanConfigError(f"a grid of {float(q[~(np.isfinite(gains) & (gains > 0))][0]):g} has no gain WFDB and "
                             "EDF can hold (use --format npy)")
    return q, gains


def _counts(quotients: np.ndarray, what: str) -> np.ndarray:
    """``quotients`` (samples over their steps) rounded to the counts WFDB and EDF hold; past 32 bits refused."""
    with np.errstate(invalid="ignore"):
        counts = np.rint(quotients)
    if not np.all(np.isfinite(counts)) or np.abs(counts).max(initial=0) >= 2**31:
        raise SanConfigError(f"these float samples need more than 32 bits on their {what}; WFDB and EDF cannot hold "
                             "them exactly (use --format npy)")
    return counts


def _counts_signal(signal: Signal, counts: np.ndarray, gains: np.ndarray, baselines: list[int]) -> Signal:
    """``signal``'s metadata over its ``counts`` (float64 integers) at ``gains`` and ``baselines``, in format 16, or
    32 where a count is past 16 bits (or a baseline past 31)."""
    wide = np.abs(counts).max(initial=0) > 32767 or max(map(abs, baselines), default=0) > 2**31 - 1
    return Signal(counts.astype(np.int64), signal.fs, list(signal.channel_names), list(signal.units),
                  adc_gain=[float(g) for g in gains], baseline=baselines,
                  fmt=["32" if wide else "16"] * signal.n_channels, comments=list(signal.comments),
                  base_time=signal.base_time, base_date=signal.base_date, record_name=signal.record_name,
                  annotations=list(signal.annotations), samples_per_frame=signal.samples_per_frame)


def write_wfdb(signal: Signal, path: Path, *, quantum: list[float] | None = None,
               offsets: list[float] | None = None, fsync: bool = False) -> list[Path]:
    """Write a WFDB record (header, signal files, annotations) with the source's format.

    Names come from ``path`` alone (checked against :data:`RECORD_NAME`). The files are written
    into a temporary folder beside the target, read back with wfdb-python and compared, then
    moved into place together under a lock on the folder. A float signal decoded from a
    ``.san`` (``quantum``: its grid) is written exactly with ``adc_gain = 1 / quantum``; one near its step from an
    offset (``offsets``, format 1.19) as its counts, where each offset is a whole number of steps (the baseline),
    else refused (:func:`near_grid_as_digital`). An EDF/BDF source's EDF+
    annotations, where it has no WFDB ones, are written as an ``.atr`` of notes (``edf.edf_annotations_as_wfdb``).
    """
    name = check_record_name(path)
    signal = ascii_units(_integer_formats(_decimal_formats(_annotated(signal))))
    check_strings(signal)
    if not signal.is_digital and quantum is not None and offsets is not None:
        signal, left = near_grid_as_digital(signal, quantum, offsets)
        if any(left):
            ch = next(k for k, v in enumerate(left) if v)
            raise SanConfigError(f"channel {ch}'s values sit near a step of {quantum[ch]!r} from {left[ch]!r}, not a "
                                 "whole number of steps from 0: WFDB's integer baseline cannot hold that offset; "
                                 "write EDF or BDF (which hold it), .npy or CSV")
    elif not signal.is_digital and quantum is not None:
        signal = float_as_digital(signal, quantum)
    _warn_fractional_baselines(signal, path)
    multi = _is_multisegment(signal)
    targets = output_files(signal, path)
    try:
        with temp_folder(path) as tmp:
            (wfdb_multi.write_segments if multi else write_record)(signal, name, tmp)
            if not multi:  # a kept .hea text where it says what wfdb-python's does (--keep-header-text)
                restore_header_text(signal.source, name, tmp)
            _check_read_back(signal, tmp / name)
            written = sorted(tmp.iterdir())
            if sorted(f.name for f in written) != sorted(t.name for t in targets):
                raise SanFormatError(f"{path}: wfdb wrote {[f.name for f in written]}, expected "
                                     f"{[t.name for t in targets]}")
            return move_into_place([(f, path.parent / f.name) for f in written], fsync=fsync)
    except (SanFormatError, SanConfigError, OSError):  # (an OSError said of the record: temp_folder)
        raise
    except Exception as exc:
        raise SanFormatError(f"{path}: could not write WFDB record ({type(exc).__name__}: {exc})") from None


def _warn_fractional_baselines(signal: Signal, path: Path) -> None:
    """A SancodecWarning for each channel of an EDF source whose physical zero lies a fraction of a step from a
    digital value (``edf.edf_scalings``): WFDB's integer baseline holds it rounded, so the record's physical values
    are that much off what the EDF's were (the digital samples are written as they are)."""
    from sancodec.io.edf import edf_scalings

    for c, scaling in enumerate(edf_scalings(signal)):
        if scaling is not None and signal.baseline is not None:
            off = abs(scaling[1] + signal.baseline[c])
            warnings.warn(f"{path}: channel {c} ({signal.channel_names[c]}): its EDF range puts physical zero "
                          f"{off:.3g} of a step from a digital value, which WFDB's integer baseline rounds: its "
                          f"physical values are {off * scaling[0]:.3g} {signal.units[c]} off the EDF's (write EDF to "
                          "keep them)", SancodecWarning, stacklevel=3)


def _decimal_formats(signal: Signal) -> Signal:
    """A decimal signal (``io.decimals``: integers at gains of 10^d, no WFDB format) with format 16 or 32 by its
    integers' range (one format for the one signal file), so that WFDB holds those integers and gains exactly, as
    a CSV's 0.125 is 125 at 1000 units per mV, its gaps (``decimals.missing_of``) that format's invalid sample;
    left to wfdb's own digitisation otherwise (it picks gains such as 3.1e9 units per mV)."""
    head = {"source": signal.source, "channel_names": signal.channel_names, "adc_gain": signal.adc_gain,
            "baseline": signal.baseline}
    if signal.fmt is not None or not signal.is_digital or header_decimals(head) is None:
        return signal
    x = np.asarray(signal.samples)
    missing = missing_of(signal.source)  # a CSV's gaps, held as format 16's or 32's invalid sample: WFDB's gaps
    fmt = _format_for(x if missing is None else x[x != missing[0]])
    if fmt is None:
        return signal
    narrow = fmt == "16" and (missing is None or missing[0] == -(1 << 15))  # (one format a .dat file)
    return dataclasses.replace(signal, fmt=["16" if narrow else "32"] * signal.n_channels)


def _format_for(values: np.ndarray) -> str | None:
    """The narrower of WFDB formats 16 and 32 that holds every one of ``values`` (integers), their least values
    left out (each format's invalid sample); None past format 32's range."""
    if values.size and (values.min() <= -(1 << 31) or values.max() >= 1 << 31):
        return None
    return "16" if not values.size or values.min() >= -32767 and values.max() <= 32767 else "32"


def _integer_formats(signal: Signal) -> Signal:
    """A digital signal without WFDB formats (a user's integers, an integer .npy or CSV source) with format 16 or
    32 by its integers' range, its gains and baselines kept (1 and 0 where it has none: its samples are its values),
    so that WFDB holds those very integers; before, wfdb-python digitised their physical values anew (format 32 at
    gains such as 1.8e10 units per mV), the integers and gains lost. Refused past format 32's range."""
    if signal.fmt is not None or not signal.is_digital or not signal.n_samples:
        return signal
    x = np.asarray(signal.samples)
    fmt = _format_for(x)
    if fmt is None:  # (such integers went through wfdb-python's digitisation, and came back other integers)
        raise SanConfigError(f"samples from {int(x.min())} to {int(x.max())} are past WFDB's widest format (32 bits); "
                             "write .npy or CSV, which hold them exactly")
    c = signal.n_channels
    gains = signal.adc_gain if signal.adc_gain is not None else [1.0] * c
    baselines = signal.baseline if signal.baseline is not None else [0] * c
    return dataclasses.replace(signal, fmt=[fmt] * c, adc_gain=list(gains), baseline=list(baselines))


def write_record(signal: Signal, name: str, folder: Path) -> None:
    import wfdb

    c = signal.n_channels
    names = writable_names(signal.channel_names)  # (a repeated name as a placeholder: put back below)
    if signal.is_digital and signal.fmt is not None:
        signal.check_frames(name)
        frame = signal.frame_size
        files = _signal_file_names(signal, name)
        inits = kept_inits(signal.source, signal.samples[0])
        own = _own_formats(signal, files, inits)  # each file wfdb-python cannot write but io.wfdb_formats can
        rec = wfdb.Record(
            record_name=name, n_sig=c, fs=signal.fs / frame, sig_len=signal.n_samples // frame,
            base_time=wfdb_time(signal.base_time, "time"), base_date=wfdb_time(signal.base_date, "date"),
            file_name=files,
            fmt=["16" if files[i] in own else _writable_format(f, signal.samples[:, i])
                 for i, f in enumerate(signal.fmt)],
            adc_gain=list(signal.adc_gain or [200.0] * c),
            baseline=list(signal.baseline or [0] * c), units=list(signal.units),
            sig_name=names, adc_res=list(signal.adc_res or [0] * c),
            adc_zero=list(signal.adc_zero or [0] * c), comments=list(signal.comments), **counter_fields(signal.source),
        )
        if frame == 1:
            rec.d_signal = signal.samples.astype(np.int64)
        else:
            rec.samps_per_frame = list(signal.samples_per_frame or [])  # (frames of several samples: given)
            rec.e_d_signal = [signal.samples[::step, k].astype(np.int64)
                              for k, step in enumerate(signal.sample_steps())]
        rec.set_d_features(expanded=frame > 1, do_adc=False)
        rec.init_value = inits
        rec.block_size = [0] * c
        rec.wrsamp(expanded=frame > 1, write_dir=str(folder))
        again = False  # the header written again, with what wrsamp does not write
        for file, (fmt, channels) in own.items():  # (written as format 16 by wrsamp: in its own format here)
            (folder / file).write_bytes(wfdb_formats.encode(fmt, signal.samples[:, channels],
                                                             [inits[i] for i in channels]))
            rec.fmt, again = [fmt if i in channels else f for i, f in enumerate(rec.fmt)], True
        if _in_matlab_file(signal):  # (the samples wrsamp wrote, behind a MATLAB header its byte offsets skip)
            _as_matlab(folder / f"{name}.mat", c, signal.n_samples)
            rec.byte_offset, again = [MATLAB_HEADER] * c, True
        kept = kept_checksums(signal.source, signal.samples.sum(axis=0, dtype=np.int64)) if frame == 1 else None
        if kept is not None and kept != list(rec.checksum):  # (wrsamp gives every channel its samples' own)
            rec.checksum, again = kept, True
        if again:
            rec.wrheader(write_dir=str(folder), expanded=False)
    else:
        wfdb.wrsamp(name, fs=signal.fs, units=list(signal.units), sig_name=names,
                    p_signal=signal.physical(), fmt=["32"] * c, comments=list(signal.comments),
                    write_dir=str(folder))
    put_back_names(folder / f"{name}.hea", signal.channel_names, names)
    write_annotations(signal, name, folder)


def write_annotations(signal: Signal, name: str, folder: Path) -> None:
    """Each of ``signal``'s annotation sets as the annotation file ``name.EXT`` in ``folder``. wfdb-python writes
    extensions of letters only: one with a digit (qtdb's ``pu0``, ``q1c``, ludb's ``v1``), which WFDB and rdann
    read, is written under a stand-in of letters and renamed (it crashed the decode)."""
    import wfdb

    taken = {a.extension for a in signal.annotations}
    stand_in = "sancodecpending"
    while stand_in in taken:
        stand_in += "x"
    for ann in signal.annotations:
        if len(ann) == 0:
            continue
        frames = ann.sample // signal.frame_size  # WFDB counts annotation times in frames
        # the rate noted as the source's file noted it (MIT-BIH's .atr files have no note: none written); where not
        # known, the frame rate the times count (the header's own; the rows' rate noted before, on a multi-frequency
        # record frame_size times too high)
        fs = annotation_rate(signal) if ann.time_resolution is None else ann.time_resolution or None
        written = ann.extension if ann.extension.isascii() and ann.extension.isalpha() else stand_in
        try:  # (copies: wrann moves the symbols it does not know into the notes of the lists it is given, which
            # made the read-back check compare the changed labels with themselves)
            wfdb.wrann(name, written, frames, symbol=list(ann.symbol), subtype=ann.subtype.copy(),
                       chan=ann.chan.copy(), num=ann.num.copy(), aux_note=list(ann.aux_note), fs=fs,
                       custom_labels=None if ann.custom_labels is None else [tuple(c) for c in ann.custom_labels],
                       write_dir=str(folder))
        except (TypeError, ValueError) as exc:
            said = " ".join(str(exc).split())  # (one line: wfdb-python's messages run over several)
            raise SanFormatError(f"{name}.{ann.extension}: wfdb-python cannot write these annotations ({said[:300]})") \
                from None
        if written != ann.extension:
            (folder / f"{name}.{written}").replace(folder / f"{name}.{ann.extension}")


def _check_read_back(signal: Signal, base: Path) -> None:
    """Read the record just written with wfdb-python: a record it cannot read, or digital samples or annotations
    that differ, is never reported as written. (A damaged record written back with its header's checksums
    (:func:`kept_checksums`) is read back without their warning, which is the source's, said when it was read.)"""
    back = read_wfdb(base, quiet=True)
    if _is_multisegment(signal):
        wfdb_multi.check_same_segments(signal, back, base.name)
        return check_annotations_read_back(signal, base)
    if back.samples.shape != signal.samples.shape:
        raise SanFormatError(f"{base.name}: the written record reads back as {back.samples.shape}, "
                             f"not {signal.samples.shape}")
    if signal.is_digital and signal.fmt is not None and not np.array_equal(back.samples, signal.samples):
        raise SanFormatError(f"{base.name}: the written record does not read back to the same samples")
    check_annotations_read_back(signal, base)


def check_annotations_read_back(signal: Signal, base: Path) -> None:
    """Read each annotation file just written with wfdb-python (every extension, not only those a record's reading
    looks for): one that reads back otherwise (wfdb-python writes some labels it cannot read, or reads as other
    ones) is never reported as written."""
    written = [a for a in signal.annotations if len(a)]
    back = {a.extension: a for a in record_annotations(base, signal.frame_size, [a.extension for a in written])}
    for ann in written:
        if not ann.equals(back.get(ann.extension)):
            raise SanFormatError(f"{base.name}.{ann.extension}: the written annotations do not read back as they "
                                 "were (a symbol or field WFDB cannot hold?)")
