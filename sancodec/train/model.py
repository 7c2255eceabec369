"""The SAN module (1-D and 2-D): encoder ``x -> alpha`` and decoder ``alpha -> x_hat``.

Convention (docs/PAPER.md leaves it open, so it is fixed and tested here): the
encoder is a cross-correlation ``s[t] = sum_j x[t + j - p] w[j]`` with
``p = (m - 1) // 2`` (for even m the pad is asymmetric: ``p`` before and
``m - 1 - p`` after); the decoder is its adjoint, so a single activation of
amplitude ``a`` at ``t`` reconstructs ``a * w`` with ``w[j]`` at ``t + j - p``,
i.e. ``w`` centred at ``t`` for odd m and its left-of-centre sample at ``t`` for
even m. 2-D applies the same rule on both axes.

All kernels live in one zero-padded weight tensor of the largest size, aligned
so that each keeps its own padding; one convolution then serves every kernel.
Padding is explicit (``F.pad``): torch's ``padding='same'`` is ~15x slower on CPU.

With ``separate=True`` consecutive groups of ``group_size`` kernels are
independent SANs: the decoder returns one reconstruction per group, which lets a
kernel-size sweep train hundreds of models in one batched pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sancodec.errors import SanConfigError
from sancodec.san.spec import SanSpec, aligned_kernels, check_architecture, same_padding, split_aligned
from sancodec.train.activations import select

__all__ = ["SAN", "same_padding"]

INIT_STD = 0.1


class SAN(nn.Module):
    """A Sparsely Activated Network with ``q`` kernels of sizes ``kernel_sizes``.

    Inputs are batch-first: ``(batch, n)`` for ``dim=1``, ``(batch, H, W)`` for
    ``dim=2``. Activations ``alpha`` are ``(batch, q, n)`` / ``(batch, q, H, W)``.
    """

    mask: torch.Tensor  # (buffers: each kernel's support, and which kernels each model of a sweep owns)
    block: torch.Tensor

    def __init__(
        self,
        kernel_sizes: Sequence[int],
        activations: str | Sequence[str] = "peaks",
        *,
        dim: int = 1,
        separate: bool = False,
        group_size: int = 1,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        sizes, acts = check_architecture(kernel_sizes, activations, dim)
        if group_size < 1 or len(sizes) % group_size or (group_size > 1 and not separate):
            raise SanConfigError(f"group_size {group_size} must divide q={len(sizes)} (and needs separate=True)")
        self.dim = dim
        self.separate = separate
        self.group_size = group_size
        self.kernel_sizes: tuple[int, ...] = sizes
        self.activations: tuple[str, ...] = acts
        self._pad = same_padding(max(sizes))
        mask = torch.from_numpy(aligned_kernels([np.ones((m,) * dim) for m in sizes], dim))
        shape = tuple(mask.shape)
        self.register_buffer("mask", mask)
        models = len(sizes) // group_size if separate else 1
        block = torch.zeros((models, len(sizes)) + (1,) * dim)
        for i in range(models):
            block[i, i * group_size : (i + 1) * group_size] = 1.0
        self.register_buffer("block", block)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        init = torch.randn(shape, generator=gen) * INIT_STD
        self.weight = nn.Parameter(init * mask)

    # ------------------------------------------------------------------ weights
    @property
    def q(self) -> int:
        return len(self.kernel_sizes)

    @property
    def n_models(self) -> int:
        """Independent models held: q / group_size when separate, else 1."""
        return self.q // self.group_size if self.separate else 1

    def masked_weight(self) -> torch.Tensor:
        """The aligned kernels, zero outside each kernel's own support: ``(q, M[, M])``."""
        return self.weight * self.mask

    def kernels(self) -> list[np.ndarray]:
        """Each kernel as a float32 numpy array of its own size."""
        return split_aligned(self.masked_weight().detach().cpu().numpy(), self.kernel_sizes, self.dim)

    def set_kernels(self, kernels: Sequence[np.ndarray]) -> None:
        """Load kernel values (each of its own size) into the aligned weight tensor."""
        if len(kernels) != self.q:
            raise SanConfigError(f"{len(kernels)} kernels given for a SAN with q={self.q}")
        arrays = [np.asarray(k, dtype=np.float32) for k in kernels]
        for i, (k, m) in enumerate(zip(arrays, self.kernel_sizes)):
            if k.shape != (m,) * self.dim:
                raise SanConfigError(f"kernel {i} has shape {k.shape}, expected {(m,) * self.dim}")
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(aligned_kernels(arrays, self.dim)))

    # ------------------------------------------------------------------- passes
    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != self.dim + 1:
            want = "(batch, n)" if self.dim == 1 else "(batch, H, W)"
            raise SanConfigError(f"SAN(dim={self.dim}) expects {want}, got shape {tuple(x.shape)}")

    def _spatial_pad(self, before: int, after: int) -> tuple[int, ...]:
        return (before, after) * self.dim

    def encode_dense(self, x: torch.Tensor) -> torch.Tensor:
        """ReLU of the similarity maps ``s``, before the sparse activation."""
        self._check_input(x)
        w = self.masked_weight().unsqueeze(1)
        xp = F.pad(x.unsqueeze(1), self._spatial_pad(*self._pad))
        conv = F.conv1d if self.dim == 1 else F.conv2d
        return torch.relu(conv(xp, w))

    def activate(self, s: torch.Tensor) -> torch.Tensor:
        """Apply each kernel's sparse activation to its map."""
        return select(s, self.activations, self.kernel_sizes)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Sparse activations ``alpha``: conv (same padding, no bias) -> ReLU -> sparse activation."""
        return self.activate(self.encode_dense(x))

    def decode(self, alpha: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``x_hat = sum_i alpha_i * w_i`` (per model, ``(batch, models, …)``, if ``separate``)."""
        if alpha.dim() != self.dim + 2 or alpha.shape[1] != self.q:
            raise SanConfigError(f"alpha must be (batch, {self.q}, ...), got {tuple(alpha.shape)}")
        before, after = self._pad
        flip = tuple(range(2, 2 + self.dim))
        w = self.masked_weight().unsqueeze(1).flip(flip)
        ap = F.pad(alpha, self._spatial_pad(after, before))
        conv = F.conv1d if self.dim == 1 else F.conv2d
        if self.separate:
            if self.dim == 2:
                # Block-diagonal weight + plain conv: CPU grouped conv2d backward is ~4x slower.
                return conv(ap, w.transpose(0, 1).expand(self.n_models, -1, *w.shape[2:]) * self.block)
            grouped = w.reshape((self.n_models, self.group_size) + w.shape[2:])
            return conv(ap, grouped, groups=self.n_models)
        return conv(ap, w.transpose(0, 1)).squeeze(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_hat, alpha)`` for a batch ``x``."""
        alpha = self.encode(x)
        return self.decode(alpha), alpha

    # --------------------------------------------------------------------- spec
    def to_spec(
        self,
        normalization: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> SanSpec:
        """Freeze the current kernels into a :class:`SanSpec`."""
        if self.separate:
            raise SanConfigError("a separate-kernel SAN is many models; select one with .single(i)")
        return SanSpec(
            kernels=tuple(self.kernels()),
            activations=self.activations,
            dim=self.dim,
            normalization=normalization or {"kind": "none"},
            metadata=metadata or {},
        )

    @classmethod
    def from_spec(cls, spec: SanSpec) -> SAN:
        """A SAN holding the kernels of ``spec``."""
        model = cls(spec.kernel_sizes, spec.activations, dim=spec.dim, seed=None)
        model.set_kernels(spec.kernels)
        return model

    def single(self, i: int) -> SAN:
        """Model ``i`` of a separate SAN (its ``group_size`` kernels) as a SAN of its own."""
        idx = range(i * self.group_size, (i + 1) * self.group_size)
        model = SAN([self.kernel_sizes[j] for j in idx], [self.activations[j] for j in idx], dim=self.dim, seed=None)
        kernels = self.kernels()
        model.set_kernels([kernels[j] for j in idx])
        return model.to(self.weight.device)
