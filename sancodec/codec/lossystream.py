"""Lossy coding at a target, streamed: rows in, a frame coded as soon as it is whole, the header at the end.

``sancodec.encode`` gives each block of a long record its share of the record's error budget, which needs every
block's spread before the first is coded (``lossyfile``; ``api.encode_lossy_blocks`` reads the record twice for
it). A stream cannot look ahead, so here each frame meets the target on its own: a PRDN bound ``P`` on every
frame, each about its own mean, meets ``P`` over the record, since the record's spread about its mean is at least
the frames' spreads about theirs (``||x - mean(x)||^2 = sum_b ||x_b - mean(x_b)||^2 + n_b (mean(x_b) - mean(x))^2``).
The price is bytes where the frames differ in spread or level: a quiet frame gets less error than the record's
budget would give it. A byte budget (bits per sample) holds frame by frame as it is. An SNR target is its PRDN.

The same files as ``sancodec.encode`` where the record is one frame (and one block) at effort ``"balanced"`` (the
default) or ``"fast"`` (effort best's probe for shorter frames needs the whole record); the same format throughout.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from io import BytesIO
from typing import Any

import numpy as np

from sancodec.codec.api import DEFAULT_LOSSY_FRAME, decoded_prdns, lossy_header, refuse_missed, verifies
from sancodec.codec.container import write_container
from sancodec.codec.encoder import DEFAULT_STEP, NOTHING_WRITTEN, header_frame_len
from sancodec.codec.frames import FramePlan, quantized_kernels
from sancodec.codec.gaps import (
    Gaps,
    block_gap_stats,
    block_lows,
    fill_rows,
    floors,
    gap_targets,
    header_gaps,
    invalid_values,
    joined,
    lossy_floors,
    rows_gaps,
)
from sancodec.codec.lossy import LossyTarget, check_effort
from sancodec.codec.lossyfile import BlockStats, code_block, record_prdn, record_spread
from sancodec.codec.prepare import check_options, held_ints, on_grid, resolve_model, whole_frames
from sancodec.errors import SanConfigError
from sancodec.san.spec import SanSpec
from sancodec.signal import Signal, beyond_exact_range

__all__ = ["LossyStreamEncoder"]


class LossyStreamEncoder:
    """Encode rows of ``like``'s channels (integer samples: its metadata goes in the header) lossy at ``target``,
    a frame of ``frame_len`` rows at a time, each frame at the target (module docstring); the interface of
    ``encoder.SanEncoder`` (:meth:`push`, :meth:`finish`, :meth:`header`), which the streaming writer drives.
    ``verify`` (default: as ``sancodec.encode``, on at effort best): each frame is decoded once coded and
    checked against the target. A channel's gaps (its WFDB format's invalid value, format 1.15) are coded apart
    as ``sancodec.encode`` codes them; their frames are always decoded, so that the header's PRDN is that of the
    other samples as they decode."""

    mode = "lossy"

    def __init__(self, like: Signal, target: LossyTarget, *, effort: str | None = None, frame_len: int | None = None,
                 threads: int | None = None, model: SanSpec | str | os.PathLike[str] | None = None,
                 embed_model: bool = True, verify: bool | None = None, quantum: Sequence[float] | None = None
                 ) -> None:
        effort = check_effort(effort)
        frame_len = check_options("lossy", None, "auto", DEFAULT_STEP,
                                  DEFAULT_LOSSY_FRAME if frame_len is None else frame_len)
        self.m, self.steps = like.frame_size, like.sample_steps()
        self.frame_len = whole_frames(frame_len, self.m)  # several rates: frames of whole frames, as encode's
        self.like, self.target, self.effort, self.threads = like, target, effort, threads
        self.embed_model, self.verify = embed_model, verifies(verify, "lossy", effort)
        spec = resolve_model(model)
        self.plan = FramePlan("lossy", 0, DEFAULT_STEP, spec, quantized_kernels(spec), "auto")
        c = like.n_channels
        self.quantum = None if quantum is None else [float(q) for q in quantum]  # floats: each channel's grid
        floats = self.quantum is not None  # (no format's invalid value among floats: no gaps, no floors)
        self._values = [None] * c if floats else invalid_values(like)  # each channel's gap value, or None
        if self.m > 1 and any(v is not None for v in self._values):
            raise SanConfigError("lossy streaming of a record of several rates whose format has an invalid sample "
                                 "(gaps) is not supported: use sancodec.encode on the whole record")
        self._candidates = [None] * c if floats else floors(like)  # format 1.16: each channel's floor, where its
        # decode may reach that value
        self._lows = [math.inf] * c  # each channel's least sample outside its gaps
        self._held: list[np.ndarray] = []  # rows not yet coded (less than a frame)
        self._held_rows = 0
        self.n = 0
        self._stats: list[list[BlockStats]] = []  # per frame and channel: its samples outside gaps
        self._achieved: list[list[float]] = []  # per frame and channel: the PRDN they decode to there
        self._gaps: list[Gaps] = []
        self._minor = 0

    def push(self, block: np.ndarray) -> Iterator[bytes]:
        """The payloads of every frame ``block`` completes (rows x channels; one channel's samples as 1-D)."""
        rows = self._rows_of(block)
        if len(rows):
            self._held.append(rows)
            self._held_rows += len(rows)
        while self._held_rows >= self.frame_len:
            held = np.concatenate(self._held) if len(self._held) > 1 else self._held[0]
            frame, rest = held[: self.frame_len], held[self.frame_len :]
            self._held, self._held_rows = ([rest] if len(rest) else []), len(rest)
            yield from self._coded(frame)

    @property
    def taken(self) -> int:
        """The rows :meth:`push` has taken: those coded and those held for the next frame."""
        return self.n + self._held_rows

    def finish(self) -> Iterator[bytes]:
        """The payloads of the last frame (the rows held, fewer than a frame)."""
        if (self.n + self._held_rows) % self.m:
            raise SanConfigError(f"a multi-frequency signal needs whole frames of {self.m} samples, got "
                                 f"{self.n + self._held_rows}")
        if self._held_rows:
            held = np.concatenate(self._held) if len(self._held) > 1 else self._held[0]
            self._held, self._held_rows = [], 0
            yield from self._coded(held)

    def header(self) -> tuple[dict[str, Any], int]:
        """The file's header once every row is coded, and the format minor version its frames need."""
        if self.n == 0:
            raise SanConfigError(NOTHING_WRITTEN)
        c = self.like.n_channels
        if len(self._achieved) == 1:  # one frame: its PRDN as it is (sancodec.encode's header, to the bit)
            achieved: list[float | None] = list(self._achieved[0])
        else:
            achieved = record_prdn(self._stats, self._achieved)
        spreads = [record_spread([frame[ch] for frame in self._stats]) for ch in range(c)]
        header = lossy_header(self.like, self.plan, achieved, self.target,
                              header_frame_len(self.n, self.frame_len, self.m), self.n, 0, self.quantum,
                              self.embed_model,
                              header_gaps(joined(self._gaps)) if self._gaps else None,
                              lossy_floors(self._candidates, self._lows, spreads, achieved))
        return header, self._minor

    def _rows_of(self, block: np.ndarray) -> np.ndarray:
        """``block`` as rows of integers (a copy: int16 and int32 as they are, a frame of 20 channels over 2^20 rows
        42 MB of int16, others as int64, ``prepare.held_ints``; of float64, on a grid: :attr:`quantum`), one column
        a channel; a SanConfigError for any other shape, for floats without a grid, and for values that are not
        finite."""
        rows = np.asarray(block)
        rows = rows[:, None] if rows.ndim == 1 else rows
        c = self.like.n_channels
        if rows.ndim != 2 or rows.shape[1] != c:
            raise SanConfigError(f"a block for {c} channel(s) must be rows x {c} (or 1-D for one channel), got "
                                 f"shape {np.shape(block)}")
        if self.quantum is not None:
            if rows.dtype.kind not in "iubf":
                raise SanConfigError(f"lossy streaming takes numbers, got {rows.dtype}")
            rows = rows.astype(np.float64)
            if not np.isfinite(rows).all():
                raise SanConfigError("lossy streaming of floats takes finite values (a NaN or an infinity here: "
                                     "a float stream has no gap marker in lossy mode)")
            self._on_grid(rows)  # (refused here, the block alone, not when its frame is coded at close)
            return rows
        if rows.dtype.kind not in "iub":
            raise SanConfigError(f"lossy streaming takes integer samples (ADC units), got {rows.dtype}: open the "
                                 "writer with step= (each channel's grid, e.g. step=0.001 for millivolts to the "
                                 "microvolt) for floats, or scale them to integers with the record's gain")
        if beyond_exact_range(rows):
            raise SanConfigError("integer samples beyond ±2**53: sancodec holds integers within ±2**53 exactly")
        held = held_ints(rows)
        return held.copy() if held is rows else held  # (never the caller's buffer, which it may fill again)

    def _coded(self, rows: np.ndarray) -> list[bytes]:
        """One frame's payloads, coded at the target (its gaps filled and coded apart, format 1.15), and what the
        header needs of it recorded."""
        c = self.like.n_channels
        values = self._values
        if self.quantum is None:  # integers: their gaps filled (what is coded), the PRDN measured outside the gaps
            own, filled = rows, fill_rows(rows, values)
        else:  # floats: on each channel's grid, their PRDN measured against the values themselves (so scaled)
            own = filled = rows / np.asarray(self.quantum)
        digital = filled if self.quantum is None else self._on_grid(rows)
        steps = self.steps  # (each channel measured at its own rate)
        coded_stats, valid_stats = block_gap_stats([own[:: steps[ch], ch] for ch in range(c)],
                                                   [filled[:: steps[ch], ch] for ch in range(c)], values)
        gaps = rows_gaps(rows, values)
        gapped = [g is not None for g in gaps]
        # the filled channel's target, such that the samples outside its gaps meet the frame's (gaps.gap_targets)
        targets = gap_targets(self.target, [coded_stats], [valid_stats], gapped) if any(gapped) \
            else [self.target] * c
        block = replace(self.like, samples=digital, annotations=[])

        def reference(ch: int, start: int, end: int) -> np.ndarray:
            return filled[start : end : steps[ch], ch].astype(np.float64)

        parts = code_block(block, digital, reference, targets, self.frame_len, 0, len(rows), self.threads,
                           self.effort)
        achieved = [self._defined(p, s) for p, s in zip(parts.achieved, valid_stats, strict=True)]
        if self.verify or any(gapped):
            measured = self._decoded(parts.payloads, parts.minor, rows, valid_stats, gaps, achieved)
            achieved = [got if has else mine for got, mine, has in zip(measured, achieved, gapped)]
            if self.verify:  # (the rate control measured it already: a bug if it misses)
                refuse_missed(measured, self.target, f" in rows {self.n} to {self.n + len(rows)}")
        self._lows = block_lows(self._lows, rows, values, self._candidates)
        self._stats.append(valid_stats)
        self._achieved.append(achieved)
        self._gaps.append([None if g is None else (g[0], g[1] + self.n, g[2] + self.n) for g in gaps])
        self._minor = max(self._minor, parts.minor)
        self.n += len(rows)
        return parts.payloads

    def _on_grid(self, rows: np.ndarray) -> np.ndarray:
        """Floats as the integers coded, on :attr:`quantum` (``prepare.on_grid``); refused past 2^53."""
        digital = on_grid(rows, self.quantum or [])
        if digital is None:
            raise SanConfigError("these values are too large for their step=: on its grid they exceed 2**53")
        return digital

    @staticmethod
    def _defined(prdn: float | None, stats: BlockStats) -> float:
        """A channel's PRDN in a frame as a number: where the coder leaves it undefined (a flat frame, coded
        exactly), 0."""
        if prdn is None or not math.isfinite(prdn):
            if stats.spread > 0:
                raise SanConfigError("a frame's PRDN came out undefined on a channel that is not flat; nothing was "
                                     "written")
            return 0.0
        return float(prdn)

    def _decoded(self, payloads: Sequence[bytes], minor: int, rows: np.ndarray, valid: Sequence[BlockStats],
                 gaps: Gaps, achieved: Sequence[float]) -> list[float]:
        """Each channel's PRDN as the frame's ``payloads`` decode (in a file of that frame alone), about its
        samples' mean outside gaps (``valid``), the gaps left out."""
        n = len(rows)
        header = lossy_header(replace(self.like, annotations=[]), self.plan, achieved, self.target,
                              header_frame_len(n, self.frame_len, self.m), n, 0, self.quantum, False,
                              header_gaps(gaps))
        buf = BytesIO()
        write_container(buf, header, list(payloads), minor=minor)
        skip = [None if g is None else g[0] for g in gaps]
        scale = [1.0] * len(valid) if self.quantum is None else self.quantum  # (the means on the grid's scale)
        return decoded_prdns(buf.getvalue(), [(0, n)], [rows], self.steps,
                             [s.mean * q for s, q in zip(valid, scale)], skip=skip)
