"""``decode(..., salvage=True)`` and ``sancodec decode --salvage``: a truncated ``.san``, or one whose index or a frame
is damaged, decodes its intact frames (a damaged one's rows as gaps where every channel has an invalid sample, else
up to the first damaged frame), and nothing else: every other row it gives is the row the whole file decodes to, and
every other failure stays a :class:`SancodecError`."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, SancodecWarning, SanConfigError, SanFormatError
from sancodec.cli import app
from sancodec.codec import decode_file, salvage_extent
from sancodec.codec.api import Salvaged
from sancodec.codec.container import FRAME_HEAD, SanReader

FRAME = 4096
N = 40_000  # 10 frames, the last shorter
runner = CliRunner()


@pytest.fixture(scope="module")
def record(mitdb_100):
    return sancodec.read_signal(mitdb_100).slice(0, N)


@pytest.fixture(scope="module", params=[{"mode": "lossless"}, {"mode": "lossy", "prdn": 3},
                                        {"mode": "near-lossless", "max_error": 2}], ids=lambda p: p["mode"])
def coded(record, request):
    data = sancodec.encode(record, frame_len=FRAME, **request.param)
    return data, sancodec.decode(data).samples


def _with_gaps(whole: np.ndarray, lost: list[tuple[int, int]]) -> np.ndarray:
    """``whole`` with the rows of ``lost`` ranges at mitdb 100's invalid sample (format 212's, -2048)."""
    gapped = whole.copy()
    for a, b in lost:
        gapped[a:b] = -2048
    return gapped


def _frame_ends(data: bytes) -> list[int]:
    """Where each frame of a whole file ends (its index's offsets and lengths)."""
    return [offset + length for offset, length in SanReader(data).index]


def test_a_truncated_file_decodes_its_whole_frames(coded):
    data, whole = coded
    ends = _frame_ends(data)
    for cut in (ends[0], ends[0] + 7, ends[3] - 1, ends[6] + FRAME_HEAD.size, ends[-1], len(data) - 1):
        part = data[:cut]
        with pytest.raises(SanFormatError, match="--salvage"):
            sancodec.decode(part)
        intact = sum(end <= cut for end in ends)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            signal = sancodec.decode(part, salvage=True)
        assert len(said) == (intact < len(ends)) and all(issubclass(w.category, SancodecWarning) for w in said)
        assert not said or f"{intact} of its {len(ends)} frames are intact" in str(said[0].message)
        decoded = decode_file(part, salvage=True)
        assert np.array_equal(decoded.signal.samples, signal.samples)
        rows = N if intact == len(ends) else intact * FRAME
        assert decoded.signal.n_samples == rows and np.array_equal(decoded.signal.samples, whole[:rows]), cut
        lost = () if intact == len(ends) else ((rows, N),)
        assert decoded.salvaged == (None if intact == len(ends) else Salvaged(intact, len(ends), rows, N, lost))
        assert salvage_extent(part) == Salvaged(intact, len(ends), rows, N, lost)


def test_a_whole_file_salvaged_is_the_file_decoded(coded):
    data, whole = coded
    decoded = decode_file(data, salvage=True)
    assert decoded.salvaged is None and np.array_equal(decoded.signal.samples, whole)
    assert decoded.signal.header_dict() == sancodec.decode(data).header_dict()
    assert np.array_equal(sancodec.decode(data, 5000, 9000, salvage=True).samples, whole[5000:9000])


def test_a_damaged_frame_loses_its_rows_as_gaps_and_a_damaged_index_loses_nothing(coded):
    """mitdb 100's channels (format 212) have an invalid sample, -2048, which WFDB's readers take for no data: a
    frame damaged amid intact ones (the index intact) loses its own rows only, decoded as that value."""
    data, whole = coded
    ends = _frame_ends(data)
    damaged = bytearray(data)
    damaged[ends[4] + FRAME_HEAD.size + 3] ^= 0x10  # a payload byte of frame 5
    with pytest.raises(SanFormatError, match="frame 5: checksum mismatch"):
        sancodec.decode(bytes(damaged))
    with pytest.warns(SancodecWarning, match=rf"9 of its 10 frames are intact, rows \[0, {N}\) of its {N}; rows "
                      rf"\[{5 * FRAME}, {6 * FRAME}\) among them are gaps \(lost with their frames: each channel's "
                      rf"invalid sample\)$"):
        salvaged = sancodec.decode(bytes(damaged), salvage=True)
    assert np.array_equal(salvaged.samples, _with_gaps(whole, [(5 * FRAME, 6 * FRAME)]))
    assert np.isnan(salvaged.physical()[5 * FRAME : 6 * FRAME]).all()
    assert not np.isnan(np.delete(salvaged.physical(), np.s_[5 * FRAME : 6 * FRAME], axis=0)).any()
    assert decode_file(bytes(damaged), salvage=True).salvaged == Salvaged(9, 10, N, N, ((5 * FRAME, 6 * FRAME),), True)
    assert np.array_equal(sancodec.decode(bytes(damaged), 6 * FRAME - 5, 6 * FRAME + 5, salvage=True).samples,
                          _with_gaps(whole, [(5 * FRAME, 6 * FRAME)])[6 * FRAME - 5 : 6 * FRAME + 5])
    assert np.array_equal(sancodec.decode(bytes(damaged), 7 * FRAME, 8 * FRAME).samples, whole[7 * FRAME : 8 * FRAME])
    damaged = bytearray(data)
    damaged[ends[-1] + 5] ^= 0x01  # the index
    with pytest.raises(SanFormatError, match="index checksum mismatch.*--salvage"):
        sancodec.decode(bytes(damaged))
    decoded = decode_file(bytes(damaged), salvage=True)
    assert decoded.salvaged is None and np.array_equal(decoded.signal.samples, whole)


def test_a_range_past_the_rows_intact_is_refused_and_one_within_them_decodes(coded):
    data, whole = coded
    part = data[: _frame_ends(data)[2]]  # frames 0-2 intact
    assert np.array_equal(sancodec.decode(part, 100, 3 * FRAME, salvage=True).samples, whole[100 : 3 * FRAME])
    assert np.array_equal(sancodec.decode(part, 2 * FRAME, salvage=True).samples, whole[2 * FRAME : 3 * FRAME])
    for start, end in ((0, 3 * FRAME + 1), (3 * FRAME, None), (20_000, 30_000)):
        with pytest.raises(SanConfigError, match=rf"reaches rows \[{3 * FRAME}, {N}\) of the record's {N}, lost with "
                           rf"their frames: the rows readable are \[0, {3 * FRAME}\)$"):
            sancodec.decode(part, start, end, salvage=True)


def test_nothing_to_salvage_is_refused(coded, record):
    data, _ = coded
    reader = SanReader(data)
    with pytest.raises(SanFormatError, match="no frame survives"):
        sancodec.decode(data[: reader.index[0][0] + 5], salvage=True)  # the header, and a frame's first bytes
    for cut in (10, 40, reader.index[0][0] - 1):  # the preamble or the header cut
        with pytest.raises(SanFormatError):
            sancodec.decode(data[:cut], salvage=True)
        assert salvage_extent(data[:cut]) is None
    one = sancodec.encode(record.slice(0, 3000))  # the one-frame layout: its frame is whole or it is not
    assert SanReader(one).one_frame
    with pytest.raises(SanFormatError, match="checksum"):
        sancodec.decode(one[:-9], salvage=True)


def test_any_cut_or_flipped_byte_salvages_rows_of_the_whole_decode_or_fails_as_a_sancodec_error(coded):
    """Random truncations and single-byte damage: what salvage gives is always the first rows of the whole decode,
    and a SanFile opened to salvage reads the same rows (or both refuse)."""
    data, whole = coded
    rng = np.random.default_rng(11)
    for _ in range(60):
        damaged = bytearray(data[: int(rng.integers(1, len(data) + 1))])
        if rng.random() < 0.5 and len(damaged):
            damaged[int(rng.integers(len(damaged)))] ^= int(rng.integers(1, 256))
        try:
            got = sancodec.decode(bytes(damaged), salvage=True).samples
        except SancodecError:
            got = None
        try:  # (random access over the same walk: the same rows, or a SancodecError)
            with sancodec.open(bytes(damaged), salvage=True) as f:
                opened = f.read()
        except SancodecError:
            opened = None
        assert (got is None) == (opened is None)
        if got is None or opened is None:
            continue
        found = decode_file(bytes(damaged), salvage=True).salvaged
        lost = [] if found is None else [r for r in found.lost if r[1] <= len(got)]
        assert len(got) and np.array_equal(got, _with_gaps(whole, lost)[: len(got)]) and np.array_equal(opened, got)


def test_decode_salvage_and_check_say_what_survives(coded, tmp_path):
    data, whole = coded
    ends = _frame_ends(data)
    path = tmp_path / "cut.san"
    path.write_bytes(data[: ends[3] + 100])  # frames 0-3 intact
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy")])
    assert res.exit_code == 1 and "--salvage" in res.stderr and not (tmp_path / "out.npy").exists()
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy"), "--salvage", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["salvaged"] == {"frames": 4, "of": 10, "rows": 4 * FRAME, "samples": N,
                                                  "lost": [[4 * FRAME, N]], "gaps": False, "held": False}
    assert f"4 of its 10 frames are intact, rows [0, {4 * FRAME}) of its {N}: the rest is lost" in res.stderr
    assert np.array_equal(np.load(tmp_path / "out.npy"), whole[: 4 * FRAME].astype(np.load(tmp_path / "out.npy").dtype))
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "rec"), "--salvage", "-q"])  # WFDB
    assert res.exit_code == 0 and np.array_equal(sancodec.read_signal(tmp_path / "rec").samples, whole[: 4 * FRAME])
    res = runner.invoke(app, ["check", str(path), "--json"])
    assert res.exit_code == 1
    (checked,) = json.loads(res.stdout)["files"]
    assert checked["salvageable"] == {"frames": 4, "of": 10, "rows": 4 * FRAME, "samples": N,
                                      "lost": [[4 * FRAME, N]], "gaps": False, "held": False} and not checked["ok"]
    res = runner.invoke(app, ["check", str(path)])
    assert res.exit_code == 1
    assert f"4 of its 10 frames are intact, rows [0, {4 * FRAME}) (`sancodec decode --salvage` writes them)" in \
        res.stderr and "(decode(..., salvage=True))" not in res.stderr


