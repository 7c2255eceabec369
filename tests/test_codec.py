"""The .san codec: round trips in every mode, random access, determinism, atomic writes, reports."""

from __future__ import annotations

import bz2
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import sancodec
from sancodec import SanConfigError, SanFormatError, Signal, read_signal
from sancodec.codec import decode_file, encode_file, read_info
from sancodec.codec.entropy import ByteWriter, encode_arrays
from sancodec.metrics import phi_scores
from sancodec.report import make_report
from sancodec.san.bundled import default_model
from sancodec.train.model import SAN

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
    sig = read_signal(DATA / name)
    data = sancodec.encode(sig, mode="lossless")
    assert_lossless(sig, sancodec.decode(data))


def test_mitdb_lossless_keeps_annotations_and_beats_raw(mitdb):
    data = sancodec.encode(mitdb, mode="lossless")
    back = sancodec.decode(data)
    assert_lossless(mitdb, back)
    assert back.annotations[0].equals(mitdb.annotations[0])
    assert len(data) * 8 / mitdb.samples.size < 4.142  # FLAC -8 on channel 0 (BASELINES.md)


@pytest.mark.parametrize("name", RECORDS + ["mitdb"])
@pytest.mark.parametrize("max_error", [1, 3])
def test_near_lossless_bounds_every_sample(name, max_error, mitdb):
    sig = mitdb.slice(0, 40000) if name == "mitdb" else read_signal(DATA / name)
    back = sancodec.decode(sancodec.encode(sig, mode="near-lossless", max_error=max_error))
    assert np.abs(back.samples - sig.samples).max() <= max_error
    assert back.fmt == sig.fmt
    for got, want in zip(back.annotations, sig.annotations, strict=True):
        assert got.equals(want)


@pytest.mark.parametrize("name", RECORDS + ["mitdb"])
def test_lossy_decodes_with_the_phi_the_model_predicts(name, mitdb):
    spec = default_model()
    frame = 4096 if name == "mitdb" else 512
    sig = mitdb if name == "mitdb" else read_signal(DATA / name)
    n = min(sig.n_samples // frame, 8) * frame
    sig = sig.slice(0, n)
    decoded = decode_file(sancodec.encode(sig, spec, "lossy", frame_len=frame))
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
    assert full.codings == {"table": 2}
    assert len(data) < len(bz2.compress(sig.samples[:, 0].astype("<i2").tobytes(), 9))  # BASELINES' best
    part = decode_file(data, start=30000, end=40000)
    np.testing.assert_array_equal(part.signal.samples, sig.samples[30000:40000])


def _one_channel_file(part: bytes, length: int) -> bytes:
    """A lossless container around one hand-made channel payload (valid CRCs)."""
    sig = Signal(np.arange(length)[:, None], 100.0, ["a"], ["mV"], adc_gain=[1.0], baseline=[0], fmt=["16"])
    header = sancodec.codec.container.SanReader(sancodec.encode(sig, mode="lossless", frame_len=1024)).header
    w = ByteWriter()
    w.varint(len(part))
    w.raw(part)
    out = io.BytesIO()
    sancodec.codec.container.write_container(out, header, [w.getvalue()])
    return out.getvalue()


@pytest.mark.parametrize(("table", "ranks", "problem"), [
    ([0, 5, 5], [0, 1, 2, 3], "rank outside"),
    ([0, 5, -2], [0, 1, 2, 1], "not increasing"),
])
def test_hostile_value_tables_are_format_errors(table, ranks, problem):
    w = ByteWriter()
    w.varint(2)  # path: value table
    w.varint(len(table))
    side = encode_arrays([np.array(table)], [False])
    w.varint(len(side))
    w.raw(side)
    w.varint(4)  # order 0, plain array
    w.raw(encode_arrays([np.array(ranks)], [False]))
    with pytest.raises(SanFormatError, match=problem):
        decode_file(_one_channel_file(w.getvalue(), len(ranks)))


def test_encoding_is_deterministic():
    sig = read_signal(DATA / "test01_00s")
    assert sancodec.encode(sig, mode="lossless") == sancodec.encode(sig, mode="lossless")
    assert sancodec.encode(sig, mode="lossy") == sancodec.encode(sig, mode="lossy")


def test_float_signal_near_lossless_in_physical_units_and_lossless_refused():
    x = np.random.default_rng(0).normal(size=(3000, 2)).cumsum(axis=0)
    sig = Signal(x, 250.0, ["a", "b"], ["mV", "mV"])
    back = sancodec.decode(sancodec.encode(sig, mode="near-lossless", max_error=0.01))
    assert np.abs(back.samples - x).max() <= 0.01 + 1e-12
    with pytest.raises(SanConfigError, match="integer samples"):
        sancodec.encode(sig, mode="lossless")


def test_referenced_model_needs_the_model(mitdb):
    spec = SAN([9], "peaks", seed=4).to_spec()
    sig = mitdb.slice(0, 5000)
    data = sancodec.encode(sig, spec, "lossy", embed_model=False)
    assert read_info(data)["header"]["model"]["spec"] is None
    with pytest.raises(SanFormatError, match="not installed"):
        sancodec.decode(data)
    assert decode_file(data, model=spec).signal.n_samples == 5000
    embedded = sancodec.encode(sig, None, "lossy")
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


def test_report_figures(mitdb):
    sig = mitdb.slice(0, 36000)
    data = sancodec.encode(sig, mode="near-lossless", max_error=2)
    rep = make_report(sig, data, original_bytes=36000 * 3)
    assert rep.max_abs_error <= 2 and rep.mode == "near-lossless"
    assert rep.bits_per_sample == pytest.approx(len(data) * 8 / sig.samples.size)
    assert rep.cr_vs_11bit == pytest.approx(sig.samples.size * 11 / 8 / len(data))
    assert rep.cr_vs_original == pytest.approx(36000 * 3 / len(data))
    assert 0 < rep.prdn < 10 and rep.snr_db > 20
    json.dumps(rep.to_dict())
    lossy = make_report(sig, sancodec.encode(sig, mode="lossy"))
    assert lossy.activations > 0 and lossy.phi == pytest.approx(0.5 * (lossy.cr_inv_paper + lossy.l_tilde))
    assert lossy.bits_per_sample < rep.bits_per_sample
