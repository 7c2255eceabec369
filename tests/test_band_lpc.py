"""Wavelet bands coded as their linear prediction's residual (format 1.11, path 3 predictor bit 6): the
encoder's choice, the lossless round trip of the quantised values, the layout and what a hostile frame gets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from common import frame_of, rewrap, wavelet_head, wavelet_predictors

import sancodec
from sancodec import SanFormatError, Signal, read_signal
from sancodec.codec import adaptivebands, bandlpc, decode_file, kernels, waveletframe
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.codec.wavelet import band_lengths, levels_for
from sancodec.codec.waveletframe import (
    ADAPTIVE_BANDS,
    BAND_LPC,
    SEPARATE_BANDS,
    needs_minor,
    read_head,
    wavelet_payload,
)
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"
N = 2048


def _ar(n: int, seed: int = 3) -> np.ndarray:
    """Integers of a resonant AR(2) process: each value follows the two before it."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    noise = rng.normal(0, 4, n)
    for t in range(2, n):
        x[t] = 1.6 * x[t - 1] - 0.8 * x[t - 2] + noise[t]
    return np.rint(x).astype(np.int64)


def _bands(predictable: bool = True) -> list[np.ndarray]:
    """A frame's quantised bands (coarsest first) whose finest band is an AR(2) process, or white noise."""
    rng = np.random.default_rng(2)
    out = [np.rint(rng.laplace(0, 3, m)).astype(np.int64) for m in band_lengths(N, levels_for(N, 7))]
    out[-1] = _ar(len(out[-1])) if predictable else np.rint(rng.laplace(0, 12, len(out[-1]))).astype(np.int64)
    return out


def _base() -> bytes:
    sig = read_signal(DATA / "test01_00s").slice(0, N).select_channels([0])
    return sancodec.encode(sig, mode="lossy", prdn=5.0, frame_len=N)


def _payload(bands: list[np.ndarray]) -> bytes:
    return wavelet_payload(bands, 2.0, levels_for(N, 7), 0)


def _predictor(payload: bytes) -> int:
    r = ByteReader(payload)
    r.varint()
    return read_head(r, N).predictor


def test_fit_finds_a_predictor_where_values_follow_each_other_and_none_where_they_cannot():
    f = bandlpc.fit(_ar(4096))
    assert f is not None and f.whole and f.shift == bandlpc.SHIFT and f.order >= 2
    assert f.coefs[0] == pytest.approx(1.6 * 64, abs=8) and f.coefs[1] == pytest.approx(-0.8 * 64, abs=8)
    assert bandlpc.fit(_ar(bandlpc.MIN_LENGTH - 1)) is None  # short: the taps would cost what they save
    assert bandlpc.fit(np.zeros(4096, dtype=np.int64)) is None
    assert bandlpc.fit(_ar(4096) * bandlpc.MAX_VALUE) is None  # past where its integers stay exact
    white = np.rint(np.random.default_rng(1).laplace(0, 20, 1 << 16)).astype(np.int64)
    assert bandlpc.fit(white) is None  # no order's estimate beats none


def test_only_a_residual_that_shrinks_the_bands_head_is_coded(monkeypatch):
    """The filter comes from the band's first FIT_HEAD values, and its residual is coded only where it shrinks
    their magnitudes below PROMISING of theirs (here: 0, which no residual reaches)."""
    values = np.concatenate([_ar(bandlpc.FIT_HEAD), np.zeros(bandlpc.FIT_HEAD, dtype=np.int64)])
    other_tail = np.concatenate([values[: bandlpc.FIT_HEAD], _ar(bandlpc.FIT_HEAD, seed=9)])
    assert bandlpc.fit(values) == bandlpc.fit(other_tail)  # the head's filter, whatever follows it
    assert bandlpc.predicted(values) is not None
    monkeypatch.setattr(bandlpc, "PROMISING", 0.0)
    assert bandlpc.fit(values) is not None and bandlpc.predicted(values) is None


@pytest.mark.parametrize("compiled", [True, False])
def test_a_band_is_rebuilt_exactly_from_its_residual(compiled, monkeypatch):
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
        monkeypatch.setattr(kernels, "COMPILED", False)
    values = _ar(5000, seed=7)
    f, residual, size = bandlpc.predicted(values)
    assert np.abs(residual).sum() < 0.5 * np.abs(values).sum()  # the residual is the smaller
    w = ByteWriter()
    f.write(w)
    assert size == len(w.getvalue())
    place = residual.copy()
    bandlpc.restore(place, f)
    np.testing.assert_array_equal(place, values)


