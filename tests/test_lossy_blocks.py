"""Lossy records longer than ``api.LOSSY_BLOCK`` are coded block by block: each channel's rate control holds
a block, not the record, and each block gets its share of the record's error, so the record meets its
target (PRDN, SNR or bits per sample) and says the PRDN it achieved."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import api, read_info
from sancodec.codec.lossy import LossyTarget
from sancodec.metrics import prdn, snr_db

DATA = Path(__file__).parent / "data"


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 2^12 samples, so the test records span several."""
    monkeypatch.setattr(api, "LOSSY_BLOCK", 1 << 12)


def _coded_lengths(monkeypatch) -> list[int]:
    """The samples of each channel that each call of the lossy channel coder sees (recorded as it runs)."""
    seen: list[int] = []
    original = api.encode_channel
    monkeypatch.setattr(api, "encode_channel",
                        lambda frames, *a: seen.append(sum(map(len, frames))) or original(frames, *a))
    return seen


@pytest.mark.parametrize("target", [{"prdn": 2.0}, {"prdn": 7.0}, {"snr": 25.0}])
def test_a_long_record_is_coded_a_block_at_a_time_and_meets_its_target(small_blocks, monkeypatch, target):
    """test01_00s (its channels repeated to 11 000 samples, 3 blocks): every call codes at most one block,
    every channel meets the target over the record, and the header's PRDN is the decoded one."""
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000]
    long = Signal(x, sig.fs, sig.channel_names, sig.units)
    seen = _coded_lengths(monkeypatch)
    data = sancodec.encode(long, mode="lossy", frame_len=1 << 11, **target)
    assert seen and max(seen) <= 1 << 12 and len(seen) == 3 * long.n_channels
    back = sancodec.decode(data).samples
    recorded = read_info(data)["header"]["lossy"]["prdn"]
    for ch in range(long.n_channels):
        got = prdn(x[:, ch], back[:, ch])
        assert recorded[ch] == pytest.approx(got, rel=1e-6, abs=1e-6)
        if "prdn" in target:
            assert got <= target["prdn"]
        else:
            assert snr_db(x[:, ch], back[:, ch]) >= target["snr"]


def test_a_byte_budget_holds_block_by_block(small_blocks):
    """--bps: each block spends the same bits per sample, so the record stays within its budget."""
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000]
    data = sancodec.encode(Signal(x, sig.fs, sig.channel_names, sig.units), mode="lossy", bps=2.0, frame_len=1 << 11)
    whole = sancodec.encode(Signal(x, sig.fs, sig.channel_names, sig.units), mode="lossy", bps=2.0, frame_len=1 << 14)
    assert 8 * len(data) <= 2.0 * x.size * 1.05 and 8 * len(whole) <= 2.0 * x.size * 1.05


def test_the_blocks_shares_add_up_to_the_records_error(small_blocks):
    """_block_targets: block b's PRDN target times its own spread, squared and summed over the blocks, is the
    record's budget, (P/100 * ||x - mean x||)^2 (a block far from the record's mean gets a looser target)."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 5, 3000), rng.normal(40, 1, 3000), rng.normal(-10, 20, 2000)])
    blocks = api._blocks(len(x), 1000)
    assert blocks == [(0, 4000), (4000, 8000)]  # whole frames of 1000
    targets = api._block_targets(blocks, lambda ch, lo, hi: x[lo:hi], 1, LossyTarget(prdn=3.0))
    shares = sum((t[0].prdn / 100 * np.linalg.norm(x[lo:hi] - x[lo:hi].mean())) ** 2
                 for t, (lo, hi) in zip(targets, blocks))
    assert shares == pytest.approx((0.03 * np.linalg.norm(x - x.mean())) ** 2, rel=1e-9)
    assert all(t[0].prdn >= 3.0 for t in targets)
    assert api._spread(lambda ch, lo, hi: x[lo:hi], 0, blocks) == pytest.approx(np.linalg.norm(x - x.mean()))


def test_a_channel_flat_in_a_block_codes_the_record_at_once(small_blocks, monkeypatch):
    """A block where a channel holds one value has no PRDN of its own: the record is coded at once, as before."""
    rng = np.random.default_rng(4)
    x = np.concatenate([np.full(5000, 7), np.rint(rng.normal(0, 50, 6000)).astype(np.int64)])[:, None]
    seen = _coded_lengths(monkeypatch)
    data = sancodec.encode(Signal(x, 250.0, ["a"], ["NU"]), mode="lossy", prdn=5.0, frame_len=1 << 11)
    assert seen == [len(x)] and prdn(x[:, 0], sancodec.decode(data).samples[:, 0]) <= 5.0


def test_a_multi_frequency_record_is_coded_in_blocks_of_whole_frames(small_blocks):
    """mimicdb 03700181 (ECG at 4 times its other channels' rate), 3 blocks: every channel within PRDN 3 %."""
    sig = read_signal(DATA / "03700181_2000f")
    data = sancodec.encode(sig, mode="lossy", prdn=3.0, frame_len=1 << 11)
    back = sancodec.decode(data)
    for ch, step in enumerate(sig.sample_steps()):
        assert prdn(sig.samples[::step, ch].astype(float), back.samples[::step, ch].astype(float)) <= 3.0
    assert math.isclose(read_info(data)["header"]["lossy"]["prdn"][0],
                        prdn(sig.samples[:, 0].astype(float), back.samples[:, 0].astype(float)), abs_tol=1e-6)


def test_the_encoder_checks_its_file_a_block_at_a_time_and_refuses_one_off_target(small_blocks, monkeypatch):
    """The decode that checks a lossy file before it is written reads a block of frames at a time, and a
    coding that misses the target in one block (here: coded at three times the PRDN asked) is refused with
    a one-line error, nothing returned."""
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000]
    long = Signal(x, sig.fs, sig.channel_names, sig.units)
    ranges: list[tuple[int, int]] = []
    original_decode = api.decode_file
    monkeypatch.setattr(api, "decode_file", lambda data, lo, hi, **kw: ranges.append((lo, hi)) or
                        original_decode(data, lo, hi, **kw))
    sancodec.encode(long, mode="lossy", prdn=2.0, frame_len=1 << 11)
    assert ranges == api._blocks(len(x), 1 << 11) and len(ranges) == 3
    original = api.encode_channel
    calls = iter(range(100))

    def off_target(frames, ref, target, *rest):
        if next(calls) == 4:  # the last block's first channel, coded at three times the PRDN asked
            return original(frames, ref, LossyTarget(prdn=3 * target.prdn), *rest)
        return original(frames, ref, target, *rest)

    monkeypatch.setattr(api, "encode_channel", off_target)
    with pytest.raises(sancodec.SanConfigError, match="would decode at PRDN .* nothing was written"):
        sancodec.encode(long, mode="lossy", prdn=2.0, frame_len=1 << 11)
