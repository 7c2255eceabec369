"""Where a lossy file's bytes go: per channel, how its frames are coded and, for wavelet frames, the bytes
of the frame heads, the beat template and each band (with the frequencies it covers).

Read from the file alone (``sancodec info --bands``): a user can see which part of a signal the codec
pays for at a target (a 1000 Hz ECG's noise above 125 Hz, or its beat template), without decoding samples.
Every field is checked as the decoder checks it; a file that does not parse raises ``SanFormatError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sancodec.codec import adaptivebands
from sancodec.codec.bandlpc import read_sized_filters
from sancodec.codec.beats import BeatTemplate, read_template
from sancodec.codec.container import SanReader
from sancodec.codec.entropy import ByteReader, decode_arrays
from sancodec.codec.frames import SanCoding
from sancodec.codec.header import FileLayout, from_header
from sancodec.codec.interchannel import nested_difference
from sancodec.codec.mains import read_mains
from sancodec.codec.residual import estimate_bits
from sancodec.codec.wavelet import band_lengths
from sancodec.codec.waveletframe import (
    ADAPTIVE_BANDS,
    ADAPTIVE_PARENT,
    BAND_LPC,
    GAP_DIFFERENCES,
    MAINS,
    SEPARATE_BANDS,
    TAP_SECOND,
    TAP_SHIFT,
    TransformCoding,
    read_head,
)
from sancodec.errors import SanFormatError

__all__ = ["Band", "ChannelAnatomy", "beat_template", "lossy_anatomy"]


@dataclass
class Band:
    """One wavelet band summed over a channel's wavelet frames: ``name`` (``a7``: approximation after 7
    levels, ``d1``: the finest detail), the frequencies it covers in Hz, its coefficients and bytes."""

    name: str
    low_hz: float
    high_hz: float
    coefficients: int = 0
    bytes: float = 0.0
    estimated: bool = False  # some of its bytes are a share of bands coded in one blob (see ChannelAnatomy)
    predicted: int = 0  # its coefficients coded as their linear prediction's residual (format 1.11), filter in bytes
    parents: int = 0  # its coefficients coded in an adaptive stream with parent contexts (format 1.13)


@dataclass
class ChannelAnatomy:
    """A channel's bytes in a lossy file: its frames and their bytes by coding (``wavelet``, ``wavelet +
    template``, ``time domain``: an exact or grid coding, format 1.6; ``san``: the paper's SAN-only code; any of
    them as ``difference (...)``: the channel less a combination of earlier ones, path 5),
    and for its wavelet frames the heads (step, levels, flags), the beat template, the mains hum (1.10) and the
    bands.
    ``bands_joint``: the bytes of bands coded in one blob (short bands, where that is smaller); each band's
    share of such a blob is estimated from its values' order-0 bits (``residual.estimate_bits``) and marked
    ``estimated``."""

    name: str
    frames: dict[str, int] = field(default_factory=dict)
    frame_bytes: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    values: int = 0  # samples coded (at the channel's own rate)
    head_bytes: int = 0
    template_bytes: int = 0
    mains_bytes: int = 0  # format 1.10: the mains hum's frequency and amplitudes
    bands_joint: int = 0
    bands: dict[str, Band] = field(default_factory=dict)

    @property
    def bits_per_sample(self) -> float:
        """The channel's bits per coded sample: what a ``bps`` target budgets (header and framing apart)."""
        return 8 * self.bytes / self.values if self.values else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "frames": self.frames, "frame_bytes": self.frame_bytes, "bytes": self.bytes,
                "values": self.values, "bits_per_sample": self.bits_per_sample, "head_bytes": self.head_bytes,
                "template_bytes": self.template_bytes, "mains_bytes": self.mains_bytes,
                "bands_joint_bytes": self.bands_joint,
                "bands": [vars(b) for b in self.bands.values()]}


def _band(name: str, index: int, levels: int, fs: float) -> Band:
    """Band ``index`` (coarsest first) of ``levels``: the approximation covers [0, fs / 2^(levels+1)], the
    detail of level k [fs / 2^(k+1), fs / 2^k]."""
    if index == 0:
        return Band(name, 0.0, fs / 2 ** (levels + 1))
    k = levels - index + 1
    return Band(name, fs / 2 ** (k + 1), fs / 2**k)


