"""The header's schema: every field's type, range and length, checked before anything uses it.

A header that parses as JSON may still hold a string where a list belongs, 200 000 channel
names, a negative quantum or a newline that would end up in a WFDB ``.hea``. ``check_header``
turns each of those into a :class:`SanFormatError` that names the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, TypeGuard

import numpy as np

from sancodec.codec.limits import DEFAULT_LIMITS, MAX_ABS_SAMPLE, DecodeLimits
from sancodec.codec.neargrid import LEAST_EXPONENT, MAX_BITS, MAX_HALVINGS
from sancodec.errors import SanFormatError

__all__ = ["MODES", "check_header"]

MODES = ("lossy", "near-lossless", "lossless")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA = re.compile(r"[0-9a-f]{64}")
MAX_TEXT = 1024  # characters in a name, unit, format or time field
MAX_FS = 1e9  # Hz: the highest sampling frequency a header holds (the encoder refuses a signal above it)
MAX_COMMENTS = 4096


def _fail(field: str, value: Any, why: str) -> SanFormatError:
    shown = repr(value)
    return SanFormatError(f"header field {field!r} = {shown[:60] + '…' if len(shown) > 60 else shown} {why}")


def is_int(v: Any) -> bool:
    """A header's integer: a plain JSON int (not a bool)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_whole(v: Any) -> TypeGuard[int | np.integer]:
    """An integer a caller may pass: an int or a numpy integer, not a bool (a header's fields take :func:`is_int`)."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def is_real(v: Any) -> TypeGuard[int | float | np.integer | np.floating]:
    """A real number a caller may pass: an int, a float or a numpy integer or float, not a bool (nor a string, a
    complex number or a list)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def check_int(field: str, v: Any, low: int, high: int) -> int:
    if not is_int(v) or not low <= v <= high:
        raise _fail(field, v, f"is not an integer in [{low}, {high}]")
    return v


def check_number(field: str, v: Any, low: float, high: float, low_open: bool = False) -> float:
    ok = (is_int(v) or isinstance(v, float)) and math.isfinite(v) and low <= v <= high and not (low_open and v == low)
    if not ok:
        raise _fail(field, v, f"is not a finite number in {'(' if low_open else '['}{low}, {high}]")
    return float(v)


