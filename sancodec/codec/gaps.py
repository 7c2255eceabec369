"""Gaps in lossy mode: a WFDB record's invalid samples (each format's "no data" value: a dropout, a disconnected
lead) and a CSV's or an array's missing values (held as WFDB's, ``io.decimals``). Coded as values, the jump to
-32768 and back took most of the error a channel may have, and its other samples came back far off the target.
Format 1.15 codes them apart (``lossy.gaps`` in the header: each channel's value and runs of rows): the encoder
fills each run by a line between the samples around it (:func:`filled`), codes the channel at a target that its
other samples meet (:func:`gap_targets`), and the decoder writes the value back over the runs (:func:`apply_gaps`).
A long record read a block at a time (``api.encode_lossy_blocks``) is filled, measured and coded block by block
the same way, the same file.

Format 1.16 keeps every other sample off the gap value: a decode that lands a valid sample on it (or below it, where
the format's range clips it there) made that sample a gap for WFDB's readers. The header's ``floor`` says the least
value a channel's samples outside its gaps decode to (:func:`floors`), one above its gap value, and the decoder
raises any below it (:func:`apply_floors`); that only ever moves a sample towards its source value, which lies
there or above."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sancodec.errors import SanFormatError
from sancodec.signal import Signal

__all__ = ["Gaps", "apply_floors", "apply_gaps", "block_gap_stats", "block_lows", "carries_gap_fields", "fill_column",
           "fill_rows", "filled", "floors", "gap_fields", "gap_runs", "gap_targets", "header_floors", "header_gaps",
           "invalid_values", "joined", "lossy_floors", "lost_rows_fill", "lowest", "near_lossless_fields",
           "needed_floors", "outside", "parse_floors", "parse_gaps", "rows_gaps", "runs_of", "signal_lows",
           "valid_block_stats"]

if TYPE_CHECKING:
    from sancodec.codec.lossy import LossyTarget
    from sancodec.codec.lossyfile import BlockStats

#: per channel, None or (the value its gaps hold, the runs' first rows, the rows just past them): held rows
Gaps = list[tuple[int, np.ndarray, np.ndarray] | None]


def invalid_values(signal: Signal) -> list[int | None]:
    """Each channel's invalid-sample value (WFDB's, by its format), None where it has none: not a WFDB format, or a
    source of another kind (an EDF file's formats say its samples' width, and -32768 is a value there)."""
    return _invalid_values(signal.source, signal.fmt, signal.n_channels, signal.is_digital)


def lost_rows_fill(header: Mapping[str, Any]) -> np.ndarray | None:
    """The values a salvaged decode writes over the rows of a damaged frame (``api.decode_file(..., salvage=True)``):
    each channel's invalid sample (:func:`invalid_values` of the signal a ``.san`` ``header`` describes, which
    WFDB's readers and :meth:`Signal.physical` take for no data), as int64; None where some channel has none (an EDF
    file's, a WAV's, floats: their rows cannot say "lost") or the header's fields are out of shape (not trusted)."""
    signal = header.get("signal")
    n = header.get("n_channels")
    if not isinstance(signal, dict) or type(n) is not int or n < 1:
        return None
    fmt = signal.get("fmt")
    digital = header.get("quantum") is None and header.get("float32") is not True  # (a file of floats: none)
    values = _invalid_values(signal.get("source"), fmt if isinstance(fmt, list) else None, n, digital)
    return None if any(v is None for v in values) else np.array(values, dtype=np.int64)


def _invalid_values(source: object, fmt: Sequence[object] | None, n_channels: int, digital: bool
                    ) -> list[int | None]:
    """:func:`invalid_values` of a signal's ``source`` and ``fmt`` fields, its channel count and whether its samples
    are integers."""
    from sancodec.io.decimals import missing_of
    from sancodec.io.wfdb_multi import INVALID_SAMPLE

    kind = source.get("kind") if isinstance(source, dict) else None
    missing = missing_of(source) if digital else None
    if missing is not None:  # a CSV's or an array's gaps, held as WFDB's invalid sample (io.decimals)
        return [int(missing[0])] * n_channels
    wfdb = kind in (None, "wfdb-multisegment")
    formats = fmt if wfdb and fmt and len(fmt) == n_channels else [None] * n_channels
    return [INVALID_SAMPLE.get(str(f)) if f is not None and digital else None for f in formats]


