"""Size and fidelity report for an original recording and its ``.san`` encoding.

Figures, side by side: bytes, bits per sample, compression ratios (against the
original file, 11-bit and 16-bit samples), the paper's CR⁻¹ / L~ / φ for the
file, and PRD (on baseline-removed physical values), PRDN, SNR and the maximum
absolute error in the samples' own units. No torch here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sancodec.codec import decode_file
from sancodec.codec.gaps import invalid_values, outside
from sancodec.codec.header import file_mode
from sancodec.errors import SanConfigError
from sancodec.io.decimals import on_decimal_grid
from sancodec.metrics import bits_per_sample, compression_ratio, normalized_loss, phi, prd, prdn, snr_db
from sancodec.signal import Signal

__all__ = ["Report", "make_report"]


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


def make_report(original: Signal, data: bytes, original_bytes: int | None = None) -> Report:
    """Decode ``data`` and compare it with ``original`` sample for sample."""
    decoded = decode_file(data)
    header = decoded.header
    original = as_coded(original, header)
    x, y = original.samples, decoded.signal.samples
    if x.shape != y.shape:
        raise SanConfigError(f"the .san holds {y.shape} samples, the original {x.shape}")
    total = original.n_values  # real samples (multi-frequency: a slow channel's held rows count once)
    model = header.get("model") or {}
    model_sizes = model["spec"]["kernel_sizes"] if model.get("spec") else []
    w = int(sum(model_sizes))
    # The paper's metric, defined once in metrics.py: CR over the whole file (n = all samples,
    # A = all activations, 1-D) and L~ on the mean-removed samples, as the paper's protocol scores
    # z-scored (zero-mean) segments; on raw ADC values L(0, x) would be dominated by the offset.
    paid = w + decoded.activations  # nothing paid (no SAN frame): CR is infinite, CR^-1 zero
    cr_inv = float(1.0 / compression_ratio(total, w, decoded.activations, dim=1)) if paid else 0.0
    mean = x.astype(np.float64).mean(axis=0)
    l_tilde = float(normalized_loss((y - mean).ravel()[None], (x - mean).ravel()[None])[0])
    err = y.astype(np.float64) - x.astype(np.float64)
    px, py = original.physical(), Signal.from_header(original.header_dict(), y).physical()
    invalid = invalid_values(original)  # a WFDB record's invalid samples (dropouts), a CSV's gaps: compared as gaps
    dropped = ~np.column_stack([outside(x[:, c], v) for c, v in enumerate(invalid)])
    gaps = np.isnan(px) | np.isnan(py) | dropped  # each channel's mean there: no error, the same mean
    if gaps.any():
        counts, sums = (~gaps).sum(axis=0), np.where(gaps, 0.0, px).sum(axis=0)
        fill = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        px, py = np.where(gaps, fill, px), np.where(gaps, fill, py)
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
        activations=decoded.activations,
        kernel_sizes_sum=w,
        cr_inv_paper=cr_inv,
        l_tilde=l_tilde,
        phi=float(phi(cr_inv, l_tilde)),
        prd=prd(px, py),
        prdn=prdn(px - px.mean(axis=0), py - px.mean(axis=0)),
        snr_db=snr_db(px - px.mean(axis=0), py - px.mean(axis=0)),
        max_abs_error=float(np.abs(err).max()),
        prdn_per_channel=[prdn(x[~dropped[:, c], c], y[~dropped[:, c], c]) for c in range(x.shape[1])],
    )
