"""Samples kept off a record's gap value (format 1.16, the header's ``floor``, ``codec.gaps.floors``). A WFDB
record's invalid sample is the bottom of its format's range (-32768 for format 16): a lossy or near-lossless decode
of a signal at or near that bottom (a lead saturated at the rail) landed valid samples on it, or under it where the
range clipped them there, and WFDB's readers took each for a dropout (``benchmarks/railed_lead.py``: thousands of
a railed lead's samples at every effort and target, ``docs/results/railed_lead_floor.txt``). Now the decoder
raises what lies outside a channel's gaps to its floor, which only ever moves a sample towards its source value."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from common import encoded_as_golden, rewrap
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import SancodecError, SancodecWarning, Signal, read_signal
from sancodec.codec import lossyfile
from sancodec.codec.api import encode_lossy_blocks, read_info
from sancodec.codec.container import SanReader
from sancodec.codec.gaps import floors, lossy_floors, needed_floors, parse_floors
from sancodec.codec.lossy import EFFORTS
from sancodec.metrics import prdn
from sancodec.stream import SanFile, SanWriter

GOLDEN_FLOOR = Path(__file__).parent / "golden" / "floor_lossy.san"


def _railed(n: int = 6000) -> Signal:
    """Two format 16 channels from integer formulas alone (no random stream, which a numpy release may change): the
    first an ECG-like wave saturated at -32767 (the rail above the invalid sample) for a third of each period, the
    second near the rail with dropouts to -32768 at its start and inside."""
    t = np.arange(n)
    a = np.maximum(-32767, -31000 + (t % 500) * 7 - 2200 + ((t * t * 7919) % 61 - 30))
    b = np.maximum(-32767, -32600 + ((t * 104729) % 201 - 100) + 60 * ((t % 250) < 20))
    b[:30], b[n // 2 : n // 2 + 77] = -32768, -32768
    return Signal(np.column_stack([a, b]).astype(np.int64), 250.0, ["II", "V"], ["mV", "mV"],
                  adc_gain=[200.0, 200.0], baseline=[0, 0], fmt=["16", "16"])


def _check(sig: Signal, data: bytes, bound: float | None = None, max_error: float | None = None) -> None:
    """Each channel's invalid samples decode to -32768 and no other sample does; the others within the bound."""
    back = sancodec.decode(data).samples
    for ch in range(sig.n_channels):
        x, y = sig.samples[:, ch], back[:, ch]
        bad = x == -32768
        assert np.all(y[bad] == -32768), "a gap decoded as a value"
        assert not np.any(y[~bad] == -32768), "a valid sample decoded as a gap"
        if bound is not None and np.ptp(x[~bad]):
            assert prdn(x[~bad].astype(float), y[~bad].astype(float)) <= bound
        if max_error is not None:
            assert np.abs(y[~bad] - x[~bad]).max(initial=0) <= max_error


@pytest.mark.parametrize("effort", EFFORTS)
def test_a_lead_at_the_rail_decodes_no_valid_sample_as_a_gap(effort):
    sig = _railed()
    data = sancodec.encode(sig, mode="lossy", prdn=9, effort=effort)
    info = read_info(data)
    assert tuple(info["version"]) == (1, 16) and info["header"]["floor"] == -32767
    _check(sig, data, 9.0)


def test_near_lossless_keeps_a_records_invalid_samples_and_the_rest_off_them(tmp_path):
    """A WFDB record's invalid samples in near-lossless mode: coded as values (as before), their runs in the header's
    ``gaps`` so that they decode exactly, the others within the error and above the floor; ``SanWriter`` (what the
    CLI streams a format 16 record through) writes the same bytes as ``encode`` in memory."""
    sig = _railed()
    data = sancodec.encode(sig, mode="near-lossless", max_error=20)
    header = SanReader(data).header
    # (V lies within 20 of -32767 nowhere, 67 above it at least: no floor needed there)
    assert header["floor"] == [-32767, None] and header["gaps"] == [None, [-32768, [0, 30, 3000, 77]]]
    _check(sig, data, max_error=20)
    with SanWriter(tmp_path / "s.san", sig.slice(0, 1), "near-lossless", 20) as w:
        for lo in range(0, sig.n_samples, 1000):  # (a run across a block's end: 3000-3077 is within one)
            w.write(sig.samples[lo : lo + 1000])
    assert (tmp_path / "s.san").read_bytes() == data


