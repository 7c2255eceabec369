"""BrainVision recordings (Brain Products' Core Data Format, one of BIDS-EEG's formats): a ``.vhdr`` text header
naming a binary data file (``.eeg``) and a marker file (``.vmrk``), read through the header.

Binary data of 16- or 32-bit integers or 32-bit floats, little-endian, multiplexed (a sample of every channel, then
the next) or vectorized (each channel whole, then the next) are read; an ASCII or big-endian file is refused, named.
Integer samples are digital values with each channel's resolution as its gain (``physical = digital x
resolution``), float samples are the file's values; the CLI's encoders read integers a block of rows at a time
(:func:`brainvision_reads`). The header's and marker file's bytes (up to :data:`MAX_KEPT`
each) are kept in the source entry, so that a lossless decode writes the three files back byte for byte (under new
names where the output is named otherwise: their ``DataFile=`` and ``MarkerFile=`` lines say so). Any other
signal, or a range or some channels of one, is written under a plain header (16-bit integers where the samples fit,
else 32; floats as 32-bit floats) with a marker file of one ``New Segment``. The markers are also read as annotations
(:func:`markers`), which EDF output writes as EDF+ annotations and WFDB output as notes; other sources' annotations
are not written as markers."""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sancodec._atomic import move_into_place, temp_folder
from sancodec.codec.schema import MAX_FS
from sancodec.errors import SancodecWarning, SanConfigError, SanFormatError
from sancodec.signal import Signal

__all__ = ["MAX_KEPT", "brainvision_reads", "output_names", "read_brainvision", "write_brainvision"]

MAX_KEPT = 1 << 20  # the most bytes of a header or marker file the source entry keeps (more: written afresh)
MAX_HEADER = 1 << 24  # the most bytes of a .vhdr read
MAX_CHANNELS = 4096  # as many as a .san holds
WRITE_ROWS = 1 << 16  # rows written at a time
_TYPES = {"INT_16": "<i2", "INT_32": "<i4", "IEEE_FLOAT_32": "<f4"}
_FIRST_LINES = (b"Brain Vision Data Exchange Header File", b"BrainVision Data Exchange Header File")
_PLAIN_NAME = re.compile(r"[^/\\\x00]{1,255}")  # a data or marker file's name: in the header's folder


class Header(NamedTuple):
    """What a ``.vhdr`` says of its data."""

    data_file: str
    marker_file: str | None
    orientation: str  # MULTIPLEXED or VECTORIZED
    channels: int
    fs: float
    binary: str  # a key of _TYPES
    names: list[str]
    units: list[str]
    resolutions: list[float]


def read_brainvision(path: Path) -> Signal:
    """The recording whose header is the ``.vhdr`` at ``path`` (module docstring) as a Signal."""
    like, n, read = brainvision_reads(path)
    return replace(like, samples=next(read(n)))  # (every sample in one block)


def brainvision_reads(path: Path) -> tuple[Signal, int, Callable[[int], Iterator[np.ndarray]]]:
    """The recording whose header is the ``.vhdr`` at ``path``, for reading a block at a time: a Signal of its first
    sample that holds everything :func:`read_brainvision` gives but the other samples (rate, channels, gains, source
    entry), its count of samples, and a reader of its samples from the first, ``rows`` at a time, each time it is
    called (the data file mapped afresh): the streaming encoders' input, whose memory is the block's."""
    raw = _read_bytes(path, MAX_HEADER, "its header")
    head = parse_header(raw, path)
    data_path = path.parent / head.data_file
    if not data_path.is_file():
        raise SanFormatError(f"{path}: its data file {head.data_file!r} is not beside it")
    width = np.dtype(_TYPES[head.binary]).itemsize
    size = data_path.stat().st_size
    if size % (width * head.channels):
        raise SanFormatError(f"{data_path}: {size} bytes, no whole number of samples of {head.channels} channels of "
                             f"{width} bytes (cut short, or not the layout {path.name} says)")
    rows = size // (width * head.channels)
    if not rows:
        raise SanFormatError(f"{data_path}: holds no samples")
    marker = _marker_bytes(path, head)
    source: dict[str, Any] = {"kind": "brainvision", "binary": head.binary, "orientation": head.orientation,
                              "rows": rows}  # (its markers count samples from the first: a range's are not these)
    notes = markers(marker, head.fs) if marker is not None else []
    if notes:
        source["annotations"] = notes
    if len(raw) <= MAX_KEPT:
        source["vhdr"] = base64.b64encode(raw).decode("ascii")
        if marker is not None:
            source["vmrk"] = base64.b64encode(marker).decode("ascii")
    else:
        warnings.warn(f"{path}: a header of {len(raw)} bytes, past the {MAX_KEPT} a .san keeps: its decode is written "
                      "under a plain header", SancodecWarning, stacklevel=3)
    floats = head.binary == "IEEE_FLOAT_32"

    def read(count: int) -> Iterator[np.ndarray]:
        try:
            values = np.memmap(data_path, dtype=_TYPES[head.binary], mode="r", shape=(rows * head.channels,))
        except (OSError, ValueError) as exc:
            raise SanFormatError(f"{data_path}: cannot be read ({exc})") from None
        table = values.reshape(rows, head.channels) if head.orientation == "MULTIPLEXED" else \
            values.reshape(head.channels, rows).T
        for start in range(0, rows, count):
            block = np.asarray(table[start : start + count], dtype=np.float32 if floats else np.int64)
            if floats and not np.all(np.isfinite(block)):
                raise SanFormatError(f"{data_path}: holds NaN or infinite samples")
            yield block
        del table, values

    first = next(read(1))
    if floats:
        source["resolutions"] = head.resolutions
        return Signal(first, head.fs, head.names, head.units, record_name=path.stem, source=source), rows, read
    gains = [1.0 / r if r > 0 else 1.0 for r in head.resolutions]
    return (Signal(first, head.fs, head.names, head.units, adc_gain=gains, baseline=[0] * head.channels,
                   record_name=path.stem, source=source), rows, read)


