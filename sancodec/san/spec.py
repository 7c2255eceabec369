"""``SanSpec``: the one description of a trained SAN, and its safe model file.

Training, export, the container and the runtime all read this object; none of
them re-derives another layer's numbers. A model file is UTF-8 JSON (no pickle,
so loading a file a user hands us cannot run code) with a format name and a
version. Kernel values are float32 written as exact decimal floats, so a save /
load round trip is bit-exact. No torch here.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sancodec._atomic import write_text_atomic
from sancodec.errors import ModelFileError, SanConfigError

__all__ = [
    "ACTIVATIONS",
    "EXPORT_FORMAT",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "SanSpec",
    "activation_groups",
    "activation_parameters",
    "aligned_kernels",
    "apply_per_kernel",
    "canonical_activation",
    "check_architecture",
    "load_model",
    "same_padding",
    "save_model",
    "split_aligned",
]

MODEL_FORMAT = "sancodec-model"
MODEL_VERSION = 1
_MAX_MODEL_BYTES = 64 * 1024 * 1024
EXPORT_FORMAT = "sancodec-onnx"  # the format name of the manifest.json `sancodec export` writes
_MAX_KERNEL_SIZE = 1 << 16
_NORMALIZATIONS = ("none", "zscore", "affine")


def same_padding(m: int) -> tuple[int, int]:
    """Samples of padding (before, after) that keep length n for a kernel of size m.

    ``before = (m - 1) // 2``: for even m the extra sample goes after. The decoder,
    the adjoint, pads (after, before) and uses the flipped kernel.
    """
    before = (m - 1) // 2
    return before, m - 1 - before


def aligned_kernels(kernels: tuple[np.ndarray, ...] | list[np.ndarray], dim: int) -> np.ndarray:
    """All kernels in one zero-padded ``(q, M[, M])`` array, each keeping its own centre,
    so one convolution with padding ``same_padding(M)`` applies every kernel correctly."""
    big = max(int(k.shape[0]) for k in kernels)
    out = np.zeros((len(kernels),) + (big,) * dim, dtype=np.float32)
    for i, k in enumerate(kernels):
        m = int(k.shape[0])
        off = same_padding(big)[0] - same_padding(m)[0]
        out[(i,) + (slice(off, off + m),) * dim] = k
    return out


def split_aligned(weight: np.ndarray, sizes: Sequence[int], dim: int) -> list[np.ndarray]:
    """Inverse of :func:`aligned_kernels`: each kernel of its own size, as float32 copies."""
    big = weight.shape[-1]
    out = []
    for i, m in enumerate(sizes):
        off = same_padding(big)[0] - same_padding(m)[0]
        out.append(np.asarray(weight[(i,) + (slice(off, off + m),) * dim], dtype=np.float32).copy())
    return out


#: Canonical activation names, in the paper's order.
ACTIVATIONS: tuple[str, ...] = ("identity", "max_activations", "max_pool_indices", "peaks")
_ALIASES = {
    "identity": "identity",
    "max_activations": "max_activations",
    "maxactivations": "max_activations",
    "topk": "max_activations",
    "max_pool_indices": "max_pool_indices",
    "max_pool": "max_pool_indices",
    "maxpool": "max_pool_indices",
    "peaks": "peaks",
}


def canonical_activation(name: str) -> str:
    """Map user spellings (``Max-Pool indices``, ``max_pool``, ``peaks``…) to a canonical name."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in _ALIASES:
        raise SanConfigError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return _ALIASES[key]


