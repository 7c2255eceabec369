"""How a SAN's input is scaled: the model's ``normalization``, applied here and nowhere else.

The codec (each frame of each channel), the training command and the paper's segment
protocol all call :func:`normalization_params` / :func:`normalize`, so a model trained on
z-scored segments is fed z-scored frames, and a model declared ``none`` or ``affine`` is fed
exactly that. Kinds (``SanSpec.normalization``):

* ``{"kind": "zscore"}``: each row (segment, frame) minus its mean, over its std (1 if 0);
* ``{"kind": "affine", "offset": o, "scale": c}``: ``(x - o) / c`` for every row;
* ``{"kind": "none"}``: the samples as they are.

The codec stores each SAN frame's offset as an integer (``integer_offset=True`` rounds it),
and the amplitude step of a frame is ``scale * amplitude_step``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["normalization_params", "normalize"]


def normalization_params(norm: Mapping[str, Any], rows: np.ndarray,
                         integer_offset: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(offset, scale)`` of ``rows`` (``(count, n)``) under ``norm`` (a validated spec entry)."""
    x = np.asarray(rows, dtype=np.float64)
    count = x.shape[0]
    kind = norm["kind"]
    if kind == "zscore":
        offset = x.mean(axis=-1)
        std = x.std(axis=-1)
        scale = np.where(std > 0, std, 1.0)
    elif kind == "affine":
        offset = np.full(count, float(norm["offset"]))
        scale = np.full(count, float(norm["scale"]))
    else:
        offset, scale = np.zeros(count), np.ones(count)
    return (np.rint(offset) if integer_offset else offset), scale


def normalize(norm: Mapping[str, Any], rows: np.ndarray) -> np.ndarray:
    """``rows`` scaled as the model expects, float32 (a constant z-scored row becomes zeros)."""
    x = np.asarray(rows, dtype=np.float64)
    offset, scale = normalization_params(norm, x)
    return ((x - offset[:, None]) / scale[:, None]).astype(np.float32)
