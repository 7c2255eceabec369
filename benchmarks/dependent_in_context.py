"""Dependent quantisation where effort best would use it: on a record's residual after its beat template,
against the best of the encoder's own scalar quantisers, so what that decoder change would add is measured in
context (``bench_lossy_variants.py`` weighs it against the plain coding's one quantiser, on the raw samples).

Run: .venv/bin/python benchmarks/dependent_in_context.py [--data-dir ../shared/data] [--markdown F]

Per record and PRDN target: the plain coding's step by sancodec's rate control, the beat template effort
best finds at that step (``templatesearch.best_template``: window, alignment, the template remade, gains' and
taps' grids), and the samples less its prediction. That residual is coded as ``bench_lossy_variants.py`` codes a
signal (sancodec's transform at 6 levels and band coder, a bisection on the step), its error bound the target's on
the record (the prediction is exact, so the record's error is the residual's): with each of the encoder's dead zones
and reconstruction points (``waveletframe.ROUNDING`` and ``RHO16``, then ``lossy.QUANTISERS``), the smallest kept,
and with the rate-aware 4-state trellis (``bench_lossy_variants.Dependent.dq_at``, the better of its two λ). The
bytes are the bands' (no template, header or band prediction: those are the same either way). Needs PyWavelets.
"""

from __future__ import annotations

import time

import bench_lossy_variants as variants
import numpy as np
from bench_lossy import bench_parser, load

from sancodec.codec import lossyrate, templatesearch
from sancodec.codec.lossy import QUANTISERS, LossyTarget
from sancodec.codec.waveletframe import RHO16, ROUNDING

RECORDS = [("PTB s0010_re lead i", "wfdb/s0010_re", 0), ("challenge-2015 a103l II", "wfdb/a103l", 0)]
TARGETS = (1.0, 2.0, 5.0)


def scalar_bytes(dependent: variants.Dependent, target: float) -> int:
    """The fewest bytes of ``dependent``'s signal at PRDN ``target`` under the encoder's scalar quantisers."""
    sizes = []
    try:
        for rounding, rho16 in ((ROUNDING, RHO16), *QUANTISERS):
            variants.ROUNDING, variants.SHIFT = rounding, rho16 / 16 - 0.5
            step = variants.coarsest(dependent.quantised, dependent.rebuild, dependent.x, target, dependent.scale)
            sizes.append(dependent.size(dependent.quantised(step), step))
    finally:
        variants.ROUNDING, variants.SHIFT = ROUNDING, RHO16 / 16 - 0.5
    return min(sizes)


def measure(x: np.ndarray, fs: float) -> list[tuple[float, int, int]]:
    """(target, scalar bytes, trellis bytes) of ``x``'s template residual at each of :data:`TARGETS`."""
    ref = x.astype(np.float64)
    rows = []
    for target in TARGETS:
        plain = lossyrate.rate_control(lossyrate.Prepared([x], [None]), ref, LossyTarget(prdn=target))
        prepared = templatesearch.best_template([x], ref, fs, plain.step)[0]
        residual = ref if prepared is None else ref - prepared.prediction(0)
        bound = target * float(np.std(ref)) / float(np.std(residual))  # the same error on the record's spread
        dependent = variants.Dependent(residual)
        trellis = min(dependent.dq_at(bound, lam) for lam in variants.RATE_LAMBDAS)
        rows.append((target, scalar_bytes(dependent, bound), trellis))
    return rows


def main() -> None:
    args = bench_parser(__doc__, "write the table here").parse_args()
    lines = ["| record | PRDN | best scalar quantiser, bytes | rate-aware trellis, bytes | scalar / trellis |",
             "|---|---:|---:|---:|---:|"]
    for label, path, channel in RECORDS:
        sig = load(args.data_dir, path, channel)
        if sig is None:
            continue
        for target, scalar, trellis in measure(sig.samples[:, 0].astype(np.int64), sig.fs):
            lines.append(f"| {label} | {target:g} % | {scalar} | {trellis} | {scalar / trellis:.3f}x |")
            print(lines[-1], flush=True)
    if args.markdown:
        head = ["# Dependent quantisation on the template residual", "",
                f"Measured on the 2-CPU development machine, {time.strftime('%Y-%m-%d')}, with "
                "`benchmarks/dependent_in_context.py --data-dir ../shared/data` (its docstring says how). Above 1: "
                "the trellis codes the residual's bands in fewer bytes.", ""]
        args.markdown.write_text("\n".join(head + lines) + "\n")


if __name__ == "__main__":
    main()
