"""ONNX graphs for a SAN: encoder ``x -> ReLU(x ⋆ w)`` and decoder ``alpha -> Σ alpha * w``.

Both graphs use only ops every edge runtime implements (Unsqueeze, Pad, Conv,
Relu, Squeeze; opset 17 pinned): no Loop, no MaxUnpool. The encoder outputs the
dense ReLU similarity maps; the sparse selection runs beside the graph in
:mod:`sancodec.san.sparse` (numpy, exact, shared by the runtime and the codec), which
keeps Peaks exact on any runtime (tract, for one, rejects ONNX Loop) and gives one
selection implementation to test instead of one per backend. Tests run the graphs on
onnxruntime, ``onnx.reference`` and tract and compare the outputs.

Graphs are built straight from a :class:`SanSpec` with ``onnx.helper`` (no torch),
as single self-contained files, with batch and length as dynamic axes, and with
``metadata_props`` carrying the sancodec version, activations, kernel sizes,
normalisation and the model's SHA-256.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sancodec._atomic import write_bytes_atomic, write_text_atomic
from sancodec.errors import SanConfigError
from sancodec.san.spec import EXPORT_FORMAT, SanSpec, aligned_kernels, same_padding

__all__ = ["OPSET", "build_decoder", "build_encoder", "export_model", "metadata"]

OPSET = 17


def metadata(spec: SanSpec) -> dict[str, str]:
    """The ``metadata_props`` every exported graph carries."""
    import sancodec

    return {
        "sancodec_version": sancodec.__version__,
        "model_sha256": spec.sha256(),
        "dim": str(spec.dim),
        "activations": json.dumps(list(spec.activations)),
        "kernel_sizes": json.dumps(list(spec.kernel_sizes)),
        "normalization": json.dumps(dict(spec.normalization), sort_keys=True),
        "convention": "encoder: cross-correlation, pad (m-1)//2 before; decoder: adjoint",
    }


def _spatial(spec: SanSpec) -> list[str]:
    return ["n"] if spec.dim == 1 else ["height", "width"]


def _finish(graph: Any, spec: SanSpec, dtype: np.dtype) -> Any:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sancodec")
    model.ir_version = 8
    helper.set_model_props(model, {**metadata(spec), "precision": np.dtype(dtype).name})
    onnx.checker.check_model(model, full_check=True)
    return model


def _tensor_type(dtype: np.dtype) -> int:
    from onnx import TensorProto

    return TensorProto.FLOAT16 if np.dtype(dtype) == np.float16 else TensorProto.FLOAT


def build_encoder(spec: SanSpec, dtype: Any = np.float32) -> Any:
    """Encoder graph: ``x (batch, n…) -> s (batch, q, n…)``, the ReLU similarity maps."""
    from onnx import helper, numpy_helper

    weight = aligned_kernels(spec.kernels, spec.dim)[:, None].astype(dtype)
    before, after = same_padding(weight.shape[-1])
    pads = np.array([0, 0] + [before] * spec.dim + [0, 0] + [after] * spec.dim, dtype=np.int64)
    t = _tensor_type(dtype)
    space = _spatial(spec)
    nodes = [
        helper.make_node("Unsqueeze", ["x", "axis1"], ["x1"]),
        helper.make_node("Pad", ["x1", "pads"], ["xp"], mode="constant"),
        helper.make_node("Conv", ["xp", "weight"], ["conv"]),
        helper.make_node("Relu", ["conv"], ["s"]),
    ]
    graph = helper.make_graph(
        nodes, "sancodec_encoder",
        [helper.make_tensor_value_info("x", t, ["batch", *space])],
        [helper.make_tensor_value_info("s", t, ["batch", spec.q, *space])],
        initializer=[
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(pads, "pads"),
            numpy_helper.from_array(weight, "weight"),
        ],
    )
    return _finish(graph, spec, dtype)


def build_decoder(spec: SanSpec, dtype: Any = np.float32) -> Any:
    """Decoder graph: ``alpha (batch, q, n…) -> x_hat (batch, n…)``, the adjoint of the encoder."""
    from onnx import helper, numpy_helper

    weight = aligned_kernels(spec.kernels, spec.dim)
    flipped = np.flip(weight, axis=tuple(range(1, 1 + spec.dim)))[None].astype(dtype)  # (1, q, M…)
    before, after = same_padding(weight.shape[-1])
    pads = np.array([0, 0] + [after] * spec.dim + [0, 0] + [before] * spec.dim, dtype=np.int64)
    t = _tensor_type(dtype)
    space = _spatial(spec)
    nodes = [
        helper.make_node("Pad", ["alpha", "pads"], ["ap"], mode="constant"),
        helper.make_node("Conv", ["ap", "weight"], ["conv"]),
        helper.make_node("Squeeze", ["conv", "axis1"], ["x_hat"]),
    ]
    graph = helper.make_graph(
        nodes, "sancodec_decoder",
        [helper.make_tensor_value_info("alpha", t, ["batch", spec.q, *space])],
        [helper.make_tensor_value_info("x_hat", t, ["batch", *space])],
        initializer=[
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(pads, "pads"),
            numpy_helper.from_array(np.ascontiguousarray(flipped), "weight"),
        ],
    )
    return _finish(graph, spec, dtype)


def export_model(spec: SanSpec, out_dir: str | os.PathLike[str], *, fp16: bool = False) -> dict[str, Any]:
    """Write ``encoder.onnx``, ``decoder.onnx`` (and fp16 variants) plus ``manifest.json``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SanConfigError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    variants = [("", np.float32)] + ([("_fp16", np.float16)] if fp16 else [])
    for suffix, dtype in variants:
        for role, build in (("encoder", build_encoder), ("decoder", build_decoder)):
            name = f"{role}{suffix}.onnx"
            write_bytes_atomic(out / name, build(spec, dtype).SerializeToString())
            files[f"{role}{suffix}"] = name
    manifest = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "opset": OPSET,
        "files": files,
        "inputs": {"encoder": "x: (batch, n) float", "decoder": "alpha: (batch, q, n) float"},
        "outputs": {"encoder": "s: ReLU similarity maps (batch, q, n); apply sancodec.san.sparse next",
                    "decoder": "x_hat: (batch, n)"},
        "model": spec.to_dict(),
        **metadata(spec),
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest
