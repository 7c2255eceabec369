"""Torch-free SAN inference: onnxruntime sessions for the graphs, numpy for the sparse selection.

``SanRuntime`` loads an exported ``encoder.onnx`` / ``decoder.onnx`` pair (from
``sancodec export``, or the bundled default model's), chooses providers
automatically (CUDA when onnxruntime-gpu sees a GPU, else CPU), logs which, and
reuses its sessions for every frame. Every engine is built from a ``SanSpec``, the one model
description: kernels, sizes and activations come from it, never from the graphs, and a graph
whose ``model_sha256`` differs from the spec's is refused. Models given only as a ``SanSpec`` get
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
from sancodec.san.placement import scatter_kernels
from sancodec.san.sparse import select
from sancodec.san.spec import SanSpec, aligned_kernels, same_padding

__all__ = ["NumpyEngine", "SanRuntime", "engine_for", "load_exported", "read_manifest", "scatter_decode"]

_MAX_MANIFEST_BYTES = 64 * 1024 * 1024

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
    elif isinstance(choice, str):  # (a name alone was taken letter by letter: 'tpu' as providers 't', 'p', 'u')
        raise SanConfigError(f"providers must be 'auto', 'cpu', 'cuda' or a list of onnxruntime provider names, "
                             f"got {choice!r}")
    else:
        wanted = list(choice)
        unknown = [p for p in wanted if p not in available]
        if unknown:
            raise SanConfigError(f"onnxruntime has no provider {', '.join(map(repr, unknown))} here (it has "
                                 f"{', '.join(available)})")
    return wanted


class SanRuntime:
    """onnxruntime sessions for one model: ``similarity``, ``encode`` and ``decode`` on numpy arrays."""

    def __init__(
        self,
        spec: SanSpec,
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
        self.spec = spec
        self.model_sha256 = spec.sha256()
        for role, session in (("encoder", self._enc), ("decoder", self._dec)):
            found = session.get_modelmeta().custom_metadata_map.get("model_sha256")
            if found != self.model_sha256:
                raise ModelFileError(f"the {role} graph was exported from model {str(found)[:16]}…, "
                                     f"not from this model ({self.model_sha256[:16]}…)")
        self.dim, self.activations, self.kernel_sizes = spec.dim, spec.activations, spec.kernel_sizes
        self.providers = self._enc.get_providers()
        meta = self._enc.get_modelmeta().custom_metadata_map
        self.dtype = np.float16 if meta.get("precision") == "float16" else np.float32
        log.info("onnxruntime providers: %s", ", ".join(self.providers))

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, fp16: bool = False, **kwargs: Any) -> SanRuntime:
        """Load ``encoder.onnx`` and ``decoder.onnx`` (or the ``_fp16`` pair) written by ``export_model``,
        with the model from ``manifest.json``; the manifest's and both graphs' SHA-256 must match it."""
        p = Path(path)
        suffix = "_fp16" if fp16 else ""
        enc, dec = p / f"encoder{suffix}.onnx", p / f"decoder{suffix}.onnx"
        for f in (enc, dec, p / "manifest.json"):
            if not f.is_file():
                raise ModelFileError(f"{f}: missing (export the model with `sancodec export MODEL {p}`)")
        return cls(read_manifest(p / "manifest.json"), enc, dec, **kwargs)

    @classmethod
    def from_spec(cls, spec: SanSpec, **kwargs: Any) -> SanRuntime:
        """Build the graphs in memory (needs the ``onnx`` package) and open sessions on them."""
        from sancodec.export.onnx import build_decoder, build_encoder

        return cls(spec, build_encoder(spec).SerializeToString(), build_decoder(spec).SerializeToString(), **kwargs)

    def similarity(self, x: np.ndarray) -> np.ndarray:
        """ReLU similarity maps ``(batch, q, n…)`` of a batch ``(batch, n…)``."""
        x = np.asarray(x)
        _check_batch(x, 1 + self.dim, "a batch of signals (batch, n" + ", n" * (self.dim - 1) + ")")
        (s,) = self._enc.run(None, {"x": np.ascontiguousarray(x, dtype=self.dtype)})
        return s.astype(np.float32)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Sparse activations ``alpha``: the graph's maps, then the exact numpy selection."""
        return select(self.similarity(x), self.activations, self.kernel_sizes)

    def decode(self, alpha: np.ndarray) -> np.ndarray:
        """Reconstruction ``x_hat (batch, n…)`` from activations.

        Very sparse 1-D activations with long kernels are placed by a scatter-add, O(A·m),
        when that beats the graph's dense O(n·q·m) convolution (see ``_scatter_is_cheaper``);
        the two agree to float32 rounding (tested).
        """
        alpha = np.asarray(alpha)
        _check_activations(alpha, 2 + self.dim, len(self.kernel_sizes))
        if self.dim == 1 and self.dtype == np.float32 and _scatter_is_cheaper(alpha, self.kernel_sizes):
            return scatter_decode(alpha, self.spec.kernels)
        (x_hat,) = self._dec.run(None, {"alpha": np.ascontiguousarray(alpha, dtype=self.dtype)})
        return x_hat.astype(np.float32)


