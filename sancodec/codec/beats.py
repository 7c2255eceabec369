"""A beat template as a one-kernel SAN fitted to the record at encode time: the long-term
predictor of the lossy mode for quasi-periodic signals (ECG).

The encoder finds beats (peaks of the smoothed |first difference|, at least 0.3 s and 0.6 beat periods
apart, the activations), takes the beats' interquartile mean (their mean sample by sample without the
lowest and highest quarter) as the kernel (on a grid of 1/8 sample unit) and one gain per beat (on a
grid of 1/64), moves each beat to where the template fits it best and fits the template again
(:func:`align`), and subtracts ``Σ gain · template`` before transform coding. All of it is integers in
the file, and the prediction is exact: ``acc = Σ g64 · t8`` in int64, then ``acc / 512`` in float64.
The lossy coder keeps it only where the file gets smaller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, partial

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.jobs import piece_count, run_pieces
from sancodec.errors import SanFormatError
from sancodec.san.placement import scatter_kernels
from sancodec.san.sparse import peaks
from sancodec.signal import MAX_ABS_SAMPLE

__all__ = ["BeatTemplate", "align", "beats_inside", "fft_correlation", "find_beats", "find_template", "fitted_template",
           "kept_above", "moved_beats", "read_template", "remade_template", "remakes", "windows_of",
           "trimmed_means"]

MAX_TEMPLATE = 1 << 14  # samples in a template (a beat of 1.6 s at 10 kHz)
MAX_MAGNITUDE = 1 << 40  # |t8| and |g64|: their products and sums stay exact in int64 and float64
TEMPLATE_TRIM = 0.25  # a template is its beats' mean without this share of the values at either end (trimmed_means)
MAX_TAP_SHIFT = 32  # format 1.7: the taps on a grid of 2**shift eighths (a file's shift is at most this)


@dataclass(frozen=True)
class BeatTemplate:
    """Kernel ``t8`` (1/8 units) placed with its sample ``anchor`` at each ``position``, scaled by ``g64 / 64``;
    ``shift`` > 0 (format 1.7): every tap is a multiple of ``2**shift``, and the file stores them divided."""

    t8: np.ndarray
    anchor: int
    positions: np.ndarray
    g64: np.ndarray
    shift: int = 0

    def prediction(self, length: int) -> np.ndarray:
        """``Σ g · t`` as float64, exactly (integer sum, one division by 512)."""
        compiled = kernels.template_prediction(self.t8, self.anchor, self.positions, self.g64, length)
        if compiled is not None:
            return compiled
        if len(self.t8) > len(self.positions):  # few beats: place each template at once
            # placement.scatter_kernels centres kernels by the SAN convention; shift positions to our anchor
            centre = (len(self.t8) - 1) // 2
            acc = scatter_kernels((1, length), [self.t8], [np.zeros(len(self.positions), np.int64)],
                                  [self.positions - self.anchor + centre], [self.g64])[0]
            return acc / 512.0
        # one vectorised add per template sample: the positions are distinct, so no index repeats in
        # an add, and |acc| <= max|g64| * sum|t8| <= 2**53 (checked on reading) keeps int64 exact
        acc = np.zeros(length, dtype=np.int64)
        start = self.positions - self.anchor
        for j, tap in enumerate(self.t8.tolist()):
            if tap:
                a, b = np.searchsorted(start, (-j, length - j))  # the beats whose sample j lands inside
                acc[start[a:b] + j] += self.g64[a:b] * tap
        return acc / 512.0

    def with_gains_on(self, grid: int) -> BeatTemplate:
        """This template with its gains rounded to multiples of ``grid`` / 64 (0: every gain 1), still
        within what :func:`read_template` accepts: a gain of a few 64ths hardly changes the prediction,
        but costs its bits in the side information."""
        if grid == 0:
            g64 = np.full_like(self.g64, 64)
        else:
            g64 = (np.rint(self.g64 / grid) * grid).astype(np.int64)
        return self if not _exact(self.t8, g64) else replace(self, g64=g64)

    def with_taps_on(self, shift: int) -> BeatTemplate:
        """This template with its taps rounded to multiples of ``2**shift`` eighths (format 1.7): taps
        far finer than the residual's quantiser step cost side information and predict no better."""
        unit = 1 << shift
        t8 = (np.rint(self.t8 / unit) * unit).astype(np.int64)
        if not t8.any() or not _exact(t8, self.g64):
            return self
        return replace(self, t8=t8, shift=shift)

    def write(self, w: ByteWriter) -> tuple[bool, bool]:
        """Write the template; returns whether the beat gaps went as their differences (format 1.5, the
        lossy predictor's bit 2), which is done where smaller: beat-to-beat intervals drift slowly; and whether the
        taps went as their second differences (format 1.12, the predictor's bit 8), where smaller: a smooth
        template's slope changes little from tap to tap. With a ``shift`` (the predictor's bit 3, format 1.7), it
        follows the count and the taps go divided."""
        side, second, smooth = self._written
        w.raw(side)
        return second, smooth

    @cached_property
    def _written(self) -> tuple[bytes, bool, bool]:
        """:meth:`write`'s bytes and its answers, made once: the encoder weighs a template's side
        information in every coding it tries with it (the fields are not changed after construction). The taps as
        first differences, then as second differences, each with the beat gaps as they are or as their
        differences, whichever is smaller; the smaller kept. Each in one compiled call where built
        (``kernels.template_side``, the same bytes: handed the taps' first differences, on the same grid, it writes
        their second)."""
        taps = self.t8 >> self.shift
        compiled = kernels.template_side(self.t8, self.anchor, self.positions, self.g64, self.shift)
        if compiled is not None:
            side, second = compiled
            smooth_compiled = kernels.template_side(_differences(taps) << self.shift, self.anchor, self.positions,
                                                    self.g64, self.shift)
            assert smooth_compiled is not None  # the same fields as the call above, which took them
            smooth, smooth_second = smooth_compiled
        else:
            gaps = _differences(self.positions)
            side, second = self._side(_differences(taps), gaps)
            smooth, smooth_second = self._side(_differences(_differences(taps)), gaps)
        return (smooth, smooth_second, True) if len(smooth) < len(side) else (side, second, False)

    def _side(self, taps: np.ndarray, gaps: np.ndarray) -> tuple[bytes, bool]:
        """The side information with ``taps`` as given and the beat ``gaps`` as they are or as their differences,
        whichever is smaller, and that choice (True: their differences)."""
        w = ByteWriter()
        w.varint(len(self.t8))
        w.varint(self.anchor)
        w.varint(len(self.positions))
        if self.shift:
            w.varint(self.shift)
        blocks = [encode_arrays([taps, g, self.g64 - 64], [False] * 3) for g in (gaps, _differences(gaps))]
        second = len(blocks[1]) < len(blocks[0])
        w.varint(len(blocks[second]))
        w.raw(blocks[second])
        return w.getvalue(), second


