"""Lossy encode time against a record's length: where sancodec's fixed costs lie next to the wavelet coder's.

Run: .venv/bin/python benchmarks/encode_lengths.py [--data-dir ../shared/data] [--markdown docs/ENCODE_LENGTHS.md]
[--signals "PTB s0010_re lead i" "bidmc 01 II"] [--prdn 2] [--repeats 7]

Each signal's first n samples (n from :data:`LENGTHS` up to its length, and the whole) are encoded at ``--prdn`` by
the wavelet coder of ``bench_lossy`` (its step search included, on one thread: ``bench_lossy.wavelet_timing``) and by
sancodec's lossy mode at ``--effort`` balanced and fast (every core, as ``sancodec.encode`` does by default), the
fastest of ``--repeats`` runs of each, the coders taking turns; each row also says how balanced coded it
(``bench_lossy.coding``). ``bench_lossy.py`` sums these ratios over whole records; this shows how they move with the
length: a coder whose time is a fixed cost plus a cost per sample loses most on short records, and a beat template,
which balanced weighs on a channel with enough beats, brings its own fixed cost (its search on the channel's head).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from bench_lossy import coding, encode_seconds, wavelet_curve, wavelet_timing
from lossy_signals import SIGNALS, load
from timing import fastest, steady_allocator

import sancodec
from sancodec import Signal

LENGTHS = (4000, 8000, 16000, 32000, 64000)
EFFORTS = ("balanced", "fast")
DEFAULT_SIGNALS = ("PTB s0010_re lead i", "bidmc 01 II", "challenge-2015 a103l II")


def prefix(sig: Signal, n: int) -> Signal:
    """``sig``'s first ``n`` samples."""
    return Signal(sig.samples[:n], sig.fs, sig.channel_names, sig.units)


def timed(sig: Signal, target: float, repeats: int) -> tuple[float, dict[str, float], str]:
    """The wavelet coder's fastest encode of ``sig`` at PRDN ``target`` (NaN where its curve does not reach it),
    sancodec's at each of :data:`EFFORTS`, the coders taking turns ``repeats`` times, and how balanced coded it."""
    curve = wavelet_curve(sig.samples[:, 0])
    wavelet, ours = math.inf, dict.fromkeys(EFFORTS, math.inf)
    for _ in range(repeats):
        wavelet = fastest(wavelet, wavelet_timing(sig.samples[:, 0], curve, target)[0])  # (min keeps no NaN)
        for effort in EFFORTS:
            ours[effort] = min(ours[effort], encode_seconds(sig, target, effort, None))
    data = sancodec.encode(sig, mode="lossy", prdn=target, effort="balanced")
    return wavelet, ours, coding(data)


def rows(sig: Signal, label: str, target: float, repeats: int) -> list[str]:
    """The table's rows for one signal: each prefix length and the whole."""
    out = []
    for n in [n for n in LENGTHS if n < sig.n_samples] + [sig.n_samples]:
        wavelet, ours, how = timed(prefix(sig, n), target, repeats)
        cells = [f"{1000 * ours[e]:.1f} ms" + ("" if math.isnan(wavelet) else f" ({ours[e] / wavelet:.2f}x)")
                 for e in EFFORTS]
        out.append(f"| {label} | {n} | {'–' if math.isnan(wavelet) else f'{1000 * wavelet:.1f} ms'} | "
                   + " | ".join(cells) + f" | {how} |")
        print(out[-1], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--signals", nargs="+", default=list(DEFAULT_SIGNALS), help="labels of bench_lossy's SIGNALS")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    steady_allocator()  # as bench_lossy times both coders (timing.steady_allocator)
    known = {label: (path, channel) for _, label, path, channel in SIGNALS}
    unknown = [s for s in args.signals if s not in known]
    if unknown:
        parser.error(f"not among bench_lossy's signals: {', '.join(unknown)}")
    table = [f"| signal | samples | wavelet coder | {' | '.join(f'sancodec --effort {e}' for e in EFFORTS)} | "
             "balanced's coding |", "|---|---:|---:|" + "---:|" * len(EFFORTS) + "---|"]
    for label in args.signals:
        sig = load(args.data_dir, *known[label])
        if sig is None:
            print(f"{label}: not under {args.data_dir}")
            continue
        table += rows(sig, label, args.prdn, args.repeats)
    text = "\n".join([
        "# Lossy encode time against a record's length", "",
        f"`benchmarks/encode_lengths.py --data-dir ../shared/data` at PRDN {args.prdn:g} %: each signal's first n "
        f"samples, the fastest of {args.repeats} encodes of each coder by turns (how: the script's docstring). In "
        "brackets, sancodec's time over the wavelet coder's.", "", *table]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
