"""Lossy at a quality target: every channel meets it, on any signal; the decoder is exact and
refuses hostile wavelet frames."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from common import check_encode_decode, frame_of, rewrap, wavelet_head
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sancodec
from sancodec import SanConfigError, SanFormatError, Signal, read_signal
from sancodec.cli import app
from sancodec.codec import decode_file, read_info
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader, encode_arrays
from sancodec.codec.lossy import EFFORTS
from sancodec.codec.wavelet import band_lengths, forward, inverse, levels_for
from sancodec.codec.waveletframe import read_head
from sancodec.metrics import prdn, snr_db

DATA = Path(__file__).parent / "data"


@st.composite
def signals(draw):
    n = draw(st.integers(16, 3000))
    c = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["walk", "spikes", "sine", "noise", "steps"]))
    t = np.arange(n)[:, None]
    x = {"walk": lambda: rng.normal(size=(n, c)).cumsum(axis=0) * 5,
         "spikes": lambda: (rng.random((n, c)) > 0.98) * 500.0 + rng.normal(size=(n, c)),
         "sine": lambda: 300 * np.sin(2 * np.pi * t / rng.integers(5, 200)) + rng.normal(size=(n, c)) * 3,
         "noise": lambda: rng.normal(size=(n, c)) * 40,
         "steps": lambda: np.repeat(rng.integers(-100, 100, size=(n // 16 + 1, c)), 16, axis=0)[:n] * 1.0}[kind]()
    x = np.rint(x + draw(st.integers(-2000, 2000))).astype(np.int64)
    return Signal(x, 250.0, [f"c{i}" for i in range(c)], ["mV"] * c, adc_gain=[100.0] * c, baseline=[0] * c,
                  fmt=["32"] * c)


@settings(max_examples=60, deadline=None)
@given(signals(), st.sampled_from([0.5, 1.0, 2.0, 5.0, 9.0, 20.0]), st.sampled_from([64, 1024, 32768]),
       st.sampled_from(EFFORTS))
def test_every_channel_meets_the_prdn_target(sig, target, frame_len, effort):
    data = check_encode_decode(sig, mode="lossy", prdn=target, frame_len=frame_len, effort=effort)
    back = sancodec.decode(data)
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(sig.n_channels):
        got = prdn(sig.samples[:, ch], back.samples[:, ch])
        assert got <= target
        assert recorded[ch] is None or recorded[ch] == pytest.approx(got, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(signals(), st.sampled_from([0.25, 1.0, 3.0, 8.0]), st.sampled_from([64, 1024, 32768]),
       st.sampled_from(EFFORTS))
def test_a_byte_budget_records_the_prdn_it_decodes_to(sig, bps, frame_len, effort):
    """Bits-per-sample budgets on random signals (wavelets, the time domain, exact codings), at every effort: the
    PRDN each channel records is the one it decodes to, and no step of the search divides by zero."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        data = check_encode_decode(sig, mode="lossy", bps=bps, frame_len=frame_len, effort=effort)
    back = sancodec.decode(data)
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(sig.n_channels):
        got = prdn(sig.samples[:, ch], back.samples[:, ch])
        assert recorded[ch] is None or recorded[ch] == pytest.approx(got, abs=1e-5)


def test_rate_control_lands_close_to_the_target_not_far_below(mitdb_100, monkeypatch):
    """The wavelet coder's rate control (the time-domain alternative, which may land far below, is
    tested in test_lossy_timedomain.py)."""
    from sancodec.codec import timedomain

    monkeypatch.setattr(timedomain, "code_channel", lambda *args: None)
    sig = read_signal(mitdb_100).slice(0, 65536)
    for target in (1.0, 2.0, 5.0, 9.0):
        back = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=target))
        for ch in range(2):
            assert 0.9 * target <= prdn(sig.samples[:, ch], back.samples[:, ch]) <= target


