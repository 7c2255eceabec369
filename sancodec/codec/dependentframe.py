"""A lossy channel's one-frame wavelet coding coded again with its detail bands quantised dependently (format 1.12,
``codec.dependent``): its prediction, levels and band coders kept, the step searched anew for the same PRDN bound."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from sancodec.codec.channelstats import channel_spread
from sancodec.codec.dependent import LAMBDA, levels, quantise, rates
from sancodec.codec.jobs import run_pieces
from sancodec.codec.lossyrate import WaveletCoding, channel_error
from sancodec.codec.stepsearch import find_step
from sancodec.codec.wavelet import split_bands
from sancodec.codec.waveletframe import RHO16, ROUNDING, quantise_flat, reconstruct, wavelet_payload
from sancodec.metrics import prdn_of_error

__all__ = ["coding"]

STEP_RATIO = 0.66  # the trellis meets a bound at about this share of the scalar step (0.61-0.71 on the ECGs of
# docs/LOSSY.md at PRDN 1-5 %): where its search starts


class _Frame:
    """One frame's bands as a coding's :class:`~sancodec.codec.lossyrate.Prepared` holds them, quantised dependently
    at a step with fixed rate tables, and decoded as the decoder rebuilds them."""

    def __init__(self, coded: WaveletCoding) -> None:
        prepared = coded.prepared
        self.flat, self.levels, self.offset = prepared.flat[0], prepared.levels[0], prepared.offsets[0]
        self.prediction = prepared.prediction(0)
        self.template, self.mains = prepared.templates[0], prepared.mains[0]
        self.quick = prepared.quick  # its bands coded as the coding's own are (efforts fast and balanced: quick_bands)
        self.bands = split_bands(self.flat, self.levels)
        self.tables: list[np.ndarray] | None = None

    def _trellis(self, step: float, tables: Sequence[np.ndarray | None]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each detail band's trellis indices and quantisers at ``step`` under its table, the bands side by side where
        ``jobs.piece_threads`` allows (the compiled search lets the interpreter go)."""
        bands = self.bands[1:]
        return run_pieces([partial(_quantised, band, step, table) for band, table in zip(bands, tables)],
                          [len(band) for band in bands])

    def quantised(self, step: float) -> list[np.ndarray]:
        """The approximation band by the scalar dead zone, the detail bands by the trellis (with ``self.tables``,
        else the generic table), at ``step``."""
        tables = self.tables if self.tables is not None else [None] * (len(self.bands) - 1)
        return [quantise_flat(self.bands[0], step, ROUNDING), *(q for q, _ in self._trellis(step, tables))]

    def learn(self, step: float) -> None:
        """Rate tables from the generic table's indices at ``step``: what the trellis prices bits by."""
        self.tables = [rates(q, second) for q, second in self._trellis(step, [None] * (len(self.bands) - 1))]

    def decoded(self, q: Sequence[np.ndarray], step: float) -> np.ndarray:
        """The samples the decoder rebuilds from indices ``q`` at ``step`` (levels, the cells' centres)."""
        return reconstruct([q[0], *map(levels, q[1:])], step, RHO16, self.offset, self.prediction)

    def payload(self, q: Sequence[np.ndarray], step: float) -> bytes:
        return wavelet_payload(list(q), step, self.levels, self.offset, self.template, self.quick, RHO16, self.mains,
                               dependent=True, fitted_stream=self.quick)


def _quantised(band: np.ndarray, step: float, table: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``band``'s trellis indices and quantisers at ``step`` (``dependent.quantise``, :data:`LAMBDA`)."""
    return quantise(band / step, LAMBDA, table)


def coding(coded: WaveletCoding, ref: np.ndarray, bound: float) -> tuple[bytes, float] | None:
    """A one-frame wavelet coding's frame again with its detail bands quantised dependently (its prediction and
    levels kept), at the coarsest step whose decode meets the PRDN ``bound``, its payload and the PRDN it decodes to;
    None where ``coded`` holds several frames or no step meets the bound."""
    if len(coded.prepared.flat) != 1:
        return None
    frame = _Frame(coded)
    frame.learn(coded.step)  # (tables learnt at the step the trellis meets the bound coded 0.2 % larger over the set)
    guess = float(np.float32(STEP_RATIO * coded.step))
    spread = channel_spread(ref)
    measured: dict[float, tuple[float, list[np.ndarray]]] = {}

    def distortion(step: float) -> float:
        q = frame.quantised(step)
        measured[step] = (prdn_of_error(channel_error(frame.decoded(q, step), ref), spread), q)
        return measured[step][0]

    scale = max(float(frame.flat.max(initial=0)), -float(frame.flat.min(initial=0)))
    lo, hi = float(np.float32(1e-3)), float(np.float32(max(4.0 * scale, 1.0)))
    step = find_step(distortion, bound, lo, hi, guess)[0]
    if step not in measured:
        distortion(step)
    prdn, q = measured[step]
    if not prdn <= bound:
        return None
    return frame.payload(q, step), prdn
