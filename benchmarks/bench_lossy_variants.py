"""Coder refinements weighed where issue 13's CR goal is missed: each against sancodec's plain wavelet coding
of the same samples at the same PRDN, so what each would add is measured, not guessed.

Run: .venv/bin/python benchmarks/bench_lossy_variants.py [--data-dir ../shared/data] [--markdown docs/LOSSY_VARIANTS.md]

On the first 2^17 samples (a multiple of 256) of each record's channel, the bytes of the band coding at the
coarsest step whose decoded samples meet PRDN 1, 2 and 5 % (a bisection on the step, on the PRDN alone; the
bands are coded once, at the step found), for:

- plain: sancodec's wavelet frame without a beat template (its CDF 9/7 lifting at 6 levels, dead zone,
  reconstruction point and band coder: ``waveletframe.quantise``, ``wavelet_payload``), one step for every band;
- per-band steps: the finest three detail bands' steps scaled by the best of {0.85, 1, 1.2} each (27
  combinations, each at its own coarsest step; 3 bytes counted for the scales);
- isolated ones zeroed: a detail coefficient quantised to ±1 whose two neighbours quantise to 0 and whose
  magnitude is below 1.3 steps set to 0 (an encoder-only rate-distortion decision the decoder need not know);
- wavelet packets: PyWavelets' periodised CDF 9/7 at 6 levels with its finest one or two detail bands split
  once more, against the same transform unsplit (all coded by sancodec's band coder);
- dependent quantisation (VVC's trellis-coded quantiser): the detail bands' indices chosen by a Viterbi search
  over a 4-state trellis (the state steps by each index's parity) for the least squared error, each index
  rebuilt by the state's quantiser (Q0: even multiples of the step; Q1: odd ones and 0): some of the granular
  gain at high rate that scalar quantisers leave (an 8-state trellis searched for rate and error, about 1 dB or
  0.17 bit a coefficient in the literature, Marcellin and Fischer; this path has no rate term). Each band's indices
  are coded as two streams, by quantiser (what a decoder following the state could read; one stream with the
  state as context would do a little better);
- dependent quantisation, rate-aware: the same trellis searched for the least squared error plus ``λ`` squared
  steps per bit (``dependent_quantisation.dq_rates``: an order-0 table of bits per magnitude and quantiser, from
  the indices a first search with a generic table chose at that target; the better of ``λ`` = 0.1 and 0.2), 0
  weighed beside the nearest indices, as VVC's encoder searches it; each band's indices coded as one stream (a
  decoder reads the indices without the state, and follows it only to rebuild the values).

Ratio above 1: the variant is smaller. Needs PyWavelets (as bench_lossy).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pywt
from bench_lossy import bench_parser, load, table_head
from dependent_quantisation import dq_levels, dq_quantise, dq_rates

from sancodec.codec.wavelet import forward, inverse, levels_for
from sancodec.codec.waveletframe import RHO16, ROUNDING, quantise, wavelet_payload
from sancodec.metrics import prdn

RECORDS = [
    ("mitdb 100 MLII", "wfdb/100", 0),
    ("PTB s0010_re lead i", "wfdb/s0010_re", 0),
    ("drivedb drive17a ECG", "physionet/drivedb/drive17a", 0),
    ("challenge-2015 a103l II", "wfdb/a103l", 0),
]
TARGETS = (1.0, 2.0, 5.0)
SAMPLES = 1 << 17
LEVELS = 6
SCALES = (0.85, 1.0, 1.2)  # per-band steps: each of the finest three detail bands' scale
ISOLATED = 1.3  # isolated ones below this many steps are zeroed
WAVELET = "bior4.4"
RATE_LAMBDAS = (0.1, 0.2)  # the rate-aware trellis: squared steps per bit
SHIFT = RHO16 / 16 - 0.5  # the reconstruction point's offset from the cell's centre, in steps


def dequantise(q: np.ndarray, step: float) -> np.ndarray:
    """The decoder's value of quantised ``q`` at ``step`` (its reconstruction point)."""
    return np.where(q == 0, 0.0, (q + np.sign(q) * SHIFT) * step)


