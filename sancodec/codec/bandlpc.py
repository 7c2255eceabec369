"""Linear prediction of a wavelet band's quantised values (format 1.11, path 3 predictor bit 6).

Where a signal's spectrum is not flat inside one octave band, the band's values follow each other: a 1000 Hz
ECG's finest band ends in its recorder's anti-aliasing roll-off, a pulse wave's approximation band is smooth
well beyond a first difference. An integer predictor over the band's own earlier values (``lpc.LpcFilter``,
run over the whole band without restarts) then leaves a residual that codes in fewer bytes. The prediction is
of the quantised values, so it is lossless: the decoded samples, and the PRDN, are the same. The encoder keeps
it per band only where the residual and the filter take fewer bytes than the band, or (bands in one adaptive
stream) where the stream with every filtered band's residual takes fewer (``waveletframe.code_bands``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sancodec.codec import kernels, lpc
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.errors import SanFormatError

__all__ = ["MAX_VALUE", "MIN_LENGTH", "PROMISING", "fit", "predicted", "read_filters", "read_sized_filters",
           "restore", "write_filters"]

MIN_LENGTH = 1 << 10  # shorter bands are not predicted: their taps cost about what the prediction saves
MAX_ORDER = 32  # lpc.MAX_ORDER: the orders weighed, at most one per 32 values of the band
SHIFT = 6  # taps in 64ths: finer ones cost more bytes than they save on these bands (1/32 to 1/256 weighed alike)
TAP_BITS = 8  # what a tap is taken to cost when the order is chosen (a 64th-step tap below 1 is one svarint byte)
MAX_TAP = 1 << 12  # taps are clipped here: |prediction| <= 32 * 2**12 * MAX_VALUE / 64 stays far inside int64
MAX_VALUE = 1 << 30  # a band whose values reach this is not predicted (its residual stays within lpc.MAX_ABS_VALUE)
FIT_HEAD = 1 << 15  # the filter is fitted on a band's first values (a long band's 32 lags over every value cost more
# than the rest of its trial; the bytes of bench_lossy's signals were within 0.01 % either way)
PROMISING = 0.99  # a residual is coded only where its magnitudes (on the head) sum to under this share of the
# band's: of the residuals bench_lossy's encodes weighed (PRDN 1-9 %), the others were 57 % and made 0.8 % of
# what they all saved


def fit(values: np.ndarray) -> lpc.LpcFilter | None:
    """The integer predictor of ``values`` (a band's quantised values, int64) whose order minimises a Gaussian
    estimate of its residual's bits plus :data:`TAP_BITS` a tap, fitted on the first :data:`FIT_HEAD` values; None
    where no order beats none (or the band is short, all zero or too large)."""
    n = len(values)
    order = min(MAX_ORDER, n // 32)
    if n < MIN_LENGTH or order < 1:
        return None
    peak = max(int(values.max()), -int(values.min()))  # no temporary the size of the band
    if peak == 0 or peak >= MAX_VALUE:
        return None
    r = kernels.autocorrelation(values[:FIT_HEAD].astype(np.float64), order)
    if not r[0] > 0:
        return None
    coefs, errors = lpc.levinson(r, order)
    ratio = np.maximum(np.asarray(errors, dtype=np.float64) / r[0], 1e-12)
    cost = 0.5 * n * np.log2(ratio) + TAP_BITS * np.arange(1, order + 1)  # the estimate on the head, for the band
    best = int(np.argmin(cost))
    if not cost[best] < 0:
        return None
    taps = np.clip(np.rint(np.asarray(coefs[best]) * (1 << SHIFT)), -MAX_TAP, MAX_TAP).astype(np.int64)
    if not taps.any():
        return None
    return lpc.LpcFilter(tuple(int(t) for t in taps), SHIFT, 0, whole=True)


def predicted(values: np.ndarray) -> tuple[lpc.LpcFilter, np.ndarray, int] | None:
    """:func:`fit`'s filter for a band, its residual and the bytes the filter takes in the frame; None where
    :func:`fit` finds none or the residual of the band's first :data:`FIT_HEAD` values does not look
    :data:`PROMISING` (the coder's bytes follow the values' magnitudes; a Gaussian estimate is blind to a dead
    zone's many zeros)."""
    f = fit(values)
    if f is None:
        return None
    head = values[:FIT_HEAD]
    residual = lpc.residual(head, f)
    if not np.abs(residual).sum() < PROMISING * np.abs(head).sum():
        return None
    if len(values) > FIT_HEAD:  # the head's residual is the band's where the head is the whole band
        residual = lpc.residual(values, f)
    w = ByteWriter()
    f.write(w)
    return f, residual, len(w.getvalue())


def write_filters(w: ByteWriter, filters: dict[int, lpc.LpcFilter]) -> None:
    """The bands predicted (a mask over the frame's streams, coarsest first) and each one's filter, in order."""
    w.varint(sum(1 << b for b in filters))
    for b in sorted(filters):
        filters[b].write(w)


def read_filters(r: ByteReader, bands: int) -> dict[int, lpc.LpcFilter]:
    """:func:`write_filters`'s filters of a frame of ``bands`` streams, each checked as ``lpc.LpcFilter.read``
    checks it; a mask naming no band, or one past the frame's, raises ``SanFormatError``."""
    return {b: f for b, (f, _) in read_sized_filters(r, bands)[1].items()}


def read_sized_filters(r: ByteReader, bands: int) -> tuple[int, dict[int, tuple[lpc.LpcFilter, int]]]:
    """:func:`read_filters` with the bytes each part took: the mask's, and each filter's beside it (what
    ``anatomy`` counts with the heads and with each band)."""
    before = r.remaining()
    mask = r.varint((1 << bands) - 1)
    if mask == 0:
        raise SanFormatError("frame: band prediction flagged for no band")
    mask_bytes, filters = before - r.remaining(), {}
    for b in range(bands):
        if mask >> b & 1:
            before = r.remaining()
            filters[b] = (replace(lpc.LpcFilter.read(r), whole=True), before - r.remaining())
    return mask_bytes, filters


def restore(place: np.ndarray, f: lpc.LpcFilter) -> None:
    """A band's values in place of its decoded residual (``lpc.synthesize``, which reads the residual and returns
    the values anew, and refuses a filter that leaves the range where its integers are exact)."""
    place[:] = lpc.synthesize([(place, f)])[0]
