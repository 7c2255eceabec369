"""Structure-aware fuzzing of the decoder: valid CRCs, hostile contents.

Each case takes one of several real ``.san`` files, mutates header fields to hostile values
(wrong types, huge, negative, nested, deleted) and/or the bytes of frame payloads, rebuilds
every CRC, and decodes it; then changes one byte of it anywhere (a frame under its stored CRC, the
index, the header) and decodes that as ``decode --salvage`` does. A case passes when each returns or
raises a ``SancodecError`` within the time limit; anything else (another exception, a timeout,
MemoryError) escapes.

Run by ``tests/test_structure_fuzz.py`` (a few thousand cases, under RLIMIT_AS 1.5 GB), or
for a long run (the figures in docs/FORMAT.md, section Limits, come from this):

    .venv/bin/python tests/fuzz_structure.py --cases 1000000 --seed 1 [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 1536 << 20  # RLIMIT_AS of the worker: 1.5 GB
CASE_SECONDS = 10


def limit_memory(limit: int = MEMORY_LIMIT) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _custom_labelled(sig):  # -> Signal
    """``sig`` with its first annotation set's first label one it defines itself (code 42), as rdann reads such a
    file."""
    import dataclasses

    first = sig.annotations[0]
    labelled = dataclasses.replace(first, symbol=["q", *first.symbol[1:]], custom_labels=[(42, "q", "mine")])
    return dataclasses.replace(sig, annotations=[labelled, *sig.annotations[1:]])


def corpus() -> dict[str, bytes]:
    """Small real files that reach every frame coding, both sources and annotations."""
    import numpy as np

    import sancodec
    from sancodec.san.spec import SanSpec

    here = Path(__file__).parent
    spec = SanSpec((np.linspace(-1, 1, 5, dtype=np.float32), np.hanning(9).astype(np.float32)),
                   ("peaks", "max_pool_indices"), normalization={"kind": "zscore"})
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(300, 2)).cumsum(axis=0) * 20).astype(np.int64)
    sig = sancodec.Signal(x, 100.0, ["a", "b"], ["mV", "mV"], adc_gain=[200.0, 200.0], baseline=[0, 0],
                          fmt=["16", "16"])
    t = np.arange(600)
    wave = np.rint(3000 * np.sin(2 * np.pi * 0.05 * t) + rng.normal(size=600) * 2).astype(np.int64)[:, None]
    lpc = sancodec.Signal(wave, 100.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    grid = np.rint(np.rint(40 * np.sin(2 * np.pi * t / 50)) * 50 / 3).astype(np.int64)[:, None]
    table = sancodec.Signal(grid, 100.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    floats = sancodec.Signal(x / 7.0, 100.0, ["a", "b"], ["mV", "mV"])
    mitdb = sancodec.read_signal(here.parent / "sancodec" / "data" / "samples" / "100").slice(0, 2000)
    multi = sancodec.read_signal(here / "data" / "03700181_2000f").slice(0, 400)
    read_signal = sancodec.read_signal
    mitdb150k = read_signal(here.parent / "sancodec" / "data" / "samples" / "100").slice(0, 150000)
    mitdb6000 = sancodec.read_signal(here.parent / "sancodec" / "data" / "samples" / "100").slice(0, 6000)
    return {
        "san": sancodec.encode(sig, spec, "san", frame_len=128),
        "lossy-wavelet": sancodec.encode(sig, spec, "lossy", frame_len=128, prdn=3.0),
        "float-wavelet": sancodec.encode(floats, spec, "lossy", frame_len=128, snr=30.0),
        "multi-frequency-wavelet": sancodec.encode(multi, spec, "lossy", frame_len=128, bps=2.0),
        "beats": sancodec.encode(mitdb.select_channels([0]), spec, "lossy", prdn=9.0),
        "near": sancodec.encode(sig, spec, "near-lossless", 1, frame_len=128),
        "lossless-san": sancodec.encode(sig, spec, "lossless", frame_len=128, predictor="san"),
        "lossless-lpc": sancodec.encode(lpc, spec, "lossless", frame_len=512),
        "lossless-table": sancodec.encode(table, spec, "lossless", frame_len=256),
        "float-lossy": sancodec.encode(floats, spec, "san", frame_len=128),
        "float-near": sancodec.encode(floats, spec, "near-lossless", 0.05, frame_len=128),
        # 1.17: lossless floats on a step per channel (counts times a calibration factor), the quantum multiplying
        "lossless-float-grid": sancodec.encode(sancodec.Signal(x * np.array([0.195, 1 / 3]), 100.0), spec, "lossless",
                                               frame_len=128),
        # 1.18: lossless float32 samples on a step (two roundings), decoded as float32
        "lossless-float32-grid": sancodec.encode(sancodec.Signal((x * 0.1 / 32767).astype(np.float32), 100.0), spec,
                                                 "lossless", frame_len=128),
        # 1.18: lossless float32 samples on no step, as their bits, sign last
        "lossless-float32-bits": sancodec.encode(sancodec.Signal(np.sin(x / 13.0).astype(np.float32), 100.0), spec,
                                                 "lossless", frame_len=128),
        # 1.19: lossless float64 samples near a step (two roundings, an offset after the scaling): count and correction
        "lossless-near-grid": sancodec.encode(sancodec.Signal(np.column_stack([x[:, 0] * 0.1 / 32767,
                                                                               x[:, 1] * 0.00305 + 1.5]), 100.0),
                                              spec, "lossless", frame_len=128),
        "annotated": sancodec.encode(mitdb, spec, "near-lossless", 2, frame_len=1024),
        # an annotation set with labels its file defines itself (the header's "labels")
        "custom-labels": sancodec.encode(_custom_labelled(mitdb.slice(0, 600)), spec, "lossless", frame_len=256),
        "multi-frequency": sancodec.encode(multi, spec, "lossless", frame_len=128),
        # 1.4: both channels through the LMS stage and long-term prediction (mitdb 100, 6 000 samples)
        "lossless-lms-ltp": sancodec.encode(mitdb6000, spec, "lossless"),
        # 1.5: running contexts split by the last token (EMG, 20 000 samples: long enough for them to pay)
        "lossless-running": sancodec.encode(read_signal(here / "data" / "emg_healthy").slice(0, 20000), spec,
                                            "lossless"),
        # 1.5: wavelet bands coded apart, the long ones under running contexts (long enough for that to pay)
        "lossy-bands-apart": sancodec.encode(mitdb150k.select_channels([0]), spec, "lossy", prdn=5.0),
        # 1.6: a lossy file with a channel on a coarser grid (raw frames) beside a wavelet one
        "lossy-time-domain": sancodec.encode(read_signal(here / "data" / "1001").slice(0, 4000), spec, "lossy",
                                             prdn=2.0, frame_len=2048),
        # 1.7: a beat template whose taps sit on a coarser grid (mitdb 100, 20 000 samples, PRDN 9 %); 1.10: its
        # 60 Hz mains hum in the prediction (as in the bands-apart file above)
        "beats-shifted-taps": sancodec.encode(mitdb150k.slice(0, 20000).select_channels([0]), spec, "lossy", prdn=9.0),
        # 1.6: exact lossy channels predicted from each other (path 5 in a lossy file)
        "lossy-cross": sancodec.encode(read_signal(here / "data" / "100_3chan"), spec, "lossy", prdn=0.5),
        # 1.8: LPC without restarts, then the long adaptive stages (a103l, one channel, 10 000 samples)
        "lossless-cascade": sancodec.encode(read_signal(here / "data" / "a103l_20000").slice(0, 10000)
                                            .select_channels([1]), spec, "lossless"),
        # 1.9: adaptive bands (a short record at a loose target: tables would cost as much as the values); 1.10:
        # its last two channels as the wavelets of their difference from the first two as decoded (path 5)
        "lossy-adaptive-bands": sancodec.encode(read_signal(here / "data" / "test01_00s"), spec, "lossy", prdn=9.0),
        # 1.11: bands as their linear prediction's residual in the adaptive stream (a103l's PLETH at PRDN 1 %; the
        # bands-apart file above predicts some of its bands apart)
        "lossy-band-prediction": sancodec.encode(read_signal(here / "data" / "a103l_20000").select_channels([2]), spec,
                                                 "lossy", prdn=1.0),
        # 1.12: detail bands quantised dependently, the template's taps as second differences (PTB s0010_re's lead i,
        # its first 2^14 samples, at PRDN 1 %)
        "lossy-dependent": sancodec.encode(read_signal(here / "data" / "s0010_re_i").slice(0, 1 << 14), spec, "lossy",
                                           prdn=1.0),
        # 1.13: an adaptive stream with parent contexts (emg_healthy's first 2^14 samples at PRDN 9 %)
        "lossy-parent-contexts": sancodec.encode(read_signal(here / "data" / "emg_healthy").slice(0, 1 << 14), spec,
                                                 "lossy", prdn=9.0),
        # 1.15: a record's dropouts coded apart, their runs in the header (mixedsignals' first 1000 frames)
        "lossy-gaps": sancodec.encode(read_signal(here / "data" / "mixedsignals_1000f"), spec, "lossy", prdn=2.0),
        # 1.16: a floor under a railed lead's samples (tests/test_floor.py's record, as its golden file), and a
        # near-lossless file of the same with a floor and a WFDB record's dropouts' runs at the header's top
        "lossy-floor": (here / "golden" / "floor_lossy.san").read_bytes(),
        "near-floor": _near_floored(),
        # 1.15: a near-lossless file's gaps (an array's NaN among decimals), at the header's top
        "near-gaps": sancodec.encode(np.where(np.arange(3000) % 700 < 9, np.nan,
                                              np.round(np.sin(np.arange(3000) / 9), 3)), spec, "near-lossless", 3,
                                     fs=250.0),
    }


def _near_floored() -> bytes:
    """tests/test_floor.py's railed record, near-lossless within 20: a floor and dropouts' runs in its header."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_floor import _railed

    import sancodec

    return sancodec.encode(_railed(), mode="near-lossless", max_error=20)


