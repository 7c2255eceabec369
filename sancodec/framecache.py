"""The decoded frames a :class:`sancodec.stream.SanFile` keeps for the reads to come: rows read at random (a data
loader's windows, ``f[i]`` in a loop) decode each frame once while the frames they land in fit the cache, where
keeping only the last read's frames decoded a frame for nearly every row. The least recently used frame goes first,
as h5py's chunk cache drops chunks."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["FrameCache"]


class FrameCache:
    """Decoded frames by index, at most ``limit`` bytes in all: a frame put is kept, the least recently used ones
    dropped to make room; one larger than the limit is not kept.
    Safe to share between threads (a Dask array's chunks read at once): each call holds a lock for its bookkeeping
    only, never while a frame decodes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        """The bytes of the frames kept."""
        return self._nbytes

    def found(self, first: int, last: int) -> dict[int, np.ndarray]:
        """The frames of ``first`` to ``last`` (inclusive) that are kept, each marked as just used."""
        with self._lock:
            got = {i: self._frames[i] for i in range(first, last + 1) if i in self._frames}
            for i in got:
                self._frames.move_to_end(i)
            return got

    def put(self, index: int, values: np.ndarray) -> None:
        """Keep frame ``index``'s ``values`` (not written to afterwards: callers are given copies), dropping the least
        recently used frames while they hold more than :attr:`limit` bytes; a frame of more than that is not kept
        (nor is anything dropped for it)."""
        limit = self.limit
        if values.nbytes > limit:
            return
        with self._lock:
            old = self._frames.pop(index, None)
            if old is not None:
                self._nbytes -= old.nbytes
            self._frames[index] = values
            self._nbytes += values.nbytes
            while self._nbytes > limit:
                _, dropped = self._frames.popitem(last=False)
                self._nbytes -= dropped.nbytes
