"""Memory benchmark: peak RSS of `sancodec encode` and `sancodec decode` on a 24-hour two-channel
format 212 record, and whether the round trip is bit-exact; then the same for lossy mode at PRDN 2 %
(``--effort best``, ``balanced`` (the default) and ``fast``), which reads, codes and checks the record a block of
2^22 rows at a time, and the lossy streaming writer (``sancodec.open(path, "w", codec="lossy")``), which codes
each frame of 2^20 rows as it comes, the record read once.

Run: .venv/bin/python benchmarks/bench_memory.py [--hours 24] [--workdir /tmp/sancodec-mem] [--markdown F]
[--report-only]

``sancodec report`` of the record and its lossless ``.san`` is measured too (it reads the record whole and runs
the baseline compressors on it, lzma -9e's 0.7 GB of working memory among them; it compares the decode a block at a
time); ``--report-only``: that row alone (after the lossless encode it needs), for comparing two versions of it.

The record is the bundled mitdb 100 (30 min, 360 Hz, 2 channels) tiled to the requested length
(24 h = 31.1 M frames = 62.2 M samples), written as format 212 with a header by wfdb-python.
Peak RSS comes from /usr/bin/time -v (Linux), so it counts the whole CLI process, Python included.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import wfdb

from sancodec.io import read_signal
from sancodec.io.wfdb_stream import _encode

BIN = Path(sys.executable).parent
#: The lossy streaming writer's run (``codec.lossystream``): the record read a block at a time, each frame of 2^20
#: rows coded at PRDN 2 % as soon as it is whole.
STREAM_LOSSY = """
from pathlib import Path
import sancodec
from sancodec.io.wfdb_stream import like_signal, read_blocks, stream_header
base = Path({base!r})
head = stream_header(base)
with sancodec.open({out!r}, "w", like=like_signal(base, head), codec="lossy", prdn=2, effort="balanced") as f:
    for block in read_blocks(base, head, 1 << 16):
        f.write(block)
