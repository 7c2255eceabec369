"""BrainVision recordings (``io.brainvision``): read through the ``.vhdr``, coded, and written back as the three
files they were (byte for byte, renamed only where the output is named otherwise); other signals under a plain
header; everything else refused in one SancodecError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import cuts_read_or_refused
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError, SanFormatError
from sancodec.cli import app
from sancodec.codec.api import read_info

HEADER = """Brain Vision Data Exchange Header File Version 1.0\r
; Data created by the Vision Recorder\r
\r
[Common Infos]\r
Codepage=UTF-8\r
DataFile={name}.eeg\r
MarkerFile={name}.vmrk\r
DataFormat=BINARY\r
; Data orientation: MULTIPLEXED=ch1,pt1, ch2,pt1 ...\r
DataOrientation={orientation}\r
NumberOfChannels=3\r
; Sampling interval in microseconds\r
SamplingInterval=2000\r
\r
[Binary Infos]\r
BinaryFormat={binary}\r
\r
[Channel Infos]\r
; Each entry: Ch<Channel number>=<Name>,<Reference channel name>,<Resolution in "Unit">,<Unit>\r
Ch1=Fp1,,0.1,µV\r
Ch2=F\\1z,,0.5,µV\r
Ch3=EOG,,1,mV\r
\r
[Comment]\r
Amplifier: a=b; [not a section]\r
"""
MARKERS = """Brain Vision Data Exchange Marker File, Version 1.0\r
\r
[Common Infos]\r
Codepage=UTF-8\r
DataFile={name}.eeg\r
\r
[Marker Infos]\r
Mk1=New Segment,,1,1,0,20240305120000000000\r
Mk2=Stimulus,S  1,1201,1,0\r
"""
TYPES = {"INT_16": np.int16, "INT_32": np.int32, "IEEE_FLOAT_32": np.float32}


def recording(folder: Path, values: np.ndarray, binary: str = "INT_16", orientation: str = "MULTIPLEXED",
              name: str = "sub01") -> Path:
    """A BrainVision recording of ``values`` (samples x 3 channels) in ``folder``; its header's path."""
    (folder / f"{name}.vhdr").write_bytes(HEADER.format(name=name, orientation=orientation, binary=binary).encode())
    (folder / f"{name}.vmrk").write_bytes(MARKERS.format(name=name).encode())
    data = values.astype(TYPES[binary])
    (data if orientation == "MULTIPLEXED" else data.T).tofile(folder / f"{name}.eeg")
    return folder / f"{name}.vhdr"


@pytest.fixture(scope="module")
def eeg(mitdb_100) -> np.ndarray:
    x = sancodec.read_signal(mitdb_100).samples[:6000].astype(np.int64) - 1024
    return np.column_stack([x, x[:, 0] - x[:, 1]])


@pytest.mark.parametrize("binary, orientation", [("INT_16", "MULTIPLEXED"), ("INT_32", "VECTORIZED"),
                                                 ("INT_16", "VECTORIZED")])
def test_a_recording_comes_back_byte_for_byte(tmp_path, eeg, binary, orientation):
    """Integer samples at the header's rate, each channel's resolution its gain, its names (a ``\\1`` a comma) and
    units; a lossless decode under the same name writes the three files again, byte for byte, and under another
    name the same but for the lines naming the data and marker files."""
    vhdr = recording(tmp_path, eeg, binary, orientation)
    signal = sancodec.read_signal(vhdr)
    assert signal.fs == 500.0 and signal.channel_names == ["Fp1", "F,z", "EOG"] and signal.units == ["µV", "µV", "mV"]
    assert signal.adc_gain == [10.0, 2.0, 1.0] and np.array_equal(signal.samples, eeg)
    decoded = sancodec.decode(sancodec.encode(signal))
    out = tmp_path / "out"
    out.mkdir()
    written = sancodec.write_signal(decoded, out / "sub01.vhdr")
    assert sorted(p.name for p in written) == ["sub01.eeg", "sub01.vhdr", "sub01.vmrk"]
    for suffix in (".vhdr", ".eeg", ".vmrk"):
        assert (out / f"sub01{suffix}").read_bytes() == (tmp_path / f"sub01{suffix}").read_bytes(), suffix
    sancodec.write_signal(decoded, out / "renamed", format="brainvision")
    text = (out / "renamed.vhdr").read_bytes()
    assert b"DataFile=renamed.eeg\r\n" in text and b"MarkerFile=renamed.vmrk\r\n" in text
    assert text.replace(b"renamed", b"sub01") == (tmp_path / "sub01.vhdr").read_bytes()
    assert (out / "renamed.eeg").read_bytes() == (tmp_path / "sub01.eeg").read_bytes()


