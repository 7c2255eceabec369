"""WAV files (io/wav.py): integer PCM read as a record and written back byte for byte, other signals under a plain
header, hostile files refused with a SanFormatError and hostile source entries ignored."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.errors import SanConfigError, SanFormatError
from sancodec.io import read_signal, write_signal
from sancodec.io.wav import _PCM_GUID_TAIL, EXTENSIBLE, IEEE_FLOAT, PCM, read_wav, write_wav
from sancodec.signal import Signal

runner = CliRunner()


def _chunk(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    return kind + (len(body) if size is None else size).to_bytes(4, "little") + body + (b"\0" if len(body) & 1 else b"")


def _wav(samples: np.ndarray, rate: int, bits: int, extensible: bool = False, before: bytes = b"",
         after: bytes = b"", data_size: int | None = None, tail: bytes = b"") -> bytes:
    """A WAV file's bytes as recorders write them: ``before`` chunks between ``fmt `` and ``data``, ``after`` chunks
    past the samples, the ``data`` chunk's size field ``data_size`` (a stream's 0xFFFFFFFF) and ``tail`` bytes (a
    partial last frame) after the samples."""
    x = samples.reshape(len(samples), -1)
    channels = x.shape[1]
    if bits == 8:
        body = (x.reshape(-1) + 128).astype("u1").tobytes()
    elif bits == 24:
        body = np.ascontiguousarray(x.reshape(-1), dtype="<i4").view("u1").reshape(-1, 4)[:, :3].tobytes()
    else:
        body = np.ascontiguousarray(x, dtype={16: "<i2", 32: "<i4"}[bits]).tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", EXTENSIBLE if extensible else PCM, channels, rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 3) + PCM.to_bytes(2, "little") + _PCM_GUID_TAIL
    data = b"data" + (len(body + tail) if data_size is None else data_size).to_bytes(4, "little") + body + tail
    chunks = _chunk(b"fmt ", fmt) + before + data + after
    return b"RIFF" + (4 + len(chunks)).to_bytes(4, "little") + b"WAVE" + chunks


def _samples(rng: np.random.Generator, n: int, channels: int, bits: int) -> np.ndarray:
    top = 1 << (bits - 1)
    walk = np.cumsum(rng.integers(-top // 64, top // 64 + 1, (n, channels)), axis=0)
    return np.clip(walk, -top, top - 1).astype(np.int64)


LIST = _chunk(b"LIST", b"INFO" + _chunk(b"INAM", b"heart sounds\0") + _chunk(b"ICMT", b"site 2\0"))


@pytest.mark.parametrize("bits, channels, extensible, before, after, data_size, tail", [
    (16, 1, False, b"", b"", None, b""),  # PhysioNet 2016's heart sounds: 2000 Hz, 16-bit mono
    (8, 1, False, b"", b"", None, b""),  # unsigned 8-bit, an odd count of samples: a pad byte
    (24, 3, True, b"", b"", None, b""),  # a 24-bit ADC's three channels, WAVE_FORMAT_EXTENSIBLE
    (32, 2, False, LIST, b"", None, b""),  # a LIST chunk of metadata before the samples
    (16, 2, False, b"", _chunk(b"id3 ", b"ID3\x04" + bytes(20)), None, b""),  # a chunk after them
    (16, 2, False, b"", b"", 0xFFFFFFFF, b""),  # a stream's header: sizes never patched
    (16, 2, False, b"", b"", None, b"\x01\x02\x03"),  # a recorder stopped mid-frame
])
def test_a_wav_file_comes_back_byte_for_byte(tmp_path, bits, channels, extensible, before, after, data_size, tail):
    """A WAV of integer PCM is read as its samples (8-bit ones less 128) at its rate, and a lossless decode writes
    the very file back: its header, chunks before and after the samples and any bytes past the last whole frame
    kept in the source entry; ``sancodec decode`` names it ``<stem>_decoded.wav`` by default."""
    rng = np.random.default_rng(bits + channels)
    n = 3001 if bits == 8 else 4000
    x = _samples(rng, n, channels, bits)
    data = _wav(x, 2000, bits, extensible, before, after, data_size, tail)
    (tmp_path / "h.wav").write_bytes(data)
    signal = read_signal(tmp_path / "h.wav")
    assert signal.fs == 2000.0 and signal.samples.shape == (n, channels) and np.array_equal(signal.samples, x)
    write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.wav")
    assert (tmp_path / "o.wav").read_bytes() == data
    assert runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "h.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "h_decoded.wav").read_bytes() == data
    info = runner.invoke(app, ["info", str(tmp_path / "h.san")])
    assert f"WAV, {bits}-bit; its header and chunks kept" in info.stdout


def test_other_signals_are_written_under_a_plain_header_that_wav_readers_take(tmp_path):
    """A record that was no WAV (a WFDB record's 16-bit samples), a range or some channels of one that was (whose
    kept header no longer fits), and a lossy decode are written under a plain header at the fewest of 16, 24 and 32
    bits that holds the samples (a WAV's own bits where they do): what soundfile, scipy and the wave module read
    back as these samples at this rate."""
    import soundfile

    rng = np.random.default_rng(4)
    x = _samples(rng, 5000, 3, 24)
    (tmp_path / "a.wav").write_bytes(_wav(x, 1000, 24, True))
    data = sancodec.encode(read_signal(tmp_path / "a.wav"))
    part = sancodec.decode(data).slice(100, 400).select_channels([2, 0])
    write_signal(part, tmp_path / "p.wav")
    back, rate = soundfile.read(tmp_path / "p.wav", dtype="int32")
    assert rate == 1000 and np.array_equal(back >> 8, x[100:400, [2, 0]])
    assert soundfile.info(str(tmp_path / "p.wav")).subtype == "PCM_24"
    small = Signal(np.array([[1, -2], [300, 4]], dtype=np.int64), 360.0, ["a", "b"], ["mV", "mV"])
    write_signal(small, tmp_path / "s.wav")
    import wave

    with wave.open(str(tmp_path / "s.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 360, 2)
        assert np.array_equal(np.frombuffer(w.readframes(2), "<i2").reshape(2, 2), small.samples)
    wide = Signal(np.array([[1], [-(1 << 20)]], dtype=np.int64), 500.0, ["a"], ["mV"])
    write_signal(wide, tmp_path / "w.wav")
    assert soundfile.info(str(tmp_path / "w.wav")).subtype == "PCM_24"
    lossy = sancodec.decode(sancodec.encode(read_signal(tmp_path / "a.wav"), mode="lossy", prdn=5))
    write_signal(lossy, tmp_path / "l.wav")
    assert soundfile.info(str(tmp_path / "l.wav")).frames == 5000


@pytest.mark.parametrize("signal, said", [
    (Signal(np.zeros((4, 1)), 250.0, ["a"], ["mV"]), "integer samples"),  # floats
    (Signal(np.zeros((4, 1), dtype=np.int64), 360.5, ["a"], ["mV"]), "whole number of hertz"),
    (Signal(np.array([[1 << 40], [0]], dtype=np.int64), 250.0, ["a"], ["mV"]), "past the 32 bits"),
])
def test_what_a_wav_cannot_hold_is_refused_before_anything_is_written(tmp_path, signal, said):
    with pytest.raises(SanConfigError, match=said):
        write_signal(signal, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("data, said", [
    (b"RIFX" + bytes(40), "not a RIFF WAVE file"),
    (b"RF64" + bytes(4) + b"WAVE" + bytes(40), "RF64"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"data", bytes(8)), "before their format"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", bytes(8)), "under the 16"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 3, 1, 8000, 16000, 2, 16)),
     "16-bit floating-point"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 2, 1, 8000, 4000, 256, 4)), "format 0x0002"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 24000, 3, 12)), "12-bit"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 0, 8000, 0, 0, 16)), "0 channels"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 0, 0, 2, 16)), "0 Hz"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 2, 8000, 0, 2, 16)), "frames of 2"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)), "no 'data'"),
    (b"RIFF" + bytes(4) + b"WAVE" + _chunk(b"fmt ", struct.pack("<HHIIHH", 1, 2, 8000, 32000, 4, 16))
     + _chunk(b"data", b"\1\2\3"), "no whole frame"),
])
def test_a_wav_that_is_not_one_sancodec_reads_is_refused_named(tmp_path, data, said):
    (tmp_path / "x.wav").write_bytes(data)
    with pytest.raises(SanFormatError, match=said):
        read_wav(tmp_path / "x.wav")


def test_a_damaged_wav_is_read_or_refused_never_crashes(tmp_path):
    """Every cut of a WAV file and a few hundred with bytes changed in its header: each read as a Signal (then
    coded and written back) or refused with a SanFormatError, nothing else raised."""
    rng = np.random.default_rng(9)
    cases = []
    pick = random.Random(3)
    for good in (_wav(_samples(rng, 50, 2, 16), 500, 16, before=LIST),
                 _float_wav(rng.normal(size=(50, 2)).astype(np.float32), 500, 32)):  # (a float WAV's too)
        cases += [good[:k] for k in range(len(good))]
        for _ in range(300):
            damaged = bytearray(good)
            for _ in range(pick.randint(1, 4)):
                damaged[pick.randrange(0, 120)] = pick.randrange(256)
            cases.append(bytes(damaged))
    for k, data in enumerate(cases):
        (tmp_path / "x.wav").write_bytes(data)
        try:
            signal = read_wav(tmp_path / "x.wav")
        except SanFormatError:
            continue
        write_signal(sancodec.decode(sancodec.encode(signal)), tmp_path / "o.wav")
        assert read_wav(tmp_path / "o.wav").samples.tolist() == signal.samples.tolist(), k


@pytest.mark.parametrize("kept", [
    None, "x", {"frames": 3}, {"frames": 3, "channels": 1, "bits": 12},
    {"frames": 3, "channels": 1, "bits": 16, "before": "not base64!", "after": ""},
    {"frames": 3, "channels": 1, "bits": 16, "before": "UklGRg==", "after": ""},  # "RIFF" alone: no header
    {"frames": 3, "channels": 2, "bits": 16, "before": None, "after": ""},
])
def test_a_headers_wav_entry_is_used_only_where_it_holds(tmp_path, kept):
    """A ``.san`` header's ``wav`` entry is not trusted: with any field out of place the samples are written under a
    plain header at 16 bits, never raised on."""
    signal = Signal(np.array([[1], [-2], [3]], dtype=np.int64), 8000.0, ["a"], ["NU"],
                    source={"kind": "wav", "wav": kept})
    write_wav(signal, tmp_path / "x.wav")
    data = (tmp_path / "x.wav").read_bytes()
    assert data[:4] == b"RIFF" and len(data) == 44 + 6 and read_wav(tmp_path / "x.wav").samples.tolist() == \
        [[1], [-2], [3]]


def _float_wav(x: np.ndarray, rate: int, bits: int, extensible: bool = False) -> bytes:
    """A WAV of IEEE floats as audio tools write one: ``fmt `` (tag 3, or EXTENSIBLE with the float subformat), a
    ``fact`` chunk of the frames and a ``PEAK`` chunk (libsndfile's), then the samples."""
    channels, block = x.shape[1], x.shape[1] * bits // 8
    fmt = struct.pack("<HHIIHH", EXTENSIBLE if extensible else IEEE_FLOAT, channels, rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + IEEE_FLOAT.to_bytes(2, "little") + _PCM_GUID_TAIL
    body = np.ascontiguousarray(x, dtype={32: "<f4", 64: "<f8"}[bits]).tobytes()
    chunks = _chunk(b"fmt ", fmt) + _chunk(b"fact", len(x).to_bytes(4, "little")) + \
        _chunk(b"PEAK", bytes(8 + 8 * channels)) + _chunk(b"data", body)
    return b"RIFF" + (4 + len(chunks)).to_bytes(4, "little") + b"WAVE" + chunks


@pytest.mark.parametrize("bits, channels, extensible", [(32, 1, False), (32, 2, False), (32, 3, True),
                                                        (64, 2, False)])
def test_a_wav_of_floats_comes_back_byte_for_byte_and_lossy_within_its_target(tmp_path, bits, channels, extensible):
    """A WAV of IEEE floats (an audio editor's default export) was refused ("floating-point samples, which sancodec
    does not read from a WAV"). It reads as float32 or float64 values: lossless, the very file (float32 values as
    their bits or on a step; float64 ones on a step: counts scaled); lossy, a WAV of floats of the source's width
    (32-bit ones where that rounding keeps the target, ``codec.float32promise``: they were 64-bit floats, twice the
    source's size) whose PRDN meets the target; a selection of its channels under a plain float header that WAV
    readers take. ``info`` says the floats' width."""
    rng = np.random.default_rng(bits + channels)
    x = np.cumsum(rng.normal(size=(6000, channels)), axis=0) * 0.01
    x = x.astype(np.float32) if bits == 32 else np.round(x * 2**12) / 2**12  # (64 bits: counts scaled)
    (tmp_path / "f.wav").write_bytes(_float_wav(x, 4000, bits, extensible))
    signal = read_wav(tmp_path / "f.wav")
    assert signal.samples.dtype == (np.float32 if bits == 32 else np.float64) and np.array_equal(signal.samples, x)
    res = runner.invoke(app, ["encode", str(tmp_path / "f.wav"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "f_decoded.wav").read_bytes() == (tmp_path / "f.wav").read_bytes()
    res = runner.invoke(app, ["info", str(tmp_path / "f.san")])
    assert res.exit_code == 0 and f"{bits}-bit floats" in res.stdout, res.output
    res = runner.invoke(app, ["encode", str(tmp_path / "f.wav"), "--mode", "lossy", "--prdn", "2", "-o",
                              str(tmp_path / "l.san"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.wav"), "-q"])
    assert res.exit_code == 0, res.output
    back = read_wav(tmp_path / "l.wav")
    assert back.samples.dtype == (np.float32 if bits == 32 else np.float64)
    ref = x.astype(np.float64)
    for k in range(channels):
        err, spread = back.samples[:, k] - ref[:, k], ref[:, k] - ref[:, k].mean()
        assert 100 * np.sqrt((err**2).sum() / (spread**2).sum()) <= 2.0
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "--channels", "0", "-o", str(tmp_path / "c.wav"),
                              "-q"])
    assert res.exit_code == 0, res.output
    one = read_wav(tmp_path / "c.wav")
    assert one.n_channels == 1 and np.array_equal(one.samples[:, 0], x[:, 0])


@pytest.mark.parametrize("mode", [["--mode", "lossy", "--prdn", "0.5"], ["--mode", "near-lossless", "--max-error",
                                                                      "0.0005"]])
def test_a_float32_wav_s_decode_stays_64_bit_where_float32_would_break_its_promise(tmp_path, mode):
    """A float32 WAV near 302 that moves by thousandths sits on a float32 spacing of 3e-5, a hundredth of its spread:
    rounded to float32, its lossy decode would pass the PRDN target (``tests/test_float32promise.py``), so it is
    written as 64-bit floats, meeting it; near-lossless, whose grid leaves room for the rounding, goes back to
    32 bits within its bound."""
    t = np.arange(8000)
    x = (302.0 + 0.003 * np.sin(t / 40) + 0.0004 * np.random.default_rng(1).normal(size=t.size)).astype(np.float32)
    (tmp_path / "f.wav").write_bytes(_float_wav(x[:, None], 4000, 32, False))
    res = runner.invoke(app, ["encode", str(tmp_path / "f.wav"), *mode, "-o", str(tmp_path / "l.san"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["decode", str(tmp_path / "l.san"), "-o", str(tmp_path / "l.wav"), "-q"])
    assert res.exit_code == 0, res.output
    back, ref = read_wav(tmp_path / "l.wav").samples[:, 0], x.astype(np.float64)
    if mode[1] == "lossy":
        assert back.dtype == np.float64
        assert 100 * np.linalg.norm(back - ref) / np.linalg.norm(ref - ref.mean()) <= 0.5
    else:
        assert back.dtype == np.float32 and np.abs(back.astype(np.float64) - ref).max() <= 0.0005


def test_a_float_signal_of_another_source_is_still_no_wav(tmp_path):
    """Only a float WAV's floats go back to a WAV: those of another source (a .npy's, or a header whose ``wav`` entry
    says floats of a width WAV has not) are refused before anything is written."""
    x = np.zeros((4, 1), dtype=np.float32)
    for source in (None, {"kind": "wav", "wav": {"frames": 4, "channels": 1, "bits": 16, "float": True}},
                   {"kind": "wav", "wav": {"frames": 4, "channels": 1, "bits": 32, "float": "yes"}}):
        with pytest.raises(SanConfigError, match="integer samples"):
            write_wav(Signal(x, 8000.0, ["a"], ["NU"], source=source), tmp_path / "x.wav")
        assert not (tmp_path / "x.wav").exists()
    write_wav(Signal(x, 8000.0, ["a"], ["NU"], source={"kind": "wav", "wav": {"frames": 4, "channels": 1, "bits": 32,
                                                                                "float": True}}), tmp_path / "x.wav")
    assert read_wav(tmp_path / "x.wav").samples.dtype == np.float32


def test_a_wav_carries_its_own_rate_and_its_suffix_names_the_format(tmp_path):
    """``--fs`` asking another rate than the file's is refused, as for EDF and WFDB; ``-o x.wav`` writes WAV (it
    wrote ``x.wav.edf`` from an EDF source)."""
    x = _samples(np.random.default_rng(1), 1000, 1, 16)
    (tmp_path / "h.wav").write_bytes(_wav(x, 2000, 16))
    res = runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "--fs", "1000", "-q"])
    assert res.exit_code != 0 and "carries its own rate, 2000 Hz" in res.output
    assert runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "--fs", "2000", "-q"]).exit_code == 0
    edf = Signal(x, 2000.0, ["a"], ["uV"], adc_gain=[1.0], baseline=[0])
    write_signal(edf, tmp_path / "e.edf")
    assert runner.invoke(app, ["encode", str(tmp_path / "e.edf"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["decode", str(tmp_path / "e.san"), "-o", str(tmp_path / "out.wav"), "-q"])
    assert res.exit_code == 0, res.output
    back = read_wav(tmp_path / "out.wav").samples  # (the EDF's whole data records: its last one filled out)
    assert back[: len(x)].tolist() == x.tolist() and not Path(f"{tmp_path}/out.wav.edf").exists()


@pytest.mark.parametrize("bits, channels", [(16, 2), (24, 3), (8, 1)])
@pytest.mark.parametrize("options", [[], ["--mode", "near-lossless", "--max-error", "3"]])
def test_encode_streams_a_wav_to_the_bytes_of_coding_it_whole(tmp_path, monkeypatch, bits, channels, options):
    """``sancodec encode x.wav`` reads the file a block of frames at a time (``io.wav.wav_reads``, the blocks made
    small here), not whole: the very file that coding it in memory makes, its memory the block's."""
    from sancodec import encode_streamed
    from sancodec.io import wav

    monkeypatch.setattr(encode_streamed, "WAV_BLOCK_ROWS", 1000)
    whole_reads: list[Path] = []
    read = wav.read_wav
    monkeypatch.setattr(wav, "read_wav", lambda p: whole_reads.append(p) or read(p))
    x = _samples(np.random.default_rng(bits), 9001, channels, bits)
    (tmp_path / "h.wav").write_bytes(_wav(x, 1000, bits, before=LIST, tail=b"\x07"))
    res = runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "-o", str(tmp_path / "s.san"), "-q",
                              "--frame-len", "4096", *options])
    assert res.exit_code == 0, res.output
    assert not whole_reads
    mode = {"mode": "near-lossless", "max_error": 3} if options else {}
    signal = read(tmp_path / "h.wav")
    assert (tmp_path / "s.san").read_bytes() == sancodec.encode(signal, frame_len=4096, **mode)
    if not options:
        res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(tmp_path / "o.wav"), "-q"])
        assert res.exit_code == 0, res.output
        assert (tmp_path / "o.wav").read_bytes() == (tmp_path / "h.wav").read_bytes()


def test_a_long_wav_is_coded_lossy_a_block_at_a_time(tmp_path, monkeypatch):
    """``sancodec encode --mode lossy`` of a WAV longer than a lossy block (made short here) reads it a block at a
    time (``api.encode_lossy_blocks``): the file coding it in memory makes."""
    from sancodec.codec import api, lossyfile

    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 11)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    t = np.arange(6000)
    x = np.c_[np.round(800 * np.sin(t / 9) + 60 * np.cos(t / 2)), np.round(300 * np.sin(t / 23))].astype(np.int64)
    (tmp_path / "h.wav").write_bytes(_wav(x, 500, 16))
    res = runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "-o", str(tmp_path / "l.san"), "-q", "--mode",
                              "lossy", "--prdn", "4", "--frame-len", "2048"])
    assert res.exit_code == 0, res.output
    whole = sancodec.encode(read_wav(tmp_path / "h.wav"), mode="lossy", prdn=4, frame_len=2048)
    assert made == [True] and (tmp_path / "l.san").read_bytes() == whole


