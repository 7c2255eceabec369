"""EDF or BDF header fields that edfio reads but will not write, written after it as the source had them.

*Text past ASCII.* The standard allows ASCII only, but clinical exporters write a unit's micro sign (0xB5: ``µV``),
a name's umlaut or a patient's ``Müller`` in Latin-1 (or UTF-8) bytes. edfio reads each such byte as U+FFFD and
refuses to write one, so such a file was coded, and its decode to EDF failed. The reader takes those fields from the
header's bytes (:func:`raw_texts`, each byte one character, U+0000-U+00FF: the same bytes again), and the writer
hands edfio a stand-in of the same length (:func:`stand_in`) and then puts the bytes back at the field's place
(:func:`put_back`). So are control characters (C1's 0x80-0x9F, a tab), which edfio reads but will not write: a
field's bytes go back in its fixed width, where they can make no other field. Only a field an EDF source's own header
held is written so: text from elsewhere (a WFDB record's names) past ASCII is refused, as the standard asks.

*A plain file's reserved field* (BioSemi's ``24BIT`` in every BDF, a device's name), which edfio writes blank: put
back where the file is written plain again (:func:`reserved_patch`).

*Where the annotation signal is.* EDF+ lets its annotation signal stand anywhere among the signals; edfio writes it
last: the place of a source's that was not is kept (:func:`annotation_place`) and the written file's signals put
back in that order (:func:`move_annotation_signal`).

*Ranges edfio refuses.* A channel whose physical minimum equals its maximum (an exporter's unused channel), or
whose digital range is empty or does not hold its samples, is read, but edfio writes no such range: the writer
gives it a stand-in range and puts the source's numbers back (:func:`range_patches`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from sancodec.errors import SanFormatError

__all__ = ["HEADER_BYTES", "RECORDS_FIELD", "SAMPLES_BEFORE", "SIGNALS_FIELD", "Patch", "annotation_place",
           "move_annotation_signal", "number_field", "put_back", "range_patches", "raw_texts", "record_counts",
           "record_layout", "reserved_patch", "stand_in", "unknown_records"]

HEADER_BYTES = 256  # every EDF and BDF header's fixed part; each signal adds 256 more
SIGNALS_FIELD = slice(252, 256)  # the fixed part's count of signals ...
RECORDS_FIELD = slice(236, 244)  # ... and of data records (-1: a recording in progress)
#: the main header's text fields: name, (first byte, bytes)
MAIN_FIELDS = {"patient": (8, 80), "recording": (88, 80), "reserved": (192, 44)}
#: each signal's header fields in their order, (name, bytes): the header holds each field's block of ns values in turn
SIGNAL_LAYOUT = (("label", 16), ("transducer_type", 80), ("physical_dimension", 8), ("physical_min", 8),
                 ("physical_max", 8), ("digital_min", 8), ("digital_max", 8), ("prefiltering", 80), ("samples", 8),
                 ("reserved", 32))
#: (bytes, where its block of ns values starts: bytes a signal before it) of each field of :data:`SIGNAL_LAYOUT`
_PLACES = {name: (size, sum(w for _, w in SIGNAL_LAYOUT[:k])) for k, (name, size) in enumerate(SIGNAL_LAYOUT)}
#: a signal's header bytes before its samples per data record: that field's block of ns values starts at
#: ``HEADER_BYTES + SAMPLES_BEFORE * ns``
SAMPLES_BEFORE = _PLACES["samples"][1]
#: a signal's text fields, placed as :data:`_PLACES` places them
SIGNAL_FIELDS = {name: _PLACES[name] for name in ("label", "transducer_type", "physical_dimension", "prefiltering")}
#: a signal's range fields, placed alike
NUMBER_FIELDS = {name: _PLACES[name] for name in ("physical_min", "physical_max", "digital_min", "digital_max")}
_EDFIO_STRIPS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.rstrip() takes off edfio's ASCII decode of a field
_ANNOTATION_LABELS = (b"EDF Annotations", b"BDF Annotations")


class Patch(NamedTuple):
    """A text field to put back as its Latin-1 bytes: its header offset in a file of ``signals`` signals and its
    length (:func:`put_back` works the offset out), what edfio wrote there (the stand-in), and the text."""

    field: str
    signal: int | None  # the data signal's index (None: a main header field)
    written: str
    text: str


def _decoded(raw: bytes) -> str:
    """A field's bytes as text, each byte its own character (Latin-1), its end stripped as edfio strips it."""
    return raw.rstrip(_EDFIO_STRIPS).decode("latin-1")


