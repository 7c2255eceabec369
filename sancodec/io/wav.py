"""RIFF WAVE files of integer PCM: 8-bit (unsigned), 16-, 24- and 32-bit samples, ``WAVE_FORMAT_PCM`` or
``WAVE_FORMAT_EXTENSIBLE`` (a heart-sound recording's, PhysioNet's 2016 challenge's; a sound card's; FLAC's input),
and of 32- and 64-bit floats, ``WAVE_FORMAT_IEEE_FLOAT`` (an audio editor's default export, a digital stethoscope's),
read as float32 or float64 values and written back as such (a lossless decode: the very file).

Read whole (``read_wav``) or a block of frames at a time (``wav_reads``, the CLI's encoders): the samples as
integers (8-bit ones less 128, the format's zero), the sample rate as the record's, the channels ``ch0``, ``ch1``,
... A file is kept as it was laid out: the bytes before its samples (the header, a ``LIST`` chunk) and after them
(a partial last frame, later chunks) go into the source entry (``wav``, base64, up to :data:`MAX_KEPT` bytes), and
a decode of every frame and channel writes them around the samples again: the same file, byte for byte. Any other
signal is written under a plain header (``WAVE_FORMAT_EXTENSIBLE`` for more than two channels or 24 bits and more,
as Microsoft asks). A ``data`` chunk whose size is 0 or runs past the file's end (a recorder that stopped without
patching its sizes, a stream's 0xFFFFFFFF) holds the whole frames to the end."""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from sancodec._atomic import move_into_place, temp_folder
from sancodec.codec.schema import MAX_FS
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.raw import int24_bytes, int24_values
from sancodec.signal import Signal

__all__ = ["MAX_KEPT", "WavLayout", "read_wav", "wav_layout", "wav_reads", "write_wav"]

MAX_KEPT = 1 << 16  # the most bytes around the samples a source entry keeps (more: written under a plain header)
MAX_CHANNELS = 4096  # as many as a .san holds (limits.DecodeLimits.max_channels)
FMT_BYTES = 1 << 10  # the most of a 'fmt ' chunk read (its fields take 40)
WRITE_ROWS = 1 << 16  # write_wav's frames at a time
PCM, IEEE_FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
_PCM_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_PCM (and _IEEE_FLOAT) after
# its first two bytes (the format tag's)
_TYPES = {8: "u1", 16: "<i2", 32: "<i4"}  # (24 bits: raw.int24_values)
_FLOAT_TYPES = {32: "<f4", 64: "<f8"}


class WavLayout(NamedTuple):
    """Where a WAV file's samples are and how they are stored."""

    channels: int
    rate: int
    bits: int
    data_offset: int  # the first sample's byte
    frames: int  # the whole frames the file holds from there
    floating: bool = False  # IEEE floats (32 or 64 bits), not integer PCM


def wav_layout(data: bytes, label: object = "WAV") -> WavLayout:
    """The layout of a WAV file's bytes ``data``: its chunks walked from the start (each within the file), the
    ``fmt `` chunk checked (integer PCM of 8, 16, 24 or 32 bits, 1 to :data:`MAX_CHANNELS` channels, a whole rate,
    a block of the channels' bytes), the samples the whole frames of the ``data`` chunk (of the rest of the file
    where its size is 0 or runs past the end). Anything else is a :class:`SanFormatError` naming ``label`` and what
    is wrong."""
    return _walk(lambda at, n: data[at:at + n], len(data), label)


