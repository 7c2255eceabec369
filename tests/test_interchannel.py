"""Inter-channel prediction (path 5): derived ECG leads cost little, and hostile references are refused."""

from __future__ import annotations

import numpy as np
import pytest
from common import frame_of, rewrap

import sancodec
from sancodec.codec.api import decode_file
from sancodec.codec.entropy import ByteReader, ByteWriter
from sancodec.codec.interchannel import CANDIDATE_CHANNELS, MAX_WEIGHT, FrameGram, cross_head, fits
from sancodec.codec.waveletframe import needs_minor
from sancodec.errors import SanFormatError


def _limb_leads(n: int = 20000, seed: int = 0) -> sancodec.Signal:
    """Leads I and II, then III = II - I and aVR = -(I + II)/2 in integers, as an ECG cart stores them."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    lead1 = (300 * np.sin(t / 40) + rng.normal(0, 20, n)).astype(np.int64)
    lead2 = (500 * np.sin(t / 40 + 0.3) + rng.normal(0, 20, n)).astype(np.int64)
    lead3 = lead2 - lead1 + rng.integers(-1, 2, n)
    avr = -((lead1 + lead2) >> 1)
    x = np.stack([lead1, lead2, lead3, avr], axis=1)
    return sancodec.Signal(x, 500.0, ["I", "II", "III", "aVR"], ["mV"] * 4, fmt=["16"] * 4)


def test_derived_leads_are_coded_from_the_leads_they_come_from():
    sig = _limb_leads()
    data = sancodec.encode(sig, frame_len=8192)
    decoded = decode_file(data)
    assert np.array_equal(decoded.signal.samples, sig.samples)
    assert decoded.codings["cross"] == 2 * 3  # III and aVR in each of the three frames
    alone = [len(sancodec.encode(sig.select_channels([k]), frame_len=8192)) for k in range(4)]
    assert len(data) < 0.75 * sum(alone)


def test_unrelated_channels_do_not_use_it(mitdb_100):
    sig = sancodec.read_signal(mitdb_100).slice(0, 40000)
    assert "cross" not in decode_file(sancodec.encode(sig)).codings


def _file_with_second_channel(part: bytes) -> bytes:
    sig = _limb_leads(2000)
    base = sancodec.encode(sig.select_channels([0, 1]), frame_len=4096)
    reader = sancodec.codec.container.SanReader(base)
    from sancodec.codec.entropy import ByteReader

    r = ByteReader(reader.read_frame(0))
    first = r.raw(r.varint())
    return rewrap(base, frames=[frame_of([first, part])])  # its checksums no longer hold: decode a range


def _cross_part(refs: list[tuple[int, int]], shift: int, nested: bytes) -> bytes:
    w = ByteWriter()
    w.varint(5)
    w.varint(len(refs))
    for channel, weight in refs:
        w.varint(channel)
        w.svarint(weight)
    w.varint(shift)
    return w.getvalue() + nested


def _constant_part(value: int) -> bytes:
    w = ByteWriter()
    w.varint(4)
    w.svarint(value)
    return w.getvalue()


def test_a_well_formed_reference_decodes():
    data = _file_with_second_channel(_cross_part([(0, 2)], 1, _constant_part(7)))
    back = sancodec.decode(data, 0, 1999).samples
    assert np.array_equal(back[:, 1], back[:, 0] + 7)


def _file_of_parts(signal: sancodec.Signal, parts: dict[int, bytes]) -> bytes:
    """``signal`` coded in one frame, the channel-frames of ``parts`` (channel: payload) put in place of its own."""
    base = sancodec.encode(signal, frame_len=4096)
    r = ByteReader(sancodec.codec.container.SanReader(base).read_frame(0))
    own = [r.raw(r.varint()) for _ in range(signal.n_channels)]
    return rewrap(base, frames=[frame_of([parts.get(c, p) for c, p in enumerate(own)])])


def test_a_chain_of_references_and_references_across_rates():
    """A channel predicted from one that is itself predicted decodes from that one's samples (the decoder puts the
    channels in the frame's block as they decode, the predicted ones after, in order); a channel at a slower rate
    than the frame's cannot be predicted, nor a full-rate one from a slower one: refused in one line."""
    x = _limb_leads(2000).samples[:, :3]
    chain = _file_of_parts(sancodec.Signal(x, 500.0), {1: _cross_part([(0, 2)], 1, _constant_part(7)),
                                                       2: _cross_part([(1, 1), (0, -1)], 0, _constant_part(3))})
    back = sancodec.decode(chain, 0, 1999).samples
    assert np.array_equal(back[:, 0], x[:1999, 0]) and np.array_equal(back[:, 1], back[:, 0] + 7)
    assert np.array_equal(back[:, 2], np.full(1999, 10))
    slow = x.copy()
    slow[:, 2] = np.repeat(x[::2, 2], 2)
    two_rates = sancodec.Signal(slow, 500.0, samples_per_frame=[2, 2, 1])
    with pytest.raises(SanFormatError, match="channel 2 is not at the full rate"):
        sancodec.decode(_file_of_parts(two_rates, {2: _cross_part([(0, 1)], 0, _constant_part(0))}), 0, 1998)
    first_slow = sancodec.Signal(slow[:, ::-1].copy(), 500.0, samples_per_frame=[1, 2, 2])
    with pytest.raises(SanFormatError, match="refers to channel 0, not an earlier one at its rate"):
        sancodec.decode(_file_of_parts(first_slow, {1: _cross_part([(0, 1)], 0, _constant_part(0))}), 0, 1998)


