"""Gaps in lossy mode: a WFDB record's invalid samples (each format's "no data" value: a dropout, a disconnected
lead) and a CSV's or an array's missing values (held as WFDB's, ``io.decimals``). Coded as values, the jump to
-32768 and back took most of the error a channel may have, and its other samples came back far off the target.
Format 1.15 codes them apart (``lossy.gaps`` in the header: each channel's value and runs of rows): the encoder
fills each run by a line between the samples around it (:func:`filled`), codes the channel at a target that its
other samples meet (:func:`gap_targets`), and the decoder writes the value back over the runs (:func:`apply_gaps`).
A record coded a block at a time (``api.encode_lossy_blocks``) still codes them as values, and says so."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sancodec.errors import SancodecWarning, SanFormatError
from sancodec.metrics import prdn
from sancodec.signal import Signal

__all__ = ["Gaps", "apply_gaps", "filled", "gap_runs", "gap_targets", "header_gaps", "invalid_counts",
           "invalid_values", "parse_gaps", "valid_prdns", "warn_lossy_gaps_unmeasured"]

if TYPE_CHECKING:
    from sancodec.codec.lossy import LossyTarget

#: per channel, None or (the value its gaps hold, the runs' first rows, the rows just past them): held rows
Gaps = list[tuple[int, np.ndarray, np.ndarray] | None]


def invalid_values(signal: Signal) -> list[int | None]:
    """Each channel's invalid-sample value (WFDB's, by its format), None where it has none: not a WFDB format, or a
    source of another kind (an EDF file's formats say its samples' width, and -32768 is a value there)."""
    from sancodec.io.decimals import missing_of
    from sancodec.io.wfdb_multi import INVALID_SAMPLE

    kind = signal.source.get("kind") if isinstance(signal.source, dict) else None
    missing = missing_of(signal.source) if signal.is_digital else None
    if missing is not None:  # a CSV's or an array's gaps, held as WFDB's invalid sample (io.decimals)
        return [int(missing[0])] * signal.n_channels
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


def gap_runs(signal: Signal) -> Gaps:
    """Each channel's runs of invalid samples in the held rows (:data:`Gaps`), None for a channel without any."""
    out: Gaps = []
    for ch, value in enumerate(invalid_values(signal)):
        bad = None if value is None else signal.samples[:, ch] == value
        if bad is None or not bad.any():
            out.append(None)
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.view(np.int8), [0]])))
        out.append((int(value), edges[0::2], edges[1::2]))
    return out


def filled(signal: Signal, gaps: Gaps) -> Signal:
    """``signal`` with each gap run filled by the line between the samples on either side of it (the nearest where
    it starts or ends the channel; 0 for a channel of gaps alone), at the channel's own rate, rounded: a coding of the
    channel then spends next to nothing there, and the decoder writes the gaps' value back."""
    samples = signal.samples.copy()
    steps = signal.sample_steps()
    for ch, gap in enumerate(gaps):
        if gap is None:
            continue
        own = samples[:: steps[ch], ch]
        bad = own == gap[0]
        good = np.flatnonzero(~bad)
        line = np.interp(np.flatnonzero(bad), good, own[good]) if len(good) else np.zeros(int(bad.sum()))
        own = own.copy()
        own[bad] = np.rint(line).astype(own.dtype)
        samples[:, ch] = np.repeat(own, steps[ch])[: len(samples)]
    return replace(signal, samples=samples)


def _valid(signal: Signal, gaps: Gaps, ch: int) -> np.ndarray:
    """Channel ``ch``'s samples at its own rate, as float64, without its gaps."""
    x = signal.samples[:: signal.sample_steps()[ch], ch]
    return (x if gaps[ch] is None else x[x != gaps[ch][0]]).astype(np.float64)


def gap_targets(signal: Signal, coded: Signal, gaps: Gaps, target: LossyTarget) -> list[LossyTarget]:
    """Per channel, the target ``coded`` (``signal`` :func:`filled`) is coded at so that the samples outside the
    gaps meet ``target``: a PRDN bound ``P`` times ``||v - mean(v)|| / ||f - mean(f)||`` (``v`` those samples, ``f``
    the filled channel), since the error on them is at most the filled channel's. A byte budget as it is."""
    from sancodec.codec.lossy import LossyTarget

    bound = target.max_prdn
    out = []
    for ch, gap in enumerate(gaps):
        if gap is None or bound is None:
            out.append(target)
            continue
        valid, whole = _valid(signal, gaps, ch), coded.samples[:: coded.sample_steps()[ch], ch].astype(np.float64)
        spread_valid = float(np.linalg.norm(valid - valid.mean())) if len(valid) else 0.0
        spread_whole = float(np.linalg.norm(whole - whole.mean()))
        out.append(LossyTarget(prdn=bound * spread_valid / spread_whole) if spread_valid > 0 and spread_whole > 0
                   else target)
    return out


