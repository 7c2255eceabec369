"""EDF and BDF written a block of data records at a time (``io.edf_records``): the same bytes as edfio's own write,
for every layout the writer makes, without edfio's write and without the recording held as edfio's arrays."""

from __future__ import annotations

import datetime

import edfio
import numpy as np
import pytest

import sancodec
from sancodec.io import edf_records


def _edf_plus(path, n_records: int, kind: str = "edf") -> None:
    t = np.arange(256 * n_records)
    signal, edf_class = (edfio.BdfSignal, edfio.Bdf) if kind == "bdf" else (edfio.EdfSignal, edfio.Edf)
    eeg = signal(np.sin(t / 10) * 100 + np.cos(t / 3) * 20, 256, label="EEG Fpz-Cz", physical_dimension="uV",
                 physical_range=(-200, 200))
    temp = signal(np.cos(np.arange(n_records) / 3) * 3 + 36, 1, label="Temp rectal", physical_dimension="degC",
                  physical_range=(30, 40))
    resp = signal(np.sin(np.arange(32 * n_records) / 7), 32, label="Resp", physical_range=(-1, 1))
    edf = edf_class([eeg, temp, resp], starttime=datetime.time(22, 1, 0), data_record_duration=1,
                    annotations=[edfio.EdfAnnotation(0.5, None, "Lights off"),
                                 edfio.EdfAnnotation(3.25, 1.5, "Arousal")])
    edf.write(path)


def _by_edfio(monkeypatch) -> None:
    """The writer's fallback: edfio's own write of the whole file (as where edfio names its fields otherwise)."""
    def renamed(*args, **kwargs):
        raise AttributeError("no such field")

    monkeypatch.setattr(edf_records, "_header", renamed)


@pytest.mark.parametrize("kind", ["edf", "bdf"])
@pytest.mark.parametrize("cut", [None, 3 * 256 + 100])  # whole records; one ending inside a record (filled out)
@pytest.mark.parametrize("block_bytes", [1, 5000, edf_records.BLOCK_BYTES])  # a record a block, a few, all
def test_the_records_written_a_block_at_a_time_are_edfios_own_bytes(tmp_path, monkeypatch, kind, cut, block_bytes):
    _edf_plus(tmp_path / f"psg.{kind}", 10, kind)
    signal = sancodec.read_signal(tmp_path / f"psg.{kind}")
    if cut is not None:
        signal = signal.slice(0, cut)
    monkeypatch.setattr(edf_records, "BLOCK_BYTES", block_bytes)
    sancodec.write_signal(signal, tmp_path / f"blocks.{kind}")
    with monkeypatch.context() as m:
        _by_edfio(m)
        sancodec.write_signal(signal, tmp_path / f"whole.{kind}")
    streamed, whole = (tmp_path / f"blocks.{kind}").read_bytes(), (tmp_path / f"whole.{kind}").read_bytes()
    assert streamed == whole
    if cut is None:  # an EDF read and written again: the file it came from
        assert streamed == (tmp_path / f"psg.{kind}").read_bytes()
    back = sancodec.read_signal(tmp_path / f"blocks.{kind}")
    assert np.array_equal(back.samples[: signal.n_samples], signal.samples)


def test_a_wfdb_record_and_a_lossy_decode_are_written_as_edfio_writes_them(tmp_path, monkeypatch, mitdb_100):
    """A WFDB source (default fields, beat labels as annotations, a last record filled out) and a lossy decode of it
    (values past the source's ranges widened, as ``range_patches`` does)."""
    record = sancodec.read_signal(mitdb_100).slice(0, 5000)
    lossy = sancodec.decode(sancodec.encode(record, mode="lossy", prdn=9.0))
    for name, signal in (("wfdb", record), ("lossy", lossy)):
        monkeypatch.setattr(edf_records, "BLOCK_BYTES", 3000)
        sancodec.write_signal(signal, tmp_path / f"{name}.edf")
        with monkeypatch.context() as m:
            _by_edfio(m)
            sancodec.write_signal(signal, tmp_path / f"{name}_whole.edf")
        assert (tmp_path / f"{name}.edf").read_bytes() == (tmp_path / f"{name}_whole.edf").read_bytes()


def test_edfios_write_is_not_called_and_its_signals_hold_no_samples(tmp_path, monkeypatch):
    """edfio makes the header only: its ``write``, which builds the whole file in memory, is never called, and the
    signals it is given hold one value each, whatever the recording's length."""
    _edf_plus(tmp_path / "psg.edf", 10)
    signal = sancodec.read_signal(tmp_path / "psg.edf")
    given = []
    real = edfio.EdfSignal.from_digital.__func__

    def spied(cls, digital, *args, **kwargs):
        given.append(digital)
        return real(cls, digital, *args, **kwargs)

    def refused(*args, **kwargs):
        raise AssertionError("edfio's write was called")

    monkeypatch.setattr(edfio.EdfSignal, "from_digital", classmethod(spied))
    monkeypatch.setattr(edfio.Edf, "write", refused)
    sancodec.write_signal(signal, tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes() == (tmp_path / "psg.edf").read_bytes()
    assert [len(d) for d in given] == [2560, 10, 320]
    assert all(d.strides == (0,) for d in given)  # a broadcast value: no memory of the recording's size


def test_the_fallback_writes_the_same_file_through_edfio(tmp_path, monkeypatch):
    """Where edfio names its header fields otherwise, the samples are put in place and edfio writes the file."""
    _edf_plus(tmp_path / "psg.bdf", 4, "bdf")
    _by_edfio(monkeypatch)
    signal = sancodec.read_signal(tmp_path / "psg.bdf")
    sancodec.write_signal(signal, tmp_path / "back.bdf")
    assert (tmp_path / "back.bdf").read_bytes() == (tmp_path / "psg.bdf").read_bytes()
