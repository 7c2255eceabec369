"""sancodec batch on a 2-worker Dask LocalCluster: manifest rows, exit code, bit-exact outputs, a
re-run that skips, and the reverse."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec.cli import app

DATA = Path(__file__).parent / "data"


@pytest.fixture
def tree(tmp_path) -> Path:
    src = tmp_path / "src"
    (src / "ward").mkdir(parents=True)
    for name in ("test01_00s", "100_3chan"):
        for f in DATA.glob(f"{name}.*"):
            shutil.copy(f, src / f.name)
    for f in DATA.glob("3000003_0003.*"):
        shutil.copy(f, src / "ward" / f.name)
    (src / "broken.hea").write_text("broken 1 250 100\nbroken.dat 16 200 16 0 0 0 0 x\n")  # no .dat
    return src


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "manifest.csv", newline="") as f:
        return {Path(row["path"]).name: row for row in csv.DictReader(f)}


def test_a_batch_encodes_the_tree_records_failures_and_skips_on_a_rerun(tree, tmp_path):
    runner = CliRunner()
    dst = tmp_path / "dst"
    res = runner.invoke(app, ["batch", str(tree), str(dst), "--workers", "2", "-q"])
    assert res.exit_code == 1  # one record is broken; the others are all done
    rows = _manifest(dst)
    assert {k: v["status"] for k, v in rows.items()} == {
        "test01_00s": "encoded", "100_3chan": "encoded", "3000003_0003": "encoded", "broken": "failed"}
    assert "broken.dat is missing" in rows["broken"]["error"]
    for name, rel in (("test01_00s", "test01_00s"), ("3000003_0003", "ward/3000003_0003")):
        data = (dst / f"{rel}.san").read_bytes()
        assert int(rows[name]["output_bytes"]) == len(data)
        assert np.array_equal(sancodec.decode(data).samples, sancodec.read_signal(tree / rel).samples)
    assert not list(dst.rglob("*.tmp")) and not (dst / "broken.san").exists()
    # a re-run skips what is complete, and redoes a damaged output
    damaged = dst / "100_3chan.san"
    damaged.write_bytes(damaged.read_bytes()[:-30])
    res = runner.invoke(app, ["batch", str(tree), str(dst), "--workers", "2", "-q"])
    assert res.exit_code == 1
    statuses = {k: v["status"] for k, v in _manifest(dst).items()}
    assert statuses == {"test01_00s": "skipped", "100_3chan": "encoded", "3000003_0003": "skipped",
                        "broken": "failed"}
    # and back
    res = runner.invoke(app, ["batch", str(dst), str(tmp_path / "back"), "--decode", "--workers", "2", "-q"])
    assert res.exit_code == 0
    for rel in ("test01_00s", "100_3chan", "ward/3000003_0003"):
        assert np.array_equal(sancodec.read_signal(tmp_path / "back" / rel).samples,
                              sancodec.read_signal(tree / rel).samples)


def test_the_python_api_runs_on_a_client_it_is_given(tree, tmp_path):
    from distributed import Client, LocalCluster

    from sancodec.batch import encode_tree

    (tree / "broken.hea").unlink()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        rows = encode_tree(tree, tmp_path / "dst", client=client)
    assert sorted(r.status for r in rows) == ["encoded"] * 3
    assert all(r.sha256 and r.bits_per_sample for r in rows)


def test_a_lossy_batch_takes_every_target_and_the_effort(tree, tmp_path):
    from sancodec.codec import read_info
    from sancodec.metrics import snr_db

    (tree / "broken.hea").unlink()
    dst = tmp_path / "dst"
    res = CliRunner().invoke(app, ["batch", str(tree), str(dst), "--workers", "1", "-q", "--mode", "lossy",
                                   "--snr", "30", "--effort", "fast"])
    assert res.exit_code == 0, res.output
    manifest = _manifest(dst)
    assert {v["status"] for v in manifest.values()} == {"encoded"}
    for rel in ("test01_00s", "100_3chan", "ward/3000003_0003"):
        data = (dst / f"{rel}.san").read_bytes()
        x, y = sancodec.read_signal(tree / rel).samples, sancodec.decode(data).samples
        assert all(snr_db(x[:, ch], y[:, ch]) >= 30 - 1e-9 for ch in range(x.shape[1]))
        worst = max(read_info(data)["header"]["lossy"]["prdn"])  # the manifest's PRDN: the worst channel's
        assert float(manifest[Path(rel).name]["prdn"]) == pytest.approx(worst)
        assert 3.0 < worst <= 100 * 10 ** (-30 / 20) + 1e-6  # SNR 30 dB is PRDN 3.16 %
        assert read_info(data)["header"]["lossy"]["target"] == {"snr": 30.0}


@pytest.mark.parametrize("options, message", [(["--prdn", "2"], "targets of lossy mode"),
                                              (["--mode", "lossy"], "target"),
                                              (["--mode", "lossy", "--bps", "2", "--effort", "slow"], "effort")])
def test_bad_batch_options_are_one_error_before_any_record(tree, tmp_path, options, message):
    dst = tmp_path / "dst"
    res = CliRunner().invoke(app, ["batch", str(tree), str(dst), "--workers", "1", "-q", *options])
    assert res.exit_code == 2 and message in res.stderr and res.stderr.count("\n") == 1
    assert not (dst / "manifest.csv").exists()


def test_a_destination_that_is_a_file_is_refused_in_our_words(tree, tmp_path):
    (tmp_path / "dst").write_text("keep")
    res = CliRunner().invoke(app, ["batch", str(tree), str(tmp_path / "dst"), "--workers", "1", "-q"])
    assert res.exit_code == 2 and "is a file; the destination is a folder" in res.stderr  # was "File exists"
    assert (tmp_path / "dst").read_text() == "keep"


def test_csv_tables_are_inputs_with_the_flag_and_their_time_column_outranks_fs(tree, tmp_path):
    (tree / "broken.hea").unlink()
    x = np.cumsum(np.random.default_rng(3).integers(-9, 10, (3000, 2)), axis=0)
    timed = "time,a,b\n" + "".join(f"{i / 125:.3f},{u},{v}\n" for i, (u, v) in enumerate(x))  # 125 Hz
    (tree / "timed.csv").write_text(timed)
    (tree / "ward" / "bare.csv").write_text("a,b\n" + "".join(f"{u},{v}\n" for u, v in x))
    (tree / "ward" / "notes.txt").write_text("1 2\n3 4\n")  # (a .txt: a folder's notes as often as a table)
    dst = tree / "packed"  # inside the source: its manifest.csv is never an input on a re-run
    runner = CliRunner()
    res = runner.invoke(app, ["batch", str(tree), str(dst), "--workers", "1", "-q"])
    assert res.exit_code == 0 and not (dst / "timed.csv.san").exists()  # tables only with --csv
    for _ in range(2):
        res = runner.invoke(app, ["batch", str(tree), str(dst), "--workers", "1", "-q", "--csv", "--fs", "500"])
        assert res.exit_code == 0, res.output
    rows = _manifest(dst)
    assert {rows[name]["status"] for name in ("timed.csv", "bare.csv")} == {"skipped"}
    assert not any("manifest" in name for name in rows) and "notes.txt" not in rows
    assert sancodec.decode((dst / "timed.csv.san").read_bytes()).fs == 125.0  # the column's rate, not --fs
    assert sancodec.decode((dst / "ward" / "bare.csv.san").read_bytes()).fs == 500.0
    res = runner.invoke(app, ["batch", str(dst), str(tmp_path / "back"), "--decode", "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    back = sancodec.read_signal(tmp_path / "back" / "ward" / "bare.csv", fs=500.0)
    assert np.array_equal(back.samples, x) and back.channel_names == ["a", "b"]


def test_arrays_and_tables_left_out_for_want_of_their_flag_are_said(tree, tmp_path):
    """.npy arrays need --fs and .csv tables --csv to be inputs: a run without the flag names what it left out (they
    are in no manifest row; they used to be passed over without a word), and with it says nothing of them."""
    (tree / "broken.hea").unlink()
    np.save(tree / "ward" / "a.npy", np.arange(600, dtype=np.int16).reshape(300, 2))
    np.save(tree / "b.npy", np.arange(600, dtype=np.int16).reshape(300, 2))
    (tree / "t.csv").write_text("a,b\n1,2\n3,4\n")
    dst = tmp_path / "dst"
    res = CliRunner().invoke(app, ["batch", str(tree), str(dst), "--workers", "1"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "left out: 2 .npy files (give --fs to encode .npy arrays)" in text
    assert "left out: 1 .csv file (give --csv to encode .csv tables)" in text
    assert "b.npy" not in _manifest(dst)
    res = CliRunner().invoke(app, ["batch", str(tree), str(tmp_path / "all"), "--workers", "1", "--fs", "100",
                                   "--csv"])
    assert res.exit_code == 0 and "left out" not in res.output, res.output
    assert {"a.npy", "b.npy", "t.csv"} <= set(_manifest(tmp_path / "all"))


def test_what_reading_a_record_said_goes_into_the_manifest_and_stays_on_a_rerun(tree, tmp_path):
    """A record whose samples miss its header's checksums warns when read; on a worker nobody saw it. The manifest's
    ``warnings`` column keeps it, the command prints it, and a re-run that skips the record (not reading it again)
    carries it over."""
    (tree / "broken.hea").unlink()
    raw = bytearray((tree / "100_3chan.dat").read_bytes())
    raw[100] ^= 0x55
    (tree / "100_3chan.dat").write_bytes(bytes(raw))
    dst = tmp_path / "dst"
    for rerun in (False, True):
        res = CliRunner().invoke(app, ["batch", str(tree), str(dst), "--workers", "1"])
        assert res.exit_code == 0, res.output
        rows = _manifest(dst)
        assert rows["100_3chan"]["status"] == ("skipped" if rerun else "encoded")
        assert "channel 0 (I): its samples give checksum 43940, the header says 43172" in rows["100_3chan"]["warnings"]
        assert rows["test01_00s"]["warnings"] == ""
        said = " ".join(res.output.split())  # (rich wraps its lines at the terminal's width)
        assert "warning: " in said and "its samples give checksum 43940" in said


def test_rows_on_threads_keep_their_own_warnings():
    """A cluster of the user's own (``--scheduler``) runs several rows on a worker's threads: each row's manifest
    entry holds the warnings its own record gave, every one, in order (with ``warnings.catch_warnings``, whose state
    is the process's, rows took each other's and most were lost)."""
    import time
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from sancodec.batch import _attempt
    from sancodec.errors import SancodecWarning

    def row(k: int) -> dict:
        def work(r) -> None:
            for i in range(5):
                warnings.warn(f"row {k} warning {i}", SancodecWarning, stacklevel=2)
                time.sleep(0.002)
            r.status = "encoded"

        return _attempt(f"src{k}", work)

    with ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(row, range(8)))
    assert [r["warnings"] for r in rows] == ["; ".join(f"row {k} warning {i}" for i in range(5)) for k in range(8)]
    assert [r["status"] for r in rows] == ["encoded"] * 8
    with warnings.catch_warnings(record=True) as outside:  # a thread with no row open: said as before
        warnings.simplefilter("always")
        warnings.warn("no row", SancodecWarning, stacklevel=2)
    assert [str(w.message) for w in outside] == ["no row"]


def test_warnings_caught_here_go_to_the_innermost_block_of_their_thread_that_wants_them():
    """``_warnings.caught_here``, what batch rows gather their warnings with: the innermost open block of the
    thread that said a warning gathers it where its category is one it wants, an outer one where not, and a
    warning no block of its thread wants goes where warnings went before."""
    import threading
    import warnings

    from sancodec._warnings import caught_here
    from sancodec.errors import SancodecWarning

    with warnings.catch_warnings(record=True) as before:
        warnings.simplefilter("always")
        with caught_here() as outer, caught_here(SancodecWarning) as inner:
            warnings.warn("ours", SancodecWarning, stacklevel=2)
            warnings.warn("theirs", UserWarning, stacklevel=2)
            other = threading.Thread(target=lambda: warnings.warn("another thread's", UserWarning, stacklevel=2))
            other.start()
            other.join()
        warnings.warn("after", UserWarning, stacklevel=2)
    assert [str(w.message) for w in inner] == ["ours"]
    assert [str(w.message) for w in outer] == ["theirs"]
    assert [str(w.message) for w in before] == ["another thread's", "after"]


def test_a_batch_with_kept_header_texts_gives_the_tree_back_byte_for_byte(tree, tmp_path):
    """``--keep-header-text`` on the way in, ``--decode`` on the way back: every record's .hea and .dat as they were
    (an archive that passes the sums a repository publishes); without it, the .hea in wfdb-python's layout."""
    (tree / "broken.hea").unlink()
    runner = CliRunner()
    for keep in (True, False):
        dst, back = tmp_path / f"dst{keep}", tmp_path / f"back{keep}"
        res = runner.invoke(app, ["batch", str(tree), str(dst), "--workers", "1", "-q"]
                            + (["--keep-header-text"] if keep else []))
        assert res.exit_code == 0, res.output
        assert runner.invoke(app, ["batch", str(dst), str(back), "--decode", "--workers", "1", "-q"]).exit_code == 0
        for rel in ("test01_00s", "100_3chan", "ward/3000003_0003"):
            assert (back / f"{rel}.dat").read_bytes() == (tree / f"{rel}.dat").read_bytes()
            assert ((back / f"{rel}.hea").read_bytes() == (tree / f"{rel}.hea").read_bytes()) == keep, rel
    res = runner.invoke(app, ["batch", str(tree), str(tmp_path / "lossy"), "--mode", "lossy", "--prdn", "2",
                              "--keep-header-text", "-q"])
    assert res.exit_code != 0 and "applies to lossless mode" in res.output


