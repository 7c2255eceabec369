"""Sizes of the same samples under the tools users already have: raw, gzip, bz2, lzma, zstd, FLAC, pcodec.

Every tool sees the record's digital samples as little-endian integers of the narrowest width of 16, 24 or 32 bits
that holds them, interleaved, as a WFDB, EDF or BDF file stores them (24 bits: three bytes a sample, as BDF and
24-bit WAV do): a 24-bit BDF is compared with tools given its three bytes a sample, not eight. FLAC takes one
stream with all channels (16 or 24 bits; libsndfile's FLAC holds no wider samples; past FLAC's 8 channels, streams
of 8 in turn, summed); pcodec one array per channel (int16 or int32), its numeric model's best case, level 12.
Floating-point samples are given to the general-purpose tools and to pcodec as float16 where every one is a float16,
as float32 where every one is a float32 (a float32 ``.npy``: four bytes a sample, as its file holds them), else as
float64, as are integers beyond 32 bits (pcodec's float model is what a Zarr user of float arrays has). A
multi-frequency record's channels are given at their own rates, as its file holds them: the general tools each
frame's samples channel after channel (WFDB's frames, EDF's data records), FLAC one stream a channel,
pcodec one array a channel, not the rows sancodec holds them on (every channel at the fastest rate, or at their
rates' least common multiple), which would give the tools up to several times the samples. zstd, FLAC and pcodec
are used when their Python packages (zstandard, soundfile, pcodec) are installed and report None otherwise. No
torch.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import io
import lzma
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from sancodec.signal import Signal

__all__ = ["baseline_sizes", "float_width", "raw_width"]

WIDTHS = (16, 24, 32)  # the integer widths the tools are given, narrowest first


def raw_width(signal: Signal) -> int | None:
    """The narrowest of :data:`WIDTHS` that holds ``signal``'s digital samples; None for floating-point samples
    or integers wider than 32 bits."""
    x = signal.samples
    if not signal.is_digital:
        return None
    low, high = (int(x.min()), int(x.max())) if x.size else (0, 0)
    return next((w for w in WIDTHS if -(1 << (w - 1)) <= low and high < 1 << (w - 1)), None)


def float_width(signal: Signal) -> int:
    """The float width the tools are given samples that :func:`raw_width` gives none: the narrowest of 16, 32 and 64
    that holds every sample (a float16 ``.npy``: two bytes a sample, as its file holds them)."""
    x = signal.samples
    if x.dtype.kind != "f":
        return 64
    for bits, narrow_type in ((16, np.float16), (32, np.float32)):
        with np.errstate(over="ignore", invalid="ignore"):  # (a value past the type's range becomes inf: not equal)
            narrow = x.astype(narrow_type).astype(x.dtype)
        if np.array_equal(narrow, x):
            return bits
    return 64


def _raw_bytes(x: np.ndarray, width: int | None, floats: int = 64) -> bytes:
    """``x`` as the tools see it: interleaved little-endian integers of ``width`` bits (three bytes a sample at
    24), or for None floats of ``floats`` bits (:func:`float_width`)."""
    if width is None:
        return np.ascontiguousarray(x, dtype=f"<f{floats // 8}").tobytes()
    if width == 24:
        return np.ascontiguousarray(x, dtype="<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return np.ascontiguousarray(x, dtype=f"<i{width // 8}").tobytes()


#: the Python package each tool of :func:`baseline_sizes` needs beyond the standard library
TOOL_PACKAGES = {"zstd -19": "zstandard", "FLAC -8": "soundfile", "pcodec 12": "pcodec"}


def missing_packages() -> dict[str, str]:
    """The tools of :func:`baseline_sizes` that are not installed here, each with the package that brings it (pcodec
    is not among sancodec's dependencies): a report can say why a column is empty."""
    return {tool: package for tool, package in TOOL_PACKAGES.items() if importlib.util.find_spec(package) is None}


def baseline_sizes(signal: Signal, given: np.ndarray | None = None) -> dict[str, int | None]:
    """Bytes per tool, the first entry the raw samples (``raw 16-bit``, ``raw 24-bit``, ``raw 32-bit``, ``raw
    float16``, ``raw float32`` or ``raw float64``, as :func:`raw_width` and :func:`float_width` find them); None where
    the tool is missing or cannot hold the samples. ``given``: floats with NaN gaps (samples x channels, one rate)
    that ``signal`` holds rounded for a lossy mode (``codec.nanfloats``): the tools get those, as they were given.

    The tools run at once on a thread each: they all release the GIL while they compress, and lzma -9e and
    zstd -19 alone take seconds on a half-hour record. Their working memory adds up (lzma -9e's is about
    0.7 GB) where it came one tool at a time."""
    if given is not None:  # (a Signal holds no NaN: the floats stand in for its samples, as float_width reads them)
        signal = replace(signal, samples=np.where(np.isnan(given), 0.0, given).astype(given.dtype), adc_gain=None,
                         baseline=None, samples_per_frame=None)
    width = raw_width(signal)
    floats = float_width(signal) if width is None else 64
    channels = own_rates(signal)
    samples = signal.samples if given is None else given
    raw = _raw_bytes(samples if channels is None else stored_order(signal, channels), width, floats)
    tools: dict[str, Callable[[], int | None]] = {
        "gzip -9": lambda: len(gzip.compress(raw, 9, mtime=0)),
        "bz2 -9": lambda: len(bz2.compress(raw, 9)),
        "lzma -9e": lambda: len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)),
        "zstd -19": lambda: _zstd_size(raw),
        "FLAC -8": lambda: _flac_sizes(signal.samples, channels, width),
        "pcodec 12": lambda: _pcodec_size(
            [samples[:, k] for k in range(signal.n_channels)] if channels is None else channels, width, floats),
    }
    with ThreadPoolExecutor(min(len(tools), os.cpu_count() or 1)) as pool:
        running = {tool: pool.submit(size) for tool, size in tools.items()}
        sizes = {tool: job.result() for tool, job in running.items()}
    return {f"raw {width}-bit" if width else f"raw float{floats}": len(raw), **sizes}