def floors(signal: Signal) -> list[int | None]:
    """Each channel's floor (format 1.16): one above its gap value (:func:`invalid_values`), None where it has none
    or where its samples may lie below that value (WFDB's format 8 stores differences: -128 is no bound there)."""
    fmts = signal.fmt if signal.fmt and len(signal.fmt) == signal.n_channels else [None] * signal.n_channels
    return [None if v is None or str(f) == "8" else v + 1 for v, f in zip(invalid_values(signal), fmts)]


def needed_floors(candidates: Sequence[int | None], lows: Sequence[float], reaches: Sequence[float | None]
                  ) -> list[int | None]:
    """The floors (``candidates``: :func:`floors`) a decode needs: only where a channel's least sample outside its
    gaps (``lows``) less the most its decode may move any sample (``reaches``, None where unbounded) comes below its
    floor; elsewhere no decoded sample can reach it, and the field's bytes are saved."""
    return [f if f is not None and (r is None or not low - r >= f) else None
            for f, low, r in zip(candidates, lows, reaches, strict=True)]


def lossy_floors(candidates: Sequence[int | None], lows: Sequence[float], spreads: Sequence[float],
                 achieved: Sequence[float | None]) -> list[int | None]:
    """:func:`needed_floors` of a lossy coding whose channels decode at PRDN ``achieved`` (percent, over their
    samples outside gaps, whose spread about their mean is ``spreads``, from the blocks' statistics as both lossy
    encoders make them: the same floors for the same record): no sample's error exceeds the error's norm,
    ``PRDN / 100 * spread`` (taken a little wider: the header rounds the PRDN, the decode rounds samples)."""
    reaches = [None if p is None or not math.isfinite(p) else (p + 1e-5) / 100 * spread * 1.01 + 1
               for p, spread in zip(achieved, spreads, strict=True)]
    return needed_floors(candidates, lows, reaches)


def lowest(x: np.ndarray, value: int | None) -> float:
    """A channel's least sample outside its gaps (``value``; +inf where it has no other): what a floor is weighed
    against (:func:`needed_floors`)."""
    bad = None if value is None else x == value
    valid = x[~bad] if bad is not None and bad.any() else x  # (no copy where there are no gaps: nearly always)
    return float(valid.min()) if len(valid) else math.inf


def signal_lows(signal: Signal, candidates: Sequence[int | None]) -> list[float]:
    """Each channel's :func:`lowest` at its own rate where it has a floor to weigh (``candidates``: :func:`floors`),
    +inf elsewhere."""
    values = invalid_values(signal)
    return [lowest(signal.samples[::step, ch], values[ch]) if f is not None else math.inf
            for ch, (step, f) in enumerate(zip(signal.sample_steps(), candidates))]


def block_lows(lows: Sequence[float], rows: np.ndarray, values: Sequence[int | None],
               candidates: Sequence[int | None]) -> list[float]:
    """``lows`` lowered by a block of rows of a record read a block at a time (:func:`signal_lows` of it whole)."""
    return [low if f is None else min(low, lowest(rows[:, ch], values[ch]))
            for ch, (low, f) in enumerate(zip(lows, candidates))]


def header_floors(values: Sequence[int | None]) -> int | list[int | None] | None:
    """The header's ``floor``: one integer where every channel has the same, else one entry per channel (null
    where it has none); None where no channel has one (the field left out)."""
    if all(v is None for v in values):
        return None
    return int(values[0]) if values[0] is not None and len(set(values)) == 1 else list(values)


def gap_fields(gaps: Gaps, values: Sequence[int | None]) -> dict[str, object]:
    """The header's top-level ``gaps`` and ``floor`` fields of ``gaps`` and floors ``values``, each only where some
    channel has one."""
    fields = {"gaps": header_gaps(gaps) if gaps else None, "floor": header_floors(values)}
    return {k: v for k, v in fields.items() if v is not None}


def near_lossless_fields(gaps: Gaps, candidates: Sequence[int | None], lows: Sequence[float], max_error: int,
                         inexact: Sequence[bool], filled_gaps: bool) -> dict[str, object]:
    """A near-lossless file's ``gaps`` and ``floor`` (:func:`gap_fields`): a channel that every frame coded exactly
    decodes to its own samples and needs neither (no byte past lossless), unless its gaps were filled before coding
    (``filled_gaps``: a CSV's or an array's); elsewhere its gaps' runs and, where a sample within ``max_error`` of
    its least one (``lows``) could reach its gap value, its floor."""
    kept = [g if filled_gaps or inexact[ch] else None for ch, g in enumerate(gaps)]
    reaches = [max_error if moved else 0 for moved in inexact]
    return gap_fields(kept, needed_floors(candidates, lows, reaches))