@pytest.mark.parametrize("refs, shift, nested, match", [
    ([(1, 1)], 0, None, "earlier"),  # itself
    ([(5, 1)], 0, None, "earlier"),  # a channel that does not exist
    ([(0, 9)], 0, None, "exceeds"),  # weight beyond 4
    ([(0, 1)], 3, None, "exceeds"),  # shift beyond 1
    ([], 0, None, "reference"),
    ([(0, 1)], 0, b"\x05\x01\x00\x02\x00\x04\x00", "inter-channel difference"),  # nested path 5
    ([(0, 1)], 0, b"\x85\x00\x01\x00\x02\x00\x04\x00", "inter-channel difference"),  # spelled in 2 bytes
])
def test_hostile_references_are_refused(refs, shift, nested, match):
    data = _file_with_second_channel(_cross_part(refs, shift, nested or _constant_part(0)))
    with pytest.raises(SanFormatError, match=match):
        sancodec.decode(data, 0, 1999)


def test_inter_channel_frames_in_a_lossy_file_nest_an_exact_or_a_wavelet_difference():
    """Format 1.6: a lossy file's exact channels may be predicted from earlier ones (path 5 around an
    exact coding, read as in a lossless file); 1.10: around a wavelet frame too, whose samples are added to
    the prediction from the earlier channels' decoded samples; around anything else (a SAN frame) refused."""
    sig = _limb_leads(3000)
    data = sancodec.encode(sig, frame_len=4096)
    assert "cross" in decode_file(data).codings
    header = sancodec.codec.container.SanReader(data).header
    header["mode"], header["sample_crc32"] = "lossy", None
    np.testing.assert_array_equal(sancodec.decode(rewrap(data, header=header)).samples, sig.samples)
    rng = np.random.default_rng(1)
    unrelated = np.stack([sig.samples[:, 0], np.cumsum(rng.integers(-9, 10, 3000))], axis=1)  # coded on its own
    two = sancodec.Signal(unrelated, 500.0, ["I", "x"], ["mV", "mV"])
    lossy = sancodec.encode(two, mode="lossy", prdn=9.0, frame_len=4096)
    reader = sancodec.codec.container.SanReader(lossy)
    frame = ByteReader(reader.read_frame(0))
    first, second = frame.raw(frame.varint()), frame.raw(frame.varint())
    assert second[0] == 3  # a wavelet channel-frame, wrapped below as an inter-channel difference
    on_its_own = decode_file(lossy).signal.samples
    for weight, shift in ((1, 0), (-3, 1)):
        cross = cross_head([(0, weight)], shift) + second  # path 5, one reference: channel 0
        assert needs_minor(cross, 3000) == 10
        w = ByteWriter()
        for part in (first, cross):
            w.varint(len(part))
            w.raw(part)
        back = decode_file(rewrap(lossy, frames=[w.getvalue()])).signal.samples
        np.testing.assert_array_equal(back[:, 0], on_its_own[:, 0])
        np.testing.assert_array_equal(back[:, 1], on_its_own[:, 1] + ((weight * on_its_own[:, 0]) >> shift))
    san = sancodec.encode(two, mode="san", frame_len=4096)
    frame = ByteReader(sancodec.codec.container.SanReader(san).read_frame(0))
    first, second = frame.raw(frame.varint()), frame.raw(frame.varint())
    assert second[0] == 1  # a SAN channel-frame
    w = ByteWriter()
    for part in (first, cross_head([(0, 1)], 0) + second):
        w.varint(len(part))
        w.raw(part)
    with pytest.raises(SanFormatError, match="exact or wavelet difference"):
        decode_file(rewrap(san, frames=[w.getvalue()]))


