"""How far sancodec's lossy coding of an ECG's noise bands sits from a Gaussian rate-distortion bound.

Run: .venv/bin/python benchmarks/noise_bound.py [--data-dir ../shared/data] [--markdown docs/NOISE_BOUND.md]

``benchmarks/beat_locked.py`` shows where an ECG's lossy bytes go: on the 1000 Hz PTB record most of them go to
*unlocked* bands, wavelet bands a beat template cannot predict (under 10 % of their energy around the beats is
beat-locked), as flat as white noise. This script asks how few bytes any coder could spend on such bands at the
error sancodec leaves in them, under a model of them: a Gaussian source whose variance is known, for free, per
block of B coefficients.

For each ECG signal of ``bench_lossy.SIGNALS`` (channel 0) and each target, effort best's file is made and
decoded. The signal less its mean and the coding error are split into bands by an orthonormal wavelet
(Daubechies' symlet 8, periodised, at the file's own levels, on the first multiple of 2^levels samples), so that
each band's share of the squared error is exact; the bands are the file's (``sancodec info --bands``), their
bytes its own. The model's bands are the *white* unlocked ones: a beat-locked share under 10 % and a spectral
flatness of at least :data:`WHITE` (both as ``beat_locked`` measures them). Each of their coefficients gets the
mean square of its block of B, less the share a template could predict (the band's beat-locked share) and its
power at the mains line's harmonics (generous to the coder, which predicts neither in these bands). The
**bound** is the reverse water-filling rate of independent Gaussians of those variances at the error the file
leaves in those bands: sum of max(0, log2(v / theta) / 2) over the coefficients, theta set so that sum of
min(v, theta) is that error. For a Gaussian it is the least any coder can spend (Shannon). A source that is not
Gaussian can do better (a band whose energy sits in a few spikes: the coder spends less than the bound there),
and a smaller B fits the variances closer (a coder would pay for them): the bound at B = 8, 16 and 64 shows how
much it leans on that. It is a model, not a proof; where the coder sits close to it at tight targets, the model
describes the band.

Where best's file is short of issue 13's goal, the error could be split otherwise: the rest of the file
coded tighter, leaving the white bands more error, or looser. For each such point the rest is taken as the
default codes it at :data:`SPLIT_TARGETS` times the target (its bytes and the error it leaves), and the white
bands at their bound with what is left of the target's error; the least total over those splits, and the most
the white bands could spend over their bound within the goal's bytes (their "room"). And, for such a point, what
a dead zone per band could save (:func:`rounding_row`, an order-0 count on the signal's bands).

Short of the goal, also how much the white bands' quantised values say about each other (:func:`memory_row`):
their order-0 bytes against the bytes a context model spends, the coder's contexts (the previous value's class,
and with format 1.13 the parent's) and a wider one (the local energy of the previous values and the parent's
neighbours) that no format has. Where none of them comes under order 0, the bands are memoryless at that step:
no context modelling, however wide, can take their bytes towards the bound, which only the quantiser can.

The next table is why the gap grows at loose targets: the least entropy of a dead-zone uniform scalar quantiser
(any step and dead zone, centroid reconstruction, ideal entropy coding) on a unit Gaussian at a given squared
error, against the bound there. That is the quantiser sancodec's bands use (its step search and dead-zone
rounding, ``waveletframe.quantise``); at 2 bits or more a coefficient it is within 0.25 bit of the bound, but below
1 bit its rate is 1.2-1.5 times the bound's. The last table codes white Gaussian noise, where the model holds
exactly, with sancodec itself: how close its bands' coding comes to that scalar quantiser's limit, which bounds
what a better scalar coding of the white bands could still take; the one before it, how much of that the
encoder's dead-zone rounding alone leaves (a band at a low rate wants a wider dead zone).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

import sancodec
from sancodec.codec.anatomy import Band, lossy_anatomy
from sancodec.codec.beats import find_beats
from sancodec.codec.mains import mains_frequency
from sancodec.codec.waveletframe import RHO16, ROUNDING

BLOCKS = (8, 16, 64)  # coefficients per block whose variance the model knows; the middle one is the headline
WHITE = 0.5  # a band's spectral flatness at least this (white noise's: 0.56) makes it white: the model's bands
# Daubechies' symlet 8's analysis low-pass filter (PyWavelets' ``Wavelet("sym8").dec_lo``): orthonormal, so the
# bands' squared errors sum to the signal's
SYM8_LOW = (-0.0033824159510061256, -0.0005421323317911481, 0.03169508781149298, 0.007607487324917605,
            -0.1432942383508097, -0.061273359067658524, 0.4813596512583722, 0.7771857517005235,
            0.3644418948353314, -0.05194583810770904, -0.027219029917056003, 0.049137179673607506,
            0.003808752013890615, -0.01495225833704823, -0.0003029205147213668, 0.0018899503327594609)
TAIL = 12.0  # the quantiser's bins reach this many standard deviations (a unit Gaussian's mass beyond: 1e-32)
SPLIT_TARGETS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.6)  # the rest: these times the PRDN
QUANTISER_ERRORS = (0.1, 0.3, 0.5, 0.7, 0.9)  # squared errors over the variance in the quantiser table
ROUNDINGS = tuple(k / 20 for k in range(1, 11))  # the dead-zone roundings the rounding table tries (0.05-0.5)
NOISE_SAMPLES, NOISE_SIGMA = 1 << 16, 40.0  # the white Gaussian noise sancodec codes in the last table
MAGNITUDES = 16  # memory_row's symbols: a quantised value's magnitude, those of 15 or more as one (their low bits
# and every nonzero's sign cost the same under any context)
ENERGY_EDGES = (0.5, 1.5, 2.5, 4.5, 7.5, 12.5, 20.5)  # memory_row's local-energy classes (8) of the sum of the
ENERGY_PREVIOUS, ENERGY_PARENT = 4, 3  # previous magnitudes, this many, and the parent's this many (at, before, after)
MEMORY_MODELS = ("order 0", "previous value", "previous and parent", "local energy")  # memory_contexts' names, in
# memory_row's columns' order


def block_variances(c: np.ndarray, block: int) -> np.ndarray:
    """Each coefficient of ``c`` given the mean square of its block of ``block`` (the last, shorter block its own)."""
    starts = np.arange(0, len(c), block)
    squares = np.add.reduceat(np.asarray(c, dtype=np.float64) ** 2, starts) / np.diff(np.append(starts, len(c)))
    return np.repeat(squares, np.diff(np.append(starts, len(c))))


def water_filled_bits(variances: np.ndarray, error: float) -> float:
    """The least bits that independent Gaussians of ``variances`` can be coded in with a total squared error of
    ``error`` (reverse water-filling: every coefficient gets min(v, theta) of the error)."""
    v = np.sort(np.asarray(variances, dtype=np.float64))
    if error >= v.sum():
        return 0.0
    # theta lies where the coefficients below it give all of theirs and the rest theta each
    below = np.concatenate([[0.0], np.cumsum(v)])
    k = np.arange(len(v) + 1)
    theta = (error - below) / np.maximum(len(v) - k, 1)
    ok = (theta >= np.concatenate([[0.0], v])) & (theta <= np.concatenate([v, [np.inf]]))
    t = float(theta[np.argmax(ok)])
    above = v[v > t]
    return float(0.5 * np.log2(above / t).sum())


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


_erf = np.frompyfunc(math.erf, 1, 1)


def dead_zone_quantiser(step: float, zone: float, offset: float | None = None) -> tuple[float, float]:
    """(squared error, entropy in bits) of a unit Gaussian quantised to 0 within ``zone`` of it and in ``step``-wide
    bins beyond, each bin reconstructed at its centroid, or with ``offset`` at ``offset`` steps past its start."""
    edges = zone + step * np.arange(0, max(2, math.ceil((TAIL - zone) / step) + 1))  # the bins out to TAIL
    cdf = _normal_cdf(edges).astype(np.float64)
    pdf = np.exp(-0.5 * edges**2) / math.sqrt(2 * math.pi)
    p = np.diff(cdf)
    first = -np.diff(pdf)  # E[x; bin] of a unit Gaussian
    squares = p - np.diff(edges * pdf)  # E[x^2; bin]
    centre = np.where(p > 1e-300, first / np.maximum(p, 1e-300), 0.0) if offset is None else edges[:-1] + offset * step
    outer = 2 * float(squares.sum())
    # the zero bin's energy, and each bin's E[(x - centre)^2]
    error = (1.0 - outer) + 2 * float((squares - 2 * centre * first + p * centre**2).sum())
    p0 = float(cdf[0] - (1.0 - cdf[0]))
    seen = p[p > 0]
    entropy = -p0 * math.log2(p0) - 2 * float((seen * np.log2(seen)).sum()) if p0 > 0 else float("inf")
    return error, entropy


def sancodec_quantiser_rate(error: float, rounding: float, rho16: int = RHO16) -> float:
    """The entropy of sancodec's dead-zone quantiser (``waveletframe.quantise``: index floor(|c| / step +
    ``rounding``), reconstruction at (|index| - 1/2 + ``rho16`` / 16) steps) on a unit Gaussian, at the step
    whose squared error is ``error`` (bisected; the error grows with the step)."""
    def at(step: float) -> tuple[float, float]:
        return dead_zone_quantiser(step, (1 - rounding) * step, rounding - 0.5 + rho16 / 16)

    return at(coarsest_step(at, error, 1e-3, 2 * TAIL, 60))[1]


def coarsest_step(measure: Callable[[float], tuple[float, float]], error: float, lo: float, hi: float,
                  rounds: int) -> float:
    """The coarsest step between ``lo`` and ``hi`` whose squared error (``measure(step)[0]``, growing with the
    step) is at most ``error``: ``rounds`` bisections of the step's logarithm."""
    for _ in range(rounds):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if measure(mid)[0] <= error else (lo, mid)
    return lo


