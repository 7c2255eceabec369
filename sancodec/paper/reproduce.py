"""Reproduce the paper's Tables I–III (docs/PAPER.md), with figures, CSV and Markdown outputs.

``table1`` sweeps m = 1…250 for the four activations on each PhysioNet database;
``table2`` trains q = 2 SANs on the UCI epilepsy set and a CNN on their
reconstructions; ``table3`` does the same in 2-D on MNIST with a fully connected
classifier. Model selection (epoch, m, classifier epoch) uses validation data
only; test figures are reported for what validation chose. ``quick=True`` runs
a tiny version of each protocol (few m, 1–2 epochs, small subsets) to check the
pipeline end to end: its numbers are not results.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sancodec._atomic import write_bytes_atomic, write_text_atomic
from sancodec.paper.datasets import (
    LOCAL_TABLE1,
    PAPER_TABLE1,
    load_mnist,
    load_uci_epilepsy,
    merge_epilepsy_classes,
    minmax,
    split_indices,
    table1_signal,
)
from sancodec.paper.segments import paper_segments
from sancodec.train.activations import ACTIVATIONS
from sancodec.train.fit import evaluate, fit, resolve_device
from sancodec.train.model import SAN
from sancodec.train.sweep import sweep

__all__ = ["ClassifierResult", "table1", "table2", "table3", "train_classifier"]

PAPER_TABLE2 = {"peaks": (21, .35, .47, .41, 81.3), "max_pool_indices": (20, .40, .51, .45, 79.3)}
PAPER_TABLE3 = {"max_pool_indices": (2, .55, 93.3), "peaks": (3, .34, 77.3)}


# ------------------------------------------------------------------ helpers
def _save_figure(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    write_bytes_atomic(path, buf.getvalue())


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


# ------------------------------------------------------------------ Table I
def table1(
    data_dir: Path | None,
    out_dir: Path,
    *,
    quick: bool = False,
    databases: Sequence[str] | None = None,
    seeds: int = 1,
    device: str = "auto",
    progress: bool = False,
    figures_dir: Path | None = None,
) -> str:
    """Run the Table I protocol; writes table1.csv, table1.md and Figures 3–5; returns the Markdown.

    Figures go to ``figures_dir`` (default: ``out_dir``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    dbs = list(databases or (LOCAL_TABLE1 if data_dir is not None else []))
    sizes = range(1, 9) if quick else range(1, 251)
    epochs = 2 if quick else 20
    results, sources, started = {}, {}, time.perf_counter()
    for db in dbs:
        x, sources[db] = table1_signal(db, data_dir)
        train_set, val_set, test_set = paper_segments(x)
        results[db] = sweep(train_set, val_set, test_set, kernel_sizes=sizes, epochs=epochs, batch_size=2,
                            seeds=tuple(range(seeds)), device=device, progress=progress)
    seconds = time.perf_counter() - started
    rows = [{"database": db, **asdict(r)} for db, res in results.items() for r in res.rows]
    if rows:
        _write_csv(out_dir / "table1.csv", rows)
    lines = [
        f"Table I protocol: m = {sizes.start}…{sizes.stop - 1}, {epochs} epochs, batch 2, {seeds} seed(s), "
        f"selection on validation φ̄; {seconds:.0f} s in all.", "",
        "| database (record) | activation | m | CR⁻¹ | L̃ | φ̄ | paper m, CR⁻¹, L̃, φ̄ | Δφ̄ |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for db, res in results.items():
        for act, row in res.selected().items():
            paper = PAPER_TABLE1.get(db, {}).get(act)
            ref = f"{paper[0]}, {paper[1]:.2f}, {paper[2]:.2f}, {paper[3]:.2f}" if paper else "–"
            delta = f"{row.test_phi - paper[3]:+.3f}" if paper else "–"
            lines.append(f"| {db} ({sources[db]}) | {act} | {row.m} | {row.test_cr_inv:.3f} | "
                         f"{row.test_l_tilde:.3f} | {row.test_phi:.3f} | {ref} | {delta} |")
    text = "\n".join(lines) + "\n"
    write_text_atomic(out_dir / "table1.md", text)
    if results:
        figures = figures_dir if figures_dir is not None else out_dir
        figures.mkdir(parents=True, exist_ok=True)
        _table1_figures(results, figures)
    return text


def _table1_figures(results: dict[str, Any], out_dir: Path) -> None:
    plt = _plt()
    n = len(results)
    fig3, ax3 = plt.subplots(n, 1, figsize=(7, 3 * n), squeeze=False)
    fig4, ax4 = plt.subplots(n, 1, figsize=(7, 3 * n), squeeze=False)
    fig5, ax5 = plt.subplots(n, len(ACTIVATIONS), figsize=(12, 2.4 * n), squeeze=False)
    for i, (db, res) in enumerate(results.items()):
        chosen = res.selected()
        for j, act in enumerate(ACTIVATIONS):
            rows = [r for r in res.rows if r.activation == act]
            if not rows:
                continue
            ms = [r.m for r in rows]
            ax3[i, 0].scatter([r.test_cr_inv for r in rows], [r.test_l_tilde for r in rows], s=6, label=act)
            ax4[i, 0].plot(ms, [r.val_phi for r in rows], lw=1, label=act)
            k = res.kernels[act][ms.index(chosen[act].m)]
            ax5[i, j].plot(k, lw=1)
            ax5[i, j].set_title(f"{db} {act} m={chosen[act].m}", fontsize=8)
        ax3[i, 0].set(title=f"{db}: test CR⁻¹ vs L̃, one point per m", xlabel="CR⁻¹", ylabel="L̃")
        ax4[i, 0].set(title=f"{db}: validation φ̄ vs m", xlabel="m", ylabel="φ̄")
        ax3[i, 0].legend(fontsize=7)
        ax4[i, 0].legend(fontsize=7)
    for fig, name in ((fig3, "figure3_crinv_vs_loss.png"), (fig4, "figure4_phi_vs_m.png"),
                      (fig5, "figure5_selected_kernels.png")):
        fig.tight_layout()
        _save_figure(fig, out_dir / name)
        plt.close(fig)


# ------------------------------------------------------------- classifiers
class EpilepsyCNN(nn.Module):
    """docs/PAPER.md's CNN: conv(1→3,k5)+ReLU+pool2, conv(3→16,k5)+ReLU+pool2, FC 656→120→84→3, log-softmax."""

    def __init__(self, n_classes: int = 3, length: int = 178) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 3, 5), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(3, 16, 5), nn.ReLU(), nn.MaxPool1d(2)
        )
        flat = 16 * (((length - 4) // 2 - 4) // 2)
        self.head = nn.Sequential(nn.Linear(flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                  nn.Linear(84, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.head(self.features(x.unsqueeze(1)).flatten(1)), dim=1)


class MnistFNN(nn.Module):
    """A fully connected softmax classifier on the 784 pixels (or reconstructions)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.fc(x.flatten(1)), dim=1)


@dataclass
class ClassifierResult:
    best_epoch: int
    val_accuracy: float
    test_accuracy: float
    history: list[float] = field(default_factory=list)


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), 1024):
            correct += int((model(x[start : start + 1024]).argmax(1) == y[start : start + 1024]).sum())
    return 100.0 * correct / len(x)


def train_classifier(
    model: nn.Module,
    data: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    device: str = "auto",
    lr: float = 1e-3,
) -> ClassifierResult:
    """NLL + Adam; accuracy is counted afresh every epoch; the best validation epoch is kept (a copy)."""
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model.to(dev)
    tensors = {k: (torch.as_tensor(x, dtype=torch.float32, device=dev), torch.as_tensor(y, device=dev))
               for k, (x, y) in data.items()}
    xtr, ytr = tensors["train"]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.as_tensor(rng.permutation(len(xtr)), device=dev)
        for start in range(0, len(xtr), batch_size):
            idx = order[start : start + batch_size]
            loss = nn.functional.nll_loss(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        acc = _accuracy(model, *tensors["val"])
        history.append(acc)
        if best is None or acc > best[0]:
            best = (acc, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
    assert best is not None
    model.load_state_dict(best[2])
    return ClassifierResult(best[1], best[0], _accuracy(model, *tensors["test"]), history)


def _reconstruct(model: SAN, x: np.ndarray) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, len(x), 2048):
            xb = torch.as_tensor(x[start : start + 2048], dtype=torch.float32, device=model.weight.device)
            out.append(model(xb)[0].cpu().numpy())
    return np.concatenate(out)


def _table_markdown(title: str, rows: list[dict[str, Any]], baseline: ClassifierResult, paper: dict,
                    paper_base: float) -> str:
    lines = [title, "", f"Baseline classifier on the original inputs: test accuracy {baseline.test_accuracy:.2f} % "
             f"(epoch {baseline.best_epoch} by validation; paper {paper_base} %).", "",
             "| activation | m | CR⁻¹ | L̃ | φ̄ | accuracy % | paper |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ref = paper.get(r["activation"])
        ref_text = ", ".join(str(v) for v in ref) if ref else "–"
        lines.append(f"| {r['activation']} | {r['m']} | {r['test_cr_inv']:.3f} | {r['test_l_tilde']:.3f} | "
                     f"{r['test_phi']:.3f} | {r['test_accuracy']:.2f} | {ref_text} |")
    return "\n".join(lines) + "\n"


def _classifier_table(
    stem: Path,
    title: str,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    sizes: Sequence[int],
    dim: int,
    epochs: int,
    batch_size: int,
    classifier: type[nn.Module],
    paper: tuple[dict, float],
    device: str,
    progress: bool,
) -> str:
    """Tables II and III: the baseline classifier; per activation, q = 2 SANs for every m (one batched
    model), selection on validation φ̄ and a classifier on the chosen model's reconstructions."""
    table_started = time.perf_counter()
    baseline = train_classifier(classifier(), splits, epochs=epochs, batch_size=batch_size, device=device)
    rows = []
    xtr, xva, xte = splits["train"][0], splits["val"][0], splits["test"][0]
    for act in ACTIVATIONS:
        started = time.perf_counter()
        model = SAN([m for m in sizes for _ in range(2)], act, dim=dim, separate=True, group_size=2, seed=0)
        result = fit(model, xtr, xva, epochs=epochs, batch_size=batch_size, seed=0, device=device, progress=progress,
                     reinit_dead=True)
        test_scores = evaluate(model, xte)[0].mean()
        best = int(np.argmin(result.best_val_phi))
        chosen = model.single(best)
        recon = {k: (_reconstruct(chosen, x), y) for k, (x, y) in splits.items()}
        clf = train_classifier(classifier(), recon, epochs=epochs, batch_size=batch_size, device=device)
        rows.append({
            "activation": act, "m": sizes[best], "san_epoch": int(result.best_epoch[best]),
            "val_phi": round(float(result.best_val_phi[best]), 4),
            "test_cr_inv": round(float(test_scores.cr_inv[best]), 4),
            "test_l_tilde": round(float(test_scores.l_tilde[best]), 4),
            "test_phi": round(float(test_scores.phi[best]), 4),
            "classifier_epoch": clf.best_epoch, "val_accuracy": round(clf.val_accuracy, 2),
            "test_accuracy": round(clf.test_accuracy, 2), "dead_kernels": len(result.dead_kernels),
            "reinitialized": len(result.reinitialized),
            "seconds": round(time.perf_counter() - started, 1),
            "per_m_val_phi": json.dumps({int(m): round(float(v), 4) for m, v in zip(sizes, result.best_val_phi)}),
        })
    _write_csv(stem.with_suffix(".csv"), rows)
    title = f"{title}; {time.perf_counter() - table_started:.0f} s in all."
    text = _table_markdown(title, rows, baseline, *paper)
    write_text_atomic(stem.with_suffix(".md"), text)
    return text


# ----------------------------------------------------------------- Table II
QUICK_ROWS = 1000  # --quick uses this many UCI rows (the full set: 11 500, 8 740 for training)

def table2(data_dir: Path, out_dir: Path, *, quick: bool = False, device: str = "auto",
           progress: bool = False) -> str:
    """UCI epilepsy: 3 classes, 76/12/12 split, global [0, 1] scaling, q = 2, m = 15…22, batch 16."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir / "uci-epilepsy" if (data_dir / "uci-epilepsy").is_dir() else data_dir
    x, y = load_uci_epilepsy(folder)
    x, y = minmax(x), merge_epilepsy_classes(y)
    if quick and len(x) > QUICK_ROWS:  # every k-th row: all classes, a fraction of the training time
        keep = np.arange(0, len(x), len(x) // QUICK_ROWS)[:QUICK_ROWS]
        x, y = x[keep], y[keep]
    split = split_indices(len(x))
    splits = {k: (x[getattr(split, k)], y[getattr(split, k)]) for k in ("train", "val", "test")}
    sizes = [15, 16] if quick else list(range(15, 23))
    epochs = 1 if quick else 20
    title = (f"Table II: {len(split.train)}/{len(split.val)}/{len(split.test)} split, m = {sizes[0]}…{sizes[-1]}, "
             f"{epochs} epochs, batch 16")
    return _classifier_table(out_dir / "table2", title, splits, sizes, 1, epochs, 16, EpilepsyCNN,
                             (PAPER_TABLE2, 90.54), device, progress)


# ---------------------------------------------------------------- Table III
def table3(data_dir: Path, out_dir: Path, *, quick: bool = False, device: str = "auto",
           progress: bool = False, limit: int | None = None) -> str:
    """MNIST: 50k/10k/10k, q = 2 kernels of m x m, m = 1…7, batch 64, softmax classifier."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = data_dir / "mnist" if (data_dir / "mnist").is_dir() else data_dir
    data = load_mnist(folder, n_val=100 if quick else 10000)
    if quick or limit:
        n = limit or 400
        data = {k: (x[:n], y[:n]) for k, (x, y) in data.items()}
    sizes = [1, 2] if quick else list(range(1, 8))
    epochs = 1 if quick else 20
    sizes_text = f"{len(data['train'][0])}/{len(data['val'][0])}/{len(data['test'][0])}"
    title = f"Table III: MNIST {sizes_text}, q = 2, m = {sizes[0]}…{sizes[-1]}, {epochs} epochs, batch 64"
    return _classifier_table(out_dir / "table3", title, data, sizes, 2, epochs, 64, MnistFNN,
                             (PAPER_TABLE3, 91.53), device, progress)
