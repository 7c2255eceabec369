"""Core speed benchmark: SAN encode/decode per activation, Peaks vs convolution, one Table I sweep.

Run: .venv/bin/python benchmarks/bench_core.py [--threads 2] [--repeats 7] [--skip-sweep]

All timings come from one run, side by side, as medians over repeats; the
figure that matters is the ratio (Peaks / conv), since machines are noisy.
Target: Peaks activation <= 3x the encoder convolution (650 000 samples, q = 2, m = 100).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from timing import median_seconds

from sancodec.io import read_channel
from sancodec.paper.segments import paper_segments, standardize
from sancodec.train.activations import ACTIVATIONS, apply_activation
from sancodec.train.model import SAN, same_padding
from sancodec.train.sweep import sweep

RECORD = "sancodec/data/samples/100"


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    return 1000 * median_seconds(fn, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="Using padding=.same.")

    x = standardize(read_channel(RECORD, 0)[None])  # (1, 650000)
    xt = torch.from_numpy(x)
    n = xt.shape[-1]
    print(f"signal: mitdb 100 channel 0, n = {n}, q = 2, m = 100, threads = {args.threads}")
    print()
    print("| activation | encode ms | decode ms | encode+decode ms | Msamples/s | activations |")
    print("|---|---:|---:|---:|---:|---:|")
    with torch.no_grad():
        for act in ACTIVATIONS:
            model = SAN([100, 100], act, seed=0).eval()
            alpha = model.encode(xt)
            enc = median_ms(lambda m=model: m.encode(xt), args.repeats)
            dec = median_ms(lambda m=model, a=alpha: m.decode(a), args.repeats)
            total = enc + dec
            count = int((alpha != 0).sum())
            print(f"| {act} | {enc:.1f} | {dec:.1f} | {total:.1f} | {n / total / 1000:.1f} | {count} |")

        model = SAN([100, 100], "peaks", seed=0).eval()
        w = model.masked_weight().unsqueeze(1)
        before, after = same_padding(100)
        xp1 = xt.unsqueeze(1)
        conv = median_ms(lambda: F.conv1d(F.pad(xp1, (before, after)), w), args.repeats)
        s = model.encode_dense(xt)
        peak = median_ms(lambda: apply_activation("peaks", s, [100, 100]), args.repeats)
        same = median_ms(lambda: F.conv1d(xp1, w, padding="same"), max(3, args.repeats // 2))
    print()
    print("| step | ms | ratio to conv |")
    print("|---|---:|---:|")
    print(f"| conv1d, explicit F.pad | {conv:.1f} | 1.00 |")
    print(f"| Peaks activation (exact, parallel rounds) | {peak:.1f} | {peak / conv:.2f} |")
    print(f"| conv1d, padding='same' (for reference) | {same:.1f} | {same / conv:.2f} |")
    verdict = "meets" if peak <= 3 * conv else "MISSES"
    print(f"\nPeaks / conv = {peak / conv:.2f} ({verdict} the <= 3x target)")

    if not args.skip_sweep:
        train, val, test = paper_segments(read_channel(RECORD, 0))
        t0 = time.perf_counter()
        result = sweep(train, val, test, kernel_sizes=range(1, 251), epochs=20, batch_size=2, device="cpu")
        seconds = time.perf_counter() - t0
        print(f"\nTable I protocol, mitdb 100 ch 0: 4 activations x m = 1..250 x 20 epochs, batch 2: {seconds:.1f} s")
        print(result.to_markdown())


if __name__ == "__main__":
    main()
