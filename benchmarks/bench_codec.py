"""Codec benchmark: lossless bits/sample against gzip, bz2, zstd and FLAC; SAN vs raw
prediction; bits per activation against empirical entropy; mitdb 100 encode/decode times.

Run: .venv/bin/python benchmarks/bench_codec.py [--data-dir ../shared/data] [--markdown docs/BENCHMARKS.md]

Needs `soundfile` (FLAC via libsndfile, level 8), `pcodec` and `zstandard`: installed by the
benchmark setup (`make bench`), not runtime dependencies. Every compressor sees
channel 0 of each record as int16 little-endian samples.
"""

from __future__ import annotations

import argparse
import bz2
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import zstandard

import sancodec
from sancodec import SancodecError, Signal, read_signal
from sancodec.baselines import baseline_sizes
from sancodec.codec import residual
from sancodec.codec.api import decode_file, san_activations
from sancodec.san.bundled import default_model

RECORDS = [
    "wfdb/100", "wfdb/a103l", "wfdb/03700181", "physionet/emgdb/emg_healthy", "physionet/drivedb/drive17a",
    "physionet/ctu-uhb-ctgdb/1001", "physionet/emgdb/emg_myopathy", "wfdb/s0010_re", "wfdb/mixedsignals",
    "wfdb/100_3chan", "wfdb/test01_00s", "wfdb/3000003_0003",
]


def channel0(sig: Signal) -> Signal:
    only = sig.select_channels([0])
    only.annotations = []
    return only


def entropy_bits(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(counts * np.log2(p)).sum())


