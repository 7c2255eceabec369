"""Torch-free SAN inference: onnxruntime sessions for the graphs, numpy for the sparse selection.

``SanRuntime`` loads an exported ``encoder.onnx`` / ``decoder.onnx`` pair (from
``sancodec export``, or the bundled default model's), chooses providers
automatically (CUDA when onnxruntime-gpu sees a GPU, else CPU), logs which, and
reuses its sessions for every frame. Models given only as a ``SanSpec`` get
their graphs built in memory when the ``onnx`` package is present; without it
(or without onnxruntime) the same maps are computed by a numpy FFT engine, so
encoding always works. Nothing here imports torch.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sancodec.errors import ModelFileError, SanConfigError
from sancodec.san.sparse import apply_activation_np
from sancodec.san.spec import SanSpec, activation_groups, aligned_kernels, same_padding

__all__ = ["NumpyEngine", "SanRuntime", "engine_for"]

log = logging.getLogger("sancodec")


def _providers(choice: str | list[str]) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if choice == "auto":
        wanted = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    elif choice == "cpu":
        wanted = ["CPUExecutionProvider"]
    elif choice == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise SanConfigError("CUDA was requested but onnxruntime has no CUDA provider (install sancodec[gpu])")
        wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    else:
        wanted = list(choice)
    return wanted


class _Selector:
    """Applies each kernel's sparse activation to dense maps (numpy)."""

    def __init__(self, activations: tuple[str, ...], kernel_sizes: tuple[int, ...]) -> None:
        self.groups = activation_groups(activations)
        self.sizes = kernel_sizes

    def __call__(self, s: np.ndarray) -> np.ndarray:
        if len(self.groups) == 1:
            (name,) = self.groups
            return apply_activation_np(name, s, self.sizes)
        out = np.zeros_like(s)
        for name, idx in self.groups.items():
            out[:, idx] = apply_activation_np(name, s[:, idx], [self.sizes[i] for i in idx])
        return out


class SanRuntime:
    """onnxruntime sessions for one model: ``similarity``, ``encode`` and ``decode`` on numpy arrays."""

    def __init__(
        self,
        encoder: str | os.PathLike[str] | bytes,
        decoder: str | os.PathLike[str] | bytes,
        *,
        providers: str | list[str] = "auto",
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise SanConfigError("onnxruntime is not installed (pip install sancodec[cpu] or sancodec[gpu])") from None
        options = ort.SessionOptions()
        # Two sessions (encoder, decoder) own two thread pools; spinning threads of one
        # would take the cores from the other (measured: encode+decode 47 ms -> 25 ms).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        wanted = _providers(providers)
        try:
            self._enc = ort.InferenceSession(_source(encoder), options, providers=wanted)
            self._dec = ort.InferenceSession(_source(decoder), options, providers=wanted)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph classes
            raise ModelFileError(f"cannot load the ONNX graphs ({type(exc).__name__}: {exc})") from None
        meta = self._enc.get_modelmeta().custom_metadata_map
        try:
            self.dim = int(meta["dim"])
            self.activations = tuple(json.loads(meta["activations"]))
            self.kernel_sizes = tuple(int(m) for m in json.loads(meta["kernel_sizes"]))
            self.model_sha256 = meta["model_sha256"]
        except (KeyError, ValueError) as exc:
            raise ModelFileError(f"the encoder graph lacks sancodec metadata ({exc})") from None
        self.providers = self._enc.get_providers()
        self.dtype = np.float16 if meta.get("precision") == "float16" else np.float32
        self._select = _Selector(self.activations, self.kernel_sizes)
        sparse_ok = self.dim == 1 and self.dtype == np.float32
        self._kernels = _graph_kernels(self._dec, self.kernel_sizes) if sparse_ok else []
        log.info("onnxruntime providers: %s", ", ".join(self.providers))

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, fp16: bool = False, **kwargs: Any) -> SanRuntime:
        """Load ``encoder.onnx`` and ``decoder.onnx`` (or the ``_fp16`` pair) written by ``export_model``."""
        p = Path(path)
        suffix = "_fp16" if fp16 else ""
        enc, dec = p / f"encoder{suffix}.onnx", p / f"decoder{suffix}.onnx"
        for f in (enc, dec):
            if not f.is_file():
                raise ModelFileError(f"{f}: missing (export the model with `sancodec export MODEL {p}`)")
        return cls(enc, dec, **kwargs)

    @classmethod
    def from_spec(cls, spec: SanSpec, **kwargs: Any) -> SanRuntime:
        """Build the graphs in memory (needs the ``onnx`` package) and open sessions on them."""
        from sancodec.export.onnx import build_decoder, build_encoder

        return cls(build_encoder(spec).SerializeToString(), build_decoder(spec).SerializeToString(), **kwargs)

    def similarity(self, x: np.ndarray) -> np.ndarray:
        """ReLU similarity maps ``(batch, q, n…)`` of a batch ``(batch, n…)``."""
        (s,) = self._enc.run(None, {"x": np.ascontiguousarray(x, dtype=self.dtype)})
        return s.astype(np.float32)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Sparse activations ``alpha``: the graph's maps, then the exact numpy selection."""
        return self._select(self.similarity(x))

    def decode(self, alpha: np.ndarray) -> np.ndarray:
        """Reconstruction ``x_hat (batch, n…)`` from activations.

        Very sparse 1-D activations with long kernels are placed by a scatter-add, O(A·m),
        when that beats the graph's dense O(n·q·m) convolution (see ``_scatter_is_cheaper``);
        the two agree to float32 rounding (tested).
        """
        alpha = np.asarray(alpha)
        if self.dim == 1 and self.dtype == np.float32 and _scatter_is_cheaper(alpha, self.kernel_sizes):
            return _scatter_decode(alpha, self._kernels)
        (x_hat,) = self._dec.run(None, {"alpha": np.ascontiguousarray(alpha, dtype=self.dtype)})
        return x_hat.astype(np.float32)


