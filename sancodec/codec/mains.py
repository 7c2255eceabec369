"""Mains interference (50 or 60 Hz powerline hum) as a predictor of a lossy wavelet frame (format 1.10).

An ECG recorded near mains wiring carries a sinusoid at the mains frequency whose amplitude and phase drift
slowly: mitdb 100's 60 Hz line. Transform coding pays for it in every coefficient of the band it falls in,
at every target. A frame may instead carry the hum: one frequency (a phase step per sample, in 2^-32 turns)
and, per block of samples, the amplitudes of its cosine and sine (1/8 sample units); the decoder adds
``Σ (a_k cos + b_k sin)`` to the frame's prediction. Every operation is on integers and a sine table written
out below, so every machine predicts the same samples. The encoder fits it where a line stands out of the
spectrum near 50 or 60 Hz and keeps it only where the channel's file gets smaller (``lossy.encode_channel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np

from sancodec.codec import kernels
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.jobs import piece_count, run_pieces
from sancodec.errors import SanFormatError

__all__ = ["MAX_AMPLITUDE", "Mains", "fit_mains", "line_candidates", "mains_frequency", "phases", "read_mains"]

#: round(2^14 sin(pi/2 i / 256)), i = 0..256: a quarter of the sine table, written out (not computed at run
#: time, so no machine's libm can move a value)
QUARTER = (
    0, 101, 201, 302, 402, 503, 603, 704, 804, 904, 1005, 1105, 1205, 1306, 1406, 1506,
    1606, 1706, 1806, 1906, 2006, 2105, 2205, 2305, 2404, 2503, 2603, 2702, 2801, 2900, 2999, 3098,
    3196, 3295, 3393, 3492, 3590, 3688, 3786, 3883, 3981, 4078, 4176, 4273, 4370, 4467, 4563, 4660,
    4756, 4852, 4948, 5044, 5139, 5235, 5330, 5425, 5520, 5614, 5708, 5803, 5897, 5990, 6084, 6177,
    6270, 6363, 6455, 6547, 6639, 6731, 6823, 6914, 7005, 7096, 7186, 7276, 7366, 7456, 7545, 7635,
    7723, 7812, 7900, 7988, 8076, 8163, 8250, 8337, 8423, 8509, 8595, 8680, 8765, 8850, 8935, 9019,
    9102, 9186, 9269, 9352, 9434, 9516, 9598, 9679, 9760, 9841, 9921, 10001, 10080, 10159, 10238, 10316,
    10394, 10471, 10549, 10625, 10702, 10778, 10853, 10928, 11003, 11077, 11151, 11224, 11297, 11370, 11442, 11514,
    11585, 11656, 11727, 11797, 11866, 11935, 12004, 12072, 12140, 12207, 12274, 12340, 12406, 12472, 12537, 12601,
    12665, 12729, 12792, 12854, 12916, 12978, 13039, 13100, 13160, 13219, 13279, 13337, 13395, 13453, 13510, 13567,
    13623, 13678, 13733, 13788, 13842, 13896, 13949, 14001, 14053, 14104, 14155, 14206, 14256, 14305, 14354, 14402,
    14449, 14497, 14543, 14589, 14635, 14680, 14724, 14768, 14811, 14854, 14896, 14937, 14978, 15019, 15059, 15098,
    15137, 15175, 15213, 15250, 15286, 15322, 15357, 15392, 15426, 15460, 15493, 15525, 15557, 15588, 15619, 15649,
    15679, 15707, 15736, 15763, 15791, 15817, 15843, 15868, 15893, 15917, 15941, 15964, 15986, 16008, 16029, 16049,
    16069, 16088, 16107, 16125, 16143, 16160, 16176, 16192, 16207, 16221, 16235, 16248, 16261, 16273, 16284, 16295,
    16305, 16315, 16324, 16332, 16340, 16347, 16353, 16359, 16364, 16369, 16373, 16376, 16379, 16381, 16383, 16384,
    16384
)
TABLE_BITS = 10  # a turn in 1024 steps
PHASE_BITS = 32
SCALE = 1 << 17  # amplitudes in 1/8 sample units times the table's 2^14
MAX_AMPLITUDE = 1 << 36  # |a|, |b| (1/8 units): a prediction within 2^51, exact in float64
NOMINAL = (50.0, 60.0)  # mains frequencies looked for, Hz ...
SEARCH = 1.0  # ... within this many Hz
FLOOR = 5.0  # the spectrum's level is its median within this many Hz of the line
PROMINENCE = 20.0  # a line is fitted where its power is this many times the level's over as many bins
BLOCK_SECONDS = 10.0  # the amplitudes are fitted per block of this many seconds
SPECTRUM_SAMPLES = 1 << 18  # the line is looked for in the first this many samples (12 min at 360 Hz) ...
SPECTRUM_SIZE = 1 << 19  # ... zero-padded to at most this many (a short channel to 4 times its length)


def _table() -> np.ndarray:
    """The full sine table (1024 values, Q14) from the quarter, by symmetry."""
    q = np.asarray(QUARTER, dtype=np.int64)
    half = np.concatenate([q, q[-2:0:-1]])  # 0 .. pi (512 values: 0..256, then 255..1)
    return np.concatenate([half, -half])


SINE = _table()
SINE_F = SINE.astype(np.float64)
COSINE_F = np.roll(SINE_F, -(1 << (TABLE_BITS - 2)))  # cos at index i: the sine a quarter turn on


def phases(step: int, length: int) -> np.ndarray:
    """The table index of each of ``length`` samples' phase at ``step`` (the phase's top :data:`TABLE_BITS` bits):
    ``t * step`` in unsigned 32-bit arithmetic, which wraps mod 2^32 as the phase does (a frame holds under 2^32
    samples)."""
    if length >= 1 << PHASE_BITS:
        raise ValueError("mains hum: a frame of 2^32 samples or more")
    phase = np.arange(length, dtype=np.uint32) * np.uint32(step)
    return (phase >> np.uint32(PHASE_BITS - TABLE_BITS)).astype(np.intp)


@dataclass(frozen=True)
class Mains:
    """A frame's hum: ``step`` (phase per sample, 2^-32 turns), ``block`` (samples per block) and per block the
    amplitudes ``a`` (cosine) and ``b`` (sine), in 1/8 sample units."""

    step: int
    block: int
    a: np.ndarray
    b: np.ndarray

    def prediction(self, length: int, add_to: np.ndarray | None = None) -> np.ndarray:
        """The hum over ``length`` samples, float64: integers below 2^53 (amplitudes within 2^36, the table
        within 2^14), so the float products and sums are exact, then one division by a power of two (compiled
        where the C kernels built, the same values). With ``add_to`` (a fresh float64 prediction of ``length``
        values), ``add_to + hum``: compiled, added in place."""
        compiled = kernels.mains_prediction(SINE_F, COSINE_F, self.step, self.block, self.a, self.b, length,
                                            add_to)
        if compiled is not None:
            return compiled
        index = phases(self.step, length)
        a = np.repeat(self.a.astype(np.float64), self.block)[:length]
        b = np.repeat(self.b.astype(np.float64), self.block)[:length]
        a *= COSINE_F.take(index)
        b *= SINE_F.take(index)
        a += b
        a *= 1.0 / SCALE
        return a if add_to is None else add_to + a

    def write(self, w: ByteWriter) -> None:
        """Write the hum as its frame carries it (:attr:`side`)."""
        w.raw(self.side)

    @cached_property
    def side(self) -> bytes:
        """The frame's bytes for the hum: ``step u32``, ``block varint``, then the amplitudes' differences,
        entropy-coded (they drift slowly), behind their length."""
        w = ByteWriter()
        w.raw(int(self.step).to_bytes(4, "little"))
        w.varint(self.block)
        blob = encode_arrays([np.diff(self.a, prepend=0), np.diff(self.b, prepend=0)], [False, False])
        w.varint(len(blob))
        w.raw(blob)
        return w.getvalue()


def read_mains(r: ByteReader, length: int) -> Mains:
    """A frame's hum (:meth:`Mains.write`), every field checked: a block of 1 to ``length`` samples, one
    amplitude pair per block, each amplitude within :data:`MAX_AMPLITUDE` (so no sum wraps)."""
    step = int.from_bytes(r.raw(4), "little")
    block = r.varint(max(length, 1))
    if block < 1:
        raise SanFormatError("frame: mains hum in blocks of 0 samples")
    count = -(-length // block)
    da, db = decode_arrays(r.raw(r.varint(r.remaining())), [count, count], [False, False])
    amplitudes = []
    for d in (da, db):  # bounded differences first, so that their running sums cannot wrap int64
        if count and (float(np.abs(d).max()) > 2 * MAX_AMPLITUDE
                      or float(np.abs(np.cumsum(d.astype(np.float64))).max()) > MAX_AMPLITUDE):
            raise SanFormatError("frame: mains hum amplitude too large")
        amplitudes.append(np.cumsum(d).astype(np.int64))
    return Mains(step, block, *amplitudes)


def mains_frequency(x: np.ndarray, fs: float, padding: int = 4) -> float | None:
    """The mains line's frequency in ``x`` (within :data:`SEARCH` Hz of 50 or 60), or None where no line
    stands :data:`PROMINENCE` times above the spectrum's level around it (or the rate cannot hold one);
    ``padding``: :func:`line_candidates`'."""
    best = None
    for frequency, line, level in line_candidates(x, fs, padding):
        if level > 0 and line > PROMINENCE * level and (best is None or line > best[0]):
            best = (line, frequency)
    return None if best is None else best[1]


