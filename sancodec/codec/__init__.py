"""The device codec: ``Signal`` <-> ``.san`` bytes. numpy only; never imports torch.

``api`` joins the pieces: ``encoder`` (the incremental encoder) and ``pipeline`` (frames on a
thread pool), ``header``/``binheader`` (the header and its binary form), ``frames`` (the registry
of frame codings; ``constant``, ``interchannel`` and ``lossy`` add theirs), ``residual``
(polynomial and LPC predictors, near-lossless quantiser; ``adaptive``, ``cascade``, ``longterm`` and
``running`` its adaptive stages and running contexts), ``entropy`` and ``rangecoder`` (range
coding), ``kernels`` (the per-sample loops, compiled or numpy), ``container`` (the CRC-checked file
layout) and ``annotations``.
"""

from sancodec.codec.api import (
    MODES,
    DecodedFile,
    decode,
    decode_file,
    encode,
    encode_file,
    encode_to_file,
    read_info,
    salvage_extent,
)

__all__ = ["MODES", "DecodedFile", "decode", "decode_file", "encode", "encode_file", "encode_to_file", "read_info",
           "salvage_extent"]
