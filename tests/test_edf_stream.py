"""EDF and BDF read a block of data records at a time (``io.edf.edf_blocks``, what ``sancodec encode`` streams an
EDF or BDF file through): the same Signal as reading it whole, and the same ``.san`` bytes, in bounded memory."""

from __future__ import annotations

import datetime
import shutil

import edfio
import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app
from sancodec.io.edf import edf_blocks, read_edf

runner = CliRunner()


def psg(path, records: int = 40) -> None:
    """An EDF+ of three rates (256, 64 and 1 Hz), two annotations, and one signal with samples past its declared
    digital range (an exporter's slip)."""
    t = np.arange(256 * records)
    eeg = edfio.EdfSignal(np.sin(t / 10) * 100 + np.cos(t / 3) * 20, 256, label="EEG Fpz-Cz",
                          physical_dimension="uV", physical_range=(-200, 200))
    resp = edfio.EdfSignal(np.sin(np.arange(64 * records) / 50) * 3, 64, label="Resp", physical_dimension="mV",
                           physical_range=(-5, 5))
    temp = edfio.EdfSignal(np.cos(np.arange(records) / 3) * 3 + 36, 1, label="Temp", physical_dimension="degC",
                           physical_range=(30, 40))
    edfio.Edf([eeg, resp, temp], starttime=datetime.time(22, 1, 0), data_record_duration=1,
              recording=edfio.Recording(startdate=datetime.date(2024, 3, 2)),
              annotations=[edfio.EdfAnnotation(0.5, None, "Lights off"),
                           edfio.EdfAnnotation(13.25, 1.5, "Arousal")]).write(path)
    raw = path.read_bytes()
    labels = [raw[256 + 16 * k : 256 + 16 * (k + 1)] for k in range(int(raw[252:256]))]
    assert labels[-1].startswith(b"EDF Annotations")  # (so signal 1 is the respiration)
    past_range(path, 1, 10_000)  # the respiration signal's samples reach about 19 700


def past_range(path, k: int, top: int) -> None:
    """The EDF at ``path`` with signal ``k``'s declared digital maximum lowered to ``top``, below some of its samples:
    past its range (an exporter's slip)."""
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256])
    at = 256 + ns * (16 + 80 + 8 + 8 + 8 + 8) + 8 * k
    raw[at : at + 8] = f"{top:<8d}".encode("ascii")
    path.write_bytes(bytes(raw))


def bdf(path) -> None:
    x = np.random.default_rng(5).normal(0, 200, (4000, 2)).cumsum(axis=0)
    edfio.Bdf([edfio.BdfSignal(x[:, k], 400, label=f"EMG{k}", physical_dimension="uV",
                               physical_range=(-1e5, 1e5)) for k in range(2)]).write(path)


@pytest.fixture()
def files(tmp_path):
    psg(tmp_path / "psg.edf")
    bdf(tmp_path / "emg.bdf")
    return tmp_path


@pytest.mark.parametrize("name", ["psg.edf", "emg.bdf"])
@pytest.mark.parametrize("values", [1, 700, 5000, 1 << 21])
def test_the_blocks_make_the_signal_read_whole(files, name, values):
    whole = read_edf(files / name)
    streamed = edf_blocks(files / name, values)
    assert streamed is not None
    blocks = list(streamed.blocks)
    assert len(blocks) > 1 or values == 1 << 21
    samples = np.concatenate(blocks)
    assert streamed.rows == whole.n_samples and np.array_equal(samples, whole.samples)
    # the metadata read whole, the source once the blocks are read (a signal past its range said only then)
    assert streamed.like.header_dict() | {"source": streamed.source()} == whole.header_dict()
    said = [f.get("outside_range", False) for f in streamed.source()["signals"]]
    assert said == ([False, True, False] if name == "psg.edf" else [False, False])


@pytest.mark.parametrize("name", ["psg.edf", "emg.bdf"])
@pytest.mark.parametrize("options", [[], ["--mode", "near-lossless", "--max-error", "3"], ["--keep-header-text"]])
def test_encode_streams_an_edf_to_the_bytes_of_coding_it_whole(files, name, options):
    path = files / name
    res = runner.invoke(app, ["encode", str(path), "-o", str(files / "s.san"), "-q", "--frame-len", "4096", *options])
    assert res.exit_code == 0, res.output
    keep = "--keep-header-text" in options
    signal = sancodec.read_signal(path, keep_header_text=keep)
    mode = {"mode": "near-lossless", "max_error": 3} if "near-lossless" in options else {}
    assert (files / "s.san").read_bytes() == sancodec.encode(signal, frame_len=4096, **mode)
    with sancodec.open(files / "s.san") as f:
        assert np.array_equal(f.read(), signal.samples) or mode


