"""Choosing a SAN by the bytes it saves at a PRDN target, not by φ (``sancodec train --objective bytes``).

φ counts parameters; a codec is judged by bytes. Here a SAN is the lossy coder's predictor: the
record minus ``SAN(x)`` is wavelet-coded at the target by the lossy mode's own rate control, and the
SAN's activations (those below an amplitude ``floor`` dropped, the rest quantised with the amplitude
``step``, both in z-score units) are counted as the codec's SAN frames code them, plus its kernels at
2 bytes per tap when the model travels in the file. Every (q, m) of a grid is trained on the records'
first 80 % (its epoch chosen by validation φ̄ on every fifth of those segments, as ``train`` does), then
every (step, floor) is scored by those bytes on the held-out last 20 %; the fewest bytes win. Beside
the choice it reports the bytes of plain wavelet coding and of the lossy mode itself (``codec.lossy``:
its beat template and time-domain codings where they pay), so a user sees whether the SAN pays at all:
on the ECG records measured in ``docs/SAN_PREDICTOR.md`` it does not (1.08–2.92× the template's bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from sancodec.codec.entropy import encode_arrays
from sancodec.codec.lossy import LossyTarget, encode_channel
from sancodec.codec.lossyrate import FixedPrediction, Prepared, rate_control
from sancodec.errors import SanConfigError
from sancodec.san.runtime import engine_for
from sancodec.san.spec import SanSpec

__all__ = ["FLOORS", "STEPS", "RateCandidate", "RateSelection", "lossy_bytes", "san_prediction", "select_by_bytes",
           "split_held_out", "z_segments"]

STEPS = (0.02, 0.1, 0.3, 1.0, 3.0)  # amplitude quantiser steps tried (z-score units); 0.02 is the codec's default
FLOORS = (0.0, 2.0, 4.0, 8.0)  # activations below this (z-score units) dropped: fewer positions to code
KERNEL_BYTES_PER_TAP = 2  # a model trained for a record travels in its file (int16 kernels)
HELD_OUT = 0.2  # the records' last fifth scores bytes; the rest trains


@dataclass(frozen=True)
class RateCandidate:
    """One (q, m, amplitude step, floor) and the held-out bytes it costs, part by part."""

    q: int
    m: int
    step: float
    floor: float
    residual_bytes: int
    activation_bytes: int
    kernel_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.residual_bytes + self.activation_bytes + self.kernel_bytes


@dataclass(frozen=True)
class RateSelection:
    """The SAN with the fewest held-out bytes, every candidate scored, and the codec's own alternatives."""

    spec: SanSpec
    best: RateCandidate
    candidates: list[RateCandidate]
    plain_bytes: int  # wavelet coding of the held-out samples, no predictor
    lossy_mode_bytes: int | None  # ``--mode lossy`` on them (beat template where it pays; None without a rate)

    def metadata(self, prdn: float) -> dict[str, object]:
        """What the model file records about the choice."""
        best = {k: v for k, v in asdict(self.best).items() if k not in ("q", "m")}
        return {"objective": "bytes", "prdn": prdn, **best, "validation_bytes": self.best.total_bytes,
                "plain_wavelet_bytes": self.plain_bytes, "lossy_mode_bytes": self.lossy_mode_bytes}


