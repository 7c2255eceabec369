"""Training (``fit``), selected by validation φ̄; the kernel-size sweep lives in ``train.sweep``.

``fit`` trains with MAE and Adam (lr 0.01, betas 0.9/0.999, eps 1e-8), scores
the validation set after every epoch and snapshots the weights of the best
epoch (a copy: the authors' code kept a reference and so reported the last
epoch). At the end the model holds the best weights.

A SAN built with ``separate=True`` is many independent one-kernel models;
``fit`` then selects the best epoch of each model on its own. ``sweep`` uses
that to train one model per kernel size m in a single batched pass per
activation, which is what makes the paper's Table I protocol take minutes on a
2-core CPU. Test data never influences a choice: epoch and m are chosen on
validation φ̄ only, and test figures are reported for that choice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from sancodec.errors import SanConfigError
from sancodec.metrics import PhiScores, phi_scores
from sancodec.train.model import INIT_STD, SAN
from sancodec.train.progress import progress as progress_bar

__all__ = ["EpochRecord", "FitResult", "evaluate", "fit", "resolve_device"]

log = logging.getLogger("sancodec")

ADAM_LR = 0.01
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
_EVAL_CHUNK = 256


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SanConfigError("device 'cuda' was requested but torch sees no CUDA GPU")
    try:
        return torch.device(name)
    except RuntimeError:
        raise SanConfigError(f"unknown device {device!r}; use auto, cpu or cuda") from None


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: mean training MAE and validation means, one value per model."""

    epoch: int
    train_loss: np.ndarray
    val_phi: np.ndarray
    val_cr_inv: np.ndarray
    val_l_tilde: np.ndarray


@dataclass
class FitResult:
    """What ``fit`` learned: history, best epoch per model (1-based), dead kernels."""

    history: list[EpochRecord]
    best_epoch: np.ndarray
    best_val_phi: np.ndarray
    dead_kernels: list[int]
    device: str
    seconds: float
    best_val: PhiScores = field(repr=False, default=None)  # type: ignore[assignment]
    #: Kernel indices re-drawn because they were dead (``reinit_dead``), once per occurrence.
    reinitialized: list[int] = field(default_factory=list)


