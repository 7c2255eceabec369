"""EDF, EDF+ and BDF in and out: digital samples, rates, ranges, transducer, prefilter, patient and
recording lines, start, EDF+ annotations; files written by the tests themselves."""

from __future__ import annotations

import datetime
import json
import warnings
from pathlib import Path

import edfio
import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.codec.container import SanReader
from sancodec.io.edf import clip_to_source_ranges
from sancodec.metrics import prdn


def _edf_plus(path, n_records: int = 10) -> None:
    t = np.arange(256 * n_records)
    eeg = edfio.EdfSignal(np.sin(t / 10) * 100 + np.cos(t / 3) * 20, 256, label="EEG Fpz-Cz",
                          transducer_type="AgAgCl electrode", physical_dimension="uV", physical_range=(-200, 200),
                          prefiltering="HP:0.1Hz LP:75Hz")
    temp = edfio.EdfSignal(np.cos(np.arange(n_records) / 3) * 3 + 36, 1, label="Temp rectal",
                           physical_dimension="degC", physical_range=(30, 40))
    edf = edfio.Edf(
        [eeg, temp],
        patient=edfio.Patient(code="MCH-0234567", sex="F", birthdate=datetime.date(1951, 5, 2), name="Haagse_Harry"),
        recording=edfio.Recording(startdate=datetime.date(2002, 3, 2), hospital_administration_code="EMG561",
                                  investigator_technician_code="BK/JOP", equipment_code="Sony"),
        starttime=datetime.time(14, 21, 0), data_record_duration=1,
        annotations=[edfio.EdfAnnotation(0.5, None, "Lights off"), edfio.EdfAnnotation(3.25, 1.5, "Arousal")])
    edf.write(path)


def _same_file(a, b) -> None:
    assert a.local_patient_identification == b.local_patient_identification
    assert a.local_recording_identification == b.local_recording_identification
    assert (a._startdate, a.starttime, a.data_record_duration) == (b._startdate, b.starttime, b.data_record_duration)
    assert a.annotations == b.annotations
    assert len(a.signals) == len(b.signals)
    for x, y in zip(a.signals, b.signals):
        assert np.array_equal(x.digital, y.digital)
        for field in ("label", "transducer_type", "physical_dimension", "prefiltering", "sampling_frequency",
                      "physical_range", "digital_range"):
            assert getattr(x, field) == getattr(y, field), field


def test_an_edf_plus_file_round_trips_through_a_san_with_every_field(tmp_path):
    _edf_plus(tmp_path / "psg.edf")
    signal = sancodec.read_signal(tmp_path / "psg.edf")
    assert signal.samples_per_frame == [256, 1] and signal.fs == 256.0 and signal.fmt == ["16", "16"]
    back = sancodec.decode(sancodec.encode(signal))
    assert np.array_equal(back.samples, signal.samples) and back.source == signal.source
    sancodec.write_signal(back, tmp_path / "back.edf")
    _same_file(edfio.read_edf(tmp_path / "back.edf"), edfio.read_edf(tmp_path / "psg.edf"))


def test_a_bdf_file_keeps_its_24_bit_samples(tmp_path):
    x = np.linspace(-1000, 1000, 4000)  # the full 24-bit range once digitised
    bdf = edfio.Bdf([edfio.BdfSignal(x, 400, label="EMG", physical_dimension="uV", physical_range=(-1000, 1000),
                                     digital_range=(-8388608, 8388607))], data_record_duration=1)
    bdf.write(tmp_path / "emg.bdf")
    signal = sancodec.read_signal(tmp_path / "emg.bdf")
    assert signal.fmt == ["24"] and signal.samples.max() == 8388607 and signal.samples.min() == -8388608
    back = sancodec.decode(sancodec.encode(signal))
    sancodec.write_signal(back, tmp_path / "back.bdf")
    _same_file(edfio.read_bdf(tmp_path / "back.bdf"), edfio.read_bdf(tmp_path / "emg.bdf"))


def test_a_bdf_file_of_16_bit_samples_decodes_to_edf_in_edfs_own_range(tmp_path):
    """A BDF's channel whose samples fit 16 bits, written as EDF: its 24-bit digital range does not fit EDF's, so the
    EDF takes a range made from its gain and baseline (the label, dimension and filter kept) and reads back the same
    samples; this failed with an OverflowError. A channel past 16 bits is refused, naming BDF."""
    x = np.sin(np.arange(2000) / 7) * 2.5  # mV: within 16 bits at the BDF's step of 10^-4 mV
    bdf = edfio.Bdf([edfio.BdfSignal(x, 500, label="ECG II", physical_dimension="mV",
                                     physical_range=(-838.8608, 838.8607),
                                     prefiltering="HP:0.5Hz", digital_range=(-8388608, 8388607))],
                    data_record_duration=1)
    bdf.write(tmp_path / "ecg.bdf")
    signal = sancodec.read_signal(tmp_path / "ecg.bdf")
    assert int(np.abs(signal.samples).max()) < 2**15 - 1
    (tmp_path / "ecg.san").write_bytes(sancodec.encode(signal))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "ecg.san"), "-o", str(tmp_path / "ecg.edf"), "-q"])
    assert res.exit_code == 0, res.output
    written = edfio.read_edf(tmp_path / "ecg.edf").signals[0]
    assert written.digital_range.min >= -32768 and written.digital_range.max <= 32767
    assert (written.label, written.physical_dimension, written.prefiltering) == ("ECG II", "mV", "HP:0.5Hz")
    back = sancodec.read_signal(tmp_path / "ecg.edf")  # its samples, and their values to within EDF's eight
    assert np.array_equal(back.samples, signal.samples)  # characters of range (a tenth of a step)
    assert np.allclose(back.physical(), signal.physical(), rtol=0, atol=1e-5)
    wide = sancodec.Signal(signal.samples * 8, signal.fs, signal.channel_names, signal.units, adc_gain=signal.adc_gain,
                           baseline=signal.baseline, fmt=signal.fmt, source=signal.source)
    with pytest.raises(sancodec.SanConfigError, match="BDF holds 24 bits: write .bdf"):
        sancodec.write_signal(wide, tmp_path / "wide.edf")


@pytest.mark.parametrize("suffix", [".bdf", ".edf"])
def test_floats_on_a_coarse_grid_decode_to_edf_and_bdf_within_eight_characters(tmp_path, suffix):
    """A near-lossless decode of floats on a grid of 4 (max error 2), written as BDF: the full 24-bit range's ends,
    -33554432 and 33554428, take nine characters, which failed ("exceeds maximum field length"); ends found from the
    samples' extremes hold them exactly. EDF's full range still fits, and is kept."""
    x = np.round(np.sin(np.arange(3000) / 9) * 150, 2)
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "250", "--mode", "near-lossless",
                              "--max-error", "2", "-q"])
    assert res.exit_code == 0, res.output
    assert SanReader((tmp_path / "x.san").read_bytes()).header["quantum"] == [4.0]
    res = runner.invoke(app, ["decode", str(tmp_path / "x.san"), "-o", str(tmp_path / f"x{suffix}"), "-q"])
    assert res.exit_code == 0, res.output
    decoded = sancodec.decode((tmp_path / "x.san").read_bytes()).samples[:, 0]
    back = sancodec.read_signal(tmp_path / f"x{suffix}").physical()[:3000, 0]
    assert np.array_equal(back, decoded) and np.abs(back - x).max() <= 2
    written = (edfio.read_bdf if suffix == ".bdf" else edfio.read_edf)(tmp_path / f"x{suffix}").signals[0]
    assert (written.digital_range.max - written.digital_range.min < 100) == (suffix == ".bdf")


def test_report_compares_a_bdf_with_tools_given_its_three_bytes_a_sample(tmp_path):
    x = np.cumsum(np.random.default_rng(2).normal(size=8000)) * 30
    bdf = edfio.Bdf([edfio.BdfSignal(x, 400, label="EEG", physical_dimension="uV",
                                     physical_range=(float(x.min()), float(x.max())),
                                     digital_range=(-8388608, 8388607))], data_record_duration=1)
    bdf.write(tmp_path / "eeg.bdf")
    res = CliRunner().invoke(app, ["report", str(tmp_path / "eeg.bdf"), "--json"])
    assert res.exit_code == 0, res.output
    sizes = json.loads(res.stdout)["baselines"]
    assert next(iter(sizes)) == "raw 24-bit" and sizes["raw 24-bit"] == 8000 * 3
    assert sizes["FLAC -8"] is not None and sizes["FLAC -8"] < sizes["raw 24-bit"]
    res = CliRunner().invoke(app, ["report", str(tmp_path / "eeg.bdf")])
    assert res.exit_code == 0 and "CR vs raw" in res.stdout and "raw 24-bit" in res.stdout


def test_the_cli_encodes_edf_and_decodes_back_to_edf(tmp_path):
    _edf_plus(tmp_path / "psg.edf")
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "psg.edf"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    _same_file(edfio.read_edf(tmp_path / "out.edf"), edfio.read_edf(tmp_path / "psg.edf"))
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "--format", "wfdb", "-o", str(tmp_path / "rec"),
                              "-q"])
    assert res.exit_code == 0 and np.array_equal(sancodec.read_signal(tmp_path / "rec").samples,
                                                 sancodec.read_signal(tmp_path / "psg.edf").samples)


def test_a_wfdb_record_is_written_as_edf_with_fields_of_its_own(tmp_path, mitdb_100):
    signal = sancodec.read_signal(mitdb_100).slice(0, 36000)
    sancodec.write_signal(signal, tmp_path / "ecg.edf")
    back = sancodec.read_signal(tmp_path / "ecg.edf")
    assert np.array_equal(back.samples, signal.samples)
    assert back.channel_names == signal.channel_names and back.units == signal.units and back.fs == signal.fs


def test_slicing_keeps_the_annotations_inside_and_moves_them(tmp_path):
    _edf_plus(tmp_path / "psg.edf")
    signal = sancodec.read_signal(tmp_path / "psg.edf").slice(256, 256 * 5)
    assert signal.source["annotations"] == [[2.25, 1.5, "Arousal"]]


