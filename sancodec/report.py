"""Size and fidelity report for an original recording and its ``.san`` encoding.

Figures, side by side: bytes, bits per sample, compression ratios (against the
original file, 11-bit and 16-bit samples), the paper's CR⁻¹ / L~ / φ for the
file, and PRD (on baseline-removed physical values), PRDN, SNR and the maximum
absolute error in the samples' own units. No torch here.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from sancodec.baselines import raw_width
from sancodec.codec.gaps import invalid_values, outside
from sancodec.codec.header import file_mode
from sancodec.errors import SanConfigError
from sancodec.io.decimals import on_decimal_grid
from sancodec.metrics import bits_per_sample, compression_ratio, phi, prdn_of_error, snr_of_prdn
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal

__all__ = ["Report", "as_coded", "file_spec", "held_narrow", "make_report"]


@dataclass(frozen=True)
class Report:
    """What a user needs to judge one encoding; ``to_dict`` is JSON-safe."""

    mode: str
    n_samples: int
    n_channels: int
    san_bytes: int
    original_bytes: int | None
    bits_per_sample: float
    cr_vs_original: float | None
    cr_vs_11bit: float
    cr_vs_16bit: float
    activations: int
    kernel_sizes_sum: int
    cr_inv_paper: float
    l_tilde: float
    phi: float
    prd: float
    prdn: float
    snr_db: float
    max_abs_error: float
    prdn_per_channel: list[float] = field(default_factory=list)  # a lossy target holds for each channel

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k, v in out.items():
            out[k] = [_json_float(e) for e in v] if isinstance(v, list) else _json_float(v)
        return out


def _json_float(v: Any) -> Any:
    """``v``, with a non-finite float as None (NaN) or the string "inf" / "-inf"."""
    if isinstance(v, float) and not np.isfinite(v):
        return None if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def as_coded(original: Signal, header: dict[str, Any]) -> Signal:
    """``original`` as the file with ``header`` holds it: floating-point decimals of a file that holds integers (no
    ``quantum``: lossless decimals, ``io.decimals``) as those integers and their gains, so that they are compared,
    and sized by the baselines, as the file coded them; anything else as it is."""
    if original.is_digital or header.get("quantum") is not None:
        return original
    return on_decimal_grid(original) or original


def held_narrow(signal: Signal) -> Signal:
    """``signal`` with its integer samples held as int16 or int32, the narrowest that holds them (as they are where
    neither does, or already narrower, or floats): ``report`` holds the record whole beside the baseline
    compressors' working memory, and a day's two-channel Holter is 498 MB of int64 samples but 124 MB of int16.
    Every figure is made of them in float64 or int64, and the encoder codes them to the same bytes."""
    x = signal.samples
    if x.dtype.itemsize <= 2:
        return signal
    width = raw_width(signal)  # (the width the baseline tools are given them at: 16, 24 or 32 bits; None for floats)
    narrow = None if width is None else np.dtype(np.int16 if width == 16 else np.int32)
    if narrow is None or narrow.itemsize >= x.dtype.itemsize:
        return signal
    return replace(signal, samples=x.astype(narrow))


#: Rows :func:`make_report` compares at a time: its float temporaries are a block's, not the record's
REPORT_ROWS = 1 << 16


def file_spec(model: dict[str, Any], given: SanSpec | None) -> dict[str, Any] | None:
    """A file's SAN as its header holds one (``model``): embedded, or referenced by SHA-256 and ``given`` (its dict);
    None for a file without one, or whose model was not given."""
    if model.get("spec"):
        return model["spec"]
    if model.get("sha256") and given is not None and given.sha256() == model["sha256"]:
        return given.to_dict()
    return None


def make_report(original: Signal, data: bytes, original_bytes: int | None = None,
                model: SanSpec | str | os.PathLike[str] | None = None, given: np.ndarray | None = None) -> Report:
    """Decode ``data`` and compare it with ``original`` sample for sample, a block of :data:`REPORT_ROWS` rows at a
    time (``SanFile.sample_blocks``, :class:`_Sums`): the record held once, as the caller holds it, and a block (a
    24 h Holter's report had held the decode and a dozen float copies of the record at once, 4.0 GB). ``model``: the
    SAN of a file that only references its model (a SanSpec, a model file or an exported folder), whose kernels
    then count in φ as an embedded model's do. ``given``: floats with NaN gaps that are no decimals (samples x
    channels), which ``original`` holds rounded for a lossy mode (``codec.nanfloats``): the decode's values (NaN at
    the gaps, ``SanFile.blocks``) are compared with these, outside the gaps, as the file's own PRDNs were."""
    from sancodec.codec.prepare import given_model
    from sancodec.stream import SanFile  # (the stream module imports the codec, as this one does)

    spec = given_model(model)
    with SanFile(data, model=spec) as f:
        header = f.header
        original = as_coded(original, header)
        x = original.samples if given is None else given
        if f.shape != x.shape:
            raise SanConfigError(f"the .san holds {f.shape} samples, the original {x.shape}")
        sums = _Sums(original) if given is None else _Sums.of_floats(given)
        row = 0
        for y in (f.sample_blocks(REPORT_ROWS) if given is None else f.blocks(REPORT_ROWS)):
            sums.add(x[row : row + len(y)], y)
            row += len(y)
        activations = f.activations_read
    total = original.n_values  # real samples (multi-frequency: a slow channel's held rows count once)
    found = file_spec(header.get("model") or {}, spec)
    model_sizes = found["kernel_sizes"] if found else []  # (W, the paper's CR counts)
    w = int(sum(model_sizes))
    # The paper's metric, defined once in metrics.py: CR over the whole file (n = all samples,
    # A = all activations, 1-D) and L~ on the mean-removed samples, as the paper's protocol scores
    # z-scored (zero-mean) segments; on raw ADC values L(0, x) would be dominated by the offset.
    paid = w + activations  # nothing paid (no SAN frame): CR is infinite, CR^-1 zero
    cr_inv = float(1.0 / compression_ratio(total, w, activations, dim=1)) if paid else 0.0
    error, spread = float(sums.abs_error.sum()), float(sums.abs_spread.sum())  # L~'s, as metrics.normalized_loss
    l_tilde = error / spread if spread > 0 else (0.0 if error == 0 else math.inf)
    pooled_prdn = prdn_of_error(float(sums.error2.sum()), math.sqrt(sums.spread2()))
    return Report(
        mode=file_mode(header),
        n_samples=int(x.shape[0]),
        n_channels=int(x.shape[1]),
        san_bytes=len(data),
        original_bytes=original_bytes,
        bits_per_sample=bits_per_sample(len(data), total),
        cr_vs_original=(original_bytes / len(data)) if original_bytes else None,
        cr_vs_11bit=total * 11 / 8 / len(data),
        cr_vs_16bit=total * 2 / len(data),
        activations=activations,
        kernel_sizes_sum=w,
        cr_inv_paper=cr_inv,
        l_tilde=l_tilde,
        phi=float(phi(cr_inv, l_tilde)),
        prd=prdn_of_error(float(sums.error2.sum()), math.sqrt(sums.power())),  # (100 ||e|| / ||x||, as metrics.prd)
        prdn=pooled_prdn,
        snr_db=snr_of_prdn(pooled_prdn),
        max_abs_error=sums.max_error,
        prdn_per_channel=[prdn_of_error(e, math.sqrt(d))
                          for e, d in zip(sums.channel_error2.tolist(), sums.channel_spread2.tolist())],
    )