def _read_bytes(path: Path, limit: int, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise SanFormatError(f"{path}: {what} cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise SanFormatError(f"{path}: {what} is past {limit} bytes")
    return data


def _marker_bytes(path: Path, head: Header) -> bytes | None:
    """The marker file's bytes, where the header names one that is there and at most :data:`MAX_KEPT` long (a
    longer one is said, with a warning: its decode has one marker)."""
    if head.marker_file is None:
        return None
    marker = path.parent / head.marker_file
    if not marker.is_file():
        return None
    if marker.stat().st_size > MAX_KEPT:
        warnings.warn(f"{marker}: a marker file of {marker.stat().st_size} bytes, past the {MAX_KEPT} a .san keeps: "
                      "its decode has one New Segment marker; keep this file beside the .san", SancodecWarning,
                      stacklevel=3)
        return None
    return _read_bytes(marker, MAX_KEPT, "its marker file")


MAX_MARKERS = 1 << 16  # the most markers read as annotations (the marker file itself is kept up to MAX_KEPT bytes)


def markers(raw: bytes, fs: float) -> list[list[Any]]:
    """A marker file's markers as EDF+ annotations go in a source entry (``io.edf``): ``[onset in seconds, duration
    in seconds or None, "Type/Description"]`` (MNE's names for them: ``Stimulus/S  1``, ``New Segment/``), a marker
    at sample ``p`` (counted from 1) at ``(p - 1) / fs``, one of more than one point lasting ``points / fs``; lines
    that do not parse are passed over, and markers past :data:`MAX_MARKERS`."""
    out: list[list[Any]] = []
    for line in _text(raw).splitlines():
        key, eq, value = line.strip().partition("=")
        if not eq or not re.fullmatch(r"(?i)mk\d+", key.strip()):
            continue
        fields = [f.replace("\\1", ",") for f in value.split(",")]
        if len(fields) < 4:
            continue
        try:
            position, points = int(fields[2]), int(fields[3] or 1)
        except ValueError:
            continue
        if position < 1 or points < 0 or position > 1 << 53:
            continue
        out.append([(position - 1) / fs, points / fs if points > 1 else None, f"{fields[0]}/{fields[1]}"])
        if len(out) >= MAX_MARKERS:
            break
    return out


def parse_header(raw: bytes, label: object) -> Header:
    """A ``.vhdr``'s bytes read (sections, ``key=value`` lines, ``;`` comments, up to its ``[Comment]``); a
    SanFormatError naming ``label`` and what is wrong where it is not a binary BrainVision header sancodec reads."""
    text_bytes = raw.removeprefix(b"\xef\xbb\xbf")
    if not text_bytes.startswith(_FIRST_LINES):
        raise SanFormatError(f"{label}: not a BrainVision header (it does not start with 'Brain Vision Data "
                             "Exchange Header File')")
    text = _text(text_bytes)
    sections: dict[str, dict[str, str]] = {}
    section = ""
    for line in text.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            if section == "comment":
                break
            continue
        key, eq, value = line.partition("=")
        if eq:
            sections.setdefault(section, {})[key.strip().lower()] = value.strip()
    common, binary = sections.get("common infos", {}), sections.get("binary infos", {})
    data_file = common.get("datafile", "")
    if not _PLAIN_NAME.fullmatch(data_file) or data_file in (".", ".."):
        raise SanFormatError(f"{label}: DataFile={data_file!r}: a data file's name beside the header is expected")
    marker_file = common.get("markerfile") or None
    if marker_file is not None and (not _PLAIN_NAME.fullmatch(marker_file) or marker_file in (".", "..")):
        marker_file = None
    if common.get("dataformat", "BINARY").upper() != "BINARY":
        raise SanFormatError(f"{label}: DataFormat={common.get('dataformat')}: sancodec reads BrainVision's binary "
                             "data, not its ASCII export (export it as binary)")
    orientation = common.get("dataorientation", "MULTIPLEXED").upper()
    if orientation not in ("MULTIPLEXED", "VECTORIZED"):
        raise SanFormatError(f"{label}: DataOrientation={orientation}: MULTIPLEXED or VECTORIZED is expected")
    if binary.get("usebigendianorder", "NO").upper() == "YES":
        raise SanFormatError(f"{label}: big-endian data (UseBigEndianOrder=YES), which sancodec does not read")
    kind = binary.get("binaryformat", "INT_16").upper()
    if kind not in _TYPES:
        raise SanFormatError(f"{label}: BinaryFormat={kind}: sancodec reads INT_16, INT_32 and IEEE_FLOAT_32")
    channels = _number(common.get("numberofchannels"), label, "NumberOfChannels")
    if not (channels.is_integer() and 1 <= channels <= MAX_CHANNELS):
        raise SanFormatError(f"{label}: NumberOfChannels={common.get('numberofchannels')}: 1 to {MAX_CHANNELS}")
    interval = _number(common.get("samplinginterval"), label, "SamplingInterval")
    if not interval > 0 or not 1e6 / interval <= MAX_FS:
        raise SanFormatError(f"{label}: SamplingInterval={common.get('samplinginterval')} microseconds gives no rate "
                             f"of at most {MAX_FS:g} Hz")
    infos = sections.get("channel infos", {})
    names, units, resolutions = [], [], []
    for k in range(1, int(channels) + 1):
        fields = [f.replace("\\1", ",") for f in infos.get(f"ch{k}", "").split(",")]
        names.append(fields[0] or f"Ch{k}")
        resolution = _number(fields[2], label, f"Ch{k}'s resolution") if len(fields) > 2 and fields[2] else 1.0
        if not (math.isfinite(resolution) and resolution > 0):
            raise SanFormatError(f"{label}: Ch{k}'s resolution {fields[2]!r} is not a positive number")
        resolutions.append(resolution)
        units.append(fields[3] if len(fields) > 3 and fields[3] else "µV")
    return Header(data_file, marker_file, orientation, int(channels), 1e6 / interval, kind, names, units, resolutions)


def _text(raw: bytes) -> str:
    """A header's or marker file's text: UTF-8 where its ``Codepage=`` says so, else Windows' ANSI (cp1252)."""
    codec = "utf-8" if re.search(rb"(?mi)^\s*Codepage\s*=\s*UTF-8", raw) else "cp1252"
    return raw.decode(codec, errors="replace")


def _number(text: str | None, label: object, what: str) -> float:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SanFormatError(f"{label}: {what} is {text!r}, not a number")
    return value


def output_names(path: Path) -> list[Path]:
    """The header, data and marker files :func:`write_brainvision` writes for ``path`` (``rec`` or ``rec.vhdr``)."""
    base = path.with_suffix("") if path.suffix.lower() == ".vhdr" else path
    return [base.with_name(base.name + suffix) for suffix in (".vhdr", ".eeg", ".vmrk")]


def write_brainvision(signal: Signal, path: Path, *, fsync: bool = False) -> list[Path]:
    """``signal`` as a BrainVision recording at ``path`` (``rec`` or ``rec.vhdr``: ``rec.vhdr``, ``.eeg`` and
    ``.vmrk``), the three files moved into place together (module docstring)."""
    vhdr, eeg, vmrk = output_names(path)
    x = _written(signal)
    kept = _kept(signal)
    if kept is not None:
        binary, orientation, header, marker = kept
        header = _renamed(header, {b"DataFile": eeg.name, b"MarkerFile": vmrk.name})
        marker = _renamed(marker, {b"DataFile": eeg.name}) if marker is not None else _marker(eeg.name)
    else:
        binary, orientation = _plain_binary(signal.is_digital, x, path), "MULTIPLEXED"
        header, marker = _header(signal, binary, eeg.name, vmrk.name), _marker(eeg.name)
    dtype = np.dtype(_TYPES[binary])
    with temp_folder(vhdr) as folder:
        made = [(folder / vhdr.name, vhdr), (folder / eeg.name, eeg), (folder / vmrk.name, vmrk)]
        made[0][0].write_bytes(header)
        made[2][0].write_bytes(marker)
        with made[1][0].open("wb") as f:
            if orientation == "MULTIPLEXED":
                for start in range(0, x.shape[0], WRITE_ROWS):
                    f.write(_as_type(np.asarray(x[start:start + WRITE_ROWS]), dtype).tobytes())
            else:
                for ch in range(x.shape[1]):
                    f.write(_as_type(np.asarray(x[:, ch]), dtype).tobytes())
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        return move_into_place(made, fsync=fsync)


def _written(signal: Signal) -> np.ndarray:
    """The values a BrainVision file holds for ``signal``: its samples, a digital signal's less its baselines (the
    format has none: ``physical = value x resolution``)."""
    base = signal.baseline if signal.is_digital and signal.baseline else None
    if base is None or not any(base):
        return signal.samples
    return signal.samples - np.asarray(base, dtype=np.int64)


def _as_type(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Samples in the file's type: integers rounded and clipped to it (a lossy decode may overshoot), never wrapped."""
    if dtype.kind == "f":
        return x.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.rint(x) if x.dtype.kind == "f" else x, info.min, info.max).astype(dtype)


def _kept(signal: Signal) -> tuple[str, str, bytes, bytes | None] | None:
    """A BrainVision source's binary format, orientation, header and marker bytes, where its header is kept and
    still describes these samples (its channels, its binary format, all its rows: its markers' places count from
    its first; a ``.san`` header is not trusted: None for anything else)."""
    source = signal.source if isinstance(signal.source, dict) else {}
    if source.get("kind") != "brainvision" or not isinstance(source.get("vhdr"), str):
        return None
    try:
        header = base64.b64decode(source["vhdr"], validate=True)
        marker = base64.b64decode(source["vmrk"], validate=True) if isinstance(source.get("vmrk"), str) else None
        head = parse_header(header, "kept header")
    except (binascii.Error, ValueError, SanFormatError):
        return None
    if head.channels != signal.n_channels or (head.binary == "IEEE_FLOAT_32") == signal.is_digital or \
            source.get("rows") != signal.n_samples:
        return None
    return head.binary, head.orientation, header, marker


def _renamed(text: bytes, names: dict[bytes, str]) -> bytes:
    """``text`` with each ``key=`` line of ``names`` naming its file anew (the same bytes where it is the same)."""
    for key, name in names.items():
        line = re.compile(rb"(?mi)^(" + key + rb"\s*=)[^\r\n]*")
        text = line.sub(lambda m: m.group(1) + name.encode("utf-8"), text)  # noqa: B023 (called here, at once)
    return text


def _plain_binary(digital: bool, x: np.ndarray, path: Path) -> str:
    """The binary format a plain header writes the values ``x`` (:func:`_written`) in: 32-bit floats for floats (not
    ``digital``), else the narrower of 16- and 32-bit integers that holds them."""
    if not digital:
        return "IEEE_FLOAT_32"
    lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
    if -(1 << 15) <= lo and hi < 1 << 15:
        return "INT_16"
    if -(1 << 31) <= lo and hi < 1 << 31:
        return "INT_32"
    raise SanConfigError(f"{path}: samples from {lo} to {hi}, past the 32-bit integers a BrainVision file holds")


def _header(signal: Signal, binary: str, data_name: str, marker_name: str) -> bytes:
    """A plain ``.vhdr`` for ``signal``'s samples in ``binary``, multiplexed: each channel's name, its resolution
    (the reciprocal of its gain, for integers with one; else 1) and its unit."""
    gains = signal.adc_gain if signal.is_digital and signal.adc_gain else [1.0] * signal.n_channels
    lines = ["Brain Vision Data Exchange Header File Version 1.0", "; Data written by sancodec", "",
             "[Common Infos]", "Codepage=UTF-8", f"DataFile={data_name}", f"MarkerFile={marker_name}",
             "DataFormat=BINARY", "DataOrientation=MULTIPLEXED", f"NumberOfChannels={signal.n_channels}",
             f"SamplingInterval={1e6 / float(signal.fs)!r}", "", "[Binary Infos]", f"BinaryFormat={binary}", "",
             "[Channel Infos]"]
    for k, (name, unit, gain) in enumerate(zip(signal.channel_names, signal.units, gains), 1):
        resolution = 1.0 / gain if binary != "IEEE_FLOAT_32" and gain and math.isfinite(gain) else 1.0
        label = str(name).replace(",", "\\1").replace("\n", " ").replace("\r", " ")
        lines.append(f"Ch{k}={label},,{float(resolution)!r},{str(unit or 'µV').replace(',', ' ')}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _marker(data_name: str) -> bytes:
    """A plain ``.vmrk``: one ``New Segment`` marker at the first sample."""
    lines = ["Brain Vision Data Exchange Marker File, Version 1.0", "", "[Common Infos]", "Codepage=UTF-8",
             f"DataFile={data_name}", "", "[Marker Infos]", "Mk1=New Segment,,1,1,0"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
