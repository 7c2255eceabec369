"""``Signal.channel``, ``Signal.select_channels`` and ``Signal.channel_index`` take a channel's name as well as its
index, and refuse with a :class:`SanConfigError` what names no one channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sancodec
from sancodec import SanConfigError

SAMPLE = Path(sancodec.__path__[0]) / "data" / "samples" / "100"


@pytest.fixture(scope="module")
def record() -> sancodec.Signal:
    return sancodec.read_signal(SAMPLE).slice(0, 2000)


def test_a_name_picks_the_channel_its_index_does(record):
    assert record.channel_names == ["MLII", "V5"]
    assert record.channel_index("V5") == 1 and record.channel_index(np.int64(0)) == 0
    assert np.array_equal(record.channel("V5"), record.channel(1))
    assert np.array_equal(record.channel("MLII", physical=False), record.samples[:, 0])
    picked = record.select_channels(["V5", 0])
    assert picked.channel_names == ["V5", "MLII"] and np.array_equal(picked.samples, record.samples[:, [1, 0]])
    assert picked.header_dict()["adc_gain"] == [record.adc_gain[1], record.adc_gain[0]]


@pytest.mark.parametrize("call, match", [
    (lambda s: s.channel("V6"), r"no channel named 'V6' \(the channels: 'MLII', 'V5'\)"),
    (lambda s: s.channel(2), "channel 2 does not exist"),
    (lambda s: s.channel(-1), "channel -1 does not exist"),
    (lambda s: s.channel(1.0), "an index or a name, not float"),
    (lambda s: s.select_channels(["V5", "ii"]), "no channel named 'ii'"),
    (lambda s: s.select_channels([0, 5]), "channel 5 does not exist"),
    (lambda s: s.select_channels([]), "a list of channel indices or names"),
    (lambda s: s.select_channels("V5"), "a list of channel indices or names"),
])
def test_what_names_no_channel_is_refused(record, call, match):
    with pytest.raises(SanConfigError, match=match):
        call(record)


def test_a_name_two_channels_share_is_refused_for_their_indices():
    twins = sancodec.Signal(np.arange(20, dtype=np.int16).reshape(10, 2), 250.0, ["ECG", "ECG"], ["mV", "mV"])
    with pytest.raises(SanConfigError, match=r"2 channels are named 'ECG' \(0, 1\): give the index"):
        twins.channel("ECG")
    assert np.array_equal(twins.select_channels([1]).samples[:, 0], np.arange(1, 20, 2))
