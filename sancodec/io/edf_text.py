"""An EDF/BDF file's header kept in a lossless ``.san`` and written back as it was (``--keep-header-text``, as for a
WFDB record's ``.hea``: ``io.wfdb_text``).

edfio, which writes sancodec's EDF and BDF, spells a header's numbers its own way (``-200`` where another writer put
``-200.0``, its own padding), so a file from another writer (a hospital system's export, EDFbrowser's) comes back
with the same fields and samples in another header. Kept (a source entry ``edf_header``, lossless files only), the
source's header takes the place of edfio's where it is as long and edfio reads the file with it as it reads the file
it wrote, field for field and sample for sample: a header that would describe other signals, ranges, rates, records,
a start, a patient or annotations is never written. A ``.san`` header is not trusted: a text that is not the bytes of
an EDF header (printable ASCII, 256 bytes and 256 a signal) is passed over.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MAX_SIGNALS", "header_text", "restore_header_text"]

MAX_SIGNALS = 4096  # an EDF header kept describes at most this many signals (1 MiB of header)
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def _signals(head: str) -> int | None:
    """The signal count an EDF header's text declares, where it is a whole number within :data:`MAX_SIGNALS`."""
    field = head[252:256].strip()
    return int(field) if field.isdigit() and 0 < int(field) <= MAX_SIGNALS else None


def valid_text(text: object) -> str | None:
    """``text`` where it may be a kept EDF header: printable ASCII, 256 bytes and 256 for each signal it declares."""
    if not isinstance(text, str) or len(text) < 256 or not _PRINTABLE.fullmatch(text):
        return None
    ns = _signals(text)
    return text if ns is not None and len(text) == 256 * (ns + 1) else None


def header_text(path: Path) -> str | None:
    """The header of the EDF/BDF file at ``path`` as a ``.san`` may keep it (:func:`valid_text`); None where it is
    not such text or cannot be read."""
    try:
        with path.open("rb") as fh:
            first = fh.read(256).decode("latin-1")
            ns = _signals(first)
            rest = fh.read(256 * ns).decode("latin-1") if ns is not None else ""
    except OSError:
        return None
    return valid_text(first + rest)


def restore_header_text(source: object, written: Path) -> bool:
    """Put the kept header of ``source`` (a ``Signal.source``, its ``edf_header``) in place of the one edfio wrote
    at the start of ``written`` (the writer's temporary file), where edfio reads the file with it as with its own
    (module docstring); whether it did."""
    text = valid_text(source.get("edf_header")) if isinstance(source, dict) else None
    if text is None:  # (the file is read only where there is a header to put in place)
        return False
    data = written.read_bytes()
    if len(data) < len(text) or data[252:256].decode("latin-1").strip() != text[252:256].strip():
        return False
    candidate = written.with_name(written.name + ".kept" + written.suffix)
    try:
        candidate.write_bytes(text.encode("ascii") + data[len(text) :])
        same = _same_file(_read(written), _read(candidate))
        if same:
            os.replace(candidate, written)
    finally:
        candidate.unlink(missing_ok=True)
    return same


def _read(path: Path) -> Any:  # -> edfio.Edf, or None where edfio cannot read it, or warns of it
    import edfio

    from sancodec._warnings import caught_here

    try:
        with caught_here() as said:  # (this thread's warnings only: another thread's go on as they would)
            edf = edfio.read_bdf(path) if path.suffix.lower() == ".bdf" else edfio.read_edf(path)
    except Exception:  # (a kept header edfio refuses is passed over, whatever it raises)
        return None
    return None if said else edf  # (a header edfio only warns of, two start dates that disagree, is not taken)


def _same_file(a: Any, b: Any) -> bool:
    """Whether edfio reads the two files alike: every header field it gives and every signal's samples."""
    if a is None or b is None:
        return False
    fields = ("local_patient_identification", "local_recording_identification", "starttime", "data_record_duration",
              "num_data_records", "reserved", "annotations")
    if any(getattr(a, f, None) != getattr(b, f, None) for f in fields):
        return False
    if getattr(a, "_startdate", None) != getattr(b, "_startdate", None) or len(a.signals) != len(b.signals):
        return False
    for x, y in zip(a.signals, b.signals):
        for f in ("label", "transducer_type", "physical_dimension", "prefiltering", "physical_range",
                  "digital_range", "samples_per_data_record", "sampling_frequency"):
            if getattr(x, f, None) != getattr(y, f, None):
                return False
        if not np.array_equal(x.digital, y.digital):
            return False
    return True
