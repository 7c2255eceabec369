"""Short multi-lead records (PTB-XL's size: 12 leads of 10 s): sancodec's lossless and lossy files and times next to
FLAC and the wavelet coder, the record whole.

Run: .venv/bin/python benchmarks/bench_short_records.py [--data-dir ../shared/data]
     [--markdown docs/results/short_records.md]

A dataset of many short records (PTB-XL: 21 799 records of 12 leads, 10 s each, at 500 Hz) is coded a record at a
time, so what counts is a short record's whole encode and decode, fixed costs included, where ``bench_lossy.py``
weighs long channels one at a time. ``../shared/data`` holds no PTB-XL record; the records here are cut from PTB
s0010_re (PTB's 12 standard leads at 1000 Hz, 38.4 s): 10 s pieces at 1000 Hz, and the same pieces at 500 Hz as
every second sample (no low-pass first: not how PTB-XL made its 500 Hz records, which only changes the noise), and
macecgdb test01_00s (4 ECG leads of 4000 samples) whole.

Lossless: sancodec's file (``sancodec.encode``, every core, and again on one thread) and FLAC -8 (libsndfile, each
lead a mono file: FLAC holds at most 8 channels), bytes and the fastest of ``--repeats`` encodes and decodes, taking
turns. Lossy: sancodec at every lead's PRDN ``--prdn`` (the default effort; every lead checked), and the wavelet
coder of ``bench_lossy.py`` on each lead, one after another, its step search included (``bench_lossy.
wavelet_timing``), its bytes read off each lead's curve at the PRDN (``cr_at``). Ratios are sancodec's over the other
tool's: under 1, sancodec's file is smaller or its time shorter. Needs soundfile and PyWavelets (``make bench``).
"""

from __future__ import annotations

import io
import math

import numpy as np
import soundfile
from bench_lossy import bench_parser, wavelet_curve, wavelet_timing
from lossy_signals import cr_at
from timing import fastest_seconds, steady_allocator

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.metrics import prdn

PTB = "wfdb/s0010_re"
MACECG = "wfdb/test01_00s"
CUT_SECONDS = 10
LEADS = 12  # PTB's 12 standard leads (its other 3 are Frank leads, which PTB-XL does not hold)


