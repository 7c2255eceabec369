"""What each lossless predictor buys, per record: whole ``.san`` files with the predictors switched on
one after another, every column from the same run.

Columns (cumulative): polynomial predictors only (orders 0-3, value tables, integer grids, constant
frames); + integer LPC restarting every 4096 samples (1.1); + LPC without restarts (1.8); + the sign-sign
LMS stage (format 1.4); + the long adaptive stages (1.8); + long-term, beat-to-beat prediction (1.4);
+ inter-channel prediction (path 5); + running contexts in the entropy coder (1.5); + their MSB mode
(1.8), which is sancodec as shipped. The stages are switched off by setting the encoder's own thresholds
(``residual.LPC_GAIN``/``LMS_GAIN`` to 0 keeps them from ever paying), its ``LPC_WHOLE``, ``CASCADE``,
``LONG_TERM``, ``RUNNING_CONTEXTS`` and ``MSB_MODE`` switches, and by hiding the inter-channel candidate:
a measurement hook, not an encoder option.

Run: .venv/bin/python benchmarks/bench_predictors.py [--data-dir ../shared/data] [--markdown FILE]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sancodec
from sancodec.codec import pipeline, residual
from sancodec.codec.api import decode_file

RECORDS = [
    "wfdb/100", "wfdb/a103l", "wfdb/03700181", "physionet/drivedb/drive17a", "physionet/emgdb/emg_healthy",
    "physionet/emgdb/emg_myopathy", "physionet/ctu-uhb-ctgdb/1001", "wfdb/s0010_re", "wfdb/mixedsignals",
    "wfdb/test01_00s",
]
STAGES = ("polynomial", "+ LPC", "+ no restarts", "+ LMS", "+ long stages", "+ long-term", "+ inter-channel",
          "+ running contexts", "+ MSB mode")
_SWITCHES = ("LPC_GAIN", "LPC_WHOLE", "LMS_GAIN", "CASCADE", "LONG_TERM", "RUNNING_CONTEXTS", "MSB_MODE")


@contextmanager
def stages(count: int) -> Iterator[None]:
    """The first ``count`` of STAGES switched on."""
    saved = [getattr(residual, name) for name in _SWITCHES], pipeline.cross_channel_candidate
    off = {"LPC_GAIN": 0.0, "LPC_WHOLE": False, "LMS_GAIN": 0.0, "CASCADE": False, "LONG_TERM": False,
           "RUNNING_CONTEXTS": False, "MSB_MODE": False}
    position = {"LPC_GAIN": 2, "LPC_WHOLE": 3, "LMS_GAIN": 4, "CASCADE": 5, "LONG_TERM": 6, "RUNNING_CONTEXTS": 8,
                "MSB_MODE": 9}  # the column from which each is on
    try:
        for name, column in position.items():
            if count < column:
                setattr(residual, name, off[name])
        if count < 7:
            pipeline.cross_channel_candidate = lambda *args: None
        yield
    finally:
        for name, value in zip(_SWITCHES, saved[0]):
            setattr(residual, name, value)
        pipeline.cross_channel_candidate = saved[1]


def row(name: str, signal: sancodec.Signal) -> str:
    sizes = []
    for count in range(1, len(STAGES) + 1):
        with stages(count):
            data = sancodec.encode(signal)
        assert (decode_file(data).signal.samples == signal.samples).all(), name
        sizes.append(8 * len(data) / signal.n_values)
    gains = " | ".join(f"{b:.3f} ({100 * (b / a - 1):+.1f} %)" for a, b in zip(sizes, sizes[1:]))
    return f"| {name} | {signal.n_values} | {sizes[0]:.3f} | {gains} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    lines = ["| record | values | bits/sample: " + " | ".join(STAGES) + " |", "|---|---:|" + "---:|" * len(STAGES)]
    for name in RECORDS:
        path = args.data_dir / name
        if not path.with_name(path.name + ".hea").exists():
            continue
        lines.append(row(name, sancodec.read_signal(path)))
        print(lines[-1], flush=True)
    text = ("## What each lossless predictor buys (whole files, bits per sample, change against the column "
            "before)\n\n" + "\n".join(lines) + "\n")
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
