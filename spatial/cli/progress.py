"""A progress bar for long runs, silent for short ones and non-terminals."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress_bar", "stage_bars"]


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


@contextlib.contextmanager
def stage_bars(stages: Mapping[str, str], *, console: Console | None = None, min_seconds: float = 1.0) -> Iterator[Callable[[str, float], None]]:
    """Yield an ``on_stage(stage, fraction)`` callback showing one rich bar per stage on stderr.

    Each stage (读取 / 筛查 / 出图 / 报告) gets its line when it starts, with
    its fraction, the time spent and rich's estimate of the time left.  The
    bars appear only on a terminal and once the run has lasted
    ``min_seconds``, so scripted runs and quick jobs stay quiet.

    Parameters
    ----------
    stages : mapping
        Stage key -> label (``spatial.job.STAGES``).
    console : rich Console, optional
        Where to draw (default: stderr).
    min_seconds : float, default 1
        Quiet before this.

    Yields
    ------
    callable
        ``on_stage(stage, fraction)``.
    """
    console = console or Console(stderr=True)
    progress: Progress | None = None
    tasks: dict[str, Any] = {}
    t0 = time.monotonic()

    def on_stage(stage: str, fraction: float) -> None:
        nonlocal progress
        if progress is None:
            if not console.is_terminal or time.monotonic() - t0 < min_seconds:
                return
            progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                console=console, transient=False,
            )  # fmt: skip
            progress.start()
        for key in stages:  # stages passed without a word (a fast reader) are shown done
            if key == stage:
                break
            if key in tasks:
                progress.update(tasks[key], completed=100)
        if stage not in tasks:
            tasks[stage] = progress.add_task(stages.get(stage, stage), total=100)
        progress.update(tasks[stage], completed=round(100 * min(max(fraction, 0.0), 1.0), 1))

    try:
        yield on_stage
    finally:
        if progress is not None:
            progress.stop()
