"""A plain wavelet coder: the reference a lossy ECG coder is judged against, drawn beside sancodec's
curve by ``sancodec report --rd-curve``.

The design of ``benchmarks/bench_lossy.py``'s wavelet coder, the well-known one: CDF 9/7, one dead-zone
quantiser step for every band (``|c| < Δ`` to 0, reconstruction at the cell's centre), DPCM on the
approximation band, each band entropy-coded with sancodec's block-context coder (``entropy.encode_arrays``)
plus 12 bytes for what a file needs besides (length, levels, step, mean), the better of 5 or 6 levels at
each step; decoded samples are rounded to integers. It runs on sancodec's own lifting
(``codec.wavelet``, whole-sample symmetric extension), so it needs no PyWavelets; the benchmark uses
PyWavelets' periodised transform, an independent implementation, so the two differ by a little. No torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sancodec.codec.entropy import decode_arrays, encode_arrays
from sancodec.codec.stepsearch import find_step
from sancodec.codec.wavelet import forward, inverse, levels_for
from sancodec.metrics import prdn

__all__ = ["HEADER_BYTES", "LEVELS", "STEPS", "WIDEST_SPREAD", "bytes_at", "code", "code_bands", "curve",
           "decode_bands", "dequantise", "encode_bands", "quantise"]

HEADER_BYTES = 12
LEVELS = (5, 6)
STEPS = tuple(float(2 ** (k / 2)) for k in range(-2, 33))  # 0.5 ... 65536 sample units
WIDEST_SPREAD = 8192.0  # :func:`curve` scales its steps by a power of two where a signal's standard deviation is
# past this (decimals on a fine grid: a CSV's values to 8 places are integers near 10^8): its coarsest step then
# still reaches PRDN 40 % (about 2.8 standard deviations at a CDF 9/7 of 5-6 levels); ADC samples keep the steps


def code_bands(bands: list[np.ndarray], step: float, mean: float, n: int,
               synthesis: Callable[[list[np.ndarray]], np.ndarray] = inverse) -> tuple[int, np.ndarray]:
    """The bytes of ``bands`` (a transform of ``n`` samples less ``mean``) coded at ``step``, and the ``n``
    samples decoded from those bytes with ``synthesis`` (the inverse transform; bench_lossy passes
    PyWavelets' own)."""
    blob, lengths = encode_bands(bands, step)
    return len(blob) + HEADER_BYTES, decode_bands(blob, lengths, step, mean, n, synthesis)


def encode_bands(bands: list[np.ndarray], step: float) -> tuple[bytes, list[int]]:
    """The entropy-coded blob of ``bands`` quantised at ``step`` (dead zone ``|c| < step``), and the band
    lengths a decoder is told (the 12 header bytes hold them with the step and the mean)."""
    q = [quantise(b, step).astype(np.int64) for b in bands]
    streams = [np.diff(q[0], prepend=0), *q[1:]]
    return encode_arrays(streams, [True] * len(streams)), [len(s) for s in streams]


def quantise(band: np.ndarray, step: float) -> np.ndarray:
    """The coder's dead-zone quantiser: ``band / step`` truncated towards 0 (a dead zone ``|c| < step``)."""
    return np.fix(band / step)


def dequantise(q: np.ndarray, step: float) -> np.ndarray:
    """The decoder's reconstruction of :func:`quantise`'s values at the cell's centre (0 stays 0)."""
    return np.where(q == 0, 0.0, (q + 0.5 * np.sign(q)) * step)


def decode_bands(blob: bytes, lengths: list[int], step: float, mean: float, n: int,
                 synthesis: Callable[[list[np.ndarray]], np.ndarray] = inverse) -> np.ndarray:
    """The ``n`` integer samples a decoder rebuilds from :func:`encode_bands`'s blob (reconstruction at
    the cell's centre)."""
    back = decode_arrays(blob, lengths, [True] * len(lengths))
    back[0] = np.cumsum(back[0])
    return np.rint(synthesis([dequantise(b, step) for b in back])[:n] + mean)


def code(x: np.ndarray, step: float, levels: int) -> tuple[int, np.ndarray]:
    """The bytes of ``x`` (integer samples) coded at ``step`` with ``levels`` levels, and the decoded samples."""
    x = np.asarray(x, dtype=np.float64)
    mean = float(np.rint(x.mean())) if len(x) else 0.0
    return code_bands(forward(x - mean, levels_for(len(x), levels)), step, mean, len(x))


def curve(x: np.ndarray, lowest: float = 0.2, highest: float = 40.0,
          keep: np.ndarray | None = None) -> list[tuple[float, float]]:
    """(PRDN %, bits per sample) at every step of :data:`STEPS` whose PRDN lies in [``lowest``, ``highest``],
    each the smaller coding of :data:`LEVELS` (``keep``: the samples the PRDN is measured on, where not all: a
    record's gaps left out, ``x`` filled there as sancodec fills them). The steps are scaled by the power of two
    that brings a standard deviation past :data:`WIDEST_SPREAD` within it."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return []
    spread = float(np.std(x))
    scale = 2.0 ** math.ceil(math.log2(spread / WIDEST_SPREAD)) if spread > WIDEST_SPREAD else 1.0
    coder = _Coder(x, keep)
    points = []
    for step in (s * scale for s in STEPS):
        error, size = coder.coded(step)
        if error > highest:
            break
        if error >= lowest:
            points.append((error, 8 * size / len(x)))
    return points


def bytes_at(x: np.ndarray, bound: float, keep: np.ndarray | None = None) -> int | None:
    """The bytes of ``x`` (integer samples) coded at the coarsest step whose decode meets the PRDN ``bound`` (%),
    to within the 1 % of sancodec's own rate control (``stepsearch.find_step``, from the step uniform quantisation
    would need), the smaller of :data:`LEVELS` at each step; like with like beside a lossy ``.san`` at that PRDN.
    ``keep``: as :func:`curve`'s. None where no step meets ``bound`` (0: an exact channel) or ``x`` is empty."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0 or not bound > 0:
        return None
    coder = _Coder(x, keep)
    measured: dict[float, tuple[float, int]] = {}

    def distortion(step: float) -> float:
        measured[step] = coder.coded(step)
        return measured[step][0]

    top = max(float(np.abs(band).max(initial=0.0)) for bands in coder.transforms for band in bands)
    guess = max(bound / 100 * float(np.std(x)) * math.sqrt(12), 0.01)
    step = find_step(distortion, bound, 1e-3, 4.0 * top + 1.0, guess)[0]
    if step not in measured:  # (an end of the bracket taken on trust)
        distortion(step)
    error, size = measured[step]
    return size if error <= bound else None


class _Coder:
    """``x`` (integer samples as floats) transformed once at each of :data:`LEVELS`, then coded at any step: the
    PRDN of its decode (on ``keep``'s samples, where given) and its bytes, the smaller of the level counts."""

    def __init__(self, x: np.ndarray, keep: np.ndarray | None) -> None:
        self.x, self.keep, self.n = x, keep, len(x)
        self.mean = float(np.rint(x.mean()))
        self.transforms = [forward(x - self.mean, levels_for(self.n, lv)) for lv in LEVELS]

    def coded(self, step: float) -> tuple[float, int]:
        size, y = min((code_bands(bands, step, self.mean, self.n) for bands in self.transforms), key=lambda r: r[0])
        x, keep = self.x, self.keep
        return (prdn(x, y) if keep is None else prdn(x[keep], y[keep])), size
