"""Small multi-segment WFDB records in the shape of wfdb-python's ``sample-data/multi-segment/``,
written by the tests themselves: segments with wfdb-python's ``wrsamp``, master and layout headers
as the text WFDB defines (wfdb-python cannot write those)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb


def _segment(folder: Path, name: str, data: np.ndarray, names: list[str], fmt: str, gains: list[float],
             units: list[str], fs: float = 125) -> None:
    wfdb.wrsamp(name, fs=fs, units=units, sig_name=names, d_signal=data.astype(np.int64), fmt=[fmt] * len(names),
                adc_gain=gains, baseline=[0] * len(names), write_dir=str(folder))


def write_fixed(folder: Path, name: str = "041s", seed: int = 0) -> dict[str, np.ndarray]:
    """A fixed-layout record (like 041s): two segments of the same three channels, format 212,
    different gains per segment. Returns each segment's samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(1000)
    parts = {}
    for k, gain in ((1, 200.0), (2, 400.0)):
        data = np.stack([(300 * np.sin(t / (7 + k + c))).astype(int) + rng.integers(-9, 9, t.size)
                         for c in range(3)], axis=1)
        _segment(folder, f"{name}0{k}", data, ["I", "II", "V"], "212", [gain, 200.0, 200.0], ["mV"] * 3)
        parts[f"{name}0{k}"] = data
    (folder / f"{name}.hea").write_text(f"{name}/2 3 125 2000 8:26:04 26/10/1994\n{name}01 1000\n{name}02 1000\n"
                                        "#a fixed-layout test record\n")
    return parts


def write_variable(folder: Path, name: str = "s25047", seed: int = 1) -> dict[str, np.ndarray]:
    """A variable-layout record (like MIMIC's 3234460): a layout header naming II, V and ABP, a leading
    gap, segments carrying different channels in their own order, and a gap between them."""
    rng = np.random.default_rng(seed)
    layout = (f"{name}_layout 3 125 0 10:44:18.529\n~ 0 86/mV 11 0 -1024 0 0 II\n~ 0 86/mV 11 0 -1024 0 0 V\n"
              "~ 0 1.25(-100)/mmHg 9 0 -256 0 0 ABP\n")
    (folder / f"{name}_layout.hea").write_text(layout)
    shapes = {f"{name}_0001": (["II", "ABP"], 400), f"{name}_0002": (["V"], 250),
              f"{name}_0003": (["ABP", "II", "V"], 600)}
    parts = {}
    for seg, (names, n) in shapes.items():
        data = np.clip(rng.integers(-500, 500, (n, len(names))).cumsum(axis=0) // 8, -1000, 1000)
        _segment(folder, seg, data, names, "16", [86.0 if c != "ABP" else 1.25 for c in names],
                 ["mV" if c != "ABP" else "mmHg" for c in names])
        parts[seg] = data
    master = (f"{name}/6 3 125 1425 10:44:18.529\n{name}_layout 0\n~ 50\n{name}_0001 400\n{name}_0002 250\n"
              f"~ 125\n{name}_0003 600\n#Location: micu\n")
    (folder / f"{name}.hea").write_text(master)
    return parts


def write_multifrequency(folder: Path, name: str = "mf", spf: tuple[int, int] = (4, 1)) -> dict[str, list[np.ndarray]]:
    """A fixed-layout record of two segments whose ECG has 4 samples per frame (like 041s's 212x4)
    and whose ABP has 1 (or ``spf``). Returns each segment's channels at their own rates."""
    rng = np.random.default_rng(2)
    parts = {}
    for k, frames in ((1, 300), (2, 200)):
        ecg = rng.integers(-300, 300, spf[0] * frames)
        abp = rng.integers(-100, 100, spf[1] * frames)
        rec = wfdb.Record(record_name=f"{name}0{k}", n_sig=2, fs=125, sig_len=frames, file_name=[f"{name}0{k}.dat"] * 2,
                          fmt=["212", "212"], samps_per_frame=list(spf), adc_gain=[200.0, 20.0], baseline=[0, -1600],
                          units=["mV", "mmHg"], sig_name=["II", "ABP"], adc_res=[12, 12], adc_zero=[0, 0],
                          e_d_signal=[ecg, abp])
        rec.set_d_features(expanded=True, do_adc=False)
        rec.init_value = [int(ecg[0]), int(abp[0])]
        rec.block_size = [0, 0]
        rec.wrsamp(expanded=True, write_dir=str(folder))
        parts[f"{name}0{k}"] = [ecg, abp]
    (folder / f"{name}.hea").write_text(f"{name}/2 2 125 500\n{name}01 300\n{name}02 200\n")
    return parts
