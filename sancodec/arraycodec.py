"""sancodec as a numcodecs codec (id ``sancodec``), for Zarr and HDF5 users' arrays.

Registered through the ``numcodecs.codecs`` entry point, so ``numcodecs.get_codec({"id":
"sancodec", ...})`` works without importing sancodec first. Each buffer becomes one ``.san``
payload: an array of shape ``(n,)`` or ``(n, channels)``, integers of any numpy width in every mode (64-bit ones
where the chunk's values lie within ±2**53, which the codec holds exactly), floats in lossless mode where they are
decimals (``io.decimals``: values of at most 9 decimal places, whole numbers stored as floats among them) or each
column's whole multiples of one step (``codec.floatgrid``: counts times a calibration factor, computed in float64; a
float32 chunk's, each value the float32 nearest its multiple: format 1.18), float32 and float16 chunks whatever their
values (on no step, as their bits; float16 as the float32s it widens to), any floats near-lossless (``max_error``)
or lossy.
The array's dtype and rank travel in the file (as a comment of its signal), so ``decode``
returns what went in: bit-exact in lossless mode. Needs ``pip install sancodec[zarr]``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numcodecs.abc import Codec
from numcodecs.compat import ensure_bytes, ensure_ndarray, ndarray_copy

from sancodec.codec.prepare import LosslessFloatsError
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io.decimals import MAX_DECIMALS, decimal_values, gapped_units, with_decimals
from sancodec.signal import MAX_ABS_SAMPLE, Signal, beyond_exact_range

__all__ = ["Sancodec"]

INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_LOSSLESS_FLOATS = (f"lossless sancodec needs integers, float32 values, decimals of at most {MAX_DECIMALS} places or "
                    "a step's multiples or float64 values near them (counts scaled in float64); other floats take "
                    "near-lossless or lossy")
_TAG = re.compile(r"numcodecs (?P<dtype>[<>|]?(?:[iu][1248]|f[248])) (?P<rank>[12])"  # numpy's own names only:
                  r"(?: tail (?P<tail>[1-9][0-9]{0,9})"
                  r" (?P<fill>-?[0-9]{1,16}|-?0x[0-9a-f.]{1,20}p[-+][0-9]{1,4}|nan))?")
# np.dtype("f3") is a TypeError, and the tag comes from the payload; "tail": a lossy chunk's last rows, each value of
# them ``fill`` (an integer, or a float as float.hex writes it, NaN as "nan": a NaN fill value's padding), left out
# of its coding (Sancodec.encode)
MAX_TAIL_VALUES = 1 << 24  # a tail of more values than this is coded with the rest (the decoder makes no larger one)


def _check_ranges(mode: str, max_error: float | None, prdn: float | None, snr: float | None, bps: float | None,
                  fs: float, frame_len: int | None) -> None:
    """Refuse, when the codec is made, values the encoder would refuse at the first chunk written (or never, where
    every chunk written equals the array's fill value, which zarr does not encode)."""
    import math

    from sancodec.codec.lossy import LossyTarget

    if mode == "near-lossless" and max_error is None:
        raise SanConfigError("the near-lossless sancodec codec needs max_error (in the array's units)")
    if max_error is not None and not (max_error >= 0 and math.isfinite(max_error)):
        raise SanConfigError(f"the sancodec codec's max_error must be a finite number >= 0, got {max_error!r}")
    if mode == "lossy":
        LossyTarget(prdn, snr, bps)  # one valid target (its own errors)
    if not (fs > 0 and math.isfinite(fs)):
        raise SanConfigError(f"the sancodec codec's fs must be a positive finite number of Hz, got {fs!r}")
    if frame_len is not None and not 16 <= frame_len <= 1 << 24:
        raise SanConfigError(f"the sancodec codec's frame_len must be in 16..16777216, got {frame_len}")


def check_array_form(shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse an array the codec cannot hold whatever its values: rank other than 1 or 2, a type that is not a
    number, an integer type that is not numpy's own (``encode`` and a Zarr array's ``validate`` both ask)."""
    if len(shape) not in (1, 2):
        raise SanConfigError(f"the sancodec codec takes (n,) or (n, channels) arrays, got shape {tuple(shape)}")
    if dtype.kind in "iu" and dtype.name not in INTEGERS:
        raise SanConfigError(f"the sancodec codec holds {', '.join(INTEGERS)} integers, not {dtype}")
    if dtype.kind not in "iuf":
        raise SanConfigError(f"the sancodec codec holds numbers, not {dtype}")


def _check_wide_integers(x: np.ndarray) -> None:
    """Refuse 64-bit integers beyond ±2**53, which a ``.san`` does not hold exactly (checked before int64, which a
    uint64 of 2**63 or more would wrap)."""
    if x.dtype.itemsize == 8 and beyond_exact_range(x):
        low, high = int(x.min()), int(x.max())
        raise SanConfigError(f"the sancodec codec holds {x.dtype} values within ±2**53 exactly, and this chunk "
                             f"holds {low if low < -MAX_ABS_SAMPLE else high}: take another codec for it")


def _constant_tail(x: np.ndarray) -> int:
    """How many of ``x``'s last rows hold one value in every channel, where rows before them hold others and the
    rows hold at most :data:`MAX_TAIL_VALUES` values; else 0. Zarr pads an array's edge chunk to the chunk's shape
    with the fill value, and a lossy target met over the padded chunk lets the rows before them (far from it, as a
    uint16 ADC's are from 0) take the error of that step: the chunk is coded without them, which its decode puts
    back exactly (the target then holds on those rows and, the padding exact, on the chunk)."""
    fill = x[-1, 0]
    if np.isinf(fill):  # (refused by the coder, as it was)
        return 0
    same = np.isnan(x).all(axis=1) if np.isnan(fill) else (x == fill).all(axis=1)  # (a NaN fill value's padding)
    if same.all():
        return 0
    tail = len(x) - 1 - int(np.flatnonzero(~same)[-1])
    return tail if tail * x.shape[1] <= MAX_TAIL_VALUES else 0


def _with_tail(arr: np.ndarray, tail: int, fill: str, dtype: np.dtype) -> np.ndarray:
    """``arr`` (rows by channels) with ``tail`` rows of ``fill`` (a payload's tag, :data:`_TAG`) after it; a tag
    past :data:`MAX_TAIL_VALUES` values, or whose fill is not a value of ``dtype``, is a SanFormatError."""
    if tail * arr.shape[1] > MAX_TAIL_VALUES:
        raise SanFormatError(f"the payload's tail of {tail} rows is more than the codec makes")
    try:
        if fill == "nan" and dtype.kind == "f":  # (a NaN fill value's padding)
            filled = np.array(np.nan)
        else:
            value = float.fromhex(fill) if fill.startswith(("0x", "-0x")) else int(fill)
            filled = np.array(value, dtype=np.float64 if dtype.kind == "f" else np.int64)
            if filled != value or (dtype.kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max):
                raise ValueError(fill)
    except (ValueError, OverflowError):
        raise SanFormatError(f"the payload's tail value {fill!r} is not a value of {dtype}") from None
    out = np.empty((len(arr) + tail, arr.shape[1]), dtype=dtype)  # (np.concatenate gives a big-endian type back
    out[: len(arr)], out[len(arr) :] = arr, filled  # in the machine's order)
    return out


class Sancodec(Codec):
    """``mode``: lossless (default), near-lossless (``max_error``, in the array's units) or lossy (one target:
    ``prdn``, percent; ``snr``, dB; or ``bps``, bits per sample; ``effort``: best, balanced or fast, as
    ``sancodec encode --effort``, None for its default, balanced; a config written before the efforts were renamed
    holds ``"default"``, read as None); ``fs``: the sampling rate the lossy coder's beat finder assumes (Hz);
    ``frame_len``: samples per frame inside the payload (default: sancodec's)."""

    codec_id = "sancodec"

    def __init__(self, mode: str = "lossless", max_error: float | None = None, prdn: float | None = None,
                 fs: float = 250.0, frame_len: int | None = None, snr: float | None = None, bps: float | None = None,
                 effort: str | None = None) -> None:
        from sancodec.codec.lossy import check_effort

        if mode not in ("lossless", "near-lossless", "lossy"):
            raise SanConfigError(f"sancodec codec mode must be lossless, near-lossless or lossy, got {mode!r}")
        targets = {k: v for k, v in (("prdn", prdn), ("snr", snr), ("bps", bps)) if v is not None}
        if mode == "lossy" and len(targets) != 1:
            raise SanConfigError("the lossy sancodec codec needs one target: prdn (percent), snr (dB) or bps (bits "
                                 f"per sample), got {', '.join(targets) or 'none'}")
        for name, value, kinds in (("max_error", max_error, (int, float)), ("prdn", prdn, (int, float)),
                                   ("snr", snr, (int, float)), ("bps", bps, (int, float)),
                                   ("fs", fs, (int, float)), ("frame_len", frame_len, (int,))):
            if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):  # a config's "2"
                raise SanConfigError(f"the sancodec codec's {name} must be a number, got {value!r}")
        effort = None if effort == "default" else effort  # (a config written before the efforts were renamed)
        check_effort(effort)
        _check_ranges(mode, max_error, prdn, snr, bps, fs, frame_len)
        for name, given, wanted in (("max_error", max_error, "near-lossless"), ("prdn", prdn, "lossy"),
                                    ("snr", snr, "lossy"), ("bps", bps, "lossy"),
                                    ("effort", effort, "lossy")):
            if given is not None and mode != wanted:
                raise SanConfigError(f"the sancodec codec's {name} applies to {wanted} mode, not {mode}")
        self.mode, self.max_error, self.prdn, self.fs, self.frame_len = mode, max_error, prdn, fs, frame_len
        self.snr, self.bps, self.effort = snr, bps, effort

    def encode(self, buf: Any) -> bytes:
        import sancodec

        arr = ensure_ndarray(buf)
        if arr.size == 0:
            raise SanConfigError(f"the sancodec codec takes (n,) or (n, channels) arrays, got shape {arr.shape}")
        check_array_form(arr.shape, arr.dtype)
        x = arr.reshape(len(arr), -1)
        _check_wide_integers(x)
        c = x.shape[1]
        exact = arr.dtype.kind == "f" and arr.dtype.itemsize in (2, 4, 8)  # float32 stays float32 for its decimals,
        # float16 goes as the float32s it widens to exactly (lossless: their step or bits, format 1.18)
        samples = x.astype(np.float32) if exact and arr.dtype.itemsize == 2 else \
            x.astype(arr.dtype.newbyteorder("=")) if exact else \
            x.astype(np.float64) if arr.dtype.kind == "f" else x.astype(np.int64)
        names, tag = [f"ch{k}" for k in range(c)], [f"numcodecs {arr.dtype.str} {arr.ndim}"]
        tail = _constant_tail(samples) if self.mode == "lossy" else 0
        if tail:  # a Zarr array's edge chunk, padded with its fill value (NaN too): the rows before held to the
            fill = samples[-1, 0].item()  # target alone
            tag = [f"{tag[0]} tail {tail} {fill.hex() if isinstance(fill, float) else fill}"]
            samples = samples[: len(samples) - tail]
        options: dict[str, Any] = {"frame_len": self.frame_len}
        if self.mode == "near-lossless":
            options["max_error"] = self.max_error
        if self.mode == "lossy":
            options.update({k: v for k, v in (("prdn", self.prdn), ("snr", self.snr), ("bps", self.bps))
                            if v is not None}, effort=self.effort)
        if arr.dtype.kind == "f" and np.isnan(samples).any():  # gaps: decimals held exactly, coded apart in the
            return self._gapped_payload(samples, names, tag, options)  # lossy modes, which round other floats
        signal = Signal(samples, float(self.fs), names, [""] * c, comments=tag)
        if arr.dtype.kind == "f" and self.mode == "lossless" and not exact:  # (float32 and float64 stay as they
            raise SanConfigError(_LOSSLESS_FLOATS)  # are: encode finds their decimals, or their step, or refuses)
        try:
            return sancodec.encode(signal, mode=self.mode, **options)
        except LosslessFloatsError:  # floats on no step (the library looked for one): said as the codec says it
            raise SanConfigError(_LOSSLESS_FLOATS) from None

    def _gapped_payload(self, samples: np.ndarray, names: list[str], tag: list[str], options: dict[str, Any]) -> bytes:
        """A float chunk with NaN in this codec's mode: decimals as :meth:`_gapped` holds them (exact in lossless
        mode; the lossy modes code the gaps apart, format 1.15, the other values at the target or within the
        error); in the lossy modes, other floats rounded to what the target needs first (``codec.nanfloats``, the
        rounding counted against it)."""
        from sancodec.codec.api import encode_rounded, gaps_rounder

        rounding: list = []  # (what the lossy modes' rounder rounded: the file's PRDNs are measured against it)
        rounder = gaps_rounder(self.mode, self.max_error, self.prdn, self.snr, self.bps, rounding) \
            if samples.dtype.itemsize in (4, 8) else None
        values = samples if rounder is None else rounder(samples)
        return encode_rounded(self._gapped(values, names, tag), rounding[0] if rounding else None, mode=self.mode,
                              **options)

    def _gapped(self, samples: np.ndarray, names: list[str], tag: list[str]) -> Signal:
        """A float chunk with NaN as a signal of its decimals with gaps (``decimals.gapped_units``), which lossless
        mode holds exactly and the other modes code apart (format 1.15), each decoding with its NaN again; one
        SanConfigError otherwise."""
        held = gapped_units(samples) if samples.dtype.itemsize in (4, 8) else None
        if held is None:
            raise SanConfigError(f"the sancodec codec holds NaN among decimals of at most {MAX_DECIMALS} places within "
                                 "32 bits in lossless mode; this chunk holds other floats (fill the NaN, take "
                                 "near-lossless or lossy mode, or another codec)")
        units, places, value = held
        return with_decimals(Signal(units, float(self.fs), names, [""] * len(names), comments=tag), places, units,
                             gap=(value, "NaN"), values=samples)

    def decode(self, buf: Any, out: Any = None) -> np.ndarray:
        from sancodec.codec.api import decode_file

        decoded = decode_file(ensure_bytes(buf)).signal
        tag = next((m for m in map(_TAG.fullmatch, decoded.comments) if m), None)
        if tag is None:
            raise SanFormatError("not a payload of the sancodec numcodecs codec (no dtype tag)")
        dtype = np.dtype(tag["dtype"])
        decimal = decimal_values(decoded)
        samples = decoded.samples if decimal is None else decimal[0]
        if dtype.kind in "iu":  # a lossy reconstruction may overshoot the type's range: clip, never wrap
            info = np.iinfo(dtype)
            samples = np.clip(np.rint(samples), info.min, info.max)
        arr = samples.astype(dtype)
        if tag["tail"] is not None:
            arr = _with_tail(arr, int(tag["tail"]), tag["fill"], dtype)
        if tag["rank"] == "1":
            arr = arr.reshape(-1)
        return ndarray_copy(arr, out)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "id")
        return f"Sancodec({options})"