def test_a_lossy_batch_codes_floats_with_nan_gaps_that_are_no_decimals(tmp_path):
    """A ``.npy`` and a CSV of filtered floats with dropouts (NaN, empty cells): failed in a batch as in every command
    before; a lossy batch codes them as ``sancodec encode`` does (``codec.nanfloats``), each channel at the target
    against the floats given, the gaps NaN again."""
    import pandas as pd

    from sancodec.metrics import prdn

    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=(3000, 2)), axis=0) / 213.3
    x[100:160, 0], x[2000, 1] = np.nan, np.nan
    src = tmp_path / "src"
    src.mkdir()
    np.save(src / "x.npy", x)
    pd.DataFrame(x, columns=["a", "b"], index=pd.Index(np.arange(3000) / 125, name="time")).to_csv(src / "y.csv")
    res = CliRunner().invoke(app, ["batch", str(src), str(tmp_path / "dst"), "--workers", "1", "-q", "--mode",
                                   "lossy", "--prdn", "2", "--fs", "125", "--csv"])
    assert res.exit_code == 0, res.output
    assert {v["status"] for v in _manifest(tmp_path / "dst").values()} == {"encoded"}
    for name in ("x.npy.san", "y.csv.san"):
        with sancodec.open(tmp_path / "dst" / name) as f:
            back = f.read()
        assert np.array_equal(np.isnan(back), np.isnan(x))
        assert max(prdn(x[~np.isnan(x[:, c]), c], back[~np.isnan(x[:, c]), c]) for c in range(2)) <= 2


