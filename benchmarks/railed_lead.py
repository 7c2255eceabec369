"""How many valid samples of a lead saturated at the rail come back as WFDB's invalid sample (a gap to every WFDB
reader) after a lossy or near-lossless round trip: the defect format 1.16's ``floor`` mends.

The record is made by integer formulas (no random stream), written as a format 16 WFDB record and read back as a
user's would be: lead II an ECG-like wave clipped at -32767, the format's lowest valid value, a third of each
500-sample period (a lead driven into saturation); lead V with dropouts to -32768 near that rail. Each coding is
decoded and its samples counted: valid samples decoded as -32768, and dropouts not decoded as -32768. The file's
bytes and whether its header carries a floor are printed beside them.

    python benchmarks/railed_lead.py [--samples 300000]

Run it at a commit before 1.16 (a worktree) and after to see the change (``docs/results/railed_lead_floor.txt``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import wfdb

import sancodec
from sancodec.codec.container import SanReader


def railed_record(n: int, folder: Path) -> Path:
    """The two-lead format 16 record of ``n`` samples (see the module's docstring), written in ``folder``."""
    t = np.arange(n)
    ecg = np.maximum(-32767, -31000 + (t % 500) * 7 - 2200 + ((t * t * 7919) % 61 - 30))
    near = np.maximum(-32767, -32720 + ((t * 104729) % 201 - 100) + 60 * ((t % 250) < 20))
    near[(t % 20000) < 50] = -32768  # dropouts, 50 samples in every 20 000
    d = np.column_stack([ecg, near]).astype(np.int16)
    wfdb.wrsamp("railed", fs=360, units=["mV", "mV"], sig_name=["II", "V"], d_signal=d, fmt=["16", "16"],
                adc_gain=[200.0, 200.0], baseline=[0, 0], write_dir=str(folder))
    return folder / "railed"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=300_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sig = sancodec.read_signal(railed_record(args.samples, Path(tmp)))
    bad = sig.samples == -32768
    print(f"railed record: {sig.n_samples} samples x {sig.n_channels}, format 16; lead II at -32767 in "
          f"{int((sig.samples[:, 0] == -32767).sum())} samples; lead V dropouts {int(bad[:, 1].sum())}")
    print("coding | bytes | floor | valid samples decoded as -32768 (II, V) | dropouts not decoded as -32768")
    codings = [("lossy", {"prdn": p, "effort": e}) for p in (2.0, 9.0) for e in ("fast", "balanced", "best")]
    codings += [("near-lossless", {"max_error": e}) for e in (1, 3, 20)]
    for mode, options in codings:
        data = sancodec.encode(sig, mode=mode, **options)
        back = sancodec.decode(data).samples
        wrong = [int(((back[:, ch] == -32768) & ~bad[:, ch]).sum()) for ch in range(sig.n_channels)]
        lost = int(((back != -32768) & bad).sum())
        said = ", ".join(f"{k} {v}" for k, v in options.items())
        floor = SanReader(data).header.get("floor")
        print(f"{mode} {said} | {len(data)} | {floor} | {wrong[0]}, {wrong[1]} | {lost}")


if __name__ == "__main__":
    main()