def coarsest(quantised: Callable[[float], list[np.ndarray]], rebuild: Callable[[list[np.ndarray], float], np.ndarray],
             x: np.ndarray, target: float, scale: float) -> float:
    """The coarsest step (to 0.2 %) whose decoded samples meet ``target`` (bisection on log step): finer than
    rate control's ``stepsearch.find_step`` (1 %), as the variants differ by less than that."""
    lo, hi = 1e-3, 8.0 * scale + 1.0
    for _ in range(40):
        if hi / lo < 1.002:
            break
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if prdn(x, rebuild(quantised(mid), mid)) <= target else (lo, mid)
    return lo


class Lifting:
    """sancodec's transform of the samples less their rounded mean: quantised band by band (``scales``: the
    finest detail bands' step scales, finest first) and rebuilt as its decoder does."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.offset = int(np.rint(x.mean()))
        self.bands = forward(x - self.offset, levels_for(len(x), LEVELS))
        self.scale = max(float(np.abs(b).max()) for b in self.bands)

    def steps(self, step: float, scales: tuple[float, ...]) -> list[float]:
        depth = len(self.bands) - 1  # the finest detail band is the last
        return [step * (scales[depth - i] if 0 < i and depth - i < len(scales) else 1.0)
                for i in range(len(self.bands))]

    def quantised(self, step: float, scales: tuple[float, ...] = (), isolated: bool = False) -> list[np.ndarray]:
        steps = self.steps(step, scales)
        q = [quantise([b], s, ROUNDING)[0] for b, s in zip(self.bands, steps)]
        if isolated:
            q = [q[0], *(_zero_isolated(v, b, s) for v, b, s in zip(q[1:], self.bands[1:], steps[1:]))]
        return q

    def rebuild(self, q: list[np.ndarray], step: float, scales: tuple[float, ...] = ()) -> np.ndarray:
        return np.rint(inverse([dequantise(v, s) for v, s in zip(q, self.steps(step, scales))]) + self.offset)

    def size(self, q: list[np.ndarray], step: float, extra: int = 0) -> int:
        return len(wavelet_payload(q, step, len(q) - 1, self.offset)) + extra

    def at(self, target: float, scales: tuple[float, ...] = (), isolated: bool = False) -> int:
        step = coarsest(lambda s: self.quantised(s, scales, isolated), lambda q, s: self.rebuild(q, s, scales),
                        self.x, target, self.scale)
        return self.size(self.quantised(step, scales, isolated), step, 3 if scales else 0)


def _zero_isolated(q: np.ndarray, band: np.ndarray, step: float) -> np.ndarray:
    """``q`` with its isolated ±1s (both neighbours 0, magnitude under :data:`ISOLATED` steps) set to 0."""
    a = np.abs(q)
    before = np.concatenate([[0], a[:-1]])
    after = np.concatenate([a[1:], [0]])
    out = q.copy()
    out[(a == 1) & (before == 0) & (after == 0) & (np.abs(band) < ISOLATED * step)] = 0
    return out


class Packets:
    """PyWavelets' periodised transform of the samples less their rounded mean, its ``split`` finest detail
    bands split once more, every band quantised at one step and coded by sancodec's band coder."""

    def __init__(self, x: np.ndarray, split: int) -> None:
        self.x, self.split = x, split
        self.offset = int(np.rint(x.mean()))
        tree = pywt.wavedec(x - self.offset, WAVELET, mode="periodization", level=LEVELS)
        self.shape = [2 if i >= len(tree) - split else 1 for i in range(len(tree))]
        self.bands = [part for band, parts in zip(tree, self.shape)
                      for part in (pywt.dwt(band, WAVELET, mode="periodization") if parts == 2 else (band,))]
        self.scale = max(float(np.abs(b).max()) for b in self.bands)

    def quantised(self, step: float) -> list[np.ndarray]:
        return [quantise([b], step, ROUNDING)[0] for b in self.bands]

    def rebuild(self, q: list[np.ndarray], step: float) -> np.ndarray:
        values, tree, k = [dequantise(v, step) for v in q], [], 0
        for parts in self.shape:
            tree.append(values[k] if parts == 1 else pywt.idwt(values[k], values[k + 1], WAVELET, mode="periodization"))
            k += parts
        return np.rint(pywt.waverec(tree, WAVELET, mode="periodization")[: len(self.x)] + self.offset)

    def at(self, target: float) -> int:
        step = coarsest(self.quantised, self.rebuild, self.x, target, self.scale)
        return len(wavelet_payload(self.quantised(step), step, LEVELS, self.offset))