def test_filters_are_written_and_read_back_and_a_mask_naming_no_band_is_refused():
    f = bandlpc.fit(_ar(4096))
    w = ByteWriter()
    bandlpc.write_filters(w, {1: f, 4: f})
    assert bandlpc.read_filters(ByteReader(w.getvalue()), 5) == {1: f, 4: f}
    with pytest.raises(SanFormatError, match="exceeds its limit"):  # band 4 of a frame of 4 bands
        bandlpc.read_filters(ByteReader(w.getvalue()), 4)
    with pytest.raises(SanFormatError, match="no band"):
        bandlpc.read_filters(ByteReader(b"\x00"), 5)


@pytest.mark.parametrize("layout", [SEPARATE_BANDS, ADAPTIVE_BANDS])
def test_a_predicted_band_makes_the_frame_smaller_and_decode_to_the_same_samples(layout, monkeypatch):
    """The prediction is of the quantised values: the frame with it decodes to the very samples of the frame
    without it (no prediction: ``MIN_LENGTH`` past every band), in fewer bytes, with the bands apart or (where
    that is smaller, as here unless no frame is short enough for it) in one adaptive stream; white noise is left
    alone."""
    if layout == SEPARATE_BANDS:
        monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)
    bands, base = _bands(), _base()
    predicted = _payload(bands)
    assert _predictor(predicted) & (BAND_LPC | SEPARATE_BANDS | ADAPTIVE_BANDS) == BAND_LPC | layout
    assert needs_minor(predicted, N) == 11
    with monkeypatch.context() as m:
        m.setattr(bandlpc, "MIN_LENGTH", 1 << 62)
        plain = _payload(bands)
    assert not _predictor(plain) & BAND_LPC and len(predicted) < len(plain)
    one = decode_file(rewrap(base, frames=[frame_of([predicted])])).signal.samples
    other = decode_file(rewrap(base, frames=[frame_of([plain])])).signal.samples
    np.testing.assert_array_equal(one, other)
    with monkeypatch.context() as m:  # the numpy synthesis agrees
        m.setattr(kernels, "_LIB", None)
        m.setattr(kernels, "COMPILED", False)
        np.testing.assert_array_equal(decode_file(rewrap(base, frames=[frame_of([predicted])])).signal.samples, one)
    assert not _predictor(_payload(_bands(predictable=False))) & BAND_LPC


def test_a_smooth_record_is_smaller_with_band_prediction_at_the_same_samples(monkeypatch):
    """A pulse wave (a103l's PLETH, 20 000 samples) at PRDN 1 %: its bands follow each other well past the
    approximation band's first difference; the file is format 1.11 (its bands in one adaptive stream, some as
    residuals), smaller, and decodes to the samples the file without prediction decodes to, in C and in numpy.
    ``info --bands`` marks the bands and counts their filters' bytes."""
    sig = read_signal(DATA / "a103l_20000").select_channels([2])
    data = sancodec.encode(sig, mode="lossy", effort="best", prdn=1.0)
    monkeypatch.setattr(bandlpc, "MIN_LENGTH", 1 << 62)
    without = sancodec.encode(sig, mode="lossy", effort="best", prdn=1.0)
    monkeypatch.undo()
    assert data[5] == 11 and without[5] < 11 and len(data) < len(without)
    assert wavelet_predictors(data)[0] & (BAND_LPC | ADAPTIVE_BANDS) == BAND_LPC | ADAPTIVE_BANDS
    samples = sancodec.decode(data).samples
    np.testing.assert_array_equal(samples, sancodec.decode(without).samples)
    monkeypatch.setattr(kernels, "_LIB", None)
    monkeypatch.setattr(kernels, "COMPILED", False)
    np.testing.assert_array_equal(sancodec.decode(data).samples, samples)
    (channel,) = lossy_anatomy(data)
    assert any(band.predicted for band in channel.bands.values())
    parts = channel.head_bytes + channel.template_bytes + channel.mains_bytes
    assert parts + sum(band.bytes for band in channel.bands.values()) == pytest.approx(channel.bytes)