#: Measured cost of one scatter tap over one dense multiply-add of onnxruntime's Conv on
#: 2 CPU cores (14–18 ns against 0.09–0.10 ns, q = 2, m = 20 and 200, mitdb 100).
SCATTER_TAP_COST = 200


def _scatter_is_cheaper(alpha: np.ndarray, sizes: tuple[int, ...]) -> bool:
    """Scatter costs Σ_k nnz_k·m_k taps, the graph n·q·max(m) multiply-adds per example."""
    nnz = np.count_nonzero(alpha.reshape(-1, alpha.shape[1], alpha.shape[-1]), axis=(0, 2))
    taps = float(np.dot(nnz, sizes))
    return SCATTER_TAP_COST * taps < float(alpha.size) * max(sizes)


def _graph_kernels(decoder: Any, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Each kernel of its own size, read back by probing the decoder graph with unit spikes."""
    big = max(sizes)
    n = 2 * big + 1
    probe = np.zeros((len(sizes), len(sizes), n), dtype=np.float32)
    for i in range(len(sizes)):
        probe[i, i, big] = 1.0
    (resp,) = decoder.run(None, {"alpha": probe})
    out = []
    for i, m in enumerate(sizes):
        start = big - same_padding(m)[0]
        out.append(resp[i, start : start + m].astype(np.float32))
    return out


def _scatter_decode(alpha: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
    """x_hat = Σ_k Σ_t alpha[k, t] w_k placed by the convention: one bincount over every
    (activation, kernel tap) pair, O(A·m) work instead of the dense O(n·m) convolution."""
    batch, _, n = alpha.shape
    flat = np.zeros(batch * n, dtype=np.float64)
    for k, w in enumerate(kernels):
        b, t = np.nonzero(alpha[:, k])
        if t.size == 0:
            continue
        taps = np.arange(len(w)) - same_padding(len(w))[0]
        idx = t[:, None] + taps[None, :]
        ok = (idx >= 0) & (idx < n)
        weights = alpha[b, k, t].astype(np.float64)[:, None] * w.astype(np.float64)[None, :]
        flat += np.bincount((b[:, None] * n + idx)[ok], weights=weights[ok], minlength=batch * n)
    return flat.reshape(batch, n).astype(np.float32)


def _source(value: str | os.PathLike[str] | bytes) -> str | bytes:
    return value if isinstance(value, bytes) else str(value)


class NumpyEngine:
    """The same encoder and decoder in plain numpy (FFT convolution) when no ONNX graph is usable."""

    providers = ("numpy",)

    def __init__(self, spec: SanSpec) -> None:
        if spec.dim != 1:
            raise SanConfigError("the numpy engine runs 1-D models only")
        self.weight = aligned_kernels(spec.kernels, 1).astype(np.float64)  # (q, M)
        self.pad = same_padding(self.weight.shape[-1])
        self._select = _Selector(spec.activations, spec.kernel_sizes)

    def similarity(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[-1]
        big = self.weight.shape[-1]
        xp = np.pad(x, [(0, 0), self.pad])
        size = 1 << int(np.ceil(np.log2(xp.shape[-1] + big)))
        spec_x = np.fft.rfft(xp, size)[:, None, :]
        spec_w = np.fft.rfft(self.weight[:, ::-1], size)[None]
        full = np.fft.irfft(spec_x * spec_w, size)
        return np.maximum(full[..., big - 1 : big - 1 + n], 0).astype(np.float32)

    def encode(self, x: np.ndarray) -> np.ndarray:
        return self._select(self.similarity(x))


@lru_cache(maxsize=8)
def _cached_engine(sha: str, spec_json: str) -> SanRuntime | NumpyEngine:
    spec = SanSpec.from_dict(json.loads(spec_json))
    shipped = resources.files("sancodec") / "data" / "models" / "default"
    try:
        meta = json.loads((shipped / "manifest.json").read_text()) if (shipped / "manifest.json").is_file() else {}
        if meta.get("model_sha256") == sha:
            with resources.as_file(shipped) as folder:
                return SanRuntime.from_dir(folder)
        return SanRuntime.from_spec(spec)
    except (ImportError, SanConfigError) as exc:
        log.info("using the numpy engine (%s)", exc)
        return NumpyEngine(spec)


def engine_for(spec: SanSpec) -> SanRuntime | NumpyEngine:
    """A cached inference engine for ``spec``: shipped ONNX, in-memory ONNX, or numpy."""
    return _cached_engine(spec.sha256(), spec.to_json())
