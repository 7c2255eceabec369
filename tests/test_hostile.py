"""Regression tests for the hostile files of issue 16: valid CRCs, lying contents.

Each file is built with the tests' own writer (``common.rewrap``, ``with_header_bytes``), so the
checksums pass and only the decoder's own checks stand between the file and the damage.
"""

from __future__ import annotations

import base64
import bz2
import io
import json
import struct
import time
import zlib

import numpy as np
import pytest
from common import frame_of, rewrap, with_header_bytes

import sancodec
from sancodec import SanFormatError, Signal
from sancodec.codec import decode_file, read_info
from sancodec.codec.container import SanReader, write_container
from sancodec.codec.entropy import ByteWriter, encode_arrays
from sancodec.codec.limits import DecodeLimits
from sancodec.errors import SanLimitError
from sancodec.san.spec import SanSpec


def _signal(n: int = 64, channels: int = 1) -> Signal:
    x = (np.arange(n * channels).reshape(n, channels) % 7).astype(np.int64)
    return Signal(x, 100.0, [f"c{i}" for i in range(channels)], ["mV"] * channels, adc_gain=[1.0] * channels,
                  baseline=[0] * channels, fmt=["16"] * channels)


BASE = sancodec.encode(_signal(), mode="lossless", frame_len=64)
HEADER = SanReader(BASE).header


def _header(**changes) -> dict:
    head = json.loads(json.dumps(HEADER))
    for key, value in changes.items():
        if value is KeyError:
            head.pop(key)
        else:
            head[key] = value
    return head


def _multi(c: int, head: dict) -> dict:
    """``head`` widened to ``c`` channels (every per-channel list has c entries)."""
    s = head["signal"]
    for key in ("channel_names", "units", "adc_gain", "baseline", "fmt", "adc_res", "adc_zero", "file_name"):
        if s.get(key) is not None:
            s[key] = [s[key][0]] * c
    head["n_channels"] = c
    if head.get("sample_crc32") is not None:
        head["sample_crc32"] = [0] * c
    return head


def _raw_part(length: int, lpc_order: int = 0) -> bytes:
    w = ByteWriter()
    w.varint(0)  # raw path
    w.svarint(0)
    w.varint(1)
    if lpc_order:
        w.varint(8)
        w.varint(lpc_order)
        w.varint(0)
        w.svarint(0)
        for _ in range(lpc_order):
            w.svarint(1)
    else:
        w.varint(0)
    w.raw(encode_arrays([np.zeros(16, np.int64)], [True]))  # far fewer values than declared
    return w.getvalue()


def _refused(data: bytes, error: type = SanFormatError, **kwargs) -> SanFormatError:
    started = time.perf_counter()
    with pytest.raises(error) as info:
        decode_file(data, **kwargs)
    assert time.perf_counter() - started < 5, "refusing took too long"
    return info.value


@pytest.mark.parametrize(("channels", "lpc"), [(4, 0), (8, 32)])
def test_a_tiny_file_declaring_a_huge_frame_is_refused_before_any_work(channels, lpc):
    n = 1 << 24
    head = _multi(channels, _header(n_samples=n, frame_len=n))
    data = rewrap(BASE, header=head, frames=[frame_of([_raw_part(n, lpc)] * channels)])
    assert len(data) < 1000
    assert "over the limit" in str(_refused(data, SanLimitError))


def test_the_limit_can_be_raised_for_a_trusted_file():
    n = 1 << 20
    head = _header(n_samples=n, frame_len=n)
    data = rewrap(BASE, header=head, frames=[frame_of([_raw_part(n)])])
    _refused(data, SanLimitError, limits=DecodeLimits(max_values=1 << 16))
    with pytest.raises(SanFormatError) as info:  # past the limit the lie is found: too few values
        decode_file(data, limits=DecodeLimits(max_values=1 << 21))
    assert not isinstance(info.value, SanLimitError)


def test_two_to_the_forty_samples_is_refused():
    _refused(rewrap(BASE, header=_header(n_samples=1 << 40)))
    _refused(rewrap(BASE, header=_header(n_samples=(1 << 40) + 1)))


def _san_file(kernel_sizes: list[int], length: int, counts: list[int], honest: bool = True) -> bytes:
    """A lossy file with one SAN frame; ``honest=False`` codes only a few of the declared activations."""
    spec = SanSpec(tuple(np.full(m, 0.01, np.float32) for m in kernel_sizes), "peaks")
    head = _header(n_samples=length, frame_len=length, mode="lossy", sample_crc32=None,
                   model={"sha256": spec.sha256(), "spec": spec.to_dict()})
    w = ByteWriter()
    w.varint(1)
    w.svarint(0)
    w.raw(np.float32(0.01).tobytes())
    for n in counts:
        w.varint(n)
    coded = counts if honest else [min(n, 4) for n in counts]
    side = encode_arrays([np.zeros(n, np.int64) for n in coded] * 2, [False] * (2 * len(counts)))
    w.varint(len(side))
    w.raw(side)
    return rewrap(BASE, header=head, frames=[frame_of([w.getvalue()])])


