"""Write the bundled multi-segment sample ``sancodec/data/samples/multisegment/ms100`` from record 100.

A variable-layout record in the shape of MIMIC's waveform database: a layout header naming MLII and
V5, a segment with both channels, a 2 s gap, a segment with MLII only, and a segment with V5 and MLII
in that order; segments are written by wfdb-python, the master and layout headers as WFDB text (which
wfdb-python cannot write). Re-running it gives the same files.
"""

from __future__ import annotations

from pathlib import Path

import wfdb

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "sancodec" / "data" / "samples" / "100"
TARGET = ROOT / "sancodec" / "data" / "samples" / "multisegment"
NAME = "ms100"
#: (frames, channels of record 100) per segment; () is a gap.
SEGMENTS = ((3600, (0, 1)), (720, ()), (3600, (0,)), (1800, (1, 0)))


def main() -> None:
    rec = wfdb.rdrecord(str(SOURCE), physical=False, sampto=sum(n for n, _ in SEGMENTS))
    TARGET.mkdir(exist_ok=True)
    lines, start, k = [f"{NAME}_layout 0"], 0, 0
    for frames, channels in SEGMENTS:
        if channels:
            k += 1
            seg = f"{NAME}_{k:04d}"
            wfdb.wrsamp(seg, fs=rec.fs, units=[rec.units[c] for c in channels],
                        sig_name=[rec.sig_name[c] for c in channels],
                        d_signal=rec.d_signal[start:start + frames, list(channels)], fmt=["212"] * len(channels),
                        adc_gain=[rec.adc_gain[c] for c in channels], baseline=[rec.baseline[c] for c in channels],
                        write_dir=str(TARGET))
        lines.append(f"{seg if channels else '~'} {frames}")
        start += frames
    layout = [f"{NAME}_layout 2 360 0"] + [
        f"~ 0 {rec.adc_gain[c]:g}({rec.baseline[c]})/{rec.units[c]} {rec.adc_res[c]} {rec.adc_zero[c]} -2048 0 0 "
        f"{rec.sig_name[c]}" for c in (0, 1)]
    (TARGET / f"{NAME}_layout.hea").write_text("\n".join(layout) + "\n")
    master = [f"{NAME}/{len(lines)} 2 360 {start}", *lines, "#derived from MIT-BIH record 100 by "
              "scripts/make_multisegment_sample.py"]
    (TARGET / f"{NAME}.hea").write_text("\n".join(master) + "\n")


if __name__ == "__main__":
    main()
