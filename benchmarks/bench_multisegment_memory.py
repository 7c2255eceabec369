"""Memory of encoding a long multi-segment WFDB record in the shape of MIMIC-III's waveform records: ``sancodec
encode`` (which reads it a block of rows at a time since 2026-12-08, ``io.wfdb_multi_stream``) against reading it
whole and coding that (``sancodec.encode(sancodec.read_signal(rec))``, the path every multi-segment record took
before), side by side in one run; both must give the same bytes. Then the decode back to WFDB: ``sancodec decode``
(each segment written a block at a time since 2026-12-08) against decoding the file whole and writing that
(``sancodec.write_signal(sancodec.decode(...))``); both must write the same files.

    python benchmarks/bench_multisegment_memory.py [--hours 24] [--segment-minutes 60] [--workdir DIR]
                                                   [--mode lossless|near-lossless]

The record is written here, seeded: a layout header of four channels (II, V, ABP, PLETH) at 125 Hz, format 80
segments of ``--segment-minutes`` each carrying three or four of them (in their own order), a minute's gap between
segments. Each run is its own process: its peak resident and peak anonymous memory (``bench_edf_memory.peaks``) and
its wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import wfdb
from bench_edf_memory import WHOLE, WHOLE_DECODE, peaks

FS = 125
CHANNELS = ["II", "V", "ABP", "PLETH"]
CARRIED = [["II", "V", "ABP", "PLETH"], ["II", "ABP", "PLETH"], ["PLETH", "II", "V", "ABP"], ["V", "II", "ABP"]]


def build(folder: Path, name: str, hours: float, minutes: float) -> int:
    """The record ``name`` in ``folder``; returns its rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    layout = f"{name}_layout 4 {FS} 0 10:44:18.529\n" + "".join(
        f"~ 0 {g}/{u} 8 0 0 0 0 {c}\n" for c, g, u in zip(CHANNELS, (29, 24, 1, 100), ("mV", "mV", "mmHg", "NU")))
    (folder / f"{name}_layout.hea").write_text(layout)
    rows_each, gap = int(minutes * 60 * FS), 60 * FS
    count = max(1, round(hours * 60 / minutes))
    lines, total = [f"{name}_layout 0"], 0
    t = np.arange(rows_each)
    for k in range(count):
        names = CARRIED[k % len(CARRIED)]
        waves = {"II": 60 * np.sin(2 * np.pi * 1.2 * t / FS) ** 15, "V": 40 * np.sin(2 * np.pi * 1.2 * t / FS + 1),
                 "ABP": 30 * np.sin(2 * np.pi * 1.2 * t / FS + 2), "PLETH": 50 * np.sin(2 * np.pi * 1.2 * t / FS + 3)}
        data = np.stack([np.clip(np.round(waves[c] + rng.normal(0, 2, rows_each)), -127, 127) for c in names],
                        axis=1).astype(np.int64)
        seg = f"{name}_{k + 1:04d}"
        wfdb.wrsamp(seg, fs=FS, units=["mV"] * len(names), sig_name=names, d_signal=data, fmt=["80"] * len(names),
                    adc_gain=[29.0] * len(names), baseline=[0] * len(names), write_dir=str(folder))
        lines.append(f"{seg} {rows_each}")
        total += rows_each
        if k < count - 1:
            lines.append(f"~ {gap}")
            total += gap
    (folder / f"{name}.hea").write_text(f"{name}/{len(lines)} 4 {FS} {total} 10:44:18.529\n" + "\n".join(lines)
                                        + "\n")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--segment-minutes", type=float, default=60.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sancodec-multi"))
    parser.add_argument("--mode", choices=("lossless", "near-lossless"), default="lossless")
    args = parser.parse_args()
    base = args.workdir / "3000001"
    rows = build(args.workdir, base.name, args.hours, args.segment_minutes)
    size = sum(f.stat().st_size for f in args.workdir.glob(f"{base.name}_*.dat")) / 1e6
    cli = str(Path(sys.executable).parent / "sancodec")
    options = [] if args.mode == "lossless" else ["--mode", "near-lossless", "--max-error", "2"]
    kwargs = {} if args.mode == "lossless" else {"mode": "near-lossless", "max_error": 2}
    streamed, whole = args.workdir / "streamed.san", args.workdir / "whole.san"
    print(f"a {args.hours:g} h multi-segment record, {rows} rows x 4 channels at {FS} Hz in format 80 segments of "
          f"{args.segment_minutes:g} min ({size:.0f} MB of signal files), {args.mode}\n")
    print("| path | peak RSS | peak anonymous | wall |")
    print("|---|---:|---:|---:|")
    for label, command in {"sancodec encode (streamed)": [cli, "encode", str(base), "-o", str(streamed), "-f", "-q",
                                                          *options],
                           "read_signal + encode (whole)": [sys.executable, "-c", WHOLE, str(base), str(whole),
                                                            json.dumps(kwargs)]}.items():
        rss, anon, seconds = peaks(command)
        print(f"| {label} | {rss:.0f} MB | {anon:.0f} MB | {seconds:.1f} s |")
    if streamed.read_bytes() != whole.read_bytes():
        raise SystemExit("the streamed file differs from the whole one")
    print(f"| the same {streamed.stat().st_size / 1e6:.1f} MB .san both ways | | | |")
    backs = {"sancodec decode to WFDB (streamed)": (args.workdir / "back", [cli, "decode", str(streamed), "-o"]),
             "decode + write_signal (whole)": (args.workdir / "whole_back", [sys.executable, "-c", WHOLE_DECODE,
                                                                             str(streamed)])}
    made = []
    for label, (folder, command) in backs.items():
        if folder.exists():
            for f in folder.iterdir():
                f.unlink()
        folder.mkdir(exist_ok=True)
        target = str(folder / "rec")
        rss, anon, seconds = peaks([*command, target, *(["-q"] if command[0] == cli else ["wfdb"])])
        print(f"| {label} | {rss:.0f} MB | {anon:.0f} MB | {seconds:.1f} s |")
        made.append({f.name: f.read_bytes() for f in folder.iterdir()})
    if made[0] != made[1]:
        raise SystemExit("the streamed decode's files differ from the whole one's")
    print(f"| the same {len(made[0])} files both ways | | | |")


if __name__ == "__main__":
    main()
