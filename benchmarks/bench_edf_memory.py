"""Memory of encoding a long many-channel EDF: ``sancodec encode`` (which streams an EDF a block of data records at a
time, ``io.edf.edf_blocks``) against reading it whole and coding that (``sancodec.encode(sancodec.read_signal(f))``,
the path every EDF took before), side by side in one run, for recordings of several lengths; and the decode back to
EDF: ``sancodec decode`` (a window of frames at a time into an array mapped from a temporary file, the EDF's data
records written a block at a time, ``io.edf_records``) against decoding the file whole and writing that
(``sancodec.write_signal(sancodec.decode(...))``).

    python benchmarks/bench_edf_memory.py [--hours 2,6] [--channels 20] [--fs 256] [--workdir /tmp/sancodec-edf]
                                          [--slow K] [--lossy PRDN] [--outputs edf,npy,wfdb,csv]
                                          [--gain G] [--physical] [--pick I,J] [--encode-pick I,J] [--batch]
                                          [--whole-from DIR]

The recording is a seeded random walk per channel (16-bit, within the digital range), written as EDF by sancodec;
``--slow K``: its last K channels at an eighth of the rate (an EDF of two rates); ``--lossy PRDN``: coded lossy at
that PRDN with ``--effort balanced`` (the lossy decode back to EDF is then checked by its size only); ``--outputs``:
the formats decoded to, each both ways (default EDF and ``.npy``: ``sancodec decode`` writes a ``.npy`` from the same
mapped array since 2026-12-07, the file written as numpy writes an array to one; ``wfdb``: a record of another
source goes through wfdb-python's writer whole, held in memory, which this measures too; ``csv``: ``sancodec decode``
writes a CSV from the same mapped array since 2026-12-07, its text made a block of rows at a time, where the whole
path made the text whole, and the CSV is then encoded again both ways, read whole (a CSV is not streamed; its layout
checked a chunk of rows at a time since 2026-12-08, ``--whole-from`` measuring the read before); ``--physical``: the
decodes to CSV and ``.npy`` in physical units (``decode --physical``, which makes the values a block at a time into
another mapped array since 2026-12-07, against ``io.arrays.physical_signal`` of the whole decode), that CSV (decimals
and a time column) encoded again both ways; ``--outputs stdout``: ``decode -o -``, the ``.npy`` on standard output
(written a piece at a time from the mapped array since 2026-12-07), against the whole decode's ``npy_bytes``; ``--pick
I,J``: those channels alone, both ways (``decode --channels``, which maps only them since 2026-12-07, against
``Signal.select_channels`` of the whole decode); ``--encode-pick I,J``: the
encode of those channels alone, both ways (``encode --channels``, which streams them since 2026-12-08, against
``Signal.select_channels`` of the record read whole, as it was made), without the decode rows; ``--batch``: a
``sancodec batch`` worker's encode of the EDF too
(``batch._encode_one``, the Dask around it left out; it read every record whole until 2026-12-08, which the whole
row measures); ``--whole-from DIR`` imports the whole rows' sancodec from DIR, a
checkout of an earlier commit with its kernels built, to measure its writers as they were).
Each run is its own process: its peak resident memory (what ``/usr/bin/time -v`` calls the maximum RSS, which counts
the file's pages that edfio maps and reads, page cache the kernel can take back) and its peak anonymous memory
(``RssAnon`` of ``/proc/PID/status``, sampled every 10 ms: what the process itself holds), and its wall time. Both
encodes must give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import sancodec

WHOLE = ("import json, sancodec, sys; sancodec.write_bytes_atomic(sys.argv[2], "
         "sancodec.encode(sancodec.read_signal(sys.argv[1]), **json.loads(sys.argv[3])))")
WHOLE_PICKED = ("import json, sancodec, sys; sancodec.write_bytes_atomic(sys.argv[2], sancodec.encode("
                "sancodec.read_signal(sys.argv[1]).select_channels([int(c) for c in sys.argv[4].split(',')]), "
                "**json.loads(sys.argv[3])))")  # (encode --channels as it was made: the record read whole, then picked)
BATCH_ENCODE = ("import json, sys; from sancodec import batch; "
                "row = batch._encode_one((sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), True)); "
                "sys.exit(row['error'] or 0)")  # (a batch worker's work on one record, without the Dask around it)
WHOLE_DECODE = ("import sys; sys.path[:0] = sys.argv[4:]; import sancodec, pathlib; "
                "sancodec.write_signal(sancodec.decode(pathlib.Path(sys.argv[1]).read_bytes()), sys.argv[2], "
                "format=sys.argv[3])")  # (sys.argv[4], where given: the folder the sancodec package is imported from)

WHOLE_PHYSICAL_DECODE = ("import sys; sys.path[:0] = sys.argv[4:]; import sancodec, pathlib; "
                         "from sancodec.io.arrays import physical_signal; "
                         "sancodec.write_signal(physical_signal(sancodec.decode(pathlib.Path(sys.argv[1]).read_bytes())),"
                         " sys.argv[2], format=sys.argv[3])")  # (decode --physical as it was made: whole, in memory)

WHOLE_PICKED_DECODE = ("import sys, sancodec, pathlib; from sancodec.io.arrays import physical_signal; "
                       "s = sancodec.decode(pathlib.Path(sys.argv[1]).read_bytes()).select_channels("
                       "[int(c) for c in sys.argv[4].split(',')]); "
                       "sancodec.write_signal(physical_signal(s) if sys.argv[5] == '1' else s, sys.argv[2], "
                       "format=sys.argv[3])")  # (decode --channels as it was made: the whole record, in memory)

WHOLE_STDOUT_DECODE = ("import sys, sancodec, pathlib; from sancodec.io.arrays import npy_bytes; "
                       "sys.stdout.buffer.write(npy_bytes(sancodec.decode(pathlib.Path(sys.argv[1]).read_bytes())))")
# (decode -o - as it was made: the whole record decoded in memory, its .npy made as one string of bytes)

WHOLE_CSV_ENCODE = ("import sys; sys.path[:0] = sys.argv[4:]; import sancodec; "
                    "sancodec.write_bytes_atomic(sys.argv[2], "
                    "sancodec.encode(sancodec.read_signal(sys.argv[1], fs=float(sys.argv[3]))))")  # (sys.argv[4],
# where given: the folder the sancodec package is imported from)


def build(path: Path, hours: float, channels: int, fs: int, slow: int = 0, gain: float = 10.0) -> int:
    """A seeded ``hours``-long recording of ``channels`` 16-bit random walks at ``fs`` Hz (the last ``slow`` of them at
    ``fs`` / 8, as a polysomnograph records breathing beside its EEG), ``gain`` units a µV, as EDF at ``path``; its
    rows."""
    n = int(hours * 3600 * fs) // 8 * 8
    rng = np.random.default_rng(0)
    x = np.empty((n, channels), np.int16)
    level = np.zeros(channels, np.int64)
    for i in range(0, n, 1 << 20):
        walk = np.cumsum(rng.integers(-20, 21, (min(1 << 20, n - i), channels)), axis=0) + level
        level = walk[-1]
        x[i : i + len(walk)] = (walk % 20000 - 10000).astype(np.int16)
    for k in range(channels - slow, channels):
        x[:, k] = np.repeat(x[::8, k], 8)
    spf = [8] * (channels - slow) + [1] * slow if slow else None
    signal = sancodec.Signal(x, float(fs), [f"EEG{k}" for k in range(channels)], ["uV"] * channels,
                             adc_gain=[gain] * channels, baseline=[0] * channels, samples_per_frame=spf)
    sancodec.write_signal(signal, path)
    return n


def peaks(command: list[str], stdout: Path | None = None) -> tuple[float, float, float]:
    """Peak RSS (MB, ``/usr/bin/time -v``), peak anonymous memory (MB, sampled) and wall seconds of ``command``
    (its standard output into the file ``stdout``, where given)."""
    start = time.perf_counter()
    sink = subprocess.DEVNULL if stdout is None else stdout.open("wb")
    proc = subprocess.Popen(["/usr/bin/time", "-v", *command], stdout=sink, stderr=subprocess.PIPE, text=True)
    anon = 0
    while proc.poll() is None:
        for child in _children(proc.pid):
            anon = max(anon, _rss_anon(child))
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    if stdout is not None:
        sink.close()  # type: ignore[union-attr]
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    rss = next(int(line.split(":")[1]) for line in err.splitlines() if "Maximum resident set size" in line)
    return rss / 1024, anon / 1024, seconds


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_anon(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", default="2,6")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--fs", type=int, default=256)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sancodec-edf"))
    parser.add_argument("--slow", type=int, default=0, help="this many of the channels at an eighth of the rate")
    parser.add_argument("--lossy", type=float, default=None, metavar="PRDN",
                        help="code lossy at this PRDN (%%) with --effort balanced, not losslessly")
    parser.add_argument("--outputs", default="edf,npy",
                        help="the formats decoded to, each both ways: edf, npy, wfdb, csv, stdout (-o -: .npy)")
    parser.add_argument("--gain", type=float, default=10.0,
                        help="digital units a µV (10: physical values of one decimal; 3.2768, a ±10 mV range in "
                             "16 bits: values that are no decimals)")
    parser.add_argument("--physical", action="store_true",
                        help="decode to CSV and .npy with --physical (values in physical units), both ways")
    parser.add_argument("--pick", default=None, metavar="I,J",
                        help="decode these channels (indices) only, both ways (decode --channels)")
    parser.add_argument("--encode-pick", default=None, metavar="I,J",
                        help="encode these channels (indices) only, both ways (encode --channels); no decode rows")
    parser.add_argument("--batch", action="store_true",
                        help="also a batch worker's encode of the EDF (sancodec.batch._encode_one), which must give "
                             "the same bytes")
    parser.add_argument("--whole-from", type=Path, default=None, metavar="DIR",
                        help="the whole decodes' sancodec imported from DIR (a checkout of an earlier commit, its "
                             "compiled kernels built: its writers as they were)")
    args = parser.parse_args()
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()]
    if not set(outputs) <= {"edf", "npy", "wfdb", "csv", "stdout"}:
        raise SystemExit(f"--outputs takes edf, npy, wfdb, csv and stdout, not {args.outputs!r}")
    if args.physical and not set(outputs) <= {"npy", "csv"}:
        raise SystemExit("--physical decodes to CSV and .npy only: give --outputs csv,npy")
    args.workdir.mkdir(parents=True, exist_ok=True)
    cli = str(Path(sys.executable).parent / "sancodec")
    options = [] if args.lossy is None else ["--mode", "lossy", "--prdn", f"{args.lossy:g}", "--effort", "balanced"]
    kwargs = {} if args.lossy is None else {"mode": "lossy", "prdn": args.lossy, "effort": "balanced"}
    rates = f", {args.slow} of them at {args.fs / 8:g} Hz" if args.slow else ""
    coding = "lossless" if args.lossy is None else f"lossy at PRDN {args.lossy:g} % (--effort balanced)"
    print(f"{args.channels}-channel EDF at {args.fs} Hz{rates}, {args.gain:g} units a µV, {coding}; peak RSS counts "
          "the file's pages edfio maps\n")
    print("| recording | EDF | path | peak RSS | peak anonymous | wall |")
    print("|---|---:|---|---:|---:|---:|")
    for hours in (float(h) for h in args.hours.split(",")):
        edf = args.workdir / f"psg{hours:g}h.edf"
        build(edf, hours, args.channels, args.fs, args.slow, args.gain)
        size = edf.stat().st_size / 1e6
        streamed, whole = args.workdir / "streamed.san", args.workdir / "whole.san"
        runs = {"sancodec encode (streamed)": [cli, "encode", str(edf), "-o", str(streamed), "-f", "-q", *options],
                "read_signal + encode (whole)": [sys.executable, "-c", WHOLE, str(edf), str(whole),
                                                 json.dumps(kwargs)]}
        if args.encode_pick is not None:
            runs = {f"sancodec encode --channels {args.encode_pick} (streamed)": [
                        cli, "encode", str(edf), "-o", str(streamed), "-f", "-q", "--channels", args.encode_pick,
                        *options],
                    "read_signal + select_channels + encode (whole)": [
                        sys.executable, "-c", WHOLE_PICKED, str(edf), str(whole), json.dumps(kwargs),
                        args.encode_pick]}
        batched = args.workdir / "batch.san"
        if args.batch:
            batched.unlink(missing_ok=True)
            runs["a batch worker's encode (sancodec.batch._encode_one)"] = [
                sys.executable, "-c", BATCH_ENCODE, str(edf), str(batched), json.dumps({"mode": "lossless", **kwargs})]
        for label, command in runs.items():
            rss, anon, seconds = peaks(command)
            print(f"| {hours:g} h | {size:.0f} MB | {label} | {rss:.0f} MB | {anon:.0f} MB | {seconds:.1f} s |")
        if streamed.read_bytes() != whole.read_bytes():
            raise SystemExit("the streamed file differs from the whole one")
        if args.batch and batched.read_bytes() != whole.read_bytes():
            raise SystemExit("the batch worker's file differs from the whole one")
        print(f"| {hours:g} h | | the same {streamed.stat().st_size / 1e6:.1f} MB .san both ways | | | |")
        for output in outputs if args.encode_pick is None else []:  # and back, both ways
            decode_back(cli, streamed, edf, output, args.workdir, hours, args.lossy is not None, args.whole_from,
                        args.physical, args.pick)
            if output == "csv" and args.pick is None:  # (with --physical: a CSV of decimals and a time column)
                encode_csv(cli, args.workdir / "back.csv", args.fs, args.workdir, hours, args.whole_from)


def decode_back(cli: str, san: Path, edf: Path, output: str, workdir: Path, hours: float, lossy: bool,
                whole_from: Path | None = None, physical: bool = False, channels: str | None = None) -> None:
    """The table's rows of ``san`` decoded to ``output`` (edf, npy, wfdb or csv) by ``sancodec decode`` and by decoding
    it whole and writing that (with the sancodec of ``whole_from``, where given), each checked: an EDF against the
    source EDF (its bytes, or its size where ``lossy``), the other formats against each other. ``physical``: both
    in physical units (``decode --physical``, and ``io.arrays.physical_signal`` of the whole decode); ``channels``:
    those channels alone (``decode --channels``, and ``Signal.select_channels`` of the whole decode)."""
    suffix = "" if output == "wfdb" else f".{output}"
    back, whole_back = workdir / f"back{suffix}", workdir / f"whole_back{suffix}"
    extra = ["--format", "wfdb"] if output == "wfdb" else ["--physical"] if physical else []
    extra += [] if channels is None else ["--channels", channels]
    picked = "" if channels is None else f" --channels {channels}"
    label = f"sancodec decode{' --physical' if physical else ''}{picked} to {output.upper()}"
    whole_label = ("physical_signal of decode + write_signal" if physical else "decode + write_signal") + \
        ("" if channels is None else " of select_channels") + \
        " (whole" + ("" if whole_from is None else f", {whole_from.name}") + ")"
    whole_command = [sys.executable, "-c", WHOLE_PICKED_DECODE, str(san), str(whole_back), output, channels,
                     "1" if physical else "0"] if channels is not None else \
        [sys.executable, "-c", WHOLE_PHYSICAL_DECODE if physical else WHOLE_DECODE, str(san), str(whole_back), output,
         *([] if whole_from is None else [str(whole_from.resolve())])]
    decodes = {label: ([cli, "decode", str(san), "-o", str(back), "-f", "-q", *extra], back),
               whole_label: (whole_command, whole_back)}
    piped = output == "stdout"  # (-o -: .npy on standard output, each way's into its file)
    if piped:
        back, whole_back = workdir / "back_stdout.npy", workdir / "whole_back_stdout.npy"
        decodes = {"sancodec decode -o - (.npy on standard output)": ([cli, "decode", str(san), "-o", "-", "-q"], back),
                   "decode + npy_bytes to standard output (whole)": ([sys.executable, "-c", WHOLE_STDOUT_DECODE,
                                                                      str(san)], whole_back)}
    made = []
    for label, (command, target) in decodes.items():
        files = written(target, output)
        for f in files:
            f.unlink(missing_ok=True)
        rss, anon, seconds = peaks(command, target if piped else None)
        made.append(b"".join(f.read_bytes().replace(target.name.encode(), b"R") if f.suffix == ".hea" else
                             f.read_bytes() for f in files))  # (a header names its record)
        if output != "edf" or channels is not None:  # (a pick is no longer the source EDF)
            same = "" if len(made) < 2 else " (the same bytes both ways)" if made[0] == made[1] else " (NOT the same)"
        elif lossy:
            same = " (a file of the EDF's size)" if target.stat().st_size == edf.stat().st_size else " (NOT its size)"
        else:
            same = " (the same bytes as the EDF)" if target.read_bytes() == edf.read_bytes() else " (NOT the same)"
        print(f"| {hours:g} h | | {label}{same} | {rss:.0f} MB | {anon:.0f} MB | {seconds:.1f} s |")


def encode_csv(cli: str, csv: Path, fs: int, workdir: Path, hours: float, whole_from: Path | None) -> None:
    """The table's rows of the CSV just decoded encoded again: ``sancodec encode`` and ``read_signal`` + ``encode``
    (with the sancodec of ``whole_from``, where given), both reading it whole (a CSV is not streamed), which must give
    the same bytes."""
    first, second = workdir / "csv_cli.san", workdir / "csv_whole.san"
    runs = {"sancodec encode of that CSV": [cli, "encode", str(csv), "--fs", str(fs), "-o", str(first), "-f", "-q"],
            "read_signal + encode of it" + ("" if whole_from is None else f" ({whole_from.name})"): [
                sys.executable, "-c", WHOLE_CSV_ENCODE, str(csv), str(second), str(fs),
                *([] if whole_from is None else [str(whole_from.resolve())])]}
    for label, command in runs.items():
        rss, anon, seconds = peaks(command)
        print(f"| {hours:g} h | {csv.stat().st_size / 1e6:.0f} MB CSV | {label} | {rss:.0f} MB | {anon:.0f} MB | "
              f"{seconds:.1f} s |")
    if first.read_bytes() != second.read_bytes():
        raise SystemExit("the CSV's two encodes differ")
    print(f"| {hours:g} h | | the same {first.stat().st_size / 1e6:.1f} MB .san both ways | | | |")


def written(target: Path, output: str) -> list[Path]:
    """The files a decode to ``target`` in ``output`` writes: a WFDB record's header and signal file, else the one."""
    return [target.with_name(target.name + ".hea"), target.with_name(target.name + ".dat")] if output == "wfdb" \
        else [target]


if __name__ == "__main__":
    main()