def line_candidates(x: np.ndarray, fs: float, padding: int = 4) -> list[tuple[float, float, float]]:
    """Per nominal frequency the rate can hold a line at: the frequency of the strongest bin within
    :data:`SEARCH` Hz of it in the spectrum of ``x``'s first :data:`SPECTRUM_SAMPLES` samples, the power of the
    line's main lobe there, and the spectrum's level over as many bins (its median within :data:`FLOOR` Hz).
    Only the bins within ``SEARCH + FLOOR`` Hz of each nominal frequency are squared and searched: the values
    are the whole spectrum's (np.fft.rfftfreq's frequencies), value for value. The spectrum is zero-padded to the
    power of two at or above ``padding`` times the samples' count (4: the peak placed to a quarter bin or finer;
    effort balanced's 1, a transform two to four times shorter, gave the same files on bench_lossy's records)."""
    x = np.asarray(x[:SPECTRUM_SAMPLES], dtype=np.float64)
    if len(x) < 64 or not fs > 0:
        return []
    size = min(1 << (padding * len(x) - 1).bit_length(), SPECTRUM_SIZE)
    spectrum = np.fft.rfft(x - x.mean(), size)
    hz = 1.0 / (size * (1 / fs))  # a bin's width, as np.fft.rfftfreq(size, 1 / fs) spaces them
    width = max(1, round(2 * size / len(x)))  # the line's main lobe, in padded bins either side of its peak
    out = []
    for nominal in NOMINAL:
        if nominal + FLOOR >= fs / 2:
            continue
        lo = max(int((nominal - SEARCH - FLOOR) / hz) - 2, 0)  # a bin to spare either side
        hi = min(int((nominal + SEARCH + FLOOR) / hz) + 3, len(spectrum))
        power = np.abs(spectrum[lo:hi]) ** 2
        freqs = np.arange(lo, hi) * hz
        near = np.flatnonzero(np.abs(freqs - nominal) <= SEARCH)
        if not len(near):  # bins wider than the search (a short signal at a high rate): no line to place
            continue
        peak = int(near[np.argmax(power[near])])
        lobe = np.abs(spectrum[max(lo + peak - width, 0) : lo + peak + width + 1]) ** 2  # may reach below lo
        level = float(np.median(power[np.abs(freqs - freqs[peak]) <= FLOOR])) * (2 * width + 1)
        out.append((float(freqs[peak]), float(lobe.sum()), level))
    return out