def lossless_table(data_dir: Path) -> list[str]:
    lines = [
        "| record (channel 0) | samples | sancodec | sancodec without its header | SAN predictor only "
        "| raw predictor only | FLAC -8 | bz2 -9 | lzma -9e | zstd -19 | gzip -9 | pcodec 12 | best other "
        "| sancodec / best other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name in RECORDS:
        path = data_dir / name
        if not path.with_name(path.name + ".hea").exists():
            if name == "wfdb/100" and Path("sancodec/data/samples/100.hea").exists():
                path = Path("sancodec/data/samples/100")
            else:
                continue
        try:
            sig = channel0(read_signal(path))
        except SancodecError as exc:
            lines.append(f"| {name} | – | not supported: {exc} |" + " |" * 11)
            continue
        n = sig.n_samples
        data = sancodec.encode(sig, mode="lossless")
        sizes = {"sancodec": len(data), "no header": len(data) - int.from_bytes(data[8:12], "little")}
        sizes["SAN only"] = len(sancodec.encode(sig, mode="lossless", predictor="san"))
        sizes["raw only"] = len(sancodec.encode(sig, mode="lossless", predictor="raw"))
        sizes.update({k: v for k, v in baseline_sizes(channel0(sig)).items() if k != "raw 16-bit"})
        bps = {k: 8 * v / n for k, v in sizes.items() if v is not None}
        columns = ["sancodec", "no header", "SAN only", "raw only", "FLAC -8", "bz2 -9", "lzma -9e", "zstd -19",
                   "gzip -9", "pcodec 12"]
        cells = " | ".join("–" if bps.get(k) is None else f"{bps[k]:.3f}" for k in columns)  # header's order
        other = min((k for k in bps if k not in ("sancodec", "no header", "SAN only", "raw only")), key=bps.get)
        cells += f" | {other} | {bps['sancodec'] / bps[other]:.3f}"
        lines.append(f"| {name} | {n} | {cells} |")
    return lines


def best_of_table(data_dir: Path) -> list[str]:
    """Every WFDB record under ``data_dir``, all channels: the whole .san file against the best of
    FLAC, bz2, lzma, zstd and pcodec on the same samples (issue 17's measure)."""
    lines = ["| record | samples x channels | sancodec bits/sample | best other | its bits/sample | sancodec / best |",
             "|---|---:|---:|---|---:|---:|"]
    for hea in sorted(data_dir.rglob("*.hea")):
        try:
            sig = read_signal(hea.with_suffix(""))
        except SancodecError:
            continue
        values = sig.n_values
        size = len(sancodec.encode(sig, mode="lossless"))
        others = {k: v for k, v in baseline_sizes(sig).items() if v is not None and k not in ("raw 16-bit", "gzip -9")}
        if not others:
            continue
        best = min(others, key=others.get)
        name = hea.relative_to(data_dir).with_suffix("")
        lines.append(f"| {name} | {sig.n_samples} x {sig.n_channels} | {8 * size / values:.3f} | {best} | "
                     f"{8 * others[best] / values:.3f} | {size / others[best]:.3f} |")
    return lines


def activation_entropy(sig: Signal) -> list[str]:
    """Bits per activation in lossy mode vs the order-0 entropy of the gap and amplitude values."""
    spec = default_model()
    data = sancodec.encode(sig, mode="san")
    decoded = decode_file(data)
    frame_bytes = sancodec.codec.container.SanReader(data).payload_bytes
    header_bytes = 16 + int.from_bytes(data[8:12], "little")  # preamble and header
    x = sig.samples.astype(np.float64)
    gaps, amps = [], []
    frame = 1 << 15
    for ch in range(sig.n_channels):
        for start in range(0, sig.n_samples, frame):
            f = x[start : start + frame, ch]
            alpha = san_activations(spec, ((f - np.rint(f.mean())) / (f.std() or 1.0))[None])[0]
            for k in range(spec.q):
                pos = np.flatnonzero(alpha[k])
                aq = np.rint(alpha[k, pos] / 0.02).astype(np.int64)
                pos, aq = pos[aq > 0], aq[aq > 0]
                gaps.append(np.diff(pos, prepend=-1) - 1)
                amps.append(aq)
    g, a = np.concatenate(gaps), np.concatenate(amps)
    count = decoded.activations
    return [
        f"lossy mode, default model, {count} activations: {8 * frame_bytes / count:.2f} bits per activation "
        f"in frames (tables included; header {header_bytes} bytes); order-0 entropy of the streams: "
        f"gaps {entropy_bits(g) / len(g):.2f} + amplitudes {entropy_bits(a) / len(a):.2f} = "
        f"{(entropy_bits(g) + entropy_bits(a)) / len(g):.2f} bits per activation",
    ]


def residual_entropy(sig: Signal) -> str:
    x = sig.samples[:, 0].astype(np.int64)
    e = np.diff(x, prepend=0)
    coded = len(sancodec.encode(channel0(sig), mode="lossless", predictor="raw"))
    raw = e.astype("<i2").tobytes()
    general = {"bz2 -9": len(bz2.compress(raw, 9)), "zstd -19": len(zstandard.ZstdCompressor(level=19).compress(raw))}
    others_text = ", ".join(f"{k} {8 * v / len(x):.3f}" for k, v in general.items())
    return (f"lossless residual, mitdb 100 ch0: coded {8 * coded / len(x):.3f} bits/sample vs order-0 entropy of the "
            f"first differences {entropy_bits(e) / len(x):.3f} (the context models, running contexts and block "
            "classes, beat order 0); "
            f"general-purpose coders on the same differences: {others_text}")


def timings(sig: Signal, repeats: int) -> list[str]:
    lines = ["| mode | bytes | bits/sample | encode s | decode s | encode + decode s |",
             "|---|---:|---:|---:|---:|---:|"]
    for mode, err in (("san", None), ("near-lossless", 2), ("lossless", None)):
        enc, dec = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            data = sancodec.encode(sig, mode=mode, max_error=err)
            t1 = time.perf_counter()
            sancodec.decode(data)
            t2 = time.perf_counter()
            enc.append(t1 - t0)
            dec.append(t2 - t1)
        e, d = statistics.median(enc), statistics.median(dec)
        lines.append(f"| {mode}{'' if err is None else f' (E={err})'} | {len(data)} | "
                     f"{8 * len(data) / sig.samples.size:.3f} | {e:.3f} | {d:.3f} | {e + d:.3f} |")
    return lines


def _codecs(x: np.ndarray, fs: float) -> dict:
    """name -> (encode(), decode(blob)) on the int16 samples ``x`` (rows x channels)."""
    import io
    import lzma

    import soundfile
    from pcodec import ChunkConfig, standalone

    x = x.astype(np.int16)
    raw = x.astype("<i2").tobytes()

    def flac_enc():
        buf = io.BytesIO()
        soundfile.write(buf, x, int(fs), format="FLAC", subtype="PCM_16", compression_level=1.0)
        return buf.getvalue()

    def pco_enc():  # one array per channel: pcodec's numeric model sees each signal alone
        return [standalone.simple_compress(np.ascontiguousarray(x[:, k]), ChunkConfig(compression_level=8))
                for k in range(x.shape[1])]

    return {
        "FLAC -8 (libsndfile)": (flac_enc, lambda b: soundfile.read(io.BytesIO(b), dtype="int16")),
        "pcodec level 8": (pco_enc, lambda b: [standalone.simple_decompress(p) for p in b]),
        "zstd -19": (lambda: zstandard.ZstdCompressor(level=19).compress(raw),
                     lambda b: zstandard.ZstdDecompressor().decompress(b)),
        "bz2 -9": (lambda: bz2.compress(raw, 9), bz2.decompress),
        "lzma -9e": (lambda: lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME), lzma.decompress),
    }