def _frame(filters: bytes, predictor: int = SEPARATE_BANDS | BAND_LPC) -> bytes:
    """A wavelet frame of :func:`_bands` apart (plain blocks) with ``filters`` written after the flags, or with
    predictor bit 4 in one adaptive stream after them."""
    bands = _bands()
    w = wavelet_head(2.0, levels_for(N, 7), predictor)
    if predictor & ADAPTIVE_BANDS:
        w.raw(filters)
        w.raw(adaptivebands.encode(bands))
        return frame_of([w.getvalue()])
    w.varint(0)  # no band contextual
    w.raw(filters)
    for b in bands:
        block = encode_arrays([b], [False])
        w.varint(len(block))
        w.raw(block)
    return frame_of([w.getvalue()])


def _filter(order: int, shift: int, coefs: list[int], mask: int = 1) -> bytes:
    """A mask (band 0, the approximation's differences, by default) and one filter's fields."""
    w = ByteWriter()
    w.varint(mask)
    w.varint(order)
    w.varint(shift)
    w.svarint(0)
    for c in coefs:
        w.svarint(c)
    return w.getvalue()


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize(("filters", "match"), [
    (b"\x00", "no band"),
    (b"\x80\x02", "exceeds its limit"),  # a mask past the frame's 8 bands
    (_filter(0, 6, []), "order must be >= 1"),
    (_filter(33, 6, [1] * 33), "exceeds its limit"),
    (_filter(1, 21, [1]), "exceeds its limit"),
    (_filter(1, 6, [(1 << 20) + 1]), "coefficient exceeds"),
    (_filter(2, 0, [1 << 20, 1 << 20], mask=1 << 7), "hostile filter"),  # the finest band grows past 2**38
])
@pytest.mark.parametrize("layout", [SEPARATE_BANDS, ADAPTIVE_BANDS])
def test_hostile_band_filters_are_refused(filters, match, compiled, layout, monkeypatch):
    if not compiled:
        monkeypatch.setattr(kernels, "_LIB", None)
        monkeypatch.setattr(kernels, "COMPILED", False)
    assert len(band_lengths(N, levels_for(N, 7))) == 8  # bit 7 of the mask: the finest band
    hostile = rewrap(_base(), frames=[_frame(filters, layout | BAND_LPC)])
    with pytest.raises(SanFormatError, match=match):
        decode_file(hostile)
    if match != "hostile filter":  # info --bands reads the filters, as the decoder does, without decoding
        with pytest.raises(SanFormatError, match=match):
            lossy_anatomy(hostile)


def test_band_prediction_without_bands_apart_is_refused():
    with pytest.raises(SanFormatError, match="predicted but neither coded apart nor adaptive"):
        decode_file(rewrap(_base(), frames=[_frame(_filter(1, 6, [32]), predictor=BAND_LPC)]))


def test_a_record_of_several_frames_decodes_its_predicted_bands_side_by_side():
    """Bands decode on threads (``jobs``): a pulse wave of five frames with predicted bands decodes to the same
    samples on one thread and on four, within its target."""
    x = read_signal(DATA / "a103l_20000").samples[:, 2]
    y = np.concatenate([x, x[::-1], x, x[::-1]]) + np.random.default_rng(0).integers(-2, 3, 4 * len(x))
    data = sancodec.encode(Signal(y[:, None], 250.0, ["pleth"], ["NU"]), mode="lossy", prdn=2.0, frame_len=1 << 14)
    assert data[5] == 11
    one = sancodec.decode(data, threads=1).samples
    np.testing.assert_array_equal(one, sancodec.decode(data, threads=4).samples)
    assert prdn(y, one[:, 0]) <= 2.0


def test_quick_bands_predict_a_smooth_band_where_it_pays_and_decode_to_the_same_samples(monkeypatch):
    """Efforts "fast" and "balanced" code each band one way (quick_bands), and weigh a band of up to
    QUICK_LPC_VALUES values as its residual too, under a quick fit: the AR(2) band is predicted, the frame is
    smaller and decodes to the samples of the frame without it; white noise is left alone. A band past
    QUICK_LPC_VALUES is coded both ways where it takes LONG_LPC_BITS a value or more (the same residual here), and
    is left alone where it takes fewer."""
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)  # the bands apart (the adaptive stream is weighed beside)
    bands, base = _bands(), _base()
    quick = wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True)
    assert _predictor(quick) & (BAND_LPC | SEPARATE_BANDS) == BAND_LPC | SEPARATE_BANDS
    monkeypatch.setattr(waveletframe, "QUICK_LPC_VALUES", len(bands[-1]) - 1)  # the AR(2) band is long
    assert wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True) == quick
    bits = 8 * len(waveletframe._quick_band(bands[-1])[0]) / len(bands[-1])
    monkeypatch.setattr(waveletframe, "LONG_LPC_BITS", 1.01 * bits)  # it codes in fewer: not weighed
    plain = wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True)
    assert not _predictor(plain) & BAND_LPC and len(quick) < 0.95 * len(plain)
    np.testing.assert_array_equal(decode_file(rewrap(base, frames=[frame_of([quick])])).signal.samples,
                                  decode_file(rewrap(base, frames=[frame_of([plain])])).signal.samples)
    noise = wavelet_payload(_bands(predictable=False), 2.0, levels_for(N, 7), 0, quick=True)
    assert not _predictor(noise) & BAND_LPC


