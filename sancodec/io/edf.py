"""EDF, EDF+ and BDF through edfio: digital samples, every header field, EDF+ annotations.

edfio, not pyedflib: it reads the slightly non-compliant headers clinical exporters write (a
physical dimension or a date field off the standard) that pyedflib refuses, and it is pure Python
on numpy. Reading keeps the digital integers (16-bit EDF, 24-bit BDF), so lossless coding is
exact; signals at different rates are held at the fastest rate exactly as multi-frequency WFDB
records are (``Signal.samples_per_frame``). What WFDB has no field for (physical and digital
ranges, transducer, prefiltering, the patient and recording lines, the record duration, EDF+
annotations with their durations) travels in ``Signal.source`` so the writer restores it.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import numpy as np

from sancodec._atomic import move_into_place, temp_folder
from sancodec.errors import SancodecError, SanConfigError, SanFormatError
from sancodec.io.decimals import missing_of
from sancodec.io.edf_patch import (
    HEADER_BYTES,
    NUMBER_FIELDS,
    RECORDS_FIELD,
    SAMPLES_BEFORE,
    SIGNAL_FIELDS,
    SIGNALS_FIELD,
    Patch,
    annotation_place,
    move_annotation_signal,
    number_field,
    put_back,
    range_patches,
    raw_texts,
    record_counts,
    record_layout,
    reserved_patch,
    stand_in,
    unknown_records,
)
from sancodec.io.edf_records import Column, placeholder, write_records
from sancodec.io.edf_text import header_text, restore_header_text
from sancodec.io.raw import int24_values
from sancodec.io.segment_map import checked_segments
from sancodec.io.wfdb_multi import is_multisegment, placed
from sancodec.io.wfdb_names import CONTROL, MAX_AUX, spelled_micro
from sancodec.signal import Annotations, Signal, readable_frame

# io.write_signal names the output file
__all__ = ["EDF_SUFFIXES", "SKIP_NOTE", "EdfBlocks", "edf_annotations_as_wfdb", "edf_blocks", "edf_padding", "read_edf",
           "wfdb_annotations_as_edf", "write_edf"]

EDF_SUFFIXES = (".edf", ".bdf")
DIGITAL_RANGE = {"edf": (-32768, 32767), "bdf": (-8388608, 8388607)}
#: the EDF+ annotation over samples that were never recorded: those :func:`write_edf` appends to fill the last data
#: record, and a multi-segment WFDB record's gaps; the name MNE's EDF export gives its padding, which MNE users
#: already know to skip
SKIP_NOTE = "BAD_ACQ_SKIP"


def _kind(path: Path) -> str:
    return "bdf" if path.suffix.lower() == ".bdf" else "edf"


#: what edfio raises on a malformed header field, which it parses when the field is first read (so anywhere below);
#: UnboundLocalError: edfio's own, on a signal header it half parsed (tests/fuzz_headers.py found it)
_UNREADABLE = (OSError, ValueError, IndexError, KeyError, UnicodeDecodeError, ArithmeticError, TypeError,
               UnboundLocalError)  # ArithmeticError: also decimal's InvalidOperation, from is_continuous's durations


def _unreadable(path: object, kind: str, exc: Exception) -> SanFormatError:
    """The error a file edfio could not read gives: "no such file" where it is missing (as every other reader says),
    else what edfio said of it."""
    if isinstance(exc, FileNotFoundError):
        return SanFormatError(f"{path}: no such file")
    return SanFormatError(f"{path}: unreadable {kind.upper()} file ({type(exc).__name__}: {exc})")


def read_edf(path: Path, *, keep_header_text: bool = False) -> Signal:
    """An EDF/EDF+ (``.edf``) or BDF (``.bdf``) file as a Signal of its digital samples; a file cut short, in
    its header or before the data records its header declares, refused (edfio reads what is there, with a warning,
    which let a truncated recording be encoded as if whole). Bytes past the last whole data record are no record's,
    and a count of records other than the file holds (-1 while recording) is the count it holds: both read without
    edfio's warnings (:func:`_check_cut_short`), which were caught before under ``warnings.catch_warnings``, whose
    state is the process's (another thread's warnings taken, its own put back wrong). edfio's other warnings (two
    start dates that differ) reach the caller as edfio gives them. ``keep_header_text``: its header too, for a
    lossless file's decode to write back as it was (``io.edf_text``)."""
    kind = _kind(path)
    held = _check_cut_short(path, kind)
    try:
        signal = _read(path, kind, path if held is None else held)
        if held is not None and number_field(_fixed_part(path)[RECORDS_FIELD]) == -1:  # a recording's count:
            signal.source = {**(signal.source or {}), "records_unknown": True}  # written back so
        text = header_text(path) if keep_header_text else None
        if text is not None:
            signal.source = {**(signal.source or {}), "edf_header": text}
        return signal
    except SancodecError:  # ours already say what is wrong
        raise
    except _UNREADABLE as exc:
        if _zero_duration(path):  # (edfio's own error was an UnboundLocalError)
            raise SanFormatError(f"{path}: a data record duration of 0 s gives its signals no sampling rate (only "
                                 "an EDF+ file of annotations alone may have one)") from None
        raise _unreadable(path, kind, exc) from None


def _fixed_part(path: Path) -> bytes:
    """The first :data:`HEADER_BYTES` of the file at ``path``: its header's fixed part (the signals' fields after it
    not read)."""
    with open(path, "rb") as f:
        return f.read(HEADER_BYTES)


def _zero_duration(path: Path) -> bool:
    """Whether the file's header says its data records last 0 s."""
    try:
        return float(_fixed_part(path)[244:252].decode("ascii").strip()) == 0
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _truncated(path: Path, declared: int, whole: int) -> NoReturn:
    raise SanFormatError(f"{path}: truncated: its header declares {declared} data records, the file holds {whole} "
                         "whole ones")


