"""Frame codings as a registry: one class per way of coding one channel of one frame.

Each coding has a fixed integer id (the first varint of its channel-frame, pinned by the
golden files) and two methods: ``candidates`` (what it would write for these samples, with
a bit estimate) and ``decode``. The encoder asks every registered coding, in registration
order, and keeps the cheapest candidate (ties go to the earlier coding); adding a coding
means adding one class with a new id. Like numcodecs' ``register_codec``/``get_codec``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar

import numpy as np

from sancodec.codec import running
from sancodec.codec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.codec.limits import MAX_ABS_SAMPLE
from sancodec.codec.lpc import LpcFilter, synthesize
from sancodec.codec.residual import (
    Residual,
    best_residual,
    near_lossless,
    poly_restore,
    read_residual,
    with_adaptive_stages,
    with_running_contexts,
    write_residual,
)
from sancodec.codec.valuegrid import value_grid
from sancodec.errors import SanFormatError, SanLimitError
from sancodec.san.placement import scatter_kernels
from sancodec.san.spec import SanSpec

__all__ = ["KERNEL_SCALE", "ChannelFrame", "FrameCoding", "FramePlan", "SanInput", "decode_channel_frame",
           "encode_channel_frame", "get_coding", "plain_coding", "quantized_kernels", "register_coding",
           "residual_stages", "resolve_lpc"]

KERNEL_SCALE = 4096


class WorkBudget:
    """What one decode may still spend on SAN activations and kernel taps (see ``limits``)."""

    def __init__(self, activations: int, taps: int) -> None:
        self.activations, self.taps = activations, taps
        self._lock = threading.Lock()  # frames decode on several threads

    def spend(self, activations: int, taps: int) -> None:
        with self._lock:
            self.activations -= activations
            self.taps -= taps
            overspent = self.activations < 0 or self.taps < 0
        if overspent:
            raise SanLimitError("SAN frames place more activations or kernel taps than the file's size justifies "
                                "(DecodeLimits.min_activations / min_taps)")


def check_magnitude(bound: float, what: str) -> None:
    """Refuse a value (or a bound on values) beyond ``MAX_ABS_SAMPLE``: no int64 ever wraps."""
    if not bound <= MAX_ABS_SAMPLE:  # also catches NaN
        raise SanFormatError(f"frame: {what} exceeds 2**53 (would overflow the decoder's integers)")


def quantized_kernels(spec: SanSpec) -> list[np.ndarray]:
    """The kernels as the integers ``rint(w * KERNEL_SCALE)`` the exact prediction uses."""
    scaled = [np.rint(k.astype(np.float64) * KERNEL_SCALE) for k in spec.kernels]
    if any(float(np.abs(w).sum()) > MAX_ABS_SAMPLE for w in scaled):
        raise SanFormatError(f"model: kernel values too large for exact integer prediction "
                             f"(sum |w| * {KERNEL_SCALE} must stay below 2**53)")
    return [w.astype(np.int64) for w in scaled]


@dataclass
class FramePlan:
    """What every channel-frame of one file shares: mode, error bound, amplitude step, model."""

    mode: str
    max_error: int
    step: float
    spec: SanSpec | None  # None: the file uses no SAN frame and names no model
    wq: list[np.ndarray]
    predictor: str = "auto"
    budget: WorkBudget | None = None  # set by the decoder
    threads: int = 1  # threads one channel-frame's decoder may use for its pieces (set by the decoder; ``jobs``)

    @property
    def qstep(self) -> int:
        """Near-lossless quantiser step 2E + 1 (1 when exact)."""
        return 2 * self.max_error + 1


@dataclass(frozen=True)
class SanInput:
    """A frame's SAN activations ``(q, L)`` and the integer offset and scale it was normalised by."""

    alpha: np.ndarray
    offset: int
    sigma: float


@dataclass(frozen=True)
class Candidate:
    """What a coding would write: its head bytes, the residual after it (None: nothing more), a bit estimate."""

    cost: float
    head: bytes
    residual: Residual | None
    exact: bool = False  # decodes to the samples themselves
    needs_minor: int = 3  # the format minor version its head needs (path 6: 4)

    def payload(self) -> bytes:
        return self.head + (write_residual(self.residual) if self.residual is not None else b"")

    @property
    def minor(self) -> int:
        """The format minor version its payload needs: 4 with an LMS stage, long-term prediction or a
        stepped value table (1.4), 5 with running contexts (1.5), 8 with LPC without restarts, the long
        adaptive stages or running contexts' MSB mode (1.8)."""
        res = self.residual
        if res is None:
            return self.needs_minor
        if res.cascade is not None or (res.lpc is not None and res.lpc.whole) or (
                res.block is not None and running.uses_msb(res.block)):
            return 8
        if res.block is not None and running.is_running(res.block):
            return 5
        return max(self.needs_minor, 4 if res.lms or res.ltp is not None else 3)


