"""Parallel frames and the streaming API: same bytes for any thread count and any block size."""

from __future__ import annotations

import sys

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st

import sancodec
from sancodec.codec import pipeline


@pytest.fixture(scope="module")
def record(mitdb_100):
    return sancodec.read_signal(mitdb_100).slice(0, 120_000)


@pytest.mark.parametrize("options", [{"mode": "lossless"}, {"mode": "near-lossless", "max_error": 3},
                                     {"mode": "san"}, {"mode": "lossless", "predictor": "all"}])
def test_bytes_are_identical_for_any_thread_count(record, options):
    one = sancodec.encode(record, frame_len=4096, threads=1, **options)
    for threads in (2, 3, 8):
        assert sancodec.encode(record, frame_len=4096, threads=threads, **options) == one
    for threads in (1, 4):
        assert np.array_equal(sancodec.decode(one, threads=threads).samples,
                              sancodec.decode(one, threads=1).samples)


def test_threads_are_checked(record):
    with pytest.raises(sancodec.SanConfigError, match="threads"):
        sancodec.encode(record, threads=0)


@pytest.mark.parametrize("block", [1000, 4096, 50_001, 120_000])
def test_the_streaming_writer_writes_the_whole_signal_apis_bytes(record, tmp_path, block):
    whole = sancodec.encode(record, frame_len=4096)
    path = tmp_path / "s.san"
    with sancodec.open(path, "w", like=record, frame_len=4096, threads=2) as f:
        for s in range(0, record.n_samples, block):
            f.write(record.samples[s : s + block])
        assert not path.exists()  # nothing appears before close
    assert path.read_bytes() == whole
    assert [p.name for p in tmp_path.iterdir()] == ["s.san"]  # the spool is gone


def test_blocks_cover_the_record_exactly_once(record, tmp_path):
    path = tmp_path / "s.san"
    path.write_bytes(sancodec.encode(record, frame_len=4096))
    with sancodec.open(path) as f:
        assert f.dtype == np.int16  # fmt 212: held as int16, not int64
        for n in (1, 999, 4096, 5000, 200_000):
            if n == 1:
                got = list(f.blocks(n, 10_000, 10_050))
                assert len(got) == 50 and all(len(b) == 1 for b in got)
                assert np.array_equal(np.concatenate(got), record.samples[10_000:10_050])
                continue
            got = list(f.blocks(n))
            assert all(len(b) == n for b in got[:-1]) and 0 < len(got[-1]) <= n
            assert np.array_equal(np.concatenate(got), record.samples)
        assert np.array_equal(f.read(4000, 9000), record.samples[4000:9000])
        assert f.info["n_samples"] == record.n_samples
        assert f.info["mode"] == "lossless"
        # the rate and names as attributes, as a Signal has them (were in f.info only: f.fs an AttributeError)
        assert f.fs == record.fs == f.info["fs"] and isinstance(f.fs, float)
        assert f.channel_names == record.channel_names == f.info["channel_names"]


def test_an_open_file_is_indexed_as_numpy_indexes_its_array(record, tmp_path):
    """``f[a:b]``, ``f[-n:]``, ``f[i]``, ``f[:, k]``, ``len(f)``, ``f.shape`` and iteration give what the same
    indexing of the decoded array gives; a row past the ends is an IndexError (test_stream_indexing: every other
    form of index)."""
    path = tmp_path / "s.san"
    path.write_bytes(sancodec.encode(record, frame_len=4096))
    x = record.samples
    with sancodec.open(path) as f:
        assert len(f) == len(x) and f.shape == x.shape
        for key in (slice(4000, 9000), slice(-360, None), slice(None, 5), slice(8190, 8194), (slice(100, 200), 1),
                    (slice(None, 3), [1, 0]), 0, -1, 4096, (7, 1), slice(50, 50), slice(9, 2)):
            got, want = f[key], x[key]
            assert got.shape == want.shape and np.array_equal(got, want), key
        assert f[50:50].dtype == f.dtype
        with pytest.raises(IndexError):
            f[len(x)]
        with pytest.raises(IndexError):
            f[1.5]
        rows = iter(f)
        assert np.array_equal(next(rows), x[0]) and np.array_equal(next(rows), x[1])
    with sancodec.open(path) as f:
        assert sum(1 for _ in f) == len(x)


