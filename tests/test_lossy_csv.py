"""A lossy file of floats decoded to CSV prints each value at the decimals its grid step needs
(``io.arrays.grid_places``), not 17 significant digits that only spell out the quantiser."""

from __future__ import annotations

import math

import numpy as np
from typer.testing import CliRunner

import sancodec
from sancodec import Signal, read_signal
from sancodec.cli.app import app
from sancodec.codec.container import SanReader
from sancodec.io.arrays import grid_places

runner = CliRunner()


def test_grid_places_resolve_a_twentieth_of_the_step():
    assert grid_places(0.001) == 4 and grid_places(0.00069) == 5 and grid_places(0.01) == 3
    assert grid_places(3.0) == 1 and grid_places(2) == 1 and grid_places(20.0) == 0 and grid_places(1e6) == 0
    for step in (0.0, -1.0, math.nan, math.inf, "0.1", True, None, 1e-20):  # an untrusted header's quantum
        assert grid_places(step) is None
    for step in (0.00069, 0.001, 0.0123, 0.5, 7.0, 20.0, 1e6):
        values = np.arange(-50, 50) * step
        printed = np.array([float(f"{v:.{grid_places(step)}f}") for v in values])
        assert np.max(np.abs(printed - values)) <= step / 20 * (1 + 1e-9)


def test_a_lossy_float_csv_decodes_to_values_at_its_grids_places(tmp_path):
    rng = np.random.default_rng(5)
    t = np.arange(20_000) / 250
    x = np.sin(2 * np.pi * 1.2 * t) + 0.05 * rng.normal(size=t.size)
    source = Signal(np.column_stack([x, 40 * x]), 250.0, ["a", "b"], ["mV", "mV"])
    (tmp_path / "f.san").write_bytes(sancodec.encode(source, mode="lossy", prdn=2))
    with open(tmp_path / "f.san", "rb") as f:
        quantum = SanReader(f).header["quantum"]
    decoded = sancodec.decode((tmp_path / "f.san").read_bytes())
    res = runner.invoke(app, ["decode", str(tmp_path / "f.san"), "-o", str(tmp_path / "f.csv"), "-q"])
    assert res.exit_code == 0, res.output
    rows = (tmp_path / "f.csv").read_text().splitlines()
    for c, step in enumerate(quantum):
        assert all(len(row.split(",")[c].split(".")[1]) == grid_places(step) for row in rows[1:50])
    back = read_signal(tmp_path / "f.csv", fs=250.0)
    assert np.all(np.abs(back.samples - decoded.samples) <= np.array(quantum) / 20 * (1 + 1e-9))
    full = tmp_path / "full.csv"
    sancodec.write_signal(decoded, full)  # no grid given: 17 significant digits, exact
    assert np.array_equal(read_signal(full, fs=250.0).samples, decoded.samples)
    assert (tmp_path / "f.csv").stat().st_size < 0.6 * full.stat().st_size


def test_a_lossy_csv_of_a_decimal_csv_prints_no_more_decimals_than_its_source(tmp_path):
    """A CSV printed at 3 decimals, coded lossy on a grid finer than that (PRDN 0.5 %), decodes to a CSV at 3
    decimals too (read_csv's ``value_decimals``): places past the source's resolution said nothing; ``--channels``
    keeps each column's own."""
    t = np.arange(5000) / 250
    rows = [f"{a:.3f},{b:.1f}" for a, b in zip(np.sin(2 * np.pi * t), 50 * np.cos(2 * np.pi * 0.3 * t) + 0.05)]
    (tmp_path / "s.csv").write_text("a,b\n" + "\n".join(rows) + "\n")
    source = read_signal(tmp_path / "s.csv", fs=250.0)
    assert source.source["value_decimals"] == [3, 1]
    (tmp_path / "s.san").write_bytes(sancodec.encode(source, mode="lossy", prdn=0.5))
    with open(tmp_path / "s.san", "rb") as f:
        assert grid_places(SanReader(f).header["quantum"][0]) > 3  # the grid alone would print more
    for channels, places in ((None, [3, 1]), ("1,0", [1, 3])):
        out = tmp_path / f"{channels is None}.csv"
        res = runner.invoke(app, ["decode", str(tmp_path / "s.san"), "-o", str(out), "-q",
                                  *(["--channels", channels] if channels else [])])
        assert res.exit_code == 0, res.output
        row = out.read_text().splitlines()[1].split(",")
        assert [len(cell.split(".")[1]) for cell in row] == places