def _check_cut_short(path: Path, kind: str) -> bytes | None:
    """Refuse a file cut short, read from its header and size alone (one read of them): shorter than its own header
    (edfio's IndexError or int('') there), or holding fewer whole data records than its header declares (each
    signal's samples per record, 2 bytes a sample, 3 in BDF; edfio read such a file as far as it went, with a
    warning). Where the file holds bytes past its last whole record, or more whole records than it declares, or
    declares -1, its header and whole records with their count (:func:`_whole_records`), for edfio to read without a
    warning; else None (the file as it is). A field that does not parse is left to edfio, which says what is wrong
    with it."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(HEADER_BYTES)
            ns = number_field(head[SIGNALS_FIELD])
            fields = b""
            if ns is not None and 0 < ns <= 1 << 16:
                f.seek(HEADER_BYTES + ns * SAMPLES_BEFORE)
                fields = f.read(8 * ns)
    except OSError:
        return None  # (edfio says what is wrong with a file it cannot open)
    if size < HEADER_BYTES:
        raise SanFormatError(f"{path}: truncated: {size} bytes, shorter than the {HEADER_BYTES}-byte header every "
                             f"{kind.upper()} file starts with")
    header_bytes = number_field(head[184:192])
    if header_bytes is None:
        return None  # (a malformed field: edfio's own message)
    if HEADER_BYTES <= header_bytes and size < header_bytes:
        raise SanFormatError(f"{path}: truncated: its header declares {header_bytes} header bytes, the file holds "
                             f"{size} bytes")
    declared = number_field(head[RECORDS_FIELD])
    counted = record_counts(fields, ns) if fields and ns is not None else []  # (none read for a count out of range)
    samples = [v for v in counted if v is not None and v >= 0]
    if declared is None or not samples or len(samples) != ns or len(counted) != ns:
        return None
    record = (3 if kind == "bdf" else 2) * sum(samples)
    if record <= 0 or header_bytes < HEADER_BYTES:
        return None
    whole = max(size - header_bytes, 0) // record
    if declared > 0 and whole < declared:
        _truncated(path, declared, whole)
    exact = whole == declared and size == header_bytes + whole * record
    if exact or whole == 0 or not (declared == -1 or 0 < declared <= whole):
        return None  # (the file as it is: edfio reads it, or says what is wrong with its count)
    return _whole_records(path, header_bytes + whole * record, whole)


def _whole_records(path: Path, length: int, whole: int) -> bytes | None:
    """The file's first ``length`` bytes, its header and ``whole`` data records, the header's count of them set to
    that: what edfio reads of a file with bytes past its last whole record, or a count other than it holds (more
    records, or -1 while recording), where it would warn of them; None where the file cannot be read."""
    try:
        with open(path, "rb") as f:
            data = bytearray(f.read(length))
    except OSError:
        return None
    data[RECORDS_FIELD] = f"{whole:<8d}".encode("ascii")
    return bytes(data)


def _read(path: Path, kind: str, held: Path | bytes) -> Signal:
    """:func:`read_edf`'s work on ``held`` (``path`` or its whole records), every header field edfio parses read
    inside it."""
    opened = _OpenedEdf(path, kind, held)
    digital = [np.asarray(s.digital) for s in opened.signals]
    rows = opened.rows([d[None, :] for d in digital])  # (all of a signal's samples as one record)
    return opened.signal(rows, [opened.outside(k, d) for k, d in enumerate(digital)])


class _OpenedEdf:
    """An EDF or BDF file's header and annotations read through edfio, its samples not yet (edfio maps the data
    records and reads what is sliced): what :func:`read_edf` and :func:`edf_blocks` build a Signal from."""

    def __init__(self, path: Path, kind: str, held: Path | bytes) -> None:
        import edfio

        edf = edfio.read_bdf(held) if kind == "bdf" else edfio.read_edf(held)
        self.signals: list[Any] = list(edf.signals)
        if not self.signals:
            raise SanFormatError(f"{path}: holds no signals (annotations only)")
        if not edf.is_continuous:  # EDF+D: each data record's start in its timekeeping annotation
            raise SanFormatError(f"{path}: an {kind.upper()}+D file whose data records are not back to back (one "
                                 "does not start where the one before it ends); sancodec holds samples on one "
                                 "unbroken time axis and would lose the gaps: split the file at them, or export it "
                                 "as continuous")
        per_record = [int(s.samples_per_data_record) for s in self.signals]
        step = math.gcd(*per_record)
        self.spf = [r // step for r in per_record]
        self.frame = readable_frame(self.spf, str(path))  # (rates that do not divide the fastest, SHHS's 125, 50,
        # 10 and 1 Hz: their least common multiple, 250 rows a second)
        self.duration = duration = float(edf.data_record_duration)
        if not duration > 0:
            raise SanFormatError(f"{path}: a data record duration of {duration} s has no sampling rate")
        self.records, self.kind = int(edf.num_data_records), kind
        self.rows_per_record = step * self.frame
        fields = [_signal_fields(s) for s in self.signals]
        start = edf.startdate if _has_date(edf) else None
        patient, recording = edf.local_patient_identification, edf.local_recording_identification
        self.header = header = _header_of(held)
        texts = raw_texts(header)  # fields past ASCII, which edfio reads as U+FFFD: their bytes
        reserved = str(getattr(edf, "reserved", ""))
        if texts is not None and len(texts[1]) == len(fields):
            main, own = texts
            reserved = _as_read(reserved, main["reserved"])
            patient, recording = _as_read(patient, main["patient"]), _as_read(recording, main["recording"])
            fields = [{key: _as_read(value, mine[key]) if key in mine else value for key, value in f.items()}
                      for f, mine in zip(fields, own)]
        self.fields = fields
        source: dict[str, Any] = {
            "kind": kind, "patient": patient, "recording": recording,
            # the header's own dd.mm.yy field, kept as written (anonymised EDF+ files hold a placeholder date there)
            "startdate_field": bytes(getattr(edf, "_startdate", b"")).decode("ascii", "replace"),
            "data_record_duration": duration, "signals": fields,
            "annotations": [[float(a.onset), None if a.duration is None else float(a.duration), str(a.text)]
                            for a in edf.annotations],
        }
        if not reserved.startswith(("EDF+", "BDF+")):  # a plain EDF/BDF: no annotation signal
            source["plain"] = True
            if reserved:  # its reserved field (BioSemi's "24BIT"), which edfio writes blank: put back
                source["reserved"] = reserved
        elif (place := annotation_place(header)) is not None:  # its annotation signal not last, where edfio writes
            source["annotation_at"] = place
        self.head: dict[str, Any] = dict(
            fs=self.frame * step / duration, channel_names=[f["label"] for f in fields],
            units=[f["physical_dimension"] for f in fields], adc_gain=[_gain(f) for f in fields],
            baseline=[_baseline(f) for f in fields], fmt=["24" if kind == "bdf" else "16"] * len(fields),
            base_time=edf.starttime.isoformat(), base_date=None if start is None else start.isoformat(),
            record_name=path.stem, samples_per_frame=self.spf if self.frame > 1 else None, source=source,
        )

    def rows(self, own: list[np.ndarray]) -> np.ndarray:
        """Each signal's samples (``own[k]``: data records x its samples in one, of the same records; or 1 x all of
        them) as int64 rows at the fastest rate, a slower one's repeated: each written into the rows in place, with no
        copy of its own."""
        rows = np.empty((own[0].size * (self.frame // self.spf[0]), len(own)), dtype=np.int64)
        for k, (samples, v) in enumerate(zip(own, self.spf)):
            column = rows[:, k].reshape(*samples.shape, self.frame // v)  # (one axis split: a view)
            if column.size and not np.may_share_memory(column, rows):
                raise RuntimeError("a column of the rows was copied, not viewed")
            column[...] = samples[:, :, None]
        return rows

    def outside(self, k: int, digital: np.ndarray) -> bool:
        """Whether signal ``k``'s samples ``digital`` pass the range its header declares (an exporter's slip): a
        lossy decode is not clipped to it (``clip_to_source_ranges``), which would move them further off."""
        f = self.fields[k]
        return bool(len(digital)) and (int(digital.min()) < f["digital_min"] or int(digital.max()) > f["digital_max"])

    def signal(self, samples: np.ndarray, outside: list[bool]) -> Signal:
        """The Signal of ``samples`` (:meth:`rows`), each signal past its declared range said where ``outside``."""
        fields = [{**f, "outside_range": True} if out else f for f, out in zip(self.fields, outside)]
        return Signal(samples=samples, **{**self.head, "source": {**self.head["source"], "signals": fields}})

    def blocks(self, path: Path, records: int) -> Iterator[tuple[np.ndarray, list[bool]]]:
        """The rows of ``records`` data records at a time (the last block what is left), read from ``path`` (the
        file edfio read: each block's records, not mapped, so that memory holds a block, not the pages of every
        record read so far), and per signal whether its samples there pass its declared range."""
        layout = record_layout(self.header)
        want = [int(s.samples_per_data_record) for s in self.signals]
        if layout is None or [count for _, count in layout[2]] != want:
            raise SanFormatError(f"{path}: its data records' layout does not parse")
        start, per_record, places = layout
        width = 3 if self.kind == "bdf" else 2
        with open(path, "rb") as f:
            for r0 in range(0, self.records, max(1, records)):
                r1 = min(self.records, r0 + max(1, records))
                f.seek(start + r0 * per_record * width)
                data = f.read((r1 - r0) * per_record * width)
                if len(data) != (r1 - r0) * per_record * width:  # (changed since its size was checked)
                    raise SanFormatError(f"{path}: truncated: data records {r0} to {r1} are not all there")
                values = _samples(data, width).reshape(r1 - r0, per_record)
                own = [values[:, first : first + count] for first, count in places]  # (views)
                yield self.rows(own), [self.outside(k, d) for k, d in enumerate(own)]


def _samples(data: bytes, width: int) -> np.ndarray:
    """Data records' bytes as their samples: little-endian 16-bit (EDF, a view of ``data``) or 24-bit (BDF, int64)
    two's complement."""
    if width == 2:
        return np.frombuffer(data, dtype="<i2")
    return int24_values(data)


