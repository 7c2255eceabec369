"""Floats with NaN gaps that are no decimals (a filtered recording with dropouts) in the lossy and near-lossless
modes (``codec.nanfloats``): refused in every mode before ("fill the gaps"); now rounded to what the target needs,
the rounding counted against it, the gaps given back as NaN, and every channel within the target against the floats
given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sancodec
from sancodec import SanConfigError, SanFormatError
from sancodec.codec.container import SanReader
from sancodec.metrics import prdn


def _dropouts(rng: np.random.Generator, n: int, channels: int) -> np.ndarray:
    """Filtered-looking floats (no decimals) on channels of other scales and offsets, with runs of NaN."""
    t = np.arange(n)
    x = np.column_stack([(np.sin(t / rng.uniform(5, 40)) + 0.1 * np.cumsum(rng.normal(size=n)) / np.sqrt(n)
                          + rng.uniform(-50, 50)) * 10.0 ** rng.uniform(-3, 2) for _ in range(channels)])
    for c in range(channels):
        for _ in range(int(rng.integers(1, 4))):
            lo = int(rng.integers(0, n - 50))
            x[lo : lo + int(rng.integers(1, 50)), c] = np.nan
    return x


def _channel_prdns(x: np.ndarray, y: np.ndarray) -> list[float]:
    return [prdn(x[~np.isnan(x[:, c]), c], y[~np.isnan(x[:, c]), c]) for c in range(x.shape[1])]


@pytest.mark.parametrize("seed", range(6))
def test_every_channel_meets_a_random_target_against_the_floats_given(seed):
    """A PRDN target (or an SNR's) at random, on random channels with dropouts: every channel's PRDN against the
    floats given, gaps left out, at or below it; the header's achieved PRDNs are those very figures; NaN where the
    gaps were. A near-lossless bound at random: every value within it."""
    rng = np.random.default_rng(seed)
    x = _dropouts(rng, int(rng.integers(2000, 6000)), int(rng.integers(1, 4)))
    target = float(rng.choice([0.3, 1.0, 2.0, 5.0, 9.0]))
    options = {"prdn": target} if seed % 2 else {"snr": -20 * np.log10(target / 100)}
    data = sancodec.encode(x, fs=250.0, mode="lossy", effort=["fast", "balanced"][seed % 2], **options)
    back = sancodec.decode(data).physical()
    assert np.array_equal(np.isnan(back), np.isnan(x))
    measured = _channel_prdns(x, back)
    assert max(measured) <= target * (1 + 1e-9), (measured, target)
    assert np.allclose(SanReader(data).header["lossy"]["prdn"], measured, rtol=0, atol=1e-5)
    bound = float(10.0 ** rng.uniform(-3, 0)) * float(np.nanstd(x))
    near = sancodec.decode(sancodec.encode(x, fs=250.0, mode="near-lossless", max_error=bound)).physical()
    assert np.array_equal(np.isnan(near), np.isnan(x)) and np.nanmax(np.abs(near - x)) <= bound


def test_dataframes_float32_and_the_refusals():
    """A DataFrame with NaN among floats codes too (its rate from the index); a float32 array comes back as float32
    (``sancodec.open``); lossless mode still refuses such floats, naming the modes that hold them; a constant
    channel whose value is no decimal, and values whose target needs more than 32 bits, are refused in words."""
    rng = np.random.default_rng(9)
    x = _dropouts(rng, 4000, 2)
    df = pd.DataFrame(x, columns=["PPG", "ABP"], index=pd.date_range("2024-01-01", periods=len(x), freq="8ms"))
    back = sancodec.decode(sancodec.encode(df, mode="lossy", prdn=2))
    assert back.fs == 125.0 and back.channel_names == ["PPG", "ABP"]
    assert max(_channel_prdns(x, back.physical())) <= 2
    with sancodec.open(sancodec.encode(x.astype(np.float32), fs=125.0, mode="lossy", prdn=2)) as f:
        values = f.read()
    assert values.dtype == np.float32 and max(_channel_prdns(x.astype(np.float32).astype(float), values)) <= 2
    with pytest.raises(SanFormatError, match="and among any floats in near-lossless and lossy modes"):
        sancodec.encode(x, fs=125.0)
    constant = np.full(1000, 1 / 3)
    constant[5:9] = np.nan
    with pytest.raises(SanConfigError, match="a constant channel among NaN gaps"):
        sancodec.encode(constant, fs=125.0, mode="lossy", prdn=2)
    for bad in (None, float("inf"), -1.0, "0.1"):  # (a bound that is none: one SanConfigError, naming it)
        with pytest.raises(SanConfigError, match=f"needs max_error .* got {bad!r}"):
            sancodec.encode(x, fs=125.0, mode="near-lossless", max_error=bad)
    offset = x[:, 0] * 1e-3 + 1e4
    with pytest.raises(SanConfigError, match="past 32 bits at their magnitude"):
        sancodec.encode(offset, fs=125.0, mode="lossy", prdn=0.05)


def test_the_cli_codes_a_npy_or_csv_of_such_floats_in_the_lossy_modes(tmp_path):
    """``sancodec encode`` of a ``.npy`` or a CSV of floats with NaN gaps that are no decimals (pandas' ``to_csv`` of
    a filtered DataFrame: empty cells among 17-digit floats): refused before in every mode; now coded in the lossy
    modes as ``sancodec.encode`` codes the array (``read_signal``'s ``rounder``), ``--channels`` too, and decoded
    with NaN (empty cells) where the gaps were; lossless mode still refuses them, ``report`` too in its own words."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    x = _dropouts(np.random.default_rng(5), 3000, 2)
    np.save(tmp_path / "x.npy", x)
    pd.DataFrame(x, columns=["PPG", "ABP"], index=pd.Index(np.arange(3000) / 125, name="time")).to_csv(
        tmp_path / "x.csv")
    runner = CliRunner()
    for source in ("x.npy", "x.csv"):
        for args, picked in ((["--mode", "lossy", "--prdn", "2"], [0, 1]), (["--mode", "lossy", "--prdn", "2",
                              "--channels", "1"], [1]), (["--mode", "near-lossless", "--max-error", "0.001"], [0, 1])):
            res = runner.invoke(app, ["encode", str(tmp_path / source), "--fs", "125", *args, "-o",
                                      str(tmp_path / "o.san"), "-q", "-f"])
            assert res.exit_code == 0, (source, args, res.output)
            with sancodec.open(tmp_path / "o.san") as f:
                back = f.read()
            given = x[:, picked]
            assert np.array_equal(np.isnan(back), np.isnan(given))
            if args[1] == "lossy":
                assert max(_channel_prdns(given, back)) <= 2
            else:
                assert np.nanmax(np.abs(back - given)) <= 0.001
        res = runner.invoke(app, ["encode", str(tmp_path / source), "--fs", "125", "-o", str(tmp_path / "o.san"),
                                  "-q", "-f"])
        assert res.exit_code != 0 and "near-lossless and lossy modes" in " ".join(res.output.split())
        res = runner.invoke(app, ["report", str(tmp_path / source), "--fs", "125"])  # (lossless: lossy ones below)
        assert res.exit_code != 0 and "report --mode lossy --prdn P" in " ".join(res.output.split())
    res = runner.invoke(app, ["decode", str(tmp_path / "o.san"), "-o", str(tmp_path / "back.csv"), "-q"])
    assert res.exit_code == 0, res.output
    rows = (tmp_path / "back.csv").read_text().splitlines()[1:]
    assert [r.split(",")[1] == "" for r in rows] == list(np.isnan(x[:, 0]))


def test_report_measures_a_lossy_file_of_gapped_floats_against_the_floats_given(tmp_path):
    """``report`` of floats with NaN gaps that are no decimals refused them in every mode; in the lossy modes it now
    codes them as ``encode`` does and measures the decode against the floats given, outside the gaps: the PRDNs the
    file's header holds, near-lossless's bound met, the tools given the floats themselves (raw float64 and NaN), the
    wavelet coder the values as rounded; a .san given is measured so too. ``--plot`` and ``--rd-curve`` refuse them in
    words."""
    import json

    from typer.testing import CliRunner

    from sancodec.cli import app

    x = _dropouts(np.random.default_rng(7), 4000, 2)
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    for args in (["--mode", "lossy", "--prdn", "2"], ["--mode", "near-lossless", "--max-error", "0.001"]):
        res = runner.invoke(app, ["report", str(tmp_path / "x.npy"), "--fs", "125", *args, "--json"])
        assert res.exit_code == 0, res.output
        got = json.loads(res.stdout)
        res = runner.invoke(app, ["encode", str(tmp_path / "x.npy"), "--fs", "125", *args, "-o",
                                  str(tmp_path / "o.san"), "-q", "-f"])
        assert res.exit_code == 0, res.output
        data = (tmp_path / "o.san").read_bytes()
        assert got["san_bytes"] == len(data) and got["baselines"]["raw float64"] == x.size * 8
        with sancodec.open(data) as f:
            back = f.read()
            header_prdns = f.header["lossy"]["prdn"] if args[1] == "lossy" else None
        assert got["prdn_per_channel"] == pytest.approx(_channel_prdns(x, back), rel=1e-9)
        if args[1] == "lossy":
            assert got["prdn_per_channel"] == pytest.approx(header_prdns, abs=1e-6) and max(header_prdns) <= 2
            assert isinstance(got["wavelet_at_prdn"], int)
        else:
            assert got["max_abs_error"] <= 0.001 and got["max_abs_error"] == pytest.approx(np.nanmax(np.abs(back - x)))
    res = runner.invoke(app, ["report", str(tmp_path / "x.npy"), str(tmp_path / "o.san"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["max_abs_error"] == pytest.approx(np.nanmax(np.abs(back - x)))
    res = runner.invoke(app, ["report", str(tmp_path / "x.npy"), "--fs", "125", "--mode", "lossy", "--prdn", "2",
                              "--plot", str(tmp_path / "p.png")])
    assert res.exit_code == 2 and "do not draw floats with NaN gaps" in " ".join(res.output.split())
    assert not (tmp_path / "p.png").exists()
