"""The binary header of format 1.3: the JSON header's values in a few bytes, defaults left out.

Short records used to carry about 300 bytes of bzip2-compressed JSON, as much as their samples.
Format 1.3 stores the same object as tagged binary values (``encode_value``), with every field
that equals its default omitted and every per-channel list whose entries are all equal stored as
one value (``compact``/``expand``, which the reader undoes before anything else sees the header).
The container still bzip2-compresses it when that is smaller (long WFDB comments).

A value is a tag byte and its payload: 0 null, 1 false, 2 true, 3 integer ``n >= 0`` (varint),
4 integer ``n < 0`` (varint of ``-n - 1``), 5 float64 (8 bytes LE), 6 integral float (zig-zag
varint, ``|v| < 2**53``), 7 string (varint length, UTF-8), 8 list (varint count, values),
9 object (varint count, then per member a key and a value; a key is a varint ``k``: ``KEYS[k]``
when ``k < len(KEYS)``, else a string of ``k - len(KEYS)`` UTF-8 bytes follows), 10 one of
``STRINGS`` (varint index). ``STRINGS`` only ever grows at its end; ``KEYS`` never changes: a key past it is
written as a string whose length is offset by ``len(KEYS)``, which a longer tuple would misread in every older file
(a new field goes as such a string: format 1.18's ``float32``).
"""

from __future__ import annotations

import math
import struct
from typing import Any

from sancodec.codec.limits import DEFAULT_LIMITS, DecodeLimits
from sancodec.errors import SanConfigError, SanFormatError

__all__ = ["KEYS", "compact", "decode_value", "encode_value", "expand"]

KEYS = (
    "amplitude_step", "format", "frame_len", "kernel_scale", "max_error", "mode", "model", "n_channels",
    "n_samples", "quantum", "sample_crc32", "signal", "lossy", "target", "prdn", "snr", "bps", "sha256", "spec",
    "fs", "channel_names", "units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero", "file_name", "comments",
    "base_time", "base_date", "record_name", "annotations", "samples_per_frame", "extension", "count", "symbols",
    "notes", "data", "file_name_default", "source", "kind", "patient", "recording", "data_record_duration",
    "label", "transducer_type", "physical_dimension", "physical_min", "physical_max", "digital_min", "digital_max",
    "prefiltering", "startdate_field",
)  # (never changed: the module docstring)
_KEY_INDEX = {k: i for i, k in enumerate(KEYS)}
#: Strings common in headers, stored as one index (tag 10); like KEYS, it only ever grows at its end.
STRINGS = ("lossless", "near-lossless", "lossy", "mV", "uV", "mmHg", "NU", "bpm", "%", "16", "212", "80", "24",
           "32", "8", "61", "160", "310", "311", "508", "516", "524", "atr", "sancodec", "edf", "bdf")
_STRING_INDEX = {s: i for i, s in enumerate(STRINGS)}
NULL, FALSE, TRUE, UINT, NINT, FLOAT, INTFLOAT, STRING, LIST, OBJECT, KNOWN_STRING = range(11)
MAX_EXACT = 1 << 53

#: Header fields left out when they hold these values (top level, then the ``signal`` entry).
TOP_DEFAULTS: dict[str, Any] = {"format": "sancodec", "amplitude_step": 0.02, "kernel_scale": 4096,
                                "frame_len": 1 << 15, "max_error": 0, "model": None, "quantum": None,
                                "sample_crc32": None}
SIGNAL_DEFAULTS: dict[str, Any] = {"annotations": [], "base_date": None, "base_time": None, "comments": [],
                                   "record_name": "record", "adc_gain": None, "baseline": None, "fmt": None,
                                   "adc_res": None, "adc_zero": None, "file_name": None}
#: Per-channel lists of the ``signal`` entry, stored as one value when every channel has the same.
PER_CHANNEL = ("units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero")


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


def encode_value(value: Any, out: bytearray | None = None) -> bytearray:
    """``value`` (JSON types: None, bool, int, float, str, list, dict with str keys) in binary."""
    out = bytearray() if out is None else out
    if value is None or isinstance(value, bool):
        out.append(NULL if value is None else (TRUE if value else FALSE))
    elif isinstance(value, int):
        out.append(UINT if value >= 0 else NINT)
        _varint(value if value >= 0 else -value - 1, out)
    elif isinstance(value, float):
        if not math.isfinite(value):  # a model file's NaN reaches here: the caller's input, in one line
            raise SanConfigError(f"a .san header holds finite numbers only, got {value} (in the model file or "
                                 "the signal's metadata)")
        if value.is_integer() and abs(value) < MAX_EXACT and not (value == 0 and math.copysign(1, value) < 0):
            out.append(INTFLOAT)
            v = int(value)
            _varint(2 * v if v >= 0 else -2 * v - 1, out)
        else:
            out.append(FLOAT)
            out += struct.pack("<d", value)
    elif isinstance(value, str) and value in _STRING_INDEX:
        out.append(KNOWN_STRING)
        _varint(_STRING_INDEX[value], out)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        out.append(STRING)
        _varint(len(data), out)
        out += data
    elif isinstance(value, (list, tuple)):
        out.append(LIST)
        _varint(len(value), out)
        for item in value:
            encode_value(item, out)
    elif isinstance(value, dict):
        out.append(OBJECT)
        _varint(len(value), out)
        for key, item in value.items():
            if key in _KEY_INDEX:
                _varint(_KEY_INDEX[key], out)
            else:
                data = key.encode("utf-8")
                _varint(len(KEYS) + len(data), out)
                out += data
            encode_value(item, out)
    else:
        raise SanConfigError(f"a .san header cannot hold a {type(value).__name__}")
    return out