def number_field(raw: bytes) -> int | None:
    """A header field's whole number, or None where it holds none (ASCII digits, spaces around them)."""
    try:
        return int(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return None


def _signal_count(header: bytes, least: int) -> int | None:
    """The count of signals ``header`` (a file's first bytes) declares, where it parses, is ``least`` to 2^16, and
    ``header`` holds every signal's fields; else None."""
    ns = number_field(header[SIGNALS_FIELD])
    return ns if ns is not None and least <= ns <= 1 << 16 and len(header) >= HEADER_BYTES * (ns + 1) else None


def raw_texts(header: bytes) -> tuple[dict[str, str], list[dict[str, str]]] | None:
    """The main header's text fields and each data signal's (EDF+'s annotation signals left out, as edfio leaves
    them out of its signals) from ``header``, the file's first bytes; None where ``header`` is too short or its
    signal count does not parse (edfio says what is wrong)."""
    ns = _signal_count(header, 1)
    if ns is None:
        return None
    main = {name: _decoded(header[at : at + size]) for name, (at, size) in MAIN_FIELDS.items()}
    signals = []
    for k, label in enumerate(_labels(header, ns)):
        if label in _ANNOTATION_LABELS:
            continue
        signals.append({name: _decoded(header[_offset(name, k, ns) : _offset(name, k, ns) + size])
                        for name, (size, _) in SIGNAL_FIELDS.items()})
    return main, signals


def record_layout(header: bytes) -> tuple[int, int, list[tuple[int, int]]] | None:
    """From ``header`` (the file's first bytes): where its data records start, the samples a record holds, and each
    data signal's first sample in a record and samples there, in the header's order (EDF+'s annotation signals left
    out, as edfio leaves them out of its signals); None where a field does not parse."""
    ns = _signal_count(header, 1)
    start = number_field(header[184:192])
    if ns is None or start is None or start < HEADER_BYTES * (ns + 1):
        return None
    read = record_counts(header[HEADER_BYTES + SAMPLES_BEFORE * ns :], ns)
    counts = [c for c in read if c is not None and c >= 0]
    if len(counts) != len(read):
        return None
    firsts = [sum(counts[:k]) for k in range(ns)]
    data = [(first, count) for first, count, label in zip(firsts, counts, _labels(header, ns))
            if label not in _ANNOTATION_LABELS]
    return start, sum(counts), data


def record_counts(block: bytes, ns: int) -> list[int | None]:
    """Each of ``ns`` signals' samples per data record, from the header's block of that field (``block``: from its
    start, at ``HEADER_BYTES + SAMPLES_BEFORE * ns``); None for one that does not parse or is not there."""
    return [number_field(block[8 * k : 8 * (k + 1)]) for k in range(ns)]


def _labels(header: bytes, ns: int) -> list[bytes]:
    """The ``ns`` signals' labels in ``header``, their trailing spaces off (an annotation signal's is one of
    :data:`_ANNOTATION_LABELS`)."""
    return [header[_offset("label", k, ns) : _offset("label", k, ns) + 16].rstrip() for k in range(ns)]


def _offset(field: str, k: int, ns: int) -> int:
    size, before = {**SIGNAL_FIELDS, **NUMBER_FIELDS}[field]
    return HEADER_BYTES + before * ns + size * k


def range_patches(k: int, physical: tuple[float, float], digital: tuple[int, int], values: tuple[int, int],
                  format_range: tuple[int, int]) -> tuple[tuple[float, float], tuple[int, int], list[Patch]]:
    """Channel ``k``'s physical and digital ranges as edfio takes them, and the patches that put the source's back:
    an empty physical range given another maximum, a digital range that is empty or leaves out the samples' extremes
    (``values``) widened to them (within ``format_range``, a value more where they are one), each changed number
    written back as edfio spells it (an integer without a point, a decimal in 8 characters). Where edfio takes the
    ranges as they are, they and no patch."""
    from edfio._header_field import encode_float, encode_int

    patches: list[Patch] = []
    pmin, pmax = physical
    if pmin == pmax:
        stand = 0.0 if pmin != 0 else 1.0
        patches.append(Patch("physical_max", k, encode_float(stand).decode().strip(),
                             encode_float(pmax).decode().strip()))
        pmax = stand
    dmin, dmax = digital
    lo, hi = min(dmin, values[0]), max(dmax, values[1])
    if lo == hi:
        hi = lo + 1 if lo < format_range[1] else hi
        lo = lo - 1 if lo == hi else lo
    if (lo, hi) != (dmin, dmax):
        for field, own, stand in (("digital_min", dmin, lo), ("digital_max", dmax, hi)):
            if own != stand:
                patches.append(Patch(field, k, encode_int(stand, 8).decode().strip(),
                                     encode_int(own, 8).decode().strip()))
    return (pmin, pmax), (lo, hi), patches


def stand_in(text: str) -> str | None:
    """Printable ASCII of ``text``'s length to hand edfio in its place (each other character as ``?``), where every
    character of ``text`` is one Latin-1 byte and some are not printable ASCII (past ASCII, or a control character,
    C1's 0x80-0x9F too, which the standard does not allow but exporters write and edfio reads: the source's bytes go
    back in the field's fixed width, where they can make no other field); None where it is printable ASCII already or
    holds a character past Latin-1 (left to the writer's own checks)."""
    if _PRINTABLE.fullmatch(text) or any(ord(ch) > 0xFF for ch in text):
        return None
    return "".join(ch if _PRINTABLE.fullmatch(ch) else "?" for ch in text)


_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def reserved_patch(text: object) -> Patch | None:
    """The patch that writes a plain file's ``reserved`` field (a source entry, not trusted) where edfio wrote it
    blank: text of at most 44 Latin-1 characters (:func:`stand_in`) that does not make the file EDF+ or BDF+ (whose
    reserved field says so, and which holds an annotation signal this file has none of); None for anything else."""
    if not isinstance(text, str) or not text or len(text) > MAIN_FIELDS["reserved"][1] or \
            text.startswith(("EDF+", "BDF+")) or not (_PRINTABLE.fullmatch(text) or stand_in(text)):
        return None
    return Patch("reserved", None, "", text)


def unknown_records(path: Path) -> None:
    """Write -1, EDF's "not known yet" (a recording in progress, or an exporter that never filled it in), as the count
    of data records of the file at ``path``, where edfio wrote the count it holds: a source's -1 put back (edfio and
    sancodec read such a file by the records it holds)."""
    with open(path, "r+b") as f:
        if number_field(f.read(HEADER_BYTES)[RECORDS_FIELD]) is None:
            raise SanFormatError(f"{path}: edfio wrote no count of data records")
        f.seek(RECORDS_FIELD.start)
        f.write(b"-1".ljust(RECORDS_FIELD.stop - RECORDS_FIELD.start))


def put_back(path: Path, patches: Sequence[Patch]) -> None:
    """Write each patch's text as its Latin-1 bytes where edfio wrote its stand-in in the file at ``path``, checking
    that the stand-in is there (the annotation signal, if any, after the data signals, as edfio writes it)."""
    if not patches:
        return
    with open(path, "r+b") as f:
        ns = number_field(f.read(HEADER_BYTES)[SIGNALS_FIELD])
        if ns is None:
            raise SanFormatError(f"{path}: edfio wrote no signal count")
        for patch in patches:
            if patch.signal is None:
                at, size = MAIN_FIELDS[patch.field]
            else:
                at, size = _offset(patch.field, patch.signal, ns), {**SIGNAL_FIELDS, **NUMBER_FIELDS}[patch.field][0]
            f.seek(at)
            if f.read(size) != patch.written.encode("ascii").ljust(size):
                raise SanFormatError(f"{path}: the {patch.field.replace('_', ' ')} was not written where expected")
            f.seek(at)
            f.write(patch.text.encode("latin-1").ljust(size))


_SAMPLES_AT = [name for name, _ in SIGNAL_LAYOUT].index("samples")  # the field of a signal's samples a data record


def annotation_place(header: bytes) -> int | None:
    """Where among its signals a file's one annotation signal stands, from ``header`` (its first bytes), where that
    is not last (where edfio writes it); None where it is last, absent, not alone, or the header does not parse."""
    ns = _signal_count(header, 2)
    if ns is None:
        return None
    places = [k for k, label in enumerate(_labels(header, ns)) if label in _ANNOTATION_LABELS]
    return places[0] if len(places) == 1 and places[0] != ns - 1 else None


def move_annotation_signal(path: Path, to: int, sample_bytes: int) -> bool:
    """The file at ``path`` as edfio wrote it (its annotation signal last) with that signal moved to place ``to``,
    each header field's block and each data record's samples reordered alike (``sample_bytes``: 2 for EDF, 3 for
    BDF); whether it was moved (not where ``to`` is past the data signals or the file's layout does not parse). The
    records are copied one at a time into a file beside it, which then takes its place."""
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
        ns, records = number_field(head[SIGNALS_FIELD]), number_field(head[RECORDS_FIELD])
        if ns is None or records is None or not 0 <= to < ns - 1 or records < 0:
            return False
        fields = f.read(HEADER_BYTES * ns)
        order = [*range(to), ns - 1, *range(to, ns - 1)]
        blocks, at = [], 0
        for _, width in SIGNAL_LAYOUT:
            block = [fields[at + width * k : at + width * (k + 1)] for k in range(ns)]
            blocks.append(block)
            at += width * ns
        try:
            counts = [int(v.decode("ascii")) for v in blocks[_SAMPLES_AT]]
        except (UnicodeDecodeError, ValueError):
            return False
        sizes = [sample_bytes * n for n in counts]
        moved = path.with_name(path.name + ".moved")
        with open(moved, "wb") as out:
            out.write(head + b"".join(b"".join(block[k] for k in order) for block in blocks))
            for _ in range(records):
                record = f.read(sum(sizes))
                if len(record) != sum(sizes):
                    moved.unlink()
                    raise SanFormatError(f"{path}: edfio wrote fewer data records than its header says")
                parts, at = [], 0
                for size in sizes:
                    parts.append(record[at : at + size])
                    at += size
                out.write(b"".join(parts[k] for k in order))
            out.write(f.read())
    moved.replace(path)
    return True
