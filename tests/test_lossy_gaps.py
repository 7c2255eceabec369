"""Gaps in lossy mode (format 1.15, ``codec.gaps``): a WFDB record's invalid samples (dropouts) and a CSV's or an
array's missing values. Coded as values, the jump to -32768 took most of the error a channel may have: mixedsignals at
PRDN 2 % met its target with the dropouts counted while its ECG's other samples came back at 137-203 % PRDN. Now the
gaps are coded apart: they decode to their value exactly, the other samples meet the target, and the header's PRDN
is theirs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from common import encoded_as_golden
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import SancodecError, SancodecWarning, Signal, read_signal
from sancodec.codec import lossyfile
from sancodec.codec.api import encode_lossy_blocks, read_info
from sancodec.codec.gaps import apply_gaps, gap_runs, parse_gaps
from sancodec.codec.lossy import EFFORTS
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"


def _check(sig: Signal, data: bytes, bound: float | None) -> list[float | None]:
    """Each channel's gaps decode to their value and nowhere else; its other samples' PRDN (within ``bound``), which
    the header records."""
    back = sancodec.decode(data)
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    steps = sig.sample_steps()
    got = []
    for ch, gap in enumerate(gap_runs(sig)):
        x, y = sig.samples[:: steps[ch], ch], back.samples[:: steps[ch], ch]
        bad = np.zeros(len(x), bool) if gap is None else x == gap[0]
        assert np.array_equal(y[bad], x[bad]) and (gap is None or not np.any(y[~bad] == gap[0]))
        value = prdn(x[~bad].astype(float), y[~bad].astype(float))
        assert bound is None or value <= bound
        assert recorded[ch] is None or recorded[ch] == pytest.approx(value, abs=1e-5)
        got.append(value)
    return got


@pytest.mark.parametrize("effort", EFFORTS)
def test_a_records_dropouts_decode_as_dropouts_and_the_rest_meets_the_target(effort):
    """mixedsignals: II, III and V hold 1024 samples of -32768 and ABP 192 (at its own rate)."""
    sig = read_signal(DATA / "mixedsignals_1000f")
    rows = [0 if g is None else int((g[2] - g[1]).sum()) for g in gap_runs(sig)]
    assert rows == [1024, 1024, 1024, 384, 0, 0]  # (ABP's 384 rows are its 192 samples, at half the rate)
    data = sancodec.encode(sig, mode="lossy", prdn=2, effort=effort)
    assert tuple(read_info(data)["version"]) == (1, 15)  # a 1.14 reader refuses it, not decoding the gaps as values
    got = _check(sig, data, 2.0)
    assert min(got[:4]) > 1.5  # the target spent on the other samples, not on the jump to -32768


def test_a_csvs_gaps_and_an_arrays_nan_code_lossy_and_come_back_as_gaps(tmp_path):
    x = np.round(np.cumsum(np.random.default_rng(3).normal(0, 0.05, 4000)), 3)
    x[500:540] = np.nan
    x[3999] = np.nan
    back = sancodec.decode(sancodec.encode(x, fs=250.0, mode="lossy", prdn=5, effort="balanced")).physical().ravel()
    assert np.array_equal(np.isnan(back), np.isnan(x)) and prdn(x[~np.isnan(x)], back[~np.isnan(x)]) <= 5


def test_a_record_without_gaps_and_an_edf_sources_lowest_value_are_coded_as_before():
    """No gaps: the file is what it was (no ``lossy.gaps``); an EDF source's -32768 is a value (its digital
    minimum), not a gap."""
    x = np.cumsum(np.random.default_rng(1).integers(-20, 21, (6000, 1)), axis=0)
    clean = Signal(x, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    assert "gaps" not in read_info(sancodec.encode(clean, mode="lossy", prdn=2))["header"]["lossy"]
    low = x.copy()
    low[2000:2400] = -32768
    edf = Signal(low, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"], source={"kind": "edf"})
    assert gap_runs(edf) == [None]
    assert "gaps" not in read_info(sancodec.encode(edf, mode="lossy", prdn=2))["header"]["lossy"]


@given(st.integers(0, 2**32 - 1), st.sampled_from([1.0, 3.0, 9.0]), st.sampled_from(EFFORTS),
       st.sampled_from(["prdn", "bps"]))
@settings(max_examples=20, deadline=None)
def test_random_gaps_decode_exactly_and_the_rest_meets_the_target(seed, target, effort, kind):
    """Random channels with random runs of WFDB's invalid sample (some at the ends, one channel perhaps all gaps),
    at random targets and efforts, read back from the file: gaps exactly, the other samples within a PRDN target."""
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(300, 5000)), int(rng.integers(1, 3))
    x = np.cumsum(rng.integers(-30, 31, (n, c)), axis=0) + 100 * np.sin(np.arange(n) / 7)[:, None]
    x = np.rint(x).astype(np.int64)
    for ch in range(c):
        for _ in range(int(rng.integers(0, 4))):
            a = int(rng.integers(0, n))
            x[a : a + int(rng.integers(1, 200)), ch] = -32768
    if rng.random() < 0.1:
        x[:, -1] = -32768
    sig = Signal(x, 250.0, [f"c{i}" for i in range(c)], ["mV"] * c, adc_gain=[200.0] * c, baseline=[0] * c,
                 fmt=["16"] * c)
    options = {"prdn": target} if kind == "prdn" else {"bps": target / 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SancodecWarning)  # (a budget too tight for a short channel is said)
        data = sancodec.encode(sig, mode="lossy", effort=effort, **options)
    _check(sig, data, target if kind == "prdn" else None)


@pytest.mark.parametrize("effort", EFFORTS)
def test_a_long_record_read_a_block_at_a_time_makes_the_same_file(monkeypatch, effort):
    """A record past LOSSY_BLOCK samples, read a block at a time (``encode_lossy_blocks``, as the CLI reads a long
    WFDB record), has its gaps filled, measured and coded block by block as ``encode`` does in memory: the same
    file, a run that crosses a block's end one run in the header."""
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 4096)
    x = np.cumsum(np.random.default_rng(2).integers(-20, 21, (16384, 2)), axis=0)
    x[5000:5300, 1] = -32768
    x[8000:8300, 0] = -32768  # (across the end of the second block, at 8192)
    x[16000:, 0] = -32768
    sig = Signal(x, 250.0, ["a", "b"], ["mV", "mV"], adc_gain=[200.0] * 2, baseline=[0] * 2, fmt=["16"] * 2)
    streamed = encode_lossy_blocks(sig.slice(0, 1), len(x),
                                   lambda rows: (x[i : i + rows] for i in range(0, len(x), rows)), prdn=2,
                                   frame_len=1024, effort=effort)
    assert streamed is not None and streamed == sancodec.encode(sig, mode="lossy", prdn=2, frame_len=1024,
                                                                effort=effort)
    assert read_info(streamed)["header"]["lossy"]["gaps"] == [[-32768, [8000, 300, 16000, 384]], [-32768, [5000, 300]]]
    _check(sig, streamed, 2.0)


