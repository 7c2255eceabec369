"""``SanFile[key]`` indexes as numpy indexes the decoded array: every form of index, its shape and values, its errors;
rows far apart are read apart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import stream
from sancodec.rowkey import rows_for

N = 20_000
FRAME = 4096


@pytest.fixture(scope="module")
def opened(mitdb_100, tmp_path_factory):
    record = sancodec.read_signal(mitdb_100).slice(0, N)
    path = tmp_path_factory.mktemp("indexing") / "s.san"
    path.write_bytes(sancodec.encode(record, frame_len=FRAME))
    with sancodec.open(path) as f:
        yield f, record.samples.astype(f.dtype)


def _keys(x: np.ndarray) -> list:
    rng = np.random.default_rng(5)
    keys: list = [
        slice(None, None, 1000), slice(10, 0, -1), slice(None, None, -5000), slice(-1, None, -7),
        slice(3, 19_999, 4095), slice(N + 5, None, -3000), slice(0, 0, 2), [1, 5, 3], [5, 5, -1, 0], [],
        np.array([], dtype=np.int64),
        np.array([[3, 4], [19_999, 0]]), np.array(7), np.uint16([2, 9]), ((1, 5),), x[:, 0] > 1100,
        np.zeros(N, dtype=bool), np.ones(N, dtype=bool), x > 1100, np.ones((N, 2), dtype=bool),
        (slice(None, None, 1000), 1), (slice(None, None, -4000), [1, 0]), ([1, 5, 3], [0, 1, 0]), ([[2], [9]], [0, 1]),
        ([3, 7], slice(None)), (x[:, 0] > 1100, 0), (Ellipsis, 1), (5, Ellipsis), (Ellipsis, 5, 1), (Ellipsis,),
        (None, 5), (None, [1, 3], None), (slice(5, 10), None, 1), None, (), True, False, (True, 3), np.bool_(True),
        (slice(None, None, 2000), Ellipsis), ([4, 4, 4],), 5, -1, (7, 1), slice(4000, 9000), slice(9, 2),
    ]
    for _ in range(40):  # random lists of rows (negatives, repeats, rows frames apart) and stepped slices
        keys.append(rng.integers(-N, N, rng.integers(1, 30)).tolist())
        start, stop = (int(v) for v in rng.integers(-N - 100, N + 100, 2))
        keys.append(slice(start, stop, int(rng.choice([-1, 1]) * rng.integers(1, 9000))))
    return keys


def test_every_index_numpy_takes_gives_numpys_shape_and_values(opened):
    f, x = opened
    for key in _keys(x):
        got, want = f[key], x[key]
        assert got.shape == want.shape and got.dtype == want.dtype and np.array_equal(got, want), key


@pytest.mark.parametrize("key, error", [
    (N, IndexError), (-N - 1, IndexError), ([0, N], IndexError), ([-N - 1], IndexError),
    (np.uint64([2**63]), IndexError), (1.5, IndexError), ([1.5], IndexError), ((Ellipsis, Ellipsis), IndexError),
    (np.ones(N - 1, dtype=bool), IndexError),
    ((5, 2), IndexError), ((5, 0, 0), IndexError), ("a", IndexError), (slice(None, None, 0), ValueError),
])
def test_an_index_numpy_refuses_is_refused_as_numpy_refuses_it(opened, key, error):
    f, x = opened
    with pytest.raises(error):
        x[key]  # the numpy refusal the file's mirrors
    with pytest.raises(error):
        f[key]


def test_channels_are_indexed_by_name_as_by_number(opened):
    """A name in the channel entry reads its channel (mitdb 100: MLII then V5), alone, listed, beside an ellipsis or
    a new axis, as its index would."""
    f, x = opened
    assert f.channel_names == ["MLII", "V5"]
    for named, numbered in [
        ((slice(None), "V5"), (slice(None), 1)), ((slice(3, 9), ["V5", "MLII", "V5"]), (slice(3, 9), [1, 0, 1])),
        ((slice(None, None, 1000), ("MLII",)), (slice(None, None, 1000), [0])), ((Ellipsis, "V5"), (Ellipsis, 1)),
        ((7, "MLII"), (7, 0)), (([4, 2], np.array(["V5", "MLII"])), ([4, 2], np.array([1, 0]))),
        ((None, slice(0, 4), None, "V5"), (None, slice(0, 4), None, 1)), ((slice(2, 4), [["V5"], ["MLII"]]),
                                                                           (slice(2, 4), [[1], [0]])),
    ]:
        got, want = f[named], x[numbered]
        assert got.shape == want.shape and np.array_equal(got, want), named


@pytest.mark.parametrize("key, match", [
    ((slice(None), "V6"), "no channel named 'V6'; the file's channels: 'MLII', 'V5'"),
    ((slice(None), ["V5", "II"]), "no channel named 'II'"),
    ("V5", "second axis"), (("V5", 0), "second axis"), (("V5", Ellipsis), "second axis"),
])
def test_a_name_the_file_lacks_or_in_the_rows_place_is_refused(opened, key, match):
    f, _ = opened
    with pytest.raises(IndexError, match=match):
        f[key]


def test_a_name_two_channels_share_is_refused_for_their_numbers(tmp_path):
    path = tmp_path / "twins.san"
    path.write_bytes(sancodec.encode(sancodec.Signal(np.arange(20, dtype=np.int16).reshape(10, 2), 250.0,
                                                     ["ECG", "ECG"], ["mV", "mV"])))
    with sancodec.open(path) as f:
        with pytest.raises(IndexError, match=r"2 channels are named 'ECG' \(0, 1\): index them by number"):
            f[:, "ECG"]
        assert np.array_equal(f[:, 1], np.arange(1, 20, 2))


def test_rows_far_apart_are_read_apart(opened, monkeypatch):
    """Two rows at either end decode the frames that hold them, not the frames between; a stepped slice reads its
    rows a block at a time."""
    f, x = opened
    spans: list[tuple[int, int]] = []
    real = stream.frame_windows

    def recorded(reader, layout, lo, hi, *args, **kwargs):
        spans.append((lo, hi))
        return real(reader, layout, lo, hi, *args, **kwargs)

    monkeypatch.setattr(stream, "frame_windows", recorded)
    with sancodec.open(f.path) as g:  # (a file of its own: nothing kept from an earlier read)
        assert np.array_equal(g[[N - 3, 2]], x[[N - 3, 2]])
        assert spans == [(0, FRAME), ((N - 3) // FRAME * FRAME, N)]  # the frames holding them, whole (kept)
    spans.clear()
    with sancodec.open(f.path) as g:
        assert np.array_equal(g[[2, 2 + FRAME]], x[[2, 2 + FRAME]])  # a frame apart: one read over both
        assert spans == [(0, 2 * FRAME)]
    spans.clear()
    monkeypatch.setattr(stream, "GATHER_BLOCK", 1000)
    with sancodec.open(f.path) as g:
        assert np.array_equal(g[:: FRAME // 2], x[:: FRAME // 2])
        assert spans == [(0, (N - 1) // (FRAME // 2) * (FRAME // 2) + 1)]  # one read, its blocks of 1000 rows


def test_reads_inside_the_frames_a_read_decoded_decode_nothing(opened):
    """``f[i]`` in a loop (or a Dask array's chunks smaller than a frame) decodes each frame once: the frames small
    reads decoded are kept (up to ``cache_bytes``), a read across two frames takes the one kept and
    decodes the other, and a copy of their rows is returned (changing it changes nothing kept). The whole file is
    read through its checksums, not from what is kept."""
    f, x = opened
    with sancodec.open(f.path) as g:
        for i in range(0, 2 * FRAME + 10, 7):
            assert np.array_equal(g[i], x[i]) and np.array_equal(g[i : i + 3, 1], x[i : i + 3, 1])
        assert g.frames_read == 3  # frames 0, 1 and 2, once each
        got = g[FRAME * 2 - 2 : FRAME * 2 + 2]  # (across frames 1 and 2, kept)
        got[:] = 0
        assert np.array_equal(g[FRAME * 2 - 2 : FRAME * 2 + 2], x[FRAME * 2 - 2 : FRAME * 2 + 2])
        assert g.frames_read == 3
        assert np.array_equal(g.read(), x) and g.frames_read == 3 + -(-N // FRAME)


def test_rows_at_random_decode_each_frame_once_while_the_frames_fit(opened):
    """Rows read at random (a data loader's windows) decode each frame once while the record fits
    the default ``cache_bytes``: every row right, however the reads fall, across frames too."""
    f, x = opened
    rows = np.random.default_rng(3).integers(0, N - 50, 400)
    with sancodec.open(f.path) as g:
        for i in rows:
            assert np.array_equal(g[i : i + 50], x[i : i + 50])
        assert g.frames_read == -(-N // FRAME)


def test_the_least_recently_used_frame_is_dropped_first(opened):
    """Past ``cache_bytes`` the frame read longest ago is dropped, one read since kept: with room for two frames,
    frames 0, 1, 0, 2 keep 0 and 2 (1 decoded again), and a frame larger than the room is not kept."""
    f, x = opened
    frame_bytes = FRAME * x.shape[1] * x.itemsize
    with sancodec.open(f.path, cache_bytes=2 * frame_bytes) as g:
        for i in (0, FRAME, 5, 2 * FRAME, 7):
            assert np.array_equal(g[i], x[i])
        assert g.frames_read == 3
        assert np.array_equal(g[FRAME + 1], x[FRAME + 1]) and g.frames_read == 4  # frame 1 was dropped
        assert g._kept.nbytes == 2 * frame_bytes and len(g._kept) == 2
    for room in (frame_bytes - 1, 0):  # less than a frame: nothing kept, every read decodes
        with sancodec.open(f.path, cache_bytes=room) as g:
            for i in (0, 1, 2):
                assert np.array_equal(g[i], x[i])
            assert g.frames_read == 3 and len(g._kept) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "32MB", True])
def test_a_cache_size_that_is_no_count_of_bytes_is_refused(opened, bad):
    f, _ = opened
    with pytest.raises(sancodec.SanConfigError, match="cache_bytes"):
        sancodec.open(f.path, cache_bytes=bad)


def test_a_pickled_file_keeps_its_cache_size(opened):
    """A SanFile sent to a worker process (a Dask array's chunks) reopens with the cache size it was opened with."""
    import pickle

    f, x = opened
    with sancodec.open(f.path, cache_bytes=12345) as g:
        h = pickle.loads(pickle.dumps(g))
    assert h._kept.limit == 12345 and np.array_equal(h[5], x[5])
    h.close()


def test_reads_from_threads_share_the_frames_kept(opened):
    """Threads reading one SanFile at once (a Dask array's chunks) get every row right while frames come and go."""
    f, x = opened
    rows = np.random.default_rng(8).integers(0, N - 20, 600)
    with sancodec.open(f.path, cache_bytes=2 * FRAME * x.shape[1] * x.itemsize) as g, ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: g[i : i + 20], rows))
    assert all(np.array_equal(a, x[i : i + 20]) for a, i in zip(got, rows))


def test_stepped_rows_of_a_decimal_stream_come_back_as_its_floats(tmp_path):
    """A gathered read takes the same path to values as a range does: a decimal stream's floats, its gaps NaN."""
    mv = np.round(np.sin(np.arange(30_000) / 50.0)[:, None] * [1.0, 2.0], 3)
    mv[100:110, 1] = np.nan
    path = tmp_path / "mv.san"
    with sancodec.open(path, "w", fs=250.0, channels=2, decimals=3, frame_len=4096) as w:
        w.write(mv)
    with sancodec.open(path) as f:
        for key in (slice(None, None, 7), [105, 3, 29_999], (slice(100, 120, 3), 1), mv[:, 0] > 0.5):
            got = f[key]
            assert got.dtype == np.float64 and np.array_equal(got, mv[key], equal_nan=True), key


def test_a_closed_file_refuses_every_index(tmp_path):
    path = tmp_path / "c.san"
    path.write_bytes(sancodec.encode(sancodec.Signal(np.arange(100)[:, None], fs=10.0)))
    f = sancodec.open(path)
    f.close()
    for key in ([1, 2], [], slice(None, None, 2), 5, slice(1, 3)):
        with pytest.raises(sancodec.SanConfigError, match="closed"):
            f[key]


def test_rows_for_names_each_row_once_ascending():
    picked = rows_for(([9, 2, 9, -1], 0), 10)
    assert picked.span is None and picked.rows.tolist() == [2, 9]
    assert picked.key[0].tolist() == [1, 0, 1, 1] and picked.key[1] == 0
    assert rows_for(slice(2, 5), 10).span == (2, 5)
    assert rows_for(-2, 10).span == (8, 9)
    assert rows_for((Ellipsis, 1), 10).span == (0, 10)


def test_threads_read_one_open_file_at_once(opened):
    """Reads from several threads at once (a Dask array's chunks) each get their own rows: a frame's seek and read
    are one step (SanReader's lock), not interleaved with another thread's."""
    f, x = opened
    rng = np.random.default_rng(11)
    keys = [slice(int(a), int(a) + int(b)) for a, b in zip(rng.integers(0, N - 1, 160), rng.integers(1, 6000, 160))]
    keys += [rng.integers(0, N, 40).tolist() for _ in range(40)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda key: f[key], keys))
    for key, values in zip(keys, got):
        assert np.array_equal(values, x[key]), key