def check_text(field: str, v: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(v, str) or len(v) > limit or _CONTROL.search(v):
        raise _fail(field, v, f"is not a string of at most {limit} characters without control characters")
    return v


def check_list(field: str, v: Any, length: int | None, item: Callable[[str, Any], Any],
               optional: bool = False, max_length: int = MAX_COMMENTS) -> list[Any] | None:
    if v is None and optional:
        return None
    if not isinstance(v, list) or (length is not None and len(v) != length) or len(v) > max_length:
        want = f"{length} items" if length is not None else f"at most {max_length} items"
        raise _fail(field, v, f"is not a list of {want}")
    return [item(f"{field}[{i}]", x) for i, x in enumerate(v)]


def _check_signal(s: Any, c: int) -> None:
    if not isinstance(s, dict):
        raise _fail("signal", s, "is not an object")
    check_number("signal.fs", s.get("fs"), 0.0, MAX_FS, low_open=True)
    for key in ("channel_names", "units"):
        check_list(f"signal.{key}", s.get(key), c, check_text)
    check_list("signal.adc_gain", s.get("adc_gain"), c, lambda f, v: check_number(f, v, -1e12, 1e12), True)
    for key in ("baseline", "adc_zero"):
        check_list(f"signal.{key}", s.get(key), c, lambda f, v: check_int(f, v, -MAX_ABS_SAMPLE, MAX_ABS_SAMPLE), True)
    check_list("signal.adc_res", s.get("adc_res"), c, lambda f, v: check_int(f, v, 0, 64), True)
    check_list("signal.fmt", s.get("fmt"), c, lambda f, v: check_text(f, v, 8), True)
    check_list("signal.file_name", s.get("file_name"), c, check_text, True)
    check_list("signal.comments", s.get("comments"), None, lambda f, v: check_text(f, v, 65536))
    for key in ("base_time", "base_date"):
        if s.get(key) is not None:
            check_text(f"signal.{key}", s[key], 64)
    check_text("signal.record_name", s.get("record_name"))
    check_list("signal.samples_per_frame", s.get("samples_per_frame"), c, lambda f, v: check_int(f, v, 1, 1 << 16),
               True)
    if not isinstance(s.get("annotations", []), list) or len(s.get("annotations", [])) > 64:
        raise _fail("signal.annotations", s.get("annotations"), "is not a list of at most 64 annotation sets")


def _check_near_entry(field: str, v: Any) -> list[Any]:
    """One channel's ``near_grid`` entry (format 1.19, ``codec.neargrid``): ``[offset, floor, halvings, bits]``."""
    if not isinstance(v, list) or len(v) != 4:
        raise _fail(field, v, "is not [offset, floor, halvings, bits]")
    return [check_number(f"{field}[0]", v[0], -1e300, 1e300), check_int(f"{field}[1]", v[1], LEAST_EXPONENT, 1023),
            check_int(f"{field}[2]", v[2], 0, MAX_HALVINGS), check_int(f"{field}[3]", v[3], 0, MAX_BITS)]


def check_header(header: dict[str, Any], limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    """Raise :class:`SanFormatError` naming the first field of ``header`` that is not as the format says."""
    if header.get("format") != "sancodec":
        raise SanFormatError("header is not a sancodec header")
    mode = header.get("mode")
    if mode not in MODES:
        raise _fail("mode", mode, f"is not one of {', '.join(MODES)}")
    check_int("n_samples", header.get("n_samples"), 1, 1 << 40)
    c = check_int("n_channels", header.get("n_channels"), 1, limits.max_channels)
    check_int("frame_len", header.get("frame_len"), 16, 1 << 24)
    check_number("amplitude_step", header.get("amplitude_step"), 0.0, 1e6, low_open=True)
    quantum = check_list("quantum", header.get("quantum"), c,
                         lambda f, v: check_number(f, v, 0.0, 1e300, low_open=True), optional=True)
    if quantum is None:
        check_int("max_error", header.get("max_error"), 0, MAX_ABS_SAMPLE)
    else:  # (a lossless file's: floats on a step per channel, format 1.17, codec.floatgrid)
        if mode == "lossless" and header.get("max_error") not in (None, 0):
            raise _fail("max_error", header.get("max_error"), "must be 0 or null in a lossless file")
        if mode == "near-lossless" or header.get("max_error") is not None:
            check_number("max_error", header.get("max_error"), 0.0, 1e300)
    float32 = header.get("float32")
    if float32 is not None and (float32 is not True or mode != "lossless"):
        raise _fail("float32", float32, "must be true, and only in a lossless file (format 1.18)")
    near = header.get("near_grid")
    if near is not None:
        if mode != "lossless" or quantum is None or float32 is not None:
            raise _fail("near_grid", near, "belongs only in a lossless file of float64 values on a step (format 1.19)")
        check_list("near_grid", near, c, _check_near_entry)
    crcs = header.get("sample_crc32")
    if mode == "lossless":
        check_list("sample_crc32", crcs, c, lambda f, v: check_int(f, v, 0, (1 << 32) - 1))
    elif crcs is not None:
        raise _fail("sample_crc32", crcs, "must be null outside lossless files")
    model = header.get("model")
    if model is not None:
        if not isinstance(model, dict) or not isinstance(model.get("sha256"), str) \
                or not _SHA.fullmatch(model["sha256"]) or not isinstance(model.get("spec"), (dict, type(None))):
            raise _fail("model", model, "is not {'sha256': 64 hex digits, 'spec': a model or null}")
    _check_signal(header.get("signal"), c)
    lossy = header.get("lossy")
    if lossy is not None:
        if mode != "lossy" or not isinstance(lossy, dict) or not isinstance(lossy.get("target"), dict) \
                or not set(lossy["target"]) <= {"prdn", "snr", "bps"} or len(lossy["target"]) != 1:
            raise _fail("lossy", lossy, "is not {'target': {one of prdn, snr, bps}, 'prdn': per-channel list}")
        for key, value in lossy["target"].items():
            check_number(f"lossy.target.{key}", value, -1e6, 1e6)
        check_list("lossy.prdn", lossy.get("prdn"), c,
                   lambda f, v: None if v is None else check_number(f, v, 0.0, 1e12))