def _differences(a: np.ndarray) -> np.ndarray:
    """``np.diff(a, prepend=0)`` of a 1-D integer array, without the prepended copy and its broadcast (a quarter of
    the time: every template the encoder weighs writes its side information)."""
    out = np.empty_like(a)
    if len(a):
        out[0] = a[0]
        np.subtract(a[1:], a[:-1], out=out[1:])
    return out


def _exact(t8: np.ndarray, g64: np.ndarray) -> bool:
    """One sample gets at most one beat's template per position, so |acc| <= max|g64| * sum|t8|:
    within 2**53 the integer prediction is exact in int64 and float64."""
    return float(np.abs(g64).max(initial=0)) * float(np.abs(t8).sum()) <= MAX_ABS_SAMPLE


def read_template(r: ByteReader, length: int, second: bool = False, shifted: bool = False,
                  smooth: bool = False) -> BeatTemplate:
    """Read and validate a template: sizes within the frame, positions increasing and inside it
    (``second``: the gaps are stored as their differences, format 1.5; ``shifted``: a tap grid
    ``2**shift`` follows the count, format 1.7; ``smooth``: the taps are stored as their second differences,
    format 1.12)."""
    m = r.varint(MAX_TEMPLATE)
    if m < 1:
        raise SanFormatError("frame: empty beat template")
    anchor = r.varint(m - 1)
    count = r.varint(length)
    shift = r.varint(MAX_TAP_SHIFT) if shifted else 0
    if shifted and shift < 1:
        raise SanFormatError("frame: beat template tap grid of shift 0 in a shifted template")
    d, gaps, g = decode_arrays(r.raw(r.varint(r.remaining())), [m, count, count], [False, False, False])
    if smooth:  # every first difference is within the second ones' sum: bounded first, so the sums cannot wrap
        if float(np.abs(d).sum()) * m > MAX_MAGNITUDE:
            raise SanFormatError("frame: beat template too large")
        d = np.cumsum(d)
    if second:  # each difference of gaps inside the frame is within ±length: the sums cannot wrap
        if count and float(np.abs(gaps).max()) > length:
            raise SanFormatError("frame: beat positions are not increasing inside the frame")
        gaps = np.cumsum(gaps)
    if count and (gaps[1:].min(initial=1) < 1 or gaps[0] < 0 or float(gaps.sum()) >= length):
        raise SanFormatError("frame: beat positions are not increasing inside the frame")
    g64 = g + 64  # the taps' bound is checked before the shift: 2**40 shifted by 32 would wrap int64
    if float(np.abs(d).sum()) * 2.0**shift > MAX_MAGNITUDE or (count and float(np.abs(g64).max()) > MAX_MAGNITUDE):
        raise SanFormatError("frame: beat template or gains too large")
    t8 = np.cumsum(d) << shift
    if count and not _exact(t8, g64):
        raise SanFormatError("frame: beat template times gains exceeds 2**53")
    return BeatTemplate(t8.astype(np.int64), anchor, np.cumsum(gaps), g64.astype(np.int64), shift)