@pytest.mark.parametrize("mode", [[], ["--mode", "lossy", "--prdn", "5"]])
def test_decode_to_wav_goes_through_a_file_mapped_array_and_writes_a_block_at_a_time(tmp_path, monkeypatch, mode):
    """``decode`` to WAV decodes the record a window at a time into an array mapped from a temporary file beside the
    output (``decoded_on_disk``, as for EDF), and the writer writes its frames a block at a time (made small here)
    into a file beside the target, moved into place: the same bytes as decoding in memory, the source's own file
    losslessly, nothing left behind, and no WAV half written where the writer fails midway."""
    from sancodec.cli import codec_commands
    from sancodec.io import wav

    mapped = codec_commands.decoded_on_disk
    used: list[bool] = []
    monkeypatch.setattr(codec_commands, "decoded_on_disk", lambda *a: used.append(True) or mapped(*a))
    monkeypatch.setattr(wav, "WRITE_ROWS", 700)
    x = _samples(np.random.default_rng(3), 5000, 2, 16)
    (tmp_path / "h.wav").write_bytes(_wav(x, 2000, 16, before=LIST))
    san = tmp_path / "h.san"
    assert runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "-o", str(san), "-q", *mode]).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / "back.wav"), "-q"])
    assert res.exit_code == 0, res.output
    write_signal(sancodec.decode(san.read_bytes()), tmp_path / "memory.wav")
    assert (out / "back.wav").read_bytes() == (tmp_path / "memory.wav").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["back.wav"] and used == [True]
    if not mode:
        assert (out / "back.wav").read_bytes() == (tmp_path / "h.wav").read_bytes()
    monkeypatch.setattr(wav, "_sample_bytes", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / "full.wav"), "-q"])
    assert res.exit_code != 0 and "No space left" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["back.wav"]