@pytest.mark.parametrize("options, mode", [({"mode": "san"}, "san"), ({"mode": "lossy", "prdn": 5.0}, "lossy")])
def test_the_reader_names_the_mode_a_file_was_encoded_with(record, tmp_path, options, mode):
    path = tmp_path / "s.san"
    path.write_bytes(sancodec.encode(record.slice(0, 20_000), **options))
    with sancodec.open(path) as f:
        assert f.info["mode"] == mode  # both headers say "lossy": a san file carries no target


def test_a_failed_stream_leaves_nothing(record, tmp_path):
    path = tmp_path / "s.san"
    with pytest.raises(sancodec.SanConfigError):
        with sancodec.open(path, "w", like=record) as f:
            f.write(record.samples[:1000])
            f.write(np.zeros((10, 3), dtype=np.int64))  # wrong channel count
    assert list(tmp_path.iterdir()) == []
    for lossy, said in (({"codec": "lossy"}, "exactly one target"), ({"snr": 30.0}, "codec='lossy'")):
        with pytest.raises(sancodec.SanConfigError, match=said):  # (lossy streaming: test_stream_lossy.py)
            sancodec.open(path, "w", like=record, **lossy)


def test_open_without_a_signal_needs_rate_and_channels(tmp_path):
    path = tmp_path / "x.san"
    x = (1000 * np.sin(np.arange(20_000) / 30)).astype(np.int32)[:, None]
    with sancodec.open(path, "w", fs=250, channels=1) as f:
        f.write(x)
    with sancodec.open(path) as f:
        assert np.array_equal(f.read(), x)
    with pytest.raises(sancodec.SanConfigError, match="fs= and channels="):
        sancodec.open(path, "w")
    for channels in (-1, 2.5, True):  # were a ValueError and a TypeError from numpy
        with pytest.raises(sancodec.SanConfigError, match="whole number of channels"):
            sancodec.open(path, "w", fs=250, channels=channels)
    like = sancodec.Signal(x, 250.0, ["x"], ["mV"])
    for given in ({"fs": 100}, {"channels": 2}, {"fs": 250, "channels": 1}):  # were ignored, like's taken
        with pytest.raises(sancodec.SanConfigError, match="not both"):
            sancodec.open(tmp_path / "y.san", "w", like=like, **given)
    assert not (tmp_path / "y.san").exists()
    f = sancodec.open(path)
    with pytest.raises(sancodec.SanConfigError, match="whole number"):
        next(f.blocks(2.5))  # was a TypeError from a slice
    f.close()
    with pytest.raises(sancodec.SanConfigError, match="closed"):
        f.read()  # was a ValueError from seek()


def test_ordered_map_keeps_order_and_bounds_what_is_in_flight():
    seen = []

    def work(i):
        seen.append(i)
        return i * i

    items = iter(range(100))
    results = pipeline.ordered_map(work, items, 3)
    assert next(results) == 0
    assert len(seen) <= 7  # 2 x threads submitted ahead, not all 100
    assert list(results) == [i * i for i in range(1, 100)]


def test_a_lying_or_damaged_file_is_refused_by_the_reader(record, tmp_path):
    from common import rewrap

    data = sancodec.encode(record, frame_len=4096)
    header = sancodec.codec.container.SanReader(data).header
    header["n_samples"] = 1 << 36  # declares far more samples than its frames can justify
    (tmp_path / "lying.san").write_bytes(rewrap(data, header=header))
    with pytest.raises(sancodec.SanFormatError):
        sancodec.open(tmp_path / "lying.san")
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x20
    (tmp_path / "damaged.san").write_bytes(bytes(damaged))
    with pytest.raises(sancodec.SanFormatError):
        with sancodec.open(tmp_path / "damaged.san") as f:
            list(f.blocks(10_000))