@pytest.mark.parametrize("entry, said", [
    ("x", "is not a list of 2 channels"),
    ([None], "is not a list of 2 channels"),
    ([None, [-32768]], r"is not \[a 32-bit value"),
    ([None, [1 << 40, [0, 1]]], r"is not \[a 32-bit value"),
    ([None, [-32768, []]], r"is not \[a 32-bit value"),
    ([None, [-32768, [0, 1, 5]]], r"is not \[a 32-bit value"),
    ([None, [-32768, [0, True]]], r"is not \[a 32-bit value"),
    ([None, [-32768, [0, 0]]], "must each hold a row"),
    ([None, [-32768, [90, 20]]], "within 100 rows"),
    ([None, [-32768, [10, 5, 12, 3]]], "in order, apart"),
    ([None, [-32768, [10, 5, 15, 3]]], "in order, apart"),
    ([None, [-32768, [11, 4]]], "whole samples of the channel"),
])
def test_a_hostile_gaps_entry_is_refused_in_one_error(entry, said):
    with pytest.raises(SancodecError, match=said):
        parse_gaps(entry, 100, [1, 2])


def test_the_gaps_are_written_over_any_rows_a_window_holds():
    """apply_gaps over blocks that cut runs anywhere: the same as over the whole record."""
    gaps = parse_gaps([[-9, [0, 3, 10, 1, 40, 60]], None, [7, [99, 1]]], 100, [1, 1, 1])
    whole = np.zeros((100, 3), np.int64)
    apply_gaps(gaps, whole, 0)
    for cut in (1, 7, 33, 64):
        pieces = [np.zeros((min(cut, 100 - lo), 3), np.int64) for lo in range(0, 100, cut)]
        for lo, piece in zip(range(0, 100, cut), pieces):
            apply_gaps(gaps, piece, lo)
        assert np.array_equal(np.concatenate(pieces), whole)
    assert whole[:3, 0].tolist() == [-9] * 3 and whole[3, 0] == 0 and whole[40:, 0].tolist() == [-9] * 60
    assert whole[99, 2] == 7 and not whole[:, 1].any()


