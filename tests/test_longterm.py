"""Long-term (beat-to-beat) prediction of lossless residuals (format 1.4, codec.longterm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import expected_minor, needs_c, numpy_only

import sancodec
from sancodec.codec import adaptive, kernels
from sancodec.codec.api import decode_file
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.longterm import LIMIT, LongTerm, find_long_term, read_long_term
from sancodec.errors import SanFormatError


def _beats(n: int = 30000, period: int = 300, seed: int = 0) -> np.ndarray:
    """A residual with a burst every ``period`` samples (jittered) on small noise, like an ECG's."""
    rng = np.random.default_rng(seed)
    o = rng.integers(-3, 4, n)
    burst = np.array([0, 4, 15, 60, -120, 90, -30, 8, 0]) * 3
    for p in np.arange(200, n - 20, period) + rng.integers(-3, 4, len(range(200, n - 20, period))):
        o[p : p + len(burst)] += burst
    return o.astype(np.int64)


def test_the_beats_of_a_burst_train_are_found_and_the_prediction_inverts():
    o = _beats()
    found = find_long_term(o)
    assert found is not None and (found.gains > 0).sum() > 80
    o2 = found.predicted(o)
    assert np.abs(o2).sum() < 0.6 * np.abs(o).sum()
    assert np.array_equal(found.restore(o2), o)
    w = ByteWriter()
    found.write(w)
    back = read_long_term(ByteReader(w.getvalue()), len(o))
    assert all(np.array_equal(getattr(back, f), getattr(found, f)) for f in ("positions", "shifts", "gains"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_beats_are_the_same_with_and_without_the_compiled_kernels(seed, monkeypatch):
    """The beats picked on the envelope in one compiled pass are those numpy's greedy peaks keep: the same
    positions, shifts and gains (a frame codes alike on an install without a C compiler)."""
    o = _beats(20000 + 3000 * seed, 250 + 40 * seed, seed)
    compiled = find_long_term(o)
    numpy_only(monkeypatch)
    reference = find_long_term(o)
    assert compiled is not None and reference is not None
    assert all(np.array_equal(getattr(compiled, f), getattr(reference, f)) for f in ("positions", "shifts", "gains"))


@needs_c
@pytest.mark.parametrize("period", [40, 300, 1000, 3990])  # windows of 6, 45, 150 and 597 samples: every branch of
def test_the_compiled_fit_gives_numpy_s_shifts_and_gains(period, monkeypatch):  # numpy's pairwise sum
    """``longterm._fit`` in one compiled pass (``kernels.ltp_fit``) picks numpy's shift and gain for every beat, to
    the last one: its sums are numpy's pairwise sums in numpy's order, on beats alike and unlike, samples small and
    near the 2^36 the envelope allows."""
    from sancodec.codec import longterm

    rng = np.random.default_rng(period)
    before, after = max(1, period // 20), max(2, period // 10)
    compiled, reference = [], []
    cases = []
    for scale in (3.0, 2000.0, 2.0**34):
        n = 40 * period
        shape = rng.standard_normal(period) * scale
        o = np.rint(np.resize(shape, n) * rng.uniform(0.3, 1.7) + rng.standard_normal(n) * scale / 4).astype(np.int64)
        positions = np.sort(rng.choice(np.arange(period, n - period), 30, replace=False)).astype(np.int64)
        positions = np.unique(np.concatenate([positions, np.arange(period // 2, n - period, period)]))
        cases.append((o, positions))
        compiled.append(longterm._fit(o, positions, before, after))
    numpy_only(monkeypatch)
    for o, positions in cases:
        reference.append(longterm._fit(o, positions, before, after))
    for (s1, g1), (s2, g2) in zip(compiled, reference):
        assert np.array_equal(s1, s2) and np.array_equal(g1, g2)
    assert sum(int((g > 0).sum()) for _, g in reference) > 20  # beats were predicted, not all left out


@needs_c
def test_the_compiled_fit_refuses_a_window_outside_the_block():
    o = np.zeros(100, dtype=np.int64)
    with pytest.raises(ValueError, match="leaves the block"):
        kernels.ltp_fit(o, np.array([97]), np.array([50]), 5, 10, range(-1, 2), 15)
    with pytest.raises(ValueError, match="leaves the block"):
        kernels.ltp_fit(o, np.array([60]), np.array([5]), 5, 10, range(-1, 2), 15)
    shift, gain = kernels.ltp_fit(o, np.array([60]), np.array([30]), 5, 10, range(-1, 2), 15)
    assert shift.tolist() == [-1] and gain.tolist() == [0]  # all-zero windows: every error 0, the first shift kept


def test_noise_without_beats_gets_no_long_term_prediction():
    assert find_long_term(np.random.default_rng(1).integers(-500, 500, 30000)) is None
    assert find_long_term(_beats(1000)) is None  # too short to pay for its side information


@pytest.mark.parametrize("compiled", [True, False])
def test_the_compiled_and_python_restorations_agree_and_refuse_growth(compiled, monkeypatch):
    if compiled and not kernels.COMPILED:
        pytest.skip("nothing compiled")
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
        monkeypatch.setattr(kernels, "COMPILED", False)
    o = _beats(seed=2)
    found = find_long_term(o)
    assert found is not None
    o2 = found.predicted(o)
    assert np.array_equal(adaptive._np_ltp_inverse(o2, found.positions, found.shifts, found.gains, found.before,
                                                  found.after, LIMIT), o)
    assert np.array_equal(adaptive.ltp_inverse(o2, found.positions, found.shifts, found.gains, found.before,
                                              found.after, LIMIT), o)
    gains = np.where(found.gains > 0, 15, 0)  # 15/8 per beat: the chain grows past any limit
    with pytest.raises(SanFormatError, match="values too large"):
        adaptive.ltp_inverse(np.full(len(o), 1000), found.positions, found.shifts, gains, found.before, found.after,
                            1 << 30)


def _read(positions: list[int], shifts: list[int], gains: list[int], before: int = 5, after: int = 10,
          length: int = 1000) -> LongTerm:
    """Side information as a writer would put it, read back for a block of ``length`` values."""
    written = LongTerm(np.array(positions), np.array(shifts), np.array(gains), before, after, 250)
    return read_long_term(ByteReader(written.side, "frame"), length)


@pytest.mark.parametrize(("beats", "problem"), [
    (([100, 100, 400], [0, 0, 0], [0, 8, 8]), "not increasing"),
    (([100, 400, 2400], [0, 0, 0], [0, 8, 8]), "not increasing"),  # a beat beyond the block
    (([100, 400], [0, 5], [0, 8]), "out of range"),
    (([100, 400], [0, 0], [0, 16]), "out of range"),
])
def test_hostile_long_term_beats_are_refused_when_read(beats, problem):
    with pytest.raises(SanFormatError, match=problem):
        _read(*beats)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("beats", [
    ([100, 995], [0, 0], [0, 8]),  # the window runs past the block
    ([3, 300], [0, -2], [0, 8]),  # the reference starts before sample 0
    ([100, 190, 600], [0, 0, 0], [0, 8, 0]),  # the reference reaches into the window (before 50, after 100)
    ([100, 300, 420], [0, 0, 0], [0, 8, 8]),  # two windows overlap
])
def test_hostile_long_term_windows_are_refused_when_restored(beats, compiled, monkeypatch):
    if compiled and not kernels.COMPILED:
        pytest.skip("nothing compiled")
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
        monkeypatch.setattr(kernels, "COMPILED", False)
    found = _read(*beats, before=50, after=100)
    with pytest.raises(SanFormatError, match="leaves the block or overlaps"):
        found.restore(np.zeros(1000, dtype=np.int64))


def test_an_ecg_is_coded_with_long_term_prediction_bit_exactly_and_smaller(mitdb_100, monkeypatch):
    sig = sancodec.read_signal(mitdb_100).slice(0, 65536)
    data = sancodec.encode(sig, frame_len=1 << 15)
    decoded = decode_file(data)
    assert np.array_equal(decoded.signal.samples, sig.samples)
    assert decoded.codings["ltp"] == 4  # both channels of both frames
    monkeypatch.setattr("sancodec.codec.residual.find_long_term", lambda o: None)
    assert len(data) < 0.985 * len(sancodec.encode(sig, frame_len=1 << 15))


def test_long_term_prediction_round_trips_through_its_own_type():
    o = _beats(seed=5)
    found = find_long_term(o)
    assert isinstance(found, LongTerm)
    assert found.before == max(1, found.before) and found.after >= 2


@pytest.mark.parametrize("name", ["mitdb100_lossless_lms.san", "emg_healthy_lossless_running.san"])
def test_every_byte_of_a_long_term_frame_changed_is_refused_or_decodes_exactly(name):
    """The golden files whose channels use the LMS stage and long-term prediction, and running contexts
    split by the last token (the EMG file's block starts at byte 236: its params, mask and tables), each
    of the first 400 bytes of a frame changed in turn (CRCs made valid again): a SancodecError or the
    exact samples, never a crash or other samples."""
    from common import rewrap

    from sancodec.codec.container import SanReader

    data = (Path(__file__).parent / "golden" / name).read_bytes()
    frame = SanReader(data).read_frame(0)
    expected = sancodec.decode(data).samples
    outcomes = set()
    for at in range(min(400, len(frame))):
        damaged = bytearray(frame)
        damaged[at] ^= 0x5A
        try:
            got = sancodec.decode(rewrap(data, frames=[bytes(damaged)])).samples
        except sancodec.SancodecError:
            outcomes.add("refused")
            continue
        assert np.array_equal(got, expected)
        outcomes.add("exact")
    assert "refused" in outcomes


def test_fast_decode_leaves_the_sequential_stages_out(mitdb_100, tmp_path):
    from typer.testing import CliRunner

    from sancodec.cli import app

    sig = sancodec.read_signal(mitdb_100).slice(0, 65536)
    fast, full = sancodec.encode(sig, predictor="fast"), sancodec.encode(sig)
    assert not {"lms", "ltp"} & set(decode_file(fast).codings) and {"lms", "ltp"} <= set(decode_file(full).codings)
    # running contexts decode faster than block classes, so the fast files keep them (format 1.5)
    assert len(full) < len(fast) and decode_file(fast).codings["running"] == 2 and fast[5] == expected_minor(fast, 5)
    out = tmp_path / "fast.san"
    result = CliRunner().invoke(app, ["encode", str(mitdb_100), "-o", str(out), "--fast-decode", "-q"])
    assert result.exit_code == 0, result.output
    decoded = decode_file(out.read_bytes())
    assert not {"lms", "ltp"} & set(decoded.codings)
    assert np.array_equal(decoded.signal.samples, sancodec.read_signal(mitdb_100).samples)