def test_ranges_and_thread_counts_are_whole_numbers(record, tmp_path):
    data = sancodec.encode(record.slice(0, 8000))
    path = tmp_path / "r.san"
    path.write_bytes(data)
    assert np.array_equal(sancodec.decode(data, np.int64(5), np.int32(100)).samples, record.samples[5:100])
    with sancodec.open(path) as f:
        for bad in ("5", 5.5, True):  # 5.5 had been cut to 5, "5" read as 5
            with pytest.raises(sancodec.SanConfigError, match="whole sample index"):
                sancodec.decode(data, bad)
            with pytest.raises(sancodec.SanConfigError, match="whole sample index"):
                f.read(0, bad)
    for bad in ("2", 2.0):
        with pytest.raises(sancodec.SanConfigError, match=r"threads \(--threads\) must be a whole number"):
            sancodec.decode(data, threads=bad)


def test_the_reader_gives_a_npy_sources_integers_in_their_own_dtype(tmp_path):
    x = np.clip(np.cumsum(np.random.default_rng(7).integers(-300, 301, (6000, 2)), axis=0), -32768, 32767)
    np.save(tmp_path / "x.npy", x.astype(np.int16))
    for options, name in (({}, "a.san"), ({"mode": "lossy", "prdn": 30.0}, "b.san")):
        path = tmp_path / name
        path.write_bytes(sancodec.encode(sancodec.read_signal(tmp_path / "x.npy", fs=250), **options))
        with sancodec.open(path) as f:
            got = f.read()
            assert f.dtype == np.int16 and got.dtype == np.int16  # a lossy overshoot clipped, never wrapped
            if not options:
                assert np.array_equal(got, x)
            for c in range(2):  # a wrapped overshoot would put the error far past the target
                assert sancodec.metrics.prdn(x[:, c].astype(float), got[:, c].astype(float)) <= 30.0 + 1e-9


@pytest.mark.parametrize("codec, options", [("lossless", {}), ("near-lossless", {"max_error": 2}),
                                             ("lossy", {"prdn": 30.0})])