def best_scalar_rate(error: float, grid: int = 24, rounds: int = 4) -> float:
    """The least entropy of :func:`dead_zone_quantiser` at a squared error of at most ``error`` (a unit Gaussian):
    steps and dead zones searched on a ``grid`` of each, then ``rounds`` more times on finer grids around the best."""
    best, at = math.inf, (3.1, 2.0)
    width = (2.9, 1.95)  # the first grid: steps 0.2-6.0, dead zones 0.05-3.95
    for _ in range(rounds + 1):
        for step in np.linspace(max(at[0] - width[0], 0.05), at[0] + width[0], grid):
            for zone in np.linspace(max(at[1] - width[1], 0.01), at[1] + width[1], grid):
                e, h = dead_zone_quantiser(float(step), float(zone))
                if e <= error and h < best:
                    best, found = h, (float(step), float(zone))
        if best == math.inf:
            break
        at, width = found, (width[0] * 4 / grid, width[1] * 4 / grid)
    return best


def band_split(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """``x``'s orthonormal wavelet bands, coarsest first (``x`` cut to a multiple of 2^levels): Daubechies' symlet 8,
    periodised, as PyWavelets' ``wavedec(x, "sym8", mode="periodization")`` gives them, in numpy alone (the tests
    run without PyWavelets)."""
    n = len(x) // 2**levels * 2**levels
    a = np.asarray(x[:n], dtype=np.float64)
    low = np.asarray(SYM8_LOW)
    high = low[::-1] * np.where(np.arange(len(low)) % 2, 1.0, -1.0)  # the quadrature mirror: (-1)^(n+1) low[L-1-n]
    details = []
    for _ in range(levels):
        taps = (2 * np.arange(len(a) // 2)[:, None] + len(low) // 2 - np.arange(len(low))[None, :]) % len(a)
        windows = a[taps]
        a, d = windows @ low, windows @ high
        details.append(d)
    return [a, *details[::-1]]


class Coded(NamedTuple):
    """A default-effort file of a signal: its bytes, its bands' names (coarsest first) and its anatomy's bands in
    that order, and the coding error's orthonormal bands."""

    data: bytes
    order: list[str]
    bands: list[Band]
    error_bands: list[np.ndarray]

    def error_in(self, names: Sequence[str]) -> float:
        """The squared error in the bands ``names``."""
        return sum(float((self.error_bands[self.order.index(n)] ** 2).sum()) for n in names)

    def total_error(self) -> float:
        return sum(float((e**2).sum()) for e in self.error_bands)

    def bytes_in(self, names: Sequence[str]) -> float:
        """The file's bytes in the bands ``names``."""
        return sum(self.bands[self.order.index(n)].bytes for n in names)


@dataclass
class WhiteSplit:
    """One lossy file of a signal (:class:`Coded`) cut into its white unlocked bands and the rest: the white ones'
    indices in ``file.order``, the share of each one's variance the model keeps, and the signal's orthonormal
    bands."""

    file: Coded
    white: list[int]
    kept: list[float]
    signal_bands: list[np.ndarray]

    @property
    def names(self) -> list[str]:
        """The white bands' names."""
        return [self.file.order[i] for i in self.white]

    def variances(self, block: int) -> np.ndarray:
        """The white bands' coefficients' variances as the model takes them (:func:`block_variances`, less what
        it keeps out)."""
        return np.concatenate([block_variances(self.signal_bands[i], block) * k for i, k in zip(self.white, self.kept)])

    def white_error(self) -> float:
        return self.file.error_in(self.names)

    def white_bytes(self) -> float:
        return self.file.bytes_in(self.names)


def coded(sig: sancodec.Signal, target: float) -> Coded | None:
    """``sig``'s default-effort file at PRDN ``target``, as :class:`Coded`; None where it has no wavelet frame or
    frames of different levels (no one split matches its bands)."""
    x = sig.samples[:, 0].astype(np.float64)
    data = sancodec.encode(sig, mode="lossy", prdn=target, effort="best")
    anatomy = lossy_anatomy(data)[0]
    names = list(anatomy.bands)
    if not any(name.startswith("a") for name in names):  # no wavelet frame (the time domain's coding)
        return None
    levels = max(int(name[1:]) for name in names if name.startswith("a"))
    order = [f"a{levels}", *(f"d{k}" for k in range(levels, 0, -1))]
    if sorted(order) != sorted(names):
        return None
    y = sancodec.decode(data).samples[:, 0].astype(np.float64)
    return Coded(data, order, [anatomy.bands[name] for name in order], band_split(x - y, levels))


def white_split(sig: sancodec.Signal, target: float, beats: np.ndarray, line: float | None) -> WhiteSplit | None:
    """Effort best's file of ``sig`` at PRDN ``target`` cut as :class:`WhiteSplit` says; None where
    :func:`coded` gives none or the file has no white unlocked band."""
    from beat_locked import UNLOCKED, bands_passed, locked_share, spectral_measures

    x = sig.samples[:, 0].astype(np.float64)
    file = coded(sig, target)
    if file is None:
        return None
    edges = [(b.low_hz, b.high_hz) for b in file.bands]
    shares = [locked_share(p, beats, sig.fs) for p in bands_passed(x, sig.fs, edges)]
    measures = spectral_measures(x, sig.fs, edges, line)
    white = [i for i, (s, (_, flat)) in enumerate(zip(shares, measures)) if s < UNLOCKED and flat >= WHITE]
    if not white:
        return None
    kept = [1.0 - min(1.0, shares[i] + (0.0 if np.isnan(measures[i][0]) else measures[i][0])) for i in white]
    return WhiteSplit(file, white, kept, band_split(x - x.mean(), len(file.order) - 1))


def best_split(sig: sancodec.Signal, at: WhiteSplit, target: float, budget: float, goal_bytes: float) -> list[str]:
    """For a point short of the goal: over the files coded at :data:`SPLIT_TARGETS` times ``target`` (the rest
    of the file coded tighter or looser; a detail band covers the same frequencies at any levels, so a file of
    other levels counts where it has the white bands), the rest's bytes and error plus the white bands' bound
    at the error that leaves of ``budget`` (``target``'s squared error); per block size, the least such total, and
    the most the white bands could spend, over their bound there, within ``goal_bytes`` (below 1: not even the
    bound fits)."""
    names = at.names
    splits = []
    for factor in SPLIT_TARGETS:
        other = coded(sig, factor * target)
        if other is None or not all(n in other.order for n in names):
            continue
        left = budget - (other.total_error() - other.error_in(names))
        if left > 0:
            splits.append((len(other.data) - other.bytes_in(names), left))
    row = []
    for block in BLOCKS:
        v = at.variances(block)
        bounds = [(rest, water_filled_bits(v, left) / 8) for rest, left in splits]
        totals = [rest + bound for rest, bound in bounds]
        rooms = [(goal_bytes - rest) / bound for rest, bound in bounds if bound > 0]
        row += [f"{min(totals):.0f}" if totals else "–", f"{max(rooms):.2f}" if rooms else "–"]
    return row


def rounded(bands: Sequence[np.ndarray], step: float, roundings: Sequence[float]) -> tuple[float, float]:
    """(squared error, order-0 bits) of ``bands`` under sancodec's dead-zone quantiser at ``step``, each band at its
    own rounding of ``roundings`` (reconstruction at (|index| - 1/2 + RHO16 / 16) steps, as files have it)."""
    error = bits = 0.0
    for c, r in zip(bands, roundings):
        k = np.floor(np.abs(c) / step + r)
        rebuilt = np.where(k > 0, (k - 0.5 + RHO16 / 16) * step, 0.0) * np.sign(c)
        error += float(((c - rebuilt) ** 2).sum())
        _, counts = np.unique(np.sign(c) * k, return_counts=True)
        bits -= float((counts * np.log2(counts / len(c))).sum())
    return error, bits


def bits_at_error(bands: Sequence[np.ndarray], roundings: Sequence[float], error: float) -> float:
    """:func:`rounded`'s bits at the coarsest step (bisected) whose squared error is at most ``error``."""
    def at(step: float) -> tuple[float, float]:
        return rounded(bands, step, roundings)

    return at(coarsest_step(at, error, 1e-3, 4 * max(float(np.abs(c).max()) for c in bands), 40))[1]


def rounding_row(bands: Sequence[np.ndarray], error: float, target: float) -> list[str]:
    """For a point short of the goal: the signal's orthonormal ``bands`` (no template: the noise bands' is worth
    under 10 %) at squared error ``error`` (PRDN ``target``'s), in order-0 bytes, under sancodec's rounding
    everywhere, the best one rounding of :data:`ROUNDINGS` for every band, and a rounding per band (each band's
    best in turn, twice over, from the best one). What an encoder's per-band dead zone could save, by a cruder
    count than the coder's."""
    base = bits_at_error(bands, [ROUNDING] * len(bands), error)
    one = {r: bits_at_error(bands, [r] * len(bands), error) for r in ROUNDINGS}
    best_one = min(one, key=one.__getitem__)
    per_band, bits = [best_one] * len(bands), one[best_one]
    for _ in range(2):
        for b in range(len(bands)):
            for r in ROUNDINGS:
                tried = per_band[:b] + [r] + per_band[b + 1:]
                got = bits_at_error(bands, tried, error)
                if got < bits:
                    per_band, bits = tried, got
    return [f"{target:g} %", f"{base / 8:.0f}", f"{best_one:g}", f"{one[best_one] / 8:.0f}",
            " ".join(f"{r:g}" for r in per_band), f"{bits / 8:.0f}", f"{100 * (1 - bits / base):.1f} %",
            f"{100 * (1 - bits / one[best_one]):.1f} %"]


def context_bits(symbols: np.ndarray, contexts: np.ndarray) -> float:
    """The bits of ``symbols`` (small whole numbers) coded with one probability table per context of ``contexts``,
    each table's counts paid for: the empirical conditional entropy, plus half the log2 of a context's count for
    each symbol it holds (a two-part code's price of its table; an adaptive coder pays about that to learn it)."""
    bits = 0.0
    for c in np.unique(contexts):
        counts = np.bincount(symbols[contexts == c])
        counts = counts[counts > 0]
        total = int(counts.sum())
        bits += float(-(counts * np.log2(counts / total)).sum()) + 0.5 * len(counts) * math.log2(max(total, 2))
    return bits


def memory_contexts(k: np.ndarray, parent: np.ndarray | None) -> dict[str, np.ndarray]:
    """:func:`memory_row`'s contexts for the magnitudes ``k`` of a band whose next coarser band's are ``parent``
    (None: none): none (order 0); the previous value's class as the adaptive coder takes it (0, 1-2, 3-6, more);
    that and the parent's class (0, 1-2, more; the value at half the index, as format 1.13 reads it); and the local
    energy, the sum of the previous :data:`ENERGY_PREVIOUS` magnitudes and the parent's :data:`ENERGY_PARENT` around
    half the index, in the classes of :data:`ENERGY_EDGES`."""
    n = len(k)
    previous = np.concatenate([[0], k[:-1]])
    prev_class = np.select([previous == 0, previous <= 2, previous <= 6], [0, 1, 2], 3)
    sums = np.concatenate([[0], np.cumsum(k)])
    at = np.arange(n)
    energy = sums[at] - sums[np.maximum(at - ENERGY_PREVIOUS, 0)]
    contexts = {"order 0": np.zeros(n, dtype=np.int64), "previous value": prev_class}
    if parent is not None and len(parent):
        j = np.minimum(at // 2, len(parent) - 1)
        parent_class = np.select([parent[j] == 0, parent[j] <= 2], [0, 1], 2)
        contexts["previous and parent"] = prev_class * 3 + parent_class
        parent_sums = np.concatenate([[0], np.cumsum(parent)])
        half = ENERGY_PARENT // 2
        energy = energy + parent_sums[np.minimum(j + half + 1, len(parent))] - parent_sums[np.maximum(j - half, 0)]
    contexts["local energy"] = np.digitize(energy, ENERGY_EDGES)
    return contexts


def memory_row(at: WhiteSplit, target: float) -> list[list[str]]:
    """For a point short of the goal, each white band of ``at`` as the signal's orthonormal band quantised by
    sancodec's dead zone (rounding ``ROUNDING``) at the coarsest step that leaves the white bands the file's error
    in them, its parent band (the next coarser) at the same step: its order-0 bytes and its bytes under each context
    of :func:`memory_contexts` (:func:`context_bits` of the magnitudes, capped at :data:`MAGNITUDES`, plus a sign bit
    for each nonzero), and the least of them over order 0 (1.00: the contexts find nothing to use)."""
    bands = [at.signal_bands[i] for i in at.white]

    def quantised(step: float) -> tuple[float, float]:
        return rounded(bands, step, [ROUNDING] * len(bands))

    step = coarsest_step(quantised, at.white_error(), 1e-3, 4 * max(float(np.abs(c).max()) for c in bands), 40)
    rows = []
    for i in at.white:
        k = np.floor(np.abs(at.signal_bands[i]) / step + ROUNDING).astype(np.int64)
        parent = np.floor(np.abs(at.signal_bands[i - 1]) / step + ROUNDING).astype(np.int64) if i > 1 else None
        signs = float(np.count_nonzero(k))
        sizes = {name: (context_bits(np.minimum(k, MAGNITUDES - 1), c) + signs) / 8
                 for name, c in memory_contexts(k, parent).items()}
        order0 = sizes["order 0"]
        rows.append([f"{target:g} %", at.file.order[i],
                     *(f"{sizes[name]:.0f}" if name in sizes else "–" for name in MEMORY_MODELS),
                     f"{min(sizes.values()) / order0:.3f}" if order0 > 0 else "–"])
    return rows


def study(sig: sancodec.Signal) -> tuple[list[list[str]], ...]:
    """Target rows (the white bands' bytes, error share, bounds, the goal's allowance), band rows (each white
    band's bits, error and B = 16 bound) and, for points short of the goal, :func:`best_split`'s,
    :func:`rounding_row`'s and :func:`memory_row`'s rows."""
    import bench_lossy

    x = sig.samples[:, 0].astype(np.float64)
    energy = float(((x - x.mean()) ** 2).sum())
    beats = find_beats(x, sig.fs)
    line = mains_frequency(x, sig.fs)
    curve = bench_lossy.wavelet_curve(sig.samples[:, 0])
    target_rows, band_rows, split_rows, zone_rows, memory_rows = [], [], [], [], []
    for target, goal in zip(bench_lossy.TARGETS, bench_lossy.ECG_GOAL):
        at = white_split(sig, target, beats, line)
        if at is None:
            continue
        file = at.file
        error = at.white_error()
        bounds = [water_filled_bits(at.variances(b), error) / 8 for b in BLOCKS]
        spent = at.white_bytes()
        wavelet_cr = bench_lossy.cr_at(curve, target)
        goal_bytes = 11 * sig.n_samples / (8 * wavelet_cr * goal) if wavelet_cr else math.inf
        shed = len(file.data) - goal_bytes
        target_rows.append([f"{target:g} %", " ".join(at.names), f"{spent:.0f}",
                            f"{100 * error / file.total_error():.0f} %", *(f"{b:.0f}" for b in bounds),
                            f"{spent / bounds[1]:.2f}" if bounds[1] > 0 else "–", f"{len(file.data)}",
                            f"{spent - shed:.0f}" if shed > 0 else "–"])
        if shed > 0:
            budget = (target / 100) ** 2 * energy  # the target's squared error
            split_rows.append([f"{target:g} %", f"{goal_bytes:.0f}",
                               *best_split(sig, at, target, budget, goal_bytes)])
            zone_rows.append(rounding_row(at.signal_bands, budget, target))
            memory_rows += memory_row(at, target)
        for i, k in zip(at.white, at.kept):
            band = file.bands[i]
            n = len(at.signal_bands[i])
            band_error = float((file.error_bands[i] ** 2).sum())
            bound = water_filled_bits(block_variances(at.signal_bands[i], BLOCKS[1]) * k, band_error) / 8
            band_rows.append([f"{target:g} %", file.order[i], f"{band.low_hz:g}–{band.high_hz:g}",
                              f"{8 * band.bytes / n:.2f}",
                              f"{band_error / max(float((at.signal_bands[i] ** 2).sum()), 1e-300):.2f}",
                              f"{band.bytes:.0f}", f"{bound:.0f}", f"{band.bytes / bound:.2f}" if bound > 0 else "–"])
    return target_rows, band_rows, split_rows, zone_rows, memory_rows


def quantiser_rows() -> list[list[str]]:
    """The dead-zone scalar quantiser's least rate on a unit Gaussian against the bound, at each of
    :data:`QUANTISER_ERRORS`."""
    rows = []
    for error in QUANTISER_ERRORS:
        bound = 0.5 * math.log2(1 / error)
        rate = best_scalar_rate(error)
        rows.append([f"{error:g}", f"{bound:.3f}", f"{rate:.3f}", f"{rate - bound:.3f}", f"{rate / bound:.2f}"])
    return rows


def rounding_rows() -> list[list[str]]:
    """At each of :data:`QUANTISER_ERRORS`, sancodec's quantiser on a unit Gaussian with its reconstruction
    (``RHO16``) at its rounding (``ROUNDING``) and at the best of :data:`ROUNDINGS`, each over the best dead-zone
    scalar quantiser's rate: the rounding is the encoder's alone (no field in the file), so a band coded at a low
    rate could take its own."""
    rows = []
    for error in QUANTISER_ERRORS:
        best = best_scalar_rate(error)
        rates = {r: sancodec_quantiser_rate(error, r) for r in ROUNDINGS}
        chosen = min(rates, key=rates.__getitem__)
        rows.append([f"{error:g}", f"{best:.3f}", f"{sancodec_quantiser_rate(error, ROUNDING) / best:.3f}",
                     f"{chosen:g}", f"{rates[chosen] / best:.3f}"])
    return rows


def coder_rows(n: int = NOISE_SAMPLES, sigma: float = NOISE_SIGMA, seed: int = 0) -> list[list[str]]:
    """sancodec's effort best on ``n`` samples of white Gaussian noise (standard deviation ``sigma``, rounded to
    integers) at the PRDN of each of :data:`QUANTISER_ERRORS` (the square root of the error share): the error
    share it reaches, its bits a sample (the channel's bytes, header and framing apart), the bound there and the
    best dead-zone scalar quantiser's rate there. How close the coder comes to the scalar quantiser's limit where
    the model holds exactly."""
    x = np.rint(np.random.default_rng(seed).normal(0.0, sigma, n)).astype(np.int64)
    sig = sancodec.Signal(x[:, None], 1000.0, ["noise"], ["NU"])
    energy = float(((x - x.mean()) ** 2).sum())
    rows = []
    for error in QUANTISER_ERRORS[:3]:
        data = sancodec.encode(sig, mode="lossy", prdn=100 * math.sqrt(error), effort="best")
        y = sancodec.decode(data).samples[:, 0]
        reached = float(((x - y) ** 2).sum()) / energy
        bits = lossy_anatomy(data, bands=False)[0].bits_per_sample
        bound, scalar = 0.5 * math.log2(1 / reached), best_scalar_rate(reached)
        rows.append([f"{error:g}", f"{reached:.3f}", f"{bits:.3f}", f"{bound:.3f}", f"{scalar:.3f}",
                     f"{bits / bound:.2f}", f"{bits / scalar:.2f}"])
    return rows


def main() -> None:
    from beat_locked import ecg_signals, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    bounds = [f"bound, B = {b}" for b in BLOCKS]
    lines = ["# The noise bands against a Gaussian rate-distortion bound", "",
             f"Written by `benchmarks/noise_bound.py --data-dir {args.data_dir}`; the method is in its docstring. "
             "Per ECG record and target, effort best's file: the white unlocked bands (unlocked as in "
             f"`docs/BEAT_LOCKED.md`, spectral flatness at least {WHITE:g}), their bytes and share of the squared "
             "error, and the bytes a Gaussian with each block of B coefficients' variance known would need at that "
             "error (1.00 in \"bytes over the bound\": at the bound). \"Allowed\": the bytes the "
             "goal leaves those bands if nothing else in the file moves (– where the goal is met).", ""]
    for label, sig in ecg_signals(args.data_dir):
        target_rows, band_rows, split_rows, zone_rows, memory_rows = study(sig)
        if not target_rows:
            continue
        lines += [f"## {label} ({sig.n_samples} samples at {sig.fs:g} Hz)", "",
                  *table(["PRDN", "white unlocked bands", "their bytes", "their share of the error", *bounds,
                          "bytes over the B = 16 bound", "file bytes", "allowed"], target_rows), "",
                  *table(["PRDN", "band", "Hz", "bits a coefficient", "error over its energy", "bytes",
                          "bound, B = 16", "bytes over bound"], band_rows), ""]
        if split_rows:
            lines += ["Short of the goal, with the error split otherwise: the rest of the file as coded at "
                      f"{', '.join(f'{f:g}' for f in SPLIT_TARGETS)} times the PRDN, the white bands at their bound "
                      "with the error that leaves. \"Least total\": the smallest file so; \"room\": the most the "
                      "white bands could spend over their bound within the goal's bytes, at the best split (under 1: "
                      "not even the bound fits).", "",
                      *table(["PRDN", "goal's bytes", *(f"{h}, B = {b}" for b in BLOCKS for h in
                                                         ("least total", "room"))], split_rows), "",
                      "Short of the goal, the dead zone per band: the signal's orthonormal bands (no template) at "
                      "the target's squared error, in order-0 bytes (a cruder count than the coder's), under "
                      f"the encoder's rounding ({ROUNDING:g}) everywhere, the best one rounding for every band, and "
                      "a rounding per band (coarsest band first).", "",
                      *table(["PRDN", f"rounding {ROUNDING:g}", "best one rounding", "its bytes",
                              "per band", "their bytes", "saved on the first", "saved on the best one"],
                             zone_rows), "",
                      "Short of the goal, the white bands' memory: each as the signal's orthonormal band under the "
                      f"encoder's dead zone (rounding {ROUNDING:g}) at the step that leaves the white bands the file's "
                      "error in them, in bytes under a table per context (conditional entropy, each table's counts "
                      "paid for, a sign bit per nonzero): none (order 0), the previous value's class (the adaptive "
                      "stream's contexts), that and the parent's class (format 1.13's), and the local energy of the "
                      f"previous {ENERGY_PREVIOUS} values and the parent's {ENERGY_PARENT} (no format's). \"Least "
                      "over order 0\": 1.000 where no context finds anything to use.", "",
                      *table(["PRDN", "band", *(f"{m}, bytes" for m in MEMORY_MODELS), "least over order 0"],
                             memory_rows), ""]
        print("\n".join(lines[lines.index(f"## {label} ({sig.n_samples} samples at {sig.fs:g} Hz)"):]), flush=True)
    lines += ["## A dead-zone scalar quantiser on a unit Gaussian", "",
              *table(["squared error", "bound, bits", "quantiser's least entropy, bits", "difference",
                      "ratio"], quantiser_rows()), ""]
    rounding = rounding_rows()
    lines += ["## sancodec's quantiser's rounding on a unit Gaussian", "",
              f"Its reconstruction as files have it (RHO16 = {RHO16}), at the encoder's rounding ({ROUNDING:g}) and "
              "at the best of 0.05-0.5; each rate over the best dead-zone scalar quantiser's (the table above).", "",
              *table(["squared error", "scalar quantiser, bits", f"rounding {ROUNDING:g}, over it", "best rounding",
                      "its rate, over it"], rounding), ""]
    coder = coder_rows()
    lines += ["## sancodec on white Gaussian noise", "",
              f"{NOISE_SAMPLES} samples of white Gaussian noise (standard deviation {NOISE_SIGMA:g}, rounded), coded "
              "by effort best at the PRDN whose square is the error share asked; the bound and the scalar "
              "quantiser's least rate at the error share reached.", "",
              *table(["error asked", "error reached", "sancodec, bits a sample", "bound, bits",
                      "scalar quantiser, bits", "sancodec over the bound", "sancodec over the scalar quantiser"],
                     coder), ""]
    print("\n".join(lines[-2 * len(QUANTISER_ERRORS) - len(coder) - 18:]), flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
