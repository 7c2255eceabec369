"""onnxruntime vs torch eager: SAN encode+decode on 650 000 samples, ONNX sizes, session start-up.

Run: .venv/bin/python benchmarks/bench_runtime.py [--threads 2] [--repeats 5] [--markdown docs/RUNTIME.md]

Side by side in one run (medians): torch eager (``SAN.encode`` / ``SAN.decode``)
against the runtime (onnxruntime graph + numpy selection for encode, onnxruntime
decoder graph), q = 2, m = 100, mitdb 100 channel 0 z-scored, per activation.
Target (benchmark, not test): onnxruntime >= 3x torch eager on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from timing import median_seconds

from sancodec.export import export_model
from sancodec.io import read_channel
from sancodec.paper.segments import standardize
from sancodec.san.runtime import SanRuntime
from sancodec.san.sparse import select
from sancodec.train.activations import ACTIVATIONS
from sancodec.train.model import SAN

median_s = median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fp16-only", action="store_true", help="only the fp16 parity figures")
    parser.add_argument("--markdown", type=Path, help="also write the report to this Markdown file")
    args = parser.parse_args()
    if args.fp16_only:
        print(fp16_parity(args.threads))
        return
    lines = speed(args.threads, args.repeats)
    parity = fp16_parity(args.threads)
    print(f"\n{parity}")
    lines += ["", parity]
    if args.markdown:
        header = ["# Runtime benchmark", "", f"`benchmarks/bench_runtime.py --threads {args.threads} --repeats "
                  f"{args.repeats}` on {platform.machine()} ({os.cpu_count()} CPUs), {time.strftime('%Y-%m-%d')}; "
                  "medians after one warm-up, torch and onnxruntime side by side in one run.", ""]
        args.markdown.write_text("\n".join(header + lines) + "\n")


def speed(threads: int, repeats: int) -> list[str]:
    """The speed table, ONNX sizes and start-up time, printed as they are measured."""
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    torch.set_num_threads(threads)
    x = standardize(read_channel("sancodec/data/samples/100", 0)[None])
    xt = torch.from_numpy(x)
    emit(f"mitdb 100 ch0, n = {x.shape[1]}, q = 2, m = 100, {threads} threads")
    emit()
    emit("| activation | torch encode+decode ms | onnxruntime encode+decode ms | speed-up | "
         "ORT graph (conv) ms | numpy selection ms |")
    emit("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for act in ACTIVATIONS:
            model = SAN([100, 100], act, seed=0).eval()
            folder = Path(tmp) / act
            export_model(model.to_spec(), folder)
            rt = SanRuntime.from_dir(folder, providers="cpu", threads=threads)
            with torch.no_grad():
                t_torch = median_s(lambda m=model: m.decode(m.encode(xt)), repeats)
            t_ort = median_s(lambda r=rt: r.decode(r.encode(x)), repeats)
            t_graph = median_s(lambda r=rt: r.similarity(x), repeats)
            s = rt.similarity(x)
            t_sel = median_s(lambda r=rt, s=s: select(s, r.activations, r.kernel_sizes), repeats)
            emit(f"| {act} | {1000 * t_torch:.1f} | {1000 * t_ort:.1f} | {t_torch / t_ort:.2f}x | "
                 f"{1000 * t_graph:.1f} | {1000 * t_sel:.1f} |")
        folder = Path(tmp) / "peaks"
        sizes = {p.name: p.stat().st_size for p in sorted(folder.glob("*.onnx"))}
        t0 = time.perf_counter()
        SanRuntime.from_dir(folder, providers="cpu")
        startup = time.perf_counter() - t0
    emit()
    emit(f"ONNX file sizes (q = 2, m = 100): {sizes}")
    emit(f"session start-up (encoder + decoder sessions): {1000 * startup:.1f} ms")
    return out


def fp16_parity(threads: int) -> str:
    """fp16 graphs of the bundled model against fp32, on 100 000 samples of mitdb 100."""
    from sancodec.san.bundled import default_model

    x = standardize(read_channel("sancodec/data/samples/100", 0)[None, :100000])
    with tempfile.TemporaryDirectory() as tmp:
        export_model(default_model(), tmp, fp16=True)
        full = SanRuntime.from_dir(tmp, providers="cpu", threads=threads)
        half = SanRuntime.from_dir(tmp, fp16=True, providers="cpu", threads=threads)
        s32, s16 = full.similarity(x), half.similarity(x)
        a32, a16 = full.encode(x), half.encode(x)
        r32, r16 = full.decode(a32), half.decode(a32)
    return (f"fp16 parity (default model, 100 000 samples): similarity max rel error "
            f"{np.abs(s32 - s16).max() / np.abs(s32).max():.1e}, decoder max rel error "
            f"{np.abs(r32 - r16).max() / np.abs(r32).max():.1e}, activation positions differ at "
            f"{100 * ((a32 != 0) != (a16 != 0)).mean():.2f} % of samples ({int((a32 != 0).sum())} fp32 vs "
            f"{int((a16 != 0).sum())} fp16 activations): fp16 is not exact for the selection")


if __name__ == "__main__":
    main()
