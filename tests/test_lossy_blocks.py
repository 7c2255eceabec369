"""Lossy records longer than ``lossyfile.LOSSY_BLOCK`` are coded block by block: each channel's rate control holds
a block, not the record, and each block gets its share of the record's error, so the record meets its
target (PRDN, SNR or bits per sample) and says the PRDN it achieved."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import Signal, read_signal
from sancodec.codec import api, lossyfile, read_info
from sancodec.codec.lossy import LossyTarget
from sancodec.metrics import prdn, snr_db

DATA = Path(__file__).parent / "data"


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 2^12 samples, so the test records span several."""
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 12)


def _coded_lengths(monkeypatch) -> list[int]:
    """The samples of each channel that each call of the lossy channel coder sees (recorded as it runs)."""
    seen: list[int] = []
    original = lossyfile.encode_channel
    monkeypatch.setattr(lossyfile, "encode_channel",
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
    """lossyfile.block_targets: block b's PRDN target times its own spread, squared and summed over the blocks,
    is the record's budget, (P/100 * ||x - mean x||)^2 (a block far from the record's mean gets a looser
    target), and record_prdn puts the blocks' PRDNs back together as the record's."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 5, 3000), rng.normal(40, 1, 3000), rng.normal(-10, 20, 2000)])
    spans = lossyfile.blocks(len(x), 1000)
    assert spans == [(0, 4000), (4000, 8000)]  # whole frames of 1000
    stats = [[lossyfile.block_stats(x[lo:hi])] for lo, hi in spans]
    targets = lossyfile.block_targets(stats, LossyTarget(prdn=3.0))
    spread = np.linalg.norm(x - x.mean())
    shares = sum((t[0].prdn / 100 * s[0].spread) ** 2 for t, s in zip(targets, stats))
    assert shares == pytest.approx((0.03 * spread) ** 2, rel=1e-9)
    assert all(t[0].prdn >= 3.0 for t in targets)
    y = x + rng.normal(0, 0.5, len(x))
    per_block = [[prdn(x[lo:hi], y[lo:hi])] for lo, hi in spans]
    assert lossyfile.record_prdn(stats, per_block)[0] == pytest.approx(prdn(x, y), rel=1e-9)
    assert lossyfile.block_targets(stats[:1], LossyTarget(prdn=3.0)) is None  # one block: the record at once


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
    sancodec.encode(long, mode="lossy", effort="best", prdn=2.0, frame_len=1 << 11)
    assert ranges == lossyfile.blocks(len(x), 1 << 11) and len(ranges) == 3
    original = lossyfile.encode_channel
    calls = iter(range(100))

    def off_target(frames, ref, target, *rest):
        if next(calls) == 4:  # the last block's first channel, coded at three times the PRDN asked
            return original(frames, ref, LossyTarget(prdn=3 * target.prdn), *rest)
        return original(frames, ref, target, *rest)

    monkeypatch.setattr(lossyfile, "encode_channel", off_target)
    with pytest.raises(sancodec.SanConfigError, match="would decode at PRDN .* nothing was written"):
        sancodec.encode(long, mode="lossy", effort="best", prdn=2.0, frame_len=1 << 11)


def test_a_record_of_many_channels_is_coded_in_blocks_of_fewer_rows(monkeypatch):
    """A block holds 2^22 rows of one or two channels, about 2^23 samples over more (whole frames, one at least): a
    20-channel EDF's block of 2^22 rows held 84 M samples. Read a block at a time or held in memory, a record of
    six channels is coded in those blocks, to the same bytes."""
    assert lossyfile.blocks(1 << 23, 1 << 20, 1) == lossyfile.blocks(1 << 23, 1 << 20, 2) == \
        [(0, 1 << 22), (1 << 22, 1 << 23)]
    assert lossyfile.blocks(1 << 22, 1 << 20, 3) == [(0, 1 << 21), (1 << 21, 1 << 22)]
    assert lossyfile.blocks(3 << 20, 1 << 20, 20) == [(0, 1 << 20), (1 << 20, 2 << 20), (2 << 20, 3 << 20)]
    assert lossyfile.blocks(1 << 22, 1 << 22, 20) == [(0, 1 << 22)]  # (one frame at least)
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 1 << 13)
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK_VALUES", 6 << 11)  # six channels: blocks of 2^11 rows
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.integers(-9, 10, (9000, 6)), axis=0) + np.rint(np.sin(np.arange(9000) / 7)[:, None] * 200)
    x = x.astype(np.int64)
    long = Signal(x, 250.0, [f"c{k}" for k in range(6)], ["uV"] * 6)
    reads: list[int] = []
    coded = _coded_lengths(monkeypatch)

    def read(rows: int):
        reads.append(rows)
        return (x[lo : lo + rows] for lo in range(0, len(x), rows))

    streamed = api.encode_lossy_blocks(long.slice(0, 1), len(x), read, frame_len=1 << 10, prdn=5.0)
    assert streamed == sancodec.encode(long, mode="lossy", frame_len=1 << 10, prdn=5.0)
    assert set(reads) == {1 << 11} and max(coded) <= 1 << 11  # each channel coded a block of 2^11 rows at a time
    back = sancodec.decode(streamed).samples
    assert all(prdn(x[:, ch], back[:, ch]) <= 5.0 for ch in range(6))


@pytest.mark.parametrize("options", [{"prdn": 4.0}, {"snr": 26.0}, {"prdn": 6.0, "effort": "balanced"}])
def test_a_record_of_several_rates_read_a_block_at_a_time_codes_to_the_same_file(small_blocks, options):
    """A record of three rates (a polysomnograph's EEG at 256 Hz, breathing at 32, temperature at 1), each slower
    sample repeated to the fastest rate as ``Signal`` holds it: read a block at a time, each channel measured and
    coded at its own rate, the same bytes as encoding it in memory, and every channel within its target; with a WFDB
    format's gaps at several rates it is left to be read whole (None)."""
    rng = np.random.default_rng(2)
    n = 256 * 60
    eeg = np.rint(np.sin(np.arange(n) / 9) * 300 + rng.normal(0, 20, n)).astype(np.int64)
    resp = np.repeat(np.rint(np.sin(np.arange(n // 8) / 5) * 80).astype(np.int64), 8)
    temp = np.repeat(np.cumsum(rng.integers(-3, 4, n // 256)) + 500, 256)
    x = np.stack([eeg, temp, resp], axis=1)
    long = Signal(x, 256.0, ["eeg", "temp", "resp"], ["uV", "degC", "NU"], samples_per_frame=[256, 1, 32])

    def read(rows: int):
        return (x[lo : lo + rows] for lo in range(0, n, rows))

    streamed = api.encode_lossy_blocks(long.slice(0, 256), n, read, frame_len=1 << 11, **options)
    assert streamed is not None and streamed == sancodec.encode(long, mode="lossy", frame_len=1 << 11, **options)
    back = sancodec.decode(streamed)
    for ch, step in enumerate(long.sample_steps()):
        got = prdn(x[::step, ch], back.samples[::step, ch])
        assert got <= options["prdn"] if "prdn" in options else snr_db(x[::step, ch], back.samples[::step, ch]) >= 26
    gapped = Signal(x, 256.0, ["eeg", "temp", "resp"], ["uV", "degC", "NU"], samples_per_frame=[256, 1, 32],
                    fmt=["16", "16", "16"])
    assert api.encode_lossy_blocks(gapped.slice(0, 256), n, read, frame_len=1 << 11, **options) is None


@pytest.mark.parametrize("options", [{"prdn": 3.0}, {"snr": 28.0}, {"bps": 2.5}, {"prdn": 6.0, "effort": "fast"},
                                     {"prdn": 6.0, "effort": "balanced"}])
def test_a_record_read_a_block_at_a_time_codes_to_the_same_file(small_blocks, options):
    """api.encode_lossy_blocks (what `sancodec encode --mode lossy` runs on a long WFDB format 16/212 record):
    the record never held whole, read three times (statistics, coding, check; no check at efforts fast and
    balanced), the same bytes as encoding it in memory; None where the record is one block."""
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000].astype(np.int16)
    long = Signal(x.astype(np.int64), sig.fs, sig.channel_names, sig.units)
    reads: list[int] = []

    def read(rows: int):
        reads.append(rows)
        return (x[lo : lo + rows] for lo in range(0, len(x), rows))

    said: list[str] = []
    streamed = api.encode_lossy_blocks(long.slice(0, 1), len(x), read, frame_len=1 << 11, progress=said.append,
                                       **options)
    assert streamed == sancodec.encode(long, mode="lossy", frame_len=1 << 11, **options)
    checked = ("checking",) if options.get("effort") == "best" else ()  # no check: api.verifies
    assert reads == [1 << 12] * (2 + len(checked))
    assert said == [f"{what} block {b} of 3" for what in ("measuring", "coding", *checked) for b in (1, 2, 3)]
    assert api.encode_lossy_blocks(long.slice(0, 1), 3000, lambda rows: iter([x[:3000]]), prdn=3.0,
                                   frame_len=1 << 11) is None  # one block


def test_a_record_that_changes_between_reads_is_one_format_error(small_blocks):
    """The blocks are read again for the coding: a record that comes back shorter or longer (a file changed between
    the reads) is refused in one SanFormatError, not a ValueError from deep inside."""
    sig = read_signal(DATA / "test01_00s")
    x = np.concatenate([sig.samples] * 3)[:11000].astype(np.int64)
    long = Signal(x, sig.fs, sig.channel_names, sig.units)
    for changed in (x[:9000], np.concatenate([x, x[:3000]])):

        def read(rows: int, changed=changed, reads=[]):  # noqa: B006 - each record's own list, its reads counted
            reads.append(rows)
            source = x if len(reads) == 1 else changed  # (the first read measures the record as it was)
            return (source[lo : lo + rows] for lo in range(0, len(source), rows))

        with pytest.raises(sancodec.SanFormatError, match="changed while it was read"):
            api.encode_lossy_blocks(long.slice(0, 1), len(x), read, frame_len=1 << 11, prdn=4.0)


@pytest.mark.parametrize("rows", [np.int16, np.int32, np.uint8, np.int64, np.dtype(">i2")])
def test_held_ints_keeps_int16_and_int32_and_widens_the_rest(rows):
    from sancodec.codec.prepare import held_ints

    x = np.array([[0, 5], [200, -3 if np.dtype(rows).kind == "i" else 3]], dtype=rows)
    held = held_ints(x)
    assert held.dtype == (np.dtype(rows) if np.dtype(rows) in (np.dtype(np.int16), np.dtype(np.int32))
                          else np.dtype(np.int64))
    assert np.array_equal(held.astype(np.int64), x.astype(np.int64))


@pytest.mark.parametrize(("record", "target"), [
    ("s0010_re_i", LossyTarget(prdn=2.0)),  # (one lead: coded on its own)
    ("mixedsignals_1000f", LossyTarget(prdn=5.0)),  # several channels, a slow one
    ("03700181_2000f", LossyTarget(prdn=0.05)),  # near the lossless regime: exact channels predicted across
    ("test01_00s", LossyTarget(prdn=3.0)),  # four leads, fits across them
    ("test01_00s", LossyTarget(bps=2.0)),
])
def test_a_block_held_as_int16_codes_to_the_parts_of_int64(record, target):
    """``lossyfile.code_block`` of a block held narrower (an EDF's int16, ``prepare.held_ints``) widens each channel's
    frames as it codes them: the same payloads, PRDNs and format version as the block held as int64, on every path
    (a channel on its own, fits across channels, a slow channel, exact channels near the lossless regime)."""
    sig = read_signal(DATA / record)
    wide = sig.samples.astype(np.int64)
    narrow = wide.astype(np.int16)
    assert np.array_equal(narrow, wide)
    c = sig.n_channels
    steps = sig.sample_steps()

    def coded(digital: np.ndarray) -> lossyfile.LossyParts:
        def reference(ch: int, start: int, end: int) -> np.ndarray:
            return digital[start:end:steps[ch], ch].astype(np.float64)
        return lossyfile.code_block(sig, digital, reference, [target] * c, 1024, 0, len(digital), effort="balanced")

    a, b = coded(narrow), coded(wide)
    assert (a.payloads, a.achieved, a.minor) == (b.payloads, b.achieved, b.minor)