def test_an_arrays_blocks_read_back_in_its_integer_type(tmp_path, codec, options):
    """``open(path, "w", fs=, channels=)`` fed int16 blocks read back as int64 and decoded to a WFDB record of
    format "-", where ``sancodec.encode`` of the same array reads back as int16 and decodes to its .npy: the blocks'
    integer type (their concatenation's) is now said in the header as an array's, whatever the codec; 1-D blocks
    of one channel keep their rank. Blocks of floats, or of mixed ranks, read as before."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    rng = np.random.default_rng(3)
    x = np.clip(np.cumsum(rng.integers(-300, 301, (30_000, 2)), axis=0), -32768, 32767).astype(np.int16)
    path = tmp_path / "s.san"
    with sancodec.open(path, "w", fs=250, channels=2, codec=codec, **options) as f:
        for start in range(0, len(x), 4001):
            f.write(x[start : start + 4001])
    with sancodec.open(path) as f:
        got = f.read()
        assert f.dtype == np.int16 and got.dtype == np.int16
        if codec == "lossless":
            assert np.array_equal(got, x)
    res = CliRunner().invoke(app, ["decode", str(path), "-q"])
    assert res.exit_code == 0, res.output
    written = np.load(tmp_path / "s_decoded.npy")
    assert written.dtype == np.int16 and np.array_equal(written, got)
    with sancodec.open(tmp_path / "mixed.san", "w", fs=250, channels=1, codec=codec, **options) as f:
        f.write(x[:10_000, 0])  # 1-D int16, then 1-D int32: their concatenation's int32, rank 1
        f.write(x[10_000:, 0].astype(np.int32))
    with sancodec.open(tmp_path / "mixed.san") as f:
        assert f.dtype == np.int32 and f.shape == (30_000, 1)
    assert CliRunner().invoke(app, ["decode", str(tmp_path / "mixed.san"), "-o", str(tmp_path / "m.npy"), "-q"]
                              ).exit_code == 0
    assert np.load(tmp_path / "m.npy").shape == (30_000,) and np.load(tmp_path / "m.npy").dtype == np.int32
    with sancodec.open(tmp_path / "ranks.san", "w", fs=250, channels=1, codec=codec, **options) as f:
        f.write(x[:10_000, 0])
        f.write(x[10_000:, :1])  # a 1-D block, then a 2-D one: no one rank, so no type said
    with sancodec.open(tmp_path / "ranks.san") as f:
        assert f.dtype == np.int64


@pytest.mark.parametrize("source", [{"kind": "npy", "dtype": "|O", "rank": 1}, {"kind": "npy", "dtype": "<f2"},
                                    {"kind": "npy", "dtype": "nonsense", "rank": [1]}, {"kind": "npy", "dtype": 7}])
def test_a_file_whose_source_entry_lies_reads_as_its_samples(record, tmp_path, source):
    """A header's source entry is the writer's word (its CRCs hold): a dtype no integer reader can take leaves the
    samples as the format holds them, for sancodec.open and the .npy writer alike."""
    lying = record.slice(0, 4000)
    lying.source = source
    path = tmp_path / "l.san"
    path.write_bytes(sancodec.encode(lying))
    with sancodec.open(path) as f:
        assert f.dtype == np.int16 and np.array_equal(f.read(), record.samples[:4000])
    back = sancodec.decode(path.read_bytes())
    sancodec.write_signal(back, tmp_path / "l.npy")
    assert np.array_equal(np.load(tmp_path / "l.npy").reshape(4000, -1), record.samples[:4000])


def test_a_file_open_refuses_says_which_file(tmp_path):
    """``sancodec.open`` of a file that is no .san, or a damaged one, names the file (it said "not a .san file
    (magic b'test')" alone, a reader of bytes knowing no name); the CLI's messages name it once."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    (tmp_path / "rec.hea").write_text("test01_00s 4 500 4000\n")
    (tmp_path / "cut.san").write_bytes(sancodec.encode(np.arange(5000, dtype=np.int16), fs=100.0)[:40])
    for name, said in (("rec.hea", "not a .san file"), ("cut.san", "")):
        with pytest.raises(sancodec.SanFormatError) as info:
            sancodec.open(tmp_path / name)
        assert str(info.value).startswith(f"{tmp_path / name}: ") and said in str(info.value)
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "cut.san"), "-o", str(tmp_path / "back")])
    assert res.exit_code == 1 and res.stderr.count(str(tmp_path / "cut.san")) == 1, res.stderr


def test_a_reader_of_many_channels_decodes_a_window_of_about_2_21_samples(tmp_path, monkeypatch):
    """A window is 2^20 rows of one or two channels and about 2^21 samples over more (a 20-channel EDF's window of
    2^20 rows took 600 MB to decode); its frames are given one at a time, the checksums checked over them all."""
    assert pipeline.window_frames(1 << 15, 1) == pipeline.window_frames(1 << 15, 2) == 32
    assert pipeline.window_frames(1 << 24, 1) == 4  # (at least 4 frames of one or two channels)
    assert pipeline.window_frames(1 << 17, 20) == 2 and pipeline.window_frames(1 << 15, 20) == 3
    # a frame of 2^23 samples or more (a lossy frame of 2^20 rows, 8 channels or more) is a window alone: two
    # decoded side by side held two blocks of 2^20 rows (336 MB of 20 channels); of fewer channels, two
    assert pipeline.window_frames(1 << 20, 20) == pipeline.window_frames(1 << 20, 8) == 1
    assert pipeline.window_frames(1 << 20, 7) == pipeline.window_frames(1 << 20, 3) == 2
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.integers(-30, 31, (30000, 12)), axis=0).astype(np.int16)
    signal = sancodec.Signal(x, 250.0, [f"c{k}" for k in range(12)], ["uV"] * 12)
    path = tmp_path / "many.san"
    sancodec.write_bytes_atomic(path, sancodec.encode(signal, frame_len=2048))
    monkeypatch.setattr(pipeline, "DECODE_WINDOW_VALUES", 3 * 2048 * 12)  # 3 frames a window
    windows = []
    real = pipeline.FrameDecoder.decode_window
    monkeypatch.setattr(pipeline.FrameDecoder, "decode_window",
                        lambda self, frames: windows.append(len(frames)) or real(self, frames))
    with sancodec.open(path) as f:
        given = list(f._windows(0, f.n_samples))
        assert np.array_equal(np.concatenate(list(f.blocks(5000))), x)
        assert np.array_equal(f.read(2048 * 4 + 7, 2048 * 9 - 3), x[2048 * 4 + 7 : 2048 * 9 - 3])
    assert max(windows) == 3 and sum(windows) > 2 * 15  # every frame, 3 a window, for each pass
    assert [len(b) for b in given] == [2048] * 14 + [30000 - 14 * 2048]  # a frame at a time