def records(data_dir) -> list[tuple[str, Signal]]:
    """The short records: PTB s0010_re's 12 leads cut into 10 s pieces at 1000 Hz and at 500 Hz, and macecgdb
    test01_00s whole (those :data:`PTB` and :data:`MACECG` under ``data_dir`` that it holds)."""
    out = []
    try:
        ptb = read_signal(data_dir / PTB)
    except (SancodecError, OSError):
        ptb = None
    if ptb is not None:
        x = np.asarray(ptb.samples[:, :LEADS]).astype(np.int64)
        names, units = ptb.channel_names[:LEADS], ptb.units[:LEADS]
        n = int(CUT_SECONDS * ptb.fs)
        for k in range(len(x) // n):
            piece = x[k * n : (k + 1) * n]
            out.append((f"PTB s0010_re 12 leads, {k * CUT_SECONDS}-{(k + 1) * CUT_SECONDS} s at 1000 Hz",
                        Signal(piece, ptb.fs, names, units)))
            out.append((f"PTB s0010_re 12 leads, {k * CUT_SECONDS}-{(k + 1) * CUT_SECONDS} s at 500 Hz",
                        Signal(piece[::2], ptb.fs / 2, names, units)))
    try:
        out.append(("macecgdb test01_00s, 4 leads", read_signal(data_dir / MACECG)))
    except (SancodecError, OSError):
        pass
    return out


def flac_encode(leads: list[np.ndarray], fs: float) -> list[bytes]:
    """Each lead as a mono FLAC -8 file (libsndfile), as 16-bit samples."""
    out = []
    for x in leads:
        buf = io.BytesIO()
        soundfile.write(buf, x.astype(np.int16), int(fs), format="FLAC", subtype="PCM_16", compression_level=1.0)
        out.append(buf.getvalue())
    return out


def flac_decode(files: list[bytes]) -> list[np.ndarray]:
    return [soundfile.read(io.BytesIO(f), dtype="int16")[0] for f in files]


def lossless_row(label: str, sig: Signal, repeats: int) -> str:
    """The lossless table's row of ``sig``: sancodec's bytes and times (every core, one thread) and FLAC's."""
    leads = [sig.samples[:, k] for k in range(sig.n_channels)]
    if max(int(np.abs(x).max()) for x in leads) >= 1 << 15:
        return f"| {label} | samples past 16 bits: no FLAC -8 of 16-bit samples | |"
    data = sancodec.encode(sig)
    assert np.array_equal(sancodec.decode(data).samples, sig.samples)
    flac = flac_encode(leads, sig.fs)
    assert all(np.array_equal(y, x) for x, y in zip(leads, flac_decode(flac)))
    t = dict.fromkeys(("enc", "enc1", "dec", "flac enc", "flac dec"), math.inf)
    for _ in range(repeats):  # every coding taking turns
        t["enc"] = min(t["enc"], fastest_seconds(lambda: sancodec.encode(sig), 1))
        t["enc1"] = min(t["enc1"], fastest_seconds(lambda: sancodec.encode(sig, threads=1), 1))
        t["dec"] = min(t["dec"], fastest_seconds(lambda: sancodec.decode(data), 1))
        t["flac enc"] = min(t["flac enc"], fastest_seconds(lambda: flac_encode(leads, sig.fs), 1))
        t["flac dec"] = min(t["flac dec"], fastest_seconds(lambda: flac_decode(flac), 1))
    size, flac_size = len(data), sum(map(len, flac))
    return (f"| {label} ({sig.n_channels} x {sig.n_samples}) | {size} | {flac_size} | {size / flac_size:.2f} | "
            f"{1e3 * t['enc']:.1f} | {1e3 * t['enc1']:.1f} | {1e3 * t['flac enc']:.1f} | "
            f"{t['enc'] / t['flac enc']:.1f} | {1e3 * t['dec']:.1f} | {1e3 * t['flac dec']:.1f} | "
            f"{t['dec'] / t['flac dec']:.1f} |")


def lossy_row(label: str, sig: Signal, target: float, repeats: int) -> str:
    """The lossy table's row of ``sig`` at PRDN ``target``: sancodec's bytes and times and the wavelet coder's, lead
    by lead."""
    leads = [sig.samples[:, k].astype(np.float64) for k in range(sig.n_channels)]
    data = sancodec.encode(sig, mode="lossy", prdn=target)
    back = sancodec.decode(data).samples
    for k, x in enumerate(leads):
        assert prdn(x, back[:, k].astype(np.float64)) <= target * (1 + 1e-9), f"lead {k} past PRDN {target} %"
    curves = [wavelet_curve(x) for x in leads]
    crs = [cr_at(curve, target) for curve in curves]
    if any(cr is None for cr in crs):
        return f"| {label} | the wavelet coder does not reach PRDN {target:g} % on every lead | |"
    wavelet_size = sum(11 * len(x) / 8 / cr for x, cr in zip(leads, crs) if cr is not None)
    t = dict.fromkeys(("enc", "enc1", "dec", "wavelet enc", "wavelet dec"), math.inf)
    for _ in range(repeats):
        t["enc"] = min(t["enc"], fastest_seconds(lambda: sancodec.encode(sig, mode="lossy", prdn=target), 1))
        t["enc1"] = min(t["enc1"],
                        fastest_seconds(lambda: sancodec.encode(sig, mode="lossy", prdn=target, threads=1), 1))
        t["dec"] = min(t["dec"], fastest_seconds(lambda: sancodec.decode(data), 1))
        spent = [wavelet_timing(x, curve, target) for x, curve in zip(leads, curves)]
        t["wavelet enc"] = min(t["wavelet enc"], sum(s[0] for s in spent))
        t["wavelet dec"] = min(t["wavelet dec"], sum(s[1] for s in spent))
    size = len(data)
    return (f"| {label} ({sig.n_channels} x {sig.n_samples}) | {size} | {wavelet_size:.0f} | "
            f"{size / wavelet_size:.2f} | {1e3 * t['enc']:.1f} | {1e3 * t['enc1']:.1f} | "
            f"{1e3 * t['wavelet enc']:.1f} | {t['enc'] / t['wavelet enc']:.1f} | {1e3 * t['dec']:.1f} | "
            f"{1e3 * t['wavelet dec']:.1f} | {t['dec'] / t['wavelet dec']:.1f} |")


def main() -> None:
    parser = bench_parser(__doc__, "also write the tables to this file")
    parser.add_argument("--prdn", type=float, default=2.0, help="the lossy files' PRDN target (percent)")
    parser.add_argument("--repeats", type=int, default=5, help="times: the fastest of this many runs of each")
    args = parser.parse_args()
    steady_allocator()  # the same allocator behaviour every run (timing.steady_allocator)
    found = records(args.data_dir)
    lines = ["# Short multi-lead records: PTB-XL's size, next to FLAC and the wavelet coder", "",
             f"Written by `benchmarks/bench_short_records.py --data-dir {args.data_dir} --prdn {args.prdn:g} "
             f"--repeats {args.repeats}`; what is measured and how: its docstring. Times in ms, the fastest of "
             f"{args.repeats} runs of each; ratios are sancodec's over the other tool's.", "",
             "## Lossless, against FLAC -8 (each lead a mono file)", "",
             "| record | sancodec bytes | FLAC bytes | ratio | sancodec encode | on one thread | FLAC encode | ratio | "
             "sancodec decode | FLAC decode | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, sig in found:
        lines.append(lossless_row(label, sig, args.repeats))
        print(lines[-1], flush=True)
    lines += ["", f"## Lossy at PRDN {args.prdn:g} % on every lead, against the wavelet coder lead by lead", "",
              "| record | sancodec bytes | wavelet coder's bytes | ratio | sancodec encode | on one thread | "
              "wavelet coder's encode | ratio | sancodec decode | wavelet coder's decode | ratio |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, sig in found:
        lines.append(lossy_row(label, sig, args.prdn, args.repeats))
        print(lines[-1], flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
