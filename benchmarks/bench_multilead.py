"""Multi-channel lossy files: whole records at a PRDN target, with and without coding channels as their
difference from earlier decoded ones (format 1.10), next to the wavelet coder channel by channel.

Run: .venv/bin/python benchmarks/bench_multilead.py [--data-dir ../shared/data] [--markdown docs/LOSSY_MULTILEAD.md]

Each record of :data:`RECORDS` is coded whole (every channel at its own rate) by ``sancodec.encode(...,
mode="lossy", prdn=P)`` at ``--effort`` best, balanced and fast, and again with
``lossyfile.predict_lossy_across`` turned into a no-op: every channel on its own (the rest of format 1.10, mains hum
included). The wavelet coder is ``bench_lossy``'s, run on each channel by itself (it has no inter-channel
prediction, like most wavelet ECG coders); its bytes at PRDN P are the sum over the channels of those its curve
gives at P (interpolated, log-log). CR = 11 bits per sample over the bits per sample of the whole file (header and
framing included on sancodec's side), as bench_lossy counts. Every channel's PRDN is checked against P. A record's
gaps (mixedsignals' dropouts to WFDB's invalid sample) are left out of every PRDN, as sancodec's files leave them
(format 1.15, ``codec.gaps``), and the wavelet coder codes each channel with its gaps filled as sancodec fills them
(``gaps.filled``): like with like.
Encode seconds are the fastest of ``--repeats`` runs, every coding taking turns: sancodec's whole-record encode
(on every core, as ``sancodec.encode`` does by default: its channels side by side) and the wavelet coder's, its step
search included (``bench_lossy.wavelet_timing``), channel after channel on one thread, as a record is coded with
it; both summed over the targets the wavelet coder reaches on every channel. sancodec's encode is timed again
with its channels on worker processes (``processes=True``, the same file, checked), the workers' start timed once
(the first record's first encode on processes, with none running before it). The allocator is steadied as
``bench_lossy`` steadies it (``timing.steady_allocator``).
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import numpy as np
from bench_lossy import TARGETS, bench_parser, cr_at, table_head, wavelet_curve, wavelet_timing
from lossy_signals import filled_as_coded
from timing import fastest, steady_allocator

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.codec import lossyfile, processes
from sancodec.codec.gaps import invalid_values, outside
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
EFFORTS = ("best", "balanced", "fast")


@contextmanager
def channels_on_their_own():
    """Every channel coded by itself (no difference from earlier channels)."""
    saved = lossyfile.predict_lossy_across
    lossyfile.predict_lossy_across = lambda *args: None
    try:
        yield
    finally:
        lossyfile.predict_lossy_across = saved


def coded(sig: Signal, target: float, effort: str, processes: bool = False) -> tuple[bytes, float]:
    """The lossy file at PRDN ``target`` and the seconds it took (``processes``: channels on worker processes);
    every channel checked."""
    start = time.perf_counter()
    data = sancodec.encode(sig, mode="lossy", prdn=target, effort=effort, processes=processes)
    seconds = time.perf_counter() - start
    back = sancodec.decode(data).samples
    skip = invalid_values(sig)
    for ch in range(sig.n_channels):
        x, y = sig.samples[:, ch].astype(np.float64), back[:, ch].astype(np.float64)
        keep = outside(x, skip[ch])  # (a gap's rows left out)
        got = prdn(x[keep], y[keep])
        assert got <= target * (1 + 1e-9) or not np.ptp(x[keep]), f"channel {ch}: {got} > {target}"
    return data, seconds


def every_way(sig: Signal, target: float, effort: str) -> dict[str, tuple[int, float]]:
    """:func:`coded` with the channels on their own, as differences, and as differences on worker processes (the
    same file as on threads, checked): per way, the bytes and the seconds."""
    with channels_on_their_own():
        alone, alone_seconds = coded(sig, target, effort)
    data, seconds = coded(sig, target, effort)
    on_processes, processes_seconds = coded(sig, target, effort, processes=True)
    assert on_processes == data, "processes coded another file than threads"
    return {"on their own": (len(alone), alone_seconds), "as differences": (len(data), seconds),
            "on processes": (len(data), processes_seconds)}


def wavelet_seconds(channels: list[np.ndarray], curves: list[list[tuple[float, float, str]]], target: float) -> float:
    """The wavelet coder's encode of every channel at PRDN ``target``, one after another (``wavelet_timing``: its
    step search included); NaN where a channel's curve does not reach the target."""
    return sum(wavelet_timing(x, curve, target)[0] for x, curve in zip(channels, curves))


