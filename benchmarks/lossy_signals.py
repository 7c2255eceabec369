"""The signals the lossy benchmarks weigh (``bench_lossy.py`` and the scripts built on it) and how each is read:
apart from ``bench_lossy.py`` so that a script or test that only needs the signals does not need PyWavelets."""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sancodec import Signal, read_signal
from sancodec.codec.api import DEFAULT_LOSSY_FRAME
from sancodec.codec.gaps import filled, gap_runs
from sancodec.codec.lossyfile import blocks
from sancodec.codec.prepare import whole_frames

TARGETS = (1.0, 2.0, 5.0, 9.0)  # the PRDN (%) every lossy benchmark reports CR at: issue 13's

#: (kind, label, path under --data-dir, channel). ECG: every record with an ECG channel.
SIGNALS = [
    ("ECG", "mitdb 100 MLII", "wfdb/100", 0),
    ("ECG", "challenge-2015 a103l II", "wfdb/a103l", 0),
    ("ECG", "mimicdb 03700181 MCL1", "wfdb/03700181", 0),
    ("ECG", "drivedb drive17a ECG", "physionet/drivedb/drive17a", 0),
    ("ECG", "PTB s0010_re lead i", "wfdb/s0010_re", 0),
    ("ECG", "macecgdb test01_00s", "wfdb/test01_00s", 0),
    ("ECG", "mitdb 100_3chan", "wfdb/100_3chan", 0),
    ("ECG", "mimic3wdb 3000003_0003 II", "wfdb/3000003_0003", 0),
    ("ECG", "mixedsignals II", "wfdb/mixedsignals", 0),
    ("ECG", "bidmc 01 II", "physionet/bidmc/bidmc_01_Signals.csv", 4),
    ("EMG", "emgdb emg_healthy", "physionet/emgdb/emg_healthy", 0),
    ("EMG", "emgdb emg_myopathy", "physionet/emgdb/emg_myopathy", 0),
    ("CTG", "ctu-uhb-ctgdb 1001 FHR", "physionet/ctu-uhb-ctgdb/1001", 0),
    ("EEG", "Bonn/UCI set A rows", "uci-epilepsy/epileptic_seizure_recognition_rebuilt.csv.gz", 5),
    ("PPG", "challenge-2015 a103l PLETH", "wfdb/a103l", 2),
    ("respiration", "bidmc 01 RESP", "physionet/bidmc/bidmc_01_Signals.csv", 0),
    ("blood pressure", "mimicdb 03700181 ABP", "wfdb/03700181", 1),
]


def points_below(ratios: Sequence[tuple[str, str, float, float]], goals: Mapping[float, float], floor: float,
                 digits: int = 2) -> tuple[list[str], list[str]]:
    """Of ``ratios`` (kind, label, PRDN, CR over the wavelet coder's), the ECG points below their PRDN's goal in
    ``goals`` and the points of any kind below ``floor``, each as 'label PRDN %: ratio' (the ratio to ``digits``
    decimals): issue 13's check, as ``bench_lossy.py`` and ``effort_frontier.py`` read it."""
    def said(label: str, target: float, ratio: float) -> str:
        return f"{label} {target:g} %: {ratio:.{digits}f}x"

    short = [said(label, t, r) for kind, label, t, r in ratios if kind == "ECG" and r < goals[t]]
    low = [said(label, t, r) for _, label, t, r in ratios if r < floor]
    return short, low


def located(data_dir: Path, path: str) -> Path | None:
    """Where a signal of :data:`SIGNALS` at ``path`` is read from: its file (a CSV) or WFDB record under ``data_dir``,
    mitdb 100 from the bundled sample where the folder lacks it; None where the folder does not hold it."""
    full = data_dir / path
    if path == "wfdb/100" and not full.with_name("100.hea").exists():
        return Path("sancodec/data/samples/100")
    if path.endswith((".csv", ".csv.gz")):
        return full if full.exists() else None
    return full if full.with_name(full.name + ".hea").exists() else None


def load(data_dir: Path, path: str, channel: int) -> Signal | None:
    """One channel as an integer Signal (its digital samples; CSV/EEG values rounded to a 1/1000 grid); None where
    ``data_dir`` does not hold it (:func:`located`)."""
    full = located(data_dir, path)
    if full is None:
        return None
    if path.endswith(".csv.gz"):
        return Signal(np.rint(eeg_rows(full, channel)).astype(np.int64)[:, None], 173.61, ["eeg"], ["uV"])
    if path.endswith(".csv"):
        sig = read_signal(full)
        x = sig.samples[:, channel]
        return Signal(np.rint(np.asarray(x, dtype=np.float64) * 1000).astype(np.int64)[:, None], sig.fs, ["x"], ["NU"])
    sig = read_signal(full)
    step = sig.sample_steps()[channel]
    x = sig.samples[::step, channel]
    return Signal(x[:, None].astype(np.int64), sig.fs / step, [sig.channel_names[channel]], ["NU"])


def eeg_rows(full: Path, channel: int) -> np.ndarray:
    """The UCI epilepsy CSV's first 100 rows of set ``channel`` (its last column), their values one after another."""
    with gzip.open(full, "rt") as fh:
        rows = [line.rstrip().split(",") for line in fh]
    body = [r for r in rows[1:] if r and r[-1].strip() == str(channel)]
    return np.concatenate([np.asarray(r[1:-1], dtype=np.float64) for r in body[:100]])


def labelled(data_dir: Path) -> list[tuple[str, Signal]]:
    """Each signal of :data:`SIGNALS` that ``data_dir`` holds (:func:`load`) with its label, in their order."""
    loaded = [(label, load(data_dir, path, channel)) for _, label, path, channel in SIGNALS]
    return [(label, signal) for label, signal in loaded if signal is not None]


def load_all(data_dir: Path) -> list[Signal]:
    """Every signal of :data:`SIGNALS` that ``data_dir`` holds (:func:`load`), in their order."""
    return [signal for _, signal in labelled(data_dir)]


def cr_at(points: list[tuple[float, float, str]], target: float) -> float | None:
    """CR at PRDN ``target`` on the upper envelope of ``points``, log-log interpolated."""
    pts = sorted(((p, c) for p, c, _ in points if p > 0), key=lambda pc: (pc[0], -pc[1]))
    best = []
    for p, c in pts:  # keep the Pareto front: CR must rise with PRDN (at one PRDN, the larger CR only)
        if not best or c > best[-1][1]:
            best.append((p, c))
    for (p0, c0), (p1, c1) in zip(best, best[1:]):
        if p0 <= target <= p1:
            t = (np.log(target) - np.log(p0)) / (np.log(p1) - np.log(p0))
            return float(np.exp(np.log(c0) + t * (np.log(c1) - np.log(c0))))
    if best and abs(best[-1][0] - target) < 1e-9:
        return best[-1][1]
    return None


def filled_as_coded(sig: Signal) -> Signal:
    """``sig`` with each channel's gaps (runs of its format's invalid sample) filled as ``sancodec.encode``'s lossy
    mode fills them (format 1.15, ``codec.gaps``): block by block, in the blocks it codes a record of its default
    frame length in. A coder without gaps of its own (the wavelet coder) is given these samples: like with like."""
    spans = blocks(sig.n_samples, whole_frames(DEFAULT_LOSSY_FRAME, sig.frame_size), sig.n_channels)
    return filled(sig, gap_runs(sig), spans)