def test_a_coarser_target_gives_a_smaller_file(mitdb_100):
    sig = read_signal(mitdb_100).slice(0, 65536)
    sizes = [len(sancodec.encode(sig, mode="lossy", prdn=p)) for p in (1, 2, 5, 9)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 2 * sizes[-1]


def test_snr_and_bits_per_sample_targets(mitdb_100):
    sig = read_signal(mitdb_100).slice(0, 65536)
    back = sancodec.decode(sancodec.encode(sig, mode="lossy", snr=30.0))
    for ch in range(2):
        assert snr_db(sig.samples[:, ch], back.samples[:, ch]) >= 30.0
    data = sancodec.encode(sig, mode="lossy", bps=1.5)
    assert 8 * len(data) / sig.samples.size <= 1.5 * 1.05  # the budget is per channel, before the header
    assert read_info(data)["header"]["lossy"]["target"] == {"bps": 1.5}


def test_a_byte_budget_keeps_the_coding_that_decodes_closer(mitdb_100, monkeypatch):
    """At a bits-per-sample target the plain coding and the beat template's each take the finest step that fits
    the budget, so both fill it: the one kept is the one with the lower PRDN, not the smaller file; on mitdb 100's
    MLII at 1 bit a sample, by the default effort and by balanced, the template's, 10 % or more closer."""
    from sancodec.codec import lossy
    from sancodec.codec.lossyrate import WaveletCoding

    target = lossy.LossyTarget(bps=1.0)
    closer, farther = WaveletCoding(None, 2.0, 3.0), WaveletCoding(None, 1.0, 4.0)
    assert lossy._kept(farther, closer, target) is closer and lossy._kept(closer, farther, target) is closer
    tie = WaveletCoding(None, 3.0, 3.0)
    assert lossy._kept(closer, tie, target) is closer and lossy._kept(tie, closer, target) is tie
    sig = read_signal(mitdb_100).slice(0, 65536).select_channels([0])
    x = sig.samples[:, 0]
    weighed = []

    def spied(a: WaveletCoding, b: WaveletCoding, aim: lossy.LossyTarget) -> WaveletCoding:
        weighed.append((a, b))
        return original(a, b, aim)

    original = lossy._kept
    monkeypatch.setattr(lossy, "_kept", spied)
    for effort in ("best", "balanced"):  # (balanced weighs the template at a budget too)
        weighed.clear()
        kept = prdn(x, sancodec.decode(sancodec.encode(sig, mode="lossy", bps=1.0, effort=effort)).samples[:, 0])
        (plain, templated), = weighed
        assert kept == pytest.approx(min(plain.prdn, templated.prdn), rel=1e-9)
        assert templated.prdn < 0.9 * plain.prdn  # the choice matters here: the template's decodes closer


def test_float_sources_meet_the_target_on_their_own_values():
    x = np.cumsum(np.random.default_rng(2).normal(size=(4000, 2)), axis=0) * [1.0, 1e-3]
    sig = Signal(x, 100.0, ["a", "b"], ["mV", "V"])
    back = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=2.0))
    for ch in range(2):
        assert prdn(x[:, ch], back.samples[:, ch]) <= 2.0


def test_multi_frequency_channels_meet_the_target_at_their_own_rate():
    sig = read_signal(DATA / "03700181_2000f")
    check_encode_decode(sig, mode="lossy", prdn=3.0)


def test_a_numpy_number_is_a_target_like_any_other():
    sig = read_signal(DATA / "test01_00s")
    plain = sancodec.encode(sig, mode="lossy", prdn=2.0, effort="fast")
    for target in (np.float32(2.0), np.float64(2.0), np.int64(2)):  # np.float32 had failed writing the header
        assert sancodec.encode(sig, mode="lossy", prdn=target, effort="fast") == plain


@pytest.mark.parametrize("options", [{}, {"prdn": 1, "snr": 20}, {"prdn": -1}, {"prdn": float("nan")},
                                     {"prdn": 2e6}, {"bps": 1e9}, {"snr": 1e9}, {"snr": -1e9}, {"snr": -81},
                                     {"prdn": "2"}, {"snr": True}, {"bps": [1.0]}])
def test_lossy_needs_exactly_one_valid_target(options):
    sig = read_signal(DATA / "test01_00s")
    with pytest.raises(SanConfigError, match="target"):
        sancodec.encode(sig, mode="lossy", **options)
    with pytest.raises(SanConfigError, match="targets of lossy mode"):
        sancodec.encode(sig, mode="lossless", prdn=2)


@pytest.mark.parametrize(("options", "named"), [
    ({"mode": "lossless", "prdn": 2}, "prdn (--prdn)"), ({"mode": "lossless", "effort": "fast"}, "effort (--effort)"),
    ({"mode": "lossy", "prdn": 2, "effort": "quick"}, "effort (--effort)"),
    ({"mode": "near-lossless", "max_error": -1}, "max_error (--max-error)"),
    ({"mode": "lossless", "max_error": 1}, "max_error (--max-error)"),
    ({"mode": "lossy", "prdn": -1}, "prdn (--prdn)"), ({"mode": "lossy", "prdn": "2"}, "prdn (--prdn)"),
    ({"mode": "lossy", "snr": 1e9}, "snr (--snr)"), ({"mode": "lossy", "snr": float("inf")}, "snr (--snr)"),
    ({"mode": "lossy", "bps": 1e9}, "bps (--bps)"), ({"mode": "lossy", "bps": 0}, "bps (--bps)")])
