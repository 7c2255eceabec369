"""Whatever a caller hands the encoder, it answers with a file that keeps its promise or a ``SancodecError``.

Extreme but legal-looking inputs (rates from 10^-3 to past what a header holds, values from 10^-300 to 2^53,
constant and step channels, targets at and beyond the ends of their ranges) once reached a math domain error,
an overflow and a ValueError from deep in the lossy encoder; here every other exception fails the test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import Signal
from sancodec.codec import encode_file
from sancodec.errors import SancodecError
from sancodec.metrics import prdn

KINDS = ("int", "float", "constant", "huge", "tiny", "step")


def _samples(kind: str, n: int, c: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "int":
        return rng.integers(-(1 << 20), 1 << 20, (n, c))
    if kind == "float":
        return rng.normal(size=(n, c)) * 10.0 ** rng.uniform(-300, 300)
    if kind == "constant":
        return np.full((n, c), int(rng.choice([0, -5, 1 << 52])), dtype=np.int64)
    if kind == "huge":
        return rng.integers(-(1 << 53), 1 << 53, (n, c))
    if kind == "tiny":
        return rng.normal(size=(n, c)) * 1e-300
    return (np.cumsum(rng.random((n, c)) < 0.01, axis=0) * int(rng.integers(1, 1000))).astype(np.int64)


lossy_targets = st.one_of(
    st.builds(lambda v: {"prdn": v}, st.floats(1e-6, 2e6)),
    st.builds(lambda v: {"snr": v}, st.floats(-100, 1200)),
    st.builds(lambda v: {"bps": v}, st.floats(1e-4, 2e6)),
)
options = st.one_of(
    st.just(("lossless", {})),
    st.builds(lambda e: ("near-lossless", {"max_error": e}), st.sampled_from([0, 1, 3, 0.37, 1e6, 2.0**40, 1e300])),
    st.builds(lambda t, effort: ("lossy", {**t, "effort": effort}), lossy_targets,
              st.sampled_from(["default", "fast", "balanced"])),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KINDS), st.sampled_from([1, 2, 16, 17, 300, 3000]), st.integers(1, 3),
       st.floats(-3, 9.5), options, st.integers(0, 2**32 - 1))
def test_the_encoder_keeps_its_promise_or_refuses_in_its_own_words(kind, n, c, log_fs, option, seed):
    x = _samples(kind, n, c, seed)
    mode, kwargs = option
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy overflow warning is a path nobody meant
            warnings.simplefilter("ignore", sancodec.SancodecWarning)  # (ours, meant: a budget past reach, say)
            sig = Signal(x, 10.0**log_fs, [f"c{i}" for i in range(c)], ["u"] * c)
            y = sancodec.decode(sancodec.encode(sig, mode=mode, **kwargs)).samples
    except SancodecError:
        return
    if mode == "lossless":
        assert np.array_equal(y, x)
    elif mode == "near-lossless" and x.dtype.kind in "iu":
        assert np.abs(y.astype(np.float64) - x).max() <= kwargs["max_error"]
    elif "prdn" in kwargs and x.dtype.kind in "iu":
        for ch in range(c):
            assert prdn(x[:, ch], y[:, ch]) <= kwargs["prdn"] * (1 + 1e-9)


def test_numbers_of_any_numpy_type_are_numbers_and_anything_else_a_clear_refusal():
    """A numpy integer or float (what a config loaded with numpy gives) codes as the plain number does; a string, a
    bool or a float frame length is a SanConfigError, not a TypeError from deep inside (or, for a float32 target, a
    header that could not be written)."""
    sig = sancodec.read_signal(sancodec.__path__[0] + "/data/samples/100").slice(0, 8000)
    assert sancodec.encode(sig, frame_len=np.int64(4096)) == sancodec.encode(sig, frame_len=4096)
    assert (sancodec.encode(sig, mode="near-lossless", max_error=np.int32(2))
            == sancodec.encode(sig, mode="near-lossless", max_error=2))
    assert (sancodec.encode(sig, mode="lossy", snr=np.float32(30.0), effort="fast")
            == sancodec.encode(sig, mode="lossy", snr=30.0, effort="fast"))
    for options in ({"frame_len": 4096.0}, {"frame_len": True}, {"mode": "near-lossless", "max_error": "2"},
                    {"mode": "near-lossless", "max_error": True}, {"mode": "lossy", "bps": "1"}):
        try:
            sancodec.encode(sig, **options)
        except sancodec.SanConfigError as exc:
            assert "number" in str(exc)
        else:
            raise AssertionError(f"{options} was accepted")


def test_a_mistyped_option_is_named_with_the_one_meant(tmp_path):
    """``encode(x, fs=100, prdm=2)`` said "encode_to_file() got an unexpected keyword argument 'prdm'", a function
    the caller never called; now the caller's own and the option it likely meant, and every option where none is
    close. Options given right still encode."""
    x = (np.sin(np.arange(2000) / 7) * 300).astype(np.int16)
    unexpected = r"got an unexpected keyword argument"
    with pytest.raises(TypeError, match=rf"^encode\(\) {unexpected} 'prdm' \(did you mean 'prdn'\?\)"):
        sancodec.encode(x, fs=100.0, mode="lossy", prdm=2)
    with pytest.raises(TypeError, match=rf"^encode\(\) {unexpected} 'colour' \(it takes prdn, snr"):
        sancodec.encode(x, fs=100.0, colour="blue")
    sig = sancodec.Signal(x[:, None], 100.0, ["a"], ["mV"])
    with pytest.raises(TypeError, match=rf"^encode_file\(\) {unexpected} 'efort' \(did you mean 'effort'\?\)"):
        encode_file(sig, tmp_path / "x.san", mode="lossy", prdn=2, efort="fast")
    assert not (tmp_path / "x.san").exists()
    assert encode_file(sig, tmp_path / "x.san", mode="lossy", prdn=2, effort="fast") > 0


def test_a_mode_given_where_the_model_goes_is_named_for_what_it_is(tmp_path, monkeypatch):
    """``encode(sig, "lossy")`` put the mode where the model goes, and said "lossy: no such model file"; a file
    named so, in the folder, is still a model's path."""
    signal = Signal(np.arange(2000).reshape(-1, 1) % 50, 250.0, ["a"], ["mV"])
    for mode in ("lossy", "lossless", "near-lossless", "san"):
        with pytest.raises(sancodec.SanConfigError, match=f"not the mode: give the mode by name, encode\\(signal, "
                                                          f"mode='{mode}'"):
            sancodec.encode(signal, mode)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lossy").write_text("{}")
    with pytest.raises(sancodec.ModelFileError):  # a path after all: read, and refused as a model file
        sancodec.encode(signal, "lossy")


def test_a_signal_made_of_an_array_and_a_rate_names_its_channels_itself():
    """``Signal(x, fs=250)``, the first thing a user types, failed with a TypeError for want of names and units; they
    now default to ``ch0``, ``ch1``, … and ``NU``, as a ``.npy`` file reads, and round-trip so. Names given in the
    wrong number are still refused."""
    x = np.arange(600, dtype=np.int16).reshape(300, 2)
    signal = sancodec.Signal(x, 250.0)
    assert signal.channel_names == ["ch0", "ch1"] and signal.units == ["NU", "NU"]
    back = sancodec.decode(sancodec.encode(signal))
    assert back.channel_names == ["ch0", "ch1"] and np.array_equal(back.samples, x)
    assert sancodec.Signal(x, 250.0, ["a", "b"]).units == ["NU", "NU"]
    with pytest.raises(sancodec.SanFormatError, match="channel_names has 1 entries for 2 channels"):
        sancodec.Signal(x, 250.0, ["a"])