def test_a_file_with_bytes_past_its_last_record_is_read_whole(files):
    """Bytes past the last whole data record (a count to mend): not streamed, read whole as ever; the same file."""
    path = files / "tail.edf"
    shutil.copy(files / "psg.edf", path)
    with open(path, "ab") as f:
        f.write(b"\0" * 7)
    assert edf_blocks(path, 5000) is None
    res = runner.invoke(app, ["encode", str(path), "-o", str(files / "t.san"), "-q"])
    assert res.exit_code == 0, res.output
    assert (files / "t.san").read_bytes() == sancodec.encode(sancodec.read_signal(path))


def test_a_file_cut_short_is_refused_as_before(files):
    raw = (files / "psg.edf").read_bytes()
    (files / "cut.edf").write_bytes(raw[:-600])
    with pytest.raises(sancodec.SanFormatError, match="truncated"):
        edf_blocks(files / "cut.edf", 5000)
    res = runner.invoke(app, ["encode", str(files / "cut.edf")])
    assert res.exit_code != 0 and "truncated" in res.output and not (files / "cut.san").exists()


@pytest.mark.parametrize("effort", ["best", "balanced"])
def test_a_long_edf_is_coded_lossy_a_block_at_a_time(files, monkeypatch, effort):
    """``sancodec encode --mode lossy`` of an EDF longer than a lossy block (made short here), of one rate or several,
    reads it a block of records at a time (``api.encode_lossy_blocks``): the file coding it in memory makes."""
    from sancodec.codec import api, lossyfile

    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 11)  # (the BDF's 4000 rows are two blocks)
    blockwise = api.encode_lossy_blocks
    made: list[bool] = []
    monkeypatch.setattr(api, "encode_lossy_blocks", lambda *a, **k: made.append(True) or blockwise(*a, **k))
    coded = lossyfile.code_block
    held: list[np.dtype] = []  # each block as the coder holds it: at the file's width, not int64
    monkeypatch.setattr(api, "code_block", lambda sig, digital, *a, **k: held.append(digital.dtype) or
                        coded(sig, digital, *a, **k))
    t = np.arange(256 * 60)
    sig = [edfio.EdfSignal(np.sin(t / (7 + k)) * 100 + np.cos(t / 3) * 20 * k, 256, label=f"EEG{k}",
                           physical_dimension="uV", physical_range=(-200, 200)) for k in range(2)]
    edfio.Edf(sig, data_record_duration=1, annotations=[edfio.EdfAnnotation(2.0, None, "start")]).write(
        files / "one.edf")
    past_range(files / "one.edf", 1, 10_000)  # (said in the header only once every record is read)
    assert read_edf(files / "one.edf").source["signals"][1]["outside_range"] is True
    for name, width in (("one.edf", np.int16), ("psg.edf", np.int16), ("emg.bdf", np.int32)):
        res = runner.invoke(app, ["encode", str(files / name), "-o", str(files / "l.san"), "-f", "-q", "--mode",
                                  "lossy", "--prdn", "4", "--effort", effort, "--frame-len", "2048"])
        assert res.exit_code == 0, res.output
        whole = sancodec.encode(sancodec.read_signal(files / name), mode="lossy", prdn=4, effort=effort,
                                frame_len=2048)
        assert (files / "l.san").read_bytes() == whole
        assert made == [True] and len(held) > 1 and set(held) == {np.dtype(width)}
        made.clear()
        held.clear()


def test_the_written_file_is_checked_a_block_at_a_time(files):
    """write_edf reads the file it wrote back a block of records at a time (``_reads_back``), not whole: a sample
    changed anywhere, or rows missing, fail the check."""
    from sancodec.io.edf import _reads_back

    path = files / "psg.edf"
    samples = read_edf(path).samples
    assert _reads_back(path, samples)
    changed = samples.copy()
    changed[-3, 1] += 1
    assert not _reads_back(path, changed)
    assert not _reads_back(path, samples[:-256])
    tail = files / "tail.edf"  # (one edf_blocks does not stream: read whole)
    tail.write_bytes(path.read_bytes() + b"\0" * 5)
    assert _reads_back(tail, samples) and not _reads_back(tail, changed)


@pytest.mark.parametrize("name", ["psg.edf", "emg.bdf"])
@pytest.mark.parametrize("mode", [[], ["--mode", "lossy", "--prdn", "20"]])
def test_decode_to_edf_goes_through_a_file_mapped_array_and_writes_the_same_bytes(files, name, mode, monkeypatch):
    """``decode`` to EDF or BDF decodes the record a window at a time into an array mapped from a temporary file
    beside the output (``decoded_on_disk``), which the writer then takes: the same file as decoding in memory (a
    lossy decode clipped to the source's ranges alike), and no temporary file left behind."""
    from sancodec.cli import codec_commands
    from sancodec.io import write_signal

    mapped = codec_commands.decoded_on_disk
    used: list[bool] = []
    monkeypatch.setattr(codec_commands, "decoded_on_disk", lambda *a: used.append(True) or mapped(*a))

    path = files / name
    san = files / "d.san"
    assert runner.invoke(app, ["encode", str(path), "-o", str(san), "-q", "-f", *mode]).exit_code == 0
    out = files / "out"
    out.mkdir()
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / f"back{path.suffix}"), "--json"])
    assert res.exit_code == 0, res.output
    write_signal(sancodec.decode(san.read_bytes()), files / f"memory{path.suffix}")
    assert (out / f"back{path.suffix}").read_bytes() == (files / f"memory{path.suffix}").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [f"back{path.suffix}"]  # (the mapped array's folder gone)
    assert used == [True]
    if not mode:
        assert (out / f"back{path.suffix}").read_bytes() == path.read_bytes()


