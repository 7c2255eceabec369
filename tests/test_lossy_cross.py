"""Lossy channels coded as their difference from earlier decoded ones (format 1.10, ``codec.lossycross``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from common import rewrap
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import decode_file, lossycross, lossyfile, read_info
from sancodec.codec.anatomy import lossy_anatomy
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.interchannel import cross_head, nested_difference, predict_from_references, read_cross_head
from sancodec.codec.lossy import LossyTarget
from sancodec.errors import SanFormatError
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"


def _twelve_lead_like(n: int = 6000, seed: int = 0) -> Signal:
    """Leads I and II (beats and their own noise), then III = II − I and aVR = −(I + II) / 2 as a cart derives
    them (rounded), and a chest lead unlike the others."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 500.0
    phase = t % 0.8
    qrs, wave = np.exp(-((phase - 0.3) ** 2) / 2e-4), np.exp(-((phase - 0.55) ** 2) / 4e-3)  # unlike in I and II
    lead1 = np.rint(400 * qrs - 150 * wave + 60 * np.sin(2 * np.pi * 0.3 * t) + rng.normal(0, 6, n)).astype(np.int64)
    lead2 = np.rint(300 * qrs + 250 * wave - 80 * np.sin(2 * np.pi * 0.2 * t) + rng.normal(0, 6, n)).astype(np.int64)
    beat = qrs
    chest = np.rint(500 * np.roll(beat, 9) * np.sin(2 * np.pi * 0.1 * t) + rng.normal(0, 15, n)).astype(np.int64)
    x = np.stack([lead1, lead2, lead2 - lead1, -((lead1 + lead2) >> 1), chest], axis=1)
    return Signal(x, 500.0, ["I", "II", "III", "aVR", "V1"], ["mV"] * 5, adc_gain=[200.0] * 5, baseline=[0] * 5,
                  fmt=["16"] * 5)


def _on_their_own(monkeypatch) -> None:
    monkeypatch.setattr(lossyfile, "predict_lossy_across", lambda *args: None)


@pytest.mark.parametrize("target", [1.0, 2.0, 5.0, 9.0])
def test_derived_leads_cost_a_fraction_of_their_own_coding(target, monkeypatch):
    sig = _twelve_lead_like()
    data = sancodec.encode(sig, mode="lossy", effort="best", prdn=target)
    back = sancodec.decode(data).samples
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(sig.n_channels):  # every channel at its target, and the header says what it decodes to
        got = prdn(sig.samples[:, ch], back[:, ch])
        assert got <= target and recorded[ch] == pytest.approx(got, abs=1e-6)
    anatomy = lossy_anatomy(data)
    assert [a.name for a in anatomy if any(k.startswith("difference") for k in a.frames)] == ["III", "aVR"]
    for channel in (a for a in anatomy if all("wavelet" in kind for kind in a.frames)):  # references: with the heads
        assert channel.bytes == pytest.approx(channel.head_bytes + channel.template_bytes + channel.mains_bytes
                                              + sum(b.bytes for b in channel.bands.values()))
    _on_their_own(monkeypatch)
    alone = lossy_anatomy(sancodec.encode(sig, mode="lossy", effort="best", prdn=target))
    for ch in (2, 3):  # each derived lead in at most a third of what it takes on its own
        assert anatomy[ch].bytes < alone[ch].bytes / 3
    assert [a.bytes for a in anatomy[:2]] == [a.bytes for a in alone[:2]]  # the references as they were
    assert anatomy[4].bytes == alone[4].bytes  # the chest lead is left alone


def test_the_decoded_references_are_the_ones_predicted_from():
    """The difference is taken from the references as decoded, not as recorded: the derived leads' error is
    their difference's coding error alone, so their PRDN stays at their target however coarse I and II are."""
    sig = _twelve_lead_like(seed=3)
    data = sancodec.encode(sig, mode="lossy", prdn=9.0)
    decoded = decode_file(data)
    assert decoded.codings["cross"] == 2
    back = decoded.signal.samples
    exact = back[:, 1] - back[:, 0]  # III from the decoded I and II: no better than what was coded
    assert prdn(sig.samples[:, 2], back[:, 2]) <= 9.0 < prdn(sig.samples[:, 0], back[:, 0]) * 1.5
    assert np.abs(back[:, 2] - exact).max() <= np.abs(sig.samples[:, 2] - exact).max() + 1


