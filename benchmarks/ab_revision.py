"""The working tree's lossy encode against an earlier commit's, by turns: each record's time under each, side by side.

Run: .venv/bin/python benchmarks/ab_revision.py REV [--data-dir ../shared/data] [--signals "mitdb 100 MLII,..."]
[--effort balanced] [--prdn 2] [--repeats 7] [--rounds 3] [--threads N]

REV is checked out into a temporary git worktree (its compiled kernels copied from this tree where the C sources are
the same, else built there). Each round runs one process per side, REV's first, each timing every signal of
``bench_lossy.SIGNALS`` the folder holds (or those named) encoded at ``--prdn`` (the fastest of ``--repeats``
encodes); the table gives the fastest over the rounds of each side, the working tree's over REV's (below 1: the
working tree is faster), and each side's bytes. For a change in code, not a setting (``ab_setting.py`` weighs those
in one process): alternating the two sides round by round spreads the host's slow spells over both.
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

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SOURCES = ["sancodec/codec/_kernels", "setup.py"]


def measure(data_dir: Path, names: list[str] | None, effort: str, prdn: float, repeats: int,
            threads: int | None) -> dict[str, tuple[float, int]]:
    """Each signal's fastest encode of ``repeats`` and its bytes, with the sancodec this process imports."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_lossy

    import sancodec

    out: dict[str, tuple[float, int]] = {}
    for label, signal in bench_lossy.labelled(data_dir):
        if names is not None and label not in names:
            continue
        best, size = float("inf"), 0
        for _ in range(repeats):
            start = time.perf_counter()
            data = sancodec.encode(signal, mode="lossy", prdn=prdn, effort=effort, threads=threads)
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


def side(path: Path, args: argparse.Namespace) -> dict[str, tuple[float, int]]:
    """One round of one side: this script's ``--measure`` in a process that imports sancodec from ``path``."""
    env = dict(os.environ, PYTHONPATH=str(path))
    command = [sys.executable, __file__, "--measure", "--data-dir", str(args.data_dir), "--effort", args.effort,
               "--prdn", str(args.prdn), "--repeats", str(args.repeats)]
    if args.signals:
        command += ["--signals", args.signals]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=path)
    return {k: (v[0], v[1]) for k, v in json.loads(done.stdout).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", nargs="?", help="the commit to weigh the working tree against")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--signals", help="comma-separated bench_lossy labels (default: every one)")
    parser.add_argument("--effort", default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="0: sancodec's default (every core)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.signals.split(",") if args.signals else None
    if args.measure:
        print(json.dumps(measure(args.data_dir.resolve(), names, args.effort, args.prdn, args.repeats,
                                 args.threads or None)))
        return
    if not args.rev:
        parser.error("REV is required")
    args.data_dir = args.data_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = worktree(args.rev, Path(tmp) / "rev")
        try:
            rounds = [(side(old_tree, args), side(ROOT, args)) for _ in range(args.rounds)]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], check=True)
    print(f"{args.effort} at PRDN {args.prdn:g} %, {args.threads or 'every'} thread(s), the fastest of "
          f"{args.repeats} encodes x {args.rounds} rounds: {args.rev} against the working tree")
    print(f"| signal | {args.rev} s | now s | ratio | {args.rev} bytes | now bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0]
    for label in rounds[0][0]:
        old = min(r[0][label][0] for r in rounds)
        new = min(r[1][label][0] for r in rounds)
        totals[0] += old
        totals[1] += new
        print(f"| {label} | {old:.4f} | {new:.4f} | {new / old:.3f} | {rounds[0][0][label][1]} | "
              f"{rounds[0][1][label][1]} |")
    print(f"| **summed** | {totals[0]:.4f} | {totals[1]:.4f} | {totals[1] / totals[0]:.3f} | | |")


if __name__ == "__main__":
    main()
