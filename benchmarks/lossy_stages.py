"""Where a lossy encode's time goes: seconds per stage of the encoder, summed over bench_lossy's signals.

Run: .venv/bin/python benchmarks/lossy_stages.py [--data-dir ../shared/data] [--effort balanced] [--prdn 2]
[--per-signal] [--compiled] [--by-kernel [N]] [--split] [--walls] [--switch-interval S]

Each stage is a function of the encoder timed where it is called (the outermost call only: a stage called
inside another is that one's time), over every signal of ``bench_lossy.SIGNALS`` encoded at ``--prdn`` as
``sancodec.encode(..., mode="lossy", threads=1)`` encodes it (on one thread, so that the stages' seconds add up:
by default a channel's pieces share the cores); the fastest of ``--repeats`` sweeps' totals, and each stage's
share of that sweep. "other" is the rest: framing, the header, checks, and what no stage names. For finding what
to make faster; the ratio to the wavelet coder is ``bench_lossy.py``'s. ``--per-signal`` adds each signal's own
split (the fastest of ``--repeats`` encodes of it, its stages largest first): where a record's time goes differs
by record (a long one's rate control and bands, a short one's template search on its head). ``--compiled`` adds
the seconds of a sweep spent in calls of the compiled kernels (ctypes' argument checks included; every call timed,
:class:`CompiledClock`): what no rewrite of the Python and numpy around them can take away; and the least wall time
the sweep could take on every core (:func:`ideal_wall`). ``--by-kernel`` splits those seconds by compiled function
(its calls and milliseconds, the ``N`` largest): what a faster kernel, or fewer calls of it, could take away.
``--split`` splits each stage's seconds into its compiled calls and the rest (:func:`split_sweep`): which stage's
Python and numpy a compiled rewrite would take away. ``--walls`` encodes each signal on every core, as
``bench_lossy.py`` times it, and splits its wall time into the part with a compiled call running on some thread
and the part with none (Python and numpy alone, which the interpreter lock keeps off the second core), next to the
wavelet coder's encode of the same channel timed in turn with it: the interpreted part is what neither a faster
kernel nor a second core takes away. glibc's allocator is steadied as ``bench_lossy.py`` steadies it
(``timing.steady_allocator``), so that the stages split the time that benchmark measures: unsteadied, a numpy
temporary of a long channel may come fresh from the kernel, page faults and all, in one run and not in the next.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from timing import fastest, steady_allocator

import sancodec
from sancodec.codec import dependentframe, kernels, lossy, lossyrate, templatesearch, timedomain
from sancodec.codec.lossy import EFFORTS

#: (where the encoder looks the function up, its name, the stage's label)
STAGES: list[tuple[Any, str, str]] = [
    (templatesearch, "find_beats", "beat detection"),
    (templatesearch, "_head_window", "template window on the head"),
    (templatesearch, "_helps", "template test on the head"),
    (templatesearch, "_placed_by", "beats placed, template made"),
    (templatesearch, "_fallback_window", "fallback window"),
    (lossy, "quick_grids", "gains' and taps' grids"),
    (templatesearch.TemplateTrial, "__init__", "template trial: heads prepared"),
    (templatesearch.TemplateTrial, "pays", "template trial: estimates"),
    (lossy, "best_template", "template search (default)"),
    (lossy, "_hum_coding", "mains hum (format 1.10)"),
    (lossy, "mains_frequency", "mains hum (format 1.10)"),  # balanced: the line, beside the beat detection ...
    (lossy, "_hum_pays_on_head", "mains hum (format 1.10)"),  # ... the hum weighed on the head ...
    (lossy, "fit_mains", "mains hum (format 1.10)"),  # ... and fitted on the channel (outside those: best's)
    (lossy, "rate_control", "rate control"),
    (lossyrate.WaveletCoding, "payloads", "wavelet payloads coded"),
    (lossy, "smaller", "codings compared"),
    (timedomain, "exact_looks_smaller", "time domain: estimate"),
    (timedomain, "grid_looks_smaller", "time domain: estimate"),
    (timedomain, "code_channel", "time domain: coded"),
    (lossy, "_other_levels", "other wavelet levels"),
    (lossy, "_other_quantisers", "other quantisers"),
    (lossy, "_mixed", "frames mixed"),
    (dependentframe, "coding", "dependent quantisation (format 1.12)"),
]


class StageClock:
    """Wraps each stage so that its outermost calls add their seconds to :attr:`seconds`."""

    def __init__(self, stages: list[tuple[Any, str, str]]) -> None:
        self.seconds: Counter[str] = Counter()
        self.current = "other"  # the outermost stage running now ("other" where none is)
        self._depth = 0
        self._saved: list[tuple[Any, str, Any]] = []
        for owner, name, label in stages:
            if hasattr(owner, name):
                self._saved.append((owner, name, getattr(owner, name)))
                setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            self.current = label
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self._depth -= 1
                self.current = "other"
        return timed

    def restore(self) -> None:
        """Put every wrapped function back."""
        for owner, name, fn in reversed(self._saved):
            setattr(owner, name, fn)


class CompiledClock:
    """Stands in for ``kernels._LIB`` (:func:`clocked`): each compiled function's calls add their seconds to
    :attr:`seconds`, and by function to :attr:`by_kernel` (their count to :attr:`calls`). On one thread, where no two
    calls overlap, that is the time spent in compiled code; the rest of an encode is Python and numpy."""

    def __init__(self, lib: Any, stage: Callable[[], str] | None = None) -> None:
        self._lib = lib
        self._stage = stage  # where given: which stage is running, its calls' seconds added to by_stage
        self.seconds = 0.0
        self.by_kernel: Counter[str] = Counter()
        self.by_stage: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.named: list[tuple[int, float, float, str]] = []  # each call's thread, start and end (perf_counter) and
        # function (one append: safe where calls run on several threads)

    @property
    def spans(self) -> list[tuple[float, float]]:
        """Each call's start and end, on any thread."""
        return [(start, end) for _, start, end, _ in self.named]

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._lib, name)
        if not callable(fn):
            return fn

        def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args)
            finally:
                end = time.perf_counter()
                self.named.append((threading.get_ident(), start, end, name))
                self.seconds += end - start
                self.by_kernel[name] += end - start
                self.calls[name] += 1
                if self._stage is not None:
                    self.by_stage[self._stage()] += end - start
        return timed