def test_an_option_refused_is_named_as_the_caller_gave_it(options, named):
    """The library's errors name an option as a Python caller spells it and as the CLI does: a caller of
    ``sancodec.encode`` passed ``max_error``, not ``--max-error``."""
    sig = read_signal(DATA / "test01_00s")
    with pytest.raises(SanConfigError) as caught:
        sancodec.encode(sig, **options)
    assert named in str(caught.value)


def test_cli_encode_shows_the_target_and_what_was_achieved(tmp_path):
    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", "--prdn", "2",
                                   "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["target"] == {"prdn": 2.0} and len(summary["prdn_per_channel"]) == 4
    assert all(p <= 2.0 for p in summary["prdn_per_channel"])
    res = CliRunner().invoke(app, ["info", str(tmp_path / "test01_00s.san")])
    assert "target PRDN 2 %" in res.stdout
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", "--bps", "1.5", "-f",
                                   "--json"])
    spent = json.loads(res.stdout)["bits_per_sample_per_channel"]  # the budget is each channel's, header apart
    assert len(spent) == 4 and all(1.2 < b <= 1.5 for b in spent)
    for bad in (["--snr", "1e9"], ["--snr", "-1e9"], ["--prdn", "2e6"], ["--bps", "1e9"]):  # were a math error,
        # an overflow and a header's complaint
        res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", *bad, "-f"])
        assert res.exit_code != 0 and len(res.output.strip().splitlines()) == 1, res.output
        option = bad[0].lstrip("-")
        assert f"the lossy target {option} ({bad[0]}) must be" in res.output and "unexpected" not in res.output
    for edge in (["--snr", "1000"], ["--snr", "-80"], ["--prdn", "1e6"]):  # the ends of the ranges still code
        res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", *edge, "-f"])
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", "--bps", "1.5", "-f"])
    assert "bits/sample spent" in res.stdout and res.stdout.count("% at") == 4
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "test01_00s"), "--mode", "lossy", "-f"])
    assert res.exit_code == 2 and "--prdn" in res.stderr


def test_the_wavelet_is_invertible_for_every_length():
    for n in (2, 3, 5, 16, 17, 63, 1000, 4097):
        x = np.random.default_rng(n).normal(size=n) * 100
        levels = levels_for(n, 7)
        bands = forward(x, levels)
        assert [len(b) for b in bands] == band_lengths(n, levels)
        np.testing.assert_allclose(inverse(bands), x, atol=1e-9)


# ------------------------------------------------------------------ hostile wavelet frames
def _wavelet_file() -> bytes:
    sig = read_signal(DATA / "test01_00s").slice(0, 256).select_channels([0])
    return sancodec.encode(sig, mode="lossy", prdn=5.0, frame_len=256)


def _frame(delta: float = 1.0, levels: int = 7, rho: int = 8, values: float = 1.0, n: int = 256,
           offset: int = 0) -> bytes:
    w = wavelet_head(delta, levels, 0, offset, rho)  # no beat template
    lengths = band_lengths(n, levels_for(n, levels))
    w.varint((1 << len(lengths)) - 1)  # every band contextual
    streams = [np.full(m, values, dtype=np.int64) for m in lengths]
    w.raw(encode_arrays(streams, [True] * len(streams)))
    return frame_of([w.getvalue()])


def test_a_well_formed_hand_made_wavelet_frame_decodes():
    base = _wavelet_file()
    assert decode_file(rewrap(base, frames=[_frame()])).signal.samples.shape == (256, 1)


@pytest.mark.parametrize(("frame", "match"), [
    (_frame(delta=0.0), "step"), (_frame(delta=float("inf")), "step"), (_frame(delta=-1.0), "step"),
    (_frame(levels=12), "levels"), (_frame(levels=40), "limit"), (_frame(rho=17), "limit"),
    (_frame(values=2.0**50, delta=1e6), "2\\*\\*53"), (_frame(offset=1 << 60), "limit"),
    # the dequantiser's other branch (a reconstruction point off the centre), up to values that overflow to inf
    (_frame(values=2.0**50, delta=1e6, rho=3), "2\\*\\*53"), (_frame(values=2.0**62, delta=3e38, rho=15), "2\\*\\*53"),
])
def test_hostile_wavelet_frames_are_refused(frame, match):
    with pytest.raises(SanFormatError, match=match):
        decode_file(rewrap(_wavelet_file(), frames=[frame]))


def test_a_wavelet_frame_in_a_lossless_file_is_refused():
    lossless = sancodec.encode(read_signal(DATA / "test01_00s").slice(0, 256).select_channels([0]),
                               mode="lossless", frame_len=256)
    with pytest.raises(SanFormatError, match="lossy"):
        decode_file(rewrap(lossless, frames=[_frame()]))