def test_frame_heads_that_lie_under_valid_checksums_lose_their_frame(coded):
    """A frame head is outside its payload's CRC: one whose length runs past the file or past the cap, or whose number
    skips ahead, loses that frame (nothing read past the file, nothing allocated for the length claimed): its rows
    are gaps, whether the index is intact or lost (the frames walked from the header, the walk picking up at the
    next frame's head)."""
    import struct

    data, whole = coded
    offsets = [offset for offset, _ in SanReader(data).index]
    for field, value in ((4, len(data) * 4), (4, (256 << 20) + 1), (4, 0xFFFFFFFF), (0, 7), (0, 0xFFFFFFFF)):
        lying = bytearray(data)
        struct.pack_into("<I", lying, offsets[3] + field, value)  # frame 3's number or payload length
        with pytest.raises(SanFormatError):
            sancodec.decode(bytes(lying))
        decoded = decode_file(bytes(lying), salvage=True)
        assert decoded.salvaged == Salvaged(9, 10, N, N, ((3 * FRAME, 4 * FRAME),), True)
        assert np.array_equal(decoded.signal.samples, _with_gaps(whole, [(3 * FRAME, 4 * FRAME)]))
        decoded = decode_file(bytes(lying[: offsets[-1] + 5]), salvage=True)  # frame 9 and the index cut off
        assert decoded.salvaged == Salvaged(8, 10, 9 * FRAME, N, ((3 * FRAME, 4 * FRAME), (9 * FRAME, N)), True)
        assert np.array_equal(decoded.signal.samples, _with_gaps(whole, [(3 * FRAME, 4 * FRAME)])[: 9 * FRAME])


