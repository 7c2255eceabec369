"""Format 1.9: a wavelet frame's bands in one adaptive stream without tables (``codec.adaptivebands``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import expected_minor, needs_c, numpy_only, wavelet_predictors

import sancodec
from sancodec import SanFormatError, read_signal
from sancodec.codec import adaptivebands, decode_file, lossy, waveletframe
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader
from sancodec.codec.waveletframe import ADAPTIVE_BANDS, SEPARATE_BANDS, needs_minor, read_head
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"


def _arrays(rng: np.random.Generator) -> list[np.ndarray]:
    scales = rng.choice([0.05, 0.5, 3.0, 40.0, 1e6], int(rng.integers(1, 9)))
    return [np.rint(rng.laplace(0, float(s), int(rng.integers(0, 600)))).astype(np.int64) for s in scales]


def test_bands_round_trip_and_the_python_reference_writes_the_same_bytes(monkeypatch):
    rng = np.random.default_rng(3)
    cases = [_arrays(rng) for _ in range(40)]
    cases.append([np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, 7]), np.zeros(0, np.int64)])
    cases.append([np.zeros(3000, np.int64), np.full(40, 75)])
    coded = [adaptivebands.encode(c) for c in cases]
    for c, blob in zip(cases, coded):
        back = adaptivebands.decode(blob, [len(a) for a in c])
        assert all(np.array_equal(a, b) for a, b in zip(c, back))
    numpy_only(monkeypatch)
    for c, blob in zip(cases, coded):
        assert adaptivebands.encode(c) == blob
        assert all(np.array_equal(a, b) for a, b in zip(c, adaptivebands.decode(blob, [len(a) for a in c])))


def test_a_stream_past_its_decision_limit_is_not_coded(monkeypatch):
    """``max_decisions``: the stream is coded (the same bytes as without a limit) where its tokens take at most that
    many binary decisions (:func:`adaptivebands.decisions`, each token plus one, capped at the alphabet), and not
    at all (None) past it; the numpy reference draws the line at the same count."""
    from sancodec.codec.kernels import NUM_TOKENS, tokenize

    rng = np.random.default_rng(5)
    cases = [_arrays(rng) for _ in range(12)]
    cases.append([np.full(10, 1 << 40), np.zeros(7, np.int64)])  # long tokens (bit length 42: token 53) and zeros
    assert sum(adaptivebands.decisions(tokenize(a)[0]) for a in cases[-1]) == 10 * 54 + 7 * 1  # counted by hand
    for reference in (False, True):
        if reference:
            numpy_only(monkeypatch)
        for c in cases:
            tokens = [tokenize(a)[0] for a in c]
            count = sum(adaptivebands.decisions(t) for t in tokens)
            whole = adaptivebands.encode(c)
            assert whole is not None
            assert adaptivebands.encode(c, count) == whole
            assert adaptivebands.encode(c, count - 1) is None if count else adaptivebands.encode(c, 0) == whole
    assert adaptivebands.decisions(np.array([0, 3, 200], dtype=np.int32)) == 1 + 4 + (NUM_TOKENS - 1)


@needs_c
def test_damaged_streams_are_refused_alike_by_the_compiled_and_python_decoders(monkeypatch):
    rng = np.random.default_rng(9)
    arrays = [np.rint(rng.laplace(0, s, n)).astype(np.int64) for n, s in ((200, 0.4), (500, 6.0), (50, 300.0))]
    lengths = [len(a) for a in arrays]
    blob = adaptivebands.encode(arrays)
    refused = 0
    for trial in range(150):
        damaged = bytearray(blob)
        if trial % 3 == 0:
            damaged = damaged[: rng.integers(0, len(damaged))]
        elif trial % 3 == 1:
            damaged[rng.integers(0, len(damaged))] ^= 1 << int(rng.integers(0, 8))
        else:
            damaged += bytes([int(rng.integers(0, 256))])
        outcomes = []
        for python in (False, True):
            if python:
                numpy_only(monkeypatch)
            try:
                outcomes.append(adaptivebands.decode(bytes(damaged), lengths))
            except SanFormatError:
                outcomes.append(None)
            monkeypatch.undo()
        got, want = outcomes
        assert (got is None) == (want is None)
        assert got is None or all(np.array_equal(a, b) for a, b in zip(got, want))
        refused += got is None
    assert refused > 0
    with pytest.raises(SanFormatError):
        adaptivebands.decode(blob, [-1, *lengths])


def test_a_short_record_codes_its_bands_adaptively_where_that_is_smaller(monkeypatch):
    """macecgdb test01_00s (its first two channels, 2 x 4000 samples; the other two are coded as differences
    from them, format 1.10) at PRDN 9 %: tables cost its bands as much as their values."""
    sig = read_signal(DATA / "test01_00s").select_channels([0, 1])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert data[5] == expected_minor(data, 9) and all(bits & ADAPTIVE_BANDS for bits in wavelet_predictors(data))
    back = decode_file(data).signal.samples
    assert all(prdn(sig.samples[:, ch], back[:, ch]) <= 9.0 for ch in range(sig.n_channels))
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)  # format 1.8's codings only
    monkeypatch.setattr(lossy, "DEPENDENT_CODING", False)  # (and no 1.12 quantiser: its templates' taps may be 1.12's)
    before = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert before[5] != 9 and not any(bits & ADAPTIVE_BANDS for bits in wavelet_predictors(before))
    assert len(data) < 0.9 * len(before)
    monkeypatch.undo()
    anatomy = lossy_anatomy(data)  # info --bands reads it: each band's share of the stream estimated
    for channel in anatomy:
        assert channel.bytes == pytest.approx(channel.head_bytes + channel.template_bytes + channel.mains_bytes
                                              + sum(b.bytes for b in channel.bands.values()))
        assert all(b.estimated for b in channel.bands.values())


def test_frames_declaring_bands_both_apart_and_adaptive_are_refused():
    sig = read_signal(DATA / "test01_00s").select_channels([0])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    part = SanReader(data).read_frame(0)
    r = ByteReader(part, "frame")
    r.varint()  # the frame's first channel-frame length
    inner = r.raw(r.remaining())
    head = read_head(ByteReader(inner[1:], "frame"), None)
    assert head.predictor & ADAPTIVE_BANDS and needs_minor(inner) == 9
    fields = ByteReader(inner, "frame")
    fields.varint(), fields.svarint(), fields.raw(4), fields.varint(), fields.varint()
    at = len(inner) - fields.remaining()  # the predictor's varint (one byte here)
    bad = inner[:at] + bytes([inner[at] | SEPARATE_BANDS]) + inner[at + 1 :]
    with pytest.raises(SanFormatError, match="both apart and in one adaptive stream"):
        read_head(ByteReader(bad[1:], "frame"), None)
    assert waveletframe.ADAPTIVE_BANDS == 16