def fit_mains(frames: Sequence[np.ndarray], fs: float, frequency: float,
              predictions: Sequence[np.ndarray | None]) -> list[Mains]:
    """Each frame's hum at ``frequency``: per block of :data:`BLOCK_SECONDS`, the least-squares amplitudes of
    the table's cosine and sine (beside an offset and a slope, not kept) on the frame less its ``predictions``."""
    step = int(round(frequency / fs * (1 << PHASE_BITS))) % (1 << PHASE_BITS)
    block = max(16, int(BLOCK_SECONDS * fs))
    out = []
    for x, p in zip(frames, predictions):
        n = len(x)
        size = min(block, max(n, 1))
        r = x if p is None else x - p
        sums = _block_sums(step, r, size)
        gram, rhs = sums if sums is not None else normal_equations(step, np.asarray(r, dtype=np.float64), size)
        gram += np.eye(4) * 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None] / 4 + np.eye(4) * 1e-12
        coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
        a, b = (np.clip(np.rint(8 * coef[:, j]), -MAX_AMPLITUDE, MAX_AMPLITUDE).astype(np.int64) for j in (0, 1))
        out.append(Mains(step, size, a, b))
    return out


SHARED_SUMS = 1 << 18  # a frame of this many samples or more has its blocks' sums made in two halves side by side