class Dependent(Lifting):
    """sancodec's transform and band coder with dependent quantisation of the detail bands (the approximation
    band as the plain coding quantises it)."""

    def coded(self, step: float, lam: float = 0.0, rates: list[np.ndarray] | None = None
              ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The streams coded and the bands rebuilt (in sample units) at ``step``: with ``lam``, the trellis priced
        by ``rates`` (one table per detail band; None: the generic one) and one stream per band, else two."""
        first = quantise([self.bands[0]], step, ROUNDING)[0]
        streams, values = [first], [dequantise(first, step)]
        for i, band in enumerate(self.bands[1:]):
            k, second = dq_quantise(band, step, lam, None if rates is None else rates[i])
            streams += [k] if lam else [k[~second], k[second]]
            values.append(dq_levels(k, second) * step)
        return streams, values

    def dq_at(self, target: float, lam: float = 0.0) -> int:
        """The bytes at ``target``: without ``lam``, the least-error trellis; with it, the rate-aware one, its rate
        tables from the indices the generic table's search chose at ``target``."""
        rebuild = lambda c, s: np.rint(inverse(c[1]) + self.offset)  # noqa: E731
        step = coarsest(lambda s: self.coded(s, lam), rebuild, self.x, target, self.scale)
        rates = None
        if lam:
            first = [dq_quantise(b, step, lam) for b in self.bands[1:]]
            rates = [dq_rates(k, second) for k, second in first]
            step = coarsest(lambda s: self.coded(s, lam, rates), rebuild, self.x, target, self.scale)
        return len(wavelet_payload(self.coded(step, lam, rates)[0], step, len(self.bands) - 1, self.offset))


def measure(x: np.ndarray) -> dict[str, list[float]]:
    """Each variant's bytes over the plain coding's at each of :data:`TARGETS` (plain / variant)."""
    lifting = Lifting(x)
    plain = [lifting.at(t) for t in TARGETS]
    scaled = [min(lifting.at(t, scales) for scales in itertools.product(SCALES, repeat=3)) for t in TARGETS]
    isolated = [lifting.at(t, isolated=True) for t in TARGETS]
    unsplit = [Packets(x, 0).at(t) for t in TARGETS]
    rows = {"per-band steps (best of 27)": [p / s for p, s in zip(plain, scaled)],
            "isolated ones zeroed": [p / s for p, s in zip(plain, isolated)]}
    dependent = Dependent(x)
    rows["dependent quantisation (4 states)"] = [p / dependent.dq_at(t) for p, t in zip(plain, TARGETS)]
    rows["dependent quantisation, rate-aware (4 states)"] = [p / min(dependent.dq_at(t, lam) for lam in RATE_LAMBDAS)
                                                             for p, t in zip(plain, TARGETS)]
    for split in (1, 2):
        rows[f"wavelet packets: finest {split} band(s) split"] = [u / Packets(x, split).at(t)
                                                                   for u, t in zip(unsplit, TARGETS)]
    rows["plain coding, bits per sample"] = [8 * p / len(x) for p in plain]
    return rows


def main() -> None:
    args = bench_parser(__doc__, "write the table here").parse_args()
    lines = table_head(["record (samples)", "variant"], TARGETS)
    for label, path, channel in RECORDS:
        sig = load(args.data_dir, path, channel)
        if sig is None:
            continue
        x = sig.samples[: SAMPLES, 0].astype(np.float64)
        x = x[: len(x) // 256 * 256]
        for i, (name, values) in enumerate(measure(x).items()):
            cells = " | ".join(f"{v:.3f}" if "bits" in name else f"{v:.3f}x" for v in values)
            lines.append(f"| {label + f' ({len(x)})' if i == 0 else ''} | {name} | {cells} |")
        print("\n".join(lines[-7:]), flush=True)
    if args.markdown:
        head = ["# Coder refinements weighed against sancodec's plain wavelet coding", "",
                "Measured with `benchmarks/bench_lossy_variants.py --data-dir ../shared/data` (what each variant "
                "is: the script's docstring). Each ratio is the plain coding's bytes over the variant's at the "
                "same PRDN target (above 1: the variant is smaller); the last row of each record is the plain "
                "coding's bits per sample.", ""]
        args.markdown.write_text("\n".join(head + lines) + "\n")


if __name__ == "__main__":
    main()