def _walk(read: Callable[[int, int], bytes], size: int, label: object) -> WavLayout:
    """:func:`wav_layout` of a file of ``size`` bytes, ``read(at, n)`` giving its bytes from ``at`` (the chunks'
    headers only, and the ``fmt `` chunk: a file is not read whole to find its samples)."""
    head = read(0, 12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise SanFormatError(f"{label}: not a RIFF WAVE file")
    if head[:4] == b"RF64":
        raise SanFormatError(f"{label}: an RF64 file (a WAV past 4 GiB), which sancodec does not read")
    fmt: tuple[int, int, int, int, bool] | None = None
    at = 12
    while at + 8 <= size:
        chunk = read(at, 8)
        kind, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
        body = at + 8
        if kind == b"fmt ":
            fmt = _fmt(read(body, min(length, size - body, FMT_BYTES)), label)
        elif kind == b"data":
            if fmt is None:
                raise SanFormatError(f"{label}: its samples come before their format (no 'fmt ' chunk first)")
            channels, rate, bits, block, floating = fmt
            held = length if 0 < length <= size - body else size - body  # (a size past the end: a stream's)
            return WavLayout(channels, rate, bits, body, held // block, floating)
        at = body + length + (length & 1)  # (a chunk of an odd size is padded to an even one)
    raise SanFormatError(f"{label}: no samples (no 'data' chunk)")


def _fmt(body: bytes, label: object) -> tuple[int, int, int, int, bool]:
    """A ``fmt `` chunk's channels, rate, bits, block size and whether its samples are floats, checked
    (:func:`wav_layout`)."""
    if len(body) < 16:
        raise SanFormatError(f"{label}: its 'fmt ' chunk is {len(body)} bytes, under the 16 every WAV has")
    tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _PCM_GUID_TAIL or int.from_bytes(body[24:26], "little") not in (PCM,
                                                                                                         IEEE_FLOAT):
            raise SanFormatError(f"{label}: a WAVE_FORMAT_EXTENSIBLE file whose samples are neither integer PCM nor "
                                 "IEEE floats")
        tag = int.from_bytes(body[24:26], "little")
    if tag not in (PCM, IEEE_FLOAT):
        raise SanFormatError(f"{label}: samples coded as WAV format {tag:#06x}, neither integer PCM nor IEEE floats")
    floating = tag == IEEE_FLOAT
    if floating and bits not in (32, 64):
        raise SanFormatError(f"{label}: {bits}-bit floating-point samples; sancodec reads 32 and 64")
    if not floating and bits not in (8, 16, 24, 32):
        raise SanFormatError(f"{label}: {bits}-bit samples; sancodec reads 8, 16, 24 and 32")
    if not 1 <= channels <= MAX_CHANNELS:
        raise SanFormatError(f"{label}: {channels} channels; a .san holds 1 to {MAX_CHANNELS}")
    if not 1 <= rate <= MAX_FS:
        raise SanFormatError(f"{label}: a sample rate of {rate} Hz" + ("" if rate < 1 else f", above the {MAX_FS:g} Hz "
                                                                        "a .san holds"))
    if block != channels * bits // 8:
        raise SanFormatError(f"{label}: frames of {block} bytes, where {channels} channels of {bits} bits take "
                             f"{channels * bits // 8}")
    return channels, rate, bits, block, floating


def read_wav(path: Path) -> Signal:
    """The WAV file at ``path`` as a Signal (:func:`wav_layout`), kept as it was laid out (the module's docstring)."""
    like, n, read = wav_reads(path)
    return replace(like, samples=next(read(n)))  # (every frame in one block)


def wav_reads(path: Path) -> tuple[Signal, int, Callable[[int], Iterator[np.ndarray]]]:
    """The WAV file at ``path`` for reading a block at a time: a Signal of its first frame that holds everything
    :func:`read_wav` gives but the other samples (its rate, channels, source entry), its count of frames, and a
    reader of its frames from the first, ``rows`` at a time, each time it is called (the file opened afresh): the
    streaming encoders' input, whose memory is the block's, not the file's."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            layout = _walk(lambda at, n: _read_at(f, at, n), size, path)
            if not layout.frames:
                raise SanFormatError(f"{path}: no samples (its 'data' chunk holds no whole frame)")
            block = layout.channels * layout.bits // 8
            end = layout.data_offset + layout.frames * block
            before = _read_at(f, 0, layout.data_offset)
            after = _read_at(f, end, size - end) if size - end + len(before) <= MAX_KEPT else None
            first = _samples(_read_at(f, layout.data_offset, block), layout._replace(frames=1))
    except OSError as exc:
        raise SanFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    kept: dict[str, Any] = {"frames": layout.frames, "channels": layout.channels, "bits": layout.bits,
                            **({"float": True} if layout.floating else {})}
    if after is not None:
        kept |= {"before": base64.b64encode(before).decode("ascii"), "after": base64.b64encode(after).decode("ascii")}
    names = [f"ch{i}" for i in range(layout.channels)]
    like = Signal(first, float(layout.rate), names, ["NU"] * layout.channels, record_name=path.stem,
                  adc_res=None if layout.floating else [layout.bits] * layout.channels,
                  source={"kind": "wav", "wav": kept})

    def read(rows: int) -> Iterator[np.ndarray]:
        with path.open("rb") as g:
            g.seek(layout.data_offset)
            for start in range(0, layout.frames, rows):
                count = min(rows, layout.frames - start)
                data = g.read(count * block)
                if len(data) < count * block:
                    raise SanFormatError(f"{path}: changed while it was read (it ends before its samples)")
                yield _samples(data, layout._replace(frames=count))

    return like, layout.frames, read


def _read_at(f: BinaryIO, at: int, n: int) -> bytes:
    """``n`` bytes of ``f`` from ``at`` (fewer at its end)."""
    f.seek(at)
    return f.read(n)


def _samples(data: bytes, layout: WavLayout) -> np.ndarray:
    """The frames of ``data`` as integers, frames x channels (8-bit ones less 128; 24-bit ones as int32), or floats
    (float32 or float64: a NaN or an infinity among them is the Signal's error)."""
    values: np.ndarray
    if layout.floating:
        values = np.frombuffer(data, dtype=_FLOAT_TYPES[layout.bits])
        values = values.astype(values.dtype.newbyteorder("="))
    elif layout.bits == 24:
        values = int24_values(data).astype(np.int32)
    else:
        values = np.frombuffer(data, dtype=_TYPES[layout.bits])
        values = values.astype(np.int16) - 128 if layout.bits == 8 else values.astype(values.dtype.newbyteorder("="))
    return values.reshape(layout.frames, layout.channels)


def write_wav(signal: Signal, path: Path, *, fsync: bool = False) -> Path:
    """``signal``'s integer samples as a WAV file at ``path``: the source's own bytes around them where it was a
    WAV of these very frames and channels, else a plain header at the source's bits (where the samples fit) or the
    fewest of 16, 24 and 32 that hold them; a float WAV's values (:func:`_float_bits`) as IEEE floats so. Refused
    (:class:`SanConfigError`): floats of any other source, a rate that is no whole number of hertz, samples past 32
    bits, a file past 4 GiB. Written :data:`WRITE_ROWS` frames at a time into a file beside ``path``, then moved into
    place: a decode's samples mapped from disk (``decode``'s) are never held whole."""
    kept = _kept(signal)
    floating = not signal.is_digital
    if floating and (kept is None or not kept["float"]):
        raise SanConfigError(f"{path}: a WAV holds integer samples (or a float WAV's floats); this signal's are floats "
                             "(write .npy or CSV)")
    fs = float(signal.fs)
    if not (fs.is_integer() and 1 <= fs < 2**32):
        raise SanConfigError(f"{path}: a WAV's sample rate is a whole number of hertz, and this signal's is {fs:g} "
                             "Hz (write EDF, WFDB or .npy)")
    x = signal.samples
    if floating:
        assert kept is not None  # (refused above)
        bits: int | None = _float_bits(x, kept["bits"])
    else:
        lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
        bits = kept["bits"] if kept is not None and not kept["float"] and _fits(lo, hi, kept["bits"]) else \
            next((b for b in (16, 24, 32) if _fits(lo, hi, b)), None)
        if bits is None:
            raise SanConfigError(f"{path}: samples from {lo} to {hi}, past the 32 bits a WAV sample holds")
    assert bits is not None
    size = x.shape[0] * x.shape[1] * bits // 8
    if size >= 2**32 - 64:
        raise SanConfigError(f"{path}: {size} bytes of samples, past the 4 GiB a WAV holds")
    if kept is not None and kept["bits"] == bits and kept["float"] == floating and kept["frames"] == signal.n_samples \
            and kept["channels"] == signal.n_channels and "before" in kept:
        head, tail = kept["before"], kept["after"]
    else:
        head, tail = _header(signal.n_channels, int(fs), bits, size, floating, signal.n_samples), \
            b"\0" if size & 1 else b""  # (a chunk of an odd size is padded to an even one)
    with temp_folder(path) as folder:
        made = folder / path.name
        with made.open("wb") as f:
            f.write(head)
            for start in range(0, x.shape[0], WRITE_ROWS):
                f.write(_sample_bytes(np.asarray(x[start:start + WRITE_ROWS]), bits, floating))
            f.write(tail)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        return move_into_place([(made, path)], fsync=fsync)[0]


def _float_bits(x: np.ndarray, source_bits: int) -> int:
    """The float width a float WAV's decoded values ``x`` are written at: its source's 32 bits where each value is a
    float32 (a lossless decode's, or one that float32 holds exactly), else 64 (a lossy or near-lossless decode's
    values, which float32 would round past the target or the bound)."""
    if source_bits == 32 and (x.dtype == np.float32 or np.array_equal(x.astype(np.float32).astype(x.dtype), x)):
        return 32
    return 64


def _fits(lo: int, hi: int, bits: int) -> bool:
    """Whether samples from ``lo`` to ``hi`` fit a WAV's ``bits`` (8-bit samples stored plus 128)."""
    top = 1 << (bits - 1)
    return -top <= lo and hi < top


def _sample_bytes(x: np.ndarray, bits: int, floating: bool = False) -> bytes:
    """The frames ``x`` (frames x channels) as a WAV stores them at ``bits`` (IEEE floats where ``floating``)."""
    if floating:
        return np.ascontiguousarray(x, dtype=_FLOAT_TYPES[bits]).tobytes()
    if bits == 24:
        return int24_bytes(x.reshape(-1)).tobytes()
    if bits == 8:
        return (x.reshape(-1) + 128).astype("u1").tobytes()
    return np.ascontiguousarray(x, dtype=_TYPES[bits]).tobytes()


def _header(channels: int, rate: int, bits: int, size: int, floating: bool = False, frames: int = 0) -> bytes:
    """A plain WAV header for ``size`` bytes of samples: ``WAVE_FORMAT_PCM`` (``WAVE_FORMAT_IEEE_FLOAT`` for
    ``floating`` samples, with the ``fact`` chunk of their ``frames`` every format but PCM has), or
    ``WAVE_FORMAT_EXTENSIBLE`` (no speaker positions) for more than two channels or more than 16 bits of integers."""
    block = channels * bits // 8
    tag = IEEE_FLOAT if floating else PCM
    extensible = channels > 2 or (bits > 16 and not floating)
    fmt = struct.pack("<HHIIHH", EXTENSIBLE if extensible else tag, channels, rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + tag.to_bytes(2, "little") + _PCM_GUID_TAIL
    fact = b"fact" + (4).to_bytes(4, "little") + min(frames, 2**32 - 1).to_bytes(4, "little") if floating else b""
    chunks = b"fmt " + len(fmt).to_bytes(4, "little") + fmt + fact + b"data" + size.to_bytes(4, "little")
    pad = b"\0" if size & 1 else b""
    return b"RIFF" + (4 + len(chunks) + size + len(pad)).to_bytes(4, "little") + b"WAVE" + chunks


def _kept(signal: Signal) -> dict[str, Any] | None:
    """The source's ``wav`` entry where its fields hold (a ``.san`` header is not trusted): frames, channels, bits,
    whether its samples are floats (``float``: 32 or 64 bits), and the bytes before and after the samples as bytes
    (where both are base64 within :data:`MAX_KEPT`, the first a WAV header of those channels, bits and kind); None
    for any other source."""
    source = signal.source if isinstance(signal.source, dict) else {}
    kept = source.get("wav")
    if source.get("kind") != "wav" or not isinstance(kept, dict):
        return None
    frames, channels, bits = kept.get("frames"), kept.get("channels"), kept.get("bits")
    floating = kept.get("float", False)
    if not (type(frames) is int and type(channels) is int and type(bits) is int and type(floating) is bool and
            bits in ((32, 64) if floating else (8, 16, 24, 32))):
        return None
    out: dict[str, Any] = {"frames": frames, "channels": channels, "bits": bits, "float": floating}
    before, after = kept.get("before"), kept.get("after")
    if isinstance(before, str) and isinstance(after, str) and len(before) + len(after) <= 2 * MAX_KEPT:
        try:
            head, tail = base64.b64decode(before, validate=True), base64.b64decode(after, validate=True)
            layout = wav_layout(head + b"\0" * (channels * bits // 8), "kept")
        except (binascii.Error, ValueError, SanFormatError):
            return out
        if (layout.channels, layout.bits, layout.data_offset, layout.floating) == (channels, bits, len(head),
                                                                                   floating):
            out |= {"before": head, "after": tail}
    return out