def test_a_batch_decode_writes_a_wfdb_record_a_block_at_a_time_as_decode_does(tmp_path, monkeypatch):
    """``batch --decode`` decoded each file whole in memory and wrote that (a worker per day-long record held it all as
    int64), and hashed its outputs read whole. A WFDB record of format 16 or 212 now goes through the streamed writer,
    as ``sancodec decode`` writes it (the same files as the whole-record writer), and is hashed a piece at a time;
    another source (an EDF's, decoded to EDF) is written whole, as before."""
    from sancodec import batch
    from sancodec.io import wfdb as wfdb_io

    for f in DATA.glob("100_3chan.*"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "r.san").write_bytes(sancodec.encode(sancodec.read_signal(tmp_path / "100_3chan")))
    (tmp_path / "out").mkdir()  # (as the batch's own worker makes it)
    with monkeypatch.context() as patched:  # the whole-record writer refuses: only the streamed one can write it
        patched.setattr(wfdb_io, "write_record", lambda *a, **kw: pytest.fail("written whole"))
        files = batch._decoded_to(tmp_path / "r.san", tmp_path / "out" / "r", "wfdb", None, False)
    assert files is not None and sorted(f.name for f in files) == ["r.dat", "r.hea"]
    assert (tmp_path / "out" / "r.dat").read_bytes() == (tmp_path / "100_3chan.dat").read_bytes()
    sancodec.write_signal(sancodec.decode((tmp_path / "r.san").read_bytes()), tmp_path / "whole", format="wfdb")
    ours, theirs = (tmp_path / "out" / "r.hea").read_text(), (tmp_path / "whole.hea").read_text()
    assert ours.replace("r.dat", "R.dat").replace("r ", "R ", 1) == \
        theirs.replace("whole.dat", "R.dat").replace("whole ", "R ", 1)
    import hashlib

    assert batch._sha256_of(files) == hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    edf = tmp_path / "e.edf"
    sancodec.write_signal(sancodec.read_signal(tmp_path / "100_3chan"), edf)
    (tmp_path / "e.san").write_bytes(sancodec.encode(sancodec.read_signal(edf)))
    row = batch._decode_one((str(tmp_path / "e.san"), str(tmp_path / "out" / "e"), {}, False))  # (to EDF, not WFDB)
    assert row["status"] == "decoded" and sorted(p.name for p in (tmp_path / "out").glob("e*")) == ["e.edf"]


