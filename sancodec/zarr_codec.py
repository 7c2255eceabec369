"""sancodec as a Zarr 3 array->bytes codec: each chunk stored as a ``.san`` payload.

The way zarr adapts numcodecs codecs (``zarr.codecs.numcodecs.PCodec`` and friends): a subclass
of its ``_NumcodecsArrayBytesCodec`` named ``numcodecs.sancodec``, registered through the
``zarr.codecs`` entry point, that runs the numcodecs codec ``sancodec``
(:class:`sancodec.arraycodec.Sancodec`). Use it as an array's serializer::

    zarr.create_array(store, shape=(n, 2), chunks=(65536, 2), dtype="int16",
                      serializer=sancodec.zarr_codec.Sancodec(mode="lossless"), compressors=None)

An array's last chunk reaches zarr's codecs padded to the chunk's shape with the fill value; in lossy mode the
codec codes such a chunk without those last rows (all of one value) and puts them back exactly, so that the rows of
data meet the target themselves (``arraycodec._constant_tail``). Needs ``pip install sancodec[zarr]``.
"""

from __future__ import annotations

from typing import Any

from zarr.codecs.numcodecs import _NumcodecsArrayBytesCodec

__all__ = ["Sancodec"]


class Sancodec(_NumcodecsArrayBytesCodec, codec_name="sancodec"):
    """Configured like :class:`sancodec.arraycodec.Sancodec` (``mode``, ``max_error``, ``prdn``, ``snr``, ``bps``,
    ``effort``, ``fs``, ``frame_len``), and checked as it is made: zarr makes the numcodecs codec at the first chunk
    it encodes, so a bad configuration went unnoticed until then (or for good, where every chunk written held the
    fill value, which zarr does not encode)."""

    def __init__(self, **codec_config: Any) -> None:
        from sancodec.arraycodec import Sancodec as NumcodecsSancodec

        NumcodecsSancodec(**{k: v for k, v in codec_config.items() if k != "id"})  # its errors, now
        super().__init__(**codec_config)

    def validate(self, *, shape: tuple[int, ...], dtype: Any, chunk_grid: Any) -> None:
        """Refuse, as the array is made, a rank or type no chunk of it could be coded in (it failed at the first
        chunk written): zarr asks each codec this of the array's shape and data type."""
        from sancodec.arraycodec import check_array_form

        check_array_form(shape, dtype.to_native_dtype())
