"""Constant frames (path 4, format 1.3): a channel-frame whose samples all hold one value.

Flat stretches (a lead off, a sensor unplugged, a constant status channel) cost 2-4 bytes instead
of a residual block's tables and range-coder words. Exact, so also used in near-lossless files.
"""

from __future__ import annotations

import numpy as np

from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.frames import (
    CONSTANT_ID,
    Candidate,
    ChannelFrame,
    FrameCoding,
    FramePlan,
    SanInput,
    register_coding,
)
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.errors import SanFormatError

__all__ = ["ConstantCoding"]


@register_coding
class ConstantCoding(FrameCoding):
    """Path 4 (format 1.3, exact frames only): every sample of the channel-frame has one value, stored
    once. Flat stretches (a lead off, a sensor unplugged, a constant status channel) cost 2-4 bytes
    instead of a residual block's tables and range-coder words."""

    id, name = CONSTANT_ID, "constant"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        if plan.mode == "lossy" or not len(x) or x.min() != x.max():
            return []
        head = ByteWriter()
        head.varint(self.id)
        head.svarint(int(x[0]))
        return [Candidate(0.0, head.getvalue(), None, exact=True)]

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        value = r.svarint(MAX_ABS_SAMPLE)
        if r.remaining():
            raise SanFormatError("frame: unexpected trailing bytes")
        return ChannelFrame(np.full(length, value, dtype=np.int64), 0, path=self.name)
