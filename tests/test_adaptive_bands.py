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
from sancodec.codec.waveletframe import ADAPTIVE_BANDS, ADAPTIVE_PARENT, SEPARATE_BANDS, needs_minor, read_head
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


def _refused_alike(monkeypatch, rng: np.random.Generator, blob: bytes, lengths: list[int], parent: bool,
                   trials: int) -> int:
    """Decode ``trials`` damaged copies of ``blob`` (truncated, a bit flipped, a byte added) with the compiled and the
    numpy decoders, which must refuse the same ones and read the rest alike; returns how many were refused."""
    refused = 0
    for trial in range(trials):
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
                outcomes.append(adaptivebands.decode(bytes(damaged), lengths, parent=parent))
            except SanFormatError:
                outcomes.append(None)
            monkeypatch.undo()
        got, want = outcomes
        assert (got is None) == (want is None)
        assert got is None or all(np.array_equal(a, b) for a, b in zip(got, want))
        refused += got is None
    return refused


@needs_c
def test_damaged_streams_are_refused_alike_by_the_compiled_and_python_decoders(monkeypatch):
    rng = np.random.default_rng(9)
    arrays = [np.rint(rng.laplace(0, s, n)).astype(np.int64) for n, s in ((200, 0.4), (500, 6.0), (50, 300.0))]
    lengths = [len(a) for a in arrays]
    blob = adaptivebands.encode(arrays)
    assert _refused_alike(monkeypatch, rng, blob, lengths, False, 150) > 0
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
    assert head.predictor & ADAPTIVE_BANDS and needs_minor(inner) == (13 if head.predictor & ADAPTIVE_PARENT else 9)
    fields = ByteReader(inner, "frame")
    fields.varint(), fields.svarint(), fields.raw(4), fields.varint(), fields.varint()
    at = len(inner) - fields.remaining()  # the predictor's varint (its first byte holds bits 0-6)
    bad = inner[:at] + bytes([inner[at] | SEPARATE_BANDS]) + inner[at + 1 :]
    with pytest.raises(SanFormatError, match="both apart and in one adaptive stream"):
        read_head(ByteReader(bad[1:], "frame"), None)
    assert waveletframe.ADAPTIVE_BANDS == 16


