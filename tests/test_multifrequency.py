"""Multi-frequency records: WFDB's samples per frame and EDF's rates, held on one time axis (the fastest rate, or
the least common multiple where rates do not divide it), coded at each channel's own rate, written back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from common import encoded_as_golden, rewrap

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
    with pytest.raises(SanFormatError, match="least common multiple"):  # a frame of 3 x 65536 rows
        Signal(x, 100.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[65536, 3])
    assert Signal(x, 100.0, ["a", "b"], ["mV", "mV"], samples_per_frame=[2, 3]).frame_size == 6
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
    for bad in ([4, 1], [4, 3, 1], "4", [4, 1, True], [3, 1, 1], [65536, 65535, 1]):
        header = {**reader.header, "signal": {**reader.header["signal"], "samples_per_frame": bad}}
        with pytest.raises(SanFormatError, match="samples_per_frame"):
            decode_file(rewrap(sancodec.encode(sig, mode="lossless"), header=header))


def _shhs_like(path: Path, seconds: int = 40) -> None:
    """An EDF+ with SHHS's rates in 1 s data records: 125, 50, 10 and 1 Hz (none but 1 divides 125), and a note."""
    import edfio

    rng = np.random.default_rng(7)
    signals = []
    for rate in (125, 50, 10, 1):
        x = np.cumsum(rng.integers(-40, 41, rate * seconds))
        signals.append(edfio.EdfSignal.from_digital((x - x.mean()).astype(np.int16), rate, label=f"S{rate}",
                                                    physical_dimension="uV", physical_range=(-3276.8, 3276.7),
                                                    digital_range=(-32768, 32767)))
    edfio.Edf(signals, data_record_duration=1.0, annotations=[edfio.EdfAnnotation(2.5, None, "lights off")]).write(path)


def test_rates_that_do_not_divide_the_fastest_share_their_least_common_multiple(tmp_path, monkeypatch):
    """SHHS's 125, 50, 10 and 1 Hz EDF (refused before: 50 and 10 do not divide 125) is held at 250 rows a second,
    coded at each signal's own rate in format 1.14, and comes back as EDF with those rates and samples, as WFDB
    with samples per frame 125, 50, 10 and 1, a channel subset at its own rates, and lossy at its PRDN on every
    channel."""
    import edfio
    from typer.testing import CliRunner

    from sancodec.cli import app

    src = tmp_path / "shhs.edf"
    _shhs_like(src)
    sig = read_signal(src)
    assert sig.samples_per_frame == [125, 50, 10, 1] and sig.frame_size == 250 and sig.fs == 250.0
    assert sig.sample_steps() == [2, 5, 25, 250] and sig.n_values == 40 * 186
    runner = CliRunner()
    san = tmp_path / "shhs.san"
    assert runner.invoke(app, ["encode", str(src), "-o", str(san), "-q"]).exit_code == 0
    shown = runner.invoke(app, ["info", str(san)]).output  # each channel's own rate beside the rows' 250 Hz
    assert "50 samples/frame (50 Hz)" in shown and "1 samples/frame (1 Hz)" in shown
    shown = " ".join(runner.invoke(app, ["report", str(src), str(san)]).output.split())
    assert f"{40 * 186} samples in 4 channels at their own rates" in shown and f"raw 16-bit │ {2 * 40 * 186} " in shown
    assert runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "back.edf"), "-q"]).exit_code == 0
    a, b = edfio.read_edf(src), edfio.read_edf(tmp_path / "back.edf")
    assert [s.sampling_frequency for s in b.signals] == [125, 50, 10, 1] and a.annotations == b.annotations
    assert all(np.array_equal(x.digital, y.digital) for x, y in zip(a.signals, b.signals))
    res = runner.invoke(app, ["decode", str(san), "-o", str(tmp_path / "w"), "--format", "wfdb", "-q"])
    assert res.exit_code == 0, res.output
    raw = wfdb.rdrecord(str(tmp_path / "w"), physical=False, smooth_frames=False)
    assert raw.samps_per_frame == [125, 50, 10, 1] and raw.fs == 1 and raw.sig_len == 40
    for x, y in zip(raw.e_d_signal, a.signals):
        np.testing.assert_array_equal(x, y.digital)
    np.testing.assert_array_equal(read_signal(tmp_path / "w").samples, sig.samples)
    part = sancodec.decode(san.read_bytes(), start=500, end=1500)  # whole frames of 250 rows
    np.testing.assert_array_equal(part.samples, sig.samples[500:1500])
    some = sig.select_channels([1, 3])
    assert some.samples_per_frame == [50, 1] and some.fs == 50.0
    np.testing.assert_array_equal(some.samples[:, 1], np.repeat(a.signals[3].digital, 50))
    data = san.read_bytes()  # format 1.14 (a frame of the least common multiple), which a 1.13 reader refuses
    assert data[4:6] == bytes([1, 14]) and sancodec.encode(read_signal(DATA / "03700181_2000f"))[5] < 14
    monkeypatch.setattr(sancodec.codec.container, "MINOR", 13)
    with pytest.raises(SanFormatError, match="newer than this reader"):
        sancodec.decode(data)
    monkeypatch.undo()
    lossy = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=3))
    for ch, step in enumerate(sig.sample_steps()):
        x, y = sig.samples[::step, ch].astype(float), lossy.samples[::step, ch].astype(float)
        assert 100 * np.linalg.norm(x - y) / np.linalg.norm(x - x.mean()) <= 3.0


