"""The bytes of sancodec's lossy files for every bench_lossy signal, at each effort, at PRDN 1 / 2 / 5 / 9 % and at 1
bit per sample: a record of what the encoder writes, to compare two versions of it file by file (``--compare``), as
the closing notes' byte-for-byte claims do ("every bench_lossy file, every effort, byte for byte as before").
``--lossless`` adds each signal's lossless file, with the default predictor and ``predictor="fast"`` (a change to
the entropy coders the two modes share).

Run: .venv/bin/python benchmarks/lossy_sizes.py [--data-dir ../shared/data] [--lossless] --out sizes.json
[--compare old.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_lossy import SIGNALS, TARGETS, load

import sancodec
from sancodec.codec.lossy import EFFORTS


def sizes(data_dir: Path, efforts: list[str], lossless: bool = False) -> dict[str, int]:
    """``"signal|effort|target"`` (target: the PRDN, or ``bps1``) to the file's bytes; with ``lossless``, also
    ``"signal|lossless|predictor"``."""
    out = {}
    for _, label, path, channel in SIGNALS:
        sig = load(data_dir, path, channel)
        if sig is None:
            continue
        for effort in efforts:
            for target in TARGETS:
                out[f"{label}|{effort}|{target:g}"] = len(sancodec.encode(sig, mode="lossy", prdn=target,
                                                                           effort=effort))
            out[f"{label}|{effort}|bps1"] = len(sancodec.encode(sig, mode="lossy", bps=1.0, effort=effort))
        for predictor in ("auto", "fast") if lossless else ():
            out[f"{label}|lossless|{predictor}"] = len(sancodec.encode(sig, predictor=predictor))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--efforts", default=",".join(EFFORTS), help="comma-separated (default: every effort)")
    parser.add_argument("--lossless", action="store_true", help="also each signal's lossless files")
    parser.add_argument("--out", type=Path, required=True, help="write the sizes here (JSON)")
    parser.add_argument("--compare", type=Path, help="an earlier --out file: list the files whose size changed")
    args = parser.parse_args()
    now = sizes(args.data_dir, args.efforts.split(","), args.lossless)
    args.out.write_text(json.dumps(now, indent=0) + "\n")
    if args.compare:
        before = json.loads(args.compare.read_text())
        common = [k for k in now if k in before]
        changed = [k for k in common if now[k] != before[k]]
        print(f"{len(common)} files compared, {len(changed)} differ")
        for k in changed:
            print(f"  {k}: {before[k]} -> {now[k]} ({100 * (now[k] - before[k]) / before[k]:+.2f} %)")
        for effort in args.efforts.split(",") + (["lossless"] if args.lossless else []):
            keys = [k for k in common if f"|{effort}|" in k]
            print(f"{effort}: {sum(before[k] for k in keys)} -> {sum(now[k] for k in keys)} bytes in all")


if __name__ == "__main__":
    main()
