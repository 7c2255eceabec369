"""When each part of one lossy encode runs, thread by thread: the critical path of a record's encode on every core.

Run: .venv/bin/python benchmarks/lossy_timeline.py [--data-dir ../shared/data] [--signals "PTB s0010_re lead i,..."]
[--effort balanced] [--prdn 2] [--repeats 7] [--bin-ms 0.5] [--summary]

For each signal named (by default the five medium records where balanced loses most time to the wavelet coder), the
fastest of ``--repeats`` encodes on every core, as ``bench_lossy.py`` encodes it, is traced: the encoder's main
steps (:data:`STEPS`, each call's start and end on its thread) and every compiled call (``kernels``' library wrapped
by ``lossy_stages.CompiledClock``, which notes each call's thread). Printed per thread: a bar of how busy its
compiled calls kept it in each ``--bin-ms`` slice (blank: none ran; ``@``: one ran throughout), then its steps in
order with their span in milliseconds from the encode's start (a step called inside another is indented under it),
then per thread the milliseconds in compiled calls and in steps, and the time each helper thread (the pool's, any
but the encode's own) had neither. ``lossy_stages.py --walls`` sums that idle time over the set; this shows where in
an encode it falls: which steps run one after another in Python while the second core waits, and what a compiled
step, or one moved beside them, would take off the wall. Traced calls cost a few microseconds each, so the wall is a
little above ``bench_lossy.py``'s. ``--summary`` (every signal of ``lossy_signals.SIGNALS`` unless ``--signals``
names some): instead of each timeline, the milliseconds each outermost step took on the encode's own thread (the
critical path: a step it waits on elsewhere shows as the step that waits), per signal and summed over them (the sums
also split by the steps directly inside), with the time no helper thread was at work summed too."""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from lossy_signals import SIGNALS, load
from lossy_stages import CompiledClock, covered
from timing import steady_allocator

import sancodec
from sancodec.codec import dependentframe, kernels, lossy, lossyrate, templatesearch, timedomain

#: (where the encoder looks the function up, its name): the steps traced
STEPS: list[tuple[Any, str]] = [
    (lossy, "quick_templates"), (templatesearch, "find_beats"), (templatesearch, "_weighed_windows"),
    (templatesearch, "_helps"), (templatesearch, "_placed_by"), (lossy, "_line_then_plain"),
    (lossy, "mains_frequency"), (lossy, "_plain_controlled"), (lossy, "_templated"), (lossy, "TemplateTrial"),
    (lossy, "remade_templates"), (lossy, "quick_grids"), (lossy, "_quick_prepared"), (lossy, "_hum_pays_on_head"),
    (lossy, "fit_mains"), (lossy, "rate_control"), (lossyrate.WaveletCoding, "payloads"),
    (dependentframe, "coding"), (dependentframe._Frame, "learn"), (dependentframe._Frame, "quantised"),
    (dependentframe._Frame, "decoded"), (dependentframe._Frame, "payload"), (timedomain, "look_at_head"),
    (timedomain, "code_channel"),
]
DEFAULT_SIGNALS = ["PTB s0010_re lead i", "bidmc 01 II", "challenge-2015 a103l II", "mimicdb 03700181 ABP",
                   "emgdb emg_healthy"]


class Span(NamedTuple):
    """One traced call: its thread, start and end (perf_counter seconds), and name (``C:`` a compiled call)."""

    thread: int
    start: float
    end: float
    name: str