def test_a_record_coded_in_blocks_predicts_each_block_from_its_own_references(monkeypatch):
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 4096)
    sig = _twelve_lead_like(n=12000, seed=5)
    data = sancodec.encode(sig, mode="lossy", prdn=2.0, frame_len=2048)
    decoded = decode_file(data)
    assert decoded.codings["cross"] == 2 * 6  # III and aVR in each of the six frames
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(sig.n_channels):
        got = prdn(sig.samples[:, ch], decoded.signal.samples[:, ch])
        assert got <= 2.0 and recorded[ch] == pytest.approx(got, abs=1e-6)


def test_byte_budgets_and_channels_on_their_own_keep_their_codings(monkeypatch):
    sig = _twelve_lead_like()
    assert "cross" not in decode_file(sancodec.encode(sig, mode="lossy", bps=2.0)).codings  # no PRDN to scale
    assert "cross" in decode_file(sancodec.encode(sig, mode="lossy", snr=30.0)).codings  # an SNR bound is one
    monkeypatch.setattr(lossycross, "SPREAD_SHARE", 0.0)
    assert "cross" not in decode_file(sancodec.encode(sig, mode="lossy", prdn=2.0)).codings


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([0.5, 1.0, 2.0, 5.0, 12.0]),
       st.sampled_from(["best", "balanced", "fast"]))
def test_every_channel_meets_its_target_when_coded_from_others(seed, target, effort):
    """Random combinations (weights in halves, as the format stores them, with noise of random size)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(64, 5000))
    a = rng.normal(size=n).cumsum() * rng.uniform(1, 50)
    b = np.sin(np.arange(n) / rng.uniform(3, 80)) * rng.uniform(10, 500) + rng.normal(size=n) * 3
    w = rng.integers(-8, 9, size=2) / 2
    c = w[0] * a + w[1] * b + rng.normal(size=n) * rng.choice([0.0, 0.5, 5.0])
    x = np.rint(np.stack([a, b, c], axis=1) + rng.integers(-500, 500)).astype(np.int64)
    sig = Signal(x, 250.0, ["a", "b", "c"], ["mV"] * 3, fmt=["32"] * 3)
    data = sancodec.encode(sig, mode="lossy", prdn=target, effort=effort)
    back = sancodec.decode(data).samples
    for ch in range(3):
        if np.ptp(x[:, ch]):
            assert prdn(x[:, ch], back[:, ch]) <= target


@pytest.mark.parametrize("refs, match", [([(2, 1)], "not an earlier one"), ([(3, 1)], "not an earlier one"),
                                         ([(0, 5)], "."), ([(0, 4), (1, 4)], None)])
def test_a_wavelet_difference_refers_only_to_earlier_channels_and_stays_in_range(refs, match):
    """A hostile file: channel 2's wavelet difference re-pointed at itself or at a later channel, or weighted
    past the format's limit (|weight| <= 4), is refused; at that limit it decodes to what the file says."""
    sig = _twelve_lead_like(n=3000)
    data = sancodec.encode(sig, mode="lossy", prdn=2.0)
    reader = SanReader(data)
    frame = ByteReader(reader.read_frame(0))
    parts = [frame.raw(frame.varint()) for _ in range(sig.n_channels)]
    assert nested_difference(parts[2]) is not None
    head = ByteReader(parts[2], "frame")
    head.varint()
    honest_refs, honest_shift = read_cross_head(head)
    parts[2] = cross_head(refs, 0) + nested_difference(parts[2])
    w = ByteWriter()
    for part in parts:
        w.varint(len(part))
        w.raw(part)
    hostile = rewrap(data, frames=[w.getvalue()])
    if match is None:  # within range: it decodes, channel 2 its difference plus what the file now says
        back, honest = decode_file(hostile).signal.samples, decode_file(data).signal.samples
        said = predict_from_references([honest[:, 0], honest[:, 1]], honest_refs, honest_shift, 2)
        np.testing.assert_array_equal(back[:, 2], honest[:, 2] - said + 4 * honest[:, 0] + 4 * honest[:, 1])
        np.testing.assert_array_equal(back[:, :2], honest[:, :2])
    else:
        with pytest.raises(SanFormatError, match=match):
            decode_file(hostile)


