"""What happens to a signal and the options before any frame is coded: the options checked, the
model resolved, the samples turned into the integers the frames code (float sources on a grid)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sancodec.codec.floatgrid import folded_ints, grid_step, grid_steps32, integers_on
from sancodec.codec.limits import MAX_ERROR
from sancodec.codec.neargrid import LEAST_EXPONENT, NearGrid, near_grid, near_integers
from sancodec.codec.schema import is_real, is_whole
from sancodec.errors import SanConfigError, option
from sancodec.san.spec import SanSpec
from sancodec.signal import MAX_ABS_SAMPLE, Signal, beyond_exact_range

__all__ = ["ENCODE_MODES", "LOSSLESS_FLOATS", "Digitized", "LosslessFloatsError", "check_mode", "check_options",
           "decimal_bound", "digitize", "held_ints", "lossless_floats", "on_grid", "resolve_model", "whole_frames"]

#: Why lossless mode refuses a floating-point signal (neither decimals, ``io.decimals``, nor on a step, ``floatgrid``)
LOSSLESS_FLOATS = ("lossless mode needs integer samples, float32 ones, decimals of at most 9 places, or each channel's "
                   "values within a few units in the last place of whole multiples of one step from an offset (counts "
                   "scaled in float64); this signal's are none of these (use near-lossless with "
                   f"{option('max_error')} in its units, or store them as float32 if that is what they were)")


class LosslessFloatsError(SanConfigError):
    """Lossless mode's refusal of floats that are neither decimals nor on a step (:data:`LOSSLESS_FLOATS`), apart from
    every other bad option: the callers that weigh a lossless file of floats (a near-lossless encode, the numcodecs
    codec) catch this one alone."""


#: What ``encode`` offers: ``lossy`` at a quality target (prdn, snr or bps), ``san`` (the paper's
#: SAN-only representation, for φ and the reproduction; stored as a lossy file), near-lossless, lossless.
ENCODE_MODES = ("lossy", "san", "near-lossless", "lossless")


def resolve_model(model: SanSpec | str | os.PathLike[str] | None) -> SanSpec:
    if isinstance(model, SanSpec):
        spec = model
    elif model is None:
        from sancodec.san.bundled import default_model

        spec = default_model()
    else:
        from sancodec.san.spec import load_model

        if isinstance(model, str) and model in ENCODE_MODES and not os.path.exists(model):  # encode(sig, "lossy")
            raise SanConfigError(f"the argument after the signal is the SAN model, not the mode: give the mode by "
                                 f"name, encode(signal, mode={model!r}, ...)")
        spec = load_model(model)
    if spec.dim != 1:
        raise SanConfigError("the codec encodes 1-D signals; this model is 2-D")
    return spec


def given_model(model: SanSpec | str | os.PathLike[str] | None) -> SanSpec | None:
    """The model given to decode a file that only references one: a :class:`SanSpec`, or a path to a model file or
    to a folder ``sancodec export`` wrote (``load_model``); None where none was given."""
    if model is None or isinstance(model, SanSpec):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise SanConfigError(f"model= takes a SanSpec, a model file's path or an exported folder's, got "
                             f"{type(model).__name__}")
    from sancodec.san.spec import load_model

    return load_model(model)


def held_ints(rows: np.ndarray) -> np.ndarray:
    """A block of integer rows to code as it is held: int16 and int32 as they are (an EDF's 20 channels over 2^20
    rows are 42 MB of int16, 168 MB of int64; ``lossyfile.code_block`` widens each channel's frames as it codes
    them), any other integers as int64, as :func:`digitize` takes them."""
    return rows if rows.dtype in (np.dtype(np.int16), np.dtype(np.int32)) else np.asarray(rows, dtype=np.int64)


def decimal_bound(signal: Signal, max_error: float | None) -> float | None:
    """A near-lossless bound as the integers of ``signal`` hold it: a signal of decimals held as integers (a CSV's
    millivolts with a gap among them, a decoded decimal file: ``io.decimals``, a gain of 10^d) takes it in the units
    of its values, as the same values without a gap take it, so the whole number of 10^-d's within it (the coarsest
    channel's, where their places differ and ``io.decimals.common_places`` could not make them one: a finer
    channel's error then stays further within it); any other signal's bound (ADC units), or one that is no positive
    finite number (refused later, in words), as it is."""
    given = max_error
    if given is None or not signal.is_digital or not (is_real(max_error) and 0 < max_error < math.inf):
        return given
    from sancodec.io.decimals import header_decimals  # (io imports the codec package: not at the top)

    places = header_decimals(signal.header_dict())
    if not places:
        return given
    return float(math.floor(round(float(given) * 10 ** min(places), 6)))  # (0.003 mV at 10^-3: 3 units, not 2)


class Digitized(NamedTuple):
    """:func:`digitize`'s answer: the integer samples to code, the quantum per channel for float sources, the integer
    max error, and for a lossless file of float64 values near their steps each channel's grid (format 1.19)."""

    digital: np.ndarray
    quantum: list[float] | None
    emax: int
    near: list[NearGrid] | None = None