def test_a_broken_edf_is_one_format_error(tmp_path):
    (tmp_path / "bad.edf").write_bytes(b"0       " + b"x" * 300)
    with pytest.raises(sancodec.SanFormatError, match="bad.edf"):
        sancodec.read_signal(tmp_path / "bad.edf")


def test_a_file_cut_short_is_refused_as_truncated_and_its_whole_form_and_trailing_bytes_read(tmp_path):
    """edfio reads a file cut inside its data records as far as it goes, with a warning (a truncated recording
    was encoded as if whole, and said so only in a UserWarning); inside its header it failed with an IndexError's
    words. Bytes past the last data record are no record's and are still read past, as before."""
    _edf_plus(tmp_path / "whole.edf")
    raw = (tmp_path / "whole.edf").read_bytes()
    header = int(raw[184:192])
    for cut, message in ((100, "100 bytes, shorter than the 256-byte header"),
                         (header - 1, f"declares {header} header bytes, the file holds {header - 1} bytes"),
                         (len(raw) - 1, "declares 10 data records, the file holds 9 whole ones"),
                         (header + 10, "declares 10 data records, the file holds 0 whole ones")):
        (tmp_path / "cut.edf").write_bytes(raw[:cut])
        with pytest.raises(sancodec.SanFormatError, match="cut.edf: truncated: .*" + message):
            sancodec.read_signal(tmp_path / "cut.edf")
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "cut.edf"), "-o", str(tmp_path / "cut.san")])
    assert res.exit_code == 1 and "truncated" in res.stderr and not (tmp_path / "cut.san").exists()
    (tmp_path / "longer.edf").write_bytes(raw + b"xyz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing said of them either
        longer = sancodec.read_signal(tmp_path / "longer.edf")
    assert np.array_equal(longer.samples, sancodec.read_signal(tmp_path / "whole.edf").samples)


def test_a_count_other_than_the_file_holds_reads_without_a_warning_or_the_process_warnings(tmp_path, monkeypatch):
    """A file declaring -1 data records (a recording in progress), fewer than it holds, or holding bytes past its
    last whole record, is read as the whole records it holds, and edfio is not left to warn of it: those warnings
    were caught under ``warnings.catch_warnings``, whose state is the process's (on a worker reading files on
    several threads, another thread's warnings were taken, and its catching put back wrong). The reader no longer
    touches that state: a truncated file is refused from its header and size, in EDF and BDF."""
    import warnings as warnings_module

    from sancodec.io import edf

    def touched(*args, **kwargs):
        raise AssertionError("read_edf touched the process's warnings state")

    _edf_plus(tmp_path / "whole.edf")
    raw = (tmp_path / "whole.edf").read_bytes()
    header, records = int(raw[184:192]), int(raw[236:244])
    record = (len(raw) - header) // records
    whole = sancodec.read_signal(tmp_path / "whole.edf").samples
    warnings_module.simplefilter("error")  # (pytest puts the filters back after the test): edfio says nothing
    monkeypatch.setattr(warnings_module, "catch_warnings", touched)
    for name, data in (("progress", raw[:236] + b"-1      " + raw[244:]),
                       ("fewer", raw[:236] + f"{records - 2:<8d}".encode() + raw[244:]),
                       ("tail", raw + b"xyz"),
                       ("both", raw[:236] + b"-1      " + raw[244:] + raw[header:header + record // 2])):
        (tmp_path / f"{name}.edf").write_bytes(data)
        assert np.array_equal(edf.read_edf(tmp_path / f"{name}.edf").samples, whole), name
    (tmp_path / "cut.edf").write_bytes(raw[:-1])
    with pytest.raises(sancodec.SanFormatError, match=f"cut.edf: truncated: .*{records} data records, .* "
                                                      f"{records - 1} whole"):
        edf.read_edf(tmp_path / "cut.edf")
    x = np.arange(3000, dtype=np.int64).reshape(-1, 1) % 700 - 350
    sancodec.write_signal(sancodec.Signal(x, 100.0, ["a"], ["uV"]), tmp_path / "w.bdf")
    raw = (tmp_path / "w.bdf").read_bytes()
    records = int(raw[236:244])
    (tmp_path / "cut.bdf").write_bytes(raw[:-3])
    with pytest.raises(sancodec.SanFormatError, match=f"truncated: .*{records} data records, .* {records - 1} whole"):
        edf.read_edf(tmp_path / "cut.bdf")


@pytest.mark.parametrize(("field", "value"), [(104, b"2nan.948"), (120, b"-327+8  ")])  # physical, digital minimum
def test_a_garbled_signal_field_is_one_format_error(tmp_path, field, value):
    """edfio parses a signal's fields when first read, after the file opened: a ValueError from there used to
    escape the reader (tests/fuzz_headers.py)."""
    _edf_plus(tmp_path / "ok.edf")
    data = bytearray((tmp_path / "ok.edf").read_bytes())
    ns = int(data[252:256])
    at = 256 + field * ns  # the first signal's: each field holds every signal's (16 + 80 + 8 bytes of them before)
    data[at : at + len(value)] = value
    (tmp_path / "bad.edf").write_bytes(bytes(data))
    with pytest.raises(sancodec.SanFormatError, match="bad.edf: unreadable EDF file"):
        sancodec.read_signal(tmp_path / "bad.edf")


@pytest.mark.parametrize("source", [
    {"kind": "edf", "signals": "x", "annotations": [[1, 2], ["a", None, "t"], 5], "patient": 7,
     "data_record_duration": "1"},
    {"kind": "edf", "signals": [{"label": 3}], "annotations": "none"},
    {"kind": "nope"}, [], None,
])
def test_a_hostile_source_entry_falls_back_to_defaults(tmp_path, source, mitdb_100):
    from common import rewrap

    signal = sancodec.read_signal(mitdb_100).slice(0, 3600)
    data = sancodec.encode(signal)
    header = sancodec.codec.container.SanReader(data).header
    header["signal"]["source"] = source
    back = sancodec.decode(rewrap(data, header=header))
    sancodec.write_signal(back, tmp_path / "x.edf")
    assert np.array_equal(sancodec.read_signal(tmp_path / "x.edf").samples, signal.samples)


def test_info_counts_an_edf_sources_annotations(tmp_path, mitdb_100):
    _edf_plus(tmp_path / "psg.edf")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "psg.edf"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["info", str(tmp_path / "psg.san")])
    assert res.exit_code == 0 and "EDF+: 2" in res.output  # it said none
    assert runner.invoke(app, ["encode", str(mitdb_100), "-o", str(tmp_path / "ecg.san"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["info", str(tmp_path / "ecg.san")])
    assert res.exit_code == 0 and "atr: 2274" in res.output and "EDF+" not in res.output


def test_the_cli_never_writes_over_an_existing_edf_without_force(tmp_path):
    _edf_plus(tmp_path / "psg.edf")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "psg.edf"), "-q"]).exit_code == 0
    (tmp_path / "out.edf").write_bytes(b"keep me")
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code != 0 and "--force" in res.output
    assert (tmp_path / "out.edf").read_bytes() == b"keep me"
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "-o", str(tmp_path / "out"), "-q", "--force"])
    assert res.exit_code == 0 and (tmp_path / "out.edf").read_bytes() != b"keep me"


def test_a_record_that_ends_inside_a_data_record_is_filled_out_with_its_last_values_and_annotated(tmp_path, mitdb_100):
    """EDF holds whole data records: 3700 samples at 360 Hz end 0.72 s into the 11th second, which the writer fills
    with each channel's last value (not zeros) and marks with MNE's annotation for padding."""
    from sancodec.io.edf import SKIP_NOTE, edf_padding

    signal = sancodec.read_signal(mitdb_100).slice(0, 3700)
    assert edf_padding(signal) == 11 * 360 - 3700
    sancodec.write_signal(signal, tmp_path / "ecg.edf")
    back = sancodec.read_signal(tmp_path / "ecg.edf")
    assert back.n_samples == 11 * 360 and np.array_equal(back.samples[:3700], signal.samples)
    assert np.array_equal(back.samples[3700:], np.repeat(signal.samples[-1:], 260, axis=0))
    *beats, (onset, duration, text) = back.source["annotations"]  # the beat labels (.atr), then the padding
    assert len(beats) == len(signal.annotations[0]) and SKIP_NOTE not in {t for _, _, t in beats}
    assert text == SKIP_NOTE and onset == pytest.approx(3700 / 360) and duration == pytest.approx(260 / 360)
    assert edf_padding(back) == 0  # written again as it is: nothing more added, the annotation kept
    sancodec.write_signal(back, tmp_path / "again.edf")
    _same_file(edfio.read_edf(tmp_path / "again.edf"), edfio.read_edf(tmp_path / "ecg.edf"))


def test_padding_keeps_a_slow_channel_at_its_own_rate_and_the_source_record_duration(tmp_path):
    """Two-second records of a 256 Hz and a 1 Hz signal, cut after 3 s: one more second of each, the slow channel's
    one sample repeated at its rate, the records still two seconds long and the annotations inside kept."""
    _edf_plus(tmp_path / "psg.edf")
    edf = edfio.read_edf(tmp_path / "psg.edf")
    edf.update_data_record_duration(2)
    edf.write(tmp_path / "two.edf")
    signal = sancodec.read_signal(tmp_path / "two.edf").slice(0, 3 * 256)
    sancodec.write_signal(signal, tmp_path / "cut.edf")
    written = edfio.read_edf(tmp_path / "cut.edf")
    assert written.data_record_duration == 2 and written.num_data_records == 2
    eeg, temp = written.signals
    assert np.array_equal(eeg.digital[:768], signal.samples[:, 0]) and np.all(eeg.digital[768:] == eeg.digital[767])
    assert list(temp.digital) == [*signal.samples[::256, 1], signal.samples[-1, 1]]
    assert [(a.onset, a.duration, a.text) for a in written.annotations] == [
        (0.5, None, "Lights off"), (3.0, 1.0, "BAD_ACQ_SKIP")]


