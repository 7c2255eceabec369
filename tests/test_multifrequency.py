"""Multi-frequency WFDB records: read at the fastest rate, coded at each channel's own rate, written back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from common import rewrap

import sancodec
from sancodec import SanFormatError, Signal, read_signal, write_signal
from sancodec.codec import decode_file
from sancodec.signal import Annotations

DATA = Path(__file__).parent / "data"
RECORDS = {"03700181_2000f": ([4, 1, 1], 125.0), "mixedsignals_1000f": ([4, 4, 4, 2, 2, 1], 62.4725)}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_read_holds_slow_channels_at_the_fastest_rate(name):
    spf, frame_fs = RECORDS[name]
    sig = read_signal(DATA / name)
    raw = wfdb.rdrecord(str(DATA / name), physical=False, smooth_frames=False)
    assert sig.samples_per_frame == spf and sig.fs == pytest.approx(frame_fs * max(spf))
    assert sig.n_samples == raw.sig_len * max(spf)
    for ch, step in enumerate(sig.sample_steps()):
        np.testing.assert_array_equal(sig.samples[::step, ch], raw.e_d_signal[ch])
        np.testing.assert_array_equal(sig.samples[:, ch], np.repeat(raw.e_d_signal[ch], step))


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_wfdb_write_restores_samples_per_frame_and_file_grouping(tmp_path, name):
    sig = read_signal(DATA / name)
    files = write_signal(sig, tmp_path / "copy")
    back = read_signal(tmp_path / "copy")
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.samples_per_frame == sig.samples_per_frame and back.fs == pytest.approx(sig.fs)
    head = wfdb.rdheader(str(tmp_path / "copy"))
    assert head.samps_per_frame == RECORDS[name][0] and head.fs == pytest.approx(RECORDS[name][1])
    source_files = len(set(wfdb.rdheader(str(DATA / name)).file_name))
    assert len([f for f in files if f.suffix == ".dat"]) == source_files  # FLAC needs one file per rate


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_every_mode_codes_each_channel_at_its_own_rate(name):
    sig = read_signal(DATA / name)
    data = sancodec.encode(sig, mode="lossless")
    back = sancodec.decode(data)
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.header_dict() == sig.header_dict()
    # The same rows as a single-rate signal code every held sample again: larger.
    flat = Signal(sig.samples, sig.fs, sig.channel_names, sig.units, sig.adc_gain, sig.baseline, sig.fmt)
    assert len(data) < 0.95 * len(sancodec.encode(flat, mode="lossless"))
    near = sancodec.decode(sancodec.encode(sig, mode="near-lossless", max_error=2))
    assert np.abs(near.samples - sig.samples).max() <= 2
    lossy = sancodec.decode(sancodec.encode(sig, mode="san"))
    for ch, step in enumerate(sig.sample_steps()):  # slow channels stay held after lossy decoding
        held = lossy.samples[:, ch].reshape(-1, step)
        assert (held == held[:, :1]).all()


def test_range_decoding_of_a_multi_frequency_file(tmp_path):
    sig = read_signal(DATA / "03700181_2000f")
    data = sancodec.encode(sig, mode="lossless", frame_len=1024)
    part = decode_file(data, start=2049, end=5001)
    assert part.frames_read == 3
    np.testing.assert_array_equal(part.signal.samples, sig.samples[2049:5001])
    aligned = sancodec.decode(data, 2048, 5000)
    write_signal(aligned, tmp_path / "part")
    np.testing.assert_array_equal(read_signal(tmp_path / "part").samples, sig.samples[2048:5000])
    with pytest.raises(SanFormatError, match="multiple of 4 rows"):
        write_signal(part.signal, tmp_path / "unaligned")  # starts inside a frame


def test_the_cli_asks_for_whole_frames_before_it_writes_anything(tmp_path):
    from typer.testing import CliRunner

    from sancodec.cli import app

    san = tmp_path / "m.san"
    san.write_bytes(sancodec.encode(read_signal(DATA / "03700181_2000f"), mode="lossless", frame_len=1024))
    res = CliRunner().invoke(app, ["decode", str(san), "-o", str(tmp_path / "part"), "--start", "2049"])
    assert res.exit_code == 2 and "--start and --end must be multiples of 4 (got 2049 and 8000)" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.san"]
    res = CliRunner().invoke(app, ["decode", str(san), "-o", str(tmp_path / "part"), "--start", "2048", "-q"])
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(read_signal(tmp_path / "part").samples,
                                  read_signal(DATA / "03700181_2000f").samples[2048:])


def test_frame_length_is_a_whole_number_of_frames():
    sig = read_signal(DATA / "mixedsignals_1000f")
    data = sancodec.encode(sig, mode="lossless", frame_len=1001)
    assert sancodec.codec.container.SanReader(data).header["frame_len"] == 1000
    np.testing.assert_array_equal(sancodec.decode(data).samples, sig.samples)
    short = sancodec.encode(sig, mode="lossless", frame_len=17)  # rounds down to whole frames of 4
    assert sancodec.codec.container.SanReader(short).header["frame_len"] == 16
    x = np.repeat(np.arange(60), 3)[:, None]
    three = Signal(np.concatenate([x, x], axis=1), 30.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[3, 1])
    data = sancodec.encode(three, mode="lossless", frame_len=17)  # rounds up to 18, not down to 15
    assert sancodec.codec.container.SanReader(data).header["frame_len"] == 18
    np.testing.assert_array_equal(sancodec.decode(data).samples, three.samples)


def test_signals_that_break_the_frame_structure_are_refused():
    x = np.repeat(np.arange(12), 2).reshape(-1, 2) * [1, 1]
    with pytest.raises(SanFormatError, match="divide"):
        Signal(x, 100.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[2, 3])
    x[5, 1] += 1  # channel 1 runs at half rate but changes inside a frame
    sig = Signal(x, 100.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[2, 1])
    with pytest.raises(SanFormatError, match="does not hold"):
        sancodec.encode(sig, mode="lossless")
    with pytest.raises(SanFormatError, match="whole frames"):
        sancodec.encode(sig.slice(0, 11), mode="lossless")
    assert Signal(x, 100.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[1, 1]).samples_per_frame is None


def test_selecting_only_slow_channels_returns_them_at_their_own_rate():
    sig = read_signal(DATA / "03700181_2000f")
    sig.annotations = [Annotations("atr", np.array([0, 40, 4000]), ["N"] * 3, np.zeros(3, int), np.zeros(3, int),
                                   np.zeros(3, int), [""] * 3)]
    slow = sig.select_channels([1, 2])
    assert slow.samples_per_frame is None and slow.fs == pytest.approx(125.0) and slow.n_samples == 2000
    np.testing.assert_array_equal(slow.samples, sig.samples[::4, 1:])
    assert slow.annotations[0].sample.tolist() == [0, 10, 1000]


def test_bad_samples_per_frame_in_a_file_is_a_format_error():
    sig = read_signal(DATA / "03700181_2000f")
    reader = sancodec.codec.container.SanReader(sancodec.encode(sig, mode="lossless"))
    for bad in ([4, 1], [4, 3, 1], "4", [4, 1, True], [3, 1, 1]):
        header = {**reader.header, "signal": {**reader.header["signal"], "samples_per_frame": bad}}
        with pytest.raises(SanFormatError, match="samples_per_frame"):
            decode_file(rewrap(sancodec.encode(sig, mode="lossless"), header=header))
