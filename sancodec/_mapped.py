"""New ``.npy`` files mapped for writing (a long decode's samples, ``decode --physical``'s values), their disk blocks
taken when they are made.

``np.lib.format.open_memmap`` makes a sparse file: a full disk then shows only when a page of it is first written,
and the kernel answers that with SIGBUS, which kills the process ("Bus error", exit 135) before any cleanup, its
temporary folder left behind. Allocating the file's blocks first (``posix_fallocate``) turns a full disk into an
``OSError`` naming the file, which ``_atomic.said_of_output`` says of the output, as any other write error.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["new_mapped_npy"]

#: what posix_fallocate answers where the filesystem cannot allocate ahead (the file then stays sparse, as before)
CANNOT_ALLOCATE = frozenset(e for e in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOSYS", None),
                                        getattr(errno, "ENOTSUP", None)) if e is not None)


def new_mapped_npy(path: Path, dtype: Any, shape: tuple[int, ...]) -> np.memmap:
    """A new ``.npy`` file at ``path`` of ``dtype`` and ``shape``, mapped for writing, every block of it allocated on
    disk (an ``OSError`` naming ``path`` where the disk has no room for it)."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    allocate = getattr(os, "posix_fallocate", None)  # (none on Windows or macOS: sparse, as before)
    if allocate is not None:
        fd = os.open(path, os.O_RDWR)
        try:
            allocate(fd, 0, os.fstat(fd).st_size)
        except OSError as exc:
            if exc.errno not in CANNOT_ALLOCATE:
                del array
                raise OSError(exc.errno, os.strerror(exc.errno or 0), str(path)) from None
        finally:
            os.close(fd)
    return array