def valid_prdns(signal: Signal, decoded: Signal, gaps: Gaps) -> list[float | None]:
    """Each gapped channel's PRDN over its samples outside the gaps (None for the others, and where undefined)."""
    out: list[float | None] = []
    for ch, gap in enumerate(gaps):
        if gap is None:
            out.append(None)
            continue
        x = signal.samples[:: signal.sample_steps()[ch], ch]
        keep = x != gap[0]
        y = decoded.samples[:: decoded.sample_steps()[ch], ch]
        got = prdn(x[keep].astype(np.float64), y[keep].astype(np.float64)) if keep.sum() > 1 else None
        out.append(got if got is not None and np.isfinite(got) else None)
    return out


def header_gaps(gaps: Gaps) -> list | None:
    """The header's ``lossy.gaps``: per channel null or ``[value, [first row, rows, first row, rows, ...]]``; None
    where no channel has gaps."""
    if all(g is None for g in gaps):
        return None
    return [None if g is None else [g[0], np.column_stack([g[1], g[2] - g[1]]).ravel().tolist()] for g in gaps]


def parse_gaps(entry: object, n: int, steps: list[int]) -> Gaps | None:
    """A header's ``lossy.gaps`` (untrusted) as :data:`Gaps`: one entry per channel, null or a 32-bit integer value
    and runs of ``[first row, rows]``, each at least one row, in order, apart, within the ``n`` rows and on the
    channel's own samples (whole multiples of its rows per sample); anything else a :class:`SanFormatError`."""
    if entry is None:
        return None
    if not isinstance(entry, list) or len(entry) != len(steps):
        raise SanFormatError(f"header field 'lossy.gaps' is not a list of {len(steps)} channels' gaps")
    out: Gaps = []
    for ch, (gap, step) in enumerate(zip(entry, steps)):
        if gap is None:
            out.append(None)
            continue
        said = f"header field 'lossy.gaps[{ch}]'"
        if not (isinstance(gap, list) and len(gap) == 2 and _whole(gap[0], -(1 << 31), (1 << 31) - 1)
                and isinstance(gap[1], list) and gap[1] and len(gap[1]) % 2 == 0
                and all(_whole(v, 0, n) for v in gap[1])):
            raise SanFormatError(f"{said} is not [a 32-bit value, [first row, rows, ...]] within {n} rows")
        runs = np.asarray(gap[1], dtype=np.int64).reshape(-1, 2)
        starts, ends = runs[:, 0], runs[:, 0] + runs[:, 1]
        if np.any(runs[:, 1] < 1) or np.any(ends > n) or np.any(starts[1:] <= ends[:-1]):
            raise SanFormatError(f"{said}: its runs must each hold a row, in order, apart, within {n} rows")
        if step > 1 and (np.any(starts % step) or np.any((ends % step != 0) & (ends != n))):
            raise SanFormatError(f"{said}: its runs must hold whole samples of the channel ({step} rows each)")
        out.append((int(gap[0]), starts, ends))
    return out


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def apply_gaps(gaps: Gaps, block: np.ndarray, first: int) -> None:
    """Write each channel's gap value over its runs within ``block``, the rows from ``first`` on (in place)."""
    last = first + len(block)
    for ch, gap in enumerate(gaps):
        if gap is None:
            continue
        value, starts, ends = gap
        i, j = int(np.searchsorted(ends, first, side="right")), int(np.searchsorted(starts, last, side="left"))
        for a, b in zip(starts[i:j], ends[i:j]):
            block[max(int(a), first) - first : min(int(b), last) - first, ch] = value


def warn_lossy_gaps_unmeasured(signal: Signal, counts: Sequence[int]) -> None:
    """A :class:`SancodecWarning` for each channel with invalid samples (``counts``: per channel) in a record coded a
    block at a time, which codes them as values: the PRDN it meets counts them, and its other samples may come back
    far off the target (not measured: the record is not decoded whole here)."""
    from sancodec.codec.lossyfile import LOSSY_BLOCK

    for ch, (value, count) in enumerate(zip(invalid_values(signal), counts)):
        if value is not None and count:
            warnings.warn(f"channel {signal.channel_names[ch]!r} holds {count} invalid samples (gaps: {value}), which "
                          "a record this long, coded a block at a time, codes as values: the PRDN it meets counts "
                          "them, and its other samples may come back far off the target; lossless and near-lossless "
                          "modes keep such gaps exactly, and lossy mode codes them apart in a record of up to "
                          f"{LOSSY_BLOCK} samples", SancodecWarning, stacklevel=4)