def test_a_frame_many_times_the_fastest_channel_is_refused_with_the_reason(tmp_path):
    """125 Hz beside 128 Hz would share 16 000 rows a second; a WFDB record of 19 and 17 samples per frame 323
    rows a frame: each refused in one line that names the least common multiple, not held at many times their
    memory. WFDB's 20 and 3 (a frame of 60 rows, three times the fastest) reads, each channel as wfdb reads it."""
    import edfio

    edfio.Edf([edfio.EdfSignal.from_digital(np.zeros(10 * r, np.int16), r, label=f"S{r}") for r in (125, 128)],
              data_record_duration=1.0).write(tmp_path / "odd.edf")
    with pytest.raises(SanFormatError, match="16000 rows .their least common multiple"):
        read_signal(tmp_path / "odd.edf")
    from sancodec.signal import readable_frame

    with pytest.raises(SanFormatError, match="a channel with 0 samples per frame"):  # (math.lcm would say 0 rows)
        readable_frame([5, 0], "r.hea")
    for spf, readable in (([19, 17], False), ([20, 3], True)):
        wfdb.wrsamp("r", fs=10, units=["mV", "mV"], sig_name=["a", "b"], fmt=["16", "16"], adc_gain=[1.0, 1.0],
                    baseline=[0, 0], samps_per_frame=spf, e_d_signal=[np.arange(2 * spf[0]), np.arange(2 * spf[1])],
                    write_dir=str(tmp_path))
        if not readable:
            with pytest.raises(SanFormatError, match="least common multiple"):
                read_signal(tmp_path / "r")
            continue
        sig = read_signal(tmp_path / "r")
        assert sig.frame_size == 60 and sig.n_samples == 120 and sig.fs == 600.0
        np.testing.assert_array_equal(sig.samples[::3, 0], np.arange(40))
        np.testing.assert_array_equal(sig.samples[::20, 1], np.arange(6))
        back = sancodec.decode(sancodec.encode(sig))
        np.testing.assert_array_equal(back.samples, sig.samples)


GOLDEN_LCM = Path(__file__).parent / "golden" / "lcm_frame_lossless.san"


def _lcm_record() -> Signal:
    """400 frames of a record at 5 and 2 samples per frame (10 rows a frame), from integer formulas alone: no
    random stream, which a numpy release may change."""
    fast, slow = np.arange(5 * 400), np.arange(2 * 400)
    a = np.cumsum((fast * fast * 7919) % 41 - 20)
    b = np.cumsum((slow * 104729) % 17 - 8) * 3
    rows = np.column_stack([np.repeat(a, 2), np.repeat(b, 5)]).astype(np.int64)
    return Signal(rows, 1000.0, ["ecg", "resp"], ["mV", "mV"], adc_gain=[200.0, 100.0], baseline=[0, 0],
                  fmt=["16", "16"], samples_per_frame=[5, 2])


def test_the_format_1_14_golden_file():
    """The golden file of a frame of the least common multiple (format 1.14): the encoder writes it byte for byte
    (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it), and it decodes to the record."""
    sig = _lcm_record()
    golden = encoded_as_golden(GOLDEN_LCM, sancodec.encode(sig, frame_len=1000))
    assert golden[4:6] == bytes([1, 14])
    back = sancodec.decode(golden)
    np.testing.assert_array_equal(back.samples, sig.samples)
    assert back.samples_per_frame == [5, 2] and back.frame_size == 10 and back.fs == 1000.0


@pytest.mark.parametrize("spf", [[125, 25, 10, 1], [125, 50, 10, 3], [250, 50, 10, 1], [125, 50, 20, 2],
                                 [1, 1, 1, 1], [125, 50, 10, 65536]])
def test_a_san_whose_samples_per_frame_lie_is_refused(tmp_path, spf):
    """A 1.14 file (SHHS's rates) rewrapped with valid CRCs around a header whose samples per frame say otherwise:
    refused as a format error by decode and by sancodec.open, never another exception or other samples."""
    src = tmp_path / "shhs.edf"
    _shhs_like(src, seconds=8)
    data = sancodec.encode(read_signal(src))
    reader = sancodec.codec.container.SanReader(data)
    bad = rewrap(data, header={**reader.header, "signal": {**reader.header["signal"], "samples_per_frame": spf}})
    with pytest.raises(SanFormatError):
        decode_file(bad)
    (tmp_path / "bad.san").write_bytes(bad)
    with pytest.raises(SanFormatError):
        with sancodec.open(tmp_path / "bad.san") as f:
            f.read()