def carries_gap_fields(header: Mapping[str, object]) -> bool:
    """Whether a near-lossless file's header holds ``gaps`` or ``floor`` (:func:`near_lossless_fields`): bytes that
    no lossless file of the record spends and that no frame's fallback to exact coding weighs, so that the file may
    outgrow the lossless one (a record with a dropout every few samples: each run costs the header a few bytes)."""
    return "gaps" in header or "floor" in header


def parse_floors(entry: object, c: int) -> list[int | None] | None:
    """A header's ``floor`` (untrusted) as one entry per channel: a 32-bit integer for every channel, or a list of
    ``c`` such integers or nulls; anything else a :class:`SanFormatError`."""
    if entry is None:
        return None
    values = [entry] * c if not isinstance(entry, list) else entry
    if len(values) != c or not all(v is None or _whole(v, -(1 << 31), (1 << 31) - 1) for v in values):
        raise SanFormatError(f"header field 'floor' is not a 32-bit integer or a list of {c} such or nulls")
    return list(values)


def apply_floors(values: Sequence[int | None], block: np.ndarray) -> None:
    """Raise each channel's samples in ``block`` to at least its floor (in place; before :func:`apply_gaps`)."""
    for ch, floor in enumerate(values):
        if floor is not None:
            np.maximum(block[:, ch], floor, out=block[:, ch])


def gap_runs(signal: Signal) -> Gaps:
    """Each channel's runs of invalid samples in the held rows (:data:`Gaps`), None for a channel without any."""
    return rows_gaps(signal.samples, invalid_values(signal))


def rows_gaps(rows: np.ndarray, values: Sequence[int | None], first: int = 0) -> Gaps:
    """Each channel's runs of its gap value (``values``: per channel, or None) in ``rows``, counted from row
    ``first`` (a block of a long record read a block at a time), None for a channel without any."""
    out: Gaps = []
    for ch, value in enumerate(values):
        bad = None if value is None else rows[:, ch] == value
        out.append(None if value is None or bad is None or not bad.any() else (int(value), *runs_of(bad, first)))
    return out


def outside(x: np.ndarray, value: int | None) -> np.ndarray:
    """Which of a channel's samples ``x`` lie outside its gaps (``value``: theirs, None for none): what its PRDN is
    measured on."""
    return np.ones(len(x), bool) if value is None else x != value


def fill_column(x: np.ndarray, value: int) -> np.ndarray:
    """``x`` (one channel's samples) with each run of ``value`` filled by the line between the samples on either side
    of it (the nearest where it starts or ends ``x``; 0 where ``x`` is gaps alone), rounded: a coding of the channel
    then spends next to nothing there, and the decoder writes the value back."""
    bad = x == value
    if not bad.any():
        return x
    good = np.flatnonzero(~bad)
    line = np.interp(np.flatnonzero(bad), good, x[good]) if len(good) else np.zeros(int(bad.sum()))
    out = x.copy()
    out[bad] = np.rint(line).astype(x.dtype)
    return out


def fill_rows(rows: np.ndarray, values: Sequence[int | None]) -> np.ndarray:
    """A block of rows (one sample a row in every channel) with each channel's gaps of ``values`` filled
    (:func:`fill_column`), within the block."""
    out = rows
    for ch, value in enumerate(values):
        column = rows[:, ch]
        done = column if value is None else fill_column(column, value)
        if done is not column:  # (rows copied once, where a channel has gaps; each channel's mask made once)
            out = np.array(rows, copy=True) if out is rows else out
            out[:, ch] = done
    return out


def filled(signal: Signal, gaps: Gaps, spans: Sequence[tuple[int, int]]) -> Signal:
    """``signal`` with each channel's gaps filled (:func:`fill_column`) within each of ``spans`` (the blocks a
    record is coded in, ``lossyfile.blocks``: a long record read a block at a time is filled the same way), at the
    channel's own rate."""
    samples = signal.samples.copy()
    steps = signal.sample_steps()
    for ch, gap in enumerate(gaps):
        if gap is None:
            continue
        for lo, hi in spans:  # (whole frames: each channel's own samples start on the span's first row)
            own = fill_column(samples[lo:hi:steps[ch], ch], gap[0])
            samples[lo:hi, ch] = np.repeat(own, steps[ch])[: hi - lo]
    return replace(signal, samples=samples)