def test_salvage_writes_no_output_that_exists_without_force(coded, tmp_path):
    data, _ = coded
    path = tmp_path / "cut.san"
    path.write_bytes(data[: _frame_ends(data)[1]])
    for output in ("out.npy", "rec", "out.edf"):
        first = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / output), "--salvage", "-q"])
        assert first.exit_code == 0, first.output
        written = sorted(p.name for p in tmp_path.iterdir() if p.name != "cut.san")
        stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
        again = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / output), "--salvage", "-q"])
        assert again.exit_code == 2 and "--force" in again.stderr, again.output
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cut.san") == written
        assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


def test_a_truncated_file_opens_for_the_rows_that_survive(coded, tmp_path):
    """``sancodec.open(path, salvage=True)``: a file cut short is a SanFile of the rows its intact frames hold (read,
    indexed, in blocks, as a Signal, pickled, as a Dask array), said in a warning; past them an IndexError; without
    ``salvage`` refused, pointing to it; a whole file opened so is the file."""
    data, whole = coded
    ends = _frame_ends(data)
    (tmp_path / "cut.san").write_bytes(data[: ends[3] + 11])
    with pytest.raises(SanFormatError, match=r"open\(\.\.\., salvage=True\)"):
        sancodec.open(tmp_path / "cut.san")
    with pytest.warns(SancodecWarning, match=f"4 of its {len(ends)} frames are intact, rows \\[0, {4 * FRAME}\\)"):
        f = sancodec.open(tmp_path / "cut.san", salvage=True)
    with f:
        rows = 4 * FRAME
        assert f.shape == (rows, 2) and len(f) == rows and f.salvaged == Salvaged(4, len(ends), rows, N, ((rows, N),))
        assert f.info["n_samples"] == rows
        assert np.array_equal(f.read(), whole[:rows]) and np.array_equal(np.asarray(f), whole[:rows])
        assert np.array_equal(f[-5:], whole[rows - 5 : rows]) and np.array_equal(f[::1000, 1], whole[:rows:1000, 1])
        assert np.array_equal(np.concatenate(list(f.blocks(5000))), whole[:rows])
        with pytest.raises(IndexError, match=f"outside the file's {rows} samples"):
            f[rows]
        with pytest.raises(SanConfigError):
            f.read(0, rows + 1)
        signal = f.signal()
        assert signal.n_samples == rows and np.array_equal(signal.samples, sancodec.decode(data[: ends[3] + 11],
                                                                                           salvage=True).samples)
        again = pickle.loads(pickle.dumps(f))
        assert again.shape == (rows, 2) and np.array_equal(again[100:200], whole[100:200])
        dask = pytest.importorskip("dask.array")
        assert np.array_equal(dask.from_array(f, chunks=f.chunks).compute(), whole[:rows])
    (tmp_path / "whole.san").write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SancodecWarning)
        with sancodec.open(tmp_path / "whole.san", salvage=True) as f:
            assert f.salvaged is None and np.array_equal(f.read(), whole)