NEAR_SPAN = 1 << 24  # a channel on a step (format 1.17) whose integers span more than this is weighed near a grid too


def digitize(signal: Signal, mode: str, max_error: float | None, max_prdn: float | None = None,
             near: bool = True, float32_room: bool = True) -> Digitized:
    """Integer samples to code, the quantum per channel for float sources, the integer max error (and the grids of
    float64 values near their steps: :func:`lossless_floats`; with ``near`` False, as the streaming writer asks,
    whose later blocks must lie on the first one's grid, steps alone; ``float32_room``: a near-lossless grid of
    float32 samples leaves room for their decode's rounding to float32, :func:`float32_error_room`, which a stream,
    whose blocks share one grid, does not).

    Lossy float sources sit on a grid of std / 1024 per channel (a PRDN floor of about 0.03 %),
    finer when ``max_prdn`` asks for less: the grid never decides whether a target can be met; a flat channel on
    one of its own value (:func:`_flat_quantum`), which it decodes to exactly."""
    if signal.is_digital:
        if beyond_exact_range(signal.samples):
            raise SanConfigError("integer samples beyond ±2**53: sancodec holds integers within ±2**53 exactly "
                                 "and refuses the rest")
        e = 0 if max_error is None else max_error
        if mode == "near-lossless" and (e != int(e)):
            raise SanConfigError(f"{option('max_error')} must be a whole number of digital units for this record, "
                                 f"got {e}")
        digital = np.asarray(signal.samples, dtype=np.int64)  # no copy of int64 samples (a 24-h record's 500 MB) ...
        if digital is signal.samples:
            digital = digital.view()
            digital.flags.writeable = False  # ... and nothing downstream may write into the caller's signal
        return Digitized(digital, None, int(e))
    x = signal.samples.astype(np.float64)
    if mode == "lossless":  # floats that are whole multiples of a step per channel (floatgrid): those integers
        # (float32 samples: each the float32 nearest its multiple, format 1.18; on no step, their bits)
        if signal.samples.dtype == np.float32:
            steps32 = grid_steps32(signal.samples)
            return Digitized(folded_ints(signal.samples), None, 0) if steps32 is None else \
                Digitized(integers_on(x, steps32), steps32, 0)
        return lossless_floats(x, near)
    if mode == "near-lossless":
        if not (max_error or 0) > 0:
            raise SanConfigError(f"near-lossless coding of floating-point samples needs {option('max_error')} > 0")
        quantum = [2.0 * float(max_error or 0.0)] * signal.n_channels
        if float32_room and signal.samples.dtype == np.float32:  # decoded back to float32 (the npy writer, a
            # float32 source's): room for that rounding (not a stream's blocks, which share one grid, decoded float64)
            quantum = [2.0 * room for room in float32_error_room(x, float(max_error or 0.0))]
            if min(quantum, default=1.0) <= 0:
                raise SanConfigError(f"{option('max_error')} {max_error} is finer than these float32 values' own "
                                     "spacing: only lossless mode keeps them within it")
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # a spread past float64's range is refused below
            std = x.std(axis=0)
        finer = 1.0 if max_prdn is None else min(1.0, max_prdn / 0.1)
        quantum = [_flat_quantum(x[:, k]) if _is_flat(x[:, k]) else float(s / 1024 * finer) if s > 0 else 1.0
                   for k, s in enumerate(std)]
    scaled = on_grid(x, quantum)
    if scaled is None:
        if mode == "near-lossless":
            raise SanConfigError(f"{option('max_error')} {max_error} is too fine for these values: on its grid they "
                                 "exceed 2**53")
        raise SanConfigError("these values are too large for their spread: on the lossy grid (a channel's standard "
                             "deviation / 1024) they exceed 2**53; subtract their offset first")
    return Digitized(scaled, quantum, 0)


