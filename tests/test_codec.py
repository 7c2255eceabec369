"""The .san codec: round trips in every mode, random access, determinism, atomic writes, reports."""

from __future__ import annotations

import bz2
import io
import json
from pathlib import Path

import hypothesis
import numpy as np
import pytest
from common import check_encode_decode, expected_minor, frame_of, numpy_spec, rewrap
from hypothesis import strategies as st

import sancodec
import sancodec.io.arrays
import sancodec.metrics
import sancodec.san.bundled
from sancodec import SanConfigError, SanFormatError, Signal, read_signal
from sancodec.codec import decode_file, encode_file, read_info
from sancodec.codec.entropy import ByteReader, ByteWriter, encode_arrays
from sancodec.metrics import phi_scores
from sancodec.report import make_report
from sancodec.san.bundled import default_model

DATA = Path(__file__).parent / "data"
RECORDS = ["3000003_0003", "100_3chan", "test01_00s", "1001", "emg_healthy", "03700181_2000f", "mixedsignals_1000f"]


@pytest.fixture(scope="module")
def mitdb(mitdb_100) -> Signal:
    return read_signal(mitdb_100)


def assert_lossless(original: Signal, decoded: Signal) -> None:
    np.testing.assert_array_equal(decoded.samples, original.samples)
    assert decoded.header_dict() == original.header_dict()


@pytest.mark.parametrize("name", RECORDS + ["flac_3_constant"])
def test_lossless_round_trip_is_bit_exact(name):
    check_encode_decode(read_signal(DATA / name), mode="lossless")


def test_mitdb_lossless_keeps_annotations_and_beats_raw(mitdb):
    data = sancodec.encode(mitdb, mode="lossless")
    back = sancodec.decode(data)
    assert_lossless(mitdb, back)
    assert back.annotations[0].equals(mitdb.annotations[0])
    assert len(data) * 8 / mitdb.samples.size < 4.138  # FLAC -8 on channel 0 (docs/BENCHMARKS.md)


@pytest.mark.parametrize("name", RECORDS + ["mitdb"])
@pytest.mark.parametrize("max_error", [1, 3])
def test_near_lossless_bounds_every_sample(name, max_error, mitdb):
    sig = mitdb.slice(0, 40000) if name == "mitdb" else read_signal(DATA / name)
    back = sancodec.decode(check_encode_decode(sig, mode="near-lossless", max_error=max_error))
    for got, want in zip(back.annotations, sig.annotations, strict=True):
        assert got.equals(want)