def clocked(work: Callable[[], object], stage: Callable[[], str] | None = None) -> tuple[float, CompiledClock | None]:
    """The seconds ``work`` took and the :class:`CompiledClock` that timed its compiled calls (its seconds and counts
    exact where ``work`` runs on one thread, its spans on any; None without the compiled kernels; ``stage``: its
    ``by_stage``'s); ``kernels._LIB`` put back after, also where ``work`` fails."""
    lib = kernels._LIB
    clock = None if lib is None else CompiledClock(lib, stage)
    if clock is not None:
        kernels._LIB = clock
    try:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start, clock
    finally:
        kernels._LIB = lib


def compiled_sweep(signals: list[sancodec.Signal], effort: str, prdn: float, repeats: int) -> tuple[float, float]:
    """The fastest of ``repeats`` one-thread lossy encodes of every signal of ``signals`` (at ``prdn``, ``effort``):
    its seconds and those spent in the compiled kernels (:func:`clocked`; 0.0 without them)."""
    total, clock = clocked_sweep(signals, effort, prdn, repeats)
    return total, 0.0 if clock is None else clock.seconds


def ideal_wall(total: float, inside: float, cores: int) -> float:
    """The least wall time a one-thread sweep of ``total`` seconds, ``inside`` of them in compiled calls, could take on
    ``cores`` cores: its Python and numpy (``total - inside``) hold the interpreter lock and run one at a time, its
    compiled calls anywhere beside them, so at best the larger of the Python's seconds and the whole spread evenly.
    What no schedule beats; how near one comes depends on how much compiled work the stages' order leaves to run
    beside the Python (``--walls`` shows how much does)."""
    return max(total - inside, total / max(cores, 1))


