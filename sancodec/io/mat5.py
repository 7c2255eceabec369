"""A reader of MATLAB level-5 MAT-files' numeric arrays that trusts nothing in the file: every element's tag, size,
dimensions and compressed stream checked against the bytes there are, the memory an array takes capped by what the
file can hold. scipy's ``loadmat``, which sancodec used first, is not hardened for untrusted input (its docstring
says so): damaged files crashed the interpreter (a segmentation fault, a bus error) where this refuses them.

MAT-file level 5 (MathWorks' "MAT-File Format"): a 128-byte header (text, subsystem offset, version 0x0100, the
byte order's ``IM``), then data elements, each a tag (type, size; a small element packs both and up to 4 bytes of
data into 8 bytes) and its data; a variable is an ``miMATRIX`` element (array flags, dimensions, name, real part,
imaginary part), or such an element zlib-compressed in an ``miCOMPRESSED`` one. Numbers are stored column-major,
in a type that may be narrower than the array's class (MATLAB stores a double array of small integers as bytes)."""

from __future__ import annotations

import math
import mmap
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sancodec.errors import SanFormatError

__all__ = ["CLASSES", "MAX_EXPANSION", "NUMERIC", "MatVariable", "mapped", "read_array", "variables"]

#: array classes: code -> name (MATLAB's ``class()``)
CLASSES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single", 8: "int8",
           9: "uint8", 10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64",
           16: "function", 17: "opaque"}
_CLASS_TYPES = {"double": "f8", "single": "f4", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2",
                "int32": "i4", "uint32": "u4", "int64": "i8", "uint64": "u8"}
NUMERIC = tuple(_CLASS_TYPES)  # the classes of real numbers: what read_array reads
_DATA_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
MI_MATRIX, MI_COMPRESSED = 14, 15
MAX_EXPANSION = 1100  # a variable's bytes at most this many times its file's (zlib, which compressed variables use,
# expands at most about 1032 times): a header that declares more is refused before anything is allocated
HEAD = 4096  # the bytes of a compressed variable inflated to read its flags, dimensions and name


class MatVariable(NamedTuple):
    """A variable of a MAT-file: its name, class, dimensions, whether complex, and where its element starts."""

    name: str
    kind: str
    dims: tuple[int, ...]
    complex: bool
    offset: int  # its element's tag, in the file
    compressed: bool


@contextmanager
def mapped(path: Path) -> Iterator[mmap.mmap | bytes]:
    """The file's bytes, mapped (a long recording is not read into memory to be found in it)."""
    with open(path, "rb") as f:
        if not f.seek(0, 2):
            yield b""
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            yield m


def _order(buf: mmap.mmap | bytes, label: object) -> str:
    """The byte order of a level-5 MAT-file (``<`` or ``>``), refusing other files, named."""
    if len(buf) < 128:
        raise SanFormatError(f"{label}: not a MATLAB file ({len(buf)} bytes, under the 128 of a MAT-file's header)")
    marks, version = bytes(buf[126:128]), bytes(buf[124:126])
    if marks not in (b"IM", b"MI"):
        raise SanFormatError(f"{label}: not a MATLAB 5 (or later) file; a level-4 file, if it is one, opens in MATLAB "
                             "and saves with save(..., '-v7')")
    order = "<" if marks == b"IM" else ">"
    number = struct.unpack(order + "H", version)[0]
    if number == 0x0200:
        raise SanFormatError(f"{label}: a MATLAB 7.3 file (HDF5), which sancodec does not read: save it again with "
                             "save(..., '-v7') in MATLAB, or its array as .npy")
    if number != 0x0100:
        raise SanFormatError(f"{label}: a MAT-file of version {number:#06x}, not level 5's 0x0100")
    return order


def _tag(buf: mmap.mmap | bytes, at: int, end: int, order: str, label: object) -> tuple[int, int, int, int]:
    """The element whose tag is at ``at`` (inside ``[at, end)``): its type, its data's size and start, and where the
    next element starts (sub-elements are padded to 8 bytes; a small element takes 8 in all)."""
    if at + 8 > end:
        raise SanFormatError(f"{label}: an element's tag runs past the end of its data (byte {at})")
    first = struct.unpack_from(order + "I", buf, at)[0]
    if first >> 16:  # a small data element: type and size in one word, its data in the next
        kind, size = first & 0xFFFF, first >> 16
        if size > 4:
            raise SanFormatError(f"{label}: a small element of {size} bytes (at most 4) at byte {at}")
        return kind, size, at + 4, at + 8
    kind, size = struct.unpack_from(order + "II", buf, at)
    start = at + 8
    if size > end - start:
        raise SanFormatError(f"{label}: an element of {size} bytes at byte {at} runs past the end of its data")
    return kind, size, start, start + size + (-size % 8)


def variables(buf: mmap.mmap | bytes, label: object) -> list[MatVariable]:
    """Every variable of the MAT-file ``buf``, read from its element headers (a compressed one's first
    :data:`HEAD` inflated bytes); elements of other kinds are passed over."""
    order = _order(buf, label)
    found, at = [], 128
    while at < len(buf):
        kind, size, start, _ = _tag(buf, at, len(buf), order, label)
        if kind == MI_MATRIX:
            found.append(_header(buf, at, start + size, order, label, at, False))
        elif kind == MI_COMPRESSED:
            try:
                head = zlib.decompressobj().decompress(bytes(buf[start:start + min(size, 1 << 16)]), HEAD)
            except zlib.error:
                raise SanFormatError(f"{label}: a compressed variable at byte {at} does not inflate") from None
            if len(head) >= 8:
                found.append(_header(head, 0, len(head), order, label, at, True))
        at = start + size  # (top-level elements: the next one right after, compressed ones unpadded)
    return found


