"""The codec's per-sample loops, compiled where a C compiler was found at install time, numpy otherwise.

Every function here has a numpy reference (here, ``_np_*``, or the caller's, where it returns None without the C
kernels) and, when the optional extension ``sancodec.codec._kernels`` built, a C twin called through ctypes (which
releases the GIL, so frames code in parallel threads); :func:`medians` counts in C where it can and leaves the rest
to numpy's own selection. Both give identical results: the C code does the numpy reference's integer or IEEE
operations in its order (the one float rule of the envelope class reaches it as a table that numpy computed).
``SANCODEC_KERNELS=numpy`` forces the reference path (tests compare the two).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from sancodec.errors import SanFormatError

__all__ = ["BLOCK", "COMPILED", "DIRECT", "NUM_CLASSES", "NUM_TOKENS", "autocorrelation", "band_histograms",
           "best_shift", "bit_length_histogram", "cdf97_forward", "cdf97_inverse", "classes", "dead_zone_quantise",
           "decode_block", "difference_envelope", "encode_block", "greedy_peaks", "levinson", "lpc_residual",
           "lpc_synthesize", "ltp_fit", "mains_prediction", "mains_sums", "medians", "pack_bits", "poly_histograms",
           "quantised_histograms", "running_choose_encode", "template_prediction", "template_side", "tokenize",
           "unpack", "wavelet_requantised", "wavelet_samples", "wavelet_synthesis"]

DIRECT = 16
NUM_TOKENS = 76  # 16 direct tokens + bit lengths 5..64
BLOCK = 16
NUM_CLASSES = 16


class _Array:
    """A ctypes argument type for a C-contiguous numpy array of one dtype, passed as its data pointer: the checks
    of ``np.ctypeslib.ndpointer(dtype, flags="C_CONTIGUOUS")`` (an ndarray, that dtype, contiguous; anything else
    refused with a TypeError), the pointer taken from the array's buffer (a ctypes object over it, which keeps it
    alive) rather than through ``ndarray.ctypes``, which costs several times as much (a short record's encode makes
    thousands of these calls); a read-only or empty array, which ctypes cannot take a writable buffer of, through
    ``ndarray.ctypes``."""

    def __init__(self, dtype: type) -> None:
        self.dtype = np.dtype(dtype)

    def from_param(self, obj: object) -> object:
        # the common case first, in as few operations as it takes (thousands of calls an encode): a plain ndarray
        # of this very dtype object, whose buffer ctypes takes only where it is C-contiguous and writeable
        if type(obj) is np.ndarray and obj.dtype is self.dtype:
            try:
                return _BYREF(_FROM_BUFFER(obj))  # type: ignore[arg-type]
            except (TypeError, ValueError):  # strided, read-only, or no byte to point at: checked below
                pass
        if not isinstance(obj, np.ndarray) or obj.dtype != self.dtype or not obj.flags.c_contiguous:
            raise TypeError(f"expected a C-contiguous {self.dtype.name} array, got {type(obj).__name__}"
                            f"{'' if not isinstance(obj, np.ndarray) else ' of ' + obj.dtype.name}")
        try:
            return _BYREF(_FROM_BUFFER(obj))  # type: ignore[arg-type]
        except (TypeError, ValueError):  # read-only, or no byte to point at
            return ctypes.c_void_p(obj.ctypes.data)


_BYREF = ctypes.byref
_FROM_BUFFER = ctypes.c_char.from_buffer


_I64 = _Array(np.int64)
_U64 = _Array(np.uint64)
_I32 = _Array(np.int32)
_I8 = _Array(np.int8)
_U8 = _Array(np.uint8)
_N = ctypes.c_int64
_U32 = _Array(np.uint32)
_F64 = _Array(np.float64)
_F32 = _Array(np.float32)
_STATE = _Array(np.uint64)
_SEGMENTS = [_I32, _I64, _I32, _N, _U32, _I32, _N]
_SIGNATURES = {
    "san_tokenize": (None, [_I64, _N, _I32, _U64]),
    "san_raw_bits": (_N, [_I32, _N]),
    "san_pack_bits": (_N, [_U64, _I32, _N, _U8]),
    "san_unpack": (ctypes.c_int, [_I32, _N, ctypes.c_char_p, _N, _I64]),
    "san_classes": (None, [_I32, _N, _I8, _N, _I32]),
    "san_bit_length_histogram": (None, [_I64, _N, _I64]),
    "san_band_histograms": (None, [_I64, _I64, _N, _I64]),
    "san_difference_histogram": (None, [_I64, _N, _I64]),
    "san_rank_difference_histogram": (None, [_I64, _N, _N, _N, _I64, _I64]),
    "san_poly_histograms": (None, [_I64, _N, _I64]),
    "san_autocorrelation": (None, [_F64, _N, ctypes.c_int, _F64]),
    "san_levinson": (None, [_F64, ctypes.c_int, _F64, _F64]),
    "san_lpc_residual": (None, [_I64, _N, _I64, ctypes.c_int, ctypes.c_int, _N, _N, _I64]),
    "san_lpc_synthesize": (ctypes.c_int, [_I64, _N, _I64, ctypes.c_int, ctypes.c_int, _N, _N, _N, _I64]),
    "san_lms_forward": (ctypes.c_int, [_I64, _N, ctypes.c_int, _I64]),
    "san_lms_inverse": (ctypes.c_int, [_I64, _N, ctypes.c_int, _N, _I64]),
    "san_ltp_inverse": (ctypes.c_int, [_I64, _N, _I64, _I64, _I64, _N, _N, _N, _N, _I64]),
    "san_ltp_fit": (None, [_I64, _I64, _I64, _N, _N, _N, _I64, _N, ctypes.c_double, _F64, _I64, _I64]),
    "san_residual_decode": (ctypes.c_int, [ctypes.c_char_p, _N, _N, ctypes.c_int, ctypes.c_int, _I64, _I64, _I64, _N,
                                           _N, _N, ctypes.c_int, _I32, _I32, _N, _I64]),
    "san_cascade_forward": (ctypes.c_int, [_I64, _N, _I32, _I32, ctypes.c_int, _I64]),
    "san_cascade_inverse": (ctypes.c_int, [_I64, _N, _I32, _I32, ctypes.c_int, _N, _I64]),
    "san_rc_init": (None, [_STATE, _N]),
    "san_rc_encode": (ctypes.c_int, [_STATE, _U32, *_SEGMENTS]),
    "san_rc_finish": (_N, [_STATE, _U32]),
    "san_rd_init": (None, [_STATE, _U8, _N]),
    "san_rd_decode": (ctypes.c_int, [_STATE, _U8, *_SEGMENTS]),
    "san_block_decode": (ctypes.c_int, [ctypes.c_char_p, _N, _N, ctypes.c_int, _I64]),
    "san_arrays_decode": (ctypes.c_int, [ctypes.c_char_p, _N, _I64, _I32, _N, _I64]),
    "san_arrays_encode": (_N, [_I64, _I64, _I32, _N, _I8, _N, _U8, _N]),
    "san_arrays_sizes": (ctypes.c_int, [_I64, _I64, _N, _I8, _N, _I64]),
    "san_template_side": (_N, [_I64, _N, _N, _I64, _N, _I64, _N, _I8, _N, _U8, _N, _I32]),
    "san_running_encode": (_N, [_I64, _N, ctypes.c_int, _U8, _N]),
    "san_running_choose_encode": (_N, [_I64, _N, _I32, ctypes.c_int, ctypes.c_int, _U8, _N, _I64]),
    "san_running_counts": (None, [_I32, _N, _I32, ctypes.c_int, _I64]),
    "san_adaptive_bands_encode": (_N, [_I64, _I64, _N, _N, ctypes.c_int, _U8, _N, _I64]),
    "san_adaptive_bands_decode": (ctypes.c_int, [ctypes.c_char_p, _N, _I64, _N, ctypes.c_int, _I64]),
    "san_running_costs": (None, [_I64, ctypes.c_int, _F64]),
    "san_cdf97_forward": (None, [_F64, _N, ctypes.c_int, _F64, _F64]),
    "san_prepared_forward": (ctypes.c_int, [_I64, _F64, ctypes.c_int, _N, ctypes.c_int, _F64, _F64, _I64]),
    "san_cdf97_inverse": (None, [_F64, _N, ctypes.c_int, _F64]),
    "san_template_prediction": (None, [_I64, _N, _N, _I64, _I64, _N, _N, _F64]),
    "san_mains_prediction": (None, [_F64, _F64, ctypes.c_uint64, _N, _I64, _I64, _N, ctypes.c_int, _F64]),
    "san_mains_sums": (None, [_F64, _F64, ctypes.c_uint64, ctypes.c_uint64, _F64, _N, _N, _F64, _F64]),
    "san_greedy_peaks": (_N, [_F64, _N, _N, _I64]),
    "san_greedy_peaks_f32": (_N, [_F32, _N, _N, _I64]),
    "san_difference_envelope": (None, [_F64, _N, _N, _F64, _F64]),
    "san_lagged_products": (None, [_F64, _N, _N, _N, _F64]),
    "san_counted_medians": (None, [_F64, _N, _N, _N, _I32, _F64, _U8]),
    "san_trimmed_means": (None, [_F64, _N, _N, _N, _N, _I32, _I64, _F64, _U8]),
    "san_trimmed_column_means": (None, [ctypes.c_void_p, _N, _N, _N, _N, _N, _I32, _I64, _F64, _F64, _U8]),
    "san_dq_quantise": (None, [_F64, _N, ctypes.c_double, _F64, _N, _I64, _U8, _U8]),
    "san_dq_levels": (None, [_I64, _N, _I64]),
    "san_best_shift": (None, [_F64, _N, _N, _F64, _N, ctypes.c_double, _I64, _N, _N, _N, _N, _F64, _F64, _I64]),
    "san_dead_zone_quantise": (None, [_F64, _N, ctypes.c_double, ctypes.c_double, _I64]),
    "san_quantised_histograms": (None, [_F64, _I64, _N, ctypes.c_double, ctypes.c_double, _I64]),
    "san_wavelet_requantised": (None, [_F64, _N, ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                       ctypes.c_double, _F64, ctypes.c_int, _F64, _F64]),
    "san_wavelet_requantised_error": (ctypes.c_double, [_F64, _N, ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                                        ctypes.c_double, _F64, ctypes.c_int, _F64, _F64, _F64]),
    "san_requantised_range": (ctypes.c_int, [_F64, _N, _N, ctypes.c_double, ctypes.c_double, _F64, _F64]),
    "san_last_level_error": (None, [_F64, _N, _N, _N, _N, ctypes.c_double, _F64, ctypes.c_int, _F64, _F64, _F64]),
    "san_wavelet_synthesis": (None, [_I64, _N, ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_double,
                                     _F64, ctypes.c_int, _F64, _F64]),
    "san_wavelet_samples": (ctypes.c_int, [_I64, _N, ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_double,
                                           _F64, ctypes.c_int, _F64, _F64, _I64]),
}


def _numpy_asked() -> bool:
    """Whether ``SANCODEC_KERNELS=numpy`` asks for the numpy reference kernels."""
    return os.environ.get("SANCODEC_KERNELS", "").lower() == "numpy"


def _load() -> ctypes.CDLL | None:
    """The compiled library, or None (not built, or ``SANCODEC_KERNELS=numpy``); ``SANCODEC_KERNELS_LIB``
    names another build of the same sources to load instead (``make asan``: one with AddressSanitizer)."""
    if _numpy_asked():
        return None
    origin = os.environ.get("SANCODEC_KERNELS_LIB")
    if not origin:
        try:
            spec = importlib.util.find_spec("sancodec.codec._kernels")
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.origin:
            return None
        origin = spec.origin
    try:
        lib = ctypes.CDLL(origin)
    except OSError:
        return None
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


_LIB: Any = _load()  # (Any: its functions are looked up by name; every caller checks COMPILED or _LIB first)
COMPILED = _LIB is not None  # whether the C kernels are in use


def status() -> str:
    """One line on which kernels run here, and from where: the compiled library's path, or why the numpy reference
    kernels run (asked for, or not built: no C compiler when sancodec was installed, or a build that failed, which
    the install's ``optional`` extension lets pass with a warning in its log). The same bytes either way."""
    if _LIB is not None:
        return f"compiled kernels: {_LIB._name}"
    if _numpy_asked():
        return "compiled kernels: off (SANCODEC_KERNELS=numpy); the numpy reference kernels run: the same bytes, slower"
    if os.environ.get("SANCODEC_KERNELS_LIB"):
        return (f"compiled kernels: SANCODEC_KERNELS_LIB={os.environ['SANCODEC_KERNELS_LIB']} could not be loaded; "
                "the numpy reference kernels run: the same bytes, slower")
    return ("compiled kernels: not built (no C compiler at install time, or its build failed); the numpy reference "
            "kernels run: the same bytes, far slower. Reinstall with a C compiler on the PATH to build them")


def unasked_slowness() -> str | None:
    """:func:`status` where the numpy reference kernels run without being asked for (``SANCODEC_KERNELS=numpy``
    asks): ``sancodec encode`` of the bundled record at ``--mode lossy --prdn 2`` said 37 s so, not 0.4 s (Python
    3.13, this VM). None where the compiled kernels run or numpy's were asked for. The command line says it as a
    warning before each command's work."""
    if _LIB is not None or _numpy_asked():
        return None
    return status()


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


# ------------------------------------------------------------------ tokens
def _np_bit_length(v: np.ndarray) -> np.ndarray:
    t = v.astype(np.uint64)
    bl = np.zeros(t.shape, dtype=np.int64)
    for shift in (32, 16, 8, 4, 2, 1):
        big = t >= np.uint64(1 << shift)
        bl += np.where(big, shift, 0)
        t = np.where(big, t >> np.uint64(shift), t)
    return bl + (t > 0)


def _np_tokenize(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = e.astype(np.int64)
    v = np.where(e >= 0, 2 * e.astype(np.uint64), (-2 * e - 1).astype(np.uint64)).astype(np.uint64)
    tok = np.where(v < DIRECT, v.astype(np.int64), _np_bit_length(v) + 11)
    return tok.astype(np.int32), v


def tokenize(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zig-zag values ``v`` of the signed integers ``e`` and their tokens (``v`` below 16, else
    ``11 + bit_length(v)``); the raw bits are ``v``'s ``bit_length - 1`` low bits."""
    if _LIB is None:
        return _np_tokenize(e)
    e = _i64(e)
    tok = np.empty(len(e), dtype=np.int32)
    val = np.empty(len(e), dtype=np.uint64)
    _LIB.san_tokenize(e, len(e), tok, val)
    return tok, val


def token_widths(tok: np.ndarray) -> np.ndarray:
    """Raw bits that follow each token."""
    return np.where(tok < DIRECT, 0, tok.astype(np.int64) - 12)


def _np_pack_bits(val: np.ndarray, tok: np.ndarray, skip: int = 0) -> bytes:
    """``pack_bits`` in numpy; ``skip``: the top mantissa bits left out (running contexts' MSB mode)."""
    widths = np.maximum(token_widths(tok) - skip, 0)
    keep = widths > 0
    values, widths = val[keep], widths[keep]
    total = int(widths.sum())
    if total == 0:
        return b""
    starts = np.cumsum(widths) - widths
    owner = np.repeat(np.arange(len(widths)), widths)
    shift = (widths[owner] - 1 - (np.arange(total) - starts[owner])).astype(np.uint64)
    bits = ((values[owner] >> shift) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bits).tobytes()


def pack_bits(val: np.ndarray, tok: np.ndarray) -> bytes:
    """The raw low bits of every value, MSB first, zero-padded to whole bytes."""
    if _LIB is None:
        return _np_pack_bits(val, tok)
    val, tok = np.ascontiguousarray(val, dtype=np.uint64), np.ascontiguousarray(tok, dtype=np.int32)
    out = np.empty(-(-int(_LIB.san_raw_bits(tok, len(tok))) // 8), dtype=np.uint8)
    written = _LIB.san_pack_bits(val, tok, len(tok), out)
    return out[:written].tobytes()


def _np_unpack(tok: np.ndarray, data: bytes, hi: np.ndarray | None = None, skip: int = 0) -> np.ndarray:
    """``unpack`` in numpy; with ``skip``, the top ``skip`` bits of each mantissa (fewer for a shorter
    one) come from ``hi`` instead of the raw bits (running contexts' MSB mode)."""
    if tok.size and (tok.min() < 0 or tok.max() >= NUM_TOKENS):
        raise SanFormatError("entropy-coded block: token out of range")
    full = token_widths(tok)
    widths = np.maximum(full - skip, 0)
    low = np.zeros(len(widths), dtype=np.uint64)
    keep = np.flatnonzero(widths > 0)
    w = widths[keep]
    total = int(w.sum())
    if total:
        if len(data) * 8 < total:
            raise SanFormatError(f"raw bits: need {total} bits, have {len(data) * 8}")
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:total].astype(np.uint64)
        starts = np.cumsum(w) - w
        owner = np.repeat(np.arange(len(w)), w)
        shift = (w[owner] - 1 - (np.arange(total) - starts[owner])).astype(np.uint64)
        low[keep] = np.add.reduceat(bits << shift, starts)
    small = tok < DIRECT
    top = np.uint64(1) << np.maximum(full, 0).astype(np.uint64)
    if hi is not None:
        low = low + (hi.astype(np.uint64) << widths.astype(np.uint64))
    v = np.where(small, tok.astype(np.uint64), top + low)
    half = (v >> np.uint64(1)).astype(np.int64)
    return np.where((v & np.uint64(1)) == 0, half, -half - 1)


def unpack(tok: np.ndarray, data: bytes) -> np.ndarray:
    """Inverse of :func:`tokenize` + :func:`pack_bits`: the signed values (int64)."""
    if _LIB is None:
        return _np_unpack(tok, data)
    tok = np.ascontiguousarray(tok, dtype=np.int32)
    out = np.empty(len(tok), dtype=np.int64)
    status = _LIB.san_unpack(tok, len(tok), bytes(data), len(data), out)
    if status == -1:
        raise SanFormatError("entropy-coded block: token out of range")
    if status == -2:
        raise SanFormatError(f"raw bits: need {int(token_widths(tok).sum())} bits, have {len(data) * 8}")
    return out


# ----------------------------------------------------------------- classes
def _np_classes(tok: np.ndarray) -> np.ndarray:
    n = len(tok)
    blocks = -(-n // BLOCK)
    padded = np.zeros(blocks * BLOCK, dtype=np.float64)
    padded[:n] = tok
    sums = padded.reshape(blocks, BLOCK).sum(axis=1)
    sizes = np.full(blocks, BLOCK, dtype=np.float64)
    sizes[-1] = n - (blocks - 1) * BLOCK
    return np.minimum(NUM_CLASSES - 1, np.rint(2 * np.log2(1 + sums / sizes))).astype(np.int32)


@lru_cache(maxsize=1)
def class_table() -> np.ndarray:
    """``table[size, sum]``: the class numpy's rule gives a block of ``size`` tokens summing to ``sum``."""
    row = (NUM_TOKENS - 1) * BLOCK + 1
    sums = np.arange(row, dtype=np.float64)
    table = np.zeros((BLOCK + 1, row), dtype=np.int8)
    for size in range(1, BLOCK + 1):
        table[size] = np.minimum(NUM_CLASSES - 1, np.rint(2 * np.log2(1 + sums / size)))
    return table


def classes(tok: np.ndarray) -> np.ndarray:
    """Envelope class of each block of ``BLOCK`` tokens: ``min(15, rint(2 log2(1 + mean token)))``."""
    if _LIB is None:
        return _np_classes(tok)
    tok = np.ascontiguousarray(tok, dtype=np.int32)
    table = class_table()
    out = np.empty(-(-len(tok) // BLOCK), dtype=np.int32)
    _LIB.san_classes(tok, len(tok), table, table.shape[1], out)
    return out


# --------------------------------------------------------------- estimates
def bit_length_histogram(e: np.ndarray) -> np.ndarray:
    """How many of ``|e|`` have each bit length (index = ``frexp`` exponent of the float64 value)."""
    if _LIB is None:
        bl = np.frexp(np.abs(e).astype(np.float64))[1]
        return np.bincount(bl, minlength=66).astype(np.int64)
    hist = np.zeros(66, dtype=np.int64)
    _LIB.san_bit_length_histogram(_i64(e), len(e), hist)
    return hist


def difference_histogram(x: np.ndarray) -> np.ndarray | None:
    """:func:`bit_length_histogram` of ``np.diff(x)`` of an integer ``x`` in one compiled pass without the
    differences (None without the C kernels, or for values that are not integers)."""
    if _LIB is None or x.dtype.kind not in "iu":
        return None
    hist = np.zeros(66, dtype=np.int64)
    _LIB.san_difference_histogram(_i64(x), len(x), hist)
    return hist


def rank_difference_histogram(x: np.ndarray, max_span: int) -> np.ndarray | None:
    """:func:`bit_length_histogram` of the differences of the ranks of an integer ``x``'s values among its distinct
    values (``timedomain._rank_differences``), in one compiled call from a table of the values' ranks, one slot per
    value from the least to the largest; None without the C kernels, for no values or values that are not
    integers, or where they spread over ``max_span`` or more (the table's size: the caller sorts instead)."""
    if _LIB is None or not len(x) or x.dtype.kind not in "iu":
        return None
    x = _i64(x)
    lowest, highest = int(x.min()), int(x.max())
    if highest - lowest >= max_span:
        return None
    hist = np.zeros(66, dtype=np.int64)
    ranks = np.empty(highest - lowest + 1, dtype=np.int64)
    _LIB.san_rank_difference_histogram(x, len(x), lowest, highest - lowest, ranks, hist)
    return hist


def _band_sizes(lengths: Sequence[int], n: int) -> np.ndarray:
    """``lengths`` as int64, refused unless they are runs of ``n`` values end to end (none negative)."""
    sizes = np.asarray(lengths, dtype=np.int64)
    if int(sizes.sum()) != n or (sizes < 0).any():
        raise ValueError("band lengths do not add up to the values")
    return sizes


def band_histograms(e: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """:func:`bit_length_histogram` of each of the consecutive runs of ``e`` of ``lengths`` (which add up to
    ``len(e)``: a wavelet coding's bands, concatenated), one row each, in one compiled call where built."""
    sizes = _band_sizes(lengths, len(e))
    if _LIB is None:
        return np.array([bit_length_histogram(b) for b in _split(e, sizes)], dtype=np.int64).reshape(len(sizes), 66)
    hist = np.empty((len(sizes), 66), dtype=np.int64)
    _LIB.san_band_histograms(_i64(e), sizes, len(sizes), hist)
    return hist


def quantised_histograms(bands: np.ndarray, lengths: Sequence[int], delta: float, rounding: float) -> np.ndarray | None:
    """:func:`band_histograms` of ``bands`` quantised as :func:`dead_zone_quantise` quantises them, in one compiled
    pass that never holds the quantised values (a lossy estimate's quantise-then-count, its most frequent call);
    None without the C kernels. ``bands``: float64, finite, within int64 after quantisation."""
    if _LIB is None:
        return None
    sizes = _band_sizes(lengths, len(bands))
    hist = np.empty((len(sizes), 66), dtype=np.int64)
    _LIB.san_quantised_histograms(np.ascontiguousarray(bands, dtype=np.float64), sizes, len(sizes), delta, rounding,
                                  hist)
    return hist


def poly_histograms(u: np.ndarray) -> np.ndarray | None:
    """``(4, 66)``: :func:`bit_length_histogram` of the polynomial residuals of orders 0-3 of ``u``
    (compiled, one pass); None without the C kernels."""
    if _LIB is None:
        return None
    hist = np.zeros(4 * 66, dtype=np.int64)
    _LIB.san_poly_histograms(_i64(u), len(u), hist)
    return hist.reshape(4, 66)


# --------------------------------------------------------------------- LPC
def autocorrelation(y: np.ndarray, order: int) -> np.ndarray:
    """``r[k] = sum_t y[t] y[t+k]`` for k = 0..order, each sum taken strictly in sample order, so
    the C loop and numpy's sequential ``cumsum`` give the same bits (the extension is built with
    floating-point contraction off: no fused multiply-adds)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    if _LIB is None:
        n = len(y)
        return np.array([np.cumsum(y[: n - k] * y[k:])[-1] if k < n else 0.0 for k in range(order + 1)])
    r = np.zeros(order + 1, dtype=np.float64)
    _LIB.san_autocorrelation(y, len(y), order, r)
    return r



def levinson(r: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Levinson-Durbin over ``r[0..order]`` in one compiled call (``lpc.levinson``'s numpy reference, the same bits):
    the predictors of every order 1..``order`` as the rows of a square array (row ``p - 1``: order ``p``, zeros past
    it) and their error powers; None without the C kernels or past the kernel's 64 orders."""
    if _LIB is None or not 0 < order <= 64 or len(r) < order + 1:
        return None
    coefs = np.empty((order, order), dtype=np.float64)
    errors = np.empty(order, dtype=np.float64)
    _LIB.san_levinson(np.ascontiguousarray(r, dtype=np.float64), order, coefs, errors)
    return coefs, errors


def lpc_residual(u: np.ndarray, coefs: tuple[int, ...], shift: int, bias: int, segment: int) -> np.ndarray | None:
    """The compiled LPC residual, or None when only numpy is available (lpc.residual has it)."""
    if _LIB is None:
        return None
    u = _i64(u)
    out = np.empty(len(u), dtype=np.int64)
    _LIB.san_lpc_residual(u, len(u), np.asarray(coefs, dtype=np.int64), len(coefs), shift, bias, segment, out)
    return out


def lpc_synthesize(e: np.ndarray, coefs: tuple[int, ...], shift: int, bias: int, segment: int,
                   limit: int) -> np.ndarray:
    """Compiled inverse of :func:`lpc_residual` for one job (callers check :data:`COMPILED`)."""
    assert _LIB is not None
    e = _i64(e)
    out = np.empty(len(e), dtype=np.int64)
    status = _LIB.san_lpc_synthesize(e, len(e), np.asarray(coefs, dtype=np.int64), len(coefs), shift, bias,
                                     segment, limit, out)
    if status:
        raise SanFormatError("LPC: the synthesis leaves the range where its integers are exact (hostile filter)")
    return out


def ltp_fit(o: np.ndarray, cur: np.ndarray, prev: np.ndarray, before: int, width: int, shifts: Sequence[int],
            max_gain: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``longterm._fit``'s shift and gain of each beat whose window starts ``before`` samples ahead of ``cur`` (its
    reference's ahead of ``prev``, moved by each of ``shifts``), ``width`` samples of the int64 ``o``, bit for bit in
    one compiled pass (numpy's pairwise sums, in its order); None without the C kernels. The windows must lie inside
    ``o`` (the caller's test): checked here, as a ValueError."""
    if _LIB is None:
        return None
    o = _i64(o)
    cur, prev = _i64(cur), _i64(prev)
    steps = np.asarray(shifts, dtype=np.int64)
    if len(cur) != len(prev) or width < 1 or not len(steps):
        raise ValueError("ltp_fit: beats, references or shifts do not match")
    if len(cur) and (int(cur.min()) - before < 0 or int(cur.max()) - before + width > len(o)
                     or int(prev.min()) - before + int(steps.min()) < 0
                     or int(prev.max()) - before + int(steps.max()) + width > len(o)):
        raise ValueError("ltp_fit: a window leaves the block")
    shift, gain = np.zeros(len(cur), dtype=np.int64), np.zeros(len(cur), dtype=np.int64)
    _LIB.san_ltp_fit(o, cur, prev, len(cur), before, width, steps, len(steps), float(max_gain), np.empty(3 * width),
                     shift, gain)
    return shift, gain


# ------------------------------------------------------------ CDF 9/7 wavelet
SCRATCH_KEPT = 1 << 22  # values of float64 scratch each thread keeps for the lifting (32 MB: a lossy block)
_scratch = threading.local()


def scratch(n: int) -> np.ndarray:
    """``n`` float64 values of this thread's scratch for the lifting, kept from call to call (up to
    :data:`SCRATCH_KEPT` values): a scratch as long as a channel allocated and freed on every call made glibc
    hand its pages back to the system and fault them in again, which doubled the time of a long channel's
    wavelet transform."""
    kept = getattr(_scratch, "values", None)
    if kept is not None and len(kept) >= n:
        return kept[:n]
    fresh = np.empty(n)
    if n <= SCRATCH_KEPT:
        _scratch.values = fresh
    return fresh


def release_scratch() -> None:
    """Drop this thread's lifting scratch: ``jobs``' helper threads live on between decodes, and each keeping a
    channel's worth (up to 32 MB) would hold that much memory per core for nothing."""
    _scratch.__dict__.clear()


def _check_levels(n: int, levels: int) -> None:
    """The C lifting's precondition (``wavelet.levels_for``): at most 12 levels, each level's input at least
    4 values; anything else would read outside its arrays."""
    if not 0 <= levels <= 12:
        raise ValueError(f"{levels} wavelet levels (0..12)")
    for _ in range(levels):
        if n < 4:
            raise ValueError(f"{levels} wavelet levels for too few values")
        n = (n + 1) // 2


def cdf97_forward(x: np.ndarray, levels: int) -> np.ndarray | None:
    """``wavelet.forward`` in one compiled call, its bands concatenated coarsest first (the same bits;
    None without the C kernels). ``levels`` as ``wavelet.levels_for`` allows."""
    if _LIB is None:
        return None
    x = np.ascontiguousarray(x, dtype=np.float64)
    _check_levels(len(x), levels)
    bands = np.empty(len(x))
    _LIB.san_cdf97_forward(x, len(x), levels, bands, scratch(len(x)))
    return bands


def prepared_forward(frame: np.ndarray, prediction: np.ndarray | None, levels: int) -> tuple[int, np.ndarray] | None:
    """``lossyrate.Prepared``'s offset and bands of an int64 ``frame`` less its ``prediction`` (None: none) in one
    compiled call: the offset ``int(np.rint(r.mean()))`` of the residual ``r`` and ``wavelet.forward_flat(r - offset,
    levels)``, the same bits. None without the C kernels, or where the kernel cannot be sure of numpy's rounding of
    the mean (it lies within a hair of a half-integer): the caller's numpy route decides then."""
    if _LIB is None:
        return None
    if frame.dtype != np.int64:
        raise ValueError(f"expected an int64 frame, got {frame.dtype.name}")
    frame = np.ascontiguousarray(frame)
    _check_levels(len(frame), levels)
    given = prediction is not None
    bands = np.empty(len(frame))
    pred = np.ascontiguousarray(prediction, dtype=np.float64) if given else bands
    if len(pred) != len(frame):
        raise ValueError("the prediction's length is not the frame's")
    offset = np.zeros(1, dtype=np.int64)
    if _LIB.san_prepared_forward(frame, pred, int(given), len(frame), levels, bands, scratch(len(frame)), offset):
        return None
    return int(offset[0]), bands


def cdf97_inverse(bands: np.ndarray, levels: int) -> np.ndarray | None:
    """``wavelet.inverse`` of bands concatenated coarsest first, in one compiled call (the same bits;
    None without the C kernels). Works in place on ``bands`` (float64, contiguous)."""
    if _LIB is None:
        return None
    _check_levels(len(bands), levels)
    _LIB.san_cdf97_inverse(bands, len(bands), levels, scratch(len(bands)))
    return bands


def template_prediction(t8: np.ndarray, anchor: int, positions: np.ndarray, g64: np.ndarray,
                        length: int) -> np.ndarray | None:
    """``BeatTemplate.prediction``, its integer sum ``acc`` over 512 as float64, in one compiled call (None without
    the C kernels); the template as ``beats.read_template`` accepts it (increasing positions, products within
    2**53)."""
    if _LIB is None:
        return None
    out = np.empty(length)
    _LIB.san_template_prediction(_i64(t8), len(t8), anchor, _i64(positions), _i64(g64), len(positions), length, out)
    return out


def mains_prediction(sine: np.ndarray, cosine: np.ndarray, step: int, block: int, a: np.ndarray, b: np.ndarray,
                     length: int, add_to: np.ndarray | None = None) -> np.ndarray | None:
    """``mains.Mains.prediction`` in one compiled pass (None without the C kernels): ``sine`` and ``cosine`` the
    1024-value tables as float64, ``a`` and ``b`` one amplitude per block of ``block`` samples, within what
    ``mains.read_mains`` accepts (the products stay exact in float64); with ``add_to`` (float64, ``length``
    values), the hum added to it in place, element by element as ``add_to + hum`` adds, and it returned."""
    if _LIB is None:
        return None
    a, b = _i64(a), _i64(b)
    sine, cosine = _mains_tables(sine, cosine, step, block, "mains prediction")
    if min(len(a), len(b)) < -(-length // block):
        raise ValueError("mains prediction: fewer amplitudes than blocks")
    out = _destination(add_to, length, "mains prediction's add_to", np.float64)
    _LIB.san_mains_prediction(sine, cosine, step, block, a, b, length, int(add_to is not None), out)
    return out


def mains_sums(sine: np.ndarray, cosine: np.ndarray, step: int, r: np.ndarray,
               size: int, first: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """``mains.fit_mains``'s normal equations in one compiled pass (None without the C kernels): per block of
    ``size`` samples of ``r``, the 4 x 4 sums of products of its design rows (the tables' cosine and sine at the
    phase of ``step`` over 2^14, 1, the time from the block's middle) and their 4 sums of products with ``r``.
    ``first``: the index in its frame of ``r``'s first sample (a block's first: a frame's blocks summed in parts give
    each block's sums as the whole frame's pass does)."""
    if _LIB is None:
        return None
    sine, cosine = _mains_tables(sine, cosine, step, size, "mains sums")
    if first < 0:
        raise ValueError("mains sums: a negative first sample")
    r = np.ascontiguousarray(r, dtype=np.float64)
    count = -(-len(r) // size)
    gram, rhs = np.empty((count, 4, 4)), np.empty((count, 4))
    _LIB.san_mains_sums(sine, cosine, step, (first * step) % (1 << 32), r, len(r), size, gram, rhs)
    return gram, rhs


def _mains_tables(sine: np.ndarray, cosine: np.ndarray, step: int, block: int,
                  what: str) -> tuple[np.ndarray, np.ndarray]:
    """The hum kernels' sine and cosine tables as contiguous float64, refused (``ValueError``) unless each holds
    1024 values, ``step`` is a 32-bit phase step and ``block`` is at least 1."""
    sine, cosine = (np.ascontiguousarray(v, dtype=np.float64) for v in (sine, cosine))
    if len(sine) != 1024 or len(cosine) != 1024 or not 0 <= step < 1 << 32 or block < 1:
        raise ValueError(f"{what}: tables, step or block out of shape")
    return sine, cosine


def greedy_peaks(s: np.ndarray, d: int) -> np.ndarray | None:
    """The positions ``sparse.peaks`` keeps on the one row ``s`` with minimum distance ``d``, increasing, in
    one compiled pass (None without the C kernels: the caller runs ``sparse.peaks``, the reference); a float32 row
    is read as float32 (its values compare as their float64 conversions do)."""
    if _LIB is None:
        return None
    out = np.empty(len(s), dtype=np.int64)
    if s.dtype == np.float32:  # beats.kept_above's envelope, read as it is: no float64 copy of a long record's
        kept = _LIB.san_greedy_peaks_f32(np.ascontiguousarray(s), len(s), d, out)
    else:
        kept = _LIB.san_greedy_peaks(np.ascontiguousarray(s, dtype=np.float64), len(s), d, out)
    if kept < 0:
        raise MemoryError("greedy peaks: out of memory")
    return out[:kept]


def best_shift(span: np.ndarray, qrs: np.ndarray, positions: np.ndarray, shift: int, first: int, last: int,
               n: int) -> np.ndarray | None:
    """``beats._best_shift``'s choice after its gather, bit for bit in one compiled pass: for each row of ``span``
    (a beat's stretch, less its mean) the index of the first window of least residual against ``qrs`` among
    those inside the frame (0 where none is); None without the C kernels."""
    if _LIB is None:
        return None
    span = np.ascontiguousarray(span, dtype=np.float64)
    qrs = np.ascontiguousarray(qrs, dtype=np.float64)
    out = np.empty(len(span), dtype=np.int64)
    width = span.shape[1]
    _LIB.san_best_shift(span, len(span), width, qrs, len(qrs), float(qrs @ qrs), _i64(positions), shift, first, last,
                        n, np.empty(width + 1), np.empty(width + 1), out)
    return np.maximum(out, 0)


def difference_envelope(v: np.ndarray, width: int) -> np.ndarray | None:
    """The moving average over ``width`` samples of ``|v[i] - v[i - 1]|`` (0 at ``i = 0``), as ``beats.find_beats``
    computes it in numpy, bit for bit, in one compiled pass (None without the C kernels)."""
    if _LIB is None:
        return None
    v = np.ascontiguousarray(v, dtype=np.float64)
    out = np.empty(len(v))
    _LIB.san_difference_envelope(v, len(v), width, scratch(len(v)), out)
    return out


def lagged_products(e: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The sums ``sum(e[:n - L] * e[L:])`` for each lag ``L`` in ``[lo, hi]`` of a non-negative ``e`` (``0 <= lo <=
    hi < len(e)``), added up as ``san_lagged_products`` adds them: each nonzero value's products with the values
    ``lo`` to ``hi`` after it added to the lags' sums in turn, in the order of the values. Compiled or not, the same
    additions in the same order, so the same bits: numpy's route takes the nonzero values :data:`LAGGED_ROWS` at a
    time, their products with the lags' values as rows, and sums the rows in order (``np.cumsum`` down the columns,
    from the sums so far); past the end it multiplies zeros, and adding +0.0 to a sum that is never -0.0 leaves it
    as it is."""
    e = np.ascontiguousarray(e, dtype=np.float64)
    n = len(e)
    if not 0 <= lo <= hi < n:
        raise ValueError("lagged_products: lags outside the values")
    out = np.zeros(hi - lo + 1)
    if _LIB is not None:
        _LIB.san_lagged_products(e, n, lo, hi, out)
        return out
    nonzero = np.flatnonzero(e[: n - lo])
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([e[lo:], np.zeros(hi)]), hi - lo + 1)
    for start in range(0, len(nonzero), LAGGED_ROWS):
        rows = nonzero[start : start + LAGGED_ROWS]
        block = windows[rows] * e[rows][:, None]  # row r: e[i] times e[i + lo .. i + hi], i = rows[r]
        block[0] += out
        np.cumsum(block, axis=0, out=block)
        out = block[-1].copy()
    return out


LAGGED_ROWS = 2048  # lagged_products' numpy route: the nonzero values whose products it holds at once


def medians(a: np.ndarray, axis: int) -> np.ndarray:
    """``np.median(a, axis=axis)`` of a 2-D float64 array, bit for bit (but for the sign of a zero median where
    ``a`` holds both -0.0 and 0.0: either may be picked). Columns (``axis`` 0) are copied to rows first: numpy's
    selection along a long stride misses the cache (a long record's beat windows, thousands of beats a column;
    ``bench_encode_kernels.py`` times the medians). A row of :data:`COUNTED_MIN` or more multiples of 1/2 is
    counted (``san_counted_medians``: a beat template's windows of an integer channel, and those less their own
    medians) in one histogram where they spread over at most :data:`COUNTED_SPAN` halves a value; the others are
    selected (:func:`_selected_medians`: numpy 2's selection, quicker than counting a wider spread in buckets first
    was), every one where none of the first few counts (a float channel's, a window's own values across its QRS).
    ``a``'s values finite."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or axis not in (0, 1) or not a.size:
        return np.median(a, axis=axis)
    rows = np.ascontiguousarray(a if axis == 1 else a.T)
    n = rows.shape[1]
    if _LIB is None or n < COUNTED_MIN or n >= 1 << 31:  # (the C counters are 32-bit)
        return _selected_medians(rows)
    out, done = _counted_medians(rows)
    if not done.any():
        return _selected_medians(rows)
    if not done.all():
        out[~done] = _selected_medians(rows[~done])
    return out


def _counted_medians(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``san_counted_medians`` of each row of ``rows`` (C-contiguous float64, fewer than 2^31 values a row, the C
    kernels loaded): the medians it counted, and which rows it counted (the others' medians unset)."""
    assert _LIB is not None
    count, n = rows.shape
    cap = COUNTED_SPAN * n + 1
    out, done = np.empty(count), np.empty(count, dtype=np.uint8)
    _LIB.san_counted_medians(rows, count, n, cap, np.empty(cap + 1, dtype=np.int32), out, done)
    return out, done.astype(bool)


COUNTED_MIN = 256  # medians counts rows of at least this many values: numpy 2's selection is as fast or faster on
# shorter ones (the beat windows of a 125-360 Hz record), two to four times slower on longer ones
COUNTED_SPAN = 4  # medians counts a row whose values spread over at most this many halves a value in one histogram
# (of at most 4 n + 1 bins: walking it costs about what counting the values does); numpy selects wider ones


def _selected_medians(rows: np.ndarray) -> np.ndarray:
    """Each row's median, as ``np.median(rows, axis=1)`` (the same bits): one partition at the upper middle, the
    lower middle of an even count the largest value before it. ``np.median`` partitions at both middles, which
    numpy does by its scalar selection; at one middle numpy 2 may select with SIMD instructions."""
    n = rows.shape[1]
    k = n // 2
    part = np.partition(rows, k, axis=1)
    upper = part[:, k]
    if n % 2:
        return np.ascontiguousarray(upper)
    return (part[:, :k].max(axis=1) + upper) / 2.0


def trimmed_means(rows: np.ndarray, k: int) -> np.ndarray:
    """Each row's mean without its ``k`` lowest and ``k`` highest values (``rows``: 2-D float64, finite, 0 < 2k <
    its length). A row of multiples of 1/2 below 2^50 (a beat template's windows of an integer channel, less their
    medians) whose largest |2 value| times the values kept stays within 2^62 is summed exactly, its kept values
    doubled as int64, and divided once: in C (``san_trimmed_means``: counted where they span at most
    :data:`COUNTED_SPAN` halves a value, else counted in buckets and selected in two), or selected by numpy, the same
    bits. Other rows: numpy's float mean of the selected middle. ``rows`` that are the columns of a row-major block
    (a template's beat windows transposed, ``beats.trimmed_means``) are read where they lie, a few columns at a
    time (``san_trimmed_column_means``), not copied whole to rows first; columns of at most :data:`NETWORK_MAX`
    values (a template of a few dozen beats) are sorted there :data:`TRIM_TILE` side by side by a sorting network,
    whose kept ranks sum to the same integers."""
    rows = np.asarray(rows, dtype=np.float64)
    count, n = rows.shape
    if not 0 < 2 * k < n:
        raise ValueError("trimmed_means: 0 < 2k < n")
    out, done = np.empty(count), np.zeros(count, dtype=bool)
    if _LIB is not None and n < 1 << 31:
        cap = COUNTED_SPAN * n + 1
        flags = np.empty(count, dtype=np.uint8)
        hist, scratch = np.empty(cap + 1, dtype=np.int32), np.empty(n, dtype=np.int64)
        if _column_block(rows):
            _LIB.san_trimmed_column_means(ctypes.c_void_p(rows.ctypes.data), count, n, rows.strides[1] // 8, k, cap,
                                          hist, scratch, np.empty(TRIM_TILE * n), out, flags)
        else:
            rows = np.ascontiguousarray(rows)
            _LIB.san_trimmed_means(rows, count, n, k, cap, hist, scratch, out, flags)
        done = flags.astype(bool)
    if not done.all():
        rest = ~done
        out[rest] = _selected_trimmed_means(rows[rest], k)
    return out


TRIM_TILE = 8  # beats.c's TRIM_TILE: the columns san_trimmed_column_means copies at a time (its tile's rows)
NETWORK_MAX = 256  # beats.c's NETWORK_MAX: san_trimmed_column_means sorts columns of at most this many values


def _column_block(rows: np.ndarray) -> bool:
    """Whether ``rows`` (2-D float64) are the columns of a row-major block, read in place by
    ``san_trimmed_column_means``: each row's values one row of the block apart (at least as far as its rows are
    long), consecutive rows side by side, aligned; the block is in ``rows``' own memory, so every value it reads is."""
    count, n = rows.shape
    step = rows.strides[1]
    return count > 0 and n > 0 and rows.strides[0] == 8 and step > 0 and step % 8 == 0 and step // 8 >= count and \
        rows.flags.aligned


def _selected_trimmed_means(rows: np.ndarray, k: int) -> np.ndarray:
    """:func:`trimmed_means` by numpy's selection: the middle ``n - 2k`` values of each row, summed exactly as
    doubled int64 where the row allows (:func:`trimmed_means`), else as floats."""
    n = rows.shape[1]
    kept = n - 2 * k
    middle = np.partition(rows, (k, n - k - 1), axis=1)[:, k : n - k]
    doubled = 2.0 * rows
    exact = np.all(doubled == np.rint(doubled), axis=1) & np.all(np.abs(rows) < 2.0**50, axis=1)
    exact &= np.abs(doubled).max(axis=1, initial=0.0) <= float((1 << 62) // kept)
    out = middle.mean(axis=1)
    if exact.any():
        sums = (2.0 * middle[exact]).astype(np.int64).sum(axis=1)
        out[exact] = sums.astype(np.float64) / (2.0 * kept)
    return out


def dq_quantise(u: np.ndarray, lam: float, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``dependent.quantise`` in one compiled call: the trellis path's indices and each value's quantiser (the same
    values; None without the C kernels)."""
    if _LIB is None:
        return None
    u = np.ascontiguousarray(u, dtype=np.float64)
    priced = np.ascontiguousarray(float(lam) * np.asarray(rates, dtype=np.float64))  # lam * each rate, once
    n = len(u)
    q, second = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.uint8)
    _LIB.san_dq_quantise(u, n, float(lam), priced, priced.shape[1], q, second, np.empty(2 * max(n, 1), dtype=np.uint8))
    return q, second.astype(bool)


def dq_levels(q: np.ndarray, out: np.ndarray) -> bool:
    """``dependent.levels`` of one band into ``out`` (which may be ``q``) in one compiled call; False without the C
    kernels (nothing written). ``q``: int64, every |value| below 2^60."""
    if _LIB is None:
        return False
    _LIB.san_dq_levels(q, len(q), out)
    return True


def dead_zone_quantise(bands: np.ndarray, delta: float, rounding: float) -> np.ndarray | None:
    """``sign(b) * floor(|b| / delta + rounding)`` as int64 in one compiled pass (the same bits as
    numpy; None without the C kernels). ``bands``: finite, within int64 after quantisation."""
    if _LIB is None:
        return None
    bands = np.ascontiguousarray(bands, dtype=np.float64)
    q = np.empty(len(bands), dtype=np.int64)
    _LIB.san_dead_zone_quantise(bands, len(bands), delta, rounding, q)
    return q


def wavelet_requantised(flat: np.ndarray, levels: int, delta: float, rounding: float, offset: int,
                        prediction: np.ndarray | None) -> np.ndarray | None:
    """:func:`wavelet_synthesis` of ``flat`` quantised by :func:`dead_zone_quantise` (at the cell's centre),
    in one compiled call without the quantised values: the same bits (None without the C kernels)."""
    if _LIB is None:
        return None
    flat = np.ascontiguousarray(flat, dtype=np.float64)
    return _synthesis(_LIB.san_wavelet_requantised, flat, levels, (delta, rounding), offset, prediction)[0]


def wavelet_requantised_error(flat: np.ndarray, levels: int, delta: float, rounding: float, offset: int,
                              prediction: np.ndarray | None,
                              ref: np.ndarray) -> tuple[np.ndarray | None, float | None] | None:
    """The squared error against ``ref`` of :func:`wavelet_requantised`'s channel, summed in the same call where that
    sum is exact (a reference of integers, a total below 2^53: then any order of summing, numpy's too, gives its
    bits), as ``(None, error)``: the rebuild's last level sums instead of writing the samples. Elsewhere ``(the
    channel, None)``, for the caller to sum its own way. None without the C kernels."""
    if _LIB is None:
        return None
    flat = np.ascontiguousarray(flat, dtype=np.float64)
    ref = np.ascontiguousarray(ref, dtype=np.float64)
    if len(ref) != len(flat):
        raise ValueError("the reference's length is not the bands'")
    out, error = _synthesis(_LIB.san_wavelet_requantised_error, flat, levels, (delta, rounding), offset, prediction,
                            ref)
    return (out, None) if error < 0 else (None, error)


def requantised_range(flat: np.ndarray, lo: int, hi: int, delta: float, rounding: float, out: np.ndarray,
                      ref: np.ndarray) -> bool:
    """:func:`wavelet_requantised_error` in pieces (two threads' work, ``lossyrate.Prepared.decoded_error``), its
    first: ``flat``'s values ``lo`` to ``hi`` put back at their cells' centres at ``delta`` into ``out``'s, and
    whether ``ref``'s values there are all integers (float64 arrays of one length, contiguous). Needs the C
    kernels."""
    assert _LIB is not None
    _check_range(len(flat), lo, hi, out, ref)
    return bool(_LIB.san_requantised_range(flat, lo, hi, delta, rounding, out, ref))


def last_level_error(bands: np.ndarray, levels: int, lo: int, hi: int, offset: int, prediction: np.ndarray | None,
                     ref: np.ndarray) -> float:
    """:func:`wavelet_requantised_error` in pieces, its last: the squared error against ``ref`` of the samples that
    the last of ``levels`` levels rebuilds from the approximation's values ``lo`` to ``hi`` (samples ``2 lo`` to
    ``2 hi``), rounded as the decoder rounds them (offset and ``prediction`` added), where ``bands`` holds that
    level's approximation (the levels before it rebuilt, :func:`cdf97_inverse`) and its details. Exact where the
    whole channel's sum is below 2^53 and ``ref`` is of integers (what :func:`requantised_range` checked); this
    thread's own scratch. Needs the C kernels."""
    assert _LIB is not None
    n = len(bands)
    _check_levels(n, levels)
    ns, nd = n - n // 2, n // 2
    _check_range(ns, lo, hi, bands, ref)
    given = prediction is not None
    pred = np.ascontiguousarray(prediction, dtype=np.float64) if given else bands
    if len(pred) != n:
        raise ValueError("the prediction's length is not the bands'")
    acc = np.zeros(8)
    _LIB.san_last_level_error(bands, ns, nd, lo, hi, 0.0 + offset, pred, int(given), ref, scratch(n), acc)
    return float(acc.sum())


def _check_range(length: int, lo: int, hi: int, *arrays: np.ndarray) -> None:
    """Refuse a range outside ``[0, length]`` or arrays of another length than the first's (what the kernels of
    :func:`requantised_range` and :func:`last_level_error` would read or write past)."""
    if not 0 <= lo <= hi <= length or any(len(a) != len(arrays[0]) for a in arrays):
        raise ValueError("a range or an array outside the bands")


def wavelet_synthesis(q: np.ndarray, levels: int, delta: float, shift: float, offset: int,
                      prediction: np.ndarray | None) -> np.ndarray | None:
    """``waveletframe.reconstruct`` of bands concatenated coarsest first in one compiled call (the same bits;
    None without the C kernels). ``levels`` as ``wavelet.levels_for`` allows for ``len(q)``."""
    if _LIB is None:
        return None
    return _synthesis(_LIB.san_wavelet_synthesis, _i64(q), levels, (delta, shift), offset, prediction)[0]


def wavelet_samples(q: np.ndarray, levels: int, delta: float, shift: float, offset: int,
                    prediction: np.ndarray | None) -> np.ndarray | None:
    """:func:`wavelet_synthesis` as the decoder's int64 samples, made in its last pass (no float array to convert
    and check): None without the C kernels, or where a sample is not below 2^51 in magnitude or not finite (the
    caller takes the float route, which ``frames.check_magnitude`` judges)."""
    if _LIB is None:
        return None
    ints = np.empty(len(q), dtype=np.int64)
    slow = _synthesis(_LIB.san_wavelet_samples, _i64(q), levels, (delta, shift), offset, prediction, ints)[1]
    return None if slow else ints


def _synthesis(kernel: Any, values: np.ndarray, levels: int, quantiser: tuple[float, float], offset: int,
               prediction: np.ndarray | None, *more: np.ndarray) -> tuple[np.ndarray, Any]:
    """Call a compiled rebuild (``san_wavelet_synthesis``, ``san_wavelet_requantised``, or with the int64 samples'
    array in ``more``, ``san_wavelet_samples``, or with the reference there, ``san_wavelet_requantised_error``) on
    ``values`` after checking what it would read: the levels, and the prediction's length. Returns the lifting's
    float64 output and what the kernel returns."""
    _check_levels(len(values), levels)
    out = np.empty(len(values))
    given = prediction is not None
    pred = np.ascontiguousarray(prediction, dtype=np.float64) if given else out
    if len(pred) != len(values):
        raise ValueError("the prediction's length is not the bands'")
    status = kernel(values, len(values), levels, *quantiser, float(offset), pred, int(given), out,
                    scratch(len(values)), *more)
    return out, status


# ------------------------------------------------------------- whole blocks
_BLOCK_ERRORS = {
    1: "truncated varint or field", 2: "varint too long", 3: "a value exceeds its limit",
    4: "empty frequency table", 5: "frequency table does not sum to 2**14", 6: "unexpected trailing bytes",
    7: "invalid range-coder data", 8: "raw bits run out", 9: "out of memory",
}


def encode_block(e: np.ndarray, contextual: bool) -> bytes | None:
    """``entropy.encode_arrays([e], [contextual])`` in one compiled call (None without the C kernels)."""
    return encode_arrays([e], [contextual])


def _end_to_end(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``arrays`` laid end to end as one int64 array, and their lengths: how the kernels take several."""
    e = arrays[0] if len(arrays) == 1 else np.concatenate(arrays) if len(arrays) else np.zeros(0, np.int64)
    return _i64(e), np.array([len(a) for a in arrays], dtype=np.int64)


def _split(out: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """``out`` cut back into arrays of ``sizes`` values (views; plain slices, which cost a small file's decode
    less than ``np.split``)."""
    edges = [0, *np.cumsum(sizes).tolist()]
    return [out[a:b] for a, b in zip(edges, edges[1:])]


def _arrays_room(n: int, count: int) -> int:
    """The bytes a block of ``count`` arrays holding ``n`` values in all may take (``san_arrays_encode``): each array's
    tables, a range-coder word for each value and block class, the raw bits."""
    return 17 * 160 * max(1, count) + 4 * (n + n // BLOCK + 16 * (count + 1)) + 8 * n + 64


def encode_arrays(arrays: Sequence[np.ndarray], contextual: Sequence[bool]) -> bytes | None:
    """``entropy.encode_arrays(arrays, contextual)`` in one compiled call (None without the C kernels)."""
    if _LIB is None or not arrays:
        return None
    e, lengths = _end_to_end(arrays)
    n = len(e)
    table = class_table()
    out = np.empty(_arrays_room(n, len(arrays)), dtype=np.uint8)
    size = _LIB.san_arrays_encode(e, lengths, np.asarray(contextual, dtype=np.int32), len(arrays), table,
                                  table.shape[1], out, len(out))
    if size < 0:
        raise RuntimeError("compiled block encoder: output buffer too small")
    return out[:size].tobytes()


def template_side(t8: np.ndarray, anchor: int, positions: np.ndarray, g64: np.ndarray,
                  shift: int) -> tuple[bytes, bool] | None:
    """``beats.BeatTemplate._written`` of a template with these fields in one compiled call: its side information's
    bytes and whether the beat gaps went as their differences (None without the C kernels, or where a field is
    negative: the caller's route, which raises). The encoder weighs every template it tries by these bytes, a
    hundred templates a sweep; the Python route's two block codings and differences took about three times as long."""
    if _LIB is None:
        return None
    t8, positions, g64 = _i64(t8), _i64(positions), _i64(g64)
    m, count = len(t8), len(positions)
    if len(g64) != count:
        raise ValueError("a gain per beat")
    n = m + 2 * count
    out = np.empty(_arrays_room(n, 3) + 50, dtype=np.uint8)  # the block kept, after 5 varints
    second, table = np.zeros(1, dtype=np.int32), class_table()
    size = _LIB.san_template_side(t8, m, int(anchor), positions, count, g64, int(shift), table, table.shape[1], out,
                                  len(out), second)
    if size == -2:
        return None
    if size < 0:
        raise RuntimeError("compiled template side information: out of memory or output buffer too small")
    return out[:size].tobytes(), bool(second[0])


def encode_running(e: np.ndarray, params: int) -> bytes | None:
    """``running.encode(e, params)`` in one compiled call (None without the C kernels)."""
    if _LIB is None:
        return None
    e = _i64(e)
    n = len(e)
    out = _running_block_room(n)
    size = _LIB.san_running_encode(e, n, int(params), out, len(out))
    if size < 0:
        raise RuntimeError("compiled running-context encoder: output buffer too small")
    return out[:size].tobytes()


def _running_block_room(n: int) -> np.ndarray:
    """An output buffer a running-context block of ``n`` values fits in: the tables, up to 3 range-coder symbols a
    value (MSB mode) and the raw bits."""
    return np.empty(64 * 160 + 4 * (3 * n + 16) + 8 * n + 64, dtype=np.uint8)


def running_choose_encode(e: np.ndarray, params: Sequence[int], only_paying: bool,
                          either: bool = False) -> tuple[int, bool, bytes | None] | None:
    """``running.weigh(e, params)`` and the chosen set's ``running.encode`` (``encode_either`` with ``either``) in one
    compiled call that tokenizes and counts once: the set, whether its contexts pay against one table, and its
    block (None where ``only_paying`` and they do not). None without the C kernels."""
    if _LIB is None:
        return None
    e = _i64(e)
    n = len(e)
    out = _running_block_room(n)
    info = np.zeros(2, dtype=np.int64)
    flags = int(only_paying) | 2 * int(either)
    size = _LIB.san_running_choose_encode(e, n, np.asarray(params, dtype=np.int32), len(params), flags, out, len(out),
                                          info)
    if size < 0:
        raise RuntimeError("compiled running-context encoder: bad params, or output buffer too small")
    return int(params[int(info[0])]), bool(info[1]), out[:size].tobytes() if size else None


def block_sizes(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The bytes of ``entropy.encode_arrays([a], [False])`` and ``([a], [True])`` for each array (rows), in
    one compiled call (None without the C kernels)."""
    if _LIB is None or not arrays:
        return None
    e, lengths = _end_to_end(arrays)
    sizes = np.empty((len(arrays), 2), dtype=np.int64)
    table = class_table()
    if _LIB.san_arrays_sizes(e, lengths, len(arrays), table, table.shape[1], sizes):
        raise MemoryError("compiled block encoder: no scratch memory")
    return sizes


def _destination(out: np.ndarray | None, n: int, what: str, dtype: type = np.int64) -> np.ndarray:
    """``out`` checked to take ``n`` values of ``dtype`` in place (writeable, contiguous), or a fresh array."""
    if out is None:
        return np.empty(n, dtype=dtype)
    if out.dtype != dtype or out.shape != (n,) or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{what}: out must be a writeable contiguous {np.dtype(dtype).name} array of length values")
    return out


def decode_arrays(data: bytes, lengths: Sequence[int], contextual: Sequence[bool],
                  out: np.ndarray | None = None) -> list[np.ndarray] | None:
    """``entropy.decode_arrays`` of several arrays in one compiled call (None without the C kernels).
    Accepts and refuses exactly what the Python reader does. ``out``: where the arrays go, end to end (the
    arrays returned are views of it)."""
    if _LIB is None:
        return None
    sizes = np.array(lengths, dtype=np.int64)
    out = _destination(out, int(sizes.sum()), "decode_arrays")
    status = _LIB.san_arrays_decode(bytes(data), len(data), sizes, np.asarray(contextual, dtype=np.int32),
                                    len(sizes), out)
    if status:
        raise SanFormatError(f"entropy-coded block: {_BLOCK_ERRORS.get(status, 'invalid')}")
    return _split(out, sizes)


def encode_adaptive_bands(arrays: Sequence[np.ndarray], max_decisions: int = -1, parent: int = 0
                          ) -> tuple[bytes, bool] | None:
    """``adaptivebands.encode(arrays, max_decisions, parent)`` in one compiled call (``parent`` 0 or 1), or with
    ``parent`` 2 ``adaptivebands.encode_either``'s stream, both ways coded side by side in one pass: the stream and
    whether it has parent contexts (None without the C kernels); ``b""`` where the stream would take more than
    ``max_decisions`` binary decisions (none: negative), nothing coded."""
    if _LIB is None:
        return None
    e, lengths = _end_to_end(arrays)
    n = len(e)
    out = np.empty(4 * (NUM_TOKENS * n + 16) + 8 * n + 64, dtype=np.uint8)  # a decision takes under a word
    kept = np.zeros(1, dtype=np.int64)
    size = _LIB.san_adaptive_bands_encode(e, lengths, len(arrays), int(max_decisions), int(parent), out, len(out),
                                          kept)
    if size == -2:
        return b"", False
    if size < 0:
        raise MemoryError("compiled adaptive band coder: no memory")
    return out[:size].tobytes(), bool(kept[0])


def decode_adaptive_bands(data: bytes, lengths: Sequence[int], out: np.ndarray | None = None,
                          parent: bool = False) -> list[np.ndarray] | None:
    """``adaptivebands.decode(data, lengths, out, parent)`` in one compiled call (None without the C kernels); refuses
    exactly what the Python reader refuses (the caller refuses negative lengths). ``out``: where the bands go, end
    to end (those returned are views)."""
    if _LIB is None:
        return None
    sizes = np.array(lengths, dtype=np.int64)
    out = _destination(out, int(sizes.sum()), "decode_adaptive_bands")
    status = _LIB.san_adaptive_bands_decode(bytes(data), len(data), sizes, len(sizes), int(parent), out)
    if status:
        raise SanFormatError(f"adaptive bands: {_BLOCK_ERRORS.get(status, 'invalid')}")
    return _split(out, sizes)


def decode_block(data: bytes, length: int, contextual: int, out: np.ndarray | None = None) -> np.ndarray | None:
    """One entropy-coded array in one compiled call (None without the C kernels: the caller uses
    ``entropy.decode_arrays``). ``contextual``: 0 plain, 1 block classes, 2 block classes or running
    contexts (``running.decode_block``). Accepts and refuses exactly what the Python readers do. ``out``: where
    the values go (``length`` contiguous int64, e.g. a band's place in its frame's flat array)."""
    if _LIB is None:
        return None
    out = _destination(out, length, "decode_block")
    status = _LIB.san_block_decode(bytes(data), len(data), length, int(contextual), out)
    if status:
        raise SanFormatError(f"entropy-coded block: {_BLOCK_ERRORS.get(status, 'invalid')}")
    return out
