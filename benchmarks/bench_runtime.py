"""onnxruntime vs torch eager: SAN encode+decode on 650 000 samples, ONNX sizes, session start-up.

Run: .venv/bin/python benchmarks/bench_runtime.py [--threads 2] [--repeats 5]

Side by side in one run (medians): torch eager (``SAN.encode`` / ``SAN.decode``)
against the runtime (onnxruntime graph + numpy selection for encode, onnxruntime
decoder graph), q = 2, m = 100, mitdb 100 channel 0 z-scored, per activation.
Target (benchmark, not test): onnxruntime >= 3x torch eager on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from timing import median_seconds

from sancodec.activations import ACTIVATIONS
from sancodec.export import export_model
from sancodec.loaders import read_channel
from sancodec.model import SAN
from sancodec.runtime import SanRuntime
from sancodec.segments import standardize

median_s = median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = standardize(read_channel("sancodec/data/samples/100", 0)[None])
    xt = torch.from_numpy(x)
    print(f"mitdb 100 ch0, n = {x.shape[1]}, q = 2, m = 100, {args.threads} threads\n")
    print("| activation | torch encode+decode ms | onnxruntime encode+decode ms | speed-up | "
          "ORT graph (conv) ms | numpy selection ms |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for act in ACTIVATIONS:
            model = SAN([100, 100], act, seed=0).eval()
            folder = Path(tmp) / act
            export_model(model.to_spec(), folder)
            rt = SanRuntime.from_dir(folder, providers="cpu", threads=args.threads)
            with torch.no_grad():
                t_torch = median_s(lambda m=model: m.decode(m.encode(xt)), args.repeats)
            t_ort = median_s(lambda r=rt: r.decode(r.encode(x)), args.repeats)
            t_graph = median_s(lambda r=rt: r.similarity(x), args.repeats)
            s = rt.similarity(x)
            t_sel = median_s(lambda r=rt, s=s: r._select(s), args.repeats)
            print(f"| {act} | {1000 * t_torch:.1f} | {1000 * t_ort:.1f} | {t_torch / t_ort:.2f}x | "
                  f"{1000 * t_graph:.1f} | {1000 * t_sel:.1f} |")
        folder = Path(tmp) / "peaks"
        sizes = {p.name: p.stat().st_size for p in sorted(folder.glob("*.onnx"))}
        t0 = time.perf_counter()
        SanRuntime.from_dir(folder, providers="cpu")
        startup = time.perf_counter() - t0
    print(f"\nONNX file sizes (q = 2, m = 100): {sizes}")
    print(f"session start-up (encoder + decoder sessions): {1000 * startup:.1f} ms")


if __name__ == "__main__":
    main()