"""


def build_record(folder: Path, hours: float) -> tuple[Path, int]:
    """A ``hours``-long copy of mitdb 100 as record ``folder/holter`` (format 212)."""
    sig = read_signal("sancodec/data/samples/100")
    rows = int(hours * 3600 * sig.fs)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "holter"
    sums = np.zeros(2, dtype=np.int64)
    with open(base.with_suffix(".dat"), "wb") as dat:
        done = 0
        while done < rows:
            take = min(sig.n_samples, rows - done)
            dat.write(_encode(sig.samples[:take].astype(np.int16).reshape(-1), "212"))
            sums += sig.samples[:take].sum(axis=0)
            done += take
    rec = wfdb.Record(record_name="holter", n_sig=2, fs=sig.fs, sig_len=rows, file_name=["holter.dat"] * 2,
                      fmt=["212"] * 2, adc_gain=sig.adc_gain, baseline=sig.baseline, units=sig.units,
                      sig_name=sig.channel_names, adc_res=sig.adc_res, adc_zero=sig.adc_zero,
                      init_value=[int(v) for v in sig.samples[0]], checksum=[int(s) % 65536 for s in sums],
                      block_size=[0, 0])
    rec.wrheader(write_dir=str(folder))
    return base, rows


def peak_rss(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of ``command``."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return kb / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sancodec-mem"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--report-only", action="store_true",
                        help="measure sancodec report alone (after the lossless encode it needs)")
    args = parser.parse_args()
    base, rows = build_record(args.workdir, args.hours)
    san = args.workdir / "holter.san"
    out = args.workdir / "restored"
    enc_mb, enc_s = peak_rss([str(BIN / "sancodec"), "encode", str(base), "-o", str(san), "--force", "-q"])
    rep_mb, rep_s = peak_rss([str(BIN / "sancodec"), "report", str(base), str(san)])
    report_row = f"| sancodec report of the record and its .san | {rep_mb:.0f} MB | {rep_s:.1f} s | |"
    if args.report_only:
        print(f"{args.hours:g} h two-channel format 212 record\n\n| CLI command | peak RSS | wall time | |\n"
              f"|---|---:|---:|---|\n{report_row}")
        return
    dec_mb, dec_s = peak_rss([str(BIN / "sancodec"), "decode", str(san), "-o", str(out), "--force", "-q"])
    exact = filecmp.cmp(base.with_suffix(".dat"), out.with_suffix(".dat"), shallow=False)
    samples = 2 * rows
    lossy_rows, per_sample = [], []
    for label, extra in (("lossy --prdn 2 --effort best", ["--effort", "best"]),
                         ("lossy --prdn 2 --effort balanced", ["--effort", "balanced"]),
                         ("lossy --prdn 2 --effort fast", ["--effort", "fast"])):
        lossy = args.workdir / "holter_lossy.san"
        mb, sec = peak_rss([str(BIN / "sancodec"), "encode", str(base), "-o", str(lossy), "--force", "-q",
                            "--mode", "lossy", "--prdn", "2", *extra])
        dmb, dsec = peak_rss([str(BIN / "sancodec"), "decode", str(lossy), "-o", str(out), "--force", "-q"])
        size = lossy.stat().st_size / 1e6
        per_sample.append(f"{(mb - enc_mb) * 2**20 / rows:.0f}")
        lossy_rows += [f"| sancodec encode --mode {label} ({size:.1f} MB .san) | {mb:.0f} MB | "
                       f"{sec:.1f} s | {samples / sec / 1e6:.1f} M samples/s |",
                       f"| sancodec decode of it | {dmb:.0f} MB | {dsec:.1f} s | "
                       f"{samples / dsec / 1e6:.1f} M samples/s |"]
    streamed = args.workdir / "holter_stream.san"  # the lossy writer, fed 2^16 rows at a time from the .dat
    mb, sec = peak_rss([sys.executable, "-c", STREAM_LOSSY.format(base=str(base), out=str(streamed))])
    dmb, dsec = peak_rss([str(BIN / "sancodec"), "decode", str(streamed), "-o", str(out), "--force", "-q"])
    stream_per_row = f"{(mb - enc_mb) * 2**20 / rows:.0f}"
    lossy_rows += [f"| Python: `sancodec.open(path, 'w', codec='lossy', prdn=2, effort='balanced')`, 2^16 rows a "
                   f"write ({streamed.stat().st_size / 1e6:.1f} MB .san) | {mb:.0f} MB | {sec:.1f} s | "
                   f"{samples / sec / 1e6:.1f} M samples/s |",
                   f"| sancodec decode of it | {dmb:.0f} MB | {dsec:.1f} s | {samples / dsec / 1e6:.1f} M samples/s |"]
    lines = [
        f"{args.hours:g} h two-channel format 212 record ({samples} samples, "
        f"{base.with_suffix('.dat').stat().st_size / 1e6:.1f} MB .dat -> {san.stat().st_size / 1e6:.1f} MB .san)",
        "",
        "| CLI command | peak RSS | wall time | throughput |",
        "|---|---:|---:|---:|",
        f"| sancodec encode | {enc_mb:.0f} MB | {enc_s:.1f} s | {samples / enc_s / 1e6:.1f} M samples/s |",
        f"| sancodec decode | {dec_mb:.0f} MB | {dec_s:.1f} s | {samples / dec_s / 1e6:.1f} M samples/s |",
        report_row,
        *lossy_rows,
        "",
        f"decoded .dat identical to the source .dat: {exact}",
        "",
        "Lossy mode reads a record this long a block of 2^22 rows at a time, three times with `--effort best` (the "
        "blocks' statistics, their coding, the check of the file; twice with `--effort balanced`, the default, or "
        "`fast`, which leave the check out unless `--verify`; `lossyfile.LOSSY_BLOCK`, `api.encode_lossy_blocks`), "
        "the channels of a block coded at once while at most 2^24 of their samples are in flight: its peak is "
        f"bounded by the block, not the record ({per_sample[0]} bytes per row of this record above the lossless "
        f"encoder's peak with `--effort best`, {per_sample[1]} with `--effort balanced`, {per_sample[2]} with "
        "`--effort fast`). The lossy streaming writer (`codec.lossystream`) reads the record once and holds a frame "
        f"of 2^20 rows (and a write's rows) at a time: {stream_per_row} bytes per row above the lossless encoder's "
        "peak, a Python process "
        "against the CLI's.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(f"# Memory\n\nMeasured {time.strftime('%Y-%m-%d')} with "
                                 f"`benchmarks/bench_memory.py --hours {args.hours:g}`.\n\n" + text)
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
