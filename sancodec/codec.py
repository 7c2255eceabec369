"""The codec: ``Signal`` + SAN model -> ``.san`` bytes, and back.

Per frame (``frame_len`` samples, all channels) and channel:

* **SAN path** — the frame is normalised (integer offset ``o``, scale ``σ``),
  the SAN encodes it, and each kernel's activations are kept as position gaps
  and amplitudes quantised to ``a_q = rint(a / step)`` (``step`` relative to σ,
  declared in the header). The decoder rebuilds the prediction with integer
  arithmetic only: kernels quantised to ``w_q = rint(w * 4096)``, the exact
  integer sum ``acc = Σ a_q w_q`` placed by the model's convention, then
  ``pred = o + rint(acc * Δ / 4096)`` with ``Δ = σ * step`` stored as float32.
  Every operation is exact or a single correctly rounded IEEE operation, so
  the prediction is bit-identical on every platform.
* **Residual** (near-lossless and lossless) — ``r = x - pred`` is quantised
  for near-lossless (``rint``-free: ``sign(r) * ((|r| + E) // (2E + 1))``, so
  ``|x - x̂| <= E``), passed through a fixed polynomial predictor of order
  0–2 chosen per frame, and entropy-coded with block-envelope contexts.
* **Raw path** (near-lossless and lossless) — the same residual coder applied
  to the signal itself (with a value-grid step when all differences share a
  divisor). Per frame and channel the encoder keeps whichever path is cheaper,
  so the SAN is used exactly where it pays; the report says how often.

``lossy`` keeps the SAN path only (the paper's representation). Errors are in
the samples' own units: digital (ADC) units for WFDB sources. Float sources
(.npy/CSV) are first quantised to a grid of ``2 * max_error`` (near-lossless)
or ``std / 1024`` (lossy); lossless needs integer samples.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from sancodec._atomic import write_bytes_atomic
from sancodec.container import SanReader, write_container
from sancodec.entropy import ByteReader, ByteWriter, decode_arrays, encode_arrays
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.lpc import LpcFilter, analyse, residual, synthesize
from sancodec.signal import Annotations, Signal
from sancodec.spec import SanSpec

__all__ = ["MODES", "DecodedFile", "decode", "decode_file", "encode", "encode_to_file", "read_info"]

MODES = ("lossy", "near-lossless", "lossless")
KERNEL_SCALE = 4096
DEFAULT_FRAME = 1 << 15
DEFAULT_STEP = 0.02
PATH_RAW, PATH_SAN, PATH_ALPHABET = 0, 1, 2
MAX_ORDER = 3
SMALL_FRAME = 8192  # below this the plain (context-free) residual coding is tried too
_FMT_RANGE = {"8": 8, "80": 8, "508": 8, "16": 16, "61": 16, "160": 16, "516": 16, "212": 12,
              "310": 10, "311": 10, "24": 24, "524": 24, "32": 32}


# ------------------------------------------------------------ SAN inference
def _san_activations(spec: SanSpec, frames: np.ndarray) -> np.ndarray:
    """Sparse activations (batch, q, L) of normalised frames (batch, L), without torch:
    onnxruntime on the exported graphs (numpy FFT when unavailable) + numpy selection."""
    from sancodec.runtime import engine_for

    return engine_for(spec).encode(np.ascontiguousarray(frames, dtype=np.float32))


def _quantized_kernels(spec: SanSpec) -> list[np.ndarray]:
    return [np.rint(k.astype(np.float64) * KERNEL_SCALE).astype(np.int64) for k in spec.kernels]


def _place(length: int, spec_sizes: Sequence[int], wq: list[np.ndarray],
           acts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Exact integer sum of quantised kernels at their activations, as float64 (integer-valued)."""
    acc = np.zeros(length, dtype=np.float64)
    for m, w, (pos, amp) in zip(spec_sizes, wq, acts):
        if pos.size == 0:
            continue
        before = (m - 1) // 2
        for j in range(m):
            idx = pos + (j - before)
            ok = (idx >= 0) & (idx < length)
            acc[idx[ok]] += amp[ok] * float(w[j])  # positions are unique per kernel: no collisions
    return acc


def _prediction(offset: int, delta: float, acc: np.ndarray) -> np.ndarray:
    return offset + np.rint(acc * delta / KERNEL_SCALE).astype(np.int64)


