"""The ``.san`` container: preamble, JSON header, CRC-checked frames, an index, a trailer.

Layout (all integers little-endian; docs/FORMAT.md describes every byte)::

    preamble  16 B  magic b"\\x89SAN", major u8, minor u8, flags u16 (bit 0: header bzip2-compressed,
                    bit 1: binary header, format 1.3),
                    header length u32, CRC32 of (the 12 bytes before it + header) u32
    header    JSON (UTF-8; format 1.3: binary values, defaults left out), bzip2-compressed when flag
                    bit 0 is set: signal metadata, mode, model…
    frames    per frame: number u32, payload length u32, payload CRC32 u32, payload
    index     per frame: offset u64, total length u32 (frame head + payload)
    trailer   20 B  index offset u64, frame count u32,
                    CRC32 of (index bytes + those 12 bytes) u32, magic b"SANE"

A file of one frame (format 1.7, flag bit 2) is the preamble, the header, the payload and the payload's
CRC32 u32: no frame head, index or trailer, 40 bytes less on a short record.

A reader validates every declared length against the file size and fixed caps
*before* reading or allocating, checks that the frames tile the space between
header and index exactly, and verifies each CRC, so a corrupt or hostile file
raises :class:`SanFormatError` quickly. Readers and writers take file objects
(stream API first); byte helpers sit on top. No torch here.
"""

from __future__ import annotations

import bz2
import io
import json
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

import numpy as np

from sancodec.codec.binheader import compact, decode_value, encode_value, expand
from sancodec.codec.limits import DEFAULT_LIMITS, DecodeLimits, parse_header_json
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.signal import header_frame_rows

__all__ = ["MAGIC", "MAJOR", "MINOR", "SanReader", "declared_frames", "write_container"]

MAGIC = b"\x89SAN"
END_MAGIC = b"SANE"
MAJOR = 1
MINOR = 19  # the newest minor version this reader knows; files are written with the lowest that holds them
PREAMBLE = struct.Struct("<4sBBHII")
FRAME_HEAD = struct.Struct("<III")
INDEX_ENTRY = struct.Struct("<QI")
TRAILER = struct.Struct("<QII4s")
MAX_HEADER_BYTES = 64 << 20
MAX_FRAME_BYTES = 256 << 20
MAX_FRAMES = 1 << 24
SCAN_BYTES = 1 << 22  # a salvaging walk past a damaged frame searches the file this many bytes at a time
#: where the index or trailer is lost: what still reads the frames that are intact (SanReader(salvage=True))
SALVAGE_HINT = ("; `sancodec decode --salvage` (decode(..., salvage=True), open(..., salvage=True)) recovers the "
                "frames that are intact")
# Format 1.1: the header is bzip2-compressed (WFDB comments and base64 kernels shrink ~2x). bzip2, not zlib:
# it has one implementation, so files stay byte-identical everywhere (zlib-ng builds deflate differently).
FLAG_PACKED_HEADER = 1
# Format 1.3: the header is binary (codec.binheader: tagged values, defaults left out), bzip2-packed only
# when that is smaller.
FLAG_BINARY_HEADER = 2
# Format 1.7: a file of one frame holds only its payload and the payload's CRC32 after the header.
FLAG_ONE_FRAME = 4
ONE_FRAME_MINOR = 7
# Format 1.14: a multi-frequency record whose samples per frame do not all divide the largest (a frame of their least
# common multiple, Signal.frame_size: SHHS's 125, 50, 10 and 1 Hz signals)
COMMON_FRAME_MINOR = 14
# Format 1.15: a lossy file's gaps (a record's invalid or missing samples) coded apart, in the header's lossy.gaps
GAPS_MINOR = 15
# Format 1.16: a lossy or near-lossless file's samples outside its gaps kept above a floor (the header's floor,
# codec.gaps.floors), so that none decodes to a WFDB record's invalid sample
FLOOR_MINOR = 16
# Format 1.17: a lossless file of floating-point samples on a step per channel (its quantum: codec.floatgrid)
FLOAT_GRID_MINOR = 17
# Format 1.18: a lossless file of float32 samples (the header's float32), each the float32 nearest its integer times
# the step where it has a quantum (codec.floatgrid.grid_step32), else the float32 whose bits (sign last) its integer is
# (floatgrid.folded_ints); its decode is float32
FLOAT32_MINOR = 18
# Format 1.19: a lossless file of float64 values near a step per channel (the header's near_grid, codec.neargrid):
# each integer a count on the step from an offset and a correction in units in the last place
NEAR_GRID_MINOR = 19
CRC = struct.Struct("<I")