def test_a_wav_output_that_exists_is_refused_without_force(tmp_path):
    """``decode -o x.wav`` onto a file that exists is refused, the file untouched, unless ``--force``; a WAV's
    default ``<stem>_decoded.wav`` likewise."""
    x = _samples(np.random.default_rng(6), 500, 1, 16)
    (tmp_path / "h.wav").write_bytes(_wav(x, 1000, 16))
    assert runner.invoke(app, ["encode", str(tmp_path / "h.wav"), "-q"]).exit_code == 0
    for out in (tmp_path / "x.wav", tmp_path / "h_decoded.wav"):
        out.write_bytes(b"keep me")
        args = ["decode", str(tmp_path / "h.san"), "-q", *(["-o", str(out)] if out.name == "x.wav" else [])]
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and "--force" in res.output and out.read_bytes() == b"keep me"
        assert runner.invoke(app, [*args, "--force"]).exit_code == 0
        assert out.read_bytes() == (tmp_path / "h.wav").read_bytes()


def test_a_header_s_wav_entry_out_of_shape_is_no_float32_wav():
    """A lossy decode goes back to float32 for a float32 WAV's source alone: a ``.san`` header's ``wav`` entry that
    lies (bits as text, 64 bits, no float flag, another kind) leaves the decode as it is."""
    from sancodec.codec.api import _float32_wav

    assert _float32_wav({"kind": "wav", "wav": {"float": True, "bits": 32}})
    for source in ({"kind": "wav", "wav": {"float": True, "bits": "32"}}, {"kind": "wav", "wav": {"float": 1,
                   "bits": 32}}, {"kind": "wav", "wav": {"float": True, "bits": 64}}, {"kind": "npy", "wav": {
                   "float": True, "bits": 32}}, {"kind": "wav", "wav": [32]}, {"kind": "wav"}, None, "wav"):
        assert not _float32_wav(source), source