@dataclass
class ChannelFrame:
    """One channel of one decoded frame: samples = ``base + u * step`` (or ``table[u]``; ``base`` an
    array, or one integer for raw frames). ``u`` is
    None while an LPC synthesis (``lpc``: residual and filter) is pending, so a file's LPC frames
    run as one batch."""

    base: np.ndarray
    activations: int
    step: int = 0
    u: np.ndarray | None = None
    lpc: tuple[np.ndarray, LpcFilter] | None = None
    table: np.ndarray | None = None
    path: str = "san"
    refs: tuple[tuple[int, int], ...] = ()  # inter-channel prediction (path 5): (channel, weight) pairs
    lms: int = 0  # taps of the LMS stage its residual went through (format 1.4)
    ltp: bool = False  # whether its residual was predicted beat to beat (format 1.4)
    running: bool = False  # whether its residual was coded under running contexts (format 1.5)
    cascade: bool = False  # whether its residual went through the long adaptive stages (format 1.8)
    msb: bool = False  # whether its running contexts code mantissas' top bits (format 1.8)
    ref_shift: int = 0

    def samples(self) -> np.ndarray:
        if self.u is None:
            if self.lpc is not None:
                raise RuntimeError("LPC synthesis still pending: call resolve_lpc first")
            return self.base
        if self.table is not None:
            if len(self.u) and (self.u.min() < 0 or self.u.max() >= len(self.table)):
                raise SanFormatError("frame: value rank outside the frame's value table")
            return self.table[self.u]
        if len(self.u):
            peak = max(-int(self.u.min()), int(self.u.max()))
            check_magnitude(float(np.abs(self.base).max()) + float(peak) * self.step, "a sample")
        return self.base + (self.u if self.step == 1 else self.u * self.step)


class FrameCoding:
    """Base class: a coding's fixed ``id`` and ``name``, its encoder candidates and its decoder."""

    id: ClassVar[int]
    name: ClassVar[str]

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        raise NotImplementedError

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        raise NotImplementedError


_REGISTRY: dict[int, FrameCoding] = {}


def register_coding(cls: type[FrameCoding]) -> type[FrameCoding]:
    """Class decorator: add a coding under its fixed id (ids never change meaning)."""
    if cls.id in _REGISTRY:
        raise ValueError(f"frame coding id {cls.id} is taken by {_REGISTRY[cls.id].name}")
    _REGISTRY[cls.id] = cls()
    return cls


def get_coding(coding_id: int) -> FrameCoding:
    """The coding with this id; unknown ids are a format error."""
    try:
        return _REGISTRY[coding_id]
    except KeyError:
        raise SanFormatError(f"frame: unknown path {coding_id}") from None


def _finish(r: ByteReader, base: np.ndarray, n_act: int, step: int, table: np.ndarray | None,
            plan: FramePlan, name: str, length: int | None = None) -> ChannelFrame:
    """Read the residual block that ends every non-lossy channel-frame (``length``: when ``base`` is
    one integer)."""
    res = read_residual(r, len(base) if length is None else length, plan.mode != "lossy")
    kept: dict[str, Any] = {"table": table, "path": name, "lms": res.lms, "ltp": res.ltp, "running": res.running,
            "cascade": res.cascade, "msb": res.msb}
    if res.lpc is not None:
        return ChannelFrame(base, n_act, step, lpc=(res.e, res.lpc), **kept)
    return ChannelFrame(base, n_act, step, poly_restore(res.e, res.order), **kept)