@pytest.mark.parametrize("name", RECORDS + ["mitdb"])
def test_lossy_decodes_with_the_phi_the_model_predicts(name, mitdb):
    torch = pytest.importorskip("torch")  # the model's own prediction (the decode needs none)
    from sancodec.train.model import SAN

    spec = default_model()
    frame = 4096 if name == "mitdb" else 512
    sig = mitdb if name == "mitdb" else read_signal(DATA / name)
    n = min(sig.n_samples // frame, 8) * frame
    sig = sig.slice(0, n)
    decoded = decode_file(sancodec.encode(sig, spec, "san", frame_len=frame))
    model = SAN.from_spec(spec)
    for ch, step in enumerate(sig.sample_steps()):  # multi-frequency: each channel at its own rate
        x = sig.samples[::step, ch].astype(np.float64).reshape(-1, frame // step)
        y = decoded.signal.samples[::step, ch].astype(np.float64).reshape(-1, frame // step)
        mean = np.rint(x.mean(axis=1, keepdims=True))
        std = x.std(axis=1, keepdims=True)
        std[std == 0] = 1.0
        with torch.no_grad():
            x_hat, alpha = model(torch.from_numpy(((x - mean) / std).astype(np.float32)))
        w_total = sum(spec.kernel_sizes)
        active = (alpha != 0).sum(dim=(1, 2)).numpy()
        predicted = phi_scores(x_hat.numpy(), (x - mean) / std, active, w_total).mean()
        got = phi_scores((y - mean) / std, (x - mean) / std, active, w_total).mean()
        assert abs(float(got.l_tilde) - float(predicted.l_tilde)) < 0.02, (name, ch)
        assert abs(float(got.phi) - float(predicted.phi)) < 0.01, (name, ch)
        assert float(predicted.l_tilde) < 0.95


def test_random_access_reads_only_covering_frames(mitdb):
    sig = mitdb.slice(0, 100000)
    data = sancodec.encode(sig, mode="lossless", frame_len=8192)
    full = decode_file(data)
    assert full.frames_read == 13
    part = decode_file(io.BytesIO(data), start=20000, end=30000)
    assert part.frames_read == 2  # frames 2 and 3 cover [16384, 32768)
    np.testing.assert_array_equal(part.signal.samples, full.signal.samples[20000:30000])
    ann = part.signal.annotations[0]
    expected = sig.annotations[0].slice(20000, 30000)
    assert ann.equals(expected) and len(ann) > 0
    assert sancodec.decode(data, 8191, 8193).samples.tolist() == sig.samples[8191:8193].tolist()
    with pytest.raises(SanConfigError):
        sancodec.decode(data, 5, 200000)


def test_value_table_path_beats_bz2_on_emg_stored_on_a_fractional_grid():
    sig = read_signal(DATA / "emg_healthy")  # values are round(k * 50/3): no integer grid to divide by
    data = sancodec.encode(sig, mode="lossless")
    full = decode_file(data)
    assert_lossless(sig, full.signal)
    # one frame: ranks on the table, then the LMS stage, coded under running contexts
    assert full.codings == {"table": 1, "lms": 1, "running": 1, "msb": 1}  # (1.8: MSB mode)
    assert len(data) < len(bz2.compress(sig.samples[:, 0].astype("<i2").tobytes(), 9))  # BASELINES' best
    part = decode_file(data, start=30000, end=40000)
    np.testing.assert_array_equal(part.signal.samples, sig.samples[30000:40000])


def _one_channel_file(part: bytes, length: int) -> bytes:
    """A lossless container around one hand-made channel payload (valid CRCs)."""
    sig = Signal(np.arange(length)[:, None], 100.0, ["a"], ["mV"], adc_gain=[1.0], baseline=[0], fmt=["16"])
    return rewrap(sancodec.encode(sig, mode="lossless", frame_len=1024), frames=[frame_of([part])])


@pytest.mark.parametrize(("step", "table", "ranks", "problem"), [
    (None, [0, 5, 5], [0, 1, 2, 3], "rank outside"),
    (None, [0, 5, -2], [0, 1, 2, 1], "not increasing"),
    (16, [0, 0, 1], [0, 1, 2, 3], "rank outside"),
    (16, [0, 0, -16], [0, 1, 2, 1], "not increasing"),  # a gap of 0
    (16, [0, 1 << 60, 0], [0, 1, 2, 1], "2\\*\\*53|too large"),
    (1 << 53, [1 << 53, 1 << 53, 0], [0, 1, 2, 1], "exceeds|too large"),  # the sum leaves the exact range
])
def test_hostile_value_tables_are_format_errors(step, table, ranks, problem):
    w = ByteWriter()
    w.varint(2 if step is None else 6)  # path: value table, or (1.4) stepped value table
    w.varint(len(table))
    if step is not None:
        w.varint(step)
    side = encode_arrays([np.array(table)], [False])
    w.varint(len(side))
    w.raw(side)
    w.varint(4)  # order 0, plain array
    w.raw(encode_arrays([np.array(ranks)], [False]))
    with pytest.raises(SanFormatError, match=problem):
        decode_file(_one_channel_file(w.getvalue(), len(ranks)))


def test_a_value_table_on_a_fractional_grid_is_written_against_its_common_gap():
    sig = read_signal(DATA / "emg_healthy")  # values round(k * 50/3): gaps of 16 and 17
    data = sancodec.encode(sig, mode="lossless")
    frame = sancodec.codec.container.SanReader(data).read_frame(0)
    part = ByteReader(frame)
    assert ByteReader(part.raw(part.varint())).varint() == 6  # the stepped table (format 1.4)
    decoded = sancodec.codec.decode_file(data)
    # running contexts are 1.5; a file of one frame is 1.7 (its layout)
    assert data[5] == expected_minor(data, 8 if decoded.codings.get("msb") else 5 if decoded.codings.get("running")
                                     else 4)
    assert np.array_equal(decoded.signal.samples, sig.samples)
    from sancodec.codec.valuetable import _table_head

    table = np.unique(sig.samples[:, 0])
    plain_side = len(encode_arrays([np.concatenate([table[:1], np.diff(table) - 1])], [False]))
    assert len(_table_head(table)) < 0.5 * plain_side


@pytest.mark.parametrize("spread", [0, 1, 100, (1 << 16) - 1, 1 << 16, 1 << 40])
def test_distinct_ranks_are_np_uniques_from_a_count_or_a_sort(spread):
    from sancodec.codec import valuetable

    rng = np.random.default_rng(spread % 97)
    x = rng.integers(0, 11, 3000) * (spread // 10)  # few values, gaps between them
    x[:2] = 0, spread  # the spread reached exactly (a count per value below 2^16, a sort from there) ...
    x -= 1 << 40  # ... far from zero
    assert int(x.max()) - int(x.min()) == spread
    table, ranks = valuetable.distinct_ranks(x)
    expected_table, expected_ranks = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(table, expected_table)
    np.testing.assert_array_equal(ranks, expected_ranks.reshape(-1))
    assert table.dtype == np.int64 and ranks.shape == x.shape
    empty_table, empty_ranks = valuetable.distinct_ranks(x[:0])
    assert len(empty_table) == 0 and len(empty_ranks) == 0


def test_encoding_is_deterministic():
    sig = read_signal(DATA / "test01_00s")
    assert sancodec.encode(sig, mode="lossless") == sancodec.encode(sig, mode="lossless")
    assert sancodec.encode(sig, mode="san") == sancodec.encode(sig, mode="san")


def test_float_signal_near_lossless_in_physical_units_and_lossless_refused():
    x = np.random.default_rng(0).normal(size=(3000, 2)).cumsum(axis=0)
    sig = Signal(x, 250.0, ["a", "b"], ["mV", "mV"])
    back = sancodec.decode(sancodec.encode(sig, mode="near-lossless", max_error=0.01))
    assert np.abs(back.samples - x).max() <= 0.01 + 1e-12
    with pytest.raises(SanConfigError, match="integer samples"):
        sancodec.encode(sig, mode="lossless")


def test_referenced_model_needs_the_model(mitdb):
    spec = numpy_spec([9], seed=4)
    sig = mitdb.slice(0, 5000)
    data = sancodec.encode(sig, spec, "san", embed_model=False)
    assert read_info(data)["header"]["model"]["spec"] is None
    with pytest.raises(SanFormatError, match="not installed"):
        sancodec.decode(data)
    assert decode_file(data, model=spec).signal.n_samples == 5000
    embedded = sancodec.encode(sig, None, "san")
    assert len(data) < len(embedded) + 1000


def test_bad_arguments():
    sig = read_signal(DATA / "3000003_0003")
    with pytest.raises(SanConfigError):
        sancodec.encode(sig, mode="fast")
    with pytest.raises(SanConfigError):
        sancodec.encode(sig, mode="near-lossless", max_error=-1)
    with pytest.raises(SanConfigError):
        sancodec.encode(sig, mode="near-lossless")
    with pytest.raises(SanConfigError):
        sancodec.encode(sig, mode="lossless", max_error=2)
    with pytest.raises(SanConfigError):
        sancodec.encode(sig, mode="near-lossless", max_error=0.5)
    for huge in (1e300, (1 << 40) + 1):  # was an OverflowError, then a refusal of the encoder's own header
        with pytest.raises(SanConfigError, match="at most 2"):
            sancodec.encode(sig, mode="near-lossless", max_error=huge)
    with pytest.raises(SanConfigError, match="an array needs its sampling rate"):  # was an AttributeError
        sancodec.encode(sig.samples)
    with pytest.raises(SanConfigError, match="a pandas DataFrame or Series or a numpy array, not a list"):
        sancodec.encode(sig.samples.tolist(), fs=250)
    with pytest.raises(SanConfigError, match="carries its own rate"):  # was a TypeError naming encode_to_file
        sancodec.encode(sig, fs=sig.fs / 2)
    for path in ("x.wav", DATA / "x.wav"):  # (was told to wrap its samples in a Signal)
        with pytest.raises(SanConfigError, match=r"not a path: sancodec.encode\(sancodec.read_signal\("):
            sancodec.encode(path)
    with pytest.raises(SanConfigError, match="not a str .a path"):  # was an AttributeError on seek
        sancodec.decode(str(DATA / "x.san"))
    with pytest.raises(SanConfigError, match="not within the signal's"):  # was a complaint about a header
        sig.slice(10, 5)
    fast = Signal(sig.samples, 2e9, sig.channel_names, sig.units)  # past what a header holds: refused up front
    for mode, options in (("lossless", {}), ("lossy", {"prdn": 2}), ("near-lossless", {"max_error": 1})):
        with pytest.raises(SanConfigError, match="above the 1e"):
            sancodec.encode(fast, mode=mode, **options)
    y = sancodec.decode(sancodec.encode(sig, mode="near-lossless", max_error=1 << 40)).samples  # the reader's bound
    assert np.abs(y.astype(np.int64) - sig.samples).max() <= 1 << 40


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    sig = read_signal(DATA / "test01_00s")
    target = tmp_path / "out.san"
    target.write_bytes(b"previous contents")
    import sancodec.codec.api as codec

    def failing(*_a, **_k):
        raise RuntimeError("simulated failure while encoding")

    monkeypatch.setattr(codec, "encode", failing)
    with pytest.raises(RuntimeError):
        encode_file(sig, target, mode="lossless")
    assert target.read_bytes() == b"previous contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.san"]
    monkeypatch.undo()

    import sancodec._atomic as atomic

    def broken_replace(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        encode_file(sig, target, mode="lossless")
    assert target.read_bytes() == b"previous contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.san"]


def _pattern(values, gain=1.0, baseline=0):
    x = np.array(values * 8, dtype=np.int64)[:, None]
    return Signal(x, 100.0, ["a"], ["mV"], adc_gain=[gain], baseline=[baseline], fmt=["16"])


def test_report_figures_against_hand_computed_values():
    """The file holds y = o + d with o = [1, -1] * 8 and d = [1, 0] * 8; the report compares it with o.
    ||d|| = sqrt(8), ||o - mean o|| = 4: PRDN = PRD = 100 sqrt(8) / 4 = 70.71 %, SNR = 3.0103 dB;
    L~ = mean|d| / mean|o| = 0.5; no model: CR^-1 = 0, phi = 0.25; max error 1."""
    original, stored = _pattern([1, -1]), _pattern([2, -1])
    data = sancodec.encode(stored, mode="lossless", predictor="raw", frame_len=16)
    rep = make_report(original, data, original_bytes=32)
    assert rep.prdn == pytest.approx(70.710678) and rep.prd == pytest.approx(70.710678)
    assert rep.snr_db == pytest.approx(3.0103, abs=1e-4)
    assert rep.l_tilde == pytest.approx(0.5) and rep.cr_inv_paper == 0.0 and rep.phi == pytest.approx(0.25)
    assert rep.max_abs_error == 1.0 and rep.activations == 0 and rep.mode == "lossless"
    assert rep.cr_vs_16bit * rep.bits_per_sample == pytest.approx(16.0)  # CR against 16 bits x bits/sample
    assert rep.cr_vs_11bit * rep.bits_per_sample == pytest.approx(11.0)
    assert rep.cr_vs_original == pytest.approx(32 / len(data))
    json.dumps(rep.to_dict())


def _whole_record_figures(original: Signal, data: bytes) -> dict[str, object]:
    """The report's fidelity figures as it made them before it compared a block at a time: of the whole record at
    once, each by its metric (``metrics.prd``, ``prdn``, ``snr_db``, ``normalized_loss``)."""
    from sancodec.codec.gaps import invalid_values, outside
    from sancodec.metrics import normalized_loss, prd, prdn, snr_db
    from sancodec.report import as_coded

    decoded = decode_file(data)
    original = as_coded(original, decoded.header)
    x, y = original.samples, decoded.signal.samples
    mean = x.astype(np.float64).mean(axis=0)
    l_tilde = float(normalized_loss((y - mean).ravel()[None], (x - mean).ravel()[None])[0])
    px, py = original.physical(), Signal.from_header(original.header_dict(), y).physical()
    dropped = ~np.column_stack([outside(x[:, c], v) for c, v in enumerate(invalid_values(original))])
    gaps = np.isnan(px) | np.isnan(py) | dropped
    if gaps.any():
        counts, sums = (~gaps).sum(axis=0), np.where(gaps, 0.0, px).sum(axis=0)
        fill = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        px, py = np.where(gaps, fill, px), np.where(gaps, fill, py)
    return {"l_tilde": l_tilde, "prd": prd(px, py), "prdn": prdn(px - px.mean(axis=0), py - px.mean(axis=0)),
            "snr_db": snr_db(px - px.mean(axis=0), py - px.mean(axis=0)),
            "max_abs_error": float(np.abs(y.astype(np.float64) - x.astype(np.float64)).max()),
            "prdn_per_channel": [prdn(x[~dropped[:, c], c], y[~dropped[:, c], c]) for c in range(x.shape[1])],
            "activations": decoded.activations}


def test_the_report_compares_a_block_at_a_time_with_the_figures_of_the_whole_record(mitdb, monkeypatch):
    """``make_report`` compares the record a block of rows at a time (a 24 h Holter's report held the decode and a
    dozen float copies of the record at once, 4.0 GB): its figures are those of the whole record at once but for the
    order of the sums, blocks of 1000 rows here. A record with invalid samples at the start, the middle and the end
    of its channels (one channel all gaps in a block), lossless, lossy and a SAN file (activations counted);
    floats on a step; decimals with gaps; two rates."""
    import sancodec.report

    monkeypatch.setattr(sancodec.report, "REPORT_ROWS", 1000)
    rng = np.random.default_rng(4)
    ecg = mitdb.slice(0, 12_000)
    gapped = ecg.samples.copy()
    gapped[:50, 0] = gapped[5000:7100, 1] = gapped[-30:, 0] = -32768  # (format 212's invalid sample: -2048)
    gapped = Signal(np.where(gapped == -32768, -2048, gapped), ecg.fs, ecg.channel_names, ecg.units,
                    adc_gain=[86.0, 200.0], baseline=[3, -7], fmt=["212", "212"])
    floats = Signal(np.cumsum(rng.normal(size=(9000, 2)), axis=0) * [1.0, 300.0], 250.0)
    decimals = np.round(np.sin(np.arange(7000) / 9) * 3, 3)
    decimals[100:400] = np.nan
    slow = ecg.samples.copy()
    slow[:, 1] = np.repeat(slow[::4, 1], 4)
    two_rates = Signal(slow, 360.0, samples_per_frame=[4, 1], adc_gain=[200.0, 10.0], baseline=[0, 5])
    offset = Signal(floats.samples + [1e9, -1e11], 250.0)  # (far from 0: each channel's sums taken about its mean)
    filled = Signal(np.where(gapped.samples == -2048, 0, gapped.samples), gapped.fs, gapped.channel_names,
                    gapped.units, adc_gain=gapped.adc_gain, baseline=gapped.baseline, fmt=gapped.fmt)
    cases = [(gapped, {}), (gapped, {"mode": "lossy", "prdn": 3}), (ecg, {"mode": "san"}),
             (floats, {"mode": "lossy", "prdn": 2}), (floats, {"mode": "near-lossless", "max_error": 0.01}),
             (offset, {"mode": "lossy", "prdn": 2}),
             (sancodec.io.arrays.array_signal(decimals, 100.0), {"mode": "lossy", "prdn": 5}),
             (two_rates, {"mode": "lossy", "prdn": 4})]
    for signal, options in [*cases, (filled, gapped)]:  # (the last: a file whose gaps its original has not)
        data = sancodec.encode(options) if isinstance(options, Signal) else sancodec.encode(signal, **options)
        options = {} if isinstance(options, Signal) else options
        rep, whole = make_report(signal, data), _whole_record_figures(signal, data)
        for name, value in whole.items():
            assert getattr(rep, name) == pytest.approx(value, rel=1e-9, abs=1e-12), (options, name)
        assert rep.activations > 0 if options.get("mode") == "san" else rep.activations == 0


@hypothesis.settings(max_examples=40)
@hypothesis.given(st.data())
def test_the_reports_figures_are_the_whole_records_for_any_record_and_block(data):
    """A property of ``make_report`` against the whole-record computation (:func:`_whole_record_figures`): any rows
    and channels, gains and baselines (a gain of 0 taken as 1), invalid samples anywhere (a channel of them alone),
    lossless or lossy, in blocks of any size."""
    import sancodec.report

    rows = data.draw(st.integers(20, 3000), label="rows")
    channels = data.draw(st.integers(1, 3), label="channels")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.integers(-40, 41, (rows, channels)), axis=0) + rng.integers(-500, 500, channels)
    gaps = rng.random((rows, channels)) < data.draw(st.sampled_from([0.0, 0.01, 0.3, 1.0]), label="gap share")
    x = np.where(gaps, -32768, np.clip(x, -32767, 32767))
    gains = [data.draw(st.sampled_from([0.0, 1.0, 86.0, 200.0, 0.37]), label="gain") for _ in range(channels)]
    signal = Signal(x, 250.0, adc_gain=gains, baseline=[int(b) for b in rng.integers(-9, 9, channels)],
                    fmt=["16"] * channels)
    options = data.draw(st.sampled_from([{}, {"mode": "lossy", "prdn": 3}, {"mode": "near-lossless",
                                                                           "max_error": 2}]), label="mode")
    encoded = sancodec.encode(signal, **options)
    block = data.draw(st.integers(1, 4000), label="block")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sancodec.report, "REPORT_ROWS", block)
        rep = make_report(signal, encoded)
    for name, value in _whole_record_figures(signal, encoded).items():
        assert getattr(rep, name) == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_the_report_holds_a_block_of_float_temporaries_not_the_records(monkeypatch):
    """``make_report`` of a record of 2^20 rows x 2 channels (16 MB of int64), its decoder's windows kept small: the
    most numpy held at once beyond the record is under the record's own size (a block's float temporaries), where it
    was 7 times it (the decode and a dozen float copies of the record)."""
    from common import traced_peak

    from sancodec.codec import pipeline

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.integers(-20, 21, (1 << 20, 2)), axis=0)
    x[1000:1200, 0] = -32768
    signal = Signal(x, 360.0, fmt=["16", "16"], adc_gain=[200.0, 86.0], baseline=[0, 4])
    data = sancodec.encode(signal, frame_len=4096)
    monkeypatch.setattr(pipeline, "WINDOW_ROWS", 1 << 14)  # (the decoder's own memory: a window of frames)
    reports = []
    peak = traced_peak(lambda: reports.append(make_report(signal, data)))
    rep = reports[0]
    assert peak < x.nbytes, peak / x.nbytes
    assert rep.max_abs_error == 0 and rep.prdn_per_channel == [0.0, 0.0] and rep.prd == 0