def _as_tensor(data: np.ndarray | torch.Tensor, device: torch.device, dim: int, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(data) if not isinstance(data, torch.Tensor) else data)
    t = t.to(device=device, dtype=torch.float32)
    if t.dim() != dim + 1 or t.shape[0] == 0:
        axes = "n" if dim == 1 else "H, W"
        raise SanConfigError(f"{what} must be a non-empty (examples, {axes}) array, got {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise SanConfigError(f"{what} holds NaN or Inf")
    return t


def evaluate(model: SAN, x: np.ndarray | torch.Tensor) -> tuple[PhiScores, np.ndarray]:
    """Per-example φ parts, shaped ``(models, examples)``, and activations per kernel.

    ``models`` is 1 for a plain SAN and ``q / group_size`` for a separate SAN.
    """
    device = model.weight.device
    xt = _as_tensor(x, device, model.dim, "x")
    sizes = np.asarray(model.kernel_sizes, dtype=np.float64)
    parts: list[PhiScores] = []
    counts = np.zeros(model.q, dtype=np.int64)
    spatial = tuple(range(2, 2 + model.dim))
    with torch.no_grad():
        for start in range(0, xt.shape[0], _EVAL_CHUNK):
            xb = xt[start : start + _EVAL_CHUNK]
            x_hat, alpha = model(xb)
            nz = (alpha != 0).sum(dim=spatial).cpu().numpy()  # (batch, q)
            counts += nz.sum(axis=0)
            xn = xb.cpu().numpy()
            if model.separate:
                g = model.group_size
                active = nz.reshape(nz.shape[0], -1, g).sum(axis=2)  # (batch, models)
                w_total = sizes.reshape(-1, g).sum(axis=1)[:, None]
                parts.append(phi_scores(np.swapaxes(x_hat.cpu().numpy(), 0, 1), xn, active.T, w_total, model.dim))
            else:
                s = phi_scores(x_hat.cpu().numpy(), xn, nz.sum(axis=1), sizes.sum(), model.dim)
                parts.append(PhiScores(s.cr_inv[None], s.l_tilde[None], s.phi[None]))
    joined = PhiScores(
        cr_inv=np.concatenate([p.cr_inv for p in parts], axis=1),
        l_tilde=np.concatenate([p.l_tilde for p in parts], axis=1),
        phi=np.concatenate([p.phi for p in parts], axis=1),
    )
    return joined, counts


def fit(
    model: SAN,
    train: np.ndarray | torch.Tensor,
    val: np.ndarray | torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 2,
    lr: float = ADAM_LR,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = False,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    reinit_dead: bool = False,
) -> FitResult:
    """Train ``model`` in place and leave it holding the weights of its best validation epoch.

    (Over 60 lines only through its eleven documented parameters; the loop itself is short.)

    ``reinit_dead``: after each epoch, kernels with no activation on the validation set
    are drawn again from N(0, 0.1) (seeded) with their Adam state reset, and a model
    with a dead kernel is not eligible as best at that epoch (φ̄ rewards a dead kernel
    with a halved CR⁻¹, which would make selection pick broken models).
    """
    if epochs < 1 or batch_size < 1:
        raise SanConfigError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    dev = resolve_device(device)
    log.info("training on %s", dev)
    model.to(dev)
    xt = _as_tensor(train, dev, model.dim, "train")
    xv = _as_tensor(val, dev, model.dim, "val")
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    rng = np.random.default_rng(seed)
    regen = torch.Generator().manual_seed(seed + 1)
    reinitialized: list[int] = []
    best = _Best(model)
    history: list[EpochRecord] = []
    started = time.perf_counter()
    batches = -(-xt.shape[0] // batch_size)
    with progress_bar(progress, f"training ({dev.type})", epochs * batches) as (tick, _):
        for epoch in range(1, epochs + 1):
            losses = _train_epoch(model, opt, xt, torch.as_tensor(rng.permutation(xt.shape[0]), device=dev),
                                  batch_size, tick)
            model.eval()
            scores, counts = evaluate(model, xv)
            mean = scores.mean()
            record = EpochRecord(epoch, losses / xt.shape[0], mean.phi, mean.cr_inv, mean.l_tilde)
            history.append(record)
            eligible = np.ones(model.n_models, dtype=bool)
            if reinit_dead and (counts == 0).any():
                dead_rows = np.flatnonzero(counts == 0)
                eligible = ~np.isin(np.arange(model.n_models), best.row_model[dead_rows])
                if epoch < epochs:
                    _reinitialize(model, opt, dead_rows, regen)
                    reinitialized.extend(int(r) for r in dead_rows)
            best.update(epoch, mean, eligible, model)
            if on_epoch is not None:
                on_epoch(record)
    with torch.no_grad():
        model.weight.copy_(best.weight)
    model.eval()
    _, counts = evaluate(model, xv)
    dead = [int(i) for i in np.flatnonzero(counts == 0)]
    if dead:
        log.warning("dead kernels (no activation on the validation set): %s", dead)
    return FitResult(history=history, best_epoch=best.epoch, best_val_phi=best.phi, dead_kernels=dead,
                     device=str(dev), seconds=time.perf_counter() - started,
                     best_val=best.mean,  # type: ignore[arg-type]
                     reinitialized=reinitialized)


def _train_epoch(model: SAN, opt: torch.optim.Optimizer, xt: torch.Tensor, order: torch.Tensor,
                 batch_size: int, tick: Callable[..., None]) -> np.ndarray:
    """One pass of MAE + Adam over ``xt`` in ``order``; the summed loss per model."""
    model.train()
    reduce_dims = tuple(i for i in range(xt.dim() + 1) if i != 1) if model.separate else None
    losses = np.zeros(model.n_models)
    for b in range(-(-xt.shape[0] // batch_size)):
        xb = xt[order[b * batch_size : (b + 1) * batch_size]]
        x_hat, _ = model(xb)
        if model.separate:
            per_model = (x_hat - xb.unsqueeze(1)).abs().mean(dim=reduce_dims)
            loss = per_model.sum()
        else:
            per_model = (x_hat - xb).abs().mean().view(1)
            loss = per_model[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses += per_model.detach().cpu().numpy() * xb.shape[0]
        tick()
    return losses


class _Best:
    """The best validation epoch of each model so far, with a copy (not a reference) of its weights."""

    def __init__(self, model: SAN) -> None:
        self.row_model = (np.arange(model.q) // model.group_size if model.separate
                          else np.zeros(model.q, dtype=np.int64))
        self.phi = np.full(model.n_models, np.inf)
        self.epoch = np.zeros(model.n_models, dtype=np.int64)
        self.weight = model.weight.detach().clone()
        self.mean: PhiScores | None = None

    def update(self, epoch: int, mean: PhiScores, eligible: np.ndarray, model: SAN) -> None:
        better = (mean.phi < self.phi) & eligible
        if not better.any():
            return
        self.phi = np.where(better, mean.phi, self.phi)
        self.epoch = np.where(better, epoch, self.epoch)
        rows = torch.as_tensor(better[self.row_model], device=model.weight.device)
        self.weight[rows] = model.weight.detach()[rows]
        self.mean = mean if self.mean is None else PhiScores(
            np.where(better, mean.cr_inv, self.mean.cr_inv),
            np.where(better, mean.l_tilde, self.mean.l_tilde),
            np.where(better, mean.phi, self.mean.phi),
        )


def _reinitialize(model: SAN, opt: torch.optim.Optimizer, rows: np.ndarray, gen: torch.Generator) -> None:
    """Draw kernels ``rows`` again from N(0, 0.1) and forget their Adam moments."""
    idx = torch.as_tensor(rows, device=model.weight.device)
    fresh = torch.randn((len(rows),) + tuple(model.weight.shape[1:]), generator=gen) * INIT_STD
    with torch.no_grad():
        model.weight[idx] = fresh.to(model.weight.device) * model.mask[idx]
    state = opt.state.get(model.weight, {})
    for key in ("exp_avg", "exp_avg_sq"):
        if key in state:
            state[key][idx] = 0.0