GOLDEN_GAPS = Path(__file__).parent / "golden" / "gaps_lossy.san"


def _gapped_record() -> Signal:
    """Two channels of 6000 samples from integer formulas alone (no random stream, which a numpy release may
    change), the second with dropouts to WFDB's invalid sample at its start, inside and at its end."""
    t = np.arange(6000)
    a = np.cumsum((t * t * 7919) % 41 - 20) + (400 * ((t % 300) == 150))
    b = np.cumsum((t * 104729) % 17 - 8) * 3
    b[:40], b[2500:2730], b[5990:] = -32768, -32768, -32768
    return Signal(np.column_stack([a, b]).astype(np.int64), 250.0, ["ecg", "resp"], ["mV", "mV"],
                  adc_gain=[200.0, 100.0], baseline=[0, 0], fmt=["16", "16"])


def test_the_format_1_15_golden_file():
    """The golden file of a lossy record with gaps (format 1.15): the encoder writes it byte for byte
    (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it), and it decodes to the same samples: the gaps exactly, the rest
    within the target."""
    sig = _gapped_record()
    golden = encoded_as_golden(GOLDEN_GAPS, sancodec.encode(sig, mode="lossy", effort="best", prdn=5))
    assert golden[4:6] == bytes([1, 15])
    assert read_info(golden)["header"]["lossy"]["gaps"] == [None, [-32768, [0, 40, 2500, 230, 5990, 10]]]
    _check(sig, golden, 5.0)


