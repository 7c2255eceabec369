"""Whether a float32 source's lossy or near-lossless decode may go back to float32 and still keep the file's promise.

The decoder rebuilds such values in float64 (a grid step times an integer). Handed back as float32, as its ``.npy``
held them, each moves by up to half a float32 spacing: nothing against a millivolt ECG's spread, but a signal near 302
that moves by thousandths sits on a spacing of 3e-5, about a hundredth of its spread, and a file made for PRDN 0.5 %
decoded to 0.583 % in float32 (0.481 % in float64; ``tests/test_float32promise.py``). A decode goes back to float32
only where the rounding provably keeps the promise, else it stays float64 (``io.arrays.as_source_array`` writes a
source's dtype, so ``api.decoded_range`` marks it float64):

- lossy at a PRDN bound P (or an SNR's): ``‖y − x‖ ≤ ‖r − x‖ + ‖y − r‖`` for the rebuilt values r, their float32
  rounding y and the unknown source x, and ``‖x − x̄‖ ≥ ‖r − r̄‖ / (1 + p/100)`` for r's PRDN p (the header's, to its
  six places), so ``p + 100 ‖y − r‖ (1 + p/100) / ‖r − r̄‖ ≤ P`` keeps each channel within P (judged on the samples
  decoded: a range's own; a bits-per-sample target promises no PRDN);
- near-lossless at a max error e on a grid of step q: ``|y − x| ≤ |y − r| + q/2 ≤ e`` sample by sample (a file written
  since the grid left room for the rounding meets it; an older one only where no value moved).

Nothing in the header is trusted: a field out of shape gives float64, which keeps any promise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["keeps_promise"]

ACHIEVED_PLACES = 6  # the header holds each channel's achieved PRDN to this many places (api.lossy_header)


def keeps_promise(values: np.ndarray, header: dict[str, Any], quantum: Sequence[float] | None) -> bool:
    """Whether ``values`` (samples x channels, float64: a lossy or near-lossless decode of a float source) rounded to
    float32 keep ``header``'s promise, as the module says; ``quantum``: each channel's grid step."""
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = values.astype(np.float32).astype(np.float64)
        moved = rounded - values
    if not np.all(np.isfinite(moved)):
        return False
    if not moved.any():
        return True
    mode = header.get("mode")
    if mode == "near-lossless":
        return _within_error(moved, header.get("max_error"), quantum)
    if mode == "lossy":
        return _within_prdn(values, moved, header.get("lossy"))
    return False


def _within_error(moved: np.ndarray, max_error: object, quantum: Sequence[float] | None) -> bool:
    """Each channel's largest move plus half its grid step within ``max_error``."""
    if not isinstance(max_error, (int, float)) or isinstance(max_error, bool) or quantum is None or \
            len(quantum) != moved.shape[1]:
        return False
    worst = np.abs(moved).max(axis=0, initial=0.0)
    return all(float(w) + float(q) / 2 <= float(max_error) for w, q in zip(worst, quantum))


def _within_prdn(values: np.ndarray, moved: np.ndarray, lossy: object) -> bool:
    """Each channel's PRDN bound after the rounding within the target's (module docstring); True for a target that
    promises none (bits per sample)."""
    if not isinstance(lossy, dict) or not isinstance(lossy.get("target"), dict):
        return False
    target = lossy["target"]
    bound = _prdn_bound(target)
    if bound is None:
        return "bps" in target
    achieved = lossy.get("prdn")
    if not isinstance(achieved, list) or len(achieved) != values.shape[1]:
        return False
    for ch, p in enumerate(achieved):
        if not moved[:, ch].any():
            continue
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not math.isfinite(p) or p < 0:
            return False
        p = float(p) + 0.5 * 10.0**-ACHIEVED_PLACES  # (rounded to its places: at most this much more)
        column = values[:, ch]
        spread = float(np.linalg.norm(column - column.mean()))
        if not spread > 0:
            return False
        if p + 100.0 * float(np.linalg.norm(moved[:, ch])) * (1 + p / 100) / spread > bound:
            return False
    return True


def _prdn_bound(target: dict[str, Any]) -> float | None:
    """The PRDN a header's lossy target bounds (``lossy.LossyTarget.max_prdn``); None for bits per sample or a field
    out of shape."""
    prdn, snr = target.get("prdn"), target.get("snr")
    if isinstance(prdn, (int, float)) and not isinstance(prdn, bool) and math.isfinite(prdn):
        return float(prdn)
    if isinstance(snr, (int, float)) and not isinstance(snr, bool) and math.isfinite(snr):
        return 100.0 * 10 ** (-float(snr) / 20)
    return None