MIN_SPACING = 0.6  # of the beat period: an early ectopic beat comes later than that
PERIODS = (0.3, 2.0)  # seconds: the beat periods looked for (200 to 30 beats per minute)


def find_beats(x: np.ndarray, fs: float) -> np.ndarray:
    """Where the beats of ``x`` are: peaks of its smoothed |first difference|, at least 0.3 s apart and
    at least :data:`MIN_SPACING` of the beat period apart (one pass per frame, shared by every template
    window the encoder tries). The period check stops a T wave as steep as its QRS from counting as a
    second beat (PTB s0010_re's marks used to alternate between the two)."""
    v = np.asarray(x, dtype=np.float64)  # no copy of a float channel (the callers' converted once)
    width = max(1, int(0.04 * fs))
    energy = kernels.difference_envelope(v, width)
    if energy is None:
        energy = _moving_average(np.abs(np.diff(v, prepend=v[0])), width)
    energy = kept_above(energy, 0.25 * percentile(energy, 99))
    spacing = max(1, int(0.3 * fs))
    k = max(1, width // 2)  # the envelope is a moving average over `width`: every k-th value (20 ms) shows its period
    period = beat_period(energy[::k], fs / k)
    if period is not None:
        spacing = max(spacing, int(MIN_SPACING * period * k))
    compiled = kernels.greedy_peaks(energy, spacing)
    return compiled if compiled is not None else np.flatnonzero(peaks(energy[None, None], spacing)[0, 0])


def kept_above(energy: np.ndarray, threshold: float) -> np.ndarray:
    """``np.where(energy > threshold, energy, 0.0).astype(np.float32)`` of a non-negative envelope within float32's
    range (a channel's samples are within 2^53), in one pass: float32 times the comparison's 1 or 0 (exact), without
    where's float64 array between (half the time)."""
    return np.multiply(energy, energy > threshold, dtype=np.float32)


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) to the bit, from one order statistic: the one above it
    is the least of those the partition puts after it, where numpy partitions at both (four times the work)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    n = len(v)
    if not n:
        raise ValueError("percentile of no values")
    virtual = (n - 1) * (q / 100)  # numpy's virtual index for its "linear" method
    if virtual >= n - 1:
        return float(v.max())
    lo = max(int(math.floor(virtual)), 0)
    gamma = virtual - math.floor(virtual) if virtual >= 0 else 0.0
    top = _top_values(v, n - lo)
    if top is not None:  # ranks lo and lo + 1 are the same ranks from the top among the largest values
        v, lo = top, len(top) - (n - lo)
    part = np.partition(v, lo)
    a, b = float(part[lo]), float(part[lo + 1 :].min())
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