def lossless_floats(x: np.ndarray, near: bool = True) -> Digitized:
    """Float64 samples ``x`` (samples x channels) as a lossless file holds them: each channel on its step
    (``floatgrid.grid_step``, format 1.17) where it has one whose integers span at most :data:`NEAR_SPAN`, else near a
    step (``neargrid.near_grid``, format 1.19: a count and a correction) where that spans less or there is no step;
    every channel then goes so, those on a step as grids with no offset and no correction (without ``near``, steps
    alone). A LosslessFloatsError where a channel has neither."""
    columns: list[tuple[np.ndarray, NearGrid, bool]] = []  # each channel's integers, its grid, whether near one
    for column in x.T:
        column = np.ascontiguousarray(column)
        step = grid_step(column)
        exact = None if step is None else (np.rint(column / step).astype(np.int64), NearGrid(step, 0.0, LEAST_EXPONENT,
                                                                                             0, 0), False)
        if near and (exact is None or (exact[0].size and int(np.ptp(exact[0])) > NEAR_SPAN)):
            grid = near_grid(column)
            z = None if grid is None else near_integers(column, grid)
            if z is not None and grid is not None and (exact is None or np.ptp(z) < np.ptp(exact[0])):
                exact = (z, grid, True)
        if exact is None:
            raise LosslessFloatsError(LOSSLESS_FLOATS)
        columns.append(exact)
    digital = np.stack([z for z, _, _ in columns], axis=1) if columns else np.zeros(x.shape, dtype=np.int64)
    steps = [grid.step for _, grid, _ in columns]
    grids = [grid for _, grid, _ in columns] if any(n for _, _, n in columns) else None
    return Digitized(digital, steps, 0, grids)


def float32_error_room(x: np.ndarray, max_error: float) -> list[float]:
    """Per channel of float32 values ``x`` (samples x channels, as float64), the error a near-lossless grid may leave
    so that its decode, rounded to float32 as a float32 source's comes back, is still within ``max_error``: that, less
    half the float32 spacing at the largest magnitude a decode can reach (a channel's largest plus the error); 0 or
    less where the error is finer than that spacing."""
    with np.errstate(over="ignore", invalid="ignore"):
        peaks = np.abs(x).max(axis=0, initial=0.0) + max_error
        spacing = np.spacing(peaks.astype(np.float32)).astype(np.float64)
    return [float(max_error - h / 2) if np.isfinite(h) else 0.0 for h in spacing]


