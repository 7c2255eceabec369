"""Multi-channel lossy files: whole records at a PRDN target, with and without coding channels as their
difference from earlier decoded ones (format 1.10), next to the wavelet coder channel by channel.

Run: .venv/bin/python benchmarks/bench_multilead.py [--data-dir ../shared/data] [--markdown docs/LOSSY_MULTILEAD.md]

Each record of :data:`RECORDS` is coded whole (every channel at its own rate) by ``sancodec.encode(...,
mode="lossy", prdn=P)`` at ``--effort`` default and fast, and again with ``lossyfile.predict_lossy_across`` turned
into a no-op: every channel on its own (the rest of format 1.10, mains hum included). The wavelet coder is
``bench_lossy``'s, run on each channel by itself (it has no inter-channel prediction, like most wavelet ECG
coders); its bytes at PRDN P are the sum over the channels of those its curve gives at P (interpolated, log-log).
CR = 11 bits per sample over the bits per sample of the whole file (header and framing included on sancodec's
side), as bench_lossy counts. Every channel's PRDN is checked against P. Encode seconds are the fastest of
``--repeats`` runs, the two ways of coding taking turns.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import numpy as np
from bench_lossy import TARGETS, bench_parser, cr_at, table_head, wavelet_curve

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.codec import lossyfile
from sancodec.metrics import prdn

#: (label, path under --data-dir): the records of several channels, ECG first.
RECORDS = [
    ("PTB s0010_re, 12 leads + 3 Frank leads", "wfdb/s0010_re"),
    ("macecgdb test01_00s, 4 ECG", "wfdb/test01_00s"),
    ("mitdb 100, MLII + V5", "wfdb/100"),
    ("challenge-2015 a103l, ECG II, V, PLETH", "wfdb/a103l"),
    ("mimicdb 03700181, MCL1, ABP, RESP", "wfdb/03700181"),
    ("mixedsignals, II, III, V, ABP, Pleth, Resp", "wfdb/mixedsignals"),
]
EFFORTS = ("default", "fast")


@contextmanager
def channels_on_their_own():
    """Every channel coded by itself (no difference from earlier channels)."""
    saved = lossyfile.predict_lossy_across
    lossyfile.predict_lossy_across = lambda *args: None
    try:
        yield
    finally:
        lossyfile.predict_lossy_across = saved


def coded(sig: Signal, target: float, effort: str) -> tuple[int, float]:
    """Bytes of the lossy file at PRDN ``target`` and the seconds it took; every channel checked."""
    start = time.perf_counter()
    data = sancodec.encode(sig, mode="lossy", prdn=target, effort=effort)
    seconds = time.perf_counter() - start
    back = sancodec.decode(data).samples
    for ch in range(sig.n_channels):
        got = prdn(sig.samples[:, ch].astype(np.float64), back[:, ch].astype(np.float64))
        assert got <= target * (1 + 1e-9) or not np.ptp(sig.samples[:, ch]), f"channel {ch}: {got} > {target}"
    return len(data), seconds


def both_ways(sig: Signal, target: float, effort: str, repeats: int) -> dict[str, tuple[int, float]]:
    """:func:`coded` with the channels on their own and as differences, taking turns ``repeats`` times: per way,
    the bytes and the fastest encode."""
    best: dict[str, tuple[int, float]] = {}
    for _ in range(repeats):
        with channels_on_their_own():
            alone = coded(sig, target, effort)
        for way, (size, seconds) in (("on their own", alone), ("as differences", coded(sig, target, effort))):
            best[way] = (size, min(seconds, best.get(way, (size, math.inf))[1]))
    return best


def main() -> None:
    parser = bench_parser(__doc__, "also write the table to this file")
    parser.add_argument("--repeats", type=int, default=3, help="encode time: the fastest of this many runs")
    args = parser.parse_args()
    table = table_head(["record (channels x samples)", "codec"])
    speed = ["| record | effort | encode, channels on their own | encode, as differences | ratio |",
             "|---|---|---:|---:|---:|"]
    for label, path in RECORDS:
        try:
            sig = read_signal(args.data_dir / path)
        except (SancodecError, OSError) as exc:
            table.append(f"| {label} | not read: {exc} |" + " |" * len(TARGETS))
            continue
        steps = sig.sample_steps()
        values = sum(len(sig.samples[::steps[ch], ch]) for ch in range(sig.n_channels))
        curves = [wavelet_curve(sig.samples[::steps[ch], ch].astype(np.int64)) for ch in range(sig.n_channels)]
        wavelet = []
        for t in TARGETS:
            crs = [cr_at(curve, t) for curve in curves]
            wavelet.append(None if None in crs else 11 * values / 8 / sum(
                11 * len(sig.samples[::steps[ch], ch]) / 8 / cr for ch, cr in enumerate(crs)))
        name = f"{label} ({sig.n_channels} x {sig.n_samples})"
        table.append(f"| {name} | wavelet coder, channel by channel | "
                     + " | ".join("–" if w is None else f"{w:.2f}" for w in wavelet) + " |")
        for effort in EFFORTS:
            rows: dict[str, list[int]] = {"on their own": [], "as differences": []}
            times = {"on their own": 0.0, "as differences": 0.0}
            for t in TARGETS:
                for way, (size, seconds) in both_ways(sig, t, effort, args.repeats).items():
                    rows[way].append(size)
                    times[way] += seconds
            flag = "" if effort == "default" else f" --effort {effort}"
            for way, sizes in rows.items():
                crs = [11 * values / 8 / s for s in sizes]
                table.append(f"| | sancodec lossy{flag}, channels {way} | " + " | ".join(
                    f"{c:.2f}" + ("" if w is None else f" ({c / w:.2f}x)") for c, w in zip(crs, wavelet)) + " |")
            speed.append(f"| {label} | {effort} | {times['on their own']:.3f} s | {times['as differences']:.3f} s | "
                         f"{times['as differences'] / times['on their own']:.2f} |")
        print(*table[-5:], sep="\n", flush=True)
    text = "\n".join([
        "# Multi-channel records: channels coded as differences from earlier ones", "",
        "Measured with `benchmarks/bench_multilead.py --data-dir ../shared/data` (how: the script's docstring). "
        "CR = 11 bits per sample over the whole file's bits per sample; in brackets, the ratio to the wavelet "
        "coder run on each channel by itself. \"channels on their own\": every channel coded by itself (the rest "
        "of format 1.10 included); \"as differences\": where a channel is close to a combination of earlier "
        "decoded ones, coded as the difference (format 1.10, `sancodec/codec/lossycross.py`). Every channel meets "
        "the PRDN.", "",
        "## CR at a given PRDN (every channel at or below it)", "", *table, "",
        f"## Encode seconds, summed over the four targets (the fastest of {args.repeats} runs of each)", "",
        *speed]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
