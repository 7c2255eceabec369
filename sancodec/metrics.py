"""The paper's metric φ and the codec's fidelity/size metrics (numpy, no torch).

Per example (docs/PAPER.md): ``W = sum_i m_i``, ``A = sum_i ||alpha_i||_0``,
``CR = n / (W + (dim + 1) A)``, ``L~ = L(x_hat, x) / L(0, x)`` with L = MAE,
``φ = (1/CR + L~) / 2``; ``φ̄`` is the mean of φ over a set. For 2-D inputs
``n = H * W`` and W still counts ``m`` (not ``m**2``) per kernel, as the paper's
MNIST table does.

Codec metrics: PRD, PRDN, SNR (dB) and bits per sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sancodec.errors import SanConfigError

__all__ = [
    "PhiScores",
    "bits_per_sample",
    "compression_ratio",
    "normalized_loss",
    "phi",
    "phi_scores",
    "prd",
    "prdn",
    "prdn_of_error",
    "prdn_with_spread",
    "snr_db",
    "snr_of_prdn",
    "spread_of",
    "sum_of_squares",
]


def compression_ratio(n: int, kernel_sizes_sum: float | np.ndarray, active: np.ndarray | float,
                      dim: int = 1) -> np.ndarray:
    """Paper's CR = n / (W + (dim + 1) * A), per example (``active`` = A)."""
    denom = np.asarray(kernel_sizes_sum, dtype=np.float64) + (dim + 1) * np.asarray(active, dtype=np.float64)
    if np.any(denom <= 0):
        raise SanConfigError("W + (dim + 1) A must be positive")
    return n / denom


def normalized_loss(x_hat: np.ndarray, x: np.ndarray, dim: int = 1) -> np.ndarray:
    """L~ = mean|x_hat - x| / mean|x| over the last ``dim`` axes (broadcasting allowed).

    When ``x`` is all zeros, L~ is 0 for an exact reconstruction and +inf otherwise.
    """
    x_hat = np.asarray(x_hat, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(-dim, 0))
    num = np.abs(x_hat - x).mean(axis=axes)
    den = np.broadcast_to(np.abs(x).mean(axis=axes), num.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))
    return out


def phi(cr_inv: np.ndarray | float, l_tilde: np.ndarray | float) -> np.ndarray:
    """φ = (CR⁻¹ + L~) / 2."""
    return 0.5 * (np.asarray(cr_inv, dtype=np.float64) + np.asarray(l_tilde, dtype=np.float64))


@dataclass(frozen=True)
class PhiScores:
    """Per-example CR⁻¹, L~ and φ (arrays of the same shape), with set means."""

    cr_inv: np.ndarray
    l_tilde: np.ndarray
    phi: np.ndarray

    def mean(self, axis: int = -1) -> PhiScores:
        """Means over examples (the last axis by default): φ̄ and its parts."""
        return PhiScores(
            cr_inv=np.asarray(self.cr_inv.mean(axis=axis)),
            l_tilde=np.asarray(self.l_tilde.mean(axis=axis)),
            phi=np.asarray(self.phi.mean(axis=axis)),
        )


def phi_scores(
    x_hat: np.ndarray,
    x: np.ndarray,
    active: np.ndarray,
    w_total: float | np.ndarray,
    dim: int = 1,
) -> PhiScores:
    """φ per example from a reconstruction, its activation count A and W = sum of kernel sizes.

    ``x`` is ``(..., n)`` (``(..., H, W)`` for ``dim=2``) and broadcasts against
    ``x_hat``; ``active`` and ``w_total`` broadcast against the per-example shape
    (one W per model when a batched sweep scores many models at once).
    """
    x = np.asarray(x)
    n = int(np.prod(x.shape[-dim:]))
    l_tilde = normalized_loss(x_hat, x, dim)
    cr_inv = 1.0 / compression_ratio(n, w_total, active, dim)
    cr_inv = np.broadcast_to(cr_inv, l_tilde.shape).astype(np.float64)
    return PhiScores(cr_inv=cr_inv, l_tilde=l_tilde, phi=phi(cr_inv, l_tilde))


def _flat_pair(x: np.ndarray, x_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(x_hat, dtype=np.float64)
    if a.shape != b.shape:
        raise SanConfigError(f"shapes differ: original {a.shape}, reconstruction {b.shape}")
    return a.ravel(), b.ravel()


def sum_of_squares(d: np.ndarray) -> float:
    """``Σ d²`` of a 1-D float array, summed by numpy's own loop (``np.einsum``), not BLAS: OpenBLAS spreads a long
    dot product over threads that then spin on the cores the codec's own threads want (a fast lossy encode took
    a fifth longer on two cores, ``benchmarks/lossy_stages.py`` with and without ``OPENBLAS_NUM_THREADS=1``)."""
    return float(np.einsum("i,i->", d, d))


def _norm(d: np.ndarray) -> float:
    return math.sqrt(sum_of_squares(d))


def spread_of(x: np.ndarray) -> float:
    """``||x - mean(x)||`` of a 1-D float array: :func:`prdn`'s denominator (0 for no values)."""
    return _norm(x - x.mean()) if len(x) else 0.0


def prd(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Percentage RMS difference, 100 ||x - x_hat|| / ||x|| (depends on the DC offset; see prdn)."""
    a, b = _flat_pair(x, x_hat)
    den = _norm(a)
    err = _norm(a - b)
    return float(100.0 * err / den) if den > 0 else (0.0 if err == 0 else float("inf"))


def prdn(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Normalised PRD, 100 ||x - x_hat|| / ||x - mean(x)|| (offset-free; quote this one)."""
    a, b = _flat_pair(x, x_hat)
    return prdn_with_spread(a, b, spread_of(a))


def prdn_with_spread(x: np.ndarray, x_hat: np.ndarray, spread: float) -> float:
    """:func:`prdn` of 1-D float64 arrays given its denominator ``spread = ||x - mean(x)||``: a rate
    control that measures one channel at many steps computes it once."""
    return prdn_of_error(sum_of_squares(x - x_hat), spread)


def prdn_of_error(squared_error: float, spread: float) -> float:
    """:func:`prdn` from the squared error ``||x - x_hat||²`` and ``spread = ||x - mean(x)||`` (a caller that has
    the error's sum already, as the lossy rate control does)."""
    err = math.sqrt(squared_error)
    return 100.0 * err / spread if spread > 0 else (0.0 if err == 0 else float("inf"))


def snr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
    """SNR in dB, 10 log10(sum (x - mean x)^2 / sum (x - x_hat)^2) = -20 log10(PRDN / 100)."""
    return snr_of_prdn(prdn(x, x_hat))


def snr_of_prdn(value: float) -> float:
    """The SNR in dB of a PRDN of ``value`` percent, -20 log10(PRDN / 100): +inf for none, -inf for an infinite one."""
    if value == 0:
        return float("inf")
    if not np.isfinite(value):
        return float("-inf")
    return float(-20.0 * np.log10(value / 100.0))


def bits_per_sample(n_bytes: int, n_samples: int) -> float:
    """Compressed size in bits per (single-channel) sample: 8 * bytes / samples."""
    if n_samples <= 0:
        raise SanConfigError(f"n_samples must be positive, got {n_samples}")
    return 8.0 * n_bytes / n_samples
