"""Warnings gathered per thread: what ``warnings.catch_warnings(record=True)`` does for one thread where several run.

Python's warnings state (the filters, ``showwarning``) is the process's until 3.14: a ``catch_warnings`` block on one
thread records the warnings every thread says meanwhile, and two such blocks that overlap put back each other's
``showwarning`` on leaving, so the last to leave can leave the process's warnings going into a list nobody reads.
Here one ``showwarning``, put in place once (and again where a ``catch_warnings`` block put back what it found),
hands each warning to the innermost :func:`caught_here` block open on the thread that said it, where its category is
one that block gathers, and every other warning to the ``showwarning`` it found.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["caught_here"]

_OPEN = threading.local()  # this thread's open blocks, innermost last: (categories, list) pairs
_LOCK = threading.Lock()


@contextmanager
def caught_here(*categories: type[Warning]) -> Iterator[list[warnings.WarningMessage]]:
    """The warnings of ``categories`` (by default every warning) this thread says within the block, as
    ``catch_warnings(record=True)`` records them; the filters decide, as ever, which are said at all."""
    _hook()
    blocks = getattr(_OPEN, "blocks", None)
    if blocks is None:
        blocks = _OPEN.blocks = []
    caught: list[warnings.WarningMessage] = []
    blocks.append((categories or (Warning,), caught))
    try:
        yield caught
    finally:
        blocks.pop()


def _hook() -> None:
    """Put the per-thread ``showwarning`` in place where it is not, in front of whatever is there."""
    with _LOCK:
        if getattr(warnings.showwarning, "_sancodec_per_thread", False):
            return
        found = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):  # warnings.showwarning's signature
            for wanted, caught in reversed(getattr(_OPEN, "blocks", None) or ()):
                if issubclass(category, wanted):
                    caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))
                    return
            found(message, category, filename, lineno, file, line)

        show._sancodec_per_thread = True  # type: ignore[attr-defined]
        warnings.showwarning = show
