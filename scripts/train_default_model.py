"""Train the bundled default model: q = 2 Peaks kernels on ECG, m chosen by validation φ̄.

Run: .venv/bin/python scripts/train_default_model.py --data-dir ../shared/data
(`make model` does this). Training records (mitdb 100, the demo record, is left
out so the demo shows the model on unseen data): macecgdb test01_00s
(4 leads, 500 Hz) and challenge-2015 a103l (II, V, 250 Hz). Each channel is
cut into 1000-sample segments, each z-scored (the paper's normalisation);
every 5th segment is held out for validation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from sancodec import save_model
from sancodec.export import export_model
from sancodec.io import read_channel
from sancodec.paper.segments import standardize
from sancodec.train.fit import fit
from sancodec.train.model import SAN
from sancodec.train.sweep import sweep

RECORDS = [("wfdb/test01_00s", range(4)), ("wfdb/a103l", range(2))]
SEGMENT = 1000


def segments(data_dir: Path) -> np.ndarray:
    out = []
    for name, channels in RECORDS:
        for ch in channels:
            x = read_channel(data_dir / name, ch)
            usable = len(x) // SEGMENT * SEGMENT
            out.append(standardize(x[:usable].reshape(-1, SEGMENT)))
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("sancodec/data/models/default.json"))
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(2)
    started = time.perf_counter()
    segs = segments(args.data_dir)
    val_mask = np.arange(len(segs)) % 5 == 4
    train, val = segs[~val_mask], segs[val_mask]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train), size=min(60, len(train)), replace=False)
    scan = sweep(train[pick], val, val, activations=["peaks"], kernel_sizes=range(10, 161, 5),
                 epochs=args.epochs, batch_size=8, device="cpu")
    m = scan.selected()["peaks"].m
    model = SAN([m, m], "peaks", seed=0)
    result = fit(model, train, val, epochs=args.epochs, batch_size=8, seed=0, device="cpu")
    spec = model.to_spec(
        normalization={"kind": "zscore"},
        metadata={
            "name": "sancodec-default-ecg",
            "trained_on": "macecgdb test01_00s (4 leads), challenge-2015 a103l II+V "
                          f"({len(train)} train / {len(val)} validation z-scored segments of {SEGMENT})",
            "selection": f"m={m} by validation phi over m=10..160 step 5; epoch {int(result.best_epoch[0])}",
            "validation_phi": round(float(result.best_val_phi[0]), 4),
            "command": "python scripts/train_default_model.py --data-dir ../shared/data",
        },
    )
    save_model(spec, args.out)
    export_model(spec, args.out.with_suffix(""))  # the ONNX graphs the torch-free runtime ships with
    print(f"m = {m}, best epoch {int(result.best_epoch[0])}, validation φ̄ {result.best_val_phi[0]:.3f}, "
          f"dead kernels {result.dead_kernels}, {time.perf_counter() - started:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
