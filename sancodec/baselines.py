"""Sizes of the same samples under the tools users already have: raw, gzip, bz2, lzma, zstd, FLAC, pcodec.

Every tool sees the record's digital samples as int16 little-endian, interleaved
(FLAC: one stream with all channels; pcodec: one array per channel, its numeric model's
best case, level 12). zstd, FLAC and pcodec are used when their Python packages (zstandard,
soundfile, pcodec) are installed and report None otherwise. No torch.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma

import numpy as np

from sancodec.signal import Signal

__all__ = ["baseline_sizes"]


def _int16(signal: Signal) -> np.ndarray | None:
    x = signal.samples
    if not signal.is_digital or x.min() < -32768 or x.max() > 32767:
        return None
    return x.astype("<i2")


def baseline_sizes(signal: Signal) -> dict[str, int | None]:
    """Bytes per tool; None where the tool is missing or cannot hold the samples."""
    x = _int16(signal)
    raw = x.tobytes() if x is not None else signal.samples.astype("<f8").tobytes()
    out: dict[str, int | None] = {
        "raw 16-bit": signal.samples.size * 2,
        "gzip -9": len(gzip.compress(raw, 9, mtime=0)),
        "bz2 -9": len(bz2.compress(raw, 9)),
        "lzma -9e": len(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME)),
    }
    try:
        import zstandard

        out["zstd -19"] = len(zstandard.ZstdCompressor(level=19).compress(raw))
    except ImportError:
        out["zstd -19"] = None
    out["FLAC -8"] = None
    if x is not None and signal.n_channels <= 8:
        try:
            import soundfile

            buf = io.BytesIO()
            soundfile.write(buf, x, 8000, format="FLAC", subtype="PCM_16", compression_level=1.0)
            out["FLAC -8"] = len(buf.getvalue())
        except (ImportError, RuntimeError):
            pass
    out["pcodec 12"] = _pcodec_size(x)
    return out


def _pcodec_size(x: np.ndarray | None) -> int | None:
    """pcodec at its strongest level (12), one array per channel (the numeric codec Zarr users have)."""
    if x is None:
        return None
    try:
        from pcodec import ChunkConfig, standalone
    except ImportError:
        return None
    config = ChunkConfig(compression_level=12)
    return sum(len(standalone.simple_compress(np.ascontiguousarray(x[:, k]), config)) for k in range(x.shape[1]))
