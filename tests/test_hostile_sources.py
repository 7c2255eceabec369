"""A decoded Signal's ``source`` entry comes from an untrusted ``.san`` header: whatever it holds, every writer
(CSV, ``.npy``, EDF, MATLAB, BrainVision, WFDB) writes the samples or refuses with a ``SancodecError``, never another
exception."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from common import random_csv_text

from sancodec import SancodecError, Signal, read_signal, write_signal

HOSTILE = [None, 0, -1, 3, 9, 10, 99, 1.5, "3", [], [2], [2, 1], [2, 1, 0], [None, 1], {"a": 1}, ",", ";", "\t",
           [["a", "<i2"], ["b", "<f4"]], [["a", "<i2"], ["a", "<i2"]], [["", "<i2"], ["b", "u1"]],
           [["a", "O"], ["b", "V8"]],
           [["a", "<i2"]], [["a", ">u8"], ["b", "f2"]], [["a", "<i2", 1], ["b", "<i2"]],
           {"value": -32768, "text": "-"}, {"value": -2147483648, "text": ""}, {"value": -32768, "text": 5},
           ".", "|", "", "x\ny", 1e300, float("nan"), True, "(2)i8", "i3", "<f8", "|O", [[0.5, None, "x"]],
           10**400, -(10**400), 2**64, [10**400],  # (integers past a double's range: a header's JSON holds them)
           "QnJhaW4gVmlzaW9uIERhdGEgRXhjaGFuZ2UgSGVhZGVyIEZpbGU=", "!!"]  # (base64 of a header's first line alone)
KEYS = ("decimals", "missing", "value_decimals", "time_decimals", "time_clock", "delimiter", "decimal", "time_column",
        "time_start", "dtype", "rank", "annotations", "signals", "segments", "layout", "patient", "recording",
        "startdate_field", "data_record_duration", "layout_header", "bom", "crlf", "unterminated", "trimmed", "fields",
        "shortest", "printed_places", "time_iso", "time_scale", "wav", "variable", "rate_variable", "transposed",
        "vhdr", "vmrk", "binary", "orientation", "resolutions")


KIND_OF = {"decimals": "csv", "missing": "csv", "value_decimals": "csv", "time_decimals": "csv", "time_clock": "csv",
           "delimiter": "csv", "decimal": "csv", "time_column": "csv", "time_start": "csv", "dtype": "npy",
           "rank": "npy", "bom": "csv", "crlf": "csv", "unterminated": "csv", "trimmed": "csv", "fields": "npy",
           "shortest": "csv", "printed_places": "csv", "time_iso": "csv", "time_scale": "csv", "wav": "wav",
           "variable": "mat", "rate_variable": "mat", "transposed": "mat", "vhdr": "brainvision",
           "vmrk": "brainvision", "binary": "brainvision", "orientation": "brainvision", "resolutions": "brainvision",
           "segments": "wfdb-multisegment", "layout": "wfdb-multisegment",
           "layout_header": "wfdb-multisegment"}  # the rest: EDF's fields


def _write_all(signal: Signal, folder, name: str | None) -> None:
    """``signal`` as CSV, ``.npy``, EDF and (``name``) a WFDB record, each written or refused; and as CSV on a lossy
    file's grid (a quantum per channel, as ``decode`` gives it)."""
    for out in ("o.csv", "o.npy", "o.edf", "o.mat", "o.vhdr", *([name] if name else [])):
        try:
            write_signal(signal, folder / out)
        except SancodecError:
            pass
    try:
        write_signal(signal, folder / "q.csv", quantum=[0.01] * signal.n_channels)
    except SancodecError:
        pass


@pytest.mark.parametrize("key", KEYS)
def test_each_hostile_value_of_each_field_is_written_or_refused(tmp_path, key):
    """Every value of :data:`HOSTILE` in each field, under the kind of source that field belongs to, on a decimal
    signal (gains of 10, zero baselines: what a decimal source decodes to) and a float one."""
    x = np.array([[1, -2], [3, 4], [5, -32768]])  # (-32768: format 16's invalid sample, a CSV's gap if "missing")
    for i, value in enumerate(HOSTILE):
        source = {"kind": KIND_OF.get(key, "edf"), key: value}
        if key in ("time_decimals", "time_clock"):  # with a time column they shape (clock times: time_clock true)
            source |= {"time_column": "time", "time_start": 0.25, "time_clock": True, key: value}
        if key == "time_start":  # the time column's first time
            source |= {"time_column": "time"}
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
        source = {"kind": rng.choice(["csv", "npy", "edf", "bdf", "wfdb-multisegment", "mat", "brainvision", 5])}
        source |= {k: rng.choice(HOSTILE) for k in KEYS if rng.random() < 0.4}
        signal = Signal(x if digital else x / 7.0, 100.0, [rng.choice(["a", "b;c", "t", "x,y"]) for _ in range(c)],
                        ["mV"] * c, adc_gain=rng.choice([None, [10.0] * c, [100.0] * c, [0.0] * c]),
                        baseline=rng.choice([None, [0] * c, [1] * c]), source=source)
        _write_all(signal, tmp_path, f"rec{case}")


#: the random CSV texts' seeds: three in the suite; ``CSV_SEEDS=100:1100`` runs those instead (how the round trips
#: that lost a column or a row, tests/test_io.py, and the time columns that warned were found)
CSV_SEEDS = range(*map(int, os.environ.get("CSV_SEEDS", "0:3").split(":")))


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("seed", CSV_SEEDS)
def test_any_csv_text_reads_or_is_refused_in_one_error_and_what_reads_round_trips(tmp_path, seed):
    """Random CSV texts (commas, semicolons with decimal commas, tabs; header and units rows; clock times; hostile
    numbers; '#' preambles, quoted values, rows closed by a delimiter; a byte-order mark, CRLF line ends, no line end
    after the last row): read_signal returns or raises a
    SancodecError; what it returns codes losslessly or is refused so, and decodes to a CSV that reads back as the
    same values."""
    import sancodec

    rng = random.Random(seed)
    read = 0
    for _ in range(120):
        text = random_csv_text(rng)
        (tmp_path / "f.csv").write_bytes(text)
        try:
            signal = read_signal(tmp_path / "f.csv", fs=100.0 if rng.random() < 0.5 else None)
            back = sancodec.decode(sancodec.encode(signal))
        except SancodecError:
            continue
        write_signal(back, tmp_path / "o.csv")
        again = read_signal(tmp_path / "o.csv", fs=signal.fs)
        assert np.array_equal(again.samples.astype(float), signal.samples.astype(float)), (text, again.samples)
        read += 1
    assert read > 12  # most texts are numbers: the round trip is exercised, not just the refusals