def test_report_of_a_lossy_file_counts_activations_and_kernel_sizes(mitdb):
    sig = mitdb.slice(0, 36000)
    lossy = make_report(sig, sancodec.encode(sig, mode="san"))
    sizes = sancodec.san.bundled.default_model().kernel_sizes
    assert lossy.kernel_sizes_sum == sum(sizes) == 40 and lossy.activations > 0
    assert lossy.cr_inv_paper == pytest.approx((40 + 2 * lossy.activations) / sig.samples.size)


def test_lossy_float_sources_round_trip_on_their_own_scale():
    """Float samples (.npy/CSV) are coded lossy on a grid of std / 1024 per channel; the decoded
    signal keeps the float type, shape and metadata, with an error far below the signal's spread."""
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(6000, 2)), axis=0) * np.array([1.0, 1000.0])
    sig = Signal(x, 250.0, ["a", "b"], ["mV", "uV"])
    data = check_encode_decode(sig, mode="san")
    back = sancodec.decode(data)
    assert back.samples.dtype.kind == "f"
    quantum = sancodec.codec.read_info(data)["header"]["quantum"]
    assert quantum == pytest.approx(list(x.std(axis=0) / 1024))
    for ch in range(2):
        assert sancodec.metrics.prdn(x[:, ch], back.samples[:, ch]) < 100


