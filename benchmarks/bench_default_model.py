"""How the bundled default model (trained on ECG) does on signals it never saw.

Run: .venv/bin/python benchmarks/bench_default_model.py [--data-dir ../shared/data]

Per signal: the paper's φ̄ (CR⁻¹, L~) on the Table I segments (first 12 000 samples,
12 z-scored segments of 1000; no training, the model is fixed), and the paper's SAN-only code
(``--mode san``: the model's activations alone, no residual) on the first 60 000 samples: bits per sample
and PRDN. Signals missing from the data
folder are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lossy_signals
import numpy as np
import torch

import sancodec
from sancodec import SancodecError, Signal
from sancodec.io import read_channel
from sancodec.metrics import prdn
from sancodec.paper.segments import paper_segments
from sancodec.san.bundled import default_model
from sancodec.train.fit import evaluate
from sancodec.train.model import SAN

#: the labels of ``lossy_signals.SIGNALS`` this script weighs: one ECG record of each rate, and each other kind
UNSEEN = ("mitdb 100 MLII", "PTB s0010_re lead i", "emgdb emg_healthy", "emgdb emg_myopathy", "Bonn/UCI set A rows",
          "mimicdb 03700181 ABP", "challenge-2015 a103l PLETH", "bidmc 01 RESP", "ctu-uhb-ctgdb 1001 FHR")
SIGNALS = [signal for signal in lossy_signals.SIGNALS if signal[1] in UNSEEN]


def load(data_dir: Path, path: str, channel: int) -> np.ndarray:
    """One channel's values as read (the EEG rows' and CSV columns' unrounded); FileNotFoundError where ``data_dir``
    does not hold it (``lossy_signals.located``)."""
    full = lossy_signals.located(data_dir, path)
    if full is None:
        raise FileNotFoundError(data_dir / path)
    if path.endswith(".csv.gz"):
        return lossy_signals.eeg_rows(full, channel)
    return read_channel(full, channel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    spec = default_model()
    model = SAN.from_spec(spec)
    print(f"default model: {spec.metadata.get('trained_on')}\n")
    print("| kind | signal | φ̄ | CR⁻¹ | L̃ | `--mode san` bits/sample | `--mode san` PRDN % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind, label, path, channel in SIGNALS:
        try:
            x = load(args.data_dir, path, channel)
            segs = np.concatenate(paper_segments(x))
        except (FileNotFoundError, SancodecError) as exc:
            print(f"| {kind} | {label} | skipped: {exc} | | | | |")
            continue
        scores, _ = evaluate(model, segs)
        mean = scores.mean()
        part = x[:60000]
        sig = Signal(part[:, None], 1.0, ["x"], ["NU"])
        data = sancodec.encode(sig, spec, "san")
        back, bps = sancodec.decode(data), 8 * len(data) / len(part)
        print(f"| {kind} | {label} | {float(mean.phi[0]):.3f} | {float(mean.cr_inv[0]):.3f} | "
              f"{float(mean.l_tilde[0]):.3f} | {bps:.3f} | {prdn(part, back.samples[:, 0]):.1f} |")


if __name__ == "__main__":
    main()
