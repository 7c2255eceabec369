"""The adaptive stages of lossless residuals (format 1.4): the sign-sign LMS stage and long-term
prediction, compiled in ``_kernels/lms.c`` where the extension built, with their Python references
(``_np_*``, the same integers). The library is ``kernels``'s, looked up at each call, so forcing
numpy (``SANCODEC_KERNELS=numpy``, or tests setting ``kernels._LIB``) switches these too.
"""

from __future__ import annotations

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.cascade import Cascade
from sancodec.errors import SanFormatError

__all__ = ["decode_residual", "lms_forward", "lms_inverse", "ltp_inverse"]

LMS_SHIFT, LMS_CLIP = 10, (1 << 31) - 1


def _np_lms(values: list[int], order: int, forward: bool, limit: int) -> list[int] | None:
    """The reference of ``_kernels/lms.c`` in Python integers (a recursion over time: numpy cannot
    batch it). ``forward``: ``values`` is the stage's input and its output is returned; else the
    reverse (None when a value leaves ``±limit``)."""
    w = [0] * order  # w[j] multiplies h[t - order + j]: oldest first, as in lms.c
    h = [0] * order
    out: list[int] = []
    half = 1 << (LMS_SHIFT - 1)
    for value in values:
        if not forward and not -limit <= value <= limit:
            return None
        pred = (sum(wj * hj for wj, hj in zip(w, h)) + half) >> LMS_SHIFT
        x, err = (value, value - pred) if forward else (value + pred, value)
        if not forward and not -limit <= x <= limit:
            return None
        out.append(err if forward else x)
        if err:
            d = 1 if err > 0 else -1
            w = [wj + (d if hj > 0 else -d if hj < 0 else 0) for wj, hj in zip(w, h)]
        h = [*h[1:], max(-LMS_CLIP, min(LMS_CLIP, x))]
    return out


def lms_forward(x: np.ndarray, order: int) -> np.ndarray:
    """The sign-sign LMS stage's output for residual ``x`` (see ``_kernels/lms.c``)."""
    x = kernels._i64(x)
    if kernels._LIB is None:
        return np.asarray(_np_lms(x.tolist(), order, True, 0), dtype=np.int64)
    out = np.empty(len(x), dtype=np.int64)
    if kernels._LIB.san_lms_forward(x, len(x), order, out):
        raise MemoryError("LMS stage: out of memory")
    return out


def lms_inverse(o: np.ndarray, order: int, limit: int) -> np.ndarray:
    """The residual whose LMS output is ``o``; a SanFormatError when a value leaves ``±limit``."""
    o = kernels._i64(o)
    if kernels._LIB is None:
        back = _np_lms(o.tolist(), order, False, limit)
        x = None if back is None else np.asarray(back, dtype=np.int64)
    else:
        x = np.empty(len(o), dtype=np.int64)
        x = None if kernels._LIB.san_lms_inverse(o, len(o), order, limit, x) else x
    if x is None:
        raise SanFormatError("frame: LMS stage values too large (a hostile residual)")
    return x


def _np_ltp_inverse(o2: np.ndarray, pos: np.ndarray, shift: np.ndarray, gain: np.ndarray, before: int, after: int,
                    limit: int) -> np.ndarray | str:
    """The reference of ``san_ltp_inverse``: beat after beat, one vector step per window; the restored
    values, or what is wrong (its error codes' meaning)."""
    if len(o2) and np.abs(o2).max() > limit:
        return "values too large"
    x, width, done = o2.copy(), before + after, 0
    for k in np.flatnonzero(gain[1:]) + 1:
        a, ref = int(pos[k]) - before, int(pos[k - 1]) - before + int(shift[k])
        if a < done or a + width > len(x) or ref < 0 or ref + width > a:
            return "a window leaves the block or overlaps its reference"
        v = x[a : a + width] + ((gain[k] * x[ref : ref + width] + 4) >> 3)
        if np.abs(v).max() > limit:
            return "values too large"
        x[a : a + width], done = v, a + width
    return x


_LTP_ERRORS = {-1: "values too large", -2: "a window leaves the block or overlaps its reference"}


def ltp_inverse(o2: np.ndarray, pos: np.ndarray, shift: np.ndarray, gain: np.ndarray, before: int, after: int,
                limit: int) -> np.ndarray:
    """Undo the long-term prediction (``codec.longterm``) of a block, checking every window; a
    SanFormatError for a hostile block."""
    o2, pos, shift, gain = kernels._i64(o2), kernels._i64(pos), kernels._i64(shift), kernels._i64(gain)
    if kernels._LIB is None:
        x = _np_ltp_inverse(o2, pos, shift, gain, before, after, limit)
    else:
        out = np.empty(len(o2), dtype=np.int64)
        status = kernels._LIB.san_ltp_inverse(o2, len(o2), pos, shift, gain, len(pos), before, after, limit, out)
        x = _LTP_ERRORS[status] if status else out
    if isinstance(x, str):
        raise SanFormatError(f"frame: long-term prediction: {x} (a hostile block)")
    return x


_EMPTY = np.zeros(0, dtype=np.int64)
_NO_STAGE = np.zeros(1, dtype=np.int32)  # ctypes wants an array even where no long stage runs


def decode_residual(data: bytes, length: int, contextual: bool, taps: int, longterm: tuple | None,
                    long_stages: Cascade | None, limit: int) -> np.ndarray | None:
    """A residual block with its stages undone in one compiled call: the entropy-coded array, then the
    long-term prediction ``longterm`` (positions, shifts, gains, before, after; None: none), the LMS
    stage of ``taps`` (0: none) and the long adaptive stages (None: none). None without the C kernels."""
    if kernels._LIB is None:
        return None
    pos, shift, gain, before, after = longterm if longterm is not None else (_EMPTY, _EMPTY, _EMPTY, 0, 0)
    count = len(long_stages.stages) if long_stages is not None else 0
    orders, shifts = long_stages.arrays() if long_stages is not None else (_NO_STAGE, _NO_STAGE)
    out = np.empty(length, dtype=np.int64)
    i64 = kernels._i64
    # contextual 2: a residual block, which may use running contexts (format 1.5)
    status = kernels._LIB.san_residual_decode(bytes(data), len(data), length, 2 if contextual else 0, taps, i64(pos),
                                              i64(shift), i64(gain), len(pos), before, after, count, orders,
                                              shifts, limit, out)
    if status > 0:
        raise SanFormatError(f"entropy-coded block: {kernels._BLOCK_ERRORS.get(status, 'invalid')}")
    if status == -3:
        raise MemoryError("long adaptive stage: out of memory")
    if status < 0:
        raise SanFormatError(f"frame: long-term prediction or an adaptive stage: {_LTP_ERRORS[status]} "
                             "(a hostile residual)")
    return out