def test_auto_skips_the_san_path_that_all_tries(monkeypatch, mitdb_100):
    from sancodec.codec import pipeline

    sig = sancodec.read_signal(mitdb_100).slice(0, 20000)
    tried = sancodec.encode(sig, mode="lossless", predictor="all", frame_len=4096)
    assert np.array_equal(sancodec.decode(tried).samples, sig.samples)

    def refuse(*_args, **_kwargs):
        raise AssertionError("auto must not run the SAN in lossless mode")

    monkeypatch.setattr(pipeline, "san_activations", refuse)
    auto = sancodec.encode(sig, mode="lossless", frame_len=4096)
    assert len(tried) <= len(auto)
    assert np.array_equal(sancodec.decode(auto).samples, sig.samples)
    with pytest.raises(sancodec.SancodecError, match="predictor must be one of"):
        sancodec.encode(sig, mode="lossless", predictor="best")


def test_flat_stretches_cost_a_few_bytes_and_files_stay_within_the_decoders_limits(monkeypatch):
    from sancodec.codec import encoder
    from sancodec.codec.api import decode_file
    from sancodec.codec.limits import DecodeLimits

    x = np.zeros((100_000, 2), dtype=np.int64)
    x[:, 1] = np.arange(100_000) % 7  # one flat channel, one that is not
    sig = sancodec.Signal(x, 250.0, ["flat", "ramp"], ["mV", "mV"])
    data = sancodec.encode(sig)
    decoded = decode_file(data)
    assert np.array_equal(decoded.signal.samples, x)
    assert decoded.codings["constant"] == 1  # the flat channel's one frame (2^17 samples)
    flat_only = sancodec.encode(sancodec.Signal(x[:, :1], 250.0, ["flat"], ["mV"]))
    assert len(flat_only) < 120  # 16 preamble + 41 header + one frame (12 head + 3 payload + 12 index) + 20 trailer
    # A file the decoder's default limits would refuse is never written.
    monkeypatch.setattr(encoder, "DEFAULT_LIMITS", DecodeLimits(max_values=1000, values_per_byte=10))
    with pytest.raises(sancodec.SanConfigError, match="nothing was written"):
        sancodec.encode(sig)