def _hostile_value(rng: random.Random) -> Any:
    choices: list[Any] = [
        None, True, False, 0, -1, 1, 2, 15, 16, 17, 255, 4096, 2**24, 2**31, 2**32 - 1, 2**40, 2**53 + 1,
        2**62, 2**63 - 1, 2**63, 2**64, -(2**63), 10**19, -(10**19), 0.0, -0.0, 0.5, -1.5, 1e-300, 1e300, -1e300,
        3e38, "", "x", "\n", "lossless", "16", "sancodec", "a" * 5000, [], {}, [0], [None], [[]], [{}], [-1],
        [2**40], [0.0], ["\n"], {"kind": "affine"}, [[[[[[[[[[[[]]]]]]]]]]]], list(range(3000)),
    ]
    return rng.choice(choices)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list) and node:
        for i in {0, len(node) - 1}:
            out += _paths(node[i], prefix + (i,))
    return out


def _mutate_header(head: dict, rng: random.Random) -> None:
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = [p for p in _paths(head) if p]
        if not paths:
            return
        path = rng.choice(paths)
        parent = head
        for key in path[:-1]:
            parent = parent[key]
        action = rng.random()
        if action < 0.1 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action < 0.15 and isinstance(parent, list):
            parent.append(_hostile_value(rng))
        else:
            parent[path[-1]] = _hostile_value(rng)