def test_a_dask_array_over_an_open_file_reads_it_lazily(opened):
    """``dask.array.from_array(f, chunks=...)`` (``ndim``, ``shape``, ``dtype`` and numpy's indexing) computes what
    the decoded array gives, its chunks on four threads; ``np.asarray(f)`` decodes the whole file."""
    da = pytest.importorskip("dask.array")  # (in the dev extra, through distributed: this runs)
    import dask

    f, x = opened
    lazy = da.from_array(f, chunks=(3000, -1))
    assert lazy.shape == x.shape and lazy.dtype == x.dtype and f.ndim == 2
    with dask.config.set(scheduler="threads", num_workers=4):
        assert np.array_equal(lazy.compute(), x)
        assert np.array_equal(lazy[::7, 1].compute(), x[::7, 1])
        assert float(lazy[:, 0].astype(np.float64).mean().compute()) == x[:, 0].astype(np.float64).mean()
    assert np.array_equal(np.asarray(f), x) and np.asarray(f, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="copy=False"):
        f.__array__(copy=False)


def test_a_pickled_file_reopens_the_same_file(opened, tmp_path):
    """Pickled as its path and options (a Dask array's chunks read in worker processes), unpickled as that file
    opened again; a file changed since is refused, not read as if it were the one pickled."""
    import pickle

    f, x = opened
    again = pickle.loads(pickle.dumps(f))
    assert np.array_equal(again[::97], x[::97]) and again.path == f.path
    again.close()
    path = tmp_path / "moved.san"
    path.write_bytes(f.path.read_bytes())
    with sancodec.open(path) as g:
        data = pickle.dumps(g)
    path.write_bytes(sancodec.encode(sancodec.Signal(np.arange(50)[:, None], fs=10.0)))
    with pytest.raises(sancodec.SanFormatError, match="changed since it was opened"):
        pickle.loads(data)