def _damaged_at(data: bytes, frame: int) -> bytes:
    """``data`` with a payload byte of ``frame`` flipped (its index intact)."""
    damaged = bytearray(data)
    damaged[SanReader(data).index[frame][0] + FRAME_HEAD.size + 3] ^= 0x10
    return bytes(damaged)


def test_where_a_channel_has_no_invalid_sample_salvage_ends_at_a_damaged_frame_and_the_rows_past_it_read_as_a_range(
        record):
    """Samples with no invalid-sample value (an array's integers, as an EDF file's or a WAV's) cannot say "lost": a
    frame damaged amid intact ones ends the rows read by default there, and the rows past it decode as a range."""
    whole = record.samples
    data = _damaged_at(sancodec.encode(sancodec.Signal(whole.copy(), record.fs), frame_len=FRAME), 5)
    found = Salvaged(9, 10, 5 * FRAME, N, ((5 * FRAME, 6 * FRAME),), False)
    with pytest.warns(SancodecWarning, match=rf"9 of its 10 frames are intact, rows \[0, {5 * FRAME}\) of its {N}; "
                      rf"rows \[{5 * FRAME}, {6 * FRAME}\) are lost, rows \[{6 * FRAME}, {N}\) past them intact \(a "
                      rf"decode of a range reads them\)$"):
        assert np.array_equal(sancodec.decode(data, salvage=True).samples, whole[: 5 * FRAME])
    assert decode_file(data, salvage=True).salvaged == found and salvage_extent(data) == found
    with pytest.warns(SancodecWarning):
        assert np.array_equal(sancodec.decode(data, 6 * FRAME, salvage=True).samples, whole[6 * FRAME :])
        assert np.array_equal(sancodec.decode(data, 7 * FRAME, 8 * FRAME + 9, salvage=True).samples,
                              whole[7 * FRAME : 8 * FRAME + 9])
    for start, end in ((5 * FRAME, None), (4 * FRAME, 7 * FRAME), (5 * FRAME + 3, 5 * FRAME + 9)):
        with pytest.raises(SanConfigError, match=rf"reaches rows \[{5 * FRAME}, {6 * FRAME}\) of the record's {N}, "
                           rf"lost with their frames: the rows readable are \[0, {5 * FRAME}\), \[{6 * FRAME}, {N}\)$"):
            sancodec.decode(data, start, end, salvage=True)
    with pytest.warns(SancodecWarning), sancodec.open(data, salvage=True) as f:
        assert f.shape == (5 * FRAME, 2) and f.salvaged == found and np.array_equal(f.read(), whole[: 5 * FRAME])