# ----------------------------------------------------------- residual stage
def _poly(u: np.ndarray, order: int) -> np.ndarray:
    e = u
    for _ in range(order):
        e = np.concatenate([e[:1], np.diff(e)])
    return e


def _unpoly(e: np.ndarray, order: int) -> np.ndarray:
    u = e
    for _ in range(order):
        u = np.cumsum(u)
    return u


def _cost(e: np.ndarray) -> float:
    """Cheap bit estimate: order-0 entropy of magnitude classes + raw bits."""
    mag = np.abs(e)
    bl = np.frexp(mag.astype(np.float64))[1].astype(np.int64)  # bit length; 0 for 0
    nz = mag > 0
    counts = np.bincount(bl)
    p = counts[counts > 0] / len(e)
    return float(-(counts[counts > 0] * np.log2(p)).sum() + np.maximum(bl - 1, 0).sum() + nz.sum())


@dataclass(frozen=True)
class _Residual:
    """How the residual stage maps ``u`` to the coded ``e``: a polynomial order or an LPC filter."""

    order: int
    e: np.ndarray
    cost: float
    lpc: LpcFilter | None = None


LPC_GAIN = 0.98  # LPC must beat the polynomial estimate by 2 %: its decode is a (batched) recursion


def _best_residual(u: np.ndarray, allow_lpc: bool) -> _Residual:
    """The cheapest residual by the bit estimate; LPC only where decoding is exact (lossless)."""
    best = None
    for order in range(MAX_ORDER + 1):
        e = _poly(u, order)
        c = _cost(e)
        if best is None or c < best.cost:
            best = _Residual(order, e, c)
    assert best is not None
    found = analyse(u) if allow_lpc else None
    # Skip the LPC residual unless the predicted RMS undercuts the polynomial residual's.
    if found is not None and found[1] < 0.9 * float(np.sqrt(np.mean(best.e.astype(np.float64) ** 2))):
        f = found[0]
        e = residual(u, f)
        c = _cost(e) + 16 * f.order
        if c < LPC_GAIN * best.cost:
            best = _Residual(0, e, c / LPC_GAIN, f)
    return best


def _residual_block(res: _Residual) -> bytes:
    """``coding varint`` (order | plain << 2 | lpc << 3), the LPC filter if any, and the
    entropy-coded residual, the smaller of the plain and contextual variants."""
    best = None
    for plain in ((False, True) if len(res.e) < SMALL_FRAME else (False,)):
        w = ByteWriter()
        w.varint(res.order | (int(plain) << 2) | (int(res.lpc is not None) << 3))
        if res.lpc is not None:
            res.lpc.write(w)
        w.raw(encode_arrays([res.e], [not plain]))
        if best is None or len(w.getvalue()) < len(best):
            best = w.getvalue()
    assert best is not None
    return best


