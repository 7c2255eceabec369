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
import gzip
from pathlib import Path

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

SIGNALS = [
    ("ECG", "mitdb 100 MLII (360 Hz)", "wfdb/100", 0),
    ("ECG", "PTB s0010_re lead i (1000 Hz)", "wfdb/s0010_re", 0),
    ("EMG", "emgdb emg_healthy (4 kHz)", "physionet/emgdb/emg_healthy", 0),
    ("EMG", "emgdb emg_myopathy (4 kHz)", "physionet/emgdb/emg_myopathy", 0),
    ("EEG", "Bonn/UCI epilepsy, set A rows (173.6 Hz)", "uci-epilepsy/epileptic_seizure_recognition_rebuilt.csv.gz", 5),
    ("blood pressure", "mimicdb 03700181 ABP (125 Hz)", "wfdb/03700181", 1),
    ("PPG", "challenge-2015 a103l PLETH (250 Hz)", "wfdb/a103l", 2),
    ("respiration", "bidmc 01 RESP (125 Hz)", "physionet/bidmc/bidmc_01_Signals.csv", 0),
    ("CTG heart rate", "ctu-uhb-ctgdb 1001 FHR (4 Hz)", "physionet/ctu-uhb-ctgdb/1001", 0),
]


def load(data_dir: Path, path: str, channel: int) -> np.ndarray:
    full = data_dir / path
    if path.endswith(".csv.gz"):
        with gzip.open(full, "rt") as fh:
            rows = [line.rstrip().split(",") for line in fh]
        body = [r for r in rows[1:] if r and r[-1].strip() == str(channel)]
        return np.concatenate([np.asarray(r[1:-1], dtype=np.float64) for r in body[:100]])
    if not full.exists() and not full.with_name(full.name + ".hea").exists():
        if path == "wfdb/100":
            return read_channel("sancodec/data/samples/100", 0)
        raise FileNotFoundError(full)
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
