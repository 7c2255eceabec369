"""The lossy and lossless decoders' compiled hot paths, timed on what real files hold: nanoseconds a value.

Run: .venv/bin/python benchmarks/bench_decode_kernels.py [--data-dir ../shared/data] [--repeats 7]

Every signal of ``bench_lossy.SIGNALS`` the folder holds is coded at PRDN 2 % (effort best) and decoded once on
one thread while the band decoders' inputs are recorded: each band block (running contexts or block classes), each
adaptive band stream, each wavelet rebuild (bands to int64 samples: dequantising, the inverse lifting, the
prediction added, rint; ``kernels.wavelet_samples``), each time-domain frame's residual (its entropy decoding and
adaptive stages) and LPC synthesis. Each is then run again, the fastest of ``--repeats``, and summed per kind.
The same kernels decode the lossless files. The last column sets each against the whole one-thread decode of the
same files (``sancodec.decode``, the fastest of ``--repeats`` each, summed): where the lossy decode's time goes;
the rest is the beat and hum prediction, the container, header and checksums, and Python. Its ratio to the
wavelet coder's is ``bench_lossy.py``'s.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from timing import fastest_seconds

import sancodec
from sancodec.codec import adaptivebands, kernels, residual, running, waveletframe


def record_calls(coded: list[bytes]) -> dict[str, list[tuple[Callable[[], object], int]]]:
    """The decoder calls a one-thread decode of ``coded`` makes, by kind: (the call again, the values it makes)."""
    calls: dict[str, list[tuple[Callable[[], object], int]]] = defaultdict(list)
    real_block, real_adaptive = running.decode_block, adaptivebands.decode
    real_synthesis, real_lpc = kernels.wavelet_samples, kernels.lpc_synthesize
    real_residual = residual.decode_residual

    def block(data, n, contextual, out=None):
        kind = "band block, running contexts" if contextual and running.is_running(data) else \
            "band block, block classes"
        calls[kind].append((lambda: real_block(data, n, contextual), n))
        return real_block(data, n, contextual, out)

    def adaptive(data, lengths, out=None, parent=False):
        calls["adaptive band stream"].append((lambda: real_adaptive(data, lengths, parent=parent), sum(lengths)))
        return real_adaptive(data, lengths, out, parent)

    def synthesis(q, levels, delta, shift, offset, prediction):
        calls["wavelet rebuild"].append((lambda: real_synthesis(q, levels, delta, shift, offset, prediction), len(q)))
        return real_synthesis(q, levels, delta, shift, offset, prediction)

    def exact(block, length, *rest):
        calls["time-domain residual (entropy and adaptive stages)"].append(
            (lambda: real_residual(block, length, *rest), length))
        return real_residual(block, length, *rest)

    def synthesize(e, coefs, shift, bias, segment, limit):
        calls["LPC synthesis"].append((lambda: real_lpc(e, coefs, shift, bias, segment, limit), len(e)))
        return real_lpc(e, coefs, shift, bias, segment, limit)

    waveletframe.running.decode_block, waveletframe.adaptivebands.decode = block, adaptive
    kernels.wavelet_samples, kernels.lpc_synthesize = synthesis, synthesize
    residual.decode_residual = exact
    try:
        for data in coded:
            sancodec.decode(data, threads=1)
    finally:
        waveletframe.running.decode_block, waveletframe.adaptivebands.decode = real_block, real_adaptive
        kernels.wavelet_samples, kernels.lpc_synthesize = real_synthesis, real_lpc
        residual.decode_residual = real_residual
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if not kernels.COMPILED:
        raise SystemExit("the C kernels are not built: nothing to time")
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets, record_calls does not

    signals = bench_lossy.load_all(args.data_dir)
    coded = [sancodec.encode(sig, mode="lossy", prdn=2.0, effort="best") for sig in signals]
    whole = sum(fastest_seconds(lambda d=data: sancodec.decode(d, threads=1), args.repeats) for data in coded)
    calls = record_calls(coded)
    print("# Where a lossy decode's time goes\n")
    print(f"`benchmarks/bench_decode_kernels.py --data-dir {args.data_dir}`, {time.strftime('%Y-%m-%d')}; its "
          f"docstring says how. {len(signals)} signals at PRDN 2 % (effort best), decoded on one thread in "
          f"{whole * 1e3:.2f} ms.\n")
    print("| kernel | calls | values | ms, summed | ns a value | share of the whole decode |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("band block, running contexts", "band block, block classes", "adaptive band stream",
                 "wavelet rebuild", "time-domain residual (entropy and adaptive stages)", "LPC synthesis"):
        runs = calls.get(kind, [])
        seconds = sum(fastest_seconds(fn, args.repeats) for fn, _ in runs)
        values = sum(n for _, n in runs)
        per = f"{seconds / values * 1e9:.2f}" if values else "–"
        print(f"| {kind} | {len(runs)} | {values} | {seconds * 1e3:.2f} | {per} | {seconds / whole:.2f} |")


if __name__ == "__main__":
    main()
