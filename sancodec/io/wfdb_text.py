"""A WFDB record's ``.hea`` text kept in a ``.san`` and written back as it was (``--keep-header-text``, as ``flac
--keep-foreign-metadata`` keeps a WAV file's other chunks).

wfdb-python writes a header's fields in its own layout: a gain of ``200`` as ``200.0(1024)``, checksums unsigned,
no blank line between signal lines. The record it describes is the same, but the file is not the source's, so a
lossless archive's restored record fails the sums a repository publishes for it (PhysioNet's ``SHA256SUMS.txt``).
Kept (a source entry ``hea``, lossless files only), the text is written in place of wfdb-python's where, parsed by
wfdb-python, it says what that header says, field for field (checksums modulo 2^16, as WFDB reads them), and holds
no line but the record line, one line per signal, comments and blank lines: a header that would describe other
files, rates, gains or samples, or carry lines some reader might take for more, is never written. A ``.san`` header
is not trusted: a text that is no string of printable ASCII, tabs and line ends within :data:`MAX_TEXT` characters
is passed over, and wfdb-python's own header written.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

__all__ = ["MAX_TEXT", "as_read", "header_text", "restore_header_text"]

MAX_TEXT = 1 << 16  # characters: a header past this (thousands of comment lines) is not kept
_TEXT = re.compile(r"[\x20-\x7e\t\r\n]*")
#: what both headers must say alike, record and signal fields as wfdb-python's ``rdheader`` reads them
FIELDS = ("record_name", "n_sig", "fs", "counter_freq", "base_counter", "sig_len", "base_time", "base_date",
          "file_name", "fmt", "samps_per_frame", "skew", "byte_offset", "adc_gain", "baseline", "units", "adc_res",
          "adc_zero", "init_value", "block_size", "sig_name", "comments")


def valid_text(text: object) -> str | None:
    """``text`` where it may be a kept header: a string of printable ASCII, tabs and line ends, within
    :data:`MAX_TEXT` characters; else None."""
    if not isinstance(text, str) or len(text) > MAX_TEXT or not _TEXT.fullmatch(text):
        return None
    return text


def header_text(base: Path) -> str | None:
    """The text of record ``base``'s ``.hea`` as a ``.san`` may keep it (:func:`valid_text`); None where it is
    not such text or cannot be read."""
    try:
        raw = base.with_name(base.name + ".hea").read_bytes()
    except OSError:
        return None
    if len(raw) > MAX_TEXT:
        return None
    return valid_text(raw.decode("latin-1"))


def restore_header_text(source: object, name: str, folder: Path) -> bool:
    """Put the kept text of ``source`` (a ``Signal.source``, its ``hea``) in place of the header wfdb-python wrote
    for record ``name`` in ``folder`` (the writer's temporary folder), where it says the same (module docstring);
    whether it did."""
    text = valid_text(source.get("hea")) if isinstance(source, dict) else None
    if text is None:
        return False
    ours = folder / f"{name}.hea"
    scratch = folder / ".kept"
    scratch.mkdir()
    try:
        kept = scratch / f"{name}.hea"
        kept.write_bytes(text.encode("ascii"))
        written = _read(ours)  # (parsed once: its signal count, then its fields)
        # (the lines first: wfdb-python makes lists as long as the signal count a record line declares)
        if written is None or not _only_header_lines(text, int(written.n_sig)) or not _same_header(written, kept):
            return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ours.write_bytes(text.encode("ascii"))
    return True


def _read(path: Path):  # -> wfdb.Record header, or None where wfdb-python cannot read it
    import wfdb

    try:
        return wfdb.rdheader(str(path.with_suffix("")))
    except Exception:  # (a kept text wfdb-python refuses is passed over, whatever it raises)
        return None


def _same_header(a, kept: Path) -> bool:  # a: the wfdb.Record header of the one written
    """Whether the header file ``kept`` says what header ``a`` says, field for field (:data:`FIELDS`; checksums
    modulo 2^16)."""
    b = _read(kept)
    if b is None or getattr(a, "n_seg", None) or getattr(b, "n_seg", None):
        return False
    if any(as_read(a, f) != as_read(b, f) for f in FIELDS):
        return False
    sums = [list(getattr(r, "checksum", None) or []) for r in (a, b)]
    # a checksum left out is none to check (WFDB's readers skip it): it says nothing against the written one
    return len(sums[0]) == len(sums[1]) and all(x is None or y is None or int(x) % 65536 == int(y) % 65536
                                                for x, y in zip(*sums))


#: The signal fields a line may leave out (WFDB allows every field after the format to be), which wfdb-python then
#: reads as None, and WFDB's value for them: the ADC resolution's 0 is its "default", the initial value's the ADC zero.
DEFAULTS = {"adc_res": 0, "adc_zero": 0, "block_size": 0}


def as_read(header, name: str) -> object:  # header: a wfdb.Record header
    """The field ``name`` of ``header`` as WFDB reads it: a value left out (None) as WFDB's default for it
    (:data:`DEFAULTS`; the initial value the ADC zero), so that a kept header that stops after its format says what
    the written one, which spells those defaults out, says."""
    value = getattr(header, name, None)
    if name not in (*DEFAULTS, "init_value") or not isinstance(value, list):
        return value
    zeros = as_read(header, "adc_zero") if name == "init_value" else [DEFAULTS[name]] * len(value)
    if not isinstance(zeros, list) or len(zeros) != len(value):
        return value
    return [z if v is None else v for v, z in zip(value, zeros)]


def _only_header_lines(text: str, n_sig: int) -> bool:
    """Whether ``text`` holds a record line declaring ``n_sig`` signals, ``n_sig`` signal lines and nothing else but
    comments and blank lines (WFDB's readers take every other line for a field)."""
    lines = [line.strip() for line in text.splitlines()]
    fields = [line for line in lines if line and not line.startswith("#")]
    record = fields[0].split() if fields else []
    return len(fields) == 1 + n_sig and len(record) >= 2 and record[1] == str(n_sig)
