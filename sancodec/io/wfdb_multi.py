"""Multi-segment WFDB records (MIMIC waveform style): one Signal for the whole record, the segment map in its source.

A multi-segment record is a master header that lists segments (ordinary single-segment records in the
same folder) and gaps (``~``), in *fixed* layout (every segment has the same channels) or *variable*
layout (a ``_layout`` header first names every channel; each segment carries some of them, in its own
order). The reader lays the segments end to end on one time axis with the layout's channels, as
wfdb-python's ``rdrecord(..., m2s=True, physical=False)`` does: rows a segment does not cover (gaps,
channels it lacks) hold WFDB's invalid-sample value of the channel's format. ``Signal.source`` keeps
what writing back needs: the layout header's fields and each segment's length, channels and own header
fields (gains may differ per segment; the Signal's own fields are the first segment's that has the
channel). The writer names segments after the output record (``<name>_0001``…, ``<name>_layout``),
never after names found in a file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.segment_map import KIND, MAX_SEGMENTS, SEGMENT_FIELDS, checked_segments, typed_list
from sancodec.io.wfdb_text import DEFAULTS
from sancodec.signal import Signal, frame_rows, readable_frame

__all__ = ["check_same_segments", "is_multisegment", "output_files", "placed", "read_multisegment",
           "write_segments"]

log = logging.getLogger("sancodec")
#: The layout header's fields, one entry per channel of the record.
LAYOUT_FIELDS = {"units": str, "adc_gain": float, "baseline": int, "adc_res": int, "adc_zero": int,
                 "init_value": int}
#: What a layout's signal line that stops early (WFDB allows every field after the format to be left out) gives for
#: the fields wfdb-python then reads as None: WFDB's defaults (the initial value's, the ADC zero, matters only to a
#: format-8 signal file, and a layout header describes none).
LAYOUT_DEFAULTS = {"adc_res": DEFAULTS["adc_res"], "adc_zero": DEFAULTS["adc_zero"], "init_value": 0}
#: WFDB's invalid-sample value per format (wfdb-python's ``INVALID_SAMPLE_VALUE``): what rows a segment
#: does not cover hold.
INVALID_SAMPLE = {"80": -128, "508": -128, "8": -128, "16": -32768, "61": -32768, "160": -32768, "516": -32768,
                  "212": -2048, "310": -512, "311": -512, "24": -(1 << 23), "524": -(1 << 23), "32": -(1 << 31)}
#: Filler (gaps, absent channels) is held in memory: at most this many values, or as many as recorded.
MIN_FILL_ALLOWANCE = 1 << 25


def is_multisegment(signal: Signal) -> bool:
    return isinstance(signal.source, dict) and signal.source.get("kind") == KIND


# ----------------------------------------------------------------------------------------------- reading

def read_multisegment(base: Path, head: Any, annotators: Sequence[str] = ()) -> Signal:  # head: wfdb.MultiRecord's
    """The multi-segment record ``base`` (master header ``head`` already read) as one Signal (``annotators``:
    ``io.wfdb.record_annotations``'s)."""
    master = master_segments(base, head)
    parts = [(n, frames, None if n == "~" else _read_segment(base, n, frames, master.fs))
             for n, frames in zip(master.names, master.lengths)]
    if all(seg is None for _, _, seg in parts):
        raise SanFormatError(f"{base}.hea: every segment is a gap; the record holds no samples")
    mapped = segment_map(base, head, parts, master)
    return record_signal(base, head, mapped, _lay_out(base, parts, mapped.segments, mapped.union), annotators)


class Master(NamedTuple):
    """A master header's segments (:func:`master_segments`): their names (``~`` a gap) and frames, the layout
    segment's aside, the record's frame rate, and its layout header and that header's fields (None, {} without)."""

    names: list[str]
    lengths: list[int]
    fs: float
    layout: Any
    layout_header: dict[str, Any]


def master_segments(base: Path, head: Any) -> Master:
    """Record ``base``'s segments as its master header ``head`` gives them, checked: 1 to :data:`MAX_SEGMENTS` of
    non-negative length, adding up to the record's, a layout header (a first segment of length 0) that names each
    channel once."""
    from sancodec.io.wfdb import header_value, header_values

    names, lengths = header_values(head, "seg_name", str), header_values(head, "seg_len", int)
    fs = header_value(head, "fs", float)
    if not names or len(names) > MAX_SEGMENTS or len(names) != len(lengths) or min(lengths) < 0:
        raise SanFormatError(f"{base}.hea: {len(names)} segments with lengths {lengths[:8]}…; expected 1 to "
                             f"{MAX_SEGMENTS} segments of non-negative length")
    if head.sig_len is not None and int(head.sig_len) != sum(lengths):
        raise SanFormatError(f"{base}.hea: the segments hold {sum(lengths)} frames, the record says {head.sig_len}")
    layout, layout_header = _read_layout(base, names[0]) if lengths[0] == 0 and names[0] != "~" else (None, {})
    skip = layout is not None
    return Master(names[skip:], lengths[skip:], fs, layout, layout_header)


class SegmentMap(NamedTuple):
    """What a multi-segment record's headers say of it (:func:`segment_map`): its channels, each segment's entry, the
    union of their fields, its source entry."""

    channel_names: list[str]
    segments: list[dict[str, Any]]
    union: dict[str, list[Any]]
    source: dict[str, Any]


def segment_map(base: Path, head: Any, parts: list, master: Master) -> SegmentMap:
    """The :class:`SegmentMap` of record ``base`` (master header ``head``, its segments ``master``; ``parts``: each
    segment's name, frames and Signal, None for a gap, whose samples are not looked at)."""
    from sancodec.io.wfdb import record_counter

    layout, layout_header = master.layout, master.layout_header
    data = [seg for _, _, seg in parts if seg is not None]
    channel_names = list(layout.sig_name) if layout is not None else list(data[0].channel_names)
    segments = [_segment_entry(base, n, frames, seg, channel_names, layout is None) for n, frames, seg in parts]
    union = _union_fields(base, channel_names, parts, segments, layout)
    source: dict[str, Any] = {"kind": KIND, "layout": "fixed" if layout is None else "variable", "segments": segments}
    counter = record_counter(head)  # the master header's counter frequency and base counter value
    if counter is not None:
        source["counter"] = counter
    if layout is not None:
        source["layout_header"] = {**layout_header,
                                   "base_time": None if layout.base_time is None else layout.base_time.isoformat()}
    return SegmentMap(channel_names, segments, union, source)


def record_signal(base: Path, head: Any, mapped: SegmentMap, samples: np.ndarray,
                  annotators: Sequence[str] = ()) -> Signal:
    """The record's Signal of ``samples`` (its rows, or a frame of rows for its metadata alone) and ``mapped``."""
    from sancodec.io.wfdb import header_value, record_annotations

    union = mapped.union
    frame = frame_rows(union["samples_per_frame"])
    return Signal(samples, header_value(head, "fs", float) * frame, mapped.channel_names, union["units"],
                  adc_gain=union["adc_gain"], baseline=union["baseline"], fmt=union["fmt"], adc_res=union["adc_res"],
                  adc_zero=union["adc_zero"], comments=[str(c) for c in (head.comments or [])],
                  base_time=None if head.base_time is None else head.base_time.isoformat(),
                  base_date=None if head.base_date is None else head.base_date.isoformat(),
                  record_name=str(head.record_name), annotations=record_annotations(base, frame, annotators=annotators),
                  samples_per_frame=union["samples_per_frame"] if frame > 1 else None, source=mapped.source)


def _read_layout(base: Path, name: str):  # -> (wfdb.Record header, its per-channel fields checked)
    from sancodec.io.wfdb import header_values, read_header

    _check_segment_name(base, name)
    layout = read_header(base.parent / name)
    names = [str(s) for s in layout.sig_name or []]
    if getattr(layout, "n_seg", None) or not names or len(set(names)) != len(names):
        raise SanFormatError(f"{base.parent / name}.hea: a layout header names each channel once, got {names}")
    # every field checked (and counted) here, before the channels no segment carries take theirs from the layout
    fields = {key: header_values(layout, key, kind, default=LAYOUT_DEFAULTS.get(key))
              for key, kind in LAYOUT_FIELDS.items()}
    if any(len(values) != len(names) for values in fields.values()):
        raise SanFormatError(f"{base.parent / name}.hea: a layout field does not hold one value per channel")
    return layout, fields


def _read_segment(base: Path, name: str, frames: int, fs: float) -> Signal:
    from sancodec.io.wfdb import read_header, read_single

    _check_segment_name(base, name)
    seg_base = base.parent / name
    head = read_header(seg_base)
    if getattr(head, "n_seg", None):
        raise SanFormatError(f"{seg_base}.hea: a segment of {base.name} is itself multi-segment")
    seg = read_single(seg_base, head, annotations=False)
    check_segment(base, seg_base, seg.n_samples // seg.frame_size, seg.fs / seg.frame_size, frames, fs)
    return seg


def check_segment(base: Path, seg_base: Path, found: int, rate: float, frames: int, fs: float) -> None:
    """Segment ``seg_base`` of record ``base``, of ``found`` frames at ``rate``, against the ``frames`` at ``fs`` the
    master header gives it (a SanFormatError where they differ), and a warning of its annotation files, which are not
    kept (the whole record's are)."""
    from sancodec.io.wfdb import ANNOTATION_EXTENSIONS

    for ext in ANNOTATION_EXTENSIONS:
        if seg_base.with_name(f"{seg_base.name}.{ext}").exists():
            log.warning("%s.%s: annotations of a segment are not kept (those of the whole record, %s.%s, are)",
                        seg_base, ext, base.name, ext)
    if found != frames or not math.isclose(rate, fs):
        raise SanFormatError(f"{seg_base}: {found} frames at {rate:g} Hz, the master header says {frames} at {fs:g}")


def _check_segment_name(base: Path, name: str) -> None:
    from sancodec.io.wfdb_names import RECORD_NAME

    if not RECORD_NAME.fullmatch(name):
        raise SanFormatError(f"{base}.hea: segment name {name!r} is not a record name in the same folder")


def _segment_entry(base: Path, name: str, frames: int, seg: Signal | None, channel_names: list[str],
                   fixed: bool) -> dict[str, Any]:
    """What writing segment ``name`` back needs: its length, the record channels it carries, its fields."""
    if seg is None:
        return {"frames": frames, "channels": []}
    if fixed:
        if seg.n_channels != len(channel_names):
            raise SanFormatError(f"{base}.hea: fixed-layout segment {name} has {seg.n_channels} channels, "
                                 f"the first has {len(channel_names)}")
        channels = list(range(seg.n_channels))
    else:
        unknown = [c for c in seg.channel_names if c not in channel_names]
        if unknown or len(set(seg.channel_names)) != seg.n_channels:
            raise SanFormatError(f"{base}.hea: segment {name} carries channels {seg.channel_names}; each must "
                                 f"appear once and in the layout {channel_names}")
        channels = [channel_names.index(c) for c in seg.channel_names]
    head = seg.header_dict()
    entry: dict[str, Any] = {"frames": frames, "channels": channels, "sig_name": head["channel_names"],
                             "comments": head["comments"], "base_time": head["base_time"],
                             "base_date": head["base_date"]}
    for key in SEGMENT_FIELDS:
        if key != "sig_name":
            entry[key] = head[key] if head[key] is not None else [SEGMENT_FIELDS[key]()] * seg.n_channels
    return entry


def _union_fields(base: Path, names: list[str], parts: list, segments: list[dict[str, Any]],
                  layout: Any) -> dict[str, list[Any]]:
    """Per record channel: the first segment's fields that carries it (the widest format of any), and
    its samples per frame, which every segment must agree on."""
    c = len(names)
    out: dict[str, list[Any]] = {key: [None] * c for key in ("units", "adc_gain", "baseline", "fmt", "adc_res",
                                                              "adc_zero", "samples_per_frame")}
    for (_, _, seg), entry in zip(parts, segments):
        if seg is None:
            continue
        spf = seg.samples_per_frame or [1] * seg.n_channels
        for k, ch in enumerate(entry["channels"]):
            if out["samples_per_frame"][ch] not in (None, spf[k]):
                raise SanFormatError(f"{base}.hea: channel {names[ch]} has {spf[k]} samples per frame in one "
                                     f"segment and {out['samples_per_frame'][ch]} in another")
            if out["fmt"][ch] is None:
                for key in ("units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero", "samples_per_frame"):
                    out[key][ch] = entry[key][k] if key != "samples_per_frame" else spf[k]
            elif _bits(entry["fmt"][k]) > _bits(out["fmt"][ch]):
                out["fmt"][ch] = entry["fmt"][k]
    for ch in range(c):  # a channel no segment carries (variable layout only): the layout's fields, format 16
        if out["fmt"][ch] is None:
            spf = layout.samps_per_frame[ch] if layout.samps_per_frame else 1
            fields = {"units": str(layout.units[ch]), "adc_gain": float(layout.adc_gain[ch]),
                      "baseline": int(layout.baseline[ch]), "fmt": "16", "adc_res": int(layout.adc_res[ch]),
                      "adc_zero": int(layout.adc_zero[ch]), "samples_per_frame": int(spf or 1)}
            for key, value in fields.items():
                out[key][ch] = value
    readable_frame(out["samples_per_frame"], f"{base}.hea")
    return out


def _bits(fmt: str) -> int:
    from sancodec.io.wfdb import FORMAT_BITS

    return FORMAT_BITS.get(str(fmt), 64)


def placed(segments: list[dict[str, Any]], frame: int) -> Iterator[tuple[dict[str, Any], int, int]]:
    """Each segment with the rows ``[start, end)`` it covers on the record's time axis."""
    start = 0
    for entry in segments:
        end = start + entry["frames"] * frame
        yield entry, start, end
        start = end


def _lay_out(base: Path, parts: list, segments: list[dict[str, Any]], union: dict[str, list[Any]]) -> np.ndarray:
    """Every segment's samples on the record's time axis, invalid-sample values where none were recorded."""
    frame = frame_rows(union["samples_per_frame"])
    rows = sum(entry["frames"] for entry in segments) * frame
    c = len(union["fmt"])
    recorded = sum(seg.samples.size for _, _, seg in parts if seg is not None)
    if rows * c - recorded > max(recorded, MIN_FILL_ALLOWANCE):
        raise SanFormatError(f"{base}.hea: the record would hold {rows * c - recorded} values of gaps and absent "
                             f"channels for {recorded} recorded ones; sancodec refuses more filler than recorded "
                             f"samples (or {MIN_FILL_ALLOWANCE}), since it holds the whole record in memory")
    samples = np.tile(np.asarray([INVALID_SAMPLE.get(f, -32768) for f in union["fmt"]], dtype=np.int64), (rows, 1))
    for (_, _, seg), (entry, start, end) in zip(parts, placed(segments, frame)):
        if seg is not None:
            factor = frame // seg.frame_size  # the segment's own frame may be shorter than the record's
            samples[start:end, entry["channels"]] = np.repeat(seg.samples, factor, axis=0)
    return samples


# ----------------------------------------------------------------------------------------------- writing

def _names(name: str, segments: list[dict[str, Any]]) -> tuple[str, list[str | None]]:
    """The layout header's name and each segment's (None for a gap), all after the record's name."""
    from sancodec.io.wfdb_names import RECORD_NAME

    count = sum(1 for e in segments if e["channels"])
    digits = max(4, len(str(count)))
    names: list[str | None] = []
    k = 0
    for entry in segments:
        k += bool(entry["channels"])
        names.append(f"{name}_{k:0{digits}d}" if entry["channels"] else None)
    layout = f"{name}_layout"
    if not all(RECORD_NAME.fullmatch(n) for n in [layout, *filter(None, names)]):
        raise SanConfigError(f"record name {name!r} is too long for its segment names ({layout}); choose a shorter -o")
    return layout, names


def segment_signal(signal: Signal, entry: dict[str, Any], start: int) -> Signal:
    """Segment ``entry`` (starting at row ``start``) as a single-segment Signal with its own fields."""
    spf = [(signal.samples_per_frame or [1] * signal.n_channels)[ch] for ch in entry["channels"]]
    factor = signal.frame_size // frame_rows(spf)
    rows = signal.samples[start:start + entry["frames"] * signal.frame_size:factor, entry["channels"]]
    return Signal(rows, signal.fs / factor, entry["sig_name"], entry["units"], adc_gain=entry["adc_gain"],
                  baseline=entry["baseline"], fmt=entry["fmt"], adc_res=entry["adc_res"], adc_zero=entry["adc_zero"],
                  file_name=entry["file_name"], comments=entry["comments"], base_time=entry["base_time"],
                  base_date=entry["base_date"], samples_per_frame=spf if max(spf) > 1 else None)


def output_files(signal: Signal, path: Path) -> list[Path]:
    """Every file :func:`write_segments` writes for ``signal`` at record ``path``."""
    from sancodec.io.wfdb import output_files as single_files

    segments = checked_segments(signal)
    layout, names = _names(path.name, segments)
    files = [path.parent / f"{path.name}.hea"] + ([path.parent / f"{layout}.hea"]
                                                  if (signal.source or {}).get("layout") == "variable" else [])
    for (entry, start, _), seg_name in zip(placed(segments, signal.frame_size), names):
        if seg_name is not None:
            files += single_files(segment_signal(signal, entry, start), path.parent / seg_name)
    return files + [path.parent / f"{path.name}.{a.extension}" for a in signal.annotations if len(a)]


def write_segments(signal: Signal, name: str, folder: Path) -> None:
    """The master header, the layout header (variable layout), every segment and the annotations of
    ``signal`` as record ``name`` in ``folder``."""
    from sancodec.io.wfdb import write_record

    signal.check_frames(name)
    segments = checked_segments(signal)
    layout, names = _names(name, segments)
    for (entry, start, _), seg_name in zip(placed(segments, signal.frame_size), names):
        if seg_name is not None:
            write_record(segment_signal(signal, entry, start), seg_name, folder)
    write_headers(signal, name, folder, segments, layout, names)


def write_headers(signal: Signal, name: str, folder: Path, segments: list[dict[str, Any]], layout: str,
                  names: list[str | None]) -> None:
    """:func:`write_segments`' files but the segments: the layout header (variable layout), the master header and
    the annotations (``segments``: the checked map; ``layout``, ``names``: :func:`_names`')."""
    from sancodec.io.wfdb import counter_fields, write_annotations

    variable = (signal.source or {}).get("layout") == "variable"
    if variable:
        (folder / f"{layout}.hea").write_text(_layout_header(signal, layout), encoding="ascii")
    frame = signal.frame_size
    counter = counter_fields(signal.source)  # (the source's counter frequency and base counter value, if kept)
    freq, base = counter["counter_freq"], counter["base_counter"]
    rate = _number(signal.fs / frame) + ("" if freq is None else f"/{_number(freq)}") + \
        ("" if freq is None or base is None else f"({_number(base)})")
    lines = [f"{name}/{len(segments) + variable} {signal.n_channels} {rate} "
             f"{signal.n_samples // frame}" + _when(signal.base_time, signal.base_date)]
    lines += [f"{layout} 0"] if variable else []
    lines += [f"{seg_name or '~'} {entry['frames']}" for entry, seg_name in zip(segments, names)]
    lines += [f"#{c}" for c in signal.comments]
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n", encoding="ascii")
    write_annotations(signal, name, folder)


def _layout_header(signal: Signal, layout: str) -> str:
    """The layout header: every channel's name, gain, baseline, units and resolution; no samples."""
    c = signal.n_channels
    given = (signal.source or {}).get("layout_header")
    given = given if isinstance(given, dict) else {}
    fallback: dict[str, Any] = {"units": signal.units, "adc_gain": signal.adc_gain or [200.0] * c,
                "baseline": signal.baseline or [0] * c, "adc_res": signal.adc_res or [0] * c,
                "adc_zero": signal.adc_zero or [0] * c,
                "init_value": [INVALID_SAMPLE.get(f, 0) for f in signal.fmt or ["16"] * c]}
    fields: dict[str, list[Any]] = {}
    for key, kind in LAYOUT_FIELDS.items():
        try:
            fields[key] = typed_list(given.get(key), c, kind, f"layout {key}")
        except SanFormatError:
            fields[key] = [kind(v) for v in fallback[key]]
    spf = signal.samples_per_frame or [1] * c
    if any(any(ch.isspace() or ch in "/()" for ch in u) or not u for u in fields["units"]):
        raise SanConfigError(f"units {fields['units']} cannot be written in a WFDB header (blank, spaces or /)")
    base_time = given.get("base_time") if isinstance(given.get("base_time"), str) else None
    lines = [f"{layout} {c} {_number(signal.fs / signal.frame_size)} 0" + _when(base_time, None)]
    for k in range(c):
        lines.append(f"~ 0{'x' + str(spf[k]) if spf[k] > 1 else ''} {_number(fields['adc_gain'][k])}"
                     f"({fields['baseline'][k]})/{fields['units'][k]} {fields['adc_res'][k]} {fields['adc_zero'][k]} "
                     f"{fields['init_value'][k]} 0 0 {signal.channel_names[k]}")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """A header number as WFDB writes it: an integer without a point, else the shortest exact decimal."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _when(base_time: str | None, base_date: str | None) -> str:
    """`` HH:MM:SS[.fff] [DD/MM/YYYY]`` from ISO strings ('' when there is no time)."""
    from sancodec.io.wfdb import wfdb_time

    if base_time is None:
        return ""
    try:
        text = " " + wfdb_time(base_time, "time").isoformat()
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return text + ("" if base_date is None else " " + wfdb_time(base_date, "date").strftime("%d/%m/%Y"))
    except ValueError:
        raise SanFormatError(f"base time/date {base_time!r} {base_date!r} are not ISO times and dates") from None


def check_same_segments(signal: Signal, back: Signal, name: str) -> None:
    """The record written for ``signal`` read back as ``back``: same segments, same recorded samples."""
    ours, theirs = checked_segments(signal), checked_segments(back) if is_multisegment(back) else []
    if [(e["frames"], e["channels"]) for e in ours] != [(e["frames"], e["channels"]) for e in theirs]:
        raise SanFormatError(f"{name}: the written record reads back with other segments")
    for entry, start, _ in placed(ours, signal.frame_size):
        if entry["channels"] and not np.array_equal(segment_signal(signal, entry, start).samples,
                                                    segment_signal(back, entry, start).samples):
            raise SanFormatError(f"{name}: a written segment does not read back to the same samples")