def on_grid(x: np.ndarray, quantum: Sequence[float]) -> np.ndarray | None:
    """Floats ``x`` (samples x channels) as the nearest whole multiples of each channel's ``quantum``, int64; None
    where the grid is not finite or a value there passes 2^53 (the caller says why in its own words)."""
    q = np.asarray(quantum, dtype=np.float64)
    scaled = np.rint(x / q)
    if not np.isfinite(q).all() or scaled.size and float(np.abs(scaled).max()) > MAX_ABS_SAMPLE:
        return None
    return scaled.astype(np.int64)


def _is_flat(column: np.ndarray) -> bool:
    """Whether a float channel holds one value throughout (a lead off, a sensor at rest)."""
    return bool(len(column)) and bool(np.all(column == column[0]))


def _flat_quantum(column: np.ndarray) -> float:
    """A flat channel's lossy grid: its own magnitude, so that it is one step (±1) and decodes to the very value
    (0.1 is no multiple of a grid of 1, and its spread, zero or a rounding's, sets none); 1 for zeros."""
    return abs(float(column[0])) or 1.0


#: ``auto``: the raw-signal codings only. The SAN path has never paid for its activations in lossless or
#: near-lossless mode on any record in ../shared/data (benchmarks/bench_codec.py, "SAN predictor only"), and
#: running the SAN on every frame costs a third of the encode time. ``fast`` is ``auto`` without the
#: sequential adaptive stages (the LMS stage, long-term prediction): files decode faster and are a few
#: percent larger (benchmarks/bench_codec.py, "Throughput"). ``all`` tries every coding per frame;
#: ``san`` and ``raw`` force one path (for measurement).
PREDICTORS = ("auto", "fast", "all", "san", "raw")


def whole_frames(frame_len: int, m: int) -> int:
    """``frame_len`` rows made whole frames of ``m`` rows (a multi-frequency record's frame: every channel's samples
    whole), 16 rows at least: the frame length every encoder codes with."""
    return max(frame_len - frame_len % m, -(-16 // m) * m)


def check_mode(mode: str) -> None:
    """Refuse a mode no encoder has (before any option is judged by it: ``mode="losy", prdn=1`` was told its target
    is not one of mode losy)."""
    if mode not in ENCODE_MODES:
        raise SanConfigError(f"unknown mode {mode!r}; choose one of {', '.join(ENCODE_MODES)}")


def check_options(mode: str, max_error: float | None, predictor: str, amplitude_step: float,
                  frame_len: int) -> int:
    """Refuse options no encoder takes; the frame length as a plain int (a numpy integer is one too)."""
    if predictor not in PREDICTORS or (mode == "san" and predictor == "raw"):
        raise SanConfigError(f"predictor must be one of {', '.join(PREDICTORS)} (not raw for san), got {predictor!r}")
    check_mode(mode)
    if max_error is not None and not is_real(max_error):
        raise SanConfigError(f"{option('max_error')} must be a number, got {max_error!r}")
    if mode == "near-lossless":
        if max_error is None:
            raise SanConfigError(f"near-lossless needs {option('max_error')}: the largest error a sample may have, 0 "
                                 "or more (in the record's digital units; 0 is lossless)")
        if not (max_error >= 0) or not math.isfinite(max_error):
            raise SanConfigError(f"near-lossless needs {option('max_error')} >= 0, got {max_error!r}")
        if max_error > MAX_ERROR:
            raise SanConfigError(f"{option('max_error')} must be at most 2**40 (what a reader accepts), "
                                 f"got {max_error:g}")
    elif max_error is not None:
        raise SanConfigError(f"{option('max_error')} only applies to near-lossless mode, not {mode}")
    if not (amplitude_step > 0 and math.isfinite(amplitude_step)):
        raise SanConfigError(f"amplitude step must be positive, got {amplitude_step!r}")
    if not is_whole(frame_len):
        raise SanConfigError(f"frame length must be a whole number of samples, got {frame_len!r}")
    if not 16 <= frame_len <= (1 << 24):
        raise SanConfigError(f"{option('frame_len')} must be in 16..16777216, got {frame_len}")
    return int(frame_len)