def test_dask_reads_a_file_in_worker_processes(opened):
    da = pytest.importorskip("dask.array")  # (in the dev extra, through distributed: this runs)
    import dask

    f, x = opened
    with dask.config.set(scheduler="processes", num_workers=2):
        assert np.array_equal(da.from_array(f, chunks=(7000, -1))[5::3].compute(), x[5::3])


def test_the_reprs_say_what_a_file_holds(opened, tmp_path):
    f, x = opened
    assert repr(f) == f"SanFile({str(f.path)!r}, mode='lossless', fs=360.0, shape={x.shape}, dtype=int16)"
    w = sancodec.open(tmp_path / "w.san", "w", fs=250.0, channels=1)
    w.write(np.arange(10))
    assert repr(w) == f"SanWriter({str(tmp_path / 'w.san')!r}, mode='lossless', fs=250.0, channels=1, rows=10)"
    w.close()
    assert repr(w).endswith(", closed)")


def test_a_file_object_or_bytes_is_read_as_its_path_is(opened):
    """``sancodec.open`` reads a binary file object (an fsspec file's: only the frames asked for are read) or a
    file's bytes as it reads a path; closing the SanFile leaves a file object given open (its caller's), and
    neither pickles (no path to open again)."""
    import io
    import pickle

    f, x = opened
    data = f.path.read_bytes()
    with open(f.path, "rb") as handle:
        with sancodec.open(handle) as g:
            assert np.array_equal(g[[3, N - 1]], x[[3, N - 1]]) and g.path == f.path and g.shape == x.shape
            with pytest.raises(TypeError, match="cannot be pickled"):
                pickle.dumps(g)
        assert not handle.closed
        with pytest.raises(sancodec.SanConfigError, match="closed"):
            g[0]
    stream = io.BytesIO(data)
    with sancodec.open(stream) as g:
        assert np.array_equal(g[::1000], x[::1000]) and str(g.path) == "<stream>"
    with sancodec.open(data) as g:
        assert np.array_equal(g.read(), x) and str(g.path) == "<bytes>"
    with pytest.raises(sancodec.SanFormatError, match="<bytes>: not a .san file"):
        sancodec.open(data[:10])
    with pytest.raises(sancodec.SanConfigError, match="not to a file object"):
        sancodec.open(io.BytesIO(), "w", fs=250.0, channels=1)