def test_every_way_of_reading_a_gapped_file_gives_the_same_rows(tmp_path):
    """A range decode, ``sancodec.open``'s reads, indexing and blocks, and a decode to WFDB written as it decodes,
    each cutting the gaps' runs anywhere: the same rows as the whole decode, gaps included."""
    sig = _gapped_record()
    data = sancodec.encode(sig, mode="lossy", prdn=5, frame_len=512)
    whole = sancodec.decode(data).samples
    for lo, hi in [(0, 40), (39, 41), (30, 2600), (2499, 2731), (2729, 2731), (5000, 6000), (5995, 6000)]:
        assert np.array_equal(sancodec.decode(data, start=lo, end=hi).samples, whole[lo:hi])
    (tmp_path / "g.san").write_bytes(data)
    with sancodec.open(tmp_path / "g.san") as f:
        assert np.array_equal(f.read(2400, 2800), whole[2400:2800]) and np.array_equal(f[-20:], whole[-20:])
        assert np.array_equal(np.concatenate(list(f.blocks(333))), whole)
        f.check()
    from typer.testing import CliRunner

    from sancodec.cli import app

    res = CliRunner().invoke(app, ["decode", str(tmp_path / "g.san"), "-o", str(tmp_path / "back"), "-q"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(read_signal(tmp_path / "back").samples, whole)


def test_the_rate_distortion_curve_leaves_a_channels_gaps_out(tmp_path):
    """``report --rd-curve`` on a channel with gaps: each lossy point's PRDN is its other samples' (at or under its
    target, not the near-zero figure the dropout's spread made of it), and the wavelet coder is given the channel
    filled alike and measured the same way."""
    from sancodec.rd import LOSSY_TARGETS, rd_curves

    sig = _gapped_record().select_channels([1])
    curves = rd_curves(sig, 0)
    for target, (got, _) in zip(LOSSY_TARGETS, curves.lossy):
        assert 0.5 * target < got <= target
    assert curves.wavelet and all(0.2 <= p <= 40 for p, _ in curves.wavelet)


def test_a_near_lossless_files_gaps_decode_exactly_and_a_hostile_entry_is_refused():
    """A near-lossless file of an array's NaN (format 1.15, the header's top-level ``gaps``): NaN back where it was,
    the rest within the error; its header rewrapped with runs past the record, or of the wrong shape, is one
    SanFormatError, never other samples."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    x = np.where(np.arange(3000) % 700 < 9, np.nan, np.round(np.sin(np.arange(3000) / 9), 3))
    data = sancodec.encode(x, fs=250.0, mode="near-lossless", max_error=0.003)  # (3 units of 10^-3)
    back = sancodec.decode(data).physical().ravel()
    assert np.array_equal(np.isnan(back), np.isnan(x)) and np.nanmax(np.abs(back - x)) <= 0.003 + 1e-12
    header = SanReader(data).header
    assert header["gaps"] == [[-32768, [0, 9, 700, 9, 1400, 9, 2100, 9, 2800, 9]]]
    for hostile in ([[-32768, [2995, 9]]], [[-32768, [0, 9]], None], "x", [[-32768, [9, 0]]]):
        with pytest.raises(SancodecError, match="header field 'gaps"):
            sancodec.decode(rewrap(data, {**header, "gaps": hostile}))


def test_info_says_where_a_files_gaps_are(tmp_path):
    """``sancodec info`` shows a lossy or near-lossless file's gaps coded apart: each channel's rows, runs and value."""
    from typer.testing import CliRunner

    from sancodec.cli import app

    x = np.where(np.arange(3000) % 700 < 9, np.nan, np.round(np.sin(np.arange(3000) / 9), 3))
    (tmp_path / "near.san").write_bytes(sancodec.encode(x, fs=250.0, mode="near-lossless", max_error=3))
    (tmp_path / "lossy.san").write_bytes(sancodec.encode(read_signal(DATA / "mixedsignals_1000f"), mode="lossy",
                                                         prdn=2, effort="fast"))
    for name, said in (("near.san", "ch0: 45 rows in 5 run(s), decoded as -32768"),
                       ("lossy.san", "II: 1024 rows in 1 run(s), decoded as -32768")):
        res = CliRunner().invoke(app, ["info", str(tmp_path / name)], terminal_width=400)
        assert res.exit_code == 0, res.output
        assert "gaps coded apart" in res.output and said in res.output


@pytest.mark.parametrize("hostile", [[None, [-32768, [5990, 20]]], [None, [-32768, [10, 5, 12, 3]]], [None],
                                     [None, [-32768, [0, 0]]], [None, "runs"]])
def test_a_lossy_file_whose_gaps_lie_is_refused_by_every_reader(tmp_path, hostile):
    """The golden gapped file rewrapped with valid CRCs around a ``lossy.gaps`` that lies (runs past the record, out
    of order, of no rows, for too few channels, of the wrong type): decode, ``sancodec.open`` and ``check`` each
    refuse it in one SanFormatError, never writing other samples."""
    from common import rewrap

    from sancodec.codec.container import SanReader
    from sancodec.stream import SanFile

    golden = GOLDEN_GAPS.read_bytes()
    header = SanReader(golden).header
    bad = rewrap(golden, {**header, "lossy": {**header["lossy"], "gaps": hostile}})
    with pytest.raises(SancodecError, match="header field 'lossy.gaps"):
        sancodec.decode(bad)
    (tmp_path / "bad.san").write_bytes(bad)
    with pytest.raises(SancodecError, match="header field 'lossy.gaps"):
        with SanFile(tmp_path / "bad.san") as f:
            f.check()
