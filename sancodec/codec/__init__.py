"""The device codec: ``Signal`` <-> ``.san`` bytes. numpy only; never imports torch.

``api`` joins the pieces: ``header`` (to_header/from_header), ``frames`` (the registry of
frame codings), ``residual`` (polynomial and LPC predictors, near-lossless quantiser),
``entropy`` (range coder glue), ``container`` (the CRC-checked file layout) and
``annotations``.
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
)

__all__ = ["MODES", "DecodedFile", "decode", "decode_file", "encode", "encode_file", "encode_to_file", "read_info"]