def own_rates(signal: Signal) -> list[np.ndarray] | None:
    """A multi-frequency record's channels, each at its own rate (every ``step``-th row); None for one rate."""
    if signal.samples_per_frame is None:
        return None
    return [signal.samples[::step, k] for k, step in enumerate(signal.sample_steps())]


def stored_order(signal: Signal, channels: list[np.ndarray]) -> np.ndarray:
    """The samples of ``channels`` (:func:`own_rates`) in a multi-frequency file's order: frame by frame, each
    channel's samples of the frame in turn (WFDB's frames, EDF's data records)."""
    frames = signal.n_samples // signal.frame_size
    assert signal.samples_per_frame is not None
    return np.concatenate([c.reshape(frames, spf) for c, spf in zip(channels, signal.samples_per_frame)], axis=1)


FLAC_CHANNELS = 8  # FLAC's most channels in a stream: a wider record goes as several streams, summed


def _flac_sizes(x: np.ndarray, channels: list[np.ndarray] | None, width: int | None) -> int | None:
    """:func:`_flac_size` of ``x``'s channels in one stream, or where it has more than :data:`FLAC_CHANNELS` (a
    12-lead ECG with its Frank leads) in streams of that many in turn, as a user of FLAC would split it, or of a
    multi-frequency record's ``channels`` one stream each (FLAC holds one rate a stream), summed."""
    if channels is None:
        sizes = [_flac_size(x[:, k : k + FLAC_CHANNELS], width) for k in range(0, x.shape[1], FLAC_CHANNELS)]
    else:
        sizes = [_flac_size(c[:, None], width) for c in channels]
    return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


def _zstd_size(raw: bytes) -> int | None:
    """zstd -19 of ``raw`` (None without zstandard)."""
    try:
        import zstandard
    except ImportError:
        return None
    return len(zstandard.ZstdCompressor(level=19).compress(raw))


def _flac_size(x: np.ndarray, width: int | None) -> int | None:
    """FLAC -8 of all channels in one stream, at 16 or 24 bits (None for wider or float samples, or without
    soundfile). libsndfile scales int32 input to full scale, so 24-bit samples go in shifted up by 8 bits."""
    if width not in (16, 24):
        return None
    try:
        import soundfile
    except ImportError:
        return None
    data = x.astype("<i2") if width == 16 else x.astype("<i4") << 8
    buf = io.BytesIO()
    try:
        soundfile.write(buf, data, 8000, format="FLAC", subtype=f"PCM_{width}", compression_level=1.0)
    except RuntimeError:
        return None
    return len(buf.getvalue())


def _pcodec_size(channels: list[np.ndarray], width: int | None, floats: int = 64) -> int | None:
    """pcodec at its strongest level (12), one array per channel (the numeric codec Zarr users have): int16 or
    int32, for float or wider samples floats of ``floats`` bits as the other tools get them (None without
    pcodec)."""
    try:
        from pcodec import ChunkConfig, standalone
    except ImportError:
        return None
    config = ChunkConfig(compression_level=12)
    dtype = {16: np.float16, 32: np.float32}.get(floats, np.float64) if width is None else \
        np.int16 if width == 16 else np.int32
    return sum(len(standalone.simple_compress(np.ascontiguousarray(c, dtype=dtype), config)) for c in channels)