def block_gap_stats(own: Sequence[np.ndarray], coded: Sequence[np.ndarray], values: Sequence[int | None]
                    ) -> tuple[list[BlockStats], list[BlockStats]]:
    """One block's statistics per channel (``own``: its samples at the channel's rate, ``coded``: the same filled,
    ``values``: its gaps' value or None): of the filled samples, and of the samples outside the gaps."""
    from sancodec.codec.lossyfile import block_stats

    return [block_stats(f.astype(np.float64)) for f in coded], valid_block_stats(own, values)


def valid_block_stats(own: Sequence[np.ndarray], values: Sequence[int | None]) -> list[BlockStats]:
    """One block's statistics per channel of its samples outside the gaps (:func:`block_gap_stats`' second)."""
    from sancodec.codec.lossyfile import block_stats

    return [block_stats(x[outside(x, v)].astype(np.float64)) for x, v in zip(own, values)]


def gap_targets(target: LossyTarget, coded: Sequence[Sequence[BlockStats]], valid: Sequence[Sequence[BlockStats]],
                gapped: Sequence[bool]) -> list[LossyTarget]:
    """Per channel, the target the filled channel is coded at so that its samples outside the gaps meet ``target``:
    a PRDN bound ``P`` times ``||v - mean(v)|| / ||f - mean(f)||`` (``v`` those samples, ``f`` the filled channel),
    since the error on them is at most the filled channel's; each spread made of the blocks' statistics (``coded``
    and ``valid``: per block and channel), as a long record read a block at a time makes it. A byte budget, and a
    channel without gaps (``gapped`` false), as they are."""
    from sancodec.codec.lossy import LossyTarget
    from sancodec.codec.lossyfile import record_spread

    bound = target.max_prdn
    out = []
    for ch, has in enumerate(gapped):
        spread_valid = record_spread([block[ch] for block in valid]) if has else 0.0
        spread_whole = record_spread([block[ch] for block in coded]) if has else 0.0
        ok = spread_valid > 0 and spread_whole > 0
        out.append(LossyTarget(prdn=bound * spread_valid / spread_whole) if ok and bound is not None else target)
    return out


def runs_of(bad: np.ndarray, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The runs of true in ``bad``: their first rows and the rows just past them, counted from ``first``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.view(np.int8), [0]])))
    return edges[0::2] + first, edges[1::2] + first


def joined(gaps: Sequence[Gaps]) -> Gaps:
    """Consecutive blocks' gaps (each in the record's rows) as the record's, a run that crosses a block's end one."""
    out: Gaps = []
    for ch in range(len(gaps[0]) if gaps else 0):
        parts = [part for g in gaps if (part := g[ch]) is not None]
        if not parts:
            out.append(None)
            continue
        starts, ends = np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])
        inner = starts[1:] == ends[:-1]  # a run that the block's end cut in two
        out.append((parts[0][0], starts[np.concatenate([[True], ~inner])], ends[np.concatenate([~inner, [True]])]))
    return out


def header_gaps(gaps: Gaps) -> list | None:
    """The header's ``lossy.gaps``: per channel null or ``[value, [first row, rows, first row, rows, ...]]``; None
    where no channel has gaps."""
    if all(g is None for g in gaps):
        return None
    return [None if g is None else [g[0], np.column_stack([g[1], g[2] - g[1]]).ravel().tolist()] for g in gaps]


def parse_gaps(entry: object, n: int, steps: list[int], field: str = "lossy.gaps") -> Gaps | None:
    """A header's ``lossy.gaps`` (untrusted) as :data:`Gaps`: one entry per channel, null or a 32-bit integer value
    and runs of ``[first row, rows]``, each at least one row, in order, apart, within the ``n`` rows and on the
    channel's own samples (whole multiples of its rows per sample); anything else a :class:`SanFormatError` naming
    ``field`` (a near-lossless file's ``gaps``)."""
    if entry is None:
        return None
    if not isinstance(entry, list) or len(entry) != len(steps):
        raise SanFormatError(f"header field {field!r} is not a list of {len(steps)} channels' gaps")
    out: Gaps = []
    for ch, (gap, step) in enumerate(zip(entry, steps)):
        if gap is None:
            out.append(None)
            continue
        said = f"header field '{field}[{ch}]'"
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
