"""The long adaptive stage of lossless residuals (format 1.8): filters of 16-512 taps in cascade.

The sign-sign LMS stage (``adaptive``) sees 8 residuals back; a record whose beats repeat every 100-250
samples (a103l at 128 bpm and 250 Hz) keeps what the previous beat could predict. These filters, the
"NN filters" of Monkey's Audio, look a whole beat back and adapt faster where the input is large
against its recent level (``_kernels/cascade.c`` has the exact integer rule). Their decode is a
sequential recursion of ``order`` multiply-adds per sample, so the encoder keeps them only where they
save :data:`GAIN` of a block. The Python reference here (``_np_stage``) gives the same integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.errors import SanFormatError

__all__ = ["DEFAULT", "GAIN", "MAX_STAGES", "Cascade", "affordable", "read_cascade"]

MIN_ORDER, MAX_ORDER = 16, 512
MAX_SHIFT = 24
MAX_STAGES = 3
MEAN_CAP = 1 << 31
SATURATION = 32767
GAIN = 0.98  # the stages must save 2 % of a block: they decode sequentially, 272 multiply-adds a value
WORK_FLOOR = 1 << 26  # tap-steps any block may ask for (about 0.1 s)
WORK_PER_BYTE = 1 << 13  # and, beyond that, per byte of its coded block


@dataclass(frozen=True)
class Cascade:
    """The stages ``(order, shift)``, applied first to last by the encoder (undone last to first)."""

    stages: tuple[tuple[int, int], ...]

    def write(self, w: ByteWriter) -> None:
        w.varint(len(self.stages))
        for order, shift in self.stages:
            w.varint(order)
            w.varint(shift)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The stages' output for residual ``x`` (the encoder's side)."""
        x = kernels._i64(x)
        if kernels._LIB is None:
            for order, shift in self.stages:
                x = _np_stage(x, order, shift, False, 0)
            return x
        out = np.empty(len(x), dtype=np.int64)
        orders, shifts = self.arrays()
        if kernels._LIB.san_cascade_forward(x, len(x), orders, shifts, len(self.stages), out):
            raise MemoryError("long adaptive stage: out of memory")
        return out

    def inverse(self, o: np.ndarray, limit: int) -> np.ndarray:
        """The residual whose stages' output is ``o``; a SanFormatError when a value leaves ``±limit``."""
        x = kernels._i64(o)
        if kernels._LIB is None:
            for order, shift in reversed(self.stages):
                x = _np_stage(x, order, shift, True, limit)
            return x
        out = np.empty(len(x), dtype=np.int64)
        orders, shifts = self.arrays()
        status = kernels._LIB.san_cascade_inverse(x, len(x), orders, shifts, len(self.stages), limit, out)
        if status == -1:
            raise SanFormatError("frame: long adaptive stage values too large (a hostile residual)")
        if status:
            raise MemoryError("long adaptive stage: out of memory")
        return out

    @property
    def taps(self) -> int:
        return sum(order for order, _ in self.stages)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The stages' orders and shifts as the C kernels take them (int32)."""
        return (np.array([o for o, _ in self.stages], dtype=np.int32),
                np.array([s for _, s in self.stages], dtype=np.int32))


#: What the encoder tries: a beat-long filter, then a short one (Monkey's Audio's "extra high" pair).
DEFAULT = Cascade(((256, 13), (16, 11)))


def affordable(stages: Cascade, values: int, block_bytes: int) -> bool:
    """Whether a block of ``values`` coded in ``block_bytes`` may run ``stages``: their work (taps x values)
    within max(:data:`WORK_FLOOR`, :data:`WORK_PER_BYTE` x bytes), so a small hostile file cannot ask for
    minutes of decoding. A real residual takes a bit or more per value: 1024 taps and more fit."""
    return stages.taps * values <= max(WORK_FLOOR, WORK_PER_BYTE * block_bytes)


def read_cascade(r: ByteReader) -> Cascade:
    """The stages of a block (validated: 1-3 stages, orders 16-512 in steps of 16, shifts 1-24)."""
    count = r.varint(MAX_STAGES)
    if count < 1:
        raise SanFormatError("frame: a long adaptive stage list is empty")
    stages = []
    for _ in range(count):
        order, shift = r.varint(MAX_ORDER), r.varint(MAX_SHIFT)
        if order < MIN_ORDER or order % 16 or shift < 1:
            raise SanFormatError(f"frame: a long adaptive stage of {order} taps, shift {shift}")
        stages.append((order, shift))
    return Cascade(tuple(stages))


def _np_stage(values: np.ndarray, order: int, shift: int, inverse: bool, limit: int) -> np.ndarray:
    """One stage of ``_kernels/cascade.c`` in numpy (one step per sample: a recursion over time); int16
    weights wrap as the C ones do, and the sum is taken modulo 2^32."""
    n = len(values)
    w = np.zeros(order, dtype=np.int16)
    h = np.zeros(n + order, dtype=np.int64)
    d = np.zeros(n + order, dtype=np.int16)
    out = np.empty(n, dtype=np.int64)
    half, mean = 1 << (shift - 1), 0
    for t, value in enumerate(values.tolist()):
        acc = (int(np.dot(w.astype(np.int64), h[t : t + order])) + half) & 0xFFFFFFFF
        pred = (acc - (1 << 32) if acc >> 31 else acc) >> shift
        if inverse:
            x, err = value + pred, value
            if not (-limit <= value <= limit and -limit <= x <= limit):
                raise SanFormatError("frame: long adaptive stage values too large (a hostile residual)")
        else:
            x, err = value, value - pred
        out[t] = x if inverse else err
        if err:
            w += d[t : t + order] if err > 0 else -d[t : t + order]  # int16: wraps as in C
        a = min(abs(x), MEAN_CAP)
        mag = 32 if a > 3 * mean else 16 if a > (4 * mean) // 3 else 8 if a else 0
        d[t + order] = -mag if x < 0 else mag
        for back in (1, 2, 8):
            d[t + order - back] = int(d[t + order - back]) // 2 if d[t + order - back] >= 0 else -(
                -int(d[t + order - back]) // 2)  # C's division, toward zero
        mean += (a - mean) // 16 if a >= mean else -((mean - a) // 16)  # C's division: toward zero
        h[t + order] = max(-SATURATION, min(SATURATION, x))
    return out