def test_near_lossless_files_use_it_from_exact_channels_and_stay_exact_there():
    sig = _limb_leads()
    near = sancodec.encode(sig, mode="near-lossless", max_error=0.0 + 1, frame_len=8192)
    decoded = decode_file(near)
    assert np.abs(decoded.signal.samples - sig.samples).max() <= 1
    assert len(near) <= len(sancodec.encode(sig, frame_len=8192))


def test_derived_leads_decode_on_the_numpy_kernels_too(monkeypatch):
    """Without the C kernels a frame is assembled after its window's LPC batch (``pipeline.assemble``), its
    predicted channels made from the block's columns as the compiled path makes them: the same samples."""
    from common import numpy_only

    sig = _limb_leads(3000)
    data = sancodec.encode(sig, frame_len=1024)
    numpy_only(monkeypatch)
    decoded = decode_file(data)
    assert np.array_equal(decoded.signal.samples, sig.samples) and decoded.codings["cross"] == 2 * 3


def _reference_fits(y: np.ndarray, xs: list[np.ndarray]) -> list[tuple[float, tuple[tuple[int, int], ...], int]]:
    """``fits`` as first written: each single fit and each pair's normal equations solved one at a time with numpy's
    solver, listed channel by channel, then sorted by energy (a stable sort)."""
    m = len(xs)
    a = np.stack([*xs, y], axis=1).astype(np.float64)
    gram = np.einsum("ti,tj->ij", a, a)
    found: list[tuple[tuple[int, ...], np.ndarray]] = []
    for i in range(m):
        if gram[i, i] > 0:
            found.append(((i,), np.array([gram[i, m] / gram[i, i]])))
        for j in range(i + 1, m):
            g = gram[np.ix_([i, j], [i, j])]
            if abs(np.linalg.det(g)) > 1e-9 * (g[0, 0] * g[1, 1] + 1e-300):
                found.append(((i, j), np.linalg.solve(g, gram[[i, j], m])))
    out = []
    for idx, coef in found:
        halves = np.clip(np.rint(2 * coef), -MAX_WEIGHT, MAX_WEIGHT).astype(np.int64)
        if not halves.any():
            continue
        shift = 0 if not (halves % 2).any() else 1
        weights = halves // 2 if shift == 0 else halves
        w = weights / (1 << shift)
        sub = gram[np.ix_(list(idx), list(idx))]
        energy = gram[m, m] - 2 * float(w @ gram[list(idx), m]) + float(w @ sub @ w)
        out.append((energy, tuple((k, int(v)) for k, v in zip(idx, weights) if v), shift))
    return sorted(out, key=lambda f: f[0])