@register_coding
class SanCoding(FrameCoding):
    """Path 1: SAN activations (position gaps, quantised amplitudes) predict the frame exactly in
    integers: ``pred = o + rint(Σ a_q w_q * Δ / KERNEL_SCALE)``, then the residual (not in lossy)."""

    id, name = 1, "san"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        if san is None or plan.spec is None or (plan.mode != "lossy" and plan.predictor in ("auto", "raw", "fast")):
            return []
        delta = float(np.float32(san.sigma * plan.step))
        gaps, amps, acts = [], [], []
        for k in range(plan.spec.q):
            pos = np.flatnonzero(san.alpha[k])
            aq = np.rint(san.alpha[k, pos] / plan.step).astype(np.int64)
            keep = aq > 0
            pos, aq = pos[keep], aq[keep]
            acts.append((pos, aq))
            gaps.append(np.diff(pos, prepend=-1) - 1)
            amps.append(aq - 1)
        side = encode_arrays(gaps + amps, [False] * (2 * plan.spec.q))
        head = ByteWriter()
        head.varint(self.id)
        head.svarint(san.offset)
        head.raw(np.float32(delta).tobytes())
        for pos, _ in acts:
            head.varint(len(pos))
        head.varint(len(side))
        head.raw(side)
        if plan.mode == "lossy":
            return [Candidate(0.0, head.getvalue(), None)]
        pred = self.prediction(san.offset, delta, len(x), plan, acts)
        res = best_residual(near_lossless(x - pred, plan.qstep), allow_lpc=False)
        return [Candidate(res.cost + 8 * len(side), head.getvalue(), res)]

    @staticmethod
    def prediction(offset: int, delta: float, length: int, plan: FramePlan,
                   acts: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Exact integer prediction: kernels and amplitudes are integers, one rounding at the end."""
        zeros = [np.zeros(len(p), dtype=np.int64) for p, _ in acts]
        acc = scatter_kernels((1, length), plan.wq, zeros, [p for p, _ in acts], [a for _, a in acts])[0]
        return offset + np.rint(acc * delta / KERNEL_SCALE).astype(np.int64)

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        if plan.spec is None:
            raise SanFormatError("frame: uses the SAN path but the file names no model")
        o = r.svarint(MAX_ABS_SAMPLE)
        delta = float(np.frombuffer(r.raw(4), dtype="<f4")[0])
        if not math.isfinite(delta):
            raise SanFormatError("frame: amplitude step is not finite")
        counts = [r.varint(length) for _ in range(plan.spec.q)]
        if plan.budget is not None:
            plan.budget.spend(sum(counts), sum(n * m for n, m in zip(counts, plan.spec.kernel_sizes)))
        side = r.raw(r.varint(r.remaining()))
        arrays = decode_arrays(side, counts + counts, [False] * (2 * plan.spec.q))
        acts = []
        exact_bound = 0.0  # max |acc|: each kernel adds at most max|a| * sum|w| to a sample
        for k, n in enumerate(counts):
            gaps, amps = arrays[k], arrays[plan.spec.q + k]
            if n and (gaps.min() < 0 or amps.min() < 0 or float(gaps.sum()) + n > length):
                raise SanFormatError("frame: activation position or amplitude out of range")
            acts.append((np.cumsum(gaps + 1) - 1, amps + 1))
            if n:
                exact_bound += (float(amps.max()) + 1) * float(np.abs(plan.wq[k]).sum())
        check_magnitude(exact_bound, "the sum of kernels times amplitudes")
        check_magnitude(abs(o) + exact_bound * abs(delta) / KERNEL_SCALE + 1, "the SAN prediction")
        base = self.prediction(o, delta, length, plan, acts)
        if plan.mode == "lossy":
            if r.remaining():
                raise SanFormatError("frame: unexpected trailing bytes")
            return ChannelFrame(base, sum(counts))
        return _finish(r, base, sum(counts), plan.qstep, None, plan, self.name)


@register_coding
class RawCoding(FrameCoding):
    """Path 0: the residual coder on the samples themselves, on their value grid (the gcd of
    all differences) when lossless, or quantised by 2E + 1 when near-lossless."""

    id, name = 0, "raw"

    def candidates(self, x: np.ndarray, san: SanInput | None, plan: FramePlan) -> list[Candidate]:
        if plan.mode == "lossy":
            return []
        x0 = int(x[0])
        found = []
        if plan.max_error:  # quantised by 2E + 1; no LPC (its open-loop residual would not bound the error)
            found.append(self.on_grid(x0, plan.qstep, best_residual(near_lossless(x - x0, plan.qstep), False)))
        # Exact, on the samples' own grid: lossless frames, and near-lossless ones where it is cheaper
        # (a grid coarser than 2E + 1, a signal LPC predicts well): never larger than lossless.
        g = value_grid(x, x0) if len(x) > 1 else 0
        grid = g if g > 1 else 1
        exact = self.on_grid(x0, grid, best_residual((x - x0) // grid, allow_lpc=True))
        return found + [Candidate(exact.cost, exact.head, exact.residual, exact=True)]

    def on_grid(self, x0: int, grid: int, res: Residual) -> Candidate:
        """The raw frame whose samples decode to ``x0 + grid * (res restored)``."""
        head = ByteWriter()
        head.varint(self.id)
        head.svarint(x0)
        head.varint(grid)
        return Candidate(res.cost, head.getvalue(), res)

    def decode(self, r: ByteReader, length: int, plan: FramePlan) -> ChannelFrame:
        x0 = r.svarint(MAX_ABS_SAMPLE)
        step = r.varint(MAX_ABS_SAMPLE)
        if step < 1:
            raise SanFormatError("frame: grid step must be >= 1")
        base = np.int64(x0)  # a constant base, broadcast (where a frame's base is an array)
        return _finish(r, base, 0, step, None, plan, self.name, length)  # type: ignore[arg-type]


def plain_coding(x: np.ndarray) -> bytes:
    """Path 0 of the integers ``x`` from a base of 0 on their own grid, its residual their multiples of it as they
    are (no prediction, no stage): a payload the decoder takes for any samples within ``MAX_ABS_SAMPLE`` (each
    value and every sum it forms are theirs), where a prediction from a first sample or a difference of samples
    near 2^53 apart passes that bound (``pipeline.FrameEncoder``'s way out, where a lossless frame's coding fails
    its decode)."""
    g = value_grid(x, 0) if len(x) else 0
    grid = g if g > 1 else 1
    return RawCoding().on_grid(0, grid, Residual(0, x // grid, 0.0)).payload()


#: Paths 2 and 6 (``codec/valuetable.py``): ranks in a table of the frame's distinct values.
VALUE_TABLE_ID = 2

#: Path 4 (``codec/constant.py``): one repeated value, tried before everything else.
CONSTANT_ID = 4
# Encoder preference on equal estimates: SAN, then raw, then the value table (the order above).
_ENCODE_ORDER = (SanCoding.id, RawCoding.id, VALUE_TABLE_ID)


def encode_channel_frame(x: np.ndarray, san: SanInput | None, plan: FramePlan) -> Candidate:
    """The cheapest registered coding of one channel-frame (``predictor="san"`` forces the SAN path)."""
    if plan.predictor == "san":
        forced = _REGISTRY[SanCoding.id].candidates(x, san, plan)
        if forced:
            return forced[0]
    constant = _REGISTRY[CONSTANT_ID].candidates(x, san, plan) if CONSTANT_ID in _REGISTRY else []
    if constant:  # nothing codes one repeated value in fewer bytes
        return constant[0]
    order = list(_ENCODE_ORDER) + [i for i in _REGISTRY if i not in _ENCODE_ORDER]
    found = [c for i in order for c in _REGISTRY[i].candidates(x, san, plan)]
    best = min(found, key=lambda c: c.cost)
    exact = [c for c in found if c.exact]
    if plan.max_error and exact and not best.exact:  # near-lossless: never more bytes than exact coding
        fallback = min(exact, key=lambda c: c.cost)
        if len(fallback.payload()) < len(best.payload()):
            return fallback
    if plan.mode != "lossy" and best.residual is not None:  # on the winner only
        return replace(best, residual=residual_stages(plan)(best.residual))
    return best


def residual_stages(plan: FramePlan) -> Callable[[Residual], Residual]:
    """What an exact residual goes through after its predictor under ``plan``: the adaptive stages, or with
    ``predictor="fast"`` none of the sequential ones (running contexts without their MSB mode)."""
    return partial(with_running_contexts, msb=False) if plan.predictor == "fast" else with_adaptive_stages


#: The exact codings a lossy file may hold (format 1.6): a channel the lossy encoder coded in the time
#: domain (its samples, or their rounding to a coarser grid, see ``codec.timedomain``), read as a
#: lossless file reads them. Paths 0 raw, 2 value table, 4 constant, 6 stepped value table.
EXACT_IN_LOSSY = (0, 2, 4, 6)
#: What path 5 may nest in a lossy file: an exact coding (format 1.6), or a wavelet frame (path 3, format 1.10)
#: of the difference from the decoded channels it refers to (``codec.lossycross``: derived ECG leads).
LOSSY_DIFFERENCES = (*EXACT_IN_LOSSY, 3)


def decode_channel_frame(data: bytes, length: int, plan: FramePlan) -> ChannelFrame:
    """One channel in one frame (its LPC synthesis possibly pending, see :func:`resolve_lpc`)."""
    r = ByteReader(data, "frame")
    path = r.varint(max(_REGISTRY))
    if plan.mode == "lossy" and path in EXACT_IN_LOSSY:
        plan = replace(plan, mode="lossless", max_error=0)  # the same work budget: replace keeps the object
    return get_coding(path).decode(r, length, plan)


def resolve_lpc(parts: Sequence[ChannelFrame]) -> None:
    """Run the pending LPC syntheses of ``parts`` in one batch."""
    pending = [(p, p.lpc) for p in parts if p.lpc is not None]
    for (part, _), u in zip(pending, synthesize([lpc for _, lpc in pending])):
        part.u, part.lpc = u, None
