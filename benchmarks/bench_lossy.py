"""Lossy benchmark: sancodec's rate against PRDN next to a plain wavelet coder, per record.

Run: .venv/bin/python benchmarks/bench_lossy.py [--data-dir ../shared/data] [--markdown docs/LOSSY.md]

The wavelet coder is a plain, well-known design: CDF 9/7 (``bior4.4``,
periodization, 5 or 6 levels, the better of the two), one dead-zone quantiser step
for every subband, DPCM on the approximation band, and static per-subband tables —
coded here with sancodec's own range coder (``sancodec.codec.entropy``), so both codecs
share one entropy coder and every byte is counted. Decoded samples are rounded to
integers. Needs PyWavelets (installed by ``make bench``, not a runtime dependency).

sancodec's points are its lossy mode (the SAN's activations only, several amplitude
steps) and its near-lossless mode (a max-error sweep), channel 0, with the model
referenced by SHA-256 instead of embedded, as on a device that ships the model.
CR = 11 bits / (bits per sample) (the MIT-BIH convention) and PRDN = 100 ||x - x^|| / ||x - mean(x)||
(``sancodec.metrics.prdn``); "CR @ PRDN p" interpolates each codec's curve (log CR against log PRDN)
and is blank where the curve does not reach p.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pywt

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.codec.entropy import decode_arrays, encode_arrays
from sancodec.metrics import prdn

RECORDS = ["wfdb/100", "wfdb/a103l", "wfdb/03700181", "physionet/emgdb/emg_healthy", "physionet/drivedb/drive17a",
           "physionet/ctu-uhb-ctgdb/1001", "wfdb/s0010_re", "wfdb/test01_00s"]
TARGETS = (1.0, 2.0, 5.0, 9.0)
WAVELET_STEPS = tuple(float(2 ** (k / 2)) for k in range(-2, 33))  # 0.5 ... 65536 LSB
MAX_ERRORS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
LOSSY_STEPS = (0.02, 0.1)  # the default step, and a coarser one
HEADER_BYTES = 12  # what a wavelet file needs besides the coded bands: n, levels, step, mean


def wavelet_code(x: np.ndarray, step: float, levels: int) -> tuple[int, np.ndarray]:
    """Code ``x`` with the reference wavelet coder; returns (bytes, decoded integers)."""
    mean = float(np.rint(x.mean()))
    bands = pywt.wavedec(x.astype(np.float64) - mean, "bior4.4", mode="periodization", level=levels)
    q = [np.fix(b / step).astype(np.int64) for b in bands]  # dead zone: |c| < step -> 0
    streams = [np.diff(q[0], prepend=0)] + q[1:]
    blob = encode_arrays(streams, [True] * len(streams))
    back = decode_arrays(blob, [len(s) for s in streams], [True] * len(streams))
    back[0] = np.cumsum(back[0])
    deq = [np.where(b == 0, 0.0, (b + 0.5 * np.sign(b)) * step) for b in back]
    y = pywt.waverec(deq, "bior4.4", mode="periodization")[: len(x)] + mean
    return len(blob) + HEADER_BYTES, np.rint(y)


def wavelet_curve(x: np.ndarray) -> list[tuple[float, float, str]]:
    """(PRDN %, CR, setting) for each quantiser step, the better of 5 or 6 levels."""
    points = []
    for step in WAVELET_STEPS:
        best = min((wavelet_code(x, step, levels) + (levels,) for levels in (5, 6)), key=lambda r: r[0])
        size, y, levels = best
        points.append((prdn(x, y), 11 * len(x) / (8 * size), f"step {step:.3g}, {levels} levels"))
    return points


def san_curve(sig: Signal) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]:
    """Lossy (amplitude-step sweep) and near-lossless (max-error sweep) points for channel 0."""
    x = sig.samples[:, 0]
    n = len(x)

    def point(label: str, **options) -> tuple[float, float, str]:
        data = sancodec.encode(sig, embed_model=False, **options)
        y = sancodec.decode(data).samples[:, 0]
        return prdn(x, y), 11 * n / (8 * len(data)), label

    lossy = [point(f"step {s}", mode="san", amplitude_step=s) for s in LOSSY_STEPS]
    near = [point(f"E = {e}", mode="near-lossless", max_error=e) for e in MAX_ERRORS]
    return lossy, near


def cr_at(points: list[tuple[float, float, str]], target: float) -> float | None:
    """CR at PRDN ``target`` on the upper envelope of ``points``, log-log interpolated."""
    pts = sorted((p, c) for p, c, _ in points if p > 0)
    best = []
    for p, c in pts:  # keep the Pareto front: CR must rise with PRDN
        if not best or c > best[-1][1]:
            best.append((p, c))
    for (p0, c0), (p1, c1) in zip(best, best[1:]):
        if p0 <= target <= p1:
            t = (np.log(target) - np.log(p0)) / (np.log(p1) - np.log(p0))
            return float(np.exp(np.log(c0) + t * (np.log(c1) - np.log(c0))))
    if best and abs(best[-1][0] - target) < 1e-9:
        return best[-1][1]
    return None


def fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    summary = ["| record (channel 0) | codec | " + " | ".join(f"CR @ PRDN {t:g} %" for t in TARGETS) + " |",
               "|---|---|" + "---:|" * len(TARGETS)]
    lossy_rows = ["| record (channel 0) | sancodec lossy: setting | PRDN % | CR | wavelet coder CR at that PRDN |",
                  "|---|---|---:|---:|---:|"]
    detail = ["| record | codec | setting | PRDN % | CR |", "|---|---|---|---:|---:|"]
    for name in RECORDS:
        path = args.data_dir / name
        if not path.with_name(path.name + ".hea").exists() and name == "wfdb/100":
            path = Path("sancodec/data/samples/100")
        if not path.with_name(path.name + ".hea").exists():
            continue
        try:
            sig = read_signal(path).select_channels([0])
        except SancodecError as exc:
            summary.append(f"| {name} | not supported: {exc} |" + " |" * len(TARGETS))
            continue
        sig.annotations = []
        lossy, near = san_curve(sig)
        wavelet = wavelet_curve(sig.samples[:, 0])
        curves = {"wavelet coder": wavelet, "sancodec near-lossless": near, "sancodec lossy": lossy}
        for codec, points in curves.items():
            if codec != "sancodec lossy":
                summary.append(f"| {name} | {codec} | " + " | ".join(fmt(cr_at(points, t)) for t in TARGETS) + " |")
            detail += [f"| {name} | {codec} | {label} | {p:.2f} | {c:.2f} |" for p, c, label in points]
        lossy_rows += [f"| {name} | {label} | {p:.2f} | {c:.2f} | {fmt(cr_at(wavelet, p))} |" for p, c, label in lossy]
        print(*summary[-2:], *lossy_rows[-len(lossy):], sep="\n", flush=True)
    text = "\n".join(["## Near-lossless: CR at a given PRDN (higher is better)", "", *summary, "",
                      "## Lossy (the SAN's activations only) next to the wavelet coder at the same PRDN", "",
                      *lossy_rows, "",
                      "## Every measured point", "", *detail]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(HEADER.format(date=time.strftime("%Y-%m-%d"), cpus=os.cpu_count()) + text)


HEADER = """# Lossy coding against a wavelet coder

Measured on the {cpus}-CPU development machine (CPU only), {date}, with `make bench`
(`benchmarks/bench_lossy.py --data-dir ../shared/data`; the design of both sides is in the script's docstring).
sancodec uses its bundled default model (trained on ECG) and references it by SHA-256, as a device would;
its bytes include the record's WFDB header (metadata, comments), the wavelet coder's only 12 bytes of its own.
The wavelet coder shares sancodec's range coder, so both sides are coded by the same entropy coder.
"–": the curve does not reach that PRDN (near-lossless E = 1 is its finest lossy setting; below it only
lossless mode). PRDN 0 points (near-lossless on signals whose values sit on a grid) are exact and left out
of the interpolation.

"""


if __name__ == "__main__":
    main()