@pytest.mark.parametrize("seed", range(40))
def test_fits_are_the_one_pair_at_a_time_solutions(seed):
    """Every pair's normal equations solved at once give the fits, their order and (within rounding) their energies
    that solving them one pair at a time gave: channels that are combinations of a few sources with noise, a channel
    twice (a singular pair), a channel of zeros, weights past the clip, and no channel at all."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(0, 400)), int(rng.integers(0, 10))
    base = rng.integers(-1000, 1000, (n, 3))
    xs = [base @ rng.integers(-2, 3, 3) + rng.integers(-3, 4, n) * int(rng.integers(0, 3)) for _ in range(m)]
    if m > 2 and seed % 3 == 0:
        xs[2] = xs[1].copy()
    if m > 1 and seed % 4 == 1:
        xs[0] = np.zeros(n, dtype=np.int64)
    y = base @ rng.integers(-6, 7, 3) + rng.integers(-5, 6, n)
    if seed % 5 == 2:  # centred, as the lossy coder fits them
        y, xs = y - y.mean(), [x - x.mean() for x in xs]
    got, want = fits(y, xs), _reference_fits(y, xs)
    assert [(refs, shift) for _, refs, shift in got] == [(refs, shift) for _, refs, shift in want]
    np.testing.assert_allclose([e for e, _, _ in got], [e for e, _, _ in want], rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_a_channel_s_fits_from_the_frame_gram_are_its_own_bit_for_bit(seed):
    """``FrameGram``: a frame's Gram matrix made once, each channel's block of it (its references', then its own)
    gives the very fits its own stack gives, energies to the bit: every sum in it is exact (integers whose peak
    squared times their count stays under 2^53), so no order of additions changes it."""
    rng = np.random.default_rng(seed)
    n, channels = int(rng.integers(16, 3000)), int(rng.integers(2, 14))
    base = rng.integers(-(1 << 14), 1 << 14, (n, 3))
    frame = {ch: base @ rng.integers(-2, 3, 3) + rng.integers(-9, 10, n) for ch in range(channels)}
    frame = {ch: x // 4 for ch, x in frame.items()}  # (well inside the exact range)
    gram = FrameGram.of(frame)
    assert gram is not None
    for ch in range(1, channels):
        refs = list(range(max(0, ch - CANDIDATE_CHANNELS), ch))
        assert fits(frame[ch], [frame[k] for k in refs], gram.block(refs, ch)) == \
            fits(frame[ch], [frame[k] for k in refs])


def test_the_frame_gram_is_made_only_where_its_sums_are_exact():
    n = 1000
    peak = int(np.sqrt((1 << 53) / n))  # peak * peak * n just under 2^53
    ok = {0: np.full(n, peak - 1, dtype=np.int64), 1: np.arange(n, dtype=np.int64)}
    assert FrameGram.of(ok) is not None
    assert FrameGram.of({0: np.full(n, peak + 1, dtype=np.int64), 1: ok[1]}) is None  # a sum could round
    assert FrameGram.of({0: ok[1].astype(np.float64), 1: ok[1]}) is None  # not integers
    assert FrameGram.of({0: ok[1], 1: ok[1][:-1]}) is None  # not one length
    assert FrameGram.of({}) is None


def test_a_lossless_frame_of_many_leads_codes_alike_with_and_without_the_frame_gram(monkeypatch):
    """The lossless encoder's fits from the frame's Gram matrix make the file its fits channel by channel made."""
    from sancodec.codec import interchannel

    sig = _limb_leads(6000, seed=3)
    x = np.concatenate([sig.samples, sig.samples[:, :2] * 2 - sig.samples[:, 2:]], axis=1)
    leads = sancodec.Signal(x, 500.0, [f"c{k}" for k in range(6)], ["mV"] * 6, fmt=["16"] * 6)
    made = []
    real = interchannel.FrameGram.of
    monkeypatch.setattr(interchannel.FrameGram, "of", lambda channels: made.append(real(channels)) or made[-1])
    shared = sancodec.encode(leads)
    assert made and all(g is not None for g in made)  # the frame's Gram was made and used
    monkeypatch.setattr(interchannel.FrameGram, "of", lambda channels: None)
    assert sancodec.encode(leads) == shared
