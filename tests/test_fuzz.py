"""Hostile input: mutated .san files only ever raise SanFormatError, quickly, without big allocations.

CI runs a few thousand cases. A long run:
    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import json
import struct
import tracemalloc

import numpy as np
import pytest
from common import with_header_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

import sancodec
from sancodec import SanFormatError, Signal
from sancodec.codec import decode_file

# SAN([5, 7], "peaks", seed=1).to_spec()'s kernels, written out: the fuzzing needs no torch (a device without it runs
# these tests), and the files it garbles stay those it always garbled
SPEC = sancodec.SanSpec((np.array([0.026692410930991173, 0.0061677261255681515, 0.06213173270225525,
                                   -0.04519059881567955, -0.016613023355603218], dtype=np.float32),
                         np.array([0.038168393075466156, -0.10276086628437042, -0.05630527809262276,
                                   -0.089229054749012, -0.005825018044561148, -0.019550958648324013,
                                   -0.09656360000371933], dtype=np.float32)), ("peaks", "peaks"))


def _small_file(mode: str, frame_len: int = 64) -> bytes:
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(150, 2)).cumsum(axis=0) * 20).astype(np.int64)
    sig = Signal(x, 100.0, ["a", "b"], ["mV", "mV"], adc_gain=[200.0, 200.0], baseline=[0, 0], fmt=["16", "16"])
    kwargs = {"max_error": 1} if mode == "near-lossless" else {}
    kwargs.update({"prdn": 2.0} if mode == "lossy" else {})
    return sancodec.encode(sig, SPEC, mode, frame_len=frame_len, embed_model=False, **kwargs)


def _lpc_file() -> bytes:
    """A lossless file whose channels are coded with linear prediction (clean oscillations)."""
    t = np.arange(150)
    x = np.rint(3000 * np.sin(2 * np.pi * 0.05 * t) + np.random.default_rng(3).normal(size=150) * 2)
    sig = Signal(x.astype(np.int64)[:, None], 100.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    data = sancodec.encode(sig, SPEC, "lossless", frame_len=64, embed_model=False)
    assert decode_file(data).lpc_channel_frames > 0
    return data


def _table_file() -> bytes:
    """A lossless file with a value-table frame (values on a 50/3 grid) and an LPC frame."""
    t = np.arange(300)
    k = np.rint(40 * np.sin(2 * np.pi * t / 50) + np.random.default_rng(2).integers(-1, 2, 300))
    x = np.rint(k * 50 / 3).astype(np.int64)[:, None]
    sig = Signal(x, 100.0, ["a"], ["mV"], adc_gain=[200.0], baseline=[0], fmt=["16"])
    data = sancodec.encode(sig, SPEC, "lossless", frame_len=256, embed_model=False)
    assert "table" in decode_file(data).codings
    return data


FILES = {mode: _small_file(mode) for mode in ("san", "near-lossless", "lossless")}
FILES["lossless-lpc"] = _lpc_file()
FILES["lossless-table"] = _table_file()
FILES["lossy"] = _small_file("lossy")
FILES["one-frame"] = _small_file("lossless", frame_len=256)  # format 1.7's layout: payload and CRC, no index
assert sancodec.codec.container.SanReader(FILES["one-frame"]).one_frame


def _decode(data: bytes) -> None:
    decode_file(data, model=SPEC)


def test_small_files_decode():
    for data in FILES.values():
        _decode(data)


@pytest.mark.parametrize("mode", sorted(FILES))
def test_every_single_bit_flip_is_detected(mode):
    data = FILES[mode]
    for bit in range(len(data) * 8):
        mutated = bytearray(data)
        mutated[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(SanFormatError):
            _decode(bytes(mutated))


@pytest.mark.parametrize("name", ["lossless", "one-frame"])
def test_truncation_at_every_length_is_detected(name):
    data = FILES[name]
    for n in range(len(data)):
        with pytest.raises(SanFormatError):
            _decode(data[:n])


@st.composite
def mutations(draw):
    data = bytearray(FILES[draw(st.sampled_from(sorted(FILES)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "length"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "length" and len(data) >= pos + 4:
            data[pos : pos + 4] = struct.pack("<I", draw(st.sampled_from([0, 1, 2**31, 2**32 - 1, 10**9])))
    return bytes(data)


@settings(max_examples=2500, deadline=2000)
@given(mutations())
def test_mutated_files_raise_only_format_errors(data):
    for original in FILES.values():
        if data == original:
            _decode(data)
            return
    with pytest.raises(SanFormatError):
        _decode(data)


def test_absurd_declared_lengths_do_not_allocate():
    data = bytearray(FILES["lossless"])
    cases = []
    for offset in (8, len(data) - 20, len(data) - 12):  # header length, index offset, frame count
        for value in (2**31, 2**32 - 1):
            m = bytearray(data)
            fmt = "<Q" if offset == len(data) - 20 else "<I"
            size = struct.calcsize(fmt)
            m[offset : offset + size] = struct.pack(fmt, value if fmt == "<I" else value * 1000)
            cases.append(bytes(m))
    tracemalloc.start()
    for case in cases:
        with pytest.raises(SanFormatError):
            _decode(case)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


def test_packed_headers_that_do_not_decompress_or_explode_are_format_errors(monkeypatch):
    import bz2

    from sancodec.codec import container

    data = FILES["lossless"]
    plain = json.dumps(container.SanReader(data).header).encode()
    assert decode_file(with_header_bytes(data, plain, 0), model=SPEC).signal.n_samples == 150  # helper is sound
    packed = bz2.compress(plain)
    for head, flags in [(packed[:-5], 1), (packed + b"junk", 1), (b"not bzip2 at all", 1), (packed, 2)]:
        with pytest.raises(SanFormatError):
            _decode(with_header_bytes(data, head, flags))
    monkeypatch.setattr(container, "MAX_HEADER_BYTES", 1000)
    bomb = bz2.compress(b" " * 5000)  # decompresses past the (patched) header cap
    with pytest.raises(SanFormatError, match="oversized"):
        _decode(with_header_bytes(data, bomb, 1))
