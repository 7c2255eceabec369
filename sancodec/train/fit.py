"""Training (``fit``) and the kernel-size sweep (``sweep``), selected by validation φ̄.

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

import csv
import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from sancodec.errors import SanConfigError
from sancodec.metrics import PhiScores, phi_scores
from sancodec.train.activations import ACTIVATIONS, normalize_activation_name
from sancodec.train.model import SAN

__all__ = [
    "EpochRecord",
    "FitResult",
    "SweepResult",
    "SweepRow",
    "evaluate",
    "fit",
    "resolve_device",
    "sweep",
]

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
    n_models = model.n_models
    row_model = np.arange(model.q) // model.group_size if model.separate else np.zeros(model.q, dtype=np.int64)
    best_phi = np.full(n_models, np.inf)
    best_epoch = np.zeros(n_models, dtype=np.int64)
    best_weight = model.weight.detach().clone()
    best_mean: PhiScores | None = None
    history: list[EpochRecord] = []
    reduce_dims = tuple(i for i in range(xt.dim() + 1) if i != 1) if model.separate else None
    started = time.perf_counter()
    batches = -(-xt.shape[0] // batch_size)
    bar = _progress(progress, f"training ({dev.type})", epochs * batches)
    with bar as (tick, _):
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.as_tensor(rng.permutation(xt.shape[0]), device=dev)
            losses = np.zeros(n_models)
            for b in range(batches):
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
            model.eval()
            scores, counts = evaluate(model, xv)
            mean = scores.mean()
            record = EpochRecord(epoch, losses / xt.shape[0], mean.phi, mean.cr_inv, mean.l_tilde)
            history.append(record)
            better = mean.phi < best_phi
            if reinit_dead and (counts == 0).any():
                dead_rows = np.flatnonzero(counts == 0)
                better &= ~np.isin(np.arange(n_models), row_model[dead_rows])
                if epoch < epochs:
                    _reinitialize(model, opt, dead_rows, regen)
                    reinitialized.extend(int(r) for r in dead_rows)
            if better.any():
                best_phi = np.where(better, mean.phi, best_phi)
                best_epoch = np.where(better, epoch, best_epoch)
                rows = torch.as_tensor(better[row_model], device=dev)
                best_weight[rows] = model.weight.detach()[rows]
                best_mean = mean if best_mean is None else PhiScores(
                    np.where(better, mean.cr_inv, best_mean.cr_inv),
                    np.where(better, mean.l_tilde, best_mean.l_tilde),
                    np.where(better, mean.phi, best_mean.phi),
                )
            if on_epoch is not None:
                on_epoch(record)
    with torch.no_grad():
        model.weight.copy_(best_weight)
    model.eval()
    _, counts = evaluate(model, xv)
    dead = [int(i) for i in np.flatnonzero(counts == 0)]
    if dead:
        log.warning("dead kernels (no activation on the validation set): %s", dead)
    return FitResult(
        history=history,
        best_epoch=best_epoch,
        best_val_phi=best_phi,
        dead_kernels=dead,
        device=str(dev),
        seconds=time.perf_counter() - started,
        best_val=best_mean,  # type: ignore[arg-type]
        reinitialized=reinitialized,
    )


def _reinitialize(model: SAN, opt: torch.optim.Optimizer, rows: np.ndarray, gen: torch.Generator) -> None:
    """Draw kernels ``rows`` again from N(0, 0.1) and forget their Adam moments."""
    idx = torch.as_tensor(rows, device=model.weight.device)
    fresh = torch.randn((len(rows),) + tuple(model.weight.shape[1:]), generator=gen) * 0.1
    with torch.no_grad():
        model.weight[idx] = fresh.to(model.weight.device) * model.mask[idx]
    state = opt.state.get(model.weight, {})
    for key in ("exp_avg", "exp_avg_sq"):
        if key in state:
            state[key][idx] = 0.0


class _NullBar:
    def __enter__(self) -> tuple[Callable[..., None], Callable[[str], None]]:
        return (lambda _n=1: None), (lambda _d: None)

    def __exit__(self, *exc: object) -> None:
        return None


class _RichBar:
    def __init__(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=True,
        )
        self._label = label
        self._total = total

    def __enter__(self) -> tuple[Callable[..., None], Callable[[str], None]]:
        self._progress.__enter__()
        task = self._progress.add_task(self._label, total=self._total)
        return (
            lambda n=1: self._progress.advance(task, n),
            lambda text: self._progress.update(task, description=text),
        )

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)


def _progress(enabled: bool, label: str, total: int) -> _NullBar | _RichBar:
    return _RichBar(label, total) if enabled else _NullBar()


# --------------------------------------------------------------------- sweep
@dataclass(frozen=True)
class SweepRow:
    """One (activation, m): validation φ̄ at the selected epoch and the test figures there.

    With several seeds every figure is the mean over seeds.
    """

    activation: str
    m: int
    best_epoch: float
    val_phi: float
    test_cr_inv: float
    test_l_tilde: float
    test_phi: float
    dead: bool


@dataclass
class SweepResult:
    """Every row of a sweep, the selection by validation φ̄, and how long it took."""

    rows: list[SweepRow]
    epochs: int
    batch_size: int
    seeds: tuple[int, ...]
    device: str
    seconds: float
    #: Per activation, each kernel size's kernel at its selected epoch (first seed).
    kernels: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def selected(self) -> dict[str, SweepRow]:
        """The row with the lowest validation φ̄ per activation (ties: smaller m)."""
        best: dict[str, SweepRow] = {}
        for row in self.rows:
            cur = best.get(row.activation)
            if cur is None or (row.val_phi, row.m) < (cur.val_phi, cur.m):
                best[row.activation] = row
        return best

    def to_csv(self) -> str:
        """All rows as CSV text."""
        buf = io.StringIO()
        names = list(SweepRow.__dataclass_fields__)
        writer = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in asdict(row).items()})
        return buf.getvalue()

    def to_markdown(self, selected_only: bool = True) -> str:
        """A Markdown table: m, test CR⁻¹, L~, φ̄ (and validation φ̄) per activation."""
        rows = list(self.selected().values()) if selected_only else self.rows
        lines = [
            "| activation | m | epoch | val φ̄ | test CR⁻¹ | test L̃ | test φ̄ |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r.activation} | {r.m} | {r.best_epoch:g} | {r.val_phi:.3f} | "
                f"{r.test_cr_inv:.3f} | {r.test_l_tilde:.3f} | {r.test_phi:.3f} |"
            )
        return "\n".join(lines) + "\n"


def sweep(
    train: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
    *,
    activations: Iterable[str] = ACTIVATIONS,
    kernel_sizes: Sequence[int] = tuple(range(1, 251)),
    epochs: int = 20,
    batch_size: int = 2,
    seeds: Sequence[int] = (0,),
    dim: int = 1,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> SweepResult:
    """Train one single-kernel SAN per (activation, m, seed), all m of an activation in one pass.

    Each model's epoch is chosen on its validation φ̄; the reported test figures
    are that epoch's. Use :meth:`SweepResult.selected` for the m chosen on validation.
    """
    acts = [normalize_activation_name(a) for a in activations]
    sizes = [int(m) for m in kernel_sizes]
    if not acts or not sizes or not seeds:
        raise SanConfigError("sweep needs at least one activation, kernel size and seed")
    started = time.perf_counter()
    dev = resolve_device(device)
    per_step = -(-len(np.asarray(train)) // batch_size)
    bar = _progress(progress, "sweep", len(acts) * len(seeds) * epochs * per_step)
    collected: dict[str, list[np.ndarray]] = {}
    kernels: dict[str, list[np.ndarray]] = {}
    with bar as (tick, describe):
        for act in acts:
            per_seed = []
            for seed in seeds:
                describe(f"sweep {act} seed {seed}")
                model = SAN(sizes, act, dim=dim, separate=True, seed=seed)
                result = fit(
                    model, train, val, epochs=epochs, batch_size=batch_size, seed=seed, device=dev,
                    on_epoch=lambda _record: tick(per_step),
                )
                scores, _ = evaluate(model, test)
                mean = scores.mean()
                kernels.setdefault(act, model.kernels())
                per_seed.append(
                    np.stack([
                        result.best_epoch.astype(np.float64), result.best_val_phi,
                        mean.cr_inv, mean.l_tilde, mean.phi,
                        np.isin(np.arange(len(sizes)), result.dead_kernels).astype(np.float64),
                    ])
                )
            collected[act] = per_seed
    rows = []
    for act, per_seed in collected.items():
        stats = np.mean(per_seed, axis=0)
        dead = np.max([p[5] for p in per_seed], axis=0)
        for i, m in enumerate(sizes):
            rows.append(SweepRow(act, m, float(stats[0, i]), float(stats[1, i]), float(stats[2, i]),
                                 float(stats[3, i]), float(stats[4, i]), bool(dead[i])))
    return SweepResult(rows, epochs, batch_size, tuple(int(s) for s in seeds), str(dev),
                       time.perf_counter() - started, kernels)
