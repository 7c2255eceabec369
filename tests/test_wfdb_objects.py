"""wfdb-python's objects in memory, both ways: ``Signal.from_wfdb`` (and ``sancodec.encode`` of a ``wfdb.Record``)
gives what ``sancodec.read_signal`` reads from the files, physical samples only where they give back the very digital
ones; ``Signal.to_wfdb`` gives what ``wfdb.rdrecord`` reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb

import sancodec

DATA = Path(__file__).parent / "data"
SAMPLES = Path(sancodec.__path__[0]) / "data" / "samples"
RECORDS = [SAMPLES / "100", SAMPLES / "multisegment" / "ms100", DATA / "binformats", DATA / "1001",
           DATA / "a103l_20000", DATA / "3000003_0003", DATA / "s0010_re_i", DATA / "flac_3_constant"]
FIELDS = ("fmt", "adc_gain", "baseline", "units", "channel_names", "fs", "base_time", "base_date")


@pytest.mark.parametrize("base", RECORDS, ids=lambda p: p.name)
@pytest.mark.parametrize("physical", [False, True])
def test_a_record_read_by_wfdb_is_the_signal_read_from_its_files(base, physical):
    """Digital samples (``physical=False``) as they are, physical ones (rdrecord's default: a joined multi-segment
    record's gaps NaN) back to the same digital values; the header's fields as the files give them."""
    read = sancodec.read_signal(base)
    signal = sancodec.Signal.from_wfdb(wfdb.rdrecord(str(base), physical=physical))
    assert np.array_equal(signal.samples, read.samples)
    for field in FIELDS:
        assert getattr(signal, field) == getattr(read, field), field
    if not read.source or "segments" not in read.source:  # (a joined record is one record: no segment map)
        assert signal.header_dict() | {"annotations": []} == read.header_dict() | {"annotations": []}


def test_annotations_and_encode_take_wfdb_objects():
    base = str(SAMPLES / "100")
    record, atr = wfdb.rdrecord(base), wfdb.rdann(base, "atr")
    read = sancodec.read_signal(base)
    signal = sancodec.Signal.from_wfdb(record, atr)
    got, want = signal.annotations[0], read.annotations[0]
    assert got.extension == "atr" and np.array_equal(got.sample, want.sample) and got.symbol == want.symbol
    assert got.aux_note == want.aux_note and np.array_equal(got.subtype, want.subtype)
    assert sancodec.Signal.from_wfdb(record, [atr, atr]).annotations[1].symbol == want.symbol
    assert sancodec.encode(record, mode="lossy", prdn=5, effort="fast") == \
        sancodec.encode(sancodec.Signal.from_wfdb(record), mode="lossy", prdn=5, effort="fast")
    assert sancodec.encode(record, fs=360) == sancodec.encode(sancodec.Signal.from_wfdb(record))
    with pytest.raises(sancodec.SanConfigError, match="own rate"):
        sancodec.encode(record, fs=250)


def _off_grid() -> wfdb.Record:
    record = wfdb.rdrecord(str(SAMPLES / "100"), sampto=1000)
    record.p_signal[5, 1] += 0.001
    return record


def _shapeless() -> wfdb.Record:
    record = wfdb.rdrecord(str(SAMPLES / "100"), sampto=1000, physical=False)
    record.d_signal = record.d_signal[:, :1]
    return record


def _floats() -> wfdb.Record:
    record = wfdb.rdrecord(str(SAMPLES / "100"), sampto=1000, physical=False)
    record.d_signal = record.d_signal.astype(np.float64)
    return record


@pytest.mark.parametrize("make, message", [
    (lambda: wfdb.rdrecord(str(SAMPLES / "multisegment" / "ms100"), m2s=False), "m2s=True"),
    (lambda: wfdb.rdrecord(str(DATA / "03700181_2000f")), "multi-frequency"),
    (_off_grid, "row 5 of channel 1 .* not on the record's digital grid"),
    (lambda: wfdb.rdheader(str(SAMPLES / "100")), "holds no samples"),
    (lambda: wfdb.Record(p_signal=np.zeros((10, 1)), fs=100, sig_name=["x"], units=["mV"], n_sig=1), "adc_gain"),
    (_shapeless, r"shape \(1000, 1\)"),
    (_floats, "float64 values"),
    (lambda: np.zeros(3), "wfdb.Record, not a ndarray"),
])
def test_what_is_no_digital_record_is_refused_in_one_line(make, message):
    with pytest.raises(sancodec.SanConfigError, match=message):
        sancodec.Signal.from_wfdb(make())


@pytest.mark.parametrize("base", [SAMPLES / "100", SAMPLES / "multisegment" / "ms100", DATA / "a103l_20000"],
                         ids=lambda p: p.name)
def test_a_decoded_signal_is_the_record_wfdb_reads(base, tmp_path):
    """``to_wfdb`` of a decoded file: rdrecord's ``d_signal`` and ``p_signal`` (invalid samples NaN) and header
    fields; wfdb's ``wrsamp`` writes it, and it reads back the same."""
    decoded = sancodec.decode(sancodec.encode(sancodec.read_signal(base)))
    record = decoded.to_wfdb()
    digital, physical = wfdb.rdrecord(str(base), physical=False), wfdb.rdrecord(str(base))
    assert np.array_equal(record.d_signal, digital.d_signal)
    assert np.array_equal(record.p_signal, physical.p_signal, equal_nan=True)
    for field in ("fmt", "adc_gain", "baseline", "units", "sig_name", "fs", "sig_len", "n_sig"):
        assert getattr(record, field) == getattr(digital, field), field
    record.wrsamp(write_dir=str(tmp_path))
    back = wfdb.rdrecord(str(tmp_path / record.record_name), physical=False)
    assert np.array_equal(back.d_signal, digital.d_signal) and back.checksum == [int(v) for v in record.checksum]


def test_floats_and_several_rates_as_wfdb_records():
    x = np.linspace(-1, 1, 500)[:, None]
    record = sancodec.Signal(x, fs=250.0, channel_names=["x"], units=["mV"]).to_wfdb()
    assert record.d_signal is None and np.array_equal(record.p_signal, x) and record.units == ["mV"]
    with pytest.raises(sancodec.SanConfigError, match="multi-frequency"):
        sancodec.read_signal(DATA / "03700181_2000f").to_wfdb()


@pytest.mark.parametrize("base", [SAMPLES / "multisegment" / "ms100", DATA / "3000003_0003", SAMPLES / "100"],
                         ids=lambda p: p.name)
def test_physical_values_are_rdrecords(base):
    """``Signal.physical()`` is ``rdrecord``'s ``p_signal``: a joined multi-segment record's gaps and a record's
    invalid samples NaN (they were their format's invalid value scaled: -15.36 mV for format 212's -2048 at ms100's
    gain and baseline)."""
    want = wfdb.rdrecord(str(base)).p_signal
    got = sancodec.read_signal(base).physical()
    assert np.array_equal(got, want, equal_nan=True)