def _mutate_payload(payload: bytes, rng: random.Random) -> bytes:
    data = bytearray(payload)
    for _ in range(rng.choice([1, 1, 2, 4])):
        if not data:
            break
        pos = rng.randrange(len(data))
        kind = rng.random()
        if kind < 0.5:
            data[pos] ^= 1 << rng.randrange(8)
        elif kind < 0.7:
            data[pos] = rng.choice([0, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        elif kind < 0.85:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        else:
            del data[pos : pos + rng.randrange(1, 9)]
    return bytes(data)


def make_case(files: dict[str, bytes], rng: random.Random) -> tuple[str, bytes]:
    import copy

    from sancodec.codec.container import SanReader

    sys.path.insert(0, str(Path(__file__).parent))
    from common import rewrap

    name = rng.choice(sorted(files))
    reader = SanReader(files[name])
    head = copy.deepcopy(reader.header)
    frames = [reader.read_frame(i) for i in range(reader.n_frames)]
    what = rng.random()
    if what < 0.45:
        _mutate_header(head, rng)
    elif what < 0.9:
        i = rng.randrange(len(frames))
        frames[i] = _mutate_payload(frames[i], rng)
    else:
        _mutate_header(head, rng)
        i = rng.randrange(len(frames))
        frames[i] = _mutate_payload(frames[i], rng)
    try:
        return name, rewrap(files[name], header=head, frames=frames)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return name, b""  # the mutation is not JSON-writable (e.g. a huge int); nothing to decode


class CaseTimeout(Exception):
    pass


def _read_as_a_file(data: bytes) -> None:
    """``data`` through ``sancodec.SanFile``, as a user reads a file whose whole decode went through: its last row
    twice (the second from the frames kept), every 7th row, the first rows as a Signal; each may only refuse."""
    import sancodec

    with sancodec.open(data) as f:
        n = len(f)
        f[n - 1]
        f[n - 1]
        f[::7]
        f.signal(0, min(n, 10))


def _salvaged(data: bytes, rng: random.Random) -> None:
    """``data`` with one byte changed anywhere (a frame's payload under its stored CRC, the index, the header), read
    as ``decode --salvage`` and ``sancodec.open(..., salvage=True)`` read it: each may only refuse (a frame lost amid
    hostile ones, its rows gaps, or a walk from the header)."""
    import warnings

    import sancodec
    from sancodec.codec import decode_file
    from sancodec.errors import SancodecError

    damaged = bytearray(data)
    damaged[rng.randrange(len(damaged))] ^= rng.randrange(1, 256)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            decode_file(bytes(damaged), salvage=True, hold_lost=rng.random() < 0.5)  # (hold: decode to EDF's way)
            with sancodec.open(bytes(damaged), salvage=True) as f:
                f[len(f) - 1]
        except SancodecError:
            pass


def _alarm(*_: Any) -> None:
    raise CaseTimeout()


def run(cases: int, seed: int, report_every: int = 0) -> dict[str, Any]:
    """Run ``cases`` cases in this process; returns counts and the escapes (at most 20 kept)."""
    from sancodec.codec import decode_file, read_info
    from sancodec.codec.anatomy import lossy_anatomy
    from sancodec.errors import SancodecError

    files = corpus()
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, _alarm)
    counts = {"cases": 0, "decoded": 0, "refused": 0, "escapes": 0, "unwritable": 0}
    escapes: list[dict[str, Any]] = []
    slowest = 0.0
    started = time.perf_counter()
    for k in range(cases):
        case_seed = rng.randrange(2**63)
        name, data = make_case(files, random.Random(case_seed))
        counts["cases"] += 1
        if not data:
            counts["unwritable"] += 1
            continue
        t0 = time.perf_counter()
        signal.alarm(CASE_SECONDS)
        try:
            try:
                if read_info(data)["header"].get("mode") == "lossy":
                    try:  # `info --bands` reads the frames without decoding: it too may only refuse
                        lossy_anatomy(data)
                    except SancodecError:
                        pass
                decode_file(data)
                counts["decoded"] += 1
                try:  # the file reader's ways too (sancodec.open): one row, rows a step apart, a range as a Signal
                    _read_as_a_file(data)
                except SancodecError:
                    pass
            except SancodecError:
                counts["refused"] += 1
            _salvaged(data, random.Random(case_seed ^ 1))  # and the same file damaged, salvaged
        except BaseException as exc:  # noqa: BLE001 - the point is to catch everything else
            if isinstance(exc, KeyboardInterrupt):
                raise
            counts["escapes"] += 1
            if len(escapes) < 20:
                escapes.append({"seed": case_seed, "file": name, "error": f"{type(exc).__name__}: {exc}"[:300],
                                "where": traceback.format_exc().strip().splitlines()[-3:]})
        finally:
            signal.alarm(0)
        slowest = max(slowest, time.perf_counter() - t0)
        if report_every and (k + 1) % report_every == 0:
            print(json.dumps({**counts, "seconds": round(time.perf_counter() - started)}), flush=True)
    return {**counts, "slowest_case_s": round(slowest, 3), "seconds": round(time.perf_counter() - started, 1),
            "escapes_kept": escapes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-every", type=int, default=0)
    parser.add_argument("--no-memory-limit", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.no_memory_limit:
        limit_memory()
    print(json.dumps(run(args.cases, args.seed, args.report_every)))


if __name__ == "__main__":
    main()
