"""A WFDB record's invalid samples (dropouts) in lossy mode, which codes them as values: the jump to -32768 takes
most of the error a channel may have, so its other samples can come back far off the target while the file meets
it with the dropouts counted. Each such channel is said, with the PRDN of its other samples (``codec.gaps``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import SancodecWarning, Signal, read_signal
from sancodec.codec import lossyfile
from sancodec.codec.api import encode_lossy_blocks
from sancodec.codec.gaps import invalid_counts
from sancodec.metrics import prdn

DATA = Path(__file__).parent / "data"


def _said(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, SancodecWarning) and "invalid" in str(w.message)]


def test_a_dropouts_channels_are_said_with_the_prdn_of_their_other_samples():
    """mitdb-style mixedsignals: II, III and V hold 1024 samples of -32768 and ABP 192 (its own rate). At PRDN 2 %
    the file meets the target with them counted, and the ECG's other samples come back at well over 100 % PRDN:
    each of those channels is said, with that figure, which is the decode's; Pleth and Resp, whole, are not."""
    sig = read_signal(DATA / "mixedsignals_1000f")
    assert invalid_counts(sig) == [1024, 1024, 1024, 192, 0, 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = sancodec.encode(sig, mode="lossy", prdn=2)
    said = _said(caught)
    assert [s.split("'")[1] for s in said] == ["II", "III", "V", "ABP"]
    back = sancodec.decode(data)
    steps = sig.sample_steps()
    for text, ch in zip(said, range(4)):
        x, y = sig.samples[:: steps[ch], ch], back.samples[:: steps[ch], ch]
        valid = x != -32768
        got = prdn(x[valid].astype(float), y[valid].astype(float))
        assert got > 2 and f"the error is {got:.3g} % PRDN, past the target of 2 %" in text
        assert prdn(x.astype(float), y.astype(float)) <= 2  # the target, as the file counts it
    assert "lossless and near-lossless modes keep such gaps exactly" in said[0]


@pytest.mark.parametrize("mode, options", [("lossless", {}), ("near-lossless", {"max_error": 2})])
def test_lossless_and_near_lossless_keep_the_gaps_and_say_nothing(mode, options):
    sig = read_signal(DATA / "mixedsignals_1000f")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = sancodec.decode(sancodec.encode(sig, mode=mode, **options))
    assert not _said(caught)
    gaps = sig.samples == -32768
    assert np.array_equal(back.samples[gaps], sig.samples[gaps]) and not np.any(back.samples[~gaps] == -32768)


def test_no_gaps_or_another_sources_lowest_value_says_nothing():
    """A record without invalid samples; an EDF source, whose -32768 is a value (its digital minimum)."""
    x = np.cumsum(np.random.default_rng(1).integers(-20, 21, (6000, 1)), axis=0)
    clean = Signal(x, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    dropped = x.copy()
    dropped[2000:2400] = -32768
    edf = Signal(dropped, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"], source={"kind": "edf"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sancodec.encode(clean, mode="lossy", prdn=2)
        sancodec.encode(edf, mode="lossy", prdn=2)
    assert not _said(caught)
    wfdb = Signal(dropped, 250.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    with pytest.warns(SancodecWarning, match=r"channel 'a' holds 400 invalid samples .* past the target of 2 %"):
        sancodec.encode(wfdb, mode="lossy", prdn=2, effort="balanced")


def test_a_long_record_read_a_block_at_a_time_says_its_gaps_unmeasured(monkeypatch):
    """A record coded a block at a time is not decoded whole: its channels with invalid samples are said with their
    count, the PRDN of the other samples not measured."""
    monkeypatch.setattr(lossyfile, "LOSSY_BLOCK", 4096)
    x = np.cumsum(np.random.default_rng(2).integers(-20, 21, (16384, 2)), axis=0)
    x[5000:5300, 1] = -32768
    like = Signal(x[:1], 250.0, ["a", "b"], ["mV", "mV"], adc_gain=[200.0] * 2, baseline=[0] * 2, fmt=["16"] * 2)
    with pytest.warns(SancodecWarning, match=r"channel 'b' holds 300 invalid samples .* may come back far off"):
        data = encode_lossy_blocks(like, len(x), lambda rows: (x[i : i + rows] for i in range(0, len(x), rows)),
                                   prdn=2, frame_len=1024)
    assert data is not None
