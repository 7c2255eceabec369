"""The kernel-size sweep of the paper's Table I protocol: one model per (activation, m), trained in
one batched pass per activation (``SAN(separate=True)``), selected by validation φ̄ only."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from sancodec.errors import SanConfigError
from sancodec.train.activations import ACTIVATIONS, normalize_activation_name
from sancodec.train.fit import evaluate, fit, resolve_device
from sancodec.train.model import SAN
from sancodec.train.progress import progress as _progress

__all__ = ["SweepResult", "SweepRow", "sweep"]


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