def _block_sums(step: int, r: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``kernels.mains_sums`` of ``r``: on a frame of :data:`SHARED_SUMS` samples or more and of two blocks or more,
    where ``jobs.piece_threads`` allows, its first half of blocks and its second on two threads (each block's sums
    are its own: the same values); None without the C kernels."""
    count = -(-len(r) // size)
    if len(r) < SHARED_SUMS or count < 2 or piece_count() < 2 or not kernels.COMPILED:
        return kernels.mains_sums(SINE_F, COSINE_F, step, r, size)
    half = count // 2 * size
    parts = run_pieces([partial(kernels.mains_sums, SINE_F, COSINE_F, step, r[:half], size),
                        partial(kernels.mains_sums, SINE_F, COSINE_F, step, r[half:], size, half)],
                       [half, len(r) - half])
    (gram, rhs), (more_gram, more_rhs) = parts  # the C kernels are built (COMPILED): neither part is None
    return np.concatenate([gram, more_gram]), np.concatenate([rhs, more_rhs])


def normal_equations(step: int, r: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_mains`'s per-block normal equations of ``r`` (``kernels.mains_sums``' reference): the 4 x 4 sums
    of products of the design rows (the cosine, the sine, 1 and the time from the block's middle) and their sums of
    products with ``r``, each block's rows as one matrix (zero rows past the end add nothing), batched."""
    n = len(r)
    count = -(-n // size)
    design = np.zeros((4, count * size))
    index = phases(step, n)
    np.multiply(COSINE_F.take(index), 1.0 / (1 << 14), out=design[0, :n])
    np.multiply(SINE_F.take(index), 1.0 / (1 << 14), out=design[1, :n])
    design[2, :n] = 1.0
    design[3] = np.tile(np.arange(size) - 0.5 * size, count)
    if n % size:  # the last block's times from its own middle
        design[3, n - n % size : n] = np.arange(n % size) - 0.5 * (n % size)
    design[3, n:] = 0.0
    padded = np.zeros(count * size)
    padded[:n] = r
    rows = design.reshape(4, count, size)
    return np.einsum("ibs,jbs->bij", rows, rows), np.einsum("ibs,bs->bi", rows, padded.reshape(count, size))
