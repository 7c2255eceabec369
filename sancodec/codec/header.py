"""The ``.san`` JSON header: built by :func:`to_header`, read back and validated by :func:`from_header`.

The container stores the header as canonical JSON; this module decides what it holds
(mode, error bound, frame length, sample counts, amplitude step, model, per-channel
checksums and quanta, the signal's metadata) and never trusts a value it reads.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sancodec.codec.annotations import pack_annotations, unpack_annotations
from sancodec.codec.floatgrid import float32_of_folded
from sancodec.codec.frames import KERNEL_SCALE, FramePlan, quantized_kernels
from sancodec.codec.gaps import Gaps, parse_floors, parse_gaps
from sancodec.codec.limits import DEFAULT_LIMITS, MAX_ERROR, DecodeLimits
from sancodec.codec.neargrid import NearGrid, near_values
from sancodec.codec.schema import MODES, check_header
from sancodec.errors import SancodecWarning, SanFormatError
from sancodec.san.spec import SanSpec
from sancodec.signal import KEPT_TEXTS, MAX_FRAME_ROWS, Signal, annotation_rate, channel_crc32, frame_rows

__all__ = ["MODES", "FileLayout", "check_sample_checksums", "file_mode", "float_values", "from_header",
           "sample_checksums", "to_header"]


def file_mode(header: dict[str, Any]) -> str:
    """The ``--mode`` a file was encoded with, as a user names it: ``san`` for the paper's SAN-only code, whose
    header says ``lossy`` (what it was called before the targeted lossy mode, which records its target), else the
    header's mode."""
    mode = str(header.get("mode"))
    return "san" if mode == "lossy" and not header.get("lossy") else mode



def sample_checksums(digital: np.ndarray, running: list[int] | None = None) -> list[int]:
    """CRC-32 of each channel's int64 little-endian samples (lossless files carry them); with
    ``running``, the checksums of earlier rows continued over these (streams)."""
    return channel_crc32(digital, running)


def check_sample_checksums(got: list[int], stored: list[int]) -> None:
    """Refuse decoded samples whose per-channel CRC-32 differs from the lossless file's."""
    for ch, (crc, want) in enumerate(zip(got, stored)):
        if crc != want:
            raise SanFormatError(f"channel {ch}: decoded samples fail the lossless checksum")


def to_header(signal: Signal, plan: FramePlan, *, frame_len: int, n: int, max_error: float | int | None,
              quantum: list[float] | None, crcs: list[int] | None, uses_model: bool,
              embed_model: bool, float32: bool = False, near: list[NearGrid] | None = None) -> dict[str, Any]:
    """The header of a file coded with ``plan``; the model only when a frame uses the SAN path; ``float32`` (format
    1.18, a lossless file): its samples are float32 and decode so, each the float32 nearest its integer times the
    step where there is a ``quantum``, else the float32 whose bits, its sign last, its integer is
    (``floatgrid.folded_ints``); ``near`` (format 1.19, a lossless file of float64 values near each channel's step,
    ``codec.neargrid``): each channel's grid, whose step is its ``quantum``."""
    spec = plan.spec
    model = None
    if uses_model and spec is not None:
        model = {"sha256": spec.sha256(), "spec": spec.to_dict() if embed_model else None}
    header = {
        "format": "sancodec",
        "mode": plan.mode,
        "max_error": max_error,
        "frame_len": frame_len,
        "n_samples": n,
        "n_channels": signal.n_channels,
        "amplitude_step": plan.step,
        "kernel_scale": KERNEL_SCALE,
        "quantum": quantum,
        "sample_crc32": crcs,
        "model": model,
        "signal": _kept_source({**signal.header_dict(), "annotations": pack_annotations(signal.annotations,
                                                                                   annotation_rate(signal))},
                               plan.mode),
    }
    if float32:
        header["float32"] = True
    if near is not None:
        header["near_grid"] = [list(grid.fields()) for grid in near]  # type: ignore[assignment]
    return header