def test_decode_on_disk_maps_a_float_files_values_as_the_decoder_in_memory_makes_them(tmp_path):
    """A file of floats on a grid is mapped too (since 2026-12-08; decoded in memory before): its values as
    ``decode`` makes them, float64, and its EDF written from them (``tests/test_float_decode_mapped.py``: the same
    files as the decode in memory)."""
    from sancodec.cli.streaming import decoded_on_disk

    x = np.round(np.sin(np.arange(4000) / 20)[:, None] * 3, 3)
    data = sancodec.encode(sancodec.Signal(x, 100.0, ["a"], ["mV"]), mode="lossy", prdn=5)
    (tmp_path / "f.san").write_bytes(data)
    folder = tmp_path / "mapped"
    folder.mkdir()
    decoded = decoded_on_disk(tmp_path / "f.san", None, sancodec.DecodeLimits(), None, folder)
    assert decoded is not None and decoded.signal.samples.dtype == np.float64
    assert np.array_equal(decoded.signal.samples, sancodec.decode(data).samples)
    del decoded
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "-o", str(tmp_path / "f.edf"), "-q"])
    assert res.exit_code == 0, res.output


def test_a_full_disk_while_decoding_to_edf_is_said_of_the_output_and_leaves_nothing(files, monkeypatch):
    import errno
    import os

    san = files / "d.san"
    assert runner.invoke(app, ["encode", str(files / "psg.edf"), "-o", str(san), "-q"]).exit_code == 0

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np.lib.format, "open_memmap", full)
    out = files / "out"
    out.mkdir()
    res = runner.invoke(app, ["decode", str(san), "-o", str(out / "b.edf")])
    assert res.exit_code == 1 and res.output.startswith(f"error: {out / 'b.edf'}: No space left"), res.output
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("lie", ["n_samples", "payload"])
def test_decode_to_edf_of_a_lying_file_is_one_line_and_leaves_nothing(files, lie):
    """A .san whose checksums hold but whose header or frame lies, decoded to EDF through the mapped array: a one-line
    error, no output, no temporary folder; an existing output is left alone without --force."""
    import copy

    from common import rewrap

    from sancodec.codec.container import SanReader

    data = sancodec.encode(read_edf(files / "psg.edf"), frame_len=4096)
    reader = SanReader(data)
    head, frames = copy.deepcopy(reader.header), [reader.read_frame(i) for i in range(reader.n_frames)]
    if lie == "n_samples":
        head["n_samples"] = head["n_samples"] + 4096  # a frame the index does not hold
    else:
        frames[1] = frames[1][:7] + bytes([frames[1][7] ^ 0x5A]) + frames[1][8:]
    (files / "lie.san").write_bytes(rewrap(data, header=head, frames=frames))
    out = files / "out"
    out.mkdir()
    res = runner.invoke(app, ["decode", str(files / "lie.san"), "-o", str(out / "b.edf")])
    assert res.exit_code != 0 and res.output.startswith("error: ") and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert list(out.iterdir()) == []
    (files / "ok.san").write_bytes(data)
    (out / "b.edf").write_bytes(b"kept")
    res = runner.invoke(app, ["decode", str(files / "ok.san"), "-o", str(out / "b.edf")])
    assert res.exit_code != 0 and "already exists" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["b.edf"] and (out / "b.edf").read_bytes() == b"kept"


def test_the_decode_mapped_from_disk_is_decode_files_decode(tmp_path):
    """``decoded_on_disk`` (decode to EDF's samples mapped from a file): the samples, frames read and activations
    ``decode_file`` gives (it said 0 activations of a SAN file's)."""
    import numpy as np

    import sancodec
    from sancodec.cli.streaming import decoded_on_disk
    from sancodec.codec import decode_file
    from sancodec.codec.limits import DEFAULT_LIMITS

    walk = np.cumsum(np.random.default_rng(3).integers(-9, 10, (6000, 2)), axis=0)
    path = tmp_path / "w.san"
    path.write_bytes(sancodec.encode(walk, fs=250.0, mode="san", frame_len=1024))
    whole = decode_file(path.read_bytes())
    mapped = decoded_on_disk(path, None, DEFAULT_LIMITS, 1, tmp_path)
    assert np.array_equal(mapped.signal.samples, whole.signal.samples)
    assert mapped.activations == whole.activations > 0 and mapped.frames_read == whole.frames_read