def activation_groups(activations: Sequence[str]) -> dict[str, list[int]]:
    """Kernel indices per activation, in first-seen order (each group is selected in one call)."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(activations):
        groups.setdefault(canonical_activation(name), []).append(i)
    return groups


def activation_parameters(name: str, kernel_sizes: Sequence[int] | np.ndarray,
                          spatial_shape: Sequence[int]) -> np.ndarray | None:
    """The paper's integer parameter of each kernel's activation, from its size m (the one rule).

    identity: none; max_activations: k = prod(floor(size / m)) over the spatial dims, at
    least 1; max_pool_indices: window m; peaks: minimum peak distance m."""
    canonical = canonical_activation(name)
    if canonical == "identity":
        return None
    m = np.asarray(kernel_sizes, dtype=np.int64).ravel()
    if canonical != "max_activations":
        return m
    k = np.ones_like(m)
    for size in spatial_shape:
        k = k * (int(size) // m)
    return np.maximum(k, 1)


def apply_per_kernel(s: Any, activations: Sequence[str], kernel_sizes: Sequence[int],
                     apply: Callable[[str, Any, list[int]], Any]) -> Any:
    """Apply each kernel's activation to its maps ``s[:, i]`` (numpy or torch), one call per activation.

    ``apply(name, maps, sizes)`` is the numpy or torch implementation."""
    groups = activation_groups(activations)
    if len(groups) == 1:
        (name,) = groups
        return apply(name, s, list(kernel_sizes))
    out = s * 0  # zeros of the same type, dtype and device
    for name, idx in groups.items():
        out[:, idx] = apply(name, s[:, idx], [kernel_sizes[i] for i in idx])
    return out


def check_architecture(kernel_sizes: Sequence[int], activations: str | Sequence[str],
                       dim: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Validated kernel sizes and canonical per-kernel activations (one name applies to all)."""
    if dim not in (1, 2):
        raise SanConfigError(f"dim must be 1 or 2, got {dim!r}")
    sizes = tuple(int(m) for m in kernel_sizes)
    if not sizes:
        raise SanConfigError("a SAN needs at least one kernel")
    for i, m in enumerate(sizes):
        if not 1 <= m <= _MAX_KERNEL_SIZE:
            raise SanConfigError(f"kernel {i} size {m} is out of range 1..{_MAX_KERNEL_SIZE}")
    acts = (activations,) * len(sizes) if isinstance(activations, str) else tuple(activations)
    if len(acts) != len(sizes):
        raise SanConfigError(f"{len(acts)} activations for {len(sizes)} kernels")
    return sizes, tuple(canonical_activation(a) for a in acts)


