"""The Zarr 3 serializer: chunks stored as .san payloads, sliced back exactly, found by name."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr  # the dev extra installs it (users: the zarr extra)

import sancodec
from sancodec.metrics import prdn
from sancodec.zarr_codec import Sancodec


@pytest.fixture(autouse=True)
def _quiet_zarr():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "numcodecs codecs are not in the Zarr 3 specification"
        yield


def _record(n: int = 50000) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.cumsum(rng.integers(-20, 21, (n, 2)), axis=0).astype(np.int16)


def test_a_lossless_array_slices_back_exactly_and_reopens_without_importing_sancodec(tmp_path):
    x = _record()
    path = tmp_path / "a.zarr"
    array = zarr.create_array(str(path), shape=x.shape, chunks=(16384, 2), dtype="int16",
                              serializer=Sancodec(mode="lossless"), compressors=None)
    array[:] = x
    assert np.array_equal(array[1000:40000], x[1000:40000])
    assert np.array_equal(array[49999, 1], x[49999, 1])
    stored = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    assert stored < 0.5 * x.nbytes
    script = ("import warnings, numpy as np, zarr\n"
              "warnings.simplefilter('ignore')\n"
              f"a = zarr.open_array({str(path)!r})\n"
              "print(int(a[:].sum()), type(a.metadata.codecs[0]).__name__)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(int(x.astype(np.int64).sum())), "Sancodec"]


def test_a_near_lossless_float_array_stays_within_its_bound(tmp_path):
    x = (_record(20000).astype(np.float32) / 7).astype(np.float32)
    array = zarr.create_array(str(tmp_path / "f.zarr"), shape=x.shape, chunks=(8192, 2), dtype="float32",
                              serializer=Sancodec(mode="near-lossless", max_error=0.05), compressors=None)
    array[:] = x
    assert np.abs(array[:] - x).max() <= 0.05 + 1e-5


def test_a_lossy_float_array_with_a_flat_stretch_codes_every_chunk(tmp_path):
    """A chunk that holds one value (a lead off at 0.1, the array's fill of 0.25 where nothing was written) codes
    lossy and reads back as that value; such a chunk had failed the whole write."""
    x = (_record(20000).astype(np.float32) / 7).astype(np.float32)
    x[8192:16384, 1] = np.float32(0.1)
    array = zarr.create_array(str(tmp_path / "l.zarr"), shape=(28672, 2), chunks=(8192, 2), dtype="float32",
                              fill_value=0.25, serializer=Sancodec(mode="lossy", prdn=2, fs=250), compressors=None)
    array[:20000] = x
    assert np.all(array[8192:16384, 1] == np.float32(0.1)) and np.all(array[24576:] == np.float32(0.25))
    y = array[:8192, 0]
    assert 100 * np.linalg.norm(y - x[:8192, 0]) / np.linalg.norm(x[:8192, 0] - x[:8192, 0].mean()) <= 2.0


def test_a_lossless_array_of_decimals_in_millivolts_comes_back_bit_for_bit(tmp_path):
    """A float64 array of decimals (ADC units scaled to millivolts at 3 places, as many pipelines store ECG) is a
    lossless Zarr array now (``io.decimals``), smaller than the raw doubles."""
    x = _record(30000) / 200  # mitdb's gain: 200 units per mV, so 3 decimals (0.005 mV steps)
    path = tmp_path / "mv.zarr"
    array = zarr.create_array(str(path), shape=x.shape, chunks=(8192, 2), dtype="float64",
                              serializer=Sancodec(mode="lossless"), compressors=None)
    array[:] = x
    assert zarr.open_array(str(path))[:].tobytes() == x.tobytes()
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 0.1 * x.nbytes


def test_a_float_array_with_nan_gaps_and_a_nan_fill_value_is_lossless(tmp_path):
    """Millivolts with gaps (NaN, as pipelines mark a lead off) in an array whose fill value is NaN, its last chunk
    partly written: each chunk's gaps held as WFDB's invalid sample (``decimals.gapped_units``) and NaN again on
    reading, bit for bit; a lossy or near-lossless array's NaN where they were, its other values within the target or
    the error (format 1.15); a chunk of other floats with NaN is one error."""
    x = _record(20000) / 200
    x[100:180, 0] = np.nan
    x[5000, 1] = np.nan
    path = tmp_path / "gaps.zarr"
    for dtype in ("float64", "float32"):
        data = x.astype(dtype)
        array = zarr.create_array(str(path), shape=(24000, 2), chunks=(8192, 2), dtype=dtype, fill_value=np.nan,
                                  serializer=Sancodec(mode="lossless"), compressors=None, overwrite=True)
        array[:20000] = data
        back = zarr.open_array(str(path))[:]
        assert back[:20000].tobytes() == data.tobytes() and np.isnan(back[20000:]).all()
    thirds = zarr.create_array(str(tmp_path / "t.zarr"), shape=(100, 1), chunks=(100, 1), dtype="float64",
                               serializer=Sancodec(mode="lossless"), compressors=None)
    with pytest.raises(Exception, match="holds NaN among decimals"):
        thirds[:] = np.where(np.arange(100)[:, None] == 3, np.nan, np.arange(100)[:, None] / 3)
    lossy = zarr.create_array(str(tmp_path / "l.zarr"), shape=(20000, 2), chunks=(20000, 2), dtype="float64",
                              serializer=Sancodec(mode="lossy", prdn=2), compressors=None)
    lossy[:] = x  # (format 1.15: the gaps coded apart)
    back = zarr.open_array(str(tmp_path / "l.zarr"))[:]
    assert np.array_equal(np.isnan(back), np.isnan(x))
    for ch in range(2):
        kept = ~np.isnan(x[:, ch])
        assert prdn(x[kept, ch], back[kept, ch]) <= 2
    near = zarr.create_array(str(tmp_path / "n.zarr"), shape=(20000, 2), chunks=(20000, 2), dtype="float64",
                             serializer=Sancodec(mode="near-lossless", max_error=0.01), compressors=None)
    near[:] = x
    back = zarr.open_array(str(tmp_path / "n.zarr"))[:]
    assert np.array_equal(np.isnan(back), np.isnan(x)) and np.nanmax(np.abs(back - x)) <= 0.01 + 1e-12


def test_a_lossy_array_of_filtered_floats_with_a_nan_fill_value_writes_its_edge_chunk(tmp_path):
    """Floats that are no decimals in an array whose fill value is NaN (zarr's usual choice for floats), its length
    no whole number of chunks: the edge chunk's NaN padding made the write fail ("this chunk holds other floats").
    The padding is left out of the coding and given back; every chunk's rows meet the target."""
    x = np.sin(np.arange(50_000) / 13.7) + np.random.default_rng(0).normal(size=50_000) * 0.01
    array = zarr.create_array(str(tmp_path / "f.zarr"), shape=x.shape, chunks=(16_384,), dtype="float64",
                              fill_value=np.nan, serializer=Sancodec(mode="lossy", prdn=2, fs=250),
                              compressors=None)
    array[:] = x
    back = zarr.open_array(str(tmp_path / "f.zarr"))[:]
    assert not np.isnan(back).any()
    for lo in range(0, len(x), 16_384):
        assert prdn(x[lo : lo + 16_384], back[lo : lo + 16_384]) <= 2


def test_a_bad_configuration_is_refused_when_the_serializer_is_made(tmp_path):
    """zarr makes the numcodecs codec at the first chunk it encodes: a bad mode went unnoticed at
    ``create_array``, and for good where every chunk written held the fill value (zarr encodes none of those)."""
    for config, message in (({"mode": "bogus"}, "mode must be"), ({"mode": "lossy", "prdn": 2, "snr": 3}, "one target"),
                            ({"mode": "near-lossless"}, "needs max_error")):
        with pytest.raises(sancodec.SanConfigError, match=message):
            Sancodec(**config)
    good = Sancodec(mode="near-lossless", max_error=0.5)
    array = zarr.create_array(tmp_path / "a", shape=(100, 1), chunks=(100, 1), dtype="float32", serializer=good,
                              compressors=None)
    array[:] = np.linspace(0, 9, 100, dtype=np.float32)[:, None]
    assert np.abs(zarr.open_array(tmp_path / "a")[:, 0] - np.linspace(0, 9, 100)).max() <= 0.5 + 1e-6


def test_an_array_no_chunk_of_could_be_coded_is_refused_when_it_is_made(tmp_path):
    """A 3-D array, or one of complex numbers, was made without a word and failed at the first chunk written (or
    never, while every chunk held the fill value): zarr asks the serializer's ``validate`` as the array is made."""
    for shape, chunks, dtype, message in (((10, 4, 4), (5, 4, 4), "int16", "shape"),
                                          ((10,), (5,), "complex64", "numbers, not complex64")):
        with pytest.raises(sancodec.SanConfigError, match=message):
            zarr.create_array(tmp_path / "bad", shape=shape, chunks=chunks, dtype=dtype, serializer=Sancodec(),
                              compressors=None)
    assert not (tmp_path / "bad" / "zarr.json").exists()


def test_a_lossy_array_s_edge_chunk_meets_the_target_on_its_own_rows(tmp_path):
    """Zarr pads the last chunk to the chunk's shape with the fill value (0): a uint16 ADC's rows at 30 000 in it
    met PRDN 2 % only over the padded chunk, the step to 0 taking the error; now the rows themselves meet it."""
    x = (_record().astype(np.int64) + 30000).astype(np.uint16)
    array = zarr.create_array(tmp_path / "a", shape=x.shape, chunks=(16_384, 2), dtype="uint16",
                              serializer=Sancodec(mode="lossy", prdn=2), compressors=None)
    array[:] = x
    back = zarr.open_array(tmp_path / "a")[:]
    edge = slice(len(x) - len(x) % 16_384, len(x))
    assert 0 < len(x) % 16_384 < 2000  # a short edge: the padding is most of the chunk
    for ch in range(2):
        assert prdn(x[edge, ch].astype(np.float64), back[edge, ch].astype(np.float64)) <= 2


@pytest.mark.parametrize("dtype", ["int64", "uint32", "uint64"])
def test_wide_integer_arrays_come_back_exactly(tmp_path, dtype):
    """numpy's default integer (int64), and uint32/uint64, were refused outright; their values within ±2**53, all
    a ``.san`` holds exactly, come back bit for bit, lossy ones in their type."""
    x = (_record().astype(np.int64) + (1 << 40 if dtype != "uint32" else 1 << 20)).astype(dtype)
    for name, serializer in (("exact", Sancodec()), ("lossy", Sancodec(mode="lossy", prdn=2))):
        array = zarr.create_array(tmp_path / name, shape=x.shape, chunks=(16_384, 2), dtype=dtype,
                                  serializer=serializer, compressors=None)
        array[:] = x
        back = zarr.open_array(tmp_path / name)[:]
        assert back.dtype == x.dtype
        if name == "exact":
            assert np.array_equal(back, x)
        else:  # (each chunk at its target; the default effort may find a chunk's exact coding smaller)
            assert all(prdn(x[:, ch].astype(np.float64), back[:, ch].astype(np.float64)) <= 2 for ch in range(2))


def test_the_partial_writes_benchmark_compares_like_with_like(tmp_path):
    """``benchmarks/zarr_partial_writes.py``: the same rows, whole and in pieces, each read back whole; written whole
    they meet the target, and a piece written alone over a chunk's padding meets it too (one coding)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import zarr_partial_writes

    x = sancodec.read_signal(zarr_partial_writes.SAMPLE).samples[:8192, :2].astype(np.int16)
    whole = zarr_partial_writes.written(x, tmp_path / "whole", 4096, None, 2.0)
    pieces = zarr_partial_writes.written(x, tmp_path / "pieces", 4096, 1024, 2.0)
    assert whole.shape == pieces.shape == x.shape
    assert all(prdn(x[:, c].astype(np.float64), whole[:, c].astype(np.float64)) <= 2.0 for c in range(2))
    first = zarr_partial_writes.written(x[:1024], tmp_path / "first", 4096, None, 2.0)  # one piece, one coding
    assert all(prdn(x[:1024, c].astype(np.float64), first[:, c].astype(np.float64)) <= 2.0 for c in range(2))