def test_a_file_damaged_amid_its_frames_opens_whole_with_the_lost_rows_as_gaps(coded, tmp_path):
    data, whole = coded
    damaged = _damaged_at(data, 2)
    gapped = _with_gaps(whole, [(2 * FRAME, 3 * FRAME)])
    (tmp_path / "damaged.san").write_bytes(damaged)
    with pytest.raises(SanFormatError, match="frame 2: checksum mismatch"):
        with sancodec.open(tmp_path / "damaged.san") as f:
            f.read()
    with pytest.warns(SancodecWarning, match="9 of its 10 frames are intact"):
        f = sancodec.open(tmp_path / "damaged.san", salvage=True)
    with f:
        assert f.shape == (N, 2) and f.salvaged == Salvaged(9, 10, N, N, ((2 * FRAME, 3 * FRAME),), True)
        assert np.array_equal(f.read(), gapped) and np.array_equal(f[::7], gapped[::7])
        assert np.array_equal(np.concatenate(list(f.blocks(3000))), gapped)
        signal = f.signal()
        assert np.array_equal(signal.samples, gapped)
        assert np.isnan(signal.physical()[2 * FRAME : 3 * FRAME]).all()
        again = pickle.loads(pickle.dumps(f))
        assert np.array_equal(again[2 * FRAME - 2 : 2 * FRAME + 2], gapped[2 * FRAME - 2 : 2 * FRAME + 2])
    assert sancodec.codec.read_info(damaged, salvage=True)["frames"] == 9