def test_the_header_records_what_the_file_promises():
    head = SanReader(_wavelet_file()).header
    assert head["mode"] == "lossy" and head["lossy"]["target"] == {"prdn": 5.0}


@pytest.mark.parametrize("name", sorted({p.stem for p in DATA.glob("*.hea")} - {"flac_3_constant"}) + ["mitdb"])
def test_near_lossless_is_never_larger_than_lossless(name, mitdb_100):
    """Per frame and channel the encoder falls back to exact coding where it is smaller (issue 13)."""
    sig = read_signal(mitdb_100).slice(0, 100_000) if name == "mitdb" else read_signal(DATA / name)
    lossless = len(sancodec.encode(sig, mode="lossless"))
    for e in (1, 3):
        near = sancodec.encode(sig, mode="near-lossless", max_error=e)
        assert len(near) <= lossless, f"E = {e}: {len(near)} > {lossless}"
        assert np.abs(sancodec.decode(near).samples - sig.samples).max() <= e


@pytest.mark.parametrize("n", [1, 2, 17])
def test_tiny_and_constant_signals_code_at_any_target(n):
    for x in (np.arange(n) % 5, np.full(n, 7)):
        sig = Signal(x.astype(np.int64)[:, None], 10.0, ["a"], ["NU"])
        for target in ({"prdn": 0.01}, {"prdn": 500.0}, {"bps": 0.01}):
            sancodec.decode(sancodec.encode(sig, mode="lossy", **target))


def test_float_values_too_large_for_any_grid_are_refused_with_the_mode_s_reason():
    offset = 1e6 + 1e-9 * np.random.default_rng(0).normal(size=(200, 1))  # an offset 10^15 times its spread
    with pytest.raises(SanConfigError, match="too large for their spread"):  # it used to blame --max-error None
        sancodec.encode(Signal(offset, 100.0, ["a"], ["V"]), mode="lossy", prdn=2)
    huge = Signal(np.full((200, 1), 1e300), 100.0, ["a"], ["V"])
    with pytest.raises(SanConfigError, match=r"max_error \(--max-error\) 1 is too fine"):
        sancodec.encode(huge, mode="near-lossless", max_error=1)


def test_a_near_lossless_grid_too_fine_for_the_coding_s_room_says_what_may_fit():
    """Floats of ±10^12 at max_error 10^-4 lie within 2^53 on its grid (5 * 10^15), so the grid is taken, but the
    frame's coding needs room past that which the decoder's checks refuse: the refusal named only a frame's sample or
    value-table entry past 2^53; it says now what may fit."""
    x = np.tile([1e12, -1e12, 0.5], 40)[:, None]
    with pytest.raises(SanConfigError, match=r"come near 2\*\*53; a coarser max_error \(--max-error\)"):
        sancodec.encode(x, fs=1, mode="near-lossless", max_error=1e-4)
    back = sancodec.decode(sancodec.encode(x, fs=1, mode="near-lossless", max_error=1e-2)).samples
    assert np.abs(back - x).max() <= 1e-2


def test_a_flat_float_channel_codes_lossy_and_decodes_to_its_value(tmp_path):
    """A channel that holds one float throughout (a lead off at 0.1 mV, a CSV's column of 0.100) beside a varying
    one codes at every kind of target and decodes to that very value: its grid had been 1 (0.1 decoded as 0, a
    PRDN of inf, the file refused) or a rounding's spread (0.1's mean is not 0.1: "too large for their spread")."""
    wave = np.sin(np.arange(1000) / 10)
    for value in (0.1, 3.25, -7.3e-5, 1e300, 5e-324, 0.0):
        sig = Signal(np.column_stack([np.full(1000, value), wave]), 100.0, ["flat", "wave"], ["mV", "mV"])
        for target in ({"prdn": 2}, {"snr": 30}, {"bps": 0.5}):
            back = sancodec.decode(sancodec.encode(sig, mode="lossy", **target)).samples
            assert np.all(back[:, 0] == value), (value, target)
    src = tmp_path / "flat.csv"
    src.write_text("time,ecg,flat\n" + "".join(f"{i / 250:.3f},{np.sin(i / 40):.3f},0.100\n" for i in range(2000)))
    res = CliRunner().invoke(app, ["encode", str(src), "-o", str(tmp_path / "flat.san"), "--mode", "lossy",
                                   "--prdn", "2"])
    assert res.exit_code == 0, res.output
    assert np.all(sancodec.decode((tmp_path / "flat.san").read_bytes()).samples[:, 1] == 0.1)
    res = CliRunner().invoke(app, ["decode", str(tmp_path / "flat.san"), "-o", str(tmp_path / "w"), "--format", "wfdb"])
    assert res.exit_code == 0, res.output  # the flat channel's grid of 0.1 is a WFDB gain of 10
    assert np.all(read_signal(tmp_path / "w").physical()[:, 1] == 0.1)
    tiny = Signal(np.column_stack([np.full(1000, 5e-324), wave]), 100.0, ["flat", "wave"], ["mV", "mV"])
    (tmp_path / "tiny.san").write_bytes(sancodec.encode(tiny, mode="lossy", prdn=2))
    for out in ("t", "t.edf"):  # a grid of 5e-324 has no gain: one line, no overflow warning
        res = CliRunner().invoke(app, ["decode", str(tmp_path / "tiny.san"), "-o", str(tmp_path / out), "--format",
                                       "wfdb" if out == "t" else "edf"])
        assert res.exit_code == 2 and "has no gain WFDB and EDF can hold" in res.output, res.output