TOP_SAMPLE = 64  # _top_values' threshold comes from every this-many-th value


def _top_values(v: np.ndarray, count: int) -> np.ndarray | None:
    """Values of ``v`` (finite) that hold its ``count`` largest and at least one more, cut at a threshold taken
    from a sample of ``v`` so that it keeps about twice that many, where that is far fewer than ``v`` holds: the
    detector's 99th percentile is then selected from about 2 % of a long channel. None where ``v`` is short or
    the cut keeps too few (the caller selects among all)."""
    if len(v) < 64 * TOP_SAMPLE or count > len(v) // 8:
        return None
    sample = v[::TOP_SAMPLE]
    take = min(len(sample), 2 * count // TOP_SAMPLE + 16)
    threshold = np.partition(sample, len(sample) - take)[len(sample) - take]
    top = v[v >= threshold]
    return top if len(top) > count else None


def _moving_average(d: np.ndarray, width: int) -> np.ndarray:
    """The centred moving average ``np.convolve(d, np.ones(width) / width, mode="same")`` gives (as long as
    ``d``, also where ``d`` is shorter than ``width``), from a running sum: one pass, not ``width``. Sample ``i``
    averages ``d[i - width // 2 : i + (width - 1) // 2 + 1]``, zeros outside."""
    n, ahead, behind = len(d), min((width - 1) // 2 + 1, len(d)), width // 2
    total = np.cumsum(d)  # total[i]: the sum of d[: i + 1]
    out = np.empty(n)
    out[: n - ahead + 1] = total[ahead - 1 :]  # the sum up to sample i + ahead - 1, or to the end
    out[n - ahead + 1 :] = total[-1]
    out[behind + 1 :] -= total[: max(n - behind - 1, 0)]  # less the sum before sample i - behind
    out /= width
    return out


DIRECT_LAGS = 5.0  # beat_period sums an envelope's lagged products directly where its nonzero values times the
# lags are at most this many times the FFT's size times its log2 (per such unit the direct sums took about 0.1 ns,
# the FFT's pair about 0.55 ns on bench_lossy's records: mitdb 100's 2.7 ms went to 0.45 ms, an EEG's stays an FFT)


def beat_period(energy: np.ndarray, fs: float) -> int | None:
    """The beat period of an energy envelope in samples: the shortest lag in :data:`PERIODS` whose
    autocorrelation reaches 0.9 of the largest there (not a multiple of the period, where the
    correlation is about as high); None where the record is too short or shows no repetition. The
    autocorrelation of the envelope less its mean, from its lagged products where the envelope is sparse
    (:data:`DIRECT_LAGS`: an ECG's, nonzero around each QRS), else through an FFT of the whole."""
    lo, hi = int(PERIODS[0] * fs), min(int(PERIODS[1] * fs), len(energy) // 2)
    if hi < lo + 2:
        return None
    mean = float(energy.mean())
    e = energy.astype(np.float64)
    size = _correlation_size(len(e), hi)
    if np.count_nonzero(e) * (hi - lo + 1) <= DIRECT_LAGS * size * math.log2(size):
        ac = _lagged_covariances(e, mean, lo, hi)
    else:
        e -= mean
        ac = fft_correlation(e, lo, hi)
    top = float(ac.max())
    if not top > 0:
        return None
    return lo + int(np.flatnonzero(ac >= 0.9 * top)[0])


def _correlation_size(n: int, hi: int) -> int:
    """The FFT length of :func:`fft_correlation`: zero-padded past the lags wanted (a linear correlation), a power
    of two (an FFT of a length with a large prime is slow)."""
    return 1 << (n + hi).bit_length()


def fft_correlation(e: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``sum(e[:n - L] * e[L:])`` for each lag ``L`` in ``[lo, hi]`` through an FFT of the whole of ``e``: what
    :func:`beat_period` takes of an envelope too dense for its lagged products."""
    size = _correlation_size(len(e), hi)
    spectrum = np.fft.rfft(e, size)
    return np.fft.irfft(spectrum * np.conj(spectrum), size)[lo : hi + 1]


def _lagged_covariances(e: np.ndarray, mean: float, lo: int, hi: int) -> np.ndarray:
    """``sum((e[:n - L] - mean) * (e[L:] - mean))`` for each lag ``L`` in ``[lo, hi]`` of a non-negative ``e``: its
    lagged products (``kernels.lagged_products``, which skips the zeros) less the mean times the two stretches'
    sums (from one running sum) plus the mean squared once per product."""
    n = len(e)
    prefix = np.zeros(n + 1)
    np.cumsum(e, out=prefix[1:])
    lags = np.arange(lo, hi + 1)
    return kernels.lagged_products(e, lo, hi) - mean * (prefix[n - lags] + (prefix[n] - prefix[lags])) \
        + (n - lags) * (mean * mean)


def _rows(v: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``v[clip(starts[:, None] + arange(width), 0, len(v) - 1)]`` (a row of ``width`` values from each start, the
    end values repeated past either end): rows copied from a sliding window view where every row lies inside
    ``v``, without the index matrix (about a sixth of the time on a long record's beats)."""
    n = len(v)
    if len(starts) and width <= n and int(starts.min()) >= 0 and int(starts.max()) + width <= n:
        return np.lib.stride_tricks.sliding_window_view(v, width)[starts]
    return v[np.clip(starts[:, None] + np.arange(width)[None, :], 0, n - 1)]


def find_template(x: np.ndarray, fs: float, window: tuple[float, float] = (0.25, 0.45),
                  beats: np.ndarray | None = None) -> BeatTemplate | None:
    """The beat of ``x`` over ``window`` (seconds before and after each beat; :func:`_beat_template`) and one gain
    per beat, or None where no beat train is found (``beats``: :func:`find_beats` of ``x``, if known)."""
    return _template(x, fs, window, beats, fit=False)[0]


def fitted_template(x: np.ndarray, fs: float, window: tuple[float, float],
                    beats: np.ndarray) -> tuple[BeatTemplate | None, float]:
    """:func:`find_template` and the share of its beat windows' energy (each window less its own median, as the
    template is made of them) that the template, times each beat's gain, leaves unexplained: near 0 where the
    beats repeat one shape (an ECG's, a pressure pulse's), near 1 where the marked peaks share none (EMG bursts,
    EEG). 1.0 where no template is found."""
    return _template(x, fs, window, beats, fit=True)


def _template(x: np.ndarray, fs: float, window: tuple[float, float], beats: np.ndarray | None,
              fit: bool) -> tuple[BeatTemplate | None, float]:
    """:func:`find_template`, and with ``fit`` :func:`fitted_template`'s share (else 1.0)."""
    n = len(x)
    before, after = int(window[0] * fs), int(window[1] * fs)
    if n < 4 * (before + after) or before < 2:
        return None, 1.0
    found = beats_inside(find_beats(x, fs) if beats is None else beats, n, fs, window)
    if len(found) < 4:
        return None, 1.0
    v = np.asarray(x, dtype=np.float64)  # no copy of a float channel (the callers' converted once)
    windows = _beat_windows(v, found - before, before + after)
    template = _beat_template(windows, before, found)
    if template is None:
        return None, 1.0
    t8, g64 = template.t8, template.g64
    if not fit:
        return template, 1.0
    energy = float(np.einsum("bj,bj->", windows, windows))
    windows -= np.multiply.outer(g64 / 64.0, t8 / 8.0)
    return template, float(np.einsum("bj,bj->", windows, windows)) / energy if energy > 0 else 1.0


def _beat_windows(v: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Each beat's window of ``v`` (``width`` samples from each of ``starts``, inside ``v``), less its own median:
    what a template is made of (:func:`_beat_template`)."""
    if not _split(len(starts), width):
        windows = _rows(v, starts, width)
        windows -= kernels.medians(windows, 1)[:, None]
        return windows
    # each half of the beats copied and centred on its own thread, into its place (not :func:`_by_halves`, whose
    # join would copy the whole again, on this thread alone)
    windows = np.empty((len(starts), width))
    half = len(starts) // 2
    halves = ((0, half), (half, len(starts)))
    run_pieces([partial(_centred_rows, v, starts[a:b], width, windows[a:b]) for a, b in halves],
               [(b - a) * width for a, b in halves])
    return windows


def _centred_rows(v: np.ndarray, starts: np.ndarray, width: int, out: np.ndarray) -> None:
    """:func:`_beat_windows` of ``starts`` into ``out`` (one row each)."""
    out[:] = _rows(v, starts, width)
    out -= kernels.medians(out, 1)[:, None]


def _beat_template(windows: np.ndarray, anchor: int, positions: np.ndarray, smooth: np.ndarray | None = None,
                   median: bool = False) -> BeatTemplate | None:
    """The beat of ``windows`` (:func:`_beat_windows`): their mean without :data:`TEMPLATE_TRIM` of the values at
    either end (:func:`trimmed_means`), or with ``median`` their median, filtered by the kernel ``smooth`` where given
    (:func:`remade_template`), as a template in 1/8 units, with each beat's least-squares gain on it in 1/64; None
    where it is flat or too large for an exact prediction."""
    beat = _medians(windows, 0) if median else trimmed_means(windows, TEMPLATE_TRIM)
    if smooth is not None:
        half = len(smooth) // 2
        beat = np.convolve(np.pad(beat, half, mode="edge"), smooth, mode="valid")
    t8 = np.rint(beat * 8).astype(np.int64)
    norm = float(t8 @ t8)
    if norm == 0 or float(np.abs(t8).sum()) * 2**12 > MAX_ABS_SAMPLE:
        return None
    g64 = np.rint(np.einsum("bj,j->b", windows, t8.astype(np.float64)) / norm * 8 * 64).astype(np.int64)  # not BLAS
    if not _exact(t8, g64):
        return None
    return BeatTemplate(t8, anchor, positions.astype(np.int64), g64)


def trimmed_means(windows: np.ndarray, trim: float) -> np.ndarray:
    """Each column's mean of ``windows`` without its ``floor(trim * rows)`` lowest and as many highest values
    (``kernels.trimmed_means``; the medians where that leaves none out): nearer a beat than the median where the
    noise is Gaussian (the median's variance is π/2 the mean's), and still blind to that share of odd beats."""
    n = windows.shape[0]
    k = int(trim * n)
    if k < 1 or n - 2 * k < 1:
        return _medians(windows, 0)
    return _by_halves(lambda taps: kernels.trimmed_means(taps, k), windows.T, n)


def remade_template(x: np.ndarray, fs: float, template: BeatTemplate, cutoff: float | None = None,
                    median: bool = False, windows: np.ndarray | None = None) -> BeatTemplate | None:
    """``template``'s beats (the same positions and window) made again from ``x``: low-passed (``cutoff``: a Gaussian
    kernel whose response falls to 1/√e at ``cutoff`` Hz, the template's ends repeated), or their median (``median``)
    instead of :func:`_beat_template`'s trimmed mean, or both, the gains fitted to it again; None where it is flat,
    where ``cutoff`` is not below the Nyquist frequency, or where neither is asked. A template of a few dozen noisy
    beats keeps some of their noise, which the prediction adds back to every beat: on a 1000 Hz ECG its content
    above 150 Hz is noise no template predicts (PTB s0010_re); a pulse wave's beats that change shape may want
    their median (a103l's PLETH at PRDN 5 %). ``windows``: :func:`windows_of` ``x`` and ``template``, where
    made already (not changed here)."""
    if not remakes(fs, cutoff, median) or not len(template.positions):
        return None
    kernel = None
    if cutoff is not None:
        sigma = fs / (2 * math.pi * cutoff)
        half = math.ceil(3 * sigma)
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
        kernel /= kernel.sum()
    if windows is None:
        windows = windows_of(x, template)
    return _beat_template(windows, template.anchor, template.positions, kernel, median)


def remakes(fs: float, cutoff: float | None, median: bool) -> bool:
    """Whether :func:`remade_template` makes anything of a way: a ``cutoff`` below the Nyquist frequency, or without
    one, the ``median``."""
    return 0 < cutoff < fs / 2 if cutoff is not None else median


def windows_of(x: np.ndarray, template: BeatTemplate) -> np.ndarray:
    """The windows ``template`` is made of in ``x`` (:func:`_beat_windows` at its beats): :func:`remade_template`'s."""
    return _beat_windows(np.asarray(x, dtype=np.float64), template.positions - template.anchor, len(template.t8))


SHARED_MEDIANS = 1 << 18  # _split halves the work on an array of this many values or more between two threads:
# on fewer (a short record's beats, a head's) the second thread's start and the first's wait cost what it saves


def _split(rows: int, width: int) -> bool:
    """Whether work on ``rows`` rows of ``width`` values, each row's its own, goes on two threads, a half each:
    where ``jobs.piece_threads`` allows and they hold :data:`SHARED_MEDIANS` values or more."""
    return piece_count() >= 2 and rows >= 2 and rows * width >= SHARED_MEDIANS


def _by_halves(work: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, width: int) -> np.ndarray:
    """``work(rows)``, one value per row of ``rows`` (each row's alone: ``width`` values of work a row), made for
    each half of the rows on a thread of its own and joined where :func:`_split` says: the same values. A
    template's medians and trimmed means are made so."""
    if not _split(len(rows), width):
        return work(rows)
    half = len(rows) // 2
    parts = (rows[:half], rows[half:])
    return np.concatenate(run_pieces([partial(work, p) for p in parts], [len(p) * width for p in parts]))


def _medians(a: np.ndarray, axis: int) -> np.ndarray:
    """``kernels.medians(a, axis)``, each half of the rows (``axis`` 1) or columns (0) on a thread of its own
    (:func:`_by_halves`)."""
    if axis == 1:
        return _by_halves(lambda rows: kernels.medians(rows, 1), a, a.shape[1])
    return _by_halves(lambda columns: kernels.medians(columns.T, 0), a.T, a.shape[0])


ALIGN_SHIFT = 0.04  # seconds a beat may move to where the template fits it best (at most 12 samples)
ALIGN_HALF = 0.1  # seconds either side of the anchor that the fit looks at, the QRS (at most 40 samples)
MAX_SHIFT, MAX_HALF = 12, 40  # the work per beat stays below 25 x 80 samples at any sampling rate
ALIGN_ROUNDS = 2
ALIGN_CHUNK = 1024  # beats fitted at once: at most 1024 x 25 x 80 values (16 MB each array) on long records


def align(x: np.ndarray, fs: float, window: tuple[float, float], template: BeatTemplate,
          rounds: int = ALIGN_ROUNDS) -> BeatTemplate:
    """``template`` fitted again after moving each beat by up to :data:`ALIGN_SHIFT` to where the
    template's QRS part fits it best (least squares, each beat with its own gain and offset), ``rounds`` times.
    The detector marks the peak of a smoothed energy, which wanders by a few samples around the QRS;
    that jitter leaves sharp edges in the residual, costly in its fine bands. Returns ``template``
    where no better-placed template is found."""
    for _ in range(rounds):
        moved = moved_beats(x, fs, template)
        fitted = None if moved is None else find_template(x, fs, window, moved)
        if fitted is None:
            break
        template = fitted
    return template


def beats_inside(found: np.ndarray, n: int, fs: float, window: tuple[float, float]) -> np.ndarray:
    """The beats of ``found`` whose ``window`` (seconds before and after) lies inside ``n`` samples."""
    before, after = int(window[0] * fs), int(window[1] * fs)
    return found[(found >= before) & (found + after < n)]


def moved_beats(x: np.ndarray, fs: float, template: BeatTemplate) -> np.ndarray | None:
    """``template.positions`` each moved by up to :data:`ALIGN_SHIFT` to where the template's QRS part fits
    ``x`` best (:func:`align`'s one round), increasing and distinct; None where that part is flat."""
    n = len(x)
    shift = min(MAX_SHIFT, max(1, round(ALIGN_SHIFT * fs)))
    half = min(MAX_HALF, max(2, round(ALIGN_HALF * fs)))
    start = max(0, template.anchor - half)
    qrs = template.t8[start : template.anchor + half] / 8.0
    qrs = qrs - qrs.mean()
    if not qrs @ qrs > 0 or not len(template.positions):
        return None
    v = np.asarray(x, dtype=np.float64)  # no copy of a float channel (the callers' converted once)
    offsets = np.arange(len(qrs)) - (template.anchor - start)
    chunks = np.array_split(template.positions, -(-len(template.positions) // ALIGN_CHUNK))
    work = [partial(_best_shift, v, p, offsets, qrs, shift, n) for p in chunks]  # side by side where piece_threads
    fits = [len(p) * (2 * shift + 1) * len(qrs) for p in chunks]  # allows: each beat's shifts times the QRS
    return np.unique(np.concatenate(run_pieces(work, fits)))


def _best_shift(v: np.ndarray, positions: np.ndarray, offsets: np.ndarray, qrs: np.ndarray, shift: int,
                n: int) -> np.ndarray:
    """Each position moved by the shift in ``[-shift, shift]`` whose window fits ``qrs`` best: the least
    squared residual of the window less its mean and its projection on ``qrs`` (which has mean 0),
    ``Σw² - (Σw)²/L - (Σw·qrs)²/(qrs·qrs)``, from running sums over each beat's stretch of samples."""
    length, count = len(offsets), 2 * shift + 1
    candidates = positions[:, None] + np.arange(-shift, shift + 1)[None, :]
    inside = (candidates + offsets[0] >= 0) & (candidates + offsets[-1] < n)
    # each beat's stretch holds its 2 shift + 1 windows (the windows it clips at the ends are left out below),
    # less its mean: the residual does not change, the sums below lose less to cancellation
    span = _rows(v, positions - shift + offsets[0], count - 1 + length)
    span -= span.mean(axis=1, keepdims=True)
    compiled = kernels.best_shift(span, qrs, positions, shift, int(offsets[0]), int(offsets[-1]), n)
    if compiled is not None:
        return positions - shift + compiled
    sums = np.zeros((len(positions), span.shape[1] + 1))
    np.cumsum(span, axis=1, out=sums[:, 1:])
    total = sums[:, length : length + count] - sums[:, :count]
    np.cumsum(span * span, axis=1, out=sums[:, 1:])
    energy = sums[:, length : length + count] - sums[:, :count]
    cross = np.zeros((len(positions), count))
    for j, tap in enumerate(qrs.tolist()):  # length (at most 80) passes over all beats at once
        cross += span[:, j : j + count] * tap
    err = energy - total * total / length - cross * cross / (qrs @ qrs)
    err[~inside] = np.inf
    return candidates[np.arange(len(positions)), np.argmin(err, axis=1)]