def test_decode_salvage_writes_the_lost_rows_as_gaps_each_format_marks(coded, tmp_path):
    """WFDB: the invalid sample, which wfdb-python reads as NaN (its checksums those of the samples written); EDF:
    the same digital value under a BAD_ACQ_SKIP annotation over the lost rows; check names them."""
    import edfio
    import wfdb

    data, whole = coded
    path = tmp_path / "damaged.san"
    path.write_bytes(_damaged_at(data, 4))
    lost = (4 * FRAME, 5 * FRAME)
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "rec"), "--salvage", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["salvaged"] == {"frames": 9, "of": 10, "rows": N, "samples": N,
                                                  "lost": [list(lost)], "gaps": True, "held": False}
    assert f"rows [{lost[0]}, {lost[1]}) among them are gaps" in res.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (a checksum that disagrees with the samples is warned of)
        read = wfdb.rdrecord(str(tmp_path / "rec"))
    assert np.isnan(read.p_signal[lost[0] : lost[1]]).all() and not np.isnan(np.delete(read.p_signal, np.s_[
        lost[0] : lost[1]], axis=0)).any()
    assert np.array_equal(sancodec.read_signal(tmp_path / "rec").samples, _with_gaps(whole, [lost]))
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "part.edf"), "--salvage", "-q", "--start",
                              str(3 * FRAME), "--end", str(6 * FRAME)])
    assert res.exit_code == 0, res.output
    edf = edfio.read_edf(tmp_path / "part.edf")
    skips = [(a.onset, a.duration) for a in edf.annotations if a.text == "BAD_ACQ_SKIP"]
    fs = float(sancodec.decode(data, 0, 10).fs)
    assert skips[0] == pytest.approx((FRAME / fs, FRAME / fs))  # (then the last data record's filling, if any)
    res = runner.invoke(app, ["check", str(path), "--json"])
    (checked,) = json.loads(res.stdout)["files"]
    assert res.exit_code == 1 and checked["salvageable"]["gaps"] is True and checked["salvageable"]["rows"] == N


def test_decode_salvage_walks_the_frames_once_and_reads_the_header_of_a_cut_file_alone(coded, tmp_path, monkeypatch):
    """The output format's choice reads the header alone (``api.read_header``), not a second walk of every frame."""
    from sancodec.codec.api import read_header
    from sancodec.codec.container import SanReader as Reader

    data, _ = coded
    ends = _frame_ends(data)
    cut = data[: ends[3] + 100]  # frames 0-3 intact
    assert read_header(cut) == SanReader(data).header
    assert read_header(data[: SanReader(data).index[0][0]]) == SanReader(data).header  # (the header, no frame)
    with pytest.raises(SanFormatError, match="header"):
        read_header(data[: SanReader(data).index[0][0] - 1])
    walked = []
    original = Reader._frame_at

    def counted(self, at, number):
        walked.append(number)
        return original(self, at, number)

    monkeypatch.setattr(Reader, "_frame_at", counted)
    (tmp_path / "cut.san").write_bytes(cut)
    res = runner.invoke(app, ["decode", str(tmp_path / "cut.san"), "-o", str(tmp_path / "out.npy"), "--salvage", "-q"])
    assert res.exit_code == 0, res.output
    assert walked == [0, 1, 2, 3, 4]  # (the four intact, and the fifth, cut)