def _header(buf: mmap.mmap | bytes, at: int, end: int, order: str, label: object, offset: int,
            compressed: bool) -> MatVariable:
    """The variable whose ``miMATRIX`` tag is at ``at`` of ``buf`` (ending by ``end``: a compressed one's head
    may end before its data does): flags, dimensions and name."""
    if compressed:  # (the inflated head: the element goes on past it)
        kind, size, start, _ = _head_tag(buf, order, label)
        stop = len(buf)
    else:
        kind, size, start, _ = _tag(buf, at, end, order, label)
        stop = start + size
    if kind != MI_MATRIX:
        return MatVariable("", "other", (), False, offset, compressed)
    flags_kind, flags_size, flags_at, at = _tag(buf, start, stop, order, label)
    if flags_kind != 6 or flags_size != 8:
        raise SanFormatError(f"{label}: a variable at byte {offset} whose array flags are not 8 bytes of uint32")
    flags = struct.unpack_from(order + "I", buf, flags_at)[0]
    klass = CLASSES.get(flags & 0xFF, "other")
    dims_kind, dims_size, dims_at, at = _tag(buf, at, stop, order, label)
    if dims_kind != 5 or dims_size % 4 or dims_size < 8:
        raise SanFormatError(f"{label}: a variable at byte {offset} whose dimensions are not two or more int32")
    dims = struct.unpack_from(f"{order}{dims_size // 4}i", buf, dims_at)
    if min(dims) < 0:
        raise SanFormatError(f"{label}: a variable at byte {offset} of negative dimensions {dims}")
    name_kind, name_size, name_at, at = _tag(buf, at, stop, order, label)
    if name_kind not in (1, 2, 16):
        raise SanFormatError(f"{label}: a variable at byte {offset} without a name")
    name = bytes(buf[name_at:name_at + name_size]).decode("ascii", errors="replace")
    return MatVariable(name, klass, tuple(dims), bool(flags & 0x800), offset, compressed)


def _head_tag(buf: mmap.mmap | bytes, order: str, label: object) -> tuple[int, int, int, int]:
    """A compressed variable's inflated ``miMATRIX`` tag (its size not checked against the inflated head, which
    holds only the first :data:`HEAD` bytes of it)."""
    if len(buf) < 8:
        raise SanFormatError(f"{label}: a compressed variable too short to hold one")
    kind, size = struct.unpack_from(order + "II", buf, 0)
    return kind, size, 8, 8 + size


def read_array(buf: mmap.mmap | bytes, var: MatVariable, label: object, max_values: int) -> np.ndarray:
    """``var``'s numbers as an array of its class, in its shape (column-major as stored); a SanFormatError where it
    declares more than ``max_values`` values or more bytes than the file can hold (:data:`MAX_EXPANSION` times its
    size), or where its element is not a real numeric array of ``prod(dims)`` values within its bytes."""
    dtype_code = _CLASS_TYPES.get(var.kind)
    if dtype_code is None or var.complex:
        raise SanFormatError(f"{label}: variable {var.name!r} is {'complex' if var.complex else var.kind}, not an "
                             "array of real numbers")
    order = _order(buf, label)
    count = math.prod(var.dims)
    want = count * np.dtype(dtype_code).itemsize
    if count > max_values or want > MAX_EXPANSION * len(buf):
        raise SanFormatError(f"{label}: variable {var.name!r} declares {'x'.join(map(str, var.dims))} values, more "
                             "than " + (f"the {max_values} sancodec reads from a MATLAB file" if count > max_values
                                        else f"a file of {len(buf)} bytes holds"))
    body: mmap.mmap | bytes = buf
    at = var.offset
    if var.compressed:
        _, size, start, _ = _tag(buf, var.offset, len(buf), order, label)
        body, at = _inflated(buf, start, size, want + 4096 + 8 * len(var.dims) + len(var.name), label, var.name), 0
    kind, size, start, _ = _tag(body, at, len(body), order, label)
    stop = start + size
    at = start
    for _ in range(3):  # flags, dimensions, name
        at = _tag(body, at, stop, order, label)[3]
    real_kind, real_size, real_at, _ = _tag(body, at, stop, order, label)
    stored = _DATA_TYPES.get(real_kind)
    if stored is None or real_size != count * np.dtype(stored).itemsize:
        raise SanFormatError(f"{label}: variable {var.name!r} holds {real_size} bytes of data type {real_kind}, not "
                             f"its {count} values")
    values = np.frombuffer(body, dtype=np.dtype(order + stored), count=count, offset=real_at)
    return values.astype(np.dtype(dtype_code)).reshape(var.dims, order="F")


def _inflated(buf: mmap.mmap | bytes, start: int, size: int, cap: int, label: object, name: str) -> bytes:
    """A compressed element's inflated bytes, refused where they would pass ``cap`` (what its variable declares, and
    its headers) or do not inflate."""
    inflate = zlib.decompressobj()
    out = bytearray()
    try:
        for at in range(start, start + size, 1 << 20):
            out += inflate.decompress(bytes(buf[at:min(at + (1 << 20), start + size)]), cap + 1 - len(out))
            if len(out) > cap or inflate.unconsumed_tail:
                raise SanFormatError(f"{label}: variable {name!r} inflates to more than it declares")
    except zlib.error:
        raise SanFormatError(f"{label}: variable {name!r} does not inflate") from None
    return bytes(out)