def test_a_combination_past_the_formats_bound_is_not_used(monkeypatch):
    """The prediction refuses a combination whose sum could pass 2^53 (samples near 2^50); the encoder then
    keeps the channel's own coding instead of failing."""
    sig = _twelve_lead_like(n=3000)

    def past_the_bound(*args):
        raise SanFormatError("frame: an inter-channel prediction exceeds 2**53")

    monkeypatch.setattr(lossycross, "predict_from_references", past_the_bound)
    refused = sancodec.encode(sig, mode="lossy", prdn=2.0)
    _on_their_own(monkeypatch)
    assert refused == sancodec.encode(sig, mode="lossy", prdn=2.0)


@pytest.mark.parametrize("effort", ["best", "balanced", "fast"])
def test_derived_leads_are_coded_only_as_differences_and_the_file_is_the_one_they_won(effort, monkeypatch):
    """III and aVR (combinations of I and II to within the rounding) are found derived before any coding, are not
    coded on their own, and the file is the one weighing their own codings made: their differences won it."""
    sig = _twelve_lead_like()
    x = sig.samples
    fitted = lossycross.recorded_fits(lambda ch: [x[:, ch]], [LossyTarget(prdn=2.0)] * 5,
                                      [1] * 5)
    assert lossycross.derived_channels(fitted) == {2, 3}
    coded = []
    real = lossyfile.code_channel
    monkeypatch.setattr(lossyfile, "code_channel", lambda job: coded.append(len(job.frames[0])) or real(job))
    skipped = sancodec.encode(sig, mode="lossy", prdn=2.0, effort=effort)
    assert len(coded) == 3  # I, II and V1 on their own; III and aVR only as differences (lossycross._as_difference)
    monkeypatch.setattr(lossycross, "DERIVED_SHARE", 0.0)  # nothing derived: every channel coded on its own first
    assert sancodec.encode(sig, mode="lossy", prdn=2.0, effort=effort) == skipped
    assert len(coded) == 3 + 5


def test_a_derived_lead_whose_difference_cannot_be_coded_is_coded_on_its_own(monkeypatch):
    sig = _twelve_lead_like(seed=2)
    monkeypatch.setattr(lossycross, "_as_difference", lambda *args: None)
    data = sancodec.encode(sig, mode="lossy", prdn=3.0, effort="balanced")
    back = sancodec.decode(data).samples
    assert decode_file(data).codings.get("cross", 0) == 0
    for ch in range(sig.n_channels):
        assert prdn(sig.samples[:, ch], back[:, ch]) <= 3.0
    _on_their_own(monkeypatch)  # the difference turned off altogether: the same, every channel on its own
    assert sancodec.encode(sig, mode="lossy", prdn=3.0, effort="balanced") == data


def test_near_the_lossless_regime_derived_leads_are_still_predicted_exactly(monkeypatch):
    """Where the other channels come out exact (a tight PRDN), exact derived leads take the exact prediction from
    them (``timedomain.predict_across``), which needs their own codings: those are made, and the file is the one
    made with nothing taken as derived (test01_00s' first 2000 samples with III and aVR derived, as the golden
    file test01_00s_lossy_cross.san has them; coded as lossy differences instead, its aVR differs)."""
    sig = read_signal(DATA / "test01_00s").slice(0, 2000)
    s = sig.samples
    s[:, 2] = s[:, 1] - s[:, 0]
    s[:, 3] = -((s[:, 0] + s[:, 1]) >> 1)
    data = sancodec.encode(sig, mode="lossy", prdn=0.5, frame_len=1024)
    np.testing.assert_array_equal(sancodec.decode(data).samples, sig.samples)
    assert decode_file(data).codings["cross"] == 4
    monkeypatch.setattr(lossycross, "DERIVED_SHARE", 0.0)
    assert sancodec.encode(sig, mode="lossy", prdn=0.5, frame_len=1024) == data