def _nested_bands(rng: np.random.Generator, coarsest: int, count: int) -> list[np.ndarray]:
    """A frame's bands coarsest first (each band twice the one before, the first two alike) whose values are small
    but in short bursts at the same times at every scale, a burst as long as a value of the first band: where a
    value is large, so is its parent, as in a QRS the template left over or a muscle burst."""
    bursts = np.where(rng.random(coarsest) < 0.1, 20.0, 0.2)
    lengths = [coarsest, coarsest, *(coarsest << k for k in range(1, count - 1))]
    return [np.rint(rng.laplace(0, 1, n) * np.repeat(bursts, -(-n // coarsest))[:n]).astype(np.int64)
            for n in lengths]


def test_parent_contexts_round_trip_and_the_python_reference_writes_the_same_bytes(monkeypatch):
    """Format 1.13: with parent contexts every band from the third on reads its parent at half its index in the band
    before (its last value where that band is shorter, none where it is empty); the compiled coder and its numpy
    reference write the same bytes and read them back, for bands of any lengths, and encode_either keeps the smaller
    stream (the one without on a tie) and says which."""
    rng = np.random.default_rng(13)
    cases = [_arrays(rng) for _ in range(30)]
    cases += [_nested_bands(rng, int(rng.integers(1, 40)), int(rng.integers(3, 7))) for _ in range(8)]
    cases.append([np.arange(5), np.zeros(0, np.int64), np.arange(-40, 40), np.full(3, 9)])  # an empty parent
    cases.append([np.arange(3), np.full(2, 5), np.arange(-7, 400)])  # a band far more than twice its parent
    cases.append([np.array([np.iinfo(np.int64).min, 0]), np.array([np.iinfo(np.int64).max]), np.array([1, -1, 0])])
    coded = []
    for c in cases:
        lengths = [len(a) for a in c]
        plain, with_parents = adaptivebands.encode(c), adaptivebands.encode(c, parent=True)
        back = adaptivebands.decode(with_parents, lengths, parent=True)
        assert all(np.array_equal(a, b) for a, b in zip(c, back))
        if len(c) < 3:  # no band has a parent: the same stream
            assert with_parents == plain
        either = adaptivebands.encode_either(c)
        assert either == ((with_parents, True) if len(c) >= 3 and len(with_parents) < len(plain) else (plain, False))
        coded.append((plain, with_parents, either))
    assert any(e[1] for _, _, e in coded) and not all(e[1] for _, _, e in coded)  # each way kept somewhere
    numpy_only(monkeypatch)
    for c, (_, with_parents, either) in zip(cases, coded):
        assert adaptivebands.encode(c, parent=True) == with_parents and adaptivebands.encode_either(c) == either
        back = adaptivebands.decode(with_parents, [len(a) for a in c], parent=True)
        assert all(np.array_equal(a, b) for a, b in zip(c, back))


def test_parent_contexts_pay_where_a_bands_magnitudes_follow_its_parents():
    """Bands whose energy comes and goes together at every scale code smaller with parent contexts (0.94 of the
    bytes here); bands of independent noise gain nothing from them, and encode_either keeps the stream without."""
    rng = np.random.default_rng(21)
    nested = _nested_bands(rng, 500, 6)
    plain, with_parents = adaptivebands.encode(nested), adaptivebands.encode(nested, parent=True)
    assert len(with_parents) < 0.96 * len(plain)
    assert adaptivebands.encode_either(nested) == (with_parents, True)
    flat = [np.rint(rng.laplace(0, 3, n)).astype(np.int64) for n in (500, 500, 1000, 2000, 4000, 8000)]
    assert adaptivebands.encode_either(flat) == (adaptivebands.encode(flat), False)
    # the stream read without the contexts it was coded with is another stream: the flag is part of the format
    wrong = adaptivebands.decode(with_parents, [len(a) for a in nested])
    assert not all(np.array_equal(a, b) for a, b in zip(nested, wrong))


@needs_c
def test_damaged_parent_streams_are_refused_alike_by_the_compiled_and_python_decoders(monkeypatch):
    rng = np.random.default_rng(17)
    arrays = _nested_bands(rng, 30, 5)
    blob = adaptivebands.encode(arrays, parent=True)
    assert _refused_alike(monkeypatch, rng, blob, [len(a) for a in arrays], True, 120) > 0


def test_an_emg_record_codes_its_stream_with_parent_contexts_where_smaller(monkeypatch):
    """emg_healthy (50 860 samples at 4 kHz) at PRDN 9 %: its bands' bursts show at every scale, so its adaptive
    stream is the smaller with parent contexts (format 1.13, predictor bit 9), which info --bands reads; without
    them the file is larger, and at 1.9's minor."""
    sig = read_signal(DATA / "emg_healthy")
    for effort in ("best", "balanced"):
        data = sancodec.encode(sig, mode="lossy", prdn=9.0, effort=effort)
        predictors = wavelet_predictors(data)
        assert predictors and all(bits & ADAPTIVE_BANDS and bits & ADAPTIVE_PARENT for bits in predictors)
        assert data[5] == expected_minor(data, 9) == 13
        assert prdn(sig.samples[:, 0], decode_file(data).signal.samples[:, 0]) <= 9.0
        channel = lossy_anatomy(data)[0]
        assert channel.bytes == pytest.approx(channel.head_bytes + channel.template_bytes + channel.mains_bytes
                                              + sum(b.bytes for b in channel.bands.values()))
        bands = list(channel.bands.values())  # coarsest first: every band from the third on has parent contexts
        assert [b.parents for b in bands] == [0, 0, *(b.coefficients for b in bands[2:])]
        with monkeypatch.context() as m:
            m.setattr(adaptivebands, "encode_either", lambda arrays, limit=None: (
                None if (s := adaptivebands.encode(arrays, limit)) is None else (s, False)))
            without = sancodec.encode(sig, mode="lossy", prdn=9.0, effort=effort)
        assert not any(bits & ADAPTIVE_PARENT for bits in wavelet_predictors(without)) and without[5] < 13
        assert len(data) < 0.95 * len(without)


def test_frames_declaring_parent_contexts_without_an_adaptive_stream_are_refused():
    sig = read_signal(DATA / "emg_healthy")
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    inner = _wavelet_payload(data)
    assert read_head(ByteReader(inner[1:], "frame"), None).predictor & ADAPTIVE_PARENT and needs_minor(inner) == 13
    fields = ByteReader(inner, "frame")
    fields.varint(), fields.svarint(), fields.raw(4), fields.varint(), fields.varint()
    at = len(inner) - fields.remaining()  # the predictor's varint: bits 0-6 in its first byte
    bad = inner[:at] + bytes([inner[at] & ~ADAPTIVE_BANDS]) + inner[at + 1 :]
    with pytest.raises(SanFormatError, match="parent contexts without an adaptive stream"):
        read_head(ByteReader(bad[1:], "frame"), None)
    assert waveletframe.ADAPTIVE_PARENT == 512


def _wavelet_payload(data: bytes) -> bytes:
    """The first channel-frame of a one-channel lossy file's first frame (a wavelet frame, path 3)."""
    part = SanReader(data).read_frame(0)
    r = ByteReader(part, "frame")
    r.varint()  # the frame's first channel-frame length
    inner = r.raw(r.remaining())
    assert inner[0] == 3
    return inner


def test_info_bands_marks_the_bands_coded_with_parent_contexts(tmp_path):
    from typer.testing import CliRunner

    from sancodec.cli import app

    path = tmp_path / "emg.san"
    path.write_bytes(sancodec.encode(read_signal(DATA / "emg_healthy"), mode="lossy", prdn=9.0))
    res = CliRunner().invoke(app, ["info", str(path), "--bands"], terminal_width=200)
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if "band " in line]
    assert len(lines) == 6 and all("parent contexts" in line for line in lines[2:])
    assert not any("parent contexts" in line for line in lines[:2])