def test_float_samples_code_near_lossless_or_lossy_and_come_back_as_floats(tmp_path, eeg):
    """32-bit floats are the file's values: coded near-lossless within the bound, and written back as 32-bit
    floats in the file's layout."""
    vhdr = recording(tmp_path, eeg * 0.1, "IEEE_FLOAT_32")
    signal = sancodec.read_signal(vhdr)
    assert not signal.is_digital and np.array_equal(signal.samples, (eeg * 0.1).astype(np.float32))
    decoded = sancodec.decode(sancodec.encode(signal, mode="near-lossless", max_error=0.01))
    out = tmp_path / "o.vhdr"
    sancodec.write_signal(decoded, out)
    back = np.fromfile(tmp_path / "o.eeg", dtype=np.float32).reshape(-1, 3)
    assert np.max(np.abs(back - signal.samples)) <= 0.0101
    assert b"BinaryFormat=IEEE_FLOAT_32" in out.read_bytes()


def test_other_signals_are_written_under_a_plain_header(tmp_path, mitdb_100):
    """A WFDB record decoded to BrainVision: 16-bit integers less its baselines, each resolution its gain's
    reciprocal, one New Segment marker; read back to the same physical values."""
    record = sancodec.read_signal(mitdb_100).slice(0, 2000)
    sancodec.write_signal(record, tmp_path / "r.vhdr")
    back = sancodec.read_signal(tmp_path / "r.vhdr")
    assert back.fs == record.fs and back.channel_names == record.channel_names
    assert np.allclose(back.physical(), record.physical())
    assert b"Mk1=New Segment,,1,1,0" in (tmp_path / "r.vmrk").read_bytes()
    wide = sancodec.Signal(np.array([[70000], [-3]]), 250.0)
    sancodec.write_signal(wide, tmp_path / "w.vhdr")
    assert b"BinaryFormat=INT_32" in (tmp_path / "w.vhdr").read_bytes()
    assert np.array_equal(sancodec.read_signal(tmp_path / "w.vhdr").samples, wide.samples)


@pytest.mark.parametrize("change, message", [
    (("DataFormat=BINARY", "DataFormat=ASCII"), "ASCII export"),
    (("BinaryFormat=INT_16", "BinaryFormat=UINT_8"), "INT_16, INT_32 and IEEE_FLOAT_32"),
    (("DataOrientation=MULTIPLEXED", "DataOrientation=SIDEWAYS"), "MULTIPLEXED or VECTORIZED"),
    (("DataFile=sub01.eeg", "DataFile=../elsewhere.eeg"), "a data file's name beside the header"),
    (("DataFile=sub01.eeg", "DataFile=missing.eeg"), "is not beside it"),
    (("NumberOfChannels=3", "NumberOfChannels=0"), "NumberOfChannels=0"),
    (("NumberOfChannels=3", "NumberOfChannels=2"), "no whole number of samples"),
    (("SamplingInterval=2000", "SamplingInterval=0"), "gives no rate"),
    (("SamplingInterval=2000", "SamplingInterval=fast"), "not a number"),
    (("Ch2=F\\1z,,0.5", "Ch2=F\\1z,,-1"), "not a positive number"),
    (("[Binary Infos]", "[Binary Infos]\r\nUseBigEndianOrder=YES"), "big-endian"),
    (("Brain Vision Data Exchange", "Some Other"), "not a BrainVision header"),
])
def test_what_sancodec_does_not_read_is_refused_named(tmp_path, eeg, change, message):
    vhdr = recording(tmp_path, eeg[:301])
    vhdr.write_bytes(vhdr.read_bytes().replace(change[0].encode(), change[1].encode()))
    with pytest.raises(SanFormatError, match=message):
        sancodec.read_signal(vhdr)


def test_damaged_headers_and_data_read_or_are_refused_in_one_error(tmp_path, eeg):
    """Every cut of the header, and a data file cut at every few bytes, reads or gives a SancodecError; the data
    file or marker file given instead of the header says to give the header."""
    vhdr = recording(tmp_path, eeg[:200])
    cuts_read_or_refused(vhdr, vhdr.read_bytes(), 5, lambda: sancodec.read_signal(vhdr))
    data = tmp_path / "sub01.eeg"
    cuts_read_or_refused(data, data.read_bytes(), 37, lambda: sancodec.read_signal(vhdr))
    with pytest.raises(SanFormatError, match="give its header, sub01.vhdr"):
        sancodec.read_signal(tmp_path / "sub01.eeg")


