"""Annotations in the header: string tables plus entropy-coded integer columns, base64 in JSON."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import numpy as np

from sancodec.codec.entropy import decode_arrays, encode_arrays
from sancodec.errors import SanFormatError
from sancodec.io.wfdb_names import ANNOTATION_EXTENSION, RESERVED_EXTENSIONS
from sancodec.signal import Annotations, checked_custom_labels, checked_time_resolution

__all__ = ["pack_annotations", "unpack_annotations"]


def pack_annotations(anns: Sequence[Annotations], fs: float | None = None) -> list[dict[str, Any]]:
    """Each annotation set as a small JSON object (extension, count, symbol and note tables, data), and where the
    writer's default, noting the record's rate ``fs``, would not restore it, how its file began
    (``time_resolution``, 18 bytes: kept in every mode, as a source's other details for its writer are), and the
    labels its file defines (``custom_labels``)."""
    packed = []
    for a in anns:
        noted = None if a.time_resolution is None or a.time_resolution == fs else a.time_resolution
        symbols = sorted(set(a.symbol))
        notes = sorted(set(a.aux_note))
        sym_idx = np.array([symbols.index(v) for v in a.symbol], dtype=np.int64)
        note_idx = np.array([notes.index(v) for v in a.aux_note], dtype=np.int64)
        columns = [np.diff(a.sample, prepend=0), sym_idx, a.subtype, a.chan, a.num, note_idx]
        blob = encode_arrays(columns, [False] * len(columns))
        packed.append({"extension": a.extension, "count": len(a), "symbols": symbols, "notes": notes,
                       "data": base64.b64encode(blob).decode("ascii"),
                       **({} if noted is None else {"time_resolution": noted}),
                       **({} if a.custom_labels is None else {"labels": [list(c) for c in a.custom_labels]})})
    return packed


def unpack_annotations(packed: Any, n_samples: int, max_count: int) -> list[dict[str, Any]]:
    """Inverse of :func:`pack_annotations`, as ``Annotations.to_dict`` dicts; every field validated:
    at most ``max_count`` annotations in all, each at a sample in ``[0, n_samples]``."""
    if not isinstance(packed, list):
        raise SanFormatError("invalid annotations entry in header")
    out = []
    total = 0
    for item in packed:
        try:
            count = int(item["count"])
            symbols, notes = list(item["symbols"]), list(item["notes"])
            blob = base64.b64decode(item["data"], validate=True)
            extension = str(item["extension"])
            resolution = checked_time_resolution(item.get("time_resolution"))
            labels = checked_custom_labels(item.get("labels"))
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
            raise SanFormatError(f"invalid annotations entry in header ({exc})") from None
        total += count
        if not 0 <= count <= 8 * len(blob) + 1 or total > max_count:
            raise SanFormatError(f"annotation count {count} does not fit its data or the limit {max_count}")
        if not ANNOTATION_EXTENSION.fullmatch(extension) or extension.lower() in RESERVED_EXTENSIONS:
            raise SanFormatError(f"annotation extension {extension[:40]!r} is not allowed (1-16 letters, digits or "
                                 "'_', not a signal or header extension)")
        if not all(isinstance(v, str) and len(v) <= 1024 for v in symbols + notes) \
                or len(symbols) > count + 1 or len(notes) > count + 1:
            raise SanFormatError("invalid annotation symbol or note table in header")
        cols = decode_arrays(blob, [count] * 6, [False] * 6)
        if count and (float(np.abs(cols[0].astype(np.float64)).sum()) > n_samples or cols[0].min() < 0):
            raise SanFormatError(f"annotation positions outside the record's [0, {n_samples}]")
        sample = np.cumsum(cols[0])
        for idx, table in ((cols[1], symbols), (cols[5], notes)):
            if count and (idx.min() < 0 or idx.max() >= len(table)):
                raise SanFormatError("annotation refers to a missing symbol or note")
        out.append(Annotations(extension, sample, [str(symbols[i]) for i in cols[1]], cols[2], cols[3], cols[4],
                               [str(notes[i]) for i in cols[5]], resolution, labels).to_dict())
    return out
