"""Lossy files of format 1.5: wavelet bands coded apart (long ones under running contexts), the beat
template's window chosen per record, and short records' headers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from common import expected_minor, frame_of, needs_c, numpy_only, rewrap

import sancodec
from sancodec import SanFormatError, read_signal
from sancodec.codec import decode_file, lossyrate, templatesearch, waveletframe
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteWriter, encode_arrays
from sancodec.codec.wavelet import band_lengths, levels_for

DATA = Path(__file__).parent / "data"


def _apart_file() -> bytes:
    sig = read_signal(DATA / "test01_00s").slice(0, 2048).select_channels([0])
    return sancodec.encode(sig, mode="lossy", prdn=5.0, frame_len=2048)


def _bands(n: int = 2048) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    return [np.rint(rng.laplace(0, 3, m)).astype(np.int64) for m in band_lengths(n, levels_for(n, 7))]


def _frame_apart(bands: list[np.ndarray], apart: bool = True, predictor: int = 2, tail: bytes = b"",
                 flags: int | None = None, cut: int = 0) -> bytes:
    """A wavelet frame of ``bands``: apart (1.5; the long band under running contexts) or in one blob."""
    from sancodec.codec import running

    w = ByteWriter()
    for v in (3, 0):
        w.varint(v)
    w.raw(np.float32(2.0).tobytes())
    w.varint(7)
    w.varint(8)
    w.varint(predictor if apart else 0)
    w.varint((1 << len(bands)) - 1 if flags is None else flags)
    if not apart:
        w.raw(encode_arrays(bands, [True] * len(bands)))
        return frame_of([w.getvalue()])
    for b in bands:
        block = running.encode(b, 5) if len(b) >= running.MIN_LENGTH else encode_arrays([b], [True])
        w.varint(len(block))
        w.raw(block)
    return frame_of([w.getvalue()[: len(w.getvalue()) - cut] + tail])


def test_bands_coded_apart_decode_to_what_one_blob_of_the_same_bands_does(monkeypatch):
    from sancodec.codec import kernels

    base, bands = _apart_file(), _bands()
    apart = decode_file(rewrap(base, frames=[_frame_apart(bands)]))
    joint = decode_file(rewrap(base, frames=[_frame_apart(bands, apart=False)]))
    assert apart.codings == {"wavelet": 1, "running": 1} and joint.codings == {"wavelet": 1}
    np.testing.assert_array_equal(apart.signal.samples, joint.signal.samples)
    monkeypatch.setattr(kernels, "_LIB", None)  # the Python readers agree
    monkeypatch.setattr(kernels, "COMPILED", False)
    np.testing.assert_array_equal(decode_file(rewrap(base, frames=[_frame_apart(bands)])).signal.samples,
                                  apart.signal.samples)


@pytest.mark.parametrize(("options", "match"), [
    ({"predictor": 128}, "limit"),  # no predictor bit 7
    ({"predictor": 64}, "predicted but neither coded apart nor adaptive"),  # bit 6 (1.11) needs bit 1 or 4
    ({"predictor": 32}, "mains hum"),  # bit 5 (1.10): a hum follows, and these bytes are no hum
    ({"predictor": 18}, "both apart and in one adaptive stream"),  # bit 4 (1.9) with bit 1
    ({"predictor": 16}, "adaptive bands"),  # adaptive bands (1.9): a block of flags and tables is no such stream
    ({"predictor": 10}, "without a beat template"),  # shifted taps (bit 3, 1.7), but no template (bit 0)
    ({"predictor": 6}, "without a beat template"),  # gaps as differences (bit 2), but no template (bit 0)
    ({"tail": b"\x00"}, "unexpected bytes after the wavelet bands"),
    ({"cut": 5}, "exceeds its limit"),  # the last band's length runs past the frame
    ({"flags": 0}, "entropy-coded block"),  # the running block read as a plain array
])
def test_hostile_bands_apart_are_refused(options, match):
    with pytest.raises(SanFormatError, match=match):
        decode_file(rewrap(_apart_file(), frames=[_frame_apart(_bands(), **options)]))


def test_long_lossy_records_code_their_bands_apart_where_that_is_smaller():
    """mitdb 100, 150 000 samples at PRDN 5 %: the bands apart, the long ones under running contexts,
    beat one blob with block classes (format 1.5; the file is 1.12 where its frame is quantised dependently or its
    template's taps are second differences, 1.11 without as some of its bands are coded as their prediction's
    residual, 1.10 without it as its frame adds mains hum, 1.7 without that as its template's taps sit on a coarser
    grid); a short record keeps its bands in one blob."""

    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 150000)
    data = sancodec.encode(sig, mode="lossy", prdn=5.0)
    assert data[5] == expected_minor(data, 11) and decode_file(data).codings.get("running") == 2
    saved = waveletframe.RUNNING_BANDS
    try:
        waveletframe.RUNNING_BANDS = 1 << 30  # no running contexts: the bands stay in one blob
        without = sancodec.encode(sig, mode="lossy", prdn=5.0)
    finally:
        waveletframe.RUNNING_BANDS = saved
    assert "running" not in decode_file(without).codings and len(data) < len(without)
    assert "running" not in decode_file(sancodec.encode(sig.slice(0, 2000), mode="lossy", prdn=5.0)).codings


def test_the_template_window_is_chosen_per_record(monkeypatch):
    """mitdb 100 wants a longer window than the old fixed 0.25 s + 0.45 s (0.3 s + 0.5 s: 288 samples at
    360 Hz), and its file is smaller for it at the same target."""
    from sancodec.codec.entropy import ByteReader

    sig = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 65536)
    sig = sig.select_channels([0])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    part = ByteReader(SanReader(data).read_frame(0))
    part = ByteReader(part.raw(part.varint()))
    fields = [part.varint(), part.svarint(), part.raw(4), part.varint(), part.varint(), part.varint()]
    assert fields[0] == 3 and fields[5] & 1 and part.varint() == 288  # the template's length m
    monkeypatch.setattr(templatesearch, "TEMPLATE_WINDOWS", ((0.25, 0.45),))
    assert len(data) < len(sancodec.encode(sig, mode="lossy", prdn=9.0))


def test_a_short_lossy_record_leaves_the_frame_length_at_its_default():
    """A record of at most 2^15 rows is one frame at the lossy default of 2^20 or at the format's default
    2^15 alike; the header says 2^15, which the binary header leaves out (5 bytes on a 999-sample file)."""
    sig = read_signal(DATA / "test01_00s").slice(0, 999).select_channels([0])
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    assert SanReader(data).header["frame_len"] == 1 << 15 and SanReader(data).n_frames == 1
    assert np.abs(sancodec.decode(data).samples - sig.samples).max() > 0  # lossy, and decodes
    mitdb = read_signal(Path(sancodec.__path__[0]) / "data" / "samples" / "100").slice(0, 40000)
    assert SanReader(sancodec.encode(mitdb, mode="lossy", prdn=9.0)).header["frame_len"] == 1 << 20


def test_a_short_record_takes_the_wavelet_levels_that_code_it_smallest(monkeypatch):
    """test01_00s (4000 samples) at PRDN 9 %: its channels' wavelet frames store fewer levels than the
    7 the rate control starts from, the file is smaller for it, and every channel meets the target."""
    from common import wavelet_heads

    from sancodec.codec import lossy
    from sancodec.metrics import prdn

    sig = read_signal(Path(__file__).parent / "data" / "test01_00s")
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    levels = [lv for lv, _ in wavelet_heads(data)]
    assert levels and min(levels) < lossyrate.LEVELS
    back = sancodec.decode(data)
    assert all(prdn(sig.samples[:, ch], back.samples[:, ch]) <= 9.0 for ch in range(sig.n_channels))
    monkeypatch.setattr(lossy, "LEVEL_CHANNELS", 0)  # every channel at 7 levels
    assert len(data) < len(sancodec.encode(sig, mode="lossy", prdn=9.0))


def test_a_long_channel_at_a_loose_target_tries_more_wavelet_levels(monkeypatch):
    """mitdb 100's MLII, 200 000 samples (past the channels whose levels are always chosen) at PRDN 25 %,
    under 0.1 bit per sample: more levels on its whole frame make the file smaller, within the target."""
    from sancodec.codec import lossy
    from sancodec.metrics import prdn

    sig = read_signal(Path(sancodec.__file__).parent / "data" / "samples" / "100").slice(0, 200000)
    sig = sig.select_channels([0])
    data = sancodec.encode(sig, mode="lossy", effort="best", prdn=25.0)
    assert 8 * len(data) < lossy.SPARSE_BPS * sig.n_samples
    assert prdn(sig.samples[:, 0], sancodec.decode(data).samples[:, 0]) <= 25.0
    monkeypatch.setattr(lossy, "SPARSE_BPS", 0.0)
    assert len(data) < len(sancodec.encode(sig, mode="lossy", effort="best", prdn=25.0))


@pytest.mark.parametrize("compiled", [True, False])
def test_bands_are_decoded_into_the_caller_s_buffer(compiled, monkeypatch):
    """Every band layout of a wavelet frame (one stream of block-coded arrays, adaptive bands) decodes into the
    buffer it is given, end to end, the arrays returned being views of it: with the C kernels and without."""
    from sancodec.codec import adaptivebands
    from sancodec.codec.entropy import decode_arrays

    if not compiled:
        numpy_only(monkeypatch)
    rng = np.random.default_rng(4)
    bands = [rng.integers(-30, 30, n).astype(np.int64) for n in (7, 7, 14, 27)]
    lengths = [len(b) for b in bands]
    for decode, data in ((lambda d, out: decode_arrays(d, lengths, [True, False, True, True], out),
                          encode_arrays(bands, [True, False, True, True])),
                         (lambda d, out: adaptivebands.decode(d, lengths, out), adaptivebands.encode(bands))):
        out = np.full(sum(lengths), 99, dtype=np.int64)
        back = decode(data, out)
        assert np.array_equal(out, np.concatenate(bands))
        assert all(np.shares_memory(b, out) and np.array_equal(b, want) for b, want in zip(back, bands))


@needs_c
def test_a_band_decoded_into_its_place_must_fit_it():
    """``kernels.decode_block``'s ``out``: the band's own length of writeable contiguous int64, or a ValueError."""
    from sancodec.codec import kernels

    values = np.arange(-20, 20, dtype=np.int64)
    block = encode_arrays([values], [True])
    out = np.zeros(50, dtype=np.int64)
    assert kernels.decode_block(block, 40, 1, out[5:45]) is not None and np.array_equal(out[5:45], values)
    for bad in (np.zeros(39, np.int64), np.zeros(40, np.int32), np.zeros(80, np.int64)[::2]):
        with pytest.raises(ValueError, match="out must be"):
            kernels.decode_block(block, 40, 1, bad)


@pytest.mark.parametrize("rows", [1, 3, 9])
def test_the_bit_estimate_from_histograms_is_the_reference_sum_to_the_bit(rows):
    """``residual.bits_from_histogram``: the order-0 entropy of the bit lengths plus the raw bits, as the plain
    reference computes it (each seen count over its own histogram's size), to the last bit: every lossy decision
    compares these estimates."""
    from sancodec.codec import residual

    rng = np.random.default_rng(rows)
    for _ in range(50):
        counts = rng.integers(0, 1000, (rows, 66)) * (rng.random((rows, 66)) < 0.4)
        sizes = counts.sum(axis=1, keepdims=True) + rng.integers(0, 3, (rows, 1))
        widths = np.maximum(np.arange(66) - 1, 0)
        seen = counts > 0
        p = counts[seen] / np.broadcast_to(sizes, counts.shape)[seen]
        reference = float(-(counts[seen] * np.log2(p)).sum() + int((widths * counts).sum())
                          + int(counts[:, 1:].sum()))
        assert residual.bits_from_histogram(counts, sizes) == reference
        one = counts[0]
        p1 = one[one > 0] / int(sizes[0, 0])
        assert residual.bits_from_histogram(one, int(sizes[0, 0])) == float(
            -(one[one > 0] * np.log2(p1)).sum() + int((widths * one).sum()) + int(one[1:].sum()))
        # one histogram's own route and the general one (any shape), the same float
        assert residual.bits_from_histogram(one, int(sizes[0, 0])) == residual._histograms_bits(one, int(sizes[0, 0]))
    # an empty histogram (no values) costs nothing, alone or as rows, and warns of no 0 / 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert residual.bits_from_histogram(np.zeros(66, np.int64), 0) == 0.0
        assert residual.bits_from_histogram(np.zeros((rows, 66), np.int64), np.zeros((rows, 1), np.int64)) == 0.0