def test_a_long_kernel_active_everywhere_is_refused():
    assert "taps" in str(_refused(_san_file([65536], 1 << 16, [1 << 16], honest=False), SanLimitError))


def test_many_kernels_active_everywhere_are_refused():
    _refused(_san_file([1] * 64, 1 << 20, [1 << 20] * 64, honest=False), SanLimitError)


def test_a_san_file_within_the_limits_still_decodes():
    decoded = decode_file(_san_file([3, 5], 256, [10, 20]))
    assert decoded.activations == 30 and decoded.signal.samples.shape == (256, 1)


@pytest.mark.parametrize(("text", "match"), [
    (b'{"x": [' + b"[]," * 300_000 + b"[]]}", "lists/objects"),
    (b"[" * 5000 + b"]" * 5000, "nested"),
    (b'{"n_samples": ' + b"9" * 5000 + b"}", "digits"),
    (b'{"fs": NaN}', "JSON"),
    (b'{"fs": 1e999}', "JSON"),
])
def test_headers_that_are_json_but_huge_deep_or_odd_are_refused(text, match):
    with pytest.raises(SanFormatError, match=match):
        decode_file(with_header_bytes(BASE, bz2.compress(text), 1))


def test_ten_million_annotations_from_zero_padding_are_refused():
    blob = base64.b64encode(bytes(1_300_000)).decode()
    ann = [{"extension": "atr", "count": 10_000_000, "symbols": ["N"], "notes": [""], "data": blob}]
    head = _header()
    head["signal"]["annotations"] = ann
    _refused(rewrap(BASE, header=head))


@pytest.mark.parametrize("positions", [[-1000], [10**12]])
def test_annotation_positions_outside_the_record_are_refused(positions):
    blob = encode_arrays([np.array(positions), np.zeros(1, np.int64), np.zeros(1, np.int64),
                          np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)], [False] * 6)
    head = _header()
    head["signal"]["annotations"] = [{"extension": "atr", "count": 1, "symbols": ["N"], "notes": [""],
                                      "data": base64.b64encode(blob).decode()}]
    with pytest.raises(SanFormatError, match="annotation positions"):
        decode_file(rewrap(BASE, header=head))


@pytest.mark.parametrize("change", [
    {"sample_crc32": 5}, {"sample_crc32": []}, {"sample_crc32": {}}, {"sample_crc32": None},
    {"quantum": [{}]}, {"mode": KeyError}, {"n_samples": 0}, {"n_samples": True}, {"frame_len": "64"},
    {"amplitude_step": -1}, {"max_error": -1}, {"model": {"sha256": "x", "spec": None}}, {"signal": []},
])
def test_wrong_types_in_header_fields_are_format_errors_naming_the_field(change):
    err = _refused(rewrap(BASE, header=_header(**change)))
    assert "header" in str(err)


@pytest.mark.parametrize("quantum", [[0.0], [-1.0], [0, 0]])
def test_zero_or_negative_quanta_are_refused(quantum):
    head = _header(mode="near-lossless", quantum=quantum, max_error=0.5, sample_crc32=None)
    _refused(rewrap(BASE, header=head))


def test_an_embedded_two_dimensional_model_is_refused():
    spec = SanSpec((np.ones((3, 3), np.float32),), "peaks", dim=2)
    head = _header(model={"sha256": spec.sha256(), "spec": spec.to_dict()})
    with pytest.raises(SanFormatError, match="1-D"):
        decode_file(rewrap(BASE, header=head))


@pytest.mark.parametrize("newline_field", ["channel_names", "file_name", "comments"])
def test_control_characters_in_signal_strings_are_refused(newline_field):
    head = _header()
    value = head["signal"][newline_field] or ["x"]
    head["signal"][newline_field] = [v + "\nINJECTED 1 2 3" for v in (value or ["x"])]
    with pytest.raises(SanFormatError, match=newline_field):
        decode_file(rewrap(BASE, header=head))


def test_info_refuses_two_hundred_thousand_channel_names_quickly():
    head = _multi(200_000, _header())
    data = rewrap(BASE, header=head)
    started = time.perf_counter()
    with pytest.raises(SanFormatError, match="n_channels"):
        read_info(data)
    assert time.perf_counter() - started < 5


def _raw_residual_file(x0: int, step: int, order: int, values: np.ndarray, table: bool = False) -> bytes:
    w = ByteWriter()
    if table:
        w.varint(2)
        w.varint(2)
        side = encode_arrays([np.array([x0, step])], [False])
        w.varint(len(side))
        w.raw(side)
    else:
        w.varint(0)
        w.svarint(x0)
        w.varint(step)
    w.varint(order | 4)
    w.raw(encode_arrays([values], [False]))
    return rewrap(BASE, frames=[frame_of([w.getvalue()])])