def test_a_record_duration_that_holds_no_whole_sample_is_one_config_error(tmp_path, mitdb_100):
    from common import rewrap

    data = sancodec.encode(sancodec.read_signal(mitdb_100).slice(0, 3600))
    header = sancodec.codec.container.SanReader(data).header
    header["signal"]["source"] = {"kind": "edf", "data_record_duration": 0.0013}
    back = sancodec.decode(rewrap(data, header=header))
    with pytest.raises(sancodec.SanConfigError, match="holds no whole number of samples"):
        sancodec.write_signal(back, tmp_path / "x.edf")
    assert list(tmp_path.iterdir()) == []


def test_a_rate_no_data_record_holds_is_named_to_its_digits(tmp_path):
    """A rate just off a whole number (a CSV's span read 360.0001 Hz) was named "360 Hz" in the refusal, a rate
    EDF holds: the message names it as it is."""
    with pytest.raises(sancodec.SanConfigError, match=r"a sampling rate of 360\.000101 Hz fits no EDF data record"):
        sancodec.write_signal(sancodec.Signal(np.zeros((100, 1), np.int16), fs=360.000101), tmp_path / "x.edf")


def test_the_cli_says_how_much_it_filled_out_a_last_data_record(tmp_path, mitdb_100):
    sancodec.write_signal(sancodec.read_signal(mitdb_100).slice(0, 3700), tmp_path / "ecg.npy")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "ecg.npy"), "--fs", "360", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "ecg.san"), "-o", str(tmp_path / "a.edf")])
    assert res.exit_code == 0, res.output
    assert "260 samples (0.7222 s)" in " ".join(res.output.split()) and "BAD_ACQ_SKIP" in res.output
    assert "annotation" not in res.output.replace("annotated", "")  # an .npy source has no WFDB labels
    res = runner.invoke(app, ["decode", str(tmp_path / "ecg.san"), "-o", str(tmp_path / "b.bdf"), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["padded_samples"] == 260
    res = runner.invoke(app, ["decode", str(tmp_path / "ecg.san"), "-o", str(tmp_path / "c.edf"), "--json",
                              "--end", "3600"])
    assert res.exit_code == 0 and json.loads(res.stdout)["padded_samples"] == 0


def test_a_wfdb_records_beat_labels_become_edf_plus_annotations(tmp_path, mitdb_100):
    """mitdb 100's .atr over its first ten seconds: each label an EDF+ annotation at its sample's time, its text the
    symbol and, for a rhythm change, the note; written out they read back as the EDF source's own annotations."""
    signal = sancodec.read_signal(mitdb_100).slice(0, 3600)
    [atr] = signal.annotations
    sancodec.write_signal(signal, tmp_path / "ecg.edf")
    back = edfio.read_edf(tmp_path / "ecg.edf").annotations
    assert [round(a.onset * 360) for a in back] == atr.sample.tolist() and all(a.duration is None for a in back)
    assert atr.symbol[0] == "+" and atr.aux_note[0] == "(N\x00" and set(atr.symbol[1:]) == {"N", "A"}  # (as wfdb
    # reads it: a rhythm change to normal, then normal and atrial premature beats)
    assert [a.text for a in back] == ["+ (N", *atr.symbol[1:]]  # the note's NUL, an EDF+ separator, left out
    source = sancodec.read_signal(tmp_path / "ecg.edf")
    assert not source.annotations and len(source.source["annotations"]) == len(atr)


def test_several_annotation_files_are_told_apart_and_control_characters_kept_out(tmp_path, mitdb_100):
    from dataclasses import replace

    from sancodec.io.edf import wfdb_annotations_as_edf

    signal = sancodec.read_signal(mitdb_100).slice(0, 720)
    [atr] = signal.annotations
    odd = replace(atr.slice(0, 720), extension="qrs", aux_note=["a\x14b\x00"] * len(atr))
    signal.annotations = [atr, odd]
    texts = [t for _, _, t in wfdb_annotations_as_edf(signal)]
    assert atr.symbol == ["+", "N", "N", "N"]
    assert texts == ["atr: + (N", "atr: N", "atr: N", "atr: N", "qrs: + a b", "qrs: N a b", "qrs: N a b", "qrs: N a b"]
    sancodec.write_signal(signal, tmp_path / "two.edf")
    assert [a.text for a in edfio.read_edf(tmp_path / "two.edf").annotations] == [  # by onset, the files' in turn
        "atr: + (N", "qrs: + a b", "atr: N", "qrs: N a b", "atr: N", "qrs: N a b", "atr: N", "qrs: N a b"]


def test_the_cli_says_how_many_wfdb_labels_it_wrote_as_edf_annotations(tmp_path, mitdb_100):
    sancodec.write_signal(sancodec.read_signal(mitdb_100).slice(0, 3600), tmp_path / "ecg")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "ecg"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "ecg.san"), "-o", str(tmp_path / "ecg.edf")])
    assert res.exit_code == 0, res.output
    count = len(sancodec.read_signal(tmp_path / "ecg").annotations[0])
    assert f"{count} WFDB annotation(s) (atr) written as EDF+ annotations" in " ".join(res.output.split())
    assert len(edfio.read_edf(tmp_path / "ecg.edf").annotations) == count


def test_an_edf_plus_files_annotations_become_wfdb_notes_and_come_back(tmp_path):
    """psg.edf's two annotations as wfdb-python's rdedfann writes them: comments in an .atr, one that lasts as
    '(Arousal' and 'Arousal)' at its ends; on whole frames (here 1 s: the 1 Hz channel's), the note at 0.5 s a frame
    on (a note at 0 is where WFDB keeps definitions); written on as EDF, the notes alone (no comment symbol)."""
    _edf_plus(tmp_path / "psg.edf")
    sancodec.write_signal(sancodec.read_signal(tmp_path / "psg.edf"), tmp_path / "rec")
    [atr] = sancodec.read_signal(tmp_path / "rec").annotations
    assert atr.extension == "atr" and atr.symbol == ['"'] * 3
    assert atr.sample.tolist() == [256, 768, 1280] and atr.aux_note == ["Lights off", "(Arousal", "Arousal)"]
    sancodec.write_signal(sancodec.read_signal(tmp_path / "rec"), tmp_path / "again.edf")
    assert [(a.onset, a.text) for a in edfio.read_edf(tmp_path / "again.edf").annotations] == [
        (1.0, "Lights off"), (3.0, "(Arousal"), (5.0, "Arousal)")]


def test_edf_notes_a_wfdb_note_cannot_hold_are_made_to_fit(tmp_path):
    from sancodec.io.edf import edf_annotations_as_wfdb

    x = np.cumsum(np.random.default_rng(3).normal(size=1000))
    edfio.Edf([edfio.EdfSignal(x, 100, label="EEG", physical_range=(float(x.min()), float(x.max())))],
              annotations=[edfio.EdfAnnotation(0.0, None, "start"), edfio.EdfAnnotation(2.004, None, "AFIB \u2192 SR"),
                           edfio.EdfAnnotation(5.0, 0.0, "y" * 300), edfio.EdfAnnotation(9.5, 4.0, "late")]
              ).write(tmp_path / "eeg.edf")
    signal = sancodec.read_signal(tmp_path / "eeg.edf")
    [notes] = edf_annotations_as_wfdb(signal)
    assert notes.sample.tolist() == [1, 200, 500, 950]  # 0 a sample on; 'late)', at 13.5 s, past the end: left out
    assert notes.aux_note == ["start", "AFIB ? SR", "y" * 255, "(late"]
    sancodec.write_signal(signal, tmp_path / "rec")
    assert sancodec.read_signal(tmp_path / "rec").annotations[0].equals(notes)
    signal.annotations = sancodec.read_signal(tmp_path / "rec").annotations  # WFDB labels of its own: those kept
    assert edf_annotations_as_wfdb(signal) == []


def test_the_cli_writes_an_edf_sources_annotations_beside_its_wfdb_record(tmp_path):
    _edf_plus(tmp_path / "psg.edf")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "psg.edf"), "-q"]).exit_code == 0
    (tmp_path / "rec.atr").write_bytes(b"keep me")
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "--format", "wfdb", "-o", str(tmp_path / "rec")])
    assert res.exit_code != 0 and "--force" in res.output and (tmp_path / "rec.atr").read_bytes() == b"keep me"
    assert not (tmp_path / "rec.hea").exists()
    res = runner.invoke(app, ["decode", str(tmp_path / "psg.san"), "--format", "wfdb", "-o", str(tmp_path / "rec"),
                              "--force"])
    assert res.exit_code == 0 and "rec.atr" in res.output
    assert sancodec.read_signal(tmp_path / "rec").annotations[0].aux_note[0] == "Lights off"


