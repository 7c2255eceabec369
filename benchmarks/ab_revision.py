"""The working tree's lossy encode against an earlier commit's, by turns: each record's time under each, side by side.

Run: .venv/bin/python benchmarks/ab_revision.py REV [--data-dir ../shared/data] [--signals "mitdb 100 MLII,..."]
[--effort balanced] [--prdn 2 | --bps 1] [--repeats 5] [--rounds 3] [--threads N] [--cythonize MODULE,...]

REV is checked out into a temporary git worktree (its compiled kernels copied from this tree where the C sources are
the same, else built there). For each round and each signal of ``lossy_signals.SIGNALS`` the folder holds (or those
named), one process per side times that signal's encode at ``--prdn`` (or within ``--bps``; the fastest of
``--repeats``), the sides taking turns and swapping which goes first every round (glibc's allocator steadied in
each, as ``bench_lossy.py`` steadies it); the table gives each side's fastest over the rounds, the working tree's
over REV's (below 1: the working tree is faster), and each side's bytes. For a change in code, not a
setting (``ab_setting.py`` weighs those in one process, which is steadier). This VM's speed drifts over tens of
seconds: against HEAD itself (the same code on both sides) one run of whole sweeps per process gave 1.16 summed,
which is why each process here times one signal only (then 0.96 summed, single records 0.71-1.10, balanced, 5
encodes x 3 rounds, in a slow hour); run it against HEAD to see the spread of the hour.

``--cythonize``: REV's copies of the named modules (``sancodec.codec.lossy``, ...) compiled by Cython (installed
beside the benchmarks' other needs: ``pip install cython``), as plain Python, annotations not taken as C types: what
compiling the encoder's orchestration as it is written would give, against the working tree interpreted (run against
HEAD, the same code on both sides).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lossy_signals
from timing import steady_allocator

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SOURCES = ["sancodec/codec/_kernels", "setup.py"]


def measure(data_dir: Path, names: list[str] | None, effort: str, prdn: float, repeats: int,
            threads: int | None, bps: float | None = None) -> dict[str, tuple[float, int]]:
    """Each signal's fastest encode of ``repeats`` at the PRDN ``prdn`` (or within ``bps`` bits a sample) and its
    bytes, with the sancodec this process imports."""
    import sancodec

    target = {"prdn": prdn} if bps is None else {"bps": bps}

    out: dict[str, tuple[float, int]] = {}
    for _, label, path, channel in lossy_signals.SIGNALS:
        signal = lossy_signals.load(data_dir, path, channel) if names is None or label in names else None
        if signal is None:
            continue
        best, size = float("inf"), 0
        for _ in range(repeats):
            start = time.perf_counter()
            data = sancodec.encode(signal, mode="lossy", effort=effort, threads=threads, **target)
            best, size = min(best, time.perf_counter() - start), len(data)
        out[label] = (best, size)
    return out


def worktree(rev: str, into: Path) -> Path:
    """``rev`` checked out at ``into``, with compiled kernels: this tree's where REV's C sources are this tree's."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(into), rev], check=True)
    same = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", rev, "--", *KERNEL_SOURCES]).returncode == 0
    built = sorted((ROOT / "sancodec" / "codec").glob("_kernels*.so"))
    if same and built:
        for so in built:
            shutil.copy2(so, into / "sancodec" / "codec" / so.name)
    else:
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=into, check=True,
                       stdout=subprocess.DEVNULL)
    return into