class EdfBlocks(NamedTuple):
    """:func:`edf_blocks`' answer: a one-frame Signal of the file's metadata (:func:`read_edf`'s, its samples aside),
    the rows the file holds, its blocks of rows, and, once they are read, the source entry :func:`read_edf` gives it
    (which says where a signal's samples pass its declared range)."""

    like: Signal
    rows: int
    blocks: Iterator[np.ndarray]
    source: Callable[[], dict[str, Any]]


def edf_blocks(path: Path, values: int, *, keep_header_text: bool = False) -> EdfBlocks | None:
    """An EDF or BDF file read a block of whole data records at a time (about ``values`` samples each), not whole
    (:class:`EdfBlocks`). None where the file must be read whole (bytes past its last record, or a count of records
    other than it holds, :func:`_check_cut_short`); a file cut short, or unreadable, is refused as :func:`read_edf`
    refuses it."""
    kind = _kind(path)
    held = _check_cut_short(path, kind)
    if held is not None:
        return None
    try:
        opened = _OpenedEdf(path, kind, path)
        text = header_text(path) if keep_header_text else None
    except SancodecError:
        raise
    except _UNREADABLE as exc:
        if _zero_duration(path):
            raise SanFormatError(f"{path}: a data record duration of 0 s gives its signals no sampling rate (only "
                                 "an EDF+ file of annotations alone may have one)") from None
        raise _unreadable(path, kind, exc) from None
    if text is not None:
        opened.head["source"] = {**opened.head["source"], "edf_header": text}
    first = np.zeros((opened.frame, len(opened.signals)), dtype=np.int64)
    like = opened.signal(first, [False] * len(opened.signals))
    outside = [False] * len(opened.signals)

    def blocks() -> Iterator[np.ndarray]:
        try:
            per_record = opened.rows_per_record * len(opened.signals)
            for rows_here, out in opened.blocks(path, max(1, values // per_record)):
                outside[:] = [a or b for a, b in zip(outside, out)]
                yield rows_here
        except SancodecError:
            raise
        except _UNREADABLE as exc:
            raise _unreadable(path, kind, exc) from None

    def source() -> dict[str, Any]:
        return opened.signal(first, outside).source or {}

    return EdfBlocks(like, opened.records * opened.rows_per_record, blocks(), source)


def _header_of(held: Path | bytes) -> bytes:
    """The header bytes of ``held`` (a file, or its bytes): its fixed part and each signal's, as far as they go."""
    if isinstance(held, bytes):
        ns = number_field(held[SIGNALS_FIELD])
        return held[: HEADER_BYTES * (min(max(ns, 0), 1 << 16) + 1)] if ns is not None else held[:HEADER_BYTES]
    with open(held, "rb") as f:
        head = f.read(HEADER_BYTES)
        ns = number_field(head[SIGNALS_FIELD])
        return head + f.read(HEADER_BYTES * min(max(ns, 0), 1 << 16)) if ns is not None else head


def _as_read(value: str, raw: str) -> str:
    """edfio's ``value`` of a text field, or where it holds bytes past ASCII (each read as U+FFFD) that field's
    own text, ``raw`` (``edf_patch.raw_texts``), where edfio's reading of it is ``value``."""
    if "\ufffd" not in value or raw.encode("latin-1").decode("ascii", "replace") != value:
        return value
    return raw


def _has_date(edf: Any) -> bool:
    try:
        edf.startdate  # noqa: B018 - anonymized files raise here
        return True
    except Exception:  # noqa: BLE001 - edfio's AnonymizedDateError and malformed dates alike
        return False


def clip_to_source_ranges(x: np.ndarray, signal_head: dict[str, Any]) -> np.ndarray:
    """``x`` (samples x channels) clipped to the digital ranges of an EDF or BDF source (``signal_head``'s
    ``source``), where it is one and a value lies outside: a lossy decode of a signal that touched its range
    overshoots it, and the EDF writer refuses such a value (the source's own values lie inside, so clipping only
    brings a decode nearer them; a channel whose source's values lay outside its range, ``outside_range``, is left as
    it is: the writer widens its range for edfio and puts the source's back, ``edf_patch.range_patches``, and a file
    whose digital maximum left out most of its samples decoded at a PRDN of 70 % clipped, and was refused);
    ``x`` itself otherwise. For the decoders of files that are not lossless."""
    source = signal_head.get("source")
    entries = source.get("signals") if isinstance(source, dict) and source.get("kind") in ("edf", "bdf") else None
    if not isinstance(entries, list) or len(entries) != x.shape[1] or not len(x):
        return x
    try:  # (within int64: a header's 1e300 is an integer numpy's clip need not take)
        bounds = [(1, 0) if e.get("outside_range") is True else  # (1, 0): no range, not clipped
                  (max(int(e["digital_min"]), -(1 << 63)), min(int(e["digital_max"]), (1 << 63) - 1)) for e in entries]
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError):  # a hostile source entry: the writer's
        # defaults take over
        return x
    if all(lo > hi or x[:, c].min() >= lo and x[:, c].max() <= hi for c, (lo, hi) in enumerate(bounds)):
        return x
    out = x.copy()
    for c, (lo, hi) in enumerate(bounds):
        if lo <= hi:
            np.clip(out[:, c], lo, hi, out=out[:, c])
    return out


def _signal_fields(s: Any) -> dict[str, Any]:
    return {"label": s.label, "transducer_type": s.transducer_type, "physical_dimension": s.physical_dimension,
            "physical_min": float(s.physical_min), "physical_max": float(s.physical_max),
            "digital_min": int(s.digital_min), "digital_max": int(s.digital_max), "prefiltering": s.prefiltering}


def _kept_by_edfio(value: float, up: bool) -> float:
    """A physical bound that edfio stores as the decimal it is: edfio rounds a maximum up (``up``) and a minimum
    down to 8 characters after a multiplication whose own rounding can push a decimal that fits one unit past it
    (1000 units per mV's 32.767 is 3276700.0000000005 hundred-thousandths: 32.76701, every value read back 5e-6
    off, an EDF source's "32.767" rewritten as "32.76701"). Such a bound is moved by an ulp or two towards the
    side edfio rounds from; any other is left to edfio's rounding."""
    try:
        from edfio.edf_signal import _round_float_to_8_characters as eight  # what edfio will store
    except ImportError:  # another edfio: its own rounding, as before
        return value
    rounding = math.ceil if up else math.floor
    if not math.isfinite(value) or eight(value, round) != value or eight(value, rounding) == value:
        return value  # not a decimal of 8 characters (edfio's rounding is what covers it), or kept as it is
    candidate = value
    for _ in range(4):
        candidate = math.nextafter(candidate, -math.inf if up else math.inf)
        if eight(candidate, rounding) == value:
            return candidate
    return value


def _gain(f: dict[str, Any]) -> float:
    span = f["physical_max"] - f["physical_min"]
    return (f["digital_max"] - f["digital_min"]) / span if span else 1.0


def edf_scalings(signal: Signal) -> list[tuple[float, float] | None]:
    """Per channel, where ``signal`` holds an EDF or BDF file's samples as read (its source's fields give the gain and
    baseline ``signal`` has) and physical zero lies a fraction of a step from a digital value, edfio's ``(gain,
    offset)`` of those fields: physical = ``(digital + offset) * gain``, as edfio and MNE compute it. WFDB's integer
    baseline (:func:`_baseline`) rounds that fraction away: a symmetric range's half step, 0.049 of a 0.098 µV step,
    every value off by it. None elsewhere, where ``(digital - baseline) / gain`` is exact (1000 units per mV: its
    values the decimals themselves, which edfio's product misses by an ulp)."""
    source = signal.source
    fields = _checked_fields(source, signal.n_channels) if isinstance(source, dict) and source.get("kind") in \
        DIGITAL_RANGE else None
    gains, baselines = signal.adc_gain, signal.baseline
    if fields is None or gains is None or baselines is None:
        return [None] * signal.n_channels
    return [_edf_scaling(f, gain, base) for f, gain, base in zip(fields, gains, baselines)]


def _edf_scaling(f: dict[str, Any], gain: float, base: int) -> tuple[float, float] | None:
    """:func:`edf_scalings` of one channel's fields ``f``, read with ``gain`` and ``base``."""
    span = float(f["physical_max"]) - float(f["physical_min"])
    steps = int(f["digital_max"]) - int(f["digital_min"])
    if not (span and steps and math.isfinite(span) and _reads_as(f, gain, base)):
        return None
    try:  # edfio's _calculate_gain_and_offset (a header's ranges whose offset overflows a float: none)
        step = span / steps
        offset = float(f["physical_max"]) / step - int(f["digital_max"])
    except (OverflowError, ZeroDivisionError):
        return None
    return None if not math.isfinite(offset) or abs(offset + base) <= 1e-6 else (step, offset)


def _reads_as(f: dict[str, Any], gain: float, base: int) -> bool:
    """Whether an EDF source's fields ``f`` read its digital values as ``gain`` and ``base`` do (the signal is the
    EDF's samples as read); not where their baseline overflows a float (a ``.san`` header's ranges)."""
    try:
        return math.isclose(_gain(f), gain, rel_tol=1e-12) and _baseline(f) == base
    except (OverflowError, ValueError, ZeroDivisionError):
        return False


def _baseline(f: dict[str, Any]) -> int:
    """The digital value of physical zero, rounded (WFDB baselines are integers; reports only)."""
    return int(round(f["digital_min"] - f["physical_min"] * _gain(f)))


def write_edf(signal: Signal, path: Path, *, quantum: list[float] | None = None, offsets: list[float] | None = None,
              fsync: bool = False, skipped: Sequence[tuple[int, int]] = ()) -> Path:
    """Write ``signal``'s digital samples as EDF+ (``.edf``) or BDF (``.bdf``), its ``source`` header
    restored where it has one; read back and compared before it is moved into place. A float signal decoded from a
    ``.san`` (``quantum``: its grid) is written as its multiples of the grid, as ``wfdb.write_wfdb`` writes it; one
    near its step from an offset (``offsets``, format 1.19: MNE's and pyedflib's volts of an EDF's counts) as its
    counts, the offset in each channel's physical range (``wfdb.near_grid_as_digital``): its EDF's digital samples
    again, its values to within the range's eight characters and the corrections' last places.

    EDF holds whole data records only: where the samples end inside one (a WFDB record of 650000 samples at
    360 Hz, a decode's ``--start``/``--end``), each channel's last value fills the record out (not zeros, which
    would step the trace to the zero line) and an annotation :data:`SKIP_NOTE` spans what was added
    (:func:`edf_padding` says how much, before any is written), as MNE's EDF export does; the same annotation spans
    each gap of a multi-segment WFDB record, and each range of ``skipped`` rows ``(first, end)`` (a salvaged
    decode's lost frames). A WFDB record's labels become EDF+ annotations (:func:`wfdb_annotations_as_edf`)."""
    import edfio

    kind = _kind(path)
    left = [0.0] * signal.n_channels  # each channel's offset past its baseline (a near grid's, format 1.19)
    if not signal.is_digital and quantum is not None:
        from sancodec.io.wfdb import float_as_digital, near_grid_as_digital

        if offsets is not None:
            signal, left = near_grid_as_digital(signal, quantum, offsets)
        else:
            signal = float_as_digital(signal, quantum)
    if not signal.is_digital:
        raise SanConfigError("EDF and BDF hold integers; write a floating-point signal as npy or csv (one decoded "
                             "from a .san, on its grid, is written as those integers)")
    missing = missing_of(signal.source)
    if missing is not None and bool((signal.samples == missing[0]).any()):
        raise SanConfigError("this record has missing values (a CSV's gaps, an array's NaN), which EDF and BDF cannot "
                             "mark; write it as WFDB (invalid samples), CSV or npy (NaN)")
    source = _checked_source(signal.source, signal.n_channels)
    fields = source.get("signals")
    steps = signal.sample_steps()
    duration, pad = _record_layout(signal, source)
    samples = signal.samples
    low, high = DIGITAL_RANGE[kind]
    signal_class = edfio.BdfSignal if kind == "bdf" else edfio.EdfSignal
    dtype = np.int32 if kind == "bdf" else np.int16
    built: list[Any] = []  # (edfio.EdfSignal or BdfSignal, as the kind asks)
    columns: list[Column] = []
    patches: list[Patch] = []  # an EDF source's own text past ASCII, written as its bytes (io.edf_patch)
    for k, step in enumerate(steps):
        x = samples[::step, k]  # (the rows added to fill the last record repeat its last value: the same extremes)
        if x.size and (x.min() < low or x.max() > high):
            raise SanConfigError(f"channel {k} holds values beyond {kind.upper()}'s {low}..{high}"
                                 + (" (BDF holds 24 bits: write .bdf)" if kind == "edf" else ""))
        entry = None if fields is None else fields[k]
        f = _fields_for(signal, k, kind, entry)
        if f is not entry:  # ranges made from the gain and baseline: ends whose physical values EDF holds as they are
            f = _exact_ends(f, signal, k, left[k], (int(x.min()), int(x.max())) if x.size else None, (low, high))
        f = {key: _header_text(value, k, key, entry, patches) if isinstance(value, str) else value
             for key, value in f.items()}
        try:
            physical, digital, more = range_patches(
                k, (float(f["physical_min"]), float(f["physical_max"])), (int(f["digital_min"]), int(f["digital_max"])),
                (int(x.min()), int(x.max())) if x.size else (int(f["digital_min"]), int(f["digital_max"])), (low, high))
            patches += more  # (ranges edfio will not write: a stand-in written, the source's put back)
            length = (len(samples) + pad) // step
            built.append(signal_class.from_digital(
                placeholder(digital[0], length, dtype) if length else x.astype(dtype), signal.fs / step,
                label=str(f["label"]),
                transducer_type=str(f["transducer_type"]), physical_dimension=str(f["physical_dimension"]),
                physical_range=(_kept_by_edfio(physical[0], up=False), _kept_by_edfio(physical[1], up=True)),
                digital_range=digital, prefiltering=str(f["prefiltering"])))
            columns.append(Column(built[-1], k, step))
        except (ValueError, TypeError, KeyError) as exc:
            raise SanConfigError(f"{path}: channel {k} cannot be written as {kind.upper()} ({exc})") from None
    annotations = [edfio.EdfAnnotation(o, d, t) for o, d, t in [*source.get("annotations", []),
                                                                 *wfdb_annotations_as_edf(signal)]]
    gaps = [*_gaps(signal), *((a, b - a) for a, b in skipped if b > a), *([(signal.n_samples, pad)] if pad else [])]
    annotations += [edfio.EdfAnnotation(start / signal.fs, rows / signal.fs, SKIP_NOTE) for start, rows in gaps]
    cls = edfio.Bdf if kind == "bdf" else edfio.Edf
    starttime = _time(signal.base_time)
    # a plain EDF/BDF source with nothing to annotate is written plain again: EDF+'s annotation signal (edfio adds it
    # where given any list, or a start time with fractions of a second) made the file another, and larger
    plain = source.get("plain") is True and not annotations and (starttime is None or not starttime.microsecond)
    try:
        edf = cls(built, starttime=starttime, data_record_duration=duration, annotations=None if plain else annotations)
        if signal.base_date:
            edf.startdate = datetime.date.fromisoformat(signal.base_date)
        elif len(str(source.get("startdate_field", ""))) == 8 and hasattr(edf, "_startdate"):
            edf._startdate = str(source["startdate_field"]).encode("ascii", "replace")
        for key, attribute in (("patient", "local_patient_identification"),
                               ("recording", "local_recording_identification")):
            if source.get(key):
                text = str(source[key]) if key == "patient" else moved_startdate(str(source[key]), signal.base_date)
                written = stand_in(text)
                if written is not None:
                    patches.append(Patch(key, None, written, text))
                setattr(edf, attribute, text if written is None else written)
    except (ValueError, TypeError) as exc:
        raise SanConfigError(f"{path}: these samples do not make a valid {kind.upper()} file ({exc})") from None
    if plain and (patch := reserved_patch(source.get("reserved"))) is not None:  # (written blank by edfio)
        patches.append(patch)
    with temp_folder(path) as tmp:
        out = tmp / path.name
        write_records(edf, out, partial(_padded_rows, samples), columns, round(duration * signal.fs))
        put_back(out, patches)
        place = source.get("annotation_at")
        if not plain and type(place) is int and 0 <= place < len(built):  # (the source's place for it)
            move_annotation_signal(out, place, 3 if kind == "bdf" else 2)
        if source.get("records_unknown") is True:  # a recording's count, -1 (EDF's "not known yet")
            unknown_records(out)
        if not pad:  # a kept header where edfio reads the file with it as with its own (--keep-header-text)
            restore_header_text(signal.source, out)
        if not _reads_back(out, samples, pad):
            raise SanFormatError(f"{path}: the out file does not read back to the same samples")
        return move_into_place([(out, path)], fsync=fsync)[0]


def _padded_rows(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start`` to ``stop`` of ``samples`` with rows past its end as its last row (the rows :func:`write_edf`
    adds to fill the last data record)."""
    n = len(samples)
    if stop <= n:
        return samples[start:stop]
    return np.concatenate([samples[start:n], np.repeat(samples[n - 1 :], stop - max(start, n), axis=0)])


def _reads_back(path: Path, samples: np.ndarray, pad: int = 0) -> bool:
    """Whether the file just written at ``path`` reads back to ``samples`` and ``pad`` rows more of its last: a block
    of data records at a time (:func:`edf_blocks`), so that the check holds a block beside the record, not a second
    copy of it (a file it does not stream, one whose count of records is -1, read whole)."""
    total = len(samples) + pad
    streamed = edf_blocks(path, 1 << 21)
    if streamed is None:
        return bool(np.array_equal(read_edf(path).samples, _padded_rows(samples, 0, total)))
    if streamed.rows != total:
        return False
    row = 0
    for block in streamed.blocks:
        if not np.array_equal(block, _padded_rows(samples, row, min(row + len(block), total))):
            return False
        row += len(block)
    return row == total


def _header_text(text: str, k: int, field: str, entry: dict[str, Any] | None, patches: list[Patch]) -> str:
    """Channel ``k``'s header ``field`` as edfio is to write it: where it is the EDF source's own text (``entry``'s)
    and holds Latin-1 past ASCII, a stand-in of its length, the text appended to ``patches`` to be written in its
    place (``edf_patch.put_back``); else :func:`_edf_text`."""
    written = stand_in(text) if entry is not None and entry.get(field) == text else None
    if written is None:
        return _edf_text(text, k, field)
    patches.append(Patch(field, k, written, text))
    return written


def _edf_text(text: str, k: int, field: str) -> str:
    """``text`` for channel ``k``'s EDF header ``field``: the micro sign (µ, μ) spelled "u", as EDF+ spells it
    (µV: uV); any other character past ASCII, which an EDF header cannot hold, refused by name (edfio's error was
    "'ascii' codec can't encode character '\xb5'")."""
    spelled = spelled_micro(text)
    if not spelled.isascii():
        wanted = {"physical_dimension": "unit", "label": "name"}.get(field, field.replace("_", " "))
        raise SanConfigError(f"channel {k}'s {wanted} {text!r} holds a character past ASCII, which an EDF header "
                             "cannot hold; write WFDB, .npy or CSV instead")
    return spelled


def _checked_source(source: Any, channels: int) -> dict[str, Any]:
    """The EDF part of ``Signal.source`` with every field of the right type (a ``.san`` header is not
    trusted); what does not fit is dropped and the writer's defaults take its place. A BrainVision source gives
    its markers, as annotations (``io.brainvision``), and nothing else."""
    if not isinstance(source, dict) or source.get("kind") not in (*DIGITAL_RANGE, "brainvision"):
        return {}
    out: dict[str, Any] = {}
    if source.get("kind") == "brainvision":
        source = {"annotations": source.get("annotations")}
    if type(source.get("annotation_at")) is int:
        out["annotation_at"] = source["annotation_at"]
    for key in ("patient", "recording", "startdate_field", "reserved"):
        if isinstance(source.get(key), str):
            out[key] = source[key]
    duration = source.get("data_record_duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 < duration < 1e6:
        out["data_record_duration"] = float(duration)
    signals = _checked_fields(source, channels)
    if signals is not None:
        out["signals"] = signals
    for flag in ("plain", "records_unknown"):
        if source.get(flag) is True:
            out[flag] = True
    notes = source.get("annotations")
    if isinstance(notes, list):
        out["annotations"] = [
            (float(a[0]), None if a[1] is None else float(a[1]), a[2]) for a in notes
            if isinstance(a, list) and len(a) == 3 and isinstance(a[0], (int, float)) and isinstance(a[2], str)
            and (a[1] is None or isinstance(a[1], (int, float)))]
    return out


def _checked_fields(source: dict[str, Any], channels: int) -> list[dict[str, Any]] | None:
    """An EDF source's per-signal header fields, where there is one for each of ``channels`` and every field is of
    its type (a ``.san`` header is not trusted); else None."""
    signals = source.get("signals")
    if (isinstance(signals, list) and len(signals) == channels
            and all(isinstance(f, dict) and all(isinstance(f.get(k), str) for k in SIGNAL_FIELDS)
                    and all(isinstance(f.get(k), (int, float)) and not isinstance(f.get(k), bool)
                            for k in NUMBER_FIELDS)
                    for f in signals)):
        return signals
    return None


def edf_annotations_as_wfdb(signal: Signal) -> list[Annotations]:
    """An EDF/BDF source's EDF+ annotations (``Signal.source``) as a WFDB ``.atr`` of notes, as wfdb-python's
    ``rdedfann`` makes one: each a comment (symbol ``"``) at its onset's sample (whole frames of a multi-rate
    record), its text the note, one that lasts a while as ``(text`` at its onset and ``text)`` at its end; what a
    WFDB note cannot hold made to fit (a character past Latin-1 as ``?``, the text cut at 255 characters; a note at
    the first sample, where WFDB files hold their own definitions and readers drop notes, one frame later), onsets
    past the end left out. Empty where ``signal`` has WFDB annotations of its own or none came from EDF."""
    source = _checked_source(signal.source, signal.n_channels)
    notes = source.get("annotations", [])
    if signal.annotations or not notes:
        return []
    frame, n = signal.frame_size, signal.n_samples
    timed: list[tuple[int, int, str]] = []  # (sample, order, text): sorted by sample, in the given order there
    for order, (onset, duration, text) in enumerate(notes):
        text = text.encode("latin-1", "replace").decode("latin-1")
        lasts = bool(duration) and duration > 0
        parts = [(onset, f"({text}"), (onset + duration, f"{text})")] if lasts else [(onset, text)]
        for k, (at, note) in enumerate(parts):
            sample = frame * round(at * signal.fs / frame) if math.isfinite(at) else -1
            sample = frame if sample == 0 else sample  # WFDB keeps notes at 0 for its own definitions
            if 0 <= sample < n:
                timed.append((sample, 2 * order + k, note[:MAX_AUX]))
    timed.sort()
    if not timed:
        return []
    zeros = np.zeros(len(timed), dtype=np.int64)
    return [Annotations("atr", np.array([t[0] for t in timed], dtype=np.int64), ['"'] * len(timed), zeros,
                        zeros.copy(), zeros.copy(), [t[2] for t in timed])]


def wfdb_annotations_as_edf(signal: Signal) -> list[tuple[float, None, str]]:
    """``signal``'s WFDB annotations (a record's ``.atr`` beat labels) as EDF+ annotations: (onset in seconds, no
    duration, text), the text the annotation's symbol and, where it has one, its note (mitdb's rhythm changes,
    ``+ (AFIB``), prefixed with the annotation file's extension where there are several (``atr: N``); control
    characters, which EDF+ keeps for its own separators, as spaces. The subtype, channel and number fields have no
    place in EDF+ and are not written."""
    sets = [a for a in signal.annotations if len(a)]
    out = []
    for a in sets:
        prefix = f"{a.extension}: " if len(sets) > 1 else ""
        for sample, symbol, note in zip(a.sample.tolist(), a.symbol, a.aux_note):
            kept = (note,) if symbol == '"' else (symbol, note)  # a comment's symbol says only that it is one
            text = " ".join(CONTROL.sub(" ", t).strip() for t in kept if t.strip())  # EDF+'s separators: 0, 20, 21
            out.append((sample / signal.fs, None, prefix + (text or "?")))
    return out


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def moved_startdate(recording: str, base_date: object) -> str:
    """An EDF+ recording field (``Startdate 31-JAN-2024 ...``) with its start date made ``base_date``'s (an ISO date)
    where that differs: a range decoded past midnight moves the header's start date (``signal.moved_start``), and a
    recording field that still named the record's made the two disagree (edfio warned, and read the field's). As it
    is where it names no date, or the same one."""
    found = re.match(r"Startdate (\d{2})-([A-Z]{3})-(\d{4})(?= |$)", recording)
    if found is None or not isinstance(base_date, str) or found[2] not in _MONTHS:
        return recording
    try:
        day = datetime.date.fromisoformat(base_date)
        named = datetime.date(int(found[3]), _MONTHS.index(found[2]) + 1, int(found[1]))
    except ValueError:
        return recording
    if day == named:
        return recording
    return f"Startdate {day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}" + recording[found.end():]


def _gaps(signal: Signal) -> list[tuple[int, int]]:
    """The gaps of a multi-segment WFDB record (segments that carry no channel; their rows hold the format's
    invalid-sample value) as (first row, rows); none for any other signal, or where its segment map does not check
    out (a ``.san`` header is not trusted: the samples are written all the same)."""
    if not is_multisegment(signal):
        return []
    try:
        segments = checked_segments(signal)
    except SanFormatError:
        return []
    return [(start, end - start) for entry, start, end in placed(segments, signal.frame_size)
            if end > start and not entry["channels"]]


def edf_padding(signal: Signal) -> int:
    """How many samples (rows, at ``signal.fs``) :func:`write_edf` appends to fill its last data record: 0 where
    ``signal`` ends on a record's end."""
    return _record_layout(signal, _checked_source(signal.source, signal.n_channels))[1]


def _record_layout(signal: Signal, source: dict[str, Any]) -> tuple[float, int]:
    """The data record duration (seconds) ``signal`` is written in (its EDF source's, else
    :func:`_record_duration`'s) and the rows appended to make its samples a whole number of records."""
    duration = float(source.get("data_record_duration") or _record_duration(signal))
    rows = duration * signal.fs  # rows per record (Signal.frame_size a frame)
    per_record = round(rows)
    if per_record < 1 or abs(rows - per_record) > 1e-6 * max(rows, 1.0) \
            or any(per_record % step for step in signal.sample_steps()):
        raise SanConfigError(f"a data record of {duration:g} s holds no whole number of samples of every channel "
                             f"at {signal.fs:.12g} Hz")
    return duration, -signal.n_samples % per_record


def _record_duration(signal: Signal) -> float:
    """The shortest whole number of seconds (1-60) that holds a whole number of every channel's samples."""
    for seconds in range(1, 61):
        if all(abs(signal.fs / step * seconds - round(signal.fs / step * seconds)) < 1e-9
               for step in signal.sample_steps()):
            return float(seconds)
    raise SanConfigError(f"a sampling rate of {signal.fs:.12g} Hz fits no EDF data record of 1-60 s")


def _fields_for(signal: Signal, k: int, kind: str, entry: dict[str, Any] | None) -> dict[str, Any]:
    """Channel ``k``'s header fields: its EDF source's where their ranges read its digital values as the signal's
    gain and baseline do (an EDF read and coded as it was), else the defaults from that gain and baseline with the
    source's label, transducer, dimension and filters kept: samples digitised anew (a decimal source's 10^d units
    per mV) would otherwise be labelled with the old ranges and read back as other values."""
    if entry is None:
        return _default_fields(signal, k, kind)
    gains, baselines = signal.adc_gain, signal.baseline
    low, high = DIGITAL_RANGE[kind]
    fits = low <= int(entry["digital_min"]) and int(entry["digital_max"]) <= high  # (a BDF's 24-bit range, as EDF: not)
    if fits and (gains is None or baselines is None or _reads_as(entry, gains[k], baselines[k])):
        return entry
    return {**_default_fields(signal, k, kind), **{key: entry[key] for key in SIGNAL_FIELDS}}


def _exact_ends(f: dict[str, Any], signal: Signal, k: int, offset: float, values: tuple[int, int] | None,
               format_range: tuple[int, int]) -> dict[str, Any]:
    """``f`` (channel ``k``'s fields from its gain and baseline, :func:`_default_fields`) with digital ends whose
    physical values, ``(d - baseline) / gain + offset``, EDF's eight characters hold as they are: the widest such
    within ``format_range`` that still holds the samples' extremes (``values``). The full range's ends are often no
    such decimal: a step of 10^-7 V put -0.0032768 in eight characters as -0.00328, every value read back 0.1 %
    off; -0.0032 at -32000 holds it exactly. Where no end qualifies, the full range, as before (edfio's rounding)."""
    gain = (signal.adc_gain or [1.0] * signal.n_channels)[k] or 1.0
    base = (signal.baseline or [0] * signal.n_channels)[k]
    low, high = format_range
    lo_value, hi_value = values if values is not None else (low, high)
    first = _exact_end(low, min(lo_value, high), 1, gain, base, offset)
    last = _exact_end(high, max(hi_value, low), -1, gain, base, offset)
    if first is None or last is None or first[0] >= last[0]:
        shift = {"physical_min": float(f["physical_min"]) + offset, "physical_max": float(f["physical_max"]) + offset}
        full = {**f, **shift} if offset else f
        if _eight_characters(np.rint([full["physical_min"], full["physical_max"]]))[0].all():
            return full
        # (a coarse step: the full range's ends take more than eight characters, -33554432 for a BDF on a grid of 4;
        # ends found outward from the samples' extremes instead)
        first = _exact_end(lo_value, low, -1, gain, base, offset)
        last = _exact_end(max(hi_value, lo_value + 1), high, 1, gain, base, offset) if lo_value < high else None
        if first is None or last is None or first[0] >= last[0]:
            return full
    (dmin, pmin), (dmax, pmax) = first, last
    return {**f, "digital_min": dmin, "digital_max": dmax, "physical_min": pmin, "physical_max": pmax}


END_SEARCH = 1 << 16  # _exact_end looks at most this many digital values in from a format's end ...
END_CHUNK = 1 << 12  # ... this many at a time (the first that fits is most often within a few hundred)


def _exact_end(start: int, stop: int, direction: int, gain: float, base: float, offset: float
               ) -> tuple[int, float] | None:
    """The first digital value from ``start`` towards ``stop`` (inclusive; ``direction`` 1 or -1), within
    :data:`END_SEARCH` of ``start``, whose physical value is a decimal of eight characters, and that decimal; None
    where there is none."""
    limit = stop if abs(stop - start) < END_SEARCH else start + direction * (END_SEARCH - 1)
    for at in range(start, limit + direction, direction * END_CHUNK):
        end = at + direction * END_CHUNK
        candidates = np.arange(at, min(end, limit + 1) if direction > 0 else max(end, limit - 1), direction)
        physical = (candidates - base) / gain + offset
        fits, places = _eight_characters(physical)
        exact = np.flatnonzero(fits)
        if exact.size:  # (the decimal itself, not the float a few ulps from it)
            return int(candidates[exact[0]]), round(float(physical[exact[0]]), int(places[exact[0]]))
    return None


def _eight_characters(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``values`` are decimals of at most eight characters (sign and point included), as EDF's physical
    ranges are written: a value whose digits past what fits are zero, to float precision; and the decimal places
    each has room for."""
    magnitude = np.abs(values)
    with np.errstate(divide="ignore"):
        whole_digits = np.maximum(np.floor(np.log10(np.where(magnitude > 0, magnitude, 1.0))) + 1, 1)
    room = 8 - whole_digits - (values < 0)  # characters left after the sign and the whole part
    places = np.clip(room - 1, 0, 7)  # ... less the point
    scaled = values * 10.0**places
    fits = (room >= 0) & np.isfinite(values)
    return fits & (np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))), places


def _default_fields(signal: Signal, k: int, kind: str) -> dict[str, Any]:
    """Header fields for a channel from a non-EDF source: the full digital range, mapped through the
    signal's gain and baseline to physical units."""
    low, high = DIGITAL_RANGE[kind]
    gain = (signal.adc_gain or [1.0] * signal.n_channels)[k] or 1.0
    base = (signal.baseline or [0] * signal.n_channels)[k]
    return {"label": signal.channel_names[k][:16], "transducer_type": "", "physical_dimension": signal.units[k][:8],
            "physical_min": (low - base) / gain, "physical_max": (high - base) / gain, "digital_min": low,
            "digital_max": high, "prefiltering": ""}


def _time(value: str | None) -> datetime.time | None:
    return None if value is None else datetime.time.fromisoformat(value)
