"""Bytes and time of a long many-channel lossy record coded in the blocks ``lossyfile.blocks`` makes (about 2^23
samples over the channels: here a frame of 2^20 rows a block) against one block of 2^22 rows (the rule before),
side by side in one run.

    .venv/bin/python benchmarks/lossy_block_size.py [--channels 10] [--copies 4]

The record: mitdb 100's two channels (the bundled sample) repeated ``--copies`` times and spread over ``--channels``
channels, each rolled by its own offset (2.6 M rows of 10 channels by default), coded at PRDN 2 and 5 % with
``--effort balanced``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sancodec
from sancodec.codec import lossyfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    sig = sancodec.read_signal("sancodec/data/samples/100")
    long = np.concatenate([sig.samples.astype(np.int64)] * args.copies)
    cols = [np.roll(long[:, k % 2], 7919 * k) for k in range(args.channels)]
    record = sancodec.Signal(np.stack(cols, axis=1), sig.fs, [f"c{k}" for k in range(args.channels)],
                             ["mV"] * args.channels)
    rule = lossyfile.LOSSY_BLOCK_VALUES
    print(f"{len(long)} rows x {args.channels} channels, --effort balanced\n")
    print("| PRDN | blocks | bytes | seconds | blocks of 2^22 rows: bytes | seconds | bytes ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for prdn in (2.0, 5.0):
        out = {}
        for name, values in (("now", rule), ("before", 1 << 40)):
            lossyfile.LOSSY_BLOCK_VALUES = values
            start = time.perf_counter()
            data = sancodec.encode(record, mode="lossy", prdn=prdn, effort="balanced")
            out[name] = (len(data), time.perf_counter() - start)
        lossyfile.LOSSY_BLOCK_VALUES = rule
        count = len(lossyfile.blocks(len(long), 1 << 20, args.channels))
        print(f"| {prdn:g} % | {count} | {out['now'][0]} | {out['now'][1]:.2f} | {out['before'][0]} | "
              f"{out['before'][1]:.2f} | {out['now'][0] / out['before'][0]:.4f} |")


if __name__ == "__main__":
    main()