def test_an_edf_source_goes_to_wfdb_a_block_at_a_time_as_the_whole_record_writer_writes_it(tmp_path, monkeypatch):
    """``decode --format wfdb`` of an EDF's .san held the record whole and wrote it through wfdb-python (1.9 GB of
    memory for 74 MB of EDF, ``benchmarks/bench_edf_memory.py --outputs wfdb``). Now such a file of one rate goes
    through the streamed writer, a block of rows at a time: the same header, signal file and .atr of EDF+ notes
    (one past the end left out) as the whole-record writer makes, lossless and lossy, and the same warning of a
    physical zero a fraction of a step from a digital value."""
    from sancodec.io import wfdb as wfdb_io

    t = np.arange(256 * 12)
    signals = [edfio.EdfSignal(np.sin(t / (9 + k)) * 80 + k, 256, label=f"EEG {k}", physical_dimension="uV",
                               physical_range=(-100.3, 99.1 + k)) for k in range(3)]
    edfio.Edf(signals, starttime=datetime.time(9, 30, 0), data_record_duration=1,
              annotations=[edfio.EdfAnnotation(0.5, None, "Lights off"), edfio.EdfAnnotation(3.25, 1.5, "Arousal"),
                           edfio.EdfAnnotation(11.5, 2.0, "late")]).write(tmp_path / "three.edf")
    runner = CliRunner()
    for mode in ([], ["--mode", "lossy", "--prdn", "2"]):
        san, whole, streamed = (tmp_path / f"{what}{len(mode)}" for what in ("three", "whole", "streamed"))
        res = runner.invoke(app, ["encode", str(tmp_path / "three.edf"), "-o", str(san), "-q", *mode])
        assert res.exit_code == 0, res.output
        with pytest.warns(sancodec.SancodecWarning, match="physical zero") as whole_said:
            sancodec.write_signal(sancodec.decode(san.read_bytes()), whole, format="wfdb")
        with monkeypatch.context() as patched:  # the whole-record writer refuses: only the streamed one can write it
            patched.setattr(wfdb_io, "write_record", lambda *a, **k: pytest.fail("written whole"))
            res = runner.invoke(app, ["decode", str(san), "--format", "wfdb", "-o", str(streamed)])
        assert res.exit_code == 0, res.output
        assert "physical zero" in res.stderr
        assert len([w for w in whole_said if "physical zero" in str(w.message)]) == res.stderr.count("physical zero")
        for suffix in (".hea", ".dat", ".atr"):
            ours = (tmp_path / f"{streamed.name}{suffix}").read_bytes().replace(streamed.name.encode(), b"R")
            assert ours == (tmp_path / f"{whole.name}{suffix}").read_bytes().replace(whole.name.encode(), b"R"), \
                (mode, suffix)
        notes = sancodec.read_signal(streamed).annotations[0]
        assert notes.aux_note == ["Lights off", "(Arousal", "Arousal)", "(late"]
        (tmp_path / f"{streamed.name}.atr").write_bytes(b"keep me")  # an output there: kept without --force
        (tmp_path / f"{streamed.name}.npy").write_bytes(b"keep me too")
        for args in (["--format", "wfdb", "-o", str(streamed)], ["-o", str(tmp_path / f"{streamed.name}.npy")]):
            res = runner.invoke(app, ["decode", str(san), *args])
            assert res.exit_code == 2 and "--force" in res.stderr, res.output
        assert (tmp_path / f"{streamed.name}.atr").read_bytes() == b"keep me"
        assert (tmp_path / f"{streamed.name}.npy").read_bytes() == b"keep me too"


def test_a_wav_or_npy_source_goes_to_wfdb_a_block_at_a_time_where_format_16_holds_it(tmp_path, monkeypatch):
    """A WAV's or an integer .npy's .san decoded to WFDB went through wfdb-python's writer whole (1.6 GB of memory for
    an hour of 8 channels at 1 kHz). Now samples of at most 16 bits go a block at a time in format 16, the header,
    gains 1 and baselines 0 as the whole-record writer gives them, the same files; where a sample is past format
    16's range (-32768, its invalid value), that writer writes the record, in format 32, as before."""
    import soundfile

    from sancodec.io import wfdb as wfdb_io

    rng = np.random.default_rng(8)
    x = np.cumsum(rng.integers(-60, 61, size=(70000, 3)), axis=0).astype(np.int16)
    soundfile.write(tmp_path / "a.wav", x, 500, subtype="PCM_16")
    np.save(tmp_path / "b.npy", (x // 300).astype(np.int8))
    loud = x.copy()
    loud[-5, 1] = -32768  # (past format 16: its invalid value)
    soundfile.write(tmp_path / "loud.wav", loud, 500, subtype="PCM_16")
    runner = CliRunner()
    cases = [("a.wav", [], True), ("a.wav", ["--mode", "lossy", "--prdn", "3"], True), ("b.npy", ["--fs", "500"], True),
             ("loud.wav", [], False)]
    for k, (name, options, streamed_ok) in enumerate(cases):
        san, whole, streamed = tmp_path / f"s{k}.san", tmp_path / f"whole{k}", tmp_path / f"streamed{k}"
        res = runner.invoke(app, ["encode", str(tmp_path / name), "-o", str(san), "-q", *options])
        assert res.exit_code == 0, res.output
        sancodec.write_signal(sancodec.decode(san.read_bytes()), whole, format="wfdb")
        with monkeypatch.context() as patched:
            if streamed_ok:  # the whole-record writer refuses: only the streamed one can write it
                patched.setattr(wfdb_io, "write_record", lambda *a, **kw: pytest.fail("written whole"))
            res = runner.invoke(app, ["decode", str(san), "--format", "wfdb", "-o", str(streamed)])
        assert res.exit_code == 0, (name, res.output)
        for suffix in (".hea", ".dat"):
            ours = (tmp_path / f"{streamed.name}{suffix}").read_bytes().replace(streamed.name.encode(), b"R")
            assert ours == (tmp_path / f"{whole.name}{suffix}").read_bytes().replace(whole.name.encode(), b"R"), \
                (name, suffix)
        assert sorted(p.name for p in tmp_path.glob(f"{streamed.name}.*")) == [f"{streamed.name}.dat",
                                                                              f"{streamed.name}.hea"]
        assert (" 32 " in (tmp_path / f"{streamed.name}.hea").read_text()) == (not streamed_ok), name


def test_an_edf_plus_d_file_with_gaps_is_refused_and_one_without_is_read(tmp_path):
    """EDF+D: each data record's start is in its timekeeping annotation. psg.edf's second record moved to 7 s (a gap
    of 6 s) read as one unbroken run would put every annotation after it 6 s off its samples: refused, in one line;
    marked EDF+D but back to back, it reads as the EDF+C file does."""
    _edf_plus(tmp_path / "c.edf")
    data = bytearray((tmp_path / "c.edf").read_bytes())
    data[192:197] = b"EDF+D"
    (tmp_path / "joined.edf").write_bytes(bytes(data))
    at = data.find(b"+1\x14\x14")  # the second record's timekeeping annotation: it starts at 1 s
    data[at : at + 4] = b"+7\x14\x14"
    (tmp_path / "gaps.edf").write_bytes(bytes(data))
    with pytest.raises(sancodec.SanFormatError, match="gaps.edf: an EDF\\+D file whose data records are not back"):
        sancodec.read_signal(tmp_path / "gaps.edf")
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "gaps.edf")])
    assert res.exit_code == 1 and "not back to back" in res.output and not (tmp_path / "gaps.san").exists()
    assert np.array_equal(sancodec.read_signal(tmp_path / "joined.edf").samples,
                          sancodec.read_signal(tmp_path / "c.edf").samples)


def test_a_multi_segment_records_gaps_are_annotated_as_skipped_in_edf(tmp_path):
    """ms100's 2 s gap (a segment that carries no channel, its rows the format's invalid value) keeps its samples in
    EDF under a BAD_ACQ_SKIP annotation, as the padding does; cut out of the record, at its place in the cut."""
    from pathlib import Path

    from sancodec.io.edf import SKIP_NOTE

    record = Path(sancodec.__file__).parent / "data" / "samples" / "multisegment" / "ms100"
    signal = sancodec.read_signal(record)
    assert [e["channels"] for e in signal.source["segments"]][1] == [] and signal.fs == 360
    sancodec.write_signal(signal, tmp_path / "ms.edf")
    back = edfio.read_edf(tmp_path / "ms.edf")
    assert [(a.onset, a.duration, a.text) for a in back.annotations] == [(10.0, 2.0, SKIP_NOTE)]
    assert np.array_equal(back.signals[0].digital, signal.samples[:, 0])
    sancodec.write_signal(signal.slice(3240, 6120), tmp_path / "cut.edf")  # 1 s before the gap to 6 s after it
    assert [(a.onset, a.duration) for a in edfio.read_edf(tmp_path / "cut.edf").annotations] == [(1.0, 2.0)]


def test_a_float_source_decoded_from_a_san_is_written_as_edf_on_its_grid(tmp_path):
    """A float .npy coded lossy decodes to multiples of its grid (the header's quantum): EDF takes those multiples as
    its integers, the grid as the gain, so the digital values are the decoder's exactly and the physical ones within
    what EDF's 8-character ranges round; a float signal without a grid is still refused, in one line."""
    t = np.arange(20_000) / 250
    x = np.sin(2 * np.pi * 1.2 * t) + 0.05 * np.random.default_rng(0).normal(size=t.size)
    np.save(tmp_path / "f.npy", np.stack([x, 2 * x], axis=1).astype(np.float32))
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(tmp_path / "f.npy"), "--fs", "250", "--mode", "lossy", "--prdn", "1",
                              "-q"])
    assert res.exit_code == 0, res.output
    decoded = sancodec.decode((tmp_path / "f.san").read_bytes())
    quantum = sancodec.codec.container.SanReader((tmp_path / "f.san").read_bytes()).header["quantum"]
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "-o", str(tmp_path / "f.edf"), "-q"])
    assert res.exit_code == 0, res.output
    edf = edfio.read_edf(tmp_path / "f.edf")
    for k, signal in enumerate(edf.signals):
        assert np.array_equal(signal.digital[: decoded.n_samples], np.rint(decoded.samples[:, k] / quantum[k]))
        assert np.abs(signal.data[: decoded.n_samples] - decoded.samples[:, k]).max() < 1e-5 * np.abs(x).max() * 2
    with pytest.raises(sancodec.SanConfigError, match="EDF and BDF hold integers"):
        sancodec.write_signal(decoded, tmp_path / "no_grid.edf")  # no quantum given: nothing to put them on


def test_hostile_edf_annotations_and_segment_maps_in_a_san_header_are_written_safely_or_refused(tmp_path, mitdb_100):
    """A .san with valid CRCs whose header lies: EDF+ annotations past the end, before the start, lasting 1e300 s or
    less than nothing, with a 2000-character text; a multi-segment map whose lengths no longer add up. WFDB takes the
    notes that land inside the record, cut to fit; EDF refuses a negative duration in one line; the broken map's
    record is written as EDF without gap annotations, nothing else trusted from it."""
    from common import rewrap

    signal = sancodec.read_signal(mitdb_100).slice(0, 3600)
    signal.annotations = []
    data = sancodec.encode(signal)
    header = sancodec.codec.container.SanReader(data).header
    header["signal"]["source"] = {"kind": "edf", "annotations": [
        [1e300, None, "b"], [-5.0, None, "c"], [2.0, 1e300, "d"], [3.0, -1.0, "e"], [4.0, 0.5, "x" * 2000]]}
    lying = sancodec.decode(rewrap(data, header=header))
    sancodec.write_signal(lying, tmp_path / "rec")
    [notes] = sancodec.read_signal(tmp_path / "rec").annotations
    assert notes.sample.tolist() == [720, 1080, 1440, 1620]  # 'b' and 'c' outside, 'd)' at 1e300 s left out
    assert notes.aux_note == ["(d", "e", "(" + "x" * 254, "x" * 255]
    with pytest.raises(sancodec.SanConfigError, match="not make a valid EDF file"):
        sancodec.write_signal(lying, tmp_path / "x.edf")
    assert not (tmp_path / "x.edf").exists()

    from pathlib import Path

    record = Path(sancodec.__file__).parent / "data" / "samples" / "multisegment" / "ms100"
    data = sancodec.encode(sancodec.read_signal(record))
    header = sancodec.codec.container.SanReader(data).header
    header["signal"]["source"]["segments"][1]["frames"] = 5  # the gap's 720 frames said to be 5
    broken = sancodec.decode(rewrap(data, header=header))
    sancodec.write_signal(broken, tmp_path / "ms.edf")
    written = edfio.read_edf(tmp_path / "ms.edf")
    assert written.annotations == () and np.array_equal(written.signals[0].digital, broken.samples[:, 0])


