"""A command's fixed cost: wall seconds of short ``sancodec`` commands on a small file, next to the imports they may
wait on (Python and sancodec alone, and wfdb-python, which brings pandas), timed in turns in one run.

Run: .venv/bin/python benchmarks/cli_startup.py [--repeats 5]

Each command runs as a user runs it (``python -m sancodec ...``, a fresh process) on a 3000 x 2 int16 ``.npy``, its
``.san``, an EDF of it, and the bundled WFDB record's first 3000 samples; the median of ``--repeats`` runs after one
untimed. A command on a file that is no WFDB record should cost about ``import sancodec`` and the CLI's own imports,
not wfdb-python's as well (``tests/test_device.py`` checks that it does not import it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sancodec

SAMPLE = Path(sancodec.__file__).parent / "data" / "samples" / "100"


def _wall(argv: list[str], cwd: Path, repeats: int) -> float:
    """Median wall seconds of ``argv`` run in ``cwd`` (one untimed run first)."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        np.save(here / "x.npy", sancodec.read_signal(SAMPLE).samples[:3000].astype(np.int16))
        sancodec.write_signal(sancodec.read_signal(SAMPLE).slice(0, 3000), here / "rec")
        cli = [sys.executable, "-m", "sancodec"]
        setup = [[*cli, "encode", "x.npy", "--fs", "360", "-o", "x.san", "-q"],
                 [*cli, "decode", "x.san", "-o", "x.edf", "-q"]]
        for argv in setup:
            subprocess.run(argv, cwd=here, check=True, capture_output=True)
        rows = [
            ("python -c 'import sancodec'", [sys.executable, "-c", "import sancodec"]),
            ("python -c 'import sancodec, wfdb'", [sys.executable, "-c", "import sancodec, wfdb"]),
            ("sancodec encode x.npy --fs 360", [*cli, "encode", "x.npy", "--fs", "360", "-o", "y.san", "-f", "-q"]),
            ("sancodec encode x.edf", [*cli, "encode", "x.edf", "-o", "e.san", "-f", "-q"]),
            ("sancodec encode rec (WFDB)", [*cli, "encode", "rec", "-o", "r.san", "-f", "-q"]),
            ("sancodec decode x.san -o y.npy", [*cli, "decode", "x.san", "-o", "y.npy", "-f", "-q"]),
            ("sancodec info x.san", [*cli, "info", "x.san"]),
        ]
        print(f"median wall seconds of {args.repeats} runs each (a fresh process a run)")
        print("| command | seconds |\n|---|---:|")
        for label, argv in rows:
            print(f"| {label} | {_wall(argv, here, args.repeats):.2f} |")


if __name__ == "__main__":
    main()