class _Sums:
    """What :func:`make_report`'s figures are made of, summed a block of rows at a time, as the metrics make them of
    the whole record (``metrics.prd``, ``prdn``, ``normalized_loss``), the same figures but for the order of the
    sums: per channel, its samples outside its gaps (``gaps.invalid_values``: a WFDB record's invalid samples, a
    CSV's gaps) against the decode's there, for its PRDN; the samples in their units where neither the original nor
    the decode has a gap, each channel's gaps counted as its mean there (no error, no spread), for the pooled PRD,
    PRDN and SNR; every sample, less its channel's mean, for L~ and the largest error."""

    def __init__(self, original: Signal | None, floats: np.ndarray | None = None) -> None:
        x = original.samples if original is not None else floats
        assert x is not None
        c = x.shape[1]
        self.nan_gaps = original is None  # (floats whose gaps are NaN: :meth:`of_floats`)
        self.invalid = invalid_values(original) if original is not None else [None] * c
        if self.nan_gaps:
            self.gain, self.baseline = np.ones(c), np.zeros(c)
            present = ~np.isnan(x)
            counts = present.sum(axis=0)
            sums = np.where(present, x, 0.0).sum(axis=0, dtype=np.float64)
            self.mean = self.valid_mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)  # (outside the gaps)
            self._start(c)
            return
        assert original is not None
        scaled = original.is_digital and original.adc_gain is not None and original.baseline is not None
        gain = np.asarray(original.adc_gain if scaled else [1.0] * c, dtype=np.float64)
        self.gain = np.where(gain == 0, 1.0, gain)  # (as Signal.physical takes a gain of 0)
        self.baseline = np.asarray(original.baseline if scaled else [0] * c, dtype=np.float64)
        self.mean = x.mean(axis=0, dtype=np.float64)  # L~'s offset
        self.valid_mean = np.array([_valid_mean(x[:, k], v) for k, v in enumerate(self.invalid)])  # each PRDN's mean
        self._start(c)

    @classmethod
    def of_floats(cls, given: np.ndarray) -> _Sums:
        """The sums for floats with NaN gaps (:func:`make_report`'s ``given``), in their own units: each channel's
        figures outside its gaps (and the decode's, which has them in the same places), L~'s mean too."""
        return cls(None, given)

    def _start(self, c: int) -> None:
        """The sums at zero, for ``c`` channels."""
        self.shift = (self.valid_mean - self.baseline) / self.gain  # near each channel's mean in its units
        self.abs_error, self.abs_spread = np.zeros(c), np.zeros(c)
        self.channel_error2, self.channel_spread2 = np.zeros(c), np.zeros(c)
        self.error2, self.present, self.rows = np.zeros(c), np.zeros(c, dtype=np.int64), 0
        self.shifted, self.shifted2, self.squares = np.zeros(c), np.zeros(c), np.zeros(c)
        self.max_error = 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Rows ``x`` of the original and ``y`` of the decode, the same rows."""
        xf, yf = x.astype(np.float64), y.astype(np.float64)
        if self.nan_gaps:  # (a gap's NaN on either side: no error, no spread, there)
            valid = ~(np.isnan(xf) | np.isnan(yf))
            xf, yf = np.where(valid, xf, self.mean), np.where(valid, yf, self.mean)
        else:
            valid = self._outside(x)
        d = yf - xf
        self.max_error = max(self.max_error, float(np.abs(d).max(initial=0.0)))
        self.abs_error += np.abs(d).sum(axis=0)
        self.abs_spread += np.abs(xf - self.mean).sum(axis=0)
        self.channel_error2 += np.where(valid, d * d, 0.0).sum(axis=0)
        spread = np.where(valid, xf - self.valid_mean, 0.0)
        self.channel_spread2 += (spread * spread).sum(axis=0)
        present = valid & self._outside(y) if y.dtype.kind in "iu" and not self.nan_gaps else valid
        px, py = (xf - self.baseline) / self.gain, (yf - self.baseline) / self.gain
        e = np.where(present, px - py, 0.0)
        self.error2 += (e * e).sum(axis=0)
        u = np.where(present, px - self.shift, 0.0)
        self.shifted += u.sum(axis=0)
        self.shifted2 += (u * u).sum(axis=0)
        p = np.where(present, px, 0.0)
        self.squares += (p * p).sum(axis=0)
        self.present += present.sum(axis=0)
        self.rows += len(x)

    def _outside(self, x: np.ndarray) -> np.ndarray:
        """Which of the rows ``x`` lie outside each channel's gaps (``gaps.outside``)."""
        return np.column_stack([outside(x[:, k], v) for k, v in enumerate(self.invalid)])

    def _fill(self) -> np.ndarray:
        """Each channel's mean in its units where neither side has a gap (0 where it has none there): its gaps'
        value."""
        n = np.maximum(self.present, 1)
        return np.where(self.present > 0, self.shift + self.shifted / n, 0.0)

    def spread2(self) -> float:
        """``||x - mean||²`` of the samples in their units, each channel less its mean, the gaps at it."""
        n = np.maximum(self.present, 1)
        return float(np.maximum(self.shifted2 - self.shifted * self.shifted / n, 0.0).sum())

    def power(self) -> float:
        """``||x||²`` of the samples in their units, each channel's gaps at its mean."""
        fill = self._fill()
        return float((self.squares + (self.rows - self.present) * fill * fill).sum())


def _valid_mean(column: np.ndarray, value: int | None) -> float:
    """The mean of ``column`` outside its gaps (``value``: theirs, None for none; 0 where it is gaps alone), summed
    in float64 without a copy of the column."""
    total, n = float(column.sum(dtype=np.float64)), len(column)
    if value is not None:
        gaps = int(np.count_nonzero(column == value))
        total, n = total - gaps * float(value), n - gaps
    return total / n if n else 0.0