def test_large_integers_and_tiny_floats_meet_fine_targets():
    """The decoder's overflow check does not refuse honest large values, and a float source's
    grid follows the target (it does not floor the PRDN at the default std / 1024)."""
    big = Signal((np.arange(5000) % 97 * (1 << 40)).astype(np.int64)[:, None], 100.0, ["a"], ["NU"])
    back = sancodec.decode(sancodec.encode(big, mode="lossy", prdn=0.001))
    assert prdn(big.samples[:, 0], back.samples[:, 0]) <= 0.001
    tiny = np.random.default_rng(0).normal(size=3000) * 1e-9
    sig = Signal(tiny[:, None], 100.0, ["a"], ["V"])
    assert prdn(tiny, sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=0.001)).samples[:, 0]) <= 0.001


def test_report_draws_the_rate_distortion_curve(tmp_path, monkeypatch):
    """``report --rd-curve``: the curves and this file's point, at channel 0's PRDN as the report measured it (the
    file is not decoded whole a second time for it)."""
    import json

    import matplotlib.axes

    import sancodec.codec

    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    rec = tmp_path / "test01_00s"
    png = tmp_path / "rd.png"
    points, decodes = [], []
    real_plot, real_decode = matplotlib.axes.Axes.plot, sancodec.codec.decode_file
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda self, *a, **k: points.append((a, k)) or
                        real_plot(self, *a, **k))
    monkeypatch.setattr(sancodec.codec, "decode_file", lambda *a, **k: decodes.append(a) or real_decode(*a, **k))
    res = CliRunner().invoke(app, ["report", str(rec), "--mode", "lossy", "--prdn", "2", "--rd-curve", str(png),
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    here = [a for a, k in points if str(k.get("label", "")).startswith("this file (lossy")]
    assert len(here) == 1 and here[0][0] == [json.loads(res.stdout)["prdn_per_channel"][0]] and not decodes
    res = CliRunner().invoke(app, ["report", str(rec), "--rd-curve", str(png)])
    assert res.exit_code == 2 and "--force" in res.stderr


def test_the_rate_distortion_star_counts_this_file_as_the_curves_count_theirs(tmp_path, monkeypatch):
    """A one-channel lossy file's star is its whole file's bits per sample, as the sancodec curve's points are
    (each a one-channel file, header included): a 5000-row CSV's star took channel 0's bits header apart, 0.31 bits
    a sample against the curve's 0.57 at the same PRDN, and looked to beat both curves."""
    import json

    import matplotlib.axes

    t = np.arange(5000) / 250
    x = np.round(np.sin(2 * np.pi * 1.2 * t) + 0.01 * np.random.default_rng(0).normal(size=5000), 4)
    csv = tmp_path / "one.csv"
    np.savetxt(csv, np.c_[t, x], delimiter=",", header="time,ecg", comments="", fmt=["%.3f", "%.4f"])
    points = []
    real_plot = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda self, *a, **k: points.append((a, k)) or
                        real_plot(self, *a, **k))
    res = CliRunner().invoke(app, ["report", str(csv), "--mode", "lossy", "--prdn", "2", "--rd-curve",
                                   str(tmp_path / "rd.png"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    star = [a for a, k in points if str(k.get("label", "")).startswith("this file (lossy")][0]
    assert star[1] == [pytest.approx(8 * report["san_bytes"] / 5000)]
    curve = [a for a, k in points if k.get("label") == "sancodec lossy (--prdn)"][0]
    at_two = [b for p, b in zip(curve[0], curve[1]) if abs(p - star[0][0]) < 1e-6]  # (PRDN 2: the same coding)
    assert at_two == [pytest.approx(star[1][0])]


def test_report_shows_the_rate_distortion_curves_progress_on_a_terminal(tmp_path, monkeypatch):
    """``report --rd-curve`` codes channel 0 some eighteen times (minutes on a day's record): a terminal is shown
    each step, on report's progress console (stderr), and the JSON on stdout stays JSON."""
    import io
    import json

    from rich.console import Console

    from sancodec.cli import codec_commands

    for f in DATA.glob("test01_00s.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    assert codec_commands.progress_console.stderr  # (where the real one writes)
    shown = io.StringIO()
    monkeypatch.setattr(codec_commands, "progress_console", Console(file=shown, force_terminal=True, width=150))
    res = CliRunner().invoke(app, ["report", str(tmp_path / "test01_00s"), "--mode", "lossy", "--prdn", "2",
                                   "--rd-curve", str(tmp_path / "rd.png"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["mode"] == "lossy"
    said = shown.getvalue()
    assert "encoding 4000 x 4 samples" in said and "rate-distortion curve, channel 0: done" in said


def test_rd_curves_progress_counts_the_steps_a_float_signal_takes():
    """Floats have no near-lossless bound, lossless coding or reference wavelet curve: their steps are the lossy
    targets and the tools, and the progress counts those."""
    from sancodec.rd import LOSSY_TARGETS, rd_curves, rd_steps

    x = np.sin(np.arange(4000) / 10.0)[:, None] + np.random.default_rng(0).normal(size=(4000, 1)) * 0.01
    sig = Signal(x, 250.0, ["a"], ["mV"])
    calls = []
    curves = rd_curves(sig, 0, progress=lambda *call: calls.append(call))
    assert len(rd_steps(sig)) == len(LOSSY_TARGETS) + 1 == calls[-1][2]
    assert [done for _, done, _ in calls] == list(range(len(LOSSY_TARGETS) + 2)) and not curves.near_lossless


def test_rd_curves_of_decimals_draw_the_wavelet_coder_on_their_grid():
    """A CSV's millivolts to the microvolt are integers on their decimal grid: the curve has the reference wavelet
    coder's points (made on those integers: PRDN takes no account of the unit) and sancodec's lossless coding, not
    the near-lossless bounds (digital units the floats have none of)."""
    from sancodec import refwavelet
    from sancodec.rd import LOSSY_TARGETS, rd_curves, rd_steps

    values = np.round(read_signal(DATA / "test01_00s").physical()[:, :1], 3)  # (on a grid of 0.01 mV, as it is)
    assert np.array_equal(np.round(values * 100) / 100, values) and not np.array_equal(np.round(values * 10) / 10,
                                                                                       values)
    sig = Signal(values, 500.0, ["ECG"], ["mV"])
    assert not sig.is_digital
    calls = []
    curves = rd_curves(sig, 0, progress=lambda *call: calls.append(call))
    assert len(rd_steps(sig)) == len(LOSSY_TARGETS) + 3 == calls[-1][2] and not curves.near_lossless
    assert curves.wavelet and curves.wavelet == refwavelet.curve(np.rint(values[:, 0] * 100))
    assert 0 < curves.lossless["sancodec lossless"] < curves.lossless["gzip -9"]
    fine = Signal(np.round(values + (np.arange(len(values)) % 3)[:, None] * 1e-8, 8), 500.0, ["ECG"], ["mV"])
    assert len(rd_curves(fine, 0).wavelet) >= 10  # (integers near 10^7: refwavelet's steps scaled to reach them)
    noise = Signal(values + np.random.default_rng(1).normal(size=values.shape) * 1e-7, 500.0, ["ECG"], ["mV"])
    assert not rd_curves(noise, 0).wavelet  # (floats on no decimal grid: none)


def test_rd_curves_are_measured_points():
    from sancodec.rd import LOSSY_TARGETS, NEAR_LOSSLESS_ERRORS, rd_curves

    calls = []
    curves = rd_curves(read_signal(DATA / "test01_00s"), 0, progress=lambda *call: calls.append(call))
    total = len(LOSSY_TARGETS) + len(NEAR_LOSSLESS_ERRORS) + 3  # lossless, the wavelet coder's curve, the tools
    assert [done for _, done, _ in calls] == list(range(total + 1)) and {t for *_, t in calls} == {total}
    assert calls[0][0] == "lossy at PRDN 0.5 %" and calls[-2][0].startswith("gzip") and calls[-1][0] == "done"
    assert len(curves.lossy) == len(LOSSY_TARGETS)
    assert all(p <= t for (p, _), t in zip(curves.lossy, LOSSY_TARGETS))
    rates = [b for _, b in curves.lossy]
    assert rates == sorted(rates, reverse=True)  # coarser targets never cost more bits
    assert curves.lossless["sancodec lossless"] < curves.lossless["gzip -9"]
    wavelet = sorted(curves.wavelet)  # the reference wavelet coder, drawn beside sancodec
    assert len(wavelet) >= 5 and all(0.2 <= p <= 40 for p, _ in wavelet)
    assert [b for _, b in wavelet] == sorted((b for _, b in wavelet), reverse=True)
    for p, b in curves.lossy:  # sancodec's lossy mode at least matches it at PRDN up to 3 % (past it, on
        if wavelet[0][0] <= p <= 3.0:  # this 8-s record, the file's header and WFDB metadata start to weigh)
            assert b <= np.interp(np.log(p), np.log([q for q, _ in wavelet]), [r for _, r in wavelet])


def _beats_file() -> bytes:
    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 20000).select_channels([0])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert b"\x03" in data
    return data


def _template_part(m: int = 5, anchor: int = 2, gaps=(10, 50), gains=(1, 1), t8=(1, 2, 3, 2, 1), n: int = 20000,
                   predictor: int = 1, shift: int | None = None):
    """A wavelet frame with a beat template (``predictor`` 5: ``gaps`` hold the gaps' differences, 1.5;
    ``shift``: written after the count, ``t8`` being the stored taps, as predictor bit 3 asks, 1.7)."""
    w = wavelet_head(1.0, levels_for(n, 7), predictor)
    w.varint(m)
    w.varint(anchor)
    w.varint(len(gaps))
    if shift is not None:
        w.varint(shift)
    block = encode_arrays([np.diff(np.array(t8), prepend=0), np.array(gaps), np.array(gains) - 64],
                          [False, False, False])
    w.varint(len(block))
    w.raw(block)
    lengths = band_lengths(n, levels_for(n, 7))
    w.varint(0)
    w.raw(encode_arrays([np.zeros(k, np.int64) for k in lengths], [False] * len(lengths)))
    return frame_of([w.getvalue()])


def test_the_beat_template_is_used_where_it_pays_and_decodes_exactly(monkeypatch):
    from sancodec.codec import lossy, timedomain
    from sancodec.codec.lossy import LossyTarget, encode_channel
    from sancodec.codec.lossyrate import Prepared, rate_control

    monkeypatch.setattr(timedomain, "code_channel", lambda *args: None)  # wavelet codings only
    monkeypatch.setattr(lossy, "QUANTISERS", ())  # the default quantiser only: plain coding is one coding

    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 65536)
    x = sig.samples[:, 0]
    target = LossyTarget(prdn=9.0)
    chosen = encode_channel([x], x.astype(float), target, sig.fs).payloads
    plain = rate_control(Prepared([x], [None]), x.astype(float), target).payloads()
    assert len(chosen[0]) < 0.8 * len(plain[0])  # kept because it pays
    noise = np.random.default_rng(0).normal(size=65536).round().astype(np.int64) * 40
    kept = encode_channel([noise], noise.astype(float), target, 360.0).payloads
    plain_noise = rate_control(Prepared([noise], [None]), noise.astype(float), target).payloads()
    head = ByteReader(kept[0])
    head.varint()
    assert not read_head(head, len(noise)).predictor & 1  # no beats: no template (other levels may still pay)
    assert len(kept[0]) <= len(plain_noise[0])
    back = sancodec.decode(sancodec.encode(sig, mode="lossy", prdn=9.0))
    for ch in range(2):
        assert prdn(sig.samples[:, ch], back.samples[:, ch]) <= 9.0
    hand = decode_file(rewrap(_beats_file(), frames=[_template_part()])).signal.samples[:, 0]
    assert hand[10 - 2 : 10 + 3].tolist() == [0, 0, 0, 0, 0]  # (1 * t8 / 512) rounds to 0 with Δ = 1, offset 0
    big = decode_file(rewrap(_beats_file(), frames=[_template_part(gains=(512, 1024), t8=(8, 16, 24, 16, 8))]))
    assert big.signal.samples[8:13, 0].tolist() == [8, 16, 24, 16, 8]  # 512 * 8 / 512 = 8 ...
    # format 1.5: the same beats with their gaps (10, 50) stored as differences (10, 40) decode the same
    second = _template_part(gains=(512, 1024), t8=(8, 16, 24, 16, 8), gaps=(10, 40), predictor=5)
    np.testing.assert_array_equal(decode_file(rewrap(_beats_file(), frames=[second])).signal.samples,
                                  big.signal.samples)
    # format 1.7: taps (1, 2, 3, 2, 1) stored with shift 3 are (8, 16, 24, 16, 8)
    shifted = _template_part(gains=(512, 1024), gaps=(10, 40), predictor=5 | 8, shift=3)
    np.testing.assert_array_equal(decode_file(rewrap(_beats_file(), frames=[shifted])).signal.samples,
                                  big.signal.samples)


@pytest.mark.parametrize(("part", "match"), [
    (_template_part(m=0, t8=()), "empty"), (_template_part(anchor=5), "limit"),
    (_template_part(gaps=(10, 0)), "increasing"), (_template_part(gaps=(19999, 5)), "increasing"),
    (_template_part(gains=(2**41, 1)), "too large"), (_template_part(t8=(2**40, 0, 0, 0, -(2**40))), "too large"),
    (_template_part(gains=(2**30, 1), t8=(2**24, 0, 0, 0, 0)), "2\\*\\*53"),
    (_template_part(gaps=(10, -10), predictor=5), "increasing"),  # differences: gaps 10, 0
    (_template_part(gaps=(10, 2**62, -(2**62)), gains=(1, 1, 1), predictor=5), "increasing"),  # would wrap
    (_template_part(predictor=8), "without a beat template"),
    (_template_part(predictor=9, shift=0), "shift 0"), (_template_part(predictor=9, shift=33), "limit"),
    (_template_part(predictor=9, shift=32, t8=(2**9, 0, 0, 0, 0)), "too large"),  # 2**41: past the bound
    (_template_part(predictor=9, shift=32, t8=(2**31, 0, 0, 0, 0)), "too large"),  # 2**63: would wrap int64
    (_template_part(gains=(2**30, 1), t8=(1, 0, 0, 0, 0), predictor=9, shift=24), "2\\*\\*53"),
])
def test_hostile_beat_templates_are_refused(part, match):
    with pytest.raises(SanFormatError, match=match):
        decode_file(rewrap(_beats_file(), frames=[part]))


@pytest.mark.parametrize("seed, target", [(317, 20.0), (1020, 0.5), (1034, 2.0), (1202, 2.0)])
def test_the_recorded_prdn_is_what_the_file_decodes_to(seed, target):
    """Rate control measures the reconstruction with the float32 step the file stores (it used the
    float64 step, and recorded PRDNs drifted from the decoded ones by up to 1e-3; found by hypothesis)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(16, 3000))
    t = np.arange(n)[:, None]
    kind = ["walk", "spikes", "sine", "noise", "steps"][seed % 5]
    x = {"walk": lambda: rng.normal(size=(n, 1)).cumsum(axis=0) * 5,
         "spikes": lambda: (rng.random((n, 1)) > 0.98) * 500.0 + rng.normal(size=(n, 1)),
         "sine": lambda: 300 * np.sin(2 * np.pi * t / rng.integers(5, 200)) + rng.normal(size=(n, 1)) * 3,
         "noise": lambda: rng.normal(size=(n, 1)) * 40,
         "steps": lambda: np.repeat(rng.integers(-100, 100, size=(n // 16 + 1, 1)), 16, axis=0)[:n] * 1.0}[kind]()
    x = np.rint(x + rng.integers(-2000, 2000)).astype(np.int64)
    sig = Signal(x, 250.0, ["c0"], ["mV"], adc_gain=[100.0], baseline=[0], fmt=["32"])
    data = sancodec.encode(sig, mode="lossy", prdn=target, frame_len=32768)
    recorded = read_info(data)["header"]["lossy"]["prdn"][0]
    got = prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0])
    assert got <= target and recorded == pytest.approx(got, abs=1e-6)



def test_a_budget_looser_than_the_exact_coding_gets_the_exact_coding_and_one_too_tight_is_said(tmp_path):
    """A bits-per-sample budget above what the lossless coder needs had the wavelets spend all of it on a decode as
    exact as the lossless coder's (a 999-sample record at 20 bits a sample: 5839 bytes against 1223; mitdb 100 at
    10: 1.6 MB against 0.55 MB): at the same error the fewer bytes are kept now. A budget below the smallest coding
    (a short record's fixed costs) is still spent past, and now said, a warning a channel."""
    sig = read_signal(DATA / "100_3chan")
    exact = len(sancodec.encode(sig))
    for effort in ("best", "balanced"):
        data = sancodec.encode(sig, mode="lossy", bps=20, effort=effort)
        assert len(data) < 1.1 * exact and np.array_equal(sancodec.decode(data).samples, sig.samples)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sancodec.encode(sig, mode="lossy", bps=0.001, effort="fast")
    said = [str(w.message) for w in caught if w.category is sancodec.SancodecWarning]
    assert len(said) == 3 and all("past the budget of 0.001" in m for m in said)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sancodec.SancodecWarning)
        sancodec.encode(sig, mode="lossy", bps=4, effort="fast")  # within it: nothing said
