"""A rich progress bar for long training, or a silent stand-in:
``with progress(enabled, label, total) as (tick, set_label):``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["progress"]


class _NullBar:
    def __enter__(self) -> tuple[Callable[..., None], Callable[[str], None]]:
        return (lambda _n=1: None), (lambda _d: None)

    def __exit__(self, *exc: object) -> None:
        return None


class _RichBar:
    def __init__(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=True,
        )
        self._label = label
        self._total = total

    def __enter__(self) -> tuple[Callable[..., None], Callable[[str], None]]:
        self._progress.__enter__()
        task = self._progress.add_task(self._label, total=self._total)
        return (
            lambda n=1: self._progress.advance(task, n),
            lambda text: self._progress.update(task, description=text),
        )

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)


def progress(enabled: bool, label: str, total: int) -> _NullBar | _RichBar:
    return _RichBar(label, total) if enabled else _NullBar()
