"""Rate control with and without the error model: encode time, decodes and bytes, side by side in one run.

Run: .venv/bin/python benchmarks/bench_rate_control.py [--data-dir ../shared/data] [--repeats 7]

``--effort fast`` and ``balanced`` search a PRDN bound with ``stepsearch.modelled_step`` (a cheap estimate,
``codec/errormodel.py``, calibrated by each decode) on channels of ``lossyrate.MODELLED`` samples or more; "off"
sets that threshold out of reach, so the same encoder searches with ``find_step`` alone. Each signal of
``bench_lossy.SIGNALS`` is encoded at PRDN 2 %, on and off alternately, the fastest of ``--repeats`` runs of
each; then the bundled mitdb 100 tiled to 2^22 rows (two channels, one lossy block). Decodes: the channel
rebuilds the rate control measured (``Prepared.decoded`` calls), summed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_lossy
import numpy as np

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import lossyrate

SAMPLE = Path(sancodec.__path__[0]) / "data" / "samples" / "100"
LONG_ROWS = 1 << 22


def encode_counted(signal: Signal, effort: str, modelled: bool) -> tuple[float, int, int]:
    """(seconds, decodes, bytes) of one encode at PRDN 2 %, the error model on or off."""
    saved_threshold, saved_decoded = lossyrate.MODELLED, lossyrate.Prepared.decoded
    decodes = 0

    def counted(self: lossyrate.Prepared, delta: float) -> np.ndarray:
        nonlocal decodes
        decodes += 1
        return saved_decoded(self, delta)

    lossyrate.MODELLED = saved_threshold if modelled else 1 << 62
    lossyrate.Prepared.decoded = counted  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        data = sancodec.encode(signal, mode="lossy", prdn=2.0, effort=effort)
        return time.perf_counter() - start, decodes, len(data)
    finally:
        lossyrate.MODELLED, lossyrate.Prepared.decoded = saved_threshold, saved_decoded  # type: ignore[method-assign]


def side_by_side(signals: list[Signal], effort: str, repeats: int) -> dict[bool, list[tuple[float, int, int]]]:
    """Per setting (on, off), per signal: the fastest encode's seconds, and its decodes and bytes."""
    best: dict[bool, list[tuple[float, int, int]]] = {True: [], False: []}
    for signal in signals:
        runs: dict[bool, list[tuple[float, int, int]]] = {True: [], False: []}
        for k in range(repeats):
            for modelled in ((True, False) if k % 2 else (False, True)):
                runs[modelled].append(encode_counted(signal, effort, modelled))
        for modelled in (True, False):
            best[modelled].append(min(runs[modelled]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=7, help="the fastest of this many encodes of each")
    args = parser.parse_args()
    signals = bench_lossy.load_all(args.data_dir)
    record = read_signal(SAMPLE)
    long = Signal(np.tile(record.samples, (-(-LONG_ROWS // record.n_samples), 1))[:LONG_ROWS], record.fs,
                  record.channel_names, record.units)
    print("| set | effort | encode, model on | off | ratio | decodes on | off | bytes on | off |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, group, repeats in ((f"bench_lossy's {len(signals)} signals", signals, args.repeats),
                                 (f"mitdb 100 tiled to {LONG_ROWS} rows", [long], max(1, args.repeats // 2))):
        for effort in ("fast", "balanced"):
            best = side_by_side(group, effort, repeats)
            on, off = (np.sum(np.array(best[m], dtype=np.float64), axis=0) for m in (True, False))
            print(f"| {name} | {effort} | {on[0]:.4f} s | {off[0]:.4f} s | {on[0] / off[0]:.3f} | {int(on[1])} | "
                  f"{int(off[1])} | {int(on[2])} | {int(off[2])} |")


if __name__ == "__main__":
    main()