def encode_all(signals: list[sancodec.Signal], effort: str, prdn: float) -> None:
    """Every signal of ``signals`` coded lossy at ``prdn`` on one thread: what each sweep here times."""
    for signal in signals:
        sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort, threads=1)


def clocked_sweep(signals: list[sancodec.Signal], effort: str, prdn: float, repeats: int
                  ) -> tuple[float, CompiledClock | None]:
    """:func:`compiled_sweep`'s fastest sweep: its seconds and the clock of its compiled calls (:func:`clocked`)."""
    return min((clocked(partial(encode_all, signals, effort, prdn)) for _ in range(repeats)), key=lambda r: r[0])


def kernel_lines(clock: CompiledClock, total: float, shown: int) -> list[str]:
    """The ``shown`` compiled functions that took most of ``clock``'s seconds, a line each: calls, milliseconds and
    their share of the sweep's ``total`` seconds."""
    return [f"  {name:34s} {clock.calls[name]:6d} calls {seconds * 1e3:8.1f} ms  {100 * seconds / total:5.1f} %"
            for name, seconds in clock.by_kernel.most_common(shown)]


class Walls(NamedTuple):
    """One lossy encode on every core (sancodec's default, as ``bench_lossy.py`` times it), its wall time split by
    what ran: :attr:`covered` while at least one compiled call ran on some thread, :attr:`interpreted` while none
    did (Python and numpy alone, which no second core shares: the interpreter lock); :attr:`compiled`, the compiled
    calls' seconds summed over the threads (above :attr:`covered` by as much as calls overlapped)."""

    total: float
    covered: float
    compiled: float

    @property
    def interpreted(self) -> float:
        return self.total - self.covered


def covered(spans: Sequence[tuple[float, float]]) -> float:
    """The length of the union of ``spans`` (start, end): the time during which at least one of them ran."""
    total, end = 0.0, -math.inf
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def walls(signal: sancodec.Signal, effort: str, prdn: float) -> Walls:
    """One encode of ``signal`` on every core, its compiled calls traced (:class:`CompiledClock`'s spans; without
    the compiled kernels, all of it is interpreted)."""
    total, clock = clocked(lambda: sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort))
    spans = [] if clock is None else clock.spans
    return Walls(total, covered(spans), sum(stop - start for start, stop in spans))


def walls_table(signals: list[sancodec.Signal], labels: list[str], effort: str, prdn: float, repeats: int,
                baseline: Callable[[sancodec.Signal], Callable[[], float]]) -> list[str]:
    """Each signal's fastest of ``repeats`` encodes on every core, untraced, and of as many traced ones split as
    :class:`Walls` (ms; the tracing's own cost is the difference of the two encode columns), next to the fastest of
    as many runs of ``baseline(signal)`` (the wavelet coder's encode of it, made ready once: seconds, NaN where it
    does not reach the target), the three taking turns; then the sums over the signals the baseline reaches, as
    ``bench_lossy.py`` sums them, with their ratios to the baseline's. The interpreted part is what a faster kernel
    cannot take away, nor a second core share."""
    lines = ["| signal (n) | encode | traced | of it: some kernel running | none (Python, numpy) | "
             "compiled, all threads | wavelet coder's encode |", "|---|---:|---:|---:|---:|---:|---:|"]
    sums = np.zeros(6)
    for label, signal in zip(labels, signals):
        timer, traced, base, plain = baseline(signal), None, math.inf, math.inf
        for _ in range(repeats):
            base = fastest(base, timer())
            start = time.perf_counter()
            sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort)
            plain = min(plain, time.perf_counter() - start)
            got = walls(signal, effort, prdn)
            traced = got if traced is None or got.total < traced.total else traced
        assert traced is not None
        parts = (plain, traced.total, traced.covered, traced.interpreted, traced.compiled, base)
        lines.append(f"| {label} ({signal.n_samples}) | " + " | ".join(f"{v * 1e3:.1f}" for v in parts[:5])
                     + f" | {'–' if math.isnan(base) else f'{base * 1e3:.1f}'} |")
        if not math.isnan(base):
            sums += parts
    cells = [f"{v * 1e3:.1f} ({v / sums[5]:.2f}x)" if sums[5] > 0 else f"{v * 1e3:.1f}" for v in sums[:5]]
    lines.append(f"| **summed where the wavelet coder reaches PRDN {prdn:g} %** | " + " | ".join(cells)
                 + f" | {sums[5] * 1e3:.1f} |")
    return lines