def cythonized(tree: Path, modules: list[str]) -> None:
    """Each of ``modules`` (dotted names under ``tree``) compiled in place by Cython as plain Python (its annotations
    not taken as C types, so that a value typed loosely, a memoryview where ``bytes`` is written, still passes), so
    that the tree imports the compiled module before its source."""
    paths = [str(tree / (name.replace(".", "/") + ".py")) for name in modules]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise SystemExit(f"no such module in {tree}: {', '.join(missing)}")
    cythonize = shutil.which("cythonize", path=str(Path(sys.executable).parent))
    if cythonize is None:
        raise SystemExit("--cythonize needs Cython: pip install cython")
    for source in paths:  # one at a time: a module Cython cannot compile is named, not lost in a batch
        done = subprocess.run([cythonize, "-i", "-3", "-X", "annotation_typing=False", source], cwd=tree,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"Cython could not compile {source}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def side(path: Path, args: argparse.Namespace, label: str) -> tuple[float, int]:
    """One side's time and bytes for the signal ``label``: this script's ``--measure`` in a process that imports
    sancodec from ``path``."""
    env = dict(os.environ, PYTHONPATH=str(path))
    command = [sys.executable, __file__, "--measure", "--data-dir", str(args.data_dir), "--effort", args.effort,
               "--prdn", str(args.prdn), "--repeats", str(args.repeats), "--signals", label]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.bps is not None:
        command += ["--bps", str(args.bps)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=path)
    seconds, size = json.loads(done.stdout)[label]
    return seconds, size


def held(data_dir: Path, names: list[str] | None) -> list[str]:
    """The labels of ``lossy_signals.SIGNALS`` (those in ``names``, if given) that ``data_dir`` holds."""
    return [label for _, label, path, _ in lossy_signals.SIGNALS
            if (names is None or label in names) and lossy_signals.located(data_dir, path) is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", nargs="?", help="the commit to weigh the working tree against")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--signals", help="comma-separated bench_lossy labels (default: every one)")
    parser.add_argument("--effort", default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--bps", type=float, help="a bits-per-sample budget instead of --prdn")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="0: sancodec's default (every core)")
    parser.add_argument("--cythonize", help="comma-separated modules of REV's tree to compile with Cython first")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.signals.split(",") if args.signals else None
    if args.measure:
        steady_allocator()  # as bench_lossy times its encodes
        print(json.dumps(measure(args.data_dir.resolve(), names, args.effort, args.prdn, args.repeats,
                                 args.threads or None, args.bps)))
        return
    if not args.rev:
        parser.error("REV is required")
    args.data_dir = args.data_dir.resolve()
    labels = held(args.data_dir, names)
    if not labels:
        raise SystemExit(f"no signal of lossy_signals.SIGNALS in {args.data_dir}")
    times: dict[str, list[list[float]]] = {label: [[], []] for label in labels}
    sizes: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        trees = (worktree(args.rev, Path(tmp) / "rev"), ROOT)
        try:
            if args.cythonize:
                cythonized(trees[0], args.cythonize.split(","))
            for r in range(args.rounds):
                for label in labels:
                    order = (0, 1) if r % 2 == 0 else (1, 0)  # which side goes first, swapped every round
                    got = {i: side(trees[i], args, label) for i in order}
                    for i in (0, 1):
                        times[label][i].append(got[i][0])
                    sizes[label] = [got[0][1], got[1][1]]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees[0])], check=True)
    aim = f"PRDN {args.prdn:g} %" if args.bps is None else f"{args.bps:g} bits a sample"
    print(f"{args.effort} at {aim}, {args.threads or 'every'} thread(s), the fastest of "
          f"{args.repeats} encodes x {args.rounds} rounds: {args.rev} against the working tree"
          + (f" ({args.rev}'s {args.cythonize} compiled by Cython)" if args.cythonize else ""))
    print(f"| signal | {args.rev} s | now s | ratio | {args.rev} bytes | now bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0]
    for label in labels:
        old, new = min(times[label][0]), min(times[label][1])
        totals[0] += old
        totals[1] += new
        print(f"| {label} | {old:.4f} | {new:.4f} | {new / old:.3f} | {sizes[label][0]} | {sizes[label][1]} |")
    print(f"| **summed** | {totals[0]:.4f} | {totals[1]:.4f} | {totals[1] / totals[0]:.3f} | | |")


if __name__ == "__main__":
    main()