def _check_batch(a: np.ndarray, ndim: int, what: str) -> None:
    """Refuse what the graphs would fail on in onnxruntime's or numpy's own words: another rank,
    non-numbers, NaN or infinity (which the sparse selection would place as activations)."""
    if a.ndim != ndim:
        raise SanConfigError(f"expected {what}: {ndim} dimensions, got shape {a.shape}")
    if a.dtype.kind not in "iuf":
        raise SanConfigError(f"expected {what} of numbers, got dtype {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise SanConfigError(f"expected {what} of finite numbers: it holds NaN or infinity")


def _check_activations(alpha: np.ndarray, ndim: int, q: int) -> None:
    """:func:`_check_batch` of activations ``(batch, q, n…)`` (``ndim`` dimensions), and their ``q`` the model's."""
    _check_batch(alpha, ndim, f"activations (batch, q, n{', n' * (ndim - 3)}) of this model's q = {q}")
    if alpha.shape[1] != q:
        raise SanConfigError(f"activations of {alpha.shape[1]} kernels for a model of {q} (shape {alpha.shape})")


#: Measured cost of one scatter tap over one dense multiply-add of onnxruntime's Conv on
#: 2 CPU cores (14–18 ns against 0.09–0.10 ns, q = 2, m = 20 and 200, mitdb 100).
SCATTER_TAP_COST = 200


def _scatter_is_cheaper(alpha: np.ndarray, sizes: tuple[int, ...]) -> bool:
    """Scatter costs Σ_k nnz_k·m_k taps, the graph n·q·max(m) multiply-adds per example."""
    nnz = np.count_nonzero(alpha.reshape(-1, alpha.shape[1], alpha.shape[-1]), axis=(0, 2))
    taps = float(np.dot(nnz, sizes))
    return SCATTER_TAP_COST * taps < float(alpha.size) * max(sizes)


def scatter_decode(alpha: np.ndarray, kernels: tuple[np.ndarray, ...]) -> np.ndarray:
    """x_hat = Σ_k Σ_t alpha[k, t] w_k placed by the convention, O(A·m) (see ``placement``)."""
    batch, q, n = alpha.shape
    hits = [np.nonzero(alpha[:, k]) for k in range(q)]
    amps = [alpha[b, k, t] for k, (b, t) in enumerate(hits)]
    out = scatter_kernels((batch, n), kernels, [b for b, _ in hits], [t for _, t in hits], amps)
    return out.astype(np.float32)


def read_manifest(path: Path) -> SanSpec:
    """The model of an exported folder's ``manifest.json``, checked against its recorded SHA-256."""
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ModelFileError(f"{path}: manifest is larger than any model's")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        spec = SanSpec.from_dict(manifest["model"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: not a sancodec export manifest ({type(exc).__name__}: {exc})") from None
    if manifest.get("model_sha256") != spec.sha256():
        raise ModelFileError(f"{path}: the model does not match the manifest's model_sha256")
    return spec


def _source(value: str | os.PathLike[str] | bytes) -> str | bytes:
    return value if isinstance(value, bytes) else str(value)


class NumpyEngine:
    """The same encoder and decoder in plain numpy (FFT convolution, sparse placement) when no
    ONNX graph is usable: no onnx, no onnxruntime, no torch."""

    providers = ("numpy",)

    def __init__(self, spec: SanSpec) -> None:
        if spec.dim != 1:
            raise SanConfigError("the numpy engine runs 1-D models only")
        self.spec = spec
        self.weight = aligned_kernels(spec.kernels, 1).astype(np.float64)  # (q, M)
        self.pad = same_padding(self.weight.shape[-1])

    def similarity(self, x: np.ndarray) -> np.ndarray:
        """ReLU similarity maps ``(batch, q, n)`` of a batch ``(batch, n)``."""
        _check_batch(np.asarray(x), 2, "a batch of signals (batch, n)")
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
        """Sparse activations ``alpha``: the maps, then the exact numpy selection."""
        return select(self.similarity(x), self.spec.activations, self.spec.kernel_sizes)

    def decode(self, alpha: np.ndarray) -> np.ndarray:
        """Reconstruction ``(batch, n)`` from activations ``(batch, q, n)``."""
        alpha = np.asarray(alpha)
        _check_activations(alpha, 3, self.spec.q)
        return scatter_decode(alpha.astype(np.float32), self.spec.kernels)


#: Exported folders by their model's SHA-256: where ``load_exported`` read a model, whose graphs then run it.
_EXPORTS: dict[str, Path] = {}


def load_exported(manifest: Path) -> SanSpec:
    """The model of a folder ``sancodec export`` wrote (its ``manifest``), its graphs the engine :func:`engine_for`
    then runs for it (rather than graphs built in memory, which need the ``onnx`` package a device may lack, or the
    numpy engine, whose float rounding may pick other activations than the graphs the model was exported as)."""
    spec = read_manifest(manifest)
    _EXPORTS[spec.sha256()] = manifest.parent.resolve()
    return spec


def _exported_engine(folder: Path, spec: SanSpec) -> SanRuntime:
    """``folder``'s fp32 graphs for ``spec`` (its manifest's model), checked to compute that model's similarity maps
    on a probe signal (to float32 rounding): a graph that names the model in its metadata but holds other weights
    would code every frame with kernels the file does not carry."""
    engine = SanRuntime.from_dir(folder)
    if spec.dim == 1:
        probe = np.random.default_rng(0).standard_normal((1, max(256, 4 * max(spec.kernel_sizes)))).astype(np.float32)
        got, want = engine.similarity(probe), NumpyEngine(spec).similarity(probe)
        if not np.allclose(got, want, rtol=1e-3, atol=1e-4 * max(float(np.abs(want).max()), 1.0)):
            raise ModelFileError(f"{folder}: its ONNX graphs do not compute the model its manifest.json describes")
    return engine


@lru_cache(maxsize=8)
def _cached_engine(sha: str, spec_json: str, exported: str | None = None) -> SanRuntime | NumpyEngine:
    spec = SanSpec.from_dict(json.loads(spec_json))
    shipped = resources.files("sancodec") / "data" / "models" / "default"
    try:
        if exported is not None:
            return _exported_engine(Path(exported), spec)
        if (shipped / "manifest.json").is_file():
            with resources.as_file(shipped) as folder:
                if read_manifest(Path(folder) / "manifest.json").sha256() == sha:
                    return SanRuntime.from_dir(folder)
        return SanRuntime.from_spec(spec)
    except (ImportError, SanConfigError) as exc:
        log.info("using the numpy engine (%s)", exc)
        return NumpyEngine(spec)


def engine_for(spec: SanSpec) -> SanRuntime | NumpyEngine:
    """A cached inference engine for ``spec``: the graphs of the exported folder it was loaded from
    (:func:`load_exported`), the shipped ONNX, in-memory ONNX, or numpy (without onnxruntime)."""
    sha = spec.sha256()
    folder = _EXPORTS.get(sha)
    return _cached_engine(sha, spec.to_json(), None if folder is None else str(folder))
