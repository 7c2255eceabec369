"""How many decodes the lossy rate control's step searches take: each bench_lossy signal encoded at PRDN 1, 2, 5 and
9 %, the measurements of every ``stepsearch.find_step`` and of ``coarsest_step``'s scan (``first_within``) counted,
with the search as it is and with its cliff bisection and scan give-up turned off (``STEEP_SLOPE`` and
``SCAN_GIVE_UP`` infinite, the search before them), and the file's bytes under each.

Run: .venv/bin/python benchmarks/step_search_counts.py [--data-dir ../shared/data] [--effort balanced]

Only signals whose counts or bytes differ are listed, then the totals; then find_step on power laws of several
slopes (``2 (x / 2150)^k`` against a bound of 2, from 375), its measurements and the bracket it ends with, both
ways. Counts, not times: a measurement is one decode of the channel (``lossyrate.Prepared.squared_error``);
``ab_setting.py`` times them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ab_setting import set_to
from lossy_signals import SIGNALS, TARGETS, load

import sancodec
from sancodec.codec import dependentframe, lossyrate, stepsearch
from sancodec.codec.lossy import EFFORTS

#: where the encoder looks the searches up: the module itself (coarsest_step and modelled_step call both through
#: it) and the modules that imported find_step by name
HOLDERS = (stepsearch, lossyrate, dependentframe)


def counted(run: Callable[[], bytes]) -> tuple[int, int, int]:
    """``run()``'s bytes, and the measurements its find_step calls and its scans took."""
    counts = {"find_step": 0, "first_within": 0}
    originals = {name: getattr(stepsearch, name) for name in counts}

    def counting(name: str) -> Callable[..., Any]:
        def wrapped(measure: Callable[[float], float], *args: Any, **kwargs: Any) -> Any:
            def once(x: float) -> float:
                counts[name] += 1
                return measure(x)
            return originals[name](once, *args, **kwargs)
        return wrapped

    with ExitStack() as stack:
        for name in counts:
            for module in HOLDERS:
                if hasattr(module, name):
                    stack.enter_context(set_to(module, name, counting(name)))
        data = run()
    return len(data), counts["find_step"], counts["first_within"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="balanced")
    args = parser.parse_args()
    totals = {"now": [0, 0], "before": [0, 0]}
    print("| signal | PRDN | find_step now | before | scan now | before | bytes now | before |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for _, label, path, channel in SIGNALS:
        signal = load(args.data_dir, path, channel)
        if signal is None:
            continue
        for target in TARGETS:
            def run(signal: sancodec.Signal = signal, target: float = target) -> bytes:
                return sancodec.encode(signal, mode="lossy", prdn=target, effort=args.effort, threads=1)

            now = counted(run)
            with set_to(stepsearch, "STEEP_SLOPE", math.inf), set_to(stepsearch, "SCAN_GIVE_UP", math.inf):
                before = counted(run)
            for side, (_, find, scan) in (("now", now), ("before", before)):
                totals[side][0] += find
                totals[side][1] += scan
            if now != before:
                print(f"| {label} | {target:g} % | {now[1]} | {before[1]} | {now[2]} | {before[2]} | {now[0]} | "
                      f"{before[0]} |")
    print(f"\nsummed over every signal and target ({args.effort}): find_step {totals['now'][0]} measurements "
          f"(before: {totals['before'][0]}), scans {totals['now'][1]} (before: {totals['before'][1]})")
    power_laws()


def power_laws() -> None:
    """find_step on ``2 (x / 2150)^k``, bound 2, first guess 375: measurements and the bracket's ratio, now and
    without the cliff bisection."""
    print("\n| slope k | measurements now | bracket now | before | bracket before |")
    print("|---:|---:|---:|---:|---:|")
    for k in (1, 2, 5, 6, 8.5, 12, 40):
        row = []
        for steep in (stepsearch.STEEP_SLOPE, math.inf):
            calls = [0]

            def measure(x: float, k: float = k, calls: list[int] = calls) -> float:
                calls[0] += 1
                return 2.0 * (x / 2150.0) ** k

            with set_to(stepsearch, "STEEP_SLOPE", steep):
                lo, hi = stepsearch.find_step(measure, 2.0, 1e-3, 1e5, 375.0)
            row += [str(calls[0]), f"{hi / lo:.4g}"]
        print(f"| {k:g} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
