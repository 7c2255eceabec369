"""A WFDB record's invalid samples (each format's "no data" value: a dropout, a disconnected lead) in lossy mode,
which codes them as values: its PRDN target is met with them counted, and the jump to -32768 and back takes most of
the error a channel may have, so its other samples may come back far off the target. Said, with the PRDN of those
other samples, where it passes the target (lossless and near-lossless keep the gaps exactly)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from sancodec.errors import SancodecWarning
from sancodec.metrics import prdn
from sancodec.signal import Signal

__all__ = ["invalid_counts", "invalid_values", "warn_lossy_gaps", "warn_lossy_gaps_unmeasured"]


def invalid_values(signal: Signal) -> list[int | None]:
    """Each channel's invalid-sample value (WFDB's, by its format), None where it has none: not a WFDB format, or a
    source of another kind (an EDF file's formats say its samples' width, and -32768 is a value there)."""
    from sancodec.io.wfdb_multi import INVALID_SAMPLE

    kind = signal.source.get("kind") if isinstance(signal.source, dict) else None
    wfdb = kind in (None, "wfdb-multisegment")
    formats = signal.fmt if wfdb and signal.fmt and len(signal.fmt) == signal.n_channels else [None] * signal.n_channels
    return [INVALID_SAMPLE.get(str(f)) if f is not None and signal.is_digital else None for f in formats]


def invalid_counts(signal: Signal, samples: np.ndarray | None = None) -> list[int]:
    """How many of each channel's samples (``samples``: rows of the record, all of it by default; each channel's own
    at its rate) are its format's invalid value."""
    rows = signal.samples if samples is None else samples
    steps = signal.sample_steps() if samples is None else [1] * signal.n_channels
    return [0 if value is None else int(np.count_nonzero(rows[::step, ch] == value))
            for ch, (value, step) in enumerate(zip(invalid_values(signal), steps))]


def _said(name: str, count: int, value: int) -> str:
    return (f"channel {name!r} holds {count} invalid samples (WFDB's {value}: no data), which lossy mode codes as "
            "values")


_ADVICE = "lossless and near-lossless modes keep such gaps exactly; or cut them out of the record"


def warn_lossy_gaps(signal: Signal, decoded: Signal, bound: float | None) -> None:
    """A :class:`SancodecWarning` for each channel of ``signal`` with invalid samples whose other samples come back
    from ``decoded`` (its lossy file's decode) past the PRDN ``bound`` (None: a byte budget, said wherever gaps
    are)."""
    steps = signal.sample_steps()
    for ch, value in enumerate(invalid_values(signal)):
        if value is None:
            continue
        x = signal.samples[:: steps[ch], ch]
        valid = x != value
        if valid.all():
            continue
        y = decoded.samples[:: steps[ch], ch]
        name, count = signal.channel_names[ch], int(np.count_nonzero(~valid))
        got = prdn(x[valid].astype(np.float64), y[valid].astype(np.float64)) if valid.any() else 0.0
        if bound is None or got > bound:
            warnings.warn(f"{_said(name, count, value)}: on its other samples the error is {got:.3g} % PRDN"
                          + (f", past the target of {bound:g} %" if bound is not None else "") + f"; {_ADVICE}",
                          SancodecWarning, stacklevel=4)


def warn_lossy_gaps_unmeasured(signal: Signal, counts: Sequence[int]) -> None:
    """A :class:`SancodecWarning` for each channel with invalid samples (``counts``: per channel, a long record's,
    read a block at a time and not decoded whole here, so the PRDN of its other samples is not measured)."""
    for ch, (value, count) in enumerate(zip(invalid_values(signal), counts)):
        if value is not None and count:
            warnings.warn(f"{_said(signal.channel_names[ch], count, value)}: the PRDN it meets counts them, and its "
                          f"other samples may come back far off the target; {_ADVICE}", SancodecWarning, stacklevel=4)
