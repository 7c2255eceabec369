"""Batch benchmark: records per second of `sancodec.batch.encode_tree` with 1 and 2 local Dask workers
on a folder of test records (what it measures, not a promise of scaling).

Run: .venv/bin/python benchmarks/bench_batch.py [--copies 8] [--workdir /tmp/sancodec-batch]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from sancodec.batch import encode_tree

RECORDS = ["test01_00s", "100_3chan", "3000003_0003", "03700181_2000f", "1001"]


def build(folder: Path, copies: int) -> int:
    data = Path(__file__).resolve().parents[1] / "tests" / "data"
    shutil.rmtree(folder, ignore_errors=True)
    n = 0
    for k in range(copies):
        sub = folder / f"ward{k}"
        sub.mkdir(parents=True)
        for name in RECORDS:
            for f in data.glob(f"{name}.*"):
                shutil.copy(f, sub / f.name)
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sancodec-batch"))
    args = parser.parse_args()
    n = build(args.workdir / "src", args.copies)
    print(f"{n} records ({', '.join(RECORDS)}, {args.copies} copies each)\n")
    print("| workers | seconds (cluster start included) | records/s |")
    print("|---:|---:|---:|")
    for workers in (1, 2):
        dst = args.workdir / f"dst{workers}"
        shutil.rmtree(dst, ignore_errors=True)
        started = time.perf_counter()
        rows = encode_tree(args.workdir / "src", dst, workers=workers)
        seconds = time.perf_counter() - started
        assert all(r.status == "encoded" for r in rows), [r for r in rows if r.status != "encoded"]
        print(f"| {workers} | {seconds:.2f} | {n / seconds:.1f} |")


if __name__ == "__main__":
    main()
