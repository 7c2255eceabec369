"""Where an ECG's lossy bytes go, band by band, and how much of each band a beat template could predict.

Run: .venv/bin/python benchmarks/beat_locked.py [--data-dir ../shared/data] [--markdown docs/BEAT_LOCKED.md]

For each ECG signal of ``bench_lossy.SIGNALS`` (channel 0, as bench_lossy codes it): the beats the encoder finds
(``beats.find_beats``) and, per wavelet band of its lossy file at each target (the bands and frequencies
``sancodec info --bands`` prints), the band's **beat-locked share**: the energy of the beat-synchronous mean of the
signal band-passed to the band's frequencies (windows from 0.3 s before to 0.5 s after each beat, shorter where
the beats are closer), less the share of the noise that a mean of N beats keeps (1/N), over the windows' energy.
A beat template predicts at most that share of a band. Then, per target: sancodec's bytes (effort best),
the wavelet coder's (``bench_lossy``'s curve, the same run), the bytes sancodec would have to shed to reach issue
13's goal, and the bytes it spends on *unlocked* bands (a beat-locked share under 10 %: noise, or a baseline's
wander in the coarsest band), which no template predicts and both coders pay for: the saving as a share of
those is what coding them better would have to give if nothing else moved, beside the share of all the other
bytes it would take instead.

Two more columns say whether an unlocked band holds anything else a predictor could take: the share of its power
within 1 Hz of the mains line and its harmonics (the line ``mains.mains_frequency`` finds, which the lossy coder's
hum already takes at its fundamental; "–" where none stands out), and its **spectral flatness**, the geometric over
the arithmetic mean of its periodogram: about e^-γ = 0.56 for white noise (a periodogram's values are exponential),
lower where lines or a slope stand out of the band.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import sancodec
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.beats import find_beats
from sancodec.codec.mains import mains_frequency

UNLOCKED = 0.1  # a band whose beat-locked share is under this is unlocked: no template predicts it
BEFORE, AFTER = 0.3, 0.5  # seconds around each beat (at most 40 % and 60 % of the median beat period)


def bands_passed(x: np.ndarray, fs: float, edges: list[tuple[float, float]]) -> list[np.ndarray]:
    """For each ``(low, high)`` of ``edges``, ``x`` less its mean with every frequency outside ``[low, high)`` Hz
    removed (an FFT mask; one transform of ``x`` for all of them)."""
    spectrum = np.fft.rfft(x - x.mean())
    f = np.fft.rfftfreq(len(x), 1 / fs)
    return [np.fft.irfft(np.where((f >= low) & (f < high), spectrum, 0), len(x)) for low, high in edges]


def band_passed(x: np.ndarray, fs: float, low: float, high: float) -> np.ndarray:
    """:func:`bands_passed` of one band."""
    return bands_passed(x, fs, [(low, high)])[0]


HARMONIC_WIDTH = 1.0  # Hz either side of each of the mains line's harmonics counted as the harmonic's power


def spectral_measures(x: np.ndarray, fs: float, edges: list[tuple[float, float]],
                      line: float | None) -> list[tuple[float, float]]:
    """Per ``(low, high)`` of ``edges``: the share of the band's power (the periodogram of ``x`` less its mean)
    within :data:`HARMONIC_WIDTH` of a multiple of ``line`` Hz (nan without a line), and the band's spectral
    flatness (geometric over arithmetic mean of its nonzero periodogram values; nan where it has none)."""
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    f = np.fft.rfftfreq(len(x), 1 / fs)
    out = []
    for low, high in edges:
        inside = (f >= low) & (f < high)
        p, total = power[inside], float(power[inside].sum())
        if line:
            k = np.round(f[inside] / line)  # the nearest harmonic (0: the mean's neighbourhood, not one)
            harmonic = (k >= 1) & (np.abs(f[inside] - line * k) <= HARMONIC_WIDTH)
            share = float(p[harmonic].sum()) / total if total > 0 else float("nan")
        else:
            share = float("nan")
        seen = p[p > 0]
        flatness = float(np.exp(np.log(seen).mean()) / seen.mean()) if len(seen) else float("nan")
        out.append((share, flatness))
    return out


def locked_share(y: np.ndarray, beats: np.ndarray, fs: float) -> float:
    """The share of ``y``'s energy around ``beats`` that their synchronous mean holds, the noise's 1/N removed."""
    period = float(np.median(np.diff(beats))) if len(beats) > 1 else fs
    before, after = int(min(BEFORE * fs, 0.4 * period)), int(min(AFTER * fs, 0.6 * period))
    beats = beats[(beats >= before) & (beats + after <= len(y))]
    if len(beats) < 3:
        return float("nan")
    windows = y[beats[:, None] + np.arange(-before, after)[None, :]]
    n, total = len(beats), float((windows**2).sum())
    mean_energy = float((windows.mean(axis=0) ** 2).sum())
    signal = (mean_energy - total / n**2) / (1 - 1 / n)  # one beat's locked energy, noise's 1/N taken out
    return float(np.clip(n * signal / total, 0.0, 1.0)) if total > 0 else float("nan")


def study(sig: sancodec.Signal) -> tuple[list[list[str]], list[list[str]]]:
    """Band rows (name, Hz, locked share, bytes at each target) and target rows (CR, goal, bytes to shed, …)."""
    import bench_lossy  # PyWavelets, a benchmark dependency: the measures above import without it

    x = sig.samples[:, 0].astype(np.float64)
    beats = find_beats(x, sig.fs)
    curve = bench_lossy.wavelet_curve(sig.samples[:, 0])
    files = [sancodec.encode(sig, mode="lossy", prdn=t, effort="best") for t in bench_lossy.TARGETS]
    anatomies = [lossy_anatomy(f, bands=True)[0] for f in files]
    names = list(dict.fromkeys(name for a in anatomies for name in a.bands))
    bands = [next(a.bands[name] for a in anatomies if name in a.bands) for name in names]
    edges = [(band.low_hz, band.high_hz) for band in bands]
    passed = bands_passed(x, sig.fs, edges)
    shares = {name: locked_share(y, beats, sig.fs) for name, y in zip(names, passed)}
    spectra = spectral_measures(x, sig.fs, edges, mains_frequency(x, sig.fs))
    band_rows = []
    for name, band, (harmonics, flatness) in zip(names, bands, spectra):
        spent = [f"{a.bands[name].bytes:.0f}" if name in a.bands else "–" for a in anatomies]
        band_rows.append([name, f"{band.low_hz:g}–{band.high_hz:g}", f"{100 * shares[name]:.1f} %",
                          "–" if np.isnan(harmonics) else f"{100 * harmonics:.1f} %", f"{flatness:.2f}", *spent])
    target_rows = []
    for t, goal, data, a in zip(bench_lossy.TARGETS, bench_lossy.ECG_GOAL, files, anatomies):
        cr = 11 * sig.n_samples / (8 * len(data))
        wavelet_cr = bench_lossy.cr_at(curve, t)
        unlocked = sum(b.bytes for name, b in a.bands.items() if shares[name] < UNLOCKED)
        if wavelet_cr is None:
            target_rows.append([f"{t:g} %", f"{cr:.2f}", "–", f"{len(data)}", "–", f"{unlocked:.0f}", "–", "–"])
            continue
        shed = len(data) - 11 * sig.n_samples / (8 * wavelet_cr * goal)
        rest = len(data) - unlocked
        target_rows.append([f"{t:g} %", f"{cr:.2f}", f"{wavelet_cr:.2f} ({cr / wavelet_cr:.2f}x, goal {goal:g}x)",
                            f"{len(data)}", f"{max(shed, 0):.0f}",
                            f"{unlocked:.0f} ({100 * unlocked / len(data):.0f} %)",
                            f"{100 * shed / unlocked:.0f} %" if shed > 0 and unlocked > 0 else "–",
                            f"{100 * shed / rest:.0f} %" if shed > 0 and rest > 0 else "–"])
    return band_rows, target_rows


def ecg_signals(data_dir: Path) -> list[tuple[str, sancodec.Signal]]:
    """Each ECG signal of ``bench_lossy.SIGNALS`` that ``data_dir`` holds, with its label, in their order."""
    import bench_lossy

    loaded = [(label, bench_lossy.load(data_dir, path, channel))
              for kind, label, path, channel in bench_lossy.SIGNALS if kind == "ECG"]
    return [(label, sig) for label, sig in loaded if sig is not None]


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def main() -> None:
    import bench_lossy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    targets = [f"bytes at PRDN {t:g} %" for t in bench_lossy.TARGETS]
    lines = ["# Beat-locked bands: what a beat template can predict, and where the lossy bytes go", "",
             f"Written by `benchmarks/beat_locked.py --data-dir {args.data_dir}`; the method is in its docstring. "
             f"A band is unlocked when under {100 * UNLOCKED:.0f} % of its energy around the beats is beat-locked. "
             "\"Bytes to shed\": sancodec's file (effort best) less the wavelet coder's bytes over the goal's "
             "ratio (0: met). The last two columns: those bytes as a share of the unlocked bands' bytes, and of all "
             "the others (template, hum, heads, locked bands, header).", ""]
    for label, sig in ecg_signals(args.data_dir):
        band_rows, target_rows = study(sig)
        lines += [f"## {label} ({sig.n_samples} samples at {sig.fs:g} Hz)", "",
                  *table(["band", "Hz", "beat-locked share", "mains harmonics", "flatness", *targets], band_rows), "",
                  *table(["PRDN", "sancodec CR", "wavelet coder CR", "sancodec bytes", "bytes to shed",
                          "bytes in unlocked bands", "to shed, of those", "to shed, of the rest"], target_rows), ""]
        print("\n".join(lines[-len(band_rows) - len(target_rows) - 7:]), flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