@pytest.mark.parametrize("build", [
    lambda: _raw_residual_file(0, 1, 3, np.full(64, 1 << 40, np.int64)),       # order-3 cumsums past 2**63
    lambda: _raw_residual_file(1 << 52, (1 << 52), 0, np.full(64, 3, np.int64)),  # base + u * step
    lambda: _raw_residual_file(0, (1 << 63) - 1, 0, np.ones(64, np.int64), table=True),  # table step 2**63 - 1
])
def test_arithmetic_that_would_wrap_int64_is_refused(build):
    with pytest.raises(SanFormatError, match="2\\*\\*53|too large|overflow"):
        decode_file(build())


@pytest.mark.parametrize("scale", [3e38])
def test_kernel_or_amplitude_steps_near_float_max_are_refused(scale):
    spec = SanSpec((np.full(3, scale, np.float32),), "peaks")
    head = _header(mode="lossy", sample_crc32=None, model={"sha256": spec.sha256(), "spec": spec.to_dict()})
    with pytest.raises(SanFormatError, match="kernel values too large"):
        decode_file(rewrap(BASE, header=head))
    ok = _san_file([3], 64, [2])
    reader = SanReader(ok)
    payload = bytearray(reader.read_frame(0))
    at = payload.index(np.float32(0.01).tobytes())
    payload[at : at + 4] = np.float32(scale).tobytes()
    with pytest.raises(SanFormatError, match="SAN prediction"):
        decode_file(rewrap(ok, frames=[bytes(payload)]))


def test_negative_amplitudes_are_refused():
    data = _san_file([3], 64, [2])
    reader = SanReader(data)
    w = ByteWriter()
    w.varint(1)
    w.svarint(0)
    w.raw(np.float32(0.01).tobytes())
    w.varint(2)
    side = encode_arrays([np.array([3, 4]), np.array([-5, 2])], [False, False])
    w.varint(len(side))
    w.raw(side)
    with pytest.raises(SanFormatError, match="amplitude"):
        decode_file(rewrap(data, header=reader.header, frames=[frame_of([w.getvalue()])]))


def test_a_million_frames_of_sixteen_samples_are_refused():
    n = 16 * 1_000_000
    head = _header(n_samples=n, frame_len=16)
    empty = frame_of([_raw_part(16)])
    data = rewrap(BASE, header=head, frames=[empty] * 1_000_000)
    err = _refused(data, SanLimitError)
    assert "channel-frames" in str(err)


def test_invalid_range_coder_words_are_format_errors():
    reader = SanReader(BASE)
    payload = bytearray(reader.read_frame(0))
    hits = 0
    for i in range(8, len(payload)):
        for bit in range(8):
            bad = bytearray(payload)
            bad[i] ^= 1 << bit
            try:
                decode_file(rewrap(BASE, frames=[bytes(bad)]))
            except SanFormatError:
                hits += 1
    assert hits > 0  # every failure above was a SanFormatError (anything else fails the test)


def test_a_file_of_a_newer_minor_version_is_refused_by_its_version():
    data = bytearray(sancodec.encode(sancodec.Signal(np.arange(100)[:, None], 100.0, ["a"], ["mV"])))
    data[5] = sancodec.codec.container.MINOR + 1
    with pytest.raises(SanFormatError, match="newer than this reader"):
        decode_file(bytes(data))


def test_the_one_frame_layout_is_the_same_file_in_forty_bytes_less():
    """Format 1.7: a file of one frame carries its payload and the payload's CRC32, no frame head,
    index or trailer; a reader takes both layouts, and refuses the layout's flag below minor 7."""
    data = sancodec.encode(sancodec.Signal(np.arange(300)[:, None] % 17, 100.0, ["a"], ["mV"]))
    reader = SanReader(data)
    assert reader.one_frame and reader.n_frames == 1 and data[5] == 7
    standard = rewrap(data, one_frame=False)
    assert not SanReader(standard).one_frame and len(standard) == len(data) + 40
    np.testing.assert_array_equal(decode_file(standard).signal.samples, decode_file(data).signal.samples)
    out = io.BytesIO()  # a stream of frames (an iterator, not a list) keeps the indexed layout
    write_container(out, reader.header, iter([reader.read_frame(0)]), minor=3)
    assert not SanReader(out.getvalue()).one_frame
    old = bytearray(rewrap(data, one_frame=True))
    old[5] = 6  # the layout's flag in a 1.6 file: its preamble CRC made good again
    head_len = int.from_bytes(old[8:12], "little")
    old[12:16] = struct.pack("<I", zlib.crc32(bytes(old[:12]) + bytes(old[16 : 16 + head_len])))
    with pytest.raises(SanFormatError, match="unknown .san flags"):
        decode_file(bytes(old))
    with pytest.raises(SanFormatError, match="checksum mismatch"):
        decode_file(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(SanFormatError, match="shorter than the minimum"):
        decode_file(data[:19])