def test_a_physical_bound_that_is_a_short_decimal_is_written_as_that_decimal(tmp_path):
    """edfio rounds a physical maximum up to 8 characters after a multiplication whose rounding pushed 32.767 (1000
    units per mV's digital maximum) to "32.76701", so that every value read back was 5e-6 mV off and an EDF
    source's "32.767" came back as "32.76701". Both are written as the decimals they are now."""
    x = np.arange(-30_000, 30_000, 7) / 1000
    decimal = sancodec.Signal(x.reshape(-1, 1), 250.0, ["ECG"], ["mV"])
    data = sancodec.encode(decimal)  # lossless: integers at 1000 units per mV
    sancodec.write_signal(sancodec.decode(data), tmp_path / "d.edf")
    back = sancodec.read_signal(tmp_path / "d.edf")
    assert back.source["signals"][0]["physical_max"] == 32.767 and back.source["signals"][0]["physical_min"] == -32.768
    assert np.array_equal(back.physical()[: len(x), 0], x)
    raw = (tmp_path / "d.edf").read_bytes()  # an EDF source whose header holds "32.767" keeps it
    (tmp_path / "src.edf").write_bytes(raw)
    again = sancodec.decode(sancodec.encode(sancodec.read_signal(tmp_path / "src.edf")))
    sancodec.write_signal(again, tmp_path / "again.edf")
    _same_file(edfio.read_edf(tmp_path / "again.edf"), edfio.read_edf(tmp_path / "src.edf"))
    assert b"32.767  " in (tmp_path / "again.edf").read_bytes()[:512]


def test_an_edf_sources_ranges_are_not_kept_for_samples_digitised_anew(tmp_path):
    """An EDF source's physical and digital ranges say how its own digital values read; samples digitised anew (its
    microvolts streamed at 2 decimals, 100 units per uV, or its physical values coded as decimals) are written with
    ranges from their own gain, the source's label and dimension kept: they had been labelled with the old ranges and
    read back as other values."""
    _edf_plus(tmp_path / "psg.edf", n_records=4)
    eeg = sancodec.read_signal(tmp_path / "psg.edf").select_channels([0])
    uv = np.round(eeg.physical(), 2)
    with sancodec.open(tmp_path / "s.san", "w", like=eeg, decimals=2) as f:
        f.write(uv)
    floats = sancodec.Signal(uv, eeg.fs, eeg.channel_names, eeg.units, source=eeg.source)
    for data in ((tmp_path / "s.san").read_bytes(), sancodec.encode(floats)):
        sancodec.write_signal(sancodec.decode(data), tmp_path / "out.edf")
        back = sancodec.read_signal(tmp_path / "out.edf")
        assert np.array_equal(back.physical()[: len(uv)], uv)
        field = back.source["signals"][0]
        assert field["label"] == "EEG Fpz-Cz" and field["physical_dimension"] == "uV"
        assert field["prefiltering"] == "HP:0.1Hz LP:75Hz" and back.adc_gain == [100.0]
    sancodec.write_signal(sancodec.decode(sancodec.encode(eeg)), tmp_path / "same.edf")  # coded as it was: its own
    assert sancodec.read_signal(tmp_path / "same.edf").source["signals"] == eeg.source["signals"]


def test_a_lossy_decode_of_an_edf_that_touches_its_digital_range_writes_back_as_edf(tmp_path):
    """A lossy reconstruction overshoots where the signal touched its range (a clipped amplifier); the EDF writer
    refused the values past the source's digital range ("channel 0 cannot be written as EDF"), so the file could
    not go back to EDF. Decoding a file that is not lossless now clips to the source's range (its own values lie
    inside it, so the error only shrinks), through sancodec.decode and sancodec.open alike."""
    t = np.arange(256 * 40)
    x = np.clip(3000 * np.sin(t / 40.0), -2000, 2000)
    signal = edfio.EdfSignal(x, 256, label="sat", physical_dimension="uV", physical_range=(-2000, 2000),
                             digital_range=(-2048, 2047))
    edfio.Edf([signal]).write(tmp_path / "sat.edf")
    source = sancodec.read_signal(tmp_path / "sat.edf")
    for mode in (["--mode", "lossy", "--prdn", "9"], ["--mode", "lossy", "--prdn", "9", "--effort", "fast"]):
        res = CliRunner().invoke(app, ["encode", str(tmp_path / "sat.edf"), *mode, "-o", str(tmp_path / "s.san"),
                                       "-f", "-q"])
        assert res.exit_code == 0, res.output
        res = CliRunner().invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(tmp_path / "back.edf"), "-f",
                                       "-q"])
        assert res.exit_code == 0, res.output
        back = edfio.read_edf(tmp_path / "back.edf").signals[0]
        assert (back.digital_min, back.digital_max) == (-2048, 2047) and back.digital.min() >= -2048
        decoded = sancodec.decode((tmp_path / "s.san").read_bytes()).samples
        with sancodec.open(tmp_path / "s.san") as f:
            assert np.array_equal(f.read(), decoded)
        assert decoded.min() >= -2048 and decoded.max() <= 2047
        assert sancodec.metrics.prdn(source.samples[:, 0], decoded[:, 0]) <= 9
    lossless = sancodec.encode(source)
    assert np.array_equal(sancodec.decode(lossless).samples, source.samples)


@pytest.mark.parametrize("lie", [{"digital_min": "x"}, {"digital_max": None}, {"digital_min": [1]},
                                 {"digital_min": 2047, "digital_max": -2048}, {"digital_min": -1e300},
                                 {"digital_max": 1e300}, {"digital_min": -(2**63)}, {"digital_max": 2**63 - 1},
                                 {"digital_min": 5, "digital_max": 6}])
def test_a_lossy_decode_trusts_no_digital_range_its_header_claims(tmp_path, lie):
    """The decoder's clip to an EDF source's digital ranges reads them from the file's header: a file with valid
    CRCs and ranges that lie (not numbers, reversed, past int64, or narrower than the samples) decodes through
    sancodec.decode and sancodec.open alike, clipped only to a range that holds, never failing outside
    SancodecError."""
    from common import rewrap

    t = np.arange(2000)
    x = np.clip(np.round(3000 * np.sin(t / 40.0)), -2048, 2047).astype(np.int64)[:, None]
    source = {"kind": "edf", "annotations": [], "signals": [
        {"label": "s", "transducer_type": "", "physical_dimension": "uV", "physical_min": -2000.0,
         "physical_max": 2000.0, "digital_min": -2048, "digital_max": 2047, "prefiltering": ""}]}
    data = sancodec.encode(sancodec.Signal(x, 256.0, ["s"], ["uV"], adc_gain=[1.0], baseline=[0], source=source),
                           mode="lossy", prdn=9)
    header = sancodec.codec.container.SanReader(data).header
    header["signal"]["source"]["signals"][0].update(lie)
    hostile = rewrap(data, header=header)
    y = sancodec.decode(hostile).samples
    low, high = lie.get("digital_min", -2048), lie.get("digital_max", 2047)
    if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low <= high:
        assert y.min() >= max(low, -(2**63)) and y.max() <= min(high, 2**63 - 1)
    else:  # no range that holds: the decode as it came
        assert y.min() < -2048 or y.max() > 2047
    (tmp_path / "h.san").write_bytes(hostile)
    with sancodec.open(tmp_path / "h.san") as f:
        assert np.array_equal(f.read(), y)


def test_edf_and_edf_plus_files_come_back_byte_for_byte(tmp_path):
    """A lossless .san of an EDF file gives the file back: an EDF+ one (annotations, a patient line) and a plain
    EDF or BDF one, which came back as EDF+ with an annotation signal it never had (316 bytes more); a plain file's
    decode that needs an annotation (a range ending inside a data record) is written as EDF+, to hold it."""
    _edf_plus(tmp_path / "psg.edf")
    t = np.arange(2560)
    edfio.Edf([edfio.EdfSignal(np.sin(t / 10) * 100, 256, label="EEG", physical_range=(-200, 200))],
              data_record_duration=1).write(tmp_path / "plain.edf")
    emg = edfio.BdfSignal(np.linspace(-1000, 1000, 4000), 400, label="EMG", physical_range=(-1000, 1000),
                          digital_range=(-8388608, 8388607))
    edfio.Bdf([emg], data_record_duration=1).write(tmp_path / "plain.bdf")
    for name in ("psg.edf", "plain.edf", "plain.bdf"):
        signal = sancodec.read_signal(tmp_path / name)
        assert (signal.source.get("plain") is True) == name.startswith("plain")
        out = tmp_path / f"back_{name}"
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), out)
        assert out.read_bytes() == (tmp_path / name).read_bytes(), name
    part = sancodec.decode(sancodec.encode(sancodec.read_signal(tmp_path / "plain.edf")), start=0, end=1000)
    sancodec.write_signal(part, tmp_path / "part.edf")
    assert edfio.read_edf(tmp_path / "part.edf").reserved == "EDF+C"  # (its last record filled out, and said so)
    hostile = sancodec.read_signal(tmp_path / "psg.edf")
    hostile.source = {**hostile.source, "plain": "yes"}  # a .san header is not trusted: only true counts
    sancodec.write_signal(sancodec.decode(sancodec.encode(hostile)), tmp_path / "h.edf")
    assert edfio.read_edf(tmp_path / "h.edf").reserved == "EDF+C"


