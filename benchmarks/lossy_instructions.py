"""Instructions a lossy encode executes, counted by valgrind's callgrind: one sweep over bench_lossy's signals on one
thread, less a run that loads the same signals and encodes none; the total, and its share by library (the compiled
kernels, numpy, the interpreter, libc, the rest).

Run: .venv/bin/python benchmarks/lossy_instructions.py [--data-dir ../shared/data] [--effort balanced] [--prdn 2]

Needs valgrind (not a dependency: a benchmark tool). The sancodec counted is the one Python imports (set PYTHONPATH
to a worktree of another commit, its extension built, to count that one). Counted instructions do not drift with
the machine's load as this VM's timings do (a few percent from run to run, up to half between sessions), so a change
that makes the encoder do less shows here run after run; they are not time (a cache miss or a mispredicted branch
costs more than an instruction: the interpreter takes a far larger share of the time than of the instructions, and
valgrind runs the AVX2 clones of the kernels, not AVX-512's), and the wall-clock ratios stay ``bench_lossy.py``'s.
The two runs go side by side (a minute or two each under valgrind).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

#: What each child runs: load the signals as bench_lossy does, then encode each ``sweeps`` times (0: the baseline).
CHILD = """
import sys
sys.path.insert(0, {benchmarks!r})
import bench_lossy, sancodec
from pathlib import Path
signals = bench_lossy.load_all(Path({data_dir!r}))
for _ in range({sweeps}):
    for signal in signals:
        sancodec.encode(signal, mode="lossy", prdn={prdn!r}, effort={effort!r}, threads=1)
"""

#: Libraries by the file name callgrind names them with, to the group reported (the first match).
GROUPS = [("_kernels.", "compiled kernels (sancodec)"), ("_kernels/", "compiled kernels (sancodec)"),
          ("_multiarray_umath", "numpy"), ("pocketfft", "numpy"), ("libpython", "interpreter"),
          ("Python-3", "interpreter"), ("libc.so", "libc"), ("libm.so", "libc")]


def collected(text: str) -> int:
    """The instruction count callgrind prints at exit (``==pid== Collected : N``)."""
    match = re.search(r"Collected : (\d+)", text)
    if match is None:
        raise ValueError("no instruction count in valgrind's output")
    return int(match.group(1))


def by_function(annotated: str) -> dict[str, int]:
    """``callgrind_annotate --inclusive=no --auto=no`` output as {function line: instructions} (self costs)."""
    out: dict[str, int] = {}
    for line in annotated.splitlines():
        match = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if match and "PROGRAM TOTALS" not in line:
            out[match.group(2)] = out.get(match.group(2), 0) + int(match.group(1).replace(",", ""))
    return out


def difference(sweep: dict[str, int], base: dict[str, int]) -> dict[str, int]:
    """The sweep's self costs less the baseline's, function by function (one missing from a run: 0 there)."""
    return {name: sweep.get(name, 0) - base.get(name, 0) for name in set(sweep) | set(base)}


def grouped(functions: dict[str, int]) -> Counter[str]:
    """Instructions by :data:`GROUPS` (anything else: "other")."""
    groups: Counter[str] = Counter()
    for name, count in functions.items():
        groups[next((label for key, label in GROUPS if key in name), "other")] += count
    return groups


def run(data_dir: Path, effort: str, prdn: float, folder: Path) -> tuple[int, Counter[str]]:
    """The sweep's instructions (less the baseline's) and their split by :func:`grouped`."""
    procs = []
    for sweeps in (1, 0):
        code = CHILD.format(benchmarks=str(Path(__file__).resolve().parent), data_dir=str(data_dir), sweeps=sweeps,
                            prdn=float(prdn), effort=effort)
        out_file = folder / f"callgrind.{sweeps}"
        procs.append((out_file, subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", sys.executable, "-c", code],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=folder)))  # not this folder: the
        # sancodec imported is the installed one, or PYTHONPATH's (another version of it, to compare)
    counts, functions = [], []
    for out_file, proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"valgrind failed:\n{err[-2000:]}")
        counts.append(collected(err))
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", "--auto=no", "--threshold=100",
                                    str(out_file)], capture_output=True, text=True, check=True).stdout
        functions.append(by_function(annotated))
    return counts[0] - counts[1], grouped(difference(*functions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--effort", default="balanced")
    parser.add_argument("--prdn", type=float, default=2.0)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise SystemExit("valgrind (with callgrind_annotate) is not installed: it counts the instructions")
    with tempfile.TemporaryDirectory() as folder:
        total, groups = run(args.data_dir.resolve(), args.effort, args.prdn, Path(folder))
    print(f"--effort {args.effort} at PRDN {args.prdn:g} %, one sweep on one thread: {total:,} instructions")
    for label, count in groups.most_common():
        print(f"  {label:30s} {count / total:6.1%}")


if __name__ == "__main__":
    main()