@pytest.mark.parametrize("scan", [1 << 22, 37])
def test_a_walk_from_the_header_picks_up_past_a_damaged_frame(coded, record, monkeypatch, scan):
    """A file cut short (or whose index is damaged) with a frame damaged before the cut: the walk from the header
    finds the next intact frame's head past the damage (searched ``SCAN_BYTES`` at a time: a head across two pieces
    found too) and goes on, the frames between lost."""
    from sancodec.codec import container

    monkeypatch.setattr(container, "SCAN_BYTES", scan)
    data, whole = coded
    ends = _frame_ends(data)
    cut = _damaged_at(data, 3)[: ends[7]]  # frames 0-7 whole, frame 3 damaged; the rest and the index cut off
    found = decode_file(cut, salvage=True)
    assert found.salvaged == Salvaged(7, 10, 8 * FRAME, N, ((3 * FRAME, 4 * FRAME), (8 * FRAME, N)), True)
    assert np.array_equal(found.signal.samples, _with_gaps(whole, [(3 * FRAME, 4 * FRAME)])[: 8 * FRAME])
    index_too = bytearray(_damaged_at(data, 3))
    index_too[ends[-1] + 5] ^= 0x01  # the index as well: every frame but the third
    found = decode_file(bytes(index_too), salvage=True)
    assert found.salvaged == Salvaged(9, 10, N, N, ((3 * FRAME, 4 * FRAME),), True)
    assert np.array_equal(found.signal.samples, _with_gaps(whole, [(3 * FRAME, 4 * FRAME)]))
    plain = sancodec.encode(sancodec.Signal(record.samples.copy(), record.fs), frame_len=FRAME)  # no invalid sample
    cut = _damaged_at(plain, 3)[: _frame_ends(plain)[7]]
    with pytest.warns(SancodecWarning, match=rf"rows \[{3 * FRAME}, {4 * FRAME}\), \[{8 * FRAME}, {N}\) are lost, "
                      rf"rows \[{4 * FRAME}, {8 * FRAME}\) past them intact"):
        assert np.array_equal(sancodec.decode(cut, salvage=True).samples, record.samples[: 3 * FRAME])
    with pytest.warns(SancodecWarning):
        assert np.array_equal(sancodec.decode(cut, 4 * FRAME, salvage=True).samples,
                              record.samples[4 * FRAME : 8 * FRAME])


def test_a_walk_takes_no_frame_numbered_past_the_heads_the_bytes_before_it_could_hold(coded):
    """A head that numbers a frame far ahead under a valid checksum, right after the damage: the frames it would step
    over had a head each, which the bytes between cannot hold, so it is not taken (a file that lies so would have
    the walk keep an entry for each frame stepped over)."""
    import struct
    import zlib

    data, whole = coded
    offsets = [offset for offset, _ in SanReader(data).index]
    frame1 = SanReader(data).read_frame(1)
    liar = FRAME_HEAD.pack(9, len(frame1), zlib.crc32(frame1)) + frame1  # frame 1's payload, numbered 9
    made = data[: offsets[1]] + b"\0" * 12 + liar  # frame 0, 12 damaged bytes, the liar; the rest cut off
    assert struct.unpack_from("<I", made, offsets[1] + 12)[0] == 9
    found = decode_file(made, salvage=True)
    assert found.salvaged == Salvaged(1, 10, FRAME, N, ((FRAME, N),), False)
    assert np.array_equal(found.signal.samples, whole[:FRAME])
    room = data[: offsets[1]] + b"\0" * (12 * 8) + liar  # room for frames 1-8's heads: taken
    assert salvage_extent(room) == Salvaged(2, 10, N, N, ((FRAME, 9 * FRAME),), True)