class Tracer:
    """Wraps :data:`STEPS` so that every call appends a :class:`Span` to :attr:`spans` (list appends are atomic: safe
    from every thread), and the compiled library in a ``CompiledClock`` (:meth:`traced` joins both); :meth:`restore`
    puts them back."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._saved: list[tuple[Any, str, Any]] = []
        for owner, name in STEPS:
            self._swap(owner, name, self._traced(getattr(owner, name), name))
        self.clock = None if kernels._LIB is None else CompiledClock(kernels._LIB)
        if self.clock is not None:
            self._swap(kernels, "_LIB", self.clock)

    def _swap(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _traced(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def traced(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spans.append(Span(threading.get_ident(), start, time.perf_counter(), name))
        return traced

    def clear(self) -> None:
        """Forget every span traced so far."""
        self.spans.clear()
        if self.clock is not None:
            self.clock.named.clear()

    def traced(self) -> list[Span]:
        """The steps' spans and the compiled calls' (``C:name``), as traced so far."""
        named = [] if self.clock is None else self.clock.named
        return [*self.spans, *(Span(t, a, b, "C:" + n) for t, a, b, n in named)]

    def restore(self) -> None:
        """Put every wrapped function, and the library, back."""
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)


def traced_encode(signal: sancodec.Signal, effort: str, prdn: float, repeats: int) -> tuple[float, list[Span]]:
    """The fastest of ``repeats`` traced encodes of ``signal`` on every core: its seconds, and its spans in seconds
    from its start."""
    for _ in range(2):  # warm: the pool's threads started, the kernels' scratch allocated
        sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort)
    tracer = Tracer()
    best: tuple[float, float, list[Span]] | None = None
    try:
        for _ in range(repeats):
            tracer.clear()
            start = time.perf_counter()
            sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort)
            end = time.perf_counter()
            if best is None or end - start < best[1] - best[0]:
                best = (start, end, tracer.traced())
    finally:
        tracer.restore()
    assert best is not None
    return best[1] - best[0], [s._replace(start=s.start - best[0], end=s.end - best[0]) for s in best[2]]


def seconds_in(spans: list[Span]) -> float:
    """Seconds during which at least one of ``spans`` ran (``lossy_stages.covered`` of them)."""
    return covered([(s.start, s.end) for s in spans])


def busy_bar(spans: list[Span], wall: float, width: float) -> str:
    """Per ``width`` seconds of ``wall``, how much of it ``spans`` (one thread's compiled calls) covered, as one of
    `` .:-=+*#%@`` (none to all)."""
    bins = [0.0] * (int(wall / width) + 1)
    for s in spans:
        at = s.start
        while at < s.end:
            i = int(at / width)
            if i >= len(bins):
                break
            end = min(s.end, (i + 1) * width)
            bins[i] += end - at
            at = end
    return "".join(" .:-=+*#%@"[min(9, int(10 * b / width))] for b in bins)


def report(label: str, wall: float, spans: list[Span], width: float, own: int) -> None:
    """Print one encode's timeline (the module docstring says what); ``own``: the thread that called the encode."""
    threads = sorted({own, *(s.thread for s in spans)},
                     key=lambda t: (t != own, min((s.start for s in spans if s.thread == t), default=0.0)))
    print(f"{label}: {1e3 * wall:.1f} ms on every core")
    for k, thread in enumerate(threads):
        compiled = [s for s in spans if s.thread == thread and s.name.startswith("C:")]
        print(f"  thread {k} compiled |{busy_bar(compiled, wall, width)}|")
    for k, thread in enumerate(threads):
        mine = sorted((s for s in spans if s.thread == thread), key=lambda s: (s.start, -s.end))
        steps = [s for s in mine if not s.name.startswith("C:")]
        compiled = [s for s in mine if s.name.startswith("C:")]
        whose = " (the encode's own)" if thread == own else ""
        idle = "" if thread == own else f", {1e3 * (wall - seconds_in(mine)):.1f} ms idle"
        print(f"  thread {k}{whose}: {1e3 * seconds_in(compiled):.1f} ms in compiled calls, "
              f"{1e3 * seconds_in(steps):.1f} ms in steps{idle}")
        open_ends: list[float] = []
        for s in steps:
            while open_ends and open_ends[-1] <= s.start:
                open_ends.pop()
            print(f"    {'  ' * len(open_ends)}{1e3 * s.start:6.2f}-{1e3 * s.end:6.2f} ms  {s.name}")
            open_ends.append(s.end)


def own_steps(spans: list[Span], own: int) -> Counter[str]:
    """Seconds of each outermost step on thread ``own``, of each step directly inside one (as ``"outer > inner"``),
    and of the time in none of them ("(between steps)") up to the last span's end."""
    steps = sorted((s for s in spans if s.thread == own and not s.name.startswith("C:")),
                   key=lambda s: (s.start, -s.end))
    out: Counter[str] = Counter()
    stack: list[Span] = []  # the steps open at this one's start, outermost first
    for s in steps:
        while stack and stack[-1].end <= s.start:
            stack.pop()
        if not stack:
            out[s.name] += s.end - s.start
        elif len(stack) == 1:
            out[f"{stack[0].name} > {s.name}"] += s.end - s.start
        stack.append(s)
    outermost = sum(v for k, v in out.items() if " > " not in k)
    out["(between steps)"] = max(s.end for s in spans) - outermost if spans else 0.0
    return out


def summary(rows: list[tuple[str, float, list[Span]]], own: int) -> None:
    """Print :func:`own_steps` per signal and summed, and the helpers' idle time (the module docstring says what)."""
    total: Counter[str] = Counter()
    wall = idle = 0.0
    for label, seconds, spans in rows:
        steps = own_steps(spans, own)
        total.update(steps)
        wall += seconds
        idle += seconds - seconds_in([s for s in spans if s.thread != own])  # no helper (any of the pool's) at work
        top = ", ".join(f"{name} {1e3 * v:.1f}" for name, v in steps.most_common() if " > " not in name)
        print(f"{label}: {1e3 * seconds:.1f} ms: {top}")
    print(f"summed over {len(rows)} signals: {1e3 * wall:.1f} ms on every core, {1e3 * idle:.1f} ms of it with no "
          "helper thread at work; on the encode's own thread:")
    for name, v in total.most_common():
        if " > " in name:
            continue
        print(f"  {name:34s} {1e3 * v:7.1f} ms  {100 * v / wall:5.1f} %")
        for inner, w in total.most_common():
            if inner.startswith(name + " > "):
                print(f"    {inner.split(' > ')[1]:32s} {1e3 * w:7.1f} ms  {100 * w / wall:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--signals", default=None)
    parser.add_argument("--effort", default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--bin-ms", type=float, default=0.5)
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    steady_allocator()
    named = args.signals is not None
    wanted = [w.strip() for w in (args.signals or ",".join(DEFAULT_SIGNALS)).split(",") if w.strip()]
    if args.summary and not named:
        wanted = [label for _, label, _, _ in SIGNALS]
    rows: list[tuple[str, float, list[Span]]] = []
    chosen = {label: (path, channel) for _, label, path, channel in SIGNALS if label in wanted}
    for label in wanted:
        if label not in chosen:
            raise SystemExit(f"no signal {label!r} in lossy_signals.SIGNALS")
        signal = load(args.data_dir, *chosen[label])
        if signal is None:
            print(f"{label}: not in {args.data_dir}")
            continue
        wall, spans = traced_encode(signal, args.effort, args.prdn, args.repeats)
        if args.summary:
            rows.append((label, wall, spans))
        else:
            report(label, wall, spans, args.bin_ms / 1e3, threading.get_ident())
    if args.summary:
        summary(rows, threading.get_ident())


if __name__ == "__main__":
    main()