def test_integer_blocks_are_joined_once_a_window_their_source_the_same_rows(tmp_path, monkeypatch):
    """An integer block is coded as it came: the rows a window joins are its source too, joined once, not twice (a
    20-channel EDF's window held twice over); the file is the whole signal's."""
    from sancodec.codec import encoder

    rng = np.random.default_rng(9)
    x = np.cumsum(rng.integers(-25, 26, (120000, 20)), axis=0)
    signal = sancodec.Signal(x, 256.0, [f"c{k}" for k in range(20)], ["uV"] * 20)
    joined = []
    real = np.concatenate

    def spied(arrays, *args, **kwargs):  # the encoder's joins of blocks (not the coders' own concatenations)
        if sys._getframe(1).f_code is encoder.SanEncoder._code.__code__:
            joined.append(len(arrays))
        return real(arrays, *args, **kwargs)

    monkeypatch.setattr(encoder.np, "concatenate", spied)
    with sancodec.open(tmp_path / "blocks.san", "w", like=signal, frame_len=1 << 15) as f:
        for start in range(0, len(x), 40000):
            f.write(x[start : start + 40000])
    assert joined == [3]  # the first window's three blocks, once (not again as their source); the rest is one
    monkeypatch.setattr(encoder.np, "concatenate", real)
    assert (tmp_path / "blocks.san").read_bytes() == sancodec.encode(signal, frame_len=1 << 15)


def test_reblocked_lets_each_block_go_before_it_gathers_the_next():
    """``stream.reblocked`` (a long EDF's records joined into a lossy block of 2^20 rows) holds no block it gave once
    its reader lets it go, nor the pieces it joined: one block and the next one's pieces at a time, not two blocks.
    The rows are the same, each once."""
    import weakref

    from sancodec.stream import reblocked

    rng = np.random.default_rng(3)
    pieces = [rng.integers(0, 100, (int(k), 3)) for k in rng.integers(1, 400, 60)]
    alive: list[weakref.ref] = []
    given = []

    def source():
        for piece in pieces:
            yield piece.copy()  # (each piece the reader's own, as an EDF's are)

    for block in reblocked(source(), 1000):
        assert all(r() is None for r in alive)  # every block given before this one is gone
        given.append(block.copy())
        alive.append(weakref.ref(block.base if block.base is not None else block))
        del block
    assert np.array_equal(np.concatenate(given), np.concatenate(pieces))
    assert [len(b) for b in given[:-1]] == [1000] * (len(given) - 1) and 0 < len(given[-1]) <= 1000


def test_reblocked_gathers_pieces_as_their_join_would_and_gives_views_of_long_ones():
    """A block inside one piece is a view of it (no copy); pieces of two dtypes come back in the dtype their
    concatenation takes."""
    from sancodec.stream import reblocked

    big = np.arange(50, dtype=np.int64).reshape(25, 2)
    pieces = [np.arange(6, dtype=np.int16).reshape(3, 2), big, np.full((4, 2), 2**40, dtype=np.int64)]
    got = list(reblocked(iter(pieces), 10))
    joined = np.concatenate(pieces)
    assert [len(b) for b in got] == [10, 10, 10, 2] and all(b.dtype == joined.dtype for b in got)
    assert np.array_equal(np.concatenate(got), joined)
    assert got[1].base is big or np.shares_memory(got[1], big)  # rows 10-19 lie inside the 25-row piece