def timed_round(sig: Signal, channels: list[np.ndarray], curves: list[list[tuple[float, float, str]]], target: float,
                repeats: int) -> tuple[float, dict[str, dict[str, tuple[int, float]]]]:
    """Every coding of the record at PRDN ``target``, taking turns ``repeats`` times: the wavelet coder's fastest
    encode (:func:`wavelet_seconds`; NaN where it does not reach the target) and, per effort and way
    (:func:`every_way`), sancodec's bytes and fastest encode."""
    wavelet = math.inf
    best: dict[str, dict[str, tuple[int, float]]] = {effort: {} for effort in EFFORTS}
    for _ in range(repeats):
        wavelet = fastest(wavelet, wavelet_seconds(channels, curves, target))  # (NaN where not reached)
        for effort in EFFORTS:
            for way, (size, seconds) in every_way(sig, target, effort).items():
                best[effort][way] = (size, min(seconds, best[effort].get(way, (size, math.inf))[1]))
    return wavelet, best


def main() -> None:
    parser = bench_parser(__doc__, "also write the table to this file")
    parser.add_argument("--repeats", type=int, default=3, help="encode time: the fastest of this many runs")
    args = parser.parse_args()
    steady_allocator()  # the same allocator behaviour every run (timing.steady_allocator)
    table = table_head(["record (channels x samples)", "codec"])
    speed = ["| record | wavelet coder, channel by channel | effort | channels on their own | as differences | "
             "as differences over on their own | as differences over the wavelet coder | as differences, channels on "
             "processes | that over the wavelet coder |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    summed = {effort: [0.0, 0.0, 0.0] for effort in EFFORTS}  # over every record: the wavelet coder's, ours, ours on
    # processes
    cold: str | None = None  # the line on the workers' start, from the first record read
    for label, path in RECORDS:
        try:
            sig = read_signal(args.data_dir / path)
        except (SancodecError, OSError) as exc:
            table.append(f"| {label} | not read: {exc} |" + " |" * len(TARGETS))
            continue
        steps = sig.sample_steps()
        whole = filled_as_coded(sig)  # a record's gaps filled as sancodec fills them, and left out of PRDN
        channels = [whole.samples[::steps[ch], ch].astype(np.int64) for ch in range(sig.n_channels)]
        skip = invalid_values(sig)
        keeps = [None if skip[ch] is None else outside(sig.samples[::steps[ch], ch], skip[ch])
                 for ch in range(sig.n_channels)]
        values = sum(map(len, channels))
        curves = [wavelet_curve(x, keep) for x, keep in zip(channels, keeps)]
        wavelet = []
        for t in TARGETS:
            crs = [cr_at(curve, t) for curve in curves]
            wavelet.append(None if None in crs else 11 * values / 8 / sum(
                11 * len(x) / 8 / cr for x, cr in zip(channels, crs)))
        name = f"{label} ({sig.n_channels} x {sig.n_samples})"
        table.append(f"| {name} | wavelet coder, channel by channel | "
                     + " | ".join("–" if w is None else f"{w:.2f}" for w in wavelet) + " |")
        first = cold is None
        if first:  # the workers' start, timed once: processes.shutdown() leaves none running
            processes.shutdown()
            started = coded(sig, TARGETS[0], "balanced", processes=True)[1]
        rounds = [timed_round(sig, channels, curves, t, args.repeats) for t in TARGETS]
        if first:
            balanced = rounds[0][1]["balanced"]
            cold = (f"Starting the workers: the first encode on processes in this run, {label} at PRDN "
                    f"{TARGETS[0]:g} % with `--effort balanced`, took {started:.3f} s, the workers' start included; "
                    f"the fastest of the runs after it {balanced['on processes'][1]:.3f} s, on threads "
                    f"{balanced['as differences'][1]:.3f} s.")
        reached = [math.isfinite(w) for w, _ in rounds]  # the targets timed: those the wavelet coder reaches
        wavelet_time = sum(w for w, _ in rounds if math.isfinite(w))
        for effort in EFFORTS:
            flag = f" --effort {effort}"
            times = {way: sum(best[effort][way][1] for (_, best), timed in zip(rounds, reached) if timed)
                     for way in ("on their own", "as differences", "on processes")}
            for way in ("on their own", "as differences"):
                sizes = [best[effort][way][0] for _, best in rounds]
                crs = [11 * values / 8 / size for size in sizes]
                table.append(f"| | sancodec lossy{flag}, channels {way} | " + " | ".join(
                    f"{c:.2f}" + ("" if w is None else f" ({c / w:.2f}x)") for c, w in zip(crs, wavelet)) + " |")
            ours, on_processes = times["as differences"], times["on processes"]
            for k, seconds in enumerate((wavelet_time, ours, on_processes)):
                summed[effort][k] += seconds
            speed.append(f"| {label} | {wavelet_time:.3f} s | {effort} | {times['on their own']:.3f} s | "
                         f"{ours:.3f} s | {ours / times['on their own']:.2f} | {ours / wavelet_time:.2f} | "
                         f"{on_processes:.3f} s | {on_processes / wavelet_time:.2f} |")
        print(*table[-1 - 2 * len(EFFORTS):], sep="\n", flush=True)
    for effort, (theirs, ours, on_processes) in summed.items():
        speed.append(f"| **every record above, summed** | {theirs:.3f} s | {effort} | | {ours:.3f} s | | "
                     f"{ours / theirs:.2f} | {on_processes:.3f} s | {on_processes / theirs:.2f} |")
    text = "\n".join([
        "# Multi-channel records: channels coded as differences from earlier ones", "",
        "Measured with `benchmarks/bench_multilead.py --data-dir ../shared/data` (how: the script's docstring). "
        "CR = 11 bits per sample over the whole file's bits per sample; in brackets, the ratio to the wavelet "
        "coder run on each channel by itself. \"channels on their own\": every channel coded by itself (the rest "
        "of format 1.10 included); \"as differences\": where a channel is close to a combination of earlier "
        "decoded ones, coded as the difference (format 1.10, `sancodec/codec/lossycross.py`). Every channel meets "
        "the PRDN. A record's gaps (mixedsignals' dropouts) are left out of every PRDN, and the wavelet coder codes "
        "its channels with them filled as sancodec fills them (format 1.15, `sancodec/codec/gaps.py`).", "",
        "## CR at a given PRDN (every channel at or below it)", "", *table, "",
        f"## Encode seconds, summed over the targets the wavelet coder reaches (the fastest of {args.repeats} runs "
        "of each, every coding taking turns)", "",
        "sancodec encodes a whole record on every core (its channels side by side, as `sancodec.encode` does by "
        "default), the wavelet coder one channel after another on one thread (its step search included), as a "
        "record is coded with each. \"channels on processes\": the same file with its channels coded on worker "
        "processes (`processes=True`, `sancodec encode --processes`, `sancodec/codec/processes.py`), which the "
        "interpreter lock does not hold back; started before the first run, as a long-lived process or a long "
        "record finds them (the first start is timed below). Under 1 in a ratio column: sancodec's "
        "encode of the record takes less time than the wavelet coder's.", "",
        *([] if cold is None else [cold, ""]),
        *speed]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
