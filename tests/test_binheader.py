"""The binary header of format 1.3: values round-trip, defaults cost nothing, hostile bytes are refused."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sancodec
from sancodec.codec.binheader import KEYS, compact, decode_value, encode_value, expand
from sancodec.codec.container import SanReader
from sancodec.codec.limits import DecodeLimits
from sancodec.errors import SanFormatError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 62), 1 << 62)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner,
                                                                max_size=5),
    max_leaves=30,
)


def _same(a, b) -> bool:
    """Equal with JSON types kept (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@given(json_values)
def test_every_json_value_round_trips_with_its_type(value):
    assert _same(decode_value(bytes(encode_value(value))), value)


def test_a_short_record_header_is_small_and_reads_back_whole(mitdb_100):
    sig = sancodec.read_signal(mitdb_100).slice(0, 1000)
    sig.annotations = []
    data = sancodec.encode(sig)
    reader = SanReader(data)
    # binary header (1.3) in the one-frame layout (1.7: no frame head, index or trailer)
    assert data[4:6] == b"\x01\x07" and data[6] & 2 and data[6] & 4 and reader.one_frame
    assert int.from_bytes(data[8:12], "little") < 140  # was about 330 bytes of bzip2-packed JSON
    back = sancodec.decode(data)
    assert back.header_dict() == sig.header_dict()
    full = reader.header
    assert full["amplitude_step"] == 0.02 and full["kernel_scale"] == 4096 and full["model"] is None
    assert full["signal"]["file_name"] == ["100.dat", "100.dat"] and full["signal"]["fmt"] == ["212", "212"]


def test_compact_leaves_out_defaults_and_expand_restores_them():
    header = {"format": "sancodec", "mode": "lossless", "amplitude_step": 0.02, "kernel_scale": 4096,
              "frame_len": 32768, "max_error": 0, "model": None, "quantum": None, "sample_crc32": [1, 2],
              "n_samples": 10, "n_channels": 2,
              "signal": {"fs": 250.0, "channel_names": ["a", "b"], "units": ["mV", "mV"], "adc_gain": [200.0, 100.0],
                         "baseline": [0, 0], "fmt": ["16", "16"], "adc_res": [12, 12], "adc_zero": [0, 0],
                         "file_name": ["rec.dat", "rec.dat"], "comments": [], "base_time": None, "base_date": None,
                         "record_name": "rec", "annotations": []}}
    small = compact(header)
    assert set(small) == {"mode", "sample_crc32", "n_samples", "n_channels", "signal"}
    assert small["signal"]["units"] == "mV" and small["signal"]["adc_gain"] == [200.0, 100.0]
    assert "file_name" not in small["signal"]
    assert _same(expand(decode_value(bytes(encode_value(small)))), header)
    other = {**header, "max_error": 0.0}  # 0.0 is not the default 0: kept, with its type
    assert _same(expand(compact(other)), other)


@pytest.mark.parametrize("data", [
    b"", b"\x0b", b"\x07\x05ab", b"\x07\x02\xff\xfe", b"\x05\x00\x00\x00\x00\x00\x00\xf0\x7f",
    b"\x09\x02\x05\x00\x05\x00", b"\x08\xff\xff\xff\xff\x0f", b"\x0a\x7f", b"\x00\x00",
    b"\x03" + b"\xff" * 10 + b"\x01", b"\x06\xff\xff\xff\xff\xff\xff\xff\x7f",
])
def test_hostile_binary_headers_are_refused(data):
    with pytest.raises(SanFormatError):
        decode_value(data)


def test_nesting_and_container_limits_apply():
    deep = b"\x08\x01" * 40 + b"\x00"
    with pytest.raises(SanFormatError, match="nested"):
        decode_value(deep)
    many = b"\x08\x64" + b"\x08\x00" * 100
    with pytest.raises(SanFormatError, match="nested"):
        decode_value(many, DecodeLimits(max_json_containers=50))
    assert decode_value(many) == [[]] * 100


def test_a_binary_header_claimed_by_an_older_minor_version_is_refused(mitdb_100):
    data = bytearray(sancodec.encode(sancodec.read_signal(mitdb_100).slice(0, 500)))
    data[5] = 2
    with pytest.raises(SanFormatError):
        SanReader(bytes(data))


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_a_format_error(data):
    try:
        value = decode_value(data)
    except SanFormatError:
        return
    try:
        expand(value)
    except SanFormatError:
        pass


@given(json_values)
def test_expand_accepts_or_refuses_any_decoded_object_cleanly(value):
    try:
        expand({"n_channels": 2, "signal": value} if isinstance(value, dict) else value)
    except SanFormatError:
        pass
