"""sancodec: Sparsely Activated Networks as a signal codec.

In short (the README has the rest)::

    import sancodec
    sig = sancodec.read_signal("rec")                          # WFDB record, EDF/BDF, .npy (fs=...), CSV
    data = sancodec.encode(sig)                                # lossless .san bytes
    small = sancodec.encode(sig, mode="lossy", prdn=2)         # every channel within PRDN 2 % (or snr=, bps=)
    back = sancodec.decode(data)                               # a Signal: the very samples
    sancodec.write_signal(back, "out/rec")                     # as the recording it was (WFDB, EDF, .npy, CSV)
    with sancodec.open("rec.san", "w", like=sig) as f:          # streaming, soundfile style (or fs=, channels=)
        f.write(sig.samples)
    with sancodec.open("rec.san") as f:                        # random access a frame at a time
        part = f[3600:7200]

Bad input raises a :class:`SancodecError` (:class:`SanFormatError` for a file, :class:`SanConfigError` for an
option). Importing this package never imports torch or onnx: ``io``, ``codec`` and ``san`` are numpy
(+ onnxruntime, lazily); the torch parts live in ``sancodec.train`` and ``sancodec.paper`` and
are imported only by who needs them.
"""

from __future__ import annotations

from sancodec._atomic import write_bytes_atomic, write_text_atomic
from sancodec.codec import decode, encode
from sancodec.codec.limits import DecodeLimits
from sancodec.errors import (
    ModelFileError,
    SancodecError,
    SancodecWarning,
    SanConfigError,
    SanFormatError,
    SanLimitError,
)
from sancodec.io import read_signal, write_signal
from sancodec.san.spec import SanSpec, load_model, save_model
from sancodec.signal import Annotations, Signal
from sancodec.stream import SanFile, SanWriter, open  # noqa: A004 - soundfile's name for it

__version__ = "0.1.0"

__all__ = [
    "Annotations",
    "DecodeLimits",
    "ModelFileError",
    "SanConfigError",
    "SanFormatError",
    "SanFile",
    "SanLimitError",
    "SancodecWarning",
    "SanWriter",
    "SanSpec",
    "SancodecError",
    "Signal",
    "__version__",
    "decode",
    "encode",
    "load_model",
    "open",
    "read_signal",
    "save_model",
    "write_bytes_atomic",
    "write_signal",
    "write_text_atomic",
]
