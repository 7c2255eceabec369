"""``decode(..., salvage=True)`` and ``sancodec decode --salvage``: a truncated ``.san``, or one whose index or a frame
is damaged, decodes as far as its frames are intact (from the first up to the damage), and nothing else: every row
it gives is the row the whole file decodes to, and every other failure stays a :class:`SancodecError`."""

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
        assert decoded.salvaged == (None if intact == len(ends) else (intact, len(ends), rows))
        assert salvage_extent(part) == (intact, len(ends), rows)


def test_a_whole_file_salvaged_is_the_file_decoded(coded):
    data, whole = coded
    decoded = decode_file(data, salvage=True)
    assert decoded.salvaged is None and np.array_equal(decoded.signal.samples, whole)
    assert decoded.signal.header_dict() == sancodec.decode(data).header_dict()
    assert np.array_equal(sancodec.decode(data, 5000, 9000, salvage=True).samples, whole[5000:9000])


def test_a_damaged_frame_ends_what_is_salvaged_and_a_damaged_index_loses_nothing(coded):
    data, whole = coded
    ends = _frame_ends(data)
    damaged = bytearray(data)
    damaged[ends[4] + FRAME_HEAD.size + 3] ^= 0x10  # a payload byte of frame 5
    with pytest.raises(SanFormatError, match="frame 5: checksum mismatch"):
        sancodec.decode(bytes(damaged))
    assert np.array_equal(sancodec.decode(bytes(damaged), salvage=True).samples, whole[: 5 * FRAME])
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
        with pytest.raises(SanConfigError, match=rf"reaches past the rows intact, \[0, {3 * FRAME}\) of the record's "
                           rf"{N}"):
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
        assert len(got) and np.array_equal(got, whole[: len(got)]) and np.array_equal(opened, got)


def test_decode_salvage_and_check_say_what_survives(coded, tmp_path):
    data, whole = coded
    ends = _frame_ends(data)
    path = tmp_path / "cut.san"
    path.write_bytes(data[: ends[3] + 100])  # frames 0-3 intact
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy")])
    assert res.exit_code == 1 and "--salvage" in res.stderr and not (tmp_path / "out.npy").exists()
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "out.npy"), "--salvage", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["salvaged"] == {"frames": 4, "of": 10, "rows": 4 * FRAME}
    assert f"4 of its 10 frames are intact, rows [0, {4 * FRAME}) of its {N}: the rest is lost" in res.stderr
    assert np.array_equal(np.load(tmp_path / "out.npy"), whole[: 4 * FRAME].astype(np.load(tmp_path / "out.npy").dtype))
    res = runner.invoke(app, ["decode", str(path), "-o", str(tmp_path / "rec"), "--salvage", "-q"])  # WFDB
    assert res.exit_code == 0 and np.array_equal(sancodec.read_signal(tmp_path / "rec").samples, whole[: 4 * FRAME])
    res = runner.invoke(app, ["check", str(path), "--json"])
    assert res.exit_code == 1
    (checked,) = json.loads(res.stdout)["files"]
    assert checked["salvageable"] == {"frames": 4, "of": 10, "rows": 4 * FRAME} and not checked["ok"]
    res = runner.invoke(app, ["check", str(path)])
    assert res.exit_code == 1
    assert f"4 of its 10 frames are intact, rows [0, {4 * FRAME}) (`sancodec decode --salvage` writes them)" in \
        res.stderr and "(decode(..., salvage=True))" not in res.stderr


def test_frame_heads_that_lie_under_valid_checksums_end_the_walk_there(coded):
    """A frame head is outside its payload's CRC: one whose length runs past the file or past the cap, or whose number
    skips ahead, ends what is salvaged at that frame (nothing read past the file, nothing allocated for the length
    claimed), though every payload after it is intact."""
    import struct

    data, whole = coded
    offsets = [offset for offset, _ in SanReader(data).index]
    for field, value in ((4, len(data) * 4), (4, (256 << 20) + 1), (4, 0xFFFFFFFF), (0, 7), (0, 0xFFFFFFFF)):
        lying = bytearray(data)
        struct.pack_into("<I", lying, offsets[3] + field, value)  # frame 3's number or payload length
        with pytest.raises(SanFormatError):
            sancodec.decode(bytes(lying))
        decoded = decode_file(bytes(lying), salvage=True)
        assert decoded.salvaged == (3, 10, 3 * FRAME) and np.array_equal(decoded.signal.samples, whole[: 3 * FRAME])


def test_salvage_writes_no_output_that_exists_without_force(coded, tmp_path):
    data, _ = coded
    path = tmp_path / "cut.san"
    path.write_bytes(data[: _frame_ends(data)[1]])
    for output in ("out.npy", "rec"):
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
        assert f.shape == (rows, 2) and len(f) == rows and f.salvaged == (4, len(ends), rows)
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