def sweep(signals: list[sancodec.Signal], effort: str, prdn: float, stages: list[tuple[Any, str, str]]
          ) -> tuple[float, Counter[str]]:
    """One encode of every signal: the total seconds, and each stage's."""
    clock = StageClock(stages)
    try:
        start = time.perf_counter()
        encode_all(signals, effort, prdn)
        return time.perf_counter() - start, clock.seconds
    finally:
        clock.restore()


def split_sweep(signals: list[sancodec.Signal], effort: str, prdn: float, stages: list[tuple[Any, str, str]]
                ) -> tuple[float, Counter[str], Counter[str]]:
    """:func:`sweep` with its compiled calls timed too, each call's seconds added to the stage running it (on one
    thread, as the sweep runs): the total seconds, each stage's ("other" for the rest), and each stage's seconds in
    compiled calls (none without the compiled kernels). A stage's seconds less its compiled ones are its Python and
    numpy: what only a rewrite of that stage in compiled code, or fewer of its calls, takes away."""
    stage_clock = StageClock(stages)
    try:
        total, clock = clocked(partial(encode_all, signals, effort, prdn), lambda: stage_clock.current)
    finally:
        stage_clock.restore()
    seconds = Counter(stage_clock.seconds)
    seconds["other"] = total - sum(stage_clock.seconds.values())
    return total, seconds, Counter() if clock is None else clock.by_stage


def split_lines(seconds: Counter[str], compiled: Counter[str]) -> list[str]:
    """:func:`split_sweep`'s stages as lines (ms), the most Python and numpy first."""
    rest = {label: s - compiled[label] for label, s in seconds.items()}
    return [f"  {label:38s} {seconds[label] * 1e3:8.1f} ms, compiled {compiled[label] * 1e3:7.1f}, Python and numpy "
            f"{r * 1e3:7.1f}" for label, r in sorted(rest.items(), key=lambda kv: -kv[1])]


def per_signal(signals: list[sancodec.Signal], labels: list[str], effort: str, prdn: float, repeats: int,
               stages: list[tuple[Any, str, str]], shown: int = 6) -> None:
    """Print each signal's fastest encode of ``repeats`` and its ``shown`` largest stages."""
    for label, signal in zip(labels, signals):
        total, seconds = min((sweep([signal], effort, prdn, stages) for _ in range(repeats)), key=lambda r: r[0])
        seconds["other"] = total - sum(seconds.values())
        split = ", ".join(f"{name} {s * 1e3:.1f}" for name, s in seconds.most_common(shown))
        print(f"  {label} ({len(signal.samples)}): {total * 1e3:.1f} ms: {split}")