def test_a_rate_fs_contradicts_is_refused(tmp_path, eeg):
    with pytest.raises(SanConfigError, match="carries its own rate, 500 Hz"):
        sancodec.read_signal(recording(tmp_path, eeg[:100]), fs=250.0)


def test_the_cli_encodes_a_vhdr_and_decodes_to_brainvision(tmp_path, eeg):
    """``sancodec encode sub01.vhdr``, ``decode sub01.san``: the three files again beside the input (named
    ``sub01_decoded``), which ``info`` names; ``batch`` finds the header."""
    from sancodec.batch import find_inputs

    vhdr = recording(tmp_path, eeg)
    runner = CliRunner()
    assert find_inputs(tmp_path) == [vhdr]
    assert runner.invoke(app, ["encode", str(vhdr), "-q"]).exit_code == 0
    result = runner.invoke(app, ["decode", str(tmp_path / "sub01.san")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sub01_decoded.eeg").read_bytes() == (tmp_path / "sub01.eeg").read_bytes()
    assert b"DataFile=sub01_decoded.eeg" in (tmp_path / "sub01_decoded.vmrk").read_bytes()
    shown = " ".join(runner.invoke(app, ["info", str(tmp_path / "sub01.san")]).output.replace("│", " ").split())
    assert "source BrainVision, INT_16 multiplexed; its header and marker file kept; 2 markers" in shown
    again = runner.invoke(app, ["decode", str(tmp_path / "sub01.san")])
    assert again.exit_code != 0 and "--force" in again.output  # (all three files checked before any is written)


def test_a_range_or_some_channels_go_out_under_a_plain_header(tmp_path, eeg):
    """A range's markers would count from another first sample, some channels' header would list the others: both
    are written under a plain header with one New Segment marker, their values as decoded."""
    vhdr = recording(tmp_path, eeg)
    data = sancodec.encode(sancodec.read_signal(vhdr))
    sancodec.write_signal(sancodec.decode(data, 1000, 2000), tmp_path / "range.vhdr")
    assert b"; Data written by sancodec" in (tmp_path / "range.vhdr").read_bytes()
    assert b"Stimulus" not in (tmp_path / "range.vmrk").read_bytes()
    assert np.array_equal(sancodec.read_signal(tmp_path / "range.vhdr").samples, eeg[1000:2000])
    two = sancodec.decode(data).select_channels([0, 2])
    sancodec.write_signal(two, tmp_path / "two.vhdr")
    back = sancodec.read_signal(tmp_path / "two.vhdr")
    assert back.channel_names == ["Fp1", "EOG"] and np.array_equal(back.samples, eeg[:, [0, 2]])


def test_a_marker_file_too_long_to_keep_is_said(tmp_path, eeg, monkeypatch):
    """Markers past what a .san keeps are not silently lost: a warning says so, and says to keep the file."""
    from sancodec.io import brainvision

    monkeypatch.setattr(brainvision, "MAX_KEPT", 100)
    with pytest.warns(sancodec.SancodecWarning, match="marker file of .* bytes, past the 100"):
        signal = sancodec.read_signal(recording(tmp_path, eeg[:50]))
    assert "vmrk" not in signal.source


def test_markers_become_annotations_an_edf_and_a_wfdb_record_keep(tmp_path, eeg):
    """Markers as MNE names them (``Stimulus/S  1``), at their sample's time: written as EDF+ annotations to EDF,
    and as notes to a WFDB record's annotation file."""
    signal = sancodec.read_signal(recording(tmp_path, eeg))
    assert signal.source["annotations"] == [[0.0, None, "New Segment/"], [2.4, None, "Stimulus/S  1"]]
    decoded = sancodec.decode(sancodec.encode(signal))
    sancodec.write_signal(decoded, tmp_path / "o.edf")
    notes = sancodec.read_signal(tmp_path / "o.edf").source["annotations"]
    assert [n[0] for n in notes] == [0.0, 2.4] and [n[2] for n in notes] == ["New Segment/", "Stimulus/S  1"]
    sancodec.write_signal(decoded, tmp_path / "rec")
    labels = sancodec.read_signal(tmp_path / "rec").annotations[0]
    assert 1200 in list(labels.sample) and "Stimulus/S  1" in list(labels.aux_note)


@pytest.mark.parametrize("orientation", ["MULTIPLEXED", "VECTORIZED"])
@pytest.mark.parametrize("options", [[], ["--mode", "near-lossless", "--max-error", "3"]])
def test_encode_streams_integers_to_the_bytes_of_coding_them_whole(tmp_path, monkeypatch, eeg, orientation, options):
    """``sancodec encode x.vhdr`` of integers reads the data file a block of rows at a time (mapped; the blocks made
    small here), not whole: the very file that coding it in memory makes; lossy, a block at a time too."""
    from sancodec import encode_streamed
    from sancodec.codec import api, lossyfile
    from sancodec.io import brainvision

    monkeypatch.setattr(encode_streamed, "WAV_BLOCK_ROWS", 1000)
    whole_reads: list[Path] = []
    read = brainvision.read_brainvision
    monkeypatch.setattr(brainvision, "read_brainvision", lambda p: whole_reads.append(p) or read(p))
    vhdr = recording(tmp_path, eeg, "INT_16", orientation)
    runner = CliRunner()
    res = runner.invoke(app, ["encode", str(vhdr), "-o", str(tmp_path / "s.san"), "-q", "--frame-len", "2048",
                              *options])
    assert res.exit_code == 0, res.output
    assert not whole_reads
    mode = {"mode": "near-lossless", "max_error": 3} if options else {}
    assert (tmp_path / "s.san").read_bytes() == sancodec.encode(read(vhdr), frame_len=2048, **mode)
    if options:
        return
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 11)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    res = runner.invoke(app, ["encode", str(vhdr), "-o", str(tmp_path / "l.san"), "-q", "--mode", "lossy", "--prdn",
                              "4", "--frame-len", "2048"])
    assert res.exit_code == 0, res.output
    whole = sancodec.encode(read(vhdr), mode="lossy", prdn=4, frame_len=2048)
    assert made == [True] and (tmp_path / "l.san").read_bytes() == whole and not whole_reads


@pytest.mark.parametrize("scale", [0.1, 0.1 / 32767 * 1e3])
def test_float_samples_on_a_step_come_back_byte_for_byte(tmp_path, eeg, scale):
    """32-bit floats that are counts scaled (a resolution of 0.1 µV; a gain and a range, two roundings) are read as
    float32 and coded losslessly on their step (format 1.18: before it, read as float64, they were refused), in the
    bytes their counts take (the frames' payloads); a decode under the same name writes the three files again,
    byte for byte."""
    vhdr = recording(tmp_path, eeg * scale, "IEEE_FLOAT_32")
    signal = sancodec.read_signal(vhdr)
    assert signal.samples.dtype == np.float32
    data = sancodec.encode(signal)
    counts = sancodec.encode(sancodec.read_signal(recording(tmp_path, eeg, "INT_32", name="counts")))
    assert read_info(data)["payload_bytes"] == read_info(counts)["payload_bytes"]  # (headers apart: the steps)
    out = tmp_path / "out"
    out.mkdir()
    sancodec.write_signal(sancodec.decode(data), out / "sub01.vhdr")
    for suffix in (".vhdr", ".eeg", ".vmrk"):
        assert (out / f"sub01{suffix}").read_bytes() == (tmp_path / f"sub01{suffix}").read_bytes(), suffix


def test_float_recordings_are_read_whole_by_the_cli(tmp_path, eeg):
    """32-bit floats (which the streaming writer takes only on a declared grid) are read whole and coded as
    ``sancodec.encode`` codes them."""
    vhdr = recording(tmp_path, eeg * 0.1, "IEEE_FLOAT_32")
    res = CliRunner().invoke(app, ["encode", str(vhdr), "-o", str(tmp_path / "f.san"), "-q", "--mode",
                                   "near-lossless", "--max-error", "0.01"])
    assert res.exit_code == 0, res.output
    expected = sancodec.encode(sancodec.read_signal(vhdr), mode="near-lossless", max_error=0.01)
    assert (tmp_path / "f.san").read_bytes() == expected


def test_markers_left_out_of_a_decode_are_said(tmp_path, eeg):
    """A BrainVision recording's markers decoded to CSV were left out without a word: said (its New Segment marker
    not counted); to BrainVision, EDF or WFDB nothing is said."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    runner = CliRunner()
    header = recording(tmp_path, eeg)
    assert runner.invoke(app, ["encode", str(header), "-o", str(tmp_path / "b.san"), "-q"]).exit_code == 0
    result = runner.invoke(app, ["decode", str(tmp_path / "b.san"), "-o", str(tmp_path / "b.csv")])
    assert result.exit_code == 0, result.output
    assert "1 BrainVision marker(s) not written: CSV holds samples only" in " ".join(result.output.split())
    for out in ("again.vhdr", "b.edf"):
        result = runner.invoke(app, ["decode", str(tmp_path / "b.san"), "-o", str(tmp_path / out)])
        assert result.exit_code == 0 and "not written" not in result.output, result.output