def _wavelet_frame(part: bytes, length: int, fs: float, into: ChannelAnatomy) -> bool:
    """Add one wavelet channel-frame's head, template and band bytes to ``into``; whether it has a template."""
    r = ByteReader(part, "frame")
    r.varint()
    _, _, levels, _, predictor = read_head(r, length)
    into.head_bytes += len(part) - r.remaining()
    if predictor & 1:
        before = r.remaining()
        _template(r, length, predictor)
        into.template_bytes += before - r.remaining()
    if predictor & MAINS:
        before = r.remaining()
        read_mains(r, length)
        into.mains_bytes += before - r.remaining()
    lengths = band_lengths(length, levels)
    before = r.remaining()
    flags = 0 if predictor & ADAPTIVE_BANDS else r.varint((1 << len(lengths)) - 1)
    into.head_bytes += before - r.remaining()
    bands = [into.bands.setdefault(name, _band(name, index, levels, fs))
             for index, name in enumerate([f"a{levels}", *(f"d{k}" for k in range(levels, 0, -1))])]
    for band, n in zip(bands, lengths):
        band.coefficients += n
    if predictor & BAND_LPC:  # format 1.11: the mask with the heads, each filter with its band
        mask_bytes, filters = read_sized_filters(r, len(lengths))
        into.head_bytes += mask_bytes
        for b, (_, size) in filters.items():
            bands[b].bytes += size
            bands[b].predicted += lengths[b]
    if predictor & ADAPTIVE_PARENT:  # format 1.13: every band from the third on under its parent's contexts too
        for band, n in list(zip(bands, lengths))[2:]:
            band.parents += n
    if not predictor & SEPARATE_BANDS:  # one blob (one adaptive stream, format 1.9): each band's share estimated
        blob = r.raw(r.remaining())
        streams = (adaptivebands.decode(blob, lengths, parent=bool(predictor & ADAPTIVE_PARENT))
                   if predictor & ADAPTIVE_BANDS else
                   decode_arrays(blob, lengths, [bool(flags >> b & 1) for b in range(len(lengths))]))
        bits = [estimate_bits(s) for s in streams]
        for band, bit in zip(bands, bits):
            band.bytes += len(blob) * bit / sum(bits) if sum(bits) > 0 else len(blob) / len(bands)
            band.estimated = True
        into.bands_joint += len(blob)
        return bool(predictor & 1)
    for band in bands:
        start = r.remaining()
        r.raw(r.varint(r.remaining()))
        band.bytes += start - r.remaining()
    if r.remaining():
        raise SanFormatError(f"frame: {r.remaining()} unexpected bytes after the wavelet bands")
    return bool(predictor & 1)


def lossy_anatomy(data: bytes, bands: bool = True) -> list[ChannelAnatomy]:
    """Each channel's :class:`ChannelAnatomy` in the lossy ``.san`` file ``data``; without ``bands``, its bytes,
    values and frame count only (every wavelet frame counted as ``wavelet``: heads, templates and bands are
    not read, so nothing is decoded), what the bits per sample need."""
    reader = SanReader(data)
    layout = _lossy_layout(reader)
    if layout is None:
        raise SanFormatError("only a lossy file has wavelet bands to show (this one is "
                             f"{reader.header.get('mode')!r})")
    fs = float(layout.signal_head.get("fs") or 0.0)
    names = layout.signal_head.get("channel_names") or []
    out = [ChannelAnatomy(str(names[c]) if c < len(names) else str(c)) for c in range(layout.n_channels)]
    for c, part, length in _channel_parts(reader, layout):
        channel = out[c]
        nested = nested_difference(part)  # path 5: the difference from earlier channels, coded as any other
        inner = part if nested is None else nested
        path = ByteReader(inner, "frame").varint()
        channel.bytes += len(part)
        channel.values += length
        channel.head_bytes += len(part) - len(inner)  # the references
        if path == TransformCoding.id:
            template = bands and _wavelet_frame(inner, length, fs / layout.steps[c], channel)
            kind = "wavelet + template" if template else "wavelet"
        else:
            kind = "san" if path == SanCoding.id else "time domain"
        kind = kind if nested is None else f"difference ({kind})"
        channel.frames[kind] = channel.frames.get(kind, 0) + 1
        channel.frame_bytes[kind] = channel.frame_bytes.get(kind, 0) + len(part)
    return out


def _lossy_layout(reader: SanReader) -> FileLayout | None:
    """A lossy file's layout without its SAN model (a san-mode file that references a model this machine lacks
    still parses); None for a file of another mode."""
    return from_header({**reader.header, "model": None}) if reader.header.get("mode") == "lossy" else None


def _channel_parts(reader: SanReader, layout: FileLayout) -> Iterator[tuple[int, bytes, int]]:
    """Each frame's channel-frames in turn: the channel, its part and its count of values; a frame holding bytes
    after its channels raises :class:`SanFormatError` once they are read."""
    for i in range(reader.n_frames):
        rows = min(layout.frame_len, layout.n_samples - i * layout.frame_len)
        frame = ByteReader(reader.read_frame(i), "frame")
        for c in range(layout.n_channels):
            yield c, frame.raw(frame.varint(frame.remaining())), rows // layout.steps[c]
        if frame.remaining():
            raise SanFormatError(f"frame {i}: {frame.remaining()} bytes after its channels")


def _template(r: ByteReader, length: int, predictor: int) -> BeatTemplate:
    """A wavelet channel-frame's beat template, read where its head (``predictor``'s flags) says one follows."""
    return read_template(r, length, bool(predictor & GAP_DIFFERENCES), bool(predictor & TAP_SHIFT),
                         bool(predictor & TAP_SECOND))


def beat_template(data: bytes, channel: int = 0) -> BeatTemplate | None:
    """The beat template (the lossy coder's one-kernel SAN, fitted to the record) of ``channel``'s first wavelet
    frame that has one in the lossy ``.san`` file ``data``; None where no frame of it has one, or the file is not
    lossy. Read from the file alone, checked as the decoder checks it."""
    reader = SanReader(data)
    layout = _lossy_layout(reader)
    if layout is None or not 0 <= channel < layout.n_channels:
        return None
    for c, part, length in _channel_parts(reader, layout):
        if c != channel:
            continue
        nested = nested_difference(part)
        r = ByteReader(part if nested is None else nested, "frame")
        if r.varint() != TransformCoding.id:
            continue
        predictor = read_head(r, length)[4]
        if predictor & 1:
            return _template(r, length, predictor)
    return None