def _respelled(source: Path, target: Path, value: str) -> bytes:
    """``source``'s bytes with its first signal's physical minimum spelled ``value`` (8 characters), as another writer
    spells its numbers (``-200.0`` where edfio writes ``-200``)."""
    raw = bytearray(source.read_bytes())
    ns = int(raw[252:256].decode().strip())
    at = 256 + ns * (16 + 80 + 8)
    raw[at : at + 8] = value.ljust(8).encode()
    target.write_bytes(bytes(raw))
    return bytes(raw)


def test_another_writers_edf_header_comes_back_with_keep_header_text(tmp_path):
    """An EDF whose header spells a number otherwise than edfio (``-200.0``) comes back with edfio's header: the same
    fields, other bytes; with --keep-header-text, the file itself, through the API and the CLI."""
    _edf_plus(tmp_path / "psg.edf")
    original = _respelled(tmp_path / "psg.edf", tmp_path / "other.edf", "-200.0")
    for keep in (True, False):
        signal = sancodec.read_signal(tmp_path / "other.edf", keep_header_text=keep)
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / f"back{keep}.edf")
        assert ((tmp_path / f"back{keep}.edf").read_bytes() == original) == keep
        _same_file(edfio.read_edf(tmp_path / f"back{keep}.edf"), edfio.read_edf(tmp_path / "other.edf"))
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "other.edf"), "--keep-header-text", "-q"]).exit_code == 0
    assert runner.invoke(app, ["decode", str(tmp_path / "other.san"), "-o", str(tmp_path / "cli.edf"),
                               "-q"]).exit_code == 0
    assert (tmp_path / "cli.edf").read_bytes() == original


@pytest.mark.parametrize("edit", [
    lambda t: t[:256 + 3 * 104] + "-100.0  " + t[256 + 3 * 104 + 8 :],  # another physical range
    lambda t: t[:236] + "99      " + t[244:],  # another count of data records
    lambda t: t[:-1],  # one byte short
    lambda t: t.replace(" ", "\x00", 1),  # not printable
    lambda t: 7,  # not text
])
def test_a_kept_edf_header_that_says_otherwise_is_never_written(tmp_path, edit):
    _edf_plus(tmp_path / "psg.edf")
    signal = sancodec.read_signal(tmp_path / "psg.edf", keep_header_text=True)
    signal.source = {**signal.source, "edf_header": edit(signal.source["edf_header"])}
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes() == (tmp_path / "psg.edf").read_bytes()  # (edfio's, as the source's)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.edf", "psg.edf"]
    lossy = sancodec.encode(sancodec.read_signal(tmp_path / "psg.edf", keep_header_text=True), mode="lossy", prdn=5)
    assert "edf_header" not in (SanReader(lossy).header["signal"].get("source") or {})


def _latin1(source: Path, target: Path) -> bytes:
    """``source`` (``_edf_plus``'s file, or a one-signal BDF) with Latin-1 bytes where clinical exporters put them: the
    patient's name (an umlaut), the first signal's label, transducer and prefiltering (é, °) and unit (0xB5, µV)."""
    raw = bytearray(source.read_bytes())
    ns = int(raw[252:256].decode().strip())

    def put(at: int, old: bytes, new: bytes) -> None:
        assert raw[at : at + len(old)] == old and len(new) == len(old)
        raw[at : at + len(new)] = new

    if b"Haagse_Harry" in raw[8:88]:
        at = raw.index(b"Haagse_Harry")
        put(at, b"Haagse_Harry", "Häagse_Hårry".encode("latin-1"))
    put(256, b"EEG", "EÉG".encode("latin-1"))
    if raw[256 + 136 * ns : 256 + 136 * ns + 2] == b"HP":  # a no-break space (0xA0), which str.isprintable refuses
        put(256 + 136 * ns, b"HP", b"H\xa0")
    if raw[256 + 16 * ns : 256 + 16 * ns + 6] == b"AgAgCl":
        put(256 + 16 * ns, b"AgAgCl", "AgAg°l".encode("latin-1"))
    put(256 + 96 * ns, b"uV", b"\xb5V")
    target.write_bytes(bytes(raw))
    return bytes(raw)


def test_header_text_past_ascii_comes_back_as_its_bytes(tmp_path):
    """EDF headers hold ASCII, but exporters write µV as 0xB5 and names in Latin-1: edfio read each such byte as
    U+FFFD and would not write it, so such a file was coded and its decode to EDF failed ("'ascii' codec can't
    encode character"). Now those fields are read from the header's bytes and written back as them: the file comes
    back byte for byte from a lossless file (EDF+ with annotations, and BDF), its header's texts from a lossy one;
    WFDB spells the unit uV and refuses the label; text past ASCII from another source is still refused in EDF."""
    _edf_plus(tmp_path / "psg.edf")
    edfio.Bdf([edfio.BdfSignal(np.linspace(-1000, 1000, 4000), 400, label="EEG", physical_dimension="uV",
                               physical_range=(-1000, 1000))], data_record_duration=1).write(tmp_path / "one.bdf")
    for name in ("psg.edf", "one.bdf"):
        raw = _latin1(tmp_path / name, tmp_path / f"latin_{name}")
        signal = sancodec.read_signal(tmp_path / f"latin_{name}")
        assert signal.channel_names[0].startswith("EÉG") and signal.units[0] == "\xb5V"
        out = tmp_path / f"back_{name}"
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), out)
        assert out.read_bytes() == raw, name
        lossy = tmp_path / f"lossy_{name}"
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal, mode="lossy", prdn=5)), lossy)
        assert lossy.read_bytes()[:256 + 256 * len(signal.channel_names)][:236] == raw[:236]
        assert lossy.read_bytes()[256:256 + 16] == raw[256:256 + 16]
    back = sancodec.decode(sancodec.encode(sancodec.read_signal(tmp_path / "latin_psg.edf")))
    with pytest.raises(sancodec.SanConfigError, match="past ASCII, which a WFDB header cannot hold"):
        sancodec.write_signal(back, tmp_path / "rec", format="wfdb")
    back.channel_names[0] = "EEG"  # (and the unit spelled as WFDB spells it)
    sancodec.write_signal(back, tmp_path / "rec", format="wfdb")
    assert sancodec.read_signal(tmp_path / "rec").units[0] == "uV"
    other = sancodec.Signal(np.zeros((256, 1), np.int16), 256.0, ["Füß"], ["mV"])  # not an EDF source's own text
    with pytest.raises(sancodec.SanConfigError, match="past ASCII, which an EDF header cannot hold"):
        sancodec.write_signal(other, tmp_path / "other.edf")


@pytest.mark.parametrize("patient", ["Wang \u738b", "Wang \u738b\x85"])
def test_a_hostile_header_text_is_refused_not_written(tmp_path, patient):
    """A ``.san`` header is not trusted: a patient line past Latin-1, which no EDF header held, is refused with one
    error, and no file is left behind."""
    _edf_plus(tmp_path / "psg.edf")
    signal = sancodec.read_signal(tmp_path / "psg.edf")
    signal.source = {**signal.source, "patient": patient}
    with pytest.raises(sancodec.SanConfigError, match="do not make a valid EDF file"):
        sancodec.write_signal(signal, tmp_path / "h.edf")
    assert not (tmp_path / "h.edf").exists()


@pytest.mark.parametrize(("field", "at"), [("patient", 8), ("reserved", 192), ("label", 256)])
def test_control_characters_in_a_header_come_back_as_they_were(tmp_path, field, at):
    """A header field holding a control character (C1's 0x85 or 0x9C, a tab, an escape: the standard allows none,
    exporters write them, edfio reads them) was read and coded, and its decode to EDF failed ("contains non-printable
    characters", "holds a character past ASCII"): an archive that could not give its file back. Now the field's bytes
    come back in its fixed width: the file byte for byte. A label is a channel's name, which a ``.san`` holds without
    ASCII controls (they would make other lines of a WFDB header or a CSV): there a C1 control comes back, and an
    ASCII control is refused on encoding, before anything is written."""
    t = np.arange(2560)
    edfio.Edf([edfio.EdfSignal(np.sin(t / 10) * 100, 256, label="EEG Fp1", physical_range=(-200, 200))],
              data_record_duration=1).write(tmp_path / "dev.edf")
    raw = bytearray((tmp_path / "dev.edf").read_bytes())
    raw[at : at + 11] = b"a\x85b\tc\x9cd\x1be\x01f"
    (tmp_path / "odd.edf").write_bytes(bytes(raw))
    signal = sancodec.read_signal(tmp_path / "odd.edf")
    if field == "label":
        with pytest.raises(sancodec.SanConfigError, match="without control characters"):
            sancodec.encode(signal)
        raw[at : at + 11] = b"a\x85bc\x9cdef ".ljust(11)
        (tmp_path / "odd.edf").write_bytes(bytes(raw))
        signal = sancodec.read_signal(tmp_path / "odd.edf")
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes() == bytes(raw), field


@pytest.mark.parametrize("edit", ["physical", "digital", "narrow"])
def test_ranges_edfio_will_not_write_come_back_as_they_were(tmp_path, edit):
    """edfio reads a channel whose physical minimum equals its maximum (an exporter's unused channel), or whose
    digital range is empty or narrower than its samples, but will not write one: such a file was coded and its
    decode to EDF failed ("must differ", "out of digital range"). The writer now hands edfio a stand-in range and
    puts the source's numbers back: the file comes back byte for byte."""
    _edf_plus(tmp_path / "psg.edf")
    raw = bytearray((tmp_path / "psg.edf").read_bytes())
    ns = int(raw[252:256].decode().strip())
    field = {"physical": (104, 112), "digital": (120, 128), "narrow": (120, 128)}[edit]
    low, high = (256 + field[0] * ns + 8, 256 + field[1] * ns + 8)  # the second signal's (Temp rectal)
    if edit == "narrow":
        raw[high : high + 8] = b"0".ljust(8)  # its digital maximum below most of its samples
    else:
        raw[high : high + 8] = raw[low : low + 8]
    (tmp_path / "odd.edf").write_bytes(bytes(raw))
    signal = sancodec.read_signal(tmp_path / "odd.edf")
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes() == bytes(raw)