def test_quick_bands_weigh_the_fitted_adaptive_stream_where_asked():
    """``fitted_stream`` (balanced's trellis-quantised frames): quick_bands also weighs the adaptive stream with every
    band that has a filter as its residual, as code_bands does, and keeps it where smallest: here the AR(2) band's
    frame codes as code_bands codes it, smaller than the quick coding without it, and decodes to the same samples;
    without a band to predict it changes nothing."""
    bands, base, levels = _bands(), _base(), levels_for(N, 7)
    quick = wavelet_payload(bands, 2.0, levels, 0, quick=True)
    fitted = wavelet_payload(bands, 2.0, levels, 0, quick=True, fitted_stream=True)
    assert _predictor(fitted) & (ADAPTIVE_BANDS | BAND_LPC) == ADAPTIVE_BANDS | BAND_LPC
    assert not _predictor(quick) & ADAPTIVE_BANDS
    assert fitted == _payload(bands) and len(fitted) < 0.9 * len(quick)
    np.testing.assert_array_equal(decode_file(rewrap(base, frames=[frame_of([fitted])])).signal.samples,
                                  decode_file(rewrap(base, frames=[frame_of([quick])])).signal.samples)
    noise = _bands(predictable=False)
    assert wavelet_payload(noise, 2.0, levels, 0, quick=True, fitted_stream=True) == \
        wavelet_payload(noise, 2.0, levels, 0, quick=True)


def test_quick_bands_keep_a_long_band_as_it_is_where_its_residual_codes_larger(monkeypatch):
    """A long band's residual is coded, not estimated, and kept only where the bands apart come out smaller with
    it: a band whose fit's residual (made larger here) codes larger than the band stays as it is."""
    monkeypatch.setattr(adaptivebands, "MAX_VALUES", 0)
    bands = _bands()
    monkeypatch.setattr(waveletframe, "QUICK_LPC_VALUES", len(bands[-1]) - 1)
    kept = wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True)
    assert _predictor(kept) & BAND_LPC
    real = bandlpc.predicted
    monkeypatch.setattr(bandlpc, "predicted", lambda s: None if (fit := real(s)) is None else
                        (fit[0], 8 * fit[1] + 5, fit[2]))  # a residual that codes far larger than the band
    plain = wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True)
    assert not _predictor(plain) & BAND_LPC and len(kept) < len(plain)
    monkeypatch.setattr(bandlpc, "predicted", lambda s: None)
    assert wavelet_payload(bands, 2.0, levels_for(N, 7), 0, quick=True) == plain


@pytest.mark.parametrize("effort", ["balanced", "fast"])
def test_a_pulse_wave_is_smaller_at_a_quick_effort_with_band_prediction(effort, monkeypatch):
    """a103l's PLETH at PRDN 1 %, effort balanced or fast: some of its bands predicted (format 1.11), the file
    smaller than without (by 0.3 % on these 20 000 samples; the whole record's by 9 %, docs/LOSSY.md), the same
    samples (the bands' coding does not move the step) and the target met."""
    sig = read_signal(DATA / "a103l_20000").select_channels([2])
    data = sancodec.encode(sig, mode="lossy", prdn=1.0, effort=effort)
    monkeypatch.setattr(waveletframe, "QUICK_LPC_VALUES", 0)  # no band predicted
    monkeypatch.setattr(waveletframe, "LONG_LPC_BITS", math.inf)
    without = sancodec.encode(sig, mode="lossy", prdn=1.0, effort=effort)
    assert wavelet_predictors(data)[0] & BAND_LPC and not wavelet_predictors(without)[0] & BAND_LPC
    assert len(data) < len(without)
    samples = sancodec.decode(data).samples
    np.testing.assert_array_equal(samples, sancodec.decode(without).samples)
    assert prdn(sig.samples[:, 0], samples[:, 0]) <= 1.0
