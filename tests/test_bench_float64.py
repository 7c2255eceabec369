"""benchmarks/bench_float64.py weighs the float64 signals it says: counts made physical by no one multiplication (so
on no format 1.17 step), each a format 1.19 file near its step that comes back bit for bit."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np

import sancodec
from sancodec.codec.container import SanReader
from sancodec.codec.floatgrid import grid_step
from sancodec.io.decimals import decimal_places

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_float64  # noqa: E402


def test_the_signals_are_what_the_benchmark_says_and_come_back_bit_for_bit():
    record = Path(__file__).resolve().parents[1] / "sancodec" / "data" / "samples" / "100"
    counts, made = bench_float64.signals(record, 5000)
    assert counts.shape == (5000, 2) and counts.dtype == np.int64
    assert list(made) == ["two roundings", "MNE's EDF scaling, V", "pyedflib's EDF scaling", "divided by a gain of 3"]
    for name, x in made.items():
        assert x.dtype == np.float64 and x.shape == (5000, 2)
        assert all(grid_step(x[:, c]) is None for c in range(2)) and decimal_places(x) is None, name
        data = sancodec.encode(sancodec.Signal(x, fs=360.0), mode="lossless")
        header = SanReader(io.BytesIO(data)).header
        assert data[4:6] == bytes([1, 19]) and header["near_grid"] is not None, name
        back = sancodec.decode(data).samples
        assert np.array_equal(back.view(np.uint64), x.view(np.uint64)), name


def test_the_coverage_benchmark_codes_its_cases_bit_for_bit(monkeypatch, capsys):
    """benchmarks/neargrid_coverage.py runs its random scalings (a few here) and prints a row per formula; a case
    that decoded to other doubles would raise."""
    import neargrid_coverage

    k = np.arange(-3, 4)
    assert np.array_equal(neargrid_coverage.scaled(k, 0.5, 1.0, 3), (k - 7) * 0.5 / 3 + 1.0)
    monkeypatch.setattr(sys, "argv", ["neargrid_coverage.py", "--cases", "25", "--seed", "3"])
    neargrid_coverage.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| `")]
    assert len(rows) == len(neargrid_coverage.FORMULAS)
    assert sum(int(cell) for row in rows for cell in row.strip("|").split("|")[1:]) == 25