@pytest.mark.parametrize("window", [None, 1])
def test_edf_output_of_a_file_without_invalid_samples_holds_the_lost_rows_at_the_last_value_and_annotates_them(
        record, tmp_path, monkeypatch, window):
    """An EDF source's channels have no invalid sample: decoded to EDF or BDF, a damaged frame's rows hold each
    channel's last value before them under a BAD_ACQ_SKIP annotation (as the rows that fill out its last data
    record do), the frames after them decoded; other outputs end the rows read at the damage. ``window`` 1: a frame
    a window, the value held carried from one window to the next."""
    import edfio

    from sancodec.codec import api

    if window is not None:
        monkeypatch.setattr(api, "window_frames", lambda *_: window)
    sancodec.write_signal(record, tmp_path / "src.edf")
    data = sancodec.encode(sancodec.read_signal(tmp_path / "src.edf"), frame_len=FRAME)
    whole = sancodec.decode(data).samples
    path = tmp_path / "damaged.san"
    path.write_bytes(_damaged_at(data, 2))
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.edf"), "--salvage", "--json"])
    assert res.exit_code == 0, res.output
    n = len(whole)  # (the EDF's rows: its last data record filled out)
    assert json.loads(res.stdout)["salvaged"] == {"frames": 9, "of": 10, "rows": n, "samples": n,
                                                  "lost": [[2 * FRAME, 3 * FRAME]], "gaps": True, "held": True}
    assert "each channel holding its last value before them" in res.stderr
    held = whole.copy()
    held[2 * FRAME : 3 * FRAME] = whole[2 * FRAME - 1]
    back = sancodec.read_signal(tmp_path / "out.edf")
    assert np.array_equal(back.samples[:n], held)
    notes = edfio.read_edf(tmp_path / "out.edf").annotations
    skips = [(a.onset, a.duration) for a in notes if a.text == "BAD_ACQ_SKIP"]
    assert skips[0] == pytest.approx((2 * FRAME / record.fs, FRAME / record.fs))
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy"), "--salvage", "-q"])
    assert res.exit_code == 0 and np.array_equal(np.load(tmp_path / "out.npy"), whole[: 2 * FRAME])
    part = decode_file(path.read_bytes(), 2 * FRAME + 5, 3 * FRAME + 5, salvage=True, hold_lost=True)  # (nothing
    assert np.array_equal(part.signal.samples[: FRAME - 5], np.zeros((FRAME - 5, 2)))  # decoded before: 0)
    assert np.array_equal(part.signal.samples[FRAME - 5 :], whole[3 * FRAME : 3 * FRAME + 5])


def test_a_first_frame_lost_without_an_invalid_sample_reads_no_row_and_says_what_can_be_read(record, tmp_path):
    """Frame 0 damaged, and nothing to mark its rows with: no row comes before the damage, so the default decode and a
    SanFile are refused in one line that names the rows intact (a SanFile of no rows broke its own indexing), while
    a range of them decodes, and EDF output holds the lost rows (at 0: nothing was decoded before them)."""
    data = _damaged_at(sancodec.encode(sancodec.Signal(record.samples.copy(), record.fs), frame_len=FRAME), 0)
    said = rf"frame 0 is damaged .* the rows intact are \[{FRAME}, {N}\)"
    with pytest.raises(SanFormatError, match=said):
        sancodec.decode(data, salvage=True)
    with pytest.raises(SanFormatError, match=said):
        sancodec.open(data, salvage=True)
    with pytest.warns(SancodecWarning):
        assert np.array_equal(sancodec.decode(data, FRAME, salvage=True).samples, record.samples[FRAME:])
    path = tmp_path / "damaged.san"
    path.write_bytes(data)
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy"), "--salvage"])
    assert res.exit_code == 1 and "frame 0 is damaged" in res.stderr and not (tmp_path / "out.npy").exists()
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.edf"), "--salvage", "-q"])
    assert res.exit_code == 0, res.output
    back = sancodec.read_signal(tmp_path / "out.edf").samples
    assert not back[:FRAME].any() and np.array_equal(back[FRAME:N], record.samples[FRAME:])


def test_check_of_a_file_whose_first_frame_is_lost_names_the_rows_intact(record, tmp_path):
    path = tmp_path / "damaged.san"
    path.write_bytes(_damaged_at(sancodec.encode(sancodec.Signal(record.samples.copy(), record.fs), frame_len=FRAME),
                                 0))
    res = runner.invoke(app, ["check", str(path)])
    assert res.exit_code == 1
    assert (f"9 of its 10 frames are intact; rows [0, {FRAME}) are lost, rows [{FRAME}, {N}) past them intact (a "
            "decode of a range reads them) (`sancodec decode --salvage` writes them)") in " ".join(res.stderr.split())