def test_a_format_8_records_gaps_are_kept_without_a_floor_and_streamed_alike(tmp_path):
    """WFDB's format 8 stores differences: its -128 is a gap, but no bound on the other samples, so it gets no
    floor; its gaps' runs are kept all the same, by ``encode`` and by ``SanWriter`` alike."""
    t = np.arange(4000)
    x = (((t * 7919) % 101) - 50 + 40 * np.sin(t / 30)).astype(np.int64)
    x[100:140], x[2000:2003] = -128, -128
    sig = Signal(x[:, None], 250.0, ["II"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["8"])
    data = sancodec.encode(sig, mode="near-lossless", max_error=20)
    header = SanReader(data).header
    assert "floor" not in header and header["gaps"] == [[-128, [100, 40, 2000, 3]]]
    back = sancodec.decode(data).samples[:, 0]
    assert np.all(back[x == -128] == -128) and np.abs(back - x)[x != -128].max() <= 20
    with SanWriter(tmp_path / "s.san", sig.slice(0, 1), "near-lossless", 20) as w:
        for lo in range(0, len(x), 700):
            w.write(x[lo : lo + 700, None])
    assert (tmp_path / "s.san").read_bytes() == data


def test_a_channel_coded_exactly_in_every_frame_carries_neither_gaps_nor_floor():
    """At an error of 3, V's frames are all coded exactly (cheaper there): its samples, gaps included, decode as
    themselves, so its header entries would be bytes past lossless for nothing; II, coded within the error at the
    rail, keeps its floor."""
    sig = _railed()
    data = sancodec.encode(sig, mode="near-lossless", max_error=3)
    header = SanReader(data).header
    assert header["floor"] == [-32767, None] and "gaps" not in header
    _check(sig, data, max_error=3)
    assert np.array_equal(sancodec.decode(data).samples[:, 1], sig.samples[:, 1])


def _dropping(n: int, every: int) -> Signal:
    """One format 16 channel from integer formulas alone (a walk of scrambled steps) with a dropout to -32768 every
    ``every`` samples: each run costs a near-lossless file's header a few bytes, which no frame's fallback to exact
    coding weighs."""
    t = np.arange(n)
    x = np.cumsum((t * t * 7919 + t * 104729) % 81 - 40)
    x = (x - x.mean()).astype(np.int64)
    x[::every] = -32768
    return Signal(x[:, None], 360.0, ["ECG"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])


@pytest.mark.parametrize("n, every, e", [(4000, 6, 4), (5000, 8, 2)])
def test_near_lossless_with_a_dropout_every_few_samples_is_no_larger_than_lossless(n, every, e):
    """Its frames coded within the error saved fewer bytes than its runs took in the header (4324 and 5174 bytes
    before, against 3966 and 5134 lossless): the lossless file is returned, which decodes to the samples."""
    sig = _dropping(n, every)
    lossless = sancodec.encode(sig)
    near = sancodec.encode(sig, mode="near-lossless", max_error=e)
    assert len(near) <= len(lossless)
    assert SanReader(near).header["mode"] == "lossless"
    assert np.array_equal(sancodec.decode(near).samples, sig.samples)


def test_near_lossless_that_pays_for_its_runs_is_kept():
    sig = _dropping(5000, 10)
    near = sancodec.encode(sig, mode="near-lossless", max_error=4)
    header = SanReader(near).header
    assert header["mode"] == "near-lossless" and header["gaps"][0][0] == -32768
    assert len(near) < len(sancodec.encode(sig))
    _check(sig, near, max_error=4)


@pytest.mark.parametrize("every, e, written", [(6, 4, "lossless"), (10, 4, "near-lossless")])
def test_the_cli_streams_a_near_lossless_record_no_larger_than_lossless(tmp_path, every, e, written):
    """The CLI streams a format 16 record through ``SanWriter`` block by block; where the file it made holds runs
    that took it past lossless, it streams the record again losslessly and keeps that file, and says so."""
    from typer.testing import CliRunner

    from sancodec.cli import app
    from sancodec.io.wfdb import write_wfdb

    sig = _dropping(4000, every)
    write_wfdb(sig, tmp_path / "rec")
    runner = CliRunner()
    exact = runner.invoke(app, ["encode", str(tmp_path / "rec"), "-o", str(tmp_path / "l.san"), "-q"])
    res = runner.invoke(app, ["encode", str(tmp_path / "rec"), "-o", str(tmp_path / "n.san"), "--mode",
                              "near-lossless", "--max-error", str(e), "--json"])
    assert exact.exit_code == 0 and res.exit_code == 0, res.output
    assert json.loads(res.output)["mode"] == written
    data = (tmp_path / "n.san").read_bytes()
    assert len(data) <= (tmp_path / "l.san").stat().st_size and SanReader(data).header["mode"] == written
    assert data == sancodec.encode(read_signal(tmp_path / "rec"), mode="near-lossless", max_error=e)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.san", "n.san", "rec.dat", "rec.hea"]  # nothing left over


def test_the_floor_is_left_out_where_no_sample_can_reach_it():
    """A channel far above its format's bottom: its worst error (the error's norm at the PRDN achieved, or the
    near-lossless bound) cannot take a sample there, so the file carries no floor and keeps its minor version."""
    x = np.cumsum(np.random.default_rng(1).integers(-20, 21, (6000, 1)), axis=0)
    clean = Signal(x, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    for mode, options in (("lossy", {"prdn": 5}), ("near-lossless", {"max_error": 5})):
        data = sancodec.encode(clean, mode=mode, **options)
        assert "floor" not in SanReader(data).header and data[5] < 16
    assert needed_floors([-32767], [-32700.0], [60.0]) == [None]
    assert needed_floors([-32767], [-32700.0], [70.0]) == [-32767]
    assert needed_floors([-32767, None], [-32700.0, -32700.0], [None, None]) == [-32767, None]
    assert lossy_floors([-32767], [-32000.0], [100.0], [None]) == [-32767]  # (no PRDN: no bound)
    assert lossy_floors([-32767], [-32000.0], [10_000.0], [5.0]) == [None]
    assert lossy_floors([-32767], [-32000.0], [20_000.0], [5.0]) == [-32767]


def test_only_a_source_with_an_invalid_sample_below_its_values_has_a_floor():
    """WFDB formats by their bottom; format 8 (stored differences) has no bound there; an EDF source's -32768 is a
    value; a CSV's gaps are held as format 16's invalid sample."""
    x = np.zeros((10, 3), np.int64)
    wfdb = Signal(x, 250.0, ["a", "b", "c"], ["mV"] * 3, adc_gain=[200.0] * 3, baseline=[0] * 3,
                  fmt=["212", "8", "24"])
    assert floors(wfdb) == [-2047, None, -(1 << 23) + 1]
    edf = Signal(x[:, :1], 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"], source={"kind": "edf"})
    assert floors(edf) == [None]
    y = np.where(np.arange(400) % 97 < 3, np.nan, np.round(0.05 * np.sin(np.arange(400) / 9) - 327.62, 2))
    data = sancodec.encode(y, fs=250.0, mode="near-lossless", max_error=0.02)  # (2 units of 0.01; NaN as a CSV's
    # gaps)
    header = SanReader(data).header
    assert header["floor"] == -32767 and header["gaps"][0][0] == -32768
    back = sancodec.decode(data).physical().ravel()
    assert np.array_equal(np.isnan(back), np.isnan(y)) and np.nanmax(np.abs(back - y)) <= 0.02 + 1e-9


def test_the_format_1_16_golden_file():
    """The golden lossy file of a railed record (format 1.16): the encoder writes it byte for byte
    (``SANCODEC_REGENERATE_GOLDEN=1`` rewrites it), and its decode keeps the rail off the invalid sample."""
    sig = _railed()
    golden = encoded_as_golden(GOLDEN_FLOOR, sancodec.encode(sig, mode="lossy", effort="best", prdn=9))
    assert golden[4:6] == bytes([1, 16])
    _check(sig, golden, 9.0)


def test_every_way_of_reading_a_floored_file_gives_the_same_rows(tmp_path):
    sig = _railed()
    data = sancodec.encode(sig, mode="lossy", prdn=9, frame_len=512, effort="fast")
    whole = sancodec.decode(data).samples
    assert not np.any(whole[30:3000] == -32768)
    for lo, hi in [(0, 40), (29, 31), (700, 2600), (2999, 3078), (5990, 6000)]:
        assert np.array_equal(sancodec.decode(data, start=lo, end=hi).samples, whole[lo:hi])
    (tmp_path / "f.san").write_bytes(data)
    with sancodec.open(tmp_path / "f.san") as f:
        assert np.array_equal(f.read(2400, 3100), whole[2400:3100])
        assert np.array_equal(np.concatenate(list(f.blocks(333))), whole)
        f.check()


@pytest.mark.parametrize("effort", EFFORTS)
def test_a_long_railed_record_read_a_block_at_a_time_makes_the_same_file(monkeypatch, effort):
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 4096)
    sig = _railed(16384)
    x = sig.samples
    streamed = encode_lossy_blocks(sig.slice(0, 1), len(x),
                                   lambda rows: (x[i : i + rows] for i in range(0, len(x), rows)), prdn=9,
                                   frame_len=1024, effort=effort)
    assert streamed is not None and streamed == sancodec.encode(sig, mode="lossy", prdn=9, frame_len=1024,
                                                                effort=effort)
    assert read_info(streamed)["header"]["floor"] == -32767
    _check(sig, streamed, 9.0)


@pytest.mark.parametrize("entry, said", [
    ("x", "not a 32-bit integer"), ([1, 2, 3], "list of 2"), ([None], "list of 2"), (1 << 40, "32-bit"),
    ([True, None], "32-bit"), ([0.5, None], "32-bit"),
])
def test_a_hostile_floor_is_refused_by_every_reader(tmp_path, entry, said):
    """The golden floored file rewrapped with valid CRCs around a ``floor`` that is no floor: decode,
    ``sancodec.open`` and its check each refuse it in one SanFormatError."""
    golden = GOLDEN_FLOOR.read_bytes()
    bad = rewrap(golden, {**SanReader(golden).header, "floor": entry})
    with pytest.raises(SancodecError, match=said):
        sancodec.decode(bad)
    (tmp_path / "bad.san").write_bytes(bad)
    with pytest.raises(SancodecError, match=said):
        with SanFile(tmp_path / "bad.san") as f:
            f.check()
    assert parse_floors(None, 2) is None and parse_floors(-5, 2) == [-5, -5]


def test_a_lossless_file_with_a_floor_is_refused():
    """A floor moves samples: a lossless file that carries one (only a hostile one could) is refused, not decoded
    to other samples than it holds."""
    sig = _railed(2000)
    data = sancodec.encode(sig, mode="lossless")
    with pytest.raises(SancodecError, match="'floor' belongs to a lossy or near-lossless file"):
        sancodec.decode(rewrap(data, {**SanReader(data).header, "floor": -32767}))


@given(st.integers(0, 2**32 - 1), st.sampled_from(["lossy", "near-lossless"]), st.sampled_from(EFFORTS),
       st.sampled_from([1.0, 5.0, 9.0]))
@settings(max_examples=20, deadline=None)
def test_random_signals_at_the_rail_never_decode_a_valid_sample_as_a_gap(seed, mode, effort, target):
    """Random walks pressed against a random format's bottom (some saturated at the rail), with random dropouts,
    coded lossy at a PRDN target or near-lossless at an error: gaps back exactly, no other sample on the invalid
    value, each within its bound."""
    rng = np.random.default_rng(seed)
    fmt, bottom = [("16", -32768), ("212", -2048), ("80", -128)][int(rng.integers(0, 3))]
    n, c = int(rng.integers(300, 5000)), int(rng.integers(1, 3))
    walk = np.cumsum(rng.integers(-8, 9, (n, c)), axis=0) + 20 * np.sin(np.arange(n) / 7)[:, None]
    span = walk.max(axis=0) - walk.min(axis=0)
    scale = np.minimum(1.0, -bottom / np.maximum(span, 1))  # (within the lower half of the format's range)
    x = np.maximum(np.rint((walk - walk.min(axis=0)) * scale) + bottom + 1 - rng.integers(0, 30, c), bottom + 1)
    x = x.astype(np.int64)
    for ch in range(c):
        for _ in range(int(rng.integers(0, 3))):
            a = int(rng.integers(0, n))
            x[a : a + int(rng.integers(1, 100)), ch] = bottom
    sig = Signal(x, 250.0, [f"c{i}" for i in range(c)], ["mV"] * c, adc_gain=[200.0] * c, baseline=[0] * c,
                 fmt=[fmt] * c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SancodecWarning)
        if mode == "lossy":
            data = sancodec.encode(sig, mode="lossy", prdn=target, effort=effort)
        else:
            data = sancodec.encode(sig, mode="near-lossless", max_error=target)
    back = sancodec.decode(data).samples
    for ch in range(c):
        bad = x[:, ch] == bottom
        assert np.all(back[bad, ch] == bottom) and not np.any(back[~bad, ch] == bottom)
        if mode == "near-lossless":
            assert np.abs(back[~bad, ch] - x[~bad, ch]).max(initial=0) <= target
        elif np.ptp(x[~bad, ch]) > 0:
            assert prdn(x[~bad, ch].astype(float), back[~bad, ch].astype(float)) <= target + 1e-9


def test_info_says_which_samples_are_kept_above_their_gap_value():
    from typer.testing import CliRunner

    from sancodec.cli import app

    res = CliRunner().invoke(app, ["info", str(GOLDEN_FLOOR)], terminal_width=400)
    assert res.exit_code == 0, res.output
    assert "samples kept above" in res.output and "II: -32768; V: -32768" in res.output
