"""The exceptions sancodec raises on purpose.

Every error is a :class:`SancodecError`; each subclass also inherits the
natural builtin so callers that catch ``ValueError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "SancodecError",
    "SanConfigError",
    "SanFormatError",
    "ModelFileError",
    "SanLimitError",
    "SancodecWarning",
    "option",
]


class SancodecError(Exception):
    """Base class of every error sancodec raises on purpose."""


class SanConfigError(SancodecError, ValueError):
    """An argument or model configuration is invalid (bad kernel size, unknown activation…)."""


class SanFormatError(SancodecError, ValueError):
    """A file or byte stream is not valid sancodec data (bad magic, checksum, length…)."""


class ModelFileError(SanFormatError):
    """A model file is missing, unreadable or does not describe a valid SAN."""


class SanLimitError(SanFormatError):
    """A file asks for more work or memory than its size justifies (see ``codec.limits``);
    raise the limit for files you trust."""


class SancodecWarning(UserWarning):
    """Something in an input the caller should know of that does not stop the work (a WFDB record whose samples
    do not match its header's checksums is archived as read, and said so); the CLI prints each as one line."""


def option(name: str) -> str:
    """An option as an error message names it, for the library's callers and the CLI's alike: ``max_error``
    becomes "max_error (--max-error)"."""
    return f"{name} (--{name.replace('_', '-')})"