def header_minor(header: dict[str, Any]) -> int:
    """The least minor version the header needs of the file: 19 where a lossless file holds float64 values near a step
    (:data:`NEAR_GRID_MINOR`), 18 where a lossless file holds float32 samples
    (:data:`FLOAT32_MINOR`), 17 where a lossless file holds floats on a step
    (:data:`FLOAT_GRID_MINOR`), 16 where it has a floor (:data:`FLOOR_MINOR`), 15 where a file's gaps are coded apart
    (a lossy file's ``lossy.gaps``, a near-lossless file's ``gaps``: ``codec.gaps``), 14 where its samples per frame
    do not all divide the largest (:data:`COMMON_FRAME_MINOR`), else 0 (the frames set it)."""
    if not isinstance(header, dict):
        return 0
    if header.get("mode") == "lossless" and header.get("near_grid") is not None:
        return NEAR_GRID_MINOR
    if header.get("mode") == "lossless" and header.get("float32") is True:
        return FLOAT32_MINOR
    if header.get("mode") == "lossless" and header.get("quantum") is not None:
        return FLOAT_GRID_MINOR
    if header.get("floor") is not None:
        return FLOOR_MINOR
    lossy = header.get("lossy")
    if header.get("gaps") is not None or isinstance(lossy, dict) and lossy.get("gaps") is not None:
        return GAPS_MINOR
    signal = header.get("signal")
    spf = signal.get("samples_per_frame") if isinstance(signal, dict) else None  # (a test's hostile header too)
    rows = header_frame_rows(spf)
    if rows is not None and spf is not None and rows > max(spf):
        return COMMON_FRAME_MINOR
    return 0


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _unpack_header(data: bytes) -> bytes:
    """Decompress a packed header, refusing one that would exceed the header cap (no bombs)."""
    d = bz2.BZ2Decompressor()
    try:
        out = d.decompress(data, MAX_HEADER_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise SanFormatError(f"header does not decompress ({exc})") from None
    if len(out) > MAX_HEADER_BYTES or not d.eof or d.unused_data:
        raise SanFormatError("compressed header is oversized, truncated or followed by stray bytes")
    return out


def write_container(out: BinaryIO, header: dict[str, Any], payloads: Iterable[bytes], minor: int = 1,
                    one_frame: bool | None = None) -> int:
    """Write a complete container to ``out`` (streaming frames); returns the bytes written. ``minor``:
    the lowest format minor version that holds what the file uses (1.2: wavelet frames). ``one_frame``:
    the one-frame layout (format 1.7); by default wherever ``payloads`` is a sequence (not a stream) of
    one and the file has a binary header (``minor`` >= 3), as it saves 40 bytes."""
    minor = max(minor, header_minor(header))
    if one_frame is None:
        one_frame = minor >= 3 and isinstance(payloads, Sequence) and len(payloads) == 1
    if one_frame:
        return _write_one_frame(out, header, next(iter(payloads)), max(minor, ONE_FRAME_MINOR))
    written = _write_head(out, header, minor, 0)
    index = bytearray()
    for number, payload in enumerate(payloads):
        _check_frame_size(number, payload)
        index += INDEX_ENTRY.pack(written, FRAME_HEAD.size + len(payload))
        written += out.write(FRAME_HEAD.pack(number, len(payload), _crc(payload)))
        written += out.write(payload)
    count = len(index) // INDEX_ENTRY.size
    tail = struct.pack("<QI", written, count)
    written += out.write(bytes(index))
    written += out.write(TRAILER.pack(written - len(index), count, _crc(bytes(index) + tail), END_MAGIC))
    return written


def _write_one_frame(out: BinaryIO, header: dict[str, Any], payload: bytes, minor: int) -> int:
    """The one-frame layout (format 1.7): preamble, header, payload, the payload's CRC32."""
    _check_frame_size(0, payload)
    written = _write_head(out, header, minor, FLAG_ONE_FRAME)
    return written + out.write(payload) + out.write(CRC.pack(_crc(payload)))


def _check_frame_size(number: int, payload: bytes) -> None:
    if len(payload) > MAX_FRAME_BYTES:
        raise SanFormatError(f"frame {number} is {len(payload)} bytes, over the cap")


def _write_head(out: BinaryIO, header: dict[str, Any], minor: int, layout_flags: int) -> int:
    """Write the preamble and the header; returns the bytes written."""
    flags = FLAG_PACKED_HEADER
    if minor >= 3:
        head = bytes(encode_value(compact(header)))
        flags = FLAG_BINARY_HEADER
    else:
        head = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(head) > MAX_HEADER_BYTES:
        raise SanFormatError(f"header is {len(head)} bytes, over the {MAX_HEADER_BYTES} cap")
    packed = bz2.compress(head, 9)
    if minor < 3 or len(packed) < len(head):
        head, flags = packed, flags | FLAG_PACKED_HEADER
    fields = PREAMBLE.pack(MAGIC, MAJOR, minor, flags | layout_flags, len(head), 0)[:-4]
    written = out.write(fields + CRC.pack(_crc(fields + head)))
    return written + out.write(head)


def declared_frames(n_samples: int, frame_len: int) -> int:
    """The frames a header's ``n_samples`` rows in frames of ``frame_len`` make (the last may be short): what a
    file must hold, and where a salvage of it stops."""
    return -(-n_samples // frame_len)


class SanReader:
    """Random-access reader: validates preamble, header, index and trailer on open;
    each frame is CRC-checked when read. ``frames_read`` counts frame reads. Safe to read frames from several
    threads at once (a Dask array over a :class:`sancodec.SanFile`): each read's seek and read hold a lock. A file
    object's ``.san`` runs from where the object stands when it is opened to its end."""

    def __init__(self, source: BinaryIO | bytes, limits: DecodeLimits = DEFAULT_LIMITS, salvage: bool = False,
                 header_only: bool = False) -> None:
        """``salvage``: the frames intact (``api.decode_file(..., salvage=True)``), those damaged in :attr:`lost`:
        from the index, each checked, where it is intact; else found by walking them from the header on
        (:meth:`_walk_frames`: a truncated file's, or those of a file whose index is lost). ``header_only``: the
        preamble and header, checked, and no frame (the index empty): what a command reads of a file before it
        decodes it (``api.read_header``)."""
        if not isinstance(source, (bytes, bytearray, memoryview)) and not (hasattr(source, "seek")
                                                                           and hasattr(source, "read")):
            hint = " (a path? sancodec.open(path) reads a file)" if isinstance(source, (str, os.PathLike)) else ""
            raise SanConfigError(f"a .san is read from its bytes or a binary file object, not a "
                                 f"{type(source).__name__}{hint}")
        self._f: BinaryIO = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
        self._lock = threading.Lock()  # a seek and its read, and the count of frames read, one thread at a time
        self.frames_read = 0
        self._base = self._f.tell()  # a file object's .san starts where it stands (a .san within another file)
        self._f.seek(0, io.SEEK_END)
        self.size = self._f.tell() - self._base
        if self.size < PREAMBLE.size + CRC.size:
            raise SanFormatError(f"not a .san file: {self.size} bytes is shorter than the minimum "
                                 f"{PREAMBLE.size + CRC.size}")
        magic, major, minor, flags, head_len, head_crc = PREAMBLE.unpack(self._read_at(0, PREAMBLE.size))
        if magic != MAGIC:
            raise SanFormatError(f"not a .san file (magic {magic!r})")
        if major != MAJOR:
            raise SanFormatError(f".san format version {major}.{minor} is not supported (this reader: {MAJOR}.x)")
        if minor > MINOR:
            raise SanFormatError(f".san format version {major}.{minor} is newer than this reader ({MAJOR}.{MINOR}); "
                                 "a newer sancodec reads it")
        known = FLAG_PACKED_HEADER | FLAG_BINARY_HEADER | FLAG_ONE_FRAME
        if flags & ~known or (flags & FLAG_BINARY_HEADER and minor < 3) or (flags & FLAG_ONE_FRAME and
                                                                             minor < ONE_FRAME_MINOR):
            raise SanFormatError(f"unknown .san flags {flags:#06x} for format {major}.{minor}")
        self.version = (major, minor)
        self.one_frame = bool(flags & FLAG_ONE_FRAME)
        minimum = PREAMBLE.size + (CRC.size if self.one_frame else 0 if salvage or header_only else TRAILER.size)
        # (salvage: a file cut anywhere past its header)
        if self.size < minimum:
            raise SanFormatError(f"not a .san file: {self.size} bytes is shorter than the minimum {minimum}")
        if head_len > min(MAX_HEADER_BYTES, self.size - minimum):
            raise SanFormatError(f"header length {head_len} does not fit a {self.size}-byte file")
        raw = self._read_at(PREAMBLE.size, head_len)
        computed = _crc(self._read_at(0, PREAMBLE.size - 4) + raw)
        if computed != head_crc:
            raise SanFormatError(f"header checksum mismatch (stored {head_crc:#010x}, computed {computed:#010x})")
        if flags & FLAG_PACKED_HEADER:
            raw = _unpack_header(raw)
        if flags & FLAG_BINARY_HEADER:
            self.header: dict[str, Any] = expand(decode_value(raw, limits))
        else:
            self.header = parse_header_json(raw, limits)
        self._frames_start = PREAMBLE.size + head_len
        #: with ``salvage``, the frames of an intact index found damaged (:meth:`_salvaged_frames`): read_frame
        #: refuses them
        self.lost: frozenset[int] = frozenset()
        #: where the channels have no invalid sample to mark a lost frame's rows with (``gaps.lost_rows_fill``): read
        #: them as each channel's last row before them rather than stop there (``api.decode_file(..., hold_lost=
        #: True)``: EDF and BDF output, which annotates them, as it does the rows that fill out its last record)
        self.hold_lost = False
        if header_only:
            self.index: list[tuple[int, int]] = []
        elif salvage and not self.one_frame:  # (a one-frame file has no index to lose: its frame is whole or not)
            self._salvaged_frames()
        else:
            self._read_index()

    def _read_at(self, offset: int, n: int) -> bytes:
        with self._lock:
            self._f.seek(self._base + offset)
            data = self._f.read(n)
            while 0 < len(data) < n:  # a raw file object (unbuffered, a socket's) may give fewer bytes a read
                more = self._f.read(n - len(data))
                if not more:
                    break
                data += more
        if len(data) != n:
            raise SanFormatError(f"file truncated: wanted {n} bytes at offset {offset}, got {len(data)}")
        return data

    def _read_index(self) -> None:
        if self.one_frame:  # format 1.7: the payload runs from the header to the CRC at the end
            length = self.size - self._frames_start  # payload + CRC, >= 4 (the header fits the minimum)
            if length > MAX_FRAME_BYTES + CRC.size:
                raise SanFormatError(f"frame 0 is {length - CRC.size} bytes, over the cap")
            self.index = [(self._frames_start, length)]
            return
        index_offset, count, crc, end = TRAILER.unpack(self._read_at(self.size - TRAILER.size, TRAILER.size))
        if end != END_MAGIC:
            raise SanFormatError(f"bad trailer magic {end!r} (file truncated or not a .san file){SALVAGE_HINT}")
        index_len = count * INDEX_ENTRY.size
        fits = index_offset >= self._frames_start and index_offset + index_len == self.size - TRAILER.size
        if count > MAX_FRAMES or not fits:
            raise SanFormatError(f"index ({count} frames at offset {index_offset}) does not fit the file"
                                 f"{SALVAGE_HINT}")
        raw = self._read_at(index_offset, index_len)
        computed = _crc(raw + struct.pack("<QI", index_offset, count))
        if computed != crc:
            raise SanFormatError(f"index checksum mismatch (stored {crc:#010x}, computed {computed:#010x})"
                                 f"{SALVAGE_HINT}")
        entries = [INDEX_ENTRY.unpack_from(raw, i * INDEX_ENTRY.size) for i in range(count)]
        expected = self._frames_start
        for number, (offset, length) in enumerate(entries):
            if offset != expected or length < FRAME_HEAD.size or length > MAX_FRAME_BYTES + FRAME_HEAD.size:
                raise SanFormatError(f"index entry {number} (offset {offset}, length {length}) is inconsistent")
            expected += length
        if expected != index_offset:
            raise SanFormatError("frames do not end where the index starts")
        self.index = entries

    def _salvaged_frames(self) -> None:
        """A salvaging reader's frames: where the trailer and index are intact, the index's, each frame checked
        (:meth:`_frame_at`) and those damaged put in :attr:`lost` (a bit flipped in a frame loses that frame's rows
        only); else those :meth:`_walk_frames` finds. Each payload is read once here, a frame at a time."""
        try:
            if self.size < self._frames_start + TRAILER.size:
                raise SanFormatError("no room for a trailer")
            self._read_index()
        except SanFormatError:  # the trailer or index lost (a file cut short): the frames up to the damage
            self._walk_frames()
            return
        self.lost = frozenset(number for number, (offset, length) in enumerate(self.index)
                              if self._frame_at(offset, number) != length)

    def _walk_frames(self) -> None:
        """The index as the frames themselves give it: from the end of the header, each frame whose head numbers it
        next, whose payload fits the bytes left (and the cap) and passes its checksum; past one that does not (a
        damaged frame, the end of a truncated file's frames, or the index of a whole file), the next that does and
        numbers a later frame (:meth:`_next_frame`), the frames between put in :attr:`lost` (their entries
        ``(0, 0)``); up to the end of the file or of the frames the header declares."""
        entries: list[tuple[int, int]] = []
        lost: set[int] = set()
        at, last = self._frames_start, self._declared_frames()
        while len(entries) < last:
            length = self._frame_at(at, len(entries))
            if length is None:
                found = self._next_frame(at, len(entries) + 1, last)
                if found is None:
                    break
                at, number, length = found
                lost.update(range(len(entries), number))
                entries += [(0, 0)] * (number - len(entries))
            entries.append((at, length))
            at += length
        self.index, self.lost = entries, frozenset(lost)

    def _declared_frames(self) -> int:
        """The frames the header declares (its ``n_samples`` over its ``frame_len``), :data:`MAX_FRAMES` where those
        fields are out of shape (the decode refuses them): where a salvaging walk stops."""
        n, frame_len = self.header.get("n_samples"), self.header.get("frame_len")
        if type(n) is not int or type(frame_len) is not int or n < 1 or frame_len < 1:
            return MAX_FRAMES
        return min(MAX_FRAMES, declared_frames(n, frame_len))

    def _next_frame(self, failed: int, first: int, last: int) -> tuple[int, int, int] | None:
        """The first frame past offset ``failed`` (where frame ``first - 1`` failed) whose head numbers it ``first``
        .. ``last - 1`` and which :meth:`_frame_at` finds intact: its offset, number and length; None where none is.
        A head numbered ``k`` must lie at least ``12 (k - first + 1)`` bytes past ``failed``, a head's for each
        frame it steps over (which a file that lies about its numbers would have the walk hold in memory). The
        file is read a :data:`SCAN_BYTES` piece at a time, each searched at once for the heads' numbers (numpy),
        only those checked."""
        if first >= last:
            return None
        at = failed + 1
        while at + FRAME_HEAD.size <= self.size:
            piece = self._read_at(at, min(SCAN_BYTES, self.size - at))
            starts = len(piece) - FRAME_HEAD.size + 1  # the offsets in the piece where a head's 12 bytes fit
            if starts < 1:  # (a piece shorter than a head: SCAN_BYTES under 12)
                return None
            hits = []
            for align in range(4):  # the piece's words at each of the four alignments, as they lie (no copy)
                count = (starts - align + 3) // 4
                if count > 0:
                    words = np.frombuffer(piece, dtype="<u4", count=count, offset=align)
                    hits.append(align + 4 * np.flatnonzero((words >= first) & (words < last)))
            for offset in np.sort(np.concatenate(hits)) if hits else ():
                number = struct.unpack_from("<I", piece, int(offset))[0]
                if (number - first + 1) * FRAME_HEAD.size > at + int(offset) - failed:
                    continue
                length = self._frame_at(at + int(offset), number)
                if length is not None:
                    return at + int(offset), number, length
            at += starts
        return None

    def _frame_at(self, at: int, number: int) -> int | None:
        """The length (head and payload) of the frame at offset ``at`` where its head numbers it ``number``, its
        payload fits the bytes left (and the cap) and passes its checksum; else None."""
        if at + FRAME_HEAD.size > self.size:
            return None
        stored, payload_len, crc = FRAME_HEAD.unpack(self._read_at(at, FRAME_HEAD.size))
        length = FRAME_HEAD.size + payload_len
        if stored != number or payload_len > MAX_FRAME_BYTES or at + length > self.size or \
                _crc(self._read_at(at + FRAME_HEAD.size, payload_len)) != crc:
            return None
        return length

    @property
    def n_frames(self) -> int:
        return len(self.index)

    @property
    def payload_bytes(self) -> int:
        """The frames' payloads in bytes: the file less its header and framing."""
        framing = CRC.size if self.one_frame else FRAME_HEAD.size
        return sum(length - framing for _, length in self.index)

    def read_frame(self, number: int) -> bytes:
        """The CRC-checked payload of frame ``number``."""
        if not 0 <= number < len(self.index):
            raise SanFormatError(f"frame {number} does not exist ({len(self.index)} frames)")
        if number in self.lost:
            raise SanFormatError(f"frame {number} is damaged (its rows are lost)")
        offset, length = self.index[number]
        data = self._read_at(offset, length)
        if self.one_frame:
            payload, crc = data[: -CRC.size], CRC.unpack_from(data, length - CRC.size)[0]
        else:
            stored_number, payload_len, crc = FRAME_HEAD.unpack_from(data)
            if stored_number != number or payload_len != length - FRAME_HEAD.size:
                raise SanFormatError(f"frame {number}: header disagrees with the index")
            payload = data[FRAME_HEAD.size :]
        if _crc(payload) != crc:
            computed = _crc(payload)
            raise SanFormatError(f"frame {number}: checksum mismatch (stored {crc:#010x}, computed {computed:#010x})")
        with self._lock:
            self.frames_read += 1
        return payload