def test_a_lossy_decode_of_samples_past_their_declared_range_is_not_clipped_to_it(tmp_path):
    """A file whose digital maximum leaves out most of its samples (an exporter's slip, read since the ranges' patches)
    was refused in lossy mode ("would decode at PRDN 70.8 % > 5 %"): its decode was clipped to that range. Such a
    channel is now left unclipped (source entry ``outside_range``): the target met, the source's range written back.
    A hostile entry (no dict, or the flag on a channel whose decode overshoots) clips nothing it should not."""
    _edf_plus(tmp_path / "psg.edf")
    raw = bytearray((tmp_path / "psg.edf").read_bytes())
    ns = int(raw[252:256].decode().strip())
    at = 256 + 128 * ns  # the first signal's digital maximum
    raw[at : at + 8] = b"0".ljust(8)
    (tmp_path / "odd.edf").write_bytes(bytes(raw))
    signal = sancodec.read_signal(tmp_path / "odd.edf")
    assert signal.source["signals"][0]["outside_range"] is True and "outside_range" not in signal.source["signals"][1]
    back = sancodec.decode(sancodec.encode(signal, mode="lossy", prdn=5))
    assert max(prdn(signal.samples[:, c], back.samples[:, c]) for c in range(signal.n_channels)) <= 5
    sancodec.write_signal(back, tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes()[at : at + 8] == b"0".ljust(8)
    head = {"source": {"kind": "edf", "signals": [[1], {"digital_min": 0, "digital_max": 9}]}}
    x = np.array([[5, 20], [7, -3]])
    assert clip_to_source_ranges(x, head) is x
    head = {"source": {"kind": "edf", "signals": [{"digital_min": 0, "digital_max": 9, "outside_range": 1},
                                                  {"digital_min": 0, "digital_max": 9}]}}
    assert np.array_equal(clip_to_source_ranges(x, head), [[5, 9], [7, 0]])


def test_a_count_of_records_not_known_comes_back(tmp_path):
    """EDF's count of data records -1 ("not known": a recording in progress, an exporter that never filled it in) was
    written back as the count the file holds: such a file came back other bytes. It is kept (``records_unknown``) and
    written so, lossless (byte for byte) or lossy; a range of the file, another file, says its own count."""
    _edf_plus(tmp_path / "psg.edf")
    raw = bytearray((tmp_path / "psg.edf").read_bytes())
    records = int(raw[236:244])
    raw[236:244] = b"-1".ljust(8)
    (tmp_path / "rec.edf").write_bytes(bytes(raw))
    signal = sancodec.read_signal(tmp_path / "rec.edf")
    assert signal.source["records_unknown"] is True
    data = sancodec.encode(signal)
    sancodec.write_signal(sancodec.decode(data), tmp_path / "back.edf")
    assert (tmp_path / "back.edf").read_bytes() == bytes(raw)
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal, mode="lossy", prdn=5)), tmp_path / "lossy.edf")
    assert (tmp_path / "lossy.edf").read_bytes()[236:244] == b"-1".ljust(8)
    rows = signal.n_samples // records
    sancodec.write_signal(sancodec.decode(data, start=rows, end=3 * rows), tmp_path / "part.edf")
    assert (tmp_path / "part.edf").read_bytes()[236:244] == b"2".ljust(8)
    for k, hostile in enumerate((1, "yes", [True], None)):  # (a .san header is not trusted: only true says so)
        signal.source = {**signal.source, "records_unknown": hostile}
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / f"h{k}.edf")
        assert (tmp_path / f"h{k}.edf").read_bytes()[236:244] == str(records).encode().ljust(8)


def test_a_zero_record_duration_is_said_plainly(tmp_path):
    """A file whose data records last 0 s (its signals have no rate) was refused with edfio's internal error
    ("UnboundLocalError: cannot access local variable 'sampling_frequency'"); now with what is wrong."""
    _edf_plus(tmp_path / "psg.edf")
    raw = bytearray((tmp_path / "psg.edf").read_bytes())
    raw[244:252] = b"0".ljust(8)
    (tmp_path / "zero.edf").write_bytes(bytes(raw))
    with pytest.raises(sancodec.SanFormatError, match="a data record duration of 0 s gives its signals no sampling"):
        sancodec.read_signal(tmp_path / "zero.edf")


def test_a_plain_files_reserved_field_comes_back(tmp_path):
    """A plain EDF's or BDF's reserved field (BioSemi's "24BIT" in every BDF, a device's name), which edfio writes
    blank, is put back where the file is written plain again: the file byte for byte. A ``.san`` header is not
    trusted: a reserved entry that would make the file EDF+ (with no annotation signal), is too long, holds a
    character past Latin-1 or is no text is written blank."""
    t = np.arange(2560)
    edfio.Bdf([edfio.BdfSignal(np.sin(t / 10) * 100, 256, label="A1", physical_range=(-200, 200))],
              data_record_duration=1).write(tmp_path / "bio.bdf")
    edfio.Edf([edfio.EdfSignal(np.sin(t / 10) * 100, 256, label="EEG", physical_range=(-200, 200))],
              data_record_duration=1).write(tmp_path / "dev.edf")
    for name, reserved in (("bio.bdf", b"24BIT"), ("dev.edf", b"NeuroDev v2")):
        raw = bytearray((tmp_path / name).read_bytes())
        raw[192:236] = reserved.ljust(44)
        (tmp_path / name).write_bytes(bytes(raw))
        signal = sancodec.read_signal(tmp_path / name)
        assert signal.source["reserved"] == reserved.decode()
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / f"back_{name}")
        assert (tmp_path / f"back_{name}").read_bytes() == bytes(raw), name
    signal = sancodec.read_signal(tmp_path / "dev.edf")
    for k, hostile in enumerate(("EDF+C", "x" * 45, "Wang \u738b", 5, ["24BIT"])):
        signal.source = {**signal.source, "reserved": hostile}
        sancodec.write_signal(signal, tmp_path / f"h{k}.edf")
        assert (tmp_path / f"h{k}.edf").read_bytes()[192:236] == b" " * 44


def _annotation_moved(source: Path, target: Path, to: int) -> bytes:
    """``source`` (edfio's layout: its annotation signal last) with that signal at place ``to``: each header field's
    block and each data record reordered alike, as another writer lays the file out."""
    raw = source.read_bytes()
    ns, records = int(raw[252:256]), int(raw[236:244])
    order = [*range(to), ns - 1, *range(to, ns - 1)]
    out, at, counts = bytearray(raw[:256]), 256, []
    for width in (16, 80, 8, 8, 8, 8, 8, 80, 8, 32):
        block = [raw[at + width * k : at + width * (k + 1)] for k in range(ns)]
        counts = [int(b) for b in block] if width == 8 and at == 256 + 216 * ns else counts
        out += b"".join(block[k] for k in order)
        at += width * ns
    size = 3 if raw[:1] == b"\xff" else 2
    for r in range(records):
        parts, here = [], at + r * size * sum(counts)
        for n in counts:
            parts.append(raw[here : here + size * n])
            here += size * n
        out += b"".join(parts[k] for k in order)
    target.write_bytes(bytes(out))
    return bytes(out)


def test_an_annotation_signal_not_last_keeps_its_place(tmp_path):
    """EDF+ lets the annotation signal stand anywhere; edfio writes it last, so a file with it first or between the
    data signals came back reordered. Its place is now kept (``annotation_at``) and the written file put back in that
    order: byte for byte, EDF+ and BDF+. A hostile place is passed over (the signal last)."""
    _edf_plus(tmp_path / "psg.edf")
    t = np.arange(2560)
    edfio.Bdf([edfio.BdfSignal(np.sin(t / 10) * 100, 256, label="A1", physical_range=(-200, 200)),
               edfio.BdfSignal(np.cos(t / 7) * 90, 256, label="A2", physical_range=(-200, 200))],
              annotations=[edfio.EdfAnnotation(2.0, None, "x")]).write(tmp_path / "two.bdf")
    for name, to in (("psg.edf", 0), ("psg.edf", 1), ("two.bdf", 0), ("two.bdf", 1)):
        raw = _annotation_moved(tmp_path / name, tmp_path / f"at{to}_{name}", to)
        signal = sancodec.read_signal(tmp_path / f"at{to}_{name}")
        assert signal.source["annotation_at"] == to
        out = tmp_path / f"back{to}_{name}"
        sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), out)
        assert out.read_bytes() == raw, (name, to)
    assert "annotation_at" not in sancodec.read_signal(tmp_path / "psg.edf").source
    signal = sancodec.read_signal(tmp_path / "at0_psg.edf")
    for k, hostile in enumerate((2, -1, 99, True, "0")):
        signal.source = {**signal.source, "annotation_at": hostile}
        sancodec.write_signal(signal, tmp_path / f"h{k}.edf")
        assert (tmp_path / f"h{k}.edf").read_bytes() == (tmp_path / "psg.edf").read_bytes()


@pytest.mark.parametrize("step, kind", [(1e-7, "edf"), (1e-7, "bdf"), (0.0305, "edf"), (2.5e-4, "edf")])
def test_floats_in_small_units_keep_their_values_in_edf_s_eight_characters(tmp_path, step, kind):
    """Volts on a step of 10^-7 (MNE's units): the full digital range's ends, -0.0032768 and 0.0032767, do not fit
    EDF's eight characters (-0.00328 was written, every value read back 0.1 % off); the writer takes the widest
    ends that do and still hold the samples (-0.00327 at -32700), so that edfio reads the values back to the last
    places (``io.edf._exact_ends``)."""
    counts = np.clip(np.cumsum(np.random.default_rng(4).integers(-30, 31, (6000, 2)), axis=0), -30000, 30000)
    x = counts * step
    np.save(tmp_path / "v.npy", x)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "v.npy"), "--fs", "250", "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "v.san"), "-o", str(tmp_path / f"w.{kind}"), "-q"])
    assert res.exit_code == 0, res.output
    back = edfio.read_bdf(tmp_path / "w.bdf") if kind == "bdf" else edfio.read_edf(tmp_path / "w.edf")
    for ch in range(2):
        assert np.abs(back.signals[ch].data[: len(x)] - x[:, ch]).max() <= 1e-9 * np.ptp(x[:, ch])