def test_a_record_constant_in_every_channel_is_one_frame():
    x = np.tile(np.array([25, 50, 75], dtype=np.int64), (1_000_000, 1))  # like wfdb's flac_3_constant
    sig = sancodec.Signal(x, 250.0, ["a", "b", "c"], ["mV"] * 3)
    data = sancodec.encode(sig)
    assert sancodec.codec.container.SanReader(data).n_frames == 1 and len(data) < 200
    assert np.array_equal(sancodec.decode(data).samples, x)
    framed = sancodec.encode(sig, frame_len=1 << 15)  # an explicit frame length is kept
    assert sancodec.codec.container.SanReader(framed).n_frames == 31 and len(framed) > 5 * len(data)
    x[500_000, 1] = 51  # one value off: the default frame length again
    assert sancodec.codec.container.SanReader(sancodec.encode(sancodec.Signal(x, 250.0, ["a", "b", "c"],
                                                                              ["mV"] * 3))).n_frames == 8


def test_a_constant_frame_in_a_lossy_file_decodes_as_in_a_lossless_one():
    """Format 1.6: a lossy file may hold the exact codings of a lossless file (a time-domain channel)."""
    sig = sancodec.Signal(np.full((3000, 1), 5, dtype=np.int64), 250.0, ["a"], ["mV"])
    data = sancodec.encode(sig, frame_len=1024)
    header = sancodec.codec.container.SanReader(data).header
    header["mode"], header["sample_crc32"] = "lossy", None
    decoded = sancodec.codec.decode_file(rewrap(data, header=header))
    assert decoded.codings == {"constant": 3}
    np.testing.assert_array_equal(decoded.signal.samples, sig.samples)
