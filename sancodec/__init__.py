"""sancodec: Sparsely Activated Networks as a signal codec.

Importing this package never imports torch; the torch parts (``sancodec.model``,
``sancodec.activations``, ``sancodec.train``) are imported on first use.
"""

from __future__ import annotations

from sancodec._atomic import write_bytes_atomic, write_text_atomic
from sancodec.errors import ModelFileError, SancodecError, SanConfigError, SanFormatError
from sancodec.spec import SanSpec, load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "ModelFileError",
    "SanConfigError",
    "SanFormatError",
    "SanSpec",
    "SancodecError",
    "__version__",
    "load_model",
    "save_model",
    "write_bytes_atomic",
    "write_text_atomic",
]
