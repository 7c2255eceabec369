"""Lossless coding of samples anywhere within the 2^53 the format holds: integers spread past 2^51, and float64
values in [0, 1) to full precision (on their step of 2^-53, their counts up to 2^53), which the encoder refused
("these samples cannot be coded faithfully (frame: a sample exceeds 2**53 ...)") where its prediction from a first
sample, its differences or its value table passed the decoder's bound: such a frame is now coded plainly."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import sancodec
from sancodec import Signal
from sancodec.cli import app


@pytest.mark.parametrize("bits", [51, 52, 53])
@pytest.mark.parametrize("signed", [True, False])
def test_integers_spread_anywhere_within_2_to_the_53_code_losslessly(bits, signed):
    """Random integers over ±2^bits (or 0 to 2^bits), beside a narrow channel and a smooth one near 2^52, several
    frames: the file decodes to them exactly, and the narrow channel still costs what it costs alone (its own coding
    kept, not the plain one)."""
    rng = np.random.default_rng(bits)
    top = (1 << bits) - 1
    x = np.empty((3000, 3), dtype=np.int64)
    x[:, 0] = rng.integers(-top if signed else 0, top, 3000)
    x[:, 1] = np.cumsum(rng.integers(-3, 4, 3000))
    x[:, 2] = (1 << 52) + np.arange(3000) * 7
    wide = sancodec.encode(Signal(x, 250.0), frame_len=1024)
    np.testing.assert_array_equal(sancodec.decode(wide).samples, x)
    narrow = sancodec.encode(Signal(x[:, 1:2], 250.0), frame_len=1024)
    assert len(wide) < len(narrow) + 3000 * (bits + 2) / 8 + 400  # (the wide channel at about its own bits)


def test_float64_values_in_0_1_to_full_precision_code_losslessly():
    """Doubles in [0, 1) as a random generator or a normalisation leaves them: lossless, bit for bit, in about the
    bits their mantissas hold (they are counts of 2^-53 up to 2^53)."""
    x = np.random.default_rng(3).random((5000, 2))
    data = sancodec.encode(Signal(x, 100.0))
    assert np.array_equal(sancodec.decode(data).samples, x)
    assert len(data) < x.nbytes


def test_the_streaming_writer_and_the_cli_code_wide_integers_losslessly(tmp_path):
    """``sancodec.open(path, "w")`` a block at a time, and ``sancodec encode`` of a ``.npy``: the same samples back."""
    x = np.random.default_rng(8).integers(-(1 << 53) + 1, 1 << 53, (2500, 2))
    like = Signal(x[:1], 500.0)
    with sancodec.open(tmp_path / "s.san", "w", like=like) as w:
        for start in range(0, len(x), 700):
            w.write(x[start : start + 700])
    np.testing.assert_array_equal(sancodec.decode((tmp_path / "s.san").read_bytes()).samples, x)
    np.save(tmp_path / "w.npy", x)
    res = CliRunner().invoke(app, ["encode", str(tmp_path / "w.npy"), "--fs", "500", "-o", str(tmp_path / "w.san"),
                                   "-q"])
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(sancodec.decode((tmp_path / "w.san").read_bytes()).samples, x)
