"""A decoded Signal's ``source`` entry comes from an untrusted ``.san`` header: whatever it holds, every writer
(CSV, ``.npy``, EDF, WFDB) writes the samples or refuses with a ``SancodecError``, never another exception."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sancodec import SancodecError, Signal, write_signal

HOSTILE = [None, 0, -1, 3, 9, 10, 99, 1.5, "3", [], [2], [2, 1], [2, 1, 0], [None, 1], {"a": 1}, ",", ";", "\t",
           ".", "|", "", "x\ny", 1e300, float("nan"), True, "(2)i8", "i3", "<f8", "|O", [[0.5, None, "x"]]]
KEYS = ("decimals", "time_decimals", "delimiter", "decimal", "time_column", "time_start", "dtype", "rank",
        "annotations", "signals", "segments", "layout", "patient", "recording", "startdate_field",
        "data_record_duration", "layout_header")


KIND_OF = {"decimals": "csv", "time_decimals": "csv", "delimiter": "csv", "decimal": "csv", "time_column": "csv",
           "time_start": "csv", "dtype": "npy", "rank": "npy", "segments": "wfdb-multisegment",
           "layout": "wfdb-multisegment", "layout_header": "wfdb-multisegment"}  # the rest: EDF's fields


def _write_all(signal: Signal, folder, name: str | None) -> None:
    """``signal`` as CSV, ``.npy``, EDF and (``name``) a WFDB record, each written or refused."""
    for out in ("o.csv", "o.npy", "o.edf", *([name] if name else [])):
        try:
            write_signal(signal, folder / out)
        except SancodecError:
            pass


@pytest.mark.parametrize("key", KEYS)
def test_each_hostile_value_of_each_field_is_written_or_refused(tmp_path, key):
    """Every value of :data:`HOSTILE` in each field, under the kind of source that field belongs to, on a decimal
    signal (gains of 10, zero baselines: what a decimal source decodes to) and a float one."""
    x = np.array([[1, -2], [3, 4], [5, -6]])
    for i, value in enumerate(HOSTILE):
        source = {"kind": KIND_OF.get(key, "edf"), key: value}
        for samples in (x, x / 7.0):
            signal = Signal(samples, 100.0, ["a", "b"], ["mV", "mV"], adc_gain=[10.0, 10.0], baseline=[0, 0],
                            source=source)
            _write_all(signal, tmp_path, f"rec{i}" if source["kind"] == "wfdb-multisegment" else None)


@pytest.mark.parametrize("seed", range(4))
def test_every_writer_takes_any_source_entry_or_refuses_it_in_one_error(tmp_path, seed):
    rng = random.Random(seed)
    for case in range(30):
        c = rng.randint(1, 3)
        x = np.array([[rng.randint(-50, 50) for _ in range(c)] for _ in range(rng.randint(1, 5))])
        digital = rng.random() < 0.6
        source = {"kind": rng.choice(["csv", "npy", "edf", "bdf", "wfdb-multisegment", 5])}
        source |= {k: rng.choice(HOSTILE) for k in KEYS if rng.random() < 0.4}
        signal = Signal(x if digital else x / 7.0, 100.0, [rng.choice(["a", "b;c", "t", "x,y"]) for _ in range(c)],
                        ["mV"] * c, adc_gain=rng.choice([None, [10.0] * c, [100.0] * c, [0.0] * c]),
                        baseline=rng.choice([None, [0] * c, [1] * c]), source=source)
        _write_all(signal, tmp_path, f"rec{case}")