@pytest.mark.parametrize("kind", ["edf", "bdf"])
def test_physical_values_of_an_edf_are_edfio_s_even_where_its_offset_is_a_fraction_of_a_step(tmp_path, kind):
    """A symmetric range (-3200..3200 µV on -32768..32767) puts physical zero half a step from a digital value:
    WFDB's integer baseline rounded that half step away, every value 0.049 µV off what edfio and MNE read. Read, and
    decoded from its ``.san`` with ``--physical``, the values are edfio's, bit for bit."""
    digital = np.clip(np.cumsum(np.random.default_rng(0).integers(-30, 31, 5000)), -32768, 32767)
    low, high = (-32768, 32767) if kind == "edf" else (-8388608, 8388607)
    cls, signal_cls = (edfio.Edf, edfio.EdfSignal) if kind == "edf" else (edfio.Bdf, edfio.BdfSignal)
    signal = signal_cls.from_digital(digital.astype(np.int16 if kind == "edf" else np.int32), 250, label="EEG",
                                     physical_dimension="uV", physical_range=(-3200, 3200), digital_range=(low, high))
    cls([signal]).write(tmp_path / f"s.{kind}")
    truth = (edfio.read_edf if kind == "edf" else edfio.read_bdf)(tmp_path / f"s.{kind}").signals[0].data
    assert np.array_equal(sancodec.read_signal(tmp_path / f"s.{kind}").physical()[:, 0], truth)
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / f"s.{kind}"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(tmp_path / "p.npy"), "--physical",
                              "-q"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.load(tmp_path / "p.npy")[:, 0], truth)
    res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(tmp_path / "rec"), "--format", "wfdb",
                              "-q"])  # WFDB's baseline is an integer: said, the samples written as they are
    assert res.exit_code == 0 and "0.5 of a step from a digital value" in res.stderr, res.output
    assert np.array_equal(sancodec.read_signal(tmp_path / "rec").samples[:, 0], digital)


def test_physical_values_under_hostile_edf_fields_are_finite_or_the_gain_s():
    """A source's fields come from a ``.san`` header: ranges whose baseline overflows a float (10^-8 of physical
    range over 2e299 digital values, at 10) leave the values scaled by the signal's gain and baseline, not an
    OverflowError."""
    field = {"label": "a", "transducer_type": "", "physical_dimension": "uV", "prefiltering": "",
             "physical_min": 10.0 - 1e-8, "physical_max": 10.0, "digital_min": -1e299, "digital_max": 1e299}
    gain = (field["digital_max"] - field["digital_min"]) / (field["physical_max"] - field["physical_min"])
    sig = sancodec.Signal(np.arange(10).reshape(-1, 1), 250.0, ["a"], ["uV"], adc_gain=[gain], baseline=[0],
                          source={"kind": "edf", "signals": [field]})
    assert np.array_equal(sig.physical()[:, 0], np.arange(10) / gain)


def test_a_file_whose_edf_ranges_overflow_a_baseline_decodes_to_edf_with_ranges_of_its_own(tmp_path):
    """An EDF source's ranges from a ``.san`` header whose baseline overflows a float (-1e300 at a gain of 10^12)
    were an OverflowError, 'unexpected error', when decoding to EDF; they read no samples as the file's gain does, so
    the file is written with ranges made from that gain."""
    field = {"label": "a", "transducer_type": "", "physical_dimension": "uV", "prefiltering": "",
             "physical_min": -1e300, "physical_max": -1e300 + 2e288, "digital_min": -1e300, "digital_max": 1e300}
    gain = (field["digital_max"] - field["digital_min"]) / (field["physical_max"] - field["physical_min"])
    sig = sancodec.Signal(np.arange(1000).reshape(-1, 1), 250.0, ["a"], ["uV"], adc_gain=[gain], baseline=[0],
                          fmt=["16"], source={"kind": "edf", "signals": [field], "data_record_duration": 1.0})
    (tmp_path / "h.san").write_bytes(sancodec.encode(sig))
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "h.san"), "-o", str(tmp_path / "h.edf"), "-q"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(edfio.read_edf(tmp_path / "h.edf").signals[0].digital[:1000], np.arange(1000))


def test_a_range_decoded_to_edf_starts_at_its_first_row_in_both_date_fields(tmp_path):
    """An EDF+ recording that begins at 23:59:50 on 31 January, decoded from 10.5 s to 16 s: the range's start moves
    to 00:00:00.5 on 1 February (it kept the recording's 23:59:50), its annotations re-based to it, and the EDF+
    recording field's "Startdate" moves with the header's date (left at 31-JAN, edfio warned that the two differ and
    read the older); the whole file still decodes to the very bytes."""
    x = np.sin(np.arange(256 * 20) / 20) * 100
    signal = edfio.EdfSignal(x, sampling_frequency=256, label="EEG", physical_range=(-200, 200),
                             digital_range=(-32768, 32767))
    edfio.Edf([signal], starttime=datetime.time(23, 59, 50),
              recording=edfio.Recording(startdate=datetime.date(2024, 1, 31)),
              annotations=[edfio.EdfAnnotation(5.0, None, "five"), edfio.EdfAnnotation(12.5, 1.0, "twelve")]
              ).write(tmp_path / "a.edf")
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(tmp_path / "a.edf"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "--start", str(256 * 10 + 128), "--end",
                              str(256 * 16), "-o", str(tmp_path / "part.edf"), "-q"])
    assert res.exit_code == 0, res.output
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (edfio's "Different values in startdate fields")
        part = edfio.read_edf(tmp_path / "part.edf")
        assert part.startdate == datetime.date(2024, 2, 1) == part.recording.startdate
    assert part.starttime == datetime.time(0, 0, 0, 500000)
    assert [(a.onset, a.text) for a in part.annotations if a.text == "twelve"] == [(2.0, "twelve")]
    res = runner.invoke(app, ["decode", str(tmp_path / "a.san"), "-o", str(tmp_path / "whole.edf"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "whole.edf").read_bytes() == (tmp_path / "a.edf").read_bytes()


def test_a_recording_field_out_of_shape_is_written_as_it_was():
    """The EDF+ recording field comes from a ``.san`` header, not trusted: a Startdate that is no date (31-FEB), a
    month EDF+ does not name, a field without one, or a base date that is no ISO date leave it as it was."""
    from sancodec.io.edf import moved_startdate

    assert moved_startdate("Startdate 31-JAN-2024 X X X", "2024-02-01") == "Startdate 01-FEB-2024 X X X"
    assert moved_startdate("Startdate 31-JAN-2024", "2024-01-31") == "Startdate 31-JAN-2024"
    for field, date in (("Startdate 31-FEB-2024 X", "2024-03-01"), ("Startdate 01-FOO-2024 X", "2024-03-01"),
                        ("Startdate X X X X", "2024-03-01"), ("Startdate 01-JAN-2024X", "2024-03-01"),
                        ("Startdate 01-JAN-2024 X", "2024-02-30"), ("Startdate 01-JAN-2024 X", None),
                        ("Startdate 01-JAN-2024 X", 20240301)):
        assert moved_startdate(field, date) == field, (field, date)


def test_lying_headers_on_the_streamed_and_mapped_decode_paths_are_one_error_or_a_file(tmp_path):
    """A .san whose CRCs pass but whose signal entry lies (an EDF source's annotations and signal fields out of shape,
    formats that say another width, a WAV source of 8 bits whose samples are 16, channel names of another count)
    decoded to WFDB (the streamed writer's choice), to .npy (the file-mapped array) and by batch --decode: each
    writes a file or is refused in one line, never a traceback or an "unexpected error"."""
    import copy

    import soundfile
    from common import rewrap

    from sancodec import batch

    x = np.cumsum(np.random.default_rng(2).integers(-40, 41, size=(3000, 2)), axis=0).astype(np.int16)
    edf = sancodec.Signal(x, 250.0, ["a", "b"], ["uV", "uV"])
    sancodec.write_signal(edf, tmp_path / "e.edf")
    soundfile.write(tmp_path / "w.wav", x, 250, subtype="PCM_16")
    runner = CliRunner()
    lies = {
        "annotations": lambda s: s["source"].update(annotations=[["x", None, 3], [1e300, -1, None], "n"]),
        "signal fields": lambda s: s["source"].update(signals=[{"physical_min": "a"}, 7]),
        "formats": lambda s: s.update(fmt=["212", "16"]),
        "one format": lambda s: s.update(fmt=["80", "80"]),
        "names": lambda s: s.update(channel_names=["a"]),
        "wav bits": lambda s: s["source"].update(wav={"bits": 8, "frames": 3000, "channels": 2}),
        "kind": lambda s: s["source"].update(kind="npy", dtype="<i1"),
    }
    for source in ("e.edf", "w.wav"):
        good = sancodec.encode(sancodec.read_signal(tmp_path / source))
        header = SanReader(good).header
        for k, (what, lie) in enumerate(lies.items()):
            if source == "w.wav" and what in ("annotations", "signal fields"):
                continue
            changed = copy.deepcopy(header)
            lie(changed["signal"])
            bad = tmp_path / f"{source}.{k}.san"
            bad.write_bytes(rewrap(good, changed))
            for args in (["--format", "wfdb", "-o", str(tmp_path / f"r{k}")], ["-o", str(tmp_path / f"n{k}.npy")]):
                res = runner.invoke(app, ["decode", str(bad), *args, "--force"])
                said = (source, what, args, res.output)
                assert res.exit_code in (0, 1, 2) and "Traceback" not in res.output, said
                assert "unexpected error" not in res.output, said
                assert res.exit_code == 0 or res.stderr.count("\n") == 1, said
            row = batch._decode_one((str(bad), str(tmp_path / "out" / f"{k}{source}"), {}, False))
            assert row["status"] in ("decoded", "failed"), (source, what, row)