def throughput(sig: Signal, repeats: int) -> list[str]:
    """Lossless encode/decode throughput of sancodec (all cores and one thread) next to the
    tools a user would pick instead, the same samples, one run. The ratios to FLAC are paired:
    each round times a codec and FLAC back to back, and the median of the rounds' ratios is shown
    (this machine's speed drifts by 30 % between runs; a pair sees the same drift)."""
    from timing import median_seconds, paired_ratio

    n = sig.samples.size
    codecs = _codecs(sig.samples, sig.fs)
    flac_enc, flac_dec = codecs["FLAC -8 (libsndfile)"]
    flac_blob = flac_enc()
    rows = {}
    for threads, predictor, running in ((None, "auto", True), (1, "auto", True), (None, "fast", True),
                                        (None, "auto", False)):
        label = (f"sancodec lossless{' --fast-decode' if predictor == 'fast' else ''}"
                 f"{'' if running else ', block classes only (format 1.4)'} "
                 f"({'all cores' if threads is None else '1 thread'})")
        residual.RUNNING_CONTEXTS = running  # a measurement hook: what running contexts cost in speed
        data = sancodec.encode(sig, mode="lossless", threads=threads, predictor=predictor)
        enc = lambda t=threads, p=predictor: sancodec.encode(sig, mode="lossless", threads=t, predictor=p)  # noqa: E731
        dec = lambda t=threads, d=data: sancodec.decode(d, threads=t)  # noqa: E731
        rows[label] = (len(data), median_seconds(enc, repeats), median_seconds(dec, repeats),
                       paired_ratio(enc, flac_enc, repeats), paired_ratio(dec, lambda: flac_dec(flac_blob), repeats))
    residual.RUNNING_CONTEXTS = True
    for name, (enc_fn, dec_fn) in codecs.items():
        blob = enc_fn()
        size = sum(len(b) for b in blob) if isinstance(blob, list) else len(blob)
        dec = lambda b=blob, f=dec_fn: f(b)  # noqa: E731
        rows[name] = (size, median_seconds(enc_fn, repeats), median_seconds(dec, repeats),
                      paired_ratio(enc_fn, flac_enc, repeats), paired_ratio(dec, lambda: flac_dec(flac_blob), repeats))
    lines = ["| codec | bits/sample | encode M samples/s | decode M samples/s | encode vs FLAC | decode vs FLAC |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, (size, enc, dec, enc_ratio, dec_ratio) in rows.items():
        lines.append(f"| {name} | {8 * size / n:.3f} | {n / enc / 1e6:.2f} | {n / dec / 1e6:.2f} | "
                     f"{enc_ratio:.2f}x | {dec_ratio:.2f}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    torch.set_num_threads(2)
    mitdb = read_signal("sancodec/data/samples/100")
    out = ["## Lossless bits per sample (channel 0; lower is better)", ""]
    out += lossless_table(args.data_dir)
    out += ["", "## Whole records against the best other tool (all channels, whole .san file)", ""]
    out += best_of_table(args.data_dir)
    out += ["", f"## Throughput: mitdb 100, both channels (2 x 650 000 samples), {os.cpu_count()} cores", ""]
    out += throughput(mitdb, args.repeats)
    out += ["", "## mitdb 100, both channels (2 x 650 000 samples), every mode", ""]
    out += timings(mitdb, args.repeats)
    out += ["", "## Entropy coder against empirical entropy", ""]
    out += ["- " + line for line in activation_entropy(mitdb)]
    out += ["- " + residual_entropy(mitdb)]
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(HEADER.format(date=time.strftime("%Y-%m-%d"), cpus=os.cpu_count()) + text)


HEADER = """# Benchmarks

Measured on the {cpus}-CPU development machine (CPU only), {date}, with `make bench`
(`benchmarks/bench_codec.py --data-dir ../shared/data`; the runtime's figures are in `RUNTIME.md`).
Records not bundled with the repo come from the PhysioNet copies in `../shared/data` (see its MANIFEST.md).
Channel 0 of the multi-frequency records (03700181, drive17a, mixedsignals) is their fastest channel, so every
column codes the same samples.

The `sancodec` column is the shipped lossless mode (`predictor="auto"`: the raw-signal codings); the next two
force the SAN or the raw predictor. The raw path's residual stage is a polynomial predictor (order 0-3) or, where
it pays, integer linear prediction (it wins on a103l and s0010_re), then the LMS stage or the long adaptive
stages, long-term prediction and running contexts where they pay (docs/PREDICTORS.md). The SAN predictor
never pays for its activations in lossless mode on these records: the residual coder on the raw signal wins
every frame.
The `sancodec` column counts the whole file, including the record's header (format 1.3's binary header: 40-230
bytes, more with WFDB comments: s0010_re carries 2.4 KB of clinical comments, about 1 KB packed), while the
other columns compress bare samples; "without its header" drops the header bytes (the container's framing
stays). pcodec runs at level 12 on one array per channel. The whole-record table codes every channel of every
WFDB record in the data folder (inter-channel prediction included) and compares whole files with the best other
tool on the same samples: a multi-frequency record's channels each at its own rate, as its file holds them
(`sancodec.baselines`).

"""


if __name__ == "__main__":
    main()