def _leads_in_frames(seed: int = 0) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Four leads of two frames each, the third and fourth combinations of the first two (as III and aVR are), and
    each lead's samples whole (its PRDN reference)."""
    rng = np.random.default_rng(seed)
    t = np.arange(6000)
    one = (300 * np.sin(t / 37) + rng.normal(0, 15, len(t))).astype(np.int64)
    two = (500 * np.sin(t / 37 + 0.4) + rng.normal(0, 15, len(t))).astype(np.int64)
    leads = [one, two, two - one + rng.integers(-1, 2, len(t)), -((one + two) >> 1)]
    return [[x[:4000], x[4000:]] for x in leads], [x.astype(np.float64) for x in leads]


def test_the_exact_file_is_every_lead_coded_then_predicted_across_and_stops_once_past_the_bytes_to_beat(monkeypatch):
    """``timedomain.exact_file`` codes the leads in order, each predicted from the exact ones before it: the payloads
    of every lead coded exactly and then ``predict_across``. Given the bytes to beat, it codes no lead past the
    first whose sum reaches them (None: the lossy file is kept), and returns the same payloads where they stay
    under."""
    from sancodec.codec import timedomain
    from sancodec.codec.frames import encode_channel_frame

    frames, refs = _leads_in_frames()
    plan = timedomain.EXACT_QUICK
    reference = [[encode_channel_frame(chans[i], None, plan).payload() for chans in frames] for i in range(2)]
    timedomain.predict_across(reference, frames, [True] * 4, plan)
    whole = timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan)
    assert whole is not None and whole[0] == reference
    total = sum(len(p) for parts in reference for p in parts)
    assert timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan, total + 1) == whole
    assert timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan, total) is None
    coded: list[int] = []
    real = timedomain.encode_channel_frame
    monkeypatch.setattr(timedomain, "encode_channel_frame", lambda x, *a: coded.append(len(x)) or real(x, *a))
    first = sum(len(parts[0]) for parts in reference)
    assert timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan, first) is None
    assert len(coded) == 2  # the first lead's two frames, no more


def test_exact_leads_of_a_lossy_file_are_fitted_from_the_frame_gram_the_same_payloads(monkeypatch):
    """``timedomain.predict_across`` and ``exact_file`` fit each exact lead on the ones before it from its frame's
    ``interchannel.FrameGram`` (made once a frame, as the lossless encoder does): the payloads each lead's own Gram
    matrix gave."""
    from sancodec.codec import interchannel, timedomain
    from sancodec.codec.frames import encode_channel_frame

    frames, refs = _leads_in_frames(1)
    plan = timedomain.EXACT_QUICK
    made: list[object] = []
    real = interchannel.FrameGram.of
    monkeypatch.setattr(interchannel.FrameGram, "of", lambda channels: made.append(real(channels)) or made[-1])
    own = [[encode_channel_frame(chans[i], None, plan).payload() for chans in frames] for i in range(2)]
    shared = [list(p) for p in own]
    timedomain.predict_across(shared, frames, [True] * 4, plan)
    whole = timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan)
    assert len(made) == 4 and all(g is not None for g in made)  # a Gram a frame, in each
    monkeypatch.setattr(interchannel.FrameGram, "of", lambda channels: None)
    apart = [list(p) for p in own]
    timedomain.predict_across(apart, frames, [True] * 4, plan)
    assert shared == apart and shared != own  # (some lead was predicted)
    assert timedomain.exact_file(frames, refs, [1.0] * 4, frames, plan) == whole
