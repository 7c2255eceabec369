"""What a decoder refuses to spend: caps on work and memory that a file must justify.

A CRC stops accidents, not attackers: a few hundred valid bytes can declare 2**40 samples,
a 65 536-tap kernel active everywhere, or a header of a million nested lists. Every cap
below is checked *before* the work or allocation it bounds. Defaults admit every file the
encoder writes with its default frame length (constant channels, the most compressible kind, code
at up to about 8 000 values per byte with format 1.3's constant frames), and the encoder refuses
to write a file they would refuse; raise them with ``DecodeLimits(...)`` (Python) or
``--max-values`` (CLI) for files you trust. ``docs/FORMAT.md`` (section "Limits") lists them
with what a decoder must refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from sancodec.errors import SanFormatError, SanLimitError
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["DEFAULT_LIMITS", "MAX_ABS_SAMPLE", "MAX_ERROR", "DecodeLimits", "parse_header_json"]

MAX_ERROR = 1 << 40  # a near-lossless file's max error (digital units) a reader accepts, and the encoder writes


@dataclass(frozen=True)
class DecodeLimits:
    """Caps a decoder applies (see the module docstring); every one can be raised."""

    #: samples x channels decoded without further justification ...
    max_values: int = 1 << 25
    #: ... and beyond that, at most this many per byte of frame payload.
    values_per_byte: int = 16384
    #: kernel taps placed by SAN frames: at most max(min_taps, taps_per_value x values).
    min_taps: int = 1 << 26
    taps_per_value: int = 32
    #: activations held at once: at most max(min_activations, 4 x values).
    min_activations: int = 1 << 22
    #: channel-frames (Python work per frame): at most max(min_channel_frames, values / 256).
    min_channel_frames: int = 1 << 16
    #: header: channels, annotations, JSON nesting, JSON containers, digits of an integer.
    max_channels: int = 4096
    max_annotations: int = 1 << 20
    max_json_depth: int = 16
    max_json_containers: int = 1 << 18
    max_int_digits: int = 20

    def check_values(self, values: int, payload_bytes: int, what: str) -> None:
        """Refuse a decode of ``values`` samples x channels that ``payload_bytes`` cannot justify."""
        allowed = max(self.max_values, self.values_per_byte * payload_bytes)
        if values > allowed:
            raise SanLimitError(f"{what}: {values} samples x channels from {payload_bytes} bytes of frames is over "
                                f"the limit {allowed} (max(max_values, {self.values_per_byte} per byte)); "
                                "raise DecodeLimits.max_values (--max-values) if you trust the file")

    def check_work(self, what: str, count: int, floor: int, per_value: float, values: int) -> None:
        """Refuse ``count`` units of ``what`` above ``max(floor, per_value x values)``."""
        allowed = max(floor, int(per_value * values))
        if count > allowed:
            raise SanLimitError(f"{count} {what} for {values} samples x channels is over the limit {allowed}; "
                                "raise the matching DecodeLimits field if you trust the file")


DEFAULT_LIMITS = DecodeLimits()

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def parse_header_json(raw: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The header object, parsed only after its shape is known to be cheap: nesting depth,
    container count and integer digits are counted on the bytes (strings blanked out) first."""
    skeleton = _STRING.sub(b'""', raw)
    if re.search(rb"\d{%d,}" % (limits.max_int_digits + 1), skeleton):
        raise SanFormatError(f"header: a number has more than {limits.max_int_digits} digits")
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    containers = int(opens.sum())
    if containers > limits.max_json_containers:
        raise SanFormatError(f"header: {containers} JSON lists/objects, over the limit {limits.max_json_containers}")
    depth = np.cumsum(opens.astype(np.int64) - closes.astype(np.int64))
    if depth.size and int(depth.max()) > limits.max_json_depth:
        raise SanFormatError(f"header: JSON nested {int(depth.max())} deep, over the limit {limits.max_json_depth}")
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SanFormatError(f"header is not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict):
        raise SanFormatError("header is not a JSON object")
    return header


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