def _kept_source(head: dict[str, Any], mode: str) -> dict[str, Any]:
    """A signal entry as a file of ``mode`` keeps it: a record's kept ``.hea`` text or EDF header (``io.wfdb_text``,
    ``io.edf_text``) only in a lossless file, whose decode alone gives back the samples that text describes."""
    source = head.get("source")
    if mode == "lossless" or not (isinstance(source, dict) and set(KEPT_TEXTS) & set(source)):
        return head
    rest = {k: v for k, v in source.items() if k not in KEPT_TEXTS}
    return {**head, "source": rest or None}


@dataclass
class FileLayout:
    """What a decoder needs from a validated header."""

    plan: FramePlan
    n_samples: int
    n_channels: int
    frame_len: int
    steps: list[int]  # rows per sample of each channel (multi-frequency records)
    signal_head: dict[str, Any]
    quantum: list[float] | None
    sample_crc32: list[int] | None
    gaps: Gaps | None = None  # format 1.15: a lossy file's gaps (``codec.gaps``)
    floors: list[int | None] | None = None  # format 1.16: the least value each channel decodes to outside its gaps
    float32: bool = False  # format 1.18: a lossless file of float32 samples on a step (``quantum``), decoded as float32
    near: list[NearGrid] | None = None  # format 1.19: a lossless file of float64 values near each channel's step

    def annotations(self, limits: DecodeLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
        """The annotations, every position within [0, n_samples] and their count capped."""
        return unpack_annotations(self.signal_head.get("annotations", []), self.n_samples, limits.max_annotations)


def float_values(rows: np.ndarray, layout: FileLayout) -> np.ndarray:
    """A float file's decoded integers ``rows`` as its values: times each channel's ``quantum`` (float64), rounded to
    float32 where the file says its samples are (``float32``, format 1.18); refused where one is not finite (a hostile
    step, or a product past float32's range). A float32 file without a quantum holds the values' bits, sign last
    (``floatgrid.float32_of_folded``); a float64 file near its steps, each channel's count and correction
    (``neargrid.near_values``, format 1.19)."""
    if layout.quantum is None:
        assert layout.float32
        return float32_of_folded(rows)
    if layout.near is not None:  # (format 1.19: each channel's count and correction, codec.neargrid)
        values = np.empty(rows.shape, dtype=np.float64)
        for ch, grid in enumerate(layout.near):
            values[:, ch] = near_values(rows[:, ch], grid)
        return values
    values = rows * np.asarray(layout.quantum, dtype=np.float64)
    if layout.float32:
        with np.errstate(over="ignore"):
            values = values.astype(np.float32)
    if not np.all(np.isfinite(values)):
        raise SanFormatError("header field 'quantum' scales samples beyond the float range"
                             + (" of float32" if layout.float32 else ""))
    return values


def header_int(header: dict[str, Any], key: str, low: int, high: int) -> int:
    """An integer header field within [low, high]; anything else is a format error."""
    value = header.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SanFormatError(f"header field {key!r} = {value!r} is invalid")
    return value


def _model(header: dict[str, Any], extra: SanSpec | None) -> SanSpec | None:
    info = header.get("model")
    if info is None:
        return None
    if not isinstance(info, dict):
        raise SanFormatError("header has an invalid model entry")
    if info.get("spec") is not None:
        spec = SanSpec.from_dict(info["spec"])
        if spec.sha256() != info.get("sha256"):
            raise SanFormatError("embedded model does not match its SHA-256")
        if spec.dim != 1:
            raise SanFormatError("header field 'model': the codec's models are 1-D, this one is 2-D")
        return spec
    from sancodec.san.bundled import find_model

    return find_model(str(info.get("sha256")), extra=extra)


def _plan(header: dict[str, Any], extra: SanSpec | None) -> FramePlan:
    if header.get("format") != "sancodec":
        raise SanFormatError("header is not a sancodec header")
    mode = header.get("mode")
    if mode not in MODES:
        raise SanFormatError(f"unknown mode {mode!r} in header")
    spec = _model(header, extra)
    step = header.get("amplitude_step")
    if not isinstance(step, (int, float)) or not step > 0:
        raise SanFormatError(f"invalid amplitude step {step!r}")
    emax = header_int(header, "max_error", 0, MAX_ERROR) if header.get("quantum") is None else 0
    if header.get("kernel_scale") != KERNEL_SCALE:
        raise SanFormatError(f"unsupported kernel scale {header.get('kernel_scale')!r}")
    return FramePlan(mode, emax, float(step), spec, quantized_kernels(spec) if spec is not None else [])


def _sample_steps(spf: Any, c: int, n: int, frame_len: int) -> list[int]:
    """Rows per sample of each channel from the header's samples per frame (validated)."""
    if spf is None:
        return [1] * c
    if (not isinstance(spf, list) or len(spf) != c
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1 << 16 for v in spf)):
        raise SanFormatError(f"invalid samples_per_frame {spf!r} in header")
    m = frame_rows(spf)
    if m > MAX_FRAME_ROWS or n % m or frame_len % m:
        raise SanFormatError(f"samples_per_frame {spf} does not fit {n} samples in frames of {frame_len}")
    return [m // v for v in spf]


def warn_unused_model(layout: FileLayout, given: SanSpec | None) -> None:
    """A :class:`SancodecWarning` where a decoder was handed a model (``given``) that the file does not decode with:
    it embeds or references another, or uses none. The file decodes as written; the model is not used."""
    if given is None:
        return
    used = layout.plan.spec
    if used is None:
        warnings.warn(f"the model given ({given.sha256()[:16]}…) is not used: this {layout.plan.mode} file decodes "
                      "without one", SancodecWarning, stacklevel=3)
    elif used.sha256() != given.sha256():
        warnings.warn(f"the model given ({given.sha256()[:16]}…) is not used: the file decodes with its own, "
                      f"{used.sha256()[:16]}…", SancodecWarning, stacklevel=3)


def from_header(header: dict[str, Any], model: SanSpec | None = None,
                limits: DecodeLimits = DEFAULT_LIMITS) -> FileLayout:
    """Validate ``header`` and return the decoder's view of it (``model``: a spec the file may reference)."""
    check_header(header, limits)
    plan = _plan(header, model)
    n = header_int(header, "n_samples", 1, 1 << 40)
    c = header_int(header, "n_channels", 1, 1 << 16)
    frame_len = header_int(header, "frame_len", 16, 1 << 24)
    signal_head = header.get("signal")
    if not isinstance(signal_head, dict):
        raise SanFormatError("header has no signal entry")
    steps = _sample_steps(signal_head.get("samples_per_frame"), c, n, frame_len)
    quantum = header.get("quantum")
    if quantum is not None and (not isinstance(quantum, list) or len(quantum) != c):
        raise SanFormatError("invalid quantum list in header")
    lossy = header.get("lossy")  # (a near-lossless file's gaps sit at the header's top, 1.15)
    near = header.get("mode") == "near-lossless"
    entry = header.get("gaps") if near else lossy.get("gaps") if isinstance(lossy, dict) else None
    gaps = parse_gaps(entry, n, steps, "gaps" if near else "lossy.gaps")
    floors = parse_floors(header.get("floor"), c)
    if floors is not None and (header.get("mode") == "lossless" or quantum is not None):
        raise SanFormatError("header field 'floor' belongs to a lossy or near-lossless file of integer samples")
    # (check_header refused any float32 field but a lossless file's true, and a near_grid but beside a quantum)
    grids = header.get("near_grid")
    near_grids = None if grids is None or quantum is None else [NearGrid(float(q), float(o), e, h, b)
                                                                for q, (o, e, h, b) in zip(quantum, grids)]
    return FileLayout(plan, n, c, frame_len, steps, signal_head, quantum, header.get("sample_crc32"), gaps, floors,
                      header.get("float32") is True, near_grids)
