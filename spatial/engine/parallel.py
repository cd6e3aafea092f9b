"""Threads for the geometry work: shapely releases the GIL in its vectorised calls."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["run_tasks", "run_jobs", "default_threads"]


def run_tasks(tasks: list[tuple[Any, ...]], threads: int) -> list[Any]:
    """Run ``(function, *args)`` tasks, on a thread pool when ``threads > 1``.

    shapely releases the GIL in its vectorised calls and tree queries, so the
    geometry work of independent tasks overlaps on several cores.

    Parameters
    ----------
    tasks : list of tuple
        ``(function, *args)``.
    threads : int
        Pool size.

    Returns
    -------
    list
        Results in task order.
    """
    if threads <= 1 or len(tasks) <= 1:
        return [fn(*args) for fn, *args in tasks]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecozone-screen") as pool:
        futures = [pool.submit(fn, *args) for fn, *args in tasks]
        return [fut.result() for fut in futures]


def run_jobs(jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``(key, function, *args)`` jobs one after another (one task, one thread).

    Parameters
    ----------
    jobs : list of tuple
        ``(key, function, *args)``.

    Returns
    -------
    list
        Results in job order.
    """
    return [fn(*args) for _, fn, *args in jobs]


def default_threads() -> int:
    """Threads per screening: ``$ECOZONE_THREADS`` or the number of usable cores (at most 8).

    Returns
    -------
    int
        Thread count (>= 1).
    """
    env = os.environ.get("ECOZONE_THREADS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))