def test_a_file_object_is_read_from_where_it_stands(opened):
    """A ``.san`` within another file (after a header of its own, in an archive member): a file object is read from
    where it stands when opened to its end, by ``sancodec.open`` and ``read_info``; its lossless checksums hold."""
    import io

    from sancodec.codec import read_info

    f, x = opened
    data = f.path.read_bytes()
    stream = io.BytesIO(b"another format's header:" + data)  # 24 bytes before the .san
    stream.seek(24)
    with sancodec.open(stream) as g:
        assert g.shape == x.shape and np.array_equal(g.read(), x) and np.array_equal(g[[7, N - 3]], x[[7, N - 3]])
    stream.seek(24)
    assert read_info(stream)["header"]["mode"] == "lossless"
    stream.seek(23)  # one byte early: not a .san there
    with pytest.raises(sancodec.SanFormatError, match="not a .san file"):
        sancodec.open(stream)


def test_a_file_object_is_read_only_where_asked(opened):
    """One row of a file object (a remote file's, where each byte read costs) reads the header, the index and the
    frame that holds it, not the file."""
    import io

    class Counted(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.taken = 0

        def read(self, n: int | None = -1) -> bytes:
            got = super().read(n)
            self.taken += len(got)
            return got

    f, x = opened
    data = f.path.read_bytes()
    stream = Counted(data)
    with sancodec.open(stream) as g:
        opened_bytes = stream.taken
        assert np.array_equal(g[N - 2], x[N - 2])
    assert opened_bytes < 2000 and stream.taken - opened_bytes < len(data) / 3, (opened_bytes, stream.taken)


def test_a_url_is_read_through_fsspec(opened):
    """``sancodec.open("s3://...")`` and the like go through fsspec (here its in-memory filesystem: no network):
    the rows asked for, a pickle that reopens the URL, one-line errors for a missing file, an unknown scheme and a
    writer."""
    import pickle

    fsspec = pytest.importorskip("fsspec")  # (in the dev extra, through distributed and dask: this runs)
    f, x = opened
    with fsspec.open("memory://sancodec-test/s.san", "wb") as out:
        out.write(f.path.read_bytes())
    with sancodec.open("memory://sancodec-test/s.san") as g:
        assert g.path == "memory://sancodec-test/s.san" and np.array_equal(g[[5, N - 5]], x[[5, N - 5]])
        again = pickle.loads(pickle.dumps(g))
        assert np.array_equal(again[::500], x[::500])
        again.close()
    with pytest.raises(sancodec.SanFormatError, match="memory://sancodec-test/none.san: cannot be read"):
        sancodec.open("memory://sancodec-test/none.san")
    with pytest.raises(sancodec.SanConfigError, match="nosuch://x.san"):
        sancodec.open("nosuch://x.san")
    with pytest.raises(sancodec.SanConfigError, match="not to a URL"):
        sancodec.open("memory://sancodec-test/w.san", "w", fs=250.0, channels=1)
    fsspec.filesystem("memory").rm("sancodec-test", recursive=True)


def test_a_file_object_that_gives_few_bytes_a_read_is_read_whole(opened):
    """A raw file object (unbuffered: a socket's, a pipe's) may return fewer bytes than asked; the reader asks again
    until it has them or the file ends, rather than calling the file truncated."""
    import io

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data, self._at = data, 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def seek(self, offset: int, whence: int = 0) -> int:
            self._at = offset if whence == 0 else len(self._data) + offset if whence == 2 else self._at + offset
            return self._at

        def tell(self) -> int:
            return self._at

        def read(self, n: int = -1) -> bytes:
            n = len(self._data) - self._at if n < 0 else min(n, 7)  # at most 7 bytes a read
            got = self._data[self._at : self._at + n]
            self._at += len(got)
            return got

    f, x = opened
    data = f.path.read_bytes()
    with sancodec.open(Trickle(data)) as g:
        assert np.array_equal(g[[0, N - 1]], x[[0, N - 1]])
    with pytest.raises(sancodec.SanFormatError, match="truncated|not a .san|trailer"):
        sancodec.open(Trickle(data[:-9]))


def test_dask_cuts_its_automatic_chunks_at_whole_frames(opened):
    """``chunks`` is (rows of a frame, channels), as Zarr and h5py name theirs: ``dask.array.from_array(f)`` with its
    automatic chunks cuts them at whole frames (each chunk's read decodes its own frames only)."""
    da = pytest.importorskip("dask.array")  # (in the dev extra, through distributed: this runs)
    import dask

    f, x = opened
    assert f.chunks == (FRAME, 2)
    with dask.config.set({"array.chunk-size": "40KiB"}):  # room for two frames of two int16 channels
        lazy = da.from_array(f)
    assert all(size % FRAME == 0 for size in lazy.chunks[0][:-1]) and len(lazy.chunks[0]) > 1
    assert np.array_equal(lazy.compute(), x)


@pytest.mark.parametrize("make", [
    lambda base: sancodec.read_signal(base / "100"),
    lambda base: sancodec.read_signal(base / "multisegment" / "ms100"),
], ids=["mitdb 100 with its beats", "a multi-segment record"])
def test_a_range_as_a_signal_is_what_decode_gives(make, tmp_path):
    """``f.signal(start, end)``: ``sancodec.decode(data, start, end)``'s Signal (header fields, annotations and source
    cut to the range), read from the frames that cover it only; the whole file by default."""
    record = make(Path(sancodec.__path__[0]) / "data" / "samples")
    data = sancodec.encode(record, frame_len=4096)
    path = tmp_path / "r.san"
    path.write_bytes(data)
    with sancodec.open(path) as f:
        for start, end in ((3600, 7200), (0, 10), (record.n_samples - 500, None), (0, None)):
            got, want = f.signal(start, end), sancodec.decode(data, start, end)
            assert np.array_equal(got.samples, want.samples) and got.header_dict() == want.header_dict()
        before = f._reader.frames_read
        f.signal(5000, 5001)
        assert f._reader.frames_read == before + 1
    with pytest.raises(sancodec.SanConfigError, match="closed"):
        f.signal()
