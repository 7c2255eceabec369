"""What a WFDB record written by sancodec may be called and hold: record names, annotation
extensions, header strings without control characters (a newline would become a raw header line)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.signal import Signal

__all__ = ["ANNOTATION_EXTENSION", "CONTROL", "MAX_AUX", "RECORD_NAME", "RESERVED_EXTENSIONS",
           "ascii_units", "check_record_name", "check_strings", "put_back_names", "record_name_like", "spelled_micro",
           "writable_names"]

#: What WFDB (and wfdb-python) can read back as a record name: ASCII letters, digits, '_' and '-'.
RECORD_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Annotation file extensions sancodec writes: 1-16 ASCII letters, digits or '_', never a signal
#: or header extension.
ANNOTATION_EXTENSION = re.compile(r"[A-Za-z0-9_]{1,16}")
RESERVED_EXTENSIONS = frozenset({"hea", "dat", "san", "npy", "csv", "mat", "edf", "py", "sh"})
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # control characters: a header line's end, EDF+'s separators
MAX_AUX = 255  # characters of an annotation's note (its length is one byte in the file)


def record_name_like(name: str) -> str:
    """A record name :data:`RECORD_NAME` accepts, made from ``name`` (a file's stem that holds dots or spaces:
    ``patient.01_decoded``): each other character as '_', cut to 64; "decoded" where nothing is left. For names
    sancodec picks itself; one a user gives is checked (:func:`check_record_name`), not changed."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "decoded"


def check_record_name(path: Path) -> str:
    """The record name ``path`` asks for, or a SanConfigError stating the rule."""
    if not RECORD_NAME.fullmatch(path.name):
        raise SanConfigError(f"{path}: a WFDB record name holds 1-64 ASCII letters, digits, '_' or '-' "
                             "(no spaces, dots or other characters); choose another -o or --format npy")
    return path.name


#: what a WFDB header's units field holds (wfdb-python's reader: word characters, ^ - ? % /); a unit with another
#: character ("millivolts!", "m V") was written as a header line that reads back as other fields
UNITS = re.compile(r"[\w^\-?%/]*")


def check_strings(signal: Signal) -> None:
    texts = [*signal.channel_names, *signal.units, *signal.comments, *(signal.fmt or [])]
    if any(CONTROL.search(t) for t in texts):
        raise SanConfigError("a channel name, unit, format or comment holds a control character (a newline "
                             "would end up as a raw line of the .hea); WFDB cannot hold it")
    for what, texts in (("channel name", signal.channel_names), ("unit", signal.units), ("comment", signal.comments)):
        for text in texts:  # (wfdb-python reads a header as ASCII and drops the rest: "Lead ä" came back "Lead",
            # "µV" came back "V")
            if not text.isascii():
                raise SanConfigError(f"the {what} {text!r} holds a character past ASCII, which a WFDB header cannot "
                                     "hold (wfdb-python reads it back without it); write .npy or CSV instead")
    for k, unit in enumerate(signal.units):
        if not UNITS.fullmatch(unit):  # (was "ln.hea: unreadable or missing adc_res", from the read-back)
            raise SanConfigError(f"channel {k}'s unit {unit!r} cannot be written in a WFDB header, whose units hold "
                                 "letters, digits and _ ^ - ? % / only; write EDF, .npy or CSV instead")
    for ann in signal.annotations:
        if not ANNOTATION_EXTENSION.fullmatch(ann.extension) or ann.extension.lower() in RESERVED_EXTENSIONS:
            raise SanConfigError(f"annotation extension {ann.extension!r} is not allowed (1-16 letters, digits "
                                 f"or '_', not one of {', '.join(sorted(RESERVED_EXTENSIONS))})")
    extensions = [a.extension for a in signal.annotations if len(a)]
    if len(set(extensions)) != len(extensions):
        raise SanConfigError(f"two annotation sets share an extension: {extensions}")
    for ann in signal.annotations:
        note = next((t for t in ann.aux_note if not _fits_aux(t)), None)
        if note is not None:
            raise SanConfigError(f"an annotation note ({note[:40]!r}{'...' if len(note) > 40 else ''}) holds more "
                                 f"than {MAX_AUX} characters or one beyond Latin-1, which a WFDB annotation file "
                                 "cannot hold; write EDF, .npy or CSV instead")


#: the one non-ASCII character units routinely hold, as WFDB and EDF+ spell it ("uV")
MICRO = {"\u00b5": "u", "\u03bc": "u"}


def spelled_micro(text: str) -> str:
    """``text`` with the micro sign spelled "u" (µV: uV), as WFDB and EDF+ headers write it."""
    return "".join(MICRO.get(ch, ch) for ch in text)


def ascii_units(signal: Signal) -> Signal:
    """``signal`` with its units :func:`spelled_micro`."""
    spelled = [spelled_micro(unit) for unit in signal.units]
    return signal if spelled == list(signal.units) else dataclasses.replace(signal, units=spelled)


def _fits_aux(note: str) -> bool:
    """Whether an annotation's note fits WFDB's: at most :data:`MAX_AUX` characters, each one byte (wfdb-python
    writes each character's code point as a byte after a one-byte length, so a longer note or a wider character
    writes a file that reads back as other annotations)."""
    return len(note) <= MAX_AUX and (note.isascii() or max(map(ord, note)) < 256)


def writable_names(names: Sequence[str]) -> list[str]:
    """``names`` with each repeat of an earlier one replaced by a placeholder of its own: WFDB lets a record's signals
    share a name (two leads both "ECG"), and wfdb-python reads such a record, but its writer refuses it ("sig_name
    strings must be unique"); :func:`put_back_names` puts the names back in the header it writes with these."""
    taken, seen, out = set(names), set(), []
    for k, name in enumerate(names):
        if name not in seen:
            seen.add(name)
            out.append(name)
            continue
        placeholder = f"sancodec_repeated_name_{k}"
        while any(other.endswith(placeholder) for other in taken):  # (its line found by its end alone)
            placeholder += "_"
        taken.add(placeholder)
        out.append(placeholder)
    return out


def put_back_names(header: Path, names: Sequence[str], written: Sequence[str]) -> None:
    """The header wfdb-python wrote at ``header`` with signal names ``written`` (:func:`writable_names` of ``names``),
    each placeholder's signal line given its name again (a line's description, its last field, is the name)."""
    if list(names) == list(written):
        return
    lines = header.read_text(encoding="ascii").split("\n")
    for name, placeholder in zip(names, written):
        if name == placeholder:
            continue
        found = [i for i, line in enumerate(lines) if not line.lstrip().startswith("#") and
                 line.endswith(" " + placeholder)]
        if len(found) != 1:  # (the placeholders are no other signal's name: one line each)
            raise SanFormatError(f"{header.name}: the signal line of a repeated name {name!r} was not found")
        line = lines[found[0]]
        lines[found[0]] = line[: len(line) - len(placeholder) - 1] + (" " + name if name else "")
    header.write_text("\n".join(lines), encoding="ascii")