def test_a_batch_decode_writes_edf_wav_npy_and_csv_from_an_array_mapped_from_a_file(tmp_path, monkeypatch):
    """``batch --decode`` of an EDF's, a WAV's, an integer ``.npy``'s or a CSV's file decoded it whole in memory; now
    from an array mapped from a file beside the output, as ``sancodec decode`` writes those formats: the same files
    as before, the record never held (``sancodec.decode`` is not called)."""
    import soundfile

    from sancodec import batch

    x = np.cumsum(np.random.default_rng(9).integers(-30, 31, size=(3000, 2)), axis=0).astype(np.int16)
    signal = sancodec.Signal(x, 250.0, ["a", "b"], ["uV", "uV"])
    sancodec.write_signal(signal, tmp_path / "e.edf")
    soundfile.write(tmp_path / "w.wav", x, 250, subtype="PCM_16")
    np.save(tmp_path / "n.npy", x)
    (tmp_path / "c.csv").write_text("time,a,b\n" + "".join(f"{k / 250:.3f},{a / 100:.2f},{b}\n" for k, (a, b) in
                                                          enumerate(x.tolist())))
    made = {}
    (tmp_path / "whole").mkdir()
    for name in ("e.edf", "w.wav", "n.npy", "c.csv"):  # each decoded whole and written, as the batch did
        read = sancodec.read_signal(tmp_path / name, **({"fs": 250.0} if name.endswith(".npy") else {}))
        (tmp_path / f"{name}.san").write_bytes(sancodec.encode(read))
        sancodec.write_signal(sancodec.decode((tmp_path / f"{name}.san").read_bytes()), tmp_path / "whole" / name)
        made[name] = (tmp_path / "whole" / name).read_bytes()
    from sancodec import codec

    monkeypatch.setattr(codec, "decode_file", lambda *a, **kw: pytest.fail("decoded whole"))
    for name in made:
        row = batch._decode_one((str(tmp_path / f"{name}.san"), str(tmp_path / "out" / name), {}, False))
        assert row["status"] == "decoded", row
        assert (tmp_path / "out" / name).read_bytes() == made[name], name
        assert row["output_bytes"] == len(made[name])
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # (no folder of its own left)
