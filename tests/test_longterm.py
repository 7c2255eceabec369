"""Long-term (beat-to-beat) prediction of lossless residuals (format 1.4, codec.longterm)."""

from __future__ import annotations

import numpy as np
import pytest

import sancodec
from sancodec.codec import kernels
from sancodec.codec.api import decode_file
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
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


def test_noise_without_beats_gets_no_long_term_prediction():
    assert find_long_term(np.random.default_rng(1).integers(-500, 500, 30000)) is None
    assert find_long_term(_beats(1000)) is None  # too short to pay for its side information


@pytest.mark.parametrize("compiled", [True, False])
def test_the_compiled_and_python_restorations_agree_and_refuse_growth(compiled, monkeypatch):
    if compiled and not kernels.COMPILED:
        pytest.skip("nothing compiled")
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
    o = _beats(seed=2)
    found = find_long_term(o)
    assert found is not None
    o2 = found.predicted(o)
    assert np.array_equal(kernels._np_ltp_inverse(o2, found.positions, found.shifts, found.gains, found.before,
                                                  found.after, LIMIT), o)
    assert np.array_equal(kernels.ltp_inverse(o2, found.positions, found.shifts, found.gains, found.before,
                                              found.after, LIMIT), o)
    gains = np.where(found.gains > 0, 15, 0)  # 15/8 per beat: the chain grows past any limit
    with pytest.raises(SanFormatError, match="long-term"):
        kernels.ltp_inverse(np.full(len(o), 1000), found.positions, found.shifts, gains, found.before, found.after,
                            1 << 30)


def _side(before: int, after: int, gaps: list[int], shifts: list[int], gains: list[int]) -> ByteReader:
    w = ByteWriter()
    w.varint(before)
    w.varint(after)
    w.varint(len(gaps))
    block = encode_arrays([np.array(gaps), np.array(shifts), np.array(gains)], [False] * 3)
    w.varint(len(block))
    w.raw(block)
    return ByteReader(w.getvalue(), "frame")


@pytest.mark.parametrize(("side", "problem"), [
    ((5, 10, [100, 0, 300], [2, 2, 2], [0, 8, 8]), "not increasing"),
    ((5, 10, [100, 300, 2000], [2, 2, 2], [0, 8, 8]), "not increasing"),  # a beat beyond the block
    ((5, 10, [100, 300], [2, 7], [0, 8]), "out of range"),
    ((5, 10, [100, 300], [2, 2], [0, 16]), "out of range"),
    ((5, 10, [100, 895], [2, 2], [0, 8]), "leaves the block"),
    ((5, 10, [3, 300], [2, 0], [0, 8]), "leaves the block"),  # the reference starts before sample 0
    ((50, 100, [200, 100], [2, 2], [0, 8]), "overlaps"),  # the reference reaches into the window
])
def test_hostile_long_term_side_information_is_refused(side, problem):
    with pytest.raises(SanFormatError, match=problem):
        read_long_term(_side(*side), 1000)


def test_an_ecg_is_coded_with_long_term_prediction_bit_exactly_and_smaller(mitdb_100, monkeypatch):
    sig = sancodec.read_signal(mitdb_100).slice(0, 65536)
    data = sancodec.encode(sig)
    decoded = decode_file(data)
    assert np.array_equal(decoded.signal.samples, sig.samples)
    assert decoded.codings["ltp"] == 4  # both channels of both frames
    monkeypatch.setattr("sancodec.codec.residual.find_long_term", lambda o: None)
    assert len(data) < 0.985 * len(sancodec.encode(sig))


def test_long_term_prediction_round_trips_through_its_own_type():
    o = _beats(seed=5)
    found = find_long_term(o)
    assert isinstance(found, LongTerm)
    assert found.before == max(1, found.before) and found.after >= 2