def z_segments(x: np.ndarray, segment: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole segments of ``x``, z-scored one by one (the models' normalisation), their offsets and scales."""
    k = len(x) // segment
    seg = x[: k * segment].astype(np.float64).reshape(k, segment)
    offset, scale = np.rint(seg.mean(axis=1, keepdims=True)), seg.std(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    return (seg - offset) / scale, offset, scale


class _Activations(NamedTuple):
    """A SAN's activations of a channel's z-scored segments, with the segments' offsets and scales."""

    alpha: np.ndarray
    offset: np.ndarray
    scale: np.ndarray


def _activations(spec: SanSpec, x: np.ndarray, segment: int) -> _Activations | None:
    """The SAN's encoding of ``x`` (None where ``x`` holds no whole segment): computed once and quantised
    for every amplitude step and floor tried."""
    z, offset, scale = z_segments(x, segment)
    if not len(z):
        return None
    return _Activations(engine_for(spec).encode(z.astype(np.float32)), offset, scale)


def san_prediction(spec: SanSpec, x: np.ndarray, step: float, floor: float = 0.0,
                   segment: int = 1024) -> tuple[np.ndarray, int]:
    """``SAN(x)`` on the record's scale (activations below ``floor`` dropped, the rest quantised with
    ``step``; samples past the last whole segment predicted as themselves) and the bytes its activations
    take coded as the codec's SAN frames code them (per kernel: position gaps and amplitude steps)."""
    return _quantised_prediction(spec, _activations(spec, x, segment), x, step, floor)


def _quantised_prediction(spec: SanSpec, act: _Activations | None, x: np.ndarray, step: float,
                          floor: float) -> tuple[np.ndarray, int]:
    """:func:`san_prediction` from activations already computed."""
    if act is None:
        return x.astype(np.float64), 0
    engine, alpha, offset, scale = engine_for(spec), act.alpha, act.offset, act.scale
    aq = np.rint(np.where(alpha >= floor, alpha, 0) / step)
    pred = (engine.decode((aq * step).astype(np.float32)) * scale + offset).reshape(-1)
    flat = aq.transpose(1, 0, 2).reshape(spec.q, -1).astype(np.int64)  # (q, the samples)
    gaps, amps = [], []
    for row in flat:
        pos = np.flatnonzero(row > 0)
        gaps.append(np.diff(pos, prepend=-1) - 1)
        amps.append(row[pos] - 1)
    side = len(encode_arrays(gaps + amps, [False] * (2 * spec.q)))
    return np.concatenate([pred, x[len(pred):].astype(np.float64)]), side


def lossy_bytes(x: np.ndarray, prdn: float, prediction: np.ndarray | None = None) -> int:
    """Bytes of the lossy mode's wavelet frames for the integer samples ``x`` at PRDN ``prdn`` (percent),
    with ``prediction`` subtracted first where given (rate control on the decoded samples, as encoding does)."""
    given = [None] if prediction is None else [FixedPrediction(prediction)]
    prepared = Prepared([x], given)  # type: ignore[arg-type]  # (FixedPrediction predicts as a template does)
    return sum(map(len, rate_control(prepared, x.astype(np.float64), LossyTarget(prdn=prdn)).payloads()))


def _score(spec: SanSpec, held: Sequence[np.ndarray], prdn: float, segment: int, kernel_bytes: int,
           steps: Sequence[float], floors: Sequence[float]) -> list[RateCandidate]:
    """Every (step, floor) of ``spec`` scored by its held-out bytes (the SAN encodes each channel once)."""
    acts = [_activations(spec, x, segment) for x in held]
    out = []
    for step in steps:
        for floor in floors:
            residual = side = 0
            for x, act in zip(held, acts):
                pred, activations = _quantised_prediction(spec, act, x, step, floor)
                residual += lossy_bytes(x, prdn, pred)
                side += activations
            out.append(RateCandidate(spec.q, spec.kernel_sizes[0], step, floor, residual, side, kernel_bytes))
    return out


def split_held_out(channels: Sequence[np.ndarray], segment: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each channel's first 80 % (to train on) and last 20 % (to score bytes on), whole segments in each."""
    first, last = [], []
    for x in channels:
        cut = int(len(x) * (1 - HELD_OUT)) // segment * segment
        if cut < 2 * segment or len(x) - cut < segment:
            raise SanConfigError(f"a {len(x)}-sample channel is too short for --objective bytes with segments "
                                 f"of {segment}: it needs two to train on and one held out ({3 * segment} samples "
                                 "or more)")
        first.append(x[:cut])
        last.append(x[cut:])
    return first, last


def select_by_bytes(channels: Sequence[np.ndarray], prdn: float, qs: Sequence[int], ms: Sequence[int], *,
                    rates: Sequence[float | None] | None = None, activation: str = "peaks", segment: int = 1024,
                    epochs: int = 20, batch_size: int = 8, seed: int = 0, device: str = "auto",
                    steps: Sequence[float] = STEPS, floors: Sequence[float] = FLOORS,
                    on_candidate: Callable[[RateCandidate], None] | None = None) -> RateSelection:
    """The SAN of the (q, m) grid, amplitude step and floor with the fewest bytes on the held-out last
    fifth of ``channels`` (integer samples) at PRDN ``prdn``; see the module docstring. ``rates``: each
    channel's sampling rate, for the lossy mode's own bytes beside the choice (its beat template needs it)."""
    from sancodec.train.fit import fit
    from sancodec.train.model import SAN

    if not qs or not ms or min(qs) < 1 or min(ms) < 1:
        raise SanConfigError("--objective bytes needs at least one kernel count and one kernel size, all >= 1")
    LossyTarget(prdn=prdn)  # a clear error for a bad target before any training
    first, held = split_held_out(channels, segment)
    segs = np.concatenate([z_segments(x, segment)[0] for x in first]).astype(np.float32)
    val = np.arange(len(segs)) % 5 == 4
    candidates: list[tuple[RateCandidate, SanSpec]] = []
    for q in qs:
        for m in ms:
            model = SAN([m] * q, activation, seed=seed)
            fit(model, segs[~val], segs[val], epochs=epochs, batch_size=batch_size, seed=seed, device=device)
            spec = model.to_spec(normalization={"kind": "zscore"})
            for c in _score(spec, held, prdn, segment, KERNEL_BYTES_PER_TAP * q * m, steps, floors):
                candidates.append((c, spec))
                if on_candidate is not None:
                    on_candidate(c)
    best, spec = min(candidates, key=lambda cs: (cs[0].total_bytes, cs[0].q, cs[0].m))
    plain = sum(lossy_bytes(x, prdn) for x in held)
    lossy = None
    if rates is not None and all(r is not None for r in rates):
        target = LossyTarget(prdn=prdn)
        lossy = sum(sum(map(len, encode_channel([x], x.astype(np.float64), target, r).payloads))
                    for x, r in zip(held, rates))
    return RateSelection(spec, best, [c for c, _ in candidates], plain, lossy)