def _near_lossless(r: np.ndarray, step: int) -> np.ndarray:
    if step == 1:
        return r
    half = (step - 1) // 2
    return np.sign(r) * ((np.abs(r) + half) // step)


# --------------------------------------------------------------- frames
@dataclass
class _Plan:
    mode: str
    max_error: int
    step: float
    spec: SanSpec | None  # None: the file uses no SAN frame and names no model
    wq: list[np.ndarray]
    predictor: str = "auto"


def _encode_channel_frame(x: np.ndarray, alpha: np.ndarray | None, o: int, sigma: float, plan: _Plan) -> bytes:
    qstep = 2 * plan.max_error + 1
    candidates = []
    if alpha is not None and plan.predictor != "raw":
        delta = float(np.float32(sigma * plan.step))
        gaps, amps, acts = [], [], []
        for k in range(plan.spec.q):
            pos = np.flatnonzero(alpha[k])
            aq = np.rint(alpha[k, pos] / plan.step).astype(np.int64)
            keep = aq > 0
            pos, aq = pos[keep], aq[keep]
            acts.append((pos, aq))
            gaps.append(np.diff(pos, prepend=-1) - 1)
            amps.append(aq - 1)
        side = encode_arrays(gaps + amps, [False] * (2 * plan.spec.q))
        head = ByteWriter()
        head.varint(PATH_SAN)
        head.svarint(o)
        head.raw(np.float32(delta).tobytes())
        for pos, _ in acts:
            head.varint(len(pos))
        head.varint(len(side))
        head.raw(side)
        if plan.mode == "lossy":
            return head.getvalue()
        pred = _prediction(o, delta, _place(len(x), plan.spec.kernel_sizes, plan.wq, acts))
        res = _best_residual(_near_lossless(x - pred, qstep), allow_lpc=False)
        candidates.append((res.cost + 8 * len(side), head, res))
    if plan.predictor == "san" and candidates:
        _, head, res = candidates[0]
        return head.getvalue() + _residual_block(res)
    x0 = int(x[0])
    grid = qstep
    if plan.max_error == 0:
        g = int(np.gcd.reduce(np.abs(x - x0))) if len(x) > 1 else 0
        grid = g if g > 1 else 1
    u = (x - x0) // grid if plan.max_error == 0 else _near_lossless(x - x0, qstep)
    res = _best_residual(u, allow_lpc=plan.max_error == 0)
    head = ByteWriter()
    head.varint(PATH_RAW)
    head.svarint(x0)
    head.varint(grid)
    candidates.append((res.cost, head, res))
    if plan.max_error == 0:
        candidates += _alphabet_candidate(x, grid)
    _, head, res = min(candidates, key=lambda c: c[0])
    return head.getvalue() + _residual_block(res)


def _alphabet_candidate(x: np.ndarray, grid: int) -> list[tuple[float, ByteWriter, _Residual]]:
    """Lossless path 2: code each sample's rank in the frame's sorted table of distinct values.

    Pays where values sit on a non-integer grid or a sparse alphabet (EMG stored in steps of
    50/3 units, quantised vital signs): the gcd grid cannot see those, a rank table can.
    Tried only when the alphabet is at most half as dense as the grid allows."""
    table, ranks = np.unique(x, return_inverse=True)
    span = int(table[-1] - table[0]) // grid + 1
    if len(table) < 2 or 2 * len(table) > span:
        return []
    side = encode_arrays([np.concatenate([table[:1], np.diff(table) - 1])], [False])
    res = _best_residual(ranks.reshape(-1).astype(np.int64), allow_lpc=True)
    head = ByteWriter()
    head.varint(PATH_ALPHABET)
    head.varint(len(table))
    head.varint(len(side))
    head.raw(side)
    return [(res.cost + 8 * len(side), head, res)]


@dataclass
class _ChannelFrame:
    """One channel of one decoded frame: samples = ``base + u * step``. ``u`` is None while an
    LPC synthesis (``lpc``: residual and filter) is pending, so a file's LPC frames run as one batch."""

    base: np.ndarray
    activations: int
    step: int = 0
    u: np.ndarray | None = None
    lpc: tuple[np.ndarray, LpcFilter] | None = None
    table: np.ndarray | None = None  # path 2: samples = table[u]
    path: str = "san"

    def samples(self) -> np.ndarray:
        if self.u is None:
            if self.lpc is not None:
                raise AssertionError("LPC synthesis still pending")
            return self.base
        if self.table is not None:
            if len(self.u) and (self.u.min() < 0 or self.u.max() >= len(self.table)):
                raise SanFormatError("frame: value rank outside the frame's value table")
            return self.table[self.u]
        return self.base + self.u * self.step


def _resolve_lpc(parts: Sequence[_ChannelFrame]) -> None:
    """Run the pending LPC syntheses of ``parts`` in one batch."""
    pending = [p for p in parts if p.lpc is not None]
    for part, u in zip(pending, synthesize([p.lpc for p in pending])):
        part.u, part.lpc = u, None


def _decode_channel_frame(data: bytes, length: int, plan: _Plan) -> _ChannelFrame:
    """One channel in one frame (its LPC synthesis possibly pending, see :func:`_resolve_lpc`)."""
    r = ByteReader(data, "frame")
    path = r.varint(PATH_ALPHABET)
    qstep = 2 * plan.max_error + 1
    n_act = 0
    table = None
    if path == PATH_SAN:
        if plan.spec is None:
            raise SanFormatError("frame: uses the SAN path but the file names no model")
        o = r.svarint()
        delta = float(np.frombuffer(r.raw(4), dtype="<f4")[0])
        if not math.isfinite(delta):
            raise SanFormatError("frame: amplitude step is not finite")
        counts = [r.varint(length) for _ in range(plan.spec.q)]
        side = r.raw(r.varint(r.remaining()))
        arrays = decode_arrays(side, counts + counts, [False] * (2 * plan.spec.q))
        acts = []
        for k, n in enumerate(counts):
            pos = np.cumsum(arrays[k] + 1) - 1
            if n and (pos[-1] >= length or arrays[k].min() < 0):
                raise SanFormatError("frame: activation position out of range")
            acts.append((pos, arrays[plan.spec.q + k] + 1))
            n_act += n
        base = _prediction(o, delta, _place(length, plan.spec.kernel_sizes, plan.wq, acts))
        if plan.mode == "lossy":
            if r.remaining():
                raise SanFormatError("frame: unexpected trailing bytes")
            return _ChannelFrame(base, n_act)
        step = qstep
    elif path == PATH_RAW:
        if plan.mode == "lossy":
            raise SanFormatError("frame: a lossy file cannot hold a raw frame")
        x0 = r.svarint()
        step = r.varint(1 << 40)
        if step < 1:
            raise SanFormatError("frame: grid step must be >= 1")
        base = np.full(length, x0, dtype=np.int64)
    elif path == PATH_ALPHABET:
        if plan.max_error or plan.mode != "lossless":
            raise SanFormatError("frame: a value-table frame needs a lossless file")
        size = r.varint(length)
        if size < 1:
            raise SanFormatError("frame: empty value table")
        (d,) = decode_arrays(r.raw(r.varint(r.remaining())), [size], [False])
        if size > 1 and d[1:].min() < 0:
            raise SanFormatError("frame: value table is not increasing")
        table = np.cumsum(np.concatenate([d[:1], d[1:] + 1]))
        base, step = np.zeros(length, dtype=np.int64), 1
    else:
        raise SanFormatError(f"frame: unknown path {path}")
    coding = r.varint(MAX_ORDER | 4 | 8)
    order, plain, uses_lpc = coding & 3, bool(coding & 4), bool(coding & 8)
    if uses_lpc and (order or plan.max_error):
        raise SanFormatError("frame: LPC residuals are for lossless frames without a polynomial order")
    flt = LpcFilter.read(r) if uses_lpc else None
    (e,) = decode_arrays(r.raw(r.remaining()), [length], [not plain])
    name = {PATH_SAN: "san", PATH_RAW: "raw", PATH_ALPHABET: "table"}[path]
    if flt is not None:
        return _ChannelFrame(base, n_act, step, lpc=(e, flt), table=table, path=name)
    return _ChannelFrame(base, n_act, step, _unpoly(e, order), table=table, path=name)


# ------------------------------------------------------------ annotations
def _pack_annotations(anns: Sequence[Annotations]) -> list[dict[str, Any]]:
    """Annotations as small JSON objects: string tables plus entropy-coded integer columns."""
    packed = []
    for a in anns:
        symbols = sorted(set(a.symbol))
        notes = sorted(set(a.aux_note))
        sym_idx = np.array([symbols.index(v) for v in a.symbol], dtype=np.int64)
        note_idx = np.array([notes.index(v) for v in a.aux_note], dtype=np.int64)
        columns = [np.diff(a.sample, prepend=0), sym_idx, a.subtype, a.chan, a.num, note_idx]
        blob = encode_arrays(columns, [False] * len(columns))
        packed.append({"extension": a.extension, "count": len(a), "symbols": symbols, "notes": notes,
                       "data": base64.b64encode(blob).decode("ascii")})
    return packed


def _unpack_annotations(packed: Any, n_samples: int) -> list[dict[str, Any]]:
    if not isinstance(packed, list):
        raise SanFormatError("invalid annotations entry in header")
    out = []
    for item in packed:
        try:
            count = int(item["count"])
            symbols, notes = list(item["symbols"]), list(item["notes"])
            blob = base64.b64decode(item["data"], validate=True)
            extension = str(item["extension"])
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise SanFormatError(f"invalid annotations entry in header ({exc})") from None
        if not 0 <= count <= 8 * len(blob) + 1:
            raise SanFormatError(f"annotation count {count} does not fit its data")
        cols = decode_arrays(blob, [count] * 6, [False] * 6)
        sample = np.cumsum(cols[0])
        for idx, table in ((cols[1], symbols), (cols[5], notes)):
            if count and (idx.min() < 0 or idx.max() >= len(table)):
                raise SanFormatError("annotation refers to a missing symbol or note")
        out.append(Annotations(extension, sample, [str(symbols[i]) for i in cols[1]], cols[2], cols[3], cols[4],
                               [str(notes[i]) for i in cols[5]]).to_dict())
    return out


# ---------------------------------------------------------------- public API
def _resolve_model(model: SanSpec | str | os.PathLike[str] | None) -> SanSpec:
    if isinstance(model, SanSpec):
        spec = model
    elif model is None:
        from sancodec.models import default_model

        spec = default_model()
    else:
        from sancodec.spec import load_model

        spec = load_model(model)
    if spec.dim != 1:
        raise SanConfigError("the codec encodes 1-D signals; this model is 2-D")
    return spec


def _digitize(signal: Signal, mode: str, max_error: float | None) -> tuple[np.ndarray, list[float] | None, int]:
    """Integer samples to code, the quantum per channel for float sources, the integer max error."""
    if signal.is_digital:
        e = 0 if max_error is None else max_error
        if mode == "near-lossless" and (e != int(e)):
            raise SanConfigError(f"--max-error must be a whole number of digital units for this record, got {e}")
        return signal.samples.astype(np.int64), None, int(e)
    x = signal.samples.astype(np.float64)
    if mode == "lossless":
        raise SanConfigError("lossless mode needs integer samples; this signal is floating point "
                             "(use near-lossless with --max-error in its units)")
    if mode == "near-lossless":
        assert max_error is not None
        quantum = [2.0 * float(max_error)] * signal.n_channels
    else:
        std = x.std(axis=0)
        quantum = [float(s / 1024) if s > 0 else 1.0 for s in std]
    q = np.asarray(quantum)
    return np.rint(x / q).astype(np.int64), quantum, 0


def encode_to_file(
    out: BinaryIO,
    signal: Signal,
    model: SanSpec | str | os.PathLike[str] | None = None,
    mode: str = "lossy",
    max_error: float | None = None,
    *,
    frame_len: int = DEFAULT_FRAME,
    amplitude_step: float = DEFAULT_STEP,
    embed_model: bool = True,
    predictor: str = "auto",
) -> int:
    """Encode ``signal`` into the file object ``out``; returns bytes written.

    ``predictor`` (near-lossless and lossless): ``auto`` keeps the cheaper of the SAN
    and raw paths per frame and channel; ``san`` or ``raw`` force one (for measurement).
    """
    if predictor not in ("auto", "san", "raw") or (mode == "lossy" and predictor == "raw"):
        raise SanConfigError(f"predictor must be auto, san or raw (not raw for lossy), got {predictor!r}")
    if mode not in MODES:
        raise SanConfigError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "near-lossless":
        if max_error is None or not (max_error >= 0) or not math.isfinite(max_error):
            raise SanConfigError(f"near-lossless needs --max-error >= 0, got {max_error!r}")
    elif max_error is not None:
        raise SanConfigError(f"--max-error only applies to near-lossless mode, not {mode}")
    if not (amplitude_step > 0 and math.isfinite(amplitude_step)):
        raise SanConfigError(f"amplitude step must be positive, got {amplitude_step!r}")
    if not 16 <= frame_len <= (1 << 24):
        raise SanConfigError(f"frame length must be in 16..16777216, got {frame_len}")
    spec = _resolve_model(model)
    signal.check_frames("encode")
    # Multi-frequency: frames hold whole WFDB frames, and each channel is coded at its own rate.
    m = signal.frame_size
    frame_len = max(frame_len - frame_len % m, -(-16 // m) * m)
    steps = signal.sample_steps()
    digital, quantum, emax = _digitize(signal, mode, max_error)
    plan = _Plan(mode, emax, amplitude_step, spec, _quantized_kernels(spec), predictor)
    n, c = digital.shape
    starts = list(range(0, n, frame_len))
    payloads: list[bytes] = [b""] * len(starts)
    chunks: list[list[bytes]] = [[] for _ in starts]
    for ch in range(c):
        x = digital[:, ch]
        frames = [x[s : s + frame_len : steps[ch]] for s in starts]
        offsets = [int(np.rint(f.mean())) for f in frames]
        sigmas = [float(f.std()) or 1.0 for f in frames]
        alphas: list[np.ndarray | None] = [None] * len(frames)
        for size in sorted({len(f) for f in frames}) if predictor != "raw" else []:
            which = [i for i, f in enumerate(frames) if len(f) == size]
            batch = np.stack([(frames[i] - offsets[i]) / sigmas[i] for i in which])
            for i, a in zip(which, _san_activations(spec, batch)):
                alphas[i] = a
        for i, f in enumerate(frames):
            chunks[i].append(_encode_channel_frame(f, alphas[i], offsets[i], sigmas[i], plan))
    uses_model = any(part[0] == PATH_SAN for parts in chunks for part in parts)
    for i, parts in enumerate(chunks):
        w = ByteWriter()
        for part in parts:
            w.varint(len(part))
            w.raw(part)
        payloads[i] = w.getvalue()
    header: dict[str, Any] = {
        "format": "sancodec",
        "mode": mode,
        "max_error": emax if quantum is None else max_error,
        "frame_len": frame_len,
        "n_samples": n,
        "n_channels": c,
        "amplitude_step": amplitude_step,
        "kernel_scale": KERNEL_SCALE,
        "quantum": quantum,
        "sample_crc32": [zlib.crc32(digital[:, k].astype("<i8").tobytes()) for k in range(c)]
        if mode == "lossless" else None,
        # A file whose frames never use the SAN path needs no model at all.
        "model": {"sha256": spec.sha256(), "spec": spec.to_dict() if embed_model else None} if uses_model else None,
        "signal": {**signal.header_dict(), "annotations": _pack_annotations(signal.annotations)},
    }
    return write_container(out, header, payloads)


def encode(
    signal: Signal,
    model: SanSpec | str | os.PathLike[str] | None = None,
    mode: str = "lossy",
    max_error: float | None = None,
    **options: Any,
) -> bytes:
    """Encode ``signal`` to ``.san`` bytes. ``model=None`` uses the bundled default model."""
    buf = io.BytesIO()
    encode_to_file(buf, signal, model, mode, max_error, **options)
    return buf.getvalue()


@dataclass
class DecodedFile:
    """A decoded ``.san``: the signal (or the requested range), header and counters."""

    signal: Signal
    header: dict[str, Any]
    start: int
    end: int
    activations: int
    frames_read: int
    # How the channel-frames were coded: counts of paths "san", "raw", "table" and residuals "lpc".
    codings: dict[str, int] = field(default_factory=dict)

    @property
    def lpc_channel_frames(self) -> int:
        return self.codings.get("lpc", 0)


def _header_int(header: dict[str, Any], key: str, low: int, high: int) -> int:
    value = header.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SanFormatError(f"header field {key!r} = {value!r} is invalid")
    return value


def _plan_from_header(header: dict[str, Any], model: SanSpec | None) -> _Plan:
    if header.get("format") != "sancodec":
        raise SanFormatError("header is not a sancodec header")
    mode = header.get("mode")
    if mode not in MODES:
        raise SanFormatError(f"unknown mode {mode!r} in header")
    info = header.get("model")
    if info is None:
        spec = None
    elif not isinstance(info, dict):
        raise SanFormatError("header has an invalid model entry")
    elif info.get("spec") is not None:
        spec = SanSpec.from_dict(info["spec"])
        if spec.sha256() != info.get("sha256"):
            raise SanFormatError("embedded model does not match its SHA-256")
    else:
        from sancodec.models import find_model

        spec = find_model(str(info.get("sha256")), extra=model)
    step = header.get("amplitude_step")
    if not isinstance(step, (int, float)) or not step > 0:
        raise SanFormatError(f"invalid amplitude step {step!r}")
    emax = header.get("max_error")
    if header.get("quantum") is None:
        emax = _header_int(header, "max_error", 0, 1 << 40)
    else:
        emax = 0
    if header.get("kernel_scale") != KERNEL_SCALE:
        raise SanFormatError(f"unsupported kernel scale {header.get('kernel_scale')!r}")
    return _Plan(mode, int(emax), float(step), spec, _quantized_kernels(spec) if spec is not None else [])


def _sample_steps(spf: Any, c: int, n: int, frame_len: int) -> list[int]:
    """Rows per sample of each channel from the header's samples per frame (validated)."""
    if spf is None:
        return [1] * c
    if (not isinstance(spf, list) or len(spf) != c
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1 << 16 for v in spf)):
        raise SanFormatError(f"invalid samples_per_frame {spf!r} in header")
    m = max(spf)
    if any(m % v for v in spf) or n % m or frame_len % m:
        raise SanFormatError(f"samples_per_frame {spf} does not fit {n} samples in frames of {frame_len}")
    return [m // v for v in spf]


def decode_file(
    source: BinaryIO | bytes, start: int | None = None, end: int | None = None, model: SanSpec | None = None
) -> DecodedFile:
    """Decode samples [start, end) reading only the frames that cover them."""
    reader = SanReader(source)
    header = reader.header
    plan = _plan_from_header(header, model)
    n = _header_int(header, "n_samples", 1, 1 << 40)
    c = _header_int(header, "n_channels", 1, 1 << 16)
    frame_len = _header_int(header, "frame_len", 16, 1 << 24)
    if reader.n_frames != -(-n // frame_len):
        raise SanFormatError(f"{reader.n_frames} frames for {n} samples of {frame_len}")
    lo = 0 if start is None else int(start)
    hi = n if end is None else int(end)
    if not 0 <= lo < hi <= n:
        raise SanConfigError(f"sample range [{lo}, {hi}) is outside the record's [0, {n})")
    signal_head = header.get("signal")
    if not isinstance(signal_head, dict):
        raise SanFormatError("header has no signal entry")
    steps = _sample_steps(signal_head.get("samples_per_frame"), c, n, frame_len)
    first, last = lo // frame_len, (hi - 1) // frame_len
    out = np.zeros((hi - lo, c), dtype=np.int64)
    placed: list[tuple[_ChannelFrame, int, int, int, int]] = []
    for fi in range(first, last + 1):
        payload = reader.read_frame(fi)
        f0 = fi * frame_len
        length = min(frame_len, n - f0)
        r = ByteReader(payload, f"frame {fi}")
        a, b = max(lo, f0), min(hi, f0 + length)
        for ch in range(c):
            part = r.raw(r.varint(r.remaining()))
            placed.append((_decode_channel_frame(part, length // steps[ch], plan), ch, a, b, f0))
        if r.remaining():
            raise SanFormatError(f"frame {fi}: unexpected trailing bytes")
    codings = Counter(p[0].path for p in placed) + Counter("lpc" for p in placed if p[0].lpc is not None)
    _resolve_lpc([p[0] for p in placed])
    activations = 0
    for part, ch, a, b, f0 in placed:
        activations += part.activations
        samples = part.samples()
        if steps[ch] > 1:  # a slower channel of a multi-frequency record: hold each sample
            samples = np.repeat(samples, steps[ch])
        out[a - lo : b - lo, ch] = samples[a - f0 : b - f0]
    signal_head = {**signal_head, "annotations": _unpack_annotations(signal_head.get("annotations", []), n)}
    quantum = header.get("quantum")
    if quantum is not None:
        if not isinstance(quantum, list) or len(quantum) != c:
            raise SanFormatError("invalid quantum list in header")
        samples: np.ndarray = out * np.asarray(quantum, dtype=np.float64)
    else:
        samples = _clip_to_format(out, signal_head.get("fmt"))
        crcs = header.get("sample_crc32")
        if crcs is not None and lo == 0 and hi == n:
            for ch in range(c):
                got = zlib.crc32(samples[:, ch].astype("<i8").tobytes())
                if got != crcs[ch]:
                    raise SanFormatError(f"channel {ch}: decoded samples fail the lossless checksum")
    if lo != 0 or hi != n:
        signal_head["annotations"] = [
            Annotations.from_dict(a).slice(lo, hi).to_dict() for a in signal_head.get("annotations", [])
        ]
    signal = Signal.from_header(signal_head, samples)
    return DecodedFile(signal, header, lo, hi, activations, reader.frames_read, dict(codings))


def _clip_to_format(x: np.ndarray, fmts: Any) -> np.ndarray:
    if not isinstance(fmts, list) or len(fmts) != x.shape[1]:
        return x
    out = x.copy()
    for ch, fmt in enumerate(fmts):
        bits = _FMT_RANGE.get(str(fmt))
        if bits is not None:
            out[:, ch] = np.clip(out[:, ch], -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return out


def decode(data: bytes, start: int | None = None, end: int | None = None) -> Signal:
    """Decode ``.san`` bytes (optionally samples [start, end) only) into a :class:`Signal`."""
    return decode_file(data, start, end).signal


def read_info(source: BinaryIO | bytes) -> dict[str, Any]:
    """Header and frame count of a ``.san`` without decoding samples."""
    reader = SanReader(source)
    return {"header": reader.header, "frames": reader.n_frames, "bytes": reader.size, "version": reader.version}


def encode_file(signal: Signal, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Encode to ``path`` atomically (temp file, then rename); returns the file size."""
    data = encode(signal, **kwargs)
    write_bytes_atomic(path, data)
    return len(data)
