"""The segment map of a multi-segment WFDB record, as ``Signal.source`` holds it.

``{"kind": "wfdb-multisegment", "layout": "fixed" | "variable", "segments": [...], "layout_header": {...}}``:
one entry per segment in record order, ``{"frames": n, "channels": []}`` for a gap, else also the record
channels it carries (in its own order) and its own header fields, one per channel it carries. It
travels in a ``.san`` header, so everything is checked before use (:func:`checked_segments`), and it
follows the signal when a slice or a choice of channels is taken (:func:`crop_source`,
:func:`select_source`). Reading and writing the records is :mod:`sancodec.io.wfdb_multi`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sancodec.errors import SanFormatError

if TYPE_CHECKING:
    from sancodec.signal import Signal

__all__ = ["KIND", "MAX_SEGMENTS", "SEGMENT_FIELDS", "checked_segments", "crop_source", "select_source", "typed_list"]

KIND = "wfdb-multisegment"
MAX_SEGMENTS = 1 << 16
#: A segment's own header fields, one entry per channel it carries.
SEGMENT_FIELDS = {"sig_name": str, "units": str, "fmt": str, "file_name": str, "adc_gain": float,
                  "baseline": int, "adc_res": int, "adc_zero": int}


def checked_segments(signal: Signal) -> list[dict[str, Any]]:
    """The segment map of ``signal.source`` with every field checked against the signal (a ``.san``
    header is not trusted): lengths that add up to its rows, channels in range, per-channel fields of
    the right type and count."""
    source = signal.source or {}
    segments = source.get("segments")
    c, frame = signal.n_channels, signal.frame_size
    if source.get("layout") not in ("fixed", "variable") or not isinstance(segments, list) or \
            not 0 < len(segments) <= MAX_SEGMENTS:
        raise SanFormatError("multi-segment map: needs a fixed or variable layout and 1 to "
                             f"{MAX_SEGMENTS} segments")
    out = []
    for i, entry in enumerate(segments):
        if not isinstance(entry, dict):
            raise SanFormatError(f"multi-segment map: segment {i} is not an object")
        frames, channels = entry.get("frames"), entry.get("channels")
        if type(frames) is not int or frames < 0 or not isinstance(channels, list) or \
                any(type(ch) is not int or not 0 <= ch < c for ch in channels) or len(set(channels)) != len(channels):
            raise SanFormatError(f"multi-segment map: segment {i} needs frames >= 0 and distinct channels "
                                 f"in 0..{c - 1}")
        if source["layout"] == "fixed" and channels and channels != list(range(c)):
            raise SanFormatError(f"multi-segment map: fixed-layout segment {i} must carry every channel in order")
        checked: dict[str, Any] = {"frames": frames, "channels": list(channels)}
        if channels:
            for key, kind in SEGMENT_FIELDS.items():
                checked[key] = typed_list(entry.get(key), len(channels), kind, f"segment {i} {key}")
            checked["comments"] = typed_list(entry.get("comments", []), None, str, f"segment {i} comments")
            for key in ("base_time", "base_date"):
                checked[key] = entry.get(key) if isinstance(entry.get(key), str) else None
        out.append(checked)
    if sum(e["frames"] for e in out) * frame != signal.n_samples:
        raise SanFormatError(f"multi-segment map: segments hold {sum(e['frames'] for e in out)} frames, the signal "
                             f"{signal.n_samples // frame}")
    if not any(e["channels"] for e in out):
        raise SanFormatError("multi-segment map: every segment is a gap")
    return out


def typed_list(value: Any, n: int | None, kind: type, what: str) -> list[Any]:
    ok = isinstance(value, list) and (n is None or len(value) == n)
    if ok and kind is float:
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    elif ok:
        ok = all(type(v) is kind for v in value)
    if not ok:
        raise SanFormatError(f"multi-segment map: {what} must be a list of {n if n is not None else 'any number of'} "
                             f"{kind.__name__} values")
    return [kind(v) for v in value]


def crop_source(source: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    """The map of frames [start, end) of the record (a malformed map is returned as it is: the writer
    refuses it)."""
    if not _well_formed(source):
        return source
    segments, at = [], 0
    for entry in source.get("segments", []):
        lo, hi = max(at, start), min(at + int(entry.get("frames", 0)), end)
        at += int(entry.get("frames", 0))
        if hi > lo:
            segments.append({**entry, "frames": hi - lo})
    return {**source, "segments": segments}


def select_source(source: dict[str, Any], channels: list[int]) -> dict[str, Any]:
    """The map of a signal that keeps ``channels`` (in that order) of the record's (a malformed map is
    returned as it is: the writer refuses it)."""
    if not _well_formed(source):
        return source
    new_index = {old: new for new, old in enumerate(channels)}
    segments = []
    try:
        for entry in source["segments"]:
            keep = [k for k, ch in enumerate(entry["channels"]) if ch in new_index]
            kept = {"frames": entry["frames"], "channels": [new_index[entry["channels"][k]] for k in keep]}
            if keep:
                kept |= {key: value for key, value in entry.items() if key not in kept}
                kept |= {key: [entry[key][k] for k in keep]
                         for key in SEGMENT_FIELDS if isinstance(entry.get(key), list)}
            segments.append(kept)
        layout = source.get("layout_header")
        if isinstance(layout, dict):
            layout = {key: [value[c] for c in channels] if isinstance(value, list) else value
                      for key, value in layout.items()}
    except IndexError:  # a field list shorter than its channels: left for the writer to refuse
        return source
    fixed = source.get("layout") == "fixed" and sorted(channels) == channels
    return {**source, "layout": "fixed" if fixed else "variable", "segments": segments} | (
        {"layout_header": layout} if isinstance(layout, dict) else {})


def _well_formed(source: dict[str, Any]) -> bool:
    """Segments are objects with integer frames and a list of integer channels (enough to cut them)."""
    segments = source.get("segments")
    return isinstance(segments, list) and all(
        isinstance(e, dict) and type(e.get("frames")) is int and isinstance(e.get("channels"), list)
        and all(type(c) is int for c in e["channels"]) for e in segments)
