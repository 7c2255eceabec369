"""Float samples with NaN gaps that are no decimals (a filtered recording with dropouts, as numpy or pandas holds it)
in the lossy and near-lossless modes: each channel rounded to the fewest decimals whose rounding takes a small share
of the target (:func:`rounded_for`), then held as decimals with gaps are (``io.decimals``: integers at 10^-d, each gap
WFDB's invalid sample, coded apart: format 1.15), which decode to NaN again. Lossless mode keeps gaps among decimals
only: these floats have no exact integers to hold.

The rounding is counted against the target, so that every channel keeps it against the floats given: a near-lossless
bound less the half unit the rounding may move a value (:func:`near_bound`); a PRDN target met on the rounded values
at what the triangle inequality leaves (:func:`rounded_prdns`: with ``e`` the rounding's error and ``S`` the spread of
the floats, ``||x - y|| <= ||r - y|| + e`` and the rounded values' spread at most ``S + e``). The file's PRDNs are
then measured against the floats themselves (``api``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sancodec.codec.schema import is_real
from sancodec.errors import SanConfigError, option
from sancodec.io.decimals import MAX_DECIMALS, gapped_units

__all__ = ["NEAR_SHARE", "PRDN_SHARE", "Rounded", "near_bound", "needs_rounding", "rounded_for", "rounded_prdns"]

PRDN_SHARE = 1e-3  # the share of a PRDN target (or SNR's) the rounding may take; of 0.01 % where the target is bits
NEAR_SHARE = 1e-2  # the share of a near-lossless bound the rounding may take (half a unit of the last place)
_BUDGET_PRDN = 1e-2  # (percent) the PRDN a bits-per-sample target's rounding stays within: the lossy grid's order
_WIDE = 2**31 - 2**16  # the integers at a channel's decimals stay within 32 bits, room left for the gaps' value


@dataclass(frozen=True)
class Rounded:
    """Floats with NaN gaps (``values``, samples x channels, as float64) as rounded for coding: each channel at
    ``places`` decimals (``rounded``, in the floats' own type, NaN kept)."""

    values: np.ndarray
    places: list[int]
    rounded: np.ndarray

    def channels(self, picked: list[int]) -> Rounded:
        """The channels ``picked`` (indices, in their order), as ``Signal.select_channels`` picks them."""
        return Rounded(self.values[:, picked], [self.places[k] for k in picked], self.rounded[:, picked])


def needs_rounding(x: np.ndarray) -> bool:
    """Whether ``x`` is a float array with NaN among values that are no decimals (of at most
    ``decimals.MAX_DECIMALS`` places within 32 bits): what :func:`rounded_for` holds for the lossy modes."""
    if x.dtype.kind != "f" or x.size == 0:
        return False
    nan = np.isnan(x)
    if not nan.any() or np.isinf(x).any():
        return False
    return gapped_units(x if x.ndim == 2 else x.reshape(len(x), -1)) is None


def rounded_for(x: np.ndarray, mode: str, max_error: float | None, max_prdn: float | None) -> Rounded:
    """``x`` (floats with NaN gaps, :func:`needs_rounding`) rounded for ``mode``: near-lossless, every channel at the
    fewest decimals whose half unit is at most :data:`NEAR_SHARE` of ``max_error``; lossy, each channel at the fewest
    whose rounding's error is at most :data:`PRDN_SHARE` of ``max_prdn`` (percent; None, a bits-per-sample target:
    :data:`_BUDGET_PRDN`) of the channel's spread. A :class:`SanConfigError` where no places up to
    ``decimals.MAX_DECIMALS`` keep the integers within 32 bits, or a constant channel's value is no decimal."""
    if mode == "near-lossless" and not (is_real(max_error) and 0 < float(max_error) < math.inf):
        raise SanConfigError(f"near-lossless coding of floating-point samples needs {option('max_error')} > 0 (a "
                             f"finite number), got {max_error!r}")
    given = x if x.ndim == 2 else x.reshape(len(x), -1)
    values = given.astype(np.float64)
    if mode == "near-lossless":  # one bound in units of 10^-d: every channel at the same places
        places = [_near_places(float(max_error or 0.0))] * values.shape[1]
    else:
        share = PRDN_SHARE * max_prdn if max_prdn is not None else _BUDGET_PRDN
        places = [_lossy_places(column[~np.isnan(column)], share) for column in values.T]
    for c, d in enumerate(places):
        present = values[~np.isnan(values[:, c]), c]
        if present.size and float(np.abs(present).max()) * 10.0**d >= _WIDE:
            raise SanConfigError(f"channel {c}: its values with NaN gaps among them need {d} decimals for this "
                                 f"target, past 32 bits at their magnitude ({float(np.abs(present).max()):.6g}): "
                                 "subtract their offset, or fill the gaps")
    rounded = np.column_stack([np.round(given[:, c], d) for c, d in enumerate(places)])  # (in the floats' own type:
    # a float32 array's decimals as the float32s they name, decoded as float32 again)
    return Rounded(values, places, rounded)


def _near_places(bound: float) -> int:
    """The fewest decimals whose half unit is within :data:`NEAR_SHARE` of a near-lossless ``bound`` (positive,
    finite: :func:`rounded_for` checked it)."""
    d = max(0, math.ceil(-math.log10(2 * NEAR_SHARE * bound)))
    if d > MAX_DECIMALS:
        raise SanConfigError(f"max_error {bound:g} is finer than the {MAX_DECIMALS} decimals floats with NaN gaps "
                             "among them are held at: fill the gaps, or take a larger bound")
    return d


def _lossy_places(present: np.ndarray, prdn: float) -> int:
    """The fewest decimals at which rounding ``present`` (a channel's values outside its gaps) errs by at most
    ``prdn`` percent of their spread."""
    constant = not present.size or float(present.min()) == float(present.max())
    spread = 0.0 if constant else float(np.linalg.norm(present - present.mean()))
    for d in range(MAX_DECIMALS + 1):
        error = float(np.linalg.norm(present - np.round(present, d)))
        if error == 0.0 or not constant and error <= prdn / 100 * spread:
            return d
    if constant:
        raise SanConfigError("a constant channel among NaN gaps whose value is no decimal of at most "
                             f"{MAX_DECIMALS} places: no lossy file can give it back within a PRDN target; fill "
                             "the gaps")
    return MAX_DECIMALS


def near_bound(rounded: Rounded, max_error: float) -> float:
    """The near-lossless bound the rounded values are coded at: ``max_error`` less the half unit of their last place
    that the rounding may have moved a value by (each channel's places are the same, :func:`rounded_for`)."""
    return max_error - 0.5 * 10.0 ** -max(rounded.places, default=0)


def rounded_prdns(rounded: Rounded, max_prdn: float) -> list[float]:
    """Per channel, the PRDN (percent) that the rounded values outside the gaps may be coded at for the floats' own to
    stay within ``max_prdn``: ``(p S - e) / (S + e)``, with ``S`` the floats' spread there and ``e`` the rounding's
    error (module docstring); ``max_prdn`` for a channel without spread."""
    out = []
    for c in range(rounded.values.shape[1]):
        keep = ~np.isnan(rounded.values[:, c])
        x, r = rounded.values[keep, c], rounded.rounded[keep, c]
        spread = float(np.linalg.norm(x - x.mean())) if x.size and x.min() != x.max() else 0.0
        error = float(np.linalg.norm(x - r))
        limit = 100 * (max_prdn / 100 * spread - error) / (spread + error) if spread > 0 else max_prdn
        if not limit > 0:
            raise SanConfigError(f"channel {c}: a PRDN of {max_prdn:g} % is finer than these values with NaN gaps "
                                 f"among them keep at {MAX_DECIMALS} decimals: fill the gaps, or take a larger "
                                 "target")
        out.append(limit)
    return out
