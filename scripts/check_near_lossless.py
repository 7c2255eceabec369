"""Issue 13's promise, checked record by record: near-lossless (max error 1) is never larger than lossless.

Run: .venv/bin/python scripts/check_near_lossless.py [--data-dir ../shared/data]
Every WFDB record under the data folder and tests/data with integer samples; exits 1 if any is larger.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sancodec


def wfdb_records(description: str) -> list[Path]:
    """Every WFDB record (its base path) under the folder ``--data-dir`` names and ``tests/data``, in order: the
    command line of a script that checks them (``description``: its ``--help``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    folders = (args.data_dir, Path("tests/data"))
    return sorted({p.with_suffix("") for folder in folders for p in folder.rglob("*.hea")})


def main() -> int:
    records = wfdb_records(__doc__.splitlines()[0])
    larger = []
    print("| record | lossless bytes | near-lossless E=1 bytes |\n|---|---:|---:|")
    for record in records:
        signal = sancodec.read_signal(record)
        if not signal.is_digital:
            continue
        exact, near = len(sancodec.encode(signal)), len(sancodec.encode(signal, mode="near-lossless", max_error=1))
        print(f"| {record} | {exact} | {near} |")
        if near > exact:
            larger.append(str(record))
    print(f"near-lossless larger than lossless: {larger or 'none'}")
    return 1 if larger else 0


if __name__ == "__main__":
    sys.exit(main())
