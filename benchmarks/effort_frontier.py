"""Issue 13's two goals at once, per encoder configuration: the ECG CR goals and the summed encode time against the
wavelet coder, every configuration measured in one run.

Run: .venv/bin/python benchmarks/effort_frontier.py [--data-dir ../shared/data] [--markdown docs/EFFORT_FRONTIER.md]
[--repeats 9]

``bench_lossy.py`` checks the goals for the three efforts; this script adds the configurations between balanced and
fast, so that where no configuration meets both goals the trade is measured rather than told: balanced with each of
its short-channel extras taken off (the trellis, the remade template, the other window starts and second
alignment round; module settings, as ``ab_setting.py`` sets them, put back after each encode), and with all of them
off. For each: every signal of ``bench_lossy.SIGNALS`` at PRDN 1 / 2 / 5 / 9 % (its CR over the wavelet coder's at
that PRDN, on the curve ``bench_lossy.wavelet_curve`` makes; each target checked met on the decoded file), and the
encode seconds at PRDN 2 % summed over the signals the wavelet coder reaches there, over the wavelet coder's
(``bench_lossy.wavelet_timing``, its step search included), the fastest of ``--repeats`` rounds in which the
wavelet coder and every configuration take turns: a machine that slows down mid-run slows all of them alike.
Needs PyWavelets (``make bench`` installs it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ab_setting import applied
from lossy_signals import points_below
from lossy_stages import compiled_sweep
from timing import fastest, steady_allocator

import sancodec
from sancodec import Signal
from sancodec.metrics import prdn

TIMED_PRDN = 2.0  # bench_lossy times its efforts at this PRDN

LOSSY, SEARCH, TIME = "sancodec.codec.lossy", "sancodec.codec.templatesearch", "sancodec.codec.timedomain"
TRELLIS = {f"{LOSSY}.QUICK_DEPENDENT": 0}  # no dependent quantisation on short templated channels
REMADE = {f"{LOSSY}.SHORT_REMADE": ()}  # no low-passed remake of a short channel's template
WINDOWS = {f"{SEARCH}.SHORT_CHANNEL": 0}  # no other window starts, no second alignment round on short channels
EXTRAS = {**TRELLIS, **REMADE, **WINDOWS}
OTHERS = {f"{LOSSY}.QUICK_MAINS": 1 << 62,  # no mains hum; the time domain only on channels of up to 2^15 samples ...
          f"{TIME}.EXACT_LOOK_MARGIN": 0.0, f"{TIME}.GRID_LOOK_MARGIN": 0.0}  # ... and sparse ones (no look says more)


@dataclass(frozen=True)
class Configuration:
    """One way to run the lossy encoder: an effort and the module settings changed for it."""

    name: str
    short: str  # the per-signal table's column
    effort: str
    settings: Mapping[str, Any] = field(default_factory=dict)


CONFIGURATIONS = (
    Configuration("best", "best", "best"),
    Configuration("balanced", "balanced", "balanced"),
    Configuration("balanced without the trellis on short channels", "-trellis", "balanced", TRELLIS),
    Configuration("balanced without the remade template", "-remade", "balanced", REMADE),
    Configuration("balanced without the short channels' other windows and second alignment", "-windows", "balanced",
                  WINDOWS),
    Configuration("balanced without any of those three", "-all three", "balanced", EXTRAS),
    Configuration("balanced without the mains hum, or the time domain on channels over 2^15 samples but sparse ones",
                  "-hum, time", "balanced", OTHERS),
    Configuration("balanced's beat template alone: without any of the five", "template", "balanced",
                  {**EXTRAS, **OTHERS}),
    Configuration("fast", "fast", "fast"),
)


def encode(signal: Signal, config: Configuration, target: float) -> tuple[bytes, float]:
    """``signal`` coded under ``config`` at PRDN ``target`` (on every core, as by default), and the seconds it
    took."""
    with applied(config.settings):
        start = time.perf_counter()
        data = sancodec.encode(signal, mode="lossy", prdn=target, effort=config.effort)
        return data, time.perf_counter() - start


def one_thread(signals: list[Signal], config: Configuration, repeats: int) -> tuple[float, float]:
    """The fastest of ``repeats`` one-thread encodes of every signal of ``signals`` at PRDN 2 % under ``config``: its
    seconds, and those spent in the compiled kernels (``lossy_stages.compiled_sweep``)."""
    with applied(config.settings):
        return compiled_sweep(signals, config.effort, TIMED_PRDN, repeats)


def ratios_met(signal: Signal, config: Configuration, base: list[float | None],
               targets: tuple[float, ...]) -> list[float | None]:
    """``config``'s CR over the wavelet coder's (``base``) at each of ``targets`` (None where the wavelet coder's
    curve does not reach it); SystemExit where a decoded file misses its target."""
    x, out = signal.samples[:, 0], []
    for target, b in zip(targets, base):
        data, _ = encode(signal, config, target)
        error = prdn(x, sancodec.decode(data).samples[:, 0])
        if error > target:
            raise SystemExit(f"{config.name}: PRDN {error:.4f} % over the target {target:g} %")
        out.append(11 * len(x) / (8 * len(data)) / b if b else None)
    return out


def main() -> None:
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets (the tests import this module without)

    parser = bench_lossy.bench_parser(__doc__, "also write the tables to this file")
    parser.add_argument("--repeats", type=int, default=9, help="the fastest of this many rounds of each encode")
    args = parser.parse_args()
    steady_allocator()
    targets, goals = bench_lossy.TARGETS, dict(zip(bench_lossy.TARGETS, bench_lossy.ECG_GOAL))
    ratios: dict[str, list[tuple[str, str, float, float]]] = {c.name: [] for c in CONFIGURATIONS}
    seconds = dict.fromkeys([c.name for c in CONFIGURATIONS], 0.0)
    wavelet_seconds, rows, timed = 0.0, [], []
    for kind, label, path, channel in bench_lossy.SIGNALS:
        signal = bench_lossy.load(args.data_dir, path, channel)
        if signal is None:
            continue
        x = signal.samples[:, 0]
        curve = bench_lossy.wavelet_curve(x)
        base = [bench_lossy.cr_at(curve, t) for t in targets]
        cells = []
        for config in CONFIGURATIONS:
            got = ratios_met(signal, config, base, targets)
            ratios[config.name] += [(kind, label, t, r) for t, r in zip(targets, got) if r is not None]
            cells.append(" / ".join("–" if r is None else f"{r:.2f}" for r in got))
        best = dict.fromkeys(seconds, float("inf"))
        wavelet = float("inf")
        for _ in range(args.repeats):  # by turns: the wavelet coder, then each configuration
            wavelet = fastest(wavelet, bench_lossy.wavelet_timing(x, curve, TIMED_PRDN)[0])
            for config in CONFIGURATIONS:
                best[config.name] = min(best[config.name], encode(signal, config, TIMED_PRDN)[1])
        if not np.isnan(wavelet):  # summed over the signals the wavelet coder reaches at PRDN 2 %, as bench_lossy sums
            wavelet_seconds += wavelet
            timed.append(signal)
            for name in seconds:
                seconds[name] += best[name]
        times = " | ".join("–" if np.isnan(wavelet) else f"{best[c.name] / wavelet:.2f}" for c in CONFIGURATIONS)
        rows.append(f"| {kind} | {label} ({len(x)}) | " + " | ".join(cells) + f" | {times} |")
        print(rows[-1], flush=True)
    summary = ["| configuration | encode time over the wavelet coder's, summed at PRDN 2 % | on one thread | of which "
               "in the compiled kernels | ECG points below the goal | points below the floor |",
               "|---|---:|---:|---:|---|---|"]
    below = {c.name: points_below(ratios[c.name], goals, bench_lossy.FLOOR, digits=3) for c in CONFIGURATIONS}
    counts = {name: len(short) for name, (short, _) in below.items()}
    fewest = [c for c in CONFIGURATIONS if counts[c.name] == min(counts.values())]
    quickest = min(fewest, key=lambda c: seconds[c.name])
    reading = (f"The fewest ECG points below the goal, {counts[quickest.name]}, by "
               f"{' and '.join(c.name for c in fewest)}; the quicker of those, {quickest.name}, encodes in "
               f"{seconds[quickest.name] / wavelet_seconds:.2f}x the wavelet coder's time. Every configuration "
               f"quicker than it leaves more ECG points below the goal.")
    for config in sorted(CONFIGURATIONS, key=lambda c: seconds[c.name]):
        short, low = below[config.name]
        alone, inside = one_thread(timed, config, args.repeats)
        summary.append(f"| {config.name} | {seconds[config.name] / wavelet_seconds:.2f}x | "
                       f"{alone / wavelet_seconds:.2f}x | {inside / wavelet_seconds:.2f}x | "
                       f"{len(short)}: {'; '.join(short) or 'none'} | {'; '.join(low) or 'none'} |")
        print(summary[-1], flush=True)
    names = " | ".join(c.short for c in CONFIGURATIONS)
    text = "\n".join([
        "## Each configuration against both goals", "",
        f"Goals (issue 13): on every ECG record at least {goals[1.0]}x the wavelet coder's CR at PRDN 1 and 2 %, "
        f"{goals[5.0]}x at 5 and 9 %; no record of any kind below {bench_lossy.FLOOR}x; encode time at most the "
        f"wavelet coder's (a summed ratio of 1.00 or less). Fastest first. The wavelet coder's encode, summed: "
        f"{wavelet_seconds:.3f} s (one thread). sancodec encodes on every core by default; the next column is "
        "its encode on one thread, and the one after it the seconds of that encode spent in calls of the compiled "
        "kernels (ctypes' argument checks included): its time if the Python and numpy around them cost "
        "nothing.", "", *summary, "", reading, "",
        "## Each signal", "",
        "CR over the wavelet coder's at PRDN 1 / 2 / 5 / 9 % (– where its curve does not reach the PRDN), then the "
        f"encode time over the wavelet coder's at PRDN 2 % (the fastest of {args.repeats}), per configuration: "
        "-trellis, -remade, -windows, -all three, -hum, time and template are balanced without what the first "
        "table names.", "",
        f"| kind | signal (n) | {names} | {names} |",
        "|---|---|" + "---|" * len(CONFIGURATIONS) + "---:|" * len(CONFIGURATIONS), *rows]) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(HEADER.format(date=time.strftime("%Y-%m-%d")) + text)


HEADER = """# The efforts' frontier: issue 13's CR goals against its encode-time goal

Measured on the development machine (2 CPUs, CPU only), {date}, with
`benchmarks/effort_frontier.py --data-dir ../shared/data --markdown docs/EFFORT_FRONTIER.md`. Every configuration and
the wavelet coder are measured in this one run; the design of both coders is in `benchmarks/bench_lossy.py`'s
docstring, the configurations in this script's.

"""


if __name__ == "__main__":
    main()