class _Reader:
    """Bounds-checked cursor; counts containers and depth against the decode limits."""

    def __init__(self, data: bytes, limits: DecodeLimits) -> None:
        # bytes, not a memoryview: indexing them is faster, and a header is small to copy
        self.data, self.end, self.pos, self.limits, self.containers = bytes(data), len(data), 0, limits, 0

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise SanFormatError("binary header: truncated")
        self.pos = pos + 1
        return self.data[pos]

    def varint(self) -> int:
        data, pos, end = self.data, self.pos, self.end
        value = shift = 0
        while True:
            if pos >= end:
                raise SanFormatError("binary header: truncated")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self.pos = pos
                return value
            shift += 7
            if shift > 63:
                raise SanFormatError("binary header: varint too long")

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise SanFormatError("binary header: truncated")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def text(self, n: int) -> str:
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise SanFormatError("binary header: a string is not UTF-8") from None

    def container(self, depth: int) -> int:
        self.containers += 1
        if self.containers > self.limits.max_json_containers or depth > self.limits.max_json_depth:
            raise SanFormatError("binary header: too many or too deeply nested lists/objects")
        count = self.varint()
        if count > self.end - self.pos:  # every member takes at least one byte
            raise SanFormatError("binary header: a list or object is longer than the header")
        return count


def _read(r: _Reader, depth: int) -> Any:
    tag = r.byte()
    if tag in (NULL, FALSE, TRUE):
        return None if tag == NULL else tag == TRUE
    if tag in (UINT, NINT):
        v = r.varint()
        if v >= 10 ** r.limits.max_int_digits:
            raise SanFormatError(f"binary header: an integer has more than {r.limits.max_int_digits} digits")
        return v if tag == UINT else -v - 1
    if tag == FLOAT:
        (value,) = struct.unpack("<d", r.take(8))
        if not math.isfinite(value):
            raise SanFormatError("binary header: a float is not finite")
        return value
    if tag == INTFLOAT:
        z = r.varint()
        v = z // 2 if z % 2 == 0 else -(z + 1) // 2
        if abs(v) >= MAX_EXACT:
            raise SanFormatError("binary header: an integral float is out of range")
        return float(v)
    if tag == STRING:
        return r.text(r.varint())
    if tag == KNOWN_STRING:
        index = r.varint()
        if index >= len(STRINGS):
            raise SanFormatError(f"binary header: unknown string {index}")
        return STRINGS[index]
    if tag == LIST:
        return [_read(r, depth + 1) for _ in range(r.container(depth + 1))]
    if tag == OBJECT:
        out: dict[str, Any] = {}
        for _ in range(r.container(depth + 1)):
            k = r.varint()
            key = KEYS[k] if k < len(KEYS) else r.text(k - len(KEYS))
            if key in out:
                raise SanFormatError(f"binary header: key {key!r} appears twice")
            out[key] = _read(r, depth + 1)
        return out
    raise SanFormatError(f"binary header: unknown tag {tag}")


def decode_value(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Any:
    """Inverse of :func:`encode_value`; refuses trailing bytes, bad UTF-8, non-finite floats and
    anything over the header limits (depth, containers, integer digits)."""
    r = _Reader(data, limits)
    value = _read(r, 0)
    if r.pos != len(data):
        raise SanFormatError("binary header: unexpected trailing bytes")
    return value


def compact(header: dict[str, Any]) -> dict[str, Any]:
    """The header without its default-valued fields, per-channel lists of equal entries as one value."""
    out = {k: v for k, v in header.items() if not (k in TOP_DEFAULTS and _same(v, TOP_DEFAULTS[k]))}
    signal = header.get("signal")
    if isinstance(signal, dict):
        sig = {k: v for k, v in signal.items() if not (k in SIGNAL_DEFAULTS and _same(v, SIGNAL_DEFAULTS[k]))}
        names = signal.get("file_name")
        if isinstance(names, list) and names and names == [f"{signal.get('record_name', 'record')}.dat"] * len(names):
            del sig["file_name"]  # the WFDB default: one <record>.dat for every channel
            sig["file_name_default"] = True
        for key in PER_CHANNEL:
            values = sig.get(key)
            if isinstance(values, list) and values and all(_same(v, values[0]) for v in values):
                sig[key] = values[0]  # a scalar where a list belongs: every channel has it
        out["signal"] = sig
    return out


def expand(header: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`compact` (the reader's view is always the full header)."""
    if not isinstance(header, dict):
        raise SanFormatError("header is not an object")
    out = {**TOP_DEFAULTS, **header}
    signal = header.get("signal")
    channels = header.get("n_channels")
    # Only a valid channel count is broadcast; otherwise the values stay as they are and the
    # header's schema refuses them with its usual message.
    valid = isinstance(channels, int) and not isinstance(channels, bool) and 1 <= channels <= 1 << 16
    count = int(channels) if valid and channels is not None else 0
    if isinstance(signal, dict):
        sig = {**SIGNAL_DEFAULTS, **signal}
        for key in PER_CHANNEL:
            value = sig.get(key)
            if valid and value is not None and not isinstance(value, (list, dict)):
                sig[key] = [value] * count
        if sig.pop("file_name_default", None) is True and valid:
            sig["file_name"] = [f"{sig.get('record_name')}.dat"] * count
        out["signal"] = sig
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same JSON type (1 and 1.0 and True are different header values)."""
    return type(a) is type(b) and a == b
