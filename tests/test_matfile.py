"""MATLAB ``.mat`` files (``io.matfile``): read as a lab saves them (channels x samples, a rate variable, any numeric
class), coded, and written back with the same variable, class, orientation and values; everything else refused in
one SancodecError."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from common import cuts_read_or_refused, mutated
from typer.testing import CliRunner

import sancodec
from sancodec import SancodecError, SanConfigError, SanFormatError
from sancodec.cli import app


@pytest.fixture(scope="module")
def ecg(mitdb_100) -> np.ndarray:
    return sancodec.read_signal(mitdb_100).samples[:20_000].astype(np.int16)


def _variables(path) -> dict[str, np.ndarray]:
    return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}


def test_channels_by_samples_with_a_rate_come_back_as_they_were(tmp_path, ecg):
    """PhysioNet's layout: ``val`` (channels x samples, int16) and ``Fs``; read at the file's rate, coded losslessly,
    and decoded to a MATLAB file of the same variables, class, orientation and values (the rate as a double)."""
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg.T, "Fs": 360})
    signal = sancodec.read_signal(path)
    assert signal.fs == 360.0 and signal.samples.shape == (20_000, 2) and np.array_equal(signal.samples, ecg)
    back = tmp_path / "back.mat"
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), back)
    got = _variables(back)
    assert sorted(got) == ["Fs", "val"] and got["val"].dtype == np.int16 and np.array_equal(got["val"], ecg.T)
    assert got["Fs"].item() == 360.0


@pytest.mark.parametrize("rows", [True, False])
def test_floats_without_a_rate_need_fs_and_come_back_exactly(tmp_path, ecg, rows):
    """Millivolts (doubles on a decimal grid), samples x channels or a row vector: ``fs=`` gives the rate, which
    the written file then holds none of, as the source held none; the very doubles come back."""
    mv = ecg[:5000] / 200.0
    data = mv if rows else mv[:, :1].T  # (a 1 x n row: one channel)
    path = tmp_path / "mv.mat"
    scipy.io.savemat(path, {"data": data})
    with pytest.raises(SanConfigError, match="give it with --fs"):
        sancodec.read_signal(path)
    signal = sancodec.read_signal(path, fs=360.0)
    assert signal.n_channels == (2 if rows else 1)
    back = tmp_path / "back.mat"
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal)), back)
    got = _variables(back)
    assert list(got) == ["data"] and got["data"].dtype == np.float64 and np.array_equal(got["data"], data)


def test_a_rate_fs_contradicts_is_refused(tmp_path, ecg):
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg.T, "fs": 360.0})
    with pytest.raises(SanConfigError, match="360 Hz.*asks 250"):
        sancodec.read_signal(path, fs=250.0)
    assert sancodec.read_signal(path, fs=360.0).fs == 360.0


def test_the_array_is_found_by_its_name_or_as_the_only_one(tmp_path, ecg):
    """Among several arrays, the one named as a signal is (any case: ``ECG``); a scalar, a string and a logical
    array are no samples; several unnamed arrays, or none, are refused naming what the file holds."""
    path = tmp_path / "named.mat"
    scipy.io.savemat(path, {"gain": np.arange(4.0), "ECG": ecg[:100], "note": "lead II", "mask": ecg[:100] > 0,
                            "srate": 360})
    signal = sancodec.read_signal(path)
    assert np.array_equal(signal.samples, ecg[:100]) and signal.fs == 360.0
    only = tmp_path / "only.mat"
    scipy.io.savemat(only, {"recording": ecg[:100, 0], "fs": 250})
    assert sancodec.read_signal(only).n_samples == 100
    two = tmp_path / "two.mat"
    scipy.io.savemat(two, {"a": ecg[:100], "b": ecg[:100]})
    with pytest.raises(SanFormatError, match=r"several arrays \(a, b\)"):
        sancodec.read_signal(two, fs=1.0)
    none = tmp_path / "none.mat"
    scipy.io.savemat(none, {"note": "empty", "fs": 1})
    with pytest.raises(SanFormatError, match="no numeric array of samples"):
        sancodec.read_signal(none)
    cube = tmp_path / "cube.mat"
    scipy.io.savemat(cube, {"val": np.zeros((2, 3, 4))})
    with pytest.raises(SanFormatError, match="3 dimensions"):
        sancodec.read_signal(cube, fs=1.0)


def test_a_lossy_decode_keeps_the_class_and_meets_the_target(tmp_path, ecg):
    """int16 samples coded lossy come back as int16 (rounded, clipped), their PRDN within the target."""
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg.T, "fs": 360.0})
    signal = sancodec.read_signal(path)
    back = tmp_path / "lossy.mat"
    sancodec.write_signal(sancodec.decode(sancodec.encode(signal, mode="lossy", prdn=2.0)), back)
    got = _variables(back)["val"]
    assert got.dtype == np.int16 and got.shape == ecg.T.shape
    for c in range(2):
        x, y = ecg[:, c].astype(float), got[c].astype(float)
        assert 100 * np.linalg.norm(y - x) / np.linalg.norm(x - x.mean()) <= 2.0


def test_other_signals_are_written_as_physionet_writes_a_record(tmp_path, mitdb_100):
    """A WFDB record decoded to .mat: ``val`` (channels x samples, its integers) and ``fs``."""
    record = sancodec.read_signal(mitdb_100).slice(0, 1000)
    sancodec.write_signal(record, tmp_path / "r.mat")
    got = _variables(tmp_path / "r.mat")
    assert np.array_equal(got["val"], record.samples.T) and got["fs"].item() == 360.0


def test_matlab_73_and_damaged_files_are_refused_in_one_error(tmp_path, ecg):
    """A 7.3 file (HDF5) is refused with what to do; every cut of a valid file, and a file whose header declares
    more values than its bytes can hold, reads or is refused with a SancodecError, nothing else raised."""
    h5 = tmp_path / "h5.mat"
    head = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116) + bytes(8) + b"\x00\x02IM"
    h5.write_bytes(head + bytes(384) + b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(SanFormatError, match="MATLAB 7.3 file.*-v7"):
        sancodec.read_signal(h5, fs=1.0)
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg[:300].T, "fs": 360.0}, do_compression=True)
    cut = tmp_path / "cut.mat"
    cuts_read_or_refused(cut, path.read_bytes(), 7, lambda: sancodec.read_signal(cut))
    big = tmp_path / "big.mat"
    scipy.io.savemat(big, {"val": np.zeros((2, 50), np.int16)})
    raw = bytearray(big.read_bytes())
    at = raw.index((50).to_bytes(4, "little"), 128)  # the array's second dimension in its header
    raw[at : at + 4] = (1 << 30).to_bytes(4, "little")
    big.write_bytes(bytes(raw))
    with pytest.raises(SanFormatError, match="declares 2x1073741824 values, more than a file of"):
        sancodec.read_signal(big, fs=1.0)


def test_the_cli_encodes_a_mat_file_and_decodes_to_one(tmp_path, ecg):
    """``sancodec encode rec.mat`` and ``decode rec.san``: a MATLAB file again, beside the input (not over it)."""
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg.T, "Fs": 360.0})
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(path), "-q"]).exit_code == 0
    result = runner.invoke(app, ["decode", str(tmp_path / "rec.san")])
    assert result.exit_code == 0, result.output
    got = _variables(tmp_path / "rec_decoded.mat")
    assert np.array_equal(got["val"], ecg.T)
    shown = runner.invoke(app, ["info", str(tmp_path / "rec.san")]).output
    flat = " ".join(shown.replace("│", " ").split())  # (the cells, wrapped at the width, as one line)
    assert "source MATLAB, variable 'val' (channels x samples), its rate in 'Fs'" in flat


def test_batch_finds_mat_files_but_leaves_a_wfdb_records_to_its_header(tmp_path, ecg):
    from sancodec.batch import find_inputs

    scipy.io.savemat(tmp_path / "lab.mat", {"val": ecg.T, "fs": 360.0})
    scipy.io.savemat(tmp_path / "rec.mat", {"val": ecg.T})
    (tmp_path / "rec.hea").write_text("rec 2 360 20000\nrec.mat 16+24 200 16 0 0 0 0 I\nrec.mat 16+24 200 16 0 0 0 0 "
                                       "II\n")
    assert find_inputs(tmp_path) == [tmp_path / "lab.mat", tmp_path / "rec"]


def test_training_reads_a_channel_of_a_mat_file_with_or_without_its_rate(tmp_path, ecg):
    """``read_channel`` (training's reader) takes a MATLAB file's channel whether or not it holds a rate."""
    from sancodec.io import read_channel

    for variables in ({"val": ecg.T}, {"val": ecg.T, "fs": 360.0}):
        path = tmp_path / "rec.mat"
        scipy.io.savemat(path, variables)
        assert np.array_equal(read_channel(path, 1), ecg[:, 1].astype(np.float64))


def test_nan_gaps_among_floats_come_back_as_nan(tmp_path, ecg):
    """A MATLAB recording's missing samples (NaN among its doubles) are gaps, as a .npy array's are: NaN again."""
    mv = ecg[:3000] / 200.0
    mv[100:120, 1] = np.nan
    path = tmp_path / "gaps.mat"
    scipy.io.savemat(path, {"val": mv.T, "fs": 360.0})
    back = tmp_path / "back.mat"
    sancodec.write_signal(sancodec.decode(sancodec.encode(sancodec.read_signal(path))), back)
    assert np.array_equal(_variables(back)["val"], mv.T, equal_nan=True)


@pytest.mark.parametrize("compressed", [False, True])
def test_mutated_files_are_read_or_refused_never_crash(tmp_path, ecg, compressed):
    """Bytes changed, dropped or added anywhere in a MAT-file, 400 ways: read, or refused in a SancodecError; never
    another exception, nor a crash of the interpreter (scipy's loadmat, which read them before io.mat5, died of a
    segmentation fault or a bus error on such files)."""
    import random

    rng = random.Random(1 + compressed)
    path = tmp_path / "base.mat"
    scipy.io.savemat(path, {"note": "lead II", "val": ecg[:300].T, "fs": 360.0, "gain": np.arange(3.0)},
                     do_compression=compressed)
    base = path.read_bytes()
    case = tmp_path / "case.mat"
    for _ in range(400):
        case.write_bytes(mutated(base, rng))
        try:
            sancodec.read_signal(case)
        except SancodecError:
            pass


def test_the_file_that_crashed_scipy_is_refused(tmp_path):
    """A MAT-file whose variable's data type code is out of range (scipy's reader indexed its type table with it and
    crashed): refused, named."""
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"val": np.arange(12, dtype=np.int16).reshape(2, 6), "fs": 360.0})
    data = bytearray(path.read_bytes())
    real = data.index((24).to_bytes(4, "little"), 128 + 8 + 16 + 16) - 4  # the real part's tag: int16, 24 bytes
    assert data[real] == 3
    data[real] = 40  # (no MAT data type has code 40)
    path.write_bytes(bytes(data))
    with pytest.raises(SanFormatError, match="data type 40"):
        sancodec.read_signal(path)


def test_decode_onto_an_existing_mat_needs_force(tmp_path, ecg):
    """``decode -o x.mat`` where x.mat exists is refused without ``--force``, the file untouched; with it, replaced."""
    path = tmp_path / "rec.mat"
    scipy.io.savemat(path, {"val": ecg.T, "fs": 360.0})
    runner = CliRunner()
    assert runner.invoke(app, ["encode", str(path), "-q"]).exit_code == 0
    existing = tmp_path / "old.mat"
    existing.write_bytes(b"not to be lost")
    res = runner.invoke(app, ["decode", str(tmp_path / "rec.san"), "-o", str(existing)])
    assert res.exit_code != 0 and "--force" in res.output and existing.read_bytes() == b"not to be lost"
    res = runner.invoke(app, ["decode", str(tmp_path / "rec.san"), "-o", str(existing), "--force"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(_variables(existing)["val"], ecg.T)