def _plain_json(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is what a .san header can hold: JSON types with string keys, finite numbers, nested
    at most 32 deep."""
    if depth > 32:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_plain_json(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain_json(v, depth + 1) for k, v in value.items())
    return False


@dataclass(frozen=True, eq=False)
class SanSpec:
    """A SAN: its kernels (each ``(m,)`` or ``(m, m)``), one activation per kernel,
    the signal dimension, how inputs are normalised, and free-form metadata.

    ``normalization`` is ``{"kind": "none"}``, ``{"kind": "zscore"}`` (each
    segment standardised on its own, the paper's protocol) or
    ``{"kind": "affine", "offset": o, "scale": c}`` (x -> (x - o) / c).
    """

    kernels: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    dim: int = 1
    normalization: Mapping[str, Any] = field(default_factory=lambda: {"kind": "none"})
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
            kernels = tuple(np.array(k, dtype=np.float32) for k in self.kernels)
        for i, k in enumerate(kernels):
            square = k.ndim == 2 and k.shape[0] == k.shape[1]
            if self.dim in (1, 2) and ((self.dim == 1 and k.ndim != 1) or (self.dim == 2 and not square)):
                raise SanConfigError(f"kernel {i} has shape {k.shape}, not valid for dim={self.dim}")
            if not np.all(np.isfinite(k)):
                raise SanConfigError(f"kernel {i} holds NaN or Inf")
        _, acts = check_architecture([k.shape[0] if k.ndim else 0 for k in kernels], self.activations, self.dim)
        norm = dict(self.normalization)
        if norm.get("kind") not in _NORMALIZATIONS:
            raise SanConfigError(f"normalization kind must be one of {_NORMALIZATIONS}, got {norm!r}")
        if norm["kind"] == "affine":
            try:
                offset, scale = float(norm["offset"]), float(norm["scale"])
            except (KeyError, TypeError, ValueError):
                raise SanConfigError("affine normalization needs numeric offset and scale") from None
            if not (math.isfinite(offset) and math.isfinite(scale) and scale != 0):
                raise SanConfigError(f"bad affine normalization {norm!r}")
            norm = {"kind": "affine", "offset": offset, "scale": scale}
        object.__setattr__(self, "kernels", kernels)
        object.__setattr__(self, "activations", acts)
        object.__setattr__(self, "normalization", norm)
        if not isinstance(self.metadata, Mapping) or not _plain_json(self.metadata):
            raise SanConfigError("metadata must be a JSON object of strings, finite numbers, booleans, null, "
                                 "lists and objects (a .san header holds it)")
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def kernel_sizes(self) -> tuple[int, ...]:
        """m of every kernel (the side length for 2-D kernels)."""
        return tuple(int(k.shape[0]) for k in self.kernels)

    @property
    def q(self) -> int:
        """Number of kernels."""
        return len(self.kernels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description; float32 kernel values survive the round trip exactly."""
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "dim": self.dim,
            "activations": list(self.activations),
            "kernel_sizes": list(self.kernel_sizes),
            "kernels": [k.astype(np.float64).tolist() for k in self.kernels],
            "normalization": dict(self.normalization),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SanSpec:
        """Build a spec from :meth:`to_dict` output, validating every field."""
        if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
            raise ModelFileError("not a sancodec model (missing 'format': 'sancodec-model')")
        version = data.get("version")
        if version != MODEL_VERSION:
            raise ModelFileError(f"model version {version!r} is not supported (this sancodec reads {MODEL_VERSION})")
        try:
            kernels = tuple(np.asarray(k, dtype=np.float64) for k in data["kernels"])
            sizes = [int(v) for v in data["kernel_sizes"]]
            spec = cls(
                kernels=kernels,
                activations=tuple(data["activations"]),
                dim=int(data["dim"]),
                normalization=data.get("normalization", {"kind": "none"}),
                metadata=data.get("metadata", {}),
            )
        except SanConfigError as exc:
            raise ModelFileError(f"invalid model: {exc}") from None
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ModelFileError(f"invalid model: {type(exc).__name__}: {exc}") from None
        if list(spec.kernel_sizes) != sizes:
            raise ModelFileError(f"kernel_sizes {sizes} disagree with the kernels {list(spec.kernel_sizes)}")
        return spec

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the bytes the SHA-256 is taken over."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        """Hex SHA-256 of the canonical JSON; identifies the model in containers."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SanSpec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.sha256())

    def __repr__(self) -> str:
        return (
            f"SanSpec(dim={self.dim}, kernel_sizes={list(self.kernel_sizes)}, "
            f"activations={list(self.activations)}, normalization={dict(self.normalization)})"
        )


def save_model(spec: SanSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` as a JSON model file, atomically (temp file, then rename)."""
    return write_text_atomic(path, json.dumps(spec.to_dict(), indent=1, sort_keys=True) + "\n")


def load_model(path: str | os.PathLike[str]) -> SanSpec:
    """Read a model file written by :func:`save_model` (plain JSON, never pickle), or the model of a folder that
    ``sancodec export`` wrote (or its ``manifest.json``), whose ONNX graphs then run it
    (``runtime.load_exported``)."""
    p = Path(path)
    if p.is_dir():
        if not (p / "manifest.json").is_file():
            raise ModelFileError(f"{p}: is a directory, not a model file or a folder `sancodec export` wrote "
                                 "(it has no manifest.json)")
        return _exported(p / "manifest.json")
    try:
        size = p.stat().st_size
        if size > _MAX_MODEL_BYTES:
            raise ModelFileError(f"{p}: model file is {size} bytes, larger than any valid model")
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{p}: no such model file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{p}: not a JSON model file ({exc})") from None
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT:
        return _exported(p)
    try:
        return SanSpec.from_dict(data)
    except ModelFileError as exc:
        raise ModelFileError(f"{p}: {exc}") from None


def _exported(manifest: Path) -> SanSpec:
    """The model of an exported folder's ``manifest``, its graphs registered to run it (imported here: the runtime
    imports this module)."""
    from sancodec.san.runtime import load_exported

    return load_exported(manifest)