def wavelet_timer(bench_lossy: Any, prdn: float, signal: sancodec.Signal) -> Callable[[], float]:
    """A timer of the wavelet coder's encode of ``signal``'s channel at PRDN ``prdn`` (seconds, its step search
    included: ``bench_lossy.wavelet_timing``, at the levels of its curve, made here once; NaN where that curve does
    not reach ``prdn``)."""
    x = signal.samples[:, 0]
    curve = bench_lossy.wavelet_curve(x)
    return lambda: float(bench_lossy.wavelet_timing(x, curve, prdn)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=5, help="the fastest of this many sweeps")
    parser.add_argument("--per-signal", action="store_true", help="also each signal's own split (ms)")
    parser.add_argument("--compiled", action="store_true",
                        help="also the share of a sweep spent in the compiled kernels (the rest: Python and numpy)")
    parser.add_argument("--by-kernel", type=int, nargs="?", const=12, default=0, metavar="N",
                        help="with --compiled: also the N compiled functions that take most of it (default 12)")
    parser.add_argument("--split", action="store_true",
                        help="also each stage's seconds split into compiled calls and the rest (Python and numpy)")
    parser.add_argument("--walls", action="store_true",
                        help="also each signal encoded on every core, its wall time split into that with a compiled "
                             "call running and that with none (Python and numpy alone), next to the wavelet coder's")
    parser.add_argument("--switch-interval", type=float, default=None, metavar="S",
                        help="the interpreter's thread switch interval (sys.setswitchinterval; Python's default "
                             "0.005 s): how long a thread back from a compiled call may wait for the interpreter lock")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    steady_allocator()  # as bench_lossy times the encodes these stages split
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets (the tests import this module without)

    loaded = bench_lossy.labelled(args.data_dir)
    labels = [label for label, _ in loaded]
    signals = [signal for _, signal in loaded]
    if not signals:
        raise SystemExit(f"no signals under {args.data_dir}")
    sweep(signals, args.effort, args.prdn, STAGES)  # warm up
    total, stages = min((sweep(signals, args.effort, args.prdn, STAGES) for _ in range(args.repeats)),
                        key=lambda r: r[0])
    stages["other"] = total - sum(stages.values())
    print(f"--effort {args.effort} at PRDN {args.prdn:g} %, {len(signals)} signals on one thread: {total * 1e3:.1f} ms "
          f"a sweep (the fastest of {args.repeats})")
    for label, seconds in stages.most_common():
        print(f"  {label:34s} {seconds * 1e3:8.1f} ms  {100 * seconds / total:5.1f} %")
    if args.compiled or args.by_kernel:
        total, clock = clocked_sweep(signals, args.effort, args.prdn, args.repeats)
        inside = 0.0 if clock is None else clock.seconds
        print(f"in the compiled kernels: {inside * 1e3:.1f} ms of a {total * 1e3:.1f} ms sweep "
              f"({100 * inside / total:.1f} %; the fastest of {args.repeats}, each call timed)")
        cores = os.cpu_count() or 1
        python = (total - inside) * 1e3
        print(f"the least wall that sweep could take on {cores} cores, its Python and numpy ({python:.1f} ms) one at "
              f"a time, its compiled calls beside them: {ideal_wall(total, inside, cores) * 1e3:.1f} ms")
        if clock is not None and args.by_kernel:
            print("\n".join(kernel_lines(clock, total, args.by_kernel)))
    if args.split:
        total, seconds, compiled = min((split_sweep(signals, args.effort, args.prdn, STAGES)
                                        for _ in range(args.repeats)), key=lambda r: r[0])
        print(f"each stage split (the fastest of {args.repeats} sweeps, {total * 1e3:.1f} ms; compiled "
              f"{sum(compiled.values()) * 1e3:.1f} ms), the most Python and numpy first:")
        print("\n".join(split_lines(seconds, compiled)))
    if args.per_signal:
        print("each signal, the fastest of its encodes (ms; its largest stages):")
        per_signal(signals, labels, args.effort, args.prdn, args.repeats, STAGES)
    if args.walls:
        print(f"each signal on every core ({os.cpu_count()}), the fastest of {args.repeats} encodes, its wall time "
              "split by what ran (ms):")
        print("\n".join(walls_table(signals, labels, args.effort, args.prdn, args.repeats,
                                    partial(wavelet_timer, bench_lossy, args.prdn))))


if __name__ == "__main__":
    main()
