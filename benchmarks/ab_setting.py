"""One of the encoder's module settings two ways, alternated in one process: each record's lossy encode time and
bytes under each, side by side.

Run: .venv/bin/python benchmarks/ab_setting.py MODULE.NAME OLD NEW [--data-dir ../shared/data] [--effort balanced]
[--prdn 2] [--repeats 21] [--threads N]

e.g. ``benchmarks/ab_setting.py sancodec.codec.templatesearch.PAIRED_CANDIDATES 131072 32768``. Every signal of
``bench_lossy.SIGNALS`` the folder holds is encoded at ``--prdn`` with the setting at OLD, then at NEW, by turns,
``--repeats`` times, in this one process (a machine that slows down between two runs of a script slows both sides
alike here: bench_lossy's summed ratio moved by several percent between runs of the same code on this VM); the
fastest of each, NEW's over OLD's (below 1: NEW is faster), and each side's bytes (a setting that only moves work
between threads keeps them). The setting is a module attribute the encoder reads when it runs (a threshold or a
count), given as a Python literal; the last row sums the seconds. glibc's allocator is steadied as
``bench_lossy.py`` steadies it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from timing import steady_allocator

import sancodec
from sancodec import Signal
from sancodec.codec.lossy import EFFORTS


def setting(dotted: str) -> tuple[Any, str]:
    """The module and attribute name of ``dotted`` (``package.module.NAME``); SystemExit where there is none."""
    module_name, _, name = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"no module {module_name!r}: {exc}") from None
    if not hasattr(module, name):
        raise SystemExit(f"{module_name} has no setting {name!r}")
    return module, name


@contextmanager
def set_to(module: Any, name: str, value: Any) -> Iterator[None]:
    """Within the block, ``module.name`` is ``value``; put back as it was after, also where the block fails."""
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, kept)


@contextmanager
def applied(settings: Mapping[str, Any]) -> Iterator[None]:
    """Within the block, each dotted module setting of ``settings`` (:func:`setting`) at its value; put back as it
    was after (those already set, where a later name is unknown)."""
    with ExitStack() as stack:
        for dotted, value in settings.items():
            stack.enter_context(set_to(*setting(dotted), value))
        yield


def side_by_side(signal: Signal, module: Any, name: str, values: tuple[Any, Any], effort: str, prdn: float,
                 repeats: int, threads: int | None) -> tuple[list[float], list[int]]:
    """The fastest of ``repeats`` encodes of ``signal`` under each of ``values`` (taken by turns) and the bytes of
    each; the setting is put back as it was."""
    best, sizes = [float("inf"), float("inf")], [0, 0]
    for _ in range(repeats):
        for i, value in enumerate(values):
            with set_to(module, name, value):
                start = time.perf_counter()
                data = sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort, threads=threads)
                best[i] = min(best[i], time.perf_counter() - start)
            sizes[i] = len(data)
    return best, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", help="package.module.NAME, a setting the encoder reads when it runs")
    parser.add_argument("old", type=ast.literal_eval, help="its first value (a Python literal)")
    parser.add_argument("new", type=ast.literal_eval, help="its second value")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", choices=EFFORTS, default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=21, help="the fastest of this many encodes of each")
    parser.add_argument("--threads", type=int, help="threads an encode may use (default: sancodec's, every core)")
    args = parser.parse_args()
    import bench_lossy  # benchmarks/ is the script's folder; it needs PyWavelets (the tests import this module without)
    module, name = setting(args.setting)
    steady_allocator()
    signals = bench_lossy.labelled(args.data_dir)
    if not signals:
        raise SystemExit(f"no signals under {args.data_dir}")
    print(f"{args.setting}: {args.old!r} against {args.new!r}; --effort {args.effort} at PRDN {args.prdn:g} %, the "
          f"fastest of {args.repeats} encodes each, by turns in one process\n")
    print(f"| signal (n) | {args.old!r} | {args.new!r} | new over old | bytes, old | bytes, new |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0]
    for label, signal in signals:
        (old, new), (old_bytes, new_bytes) = side_by_side(signal, module, name, (args.old, args.new), args.effort,
                                                          args.prdn, args.repeats, args.threads)
        totals = [totals[0] + old, totals[1] + new]
        print(f"| {label} ({len(signal.samples)}) | {old * 1e3:.2f} ms | {new * 1e3:.2f} ms | {new / old:.3f} | "
              f"{old_bytes} | {new_bytes} |")
    print(f"| **summed** | {totals[0] * 1e3:.1f} ms | {totals[1] * 1e3:.1f} ms | {totals[1] / totals[0]:.3f} | | |")


if __name__ == "__main__":
    main()
