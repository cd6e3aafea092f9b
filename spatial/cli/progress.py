"""A progress bar for long runs, silent for short ones and non-terminals."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``tick(done, total)`` callback driving a rich progress bar on stderr.

    The bar only appears once there is more than one chunk of work and stderr
    is a terminal, so scripted runs and small jobs stay quiet.

    Parameters
    ----------
    label : str
        Task label.

    Yields
    ------
    callable
        ``tick(done, total)``.
    """
    progress: Progress | None = None
    task = None

    def tick(done: int, total: int) -> None:
        nonlocal progress, task
        if progress is None:
            if done >= total or not sys.stderr.isatty():
                return
            progress = Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"), TimeElapsedColumn(), TimeRemainingColumn(), transient=True)
            progress.start()
            task = progress.add_task(label, total=total)
        progress.update(task, completed=done)

    try:
        yield tick
    finally:
        if progress is not None:
            progress.stop()