@hypothesis.given(st.lists(st.integers(0, 60), max_size=12), st.integers(1, 40), st.integers(1, 3), st.booleans())
@hypothesis.settings(max_examples=60, deadline=None)
def test_reblocked_gives_every_row_once_in_blocks_of_n_whatever_the_pieces(lengths, n, columns, one_d):
    """Any pieces (empty ones, ones longer than several blocks, 1-D or rows of columns): blocks of ``n`` rows but the
    last, the rows of the pieces' join, in order, each once."""
    from sancodec.stream import reblocked

    shape = (lambda k: (k,)) if one_d else (lambda k: (k, columns))
    pieces = [np.arange(sum(lengths[:i]) * 10, sum(lengths[:i]) * 10 + int(np.prod(shape(k))), dtype=np.int64
                        ).reshape(shape(k)) for i, k in enumerate(lengths)]
    got = [b.copy() for b in reblocked(iter(pieces), n)]
    total = sum(lengths)
    assert [len(b) for b in got] == [n] * (total // n) + ([total % n] if total % n else [])
    if got:
        assert np.array_equal(np.concatenate(got), np.concatenate(pieces))


def test_a_frames_channels_are_let_go_once_in_its_block(monkeypatch):
    """A frame's decoder puts each channel in the frame's block as it is decoded and lets it go (``pipeline.
    FrameDecoder._placed``): at most one channel's samples beside the block, where it had held every channel's
    beside it until the frame was assembled (a 20-channel lossy frame of 2^20 rows: 168 MB more). Lossy and
    lossless, one rate and two, the whole file and a range: the same samples as before."""
    import gc
    import weakref

    from sancodec.codec.frames import ChannelFrame

    real = pipeline.decode_channel_frame
    parts: list[weakref.ref] = []
    alive: list[int] = []

    def spy(payload: bytes, length: int, plan: object) -> ChannelFrame:
        held = sum(r() is not None for r in parts)  # the channels decoded before this one still held ...
        if held:  # ... once a cycle's are collected (a full collection each call took this test 40 s)
            gc.collect()
            held = sum(r() is not None for r in parts)
        alive.append(held)
        part = real(payload, length, plan)
        parts.append(weakref.ref(part))
        return part

    rng = np.random.default_rng(7)
    x = np.cumsum(rng.integers(-30, 31, (12_000, 6)), axis=0)
    slow = x.copy()
    slow[:, 4:] = np.repeat(x[::4, 4:], 4, axis=0)
    signals = [sancodec.Signal(x, 250.0), sancodec.Signal(slow, 250.0, samples_per_frame=[4, 4, 4, 4, 1, 1])]
    for signal in signals:
        for options in ({"frame_len": 4096}, {"mode": "lossy", "prdn": 2, "effort": "fast"}):
            data = sancodec.encode(signal, threads=1, **options)
            whole = sancodec.decode(data, threads=1).samples
            monkeypatch.setattr(pipeline, "decode_channel_frame", spy)
            parts.clear(), alive.clear()
            assert np.array_equal(sancodec.decode(data, threads=1).samples, whole)
            with sancodec.open(data, threads=1) as f:
                assert np.array_equal(f.read(1000, 9000), whole[1000:9000])
            assert len(alive) >= 6 and max(alive) == 0, (options, alive)
            monkeypatch.setattr(pipeline, "decode_channel_frame", real)


def test_sample_blocks_give_the_samples_decode_gives_and_count_the_activations():
    """``SanFile.sample_blocks``: the record as ``sancodec.decode``'s Signal holds it (a decimal file's integers, not
    the decimals ``read`` gives; a float file's values on its step; the integers), a block at a time; and
    ``activations_read`` the activations ``decode_file`` counts (a SAN file's)."""
    from sancodec.codec import decode_file

    rng = np.random.default_rng(2)
    decimals = np.round(np.cumsum(rng.normal(size=5000)) / 7, 2)
    walk = np.cumsum(rng.integers(-9, 10, (6000, 2)), axis=0)
    for data in (sancodec.encode(decimals, fs=100.0), sancodec.encode(decimals * 1.3, fs=100.0, mode="lossy", prdn=2),
                 sancodec.encode(walk, fs=250.0, mode="san"), sancodec.encode(walk, fs=250.0, frame_len=1024)):
        whole = decode_file(data)
        with sancodec.open(data) as f:
            blocks = list(f.sample_blocks(777))
            assert f.activations_read == whole.activations
        assert [len(b) for b in blocks[:-1]] == [777] * (len(blocks) - 1)
        joined = np.concatenate(blocks)
        assert joined.dtype == whole.signal.samples.dtype and np.array_equal(joined, whole.signal.samples)
    with sancodec.open(sancodec.encode(decimals, fs=100.0)) as f:  # (read gives the decimals themselves)
        assert np.array_equal(f.read(), decimals[:, None]) and next(f.sample_blocks(10)).dtype.kind == "i"
    san = sancodec.encode(walk, fs=250.0, mode="san", frame_len=1024)
    whole = decode_file(san).activations
    assert whole > 0
    with sancodec.open(san, threads=1) as f:  # every decode counts: a read within a window, a Signal of the record
        f.read(0, 100)
        first = f.activations_read
        assert 0 < first < whole
        f.signal()
        assert f.activations_read == first + whole


def test_float32_blocks_stream_near_lossless_within_the_error(tmp_path):
    """Float32 blocks stream near-lossless on one grid of twice the error (each block's values of their own size:
    a whole-signal encode's grid, which leaves room for a float32 decode's rounding by the largest value, is not
    made block by block, or the blocks' grids would differ), and read back as float64 within it."""
    x = (np.cumsum(np.random.default_rng(3).normal(size=(20_000, 1)), axis=0) * 3).astype(np.float32)
    with sancodec.open(tmp_path / "n.san", "w", fs=100.0, channels=1, codec="near-lossless", max_error=0.01) as f:
        for start in range(0, len(x), 5000):
            f.write(x[start : start + 5000])
    with sancodec.open(tmp_path / "n.san") as f:
        got = f.read()
    assert got.dtype == np.float64 and np.abs(got - x.astype(np.float64)).max() <= 0.01 + 1e-12


def test_a_block_refused_whole_leaves_the_writer_as_it_was(tmp_path):
    """A block the writer refuses before taking any of its rows (a wrong shape, floats in an integer stream, values
    past ±2^53) is refused alone, as soundfile refuses a write: the rows before it are kept, the stream goes on and
    the file reads back as the blocks taken, in their integer type. A refused block used to drop the whole stream,
    and close() then returned the path of a file it never wrote."""
    x = np.arange(-3000, 3000, dtype=np.int16).reshape(-1, 2)
    path = tmp_path / "kept.san"
    f = sancodec.open(path, "w", fs=250, channels=2, frame_len=1024)
    f.write(x[:1000])
    for bad, said in ((x[:, :1], r"\(samples, 2\) blocks"), (x[:10] + 0.5, "lossless streaming takes integers"),
                      (np.full((3, 2), 2**60), "beyond ±2\\*\\*53")):
        with pytest.raises(sancodec.SanConfigError, match=said):
            f.write(bad)
    f.write(x[1000:])
    assert f.close() == path
    with sancodec.open(path) as back:
        assert back.dtype == np.int16 and np.array_equal(back.read(), x)


@pytest.mark.parametrize("codec, options", [("lossy", {"prdn": 2.0}), ("near-lossless", {"max_error": 2}),
                                            ("lossless", {"decimals": 1})])
def test_each_codec_s_stream_goes_on_past_a_refused_block(tmp_path, codec, options):
    """The lossy, near-lossless and decimal streams refuse a bad block alone too; the lossy stream of floats refuses
    values past 2^53 on its step when the block is written, not when its frame is coded at close (which dropped
    every row written before)."""
    x = np.cumsum(np.random.default_rng(0).integers(-9, 10, (6000, 2)), axis=0)
    good = x / 10 if codec == "lossless" else x
    path = tmp_path / f"{codec}.san"
    with sancodec.open(path, "w", fs=250, channels=2, codec=codec, **options) as f:
        f.write(good[:3000])
        with pytest.raises(sancodec.SanConfigError):
            f.write(good[:5, :1])
        with pytest.raises(sancodec.SanConfigError):
            f.write(np.full((5, 2), np.inf))
        f.write(good[3000:])
    back = sancodec.open(path).read()
    assert back.shape == good.shape and np.abs(back - good).max() <= (0 if codec == "lossless" else 20)
    with sancodec.open(tmp_path / "floats.san", "w", fs=250, channels=2, codec="lossy", prdn=2.0, step=0.01) as f:
        f.write(x / 100)
        with pytest.raises(sancodec.SanConfigError, match="too large for their step"):
            f.write(np.full((3, 2), 2.0**60))
    assert sancodec.open(tmp_path / "floats.san").shape == x.shape


def test_a_near_lossless_stream_names_the_kinds_of_blocks_it_mixes(tmp_path):
    """Floats after integers in a near-lossless stream were refused as "san mode of floating-point samples needs the
    whole signal", and a NaN as an "invalid signal header"."""
    with sancodec.open(tmp_path / "n.san", "w", fs=250, channels=1, codec="near-lossless", max_error=2) as f:
        f.write(np.arange(100))
        with pytest.raises(sancodec.SanConfigError, match="the first were integers, this one holds floats"):
            f.write(np.arange(100) + 0.25)
        with pytest.raises(sancodec.SanConfigError, match="takes finite values: this block holds NaN"):
            f.write(np.array([1.0, np.nan]))


def test_a_failure_after_the_coder_took_rows_drops_the_stream_and_says_so(tmp_path, monkeypatch):
    """A failure once the coder has taken a block's rows (here a frame's coding) drops the stream: nothing is written,
    and a later write or close names that failure rather than returning the path of a file that is not there."""
    from sancodec.codec import encoder

    def broken(self, count):
        raise sancodec.SanConfigError("a frame could not be coded")
        yield b""

    monkeypatch.setattr(encoder.SanEncoder, "_code", broken)
    monkeypatch.setattr(encoder, "encode_window_frames", lambda *_: 2)  # (a window of two frames: 512 rows)
    path = tmp_path / "dropped.san"
    f = sancodec.open(path, "w", fs=250, channels=1, frame_len=256, threads=1)
    with pytest.raises(sancodec.SanConfigError, match="could not be coded"):
        f.write(np.arange(5000))
    for later in (lambda: f.write(np.arange(10)), f.close):
        with pytest.raises(sancodec.SanConfigError, match=r"an earlier failure dropped \(a frame could not be coded\)"):
            later()
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_options_of_the_other_mode_are_refused_in_words(tmp_path):
    """``sancodec.open(path, like=sig)`` without its "w" opened the file to read and took ``like=`` in silence, and
    ``prdn=`` in read mode was a TypeError from SanFile: each names the mode it is for now. The lists are the
    reader's and writer's own options."""
    from sancodec import stream

    path = tmp_path / "r.san"
    path.write_bytes(sancodec.encode(np.arange(100)[:, None], fs=10))
    like = sancodec.Signal(np.zeros((1, 1), dtype=np.int64), 10.0, ["a"], ["mV"])
    for options in ({"like": like}, {"prdn": 2}, {"fs": 10, "channels": 1}, {"codec": "lossy"}):
        with pytest.raises(sancodec.SanConfigError, match=r"for writing a \.san: open\(path, 'w'"):
            sancodec.open(path, **options)
    with pytest.raises(sancodec.SanConfigError, match=r"cache_bytes= is for reading a \.san"):
        sancodec.open(tmp_path / "w.san", "w", fs=10, channels=1, cache_bytes=0)
    assert not (tmp_path / "w.san").exists()
    reader_only, writer_only = stream.mode_options()  # (read off the signatures: a new option joins them)
    assert reader_only == {"limits", "cache_bytes", "salvage"}
    with pytest.raises(sancodec.SanConfigError, match=r"salvage= is for reading a \.san"):
        sancodec.open(tmp_path / "w.san", "w", fs=10, channels=1, salvage=True)
    assert writer_only == {"like", "fs", "channels", "codec", "max_error", "frame_len", "predictor", "embed_model",
                           "fsync", "decimals", "step", "prdn", "snr", "bps", "effort", "verify"}
