"""Reproduction loaders (asserted numbers) and the quick modes of the three tables, end to end."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sancodec import SanConfigError
from sancodec.cli import app
from sancodec.paper import datasets
from sancodec.paper.reproduce import table2, table3
from sancodec.paper.segments import paper_segments

DATA = Path(__file__).parent / "data"


def test_uci_loader_merge_and_scaling():
    x, y = datasets.load_uci_epilepsy(DATA / "uci-small")
    assert x.shape == (200, 178) and np.bincount(y).tolist() == [0, 40, 40, 40, 40, 40]
    merged = datasets.merge_epilepsy_classes(y)
    assert np.bincount(merged).tolist() == [40, 80, 80]
    assert (merged[y == 1] == 0).all() and (merged[y == 3] == 1).all() and (merged[y == 4] == 2).all()
    scaled = datasets.minmax(x)
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    i, j = np.unravel_index(np.argmax(x), x.shape)
    assert scaled[i, j] == 1.0


def test_paper_split_sizes():
    split = datasets.split_indices(11500)
    assert (len(split.train), len(split.val), len(split.test)) == (8740, 1380, 1380)
    everything = np.concatenate([split.train, split.val, split.test])
    assert np.array_equal(np.sort(everything), np.arange(11500))
    assert np.array_equal(datasets.split_indices(11500).train, split.train)  # seeded


def test_mnist_loader():
    d = datasets.load_mnist(DATA / "mnist-small", n_val=100)
    assert d["train"][0].shape == (500, 28, 28) and d["val"][0].shape == (100, 28, 28)
    assert d["test"][0].shape == (200, 28, 28)
    assert d["train"][0].dtype == np.float32 and 0 <= d["train"][0].min() and d["train"][0].max() <= 1
    assert d["train"][1][:3].tolist() == [5, 0, 4] and d["test"][1][:3].tolist() == [7, 2, 1]
    with pytest.raises(SanConfigError):
        datasets.load_mnist(DATA / "mnist-small", n_val=600)


def _local_data(tmp_path: Path, mitdb_100: Path) -> Path:
    (tmp_path / "wfdb").mkdir()
    for f in mitdb_100.parent.glob("100.*"):
        shutil.copy(f, tmp_path / "wfdb" / f.name)
    return tmp_path


def test_table1_signal_and_segments(tmp_path, mitdb_100):
    data = _local_data(tmp_path, mitdb_100)
    x, source = datasets.table1_signal("mitdb", data)
    assert x.shape == (12000,) and source == "wfdb/100 channel 0 (native rate)"
    train, val, test = paper_segments(x)
    assert (train.shape, val.shape, test.shape) == ((6, 1000), (2, 1000), (4, 1000))
    segs = np.concatenate([train, val, test])
    np.testing.assert_allclose(segs.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(segs.std(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(train[0], (x[:1000] - x[:1000].mean()) / x[:1000].std(), rtol=1e-5, atol=1e-5)
    with pytest.raises(SanConfigError):
        datasets.table1_signal("not-a-database", data)


def test_table1_quick(tmp_path, mitdb_100):
    (tmp_path / "data").mkdir()
    data = _local_data(tmp_path / "data", mitdb_100)
    out = tmp_path / "out"
    figures = tmp_path / "figures"
    res = CliRunner().invoke(app, ["reproduce", "table1", "--data-dir", str(data), "--out", str(out), "--figures",
                                   str(figures), "--database", "mitdb", "--quick", "-q", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    text = (out / "table1.md").read_text()
    assert text.count("| mitdb") == 4 and text in res.stdout
    assert len((out / "table1.csv").read_text().splitlines()) == 1 + 4 * 8
    for name in ("figure3_crinv_vs_loss.png", "figure4_phi_vs_m.png", "figure5_selected_kernels.png"):
        assert (figures / name).read_bytes()[:4] == b"\x89PNG"
        assert not (out / name).exists()


def _rows(path):
    return {r["activation"]: r for r in csv.DictReader(path.open())}


def _check_selection_and_accuracy(rows, sizes):
    for row in rows.values():
        per_m = {int(k): v for k, v in json.loads(row["per_m_val_phi"]).items()}
        assert sorted(per_m) == sizes
        assert int(row["m"]) == min(per_m, key=per_m.get)  # chosen on validation, never test
        assert 0 <= float(row["test_accuracy"]) <= 100


def test_table2_quick_matches_the_papers_definitions(tmp_path):
    """n = 178, q = 2: Max-Activations keeps k = floor(178 / m) per kernel, so CR^-1 = (2m + 2*2k) / 178
    exactly; Max-Pool keeps at most ceil(178 / m), Peaks at most ceil(178 / (m + 1)) per kernel."""
    text = table2(DATA / "uci-small", tmp_path, quick=True, device="cpu")
    assert "152/24/24 split" in text
    rows = _rows(tmp_path / "table2.csv")
    assert sorted(rows) == ["identity", "max_activations", "max_pool_indices", "peaks"]
    _check_selection_and_accuracy(rows, [15, 16])
    m = int(rows["max_activations"]["m"])
    assert float(rows["max_activations"]["test_cr_inv"]) == pytest.approx((2 * m + 4 * (178 // m)) / 178, abs=1e-4)
    m = int(rows["max_pool_indices"]["m"])
    assert float(rows["max_pool_indices"]["test_cr_inv"]) <= (2 * m + 4 * -(-178 // m)) / 178 + 1e-4
    m = int(rows["peaks"]["m"])
    assert float(rows["peaks"]["test_cr_inv"]) <= (2 * m + 4 * -(-178 // (m + 1))) / 178 + 1e-4


def test_table3_quick_matches_the_papers_definitions(tmp_path):
    """28 x 28 images, q = 2, dim 2 (CR counts 3 numbers per activation, W = sum of m): Max-Pool
    with m = 2 keeps at most 14 * 14 per kernel."""
    text = table3(DATA / "mnist-small", tmp_path, quick=True, device="cpu")
    assert "MNIST 400/100/200" in text
    rows = _rows(tmp_path / "table3.csv")
    _check_selection_and_accuracy(rows, [1, 2])
    for name in ("max_pool_indices", "max_activations"):
        m = int(rows[name]["m"])
        assert float(rows[name]["test_cr_inv"]) <= (2 * m + 3 * 2 * (28 // m) ** 2) / 784 + 1e-4


def test_reproduce_cli(tmp_path):
    res = CliRunner().invoke(app, ["reproduce", "table2", "--data-dir", str(DATA / "uci-small"), "--out",
                                   str(tmp_path), "--quick", "-q", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "Table II" in res.stdout
    res = CliRunner().invoke(app, ["reproduce", "table9"])
    assert res.exit_code == 2 and "unknown table" in res.stderr
